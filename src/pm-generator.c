/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-generator"

#include "config.h"

#include <string.h>

#include "pm-generator.h"
#include "pm-json-writer.h"

/*
 * Everything a mock device says about itself: the two /api/system/info
 * shapes, the firmware distribution and the fake log lines.  Nothing here
 * knows about HTTP, so the tests call it directly.
 */

G_DEFINE_ENUM_TYPE (PmApiVersion, pm_api_version,
                    G_DEFINE_ENUM_VALUE (PM_API_VERSION_LEGACY, "legacy"),
                    G_DEFINE_ENUM_VALUE (PM_API_VERSION_NEW, "new"))

const char *
pm_api_version_to_string (PmApiVersion version)
{
  switch (version)
    {
    case PM_API_VERSION_LEGACY:
      return "legacy";
    case PM_API_VERSION_NEW:
      return "new";
    default:
      g_return_val_if_reached (NULL);
    }
}

gboolean
pm_api_version_from_string (const char   *text,
                            PmApiVersion *out_version)
{
  g_return_val_if_fail (out_version != NULL, FALSE);

  if (text == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (text, "legacy") == 0)
    *out_version = PM_API_VERSION_LEGACY;
  else if (g_ascii_strcasecmp (text, "new") == 0)
    *out_version = PM_API_VERSION_NEW;
  else
    return FALSE;
  return TRUE;
}

/* The real-world spread the original service was built with; the shares
 * sum to 100. */
static const PmFirmwareShare firmware_table[] = {
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

const PmFirmwareShare *
pm_firmware_table (gsize *n_entries)
{
  if (n_entries != NULL)
    *n_entries = G_N_ELEMENTS (firmware_table);
  return firmware_table;
}

/**
 * pm_firmware_pick:
 * @draw: a number in [0, 1]
 *
 * Walks the cumulative distribution and returns the first version whose
 * cumulative probability is at least @draw.
 *
 * Returns: (transfer none): a firmware version
 */
const char *
pm_firmware_pick (double draw)
{
  guint cumulative = 0;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (firmware_table); i++)
    {
      cumulative += firmware_table[i].percent;
      if (draw * 100.0 <= (double) cumulative)
        return firmware_table[i].version;
    }

  return firmware_table[G_N_ELEMENTS (firmware_table) - 1].version;
}

const char *
pm_firmware_draw (GRand *rand)
{
  return pm_firmware_pick (g_rand_double (rand));
}

static const char *const fake_logs[] = {
  "System started",
  "Temperature reading failed",
  "Fan speed increased",
  "Power supply issue detected",
  "System performance optimal",
  "Network connection lost",
  "ASIC failure detected",
  "Overclocking applied successfully",
  "Temperature is stable",
  "Fan is operating within limits",
};

const char *const *
pm_fake_log_messages (gsize *n_messages)
{
  if (n_messages != NULL)
    *n_messages = G_N_ELEMENTS (fake_logs);
  return fake_logs;
}

const char *
pm_fake_log_draw (GRand *rand)
{
  return fake_logs[g_rand_int_range (rand, 0, G_N_ELEMENTS (fake_logs))];
}

/**
 * pm_fake_log_frame:
 * @message: a log line
 *
 * Returns: (transfer full): the WebSocket text frame for @message,
 *   `{"log":"<message>"}`
 */
char *
pm_fake_log_frame (const char *message)
{
  GString *out = g_string_sized_new (64);

  g_string_append (out, "{\"log\":");
  pm_json_append_string (out, message);
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/**
 * pm_rand_new_for_port:
 * @seed: the fleet's seed
 * @port: the device's port
 *
 * Every device has a random stream of its own, derived from the fleet's
 * seed and its port, so the same seed gives the same port the same
 * firmware and the same sequence of values on every run.
 *
 * Returns: (transfer full): a new #GRand
 */
GRand *
pm_rand_new_for_port (guint64 seed,
                      guint   port)
{
  guint32 words[4] = {
    (guint32) (seed & 0xffffffffu),
    (guint32) (seed >> 32),
    (guint32) port,
    0x706c7574u,
  };

  return g_rand_new_with_seed_array (words, G_N_ELEMENTS (words));
}

/* The fixed identity both shapes report. */
#define STRATUM_URL "solo.ckpool.org"
#define STRATUM_PORT 3333
#define STRATUM_USER_PREFIX "bc1asdasdasdasdasasdasdasdasdasdasd."

typedef struct
{
  GString           *out;
  const PmOverrides *overrides;  /* (nullable) */
  GHashTable        *written;    /* (nullable) names of generated members */
  gboolean           first;
} Writer;

/* Starts member @name.  Returns FALSE when an override has been written in
 * its place, so the caller skips generating it. */
static gboolean
writer_key (Writer     *w,
            const char *name)
{
  const char *value;

  /* Every @name is a plain identifier of this file: nothing to escape.
   * The key is written with pm_json_append_len(): a document has dozens
   * of them, and g_string_append() costs several times as much. */
  if (w->first)
    pm_json_append_len (w->out, "\"", 1);
  else
    pm_json_append_len (w->out, ",\"", 2);
  w->first = FALSE;
  pm_json_append_raw (w->out, name);
  pm_json_append_len (w->out, "\":", 2);

  if (w->overrides == NULL)
    return TRUE;

  g_hash_table_add (w->written, (gpointer) name);
  value = pm_overrides_lookup (w->overrides, name);
  if (value != NULL)
    {
      g_string_append (w->out, value);
      return FALSE;
    }
  return TRUE;
}

static void
put_int (Writer     *w,
         const char *name,
         gint64      value)
{
  if (writer_key (w, name))
    pm_json_append_int (w->out, value);
}

static void
put_double (Writer     *w,
            const char *name,
            double      value,
            guint       decimals)
{
  if (writer_key (w, name))
    pm_json_append_double (w->out, value, decimals);
}

static void
put_string (Writer     *w,
            const char *name,
            const char *value)
{
  if (writer_key (w, name))
    pm_json_append_string (w->out, value);
}

/* A difficulty as the original prints it: toFixed() keeps its zeros. */
static void
put_difficulty (Writer     *w,
                const char *name,
                double      value,
                guint       decimals,
                const char *suffix)
{
  if (!writer_key (w, name))
    return;
  /* A number and a letter need no escaping. */
  g_string_append_c (w->out, '"');
  pm_json_append_fixed (w->out, value, decimals);
  pm_json_append_raw (w->out, suffix);
  g_string_append_c (w->out, '"');
}

static void
put_int_array (GString *out,
               GRand   *rand,
               gint32   lo,
               gint32   hi,
               guint    n)
{
  guint i;

  g_string_append_c (out, '[');
  for (i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      pm_json_append_int (out, g_rand_int_range (rand, lo, hi + 1));
    }
  g_string_append_c (out, ']');
}

static inline gint32
rand_int (GRand *rand,
          gint32 lo,
          gint32 hi)
{
  return g_rand_int_range (rand, lo, hi + 1);
}

static void
generate_legacy (Writer     *w,
                 GRand      *rand,
                 const char *hostname,
                 const char *firmware,
                 guint64     uptime_seconds)
{
  g_autofree char *stratum_user = g_strconcat (STRATUM_USER_PREFIX, hostname, NULL);

  put_double (w, "power", g_rand_double_range (rand, 10, 20), 6);
  put_int (w, "voltage", rand_int (rand, 5000, 6000));
  put_double (w, "current", g_rand_double_range (rand, 2000, 3000), 1);
  put_int (w, "fanSpeedRpm", rand_int (rand, 4000, 6000));
  put_int (w, "temp", rand_int (rand, 30, 70));
  put_double (w, "hashRate", g_rand_double_range (rand, 700, 800), 9);
  put_difficulty (w, "bestDiff", g_rand_double_range (rand, 1, 5), 2, "M");
  put_difficulty (w, "bestSessionDiff", g_rand_double_range (rand, 10, 30), 1, "k");
  put_int (w, "freeHeap", rand_int (rand, 100000, 200000));
  put_int (w, "coreVoltage", rand_int (rand, 1000, 1300));
  put_int (w, "coreVoltageActual", rand_int (rand, 1000, 1300));
  put_int (w, "frequency", rand_int (rand, 400, 600));
  put_string (w, "ssid", "WiFi-SSID");
  put_string (w, "hostname", hostname);
  put_string (w, "wifiStatus", "Connected!");
  put_int (w, "sharesAccepted", rand_int (rand, 0, 10));
  put_int (w, "sharesRejected", rand_int (rand, 0, 10));
  put_int (w, "uptimeSeconds", (gint64) uptime_seconds);
  put_string (w, "ASICModel", "BM1368");
  put_string (w, "stratumURL", STRATUM_URL);
  put_int (w, "stratumPort", STRATUM_PORT);
  put_string (w, "stratumUser", stratum_user);
  put_string (w, "version", firmware);
  put_string (w, "boardVersion", "401");
  put_string (w, "runningPartition", "factory");
  put_int (w, "flipscreen", rand_int (rand, 0, 1));
  put_int (w, "invertscreen", rand_int (rand, 0, 1));
  put_int (w, "invertfanpolarity", rand_int (rand, 0, 1));
  put_int (w, "autofanspeed", rand_int (rand, 0, 1));
  put_int (w, "fanspeed", rand_int (rand, 0, 100));
}

static void
generate_new (Writer     *w,
              GRand      *rand,
              const char *hostname,
              const char *firmware,
              guint64     uptime_seconds,
              gint64      now_ms)
{
  g_autofree char *stratum_user = g_strconcat (STRATUM_USER_PREFIX, hostname, NULL);

  put_double (w, "power", g_rand_double_range (rand, 30, 80), 3);
  put_int (w, "maxPower", 70);
  put_int (w, "minPower", 30);
  put_double (w, "voltage", g_rand_double_range (rand, 11000, 13000), 2);
  put_int (w, "maxVoltage", 13);
  put_int (w, "minVoltage", 11);
  put_double (w, "current", g_rand_double_range (rand, 6000, 7000), 1);
  put_int (w, "temp", rand_int (rand, 30, 80));
  put_double (w, "vrTemp", g_rand_double_range (rand, 60, 80), 1);
  put_int (w, "hashRateTimestamp", now_ms);
  put_double (w, "hashRate_10m", g_rand_double_range (rand, 2900, 3100), 3);
  put_double (w, "hashRate_1h", g_rand_double_range (rand, 2900, 3100), 3);
  put_double (w, "hashRate_1d", g_rand_double_range (rand, 2900, 3100), 3);
  put_int (w, "jobInterval", 1200);
  put_difficulty (w, "bestDiff", g_rand_double_range (rand, 400, 500), 1, "M");
  put_difficulty (w, "bestSessionDiff", g_rand_double_range (rand, 100, 200), 1, "M");
  put_int (w, "freeHeap", rand_int (rand, 5000000, 6000000));
  put_int (w, "coreVoltage", rand_int (rand, 1300, 1400));
  put_int (w, "coreVoltageActual", rand_int (rand, 1300, 1400));
  put_int (w, "frequency", rand_int (rand, 400, 600));
  put_string (w, "ssid", "EMN_Guest");
  put_string (w, "hostname", hostname);
  put_string (w, "wifiStatus", "Connected!");
  put_int (w, "sharesAccepted", rand_int (rand, 10000, 20000));
  put_int (w, "sharesRejected", rand_int (rand, 0, 50));
  put_int (w, "uptimeSeconds", (gint64) uptime_seconds);
  put_int (w, "asicCount", rand_int (rand, 2, 6));
  put_int (w, "smallCoreCount", rand_int (rand, 1200, 1300));
  put_string (w, "ASICModel", "BM1368");
  put_string (w, "deviceModel", "NerdQAxe+");
  put_string (w, "stratumURL", STRATUM_URL);
  put_int (w, "stratumPort", STRATUM_PORT);
  put_string (w, "stratumUser", stratum_user);
  put_string (w, "version", firmware);
  put_string (w, "runningPartition", "ota_1");
  put_int (w, "flipscreen", rand_int (rand, 0, 1));
  put_int (w, "invertscreen", rand_int (rand, 0, 1));
  put_int (w, "autoscreenoff", rand_int (rand, 0, 1));
  put_int (w, "invertfanpolarity", rand_int (rand, 0, 1));
  put_int (w, "autofanspeed", rand_int (rand, 0, 1));
  put_int (w, "overheat_temp", 75);
  put_int (w, "fanspeed", rand_int (rand, 0, 100));
  put_int (w, "fanrpm", rand_int (rand, 2000, 3000));
  put_string (w, "lastResetReason", "Power on reset");

  if (writer_key (w, "history"))
    {
      GString *out = w->out;

      g_string_append (out, "{\"hashrate_10m\":");
      put_int_array (out, rand, 290000, 310000, 4);
      g_string_append (out, ",\"hashrate_1h\":");
      put_int_array (out, rand, 300000, 310000, 4);
      g_string_append (out, ",\"hashrate_1d\":");
      put_int_array (out, rand, 310000, 320000, 4);
      g_string_append (out, ",\"timestamps\":");
      put_int_array (out, rand, 2000, 5000, 4);
      g_string_append (out, ",\"timestampBase\":");
      pm_json_append_int (out, now_ms);
      g_string_append_c (out, '}');
    }
}

/* ---- simulated telemetry ------------------------------------------------ */

/* A difficulty as AxeOS before v2.11 printed it: scaled to k, M, G or T
 * with two decimals ("4.29G"). */
static void
put_scaled_difficulty (Writer     *w,
                       const char *name,
                       double      value)
{
  static const char *const suffixes[] = { "", "k", "M", "G", "T", "P" };
  guint i = 0;

  if (!writer_key (w, name))
    return;
  while (value >= 1000.0 && i + 1 < G_N_ELEMENTS (suffixes))
    {
      value /= 1000.0;
      i++;
    }
  g_string_append_c (w->out, '"');
  pm_json_append_fixed (w->out, value, 2);
  pm_json_append_raw (w->out, suffixes[i]);
  g_string_append_c (w->out, '"');
}

static double
hottest (const PmMinerState *state,
         guint               n_asics)
{
  double max = state->temp;
  guint i;

  for (i = 0; i < MIN (n_asics, G_N_ELEMENTS (state->asic_temps)); i++)
    max = MAX (max, state->asic_temps[i]);
  return max;
}

/* The Legacy shape, every value from the simulated miner. */
static void
simulate_legacy (Writer             *w,
                 const PmMinerState *state,
                 const char         *hostname,
                 const char         *firmware)
{
  g_autofree char *stratum_user = g_strconcat (STRATUM_USER_PREFIX, hostname, NULL);

  put_double (w, "power", state->power, 6);
  put_int (w, "voltage", (gint64) (state->voltage + 0.5));
  put_double (w, "current", state->current, 1);
  put_int (w, "fanSpeedRpm", state->fan_rpm);
  put_int (w, "temp", (gint64) (state->temp + 0.5));
  put_double (w, "hashRate", state->hashrate, 9);
  put_scaled_difficulty (w, "bestDiff", state->best_diff);
  put_scaled_difficulty (w, "bestSessionDiff", state->best_session_diff);
  put_int (w, "freeHeap", (gint64) state->free_heap_internal);
  put_int (w, "coreVoltage", state->core_voltage);
  put_int (w, "coreVoltageActual", (gint64) (state->core_voltage_actual + 0.5));
  put_int (w, "frequency", (gint64) (state->frequency + 0.5));
  put_string (w, "ssid", "WiFi-SSID");
  put_string (w, "hostname", hostname);
  put_string (w, "wifiStatus", "Connected!");
  put_int (w, "sharesAccepted", (gint64) state->shares_accepted);
  put_int (w, "sharesRejected", (gint64) state->shares_rejected);
  put_int (w, "uptimeSeconds", (gint64) state->uptime_seconds);
  put_string (w, "ASICModel", "BM1368");
  put_string (w, "stratumURL", STRATUM_URL);
  put_int (w, "stratumPort", STRATUM_PORT);
  put_string (w, "stratumUser", stratum_user);
  put_string (w, "version", firmware);
  put_string (w, "boardVersion", "401");
  put_string (w, "runningPartition", "factory");
  put_int (w, "flipscreen", 0);
  put_int (w, "invertscreen", 0);
  put_int (w, "invertfanpolarity", 1);
  put_int (w, "autofanspeed", 1);
  put_int (w, "fanspeed", (gint64) (state->fan_duty + 0.5));
}

static void
put_history_points (GString *out,
                    double   value)
{
  guint i;

  g_string_append_c (out, '[');
  for (i = 0; i < 4; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      pm_json_append_int (out, (gint64) (value * 100 + 0.5));
    }
  g_string_append_c (out, ']');
}

/* The New shape, every value from the simulated miner (a NerdQAxe+). */
static void
simulate_new (Writer             *w,
              const PmMinerState *state,
              const char         *hostname,
              const char         *firmware,
              gint64              now_ms)
{
  g_autofree char *stratum_user = g_strconcat (STRATUM_USER_PREFIX, hostname, NULL);

  put_double (w, "power", state->power, 3);
  put_int (w, "maxPower", 70);
  put_int (w, "minPower", 30);
  put_double (w, "voltage", state->voltage, 2);
  put_int (w, "maxVoltage", 13);
  put_int (w, "minVoltage", 11);
  put_double (w, "current", state->current, 1);
  put_int (w, "temp", (gint64) (hottest (state, 4) + 0.5));
  put_double (w, "vrTemp", state->vr_temp, 1);
  put_int (w, "hashRateTimestamp", now_ms);
  put_double (w, "hashRate_10m", state->hashrate_10m, 3);
  put_double (w, "hashRate_1h", state->hashrate_1h, 3);
  put_double (w, "hashRate_1d", state->hashrate_1d, 3);
  put_int (w, "jobInterval", 1200);
  put_scaled_difficulty (w, "bestDiff", state->best_diff);
  put_scaled_difficulty (w, "bestSessionDiff", state->best_session_diff);
  put_int (w, "freeHeap", (gint64) state->free_heap);
  put_int (w, "coreVoltage", state->core_voltage);
  put_int (w, "coreVoltageActual", (gint64) (state->core_voltage_actual + 0.5));
  put_int (w, "frequency", (gint64) (state->frequency + 0.5));
  put_string (w, "ssid", "EMN_Guest");
  put_string (w, "hostname", hostname);
  put_string (w, "wifiStatus", "Connected!");
  put_int (w, "sharesAccepted", (gint64) state->shares_accepted);
  put_int (w, "sharesRejected", (gint64) state->shares_rejected);
  put_int (w, "uptimeSeconds", (gint64) state->uptime_seconds);
  put_int (w, "asicCount", 4);
  put_int (w, "smallCoreCount", 1276);
  put_string (w, "ASICModel", "BM1368");
  put_string (w, "deviceModel", "NerdQAxe+");
  put_string (w, "stratumURL", STRATUM_URL);
  put_int (w, "stratumPort", STRATUM_PORT);
  put_string (w, "stratumUser", stratum_user);
  put_string (w, "version", firmware);
  put_string (w, "runningPartition", "ota_1");
  put_int (w, "flipscreen", 0);
  put_int (w, "invertscreen", 0);
  put_int (w, "autoscreenoff", 0);
  put_int (w, "invertfanpolarity", 0);
  put_int (w, "autofanspeed", 1);
  put_int (w, "overheat_temp", 75);
  put_int (w, "fanspeed", (gint64) (state->fan_duty + 0.5));
  put_int (w, "fanrpm", state->fan_rpm);
  put_string (w, "lastResetReason", "Power on reset");

  if (writer_key (w, "history"))
    {
      GString *out = w->out;
      guint i;

      g_string_append (out, "{\"hashrate_10m\":");
      put_history_points (out, state->hashrate_10m);
      g_string_append (out, ",\"hashrate_1h\":");
      put_history_points (out, state->hashrate_1h);
      g_string_append (out, ",\"hashrate_1d\":");
      put_history_points (out, state->hashrate_1d);
      /* Four samples a second apart, oldest first, ending now. */
      g_string_append (out, ",\"timestamps\":[");
      for (i = 0; i < 4; i++)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          pm_json_append_int (out, (gint64) i * 1000);
        }
      g_string_append (out, "],\"timestampBase\":");
      pm_json_append_int (out, now_ms - 3000);
      g_string_append_c (out, '}');
    }
}

/**
 * pm_system_info_generate_with_overrides:
 * @rand: the device's random stream
 * @api_version: which shape to generate
 * @hostname: the device's hostname
 * @firmware: the device's firmware version
 * @uptime_seconds: whole seconds since the device started
 * @now_ms: the wall clock in milliseconds since the Unix epoch
 * @overrides: (nullable): stored overrides, laid over the generated values
 *
 * Generates the body of `GET /api/system/info`: every field of the shape,
 * random where the original is random, then the overrides laid over it.
 * An overridden field keeps its place; overrides of fields the shape does
 * not have follow at the end, in the order they were first stored.  The
 * time taken is linear in the size of the result.
 *
 * Returns: (transfer full): the JSON text
 */
char *
pm_system_info_generate_with_overrides (GRand             *rand,
                                        PmApiVersion       api_version,
                                        const char        *hostname,
                                        const char        *firmware,
                                        guint64            uptime_seconds,
                                        gint64             now_ms,
                                        const PmOverrides *overrides)
{
  return pm_system_info_generate_full (rand, NULL, api_version, hostname, firmware,
                                       uptime_seconds, now_ms, overrides);
}

/**
 * pm_system_info_generate_full:
 * @rand: the device's random stream
 * @state: (nullable): a simulated miner's state to take the values from,
 *   or %NULL for random values as the original service draws them
 * @api_version: which shape to generate
 * @hostname: the device's hostname
 * @firmware: the device's firmware version
 * @uptime_seconds: whole seconds since the device started (ignored with
 *   @state, which has its own)
 * @now_ms: the wall clock in milliseconds since the Unix epoch
 * @overrides: (nullable): stored overrides, laid over the generated values
 *
 * As pm_system_info_generate_with_overrides(); with @state the shape and
 * types stay the same, the values come from the simulated miner.
 *
 * Returns: (transfer full): the JSON text
 */
char *
pm_system_info_generate_full (GRand              *rand,
                              const PmMinerState *state,
                              PmApiVersion        api_version,
                              const char         *hostname,
                              const char         *firmware,
                              guint64             uptime_seconds,
                              gint64              now_ms,
                              const PmOverrides  *overrides)
{
  g_autoptr(GHashTable) written = NULL;
  Writer w = { NULL, NULL, NULL, TRUE };

  g_return_val_if_fail (rand != NULL, NULL);
  g_return_val_if_fail (hostname != NULL, NULL);
  g_return_val_if_fail (firmware != NULL, NULL);

  w.out = g_string_sized_new (1536 + (overrides != NULL ? pm_overrides_get_bytes (overrides) : 0));
  if (overrides != NULL && pm_overrides_get_size (overrides) > 0)
    {
      written = g_hash_table_new (g_str_hash, g_str_equal);
      w.overrides = overrides;
      w.written = written;
    }

  g_string_append_c (w.out, '{');
  switch (api_version)
    {
    case PM_API_VERSION_LEGACY:
      if (state != NULL)
        simulate_legacy (&w, state, hostname, firmware);
      else
        generate_legacy (&w, rand, hostname, firmware, uptime_seconds);
      break;
    case PM_API_VERSION_NEW:
      if (state != NULL)
        simulate_new (&w, state, hostname, firmware, now_ms);
      else
        generate_new (&w, rand, hostname, firmware, uptime_seconds, now_ms);
      break;
    default:
      g_assert_not_reached ();
    }

  if (w.overrides != NULL)
    {
      guint i, n = pm_overrides_get_size (overrides);

      for (i = 0; i < n; i++)
        {
          const char *member;
          const char *name = pm_overrides_get_nth (overrides, i, &member);

          if (g_hash_table_contains (written, name))
            continue;
          g_string_append_c (w.out, ',');
          g_string_append (w.out, member);
        }
    }
  g_string_append_c (w.out, '}');

  return g_string_free (w.out, FALSE);
}

/**
 * pm_system_info_generate:
 * @rand: the device's random stream
 * @api_version: which shape to generate
 * @hostname: the device's hostname
 * @firmware: the device's firmware version
 * @uptime_seconds: whole seconds since the device started
 * @now_ms: the wall clock in milliseconds since the Unix epoch
 * @overrides: (nullable): overrides as one object, laid over the
 *   generated values
 *
 * As pm_system_info_generate_with_overrides(), the overrides given as
 * the members of @overrides, in its order.
 *
 * Returns: (transfer full): the JSON text
 */
char *
pm_system_info_generate (GRand       *rand,
                         PmApiVersion api_version,
                         const char  *hostname,
                         const char  *firmware,
                         guint64      uptime_seconds,
                         gint64       now_ms,
                         JsonObject  *overrides)
{
  g_autoptr(PmOverrides) store = NULL;

  if (overrides != NULL)
    store = pm_overrides_new_from_object (overrides);
  return pm_system_info_generate_with_overrides (rand, api_version, hostname, firmware,
                                                 uptime_seconds, now_ms, store);
}
