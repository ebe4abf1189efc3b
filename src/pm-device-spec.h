/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib-object.h>

#include "pm-profile.h"

G_BEGIN_DECLS

/**
 * PmDeviceSpec:
 * @port: the TCP port, or 0 to let the kernel pick one
 * @hostname: (nullable): the hostname, or %NULL for the next `mockaxeN`
 * @profile: (nullable): the profile, or %NULL for the fleet's next one
 * @firmware: (nullable): the firmware version, or %NULL for the
 *   profile's (or a draw from the original distribution)
 *
 * What one device is to be, as configuration or a client asks for it;
 * carried from there through #PmManager to #PmDevice.
 */
typedef struct
{
  guint            port;
  char            *hostname;
  const PmProfile *profile;
  char            *firmware;
} PmDeviceSpec;

#define PM_TYPE_DEVICE_SPEC (pm_device_spec_get_type ())
GType pm_device_spec_get_type (void);

PmDeviceSpec *pm_device_spec_new (guint            port,
                                  const char      *hostname,
                                  const PmProfile *profile,
                                  const char      *firmware);
PmDeviceSpec *pm_device_spec_copy (const PmDeviceSpec *self);
void          pm_device_spec_free (PmDeviceSpec *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmDeviceSpec, pm_device_spec_free)

G_END_DECLS
