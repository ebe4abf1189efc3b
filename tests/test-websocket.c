/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-websocket"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "pm-device.h"
#include "pm-test-util.h"

/* In-process tests of the fake log stream that a PmDevice serves on
 * /api/ws: the frames, their period, several clients, clients that leave
 * or get stuck, and how restart and stop treat open WebSockets. */

#define MS (G_GINT64_CONSTANT (1000))

/* ---- fixture ------------------------------------------------------------ */

/* One WebSocket client and what it has received. */
typedef struct
{
  SoupWebsocketConnection *conn;       /* (owned) */
  GPtrArray               *texts;      /* (element-type utf8) */
  GArray                  *times;      /* (element-type gint64) monotonic µs */
  gint64                   connected;  /* monotonic µs */
  guint                    n_binary;
  gboolean                 closed;
  gushort                  close_code;
} Client;

typedef struct
{
  PmAcceptor  *acceptor;
  SoupSession *session;
  GPtrArray   *devices;  /* (element-type PmDevice) */
  GPtrArray   *clients;  /* (element-type Client) */
} Fixture;

static void
on_client_message (SoupWebsocketConnection *conn,
                   SoupWebsocketDataType    type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  Client *client = user_data;
  gint64 now = g_get_monotonic_time ();
  gsize size;
  const char *data = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    client->n_binary++;
  g_ptr_array_add (client->texts, g_strndup (data != NULL ? data : "", size));
  g_array_append_val (client->times, now);
}

static void
on_client_closed (SoupWebsocketConnection *conn,
                  gpointer                 user_data)
{
  Client *client = user_data;

  client->closed = TRUE;
  client->close_code = soup_websocket_connection_get_close_code (conn);
}

static void
client_free (Client *client)
{
  if (client->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->conn, client);
      g_clear_object (&client->conn);
    }
  g_ptr_array_unref (client->texts);
  g_array_unref (client->times);
  g_free (client);
}

static void
client_clear (Client *client)
{
  g_ptr_array_set_size (client->texts, 0);
  g_array_set_size (client->times, 0);
}

/* Wraps @conn (transfer full) in a client owned by @fixture. */
static Client *
fixture_add_client (Fixture                 *fixture,
                    SoupWebsocketConnection *conn)
{
  Client *client = g_new0 (Client, 1);

  client->conn = conn;
  client->texts = g_ptr_array_new_with_free_func (g_free);
  client->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  client->connected = g_get_monotonic_time ();
  g_signal_connect (conn, "message", G_CALLBACK (on_client_message), client);
  g_signal_connect (conn, "closed", G_CALLBACK (on_client_closed), client);
  g_ptr_array_add (fixture->clients, client);
  return client;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  fixture->acceptor = pm_acceptor_new ();
  fixture->session = soup_session_new ();
  fixture->devices = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
}

static gboolean
all_clients_closed (gpointer user_data)
{
  Fixture *fixture = user_data;
  guint i;

  for (i = 0; i < fixture->clients->len; i++)
    {
      Client *client = g_ptr_array_index (fixture->clients, i);

      if (soup_websocket_connection_get_state (client->conn) != SOUP_WEBSOCKET_STATE_CLOSED)
        return FALSE;
    }
  return TRUE;
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  guint i;

  for (i = 0; i < fixture->devices->len; i++)
    pm_device_stop (g_ptr_array_index (fixture->devices, i));
  /* Let the clients see their close frames before they go. */
  pm_test_wait_until (all_clients_closed, fixture, 2000);

  g_clear_pointer (&fixture->clients, g_ptr_array_unref);
  g_clear_pointer (&fixture->devices, g_ptr_array_unref);
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->acceptor);
}

/* A started device on 127.0.0.1 with a kernel-picked port; @interval_ms 0
 * keeps the default period. */
static PmDevice *
fixture_add_device (Fixture    *fixture,
                    const char *hostname,
                    gboolean    logs_enabled,
                    guint       interval_ms)
{
  g_autoptr(GError) error = NULL;
  PmDevice *device;

  if (interval_ms > 0)
    device = g_object_new (PM_TYPE_DEVICE,
                           "acceptor", fixture->acceptor,
                           "port", 0,
                           "hostname", hostname,
                           "api-version", PM_API_VERSION_LEGACY,
                           "logs-enabled", logs_enabled,
                           "seed", (guint64) 1,
                           "log-interval", interval_ms,
                           NULL);
  else
    device = g_object_new (PM_TYPE_DEVICE,
                           "acceptor", fixture->acceptor,
                           "port", 0,
                           "hostname", hostname,
                           "api-version", PM_API_VERSION_LEGACY,
                           "logs-enabled", logs_enabled,
                           "seed", (guint64) 1,
                           NULL);

  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pm_device_get_port (device), >, 0);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 0);
  g_ptr_array_add (fixture->devices, device);
  return device;
}

static char *
device_url (PmDevice   *device,
            const char *scheme,
            const char *path)
{
  return g_strdup_printf ("%s://127.0.0.1:%u%s", scheme, pm_device_get_port (device), path);
}

/* Connects a new client to the device's /api/ws; fails the test if that
 * does not work. */
static Client *
fixture_connect (Fixture  *fixture,
                 PmDevice *device)
{
  g_autofree char *url = device_url (device, "ws", "/api/ws");
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn = pm_test_websocket_connect (fixture->session, url, &error);

  g_assert_no_error (error);
  g_assert_nonnull (conn);
  g_assert_cmpint (soup_websocket_connection_get_state (conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  return fixture_add_client (fixture, conn);
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

typedef struct
{
  Client *client;
  guint   n;
} FramesWait;

static gboolean
has_frames (gpointer user_data)
{
  FramesWait *wait = user_data;

  return wait->client->texts->len >= wait->n;
}

static gboolean
wait_frames (Client *client,
             guint   n,
             guint   timeout_ms)
{
  FramesWait wait = { client, n };

  return pm_test_wait_until (has_frames, &wait, timeout_ms);
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
                guint     n,
                guint     timeout_ms)
{
  ClientsWait wait = { device, n };

  return pm_test_wait_until (has_n_clients, &wait, timeout_ms);
}

static gboolean
client_is_closed (gpointer user_data)
{
  return ((Client *) user_data)->closed;
}

/* ---- checks ------------------------------------------------------------- */

static gint64
frame_time (Client *client,
            guint   i)
{
  return g_array_index (client->times, gint64, i);
}

static const char *
frame_text (Client *client,
            guint   i)
{
  return g_ptr_array_index (client->texts, i);
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

/* Asserts that frames @first .. @first + @n - 1 of @client are
 * @interval_ms apart (± @gap_tolerance_ms each) and that frame k arrives
 * k periods after frame @first (± @drift_tolerance_ms), so no delay adds
 * up. */
static void
assert_period (Client *client,
               guint   first,
               guint   n,
               guint   interval_ms,
               guint   gap_tolerance_ms,
               guint   drift_tolerance_ms)
{
  gint64 worst_gap = 0;
  gint64 worst_offset = 0;
  gint64 t0;
  guint k;

  g_assert_cmpuint (client->times->len, >=, first + n);
  t0 = frame_time (client, first);
  for (k = 1; k < n; k++)
    {
      gint64 gap = frame_time (client, first + k) - frame_time (client, first + k - 1);
      gint64 offset = frame_time (client, first + k) - t0 - (gint64) k * interval_ms * MS;

      worst_gap = MAX (worst_gap, ABS (gap - (gint64) interval_ms * MS));
      worst_offset = MAX (worst_offset, ABS (offset));
      if (ABS (gap - (gint64) interval_ms * MS) > (gint64) gap_tolerance_ms * MS ||
          ABS (offset) > (gint64) drift_tolerance_ms * MS)
        g_test_message ("frame %u: gap %.1f ms, offset from plan %+.1f ms",
                        first + k, gap / 1000.0, offset / 1000.0);
      g_assert_cmpint (gap, >=, (gint64) (interval_ms - gap_tolerance_ms) * MS);
      g_assert_cmpint (gap, <=, (gint64) (interval_ms + gap_tolerance_ms) * MS);
      g_assert_cmpint (offset, >=, -(gint64) drift_tolerance_ms * MS);
      g_assert_cmpint (offset, <=, (gint64) drift_tolerance_ms * MS);
    }
  g_test_message ("%u frames %u ms apart: gaps off by at most %.1f ms, frames off the plan "
                  "by at most %.1f ms", n, interval_ms, worst_gap / 1000.0, worst_offset / 1000.0);
}

/* Checks that @client's first frame came @interval_ms after the connect,
 * give or take @tolerance_ms: the first tick is due one period after the
 * client arrived. */
static void
assert_first_frame (Client *client,
                    guint   interval_ms,
                    guint   tolerance_ms)
{
  gint64 first = frame_time (client, 0) - client->connected;

  g_test_message ("first frame %.1f ms after the connect", first / 1000.0);
  g_assert_cmpint (first, >=, (gint64) (interval_ms - tolerance_ms) * MS);
  g_assert_cmpint (first, <=, (gint64) (interval_ms + tolerance_ms) * MS);
}

/* Returns the index of @client's frame nearest @when within @window_ms,
 * or -1. */
static int
frame_near (Client *client,
            gint64  when,
            guint   window_ms)
{
  int best = -1;
  gint64 best_distance = G_MAXINT64;
  guint i;

  for (i = 0; i < client->times->len; i++)
    {
      gint64 distance = ABS (frame_time (client, i) - when);

      if (distance <= (gint64) window_ms * MS && distance < best_distance)
        {
          best = (int) i;
          best_distance = distance;
        }
    }
  return best;
}

/* Asserts that every frame of @a from @first_a on has a frame of @b from
 * the same tick (within a quarter period) with the same text; returns how
 * many were paired. */
static guint
assert_same_ticks (Client *a,
                   guint   first_a,
                   Client *b,
                   guint   interval_ms)
{
  guint i;
  guint n = 0;

  for (i = first_a; i < a->texts->len; i++)
    {
      int j = frame_near (b, frame_time (a, i), interval_ms / 4);

      if (j < 0)
        g_error ("Frame %u (%s) of one client has no frame of the same tick in the other",
                 i, frame_text (a, i));
      g_assert_cmpstr (frame_text (b, (guint) j), ==, frame_text (a, i));
      n++;
    }
  return n;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_frames (Fixture       *fixture,
             gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  g_autofree char *url = device_url (device, "ws", "/api/ws");
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GError) error = NULL;
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
  client = fixture_add_client (fixture, conn);
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

  g_assert_true (wait_frames (client, 5, 3000));
  g_assert_cmpuint (client->n_binary, ==, 0);
  for (i = 0; i < client->texts->len; i++)
    assert_log_frame (frame_text (client, i));
  g_assert_cmpint (soup_websocket_connection_get_state (conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
}

static void
test_period_short (Fixture       *fixture,
                   gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  Client *client = fixture_connect (fixture, device);

  g_assert_true (wait_frames (client, 10, 4000));
  g_assert_cmpuint (client->n_binary, ==, 0);
  assert_first_frame (client, 200, 40);
  assert_period (client, 0, 10, 200, 30, 40);
}

static void
test_period_real (Fixture       *fixture,
                  gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 0);
  Client *client = fixture_connect (fixture, device);
  guint interval = 0;

  g_object_get (device, "log-interval", &interval, NULL);
  g_assert_cmpuint (interval, ==, 5000);

  g_assert_true (wait_frames (client, 3, 17000));
  g_assert_cmpuint (client->n_binary, ==, 0);
  assert_log_frame (frame_text (client, 0));
  assert_first_frame (client, 5000, 300);
  assert_period (client, 0, 3, 5000, 300, 300);
}

static void
test_two_clients (Fixture       *fixture,
                  gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  Client *a = fixture_connect (fixture, device);
  Client *b = fixture_connect (fixture, device);
  Client *c;
  g_autoptr(GError) error = NULL;
  guint mark;

  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);

  /* Both get the same frame on every tick. */
  g_assert_true (wait_frames (a, 2, 2000));
  client_clear (a);
  client_clear (b);
  g_assert_true (wait_frames (a, 4, 2000));
  g_assert_true (wait_frames (b, 4, 2000));
  /* The first frame of a may be from a tick b got just before the clear. */
  g_assert_cmpuint (assert_same_ticks (a, 1, b, 200), >=, 3);

  /* A leaves properly; B goes on at the same pace. */
  soup_websocket_connection_close (a->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_assert_true (pm_test_wait_until (client_is_closed, a, 2000));
  g_assert_cmpuint (a->close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  g_assert_true (wait_n_clients (device, 1, 2000));
  mark = b->texts->len;
  g_assert_true (wait_frames (b, mark + 3, 2000));
  assert_period (b, mark, 3, 200, 30, 40);

  /* C vanishes without a close frame: the device drops it, B goes on. */
  c = fixture_connect (fixture, device);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);
  g_assert_true (wait_frames (c, 1, 2000));
  g_assert_true (g_io_stream_close (soup_websocket_connection_get_io_stream (c->conn),
                                    NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_n_clients (device, 1, 3000));
  mark = b->texts->len;
  g_assert_true (wait_frames (b, mark + 3, 2000));
  assert_period (b, mark, 3, 200, 30, 40);
  g_assert_cmpint (soup_websocket_connection_get_state (b->conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_cmpuint (b->n_binary, ==, 0);
}

static void
test_logs_disabled (Fixture       *fixture,
                    gconstpointer  user_data)
{
  PmDevice *off = fixture_add_device (fixture, "mockaxe1", FALSE, 200);
  PmDevice *on = fixture_add_device (fixture, "mockaxe2", TRUE, 200);
  const char *const bad_paths[] = { "/api/wsx", "/api/ws/x" };
  g_autofree char *ws_url = device_url (off, "ws", "/api/ws");
  g_autofree char *http_url = device_url (off, "http", "/api/ws");
  g_autofree char *on_http_url = device_url (on, "http", "/api/ws");
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
  start = g_get_monotonic_time ();
  conn = websocket_connect_msg (fixture->session, msg, 2000, &error);
  g_assert_null (conn);
  g_assert_nonnull (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2000 * MS);
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
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2000 * MS);
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
      g_autofree char *url = device_url (on, "ws", bad_paths[i]);
      g_autoptr(SoupMessage) bad = soup_message_new (SOUP_METHOD_GET, url);
      g_autoptr(GError) bad_error = NULL;

      g_test_message ("connecting to %s", url);
      conn = websocket_connect_msg (fixture->session, bad, 2000, &bad_error);
      g_assert_null (conn);
      g_assert_nonnull (bad_error);
      g_assert_cmpuint (soup_message_get_status (bad), ==, SOUP_STATUS_NOT_FOUND);
    }
  g_assert_cmpuint (pm_device_get_n_log_clients (on), ==, 0);
}

static void
test_restart (Fixture       *fixture,
              gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  Client *client = fixture_connect (fixture, device);
  g_autofree char *url = device_url (device, "ws", "/api/ws");
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn;
  gint64 restarted;

  g_assert_true (wait_frames (client, 1, 2000));

  g_assert_true (pm_device_restart (device, &error));
  g_assert_no_error (error);
  restarted = g_get_monotonic_time ();
  g_assert_true (pm_device_get_restarting (device));
  client_clear (client);

  /* Frames keep coming at the same pace while the device restarts. */
  g_assert_true (wait_frames (client, 4, 2000));
  g_assert_true (pm_device_get_restarting (device));
  g_assert_cmpint (g_get_monotonic_time () - restarted, <, PM_DEVICE_RESTART_MS * MS);
  g_assert_cmpuint (client->n_binary, ==, 0);
  assert_period (client, 0, 4, 200, 30, 40);
  g_assert_cmpint (soup_websocket_connection_get_state (client->conn), ==,
                   SOUP_WEBSOCKET_STATE_OPEN);

  /* A new handshake is an HTTP request, so it gets 503. */
  conn = websocket_connect_msg (fixture->session, msg, 2000, &error);
  g_assert_null (conn);
  g_assert_nonnull (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
  g_assert_true (pm_device_get_restarting (device));
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 1);

  /* And the old client still gets frames. */
  g_assert_true (wait_frames (client, client->texts->len + 1, 1000));
}

static void
test_stop (Fixture       *fixture,
           gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  Client *a = fixture_connect (fixture, device);
  Client *b = fixture_connect (fixture, device);

  g_assert_true (wait_frames (a, 1, 2000));
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);

  pm_device_stop (device);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 0);
  g_assert_true (pm_test_wait_until (client_is_closed, a, 2000));
  g_assert_true (pm_test_wait_until (client_is_closed, b, 2000));
  g_assert_cmpuint (a->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpuint (b->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpint (soup_websocket_connection_get_state (a->conn), ==, SOUP_WEBSOCKET_STATE_CLOSED);
  g_assert_false (pm_device_get_listening (device));
}

/* A client that does the handshake and then never reads, and floods the
 * device with pings: the pongs (2.5 MB) fill the device's socket buffer
 * towards it, so the device's writes to it would block. */
typedef struct
{
  GSocket *socket;
  gsize    written;
  gint     done;
} StuckClient;

#define STUCK_PINGS 20000
#define PING_PAYLOAD 125

static gpointer
stuck_flood_thread (gpointer user_data)
{
  StuckClient *stuck = user_data;
  guint8 frame[2 + 4 + PING_PAYLOAD];
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

static void
test_stuck_client (Fixture       *fixture,
                   gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 50);
  PmDevice *other = fixture_add_device (fixture, "mockaxe2", TRUE, 50);
  g_autofree char *info_url = device_url (device, "http", "/api/system/info");
  g_autoptr(PmTestResponse) response = NULL;
  StuckClient stuck = { NULL, 0, FALSE };
  Client *watched[3];
  GThread *thread;
  gint64 start;
  gint64 took;
  guint i;

  stuck.socket = stuck_client_connect (device);
  g_assert_true (wait_n_clients (device, 1, 2000));

  watched[0] = fixture_connect (fixture, device);
  watched[1] = fixture_connect (fixture, other);
  watched[2] = fixture_connect (fixture, other);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);
  g_assert_cmpuint (pm_device_get_n_log_clients (other), ==, 2);

  /* Fill the device's socket buffer towards the stuck client, so that
   * writing to it would block. */
  thread = g_thread_new ("stuck-flood", stuck_flood_thread, &stuck);
  g_assert_true (pm_test_flag_wait (&stuck.done, PM_TEST_TIMEOUT_MS));
  g_thread_join (thread);
  g_test_message ("stuck client wrote %" G_GSIZE_FORMAT " bytes of pings", stuck.written);
  g_assert_cmpuint (stuck.written, ==, (gsize) STUCK_PINGS * (6 + PING_PAYLOAD));
  g_assert_true (wait_frames (watched[0], watched[0]->texts->len + 3, 2000));
  for (i = 0; i < G_N_ELEMENTS (watched); i++)
    client_clear (watched[i]);

  /* 2 s of frames, with an HTTP request to the same device half-way. */
  pm_test_wait_ms (1000);
  start = g_get_monotonic_time ();
  response = pm_test_http (fixture->session, SOUP_METHOD_GET, info_url, NULL, NULL, 0);
  took = g_get_monotonic_time () - start;
  g_test_message ("GET took %.1f ms", took / 1000.0);
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpint (took, <, 1000 * MS);
  pm_test_wait_ms (1000);

  for (i = 0; i < G_N_ELEMENTS (watched); i++)
    {
      g_test_message ("client %u got %u frames", i, watched[i]->texts->len);
      g_assert_cmpuint (watched[i]->texts->len, >=, 36);
      assert_period (watched[i], 0, watched[i]->texts->len, 50, 30, 40);
    }
  /* The stuck client is still connected: nothing dropped it. */
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);

  /* When it goes away at last, it is dropped. */
  g_socket_close (stuck.socket, NULL);
  g_clear_object (&stuck.socket);
  g_assert_true (wait_n_clients (device, 1, 3000));
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
  guint before;

  g_clear_object (&fixture->acceptor);
  fixture->acceptor = g_object_new (PM_TYPE_ACCEPTOR, "send-timeout", 500, NULL);
  device = fixture_add_device (fixture, "mockaxe1", TRUE, 50);

  stuck.socket = stuck_client_connect (device);
  g_assert_true (wait_n_clients (device, 1, 2000));
  healthy = fixture_connect (fixture, device);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 2);

  thread = g_thread_new ("stuck-flood", stuck_flood_thread, &stuck);
  g_assert_true (pm_test_flag_wait (&stuck.done, PM_TEST_TIMEOUT_MS));
  g_thread_join (thread);

  /* The window towards it is shut and stays shut: the kernel gives up. */
  g_assert_true (wait_n_clients (device, 1, 8000));
  before = healthy->texts->len;
  g_assert_true (wait_frames (healthy, before + 5, 2000));
  g_assert_false (healthy->closed);

  g_socket_close (stuck.socket, NULL);
  g_clear_object (&stuck.socket);
}

#define N_MANY 200

typedef struct
{
  Fixture *fixture;
  gint64   after;
  gint64   near;
} ManyWait;

static gboolean
all_have_frame_after (gpointer user_data)
{
  ManyWait *wait = user_data;
  guint i;

  for (i = 0; i < wait->fixture->clients->len; i++)
    {
      Client *client = g_ptr_array_index (wait->fixture->clients, i);

      if (client->times->len == 0 ||
          frame_time (client, client->times->len - 1) < wait->after)
        return FALSE;
    }
  return TRUE;
}

static gboolean
all_have_frame_near (gpointer user_data)
{
  ManyWait *wait = user_data;
  guint i;

  for (i = 0; i < wait->fixture->clients->len; i++)
    if (frame_near (g_ptr_array_index (wait->fixture->clients, i), wait->near, 50) < 0)
      return FALSE;
  return TRUE;
}

static gboolean
many_all_closed (gpointer user_data)
{
  Fixture *fixture = user_data;
  guint i;

  for (i = 0; i < fixture->clients->len; i++)
    if (!((Client *) g_ptr_array_index (fixture->clients, i))->closed)
      return FALSE;
  return TRUE;
}

static void
test_many_clients (Fixture       *fixture,
                   gconstpointer  user_data)
{
  PmDevice *device = fixture_add_device (fixture, "mockaxe1", TRUE, 200);
  ManyWait wait = { fixture, 0, 0 };
  Client *reference;
  gint64 latest = 0;
  guint i;

  for (i = 0; i < N_MANY; i++)
    fixture_connect (fixture, device);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, N_MANY);

  /* Within one period every client gets a frame. */
  wait.after = g_get_monotonic_time ();
  g_assert_true (pm_test_wait_until (all_have_frame_after, &wait, 2000));
  for (i = 0; i < N_MANY; i++)
    {
      Client *client = g_ptr_array_index (fixture->clients, i);
      guint j;

      for (j = 0; j < client->times->len; j++)
        if (frame_time (client, j) >= wait.after)
          break;
      g_assert_cmpuint (j, <, client->times->len);
      assert_log_frame (frame_text (client, j));
      latest = MAX (latest, frame_time (client, j));
    }
  g_test_message ("all %u clients had a frame %.1f ms after the last connect", N_MANY,
                  (latest - wait.after) / 1000.0);
  g_assert_cmpint (latest - wait.after, <=, 250 * MS);

  /* And they all got the same line on the same tick. */
  reference = g_ptr_array_index (fixture->clients, 0);
  wait.near = frame_time (reference, reference->times->len - 1);
  g_assert_true (pm_test_wait_until (all_have_frame_near, &wait, 2000));
  for (i = 1; i < N_MANY; i++)
    {
      Client *client = g_ptr_array_index (fixture->clients, i);
      int j = frame_near (client, wait.near, 50);

      g_assert_cmpint (j, >=, 0);
      g_assert_cmpstr (frame_text (client, (guint) j), ==,
                       frame_text (reference, reference->times->len - 1));
      g_assert_cmpuint (client->n_binary, ==, 0);
    }

  /* All leave. */
  for (i = 0; i < N_MANY; i++)
    {
      Client *client = g_ptr_array_index (fixture->clients, i);

      soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }
  g_assert_true (wait_n_clients (device, 0, PM_TEST_TIMEOUT_MS));
  g_assert_true (pm_test_wait_until (many_all_closed, fixture, PM_TEST_TIMEOUT_MS));
  for (i = 0; i < N_MANY; i++)
    g_assert_cmpuint (((Client *) g_ptr_array_index (fixture->clients, i))->close_code, ==,
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
