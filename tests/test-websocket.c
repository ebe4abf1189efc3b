/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-websocket"

#include "config.h"

#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "pm-device.h"
#include "pm-limits.h"
#include "pm-test-util.h"

/* In-process tests of the fake log stream that a PmDevice serves on
 * /api/ws: the frames, their period, several clients, clients that leave
 * or get stuck, and how restart and stop treat open WebSockets.
 *
 * Timing is judged by the device's own plan, which a busy machine cannot
 * bend, and not by when this process got round to reading a frame: the
 * device keeps the planned time of its next log tick as the ready time of
 * its tick source, and a TickWatch notes each planned time as the tick
 * runs.  A period that drifted, planned from the time a tick ran rather
 * than the time it was due, shows in those planned times whatever the
 * load.  Every frame is matched to the tick that sent it, so the tests
 * can say that each tick reached each client, and with the same line.
 * The wall clock gets only loose checks. */

#define MS (G_GINT64_CONSTANT (1000))

/* What the device names its log tick source, and the domain of its log. */
#define LOG_SOURCE_NAME   "pm-device-log"
#define DEVICE_LOG_DOMAIN "pm-log-stream"

/* How long an answer that should come at once may take on a loaded
 * machine before the test calls it a hang. */
#define PROMPT_MS 5000

/* ---- the device's plan ---------------------------------------------------- */

/* One log tick, as the device planned it. */
typedef struct
{
  gint64 due;   /* when it was due, monotonic µs */
  gint64 next;  /* when the next was due, as planned by this one */
  gint64 seen;  /* when the watch saw that it had run: no earlier than it ran */
  guint  run;   /* ticks stop while a device has no client; each start is a run */
  gint64 found; /* when the watch found the run's tick source */
} Tick;

/* A GSource that is prepared before every other on each main loop
 * iteration, and notes the ticks of one device as they run. */
typedef struct
{
  GSource   source;
  PmDevice *device;    /* (unowned): the fixture holds it */
  GSource  *ticker;    /* (owned) (nullable): the device's tick source */
  gint64    ready;     /* the ticker's ready time when last looked at */
  guint     run;
  gint64    found;     /* when it found the ticker */
  GArray   *ticks;     /* (element-type Tick) */
  guint     n_joins;   /* how many log clients the device has taken */
  guint     join_tick; /* the first tick the last of them gets */
  gint64    join_time; /* when it was taken, a moment later */
} TickWatch;

/* Notes a tick if the device's tick source has moved on to the next
 * planned time since the last look.  Cheap; called often. */
static void
tick_watch_update (TickWatch *watch)
{
  if (watch->ticker != NULL)
    {
      gint64 ready = g_source_get_ready_time (watch->ticker);

      if (ready != watch->ready)
        {
          Tick tick = { watch->ready, ready, g_get_monotonic_time (), watch->run, watch->found };

          g_array_append_val (watch->ticks, tick);
          watch->ready = ready;
        }
      if (g_source_is_destroyed (watch->ticker))
        g_clear_pointer (&watch->ticker, g_source_unref);
    }
  if (watch->ticker == NULL)
    {
      GSource *found = g_main_context_find_source_by_user_data (NULL, pm_device_get_log_stream (watch->device));

      if (found != NULL && g_strcmp0 (g_source_get_name (found), LOG_SOURCE_NAME) == 0)
        {
          watch->ticker = g_source_ref (found);
          watch->ready = g_source_get_ready_time (found);
          watch->run++;
          watch->found = g_get_monotonic_time ();
        }
    }
}

static guint
tick_watch_n_ticks (TickWatch *watch)
{
  tick_watch_update (watch);
  return watch->ticks->len;
}

static Tick *
tick_watch_tick (TickWatch *watch,
                 guint      k)
{
  g_assert_cmpuint (k, <, watch->ticks->len);
  return &g_array_index (watch->ticks, Tick, k);
}

static gboolean
tick_watch_prepare (GSource *source,
                    gint    *timeout)
{
  tick_watch_update ((TickWatch *) source);
  *timeout = -1;
  return FALSE;
}

static gboolean
tick_watch_dispatch (GSource    *source,
                     GSourceFunc callback,
                     gpointer    user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
tick_watch_finalize (GSource *source)
{
  TickWatch *watch = (TickWatch *) source;

  g_clear_pointer (&watch->ticker, g_source_unref);
  g_array_unref (watch->ticks);
}

static GSourceFuncs tick_watch_funcs = {
  tick_watch_prepare, NULL, tick_watch_dispatch, tick_watch_finalize, NULL, NULL,
};

static TickWatch *
tick_watch_new (PmDevice *device)
{
  GSource   *source = g_source_new (&tick_watch_funcs, sizeof (TickWatch));
  TickWatch *watch = (TickWatch *) source;

  watch->device = device;
  watch->ticks = g_array_new (FALSE, FALSE, sizeof (Tick));
  g_source_set_name (source, "test-tick-watch");
  /* Prepared first, so it looks on every iteration whatever else is
   * ready. */
  g_source_set_priority (source, G_MININT);
  g_source_attach (source, NULL);
  return watch;
}

static void
tick_watch_free (TickWatch *watch)
{
  g_source_destroy ((GSource *) watch);
  g_source_unref ((GSource *) watch);
}

/* Asserts that ticks @first .. @first + @n - 1 of @watch kept to the plan:
 * each, when it ran, planned the next exactly @interval_ms after its own
 * planned time -- not after the time it ran, which would let lateness add
 * up -- or a whole number of periods later when it ran so late that it
 * skipped ticks that were missed, as it may after a stall.  Load can make
 * ticks late, never change this. */
static void
assert_schedule (TickWatch *watch,
                 guint      first,
                 guint      n,
                 guint      interval_ms)
{
  gint64 interval = (gint64) interval_ms * MS;
  gint64 latest = 0;
  guint  skipped = 0;
  guint  k;

  g_assert_cmpuint (n, >, 0);
  tick_watch_update (watch);
  g_assert_cmpuint (watch->ticks->len, >=, first + n);
  for (k = first; k < first + n; k++)
    {
      Tick  *tick = tick_watch_tick (watch, k);
      gint64 ahead = tick->next - tick->due;
      gint64 late = tick->seen - tick->due;

      if (k > first)
        {
          Tick *previous = tick_watch_tick (watch, k - 1);

          /* One run of ticks, each due when the last planned it. */
          g_assert_cmpuint (tick->run, ==, previous->run);
          g_assert_cmpint (tick->due, ==, previous->next);
        }
      latest = MAX (latest, late);
      if (ahead % interval != 0)
        g_error ("Tick %u planned the next %.3f ms after its own planned time, no whole "
                 "number of %u ms periods: the period drifts", k, ahead / 1000.0, interval_ms);
      g_assert_cmpint (ahead, >=, interval);
      if (ahead > interval)
        {
          /* It skipped ticks: only one that ran over a period late may,
           * and it ran no later than it was seen. */
          g_test_message ("tick %u ran at most %.1f ms late and skipped %" G_GINT64_FORMAT,
                          k, late / 1000.0, ahead / interval - 1);
          g_assert_cmpint (late, >=, ahead - interval);
          skipped += (guint) (ahead / interval - 1);
        }
    }
  g_test_message ("%u ticks %u ms apart by the device's plan; the latest ran at most %.1f ms "
                  "after it was due; %u skipped after stalls",
                  n, interval_ms, latest / 1000.0, skipped);
}

/* ---- fixture ------------------------------------------------------------ */

/* One WebSocket client and what it has received. */
typedef struct
{
  PmTestWsClient  ws;            /* first, so that a Client is one */
  TickWatch      *watch;         /* (unowned) its device's */
  GArray         *n_ticks;       /* (element-type guint) ticks run at each frame */
  guint           first_tick;    /* the tick its first frame is from */
  gint64          joined;        /* monotonic µs: just after the device took it */
} Client;

typedef struct
{
  PmAcceptor  *acceptor;
  SoupSession *session;
  GPtrArray   *devices;  /* (element-type PmDevice) */
  GPtrArray   *watches;  /* (element-type TickWatch) */
  GPtrArray   *clients;  /* (element-type Client) */
  guint        log_handler;
} Fixture;

/* Runs after the handler of client->ws, in the same emission: the
 * ticks run when each frame came. */
static void
on_client_message (SoupWebsocketConnection *conn,
                   SoupWebsocketDataType    type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  Client *client = user_data;
  guint n_ticks = client->watch != NULL ? tick_watch_n_ticks (client->watch) : 0;

  g_array_append_val (client->n_ticks, n_ticks);
}

static void
client_free (Client *client)
{
  pm_test_ws_client_clear (&client->ws);
  g_array_unref (client->n_ticks);
  g_free (client);
}

static TickWatch *
fixture_find_watch (Fixture    *fixture,
                    const char *hostname)
{
  guint i;

  for (i = 0; i < fixture->watches->len; i++)
    {
      TickWatch *watch = g_ptr_array_index (fixture->watches, i);

      if (g_strcmp0 (pm_device_get_hostname (watch->device), hostname) == 0)
        return watch;
    }
  return NULL;
}

static TickWatch *
fixture_watch (Fixture  *fixture,
               PmDevice *device)
{
  TickWatch *watch = fixture_find_watch (fixture, pm_device_get_hostname (device));

  g_assert_nonnull (watch);
  g_assert_true (watch->device == device);
  return watch;
}

/* The device logs "<hostname>: log client <peer> connected; <n> now" right
 * after it has added the client to those its ticks reach: the ticks that
 * have run did not reach it, the next one will. */
static void
on_device_log (const char     *log_domain,
               GLogLevelFlags  log_level,
               const char     *message,
               gpointer        user_data)
{
  Fixture *fixture = user_data;
  const char *joined = strstr (message, ": log client ");

  if (joined != NULL && strstr (joined, " connected; ") != NULL)
    {
      g_autofree char *hostname = g_strndup (message, joined - message);
      TickWatch *watch = fixture_find_watch (fixture, hostname);

      if (watch != NULL)
        {
          watch->join_tick = tick_watch_n_ticks (watch);
          watch->join_time = g_get_monotonic_time ();
          watch->n_joins++;
        }
    }
  g_log_default_handler (log_domain, log_level, message, NULL);
}

typedef struct
{
  TickWatch *watch;
  guint      n;
} JoinsWait;

static gboolean
has_joins (gpointer user_data)
{
  JoinsWait *wait = user_data;

  return wait->watch->n_joins >= wait->n;
}

/* Wraps @conn (transfer full), the @n_joins'th client of the device
 * @watch watches, in a client owned by @fixture. */
static Client *
fixture_add_client (Fixture                 *fixture,
                    SoupWebsocketConnection *conn,
                    TickWatch               *watch,
                    guint                    n_joins)
{
  Client *client = g_new0 (Client, 1);
  JoinsWait wait = { watch, n_joins };

  pm_test_ws_client_init (&client->ws, conn);
  client->watch = watch;
  client->n_ticks = g_array_new (FALSE, FALSE, sizeof (guint));
  g_signal_connect (conn, "message", G_CALLBACK (on_client_message), client);
  g_ptr_array_add (fixture->clients, client);

  /* The device has taken exactly this client, and said so. */
  g_assert_true (pm_test_wait_until (has_joins, &wait, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (watch->n_joins, ==, n_joins);
  client->first_tick = watch->join_tick;
  client->joined = watch->join_time;
  return client;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->acceptor = pm_acceptor_new ();
  fixture->session = soup_session_new ();
  fixture->devices = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->watches = g_ptr_array_new_with_free_func ((GDestroyNotify) tick_watch_free);
  fixture->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  fixture->log_handler = g_log_set_handler (DEVICE_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                                            on_device_log, fixture);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  guint i;

  for (i = 0; i < fixture->devices->len; i++)
    pm_device_stop (g_ptr_array_index (fixture->devices, i));
  /* Let the clients see their close frames before they go. */
  pm_test_ws_clients_wait_closed (fixture->clients, PM_TEST_TIMEOUT_MS);

  g_log_remove_handler (DEVICE_LOG_DOMAIN, fixture->log_handler);
  g_clear_pointer (&fixture->clients, g_ptr_array_unref);
  g_clear_pointer (&fixture->watches, g_ptr_array_unref);
  g_clear_pointer (&fixture->devices, g_ptr_array_unref);
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->acceptor);
}

/* A started device on 127.0.0.1 with a kernel-picked port, watched if its
 * logs are on; @interval_ms and @restart_ms 0 keep the defaults. */
static PmDevice *
fixture_add_device_full (Fixture    *fixture,
                         const char *hostname,
                         gboolean    logs_enabled,
                         guint       interval_ms,
                         guint       restart_ms)
{
  g_autoptr(GError) error = NULL;
  PmDevice *device = g_object_new (PM_TYPE_DEVICE,
                                   "acceptor", fixture->acceptor,
                                   "port", 0,
                                   "hostname", hostname,
                                   "profile", "pluto-legacy",
                                   "logs-enabled", logs_enabled,
                                   "seed", (guint64) 1,
                                   "log-interval", interval_ms > 0 ? interval_ms : PM_DEVICE_LOG_INTERVAL_MS,
                                   "restart-window", restart_ms > 0 ? restart_ms : PM_DEVICE_RESTART_MS,
                                   NULL);

  g_assert_null (fixture_find_watch (fixture, hostname));
  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pm_device_get_port (device), >, 0);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 0);
  g_ptr_array_add (fixture->devices, device);
  if (logs_enabled)
    g_ptr_array_add (fixture->watches, tick_watch_new (device));
  return device;
}

static PmDevice *
fixture_add_device (Fixture    *fixture,
                    const char *hostname,
                    gboolean    logs_enabled,
                    guint       interval_ms)
{
  return fixture_add_device_full (fixture, hostname, logs_enabled, interval_ms, 0);
}

/* Connects a new client to the device's /api/ws; fails the test if that
 * does not work. */
static Client *
fixture_connect (Fixture  *fixture,
                 PmDevice *device)
{
  g_autofree char *url = pm_test_device_url (device, "ws", "/api/ws");
  g_autoptr(GError) error = NULL;
  TickWatch *watch = fixture_watch (fixture, device);
  guint n_joins = watch->n_joins + 1;
  SoupWebsocketConnection *conn = pm_test_websocket_connect (fixture->session, url, &error);

  g_assert_no_error (error);
  g_assert_nonnull (conn);
  g_assert_cmpint (soup_websocket_connection_get_state (conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  return fixture_add_client (fixture, conn, watch, n_joins);
}

/* ---- a WebSocket connect that keeps its message ------------------------- */

/* Like pm_test_websocket_connect(), but the caller keeps @msg to look at
 * the status and headers, and the attempt must end within @timeout_ms. */
static SoupWebsocketConnection *
websocket_connect_msg (SoupSession *session,
                       SoupMessage *msg,
                       guint        timeout_ms,
                       GError     **error)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  gboolean in_time;

  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        cancellable, pm_test_keep_result, &result);
  in_time = pm_test_wait_result (&result, timeout_ms);
  if (!in_time)
    {
      g_cancellable_cancel (cancellable);
      pm_test_wait_result (&result, PM_TEST_TIMEOUT_MS);
    }
  g_assert_nonnull (result);
  if (!in_time)
    g_error ("WebSocket connect to %s took longer than %u ms",
             g_uri_get_path (soup_message_get_uri (msg)), timeout_ms);
  return soup_session_websocket_connect_finish (session, result, error);
}

/* ---- waiting ------------------------------------------------------------ */

/* Waits until @client has the frame of its device's tick @tick. */
static gboolean
wait_tick_frame (Client *client,
                 guint   tick)
{
  g_assert_cmpuint (tick, >=, client->first_tick);
  return pm_test_ws_client_wait_messages (&client->ws, tick - client->first_tick + 1, PM_TEST_TIMEOUT_MS);
}

typedef struct
{
  PmDevice *device;
  guint     n;
} ClientsWait;

static gboolean
has_n_clients (gpointer user_data)
{
  ClientsWait *wait = user_data;

  return pm_device_get_n_log_clients (wait->device) == wait->n;
}

static gboolean
wait_n_clients (PmDevice *device,
                guint     n)
{
  ClientsWait wait = { device, n };

  return pm_test_wait_until (has_n_clients, &wait, PM_TEST_TIMEOUT_MS);
}

/* ---- checks ------------------------------------------------------------- */

static gint64
frame_time (Client *client,
            guint   i)
{
  return g_array_index (client->ws.times, gint64, i);
}

static const char *
frame_text (Client *client,
            guint   i)
{
  return g_ptr_array_index (client->ws.texts, i);
}

/* The text @client got from its device's tick @tick. */
static const char *
tick_text (Client *client,
           guint   tick)
{
  g_assert_cmpuint (tick, >=, client->first_tick);
  g_assert_cmpuint (tick - client->first_tick, <, client->ws.texts->len);
  return frame_text (client, tick - client->first_tick);
}

/* Asserts that @text is `{"log":"<one of the messages>"}` and nothing
 * else. */
static void
assert_log_frame (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (text, &error);
  JsonObject *object;
  const char *message;

  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (object), ==, 1);
  message = json_node_get_string (pm_test_member_value (object, "log", G_TYPE_STRING));
  if (pm_test_log_message_index (message) < 0)
    g_error ("Unknown log message in frame %s", text);
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* Asserts that @client's frames @first .. @first + @n - 1 came from
 * consecutive ticks of its device, one frame a tick: each arrived after
 * its tick had run, and none before it was due.  A busy machine delays
 * some frames; a sound device has most of them out within half a period
 * all the same. */
static void
assert_frames_on_ticks (Client *client,
                        guint   first,
                        guint   n,
                        guint   interval_ms)
{
  g_autoptr(GArray) lateness = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n);
  gint64 median;
  guint i;

  g_assert_cmpuint (n, >, 0);
  g_assert_cmpuint (client->ws.times->len, >=, first + n);
  for (i = first; i < first + n; i++)
    {
      guint k = client->first_tick + i;
      gint64 late;

      /* Not more frames than ticks. */
      g_assert_cmpuint (k, <, g_array_index (client->n_ticks, guint, i));
      late = frame_time (client, i) - tick_watch_tick (client->watch, k)->due;
      g_assert_cmpint (late, >=, 0);
      g_array_append_val (lateness, late);
    }
  g_array_sort (lateness, compare_gint64);
  median = g_array_index (lateness, gint64, n / 2);
  g_test_message ("%u frames, one a tick: they came %.1f ms (median) and at most %.1f ms "
                  "after their ticks were due", n, median / 1000.0,
                  g_array_index (lateness, gint64, n - 1) / 1000.0);
  g_assert_cmpint (median, <=, (gint64) interval_ms * MS / 2);
}

/* Checks that @client, the first client of a fresh device, got its first
 * frame from a tick the device planned one period after it took the
 * client: after it said so, and before the tick source was there to be
 * found. */
static void
assert_first_tick (Client *client,
                   guint   interval_ms)
{
  Tick *tick = tick_watch_tick (client->watch, client->first_tick);
  gint64 planned = tick->due - (gint64) interval_ms * MS;

  g_test_message ("first tick planned %.3f ms after the device took the client, "
                  "which the test learnt within %.3f ms",
                  (tick->due - client->joined) / 1000.0, (tick->found - client->joined) / 1000.0);
  g_assert_cmpint (planned, >=, client->joined);
  g_assert_cmpint (planned, <=, tick->found);
  g_assert_cmpint (frame_time (client, 0), >=, tick->due);
}

/* Asserts that @a and @b got the same line from each of the @n ticks from
 * @first on. */
static void
assert_same_ticks (Client *a,
                   Client *b,
                   guint   first,
                   guint   n)
{
  guint k;

  for (k = first; k < first + n; k++)
    {
      assert_log_frame (tick_text (a, k));
      g_assert_cmpstr (tick_text (a, k), ==, tick_text (b, k));
    }
}

/* ---- tests -------------------------------------------------------------- */

static void
test_frames (Fixture       *fixture,
             gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  g_autofree char *url = pm_test_device_url (device, "ws", "/api/ws");
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GError) error = NULL;
  TickWatch *watch = fixture_watch (fixture, device);
  guint n_joins = watch->n_joins + 1;
  SoupWebsocketConnection *conn;
  const char *offered;
  Client *client;
  guint i;

  /* A SoupSession of libsoup 3.2 offers no extensions unless it has an
   * extension manager, which offers permessage-deflate. */
  if (!soup_session_has_feature (fixture->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER))
    soup_session_add_feature_by_type (fixture->session, SOUP_TYPE_WEBSOCKET_EXTENSION_MANAGER);
  conn = websocket_connect_msg (fixture->session, msg, PM_TEST_TIMEOUT_MS, &error);
  g_assert_no_error (error);
  g_assert_nonnull (conn);
  client = fixture_add_client (fixture, conn, watch, n_joins);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_SWITCHING_PROTOCOLS);

  /* The client offered permessage-deflate, the server did not take it. */
  offered = soup_message_headers_get_one (soup_message_get_request_headers (msg),
                                          "Sec-WebSocket-Extensions");
  g_assert_nonnull (offered);
  g_assert_nonnull (strstr (offered, "permessage-deflate"));
  g_assert_null (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                               "Sec-WebSocket-Extensions"));
  g_assert_null (soup_websocket_connection_get_extensions (conn));
  g_assert_null (soup_websocket_connection_get_protocol (conn));
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 1);

  g_assert_true (pm_test_ws_client_wait_messages (&client->ws, 5, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (client->ws.n_binary, ==, 0);
  for (i = 0; i < client->ws.texts->len; i++)
    assert_log_frame (frame_text (client, i));
  g_assert_cmpint (soup_websocket_connection_get_state (conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
}

/* The period, by the device's plan: ten ticks 200 ms apart, each planned
 * from the last one's planned time, so no lateness adds up. */
static void
test_period_short (Fixture       *fixture,
                   gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  Client *client = fixture_connect (fixture, device);

  g_assert_cmpuint (client->first_tick, ==, 0);
  g_assert_true (pm_test_ws_client_wait_messages (&client->ws, 10, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (client->ws.n_binary, ==, 0);
  assert_first_tick (client, 200);
  assert_schedule (client->watch, 0, 10, 200);
  assert_frames_on_ticks (client, 0, 10, 200);
}

/* The one test at the real 5 s period. */
static void
test_period_real (Fixture       *fixture,
                  gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 0);
  Client *client = fixture_connect (fixture, device);
  guint interval = 0;

  g_object_get (device, "log-interval", &interval, NULL);
  g_assert_cmpuint (interval, ==, 5000);

  g_assert_cmpuint (client->first_tick, ==, 0);
  g_assert_true (pm_test_ws_client_wait_messages (&client->ws, 3, 3 * 5000 + PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (client->ws.n_binary, ==, 0);
  assert_log_frame (frame_text (client, 0));
  assert_first_tick (client, 5000);
  assert_schedule (client->watch, 0, 3, 5000);
  assert_frames_on_ticks (client, 0, 3, 5000);
}

static void
test_two_clients (Fixture       *fixture,
                  gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  Client *a = fixture_connect (fixture, device);
  Client *b = fixture_connect (fixture, device);
  TickWatch *watch = a->watch;
  Client *c;
  g_autoptr(GError) error = NULL;
  guint first;
  guint mark;

  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);

  /* Both get the same frame on every tick. */
  first = MAX (a->first_tick, b->first_tick);
  g_assert_true (wait_tick_frame (a, first + 3));
  g_assert_true (wait_tick_frame (b, first + 3));
  assert_same_ticks (a, b, first, 4);

  /* A leaves properly; B goes on at the same pace. */
  soup_websocket_connection_close (a->ws.conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_assert_true (pm_test_ws_client_wait_closed (&a->ws, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (a->ws.close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  g_assert_true (wait_n_clients (device, 1));
  mark = tick_watch_n_ticks (watch);
  g_assert_true (wait_tick_frame (b, mark + 2));
  assert_schedule (watch, 0, mark + 3, 200);
  assert_frames_on_ticks (b, 0, mark + 3 - b->first_tick, 200);

  /* C vanishes without a close frame: the device drops it, B goes on. */
  c = fixture_connect (fixture, device);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);
  g_assert_true (wait_tick_frame (c, c->first_tick));
  g_assert_cmpstr (tick_text (c, c->first_tick), ==, tick_text (b, c->first_tick));
  g_assert_true (g_io_stream_close (soup_websocket_connection_get_io_stream (c->ws.conn),
                                    NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_n_clients (device, 1));
  mark = tick_watch_n_ticks (watch);
  g_assert_true (wait_tick_frame (b, mark + 2));
  assert_schedule (watch, 0, mark + 3, 200);
  assert_frames_on_ticks (b, 0, mark + 3 - b->first_tick, 200);
  g_assert_cmpint (soup_websocket_connection_get_state (b->ws.conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_cmpuint (b->ws.n_binary, ==, 0);
}

static void
test_logs_disabled (Fixture       *fixture,
                    gconstpointer  user_data)
{
  PmDevice *off = fixture_add_device (fixture, "mockaxe1", FALSE, 200);
  PmDevice *on = fixture_add_device (fixture, "mockaxe2", TRUE, 200);
  const char *const bad_paths[] = { "/api/wsx", "/api/ws/x" };
  g_autofree char *ws_url = pm_test_device_url (off, "ws", "/api/ws");
  g_autofree char *http_url = pm_test_device_url (off, "http", "/api/ws");
  g_autofree char *on_http_url = pm_test_device_url (on, "http", "/api/ws");
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, ws_url);
  g_autoptr(PmTestResponse) response = NULL;
  g_autoptr(PmTestResponse) plain = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonObject) plain_object = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *lower = NULL;
  SoupWebsocketConnection *conn;
  gint64 start;
  gsize i;

  g_assert_false (pm_device_get_logs_enabled (off));

  /* The WebSocket handshake is refused at once. */
  conn = websocket_connect_msg (fixture->session, msg, PROMPT_MS, &error);
  g_assert_null (conn);
  g_assert_nonnull (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_NOT_FOUND);
  g_assert_cmpuint (pm_device_get_n_log_clients (off), ==, 0);

  /* A plain GET says why. */
  response = pm_test_http (fixture->session, SOUP_METHOD_GET, http_url, NULL, NULL, 0);
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_NOT_FOUND);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  object = pm_test_response_object (response);
  g_assert_cmpuint (json_object_get_size (object), ==, 1);
  g_assert_true (json_object_has_member (object, "error"));
  lower = g_ascii_strdown (json_object_get_string_member (object, "error"), -1);
  g_assert_nonnull (strstr (lower, "log"));
  g_assert_nonnull (strstr (lower, "off"));

  /* With logs on, a GET that is no handshake gets 400, not a hang. */
  start = g_get_monotonic_time ();
  plain = pm_test_http (fixture->session, SOUP_METHOD_GET, on_http_url, NULL, NULL, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, PROMPT_MS * MS);
  g_assert_cmpuint (plain->status, ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_cmpstr (pm_test_response_content_type (plain), ==, "application/json");
  plain_object = pm_test_response_object (plain);
  g_assert_cmpuint (json_object_get_size (plain_object), ==, 1);
  g_assert_cmpuint (json_node_get_value_type (json_object_get_member (plain_object, "error")),
                    ==, G_TYPE_STRING);
  g_assert_cmpstr (json_object_get_string_member (plain_object, "error"), !=, "");

  /* Only /api/ws itself is the stream. */
  for (i = 0; i < G_N_ELEMENTS (bad_paths); i++)
    {
      g_autofree char *url = pm_test_device_url (on, "ws", bad_paths[i]);
      g_autoptr(SoupMessage) bad = soup_message_new (SOUP_METHOD_GET, url);
      g_autoptr(GError) bad_error = NULL;

      g_test_message ("connecting to %s", url);
      conn = websocket_connect_msg (fixture->session, bad, PROMPT_MS, &bad_error);
      g_assert_null (conn);
      g_assert_nonnull (bad_error);
      g_assert_cmpuint (soup_message_get_status (bad), ==, SOUP_STATUS_NOT_FOUND);
    }
  g_assert_cmpuint (pm_device_get_n_log_clients (on), ==, 0);
}

/* Longer than any test here takes, so a restart lasts to the end of the
 * test however slow the machine. */
#define LONG_RESTART_MS (6 * PM_TEST_TIMEOUT_MS)

static void
test_restart (Fixture       *fixture,
              gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device_full (fixture, "mockaxe1", TRUE, 200, LONG_RESTART_MS);
  Client *client = fixture_connect (fixture, device);
  g_autofree char *url = pm_test_device_url (device, "ws", "/api/ws");
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn;
  guint mark;

  g_assert_true (pm_test_ws_client_wait_messages (&client->ws, 1, PM_TEST_TIMEOUT_MS));

  g_assert_true (pm_device_restart (device, &error));
  g_assert_no_error (error);
  mark = tick_watch_n_ticks (client->watch);
  g_assert_true (pm_device_get_restarting (device));

  /* Frames keep coming at the same pace while the device restarts: the
   * ticks go on with the plan they had before. */
  g_assert_true (wait_tick_frame (client, mark + 3));
  g_assert_true (pm_device_get_restarting (device));
  g_assert_cmpuint (client->ws.n_binary, ==, 0);
  assert_schedule (client->watch, 0, mark + 4, 200);
  assert_frames_on_ticks (client, 0, mark + 4 - client->first_tick, 200);
  g_assert_cmpint (soup_websocket_connection_get_state (client->ws.conn), ==,
                   SOUP_WEBSOCKET_STATE_OPEN);

  /* A new handshake is an HTTP request, so it gets 503. */
  conn = websocket_connect_msg (fixture->session, msg, PROMPT_MS, &error);
  g_assert_null (conn);
  g_assert_nonnull (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
  g_assert_true (pm_device_get_restarting (device));
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 1);

  /* And the old client still gets frames. */
  g_assert_true (wait_tick_frame (client, tick_watch_n_ticks (client->watch)));
}

static void
test_stop (Fixture       *fixture,
           gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  Client *a = fixture_connect (fixture, device);
  Client *b = fixture_connect (fixture, device);

  g_assert_true (pm_test_ws_client_wait_messages (&a->ws, 1, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);

  pm_device_stop (device);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 0);
  g_assert_true (pm_test_ws_client_wait_closed (&a->ws, PM_TEST_TIMEOUT_MS));
  g_assert_true (pm_test_ws_client_wait_closed (&b->ws, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (a->ws.close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpuint (b->ws.close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpint (soup_websocket_connection_get_state (a->ws.conn), ==, SOUP_WEBSOCKET_STATE_CLOSED);
  g_assert_false (pm_device_get_listening (device));
}

/* A client that does the handshake and then never reads, and floods the
 * device with pings: the pongs fill the device's socket buffer towards
 * it, so the device's writes to it would block.  It sends three quarters
 * of what a log client may send in all, so the device keeps it. */
typedef struct
{
  GSocket *socket;
  gsize    written;
  gint     done;
} StuckClient;

#define PING_PAYLOAD     125
#define PING_FRAME_BYTES (2 + 4 + PING_PAYLOAD)
#define STUCK_PINGS      (PM_LIMIT_WS_TOTAL_BYTES / PING_FRAME_BYTES * 3 / 4)

static gpointer
stuck_flood_thread (gpointer user_data)
{
  StuckClient *stuck = user_data;
  guint8 frame[PING_FRAME_BYTES];
  guint32 mask = g_random_int ();
  guint i;

  frame[0] = 0x89;  /* FIN, ping */
  frame[1] = 0x80 | PING_PAYLOAD;  /* masked, as a client must */
  memcpy (frame + 2, &mask, 4);
  for (i = 0; i < PING_PAYLOAD; i++)
    frame[6 + i] = 'p' ^ frame[2 + i % 4];

  for (i = 0; i < STUCK_PINGS; i++)
    {
      gssize n = g_socket_send (stuck->socket, (const char *) frame, sizeof frame, NULL, NULL);

      if (n <= 0)
        break;
      stuck->written += (gsize) n;
    }

  pm_test_flag_set (&stuck->done);
  return NULL;
}

static GSocket *
stuck_client_connect (PmDevice *device)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address =
    g_inet_socket_address_new (loopback, (guint16) pm_device_get_port (device));
  g_autoptr(GSocket) socket = NULL;
  g_autofree char *key = NULL;
  g_autofree char *request = NULL;
  guint8 nonce[16];
  guint i;

  for (i = 0; i < sizeof nonce; i++)
    nonce[i] = (guint8) g_random_int_range (0, 256);
  key = g_base64_encode (nonce, sizeof nonce);
  request = g_strdup_printf ("GET /api/ws HTTP/1.1\r\n"
                             "Host: 127.0.0.1:%u\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Key: %s\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "\r\n",
                             pm_device_get_port (device), key);

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  /* A small receive window, set before the connect so it holds. */
  g_assert_true (g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 2048, &error));
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_socket_send (socket, request, strlen (request), NULL, &error), ==,
                   (gssize) strlen (request));
  g_assert_no_error (error);
  return g_steal_pointer (&socket);
}

/* The device's end of @stuck's connection: a socket of this process. */
static int
device_side_fd (StuckClient *stuck)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (stuck->socket, &error);
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, &error);
  struct sockaddr_in want;
  const char *name;

  g_assert_no_error (error);
  g_assert_true (g_socket_address_to_native (local, &want, sizeof want, &error));
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      int fd = atoi (name);
      struct sockaddr_in peer;
      socklen_t length = sizeof peer;
      struct stat st;

      if (fd == g_socket_get_fd (stuck->socket) || fstat (fd, &st) != 0 || !S_ISSOCK (st.st_mode))
        continue;
      if (getpeername (fd, (struct sockaddr *) &peer, &length) == 0 &&
          length == sizeof peer && peer.sin_family == AF_INET &&
          peer.sin_port == want.sin_port && peer.sin_addr.s_addr == want.sin_addr.s_addr)
        return fd;
    }
  g_error ("No socket of this process is the device's end of the stuck client's connection");
}

/* On loopback the kernel lets a socket's send buffer grow to megabytes,
 * more than the pongs to what a log client may send fill.  A slow network
 * keeps it small: so does this, for the device's end of @stuck's
 * connection. */
#define STUCK_SNDBUF_BYTES (16 * 1024)

static void
shrink_device_side (StuckClient *stuck)
{
  int size = STUCK_SNDBUF_BYTES;

  g_assert_cmpint (setsockopt (device_side_fd (stuck), SOL_SOCKET, SO_SNDBUF, &size, sizeof size),
                   ==, 0);
}

/* Whether the device's end of @stuck's connection has no room for more:
 * a write to it would block. */
static gboolean
device_side_full (gpointer user_data)
{
  struct pollfd pfd = { device_side_fd (user_data), POLLOUT, 0 };

  g_assert_cmpint (poll (&pfd, 1, 0), >=, 0);
  return (pfd.revents & POLLOUT) == 0;
}

static void
test_stuck_client (Fixture       *fixture,
                   gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 50);
  PmDevice *other = fixture_add_device (fixture, "mockaxe2", TRUE, 50);
  TickWatch *watches[2] = { fixture_watch (fixture, device), fixture_watch (fixture, other) };
  g_autofree char *info_url = pm_test_device_url (device, "http", "/api/system/info");
  g_autoptr(PmTestResponse) response = NULL;
  StuckClient stuck = { NULL, 0, FALSE };
  Client *watched[3];
  guint start[2];
  guint end[2];
  GThread *thread;
  guint i;

  stuck.socket = stuck_client_connect (device);
  g_assert_true (wait_n_clients (device, 1));

  watched[0] = fixture_connect (fixture, device);
  watched[1] = fixture_connect (fixture, other);
  watched[2] = fixture_connect (fixture, other);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);
  g_assert_cmpuint (pm_device_get_n_log_clients (other), ==, 2);

  /* Fill the device's socket buffer towards the stuck client, so that
   * writing to it would block. */
  shrink_device_side (&stuck);
  thread = g_thread_new ("stuck-flood", stuck_flood_thread, &stuck);
  g_assert_true (pm_test_flag_wait (&stuck.done, PM_TEST_TIMEOUT_MS));
  g_thread_join (thread);
  g_test_message ("stuck client wrote %" G_GSIZE_FORMAT " bytes of pings", stuck.written);
  g_assert_cmpuint (stuck.written, ==, (gsize) STUCK_PINGS * PING_FRAME_BYTES);
  g_assert_true (pm_test_wait_until (device_side_full, &stuck, PM_TEST_TIMEOUT_MS));
  g_assert_true (pm_test_ws_client_wait_messages (&watched[0]->ws, watched[0]->ws.texts->len + 3,
                                                  PM_TEST_TIMEOUT_MS));

  /* 2 s of ticks, with an HTTP request to the same device half-way: it
   * gets its answer, and no tick is held up. */
  for (i = 0; i < G_N_ELEMENTS (watches); i++)
    start[i] = tick_watch_n_ticks (watches[i]);
  pm_test_wait_ms (1000);
  response = pm_test_http (fixture->session, SOUP_METHOD_GET, info_url, NULL, NULL, 0);
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  pm_test_wait_ms (1000);
  for (i = 0; i < G_N_ELEMENTS (watches); i++)
    {
      end[i] = tick_watch_n_ticks (watches[i]);
      g_test_message ("device %u: %u ticks", i, end[i] - start[i]);
      g_assert_cmpuint (end[i], >, start[i]);
      assert_schedule (watches[i], start[i], end[i] - start[i], 50);
    }

  /* Every watched client got every tick of its device. */
  for (i = 0; i < G_N_ELEMENTS (watched); i++)
    {
      guint w = i == 0 ? 0 : 1;

      g_assert_true (wait_tick_frame (watched[i], end[w] - 1));
      assert_frames_on_ticks (watched[i], start[w] - watched[i]->first_tick, end[w] - start[w], 50);
    }
  /* The stuck client is still connected: nothing dropped it. */
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);

  /* When it goes away at last, it is dropped. */
  g_socket_close (stuck.socket, NULL);
  g_clear_object (&stuck.socket);
  g_assert_true (wait_n_clients (device, 1));
}

/* A client that stops reading for good (or is gone without a word) is
 * dropped once what is sent to it has gone unacknowledged for the send
 * timeout; the others keep streaming. */
static void
test_stuck_client_dropped (Fixture       *fixture,
                           gconstpointer  user_data)
{
  PmDevice *device;
  StuckClient stuck = { NULL, 0, FALSE };
  Client *healthy;
  GThread *thread;
  guint mark;

  g_clear_object (&fixture->acceptor);
  fixture->acceptor = g_object_new (PM_TYPE_ACCEPTOR, "send-timeout", 500, NULL);
  device = fixture_add_device (fixture, "mockaxe1", TRUE, 50);

  stuck.socket = stuck_client_connect (device);
  g_assert_true (wait_n_clients (device, 1));
  healthy = fixture_connect (fixture, device);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);

  shrink_device_side (&stuck);
  thread = g_thread_new ("stuck-flood", stuck_flood_thread, &stuck);
  g_assert_true (pm_test_flag_wait (&stuck.done, PM_TEST_TIMEOUT_MS));
  g_thread_join (thread);
  g_assert_cmpuint (stuck.written, ==, (gsize) STUCK_PINGS * PING_FRAME_BYTES);

  /* The window towards it is shut and stays shut: the kernel gives up. */
  g_assert_true (wait_n_clients (device, 1));
  mark = tick_watch_n_ticks (healthy->watch);
  g_assert_true (wait_tick_frame (healthy, mark + 4));
  g_assert_false (healthy->ws.closed);

  g_socket_close (stuck.socket, NULL);
  g_clear_object (&stuck.socket);
}

#define N_MANY 200

typedef struct
{
  Fixture *fixture;
  guint    tick;
} ManyWait;

static gboolean
all_have_tick (gpointer user_data)
{
  ManyWait *wait = user_data;
  guint i;

  for (i = 0; i < wait->fixture->clients->len; i++)
    {
      Client *client = g_ptr_array_index (wait->fixture->clients, i);

      if (client->first_tick + client->ws.texts->len <= wait->tick)
        return FALSE;
    }
  return TRUE;
}

static void
test_many_clients (Fixture       *fixture,
                   gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  TickWatch *watch = fixture_watch (fixture, device);
  ManyWait wait = { fixture, 0 };
  Client *reference;
  gint64 all_in;
  gint64 latest = 0;
  Tick *tick;
  guint i;

  for (i = 0; i < N_MANY; i++)
    fixture_connect (fixture, device);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, N_MANY);
  all_in = g_get_monotonic_time ();

  /* The next tick is due within one period, and reaches every client
   * with the same line. */
  wait.tick = tick_watch_n_ticks (watch);
  g_assert_true (pm_test_wait_until (all_have_tick, &wait, PM_TEST_TIMEOUT_MS));
  tick = tick_watch_tick (watch, wait.tick);
  g_assert_cmpint (tick->due, <=, all_in + 200 * MS);
  reference = g_ptr_array_index (fixture->clients, 0);
  assert_log_frame (tick_text (reference, wait.tick));
  for (i = 0; i < N_MANY; i++)
    {
      Client *client = g_ptr_array_index (fixture->clients, i);

      g_assert_cmpstr (tick_text (client, wait.tick), ==, tick_text (reference, wait.tick));
      g_assert_cmpuint (client->ws.n_binary, ==, 0);
      latest = MAX (latest, frame_time (client, wait.tick - client->first_tick));
    }
  g_test_message ("all %u clients had the frame of tick %u %.1f ms after it was due", N_MANY,
                  wait.tick, (latest - tick->due) / 1000.0);
  assert_schedule (watch, 0, wait.tick + 1, 200);

  /* All leave. */
  for (i = 0; i < N_MANY; i++)
    {
      Client *client = g_ptr_array_index (fixture->clients, i);

      soup_websocket_connection_close (client->ws.conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }
  g_assert_true (wait_n_clients (device, 0));
  g_assert_true (pm_test_ws_clients_wait_closed (fixture->clients, PM_TEST_TIMEOUT_MS));
  for (i = 0; i < N_MANY; i++)
    g_assert_cmpuint (((Client *) g_ptr_array_index (fixture->clients, i))->ws.close_code, ==,
                      SOUP_WEBSOCKET_CLOSE_NORMAL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

  ADD ("/websocket/frames", test_frames);
  ADD ("/websocket/period-short", test_period_short);
  ADD ("/websocket/period-real", test_period_real);
  ADD ("/websocket/two-clients", test_two_clients);
  ADD ("/websocket/logs-disabled", test_logs_disabled);
  ADD ("/websocket/restart", test_restart);
  ADD ("/websocket/stop", test_stop);
  ADD ("/websocket/stuck-client", test_stuck_client);
  ADD ("/websocket/stuck-client-dropped", test_stuck_client_dropped);
  ADD ("/websocket/many-clients", test_many_clients);

#undef ADD

  return g_test_run ();
}
