/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-scenario"

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "pm-parse.h"
#include "pm-error.h"
#include "pm-identity.h"
#include "pm-profile.h"
#include "pm-quote.h"
#include "pm-scenario.h"
#include "pm-splitmix.h"

/*
 * Scenario files: parsing and checking every step when the file is
 * loaded, choosing a step's devices, and the timeline of a scenario as a
 * pure function of time, so that whatever runs a scenario can be driven
 * by any clock.  The format is described in pm-scenario.h.
 */

struct _PmScenario
{
  gatomicrefcount ref_count;
  char           *name;        /* (owned) (nullable) */
  char           *description; /* (owned) (nullable) */
  gboolean        has_seed;
  guint64         seed;
  gint64          length_ms; /* 0: no length */
  gboolean        repeat;
  GPtrArray      *steps; /* (owned) (element-type PmScenarioStep) */
};

static void
step_free (PmScenarioStep *step)
{
  if (step == NULL)
    return;
  g_free (step->name);
  g_free (step->select_text);
  /* The set's keys are the strings of names. */
  g_clear_pointer (&step->name_set, g_hash_table_unref);
  g_strfreev (step->names);
  g_clear_pointer (&step->port_ranges, g_array_unref);
  g_free (step->profile);
  g_clear_pointer (&step->fault, pm_fault_free);
  g_free (step);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmScenarioStep, step_free)

static PmScenario *
scenario_new (void)
{
  PmScenario *self = g_new0 (PmScenario, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);
  return self;
}

/**
 * pm_scenario_ref:
 * @self: a scenario
 *
 * Returns: (transfer full): @self
 */
PmScenario *
pm_scenario_ref (PmScenario *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
pm_scenario_unref (PmScenario *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->name);
  g_free (self->description);
  g_ptr_array_unref (self->steps);
  g_free (self);
}

/* ---- Durations ---------------------------------------------------------- */

static const struct
{
  const char *unit;
  gint64      ms;
} units[] = {
  /* "ms" before "m". */
  { "ms", 1 },
  { "s", 1000 },
  { "m", 60 * 1000 },
  { "h", 3600 * 1000 },
  { "d", 24 * 3600 * 1000 },
};

/**
 * pm_scenario_parse_duration:
 * @text: e.g. "1500ms", "10s", "2m", "1h", "1d", "1m30s" or "0"
 * @out_ms: (out): the duration in milliseconds
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Parses a duration as scenario files write it: whole numbers, each
 * followed by a unit (ms, s, m, h or d), added up; or 0 alone.  Blanks
 * around the whole are ignored.  At most %PM_SCENARIO_MAX_TIME_MS.
 */
gboolean
pm_scenario_parse_duration (const char *text,
                            gint64     *out_ms,
                            GError    **error)
{
  g_autofree char *copy = NULL;
  g_autofree char *quoted = NULL;
  const char *p;
  gint64 total = 0;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out_ms != NULL, FALSE);

  copy = g_strstrip (g_strdup (text));
  quoted = pm_quote (copy, -1);
  p = copy;

  if (strcmp (copy, "0") == 0)
    {
      *out_ms = 0;
      return TRUE;
    }

  do
    {
      gsize digits = strspn (p, "0123456789");
      gint64 number = 0;
      gsize i;

      if (digits == 0)
        goto not_a_duration;
      /* Thirteen digits are more than 30 days even in ms. */
      if (digits > 12)
        goto too_long;
      for (i = 0; i < digits; i++)
        number = number * 10 + (p[i] - '0');
      p += digits;

      for (i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_str_has_prefix (p, units[i].unit))
          break;
      if (i == G_N_ELEMENTS (units))
        goto not_a_duration;
      p += strlen (units[i].unit);

      if (number > PM_SCENARIO_MAX_TIME_MS / units[i].ms)
        goto too_long;
      total += number * units[i].ms;
      if (total > PM_SCENARIO_MAX_TIME_MS)
        goto too_long;
    }
  while (*p != '\0');

  *out_ms = total;
  return TRUE;

not_a_duration:
  g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
               "'%s' is not a duration (write e.g. 1500ms, 10s, 2m, 1h, 1d or 1m30s)",
               quoted);
  return FALSE;

too_long:
  g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
               "'%s' is longer than 30 days", quoted);
  return FALSE;
}

/* @ms written back as a duration, e.g. "1m30s", for messages. */
static char *
format_duration (gint64 ms)
{
  GString *text = g_string_new (NULL);
  gint i;

  if (ms == 0)
    return g_string_free (g_string_append (text, "0"), FALSE);
  for (i = G_N_ELEMENTS (units) - 1; i >= 0; i--)
    {
      if (ms >= units[i].ms)
        {
          g_string_append_printf (text, "%" G_GINT64_FORMAT "%s",
                                  ms / units[i].ms, units[i].unit);
          ms %= units[i].ms;
        }
    }
  return g_string_free (text, FALSE);
}

/* ---- Errors ------------------------------------------------------------- */

/* Sets a PM_ERROR_INVALID_ARGUMENT that starts with "[GROUP] KEY: ", or
 * "[GROUP]: " if @key is NULL. */
G_GNUC_PRINTF (4, 5)
static void
set_key_error (GError    **error,
               const char *group,
               const char *key,
               const char *format,
               ...)
{
  g_autofree char *quoted_group = pm_quote (group, -1);
  g_autofree char *quoted_key = key != NULL ? pm_quote (key, -1) : NULL;
  g_autofree char *rest = NULL;
  va_list args;

  va_start (args, format);
  rest = g_strdup_vprintf (format, args);
  va_end (args);

  if (key != NULL)
    g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                 "[%s] %s: %s", quoted_group, quoted_key, rest);
  else
    g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                 "[%s]: %s", quoted_group, rest);
}

/* Puts "[GROUP] KEY: " (or "[GROUP]: ") before an error's message. */
static void
prefix_key_error (GError    **error,
                  const char *group,
                  const char *key)
{
  g_autofree char *quoted_group = pm_quote (group, -1);
  g_autofree char *quoted_key = key != NULL ? pm_quote (key, -1) : NULL;

  if (key != NULL)
    g_prefix_error (error, "[%s] %s: ", quoted_group, quoted_key);
  else
    g_prefix_error (error, "[%s]: ", quoted_group);
}

/* The value of @key, unescaped and without blanks around it; a key file
 * error becomes a PM_ERROR_INVALID_ARGUMENT. */
static char *
get_value (GKeyFile   *key_file,
           const char *group,
           const char *key,
           GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  char *value = g_key_file_get_string (key_file, group, key, &local_error);

  if (value == NULL)
    {
      set_key_error (error, group, key, "%s", local_error->message);
      return NULL;
    }
  return g_strstrip (value);
}

static gboolean
check_text (const char *group,
            const char *key,
            const char *text,
            GError    **error)
{
  const char *p;

  if (strlen (text) > PM_SCENARIO_MAX_TEXT_BYTES)
    {
      set_key_error (error, group, key, "longer than %d bytes", PM_SCENARIO_MAX_TEXT_BYTES);
      return FALSE;
    }
  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      if (g_unichar_iscntrl (g_utf8_get_char (p)))
        {
          g_autofree char *quoted = pm_quote (text, -1);

          set_key_error (error, group, key, "'%s' holds a control character", quoted);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- Loading ------------------------------------------------------------ */

#define SCENARIO_GROUP "scenario"
#define STEP_PREFIX    "step "

/* GKeyFile merges a group given twice into one, silently: find such
 * groups in the text first.  A group line, after blanks, starts with
 * '[' and its name runs to the last ']'. */
static gboolean
check_groups_once (const char *data,
                   gsize       length,
                   GError    **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *line = data, *end = data + length;

  while (line < end)
    {
      const char *eol = memchr (line, '\n', end - line);
      const char *p = line, *close;

      if (eol == NULL)
        eol = end;
      while (p < eol && g_ascii_isspace (*p))
        p++;
      if (p < eol && *p == '[')
        {
          for (close = eol - 1; close > p && *close != ']'; close--)
            ;
          if (close > p)
            {
              char *name = g_strndup (p + 1, close - p - 1);

              if (!g_hash_table_add (seen, name))
                {
                  g_autofree char *quoted = pm_quote (name, -1);

                  g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                               "group [%s] is given twice", quoted);
                  return FALSE;
                }
            }
        }
      line = eol + 1;
    }
  return TRUE;
}

/* The keys of @group, each once: GKeyFile lists a key given twice
 * twice, and returns only its last value. */
static char **
get_keys_once (GKeyFile   *key_file,
               const char *group,
               GError    **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys (key_file, group, NULL, NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gsize i;

  for (i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      if (!g_hash_table_add (seen, keys[i]))
        {
          set_key_error (error, group, keys[i], "given twice");
          return NULL;
        }
    }
  return keys != NULL ? g_steal_pointer (&keys) : g_new0 (char *, 1);
}

static gboolean
parse_header (PmScenario *self,
              GKeyFile   *key_file,
              GError    **error)
{
  g_auto(GStrv) keys = get_keys_once (key_file, SCENARIO_GROUP, error);
  gsize i;

  if (keys == NULL)
    return FALSE;

  for (i = 0; keys[i] != NULL; i++)
    {
      const char *key = keys[i];
      g_autofree char *value = get_value (key_file, SCENARIO_GROUP, key, error);

      if (value == NULL)
        return FALSE;

      if (strcmp (key, "name") == 0 || strcmp (key, "description") == 0)
        {
          if (!check_text (SCENARIO_GROUP, key, value, error))
            return FALSE;
          if (key[0] == 'n')
            self->name = g_steal_pointer (&value);
          else
            self->description = g_steal_pointer (&value);
        }
      else if (strcmp (key, "seed") == 0)
        {
          if (!pm_parse_seed ("[" SCENARIO_GROUP "] seed", value, &self->seed, error))
            return FALSE;
          self->has_seed = TRUE;
        }
      else if (strcmp (key, "length") == 0)
        {
          if (!pm_scenario_parse_duration (value, &self->length_ms, error))
            {
              prefix_key_error (error, SCENARIO_GROUP, key);
              return FALSE;
            }
          if (self->length_ms == 0)
            {
              set_key_error (error, SCENARIO_GROUP, key, "a scenario's length cannot be 0");
              return FALSE;
            }
        }
      else if (strcmp (key, "repeat") == 0)
        {
          if (!pm_parse_bool ("[" SCENARIO_GROUP "] repeat", value, &self->repeat, error))
            return FALSE;
        }
      else
        {
          set_key_error (error, SCENARIO_GROUP, key,
                         "unknown key (the keys of [" SCENARIO_GROUP "] are "
                         "name, description, seed, length and repeat)");
          return FALSE;
        }
    }

  if (self->repeat && self->length_ms == 0)
    {
      set_key_error (error, SCENARIO_GROUP, "repeat",
                     "a scenario that repeats needs a length (e.g. length=10m)");
      return FALSE;
    }
  return TRUE;
}

/* A share such as "12.5%": at most two decimals, 0 to 100. */
static gboolean
parse_share (const char *text,
             guint      *out_bp)
{
  gsize whole = strspn (text, "0123456789");
  gsize decimals = 0;
  guint64 value = 0;
  gsize i;

  if (whole == 0 || whole > 3)
    return FALSE;
  for (i = 0; i < whole; i++)
    value = value * 10 + (guint64) (text[i] - '0');
  value *= 100;
  text += whole;
  if (*text == '.')
    {
      text++;
      decimals = strspn (text, "0123456789");
      if (decimals == 0 || decimals > 2)
        return FALSE;
      value += (guint64) (text[0] - '0') * 10;
      if (decimals == 2)
        value += (guint64) (text[1] - '0');
      text += decimals;
    }
  if (strcmp (text, "%") != 0 || value > 10000)
    return FALSE;
  *out_bp = (guint) value;
  return TRUE;
}

/* Hostnames match whatever their ASCII case (they are ASCII: see
 * pm_identity_check_hostname()). */
static guint
hash_hostname (gconstpointer key)
{
  const char *p;
  guint hash = 5381;

  for (p = key; *p != '\0'; p++)
    hash = hash * 33 + (guchar) g_ascii_tolower (*p);
  return hash;
}

static gboolean
equal_hostname (gconstpointer a,
                gconstpointer b)
{
  return g_ascii_strcasecmp (a, b) == 0;
}

/* A set of @names, which it does not own. */
static GHashTable *
name_set_new (char **names)
{
  GHashTable *set = g_hash_table_new (hash_hostname, equal_hostname);
  gsize i;

  for (i = 0; names[i] != NULL; i++)
    g_hash_table_add (set, names[i]);
  return set;
}

static gint
compare_ranges (gconstpointer a,
                gconstpointer b)
{
  const PmScenarioPortRange *ra = a, *rb = b;

  return (ra->first > rb->first) - (ra->first < rb->first);
}

static gboolean
append_port_range (guint    first,
                   guint    last,
                   gpointer user_data,
                   GError **error)
{
  GArray *ranges = user_data;
  PmScenarioPortRange range = { first, last };

  g_array_append_val (ranges, range);
  return TRUE;
}

/* A list of ports and FIRST-LAST ranges, read by pm_parse_port_ranges()
 * as pm_parse_ports() reads it and with its messages, kept as ranges: a
 * range of 60 000 ports costs what one port does.  Sorted, and merged
 * where they touch; a port listed twice is found among the sorted ranges
 * rather than port by port, for the same reason.
 *
 * Returns: (transfer full) (element-type PmScenarioPortRange) (nullable):
 *   the ranges, or %NULL on error */
static GArray *
parse_port_ranges (const char *source,
                   const char *text,
                   GError    **error)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (PmScenarioPortRange));
  guint i, kept;

  /* Every entry is read before any port listed twice is looked for. */
  if (!pm_parse_port_ranges (source, text, append_port_range, ranges, error))
    return NULL;

  /* Sorted by first port, a range that starts at or before the end of
   * the one before overlaps it: its first port is listed twice. */
  g_array_sort (ranges, compare_ranges);
  kept = 0;
  for (i = 0; i < ranges->len; i++)
    {
      PmScenarioPortRange *range = &g_array_index (ranges, PmScenarioPortRange, i);
      PmScenarioPortRange *last_kept = kept > 0 ? &g_array_index (ranges, PmScenarioPortRange, kept - 1) : NULL;

      if (last_kept != NULL && range->first <= last_kept->last)
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "%s: port %u is listed twice", source, range->first);
          return NULL;
        }
      if (last_kept != NULL && range->first == last_kept->last + 1)
        last_kept->last = range->last;
      else
        g_array_index (ranges, PmScenarioPortRange, kept++) = *range;
    }
  g_array_set_size (ranges, kept);
  return g_steal_pointer (&ranges);
}

static gboolean
parse_selector (PmScenarioStep *step,
                const char     *group,
                const char     *text,
                GError        **error)
{
  g_autofree char *source = NULL;
  g_autofree char *quoted_group = pm_quote (group, -1);
  const char *colon = strchr (text, ':');
  g_autofree char *prefix = colon != NULL ? g_strndup (text, colon - text) : g_strdup (text);
  const char *rest = colon != NULL ? colon + 1 : NULL;

  source = g_strdup_printf ("[%s] select", quoted_group);
  step->select_text = g_strdup (text);

  if (strcmp (text, "all") == 0)
    {
      step->selector = PM_SCENARIO_SELECT_ALL;
      return TRUE;
    }
  if (rest != NULL && strcmp (prefix, "name") == 0)
    {
      if (!pm_identity_check_hostname (rest, error))
        {
          g_prefix_error (error, "%s: ", source);
          return FALSE;
        }
      step->selector = PM_SCENARIO_SELECT_NAMES;
      step->names = g_new0 (char *, 2);
      step->names[0] = g_strdup (rest);
      step->name_set = name_set_new (step->names);
      return TRUE;
    }
  if (rest != NULL && strcmp (prefix, "names") == 0)
    {
      g_auto(GStrv) names = g_strsplit (rest, ",", -1);
      gsize i;

      for (i = 0; names[i] != NULL; i++)
        {
          g_strstrip (names[i]);
          if (!pm_identity_check_hostname (names[i], error))
            {
              g_prefix_error (error, "%s: ", source);
              return FALSE;
            }
        }
      if (i == 0)
        {
          set_key_error (error, group, "select", "names: lists no hostname");
          return FALSE;
        }
      step->selector = PM_SCENARIO_SELECT_NAMES;
      step->names = g_steal_pointer (&names);
      step->name_set = name_set_new (step->names);
      return TRUE;
    }
  if (rest != NULL && (strcmp (prefix, "port") == 0 || strcmp (prefix, "ports") == 0))
    {
      g_autoptr(GArray) ranges = NULL;

      if (prefix[4] == '\0')
        {
          PmScenarioPortRange range;

          if (!pm_parse_port (source, rest, &range.first, error))
            return FALSE;
          range.last = range.first;
          ranges = g_array_sized_new (FALSE, FALSE, sizeof (PmScenarioPortRange), 1);
          g_array_append_val (ranges, range);
        }
      else if ((ranges = parse_port_ranges (source, rest, error)) == NULL)
        return FALSE;
      step->selector = PM_SCENARIO_SELECT_PORTS;
      step->port_ranges = g_steal_pointer (&ranges);
      return TRUE;
    }
  if (rest != NULL && strcmp (prefix, "profile") == 0)
    {
      if (pm_profile_lookup (rest) == NULL)
        {
          g_autofree char *quoted = pm_quote (rest, -1);
          g_autofree char *names = pm_profile_dup_names (", ");

          set_key_error (error, group, "select",
                         "unknown profile '%s' (the profiles are %s)", quoted, names);
          return FALSE;
        }
      step->selector = PM_SCENARIO_SELECT_PROFILE;
      step->profile = g_strdup (rest);
      return TRUE;
    }
  if (rest != NULL && strcmp (prefix, "share") == 0)
    {
      if (!parse_share (rest, &step->share_bp))
        {
          g_autofree char *quoted = pm_quote (rest, -1);

          set_key_error (error, group, "select",
                         "'%s' is not a share (a percentage from 0%% to 100%%, "
                         "at most two decimals, e.g. share:12.5%%)",
                         quoted);
          return FALSE;
        }
      step->selector = PM_SCENARIO_SELECT_SHARE;
      return TRUE;
    }

  {
    g_autofree char *quoted = pm_quote (text, -1);

    set_key_error (error, group, "select",
                   "'%s' is not a selector (use all, name:HOSTNAME, "
                   "names:HOSTNAME,..., port:PORT, ports:LIST, profile:PROFILE "
                   "or share:PERCENT%%)",
                   quoted);
  }
  return FALSE;
}

/* The shortest time between two firings of @step, or 0 if it never
 * fires twice. */
static gint64
shortest_gap (const PmScenario     *self,
              const PmScenarioStep *step)
{
  gint64 gap = step->every_ms;

  if (self->repeat)
    {
      /* From the cycle's last firing to the next cycle's first. */
      gint64 last = step->at_ms;

      if (step->every_ms > 0)
        last += (self->length_ms - 1 - step->at_ms) / step->every_ms * step->every_ms;
      gap = gap > 0 ? MIN (gap, self->length_ms - last + step->at_ms)
                    : self->length_ms - last + step->at_ms;
    }
  return gap;
}

static PmScenarioStep *
parse_step (PmScenario *self,
            GKeyFile   *key_file,
            const char *group,
            GError    **error)
{
  g_autoptr(PmScenarioStep) step = g_new0 (PmScenarioStep, 1);
  g_auto(GStrv) keys = get_keys_once (key_file, group, error);
  g_autoptr(GPtrArray) parameters = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *fault = NULL;
  g_autofree char *action = NULL;
  g_autofree char *kind = NULL;
  gboolean has_at = FALSE, has_select = FALSE, has_for = FALSE;
  const char *unknown_key = NULL;
  gsize i;

  if (keys == NULL)
    return NULL;

  step->name = g_strdup (group + strlen (STEP_PREFIX));
  step->clear_kind = PM_FAULT_N_KINDS;

  for (i = 0; keys[i] != NULL; i++)
    {
      const char *key = keys[i];
      g_autofree char *value = get_value (key_file, group, key, error);

      if (value == NULL)
        return NULL;

      if (strcmp (key, "at") == 0 || strcmp (key, "every") == 0 ||
          strcmp (key, "for") == 0)
        {
          gint64 ms;

          if (!pm_scenario_parse_duration (value, &ms, error))
            {
              prefix_key_error (error, group, key);
              return NULL;
            }
          if (key[0] == 'a')
            {
              step->at_ms = ms;
              has_at = TRUE;
            }
          else if (key[0] == 'e')
            {
              if (ms < PM_SCENARIO_MIN_EVERY_MS)
                {
                  set_key_error (error, group, key, "a step cannot repeat more often than every %dms",
                                 PM_SCENARIO_MIN_EVERY_MS);
                  return NULL;
                }
              step->every_ms = ms;
            }
          else
            {
              if (ms == 0)
                {
                  set_key_error (error, group, key, "a fault cannot last 0 (leave for= out to keep it)");
                  return NULL;
                }
              step->duration_ms = ms;
              has_for = TRUE;
            }
        }
      else if (strcmp (key, "select") == 0)
        {
          if (!parse_selector (step, group, value, error))
            return NULL;
          has_select = TRUE;
        }
      else if (strcmp (key, "fault") == 0)
        fault = g_steal_pointer (&value);
      else if (strcmp (key, "action") == 0)
        action = g_steal_pointer (&value);
      else if (strcmp (key, "kind") == 0)
        kind = g_steal_pointer (&value);
      else
        {
          /* The fault's parameters, checked with the fault. */
          if (unknown_key == NULL)
            unknown_key = key;
          g_ptr_array_add (parameters, g_strdup_printf ("%s=%s", key, value));
        }
    }

  if (!has_select)
    {
      set_key_error (error, group, NULL, "select= is missing (e.g. select=all)");
      return NULL;
    }
  if (!has_at && step->every_ms == 0)
    {
      set_key_error (error, group, NULL, "at= or every= is missing (e.g. at=10s)");
      return NULL;
    }
  if (!has_at)
    step->at_ms = step->every_ms;

  if (fault != NULL && action != NULL)
    {
      set_key_error (error, group, NULL, "fault= and action= exclude each other");
      return NULL;
    }
  if (fault == NULL && action == NULL)
    {
      set_key_error (error, group, NULL,
                     "fault= or action= is missing (e.g. fault=offline or action=restart)");
      return NULL;
    }

  if (fault != NULL)
    {
      if (kind != NULL)
        {
          set_key_error (error, group, "kind", "only action=clear takes kind= (a fault step names its fault with fault=)");
          return NULL;
        }
      g_ptr_array_add (parameters, NULL);
      step->action = PM_SCENARIO_ACTION_FAULT;
      step->fault = pm_fault_new_from_strings (fault, (const char *const *) parameters->pdata, error);
      if (step->fault == NULL)
        {
          prefix_key_error (error, group, NULL);
          return NULL;
        }
    }
  else
    {
      if (strcmp (action, "restart") == 0)
        step->action = PM_SCENARIO_ACTION_RESTART;
      else if (strcmp (action, "clear") == 0)
        step->action = PM_SCENARIO_ACTION_CLEAR;
      else
        {
          g_autofree char *quoted = pm_quote (action, -1);

          set_key_error (error, group, "action", "'%s' is not an action (use restart or clear)", quoted);
          return NULL;
        }
      if (unknown_key != NULL)
        {
          set_key_error (error, group, unknown_key,
                         "unknown key (an action step takes at, every, select, action and, "
                         "with action=clear, kind)");
          return NULL;
        }
      if (has_for)
        {
          set_key_error (error, group, "for", "only a fault step takes for=");
          return NULL;
        }
      if (kind != NULL)
        {
          if (step->action != PM_SCENARIO_ACTION_CLEAR)
            {
              set_key_error (error, group, "kind", "only action=clear takes kind=");
              return NULL;
            }
          if (!pm_fault_kind_from_string (kind, &step->clear_kind))
            {
              g_autofree char *quoted = pm_quote (kind, -1);

              set_key_error (error, group, "kind", "unknown fault '%s'", quoted);
              return NULL;
            }
        }
    }

  if (self->length_ms > 0 && step->at_ms >= self->length_ms)
    {
      g_autofree char *at = format_duration (step->at_ms);
      g_autofree char *length = format_duration (self->length_ms);

      set_key_error (error, group, NULL,
                     "it would first fire at %s, not before the scenario's length (%s)",
                     at, length);
      return NULL;
    }
  /* A short length that repeats fires a step as often as every= would,
   * and is held to the same floor. */
  if (self->repeat && shortest_gap (self, step) > 0 &&
      shortest_gap (self, step) < PM_SCENARIO_MIN_EVERY_MS)
    {
      g_autofree char *shown = format_duration (shortest_gap (self, step));

      set_key_error (error, group, NULL,
                     "with repeat, it would fire again %s later: a step cannot repeat more often than every %dms",
                     shown, PM_SCENARIO_MIN_EVERY_MS);
      return NULL;
    }
  if (has_for)
    {
      gint64 gap = shortest_gap (self, step);

      if (gap > 0 && step->duration_ms >= gap)
        {
          g_autofree char *shown = format_duration (gap);

          set_key_error (error, group, "for",
                         "the fault must end before the step fires again, %s later", shown);
          return NULL;
        }
    }

  return g_steal_pointer (&step);
}

static guint64 firings_per_pass (const PmScenario     *self,
                                 const PmScenarioStep *step);

/* How often @step fires over the long run, in firings a second: every=
 * alone says so; in a scenario that repeats, so do its firings in one
 * pass over the length.  A step that fires once counts for nothing. */
static double
firing_rate (const PmScenario     *self,
             const PmScenarioStep *step)
{
  if (self->repeat)
    return (double) firings_per_pass (self, step) * 1000.0 / (double) self->length_ms;
  if (step->every_ms > 0)
    return 1000.0 / (double) step->every_ms;
  return 0.0;
}

/* The steps together may fire at most PM_SCENARIO_MAX_FIRINGS_PER_S times
 * a second. */
static gboolean
check_firing_rate (const PmScenario *self,
                   GError          **error)
{
  char shown[G_ASCII_DTOSTR_BUF_SIZE];
  double rate = 0.0;
  char *end;
  guint i;

  for (i = 0; i < self->steps->len; i++)
    rate += firing_rate (self, g_ptr_array_index (self->steps, i));
  /* Room for rounding: ten steps every 100ms are exactly 100. */
  if (rate <= PM_SCENARIO_MAX_FIRINGS_PER_S + 1e-6)
    return TRUE;

  /* At most two decimals, without trailing zeros. */
  g_ascii_formatd (shown, sizeof shown, "%.2f", rate);
  end = shown + strlen (shown);
  while (end[-1] == '0')
    *--end = '\0';
  if (end[-1] == '.')
    end[-1] = '\0';
  g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
               "the steps that repeat would fire %s times a second in all, more than the "
               "limit of %d (make every= or the length longer, or repeat fewer steps)",
               shown, PM_SCENARIO_MAX_FIRINGS_PER_S);
  return FALSE;
}

static gint
compare_steps (gconstpointer a,
               gconstpointer b)
{
  const PmScenarioStep *step_a = *(PmScenarioStep *const *) a;
  const PmScenarioStep *step_b = *(PmScenarioStep *const *) b;

  return (step_a->at_ms > step_b->at_ms) - (step_a->at_ms < step_b->at_ms);
}

/**
 * pm_scenario_new_from_data:
 * @data: (array length=length): a scenario, as described in pm-scenario.h
 * @length: the length of @data in bytes
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Parses and checks a whole scenario.  An error names the group and the
 * key at fault and what would be right.  The steps are kept in the order
 * of their first firing; steps that first fire together keep the order
 * of the file.
 *
 * Returns: (transfer full) (nullable): the scenario, or %NULL on error
 */
PmScenario *
pm_scenario_new_from_data (const char *data,
                           gsize       length,
                           GError    **error)
{
  g_autoptr(PmScenario) self = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) groups = NULL;
  gsize i, n_groups;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length > PM_SCENARIO_MAX_BYTES)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "the scenario is %" G_GSIZE_FORMAT " bytes long, more than %d",
                   length, PM_SCENARIO_MAX_BYTES);
      return NULL;
    }
  if (length > 0 && memchr (data, '\0', length) != NULL)
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "the scenario holds a NUL byte: it is not text");
      return NULL;
    }
  if (length > 0 && !g_utf8_validate_len (data, length, NULL))
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "the scenario is not UTF-8 text");
      return NULL;
    }
  if (!check_groups_once (data, length, error))
    return NULL;

  key_file = g_key_file_new ();
  if (!g_key_file_load_from_data (key_file, length > 0 ? data : "", length,
                                  G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "the scenario is not a key file: %s", local_error->message);
      return NULL;
    }

  self = scenario_new ();
  if (g_key_file_has_group (key_file, SCENARIO_GROUP) &&
      !parse_header (self, key_file, error))
    return NULL;

  groups = g_key_file_get_groups (key_file, &n_groups);
  for (i = 0; i < n_groups; i++)
    {
      const char *group = groups[i];
      PmScenarioStep *step;

      if (strcmp (group, SCENARIO_GROUP) == 0)
        continue;
      if (!g_str_has_prefix (group, STEP_PREFIX) || group[strlen (STEP_PREFIX)] == '\0')
        {
          g_autofree char *quoted = pm_quote (group, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "unknown group [%s] (the groups are [" SCENARIO_GROUP "] and "
                       "[" STEP_PREFIX "NAME])",
                       quoted);
          return NULL;
        }
      if (self->steps->len == PM_SCENARIO_MAX_STEPS)
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "the scenario has more than %d steps", PM_SCENARIO_MAX_STEPS);
          return NULL;
        }

      step = parse_step (self, key_file, group, error);
      if (step == NULL)
        return NULL;
      g_ptr_array_add (self->steps, step);
    }

  if (self->steps->len == 0)
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "the scenario has no step (a group [" STEP_PREFIX "NAME])");
      return NULL;
    }
  if (!check_firing_rate (self, error))
    return NULL;

  /* A stable sort: steps that fire together keep the file's order. */
  g_ptr_array_sort (self->steps, compare_steps);
  return g_steal_pointer (&self);
}

/**
 * pm_scenario_new_from_file:
 * @path: a file's path
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Reads and parses a scenario file as pm_scenario_new_from_data() does.
 * A file that cannot be read is a %PM_ERROR_INVALID_ARGUMENT too; every
 * message starts with the file's name.
 *
 * Returns: (transfer full) (nullable): the scenario, or %NULL on error
 */
PmScenario *
pm_scenario_new_from_file (const char *path,
                           GError    **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = NULL;
  PmScenario *self;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display = pm_quote (path, -1);
  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "%s: %s", display, local_error->message);
      return NULL;
    }

  self = pm_scenario_new_from_data (g_mapped_file_get_contents (file),
                                    g_mapped_file_get_length (file), error);
  if (self == NULL)
    g_prefix_error (error, "%s: ", display);
  return self;
}

/**
 * pm_scenario_get_name:
 * @self: a scenario
 *
 * Returns: (nullable): its name= in [scenario]
 */
const char *
pm_scenario_get_name (const PmScenario *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->name;
}

/**
 * pm_scenario_get_description:
 * @self: a scenario
 *
 * Returns: (nullable): its description= in [scenario]
 */
const char *
pm_scenario_get_description (const PmScenario *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->description;
}

/**
 * pm_scenario_get_seed:
 * @self: a scenario
 * @out_seed: (out) (optional): its seed, if it has one
 *
 * Returns: whether the scenario gives its own seed
 */
gboolean
pm_scenario_get_seed (const PmScenario *self,
                      guint64          *out_seed)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->has_seed && out_seed != NULL)
    *out_seed = self->seed;
  return self->has_seed;
}

/**
 * pm_scenario_get_length_ms:
 * @self: a scenario
 *
 * Returns: its length in ms, or 0 if it has none
 */
gint64
pm_scenario_get_length_ms (const PmScenario *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->length_ms;
}

/**
 * pm_scenario_get_repeat:
 * @self: a scenario
 *
 * Returns: whether its timeline starts over at its length
 */
gboolean
pm_scenario_get_repeat (const PmScenario *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->repeat;
}

guint
pm_scenario_get_n_steps (const PmScenario *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->steps->len;
}

/**
 * pm_scenario_get_step:
 * @self: a scenario
 * @index: from 0 to pm_scenario_get_n_steps() - 1
 *
 * Returns: (transfer none): the step that fires @index-th first
 */
const PmScenarioStep *
pm_scenario_get_step (const PmScenario *self,
                      guint             index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->steps->len, NULL);

  return g_ptr_array_index (self->steps, index);
}

/* ---- Selection ---------------------------------------------------------- */

/* FNV-1a, 64 bits: a hash of @text that does not change between runs or
 * versions of GLib. */
static guint64
hash_text (const char *text)
{
  guint64 hash = G_GUINT64_CONSTANT (0xCBF29CE484222325);

  for (; *text != '\0'; text++)
    {
      hash ^= (guchar) *text;
      hash *= G_GUINT64_CONSTANT (0x100000001B3);
    }
  return hash;
}

typedef struct
{
  guint64 key;
  guint   port;
  guint   index;
} Ranked;

static gint
compare_ranked (gconstpointer a,
                gconstpointer b)
{
  const Ranked *ra = a, *rb = b;

  if (ra->key != rb->key)
    return ra->key < rb->key ? -1 : 1;
  if (ra->port != rb->port)
    return ra->port < rb->port ? -1 : 1;
  return (ra->index > rb->index) - (ra->index < rb->index);
}

/* Whether @port is in one of @ranges (sorted, disjoint): a binary
 * search. */
static gboolean
find_port_range (GArray *ranges,
                 guint   port)
{
  guint low = 0, high = ranges->len;

  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      const PmScenarioPortRange *range = &g_array_index (ranges, PmScenarioPortRange, middle);

      if (port < range->first)
        high = middle;
      else if (port > range->last)
        low = middle + 1;
      else
        return TRUE;
    }
  return FALSE;
}

static gboolean
step_matches (const PmScenarioStep   *step,
              const PmScenarioDevice *device)
{
  switch (step->selector)
    {
    case PM_SCENARIO_SELECT_ALL:
      return TRUE;
    case PM_SCENARIO_SELECT_NAMES:
      return device->hostname != NULL && g_hash_table_contains (step->name_set, device->hostname);
    case PM_SCENARIO_SELECT_PORTS:
      return find_port_range (step->port_ranges, device->port);
    case PM_SCENARIO_SELECT_PROFILE:
      return device->profile != NULL && strcmp (device->profile, step->profile) == 0;
    case PM_SCENARIO_SELECT_SHARE:
    default:
      g_assert_not_reached ();
    }
}

/**
 * pm_scenario_select:
 * @step: a step
 * @devices: (array length=n_devices): the fleet
 * @n_devices: how many devices @devices holds
 * @seed: the scenario's seed (its own, else the daemon's)
 * @firing: which firing of @step this is, from 0
 *
 * Picks the devices @step acts on.  Hostnames match whatever their case.
 * A share picks the devices that rank first when ranked by a hash of
 * @seed, the step's name, @firing and the device's port: the same
 * arguments pick the same devices, another seed or another firing picks
 * others, and a device's rank does not depend on the rest of the fleet.
 * It picks the share of @n_devices rounded up (rounded from basis
 * points, so 20% of 10 devices is exactly 2).  Names and ports that match
 * no device are ignored.
 *
 * Returns: (transfer container) (element-type PmScenarioDevice): pointers
 *   into @devices, in the order of @devices
 */
GPtrArray *
pm_scenario_select (const PmScenarioStep   *step,
                    const PmScenarioDevice *devices,
                    guint                   n_devices,
                    guint64                 seed,
                    guint64                 firing)
{
  GPtrArray *picked;
  guint i;

  g_return_val_if_fail (step != NULL, NULL);
  g_return_val_if_fail (devices != NULL || n_devices == 0, NULL);

  picked = g_ptr_array_sized_new (n_devices);

  if (step->selector == PM_SCENARIO_SELECT_SHARE)
    {
      g_autofree Ranked *ranked = g_new (Ranked, MAX (n_devices, 1));
      g_autofree gboolean *chosen = g_new0 (gboolean, MAX (n_devices, 1));
      guint64 base = pm_splitmix64_mix (pm_splitmix64_mix (seed ^ hash_text (step->name))
                                        + firing);
      guint64 wanted = ((guint64) step->share_bp * n_devices + 9999) / 10000;

      for (i = 0; i < n_devices; i++)
        {
          ranked[i].key = pm_splitmix64_mix (base ^ devices[i].port);
          ranked[i].port = devices[i].port;
          ranked[i].index = i;
        }
      qsort (ranked, n_devices, sizeof (Ranked), compare_ranked);
      for (i = 0; i < wanted; i++)
        chosen[ranked[i].index] = TRUE;
      for (i = 0; i < n_devices; i++)
        if (chosen[i])
          g_ptr_array_add (picked, (gpointer) &devices[i]);
      return picked;
    }

  for (i = 0; i < n_devices; i++)
    if (step_matches (step, &devices[i]))
      g_ptr_array_add (picked, (gpointer) &devices[i]);
  return picked;
}

/* ---- Timeline ----------------------------------------------------------- */

/* How many times @step fires in one pass of the timeline: within the
 * length if there is one, else once or without end (G_MAXUINT64). */
static guint64
firings_per_pass (const PmScenario     *self,
                  const PmScenarioStep *step)
{
  if (step->every_ms == 0)
    return 1;
  if (self->length_ms == 0)
    return G_MAXUINT64;
  return (guint64) ((self->length_ms - 1 - step->at_ms) / step->every_ms) + 1;
}

/* When @step fires for the @firing-th time, if it does. */
static gboolean
firing_time (const PmScenario     *self,
             const PmScenarioStep *step,
             guint64               firing,
             gint64               *out_ms)
{
  guint64 per_pass = firings_per_pass (self, step);
  guint64 pass = 0, within = firing;

  if (self->repeat)
    {
      pass = firing / per_pass;
      within = firing % per_pass;
    }
  else if (firing >= per_pass)
    return FALSE;

  if (step->every_ms > 0 &&
      within > (guint64) (G_MAXINT64 - step->at_ms) / (guint64) step->every_ms)
    return FALSE;
  if (self->repeat && pass > (guint64) (G_MAXINT64 / 2 / self->length_ms))
    return FALSE;

  *out_ms = (gint64) pass * self->length_ms + step->at_ms +
            (gint64) within * step->every_ms;
  return TRUE;
}

/* The first firing of @step at or after @from_ms (which may be past its
 * last firing: firing_time() then says there is none). */
static guint64
first_firing_from (const PmScenario     *self,
                   const PmScenarioStep *step,
                   gint64                from_ms)
{
  guint64 per_pass = firings_per_pass (self, step);
  guint64 pass = 0, within;
  gint64 offset = from_ms;

  if (self->repeat)
    {
      if (from_ms <= 0)
        return 0;
      pass = (guint64) (from_ms / self->length_ms);
      offset = from_ms % self->length_ms;
    }

  if (offset <= step->at_ms)
    within = 0;
  else if (step->every_ms == 0)
    within = 1;
  else
    within = (guint64) ((offset - step->at_ms + step->every_ms - 1) / step->every_ms);

  if (self->repeat && within >= per_pass)
    {
      pass++;
      within = 0;
    }
  return pass * per_pass + within;
}

typedef struct
{
  guint64  firing;
  gint64   time_ms;
  gboolean valid;
} Stream;

struct _PmScenarioIter
{
  PmScenario *scenario; /* (owned) */
  Stream     *starts;   /* one per step */
  Stream     *ends;     /* one per step; only steps with a duration */
};

static void
stream_update (const PmScenario     *self,
               const PmScenarioStep *step,
               Stream               *stream,
               gboolean              end)
{
  stream->valid = firing_time (self, step, stream->firing, &stream->time_ms);
  if (stream->valid && end)
    {
      if (stream->time_ms > G_MAXINT64 - step->duration_ms)
        stream->valid = FALSE;
      else
        stream->time_ms += step->duration_ms;
    }
}

/**
 * pm_scenario_iter_new:
 * @scenario: a scenario
 * @from_ms: the earliest time of interest, in ms from the scenario's start
 *
 * Walks @scenario's timeline from @from_ms on: every firing of every
 * step, repeats and passes of a repeating scenario included, and the end
 * of each fault set for a while.  The timeline is a function of time
 * only, so whatever runs the scenario may use any clock.
 *
 * Returns: (transfer full): an iterator; it holds a reference on @scenario
 */
PmScenarioIter *
pm_scenario_iter_new (PmScenario *scenario,
                      gint64      from_ms)
{
  PmScenarioIter *iter;
  guint i, n;

  g_return_val_if_fail (scenario != NULL, NULL);

  n = scenario->steps->len;
  iter = g_new0 (PmScenarioIter, 1);
  iter->scenario = pm_scenario_ref (scenario);
  iter->starts = g_new0 (Stream, n);
  iter->ends = g_new0 (Stream, n);

  for (i = 0; i < n; i++)
    {
      const PmScenarioStep *step = g_ptr_array_index (scenario->steps, i);

      iter->starts[i].firing = first_firing_from (scenario, step, from_ms);
      stream_update (scenario, step, &iter->starts[i], FALSE);
      if (step->duration_ms > 0)
        {
          gint64 start_from = from_ms > G_MININT64 + step->duration_ms
                                ? from_ms - step->duration_ms
                                : G_MININT64;

          iter->ends[i].firing = first_firing_from (scenario, step, start_from);
          stream_update (scenario, step, &iter->ends[i], TRUE);
        }
    }
  return iter;
}

/**
 * pm_scenario_iter_next:
 * @iter: an iterator
 * @out_event: (out): the next event
 *
 * Gives the next event in time.  Events at the same time come ends
 * first (so a fault cleared and set again at one instant stays set),
 * then in the order of the steps.
 *
 * Returns: %FALSE when the timeline has no more events
 */
gboolean
pm_scenario_iter_next (PmScenarioIter  *iter,
                       PmScenarioEvent *out_event)
{
  const PmScenario *self;
  Stream *best = NULL;
  guint best_index = 0;
  gboolean best_end = FALSE;
  guint i, n;

  g_return_val_if_fail (iter != NULL, FALSE);
  g_return_val_if_fail (out_event != NULL, FALSE);

  self = iter->scenario;
  n = self->steps->len;

  /* Ends before starts at the same time, then the lower step. */
  for (i = 0; i < n; i++)
    {
      if (iter->ends[i].valid &&
          (best == NULL || iter->ends[i].time_ms < best->time_ms))
        {
          best = &iter->ends[i];
          best_index = i;
          best_end = TRUE;
        }
    }
  for (i = 0; i < n; i++)
    {
      if (iter->starts[i].valid &&
          (best == NULL || iter->starts[i].time_ms < best->time_ms))
        {
          best = &iter->starts[i];
          best_index = i;
          best_end = FALSE;
        }
    }
  if (best == NULL)
    return FALSE;

  out_event->time_ms = best->time_ms;
  out_event->step_index = best_index;
  out_event->firing = best->firing;
  out_event->end = best_end;

  best->firing++;
  stream_update (self, g_ptr_array_index (self->steps, best_index), best, best_end);
  return TRUE;
}

void
pm_scenario_iter_free (PmScenarioIter *iter)
{
  if (iter == NULL)
    return;
  g_free (iter->starts);
  g_free (iter->ends);
  pm_scenario_unref (iter->scenario);
  g_free (iter);
}
