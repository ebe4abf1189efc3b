/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-streams"

#include "config.h"

#include <string.h>

#include "pm-streams.h"

/**
 * PmStreams:
 *
 * The WebSocket streams of one device: its log clients on `/api/ws` and,
 * for AxeOS, its live-state clients on `/api/ws/live`.
 *
 * A simulated device's log carries what its miner does.  The miner is
 * advanced only when something reads it, so while log clients listen the
 * log is collected every %LOG_COLLECT_MS and each line is sent
 * %LOG_DELAY_MS after it was written, at its own time: the clients see
 * lines spaced as the device wrote them, one frame a line unless several
 * fall due together, as the firmware's log task sends them.  Without
 * clients nothing runs.
 */

/* How often the log of a simulated device is collected while someone
 * listens, and how late each line goes out. */
#define LOG_COLLECT_MS 250
#define LOG_DELAY_MS 300
/* At most this many lines wait to be sent; a long stall drops the rest. */
#define MAX_QUEUED_LINES 256

typedef struct
{
  gint64 due_us;
  char  *line;
} QueuedLine;

struct _PmStreams
{
  GObject          parent_instance;

  const PmProfile *profile;
  PmLogStream     *logs;        /* (owned) */
  PmLiveStream    *live;        /* (owned) (nullable): AxeOS only */
  PmSim           *sim;         /* (unowned) (nullable): the device's */

  GSource         *collect;     /* (owned) (nullable) while log clients listen */
  GSource         *send;        /* (owned) (nullable) */
  GQueue           queue;       /* (element-type QueuedLine) oldest first */
};

G_DEFINE_FINAL_TYPE (PmStreams, pm_streams, G_TYPE_OBJECT)

static void
queued_line_free (QueuedLine *queued)
{
  g_free (queued->line);
  g_free (queued);
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
stop_log (PmStreams *self)
{
  clear_source (&self->collect);
  clear_source (&self->send);
  g_queue_clear_full (&self->queue, (GDestroyNotify) queued_line_free);
}

static gboolean
on_send (gpointer user_data)
{
  PmStreams *self = PM_STREAMS (user_data);
  gint64 now = g_get_monotonic_time ();
  QueuedLine *head;

  while ((head = g_queue_peek_head (&self->queue)) != NULL && head->due_us <= now)
    {
      QueuedLine *queued = g_queue_pop_head (&self->queue);

      pm_log_stream_push (self->logs, queued->line, strlen (queued->line));
      queued_line_free (queued);
    }
  head = g_queue_peek_head (&self->queue);
  g_source_set_ready_time (self->send, head != NULL ? head->due_us : -1);
  return G_SOURCE_CONTINUE;
}

static void
on_log_line (gint64      ms_since_boot,
             const char *line,
             gsize       length,
             gpointer    user_data)
{
  PmStreams *self = PM_STREAMS (user_data);
  QueuedLine *queued;
  gint64 due = pm_sim_get_boot_time (self->sim) + ms_since_boot * 1000 + LOG_DELAY_MS * 1000;

  if (g_queue_get_length (&self->queue) >= MAX_QUEUED_LINES)
    return;
  queued = g_new0 (QueuedLine, 1);
  queued->due_us = MAX (due, g_get_monotonic_time ());
  queued->line = g_strndup (line, length);
  g_queue_push_tail (&self->queue, queued);
}

static gboolean
on_collect (gpointer user_data)
{
  PmStreams *self = PM_STREAMS (user_data);
  QueuedLine *head;

  if (pm_log_stream_get_n_clients (self->logs) == 0)
    {
      stop_log (self);
      return G_SOURCE_REMOVE;
    }
  pm_sim_catch_up (self->sim, g_get_monotonic_time ());
  pm_sim_take_log (self->sim, self->profile->family == PM_PROFILE_FAMILY_AXEOS,
                   on_log_line, self);
  head = g_queue_peek_head (&self->queue);
  if (head != NULL)
    g_source_set_ready_time (self->send, head->due_us);
  return G_SOURCE_CONTINUE;
}

static gboolean
ready_dispatch (GSource    *source,
                GSourceFunc callback,
                gpointer    user_data)
{
  return callback (user_data);
}

static GSourceFuncs ready_funcs = { NULL, NULL, ready_dispatch, NULL, NULL, NULL };

static void
start_log (PmStreams *self)
{
  if (self->collect != NULL)
    return;
  /* No backlog: the log starts now. */
  pm_sim_catch_up (self->sim, g_get_monotonic_time ());
  pm_sim_skip_log (self->sim);

  self->collect = g_timeout_source_new (LOG_COLLECT_MS);
  g_source_set_name (self->collect, "pm-streams-collect");
  g_source_set_callback (self->collect, on_collect, self, NULL);
  g_source_attach (self->collect, g_main_context_get_thread_default ());

  self->send = g_source_new (&ready_funcs, sizeof (GSource));
  g_source_set_name (self->send, "pm-streams-send");
  g_source_set_callback (self->send, on_send, self, NULL);
  g_source_set_ready_time (self->send, -1);
  g_source_attach (self->send, g_main_context_get_thread_default ());
}

/**
 * pm_streams_add_log_client:
 * @self: a #PmStreams
 * @conn: a log client that has just connected
 * @msg: its handshake
 */
void
pm_streams_add_log_client (PmStreams               *self,
                           SoupWebsocketConnection *conn,
                           SoupServerMessage       *msg)
{
  g_return_if_fail (PM_IS_STREAMS (self));

  if (self->sim != NULL)
    start_log (self);
  pm_log_stream_add_client (self->logs, conn, msg);
}

/**
 * pm_streams_add_live_client:
 * @self: a #PmStreams with a live stream
 * @conn: a live client that has just connected
 * @msg: its handshake
 */
void
pm_streams_add_live_client (PmStreams               *self,
                            SoupWebsocketConnection *conn,
                            SoupServerMessage       *msg)
{
  g_return_if_fail (PM_IS_STREAMS (self));
  g_return_if_fail (self->live != NULL);

  pm_live_stream_add_client (self->live, conn, msg);
}

/**
 * pm_streams_get_n_clients:
 * @self: a #PmStreams
 *
 * Returns: how many WebSocket clients the device has, both paths together
 */
guint
pm_streams_get_n_clients (PmStreams *self)
{
  g_return_val_if_fail (PM_IS_STREAMS (self), 0);

  return pm_log_stream_get_n_clients (self->logs) +
         (self->live != NULL ? pm_live_stream_get_n_clients (self->live) : 0);
}

PmLogStream *
pm_streams_get_log_stream (PmStreams *self)
{
  g_return_val_if_fail (PM_IS_STREAMS (self), NULL);
  return self->logs;
}

gboolean
pm_streams_has_live (PmStreams *self)
{
  g_return_val_if_fail (PM_IS_STREAMS (self), FALSE);
  return self->live != NULL;
}

/**
 * pm_streams_close_all:
 * @self: a #PmStreams
 * @clean: %TRUE to close with a close frame, as a device that stops;
 *   %FALSE to cut the connections, as a device that reboots
 */
void
pm_streams_close_all (PmStreams *self,
                      gboolean   clean)
{
  g_return_if_fail (PM_IS_STREAMS (self));

  stop_log (self);
  pm_log_stream_close_all (self->logs, clean);
  if (self->live != NULL)
    pm_live_stream_close_all (self->live, clean);
}

/**
 * pm_streams_set_silent:
 * @self: a #PmStreams
 * @silent: whether the log says nothing
 *
 * A silent log keeps its clients and sends them nothing.
 */
void
pm_streams_set_silent (PmStreams *self,
                       gboolean   silent)
{
  g_return_if_fail (PM_IS_STREAMS (self));
  pm_log_stream_set_silent (self->logs, silent);
}

/**
 * pm_streams_set_sim:
 * @self: a #PmStreams
 * @sim: (nullable): the simulated device whose log the clients get; it
 *   must outlive the clients (pm_streams_close_all())
 */
void
pm_streams_set_sim (PmStreams *self,
                    PmSim     *sim)
{
  g_return_if_fail (PM_IS_STREAMS (self));
  self->sim = sim;
}

void
pm_streams_set_rand (PmStreams *self,
                     GRand     *rand)
{
  g_return_if_fail (PM_IS_STREAMS (self));
  pm_log_stream_set_rand (self->logs, rand);
}

void
pm_streams_set_hostname (PmStreams  *self,
                         const char *hostname)
{
  g_return_if_fail (PM_IS_STREAMS (self));

  pm_log_stream_set_hostname (self->logs, hostname);
  if (self->live != NULL)
    pm_live_stream_set_hostname (self->live, hostname);
}

static void
pm_streams_dispose (GObject *object)
{
  PmStreams *self = PM_STREAMS (object);

  stop_log (self);
  g_clear_object (&self->logs);
  g_clear_object (&self->live);

  G_OBJECT_CLASS (pm_streams_parent_class)->dispose (object);
}

static void
pm_streams_class_init (PmStreamsClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pm_streams_dispose;
}

static void
pm_streams_init (PmStreams *self)
{
  g_queue_init (&self->queue);
}

/**
 * pm_streams_new:
 * @profile: the device's profile, which says how its log looks and
 *   whether it has a live stream
 * @hostname: the device's hostname, for the daemon's log
 * @log_interval_ms: the period of a Pluto device's fake log
 * @live_state: (scope forever): gives the live state of an AxeOS device
 * @user_data: for @live_state
 *
 * Returns: (transfer full): the streams of a device without clients
 */
PmStreams *
pm_streams_new (const PmProfile *profile,
                const char      *hostname,
                guint            log_interval_ms,
                PmLiveStateFunc  live_state,
                gpointer         user_data)
{
  PmStreams *self = g_object_new (PM_TYPE_STREAMS, NULL);

  self->profile = profile;
  switch (profile->family)
    {
    case PM_PROFILE_FAMILY_AXEOS:
      self->logs = pm_log_stream_new (PM_LOG_STYLE_AXEOS, hostname, NULL);
      self->live = pm_live_stream_new (hostname, live_state, user_data, NULL);
      break;
    case PM_PROFILE_FAMILY_NERDQAXE:
      self->logs = pm_log_stream_new (PM_LOG_STYLE_NERDQAXE, hostname, NULL);
      break;
    case PM_PROFILE_FAMILY_PLUTO:
    default:
      self->logs = pm_log_stream_new (PM_LOG_STYLE_PLUTO, hostname, NULL);
      pm_log_stream_set_interval (self->logs, log_interval_ms);
      break;
    }
  return self;
}
