/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define PM_TYPE_CONN_STREAM (pm_conn_stream_get_type ())
G_DECLARE_FINAL_TYPE (PmConnStream, pm_conn_stream, PM, CONN_STREAM, GIOStream)

/**
 * PmConnStreamFinishFunc:
 * @owner: what was given to pm_conn_stream_set_finish_func()
 * @stream: the stream libsoup closed
 * @connection: the connection underneath
 * @leftover: (nullable): what the peer sent past the request
 * @reusable: whether the request was read whole and answered whole on a
 *   connection kept alive, so that another may follow
 *
 * Returns: %TRUE if it took @connection; otherwise it is closed
 */
typedef gboolean (*PmConnStreamFinishFunc) (GObject           *owner,
                                            PmConnStream      *stream,
                                            GSocketConnection *connection,
                                            GBytes            *leftover,
                                            gboolean           reusable);

PmConnStream *pm_conn_stream_new (GSocketConnection *base,
                                  GBytes            *prefix,
                                  gint64             request_length,
                                  GSocketAddress    *remote);

PmConnStream *pm_conn_stream_dup_for_message (SoupServerMessage *msg);

void pm_conn_stream_limit_websocket (PmConnStream *self,
                                     guint64       message_limit,
                                     guint64       total_limit);

void     pm_conn_stream_set_keep_alive (PmConnStream *self,
                                        gboolean      keep_alive);
gboolean pm_conn_stream_get_keep_alive (PmConnStream *self);
gboolean pm_conn_stream_get_request_read (PmConnStream *self);
void     pm_conn_stream_set_answered (PmConnStream *self);
void     pm_conn_stream_set_finish_func (PmConnStream          *self,
                                         PmConnStreamFinishFunc finish,
                                         GObject               *owner);

G_END_DECLS
