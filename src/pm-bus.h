/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

#include "pm-manager.h"

G_BEGIN_DECLS

#define PM_TYPE_BUS (pm_bus_get_type ())
G_DECLARE_FINAL_TYPE (PmBus, pm_bus, PM, BUS, GObject)

PmBus   *pm_bus_new (void);
gboolean pm_bus_connect (PmBus   *self,
                         GError **error);
void     pm_bus_claim_async (PmBus              *self,
                             gboolean            replace,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data);
gboolean pm_bus_claim_finish (PmBus        *self,
                              GAsyncResult *result,
                              GError      **error);
void     pm_bus_export (PmBus     *self,
                        PmManager *manager);
gboolean pm_bus_check_name (PmBus   *self,
                            GError **error);

G_END_DECLS
