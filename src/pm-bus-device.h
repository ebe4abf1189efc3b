/* SPDX-License-Identifier: MIT */
#pragma once

#include "pm-dbus-generated.h"
#include "pm-device.h"

G_BEGIN_DECLS

#define PM_TYPE_BUS_DEVICE (pm_bus_device_get_type ())
G_DECLARE_FINAL_TYPE (PmBusDevice, pm_bus_device, PM, BUS_DEVICE, PmDBusDeviceSkeleton)

PmBusDevice *pm_bus_device_new (PmDevice *device);
PmDevice    *pm_bus_device_get_device (PmBusDevice *self);

char     *pm_bus_device_dup_object_path (guint port);
gboolean  pm_bus_device_parse_object_path (const char *object_path,
                                           guint      *out_port);

G_END_DECLS
