/* SPDX-License-Identifier: MIT */
#pragma once

#include "pm-control.h"
#include "pm-dbus-generated.h"
#include "pm-manager.h"
#include "pm-profile.h"

G_BEGIN_DECLS

#define PM_TYPE_BUS_MANAGER (pm_bus_manager_get_type ())
G_DECLARE_FINAL_TYPE (PmBusManager, pm_bus_manager, PM, BUS_MANAGER, PmDBusManagerSkeleton)

PmBusManager *pm_bus_manager_new (PmManager *manager);

gboolean pm_bus_manager_parse_add_options (GVariant     *options,
                                           PmAddOptions *out,
                                           GError      **error);

G_END_DECLS
