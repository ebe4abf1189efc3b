/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-ctl"

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "pm-test-util.h"

/*
 * plutomockctl against the build-tree daemon on a private session bus,
 * started by bus activation.  Every check is on what plutomockctl prints
 * and what the devices then do over HTTP; the test itself does not talk
 * D-Bus.  The tests of the commands run twice: over D-Bus, and with
 * --http on the daemon's listing port (with no session bus to fall back
 * on), where they must print the same and fail the same.
 */

/* ---- running plutomockctl ------------------------------------------------ */

typedef struct
{
  int   status;
  char *out;
  char *err;
} CtlResult;

static void
ctl_result_free (CtlResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlResult, ctl_result_free)

typedef struct
{
  gboolean  done;
  char     *out;
  char     *err;
  GError   *error;
} Communicated;

static void
on_communicated (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Communicated *data = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result,
                                        &data->out, &data->err, &data->error);
  data->done = TRUE;
}

static gboolean
is_done (gpointer user_data)
{
  return ((Communicated *) user_data)->done;
}

/* The listing server's URL while a test runs its commands over HTTP:
 * run_ctl_env() then gives plutomockctl --http URL first, and a session
 * bus address where there is none. */
static char *ctl_http_url;

/* Runs plutomockctl with @args, @environment (VAR=VALUE entries to set,
 * VAR entries to unset; nullable) applied to the test's environment, and
 * returns its exit status and output; fails the test if it does not end
 * in time. */
static CtlResult *
run_ctl_env (const char *const *environment,
             const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  Communicated data = { FALSE, NULL, NULL, NULL };
  CtlResult *result;
  const char *path = g_getenv ("PLUTOMOCKCTL");
  gsize i;

  g_assert_nonnull (path);
  g_ptr_array_add (argv, (gpointer) path);
  if (ctl_http_url != NULL)
    {
      g_ptr_array_add (argv, (gpointer) "--http");
      g_ptr_array_add (argv, ctl_http_url);
    }
  for (i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* Over HTTP, D-Bus must not be needed. */
  if (ctl_http_url != NULL)
    {
      g_autofree char *no_bus = g_strdup_printf ("unix:path=%s/no-such-bus-%u",
                                                 g_get_tmp_dir (), g_random_int ());

      g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", no_bus, TRUE);
    }
  for (i = 0; environment != NULL && environment[i] != NULL; i++)
    {
      const char *eq = strchr (environment[i], '=');
      g_autofree char *name = NULL;

      if (eq == NULL)
        {
          g_subprocess_launcher_unsetenv (launcher, environment[i]);
          continue;
        }
      name = g_strndup (environment[i], eq - environment[i]);
      g_subprocess_launcher_setenv (launcher, name, eq + 1, TRUE);
    }

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_communicated, &data);
  if (!pm_test_wait_until (is_done, &data, PM_TEST_TIMEOUT_MS))
    {
      g_subprocess_force_exit (process);
      g_error ("plutomockctl %s did not finish", args[0]);
    }
  /* Done means both pipes closed and the process reaped. */
  g_assert_no_error (data.error);
  g_assert_true (g_subprocess_get_if_exited (process));

  result = g_new0 (CtlResult, 1);
  result->status = g_subprocess_get_exit_status (process);
  result->out = data.out;
  result->err = data.err;
  if (g_test_verbose ())
    g_test_message ("plutomockctl %s → %d\nstdout: %s\nstderr: %s", args[0],
                    result->status, result->out, result->err);
  return result;
}

#define run_ctl(...) run_ctl_env (NULL, (const char *const[]) { __VA_ARGS__, NULL })

/* Checks a success: exit 0, nothing on stderr. */
static void
assert_ok (CtlResult *result)
{
  if (result->status != 0)
    g_error ("plutomockctl failed with %d: %s", result->status, result->err);
  g_assert_cmpstr (result->err, ==, "");
}

/* Checks a failure: exit @status, nothing on stdout, and stderr says
 * "plutomockctl: " then something with @text in it. */
static void
assert_fails (CtlResult  *result,
              int         status,
              const char *text)
{
  g_assert_cmpint (result->status, ==, status);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_true (g_str_has_prefix (result->err, "plutomockctl: "));
  if (strstr (result->err, text) == NULL)
    g_error ("stderr lacks '%s': %s", text, result->err);
  /* Usage errors point to --help; failures do not need to. */
  if (status == 2)
    g_assert_nonnull (strstr (result->err, "--help"));
}

/* ---- the fixture: a bus whose daemon has two devices ------------------------ */

typedef struct
{
  GTestDBus   *bus;
  SoupSession *session;
  guint        ports[2];         /* in ascending order */
  char         port_text[2][8];  /* the same, as plutomockctl's arguments */
  guint        listing_port;
  char        *listing_url;      /* http://127.0.0.1:PORT */
} Fixture;

/* The tests of the commands run over either. */
typedef enum
{
  TRANSPORT_DBUS,
  TRANSPORT_HTTP,
} Transport;

static const Transport dbus_transport = TRANSPORT_DBUS;
static const Transport http_transport = TRANSPORT_HTTP;

static JsonNode *parse_json (const char *text);

static void
fixture_setup (Fixture      *fixture,
               gconstpointer user_data)
{
  g_autoptr(GArray) free_ports = pm_test_free_ports (2, NULL);
  g_autofree char *ports = NULL;
  guint i;

  fixture->ports[0] = MIN (g_array_index (free_ports, guint, 0), g_array_index (free_ports, guint, 1));
  fixture->ports[1] = MAX (g_array_index (free_ports, guint, 0), g_array_index (free_ports, guint, 1));
  for (i = 0; i < G_N_ELEMENTS (fixture->ports); i++)
    g_snprintf (fixture->port_text[i], sizeof (fixture->port_text[i]), "%u", fixture->ports[i]);
  /* Listed out of order: plutomockctl sorts. */
  ports = g_strdup_printf ("%u,%u", fixture->ports[1], fixture->ports[0]);

  fixture->bus = pm_test_bus_up (ports);
  fixture->session = soup_session_new ();

  /* The bus starts the daemon on the first call, and plutomockctl waits
   * for it: after this the devices answer HTTP.  Its listing port is
   * where control over HTTP is. */
  {
    g_autoptr(CtlResult) result = run_ctl ("status", "--json");
    g_autoptr(JsonNode) node = NULL;

    assert_ok (result);
    node = parse_json (result->out);
    fixture->listing_port = (guint) json_object_get_int_member (json_node_get_object (node), "listingPort");
    g_assert_cmpuint (fixture->listing_port, >, 0);
    fixture->listing_url = g_strdup_printf ("http://127.0.0.1:%u", fixture->listing_port);
  }

  if (user_data != NULL && *(const Transport *) user_data == TRANSPORT_HTTP)
    ctl_http_url = g_strdup (fixture->listing_url);
}

static void
fixture_teardown (Fixture      *fixture,
                  gconstpointer user_data)
{
  g_clear_pointer (&ctl_http_url, g_free);
  g_clear_pointer (&fixture->listing_url, g_free);
  g_clear_object (&fixture->session);
  g_clear_pointer (&fixture->bus, pm_test_bus_down);
}

static char *
url_of (guint       port,
        const char *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
}

static guint
http_status (Fixture    *fixture,
             const char *url)
{
  g_autoptr(PmTestResponse) response = pm_test_http (fixture->session, "GET", url, NULL, NULL, 0);

  return response->status;
}

/* What the device on @port answers to GET /api/system/info, which must
 * be 200. */
static JsonObject *
http_info (Fixture *fixture,
           guint    port)
{
  g_autofree char *url = url_of (port, "/api/system/info");
  g_autoptr(PmTestResponse) response = pm_test_http (fixture->session, "GET", url, NULL, NULL, 0);

  g_assert_cmpuint (response->status, ==, 200);
  return pm_test_response_object (response);
}

/* The API shape of an info document. */
static const char *
info_shape (JsonObject *info)
{
  if (json_object_has_member (info, "hashRate_10m"))
    return "new";
  g_assert_true (json_object_has_member (info, "boardVersion"));
  return "legacy";
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

/* A table as plutomockctl prints it: lines of cells two or more spaces
 * apart.  Checks that every column starts at the same offset on every
 * line, then returns the cells. */
static GPtrArray *
parse_table (const char *text)
{
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (gsize));
  gsize i;

  g_assert_true (g_str_has_suffix (text, "\n"));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[g_strv_length (lines) - 1], ==, "");

  for (i = 0; lines[i][0] != '\0'; i++)
    {
      const char *line = lines[i];
      g_autoptr(GStrvBuilder) cells = g_strv_builder_new ();
      gsize pos = 0, column = 0;

      g_assert_false (g_str_has_suffix (line, " "));
      while (line[pos] != '\0')
        {
          gsize end = pos;
          g_autofree char *cell = NULL;

          while (line[end] != '\0' && !(line[end] == ' ' && line[end + 1] == ' '))
            end++;
          cell = g_strndup (line + pos, end - pos);
          g_strv_builder_add (cells, cell);

          if (i == 0)
            g_array_append_val (starts, pos);
          else
            {
              g_assert_cmpuint (column, <, starts->len);
              g_assert_cmpuint (pos, ==, g_array_index (starts, gsize, column));
            }
          column++;

          while (line[end] == ' ')
            end++;
          pos = end;
        }
      g_assert_cmpuint (column, ==, starts->len);
      g_ptr_array_add (rows, g_strv_builder_end (cells));
    }

  return g_steal_pointer (&rows);
}

static const char *const table_header[] = {
  "PORT", "HOSTNAME", "PROFILE", "API", "FIRMWARE", "STATE", "URL", "FAULTS", NULL
};

/* The ASIC of each profile but the two of the original mock, as its
 * /api/system/info reports it. */
static const struct
{
  const char *profile;
  const char *asic_model;
} firmware_profiles[] = {
  { "axeos-gamma", "BM1370" },
  { "axeos-supra", "BM1368" },
  { "axeos-ultra", "BM1366" },
  { "nerdqaxe-plus", "BM1368" },
};

/* Checks that an info document is what a device of @profile answers:
 * the pluto-* profiles in their shape, the others with their ASIC and
 * the members the original mock lacks. */
static void
assert_info_of_profile (JsonObject *info,
                        const char *profile)
{
  gsize i;

  if (g_str_has_prefix (profile, "pluto-"))
    {
      g_assert_cmpstr (profile + strlen ("pluto-"), ==, info_shape (info));
      return;
    }
  for (i = 0; i < G_N_ELEMENTS (firmware_profiles); i++)
    if (g_str_equal (firmware_profiles[i].profile, profile))
      break;
  if (i == G_N_ELEMENTS (firmware_profiles))
    g_error ("'%s' is not a device profile", profile);
  g_assert_cmpstr (json_object_get_string_member (info, "ASICModel"), ==,
                   firmware_profiles[i].asic_model);
  g_assert_true (json_object_has_member (info, "macAddr"));
}

/* Checks a row of the table against the device on @port over HTTP: the
 * API column is the info's shape for the pluto-* profiles, "-" for the
 * others; the device has no fault. */
static void
assert_row_matches (Fixture     *fixture,
                    char *const *row,
                    guint        port,
                    const char  *state)
{
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *url = url_of (port, "");

  g_assert_cmpuint (g_strv_length ((char **) row), ==, 8);
  g_assert_cmpstr (row[0], ==, port_text);
  g_assert_cmpstr (row[5], ==, state);
  g_assert_cmpstr (row[6], ==, url);
  g_assert_cmpstr (row[7], ==, "-");
  if (g_str_equal (state, "running"))
    {
      g_autoptr(JsonObject) info = http_info (fixture, port);

      g_assert_cmpstr (row[1], ==, json_object_get_string_member (info, "hostname"));
      assert_info_of_profile (info, row[2]);
      if (g_str_has_prefix (row[2], "pluto-"))
        g_assert_cmpstr (row[3], ==, info_shape (info));
      else
        g_assert_cmpstr (row[3], ==, "-");
      g_assert_cmpstr (row[4], ==, json_object_get_string_member (info, "version"));
    }
}

static GPtrArray *
list_table (void)
{
  g_autoptr(CtlResult) result = run_ctl ("list");

  assert_ok (result);
  return parse_table (result->out);
}

/* The hostname of the device on @port, as HTTP reports it. */
static char *
dup_hostname (Fixture *fixture,
              guint    port)
{
  g_autoptr(JsonObject) info = http_info (fixture, port);

  return g_strdup (json_object_get_string_member (info, "hostname"));
}

/* ---- the command line alone --------------------------------------------------- */

static void
test_help (void)
{
  static const char *const commands[] = {
    "list", "add", "remove", "restart", "info", "update", "status", "fault", "scenario",
  };
  static const char *const add_options[] = {
    "--port=PORT", "--hostname=NAME", "--api=legacy|new", "--profile=NAME", "--firmware=VERSION",
    "--json",
  };
  g_autoptr(CtlResult) help = run_ctl ("--help");
  g_autoptr(CtlResult) add_help = run_ctl ("add", "--help");
  g_autoptr(CtlResult) list_help = run_ctl ("list", "--help");
  g_autoptr(CtlResult) status_help = run_ctl ("status", "--help");
  g_autoptr(CtlResult) update_help = run_ctl ("update", "-h");
  g_autoptr(CtlResult) version = run_ctl ("--version");
  g_autoptr(CtlResult) unknown = run_ctl ("frobnicate");
  g_autoptr(CtlResult) unknown_help = run_ctl ("frobnicate", "--help");
  g_autoptr(CtlResult) none = run_ctl_env (NULL, (const char *const[]) { NULL });
  g_autofree char *expected_version = g_strdup_printf ("plutomockctl %s\n", PACKAGE_VERSION);
  gsize i;

  /* No bus at all here: help and usage errors must not need one. */
  assert_ok (help);
  g_assert_nonnull (strstr (help->out, "Usage:"));
  for (i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *line = g_strdup_printf ("\n  %s ", commands[i]);

      if (strstr (help->out, line) == NULL)
        g_error ("--help does not list '%s':\n%s", commands[i], help->out);
    }

  assert_ok (add_help);
  g_assert_nonnull (strstr (add_help->out, "plutomockctl add"));
  for (i = 0; i < G_N_ELEMENTS (add_options); i++)
    g_assert_nonnull (strstr (add_help->out, add_options[i]));
  /* The way over HTTP, and where its default comes from. */
  g_assert_nonnull (strstr (help->out, "--http=URL"));
  g_assert_nonnull (strstr (help->out, "PLUTOMOCK_URL"));

  assert_ok (list_help);
  g_assert_nonnull (strstr (list_help->out, "--json"));
  g_assert_null (strstr (list_help->out, "--port"));
  assert_ok (status_help);
  g_assert_nonnull (strstr (status_help->out, "--json"));
  assert_ok (update_help);
  g_assert_nonnull (strstr (update_help->out, "plutomockctl update [OPTION…] PORT|HOSTNAME JSON"));

  assert_ok (version);
  g_assert_cmpstr (version->out, ==, expected_version);

  assert_fails (unknown, 2, "unknown command 'frobnicate'");
  /* --help after a command is the command's, and there is none. */
  assert_fails (unknown_help, 2, "unknown command 'frobnicate'");
  assert_fails (none, 2, "no command given");
}

/* Usage errors are found before anything is asked of the daemon: they
 * exit 2 even with no bus. */
static void
test_usage_errors (void)
{
  static const struct
  {
    const char *args[6];
    const char *message;
  } cases[] = {
    { { "info", NULL }, "missing argument PORT|HOSTNAME" },
    { { "update", "7751", NULL }, "missing argument JSON" },
    { { "remove", "7751", "7752", NULL }, "unexpected argument '7752'" },
    { { "list", "extra", NULL }, "unexpected argument 'extra'" },
    { { "status", "extra", NULL }, "unexpected argument 'extra'" },
    { { "add", "--api", "old", NULL }, "--api: 'old' is neither 'legacy' nor 'new'" },
    { { "add", "--port", "65536", NULL }, "--port: '65536' is not a port number" },
    { { "add", "--port", "-1", NULL }, "--port: '-1' is not a port number" },
    { { "add", "--port", "12ab", NULL }, "--port: '12ab' is not a port number" },
    { { "add", "--port", "+7800", NULL }, "--port: '+7800' is not a port number" },
    /* GOption's message, starting lowercase as plutomockctl's own. */
    { { "list", "--frob", NULL }, "plutomockctl: unknown option --frob\n" },
    { { "--frob", "list", NULL }, "plutomockctl: unknown option --frob\n" },
    { { "--http", "127.0.0.1:7770", "list", NULL }, "--http: '127.0.0.1:7770' is not an http:// URL" },
    { { "--http", "ftp://127.0.0.1:7770", "list", NULL }, "--http: 'ftp://127.0.0.1:7770' is not an http:// URL" },
    { { "--http", "http://", "status", NULL }, "--http: 'http://' is not an http:// URL" },
    { { "--http", "http://127.0.0.1:7770/?a=b", "status", NULL }, "has a query or a fragment" },
    /* Taken as bytes whatever the locale; D-Bus carries only UTF-8. */
    { { "update", "7751", "{\"a\": \"\xff\"}", NULL }, "argument 2 is not valid UTF-8" },
    { { "info", "rig-\xff", NULL }, "argument 1 is not valid UTF-8" },
    { { "add", "--firmware", "v2-\xff", NULL }, "--hostname and --firmware must be valid UTF-8" },
    { { "add", "--hostname", "\xc3", NULL }, "--hostname and --firmware must be valid UTF-8" },
    { { "add", "--profile", "axeos-\xff", NULL }, "--profile must be valid UTF-8" },
    /* What is quoted back is escaped: one line, valid UTF-8. */
    { { "fr\nob", NULL }, "unknown command 'fr\\nob'" },
    { { "list", "\x1b[2J\xff", NULL }, "unexpected argument '\\x1B[2J\\xFF'" },
    { { "add", "--api", "new\r", NULL }, "--api: 'new\\r' is neither" },
    { { "fault", NULL }, "missing argument PORT|HOSTNAME" },
    { { "fault", "7751", NULL }, "missing argument KIND" },
    { { "fault", "--all", NULL }, "missing argument KIND" },
    { { "fault", "7751", "latency", "ms", NULL }, "'ms' is not NAME=VALUE" },
    { { "fault", "7751", "latency", "=5", NULL }, "'=5' is not NAME=VALUE" },
    { { "fault", "--all", "latency", "ms=1", "ms=2", NULL }, "parameter 'ms' is given twice" },
    { { "fault", "--clear", NULL }, "missing argument PORT|HOSTNAME" },
    { { "fault", "--clear", "7751", "latency", "ms=1", NULL }, "unexpected argument 'ms=1'" },
    { { "fault", "--clear", "--all", "latency", "errors", NULL }, "unexpected argument 'errors'" },
    { { "fault", "--frob", NULL }, "--frob" },
    { { "scenario", NULL }, "missing argument FILE" },
    { { "scenario", "--stop", "a.ini", NULL }, "unexpected argument 'a.ini'" },
    { { "scenario", "--frob", NULL }, "--frob" },
  };
  g_autofree char *long_argument = g_strnfill (100 * 1024, 'x');
  const char *long_args[] = { "list", long_argument, NULL };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CtlResult) result = run_ctl_env (NULL, cases[i].args);

      assert_fails (result, 2, cases[i].message);
    }

  /* A long argument is quoted shortened, with its length. */
  {
    g_autoptr(CtlResult) result = run_ctl_env (NULL, long_args);

    assert_fails (result, 2, "xxxx… (102400 bytes)'");
    g_assert_cmpuint (strlen (result->err), <, 400);
  }
}

/* The second line of a failure to reach the daemon on the bus: the ways
 * that work without one. */
static void
assert_says_alternatives (CtlResult *result)
{
  g_auto(GStrv) lines = g_strsplit (result->err, "\n", -1);

  /* Two lines, no more. */
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_cmpstr (lines[2], ==, "");
  g_assert_true (g_str_has_prefix (lines[1], "plutomockctl: "));
  g_assert_nonnull (strstr (lines[1], "dbus-run-session"));
  g_assert_nonnull (strstr (lines[1], "plutomockctl --http http://127.0.0.1:7770"));
}

static void
test_no_bus (void)
{
  g_autofree char *address = g_strdup_printf ("DBUS_SESSION_BUS_ADDRESS=unix:path=%s/no-such-bus-%u",
                                              g_get_tmp_dir (), g_random_int ());
  const char *const environment[] = { address, NULL };
  g_autoptr(CtlResult) list = run_ctl_env (environment, (const char *const[]) { "list", NULL });
  g_autoptr(CtlResult) add = run_ctl_env (environment, (const char *const[]) { "add", NULL });
  g_autoptr(CtlResult) fault = run_ctl_env (environment, (const char *const[]) { "fault", "--all", "offline", NULL });
  g_autoptr(CtlResult) stop = run_ctl_env (environment, (const char *const[]) { "scenario", "--stop", NULL });

  assert_fails (list, 1, "cannot connect to the session bus");
  assert_fails (add, 1, "cannot connect to the session bus");
  assert_fails (fault, 1, "cannot connect to the session bus");
  assert_fails (stop, 1, "cannot connect to the session bus");
  assert_says_alternatives (list);
}

/* No session bus at all, as in a container or over ssh: GLib would
 * start one for X11 and cannot.  The message says so in lowercase and
 * points to dbus-run-session and --http. */
static void
test_no_session_bus (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *runtime = g_dir_make_tmp ("test-ctl-XXXXXX", &error);
  g_autofree char *runtime_env = NULL;
  const char *environment[] = {
    "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", NULL, NULL
  };

  g_assert_no_error (error);
  /* Nor a bus where GLib would look next. */
  runtime_env = g_strdup_printf ("XDG_RUNTIME_DIR=%s", runtime);
  environment[3] = runtime_env;

  {
    g_autoptr(CtlResult) result = run_ctl_env (environment, (const char *const[]) { "list", NULL });

    assert_fails (result, 1, "cannot connect to the session bus: ");
    /* GLib's reason, lowercase after the colon. */
    g_assert_true (g_str_has_prefix (result->err, "plutomockctl: cannot connect to the session bus: cannot "));
    assert_says_alternatives (result);
  }
  g_rmdir (runtime);
}

/* A bus that cannot start plutomock: no service file. */
static void
test_not_activatable (void)
{
  GTestDBus *bus = pm_test_bus_up_without_service ();

  {
    g_autoptr(CtlResult) result = run_ctl ("status");

    assert_fails (result, 1, "plutomock is not running");
    assert_says_alternatives (result);
  }
  pm_test_bus_down (bus);
}

/* ---- the commands ------------------------------------------------------------------ */

static void
test_list (Fixture      *fixture,
           gconstpointer user_data)
{
  g_autoptr(GPtrArray) rows = list_table ();
  guint i;

  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpstrv (g_ptr_array_index (rows, 0), table_header);
  for (i = 0; i < 2; i++)
    assert_row_matches (fixture, g_ptr_array_index (rows, i + 1), fixture->ports[i], "running");
}

static void
test_list_json (Fixture      *fixture,
                gconstpointer user_data)
{
  g_autoptr(CtlResult) result = run_ctl ("list", "--json");
  g_autoptr(JsonNode) node = NULL;
  JsonArray *array;
  gint64 now = g_get_real_time () / 1000;
  guint i;

  assert_ok (result);
  node = parse_json (result->out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);

  for (i = 0; i < 2; i++)
    {
      JsonObject *device = json_array_get_object_element (array, i);
      g_autoptr(JsonObject) info = http_info (fixture, fixture->ports[i]);
      g_autofree char *url = url_of (fixture->ports[i], "");
      g_autoptr(GList) members = json_object_get_members (device);
      g_autofree char *profile = NULL;
      gint64 start_time;

      g_assert_cmpuint (g_list_length (members), ==, 9);
      g_assert_cmpint (json_object_get_int_member (device, "port"), ==, fixture->ports[i]);
      g_assert_cmpstr (json_object_get_string_member (device, "hostname"), ==,
                       json_object_get_string_member (info, "hostname"));
      g_assert_cmpstr (json_object_get_string_member (device, "apiVersion"), ==, info_shape (info));
      /* The fleet's default profiles are the original mock's shapes. */
      profile = g_strconcat ("pluto-", info_shape (info), NULL);
      g_assert_cmpstr (json_object_get_string_member (device, "profile"), ==, profile);
      g_assert_cmpstr (json_object_get_string_member (device, "firmware"), ==,
                       json_object_get_string_member (info, "version"));
      g_assert_cmpstr (json_object_get_string_member (device, "state"), ==, "running");
      g_assert_cmpstr (json_object_get_string_member (device, "url"), ==, url);
      g_assert_cmpuint (json_object_get_size (json_object_get_object_member (device, "faults")), ==, 0);
      /* Started by this test, within its time-out. */
      start_time = json_object_get_int_member (device, "startTime");
      g_assert_cmpint (start_time, <=, now);
      g_assert_cmpint (start_time, >, now - PM_TEST_TIMEOUT_MS);
    }

  /* The two shapes alternate, so both are there. */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 0), "apiVersion"), !=,
                   json_object_get_string_member (json_array_get_object_element (array, 1), "apiVersion"));
}

static void
test_add (Fixture      *fixture,
          gconstpointer user_data)
{
  guint port = pm_test_free_port ();
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autoptr(CtlResult) added = run_ctl ("add", "--port", port_text, "--hostname", "Rig-7",
                                        "--api", "new", "--firmware", "v9.8.7");
  g_autoptr(CtlResult) added_json = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *url = NULL;
  JsonObject *device;
  guint i;

  /* One row, with the header, as list prints it. */
  assert_ok (added);
  rows = parse_table (added->out);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpstrv (g_ptr_array_index (rows, 0), table_header);
  assert_row_matches (fixture, g_ptr_array_index (rows, 1), port, "running");
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, 1))[1], ==, "Rig-7");
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, 1))[2], ==, "pluto-new");
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, 1))[3], ==, "new");
  g_assert_cmpstr (((char **) g_ptr_array_index (rows, 1))[4], ==, "v9.8.7");
  info = http_info (fixture, port);
  g_assert_cmpstr (json_object_get_string_member (info, "hostname"), ==, "Rig-7");
  g_assert_cmpstr (json_object_get_string_member (info, "version"), ==, "v9.8.7");
  g_assert_cmpstr (info_shape (info), ==, "new");

  /* No options: the daemon picks the port and the rest. */
  added_json = run_ctl ("add", "--json");
  assert_ok (added_json);
  node = parse_json (added_json->out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  device = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (device, "port"), >, 0);
  g_assert_cmpstr (json_object_get_string_member (device, "state"), ==, "running");
  url = g_strdup_printf ("%s/api/system/info", json_object_get_string_member (device, "url"));
  g_assert_cmpuint (http_status (fixture, url), ==, 200);
  g_clear_pointer (&info, json_object_unref);
  info = http_info (fixture, (guint) json_object_get_int_member (device, "port"));
  g_assert_cmpstr (json_object_get_string_member (device, "hostname"), ==,
                   json_object_get_string_member (info, "hostname"));

  /* Both are listed now, in port order. */
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = list_table ();
  g_assert_cmpuint (rows->len, ==, 5);
  for (i = 2; i < rows->len; i++)
    g_assert_cmpint (g_ascii_strtoll (((char **) g_ptr_array_index (rows, i - 1))[0], NULL, 10), <,
                     g_ascii_strtoll (((char **) g_ptr_array_index (rows, i))[0], NULL, 10));
}

/* The row of @rows (a table with its header) for @port. */
static char **
find_row (GPtrArray *rows,
          guint      port)
{
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  guint i;

  for (i = 1; i < rows->len; i++)
    {
      char **row = g_ptr_array_index (rows, i);

      if (g_str_equal (row[0], port_text))
        return row;
    }
  g_error ("No row for port %u", port);
}

/* The object of a --json array for @port. */
static JsonObject *
find_json_device (JsonArray *array,
                  guint      port)
{
  guint i;

  for (i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *device = json_array_get_object_element (array, i);

      if (json_object_get_int_member (device, "port") == (gint64) port)
        return device;
    }
  g_error ("No device with port %u in the JSON", port);
}

/* add --profile: the device runs that firmware over HTTP, and add, list
 * and list --json say which profile it has. */
static void
test_add_profile (Fixture      *fixture,
                  gconstpointer user_data)
{
  g_autoptr(CtlResult) added = run_ctl ("add", "--profile", "axeos-ultra");
  g_autoptr(CtlResult) added_json = run_ctl ("add", "--json", "--profile", "nerdqaxe-plus");
  g_autoptr(CtlResult) listed_json = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonNode) listed_node = NULL;
  g_autoptr(JsonObject) info = NULL;
  JsonObject *device;
  char **row;
  guint64 port;
  guint nerd_port, i;

  /* One row, with the header; the API column is for the pluto-*
   * profiles only. */
  assert_ok (added);
  rows = parse_table (added->out);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpstrv (g_ptr_array_index (rows, 0), table_header);
  row = g_ptr_array_index (rows, 1);
  g_assert_true (g_ascii_string_to_unsigned (row[0], 10, 1, 65535, &port, NULL));
  g_assert_cmpstr (row[2], ==, "axeos-ultra");
  g_assert_cmpstr (row[3], ==, "-");
  assert_row_matches (fixture, row, (guint) port, "running");

  /* --json says the same. */
  assert_ok (added_json);
  node = parse_json (added_json->out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  device = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (device, "profile"), ==, "nerdqaxe-plus");
  g_assert_cmpstr (json_object_get_string_member (device, "apiVersion"), ==, "");
  nerd_port = (guint) json_object_get_int_member (device, "port");
  info = http_info (fixture, nerd_port);
  assert_info_of_profile (info, "nerdqaxe-plus");
  g_assert_cmpstr (json_object_get_string_member (device, "firmware"), ==,
                   json_object_get_string_member (info, "version"));

  /* list shows the two among the fleet's own. */
  listed = list_table ();
  g_assert_cmpuint (listed->len, ==, 5);
  g_assert_cmpstrv (g_ptr_array_index (listed, 0), table_header);
  for (i = 1; i < listed->len; i++)
    {
      char **listed_row = g_ptr_array_index (listed, i);

      assert_row_matches (fixture, listed_row, (guint) g_ascii_strtoull (listed_row[0], NULL, 10),
                          "running");
    }
  g_assert_cmpstrv (find_row (listed, (guint) port), row);
  g_assert_cmpstr (find_row (listed, nerd_port)[2], ==, "nerdqaxe-plus");
  g_assert_cmpstr (find_row (listed, nerd_port)[3], ==, "-");
  /* PORTS lists ports[1] first: mockaxe1, pluto-legacy. */
  g_assert_cmpstr (find_row (listed, fixture->ports[1])[2], ==, "pluto-legacy");
  g_assert_cmpstr (find_row (listed, fixture->ports[0])[2], ==, "pluto-new");

  listed_json = run_ctl ("list", "--json");
  assert_ok (listed_json);
  listed_node = parse_json (listed_json->out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (listed_node));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (listed_node)), ==, 4);
  device = find_json_device (json_node_get_array (listed_node), (guint) port);
  /* Over HTTP with its simulated miner's "live" readings too. */
  g_assert_cmpuint (json_object_get_size (device), ==,
                    *(const Transport *) user_data == TRANSPORT_HTTP ? 10 : 9);
  g_assert_cmpstr (json_object_get_string_member (device, "profile"), ==, "axeos-ultra");
  g_assert_cmpstr (json_object_get_string_member (device, "apiVersion"), ==, "");
  g_assert_cmpstr (json_object_get_string_member (device, "firmware"), ==, row[4]);
  device = find_json_device (json_node_get_array (listed_node), nerd_port);
  g_assert_cmpstr (json_object_get_string_member (device, "profile"), ==, "nerdqaxe-plus");
  device = find_json_device (json_node_get_array (listed_node), fixture->ports[0]);
  g_assert_cmpstr (json_object_get_string_member (device, "profile"), ==, "pluto-new");
  g_assert_cmpstr (json_object_get_string_member (device, "apiVersion"), ==, "new");

  /* A pluto-* profile with the API version that goes with it. */
  {
    g_autoptr(CtlResult) legacy = run_ctl ("add", "--profile", "pluto-legacy", "--api", "legacy");
    g_autoptr(GPtrArray) legacy_rows = NULL;

    assert_ok (legacy);
    legacy_rows = parse_table (legacy->out);
    row = g_ptr_array_index (legacy_rows, 1);
    g_assert_cmpstr (row[2], ==, "pluto-legacy");
    g_assert_cmpstr (row[3], ==, "legacy");
    assert_row_matches (fixture, row, (guint) g_ascii_strtoull (row[0], NULL, 10), "running");
  }
}

/* A profile the daemon refuses: its message, status 1 as for any
 * argument the daemon refuses, and nothing added. */
static void
test_add_profile_errors (Fixture      *fixture,
                         gconstpointer user_data)
{
  static const struct
  {
    const char *args[6];
    const char *message[3];
  } cases[] = {
    { { "add", "--profile", "axeos-hyper", NULL }, { "unknown profile 'axeos-hyper'", NULL } },
    { { "add", "--profile", "", NULL }, { "unknown profile ''", NULL } },
    { { "add", "--profile", "AXEOS-GAMMA", NULL }, { "unknown profile 'AXEOS-GAMMA'", NULL } },
    { { "add", "-P", "mixed", NULL }, { "'mixed'", NULL } },
    { { "add", "--profile", "pluto-new", "--api", "legacy", NULL }, { "pluto-new", "legacy", NULL } },
    { { "add", "--api", "new", "--profile", "axeos-gamma", NULL }, { "axeos-gamma", "new", NULL } },
  };
  g_autoptr(GPtrArray) rows = NULL;
  gsize i, j;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CtlResult) result = run_ctl_env (NULL, cases[i].args);

      assert_fails (result, 1, cases[i].message[0]);
      for (j = 1; cases[i].message[j] != NULL; j++)
        if (strstr (result->err, cases[i].message[j]) == NULL)
          g_error ("stderr lacks '%s': %s", cases[i].message[j], result->err);
      /* The daemon's message, without the D-Bus error's name. */
      g_assert_null (strstr (result->err, "GDBus.Error"));
      g_assert_null (strstr (result->err, "org.pluto.Mock1.Error"));
      g_assert_cmpuint (strcspn (result->err, "\n"), ==, strlen (result->err) - 1);
    }

  rows = list_table ();
  g_assert_cmpuint (rows->len, ==, 3);
}

static void
test_add_errors (Fixture      *fixture,
                 gconstpointer user_data)
{
  g_autofree char *hostname = dup_hostname (fixture, fixture->ports[1]);
  g_autofree char *upper = g_ascii_strup (hostname, -1);
  g_autoptr(CtlResult) port_in_use = run_ctl ("add", "--port", fixture->port_text[0]);
  g_autoptr(CtlResult) name_in_use = run_ctl ("add", "--hostname", upper);
  g_autoptr(CtlResult) bad_name = run_ctl ("add", "--hostname", "no spaces");
  g_autoptr(CtlResult) bad_api = run_ctl ("add", "--api", "newest");
  g_autoptr(GPtrArray) rows = NULL;

  assert_fails (port_in_use, 1, fixture->port_text[0]);
  g_assert_nonnull (strstr (port_in_use->err, "in use"));
  g_assert_null (strstr (port_in_use->err, "GDBus.Error"));
  assert_fails (name_in_use, 1, "exists");
  assert_fails (bad_name, 1, "no spaces");
  assert_fails (bad_api, 2, "newest");

  /* A failed add changes nothing. */
  rows = list_table ();
  g_assert_cmpuint (rows->len, ==, 3);
}

static void
test_remove (Fixture      *fixture,
             gconstpointer user_data)
{
  g_autofree char *hostname = dup_hostname (fixture, fixture->ports[0]);
  g_autofree char *upper = g_ascii_strup (hostname, -1);
  g_autofree char *expected = g_strdup_printf ("Removed %s (port %u)\n", hostname, fixture->ports[0]);
  g_autoptr(CtlResult) removed = NULL;
  g_autoptr(CtlResult) again = NULL;
  g_autoptr(CtlResult) unknown = NULL;
  g_autofree char *no_port = NULL;
  g_autoptr(GPtrArray) rows = NULL;

  g_assert_false (pm_test_port_refuses (fixture->ports[0]));

  /* By hostname, in another case. */
  removed = run_ctl ("remove", upper);
  assert_ok (removed);
  g_assert_cmpstr (removed->out, ==, expected);
  g_assert_true (pm_test_port_refuses (fixture->ports[0]));

  rows = list_table ();
  g_assert_cmpuint (rows->len, ==, 2);
  assert_row_matches (fixture, g_ptr_array_index (rows, 1), fixture->ports[1], "running");

  again = run_ctl ("remove", fixture->port_text[0]);
  no_port = g_strdup_printf ("plutomockctl: no device with port %u\n", fixture->ports[0]);
  assert_fails (again, 1, "no device");
  g_assert_cmpstr (again->err, ==, no_port);
  unknown = run_ctl ("remove", "no-such-miner");
  assert_fails (unknown, 1, "no device");
  g_assert_cmpstr (unknown->err, ==, "plutomockctl: no device named 'no-such-miner'\n");
}

static void
test_restart (Fixture      *fixture,
              gconstpointer user_data)
{
  g_autofree char *hostname = dup_hostname (fixture, fixture->ports[1]);
  g_autofree char *url = url_of (fixture->ports[1], "/api/system/info");
  g_autofree char *expected = g_strdup_printf ("Restarting %s (port %u)", hostname, fixture->ports[1]);
  g_autoptr(CtlResult) restarted = run_ctl ("restart", fixture->port_text[1]);
  g_autoptr(CtlResult) again = NULL;
  g_autoptr(CtlResult) info = NULL;
  g_autoptr(CtlResult) unknown = NULL;
  g_autoptr(GPtrArray) rows = NULL;

  assert_ok (restarted);
  g_assert_true (g_str_has_prefix (restarted->out, expected));
  g_assert_nonnull (strstr (restarted->out, "answers 503"));
  g_assert_cmpuint (http_status (fixture, url), ==, 503);


  rows = list_table ();
  assert_row_matches (fixture, g_ptr_array_index (rows, 1), fixture->ports[0], "running");
  assert_row_matches (fixture, g_ptr_array_index (rows, 2), fixture->ports[1], "restarting");

  again = run_ctl ("restart", hostname);
  assert_fails (again, 1, "restarting");
  info = run_ctl ("info", fixture->port_text[1]);
  assert_fails (info, 1, "restarting");
  unknown = run_ctl ("restart", "7");
  assert_fails (unknown, 1, "no device with port 7");

  /* A firmware profile restarts as hardware does, and is said to. */
  {
    g_autoptr(CtlResult) added = run_ctl ("add", "--hostname", "rebooter", "--profile", "axeos-supra");
    g_autoptr(CtlResult) rebooted = NULL;

    assert_ok (added);
    rebooted = run_ctl ("restart", "rebooter");
    assert_ok (rebooted);
    g_assert_true (g_str_has_prefix (rebooted->out, "Restarting rebooter (port "));
    /* Not "503" alone: the port in the line may hold those digits. */
    g_assert_null (strstr (rebooted->out, "answers 503"));
    g_assert_nonnull (strstr (rebooted->out, "port is closed"));
  }
}

static void
test_info (Fixture      *fixture,
           gconstpointer user_data)
{
  g_autofree char *hostname = dup_hostname (fixture, fixture->ports[0]);
  g_autoptr(JsonObject) http = http_info (fixture, fixture->ports[0]);
  g_autoptr(CtlResult) pretty = run_ctl ("info", fixture->port_text[0]);
  g_autoptr(CtlResult) compact = run_ctl ("info", hostname, "--compact");
  g_autoptr(CtlResult) unknown = run_ctl ("info", "nobody");
  g_autoptr(JsonNode) pretty_node = NULL;
  g_autoptr(JsonNode) compact_node = NULL;
  g_autoptr(GList) http_members = json_object_get_members (http);
  JsonObject *object;
  GList *l;

  assert_ok (pretty);
  g_assert_true (g_str_has_prefix (pretty->out, "{\n  \""));
  g_assert_true (g_str_has_suffix (pretty->out, "\n}\n"));
  pretty_node = parse_json (pretty->out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (pretty_node));
  object = json_node_get_object (pretty_node);
  /* What HTTP answers, member for member; the live readings change
   * between requests, the rest does not. */
  g_assert_cmpuint (json_object_get_size (object), ==, json_object_get_size (http));
  for (l = http_members; l != NULL; l = l->next)
    g_assert_true (json_object_has_member (object, l->data));
  g_assert_cmpstr (json_object_get_string_member (object, "hostname"), ==, hostname);
  g_assert_cmpstr (json_object_get_string_member (object, "version"), ==,
                   json_object_get_string_member (http, "version"));

  assert_ok (compact);
  g_assert_true (g_str_has_prefix (compact->out, "{\""));
  g_assert_true (g_str_has_suffix (compact->out, "}\n"));
  g_assert_cmpuint (strcspn (compact->out, "\n"), ==, strlen (compact->out) - 1);
  compact_node = parse_json (compact->out);
  g_assert_cmpuint (json_object_get_size (json_node_get_object (compact_node)), ==,
                    json_object_get_size (http));

  assert_fails (unknown, 1, "no device named 'nobody'");
}

static void
test_update (Fixture      *fixture,
             gconstpointer user_data)
{
  g_autofree char *hostname = dup_hostname (fixture, fixture->ports[0]);
  g_autofree char *expected = g_strdup_printf ("Updated %s (port %u)\n", hostname, fixture->ports[0]);
  g_autoptr(CtlResult) updated = NULL;
  g_autoptr(CtlResult) info = NULL;
  g_autoptr(CtlResult) bad_json = NULL;
  g_autoptr(CtlResult) not_object = NULL;
  g_autoptr(CtlResult) unknown = NULL;
  g_autoptr(CtlResult) info_after = NULL;
  g_autoptr(JsonObject) http = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *object;

  updated = run_ctl ("update", hostname, "{\"hostname\": \"x\", \"hashRate\": 5.1}");
  assert_ok (updated);
  g_assert_cmpstr (updated->out, ==, expected);

  /* Both D-Bus and HTTP show the update. */
  info = run_ctl ("info", fixture->port_text[0]);
  assert_ok (info);
  node = parse_json (info->out);
  object = json_node_get_object (node);
  g_assert_cmpstr (json_object_get_string_member (object, "hostname"), ==, "x");
  http = http_info (fixture, fixture->ports[0]);
  g_assert_cmpstr (json_object_get_string_member (http, "hostname"), ==, "x");
  /* The number as the daemon wrote it, not as a double printed again. */
  g_assert_true (strstr (info->out, "\n  \"hashRate\": 5.1,\n") != NULL ||
                 strstr (info->out, "\n  \"hashRate\": 5.1\n}") != NULL);

  bad_json = run_ctl ("update", fixture->port_text[0], "{\"hostname\": ");
  not_object = run_ctl ("update", fixture->port_text[0], "[1, 2]");
  unknown = run_ctl ("update", "12", "{}");
  assert_fails (bad_json, 1, "JSON");
  assert_fails (not_object, 1, "JSON object");
  assert_fails (unknown, 1, "no device with port 12");

  /* The failed updates changed nothing. */
  info_after = run_ctl ("info", fixture->port_text[0], "--compact");
  assert_ok (info_after);
  g_assert_nonnull (strstr (info_after->out, "\"hostname\":\"x\""));
}

static void
test_status (Fixture      *fixture,
             gconstpointer user_data)
{
  g_autoptr(CtlResult) status = run_ctl ("status");
  g_autoptr(CtlResult) extra = run_ctl ("status", "now");
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GRegex) listing = g_regex_new ("^([0-9]+) \\((http://127\\.0\\.0\\.1:([0-9]+)/servers)\\)$",
                                           0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *expected_version = g_strdup_printf ("%s", PACKAGE_VERSION);
  g_autofree char *url = NULL;
  g_autofree char *port = NULL;
  g_autofree char *url_port = NULL;
  g_autoptr(PmTestResponse) response = NULL;
  g_autoptr(JsonObject) servers = NULL;
  guint64 seed;
  char **row;

  assert_ok (status);
  rows = parse_table (status->out);
  g_assert_cmpuint (rows->len, ==, 7);

  row = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (row[0], ==, "Version:");
  g_assert_cmpstr (row[1], ==, expected_version);
  row = g_ptr_array_index (rows, 1);
  g_assert_cmpstr (row[0], ==, "Seed:");
  g_assert_true (g_ascii_string_to_unsigned (row[1], 10, 0, G_MAXUINT64, &seed, NULL));
  row = g_ptr_array_index (rows, 2);
  g_assert_cmpstr (row[0], ==, "Listing port:");
  g_assert_true (g_regex_match (listing, row[1], 0, &match));
  port = g_match_info_fetch (match, 1);
  url = g_match_info_fetch (match, 2);
  url_port = g_match_info_fetch (match, 3);
  g_assert_cmpstr (port, ==, url_port);
  /* LISTING_PORT=0: a port the kernel picked, not the default. */
  g_assert_cmpstr (port, !=, "7770");
  row = g_ptr_array_index (rows, 3);
  g_assert_cmpstr (row[0], ==, "Logs:");
  g_assert_cmpstr (row[1], ==, "disabled");
  row = g_ptr_array_index (rows, 4);
  g_assert_cmpstr (row[0], ==, "Devices:");
  g_assert_cmpstr (row[1], ==, "2");
  /* The fleet's default profiles: one of each pluto-* shape. */
  row = g_ptr_array_index (rows, 5);
  g_assert_cmpstr (row[0], ==, "Profiles:");
  g_assert_cmpstr (row[1], ==, "1 pluto-legacy, 1 pluto-new");
  row = g_ptr_array_index (rows, 6);
  g_assert_cmpstr (row[0], ==, "Scenario:");
  g_assert_cmpstr (row[1], ==, "none");

  /* The listing server is where status says, and agrees on the count. */
  response = pm_test_http (fixture->session, "GET", url, NULL, NULL, 0);
  g_assert_cmpuint (response->status, ==, 200);
  servers = pm_test_response_object (response);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (servers, "servers")), ==, 2);

  assert_fails (extra, 2, "unexpected argument 'now'");

  /* --json: the Status object of the control API, saying the same. */
  {
    g_autoptr(CtlResult) json = run_ctl ("status", "--json");
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);
    JsonObject *object, *profiles;
    JsonNode *allow;

    assert_ok (json);
    g_assert_true (g_str_has_prefix (json->out, "{\n  \"version\": "));
    node = parse_json (json->out);
    g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
    object = json_node_get_object (node);
    g_assert_cmpstr (pm_test_member_string (object, "version"), ==, PACKAGE_VERSION);
    /* The seed as a string: a uint64 does not fit every JSON reader. */
    g_assert_cmpstr (pm_test_member_string (object, "seed"), ==, seed_text);
    g_assert_cmpint (pm_test_member_int (object, "listingPort"), ==, g_ascii_strtoll (port, NULL, 10));
    g_assert_cmpstr (pm_test_member_string (object, "bindAddress"), ==, "127.0.0.1");
    g_assert_false (json_node_get_boolean (pm_test_member_value (object, "logsEnabled", G_TYPE_BOOLEAN)));
    g_assert_cmpint (pm_test_member_int (object, "devices"), ==, 2);
    profiles = json_object_get_object_member (object, "profiles");
    g_assert_nonnull (profiles);
    g_assert_cmpuint (json_object_get_size (profiles), ==, 2);
    g_assert_cmpint (pm_test_member_int (profiles, "pluto-legacy"), ==, 1);
    g_assert_cmpint (pm_test_member_int (profiles, "pluto-new"), ==, 1);
    g_assert_false (json_node_get_boolean (pm_test_member_value (object, "scenarioRunning", G_TYPE_BOOLEAN)));
    g_assert_cmpstr (pm_test_member_string (object, "scenario"), ==, "");

    /* Who may control it over HTTP: said over HTTP, loopback by default;
     * the bus does not say. */
    allow = json_object_get_member (object, "controlAllow");
    if (*(const Transport *) user_data == TRANSPORT_HTTP)
      {
        JsonArray *array;
        gboolean ipv4 = FALSE, ipv6 = FALSE;
        guint i;

        g_assert_cmpuint (json_object_get_size (object), ==, 10);
        g_assert_nonnull (allow);
        g_assert_true (JSON_NODE_HOLDS_ARRAY (allow));
        array = json_node_get_array (allow);
        for (i = 0; i < json_array_get_length (array); i++)
          {
            const char *entry = json_array_get_string_element (array, i);

            ipv4 |= g_strcmp0 (entry, "127.0.0.0/8") == 0;
            ipv6 |= g_strcmp0 (entry, "::1") == 0;
          }
        g_assert_true (ipv4);
        g_assert_true (ipv6);
      }
    else
      {
        g_assert_cmpuint (json_object_get_size (object), ==, 9);
        g_assert_null (allow);
      }
  }

  /* Profiles counted by name, in name order. */
  {
    g_autoptr(CtlResult) ultra = run_ctl ("add", "--profile", "axeos-ultra");
    g_autoptr(CtlResult) gamma = run_ctl ("add", "--profile", "axeos-gamma");
    g_autoptr(CtlResult) legacy = run_ctl ("add", "--profile", "pluto-legacy");
    g_autoptr(CtlResult) after = NULL;
    g_autoptr(GPtrArray) after_rows = NULL;

    assert_ok (ultra);
    assert_ok (gamma);
    assert_ok (legacy);
    after = run_ctl ("status");
    assert_ok (after);
    after_rows = parse_table (after->out);
    g_assert_cmpuint (after_rows->len, ==, 7);
    row = g_ptr_array_index (after_rows, 4);
    g_assert_cmpstr (row[1], ==, "5");
    row = g_ptr_array_index (after_rows, 5);
    g_assert_cmpstr (row[0], ==, "Profiles:");
    g_assert_cmpstr (row[1], ==, "1 axeos-gamma, 1 axeos-ultra, 2 pluto-legacy, 1 pluto-new");

    /* In name order in --json too. */
    {
      g_autoptr(CtlResult) json = run_ctl ("status", "--json");
      g_autoptr(JsonNode) node = NULL;
      JsonObject *object;
      g_autoptr(GList) names = NULL;
      const char *const expected[] = { "axeos-gamma", "axeos-ultra", "pluto-legacy", "pluto-new" };
      GList *l;
      gsize i = 0;

      assert_ok (json);
      node = parse_json (json->out);
      object = json_node_get_object (node);
      g_assert_cmpint (pm_test_member_int (object, "devices"), ==, 5);
      names = json_object_get_members (json_object_get_object_member (object, "profiles"));
      for (l = names; l != NULL; l = l->next, i++)
        {
          g_assert_cmpuint (i, <, G_N_ELEMENTS (expected));
          g_assert_cmpstr (l->data, ==, expected[i]);
        }
      g_assert_cmpuint (i, ==, G_N_ELEMENTS (expected));
      g_assert_cmpint (pm_test_member_int (json_object_get_object_member (object, "profiles"), "pluto-legacy"), ==, 2);
    }
  }
}

/* ---- faults and scenarios ---------------------------------------------------------- */

/* The FAULTS cell of the device on @port in list. */
static char *
listed_faults (guint port)
{
  g_autoptr(GPtrArray) rows = list_table ();

  g_assert_cmpstrv (g_ptr_array_index (rows, 0), table_header);
  return g_strdup (find_row (rows, port)[7]);
}

/* The "faults" object of the device on @port in list --json. */
static JsonObject *
listed_faults_json (guint port)
{
  g_autoptr(CtlResult) result = run_ctl ("list", "--json");
  g_autoptr(JsonNode) node = NULL;
  JsonObject *device;

  assert_ok (result);
  node = parse_json (result->out);
  device = find_json_device (json_node_get_array (node), port);
  return json_object_ref (json_object_get_object_member (device, "faults"));
}

static void
assert_says (CtlResult  *result,
             const char *text)
{
  assert_ok (result);
  g_assert_cmpstr (result->out, ==, text);
}

/* fault sets a fault on one device or all, by port or hostname, with
 * parameters typed from their text; --clear lifts one kind or all; list
 * shows them. */
static void
test_fault (Fixture      *fixture,
            gconstpointer user_data)
{
  g_autofree char *hostname0 = dup_hostname (fixture, fixture->ports[0]);
  g_autofree char *hostname1 = dup_hostname (fixture, fixture->ports[1]);
  g_autofree char *target0 = g_strdup_printf ("%s (port %u)", hostname0, fixture->ports[0]);
  g_autofree char *target1 = g_strdup_printf ("%s (port %u)", hostname1, fixture->ports[1]);
  g_autofree char *info0 = url_of (fixture->ports[0], "/api/system/info");
  g_autofree char *info1 = url_of (fixture->ports[1], "/api/system/info");
  g_autofree char *upper1 = g_ascii_strup (hostname1, -1);

  /* By port: errors with a whole number and a decimal. */
  {
    g_autoptr(CtlResult) result = run_ctl ("fault", fixture->port_text[0], "errors", "status=503", "rate=1.0");
    g_autofree char *expected = g_strdup_printf ("Set fault errors on %s\n", target0);

    assert_says (result, expected);
  }
  g_assert_cmpuint (http_status (fixture, info0), ==, 503);
  g_assert_cmpuint (http_status (fixture, info1), ==, 200);

  /* By hostname in any case: a double and a boolean. */
  {
    g_autoptr(CtlResult) result = run_ctl ("fault", upper1, "ws-drop", "interval-s=2.5", "clean=true");
    g_autofree char *expected = g_strdup_printf ("Set fault ws-drop on %s\n", target1);

    assert_says (result, expected);
  }
  {
    g_autoptr(CtlResult) result = run_ctl ("fault", hostname1, "latency", "ms=20");

    assert_ok (result);
  }

  {
    g_autofree char *cell0 = listed_faults (fixture->ports[0]);
    g_autofree char *cell1 = listed_faults (fixture->ports[1]);

    g_assert_cmpstr (cell0, ==, "errors");
    /* In the order of the kinds, not of setting. */
    g_assert_cmpstr (cell1, ==, "latency,ws-drop");
  }
  {
    g_autoptr(JsonObject) faults0 = listed_faults_json (fixture->ports[0]);
    g_autoptr(JsonObject) faults1 = listed_faults_json (fixture->ports[1]);
    JsonObject *errors = json_object_get_object_member (faults0, "errors");
    JsonObject *ws_drop = json_object_get_object_member (faults1, "ws-drop");
    JsonObject *latency = json_object_get_object_member (faults1, "latency");

    g_assert_cmpuint (json_object_get_size (faults0), ==, 1);
    g_assert_cmpint (json_object_get_int_member (errors, "status"), ==, 503);
    g_assert_cmpfloat (json_object_get_double_member (errors, "rate"), ==, 1.0);
    g_assert_cmpuint (json_object_get_size (faults1), ==, 2);
    g_assert_cmpfloat (json_object_get_double_member (ws_drop, "interval-s"), ==, 2.5);
    g_assert_true (json_object_get_boolean_member (ws_drop, "clean"));
    g_assert_cmpint (json_object_get_int_member (latency, "ms"), ==, 20);
    /* The defaults are filled in. */
    g_assert_cmpint (json_object_get_int_member (latency, "jitter-ms"), ==, 0);
  }

  /* --clear KIND lifts that kind only. */
  {
    g_autoptr(CtlResult) result = run_ctl ("fault", "--clear", fixture->port_text[0], "errors");
    g_autofree char *expected = g_strdup_printf ("Cleared fault errors on %s\n", target0);

    assert_says (result, expected);
  }
  g_assert_cmpuint (http_status (fixture, info0), ==, 200);
  {
    g_autoptr(CtlResult) result = run_ctl ("fault", "-c", hostname1, "ws-drop");
    g_autofree char *cell0 = NULL;
    g_autofree char *cell1 = NULL;

    assert_ok (result);
    cell0 = listed_faults (fixture->ports[0]);
    cell1 = listed_faults (fixture->ports[1]);
    g_assert_cmpstr (cell0, ==, "-");
    g_assert_cmpstr (cell1, ==, "latency");
  }

  /* --all sets on every device, --clear --all KIND lifts that kind. */
  {
    g_autoptr(CtlResult) result = run_ctl ("fault", "--all", "errors", "status=500");

    assert_says (result, "Set fault errors on every device\n");
  }
  g_assert_cmpuint (http_status (fixture, info0), ==, 500);
  g_assert_cmpuint (http_status (fixture, info1), ==, 500);
  {
    g_autoptr(CtlResult) result = run_ctl ("fault", "--clear", "--all", "errors");
    g_autofree char *cell0 = NULL;
    g_autofree char *cell1 = NULL;

    assert_says (result, "Cleared fault errors on every device\n");
    cell0 = listed_faults (fixture->ports[0]);
    cell1 = listed_faults (fixture->ports[1]);
    g_assert_cmpstr (cell0, ==, "-");
    g_assert_cmpstr (cell1, ==, "latency");
  }
  g_assert_cmpuint (http_status (fixture, info0), ==, 200);

  /* --clear without a kind lifts every fault, of one device or all. */
  {
    g_autoptr(CtlResult) ws = run_ctl ("fault", "-a", "ws-silent");
    g_autoptr(CtlResult) result = run_ctl ("fault", "--clear", fixture->port_text[0]);
    g_autofree char *expected = g_strdup_printf ("Cleared every fault on %s\n", target0);
    g_autofree char *cell0 = NULL;
    g_autofree char *cell1 = NULL;

    assert_ok (ws);
    assert_says (result, expected);
    cell0 = listed_faults (fixture->ports[0]);
    cell1 = listed_faults (fixture->ports[1]);
    g_assert_cmpstr (cell0, ==, "-");
    g_assert_cmpstr (cell1, ==, "latency,ws-silent");
  }
  {
    g_autoptr(CtlResult) result = run_ctl ("fault", "--clear", "--all");
    g_autofree char *cell1 = NULL;

    assert_says (result, "Cleared every fault on every device\n");
    cell1 = listed_faults (fixture->ports[1]);
    g_assert_cmpstr (cell1, ==, "-");
  }
}

/* What the daemon refuses is a failure, exit 1, its message passed on,
 * and nothing changes. */
static void
test_fault_errors (Fixture      *fixture,
                   gconstpointer user_data)
{
  const struct
  {
    const char *args[6];
    const char *message;
  } cases[] = {
    { { "fault", fixture->port_text[0], "frobnicate", NULL }, "unknown fault 'frobnicate'" },
    { { "fault", fixture->port_text[0], "latency", NULL }, "ms" },
    { { "fault", fixture->port_text[0], "latency", "ms=soon", NULL }, "ms" },
    { { "fault", fixture->port_text[0], "latency", "ms=-5", NULL }, "ms" },
    { { "fault", fixture->port_text[0], "latency", "ms=1", "speed=3", NULL }, "speed" },
    { { "fault", fixture->port_text[0], "overheat", NULL }, "simulated miner" },
    { { "fault", "--all", "fan-failure", NULL }, "simulated miner" },
    { { "fault", "--all", "errors", "status=200", NULL }, "status" },
    { { "fault", "--clear", fixture->port_text[0], "frobnicate", NULL }, "unknown fault 'frobnicate'" },
    { { "fault", "--clear", "--all", "frobnicate", NULL }, "unknown fault 'frobnicate'" },
    { { "fault", "65000", "offline", NULL }, "no device with port 65000" },
    { { "fault", "--clear", "no-such-rig", NULL }, "no device named 'no-such-rig'" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CtlResult) result = run_ctl_env (NULL, cases[i].args);

      assert_fails (result, 1, cases[i].message);
    }

  for (i = 0; i < G_N_ELEMENTS (fixture->ports); i++)
    {
      g_autofree char *cell = listed_faults (fixture->ports[i]);

      g_assert_cmpstr (cell, ==, "-");
    }
}

static char *
write_file (const char *directory,
            const char *name,
            const char *text,
            gssize      length)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (directory, name, NULL);

  g_file_set_contents (path, text, length, &error);
  g_assert_no_error (error);
  return path;
}

static char *
status_scenario (void)
{
  g_autoptr(CtlResult) status = run_ctl ("status");
  g_autoptr(GPtrArray) rows = NULL;
  char **row;

  assert_ok (status);
  rows = parse_table (status->out);
  row = g_ptr_array_index (rows, rows->len - 1);
  g_assert_cmpstr (row[0], ==, "Scenario:");
  return g_strdup (row[1]);
}

typedef struct
{
  Fixture    *fixture;
  guint       port;
  guint       status;
} StatusWait;

static gboolean
http_status_is (gpointer user_data)
{
  StatusWait *wait = user_data;
  g_autofree char *url = url_of (wait->port, "/api/system/info");

  return http_status (wait->fixture, url) == wait->status;
}

/* scenario FILE sends the file to the daemon, which runs it; status says
 * which one runs; --stop stops it and clears its faults. */
static void
test_scenario (Fixture      *fixture,
               gconstpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *directory = g_dir_make_tmp ("test-ctl-XXXXXX", &error);
  g_autofree char *hostname0 = dup_hostname (fixture, fixture->ports[0]);
  g_autofree char *text = g_strdup_printf ("[scenario]\n"
                                           "name=From the command line\n"
                                           "[step fail]\n"
                                           "at=0\n"
                                           "select=name:%s\n"
                                           "fault=errors\n"
                                           "status=503\n"
                                           "[step later]\n"
                                           "at=1h\n"
                                           "select=all\n"
                                           "fault=offline\n",
                                           hostname0);
  g_autofree char *path = NULL;
  g_autofree char *unnamed = NULL;
  g_autofree char *info1 = url_of (fixture->ports[1], "/api/system/info");
  StatusWait failing = { fixture, fixture->ports[0], 503 };
  g_autofree char *state = NULL;

  g_assert_no_error (error);
  path = write_file (directory, "scenario.ini", text, -1);

  {
    g_autoptr(CtlResult) result = run_ctl ("scenario", path);
    g_autofree char *expected = g_strdup_printf ("Running the scenario in '%s'\n", path);

    assert_says (result, expected);
  }
  g_assert_true (pm_test_wait_until (http_status_is, &failing, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (http_status (fixture, info1), ==, 200);
  state = status_scenario ();
  g_assert_cmpstr (state, ==, "From the command line");
  {
    g_autofree char *cell = listed_faults (fixture->ports[0]);

    g_assert_cmpstr (cell, ==, "errors");
  }

  /* --stop clears what it set, at once. */
  {
    g_autoptr(CtlResult) result = run_ctl ("scenario", "--stop");

    assert_says (result, "Scenario stopped; the faults it set are cleared\n");
  }
  {
    g_autofree char *url = url_of (fixture->ports[0], "/api/system/info");
    g_autofree char *cell = listed_faults (fixture->ports[0]);

    g_assert_cmpuint (http_status (fixture, url), ==, 200);
    g_assert_cmpstr (cell, ==, "-");
  }
  g_clear_pointer (&state, g_free);
  state = status_scenario ();
  g_assert_cmpstr (state, ==, "none");
  {
    g_autoptr(CtlResult) result = run_ctl ("scenario", "--stop");

    assert_says (result, "No scenario was running\n");
  }

  /* A scenario without a name. */
  unnamed = write_file (directory, "unnamed.ini", "[step later]\nat=1h\nselect=all\naction=restart\n", -1);
  {
    g_autoptr(CtlResult) result = run_ctl ("scenario", unnamed);

    assert_ok (result);
  }
  g_clear_pointer (&state, g_free);
  state = status_scenario ();
  g_assert_cmpstr (state, ==, "(unnamed)");

  /* Files that cannot be sent or that the daemon refuses: exit 1, the
   * file named; the running scenario runs on. */
  {
    g_autofree char *bad_key = write_file (directory, "bad-key.ini",
                                           "[step slow]\nat=1s\nselect=all\nfault=latency\nms=1\nsped=3\n", -1);
    g_autofree char *empty = write_file (directory, "empty.ini", "", 0);
    g_autofree char *binary = write_file (directory, "binary.ini", "[step \xff]\n", -1);
    g_autofree char *missing = g_build_filename (directory, "missing.ini", NULL);
    g_autoptr(CtlResult) bad_key_result = run_ctl ("scenario", bad_key);
    g_autoptr(CtlResult) empty_result = run_ctl ("scenario", empty);
    g_autoptr(CtlResult) binary_result = run_ctl ("scenario", binary);
    g_autoptr(CtlResult) missing_result = run_ctl ("scenario", missing);
    g_autoptr(CtlResult) directory_result = run_ctl ("scenario", directory);
    g_autofree char *bad_key_says = g_strdup_printf ("'%s': [step slow]", bad_key);
    g_autofree char *empty_says = g_strdup_printf ("'%s': ", empty);

    assert_fails (bad_key_result, 1, bad_key_says);
    assert_fails (bad_key_result, 1, "'sped'");
    assert_fails (empty_result, 1, empty_says);
    assert_fails (empty_result, 1, "no step");
    assert_fails (binary_result, 1, "is not a text file in UTF-8");
    assert_fails (binary_result, 1, binary);
    assert_fails (missing_result, 1, "cannot read");
    assert_fails (missing_result, 1, missing);
    assert_fails (directory_result, 1, "cannot read");

    g_unlink (bad_key);
    g_unlink (empty);
    g_unlink (binary);
  }
  g_clear_pointer (&state, g_free);
  state = status_scenario ();
  g_assert_cmpstr (state, ==, "(unnamed)");

  g_unlink (path);
  g_unlink (unnamed);
  g_rmdir (directory);
}

/* ---- D-Bus and HTTP side by side ------------------------------------------------------ */

/* Runs @args over D-Bus, then over HTTP. */
static void
run_both (Fixture           *fixture,
          const char *const *args,
          CtlResult        **out_dbus,
          CtlResult        **out_http)
{
  g_assert_null (ctl_http_url);
  *out_dbus = run_ctl_env (NULL, args);
  ctl_http_url = g_strdup (fixture->listing_url);
  *out_http = run_ctl_env (NULL, args);
  g_clear_pointer (&ctl_http_url, g_free);
}

/* @text with every run of digits (and the dots between them) as "0": an
 * info document's live readings change from one request to the next,
 * its members, their order and its layout do not. */
static char *
mask_numbers (const char *text)
{
  g_autoptr(GRegex) digits = g_regex_new ("[0-9][0-9.]*", 0, 0, NULL);

  return g_regex_replace_literal (digits, text, -1, 0, "0", 0, NULL);
}

/* @text without its "controlAllow" member, which only HTTP gives. */
static char *
drop_control_allow (const char *text)
{
  g_autoptr(GRegex) member = g_regex_new (",\n  \"controlAllow\": \\[[^\\]]*\\]", 0, 0, NULL);
  g_autofree char *dropped = g_regex_replace_literal (member, text, -1, 0, "", 0, NULL);

  g_assert_cmpstr (dropped, !=, text);
  return g_steal_pointer (&dropped);
}

/* list, list --json, status, status --json and info print the same over
 * D-Bus and over HTTP, in a fleet with faults and a device restarting. */
static void
test_same_output (Fixture      *fixture,
                  gconstpointer user_data)
{
  g_autofree char *hostname = dup_hostname (fixture, fixture->ports[1]);
  const char *const list[] = { "list", NULL };
  const char *const list_json[] = { "list", "--json", NULL };
  const char *const status[] = { "status", NULL };
  const char *const status_json[] = { "status", "--json", NULL };
  const char *const info[] = { "info", fixture->port_text[0], NULL };
  const char *const info_compact[] = { "info", hostname, "--compact", NULL };
  const char *const *const same[] = { list, list_json, status, status_json };
  gsize i;

  /* Faults with parameters of every type, a device of another profile
   * with a firmware version that JSON escapes. */
  {
    g_autoptr(CtlResult) errors = run_ctl ("fault", fixture->port_text[0], "errors", "status=503", "rate=0.25");
    g_autoptr(CtlResult) ws = run_ctl ("fault", fixture->port_text[1], "ws-drop", "interval-s=2.5", "clean=true");
    /* A whole number held as a double: written alike by both. */
    g_autoptr(CtlResult) whole = run_ctl ("fault", fixture->port_text[0], "ws-drop", "interval-s=2.0");
    g_autoptr(CtlResult) latency = run_ctl ("fault", "--all", "latency", "ms=20");
    g_autoptr(CtlResult) added = run_ctl ("add", "--hostname", "Rig-7", "--profile", "pluto-legacy",
                                          "--firmware", "v1 \"q\" \xc3\xa9");

    assert_ok (errors);
    assert_ok (ws);
    assert_ok (whole);
    assert_ok (latency);
    assert_ok (added);
  }

  for (i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autoptr(CtlResult) dbus = NULL;
      g_autoptr(CtlResult) http = NULL;

      run_both (fixture, same[i], &dbus, &http);
      assert_ok (dbus);
      assert_ok (http);
      if (same[i] == status_json)
        {
          g_autofree char *dropped = drop_control_allow (http->out);

          g_assert_cmpstr (dropped, ==, dbus->out);
        }
      else
        {
          g_assert_cmpstr (http->out, ==, dbus->out);
        }
    }

  {
    g_autoptr(CtlResult) dbus = NULL;
    g_autoptr(CtlResult) http = NULL;
    g_autoptr(CtlResult) dbus_compact = NULL;
    g_autoptr(CtlResult) http_compact = NULL;
    g_autofree char *dbus_masked = NULL;
    g_autofree char *http_masked = NULL;
    g_autofree char *dbus_compact_masked = NULL;
    g_autofree char *http_compact_masked = NULL;

    run_both (fixture, info, &dbus, &http);
    run_both (fixture, info_compact, &dbus_compact, &http_compact);
    assert_ok (dbus);
    assert_ok (http);
    assert_ok (dbus_compact);
    assert_ok (http_compact);
    dbus_masked = mask_numbers (dbus->out);
    http_masked = mask_numbers (http->out);
    dbus_compact_masked = mask_numbers (dbus_compact->out);
    http_compact_masked = mask_numbers (http_compact->out);
    g_assert_cmpstr (http_masked, ==, dbus_masked);
    g_assert_cmpstr (http_compact_masked, ==, dbus_compact_masked);
  }
}

/* Over HTTP, what cannot be reached or is not plutomock's control API
 * says so in one line, exit 1; a daemon's error is its message. */
static void
test_http_errors (Fixture      *fixture,
                  gconstpointer user_data)
{
  guint free_port = pm_test_free_port ();

  /* Nothing listens. */
  g_clear_pointer (&ctl_http_url, g_free);
  ctl_http_url = g_strdup_printf ("http://127.0.0.1:%u/", free_port);
  {
    g_autoptr(CtlResult) result = run_ctl ("list");
    g_autoptr(CtlResult) fault = run_ctl ("fault", "--all", "offline");
    g_autofree char *expected = g_strdup_printf ("plutomockctl: cannot reach plutomock at http://127.0.0.1:%u: "
                                                 "connection refused; is it running?\n",
                                                 free_port);

    assert_fails (result, 1, "cannot reach plutomock");
    g_assert_cmpstr (result->err, ==, expected);
    assert_fails (fault, 1, "cannot reach plutomock");
  }

  /* A password in the URL is used, never printed. */
  g_clear_pointer (&ctl_http_url, g_free);
  ctl_http_url = g_strdup_printf ("http://user:s3cret@127.0.0.1:%u", free_port);
  {
    g_autoptr(CtlResult) result = run_ctl ("list");
    g_autofree char *expected = g_strdup_printf ("plutomockctl: cannot reach plutomock at http://127.0.0.1:%u: "
                                                 "connection refused; is it running?\n",
                                                 free_port);

    g_assert_cmpstr (result->err, ==, expected);
  }

  /* A device's port: HTTP, but no control API there. */
  g_clear_pointer (&ctl_http_url, g_free);
  ctl_http_url = g_strdup_printf ("http://127.0.0.1:%u", fixture->ports[0]);
  {
    g_autoptr(CtlResult) result = run_ctl ("status");

    assert_fails (result, 1, "is it a plutomock with control over HTTP?");
    g_assert_cmpuint (strcspn (result->err, "\n"), ==, strlen (result->err) - 1);
  }

  /* The daemon's errors: its message, no error name, one line. */
  g_clear_pointer (&ctl_http_url, g_free);
  ctl_http_url = g_strdup (fixture->listing_url);
  {
    g_autoptr(CtlResult) no_device = run_ctl ("info", "no-such-rig");
    g_autoptr(CtlResult) no_port = run_ctl ("restart", "99999999999");
    g_autoptr(CtlResult) bad_fault = run_ctl ("fault", fixture->port_text[1], "frobnicate");
    g_autoptr(CtlResult) bad_update = run_ctl ("update", fixture->port_text[1], "[]");

    assert_fails (no_device, 1, "no device named 'no-such-rig'");
    g_assert_cmpstr (no_device->err, ==, "plutomockctl: no device named 'no-such-rig'\n");
    g_assert_cmpstr (no_port->err, ==, "plutomockctl: no device with port 99999999999\n");
    assert_fails (bad_fault, 1, "unknown fault 'frobnicate'");
    assert_fails (bad_update, 1, "JSON object");
    g_assert_null (strstr (bad_fault->err, "org.pluto.Mock1.Error"));
    g_assert_cmpuint (strcspn (bad_fault->err, "\n"), ==, strlen (bad_fault->err) - 1);
  }
}

/* An id or a fault kind with '?', '#' or '%' is one path segment,
 * escaped, and the daemon says what it says over D-Bus.  ('/' cannot be:
 * libsoup decodes the path before the daemon sees it, so such a device
 * is reached by its port; the README says so.) */
static void
test_http_odd_names (Fixture      *fixture,
                     gconstpointer user_data)
{
  g_autoptr(CtlResult) odd_name = run_ctl ("remove", "a?c#d");
  g_autoptr(CtlResult) odd_kind = run_ctl ("fault", "--clear", fixture->port_text[1], "a?b#");
  g_autoptr(CtlResult) percent = run_ctl ("info", "a%2Fb");

  assert_fails (odd_name, 1, "no device");
  g_assert_cmpstr (odd_name->err, ==, "plutomockctl: no device named 'a?c#d'\n");
  assert_fails (odd_kind, 1, "unknown fault 'a?b#'");
  g_assert_cmpstr (percent->err, ==, "plutomockctl: no device named 'a%2Fb'\n");
}

/* PLUTOMOCK_URL selects HTTP as --http does; the option wins; empty is
 * not set; a bad one is a usage error naming it. */
static void
test_http_environment (Fixture      *fixture,
                       gconstpointer user_data)
{
  g_autofree char *good = g_strdup_printf ("PLUTOMOCK_URL=%s", fixture->listing_url);
  g_autofree char *unreachable_url = g_strdup_printf ("http://127.0.0.1:%u", pm_test_free_port ());
  g_autofree char *unreachable = g_strdup_printf ("PLUTOMOCK_URL=%s", unreachable_url);
  g_autofree char *no_bus = g_strdup_printf ("DBUS_SESSION_BUS_ADDRESS=unix:path=%s/no-such-bus-%u",
                                             g_get_tmp_dir (), g_random_int ());
  g_autoptr(CtlResult) dbus = run_ctl ("list");

  assert_ok (dbus);

  /* Over HTTP, with no bus to use. */
  {
    const char *const environment[] = { good, no_bus, NULL };
    g_autoptr(CtlResult) result = run_ctl_env (environment, (const char *const[]) { "list", NULL });

    assert_ok (result);
    g_assert_cmpstr (result->out, ==, dbus->out);
  }
  /* --http wins, either way. */
  {
    const char *const environment[] = { unreachable, no_bus, NULL };
    g_autoptr(CtlResult) result = run_ctl_env (environment,
                                               (const char *const[]) { "--http", fixture->listing_url, "list", NULL });

    assert_ok (result);
    g_assert_cmpstr (result->out, ==, dbus->out);
  }
  {
    const char *const environment[] = { good, NULL };
    g_autoptr(CtlResult) result = run_ctl_env (environment,
                                               (const char *const[]) { "--http", unreachable_url, "list", NULL });

    assert_fails (result, 1, unreachable_url);
  }
  /* Empty: D-Bus, as without it. */
  {
    const char *const environment[] = { "PLUTOMOCK_URL=", NULL };
    g_autoptr(CtlResult) result = run_ctl_env (environment, (const char *const[]) { "list", NULL });

    assert_ok (result);
    g_assert_cmpstr (result->out, ==, dbus->out);
  }
  {
    const char *const environment[] = { "PLUTOMOCK_URL=localhost:7770", NULL };
    g_autoptr(CtlResult) result = run_ctl_env (environment, (const char *const[]) { "list", NULL });

    assert_fails (result, 2, "PLUTOMOCK_URL: 'localhost:7770' is not an http:// URL");
  }
}

/* Over HTTP, a device with a simulated miner has its live readings in
 * list --json; the others have none. */
static void
test_http_live (Fixture      *fixture,
                gconstpointer user_data)
{
  static const char *const live_members[] = {
    "hashRate", "temp", "power", "fanrpm", "sharesAccepted", "sharesRejected", "uptimeSeconds",
  };
  g_autoptr(CtlResult) added = run_ctl ("add", "--json", "--profile", "axeos-gamma");
  g_autoptr(CtlResult) listed = NULL;
  g_autoptr(JsonNode) added_node = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *device, *live;
  guint port;
  gsize i;

  assert_ok (added);
  added_node = parse_json (added->out);
  port = (guint) json_object_get_int_member (json_node_get_object (added_node), "port");

  listed = run_ctl ("list", "--json");
  assert_ok (listed);
  node = parse_json (listed->out);
  device = find_json_device (json_node_get_array (node), port);
  g_assert_cmpuint (json_object_get_size (device), ==, 10);
  live = json_object_get_object_member (device, "live");
  g_assert_nonnull (live);
  g_assert_cmpuint (json_object_get_size (live), ==, G_N_ELEMENTS (live_members));
  for (i = 0; i < G_N_ELEMENTS (live_members); i++)
    g_assert_true (json_object_has_member (live, live_members[i]));
  for (i = 0; i < G_N_ELEMENTS (fixture->ports); i++)
    g_assert_false (json_object_has_member (find_json_device (json_node_get_array (node), fixture->ports[i]),
                                            "live"));
}

/* CONTROL_ALLOW=none: the daemon refuses control over HTTP, and says how
 * to allow it; plutomockctl passes that on. */
static void
test_http_forbidden (void)
{
  g_autofree char *ports = g_strdup_printf ("%u", pm_test_free_port ());
  GTestDBus *bus;
  guint listing_port;

  /* The bus starts the daemon with the environment it had itself. */
  g_setenv ("CONTROL_ALLOW", "none", TRUE);
  bus = pm_test_bus_up (ports);
  g_unsetenv ("CONTROL_ALLOW");

  {
    g_autoptr(CtlResult) result = run_ctl ("status", "--json");
    g_autoptr(JsonNode) node = NULL;

    assert_ok (result);
    node = parse_json (result->out);
    listing_port = (guint) json_object_get_int_member (json_node_get_object (node), "listingPort");
  }

  ctl_http_url = g_strdup_printf ("http://127.0.0.1:%u", listing_port);
  {
    g_autoptr(CtlResult) result = run_ctl ("list");

    assert_fails (result, 1, "control over HTTP");
    g_assert_nonnull (strstr (result->err, "--control-allow"));
    g_assert_null (strstr (result->err, "org.pluto.Mock1.Error"));
    g_assert_cmpuint (strcspn (result->err, "\n"), ==, strlen (result->err) - 1);
  }
  g_clear_pointer (&ctl_http_url, g_free);
  pm_test_bus_down (bus);
}

/* Adds a test of the commands twice: /ctl/dbus/NAME and /ctl/http/NAME. */
static void
add_both (const char *name,
          void (*test) (Fixture *, gconstpointer))
{
  g_autofree char *dbus_path = g_strdup_printf ("/ctl/dbus/%s", name);
  g_autofree char *http_path = g_strdup_printf ("/ctl/http/%s", name);

  g_test_add (dbus_path, Fixture, &dbus_transport, fixture_setup, test, fixture_teardown);
  g_test_add (http_path, Fixture, &http_transport, fixture_setup, test, fixture_teardown);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ctl/help", test_help);
  g_test_add_func ("/ctl/usage-errors", test_usage_errors);
  g_test_add_func ("/ctl/no-bus", test_no_bus);
  g_test_add_func ("/ctl/no-session-bus", test_no_session_bus);
  g_test_add_func ("/ctl/not-activatable", test_not_activatable);
  g_test_add_func ("/ctl/http-forbidden", test_http_forbidden);
  add_both ("list", test_list);
  add_both ("list-json", test_list_json);
  add_both ("add", test_add);
  add_both ("add-errors", test_add_errors);
  add_both ("add-profile", test_add_profile);
  add_both ("add-profile-errors", test_add_profile_errors);
  add_both ("remove", test_remove);
  add_both ("restart", test_restart);
  add_both ("info", test_info);
  add_both ("update", test_update);
  add_both ("status", test_status);
  add_both ("fault", test_fault);
  add_both ("fault-errors", test_fault_errors);
  add_both ("scenario", test_scenario);
  g_test_add ("/ctl/same-output", Fixture, &dbus_transport, fixture_setup, test_same_output, fixture_teardown);
  g_test_add ("/ctl/http/errors", Fixture, &http_transport, fixture_setup, test_http_errors, fixture_teardown);
  g_test_add ("/ctl/http/odd-names", Fixture, &http_transport, fixture_setup, test_http_odd_names,
              fixture_teardown);
  g_test_add ("/ctl/http/environment", Fixture, &dbus_transport, fixture_setup, test_http_environment,
              fixture_teardown);
  g_test_add ("/ctl/http/live", Fixture, &http_transport, fixture_setup, test_http_live, fixture_teardown);

  return g_test_run ();
}
