/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-scenario-runner"

#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <glib/gi18n.h>

#include "pm-device.h"
#include "pm-quote.h"
#include "pm-scenario-runner.h"

/**
 * PmScenarioRunner:
 *
 * Plays a #PmScenario against a fleet: one timer on the main loop, set
 * for the next event of the scenario's timeline (pm_scenario_iter_next()),
 * so events come in the timeline's order whatever the fleet's size.
 *
 * A step picks its devices when it fires, from the fleet as it is then
 * (pm_scenario_select(), with the scenario's seed, else the one the
 * runner was made with), and sets its fault on each, restarts each or
 * clears their faults.  A device that cannot take the fault (a miner
 * fault on a device without a simulated miner) or the restart (it is
 * restarting already) is skipped and logged.  A step with `for=` clears
 * its fault again when its time is up, on the devices it set it on.
 * Each firing is logged with g_message(): the step, what it does and to
 * which devices.
 *
 * The runner remembers which faults it set.  A fault is cleared by the
 * runner (at a step's end or when the runner stops) only while it is
 * still the one the runner set: a fault a client has replaced since,
 * or cleared, is left alone.  Stopping the runner clears the faults it
 * set; when the timeline ends by itself the faults set without `for=`
 * stay, as faults set by hand do, and the runner forgets them.
 *
 * Time runs from pm_scenario_runner_start(), multiplied by
 * %PM_SCENARIO_TIME_SCALE_VARIABLE for tests.  A busy main loop delays
 * events but never reorders or drops them.  Events due together are
 * handled in dispatches of about %PM_SCENARIO_RUNNER_BUDGET_US each, in
 * order, with the rest of the main loop served between them.
 *
 * The runner's view of the fleet (what steps pick from) is made once per
 * dispatch, not once per event, and made again within a dispatch only if
 * the fleet changed meanwhile.
 */

/* Who set a fault: a step's firing. */
typedef struct
{
  guint   step;
  guint64 firing;
} Owner;

struct _PmScenarioRunner
{
  GObject          parent_instance;

  PmScenario      *scenario;  /* (owned) */
  GListModel      *devices;   /* (owned) (element-type PmDevice) */
  gulong           items_changed_id;
  /* Whether the fleet changed since the view of it was made. */
  gboolean         fleet_changed;
  guint64          seed;
  double           time_scale;
  char            *label;     /* (owned): the scenario's name for messages */

  gboolean         running;
  PmScenarioIter  *iter;      /* (owned) (nullable) while running */
  PmScenarioEvent  next;
  gboolean         has_next;
  gint64           start_us;
  GSource         *source;    /* (owned) (nullable) while running */

  /* port * PM_FAULT_N_KINDS + kind → Owner (owned): the faults the
   * runner set and has not cleared */
  GHashTable      *owned;     /* (owned) */
};

G_DEFINE_FINAL_TYPE (PmScenarioRunner, pm_scenario_runner, G_TYPE_OBJECT)

typedef enum
{
  PROP_RUNNING = 1,
} PmScenarioRunnerProperty;

static GParamSpec *props[PROP_RUNNING + 1] = { NULL, };

#define OWNED_KEY(port, kind) GUINT_TO_POINTER ((guint) (port) * PM_FAULT_N_KINDS + (guint) (kind))
#define OWNED_PORT(key)       (GPOINTER_TO_UINT (key) / PM_FAULT_N_KINDS)

/* At most this many hostnames in one log line. */
#define MAX_NAMES_SHOWN 10

/**
 * pm_scenario_runner_parse_time_scale:
 * @text: (nullable): the value of %PM_SCENARIO_TIME_SCALE_VARIABLE
 *
 * Returns: the factor @text gives, or 1 if it is %NULL, empty or not a
 *   number from 0.0001 to 10000
 */
double
pm_scenario_runner_parse_time_scale (const char *text)
{
  char *end = NULL;
  double value;

  if (text == NULL || *text == '\0')
    return 1.0;
  value = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (value) || value < 0.0001 || value > 10000)
    {
      g_autofree char *quoted = pm_quote (text, -1);

      g_message ("%s: '%s' is not a time scale from 0.0001 to 10000; scenario time is real time",
                 PM_SCENARIO_TIME_SCALE_VARIABLE, quoted);
      return 1.0;
    }
  return value;
}

/* ---- the fleet when a step fires ----------------------------------------- */

typedef struct
{
  GPtrArray        *devices; /* (owned) (element-type PmDevice) */
  PmScenarioDevice *view;    /* (owned) */
  GHashTable       *by_port; /* (owned): port → PmDevice (unowned) */
} Fleet;

static void
fleet_clear (Fleet *fleet)
{
  g_clear_pointer (&fleet->devices, g_ptr_array_unref);
  g_clear_pointer (&fleet->view, g_free);
  g_clear_pointer (&fleet->by_port, g_hash_table_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Fleet, fleet_clear)

static void
fleet_init (Fleet      *fleet,
            GListModel *model)
{
  guint i, n = g_list_model_get_n_items (model);

  fleet->devices = g_ptr_array_new_full (n, g_object_unref);
  fleet->view = g_new0 (PmScenarioDevice, MAX (n, 1));
  fleet->by_port = g_hash_table_new (NULL, NULL);
  for (i = 0; i < n; i++)
    {
      PmDevice *device = g_list_model_get_item (model, i);

      g_ptr_array_add (fleet->devices, device);
      fleet->view[i].port = pm_device_get_port (device);
      fleet->view[i].hostname = pm_device_get_hostname (device);
      fleet->view[i].profile = pm_device_get_profile (device)->name;
      g_hash_table_insert (fleet->by_port, GUINT_TO_POINTER (fleet->view[i].port), device);
    }
}

static void
on_items_changed (PmScenarioRunner *self)
{
  self->fleet_changed = TRUE;
}

/* ---- messages ------------------------------------------------------------- */

/* Collects hostnames for a log line: "mockaxe1, mockaxe3", "no device",
 * or the first few and how many more. */
typedef struct
{
  GString *text;
  guint    n;
} Names;

static void
names_init (Names *names)
{
  names->text = g_string_new (NULL);
  names->n = 0;
}

static void
names_add (Names      *names,
           const char *hostname)
{
  if (names->n < MAX_NAMES_SHOWN)
    {
      g_autofree char *quoted = pm_quote (hostname, -1);

      if (names->n > 0)
        g_string_append (names->text, ", ");
      g_string_append (names->text, quoted);
    }
  names->n++;
}

/* Returns: (transfer full): the names; frees @names */
static char *
names_end (Names *names)
{
  if (names->n == 0)
    g_string_append (names->text, _("no device"));
  else if (names->n > MAX_NAMES_SHOWN)
    g_string_append_printf (names->text,
                            ngettext (" and %u more", " and %u more", names->n - MAX_NAMES_SHOWN),
                            names->n - MAX_NAMES_SHOWN);
  return g_string_free (g_steal_pointer (&names->text), FALSE);
}

static char *
quote_step (const PmScenarioStep *step)
{
  g_autofree char *quoted = pm_quote (step->name, -1);

  return g_strdup_printf ("'%s'", quoted);
}

/* ---- faults the runner set ---------------------------------------------- */

/* Whether @device has, of @fault's kind, @fault itself. */
static gboolean
device_has_fault (PmDevice      *device,
                  const PmFault *fault)
{
  g_autoptr(GVariant) faults = pm_device_dup_faults (device);
  g_autoptr(GVariant) current = NULL;
  g_autoptr(GVariant) ours = NULL;

  current = g_variant_lookup_value (faults, pm_fault_kind_to_string (fault->kind),
                                    G_VARIANT_TYPE_VARDICT);
  if (current == NULL)
    return FALSE;
  ours = g_variant_ref_sink (pm_fault_to_variant (fault));
  return g_variant_equal (current, ours);
}

typedef gboolean (*OwnerMatch) (const Owner  *owner,
                                gconstpointer data);

/* Clears the faults the runner set that @match accepts (all without
 * @match), where they are still as it set them, and forgets them; adds
 * the devices it cleared them on to @names. */
static void
clear_owned (PmScenarioRunner *self,
             Fleet            *fleet,
             OwnerMatch        match,
             gconstpointer     data,
             Names            *names)
{
  GHashTableIter iter;
  gpointer key, value;
  guint i, kind;

  /* In the fleet's order, for the messages. */
  for (i = 0; i < fleet->devices->len; i++)
    {
      PmDevice *device = g_ptr_array_index (fleet->devices, i);
      gboolean cleared = FALSE;

      for (kind = 0; kind < PM_FAULT_N_KINDS; kind++)
        {
          gpointer owned_key = OWNED_KEY (fleet->view[i].port, kind);
          const Owner *owner = g_hash_table_lookup (self->owned, owned_key);
          const PmScenarioStep *step;

          if (owner == NULL || (match != NULL && !match (owner, data)))
            continue;
          step = pm_scenario_get_step (self->scenario, owner->step);
          if (device_has_fault (device, step->fault) && pm_device_clear_fault (device, kind))
            cleared = TRUE;
          g_hash_table_remove (self->owned, owned_key);
        }
      if (cleared && names != NULL)
        names_add (names, fleet->view[i].hostname);
    }

  /* Devices that have left the fleet. */
  g_hash_table_iter_init (&iter, self->owned);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if ((match == NULL || match (value, data)) &&
        !g_hash_table_contains (fleet->by_port, GUINT_TO_POINTER (OWNED_PORT (key))))
      g_hash_table_iter_remove (&iter);
}

static gboolean
owner_is_firing (const Owner  *owner,
                 gconstpointer data)
{
  const PmScenarioEvent *event = data;

  return owner->step == event->step_index && owner->firing == event->firing;
}

/* ---- firing ----------------------------------------------------------------- */

static void
end_step (PmScenarioRunner      *self,
          const PmScenarioEvent *event,
          Fleet                 *fleet)
{
  const PmScenarioStep *step = pm_scenario_get_step (self->scenario, event->step_index);
  g_autofree char *step_name = quote_step (step);
  g_autofree char *shown = NULL;
  Names names;

  names_init (&names);
  clear_owned (self, fleet, owner_is_firing, event, &names);
  shown = names_end (&names);
  g_message (_("Scenario %s: step %s ends: fault %s cleared on %s"),
             self->label, step_name, pm_fault_kind_to_string (step->fault->kind), shown);
}

/* Forgets the faults the runner set on @port: of @kind, or of every kind
 * if it is PM_FAULT_N_KINDS. */
static void
forget_owned (PmScenarioRunner *self,
              guint             port,
              PmFaultKind       kind)
{
  guint k;

  for (k = 0; k < PM_FAULT_N_KINDS; k++)
    if (kind == PM_FAULT_N_KINDS || kind == k)
      g_hash_table_remove (self->owned, OWNED_KEY (port, k));
}

static void
fire_step (PmScenarioRunner      *self,
           const PmScenarioEvent *event,
           Fleet                 *fleet)
{
  const PmScenarioStep *step = pm_scenario_get_step (self->scenario, event->step_index);
  g_autoptr(GPtrArray) picked = NULL;
  g_autoptr(GPtrArray) skipped = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *step_name = quote_step (step);
  g_autofree char *shown = NULL;
  Names names;
  guint i;

  picked = pm_scenario_select (step, fleet->view, fleet->devices->len, self->seed, event->firing);
  names_init (&names);
  for (i = 0; i < picked->len; i++)
    {
      const PmScenarioDevice *view = g_ptr_array_index (picked, i);
      PmDevice *device = g_ptr_array_index (fleet->devices, view - fleet->view);
      g_autoptr(GError) error = NULL;
      gboolean done = TRUE;

      /* Stopped by something a device's change set off. */
      if (!self->running)
        break;
      switch (step->action)
        {
        case PM_SCENARIO_ACTION_FAULT:
          done = pm_device_set_fault (device, step->fault, &error);
          if (done)
            {
              Owner *owner = g_new (Owner, 1);

              owner->step = event->step_index;
              owner->firing = event->firing;
              g_hash_table_insert (self->owned, OWNED_KEY (view->port, step->fault->kind), owner);
            }
          break;
        case PM_SCENARIO_ACTION_RESTART:
          done = pm_device_restart (device, &error);
          break;
        case PM_SCENARIO_ACTION_CLEAR:
          if (step->clear_kind == PM_FAULT_N_KINDS)
            pm_device_clear_faults (device);
          else
            pm_device_clear_fault (device, step->clear_kind);
          forget_owned (self, view->port, step->clear_kind);
          break;
        default:
          g_assert_not_reached ();
        }

      if (done)
        {
          names_add (&names, view->hostname);
        }
      else
        {
          g_autofree char *quoted = pm_quote (view->hostname, -1);

          g_ptr_array_add (skipped, g_strdup_printf ("%s: %s", quoted, error->message));
        }
    }
  shown = names_end (&names);

  switch (step->action)
    {
    case PM_SCENARIO_ACTION_FAULT:
      g_message (_("Scenario %s: step %s sets fault %s on %s"),
                 self->label, step_name, pm_fault_kind_to_string (step->fault->kind), shown);
      break;
    case PM_SCENARIO_ACTION_RESTART:
      g_message (_("Scenario %s: step %s restarts %s"), self->label, step_name, shown);
      break;
    case PM_SCENARIO_ACTION_CLEAR:
      if (step->clear_kind == PM_FAULT_N_KINDS)
        g_message (_("Scenario %s: step %s clears every fault of %s"),
                   self->label, step_name, shown);
      else
        g_message (_("Scenario %s: step %s clears fault %s on %s"),
                   self->label, step_name, pm_fault_kind_to_string (step->clear_kind), shown);
      break;
    default:
      g_assert_not_reached ();
    }
  for (i = 0; i < skipped->len && i < MAX_NAMES_SHOWN; i++)
    g_message (_("Scenario %s: step %s skips %s"),
               self->label, step_name, (const char *) g_ptr_array_index (skipped, i));
  if (skipped->len > MAX_NAMES_SHOWN)
    g_message (ngettext ("Scenario %s: step %s skips %u more device",
                         "Scenario %s: step %s skips %u more devices",
                         skipped->len - MAX_NAMES_SHOWN),
               self->label, step_name, skipped->len - MAX_NAMES_SHOWN);
}

/* ---- the timer -------------------------------------------------------------- */

/* When the event at @time_ms of scenario time is due, in monotonic µs,
 * or -1 for too far away to matter. */
static gint64
due_us (PmScenarioRunner *self,
        gint64            time_ms)
{
  double offset = (double) time_ms * 1000.0 * self->time_scale;

  if (offset >= (double) (G_MAXINT64 / 4))
    return -1;
  return self->start_us + (gint64) offset;
}

static void
finish (PmScenarioRunner *self)
{
  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_clear_pointer (&self->source, g_source_unref);
    }
  g_clear_pointer (&self->iter, pm_scenario_iter_free);
  self->has_next = FALSE;
  self->running = FALSE;
}

static gboolean
on_due (gpointer user_data)
{
  g_autoptr(PmScenarioRunner) self = g_object_ref (PM_SCENARIO_RUNNER (user_data));
  g_auto(Fleet) fleet = { 0 };
  gint64 now = g_get_monotonic_time ();
  gboolean out_of_time = FALSE;
  guint n = 0;

  while (self->running && self->has_next)
    {
      gint64 due = due_us (self, self->next.time_ms);

      if (due < 0 || due > now)
        break;
      /* The rest at the main loop's next iteration, in the same order:
       * the timeline does not move, only when its events are handled. */
      if (n > 0 && g_get_monotonic_time () - now >= PM_SCENARIO_RUNNER_BUDGET_US)
        {
          out_of_time = TRUE;
          break;
        }
      /* Made when the first event needs it, and again only if something
       * an event set off added or removed a device. */
      if (fleet.devices == NULL || self->fleet_changed)
        {
          fleet_clear (&fleet);
          fleet_init (&fleet, self->devices);
          self->fleet_changed = FALSE;
        }
      if (self->next.end)
        end_step (self, &self->next, &fleet);
      else
        fire_step (self, &self->next, &fleet);
      n++;
      if (self->iter != NULL)
        self->has_next = pm_scenario_iter_next (self->iter, &self->next);
    }

  if (!self->running)
    return G_SOURCE_REMOVE;
  if (!self->has_next)
    {
      finish (self);
      /* What it set without for= stays, as set by hand. */
      g_hash_table_remove_all (self->owned);
      g_message (_("Scenario %s finished"), self->label);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUNNING]);
      return G_SOURCE_REMOVE;
    }
  /* Out of time, again at once; else at the next event. */
  g_source_set_ready_time (self->source, out_of_time ? 0 : due_us (self, self->next.time_ms));
  return G_SOURCE_CONTINUE;
}

static gboolean
ready_source_dispatch (GSource    *source,
                       GSourceFunc callback,
                       gpointer    user_data)
{
  return callback (user_data);
}

/* A source that runs when its ready time comes, and never else. */
static GSourceFuncs ready_source_funcs = {
  NULL, NULL, ready_source_dispatch, NULL, NULL, NULL,
};

/* ---- life cycle ------------------------------------------------------------ */

/**
 * pm_scenario_runner_start:
 * @self: a #PmScenarioRunner, not running
 *
 * Starts the scenario's clock: its time 0 is now.  The first events fire
 * from the main loop, never from this call.
 */
void
pm_scenario_runner_start (PmScenarioRunner *self)
{
  g_autofree char *seed = NULL;

  g_return_if_fail (PM_IS_SCENARIO_RUNNER (self));
  g_return_if_fail (!self->running && self->iter == NULL);

  self->iter = pm_scenario_iter_new (self->scenario, 0);
  self->has_next = pm_scenario_iter_next (self->iter, &self->next);
  self->start_us = g_get_monotonic_time ();
  self->running = TRUE;

  self->source = g_source_new (&ready_source_funcs, sizeof (GSource));
  g_source_set_name (self->source, "pm-scenario-runner");
  g_source_set_callback (self->source, on_due, self, NULL);
  g_source_set_ready_time (self->source, self->has_next ? due_us (self, self->next.time_ms) : 0);
  g_source_attach (self->source, g_main_context_get_thread_default ());

  seed = g_strdup_printf ("%" G_GUINT64_FORMAT, self->seed);
  if (self->time_scale != 1.0)
    g_message (_("Scenario %s started (seed %s, time scale %g)"), self->label, seed, self->time_scale);
  else
    g_message (_("Scenario %s started (seed %s)"), self->label, seed);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUNNING]);
}

/**
 * pm_scenario_runner_stop:
 * @self: a #PmScenarioRunner
 *
 * Stops the timer and clears the faults the runner set, those still as
 * it set them, on the devices still in the fleet.  Nothing happens if
 * the runner does not run.
 */
void
pm_scenario_runner_stop (PmScenarioRunner *self)
{
  g_auto(Fleet) fleet = { 0 };

  g_return_if_fail (PM_IS_SCENARIO_RUNNER (self));

  if (!self->running)
    return;
  finish (self);
  fleet_init (&fleet, self->devices);
  clear_owned (self, &fleet, NULL, NULL, NULL);
  g_message (_("Scenario %s stopped; the faults it set are cleared"), self->label);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RUNNING]);
}

/**
 * pm_scenario_runner_get_running:
 * @self: a #PmScenarioRunner
 *
 * Returns: whether the runner has been started and neither stopped nor
 *   come to the end of its timeline
 */
gboolean
pm_scenario_runner_get_running (PmScenarioRunner *self)
{
  g_return_val_if_fail (PM_IS_SCENARIO_RUNNER (self), FALSE);
  return self->running;
}

/**
 * pm_scenario_runner_get_scenario:
 * @self: a #PmScenarioRunner
 *
 * Returns: (transfer none): the scenario it runs
 */
PmScenario *
pm_scenario_runner_get_scenario (PmScenarioRunner *self)
{
  g_return_val_if_fail (PM_IS_SCENARIO_RUNNER (self), NULL);
  return self->scenario;
}

/**
 * pm_scenario_runner_get_seed:
 * @self: a #PmScenarioRunner
 *
 * Returns: the seed of its draws: the scenario's own, else the one given
 *   to pm_scenario_runner_new()
 */
guint64
pm_scenario_runner_get_seed (PmScenarioRunner *self)
{
  g_return_val_if_fail (PM_IS_SCENARIO_RUNNER (self), 0);
  return self->seed;
}

static void
pm_scenario_runner_get_property (GObject    *object,
                                 guint       property_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  PmScenarioRunner *self = PM_SCENARIO_RUNNER (object);

  switch ((PmScenarioRunnerProperty) property_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_scenario_runner_dispose (GObject *object)
{
  PmScenarioRunner *self = PM_SCENARIO_RUNNER (object);

  /* Dropped while running: the timer goes, the faults stay. */
  finish (self);
  if (self->devices != NULL)
    g_clear_signal_handler (&self->items_changed_id, self->devices);
  g_clear_object (&self->devices);

  G_OBJECT_CLASS (pm_scenario_runner_parent_class)->dispose (object);
}

static void
pm_scenario_runner_finalize (GObject *object)
{
  PmScenarioRunner *self = PM_SCENARIO_RUNNER (object);

  g_clear_pointer (&self->owned, g_hash_table_unref);
  g_clear_pointer (&self->scenario, pm_scenario_unref);
  g_clear_pointer (&self->label, g_free);

  G_OBJECT_CLASS (pm_scenario_runner_parent_class)->finalize (object);
}

static void
pm_scenario_runner_class_init (PmScenarioRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = pm_scenario_runner_get_property;
  object_class->dispose = pm_scenario_runner_dispose;
  object_class->finalize = pm_scenario_runner_finalize;

  /**
   * PmScenarioRunner:running:
   *
   * Whether the scenario runs; notified when it starts, stops and ends.
   */
  props[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, G_N_ELEMENTS (props), props);
}

static void
pm_scenario_runner_init (PmScenarioRunner *self)
{
  self->owned = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->time_scale = 1.0;
}

/**
 * pm_scenario_runner_new:
 * @scenario: the scenario to run; a reference is taken
 * @devices: (element-type PmDevice): the fleet, as it changes; a
 *   reference is taken
 * @seed: the seed of the draws if @scenario has none of its own (the
 *   daemon's --seed)
 *
 * Creates a runner, not started.  Reads %PM_SCENARIO_TIME_SCALE_VARIABLE.
 *
 * Returns: (transfer full): a new #PmScenarioRunner
 */
PmScenarioRunner *
pm_scenario_runner_new (PmScenario *scenario,
                        GListModel *devices,
                        guint64     seed)
{
  PmScenarioRunner *self;
  const char *name;

  g_return_val_if_fail (scenario != NULL, NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (devices), NULL);

  self = g_object_new (PM_TYPE_SCENARIO_RUNNER, NULL);
  self->scenario = pm_scenario_ref (scenario);
  self->devices = g_object_ref (devices);
  self->items_changed_id = g_signal_connect_swapped (devices, "items-changed",
                                                     G_CALLBACK (on_items_changed), self);
  if (!pm_scenario_get_seed (scenario, &self->seed))
    self->seed = seed;
  self->time_scale = pm_scenario_runner_parse_time_scale (g_getenv (PM_SCENARIO_TIME_SCALE_VARIABLE));

  name = pm_scenario_get_name (scenario);
  if (name != NULL)
    {
      g_autofree char *quoted = pm_quote (name, -1);

      self->label = g_strdup_printf ("'%s'", quoted);
    }
  else
    {
      self->label = g_strdup (_("(unnamed)"));
    }
  return self;
}
