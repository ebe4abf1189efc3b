/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* How often AxeOS looks for changes to send on /api/ws/live, in
 * milliseconds. */
#define PM_LIVE_STREAM_INTERVAL_MS 500

/* What the tick source of a #PmLiveStream is named. */
#define PM_LIVE_STREAM_TICK_SOURCE_NAME "pm-live-stream"

/**
 * PmLiveStateFunc:
 * @user_data: what was given with the function
 *
 * Gives the device's state as `/api/ws/live` shows it: the
 * `/api/system/info` object without `fullHostname` and `mdnsHostname`.
 *
 * Returns: (transfer full): a new object, which the stream keeps and does
 *   not change
 */
typedef JsonObject *(*PmLiveStateFunc) (gpointer user_data);

#define PM_TYPE_LIVE_STREAM (pm_live_stream_get_type ())
G_DECLARE_FINAL_TYPE (PmLiveStream, pm_live_stream, PM, LIVE_STREAM, GObject)

PmLiveStream *pm_live_stream_new (const char     *hostname,
                                  PmLiveStateFunc get_state,
                                  gpointer        user_data,
                                  GDestroyNotify  destroy);

const char *pm_live_stream_get_hostname (PmLiveStream *self);
void        pm_live_stream_set_hostname (PmLiveStream *self,
                                         const char   *hostname);
guint       pm_live_stream_get_interval (PmLiveStream *self);
void        pm_live_stream_set_interval (PmLiveStream *self,
                                         guint         interval_ms);

void  pm_live_stream_add_client (PmLiveStream            *self,
                                 SoupWebsocketConnection *conn,
                                 SoupServerMessage       *msg);
guint pm_live_stream_get_n_clients (PmLiveStream *self);
void  pm_live_stream_close_all (PmLiveStream *self,
                                gboolean      clean);

char *pm_live_stream_format_update (JsonObject *data);

G_END_DECLS
