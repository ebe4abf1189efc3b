/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-axeos"

#include "config.h"

#include <math.h>  /* isfinite () only: nothing here links libm */
#include <string.h>

#include "pm-axeos.h"
#include "pm-json-writer.h"

/*
 * The JSON replies of the two firmwares, written from a PmFirmwareView:
 * AxeOS v2.15 (`/api/system/info`, `/asic`, `/scoreboard`, the
 * `/api/ws/live` state) and the NerdQAxe+ (`/info` with its `history`,
 * `/asic`).  Every request of every device comes through here, so the
 * text is written straight into the reply, with no printf and no
 * intermediate tree.
 */

#define IDF_VERSION "v5.5.1"
#define STATS_LIMIT_REPORTED 720
#define PASSWORD_MASK "*****"
/* BIP173's example address: a well-formed bech32 address nobody owns. */
#define FALLBACK_ADDRESS "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
#define POOL_FEE_ADDRESS "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
#define SATOSHIS_PER_BLOCK_AT_START G_GUINT64_CONSTANT (5000000000)
#define HALVING_INTERVAL 210000

/* ---- a small object writer ---------------------------------------------- */

typedef struct
{
  GString *out;
  gboolean first;
} Obj;

static void
obj_begin (Obj     *o,
           GString *out)
{
  o->out = out;
  o->first = TRUE;
  g_string_append_c (out, '{');
}

static void
obj_end (Obj *o)
{
  g_string_append_c (o->out, '}');
}

/* Starts a member and returns where its value goes: @text is the
 * member's `,"name":`, whose comma the first member leaves out. */
static GString *
key_text (Obj        *o,
          const char *text,
          gsize       len)
{
  if (o->first)
    {
      text++;
      len--;
      o->first = FALSE;
    }
  pm_json_append_len (o->out, text, len);
  return o->out;
}

/* Starts member @prefix@suffix: @prefix a plain identifier of this
 * file, nothing to escape, @suffix the rest of the text after it. */
static GString *
key_prefixed (Obj        *o,
              const char *prefix,
              const char *suffix,
              gsize       suffix_len)
{
  GString *out = o->out;

  if (!o->first)
    g_string_append_c (out, ',');
  o->first = FALSE;
  g_string_append_c (out, '"');
  pm_json_append_raw (out, prefix);
  pm_json_append_len (out, suffix, suffix_len);
  return out;
}

/* The member names are string literals, so that the text before a
 * value, `,"name":`, is one piece of known length: KEY (o, "name"),
 * KEY2 (o, prefix, "Suffix") and the put_*() below are macros. */
#define KEY_TEXT(name) (",\"" name "\":"), sizeof (",\"" name "\":") - 1
#define KEY(o, name) key_text ((o), KEY_TEXT (name))
#define KEY2(o, prefix, suffix) key_prefixed ((o), (prefix), (suffix "\":"), sizeof (suffix "\":") - 1)

static void
append_number (GString *out,
               double   value,
               guint    decimals)
{
  pm_json_append_double (out, isfinite (value) ? value : 0.0, decimals);
}

/* A value the firmware keeps as a float and cJSON prints: rounded to 7
 * decimals after the float's own rounding, a whole value without point. */
static void
append_float (GString *out,
              double   value)
{
  float f = (float) value;

  pm_json_append_double (out, isfinite (f) ? (double) f : 0.0, 7);
}

static void
append_str (GString    *out,
            const char *value)
{
  pm_json_append_string (out, value != NULL ? value : "");
}

static void
append_bool (GString *out,
             gboolean value)
{
  if (value)
    pm_json_append_len (out, "true", 4);
  else
    pm_json_append_len (out, "false", 5);
}

#define put_str(o, name, value) append_str (KEY (o, name), (value))
#define put_int(o, name, value) pm_json_append_int (KEY (o, name), (value))
#define put_bool(o, name, value) append_bool (KEY (o, name), (value))
#define put_float(o, name, value) append_float (KEY (o, name), (value))
#define put_number(o, name, value, decimals) append_number (KEY (o, name), (value), (decimals))
#define put_null(o, name) pm_json_append_len (KEY (o, name), "null", 4)

static void
append_hex (GString *out,
            guint64  value,
            guint    min_digits,
            gboolean upper)
{
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char buf[17];
  char *end = buf + sizeof buf;
  char *p = end;

  do
    {
      *--p = digits[value & 0xf];
      value >>= 4;
    }
  while (value != 0);
  while ((guint) (end - p) < MIN (min_digits, 16u))
    *--p = '0';
  pm_json_append_len (out, p, end - p);
}

/* A whole number of at most 2^63, for values the firmware keeps as
 * integers but the state as doubles. */
static gint64
whole (double value)
{
  if (!(value > 0.0))
    return 0;
  if (value >= 9.2e18)
    return G_GINT64_CONSTANT (9200000000000000000);
  return (gint64) (value + 0.5);
}

/* log2 (@x) for @x ≥ 1, without libm: the exponent's bits, plus the
 * logarithm of the mantissa m ∈ [1, 2) from ln m = 2 atanh ((m−1)/(m+1)),
 * whose series converges fast for an argument of at most 1/3. */
static double
log2_of (double x)
{
  guint64 bits;
  int exponent;
  double m, z, z2, term, sum = 0.0;
  guint k;

  if (!(x >= 1.0) || !isfinite (x))
    return 0.0;
  memcpy (&bits, &x, sizeof bits);
  exponent = (int) ((bits >> 52) & 0x7ff) - 1023;
  bits = (bits & ((G_GUINT64_CONSTANT (1) << 52) - 1)) | (G_GUINT64_CONSTANT (1023) << 52);
  memcpy (&m, &bits, sizeof m);

  z = (m - 1.0) / (m + 1.0);
  z2 = z * z;
  term = z;
  for (k = 0; k < 24; k++)
    {
      sum += term / (2 * k + 1);
      term *= z2;
    }
  return exponent + 2.0 * sum / G_LN2;
}

/* ---- identity ------------------------------------------------------------ */

static const PmPool *
pool_at (const PmSettings *settings,
         guint             index)
{
  if (index >= PM_SETTINGS_N_POOLS)
    return NULL;
  return &settings->pools[index];
}

static gboolean
pool_is_set (const PmPool *pool)
{
  return pool != NULL && pool->url != NULL;
}

static gboolean
contains (const char *haystack,
          const char *needle)
{
  return haystack != NULL && strstr (haystack, needle) != NULL;
}

/* The IPv6 link-local address ESP-IDF derives from @mac (EUI-64), as
 * its IPV6STR format writes it: eight groups of four lowercase digits.
 * Empty when @mac is not a MAC address. */
static void
append_link_local (GString    *out,
                   const char *mac)
{
  guint8 b[6];
  guint8 eui[8];
  guint i;

  for (i = 0; i < 6; i++)
    {
      const char *p = mac != NULL ? mac + 3 * i : NULL;
      int hi, lo;

      if (p == NULL || strlen (mac) < 3 * i + 2)
        {
          pm_json_append_string (out, "");
          return;
        }
      hi = g_ascii_xdigit_value (p[0]);
      lo = g_ascii_xdigit_value (p[1]);
      if (hi < 0 || lo < 0)
        {
          pm_json_append_string (out, "");
          return;
        }
      b[i] = (guint8) (hi << 4 | lo);
    }

  eui[0] = b[0] ^ 0x02;
  eui[1] = b[1];
  eui[2] = b[2];
  eui[3] = 0xff;
  eui[4] = 0xfe;
  eui[5] = b[3];
  eui[6] = b[4];
  eui[7] = b[5];
  pm_json_append_raw (out, "\"fe80:0000:0000:0000");
  for (i = 0; i < 8; i += 2)
    {
      g_string_append_c (out, ':');
      append_hex (out, (guint) eui[i] << 8 | eui[i + 1], 4, FALSE);
    }
  g_string_append_c (out, '"');
}

/* ---- AxeOS /api/system/info ---------------------------------------------- */

static void
write_pools (Obj              *o,
             const PmSettings *settings)
{
  GString *out = KEY (o, "pools");
  gboolean first = TRUE;
  guint i;

  g_string_append_c (out, '[');
  for (i = 0; i < PM_SETTINGS_N_POOLS; i++)
    {
      const PmPool *pool = &settings->pools[i];
      Obj p;

      if (!pool_is_set (pool))
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;

      obj_begin (&p, out);
      put_int (&p, "id", i);
      put_str (&p, "stratumURL", pool->url);
      put_int (&p, "stratumPort", pool->port);
      put_str (&p, "stratumUser", pool->user);
      put_str (&p, "stratumPassword", PASSWORD_MASK);
      put_str (&p, "stratumProtocol", pool->protocol != NULL ? pool->protocol : "SV1");
      put_number (&p, "stratumSuggestedDifficulty", pool->suggested_difficulty, 7);
      put_bool (&p, "stratumExtranonceSubscribe", pool->extranonce_subscribe);
      put_int (&p, "stratumTLS", pool->tls);
      put_str (&p, "stratumCert", pool->cert);
      put_bool (&p, "stratumDecodeCoinbase", pool->decode_coinbase);
      put_str (&p, "stratumV2ChannelType", pool->v2_channel_type != NULL ? pool->v2_channel_type : "standard");
      put_str (&p, "stratumV2AuthorityPubkey", pool->v2_authority_pubkey);
      put_bool (&p, "stratumV2RequireAuth", pool->v2_require_auth);
      obj_end (&p);
    }
  g_string_append_c (out, ']');
}

/* The flat `stratum*` or `fallbackStratum*` members, from one slot;
 * never a password. */
static void
write_flat_pool (Obj          *o,
                 const char   *prefix,
                 const PmPool *pool)
{
  gboolean set = pool_is_set (pool);

  pm_json_append_string (KEY2 (o, prefix, "URL"), set ? pool->url : "");
  pm_json_append_int (KEY2 (o, prefix, "Port"), set ? pool->port : 0);
  pm_json_append_string (KEY2 (o, prefix, "User"), set && pool->user != NULL ? pool->user : "");
  append_number (KEY2 (o, prefix, "SuggestedDifficulty"), set ? pool->suggested_difficulty : 0.0, 7);
  append_bool (KEY2 (o, prefix, "ExtranonceSubscribe"), set && pool->extranonce_subscribe);
  pm_json_append_int (KEY2 (o, prefix, "TLS"), set ? pool->tls : 0);
  pm_json_append_string (KEY2 (o, prefix, "Cert"), set && pool->cert != NULL ? pool->cert : "");
  append_bool (KEY2 (o, prefix, "DecodeCoinbase"), set && pool->decode_coinbase);
  pm_json_append_string (KEY2 (o, prefix, "Protocol"), set && pool->protocol != NULL ? pool->protocol : "SV1");
  pm_json_append_string (KEY2 (o, prefix, "V2AuthorityPubkey"),
                         set && pool->v2_authority_pubkey != NULL ? pool->v2_authority_pubkey : "");
  pm_json_append_string (KEY2 (o, prefix, "V2ChannelType"),
                         set && pool->v2_channel_type != NULL ? pool->v2_channel_type : "standard");
}

static void
write_partitions (Obj                  *o,
                  const PmFirmwareView *view)
{
  static const char *const labels[] = { "factory", "ota_0", "ota_1" };
  const char *running = view->running_partition != NULL ? view->running_partition : "ota_0";
  GString *out = KEY (o, "partitions");
  guint i;

  g_string_append_c (out, '[');
  for (i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      gboolean current = strcmp (labels[i], running) == 0;
      Obj p;

      if (i > 0)
        g_string_append_c (out, ',');
      obj_begin (&p, out);
      put_str (&p, "label", labels[i]);
      put_bool (&p, "isCurrent", current);
      put_bool (&p, "isFactory", i == 0);
      if (current)
        {
          /* The running image; the other slots hold none the
           * bootloader would accept. */
          put_str (&p, "version", view->firmware);
          put_str (&p, "compileDate", "Aug 22 2025");
          put_str (&p, "compileTime", "09:41:27");
          put_number (&p, "usagePercent", 47.3, 1);
        }
      else
        {
          put_null (&p, "version");
          put_null (&p, "compileDate");
          put_null (&p, "compileTime");
          put_null (&p, "usagePercent");
        }
      obj_end (&p);
    }
  g_string_append_c (out, ']');
}

static void
write_hashrate_monitor (Obj                *o,
                        const PmBoard      *board,
                        const PmMinerState *state)
{
  guint n_asics = MIN (board->asic_count, G_N_ELEMENTS (state->domain_hashrate));
  guint n_domains = MIN (board->hash_domains, G_N_ELEMENTS (state->domain_hashrate[0]));
  GString *out = KEY (o, "hashrateMonitor");
  guint a, d;

  pm_json_append_raw (out, "{\"asics\":[");
  for (a = 0; a < n_asics; a++)
    {
      double total = 0.0;

      for (d = 0; d < n_domains; d++)
        total += state->domain_hashrate[a][d];
      if (a > 0)
        g_string_append_c (out, ',');
      pm_json_append_raw (out, "{\"total\":");
      append_float (out, total);
      pm_json_append_raw (out, ",\"domains\":[");
      for (d = 0; d < n_domains; d++)
        {
          if (d > 0)
            g_string_append_c (out, ',');
          append_float (out, state->domain_hashrate[a][d]);
        }
      pm_json_append_raw (out, "],\"errorCount\":");
      pm_json_append_int (out, (gint64) state->asic_error_count[a]);
      g_string_append_c (out, '}');
    }
  pm_json_append_raw (out, "]}");
}

static void
write_rejected_reasons (Obj                *o,
                        const PmMinerState *state)
{
  GString *out = KEY (o, "sharesRejectedReasons");
  gboolean first = TRUE;
  guint i;

  g_string_append_c (out, '[');
  for (i = 0; i < PM_MINER_N_REJECT_REASONS; i++)
    {
      const PmMinerRejectReason *reason = &state->reject_reasons[i];

      if (reason->count == 0 || reason->message == NULL)
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      pm_json_append_raw (out, "{\"message\":");
      pm_json_append_string (out, reason->message);
      pm_json_append_raw (out, ",\"count\":");
      pm_json_append_int (out, (gint64) reason->count);
      g_string_append_c (out, '}');
    }
  g_string_append_c (out, ']');
}

/* The text a pool puts in its coinbase, as the firmware decodes it. */
static const char *
pool_tag (const PmPool *pool)
{
  if (!pool_is_set (pool))
    return "";
  if (contains (pool->url, "ckpool"))
    return "ckpool";
  if (contains (pool->url, "public-pool"))
    return "Public-Pool";
  return pool->url;
}

/* The wallet of a stratum user "<address>.<worker>". */
static void
append_wallet (GString      *out,
               const PmPool *pool)
{
  const char *user = pool_is_set (pool) ? pool->user : NULL;
  const char *dot;

  if (user == NULL || *user == '\0' || *user == '.')
    {
      pm_json_append_string (out, FALLBACK_ADDRESS);
      return;
    }
  dot = strchr (user, '.');
  if (dot == NULL)
    {
      pm_json_append_string (out, user);
    }
  else
    {
      g_autofree char *wallet = g_strndup (user, dot - user);

      pm_json_append_string (out, wallet);
    }
}

/* The block members, there once a job with a block height came: the
 * subsidy of that height plus fees, all of it to the miner on a solo
 * pool, less 2 % on ckpool. */
static void
write_block (Obj                *o,
             const PmMinerState *state,
             const PmPool       *pool)
{
  guint64 height = state->block_height;
  guint64 halvings = height / HALVING_INTERVAL;
  guint64 subsidy = halvings < 64 ? SATOSHIS_PER_BLOCK_AT_START >> halvings : 0;
  guint64 fees = 1000000 + (height * G_GUINT64_CONSTANT (2654435761)) % 30000000;
  guint64 total = subsidy + fees;
  guint64 user = contains (pool_is_set (pool) ? pool->url : NULL, "ckpool") ? total - total / 50 : total;
  GString *out;

  put_int (o, "blockHeight", (gint64) height);
  put_str (o, "scriptsig", pool_tag (pool));
  put_number (o, "networkDifficulty", (double) whole (state->network_difficulty), 0);
  pm_json_append_raw (KEY (o, "blockSignals"), "[]");

  out = KEY (o, "coinbaseOutputs");
  pm_json_append_raw (out, "[{\"value\":");
  pm_json_append_int (out, (gint64) user);
  pm_json_append_raw (out, ",\"address\":");
  append_wallet (out, pool);
  g_string_append_c (out, '}');
  if (total > user)
    {
      pm_json_append_raw (out, ",{\"value\":");
      pm_json_append_int (out, (gint64) (total - user));
      pm_json_append_raw (out, ",\"address\":\"" POOL_FEE_ADDRESS "\"}");
    }
  g_string_append_c (out, ']');

  put_int (o, "coinbaseValueTotalSatoshis", (gint64) total);
  put_int (o, "coinbaseValueUserSatoshis", (gint64) user);
}

/* The largest block the heap could give: most of the free PSRAM, which
 * is one region that fragments little. */
static guint64
max_alloc_heap (const PmMinerState *state)
{
  guint64 block;

  if (state->free_heap_spiram > 0)
    block = state->free_heap_spiram / 8 * 7;
  else
    block = state->free_heap_internal / 2;
  return MIN (block, state->free_heap) & ~G_GUINT64_CONSTANT (3);
}

/**
 * pm_axeos_write_info:
 * @out: where to write
 * @view: the device
 * @http: %TRUE for the `GET /api/system/info` reply, %FALSE for the
 *   `/api/ws/live` state, which has no `fullHostname`
 *
 * Writes the AxeOS v2.15 system info object: every member the firmware
 * sends, with the firmware's JSON types.  No password is ever written,
 * only the mask of the `pools` entries.
 */
void
pm_axeos_write_info (GString              *out,
                     const PmFirmwareView *view,
                     gboolean              http)
{
  const PmBoard *board;
  const PmMinerState *s;
  const PmSettings *set;
  const PmPool *primary, *secondary, *active;
  Obj o;

  g_return_if_fail (out != NULL);
  g_return_if_fail (view != NULL && view->board != NULL && view->state != NULL && view->settings != NULL);

  board = view->board;
  s = view->state;
  set = view->settings;
  primary = pool_at (set, set->primary_pool_index);
  secondary = pool_at (set, set->secondary_pool_index);
  /* The pool the jobs come from. */
  active = s->using_fallback ? secondary : primary;

  obj_begin (&o, out);
  put_float (&o, "power", s->power);
  put_float (&o, "voltage", s->voltage);
  put_float (&o, "current", s->current);
  put_float (&o, "temp", s->temp);
  put_float (&o, "temp2", -1.0);
  put_float (&o, "vrTemp", s->vr_temp);
  put_int (&o, "maxPower", board->max_power);
  put_int (&o, "nominalVoltage", board->nominal_voltage);
  put_float (&o, "hashRate", s->hashrate);
  put_float (&o, "hashRate_1m", s->hashrate_1m);
  put_float (&o, "hashRate_10m", s->hashrate_10m);
  put_float (&o, "hashRate_1h", s->hashrate_1h);
  put_float (&o, "expectedHashrate", s->expected_hashrate);
  put_float (&o, "errorPercentage", s->error_percentage);
  put_number (&o, "bestDiff", (double) whole (s->best_diff), 0);
  put_number (&o, "bestSessionDiff", (double) whole (s->best_session_diff), 0);
  put_number (&o, "poolDifficulty", s->pool_difficulty, 7);
  put_int (&o, "isUsingFallbackStratum", s->using_fallback ? 1 : 0);
  /* Written when the firmware connected: the pool it is on. */
  put_str (&o, "poolConnectionInfo", pool_is_set (active) && active->tls > 0 ? "IPv4 (TLS)" : "IPv4");
  put_int (&o, "isPSRAMAvailable", 1);
  put_int (&o, "freeHeap", (gint64) s->free_heap);
  put_int (&o, "freeHeapInternal", (gint64) s->free_heap_internal);
  put_int (&o, "freeHeapSpiram", (gint64) s->free_heap_spiram);
  put_int (&o, "minFreeHeap", (gint64) s->min_free_heap);
  put_int (&o, "maxAllocHeap", (gint64) max_alloc_heap (s));
  put_int (&o, "coreVoltage", set->core_voltage);
  put_float (&o, "coreVoltageActual", s->core_voltage_actual);
  put_float (&o, "frequency", set->frequency);
  put_float (&o, "actualFrequency", s->actual_frequency);
  put_str (&o, "ssid", set->ssid);
  put_str (&o, "macAddr", view->mac);
  put_str (&o, "hostname", set->hostname);
  put_str (&o, "ipv4", view->ipv4);
  append_link_local (KEY (&o, "ipv6"), view->mac);
  put_str (&o, "wifiStatus", "Connected!");
  put_int (&o, "wifiRSSI", s->wifi_rssi);
  /* Only while there is one. */
  if (s->power_fault != NULL)
    put_str (&o, "power_fault", s->power_fault);
  if (s->hardware_fault != NULL)
    put_str (&o, "hardware_fault", s->hardware_fault);
  put_int (&o, "apEnabled", 0);
  put_int (&o, "sharesAccepted", (gint64) s->shares_accepted);
  put_int (&o, "sharesRejected", (gint64) s->shares_rejected);
  put_int (&o, "sharesPending", 0);
  write_rejected_reasons (&o, s);
  put_int (&o, "uptimeSeconds", (gint64) s->uptime_seconds);
  put_int (&o, "totalUptimeSeconds", (gint64) s->total_uptime_seconds);
  put_number (&o, "totalHashes", (double) whole (s->total_hashes), 0);
  put_number (&o, "totalLog2Work", log2_of (s->total_hashes), 7);
  put_float (&o, "cpuUsage", s->cpu_usage);
  put_int (&o, "smallCoreCount", board->small_core_count);
  put_str (&o, "ASICModel", board->asic_model);
  write_pools (&o, set);
  put_int (&o, "primaryPoolIndex", set->primary_pool_index);
  put_int (&o, "secondaryPoolIndex", set->secondary_pool_index);
  write_flat_pool (&o, "stratum", primary);
  write_flat_pool (&o, "fallbackStratum", secondary);
  put_int (&o, "useFallbackStratum", set->use_fallback_stratum ? 1 : 0);
  put_float (&o, "responseTime", s->response_time);
  put_int (&o, "responseShareBatch", 1);
  /* ASIC result to submit: a small share of the pool's round trip. */
  put_float (&o, "processTime", 0.4 + s->response_time / 100.0);
  put_int (&o, "workReceived", (gint64) s->work_received);
  put_str (&o, "version", view->firmware);
  put_str (&o, "axeOSVersion", view->firmware);
  put_str (&o, "idfVersion", IDF_VERSION);
  put_str (&o, "boardVersion", view->board_version);
  put_str (&o, "resetReason", view->reset_reason != NULL ? view->reset_reason : "Reset due to power-on event");
  put_str (&o, "runningPartition", view->running_partition != NULL ? view->running_partition : "ota_0");
  write_partitions (&o, view);
  /* The power management loop's copy of the stored latch. */
  put_int (&o, "overheat_mode", s->overheat_mode ? 1 : 0);
  put_bool (&o, "miningPaused", s->paused);
  put_int (&o, "overclockEnabled", set->overclock_enabled ? 1 : 0);
  put_str (&o, "display", set->display);
  put_int (&o, "rotation", set->rotation);
  put_int (&o, "invertscreen", set->invert_screen ? 1 : 0);
  put_int (&o, "displayTimeout", set->display_timeout);
  put_int (&o, "autofanspeed", set->autofanspeed ? 1 : 0);
  put_float (&o, "fanspeed", s->fan_duty);
  put_int (&o, "manualFanSpeed", set->manual_fan_speed);
  put_int (&o, "minFanSpeed", set->min_fan_speed);
  put_int (&o, "temptarget", set->temp_target);
  put_int (&o, "fanrpm", s->fan_rpm);
  put_int (&o, "fan2rpm", 0);
  put_int (&o, "statsFrequency", set->stats_frequency);
  put_int (&o, "statsLimit", STATS_LIMIT_REPORTED);
  put_int (&o, "useCustomWWW", set->use_custom_www ? 1 : 0);
  put_int (&o, "blockFound", view->block_found);
  put_bool (&o, "showNewBlock", view->show_new_block);
  if (s->block_height > 0)
    write_block (&o, s, active);
  write_hashrate_monitor (&o, board, s);
  if (http)
    {
      GString *value = KEY (&o, "fullHostname");
      gsize start;

      pm_json_append_string (value, set->hostname != NULL ? set->hostname : "");
      /* Inside the closing quote: a hostname is plain text, the suffix
       * needs no escaping. */
      start = value->len - 1;
      g_string_insert (value, (gssize) start, ".local");
    }
  obj_end (&o);
}

/* ---- AxeOS /api/system/asic and /scoreboard ------------------------------ */

static void
append_uint_array (GString     *out,
                   const guint *values,
                   gsize        n)
{
  gsize i;

  g_string_append_c (out, '[');
  for (i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      pm_json_append_int (out, values[i]);
    }
  g_string_append_c (out, ']');
}

/**
 * pm_axeos_write_asic:
 * @out: where to write
 * @board: the model
 *
 * Writes the AxeOS `GET /api/system/asic` object.
 */
void
pm_axeos_write_asic (GString       *out,
                     const PmBoard *board)
{
  Obj o;

  g_return_if_fail (out != NULL && board != NULL);

  obj_begin (&o, out);
  put_str (&o, "ASICModel", board->asic_model);
  put_str (&o, "deviceModel", board->device_model);
  put_str (&o, "swarmColor", board->swarm_color);
  put_int (&o, "asicCount", board->asic_count);
  put_int (&o, "hashDomains", board->hash_domains);
  put_int (&o, "defaultFrequency", board->default_frequency);
  append_uint_array (KEY (&o, "frequencyOptions"), board->frequency_options, board->n_frequency_options);
  put_int (&o, "defaultVoltage", board->default_voltage);
  append_uint_array (KEY (&o, "voltageOptions"), board->voltage_options, board->n_voltage_options);
  obj_end (&o);
}

/**
 * pm_axeos_write_scoreboard:
 * @out: where to write
 * @state: the miner
 *
 * Writes the AxeOS `GET /api/system/scoreboard` array: the session's
 * best shares, best first, at most 20.
 */
void
pm_axeos_write_scoreboard (GString            *out,
                           const PmMinerState *state)
{
  guint n, i;

  g_return_if_fail (out != NULL && state != NULL);

  n = MIN (state->n_scoreboard, PM_MINER_SCOREBOARD_SIZE);
  g_string_append_c (out, '[');
  for (i = 0; i < n; i++)
    {
      const PmMinerShare *share = &state->scoreboard[i];
      Obj o;

      if (i > 0)
        g_string_append_c (out, ',');
      obj_begin (&o, out);
      put_number (&o, "difficulty", share->difficulty, 3);
      g_string_append_c (KEY (&o, "job_id"), '"');
      append_hex (out, share->job_id, 1, FALSE);
      pm_json_append_raw (out, "\"");
      g_string_append_c (KEY (&o, "extranonce2"), '"');
      append_hex (out, share->extranonce2, 16, FALSE);
      g_string_append_c (out, '"');
      put_int (&o, "ntime", share->ntime);
      g_string_append_c (KEY (&o, "nonce"), '"');
      append_hex (out, share->nonce, 8, TRUE);
      g_string_append_c (out, '"');
      g_string_append_c (KEY (&o, "version_bits"), '"');
      append_hex (out, share->version_bits, 8, FALSE);
      g_string_append_c (out, '"');
      obj_end (&o);
    }
  g_string_append_c (out, ']');
}

/* ---- NerdQAxe+ ----------------------------------------------------------- */

/* The NerdQAxe+ board's own constants, which PmBoard does not carry. */
#define NERD_ABS_MAX_FREQUENCY 800
#define NERD_ABS_MAX_VOLTAGE   1400
#define NERD_SWARM_COLOR       "#e700d8"
#define NERD_VR_FREQUENCY      35488  /* BM1368: 196.608 MHz / 0x15a4 */
#define NERD_DEFAULT_THEME     "cosmic"
#define NERD_PID_TARGET_VR     65
#define NERD_POOL_BALANCE      50

/* NerdQAxe+ floats: three decimals are all its UI shows. */
#define NERD_DECIMALS 3

#define put_nerd(o, name, value) put_number (o, name, value, NERD_DECIMALS)

/* The i18n key of the reset reason, from the ESP-IDF reason the view
 * carries as AxeOS words it. */
static const char *
nerd_reset_key (const char *reason)
{
  if (reason == NULL || contains (reason, "power-on"))
    return "SYSTEM.RESET_POWERON";
  if (contains (reason, "esp_restart"))
    return "SYSTEM.RESET_SOFTWARE";
  if (contains (reason, "panic"))
    return "SYSTEM.RESET_PANIC";
  if (contains (reason, "interrupt watchdog"))
    return "SYSTEM.RESET_INT_WATCHDOG";
  if (contains (reason, "task watchdog"))
    return "SYSTEM.RESET_TASK_WATCHDOG";
  if (contains (reason, "watchdog"))
    return "SYSTEM.RESET_OTHER_WATCHDOG";
  if (contains (reason, "Brownout"))
    return "SYSTEM.RESET_BROWNOUT";
  if (contains (reason, "deep sleep"))
    return "SYSTEM.RESET_DEEPSLEEP";
  if (contains (reason, "external pin"))
    return "SYSTEM.RESET_EXTERNAL";
  if (contains (reason, "can not be determined"))
    return "SYSTEM.RESET_UNKNOWN";
  return "SYSTEM.RESET_NOT_SPECIFIED";
}

static double
nerd_max_chip_temp (const PmBoard      *board,
                    const PmMinerState *s)
{
  guint n = MIN (board->asic_count, G_N_ELEMENTS (s->asic_temps));
  double max;
  guint i;

  if (n == 0)
    return s->temp;
  max = s->asic_temps[0];
  for (i = 1; i < n; i++)
    max = MAX (max, s->asic_temps[i]);
  return max;
}

static void
write_nerd_pid (Obj    *o,
                guint   target)
{
  Obj p;

  obj_begin (&p, KEY (o, "pid"));
  put_int (&p, "targetTemp", target);
  put_nerd (&p, "p", 6.0);
  put_nerd (&p, "i", 0.1);
  put_nerd (&p, "d", 10.0);
  obj_end (&p);
}

/* Two fans: M2 on the ASICs, the one the miner's state follows, and M1
 * on the regulator, a little slower. */
static void
write_nerd_fans (Obj                *o,
                 const PmMinerState *s,
                 const PmSettings   *set)
{
  GString *out = KEY (o, "fans");
  Obj f;

  g_string_append_c (out, '[');
  obj_begin (&f, out);
  put_str (&f, "label", "M2");
  put_int (&f, "mode", set->autofanspeed ? 1 : 0);
  put_int (&f, "manualSpeed", set->manual_fan_speed);
  put_int (&f, "overheatTemp", set->overheat_temp);
  put_int (&f, "rpm", s->fan_rpm);
  put_nerd (&f, "speedPerc", s->fan_duty);
  write_nerd_pid (&f, set->temp_target);
  obj_end (&f);
  g_string_append_c (out, ',');
  obj_begin (&f, out);
  put_str (&f, "label", "M1");
  put_int (&f, "mode", set->autofanspeed ? 1 : 0);
  put_int (&f, "manualSpeed", set->manual_fan_speed);
  put_int (&f, "overheatTemp", set->overheat_temp);
  put_int (&f, "rpm", s->fan_rpm / 10 * 9);
  put_nerd (&f, "speedPerc", s->fan_duty * 0.9);
  write_nerd_pid (&f, NERD_PID_TARGET_VR);
  obj_end (&f);
  g_string_append_c (out, ']');
}

static void
write_nerd_stratum (Obj                *o,
                    const PmMinerState *s,
                    const PmPool       *primary,
                    const PmPool       *secondary)
{
  const PmPool *active = s->using_fallback ? secondary : primary;
  GString *out;
  Obj st, p;

  obj_begin (&st, KEY (o, "stratum"));
  put_int (&st, "poolMode", 0);
  put_int (&st, "activePoolMode", 0);
  put_int (&st, "poolBalance", NERD_POOL_BALANCE);
  put_number (&st, "totalBestDiff", (double) whole (s->best_diff), 0);
  put_bool (&st, "usingFallback", s->using_fallback);
  out = KEY (&st, "pools");
  g_string_append_c (out, '[');
  obj_begin (&p, out);
  put_bool (&p, "connected", pool_is_set (active) && s->pool_connected);
  put_str (&p, "verifyBlocked", "");
  put_nerd (&p, "poolDifficulty", s->pool_difficulty);
  put_nerd (&p, "networkDifficulty", s->network_difficulty);
  put_bool (&p, "poolDiffErr", FALSE);
  put_int (&p, "accepted", (gint64) s->shares_accepted);
  put_int (&p, "rejected", (gint64) s->shares_rejected);
  put_nerd (&p, "pingRtt", s->response_time);
  put_nerd (&p, "pingLoss", 0.0);
  put_number (&p, "bestDiff", (double) whole (s->best_session_diff), 0);
  put_int (&p, "activeProtocol", pool_is_set (active) && g_strcmp0 (active->protocol, "SV2") == 0 ? 1 : 0);
  put_bool (&p, "encrypted", pool_is_set (active) && (active->tls > 0 || g_strcmp0 (active->protocol, "SV2") == 0));
  obj_end (&p);
  g_string_append_c (out, ']');
  obj_end (&st);
}

static void
write_nerd_flat_pool (Obj          *o,
                      const char   *prefix,
                      const PmPool *pool)
{
  gboolean set = pool_is_set (pool);

  pm_json_append_string (KEY2 (o, prefix, "URL"), set ? pool->url : "");
  pm_json_append_int (KEY2 (o, prefix, "Port"), set ? pool->port : 0);
  pm_json_append_string (KEY2 (o, prefix, "User"), set && pool->user != NULL ? pool->user : "");
  append_bool (KEY2 (o, prefix, "EnonceSubscribe"), set && pool->extranonce_subscribe);
  append_bool (KEY2 (o, prefix, "TLS"), set && pool->tls > 0);
}

static void
write_nerd_info (GString              *out,
                 const PmFirmwareView *view,
                 const PmStats        *stats,
                 guint64               ts_ms,
                 guint                 limit,
                 guint64               span_ms,
                 guint64               cur_ms)
{
  const PmBoard *board = view->board;
  const PmMinerState *s = view->state;
  const PmSettings *set = view->settings;
  const PmPool *primary = pool_at (set, set->primary_pool_index);
  const PmPool *secondary = pool_at (set, set->secondary_pool_index);
  gboolean shutdown = s->paused;
  guint n_asics = MIN (board->asic_count, G_N_ELEMENTS (s->asic_temps));
  guint i;
  GString *value;
  Obj o;

  obj_begin (&o, out);
  put_int (&o, "asicCount", board->asic_count);
  put_int (&o, "smallCoreCount", board->small_core_count);
  put_str (&o, "deviceModel", board->device_model);
  put_str (&o, "hostip", view->ipv4);
  put_str (&o, "macAddr", view->mac);
  put_int (&o, "wifiRSSI", s->wifi_rssi);

  put_nerd (&o, "power", s->power);
  put_int (&o, "maxPower", board->max_power);
  put_int (&o, "minPower", board->min_power);
  put_int (&o, "maxVoltage", board->nominal_voltage + 1);
  put_int (&o, "minVoltage", board->nominal_voltage > 0 ? board->nominal_voltage - 1 : 0);
  put_nerd (&o, "current", s->current);
  put_nerd (&o, "currentA", s->current / 1000.0);
  put_nerd (&o, "minCurrentA", 0.0);
  put_nerd (&o, "maxCurrentA",
            board->nominal_voltage > 0 ? (double) ((board->max_power + board->nominal_voltage - 1) / board->nominal_voltage) : 0.0);
  put_nerd (&o, "temp", nerd_max_chip_temp (board, s));
  put_nerd (&o, "vrTemp", s->vr_temp);
  /* The regulator's own die runs warmer than the board sensor by it. */
  put_nerd (&o, "vrTempInt", s->vr_temp > 0 ? s->vr_temp + 6.0 : 0.0);
  put_int (&o, "hashRateTimestamp", s->ms_since_boot);
  put_nerd (&o, "hashRate", shutdown ? 0.0 : s->hashrate);
  put_nerd (&o, "hashRate_1m", shutdown ? 0.0 : s->hashrate_1m);
  put_nerd (&o, "hashRate_10m", shutdown ? 0.0 : s->hashrate_10m);
  put_nerd (&o, "hashRate_1h", shutdown ? 0.0 : s->hashrate_1h);
  put_nerd (&o, "hashRate_1d", shutdown ? 0.0 : s->hashrate_1d);
  put_int (&o, "coreVoltage", set->core_voltage);
  put_int (&o, "defaultCoreVoltage", board->default_voltage);
  put_int (&o, "coreVoltageActual", (gint64) s->core_voltage_actual);
  put_nerd (&o, "fanspeed", s->fan_duty);
  put_int (&o, "manualFanSpeed", set->manual_fan_speed);
  put_int (&o, "fanrpm", s->fan_rpm);
  put_int (&o, "fanrpm2", s->fan_rpm / 10 * 9);
  put_nerd (&o, "fanspeed2", s->fan_duty * 0.9);
  put_int (&o, "fanCount", 2);

  put_nerd (&o, "lastpingrtt", s->response_time);
  put_nerd (&o, "recentpingloss", 0.0);
  put_bool (&o, "shutdown", shutdown);
  pm_json_append_raw (KEY (&o, "can"), "{\"hasExtension\":false,\"enabled\":false}");
  put_int (&o, "duplicateHWNonces", 0);

  write_nerd_stratum (&o, s, primary, secondary);
  put_nerd (&o, "poolDifficulty", s->pool_difficulty);
  put_nerd (&o, "networkDifficulty", s->network_difficulty);
  put_int (&o, "foundBlocks", view->block_found);
  put_int (&o, "totalFoundBlocks", view->block_found);
  put_int (&o, "sharesAccepted", (gint64) s->shares_accepted);
  put_int (&o, "sharesRejected", (gint64) s->shares_rejected);
  put_number (&o, "bestDiff", (double) whole (s->best_diff), 0);
  put_number (&o, "bestSessionDiff", (double) whole (s->best_session_diff), 0);

  value = KEY (&o, "blockHeaders");
  g_string_append_c (value, '[');
  if (s->block_height > 0)
    {
      Obj b;

      obj_begin (&b, value);
      put_int (&b, "pool", 0);
      put_int (&b, "blockHeight", (gint64) s->block_height);
      put_nerd (&b, "networkDifficulty", s->network_difficulty);
      put_str (&b, "scriptsig", pool_tag (s->using_fallback ? secondary : primary));
      obj_end (&b);
    }
  g_string_append_c (value, ']');
  put_int (&o, "coinbaseVerifyMode", 0);
  put_nerd (&o, "coinbaseMaxFee", 0.0);
  put_bool (&o, "coinbaseVerifyForce", FALSE);
  put_int (&o, "fallbackCoinbaseVerifyMode", 0);
  put_nerd (&o, "fallbackCoinbaseMaxFee", 0.0);
  put_bool (&o, "fallbackCoinbaseVerifyForce", FALSE);

  value = KEY (&o, "asicTemps");
  g_string_append_c (value, '[');
  for (i = 0; i < n_asics; i++)
    {
      if (i > 0)
        g_string_append_c (value, ',');
      append_number (value, s->asic_temps[i], NERD_DECIMALS);
    }
  g_string_append_c (value, ']');

  if (stats != NULL && !shutdown)
    pm_nerdqaxe_write_history (KEY (&o, "history"), stats, ts_ms, limit, span_ms, cur_ms, s->ms_since_boot);

  put_int (&o, "pidTargetTemp", set->temp_target);
  put_nerd (&o, "pidP", 6.0);
  put_nerd (&o, "pidI", 0.1);
  put_nerd (&o, "pidD", 10.0);
  write_nerd_fans (&o, s, set);

  put_str (&o, "hostname", set->hostname);
  put_str (&o, "ssid", set->ssid);
  write_nerd_flat_pool (&o, "stratum", primary);
  write_nerd_flat_pool (&o, "fallbackStratum", secondary);
  put_str (&o, "stratumProtocol", pool_is_set (primary) && primary->protocol != NULL ? primary->protocol : "SV1");
  put_str (&o, "fallbackStratumProtocol",
           pool_is_set (secondary) && secondary->protocol != NULL ? secondary->protocol : "SV1");
  put_str (&o, "sv2AuthorityPubkey", pool_is_set (primary) ? primary->v2_authority_pubkey : "");
  put_str (&o, "fallbackSv2AuthorityPubkey", pool_is_set (secondary) ? secondary->v2_authority_pubkey : "");
  put_str (&o, "sv2ChannelType",
           pool_is_set (primary) && primary->v2_channel_type != NULL ? primary->v2_channel_type : "standard");
  put_str (&o, "fallbackSv2ChannelType",
           pool_is_set (secondary) && secondary->v2_channel_type != NULL ? secondary->v2_channel_type : "standard");
  put_nerd (&o, "voltage", s->voltage);
  put_int (&o, "frequency", whole (set->frequency));
  put_int (&o, "defaultFrequency", board->default_frequency);
  put_int (&o, "jobInterval", set->job_interval);
  put_int (&o, "stratumDifficulty", set->stratum_difficulty);
  put_int (&o, "overheat_temp", set->overheat_temp);
  put_int (&o, "flipscreen", set->flipscreen ? 1 : 0);
  put_int (&o, "invertscreen", set->invert_screen ? 1 : 0);
  put_int (&o, "autoscreenoff", set->autoscreenoff ? 1 : 0);
  put_int (&o, "invertfanpolarity", set->invertfanpolarity ? 1 : 0);
  put_int (&o, "autofanspeed", set->autofanspeed ? 1 : 0);
  put_int (&o, "stratum_keep", 0);
  put_int (&o, "vrFrequency", NERD_VR_FREQUENCY);
  put_int (&o, "defaultVrFrequency", NERD_VR_FREQUENCY);
  put_bool (&o, "otp", FALSE);

  put_str (&o, "ASICModel", board->asic_model);
  put_int (&o, "uptimeSeconds", (gint64) s->uptime_seconds);
  put_str (&o, "lastResetReason", nerd_reset_key (view->reset_reason));
  put_str (&o, "wifiStatus", "Connected!");
  put_int (&o, "freeHeap", (gint64) s->free_heap_spiram);
  put_int (&o, "freeHeapInt", (gint64) s->free_heap_internal);
  put_str (&o, "version", view->firmware);
  put_str (&o, "runningPartition", view->running_partition != NULL ? view->running_partition : "ota_0");
  put_str (&o, "defaultTheme", NERD_DEFAULT_THEME);
  obj_end (&o);
}

/**
 * pm_nerdqaxe_write_info:
 * @out: where to write
 * @view: the device
 *
 * Writes the NerdQAxe+ `GET /api/system/info` object, without
 * `history`.
 */
void
pm_nerdqaxe_write_info (GString              *out,
                        const PmFirmwareView *view)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (view != NULL && view->board != NULL && view->state != NULL && view->settings != NULL);

  write_nerd_info (out, view, NULL, 0, 0, 0, 0);
}

void
pm_nerdqaxe_write_info_with_history (GString              *out,
                                     const PmFirmwareView *view,
                                     const PmStats        *stats,
                                     guint64               ts_ms,
                                     guint                 limit,
                                     guint64               span_ms,
                                     guint64               cur_ms)
{
  g_return_if_fail (out != NULL && stats != NULL);
  g_return_if_fail (view != NULL && view->board != NULL && view->state != NULL && view->settings != NULL);

  write_nerd_info (out, view, stats, ts_ms, limit, span_ms, cur_ms);
}

/**
 * pm_nerdqaxe_write_asic:
 * @out: where to write
 * @board: the model
 *
 * Writes the NerdQAxe+ `GET /api/system/asic` object: AxeOS's, less
 * `hashDomains`, plus the absolute limits and the eco settings (0 where
 * the board has none, as on the NerdQAxe+).
 */
void
pm_nerdqaxe_write_asic (GString       *out,
                        const PmBoard *board)
{
  Obj o;

  g_return_if_fail (out != NULL && board != NULL);

  obj_begin (&o, out);
  put_str (&o, "ASICModel", board->asic_model);
  put_str (&o, "deviceModel", board->device_model);
  put_int (&o, "asicCount", board->asic_count);
  put_int (&o, "defaultFrequency", board->default_frequency);
  put_int (&o, "defaultVoltage", board->default_voltage);
  put_int (&o, "absMaxFrequency", NERD_ABS_MAX_FREQUENCY);
  put_int (&o, "absMaxVoltage", NERD_ABS_MAX_VOLTAGE);
  put_int (&o, "ecoFrequency", 0);
  put_int (&o, "ecoVoltage", 0);
  put_str (&o, "swarmColor", board->swarm_color != NULL ? board->swarm_color : NERD_SWARM_COLOR);
  append_uint_array (KEY (&o, "frequencyOptions"), board->frequency_options, board->n_frequency_options);
  append_uint_array (KEY (&o, "voltageOptions"), board->voltage_options, board->n_voltage_options);
  obj_end (&o);
}

/* strtoull's reading, as the firmware reads its query: leading digits,
 * 0 without any. */
static guint64
query_number (GHashTable *query,
              const char *name)
{
  const char *text = query != NULL ? g_hash_table_lookup (query, name) : NULL;

  if (text == NULL)
    return 0;
  return g_ascii_strtoull (text, NULL, 10);
}

gboolean
pm_nerdqaxe_parse_history_query (GHashTable *query,
                                 guint64    *out_ts_ms,
                                 guint      *out_limit,
                                 guint64    *out_span_ms,
                                 guint64    *out_cur_ms)
{
  guint64 ts = query_number (query, "ts");
  guint64 limit = query_number (query, "limit");
  guint64 span = query_number (query, "history_span");

  if (out_ts_ms != NULL)
    *out_ts_ms = ts;
  if (out_limit != NULL)
    *out_limit = (guint) MIN (limit, PM_NERDQAXE_HISTORY_MAX_POINTS);
  if (out_span_ms != NULL)
    *out_span_ms = span == 0 ? PM_NERDQAXE_HISTORY_SPAN_MS : MIN (span, PM_NERDQAXE_HISTORY_MAX_SPAN_MS);
  if (out_cur_ms != NULL)
    *out_cur_ms = query_number (query, "cur");
  return ts != 0;
}

static void
append_history_column (GString       *out,
                       const char    *name,
                       const PmStats *stats,
                       guint          first,
                       guint          n,
                       PmStatsColumn  column)
{
  guint r;

  g_string_append_c (out, '"');
  pm_json_append_raw (out, name);
  pm_json_append_raw (out, "\":[");
  for (r = 0; r < n; r++)
    {
      float v = (float) pm_stats_get_value (stats, first + r, column);

      if (r > 0)
        g_string_append_c (out, ',');
      /* The firmware's (int) (value * 100.0f): truncated. */
      pm_json_append_int (out, isfinite (v) ? (gint64) (v * 100.0f) : 0);
    }
  pm_json_append_raw (out, "],");
}

void
pm_nerdqaxe_write_history (GString       *out,
                           const PmStats *stats,
                           guint64        ts_ms,
                           guint          limit,
                           guint64        span_ms,
                           guint64        cur_ms,
                           gint64         now_ms)
{
  guint64 span = span_ms == 0 ? PM_NERDQAXE_HISTORY_SPAN_MS : MIN (span_ms, PM_NERDQAXE_HISTORY_MAX_SPAN_MS);
  gint64 sys_start, sys_end;
  guint n_rows, first, n = 0, r;
  gboolean has_more = FALSE;

  g_return_if_fail (out != NULL && stats != NULL);

  limit = MIN (limit, PM_NERDQAXE_HISTORY_MAX_POINTS);
  /* The client's start, moved to the device's clock by the client's
   * idea of now. */
  sys_start = now_ms + ((gint64) ts_ms - (gint64) cur_ms);
  sys_end = sys_start + (gint64) span;

  n_rows = pm_stats_get_n_rows (stats);
  for (first = 0; first < n_rows; first++)
    {
      if (pm_stats_get_timestamp (stats, first) >= sys_start)
        break;
    }
  for (r = first; r < n_rows && pm_stats_get_timestamp (stats, r) <= sys_end; r++)
    {
      if (limit != 0 && n == limit)
        {
          has_more = TRUE;
          break;
        }
      n++;
    }

  g_string_append_c (out, '{');
  append_history_column (out, "hashrate_1m", stats, first, n, PM_STATS_HASHRATE_1M);
  append_history_column (out, "hashrate_10m", stats, first, n, PM_STATS_HASHRATE_10M);
  append_history_column (out, "hashrate_1h", stats, first, n, PM_STATS_HASHRATE_1H);
  append_history_column (out, "hashrate_1d", stats, first, n, PM_STATS_HASHRATE_1D);
  pm_json_append_raw (out, "\"timestamps\":[");
  for (r = 0; r < n; r++)
    {
      if (r > 0)
        g_string_append_c (out, ',');
      pm_json_append_int (out, pm_stats_get_timestamp (stats, first + r) - sys_start);
    }
  pm_json_append_raw (out, "],");
  append_history_column (out, "vregTemp", stats, first, n, PM_STATS_VR_TEMP);
  append_history_column (out, "asicTemp", stats, first, n, PM_STATS_ASIC_TEMP);
  pm_json_append_raw (out, "\"timestampBase\":");
  pm_json_append_int (out, (gint64) ts_ms);
  pm_json_append_raw (out, ",\"hasMore\":");
  append_bool (out, has_more);
  g_string_append_c (out, '}');
}
