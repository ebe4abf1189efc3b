/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-axeos"

#include "config.h"

#include <math.h>  /* the macros only: the tests link without libm */
#include <string.h>

#include "axeos-fields.h"
#include "pm-axeos.h"
#include "pm-stats.h"

/*
 * Unit tests of the firmware writers and the statistics ring: each
 * document is parsed back with json-glib and checked against the field
 * tables of axeos-fields.h and against the state it was written from.
 */

#define MAC "02:1A:2B:3C:4D:5E"
#define IPV4 "192.168.1.42"
#define SECRET "hunter2-secret"

/* ---- fixtures ------------------------------------------------------------ */

typedef struct
{
  PmMinerState state;
  PmSettings  *settings;
  PmFirmwareView view;
} Device;

static char *
pool_url (guint slot)
{
  return g_strdup_printf ("pool%u.example.org", slot);
}

static void
set_pool (PmSettings *settings,
          guint       slot,
          gboolean    tls)
{
  PmPool *pool = &settings->pools[slot];

  pool->url = pool_url (slot);
  pool->port = 3333 + slot;
  pool->user = g_strdup_printf ("bc1qslot%uwallet.worker%u", slot, slot);
  pool->password = g_strdup_printf ("%s-%u", SECRET, slot);
  pool->protocol = g_strdup ("SV1");
  pool->suggested_difficulty = 1000 + slot;
  pool->extranonce_subscribe = slot % 2 == 0;
  pool->tls = tls ? 1 : 0;
  pool->cert = g_strdup ("");
  pool->decode_coinbase = slot % 2 == 1;
  pool->v2_channel_type = g_strdup ("standard");
  pool->v2_authority_pubkey = g_strdup ("");
  pool->v2_require_auth = FALSE;
}

/* The settings a fresh device has, built by hand: the writers only read
 * the plain structure. */
static PmSettings *
settings_new (const PmBoard *board,
              const char    *hostname)
{
  PmSettings *settings = g_new0 (PmSettings, 1);

  settings->hostname = g_strdup (hostname);
  settings->ssid = g_strdup ("HomeNet");
  settings->wifi_pass = g_strdup (SECRET "-wifi");
  settings->frequency = board->default_frequency;
  settings->core_voltage = board->default_voltage;
  settings->autofanspeed = TRUE;
  settings->manual_fan_speed = 100;
  settings->min_fan_speed = 25;
  settings->temp_target = 60;
  settings->display = g_strdup ("SSD1306 (128x32)");
  settings->display_timeout = -1;
  settings->stats_frequency = 0;
  settings->primary_pool_index = 0;
  settings->secondary_pool_index = 1;
  set_pool (settings, 0, FALSE);
  set_pool (settings, 1, FALSE);
  settings->theme_color_scheme = g_strdup ("dark");
  settings->theme_primary_color = g_strdup ("#F80421");
  settings->job_interval = 1200;
  settings->stratum_difficulty = 1000;
  settings->overheat_temp = 70;
  settings->flipscreen = TRUE;
  settings->invertfanpolarity = TRUE;
  return settings;
}

static void
settings_free (PmSettings *settings)
{
  guint i;

  for (i = 0; i < PM_SETTINGS_N_POOLS; i++)
    {
      PmPool *pool = &settings->pools[i];

      g_free (pool->url);
      g_free (pool->user);
      g_free (pool->password);
      g_free (pool->protocol);
      g_free (pool->cert);
      g_free (pool->v2_channel_type);
      g_free (pool->v2_authority_pubkey);
    }
  g_free (settings->hostname);
  g_free (settings->ssid);
  g_free (settings->wifi_pass);
  g_free (settings->display);
  g_free (settings->theme_color_scheme);
  g_free (settings->theme_primary_color);
  g_free (settings);
}

static double
absd (double value)
{
  return value < 0 ? -value : value;
}

static double
rnd (double lo,
     double hi)
{
  return g_test_rand_double_range (lo, hi);
}

/* A miner state of random, plausible values: what the tests compare the
 * documents with. */
static void
fill_state (PmMinerState  *s,
            const PmBoard *board)
{
  guint a, d, i;

  memset (s, 0, sizeof *s);
  s->ms_since_boot = g_test_rand_int_range (60000, 90000000);
  s->uptime_seconds = (guint64) (s->ms_since_boot / 1000);
  s->total_uptime_seconds = s->uptime_seconds + (guint64) g_test_rand_int_range (0, 1000000);
  s->total_hashes = rnd (1e12, 1e18);
  s->frequency = board->default_frequency;
  s->actual_frequency = rnd (400, 600);
  s->core_voltage = board->default_voltage;
  s->core_voltage_actual = rnd (1100, 1200);
  s->expected_hashrate = pm_board_expected_hashrate (board, board->default_frequency);
  s->hashrate = rnd (900, 1100);
  s->hashrate_1m = rnd (900, 1100);
  s->hashrate_10m = rnd (900, 1100);
  s->hashrate_1h = rnd (900, 1100);
  s->hashrate_1d = rnd (900, 1100);
  for (a = 0; a < board->asic_count; a++)
    {
      for (d = 0; d < board->hash_domains && d < 4; d++)
        s->domain_hashrate[a][d] = rnd (200, 300);
      s->asic_error_count[a] = (guint64) g_test_rand_int_range (0, 500);
      s->asic_temps[a] = rnd (50, 65);
    }
  s->error_percentage = rnd (0, 3);
  s->power = rnd (14, 20);
  s->voltage = rnd (4900, 5250);
  s->current = rnd (8000, 13000);
  s->temp = rnd (50, 65);
  s->vr_temp = rnd (40, 65);
  s->fan_duty = rnd (20, 100);
  s->fan_rpm = (guint) g_test_rand_int_range (2500, 6000);
  s->shares_accepted = (guint64) g_test_rand_int_range (0, 100000);
  s->shares_rejected = (guint64) g_test_rand_int_range (1, 100);
  s->reject_reasons[0].message = "Above target";
  s->reject_reasons[0].count = (guint64) g_test_rand_int_range (1, 50);
  s->reject_reasons[1].message = "Stale";
  s->reject_reasons[1].count = 0;
  s->reject_reasons[2].message = "Duplicate share";
  s->reject_reasons[2].count = (guint64) g_test_rand_int_range (1, 50);
  s->best_session_diff = (double) g_test_rand_int_range (1000000, 100000000);
  s->best_diff = s->best_session_diff + (double) g_test_rand_int_range (0, 1000000000);
  s->pool_difficulty = g_test_rand_int_range (1000, 65536);
  s->network_difficulty = 126982285146989.0;
  s->block_height = (guint64) g_test_rand_int_range (900000, 1000000);
  s->work_received = (guint64) g_test_rand_int_range (0, 100000);
  s->response_time = rnd (20, 300);
  s->job_id = (guint) g_test_rand_int ();
  s->free_heap = (guint64) g_test_rand_int_range (4000000, 8000000);
  s->free_heap_internal = (guint64) g_test_rand_int_range (50000, 200000);
  s->free_heap_spiram = s->free_heap - s->free_heap_internal;
  s->min_free_heap = s->free_heap_internal / 2;
  s->cpu_usage = rnd (5, 40);
  s->wifi_rssi = g_test_rand_int_range (-80, -30);
  s->paused = FALSE;
  s->pool_connected = TRUE;
  s->n_scoreboard = PM_MINER_SCOREBOARD_SIZE;
  for (i = 0; i < PM_MINER_SCOREBOARD_SIZE; i++)
    {
      PmMinerShare *share = &s->scoreboard[i];

      share->difficulty = rnd (1e6, 1e10);
      share->job_id = (guint) g_test_rand_int ();
      share->extranonce2 = (guint64) g_test_rand_int () << 32 | (guint32) g_test_rand_int ();
      share->ntime = 1700000000u + (guint32) g_test_rand_int_range (0, 100000000);
      share->nonce = (guint32) g_test_rand_int ();
      share->version_bits = (guint32) g_test_rand_int () & 0x1fffe000u;
    }
}

static Device *
device_new (const PmBoard *board,
            const char    *firmware)
{
  Device *dev = g_new0 (Device, 1);

  fill_state (&dev->state, board);
  dev->settings = settings_new (board, "bitaxe-test");
  dev->view.board = board;
  dev->view.board_version = board->board_versions[0];
  dev->view.sensor = pm_board_sensor_of (board, 0);
  dev->view.firmware = firmware;
  dev->view.mac = MAC;
  dev->view.ipv4 = IPV4;
  dev->view.reset_reason = "Software reset via esp_restart";
  dev->view.running_partition = "ota_1";
  dev->view.state = &dev->state;
  dev->view.settings = dev->settings;
  dev->view.block_found = 0;
  dev->view.show_new_block = FALSE;
  return dev;
}

static void
device_free (Device *dev)
{
  settings_free (dev->settings);
  g_free (dev);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Device, device_free)

static JsonNode *
parse (const GString *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text->str, &error);

  if (node == NULL)
    g_error ("not JSON (%s): %s", error->message, text->str);
  return node;
}

static JsonNode *
write_info (const Device *dev,
            gboolean      http)
{
  g_autoptr(GString) out = g_string_new (NULL);

  pm_axeos_write_info (out, &dev->view, http);
  return parse (out);
}

static void
assert_close (double value,
              double expected)
{
  double tolerance = MAX (1e-6, absd (expected) * 1e-6);

  if (absd (value - expected) > tolerance)
    g_error ("%.9g is not %.9g", value, expected);
}

static double
member_number (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  g_assert_nonnull (node);
  g_assert_true (axeos_node_has_type (node, AXEOS_NUMBER));
  return json_node_get_double (node);
}

static gboolean
in_table (const AxeosField *fields,
          gsize             n,
          const char       *name)
{
  gsize i;

  for (i = 0; i < n; i++)
    {
      if (strcmp (fields[i].name, name) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Every member of @object is in @fields: the table misses nothing the
 * writer writes. */
static void
assert_only_table_members (JsonObject       *object,
                           const AxeosField *fields,
                           gsize             n)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &name, &node))
    {
      if (!in_table (fields, n, name))
        g_error ("member %s is not in the field table", name);
    }
}

/* ---- AxeOS info ---------------------------------------------------------- */

static void
test_info_fields (void)
{
  const PmBoard *boards[] = { &pm_board_gamma, &pm_board_supra, &pm_board_ultra };
  gsize b;

  for (b = 0; b < G_N_ELEMENTS (boards); b++)
    {
      g_autoptr(Device) dev = device_new (boards[b], "v2.15.0");
      g_autoptr(JsonNode) http = NULL;
      g_autoptr(JsonNode) live = NULL;
      g_autoptr(JsonNode) no_block = NULL;
      JsonObject *object;
      gsize i;

      http = write_info (dev, TRUE);
      object = json_node_get_object (http);
      axeos_assert_fields (object, axeos_info_fields, G_N_ELEMENTS (axeos_info_fields), AXEOS_BLOCK | AXEOS_HTTP);
      assert_only_table_members (object, axeos_info_fields, G_N_ELEMENTS (axeos_info_fields));
      for (i = 0; axeos_info_forbidden[i] != NULL; i++)
        g_assert_false (json_object_has_member (object, axeos_info_forbidden[i]));

      live = write_info (dev, FALSE);
      axeos_assert_fields (json_node_get_object (live), axeos_info_fields, G_N_ELEMENTS (axeos_info_fields), AXEOS_BLOCK);

      /* No job with a block height yet: no block members. */
      dev->state.block_height = 0;
      no_block = write_info (dev, TRUE);
      axeos_assert_fields (json_node_get_object (no_block), axeos_info_fields, G_N_ELEMENTS (axeos_info_fields), AXEOS_HTTP);
    }
}

static void
test_info_full_hostname (void)
{
  g_autoptr(Device) dev = device_new (&pm_board_gamma, "v2.15.0");
  g_autoptr(JsonNode) http = NULL;
  g_autoptr(JsonNode) live = NULL;
  g_autofree char *expected = NULL;
  JsonObject *object;

  g_free (dev->settings->hostname);
  dev->settings->hostname = g_strdup_printf ("rig-%u", (guint) g_test_rand_int_range (0, 100000));
  expected = g_strconcat (dev->settings->hostname, ".local", NULL);

  http = write_info (dev, TRUE);
  object = json_node_get_object (http);
  g_assert_cmpstr (json_object_get_string_member (object, "fullHostname"), ==, expected);
  g_assert_cmpstr (json_object_get_string_member (object, "hostname"), ==, dev->settings->hostname);
  g_assert_false (json_object_has_member (object, "mdnsHostname"));

  live = write_info (dev, FALSE);
  g_assert_false (json_object_has_member (json_node_get_object (live), "fullHostname"));
  g_assert_false (json_object_has_member (json_node_get_object (live), "mdnsHostname"));

  /* Otherwise the live state is the HTTP object. */
  json_object_remove_member (object, "fullHostname");
  g_assert_true (json_node_equal (http, live));
}

static void
test_info_pools (void)
{
  g_autoptr(Device) dev = device_new (&pm_board_supra, "v2.15.0");
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonNode) node = NULL;
  const guint slots[] = { 0, 1, 3, 6 };
  JsonObject *object;
  JsonArray *pools;
  guint i;

  set_pool (dev->settings, 3, TRUE);
  set_pool (dev->settings, 6, FALSE);
  dev->settings->primary_pool_index = 3;
  dev->settings->secondary_pool_index = 6;

  pm_axeos_write_info (out, &dev->view, TRUE);
  /* No password anywhere, not even the Wi-Fi one. */
  g_assert_null (strstr (out->str, SECRET));
  node = parse (out);
  object = json_node_get_object (node);

  pools = json_object_get_array_member (object, "pools");
  g_assert_cmpuint (json_array_get_length (pools), ==, G_N_ELEMENTS (slots));
  for (i = 0; i < G_N_ELEMENTS (slots); i++)
    {
      JsonObject *pool = json_array_get_object_element (pools, i);
      const PmPool *slot = &dev->settings->pools[slots[i]];

      axeos_assert_fields (pool, axeos_pool_fields, G_N_ELEMENTS (axeos_pool_fields), 0);
      assert_only_table_members (pool, axeos_pool_fields, G_N_ELEMENTS (axeos_pool_fields));
      g_assert_cmpint (json_object_get_int_member (pool, "id"), ==, slots[i]);
      g_assert_cmpstr (json_object_get_string_member (pool, "stratumPassword"), ==, "*****");
      g_assert_cmpstr (json_object_get_string_member (pool, "stratumURL"), ==, slot->url);
      g_assert_cmpint (json_object_get_int_member (pool, "stratumPort"), ==, slot->port);
      g_assert_cmpstr (json_object_get_string_member (pool, "stratumUser"), ==, slot->user);
      g_assert_cmpint (json_object_get_int_member (pool, "stratumTLS"), ==, slot->tls);
      g_assert_cmpint (json_object_get_boolean_member (pool, "stratumExtranonceSubscribe"), ==, slot->extranonce_subscribe);
      assert_close (member_number (pool, "stratumSuggestedDifficulty"), slot->suggested_difficulty);
    }

  /* The flat members: the primary and the secondary slot. */
  g_assert_cmpint (json_object_get_int_member (object, "primaryPoolIndex"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (object, "secondaryPoolIndex"), ==, 6);
  g_assert_cmpstr (json_object_get_string_member (object, "stratumURL"), ==, dev->settings->pools[3].url);
  g_assert_cmpint (json_object_get_int_member (object, "stratumPort"), ==, dev->settings->pools[3].port);
  g_assert_cmpstr (json_object_get_string_member (object, "stratumUser"), ==, dev->settings->pools[3].user);
  g_assert_cmpint (json_object_get_int_member (object, "stratumTLS"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (object, "poolConnectionInfo"), ==, "IPv4 (TLS)");
  g_assert_cmpstr (json_object_get_string_member (object, "fallbackStratumURL"), ==, dev->settings->pools[6].url);
  g_assert_cmpint (json_object_get_int_member (object, "fallbackStratumPort"), ==, dev->settings->pools[6].port);
  g_assert_cmpstr (json_object_get_string_member (object, "fallbackStratumUser"), ==, dev->settings->pools[6].user);
  g_assert_cmpint (json_object_get_int_member (object, "fallbackStratumTLS"), ==, 0);
}

static void
assert_info_relations (const Device *dev,
                       JsonObject   *o)
{
  const PmMinerState *s = &dev->state;
  const PmBoard *board = dev->view.board;
  JsonArray *array;
  JsonObject *monitor;
  guint a, d, i, n;

  assert_close (member_number (o, "power"), s->power);
  assert_close (member_number (o, "voltage"), s->voltage);
  assert_close (member_number (o, "current"), s->current);
  assert_close (member_number (o, "temp"), s->temp);
  assert_close (member_number (o, "temp2"), -1);
  assert_close (member_number (o, "vrTemp"), s->vr_temp);
  assert_close (member_number (o, "hashRate"), s->hashrate);
  assert_close (member_number (o, "hashRate_1m"), s->hashrate_1m);
  assert_close (member_number (o, "hashRate_10m"), s->hashrate_10m);
  assert_close (member_number (o, "hashRate_1h"), s->hashrate_1h);
  assert_close (member_number (o, "expectedHashrate"), s->expected_hashrate);
  assert_close (member_number (o, "errorPercentage"), s->error_percentage);
  assert_close (member_number (o, "coreVoltageActual"), s->core_voltage_actual);
  assert_close (member_number (o, "actualFrequency"), s->actual_frequency);
  assert_close (member_number (o, "fanspeed"), s->fan_duty);
  assert_close (member_number (o, "responseTime"), s->response_time);
  assert_close (member_number (o, "cpuUsage"), s->cpu_usage);
  assert_close (member_number (o, "bestDiff"), s->best_diff);
  assert_close (member_number (o, "bestSessionDiff"), s->best_session_diff);
  g_assert_cmpfloat (member_number (o, "bestDiff"), >=, member_number (o, "bestSessionDiff"));
  assert_close (member_number (o, "poolDifficulty"), s->pool_difficulty);
  assert_close (member_number (o, "totalHashes"), s->total_hashes);
  assert_close (member_number (o, "frequency"), dev->settings->frequency);
  g_assert_cmpint (json_object_get_int_member (o, "coreVoltage"), ==, dev->settings->core_voltage);
  g_assert_cmpint (json_object_get_int_member (o, "fanrpm"), ==, s->fan_rpm);
  g_assert_cmpint (json_object_get_int_member (o, "fan2rpm"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "sharesAccepted"), ==, s->shares_accepted);
  g_assert_cmpint (json_object_get_int_member (o, "sharesRejected"), ==, s->shares_rejected);
  g_assert_cmpint (json_object_get_int_member (o, "sharesPending"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "responseShareBatch"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (o, "workReceived"), ==, s->work_received);
  g_assert_cmpint (json_object_get_int_member (o, "uptimeSeconds"), ==, s->uptime_seconds);
  g_assert_cmpint (json_object_get_int_member (o, "wifiRSSI"), ==, s->wifi_rssi);
  g_assert_cmpint (json_object_get_int_member (o, "freeHeap"), ==, s->free_heap);
  g_assert_cmpint (json_object_get_int_member (o, "freeHeapInternal"), ==, s->free_heap_internal);
  g_assert_cmpint (json_object_get_int_member (o, "freeHeapSpiram"), ==, s->free_heap_spiram);
  g_assert_cmpint (json_object_get_int_member (o, "minFreeHeap"), ==, s->min_free_heap);
  g_assert_cmpint (json_object_get_int_member (o, "maxAllocHeap"), <=, s->free_heap);
  g_assert_cmpint (json_object_get_int_member (o, "statsLimit"), ==, 720);
  g_assert_cmpint (json_object_get_int_member (o, "isUsingFallbackStratum"), ==, s->using_fallback ? 1 : 0);
  g_assert_cmpint (json_object_get_int_member (o, "overheat_mode"), ==, s->overheat_mode ? 1 : 0);
  g_assert_cmpint (json_object_get_int_member (o, "apEnabled"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "isPSRAMAvailable"), ==, 1);
  g_assert_cmpint (json_object_get_boolean_member (o, "miningPaused"), ==, s->paused);
  g_assert_cmpint (json_object_get_int_member (o, "maxPower"), ==, board->max_power);
  g_assert_cmpint (json_object_get_int_member (o, "nominalVoltage"), ==, board->nominal_voltage);
  g_assert_cmpint (json_object_get_int_member (o, "smallCoreCount"), ==, board->small_core_count);
  g_assert_cmpstr (json_object_get_string_member (o, "ASICModel"), ==, board->asic_model);
  g_assert_cmpstr (json_object_get_string_member (o, "boardVersion"), ==, dev->view.board_version);
  g_assert_cmpstr (json_object_get_string_member (o, "version"), ==, dev->view.firmware);
  g_assert_cmpstr (json_object_get_string_member (o, "axeOSVersion"), ==, dev->view.firmware);
  g_assert_cmpstr (json_object_get_string_member (o, "idfVersion"), ==, "v5.5.1");
  g_assert_cmpstr (json_object_get_string_member (o, "macAddr"), ==, MAC);
  g_assert_cmpstr (json_object_get_string_member (o, "ipv4"), ==, IPV4);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "ipv6"), "fe80:"));
  g_assert_cmpstr (json_object_get_string_member (o, "ssid"), ==, dev->settings->ssid);
  g_assert_cmpstr (json_object_get_string_member (o, "wifiStatus"), ==, "Connected!");
  g_assert_cmpstr (json_object_get_string_member (o, "resetReason"), ==, dev->view.reset_reason);
  g_assert_cmpstr (json_object_get_string_member (o, "runningPartition"), ==, dev->view.running_partition);
  g_assert_cmpint (json_object_get_int_member (o, "blockHeight"), ==, s->block_height);

  /* Only the reasons that happened, with their counts. */
  array = json_object_get_array_member (o, "sharesRejectedReasons");
  for (i = 0, n = 0; i < PM_MINER_N_REJECT_REASONS; i++)
    {
      JsonObject *reason;

      if (s->reject_reasons[i].count == 0)
        continue;
      g_assert_cmpuint (n, <, json_array_get_length (array));
      reason = json_array_get_object_element (array, n++);
      g_assert_cmpstr (json_object_get_string_member (reason, "message"), ==, s->reject_reasons[i].message);
      g_assert_cmpint (json_object_get_int_member (reason, "count"), ==, s->reject_reasons[i].count);
    }
  g_assert_cmpuint (json_array_get_length (array), ==, n);

  /* One entry per ASIC, its domains the state's. */
  monitor = json_object_get_object_member (o, "hashrateMonitor");
  array = json_object_get_array_member (monitor, "asics");
  g_assert_cmpuint (json_array_get_length (array), ==, board->asic_count);
  for (a = 0; a < board->asic_count; a++)
    {
      JsonObject *asic = json_array_get_object_element (array, a);
      JsonArray *domains = json_object_get_array_member (asic, "domains");
      double total = 0;

      g_assert_cmpuint (json_array_get_length (domains), ==, board->hash_domains);
      for (d = 0; d < board->hash_domains; d++)
        {
          assert_close (json_array_get_double_element (domains, d), s->domain_hashrate[a][d]);
          total += s->domain_hashrate[a][d];
        }
      assert_close (member_number (asic, "total"), total);
      g_assert_cmpint (json_object_get_int_member (asic, "errorCount"), ==, s->asic_error_count[a]);
    }

  /* The three partitions; the running one is current. */
  array = json_object_get_array_member (o, "partitions");
  g_assert_cmpuint (json_array_get_length (array), ==, 3);
  for (i = 0, n = 0; i < 3; i++)
    {
      JsonObject *partition = json_array_get_object_element (array, i);
      const char *label = json_object_get_string_member (partition, "label");
      gboolean current = json_object_get_boolean_member (partition, "isCurrent");

      g_assert_cmpint (current, ==, strcmp (label, dev->view.running_partition) == 0);
      g_assert_cmpint (json_object_get_boolean_member (partition, "isFactory"), ==, strcmp (label, "factory") == 0);
      if (current)
        {
          axeos_assert_fields (partition, axeos_partition_fields, G_N_ELEMENTS (axeos_partition_fields), 0);
          g_assert_cmpstr (json_object_get_string_member (partition, "version"), ==, dev->view.firmware);
          n++;
        }
      else
        {
          g_assert_true (json_object_has_member (partition, "version"));
          g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (partition, "version")));
        }
    }
  g_assert_cmpuint (n, ==, 1);
}

static void
test_info_relations (void)
{
  const char *partitions[] = { "factory", "ota_0", "ota_1" };
  guint round;

  for (round = 0; round < 12; round++)
    {
      const PmBoard *board = round % 3 == 0 ? &pm_board_gamma : round % 3 == 1 ? &pm_board_supra : &pm_board_ultra;
      g_autoptr(Device) dev = device_new (board, round % 2 == 0 ? "v2.15.0" : "v2.15.1");
      g_autoptr(JsonNode) node = NULL;

      dev->state.paused = round % 4 == 3;
      dev->view.running_partition = partitions[round % 3];
      dev->settings->frequency = rnd (400, 650);
      dev->settings->core_voltage = (guint) g_test_rand_int_range (1000, 1300);
      node = write_info (dev, TRUE);
      assert_info_relations (dev, json_node_get_object (node));
    }
}

/* The faults' members: there while the state has them, with their JSON
 * types, and gone with them. */
static void
test_info_faults (void)
{
  const PmBoard *boards[] = { &pm_board_gamma, &pm_board_supra, &pm_board_ultra };
  gsize b;

  for (b = 0; b < G_N_ELEMENTS (boards); b++)
    {
      g_autoptr(Device) dev = device_new (boards[b], "v2.15.0");
      g_autofree char *power = g_strdup_printf ("Power Fault Detected. (%d)", g_test_rand_int_range (0, 1000));
      const char *hardware = "Fan Control Failed (Auto)";
      guint round;

      for (round = 0; round < 4; round++)
        {
          g_autoptr(JsonNode) http = NULL;
          g_autoptr(JsonNode) live = NULL;
          guint present = (round & 1 ? AXEOS_POWER_FAULT : 0) | (round & 2 ? AXEOS_HARDWARE_FAULT : 0);
          JsonObject *object;

          dev->state.power_fault = round & 1 ? power : NULL;
          dev->state.hardware_fault = round & 2 ? hardware : NULL;
          http = write_info (dev, TRUE);
          object = json_node_get_object (http);
          axeos_assert_fields (object, axeos_info_fields, G_N_ELEMENTS (axeos_info_fields),
                               AXEOS_BLOCK | AXEOS_HTTP | present);
          assert_only_table_members (object, axeos_info_fields, G_N_ELEMENTS (axeos_info_fields));
          if (round & 1)
            g_assert_cmpstr (json_object_get_string_member (object, "power_fault"), ==, power);
          if (round & 2)
            g_assert_cmpstr (json_object_get_string_member (object, "hardware_fault"), ==, hardware);
          live = write_info (dev, FALSE);
          axeos_assert_fields (json_node_get_object (live), axeos_info_fields, G_N_ELEMENTS (axeos_info_fields),
                               AXEOS_BLOCK | present);
        }
    }
}

/* `overheat_mode` is what the firmware reports, not what it stored. */
static void
test_info_overheat_mode (void)
{
  g_autoptr(Device) dev = device_new (&pm_board_gamma, "v2.15.0");
  guint round;

  for (round = 0; round < 4; round++)
    {
      g_autoptr(JsonNode) node = NULL;
      JsonObject *object;

      dev->state.overheat_mode = round & 1;
      dev->settings->overheat_mode = (round & 2) != 0;
      node = write_info (dev, FALSE);
      object = json_node_get_object (node);
      g_assert_true (axeos_node_has_type (json_object_get_member (object, "overheat_mode"), AXEOS_FLAG));
      g_assert_cmpint (json_object_get_int_member (object, "overheat_mode"), ==, round & 1);
    }
}

/* On the fallback pool: the flag, the fallback's difficulty as the state
 * has it, the connection and the block from it; the flat members stay
 * the slots'. */
static void
test_info_fallback (void)
{
  g_autoptr(Device) dev = device_new (&pm_board_gamma, "v2.15.0");
  g_autoptr(JsonNode) primary_node = NULL;
  g_autoptr(JsonNode) fallback_node = NULL;
  g_autoptr(GString) nerd_text = g_string_new (NULL);
  g_autoptr(JsonNode) nerd_node = NULL;
  JsonObject *o, *stratum;

  set_pool (dev->settings, 4, FALSE);
  set_pool (dev->settings, 5, TRUE);
  g_free (dev->settings->pools[5].url);
  dev->settings->pools[5].url = g_strdup ("solo.ckpool.org");
  dev->settings->primary_pool_index = 4;
  dev->settings->secondary_pool_index = 5;

  primary_node = write_info (dev, TRUE);
  o = json_node_get_object (primary_node);
  g_assert_cmpint (json_object_get_int_member (o, "isUsingFallbackStratum"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "poolConnectionInfo"), ==, "IPv4");
  g_assert_cmpstr (json_object_get_string_member (o, "scriptsig"), ==, dev->settings->pools[4].url);

  dev->state.using_fallback = TRUE;
  dev->state.pool_difficulty = 4096;
  fallback_node = write_info (dev, TRUE);
  o = json_node_get_object (fallback_node);
  axeos_assert_fields (o, axeos_info_fields, G_N_ELEMENTS (axeos_info_fields), AXEOS_BLOCK | AXEOS_HTTP);
  g_assert_cmpint (json_object_get_int_member (o, "isUsingFallbackStratum"), ==, 1);
  assert_close (member_number (o, "poolDifficulty"), 4096);
  g_assert_cmpstr (json_object_get_string_member (o, "poolConnectionInfo"), ==, "IPv4 (TLS)");
  g_assert_cmpstr (json_object_get_string_member (o, "scriptsig"), ==, "ckpool");
  g_assert_cmpstr (json_object_get_string_member (o, "stratumURL"), ==, dev->settings->pools[4].url);
  g_assert_cmpstr (json_object_get_string_member (o, "fallbackStratumURL"), ==, "solo.ckpool.org");
  g_assert_cmpint (json_object_get_int_member (o, "useFallbackStratum"), ==, 0);

  /* The NerdQAxe+ says it in its stratum object. */
  dev->view.board = &pm_board_nerdqaxe_plus;
  pm_nerdqaxe_write_info (nerd_text, &dev->view);
  nerd_node = parse (nerd_text);
  stratum = json_object_get_object_member (json_node_get_object (nerd_node), "stratum");
  g_assert_true (json_object_get_boolean_member (stratum, "usingFallback"));
  g_assert_true (json_object_get_boolean_member (json_array_get_object_element (json_object_get_array_member (stratum, "pools"), 0),
                                                 "connected"));
}

static void
test_info_log2_work (void)
{
  g_autoptr(Device) dev = device_new (&pm_board_gamma, "v2.15.0");
  guint k;

  for (k = 20; k < 64; k += 7)
    {
      g_autoptr(JsonNode) exact = NULL;
      g_autoptr(JsonNode) between = NULL;
      double work;

      dev->state.total_hashes = (double) (G_GUINT64_CONSTANT (1) << k);
      exact = write_info (dev, FALSE);
      assert_close (member_number (json_node_get_object (exact), "totalLog2Work"), k);

      dev->state.total_hashes *= 1.5;
      between = write_info (dev, FALSE);
      work = member_number (json_node_get_object (between), "totalLog2Work");
      /* log2 1.5 = 0.58496250072115618 */
      g_assert_cmpfloat (absd (work - k - 0.58496250072115618), <, 1e-6);
    }
}

/* ---- asic and scoreboard ------------------------------------------------- */

/* §2.1 of the device reference, written down apart from pm-board.c. */
typedef struct
{
  const PmBoard *board;
  const char    *asic_model;
  const char    *device_model;
  const char    *swarm_color;
  guint          default_frequency;
  guint          frequencies[10];
  guint          default_voltage;
  guint          voltages[6];
} AsicSpec;

static void
assert_uint_array (JsonArray   *array,
                   const guint *expected,
                   gsize        max)
{
  gsize n = 0, i;

  while (n < max && expected[n] != 0)
    n++;
  g_assert_cmpuint (json_array_get_length (array), ==, n);
  for (i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      g_assert_true (axeos_node_has_type (node, AXEOS_INT));
      g_assert_cmpint (json_node_get_int (node), ==, expected[i]);
    }
}

static void
test_asic (void)
{
  static const AsicSpec specs[] = {
    { &pm_board_gamma, "BM1370", "Gamma", "green", 525, { 400, 490, 525, 550, 600, 625 }, 1150, { 1000, 1060, 1100, 1150, 1200, 1250 } },
    { &pm_board_supra, "BM1368", "Supra", "blue", 490, { 400, 425, 450, 475, 485, 490, 500, 525, 550, 575 }, 1166, { 1100, 1150, 1166, 1200, 1250, 1300 } },
    { &pm_board_ultra, "BM1366", "Ultra", "purple", 485, { 400, 425, 450, 475, 485, 500, 525, 550, 575 }, 1200, { 1100, 1150, 1200, 1250, 1300 } },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      const AsicSpec *spec = &specs[i];
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(JsonNode) node = NULL;
      JsonObject *o;

      pm_axeos_write_asic (out, spec->board);
      node = parse (out);
      o = json_node_get_object (node);
      axeos_assert_fields (o, axeos_asic_fields, G_N_ELEMENTS (axeos_asic_fields), 0);
      assert_only_table_members (o, axeos_asic_fields, G_N_ELEMENTS (axeos_asic_fields));
      g_assert_cmpstr (json_object_get_string_member (o, "ASICModel"), ==, spec->asic_model);
      g_assert_cmpstr (json_object_get_string_member (o, "deviceModel"), ==, spec->device_model);
      g_assert_cmpstr (json_object_get_string_member (o, "swarmColor"), ==, spec->swarm_color);
      g_assert_cmpint (json_object_get_int_member (o, "asicCount"), ==, 1);
      g_assert_cmpint (json_object_get_int_member (o, "hashDomains"), ==, 4);
      g_assert_cmpint (json_object_get_int_member (o, "defaultFrequency"), ==, spec->default_frequency);
      g_assert_cmpint (json_object_get_int_member (o, "defaultVoltage"), ==, spec->default_voltage);
      assert_uint_array (json_object_get_array_member (o, "frequencyOptions"), spec->frequencies, G_N_ELEMENTS (spec->frequencies));
      assert_uint_array (json_object_get_array_member (o, "voltageOptions"), spec->voltages, G_N_ELEMENTS (spec->voltages));
    }
}

static gboolean
is_hex (const char *text,
        gboolean    upper_only)
{
  const char *p;

  if (*text == '\0')
    return FALSE;
  for (p = text; *p != '\0'; p++)
    {
      if (!g_ascii_isxdigit (*p) || (upper_only && g_ascii_islower (*p)))
        return FALSE;
    }
  return TRUE;
}

static void
test_scoreboard (void)
{
  g_autoptr(Device) dev = device_new (&pm_board_gamma, "v2.15.0");
  guint sizes[] = { 0, 1, (guint) g_test_rand_int_range (2, PM_MINER_SCOREBOARD_SIZE), PM_MINER_SCOREBOARD_SIZE };
  gsize k;

  for (k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(JsonNode) node = NULL;
      JsonArray *array;
      guint i;

      dev->state.n_scoreboard = sizes[k];
      pm_axeos_write_scoreboard (out, &dev->state);
      node = parse (out);
      g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
      array = json_node_get_array (node);
      g_assert_cmpuint (json_array_get_length (array), ==, sizes[k]);

      for (i = 0; i < sizes[k]; i++)
        {
          const PmMinerShare *share = &dev->state.scoreboard[i];
          JsonObject *entry = json_array_get_object_element (array, i);
          const char *nonce = json_object_get_string_member (entry, "nonce");
          const char *version_bits = json_object_get_string_member (entry, "version_bits");
          const char *job_id = json_object_get_string_member (entry, "job_id");
          const char *extranonce2 = json_object_get_string_member (entry, "extranonce2");

          axeos_assert_fields (entry, axeos_scoreboard_fields, G_N_ELEMENTS (axeos_scoreboard_fields), 0);
          assert_only_table_members (entry, axeos_scoreboard_fields, G_N_ELEMENTS (axeos_scoreboard_fields));
          g_assert_cmpuint (strlen (nonce), ==, 8);
          g_assert_true (is_hex (nonce, TRUE));
          g_assert_cmpuint (g_ascii_strtoull (nonce, NULL, 16), ==, share->nonce);
          g_assert_cmpuint (strlen (version_bits), ==, 8);
          g_assert_true (is_hex (version_bits, FALSE));
          g_assert_cmpuint (g_ascii_strtoull (version_bits, NULL, 16), ==, share->version_bits);
          g_assert_true (is_hex (job_id, FALSE));
          g_assert_cmpuint (g_ascii_strtoull (job_id, NULL, 16), ==, share->job_id);
          g_assert_true (is_hex (extranonce2, FALSE));
          g_assert_cmpuint (g_ascii_strtoull (extranonce2, NULL, 16), ==, share->extranonce2);
          g_assert_cmpint (json_object_get_int_member (entry, "ntime"), ==, share->ntime);
          g_assert_cmpfloat (absd (member_number (entry, "difficulty") - share->difficulty), <, 0.001);
        }
    }
}

/* ---- statistics ---------------------------------------------------------- */

/* The row the ring keeps for @s, column by column, in label order. */
static double
state_column (const PmMinerState *s,
              const char         *label)
{
  static const struct
  {
    const char *label;
    gsize       offset;
  } columns[] = {
    { "hashrate", G_STRUCT_OFFSET (PmMinerState, hashrate) },
    { "hashrate_1m", G_STRUCT_OFFSET (PmMinerState, hashrate_1m) },
    { "hashrate_10m", G_STRUCT_OFFSET (PmMinerState, hashrate_10m) },
    { "hashrate_1h", G_STRUCT_OFFSET (PmMinerState, hashrate_1h) },
    { "errorPercentage", G_STRUCT_OFFSET (PmMinerState, error_percentage) },
    { "asicTemp", G_STRUCT_OFFSET (PmMinerState, temp) },
    { "vrTemp", G_STRUCT_OFFSET (PmMinerState, vr_temp) },
    { "asicVoltage", G_STRUCT_OFFSET (PmMinerState, core_voltage_actual) },
    { "voltage", G_STRUCT_OFFSET (PmMinerState, voltage) },
    { "power", G_STRUCT_OFFSET (PmMinerState, power) },
    { "current", G_STRUCT_OFFSET (PmMinerState, current) },
    { "fanSpeed", G_STRUCT_OFFSET (PmMinerState, fan_duty) },
    { "responseTime", G_STRUCT_OFFSET (PmMinerState, response_time) },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (columns); i++)
    {
      if (strcmp (columns[i].label, label) == 0)
        return G_STRUCT_MEMBER (double, s, columns[i].offset);
    }
  if (strcmp (label, "asicTemp2") == 0)
    return -1;
  if (strcmp (label, "fanRpm") == 0)
    return s->fan_rpm;
  if (strcmp (label, "fan2Rpm") == 0)
    return 0;
  if (strcmp (label, "wifiRssi") == 0)
    return s->wifi_rssi;
  if (strcmp (label, "freeHeap") == 0)
    return (double) s->free_heap;
  g_error ("no column %s", label);
  return 0;
}

static JsonNode *
write_stats (const PmStats *stats,
             const char    *columns,
             gint64         now_ms)
{
  g_autoptr(GString) out = g_string_new (NULL);
  JsonNode *node;
  JsonObject *o;

  pm_stats_write (stats, out, columns, now_ms);
  node = parse (out);
  o = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (o, "currentTimestamp"), ==, now_ms);
  return node;
}

static guint
label_index (const char *label)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (axeos_stats_labels); i++)
    {
      if (strcmp (axeos_stats_labels[i], label) == 0)
        return i;
    }
  g_error ("unknown label %s", label);
  return 0;
}

static void
test_stats_empty (void)
{
  PmStats stats = { 0 };
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonNode) node = NULL;
  JsonArray *labels;
  guint i;

  g_assert_null (stats.rows);  /* an unused ring holds no memory */
  pm_stats_write (&stats, out, NULL, 4321);
  g_assert_nonnull (strstr (out->str, "\"statistics\":[]"));
  node = parse (out);
  labels = json_object_get_array_member (json_node_get_object (node), "labels");
  g_assert_cmpuint (json_array_get_length (labels), ==, G_N_ELEMENTS (axeos_stats_labels) + 1);
  for (i = 0; i < G_N_ELEMENTS (axeos_stats_labels); i++)
    g_assert_cmpstr (json_array_get_string_element (labels, i), ==, axeos_stats_labels[i]);
  g_assert_cmpstr (json_array_get_string_element (labels, i), ==, "timestamp");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "currentTimestamp"), ==, 4321);
}

static void
test_stats_order (void)
{
  g_autoptr(PmStats) stats = pm_stats_new ();
  PmMinerState states[5];
  guint round, r;

  for (r = 0; r < G_N_ELEMENTS (states); r++)
    {
      fill_state (&states[r], &pm_board_gamma);
      pm_stats_add_sample (stats, &states[r], 5000 * (r + 1));
    }

  for (round = 0; round < 20; round++)
    {
      const char *names[G_N_ELEMENTS (axeos_stats_labels)];
      gboolean chosen[G_N_ELEMENTS (axeos_stats_labels)] = { FALSE };
      g_autoptr(GString) query = g_string_new ("bogus,");
      g_autoptr(JsonNode) node = NULL;
      guint n = (guint) g_test_rand_int_range (1, G_N_ELEMENTS (axeos_stats_labels) + 1);
      guint i, previous = 0;
      JsonArray *labels, *rows;

      /* A random subset, shuffled, between unknown names. */
      for (i = 0; i < G_N_ELEMENTS (axeos_stats_labels); i++)
        names[i] = axeos_stats_labels[i];
      for (i = G_N_ELEMENTS (names) - 1; i > 0; i--)
        {
          guint j = (guint) g_test_rand_int_range (0, i + 1);
          const char *t = names[i];

          names[i] = names[j];
          names[j] = t;
        }
      for (i = 0; i < n; i++)
        {
          g_string_append_printf (query, "%s,%s", names[i], i == n / 2 ? "timestamp,HASHRATE,," : "");
          chosen[label_index (names[i])] = TRUE;
        }

      node = write_stats (stats, query->str, 99999);
      labels = json_object_get_array_member (json_node_get_object (node), "labels");
      g_assert_cmpuint (json_array_get_length (labels), ==, n + 1);
      for (i = 0; i < n; i++)
        {
          guint index_now = label_index (json_array_get_string_element (labels, i));

          g_assert_true (chosen[index_now]);
          if (i > 0)
            g_assert_cmpuint (index_now, >, previous);  /* firmware order */
          previous = index_now;
        }
      g_assert_cmpstr (json_array_get_string_element (labels, n), ==, "timestamp");

      rows = json_object_get_array_member (json_node_get_object (node), "statistics");
      g_assert_cmpuint (json_array_get_length (rows), ==, G_N_ELEMENTS (states));
      for (r = 0; r < G_N_ELEMENTS (states); r++)
        {
          JsonArray *row = json_array_get_array_element (rows, r);

          g_assert_cmpuint (json_array_get_length (row), ==, n + 1);
          for (i = 0; i < n; i++)
            {
              double expected = (float) state_column (&states[r], json_array_get_string_element (labels, i));

              g_assert_true (axeos_node_has_type (json_array_get_element (row, i), AXEOS_NUMBER));
              assert_close (json_array_get_double_element (row, i), expected);
            }
          g_assert_cmpint (json_array_get_int_element (row, n), ==, 5000 * (r + 1));
        }
    }
}

static void
test_stats_unknown_columns (void)
{
  g_autoptr(PmStats) stats = pm_stats_new ();
  const char *queries[] = { NULL, "", "bogus", ",,", "timestamp", "Hashrate,POWER", "hashrate , power" };
  PmMinerState state;
  gsize q;

  fill_state (&state, &pm_board_supra);
  pm_stats_add_sample (stats, &state, 1234);
  for (q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autoptr(JsonNode) node = write_stats (stats, queries[q], 2000);
      JsonObject *o = json_node_get_object (node);
      JsonArray *row;

      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "labels")), ==, G_N_ELEMENTS (axeos_stats_labels) + 1);
      row = json_array_get_array_element (json_object_get_array_member (o, "statistics"), 0);
      g_assert_cmpuint (json_array_get_length (row), ==, G_N_ELEMENTS (axeos_stats_labels) + 1);
    }
}

static void
test_stats_capped (void)
{
  g_autoptr(PmStats) stats = pm_stats_new ();
  PmMinerState state;
  guint n = PM_STATS_LIMIT + (guint) g_test_rand_int_range (1, 500);
  guint i;
  g_autoptr(JsonNode) node = NULL;
  JsonArray *rows;

  fill_state (&state, &pm_board_ultra);
  for (i = 0; i < n; i++)
    {
      state.hashrate = i;
      pm_stats_add_sample (stats, &state, 1000 * (gint64) i);
      g_assert_cmpuint (pm_stats_get_n_rows (stats), ==, MIN (i + 1, 720));
    }

  node = write_stats (stats, "hashrate", 1000 * (gint64) n);
  rows = json_object_get_array_member (json_node_get_object (node), "statistics");
  g_assert_cmpuint (json_array_get_length (rows), ==, 720);
  /* The newest 720, oldest first. */
  for (i = 0; i < 720; i++)
    {
      JsonArray *row = json_array_get_array_element (rows, i);
      guint sample = n - 720 + i;

      assert_close (json_array_get_double_element (row, 0), sample);
      g_assert_cmpint (json_array_get_int_element (row, 1), ==, 1000 * (gint64) sample);
    }

  pm_stats_clear (stats);
  g_assert_cmpuint (pm_stats_get_n_rows (stats), ==, 0);
  g_assert_null (stats->rows);
  g_clear_pointer (&node, json_node_unref);
  node = write_stats (stats, NULL, 5);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (node), "statistics")), ==, 0);
}

/* ---- NerdQAxe+ ----------------------------------------------------------- */

static void
test_nerd_info (void)
{
  guint round;

  for (round = 0; round < 4; round++)
    {
      g_autoptr(Device) dev = device_new (&pm_board_nerdqaxe_plus, "v1.0.36");
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(GString) text = g_string_new (NULL);
      const PmMinerState *s = &dev->state;
      JsonObject *o, *stratum;
      JsonArray *array;
      double max_temp = -1000;
      guint i;

      dev->state.paused = round == 3;
      dev->view.reset_reason = round % 2 == 0 ? "Reset due to power-on event" : "Software reset via esp_restart";
      pm_nerdqaxe_write_info (text, &dev->view);
      g_assert_null (strstr (text->str, SECRET));
      node = parse (text);
      o = json_node_get_object (node);

      axeos_assert_fields (o, nerdqaxe_info_fields, G_N_ELEMENTS (nerdqaxe_info_fields), 0);
      assert_only_table_members (o, nerdqaxe_info_fields, G_N_ELEMENTS (nerdqaxe_info_fields));
      g_assert_false (json_object_has_member (o, "history"));

      g_assert_cmpint (json_object_get_int_member (o, "asicCount"), ==, 4);
      g_assert_cmpint (json_object_get_int_member (o, "smallCoreCount"), ==, 1276);
      g_assert_cmpstr (json_object_get_string_member (o, "deviceModel"), ==, "NerdQAxe+");
      g_assert_cmpstr (json_object_get_string_member (o, "ASICModel"), ==, "BM1368");
      g_assert_cmpint (json_object_get_int_member (o, "maxPower"), ==, 70);
      g_assert_cmpint (json_object_get_int_member (o, "minPower"), ==, 30);
      g_assert_cmpint (json_object_get_int_member (o, "maxVoltage"), ==, 13);
      g_assert_cmpint (json_object_get_int_member (o, "minVoltage"), ==, 11);
      g_assert_cmpstr (json_object_get_string_member (o, "version"), ==, "v1.0.36");
      g_assert_cmpstr (json_object_get_string_member (o, "hostip"), ==, IPV4);
      g_assert_cmpstr (json_object_get_string_member (o, "macAddr"), ==, MAC);
      g_assert_cmpint (json_object_get_int_member (o, "hashRateTimestamp"), ==, s->ms_since_boot);
      g_assert_cmpint (json_object_get_int_member (o, "uptimeSeconds"), ==, s->uptime_seconds);
      g_assert_cmpstr (json_object_get_string_member (o, "lastResetReason"), ==,
                       round % 2 == 0 ? "SYSTEM.RESET_POWERON" : "SYSTEM.RESET_SOFTWARE");
      g_assert_cmpfloat (absd (member_number (o, "current") - s->current), <, 0.001);
      g_assert_cmpfloat (absd (member_number (o, "currentA") * 1000 - s->current), <, 1);
      g_assert_cmpfloat (absd (member_number (o, "power") - s->power), <, 0.001);
      g_assert_cmpfloat (absd (member_number (o, "voltage") - s->voltage), <, 0.001);
      assert_close (member_number (o, "bestDiff"), s->best_diff);
      assert_close (member_number (o, "bestSessionDiff"), s->best_session_diff);
      g_assert_cmpint (json_object_get_int_member (o, "sharesAccepted"), ==, s->shares_accepted);
      g_assert_cmpint (json_object_get_int_member (o, "coreVoltageActual"), ==, (gint64) s->core_voltage_actual);
      g_assert_cmpint (json_object_get_int_member (o, "coreVoltage"), ==, dev->settings->core_voltage);
      g_assert_cmpint (json_object_get_int_member (o, "jobInterval"), ==, dev->settings->job_interval);
      g_assert_cmpint (json_object_get_int_member (o, "flipscreen"), ==, 1);
      g_assert_cmpint (json_object_get_int_member (o, "invertfanpolarity"), ==, 1);
      g_assert_cmpint (json_object_get_boolean_member (o, "shutdown"), ==, s->paused);
      g_assert_cmpstr (json_object_get_string_member (o, "stratumURL"), ==, dev->settings->pools[0].url);
      g_assert_cmpstr (json_object_get_string_member (o, "fallbackStratumURL"), ==, dev->settings->pools[1].url);

      /* Hashrates: the state's, or 0 while shut down. */
      if (s->paused)
        {
          g_assert_cmpfloat (member_number (o, "hashRate"), ==, 0);
          g_assert_cmpfloat (member_number (o, "hashRate_1d"), ==, 0);
        }
      else
        {
          g_assert_cmpfloat (absd (member_number (o, "hashRate") - s->hashrate), <, 0.001);
          g_assert_cmpfloat (absd (member_number (o, "hashRate_1d") - s->hashrate_1d), <, 0.001);
        }

      /* `temp` is the hottest chip. */
      array = json_object_get_array_member (o, "asicTemps");
      g_assert_cmpuint (json_array_get_length (array), ==, 4);
      for (i = 0; i < 4; i++)
        {
          g_assert_cmpfloat (absd (json_array_get_double_element (array, i) - s->asic_temps[i]), <, 0.001);
          max_temp = MAX (max_temp, s->asic_temps[i]);
        }
      g_assert_cmpfloat (absd (member_number (o, "temp") - max_temp), <, 0.001);

      array = json_object_get_array_member (o, "fans");
      g_assert_cmpuint (json_array_get_length (array), ==, json_object_get_int_member (o, "fanCount"));
      for (i = 0; i < json_array_get_length (array); i++)
        {
          JsonObject *fan = json_array_get_object_element (array, i);
          JsonObject *pid = json_object_get_object_member (fan, "pid");

          g_assert_nonnull (pid);
          g_assert_true (axeos_node_has_type (json_object_get_member (pid, "targetTemp"), AXEOS_INT));
          g_assert_true (axeos_node_has_type (json_object_get_member (pid, "p"), AXEOS_NUMBER));
          g_assert_true (axeos_node_has_type (json_object_get_member (pid, "i"), AXEOS_NUMBER));
          g_assert_true (axeos_node_has_type (json_object_get_member (pid, "d"), AXEOS_NUMBER));
          g_assert_true (axeos_node_has_type (json_object_get_member (fan, "label"), AXEOS_STRING));
          g_assert_true (axeos_node_has_type (json_object_get_member (fan, "rpm"), AXEOS_INT));
        }
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (array, 0), "rpm"), ==, s->fan_rpm);

      stratum = json_object_get_object_member (o, "stratum");
      g_assert_true (axeos_node_has_type (json_object_get_member (stratum, "pools"), AXEOS_ARRAY));
      g_assert_true (axeos_node_has_type (json_object_get_member (stratum, "poolMode"), AXEOS_INT));

      array = json_object_get_array_member (o, "blockHeaders");
      g_assert_cmpuint (json_array_get_length (array), ==, 1);
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (array, 0), "blockHeight"), ==, s->block_height);
    }
}

static void
test_nerd_asic (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonNode) node = NULL;
  const char *ints[] = { "asicCount", "defaultFrequency", "defaultVoltage", "absMaxFrequency", "absMaxVoltage", "ecoFrequency", "ecoVoltage" };
  const PmBoard *board = &pm_board_nerdqaxe_plus;
  JsonObject *o;
  JsonArray *array;
  gsize i;

  pm_nerdqaxe_write_asic (out, board);
  node = parse (out);
  o = json_node_get_object (node);
  for (i = 0; i < G_N_ELEMENTS (ints); i++)
    g_assert_true (axeos_node_has_type (json_object_get_member (o, ints[i]), AXEOS_INT));
  g_assert_cmpstr (json_object_get_string_member (o, "ASICModel"), ==, "BM1368");
  g_assert_cmpstr (json_object_get_string_member (o, "deviceModel"), ==, "NerdQAxe+");
  g_assert_true (axeos_node_has_type (json_object_get_member (o, "swarmColor"), AXEOS_STRING));
  g_assert_cmpint (json_object_get_int_member (o, "asicCount"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (o, "defaultFrequency"), ==, 490);
  g_assert_cmpint (json_object_get_int_member (o, "defaultVoltage"), ==, 1250);
  g_assert_cmpint (json_object_get_int_member (o, "absMaxFrequency"), >, json_object_get_int_member (o, "defaultFrequency"));
  g_assert_cmpint (json_object_get_int_member (o, "absMaxVoltage"), >, json_object_get_int_member (o, "defaultVoltage"));
  array = json_object_get_array_member (o, "frequencyOptions");
  g_assert_cmpuint (json_array_get_length (array), ==, board->n_frequency_options);
  for (i = 0; i < board->n_frequency_options; i++)
    g_assert_cmpint (json_array_get_int_element (array, i), ==, board->frequency_options[i]);
  array = json_object_get_array_member (o, "voltageOptions");
  g_assert_cmpuint (json_array_get_length (array), ==, board->n_voltage_options);
}

/* A ring of @n samples every @step_ms, ending at @now_ms; sample i has
 * hashrate_1m = 1000 + i. */
static PmStats *
history_ring (guint   n,
              gint64  step_ms,
              gint64  now_ms,
              PmMinerState *state)
{
  PmStats *stats = pm_stats_new ();
  guint i;

  fill_state (state, &pm_board_nerdqaxe_plus);
  for (i = 0; i < n; i++)
    {
      state->hashrate_1m = 1000.25 + i;
      state->vr_temp = 40 + i % 20;
      pm_stats_add_sample (stats, state, now_ms - step_ms * (gint64) (n - 1 - i));
    }
  return stats;
}

static JsonObject *
history_of (JsonNode *node)
{
  JsonObject *history;

  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  history = json_node_get_object (node);
  axeos_assert_fields (history, nerdqaxe_history_fields, G_N_ELEMENTS (nerdqaxe_history_fields), 0);
  assert_only_table_members (history, nerdqaxe_history_fields, G_N_ELEMENTS (nerdqaxe_history_fields));
  return history;
}

static void
test_nerd_history (void)
{
  const gint64 now_ms = 20 * 3600 * 1000;
  const gint64 step_ms = 20000;  /* 720 samples: four hours */
  PmMinerState state;
  g_autoptr(PmStats) stats = history_ring (PM_STATS_LIMIT, step_ms, now_ms, &state);
  /* The client's clock: the epoch, far from the device's. */
  guint64 cur = G_GUINT64_CONSTANT (1717171717171) + (guint64) g_test_rand_int_range (0, 1000000);
  guint64 back = (guint64) g_test_rand_int_range (600000, 2 * 3600 * 1000);
  guint64 ts = cur - back;
  gint64 sys_start = now_ms - (gint64) back;
  const guint limits[] = { 0, 1, 10, (guint) g_test_rand_int_range (2, 300), 5000 };
  gsize l;

  for (l = 0; l < G_N_ELEMENTS (limits); l++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(JsonNode) node = NULL;
      JsonObject *history;
      JsonArray *timestamps, *rates, *vreg;
      guint expected = 0, i, n, first = 0;
      gint64 previous = -1;

      for (i = 0; i < pm_stats_get_n_rows (stats); i++)
        {
          gint64 t = pm_stats_get_timestamp (stats, i);

          if (t < sys_start)
            {
              first = i + 1;
              continue;
            }
          if (t <= sys_start + 3600 * 1000)
            expected++;
        }

      pm_nerdqaxe_write_history (out, stats, ts, limits[l], 0, cur, now_ms);
      node = parse (out);
      history = history_of (node);
      g_assert_cmpint (json_object_get_int_member (history, "timestampBase"), ==, ts);

      timestamps = json_object_get_array_member (history, "timestamps");
      rates = json_object_get_array_member (history, "hashrate_1m");
      vreg = json_object_get_array_member (history, "vregTemp");
      n = json_array_get_length (timestamps);
      if (limits[l] == 0 || limits[l] >= expected)
        {
          g_assert_cmpuint (n, ==, expected);
          g_assert_false (json_object_get_boolean_member (history, "hasMore"));
        }
      else
        {
          g_assert_cmpuint (n, ==, limits[l]);
          g_assert_true (json_object_get_boolean_member (history, "hasMore"));
        }
      g_assert_cmpuint (n, <=, 1000);
      g_assert_cmpuint (json_array_get_length (rates), ==, n);
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (history, "hashrate_1d")), ==, n);

      for (i = 0; i < n; i++)
        {
          gint64 offset = json_array_get_int_element (timestamps, i);
          gint64 sample_t = pm_stats_get_timestamp (stats, first + i);

          g_assert_cmpint (offset, >, previous);  /* ascending */
          previous = offset;
          g_assert_cmpint (offset, >=, 0);
          /* base + offset is the sample's time on the client's clock. */
          g_assert_cmpint ((gint64) ts + offset, ==, sample_t + ((gint64) cur - now_ms));
          g_assert_cmpint (json_array_get_int_element (rates, i), ==,
                           (gint64) ((float) pm_stats_get_value (stats, first + i, PM_STATS_HASHRATE_1M) * 100.0f));
          g_assert_cmpint (json_array_get_int_element (vreg, i), ==,
                           (gint64) ((float) pm_stats_get_value (stats, first + i, PM_STATS_VR_TEMP) * 100.0f));
        }
    }
}

static void
test_nerd_history_span (void)
{
  const gint64 now_ms = 10 * 3600 * 1000;
  const gint64 step_ms = 20000;
  PmMinerState state;
  g_autoptr(PmStats) stats = history_ring (PM_STATS_LIMIT, step_ms, now_ms, &state);
  guint64 cur = now_ms;  /* a client on the device's clock */
  guint64 ts = cur - 4 * 3600 * 1000;  /* the whole ring */
  guint64 spans[] = { 0, 30 * 60 * 1000, 10 * 3600 * 1000 };
  guint64 effective[] = { 3600 * 1000, 30 * 60 * 1000, 3 * 3600 * 1000 };
  gsize k;

  for (k = 0; k < G_N_ELEMENTS (spans); k++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(JsonNode) node = NULL;
      JsonArray *timestamps;
      guint n;

      pm_nerdqaxe_write_history (out, stats, ts, 0, spans[k], cur, now_ms);
      node = parse (out);
      timestamps = json_object_get_array_member (history_of (node), "timestamps");
      n = json_array_get_length (timestamps);
      g_assert_cmpuint (n, >, 0);
      g_assert_cmpint (json_array_get_int_element (timestamps, n - 1), <=, (gint64) effective[k]);
      g_assert_cmpint (json_array_get_int_element (timestamps, n - 1), >, (gint64) effective[k] - step_ms);
    }
}

static void
test_nerd_info_with_history (void)
{
  g_autoptr(Device) dev = device_new (&pm_board_nerdqaxe_plus, "v1.0.36");
  PmMinerState sampled;
  g_autoptr(PmStats) stats = history_ring (100, 5000, dev->state.ms_since_boot, &sampled);
  guint round;

  for (round = 0; round < 2; round++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      g_autoptr(JsonNode) node = NULL;
      JsonObject *o;

      dev->state.paused = round == 1;
      pm_nerdqaxe_write_info_with_history (out, &dev->view, stats, dev->state.ms_since_boot - 60000, 5, 0,
                                           dev->state.ms_since_boot);
      node = parse (out);
      o = json_node_get_object (node);
      axeos_assert_fields (o, nerdqaxe_info_fields, G_N_ELEMENTS (nerdqaxe_info_fields), 0);
      if (dev->state.paused)
        {
          /* Shut down: no history at all. */
          g_assert_false (json_object_has_member (o, "history"));
        }
      else
        {
          JsonObject *history = history_of (json_object_get_member (o, "history"));

          g_assert_cmpuint (json_array_get_length (json_object_get_array_member (history, "timestamps")), ==, 5);
          g_assert_true (json_object_get_boolean_member (history, "hasMore"));
        }
    }
}

static void
test_nerd_history_query (void)
{
  g_autoptr(GHashTable) query = g_hash_table_new (g_str_hash, g_str_equal);
  guint64 ts = 1, span = 1, cur = 1;
  guint limit = 1;

  g_assert_false (pm_nerdqaxe_parse_history_query (query, &ts, &limit, &span, &cur));
  g_assert_cmpuint (ts, ==, 0);
  g_assert_cmpuint (limit, ==, 0);
  g_assert_cmpuint (span, ==, 3600 * 1000);
  g_assert_cmpuint (cur, ==, 0);

  g_hash_table_insert (query, (gpointer) "ts", (gpointer) "1717171700000");
  g_hash_table_insert (query, (gpointer) "limit", (gpointer) "5000");
  g_hash_table_insert (query, (gpointer) "history_span", (gpointer) "99999999");
  g_hash_table_insert (query, (gpointer) "cur", (gpointer) "1717171717171");
  g_assert_true (pm_nerdqaxe_parse_history_query (query, &ts, &limit, &span, &cur));
  g_assert_cmpuint (ts, ==, G_GUINT64_CONSTANT (1717171700000));
  g_assert_cmpuint (limit, ==, 1000);
  g_assert_cmpuint (span, ==, 3 * 3600 * 1000);
  g_assert_cmpuint (cur, ==, G_GUINT64_CONSTANT (1717171717171));

  g_hash_table_insert (query, (gpointer) "ts", (gpointer) "0");
  g_hash_table_insert (query, (gpointer) "limit", (gpointer) "12");
  g_assert_false (pm_nerdqaxe_parse_history_query (query, &ts, &limit, &span, &cur));
  g_assert_cmpuint (limit, ==, 12);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/axeos/info/fields", test_info_fields);
  g_test_add_func ("/axeos/info/full-hostname", test_info_full_hostname);
  g_test_add_func ("/axeos/info/pools", test_info_pools);
  g_test_add_func ("/axeos/info/relations", test_info_relations);
  g_test_add_func ("/axeos/info/log2-work", test_info_log2_work);
  g_test_add_func ("/axeos/info/faults", test_info_faults);
  g_test_add_func ("/axeos/info/overheat-mode", test_info_overheat_mode);
  g_test_add_func ("/axeos/info/fallback", test_info_fallback);
  g_test_add_func ("/axeos/asic", test_asic);
  g_test_add_func ("/axeos/scoreboard", test_scoreboard);
  g_test_add_func ("/axeos/stats/empty", test_stats_empty);
  g_test_add_func ("/axeos/stats/order", test_stats_order);
  g_test_add_func ("/axeos/stats/unknown-columns", test_stats_unknown_columns);
  g_test_add_func ("/axeos/stats/capped", test_stats_capped);
  g_test_add_func ("/nerdqaxe/info", test_nerd_info);
  g_test_add_func ("/nerdqaxe/asic", test_nerd_asic);
  g_test_add_func ("/nerdqaxe/history", test_nerd_history);
  g_test_add_func ("/nerdqaxe/history/span", test_nerd_history_span);
  g_test_add_func ("/nerdqaxe/history/in-info", test_nerd_info_with_history);
  g_test_add_func ("/nerdqaxe/history/query", test_nerd_history_query);

  return g_test_run ();
}
