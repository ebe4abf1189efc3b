/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-settings"

#include "config.h"

#include <string.h>

#include "pm-board.h"
#include "pm-settings.h"

/*
 * Unit tests of the settings store: the factory defaults, AxeOS v2.15's
 * PATCH (every known key checked before any is written, "Wrong API
 * input" and nothing changed on any type or range error), the pool and
 * theme endpoints, and the NerdQAxe+ PATCH that skips what it cannot use.
 *
 * Values are written as JSON text.  "@N" stands for a JSON string of N
 * 'x' characters, and "@N.suffix" for the same followed by ".suffix".
 */

#define HOSTNAME "bitaxe-1"

/* ---- Snapshots ---------------------------------------------------------- */

static void
add_string (GString    *out,
            const char *key,
            const char *value)
{
  g_autofree char *escaped = NULL;

  if (value == NULL)
    {
      g_string_append_printf (out, "%s=null\n", key);
      return;
    }
  escaped = g_strescape (value, NULL);
  g_string_append_printf (out, "%s=\"%s\"\n", key, escaped);
}

static void
add_double (GString    *out,
            const char *key,
            double      value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buffer, sizeof buffer, "%.17g", value);
  g_string_append_printf (out, "%s=%s\n", key, buffer);
}

static void
add_pool (GString      *out,
          guint         i,
          const PmPool *p)
{
  g_autofree char *prefix = g_strdup_printf ("pools[%u].", i);
  g_autofree char *url = g_strconcat (prefix, "stratumURL", NULL);
  g_autofree char *user = g_strconcat (prefix, "stratumUser", NULL);
  g_autofree char *password = g_strconcat (prefix, "stratumPassword", NULL);
  g_autofree char *protocol = g_strconcat (prefix, "stratumProtocol", NULL);
  g_autofree char *difficulty = g_strconcat (prefix, "stratumSuggestedDifficulty", NULL);
  g_autofree char *cert = g_strconcat (prefix, "stratumCert", NULL);
  g_autofree char *channel = g_strconcat (prefix, "stratumV2ChannelType", NULL);
  g_autofree char *pubkey = g_strconcat (prefix, "stratumV2AuthorityPubkey", NULL);

  add_string (out, url, p->url);
  g_string_append_printf (out, "%sstratumPort=%u\n", prefix, p->port);
  add_string (out, user, p->user);
  add_string (out, password, p->password);
  add_string (out, protocol, p->protocol);
  add_double (out, difficulty, p->suggested_difficulty);
  g_string_append_printf (out, "%sstratumExtranonceSubscribe=%d\n", prefix, p->extranonce_subscribe);
  g_string_append_printf (out, "%sstratumTLS=%u\n", prefix, p->tls);
  add_string (out, cert, p->cert);
  g_string_append_printf (out, "%sstratumDecodeCoinbase=%d\n", prefix, p->decode_coinbase);
  add_string (out, channel, p->v2_channel_type);
  add_string (out, pubkey, p->v2_authority_pubkey);
  g_string_append_printf (out, "%sstratumV2RequireAuth=%d\n", prefix, p->v2_require_auth);
}

/* Pool slot @i of @s, as snapshot() writes it. */
static char *
pool_snapshot (const PmSettings *s,
               guint             i)
{
  GString *out = g_string_new ("\n");

  add_pool (out, i, &s->pools[i]);
  return g_string_free (out, FALSE);
}

/* Every field of @s, one "name=value" line each, named as the JSON keys
 * that write them; the text starts with a newline so that "\nname=" finds
 * any line.  Two equal snapshots mean equal settings.  With @with_pools
 * FALSE, the pool slots are left out. */
static char *
snapshot_full (const PmSettings *s,
               gboolean          with_pools)
{
  GString *out = g_string_new ("\n");

  add_string (out, "hostname", s->hostname);
  add_string (out, "ssid", s->ssid);
  add_string (out, "wifiPass", s->wifi_pass);
  add_double (out, "frequency", s->frequency);
  g_string_append_printf (out, "coreVoltage=%u\n", s->core_voltage);
  g_string_append_printf (out, "overclockEnabled=%d\n", s->overclock_enabled);
  g_string_append_printf (out, "autofanspeed=%d\n", s->autofanspeed);
  g_string_append_printf (out, "manualFanSpeed=%u\n", s->manual_fan_speed);
  g_string_append_printf (out, "minFanSpeed=%u\n", s->min_fan_speed);
  g_string_append_printf (out, "temptarget=%u\n", s->temp_target);
  add_string (out, "display", s->display);
  g_string_append_printf (out, "rotation=%u\n", s->rotation);
  g_string_append_printf (out, "invertscreen=%d\n", s->invert_screen);
  g_string_append_printf (out, "displayOffset=%u\n", s->display_offset);
  g_string_append_printf (out, "displayTimeout=%d\n", s->display_timeout);
  g_string_append_printf (out, "overheat_mode=%d\n", s->overheat_mode);
  g_string_append_printf (out, "useCustomWWW=%d\n", s->use_custom_www);
  g_string_append_printf (out, "statsFrequency=%u\n", s->stats_frequency);
  g_string_append_printf (out, "useFallbackStratum=%d\n", s->use_fallback_stratum);
  g_string_append_printf (out, "primaryPoolIndex=%u\n", s->primary_pool_index);
  g_string_append_printf (out, "secondaryPoolIndex=%u\n", s->secondary_pool_index);
  add_string (out, "colorScheme", s->theme_color_scheme);
  add_string (out, "primaryColor", s->theme_primary_color);
  g_string_append_printf (out, "jobInterval=%u\n", s->job_interval);
  g_string_append_printf (out, "stratumDifficulty=%u\n", s->stratum_difficulty);
  g_string_append_printf (out, "overheat_temp=%u\n", s->overheat_temp);
  g_string_append_printf (out, "flipscreen=%d\n", s->flipscreen);
  g_string_append_printf (out, "autoscreenoff=%d\n", s->autoscreenoff);
  g_string_append_printf (out, "invertfanpolarity=%d\n", s->invertfanpolarity);

  if (with_pools)
    for (guint i = 0; i < PM_SETTINGS_N_POOLS; i++)
      add_pool (out, i, &s->pools[i]);

  return g_string_free (out, FALSE);
}

static char *
snapshot (const PmSettings *s)
{
  return snapshot_full (s, TRUE);
}

/* The value of line @name in @snap. */
static char *
snapshot_get (const char *snap,
              const char *name)
{
  g_autofree char *needle = g_strconcat ("\n", name, "=", NULL);
  const char *start = strstr (snap, needle);
  const char *end;

  g_assert_nonnull (start);
  start += strlen (needle);
  end = strchr (start, '\n');
  g_assert_nonnull (end);
  return g_strndup (start, end - start);
}

/* @snap without line @name. */
static char *
snapshot_without (const char *snap,
                  const char *name)
{
  g_autofree char *needle = g_strconcat ("\n", name, "=", NULL);
  const char *start = strstr (snap, needle);
  const char *end;
  GString *out;

  g_assert_nonnull (start);
  end = strchr (start + 1, '\n');
  g_assert_nonnull (end);
  out = g_string_new_len (snap, start - snap);
  g_string_append (out, end);
  return g_string_free (out, FALSE);
}

/* ---- JSON --------------------------------------------------------------- */

/* @text with "@N[suffix]" spelt out as a JSON string. */
static char *
expand (const char *text)
{
  g_autofree char *fill = NULL;
  char *suffix;
  guint64 n;

  if (text[0] != '@')
    return g_strdup (text);
  n = g_ascii_strtoull (text + 1, &suffix, 10);
  fill = g_strnfill (n, 'x');
  return g_strdup_printf ("\"%s%s\"", fill, suffix);
}

static JsonNode *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

/* {"key": value}, the value expanded. */
static char *
object_of (const char *key,
           const char *value)
{
  g_autofree char *expanded = expand (value);

  return g_strdup_printf ("{\"%s\":%s}", key, expanded);
}

/* ---- Helpers ------------------------------------------------------------ */

static PmSettings *
new_settings (void)
{
  return pm_settings_new (&pm_board_gamma, HOSTNAME);
}

/* PATCH @json in AxeOS style: it must be refused as "Wrong API input"
 * and leave every field as it was. */
static void
assert_refused (PmSettings *s,
                const char *json)
{
  g_autofree char *before = snapshot (s);
  g_autofree char *after = NULL;
  g_autofree char *outcome = NULL;
  g_autofree char *expected = g_strdup_printf ("%s -> refused", json);
  g_autoptr(JsonNode) root = parse (json);
  g_autoptr(GError) error = NULL;
  gboolean changed = TRUE;
  gboolean ok;

  ok = pm_settings_patch (s, PM_SETTINGS_STYLE_AXEOS, root, &changed, &error);
  outcome = g_strdup_printf ("%s -> %s", json, ok ? "accepted" : "refused");
  g_assert_cmpstr (outcome, ==, expected);
  g_assert_error (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==, "Wrong API input");
  g_assert_false (changed);

  after = snapshot (s);
  g_assert_cmpstr (after, ==, before);
}

/* PATCH @json in @style: it must succeed. */
static void
assert_accepted (PmSettings     *s,
                 PmSettingsStyle style,
                 const char     *json)
{
  g_autofree char *outcome = NULL;
  g_autofree char *expected = g_strdup_printf ("%s -> accepted", json);
  g_autoptr(JsonNode) root = parse (json);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = pm_settings_patch (s, style, root, NULL, &error);
  outcome = g_strdup_printf ("%s -> %s", json, ok ? "accepted" : "refused");
  g_assert_cmpstr (outcome, ==, expected);
  g_assert_no_error (error);
}

/* PATCH @json in @style: it must succeed and change nothing at all. */
static void
assert_no_op (PmSettings     *s,
              PmSettingsStyle style,
              const char     *json)
{
  g_autofree char *snap_before = snapshot (s);
  g_autofree char *before = g_strconcat (json, snap_before, NULL);
  g_autofree char *after = NULL;
  g_autofree char *snap = NULL;

  assert_accepted (s, style, json);
  snap = snapshot (s);
  after = g_strconcat (json, snap, NULL);
  g_assert_cmpstr (after, ==, before);
}

/* PATCH {key: value} in @style: it must succeed, line @line must read
 * @stored, and no other line may change. */
static void
assert_stored (PmSettings     *s,
               PmSettingsStyle style,
               const char     *key,
               const char     *value,
               const char     *line,
               const char     *stored)
{
  g_autofree char *json = object_of (key, value);
  g_autofree char *before = snapshot (s);
  g_autofree char *after = NULL;
  g_autofree char *rest_before = NULL;
  g_autofree char *rest_after = NULL;
  g_autofree char *got = NULL;
  g_autofree char *got_tagged = NULL;
  g_autofree char *want = expand (stored);
  g_autofree char *want_tagged = g_strdup_printf ("%s: %s", json, want);

  assert_accepted (s, style, json);
  after = snapshot (s);
  got = snapshot_get (after, line);
  got_tagged = g_strdup_printf ("%s: %s", json, got);
  g_assert_cmpstr (got_tagged, ==, want_tagged);

  rest_before = snapshot_without (before, line);
  rest_after = snapshot_without (after, line);
  g_assert_cmpstr (rest_after, ==, rest_before);
}

/* ---- Defaults ----------------------------------------------------------- */

static void
check_factory_pool (const PmPool *pool,
                    const char   *url,
                    const char   *hostname)
{
  g_autofree char *suffix = g_strconcat (".", hostname, NULL);

  g_assert_cmpstr (pool->url, ==, url);
  g_assert_cmpuint (pool->port, ==, 3333);
  g_assert_true (g_str_has_prefix (pool->user, "bc1q"));
  g_assert_true (g_str_has_suffix (pool->user, suffix));
  g_assert_cmpstr (pool->password, ==, "x");
  g_assert_cmpstr (pool->protocol, ==, "SV1");
  g_assert_cmpfloat (pool->suggested_difficulty, ==, 1000);
  g_assert_cmpuint (pool->tls, <=, 2);
  g_assert_nonnull (pool->v2_channel_type);
}

static void
check_defaults (const PmBoard *board,
                const char    *hostname)
{
  g_autoptr(PmSettings) s = pm_settings_new (board, hostname);

  g_assert_cmpstr (s->hostname, ==, hostname);
  g_assert_nonnull (s->ssid);
  g_assert_cmpuint (strlen (s->ssid), >=, 1);
  g_assert_cmpuint (strlen (s->ssid), <=, 32);
  g_assert_nonnull (s->wifi_pass);
  g_assert_cmpfloat (s->frequency, ==, board->default_frequency);
  g_assert_cmpuint (s->core_voltage, ==, board->default_voltage);
  g_assert_false (s->overclock_enabled);
  g_assert_true (s->autofanspeed);
  g_assert_cmpuint (s->temp_target, ==, 60);
  g_assert_cmpuint (s->min_fan_speed, ==, 25);
  g_assert_cmpuint (s->manual_fan_speed, ==, 100);
  g_assert_cmpint (s->display_timeout, ==, -1);
  g_assert_cmpuint (s->stats_frequency, ==, 0);
  g_assert_cmpstr (s->display, ==, "SSD1306 (128x32)");
  g_assert_cmpuint (s->rotation, ==, 0);
  g_assert_false (s->overheat_mode);

  g_assert_cmpuint (s->primary_pool_index, ==, 0);
  g_assert_cmpuint (s->secondary_pool_index, ==, 1);
  check_factory_pool (&s->pools[0], "public-pool.io", hostname);
  check_factory_pool (&s->pools[1], "solo.ckpool.org", hostname);
  for (guint i = 2; i < PM_SETTINGS_N_POOLS; i++)
    g_assert_null (s->pools[i].url);
  g_assert_true (pm_settings_get_primary_pool (s) == &s->pools[0]);
  g_assert_true (pm_settings_get_secondary_pool (s) == &s->pools[1]);

  g_assert_cmpstr (s->theme_color_scheme, ==, "dark");
  g_assert_nonnull (s->theme_primary_color);
  g_assert_true (s->theme_primary_color[0] == '#');
  g_assert_cmpuint (strlen (s->theme_primary_color), ==, 7);

  g_assert_cmpuint (s->job_interval, ==, 1200);
  g_assert_cmpuint (s->overheat_temp, ==, 70);
  g_assert_cmpuint (s->stratum_difficulty, ==, 1000);
}

static void
test_defaults (void)
{
  check_defaults (&pm_board_gamma, HOSTNAME);
  check_defaults (&pm_board_ultra, "ultra-9");
  check_defaults (&pm_board_nerdqaxe_plus, "nerdqaxe-3");
}

/* ---- The AxeOS PATCH matrix --------------------------------------------- */

typedef struct
{
  const char *json;   /* the value sent */
  const char *stored; /* what its snapshot line then reads; NULL: not one line */
} Good;

typedef struct
{
  const char *key;
  const char *bad[16];  /* wrong types and each side of the range */
  Good        good[6];  /* applied in this order, each a change */
} KeyCase;

#define NOT_NUMBER(text) "\"" text "\"", "true", "false", "null", "[1]", "{}"
#define NOT_FLAG(text) "\"" text "\"", "null", "[1]", "{}"
#define NOT_STRING "5", "true", "null", "[\"a\"]", "{}"

#define FLAG_GOOD                                               \
  {                                                             \
    { "true", "1" }, { "0", "0" }, { "1", "1" }, { "false", "0" } \
  }
#define FLAG_GOOD_FROM_TRUE                                     \
  {                                                             \
    { "false", "0" }, { "1", "1" }, { "0", "0" }, { "true", "1" } \
  }

/* A valid `pools` value, for the requests that mix keys. */
#define POOLS_GOOD "[{\"id\":5,\"stratumURL\":\"mix.example.org\",\"stratumPort\":4444,\"stratumUser\":\"mixer\"}]"

static const KeyCase axeos_cases[] = {
  { "ssid",
    { NOT_STRING, "\"\"", "@33", NULL },
    { { "\"home-net\"", "\"home-net\"" }, { "@1", "@1" }, { "@32", "@32" } } },
  { "wifiPass",
    { NOT_STRING, "@64", NULL },
    { { "@63", "@63" }, { "\"\"", "\"\"" }, { "\"hunter22\"", "\"hunter22\"" } } },
  { "hostname",
    { NOT_STRING, "\"\"", "@33", "\".local\"", "@27.local", NULL },
    { { "\"miner-7.local\"", "\"miner-7\"" }, { "@32", "@32" }, { "\"rig.local.local\"", "\"rig.local\"" }, { "@26.local", "@26" } } },
  { "frequency",
    { NOT_NUMBER ("600"), "0", "0.999", "-1", "65535.5", "65536", NULL },
    { { "612.5", "612.5" }, { "1", "1" }, { "65535", "65535" } } },
  { "coreVoltage",
    { NOT_NUMBER ("1200"), "0", "-5", "65535.01", "65536", NULL },
    { { "1234.7", "1234" }, { "1", "1" }, { "65535", "65535" } } },
  { "overclockEnabled",
    { NOT_FLAG ("1"), "-1", "-0.5", "1.5", "2", NULL },
    FLAG_GOOD },
  { "autofanspeed",
    { NOT_FLAG ("0"), "-1", "1.01", "2", NULL },
    FLAG_GOOD_FROM_TRUE },
  { "manualFanSpeed",
    { NOT_NUMBER ("50"), "-1", "100.5", "101", NULL },
    { { "42", "42" }, { "0", "0" }, { "100", "100" } } },
  { "minFanSpeed",
    { NOT_NUMBER ("10"), "-1", "99.5", "100", NULL },
    { { "0", "0" }, { "99", "99" }, { "40", "40" } } },
  { "temptarget",
    { NOT_NUMBER ("60"), "34", "34.9", "66.1", "67", NULL },
    { { "35", "35" }, { "66", "66" }, { "50", "50" } } },
  { "display",
    { NOT_STRING, "\"\"", "\"SSD1306\"", "\"ssd1306 (128x32)\"", "\"SSD1306 (128x32) \"", "\"OLED\"", NULL },
    { { "\"SH1107 (64x128)\"", "\"SH1107 (64x128)\"" },
      { "\"NONE\"", "\"NONE\"" },
      { "\"SSD1309 (128x64)\"", "\"SSD1309 (128x64)\"" },
      { "\"SH1107 (128x128)\"", "\"SH1107 (128x128)\"" },
      { "\"SSD1306 (128x32)\"", "\"SSD1306 (128x32)\"" } } },
  { "rotation",
    { NOT_NUMBER ("90"), "-90", "1", "45", "90.5", "269", "271", "360", NULL },
    { { "90", "90" }, { "180", "180" }, { "270", "270" }, { "0", "0" } } },
  { "invertscreen",
    { NOT_FLAG ("1"), "-1", "2", NULL },
    FLAG_GOOD },
  { "displayOffset",
    { NOT_NUMBER ("1"), "-1", "255.5", "256", NULL },
    { { "255", "255" }, { "32", "32" }, { "0", "0" } } },
  { "displayTimeout",
    { NOT_NUMBER ("5"), "-2", "-1.5", "65535.5", "65536", NULL },
    { { "65535", "65535" }, { "0", "0" }, { "-1", "-1" }, { "30", "30" } } },
  /* Starts each good value with the latch set; see test_axeos_good(). */
  { "overheat_mode",
    { NOT_FLAG ("0"), "true", "1", "0.5", "-1", NULL },
    { { "false", "0" }, { "0", "0" } } },
  { "useCustomWWW",
    { NOT_FLAG ("1"), "-1", "2", NULL },
    FLAG_GOOD },
  { "statsFrequency",
    { NOT_NUMBER ("1"), "-1", "65535.5", "65536", NULL },
    { { "120", "120" }, { "65535", "65535" }, { "0", "0" } } },
  { "useFallbackStratum",
    { NOT_FLAG ("1"), "-1", "2", NULL },
    FLAG_GOOD },
  { "primaryPoolIndex",
    { NOT_NUMBER ("1"), "-1", "7.5", "8", NULL },
    { { "7", "7" }, { "3", "3" }, { "0", "0" } } },
  { "secondaryPoolIndex",
    { NOT_NUMBER ("1"), "-1", "7.5", "8", NULL },
    { { "7", "7" }, { "0", "0" }, { "1", "1" } } },
  { "pools",
    { "\"x\"", "5", "true", "null", "{}", "[5]", "[null]", "[\"a\"]", "[[]]", "[{}]", NULL },
    { { POOLS_GOOD, NULL } } },
};

/* Each bad value alone. */
static void
test_axeos_bad (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (axeos_cases); i++)
    {
      const KeyCase *c = &axeos_cases[i];

      for (gsize j = 0; c->bad[j] != NULL; j++)
        {
          g_autoptr(PmSettings) s = new_settings ();
          g_autofree char *json = object_of (c->key, c->bad[j]);

          assert_refused (s, json);
        }
    }
}

/* Each good value alone: stored, and nothing else changed. */
static void
test_axeos_good (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (axeos_cases); i++)
    {
      const KeyCase *c = &axeos_cases[i];
      g_autoptr(PmSettings) s = new_settings ();

      for (gsize j = 0; c->good[j].json != NULL; j++)
        {
          if (c->good[j].stored == NULL)
            continue;
          /* overheat_mode can only clear the latch: set it first. */
          if (g_str_equal (c->key, "overheat_mode"))
            s->overheat_mode = TRUE;
          assert_stored (s, PM_SETTINGS_STYLE_AXEOS, c->key, c->good[j].json,
                         c->key, c->good[j].stored);
        }
    }
}

/* One request with the first good value of every key but @except, then
 * @bad_value for @except first or last. */
static char *
mixed_request (const char *except,
               const char *bad_value,
               gboolean    bad_first)
{
  GString *out = g_string_new ("{");
  g_autofree char *bad = NULL;

  if (except != NULL)
    {
      g_autofree char *expanded = expand (bad_value);

      bad = g_strdup_printf ("\"%s\":%s", except, expanded);
    }
  if (bad != NULL && bad_first)
    g_string_append_printf (out, "%s,", bad);

  for (gsize i = 0; i < G_N_ELEMENTS (axeos_cases); i++)
    {
      const KeyCase *c = &axeos_cases[i];
      g_autofree char *expanded = NULL;

      if (g_strcmp0 (c->key, except) == 0)
        continue;
      expanded = expand (c->good[0].json);
      g_string_append_printf (out, "\"%s\":%s,", c->key, expanded);
    }

  if (bad != NULL && !bad_first)
    g_string_append_printf (out, "%s,", bad);
  g_string_truncate (out, out->len - 1);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* Every key's first good value at once is accepted, and each stored:
 * what the mixed requests below add to it is the only thing wrong. */
static void
test_axeos_all_good (void)
{
  g_autoptr(PmSettings) s = new_settings ();
  g_autofree char *json = mixed_request (NULL, NULL, FALSE);
  g_autofree char *snap = NULL;
  gboolean changed = FALSE;
  g_autoptr(JsonNode) root = parse (json);
  g_autoptr(GError) error = NULL;

  s->overheat_mode = TRUE;
  g_assert_true (pm_settings_patch (s, PM_SETTINGS_STYLE_AXEOS, root, &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);

  snap = snapshot (s);
  for (gsize i = 0; i < G_N_ELEMENTS (axeos_cases); i++)
    {
      const KeyCase *c = &axeos_cases[i];
      g_autofree char *got = NULL;
      g_autofree char *want = NULL;

      if (c->good[0].stored == NULL)
        continue;
      got = snapshot_get (snap, c->key);
      want = expand (c->good[0].stored);
      g_assert_cmpstr (got, ==, want);
    }
  g_assert_cmpstr (s->pools[5].url, ==, "mix.example.org");
}

/* One bad value among good ones for every other key, first or last in
 * the request: nothing is written. */
static void
test_axeos_mixed (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (axeos_cases); i++)
    {
      const KeyCase *c = &axeos_cases[i];

      for (gsize j = 0; c->bad[j] != NULL; j++)
        {
          g_autoptr(PmSettings) s = new_settings ();
          g_autofree char *first = mixed_request (c->key, c->bad[j], TRUE);
          g_autofree char *last = mixed_request (c->key, c->bad[j], FALSE);

          s->overheat_mode = TRUE;
          assert_refused (s, first);
          assert_refused (s, last);
        }
    }
}

/* The keys AxeOS v2.15 no longer reads, unknown keys and read-only
 * fields: ignored whatever their value, right type or wrong. */
static void
test_axeos_ignored (void)
{
  g_autoptr(PmSettings) s = new_settings ();

  assert_no_op (s, PM_SETTINGS_STYLE_AXEOS,
                "{\"stratumURL\":\"evil.example.org\",\"stratumPort\":4000,"
                "\"stratumUser\":\"someone\",\"stratumPassword\":\"pw\","
                "\"stratumSuggestedDifficulty\":5,\"stratumTLS\":1,"
                "\"stratumExtranonceSubscribe\":1,\"stratumProtocol\":\"SV2\","
                "\"fallbackStratumURL\":\"evil2.example.org\",\"fallbackStratumPort\":4001,"
                "\"fallbackStratumUser\":\"other\",\"fallbackStratumPassword\":\"pw\","
                "\"fanspeed\":33,\"flipscreen\":1,\"invertfanpolarity\":0,"
                "\"wifiPassword\":\"secret99\",\"autoscreenoff\":1,\"overheat_temp\":80,"
                "\"autoFanspeed\":0,\"jobInterval\":900,\"stratumDifficulty\":2048,"
                "\"power\":17.5,\"hashRate\":1000.5,\"version\":\"v9\",\"nonsense\":{\"a\":[1]}}");
  assert_no_op (s, PM_SETTINGS_STYLE_AXEOS,
                "{\"stratumURL\":5,\"stratumPort\":\"x\",\"stratumUser\":null,"
                "\"stratumPassword\":[],\"fallbackStratumURL\":true,\"fallbackStratumPort\":-1,"
                "\"fanspeed\":\"fast\",\"flipscreen\":\"yes\",\"invertfanpolarity\":{},"
                "\"wifiPassword\":5,\"autoscreenoff\":\"x\",\"overheat_temp\":\"hot\","
                "\"autoFanspeed\":\"on\",\"power\":\"x\",\"hashRate\":null,\"\":1}");
}

/* A body that is not an object matches no key: nothing changes, no
 * error, in either style. */
static void
test_not_an_object (void)
{
  static const char *const roots[] = {
    "[{\"hostname\":\"other\",\"frequency\":0}]", "[]", "5", "\"hostname\"", "null", "true",
  };
  const PmSettingsStyle styles[] = { PM_SETTINGS_STYLE_AXEOS, PM_SETTINGS_STYLE_NERDQAXE };

  for (gsize k = 0; k < G_N_ELEMENTS (styles); k++)
    {
      g_autoptr(PmSettings) s = new_settings ();
      g_autofree char *before = snapshot (s);
      g_autofree char *after = NULL;
      g_autoptr(GError) error = NULL;
      gboolean changed = TRUE;

      for (gsize i = 0; i < G_N_ELEMENTS (roots); i++)
        assert_no_op (s, styles[k], roots[i]);

      g_assert_true (pm_settings_patch (s, styles[k], NULL, &changed, &error));
      g_assert_no_error (error);
      g_assert_false (changed);
      after = snapshot (s);
      g_assert_cmpstr (after, ==, before);
    }
}

static gboolean
patch_hostname (PmSettings     *s,
                PmSettingsStyle style,
                const char     *hostname)
{
  g_autofree char *json = g_strdup_printf ("{\"hostname\":\"%s\"}", hostname);
  g_autoptr(JsonNode) root = parse (json);
  g_autoptr(GError) error = NULL;
  gboolean changed = TRUE;

  g_assert_true (pm_settings_patch (s, style, root, &changed, &error));
  g_assert_no_error (error);
  return changed;
}

/* hostname_changed is TRUE only when the stored name really changes,
 * ".local" stripped first. */
static void
test_hostname (void)
{
  const PmSettingsStyle styles[] = { PM_SETTINGS_STYLE_AXEOS, PM_SETTINGS_STYLE_NERDQAXE };

  for (gsize k = 0; k < G_N_ELEMENTS (styles); k++)
    {
      g_autoptr(PmSettings) s = new_settings ();
      g_autoptr(JsonNode) other = parse ("{\"ssid\":\"elsewhere\"}");
      gboolean changed = TRUE;

      g_assert_false (patch_hostname (s, styles[k], HOSTNAME));
      g_assert_cmpstr (s->hostname, ==, HOSTNAME);
      g_assert_false (patch_hostname (s, styles[k], HOSTNAME ".local"));
      g_assert_cmpstr (s->hostname, ==, HOSTNAME);

      g_assert_true (patch_hostname (s, styles[k], "miner-2.local"));
      g_assert_cmpstr (s->hostname, ==, "miner-2");
      g_assert_false (patch_hostname (s, styles[k], "miner-2"));
      g_assert_true (patch_hostname (s, styles[k], "Miner-2"));
      g_assert_cmpstr (s->hostname, ==, "Miner-2");

      /* A request without a hostname changes none. */
      g_assert_true (pm_settings_patch (s, styles[k], other, &changed, NULL));
      g_assert_false (changed);
      g_assert_cmpstr (s->hostname, ==, "Miner-2");
    }
}

/* ---- Pools -------------------------------------------------------------- */

typedef struct
{
  const char *field;
  gboolean    required;
  const char *bad[16];
  Good        good[5];
} PoolCase;

static const PoolCase pool_cases[] = {
  { "stratumURL", TRUE,
    { NOT_STRING, "\"\"", "@256", NULL },
    { { "@255", "@255" }, { "\"p\"", "\"p\"" } } },
  { "stratumPort", TRUE,
    { NOT_NUMBER ("4334"), "0", "0.5", "-1", "65535.5", "65536", NULL },
    { { "1", "1" }, { "65535", "65535" }, { "3333.9", "3333" } } },
  { "stratumUser", TRUE,
    { NOT_STRING, "\"\"", "@256", NULL },
    { { "@255", "@255" }, { "\"u\"", "\"u\"" } } },
  { "stratumPassword", FALSE,
    { NOT_STRING, "@256", NULL },
    { { "\"\"", "\"\"" }, { "@255", "@255" } } },
  { "stratumProtocol", FALSE,
    { NOT_STRING, "\"\"", "\"SV3\"", "\"sv2\"", "\"SV1 \"", NULL },
    { { "\"SV2\"", "\"SV2\"" }, { "\"SV1\"", "\"SV1\"" } } },
  { "stratumSuggestedDifficulty", FALSE,
    { NOT_NUMBER ("1000"), "-1", "-0.5", "1.0000000001e18", "2e18", NULL },
    { { "0", "0" }, { "1e18", "1e+18" }, { "512.5", "512.5" } } },
  { "stratumExtranonceSubscribe", FALSE,
    { NOT_FLAG ("1"), "-1", "2", NULL },
    FLAG_GOOD },
  { "stratumTLS", FALSE,
    { NOT_NUMBER ("1"), "-1", "2.5", "3", NULL },
    { { "2", "2" }, { "1", "1" }, { "0", "0" } } },
  { "stratumCert", FALSE,
    { NOT_STRING, "@3001", NULL },
    { { "@3000", "@3000" }, { "\"\"", "\"\"" } } },
  { "stratumDecodeCoinbase", FALSE,
    { NOT_FLAG ("1"), "-1", "2", NULL },
    FLAG_GOOD },
  { "stratumV2ChannelType", FALSE,
    { NOT_STRING, "\"\"", "\"Standard\"", "\"both\"", NULL },
    { { "\"extended\"", "\"extended\"" }, { "\"standard\"", "\"standard\"" } } },
  { "stratumV2AuthorityPubkey", FALSE,
    { NOT_STRING, "@129", NULL },
    { { "@128", "@128" }, { "\"\"", "\"\"" } } },
  { "stratumV2RequireAuth", FALSE,
    { NOT_FLAG ("1"), "-1", "2", NULL },
    FLAG_GOOD },
};

#define POOL_SLOT 4

/* A valid pool object, with @field set to @value (expanded), or left out
 * when @value is NULL; with "id" first when @id is not NULL. */
static char *
pool_object (const char *id,
             const char *field,
             const char *value)
{
  static const char *const base[][2] = {
    { "stratumURL", "\"pool.example.org\"" },
    { "stratumPort", "4334" },
    { "stratumUser", "\"worker.one\"" },
    { "stratumPassword", "\"secret\"" },
  };
  GString *out = g_string_new ("{");
  gboolean done = FALSE;

  if (id != NULL)
    g_string_append_printf (out, "\"id\":%s,", id);
  for (gsize i = 0; i < G_N_ELEMENTS (base); i++)
    {
      if (g_strcmp0 (base[i][0], field) == 0)
        {
          done = TRUE;
          if (value == NULL)
            continue;
          {
            g_autofree char *expanded = expand (value);

            g_string_append_printf (out, "\"%s\":%s,", field, expanded);
          }
          continue;
        }
      g_string_append_printf (out, "\"%s\":%s,", base[i][0], base[i][1]);
    }
  if (!done && field != NULL && value != NULL)
    {
      g_autofree char *expanded = expand (value);

      g_string_append_printf (out, "\"%s\":%s,", field, expanded);
    }
  g_string_truncate (out, out->len - 1);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

static char *
pools_request (const char *id,
               const char *field,
               const char *value)
{
  g_autofree char *element = pool_object (id, field, value);

  return g_strdup_printf ("{\"pools\":[%s]}", element);
}

/* PUT @json to slot @index: it must be refused with @code and @message,
 * and change nothing. */
static void
assert_put_refused (PmSettings *s,
                    guint       index,
                    const char *json,
                    int         code,
                    const char *message)
{
  g_autofree char *before = snapshot (s);
  g_autofree char *after = NULL;
  g_autoptr(JsonNode) root = json != NULL ? parse (json) : NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *outcome = NULL;
  const char *label = json != NULL ? json : "(no body)";
  g_autofree char *expected = g_strdup_printf ("%u %s -> refused", index, label);
  gboolean ok;

  ok = pm_settings_put_pool (s, index, root, &error);
  outcome = g_strdup_printf ("%u %s -> %s", index, label, ok ? "accepted" : "refused");
  g_assert_cmpstr (outcome, ==, expected);
  g_assert_error (error, PM_SETTINGS_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
  after = snapshot (s);
  g_assert_cmpstr (after, ==, before);
}

static void
put_ok (PmSettings *s,
        guint       index,
        const char *json)
{
  g_autoptr(JsonNode) root = parse (json);
  g_autoptr(GError) error = NULL;

  g_assert_true (pm_settings_put_pool (s, index, root, &error));
  g_assert_no_error (error);
}

/* Every field of a `pools` element, by PATCH and by PUT: wrong types,
 * each side of the range and missing required fields refused; the edges
 * accepted and stored in the slot the id names. */
static void
test_pool_fields (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (pool_cases); i++)
    {
      const PoolCase *c = &pool_cases[i];
      g_autofree char *line = g_strdup_printf ("pools[%u].%s", POOL_SLOT, c->field);
      g_autoptr(PmSettings) by_patch = new_settings ();
      g_autoptr(PmSettings) by_put = new_settings ();

      for (gsize j = 0; c->bad[j] != NULL; j++)
        {
          g_autoptr(PmSettings) s = new_settings ();
          g_autofree char *patch = pools_request (G_STRINGIFY (POOL_SLOT), c->field, c->bad[j]);
          g_autofree char *put = pool_object (NULL, c->field, c->bad[j]);

          assert_refused (s, patch);
          assert_put_refused (s, POOL_SLOT, put, PM_SETTINGS_ERROR_BAD_POOL,
                              "Invalid pool configuration payload");
        }
      if (c->required)
        {
          g_autoptr(PmSettings) s = new_settings ();
          g_autofree char *patch = pools_request (G_STRINGIFY (POOL_SLOT), c->field, NULL);
          g_autofree char *put = pool_object (NULL, c->field, NULL);

          assert_refused (s, patch);
          assert_put_refused (s, POOL_SLOT, put, PM_SETTINGS_ERROR_BAD_POOL,
                              "Invalid pool configuration payload");
        }

      for (gsize j = 0; c->good[j].json != NULL; j++)
        {
          g_autofree char *patch = pools_request (G_STRINGIFY (POOL_SLOT), c->field, c->good[j].json);
          g_autofree char *put = pool_object (NULL, c->field, c->good[j].json);
          g_autofree char *want = expand (c->good[j].stored);
          g_autofree char *snap = NULL;
          g_autofree char *got = NULL;

          assert_accepted (by_patch, PM_SETTINGS_STYLE_AXEOS, patch);
          snap = snapshot (by_patch);
          got = snapshot_get (snap, line);
          g_assert_cmpstr (got, ==, want);
          g_clear_pointer (&snap, g_free);
          g_clear_pointer (&got, g_free);

          put_ok (by_put, POOL_SLOT, put);
          snap = snapshot (by_put);
          got = snapshot_get (snap, line);
          g_assert_cmpstr (got, ==, want);
        }
    }
}

/* `id` chooses the slot in PATCH: a number 0-7, required. */
static void
test_pool_id (void)
{
  static const char *const bad[] = { NOT_NUMBER ("4"), "-1", "7.5", "8", NULL };
  g_autoptr(PmSettings) s = new_settings ();
  g_autofree char *missing = pools_request (NULL, NULL, NULL);

  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autofree char *json = pools_request (bad[i], NULL, NULL);

      assert_refused (s, json);
    }
  assert_refused (s, missing);

  for (guint id = 0; id < PM_SETTINGS_N_POOLS; id++)
    {
      g_autofree char *id_text = g_strdup_printf ("%u", id);
      g_autofree char *json = pools_request (id_text, NULL, NULL);
      g_autoptr(PmSettings) fresh = new_settings ();
      g_autoptr(PmSettings) untouched = new_settings ();
      g_autofree char *before = snapshot_full (fresh, FALSE);
      g_autofree char *after = NULL;

      assert_accepted (fresh, PM_SETTINGS_STYLE_AXEOS, json);
      g_assert_cmpstr (fresh->pools[id].url, ==, "pool.example.org");
      g_assert_cmpuint (fresh->pools[id].port, ==, 4334);
      g_assert_cmpstr (fresh->pools[id].user, ==, "worker.one");

      /* Nothing else was touched. */
      after = snapshot_full (fresh, FALSE);
      g_assert_cmpstr (after, ==, before);
      for (guint other = 0; other < PM_SETTINGS_N_POOLS; other++)
        {
          g_autofree char *slot_before = pool_snapshot (untouched, other);
          g_autofree char *slot_after = pool_snapshot (fresh, other);

          if (other != id)
            g_assert_cmpstr (slot_after, ==, slot_before);
        }
    }
}

/* One bad element after a good one: neither slot changes. */
static void
test_pool_bad_element_after_good (void)
{
  g_autoptr(PmSettings) s = new_settings ();

  assert_refused (s,
                  "{\"pools\":["
                  "{\"id\":3,\"stratumURL\":\"a.example.org\",\"stratumPort\":1,\"stratumUser\":\"a\"},"
                  "{\"id\":0,\"stratumURL\":\"b.example.org\",\"stratumPort\":0,\"stratumUser\":\"b\"}]}");
  assert_refused (s,
                  "{\"ssid\":\"fine\",\"pools\":["
                  "{\"id\":0,\"stratumURL\":\"b.example.org\",\"stratumPort\":3,\"stratumUser\":\"b\"},"
                  "5]}");
}

/* "*****" keeps the stored password, in PATCH and PUT; a left-out
 * password, or any other field left out, keeps the stored one too. */
static void
test_pool_password (void)
{
  g_autoptr(PmSettings) s = new_settings ();

  assert_accepted (s, PM_SETTINGS_STYLE_AXEOS,
                   "{\"pools\":[{\"id\":0,\"stratumURL\":\"a.example.org\",\"stratumPort\":3000,"
                   "\"stratumUser\":\"me\",\"stratumPassword\":\"hunter2\",\"stratumTLS\":2}]}");
  g_assert_cmpstr (s->pools[0].password, ==, "hunter2");

  assert_accepted (s, PM_SETTINGS_STYLE_AXEOS,
                   "{\"pools\":[{\"id\":0,\"stratumURL\":\"b.example.org\",\"stratumPort\":3001,"
                   "\"stratumUser\":\"me\",\"stratumPassword\":\"*****\"}]}");
  g_assert_cmpstr (s->pools[0].url, ==, "b.example.org");
  g_assert_cmpuint (s->pools[0].port, ==, 3001);
  g_assert_cmpstr (s->pools[0].password, ==, "hunter2");
  g_assert_cmpuint (s->pools[0].tls, ==, 2);

  put_ok (s, 0, "{\"stratumURL\":\"c.example.org\",\"stratumPort\":3002,"
                "\"stratumUser\":\"me\",\"stratumPassword\":\"*****\"}");
  g_assert_cmpstr (s->pools[0].url, ==, "c.example.org");
  g_assert_cmpstr (s->pools[0].password, ==, "hunter2");

  put_ok (s, 0, "{\"stratumURL\":\"c.example.org\",\"stratumPort\":3002,\"stratumUser\":\"me\"}");
  g_assert_cmpstr (s->pools[0].password, ==, "hunter2");

  /* Only exactly five stars are the mask. */
  put_ok (s, 0, "{\"stratumURL\":\"c.example.org\",\"stratumPort\":3002,"
                "\"stratumUser\":\"me\",\"stratumPassword\":\"****\"}");
  g_assert_cmpstr (s->pools[0].password, ==, "****");
  put_ok (s, 0, "{\"stratumURL\":\"c.example.org\",\"stratumPort\":3002,"
                "\"stratumUser\":\"me\",\"stratumPassword\":\"******\"}");
  g_assert_cmpstr (s->pools[0].password, ==, "******");

  /* An empty slot has no password to keep: the mask is not stored. */
  put_ok (s, 6, "{\"stratumURL\":\"d.example.org\",\"stratumPort\":3003,"
                "\"stratumUser\":\"me\",\"stratumPassword\":\"*****\"}");
  g_assert_cmpstr (s->pools[6].url, ==, "d.example.org");
  g_assert_nonnull (s->pools[6].password);
  g_assert_cmpstr (s->pools[6].password, !=, "*****");
  g_assert_cmpstr (s->pools[6].protocol, ==, "SV1");
}

static void
test_put_pool_errors (void)
{
  g_autoptr(PmSettings) s = new_settings ();
  g_autofree char *good = pool_object (NULL, NULL, NULL);

  assert_put_refused (s, PM_SETTINGS_N_POOLS, good, PM_SETTINGS_ERROR_BAD_POOL_INDEX,
                      "Invalid pool index");
  assert_put_refused (s, G_MAXUINT, good, PM_SETTINGS_ERROR_BAD_POOL_INDEX,
                      "Invalid pool index");
  assert_put_refused (s, 2, NULL, PM_SETTINGS_ERROR_INVALID_JSON, "Invalid JSON");
  assert_put_refused (s, 2, "[]", PM_SETTINGS_ERROR_BAD_POOL,
                      "Invalid pool configuration payload");
  assert_put_refused (s, 2, "5", PM_SETTINGS_ERROR_BAD_POOL,
                      "Invalid pool configuration payload");
  assert_put_refused (s, 2, "{}", PM_SETTINGS_ERROR_BAD_POOL,
                      "Invalid pool configuration payload");

  /* The slot is the URL's; an id in the body does not move it. */
  put_ok (s, 2, "{\"id\":5,\"stratumURL\":\"e.example.org\",\"stratumPort\":3004,\"stratumUser\":\"me\"}");
  g_assert_cmpstr (s->pools[2].url, ==, "e.example.org");
  g_assert_null (s->pools[5].url);
  put_ok (s, 7, good);
  g_assert_cmpstr (s->pools[7].url, ==, "pool.example.org");
  g_assert_cmpstr (s->pools[7].password, ==, "secret");
}

static void
assert_delete_refused (PmSettings *s,
                       guint       index,
                       int         code,
                       const char *message)
{
  g_autofree char *before = snapshot (s);
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (pm_settings_delete_pool (s, index, &error));
  g_assert_error (error, PM_SETTINGS_ERROR, code);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
  else
    g_assert_cmpstr (error->message, !=, "");
  after = snapshot (s);
  g_assert_cmpstr (after, ==, before);
}

static void
test_delete_pool (void)
{
  g_autoptr(PmSettings) s = new_settings ();
  g_autoptr(PmSettings) fresh = new_settings ();
  g_autofree char *fresh_snap = snapshot (fresh);
  g_autofree char *snap = NULL;
  g_autoptr(GError) error = NULL;

  assert_delete_refused (s, 0, PM_SETTINGS_ERROR_POOL_IN_USE, NULL);
  assert_delete_refused (s, 1, PM_SETTINGS_ERROR_POOL_IN_USE, NULL);
  assert_delete_refused (s, PM_SETTINGS_N_POOLS, PM_SETTINGS_ERROR_BAD_POOL_INDEX,
                         "Invalid pool index");

  /* A slot filled then cleared is as it was. */
  put_ok (s, 3, "{\"stratumURL\":\"f.example.org\",\"stratumPort\":3005,\"stratumUser\":\"me\","
                "\"stratumCert\":\"PEM\",\"stratumTLS\":2,\"stratumV2RequireAuth\":true}");
  g_assert_nonnull (s->pools[3].url);
  g_assert_true (pm_settings_delete_pool (s, 3, &error));
  g_assert_no_error (error);
  snap = snapshot (s);
  g_assert_cmpstr (snap, ==, fresh_snap);

  /* Clearing an empty slot is fine. */
  g_assert_true (pm_settings_delete_pool (s, 6, &error));
  g_assert_no_error (error);

  /* What is refused follows the indexes. */
  assert_accepted (s, PM_SETTINGS_STYLE_AXEOS,
                   "{\"primaryPoolIndex\":3,\"secondaryPoolIndex\":4,\"pools\":["
                   "{\"id\":3,\"stratumURL\":\"g.example.org\",\"stratumPort\":1,\"stratumUser\":\"a\"},"
                   "{\"id\":4,\"stratumURL\":\"h.example.org\",\"stratumPort\":2,\"stratumUser\":\"b\"}]}");
  g_assert_true (pm_settings_get_primary_pool (s) == &s->pools[3]);
  g_assert_true (pm_settings_get_secondary_pool (s) == &s->pools[4]);
  assert_delete_refused (s, 3, PM_SETTINGS_ERROR_POOL_IN_USE, NULL);
  assert_delete_refused (s, 4, PM_SETTINGS_ERROR_POOL_IN_USE, NULL);
  g_assert_true (pm_settings_delete_pool (s, 0, &error));
  g_assert_no_error (error);
  g_assert_true (pm_settings_delete_pool (s, 1, &error));
  g_assert_no_error (error);
  g_assert_null (s->pools[0].url);
  g_assert_null (s->pools[1].url);
}

/* ---- Theme -------------------------------------------------------------- */

static void
set_theme_ok (PmSettings *s,
              const char *json)
{
  g_autoptr(JsonNode) root = parse (json);
  g_autoptr(GError) error = NULL;
  g_autofree char *before = snapshot (s);
  g_autofree char *after = NULL;
  g_autofree char *rest_before = NULL;
  g_autofree char *rest_after = NULL;
  g_autofree char *tmp = NULL;

  g_assert_true (pm_settings_set_theme (s, root, &error));
  g_assert_no_error (error);

  /* Only the theme may change. */
  after = snapshot (s);
  tmp = snapshot_without (before, "colorScheme");
  rest_before = snapshot_without (tmp, "primaryColor");
  g_free (tmp);
  tmp = snapshot_without (after, "colorScheme");
  rest_after = snapshot_without (tmp, "primaryColor");
  g_assert_cmpstr (rest_after, ==, rest_before);
}

static void
test_theme (void)
{
  static const char *const not_objects[] = { "[]", "5", "\"dark\"", "null" };
  g_autoptr(PmSettings) s = new_settings ();
  g_autofree char *fill = g_strnfill (PM_SETTINGS_THEME_MAX_BYTES, 'c');
  g_autofree char *longest = g_strdup_printf ("{\"primaryColor\":\"%s\"}", fill);
  g_autofree char *too_long = g_strdup_printf ("{\"colorScheme\":\"%sc\"}", fill);

  set_theme_ok (s, "{\"colorScheme\":\"light\",\"primaryColor\":\"#00FF00\"}");
  g_assert_cmpstr (s->theme_color_scheme, ==, "light");
  g_assert_cmpstr (s->theme_primary_color, ==, "#00FF00");

  set_theme_ok (s, "{\"colorScheme\":5,\"primaryColor\":\"#123456\"}");
  g_assert_cmpstr (s->theme_color_scheme, ==, "light");
  g_assert_cmpstr (s->theme_primary_color, ==, "#123456");

  set_theme_ok (s, "{\"colorScheme\":\"dark\",\"primaryColor\":null}");
  g_assert_cmpstr (s->theme_color_scheme, ==, "dark");
  g_assert_cmpstr (s->theme_primary_color, ==, "#123456");

  set_theme_ok (s, "{\"colorScheme\":[\"light\"],\"primaryColor\":true,\"accent\":\"x\"}");
  g_assert_cmpstr (s->theme_color_scheme, ==, "dark");
  g_assert_cmpstr (s->theme_primary_color, ==, "#123456");

  set_theme_ok (s, "{\"primaryColor\":\"#ABCDEF\"}");
  g_assert_cmpstr (s->theme_color_scheme, ==, "dark");
  g_assert_cmpstr (s->theme_primary_color, ==, "#ABCDEF");

  set_theme_ok (s, longest);
  g_assert_cmpstr (s->theme_primary_color, ==, fill);
  set_theme_ok (s, too_long);
  g_assert_cmpstr (s->theme_color_scheme, ==, "dark");

  for (gsize i = 0; i <= G_N_ELEMENTS (not_objects); i++)
    {
      g_autoptr(JsonNode) root = i < G_N_ELEMENTS (not_objects) ? parse (not_objects[i]) : NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *before = snapshot (s);
      g_autofree char *after = NULL;

      g_assert_false (pm_settings_set_theme (s, root, &error));
      g_assert_error (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_INVALID_JSON);
      g_assert_cmpstr (error->message, ==, "Invalid JSON");
      after = snapshot (s);
      g_assert_cmpstr (after, ==, before);
    }
}

/* ---- NerdQAxe+ ---------------------------------------------------------- */

typedef struct
{
  const char *key;
  const char *line;        /* the snapshot line it writes */
  const char *skipped[12]; /* values left alone */
  Good        taken[6];    /* values stored, clamped ones included */
} NerdCase;

static const NerdCase nerd_cases[] = {
  { "hostname", "hostname",
    { NOT_STRING, "\"\"", "@33", "\".local\"", NULL },
    { { "\"nerd-2.local\"", "\"nerd-2\"" }, { "@32", "@32" } } },
  { "ssid", "ssid",
    { NOT_STRING, "\"\"", "@33", NULL },
    { { "\"nerd-net\"", "\"nerd-net\"" } } },
  { "wifiPass", "wifiPass",
    { NOT_STRING, "@64", NULL },
    { { "\"secret-pass\"", "\"secret-pass\"" } } },
  { "frequency", "frequency",
    { "\"600\"", "true", "null", "[600]", NULL },
    { { "600.5", "600.5" }, { "0", "1" }, { "70000", "65535" } } },
  { "coreVoltage", "coreVoltage",
    { "\"1200\"", "true", "null", NULL },
    { { "1200", "1200" }, { "100000", "65535" }, { "0", "1" } } },
  { "jobInterval", "jobInterval",
    { "\"1500\"", "true", "null", NULL },
    { { "1500", "1500" }, { "5", "100" }, { "1e6", "60000" } } },
  { "stratumDifficulty", "stratumDifficulty",
    { "\"2048\"", "false", "null", NULL },
    { { "2048", "2048" }, { "-5", "0" }, { "1e12", "4294967295" } } },
  { "flipscreen", "flipscreen",
    { "\"1\"", "null", "[1]", NULL },
    { { "true", "1" }, { "0", "0" }, { "1", "1" } } },
  { "overheat_temp", "overheat_temp",
    { "\"80\"", "true", "null", NULL },
    { { "80", "80" }, { "500", "100" }, { "-3", "0" } } },
  { "invertscreen", "invertscreen",
    { "\"1\"", "null", NULL },
    { { "true", "1" } } },
  { "invertfanpolarity", "invertfanpolarity",
    { "\"0\"", "null", NULL },
    { { "false", "0" }, { "1", "1" } } },
  { "autofanspeed", "autofanspeed",
    { "\"0\"", "null", NULL },
    { { "0", "0" }, { "true", "1" } } },
  { "manualFanSpeed", "manualFanSpeed",
    { "\"50\"", "true", "null", NULL },
    { { "55", "55" }, { "150", "100" }, { "-1", "0" } } },
  { "autoscreenoff", "autoscreenoff",
    { "\"1\"", "null", NULL },
    { { "1", "1" } } },
  { "stratumURL", "pools[0].stratumURL",
    { NOT_STRING, "\"\"", "@256", NULL },
    { { "\"nerd.example.org\"", "\"nerd.example.org\"" } } },
  { "stratumPort", "pools[0].stratumPort",
    { "\"3333\"", "true", "null", NULL },
    { { "4000", "4000" }, { "70000", "65535" }, { "0", "1" } } },
  { "stratumUser", "pools[0].stratumUser",
    { NOT_STRING, "@256", NULL },
    { { "\"nerd.worker\"", "\"nerd.worker\"" } } },
  { "stratumPassword", "pools[0].stratumPassword",
    { NOT_STRING, "@256", NULL },
    { { "\"pw\"", "\"pw\"" } } },
  { "stratumTLS", "pools[0].stratumTLS",
    { "\"1\"", "null", NULL },
    { { "1", "1" }, { "7", "2" }, { "false", "0" }, { "true", "1" } } },
  { "stratumEnonceSubscribe", "pools[0].stratumExtranonceSubscribe",
    { "\"1\"", "null", NULL },
    { { "true", "1" }, { "0", "0" } } },
  { "stratumProtocol", "pools[0].stratumProtocol",
    { NOT_STRING, "\"SV9\"", NULL },
    { { "\"SV2\"", "\"SV2\"" } } },
  { "fallbackStratumURL", "pools[1].stratumURL",
    { NOT_STRING, "\"\"", "@256", NULL },
    { { "\"fallback.example.org\"", "\"fallback.example.org\"" } } },
  { "fallbackStratumPort", "pools[1].stratumPort",
    { "\"3333\"", "true", "null", NULL },
    { { "4001", "4001" }, { "-7", "1" } } },
  { "fallbackStratumUser", "pools[1].stratumUser",
    { NOT_STRING, NULL },
    { { "\"fb.worker\"", "\"fb.worker\"" } } },
  { "fallbackStratumPassword", "pools[1].stratumPassword",
    { NOT_STRING, NULL },
    { { "\"fbpw\"", "\"fbpw\"" } } },
  { "fallbackStratumTLS", "pools[1].stratumTLS",
    { "\"1\"", "null", NULL },
    { { "2", "2" }, { "-1", "0" } } },
  { "fallbackStratumEnonceSubscribe", "pools[1].stratumExtranonceSubscribe",
    { "\"1\"", "null", NULL },
    { { "1", "1" } } },
  { "fallbackStratumProtocol", "pools[1].stratumProtocol",
    { NOT_STRING, "\"V2\"", NULL },
    { { "\"SV2\"", "\"SV2\"" } } },
};

static PmSettings *
new_nerd (void)
{
  return pm_settings_new (&pm_board_nerdqaxe_plus, "nerdqaxe-1");
}

/* Each key: a value it cannot use is skipped without an error, one it
 * can is stored (clamped into range) in its own place only. */
static void
test_nerdqaxe_keys (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (nerd_cases); i++)
    {
      const NerdCase *c = &nerd_cases[i];
      g_autoptr(PmSettings) s = new_nerd ();

      for (gsize j = 0; c->skipped[j] != NULL; j++)
        {
          g_autofree char *json = object_of (c->key, c->skipped[j]);

          assert_no_op (s, PM_SETTINGS_STYLE_NERDQAXE, json);
        }
      for (gsize j = 0; c->taken[j].json != NULL; j++)
        assert_stored (s, PM_SETTINGS_STYLE_NERDQAXE, c->key, c->taken[j].json,
                       c->line, c->taken[j].stored);
    }
}

/* Wrong types mixed with right ones: the right ones are applied exactly
 * as if sent alone, and the call succeeds. */
static void
test_nerdqaxe_mixed (void)
{
  static const char rights[] =
    "{\"ssid\":\"nerd-net\",\"coreVoltage\":1200,\"flipscreen\":true,"
    "\"stratumURL\":\"solo.example.org\",\"fallbackStratumUser\":\"someone\","
    "\"manualFanSpeed\":130}";
  static const char mixed[] =
    "{\"hostname\":5,\"ssid\":\"nerd-net\",\"frequency\":\"600\",\"coreVoltage\":1200,"
    "\"flipscreen\":true,\"jobInterval\":\"x\",\"stratumURL\":\"solo.example.org\","
    "\"stratumPort\":\"3333\",\"fallbackStratumUser\":\"someone\",\"autofanspeed\":\"0\","
    "\"manualFanSpeed\":130,\"stratumProtocol\":7}";
  g_autoptr(PmSettings) a = new_nerd ();
  g_autoptr(PmSettings) b = new_nerd ();
  g_autoptr(PmSettings) fresh = new_nerd ();
  g_autofree char *snap_a = NULL;
  g_autofree char *snap_b = NULL;
  g_autofree char *snap_fresh = snapshot (fresh);

  assert_accepted (a, PM_SETTINGS_STYLE_NERDQAXE, rights);
  assert_accepted (b, PM_SETTINGS_STYLE_NERDQAXE, mixed);
  snap_a = snapshot (a);
  snap_b = snapshot (b);
  g_assert_cmpstr (snap_b, ==, snap_a);
  g_assert_cmpstr (snap_b, !=, snap_fresh);
  g_assert_cmpstr (b->ssid, ==, "nerd-net");
  g_assert_cmpuint (b->manual_fan_speed, ==, 100);
  g_assert_cmpstr (b->pools[1].user, ==, "someone");
}

/* Keys only AxeOS reads are nothing to a NerdQAxe+. */
static void
test_nerdqaxe_ignores_axeos_keys (void)
{
  g_autoptr(PmSettings) s = new_nerd ();

  assert_no_op (s, PM_SETTINGS_STYLE_NERDQAXE,
                "{\"temptarget\":50,\"rotation\":90,\"displayTimeout\":5,"
                "\"primaryPoolIndex\":3,\"secondaryPoolIndex\":4,\"minFanSpeed\":40,"
                "\"display\":\"NONE\",\"overclockEnabled\":1,\"statsFrequency\":60,"
                "\"pools\":[{\"id\":0,\"stratumURL\":\"x.example.org\",\"stratumPort\":1,\"stratumUser\":\"u\"}],"
                "\"fanspeed\":20}");
}

/* A flat stratum key into an empty slot starts it from the defaults
 * once: every key lands, over one request or several. */
static void
test_nerdqaxe_empty_slot (void)
{
  g_autoptr(PmSettings) s = new_nerd ();
  g_autoptr(PmSettings) t = new_nerd ();

  s->primary_pool_index = 5;
  assert_accepted (s, PM_SETTINGS_STYLE_NERDQAXE,
                   "{\"stratumURL\":\"n.example.org\",\"stratumPort\":4100,\"stratumUser\":\"w\","
                   "\"stratumTLS\":1}");
  g_assert_cmpstr (s->pools[5].url, ==, "n.example.org");
  g_assert_cmpuint (s->pools[5].port, ==, 4100);
  g_assert_cmpstr (s->pools[5].user, ==, "w");
  g_assert_cmpuint (s->pools[5].tls, ==, 1);
  g_assert_cmpstr (s->pools[5].protocol, ==, "SV1");
  g_assert_true (pm_settings_get_primary_pool (s) == &s->pools[5]);

  t->secondary_pool_index = 6;
  assert_accepted (t, PM_SETTINGS_STYLE_NERDQAXE,
                   "{\"fallbackStratumPort\":4200,\"fallbackStratumUser\":\"v\"}");
  assert_accepted (t, PM_SETTINGS_STYLE_NERDQAXE,
                   "{\"fallbackStratumTLS\":2,\"fallbackStratumProtocol\":\"SV2\"}");
  assert_accepted (t, PM_SETTINGS_STYLE_NERDQAXE,
                   "{\"fallbackStratumURL\":\"m.example.org\"}");
  g_assert_cmpstr (t->pools[6].url, ==, "m.example.org");
  g_assert_cmpuint (t->pools[6].port, ==, 4200);
  g_assert_cmpstr (t->pools[6].user, ==, "v");
  g_assert_cmpuint (t->pools[6].tls, ==, 2);
  g_assert_cmpstr (t->pools[6].protocol, ==, "SV2");
  g_assert_true (pm_settings_get_secondary_pool (t) == &t->pools[6]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/settings/defaults", test_defaults);
  g_test_add_func ("/settings/axeos/bad-values", test_axeos_bad);
  g_test_add_func ("/settings/axeos/good-values", test_axeos_good);
  g_test_add_func ("/settings/axeos/all-good", test_axeos_all_good);
  g_test_add_func ("/settings/axeos/one-bad-among-good", test_axeos_mixed);
  g_test_add_func ("/settings/axeos/ignored-keys", test_axeos_ignored);
  g_test_add_func ("/settings/not-an-object", test_not_an_object);
  g_test_add_func ("/settings/hostname", test_hostname);
  g_test_add_func ("/settings/pools/fields", test_pool_fields);
  g_test_add_func ("/settings/pools/id", test_pool_id);
  g_test_add_func ("/settings/pools/bad-after-good", test_pool_bad_element_after_good);
  g_test_add_func ("/settings/pools/password", test_pool_password);
  g_test_add_func ("/settings/pools/put-errors", test_put_pool_errors);
  g_test_add_func ("/settings/pools/delete", test_delete_pool);
  g_test_add_func ("/settings/theme", test_theme);
  g_test_add_func ("/settings/nerdqaxe/keys", test_nerdqaxe_keys);
  g_test_add_func ("/settings/nerdqaxe/mixed", test_nerdqaxe_mixed);
  g_test_add_func ("/settings/nerdqaxe/axeos-keys", test_nerdqaxe_ignores_axeos_keys);
  g_test_add_func ("/settings/nerdqaxe/empty-slot", test_nerdqaxe_empty_slot);

  return g_test_run ();
}
