/* SPDX-License-Identifier: MIT */
#pragma once

#include <string.h>

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The listen backlog of every server socket. */
#define PM_LISTEN_BACKLOG 1024

#define PM_TYPE_ACCEPTOR (pm_acceptor_get_type ())
G_DECLARE_FINAL_TYPE (PmAcceptor, pm_acceptor, PM, ACCEPTOR, GObject)

/**
 * PmAcceptorRequest:
 * @method: the request's method, not NUL-terminated
 * @method_length: its bytes
 * @target: the request target as sent, not NUL-terminated
 * @target_length: its bytes
 * @has_origin: whether the request carries an `Origin` header
 * @local: the address the client reached
 * @remote: the client's address
 *
 * A request an answer function is asked about; see
 * pm_acceptor_set_answer_func().
 */
typedef struct
{
  const char     *method;
  gsize           method_length;
  const char     *target;
  gsize           target_length;
  gboolean        has_origin;
  GSocketAddress *local;
  GSocketAddress *remote;
} PmAcceptorRequest;

/**
 * pm_acceptor_request_is:
 * @request: a request
 * @method: a method
 * @target: a request target
 *
 * Returns: whether @request is exactly @method @target
 */
static inline gboolean
pm_acceptor_request_is (const PmAcceptorRequest *request,
                        const char              *method,
                        const char              *target)
{
  gsize method_length = strlen (method);
  gsize target_length = strlen (target);

  return request->method_length == method_length &&
         memcmp (request->method, method, method_length) == 0 &&
         request->target_length == target_length &&
         memcmp (request->target, target, target_length) == 0;
}

typedef GBytes *(*PmAcceptorAnswerFunc) (const PmAcceptorRequest *request,
                                         gpointer                 user_data);

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
void     pm_acceptor_set_answer_func (PmAcceptor          *self,
                                      SoupServer          *server,
                                      PmAcceptorAnswerFunc func,
                                      gpointer             user_data);

guint   pm_acceptor_get_n_listeners (PmAcceptor *self);
guint64 pm_acceptor_get_n_accepted (PmAcceptor *self);
guint64 pm_acceptor_get_n_answered (PmAcceptor *self);
guint   pm_acceptor_get_n_kept (PmAcceptor *self);

G_END_DECLS
