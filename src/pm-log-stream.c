/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-log-stream"

#include "config.h"

#include <string.h>

#include "pm-log-stream.h"
#include "pm-conn-stream.h"
#include "pm-generator.h"
#include "pm-limits.h"

/**
 * PmLogStream:
 *
 * The log WebSocket clients of one device (`/api/ws`), and how the log
 * reaches them, in one of three styles (#PmLogStyle):
 *
 * - Pluto: every #PmLogStream:interval milliseconds each open client gets
 *   one JSON frame `{"log":"…"}` with a line drawn from the Pluto mock's
 *   ten.  The timer runs only while there are clients, and plans each
 *   tick from the planned time of the last, so the period does not drift.
 *   pm_log_stream_push() is ignored.
 * - AxeOS (v2.14 and later): pm_log_stream_push() appends to a buffer;
 *   what was pushed during one main loop iteration goes out at the start
 *   of the next (a source that is ready at once, at default priority),
 *   to every open client, cut into text frames of at most
 *   %PM_LOG_STREAM_AXEOS_FRAME_BYTES bytes.  So a frame may hold many
 *   lines, and a long run of text is split wherever 4096 bytes end
 *   (never inside a UTF-8 character: a text frame must be valid UTF-8).
 *   The firmware's log task wakes on every log write too; its extra
 *   500 ms tick only matters when a wake-up is missed, which cannot
 *   happen here.  A new client gets no backlog: what was pushed before
 *   it joined goes to the clients that were there.
 * - NerdQAxe+: each pushed line is one frame, sent at once, and only to
 *   the newest client.  Older clients stay connected and get nothing;
 *   once the newest is gone, nobody gets logs until another connects.
 *
 * pm_log_stream_close_all() closes the clients as a stopping device does
 * (close frame 1001 "device stopped") or cuts them as a rebooting one does
 * (no close frame: the peer sees an abnormal close, 1006).
 */

struct _PmLogStream
{
  GObject      parent_instance;

  PmLogStyle   style;
  char        *hostname;     /* (owned) */
  guint        interval_ms;
  GRand       *rand;         /* (unowned) (nullable) */
  GRand       *own_rand;     /* (owned) (nullable) if none was given */

  GPtrArray   *clients;      /* (owned) (element-type SoupWebsocketConnection)
                              * oldest first */
  SoupWebsocketConnection *receiver;  /* (unowned) (nullable) the one
                                       * client of the NerdQAxe+ style */
  GSource     *tick_source;  /* (owned) (nullable) Pluto style */
  GSource     *flush_source; /* (owned) (nullable) AxeOS style */
  GString     *pending;      /* (owned) AxeOS style: pushed, not sent */
  gboolean     silent;       /* nothing is sent; the clients stay */
};

G_DEFINE_FINAL_TYPE (PmLogStream, pm_log_stream, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (PmLogStyle, pm_log_style,
                    G_DEFINE_ENUM_VALUE (PM_LOG_STYLE_PLUTO, "pluto"),
                    G_DEFINE_ENUM_VALUE (PM_LOG_STYLE_AXEOS, "axeos"),
                    G_DEFINE_ENUM_VALUE (PM_LOG_STYLE_NERDQAXE, "nerdqaxe"))

typedef enum
{
  PROP_STYLE = 1,
  PROP_HOSTNAME,
  PROP_INTERVAL,
  PROP_RAND,
} PmLogStreamProperty;

static GParamSpec *props[PROP_RAND + 1] = { NULL, };

/* ---- WebSocket clients, shared with PmLiveStream ------------------------- */

#define PEER_KEY "pm-websocket-peer"
#define KIND_KEY "pm-websocket-kind"

/**
 * pm_websocket_client_peer:
 * @conn: a connection given to pm_websocket_client_prepare()
 *
 * Returns: the client's address and port, for the log
 */
const char *
pm_websocket_client_peer (SoupWebsocketConnection *conn)
{
  const char *peer = g_object_get_data (G_OBJECT (conn), PEER_KEY);

  return peer != NULL ? peer : "unknown peer";
}

static const char *
kind_of (SoupWebsocketConnection *conn)
{
  const char *kind = g_object_get_data (G_OBJECT (conn), KIND_KEY);

  return kind != NULL ? kind : "WebSocket";
}

/* The client sent more than it may: close it with the code that fits,
 * 1009 or 1008. */
static void
on_client_over_limit (PmConnStream            *stream,
                      guint                    code,
                      const char              *reason,
                      SoupWebsocketConnection *conn)
{
  g_message ("%s client %s: %s; closing with %u", kind_of (conn),
             pm_websocket_client_peer (conn), reason, code);
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, code, reason);
}

/**
 * pm_websocket_client_prepare:
 * @conn: a connection a #SoupServer WebSocket handler got
 * @msg: its handshake
 * @kind: (not nullable): a static string naming the client in the log,
 *   e.g. "log"
 *
 * Remembers the client's address on @conn and bounds what it may send:
 * clients of a device's streams have nothing to say, and libsoup 3.2.3
 * checks only frame by frame.  Past %PM_LIMIT_WS_MESSAGE_BYTES in one
 * message or %PM_LIMIT_WS_TOTAL_BYTES in all, @conn is closed with 1009
 * or 1008.  The limits need a connection that came through #PmAcceptor;
 * others are not bounded.
 */
void
pm_websocket_client_prepare (SoupWebsocketConnection *conn,
                             SoupServerMessage       *msg,
                             const char              *kind)
{
  GSocketAddress *address = soup_server_message_get_remote_address (msg);
  g_autoptr(PmConnStream) stream = pm_conn_stream_dup_for_message (msg);
  char *peer;

  g_return_if_fail (SOUP_IS_WEBSOCKET_CONNECTION (conn));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));
  g_return_if_fail (kind != NULL);

  if (G_IS_INET_SOCKET_ADDRESS (address))
    {
      g_autofree char *ip = g_inet_address_to_string (
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));

      peer = g_strdup_printf ("%s:%u", ip,
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
    }
  else
    {
      peer = g_strdup ("unknown peer");
    }
  g_object_set_data_full (G_OBJECT (conn), PEER_KEY, peer, g_free);
  g_object_set_data (G_OBJECT (conn), KIND_KEY, (gpointer) kind);

  if (stream != NULL)
    {
      pm_conn_stream_limit_websocket (stream, PM_LIMIT_WS_MESSAGE_BYTES, PM_LIMIT_WS_TOTAL_BYTES);
      g_signal_connect_object (stream, "limit-exceeded",
                               G_CALLBACK (on_client_over_limit), conn, 0);
    }
}

/**
 * pm_websocket_client_cut:
 * @conn: a server-side WebSocket connection
 *
 * Drops the connection as a device that reboots does: the socket is
 * closed at once and no close frame is sent, so the peer sees the
 * connection end without one (an abnormal close, 1006 to a browser;
 * libsoup reports close code 0).  The caller should then drop its
 * reference, normally the last: libsoup then finishes with @conn without
 * reading from the closed socket.  Does nothing to a closed connection.
 */
void
pm_websocket_client_cut (SoupWebsocketConnection *conn)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (SOUP_IS_WEBSOCKET_CONNECTION (conn));

  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_CLOSED)
    return;
  if (!g_io_stream_close (soup_websocket_connection_get_io_stream (conn), NULL, &error))
    g_debug ("%s client %s: closing its stream: %s", kind_of (conn),
             pm_websocket_client_peer (conn), error->message);
}

/* ---- sources ------------------------------------------------------------ */

static gboolean
ready_source_dispatch (GSource    *source,
                       GSourceFunc callback,
                       gpointer    user_data)
{
  return callback (user_data);
}

/* A source that runs when its ready time comes, and never else. */
static GSourceFuncs ready_source_funcs = {
  NULL, NULL, ready_source_dispatch, NULL, NULL, NULL,
};

static GSource *
ready_source_new (const char *name,
                  GSourceFunc callback,
                  gpointer    user_data,
                  gint64      ready_time)
{
  GSource *source = g_source_new (&ready_source_funcs, sizeof (GSource));

  g_source_set_name (source, name);
  g_source_set_callback (source, callback, user_data, NULL);
  g_source_set_ready_time (source, ready_time);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* ---- sending ------------------------------------------------------------- */

static void
send_bytes (SoupWebsocketConnection *conn,
            GBytes                  *frame)
{
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_message (conn, SOUP_WEBSOCKET_DATA_TEXT, frame);
}

/* Sends @frame to every open client.  On a copy of the list: a failed
 * send may report an error before it returns. */
static void
broadcast (PmLogStream *self,
           GBytes      *frame)
{
  g_autoptr(GPtrArray) clients = NULL;
  guint i;

  if (self->silent)
    return;
  clients = g_ptr_array_copy (self->clients, (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
  g_ptr_array_set_free_func (clients, g_object_unref);
  for (i = 0; i < clients->len; i++)
    send_bytes (g_ptr_array_index (clients, i), frame);
}

/* ---- Pluto style ---------------------------------------------------------- */

/* Runs on the planned tick, and plans the next one from the planned time
 * rather than from now, so the period does not drift. */
static gboolean
on_tick (gpointer user_data)
{
  PmLogStream *self = PM_LOG_STREAM (user_data);
  GRand *rand = self->rand;
  g_autoptr(GBytes) frame = NULL;
  char *text;
  gint64 interval_us = (gint64) self->interval_ms * 1000;
  gint64 next = g_source_get_ready_time (self->tick_source) + interval_us;
  gint64 now = g_source_get_time (self->tick_source);

  if (rand == NULL)
    {
      if (self->own_rand == NULL)
        self->own_rand = g_rand_new ();
      rand = self->own_rand;
    }
  text = pm_fake_log_frame (pm_fake_log_draw (rand));
  frame = g_bytes_new_take (text, strlen (text));
  broadcast (self, frame);

  /* After a long stall, skip the ticks that were missed. */
  while (next <= now)
    next += interval_us;
  g_source_set_ready_time (self->tick_source, next);

  return G_SOURCE_CONTINUE;
}

/* ---- AxeOS style ---------------------------------------------------------- */

/* The most of @text's first @length bytes, at most @max, that ends on a
 * character boundary. */
static gsize
utf8_prefix (const char *text,
             gsize       length,
             gsize       max)
{
  gsize take = MIN (length, max);

  if (take == length)
    return take;
  while (take > 0 && ((guchar) text[take] & 0xc0) == 0x80)
    take--;
  return take > 0 ? take : MIN (length, max);
}

static void
flush_pending (PmLogStream *self)
{
  const char *p = self->pending->str;
  gsize left = self->pending->len;

  while (left > 0)
    {
      gsize take = utf8_prefix (p, left, PM_LOG_STREAM_AXEOS_FRAME_BYTES);
      g_autoptr(GBytes) frame = g_bytes_new (p, take);

      broadcast (self, frame);
      p += take;
      left -= take;
    }

  /* Give back what a burst made the buffer grow to. */
  if (self->pending->allocated_len > 16 * PM_LOG_STREAM_AXEOS_FRAME_BYTES)
    {
      g_string_free (self->pending, TRUE);
      self->pending = g_string_sized_new (PM_LOG_STREAM_AXEOS_FRAME_BYTES);
    }
  else
    {
      g_string_truncate (self->pending, 0);
    }
  if (self->flush_source != NULL)
    g_source_set_ready_time (self->flush_source, -1);
}

static gboolean
on_flush (gpointer user_data)
{
  flush_pending (PM_LOG_STREAM (user_data));
  return G_SOURCE_CONTINUE;
}

/* ---- NerdQAxe+ style ------------------------------------------------------ */

static void
send_lines (PmLogStream *self,
            const char  *text,
            gsize        length)
{
  const char *p = text;
  const char *end = text + length;

  while (p < end && self->receiver != NULL && !self->silent)
    {
      const char *newline = memchr (p, '\n', end - p);
      const char *stop = newline != NULL ? newline + 1 : end;
      g_autoptr(GBytes) frame = g_bytes_new (p, stop - p);

      send_bytes (self->receiver, frame);
      p = stop;
    }
}

/* ---- clients -------------------------------------------------------------- */

static void
start_sources (PmLogStream *self)
{
  switch (self->style)
    {
    case PM_LOG_STYLE_PLUTO:
      if (self->tick_source == NULL)
        self->tick_source = ready_source_new (PM_LOG_STREAM_TICK_SOURCE_NAME, on_tick, self,
                                              g_get_monotonic_time () +
                                                (gint64) self->interval_ms * 1000);
      break;
    case PM_LOG_STYLE_AXEOS:
      if (self->flush_source == NULL)
        self->flush_source = ready_source_new ("pm-log-stream-flush", on_flush, self,
                                               self->pending->len > 0 ? 0 : -1);
      break;
    case PM_LOG_STYLE_NERDQAXE:
    default:
      break;
    }
}

static void
stop_sources (PmLogStream *self)
{
  clear_source (&self->tick_source);
  clear_source (&self->flush_source);
}

static void
on_client_error (SoupWebsocketConnection *conn,
                 GError                  *error,
                 gpointer                 user_data)
{
  PmLogStream *self = PM_LOG_STREAM (user_data);

  g_message ("%s: log client %s failed: %s", self->hostname,
             pm_websocket_client_peer (conn), error->message);
  /* A NerdQAxe+ stops sending its log after a send error. */
  if (self->receiver == conn)
    self->receiver = NULL;
}

static void
on_client_closed (SoupWebsocketConnection *conn,
                  gpointer                 user_data)
{
  PmLogStream *self = PM_LOG_STREAM (user_data);

  g_message ("%s: log client %s disconnected (code %u); %u left",
             self->hostname, pm_websocket_client_peer (conn),
             soup_websocket_connection_get_close_code (conn), self->clients->len - 1);

  if (self->receiver == conn)
    self->receiver = NULL;
  g_signal_handlers_disconnect_by_data (conn, self);
  g_ptr_array_remove (self->clients, conn);
  if (self->clients->len == 0)
    {
      stop_sources (self);
      g_string_truncate (self->pending, 0);
    }
}

/**
 * pm_log_stream_add_client:
 * @self: a #PmLogStream
 * @conn: a connection a #SoupServer WebSocket handler got
 * @msg: its handshake
 *
 * Takes @conn as a log client (see pm_websocket_client_prepare() for the
 * limits on what it may send) until it closes.
 */
void
pm_log_stream_add_client (PmLogStream             *self,
                          SoupWebsocketConnection *conn,
                          SoupServerMessage       *msg)
{
  g_return_if_fail (PM_IS_LOG_STREAM (self));
  g_return_if_fail (SOUP_IS_WEBSOCKET_CONNECTION (conn));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

  /* No backlog: what was pushed before the client came goes to the
   * others now. */
  if (self->style == PM_LOG_STYLE_AXEOS && self->pending->len > 0)
    flush_pending (self);

  pm_websocket_client_prepare (conn, msg, "log");
  g_ptr_array_add (self->clients, g_object_ref (conn));
  if (self->style == PM_LOG_STYLE_NERDQAXE)
    self->receiver = conn;
  g_signal_connect_object (conn, "error", G_CALLBACK (on_client_error), self, 0);
  g_signal_connect_object (conn, "closed", G_CALLBACK (on_client_closed), self, 0);
  g_message ("%s: log client %s connected; %u now", self->hostname,
             pm_websocket_client_peer (conn), self->clients->len);
  start_sources (self);
}

/**
 * pm_log_stream_get_n_clients:
 * @self: a #PmLogStream
 *
 * Returns: how many log clients are connected
 */
guint
pm_log_stream_get_n_clients (PmLogStream *self)
{
  g_return_val_if_fail (PM_IS_LOG_STREAM (self), 0);

  return self->clients->len;
}

/**
 * pm_log_stream_push:
 * @self: a #PmLogStream
 * @text: (array length=length): log text, normally whole lines ending in
 *   a newline
 * @length: its length in bytes
 *
 * Sends @text to the clients, as the style says: the AxeOS style
 * buffers it until the next main loop iteration, the NerdQAxe+ style
 * sends each line as a frame at once, and the Pluto style ignores it.
 * Without a client the text is dropped: clients get no backlog.  Text
 * that is not valid UTF-8 is repaired first.
 */
void
pm_log_stream_push (PmLogStream *self,
                    const char  *text,
                    gsize        length)
{
  g_autofree char *valid = NULL;

  g_return_if_fail (PM_IS_LOG_STREAM (self));
  g_return_if_fail (text != NULL || length == 0);

  /* A silent stream drops what it is given: nothing queues meanwhile. */
  if (length == 0 || self->clients->len == 0 || self->style == PM_LOG_STYLE_PLUTO || self->silent)
    return;
  if (!g_utf8_validate_len (text, length, NULL))
    {
      valid = g_utf8_make_valid (text, length);
      text = valid;
      length = strlen (valid);
    }

  switch (self->style)
    {
    case PM_LOG_STYLE_AXEOS:
      g_string_append_len (self->pending, text, length);
      if (self->flush_source != NULL)
        g_source_set_ready_time (self->flush_source, 0);
      break;
    case PM_LOG_STYLE_NERDQAXE:
      send_lines (self, text, length);
      break;
    case PM_LOG_STYLE_PLUTO:
    default:
      break;
    }
}

/**
 * pm_log_stream_set_silent:
 * @self: a #PmLogStream
 * @silent: whether to send nothing
 *
 * A silent stream keeps its clients, and sends them nothing until it
 * speaks again: what comes meanwhile is dropped.
 */
void
pm_log_stream_set_silent (PmLogStream *self,
                          gboolean     silent)
{
  g_return_if_fail (PM_IS_LOG_STREAM (self));
  self->silent = silent;
}

/**
 * pm_log_stream_close_all:
 * @self: a #PmLogStream
 * @clean: %TRUE to close each client with a close frame, 1001 "device
 *   stopped", as a device that stops; %FALSE to cut each connection
 *   without one, as a device that reboots
 *
 * Lets go of every client, stops the timer and drops what was pushed but
 * not sent.  The clients' closes are not logged one by one.
 */
void
pm_log_stream_close_all (PmLogStream *self,
                         gboolean     clean)
{
  guint n;

  g_return_if_fail (PM_IS_LOG_STREAM (self));

  n = self->clients->len;
  stop_sources (self);
  g_string_truncate (self->pending, 0);
  self->receiver = NULL;
  while (self->clients->len > 0)
    {
      g_autoptr(SoupWebsocketConnection) conn =
        g_ptr_array_steal_index (self->clients, self->clients->len - 1);

      g_signal_handlers_disconnect_by_data (conn, self);
      if (clean)
        {
          if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "device stopped");
        }
      else
        {
          pm_websocket_client_cut (conn);
        }
    }
  if (n > 0)
    g_debug ("%s: %s %u log client(s)", self->hostname, clean ? "closed" : "cut", n);
}

/* ---- GObject -------------------------------------------------------------- */

static void
pm_log_stream_constructed (GObject *object)
{
  PmLogStream *self = PM_LOG_STREAM (object);

  G_OBJECT_CLASS (pm_log_stream_parent_class)->constructed (object);

  if (self->hostname == NULL)
    self->hostname = g_strdup ("device");
}

static void
pm_log_stream_dispose (GObject *object)
{
  PmLogStream *self = PM_LOG_STREAM (object);

  if (self->clients != NULL)
    pm_log_stream_close_all (self, TRUE);
  stop_sources (self);

  G_OBJECT_CLASS (pm_log_stream_parent_class)->dispose (object);
}

static void
pm_log_stream_finalize (GObject *object)
{
  PmLogStream *self = PM_LOG_STREAM (object);

  g_clear_pointer (&self->hostname, g_free);
  g_clear_pointer (&self->own_rand, g_rand_free);
  g_clear_pointer (&self->clients, g_ptr_array_unref);
  if (self->pending != NULL)
    g_string_free (self->pending, TRUE);

  G_OBJECT_CLASS (pm_log_stream_parent_class)->finalize (object);
}

static void
pm_log_stream_get_property (GObject    *object,
                            guint       property_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  PmLogStream *self = PM_LOG_STREAM (object);

  switch ((PmLogStreamProperty) property_id)
    {
    case PROP_STYLE:
      g_value_set_enum (value, self->style);
      break;
    case PROP_HOSTNAME:
      g_value_set_string (value, self->hostname);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval_ms);
      break;
    case PROP_RAND:
      g_value_set_pointer (value, self->rand);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_log_stream_set_property (GObject      *object,
                            guint         property_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  PmLogStream *self = PM_LOG_STREAM (object);

  switch ((PmLogStreamProperty) property_id)
    {
    case PROP_STYLE:
      self->style = g_value_get_enum (value);
      break;
    case PROP_HOSTNAME:
      pm_log_stream_set_hostname (self, g_value_get_string (value));
      break;
    case PROP_INTERVAL:
      pm_log_stream_set_interval (self, g_value_get_uint (value));
      break;
    case PROP_RAND:
      pm_log_stream_set_rand (self, g_value_get_pointer (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_log_stream_class_init (PmLogStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->constructed = pm_log_stream_constructed;
  object_class->dispose = pm_log_stream_dispose;
  object_class->finalize = pm_log_stream_finalize;
  object_class->get_property = pm_log_stream_get_property;
  object_class->set_property = pm_log_stream_set_property;

  props[PROP_STYLE] =
    g_param_spec_enum ("style", NULL, NULL, PM_TYPE_LOG_STYLE, PM_LOG_STYLE_PLUTO,
                       flags | G_PARAM_CONSTRUCT_ONLY);
  /**
   * PmLogStream:hostname:
   *
   * The device's hostname, for the log.
   */
  props[PROP_HOSTNAME] =
    g_param_spec_string ("hostname", NULL, NULL, NULL, flags);
  /**
   * PmLogStream:interval:
   *
   * The period of the Pluto style, in milliseconds.  For tests; a device
   * uses %PM_LOG_STREAM_PLUTO_INTERVAL_MS.  A change applies from the
   * tick after the next.
   */
  props[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL, 1, G_MAXUINT,
                       PM_LOG_STREAM_PLUTO_INTERVAL_MS, flags | G_PARAM_CONSTRUCT);
  /**
   * PmLogStream:rand:
   *
   * The #GRand the Pluto style draws its lines from, borrowed: it must
   * outlive the stream or be replaced first.  Without one the stream
   * draws from its own.
   */
  props[PROP_RAND] =
    g_param_spec_pointer ("rand", NULL, NULL, flags);

  g_object_class_install_properties (object_class, G_N_ELEMENTS (props), props);
}

static void
pm_log_stream_init (PmLogStream *self)
{
  self->interval_ms = PM_LOG_STREAM_PLUTO_INTERVAL_MS;
  self->clients = g_ptr_array_new_with_free_func (g_object_unref);
  self->pending = g_string_sized_new (PM_LOG_STREAM_AXEOS_FRAME_BYTES);
}

/**
 * pm_log_stream_new:
 * @style: how the log reaches the clients
 * @hostname: the device's hostname, for the log
 * @rand: (nullable): the #GRand the Pluto style draws from, borrowed
 *
 * Returns: (transfer full): a #PmLogStream without clients
 */
PmLogStream *
pm_log_stream_new (PmLogStyle  style,
                   const char *hostname,
                   GRand      *rand)
{
  g_return_val_if_fail (hostname != NULL, NULL);

  return g_object_new (PM_TYPE_LOG_STREAM,
                       "style", style,
                       "hostname", hostname,
                       "rand", rand,
                       NULL);
}

PmLogStyle
pm_log_stream_get_style (PmLogStream *self)
{
  g_return_val_if_fail (PM_IS_LOG_STREAM (self), PM_LOG_STYLE_PLUTO);

  return self->style;
}

const char *
pm_log_stream_get_hostname (PmLogStream *self)
{
  g_return_val_if_fail (PM_IS_LOG_STREAM (self), NULL);

  return self->hostname;
}

void
pm_log_stream_set_hostname (PmLogStream *self,
                            const char  *hostname)
{
  g_return_if_fail (PM_IS_LOG_STREAM (self));

  if (hostname == NULL || g_strcmp0 (self->hostname, hostname) == 0)
    return;
  g_free (self->hostname);
  self->hostname = g_strdup (hostname);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_HOSTNAME]);
}

guint
pm_log_stream_get_interval (PmLogStream *self)
{
  g_return_val_if_fail (PM_IS_LOG_STREAM (self), 0);

  return self->interval_ms;
}

void
pm_log_stream_set_interval (PmLogStream *self,
                            guint        interval_ms)
{
  g_return_if_fail (PM_IS_LOG_STREAM (self));
  g_return_if_fail (interval_ms > 0);

  if (self->interval_ms == interval_ms)
    return;
  self->interval_ms = interval_ms;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_INTERVAL]);
}

void
pm_log_stream_set_rand (PmLogStream *self,
                        GRand       *rand)
{
  g_return_if_fail (PM_IS_LOG_STREAM (self));

  if (self->rand == rand)
    return;
  self->rand = rand;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RAND]);
}
