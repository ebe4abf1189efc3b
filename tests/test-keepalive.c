/* SPDX-License-Identifier: MIT */
/*
 * Connections kept alive: several requests on one connection, pipelined
 * requests, `Connection: close` and HTTP/1.0, the idle time-out, the caps
 * per server and in all, clients that half-close, reset or go silent, and
 * no descriptor left behind; and the replies the acceptor gives without
 * libsoup: the same bytes, never under a fault, to a client that does not
 * read, or floods.
 */
#define G_LOG_DOMAIN "test-keepalive"

#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "pm-device.h"
#include "pm-fault.h"
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
  char    *head;    /* status line and headers, the blank line included */
  char    *body;
} Response;

static void
response_free (Response *response)
{
  g_free (response->head);
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
              response->head = g_steal_pointer (&head);
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

/* ---- replies given without libsoup ----------------------------------------- */

/* @head with its Date line left out and its Content-Length value hidden:
 * what two replies of the same kind share. */
static char *
head_for_comparison (const char *head)
{
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);
  GString *out = g_string_new (NULL);
  gsize i;

  for (i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "Date: "))
        continue;
      if (g_str_has_prefix (lines[i], "Content-Length: "))
        g_string_append (out, "Content-Length: N\r\n");
      else
        g_string_append_printf (out, "%s\r\n", lines[i]);
    }
  return g_string_free (out, FALSE);
}

/* The member names of a JSON object, in order, comma-separated. */
static char *
member_names (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) members = NULL;
  GString *out = g_string_new (NULL);
  GList *l;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  members = json_object_get_members (json_node_get_object (json_parser_get_root (parser)));
  for (l = members; l != NULL; l = l->next)
    g_string_append_printf (out, "%s,", (const char *) l->data);
  return g_string_free (out, FALSE);
}

/* Sends @request and reads its reply; @answered: whether the acceptor
 * answered it without libsoup. */
static Response *
request_on (GSocketConnection *connection,
            PmAcceptor        *acceptor,
            const char        *request,
            gboolean          *answered)
{
  g_autoptr(GString) buffer = g_string_new (NULL);
  guint64 before = pm_acceptor_get_n_answered (acceptor);
  Response *response;

  raw_send (connection, request);
  response = raw_read_response (connection, buffer);
  g_assert_cmpuint (buffer->len, ==, 0);
  *answered = pm_acceptor_get_n_answered (acceptor) - before == 1;
  g_assert_cmpuint (pm_acceptor_get_n_answered (acceptor) - before, <=, 1);
  return response;
}

/* A kept-alive GET /api/system/info is answered by the acceptor; the same
 * request with an empty query goes through libsoup.  The two replies have
 * the same status line and headers, in the same order, and bodies with
 * the same members: a client cannot tell the paths apart.  A NerdQAxe+,
 * which closes every connection, and a request with an Origin, which
 * the firmware's gate judges, stay with libsoup. */
static void
test_answered_same_reply (Fixture       *fixture,
                          gconstpointer  user_data)
{
  static const char *const profiles[] = { "pluto-legacy", "pluto-new", "axeos-gamma",
                                          "axeos-supra", "nerdqaxe-plus" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (profiles); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PmDevice) device = pm_test_device_new (fixture->acceptor, 0, "mockaxe9", profiles[i],
                                                       NULL, FALSE, 3);
      g_autoptr(GSocketConnection) connection = NULL;
      g_autoptr(Response) direct = NULL;
      g_autoptr(Response) through_soup = NULL;
      g_autoptr(Response) with_origin = NULL;
      g_autofree char *direct_head = NULL;
      g_autofree char *soup_head = NULL;
      g_autofree char *direct_names = NULL;
      g_autofree char *soup_names = NULL;
      gboolean answered;

      g_test_message ("%s", profiles[i]);
      g_assert_true (pm_device_start (device, "127.0.0.1", &error));
      connection = raw_connect (device);

      direct = request_on (connection, fixture->acceptor, get_info, &answered);
      g_assert_cmpuint (direct->status, ==, 200);
      if (g_str_has_prefix (profiles[i], "nerdqaxe"))
        {
          g_assert_false (answered);
          g_assert_true (direct->closes);
          pm_device_stop (device);
          continue;
        }
      g_assert_true (answered);
      g_assert_false (direct->closes);

      through_soup = request_on (connection, fixture->acceptor,
                                 "GET /api/system/info? HTTP/1.1\r\nHost: x\r\n\r\n", &answered);
      g_assert_false (answered);
      g_assert_cmpuint (through_soup->status, ==, 200);

      /* The one header left out of the comparison is a real date. */
      {
        const char *date = strstr (direct->head, "\r\nDate: ");
        g_autofree char *value = NULL;
        g_autoptr(GDateTime) when = NULL;
        g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
        g_autofree char *again = NULL;

        g_assert_nonnull (date);
        value = g_strndup (date + 8, strcspn (date + 8, "\r"));
        when = soup_date_time_new_from_http_string (value);
        g_assert_nonnull (when);
        g_assert_cmpint (ABS (g_date_time_difference (now, when)), <, 5 * G_TIME_SPAN_SECOND);
        again = soup_date_time_to_string (when, SOUP_DATE_HTTP);
        g_assert_cmpstr (value, ==, again);
      }
      direct_head = head_for_comparison (direct->head);
      soup_head = head_for_comparison (through_soup->head);
      g_assert_cmpstr (direct_head, ==, soup_head);
      direct_names = member_names (direct->body);
      soup_names = member_names (through_soup->body);
      g_assert_cmpstr (direct_names, ==, soup_names);
      /* The address the device reports as its own is the one reached. */
      {
        g_autoptr(JsonParser) direct_parser = json_parser_new ();
        g_autoptr(JsonParser) soup_parser = json_parser_new ();
        JsonObject *direct_info, *soup_info;

        g_assert_true (json_parser_load_from_data (direct_parser, direct->body, -1, NULL));
        g_assert_true (json_parser_load_from_data (soup_parser, through_soup->body, -1, NULL));
        direct_info = json_node_get_object (json_parser_get_root (direct_parser));
        soup_info = json_node_get_object (json_parser_get_root (soup_parser));
        if (json_object_has_member (soup_info, "ipv4"))
          {
            g_assert_cmpstr (json_object_get_string_member (direct_info, "ipv4"), ==, "127.0.0.1");
            g_assert_cmpstr (json_object_get_string_member (soup_info, "ipv4"), ==, "127.0.0.1");
          }
      }

      with_origin = request_on (connection, fixture->acceptor,
                                "GET /api/system/info HTTP/1.1\r\nHost: x\r\n"
                                "Origin: http://127.0.0.1:1\r\n\r\n", &answered);
      g_assert_cmpuint (with_origin->status, ==, 200);
      g_assert_cmpint (answered, ==, g_str_has_prefix (profiles[i], "pluto"));
      pm_device_stop (device);
    }
}

/* While a fault is set, every request goes through libsoup, where the
 * faults act; cleared, the acceptor answers again. */
static void
test_answered_not_under_fault (Fixture       *fixture,
                               gconstpointer  user_data)
{
  static const char *const parameters[] = { "status=503", "rate=1", NULL };
  g_autoptr(GSocketConnection) connection = raw_connect (fixture->device);
  g_autoptr(PmFault) fault = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(Response) faulted = NULL;
  g_autoptr(Response) cleared = NULL;
  gboolean answered;

  fault = pm_fault_new_from_strings ("errors", parameters, &error);
  g_assert_no_error (error);
  g_assert_true (pm_device_set_fault (fixture->device, fault, &error));
  faulted = request_on (connection, fixture->acceptor, get_info, &answered);
  g_assert_cmpuint (faulted->status, ==, 503);
  g_assert_false (answered);

  pm_device_clear_faults (fixture->device);
  if (!faulted->closes)
    {
      cleared = request_on (connection, fixture->acceptor, get_info, &answered);
    }
  else
    {
      g_autoptr(GSocketConnection) next = raw_connect (fixture->device);

      cleared = request_on (next, fixture->acceptor, get_info, &answered);
    }
  g_assert_cmpuint (cleared->status, ==, 200);
  g_assert_true (answered);
}

static void
set_fault (PmDevice   *device,
           const char *kind,
           const char *parameter)
{
  const char *parameters[] = { parameter, NULL };
  g_autoptr(PmFault) fault = NULL;
  g_autoptr(GError) error = NULL;

  fault = pm_fault_new_from_strings (kind, parameters, &error);
  g_assert_no_error (error);
  g_assert_true (pm_device_set_fault (device, fault, &error));
  g_assert_no_error (error);
}

/* Faults on the WebSockets or the miner leave the replies to the acceptor:
 * the reply reads the miner's state either way, so a power fault shows on
 * both paths alike.  A fault on the replies themselves takes them back
 * to libsoup. */
static void
test_answered_other_faults (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmDevice) device = pm_test_device_new (fixture->acceptor, 0, "mockaxe9", "axeos-gamma",
                                                   NULL, FALSE, 3);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(Response) direct = NULL;
  g_autoptr(Response) through_soup = NULL;
  g_autoptr(Response) slowed = NULL;
  g_autofree char *direct_names = NULL;
  g_autofree char *soup_names = NULL;
  gboolean answered;

  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  set_fault (device, "ws-drop", "interval-s=60");
  set_fault (device, "power-fault", NULL);
  connection = raw_connect (device);

  direct = request_on (connection, fixture->acceptor, get_info, &answered);
  g_assert_true (answered);
  g_assert_cmpuint (direct->status, ==, 200);
  g_assert_nonnull (strstr (direct->body, "\"power_fault\""));
  through_soup = request_on (connection, fixture->acceptor,
                             "GET /api/system/info? HTTP/1.1\r\nHost: x\r\n\r\n", &answered);
  g_assert_false (answered);
  direct_names = member_names (direct->body);
  soup_names = member_names (through_soup->body);
  g_assert_cmpstr (direct_names, ==, soup_names);

  set_fault (device, "latency", "ms=1");
  slowed = request_on (connection, fixture->acceptor, get_info, &answered);
  g_assert_false (answered);
  g_assert_cmpuint (slowed->status, ==, 200);
  pm_device_stop (device);
}

/* Heads that libsoup reads its own way stay with libsoup, which answers
 * them as it always did (a 400 for a Host it cannot read, 100 Continue
 * before the reply to an expectation); plain ones do not. */
static void
test_answered_unusual_heads (Fixture       *fixture,
                             gconstpointer  user_data)
{
  static const struct
  {
    const char *host;
    gboolean    answered;
  } hosts[] = {
    { "x", TRUE },
    { "localhost:7751", TRUE },
    { "127.0.0.1:65535", TRUE },
    { "mock_axe-1.lan", TRUE },
    { "[bad", FALSE },
    { "[::1]:7751", FALSE },
    { "x:99999", FALSE },
    { "x:0", FALSE },
    { "x:", FALSE },
    { "x?y", FALSE },
    { "x#y", FALSE },
    { "x%41", FALSE },
    { "", FALSE },
  };
  g_autoptr(GSocketConnection) connection = raw_connect (fixture->device);
  g_autoptr(GString) buffer = g_string_new (NULL);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autofree char *request = g_strdup_printf ("GET /api/system/info HTTP/1.1\r\nHost: %s\r\n\r\n",
                                                  hosts[i].host);
      g_autoptr(GSocketConnection) own = raw_connect (fixture->device);
      g_autoptr(Response) response = NULL;
      gboolean answered;

      g_test_message ("Host: %s", hosts[i].host);
      response = request_on (own, fixture->acceptor, request, &answered);
      g_assert_cmpint (answered, ==, hosts[i].answered);
    }

  /* An expectation: libsoup's 100 Continue, then the reply. */
  {
    guint64 before = pm_acceptor_get_n_answered (fixture->acceptor);
    g_autoptr(Response) interim = NULL;
    g_autoptr(Response) reply = NULL;

    raw_send (connection, "GET /api/system/info HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
    interim = raw_read_response (connection, buffer);
    g_assert_cmpuint (interim->status, ==, 100);
    reply = raw_read_response (connection, buffer);
    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_cmpuint (pm_acceptor_get_n_answered (fixture->acceptor), ==, before);
  }
}

/* A client socket whose receive buffer is @size bytes, connected to
 * @device: the replies it does not read soon fill what the kernels
 * hold. */
static GSocketConnection *
raw_connect_small (PmDevice *device,
                   gint      size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, pm_device_get_port (device));

  g_assert_no_error (error);
  g_assert_true (g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, size, &error));
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  return g_socket_connection_factory_create_connection (socket);
}

/* @n pipelined GETs of the info, in one buffer. */
static GBytes *
pipelined_gets (guint n)
{
  GString *out = g_string_sized_new (n * strlen (get_info));
  guint i;

  for (i = 0; i < n; i++)
    g_string_append (out, get_info);
  return g_string_free_to_bytes (out);
}

/* One GET to @device on a connection of its own, which it closes. */
static void
assert_answers (PmDevice *device)
{
  g_autoptr(GSocketConnection) connection = raw_connect (device);
  g_autoptr(GString) buffer = g_string_new (NULL);
  g_autoptr(Response) response = NULL;

  raw_send (connection, "GET /api/system/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  response = raw_read_response (connection, buffer);
  g_assert_cmpuint (response->status, ==, 200);
}

static gboolean
one_kept (gpointer user_data)
{
  return pm_acceptor_get_n_kept (PM_ACCEPTOR (user_data)) == 1;
}

#define UNREAD_REQUESTS 20000
#define LATE_REQUESTS 2000
#define UNREAD_TIMEOUT_MS 300

/* A client that pipelines many requests and reads none of the replies:
 * the acceptor stops reading its requests once the replies fill what
 * the kernel holds (so it holds one reply at most itself), goes on
 * serving the others, and closes the connection when the client has not
 * taken a reply within the request time-out.  A client that does read,
 * later, gets every reply, in order. */
static void
test_answered_unread (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(PmAcceptor) acceptor = g_object_new (PM_TYPE_ACCEPTOR,
                                                 "request-timeout", UNREAD_TIMEOUT_MS,
                                                 "idle-timeout", 60000, NULL);
  g_autoptr(PmDevice) device = start_device (acceptor, "mockaxe7");
  g_autoptr(PmDevice) other = start_device (acceptor, "mockaxe8");
  g_autoptr(GBytes) requests = pipelined_gets (UNREAD_REQUESTS);
  gint64 start;
  guint64 answered;

  /* Never read: closed after the request time-out, with replies left
   * unanswered (they did not fit), and the other device served
   * meanwhile. */
  {
    g_autoptr(GSocketConnection) connection = raw_connect_small (device, 4096);
    g_autoptr(GAsyncResult) written = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                     g_bytes_get_data (requests, NULL), g_bytes_get_size (requests),
                                     G_PRIORITY_DEFAULT, cancellable, pm_test_keep_result, &written);
    g_assert_true (pm_test_wait_until (one_kept, acceptor, PM_TEST_TIMEOUT_MS));
    start = g_get_monotonic_time ();
    assert_answers (other);
    g_assert_true (pm_test_wait_until (none_kept, acceptor, UNREAD_TIMEOUT_MS + PM_TEST_TIMEOUT_MS));
    answered = pm_acceptor_get_n_answered (acceptor);
    g_test_message ("closed after %" G_GINT64_FORMAT " ms, %" G_GUINT64_FORMAT " of %d answered",
                    (g_get_monotonic_time () - start) / 1000, answered, UNREAD_REQUESTS);
    g_assert_cmpuint (answered, <, UNREAD_REQUESTS);
    g_cancellable_cancel (cancellable);
    pm_test_wait_result (&written, PM_TEST_TIMEOUT_MS);
  }

  /* Read late: every reply, in order. */
  {
    g_autoptr(GSocketConnection) connection = raw_connect_small (device, 4096);
    g_autoptr(GAsyncResult) written = NULL;
    g_autoptr(GString) buffer = g_string_new (NULL);
    guint64 before = pm_acceptor_get_n_answered (acceptor);
    guint i;

    g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                     g_bytes_get_data (requests, NULL), LATE_REQUESTS * strlen (get_info),
                                     G_PRIORITY_DEFAULT, NULL, pm_test_keep_result, &written);
    assert_answers (other);
    for (i = 0; i < LATE_REQUESTS; i++)
      {
        g_autoptr(Response) response = raw_read_response (connection, buffer);

        g_assert_cmpuint (response->status, ==, 200);
        g_assert_false (response->closes);
        g_assert_true (g_str_has_prefix (response->body, "{\"power\":"));
      }
    g_assert_cmpuint (buffer->len, ==, 0);
    g_assert_cmpuint (pm_acceptor_get_n_answered (acceptor) - before, ==, LATE_REQUESTS);
    g_assert_true (pm_test_wait_result (&written, PM_TEST_TIMEOUT_MS));
  }
  pm_device_stop (device);
  pm_device_stop (other);
}

#define FLOOD_MS 3000
#define FLOOD_LATENCY_MS 400

typedef struct
{
  GSocket *socket;
  GBytes  *requests;
  gint64   until;      /* monotonic */
  guint64  bytes_read;
} Flood;

/* Writes pipelined requests as fast as the connection takes them, until
 * the flood's end, then half-closes. */
static gpointer
flood_write (gpointer data)
{
  Flood *flood = data;
  gsize size;
  const char *bytes = g_bytes_get_data (flood->requests, &size);

  while (g_get_monotonic_time () < flood->until)
    if (g_socket_send (flood->socket, bytes, size, NULL, NULL) < 0)
      break;
  g_socket_shutdown (flood->socket, FALSE, TRUE, NULL);
  return NULL;
}

/* Reads the replies as fast as they come, to the end. */
static gpointer
flood_read (gpointer data)
{
  Flood *flood = data;
  char buffer[65536];
  gssize n;

  while ((n = g_socket_receive (flood->socket, buffer, sizeof buffer, NULL, NULL)) > 0)
    flood->bytes_read += n;
  return NULL;
}

/* A client that pipelines requests without pause and reads every reply
 * keeps the acceptor answering, but for a bounded time per wake-up: the
 * other devices' requests are answered meanwhile, in much less than the
 * flood lasts. */
static void
test_answered_flood (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GSocketConnection) connection = raw_connect (fixture->device);
  Flood flood = { 0, };
  GThread *writer, *reader;
  gint64 slowest = 0;
  guint n = 0;

  flood.socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (flood.socket, TRUE);
  flood.requests = pipelined_gets (1000);
  flood.until = g_get_monotonic_time () + (gint64) FLOOD_MS * 1000;
  writer = g_thread_new ("flood-write", flood_write, &flood);
  reader = g_thread_new ("flood-read", flood_read, &flood);

  while (g_get_monotonic_time () < flood.until)
    {
      gint64 start = g_get_monotonic_time ();

      assert_answers (fixture->other);
      slowest = MAX (slowest, g_get_monotonic_time () - start);
      n++;
    }
  g_thread_join (writer);
  /* The reader ends when the acceptor closes the half-closed connection
   * after the last reply; it runs on this thread's main loop. */
  g_assert_true (pm_test_wait_until (none_kept, fixture->acceptor, PM_TEST_TIMEOUT_MS));
  g_thread_join (reader);
  g_test_message ("%u requests to another device during the flood, the slowest %" G_GINT64_FORMAT
                  " ms; the flood read %" G_GUINT64_FORMAT " bytes of replies",
                  n, slowest / 1000, flood.bytes_read);
  g_assert_cmpuint (flood.bytes_read, >, 0);
  g_assert_cmpint (slowest / 1000, <, FLOOD_LATENCY_MS);
  g_bytes_unref (flood.requests);
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
  ADD ("/keepalive/answered/same-reply", NULL, test_answered_same_reply);
  ADD ("/keepalive/answered/not-under-fault", NULL, test_answered_not_under_fault);
  ADD ("/keepalive/answered/other-faults", NULL, test_answered_other_faults);
  ADD ("/keepalive/answered/unusual-heads", NULL, test_answered_unusual_heads);
  ADD ("/keepalive/answered/unread", NULL, test_answered_unread);
  ADD ("/keepalive/answered/flood", NULL, test_answered_flood);
#undef ADD

  return g_test_run ();
}
