/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

#include "pm-scenario.h"

G_BEGIN_DECLS

/*
 * PLUTOMOCK_TIME_SCALE, for tests only: a positive number that scenario
 * time is multiplied by, so that 0.01 runs a scenario 100 times faster
 * (a step at=10s fires after 100 ms).  Read when a runner is made; unset,
 * empty or not a number from 0.0001 to 10000, scenario time is real time.
 */
#define PM_SCENARIO_TIME_SCALE_VARIABLE "PLUTOMOCK_TIME_SCALE"

/* How long, in microseconds, one dispatch of the runner's timer goes on
 * handling events that are due before it lets the main loop run again
 * (and resumes at its next iteration).  A dispatch handles at least one
 * event, so it holds the loop for this long plus one event at most. */
#define PM_SCENARIO_RUNNER_BUDGET_US 5000

#define PM_TYPE_SCENARIO_RUNNER (pm_scenario_runner_get_type ())
G_DECLARE_FINAL_TYPE (PmScenarioRunner, pm_scenario_runner, PM, SCENARIO_RUNNER, GObject)

PmScenarioRunner *pm_scenario_runner_new (PmScenario *scenario,
                                          GListModel *devices,
                                          guint64     seed);

void        pm_scenario_runner_start (PmScenarioRunner *self);
void        pm_scenario_runner_stop (PmScenarioRunner *self);
gboolean    pm_scenario_runner_get_running (PmScenarioRunner *self);
PmScenario *pm_scenario_runner_get_scenario (PmScenarioRunner *self);
guint64     pm_scenario_runner_get_seed (PmScenarioRunner *self);

double pm_scenario_runner_parse_time_scale (const char *text);

G_END_DECLS
