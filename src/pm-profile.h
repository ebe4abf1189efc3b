/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-board.h"
#include "pm-generator.h"

G_BEGIN_DECLS

/**
 * PmProfileFamily:
 * @PM_PROFILE_FAMILY_PLUTO: the original Pluto mock's shapes
 * @PM_PROFILE_FAMILY_AXEOS: ESP-Miner (AxeOS) v2.15
 * @PM_PROFILE_FAMILY_NERDQAXE: the NerdQAxe+ firmware
 *
 * Whose firmware a profile imitates: which endpoints exist, how info is
 * written, how PATCH is checked, how a restart and the log stream look.
 */
typedef enum
{
  PM_PROFILE_FAMILY_PLUTO,
  PM_PROFILE_FAMILY_AXEOS,
  PM_PROFILE_FAMILY_NERDQAXE,
} PmProfileFamily;

/**
 * PmProfile:
 * @name: what users call it, e.g. "axeos-gamma"
 * @family: whose firmware it imitates
 * @api_version: the info shape of a %PM_PROFILE_FAMILY_PLUTO profile
 * @board: the simulated board; for Pluto profiles the board whose
 *   numbers `--telemetry simulated` draws from
 * @firmware: the version it reports, or %NULL to draw one from the
 *   original mock's distribution
 * @summary: one line for `--help` and listings
 *
 * A description of one kind of device, not a device.
 */
typedef struct
{
  const char     *name;
  PmProfileFamily family;
  PmApiVersion    api_version;
  const PmBoard  *board;
  const char     *firmware;
  const char     *summary;
} PmProfile;

/* The name that assigns profiles by a seeded draw from a realistic blend. */
#define PM_PROFILE_MIXED "mixed"

const PmProfile *pm_profile_lookup (const char *name);
const PmProfile *pm_profile_for_api_version (PmApiVersion version);
const PmProfile *const *pm_profile_list_all (gsize *n_profiles);
char            *pm_profile_dup_names (const char *separator);

/**
 * PmProfileList:
 *
 * How a fleet's devices get their profiles: a list assigned in turn, or
 * the blend of %PM_PROFILE_MIXED.
 */
typedef struct _PmProfileList PmProfileList;

PmProfileList   *pm_profile_list_parse (const char *text,
                                        GError    **error);
PmProfileList   *pm_profile_list_new_default (void);
PmProfileList   *pm_profile_list_copy (const PmProfileList *self);
void             pm_profile_list_free (PmProfileList *self);
const PmProfile *pm_profile_list_pick (const PmProfileList *self,
                                       guint                number,
                                       guint64              seed);
char            *pm_profile_list_to_string (const PmProfileList *self);

gboolean pm_profile_is_simulated (const PmProfile *profile);
const char *pm_profile_get_api_version_name (const PmProfile *profile);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmProfileList, pm_profile_list_free)

G_END_DECLS
