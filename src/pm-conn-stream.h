/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define PM_TYPE_CONN_STREAM (pm_conn_stream_get_type ())
G_DECLARE_FINAL_TYPE (PmConnStream, pm_conn_stream, PM, CONN_STREAM, GIOStream)

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

G_END_DECLS
