/* SPDX-License-Identifier: MIT */
/*
 * Connections kept alive: several requests on one connection, pipelined
 * requests, `Connection: close` and HTTP/1.0, the idle time-out, the caps
 * per server and in all, clients that half-close, reset or go silent, and
 * no descriptor left behind.
 */
#define G_LOG_DOMAIN "test-keepalive"

#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "pm-device.h"
#include "pm-limits.h"
#include "pm-test-util.h"

#define IDLE_MS 400

typedef struct
{
  PmAcceptor  *acceptor;
  SoupSession *session;
  PmDevice    *device;
  PmDevice    *other;
} Fixture;

static PmDevice *
start_device (PmAcceptor *acceptor,
              const char *hostname)
{
  g_autoptr(GError) error = NULL;
  PmDevice *device = pm_test_device_new (acceptor, 0, hostname, "pluto-legacy", NULL, FALSE, 3);

  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  return device;
}

/* user_data: the caps, per server and in all, or NULL for the defaults. */
static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  const guint *caps = user_data;

  fixture->acceptor = g_object_new (PM_TYPE_ACCEPTOR,
                                    "idle-timeout", IDLE_MS,
                                    "max-kept-per-server", caps != NULL ? caps[0] : PM_LIMIT_KEEPALIVE_PER_SERVER,
                                    "max-kept", caps != NULL ? caps[1] : PM_LIMIT_KEEPALIVE_TOTAL,
                                    NULL);
  fixture->session = soup_session_new ();
  fixture->device = start_device (fixture->acceptor, "mockaxe1");
  fixture->other = start_device (fixture->acceptor, "mockaxe2");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  pm_device_stop (fixture->device);
  pm_device_stop (fixture->other);
  g_clear_object (&fixture->device);
  g_clear_object (&fixture->other);
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->acceptor);
}

/* ---- a raw client on the main loop --------------------------------------- */

static GSocketConnection *
raw_connect (PmDevice *device)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  /* The kernel completes the handshake from the backlog, so a blocking
   * connect does not need the server's main loop. */
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", pm_device_get_port (device),
                                                NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static void
raw_send (GSocketConnection *connection,
          const char        *bytes)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                             bytes, strlen (bytes), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads once, running the main loop; returns the bytes read, 0 at the
 * end, or -1 on an error or a time-out. */
static gssize
raw_read_some (GSocketConnection *connection,
               char              *buffer,
               gsize              size,
               guint              timeout_ms)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gssize n;

  g_input_stream_read_async (in, buffer, size, G_PRIORITY_DEFAULT, cancellable,
                             pm_test_keep_result, &result);
  if (!pm_test_wait_result (&result, timeout_ms))
    {
      g_cancellable_cancel (cancellable);
      g_assert_true (pm_test_wait_result (&result, PM_TEST_TIMEOUT_MS));
      g_input_stream_read_finish (in, result, NULL);
      return -1;
    }
  n = g_input_stream_read_finish (in, result, NULL);
  return n;
}

typedef struct
{
  guint    status;
  gboolean closes;  /* says Connection: close */
  char    *body;
} Response;

static void
response_free (Response *response)
{
  g_free (response->body);
  g_free (response);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

/* Reads responses from @buffer, pulling more from @connection as needed:
 * one whole response (head and Content-Length body) is taken off the
 * front of @buffer. */
static Response *
raw_read_response (GSocketConnection *connection,
                   GString           *buffer)
{
  Response *response = g_new0 (Response, 1);
  const char *end;
  gsize length = 0;

  for (;;)
    {
      end = strstr (buffer->str, "\r\n\r\n");
      if (end != NULL)
        {
          g_autofree char *head = g_strndup (buffer->str, end + 4 - buffer->str);
          g_autofree char *lower = g_ascii_strdown (head, -1);
          const char *cl = strstr (lower, "\r\ncontent-length:");

          length = cl != NULL ? g_ascii_strtoull (cl + strlen ("\r\ncontent-length:"), NULL, 10) : 0;
          if (buffer->len >= (gsize) (end + 4 - buffer->str) + length)
            {
              response->status = (guint) g_ascii_strtoull (buffer->str + 9, NULL, 10);
              response->closes = strstr (lower, "\r\nconnection: close\r\n") != NULL;
              response->body = g_strndup (end + 4, length);
              g_string_erase (buffer, 0, end + 4 - buffer->str + length);
              return response;
            }
        }
      {
        char chunk[8192];
        gssize n = raw_read_some (connection, chunk, sizeof chunk, PM_TEST_TIMEOUT_MS);

        if (n <= 0)
          g_error ("the connection ended before a whole response (%zd; have '%.100s')", n, buffer->str);
        g_string_append_len (buffer, chunk, n);
      }
    }
}

/* Whether the server closes @connection within @timeout_ms. */
static gboolean
raw_wait_closed (GSocketConnection *connection,
                 guint              timeout_ms)
{
  char chunk[256];
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      gssize n;

      if (left <= 0)
        return FALSE;
      n = raw_read_some (connection, chunk, sizeof chunk, (guint) left);
      if (n == 0)
        return TRUE;
      if (n < 0)
        return FALSE;
    }
}

static gboolean
none_kept (gpointer user_data)
{
  return pm_acceptor_get_n_kept (PM_ACCEPTOR (user_data)) == 0;
}

static gboolean
two_kept (gpointer user_data)
{
  return pm_acceptor_get_n_kept (PM_ACCEPTOR (user_data)) == 2;
}

static const char get_info[] = "GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n";

/* ---- tests ----------------------------------------------------------------- */

/* A SoupSession, as Pluto's and pyasic's clients do, sends every request
 * on one connection; the replies offer keep-alive. */
static void
test_reuse (Fixture       *fixture,
            gconstpointer  user_data)
{
  guint port = pm_device_get_port (fixture->device);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/api/system/info", port);
  g_autofree char *patch_url = g_strdup_printf ("http://127.0.0.1:%u/api/system", port);
  guint64 before = pm_acceptor_get_n_accepted (fixture->acceptor);
  guint i;

  for (i = 0; i < 6; i++)
    {
      g_autoptr(PmTestResponse) response = NULL;

      if (i == 3)
        response = pm_test_http (fixture->session, "PATCH", patch_url, "application/json",
                                 "{\"power\":17}", -1);
      else
        response = pm_test_http (fixture->session, "GET", url, NULL, NULL, -1);
      g_assert_cmpuint (response->status, ==, 200);
      g_assert_null (soup_message_headers_get_list (response->headers, "Connection"));
      g_test_message ("request %u: %" G_GUINT64_FORMAT " connection(s)", i,
                      pm_acceptor_get_n_accepted (fixture->acceptor) - before);
      /* The GETs share one connection.  libsoup opens a fresh one for
       * the PATCH, a method that is not idempotent, and reuses it. */
      g_assert_cmpuint (pm_acceptor_get_n_accepted (fixture->acceptor) - before, ==, i < 3 ? 1 : 2);
    }
  g_assert_cmpuint (pm_acceptor_get_n_kept (fixture->acceptor), ==, 2);

  {
    g_autoptr(JsonObject) info = pm_test_get_info (fixture->session, "127.0.0.1", port);

    g_assert_cmpint (pm_test_member_int (info, "power"), ==, 17);
  }
}

/* Three requests in one write get three replies, in order, on the one
 * connection; a PATCH with a body between them included. */
static void
test_pipelined (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GSocketConnection) connection = raw_connect (fixture->device);
  g_autoptr(GString) buffer = g_string_new (NULL);
  g_autoptr(Response) first = NULL;
  g_autoptr(Response) second = NULL;
  g_autoptr(Response) third = NULL;

  raw_send (connection, "GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n"
                        "PATCH /api/system HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 11\r\n\r\n{\"power\":9}"
                        "GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n");
  first = raw_read_response (connection, buffer);
  second = raw_read_response (connection, buffer);
  third = raw_read_response (connection, buffer);
  g_assert_cmpuint (first->status, ==, 200);
  g_assert_cmpuint (second->status, ==, 200);
  g_assert_cmpuint (third->status, ==, 200);
  g_assert_false (first->closes || second->closes || third->closes);
  g_assert_nonnull (strstr (third->body, "\"power\":9"));
  g_assert_null (strstr (first->body, "\"power\":9,"));
  g_assert_cmpuint (buffer->len, ==, 0);
}

/* A reply sent before its request's body arrived (a 404 from the route
 * check, to a client that waits for `100 Continue` before sending the
 * body: libsoup reads the body first otherwise) must say
 * `Connection: close` and close, since the body still to come would be
 * read as the next request.  If the reply offered the connection, the
 * next request on it must be answered. */
static void
test_early_reply (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GSocketConnection) connection = raw_connect (fixture->device);
  g_autoptr(GString) buffer = g_string_new (NULL);
  g_autoptr(Response) refused = NULL;

  raw_send (connection, "PATCH /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n"
                        "Expect: 100-continue\r\n\r\n");
  refused = raw_read_response (connection, buffer);
  g_assert_cmpuint (refused->status, ==, 404);
  g_test_message ("the 404 %s the connection", refused->closes ? "closes" : "keeps");
  if (refused->closes)
    {
      g_assert_true (raw_wait_closed (connection, PM_TEST_TIMEOUT_MS));
    }
  else
    {
      g_autoptr(Response) next = NULL;

      /* 20 bytes of body that look like a request, then a request. */
      raw_send (connection, "GET /api/system/info"
                            "GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n");
      next = raw_read_response (connection, buffer);
      g_assert_cmpuint (next->status, ==, 200);
    }
}

/* `Connection: close`, HTTP/1.0 and an upgrade that fails still close
 * after the reply, as before keep-alive. */
static void
test_close (Fixture       *fixture,
            gconstpointer  user_data)
{
  static const char *const requests[] = {
    "GET /api/system/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /api/system/info HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n",
    "GET /api/system/info HTTP/1.0\r\n\r\n",
    "GET /api/system/info HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      g_autoptr(GSocketConnection) connection = raw_connect (fixture->device);
      g_autoptr(GString) buffer = g_string_new (NULL);
      g_autoptr(Response) response = NULL;

      g_test_message ("%s", requests[i]);
      raw_send (connection, requests[i]);
      response = raw_read_response (connection, buffer);
      g_assert_true (response->closes);
      /* Closed at once, not after the idle time-out. */
      g_assert_true (raw_wait_closed (connection, IDLE_MS / 2));
    }
  g_assert_cmpuint (pm_acceptor_get_n_kept (fixture->acceptor), ==, 0);
}

/* A kept connection left silent is closed after the idle time-out, not
 * before; one that half-closes is closed at once. */
static void
test_idle_timeout (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GSocketConnection) connection = raw_connect (fixture->device);
  g_autoptr(GString) buffer = g_string_new (NULL);
  g_autoptr(Response) response = NULL;
  gint64 answered, closed;

  raw_send (connection, get_info);
  response = raw_read_response (connection, buffer);
  answered = g_get_monotonic_time ();
  g_assert_false (response->closes);
  g_assert_cmpuint (pm_acceptor_get_n_kept (fixture->acceptor), ==, 1);

  g_assert_true (raw_wait_closed (connection, IDLE_MS + PM_TEST_TIMEOUT_MS));
  closed = g_get_monotonic_time ();
  g_test_message ("closed %" G_GINT64_FORMAT " ms after the reply (idle time-out %d ms)",
                  (closed - answered) / 1000, IDLE_MS);
  /* The daemon scheduled the close IDLE_MS after it sent the reply, which
   * was before the client read it. */
  g_assert_cmpint ((closed - answered) / 1000, >=, IDLE_MS - 50);
  g_assert_true (none_kept (fixture->acceptor));

  /* Half-closed after one request: the reply, then the end, at once. */
  {
    g_autoptr(GSocketConnection) half = raw_connect (fixture->device);
    g_autoptr(Response) reply = NULL;

    g_string_truncate (buffer, 0);
    raw_send (half, get_info);
    g_socket_shutdown (g_socket_connection_get_socket (half), FALSE, TRUE, NULL);
    reply = raw_read_response (half, buffer);
    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_true (raw_wait_closed (half, IDLE_MS / 2));
    g_assert_true (pm_test_wait_until (none_kept, fixture->acceptor, PM_TEST_TIMEOUT_MS));
  }
}

/* Past the caps, the next client is served but not kept: its reply says
 * `Connection: close`.  Caps here: 2 per server, 3 in all. */
static void
test_caps (Fixture       *fixture,
           gconstpointer  user_data)
{
  g_autoptr(GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  PmDevice *order[] = { fixture->device, fixture->device, fixture->device,
                        fixture->other, fixture->other };
  gboolean expect_close[] = { FALSE, FALSE, TRUE, FALSE, TRUE };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (order); i++)
    {
      GSocketConnection *connection = raw_connect (order[i]);
      g_autoptr(GString) buffer = g_string_new (NULL);
      g_autoptr(Response) response = NULL;

      g_ptr_array_add (connections, connection);
      raw_send (connection, get_info);
      response = raw_read_response (connection, buffer);
      g_test_message ("connection %zu: %s", i, response->closes ? "close" : "kept");
      g_assert_cmpuint (response->status, ==, 200);
      g_assert_cmpint (response->closes, ==, expect_close[i]);
    }
  g_assert_cmpuint (pm_acceptor_get_n_kept (fixture->acceptor), ==, 3);

  /* A slot freed is a slot for the next client. */
  g_io_stream_close (g_ptr_array_index (connections, 0), NULL, NULL);
  g_assert_true (pm_test_wait_until (two_kept, fixture->acceptor, PM_TEST_TIMEOUT_MS));
  {
    g_autoptr(GSocketConnection) connection = raw_connect (fixture->device);
    g_autoptr(GString) buffer = g_string_new (NULL);
    g_autoptr(Response) response = NULL;

    raw_send (connection, get_info);
    response = raw_read_response (connection, buffer);
    g_assert_false (response->closes);
  }
}

/* Kept connections leave PM_LIMIT_FD_RESERVE descriptors of the limit
 * free, beyond the listening sockets: with room for one, the second
 * client is served but not kept. */
static void
test_fd_budget (Fixture       *fixture,
                gconstpointer  user_data)
{
  struct rlimit saved, low;
  g_autoptr(GSocketConnection) first = raw_connect (fixture->device);
  g_autoptr(GSocketConnection) second = raw_connect (fixture->other);
  g_autoptr(GString) buffer = g_string_new (NULL);
  g_autoptr(Response) kept = NULL;
  g_autoptr(Response) closed = NULL;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  low = saved;
  low.rlim_cur = pm_acceptor_get_n_listeners (fixture->acceptor) + PM_LIMIT_FD_RESERVE + 1;
  g_assert_cmpuint (low.rlim_cur, <=, saved.rlim_max);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &low), ==, 0);

  raw_send (first, get_info);
  kept = raw_read_response (first, buffer);
  raw_send (second, get_info);
  closed = raw_read_response (second, buffer);

  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  g_assert_false (kept->closes);
  g_assert_true (closed->closes);
  g_assert_cmpuint (pm_acceptor_get_n_kept (fixture->acceptor), ==, 1);
}

/* The process's open descriptors. */
static guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Clients that make one request and vanish (a third close, a third reset,
 * a third go silent) leave no descriptor and no slot behind. */
static void
test_abandoned (Fixture       *fixture,
                gconstpointer  user_data)
{
  guint before = count_fds ();
  g_autoptr(GPtrArray) silent = g_ptr_array_new_with_free_func (g_object_unref);
  guint i;

  for (i = 0; i < 150; i++)
    {
      g_autoptr(GSocketConnection) connection = raw_connect (i % 2 ? fixture->device : fixture->other);
      g_autoptr(GString) buffer = g_string_new (NULL);
      g_autoptr(Response) response = NULL;
      GSocket *socket = g_socket_connection_get_socket (connection);

      raw_send (connection, get_info);
      response = raw_read_response (connection, buffer);
      g_assert_cmpuint (response->status, ==, 200);
      switch (i % 3)
        {
        case 0:
          g_socket_close (socket, NULL);
          break;
        case 1:
          {
            struct linger linger = { 1, 0 };

            /* A reset instead of a FIN. */
            setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
            g_socket_close (socket, NULL);
          }
          break;
        default:
          g_ptr_array_add (silent, g_object_ref (connection));
          break;
        }
    }

  /* The silent ones go after the idle time-out; the others at once. */
  g_assert_true (pm_test_wait_until (none_kept, fixture->acceptor, IDLE_MS + PM_TEST_TIMEOUT_MS));
  g_ptr_array_set_size (silent, 0);
  g_test_message ("%u descriptors before, %u after", before, count_fds ());
  g_assert_cmpuint (count_fds (), <=, before);
}

int
main (int   argc,
      char *argv[])
{
  static const guint small_caps[] = { 2, 3 };

  g_test_init (&argc, &argv, NULL);

#define ADD(path, data, func) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)
  ADD ("/keepalive/reuse", NULL, test_reuse);
  ADD ("/keepalive/pipelined", NULL, test_pipelined);
  ADD ("/keepalive/early-reply", NULL, test_early_reply);
  ADD ("/keepalive/close", NULL, test_close);
  ADD ("/keepalive/idle-timeout", NULL, test_idle_timeout);
  ADD ("/keepalive/caps", small_caps, test_caps);
  ADD ("/keepalive/fd-budget", NULL, test_fd_budget);
  ADD ("/keepalive/abandoned", NULL, test_abandoned);
#undef ADD

  return g_test_run ();
}
