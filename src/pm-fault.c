/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-fault"

#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include "pm-error.h"
#include "pm-fault.h"
#include "pm-parse.h"
#include "pm-quote.h"
#include "pm-splitmix.h"

/*
 * Faults on demand: what each kind is called, which parameters it takes,
 * and the checks that turn what a client or a scenario file wrote into a
 * complete PmFault, or into one error that says what is wrong.  Nothing
 * here touches a device: this file only describes faults.
 *
 * One table drives everything.  Each parameter has a type, a range (for
 * numbers), a default and the PmFault field it fills.  The bus and the
 * command line reach the same checks through two front ends: one reads
 * an a{sv} (any integer type or a double for a number), the other reads
 * NAME=VALUE strings.
 */

typedef enum
{
  PARAM_UINT,   /* a whole number, stored in a guint */
  PARAM_UINT64, /* a whole number, stored in a guint64 */
  PARAM_DOUBLE, /* any number, stored in a double */
  PARAM_BOOL,   /* stored in a gboolean */
  PARAM_PATH,   /* a request path, stored in a char * (NULL: none) */
  PARAM_MODE,   /* a corrupt mode's name, stored in a PmFaultCorruptMode */
  PARAM_TEXT,   /* one line of text, stored in a char * */
} ParamType;

typedef struct
{
  const char *name;
  ParamType   type;
  gboolean    required;
  double      min;            /* numbers only */
  double      max;            /* numbers only */
  double      default_number; /* numbers and booleans */
  const char *default_text;   /* PARAM_TEXT only */
  gsize       offset;         /* of the field in PmFault */
} Param;

#define MAX_PARAMS 3

typedef struct
{
  const char *name;
  gboolean    needs_miner;
  Param       params[MAX_PARAMS + 1]; /* ends with a NULL name */
} KindInfo;

#define FIELD(member) G_STRUCT_OFFSET (PmFault, member)

static const KindInfo kinds[PM_FAULT_N_KINDS] = {
  [PM_FAULT_LATENCY] = {
    "latency", FALSE,
    {
      { "ms", PARAM_UINT, TRUE, 0, 60000, 0, NULL, FIELD (ms) },
      { "jitter-ms", PARAM_UINT, FALSE, 0, 60000, 0, NULL, FIELD (jitter_ms) },
    },
  },
  [PM_FAULT_ERRORS] = {
    "errors", FALSE,
    {
      { "status", PARAM_UINT, FALSE, 400, 599, 500, NULL, FIELD (status) },
      { "rate", PARAM_DOUBLE, FALSE, 0, 1, 1, NULL, FIELD (rate) },
      { "path", PARAM_PATH, FALSE, 0, 0, 0, NULL, FIELD (path) },
    },
  },
  [PM_FAULT_OFFLINE] = { "offline", FALSE, { { NULL } } },
  [PM_FAULT_BLACKHOLE] = { "blackhole", FALSE, { { NULL } } },
  [PM_FAULT_FLAPPING] = {
    "flapping", FALSE,
    {
      { "up-s", PARAM_DOUBLE, TRUE, 0.1, 86400, 0, NULL, FIELD (up_s) },
      { "down-s", PARAM_DOUBLE, TRUE, 0.1, 86400, 0, NULL, FIELD (down_s) },
    },
  },
  [PM_FAULT_CORRUPT] = {
    "corrupt", FALSE,
    {
      { "mode", PARAM_MODE, TRUE, 0, 0, 0, NULL, FIELD (mode) },
      { "rate", PARAM_DOUBLE, FALSE, 0, 1, 1, NULL, FIELD (rate) },
    },
  },
  [PM_FAULT_SLOW_BODY] = {
    "slow-body", FALSE,
    {
      { "bytes-per-s", PARAM_UINT64, TRUE, 1, 1e9, 0, NULL, FIELD (bytes_per_s) },
    },
  },
  [PM_FAULT_WS_DROP] = {
    "ws-drop", FALSE,
    {
      { "interval-s", PARAM_DOUBLE, TRUE, 0.1, 86400, 0, NULL, FIELD (interval_s) },
      { "clean", PARAM_BOOL, FALSE, 0, 0, 0, NULL, FIELD (clean) },
    },
  },
  [PM_FAULT_WS_SILENT] = { "ws-silent", FALSE, { { NULL } } },
  [PM_FAULT_REBOOT_LOOP] = {
    "reboot-loop", FALSE,
    {
      { "interval-s", PARAM_DOUBLE, TRUE, 1, 86400, 0, NULL, FIELD (interval_s) },
    },
  },
  [PM_FAULT_OVERHEAT] = {
    "overheat", TRUE,
    {
      { "rate-c-per-min", PARAM_DOUBLE, FALSE, 0.1, 100, 5, NULL, FIELD (rate_c_per_min) },
    },
  },
  [PM_FAULT_FAN_FAILURE] = { "fan-failure", TRUE, { { NULL } } },
  [PM_FAULT_ASIC_FAILURE] = {
    "asic-failure", TRUE,
    {
      { "domain", PARAM_UINT, FALSE, 0, 15, 0, NULL, FIELD (domain) },
      { "asic", PARAM_UINT, FALSE, 0, 15, 0, NULL, FIELD (asic) },
    },
  },
  [PM_FAULT_POOL_DOWN] = { "pool-down", TRUE, { { NULL } } },
  [PM_FAULT_POWER_FAULT] = {
    "power-fault", TRUE,
    {
      { "message", PARAM_TEXT, FALSE, 0, 0, 0, "Power fault detected", FIELD (message) },
    },
  },
};

static const char *const corrupt_modes[] = {
  [PM_FAULT_CORRUPT_TRUNCATE] = "truncate",
  [PM_FAULT_CORRUPT_INVALID_JSON] = "invalid-json",
  [PM_FAULT_CORRUPT_STRINGS] = "strings",
  [PM_FAULT_CORRUPT_MISSING_FIELDS] = "missing-fields",
  [PM_FAULT_CORRUPT_CONTENT_TYPE] = "content-type",
};

/**
 * pm_fault_kind_to_string:
 * @kind: a kind
 *
 * Returns: the kind's name, e.g. "slow-body"
 */
const char *
pm_fault_kind_to_string (PmFaultKind kind)
{
  g_return_val_if_fail (kind < PM_FAULT_N_KINDS, NULL);

  return kinds[kind].name;
}

/**
 * pm_fault_kind_from_string:
 * @name: a kind's name, e.g. "slow-body"; the case counts
 * @out_kind: (out) (optional): the kind
 *
 * Returns: whether @name is a kind's name
 */
gboolean
pm_fault_kind_from_string (const char  *name,
                           PmFaultKind *out_kind)
{
  guint i;

  g_return_val_if_fail (name != NULL, FALSE);

  for (i = 0; i < PM_FAULT_N_KINDS; i++)
    {
      if (strcmp (kinds[i].name, name) == 0)
        {
          if (out_kind != NULL)
            *out_kind = (PmFaultKind) i;
          return TRUE;
        }
    }
  return FALSE;
}

/**
 * pm_fault_kind_needs_miner:
 * @kind: a kind
 *
 * Returns: whether @kind acts on the simulated miner, so that only
 *   profiles that simulate one can take it
 */
gboolean
pm_fault_kind_needs_miner (PmFaultKind kind)
{
  g_return_val_if_fail (kind < PM_FAULT_N_KINDS, FALSE);

  return kinds[kind].needs_miner;
}

/**
 * pm_fault_corrupt_mode_to_string:
 * @mode: a mode
 *
 * Returns: the mode's name, e.g. "invalid-json"
 */
const char *
pm_fault_corrupt_mode_to_string (PmFaultCorruptMode mode)
{
  g_return_val_if_fail ((guint) mode < G_N_ELEMENTS (corrupt_modes), NULL);

  return corrupt_modes[mode];
}

/* ---- Formatting --------------------------------------------------------- */

/* @value as a person would write it: whole numbers without a fraction or
 * an exponent, others with the fewest digits that read back the same. */
static char *
format_number (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  int precision;

  if (isfinite (value) && value == floor (value) && fabs (value) < 1e15)
    return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) value);

  for (precision = 1; precision <= 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buffer, sizeof buffer, format, value);
      if (g_ascii_strtod (buffer, NULL) == value)
        break;
    }
  return g_strdup (buffer);
}

static char *
format_range (const Param *param)
{
  g_autofree char *min = format_number (param->min);
  g_autofree char *max = format_number (param->max);

  return g_strdup_printf ("%s–%s", min, max);
}

static char *
join_kind_names (void)
{
  GString *names = g_string_new (NULL);
  guint i;

  for (i = 0; i < PM_FAULT_N_KINDS; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", kinds[i].name);
  return g_string_free (names, FALSE);
}

static char *
join_param_names (const KindInfo *info)
{
  GString *names = g_string_new (NULL);
  const Param *param;

  for (param = info->params; param->name != NULL; param++)
    g_string_append_printf (names, "%s%s", param != info->params ? ", " : "", param->name);
  return g_string_free (names, FALSE);
}

static char *
join_mode_names (void)
{
  GString *names = g_string_new (NULL);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (corrupt_modes); i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", corrupt_modes[i]);
  return g_string_free (names, FALSE);
}

/* Sets a PM_ERROR_INVALID_ARGUMENT that starts with "fault KIND:
 * parameter NAME " and goes on with @format. */
G_GNUC_PRINTF (4, 5)
static void
set_param_error (GError        **error,
                 const KindInfo *info,
                 const Param    *param,
                 const char     *format,
                 ...)
{
  g_autofree char *rest = NULL;
  va_list args;

  va_start (args, format);
  rest = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
               "fault %s: parameter %s %s", info->name, param->name, rest);
}

/* ---- Building a fault --------------------------------------------------- */

typedef struct
{
  const KindInfo *info;
  PmFault        *fault; /* (owned) */
  guint           given; /* bit i: info->params[i] was given */
} Builder;

static void
builder_clear (Builder *builder)
{
  g_clear_pointer (&builder->fault, pm_fault_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Builder, builder_clear)

/* Looks @kind up and makes a fault of that kind with every default in
 * place. */
static gboolean
builder_init (Builder    *builder,
              const char *kind,
              GError    **error)
{
  PmFaultKind value;
  const Param *param;

  if (!pm_fault_kind_from_string (kind, &value))
    {
      g_autofree char *quoted = pm_quote (kind, -1);
      g_autofree char *names = join_kind_names ();

      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "unknown fault '%s' (the faults are %s)", quoted, names);
      return FALSE;
    }

  builder->info = &kinds[value];
  builder->fault = g_new0 (PmFault, 1);
  builder->fault->kind = value;
  builder->given = 0;

  for (param = builder->info->params; param->name != NULL; param++)
    {
      gpointer field = G_STRUCT_MEMBER_P (builder->fault, param->offset);

      switch (param->type)
        {
        case PARAM_UINT:
          *(guint *) field = (guint) param->default_number;
          break;
        case PARAM_UINT64:
          *(guint64 *) field = (guint64) param->default_number;
          break;
        case PARAM_DOUBLE:
          *(double *) field = param->default_number;
          break;
        case PARAM_BOOL:
          *(gboolean *) field = param->default_number != 0;
          break;
        case PARAM_TEXT:
          *(char **) field = g_strdup (param->default_text);
          break;
        case PARAM_PATH:
        case PARAM_MODE:
        default:
          break;
        }
    }
  return TRUE;
}

/* Finds the parameter @name of the kind being built and marks it given;
 * a kind without parameters, an unknown name and a name given twice are
 * errors. */
static const Param *
builder_take (Builder    *builder,
              const char *name,
              GError    **error)
{
  const KindInfo *info = builder->info;
  g_autofree char *quoted = pm_quote (name, -1);
  guint i;

  if (info->params[0].name == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "fault %s takes no parameters, but '%s' was given",
                   info->name, quoted);
      return NULL;
    }

  for (i = 0; info->params[i].name != NULL; i++)
    {
      if (strcmp (info->params[i].name, name) != 0)
        continue;
      if (builder->given & (1u << i))
        {
          set_param_error (error, info, &info->params[i], "is given twice");
          return NULL;
        }
      builder->given |= 1u << i;
      return &info->params[i];
    }

  {
    g_autofree char *names = join_param_names (info);

    g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                 "fault %s has no parameter '%s' (its parameters are %s)",
                 info->name, quoted, names);
  }
  return NULL;
}

/* Checks and stores a number; @shown is how the value is written in a
 * message. */
static gboolean
builder_set_number (Builder     *builder,
                    const Param *param,
                    double       value,
                    const char  *shown,
                    GError     **error)
{
  gpointer field = G_STRUCT_MEMBER_P (builder->fault, param->offset);

  if ((param->type == PARAM_UINT || param->type == PARAM_UINT64) &&
      value != floor (value))
    {
      set_param_error (error, builder->info, param,
                       "must be a whole number, not %s", shown);
      return FALSE;
    }
  if (!(value >= param->min && value <= param->max))
    {
      g_autofree char *range = format_range (param);

      set_param_error (error, builder->info, param,
                       "is %s, out of range (%s)", shown, range);
      return FALSE;
    }

  switch (param->type)
    {
    case PARAM_UINT:
      *(guint *) field = (guint) value;
      break;
    case PARAM_UINT64:
      *(guint64 *) field = (guint64) value;
      break;
    case PARAM_DOUBLE:
      *(double *) field = value;
      break;
    case PARAM_BOOL:
    case PARAM_PATH:
    case PARAM_MODE:
    case PARAM_TEXT:
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

static gboolean
has_control_character (const char *text)
{
  const char *p;

  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

/* Checks and stores a path, a mode or a text. */
static gboolean
builder_set_text (Builder     *builder,
                  const Param *param,
                  const char  *text,
                  GError     **error)
{
  gpointer field = G_STRUCT_MEMBER_P (builder->fault, param->offset);
  g_autofree char *quoted = pm_quote (text, -1);
  gsize length = strlen (text);
  guint i;

  if (param->type == PARAM_MODE)
    {
      for (i = 0; i < G_N_ELEMENTS (corrupt_modes); i++)
        {
          if (strcmp (corrupt_modes[i], text) == 0)
            {
              *(PmFaultCorruptMode *) field = (PmFaultCorruptMode) i;
              return TRUE;
            }
        }

      {
        g_autofree char *names = join_mode_names ();

        set_param_error (error, builder->info, param,
                         "must be one of %s, not '%s'", names, quoted);
      }
      return FALSE;
    }

  g_assert (param->type == PARAM_PATH || param->type == PARAM_TEXT);

  if (!g_utf8_validate (text, -1, NULL))
    {
      set_param_error (error, builder->info, param,
                       "must be UTF-8 text, not '%s'", quoted);
      return FALSE;
    }
  if (param->type == PARAM_PATH)
    {
      if (length > PM_FAULT_PATH_MAX_BYTES)
        {
          set_param_error (error, builder->info, param,
                           "is longer than %d bytes", PM_FAULT_PATH_MAX_BYTES);
          return FALSE;
        }
      if (text[0] != '/')
        {
          set_param_error (error, builder->info, param,
                           "must start with '/', not '%s'", quoted);
          return FALSE;
        }
      if (has_control_character (text) || strpbrk (text, " ?#") != NULL)
        {
          set_param_error (error, builder->info, param,
                           "must be a request path without spaces, control characters, "
                           "'?' or '#', not '%s'",
                           quoted);
          return FALSE;
        }
    }
  else
    {
      if (length > PM_FAULT_MESSAGE_MAX_BYTES)
        {
          set_param_error (error, builder->info, param,
                           "is longer than %d bytes", PM_FAULT_MESSAGE_MAX_BYTES);
          return FALSE;
        }
      if (has_control_character (text))
        {
          set_param_error (error, builder->info, param,
                           "must be one line without control characters, not '%s'",
                           quoted);
          return FALSE;
        }
    }

  g_free (*(char **) field);
  *(char **) field = g_strdup (text);
  return TRUE;
}

/* Every required parameter must have been given. */
static PmFault *
builder_finish (Builder *builder,
                GError **error)
{
  guint i;

  for (i = 0; builder->info->params[i].name != NULL; i++)
    {
      const Param *param = &builder->info->params[i];

      if (!param->required || (builder->given & (1u << i)))
        continue;
      if (param->type == PARAM_MODE)
        {
          g_autofree char *names = join_mode_names ();

          set_param_error (error, builder->info, param,
                           "is required (one of %s)", names);
        }
      else
        {
          g_autofree char *range = format_range (param);

          set_param_error (error, builder->info, param,
                           "is required (%s)", range);
        }
      return NULL;
    }
  return g_steal_pointer (&builder->fault);
}

static gboolean
is_number_param (const Param *param)
{
  return param->type == PARAM_UINT || param->type == PARAM_UINT64 ||
         param->type == PARAM_DOUBLE;
}

/* ---- From the bus ------------------------------------------------------- */

/* Reads a number of any D-Bus integer type or a double; @out_shown is
 * how the value is written in a message. */
static gboolean
variant_get_number (GVariant *value,
                    double   *out_value,
                    char    **out_shown)
{
  gint64 signed_value = 0;
  guint64 unsigned_value = 0;
  gboolean is_signed = FALSE;

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BYTE:
      unsigned_value = g_variant_get_byte (value);
      break;
    case G_VARIANT_CLASS_UINT16:
      unsigned_value = g_variant_get_uint16 (value);
      break;
    case G_VARIANT_CLASS_UINT32:
      unsigned_value = g_variant_get_uint32 (value);
      break;
    case G_VARIANT_CLASS_UINT64:
      unsigned_value = g_variant_get_uint64 (value);
      break;
    case G_VARIANT_CLASS_INT16:
      signed_value = g_variant_get_int16 (value);
      is_signed = TRUE;
      break;
    case G_VARIANT_CLASS_INT32:
      signed_value = g_variant_get_int32 (value);
      is_signed = TRUE;
      break;
    case G_VARIANT_CLASS_INT64:
      signed_value = g_variant_get_int64 (value);
      is_signed = TRUE;
      break;
    case G_VARIANT_CLASS_DOUBLE:
      *out_value = g_variant_get_double (value);
      *out_shown = format_number (*out_value);
      return TRUE;
    case G_VARIANT_CLASS_BOOLEAN:
    case G_VARIANT_CLASS_HANDLE:
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
    case G_VARIANT_CLASS_VARIANT:
    case G_VARIANT_CLASS_MAYBE:
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    default:
      return FALSE;
    }

  if (is_signed)
    {
      *out_value = (double) signed_value;
      *out_shown = g_strdup_printf ("%" G_GINT64_FORMAT, signed_value);
    }
  else
    {
      *out_value = (double) unsigned_value;
      *out_shown = g_strdup_printf ("%" G_GUINT64_FORMAT, unsigned_value);
    }
  return TRUE;
}

static gboolean
builder_set_variant (Builder     *builder,
                     const Param *param,
                     GVariant    *value,
                     GError     **error)
{
  const char *type = g_variant_get_type_string (value);

  if (is_number_param (param))
    {
      g_autofree char *shown = NULL;
      double number;

      if (!variant_get_number (value, &number, &shown))
        {
          set_param_error (error, builder->info, param,
                           "must be a number (y, n, q, i, u, x, t or d), not a value of type '%s'",
                           type);
          return FALSE;
        }
      return builder_set_number (builder, param, number, shown, error);
    }

  if (param->type == PARAM_BOOL)
    {
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
        {
          set_param_error (error, builder->info, param,
                           "must be a boolean (b), not a value of type '%s'", type);
          return FALSE;
        }
      *(gboolean *) G_STRUCT_MEMBER_P (builder->fault, param->offset) =
        g_variant_get_boolean (value);
      return TRUE;
    }

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      set_param_error (error, builder->info, param,
                       "must be a string (s), not a value of type '%s'", type);
      return FALSE;
    }
  return builder_set_text (builder, param, g_variant_get_string (value, NULL), error);
}

/**
 * pm_fault_new_from_variant:
 * @kind: the kind's name, e.g. "latency"
 * @parameters: (nullable): an a{sv} of parameters, or %NULL for none
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Makes a fault from what a D-Bus client sent.  A number may be of any
 * integer type (y, n, q, i, u, x, t) or a double (d); a parameter that
 * takes whole numbers takes a double only if it has no fraction.  A
 * boolean must be a b, a text an s.  An unknown kind, an unknown or
 * repeated parameter, a parameter given to a kind without any, a value of
 * the wrong type or out of range and a missing required parameter are
 * errors, whose message names the kind, the parameter, the value and what
 * is allowed.  Parameters not given take their defaults.
 *
 * Returns: (transfer full) (nullable): the fault, or %NULL on error
 */
PmFault *
pm_fault_new_from_variant (const char *kind,
                           GVariant   *parameters,
                           GError    **error)
{
  g_auto(Builder) builder = { NULL, NULL, 0 };
  GVariantIter iter;
  const char *name;
  GVariant *raw;

  g_return_val_if_fail (kind != NULL, NULL);
  g_return_val_if_fail (parameters == NULL ||
                          g_variant_is_of_type (parameters, G_VARIANT_TYPE_VARDICT),
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!builder_init (&builder, kind, error))
    return NULL;

  if (parameters != NULL)
    {
      g_variant_iter_init (&iter, parameters);
      while (g_variant_iter_next (&iter, "{&sv}", &name, &raw))
        {
          g_autoptr(GVariant) value = raw;
          const Param *param = builder_take (&builder, name, error);

          if (param == NULL || !builder_set_variant (&builder, param, value, error))
            return NULL;
        }
    }

  return builder_finish (&builder, error);
}

/* ---- From strings ------------------------------------------------------- */

/* A decimal number, with an optional sign, fraction and exponent, and
 * blanks around it; not hexadecimal, "inf" or "nan". */
static gboolean
parse_number (const char *text,
              double     *out_value)
{
  const char *end = NULL;

  if (text[0] == '\0' || text[strspn (text, "0123456789.eE+-")] != '\0')
    return FALSE;
  *out_value = g_ascii_strtod (text, (char **) &end);
  return end != text && *end == '\0' && !isnan (*out_value);
}

static gboolean
builder_set_string (Builder     *builder,
                    const Param *param,
                    const char  *text,
                    GError     **error)
{
  if (is_number_param (param) || param->type == PARAM_BOOL)
    {
      g_autofree char *copy = g_strstrip (g_strdup (text));
      g_autofree char *quoted = pm_quote (copy, -1);
      gboolean flag;
      double number;

      if (param->type == PARAM_BOOL)
        {
          if (!pm_parse_bool (param->name, copy, &flag, NULL))
            {
              set_param_error (error, builder->info, param,
                               "must be true or false (or 1/0, yes/no), not '%s'", quoted);
              return FALSE;
            }
          *(gboolean *) G_STRUCT_MEMBER_P (builder->fault, param->offset) = flag;
          return TRUE;
        }

      if (!parse_number (copy, &number))
        {
          set_param_error (error, builder->info, param,
                           "must be a number, not '%s'", quoted);
          return FALSE;
        }
      {
        g_autofree char *shown = g_strdup_printf ("'%s'", quoted);

        return builder_set_number (builder, param, number, shown, error);
      }
    }

  return builder_set_text (builder, param, text, error);
}

/**
 * pm_fault_new_from_strings:
 * @kind: the kind's name, e.g. "latency"
 * @key_values: (nullable) (array zero-terminated=1): parameters as
 *   NAME=VALUE, e.g. "ms=2000", or %NULL for none
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Makes a fault from what a user wrote on the command line or in a
 * scenario file, with the same checks as pm_fault_new_from_variant().  A
 * number is decimal (sign, fraction and exponent allowed; blanks around
 * it ignored); a boolean is true/false, 1/0 or yes/no in any case; a
 * text is taken as written, after the first '='.
 *
 * Returns: (transfer full) (nullable): the fault, or %NULL on error
 */
PmFault *
pm_fault_new_from_strings (const char        *kind,
                           const char *const *key_values,
                           GError           **error)
{
  g_auto(Builder) builder = { NULL, NULL, 0 };
  gsize i;

  g_return_val_if_fail (kind != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!builder_init (&builder, kind, error))
    return NULL;

  for (i = 0; key_values != NULL && key_values[i] != NULL; i++)
    {
      const char *equals = strchr (key_values[i], '=');
      g_autofree char *name = NULL;
      const Param *param;

      if (equals == NULL)
        {
          g_autofree char *quoted = pm_quote (key_values[i], -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "fault %s: '%s' is not NAME=VALUE", builder.info->name, quoted);
          return NULL;
        }
      name = g_strndup (key_values[i], equals - key_values[i]);
      param = builder_take (&builder, name, error);
      if (param == NULL || !builder_set_string (&builder, param, equals + 1, error))
        return NULL;
    }

  return builder_finish (&builder, error);
}

/* ---- Copies and the bus form -------------------------------------------- */

/**
 * pm_fault_copy:
 * @fault: a fault
 *
 * Returns: (transfer full): a copy of @fault
 */
PmFault *
pm_fault_copy (const PmFault *fault)
{
  PmFault *copy;

  g_return_val_if_fail (fault != NULL, NULL);

  copy = g_memdup2 (fault, sizeof *fault);
  copy->path = g_strdup (fault->path);
  copy->message = g_strdup (fault->message);
  return copy;
}

void
pm_fault_free (PmFault *fault)
{
  if (fault == NULL)
    return;
  g_free (fault->path);
  g_free (fault->message);
  g_free (fault);
}

/**
 * pm_fault_to_variant:
 * @fault: a fault
 *
 * Describes @fault as the a{sv} pm_fault_new_from_variant() takes, with
 * every parameter of its kind, defaults included, in the order of the
 * kind's documentation.  Whole numbers (ms, jitter-ms, status,
 * bytes-per-s, domain, asic) are u, other numbers d, booleans b, texts
 * and the corrupt mode s.  The only parameter that may be left out is
 * errors' `path`, when every path is hit.
 *
 * Returns: (transfer floating): an a{sv}
 */
GVariant *
pm_fault_to_variant (const PmFault *fault)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const Param *param;

  g_return_val_if_fail (fault != NULL && fault->kind < PM_FAULT_N_KINDS, NULL);

  for (param = kinds[fault->kind].params; param->name != NULL; param++)
    {
      gconstpointer field = G_STRUCT_MEMBER_P (fault, param->offset);
      GVariant *value = NULL;

      switch (param->type)
        {
        case PARAM_UINT:
          value = g_variant_new_uint32 (*(const guint *) field);
          break;
        case PARAM_UINT64:
          /* At most 10^9: a u holds it. */
          value = g_variant_new_uint32 ((guint32) *(const guint64 *) field);
          break;
        case PARAM_DOUBLE:
          value = g_variant_new_double (*(const double *) field);
          break;
        case PARAM_BOOL:
          value = g_variant_new_boolean (*(const gboolean *) field);
          break;
        case PARAM_MODE:
          value = g_variant_new_string (pm_fault_corrupt_mode_to_string (*(const PmFaultCorruptMode *) field));
          break;
        case PARAM_PATH:
        case PARAM_TEXT:
        default:
          if (*(char *const *) field != NULL)
            value = g_variant_new_string (*(char *const *) field);
          break;
        }
      if (value != NULL)
        g_variant_builder_add (&builder, "{sv}", param->name, value);
    }

  return g_variant_builder_end (&builder);
}

/* ---- Draws -------------------------------------------------------------- */

/* A uniform draw from [0, 1), from the SplitMix64 stream @state. */
static double
next_uniform (guint64 *state)
{
  return (double) (pm_splitmix64_next (state) >> 11) * (1.0 / 9007199254740992.0);
}

/**
 * pm_fault_draw:
 * @rate: the chance of a hit, 0 to 1
 * @state: (inout): the state of the random stream, e.g. seeded from the
 *   daemon's seed and the device's port
 *
 * Decides whether one request is hit by a fault with a `rate`.  Each
 * call moves @state on by one draw, whatever @rate; the same @state gives
 * the same answers in the same order.  A @rate of 0 never hits, 1 always.
 *
 * Returns: whether this request is hit
 */
gboolean
pm_fault_draw (double   rate,
               guint64 *state)
{
  g_return_val_if_fail (state != NULL, FALSE);

  return next_uniform (state) < rate;
}

/**
 * pm_fault_jitter:
 * @fault: a %PM_FAULT_LATENCY fault
 * @state: (inout): the state of the random stream, as for pm_fault_draw()
 *
 * Draws one request's delay: `ms` plus a whole number drawn uniformly
 * from -`jitter-ms` to +`jitter-ms`, both included, and 0 if that is
 * negative.  Each call moves @state on by one draw.
 *
 * Returns: the delay in milliseconds
 */
guint
pm_fault_jitter (const PmFault *fault,
                 guint64       *state)
{
  gint64 span, delay;

  g_return_val_if_fail (fault != NULL && fault->kind == PM_FAULT_LATENCY, 0);
  g_return_val_if_fail (state != NULL, 0);

  span = 2 * (gint64) fault->jitter_ms + 1;
  delay = (gint64) fault->ms - fault->jitter_ms + (gint64) (next_uniform (state) * span);
  return (guint) MAX (delay, 0);
}
