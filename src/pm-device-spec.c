/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-device-spec"

#include "config.h"

#include "pm-device-spec.h"

G_DEFINE_BOXED_TYPE (PmDeviceSpec, pm_device_spec, pm_device_spec_copy, pm_device_spec_free)

/**
 * pm_device_spec_new:
 * @port: the port, or 0
 * @hostname: (nullable): the hostname
 * @profile: (nullable): the profile
 * @firmware: (nullable): the firmware version
 *
 * Returns: (transfer full): a new spec holding copies of the strings
 */
PmDeviceSpec *
pm_device_spec_new (guint            port,
                    const char      *hostname,
                    const PmProfile *profile,
                    const char      *firmware)
{
  PmDeviceSpec *self = g_new0 (PmDeviceSpec, 1);

  self->port = port;
  self->hostname = g_strdup (hostname);
  self->profile = profile;
  self->firmware = g_strdup (firmware);
  return self;
}

PmDeviceSpec *
pm_device_spec_copy (const PmDeviceSpec *self)
{
  return pm_device_spec_new (self->port, self->hostname, self->profile, self->firmware);
}

void
pm_device_spec_free (PmDeviceSpec *self)
{
  if (self == NULL)
    return;
  g_free (self->hostname);
  g_free (self->firmware);
  g_free (self);
}
