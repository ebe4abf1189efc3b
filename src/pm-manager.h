/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

#include "pm-config.h"
#include "pm-device.h"
#include "pm-device-spec.h"
#include "pm-listing-server.h"
#include "pm-scenario.h"

G_BEGIN_DECLS

#define PM_TYPE_MANAGER (pm_manager_get_type ())
G_DECLARE_FINAL_TYPE (PmManager, pm_manager, PM, MANAGER, GObject)

PmManager *pm_manager_new (const PmConfig *config);

gboolean pm_manager_start (PmManager *self,
                           GError   **error);
void     pm_manager_stop (PmManager *self);

PmDevice *pm_manager_add_device (PmManager          *self,
                                 const PmDeviceSpec *spec,
                                 GError            **error);
gboolean  pm_manager_remove_device (PmManager *self,
                                    PmDevice  *device,
                                    GError   **error);
PmDevice *pm_manager_find_device (PmManager  *self,
                                  guint       port,
                                  const char *hostname);

GListModel *pm_manager_get_devices (PmManager *self);
PmListingServer *pm_manager_get_listing_server (PmManager *self);
guint       pm_manager_get_listing_port (PmManager *self);
guint64     pm_manager_get_seed (PmManager *self);
gboolean    pm_manager_get_logs_enabled (PmManager *self);
const char *pm_manager_get_bind_address (PmManager *self);

void        pm_manager_run_scenario (PmManager  *self,
                                     PmScenario *scenario);
gboolean    pm_manager_stop_scenario (PmManager *self);
PmScenario *pm_manager_get_scenario (PmManager *self);

G_END_DECLS
