/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-live-stream"

#include "config.h"

#include <string.h>

#include "pm-live-stream.h"
#include "pm-json-diff.h"
#include "pm-json-writer.h"
#include "pm-log-stream.h"

/**
 * PmLiveStream:
 *
 * The `/api/ws/live` clients of one device, as AxeOS v2.14 and later
 * serves them: every frame is `{"event":"update","data":{…}}`.  A client
 * gets the full state as soon as it connects; then, every
 * #PmLiveStream:interval milliseconds (500), every client gets what
 * changed since the last look (see pm_json_diff()), and nothing if
 * nothing did.  The state comes from a #PmLiveStateFunc.  The timer runs
 * only while there are clients.
 *
 * One previous state serves every client, as in the firmware: a client
 * that joined between two looks may get members again that its full
 * state already had, never miss one.
 */

struct _PmLiveStream
{
  GObject         parent_instance;

  char           *hostname;     /* (owned) */
  guint           interval_ms;
  PmLiveStateFunc get_state;
  gpointer        user_data;
  GDestroyNotify  destroy;

  GPtrArray      *clients;      /* (owned) (element-type SoupWebsocketConnection) */
  GSource        *tick_source;  /* (owned) (nullable) */
  JsonObject     *last;         /* (owned) (nullable) the state at the last look */
};

G_DEFINE_FINAL_TYPE (PmLiveStream, pm_live_stream, G_TYPE_OBJECT)

typedef enum
{
  PROP_HOSTNAME = 1,
  PROP_INTERVAL,
} PmLiveStreamProperty;

static GParamSpec *props[PROP_INTERVAL + 1] = { NULL, };

/**
 * pm_live_stream_format_update:
 * @data: the state, or what changed in it
 *
 * Returns: (transfer full): the frame `{"event":"update","data":…}`
 */
char *
pm_live_stream_format_update (JsonObject *data)
{
  GString *out;
  JsonNode *node;

  g_return_val_if_fail (data != NULL, NULL);

  out = g_string_sized_new (256);
  node = json_node_init_object (json_node_alloc (), data);
  g_string_append (out, "{\"event\":\"update\",\"data\":");
  pm_json_append_node (out, node);
  g_string_append_c (out, '}');
  json_node_unref (node);
  return g_string_free (out, FALSE);
}

static JsonObject *
dup_state (PmLiveStream *self)
{
  JsonObject *state = self->get_state (self->user_data);

  return state != NULL ? state : json_object_new ();
}

static void
send_frame (SoupWebsocketConnection *conn,
            GBytes                  *frame)
{
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_message (conn, SOUP_WEBSOCKET_DATA_TEXT, frame);
}

static GBytes *
frame_for (JsonObject *data)
{
  char *text = pm_live_stream_format_update (data);

  return g_bytes_new_take (text, strlen (text));
}

/* ---- the timer ------------------------------------------------------------ */

static gboolean
tick_dispatch (GSource    *source,
               GSourceFunc callback,
               gpointer    user_data)
{
  return callback (user_data);
}

static GSourceFuncs tick_funcs = {
  NULL, NULL, tick_dispatch, NULL, NULL, NULL,
};

/* Looks at the state on the planned tick and plans the next from the
 * planned time, so the period does not drift. */
static gboolean
on_tick (gpointer user_data)
{
  PmLiveStream *self = PM_LIVE_STREAM (user_data);
  g_autoptr(JsonObject) state = dup_state (self);
  g_autoptr(JsonObject) diff = pm_json_diff (self->last, state);
  gint64 interval_us = (gint64) self->interval_ms * 1000;
  gint64 next = g_source_get_ready_time (self->tick_source) + interval_us;
  gint64 now = g_source_get_time (self->tick_source);

  if (diff != NULL)
    {
      g_autoptr(GBytes) frame = frame_for (diff);
      g_autoptr(GPtrArray) clients =
        g_ptr_array_copy (self->clients, (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
      guint i;

      g_ptr_array_set_free_func (clients, g_object_unref);
      for (i = 0; i < clients->len; i++)
        send_frame (g_ptr_array_index (clients, i), frame);
    }
  g_clear_pointer (&self->last, json_object_unref);
  self->last = g_steal_pointer (&state);

  while (next <= now)
    next += interval_us;
  g_source_set_ready_time (self->tick_source, next);
  return G_SOURCE_CONTINUE;
}

static void
start_ticks (PmLiveStream *self)
{
  if (self->tick_source != NULL)
    return;
  self->tick_source = g_source_new (&tick_funcs, sizeof (GSource));
  g_source_set_name (self->tick_source, PM_LIVE_STREAM_TICK_SOURCE_NAME);
  g_source_set_callback (self->tick_source, on_tick, self, NULL);
  g_source_set_ready_time (self->tick_source,
                           g_get_monotonic_time () + (gint64) self->interval_ms * 1000);
  g_source_attach (self->tick_source, g_main_context_get_thread_default ());
}

static void
stop_ticks (PmLiveStream *self)
{
  if (self->tick_source != NULL)
    {
      g_source_destroy (self->tick_source);
      g_clear_pointer (&self->tick_source, g_source_unref);
    }
  g_clear_pointer (&self->last, json_object_unref);
}

/* ---- clients -------------------------------------------------------------- */

static void
on_client_error (SoupWebsocketConnection *conn,
                 GError                  *error,
                 gpointer                 user_data)
{
  PmLiveStream *self = PM_LIVE_STREAM (user_data);

  g_message ("%s: live client %s failed: %s", self->hostname,
             pm_websocket_client_peer (conn), error->message);
}

static void
on_client_closed (SoupWebsocketConnection *conn,
                  gpointer                 user_data)
{
  PmLiveStream *self = PM_LIVE_STREAM (user_data);

  g_message ("%s: live client %s disconnected (code %u); %u left",
             self->hostname, pm_websocket_client_peer (conn),
             soup_websocket_connection_get_close_code (conn), self->clients->len - 1);

  g_signal_handlers_disconnect_by_data (conn, self);
  g_ptr_array_remove (self->clients, conn);
  if (self->clients->len == 0)
    stop_ticks (self);
}

/**
 * pm_live_stream_add_client:
 * @self: a #PmLiveStream
 * @conn: a connection a #SoupServer WebSocket handler got
 * @msg: its handshake
 *
 * Takes @conn as a live client until it closes, and sends it the full
 * state at once.  What it may send is bounded as for log clients (see
 * pm_websocket_client_prepare()).
 */
void
pm_live_stream_add_client (PmLiveStream            *self,
                           SoupWebsocketConnection *conn,
                           SoupServerMessage       *msg)
{
  g_autoptr(JsonObject) state = NULL;
  g_autoptr(GBytes) frame = NULL;

  g_return_if_fail (PM_IS_LIVE_STREAM (self));
  g_return_if_fail (SOUP_IS_WEBSOCKET_CONNECTION (conn));
  g_return_if_fail (SOUP_IS_SERVER_MESSAGE (msg));

  pm_websocket_client_prepare (conn, msg, "live");
  g_ptr_array_add (self->clients, g_object_ref (conn));
  g_signal_connect_object (conn, "error", G_CALLBACK (on_client_error), self, 0);
  g_signal_connect_object (conn, "closed", G_CALLBACK (on_client_closed), self, 0);
  g_message ("%s: live client %s connected; %u now", self->hostname,
             pm_websocket_client_peer (conn), self->clients->len);

  state = dup_state (self);
  frame = frame_for (state);
  send_frame (conn, frame);
  /* The first client sets the state the diffs start from; a later one
   * must not, or the others would miss what changed since the last
   * look. */
  if (self->last == NULL)
    self->last = g_steal_pointer (&state);
  start_ticks (self);
}

/**
 * pm_live_stream_get_n_clients:
 * @self: a #PmLiveStream
 *
 * Returns: how many live clients are connected
 */
guint
pm_live_stream_get_n_clients (PmLiveStream *self)
{
  g_return_val_if_fail (PM_IS_LIVE_STREAM (self), 0);

  return self->clients->len;
}

/**
 * pm_live_stream_close_all:
 * @self: a #PmLiveStream
 * @clean: %TRUE to close each client with a close frame, 1001 "device
 *   stopped"; %FALSE to cut each connection without one, as a device
 *   that reboots
 *
 * Lets go of every client and stops the timer.
 */
void
pm_live_stream_close_all (PmLiveStream *self,
                          gboolean      clean)
{
  guint n;

  g_return_if_fail (PM_IS_LIVE_STREAM (self));

  n = self->clients->len;
  stop_ticks (self);
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
    g_debug ("%s: %s %u live client(s)", self->hostname, clean ? "closed" : "cut", n);
}

/* ---- GObject -------------------------------------------------------------- */

static void
pm_live_stream_dispose (GObject *object)
{
  PmLiveStream *self = PM_LIVE_STREAM (object);

  if (self->clients != NULL)
    pm_live_stream_close_all (self, TRUE);
  stop_ticks (self);
  if (self->destroy != NULL)
    g_clear_pointer (&self->user_data, self->destroy);
  self->get_state = NULL;

  G_OBJECT_CLASS (pm_live_stream_parent_class)->dispose (object);
}

static void
pm_live_stream_finalize (GObject *object)
{
  PmLiveStream *self = PM_LIVE_STREAM (object);

  g_clear_pointer (&self->hostname, g_free);
  g_clear_pointer (&self->clients, g_ptr_array_unref);

  G_OBJECT_CLASS (pm_live_stream_parent_class)->finalize (object);
}

static void
pm_live_stream_get_property (GObject    *object,
                             guint       property_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  PmLiveStream *self = PM_LIVE_STREAM (object);

  switch ((PmLiveStreamProperty) property_id)
    {
    case PROP_HOSTNAME:
      g_value_set_string (value, self->hostname);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_live_stream_set_property (GObject      *object,
                             guint         property_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  PmLiveStream *self = PM_LIVE_STREAM (object);

  switch ((PmLiveStreamProperty) property_id)
    {
    case PROP_HOSTNAME:
      pm_live_stream_set_hostname (self, g_value_get_string (value));
      break;
    case PROP_INTERVAL:
      pm_live_stream_set_interval (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_live_stream_class_init (PmLiveStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = pm_live_stream_dispose;
  object_class->finalize = pm_live_stream_finalize;
  object_class->get_property = pm_live_stream_get_property;
  object_class->set_property = pm_live_stream_set_property;

  props[PROP_HOSTNAME] =
    g_param_spec_string ("hostname", NULL, NULL, NULL, flags);
  /**
   * PmLiveStream:interval:
   *
   * How often the state is looked at, in milliseconds.  For tests; a
   * device uses %PM_LIVE_STREAM_INTERVAL_MS.
   */
  props[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL, 1, G_MAXUINT,
                       PM_LIVE_STREAM_INTERVAL_MS, flags | G_PARAM_CONSTRUCT);

  g_object_class_install_properties (object_class, G_N_ELEMENTS (props), props);
}

static void
pm_live_stream_init (PmLiveStream *self)
{
  self->interval_ms = PM_LIVE_STREAM_INTERVAL_MS;
  self->clients = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * pm_live_stream_new:
 * @hostname: the device's hostname, for the log
 * @get_state: gives the state
 * @user_data: passed to @get_state
 * @destroy: (nullable): frees @user_data when the stream is disposed
 *
 * Returns: (transfer full): a #PmLiveStream without clients
 */
PmLiveStream *
pm_live_stream_new (const char     *hostname,
                    PmLiveStateFunc get_state,
                    gpointer        user_data,
                    GDestroyNotify  destroy)
{
  PmLiveStream *self;

  g_return_val_if_fail (hostname != NULL, NULL);
  g_return_val_if_fail (get_state != NULL, NULL);

  self = g_object_new (PM_TYPE_LIVE_STREAM, "hostname", hostname, NULL);
  self->get_state = get_state;
  self->user_data = user_data;
  self->destroy = destroy;
  return self;
}

const char *
pm_live_stream_get_hostname (PmLiveStream *self)
{
  g_return_val_if_fail (PM_IS_LIVE_STREAM (self), NULL);

  return self->hostname;
}

void
pm_live_stream_set_hostname (PmLiveStream *self,
                             const char   *hostname)
{
  g_return_if_fail (PM_IS_LIVE_STREAM (self));

  if (hostname == NULL || g_strcmp0 (self->hostname, hostname) == 0)
    return;
  g_free (self->hostname);
  self->hostname = g_strdup (hostname);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_HOSTNAME]);
}

guint
pm_live_stream_get_interval (PmLiveStream *self)
{
  g_return_val_if_fail (PM_IS_LIVE_STREAM (self), 0);

  return self->interval_ms;
}

void
pm_live_stream_set_interval (PmLiveStream *self,
                             guint         interval_ms)
{
  g_return_if_fail (PM_IS_LIVE_STREAM (self));
  g_return_if_fail (interval_ms > 0);

  if (self->interval_ms == interval_ms)
    return;
  self->interval_ms = interval_ms;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_INTERVAL]);
}
