/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-sim"

#include "config.h"

#include <stdlib.h>

#include "pm-error.h"
#include "pm-esp-log.h"
#include "pm-json-writer.h"
#include "pm-splitmix.h"
#include "pm-update.h"
#include "pm-sim.h"

struct _PmSim
{
  const PmProfile *profile;
  PmMiner         *miner;           /* (owned) */
  PmSettings      *settings;        /* (owned) */
  PmStats         *stats;           /* (owned) */
  char             mac[18];
  guint            board_version;   /* index into the board's versions */
  const char      *reset_reason;    /* static */
  gint64           boot_us;         /* monotonic */
  guint            boots;           /* restarts since the daemon started it */

  guint            stats_period_s;  /* what the ring is sampled at; 0 off */
  gint64           next_sample_ms;  /* since boot */

  gint64           identify_until_us;

  guint            settings_serial; /* the miner's own writes, as far as copied */

  gint64           logged_ms;       /* newest event handed to the log stream */
  gint64           nonce_ms;        /* nonce lines drawn up to here, since boot */
  double           nonce_carry;     /* the fraction of a nonce line still due */
  guint64          log_rng;         /* for the nonce lines */
};

/* Picks the board revision from the seed and port, as the MAC is. */
static guint
pick_board_version (const PmBoard *board,
                    guint64        seed,
                    guint          port)
{
  guint64 x = seed ^ ((guint64) port << 17) ^ G_GUINT64_CONSTANT (0x5851F42D4C957F2D);

  x ^= x >> 33;
  x *= G_GUINT64_CONSTANT (0xFF51AFD7ED558CCD);
  x ^= x >> 33;
  /* Most boards are the first, common revisions. */
  if (x % 4 != 0)
    return (guint) ((x >> 8) % MIN (2, pm_board_count_versions (board)));
  return (guint) ((x >> 8) % pm_board_count_versions (board));
}

/**
 * pm_sim_new:
 * @profile: a simulated profile (or a Pluto one, for simulated telemetry)
 * @hostname: the device's hostname, stored in its settings
 * @seed: the fleet's seed
 * @port: the device's port
 * @now_us: the monotonic time it powers on
 *
 * Returns: (transfer full): a device just powered on
 */
PmSim *
pm_sim_new (const PmProfile *profile,
            const char      *hostname,
            guint64          seed,
            guint            port,
            gint64           now_us)
{
  PmSim *self = g_new0 (PmSim, 1);
  const PmBoard *board = profile->board;

  self->profile = profile;
  /* The Pluto shapes name their board: the Legacy one says 401, an
   * INA260 board whose power is volts times amperes. */
  self->board_version = profile->family == PM_PROFILE_FAMILY_PLUTO
                          ? 0 : pick_board_version (board, seed, port);
  self->miner = pm_miner_new (board, pm_board_sensor_of (board, self->board_version),
                              seed, port, now_us);
  self->settings = pm_settings_new (board, hostname);
  self->stats = pm_stats_new ();
  pm_miner_format_mac (seed, port, self->mac);
  self->reset_reason = PM_SIM_RESET_POWER_ON;
  self->boot_us = now_us;
  self->logged_ms = -1;
  self->log_rng = seed ^ ((guint64) port << 32) ^ G_GUINT64_CONSTANT (0x2545F4914F6CDD1D);
  pm_sim_apply_settings (self);
  return self;
}

void
pm_sim_free (PmSim *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->miner, pm_miner_free);
  g_clear_pointer (&self->settings, pm_settings_free);
  g_clear_pointer (&self->stats, pm_stats_free);
  g_free (self);
}

PmMiner *
pm_sim_get_miner (PmSim *self)
{
  return self->miner;
}

PmSettings *
pm_sim_get_settings (PmSim *self)
{
  return self->settings;
}

PmStats *
pm_sim_get_stats (PmSim *self)
{
  return self->stats;
}

const char *
pm_sim_get_mac (PmSim *self)
{
  return self->mac;
}

/* What the firmware stored itself since the last look (the overheat
 * handling's fan, frequency, voltage and latch), into the settings. */
static void
copy_firmware_settings (PmSim *self)
{
  const PmMinerState *state = pm_miner_get_state (self->miner);
  PmSettings *settings = self->settings;

  if (state->settings_serial == self->settings_serial)
    return;
  self->settings_serial = state->settings_serial;
  settings->frequency = state->frequency;
  settings->core_voltage = state->core_voltage;
  settings->autofanspeed = state->settings_autofan;
  settings->manual_fan_speed = state->settings_manual_fan;
  settings->overheat_mode = state->settings_overheat_mode;
}

static void
advance_miner (PmSim *self,
               gint64 now_us)
{
  pm_miner_advance (self->miner, now_us);
  copy_firmware_settings (self);
}

/**
 * pm_sim_catch_up:
 * @self: a #PmSim
 * @now_us: the monotonic time now
 *
 * Brings the miner to @now_us, taking the statistics samples that fell
 * due on the way (at most a ring's worth), as the firmware's statistics
 * task would have.  Costs nothing while nobody reads the device.
 */
void
pm_sim_catch_up (PmSim *self,
                 gint64 now_us)
{
  gint64 now_ms = (now_us - self->boot_us) / 1000;
  /* AxeOS records when asked to; NerdQAxe+ keeps its history always. */
  guint period_s = self->profile->family == PM_PROFILE_FAMILY_NERDQAXE
                     ? PM_SIM_NERDQAXE_HISTORY_PERIOD_S
                     : self->settings->stats_frequency;

  if (period_s != self->stats_period_s)
    {
      /* A new period starts from now; 0 stops recording. */
      self->stats_period_s = period_s;
      self->next_sample_ms = now_ms + (gint64) period_s * 1000;
    }
  if (period_s > 0 && self->next_sample_ms <= now_ms)
    {
      gint64 period_ms = (gint64) period_s * 1000;
      gint64 due = (now_ms - self->next_sample_ms) / period_ms + 1;

      /* Samples older than the ring holds would be dropped anyway. */
      if (due > PM_STATS_LIMIT)
        self->next_sample_ms += (due - PM_STATS_LIMIT) * period_ms;
      while (self->next_sample_ms <= now_ms)
        {
          advance_miner (self, self->boot_us + self->next_sample_ms * 1000);
          pm_stats_add_sample (self->stats, pm_miner_get_state (self->miner),
                               self->next_sample_ms);
          self->next_sample_ms += period_ms;
        }
    }
  advance_miner (self, now_us);
}

/**
 * pm_sim_get_view:
 * @self: a #PmSim
 * @firmware: the version the device reports
 * @ipv4: the address it reports as its own
 * @out: (out caller-allocates): what the firmware's replies are written from
 */
void
pm_sim_get_view (PmSim          *self,
                 const char     *firmware,
                 const char     *ipv4,
                 PmFirmwareView *out)
{
  const PmBoard *board = self->profile->board;

  *out = (PmFirmwareView) {
    .board = board,
    .board_version = board->board_versions[self->board_version],
    .sensor = pm_board_sensor_of (board, self->board_version),
    .firmware = firmware,
    .mac = self->mac,
    .ipv4 = ipv4,
    .reset_reason = self->reset_reason,
    .running_partition = "ota_0",
    .state = pm_miner_get_state (self->miner),
    .settings = self->settings,
    /* At network difficulty a Bitaxe finds no block in a mock's life. */
    .block_found = 0,
    .show_new_block = FALSE,
  };
}

/**
 * pm_sim_apply_settings:
 * @self: a #PmSim
 *
 * Hands what the settings now say to the miner, which follows with the
 * lag of real hardware.  The settings must hold what the firmware stored
 * itself up to now: call it after a pm_sim_catch_up().  An
 * `overheat_mode` of 0 clears the stored overheat latch.
 */
void
pm_sim_apply_settings (PmSim *self)
{
  const PmSettings *settings = self->settings;
  const PmPool *pool = pm_settings_get_primary_pool (settings);
  const PmPool *fallback = pm_settings_get_secondary_pool (settings);
  gboolean has_fallback = fallback != NULL && fallback->url != NULL && fallback->url[0] != '\0';
  double difficulty, fallback_difficulty;

  pm_miner_set_frequency (self->miner, settings->frequency);
  pm_miner_set_core_voltage (self->miner, settings->core_voltage);
  pm_miner_set_fan (self->miner, settings->autofanspeed, settings->manual_fan_speed,
                    settings->min_fan_speed, settings->temp_target);
  /* The pool gives the difficulty the device suggests: AxeOS suggests
   * its primary pool's, a NerdQAxe+ its `stratumDifficulty`. */
  if (self->profile->family == PM_PROFILE_FAMILY_NERDQAXE)
    {
      difficulty = settings->stratum_difficulty;
      fallback_difficulty = difficulty;
    }
  else
    {
      difficulty = pool != NULL ? pool->suggested_difficulty : 0;
      fallback_difficulty = has_fallback ? fallback->suggested_difficulty : 0;
    }
  if (difficulty > 0)
    pm_miner_set_pool_difficulty (self->miner, difficulty);
  /* The secondary slot is where the firmware fails over to; the setting
   * chooses it at boot. */
  pm_miner_set_fallback_pool (self->miner, has_fallback, fallback_difficulty,
                              settings->use_fallback_stratum);
  pm_miner_set_overheat_mode (self->miner, settings->overheat_mode);
}

/**
 * pm_sim_set_fault_at:
 * @self: a #PmSim
 * @fault: a fault of the miner's kinds; others are ignored
 * @now_us: the monotonic time now
 *
 * Imposes @fault on the miner from @now_us on (see pm_miner_set_fault()):
 * the device runs without it up to then.
 */
void
pm_sim_set_fault_at (PmSim         *self,
                     const PmFault *fault,
                     gint64         now_us)
{
  g_return_if_fail (fault != NULL);

  pm_sim_catch_up (self, now_us);
  pm_miner_set_fault (self->miner, fault);
  copy_firmware_settings (self);
}

/**
 * pm_sim_clear_fault_at:
 * @self: a #PmSim
 * @kind: the kind of fault to lift
 * @now_us: the monotonic time now
 *
 * Lifts the miner's fault of @kind from @now_us on.
 */
void
pm_sim_clear_fault_at (PmSim      *self,
                       PmFaultKind kind,
                       gint64      now_us)
{
  pm_sim_catch_up (self, now_us);
  pm_miner_clear_fault (self->miner, kind);
  copy_firmware_settings (self);
}

/**
 * pm_sim_set_fault:
 * @self: a #PmSim
 * @fault: a fault of the miner's kinds; others are ignored
 *
 * pm_sim_set_fault_at() at the monotonic time now.
 */
void
pm_sim_set_fault (PmSim         *self,
                  const PmFault *fault)
{
  pm_sim_set_fault_at (self, fault, g_get_monotonic_time ());
}

/**
 * pm_sim_clear_fault:
 * @self: a #PmSim
 * @kind: the kind of fault to lift
 *
 * pm_sim_clear_fault_at() at the monotonic time now.
 */
void
pm_sim_clear_fault (PmSim      *self,
                    PmFaultKind kind)
{
  pm_sim_clear_fault_at (self, kind, g_get_monotonic_time ());
}

/**
 * pm_sim_reboot:
 * @self: a #PmSim
 * @now_us: the monotonic time the device boots again
 *
 * What comes back after esp_restart(): the miner from zero with its
 * settings and best difficulty, an empty statistics ring, a software
 * reset reason.
 */
void
pm_sim_reboot (PmSim *self,
               gint64 now_us)
{
  pm_miner_restart (self->miner, now_us);
  copy_firmware_settings (self);
  pm_stats_clear (self->stats);
  self->reset_reason = PM_SIM_RESET_SOFTWARE;
  self->boot_us = now_us;
  self->boots++;
  self->stats_period_s = 0;
  self->identify_until_us = 0;
  self->logged_ms = -1;
  self->nonce_ms = 0;
  self->nonce_carry = 0;
  pm_sim_apply_settings (self);
  pm_sim_catch_up (self, now_us);
}

/**
 * pm_sim_toggle_identify:
 * @self: a #PmSim
 * @now_us: the monotonic time now
 *
 * The first call starts 30 s of "Hi!"; a second one within them stops it.
 *
 * Returns: whether the device says "Hi!" now
 */
gboolean
pm_sim_toggle_identify (PmSim *self,
                        gint64 now_us)
{
  if (self->identify_until_us > now_us)
    {
      self->identify_until_us = 0;
      return FALSE;
    }
  self->identify_until_us = now_us + 30 * G_USEC_PER_SEC;
  return TRUE;
}

/* The ASIC reports every nonce at or above this difficulty, and the
 * firmware logs each: a few lines a second at a Bitaxe's hashrate. */
#define ASIC_TICKET_DIFFICULTY 64.0
/* At most this many nonce lines for one stretch of time, however long. */
#define MAX_NONCE_LINES 32

static guint64
next_random (PmSim *self)
{
  return pm_splitmix64_next (&self->log_rng);
}

static double
next_unit (PmSim *self)
{
  return ((next_random (self) >> 11) + 1) * (1.0 / 9007199254740993.0);
}

typedef struct
{
  gint64 ms;
  double difficulty;
  guint32 nonce;
  guint32 version;
} NonceLine;

static int
compare_nonce_lines (gconstpointer a,
                     gconstpointer b)
{
  const NonceLine *x = a, *y = b;

  return (x->ms > y->ms) - (x->ms < y->ms);
}

/* The nonces the ASIC returned since the last call, as the firmware logs
 * them: at the rate the hashrate gives at the ticket difficulty. */
static guint
draw_nonce_lines (PmSim     *self,
                  gint64     now_ms,
                  NonceLine *out)
{
  const PmMinerState *state = pm_miner_get_state (self->miner);
  gint64 from_ms = MAX (self->nonce_ms, now_ms - 60 * 1000);
  double floor_u = ASIC_TICKET_DIFFICULTY / MAX (state->pool_difficulty, 1.0);
  double expected, span;
  guint i, n;

  if (now_ms <= from_ms || floor_u >= 1.0)
    return 0;
  span = (double) (now_ms - from_ms);
  /* The nonces below the pool's difficulty: the miner's shares are the
   * others, and have lines of their own. */
  expected = state->hashrate * 1e9 * (span / 1000.0) * (1.0 - floor_u) /
             (ASIC_TICKET_DIFFICULTY * 4294967296.0);
  self->nonce_carry += expected;
  n = (guint) MIN (self->nonce_carry, (double) MAX_NONCE_LINES);
  self->nonce_carry -= n;
  self->nonce_carry = MIN (self->nonce_carry, 1.0);
  self->nonce_ms = now_ms;
  for (i = 0; i < n; i++)
    {
      out[i].ms = from_ms + 1 + (gint64) (next_unit (self) * (span - 1));
      out[i].difficulty = ASIC_TICKET_DIFFICULTY / (floor_u + (1.0 - floor_u) * next_unit (self));
      out[i].nonce = (guint32) next_random (self);
      out[i].version = 0x20000000 | ((guint32) next_random (self) & 0x1fffe000);
    }
  qsort (out, n, sizeof (NonceLine), compare_nonce_lines);
  return n;
}

static void
append_nonce_line (GString         *out,
                   const NonceLine *line,
                   double           pool_difficulty,
                   gboolean         colours)
{
  char message[128];

  g_snprintf (message, sizeof message, "ID: 0x%02X, ver: %08X Nonce %08X diff %.1f of %.0f.",
              (guint) (line->nonce & 0x7c), line->version, line->nonce, line->difficulty,
              pool_difficulty);
  /* Only what the pool takes counts as a share; the rest is the ASIC's
   * chatter, which the firmware logs all the same. */
  pm_esp_log_append_line (out, 'I', line->ms, "asic_result", message, colours);
}

/**
 * pm_sim_take_log:
 * @self: a #PmSim, caught up to now
 * @colours: whether to colour the lines as an ESP-IDF build with colours does
 * @func: called for each line, oldest first
 * @user_data: for @func
 *
 * Hands over the log lines of what the device did since the last call,
 * each with the time it was written (ms since boot): the miner's events
 * and the nonces its ASIC returned.
 */
void
pm_sim_take_log (PmSim      *self,
                 gboolean    colours,
                 PmSimLogFunc func,
                 gpointer    user_data)
{
  PmMinerEvent events[PM_MINER_EVENTS_KEPT];
  NonceLine nonces[MAX_NONCE_LINES];
  const PmMinerState *state = pm_miner_get_state (self->miner);
  g_autoptr(GString) line = g_string_sized_new (160);
  guint i = 0, j = 0, n_events, n_nonces;

  n_events = pm_miner_copy_events (self->miner, self->logged_ms, events, G_N_ELEMENTS (events));
  n_nonces = draw_nonce_lines (self, state->ms_since_boot, nonces);
  while (i < n_events || j < n_nonces)
    {
      gint64 ms;

      g_string_truncate (line, 0);
      if (j >= n_nonces || (i < n_events && events[i].ms_since_boot <= nonces[j].ms))
        {
          ms = events[i].ms_since_boot;
          pm_esp_log_append_event (line, &events[i], colours);
          self->logged_ms = ms;
          i++;
        }
      else
        {
          ms = nonces[j].ms;
          append_nonce_line (line, &nonces[j], state->pool_difficulty, colours);
          j++;
        }
      func (ms, line->str, line->len, user_data);
    }
}

/**
 * pm_sim_skip_log:
 * @self: a #PmSim
 *
 * Forgets the log written so far: the next pm_sim_take_log() starts now.
 */
void
pm_sim_skip_log (PmSim *self)
{
  PmMinerEvent events[PM_MINER_EVENTS_KEPT];
  guint n = pm_miner_copy_events (self->miner, self->logged_ms, events, G_N_ELEMENTS (events));

  if (n > 0)
    self->logged_ms = events[n - 1].ms_since_boot;
  self->nonce_ms = pm_miner_get_state (self->miner)->ms_since_boot;
  self->nonce_carry = 0;
}

/**
 * pm_sim_get_boot_time:
 * @self: a #PmSim
 *
 * Returns: the monotonic time the device last booted, in µs
 */
gint64
pm_sim_get_boot_time (PmSim *self)
{
  return self->boot_us;
}

/**
 * pm_sim_append_log_history:
 * @self: a #PmSim
 * @out: where the lines go
 *
 * Appends the recent log, as `GET /api/system/logs` sends it: coloured
 * lines, with a marker where the device restarted.
 */
void
pm_sim_append_log_history (PmSim   *self,
                           GString *out)
{
  PmMinerEvent events[PM_MINER_EVENTS_KEPT];
  guint i, n;

  if (self->boots > 0)
    g_string_append (out, "--- SYSTEM RESTART ---\n");
  n = pm_miner_copy_events (self->miner, -1, events, G_N_ELEMENTS (events));
  for (i = 0; i < n; i++)
    pm_esp_log_append_event (out, &events[i], TRUE);
}

/**
 * pm_sim_patch:
 * @self: a #PmSim
 * @root: a PATCH body
 * @now_us: the monotonic time of the request
 * @out_renamed: (out): whether the hostname changed
 * @error: return location for a %PM_SETTINGS_ERROR
 *
 * Does what the firmware's `PATCH /api/system` does, checking as its
 * family does: the device runs on its old settings up to @now_us and on
 * the new ones from then, so a statistics period set now starts now,
 * whether or not anyone reads the device meanwhile.
 *
 * Returns: whether the settings were taken; if not nothing changed
 */
gboolean
pm_sim_patch (PmSim    *self,
              JsonNode *root,
              gint64    now_us,
              gboolean *out_renamed,
              GError  **error)
{
  PmSettingsStyle style = self->profile->family == PM_PROFILE_FAMILY_NERDQAXE
                            ? PM_SETTINGS_STYLE_NERDQAXE : PM_SETTINGS_STYLE_AXEOS;

  pm_sim_catch_up (self, now_us);
  if (!pm_settings_patch (self->settings, style, root, out_renamed, error))
    return FALSE;
  pm_sim_apply_settings (self);
  pm_sim_catch_up (self, now_us);
  return TRUE;
}

/**
 * pm_sim_update:
 * @self: a #PmSim
 * @data: a JSON document
 * @length: its length
 * @now_us: the monotonic time of the request
 * @out_renamed: (out): whether the hostname changed
 * @error: return location for a #PmError
 *
 * pm_sim_patch() for a document as D-Bus `Update` gives it: malformed
 * JSON is a %PM_ERROR as for any device, what the firmware refuses is
 * %PM_ERROR_INVALID_ARGUMENT.
 *
 * Returns: whether the settings were taken; if not nothing changed
 */
gboolean
pm_sim_update (PmSim      *self,
               const char *data,
               gsize       length,
               gint64      now_us,
               gboolean   *out_renamed,
               GError    **error)
{
  g_autoptr(JsonNode) root = pm_update_parse_node (data, length, error);
  g_autoptr(GError) local_error = NULL;

  if (root == NULL)
    return FALSE;
  if (!pm_sim_patch (self, root, now_us, out_renamed, &local_error))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "the firmware refuses the update: %s", local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* The number @name of @update holds, if it is one from 1 to 65535, as
 * the firmware accepts for a frequency or a voltage. */
static gboolean
setting_number (JsonObject *update,
                const char *name,
                double     *out)
{
  JsonNode *node = json_object_get_member (update, name);
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return FALSE;
  *out = json_node_get_double (node);
  return *out >= 1 && *out <= 65535;
}

/**
 * pm_sim_steer:
 * @self: a #PmSim behind a Pluto shape (simulated telemetry)
 * @update: the members a Pluto PATCH stored
 * @now_us: the monotonic time of the request
 *
 * The numbers of a Pluto PATCH that a miner acts on (frequency, core
 * voltage) drive the simulated miner too, so what follows fits them.
 */
void
pm_sim_steer (PmSim      *self,
              JsonObject *update,
              gint64      now_us)
{
  double value;

  pm_sim_catch_up (self, now_us);
  if (setting_number (update, "frequency", &value))
    pm_miner_set_frequency (self->miner, value);
  if (setting_number (update, "coreVoltage", &value))
    pm_miner_set_core_voltage (self->miner, (guint) value);
}

/* Writes the info object of the firmware: @http adds what only the HTTP
 * reply carries. */
static void
append_info (PmSim      *self,
             GString    *out,
             const char *firmware,
             const char *ipv4,
             gint64      now_us,
             gboolean    http)
{
  PmFirmwareView view;

  pm_sim_catch_up (self, now_us);
  pm_sim_get_view (self, firmware, ipv4, &view);
  if (self->profile->family == PM_PROFILE_FAMILY_NERDQAXE)
    pm_nerdqaxe_write_info (out, &view);
  else
    pm_axeos_write_info (out, &view, http);
}

/**
 * pm_sim_dup_info:
 * @self: a #PmSim
 * @firmware: the version the device reports
 * @ipv4: the address it reports as its own
 * @now_us: the monotonic time now
 *
 * Returns: (transfer full): what the firmware's `GET /api/system/info`
 *   answers now
 */
char *
pm_sim_dup_info (PmSim      *self,
                 const char *firmware,
                 const char *ipv4,
                 gint64      now_us)
{
  GString *out = g_string_sized_new (4096);

  append_info (self, out, firmware, ipv4, now_us, TRUE);
  return g_string_free (out, FALSE);
}

/**
 * pm_sim_dup_live_state:
 * @self: a #PmSim
 * @firmware: the version the device reports
 * @ipv4: the address it reports as its own
 * @now_us: the monotonic time now
 *
 * Returns: (transfer full) (nullable): the state `/api/ws/live` sends: the
 *   info object without `fullHostname`
 */
JsonObject *
pm_sim_dup_live_state (PmSim      *self,
                       const char *firmware,
                       const char *ipv4,
                       gint64      now_us)
{
  g_autoptr(GString) out = g_string_sized_new (4096);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  append_info (self, out, firmware, ipv4, now_us, FALSE);
  if (!json_parser_load_from_data (parser, out->str, out->len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return JSON_NODE_HOLDS_OBJECT (root) ? json_object_ref (json_node_get_object (root)) : NULL;
}
