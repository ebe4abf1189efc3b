/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-fleet-page"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "pm-test-util.h"

/*
 * The fleet page in a real browser: headless Chromium, driven over the
 * DevTools protocol on a WebSocket, loads the page from a real daemon and
 * shows, restarts, adds and removes devices through it, while the test
 * compares what the page shows with what the daemon's control API says.
 *
 * Without Chromium the test is skipped, unless PLUTOMOCK_REQUIRE_BROWSER=1
 * makes that a failure.  PLUTOMOCK_CHROMIUM names another browser binary.
 * The screenshots go to PLUTOMOCK_TEST_LOG_DIR.
 *
 * Checks about the page fail the test and return, so that the fixture's
 * teardown still stops the browser and the daemon; should the test die
 * anyway, both die with it (PR_SET_PDEATHSIG).
 */

/* How long the browser may take to start, and any one wait on the page:
 * generous, for a loaded two-core machine. */
#define BROWSER_START_MS 60000
#define PAGE_WAIT_MS 30000
/* A restart takes the daemon's restart window (5 s), then a poll. */
#define RESTART_WAIT_MS 45000
#define CALL_TIMEOUT_MS 30000

#define CHECK(cond, ...)                  \
  G_STMT_START                            \
  {                                       \
    if (!(cond))                          \
      {                                   \
        g_test_fail_printf (__VA_ARGS__); \
        return;                           \
      }                                   \
  }                                       \
  G_STMT_END

/* ---- the browser ---------------------------------------------------------- */

typedef struct
{
  GSubprocess             *process;
  char                    *dir;        /* its private user data directory */
  gboolean                 exited;
  SoupSession             *session;
  SoupWebsocketConnection *ws;
  gboolean                 closed;
  char                    *page_session;  /* the page target's session */
  guint                    next_id;
  GHashTable              *replies;    /* id → JsonNode of the reply */
  GHashTable              *urls;       /* request id → URL */
  GPtrArray               *problems;   /* what the page got wrong, as text */
  guint                    n_polls;    /* requests for /control/v1/devices */
} Browser;

static char *
find_chromium (void)
{
  const char *names[] = { "chromium", "chromium-browser" };
  const char *given = g_getenv ("PLUTOMOCK_CHROMIUM");
  gsize i;

  if (given != NULL && *given != '\0')
    return g_find_program_in_path (given);
  for (i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *path = g_find_program_in_path (names[i]);

      if (path != NULL)
        return path;
    }
  return NULL;
}

/* In the child: a process group of its own, so that the browser's helper
 * processes can be stopped with it; and death with the test. */
static void
browser_child_setup (gpointer user_data)
{
  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
on_browser_exited (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  gboolean *exited = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *exited = TRUE;
}

static gboolean
is_set (gpointer user_data)
{
  return *(gboolean *) user_data;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
browser_free (Browser *browser)
{
  if (browser == NULL)
    return;
  if (browser->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (browser->ws, browser);
      g_clear_object (&browser->ws);
    }
  g_clear_object (&browser->session);
  if (browser->process != NULL)
    {
      const char *id = g_subprocess_get_identifier (browser->process);

      /* The browser and every helper it started, by its process group. */
      if (id != NULL)
        kill (-(pid_t) g_ascii_strtoll (id, NULL, 10), SIGKILL);
      g_subprocess_force_exit (browser->process);
      if (!browser->exited)
        pm_test_wait_until (is_set, &browser->exited, PM_TEST_TIMEOUT_MS);
      if (!browser->exited)
        g_subprocess_wait (browser->process, NULL, NULL);
      g_clear_object (&browser->process);
    }
  if (browser->dir != NULL)
    {
      if (g_test_failed ())
        {
          g_autofree char *log_path = g_build_filename (browser->dir, "browser.log", NULL);
          g_autofree char *log = NULL;

          /* Its last words: the rest is mostly about D-Bus. */
          if (g_file_get_contents (log_path, &log, NULL, NULL))
            g_test_message ("the browser said:\n%s", log + MAX (strlen (log), 4000) - 4000);
        }
      remove_tree (browser->dir);
      g_free (browser->dir);
    }
  g_clear_pointer (&browser->replies, g_hash_table_unref);
  g_clear_pointer (&browser->urls, g_hash_table_unref);
  g_clear_pointer (&browser->problems, g_ptr_array_unref);
  g_free (browser->page_session);
  g_free (browser);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Browser, browser_free)

static void browser_send (Browser    *browser,
                          gboolean    to_page,
                          const char *method,
                          JsonNode   *params);

static const char *
object_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return "";
  return json_node_get_string (node);
}

static JsonObject *
object_object (JsonObject *object,
               const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

/* The text of a console call's arguments. */
static char *
console_text (JsonObject *params)
{
  JsonNode *args = json_object_get_member (params, "args");
  GString *out = g_string_new (NULL);
  guint i;

  if (args != NULL && JSON_NODE_HOLDS_ARRAY (args))
    for (i = 0; i < json_array_get_length (json_node_get_array (args)); i++)
      {
        JsonObject *arg = json_array_get_object_element (json_node_get_array (args), i);
        JsonNode *value = json_object_get_member (arg, "value");
        g_autofree char *text = NULL;

        if (value != NULL)
          text = json_to_string (value, FALSE);
        else
          text = g_strdup (object_string (arg, "description"));
        g_string_append_printf (out, "%s%s", i > 0 ? " " : "", text);
      }
  return g_string_free (out, FALSE);
}

static void
handle_event (Browser    *browser,
              const char *method,
              JsonObject *params)
{
  if (g_str_equal (method, "Runtime.consoleAPICalled"))
    {
      const char *type = object_string (params, "type");

      if (g_str_equal (type, "error") || g_str_equal (type, "assert"))
        {
          g_autofree char *text = console_text (params);

          g_ptr_array_add (browser->problems, g_strdup_printf ("console.%s: %s", type, text));
        }
    }
  else if (g_str_equal (method, "Runtime.exceptionThrown"))
    {
      JsonObject *details = object_object (params, "exceptionDetails");
      JsonObject *exception = object_object (details, "exception");

      g_ptr_array_add (browser->problems,
                       g_strdup_printf ("exception: %s %s", object_string (details, "text"),
                                        object_string (exception, "description")));
    }
  else if (g_str_equal (method, "Log.entryAdded"))
    {
      JsonObject *entry = object_object (params, "entry");

      if (g_str_equal (object_string (entry, "level"), "error"))
        g_ptr_array_add (browser->problems,
                         g_strdup_printf ("log: %s (%s)", object_string (entry, "text"),
                                          object_string (entry, "url")));
    }
  else if (g_str_equal (method, "Network.requestWillBeSent"))
    {
      JsonObject *request = object_object (params, "request");
      const char *url = object_string (request, "url");

      g_hash_table_replace (browser->urls, g_strdup (object_string (params, "requestId")),
                            g_strdup (url));
      if (g_str_has_suffix (url, "/control/v1/devices") &&
          g_str_equal (object_string (request, "method"), "GET"))
        browser->n_polls++;
    }
  else if (g_str_equal (method, "Network.loadingFailed"))
    {
      const char *url = g_hash_table_lookup (browser->urls, object_string (params, "requestId"));

      g_ptr_array_add (browser->problems,
                       g_strdup_printf ("request failed: %s: %s", url != NULL ? url : "?",
                                        object_string (params, "errorText")));
    }
  else if (g_str_equal (method, "Network.responseReceived"))
    {
      JsonObject *response = object_object (params, "response");
      gint64 status = response != NULL ? json_object_get_int_member_with_default (response, "status", 0) : 0;

      if (status >= 400)
        g_ptr_array_add (browser->problems,
                         g_strdup_printf ("HTTP %" G_GINT64_FORMAT ": %s", status,
                                          object_string (response, "url")));
    }
  else if (g_str_equal (method, "Page.javascriptDialogOpening"))
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      g_ptr_array_add (browser->problems,
                       g_strdup_printf ("a %s dialog opened: %s", object_string (params, "type"),
                                        object_string (params, "message")));
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "accept");
      json_builder_add_boolean_value (builder, FALSE);
      json_builder_end_object (builder);
      browser_send (browser, TRUE, "Page.handleJavaScriptDialog", json_builder_get_root (builder));
    }
  else if (g_str_equal (method, "Target.targetCrashed") ||
           g_str_equal (method, "Inspector.targetCrashed"))
    {
      g_ptr_array_add (browser->problems, g_strdup ("the page crashed"));
    }
}

static void
on_ws_message (SoupWebsocketConnection *ws,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  Browser *browser = user_data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  gsize size;
  const char *data = g_bytes_get_data (message, &size);
  JsonObject *object;

  if (!json_parser_load_from_data (parser, data, size, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_ptr_array_add (browser->problems, g_strdup ("a DevTools message that is not a JSON object"));
      return;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  if (json_object_has_member (object, "id"))
    g_hash_table_replace (browser->replies,
                          GUINT_TO_POINTER ((guint) json_object_get_int_member (object, "id")),
                          json_node_copy (json_parser_get_root (parser)));
  else if (json_object_has_member (object, "method"))
    handle_event (browser, object_string (object, "method"), object_object (object, "params"));
}

static void
on_ws_closed (SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  Browser *browser = user_data;

  browser->closed = TRUE;
}

/* Sends a command; @params (transfer full) may be %NULL.  Returns its id. */
static guint
browser_send_full (Browser    *browser,
                   gboolean    to_page,
                   const char *method,
                   JsonNode   *params)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  guint id = ++browser->next_id;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, id);
  json_builder_set_member_name (builder, "method");
  json_builder_add_string_value (builder, method);
  if (to_page)
    {
      json_builder_set_member_name (builder, "sessionId");
      json_builder_add_string_value (builder, browser->page_session);
    }
  json_builder_set_member_name (builder, "params");
  if (params != NULL)
    json_builder_add_value (builder, params);
  else
    {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  soup_websocket_connection_send_text (browser->ws, text);
  return id;
}

static void
browser_send (Browser    *browser,
              gboolean    to_page,
              const char *method,
              JsonNode   *params)
{
  browser_send_full (browser, to_page, method, params);
}

typedef struct
{
  Browser *browser;
  guint    id;
} ReplyWait;

static gboolean
has_reply (gpointer user_data)
{
  ReplyWait *wait = user_data;

  return wait->browser->closed ||
         g_hash_table_contains (wait->browser->replies, GUINT_TO_POINTER (wait->id));
}

/* Sends a command and waits for its reply.  @params (transfer full).
 * Returns: (transfer full) (nullable): the result, or %NULL with @error */
static JsonObject *
browser_call (Browser    *browser,
              gboolean    to_page,
              const char *method,
              JsonNode   *params,
              GError    **error)
{
  ReplyWait wait = { browser, 0 };
  JsonNode *reply;
  JsonObject *object, *failure, *result;

  wait.id = browser_send_full (browser, to_page, method, params);
  pm_test_wait_until (has_reply, &wait, CALL_TIMEOUT_MS);
  reply = g_hash_table_lookup (browser->replies, GUINT_TO_POINTER (wait.id));
  if (reply == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no reply to %s%s", method,
                   browser->closed ? ": the DevTools connection closed" : "");
      return NULL;
    }
  object = json_node_get_object (reply);
  failure = object_object (object, "error");
  if (failure != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", method,
                   object_string (failure, "message"));
      g_hash_table_remove (browser->replies, GUINT_TO_POINTER (wait.id));
      return NULL;
    }
  result = object_object (object, "result");
  result = result != NULL ? json_object_ref (result) : json_object_new ();
  g_hash_table_remove (browser->replies, GUINT_TO_POINTER (wait.id));
  return result;
}

/* Params as JSON text, for brevity. */
static JsonNode *
params_from (const char *format,
             ...) G_GNUC_PRINTF (1, 2);

static JsonNode *
params_from (const char *format,
             ...)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *node;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  return node;
}

/* Whether the DevToolsActivePort file is there, or the browser gone. */
typedef struct
{
  Browser    *browser;
  const char *path;
} PortFileWait;

static gboolean
port_file_ready (gpointer user_data)
{
  PortFileWait *wait = user_data;
  g_autofree char *text = NULL;

  if (wait->browser->exited)
    return TRUE;
  return g_file_get_contents (wait->path, &text, NULL, NULL) && strchr (text, '\n') != NULL;
}

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Starts the browser, connects to it and opens a page to drive.
 * Returns: %NULL with @error if it could not. */
static Browser *
browser_start (const char *chromium,
               GError    **error)
{
  g_autoptr(Browser) browser = g_new0 (Browser, 1);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *port_path = NULL;
  g_autofree char *port_text = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *ws_url = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(JsonObject) created = NULL;
  g_autoptr(JsonObject) attached = NULL;
  PortFileWait wait;
  GAsyncResult *pending = NULL;
  guint tick;
  const char *const domains[] = { "Runtime.enable", "Log.enable", "Network.enable", "Page.enable" };
  gsize i;

  browser->replies = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) json_node_unref);
  browser->urls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  browser->problems = g_ptr_array_new_with_free_func (g_free);
  browser->dir = g_dir_make_tmp ("plutomock-browser-XXXXXX", error);
  if (browser->dir == NULL)
    return NULL;

  g_ptr_array_add (argv, g_strdup (chromium));
  g_ptr_array_add (argv, g_strdup ("--headless=new"));
  g_ptr_array_add (argv, g_strdup ("--disable-gpu"));
  if (geteuid () == 0)
    g_ptr_array_add (argv, g_strdup ("--no-sandbox"));
  g_ptr_array_add (argv, g_strdup_printf ("--user-data-dir=%s", browser->dir));
  g_ptr_array_add (argv, g_strdup ("--remote-debugging-port=0"));
  g_ptr_array_add (argv, g_strdup ("--no-first-run"));
  g_ptr_array_add (argv, g_strdup ("--no-default-browser-check"));
  g_ptr_array_add (argv, g_strdup ("--no-proxy-server"));
  g_ptr_array_add (argv, g_strdup ("--disable-extensions"));
  g_ptr_array_add (argv, g_strdup ("--disable-background-networking"));
  g_ptr_array_add (argv, g_strdup ("--disable-component-update"));
  g_ptr_array_add (argv, g_strdup ("--disable-sync"));
  g_ptr_array_add (argv, g_strdup ("--disable-dev-shm-usage"));
  g_ptr_array_add (argv, g_strdup ("--password-store=basic"));
  g_ptr_array_add (argv, g_strdup ("--mute-audio"));
  g_ptr_array_add (argv, g_strdup ("--hide-scrollbars"));
  g_ptr_array_add (argv, g_strdup ("--force-color-profile=srgb"));
  g_ptr_array_add (argv, g_strdup ("--window-size=1280,900"));
  g_ptr_array_add (argv, g_strdup ("about:blank"));
  g_ptr_array_add (argv, NULL);

  log_path = g_build_filename (browser->dir, "browser.log", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, browser_child_setup, NULL, NULL);
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_unsetenv (launcher, "MALLOC_CHECK_");
  browser->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (browser->process == NULL)
    return NULL;
  g_subprocess_wait_async (browser->process, NULL, on_browser_exited, &browser->exited);

  /* The browser writes its port when it listens; look every 50 ms. */
  port_path = g_build_filename (browser->dir, "DevToolsActivePort", NULL);
  wait.browser = browser;
  wait.path = port_path;
  tick = g_timeout_add (50, on_tick, NULL);
  pm_test_wait_until (port_file_ready, &wait, BROWSER_START_MS);
  g_source_remove (tick);
  if (browser->exited || !g_file_get_contents (port_path, &port_text, NULL, NULL))
    {
      g_autofree char *log = NULL;

      g_file_get_contents (log_path, &log, NULL, NULL);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the browser %s; it said:\n%s",
                   browser->exited ? "exited" : "did not start listening in time", log ? log : "");
      return NULL;
    }
  lines = g_strsplit (port_text, "\n", 3);
  ws_url = g_strdup_printf ("ws://127.0.0.1:%s%s", g_strstrip (lines[0]),
                            lines[1] != NULL ? g_strstrip (lines[1]) : "");

  browser->session = soup_session_new ();
  msg = soup_message_new ("GET", ws_url);
  soup_session_websocket_connect_async (browser->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, pm_test_keep_result, &pending);
  if (!pm_test_wait_result (&pending, CALL_TIMEOUT_MS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no DevTools connection to %s", ws_url);
      return NULL;
    }
  browser->ws = soup_session_websocket_connect_finish (browser->session, pending, error);
  g_clear_object (&pending);
  if (browser->ws == NULL)
    return NULL;
  /* A screenshot is one message of a few hundred kB. */
  soup_websocket_connection_set_max_incoming_payload_size (browser->ws, 0);
  soup_websocket_connection_set_keepalive_interval (browser->ws, 0);
  g_signal_connect (browser->ws, "message", G_CALLBACK (on_ws_message), browser);
  g_signal_connect (browser->ws, "closed", G_CALLBACK (on_ws_closed), browser);

  /* A page of its own, attached in flat mode: its commands and events
   * carry its session id on this one connection. */
  created = browser_call (browser, FALSE, "Target.createTarget",
                          params_from ("{\"url\":\"about:blank\"}"), error);
  if (created == NULL)
    return NULL;
  attached = browser_call (browser, FALSE, "Target.attachToTarget",
                           params_from ("{\"targetId\":\"%s\",\"flatten\":true}",
                                        object_string (created, "targetId")),
                           error);
  if (attached == NULL)
    return NULL;
  browser->page_session = g_strdup (object_string (attached, "sessionId"));
  for (i = 0; i < G_N_ELEMENTS (domains); i++)
    {
      g_autoptr(JsonObject) done = browser_call (browser, TRUE, domains[i], NULL, error);

      if (done == NULL)
        return NULL;
    }
  return g_steal_pointer (&browser);
}

/* Runs @expression in the page, awaiting a promise.
 * Returns: (transfer full) (nullable): its value, or %NULL with @error */
static JsonNode *
page_eval (Browser    *browser,
           const char *expression,
           GError    **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonObject) result = NULL;
  JsonObject *details, *value;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "expression");
  json_builder_add_string_value (builder, expression);
  json_builder_set_member_name (builder, "returnByValue");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "awaitPromise");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  result = browser_call (browser, TRUE, "Runtime.evaluate", json_builder_get_root (builder), error);
  if (result == NULL)
    return NULL;
  details = object_object (result, "exceptionDetails");
  if (details != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s %s", expression,
                   object_string (details, "text"),
                   object_string (object_object (details, "exception"), "description"));
      return NULL;
    }
  value = object_object (result, "result");
  if (value == NULL || !json_object_has_member (value, "value"))
    return json_node_new (JSON_NODE_NULL);
  return json_node_copy (json_object_get_member (value, "value"));
}

/* page_eval() for a string, a number or a boolean; fails the test on an
 * exception. */
static char *
page_eval_string (Browser    *browser,
                  const char *expression)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) value = page_eval (browser, expression, &error);

  g_assert_no_error (error);
  if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (value));
  return json_to_string (value, FALSE);
}

/* ---- what the page shows -------------------------------------------------- */

/* Every row of the table, as the page shows it. */
static const char rows_script[] =
  "Array.from(document.querySelectorAll('#device-rows tr')).map((tr) => {"
  "  const text = (name) => tr.querySelector('td.' + name).textContent;"
  "  const link = tr.querySelector('td.port a');"
  "  return {"
  "    key: Number(tr.dataset.port),"
  "    port: text('port'), href: link ? link.getAttribute('href') || '' : '',"
  "    hostname: text('hostname'), profile: text('profile'), firmware: text('firmware'),"
  "    state: text('state'),"
  "    faults: Array.from(tr.querySelectorAll('.fault'), (f) => f.textContent + '|' + f.title),"
  "    hashrate: text('hashrate'), temp: text('temp'), power: text('power'), fan: text('fan'),"
  "    shares: text('shares'), uptime: text('uptime'),"
  "    restart: tr.querySelector('button.restart').textContent,"
  "    restartLabel: tr.querySelector('button.restart').getAttribute('aria-label') || '',"
  "    remove: tr.querySelector('button.remove').textContent,"
  "  };"
  "})";

/* Whether the page's background is dark. */
static const char dark_script[] =
  "(() => { const c = getComputedStyle(document.body).backgroundColor.match(/[0-9.]+/g).map(Number);"
  " return String(c[0] + c[1] + c[2] < 3 * 128); })()";

typedef struct
{
  PmTestDaemon *daemon;
  SoupSession  *http;
  Browser      *browser;
  char         *chromium;
  char         *base;  /* http://127.0.0.1:<listing> */
  PmTestDaemon *forbidden;
} Fixture;

/* The daemon's devices, from the control API. */
static JsonArray *
api_devices (Fixture *f)
{
  g_autofree char *url = g_strdup_printf ("%s/control/v1/devices", f->base);
  g_autoptr(PmTestResponse) response = pm_test_http (f->http, "GET", url, NULL, NULL, 0);
  g_autoptr(JsonObject) object = NULL;

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  object = pm_test_response_object (response);
  return json_array_ref (json_object_get_array_member (object, "devices"));
}

static JsonObject *
page_rows (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) value = page_eval (f->browser, rows_script, &error);
  JsonObject *rows = json_object_new ();
  JsonArray *array;
  guint i;

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (value));
  array = json_node_get_array (value);
  for (i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *row = json_array_get_object_element (array, i);
      g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (row, "key"));

      json_object_set_object_member (rows, key, json_object_ref (row));
    }
  /* The order of the table, as one string of ports. */
  {
    GString *order = g_string_new (NULL);

    for (i = 0; i < json_array_get_length (array); i++)
      g_string_append_printf (order, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "",
                              json_object_get_int_member (json_array_get_object_element (array, i), "key"));
    json_object_set_string_member (rows, "order", order->str);
    g_string_free (order, TRUE);
  }
  return rows;
}

static JsonObject *
page_row (JsonObject *rows,
          guint       port)
{
  g_autofree char *key = g_strdup_printf ("%u", port);

  return object_object (rows, key);
}

/* Runs the main loop until @condition holds of what the page shows,
 * looking every 100 ms. */
typedef gboolean (*RowsCondition) (JsonObject *rows,
                                   gpointer    user_data);

static gboolean
wait_for_rows (Fixture      *f,
               RowsCondition condition,
               gpointer      user_data,
               guint         timeout_ms,
               JsonObject  **last)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      g_autoptr(JsonObject) rows = page_rows (f);

      if (condition (rows, user_data))
        {
          if (last != NULL)
            *last = g_steal_pointer (&rows);
          return TRUE;
        }
      if (g_get_monotonic_time () > deadline || f->browser->closed)
        {
          g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), rows);
          g_autofree char *text = json_to_string (node, TRUE);

          g_test_message ("the page shows: %s", text);
          return FALSE;
        }
      pm_test_wait_ms (100);
    }
}

/* Every device the daemon has, in port order, with its hostname, profile,
 * firmware and link. */
static gboolean
rows_match_daemon (JsonObject *rows,
                   gpointer    user_data)
{
  JsonArray *devices = user_data;
  GString *order = g_string_new (NULL);
  gboolean good = TRUE;
  guint i;

  for (i = 0; i < json_array_get_length (devices) && good; i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);
      gint64 port = json_object_get_int_member (device, "port");
      JsonObject *row = page_row (rows, (guint) port);
      g_autofree char *port_text = g_strdup_printf ("%" G_GINT64_FORMAT, port);
      g_autofree char *href = g_strdup_printf ("%s/", object_string (device, "url"));

      g_string_append_printf (order, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "", port);
      good = row != NULL &&
             g_str_equal (object_string (row, "port"), port_text) &&
             (g_str_equal (object_string (row, "href"), object_string (device, "url")) ||
              g_str_equal (object_string (row, "href"), href)) &&
             g_str_equal (object_string (row, "hostname"), object_string (device, "hostname")) &&
             g_str_equal (object_string (row, "profile"), object_string (device, "profile")) &&
             g_str_equal (object_string (row, "firmware"), object_string (device, "firmware"));
    }
  good = good && g_str_equal (order->str, object_string (rows, "order"));
  g_string_free (order, TRUE);
  return good;
}

typedef struct
{
  guint       port;
  const char *text;
} RowWant;

static gboolean
row_state_is (JsonObject *rows,
              gpointer    user_data)
{
  RowWant *want = user_data;
  JsonObject *row = page_row (rows, want->port);

  return row != NULL && g_str_equal (object_string (row, "state"), want->text);
}

static gboolean
row_hostname_is (JsonObject *rows,
                 gpointer    user_data)
{
  RowWant *want = user_data;
  JsonObject *row = page_row (rows, want->port);

  return row != NULL && g_str_equal (object_string (row, "hostname"), want->text);
}

static gboolean
row_has_fault (JsonObject *rows,
               gpointer    user_data)
{
  RowWant *want = user_data;
  JsonObject *row = page_row (rows, want->port);
  JsonArray *faults = row != NULL ? json_object_get_array_member (row, "faults") : NULL;
  guint i;

  for (i = 0; faults != NULL && i < json_array_get_length (faults); i++)
    if (g_str_has_prefix (json_array_get_string_element (faults, i), want->text))
      return TRUE;
  return FALSE;
}

static gboolean
row_gone (JsonObject *rows,
          gpointer    user_data)
{
  RowWant *want = user_data;

  return page_row (rows, want->port) == NULL;
}

/* Whether @text is a number (digits, commas, one point) then @unit. */
static gboolean
is_number_with_unit (const char *text,
                     const char *unit)
{
  const char *p = text;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p) || *p == ',' || *p == '.')
    p++;
  return g_str_equal (p, unit);
}

static JsonObject *
find_device (JsonArray  *devices,
             const char *profile)
{
  guint i;

  for (i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);

      if (g_str_equal (object_string (device, "profile"), profile))
        return device;
    }
  return NULL;
}

static char *
page_click (Fixture    *f,
            const char *selector)
{
  g_autofree char *script = g_strdup_printf (
    "(() => { const b = document.querySelector('%s');"
    " if (!b) return 'no ' + '%s'; if (b.disabled) return 'disabled';"
    " b.click(); return 'clicked'; })()", selector, selector);

  return page_eval_string (f->browser, script);
}

/* Writes a screenshot to PLUTOMOCK_TEST_LOG_DIR/@name, checking that it
 * is a PNG. */
static gboolean
save_screenshot (Fixture    *f,
                 const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) shot = NULL;
  g_autofree guchar *png = NULL;
  gsize size = 0;
  const char *dir = g_getenv ("PLUTOMOCK_TEST_LOG_DIR");
  static const guchar signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

  shot = browser_call (f->browser, TRUE, "Page.captureScreenshot",
                       params_from ("{\"format\":\"png\"}"), &error);
  if (shot == NULL)
    {
      g_test_fail_printf ("no screenshot: %s", error->message);
      return FALSE;
    }
  png = g_base64_decode (object_string (shot, "data"), &size);
  if (size < sizeof signature || memcmp (png, signature, sizeof signature) != 0)
    {
      g_test_fail_printf ("the screenshot %s is not a PNG", name);
      return FALSE;
    }
  if (dir != NULL && *dir != '\0')
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_mkdir_with_parents (dir, 0755);
      if (!g_file_set_contents (path, (const char *) png, size, &error))
        {
          g_test_fail_printf ("cannot save %s: %s", path, error->message);
          return FALSE;
        }
      g_test_message ("screenshot: %s (%" G_GSIZE_FORMAT " bytes)", path, size);
    }
  return TRUE;
}

/* Waits for the page to be drawn at its size: two animation frames. */
static void
page_settle (Fixture *f)
{
  g_autofree char *done = page_eval_string (
    f->browser,
    "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r('drawn'))))");

  g_assert_cmpstr (done, ==, "drawn");
}

/* Runs the main loop until @script gives @expected, looking every 100 ms. */
static gboolean
wait_for_text (Fixture    *f,
               const char *script,
               const char *expected,
               guint       timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      g_autofree char *text = page_eval_string (f->browser, script);

      if (g_str_equal (text, expected))
        return TRUE;
      if (g_get_monotonic_time () > deadline || f->browser->closed)
        {
          g_test_message ("%s gives %s, not %s", script, text, expected);
          return FALSE;
        }
      pm_test_wait_ms (100);
    }
}

static gboolean
set_viewport (Fixture *f,
              guint    width,
              guint    height)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) done = NULL;

  done = browser_call (f->browser, TRUE, "Emulation.setDeviceMetricsOverride",
                       params_from ("{\"width\":%u,\"height\":%u,\"deviceScaleFactor\":1,\"mobile\":false}",
                                    width, height),
                       &error);
  if (done == NULL)
    {
      g_test_fail_printf ("%s", error->message);
      return FALSE;
    }
  page_settle (f);
  return TRUE;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->chromium = find_chromium ();
  f->http = soup_session_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->browser, browser_free);
  g_clear_pointer (&f->daemon, pm_test_daemon_free);
  g_clear_pointer (&f->forbidden, pm_test_daemon_free);
  g_clear_object (&f->http);
  g_free (f->chromium);
  g_free (f->base);
}

static gboolean
have_browser (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  if (f->chromium == NULL)
    {
      if (g_strcmp0 (g_getenv ("PLUTOMOCK_REQUIRE_BROWSER"), "1") == 0)
        g_test_fail_printf ("Chromium is not installed (PLUTOMOCK_REQUIRE_BROWSER=1): "
                            "install the chromium package, or name the browser in PLUTOMOCK_CHROMIUM");
      else
        g_test_skip ("Chromium is not installed");
      return FALSE;
    }
  f->browser = browser_start (f->chromium, &error);
  if (f->browser == NULL)
    {
      g_test_fail_printf ("cannot drive %s: %s", f->chromium, error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
navigate (Fixture    *f,
          const char *url)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) done = NULL;

  done = browser_call (f->browser, TRUE, "Page.navigate",
                       params_from ("{\"url\":\"%s\"}", url), &error);
  if (done == NULL || *object_string (done, "errorText") != '\0')
    {
      g_test_fail_printf ("cannot load %s: %s", url,
                          done != NULL ? object_string (done, "errorText") : error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
no_problems (Fixture *f)
{
  guint i;

  for (i = 0; i < f->browser->problems->len; i++)
    g_test_message ("page problem: %s", (const char *) f->browser->problems->pdata[i]);
  if (f->browser->problems->len > 0)
    {
      g_test_fail_printf ("the page had %u problem(s), the first: %s", f->browser->problems->len,
                          (const char *) f->browser->problems->pdata[0]);
      return FALSE;
    }
  return TRUE;
}

/* ---- the test --------------------------------------------------------------- */

static void
test_fleet_page (Fixture       *f,
                 gconstpointer  data)
{
  const char *const args[] = { "--profile", "pluto-legacy,axeos-gamma,pluto-new,nerdqaxe-plus",
                               "--no-dbus", NULL };
  g_autoptr(JsonArray) devices = NULL;
  g_autoptr(JsonObject) rows = NULL;
  g_autoptr(GArray) new_ports = NULL;
  g_autofree char *url = NULL;
  g_autofree char *text = NULL;
  g_autofree char *restart_selector = NULL;
  JsonObject *legacy, *gamma, *removed;
  guint legacy_port, gamma_port, removed_port, added_port, outside_port;
  guint i, polls;
  RowWant want;
  const char *hostile = "<img src=x onerror=alert(1)>&lt;";

  if (!have_browser (f))
    return;
  f->daemon = pm_test_daemon_start (4, args, NULL);
  f->base = g_strdup_printf ("http://127.0.0.1:%u", f->daemon->listing_port);

  devices = api_devices (f);
  g_assert_cmpuint (json_array_get_length (devices), ==, 4);
  legacy = find_device (devices, "pluto-legacy");
  gamma = find_device (devices, "axeos-gamma");
  removed = find_device (devices, "pluto-new");
  g_assert_nonnull (legacy);
  g_assert_nonnull (gamma);
  g_assert_nonnull (removed);
  g_assert_true (json_object_has_member (gamma, "live"));
  g_assert_false (json_object_has_member (legacy, "live"));
  legacy_port = json_object_get_int_member (legacy, "port");
  gamma_port = json_object_get_int_member (gamma, "port");
  removed_port = json_object_get_int_member (removed, "port");

  CHECK (set_viewport (f, 1280, 900), "no viewport");
  url = g_strdup_printf ("%s/", f->base);
  if (!navigate (f, url))
    return;

  /* Every device, as the daemon has it. */
  CHECK (wait_for_rows (f, rows_match_daemon, devices, PAGE_WAIT_MS, &rows),
         "the page does not show the daemon's devices");

  /* Live numbers for devices with a simulated miner, none for others. */
  for (i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);
      JsonObject *row = page_row (rows, json_object_get_int_member (device, "port"));
      const char *hashrate = object_string (row, "hashrate");

      g_test_message ("%s: %s, %s, %s, %s, %s, %s", object_string (device, "profile"), hashrate,
                      object_string (row, "temp"), object_string (row, "power"),
                      object_string (row, "fan"), object_string (row, "shares"),
                      object_string (row, "uptime"));
      CHECK (g_str_equal (object_string (row, "state"), "running"), "state: %s",
             object_string (row, "state"));
      CHECK (g_str_equal (object_string (row, "restart"), "Restart") &&
             g_str_equal (object_string (row, "remove"), "Remove"),
             "the buttons have no text");
      CHECK (strstr (object_string (row, "restartLabel"), object_string (device, "hostname")) != NULL,
             "the restart button's label does not name the device");
      if (json_object_has_member (device, "live"))
        {
          const char *shares = object_string (row, "shares");
          const char *uptime = object_string (row, "uptime");

          CHECK (is_number_with_unit (hashrate, " GH/s") || is_number_with_unit (hashrate, " TH/s"),
                 "hashrate %s", hashrate);
          CHECK (is_number_with_unit (object_string (row, "temp"), " °C"), "temp %s",
                 object_string (row, "temp"));
          CHECK (is_number_with_unit (object_string (row, "power"), " W"), "power %s",
                 object_string (row, "power"));
          CHECK (is_number_with_unit (object_string (row, "fan"), " rpm"), "fan %s",
                 object_string (row, "fan"));
          CHECK (g_ascii_isdigit (shares[0]) && strstr (shares, " / ") != NULL, "shares %s", shares);
          CHECK (g_ascii_isdigit (uptime[0]) && strchr ("dhms", uptime[strlen (uptime) - 1]) != NULL,
                 "uptime %s", uptime);
        }
      else
        {
          CHECK (g_str_equal (hashrate, "—") && g_str_equal (object_string (row, "temp"), "—"),
                 "numbers for a device without a simulated miner: %s", hashrate);
        }
    }
  g_clear_pointer (&rows, json_object_unref);

  /* The header: the daemon's version and count. */
  text = page_eval_string (f->browser,
                           "document.getElementById('status-version').textContent + ' ' +"
                           "document.getElementById('status-devices').textContent + ' ' +"
                           "document.getElementById('status-profiles').textContent");
  CHECK (g_str_has_prefix (text, PACKAGE_VERSION " 4 "), "header: %s", text);
  CHECK (strstr (text, "axeos-gamma 1") != NULL && strstr (text, "pluto-legacy 1") != NULL,
         "header: %s", text);
  g_clear_pointer (&text, g_free);

  /* Rows are kept, not made again: remember one. */
  {
    g_autofree char *script = g_strdup_printf (
      "window.keptRow = document.querySelector('tr[data-port=\"%u\"]'); String(!!window.keptRow)", legacy_port);

    text = page_eval_string (f->browser, script);
    CHECK (g_str_equal (text, "true"), "no row for port %u", legacy_port);
    g_clear_pointer (&text, g_free);
  }
  polls = f->browser->n_polls;

  /* Restart: restarting, then running again, seen by polling. */
  restart_selector = g_strdup_printf ("tr[data-port=\"%u\"] button.restart", legacy_port);
  text = page_click (f, restart_selector);
  CHECK (g_str_equal (text, "clicked"), "restart: %s", text);
  g_clear_pointer (&text, g_free);
  want.port = legacy_port;
  want.text = "restarting";
  CHECK (wait_for_rows (f, row_state_is, &want, PAGE_WAIT_MS, NULL), "no restarting");
  if (!save_screenshot (f, "fleet-page-restarting.png"))
    return;
  text = page_click (f, restart_selector);
  CHECK (g_str_equal (text, "disabled"), "restart while restarting: %s", text);
  g_clear_pointer (&text, g_free);
  want.text = "running";
  CHECK (wait_for_rows (f, row_state_is, &want, RESTART_WAIT_MS, NULL), "not running again");
  CHECK (f->browser->n_polls >= polls + 2, "%u polls during a restart", f->browser->n_polls - polls);

  /* A fault set from outside shows, its parameters on hover. */
  {
    g_autofree char *fault_url = g_strdup_printf ("%s/control/v1/devices/%u/faults/latency", f->base, gamma_port);
    g_autoptr(PmTestResponse) response = pm_test_http (f->http, "PUT", fault_url, "application/json",
                                                       "{\"ms\":250}", -1);

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    want.port = gamma_port;
    want.text = "latency|latency: ms=250";
    CHECK (wait_for_rows (f, row_has_fault, &want, PAGE_WAIT_MS, NULL), "no fault shown");
    response = (pm_test_response_free (response), NULL);
    response = pm_test_http (f->http, "DELETE", fault_url, NULL, NULL, 0);
    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  }

  /* Hostnames are text, whatever they hold: rename one through its
   * firmware API. */
  {
    g_autofree char *patch_url = g_strdup_printf ("http://127.0.0.1:%u/api/system", gamma_port);
    g_autofree char *body = NULL;
    g_autoptr(PmTestResponse) response = NULL;
    JsonBuilder *builder = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "hostname");
    json_builder_add_string_value (builder, hostile);
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    g_object_unref (builder);
    body = json_to_string (root, FALSE);
    response = pm_test_http (f->http, "PATCH", patch_url, "application/json", body, -1);
    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    want.port = gamma_port;
    want.text = hostile;
    CHECK (wait_for_rows (f, row_hostname_is, &want, PAGE_WAIT_MS, NULL), "the new hostname does not show");
    text = page_eval_string (f->browser, "String(document.querySelectorAll('main img').length)");
    CHECK (g_str_equal (text, "0"), "a hostname became markup: %s image(s)", text);
    g_clear_pointer (&text, g_free);
  }

  /* Add through the form, on a free port, with a profile from the list. */
  new_ports = pm_test_free_ports (1, f->daemon->ports);
  added_port = g_array_index (new_ports, guint, 0);
  {
    g_autofree char *script = g_strdup_printf (
      "(async () => {"
      "  const select = document.getElementById('add-profile');"
      "  for (let i = 0; i < 100 && !select.querySelector('option[value=\"axeos-supra\"]'); i++)"
      "    await new Promise((r) => setTimeout(r, 100));"
      "  if (!select.querySelector('option[value=\"axeos-supra\"]')) return 'no profiles';"
      "  document.getElementById('add-port').value = '%u';"
      "  document.getElementById('add-hostname').value = 'added-by-form';"
      "  select.value = 'axeos-supra';"
      "  document.getElementById('add-submit').click();"
      "  return 'submitted';"
      "})()", added_port);

    text = page_eval_string (f->browser, script);
    CHECK (g_str_equal (text, "submitted"), "add: %s", text);
    g_clear_pointer (&text, g_free);
  }
  want.port = added_port;
  want.text = "added-by-form";
  CHECK (wait_for_rows (f, row_hostname_is, &want, PAGE_WAIT_MS, &rows), "the added device does not show");
  CHECK (g_str_equal (object_string (page_row (rows, added_port), "profile"), "axeos-supra"),
         "added with profile %s", object_string (page_row (rows, added_port), "profile"));
  g_clear_pointer (&rows, json_object_unref);

  /* A device added from outside shows by polling alone. */
  {
    g_autofree char *add_url = g_strdup_printf ("%s/control/v1/devices", f->base);
    g_autoptr(PmTestResponse) response = pm_test_http (f->http, "POST", add_url, "application/json",
                                                       "{\"hostname\":\"added-outside\"}", -1);
    g_autoptr(JsonObject) device = NULL;

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_CREATED);
    device = pm_test_response_object (response);
    outside_port = json_object_get_int_member (device, "port");
    want.port = outside_port;
    want.text = "added-outside";
    CHECK (wait_for_rows (f, row_hostname_is, &want, PAGE_WAIT_MS, NULL),
           "a device added from outside does not show");
  }

  /* Remove, confirmed in the dialog. */
  {
    g_autofree char *selector = g_strdup_printf ("tr[data-port=\"%u\"] button.remove", removed_port);

    text = page_click (f, selector);
    CHECK (g_str_equal (text, "clicked"), "remove: %s", text);
    g_clear_pointer (&text, g_free);
    text = page_eval_string (f->browser,
                             "document.getElementById('remove-dialog').open ?"
                             " document.getElementById('remove-text').textContent : 'closed'");
    CHECK (strstr (text, object_string (removed, "hostname")) != NULL, "the dialog says: %s", text);
    g_clear_pointer (&text, g_free);
    text = page_click (f, "#remove-confirm");
    CHECK (g_str_equal (text, "clicked"), "confirm: %s", text);
    g_clear_pointer (&text, g_free);
    want.port = removed_port;
    CHECK (wait_for_rows (f, row_gone, &want, PAGE_WAIT_MS, NULL), "the removed device still shows");
  }

  /* A hidden page stops polling, and polls again once visible.  (Headless
   * Chromium has no way to hide a page: the page is told it is hidden.) */
  {
    text = page_eval_string (f->browser,
                             "Object.defineProperty(document, 'visibilityState',"
                             " { value: 'hidden', configurable: true });"
                             "document.dispatchEvent(new Event('visibilitychange')); 'hidden'");
    g_clear_pointer (&text, g_free);
    /* Let a poll under way finish, then see none start for more than
     * two periods. */
    pm_test_wait_ms (1000);
    polls = f->browser->n_polls;
    pm_test_wait_ms (4500);
    CHECK (f->browser->n_polls == polls, "%u polls while hidden", f->browser->n_polls - polls);
    text = page_eval_string (f->browser, "document.getElementById('status-updated').textContent");
    CHECK (g_str_equal (text, "paused"), "hidden, the header says %s", text);
    g_clear_pointer (&text, g_free);
    text = page_eval_string (f->browser,
                             "delete document.visibilityState;"
                             "document.dispatchEvent(new Event('visibilitychange')); document.visibilityState");
    CHECK (g_str_equal (text, "visible"), "visibility: %s", text);
    g_clear_pointer (&text, g_free);
    for (i = 0; f->browser->n_polls == polls && i < PAGE_WAIT_MS / 100; i++)
      pm_test_wait_ms (100);
    CHECK (f->browser->n_polls > polls, "no poll once visible again");
  }

  /* The page agrees with the daemon after all that, and still has the
   * row it had at the start. */
  g_clear_pointer (&devices, json_array_unref);
  devices = api_devices (f);
  g_assert_cmpuint (json_array_get_length (devices), ==, 5);
  for (i = 0; i < json_array_get_length (devices); i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (devices, i), "port"), !=,
                     removed_port);
  CHECK (wait_for_rows (f, rows_match_daemon, devices, PAGE_WAIT_MS, NULL),
         "the page does not show the daemon's devices at the end");
  {
    g_autofree char *count = g_strdup_printf ("%u", json_array_get_length (devices));

    CHECK (wait_for_text (f, "document.getElementById('status-devices').textContent", count, PAGE_WAIT_MS),
           "the header does not count %s devices", count);
  }
  text = page_eval_string (f->browser,
                           "String(window.keptRow === document.querySelector('tr[data-port=\"' +"
                           " window.keptRow.dataset.port + '\"]'))");
  CHECK (g_str_equal (text, "true"), "the rows were made again");
  g_clear_pointer (&text, g_free);

  text = page_eval_string (f->browser, dark_script);
  CHECK (g_str_equal (text, "false"), "dark in a light browser");
  g_clear_pointer (&text, g_free);
  if (!save_screenshot (f, "fleet-page.png"))
    return;

  /* A narrow window: nothing wider than it. */
  if (!set_viewport (f, 400, 900))
    return;
  text = page_eval_string (f->browser,
                           "String(document.documentElement.scrollWidth <= window.innerWidth)");
  CHECK (g_str_equal (text, "true"), "the page is wider than a narrow window");
  g_clear_pointer (&text, g_free);
  if (!save_screenshot (f, "fleet-page-narrow.png"))
    return;

  /* Dark. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) done = browser_call (
      f->browser, TRUE, "Emulation.setEmulatedMedia",
      params_from ("{\"features\":[{\"name\":\"prefers-color-scheme\",\"value\":\"dark\"}]}"), &error);

    CHECK (done != NULL, "%s", error->message);
  }
  if (!set_viewport (f, 1280, 900))
    return;
  text = page_eval_string (f->browser, dark_script);
  CHECK (g_str_equal (text, "true"), "not dark");
  g_clear_pointer (&text, g_free);
  if (!save_screenshot (f, "fleet-page-dark.png"))
    return;

  if (!no_problems (f))
    return;
}

/* A daemon that allows no control over HTTP: the page says what to do. */
static void
test_forbidden (Fixture       *f,
                gconstpointer  data)
{
  const char *const args[] = { "--control-allow", "none", "--no-dbus", NULL };
  g_autofree char *url = NULL;
  g_autofree char *text = NULL;
  guint i, polls;

  if (!have_browser (f))
    return;
  f->daemon = pm_test_daemon_start (1, args, NULL);
  url = g_strdup_printf ("http://127.0.0.1:%u/", f->daemon->listing_port);
  if (!navigate (f, url))
    return;
  for (i = 0; i < PAGE_WAIT_MS / 100; i++)
    {
      text = page_eval_string (f->browser,
                               "(() => { const b = document.getElementById('banner');"
                               " return b && !b.hidden ? b.textContent.replace(/\\s+/g, ' ') : ''; })()");
      if (*text != '\0')
        break;
      g_clear_pointer (&text, g_free);
      pm_test_wait_ms (100);
    }
  CHECK (text != NULL, "no banner");
  g_test_message ("banner: %s", text);
  CHECK (strstr (text, "--control-allow") != NULL, "the banner says: %s", text);
  CHECK (strstr (text, "org.pluto.Mock1.Error.Forbidden") != NULL, "the banner says: %s", text);
  g_clear_pointer (&text, g_free);
  if (!save_screenshot (f, "fleet-page-forbidden.png"))
    return;

  /* Dismissed, it stays away while the same error repeats. */
  text = page_click (f, "#banner-dismiss");
  CHECK (g_str_equal (text, "clicked"), "dismiss: %s", text);
  g_clear_pointer (&text, g_free);
  for (polls = f->browser->n_polls, i = 0; f->browser->n_polls < polls + 2 && i < PAGE_WAIT_MS / 100; i++)
    pm_test_wait_ms (100);
  CHECK (f->browser->n_polls >= polls + 2, "the page stopped polling");
  text = page_eval_string (f->browser, "String(document.getElementById('banner').hidden)");
  CHECK (g_str_equal (text, "true"), "the banner came back");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/fleet-page/browser", Fixture, NULL, fixture_set_up, test_fleet_page, fixture_tear_down);
  g_test_add ("/fleet-page/forbidden", Fixture, NULL, fixture_set_up, test_forbidden, fixture_tear_down);

  return g_test_run ();
}
