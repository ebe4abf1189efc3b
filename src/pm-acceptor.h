/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The listen backlog of every server socket. */
#define PM_LISTEN_BACKLOG 1024

#define PM_TYPE_ACCEPTOR (pm_acceptor_get_type ())
G_DECLARE_FINAL_TYPE (PmAcceptor, pm_acceptor, PM, ACCEPTOR, GObject)

PmAcceptor *pm_acceptor_new (void);

GSocket *pm_acceptor_bind (const char *address,
                           guint       port,
                           GError    **error);

GSocket *pm_acceptor_listen (PmAcceptor *self,
                             SoupServer *server,
                             const char *address,
                             guint       port,
                             gsize       body_limit,
                             GError    **error);
void     pm_acceptor_close (PmAcceptor *self,
                            GSocket    *listener);

guint   pm_acceptor_get_n_listeners (PmAcceptor *self);
guint64 pm_acceptor_get_n_accepted (PmAcceptor *self);
guint   pm_acceptor_get_n_kept (PmAcceptor *self);

G_END_DECLS
