/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-config"

#include "config.h"

#include <string.h>

#include "pm-config.h"
#include "pm-error.h"
#include "pm-test-util.h"

/*
 * Unit tests of the start-up configuration: built-in defaults, the
 * environment given as an explicit array, and the command line, which
 * beats the environment.
 */

/* Runs pm_config_load() on "plutomock" followed by @args (NULL-terminated,
 * may be NULL).  The option parser removes what it recognises from the
 * array it is given, so it gets a copy of the pointers while the strings
 * stay owned here. */
static gboolean
load (PmConfig          *config,
      const char *const *envp,
      const char *const *args,
      GError           **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) owned = NULL;
  g_autofree char **argv = NULL;
  int argc;
  gboolean ok;

  g_strv_builder_add (builder, "plutomock");
  if (args != NULL)
    g_strv_builder_addv (builder, (const char **) args);
  owned = g_strv_builder_end (builder);
  argc = (int) g_strv_length (owned);
  argv = g_memdup2 (owned, sizeof (char *) * (argc + 1));

  ok = pm_config_load (config, envp, &argc, &argv, error);
  if (ok)
    {
      /* Everything was consumed; only the program name is left. */
      g_assert_cmpint (argc, ==, 1);
      g_assert_cmpstr (argv[0], ==, "plutomock");
      g_assert_null (argv[1]);
    }
  return ok;
}

static PmConfig *
load_ok (const char *const *envp,
         const char *const *args)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (load (config, envp, args, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&config);
}

/* Checks that loading fails with PM_ERROR_INVALID_ARGUMENT and that the
 * message contains every string of @expected (NULL-terminated). */
static void
assert_load_fails (const char *const *envp,
                   const char *const *args,
                   const char *const *expected)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *env_text = envp != NULL ? g_strjoinv (" ", (char **) envp) : NULL;
  g_autofree char *args_text = args != NULL ? g_strjoinv (" ", (char **) args) : NULL;
  gsize i;

  g_test_message ("env [%s] args [%s]", env_text != NULL ? env_text : "",
                  args_text != NULL ? args_text : "");
  g_assert_false (load (config, envp, args, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (error->message);
  g_test_message ("  → %s", error->message);
  g_assert_cmpstr (error->message, !=, "");
  for (i = 0; expected != NULL && expected[i] != NULL; i++)
    if (strstr (error->message, expected[i]) == NULL)
      g_error ("error message “%s” does not mention “%s”", error->message, expected[i]);

  /* Without an error location it fails the same way. */
  {
    g_autoptr(PmConfig) again = pm_config_new ();

    g_assert_false (load (again, envp, args, NULL));
  }
}

#define ENV(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define WORDS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void
assert_ports (PmConfig    *config,
              const guint *expected,
              gsize        n_expected)
{
  gsize i;

  g_assert_nonnull (config->ports);
  g_assert_cmpuint (config->ports->len, ==, n_expected);
  for (i = 0; i < n_expected; i++)
    g_assert_cmpuint (g_array_index (config->ports, guint, i), ==, expected[i]);
}

static void
assert_defaults (PmConfig *config)
{
  const guint ports[] = { 7751, 7752, 7753, 7754, 7755, 7756, 7757, 7758, 7759, 7760 };

  g_assert_cmpuint (config->listing_port, ==, 7770);
  assert_ports (config, ports, G_N_ELEMENTS (ports));
  g_assert_false (config->logs_enabled);
  g_assert_cmpstr (config->bind_address, ==, "127.0.0.1");
  g_assert_false (config->seed_given);
  g_assert_false (config->show_version);
  g_assert_true (config->dbus_enabled);
  g_assert_false (config->replace);
}

/* ---- accepted configurations ---------------------------------------------- */

static void
test_defaults (void)
{
  g_autoptr(PmConfig) config = pm_config_new ();

  assert_defaults (config);
  g_assert_cmpuint (PM_DEFAULT_LISTING_PORT, ==, 7770);
  g_assert_cmpuint (PM_DEFAULT_FIRST_PORT, ==, 7751);
  g_assert_cmpuint (PM_DEFAULT_LAST_PORT, ==, 7760);
  g_assert_cmpstr (PM_DEFAULT_BIND_ADDRESS, ==, "127.0.0.1");

  /* Freeing NULL is allowed. */
  pm_config_free (NULL);
}

/* Nothing given: the defaults stand.  The process environment is not
 * read, only the array passed in. */
static void
test_nothing_given (void)
{
  g_autoptr(PmConfig) from_null = NULL;
  g_autoptr(PmConfig) from_empty = NULL;
  g_autoptr(PmConfig) from_other = NULL;

  g_assert_true (g_setenv ("LISTING_PORT", "not-a-port", TRUE));
  g_assert_true (g_setenv ("PORTS", "1,1,1", TRUE));
  g_assert_true (g_setenv ("LOGS_PUB_ENABLED", "true", TRUE));

  from_null = load_ok (NULL, NULL);
  from_empty = load_ok ((const char *const[]) { NULL }, NULL);
  from_other = load_ok (ENV ("HOME=/nonexistent", "PORTSX=1", "XPORTS=2", "LISTING_PORTS=3"),
                        NULL);

  g_unsetenv ("LISTING_PORT");
  g_unsetenv ("PORTS");
  g_unsetenv ("LOGS_PUB_ENABLED");

  assert_defaults (from_null);
  assert_defaults (from_empty);
  assert_defaults (from_other);
}

static void
test_env_only (void)
{
  const guint ports[] = { 8000, 8001, 8002, 8003, 9001 };
  g_autoptr(PmConfig) config =
    load_ok (ENV ("PATH=/usr/bin", "LISTING_PORT=9000", "PORTS=8000-8003,9001",
                  "LOGS_PUB_ENABLED=true"),
             NULL);

  g_assert_cmpuint (config->listing_port, ==, 9000);
  assert_ports (config, ports, G_N_ELEMENTS (ports));
  g_assert_true (config->logs_enabled);
  g_assert_cmpstr (config->bind_address, ==, "127.0.0.1");
  g_assert_false (config->seed_given);
}

static void
test_options_only (void)
{
  const guint long_ports[] = { 8100, 8102 };
  const guint short_ports[] = { 8200, 8201, 8202 };
  g_autoptr(PmConfig) long_form = NULL;
  g_autoptr(PmConfig) equals_form = NULL;
  g_autoptr(PmConfig) short_form = NULL;

  long_form = load_ok (NULL, ARGS ("--listing-port", "9100", "--ports", "8100,8102", "--logs"));
  g_assert_cmpuint (long_form->listing_port, ==, 9100);
  assert_ports (long_form, long_ports, G_N_ELEMENTS (long_ports));
  g_assert_true (long_form->logs_enabled);

  equals_form = load_ok (NULL, ARGS ("--listing-port=9100", "--ports=8100,8102", "--logs=yes"));
  g_assert_cmpuint (equals_form->listing_port, ==, 9100);
  assert_ports (equals_form, long_ports, G_N_ELEMENTS (long_ports));
  g_assert_true (equals_form->logs_enabled);

  short_form = load_ok (NULL, ARGS ("-l", "9200", "-p", "8200-8202", "-b", "::1", "-s", "7"));
  g_assert_cmpuint (short_form->listing_port, ==, 9200);
  assert_ports (short_form, short_ports, G_N_ELEMENTS (short_ports));
  g_assert_false (short_form->logs_enabled);
  g_assert_cmpstr (short_form->bind_address, ==, "::1");
  g_assert_true (short_form->seed_given);
  g_assert_cmpuint (short_form->seed, ==, 7);
}

static void
test_option_beats_env (void)
{
  const char *const *env = ENV ("LISTING_PORT=9000", "PORTS=8000-8003", "LOGS_PUB_ENABLED=true");
  const guint env_ports[] = { 8000, 8001, 8002, 8003 };
  const guint option_ports[] = { 8500, 8501 };
  g_autoptr(PmConfig) listing = load_ok (env, ARGS ("--listing-port", "9100"));
  g_autoptr(PmConfig) ports = load_ok (env, ARGS ("--ports", "8500-8501"));
  g_autoptr(PmConfig) logs_off = load_ok (env, ARGS ("--logs=false"));
  g_autoptr(PmConfig) logs_on = load_ok (ENV ("LOGS_PUB_ENABLED=false"), ARGS ("--logs"));
  g_autoptr(PmConfig) logs_on_value = load_ok (ENV ("LOGS_PUB_ENABLED=no"), ARGS ("--logs=1"));

  /* Each option replaces its variable alone. */
  g_assert_cmpuint (listing->listing_port, ==, 9100);
  assert_ports (listing, env_ports, G_N_ELEMENTS (env_ports));
  g_assert_true (listing->logs_enabled);

  g_assert_cmpuint (ports->listing_port, ==, 9000);
  assert_ports (ports, option_ports, G_N_ELEMENTS (option_ports));
  g_assert_true (ports->logs_enabled);

  g_assert_cmpuint (logs_off->listing_port, ==, 9000);
  assert_ports (logs_off, env_ports, G_N_ELEMENTS (env_ports));
  g_assert_false (logs_off->logs_enabled);

  g_assert_true (logs_on->logs_enabled);
  g_assert_true (logs_on_value->logs_enabled);
}

/* --logs alone means true; a later --logs wins over an earlier one. */
static void
test_logs_option (void)
{
  const struct
  {
    const char *arg;
    gboolean    value;
  } cases[] = {
    { "--logs", TRUE },
    { "--logs=true", TRUE },
    { "--logs=TRUE", TRUE },
    { "--logs=1", TRUE },
    { "--logs=Yes", TRUE },
    { "--logs=false", FALSE },
    { "--logs=False", FALSE },
    { "--logs=0", FALSE },
    { "--logs=NO", FALSE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      /* Start from the opposite value, so the option must change it. */
      g_autoptr(PmConfig) config = pm_config_new ();
      g_autoptr(GError) error = NULL;

      config->logs_enabled = !cases[i].value;
      g_test_message ("%s", cases[i].arg);
      g_assert_true (load (config, NULL, ARGS (cases[i].arg), &error));
      g_assert_no_error (error);
      g_assert_cmpint (config->logs_enabled, ==, cases[i].value);
    }

  {
    g_autoptr(PmConfig) config = load_ok (NULL, ARGS ("--logs", "--logs=false"));

    g_assert_false (config->logs_enabled);
  }

  /* The value of --logs goes after "="; "--logs false" must not end up
   * enabling logs. */
  {
    g_autoptr(PmConfig) config = pm_config_new ();
    g_autoptr(GError) error = NULL;

    if (load (config, NULL, ARGS ("--logs", "false"), &error))
      g_assert_false (config->logs_enabled);
    else
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_logs_env_values (void)
{
  const char *truthy[] = { "true", "TRUE", "True", "tRuE", "1", "yes", "YES", "Yes" };
  const char *falsy[] = { "false", "FALSE", "False", "fAlSe", "0", "no", "NO", "No" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (truthy); i++)
    {
      g_autofree char *variable = g_strconcat ("LOGS_PUB_ENABLED=", truthy[i], NULL);
      g_autoptr(PmConfig) config = pm_config_new ();
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", variable);
      config->logs_enabled = FALSE;
      g_assert_true (load (config, ENV (variable), NULL, &error));
      g_assert_no_error (error);
      g_assert_true (config->logs_enabled);
    }

  for (i = 0; i < G_N_ELEMENTS (falsy); i++)
    {
      g_autofree char *variable = g_strconcat ("LOGS_PUB_ENABLED=", falsy[i], NULL);
      g_autoptr(PmConfig) config = pm_config_new ();
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", variable);
      config->logs_enabled = TRUE;
      g_assert_true (load (config, ENV (variable), NULL, &error));
      g_assert_no_error (error);
      g_assert_false (config->logs_enabled);
    }
}

/* A variable set to the empty string counts as not set. */
static void
test_empty_env (void)
{
  g_autoptr(PmConfig) config =
    load_ok (ENV ("LISTING_PORT=", "PORTS=", "LOGS_PUB_ENABLED="), NULL);
  g_autoptr(PmConfig) mixed = NULL;
  const guint ports[] = { 8000 };

  assert_defaults (config);

  mixed = load_ok (ENV ("LISTING_PORT=", "PORTS=8000", "LOGS_PUB_ENABLED="), NULL);
  g_assert_cmpuint (mixed->listing_port, ==, 7770);
  assert_ports (mixed, ports, G_N_ELEMENTS (ports));
  g_assert_false (mixed->logs_enabled);
}

static void
test_ports_syntax (void)
{
  const struct
  {
    const char *text;
    guint       ports[8];
    gsize       n_ports;
  } cases[] = {
    { "8000-8003,9000", { 8000, 8001, 8002, 8003, 9000 }, 5 },
    { "9000,8000-8003", { 9000, 8000, 8001, 8002, 8003 }, 5 },
    { "8000", { 8000 }, 1 },
    { "8000-8000", { 8000 }, 1 },
    { " 8000 , 8001 - 8002 ,9000 ", { 8000, 8001, 8002, 9000 }, 4 },
    { "\t8005\t", { 8005 }, 1 },
    { "1,65535", { 1, 65535 }, 2 },
    { "65533-65535", { 65533, 65534, 65535 }, 3 },
    { "7751,7753,7752", { 7751, 7753, 7752 }, 3 },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *variable = g_strconcat ("PORTS=", cases[i].text, NULL);
      g_autofree char *option = g_strconcat ("--ports=", cases[i].text, NULL);
      g_autoptr(PmConfig) from_env = NULL;
      g_autoptr(PmConfig) from_option = NULL;

      g_test_message ("%s", variable);
      from_env = load_ok (ENV (variable), NULL);
      assert_ports (from_env, cases[i].ports, cases[i].n_ports);
      from_option = load_ok (NULL, ARGS (option));
      assert_ports (from_option, cases[i].ports, cases[i].n_ports);
    }

  /* A long range is fine. */
  {
    g_autoptr(PmConfig) config = load_ok (ENV ("PORTS=20000-20999"), NULL);
    guint j;

    g_assert_cmpuint (config->ports->len, ==, 1000);
    for (j = 0; j < 1000; j++)
      g_assert_cmpuint (g_array_index (config->ports, guint, j), ==, 20000 + j);
  }

  /* And the listing port may be anything outside the list. */
  {
    g_autoptr(PmConfig) config = load_ok (ENV ("LISTING_PORT= 7761 ", "PORTS=7751-7760"), NULL);

    g_assert_cmpuint (config->listing_port, ==, 7761);
  }
}

static void
test_bind (void)
{
  const struct
  {
    const char *arg;
    const char *address;
  } cases[] = {
    { "::1", "::1" },
    { "127.0.0.1", "127.0.0.1" },
    { "0.0.0.0", "0.0.0.0" },
    { "::", "::" },
    { "192.168.1.20", "192.168.1.20" },
    { "fe80::1", "fe80::1" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PmConfig) separate = load_ok (NULL, ARGS ("--bind", cases[i].arg));
      g_autofree char *joined = g_strconcat ("--bind=", cases[i].arg, NULL);
      g_autoptr(PmConfig) equals = load_ok (NULL, ARGS (joined));

      g_assert_cmpstr (separate->bind_address, ==, cases[i].address);
      g_assert_cmpstr (equals->bind_address, ==, cases[i].address);
    }
}

static void
test_seed (void)
{
  g_autoptr(PmConfig) none = load_ok (NULL, NULL);
  g_autoptr(PmConfig) answer = load_ok (NULL, ARGS ("--seed", "42"));
  g_autoptr(PmConfig) zero = load_ok (NULL, ARGS ("--seed=0"));
  g_autoptr(PmConfig) largest = load_ok (NULL, ARGS ("--seed", "18446744073709551615"));
  g_autoptr(PmConfig) high = load_ok (NULL, ARGS ("--seed", "4294967296"));

  g_assert_false (none->seed_given);
  g_assert_true (answer->seed_given);
  g_assert_cmpuint (answer->seed, ==, 42);
  g_assert_true (zero->seed_given);
  g_assert_cmpuint (zero->seed, ==, 0);
  g_assert_true (largest->seed_given);
  g_assert_cmpuint (largest->seed, ==, G_MAXUINT64);
  g_assert_cmpuint (high->seed, ==, G_GUINT64_CONSTANT (4294967296));
}

static void
test_version (void)
{
  g_autoptr(PmConfig) plain = load_ok (NULL, NULL);
  g_autoptr(PmConfig) version = load_ok (NULL, ARGS ("--version"));

  g_assert_false (plain->show_version);
  g_assert_true (version->show_version);
}

static void
test_dbus_options (void)
{
  g_autoptr(PmConfig) off = load_ok (NULL, ARGS ("--no-dbus"));
  g_autoptr(PmConfig) replace = load_ok (NULL, ARGS ("--replace"));
  g_autoptr(PmConfig) short_replace = load_ok (NULL, ARGS ("-r"));

  g_assert_false (off->dbus_enabled);
  g_assert_false (off->replace);
  g_assert_true (replace->dbus_enabled);
  g_assert_true (replace->replace);
  g_assert_true (short_replace->replace);
}

/* LISTING_PORT=0 asks for any free port; device ports stay 1 to 65535. */
static void
test_listing_port_zero (void)
{
  g_autoptr(PmConfig) from_env = load_ok (ENV ("LISTING_PORT=0"), NULL);
  g_autoptr(PmConfig) padded = load_ok (ENV ("LISTING_PORT= 0 "), NULL);
  g_autoptr(PmConfig) from_option = load_ok (NULL, ARGS ("--listing-port", "0"));

  g_assert_cmpuint (from_env->listing_port, ==, 0);
  g_assert_cmpuint (padded->listing_port, ==, 0);
  g_assert_cmpuint (from_option->listing_port, ==, 0);
  assert_load_fails (NULL, ARGS ("--listing-port", "00x"), WORDS ("--listing-port", "00x"));
  assert_load_fails (NULL, ARGS ("--ports", "0"), WORDS ("--ports", "0"));
}

/* ---- profiles, telemetry and the network gate ------------------------------ */

/* The device profiles, written out here rather than taken from the code
 * under test. */
static const char *const device_profiles[] = {
  "pluto-legacy", "pluto-new", "axeos-gamma", "axeos-supra", "axeos-ultra", "nerdqaxe-plus",
};

static gboolean
is_device_profile (const char *name)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (device_profiles); i++)
    if (g_str_equal (device_profiles[i], name))
      return TRUE;
  return FALSE;
}

/* The profiles of devices 1 to @n (mockaxe1 …), joined with commas. */
static char *
assigned_profiles (PmConfig *config,
                   guint     n,
                   guint64   seed)
{
  GString *out = g_string_new (NULL);
  guint number;

  g_assert_nonnull (config->profiles);
  for (number = 1; number <= n; number++)
    {
      const PmProfile *profile = pm_profile_list_pick (config->profiles, number, seed);

      g_assert_nonnull (profile);
      if (out->len > 0)
        g_string_append_c (out, ',');
      g_string_append (out, profile->name);
    }
  return g_string_free (out, FALSE);
}

/* Checks that @config assigns @expected (comma-separated) to devices 1,
 * 2, … in turn, over and over, and reads back as @list. */
static void
assert_profiles (PmConfig   *config,
                 const char *list,
                 const char *expected)
{
  g_auto(GStrv) names = g_strsplit (expected, ",", -1);
  guint n = g_strv_length (names);
  g_autofree char *assigned = assigned_profiles (config, 3 * n, 0);
  g_autofree char *text = pm_profile_list_to_string (config->profiles);
  g_autoptr(GString) cycled = g_string_new (NULL);
  guint i;

  for (i = 0; i < 3 * n; i++)
    {
      if (i > 0)
        g_string_append_c (cycled, ',');
      g_string_append (cycled, names[i % n]);
    }
  g_assert_cmpstr (assigned, ==, cycled->str);
  g_assert_cmpstr (text, ==, list);
}

/* Without PROFILE, the original mock's shapes alternate: odd devices
 * legacy, even ones new. */
static void
test_profile_default (void)
{
  g_autoptr(PmConfig) defaults = pm_config_new ();
  g_autoptr(PmConfig) empty = load_ok (ENV ("PROFILE=", "TELEMETRY=", "NETWORK_GATE="), NULL);

  assert_profiles (defaults, "pluto-legacy,pluto-new", "pluto-legacy,pluto-new");
  assert_profiles (empty, "pluto-legacy,pluto-new", "pluto-legacy,pluto-new");
  g_assert_false (defaults->simulated_telemetry);
  g_assert_false (defaults->network_gate);
  g_assert_false (empty->simulated_telemetry);
  g_assert_false (empty->network_gate);
}

/* One profile for all, or a list assigned in turn; blanks around the
 * names do not count; a name may come more than once. */
static void
test_profile_lists (void)
{
  const struct
  {
    const char *text;
    const char *list;  /* as the configuration reads back, and in turn */
  } cases[] = {
    { "axeos-gamma", "axeos-gamma" },
    { "axeos-gamma,nerdqaxe-plus", "axeos-gamma,nerdqaxe-plus" },
    { "pluto-new,axeos-supra,axeos-ultra", "pluto-new,axeos-supra,axeos-ultra" },
    { " axeos-gamma , nerdqaxe-plus\t", "axeos-gamma,nerdqaxe-plus" },
    { "\taxeos-ultra\n", "axeos-ultra" },
    { "pluto-legacy,pluto-legacy,pluto-new", "pluto-legacy,pluto-legacy,pluto-new" },
    { "nerdqaxe-plus,pluto-legacy,pluto-new,axeos-gamma,axeos-supra,axeos-ultra",
      "nerdqaxe-plus,pluto-legacy,pluto-new,axeos-gamma,axeos-supra,axeos-ultra" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *variable = g_strconcat ("PROFILE=", cases[i].text, NULL);
      g_autofree char *option = g_strconcat ("--profile=", cases[i].text, NULL);
      g_autoptr(PmConfig) from_env = NULL;
      g_autoptr(PmConfig) from_option = NULL;
      g_autoptr(PmConfig) from_separate = NULL;
      g_autoptr(PmConfig) from_short = NULL;

      g_test_message ("%s", variable);
      from_env = load_ok (ENV (variable), NULL);
      assert_profiles (from_env, cases[i].list, cases[i].list);
      from_option = load_ok (NULL, ARGS (option));
      assert_profiles (from_option, cases[i].list, cases[i].list);
      from_separate = load_ok (NULL, ARGS ("--profile", cases[i].text));
      assert_profiles (from_separate, cases[i].list, cases[i].list);
      from_short = load_ok (NULL, ARGS ("-P", cases[i].text));
      assert_profiles (from_short, cases[i].list, cases[i].list);
    }

  /* Every device profile on its own. */
  for (i = 0; i < G_N_ELEMENTS (device_profiles); i++)
    {
      g_autofree char *variable = g_strconcat ("PROFILE=", device_profiles[i], NULL);
      g_autoptr(PmConfig) config = load_ok (ENV (variable), NULL);

      assert_profiles (config, device_profiles[i], device_profiles[i]);
    }
}

/* mixed: a draw for each device from the seed and its number alone, so
 * the same seed gives the same fleet; a draw is a device profile. */
static void
test_profile_mixed (void)
{
  const char *texts[] = { "mixed", " mixed ", "\tmixed\n" };
  g_autoptr(PmConfig) first = load_ok (ENV ("PROFILE=mixed"), NULL);
  g_autoptr(PmConfig) second = load_ok (NULL, ARGS ("--profile", "mixed"));
  g_autofree char *first_fleet = assigned_profiles (first, 50, 4242);
  g_autofree char *second_fleet = assigned_profiles (second, 50, 4242);
  g_autofree char *again = assigned_profiles (first, 50, 4242);
  g_autofree char *other_seed = assigned_profiles (first, 50, 4243);
  g_auto(GStrv) names = g_strsplit (first_fleet, ",", -1);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *variable = g_strconcat ("PROFILE=", texts[i], NULL);
      g_autoptr(PmConfig) config = load_ok (ENV (variable), NULL);
      g_autofree char *text = pm_profile_list_to_string (config->profiles);
      g_autofree char *fleet = assigned_profiles (config, 50, 4242);

      g_assert_cmpstr (text, ==, "mixed");
      g_assert_cmpstr (fleet, ==, first_fleet);
    }

  g_assert_cmpstr (second_fleet, ==, first_fleet);
  g_assert_cmpstr (again, ==, first_fleet);
  /* 50 draws from a blend: another seed gives another fleet, and a
   * fleet has more than one profile. */
  g_assert_cmpstr (other_seed, !=, first_fleet);
  for (i = 0; names[i] != NULL; i++)
    {
      if (!is_device_profile (names[i]))
        g_error ("mixed gave “%s”, which is not a device profile", names[i]);
      g_hash_table_add (seen, names[i]);
    }
  g_assert_cmpuint (g_hash_table_size (seen), >, 1);
}

static void
test_telemetry (void)
{
  const struct
  {
    const char *text;
    gboolean    simulated;
  } cases[] = {
    { "random", FALSE },
    { "simulated", TRUE },
    { " simulated\t", TRUE },
    { " random ", FALSE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *variable = g_strconcat ("TELEMETRY=", cases[i].text, NULL);
      g_autofree char *option = g_strconcat ("--telemetry=", cases[i].text, NULL);
      g_autoptr(PmConfig) from_env = pm_config_new ();
      g_autoptr(PmConfig) from_option = pm_config_new ();
      g_autoptr(GError) error = NULL;

      /* Start from the opposite value, so the setting must change it. */
      g_test_message ("%s", variable);
      from_env->simulated_telemetry = !cases[i].simulated;
      g_assert_true (load (from_env, ENV (variable), NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (from_env->simulated_telemetry, ==, cases[i].simulated);
      from_option->simulated_telemetry = !cases[i].simulated;
      g_assert_true (load (from_option, NULL, ARGS (option), &error));
      g_assert_no_error (error);
      g_assert_cmpint (from_option->simulated_telemetry, ==, cases[i].simulated);
    }
}

static void
test_network_gate (void)
{
  const struct
  {
    const char *variable;
    const char *arg;
    gboolean    gate;
  } cases[] = {
    { "NETWORK_GATE=true", NULL, TRUE },
    { "NETWORK_GATE=YES", NULL, TRUE },
    { "NETWORK_GATE=1", NULL, TRUE },
    { "NETWORK_GATE=false", NULL, FALSE },
    { "NETWORK_GATE=No", NULL, FALSE },
    { "NETWORK_GATE=0", NULL, FALSE },
    { NULL, "--network-gate", TRUE },
    { NULL, "--network-gate=true", TRUE },
    { NULL, "--network-gate=1", TRUE },
    { NULL, "--network-gate=false", FALSE },
    { NULL, "--network-gate=no", FALSE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PmConfig) config = pm_config_new ();
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", cases[i].variable != NULL ? cases[i].variable : cases[i].arg);
      config->network_gate = !cases[i].gate;
      g_assert_true (load (config, cases[i].variable != NULL ? ENV (cases[i].variable) : NULL,
                           cases[i].arg != NULL ? ARGS (cases[i].arg) : NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (config->network_gate, ==, cases[i].gate);
    }
}

/* Each option beats its variable alone, and a variable an option beats
 * is not read at all. */
static void
test_profile_option_beats_env (void)
{
  const char *const *env = ENV ("PROFILE=axeos-gamma", "TELEMETRY=simulated", "NETWORK_GATE=yes");
  g_autoptr(PmConfig) from_env = load_ok (env, NULL);
  g_autoptr(PmConfig) profile = load_ok (env, ARGS ("--profile", "nerdqaxe-plus,pluto-new"));
  g_autoptr(PmConfig) telemetry = load_ok (env, ARGS ("--telemetry", "random"));
  g_autoptr(PmConfig) gate = load_ok (env, ARGS ("--network-gate=false"));
  g_autoptr(PmConfig) over_bad = NULL;

  assert_profiles (from_env, "axeos-gamma", "axeos-gamma");
  g_assert_true (from_env->simulated_telemetry);
  g_assert_true (from_env->network_gate);

  assert_profiles (profile, "nerdqaxe-plus,pluto-new", "nerdqaxe-plus,pluto-new");
  g_assert_true (profile->simulated_telemetry);
  g_assert_true (profile->network_gate);

  assert_profiles (telemetry, "axeos-gamma", "axeos-gamma");
  g_assert_false (telemetry->simulated_telemetry);
  g_assert_true (telemetry->network_gate);

  assert_profiles (gate, "axeos-gamma", "axeos-gamma");
  g_assert_true (gate->simulated_telemetry);
  g_assert_false (gate->network_gate);

  over_bad = load_ok (ENV ("PROFILE=no-such-profile", "TELEMETRY=sometimes", "NETWORK_GATE=maybe"),
                      ARGS ("--profile", "mixed", "--telemetry", "simulated", "--network-gate"));
  {
    g_autofree char *text = pm_profile_list_to_string (over_bad->profiles);

    g_assert_cmpstr (text, ==, "mixed");
  }
  g_assert_true (over_bad->simulated_telemetry);
  g_assert_true (over_bad->network_gate);
}

/* ---- rejected configurations ---------------------------------------------- */

static void
test_error_port_values (void)
{
  const char *bad[] = {
    "abc", "0", "65536", "-1", "70000", "99999999999999999999", "12abc", "1.5", "0x1f90", "+80",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *listing_variable = g_strconcat ("LISTING_PORT=", bad[i], NULL);
      g_autofree char *ports_variable = g_strconcat ("PORTS=", bad[i], NULL);
      g_autofree char *listing_option = g_strconcat ("--listing-port=", bad[i], NULL);
      g_autofree char *ports_option = g_strconcat ("--ports=", bad[i], NULL);

      /* 0 is a listing port: any free one. */
      if (g_strcmp0 (bad[i], "0") != 0)
        {
          assert_load_fails (ENV (listing_variable), NULL, WORDS ("LISTING_PORT", bad[i]));
          assert_load_fails (NULL, ARGS (listing_option), WORDS ("--listing-port", bad[i]));
        }
      assert_load_fails (ENV (ports_variable), NULL, WORDS ("PORTS", bad[i]));
      assert_load_fails (NULL, ARGS (ports_option), WORDS ("--ports", bad[i]));
    }

  /* A bad entry among good ones is named. */
  assert_load_fails (ENV ("PORTS=8000,80x0,8002"), NULL, WORDS ("PORTS", "80x0"));
  assert_load_fails (ENV ("PORTS=8000-8002,70000"), NULL, WORDS ("PORTS", "70000"));
  assert_load_fails (NULL, ARGS ("--ports", "8000,0"), WORDS ("--ports", "0"));
}

static void
test_error_port_lists (void)
{
  /* Each with the text the message must quote. */
  const struct
  {
    const char *text;
    const char *quoted;
  } cases[] = {
    { "7751,,7752", "7751,,7752" },
    { "7751,", "7751," },
    { ",7751", ",7751" },
    { ",", "," },
    { "7751, ,7752", "7751, ,7752" },
    { "7751,7751", "7751" },
    { "8000-8005,8003", "8003" },
    { "8000-8002,7999-8000", "8000" },
    { "8000-8002,8001-8004", "8001" },
    { "8005-8000", "8005-8000" },
    { "8000-65536", "65536" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *variable = g_strconcat ("PORTS=", cases[i].text, NULL);
      g_autofree char *option = g_strconcat ("--ports=", cases[i].text, NULL);

      assert_load_fails (ENV (variable), NULL, WORDS ("PORTS", cases[i].quoted));
      assert_load_fails (NULL, ARGS (option), WORDS ("--ports", cases[i].quoted));
    }

  /* Broken ranges are refused and say where they come from. */
  {
    const char *ranges[] = { "8000-", "8000--8001", "8000-8001-8002", "a-b", "8000-x" };

    for (i = 0; i < G_N_ELEMENTS (ranges); i++)
      {
        g_autofree char *variable = g_strconcat ("PORTS=", ranges[i], NULL);

        assert_load_fails (ENV (variable), NULL, WORDS ("PORTS"));
      }
  }

  /* An option given empty names no port at all; refused, not an empty
   * fleet.  (An empty variable counts as unset.) */
  {
    assert_load_fails (NULL, ARGS ("--ports="), WORDS ("--ports", "no port"));
    assert_load_fails (NULL, ARGS ("--ports", ""), WORDS ("--ports", "no port"));
  }
}

/* The listing port cannot also be a device port, whichever way each was
 * given; the message says which list has it and what to change. */
static void
test_error_listing_in_ports (void)
{
  assert_load_fails (ENV ("LISTING_PORT=7755"), NULL,
                     WORDS ("LISTING_PORT is 7755", "default device ports 7751-7760",
                            "set LISTING_PORT to another port", "set PORTS without 7755"));
  assert_load_fails (ENV ("PORTS=7769-7771"), NULL,
                     WORDS ("PORTS includes 7770, the listing port",
                            "set LISTING_PORT to another port", "leave 7770 out of PORTS"));
  assert_load_fails (ENV ("PORTS=7770"), NULL,
                     WORDS ("PORTS includes 7770, the listing port",
                            "set LISTING_PORT to another port", "leave 7770 out of PORTS"));
  assert_load_fails (NULL, ARGS ("--listing-port", "8001", "--ports", "8000-8002"),
                     WORDS ("--ports includes 8001", "set --listing-port to another port",
                            "leave 8001 out of --ports"));
  assert_load_fails (ENV ("LISTING_PORT=9000"), ARGS ("--ports", "9000"),
                     WORDS ("--ports includes 9000", "set LISTING_PORT to another port",
                            "leave 9000 out of --ports"));
  assert_load_fails (ENV ("PORTS=9100,9101"), ARGS ("--listing-port=9101"),
                     WORDS ("PORTS includes 9101", "set --listing-port to another port",
                            "leave 9101 out of PORTS"));

  /* One sentence, not prefixed with where the listing port came from. */
  {
    g_autoptr(PmConfig) config = pm_config_new ();
    g_autoptr(GError) error = NULL;

    g_assert_false (load (config, ENV ("PORTS=7770"), NULL, &error));
    g_assert_true (g_str_has_prefix (error->message, "PORTS includes 7770"));
    g_assert_null (strchr (error->message, ':'));
  }
}

static void
test_error_logs (void)
{
  const char *bad[] = { "maybe", "2", "tru", "on", "enabled", "yes please" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *variable = g_strconcat ("LOGS_PUB_ENABLED=", bad[i], NULL);
      g_autofree char *option = g_strconcat ("--logs=", bad[i], NULL);

      assert_load_fails (ENV (variable), NULL, WORDS ("LOGS_PUB_ENABLED", bad[i]));
      assert_load_fails (NULL, ARGS (option), WORDS ("--logs", bad[i]));
    }
}

static void
test_error_bind (void)
{
  const char *bad[] = { "not-an-ip", "localhost", "999.1.1.1", "127.0.0.1:80", "::g", "1.2.3" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_load_fails (NULL, ARGS ("--bind", bad[i]), WORDS ("--bind", bad[i]));
  assert_load_fails (NULL, ARGS ("--bind="), WORDS ("--bind"));
}

static void
test_error_seed (void)
{
  const char *bad[] = { "abc", "-1", "18446744073709551616", "1.5", "42x", "0x2a", "+4" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *option = g_strconcat ("--seed=", bad[i], NULL);

      assert_load_fails (NULL, ARGS (option), WORDS ("--seed", bad[i]));
    }
  /* GLib's own reading skips a vertical tab and a '+', and takes 4. */
  assert_load_fails (NULL, ARGS ("--seed", "\v+4"), WORDS ("--seed", "+4"));
  assert_load_fails (NULL, ARGS ("--seed", "abc"), WORDS ("--seed", "abc"));
  assert_load_fails (NULL, ARGS ("--seed="), WORDS ("--seed"));
}

static void
test_error_arguments (void)
{
  assert_load_fails (NULL, ARGS ("--frobnicate"), WORDS ("--frobnicate"));
  assert_load_fails (NULL, ARGS ("--ports", "8000", "--frobnicate=1"), WORDS ("--frobnicate"));
  assert_load_fails (NULL, ARGS ("-x"), WORDS ("-x"));
  assert_load_fails (NULL, ARGS ("extra"), WORDS ("extra"));
  assert_load_fails (NULL, ARGS ("--ports", "8000", "stray"), WORDS ("stray"));
  assert_load_fails (NULL, ARGS ("stray", "--ports", "8000"), WORDS ("stray"));
  assert_load_fails (NULL, ARGS ("--ports"), WORDS ("--ports"));
  assert_load_fails (NULL, ARGS ("--listing-port"), WORDS ("--listing-port"));
  assert_load_fails (NULL, ARGS ("--no-dbus", "--replace"), WORDS ("--replace", "--no-dbus"));
}

/* An unknown name, alone or in a list, is named, and the known ones
 * listed; names are matched exactly; mixed is not a list entry. */
static void
test_error_profile (void)
{
  const struct
  {
    const char *text;
    const char *named;
  } cases[] = {
    { "axeos-hyper", "'axeos-hyper'" },
    { "axeos-gamma,bogus", "'bogus'" },
    { "bogus,axeos-gamma", "'bogus'" },
    { "AXEOS-GAMMA", "'AXEOS-GAMMA'" },
    { "axeos_gamma", "'axeos_gamma'" },
    { "axeos-gamma nerdqaxe-plus", "'axeos-gamma nerdqaxe-plus'" },
    { "axeos-gamma;nerdqaxe-plus", "'axeos-gamma;nerdqaxe-plus'" },
    { "mixed,axeos-gamma", "'mixed'" },
    { "axeos-gamma,mixed", "'mixed'" },
    { "mixed,mixed", "'mixed'" },
    /* Escaped, as every value quoted back. */
    { "axe\nos", "'axe\\nos'" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *variable = g_strconcat ("PROFILE=", cases[i].text, NULL);
      g_autofree char *option = g_strconcat ("--profile=", cases[i].text, NULL);

      assert_load_fails (ENV (variable), NULL,
                         WORDS ("PROFILE", "unknown profile", cases[i].named, "axeos-gamma", "nerdqaxe-plus"));
      assert_load_fails (NULL, ARGS (option), WORDS ("--profile", "unknown profile", cases[i].named));
      assert_load_fails (NULL, ARGS ("-P", cases[i].text), WORDS ("--profile", cases[i].named));
      /* A bad option is an error even with a good variable. */
      assert_load_fails (ENV ("PROFILE=axeos-gamma"), ARGS (option), WORDS ("--profile", cases[i].named));
    }
}

/* An empty entry in a list is refused, not skipped. */
static void
test_error_profile_empty_entry (void)
{
  const char *bad[] = {
    "axeos-gamma,,pluto-new", ",axeos-gamma", "axeos-gamma,", ",", " , ", "   ", "axeos-gamma, ,pluto-new",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *variable = g_strconcat ("PROFILE=", bad[i], NULL);
      g_autofree char *option = g_strconcat ("--profile=", bad[i], NULL);

      assert_load_fails (ENV (variable), NULL, WORDS ("PROFILE", "empty", bad[i]));
      assert_load_fails (NULL, ARGS (option), WORDS ("--profile", "empty", bad[i]));
    }
}

/* An option given empty names no profile at all: refused, as an empty
 * --ports is, not a fleet with nothing to assign. */
static void
test_error_profile_empty_list (void)
{
  const char *const *args[] = { ARGS ("--profile="), ARGS ("--profile", ""), ARGS ("-P", "") };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (args); i++)
    {
      g_autoptr(PmConfig) config = pm_config_new ();
      g_autoptr(GError) error = NULL;

      g_assert_false (load (config, NULL, args[i], &error));
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "--profile"));
    }
}

/* The list an empty entry is reported in is quoted escaped, as every
 * value is. */
static void
test_error_profile_empty_entry_quoted (void)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (load (config, ENV ("PROFILE=axeos-gamma,\n"), NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_assert_null (strchr (error->message, '\n'));
  g_assert_nonnull (strstr (error->message, "axeos-gamma,\\n"));
}

static void
test_error_telemetry (void)
{
  const char *bad[] = { "bogus", "Random", "SIMULATED", "simulate", "random,simulated", "1", "true" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *variable = g_strconcat ("TELEMETRY=", bad[i], NULL);
      g_autofree char *option = g_strconcat ("--telemetry=", bad[i], NULL);

      assert_load_fails (ENV (variable), NULL, WORDS ("TELEMETRY", bad[i], "random", "simulated"));
      assert_load_fails (NULL, ARGS (option), WORDS ("--telemetry", bad[i]));
      assert_load_fails (ENV ("TELEMETRY=simulated"), ARGS (option), WORDS ("--telemetry", bad[i]));
    }
  /* An option given empty is a value, and not one of the two. */
  assert_load_fails (NULL, ARGS ("--telemetry="), WORDS ("--telemetry", "random", "simulated"));
  assert_load_fails (NULL, ARGS ("--telemetry"), WORDS ("--telemetry"));
  assert_load_fails (ENV ("TELEMETRY=sim\x1bulated"), NULL, WORDS ("TELEMETRY", "sim\\x1Bulated"));
}

static void
test_error_network_gate (void)
{
  const char *bad[] = { "maybe", "2", "on", "off", "enabled", "yes please" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *variable = g_strconcat ("NETWORK_GATE=", bad[i], NULL);
      g_autofree char *option = g_strconcat ("--network-gate=", bad[i], NULL);

      assert_load_fails (ENV (variable), NULL, WORDS ("NETWORK_GATE", bad[i]));
      assert_load_fails (NULL, ARGS (option), WORDS ("--network-gate", bad[i]));
      assert_load_fails (ENV ("NETWORK_GATE=true"), ARGS (option), WORDS ("--network-gate", bad[i]));
    }
  assert_load_fails (NULL, ARGS ("--network-gate="), WORDS ("--network-gate"));
}

/* A failed load does not spoil the next one. */
static void
test_error_then_success (void)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;
  const guint ports[] = { 8000, 8001 };

  g_assert_false (load (config, ENV ("PORTS=8000,8000"), NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (load (config, NULL, ARGS ("--seed", "x", "--bind", "::1"), &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (load (config, ENV ("PORTS=8000-8001"), ARGS ("--bind", "::1"), &error));
  g_assert_no_error (error);
  assert_ports (config, ports, G_N_ELEMENTS (ports));
  g_assert_cmpstr (config->bind_address, ==, "::1");
}

/* --control-allow and CONTROL_ALLOW: addresses and prefixes, any, none;
 * loopback by default; each entry given back normalised. */
static void
assert_allow (PmConfig          *config,
              const char *const *expected)
{
  g_auto(GStrv) entries = pm_allow_list_dup_entries (config->control_allow);

  g_assert_cmpstrv (entries, expected);
}

static gboolean
allows (PmConfig   *config,
        const char *address)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);

  g_assert_nonnull (inet);
  return pm_allow_list_allows (config->control_allow, inet);
}

static void
test_control_allow (void)
{
  g_autoptr(PmConfig) defaults = load_ok (NULL, NULL);
  g_autoptr(PmConfig) list = load_ok (NULL, ARGS ("--control-allow", " 10.0.0.0/8 , 192.168.1.5,FD00::/8,::1 "));
  g_autoptr(PmConfig) env = load_ok (ENV ("CONTROL_ALLOW=any"), NULL);
  g_autoptr(PmConfig) beaten = load_ok (ENV ("CONTROL_ALLOW=any"), ARGS ("--control-allow", "none"));

  assert_allow (defaults, WORDS ("127.0.0.0/8", "::1"));
  g_assert_true (pm_allow_list_is_loopback (defaults->control_allow));
  g_assert_true (allows (defaults, "127.0.0.1"));
  g_assert_true (allows (defaults, "127.200.0.9"));
  g_assert_true (allows (defaults, "::1"));
  g_assert_true (allows (defaults, "::ffff:127.0.0.1"));
  g_assert_false (allows (defaults, "10.0.0.1"));
  g_assert_false (allows (defaults, "::ffff:10.0.0.1"));
  g_assert_false (allows (defaults, "::2"));

  assert_allow (list, WORDS ("10.0.0.0/8", "192.168.1.5", "fd00::/8", "::1"));
  g_assert_false (pm_allow_list_is_loopback (list->control_allow));
  g_assert_true (allows (list, "10.255.1.2"));
  g_assert_true (allows (list, "::ffff:10.1.1.1"));
  g_assert_true (allows (list, "192.168.1.5"));
  g_assert_false (allows (list, "192.168.1.6"));
  g_assert_true (allows (list, "fd12::1"));
  g_assert_false (allows (list, "127.0.0.1"));

  /* A mapped prefix names the IPv4 network, as the peer is compared. */
  {
    g_autoptr(PmConfig) mapped = load_ok (NULL, ARGS ("--control-allow", "::ffff:10.0.0.0/104,::ffff:192.168.1.5"));

    g_assert_true (allows (mapped, "10.3.2.1"));
    g_assert_true (allows (mapped, "::ffff:10.3.2.1"));
    g_assert_true (allows (mapped, "192.168.1.5"));
    g_assert_false (allows (mapped, "11.0.0.1"));
    g_assert_false (allows (mapped, "192.168.1.6"));
  }

  assert_allow (env, WORDS ("any"));
  g_assert_true (allows (env, "203.0.113.7"));
  g_assert_true (allows (env, "2001:db8::1"));

  assert_allow (beaten, WORDS ("none"));
  g_assert_true (pm_allow_list_is_none (beaten->control_allow));
  g_assert_false (allows (beaten, "127.0.0.1"));
  g_assert_false (allows (beaten, "::1"));
}

static void
test_control_allow_bad (void)
{
  assert_load_fails (NULL, ARGS ("--control-allow", "foo"), WORDS ("--control-allow", "'foo'", "not an IP address"));
  assert_load_fails (ENV ("CONTROL_ALLOW=10.0.0.0/8,bar"), NULL, WORDS ("CONTROL_ALLOW", "'bar'"));
  assert_load_fails (NULL, ARGS ("--control-allow", "10.0.0.1/8"), WORDS ("'10.0.0.1/8'", "bits set"));
  assert_load_fails (NULL, ARGS ("--control-allow", "10.0.0.0/33"), WORDS ("'10.0.0.0/33'", "0 to 32"));
  assert_load_fails (NULL, ARGS ("--control-allow", "fd00::/129"), WORDS ("'fd00::/129'", "0 to 128"));
  assert_load_fails (NULL, ARGS ("--control-allow", "10.0.0.0/"), WORDS ("'10.0.0.0/'"));
  assert_load_fails (NULL, ARGS ("--control-allow", "10.0.0.0/x"), WORDS ("'10.0.0.0/x'"));
  assert_load_fails (NULL, ARGS ("--control-allow", "1.2.3.4,,5.6.7.8"), WORDS ("empty entry"));
  assert_load_fails (NULL, ARGS ("--control-allow", " "), WORDS ("empty"));
  assert_load_fails (NULL, ARGS ("--control-allow", "any,10.0.0.0/8"), WORDS ("'any'", "alone"));
  assert_load_fails (NULL, ARGS ("--control-allow", "::1,none"), WORDS ("'none'", "alone"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/control-allow", test_control_allow);
  g_test_add_func ("/config/control-allow/bad", test_control_allow_bad);
  g_test_add_func ("/config/load/nothing-given", test_nothing_given);
  g_test_add_func ("/config/load/env-only", test_env_only);
  g_test_add_func ("/config/load/options-only", test_options_only);
  g_test_add_func ("/config/load/option-beats-env", test_option_beats_env);
  g_test_add_func ("/config/load/logs-option", test_logs_option);
  g_test_add_func ("/config/load/logs-env-values", test_logs_env_values);
  g_test_add_func ("/config/load/empty-env", test_empty_env);
  g_test_add_func ("/config/load/ports-syntax", test_ports_syntax);
  g_test_add_func ("/config/load/bind", test_bind);
  g_test_add_func ("/config/load/seed", test_seed);
  g_test_add_func ("/config/load/version", test_version);
  g_test_add_func ("/config/load/dbus-options", test_dbus_options);
  g_test_add_func ("/config/load/listing-port-zero", test_listing_port_zero);
  g_test_add_func ("/config/load/profile-default", test_profile_default);
  g_test_add_func ("/config/load/profile-lists", test_profile_lists);
  g_test_add_func ("/config/load/profile-mixed", test_profile_mixed);
  g_test_add_func ("/config/load/telemetry", test_telemetry);
  g_test_add_func ("/config/load/network-gate", test_network_gate);
  g_test_add_func ("/config/load/profile-option-beats-env", test_profile_option_beats_env);
  g_test_add_func ("/config/error/port-values", test_error_port_values);
  g_test_add_func ("/config/error/port-lists", test_error_port_lists);
  g_test_add_func ("/config/error/listing-in-ports", test_error_listing_in_ports);
  g_test_add_func ("/config/error/logs", test_error_logs);
  g_test_add_func ("/config/error/bind", test_error_bind);
  g_test_add_func ("/config/error/seed", test_error_seed);
  g_test_add_func ("/config/error/arguments", test_error_arguments);
  g_test_add_func ("/config/error/profile", test_error_profile);
  g_test_add_func ("/config/error/profile-empty-entry", test_error_profile_empty_entry);
  g_test_add_func ("/config/error/profile-empty-list", test_error_profile_empty_list);
  g_test_add_func ("/config/error/profile-empty-entry-quoted", test_error_profile_empty_entry_quoted);
  g_test_add_func ("/config/error/telemetry", test_error_telemetry);
  g_test_add_func ("/config/error/network-gate", test_error_network_gate);
  g_test_add_func ("/config/error/then-success", test_error_then_success);

  return g_test_run ();
}
