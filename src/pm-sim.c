/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-sim"

#include "config.h"

#include "pm-esp-log.h"
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
  guint            block_found;

  gint64           logged_ms;       /* newest event handed to the log stream */
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
          pm_miner_advance (self->miner, self->boot_us + self->next_sample_ms * 1000);
          pm_stats_add_sample (self->stats, pm_miner_get_state (self->miner),
                               self->next_sample_ms);
          self->next_sample_ms += period_ms;
        }
    }
  pm_miner_advance (self->miner, now_us);
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
    .block_found = self->block_found,
    .show_new_block = FALSE,
  };
}

/**
 * pm_sim_apply_settings:
 * @self: a #PmSim
 *
 * Hands what the settings now say to the miner, which follows with the
 * lag of real hardware.
 */
void
pm_sim_apply_settings (PmSim *self)
{
  const PmSettings *settings = self->settings;
  const PmPool *pool = pm_settings_get_primary_pool (settings);
  double difficulty;

  pm_miner_set_frequency (self->miner, settings->frequency);
  pm_miner_set_core_voltage (self->miner, settings->core_voltage);
  pm_miner_set_fan (self->miner, settings->autofanspeed, settings->manual_fan_speed,
                    settings->min_fan_speed, settings->temp_target);
  /* The pool gives the difficulty the device suggests: AxeOS suggests
   * its primary pool's, a NerdQAxe+ its `stratumDifficulty`. */
  if (self->profile->family == PM_PROFILE_FAMILY_NERDQAXE)
    difficulty = settings->stratum_difficulty;
  else
    difficulty = pool != NULL ? pool->suggested_difficulty : 0;
  if (difficulty > 0)
    pm_miner_set_pool_difficulty (self->miner, difficulty);
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
  pm_stats_clear (self->stats);
  self->reset_reason = PM_SIM_RESET_SOFTWARE;
  self->boot_us = now_us;
  self->boots++;
  self->stats_period_s = 0;
  self->identify_until_us = 0;
  self->logged_ms = -1;
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

guint
pm_sim_get_block_found (PmSim *self)
{
  return self->block_found;
}

/**
 * pm_sim_take_log_lines:
 * @self: a #PmSim
 * @out: where the lines go
 * @colours: whether to colour them as an ESP-IDF build with colours does
 *
 * Appends the log lines of what the miner did since the last call.
 *
 * Returns: whether there were any
 */
gboolean
pm_sim_take_log_lines (PmSim   *self,
                       GString *out,
                       gboolean colours)
{
  PmMinerEvent events[PM_MINER_EVENTS_KEPT];
  guint i, n;

  n = pm_miner_copy_events (self->miner, self->logged_ms, events, G_N_ELEMENTS (events));
  for (i = 0; i < n; i++)
    {
      pm_esp_log_append_event (out, &events[i], colours);
      self->logged_ms = events[i].ms_since_boot;
    }
  return n > 0;
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
