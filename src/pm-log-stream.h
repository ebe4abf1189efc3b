/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib-object.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/**
 * PmLogStyle:
 * @PM_LOG_STYLE_PLUTO: the Pluto mock: every interval, one JSON frame
 *   `{"log":"…"}` with a random line to each client
 * @PM_LOG_STYLE_AXEOS: AxeOS v2.14 and later: pushed log text goes to
 *   every client in text frames of at most 4096 bytes, which may hold
 *   many lines or part of one
 * @PM_LOG_STYLE_NERDQAXE: NerdQAxe+: one line per frame, to the newest
 *   client only
 *
 * How a device's `/api/ws` streams its log.
 */
typedef enum
{
  PM_LOG_STYLE_PLUTO,
  PM_LOG_STYLE_AXEOS,
  PM_LOG_STYLE_NERDQAXE,
} PmLogStyle;

#define PM_TYPE_LOG_STYLE (pm_log_style_get_type ())
GType pm_log_style_get_type (void);

/* The largest frame an AxeOS device sends on /api/ws. */
#define PM_LOG_STREAM_AXEOS_FRAME_BYTES 4096

/* The Pluto mock's period, in milliseconds. */
#define PM_LOG_STREAM_PLUTO_INTERVAL_MS 5000

/* What the tick source of the Pluto style is named. */
#define PM_LOG_STREAM_TICK_SOURCE_NAME "pm-device-log"

#define PM_TYPE_LOG_STREAM (pm_log_stream_get_type ())
G_DECLARE_FINAL_TYPE (PmLogStream, pm_log_stream, PM, LOG_STREAM, GObject)

PmLogStream *pm_log_stream_new (PmLogStyle  style,
                                const char *hostname,
                                GRand      *rand);

PmLogStyle  pm_log_stream_get_style (PmLogStream *self);
const char *pm_log_stream_get_hostname (PmLogStream *self);
void        pm_log_stream_set_hostname (PmLogStream *self,
                                        const char  *hostname);
guint       pm_log_stream_get_interval (PmLogStream *self);
void        pm_log_stream_set_interval (PmLogStream *self,
                                        guint        interval_ms);
void        pm_log_stream_set_rand (PmLogStream *self,
                                    GRand       *rand);

void  pm_log_stream_add_client (PmLogStream             *self,
                                SoupWebsocketConnection *conn,
                                SoupServerMessage       *msg);
guint pm_log_stream_get_n_clients (PmLogStream *self);
void  pm_log_stream_push (PmLogStream *self,
                          const char  *text,
                          gsize        length);
void  pm_log_stream_set_silent (PmLogStream *self,
                                gboolean     silent);
void  pm_log_stream_close_all (PmLogStream *self,
                               gboolean     clean);

/* For the owners of WebSocket clients (PmLogStream, PmLiveStream): the
 * client's address, the limits on what it may send, and a cut that
 * sends no close frame. */
void        pm_websocket_client_prepare (SoupWebsocketConnection *conn,
                                         SoupServerMessage       *msg,
                                         const char              *kind);
const char *pm_websocket_client_peer (SoupWebsocketConnection *conn);
void        pm_websocket_client_cut (SoupWebsocketConnection *conn);

G_END_DECLS
