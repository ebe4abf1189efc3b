/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

#include "pm-acceptor.h"
#include "pm-allow.h"
#include "pm-manager.h"

G_BEGIN_DECLS

#define PM_TYPE_LISTING_SERVER (pm_listing_server_get_type ())
G_DECLARE_FINAL_TYPE (PmListingServer, pm_listing_server, PM, LISTING_SERVER, GObject)

PmListingServer *pm_listing_server_new (PmAcceptor *acceptor,
                                        GListModel *devices);

gboolean pm_listing_server_start (PmListingServer *self,
                                  const char      *bind_address,
                                  guint            port,
                                  GError         **error);
void     pm_listing_server_stop (PmListingServer *self);
void     pm_listing_server_set_control (PmListingServer *self,
                                        PmManager       *manager,
                                        PmAllowList     *allow);
guint    pm_listing_server_get_port (PmListingServer *self);
char    *pm_listing_server_dup_servers (PmListingServer *self);

G_END_DECLS
