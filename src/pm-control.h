/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

#include "pm-manager.h"
#include "pm-profile.h"

G_BEGIN_DECLS

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

/**
 * PmControlFlags:
 * @PM_CONTROL_NONE: the options came over D-Bus, each of its own type
 * @PM_CONTROL_JSON: the options came as JSON, whose integers are int64:
 *   a port may then be an `x` as well as a `u`
 *
 * Where options came from, where that changes what they may be.
 */
typedef enum
{
  PM_CONTROL_NONE = 0,
  PM_CONTROL_JSON = 1 << 0,
} PmControlFlags;

/**
 * PmControlFindFunc:
 * @manager: the fleet
 * @name: how a client names a device
 * @error: return location for a %PM_ERROR_NO_SUCH_DEVICE
 *
 * Finds a device as one transport names it (an object path on the bus,
 * a port or hostname over HTTP).
 *
 * Returns: (transfer none) (nullable): the device
 */
typedef PmDevice *(*PmControlFindFunc) (PmManager  *manager,
                                        const char *name,
                                        GError    **error);

gboolean   pm_control_parse_add_options (GVariant       *options,
                                         PmControlFlags  flags,
                                         PmAddOptions   *out,
                                         GError        **error);
PmDevice  *pm_control_add_device (PmManager      *manager,
                                  GVariant       *options,
                                  PmControlFlags  flags,
                                  GError        **error);

PmDevice  *pm_control_find_device (PmManager  *manager,
                                   const char *id,
                                   GError    **error);
GPtrArray *pm_control_find_devices (PmManager         *manager,
                                    const char *const *names,
                                    PmControlFindFunc  find,
                                    GError           **error);

char      *pm_control_get_info (PmDevice *device,
                                GError  **error);

gboolean   pm_control_parse_fault_kind (const char  *name,
                                        PmFaultKind *out_kind,
                                        GError     **error);
gboolean   pm_control_set_fault (PmDevice   *device,
                                 const char *kind,
                                 GVariant   *parameters,
                                 GError    **error);
gboolean   pm_control_clear_fault (PmDevice   *device,
                                   const char *kind,
                                   GError    **error);
GPtrArray *pm_control_set_fleet_fault (PmManager         *manager,
                                       const char *const *names,
                                       PmControlFindFunc  find,
                                       const char        *kind,
                                       GVariant          *parameters,
                                       GError           **error);
GPtrArray *pm_control_clear_fleet_fault (PmManager         *manager,
                                         const char *const *names,
                                         PmControlFindFunc  find,
                                         const char        *kind,
                                         GError           **error);

gboolean   pm_control_run_scenario (PmManager  *manager,
                                    const char *text,
                                    gsize       length,
                                    GError    **error);

G_END_DECLS
