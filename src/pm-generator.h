/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "pm-miner.h"
#include "pm-update.h"

G_BEGIN_DECLS

/**
 * PmApiVersion:
 * @PM_API_VERSION_LEGACY: the AxeOS v2.1-era shape (`generateSystemInfo`)
 * @PM_API_VERSION_NEW: the NerdQAxe+-like shape (`generateSystemInfoAlt`)
 *
 * Which shape `GET /api/system/info` has.
 */
typedef enum
{
  PM_API_VERSION_LEGACY,
  PM_API_VERSION_NEW,
} PmApiVersion;

#define PM_TYPE_API_VERSION (pm_api_version_get_type ())
GType pm_api_version_get_type (void);

const char *pm_api_version_to_string (PmApiVersion version);
gboolean    pm_api_version_from_string (const char   *text,
                                        PmApiVersion *out_version);

/**
 * PmFirmwareShare:
 * @version: the firmware version string, e.g. "v2.1.8"
 * @percent: its share of the fleet in percent
 *
 * One row of the firmware distribution.
 */
typedef struct
{
  const char *version;
  guint       percent;
} PmFirmwareShare;

const PmFirmwareShare *pm_firmware_table (gsize *n_entries);
const char            *pm_firmware_pick (double draw);
const char            *pm_firmware_draw (GRand *rand);

const char *const *pm_fake_log_messages (gsize *n_messages);
const char        *pm_fake_log_draw (GRand *rand);
char              *pm_fake_log_frame (const char *message);

GRand *pm_rand_new_for_port (guint64 seed,
                             guint   port);

char *pm_system_info_generate (GRand       *rand,
                               PmApiVersion api_version,
                               const char  *hostname,
                               const char  *firmware,
                               guint64      uptime_seconds,
                               gint64       now_ms,
                               JsonObject  *overrides);
char *pm_system_info_generate_full (GRand              *rand,
                                    const PmMinerState *state,
                                    PmApiVersion        api_version,
                                    const char         *hostname,
                                    const char         *firmware,
                                    guint64             uptime_seconds,
                                    gint64              now_ms,
                                    const PmOverrides  *overrides);
char *pm_system_info_generate_with_overrides (GRand             *rand,
                                              PmApiVersion       api_version,
                                              const char        *hostname,
                                              const char        *firmware,
                                              guint64            uptime_seconds,
                                              gint64             now_ms,
                                              const PmOverrides *overrides);

G_END_DECLS
