/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-scenario-run"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "pm-dbus-generated.h"
#include "pm-error.h"
#include "pm-scenario-runner.h"
#include "pm-test-util.h"

/*
 * Scenarios running: a fleet in this process run by a #PmManager, the
 * daemon started with --scenario or SCENARIO, and RunScenario and
 * StopScenario on a private session bus.  Scenario time runs 100 times
 * faster (PLUTOMOCK_TIME_SCALE=0.01): a step at=1s fires after 10 ms.
 * What a step did is read from the devices: every change of a device's
 * faults is recorded as it happens, with its time; and from the runner's
 * log messages.
 */

/* Scenario time over real time; the variable is written out here rather
 * than taken from the code under test. */
#define TIME_SCALE_TEXT "0.01"
#define TIME_SCALE 0.01
#define TIME_SCALE_ENV "PLUTOMOCK_TIME_SCALE=" TIME_SCALE_TEXT

#define RUNNER_DOMAIN "pm-scenario-runner"

/* ---- what happened ---------------------------------------------------------- */

typedef struct
{
  gint64  time_us;
  char   *text; /* "HOSTNAME +KIND", "HOSTNAME -KIND" or "HOSTNAME ~KIND" */
} Change;

static void
change_free (gpointer data)
{
  Change *change = data;

  g_free (change->text);
  g_free (change);
}

/* Every change of every watched device's faults, in order. */
static GPtrArray *changes;
/* The runner's log messages, in order. */
static GPtrArray *messages;

#define PREVIOUS_KEY "test-previous-faults"

static void
on_faults (PmDevice   *device,
           GParamSpec *pspec,
           gpointer    user_data)
{
  GVariant *previous = g_object_get_data (G_OBJECT (device), PREVIOUS_KEY);
  g_autoptr(GVariant) current = pm_device_dup_faults (device);
  GVariantIter iter;
  const char *kind;
  GVariant *parameters;

  /* Kinds that came or changed... */
  g_variant_iter_init (&iter, current);
  while (g_variant_iter_next (&iter, "{&s@a{sv}}", &kind, &parameters))
    {
      g_autoptr(GVariant) before = g_variant_lookup_value (previous, kind, G_VARIANT_TYPE_VARDICT);
      Change *change;

      if (before == NULL || !g_variant_equal (before, parameters))
        {
          change = g_new0 (Change, 1);
          change->time_us = g_get_monotonic_time ();
          change->text = g_strdup_printf ("%s %c%s", pm_device_get_hostname (device),
                                          before == NULL ? '+' : '~', kind);
          g_ptr_array_add (changes, change);
        }
      g_variant_unref (parameters);
    }
  /* ...and kinds that went. */
  g_variant_iter_init (&iter, previous);
  while (g_variant_iter_next (&iter, "{&s@a{sv}}", &kind, NULL))
    {
      g_autoptr(GVariant) now = g_variant_lookup_value (current, kind, G_VARIANT_TYPE_VARDICT);
      Change *change;

      if (now != NULL)
        continue;
      change = g_new0 (Change, 1);
      change->time_us = g_get_monotonic_time ();
      change->text = g_strdup_printf ("%s -%s", pm_device_get_hostname (device), kind);
      g_ptr_array_add (changes, change);
    }
  g_object_set_data_full (G_OBJECT (device), PREVIOUS_KEY, g_steal_pointer (&current),
                          (GDestroyNotify) g_variant_unref);
}

static void
watch_device (PmDevice *device)
{
  g_object_set_data_full (G_OBJECT (device), PREVIOUS_KEY, pm_device_dup_faults (device),
                          (GDestroyNotify) g_variant_unref);
  g_signal_connect (device, "notify::faults", G_CALLBACK (on_faults), NULL);
}

static void
on_runner_log (const char    *log_domain,
               GLogLevelFlags log_level,
               const char    *message,
               gpointer       user_data)
{
  g_ptr_array_add (messages, g_strdup (message));
  if (g_test_verbose ())
    g_log_default_handler (log_domain, log_level, message, user_data);
}

static gssize
find_change (const char *text)
{
  guint i;

  for (i = 0; i < changes->len; i++)
    if (g_str_equal (((Change *) g_ptr_array_index (changes, i))->text, text))
      return i;
  return -1;
}

static guint
count_changes (const char *text)
{
  guint i, n = 0;

  for (i = 0; i < changes->len; i++)
    if (g_str_equal (((Change *) g_ptr_array_index (changes, i))->text, text))
      n++;
  return n;
}

static gboolean
change_seen (gpointer user_data)
{
  return find_change (user_data) >= 0;
}

/* Waits for a change; returns its index. */
static guint
wait_change (const char *text)
{
  if (!pm_test_wait_until (change_seen, (gpointer) text, PM_TEST_TIMEOUT_MS))
    {
      guint i;

      for (i = 0; i < changes->len; i++)
        g_test_message ("change: %s", ((Change *) g_ptr_array_index (changes, i))->text);
      g_error ("No change '%s'", text);
    }
  return (guint) find_change (text);
}

static gint64
change_time (guint index)
{
  return ((Change *) g_ptr_array_index (changes, index))->time_us;
}

/* The index of the first message that has every one of @parts in it, in
 * that order, or -1. */
static gssize
find_message (const char *const *parts)
{
  guint i, j;

  for (i = 0; i < messages->len; i++)
    {
      const char *p = g_ptr_array_index (messages, i);

      for (j = 0; parts[j] != NULL && p != NULL; j++)
        {
          p = strstr (p, parts[j]);
          if (p != NULL)
            p += strlen (parts[j]);
        }
      if (p != NULL)
        return i;
    }
  return -1;
}

#define MESSAGE(...) find_message ((const char *const[]) { __VA_ARGS__, NULL })

static void
dump_messages (void)
{
  guint i;

  for (i = 0; i < messages->len; i++)
    g_test_message ("message: %s", (const char *) g_ptr_array_index (messages, i));
}

static void
assert_message (gssize index)
{
  if (index < 0)
    {
      dump_messages ();
      g_error ("An expected message is missing");
    }
}

/* ---- a fleet in this process ---------------------------------------------- */

typedef struct
{
  PmManager *manager;
  gint64     start_us;
} Fixture;

/* The fleet the tests use unless they say otherwise: mockaxe1 and
 * mockaxe3 have a simulated miner, mockaxe2 and mockaxe4 have none. */
static const char *const default_profiles[] = {
  "axeos-gamma", "pluto-legacy", "axeos-gamma", "pluto-new",
};

static PmManager *
manager_new (guint64             seed,
             const char *const  *profiles,
             guint               n_devices)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;
  PmManager *manager;
  guint i;

  g_array_set_size (config->ports, 0);
  config->listing_port = pm_test_free_port ();
  config->seed = seed;
  config->seed_given = TRUE;
  manager = pm_manager_new (config);
  g_assert_true (pm_manager_start (manager, &error));
  g_assert_no_error (error);

  for (i = 0; i < n_devices; i++)
    {
      g_autofree char *hostname = g_strdup_printf ("mockaxe%u", i + 1);
      PmDevice *device = pm_test_add_device (manager, 0, hostname, profiles[i], NULL, &error);

      g_assert_no_error (error);
      watch_device (device);
    }
  return manager;
}

static void
fixture_setup (Fixture      *fixture,
               gconstpointer user_data)
{
  g_ptr_array_set_size (changes, 0);
  g_ptr_array_set_size (messages, 0);
  fixture->manager = manager_new (7, default_profiles, G_N_ELEMENTS (default_profiles));
}

static void
fixture_teardown (Fixture      *fixture,
                  gconstpointer user_data)
{
  g_object_add_weak_pointer (G_OBJECT (fixture->manager), (gpointer *) &fixture->manager);
  g_object_unref (fixture->manager);
  g_assert_null (fixture->manager);
}

static PmScenario *
scenario_new (const char *text)
{
  g_autoptr(GError) error = NULL;
  PmScenario *scenario = pm_scenario_new_from_data (text, strlen (text), &error);

  g_assert_no_error (error);
  return scenario;
}

static void
run (Fixture    *fixture,
     const char *text)
{
  g_autoptr(PmScenario) scenario = scenario_new (text);

  fixture->start_us = g_get_monotonic_time ();
  pm_manager_run_scenario (fixture->manager, scenario);
}

static PmDevice *
device_named (Fixture    *fixture,
              const char *hostname)
{
  PmDevice *device = pm_manager_find_device (fixture->manager, 0, hostname);

  g_assert_nonnull (device);
  return device;
}

/* The device's fault of @kind, a{sv}, or NULL. */
static GVariant *
device_fault (PmDevice   *device,
              const char *kind)
{
  g_autoptr(GVariant) faults = pm_device_dup_faults (device);

  return g_variant_lookup_value (faults, kind, G_VARIANT_TYPE_VARDICT);
}

static gboolean
has_fault (PmDevice   *device,
           const char *kind)
{
  g_autoptr(GVariant) fault = device_fault (device, kind);

  return fault != NULL;
}

static guint
fault_uint (PmDevice   *device,
            const char *kind,
            const char *name)
{
  g_autoptr(GVariant) fault = device_fault (device, kind);
  guint value = 0;

  g_assert_nonnull (fault);
  g_assert_true (g_variant_lookup (fault, name, "u", &value));
  return value;
}

static gboolean
scenario_ended (gpointer user_data)
{
  Fixture *fixture = user_data;

  return pm_manager_get_scenario (fixture->manager) == NULL;
}

/* Checks that change @index came no earlier than @scenario_ms of
 * scenario time after the start.  (A loaded machine may be late, never
 * early.) */
static void
assert_not_before (Fixture *fixture,
                   guint    index,
                   gint64   scenario_ms)
{
  gint64 elapsed_us = change_time (index) - fixture->start_us;

  g_assert_cmpint (elapsed_us, >=, (gint64) (scenario_ms * 1000 * TIME_SCALE));
}

/* ---- the steps' order and times --------------------------------------------- */

static void
on_scenario_running (PmManager  *manager,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* Steps fire in the order of their times, not of the file; a step picks
 * devices by name, port, profile or all; action=clear with kind= clears
 * only that kind; the scenario ends after its last step. */
static void
test_order (Fixture      *fixture,
            gconstpointer user_data)
{
  guint port2 = pm_device_get_port (device_named (fixture, "mockaxe2"));
  g_autofree char *text = g_strdup_printf ("[scenario]\n"
                                           "name=Order\n"
                                           "\n"
                                           "[step silence]\n"
                                           "at=3s\n"
                                           "select=name:MOCKAXE1\n"
                                           "fault=ws-silent\n"
                                           "\n"
                                           "[step slow]\n"
                                           "at=1s\n"
                                           "select=profile:axeos-gamma\n"
                                           "fault=latency\n"
                                           "ms=1\n"
                                           "\n"
                                           "[step fail]\n"
                                           "at=2s\n"
                                           "select=port:%u\n"
                                           "fault=errors\n"
                                           "status=503\n"
                                           "\n"
                                           "[step unslow]\n"
                                           "at=4s\n"
                                           "select=all\n"
                                           "action=clear\n"
                                           "kind=latency\n",
                                           port2);
  const char *const expected[] = {
    "mockaxe1 +latency", "mockaxe3 +latency", "mockaxe2 +errors", "mockaxe1 +ws-silent",
    "mockaxe1 -latency", "mockaxe3 -latency",
  };
  const gint64 expected_ms[] = { 1000, 1000, 2000, 3000, 4000, 4000 };
  guint notified = 0;
  guint i;

  g_signal_connect (fixture->manager, "notify::scenario-running", G_CALLBACK (on_scenario_running),
                    &notified);
  run (fixture, text);
  g_assert_nonnull (pm_manager_get_scenario (fixture->manager));
  g_assert_cmpstr (pm_scenario_get_name (pm_manager_get_scenario (fixture->manager)), ==, "Order");
  g_assert_cmpuint (notified, ==, 1);
  /* Nothing fires from the call itself. */
  g_assert_cmpuint (changes->len, ==, 0);

  g_assert_true (pm_test_wait_until (scenario_ended, fixture, PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (notified, ==, 2);
  for (i = 0; i < changes->len; i++)
    g_test_message ("change: %s", ((Change *) g_ptr_array_index (changes, i))->text);
  g_assert_cmpuint (changes->len, ==, G_N_ELEMENTS (expected));
  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpstr (((Change *) g_ptr_array_index (changes, i))->text, ==, expected[i]);
      assert_not_before (fixture, i, expected_ms[i]);
    }

  /* What is left: the clear took latency only. */
  g_assert_true (has_fault (device_named (fixture, "mockaxe1"), "ws-silent"));
  g_assert_true (has_fault (device_named (fixture, "mockaxe2"), "errors"));

  /* Each firing was logged with its devices, in order, then the end. */
  assert_message (MESSAGE ("Scenario 'Order' started (seed 7, time scale 0.01)"));
  assert_message (MESSAGE ("step 'slow' sets fault latency on mockaxe1, mockaxe3"));
  g_assert_cmpint (MESSAGE ("step 'slow' sets"), <, MESSAGE ("step 'fail' sets fault errors on mockaxe2"));
  g_assert_cmpint (MESSAGE ("step 'fail' sets"), <, MESSAGE ("step 'silence' sets fault ws-silent on mockaxe1"));
  g_assert_cmpint (MESSAGE ("step 'silence' sets"), <,
                   MESSAGE ("step 'unslow' clears fault latency on mockaxe1, mockaxe2, mockaxe3, mockaxe4"));
  g_assert_cmpint (MESSAGE ("step 'unslow' clears"), <, MESSAGE ("Scenario 'Order' finished"));
  g_assert_cmpint (MESSAGE ("Scenario 'Order' finished"), ==, messages->len - 1);

  /* Ended by itself, it left its faults; stopping now is nothing. */
  g_assert_false (pm_manager_stop_scenario (fixture->manager));
  g_assert_true (has_fault (device_named (fixture, "mockaxe1"), "ws-silent"));
  /* The count lives on this stack; the teardown must not reach it. */
  g_signal_handlers_disconnect_by_data (fixture->manager, &notified);
}

/* ---- for= ---------------------------------------------------------------------- */

static gboolean replaced;

/* Replaces the fault the runner sets on mockaxe2 by another of the same
 * kind, at once, as a client could. */
static void
on_faults_replace (PmDevice   *device,
                   GParamSpec *pspec,
                   gpointer    user_data)
{
  g_autoptr(GVariant) fault = NULL;
  g_autoptr(GVariant) parameters = NULL;
  g_autoptr(PmFault) mine = NULL;
  g_autoptr(GError) error = NULL;
  guint ms = 0;

  if (replaced)
    return;
  fault = device_fault (device, "latency");
  if (fault == NULL || !g_variant_lookup (fault, "ms", "u", &ms) || ms != 5)
    return;
  replaced = TRUE;
  parameters = g_variant_ref_sink (g_variant_new_parsed ("{'ms': <uint32 7>}"));
  mine = pm_fault_new_from_variant ("latency", parameters, &error);
  g_assert_no_error (error);
  g_assert_true (pm_device_set_fault (device, mine, &error));
  g_assert_no_error (error);
}

/* A step's fault is cleared when its for= is up, on the devices it set
 * it on, unless a client has replaced it since. */
static void
test_for (Fixture      *fixture,
          gconstpointer user_data)
{
  guint set1, set3, cleared1, cleared3;

  replaced = FALSE;
  g_signal_connect (device_named (fixture, "mockaxe2"), "notify::faults",
                    G_CALLBACK (on_faults_replace), NULL);
  run (fixture, "[scenario]\n"
                "name=For\n"
                "[step slow]\n"
                "at=1s\n"
                "select=names:mockaxe1,mockaxe2,mockaxe3\n"
                "fault=latency\n"
                "ms=5\n"
                "for=3s\n");

  set1 = wait_change ("mockaxe1 +latency");
  set3 = wait_change ("mockaxe3 +latency");
  cleared1 = wait_change ("mockaxe1 -latency");
  cleared3 = wait_change ("mockaxe3 -latency");
  g_assert_true (pm_test_wait_until (scenario_ended, fixture, PM_TEST_TIMEOUT_MS));

  assert_not_before (fixture, set1, 1000);
  assert_not_before (fixture, set3, 1000);
  assert_not_before (fixture, cleared1, 4000);
  assert_not_before (fixture, cleared3, 4000);
  g_assert_false (has_fault (device_named (fixture, "mockaxe1"), "latency"));
  g_assert_false (has_fault (device_named (fixture, "mockaxe4"), "latency"));

  /* mockaxe2 keeps the fault it was given by hand. */
  g_assert_true (replaced);
  g_assert_cmpuint (fault_uint (device_named (fixture, "mockaxe2"), "latency", "ms"), ==, 7);
  g_assert_cmpuint (count_changes ("mockaxe2 -latency"), ==, 0);
  assert_message (MESSAGE ("step 'slow' sets fault latency on mockaxe1, mockaxe2, mockaxe3"));
  assert_message (MESSAGE ("step 'slow' ends: fault latency cleared on mockaxe1, mockaxe3"));
}

/* ---- every= -------------------------------------------------------------------- */

/* A step with every= fires once a period until the scenario's length,
 * each firing's fault cleared by its own for=. */
static void
test_every (Fixture      *fixture,
            gconstpointer user_data)
{
  /* Firings at 200, 400, 600 and 800 ms; none at the length. */
  const guint firings = 4;
  guint i, index = 0;

  run (fixture, "[scenario]\n"
                "name=Every\n"
                "length=1s\n"
                "[step tick]\n"
                "every=200ms\n"
                "select=name:mockaxe4\n"
                "fault=latency\n"
                "ms=1\n"
                "for=100ms\n");
  g_assert_true (pm_test_wait_until (scenario_ended, fixture, PM_TEST_TIMEOUT_MS));

  g_assert_cmpuint (changes->len, ==, 2 * firings);
  for (i = 0; i < firings; i++)
    {
      g_assert_cmpstr (((Change *) g_ptr_array_index (changes, index))->text, ==, "mockaxe4 +latency");
      assert_not_before (fixture, index, 200 * (i + 1));
      index++;
      g_assert_cmpstr (((Change *) g_ptr_array_index (changes, index))->text, ==, "mockaxe4 -latency");
      assert_not_before (fixture, index, 200 * (i + 1) + 100);
      index++;
    }
}

/* A repeating scenario starts over at its length, and runs until it is
 * stopped. */
static gboolean
three_passes (gpointer user_data)
{
  return count_changes ("mockaxe2 -ws-silent") >= 3;
}

static void
test_repeat (Fixture      *fixture,
             gconstpointer user_data)
{
  guint i;

  run (fixture, "[scenario]\n"
                "length=500ms\n"
                "repeat=true\n"
                "[step once-a-pass]\n"
                "at=100ms\n"
                "select=name:mockaxe2\n"
                "fault=ws-silent\n"
                "for=200ms\n");

  g_assert_true (pm_test_wait_until (three_passes, NULL, PM_TEST_TIMEOUT_MS));
  g_assert_nonnull (pm_manager_get_scenario (fixture->manager));
  /* Set and cleared in turn, a pass every 500 ms. */
  for (i = 0; i < 6; i++)
    {
      g_assert_cmpstr (((Change *) g_ptr_array_index (changes, i))->text, ==,
                       i % 2 == 0 ? "mockaxe2 +ws-silent" : "mockaxe2 -ws-silent");
      assert_not_before (fixture, i, 500 * (i / 2) + (i % 2 == 0 ? 100 : 300));
    }
  g_assert_true (pm_manager_stop_scenario (fixture->manager));
  assert_message (MESSAGE ("Scenario (unnamed) started"));
}

/* ---- the seed ------------------------------------------------------------------- */

#define SHARE_SCENARIO \
  "[step half]\n" \
  "at=0\n" \
  "select=share:50%\n" \
  "fault=ws-silent\n"

static const char *const six_profiles[] = {
  "pluto-legacy", "pluto-legacy", "pluto-legacy", "pluto-legacy", "pluto-legacy", "pluto-legacy",
};

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The hostnames pm_scenario_select() picks for the scenario's first step
 * with @seed, as a sorted, comma-separated list. */
static char *
expected_picks (PmManager  *manager,
                PmScenario *scenario,
                guint64     seed)
{
  GListModel *devices = pm_manager_get_devices (manager);
  guint i, n = g_list_model_get_n_items (devices);
  g_autofree PmScenarioDevice *view = g_new0 (PmScenarioDevice, n);
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) picked = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  for (i = 0; i < n; i++)
    {
      PmDevice *device = g_list_model_get_item (devices, i);

      g_ptr_array_add (keep, device);
      view[i].port = pm_device_get_port (device);
      view[i].hostname = pm_device_get_hostname (device);
      view[i].profile = pm_device_get_profile (device)->name;
    }
  picked = pm_scenario_select (pm_scenario_get_step (scenario, 0), view, n, seed, 0);
  for (i = 0; i < picked->len; i++)
    g_ptr_array_add (names, (gpointer) ((PmScenarioDevice *) g_ptr_array_index (picked, i))->hostname);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **) names->pdata);
}

/* The hostnames that have ws-silent now, sorted, comma-separated. */
static char *
silent_devices (PmManager *manager)
{
  GListModel *devices = pm_manager_get_devices (manager);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; i < g_list_model_get_n_items (devices); i++)
    {
      g_autoptr(PmDevice) device = g_list_model_get_item (devices, i);
      g_autoptr(GVariant) fault = device_fault (device, "ws-silent");

      if (fault != NULL)
        g_ptr_array_add (names, g_strdup (pm_device_get_hostname (device)));
    }
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **) names->pdata);
}

static gboolean
runner_done (gpointer user_data)
{
  return !pm_scenario_runner_get_running (user_data);
}

/* Runs @scenario with @seed on @manager's fleet by a runner of its own,
 * until its end; returns what it picked, and clears it again. */
static char *
picks_with_seed (PmManager  *manager,
                 PmScenario *scenario,
                 guint64     seed)
{
  g_autoptr(PmScenarioRunner) runner = pm_scenario_runner_new (scenario, pm_manager_get_devices (manager), seed);
  char *picked;
  guint i;

  pm_scenario_runner_start (runner);
  g_assert_true (pm_test_wait_until (runner_done, runner, PM_TEST_TIMEOUT_MS));
  picked = silent_devices (manager);
  for (i = 0; i < g_list_model_get_n_items (pm_manager_get_devices (manager)); i++)
    {
      g_autoptr(PmDevice) device = g_list_model_get_item (pm_manager_get_devices (manager), i);

      pm_device_clear_faults (device);
    }
  return picked;
}

/* The same seed picks the same devices, the seed decides which (as
 * pm_scenario_select() says), and a scenario's own seed wins over the
 * daemon's. */
static void
test_seed (void)
{
  g_autoptr(PmManager) manager = NULL;
  g_autoptr(PmScenario) scenario = scenario_new (SHARE_SCENARIO);
  g_autoptr(PmScenario) seeded = scenario_new ("[scenario]\nseed=12345\n" SHARE_SCENARIO);
  g_autoptr(GHashTable) different = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint64 seed;

  g_ptr_array_set_size (changes, 0);
  g_ptr_array_set_size (messages, 0);
  manager = manager_new (99, six_profiles, G_N_ELEMENTS (six_profiles));

  /* The daemon's seed. */
  {
    g_autofree char *expected = expected_picks (manager, scenario, 99);
    g_autofree char *picked = NULL;

    pm_manager_run_scenario (manager, scenario);
    while (pm_manager_get_scenario (manager) != NULL)
      g_main_context_iteration (NULL, TRUE);
    picked = silent_devices (manager);
    g_assert_cmpstr (picked, ==, expected);
    /* Half of six. */
    g_assert_cmpuint (strlen (picked), ==, strlen ("mockaxe1,mockaxe2,mockaxe3"));
    pm_manager_stop_scenario (manager);
  }
  {
    g_autofree char *first = picks_with_seed (manager, scenario, 99);
    g_autofree char *again = picks_with_seed (manager, scenario, 99);

    g_assert_cmpstr (again, ==, first);
  }

  /* Other seeds: what pm_scenario_select() says for each, and not
   * always the same devices (three of six: twenty ways). */
  for (seed = 1; seed <= 8; seed++)
    {
      g_autofree char *expected = expected_picks (manager, scenario, seed);
      char *picked = picks_with_seed (manager, scenario, seed);

      g_assert_cmpstr (picked, ==, expected);
      g_hash_table_add (different, picked);
    }
  g_assert_cmpuint (g_hash_table_size (different), >, 1);

  /* The scenario's own seed, whatever the runner is given. */
  {
    g_autofree char *expected = expected_picks (manager, seeded, 12345);
    g_autofree char *with_1 = picks_with_seed (manager, seeded, 1);
    g_autofree char *with_2 = picks_with_seed (manager, seeded, 2);
    g_autoptr(PmScenarioRunner) runner = pm_scenario_runner_new (seeded, pm_manager_get_devices (manager), 1);

    g_assert_cmpstr (with_1, ==, expected);
    g_assert_cmpstr (with_2, ==, expected);
    g_assert_cmpuint (pm_scenario_runner_get_seed (runner), ==, 12345);
  }

  /* The daemon's seed for a scenario without one. */
  {
    g_autoptr(PmScenarioRunner) runner = pm_scenario_runner_new (scenario, pm_manager_get_devices (manager), 4242);

    g_assert_cmpuint (pm_scenario_runner_get_seed (runner), ==, 4242);
  }
}

/* ---- stopping and replacing --------------------------------------------------- */

/* Stopping clears the faults the scenario set, but not one a client has
 * changed since, and no step fires after it. */
static void
test_stop (Fixture      *fixture,
           gconstpointer user_data)
{
  g_autoptr(PmFault) by_hand = NULL;
  g_autoptr(GError) error = NULL;
  const char *const by_hand_values[] = { "ms=9", NULL };
  gint64 stopped_us;

  run (fixture, "[scenario]\n"
                "name=Stop me\n"
                "[step early]\n"
                "at=0\n"
                "select=all\n"
                "fault=latency\n"
                "ms=1\n"
                "[step late]\n"
                "at=1m\n"
                "select=all\n"
                "fault=ws-silent\n");
  wait_change ("mockaxe4 +latency");

  by_hand = pm_fault_new_from_strings ("latency", by_hand_values, &error);
  g_assert_no_error (error);
  g_assert_true (pm_device_set_fault (device_named (fixture, "mockaxe3"), by_hand, &error));
  g_assert_no_error (error);
  /* Before the late step's time: the test cannot tell otherwise. */
  g_assert_cmpint (find_change ("mockaxe1 +ws-silent"), ==, -1);

  g_assert_true (pm_manager_stop_scenario (fixture->manager));
  stopped_us = g_get_monotonic_time ();
  g_assert_null (pm_manager_get_scenario (fixture->manager));
  g_assert_false (has_fault (device_named (fixture, "mockaxe1"), "latency"));
  g_assert_false (has_fault (device_named (fixture, "mockaxe2"), "latency"));
  g_assert_false (has_fault (device_named (fixture, "mockaxe4"), "latency"));
  g_assert_cmpuint (fault_uint (device_named (fixture, "mockaxe3"), "latency", "ms"), ==, 9);
  assert_message (MESSAGE ("Scenario 'Stop me' stopped"));

  /* Twice the late step's time after the start: it never fires. */
  pm_test_wait_ms ((guint) (2 * 60 * 1000 * TIME_SCALE));
  g_assert_cmpint (g_get_monotonic_time () - stopped_us, >=, (gint64) (60 * 1000 * 1000 * TIME_SCALE));
  g_assert_cmpint (find_change ("mockaxe1 +ws-silent"), ==, -1);
  g_assert_cmpint (MESSAGE ("step 'late'"), ==, -1);

  g_assert_false (pm_manager_stop_scenario (fixture->manager));
}

/* A second scenario replaces the first, which stops and clears first. */
static void
test_replace (Fixture      *fixture,
              gconstpointer user_data)
{
  guint cleared, set;

  run (fixture, "[scenario]\n"
                "name=First\n"
                "[step slow]\n"
                "at=0\n"
                "select=name:mockaxe1\n"
                "fault=latency\n"
                "ms=1\n"
                "[step later]\n"
                "at=1m\n"
                "select=all\n"
                "fault=ws-silent\n");
  wait_change ("mockaxe1 +latency");
  run (fixture, "[scenario]\n"
                "name=Second\n"
                "[step fail]\n"
                "at=0\n"
                "select=name:mockaxe2\n"
                "fault=errors\n");
  g_assert_cmpstr (pm_scenario_get_name (pm_manager_get_scenario (fixture->manager)), ==, "Second");
  cleared = wait_change ("mockaxe1 -latency");
  set = wait_change ("mockaxe2 +errors");
  g_assert_cmpuint (cleared, <, set);
  assert_message (MESSAGE ("Scenario 'First' stopped"));
  g_assert_cmpint (MESSAGE ("Scenario 'First' stopped"), <, MESSAGE ("Scenario 'Second' started"));
}

/* ---- what devices cannot do -------------------------------------------------- */

/* A miner fault goes to the devices with a simulated miner; the others
 * are skipped, each logged with the reason.  A restart of a device that
 * is restarting already is skipped too. */
static void
test_skip (Fixture      *fixture,
           gconstpointer user_data)
{
  run (fixture, "[scenario]\n"
                "name=Skip\n"
                "[step hot]\n"
                "at=0\n"
                "select=all\n"
                "fault=overheat\n"
                "[step kick]\n"
                "at=100ms\n"
                "select=name:mockaxe2\n"
                "action=restart\n"
                "[step kick-again]\n"
                "at=200ms\n"
                "select=name:mockaxe2\n"
                "action=restart\n");
  g_assert_true (pm_test_wait_until (scenario_ended, fixture, PM_TEST_TIMEOUT_MS));

  g_assert_true (has_fault (device_named (fixture, "mockaxe1"), "overheat"));
  g_assert_true (has_fault (device_named (fixture, "mockaxe3"), "overheat"));
  g_assert_false (has_fault (device_named (fixture, "mockaxe2"), "overheat"));
  g_assert_false (has_fault (device_named (fixture, "mockaxe4"), "overheat"));
  assert_message (MESSAGE ("step 'hot' sets fault overheat on mockaxe1, mockaxe3"));
  assert_message (MESSAGE ("step 'hot' skips mockaxe2: ", "overheat", "simulated miner"));
  assert_message (MESSAGE ("step 'hot' skips mockaxe4: ", "overheat", "simulated miner"));

  /* The restart happened (the restart window is 5 s: it is still on). */
  g_assert_true (pm_device_get_restarting (device_named (fixture, "mockaxe2")));
  assert_message (MESSAGE ("step 'kick' restarts mockaxe2"));
  assert_message (MESSAGE ("step 'kick-again' restarts no device"));
  assert_message (MESSAGE ("step 'kick-again' skips mockaxe2: "));
}

/* An asic-failure names an ASIC a device's board may not have: such a
 * device is skipped with the reason, as one without a miner is. */
static void
test_skip_asic_range (Fixture      *fixture,
                      gconstpointer user_data)
{
  run (fixture, "[scenario]\n"
                "name=Skip\n"
                "[step dead]\n"
                "at=0\n"
                "select=all\n"
                "fault=asic-failure\n"
                "asic=1\n"
                "domain=2\n");
  g_assert_true (pm_test_wait_until (scenario_ended, fixture, PM_TEST_TIMEOUT_MS));

  g_assert_false (has_fault (device_named (fixture, "mockaxe1"), "asic-failure"));
  g_assert_false (has_fault (device_named (fixture, "mockaxe3"), "asic-failure"));
  assert_message (MESSAGE ("step 'dead' sets fault asic-failure on no device"));
  assert_message (MESSAGE ("step 'dead' skips mockaxe1: ",
                           "asic=1 is out of range: a Bitaxe Gamma has 1 ASIC (0)"));
  assert_message (MESSAGE ("step 'dead' skips mockaxe3: ",
                           "asic=1 is out of range: a Bitaxe Gamma has 1 ASIC (0)"));
  assert_message (MESSAGE ("step 'dead' skips mockaxe2: ", "simulated miner"));
}

/* Devices are picked when the step fires: one added after the start is
 * picked, one removed is not. */
static void
test_fleet_changes (Fixture      *fixture,
                    gconstpointer user_data)
{
  g_autoptr(GError) error = NULL;
  PmDevice *added;

  run (fixture, "[scenario]\n"
                "[step all]\n"
                "at=500ms\n"
                "select=all\n"
                "fault=ws-silent\n");
  added = pm_test_add_device (fixture->manager, 0, "mockaxe5", "pluto-new", NULL, &error);
  g_assert_no_error (error);
  watch_device (added);
  g_assert_true (pm_manager_remove_device (fixture->manager, device_named (fixture, "mockaxe2"), &error));
  g_assert_no_error (error);

  g_assert_true (pm_test_wait_until (scenario_ended, fixture, PM_TEST_TIMEOUT_MS));
  g_assert_cmpint (find_change ("mockaxe5 +ws-silent"), >=, 0);
  g_assert_cmpint (find_change ("mockaxe2 +ws-silent"), ==, -1);
  assert_message (MESSAGE ("step 'all' sets fault ws-silent on mockaxe1, mockaxe3, mockaxe4, mockaxe5"));
}

/* ---- what one dispatch may cost ---------------------------------------------- */

/* How long each change of mockaxe1's faults takes, on purpose. */
#define EXPENSIVE_US 2000

typedef struct
{
  guint  ticks;  /* how often the other source has run */
  GArray *ms;    /* (element-type guint): latency ms=, change by change */
  GArray *at;    /* (element-type guint): ticks, change by change */
} Expensive;

static gboolean
on_tick (gpointer user_data)
{
  ((Expensive *) user_data)->ticks++;
  return G_SOURCE_CONTINUE;
}

/* Makes every change of the device's faults cost EXPENSIVE_US of work,
 * as a fleet of many devices or a slow subscriber would, and notes when
 * (in ticks of the other source) each came. */
static void
on_faults_expensive (PmDevice   *device,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  Expensive *expensive = user_data;
  gint64 until = g_get_monotonic_time () + EXPENSIVE_US;
  guint ms;

  if (!has_fault (device, "latency"))
    return;
  ms = fault_uint (device, "latency", "ms");
  g_array_append_val (expensive->ms, ms);
  g_array_append_val (expensive->at, expensive->ticks);
  while (g_get_monotonic_time () < until)
    ;
}

/* Many expensive events due at once do not hold the main loop: a
 * dispatch stops once PM_SCENARIO_RUNNER_BUDGET_US is spent and the next
 * iteration goes on, so another source runs in between; every event is
 * still applied, in order. */
static void
test_budget (Fixture      *fixture,
             gconstpointer user_data)
{
  const guint n_steps = 20;
  GString *text = g_string_new ("[scenario]\nname=Budget\n");
  Expensive expensive = { 0 };
  guint tick_id, i, together = 1, longest = 1;

  /* A budget of 5 ms and 2 ms an event: three events a dispatch at
   * most, however slow the machine (a slower one does fewer). */
  G_STATIC_ASSERT (PM_SCENARIO_RUNNER_BUDGET_US <= 5000);
  expensive.ms = g_array_new (FALSE, FALSE, sizeof (guint));
  expensive.at = g_array_new (FALSE, FALSE, sizeof (guint));
  for (i = 0; i < n_steps; i++)
    g_string_append_printf (text, "[step s%02u]\nat=0\nselect=name:mockaxe1\nfault=latency\nms=%u\n", i, i + 1);
  g_signal_connect (device_named (fixture, "mockaxe1"), "notify::faults",
                    G_CALLBACK (on_faults_expensive), &expensive);
  tick_id = g_idle_add_full (G_PRIORITY_DEFAULT, on_tick, &expensive, NULL);

  run (fixture, text->str);
  g_string_free (text, TRUE);
  g_assert_true (pm_test_wait_until (scenario_ended, fixture, PM_TEST_TIMEOUT_MS));
  g_source_remove (tick_id);
  g_signal_handlers_disconnect_by_data (device_named (fixture, "mockaxe1"), &expensive);

  /* All of them, in the order of the file (they tie at 0). */
  g_assert_cmpuint (expensive.ms->len, ==, n_steps);
  for (i = 0; i < n_steps; i++)
    g_assert_cmpuint (g_array_index (expensive.ms, guint, i), ==, i + 1);
  /* The other source ran between dispatches: 64 events a dispatch, as
   * before, held the loop for all 20 (40 ms). */
  for (i = 1; i < n_steps; i++)
    {
      together = g_array_index (expensive.at, guint, i) == g_array_index (expensive.at, guint, i - 1)
                   ? together + 1
                   : 1;
      longest = MAX (longest, together);
    }
  g_test_message ("at most %u events of %u us in one dispatch", longest, EXPENSIVE_US);
  g_assert_cmpuint (longest, <=, 3);
  g_array_unref (expensive.ms);
  g_array_unref (expensive.at);
}

/* A list model that passes on another's items and counts how often one
 * is asked for. */
#define TEST_TYPE_COUNTING_MODEL (test_counting_model_get_type ())
G_DECLARE_FINAL_TYPE (TestCountingModel, test_counting_model, TEST, COUNTING_MODEL, GObject)

struct _TestCountingModel
{
  GObject     parent_instance;
  GListModel *inner;
  guint       n_get_item;
};

static GType
counting_model_get_item_type (GListModel *model)
{
  return g_list_model_get_item_type (TEST_COUNTING_MODEL (model)->inner);
}

static guint
counting_model_get_n_items (GListModel *model)
{
  return g_list_model_get_n_items (TEST_COUNTING_MODEL (model)->inner);
}

static gpointer
counting_model_get_item (GListModel *model,
                         guint       position)
{
  TestCountingModel *self = TEST_COUNTING_MODEL (model);

  self->n_get_item++;
  return g_list_model_get_item (self->inner, position);
}

static void
test_counting_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = counting_model_get_item_type;
  iface->get_n_items = counting_model_get_n_items;
  iface->get_item = counting_model_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestCountingModel, test_counting_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, test_counting_model_list_model_init))

static void
test_counting_model_finalize (GObject *object)
{
  g_clear_object (&TEST_COUNTING_MODEL (object)->inner);
  G_OBJECT_CLASS (test_counting_model_parent_class)->finalize (object);
}

static void
test_counting_model_class_init (TestCountingModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_counting_model_finalize;
}

static void
test_counting_model_init (TestCountingModel *self)
{
}

/* The runner looks at the fleet once for many events due together, not
 * once an event. */
static void
test_fleet_once (Fixture      *fixture,
                 gconstpointer user_data)
{
  const guint n_steps = 100;
  GListModel *devices = pm_manager_get_devices (fixture->manager);
  guint n_devices = g_list_model_get_n_items (devices);
  g_autoptr(TestCountingModel) model = g_object_new (TEST_TYPE_COUNTING_MODEL, NULL);
  g_autoptr(PmScenario) scenario = NULL;
  g_autoptr(PmScenarioRunner) runner = NULL;
  GString *text = g_string_new (NULL);
  guint i;

  model->inner = g_object_ref (devices);
  for (i = 0; i < n_steps; i++)
    g_string_append_printf (text, "[step s%03u]\nat=0\nselect=all\naction=clear\nkind=latency\n", i);
  scenario = scenario_new (text->str);
  g_string_free (text, TRUE);
  runner = pm_scenario_runner_new (scenario, G_LIST_MODEL (model), 1);
  pm_scenario_runner_start (runner);
  g_assert_true (pm_test_wait_until (runner_done, runner, PM_TEST_TIMEOUT_MS));

  assert_message (MESSAGE ("step 's099' clears fault latency on mockaxe1, mockaxe2, mockaxe3, mockaxe4"));
  g_test_message ("%u devices, %u events: %u items asked for", n_devices, n_steps, model->n_get_item);
  /* Once an event asked for all of them, 400; once a dispatch, 4 a
   * dispatch, and it would take 50 dispatches to come near. */
  g_assert_cmpuint (model->n_get_item, <, n_steps * n_devices / 2);
}

static gboolean removed_once;

/* Removes mockaxe2 from the fleet the first time mockaxe1's faults
 * change. */
static void
on_faults_remove (PmDevice   *device,
                  GParamSpec *pspec,
                  gpointer    user_data)
{
  Fixture *fixture = user_data;
  g_autoptr(GError) error = NULL;

  if (removed_once)
    return;
  removed_once = TRUE;
  g_assert_true (pm_manager_remove_device (fixture->manager, device_named (fixture, "mockaxe2"), &error));
  g_assert_no_error (error);
}

/* A device removed by what one event set off is not picked by the next,
 * though both are handled in one dispatch. */
static void
test_fleet_changes_within (Fixture      *fixture,
                           gconstpointer user_data)
{
  removed_once = FALSE;
  g_signal_connect (device_named (fixture, "mockaxe1"), "notify::faults",
                    G_CALLBACK (on_faults_remove), fixture);
  run (fixture, "[scenario]\n"
                "name=Within\n"
                "[step first]\n"
                "at=0\n"
                "select=name:mockaxe1\n"
                "fault=ws-silent\n"
                "[step second]\n"
                "at=0\n"
                "select=all\n"
                "fault=latency\n"
                "ms=1\n");
  g_assert_true (pm_test_wait_until (scenario_ended, fixture, PM_TEST_TIMEOUT_MS));
  g_assert_true (removed_once);
  assert_message (MESSAGE ("step 'second' sets fault latency on mockaxe1, mockaxe3, mockaxe4"));
  g_assert_cmpint (find_change ("mockaxe2 +latency"), ==, -1);
}

/* ---- the time scale ------------------------------------------------------------ */

static void
test_time_scale (void)
{
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale (NULL), ==, 1.0);
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale (""), ==, 1.0);
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale ("0.01"), ==, 0.01);
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale ("2"), ==, 2.0);
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale ("0"), ==, 1.0);
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale ("-1"), ==, 1.0);
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale ("fast"), ==, 1.0);
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale ("nan"), ==, 1.0);
  g_assert_cmpfloat (pm_scenario_runner_parse_time_scale ("0.5x"), ==, 1.0);
}

/* ---- the daemon's configuration --------------------------------------------------- */

static char *scratch_dir;

static char *
write_scratch (const char *name,
               const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (scratch_dir, name, NULL);

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

/* --scenario and SCENARIO load and check the file, --scenario winning;
 * what is wrong with it is an error naming the file, the group and the
 * key. */
static void
test_config (void)
{
  g_autofree char *good = write_scratch ("good.ini", "[scenario]\nname=Good\n[step a]\nat=1s\nselect=all\naction=restart\n");
  g_autofree char *other = write_scratch ("other.ini", "[scenario]\nname=Other\n[step a]\nat=1s\nselect=all\naction=restart\n");
  g_autofree char *bad_key = write_scratch ("bad-key.ini", "[step slow]\nat=1s\nselect=all\nfault=latency\nms=2000\nsped=3\n");
  g_autofree char *missing = g_build_filename (scratch_dir, "missing.ini", NULL);
  g_autofree char *env_good = g_strconcat ("SCENARIO=", good, NULL);
  g_autofree char *env_bad = g_strconcat ("SCENARIO=", bad_key, NULL);

  {
    g_autoptr(PmConfig) config = pm_config_new ();
    g_autoptr(GError) error = NULL;
    const char *argv_[] = { "plutomock", "--scenario", good, NULL };
    char **argv = (char **) argv_;
    int argc = 3;

    g_assert_true (pm_config_load (config, NULL, &argc, &argv, &error));
    g_assert_no_error (error);
    g_assert_nonnull (config->scenario);
    g_assert_cmpstr (pm_scenario_get_name (config->scenario), ==, "Good");
  }
  {
    g_autoptr(PmConfig) config = pm_config_new ();
    g_autoptr(GError) error = NULL;
    const char *envp[] = { env_good, NULL };
    const char *argv_[] = { "plutomock", NULL };
    char **argv = (char **) argv_;
    int argc = 1;

    g_assert_true (pm_config_load (config, envp, &argc, &argv, &error));
    g_assert_cmpstr (pm_scenario_get_name (config->scenario), ==, "Good");
  }
  {
    g_autoptr(PmConfig) config = pm_config_new ();
    g_autoptr(GError) error = NULL;
    const char *envp[] = { env_bad, NULL };
    const char *argv_[] = { "plutomock", "--scenario", other, NULL };
    char **argv = (char **) argv_;
    int argc = 3;

    /* The option wins, and the variable is not even read. */
    g_assert_true (pm_config_load (config, envp, &argc, &argv, &error));
    g_assert_cmpstr (pm_scenario_get_name (config->scenario), ==, "Other");
  }
  {
    g_autoptr(PmConfig) config = pm_config_new ();
    g_autoptr(GError) error = NULL;
    const char *argv_[] = { "plutomock", "--scenario", bad_key, NULL };
    char **argv = (char **) argv_;
    int argc = 3;

    g_assert_false (pm_config_load (config, NULL, &argc, &argv, &error));
    g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
    g_assert_true (g_str_has_prefix (error->message, "--scenario: "));
    g_assert_nonnull (strstr (error->message, bad_key));
    g_assert_nonnull (strstr (error->message, "[step slow]"));
    g_assert_nonnull (strstr (error->message, "sped"));
  }
  {
    g_autoptr(PmConfig) config = pm_config_new ();
    g_autoptr(GError) error = NULL;
    const char *envp[] = { env_bad, NULL };
    const char *argv_[] = { "plutomock", NULL };
    char **argv = (char **) argv_;
    int argc = 1;

    g_assert_false (pm_config_load (config, envp, &argc, &argv, &error));
    g_assert_true (g_str_has_prefix (error->message, "SCENARIO: "));
    g_assert_nonnull (strstr (error->message, "[step slow]"));
  }
  {
    g_autoptr(PmConfig) config = pm_config_new ();
    g_autoptr(GError) error = NULL;
    const char *argv_[] = { "plutomock", "--scenario", missing, NULL };
    char **argv = (char **) argv_;
    int argc = 3;

    g_assert_false (pm_config_load (config, NULL, &argc, &argv, &error));
    g_assert_true (g_str_has_prefix (error->message, "--scenario: "));
    g_assert_nonnull (strstr (error->message, missing));
  }
}

/* The daemon started with a scenario runs it: mockaxe1 answers 503 once
 * its step has fired.  SCENARIO does the same. */
static void
test_daemon_start (gconstpointer user_data)
{
  gboolean from_env = GPOINTER_TO_INT (user_data);
  g_autofree char *path = write_scratch ("boot.ini", "[scenario]\n"
                                                     "name=Boot\n"
                                                     "[step fail]\n"
                                                     "at=1s\n"
                                                     "select=name:mockaxe1\n"
                                                     "fault=errors\n"
                                                     "status=503\n");
  g_autofree char *env_scenario = g_strconcat ("SCENARIO=", path, NULL);
  const char *const args[] = { "--no-dbus", "--seed", "3", "--scenario", path, NULL };
  const char *const no_args[] = { "--no-dbus", "--seed", "3", NULL };
  const char *const environment[] = { TIME_SCALE_ENV, from_env ? env_scenario : "SCENARIO", NULL };
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (2, from_env ? no_args : args, environment);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url1 = pm_test_daemon_url (daemon, g_array_index (daemon->ports, guint, 0), "/api/system/info");
  g_autofree char *url2 = pm_test_daemon_url (daemon, g_array_index (daemon->ports, guint, 1), "/api/system/info");

  g_assert_true (pm_test_daemon_output_contains (daemon, "Scenario 'Boot' started (seed 3, time scale 0.01)",
                                                 PM_TEST_TIMEOUT_MS));
  g_assert_true (pm_test_daemon_output_contains (daemon, "step 'fail' sets fault errors on mockaxe1",
                                                 PM_TEST_TIMEOUT_MS));
  g_assert_true (pm_test_daemon_output_contains (daemon, "Scenario 'Boot' finished", PM_TEST_TIMEOUT_MS));
  {
    g_autoptr(PmTestResponse) failed = pm_test_http (session, "GET", url1, NULL, NULL, 0);
    g_autoptr(PmTestResponse) fine = pm_test_http (session, "GET", url2, NULL, NULL, 0);

    g_assert_cmpuint (failed->status, ==, 503);
    g_assert_cmpuint (fine->status, ==, 200);
  }
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

typedef struct
{
  const char *name;
  const char *file;     /* in the scratch directory; NULL: none there */
  const char *text;     /* its contents */
  gboolean    from_env;
  const char *says[3];  /* what the message must hold besides the path */
} DaemonErrorCase;

static const DaemonErrorCase daemon_error_cases[] = {
  { "missing", "nothing-here.ini", NULL, FALSE, { "--scenario: ", NULL } },
  { "missing-env", "nothing-here.ini", NULL, TRUE, { "SCENARIO: ", NULL } },
  { "unknown-key", "unknown-key.ini", "[step slow]\nat=1s\nselect=all\nfault=latency\nms=1\nsped=3\n", FALSE,
    { "--scenario: ", "[step slow]", "sped" } },
  { "bad-duration", "bad-duration.ini", "[step kick]\nat=soon\nselect=all\naction=restart\n", TRUE,
    { "SCENARIO: ", "[step kick]", "soon" } },
  { "no-step", "no-step.ini", "[scenario]\nname=Empty\n", FALSE, { "--scenario: ", "no step", NULL } },
  { "unknown-group", "unknown-group.ini", "[stepp a]\nat=1s\n", FALSE, { "--scenario: ", "stepp a", NULL } },
};

/* A scenario that cannot be read or is not sound is a configuration
 * error: exit 2, before any port is bound, the file and the problem
 * named. */
static void
test_daemon_config_error (gconstpointer user_data)
{
  const DaemonErrorCase *c = user_data;
  g_autofree char *path = NULL;
  g_autofree char *env_scenario = NULL;
  g_autoptr(PmTestDaemon) daemon = NULL;
  g_autoptr(GArray) ports = pm_test_free_ports (2, NULL);
  guint listing = g_array_index (ports, guint, 0);
  g_autofree char *listing_text = g_strdup_printf ("%u", listing);
  g_autofree char *port_text = g_strdup_printf ("%u", g_array_index (ports, guint, 1));
  gsize i;

  if (c->text != NULL)
    path = write_scratch (c->file, c->text);
  else
    path = g_build_filename (scratch_dir, c->file, NULL);
  env_scenario = g_strconcat ("SCENARIO=", path, NULL);

  {
    const char *const args[] = { "--no-dbus", "--listing-port", listing_text, "--ports", port_text,
                                 c->from_env ? NULL : "--scenario", path, NULL };
    const char *const environment[] = { c->from_env ? env_scenario : "SCENARIO", NULL };

    daemon = pm_test_daemon_spawn (args, environment);
  }
  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 2);
  if (g_test_verbose ())
    g_test_message ("The daemon said:\n%s", daemon->output->str);
  g_assert_nonnull (strstr (daemon->output->str, path));
  for (i = 0; i < G_N_ELEMENTS (c->says) && c->says[i] != NULL; i++)
    if (strstr (daemon->output->str, c->says[i]) == NULL)
      g_error ("The daemon did not say '%s':\n%s", c->says[i], daemon->output->str);
  g_assert_nonnull (strstr (daemon->output->str, "Run 'plutomock --help'"));
  /* Nothing was started. */
  g_assert_null (strstr (daemon->output->str, "listening on"));
  g_assert_true (pm_test_port_refuses (listing));
}

/* ---- D-Bus ------------------------------------------------------------------------ */

typedef struct
{
  GTestDBus          *bus;
  GDBusObjectManager *objects;
  PmDBusManager      *manager;
  PmDBusDevice       *devices[2];
} BusFixture;

static void
bus_fixture_setup (BusFixture   *fixture,
                   gconstpointer user_data)
{
  g_autoptr(GArray) ports = pm_test_free_ports (2, NULL);
  g_autofree char *ports_text = g_strdup_printf ("%u,%u", g_array_index (ports, guint, 0),
                                                 g_array_index (ports, guint, 1));
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  guint i;

  /* The bus-activated daemon inherits this process's environment, and
   * with it PLUTOMOCK_TIME_SCALE. */
  g_unsetenv ("SCENARIO");
  fixture->bus = pm_test_bus_up (ports_text);
  connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  fixture->objects = pm_dbus_object_manager_client_new_sync (connection,
                                                             G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                             "org.pluto.Mock1", "/org/pluto/Mock1",
                                                             NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr(PmDBusObject) object = PM_DBUS_OBJECT (g_dbus_object_manager_get_object (fixture->objects,
                                                                                      "/org/pluto/Mock1/Manager"));

    g_assert_nonnull (object);
    fixture->manager = pm_dbus_object_get_manager (object);
    g_assert_nonnull (fixture->manager);
  }
  for (i = 0; i < 2; i++)
    {
      g_autofree char *path = g_strdup_printf ("/org/pluto/Mock1/Device/%u", g_array_index (ports, guint, i));
      g_autoptr(PmDBusObject) object = PM_DBUS_OBJECT (g_dbus_object_manager_get_object (fixture->objects, path));

      g_assert_nonnull (object);
      fixture->devices[i] = pm_dbus_object_get_device (object);
      g_assert_nonnull (fixture->devices[i]);
    }
}

static void
bus_fixture_teardown (BusFixture   *fixture,
                      gconstpointer user_data)
{
  guint i;

  for (i = 0; i < 2; i++)
    g_clear_object (&fixture->devices[i]);
  g_clear_object (&fixture->manager);
  g_clear_object (&fixture->objects);
  g_clear_pointer (&fixture->bus, pm_test_bus_down);
}

/* Whether the device's Faults property, as last announced, has @kind. */
static gboolean
bus_has_fault (PmDBusDevice *device,
               const char   *kind)
{
  GVariant *faults = pm_dbus_device_get_faults (device);
  g_autoptr(GVariant) fault = NULL;

  if (faults == NULL)
    return FALSE;
  fault = g_variant_lookup_value (faults, kind, G_VARIANT_TYPE_VARDICT);
  return fault != NULL;
}

typedef struct
{
  PmDBusDevice *device;
  const char   *kind;
  gboolean      present;
} FaultWait;

static gboolean
fault_is (gpointer user_data)
{
  FaultWait *wait = user_data;

  return bus_has_fault (wait->device, wait->kind) == wait->present;
}

static void
wait_bus_fault (PmDBusDevice *device,
                const char   *kind,
                gboolean      present)
{
  FaultWait wait = { device, kind, present };

  if (!pm_test_wait_until (fault_is, &wait, PM_TEST_TIMEOUT_MS))
    g_error ("Fault %s did not %s", kind, present ? "come" : "go");
}

typedef struct
{
  PmDBusManager *manager;
  gboolean       running;
  const char    *name;
} ScenarioWait;

static gboolean
scenario_is (gpointer user_data)
{
  ScenarioWait *wait = user_data;

  return pm_dbus_manager_get_scenario_running (wait->manager) == wait->running &&
         g_strcmp0 (pm_dbus_manager_get_scenario (wait->manager), wait->name) == 0;
}

static void
wait_bus_scenario (PmDBusManager *manager,
                   gboolean       running,
                   const char    *name)
{
  ScenarioWait wait = { manager, running, name };

  if (!pm_test_wait_until (scenario_is, &wait, PM_TEST_TIMEOUT_MS))
    g_error ("ScenarioRunning is not %d with Scenario '%s' but %d with '%s'", running, name,
             pm_dbus_manager_get_scenario_running (manager), pm_dbus_manager_get_scenario (manager));
}

static const char bus_scenario[] =
  "[scenario]\n"
  "name=Over the bus\n"
  "[step slow]\n"
  "at=0\n"
  "select=name:mockaxe1\n"
  "fault=latency\n"
  "ms=1\n"
  "[step late]\n"
  "at=1h\n"
  "select=all\n"
  "fault=ws-silent\n";

/* RunScenario takes the file's text and starts it; the properties say
 * so; StopScenario stops it and clears its faults, and says whether
 * anything ran. */
static void
test_bus_run_stop (BusFixture   *fixture,
                   gconstpointer user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean stopped = FALSE;

  g_assert_false (pm_dbus_manager_get_scenario_running (fixture->manager));
  g_assert_cmpstr (pm_dbus_manager_get_scenario (fixture->manager), ==, "");

  g_assert_true (pm_dbus_manager_call_run_scenario_sync (fixture->manager, bus_scenario,
                                                         G_DBUS_CALL_FLAGS_NONE, PM_TEST_TIMEOUT_MS,
                                                         NULL, &error));
  g_assert_no_error (error);
  wait_bus_scenario (fixture->manager, TRUE, "Over the bus");
  wait_bus_fault (fixture->devices[0], "latency", TRUE);
  g_assert_false (bus_has_fault (fixture->devices[1], "latency"));

  g_assert_true (pm_dbus_manager_call_stop_scenario_sync (fixture->manager, G_DBUS_CALL_FLAGS_NONE,
                                                          PM_TEST_TIMEOUT_MS, &stopped, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (stopped);
  wait_bus_scenario (fixture->manager, FALSE, "");
  wait_bus_fault (fixture->devices[0], "latency", FALSE);

  g_assert_true (pm_dbus_manager_call_stop_scenario_sync (fixture->manager, G_DBUS_CALL_FLAGS_NONE,
                                                          PM_TEST_TIMEOUT_MS, &stopped, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (stopped);
}

#define FAST_STEP(n) "[step " #n "]\nevery=100ms\nselect=all\naction=clear\n"
/* Eleven steps every 100 ms: 110 firings a second. */
#define RATE_TOO_HIGH \
  FAST_STEP (1) FAST_STEP (2) FAST_STEP (3) FAST_STEP (4) FAST_STEP (5) FAST_STEP (6) \
  FAST_STEP (7) FAST_STEP (8) FAST_STEP (9) FAST_STEP (10) FAST_STEP (11)

/* A scenario that is not sound is InvalidArgument naming the group and
 * key (or the limit it is over); the running one runs on.  A sound one
 * replaces it. */
static void
test_bus_errors (BusFixture   *fixture,
                 gconstpointer user_data)
{
  static const struct
  {
    const char *text;
    const char *says[2];
  } cases[] = {
    { "[step slow]\nat=1s\nselect=all\nfault=latency\nms=1\nsped=3\n", { "[step slow]", "sped" } },
    { "[step slow]\nat=1s\nselect=all\nfault=latency\n", { "[step slow]", "ms" } },
    { "[step kick]\nat=1s\nselect=everything\naction=restart\n", { "[step kick]", "select" } },
    { "", { "no step", NULL } },
    { RATE_TOO_HIGH, { "would fire 110 times a second", "limit of 100" } },
  };
  g_autoptr(GError) error = NULL;
  gsize i;

  g_assert_true (pm_dbus_manager_call_run_scenario_sync (fixture->manager, bus_scenario,
                                                         G_DBUS_CALL_FLAGS_NONE, PM_TEST_TIMEOUT_MS,
                                                         NULL, &error));
  g_assert_no_error (error);
  wait_bus_fault (fixture->devices[0], "latency", TRUE);

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) call_error = NULL;
      gsize j;

      g_assert_false (pm_dbus_manager_call_run_scenario_sync (fixture->manager, cases[i].text,
                                                              G_DBUS_CALL_FLAGS_NONE, PM_TEST_TIMEOUT_MS,
                                                              NULL, &call_error));
      g_assert_error (call_error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
      for (j = 0; j < G_N_ELEMENTS (cases[i].says) && cases[i].says[j] != NULL; j++)
        if (strstr (call_error->message, cases[i].says[j]) == NULL)
          g_error ("'%s' does not say '%s'", call_error->message, cases[i].says[j]);
    }

  /* Still the first, its fault still set. */
  {
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GVariant) value = NULL;

    reply = g_dbus_connection_call_sync (g_dbus_proxy_get_connection (G_DBUS_PROXY (fixture->manager)),
                                         "org.pluto.Mock1", "/org/pluto/Mock1/Manager",
                                         "org.freedesktop.DBus.Properties", "Get",
                                         g_variant_new ("(ss)", "org.pluto.Mock1.Manager", "Scenario"),
                                         G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                         PM_TEST_TIMEOUT_MS, NULL, &error);
    g_assert_no_error (error);
    g_variant_get (reply, "(v)", &value);
    g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "Over the bus");
  }
  g_assert_true (bus_has_fault (fixture->devices[0], "latency"));

  /* A second scenario replaces the first, whose faults go. */
  g_assert_true (pm_dbus_manager_call_run_scenario_sync (fixture->manager,
                                                         "[step quiet]\nat=0\nselect=all\nfault=ws-silent\n",
                                                         G_DBUS_CALL_FLAGS_NONE, PM_TEST_TIMEOUT_MS,
                                                         NULL, &error));
  g_assert_no_error (error);
  wait_bus_fault (fixture->devices[0], "latency", FALSE);
  wait_bus_fault (fixture->devices[1], "ws-silent", TRUE);
  /* Unnamed, and at its end once its one step has fired. */
  wait_bus_scenario (fixture->manager, FALSE, "");
  g_assert_true (bus_has_fault (fixture->devices[0], "ws-silent"));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;
  gsize i;

  g_test_init (&argc, &argv, NULL);

  /* Every runner this process makes reads it. */
  g_setenv ("PLUTOMOCK_TIME_SCALE", TIME_SCALE_TEXT, TRUE);
  changes = g_ptr_array_new_with_free_func (change_free);
  messages = g_ptr_array_new_with_free_func (g_free);
  g_log_set_handler (RUNNER_DOMAIN, G_LOG_LEVEL_MESSAGE, on_runner_log, NULL);
  scratch_dir = g_dir_make_tmp ("test-scenario-run-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add ("/scenario-run/order", Fixture, NULL, fixture_setup, test_order, fixture_teardown);
  g_test_add ("/scenario-run/for", Fixture, NULL, fixture_setup, test_for, fixture_teardown);
  g_test_add ("/scenario-run/every", Fixture, NULL, fixture_setup, test_every, fixture_teardown);
  g_test_add ("/scenario-run/repeat", Fixture, NULL, fixture_setup, test_repeat, fixture_teardown);
  g_test_add_func ("/scenario-run/seed", test_seed);
  g_test_add ("/scenario-run/stop", Fixture, NULL, fixture_setup, test_stop, fixture_teardown);
  g_test_add ("/scenario-run/replace", Fixture, NULL, fixture_setup, test_replace, fixture_teardown);
  g_test_add ("/scenario-run/skip", Fixture, NULL, fixture_setup, test_skip, fixture_teardown);
  g_test_add ("/scenario-run/skip/asic-range", Fixture, NULL, fixture_setup, test_skip_asic_range,
              fixture_teardown);
  g_test_add ("/scenario-run/fleet-changes", Fixture, NULL, fixture_setup, test_fleet_changes,
              fixture_teardown);
  g_test_add ("/scenario-run/budget", Fixture, NULL, fixture_setup, test_budget, fixture_teardown);
  g_test_add ("/scenario-run/fleet-once", Fixture, NULL, fixture_setup, test_fleet_once, fixture_teardown);
  g_test_add ("/scenario-run/fleet-changes-within", Fixture, NULL, fixture_setup, test_fleet_changes_within,
              fixture_teardown);
  g_test_add_func ("/scenario-run/time-scale", test_time_scale);
  g_test_add_func ("/scenario-run/config", test_config);
  g_test_add_data_func ("/scenario-run/daemon/option", GINT_TO_POINTER (FALSE), test_daemon_start);
  g_test_add_data_func ("/scenario-run/daemon/variable", GINT_TO_POINTER (TRUE), test_daemon_start);
  for (i = 0; i < G_N_ELEMENTS (daemon_error_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/scenario-run/daemon/error/%s", daemon_error_cases[i].name);

      g_test_add_data_func (name, &daemon_error_cases[i], test_daemon_config_error);
    }
  g_test_add ("/scenario-run/bus/run-stop", BusFixture, NULL, bus_fixture_setup, test_bus_run_stop,
              bus_fixture_teardown);
  g_test_add ("/scenario-run/bus/errors", BusFixture, NULL, bus_fixture_setup, test_bus_errors,
              bus_fixture_teardown);

  status = g_test_run ();

  g_ptr_array_unref (changes);
  g_ptr_array_unref (messages);
  {
    g_autoptr(GDir) dir = g_dir_open (scratch_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (scratch_dir, name, NULL);

        g_unlink (path);
      }
  }
  g_rmdir (scratch_dir);
  g_free (scratch_dir);
  return status;
}
