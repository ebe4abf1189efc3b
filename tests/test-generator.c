/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-generator"

#include "config.h"

#include <float.h>
#include <math.h>  /* the macros only: the tests link without libm */
#include <string.h>

#include "pm-generator.h"
#include "pm-json-writer.h"
#include "pm-test-util.h"

/*
 * Unit tests of the system info generator, the firmware distribution, the
 * fake log lines and the JSON number writer.  They call the modules
 * directly and check every generated document against the field tables of
 * the two shapes.
 */

#define TEST_NOW_MS G_GINT64_CONSTANT (1717171717171)
#define N_SHAPE_ROUNDS 2000

/* ---- the two shapes, field by field -------------------------------------- */

typedef enum
{
  FIELD_INT,           /* a random integer in [lo, hi] */
  FIELD_FLOAT,         /* a random number in [lo, hi], at most decimals */
  FIELD_CONST_INT,     /* always the integer lo */
  FIELD_CONST_STRING,  /* always the string text */
  FIELD_DIFFICULTY,    /* "<number in [lo, hi] with exactly decimals><text>" */
  FIELD_HOSTNAME,      /* the hostname passed in */
  FIELD_STRATUM_USER,  /* the fixed wallet, a dot and the hostname */
  FIELD_VERSION,       /* the firmware passed in */
  FIELD_UPTIME,        /* the uptime passed in */
  FIELD_NOW,           /* the wall clock passed in */
  FIELD_HISTORY,       /* the New shape's history object */
} FieldKind;

typedef struct
{
  const char *name;
  FieldKind   kind;
  double      lo;
  double      hi;
  guint       decimals;
  const char *text;
} FieldSpec;

static const FieldSpec legacy_fields[] = {
  { "power", FIELD_FLOAT, 10, 20, 6, NULL },
  { "voltage", FIELD_INT, 5000, 6000, 0, NULL },
  { "current", FIELD_FLOAT, 2000, 3000, 1, NULL },
  { "fanSpeedRpm", FIELD_INT, 4000, 6000, 0, NULL },
  { "temp", FIELD_INT, 30, 70, 0, NULL },
  { "hashRate", FIELD_FLOAT, 700, 800, 9, NULL },
  { "bestDiff", FIELD_DIFFICULTY, 1, 5, 2, "M" },
  { "bestSessionDiff", FIELD_DIFFICULTY, 10, 30, 1, "k" },
  { "freeHeap", FIELD_INT, 100000, 200000, 0, NULL },
  { "coreVoltage", FIELD_INT, 1000, 1300, 0, NULL },
  { "coreVoltageActual", FIELD_INT, 1000, 1300, 0, NULL },
  { "frequency", FIELD_INT, 400, 600, 0, NULL },
  { "ssid", FIELD_CONST_STRING, 0, 0, 0, "WiFi-SSID" },
  { "hostname", FIELD_HOSTNAME, 0, 0, 0, NULL },
  { "wifiStatus", FIELD_CONST_STRING, 0, 0, 0, "Connected!" },
  { "sharesAccepted", FIELD_INT, 0, 10, 0, NULL },
  { "sharesRejected", FIELD_INT, 0, 10, 0, NULL },
  { "uptimeSeconds", FIELD_UPTIME, 0, 0, 0, NULL },
  { "ASICModel", FIELD_CONST_STRING, 0, 0, 0, "BM1368" },
  { "stratumURL", FIELD_CONST_STRING, 0, 0, 0, "solo.ckpool.org" },
  { "stratumPort", FIELD_CONST_INT, 3333, 3333, 0, NULL },
  { "stratumUser", FIELD_STRATUM_USER, 0, 0, 0, NULL },
  { "version", FIELD_VERSION, 0, 0, 0, NULL },
  { "boardVersion", FIELD_CONST_STRING, 0, 0, 0, "401" },
  { "runningPartition", FIELD_CONST_STRING, 0, 0, 0, "factory" },
  { "flipscreen", FIELD_INT, 0, 1, 0, NULL },
  { "invertscreen", FIELD_INT, 0, 1, 0, NULL },
  { "invertfanpolarity", FIELD_INT, 0, 1, 0, NULL },
  { "autofanspeed", FIELD_INT, 0, 1, 0, NULL },
  { "fanspeed", FIELD_INT, 0, 100, 0, NULL },
};

static const FieldSpec new_fields[] = {
  { "power", FIELD_FLOAT, 30, 80, 3, NULL },
  { "maxPower", FIELD_CONST_INT, 70, 70, 0, NULL },
  { "minPower", FIELD_CONST_INT, 30, 30, 0, NULL },
  { "voltage", FIELD_FLOAT, 11000, 13000, 2, NULL },
  { "maxVoltage", FIELD_CONST_INT, 13, 13, 0, NULL },
  { "minVoltage", FIELD_CONST_INT, 11, 11, 0, NULL },
  { "current", FIELD_FLOAT, 6000, 7000, 1, NULL },
  { "temp", FIELD_INT, 30, 80, 0, NULL },
  { "vrTemp", FIELD_FLOAT, 60, 80, 1, NULL },
  { "hashRateTimestamp", FIELD_NOW, 0, 0, 0, NULL },
  { "hashRate_10m", FIELD_FLOAT, 2900, 3100, 3, NULL },
  { "hashRate_1h", FIELD_FLOAT, 2900, 3100, 3, NULL },
  { "hashRate_1d", FIELD_FLOAT, 2900, 3100, 3, NULL },
  { "jobInterval", FIELD_CONST_INT, 1200, 1200, 0, NULL },
  { "bestDiff", FIELD_DIFFICULTY, 400, 500, 1, "M" },
  { "bestSessionDiff", FIELD_DIFFICULTY, 100, 200, 1, "M" },
  { "freeHeap", FIELD_INT, 5000000, 6000000, 0, NULL },
  { "coreVoltage", FIELD_INT, 1300, 1400, 0, NULL },
  { "coreVoltageActual", FIELD_INT, 1300, 1400, 0, NULL },
  { "frequency", FIELD_INT, 400, 600, 0, NULL },
  { "ssid", FIELD_CONST_STRING, 0, 0, 0, "EMN_Guest" },
  { "hostname", FIELD_HOSTNAME, 0, 0, 0, NULL },
  { "wifiStatus", FIELD_CONST_STRING, 0, 0, 0, "Connected!" },
  { "sharesAccepted", FIELD_INT, 10000, 20000, 0, NULL },
  { "sharesRejected", FIELD_INT, 0, 50, 0, NULL },
  { "uptimeSeconds", FIELD_UPTIME, 0, 0, 0, NULL },
  { "asicCount", FIELD_INT, 2, 6, 0, NULL },
  { "smallCoreCount", FIELD_INT, 1200, 1300, 0, NULL },
  { "ASICModel", FIELD_CONST_STRING, 0, 0, 0, "BM1368" },
  { "deviceModel", FIELD_CONST_STRING, 0, 0, 0, "NerdQAxe+" },
  { "stratumURL", FIELD_CONST_STRING, 0, 0, 0, "solo.ckpool.org" },
  { "stratumPort", FIELD_CONST_INT, 3333, 3333, 0, NULL },
  { "stratumUser", FIELD_STRATUM_USER, 0, 0, 0, NULL },
  { "version", FIELD_VERSION, 0, 0, 0, NULL },
  { "runningPartition", FIELD_CONST_STRING, 0, 0, 0, "ota_1" },
  { "flipscreen", FIELD_INT, 0, 1, 0, NULL },
  { "invertscreen", FIELD_INT, 0, 1, 0, NULL },
  { "autoscreenoff", FIELD_INT, 0, 1, 0, NULL },
  { "invertfanpolarity", FIELD_INT, 0, 1, 0, NULL },
  { "autofanspeed", FIELD_INT, 0, 1, 0, NULL },
  { "overheat_temp", FIELD_CONST_INT, 75, 75, 0, NULL },
  { "fanspeed", FIELD_INT, 0, 100, 0, NULL },
  { "fanrpm", FIELD_INT, 2000, 3000, 0, NULL },
  { "lastResetReason", FIELD_CONST_STRING, 0, 0, 0, "Power on reset" },
  { "history", FIELD_HISTORY, 0, 0, 0, NULL },
};

/* The arrays of the New shape's history object, in order. */
typedef struct
{
  const char *name;
  gint64      lo;
  gint64      hi;
} HistorySpec;

static const HistorySpec history_arrays[] = {
  { "hashrate_10m", 290000, 310000 },
  { "hashrate_1h", 300000, 310000 },
  { "hashrate_1d", 310000, 320000 },
  { "timestamps", 2000, 5000 },
};

#define STRATUM_USER_PREFIX "bc1asdasdasdasdasasdasdasdasdasdasd."

static const FieldSpec *
shape_fields (PmApiVersion version,
              gsize       *n_fields)
{
  switch (version)
    {
    case PM_API_VERSION_LEGACY:
      *n_fields = G_N_ELEMENTS (legacy_fields);
      return legacy_fields;
    case PM_API_VERSION_NEW:
      *n_fields = G_N_ELEMENTS (new_fields);
      return new_fields;
    default:
      g_assert_not_reached ();
    }
}

/* What the generator was asked for, to compare the passed-through fields. */
typedef struct
{
  const char *hostname;
  const char *firmware;
  guint64     uptime_seconds;
  gint64      now_ms;
} GenerateArgs;

/* The lowest and highest value seen of a random field. */
typedef struct
{
  double   min;
  double   max;
  guint    n;
} RangeStats;

static void
range_stats_add (RangeStats *stats,
                 double      value)
{
  if (stats == NULL)
    return;
  if (stats->n == 0 || value < stats->min)
    stats->min = value;
  if (stats->n == 0 || value > stats->max)
    stats->max = value;
  stats->n++;
}

/* Checks that random draws reached both ends of [lo, hi]: exactly for
 * small integer ranges, within @slack of the span otherwise.  With the
 * number of draws these tests make, missing an end by chance is far less
 * likely than 1 in 10^9. */
static void
range_stats_assert_covers (const RangeStats *stats,
                           const char       *name,
                           double            lo,
                           double            hi,
                           gboolean          integer,
                           double            slack)
{
  double span = hi - lo;

  g_test_message ("%s: %u draws in [%g, %g], spec [%g, %g]",
                  name, stats->n, stats->min, stats->max, lo, hi);
  g_assert_cmpuint (stats->n, >, 0);
  if (integer && span <= 100)
    {
      g_assert_cmpfloat (stats->min, ==, lo);
      g_assert_cmpfloat (stats->max, ==, hi);
    }
  else
    {
      g_assert_cmpfloat (stats->min, <=, lo + slack * span);
      g_assert_cmpfloat (stats->max, >=, hi - slack * span);
    }
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  node = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static char *
generate (GRand              *rand,
          PmApiVersion        version,
          const GenerateArgs *args,
          JsonObject         *overrides)
{
  char *text = pm_system_info_generate (rand, version, args->hostname, args->firmware,
                                        args->uptime_seconds, args->now_ms, overrides);

  g_assert_nonnull (text);
  return text;
}

/* The literal text of the top-level number member @name in @json. */
static char *
raw_number_text (const char *json,
                 const char *name)
{
  g_autofree char *needle = g_strdup_printf ("\"%s\":", name);
  const char *start = strstr (json, needle);
  gsize length;

  g_assert_nonnull (start);
  start += strlen (needle);
  length = strcspn (start, ",}");
  return g_strndup (start, length);
}

/* How many times the member name @name appears in @json. */
static guint
count_member_names (const char *json,
                    const char *name)
{
  g_autofree char *needle = g_strdup_printf ("\"%s\":", name);
  const char *p = json;
  guint count = 0;

  while ((p = strstr (p, needle)) != NULL)
    {
      count++;
      p += strlen (needle);
    }
  return count;
}

/* Checks @text is [-]digits[.digits] with at most @max_decimals decimals,
 * without trailing zeros after the point, as JavaScript prints numbers. */
static void
assert_number_text (const char *name,
                    const char *text,
                    guint       max_decimals)
{
  const char *p = text;
  const char *dot;

  if (*p == '-')
    p++;
  g_assert_true (g_ascii_isdigit (*p));
  while (g_ascii_isdigit (*p))
    p++;
  if (*p == '\0')
    return;

  dot = p;
  if (*dot != '.')
    g_error ("%s: “%s” is not a plain decimal number", name, text);
  p++;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p != '\0')
    g_error ("%s: “%s” is not a plain decimal number", name, text);
  if ((guint) (p - dot - 1) > max_decimals)
    g_error ("%s: “%s” has more than %u decimals", name, text, max_decimals);
  if (p - dot - 1 == 0 || p[-1] == '0')
    g_error ("%s: “%s” has trailing zeros", name, text);
}

static void
assert_is_number (const char *name,
                  JsonNode   *node)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    g_error ("%s is not a JSON number (node type %s)", name, json_node_type_name (node));
  type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    g_error ("%s is not a JSON number (%s)", name, g_type_name (type));
}

static gint64
assert_is_integer (const char *name,
                   JsonNode   *node)
{
  assert_is_number (name, node);
  if (json_node_get_value_type (node) != G_TYPE_INT64)
    g_error ("%s is not a JSON integer", name);
  return json_node_get_int (node);
}

static const char *
assert_is_string (const char *name,
                  JsonNode   *node)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    g_error ("%s is not a JSON string", name);
  return json_node_get_string (node);
}

static void
assert_difficulty (const FieldSpec *spec,
                   const char      *text,
                   RangeStats      *stats)
{
  gsize length = strlen (text);
  gsize suffix_length = strlen (spec->text);
  g_autofree char *number = NULL;
  const char *dot;
  double value;
  gsize i;

  if (length <= suffix_length || !g_str_has_suffix (text, spec->text))
    g_error ("%s: “%s” does not end in “%s”", spec->name, text, spec->text);
  number = g_strndup (text, length - suffix_length);

  /* toFixed() keeps its zeros: exactly this many decimals. */
  dot = strchr (number, '.');
  if (dot == NULL || strlen (dot + 1) != spec->decimals)
    g_error ("%s: “%s” does not have exactly %u decimals", spec->name, text, spec->decimals);
  for (i = 0; number[i] != '\0'; i++)
    if (!g_ascii_isdigit (number[i]) && &number[i] != dot)
      g_error ("%s: “%s” is not a plain number", spec->name, text);

  value = g_ascii_strtod (number, NULL);
  g_assert_cmpfloat (value, >=, spec->lo);
  g_assert_cmpfloat (value, <=, spec->hi);
  range_stats_add (stats, value);
}

static void
assert_history (JsonNode   *node,
                gint64      now_ms,
                RangeStats *stats)
{
  JsonObject *history;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  guint index = 0;
  gsize i;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    g_error ("history is not a JSON object");
  history = json_node_get_object (node);

  /* Exactly the four arrays and timestampBase, in this order. */
  g_assert_cmpuint (json_object_get_size (history), ==, G_N_ELEMENTS (history_arrays) + 1);
  json_object_iter_init_ordered (&iter, history);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      if (index < G_N_ELEMENTS (history_arrays))
        g_assert_cmpstr (name, ==, history_arrays[index].name);
      else
        g_assert_cmpstr (name, ==, "timestampBase");
      index++;
    }

  for (i = 0; i < G_N_ELEMENTS (history_arrays); i++)
    {
      const HistorySpec *spec = &history_arrays[i];
      JsonNode *array_node = json_object_get_member (history, spec->name);
      JsonArray *array;
      guint j;

      g_assert_nonnull (array_node);
      if (!JSON_NODE_HOLDS_ARRAY (array_node))
        g_error ("history.%s is not a JSON array", spec->name);
      array = json_node_get_array (array_node);
      g_assert_cmpuint (json_array_get_length (array), ==, 4);
      for (j = 0; j < 4; j++)
        {
          gint64 value = assert_is_integer (spec->name, json_array_get_element (array, j));

          g_assert_cmpint (value, >=, spec->lo);
          g_assert_cmpint (value, <=, spec->hi);
          range_stats_add (stats != NULL ? &stats[i] : NULL, (double) value);
        }
    }

  g_assert_cmpint (assert_is_integer ("timestampBase",
                                      json_object_get_member (history, "timestampBase")),
                   ==, now_ms);
}

/* Checks one generated member against its spec. */
static void
assert_field (const FieldSpec    *spec,
              JsonNode           *node,
              const char         *json,
              const GenerateArgs *args,
              RangeStats         *stats,
              RangeStats         *history_stats)
{
  switch (spec->kind)
    {
    case FIELD_INT:
      {
        gint64 value = assert_is_integer (spec->name, node);

        g_assert_cmpint (value, >=, (gint64) spec->lo);
        g_assert_cmpint (value, <=, (gint64) spec->hi);
        range_stats_add (stats, (double) value);
      }
      break;

    case FIELD_FLOAT:
      {
        g_autofree char *text = raw_number_text (json, spec->name);
        double value;

        assert_is_number (spec->name, node);
        assert_number_text (spec->name, text, spec->decimals);
        value = json_node_get_double (node);
        g_assert_cmpfloat (value, >=, spec->lo);
        g_assert_cmpfloat (value, <=, spec->hi);
        range_stats_add (stats, value);
      }
      break;

    case FIELD_CONST_INT:
      g_assert_cmpint (assert_is_integer (spec->name, node), ==, (gint64) spec->lo);
      break;

    case FIELD_CONST_STRING:
      g_assert_cmpstr (assert_is_string (spec->name, node), ==, spec->text);
      break;

    case FIELD_DIFFICULTY:
      assert_difficulty (spec, assert_is_string (spec->name, node), stats);
      break;

    case FIELD_HOSTNAME:
      g_assert_cmpstr (assert_is_string (spec->name, node), ==, args->hostname);
      break;

    case FIELD_STRATUM_USER:
      {
        g_autofree char *expected = g_strconcat (STRATUM_USER_PREFIX, args->hostname, NULL);

        g_assert_cmpstr (assert_is_string (spec->name, node), ==, expected);
      }
      break;

    case FIELD_VERSION:
      g_assert_cmpstr (assert_is_string (spec->name, node), ==, args->firmware);
      break;

    case FIELD_UPTIME:
      g_assert_cmpint (assert_is_integer (spec->name, node), ==, (gint64) args->uptime_seconds);
      break;

    case FIELD_NOW:
      g_assert_cmpint (assert_is_integer (spec->name, node), ==, args->now_ms);
      break;

    case FIELD_HISTORY:
      assert_history (node, args->now_ms, history_stats);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* Checks a whole generated document: the members are exactly the shape's
 * fields in the documented order followed by the overrides the shape does
 * not have, in insertion order; overridden members carry the override
 * exactly; every other member matches its spec.  @stats has one entry per
 * field of the shape, @history_stats one per history array. */
static void
assert_shape (PmApiVersion        version,
              const char         *json,
              const GenerateArgs *args,
              JsonObject         *overrides,
              RangeStats         *stats,
              RangeStats         *history_stats)
{
  g_autoptr(JsonNode) root = parse_json (json);
  g_autoptr(GPtrArray) expected_names = g_ptr_array_new ();
  const FieldSpec *fields;
  gsize n_fields, i;
  JsonObject *object;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  guint index = 0;

  fields = shape_fields (version, &n_fields);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    g_error ("the document is not a JSON object: %s", json);
  object = json_node_get_object (root);

  for (i = 0; i < n_fields; i++)
    g_ptr_array_add (expected_names, (gpointer) fields[i].name);
  if (overrides != NULL)
    {
      json_object_iter_init_ordered (&iter, overrides);
      while (json_object_iter_next_ordered (&iter, &name, &member))
        {
          gboolean in_shape = FALSE;

          for (i = 0; i < n_fields; i++)
            in_shape = in_shape || g_str_equal (fields[i].name, name);
          if (!in_shape)
            g_ptr_array_add (expected_names, (gpointer) name);
        }
    }

  /* The member list, in order; a name appearing twice in the text would
   * be folded into one by the parser, so count the text as well. */
  g_assert_cmpuint (json_object_get_size (object), ==, expected_names->len);
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_assert_cmpuint (index, <, expected_names->len);
      g_assert_cmpstr (name, ==, g_ptr_array_index (expected_names, index));
      index++;
    }
  for (i = 0; i < n_fields; i++)
    g_assert_cmpuint (count_member_names (json, fields[i].name), ==, 1);

  for (i = 0; i < n_fields; i++)
    {
      const FieldSpec *spec = &fields[i];

      member = json_object_get_member (object, spec->name);
      g_assert_nonnull (member);
      if (overrides != NULL && json_object_has_member (overrides, spec->name))
        continue;
      assert_field (spec, member, json, args, stats != NULL ? &stats[i] : NULL, history_stats);
    }

  if (overrides != NULL)
    {
      json_object_iter_init_ordered (&iter, overrides);
      while (json_object_iter_next_ordered (&iter, &name, &member))
        {
          JsonNode *out = json_object_get_member (object, name);
          g_autofree char *expected = json_to_string (member, FALSE);
          g_autofree char *actual = NULL;

          g_assert_nonnull (out);
          actual = json_to_string (out, FALSE);
          g_assert_cmpstr (actual, ==, expected);
          g_assert_true (json_node_equal (out, member));
        }
    }
}

/* ---- shape tests ---------------------------------------------------------- */

static void
check_shape_many (PmApiVersion version,
                  guint32      seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  const FieldSpec *fields;
  gsize n_fields, i;
  g_autofree RangeStats *stats = NULL;
  RangeStats history_stats[G_N_ELEMENTS (history_arrays)] = { { 0 } };
  guint round;

  fields = shape_fields (version, &n_fields);
  stats = g_new0 (RangeStats, n_fields);

  for (round = 0; round < N_SHAPE_ROUNDS; round++)
    {
      g_autofree char *hostname = g_strdup_printf ("mockaxe%u", round % 10 + 1);
      const char *firmwares[] = { "v2.1.8", "v2.2.2", "v1.1.0" };
      GenerateArgs args = {
        hostname,
        firmwares[round % G_N_ELEMENTS (firmwares)],
        (guint64) round * 7919 + (round == 7 ? G_GUINT64_CONSTANT (4000000000) : 0),
        TEST_NOW_MS + round * 1013,
      };
      g_autofree char *json = generate (rand, version, &args, NULL);

      assert_shape (version, json, &args, NULL, stats, history_stats);
    }

  /* The draws reach both ends of every documented range, so no range is
   * narrower than documented. */
  for (i = 0; i < n_fields; i++)
    {
      const FieldSpec *spec = &fields[i];

      if (spec->kind == FIELD_INT || spec->kind == FIELD_FLOAT || spec->kind == FIELD_DIFFICULTY)
        range_stats_assert_covers (&stats[i], spec->name, spec->lo, spec->hi,
                                   spec->kind == FIELD_INT, 0.02);
    }
  if (version == PM_API_VERSION_NEW)
    for (i = 0; i < G_N_ELEMENTS (history_arrays); i++)
      range_stats_assert_covers (&history_stats[i], history_arrays[i].name,
                                 (double) history_arrays[i].lo, (double) history_arrays[i].hi,
                                 TRUE, 0.01);
}

static void
test_shape_legacy (void)
{
  check_shape_many (PM_API_VERSION_LEGACY, 0x1e9ac7);
}

static void
test_shape_new (void)
{
  check_shape_many (PM_API_VERSION_NEW, 0x0e3);
}

/* The two shapes differ where the reference says they do. */
static void
test_shape_differences (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  GenerateArgs args = { "mockaxe2", "v2.1.10", 61, TEST_NOW_MS };
  g_autofree char *legacy = generate (rand, PM_API_VERSION_LEGACY, &args, NULL);
  g_autofree char *newer = generate (rand, PM_API_VERSION_NEW, &args, NULL);
  g_autoptr(JsonNode) legacy_root = parse_json (legacy);
  g_autoptr(JsonNode) new_root = parse_json (newer);
  JsonObject *legacy_object = json_node_get_object (legacy_root);
  JsonObject *new_object = json_node_get_object (new_root);

  g_assert_true (json_object_has_member (legacy_object, "hashRate"));
  g_assert_false (json_object_has_member (legacy_object, "history"));
  g_assert_false (json_object_has_member (legacy_object, "hashRateTimestamp"));
  g_assert_true (json_object_has_member (legacy_object, "fanSpeedRpm"));

  g_assert_false (json_object_has_member (new_object, "hashRate"));
  g_assert_true (json_object_has_member (new_object, "history"));
  g_assert_false (json_object_has_member (new_object, "fanSpeedRpm"));
  g_assert_false (json_object_has_member (new_object, "boardVersion"));
  g_assert_cmpint (json_object_get_int_member (new_object, "hashRateTimestamp"), ==, TEST_NOW_MS);
}

/* An empty overrides object is the same as none. */
static void
test_shape_empty_overrides (void)
{
  g_autoptr(JsonObject) overrides = json_object_new ();
  guint v;

  for (v = PM_API_VERSION_LEGACY; v <= PM_API_VERSION_NEW; v++)
    {
      g_autoptr(GRand) rand1 = g_rand_new_with_seed (99);
      g_autoptr(GRand) rand2 = g_rand_new_with_seed (99);
      GenerateArgs args = { "mockaxe1", "v2.1.8", 5, TEST_NOW_MS };
      g_autofree char *with = generate (rand1, v, &args, overrides);
      g_autofree char *without = generate (rand2, v, &args, NULL);

      assert_shape (v, with, &args, overrides, NULL, NULL);
      g_assert_cmpstr (with, ==, without);
    }
}

/* Every random field takes more than one value over 50 calls with the same
 * random stream, and every constant keeps its value. */
static void
check_values_vary (PmApiVersion version,
                   JsonObject  *overrides)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240601);
  GenerateArgs args = { "mockaxe4", "v2.0.3", 3600, TEST_NOW_MS };
  g_autoptr(JsonNode) first_root = NULL;
  const FieldSpec *fields;
  gsize n_fields, i;
  g_autofree gboolean *varied = NULL;
  guint round;

  fields = shape_fields (version, &n_fields);
  varied = g_new0 (gboolean, n_fields);

  for (round = 0; round < 50; round++)
    {
      g_autofree char *json = generate (rand, version, &args, overrides);
      g_autoptr(JsonNode) root = parse_json (json);
      JsonObject *object = json_node_get_object (root);

      assert_shape (version, json, &args, overrides, NULL, NULL);
      if (first_root == NULL)
        {
          first_root = g_steal_pointer (&root);
          continue;
        }

      for (i = 0; i < n_fields; i++)
        {
          JsonNode *first = json_object_get_member (json_node_get_object (first_root),
                                                    fields[i].name);

          if (!json_node_equal (first, json_object_get_member (object, fields[i].name)))
            varied[i] = TRUE;
        }
    }

  for (i = 0; i < n_fields; i++)
    {
      const FieldSpec *spec = &fields[i];
      gboolean random = (spec->kind == FIELD_INT || spec->kind == FIELD_FLOAT ||
                         spec->kind == FIELD_DIFFICULTY || spec->kind == FIELD_HISTORY);

      if (overrides != NULL && json_object_has_member (overrides, spec->name))
        random = FALSE;
      if (random != varied[i])
        g_error ("%s %s over 50 calls", spec->name,
                 varied[i] ? "changed although it is fixed" : "never changed although it is random");
    }
}

static void
test_values_vary_legacy (void)
{
  check_values_vary (PM_API_VERSION_LEGACY, NULL);
}

static void
test_values_vary_new (void)
{
  check_values_vary (PM_API_VERSION_NEW, NULL);
}

/* ---- overrides ------------------------------------------------------------ */

/* Overrides of three fields each shape has, one the New shape alone has,
 * and extra keys, inserted in non-alphabetical order, with nested values
 * and awkward strings. */
static const char override_document[] =
  "{"
  "\"power\":20,"
  "\"zExtra\":{\"nested\":[1,2.5,{\"deep\":null,\"t\":true}],\"flag\":false,\"e\":{},\"a\":[]},"
  "\"ssid\":\"my \\\"wifi\\\" \\\\ net\\n\\t\\r\\b\\f\\u0001\\u001f/\\u007f\","
  "\"aExtra\":\"\\u00e9\\u6f22\\ud83d\\ude00\\u2028 caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80\","
  "\"hostname\":12,"
  "\"history\":\"replaced\","
  "\"we\\\"ird\\\\key\\n\":[\"\\\\\",\"\\\"\",\"\"],"
  "\"big\":9223372036854775807,"
  "\"small\":-9223372036854775807,"
  "\"tiny\":-1.5e-7,"
  "\"huge\":1e300,"
  "\"third\":0.1,"
  "\"nothing\":null,"
  "\"yes\":true"
  "}";

static JsonObject *
parse_overrides (const char *text)
{
  g_autoptr(JsonNode) node = parse_json (text);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static void
check_overrides (PmApiVersion version)
{
  g_autoptr(JsonObject) overrides = parse_overrides (override_document);
  g_autoptr(GRand) rand = g_rand_new_with_seed (31337);
  GenerateArgs args = { "mockaxe9", "v2.1.7", 12, TEST_NOW_MS };
  g_autofree char *json = generate (rand, version, &args, overrides);
  g_autoptr(JsonNode) root = parse_json (json);
  JsonObject *object = json_node_get_object (root);
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  guint index = 0;
  guint extras_start;
  const char *extras_legacy[] = {
    "zExtra", "aExtra", "history", "we\"ird\\key\n", "big", "small", "tiny", "huge", "third",
    "nothing", "yes",
  };
  const char *extras_new[] = {
    "zExtra", "aExtra", "we\"ird\\key\n", "big", "small", "tiny", "huge", "third", "nothing",
    "yes",
  };
  const char *const *extras;
  gsize n_extras, n_fields, i;
  const FieldSpec *fields = shape_fields (version, &n_fields);

  g_test_message ("%s", json);

  /* Everything, generally: order, exact round trip, the rest in spec. */
  assert_shape (version, json, &args, overrides, NULL, NULL);

  /* And spelt out: an overridden field keeps its place... */
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      if (index < n_fields)
        g_assert_cmpstr (name, ==, fields[index].name);
      index++;
    }
  g_assert_cmpint (json_object_get_int_member (object, "power"), ==, 20);
  g_assert_cmpint (json_object_get_int_member (object, "hostname"), ==, 12);
  g_assert_cmpstr (json_object_get_string_member (object, "ssid"), ==,
                   "my \"wifi\" \\ net\n\t\r\b\f\001\037/\177");

  /* ...the others are appended in the order they were stored... */
  if (version == PM_API_VERSION_LEGACY)
    {
      extras = extras_legacy;
      n_extras = G_N_ELEMENTS (extras_legacy);
    }
  else
    {
      extras = extras_new;
      n_extras = G_N_ELEMENTS (extras_new);
      g_assert_cmpstr (json_object_get_string_member (object, "history"), ==, "replaced");
    }
  g_assert_cmpuint (json_object_get_size (object), ==, n_fields + n_extras);
  extras_start = n_fields;
  index = 0;
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      if (index >= extras_start)
        g_assert_cmpstr (name, ==, extras[index - extras_start]);
      index++;
    }

  /* ...and carry their values exactly. */
  g_assert_cmpstr (json_object_get_string_member (object, "aExtra"), ==,
                   "\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80\xe2\x80\xa8 caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80");
  g_assert_cmpint (json_object_get_int_member (object, "big"), ==, G_MAXINT64);
  g_assert_cmpint (json_object_get_int_member (object, "small"), ==, -G_MAXINT64);
  g_assert_cmpfloat (json_object_get_double_member (object, "tiny"), ==, -1.5e-7);
  g_assert_cmpfloat (json_object_get_double_member (object, "huge"), ==, 1e300);
  g_assert_cmpfloat (json_object_get_double_member (object, "third"), ==, 0.1);
  g_assert_true (json_object_get_null_member (object, "nothing"));
  g_assert_true (json_object_get_boolean_member (object, "yes"));
  for (i = 0; i < n_extras; i++)
    g_assert_true (json_node_equal (json_object_get_member (object, extras[i]),
                                    json_object_get_member (overrides, extras[i])));
  {
    JsonObject *nested = json_object_get_object_member (object, "zExtra");
    JsonArray *array = json_object_get_array_member (nested, "nested");

    g_assert_cmpuint (json_array_get_length (array), ==, 3);
    g_assert_cmpint (json_array_get_int_element (array, 0), ==, 1);
    g_assert_cmpfloat (json_array_get_double_element (array, 1), ==, 2.5);
    g_assert_true (json_object_get_null_member (json_array_get_object_element (array, 2), "deep"));
    g_assert_false (json_object_get_boolean_member (nested, "flag"));
    g_assert_cmpuint (json_object_get_size (json_object_get_object_member (nested, "e")), ==, 0);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (nested, "a")), ==, 0);
  }

  /* Fields not overridden keep being random, overridden ones do not. */
  check_values_vary (version, overrides);
}

static void
test_overrides_legacy (void)
{
  check_overrides (PM_API_VERSION_LEGACY);
}

static void
test_overrides_new (void)
{
  check_overrides (PM_API_VERSION_NEW);
}

/* An override of a number by a string, of a string by an object, and of
 * the last field keep the field's position; nothing is written twice. */
static void
test_overrides_types (void)
{
  g_autoptr(JsonObject) overrides =
    parse_overrides ("{\"fanspeed\":\"fast\",\"version\":{\"v\":[1,2]},\"temp\":[],"
                     "\"lastResetReason\":false}");
  guint v;

  for (v = PM_API_VERSION_LEGACY; v <= PM_API_VERSION_NEW; v++)
    {
      g_autoptr(GRand) rand = g_rand_new_with_seed (4242 + v);
      GenerateArgs args = { "mockaxe3", "v2.2.0", 1, TEST_NOW_MS };
      g_autofree char *json = generate (rand, v, &args, overrides);
      g_autoptr(JsonNode) root = parse_json (json);
      JsonObject *object = json_node_get_object (root);

      assert_shape (v, json, &args, overrides, NULL, NULL);
      g_assert_cmpstr (json_object_get_string_member (object, "fanspeed"), ==, "fast");
      g_assert_cmpuint (count_member_names (json, "lastResetReason"), ==, 1);
      g_assert_cmpuint (count_member_names (json, "fanspeed"), ==, 1);
      g_assert_cmpuint (count_member_names (json, "version"), ==, 1);
      if (v == PM_API_VERSION_LEGACY)
        {
          /* Not a Legacy field: appended at the end. */
          g_assert_true (g_str_has_suffix (json, ",\"lastResetReason\":false}"));
        }
      else
        {
          g_assert_false (json_object_get_boolean_member (object, "lastResetReason"));
          g_assert_true (g_str_has_prefix (strstr (json, "\"lastResetReason\":"),
                                           "\"lastResetReason\":false,\"history\":{"));
        }
    }
}

/* ---- firmware ------------------------------------------------------------- */

static const PmFirmwareShare expected_firmware[] = {
  { "v2.2.2", 5 },
  { "v2.2.0", 5 },
  { "v2.1.10", 20 },
  { "v2.1.9", 2 },
  { "v2.1.8", 60 },
  { "v2.1.7", 2 },
  { "v2.1.6", 2 },
  { "v2.0.3", 2 },
  { "v1.2.0", 1 },
  { "v1.1.0", 1 },
};

static void
test_firmware_table (void)
{
  gsize n_entries = 0, i;
  const PmFirmwareShare *table = pm_firmware_table (&n_entries);
  guint sum = 0;

  g_assert_nonnull (table);
  g_assert_cmpuint (n_entries, ==, G_N_ELEMENTS (expected_firmware));
  for (i = 0; i < n_entries; i++)
    {
      g_assert_cmpstr (table[i].version, ==, expected_firmware[i].version);
      g_assert_cmpuint (table[i].percent, ==, expected_firmware[i].percent);
      sum += table[i].percent;
    }
  g_assert_cmpuint (sum, ==, 100);

  /* The count is optional. */
  g_assert_true (pm_firmware_table (NULL) == table);
}

static void
test_firmware_pick (void)
{
  const struct
  {
    double      draw;
    const char *version;
  } cases[] = {
    { 0.0, "v2.2.2" },
    { 0.01, "v2.2.2" },
    { 0.05, "v2.2.2" },
    { 0.0500001, "v2.2.0" },
    { 0.1, "v2.2.0" },
    { 0.1000001, "v2.1.10" },
    { 0.2, "v2.1.10" },
    { 0.3, "v2.1.10" },
    { 0.3000001, "v2.1.9" },
    { 0.32, "v2.1.9" },
    { 0.3200001, "v2.1.8" },
    { 0.5, "v2.1.8" },
    { 0.92, "v2.1.8" },
    { 0.9200001, "v2.1.7" },
    { 0.94, "v2.1.7" },
    { 0.9400001, "v2.1.6" },
    { 0.96, "v2.1.6" },
    { 0.9600001, "v2.0.3" },
    { 0.98, "v2.0.3" },
    { 0.9800001, "v1.2.0" },
    { 0.99, "v1.2.0" },
    { 0.9900001, "v1.1.0" },
    { 0.9999999, "v1.1.0" },
    { 1.0, "v1.1.0" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("pick (%.7f)", cases[i].draw);
      g_assert_cmpstr (pm_firmware_pick (cases[i].draw), ==, cases[i].version);
    }
}

/* 200000 draws: each version's share is within 5 binomial standard
 * deviations of its percentage, and no other version appears. */
static void
test_firmware_distribution (void)
{
  const guint n = 200000;
  g_autoptr(GRand) rand = g_rand_new_with_seed (0xf1e2d3);
  guint counts[G_N_ELEMENTS (expected_firmware)] = { 0 };
  guint i;
  gsize j;

  for (i = 0; i < n; i++)
    {
      const char *version = pm_firmware_draw (rand);
      gboolean found = FALSE;

      for (j = 0; j < G_N_ELEMENTS (expected_firmware); j++)
        if (g_strcmp0 (version, expected_firmware[j].version) == 0)
          {
            counts[j]++;
            found = TRUE;
            break;
          }
      if (!found)
        g_error ("pm_firmware_draw returned unknown version “%s”", version);
    }

  for (j = 0; j < G_N_ELEMENTS (expected_firmware); j++)
    {
      double p = expected_firmware[j].percent / 100.0;
      double mean = n * p;
      double variance = n * p * (1 - p);
      double deviation = counts[j] - mean;

      /* |deviation| <= 5 sigma, squared to stay clear of libm. */
      g_test_message ("%s: %u draws, expected %.0f, variance %.1f",
                      expected_firmware[j].version, counts[j], mean, variance);
      g_assert_cmpfloat (deviation * deviation, <=, 25 * variance);
    }
}

/* ---- seeds ---------------------------------------------------------------- */

static char *
port_fingerprint (guint64 seed,
                  guint   port)
{
  g_autoptr(GRand) rand = pm_rand_new_for_port (seed, port);
  GenerateArgs args = { "mockaxe1", NULL, 100, TEST_NOW_MS };
  GString *out = g_string_new (NULL);
  guint i;

  args.firmware = pm_firmware_draw (rand);
  g_string_append (out, args.firmware);
  for (i = 0; i < 3; i++)
    {
      g_autofree char *legacy = generate (rand, PM_API_VERSION_LEGACY, &args, NULL);
      g_autofree char *newer = generate (rand, PM_API_VERSION_NEW, &args, NULL);

      g_string_append_printf (out, "\n%s\n%s", legacy, newer);
    }
  return g_string_free (out, FALSE);
}

static void
test_seed_reproducible (void)
{
  const guint64 seeds[] = { 0, 42, G_MAXUINT64 };
  gsize s;
  guint port;

  for (s = 0; s < G_N_ELEMENTS (seeds); s++)
    for (port = 7751; port <= 7760; port++)
      {
        g_autoptr(GRand) rand1 = pm_rand_new_for_port (seeds[s], port);
        g_autoptr(GRand) rand2 = pm_rand_new_for_port (seeds[s], port);
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;

        g_assert_cmpstr (pm_firmware_draw (rand1), ==, pm_firmware_draw (rand2));
        a = port_fingerprint (seeds[s], port);
        b = port_fingerprint (seeds[s], port);
        g_assert_cmpstr (a, ==, b);
      }
}

static void
test_seed_differs (void)
{
  /* Seeds differing in the low word, in the high word, and ports. */
  const guint64 pairs[][2] = {
    { 42, 43 },
    { 1, G_GUINT64_CONSTANT (1) + (G_GUINT64_CONSTANT (1) << 32) },
    { 0, G_MAXUINT64 },
  };
  gsize p;
  guint port, other;

  for (p = 0; p < G_N_ELEMENTS (pairs); p++)
    {
      guint firmware_equal = 0;

      for (port = 7751; port <= 7760; port++)
        {
          g_autofree char *a = port_fingerprint (pairs[p][0], port);
          g_autofree char *b = port_fingerprint (pairs[p][1], port);
          g_autoptr(GRand) rand1 = pm_rand_new_for_port (pairs[p][0], port);
          g_autoptr(GRand) rand2 = pm_rand_new_for_port (pairs[p][1], port);

          /* Dozens of random fields: equal only if the streams are. */
          g_assert_cmpstr (a, !=, b);
          if (g_str_equal (pm_firmware_draw (rand1), pm_firmware_draw (rand2)))
            firmware_equal++;
        }
      g_assert_cmpuint (firmware_equal, <, 10);
    }

  /* Each port of one fleet has a stream of its own. */
  for (port = 7751; port <= 7760; port++)
    for (other = port + 1; other <= 7760; other++)
      {
        g_autofree char *a = port_fingerprint (42, port);
        g_autofree char *b = port_fingerprint (42, other);

        g_assert_cmpstr (a, !=, b);
      }
}

/* ---- fake logs ------------------------------------------------------------ */

static void
test_fake_log_messages (void)
{
  gsize n = 0, i, j;
  const char *const *messages = pm_fake_log_messages (&n);

  g_assert_nonnull (messages);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (pm_test_log_messages));
  for (i = 0; i < n; i++)
    {
      g_assert_cmpint (pm_test_log_message_index (messages[i]), >=, 0);
      for (j = i + 1; j < n; j++)
        g_assert_cmpstr (messages[i], !=, messages[j]);
    }
  g_assert_true (pm_fake_log_messages (NULL) == messages);
}

static void
test_fake_log_draw (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1234);
  guint seen[G_N_ELEMENTS (pm_test_log_messages)] = { 0 };
  const guint n = 2000;
  guint i;
  gsize j;

  for (i = 0; i < n; i++)
    {
      const char *message = pm_fake_log_draw (rand);
      gssize index = pm_test_log_message_index (message);

      if (index < 0)
        g_error ("pm_fake_log_draw returned unknown message “%s”", message);
      seen[index]++;
    }

  /* Every message appears, roughly uniformly: the expected count is 200
   * with a standard deviation of 13.4. */
  for (j = 0; j < G_N_ELEMENTS (pm_test_log_messages); j++)
    {
      g_test_message ("%s: %u", pm_test_log_messages[j], seen[j]);
      g_assert_cmpuint (seen[j], >, 130);
      g_assert_cmpuint (seen[j], <, 270);
    }
}

static void
test_fake_log_frame (void)
{
  const struct
  {
    const char *message;
    const char *frame;
  } cases[] = {
    { "System started", "{\"log\":\"System started\"}" },
    { "Fan is operating within limits", "{\"log\":\"Fan is operating within limits\"}" },
    { "say \"hi\"", "{\"log\":\"say \\\"hi\\\"\"}" },
    { "back\\slash", "{\"log\":\"back\\\\slash\"}" },
    { "line\nbreak\ttab\001", "{\"log\":\"line\\nbreak\\ttab\\u0001\"}" },
    { "", "{\"log\":\"\"}" },
    { "caf\xc3\xa9", "{\"log\":\"caf\xc3\xa9\"}" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *frame = pm_fake_log_frame (cases[i].message);
      g_autoptr(JsonNode) root = NULL;
      JsonObject *object;

      g_assert_cmpstr (frame, ==, cases[i].frame);
      root = parse_json (frame);
      object = json_node_get_object (root);
      g_assert_cmpuint (json_object_get_size (object), ==, 1);
      g_assert_cmpstr (json_object_get_string_member (object, "log"), ==, cases[i].message);
    }

  /* Every real message gives its frame. */
  for (i = 0; i < G_N_ELEMENTS (pm_test_log_messages); i++)
    {
      g_autofree char *frame = pm_fake_log_frame (pm_test_log_messages[i]);
      g_autofree char *expected = g_strdup_printf ("{\"log\":\"%s\"}", pm_test_log_messages[i]);

      g_assert_cmpstr (frame, ==, expected);
    }
}

/* ---- the JSON writer ------------------------------------------------------ */

static void
test_json_append_double (void)
{
  const struct
  {
    double      value;
    guint       decimals;
    const char *text;
  } cases[] = {
    { 12.5, 6, "12.5" },
    { 15.0, 3, "15" },
    { 15.0, 0, "15" },
    { 100.0, 0, "100" },
    { 100.0, 2, "100" },
    { 0.0, 6, "0" },
    { -0.0, 6, "0" },
    { -0.0, 0, "0" },
    { -0.0001, 2, "0" },
    { -12.25, 2, "-12.25" },
    { -12.0, 1, "-12" },
    { 1.23456, 3, "1.235" },
    { 1.23446, 3, "1.234" },
    { 0.999999, 2, "1" },
    { 9.96, 1, "10" },
    { 17.1234567891, 6, "17.123457" },
    { 789.123456789, 9, "789.123456789" },
    { 2999.9996, 3, "3000" },
    { 0.1, 9, "0.1" },
    { 1000000.5, 1, "1000000.5" },
    { 12345.67, 0, "12346" },
    { 5000.0, 2, "5000" },
    { 0.05, 2, "0.05" },
    { 10.1, 1, "10.1" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) out = g_string_new ("x");

      pm_json_append_double (out, cases[i].value, cases[i].decimals);
      g_test_message ("%.10g with %u decimals → %s", cases[i].value, cases[i].decimals,
                      out->str + 1);
      /* Appends, keeping what was there. */
      g_assert_cmpint (out->str[0], ==, 'x');
      g_assert_cmpstr (out->str + 1, ==, cases[i].text);
    }
}

static void
test_json_append_string (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonNode) root = NULL;

  pm_json_append_string (out, "a\"b\\c/d\n\r\t\b\f\001\037\177 \xe2\x82\xac");
  root = parse_json (out->str);
  g_assert_true (JSON_NODE_HOLDS_VALUE (root));
  g_assert_cmpstr (json_node_get_string (root), ==,
                   "a\"b\\c/d\n\r\t\b\f\001\037\177 \xe2\x82\xac");
}

/* ---- hand-written numbers and strings against printf --------------------- */

#define N_RANDOM_NUMBERS 100000
#define N_RANDOM_STRINGS 20000
#define N_GOLDEN_DOCUMENTS 20000

/* What "%.*f" prints in the C locale: what pm_json_append_fixed() must
 * write.  (The buffer holds every finite double with 17 decimals.) */
static char *
printf_fixed (double value,
              guint  decimals)
{
  char format[8];
  char buf[400];

  g_snprintf (format, sizeof format, "%%.%uf", decimals);
  return g_strdup (g_ascii_formatd (buf, sizeof buf, format, value));
}

/* printf_fixed() with the trim rules pm_json_append_double() has always
 * had: no trailing zeros, no trailing point, "0" for "-0". */
static char *
printf_trimmed (double value,
                guint  decimals)
{
  char *buf = printf_fixed (value, decimals);
  char *dot = strchr (buf, '.');

  if (dot != NULL && strchr (buf, 'e') == NULL)
    {
      char *end = buf + strlen (buf) - 1;

      while (end > dot && *end == '0')
        *end-- = '\0';
      if (end == dot)
        *end = '\0';
    }
  if (strcmp (buf, "-0") == 0)
    strcpy (buf, "0");
  return buf;
}

static void
check_number (double value,
              guint  decimals)
{
  g_autofree char *fixed = printf_fixed (value, decimals);
  g_autoptr(GString) out = g_string_new ("x");

  pm_json_append_fixed (out, value, decimals);
  if (strcmp (out->str + 1, fixed) != 0)
    g_test_message ("%a (%.17g) with %u decimals", value, value, decimals);
  g_assert_cmpstr (out->str + 1, ==, fixed);

  if (isfinite (value))
    {
      g_autofree char *trimmed = printf_trimmed (value, decimals);

      g_string_assign (out, "x");
      pm_json_append_double (out, value, decimals);
      if (strcmp (out->str + 1, trimmed) != 0)
        g_test_message ("%a (%.17g) with %u decimals, trimmed", value, value, decimals);
      g_assert_cmpstr (out->str + 1, ==, trimmed);
    }
}

/* The next double from @value away from zero (towards zero with @down);
 * by its bits, as the tests link without libm. */
static double
next_double (double   value,
             gboolean down)
{
  guint64 bits;

  memcpy (&bits, &value, sizeof bits);
  if ((bits & ~(G_GUINT64_CONSTANT (1) << 63)) == 0 && down)
    return value;
  bits = down ? bits - 1 : bits + 1;
  memcpy (&value, &bits, sizeof value);
  return value;
}

static const double tens[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
};

/* @value and its neighbours, both signs, with every number of decimals. */
static void
check_number_around (double value)
{
  const double around[] = {
    value, next_double (value, FALSE), next_double (value, TRUE),
  };
  gsize i;
  guint decimals;

  for (i = 0; i < G_N_ELEMENTS (around); i++)
    for (decimals = 0; decimals <= 17; decimals++)
      {
        check_number (around[i], decimals);
        check_number (-around[i], decimals);
      }
}

static double
random_finite_double (GRand *rand)
{
  for (;;)
    {
      guint64 bits = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);
      double value;

      memcpy (&value, &bits, sizeof value);
      if (isfinite (value))
        return value;
    }
}

static void
test_json_numbers_like_printf (void)
{
  const double edges[] = {
    0.0, 0.5, 1.5, 2.5, 0.125, 0.375, 0.0625, 0.05, 0.15, 0.25, 0.35, 2.675, 1.005,
    9.5, 99.5, 999.9995, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 123456789.123456789,
    1e-300, DBL_MIN, 4.9406564584124654e-324, 1e-17, 5e-18, 4.9999999999999999e-18,
    4503599627370495.5, 4503599627370496.0, 9007199254740992.0, 9007199254740994.0,
    9223372036854775808.0, 18446744073709551616.0, 184467440737.09551615, 18446744073.709551615,
    1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e300, DBL_MAX,
    /* the generator's ranges */
    1, 5, 10, 20, 30, 60, 70, 80, 100, 200, 400, 500, 700, 800, 2000, 2900, 3000,
    3100, 6000, 7000, 11000, 13000,
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261202);
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (edges); i++)
    check_number_around (edges[i]);
  check_number (HUGE_VAL, 3);
  check_number (-HUGE_VAL, 0);
  check_number (NAN, 2);

  /* Exact ties: an odd n / 2^k is half-way at k - 1 decimals. */
  for (k = 1; k <= 18; k++)
    for (i = 0; i < 200; i++)
      {
        double tie = (double) (g_rand_int_range (rand, 0, 1 << 20) * 2 + 1) /
                     (double) (G_GUINT64_CONSTANT (1) << k);

        check_number (tie, k - 1);
        check_number (-tie, k - 1);
        check_number (next_double (tie, FALSE), k - 1);
        check_number (next_double (tie, TRUE), k - 1);
      }

  for (i = 0; i < N_RANDOM_NUMBERS; i++)
    {
      guint decimals = (guint) g_rand_int_range (rand, 0, 18);
      int digits = g_rand_int_range (rand, 1, 18);

      /* any double at all */
      check_number (random_finite_double (rand), decimals);
      /* ordinary magnitudes */
      check_number (g_rand_double_range (rand, -1e6, 1e6), decimals);
      /* a short decimal, close to a tie one place further */
      check_number ((double) g_rand_int_range (rand, -1000000, 1000000) / 5 / tens[digits],
                    (guint) digits);
    }
}

static void
test_json_int_like_printf (void)
{
  const gint64 edges[] = {
    0, 1, -1, 9, 10, -10, 99, 100, 2147483647, G_GINT64_CONSTANT (-2147483648),
    G_GINT64_CONSTANT (4294967296), G_GINT64_CONSTANT (999999999999999999),
    G_GINT64_CONSTANT (1000000000000000000), G_MAXINT64, G_MININT64, G_MININT64 + 1,
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261202);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (edges) + N_RANDOM_NUMBERS; i++)
    {
      gint64 value;
      g_autofree char *expected = NULL;
      g_autoptr(GString) out = g_string_new ("x");

      if (i < G_N_ELEMENTS (edges))
        value = edges[i];
      else
        value = (gint64) (((guint64) g_rand_int (rand) << 32) | g_rand_int (rand)) >>
                g_rand_int_range (rand, 0, 64);
      expected = g_strdup_printf ("%" G_GINT64_FORMAT, value);
      pm_json_append_int (out, value);
      g_assert_cmpstr (out->str + 1, ==, expected);
    }
}

/* How pm_json_append_string() wrote a string before it wrote runs of
 * plain characters at once: one character at a time. */
static void
append_string_by_character (GString    *out,
                            const char *text)
{
  const char *p;

  g_string_append_c (out, '"');
  for (p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20)
            {
              g_string_append_printf (out, "\\u%04x", c);
            }
          else if (c < 0x80)
            {
              g_string_append_c (out, (char) c);
            }
          else if (g_utf8_get_char_validated (p, -1) < (gunichar) -2)
            {
              const char *next = g_utf8_next_char (p);

              g_string_append_len (out, p, next - p);
              p = next - 1;
            }
          else
            {
              g_string_append (out, "\\ufffd");
            }
          break;
        }
    }
  g_string_append_c (out, '"');
}

static void
test_json_string_like_before (void)
{
  static const char *const pieces[] = {
    "a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\001", "\037", "\177",
    "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3", "\xe2\x82", "\xff", "\x80",
    "\xed\xa0\x80", "\xf4\x90\x80\x80", "bitaxe-19001",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261202);
  guint i;

  for (i = 0; i < N_RANDOM_STRINGS; i++)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      g_autoptr(GString) expected = g_string_new ("x");
      g_autoptr(GString) out = g_string_new ("x");
      gint32 n = g_rand_int_range (rand, 0, 12);

      while (n-- > 0)
        {
          if (g_rand_boolean (rand))
            g_string_append (text, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
          else
            g_string_append_c (text, (char) g_rand_int_range (rand, 1, 256));
        }
      append_string_by_character (expected, text->str);
      pm_json_append_string (out, text->str);
      g_assert_cmpstr (out->str, ==, expected->str);
    }
}

/* The documents of a fixed seed, byte for byte as the generator wrote them
 * when it formatted every number with printf: SHA-256 over the first
 * N_GOLDEN_DOCUMENTS of port 19001 at seed 20240601. */
static void
test_seed_golden (void)
{
  const struct
  {
    PmApiVersion version;
    const char  *sha256;
  } cases[] = {
    { PM_API_VERSION_LEGACY, "5674a5d78fe99996eab368047aa7d1b1001b197bc199a7f09a02f6fb309ec7d2" },
    { PM_API_VERSION_NEW, "b8a87640a3180b7133a1688e2da6ec336c51ada494916dcce9e32c75d21bf242" },
  };
  gsize c;

  for (c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(GRand) rand = pm_rand_new_for_port (20240601, 19001);
      g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
      guint i;

      for (i = 0; i < N_GOLDEN_DOCUMENTS; i++)
        {
          g_autofree char *doc = pm_system_info_generate_with_overrides (rand, cases[c].version,
                                                                         "bitaxe-19001", "v2.1.8", i,
                                                                         TEST_NOW_MS + i, NULL);

          g_checksum_update (sum, (const guchar *) doc, -1);
        }
      g_assert_cmpstr (g_checksum_get_string (sum), ==, cases[c].sha256);
    }
}

/* ---- API version names ---------------------------------------------------- */

static void
test_api_version_strings (void)
{
  const struct
  {
    const char  *text;
    gboolean     valid;
    PmApiVersion version;
  } cases[] = {
    { "legacy", TRUE, PM_API_VERSION_LEGACY },
    { "LEGACY", TRUE, PM_API_VERSION_LEGACY },
    { "Legacy", TRUE, PM_API_VERSION_LEGACY },
    { "new", TRUE, PM_API_VERSION_NEW },
    { "NEW", TRUE, PM_API_VERSION_NEW },
    { "nEw", TRUE, PM_API_VERSION_NEW },
    { "other", FALSE, 0 },
    { "", FALSE, 0 },
    { "legacy ", FALSE, 0 },
    { " new", FALSE, 0 },
    { "ne", FALSE, 0 },
    { "newer", FALSE, 0 },
    { "0", FALSE, 0 },
  };
  PmApiVersion version;
  gsize i;

  g_assert_cmpstr (pm_api_version_to_string (PM_API_VERSION_LEGACY), ==, "legacy");
  g_assert_cmpstr (pm_api_version_to_string (PM_API_VERSION_NEW), ==, "new");

  for (version = PM_API_VERSION_LEGACY; version <= PM_API_VERSION_NEW; version++)
    {
      PmApiVersion parsed = version == PM_API_VERSION_LEGACY ? PM_API_VERSION_NEW
                                                             : PM_API_VERSION_LEGACY;

      g_assert_true (pm_api_version_from_string (pm_api_version_to_string (version), &parsed));
      g_assert_cmpint (parsed, ==, version);
    }

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PmApiVersion parsed = 99;

      g_test_message ("“%s”", cases[i].text);
      g_assert_cmpint (pm_api_version_from_string (cases[i].text, &parsed), ==, cases[i].valid);
      if (cases[i].valid)
        g_assert_cmpint (parsed, ==, cases[i].version);
    }
  g_assert_false (pm_api_version_from_string (NULL, &version));

  /* The enum type knows the same names. */
  {
    g_autoptr(GEnumClass) klass = g_type_class_ref (PM_TYPE_API_VERSION);
    GEnumValue *value;

    value = g_enum_get_value (klass, PM_API_VERSION_LEGACY);
    g_assert_nonnull (value);
    g_assert_cmpstr (value->value_nick, ==, "legacy");
    value = g_enum_get_value (klass, PM_API_VERSION_NEW);
    g_assert_nonnull (value);
    g_assert_cmpstr (value->value_nick, ==, "new");
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/generator/shape/legacy", test_shape_legacy);
  g_test_add_func ("/generator/shape/new", test_shape_new);
  g_test_add_func ("/generator/shape/differences", test_shape_differences);
  g_test_add_func ("/generator/shape/empty-overrides", test_shape_empty_overrides);
  g_test_add_func ("/generator/random/legacy", test_values_vary_legacy);
  g_test_add_func ("/generator/random/new", test_values_vary_new);
  g_test_add_func ("/generator/overrides/legacy", test_overrides_legacy);
  g_test_add_func ("/generator/overrides/new", test_overrides_new);
  g_test_add_func ("/generator/overrides/types", test_overrides_types);
  g_test_add_func ("/generator/firmware/table", test_firmware_table);
  g_test_add_func ("/generator/firmware/pick", test_firmware_pick);
  g_test_add_func ("/generator/firmware/distribution", test_firmware_distribution);
  g_test_add_func ("/generator/seed/reproducible", test_seed_reproducible);
  g_test_add_func ("/generator/seed/differs", test_seed_differs);
  g_test_add_func ("/generator/logs/messages", test_fake_log_messages);
  g_test_add_func ("/generator/logs/draw", test_fake_log_draw);
  g_test_add_func ("/generator/logs/frame", test_fake_log_frame);
  g_test_add_func ("/generator/json/append-double", test_json_append_double);
  g_test_add_func ("/generator/json/append-string", test_json_append_string);
  g_test_add_func ("/generator/json/numbers-like-printf", test_json_numbers_like_printf);
  g_test_add_func ("/generator/json/int-like-printf", test_json_int_like_printf);
  g_test_add_func ("/generator/json/string-like-before", test_json_string_like_before);
  g_test_add_func ("/generator/seed/golden", test_seed_golden);
  g_test_add_func ("/generator/api-version/strings", test_api_version_strings);

  return g_test_run ();
}
