/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-daemon"
/* For prlimit(). */
#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <glib/gstdio.h>

#include "pm-test-util.h"

/*
 * Tests of the real daemon, run as a subprocess and spoken to over TCP:
 * start-up and the listing, signals, configuration errors, the
 * environment, ports that are taken, --seed, and how it holds up under
 * abandoned connections, huge bodies and running out of descriptors.
 */

#define ISO_TIME_PATTERN "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"

/* ---- helpers -------------------------------------------------------------- */

/* Fails the test with a one-line reason, after showing what the daemon
 * said (as TAP comments) and stopping it if it still runs. */
static void G_GNUC_PRINTF (2, 3) G_GNUC_NORETURN
fail_with_output (PmTestDaemon *daemon,
                  const char   *format,
                  ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);

  g_test_message ("The daemon said:\n%s", daemon->output->str);
  if (g_subprocess_get_identifier (daemon->process) != NULL)
    g_subprocess_force_exit (daemon->process);
  g_error ("%s", reason);
}

/* Waits until @daemon has written @text, and fails the test if it does
 * not; returns @daemon. */
static PmTestDaemon *
wait_for_output (PmTestDaemon *daemon,
                 const char   *text)
{
  if (!pm_test_daemon_output_contains (daemon, text, PM_TEST_TIMEOUT_MS))
    fail_with_output (daemon, "The daemon did not say “%s”", text);
  return daemon;
}

/* Spawns the daemon and waits until it has written @text. */
static PmTestDaemon *
spawn_and_wait_for (const char *const *args,
                    const char *const *environment,
                    const char        *text)
{
  return wait_for_output (pm_test_daemon_spawn (args, environment), text);
}

/* Starts the daemon on exactly these ports with more arguments. */
static PmTestDaemon *
start_on_ports (guint              listing_port,
                GArray            *ports,
                const char *const *extra_args,
                const char        *wait_text)
{
  return wait_for_output (pm_test_daemon_spawn_on_ports (listing_port, ports, extra_args, NULL),
                          wait_text);
}

/* Whether one line of the daemon's output contains every one of @needles. */
static gboolean
output_has_line_with (PmTestDaemon      *daemon,
                      const char *const *needles)
{
  g_auto(GStrv) lines = g_strsplit (daemon->output->str, "\n", -1);
  guint i, j;

  for (i = 0; lines[i] != NULL; i++)
    {
      gboolean all = TRUE;

      for (j = 0; needles[j] != NULL && all; j++)
        all = strstr (lines[i], needles[j]) != NULL;
      if (all)
        return TRUE;
    }
  return FALSE;
}

/* Connects to @host:@port; returns the error, NULL if it connected. */
static GError *
try_connect (const char *host,
             guint       port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string (host, port);
  g_autoptr(GSocketConnection) connection = NULL;
  GError *error = NULL;

  g_assert_nonnull (address);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  return error;
}

static void
assert_refused (const char *host,
                guint       port)
{
  g_autoptr(GError) error = try_connect (host, port);

  if (error == NULL)
    g_error ("%s port %u accepted a connection; it should refuse it", host, port);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

/* Checks that @servers lists exactly @ports with hostnames mockaxe<N>,
 * N taken from @numbers. */
static void
assert_servers (JsonArray   *servers,
                const guint *ports,
                const guint *numbers,
                guint        n)
{
  g_autoptr(GRegex) iso = g_regex_new (ISO_TIME_PATTERN, 0, 0, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  guint i;

  g_assert_cmpuint (json_array_get_length (servers), ==, n);
  for (i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (servers, i);
      JsonObject *server;
      const char *start_time;
      g_autofree char *hostname = g_strdup_printf ("mockaxe%u", numbers[i]);
      g_autoptr(GDateTime) time = NULL;
      GTimeSpan skew;

      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      server = json_node_get_object (node);
      g_assert_cmpuint (json_object_get_size (server), ==, 3);

      g_assert_cmpint (json_node_get_int (pm_test_member_value (server, "port", G_TYPE_INT64)), ==,
                       ports[i]);

      g_assert_cmpstr (json_object_get_string_member_with_default (server, "hostname", NULL), ==, hostname);

      start_time = json_object_get_string_member_with_default (server, "startTime", NULL);
      g_assert_nonnull (start_time);
      if (!g_regex_match (iso, start_time, 0, NULL))
        g_error ("startTime “%s” is not like 2026-11-27T10:30:45.123Z", start_time);
      time = g_date_time_new_from_iso8601 (start_time, NULL);
      g_assert_nonnull (time);
      g_assert_cmpint (g_date_time_get_utc_offset (time), ==, 0);
      skew = g_date_time_difference (now, time);
      g_assert_cmpint (skew, <, 60 * G_TIME_SPAN_SECOND);
      g_assert_cmpint (skew, >, -60 * G_TIME_SPAN_SECOND);
    }
}

static void
assert_info_hostname_at (SoupSession *session,
                         const char  *host,
                         guint        port,
                         guint        number)
{
  g_autoptr(JsonObject) info = pm_test_get_info (session, host, port);
  g_autofree char *hostname = g_strdup_printf ("mockaxe%u", number);

  g_assert_cmpstr (json_object_get_string_member_with_default (info, "hostname", NULL), ==, hostname);
}

static void
assert_info_hostname (SoupSession *session,
                      guint        port,
                      guint        number)
{
  g_autoptr(JsonObject) info = pm_test_get_info (session, "127.0.0.1", port);
  g_autofree char *hostname = g_strdup_printf ("mockaxe%u", number);

  g_assert_cmpstr (json_object_get_string_member_with_default (info, "hostname", NULL), ==, hostname);
}

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
on_cancel_timeout (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

/* A GET that gives up after @timeout_ms; returns the status, 0 on error. */
static guint
try_get (SoupSession *session,
         const char  *url,
         guint        timeout_ms)
{
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  guint id;

  id = g_timeout_add (timeout_ms, on_cancel_timeout, cancellable);
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, cancellable,
                                    pm_test_keep_result, &result);
  g_assert_true (pm_test_wait_result (&result, timeout_ms + PM_TEST_TIMEOUT_MS));
  if (!g_cancellable_is_cancelled (cancellable))
    g_source_remove (id);

  body = soup_session_send_and_read_finish (session, result, &error);
  return error == NULL ? soup_message_get_status (msg) : 0;
}

/*
 * Reads one HTTP/1.x response from @in: the headers, then a body of
 * Content-Length bytes, or up to the end of the stream without one.
 * Returns the status, 0 if there was no status line.
 */
static guint
read_http_response (GInputStream *in,
                    GString      *out_body)
{
  g_autoptr(GString) buffer = g_string_new (NULL);
  char chunk[16384];
  gsize header_length = 0;
  guint64 content_length = 0;
  gboolean has_length = FALSE;
  gssize n;

  for (;;)
    {
      if (header_length == 0)
        {
          const char *end = strstr (buffer->str, "\r\n\r\n");

          if (end != NULL)
            {
              g_autofree char *headers = g_ascii_strdown (buffer->str, end + 2 - buffer->str);
              const char *length = strstr (headers, "\r\ncontent-length:");

              header_length = end + 4 - buffer->str;
              if (length != NULL)
                {
                  has_length = TRUE;
                  content_length = g_ascii_strtoull (length + strlen ("\r\ncontent-length:"), NULL, 10);
                }
            }
        }
      if (header_length > 0 && has_length && buffer->len >= header_length + content_length)
        break;

      n = g_input_stream_read (in, chunk, sizeof chunk, NULL, NULL);
      if (n <= 0)
        break;
      g_string_append_len (buffer, chunk, n);
    }

  if (header_length == 0 || !g_str_has_prefix (buffer->str, "HTTP/1.") || buffer->len < 12)
    return 0;
  if (out_body != NULL)
    g_string_append_len (out_body, buffer->str + header_length, buffer->len - header_length);
  return (guint) g_ascii_strtoull (buffer->str + 9, NULL, 10);
}

/* ---- start-up and the listing --------------------------------------------- */

static void
test_listing (void)
{
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (3, NULL, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(JsonArray) servers = NULL;
  const guint numbers[] = { 1, 2, 3 };
  guint i;

  servers = pm_test_get_servers (session, daemon->listing_port);
  assert_servers (servers, (const guint *) daemon->ports->data, numbers, 3);

  for (i = 0; i < json_array_get_length (servers); i++)
    {
      JsonObject *server = json_array_get_object_element (servers, i);

      g_assert_cmpint (json_object_get_int_member (server, "port"), !=, daemon->listing_port);
    }

  for (i = 0; i < 3; i++)
    {
      guint port = g_array_index (daemon->ports, guint, i);
      g_autoptr(JsonObject) info = pm_test_get_info (session, "127.0.0.1", port);
      g_autofree char *hostname = g_strdup_printf ("mockaxe%u", i + 1);

      g_assert_cmpstr (json_object_get_string_member_with_default (info, "hostname", NULL), ==, hostname);
      if (i % 2 == 0)
        {
          /* Legacy shape */
          g_assert_true (json_object_has_member (info, "fanSpeedRpm"));
          g_assert_false (json_object_has_member (info, "history"));
        }
      else
        {
          /* New shape */
          g_assert_true (json_object_has_member (info, "history"));
          g_assert_false (json_object_has_member (info, "fanSpeedRpm"));
        }
    }

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* ---- signals -------------------------------------------------------------- */

static void
test_signal (gconstpointer data)
{
  int signum = GPOINTER_TO_INT (data);
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (2, NULL, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  guint i;

  /* It is up and answering before the signal. */
  assert_info_hostname (session, g_array_index (daemon->ports, guint, 0), 1);
  g_object_unref (g_steal_pointer (&session));

  g_subprocess_send_signal (daemon->process, signum);
  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 0);
  g_assert_true (g_subprocess_get_if_exited (daemon->process));

  assert_refused ("127.0.0.1", daemon->listing_port);
  for (i = 0; i < daemon->ports->len; i++)
    assert_refused ("127.0.0.1", g_array_index (daemon->ports, guint, i));
}

/* A signal that arrives while the fleet is still binding its ports also
 * ends the daemon cleanly.  2000 devices take tens of milliseconds to
 * start; the signal is sent as soon as the daemon says it is starting
 * (whether it lands before or after the last bind, the exit must be 0). */
static void
test_signal_during_startup (void)
{
  g_autoptr(GArray) listing = pm_test_free_ports (1, NULL);
  g_autofree char *listing_text = g_strdup_printf ("%u", g_array_index (listing, guint, 0));
  g_autoptr(PmTestDaemon) daemon = NULL;
  const char *args[] = { "--listing-port", listing_text, "--ports", "21000-22999", NULL };

  /* Ports of the range that happen to be taken are left out; no matter. */
  daemon = pm_test_daemon_spawn (args, NULL);
  g_assert_true (pm_test_daemon_output_contains (daemon, "Seed", PM_TEST_TIMEOUT_MS));
  g_subprocess_send_signal (daemon->process, SIGTERM);
  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 0);
  g_assert_true (g_subprocess_get_if_exited (daemon->process));
  /* No port of the range is checked now: the daemon is gone and its
   * sockets with it, and the fixed range may be anyone's by now (another
   * run of this test, or another program on the machine). */
}

static gboolean
websocket_closed (gpointer user_data)
{
  return soup_websocket_connection_get_state (user_data) == SOUP_WEBSOCKET_STATE_CLOSED;
}

static void
test_signal_with_websocket (void)
{
  const char *const args[] = { "--logs", NULL };
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (1, args, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupWebsocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/api/ws",
                                          g_array_index (daemon->ports, guint, 0));
  gint64 start;

  conn = pm_test_websocket_connect (session, url, &error);
  g_assert_no_error (error);
  g_assert_cmpint (soup_websocket_connection_get_state (conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_true (pm_test_daemon_output_contains (daemon, "log client", PM_TEST_TIMEOUT_MS));

  start = g_get_monotonic_time ();
  g_subprocess_send_signal (daemon->process, SIGTERM);
  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);

  g_assert_true (pm_test_wait_until (websocket_closed, conn, PM_TEST_TIMEOUT_MS));
}

/* ---- configuration errors --------------------------------------------------- */

/*
 * In the strings of a case, @L@ stands for a free listing port, @P@ and
 * @Q@ for two free device ports.  Before the case's own environment the
 * daemon gets LISTING_PORT=@L@ and PORTS=@P@, so that it would start on
 * free ports if it did start.
 */
typedef struct
{
  const char *name;
  const char *args[4];
  const char *env[3];
  const char *value;
  const char *source;
} ConfigErrorCase;

static const ConfigErrorCase config_error_cases[] = {
  { "ports-not-a-number", { NULL }, { "PORTS=abc", NULL }, "abc", "PORTS" },
  { "ports-zero", { NULL }, { "PORTS=0", NULL }, "0", "PORTS" },
  { "ports-too-large", { NULL }, { "PORTS=70000", NULL }, "70000", "PORTS" },
  { "ports-empty-entry", { NULL }, { "PORTS=7751,,7752", NULL }, "7751,,7752", "PORTS" },
  { "ports-twice", { NULL }, { "PORTS=7751,7751", NULL }, "7751", "PORTS" },
  { "ports-option", { "--ports", "abc", NULL }, { NULL }, "abc", "--ports" },
  { "listing-not-a-number", { NULL }, { "LISTING_PORT=x", NULL }, "x", "LISTING_PORT" },
  { "logs-maybe", { NULL }, { "LOGS_PUB_ENABLED=maybe", NULL }, "maybe", "LOGS_PUB_ENABLED" },
  { "bind-nonsense", { "--bind", "nonsense", NULL }, { NULL }, "nonsense", "--bind" },
  { "seed-negative", { "--seed", "-1", NULL }, { NULL }, "-1", "--seed" },
  { "unknown-option", { "--frobnicate", NULL }, { NULL }, "--frobnicate", "--frobnicate" },
  { "listing-in-ports", { NULL }, { "LISTING_PORT=@P@", "PORTS=@P@,@Q@", NULL }, "@P@", "LISTING_PORT" },
  { "profile-unknown", { NULL }, { "PROFILE=axeos-hyper", NULL }, "axeos-hyper", "PROFILE" },
  { "profile-option", { "--profile", "axeos-gamma,bogus", NULL }, { NULL }, "bogus", "--profile" },
  { "profile-option-beats-env", { "--profile", "bogus", NULL }, { "PROFILE=axeos-gamma", NULL }, "bogus", "--profile" },
  { "profile-empty-entry", { NULL }, { "PROFILE=axeos-gamma,,pluto-new", NULL }, "axeos-gamma,,pluto-new", "PROFILE" },
  { "profile-mixed-in-list", { NULL }, { "PROFILE=axeos-gamma,mixed", NULL }, "mixed", "PROFILE" },
  { "telemetry", { NULL }, { "TELEMETRY=simulate", NULL }, "simulate", "TELEMETRY" },
  { "telemetry-option", { "--telemetry", "fast", NULL }, { NULL }, "fast", "--telemetry" },
  { "network-gate", { NULL }, { "NETWORK_GATE=sometimes", NULL }, "sometimes", "NETWORK_GATE" },
  { "network-gate-option", { "--network-gate=sometimes", NULL }, { NULL }, "sometimes", "--network-gate" },
};

static char *
substitute (const char *text,
            guint       listing,
            guint       p,
            guint       q)
{
  g_autofree char *l_text = g_strdup_printf ("%u", listing);
  g_autofree char *p_text = g_strdup_printf ("%u", p);
  g_autofree char *q_text = g_strdup_printf ("%u", q);
  g_auto(GStrv) l_parts = g_strsplit (text, "@L@", -1);
  g_autofree char *l_done = g_strjoinv (l_text, l_parts);
  g_auto(GStrv) p_parts = g_strsplit (l_done, "@P@", -1);
  g_autofree char *p_done = g_strjoinv (p_text, p_parts);
  g_auto(GStrv) q_parts = g_strsplit (p_done, "@Q@", -1);

  return g_strjoinv (q_text, q_parts);
}

static void
test_config_error (gconstpointer data)
{
  const ConfigErrorCase *c = data;
  g_autoptr(GArray) ports = pm_test_free_ports (3, NULL);
  guint listing = g_array_index (ports, guint, 0);
  guint p = g_array_index (ports, guint, 1);
  guint q = g_array_index (ports, guint, 2);
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autofree char *value = substitute (c->value, listing, p, q);
  g_autofree char *escaped = g_regex_escape_string (value, -1);
  g_autofree char *pattern = g_strdup_printf ("(?<![[:alnum:]])%s(?![[:alnum:]])", escaped);
  guint i;

  for (i = 0; c->args[i] != NULL; i++)
    g_ptr_array_add (args, substitute (c->args[i], listing, p, q));
  g_ptr_array_add (args, NULL);
  g_ptr_array_add (env, g_strdup_printf ("LISTING_PORT=%u", listing));
  g_ptr_array_add (env, g_strdup_printf ("PORTS=%u", p));
  for (i = 0; c->env[i] != NULL; i++)
    g_ptr_array_add (env, substitute (c->env[i], listing, p, q));
  g_ptr_array_add (env, NULL);

  daemon = pm_test_daemon_spawn ((const char *const *) args->pdata,
                                 (const char *const *) env->pdata);
  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 2);

  /* These fail the case but let the others run. */
  if (!g_regex_match_simple (pattern, daemon->output->str, 0, 0))
    {
      g_test_message ("The daemon said:\n%s", daemon->output->str);
      g_test_fail_printf ("The message does not name the bad value “%s”", value);
    }
  if (strstr (daemon->output->str, c->source) == NULL)
    {
      g_test_message ("The daemon said:\n%s", daemon->output->str);
      g_test_fail_printf ("The message does not name where the value came from (%s)", c->source);
    }

  /* Nothing was started. */
  g_assert_null (strstr (daemon->output->str, "listening on"));
  g_assert_null (strstr (daemon->output->str, "Listing server on"));
  assert_refused ("127.0.0.1", listing);
  assert_refused ("127.0.0.1", p);
  assert_refused ("127.0.0.1", q);
}

/* A bad value a user gives is quoted shortened and escaped: 100 KiB in
 * PORTS, a newline, bytes that are not UTF-8 and a long unknown option
 * each give two lines (the message and the hint), valid UTF-8, and a
 * message that quotes at most 64 characters and says how long the value
 * was. */
typedef struct
{
  const char *name;
  const char *arg;       /* if not NULL, the one argument */
  const char *env;       /* if not NULL, VAR=VALUE */
  const char *expected;  /* in the message */
} QuotedCase;

static void
test_config_error_quoted (void)
{
  g_autofree char *long_ports = g_strnfill (100 * 1024, '9');
  g_autofree char *long_ports_env = g_strconcat ("PORTS=7751,", long_ports, NULL);
  g_autofree char *long_option_name = g_strnfill (100 * 1024, 'y');
  g_autofree char *long_option = g_strconcat ("--", long_option_name, NULL);
  g_autofree char *long_argument = g_strnfill (100 * 1024, 'z');
  const QuotedCase cases[] = {
    { "100 KiB in PORTS", NULL, long_ports_env, "9999999999… (102400 bytes)' is not a port number" },
    { "a newline in PORTS", NULL, "PORTS=77\n51", "'77\\n51'" },
    { "escape and C1 in LOGS_PUB_ENABLED", NULL, "LOGS_PUB_ENABLED=\x1b[31m\xc2\x85", "'\\x1B[31m\\u0085'" },
    { "not UTF-8 in LOGS_PUB_ENABLED", NULL, "LOGS_PUB_ENABLED=tr\xff\xfeue", "'tr\\xFF\\xFEue'" },
    { "an unknown option of 100 KiB", long_option, NULL, "yyyy… (" },
    { "an argument of 100 KiB", long_argument, NULL, "zzzz… (102400 bytes)'" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *args[] = { cases[i].arg, NULL };
      const char *env[] = { "LISTING_PORT=0", "PORTS=7751", cases[i].env, NULL };
      g_autoptr(PmTestDaemon) daemon = NULL;
      g_auto(GStrv) lines = NULL;

      g_test_message ("%s", cases[i].name);
      daemon = pm_test_daemon_spawn (args, env);
      g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 2);
      if (!g_utf8_validate (daemon->output->str, daemon->output->len, NULL))
        fail_with_output (daemon, "%s: the output is not UTF-8", cases[i].name);
      lines = g_strsplit (daemon->output->str, "\n", -1);
      /* The message, the hint, and the empty rest after the last newline. */
      if (g_strv_length (lines) != 3 || lines[2][0] != '\0')
        fail_with_output (daemon, "%s: the output is not two lines", cases[i].name);
      if (g_utf8_strlen (lines[0], -1) > 200 || strstr (lines[0], cases[i].expected) == NULL)
        fail_with_output (daemon, "%s: the message does not quote “%s” (at most 200 characters in all)",
                          cases[i].name, cases[i].expected);
    }
}

/* ---- the environment ---------------------------------------------------- */

static void
test_environment (void)
{
  g_autoptr(GArray) ports = pm_test_free_ports (3, NULL);
  guint listing = g_array_index (ports, guint, 0);
  guint device_ports[2];
  g_autofree char *listing_env = g_strdup_printf ("LISTING_PORT=%u", listing);
  g_autofree char *ports_env = NULL;
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(JsonArray) servers = NULL;
  g_autoptr(SoupWebsocketConnection) conn = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ws_url = NULL;
  const guint numbers[] = { 1, 2 };
  const char *env[4] = { NULL, NULL, "LOGS_PUB_ENABLED=true", NULL };
  const char *const no_args[] = { NULL };

  device_ports[0] = g_array_index (ports, guint, 1);
  device_ports[1] = g_array_index (ports, guint, 2);
  ports_env = g_strdup_printf ("PORTS=%u,%u", device_ports[0], device_ports[1]);
  env[0] = listing_env;
  env[1] = ports_env;

  daemon = spawn_and_wait_for (no_args, env, "Listing server on");
  servers = pm_test_get_servers (session, listing);
  assert_servers (servers, device_ports, numbers, 2);
  assert_info_hostname (session, device_ports[1], 2);

  ws_url = g_strdup_printf ("ws://127.0.0.1:%u/api/ws", device_ports[0]);
  conn = pm_test_websocket_connect (session, ws_url, &error);
  g_assert_no_error (error);
  g_assert_nonnull (conn);
  g_assert_cmpint (soup_websocket_connection_get_state (conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_assert_true (pm_test_wait_until (websocket_closed, conn, PM_TEST_TIMEOUT_MS));

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

static void
test_option_beats_environment (void)
{
  g_autoptr(GArray) ports = pm_test_free_ports (5, NULL);
  guint env_listing = g_array_index (ports, guint, 0);
  guint listing = g_array_index (ports, guint, 1);
  guint a = g_array_index (ports, guint, 2);
  guint b = g_array_index (ports, guint, 3);
  guint c = g_array_index (ports, guint, 4);
  g_autofree char *listing_env = g_strdup_printf ("LISTING_PORT=%u", env_listing);
  g_autofree char *ports_env = g_strdup_printf ("PORTS=%u,%u", a, b);
  g_autofree char *listing_arg = g_strdup_printf ("%u", listing);
  g_autofree char *ports_arg = g_strdup_printf ("%u", c);
  const char *const env[] = { listing_env, ports_env, "LOGS_PUB_ENABLED=true", NULL };
  const char *const args[] = { "--listing-port", listing_arg, "--ports", ports_arg,
                               "--logs=false", NULL };
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(JsonArray) servers = NULL;
  g_autoptr(PmTestResponse) ws = NULL;
  g_autofree char *ws_url = g_strdup_printf ("http://127.0.0.1:%u/api/ws", c);
  const guint numbers[] = { 1 };

  daemon = spawn_and_wait_for (args, env, "Listing server on");
  servers = pm_test_get_servers (session, listing);
  assert_servers (servers, &c, numbers, 1);
  assert_info_hostname (session, c, 1);
  assert_refused ("127.0.0.1", env_listing);
  assert_refused ("127.0.0.1", a);
  assert_refused ("127.0.0.1", b);

  /* --logs=false beats LOGS_PUB_ENABLED=true: no log stream. */
  ws = pm_test_http (session, "GET", ws_url, NULL, NULL, 0);
  g_assert_cmpuint (ws->status, ==, SOUP_STATUS_NOT_FOUND);

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* ---- --version and --help ------------------------------------------------ */

static void
test_version (void)
{
  const char *const args[] = { "--version", NULL };
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_spawn (args, NULL);

  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 0);
  g_assert_cmpstr (daemon->output->str, ==, "plutomock " PACKAGE_VERSION "\n");
}

static void
test_help (void)
{
  const char *const args[] = { "--help", NULL };
  const char *const options[] = { "--listing-port", "--ports", "--logs", "--bind", "--seed" };
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_spawn (args, NULL);
  gsize i;

  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 0);
  for (i = 0; i < G_N_ELEMENTS (options); i++)
    if (strstr (daemon->output->str, options[i]) == NULL)
      fail_with_output (daemon, "--help does not mention %s", options[i]);
}

/* ---- taken ports ------------------------------------------------------------ */

/* A socket listening on 127.0.0.1:@port, so nobody else can have it. */
static GSocket *
occupy_port (guint port)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", port);
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&socket);
}

static gboolean
array_holds (GArray *ports,
             guint   port)
{
  guint i;

  for (i = 0; i < ports->len; i++)
    if (g_array_index (ports, guint, i) == port)
      return TRUE;
  return FALSE;
}

static void
test_device_port_taken (void)
{
  g_autoptr(GArray) all = pm_test_free_ports (4, NULL);
  guint listing = g_array_index (all, guint, 0);
  g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GSocket) taken = NULL;
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(JsonArray) servers = NULL;
  g_autofree char *taken_text = NULL;
  guint listed[2];
  const guint numbers[] = { 1, 3 };

  g_array_append_vals (ports, &g_array_index (all, guint, 1), 3);
  taken = occupy_port (g_array_index (ports, guint, 1));
  taken_text = g_strdup_printf ("%u", g_array_index (ports, guint, 1));

  daemon = start_on_ports (listing, ports, NULL, "Listing server on");

  {
    const char *const needles[] = { "mockaxe2", taken_text, "in use", NULL };

    if (!output_has_line_with (daemon, needles))
      fail_with_output (daemon, "No line names mockaxe2, port %s and why", taken_text);
  }

  listed[0] = g_array_index (ports, guint, 0);
  listed[1] = g_array_index (ports, guint, 2);
  servers = pm_test_get_servers (session, listing);
  assert_servers (servers, listed, numbers, 2);
  assert_info_hostname (session, listed[0], 1);
  assert_info_hostname (session, listed[1], 3);

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

static void
test_listing_port_taken (void)
{
  g_autoptr(GArray) all = pm_test_free_ports (3, NULL);
  guint listing = g_array_index (all, guint, 0);
  g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GSocket) taken = occupy_port (listing);
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *listing_text = g_strdup_printf ("%u", listing);
  const char *const needles[] = { "Listing server", listing_text, "in use", NULL };

  g_array_append_vals (ports, &g_array_index (all, guint, 1), 2);
  daemon = start_on_ports (listing, ports, NULL, "Listing server");

  if (!output_has_line_with (daemon, needles))
    fail_with_output (daemon, "No line says the listing port %u is taken", listing);
  g_assert_null (strstr (daemon->output->str, "Listing server on"));

  assert_info_hostname (session, g_array_index (ports, guint, 0), 1);
  assert_info_hostname (session, g_array_index (ports, guint, 1), 2);

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* A second daemon on the same ports (no D-Bus to stop it before): one
 * message that says the ports are taken and what probably runs, exit
 * status 1, and the first daemon goes on. */
static void
test_all_ports_taken (void)
{
  g_autoptr(PmTestDaemon) first = pm_test_daemon_start (3, NULL, NULL);
  g_autoptr(PmTestDaemon) second = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *listing_text = g_strdup_printf ("and %u are all in use", first->listing_port);
  const char *const needles[] = { listing_text, "is another plutomock running?", "plutomockctl status", NULL };
  g_auto(GStrv) lines = NULL;
  guint i, n_lines = 0;

  second = pm_test_daemon_spawn_on_ports (first->listing_port, first->ports, NULL, NULL);
  g_assert_cmpint (pm_test_daemon_wait (second), ==, 1);
  if (!output_has_line_with (second, needles))
    fail_with_output (second, "No line says that every port is in use");
  /* That line names every device port, alone or in a range. */
  for (i = 0; i < first->ports->len; i++)
    {
      guint port = g_array_index (first->ports, guint, i);
      g_autofree char *text = g_strdup_printf ("%u", port);

      if (strstr (second->output->str, text) == NULL)
        {
          guint lower = port - 1, upper = port + 1;
          g_autofree char *range = NULL;

          /* Within a FIRST-LAST run: FIRST and LAST are device ports. */
          while (array_holds (first->ports, lower))
            lower--;
          while (array_holds (first->ports, upper))
            upper++;
          range = g_strdup_printf ("%u-%u", lower + 1, upper - 1);
          if (strstr (second->output->str, range) == NULL)
            fail_with_output (second, "The message does not name port %u", port);
        }
    }
  /* Nothing else: no warning per device. */
  lines = g_strsplit (second->output->str, "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && strstr (lines[i], "Seed ") == NULL)
      n_lines++;
  if (n_lines != 1 || strstr (second->output->str, "WARNING") != NULL)
    fail_with_output (second, "The daemon said more than the one message");

  /* The first one runs on. */
  assert_info_hostname (session, g_array_index (first->ports, guint, 0), 1);
  g_assert_cmpint (pm_test_daemon_stop (first), ==, 0);
}

/* ---- --seed ---------------------------------------------------------------- */

/* The info without what depends on the clock. */
static char *
info_without_clock (JsonObject *info)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_remove_member (info, "uptimeSeconds");
  json_object_remove_member (info, "hashRateTimestamp");
  if (json_object_has_member (info, "history"))
    json_object_remove_member (json_object_get_object_member (info, "history"), "timestampBase");
  json_node_set_object (node, info);
  return json_to_string (node, FALSE);
}

typedef struct
{
  char   *version;
  double  power;
  char   *rest;
} Sample;

static void
sample_clear (Sample *sample)
{
  g_clear_pointer (&sample->version, g_free);
  g_clear_pointer (&sample->rest, g_free);
}

/* Runs a fleet on @ports with @seed (NULL for none), takes the first
 * GET of each device, stops it; returns the seed it logged. */
static guint64
run_fleet (guint       listing,
           GArray     *ports,
           const char *seed,
           GArray     *samples)
{
  const char *const seed_args[] = { "--seed", seed, NULL };
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GRegex) regex = g_regex_new ("Seed ([0-9]+)", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *logged = NULL;
  guint i;

  daemon = start_on_ports (listing, ports, seed != NULL ? seed_args : NULL, "Listing server on");
  for (i = 0; i < ports->len; i++)
    {
      g_autoptr(JsonObject) info = pm_test_get_info (session, "127.0.0.1", g_array_index (ports, guint, i));
      Sample sample = { NULL, 0, NULL };

      sample.version = g_strdup (json_object_get_string_member (info, "version"));
      sample.power = json_object_get_double_member (info, "power");
      sample.rest = info_without_clock (info);
      g_array_append_val (samples, sample);
    }
  g_object_unref (g_steal_pointer (&session));
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);

  if (!g_regex_match (regex, daemon->output->str, 0, &match))
    fail_with_output (daemon, "The daemon did not log its seed");
  logged = g_match_info_fetch (match, 1);
  return g_ascii_strtoull (logged, NULL, 10);
}

static GArray *
samples_new (void)
{
  GArray *samples = g_array_new (FALSE, TRUE, sizeof (Sample));

  g_array_set_clear_func (samples, (GDestroyNotify) sample_clear);
  return samples;
}

static void
assert_same_samples (GArray *a,
                     GArray *b)
{
  guint i;

  g_assert_cmpuint (a->len, ==, b->len);
  for (i = 0; i < a->len; i++)
    {
      Sample *x = &g_array_index (a, Sample, i);
      Sample *y = &g_array_index (b, Sample, i);

      g_assert_cmpstr (x->version, ==, y->version);
      g_assert_cmpfloat (x->power, ==, y->power);
      g_assert_cmpstr (x->rest, ==, y->rest);
    }
}

static void
test_seed (void)
{
  g_autoptr(GArray) all = pm_test_free_ports (9, NULL);
  guint listing = g_array_index (all, guint, 0);
  g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) first = samples_new ();
  g_autoptr(GArray) second = samples_new ();
  g_autoptr(GArray) other = samples_new ();
  g_autoptr(GArray) drawn = samples_new ();
  g_autoptr(GArray) replayed = samples_new ();
  g_autofree char *drawn_text = NULL;
  guint64 seed;
  guint i, differ = 0;

  g_array_append_vals (ports, &g_array_index (all, guint, 1), 8);

  /* The same seed twice: the same fleet. */
  g_assert_cmpuint (run_fleet (listing, ports, "12345", first), ==, 12345);
  g_assert_cmpuint (run_fleet (listing, ports, "12345", second), ==, 12345);
  assert_same_samples (first, second);

  /* Another seed: another fleet. */
  g_assert_cmpuint (run_fleet (listing, ports, "54321", other), ==, 54321);
  for (i = 0; i < ports->len; i++)
    {
      Sample *x = &g_array_index (first, Sample, i);
      Sample *y = &g_array_index (other, Sample, i);

      if (g_strcmp0 (x->version, y->version) != 0 || x->power != y->power)
        differ++;
    }
  g_assert_cmpuint (differ, >, 0);

  /* No seed: it logs the one it drew, and that one gives the same fleet. */
  seed = run_fleet (listing, ports, NULL, drawn);
  drawn_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);
  g_assert_cmpuint (run_fleet (listing, ports, drawn_text, replayed), ==, seed);
  assert_same_samples (drawn, replayed);
}

/* ---- descriptors ------------------------------------------------------------ */

typedef struct
{
  guint port;
  guint n;
  guint ok;
  gint  done;
} ClientsData;

static gpointer
keep_alive_clients_thread (gpointer user_data)
{
  static const char request[] =
    "GET /api/system/info HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
  ClientsData *data = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", data->port);
  guint i;

  for (i = 0; i < data->n; i++)
    {
      g_autoptr(GSocketConnection) connection = NULL;
      GIOStream *stream;

      connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, NULL);
      if (connection == NULL)
        continue;
      stream = G_IO_STREAM (connection);
      if (g_output_stream_write_all (g_io_stream_get_output_stream (stream), request,
                                     strlen (request), NULL, NULL, NULL) &&
          read_http_response (g_io_stream_get_input_stream (stream), NULL) == SOUP_STATUS_OK)
        data->ok++;
      g_io_stream_close (stream, NULL, NULL);
    }

  pm_test_flag_set (&data->done);
  return NULL;
}

typedef struct
{
  PmTestDaemon *daemon;
  guint         limit;
} FdWait;

static gboolean
fds_at_most (gpointer user_data)
{
  FdWait *wait = user_data;

  return pm_test_daemon_count_fds (wait->daemon) <= wait->limit;
}

static void
test_no_fd_growth (void)
{
  static const char warm_up[] = "GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (1, NULL, NULL);
  guint port = g_array_index (daemon->ports, guint, 0);
  g_autofree char *reply = NULL;
  ClientsData data = { port, 500, 0, FALSE };
  FdWait wait;
  GThread *thread;
  guint baseline, tick;

  /* The reply has been read to the end when this returns. */
  reply = pm_test_raw_http (port, warm_up, strlen (warm_up));
  g_assert_true (g_str_has_prefix (reply, "HTTP/1.1 200"));
  baseline = pm_test_daemon_count_fds (daemon);

  thread = g_thread_new ("keep-alive-clients", keep_alive_clients_thread, &data);
  g_assert_true (pm_test_flag_wait (&data.done, 60000));
  g_thread_join (thread);
  g_assert_cmpuint (data.ok, ==, 500);

  wait.daemon = daemon;
  wait.limit = baseline;
  tick = g_timeout_add (50, on_tick, NULL);
  pm_test_wait_until (fds_at_most, &wait, PM_TEST_TIMEOUT_MS);
  g_source_remove (tick);
  g_assert_cmpuint (pm_test_daemon_count_fds (daemon), <=, baseline);

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* ---- memory after a burst of connections ---------------------------------- */

#define BURST_DEVICES 20
#define BURST_CLIENTS 3000
#define BURST_RSS_MARGIN_KIB 600

/* A figure of the daemon's /proc status, such as "VmRSS", in kB. */
static guint64
daemon_status_kb (PmTestDaemon *daemon,
                  const char   *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", g_subprocess_get_identifier (daemon->process));
  g_autofree char *status = NULL;
  g_autofree char *key = g_strdup_printf ("\n%s:", name);
  const char *line;

  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  line = strstr (status, key);
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen (key), NULL, 10);
}

static guint64
daemon_rss_kib (PmTestDaemon *daemon)
{
  return daemon_status_kb (daemon, "VmRSS");
}

typedef struct
{
  PmTestDaemon *daemon;
  guint64       limit;
} RssWait;

static gboolean
rss_at_most (gpointer user_data)
{
  RssWait *wait = user_data;

  return daemon_rss_kib (wait->daemon) <= wait->limit;
}

/* @n keep-alive clients spread over @daemon's devices, each having made
 * one request, all still open. */
static GPtrArray *
open_kept_clients (PmTestDaemon *daemon,
                   guint         n)
{
  static const char request[] = "GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  GPtrArray *clients = g_ptr_array_new_with_free_func (g_object_unref);
  guint i;

  for (i = 0; i < n; i++)
    {
      guint port = g_array_index (daemon->ports, guint, i % daemon->ports->len);
      g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", port);
      g_autoptr(GError) error = NULL;
      GSocketConnection *connection;
      GIOStream *stream;

      connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
      g_assert_no_error (error);
      stream = G_IO_STREAM (connection);
      g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (stream), request,
                                                strlen (request), NULL, NULL, NULL));
      g_assert_cmpuint (read_http_response (g_io_stream_get_input_stream (stream), NULL), ==, 200);
      g_ptr_array_add (clients, connection);
    }
  return clients;
}

/* 3000 clients that keep their connections and then all leave: once
 * they are gone the daemon is back to its size before them, within
 * BURST_RSS_MARGIN_KIB, in about a second (what the acceptor's sweep
 * takes to notice).  The margin holds what the first burst leaves for
 * good (some 300 KiB: tables grown, pages touched); GLib 2.74's slice
 * allocator and malloc() would keep another 1.3 MiB, some 400 bytes per
 * connection, for reuse by the process alone. */
static void
test_rss_after_burst (void)
{
  /* G_SLICE unset, as a user starts the daemon. */
  static const char *const environment[] = { "G_SLICE", NULL };
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(GPtrArray) clients = NULL;
  struct rlimit limit;
  FdWait fds;
  RssWait rss;
  guint64 before, peak, after;
  guint tick;

  if (PM_TEST_SANITIZED)
    {
      g_test_skip ("resident sizes mean nothing under AddressSanitizer");
      return;
    }
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  if (limit.rlim_cur < BURST_CLIENTS + 256)
    {
      limit.rlim_cur = MIN (limit.rlim_max, BURST_CLIENTS + 256);
      setrlimit (RLIMIT_NOFILE, &limit);
    }
  if (limit.rlim_cur < BURST_CLIENTS + 256)
    {
      g_test_skip ("not enough file descriptors for the clients");
      return;
    }

  daemon = pm_test_daemon_start (BURST_DEVICES, NULL, environment);
  tick = g_timeout_add (50, on_tick, NULL);

  /* A few clients first, so that the code they run is in. */
  clients = open_kept_clients (daemon, BURST_DEVICES);
  fds.daemon = daemon;
  fds.limit = pm_test_daemon_count_fds (daemon) - BURST_DEVICES;
  g_clear_pointer (&clients, g_ptr_array_unref);
  g_assert_true (pm_test_wait_until (fds_at_most, &fds, PM_TEST_TIMEOUT_MS));
  before = daemon_rss_kib (daemon);

  clients = open_kept_clients (daemon, BURST_CLIENTS);
  peak = daemon_rss_kib (daemon);
  g_clear_pointer (&clients, g_ptr_array_unref);
  g_assert_true (pm_test_wait_until (fds_at_most, &fds, PM_TEST_TIMEOUT_MS));

  rss.daemon = daemon;
  rss.limit = before + BURST_RSS_MARGIN_KIB;
  pm_test_wait_until (rss_at_most, &rss, PM_TEST_TIMEOUT_MS);
  after = daemon_rss_kib (daemon);
  g_source_remove (tick);
  g_test_message ("RSS %" G_GUINT64_FORMAT " KiB before %d clients, %" G_GUINT64_FORMAT
                  " KiB with them, %" G_GUINT64_FORMAT " KiB after they left",
                  before, BURST_CLIENTS, peak, after);
  g_assert_cmpuint (after, <=, before + BURST_RSS_MARGIN_KIB);
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* ---- body limit ------------------------------------------------------------ */

#define BIG_BUFFER_SIZE (64 * 1024)

typedef struct
{
  guint    port;
  gboolean chunked;
  guint64  size;
  guint64  sent;
  guint    status;
  GString *body;
  gint     done;
} BigBody;

static gpointer
big_body_thread (gpointer user_data)
{
  BigBody *data = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", data->port);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree char *buffer = g_malloc (BIG_BUFFER_SIZE);
  g_autofree char *head = NULL;
  g_autofree char *chunk_head = g_strdup_printf ("%x\r\n", BIG_BUFFER_SIZE);
  GOutputStream *out;
  guint64 sent = 0;

  memset (buffer, ' ', BIG_BUFFER_SIZE);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, NULL);
  if (connection == NULL)
    goto out;
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  if (data->chunked)
    head = g_strdup ("PATCH /api/system HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n");
  else
    head = g_strdup_printf ("PATCH /api/system HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: %" G_GUINT64_FORMAT "\r\n\r\n", data->size);

  /* The server may answer and close before it has read it all. */
  if (g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL))
    {
      while (sent < data->size)
        {
          gsize n = MIN (BIG_BUFFER_SIZE, data->size - sent);

          if (data->chunked)
            {
              g_assert (n == BIG_BUFFER_SIZE);
              if (!g_output_stream_write_all (out, chunk_head, strlen (chunk_head), NULL, NULL, NULL) ||
                  !g_output_stream_write_all (out, buffer, n, NULL, NULL, NULL) ||
                  !g_output_stream_write_all (out, "\r\n", 2, NULL, NULL, NULL))
                break;
            }
          else if (!g_output_stream_write_all (out, buffer, n, NULL, NULL, NULL))
            {
              break;
            }
          sent += n;
        }
      if (data->chunked && sent == data->size)
        g_output_stream_write_all (out, "0\r\n\r\n", 5, NULL, NULL, NULL);
    }

  data->sent = sent;
  data->status = read_http_response (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                                     data->body);

out:
  pm_test_flag_set (&data->done);
  return NULL;
}

static guint
send_big_body (guint    port,
               gboolean chunked,
               guint64  size,
               GString *body)
{
  BigBody data = { port, chunked, size, 0, 0, body, FALSE };
  GThread *thread = g_thread_new ("big-body", big_body_thread, &data);

  g_assert_true (pm_test_flag_wait (&data.done, 60000));
  g_thread_join (thread);
  g_test_message ("%s body: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes sent, status %u",
                  chunked ? "chunked" : "Content-Length", data.sent, size, data.status);
  return data.status;
}

/* VmHWM of the daemon, in kB. */
static guint64
daemon_peak_kb (PmTestDaemon *daemon)
{
  return daemon_status_kb (daemon, "VmHWM");
}

static void
assert_error_body (GString *body)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (body->str, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  g_assert_nonnull (json_object_get_string_member_with_default (json_node_get_object (node), "error", NULL));
}

static void
test_body_limit (void)
{
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (1, NULL, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GString) chunked_body = g_string_new (NULL);
  g_autoptr(GString) length_body = g_string_new (NULL);
  guint port = g_array_index (daemon->ports, guint, 0);
  guint64 before, after;

  assert_info_hostname (session, port, 1);
  before = daemon_peak_kb (daemon);

  g_assert_cmpuint (send_big_body (port, TRUE, 64 * 1024 * 1024, chunked_body), ==,
                    SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
  assert_error_body (chunked_body);
  g_assert_cmpuint (send_big_body (port, FALSE, 100000000, length_body), ==,
                    SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE);
  assert_error_body (length_body);

  after = daemon_peak_kb (daemon);
  g_test_message ("VmHWM %" G_GUINT64_FORMAT " kB before, %" G_GUINT64_FORMAT " kB after",
                  before, after);
  g_assert_cmpuint (after, <, before + 16 * 1024);

  assert_info_hostname (session, port, 1);
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* ---- running out of descriptors ---------------------------------------- */

static void
test_out_of_fds (void)
{
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (1, NULL, NULL);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  guint port = g_array_index (daemon->ports, guint, 0);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", port);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/api/system/info", port);
  struct rlimit limit = { 64, 64 };
  gint64 deadline;
  guint status = 0;
  guint i;

  assert_info_hostname (session, port, 1);

  /* The same as starting it under `prlimit --nofile=64:64`. */
  if (prlimit ((pid_t) atoi (g_subprocess_get_identifier (daemon->process)),
               RLIMIT_NOFILE, &limit, NULL) != 0)
    g_error ("prlimit() failed: %s", g_strerror (errno));

  for (i = 0; i < 80; i++)
    {
      g_autoptr(GError) error = NULL;
      GSocketConnection *connection;

      connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
      g_assert_no_error (error);
      g_ptr_array_add (idle, connection);
    }
  g_assert_true (pm_test_daemon_output_contains (daemon, "Out of file descriptors", PM_TEST_TIMEOUT_MS));

  for (i = 0; i < idle->len; i++)
    g_io_stream_close (g_ptr_array_index (idle, i), NULL, NULL);
  g_ptr_array_set_size (idle, 0);

  deadline = g_get_monotonic_time () + PM_TEST_TIMEOUT_MS * G_GINT64_CONSTANT (1000);
  while (g_get_monotonic_time () < deadline)
    {
      status = try_get (session, url, 1000);
      if (status == SOUP_STATUS_OK)
        break;
      pm_test_wait_ms (50);
    }
  g_assert_cmpuint (status, ==, SOUP_STATUS_OK);

  /* Said once, however many retries, and said when it is over. */
  g_assert_true (pm_test_daemon_output_contains (daemon, "Accepting connections again", PM_TEST_TIMEOUT_MS));
  g_assert_null (strstr (strstr (daemon->output->str, "Out of file descriptors") + 1,
                         "Out of file descriptors"));

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* ---- bind address ------------------------------------------------------------ */

static gboolean
ipv6_loopback_works (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);

  socket = g_socket_new (G_SOCKET_FAMILY_IPV6, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  return socket != NULL && g_socket_bind (socket, address, FALSE, NULL);
}

static void
test_bind_ipv6 (void)
{
  const char *const args[] = { "--bind", "::1", NULL };
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(JsonObject) info = NULL;
  g_autofree char *servers_url = NULL;
  g_autoptr(PmTestResponse) servers = NULL;
  guint port;

  if (!ipv6_loopback_works ())
    {
      g_test_skip ("IPv6 loopback is not available");
      return;
    }

  daemon = pm_test_daemon_start (1, args, NULL);
  port = g_array_index (daemon->ports, guint, 0);

  info = pm_test_get_info (session, "[::1]", port);
  g_assert_cmpstr (json_object_get_string_member_with_default (info, "hostname", NULL), ==, "mockaxe1");
  servers_url = g_strdup_printf ("http://[::1]:%u/servers", daemon->listing_port);
  servers = pm_test_http (session, "GET", servers_url, NULL, NULL, 0);
  g_assert_cmpuint (servers->status, ==, SOUP_STATUS_OK);

  assert_refused ("127.0.0.1", port);
  assert_refused ("127.0.0.1", daemon->listing_port);

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* Bound to every address, it logs URLs one can open: the loopback's. */
static void
test_bind_any (gconstpointer data)
{
  const char *any = data;
  gboolean ipv6 = strchr (any, ':') != NULL;
  const char *const args[] = { "--bind", any, NULL };
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *device_url = NULL;
  g_autofree char *listing_url = NULL;
  g_autofree char *any_url = NULL;
  g_autofree char *every = g_strdup_printf ("every %s address", ipv6 ? "IPv6" : "IPv4");
  guint port;

  if (ipv6 && !ipv6_loopback_works ())
    {
      g_test_skip ("IPv6 loopback is not available");
      return;
    }

  daemon = pm_test_daemon_start (1, args, NULL);
  port = g_array_index (daemon->ports, guint, 0);
  device_url = g_strdup_printf (ipv6 ? "listening on http://[::1]:%u" : "listening on http://127.0.0.1:%u",
                                port);
  listing_url = g_strdup_printf (ipv6 ? "Listing server on http://[::1]:%u/servers"
                                      : "Listing server on http://127.0.0.1:%u/servers",
                                 daemon->listing_port);
  any_url = g_strdup_printf (ipv6 ? "http://[%s]:" : "http://%s:", any);

  wait_for_output (daemon, listing_url);
  wait_for_output (daemon, device_url);
  wait_for_output (daemon, every);
  if (strstr (daemon->output->str, any_url) != NULL)
    fail_with_output (daemon, "The daemon logged a URL on %s", any);

  /* And the URL it logged does open. */
  assert_info_hostname_at (session, ipv6 ? "[::1]" : "127.0.0.1", port, 1);
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

/* Without a session bus it says that D-Bus control is off, why, and
 * where control over HTTP is. */
static void
test_no_bus_hint (void)
{
  g_autofree char *dir = g_dir_make_tmp ("plutomock-XXXXXX", NULL);
  g_autofree char *bus = g_strdup_printf ("DBUS_SESSION_BUS_ADDRESS=unix:path=%s/missing", dir);
  const char *const env[] = { bus, NULL };
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autofree char *control = NULL;
  g_autofree char *http = NULL;

  g_assert_nonnull (dir);
  daemon = pm_test_daemon_start (1, NULL, env);
  control = g_strdup_printf ("control over HTTP is at http://127.0.0.1:%u/control/v1", daemon->listing_port);
  http = g_strdup_printf ("plutomockctl --http http://127.0.0.1:%u", daemon->listing_port);
  wait_for_output (daemon, "dbus-run-session");
  {
    const char *const needles[] = { "D-Bus control is off", "no session bus", control, http,
                                    "dbus-run-session", NULL };

    if (!output_has_line_with (daemon, needles))
      fail_with_output (daemon, "No line says D-Bus control is off, why, and where HTTP control is");
  }
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  gsize i;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/daemon/listing", test_listing);
  g_test_add_data_func ("/daemon/signal/term", GINT_TO_POINTER (SIGTERM), test_signal);
  g_test_add_data_func ("/daemon/signal/int", GINT_TO_POINTER (SIGINT), test_signal);
  g_test_add_func ("/daemon/signal/term-with-websocket", test_signal_with_websocket);
  g_test_add_func ("/daemon/signal/during-startup", test_signal_during_startup);
  g_test_add_func ("/daemon/port-taken/device", test_device_port_taken);
  g_test_add_func ("/daemon/port-taken/listing", test_listing_port_taken);
  for (i = 0; i < G_N_ELEMENTS (config_error_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/daemon/config-error/%s", config_error_cases[i].name);

      g_test_add_data_func (path, &config_error_cases[i], test_config_error);
    }
  g_test_add_func ("/daemon/config-error/quoted", test_config_error_quoted);
  g_test_add_func ("/daemon/environment", test_environment);
  g_test_add_func ("/daemon/option-beats-environment", test_option_beats_environment);
  g_test_add_func ("/daemon/version", test_version);
  g_test_add_func ("/daemon/help", test_help);
  g_test_add_func ("/daemon/seed", test_seed);
  g_test_add_func ("/daemon/no-fd-growth", test_no_fd_growth);
  g_test_add_func ("/daemon/rss-after-burst", test_rss_after_burst);
  /* Resident sizes mean nothing under AddressSanitizer. */
  if (!PM_TEST_SANITIZED)
    g_test_add_func ("/daemon/body-limit", test_body_limit);
  g_test_add_func ("/daemon/out-of-fds", test_out_of_fds);
  g_test_add_func ("/daemon/bind-ipv6", test_bind_ipv6);
  g_test_add_data_func ("/daemon/bind-any/ipv4", "0.0.0.0", test_bind_any);
  g_test_add_data_func ("/daemon/bind-any/ipv6", "::", test_bind_any);
  g_test_add_func ("/daemon/port-taken/all", test_all_ports_taken);
  g_test_add_func ("/daemon/no-bus-hint", test_no_bus_hint);

  return g_test_run ();
}
