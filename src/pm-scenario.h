/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-fault.h"

G_BEGIN_DECLS

/*
 * A scenario: faults and actions on a timeline, written as a key file.
 *
 *     [scenario]
 *     name=Friday afternoon
 *     seed=7
 *
 *     [step slow]
 *     at=10s
 *     select=share:20%
 *     fault=latency
 *     ms=2000
 *     for=60s
 *
 *     [step kick]
 *     every=5m
 *     select=name:mockaxe7
 *     action=restart
 *
 * [scenario] is optional; its keys, all optional, are:
 *   name=TEXT         what the scenario is called
 *   description=TEXT  what it does
 *   seed=N            the seed of every draw (0 to 2^64-1); without it
 *                     the daemon's own seed is used
 *   length=DURATION   how long the scenario lasts: no step starts at or
 *                     after it (clears due to for= still come)
 *   repeat=BOOL       whether the timeline starts over at `length`,
 *                     forever; needs `length`; default false
 * Any other key there is an error.
 *
 * Every other group is a step, [step NAME], NAME being any text (a step's
 * identity: it seeds the step's share draws).  At most
 * %PM_SCENARIO_MAX_STEPS steps, at least one.  A step has:
 *   at=DURATION       when it first fires, from the scenario's start
 *   every=DURATION    fire again each DURATION (at least
 *                     %PM_SCENARIO_MIN_EVERY_MS); first at `at` if given,
 *                     else after one period
 *                     (at least one of at= and every= is needed)
 *   select=SELECTOR   which devices (required):
 *                       all
 *                       name:HOSTNAME          names:HOSTNAME,HOSTNAME,...
 *                       port:PORT              ports:7751-7760,7770
 *                       profile:PROFILE        e.g. profile:axeos-gamma
 *                       share:PERCENT%         e.g. share:12.5%: that share
 *                                              of the fleet, rounded up,
 *                                              drawn afresh at each firing
 *   and either
 *     fault=KIND      set a fault (see PmFaultKind for the kinds); every
 *                     other key of the group is one of the fault's
 *                     parameters, e.g. ms=2000, checked as
 *                     pm_fault_new_from_strings() checks them
 *     for=DURATION    optional: clear that fault again after DURATION,
 *                     shorter than `every` when both are given
 *   or
 *     action=restart  restart the devices (a power cycle)
 *     action=clear    clear their faults; with kind=KIND only that kind
 * A DURATION is a whole number and a unit, ms, s, m, h or d, or a sum of
 * such terms without blanks such as 1m30s; 0 alone is allowed too.  No
 * time may exceed %PM_SCENARIO_MAX_TIME_MS (30 days).
 *
 * The steps that fire again and again (every=, or any step of a scenario
 * that repeats) may together fire at most %PM_SCENARIO_MAX_FIRINGS_PER_S
 * times a second, counted over the long run: each step with every= as
 * 1000 / every= in ms, each step of a repeating scenario as its firings
 * in one pass over the length.
 *
 * Lines starting with '#' are comments; a '#' after a value is part of
 * the value.  A group or a key given twice is an error, as is a key
 * another kind of step does not take.  Every check is made when the file
 * is loaded: a scenario that loads runs without surprises.
 */

/* The most steps one scenario may have. */
#define PM_SCENARIO_MAX_STEPS 1000
/* The latest a time in a scenario may be: 30 days, in milliseconds. */
#define PM_SCENARIO_MAX_TIME_MS (G_GINT64_CONSTANT (30) * 24 * 3600 * 1000)
/* The shortest period of a repeating step, in milliseconds. */
#define PM_SCENARIO_MIN_EVERY_MS 100
/* The most firings a second the repeating steps of a scenario may ask for
 * in all.  A firing costs a pass over the fleet, and with 1000 steps the
 * 100 ms floor alone would allow 10 000 a second: more than a main loop
 * that also serves the fleet's HTTP can spare. */
#define PM_SCENARIO_MAX_FIRINGS_PER_S 100
/* The largest scenario text, in bytes. */
#define PM_SCENARIO_MAX_BYTES (1024 * 1024)
/* The longest name or description, in bytes. */
#define PM_SCENARIO_MAX_TEXT_BYTES 1024

/**
 * PmScenarioSelector:
 * @PM_SCENARIO_SELECT_ALL: every device
 * @PM_SCENARIO_SELECT_NAMES: the devices named in `names`
 * @PM_SCENARIO_SELECT_PORTS: the devices on the ports in `ports`
 * @PM_SCENARIO_SELECT_PROFILE: the devices of the profile `profile`
 * @PM_SCENARIO_SELECT_SHARE: a seeded draw of `share_bp` basis points of
 *   the devices
 */
typedef enum
{
  PM_SCENARIO_SELECT_ALL,
  PM_SCENARIO_SELECT_NAMES,
  PM_SCENARIO_SELECT_PORTS,
  PM_SCENARIO_SELECT_PROFILE,
  PM_SCENARIO_SELECT_SHARE,
} PmScenarioSelector;

/**
 * PmScenarioAction:
 * @PM_SCENARIO_ACTION_FAULT: set `fault`
 * @PM_SCENARIO_ACTION_RESTART: restart the devices
 * @PM_SCENARIO_ACTION_CLEAR: clear the devices' faults of `clear_kind`,
 *   or all of them if it is %PM_FAULT_N_KINDS
 */
typedef enum
{
  PM_SCENARIO_ACTION_FAULT,
  PM_SCENARIO_ACTION_RESTART,
  PM_SCENARIO_ACTION_CLEAR,
} PmScenarioAction;

/**
 * PmScenarioPortRange:
 * @first: its first port
 * @last: its last port, @first or more
 *
 * Ports from @first to @last, both included.
 */
typedef struct
{
  guint first;
  guint last;
} PmScenarioPortRange;

/**
 * PmScenarioStep:
 * @name: NAME of its group, [step NAME]
 * @at_ms: when it first fires, in ms from the scenario's start
 * @every_ms: its period, or 0 if it fires once
 * @duration_ms: how long its fault lasts, or 0 for until cleared
 * @select_text: its selector as written, for messages
 * @selector: how it picks devices
 * @names: (array zero-terminated=1): %PM_SCENARIO_SELECT_NAMES: hostnames,
 *   as written
 * @name_set: %PM_SCENARIO_SELECT_NAMES: the same hostnames as a set whose
 *   lookups ignore ASCII case, so that matching a device costs one lookup
 *   however many names there are
 * @port_ranges: (element-type PmScenarioPortRange):
 *   %PM_SCENARIO_SELECT_PORTS: the ports, as ranges in increasing order,
 *   neither overlapping nor touching (7751-7753,7754 is one range): as
 *   many as the text writes at most, whatever the number of ports
 * @profile: %PM_SCENARIO_SELECT_PROFILE: a profile's name
 * @share_bp: %PM_SCENARIO_SELECT_SHARE: the share in hundredths of a
 *   percent, 0 to 10000
 * @action: what it does
 * @fault: %PM_SCENARIO_ACTION_FAULT: the fault it sets
 * @clear_kind: %PM_SCENARIO_ACTION_CLEAR: the kind it clears, or
 *   %PM_FAULT_N_KINDS for all
 *
 * One step, checked.  Fields that do not apply are 0 or %NULL.
 */
typedef struct
{
  char              *name;
  gint64             at_ms;
  gint64             every_ms;
  gint64             duration_ms;
  char              *select_text;
  PmScenarioSelector selector;
  char             **names;
  GHashTable        *name_set;
  GArray            *port_ranges;
  char              *profile;
  guint              share_bp;
  PmScenarioAction   action;
  PmFault           *fault;
  PmFaultKind        clear_kind;
} PmScenarioStep;

/**
 * PmScenarioDevice:
 * @port: its port
 * @hostname: its hostname
 * @profile: its profile's name
 *
 * What pm_scenario_select() needs to know of a device.
 */
typedef struct
{
  guint       port;
  const char *hostname;
  const char *profile;
} PmScenarioDevice;

/**
 * PmScenarioEvent:
 * @time_ms: when, in ms from the scenario's start
 * @step_index: the step, as pm_scenario_get_step() counts
 * @firing: which firing of the step, from 0; an end event has the number
 *   of the firing it ends
 * @end: %FALSE when the step fires, %TRUE when the fault it set at
 *   firing @firing is due to be cleared (steps with a duration only)
 *
 * One event of a scenario's timeline.
 */
typedef struct
{
  gint64   time_ms;
  guint    step_index;
  guint64  firing;
  gboolean end;
} PmScenarioEvent;

typedef struct _PmScenario     PmScenario;
typedef struct _PmScenarioIter PmScenarioIter;

PmScenario *pm_scenario_new_from_data (const char *data,
                                       gsize       length,
                                       GError    **error);
PmScenario *pm_scenario_new_from_file (const char *path,
                                       GError    **error);
PmScenario *pm_scenario_ref (PmScenario *self);
void        pm_scenario_unref (PmScenario *self);

const char *pm_scenario_get_name (const PmScenario *self);
const char *pm_scenario_get_description (const PmScenario *self);
gboolean    pm_scenario_get_seed (const PmScenario *self,
                                  guint64          *out_seed);
gint64      pm_scenario_get_length_ms (const PmScenario *self);
gboolean    pm_scenario_get_repeat (const PmScenario *self);
guint       pm_scenario_get_n_steps (const PmScenario *self);
const PmScenarioStep *pm_scenario_get_step (const PmScenario *self,
                                            guint             index);

GPtrArray *pm_scenario_select (const PmScenarioStep   *step,
                               const PmScenarioDevice *devices,
                               guint                   n_devices,
                               guint64                 seed,
                               guint64                 firing);

PmScenarioIter *pm_scenario_iter_new (PmScenario *scenario,
                                      gint64      from_ms);
gboolean        pm_scenario_iter_next (PmScenarioIter  *iter,
                                       PmScenarioEvent *out_event);
void            pm_scenario_iter_free (PmScenarioIter *iter);

gboolean pm_scenario_parse_duration (const char *text,
                                     gint64     *out_ms,
                                     GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmScenario, pm_scenario_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmScenarioIter, pm_scenario_iter_free)

G_END_DECLS
