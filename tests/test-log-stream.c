/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-log-stream"

#include "config.h"

#include <locale.h>
#include <string.h>

#include "pm-acceptor.h"
#include "pm-esp-log.h"
#include "pm-json-diff.h"
#include "pm-limits.h"
#include "pm-live-stream.h"
#include "pm-log-stream.h"
#include "pm-test-util.h"

/* The WebSocket streams of a device, /api/ws (PmLogStream, in its three
 * styles) and /api/ws/live (PmLiveStream), served by a real SoupServer
 * listening on 127.0.0.1 through a PmAcceptor, as a device's is, to
 * SoupSession clients; and the two pieces they are fed by, the JSON diff
 * and the ESP-IDF log lines.
 *
 * Frames on one connection arrive in the order they were sent, so a test
 * that must show that a client got nothing more closes the streams
 * cleanly and looks at what the client had when it closed: everything
 * sent to it before the close frame is in by then. */

#define MS (G_GINT64_CONSTANT (1000))

/* ---- clients -------------------------------------------------------------- */

typedef struct
{
  SoupWebsocketConnection *conn;      /* (owned) */
  GPtrArray               *frames;    /* (element-type GBytes) */
  GArray                  *times;     /* (element-type gint64) monotonic µs */
  gsize                    bytes;
  gboolean                 closed;
  guint                    n_closing;
  guint                    n_errors;
  guint                    n_at_close; /* frames received when it closed */
} Client;

static void
client_free (Client *client)
{
  if (client->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->conn, client);
      if (soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&client->conn);
    }
  g_ptr_array_unref (client->frames);
  g_array_unref (client->times);
  g_free (client);
}

static void
on_client_message (SoupWebsocketConnection *conn,
                   gint                     type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  Client *client = user_data;
  gint64 now = g_get_monotonic_time ();

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_ptr_array_add (client->frames, g_bytes_ref (message));
  g_array_append_val (client->times, now);
  client->bytes += g_bytes_get_size (message);
}

static void
on_client_closing (SoupWebsocketConnection *conn,
                   gpointer                 user_data)
{
  Client *client = user_data;

  client->n_closing++;
}

static void
on_client_error (SoupWebsocketConnection *conn,
                 GError                  *error,
                 gpointer                 user_data)
{
  Client *client = user_data;

  g_test_message ("client error: %s", error->message);
  client->n_errors++;
}

static void
on_client_closed (SoupWebsocketConnection *conn,
                  gpointer                 user_data)
{
  Client *client = user_data;

  client->closed = TRUE;
  client->n_at_close = client->frames->len;
}

static gboolean
client_is_closing (gpointer user_data)
{
  return ((Client *) user_data)->n_closing > 0;
}

static gboolean
client_is_closed (gpointer user_data)
{
  return ((Client *) user_data)->closed;
}

typedef struct
{
  Client *client;
  guint   n;
} FramesWait;

static gboolean
has_frames (gpointer user_data)
{
  FramesWait *wait = user_data;

  return wait->client->frames->len >= wait->n || wait->client->closed;
}

static void
client_wait_frames (Client *client,
                    guint   n)
{
  FramesWait wait = { client, n };

  g_assert_true (pm_test_wait_until (has_frames, &wait, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (client->frames->len, >=, n);
}

typedef struct
{
  Client *client;
  gsize   bytes;
} BytesWait;

static gboolean
has_bytes (gpointer user_data)
{
  BytesWait *wait = user_data;

  return wait->client->bytes >= wait->bytes || wait->client->closed;
}

static void
client_wait_close (Client *client)
{
  g_assert_true (pm_test_wait_until (client_is_closed, client, PM_TEST_TIMEOUT_MS));
}

/* Everything @client got, in one string. */
static char *
client_dup_text (Client *client)
{
  GString *text = g_string_new (NULL);
  guint i;

  for (i = 0; i < client->frames->len; i++)
    {
      gsize size;
      const char *data = g_bytes_get_data (g_ptr_array_index (client->frames, i), &size);

      g_string_append_len (text, data, size);
    }
  return g_string_free (text, FALSE);
}

static char *
client_dup_frame (Client *client,
                  guint   k)
{
  gsize size;
  const char *data;

  g_assert_cmpuint (k, <, client->frames->len);
  data = g_bytes_get_data (g_ptr_array_index (client->frames, k), &size);
  return g_strndup (data, size);
}

/* ---- fixture -------------------------------------------------------------- */

typedef struct
{
  SoupServer   *server;
  PmAcceptor   *acceptor;
  GSocket      *listener; /* the acceptor's */
  SoupSession  *session;
  guint         port;
  PmLogStream  *log;     /* (nullable) what /api/ws clients go to */
  PmLiveStream *live;    /* (nullable) what /api/ws/live clients go to */
  GPtrArray    *clients; /* (element-type Client) */
  const char   *push_on_connect; /* (nullable) pushed as a log client
                                  * connects, right before it is added */
  const char   *state_on_connect; /* (nullable) the live state from when
                                   * a live client connects */
  char         *state;   /* the live state, as JSON text */
  guint         n_state_calls;
} Fixture;

static void
on_log_websocket (SoupServer              *server,
                  SoupServerMessage       *msg,
                  const char              *path,
                  SoupWebsocketConnection *conn,
                  gpointer                 user_data)
{
  Fixture *fixture = user_data;

  g_assert_nonnull (fixture->log);
  if (fixture->push_on_connect != NULL)
    pm_log_stream_push (fixture->log, fixture->push_on_connect, strlen (fixture->push_on_connect));
  pm_log_stream_add_client (fixture->log, conn, msg);
}

static void
on_live_websocket (SoupServer              *server,
                   SoupServerMessage       *msg,
                   const char              *path,
                   SoupWebsocketConnection *conn,
                   gpointer                 user_data)
{
  Fixture *fixture = user_data;

  g_assert_nonnull (fixture->live);
  if (fixture->state_on_connect != NULL)
    {
      g_free (fixture->state);
      fixture->state = g_strdup (fixture->state_on_connect);
    }
  pm_live_stream_add_client (fixture->live, conn, msg);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  fixture->server = soup_server_new (NULL, NULL);
  soup_server_remove_websocket_extension (fixture->server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_websocket_handler (fixture->server, "/api/ws", NULL, NULL,
                                     on_log_websocket, fixture, NULL);
  soup_server_add_websocket_handler (fixture->server, "/api/ws/live", NULL, NULL,
                                     on_live_websocket, fixture, NULL);
  /* As a device listens: through the acceptor, whose streams bound what
   * a WebSocket client may send.  (libsoup 3.2.3's own listener also
   * leaks a little per connection.) */
  fixture->acceptor = pm_acceptor_new ();
  fixture->listener = pm_acceptor_listen (fixture->acceptor, fixture->server, "127.0.0.1", 0,
                                          64 * 1024, &error);
  g_assert_no_error (error);
  local = g_socket_get_local_address (fixture->listener, &error);
  g_assert_no_error (error);
  fixture->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  fixture->session = soup_session_new ();
  fixture->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  gint64 end;

  g_clear_pointer (&fixture->clients, g_ptr_array_unref);
  g_clear_object (&fixture->log);
  g_clear_object (&fixture->live);
  if (fixture->listener != NULL)
    pm_acceptor_close (fixture->acceptor, fixture->listener);
  g_clear_object (&fixture->listener);
  soup_server_disconnect (fixture->server);
  g_clear_object (&fixture->server);
  g_clear_object (&fixture->acceptor);
  g_clear_object (&fixture->session);
  g_clear_pointer (&fixture->state, g_free);

  /* Let the closes that were started finish. */
  end = g_get_monotonic_time () + 200 * MS;
  while (g_get_monotonic_time () < end && g_main_context_iteration (NULL, FALSE))
    ;
}

typedef struct
{
  Fixture *fixture;
  guint    n;
} CountWait;

static gboolean
has_log_clients (gpointer user_data)
{
  CountWait *wait = user_data;

  return pm_log_stream_get_n_clients (wait->fixture->log) == wait->n;
}

static gboolean
has_live_clients (gpointer user_data)
{
  CountWait *wait = user_data;

  return pm_live_stream_get_n_clients (wait->fixture->live) == wait->n;
}

static void
wait_log_clients (Fixture *fixture,
                  guint    n)
{
  CountWait wait = { fixture, n };

  g_assert_true (pm_test_wait_until (has_log_clients, &wait, PM_TEST_TIMEOUT_MS));
}

static void
wait_live_clients (Fixture *fixture,
                   guint    n)
{
  CountWait wait = { fixture, n };

  g_assert_true (pm_test_wait_until (has_live_clients, &wait, PM_TEST_TIMEOUT_MS));
}

/* Connects a client to @path and waits until the stream has taken it. */
static Client *
fixture_connect (Fixture    *fixture,
                 const char *path)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u%s", fixture->port, path);
  g_autoptr(GError) error = NULL;
  gboolean live = g_str_has_suffix (path, "/live");
  guint before = live ? pm_live_stream_get_n_clients (fixture->live)
                      : pm_log_stream_get_n_clients (fixture->log);
  Client *client = g_new0 (Client, 1);

  client->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  client->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_ptr_array_add (fixture->clients, client);

  client->conn = pm_test_websocket_connect (fixture->session, url, &error);
  g_assert_no_error (error);
  g_signal_connect (client->conn, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (client->conn, "closing", G_CALLBACK (on_client_closing), client);
  g_signal_connect (client->conn, "error", G_CALLBACK (on_client_error), client);
  g_signal_connect (client->conn, "closed", G_CALLBACK (on_client_closed), client);

  if (live)
    wait_live_clients (fixture, before + 1);
  else
    wait_log_clients (fixture, before + 1);
  return client;
}

/* ---- AxeOS style ---------------------------------------------------------- */

/* A log line of @length bytes or so, with a two-byte character in it so
 * that a cut inside a character would show. */
static void
append_test_line (GString *out,
                  guint    k,
                  gsize    length)
{
  gsize start = out->len;

  g_string_append_printf (out, "line %u: %.1f °C ", k, 40.0 + k % 30);
  while (out->len - start + 1 < length)
    g_string_append_c (out, (char) ('a' + (out->len - start) % 26));
  g_string_append_c (out, '\n');
}

static void
test_axeos_framing (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GString) pushed = g_string_new (NULL);
  g_autofree char *received = NULL;
  Client *client;
  BytesWait wait;
  gboolean several_lines = FALSE;
  gboolean split_line = FALSE;
  guint n_lines = 0;
  guint round;
  guint i;

  fixture->log = pm_log_stream_new (PM_LOG_STYLE_AXEOS, "axe-1", NULL);
  client = fixture_connect (fixture, "/api/ws");

  /* Several rounds, each pushed within one main loop iteration: many
   * short lines, some long enough to need more than one frame. */
  for (round = 0; round < 5; round++)
    {
      for (i = 0; i < (round == 2 ? 0 : 200); i++)
        {
          g_autoptr(GString) line = g_string_new (NULL);

          append_test_line (line, n_lines++, (i % 50 == 7) ? 9000 + i : 40 + (i * 37) % 120);
          pm_log_stream_push (fixture->log, line->str, line->len);
          g_string_append_len (pushed, line->str, line->len);
        }
      /* A two-byte character across the 4096th byte of a frame. */
      if (round == 2)
        {
          g_autoptr(GString) line = g_string_new (NULL);

          g_string_append_printf (line, "%*s°C\n", 4095, "straddle");
          pm_log_stream_push (fixture->log, line->str, line->len);
          g_string_append_len (pushed, line->str, line->len);
        }
      /* Let this round go out before the next is pushed. */
      wait = (BytesWait) { client, pushed->len };
      g_assert_true (pm_test_wait_until (has_bytes, &wait, PM_TEST_TIMEOUT_MS));
    }

  g_assert_false (client->closed);
  g_assert_cmpuint (client->bytes, ==, pushed->len);
  received = client_dup_text (client);
  g_assert_cmpstr (received, ==, pushed->str);

  for (i = 0; i < client->frames->len; i++)
    {
      gsize size;
      const char *frame = g_bytes_get_data (g_ptr_array_index (client->frames, i), &size);
      const char *p;
      guint newlines = 0;

      g_assert_cmpuint (size, >, 0);
      g_assert_cmpuint (size, <=, 4096);
      g_assert_true (g_utf8_validate_len (frame, size, NULL));
      for (p = frame; (p = memchr (p, '\n', frame + size - p)) != NULL; p++)
        newlines++;
      if (newlines >= 2)
        several_lines = TRUE;
      if (frame[size - 1] != '\n')
        split_line = TRUE;
    }
  g_test_message ("%u lines in %u frames", n_lines, client->frames->len);
  g_assert_true (several_lines);
  g_assert_true (split_line);
  g_assert_cmpuint (client->frames->len, <, n_lines);
}

static void
push_text (PmLogStream *stream,
           GString     *record,
           const char  *text)
{
  pm_log_stream_push (stream, text, strlen (text));
  if (record != NULL)
    g_string_append (record, text);
}

static void
test_axeos_no_backlog (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GString) first_expected = g_string_new (NULL);
  g_autoptr(GString) late_expected = g_string_new (NULL);
  g_autofree char *first_text = NULL;
  g_autofree char *late_text = NULL;
  Client *first;
  Client *late;
  BytesWait wait;

  fixture->log = pm_log_stream_new (PM_LOG_STYLE_AXEOS, "axe-2", NULL);

  /* Pushed while nobody listens: lost. */
  push_text (fixture->log, NULL, "I (10) main: nobody hears this\n");
  first = fixture_connect (fixture, "/api/ws");

  /* Pushed while only the first listens: some of it sent before the
   * second connects, some still waiting for the next main loop
   * iteration, some pushed in the very iteration that adds the second. */
  push_text (fixture->log, first_expected, "I (20) main: before, sent\n");
  wait = (BytesWait) { first, first_expected->len };
  g_assert_true (pm_test_wait_until (has_bytes, &wait, PM_TEST_TIMEOUT_MS));
  push_text (fixture->log, first_expected, "I (30) main: before, pending\n");
  fixture->push_on_connect = "I (35) main: as the second connects\n";
  g_string_append (first_expected, fixture->push_on_connect);
  late = fixture_connect (fixture, "/api/ws");
  fixture->push_on_connect = NULL;

  push_text (fixture->log, first_expected, "I (40) main: after\n");
  g_string_append (late_expected, "I (40) main: after\n");

  /* Everything sent to either is in once its close frame is. */
  wait = (BytesWait) { late, late_expected->len };
  g_assert_true (pm_test_wait_until (has_bytes, &wait, PM_TEST_TIMEOUT_MS));
  pm_log_stream_close_all (fixture->log, TRUE);
  client_wait_close (first);
  client_wait_close (late);

  first_text = client_dup_text (first);
  late_text = client_dup_text (late);
  g_assert_cmpstr (first_text, ==, first_expected->str);
  g_assert_cmpstr (late_text, ==, late_expected->str);
}

/* ---- NerdQAxe+ style ------------------------------------------------------ */

static void
test_nerdqaxe_newest_only (Fixture       *fixture,
                           gconstpointer  data)
{
  const char *lines = "I (1) stratum_task: one\nI (2) stratum_task: two\nW (3) stratum_task: three\n";
  g_auto(GStrv) expected = g_strsplit (lines, "\n", -1);
  Client *older;
  Client *newer;
  guint i;

  fixture->log = pm_log_stream_new (PM_LOG_STYLE_NERDQAXE, "nerd-1", NULL);
  older = fixture_connect (fixture, "/api/ws");

  /* One push of three lines: three frames, one line each. */
  pm_log_stream_push (fixture->log, lines, strlen (lines));
  client_wait_frames (older, 3);
  for (i = 0; i < 3; i++)
    {
      g_autofree char *frame = client_dup_frame (older, i);
      g_autofree char *line = g_strconcat (expected[i], "\n", NULL);

      g_assert_cmpstr (frame, ==, line);
    }

  /* The newest handshake takes the stream over. */
  newer = fixture_connect (fixture, "/api/ws");
  push_text (fixture->log, NULL, "I (4) asic_result: four\nI (5) asic_result: five\n");
  client_wait_frames (newer, 2);
  {
    g_autofree char *four = client_dup_frame (newer, 0);
    g_autofree char *five = client_dup_frame (newer, 1);

    g_assert_cmpstr (four, ==, "I (4) asic_result: four\n");
    g_assert_cmpstr (five, ==, "I (5) asic_result: five\n");
  }

  /* Once the newest is gone, the older one still gets nothing. */
  soup_websocket_connection_close (newer->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_close (newer);
  wait_log_clients (fixture, 1);
  push_text (fixture->log, NULL, "I (6) asic_result: six\n");

  pm_log_stream_close_all (fixture->log, TRUE);
  client_wait_close (older);
  g_assert_cmpuint (older->n_at_close, ==, 3);
  g_assert_cmpuint (newer->n_at_close, ==, 2);
}

/* ---- Pluto style ---------------------------------------------------------- */

static GSource *
find_source (gpointer    user_data,
             const char *name)
{
  GSource *source = g_main_context_find_source_by_user_data (NULL, user_data);

  if (source != NULL && g_strcmp0 (g_source_get_name (source), name) == 0)
    return source;
  return NULL;
}

/* Notes the ready time of the stream's tick source each time a frame
 * arrives: the tick that sent it has planned the next by then. */
typedef struct
{
  Client      *client;
  PmLogStream *stream;
  GArray      *ready;
  guint        n;
} TickWait;

static gboolean
note_ticks (gpointer user_data)
{
  TickWait *wait = user_data;

  while (wait->ready->len < wait->client->frames->len)
    {
      GSource *source = find_source (wait->stream, PM_LOG_STREAM_TICK_SOURCE_NAME);
      gint64 ready = source != NULL ? g_source_get_ready_time (source) : -1;

      g_array_append_val (wait->ready, ready);
    }
  return wait->client->frames->len >= wait->n || wait->client->closed;
}

static void
test_pluto_interval (Fixture       *fixture,
                     gconstpointer  data)
{
  const guint interval_ms = 100;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GArray) ready = g_array_new (FALSE, FALSE, sizeof (gint64));
  TickWait wait;
  Client *client;
  gint64 before;
  guint i;

  fixture->log = pm_log_stream_new (PM_LOG_STYLE_PLUTO, "pluto-1", rand);
  pm_log_stream_set_interval (fixture->log, interval_ms);
  g_assert_null (find_source (fixture->log, PM_LOG_STREAM_TICK_SOURCE_NAME));

  before = g_get_monotonic_time ();
  client = fixture_connect (fixture, "/api/ws");
  g_assert_nonnull (find_source (fixture->log, PM_LOG_STREAM_TICK_SOURCE_NAME));

  /* Pushed text is not the Pluto mock's: every frame below is JSON. */
  push_text (fixture->log, NULL, "I (1) main: ignored\n");

  wait = (TickWait) { client, fixture->log, ready, 4 };
  g_assert_true (pm_test_wait_until (note_ticks, &wait, PM_TEST_TIMEOUT_MS));
  g_assert_false (client->closed);

  for (i = 0; i < 4; i++)
    {
      g_autofree char *frame = client_dup_frame (client, i);
      g_autoptr(JsonNode) node = json_from_string (frame, NULL);
      JsonObject *object;

      g_assert_nonnull (node);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      object = json_node_get_object (node);
      g_assert_cmpuint (json_object_get_size (object), ==, 1);
      g_assert_cmpint (pm_test_log_message_index (json_object_get_string_member_with_default (object, "log", NULL)),
                       >=, 0);

      /* The k-th tick is due k intervals after the client came, which
       * was after @before: never earlier, however loaded the machine. */
      g_assert_cmpint (g_array_index (client->times, gint64, i) - before, >=,
                       (gint64) (i + 1) * interval_ms * MS);
    }

  /* Each tick planned the next from its own planned time: the planned
   * times are whole periods apart (a stall skips whole ticks). */
  for (i = 1; i < ready->len; i++)
    {
      gint64 step = g_array_index (ready, gint64, i) - g_array_index (ready, gint64, i - 1);

      /* Two frames read in one go saw the same plan. */
      if (g_array_index (ready, gint64, i - 1) < 0 || g_array_index (ready, gint64, i) < 0 || step == 0)
        continue;
      g_assert_cmpint (step, >, 0);
      g_assert_cmpint (step % (interval_ms * MS), ==, 0);
    }

  /* No timer without clients. */
  soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  client_wait_close (client);
  wait_log_clients (fixture, 0);
  g_assert_null (find_source (fixture->log, PM_LOG_STREAM_TICK_SOURCE_NAME));
}

/* ---- closing -------------------------------------------------------------- */

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static JsonObject *
get_test_state (gpointer user_data)
{
  Fixture *fixture = user_data;

  fixture->n_state_calls++;
  return parse_object (fixture->state);
}

static void
test_close_cut (Fixture       *fixture,
                gconstpointer  data)
{
  Client *clients[3];
  guint i;

  fixture->log = pm_log_stream_new (PM_LOG_STYLE_AXEOS, "axe-3", NULL);
  fixture->state = g_strdup ("{\"uptimeSeconds\":1}");
  fixture->live = pm_live_stream_new ("axe-3", get_test_state, fixture, NULL);
  clients[0] = fixture_connect (fixture, "/api/ws");
  clients[1] = fixture_connect (fixture, "/api/ws");
  clients[2] = fixture_connect (fixture, "/api/ws/live");
  client_wait_frames (clients[2], 1);

  /* As a device that reboots: the connections end, with no close frame. */
  pm_log_stream_close_all (fixture->log, FALSE);
  pm_live_stream_close_all (fixture->live, FALSE);
  g_assert_cmpuint (pm_log_stream_get_n_clients (fixture->log), ==, 0);
  g_assert_cmpuint (pm_live_stream_get_n_clients (fixture->live), ==, 0);
  g_assert_null (find_source (fixture->live, PM_LIVE_STREAM_TICK_SOURCE_NAME));

  for (i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      client_wait_close (clients[i]);
      /* libsoup says "no close frame came" with close code 0; a browser
       * says 1006 (SOUP_WEBSOCKET_CLOSE_ABNORMAL). */
      g_assert_cmpuint (clients[i]->n_closing, ==, 0);
      g_assert_cmpuint (soup_websocket_connection_get_close_code (clients[i]->conn), ==, 0);
      g_assert_null (soup_websocket_connection_get_close_data (clients[i]->conn));
    }
}

static void
test_close_clean (Fixture       *fixture,
                  gconstpointer  data)
{
  Client *clients[2];
  guint i;

  fixture->log = pm_log_stream_new (PM_LOG_STYLE_NERDQAXE, "nerd-2", NULL);
  fixture->state = g_strdup ("{\"uptimeSeconds\":1}");
  fixture->live = pm_live_stream_new ("nerd-2", get_test_state, fixture, NULL);
  clients[0] = fixture_connect (fixture, "/api/ws");
  clients[1] = fixture_connect (fixture, "/api/ws/live");

  pm_log_stream_close_all (fixture->log, TRUE);
  pm_live_stream_close_all (fixture->live, TRUE);
  g_assert_cmpuint (pm_log_stream_get_n_clients (fixture->log), ==, 0);
  g_assert_cmpuint (pm_live_stream_get_n_clients (fixture->live), ==, 0);

  for (i = 0; i < G_N_ELEMENTS (clients); i++)
    {
      client_wait_close (clients[i]);
      g_assert_cmpuint (clients[i]->n_closing, ==, 1);
      g_assert_cmpuint (soup_websocket_connection_get_close_code (clients[i]->conn), ==,
                        SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
      g_assert_cmpstr (soup_websocket_connection_get_close_data (clients[i]->conn), ==,
                       "device stopped");
    }
}

/* A log or live client that sends more than it may in one message is
 * closed with 1009; the others go on. */
static void
test_limits (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *big = g_strnfill (PM_LIMIT_WS_MESSAGE_BYTES + 1, 'x');
  g_autofree char *text = NULL;
  Client *talkers[2];
  Client *listener;
  BytesWait wait;
  const char *line = "I (5) stratum_task: still here\n";
  guint i;

  fixture->log = pm_log_stream_new (PM_LOG_STYLE_AXEOS, "axe-5", NULL);
  fixture->state = g_strdup ("{\"uptimeSeconds\":1}");
  fixture->live = pm_live_stream_new ("axe-5", get_test_state, fixture, NULL);
  talkers[0] = fixture_connect (fixture, "/api/ws");
  talkers[1] = fixture_connect (fixture, "/api/ws/live");
  listener = fixture_connect (fixture, "/api/ws");

  /* The close frame is enough: the server, which reads no more from
   * these clients, lets their connections go only after libsoup's
   * timeout. */
  for (i = 0; i < G_N_ELEMENTS (talkers); i++)
    {
      soup_websocket_connection_send_text (talkers[i]->conn, big);
      g_assert_true (pm_test_wait_until (client_is_closing, talkers[i], PM_TEST_TIMEOUT_MS));
      g_assert_cmpuint (soup_websocket_connection_get_close_code (talkers[i]->conn), ==,
                        SOUP_WEBSOCKET_CLOSE_TOO_BIG);
    }

  push_text (fixture->log, NULL, line);
  wait = (BytesWait) { listener, strlen (line) };
  g_assert_true (pm_test_wait_until (has_bytes, &wait, PM_TEST_TIMEOUT_MS));
  text = client_dup_text (listener);
  g_assert_cmpstr (text, ==, line);
  g_assert_cmpuint (listener->n_closing, ==, 0);
}

/* ---- live stream ---------------------------------------------------------- */

/* The data of an update frame. */
static JsonNode *
update_data (Client *client,
             guint   k)
{
  g_autofree char *frame = client_dup_frame (client, k);
  g_autoptr(JsonObject) object = parse_object (frame);
  JsonNode *data;

  g_assert_cmpuint (json_object_get_size (object), ==, 2);
  g_assert_cmpstr (json_object_get_string_member_with_default (object, "event", NULL), ==, "update");
  data = json_object_get_member (object, "data");
  g_assert_nonnull (data);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (data));
  return json_node_copy (data);
}

static void
assert_update (Client     *client,
               guint       k,
               const char *expected)
{
  g_autoptr(JsonNode) data = update_data (client, k);
  g_autoptr(JsonNode) want = json_from_string (expected, NULL);

  if (!json_node_equal (data, want))
    {
      g_autofree char *got = json_to_string (data, FALSE);

      g_error ("frame %u: data %s, expected %s", k, got, expected);
    }
}

typedef struct
{
  Fixture *fixture;
  guint    calls;
  gint64   until;
} LookWait;

static gboolean
has_looked (gpointer user_data)
{
  LookWait *wait = user_data;

  return wait->fixture->n_state_calls >= wait->calls && g_get_monotonic_time () >= wait->until;
}

static void
set_state (Fixture    *fixture,
           const char *state)
{
  g_free (fixture->state);
  fixture->state = g_strdup (state);
}

static void
test_live_updates (Fixture       *fixture,
                   gconstpointer  data)
{
  Client *first;
  Client *second;
  LookWait look;

  set_state (fixture, "{\"hostname\":\"axe-4\",\"uptimeSeconds\":10,\"temp\":55.5,"
                      "\"hashrateMonitor\":{\"hashrate\":1000.5,\"asics\":{\"a\":1,\"b\":2}},"
                      "\"sharesRejectedReasons\":[{\"message\":\"Above target\",\"count\":1}],"
                      "\"power_fault\":\"VIN low\"}");
  fixture->live = pm_live_stream_new ("axe-4", get_test_state, fixture, NULL);
  g_assert_cmpuint (pm_live_stream_get_interval (fixture->live), ==, 500);
  g_assert_null (find_source (fixture->live, PM_LIVE_STREAM_TICK_SOURCE_NAME));

  first = fixture_connect (fixture, "/api/ws/live");
  g_assert_nonnull (find_source (fixture->live, PM_LIVE_STREAM_TICK_SOURCE_NAME));
  client_wait_frames (first, 1);
  assert_update (first, 0, fixture->state);

  /* Nothing changes for more than a second, over at least two looks:
   * no frame.  The next frame, the first change, shows it, since frames
   * come in order. */
  look = (LookWait) { fixture, fixture->n_state_calls + 2, g_get_monotonic_time () + 1100 * MS };
  g_assert_true (pm_test_wait_until (has_looked, &look, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (first->frames->len, ==, 1);

  /* A top-level change, a nested one, a member gone, an array and a
   * nested object unchanged. */
  set_state (fixture, "{\"hostname\":\"axe-4\",\"uptimeSeconds\":11,\"temp\":55.5,"
                      "\"hashrateMonitor\":{\"hashrate\":1001.25,\"asics\":{\"a\":1,\"b\":2}},"
                      "\"sharesRejectedReasons\":[{\"message\":\"Above target\",\"count\":1}]}");
  client_wait_frames (first, 2);
  assert_update (first, 1, "{\"uptimeSeconds\":11,\"hashrateMonitor\":{\"hashrate\":1001.25}}");

  /* An array element changes: the array comes whole.  55.5 as 55.50 is
   * no change. */
  set_state (fixture, "{\"hostname\":\"axe-4\",\"uptimeSeconds\":11,\"temp\":55.50,"
                      "\"hashrateMonitor\":{\"hashrate\":1001.25,\"asics\":{\"a\":1,\"b\":3}},"
                      "\"sharesRejectedReasons\":[{\"message\":\"Above target\",\"count\":2}]}");
  client_wait_frames (first, 3);
  assert_update (first, 2, "{\"hashrateMonitor\":{\"asics\":{\"b\":3}},"
                           "\"sharesRejectedReasons\":[{\"message\":\"Above target\",\"count\":2}]}");

  /* A client that comes later starts with the full state, here one that
   * changed just before it came: the first client still gets that
   * change.  (So does the later one, again: there is one previous state
   * for all, as in the firmware.) */
  fixture->state_on_connect = "{\"hostname\":\"axe-4\",\"uptimeSeconds\":12,\"temp\":55.5,"
                              "\"hashrateMonitor\":{\"hashrate\":1001.25,\"asics\":{\"a\":1,\"b\":3}},"
                              "\"sharesRejectedReasons\":[{\"message\":\"Above target\",\"count\":2}]}";
  second = fixture_connect (fixture, "/api/ws/live");
  fixture->state_on_connect = NULL;
  client_wait_frames (second, 1);
  assert_update (second, 0, fixture->state);
  client_wait_frames (first, 4);
  assert_update (first, 3, "{\"uptimeSeconds\":12}");
  client_wait_frames (second, 2);
  assert_update (second, 1, "{\"uptimeSeconds\":12}");

  set_state (fixture, "{\"hostname\":\"axe-4\",\"uptimeSeconds\":13,\"temp\":55.5,"
                      "\"hashrateMonitor\":{\"hashrate\":1001.25,\"asics\":{\"a\":1,\"b\":3}},"
                      "\"sharesRejectedReasons\":[{\"message\":\"Above target\",\"count\":2}]}");
  client_wait_frames (first, 5);
  client_wait_frames (second, 3);
  assert_update (first, 4, "{\"uptimeSeconds\":13}");
  assert_update (second, 2, "{\"uptimeSeconds\":13}");

  pm_live_stream_close_all (fixture->live, TRUE);
  client_wait_close (first);
  client_wait_close (second);
  g_assert_cmpuint (first->n_at_close, ==, 5);
  g_assert_cmpuint (second->n_at_close, ==, 3);
  g_assert_null (find_source (fixture->live, PM_LIVE_STREAM_TICK_SOURCE_NAME));
}

/* ---- pm_json_diff --------------------------------------------------------- */

/* The diff of two documents, as JSON text, or NULL. */
static char *
diff_text (const char *old,
           const char *new)
{
  g_autoptr(JsonObject) old_object = old != NULL ? parse_object (old) : NULL;
  g_autoptr(JsonObject) new_object = parse_object (new);
  g_autoptr(JsonObject) diff = pm_json_diff (old_object, new_object);
  g_autoptr(JsonNode) node = NULL;

  if (diff == NULL)
    return NULL;
  g_assert_cmpuint (json_object_get_size (diff), >, 0);
  node = json_node_init_object (json_node_alloc (), diff);
  return json_to_string (node, FALSE);
}

static void
assert_diff (const char *old,
             const char *new,
             const char *expected)
{
  g_autofree char *got = diff_text (old, new);

  if (expected == NULL)
    {
      g_assert_null (got);
    }
  else
    {
      g_autoptr(JsonNode) got_node = NULL;
      g_autoptr(JsonNode) want_node = json_from_string (expected, NULL);

      g_assert_nonnull (got);
      got_node = json_from_string (got, NULL);
      if (!json_node_equal (got_node, want_node))
        g_error ("diff of %s and %s: %s, expected %s", old, new, got, expected);
    }
}

static void
test_json_diff_no_change (void)
{
  assert_diff ("{}", "{}", NULL);
  assert_diff ("{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":null,\"e\":[1,[2]],\"f\":{\"g\":{}}}",
               "{\"f\":{\"g\":{}},\"e\":[1,[2]],\"d\":null,\"c\":true,\"b\":\"x\",\"a\":1}", NULL);
  /* Numbers by value. */
  assert_diff ("{\"a\":1,\"b\":2.5,\"c\":[3]}", "{\"a\":1.0,\"b\":2.50,\"c\":[3.0]}", NULL);
  assert_diff ("{\"a\":1.0}", "{\"a\":1}", NULL);
}

static void
test_json_diff_values (void)
{
  assert_diff ("{\"a\":1,\"b\":\"x\"}", "{\"a\":2,\"b\":\"x\"}", "{\"a\":2}");
  assert_diff ("{\"a\":1}", "{\"a\":1.5}", "{\"a\":1.5}");
  assert_diff ("{\"a\":\"1\"}", "{\"a\":1}", "{\"a\":1}");
  assert_diff ("{\"a\":true}", "{\"a\":false}", "{\"a\":false}");
  assert_diff ("{\"a\":null}", "{\"a\":0}", "{\"a\":0}");
  assert_diff ("{\"a\":0}", "{\"a\":null}", "{\"a\":null}");
  /* A member that appears is a change. */
  assert_diff ("{\"a\":1}", "{\"a\":1,\"b\":{\"c\":1}}", "{\"b\":{\"c\":1}}");
  /* Everything, from nothing. */
  assert_diff (NULL, "{\"a\":1,\"b\":[2]}", "{\"a\":1,\"b\":[2]}");
}

static void
test_json_diff_removed (void)
{
  /* Members that disappear are not signalled, at any depth. */
  assert_diff ("{\"a\":1,\"power_fault\":\"VIN low\"}", "{\"a\":1}", NULL);
  assert_diff ("{\"m\":{\"x\":1,\"y\":2}}", "{\"m\":{\"x\":1}}", NULL);
  assert_diff ("{\"a\":1,\"gone\":2}", "{\"a\":3}", "{\"a\":3}");
}

static void
test_json_diff_nested (void)
{
  assert_diff ("{\"m\":{\"x\":1,\"y\":2,\"z\":{\"p\":1,\"q\":2}},\"n\":{\"k\":1}}",
               "{\"m\":{\"x\":1,\"y\":3,\"z\":{\"p\":1,\"q\":5}},\"n\":{\"k\":1}}",
               "{\"m\":{\"y\":3,\"z\":{\"q\":5}}}");
  /* A new member inside. */
  assert_diff ("{\"m\":{\"x\":1}}", "{\"m\":{\"x\":1,\"w\":[1]}}", "{\"m\":{\"w\":[1]}}");
  /* An object that was something else comes whole. */
  assert_diff ("{\"m\":5}", "{\"m\":{\"x\":1}}", "{\"m\":{\"x\":1}}");
  assert_diff ("{\"m\":{\"x\":1}}", "{\"m\":[1]}", "{\"m\":[1]}");
}

static void
test_json_diff_arrays (void)
{
  /* An array that differs in any way comes whole. */
  assert_diff ("{\"a\":[1,2,3],\"b\":[1]}", "{\"a\":[1,2,4],\"b\":[1]}", "{\"a\":[1,2,4]}");
  assert_diff ("{\"a\":[1,2,3]}", "{\"a\":[1,2]}", "{\"a\":[1,2]}");
  assert_diff ("{\"a\":[1,2]}", "{\"a\":[2,1]}", "{\"a\":[2,1]}");
  assert_diff ("{\"a\":[{\"x\":1,\"y\":2}]}", "{\"a\":[{\"x\":1,\"y\":3}]}",
               "{\"a\":[{\"x\":1,\"y\":3}]}");
  assert_diff ("{\"a\":[{\"x\":1,\"y\":2}]}", "{\"a\":[{\"y\":2,\"x\":1}]}", NULL);
  assert_diff ("{\"a\":[{\"x\":1,\"y\":2}]}", "{\"a\":[{\"x\":1}]}", "{\"a\":[{\"x\":1}]}");
  assert_diff ("{\"a\":[[1]]}", "{\"a\":[[1.0]]}", NULL);
}

/* ---- ESP-IDF log lines ---------------------------------------------------- */

static void
assert_matches (const char *pattern,
                const char *text)
{
  if (!g_regex_match_simple (pattern, text, G_REGEX_DOTALL, 0))
    g_error ("%s does not match %s", g_strescape (text, "°"), pattern);
}

static void
test_esp_log_line (void)
{
  static const struct
  {
    char        level;
    const char *colour;
  } levels[] = {
    { 'I', "0;32" },
    { 'W', "0;33" },
    { 'E', "0;31" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      g_autoptr(GString) out = g_string_new ("before\n");
      g_autofree char *pattern = g_strdup_printf ("^before\n\x1b\\[%sm%c \\(123456\\) stratum_task: "
                                                  "Share accepted\x1b\\[0m\n$",
                                                  levels[i].colour, levels[i].level);

      pm_esp_log_append_line (out, levels[i].level, 123456, "stratum_task", "Share accepted", TRUE);
      assert_matches (pattern, out->str);
    }

  {
    g_autoptr(GString) out = g_string_new (NULL);

    /* D has no colour of its own. */
    pm_esp_log_append_line (out, 'D', 7, "asic", "detail", TRUE);
    assert_matches ("^D \\(7\\) asic: detail(\x1b\\[0m)?\n$", out->str);
    g_string_truncate (out, 0);

    /* Without colours, no escape at all. */
    pm_esp_log_append_line (out, 'E', 98765, "power_management", "Temp: 90.1 °C", FALSE);
    g_assert_cmpstr (out->str, ==, "E (98765) power_management: Temp: 90.1 °C\n");
  }
}

/* One line of an ESP-IDF log, and what it says. */
#define LINE_PATTERN "^(\x1b\\[0;3([123])m)?([IWED]) \\(([0-9]+)\\) ([a-z_]+): (.+?)(\x1b\\[0m)?$"

typedef struct
{
  char  level;
  char *tag;
  char *message;
} Line;

static void
line_clear (Line *line)
{
  g_free (line->tag);
  g_free (line->message);
}

/* Splits @text into lines, checking each one's form, colour and time. */
static GArray *
parse_lines (const char *text,
             gint64      ms,
             gboolean    colours)
{
  g_autoptr(GRegex) regex = g_regex_new (LINE_PATTERN, 0, 0, NULL);
  g_auto(GStrv) lines = NULL;
  GArray *parsed = g_array_new (FALSE, TRUE, sizeof (Line));
  g_autofree char *stamp = g_strdup_printf ("%" G_GINT64_FORMAT, ms);
  guint i;

  g_array_set_clear_func (parsed, (GDestroyNotify) line_clear);
  g_assert_true (g_str_has_suffix (text, "\n"));
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i + 1] != NULL; i++)
    {
      g_autoptr(GMatchInfo) match = NULL;
      g_autofree char *colour = NULL;
      g_autofree char *level = NULL;
      g_autofree char *time = NULL;
      g_autofree char *reset = NULL;
      Line line;

      if (!g_regex_match (regex, lines[i], 0, &match))
        g_error ("not a log line: %s", g_strescape (lines[i], "°"));
      colour = g_match_info_fetch (match, 2);
      level = g_match_info_fetch (match, 3);
      time = g_match_info_fetch (match, 4);
      reset = g_match_info_fetch (match, 7);
      g_assert_cmpstr (time, ==, stamp);
      if (colours && level[0] != 'D')
        {
          const char *want = level[0] == 'E' ? "1" : level[0] == 'W' ? "3" : "2";

          g_assert_cmpstr (colour, ==, want);
          g_assert_cmpstr (reset, ==, "\x1b[0m");
        }
      else if (!colours)
        {
          g_assert_cmpstr (colour, ==, "");
          g_assert_cmpstr (reset, ==, "");
        }
      line.level = level[0];
      line.tag = g_match_info_fetch (match, 5);
      line.message = g_match_info_fetch (match, 6);
      g_array_append_val (parsed, line);
    }
  g_assert_cmpuint (parsed->len, >, 0);
  return parsed;
}

static GArray *
event_lines (PmMinerEventKind kind,
             gint64           ms,
             double           value,
             const char      *reason,
             gboolean         colours)
{
  PmMinerEvent event = { ms, kind, value, reason };
  g_autoptr(GString) out = g_string_new (NULL);

  pm_esp_log_append_event (out, &event, colours);
  g_test_message ("%s", out->str);
  return parse_lines (out->str, ms, colours);
}

static const Line *
find_line (GArray     *lines,
           const char *tag)
{
  guint i;

  for (i = 0; i < lines->len; i++)
    {
      const Line *line = &g_array_index (lines, Line, i);

      if (strcmp (line->tag, tag) == 0)
        return line;
    }
  g_error ("no line from %s", tag);
  return NULL;
}

static void
test_esp_log_events (void)
{
  gboolean colours;

  for (colours = FALSE; colours <= TRUE; colours++)
    {
      g_autoptr(GArray) boot = event_lines (PM_MINER_EVENT_BOOT, 350, 0, NULL, colours);
      g_autoptr(GArray) job = event_lines (PM_MINER_EVENT_NEW_JOB, 61234, 0x1a2b, NULL, colours);
      g_autoptr(GArray) found = event_lines (PM_MINER_EVENT_SHARE_FOUND, 62000, 1234.5, NULL, colours);
      g_autoptr(GArray) found_again = event_lines (PM_MINER_EVENT_SHARE_FOUND, 62000, 1234.5, NULL, colours);
      g_autoptr(GArray) found_other = event_lines (PM_MINER_EVENT_SHARE_FOUND, 62001, 1234.5, NULL, colours);
      g_autoptr(GArray) accepted = event_lines (PM_MINER_EVENT_SHARE_ACCEPTED, 62150, 1234.5, NULL, colours);
      g_autoptr(GArray) rejected = event_lines (PM_MINER_EVENT_SHARE_REJECTED, 62151, 777.25, "Above target", colours);
      g_autoptr(GArray) temp = event_lines (PM_MINER_EVENT_TEMPERATURE, 63000, 58.3, NULL, colours);
      g_autoptr(GArray) hot = event_lines (PM_MINER_EVENT_TEMPERATURE, 63001, 75.04, NULL, colours);
      g_autoptr(GArray) frequency = event_lines (PM_MINER_EVENT_FREQUENCY, 64000, 525, NULL, colours);
      g_autoptr(GArray) best = event_lines (PM_MINER_EVENT_NEW_BEST, 65000, 98765.4, NULL, colours);
      const Line *line;

      g_assert_cmpuint (boot->len, >=, 2);

      line = find_line (job, "stratum_task");
      g_assert_cmpint (line->level, ==, 'I');
      assert_matches ("^Mining\\.notify: New job .*\\b1a2b\\b", line->message);
      find_line (job, "create_jobs_task");

      line = find_line (found, "asic_result");
      assert_matches ("^Ver: [0-9A-F]{8} Nonce [0-9A-F]{8} diff 1234\\.5( |$)", line->message);
      /* The same event, the same line; another event, another nonce. */
      g_assert_cmpstr (line->message, ==, find_line (found_again, "asic_result")->message);
      g_assert_cmpstr (line->message, !=, find_line (found_other, "asic_result")->message);

      line = find_line (accepted, "stratum_task");
      g_assert_cmpint (line->level, ==, 'I');
      assert_matches ("^Share accepted\\b.*\\b1234\\.5\\b", line->message);

      line = find_line (rejected, "stratum_task");
      g_assert_cmpint (line->level, ==, 'W');
      assert_matches ("^Share rejected: Above target\\b.*\\b777\\.2[05]?\\b", line->message);

      line = find_line (temp, "power_management");
      g_assert_cmpint (line->level, ==, 'I');
      assert_matches ("^Temp: 58\\.3 °C$", line->message);
      line = find_line (hot, "power_management");
      g_assert_cmpint (line->level, ==, 'W');
      assert_matches ("^Temp: 75\\.0 °C", line->message);

      g_assert_cmpuint (frequency->len, ==, 1);
      assert_matches ("\\b525(\\.0+)? MHz$", g_array_index (frequency, Line, 0).message);

      g_assert_cmpuint (best->len, ==, 1);
      assert_matches ("\\b98765(\\.4)?$", g_array_index (best, Line, 0).message);
    }
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/log-stream/axeos/framing", Fixture, NULL,
              fixture_setup, test_axeos_framing, fixture_teardown);
  g_test_add ("/log-stream/axeos/no-backlog", Fixture, NULL,
              fixture_setup, test_axeos_no_backlog, fixture_teardown);
  g_test_add ("/log-stream/nerdqaxe/newest-only", Fixture, NULL,
              fixture_setup, test_nerdqaxe_newest_only, fixture_teardown);
  g_test_add ("/log-stream/pluto/interval", Fixture, NULL,
              fixture_setup, test_pluto_interval, fixture_teardown);
  g_test_add ("/log-stream/close/cut", Fixture, NULL,
              fixture_setup, test_close_cut, fixture_teardown);
  g_test_add ("/log-stream/close/clean", Fixture, NULL,
              fixture_setup, test_close_clean, fixture_teardown);
  g_test_add ("/log-stream/limits", Fixture, NULL,
              fixture_setup, test_limits, fixture_teardown);
  g_test_add ("/live-stream/updates", Fixture, NULL,
              fixture_setup, test_live_updates, fixture_teardown);
  g_test_add_func ("/json-diff/no-change", test_json_diff_no_change);
  g_test_add_func ("/json-diff/values", test_json_diff_values);
  g_test_add_func ("/json-diff/removed", test_json_diff_removed);
  g_test_add_func ("/json-diff/nested", test_json_diff_nested);
  g_test_add_func ("/json-diff/arrays", test_json_diff_arrays);
  g_test_add_func ("/esp-log/line", test_esp_log_line);
  g_test_add_func ("/esp-log/events", test_esp_log_events);

  return g_test_run ();
}
