/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "pm-acceptor.h"

G_BEGIN_DECLS

/**
 * PmListingMount:
 * @prefix: the paths it answers: @prefix and what lies under `@prefix/`
 * @body_limit: the largest request body any of them takes
 * @early: called when a request's head has arrived: checks, limits and
 *   early replies, as a #SoupServer early handler
 * @handle: called with the whole request, unless @early replied
 *
 * Endpoints served on the listing port besides its own, by a part of the
 * daemon the listing server knows nothing else of.
 */
typedef struct
{
  const char *prefix;
  gsize       body_limit;
  void      (*early) (gpointer           data,
                      SoupServerMessage *msg,
                      const char        *path);
  void      (*handle) (gpointer           data,
                       SoupServerMessage *msg,
                       const char        *path);
} PmListingMount;

#define PM_TYPE_LISTING_SERVER (pm_listing_server_get_type ())
G_DECLARE_FINAL_TYPE (PmListingServer, pm_listing_server, PM, LISTING_SERVER, GObject)

PmListingServer *pm_listing_server_new (PmAcceptor *acceptor,
                                        GListModel *devices);

gboolean pm_listing_server_start (PmListingServer *self,
                                  const char      *bind_address,
                                  guint            port,
                                  GError         **error);
void     pm_listing_server_stop (PmListingServer *self);


void     pm_listing_server_mount (PmListingServer      *self,
                                  const PmListingMount *mount,
                                  gpointer              data,
                                  GDestroyNotify        destroy);
guint    pm_listing_server_get_port (PmListingServer *self);
char    *pm_listing_server_dup_servers (PmListingServer *self);

G_END_DECLS
