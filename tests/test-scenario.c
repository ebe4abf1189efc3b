/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-scenario"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "pm-error.h"
#include "pm-scenario.h"

/*
 * Unit tests of scenario files: the examples shipped in data/scenarios,
 * every field of a parsed scenario, every error with the group and key
 * it names, device selection (reproducible with a seed, different with
 * another), and the timeline, checked against a plain expansion of each
 * step's firings.
 */

static PmScenario *
load_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  PmScenario *scenario = pm_scenario_new_from_data (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_nonnull (scenario);
  return scenario;
}

static void
assert_load_fails (const char        *text,
                   gsize              length,
                   const char *const *parts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmScenario) scenario = pm_scenario_new_from_data (text, length, &error);
  gsize i;

  g_assert_null (scenario);
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_test_message ("message: %s", error->message);
  for (i = 0; parts[i] != NULL; i++)
    if (strstr (error->message, parts[i]) == NULL)
      g_error ("'%s' is not in the message '%s'", parts[i], error->message);
}

/* ---- The examples ------------------------------------------------------- */

static char *
examples_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "scenarios", NULL);
}

/* Every example loads; the three documented ones are there and do what
 * their comments say. */
static void
test_examples (void)
{
  g_autofree char *dir_path = examples_dir ();
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  guint n = 0;

  dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autoptr(PmScenario) scenario = NULL;
      g_autoptr(PmScenarioIter) iter = NULL;
      PmScenarioEvent event;
      gint64 last = -1;
      guint i, events = 0;

      if (!g_str_has_suffix (name, ".ini"))
        continue;
      g_test_message ("example %s", name);
      scenario = pm_scenario_new_from_file (path, &error);
      g_assert_no_error (error);
      g_assert_nonnull (pm_scenario_get_name (scenario));
      g_assert_nonnull (pm_scenario_get_description (scenario));
      g_assert_cmpuint (pm_scenario_get_n_steps (scenario), >, 0);
      for (i = 0; i < pm_scenario_get_n_steps (scenario); i++)
        {
          const PmScenarioStep *step = pm_scenario_get_step (scenario, i);

          g_assert_true (step->action != PM_SCENARIO_ACTION_FAULT || step->fault != NULL);
        }

      /* The first hour of its timeline is in order. */
      iter = pm_scenario_iter_new (scenario, 0);
      while (pm_scenario_iter_next (iter, &event) && event.time_ms < 3600 * 1000)
        {
          g_assert_cmpint (event.time_ms, >=, last);
          last = event.time_ms;
          events++;
        }
      g_assert_cmpuint (events, >, 0);
      n++;
    }
  g_assert_cmpuint (n, >=, 3);
}

static const PmScenarioStep *
find_step (PmScenario *scenario,
           const char *name)
{
  guint i;

  for (i = 0; i < pm_scenario_get_n_steps (scenario); i++)
    if (strcmp (pm_scenario_get_step (scenario, i)->name, name) == 0)
      return pm_scenario_get_step (scenario, i);
  g_error ("no step %s", name);
}

static PmScenario *
load_example (const char *name)
{
  g_autofree char *dir = examples_dir ();
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;
  PmScenario *scenario = pm_scenario_new_from_file (path, &error);

  g_assert_no_error (error);
  return scenario;
}

static void
test_example_contents (void)
{
  g_autoptr(PmScenario) flaky = load_example ("flaky-network.ini");
  g_autoptr(PmScenario) storm = load_example ("reboot-storm.ini");
  g_autoptr(PmScenario) heat = load_example ("overheating-fleet.ini");
  const PmScenarioStep *step;
  guint i, miner = 0;

  /* Flaky network: network faults only, over and over. */
  g_assert_true (pm_scenario_get_repeat (flaky));
  g_assert_cmpint (pm_scenario_get_length_ms (flaky), ==, 15 * 60 * 1000);
  step = find_step (flaky, "slow");
  g_assert_cmpint (step->fault->kind, ==, PM_FAULT_LATENCY);
  g_assert_cmpuint (step->fault->ms, ==, 1500);
  g_assert_cmpuint (step->fault->jitter_ms, ==, 1000);
  g_assert_cmpint (step->selector, ==, PM_SCENARIO_SELECT_SHARE);
  g_assert_cmpuint (step->share_bp, ==, 2000);
  for (i = 0; i < pm_scenario_get_n_steps (flaky); i++)
    {
      step = pm_scenario_get_step (flaky, i);
      g_assert_true (step->fault == NULL || !pm_fault_kind_needs_miner (step->fault->kind));
    }

  /* Reboot storm: a repeating restart of a quarter of the fleet. */
  step = find_step (storm, "storm");
  g_assert_cmpint (step->action, ==, PM_SCENARIO_ACTION_RESTART);
  g_assert_cmpint (step->every_ms, ==, 2 * 60 * 1000);
  g_assert_cmpuint (step->share_bp, ==, 2500);
  step = find_step (storm, "brownout");
  g_assert_cmpint (step->fault->kind, ==, PM_FAULT_POWER_FAULT);
  g_assert_cmpstr (step->fault->message, ==, "Input voltage too low");

  /* Overheating fleet: miner faults. */
  for (i = 0; i < pm_scenario_get_n_steps (heat); i++)
    {
      step = pm_scenario_get_step (heat, i);
      miner += step->fault != NULL && pm_fault_kind_needs_miner (step->fault->kind);
    }
  g_assert_cmpuint (miner, >=, 4);
  step = find_step (heat, "dead-asic");
  /* ASIC 0, which every board has, so the step takes on any profile. */
  g_assert_cmpuint (step->fault->asic, ==, 0);
  g_assert_cmpuint (step->fault->domain, ==, 2);
}

/* ---- Parsing ------------------------------------------------------------ */

static const char full_scenario[] =
  "# A comment\n"
  "[scenario]\n"
  "name=Friday afternoon\n"
  "description=Everything at once\n"
  "seed=18446744073709551615\n"
  "length=2h\n"
  "repeat=yes\n"
  "\n"
  "[step late]\n"
  "at=1h1m1s1ms\n"
  "select=ports:7751-7753,7760\n"
  "action=clear\n"
  "kind=latency\n"
  "\n"
  "[step slow]\n"
  "at=10s\n"
  "select=share:12.5%\n"
  "fault=latency\n"
  "ms=2000\n"
  "for=60s\n"
  "\n"
  "[step kick]\n"
  "every=300s\n"
  "select=names:mockaxe7, MockAxe8\n"
  "action=restart\n"
  "\n"
  "[step offline]\n"
  "at=120s\n"
  "select=name:mockaxe3\n"
  "fault=offline\n"
  "\n"
  "[step early]\n"
  "at=0\n"
  "every=1500ms\n"
  "select=profile:axeos-gamma\n"
  "fault=errors\n"
  "status=503\n"
  "rate=0.5\n"
  "path=/api/system/info\n"
  "for=1s\n"
  "\n"
  "[step same-time]\n"
  "at=10s\n"
  "select=port:7755\n"
  "action=clear\n"
  "\n"
  "[step everyone]\n"
  "at=5m\n"
  "select=all\n"
  "fault=ws-drop\n"
  "interval-s=0.5\n"
  "clean=yes\n";

static void
test_parse_full (void)
{
  g_autoptr(PmScenario) scenario = load_ok (full_scenario);
  const PmScenarioStep *step;
  guint64 seed = 0;

  g_assert_cmpstr (pm_scenario_get_name (scenario), ==, "Friday afternoon");
  g_assert_cmpstr (pm_scenario_get_description (scenario), ==, "Everything at once");
  g_assert_true (pm_scenario_get_seed (scenario, &seed));
  g_assert_cmpuint (seed, ==, G_MAXUINT64);
  g_assert_cmpint (pm_scenario_get_length_ms (scenario), ==, 2 * 3600 * 1000);
  g_assert_true (pm_scenario_get_repeat (scenario));
  g_assert_cmpuint (pm_scenario_get_n_steps (scenario), ==, 7);

  /* In the order of first firing; slow and same-time tie at 10 s and
   * keep the file's order. */
  step = pm_scenario_get_step (scenario, 0);
  g_assert_cmpstr (step->name, ==, "early");
  g_assert_cmpint (step->at_ms, ==, 0);
  g_assert_cmpint (step->every_ms, ==, 1500);
  g_assert_cmpint (step->duration_ms, ==, 1000);
  g_assert_cmpint (step->selector, ==, PM_SCENARIO_SELECT_PROFILE);
  g_assert_cmpstr (step->profile, ==, "axeos-gamma");
  g_assert_cmpint (step->action, ==, PM_SCENARIO_ACTION_FAULT);
  g_assert_cmpint (step->fault->kind, ==, PM_FAULT_ERRORS);
  g_assert_cmpuint (step->fault->status, ==, 503);
  g_assert_cmpfloat (step->fault->rate, ==, 0.5);
  g_assert_cmpstr (step->fault->path, ==, "/api/system/info");

  step = pm_scenario_get_step (scenario, 1);
  g_assert_cmpstr (step->name, ==, "slow");
  g_assert_cmpint (step->at_ms, ==, 10000);
  g_assert_cmpint (step->every_ms, ==, 0);
  g_assert_cmpint (step->duration_ms, ==, 60000);
  g_assert_cmpint (step->selector, ==, PM_SCENARIO_SELECT_SHARE);
  g_assert_cmpuint (step->share_bp, ==, 1250);
  g_assert_cmpstr (step->select_text, ==, "share:12.5%");
  g_assert_cmpint (step->fault->kind, ==, PM_FAULT_LATENCY);
  g_assert_cmpuint (step->fault->ms, ==, 2000);

  step = pm_scenario_get_step (scenario, 2);
  g_assert_cmpstr (step->name, ==, "same-time");
  g_assert_cmpint (step->selector, ==, PM_SCENARIO_SELECT_PORTS);
  g_assert_cmpuint (step->port_ranges->len, ==, 1);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 0).first, ==, 7755);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 0).last, ==, 7755);
  g_assert_cmpint (step->action, ==, PM_SCENARIO_ACTION_CLEAR);
  g_assert_cmpint (step->clear_kind, ==, PM_FAULT_N_KINDS);

  step = pm_scenario_get_step (scenario, 3);
  g_assert_cmpstr (step->name, ==, "offline");
  g_assert_cmpint (step->at_ms, ==, 120000);
  g_assert_cmpint (step->selector, ==, PM_SCENARIO_SELECT_NAMES);
  g_assert_cmpstr (step->names[0], ==, "mockaxe3");
  g_assert_null (step->names[1]);
  g_assert_cmpint (step->fault->kind, ==, PM_FAULT_OFFLINE);
  g_assert_cmpint (step->duration_ms, ==, 0);

  step = pm_scenario_get_step (scenario, 4);
  g_assert_cmpstr (step->name, ==, "kick");
  g_assert_cmpint (step->at_ms, ==, 300000);
  g_assert_cmpint (step->every_ms, ==, 300000);
  g_assert_cmpint (step->action, ==, PM_SCENARIO_ACTION_RESTART);
  g_assert_null (step->fault);
  g_assert_cmpstr (step->names[0], ==, "mockaxe7");
  g_assert_cmpstr (step->names[1], ==, "MockAxe8");
  g_assert_null (step->names[2]);

  step = pm_scenario_get_step (scenario, 5);
  g_assert_cmpstr (step->name, ==, "everyone");
  g_assert_cmpint (step->selector, ==, PM_SCENARIO_SELECT_ALL);
  g_assert_cmpfloat (step->fault->interval_s, ==, 0.5);
  g_assert_true (step->fault->clean);

  step = pm_scenario_get_step (scenario, 6);
  g_assert_cmpstr (step->name, ==, "late");
  g_assert_cmpint (step->at_ms, ==, 3661001);
  /* As ranges: 7751-7753 and 7760. */
  g_assert_cmpuint (step->port_ranges->len, ==, 2);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 0).first, ==, 7751);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 0).last, ==, 7753);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 1).first, ==, 7760);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 1).last, ==, 7760);
  g_assert_cmpint (step->clear_kind, ==, PM_FAULT_LATENCY);
}

/* Without [scenario]: no name, no seed, no length. */
static void
test_parse_minimal (void)
{
  g_autoptr(PmScenario) scenario = load_ok ("[step 1]\nat=1s\nselect=all\nfault=pool-down\n");

  g_assert_null (pm_scenario_get_name (scenario));
  g_assert_false (pm_scenario_get_seed (scenario, NULL));
  g_assert_cmpint (pm_scenario_get_length_ms (scenario), ==, 0);
  g_assert_false (pm_scenario_get_repeat (scenario));
  g_assert_cmpuint (pm_scenario_get_n_steps (scenario), ==, 1);
  g_assert_cmpint (pm_scenario_get_step (scenario, 0)->fault->kind, ==, PM_FAULT_POOL_DOWN);
}

static void
test_durations (void)
{
  static const struct
  {
    const char *text;
    gint64      ms;
  } good[] = {
    { "0", 0 },
    { "0s", 0 },
    { "1500ms", 1500 },
    { "10s", 10000 },
    { "2m", 120000 },
    { "1h", 3600000 },
    { "1d", 86400000 },
    { "1m30s", 90000 },
    { "1h1m1s1ms", 3661001 },
    { " 5s ", 5000 },
    { "30d", G_GINT64_CONSTANT (2592000000) },
    { "29d23h59m59s999ms", G_GINT64_CONSTANT (2591999999) },
  };
  static const char *const bad[] = {
    "", " ", "10", "10x", "s", "1.5s", "-1s", "+1s", "1 s", "1s 2s", "ms", "0x10s", "1sm",
  };
  static const char *const too_long[] = {
    "31d", "30d1ms", "720h1s", "9999999999999s", "2592000001ms", "99999999999d",
    "99999999999999999999ms", "18446744073709551617ms", "999999999999d",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 ms = -1;

      g_assert_true (pm_scenario_parse_duration (good[i].text, &ms, &error));
      g_assert_no_error (error);
      g_assert_cmpint (ms, ==, good[i].ms);
    }
  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 ms = -1;

      g_test_message ("'%s'", bad[i]);
      g_assert_false (pm_scenario_parse_duration (bad[i], &ms, &error));
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "not a duration"));
    }
  for (i = 0; i < G_N_ELEMENTS (too_long); i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 ms = -1;

      g_test_message ("'%s'", too_long[i]);
      g_assert_false (pm_scenario_parse_duration (too_long[i], &ms, &error));
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "longer than 30 days"));
    }
}

#define STEP "[step s]\nat=1s\nselect=all\n"

/* Every error, with what its message must name. */
static void
test_errors (void)
{
  static const struct
  {
    const char *text;
    const char *parts[4];
  } cases[] = {
    /* [scenario] */
    { "[scenario]\ncolour=red\n" STEP "fault=offline\n", { "[scenario]", "colour", "unknown key" } },
    { "[scenario]\nseed=abc\n" STEP "fault=offline\n", { "[scenario] seed", "'abc'" } },
    { "[scenario]\nseed=-1\n" STEP "fault=offline\n", { "[scenario] seed", "'-1'" } },
    { "[scenario]\nseed=18446744073709551616\n" STEP "fault=offline\n", { "[scenario] seed" } },
    { "[scenario]\nseed=\n" STEP "fault=offline\n", { "[scenario] seed" } },
    { "[scenario]\nrepeat=true\n" STEP "fault=offline\n", { "[scenario] repeat", "length" } },
    { "[scenario]\nrepeat=sometimes\nlength=1h\n" STEP "fault=offline\n", { "[scenario] repeat", "'sometimes'" } },
    { "[scenario]\nlength=0\n" STEP "fault=offline\n", { "[scenario] length", "0" } },
    { "[scenario]\nlength=forever\n" STEP "fault=offline\n", { "[scenario] length", "'forever'", "not a duration" } },
    { "[scenario]\nlength=31d\n" STEP "fault=offline\n", { "[scenario] length", "30 days" } },
    { "[scenario]\nname=a\\nb\n" STEP "fault=offline\n", { "[scenario] name", "control" } },
    { "[scenario]\nname=x\nname=y\n" STEP "fault=offline\n", { "[scenario] name", "twice" } },
    /* Groups */
    { "[steps]\nat=1s\n", { "unknown group", "[steps]" } },
    { "[step]\nat=1s\n", { "unknown group", "[step]" } },
    { "[step ]\nat=1s\n", { "unknown group" } },
    { STEP "fault=offline\n" STEP "fault=offline\n", { "group [step s]", "twice" } },
    { "[scenario]\nname=x\n", { "no step" } },
    { "", { "no step" } },
    { "# only a comment\n", { "no step" } },
    { "garbage\n", { "not a key file" } },
    { "[step s\n", { "not a key file" } },
    /* Timing */
    { "[step s]\nselect=all\nfault=offline\n", { "[step s]", "at= or every=" } },
    { "[step s]\nat=soon\nselect=all\nfault=offline\n", { "[step s] at", "'soon'", "not a duration" } },
    { "[step s]\nat=31d\nselect=all\nfault=offline\n", { "[step s] at", "30 days" } },
    { "[step s]\nevery=99ms\nselect=all\nfault=offline\n", { "[step s] every", "100ms" } },
    { "[step s]\nevery=0\nselect=all\nfault=offline\n", { "[step s] every" } },
    { "[step s]\nat=1s\nat=2s\nselect=all\nfault=offline\n", { "[step s] at", "twice" } },
    { STEP "fault=offline\nfor=0\n", { "[step s] for", "0" } },
    { STEP "fault=offline\nfor=1x\n", { "[step s] for", "not a duration" } },
    { "[step s]\nevery=1m\nselect=all\nfault=offline\nfor=1m\n", { "[step s] for", "fires again", "1m" } },
    { "[scenario]\nlength=10m\nrepeat=true\n[step s]\nat=9m\nselect=all\nfault=offline\nfor=10m\n", { "[step s] for", "fires again", "10m" } },
    { "[scenario]\nlength=10m\nrepeat=true\n[step s]\nat=1m\nevery=4m\nselect=all\nfault=offline\nfor=3m\n", { "[step s] for", "fires again", "2m" } },
    /* A repeating length shorter than every='s floor. */
    { "[scenario]\nlength=1ms\nrepeat=true\n[step s]\nat=0s\nselect=all\naction=restart\n", { "[step s]", "fire again", "every 100ms" } },
    { "[scenario]\nlength=10s\nrepeat=true\n[step s]\nat=50ms\nevery=9930ms\nselect=all\naction=restart\n", { "[step s]", "fire again", "every 100ms" } },
    { "[scenario]\nlength=10m\n[step s]\nat=10m\nselect=all\nfault=offline\n", { "[step s]", "10m", "length" } },
    { "[scenario]\nlength=10m\n[step s]\nevery=11m\nselect=all\nfault=offline\n", { "[step s]", "11m", "length" } },
    /* Selection */
    { "[step s]\nat=1s\nfault=offline\n", { "[step s]", "select=" } },
    { STEP "select=all\nfault=offline\n", { "[step s] select", "twice" } },
    { "[step s]\nat=1s\nselect=everyone\nfault=offline\n", { "[step s] select", "'everyone'", "not a selector" } },
    { "[step s]\nat=1s\nselect=all:1\nfault=offline\n", { "[step s] select", "not a selector" } },
    { "[step s]\nat=1s\nselect=name:\nfault=offline\n", { "[step s] select", "hostname" } },
    { "[step s]\nat=1s\nselect=name:-bad\nfault=offline\n", { "[step s] select", "'-bad'" } },
    { "[step s]\nat=1s\nselect=name:7751\nfault=offline\n", { "[step s] select", "'7751'" } },
    { "[step s]\nat=1s\nselect=names:mockaxe1,,mockaxe2\nfault=offline\n", { "[step s] select", "hostname" } },
    { "[step s]\nat=1s\nselect=names:\nfault=offline\n", { "[step s] select", "hostname" } },
    { "[step s]\nat=1s\nselect=port:0\nfault=offline\n", { "[step s] select", "out of range" } },
    { "[step s]\nat=1s\nselect=port:70000\nfault=offline\n", { "[step s] select", "out of range" } },
    { "[step s]\nat=1s\nselect=port:abc\nfault=offline\n", { "[step s] select", "'abc'" } },
    { "[step s]\nat=1s\nselect=ports:7760-7751\nfault=offline\n", { "[step s] select", "backwards" } },
    { "[step s]\nat=1s\nselect=ports:7751,7751\nfault=offline\n", { "[step s] select", "twice" } },
    { "[step s]\nat=1s\nselect=ports:7751-7760,7755\nfault=offline\n", { "[step s] select", "port 7755 is listed twice" } },
    { "[step s]\nat=1s\nselect=ports:7755,7751-7760\nfault=offline\n", { "[step s] select", "port 7755 is listed twice" } },
    { "[step s]\nat=1s\nselect=ports:1-65535,100-200\nfault=offline\n", { "[step s] select", "port 100 is listed twice" } },
    { "[step s]\nat=1s\nselect=ports:8000-8010,7990-8000\nfault=offline\n", { "[step s] select", "port 8000 is listed twice" } },
    { "[step s]\nat=1s\nselect=ports:\nfault=offline\n", { "[step s] select", "no port given" } },
    { "[step s]\nat=1s\nselect=ports:7751,,7752\nfault=offline\n", { "[step s] select", "entry 2", "empty" } },
    { "[step s]\nat=1s\nselect=ports:7751-0\nfault=offline\n", { "[step s] select", "out of range" } },
    { "[step s]\nat=1s\nselect=profile:nope\nfault=offline\n", { "[step s] select", "'nope'", "axeos-gamma" } },
    { "[step s]\nat=1s\nselect=profile:mixed\nfault=offline\n", { "[step s] select", "'mixed'" } },
    { "[step s]\nat=1s\nselect=share:20\nfault=offline\n", { "[step s] select", "'20'", "share" } },
    { "[step s]\nat=1s\nselect=share:101%\nfault=offline\n", { "[step s] select", "'101%'" } },
    { "[step s]\nat=1s\nselect=share:100.01%\nfault=offline\n", { "[step s] select", "'100.01%'" } },
    { "[step s]\nat=1s\nselect=share:12.345%\nfault=offline\n", { "[step s] select", "'12.345%'" } },
    { "[step s]\nat=1s\nselect=share:-5%\nfault=offline\n", { "[step s] select", "'-5%'" } },
    { "[step s]\nat=1s\nselect=share:.5%\nfault=offline\n", { "[step s] select", "'.5%'" } },
    { "[step s]\nat=1s\nselect=share:5.%\nfault=offline\n", { "[step s] select", "'5.%'" } },
    { "[step s]\nat=1s\nselect=share:0.2\nfault=offline\n", { "[step s] select", "'0.2'" } },
    /* What the step does */
    { STEP, { "[step s]", "fault= or action=" } },
    { STEP "fault=offline\naction=restart\n", { "[step s]", "exclude" } },
    { STEP "fault=slow\n", { "[step s]", "unknown fault", "'slow'" } },
    { STEP "fault=latency\n", { "[step s]", "latency", "ms", "required" } },
    { STEP "fault=latency\nms=abc\n", { "[step s]", "latency", "ms", "'abc'" } },
    { STEP "fault=latency\nms=70000\n", { "[step s]", "ms", "out of range" } },
    { STEP "fault=latency\nmsec=20\n", { "[step s]", "latency", "'msec'" } },
    { STEP "fault=offline\nms=20\n", { "[step s]", "offline", "takes no parameters" } },
    { STEP "fault=latency\nms=1\nms=2\n", { "[step s] ms", "twice" } },
    { STEP "fault=latency\nms=1\nkind=latency\n", { "[step s] kind", "action=clear" } },
    { STEP "action=reboot\n", { "[step s] action", "'reboot'", "restart or clear" } },
    { STEP "action=restart\nms=20\n", { "[step s] ms", "unknown key" } },
    { STEP "action=restart\nfor=1m\n", { "[step s] for", "fault step" } },
    { STEP "action=restart\nkind=latency\n", { "[step s] kind", "action=clear" } },
    { STEP "action=clear\nkind=slow\n", { "[step s] kind", "'slow'" } },
    { STEP "action=clear\nfor=1m\n", { "[step s] for" } },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *parts[G_N_ELEMENTS (cases[i].parts) + 1] = { NULL };

      memcpy (parts, cases[i].parts, sizeof cases[i].parts);
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].text);
      assert_load_fails (cases[i].text, strlen (cases[i].text), parts);
    }
}

/* Each error above is the only thing wrong: the same texts, mended,
 * load. */
static void
test_errors_mended (void)
{
  static const char *const good[] = {
    "[scenario]\nseed=0\n" STEP "fault=offline\n",
    "[scenario]\nrepeat=true\nlength=1h\n" STEP "fault=offline\n",
    "[scenario]\nlength=100ms\nrepeat=true\n[step s]\nat=0s\nselect=all\naction=restart\n",
    "[scenario]\nlength=30d\n" STEP "fault=offline\n",
    "[scenario]\nname=a b\n" STEP "fault=offline\n",
    "[step s]\nevery=100ms\nselect=all\nfault=offline\n",
    "[step s]\nevery=1m\nselect=all\nfault=offline\nfor=59999ms\n",
    "[scenario]\nlength=10m\nrepeat=true\n[step s]\nat=9m\nselect=all\nfault=offline\nfor=9m59s\n",
    "[scenario]\nlength=10m\nrepeat=true\n[step s]\nat=1m\nevery=4m\nselect=all\nfault=offline\nfor=1m59s\n",
    "[scenario]\nlength=10m\n[step s]\nat=9m59s999ms\nselect=all\nfault=offline\n",
    "[step s]\nat=1s\nselect=name:mockaxe-1\nfault=offline\n",
    "[step s]\nat=1s\nselect=ports:7751-7760,8000\nfault=offline\n",
    "[step s]\nat=1s\nselect=ports:7751-7760,7761\nfault=offline\n",
    "[step s]\nat=1s\nselect=ports:1-65535\nfault=offline\n",
    "[step s]\nat=1s\nselect=share:0%\nfault=offline\n",
    "[step s]\nat=1s\nselect=share:100%\nfault=offline\n",
    "[step s]\nat=1s\nselect=share:100.00%\nfault=offline\n",
    "[step s]\nat=1s\nselect=share:0.01%\nfault=offline\n",
    "[step s]\nat=30d\nselect=all\nfault=offline\n",
    STEP "fault=latency\nms=60000\n",
    STEP "action=clear\nkind=overheat\n",
    /* A '#' after a value is part of the value: here part of a text. */
    STEP "fault=power-fault\nmessage=Fault #3\n",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(PmScenario) scenario = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, good[i]);
      scenario = load_ok (good[i]);
    }
}

/* Keys that are not the step's own are the fault's parameters, and the
 * fault checks them: an inline comment is not one. */
static void
test_inline_comment (void)
{
  assert_load_fails (STEP "fault=latency\nms=2000   # two seconds\n", strlen (STEP "fault=latency\nms=2000   # two seconds\n"),
                     (const char *const[]) { "[step s]", "ms", "'2000   # two seconds'", NULL });
}

static void
test_limits (void)
{
  GString *text = g_string_new (NULL);
  g_autofree char *big = NULL;
  guint i;

  for (i = 0; i < PM_SCENARIO_MAX_STEPS; i++)
    g_string_append_printf (text, "[step %u]\nat=%us\nselect=all\nfault=offline\n", i, i);
  {
    g_autoptr(PmScenario) scenario = load_ok (text->str);

    g_assert_cmpuint (pm_scenario_get_n_steps (scenario), ==, PM_SCENARIO_MAX_STEPS);
  }
  g_string_append (text, "[step one-more]\nat=1s\nselect=all\nfault=offline\n");
  assert_load_fails (text->str, text->len, (const char *const[]) { "more than 1000 steps", NULL });
  g_string_free (text, TRUE);

  /* Too large, whatever it holds. */
  big = g_strnfill (PM_SCENARIO_MAX_BYTES + 1, '#');
  assert_load_fails (big, PM_SCENARIO_MAX_BYTES + 1, (const char *const[]) { "bytes", NULL });

  /* Not text. */
  assert_load_fails (STEP "fault=offline\n\0x", sizeof (STEP "fault=offline\n\0x") - 1,
                     (const char *const[]) { "NUL", NULL });
  assert_load_fails (STEP "fault=power-fault\nmessage=caf\xe9\n", strlen (STEP "fault=power-fault\nmessage=caf\xe9\n"),
                     (const char *const[]) { "the scenario is not UTF-8", NULL });
  assert_load_fails ("# caf\xe9\n" STEP "fault=offline\n", strlen ("# caf\xe9\n" STEP "fault=offline\n"),
                     (const char *const[]) { "the scenario is not UTF-8", NULL });

  /* A group given twice is not merged, even far apart. */
  {
    const char *twice = "[step a]\nat=1s\nselect=all\n[step b]\nat=1s\nselect=all\nfault=offline\n  [step a]\nfault=offline\n";

    assert_load_fails (twice, strlen (twice),
                       (const char *const[]) { "[step a]", "twice", NULL });
  }

  /* A name or a description of 1024 bytes, not one more. */
  {
    g_autofree char *longest = g_strnfill (PM_SCENARIO_MAX_TEXT_BYTES, 'n');
    g_autofree char *too_long = g_strnfill (PM_SCENARIO_MAX_TEXT_BYTES + 1, 'n');
    const char *const keys[] = { "name", "description" };
    gsize k;

    for (k = 0; k < G_N_ELEMENTS (keys); k++)
      {
        g_autofree char *ok_text = g_strdup_printf ("[scenario]\n%s=%s\n" STEP "fault=offline\n", keys[k], longest);
        g_autofree char *bad_text = g_strdup_printf ("[scenario]\n%s=%s\n" STEP "fault=offline\n", keys[k], too_long);
        g_autofree char *where = g_strdup_printf ("[scenario] %s", keys[k]);
        g_autoptr(PmScenario) scenario = load_ok (ok_text);

        if (k == 0)
          g_assert_cmpuint (strlen (pm_scenario_get_name (scenario)), ==, PM_SCENARIO_MAX_TEXT_BYTES);
        else
          g_assert_cmpuint (strlen (pm_scenario_get_description (scenario)), ==, PM_SCENARIO_MAX_TEXT_BYTES);
        assert_load_fails (bad_text, strlen (bad_text),
                           (const char *const[]) { where, "longer than 1024 bytes", NULL });
      }
  }
}

/* @header, then @n steps: [step I], at=I ms and @body. */
static char *
repeat_steps (guint       n,
              const char *header,
              const char *body)
{
  GString *text = g_string_new (header);
  guint i;

  for (i = 0; i < n; i++)
    g_string_append_printf (text, "[step %u]\nat=%ums\n%s", i, i, body);
  return g_string_free (text, FALSE);
}

/* The steps that repeat may fire 100 times a second in all, not more;
 * steps that fire once do not count. */
static void
test_firing_rate (void)
{
  static const struct
  {
    guint       n;
    const char *header;
    const char *body;
    const char *rate; /* NULL: it loads */
  } cases[] = {
    /* Ten steps every 100 ms: exactly the limit. */
    { 10, "", "every=100ms\nselect=all\naction=restart\n", NULL },
    { 11, "", "every=100ms\nselect=all\naction=restart\n", "110" },
    { 1000, "", "every=100ms\nselect=all\nfault=offline\n", "10000" },
    /* Thirty steps every 300 ms: 100, whatever the rounding. */
    { 30, "", "every=300ms\nselect=all\naction=restart\n", NULL },
    { 31, "", "every=300ms\nselect=all\naction=restart\n", "103.33" },
    /* Steps that fire once, as many as there may be. */
    { 1000, "", "select=all\naction=restart\n", NULL },
    /* A repeating scenario: each pass over the length fires every step. */
    { 10, "[scenario]\nlength=100ms\nrepeat=true\n", "select=all\naction=restart\n", NULL },
    { 11, "[scenario]\nlength=100ms\nrepeat=true\n", "select=all\naction=restart\n", "110" },
    { 1000, "[scenario]\nlength=1s\nrepeat=true\n", "select=all\naction=restart\n", "1000" },
    /* Five firings a pass of 100 ms, and one step more. */
    { 20, "[scenario]\nlength=1s\nrepeat=true\n", "every=200ms\nselect=all\naction=restart\n", NULL },
    { 21, "[scenario]\nlength=1s\nrepeat=true\n", "every=200ms\nselect=all\naction=restart\n", "105" },
    /* A length without repeat: every= says the rate. */
    { 11, "[scenario]\nlength=10s\n", "every=100ms\nselect=all\naction=restart\n", "110" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = repeat_steps (cases[i].n, cases[i].header, cases[i].body);

      g_test_message ("case %" G_GSIZE_FORMAT ": %u steps", i, cases[i].n);
      if (cases[i].rate == NULL)
        {
          g_autoptr(PmScenario) scenario = load_ok (text);

          g_assert_cmpuint (pm_scenario_get_n_steps (scenario), ==, cases[i].n);
        }
      else
        {
          g_autofree char *says = g_strdup_printf ("would fire %s times a second", cases[i].rate);

          assert_load_fails (text, strlen (text),
                             (const char *const[]) { says, "more than the limit of 100", NULL });
        }
    }
}

/* The VmRSS of this process in KiB, or -1 where /proc does not say. */
static gint64
rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "\nVmRSS:");
  if (line == NULL)
    return -1;
  return g_ascii_strtoll (line + strlen ("\nVmRSS:"), NULL, 10);
}

/* A step's ports are kept as the ranges written, not as a list of every
 * port: 1000 steps of ports:1-65535 are 65 million ports, a few
 * kilobytes of ranges. */
static void
test_port_ranges (void)
{
  g_autofree char *text = repeat_steps (PM_SCENARIO_MAX_STEPS, "",
                                        "select=ports:1-65535\naction=restart\n");
  g_autoptr(PmScenario) scenario = NULL;
  g_autoptr(PmScenario) merged = NULL;
  const PmScenarioStep *step;
  gint64 rss_before = rss_kib ();
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;
  guint i;

  scenario = load_ok (text);
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("%d steps of ports:1-65535: loaded in %" G_GINT64_FORMAT " us, RSS %" G_GINT64_FORMAT
                  " KiB more", PM_SCENARIO_MAX_STEPS, elapsed, rss_kib () - rss_before);
  for (i = 0; i < pm_scenario_get_n_steps (scenario); i++)
    {
      step = pm_scenario_get_step (scenario, i);
      g_assert_cmpuint (step->port_ranges->len, ==, 1);
    }
  /* A list of every port took 262 MB here: 4 bytes a port. */
  if (rss_before >= 0)
    g_assert_cmpint (rss_kib () - rss_before, <, 32 * 1024);
  else
    g_test_message ("no VmRSS in /proc/self/status: memory not checked");
  /* It took 0.9 s; a loaded machine is allowed much slower than now. */
  g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);

  /* Ranges that touch are one; the order written does not matter. */
  merged = load_ok ("[step s]\nat=1s\nselect=ports:8001,7760,7751-7753,7754,8000\naction=restart\n");
  step = pm_scenario_get_step (merged, 0);
  g_assert_cmpuint (step->port_ranges->len, ==, 3);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 0).first, ==, 7751);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 0).last, ==, 7754);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 1).first, ==, 7760);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 1).last, ==, 7760);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 2).first, ==, 8000);
  g_assert_cmpuint (g_array_index (step->port_ranges, PmScenarioPortRange, 2).last, ==, 8001);
}

/* Picking a fleet of 1000 from a list of 100 000 names costs one lookup
 * a device (well under a millisecond), not one comparison a name and a
 * device (a quarter of a second and more a firing). */
static void
test_select_many_names (void)
{
  const guint n_names = 100000, n_devices = 1000;
  GString *text = g_string_new ("[step many]\nat=1s\nselect=names:");
  g_autoptr(PmScenario) scenario = NULL;
  g_autofree PmScenarioDevice *fleet = g_new0 (PmScenarioDevice, n_devices);
  g_autoptr(GPtrArray) hostnames = g_ptr_array_new_with_free_func (g_free);
  gint64 fastest = G_MAXINT64;
  guint i, run;

  /* Every tenth device named, in upper case, among names of no device. */
  for (i = 0; i < n_names; i++)
    {
      if (i < n_devices / 10)
        g_string_append_printf (text, "%sMOCKAXE%u", i > 0 ? "," : "", i * 10 + 1);
      else
        g_string_append_printf (text, ",x%u", i);
    }
  g_string_append (text, "\naction=restart\n");
  g_assert_cmpuint (text->len, <=, PM_SCENARIO_MAX_BYTES);
  scenario = load_ok (text->str);
  g_string_free (text, TRUE);

  for (i = 0; i < n_devices; i++)
    {
      g_ptr_array_add (hostnames, g_strdup_printf ("mockaxe%u", i + 1));
      fleet[i].port = 10000 + i;
      fleet[i].hostname = g_ptr_array_index (hostnames, i);
      fleet[i].profile = "axeos-gamma";
    }

  /* The fastest of three: a loaded machine may stall any one. */
  for (run = 0; run < 3; run++)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr(GPtrArray) picked = pm_scenario_select (pm_scenario_get_step (scenario, 0), fleet, n_devices, 1, 0);
      gint64 elapsed = g_get_monotonic_time () - start;

      fastest = MIN (fastest, elapsed);
      g_assert_cmpuint (picked->len, ==, n_devices / 10);
      for (i = 0; i < picked->len; i++)
        g_assert_true ((const PmScenarioDevice *) g_ptr_array_index (picked, i) == &fleet[i * 10]);
    }
  g_test_message ("%u names, %u devices: %" G_GINT64_FORMAT " us a firing", n_names, n_devices, fastest);
  g_assert_cmpint (fastest, <, 25 * 1000);
}

static void
test_from_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-scenario-XXXXXX", &error);
  g_autoptr(PmScenario) missing = NULL;
  g_autofree char *path = NULL;
  g_autoptr(PmScenario) bad = NULL;

  g_assert_no_error (error);
  missing = pm_scenario_new_from_file ("/nonexistent/dir/x.ini", &error);
  g_assert_null (missing);
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "/nonexistent/dir/x.ini"));
  g_clear_error (&error);

  path = g_build_filename (dir, "bad.ini", NULL);
  g_assert_true (g_file_set_contents (path, STEP "fault=nope\n", -1, &error));
  bad = pm_scenario_new_from_file (path, &error);
  g_assert_null (bad);
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, "[step s]"));
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* ---- Selection ---------------------------------------------------------- */

#define N_FLEET 40

typedef struct
{
  PmScenarioDevice devices[N_FLEET];
  char            *names[N_FLEET];
} Fleet;

static void
fleet_init (Fleet *fleet,
            guint  n)
{
  static const char *const profiles[] = { "pluto-legacy", "axeos-gamma", "nerdqaxe-plus" };
  guint i;

  g_assert_cmpuint (n, <=, N_FLEET);
  for (i = 0; i < n; i++)
    {
      fleet->names[i] = g_strdup_printf ("mockaxe%u", i + 1);
      fleet->devices[i].port = 7751 + i;
      fleet->devices[i].hostname = fleet->names[i];
      fleet->devices[i].profile = profiles[i % G_N_ELEMENTS (profiles)];
    }
}

static void
fleet_clear (Fleet *fleet)
{
  guint i;

  for (i = 0; i < N_FLEET; i++)
    g_clear_pointer (&fleet->names[i], g_free);
}

/* The ports of what pm_scenario_select() picked, in its order. */
static char *
picked_ports (const PmScenarioStep *step,
              const Fleet          *fleet,
              guint                 n,
              guint64               seed,
              guint64               firing)
{
  g_autoptr(GPtrArray) picked = pm_scenario_select (step, fleet->devices, n, seed, firing);
  GString *ports = g_string_new (NULL);
  guint i;

  for (i = 0; i < picked->len; i++)
    {
      const PmScenarioDevice *device = g_ptr_array_index (picked, i);

      /* Pointers into the array given, in its order. */
      g_assert_true (device >= fleet->devices && device < fleet->devices + n);
      if (i > 0)
        g_assert_true (device > (const PmScenarioDevice *) g_ptr_array_index (picked, i - 1));
      g_string_append_printf (ports, "%s%u", i > 0 ? "," : "", device->port);
    }
  return g_string_free (ports, FALSE);
}

static PmScenario *
load_step (const char *select)
{
  g_autofree char *text = g_strdup_printf ("[step pick]\nat=1s\nselect=%s\naction=restart\n", select);

  return load_ok (text);
}

static void
test_select_fixed (void)
{
  static const struct
  {
    const char *select;
    const char *ports;
  } cases[] = {
    { "all", "7751,7752,7753,7754,7755,7756" },
    { "name:mockaxe3", "7753" },
    { "name:MOCKAXE3", "7753" },
    { "name:mockaxe99", "" },
    { "names:mockaxe5,mockaxe1,nobody", "7751,7755" },
    { "port:7754", "7754" },
    { "port:9999", "" },
    { "ports:7752-7754,7756", "7752,7753,7754,7756" },
    { "ports:7756,7751-7752,7753", "7751,7752,7753,7756" },
    { "ports:7754-7755,7751", "7751,7754,7755" },
    { "ports:1-7751,7756-65535", "7751,7756" },
    { "names:MOCKAXE6,mockaxe2,MockAxe2", "7752,7756" },
    { "profile:axeos-gamma", "7752,7755" },
    { "profile:axeos-supra", "" },
  };
  Fleet fleet = { 0 };
  gsize i;

  fleet_init (&fleet, 6);
  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PmScenario) scenario = load_step (cases[i].select);
      const PmScenarioStep *step = pm_scenario_get_step (scenario, 0);
      g_autofree char *ports = picked_ports (step, &fleet, 6, 1, 0);
      g_autofree char *other_seed = picked_ports (step, &fleet, 6, 2, 5);

      g_test_message ("%s", cases[i].select);
      g_assert_cmpstr (ports, ==, cases[i].ports);
      /* The seed and the firing play no part. */
      g_assert_cmpstr (other_seed, ==, cases[i].ports);
    }
  fleet_clear (&fleet);
}

static guint
count_picked (const PmScenarioStep *step,
              const Fleet          *fleet,
              guint                 n,
              guint64               seed)
{
  g_autoptr(GPtrArray) picked = pm_scenario_select (step, fleet->devices, n, seed, 0);

  return picked->len;
}

/* A share picks the share of the fleet rounded up, exactly. */
static void
test_select_share_count (void)
{
  static const struct
  {
    const char *select;
    guint       n;
    guint       expected;
  } cases[] = {
    { "share:0%", 40, 0 },
    { "share:20%", 10, 2 },
    { "share:20%", 11, 3 },
    { "share:7%", 40, 3 },
    { "share:12.5%", 8, 1 },
    { "share:12.5%", 9, 2 },
    { "share:0.01%", 40, 1 },
    { "share:50%", 1, 1 },
    { "share:100%", 40, 40 },
    { "share:99.99%", 40, 40 },
    { "share:25%", 40, 10 },
    { "share:30%", 10, 3 },
    { "share:20%", 0, 0 },
  };
  Fleet fleet = { 0 };
  gsize i;

  fleet_init (&fleet, N_FLEET);
  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PmScenario) scenario = load_step (cases[i].select);

      g_test_message ("%s of %u", cases[i].select, cases[i].n);
      g_assert_cmpuint (count_picked (pm_scenario_get_step (scenario, 0), &fleet, cases[i].n, 7), ==, cases[i].expected);
    }
  /* 7% of 100 is 7, not 8: no rounding error in the way. */
  {
    PmScenarioDevice hundred[100];
    g_autoptr(PmScenario) scenario = load_step ("share:7%");
    g_autoptr(GPtrArray) picked = NULL;

    for (i = 0; i < 100; i++)
      {
        hundred[i].port = 1000 + (guint) i;
        hundred[i].hostname = "x";
        hundred[i].profile = "axeos-gamma";
      }
    picked = pm_scenario_select (pm_scenario_get_step (scenario, 0), hundred, 100, 3, 0);
    g_assert_cmpuint (picked->len, ==, 7);
  }
  fleet_clear (&fleet);
}

/* The same seed picks the same devices; another seed, another firing or
 * another step name picks others. */
static void
test_select_share_seeded (void)
{
  g_autoptr(PmScenario) scenario = load_step ("share:20%");
  g_autoptr(PmScenario) renamed = load_ok ("[step other]\nat=1s\nselect=share:20%\naction=restart\n");
  const PmScenarioStep *step = pm_scenario_get_step (scenario, 0);
  Fleet fleet = { 0 };
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;
  g_autofree char *reloaded = NULL;
  guint64 seed;
  guint differ_seed = 0, differ_firing = 0, differ_name = 0;

  fleet_init (&fleet, N_FLEET);
  first = picked_ports (step, &fleet, N_FLEET, 7, 0);
  again = picked_ports (step, &fleet, N_FLEET, 7, 0);
  g_assert_cmpstr (first, ==, again);
  {
    g_autoptr(PmScenario) same = load_step ("share:20%");

    reloaded = picked_ports (pm_scenario_get_step (same, 0), &fleet, N_FLEET, 7, 0);
    g_assert_cmpstr (first, ==, reloaded);
  }

  for (seed = 100; seed < 120; seed++)
    {
      g_autofree char *a = picked_ports (step, &fleet, N_FLEET, seed, 0);
      g_autofree char *b = picked_ports (step, &fleet, N_FLEET, seed + 1, 0);
      g_autofree char *c = picked_ports (step, &fleet, N_FLEET, seed, 1);
      g_autofree char *d = picked_ports (pm_scenario_get_step (renamed, 0), &fleet, N_FLEET, seed, 0);
      g_autofree char *a_again = picked_ports (step, &fleet, N_FLEET, seed, 0);

      g_assert_cmpstr (a, ==, a_again);
      differ_seed += strcmp (a, b) != 0;
      differ_firing += strcmp (a, c) != 0;
      differ_name += strcmp (a, d) != 0;
    }
  /* Two draws of 8 out of 40 agree once in 76 904 685. */
  g_assert_cmpuint (differ_seed, ==, 20);
  g_assert_cmpuint (differ_firing, ==, 20);
  g_assert_cmpuint (differ_name, ==, 20);

  /* The order of the fleet does not matter. */
  {
    PmScenarioDevice reversed[N_FLEET];
    g_autoptr(GPtrArray) picked = NULL;
    g_autoptr(GPtrArray) sorted = g_ptr_array_new_with_free_func (g_free);
    GString *ports = g_string_new (NULL);
    g_autofree char *joined = NULL;
    guint i;

    for (i = 0; i < N_FLEET; i++)
      reversed[i] = fleet.devices[N_FLEET - 1 - i];
    picked = pm_scenario_select (step, reversed, N_FLEET, 7, 0);
    for (i = picked->len; i > 0; i--)
      g_string_append_printf (ports, "%s%u", i < picked->len ? "," : "",
                              ((const PmScenarioDevice *) g_ptr_array_index (picked, i - 1))->port);
    joined = g_string_free (ports, FALSE);
    g_assert_cmpstr (joined, ==, first);
  }
  fleet_clear (&fleet);
}

/* Over many seeds every device is picked about as often as the share
 * says: the ranking has no favourites. */
static void
test_select_share_fair (void)
{
  g_autoptr(PmScenario) scenario = load_step ("share:25%");
  const PmScenarioStep *step = pm_scenario_get_step (scenario, 0);
  guint counts[N_FLEET] = { 0 };
  Fleet fleet = { 0 };
  guint64 seed;
  guint i;
  const guint n_seeds = 4000;

  fleet_init (&fleet, N_FLEET);
  for (seed = 0; seed < n_seeds; seed++)
    {
      g_autoptr(GPtrArray) picked = pm_scenario_select (step, fleet.devices, N_FLEET, seed, 0);

      g_assert_cmpuint (picked->len, ==, 10);
      for (i = 0; i < picked->len; i++)
        counts[(const PmScenarioDevice *) g_ptr_array_index (picked, i) - fleet.devices]++;
    }
  /* 1000 each, standard deviation about 27. */
  for (i = 0; i < N_FLEET; i++)
    {
      g_assert_cmpuint (counts[i], >, 1000 - 150);
      g_assert_cmpuint (counts[i], <, 1000 + 150);
    }
  fleet_clear (&fleet);
}

/* ---- Timeline ----------------------------------------------------------- */

typedef struct
{
  gint64   time_ms;
  gboolean end;
  guint    step_index;
  guint64  firing;
} Event;

static gint
compare_events (gconstpointer a,
                gconstpointer b)
{
  const Event *ea = a, *eb = b;

  if (ea->time_ms != eb->time_ms)
    return ea->time_ms < eb->time_ms ? -1 : 1;
  if (ea->end != eb->end)
    return ea->end ? -1 : 1;
  if (ea->step_index != eb->step_index)
    return ea->step_index < eb->step_index ? -1 : 1;
  return (ea->firing > eb->firing) - (ea->firing < eb->firing);
}

/* Every event before @horizon_ms, from the step fields alone: firings by
 * adding the period, pass after pass of a repeating scenario. */
static GArray *
expand (PmScenario *scenario,
        gint64      horizon_ms)
{
  GArray *events = g_array_new (FALSE, FALSE, sizeof (Event));
  gint64 length = pm_scenario_get_length_ms (scenario);
  gboolean repeat = pm_scenario_get_repeat (scenario);
  guint i;

  for (i = 0; i < pm_scenario_get_n_steps (scenario); i++)
    {
      const PmScenarioStep *step = pm_scenario_get_step (scenario, i);
      guint64 firing = 0;
      gint64 pass_start;

      for (pass_start = 0; pass_start < horizon_ms; pass_start += length)
        {
          gint64 t;

          for (t = step->at_ms; length == 0 || t < length; t += step->every_ms)
            {
              Event start = { pass_start + t, FALSE, i, firing };

              if (start.time_ms >= horizon_ms)
                break;
              g_array_append_val (events, start);
              if (step->duration_ms > 0)
                {
                  Event end = { start.time_ms + step->duration_ms, TRUE, i, firing };

                  if (end.time_ms < horizon_ms)
                    g_array_append_val (events, end);
                }
              firing++;
              if (step->every_ms == 0)
                break;
            }
          if (!repeat)
            break;
        }
    }
  g_array_sort (events, compare_events);
  return events;
}

/* The iterator from @from_ms gives exactly the expansion's events at or
 * after @from_ms, up to @horizon_ms. */
static void
assert_timeline (PmScenario *scenario,
                 gint64      from_ms,
                 gint64      horizon_ms,
                 gboolean    finite)
{
  g_autoptr(GArray) expected = expand (scenario, horizon_ms);
  g_autoptr(PmScenarioIter) iter = pm_scenario_iter_new (scenario, from_ms);
  PmScenarioEvent event;
  guint i = 0, checked = 0;
  gboolean more = FALSE;

  while (i < expected->len && g_array_index (expected, Event, i).time_ms < from_ms)
    i++;
  for (; i < expected->len; i++)
    {
      const Event *want = &g_array_index (expected, Event, i);

      g_assert_true (pm_scenario_iter_next (iter, &event));
      g_assert_cmpint (event.time_ms, ==, want->time_ms);
      g_assert_cmpint (event.end, ==, want->end);
      g_assert_cmpuint (event.step_index, ==, want->step_index);
      g_assert_cmpuint (event.firing, ==, want->firing);
      checked++;
    }
  more = pm_scenario_iter_next (iter, &event);
  if (finite)
    g_assert_false (more);
  else
    {
      g_assert_true (more);
      g_assert_cmpint (event.time_ms, >=, horizon_ms);
    }
  g_test_message ("from %" G_GINT64_FORMAT ": %u events", from_ms, checked);
}

/* A small timeline written out by hand. */
static void
test_timeline_by_hand (void)
{
  g_autoptr(PmScenario) scenario = load_ok ("[step slow]\nat=10s\nselect=all\nfault=latency\nms=1\nfor=20s\n"
                                            "[step kick]\nevery=15s\nselect=all\naction=restart\n"
                                            "[step off]\nat=30s\nselect=all\nfault=offline\n");
  static const struct
  {
    gint64      time_ms;
    const char *step;
    guint64     firing;
    gboolean    end;
  } expected[] = {
    { 10000, "slow", 0, FALSE },
    { 15000, "kick", 0, FALSE },
    { 30000, "slow", 0, TRUE },
    { 30000, "kick", 1, FALSE },
    { 30000, "off", 0, FALSE },
    { 45000, "kick", 2, FALSE },
    { 60000, "kick", 3, FALSE },
  };
  g_autoptr(PmScenarioIter) iter = pm_scenario_iter_new (scenario, 0);
  PmScenarioEvent event;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_true (pm_scenario_iter_next (iter, &event));
      g_assert_cmpint (event.time_ms, ==, expected[i].time_ms);
      g_assert_cmpstr (pm_scenario_get_step (scenario, event.step_index)->name, ==, expected[i].step);
      g_assert_cmpuint (event.firing, ==, expected[i].firing);
      g_assert_cmpint (event.end, ==, expected[i].end);
    }
}

static void
test_timeline_once (void)
{
  g_autoptr(PmScenario) scenario = load_ok ("[step c]\nat=1m\nselect=all\naction=clear\n"
                                            "[step a]\nat=0\nselect=all\nfault=offline\nfor=90s\n"
                                            "[step b]\nat=30s\nselect=all\nfault=ws-silent\nfor=30s\n"
                                            "[step d]\nat=1m\nselect=all\nfault=pool-down\n"
                                            "[step e]\nat=30s\nselect=all\nfault=fan-failure\nfor=60s\n");
  gint64 from;

  /* Finite: every event, and then no more. */
  for (from = -1000; from <= 100000; from += 500)
    assert_timeline (scenario, from, 200000, TRUE);
}

static void
test_timeline_every (void)
{
  g_autoptr(PmScenario) scenario = load_ok ("[step tick]\nevery=7s\nselect=all\nfault=offline\nfor=3s\n"
                                            "[step tock]\nat=2s\nevery=5s\nselect=all\naction=restart\n"
                                            "[step once]\nat=35s\nselect=all\nfault=ws-silent\nfor=1s\n"
                                            "[step fast]\nat=1s\nevery=100ms\nselect=all\naction=clear\n");
  gint64 from;

  for (from = 0; from <= 60000; from += 250)
    assert_timeline (scenario, from, 120000, FALSE);
}

/* A length without repeat: nothing starts at or after it. */
static void
test_timeline_length (void)
{
  g_autoptr(PmScenario) scenario = load_ok ("[scenario]\nlength=1m\n"
                                            "[step tick]\nevery=7s\nselect=all\nfault=offline\nfor=3s\n"
                                            "[step last]\nat=59s\nselect=all\nfault=ws-silent\nfor=5s\n");
  g_autoptr(PmScenarioIter) iter = pm_scenario_iter_new (scenario, 0);
  PmScenarioEvent event;
  gint64 from, last = 0;

  for (from = 0; from <= 70000; from += 500)
    assert_timeline (scenario, from, 600000, TRUE);
  while (pm_scenario_iter_next (iter, &event))
    {
      if (!event.end)
        g_assert_cmpint (event.time_ms, <, 60000);
      last = event.time_ms;
    }
  /* The end of a fault set before the length still comes. */
  g_assert_cmpint (last, ==, 64000);
}

/* A repeating scenario starts over at its length, forever. */
static void
test_timeline_repeat (void)
{
  g_autoptr(PmScenario) scenario = load_ok ("[scenario]\nlength=50s\nrepeat=true\n"
                                            "[step tick]\nat=3s\nevery=13s\nselect=all\nfault=offline\nfor=5s\n"
                                            "[step once]\nat=49s\nselect=all\nfault=ws-silent\nfor=3s\n"
                                            "[step zero]\nat=0\nselect=all\naction=clear\n");
  gint64 from;

  for (from = -50; from <= 200000; from += 1250)
    assert_timeline (scenario, from, 400000, FALSE);

  /* Firing numbers run on across passes. */
  {
    g_autoptr(PmScenarioIter) iter = pm_scenario_iter_new (scenario, 0);
    PmScenarioEvent event;
    guint64 zero_firings = 0;

    while (pm_scenario_iter_next (iter, &event) && event.time_ms < 500000)
      {
        if (strcmp (pm_scenario_get_step (scenario, event.step_index)->name, "zero") == 0)
          {
            g_assert_cmpint (event.time_ms, ==, (gint64) zero_firings * 50000);
            g_assert_cmpuint (event.firing, ==, zero_firings);
            zero_firings++;
          }
      }
    g_assert_cmpuint (zero_firings, ==, 10);
  }
}

/* An iterator holds its scenario. */
static void
test_iter_holds_scenario (void)
{
  PmScenario *scenario = load_ok ("[step a]\nevery=1s\nselect=all\nfault=offline\n");
  g_autoptr(PmScenarioIter) iter = pm_scenario_iter_new (scenario, 0);
  PmScenarioEvent event;

  pm_scenario_unref (scenario);
  g_assert_true (pm_scenario_iter_next (iter, &event));
  g_assert_cmpint (event.time_ms, ==, 1000);
  g_assert_true (pm_scenario_iter_next (iter, &event));
  g_assert_cmpint (event.time_ms, ==, 2000);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scenario/examples", test_examples);
  g_test_add_func ("/scenario/example-contents", test_example_contents);
  g_test_add_func ("/scenario/parse/full", test_parse_full);
  g_test_add_func ("/scenario/parse/minimal", test_parse_minimal);
  g_test_add_func ("/scenario/parse/durations", test_durations);
  g_test_add_func ("/scenario/parse/errors", test_errors);
  g_test_add_func ("/scenario/parse/errors-mended", test_errors_mended);
  g_test_add_func ("/scenario/parse/inline-comment", test_inline_comment);
  g_test_add_func ("/scenario/parse/limits", test_limits);
  g_test_add_func ("/scenario/parse/firing-rate", test_firing_rate);
  g_test_add_func ("/scenario/parse/port-ranges", test_port_ranges);
  g_test_add_func ("/scenario/parse/from-file", test_from_file);
  g_test_add_func ("/scenario/select/fixed", test_select_fixed);
  g_test_add_func ("/scenario/select/share-count", test_select_share_count);
  g_test_add_func ("/scenario/select/share-seeded", test_select_share_seeded);
  g_test_add_func ("/scenario/select/share-fair", test_select_share_fair);
  g_test_add_func ("/scenario/select/many-names", test_select_many_names);
  g_test_add_func ("/scenario/timeline/by-hand", test_timeline_by_hand);
  g_test_add_func ("/scenario/timeline/once", test_timeline_once);
  g_test_add_func ("/scenario/timeline/every", test_timeline_every);
  g_test_add_func ("/scenario/timeline/length", test_timeline_length);
  g_test_add_func ("/scenario/timeline/repeat", test_timeline_repeat);
  g_test_add_func ("/scenario/timeline/iter-holds-scenario", test_iter_holds_scenario);

  return g_test_run ();
}
