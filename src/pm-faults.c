/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-faults"

#include "config.h"

#include <string.h>

#include "pm-error.h"
#include "pm-faults.h"
#include "pm-http.h"
#include "pm-json-writer.h"

/**
 * PmFaults:
 *
 * The faults imposed on one device, at most one of each kind, and what
 * they do: to its HTTP replies (pm_faults_intercept() before the
 * profile's API sees a request, pm_faults_shape_reply() after it
 * answered), to its port and WebSockets (through #PmFaultsDeviceFuncs,
 * on timers of this device's own), and to its simulated miner.  A device
 * has one only once a fault is set, so a fleet without faults pays
 * nothing.  Nothing here blocks: delays and trickles are timers, so one
 * device's fault never holds up another device.
 */

/* How often the bodies that trickle are looked at.  Each gets the bytes
 * its rate has made due since it began, so a rate below one byte a tick
 * still holds over time, and a late tick is made up for at the next. */
#define TRICKLE_MS 100

typedef struct _Delayed Delayed;

struct _PmFaults
{
  GObject                    parent_instance;

  const PmFaultsDeviceFuncs *funcs;
  gpointer                   device;      /* (unowned): it owns us */
  const PmProfile           *profile;
  guint64                    rng;

  PmFault                   *active[PM_FAULT_N_KINDS];  /* (owned) (nullable) */
  gboolean                   offline;     /* what set_offline() was last told */

  GSource                   *flap;        /* (owned) (nullable) */
  gboolean                   flap_down;
  GSource                   *ws_drop;     /* (owned) (nullable) */
  GSource                   *reboot;      /* (owned) (nullable) */
  GPtrArray                 *held;        /* (owned) (element-type SoupServerMessage) */

  /* The replies latency and slow-body hold back, each in one of two
   * lists with one timer for the whole list, however many replies it
   * holds: a client with many connections costs the main loop no more
   * wake-ups than one with a single connection. */
  GSequence                 *waiting;     /* (owned) (element-type Delayed): latency not over, soonest due first */
  GSource                   *due_timer;   /* (owned) (nullable): ready when the first of @waiting is due */
  GQueue                     trickling;   /* (element-type Delayed) (owned): bodies coming out piece by piece */
  GSource                   *ticker;      /* (owned) (nullable): a tick every TRICKLE_MS while any trickles */
};

G_DEFINE_FINAL_TYPE (PmFaults, pm_faults, G_TYPE_OBJECT)

/* ---- timers ---------------------------------------------------------------- */

static GSource *
start_timer (double      seconds,
             const char *name,
             GSourceFunc func,
             gpointer    data)
{
  GSource *source = g_timeout_source_new ((guint) MAX (1.0, seconds * 1000.0));

  g_source_set_name (source, name);
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, g_main_context_get_thread_default ());
  return source;
}

static void
clear_timer (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static void
update_offline (PmFaults *self)
{
  gboolean offline = self->active[PM_FAULT_OFFLINE] != NULL ||
                     (self->active[PM_FAULT_FLAPPING] != NULL && self->flap_down);

  if (offline == self->offline)
    return;
  self->offline = offline;
  self->funcs->set_offline (self->device, offline);
}

static gboolean
on_flap (gpointer user_data)
{
  PmFaults *self = PM_FAULTS (user_data);
  const PmFault *fault = self->active[PM_FAULT_FLAPPING];

  self->flap_down = !self->flap_down;
  g_clear_pointer (&self->flap, g_source_unref);
  self->flap = start_timer (self->flap_down ? fault->down_s : fault->up_s,
                            "pm-faults-flap", on_flap, self);
  update_offline (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_ws_drop (gpointer user_data)
{
  PmFaults *self = PM_FAULTS (user_data);

  self->funcs->drop_websockets (self->device, self->active[PM_FAULT_WS_DROP]->clean);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reboot (gpointer user_data)
{
  PmFaults *self = PM_FAULTS (user_data);

  self->funcs->restart (self->device);
  return G_SOURCE_CONTINUE;
}

/* ---- setting and clearing -------------------------------------------------- */

/* Starts what @kind does now that it is set. */
static void
impose (PmFaults   *self,
        PmFaultKind kind)
{
  const PmFault *fault = self->active[kind];

  switch (kind)
    {
    case PM_FAULT_OFFLINE:
      update_offline (self);
      break;
    case PM_FAULT_FLAPPING:
      clear_timer (&self->flap);
      self->flap_down = FALSE;
      update_offline (self);
      self->flap = start_timer (fault->up_s, "pm-faults-flap", on_flap, self);
      break;
    case PM_FAULT_WS_DROP:
      clear_timer (&self->ws_drop);
      self->ws_drop = start_timer (fault->interval_s, "pm-faults-ws-drop", on_ws_drop, self);
      break;
    case PM_FAULT_WS_SILENT:
      self->funcs->silence_websockets (self->device, TRUE);
      break;
    case PM_FAULT_REBOOT_LOOP:
      clear_timer (&self->reboot);
      self->reboot = start_timer (fault->interval_s, "pm-faults-reboot", on_reboot, self);
      break;
    case PM_FAULT_OVERHEAT:
    case PM_FAULT_FAN_FAILURE:
    case PM_FAULT_ASIC_FAILURE:
    case PM_FAULT_POOL_DOWN:
    case PM_FAULT_POWER_FAULT:
      self->funcs->miner_fault (self->device, kind, fault);
      break;
    case PM_FAULT_LATENCY:
    case PM_FAULT_ERRORS:
    case PM_FAULT_BLACKHOLE:
    case PM_FAULT_CORRUPT:
    case PM_FAULT_SLOW_BODY:
    case PM_FAULT_N_KINDS:
    default:
      /* Acts on each request. */
      break;
    }
}

/* Undoes what @kind did; it is no longer active. */
static void release_held (PmFaults *self);
static void release_waiting (PmFaults *self);
static void release_trickling (PmFaults *self);

static void
lift (PmFaults   *self,
      PmFaultKind kind)
{
  switch (kind)
    {
    case PM_FAULT_OFFLINE:
      update_offline (self);
      break;
    case PM_FAULT_FLAPPING:
      clear_timer (&self->flap);
      self->flap_down = FALSE;
      update_offline (self);
      break;
    case PM_FAULT_WS_DROP:
      clear_timer (&self->ws_drop);
      break;
    case PM_FAULT_WS_SILENT:
      self->funcs->silence_websockets (self->device, FALSE);
      break;
    case PM_FAULT_REBOOT_LOOP:
      clear_timer (&self->reboot);
      break;
    case PM_FAULT_OVERHEAT:
    case PM_FAULT_FAN_FAILURE:
    case PM_FAULT_ASIC_FAILURE:
    case PM_FAULT_POOL_DOWN:
    case PM_FAULT_POWER_FAULT:
      self->funcs->miner_fault (self->device, kind, NULL);
      break;
    case PM_FAULT_BLACKHOLE:
      release_held (self);
      break;
    case PM_FAULT_LATENCY:
      release_waiting (self);
      break;
    case PM_FAULT_SLOW_BODY:
      release_trickling (self);
      break;
    case PM_FAULT_ERRORS:
    case PM_FAULT_CORRUPT:
    case PM_FAULT_N_KINDS:
    default:
      break;
    }
}

/**
 * pm_faults_check_kind:
 * @profile: a device's profile
 * @kind: a kind of fault
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Returns: whether a device of @profile can take a fault of @kind: a
 *   miner fault needs a simulated miner
 */
gboolean
pm_faults_check_kind (const PmProfile *profile,
                      PmFaultKind      kind,
                      GError         **error)
{
  if (pm_fault_kind_needs_miner (kind) && !pm_profile_is_simulated (profile))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "fault '%s' acts on a simulated miner, and a %s device has none "
                   "(use an axeos-* or nerdqaxe-plus profile)",
                   pm_fault_kind_to_string (kind), profile->name);
      return FALSE;
    }
  return TRUE;
}

/**
 * pm_faults_set:
 * @self: a #PmFaults
 * @fault: a checked fault; copied.  One of the same kind is replaced.
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Returns: %FALSE if the fault cannot be imposed on this device (a miner
 *   fault on a device without a simulated miner); nothing changes then
 */
gboolean
pm_faults_set (PmFaults      *self,
               const PmFault *fault,
               GError       **error)
{
  g_return_val_if_fail (PM_IS_FAULTS (self), FALSE);
  g_return_val_if_fail (fault != NULL && fault->kind < PM_FAULT_N_KINDS, FALSE);

  if (!pm_faults_check_kind (self->profile, fault->kind, error))
    return FALSE;

  g_clear_pointer (&self->active[fault->kind], pm_fault_free);
  self->active[fault->kind] = pm_fault_copy (fault);
  impose (self, fault->kind);
  return TRUE;
}

/**
 * pm_faults_clear:
 * @self: a #PmFaults
 * @kind: a kind of fault
 *
 * Returns: whether a fault of that kind was active
 */
gboolean
pm_faults_clear (PmFaults   *self,
                 PmFaultKind kind)
{
  g_return_val_if_fail (PM_IS_FAULTS (self), FALSE);
  g_return_val_if_fail (kind < PM_FAULT_N_KINDS, FALSE);

  if (self->active[kind] == NULL)
    return FALSE;
  g_clear_pointer (&self->active[kind], pm_fault_free);
  lift (self, kind);
  return TRUE;
}

void
pm_faults_clear_all (PmFaults *self)
{
  guint kind;

  g_return_if_fail (PM_IS_FAULTS (self));

  for (kind = 0; kind < PM_FAULT_N_KINDS; kind++)
    pm_faults_clear (self, kind);
}

const PmFault *
pm_faults_get (PmFaults   *self,
               PmFaultKind kind)
{
  g_return_val_if_fail (PM_IS_FAULTS (self), NULL);
  g_return_val_if_fail (kind < PM_FAULT_N_KINDS, NULL);
  return self->active[kind];
}

guint
pm_faults_get_n_active (PmFaults *self)
{
  guint kind, n = 0;

  g_return_val_if_fail (PM_IS_FAULTS (self), 0);

  for (kind = 0; kind < PM_FAULT_N_KINDS; kind++)
    n += self->active[kind] != NULL;
  return n;
}

/**
 * pm_faults_get_shapes_http:
 * @self: a #PmFaults
 *
 * Whether a fault now acts on the device's HTTP replies themselves:
 * holds, delays, answers or alters them (`latency`, `errors`,
 * `blackhole`, `corrupt`, `slow-body`).  The others act elsewhere: on
 * the port (`offline`, `flapping`, `reboot-loop`, which close it), on the
 * WebSockets, or on the simulated miner, whose state every reply reads.
 *
 * Returns: whether every HTTP request must pass pm_faults_intercept()
 *   and pm_faults_shape_reply()
 */
gboolean
pm_faults_get_shapes_http (PmFaults *self)
{
  g_return_val_if_fail (PM_IS_FAULTS (self), TRUE);

  return self->active[PM_FAULT_LATENCY] != NULL || self->active[PM_FAULT_ERRORS] != NULL ||
         self->active[PM_FAULT_BLACKHOLE] != NULL || self->active[PM_FAULT_CORRUPT] != NULL ||
         self->active[PM_FAULT_SLOW_BODY] != NULL;
}

/**
 * pm_faults_get_offline:
 * @self: a #PmFaults
 *
 * Returns: whether a fault keeps the device off the network now
 */
gboolean
pm_faults_get_offline (PmFaults *self)
{
  g_return_val_if_fail (PM_IS_FAULTS (self), FALSE);
  return self->offline;
}

/**
 * pm_faults_to_variant:
 * @self: a #PmFaults
 *
 * Returns: (transfer floating): the active faults, `a{sa{sv}}`: each
 *   kind's name and its parameters, defaults filled in
 */
GVariant *
pm_faults_to_variant (PmFaults *self)
{
  GVariantBuilder builder;
  guint kind;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sa{sv}}"));
  for (kind = 0; self != NULL && kind < PM_FAULT_N_KINDS; kind++)
    if (self->active[kind] != NULL)
      g_variant_builder_add (&builder, "{s@a{sv}}", pm_fault_kind_to_string (kind),
                             pm_fault_to_variant (self->active[kind]));
  return g_variant_builder_end (&builder);
}

/* ---- requests -------------------------------------------------------------- */

static void
on_held_finished (SoupServerMessage *msg,
                  PmFaults          *self)
{
  g_signal_handlers_disconnect_by_data (msg, self);
  g_ptr_array_remove_fast (self->held, msg);
}

/* Ends every request a black hole holds: each connection is taken from
 * libsoup, which watches no paused request's socket, and closed, so the
 * client sees its connection go and the descriptor is freed at once. */
static void
release_held (PmFaults *self)
{
  while (self->held->len > 0)
    {
      SoupServerMessage *msg = g_ptr_array_steal_index_fast (self->held, self->held->len - 1);
      g_autoptr(GIOStream) stream = NULL;

      g_signal_handlers_disconnect_by_data (msg, self);
      stream = soup_server_message_steal_connection (msg);
      if (stream != NULL)
        g_io_stream_close (stream, NULL, NULL);
      g_object_unref (msg);
    }
}

/* The reply an `errors` fault gives, in the profile's own error style. */
static void
reply_error (PmFaults          *self,
             SoupServerMessage *msg,
             guint              status)
{
  const char *phrase = soup_status_get_phrase (status);

  if (self->profile->family == PM_PROFILE_FAMILY_PLUTO)
    {
      pm_http_reply_error (msg, status, "%s (an injected fault)", phrase != NULL ? phrase : "error");
      return;
    }
  /* ESP-IDF's errors: a short text labelled text/html. */
  pm_http_reply_static (msg, status, "text/html", phrase != NULL ? phrase : "Error");
}

/**
 * pm_faults_intercept:
 * @self: a #PmFaults
 * @msg: a request whose headers have arrived, before the profile's API
 *   sees it
 * @path: its path
 *
 * What happens to a request before the device looks at it: a black hole
 * swallows it, an `errors` fault may answer it (and its answer is then
 * shaped as pm_faults_shape_reply() shapes any other).
 *
 * Returns: %TRUE if the request was taken care of here
 */
gboolean
pm_faults_intercept (PmFaults          *self,
                     SoupServerMessage *msg,
                     const char        *path)
{
  const PmFault *errors = self->active[PM_FAULT_ERRORS];

  g_return_val_if_fail (PM_IS_FAULTS (self), FALSE);

  if (self->active[PM_FAULT_BLACKHOLE] != NULL)
    {
      /* Each request held keeps its connection's descriptor: past the
       * cap, closing it at once keeps a client that never gives up from
       * taking every descriptor the process has. */
      if (self->held->len >= PM_FAULTS_MAX_HELD)
        {
          g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);

          if (stream != NULL)
            g_io_stream_close (stream, NULL, NULL);
          return TRUE;
        }
      g_ptr_array_add (self->held, g_object_ref (msg));
      g_signal_connect (msg, "finished", G_CALLBACK (on_held_finished), self);
      soup_server_message_pause (msg);
      return TRUE;
    }

  if (errors != NULL && (errors->path == NULL || strcmp (errors->path, path) == 0) &&
      pm_fault_draw (errors->rate, &self->rng))
    {
      reply_error (self, msg, errors->status);
      /* The way back is as slow for an error as for any other reply. */
      pm_faults_shape_reply (self, msg);
      return TRUE;
    }
  return FALSE;
}

/* ---- held-back replies ------------------------------------------------------ */

/* A reply latency or slow-body holds back.  While its latency lasts it
 * waits in @faults->waiting; then, if its body trickles, it is in
 * @faults->trickling until the last piece is out. */
struct _Delayed
{
  PmFaults          *faults;   /* (unowned) */
  SoupServerMessage *msg;      /* (owned) */
  GBytes            *body;     /* (owned) (nullable): the whole body, if it trickles */
  gsize              sent;     /* how much of @body is out */
  guint64            rate;     /* bytes a second @body trickles at */
  gint64             began;    /* when @body began to trickle, monotonic µs */
  gboolean           headers_out;  /* whether it was unpaused once, which sent its headers */
  gint64             due;      /* when its latency is over, monotonic µs */
  GSequenceIter     *waiting;  /* (nullable): its place in @faults->waiting */
  GList              link;     /* its place in @faults->trickling; data is NULL when not there */
  gulong             finished_id;
};

static guint
n_delayed (PmFaults *self)
{
  return (guint) g_sequence_get_length (self->waiting) + self->trickling.length;
}

static void
delayed_free (Delayed *delayed)
{
  g_clear_signal_handler (&delayed->finished_id, delayed->msg);
  g_clear_pointer (&delayed->body, g_bytes_unref);
  g_clear_object (&delayed->msg);
  g_free (delayed);
}

static gint
compare_due (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  gint64 x = ((const Delayed *) a)->due;
  gint64 y = ((const Delayed *) b)->due;

  return x < y ? -1 : x > y;
}

/* The latency timer's source: dispatched once its ready time has come,
 * then dormant until it is given the next one. */
static gboolean
due_timer_dispatch (GSource    *source,
                    GSourceFunc callback,
                    gpointer    user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs due_timer_funcs = {
  .dispatch = due_timer_dispatch,
};

static gboolean on_due (gpointer user_data);

/* Points the latency timer at the first reply due, or stops it when none
 * waits. */
static void
update_due_timer (PmFaults *self)
{
  const Delayed *first;

  if (g_sequence_is_empty (self->waiting))
    {
      clear_timer (&self->due_timer);
      return;
    }
  first = g_sequence_get (g_sequence_get_begin_iter (self->waiting));
  if (self->due_timer == NULL)
    {
      self->due_timer = g_source_new (&due_timer_funcs, sizeof (GSource));
      g_source_set_name (self->due_timer, "pm-faults-latency");
      g_source_set_callback (self->due_timer, on_due, self, NULL);
      g_source_attach (self->due_timer, g_main_context_get_thread_default ());
    }
  g_source_set_ready_time (self->due_timer, first->due);
}

/* Takes @delayed out of the list it is in; a timer left with nothing to
 * do stops. */
static void
delayed_unlink (Delayed *delayed)
{
  PmFaults *self = delayed->faults;

  if (delayed->waiting != NULL)
    {
      g_sequence_remove (delayed->waiting);
      delayed->waiting = NULL;
      update_due_timer (self);
    }
  if (delayed->link.data != NULL)
    {
      g_queue_unlink (&self->trickling, &delayed->link);
      delayed->link.data = NULL;
      if (self->trickling.length == 0)
        clear_timer (&self->ticker);
    }
}

static void
on_delayed_finished (SoupServerMessage *msg,
                     Delayed           *delayed)
{
  /* The client went away: nothing more to do. */
  delayed_unlink (delayed);
  delayed_free (delayed);
}

/* Appends the next @n bytes of @delayed's body, and ends the body once
 * all of it is out. */
static void
append_body (Delayed *delayed,
             gsize    n)
{
  SoupMessageBody *body = soup_server_message_get_response_body (delayed->msg);

  if (n > 0)
    {
      g_autoptr(GBytes) chunk = g_bytes_new_from_bytes (delayed->body, delayed->sent, n);

      soup_message_body_append_bytes (body, chunk);
      delayed->sent += n;
    }
  if (delayed->sent >= g_bytes_get_size (delayed->body))
    soup_message_body_complete (body);
}

/* Sends what is left of @delayed's reply at once and forgets it. */
static void
delayed_let_go (Delayed *delayed)
{
  delayed_unlink (delayed);
  /* Nothing of it is ours any more, whatever unpausing does. */
  g_clear_signal_handler (&delayed->finished_id, delayed->msg);
  if (delayed->body != NULL)
    append_body (delayed, g_bytes_get_size (delayed->body) - delayed->sent);
  soup_server_message_unpause (delayed->msg);
  delayed_free (delayed);
}

/* How many bytes of @delayed's body are due by @now: its rate times the
 * time since it began, rounded down.  Worked out in whole seconds and the
 * rest apart, so that no product overflows at any rate. */
static guint64
bytes_due (const Delayed *delayed,
           gint64         now)
{
  guint64 elapsed = now > delayed->began ? (guint64) (now - delayed->began) : 0;

  return elapsed / G_USEC_PER_SEC * delayed->rate +
         elapsed % G_USEC_PER_SEC * delayed->rate / G_USEC_PER_SEC;
}

static gboolean
on_tick (gpointer user_data)
{
  PmFaults *self = PM_FAULTS (user_data);
  GList *l = self->trickling.head;
  gint64 now = g_get_monotonic_time ();

  while (l != NULL)
    {
      Delayed *delayed = l->data;
      gsize size = g_bytes_get_size (delayed->body);
      guint64 due = bytes_due (delayed, now);

      /* Unpausing may end this reply (its client gone) and free it. */
      l = l->next;
      if (due >= size)
        {
          delayed_let_go (delayed);
          continue;
        }
      /* Nothing new is due, but the headers go out at the first tick
       * whatever the rate: the client learns at once how much is to come. */
      if (due <= delayed->sent && delayed->headers_out)
        continue;
      append_body (delayed, due > delayed->sent ? due - delayed->sent : 0);
      delayed->headers_out = TRUE;
      soup_server_message_unpause (delayed->msg);
    }
  /* When the last reply went, delayed_unlink() stopped this timer. */
  return G_SOURCE_CONTINUE;
}

/* @delayed's body trickles from now on: one timer ticks for every body
 * that trickles, so a reply that joins gets its headers within
 * TRICKLE_MS, and its body at its own rate counted from now. */
static void
start_trickling (Delayed *delayed)
{
  PmFaults *self = delayed->faults;

  delayed->began = g_get_monotonic_time ();
  delayed->link.data = delayed;
  g_queue_push_tail_link (&self->trickling, &delayed->link);
  if (self->ticker == NULL)
    self->ticker = start_timer (TRICKLE_MS / 1000.0, "pm-faults-trickle", on_tick, self);
}

/* @delayed's latency is over (or was cleared): its body trickles if
 * slow-body still holds the device, and the reply goes out whole
 * otherwise. */
static void
delayed_move_on (Delayed *delayed)
{
  delayed_unlink (delayed);
  if (delayed->body != NULL && delayed->faults->active[PM_FAULT_SLOW_BODY] != NULL)
    start_trickling (delayed);
  else
    delayed_let_go (delayed);
}

static gboolean
on_due (gpointer user_data)
{
  PmFaults *self = PM_FAULTS (user_data);
  gint64 now = g_get_monotonic_time ();

  while (!g_sequence_is_empty (self->waiting))
    {
      Delayed *delayed = g_sequence_get (g_sequence_get_begin_iter (self->waiting));

      if (delayed->due > now)
        break;
      delayed_move_on (delayed);
    }
  update_due_timer (self);
  return G_SOURCE_CONTINUE;
}

/* Clearing latency: every reply still waiting goes on at once. */
static void
release_waiting (PmFaults *self)
{
  while (!g_sequence_is_empty (self->waiting))
    delayed_move_on (g_sequence_get (g_sequence_get_begin_iter (self->waiting)));
}

/* Clearing slow-body: what is left of each trickling body goes out at
 * once; a body whose latency is not over yet goes out whole when it is. */
static void
release_trickling (PmFaults *self)
{
  while (self->trickling.head != NULL)
    delayed_let_go (self->trickling.head->data);
}

/* Past PM_FAULTS_MAX_DELAYED held-back replies, a reply is not held but
 * refused at once, in the profile's error style, saying why: holding it
 * would cost memory for every client a device has, and answering it at
 * once unslowed would hide from the client that the fault is set. */
static void
reply_too_many (PmFaults          *self,
                SoupServerMessage *msg)
{
  if (self->profile->family == PM_PROFILE_FAMILY_PLUTO)
    {
      pm_http_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                           "Service Unavailable: %u replies are already held back by this "
                           "device's latency or slow-body fault (an injected fault)",
                           PM_FAULTS_MAX_DELAYED);
      return;
    }
  pm_http_reply_static (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/html",
                        "Service Unavailable: "
                        G_STRINGIFY (PM_FAULTS_MAX_DELAYED) " replies held back by a fault");
}

/* ---- shaping replies -------------------------------------------------------- */

/* Whether @msg's reply is JSON, which the corruptions act on. */
static gboolean
reply_is_json (SoupServerMessage *msg)
{
  const char *type = soup_message_headers_get_content_type (soup_server_message_get_response_headers (msg),
                                                            NULL);
  return type != NULL && strcmp (type, "application/json") == 0;
}

/* Every number of the top level written as a string. */
static GString *
numbers_as_strings (JsonObject *object)
{
  g_autoptr(GList) members = json_object_get_members (object);
  GString *out = g_string_new ("{");
  GList *l;

  for (l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);
      GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

      if (out->len > 1)
        g_string_append_c (out, ',');
      pm_json_append_string (out, l->data);
      g_string_append_c (out, ':');
      if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE)
        {
          g_autoptr(GString) number = g_string_new (NULL);

          pm_json_append_node (number, node);
          pm_json_append_string (out, number->str);
        }
      else
        {
          pm_json_append_node (out, node);
        }
    }
  g_string_append_c (out, '}');
  return out;
}

/* About every third member of the top level left out. */
static GString *
drop_members (PmFaults   *self,
              JsonObject *object)
{
  g_autoptr(GList) members = json_object_get_members (object);
  GString *out = g_string_new ("{");
  GList *l;

  for (l = members; l != NULL; l = l->next)
    {
      if (pm_fault_draw (1.0 / 3.0, &self->rng))
        continue;
      if (out->len > 1)
        g_string_append_c (out, ',');
      pm_json_append_string (out, l->data);
      g_string_append_c (out, ':');
      pm_json_append_node (out, json_object_get_member (object, l->data));
    }
  g_string_append_c (out, '}');
  return out;
}

static void
corrupt (PmFaults          *self,
         SoupServerMessage *msg,
         PmFaultCorruptMode mode)
{
  g_autoptr(GBytes) flat = soup_message_body_flatten (soup_server_message_get_response_body (msg));
  gsize size;
  const char *data = g_bytes_get_data (flat, &size);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  GString *out = NULL;
  JsonNode *root;

  switch (mode)
    {
    case PM_FAULT_CORRUPT_CONTENT_TYPE:
      soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg),
                                             "text/plain", NULL);
      return;
    case PM_FAULT_CORRUPT_TRUNCATE:
      out = g_string_new_len (data, size / 2);
      break;
    case PM_FAULT_CORRUPT_INVALID_JSON:
      /* The closing brace gives way to a dangling member. */
      out = g_string_new_len (data, size > 0 ? size - 1 : 0);
      g_string_append (out, ",\"");
      break;
    case PM_FAULT_CORRUPT_STRINGS:
    case PM_FAULT_CORRUPT_MISSING_FIELDS:
    default:
      if (!json_parser_load_from_data (parser, data, size, NULL) ||
          !JSON_NODE_HOLDS_OBJECT ((root = json_parser_get_root (parser))))
        return;
      out = mode == PM_FAULT_CORRUPT_STRINGS ? numbers_as_strings (json_node_get_object (root))
                                             : drop_members (self, json_node_get_object (root));
      break;
    }
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_message_body_append (soup_server_message_get_response_body (msg), SOUP_MEMORY_TAKE,
                            out->str, out->len);
  g_string_free (out, FALSE);
}

/**
 * pm_faults_shape_reply:
 * @self: a #PmFaults
 * @msg: a request whose reply the device has set
 *
 * What happens to a reply on its way out: corruption, latency (the
 * reply waits; nothing else does) and a trickled body.
 */
void
pm_faults_shape_reply (PmFaults          *self,
                       SoupServerMessage *msg)
{
  const PmFault *corruption = self->active[PM_FAULT_CORRUPT];
  const PmFault *latency = self->active[PM_FAULT_LATENCY];
  const PmFault *slow = self->active[PM_FAULT_SLOW_BODY];
  guint delay_ms = latency != NULL ? pm_fault_jitter (latency, &self->rng) : 0;
  Delayed *delayed;

  g_return_if_fail (PM_IS_FAULTS (self));

  /* A reply still to come (a Wi-Fi scan's) is shaped by nobody. */
  if (soup_server_message_get_status (msg) == 0)
    return;
  if ((delay_ms > 0 || slow != NULL) && n_delayed (self) >= PM_FAULTS_MAX_DELAYED)
    {
      reply_too_many (self, msg);
      return;
    }
  if (corruption != NULL && reply_is_json (msg) && pm_fault_draw (corruption->rate, &self->rng))
    corrupt (self, msg, corruption->mode);

  if (delay_ms == 0 && slow == NULL)
    return;

  delayed = g_new0 (Delayed, 1);
  delayed->faults = self;
  delayed->msg = g_object_ref (msg);
  delayed->due = g_get_monotonic_time () + (gint64) delay_ms * 1000;
  if (slow != NULL)
    {
      SoupMessageBody *body = soup_server_message_get_response_body (msg);

      delayed->body = soup_message_body_flatten (body);
      soup_message_body_truncate (body);
      delayed->rate = slow->bytes_per_s;
      /* The length is known: the client sees it and waits for all of it. */
      soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg),
                                               g_bytes_get_size (delayed->body));
    }
  delayed->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_delayed_finished), delayed);
  soup_server_message_pause (msg);
  if (delay_ms == 0)
    {
      start_trickling (delayed);
      return;
    }
  delayed->waiting = g_sequence_insert_sorted (self->waiting, delayed, compare_due, NULL);
  update_due_timer (self);
}

/* ---- life cycle -------------------------------------------------------------- */

static void
pm_faults_dispose (GObject *object)
{
  PmFaults *self = PM_FAULTS (object);
  guint kind;

  clear_timer (&self->flap);
  clear_timer (&self->ws_drop);
  clear_timer (&self->reboot);
  for (kind = 0; kind < PM_FAULT_N_KINDS; kind++)
    g_clear_pointer (&self->active[kind], pm_fault_free);
  if (self->held != NULL)
    release_held (self);
  /* The device closed its connections before it let us go, and with them
   * went the replies held here; any left are merely forgotten. */
  if (self->waiting != NULL)
    {
      while (!g_sequence_is_empty (self->waiting))
        {
          Delayed *delayed = g_sequence_get (g_sequence_get_begin_iter (self->waiting));

          delayed_unlink (delayed);
          delayed_free (delayed);
        }
    }
  while (self->trickling.head != NULL)
    {
      Delayed *delayed = self->trickling.head->data;

      delayed_unlink (delayed);
      delayed_free (delayed);
    }
  clear_timer (&self->due_timer);
  clear_timer (&self->ticker);

  G_OBJECT_CLASS (pm_faults_parent_class)->dispose (object);
}

static void
pm_faults_finalize (GObject *object)
{
  PmFaults *self = PM_FAULTS (object);

  g_clear_pointer (&self->held, g_ptr_array_unref);
  g_clear_pointer (&self->waiting, g_sequence_free);

  G_OBJECT_CLASS (pm_faults_parent_class)->finalize (object);
}

static void
pm_faults_class_init (PmFaultsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_faults_dispose;
  object_class->finalize = pm_faults_finalize;
}

static void
pm_faults_init (PmFaults *self)
{
  self->held = g_ptr_array_new_with_free_func (g_object_unref);
  self->waiting = g_sequence_new (NULL);
  g_queue_init (&self->trickling);
}

/**
 * pm_faults_new:
 * @funcs: what the faults ask of the device
 * @device: the device, passed to @funcs; it owns the #PmFaults
 * @profile: its profile
 * @seed: the fleet's seed
 * @port: the device's port
 *
 * Returns: (transfer full): a device's faults, none active
 */
PmFaults *
pm_faults_new (const PmFaultsDeviceFuncs *funcs,
               gpointer                   device,
               const PmProfile           *profile,
               guint64                    seed,
               guint                      port)
{
  PmFaults *self = g_object_new (PM_TYPE_FAULTS, NULL);

  self->funcs = funcs;
  self->device = device;
  self->profile = profile;
  self->rng = seed ^ ((guint64) port * G_GUINT64_CONSTANT (0xD1B54A32D192ED03));
  return self;
}
