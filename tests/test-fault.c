/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-fault"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pm-error.h"
#include "pm-fault.h"

/*
 * Unit tests of the fault descriptions: every kind with good parameters
 * from the bus (every integer type and a double for a number) and from
 * strings, every kind of bad input for every kind, the bus form and its
 * round trip, and the seeded draws.
 *
 * The kinds, their parameters, ranges and defaults are written down
 * again here, from the interface, and the code is checked against them.
 */

typedef enum
{
  T_WHOLE,  /* a whole number */
  T_NUMBER, /* any number */
  T_BOOL,
  T_PATH,
  T_MODE,
  T_TEXT,
} TType;

typedef struct
{
  const char *name;
  TType       type;
  gboolean    required;
  double      min, max;
  double      default_number;
  const char *default_text;
} TParam;

typedef struct
{
  const char *name;
  PmFaultKind kind;
  gboolean    miner;
  TParam      params[4];
} TKind;

static const TKind expected_kinds[] = {
  { "latency", PM_FAULT_LATENCY, FALSE, {
      { "ms", T_WHOLE, TRUE, 0, 60000, 0, NULL },
      { "jitter-ms", T_WHOLE, FALSE, 0, 60000, 0, NULL },
    } },
  { "errors", PM_FAULT_ERRORS, FALSE, {
      { "status", T_WHOLE, FALSE, 400, 599, 500, NULL },
      { "rate", T_NUMBER, FALSE, 0, 1, 1, NULL },
      { "path", T_PATH, FALSE, 0, 0, 0, NULL },
    } },
  { "offline", PM_FAULT_OFFLINE, FALSE, { { NULL } } },
  { "blackhole", PM_FAULT_BLACKHOLE, FALSE, { { NULL } } },
  { "flapping", PM_FAULT_FLAPPING, FALSE, {
      { "up-s", T_NUMBER, TRUE, 0.1, 86400, 0, NULL },
      { "down-s", T_NUMBER, TRUE, 0.1, 86400, 0, NULL },
    } },
  { "corrupt", PM_FAULT_CORRUPT, FALSE, {
      { "mode", T_MODE, TRUE, 0, 0, 0, NULL },
      { "rate", T_NUMBER, FALSE, 0, 1, 1, NULL },
    } },
  { "slow-body", PM_FAULT_SLOW_BODY, FALSE, {
      { "bytes-per-s", T_WHOLE, TRUE, 1, 1e9, 0, NULL },
    } },
  { "ws-drop", PM_FAULT_WS_DROP, FALSE, {
      { "interval-s", T_NUMBER, TRUE, 0.1, 86400, 0, NULL },
      { "clean", T_BOOL, FALSE, 0, 0, 0, NULL },
    } },
  { "ws-silent", PM_FAULT_WS_SILENT, FALSE, { { NULL } } },
  { "reboot-loop", PM_FAULT_REBOOT_LOOP, FALSE, {
      { "interval-s", T_NUMBER, TRUE, 1, 86400, 0, NULL },
    } },
  { "overheat", PM_FAULT_OVERHEAT, TRUE, {
      { "rate-c-per-min", T_NUMBER, FALSE, 0.1, 100, 5, NULL },
    } },
  { "fan-failure", PM_FAULT_FAN_FAILURE, TRUE, { { NULL } } },
  { "asic-failure", PM_FAULT_ASIC_FAILURE, TRUE, {
      { "domain", T_WHOLE, FALSE, 0, 15, 0, NULL },
      { "asic", T_WHOLE, FALSE, 0, 15, 0, NULL },
    } },
  { "pool-down", PM_FAULT_POOL_DOWN, TRUE, { { NULL } } },
  { "power-fault", PM_FAULT_POWER_FAULT, TRUE, {
      { "message", T_TEXT, FALSE, 0, 0, 0, "Power fault detected" },
    } },
};

static const char *const modes[] = {
  "truncate", "invalid-json", "strings", "missing-fields", "content-type",
};

/* ---- Reading a fault by the interface's names --------------------------- */

static double
get_number (const PmFault *fault,
            const char    *name)
{
  if (strcmp (name, "ms") == 0)
    return fault->ms;
  if (strcmp (name, "jitter-ms") == 0)
    return fault->jitter_ms;
  if (strcmp (name, "status") == 0)
    return fault->status;
  if (strcmp (name, "rate") == 0)
    return fault->rate;
  if (strcmp (name, "up-s") == 0)
    return fault->up_s;
  if (strcmp (name, "down-s") == 0)
    return fault->down_s;
  if (strcmp (name, "bytes-per-s") == 0)
    return (double) fault->bytes_per_s;
  if (strcmp (name, "interval-s") == 0)
    return fault->interval_s;
  if (strcmp (name, "rate-c-per-min") == 0)
    return fault->rate_c_per_min;
  if (strcmp (name, "domain") == 0)
    return fault->domain;
  if (strcmp (name, "asic") == 0)
    return fault->asic;
  g_assert_not_reached ();
}

static const char *
get_text (const PmFault *fault,
          const char    *name)
{
  if (strcmp (name, "path") == 0)
    return fault->path;
  if (strcmp (name, "message") == 0)
    return fault->message;
  if (strcmp (name, "mode") == 0)
    return pm_fault_corrupt_mode_to_string (fault->mode);
  g_assert_not_reached ();
}

static guint
n_params (const TKind *kind)
{
  guint n = 0;

  while (kind->params[n].name != NULL)
    n++;
  return n;
}

static gboolean
is_number (TType type)
{
  return type == T_WHOLE || type == T_NUMBER;
}

/* A good value for @param, other than its default. */
static double
good_number (const TParam *param)
{
  double value = floor ((param->min + param->max) / 2);

  if (value == param->default_number)
    value += 1;
  return value;
}

static GVariant *
good_variant (const TParam *param)
{
  switch (param->type)
    {
    case T_WHOLE:
      return g_variant_new_uint32 ((guint32) good_number (param));
    case T_NUMBER:
      return g_variant_new_double (good_number (param));
    case T_BOOL:
      return g_variant_new_boolean (TRUE);
    case T_PATH:
      return g_variant_new_string ("/api/system/info");
    case T_MODE:
      return g_variant_new_string ("strings");
    case T_TEXT:
      return g_variant_new_string ("Input voltage too low");
    default:
      g_assert_not_reached ();
    }
}

static char *
good_string (const TParam *param)
{
  switch (param->type)
    {
    case T_WHOLE:
    case T_NUMBER:
      return g_strdup_printf ("%s=%.0f", param->name, good_number (param));
    case T_BOOL:
      return g_strdup_printf ("%s=true", param->name);
    case T_PATH:
      return g_strdup_printf ("%s=/api/system/info", param->name);
    case T_MODE:
      return g_strdup_printf ("%s=strings", param->name);
    case T_TEXT:
      return g_strdup_printf ("%s=Input voltage too low", param->name);
    default:
      g_assert_not_reached ();
    }
}

/* Checks that @fault holds @param's good value. */
static void
assert_good_value (const PmFault *fault,
                   const TParam  *param)
{
  switch (param->type)
    {
    case T_WHOLE:
    case T_NUMBER:
      g_assert_cmpfloat (get_number (fault, param->name), ==, good_number (param));
      break;
    case T_BOOL:
      g_assert_true (fault->clean);
      break;
    case T_PATH:
      g_assert_cmpstr (get_text (fault, param->name), ==, "/api/system/info");
      break;
    case T_MODE:
      g_assert_cmpstr (get_text (fault, param->name), ==, "strings");
      break;
    case T_TEXT:
      g_assert_cmpstr (get_text (fault, param->name), ==, "Input voltage too low");
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Checks that @fault holds @param's default. */
static void
assert_default_value (const PmFault *fault,
                      const TParam  *param)
{
  switch (param->type)
    {
    case T_WHOLE:
    case T_NUMBER:
      g_assert_cmpfloat (get_number (fault, param->name), ==, param->default_number);
      break;
    case T_BOOL:
      g_assert_false (fault->clean);
      break;
    case T_PATH:
      g_assert_null (get_text (fault, param->name));
      break;
    case T_TEXT:
      g_assert_cmpstr (get_text (fault, param->name), ==, param->default_text);
      break;
    case T_MODE: /* required */
    default:
      g_assert_not_reached ();
    }
}

/* ---- Building parameters, checking errors ------------------------------ */

/* An a{sv} of the NULL-terminated name, value pairs that follow; the
 * values are floating. */
static GVariant *
vardict (const char *first_name,
         ...)
{
  GVariantBuilder builder;
  const char *name;
  va_list args;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  va_start (args, first_name);
  for (name = first_name; name != NULL; name = va_arg (args, const char *))
    g_variant_builder_add (&builder, "{sv}", name, va_arg (args, GVariant *));
  va_end (args);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* An a{sv} with @param's good value, every other required parameter of
 * @kind (good too) and, if @extra_name is not NULL, @extra_value under
 * that name instead of @param's. */
static GVariant *
required_and (const TKind  *kind,
              const TParam *skip,
              const char   *extra_name,
              GVariant     *extra_value)
{
  GVariantBuilder builder;
  guint i;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (i = 0; kind->params[i].name != NULL; i++)
    {
      const TParam *param = &kind->params[i];

      if (param == skip || !param->required)
        continue;
      g_variant_builder_add (&builder, "{sv}", param->name, good_variant (param));
    }
  if (extra_name != NULL)
    g_variant_builder_add (&builder, "{sv}", extra_name, extra_value);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static GPtrArray *
required_strings (const TKind  *kind,
                  const TParam *skip)
{
  GPtrArray *strings = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; kind->params[i].name != NULL; i++)
    if (&kind->params[i] != skip && kind->params[i].required)
      g_ptr_array_add (strings, good_string (&kind->params[i]));
  return strings;
}

static void
assert_message_has (const GError      *error,
                    const char *const *parts)
{
  gsize i;

  g_test_message ("message: %s", error->message);
  for (i = 0; parts[i] != NULL; i++)
    if (strstr (error->message, parts[i]) == NULL)
      g_error ("'%s' is not in the message '%s'", parts[i], error->message);
}

/* Checks that the variant form of @kind with @parameters fails with a
 * message holding every string of @parts (NULL-terminated). */
static void
assert_variant_fails (const char        *kind,
                      GVariant          *parameters,
                      const char *const *parts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmFault) fault = pm_fault_new_from_variant (kind, parameters, &error);

  g_assert_null (fault);
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  assert_message_has (error, parts);
}

static void
assert_strings_fail (const char        *kind,
                     GPtrArray         *key_values,
                     const char *const *parts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PmFault) fault = NULL;

  g_ptr_array_add (key_values, NULL);
  fault = pm_fault_new_from_strings (kind, (const char *const *) key_values->pdata, &error);
  g_ptr_array_remove_index (key_values, key_values->len - 1);
  g_assert_null (fault);
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  assert_message_has (error, parts);
}

static PmFault *
strings_ok (const char *kind,
            GPtrArray  *key_values)
{
  g_autoptr(GError) error = NULL;
  PmFault *fault;

  g_ptr_array_add (key_values, NULL);
  fault = pm_fault_new_from_strings (kind, (const char *const *) key_values->pdata, &error);
  g_ptr_array_remove_index (key_values, key_values->len - 1);
  g_assert_no_error (error);
  g_assert_nonnull (fault);
  return fault;
}

/* A number as the messages write it: whole numbers without a fraction. */
static char *
number_text (double value)
{
  if (value == floor (value))
    return g_strdup_printf ("%.0f", value);
  return g_strdup_printf ("%g", value);
}

/* ---- Tests -------------------------------------------------------------- */

static void
test_kinds (void)
{
  gsize i;
  guint n_miner = 0;

  g_assert_cmpuint (G_N_ELEMENTS (expected_kinds), ==, PM_FAULT_N_KINDS);
  for (i = 0; i < G_N_ELEMENTS (expected_kinds); i++)
    {
      const TKind *kind = &expected_kinds[i];
      PmFaultKind value = PM_FAULT_N_KINDS;
      g_autofree char *upper = g_ascii_strup (kind->name, -1);

      g_assert_cmpstr (pm_fault_kind_to_string (kind->kind), ==, kind->name);
      g_assert_true (pm_fault_kind_from_string (kind->name, &value));
      g_assert_cmpint (value, ==, kind->kind);
      g_assert_false (pm_fault_kind_from_string (upper, &value));
      g_assert_cmpint (pm_fault_kind_needs_miner (kind->kind), ==, kind->miner);
      n_miner += kind->miner;
    }
  g_assert_cmpuint (n_miner, ==, 5);
  g_assert_false (pm_fault_kind_from_string ("", NULL));
  g_assert_false (pm_fault_kind_from_string ("latency ", NULL));

  for (i = 0; i < G_N_ELEMENTS (modes); i++)
    g_assert_cmpstr (pm_fault_corrupt_mode_to_string ((PmFaultCorruptMode) i), ==, modes[i]);
}

/* Every kind with only its required parameters takes the defaults of the
 * others, from the bus and from strings; no parameters at all (NULL) is
 * fine for a kind that requires none. */
static void
test_defaults (void)
{
  gsize i;
  guint j;

  for (i = 0; i < G_N_ELEMENTS (expected_kinds); i++)
    {
      const TKind *kind = &expected_kinds[i];
      g_autoptr(GVariant) parameters = required_and (kind, NULL, NULL, NULL);
      g_autoptr(GPtrArray) strings = required_strings (kind, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(PmFault) from_variant = NULL;
      g_autoptr(PmFault) from_strings = NULL;
      gboolean any_required = FALSE;

      g_test_message ("kind %s", kind->name);
      from_variant = pm_fault_new_from_variant (kind->name, parameters, &error);
      g_assert_no_error (error);
      g_assert_cmpint (from_variant->kind, ==, kind->kind);
      from_strings = strings_ok (kind->name, strings);
      g_assert_cmpint (from_strings->kind, ==, kind->kind);

      for (j = 0; kind->params[j].name != NULL; j++)
        {
          const TParam *param = &kind->params[j];

          any_required |= param->required;
          if (param->required)
            {
              assert_good_value (from_variant, param);
              assert_good_value (from_strings, param);
            }
          else
            {
              assert_default_value (from_variant, param);
              assert_default_value (from_strings, param);
            }
        }

      if (!any_required)
        {
          g_autoptr(PmFault) bare = pm_fault_new_from_variant (kind->name, NULL, &error);
          g_autoptr(PmFault) bare_strings = pm_fault_new_from_strings (kind->name, NULL, &error);

          g_assert_no_error (error);
          g_assert_nonnull (bare);
          g_assert_nonnull (bare_strings);
        }
    }
}

/* Every number parameter of every kind takes each integer type that can
 * hold a value in its range, and a double. */
static void
test_number_types (void)
{
  static const char *const types[] = { "y", "n", "q", "i", "u", "x", "t", "d" };
  gsize i, t;
  guint j, checked = 0;

  for (i = 0; i < G_N_ELEMENTS (expected_kinds); i++)
    {
      const TKind *kind = &expected_kinds[i];

      for (j = 0; kind->params[j].name != NULL; j++)
        {
          const TParam *param = &kind->params[j];

          if (!is_number (param->type))
            continue;
          for (t = 0; t < G_N_ELEMENTS (types); t++)
            {
              g_autoptr(GVariant) parameters = NULL;
              g_autoptr(GError) error = NULL;
              g_autoptr(PmFault) fault = NULL;
              double value = good_number (param);
              GVariant *number;

              /* Within what the type holds. */
              if (types[t][0] == 'y')
                value = MIN (value, 255);
              else if (types[t][0] == 'n')
                value = MIN (value, 32767);
              else if (types[t][0] == 'q')
                value = MIN (value, 65535);
              else if (types[t][0] == 'd' && param->type == T_NUMBER && param->max > 1)
                value += 0.25;
              if (value < param->min)
                continue;

              switch (types[t][0])
                {
                case 'y':
                  number = g_variant_new_byte ((guchar) value);
                  break;
                case 'n':
                  number = g_variant_new_int16 ((gint16) value);
                  break;
                case 'q':
                  number = g_variant_new_uint16 ((guint16) value);
                  break;
                case 'i':
                  number = g_variant_new_int32 ((gint32) value);
                  break;
                case 'u':
                  number = g_variant_new_uint32 ((guint32) value);
                  break;
                case 'x':
                  number = g_variant_new_int64 ((gint64) value);
                  break;
                case 't':
                  number = g_variant_new_uint64 ((guint64) value);
                  break;
                case 'd':
                default:
                  number = g_variant_new_double (value);
                  break;
                }

              g_test_message ("%s %s as %s: %g", kind->name, param->name, types[t], value);
              parameters = required_and (kind, param, param->name, number);
              fault = pm_fault_new_from_variant (kind->name, parameters, &error);
              g_assert_no_error (error);
              g_assert_cmpfloat (get_number (fault, param->name), ==, value);
              checked++;
            }
        }
    }
  /* 11 number parameters, most in every type. */
  g_assert_cmpuint (checked, >, 70);
}

/* Every parameter of every kind, given alone with a good value that is
 * not its default, from the bus and from strings; the extremes of each
 * range are in it. */
static void
test_every_parameter (void)
{
  gsize i;
  guint j;

  for (i = 0; i < G_N_ELEMENTS (expected_kinds); i++)
    {
      const TKind *kind = &expected_kinds[i];

      for (j = 0; kind->params[j].name != NULL; j++)
        {
          const TParam *param = &kind->params[j];
          g_autoptr(GVariant) parameters = required_and (kind, param, param->name, good_variant (param));
          g_autoptr(GPtrArray) strings = required_strings (kind, param);
          g_autoptr(GError) error = NULL;
          g_autoptr(PmFault) fault = NULL;
          g_autoptr(PmFault) fault_strings = NULL;

          g_test_message ("%s %s", kind->name, param->name);
          fault = pm_fault_new_from_variant (kind->name, parameters, &error);
          g_assert_no_error (error);
          assert_good_value (fault, param);

          g_ptr_array_add (strings, good_string (param));
          fault_strings = strings_ok (kind->name, strings);
          assert_good_value (fault_strings, param);

          if (is_number (param->type))
            {
              double ends[] = { param->min, param->max };
              gsize e;

              for (e = 0; e < G_N_ELEMENTS (ends); e++)
                {
                  g_autoptr(GVariant) edge = required_and (kind, param, param->name,
                                                           g_variant_new_double (ends[e]));
                  g_autoptr(PmFault) edge_fault = pm_fault_new_from_variant (kind->name, edge, &error);
                  g_autoptr(GPtrArray) edge_strings = required_strings (kind, param);
                  g_autoptr(PmFault) edge_fault_strings = NULL;
                  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

                  g_assert_no_error (error);
                  g_assert_cmpfloat (get_number (edge_fault, param->name), ==, ends[e]);

                  g_ptr_array_add (edge_strings, g_strdup_printf ("%s=%s", param->name,
                                                                  g_ascii_dtostr (buffer, sizeof buffer, ends[e])));
                  edge_fault_strings = strings_ok (kind->name, edge_strings);
                  g_assert_cmpfloat (get_number (edge_fault_strings, param->name), ==, ends[e]);
                }
            }
        }
    }
}

/* An unknown kind, in both forms, names the kind and lists the kinds. */
static void
test_unknown_kind (void)
{
  g_autoptr(GVariant) none = vardict (NULL);
  g_autoptr(GPtrArray) strings = g_ptr_array_new ();
  const char *const parts[] = { "unknown fault", "'slow'", "latency", "power-fault", NULL };
  const char *const control[] = { "unknown fault", "\\n", NULL };

  assert_variant_fails ("slow", none, parts);
  assert_strings_fail ("slow", strings, parts);
  assert_variant_fails ("Latency", NULL, (const char *const[]) { "'Latency'", NULL });
  assert_variant_fails ("", NULL, (const char *const[]) { "unknown fault ''", NULL });
  /* Client text is quoted: a newline cannot split the message. */
  assert_strings_fail ("late\nncy", strings, control);
}

/* Each class of error, for each kind, from the bus and from strings. */
static void
test_errors_per_kind (void)
{
  gsize i;
  guint j;

  for (i = 0; i < G_N_ELEMENTS (expected_kinds); i++)
    {
      const TKind *kind = &expected_kinds[i];
      const char *name = kind->name;

      g_test_message ("kind %s", name);

      /* A parameter the kind does not have. */
      {
        g_autoptr(GVariant) parameters = required_and (kind, NULL, "colour", g_variant_new_string ("red"));
        g_autoptr(GPtrArray) strings = required_strings (kind, NULL);
        const char *const parts[] = { name, "'colour'", NULL };

        g_ptr_array_add (strings, g_strdup ("colour=red"));
        assert_variant_fails (name, parameters, parts);
        assert_strings_fail (name, strings, parts);
        if (n_params (kind) == 0)
          {
            const char *const none[] = { name, "takes no parameters", "'colour'", NULL };

            assert_variant_fails (name, parameters, none);
            assert_strings_fail (name, strings, none);
          }
        else
          {
            /* The message lists the parameters there are. */
            const char *const list[] = { "has no parameter", kind->params[0].name, NULL };

            assert_variant_fails (name, parameters, list);
          }
      }

      /* A kind without parameters refuses even another kind's one. */
      if (n_params (kind) == 0)
        {
          g_autoptr(GVariant) parameters = vardict ("ms", g_variant_new_uint32 (10), NULL);
          g_autoptr(GPtrArray) strings = g_ptr_array_new ();
          const char *const parts[] = { name, "takes no parameters", "'ms'", NULL };

          g_ptr_array_add (strings, (char *) "ms=10");
          assert_variant_fails (name, parameters, parts);
          assert_strings_fail (name, strings, parts);
        }

      for (j = 0; kind->params[j].name != NULL; j++)
        {
          const TParam *param = &kind->params[j];

          g_test_message ("parameter %s", param->name);

          /* Missing, if required. */
          if (param->required)
            {
              g_autoptr(GVariant) parameters = required_and (kind, param, NULL, NULL);
              g_autoptr(GPtrArray) strings = required_strings (kind, param);
              const char *const parts[] = { name, param->name, "is required", NULL };

              assert_variant_fails (name, parameters, parts);
              assert_strings_fail (name, strings, parts);
            }

          /* Given twice, even with the same good value. */
          {
            g_autoptr(GVariant) parameters = NULL;
            g_autoptr(GPtrArray) strings = required_strings (kind, param);
            GVariantBuilder builder;
            const char *const parts[] = { name, param->name, "twice", NULL };

            parameters = required_and (kind, param, param->name, good_variant (param));
            {
              /* Append the same entry again. */
              GVariantIter iter;
              GVariant *child;
              g_autoptr(GVariant) twice = NULL;

              g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
              g_variant_iter_init (&iter, parameters);
              while ((child = g_variant_iter_next_value (&iter)) != NULL)
                {
                  g_variant_builder_add_value (&builder, child);
                  g_variant_unref (child);
                }
              g_variant_builder_add (&builder, "{sv}", param->name, good_variant (param));
              twice = g_variant_ref_sink (g_variant_builder_end (&builder));
              assert_variant_fails (name, twice, parts);
            }

            g_ptr_array_add (strings, good_string (param));
            g_ptr_array_add (strings, good_string (param));
            assert_strings_fail (name, strings, parts);
          }

          /* The wrong type. */
          {
            GVariant *wrong = is_number (param->type) ? g_variant_new_string ("5")
                              : param->type == T_BOOL ? g_variant_new_int32 (1)
                                                      : g_variant_new_uint32 (5);
            const char *wrong_type = is_number (param->type) ? "'s'"
                                     : param->type == T_BOOL ? "'i'"
                                                             : "'u'";
            g_autoptr(GVariant) parameters = required_and (kind, param, param->name, wrong);
            const char *const parts[] = { name, param->name, wrong_type, NULL };

            assert_variant_fails (name, parameters, parts);
            if (is_number (param->type))
              {
                /* A boolean is not a number either. */
                g_autoptr(GVariant) boolean = required_and (kind, param, param->name, g_variant_new_boolean (TRUE));

                assert_variant_fails (name, boolean, (const char *const[]) { name, param->name, "'b'", NULL });
              }
          }

          if (is_number (param->type))
            {
              double below = param->type == T_WHOLE ? param->min - 1 : param->min - 0.05;
              double above = param->max + (param->type == T_WHOLE ? 1 : 0.5);
              double outside[] = { below, above, -1e300, INFINITY, -INFINITY };
              gsize o;
              g_autofree char *min_text = number_text (param->min);
              g_autofree char *max_text = number_text (param->max);

              for (o = 0; o < G_N_ELEMENTS (outside); o++)
                {
                  g_autoptr(GVariant) parameters = required_and (kind, param, param->name,
                                                                 g_variant_new_double (outside[o]));
                  const char *const parts[] = { name, param->name, min_text, max_text, NULL };

                  assert_variant_fails (name, parameters, parts);
                }

              /* Out of range in an integer type: the value is in the
               * message as given. */
              {
                g_autoptr(GVariant) big = required_and (kind, param, param->name,
                                                        g_variant_new_uint64 (G_MAXUINT64));
                g_autoptr(GVariant) negative = required_and (kind, param, param->name,
                                                             g_variant_new_int64 (-7));
                g_autoptr(GPtrArray) strings = required_strings (kind, param);

                assert_variant_fails (name, big, (const char *const[]) { name, param->name, "18446744073709551615", "out of range", NULL });
                assert_variant_fails (name, negative, (const char *const[]) { name, param->name, "-7", "out of range", NULL });

                g_ptr_array_add (strings, g_strdup_printf ("%s=%.17g", param->name, above));
                assert_strings_fail (name, strings, (const char *const[]) { name, param->name, "out of range", min_text, max_text, NULL });
              }

              /* Not a number at all. */
              {
                g_autoptr(GVariant) nan = required_and (kind, param, param->name, g_variant_new_double (NAN));
                static const char *const bad_texts[] = { "abc", "", " ", "0x10", "inf", "nan", "1e", "1,5", "1 2", "--1", "5ms" };
                gsize b;

                assert_variant_fails (name, nan, (const char *const[]) { name, param->name, NULL });
                for (b = 0; b < G_N_ELEMENTS (bad_texts); b++)
                  {
                    g_autoptr(GPtrArray) strings = required_strings (kind, param);

                    g_ptr_array_add (strings, g_strdup_printf ("%s=%s", param->name, bad_texts[b]));
                    assert_strings_fail (name, strings, (const char *const[]) { name, param->name, "not", NULL });
                  }
              }

              /* A fraction where a whole number is needed. */
              if (param->type == T_WHOLE)
                {
                  double value = good_number (param) + 0.5;
                  g_autoptr(GVariant) parameters = required_and (kind, param, param->name, g_variant_new_double (value));
                  g_autoptr(GPtrArray) strings = required_strings (kind, param);
                  g_autofree char *shown = g_strdup_printf ("%.1f", value);

                  assert_variant_fails (name, parameters, (const char *const[]) { name, param->name, "whole number", shown, NULL });
                  g_ptr_array_add (strings, g_strdup_printf ("%s=%.1f", param->name, value));
                  assert_strings_fail (name, strings, (const char *const[]) { name, param->name, "whole number", NULL });
                }
            }

          if (param->type == T_BOOL)
            {
              static const char *const bad_texts[] = { "maybe", "", "2", "on", "truee" };
              gsize b;

              for (b = 0; b < G_N_ELEMENTS (bad_texts); b++)
                {
                  g_autoptr(GPtrArray) strings = required_strings (kind, param);

                  g_ptr_array_add (strings, g_strdup_printf ("%s=%s", param->name, bad_texts[b]));
                  assert_strings_fail (name, strings, (const char *const[]) { name, param->name, "true or false", NULL });
                }
            }

          if (param->type == T_MODE)
            {
              g_autoptr(GVariant) parameters = required_and (kind, param, param->name, g_variant_new_string ("shred"));
              g_autoptr(GPtrArray) strings = required_strings (kind, param);
              const char *const parts[] = { name, param->name, "'shred'", "truncate", "content-type", NULL };

              assert_variant_fails (name, parameters, parts);
              g_ptr_array_add (strings, g_strdup ("mode=Truncate"));
              assert_strings_fail (name, strings, (const char *const[]) { name, "'Truncate'", NULL });
            }
        }
    }
}

/* A string that is not NAME=VALUE. */
static void
test_not_name_value (void)
{
  g_autoptr(GPtrArray) strings = g_ptr_array_new ();

  g_ptr_array_add (strings, (char *) "ms");
  assert_strings_fail ("latency", strings, (const char *const[]) { "latency", "'ms'", "NAME=VALUE", NULL });

  /* The value runs to the end: a second '=' is part of it. */
  g_ptr_array_set_size (strings, 0);
  g_ptr_array_add (strings, (char *) "ms=1=2");
  assert_strings_fail ("latency", strings, (const char *const[]) { "ms", "'1=2'", NULL });

  g_ptr_array_set_size (strings, 0);
  g_ptr_array_add (strings, (char *) "=5");
  assert_strings_fail ("latency", strings, (const char *const[]) { "no parameter ''", NULL });
}

/* Blanks around a number or a boolean are ignored; the words of a
 * boolean are true/false, 1/0 and yes/no in any case; a number may have
 * a sign, a fraction and an exponent. */
static void
test_string_forms (void)
{
  static const struct
  {
    const char *text;
    gboolean    value;
  } booleans[] = {
    { "true", TRUE }, { "TRUE", TRUE }, { "1", TRUE }, { "yes", TRUE }, { " Yes ", TRUE },
    { "false", FALSE }, { "False", FALSE }, { "0", FALSE }, { "no", FALSE }, { "NO", FALSE },
  };
  static const struct
  {
    const char *text;
    double      value;
  } numbers[] = {
    { "2000", 2000 }, { " 2000 ", 2000 }, { "2e3", 2000 }, { "2000.0", 2000 },
    { "+2000", 2000 }, { "0", 0 }, { "-0", 0 }, { "60000", 60000 },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (booleans); i++)
    {
      g_autofree char *clean = g_strdup_printf ("clean=%s", booleans[i].text);
      const char *key_values[] = { "interval-s=5", clean, NULL };
      g_autoptr(GError) error = NULL;
      g_autoptr(PmFault) fault = pm_fault_new_from_strings ("ws-drop", key_values, &error);

      g_assert_no_error (error);
      g_assert_cmpint (fault->clean, ==, booleans[i].value);
    }

  for (i = 0; i < G_N_ELEMENTS (numbers); i++)
    {
      g_autofree char *ms = g_strdup_printf ("ms=%s", numbers[i].text);
      const char *key_values[] = { ms, NULL };
      g_autoptr(GError) error = NULL;
      g_autoptr(PmFault) fault = pm_fault_new_from_strings ("latency", key_values, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (fault->ms, ==, (guint) numbers[i].value);
    }

  /* A fraction where one is allowed. */
  {
    const char *key_values[] = { "up-s=0.25", "down-s=1.5e1", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(PmFault) fault = pm_fault_new_from_strings ("flapping", key_values, &error);

    g_assert_no_error (error);
    g_assert_cmpfloat (fault->up_s, ==, 0.25);
    g_assert_cmpfloat (fault->down_s, ==, 15);
  }

  /* A text is taken as written, blanks included. */
  {
    const char *key_values[] = { "message= Low input voltage: 11.2 V", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(PmFault) fault = pm_fault_new_from_strings ("power-fault", key_values, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (fault->message, ==, " Low input voltage: 11.2 V");
  }
}

/* Every corrupt mode by name, from both forms. */
static void
test_modes (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(GVariant) parameters = vardict ("mode", g_variant_new_string (modes[i]),
                                                "rate", g_variant_new_double (0.5), NULL);
      g_autofree char *mode = g_strdup_printf ("mode=%s", modes[i]);
      const char *key_values[] = { mode, NULL };
      g_autoptr(GError) error = NULL;
      g_autoptr(PmFault) fault = pm_fault_new_from_variant ("corrupt", parameters, &error);
      g_autoptr(PmFault) fault_strings = pm_fault_new_from_strings ("corrupt", key_values, &error);

      g_assert_no_error (error);
      g_assert_cmpint (fault->mode, ==, (PmFaultCorruptMode) i);
      g_assert_cmpfloat (fault->rate, ==, 0.5);
      g_assert_cmpint (fault_strings->mode, ==, (PmFaultCorruptMode) i);
      g_assert_cmpfloat (fault_strings->rate, ==, 1);
    }
}

/* errors' path: a request path, starting with '/', without blanks,
 * controls, a query or a fragment, and not too long. */
static void
test_path (void)
{
  static const char *const good[] = { "/", "/api/system/info", "/api/system/asic", "/%20x" };
  static const char *const bad[] = { "api/system", "", " /api", "/api system", "/api?x=1", "/api#top", "/a\tb", "/\x01" };
  g_autofree char *long_path = g_strnfill (PM_FAULT_PATH_MAX_BYTES + 1, 'a');
  g_autofree char *longest = g_strnfill (PM_FAULT_PATH_MAX_BYTES, 'a');
  gsize i;

  long_path[0] = '/';
  longest[0] = '/';

  for (i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GVariant) parameters = vardict ("path", g_variant_new_string (good[i]), NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(PmFault) fault = pm_fault_new_from_variant ("errors", parameters, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (fault->path, ==, good[i]);
    }
  {
    g_autoptr(GVariant) parameters = vardict ("path", g_variant_new_string (longest), NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PmFault) fault = pm_fault_new_from_variant ("errors", parameters, &error);

    g_assert_no_error (error);
  }

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GVariant) parameters = vardict ("path", g_variant_new_string (bad[i]), NULL);
      g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);

      g_test_message ("path '%s'", bad[i]);
      assert_variant_fails ("errors", parameters, (const char *const[]) { "errors", "path", NULL });
      g_ptr_array_add (strings, g_strdup_printf ("path=%s", bad[i]));
      assert_strings_fail ("errors", strings, (const char *const[]) { "errors", "path", NULL });
    }

  {
    g_autoptr(GVariant) parameters = vardict ("path", g_variant_new_string (long_path), NULL);

    assert_variant_fails ("errors", parameters, (const char *const[]) { "path", "longer than 1024 bytes", NULL });
  }

  /* Not UTF-8, from the command line. */
  {
    g_autoptr(GPtrArray) strings = g_ptr_array_new ();

    g_ptr_array_add (strings, (char *) "path=/caf\xe9");
    assert_strings_fail ("errors", strings, (const char *const[]) { "path", "UTF-8", "\\xE9", NULL });
  }
}

/* power-fault's message: one line of text, not too long. */
static void
test_message (void)
{
  g_autofree char *too_long = g_strnfill (PM_FAULT_MESSAGE_MAX_BYTES + 1, 'x');
  g_autofree char *longest = g_strnfill (PM_FAULT_MESSAGE_MAX_BYTES, 'x');
  static const char *const bad[] = { "two\nlines", "bell\a", "esc\x1b[1m" };
  gsize i;

  {
    g_autoptr(GVariant) parameters = vardict ("message", g_variant_new_string (longest), NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PmFault) fault = pm_fault_new_from_variant ("power-fault", parameters, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (fault->message, ==, longest);
  }
  {
    g_autoptr(GVariant) parameters = vardict ("message", g_variant_new_string ("Überspannung ⚡"), NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PmFault) fault = pm_fault_new_from_variant ("power-fault", parameters, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (fault->message, ==, "Überspannung ⚡");
  }
  {
    g_autoptr(GVariant) parameters = vardict ("message", g_variant_new_string (too_long), NULL);

    assert_variant_fails ("power-fault", parameters, (const char *const[]) { "message", "longer than 256 bytes", NULL });
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GVariant) parameters = vardict ("message", g_variant_new_string (bad[i]), NULL);

      assert_variant_fails ("power-fault", parameters, (const char *const[]) { "message", "control", NULL });
    }
}

/* The first error wins and nothing is made, even after good
 * parameters. */
static void
test_first_error (void)
{
  g_autoptr(GVariant) parameters = vardict ("status", g_variant_new_uint32 (503),
                                            "rate", g_variant_new_double (2),
                                            "path", g_variant_new_string ("nope"), NULL);

  assert_variant_fails ("errors", parameters, (const char *const[]) { "rate", NULL });
}

/* A fault of every kind with values other than the defaults. */
static PmFault *
unusual_fault (const TKind *kind)
{
  GVariantBuilder builder;
  g_autoptr(GVariant) parameters = NULL;
  g_autoptr(GError) error = NULL;
  guint j;
  PmFault *fault;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (j = 0; kind->params[j].name != NULL; j++)
    g_variant_builder_add (&builder, "{sv}", kind->params[j].name, good_variant (&kind->params[j]));
  parameters = g_variant_ref_sink (g_variant_builder_end (&builder));
  fault = pm_fault_new_from_variant (kind->name, parameters, &error);
  g_assert_no_error (error);
  return fault;
}

/* to_variant: every parameter, u for whole numbers, d for the others, b
 * and s; back through new_from_variant, the same fault. */
static void
test_round_trip (void)
{
  gsize i;
  guint j;

  for (i = 0; i < G_N_ELEMENTS (expected_kinds); i++)
    {
      const TKind *kind = &expected_kinds[i];
      g_autoptr(PmFault) fault = unusual_fault (kind);
      g_autoptr(PmFault) back = NULL;
      g_autoptr(PmFault) copy = NULL;
      g_autoptr(GVariant) variant = g_variant_ref_sink (pm_fault_to_variant (fault));
      g_autoptr(GVariant) again = NULL;
      g_autoptr(GError) error = NULL;

      g_autofree char *printed = g_variant_print (variant, TRUE);

      g_test_message ("kind %s: %s", kind->name, printed);
      g_assert_true (g_variant_is_of_type (variant, G_VARIANT_TYPE_VARDICT));
      g_assert_cmpuint (g_variant_n_children (variant), ==, n_params (kind));
      for (j = 0; kind->params[j].name != NULL; j++)
        {
          const TParam *param = &kind->params[j];
          const GVariantType *type = param->type == T_WHOLE ? G_VARIANT_TYPE_UINT32
                                     : param->type == T_NUMBER ? G_VARIANT_TYPE_DOUBLE
                                     : param->type == T_BOOL ? G_VARIANT_TYPE_BOOLEAN
                                                             : G_VARIANT_TYPE_STRING;
          g_autoptr(GVariant) value = g_variant_lookup_value (variant, param->name, NULL);

          g_assert_nonnull (value);
          g_assert_true (g_variant_is_of_type (value, type));
        }

      back = pm_fault_new_from_variant (kind->name, variant, &error);
      g_assert_no_error (error);
      again = g_variant_ref_sink (pm_fault_to_variant (back));
      g_assert_true (g_variant_equal (variant, again));
      for (j = 0; kind->params[j].name != NULL; j++)
        assert_good_value (back, &kind->params[j]);

      copy = pm_fault_copy (fault);
      g_assert_cmpint (copy->kind, ==, fault->kind);
      g_assert_true (copy->path == NULL || copy->path != fault->path);
      g_assert_true (copy->message == NULL || copy->message != fault->message);
      g_clear_pointer (&fault, pm_fault_free);
      for (j = 0; kind->params[j].name != NULL; j++)
        assert_good_value (copy, &kind->params[j]);
    }

  /* Defaults are written out too; an errors fault for every path has no
   * path. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PmFault) fault = pm_fault_new_from_variant ("errors", NULL, &error);
    g_autoptr(GVariant) variant = g_variant_ref_sink (pm_fault_to_variant (fault));
    guint32 status = 0;
    double rate = 0;

    g_assert_no_error (error);
    g_assert_true (g_variant_lookup (variant, "status", "u", &status));
    g_assert_true (g_variant_lookup (variant, "rate", "d", &rate));
    g_assert_cmpuint (status, ==, 500);
    g_assert_cmpfloat (rate, ==, 1);
    g_assert_false (g_variant_lookup (variant, "path", "s", NULL));
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PmFault) fault = pm_fault_new_from_variant ("power-fault", NULL, &error);
    g_autoptr(GVariant) variant = g_variant_ref_sink (pm_fault_to_variant (fault));
    const char *message = NULL;

    g_assert_true (g_variant_lookup (variant, "message", "&s", &message));
    g_assert_cmpstr (message, ==, "Power fault detected");
  }
}

/* ---- Draws -------------------------------------------------------------- */

#define N_DRAWS 10000

static void
test_draw_extremes (void)
{
  guint64 state = 12345;
  guint64 before;
  guint i;

  for (i = 0; i < N_DRAWS; i++)
    {
      before = state;
      g_assert_false (pm_fault_draw (0, &state));
      g_assert_cmpuint (state, !=, before);
    }
  for (i = 0; i < N_DRAWS; i++)
    {
      before = state;
      g_assert_true (pm_fault_draw (1, &state));
      g_assert_cmpuint (state, !=, before);
    }
}

/* Over 10 000 draws, a rate of 0.2 hits about 2000 times: the standard
 * deviation is 40, and 200 is five of them.  Other rates too. */
static void
test_draw_rate (void)
{
  static const double rates[] = { 0.2, 0.5, 0.01, 0.99 };
  static const guint64 seeds[] = { 0, 1, 7, G_GUINT64_CONSTANT (0xDEADBEEFCAFE) };
  gsize r, s;

  for (r = 0; r < G_N_ELEMENTS (rates); r++)
    for (s = 0; s < G_N_ELEMENTS (seeds); s++)
      {
        guint64 state = seeds[s];
        double expected = rates[r] * N_DRAWS;
        double tolerance = 5 * sqrt (N_DRAWS * rates[r] * (1 - rates[r]));
        guint hits = 0, i;

        for (i = 0; i < N_DRAWS; i++)
          hits += pm_fault_draw (rates[r], &state);
        g_test_message ("rate %g seed %" G_GUINT64_FORMAT ": %u hits", rates[r], seeds[s], hits);
        g_assert_cmpfloat (fabs (hits - expected), <=, tolerance);
      }
}

/* The same state gives the same answers; another state others; the
 * answers do not come in a short cycle. */
static void
test_draw_reproducible (void)
{
  guint64 a = 99, b = 99, c = 100;
  guint i, same_as_other = 0, runs = 0;
  gboolean previous = FALSE;

  for (i = 0; i < N_DRAWS; i++)
    {
      gboolean from_a = pm_fault_draw (0.5, &a);
      gboolean from_b = pm_fault_draw (0.5, &b);
      gboolean from_c = pm_fault_draw (0.5, &c);

      g_assert_cmpint (from_a, ==, from_b);
      g_assert_cmpuint (a, ==, b);
      same_as_other += from_a == from_c;
      runs += i > 0 && from_a != previous;
      previous = from_a;
    }
  /* Independent streams agree about half the time, and a fair coin
   * changes about every other draw. */
  g_assert_cmpuint (same_as_other, >, N_DRAWS / 2 - 250);
  g_assert_cmpuint (same_as_other, <, N_DRAWS / 2 + 250);
  g_assert_cmpuint (runs, >, N_DRAWS / 2 - 250);
  g_assert_cmpuint (runs, <, N_DRAWS / 2 + 250);
}

static PmFault *
latency (guint ms,
         guint jitter_ms)
{
  g_autoptr(GVariant) parameters = vardict ("ms", g_variant_new_uint32 (ms),
                                            "jitter-ms", g_variant_new_uint32 (jitter_ms), NULL);
  g_autoptr(GError) error = NULL;
  PmFault *fault = pm_fault_new_from_variant ("latency", parameters, &error);

  g_assert_no_error (error);
  return fault;
}

/* ms + uniform [-jitter, +jitter]: every value of the range comes about
 * as often, none outside it; without jitter, ms every time; never below
 * 0; the same state, the same delays. */
static void
test_jitter (void)
{
  g_autoptr(PmFault) steady = latency (250, 0);
  g_autoptr(PmFault) jittery = latency (1000, 2);
  g_autoptr(PmFault) low = latency (10, 100);
  guint counts[5] = { 0 };
  guint64 state = 3, other = 3;
  guint i, zeros = 0;

  for (i = 0; i < N_DRAWS; i++)
    g_assert_cmpuint (pm_fault_jitter (steady, &state), ==, 250);

  for (i = 0; i < N_DRAWS; i++)
    {
      guint delay = pm_fault_jitter (jittery, &state);

      g_assert_cmpuint (delay, >=, 998);
      g_assert_cmpuint (delay, <=, 1002);
      counts[delay - 998]++;
    }
  /* 2000 each, standard deviation 40. */
  for (i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      g_test_message ("%u: %u", 998 + i, counts[i]);
      g_assert_cmpuint (counts[i], >, 2000 - 200);
      g_assert_cmpuint (counts[i], <, 2000 + 200);
    }

  /* 10 ± 100: 91 of the 201 values are 0 or below. */
  for (i = 0; i < N_DRAWS; i++)
    {
      guint delay = pm_fault_jitter (low, &state);

      g_assert_cmpuint (delay, <=, 110);
      zeros += delay == 0;
    }
  g_assert_cmpfloat (fabs (zeros - N_DRAWS * 91.0 / 201), <, 250);

  state = other;
  for (i = 0; i < 100; i++)
    {
      guint first = pm_fault_jitter (low, &state);

      g_assert_cmpuint (pm_fault_jitter (low, &other), ==, first);
    }
  g_assert_cmpuint (state, ==, other);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fault/kinds", test_kinds);
  g_test_add_func ("/fault/defaults", test_defaults);
  g_test_add_func ("/fault/number-types", test_number_types);
  g_test_add_func ("/fault/every-parameter", test_every_parameter);
  g_test_add_func ("/fault/error/unknown-kind", test_unknown_kind);
  g_test_add_func ("/fault/error/per-kind", test_errors_per_kind);
  g_test_add_func ("/fault/error/not-name-value", test_not_name_value);
  g_test_add_func ("/fault/error/first-wins", test_first_error);
  g_test_add_func ("/fault/strings", test_string_forms);
  g_test_add_func ("/fault/modes", test_modes);
  g_test_add_func ("/fault/path", test_path);
  g_test_add_func ("/fault/message", test_message);
  g_test_add_func ("/fault/round-trip", test_round_trip);
  g_test_add_func ("/fault/draw/extremes", test_draw_extremes);
  g_test_add_func ("/fault/draw/rate", test_draw_rate);
  g_test_add_func ("/fault/draw/reproducible", test_draw_reproducible);
  g_test_add_func ("/fault/jitter", test_jitter);

  return g_test_run ();
}
