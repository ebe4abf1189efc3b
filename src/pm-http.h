/* SPDX-License-Identifier: MIT */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/*
 * What every plutomock server shares: exact routing, errors as JSON, and
 * a request-body limit enforced before the body is held in memory.
 */

/**
 * PmRoute:
 * @path: the exact path
 * @methods: the methods it answers, as an Allow header lists them
 *
 * One endpoint of a server.
 */
typedef struct
{
  const char *path;
  const char *methods;
} PmRoute;

const PmRoute *pm_http_route_find (const PmRoute     *routes,
                                   gsize              n_routes,
                                   SoupServerMessage *msg);
gboolean pm_http_route_check (const PmRoute     *routes,
                              gsize              n_routes,
                              SoupServerMessage *msg,
                              gsize              body_limit);

void   pm_http_prepare_reply (SoupServerMessage *msg);
void   pm_http_prepare_connection (SoupServerMessage *msg);
gboolean pm_http_limit_body (SoupServerMessage *msg,
                             gsize              limit);
void   pm_http_set_response (SoupServerMessage *msg,
                             const char        *content_type,
                             SoupMemoryUse      use,
                             const char        *body,
                             gsize              length);
void   pm_http_reply_json (SoupServerMessage *msg,
                           guint              status,
                           char              *json);
void   pm_http_reply_error (SoupServerMessage *msg,
                            guint              status,
                            const char        *format,
                            ...) G_GNUC_PRINTF (3, 4);
void   pm_http_reply_static (SoupServerMessage *msg,
                             guint              status,
                             const char        *content_type,
                             const char        *body);
GBytes *pm_http_get_body (SoupServerMessage *msg);
gsize   pm_http_get_body_length (SoupServerMessage *msg);
char   *pm_http_dup_url (const char *bind_address,
                         guint       port,
                         const char *path);
GBytes *pm_http_answer_ok (const char *server_header,
                           const char *headers,
                           const char *content_type,
                           const char *body,
                           gsize       length);
char   *pm_http_format_raw_error (guint       status,
                                  const char *problem);

G_END_DECLS
