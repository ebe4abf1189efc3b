/* SPDX-License-Identifier: MIT */
#pragma once

#include "pm-dbus-generated.h"
#include "pm-manager.h"
#include "pm-profile.h"

G_BEGIN_DECLS

#define PM_TYPE_BUS_MANAGER (pm_bus_manager_get_type ())
G_DECLARE_FINAL_TYPE (PmBusManager, pm_bus_manager, PM, BUS_MANAGER, PmDBusManagerSkeleton)

PmBusManager *pm_bus_manager_new (PmManager *manager);

/**
 * PmAddOptions:
 * @port: the port, or 0 for any free port
 * @hostname: (nullable): the hostname, or %NULL for the next default
 * @profile: (nullable): the profile, from `profile` or `api-version`,
 *   or %NULL for the fleet's next
 * @firmware: (nullable): the firmware version, or %NULL to draw one
 *
 * AddDevice's options, each optional, as pm_manager_add_device() takes
 * them.
 */
typedef struct
{
  guint       port;
  const char *hostname;
  const PmProfile *profile;
  const char *firmware;
} PmAddOptions;

gboolean pm_bus_manager_parse_add_options (GVariant     *options,
                                           PmAddOptions *out,
                                           GError      **error);

G_END_DECLS
