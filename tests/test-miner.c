/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-miner"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pm-board.h"
#include "pm-miner.h"
#include "pm-profile.h"
#include "pm-sim.h"

/*
 * Unit tests of the miner model.  Time is whatever the test passes to
 * pm_miner_advance(): nothing waits.  The ranges checked are the ones
 * device-api-reference.md §2 gives for real devices, and the relations
 * of §2.3, computed here from the board constants.
 */

#define SEC   ((gint64) G_USEC_PER_SEC)
#define MINUTE (60 * SEC)
#define HOUR  (60 * MINUTE)
/* A monotonic clock some time after the machine's boot. */
#define START (G_GINT64_CONSTANT (12345) * SEC)

#define N_SEEDS 8

typedef struct
{
  const char    *name;
  const PmBoard *board;
  PmPowerSensor  sensor;
  /* §2.2 and §2.3 at stock settings; 0: no range given. */
  double         power_lo, power_hi;        /* W */
  double         current_lo, current_hi;    /* mA */
  double         efficiency_lo, efficiency_hi;  /* J/TH */
} BoardCase;

static const BoardCase board_cases[] = {
  { "Gamma/TPS546", &pm_board_gamma, PM_POWER_SENSOR_TPS546, 14, 20, 8000, 13000, 14, 19 },
  { "Supra/INA260", &pm_board_supra, PM_POWER_SENSOR_INA260, 11, 15, 2200, 3000, 18, 24 },
  { "Supra/TPS546", &pm_board_supra, PM_POWER_SENSOR_TPS546, 11, 15, 0, 0, 18, 24 },
  { "Ultra/INA260", &pm_board_ultra, PM_POWER_SENSOR_INA260, 10, 14, 2000, 2800, 23, 32 },
  { "Ultra/TPS546", &pm_board_ultra, PM_POWER_SENSOR_TPS546, 10, 14, 0, 0, 23, 32 },
  { "NerdQAxe+/TPS546", &pm_board_nerdqaxe_plus, PM_POWER_SENSOR_TPS546, 40, 55, 0, 0, 0, 0 },
};

static guint64
seed_of (guint i)
{
  return G_GUINT64_CONSTANT (0x5EED0000) + i * G_GUINT64_CONSTANT (7919);
}

/* The expected hashrate, GH/s, from the board's constants (§2.3). */
static double
formula_hashrate (const PmBoard *board,
                  double         mhz)
{
  return mhz * board->small_core_count * board->asic_count / 1000.0;
}

/* Advances @miner from @from to @to in steps of @step. */
static void
run (PmMiner *miner,
     gint64   from,
     gint64   to,
     gint64   step)
{
  gint64 t;

  for (t = from + step; t <= to; t += step)
    pm_miner_advance (miner, t);
}

/* ---- power ----------------------------------------------------------------------- */

static void
check_power_relations (const BoardCase    *c,
                       const PmMinerState *st)
{
  double input_nominal = c->board->nominal_voltage * 1000.0;

  if (c->sensor == PM_POWER_SENSOR_INA260)
    {
      /* power = voltage (input mV) × current (input mA) / 10⁶ */
      g_assert_cmpfloat_with_epsilon (st->power, st->voltage * st->current / 1e6, 1e-9 * st->power);
      g_assert_cmpfloat (st->vr_temp, ==, 0);
    }
  else
    {
      /* power = core voltage × core current + 5 W; voltage × current is
       * not the power. */
      g_assert_cmpfloat_with_epsilon (st->power, st->core_voltage_actual / 1000 * st->current / 1000 + 5,
                                      1e-9 * st->power);
      g_assert_cmpfloat (st->voltage * st->current / 1e6, >, st->power + 5);
      g_assert_cmpfloat (st->vr_temp, >, 30);
      g_assert_cmpfloat (st->vr_temp, <, 80);
    }

  if (c->board->nominal_voltage == 5)
    {
      g_assert_cmpfloat (st->voltage, >=, 4900);
      g_assert_cmpfloat (st->voltage, <=, 5250);
    }
  else
    {
      g_assert_cmpfloat (fabs (st->voltage - input_nominal), <, 0.03 * input_nominal);
    }

  g_assert_cmpfloat (fabs (st->core_voltage_actual / st->core_voltage - 1), <=, 0.02);
}

static void
test_power (void)
{
  guint i, s;

  for (i = 0; i < G_N_ELEMENTS (board_cases); i++)
    {
      const BoardCase *c = &board_cases[i];
      double sum = 0;
      guint n = 0;

      for (s = 0; s < N_SEEDS; s++)
        {
          g_autoptr(PmMiner) miner = pm_miner_new (c->board, c->sensor, seed_of (s), 4000 + s, START);
          gint64 t;

          run (miner, START, START + 20 * MINUTE, 5 * SEC);
          for (t = START + 20 * MINUTE + 5 * SEC; t <= START + 40 * MINUTE; t += 5 * SEC)
            {
              const PmMinerState *st;

              pm_miner_advance (miner, t);
              st = pm_miner_get_state (miner);
              check_power_relations (c, st);
              g_assert_cmpfloat (st->power, >=, c->power_lo);
              g_assert_cmpfloat (st->power, <=, c->power_hi);
              if (c->current_hi > 0)
                {
                  g_assert_cmpfloat (st->current, >=, c->current_lo);
                  g_assert_cmpfloat (st->current, <=, c->current_hi);
                }
              sum += st->power;
              n++;
            }
        }
      g_test_message ("%s: mean power %.2f W", c->name, sum / n);
    }
}

/* A higher core voltage costs power (∝ V²), after the regulator's lag. */
static void
test_power_voltage (void)
{
  g_autoptr(PmMiner) miner = pm_miner_new (&pm_board_gamma, PM_POWER_SENSOR_TPS546, 42, 4001, START);
  const PmMinerState *st = pm_miner_get_state (miner);
  const BoardCase *c = &board_cases[0];
  gint64 t = START + 20 * MINUTE;
  double before_power = 0, after_power = 0;
  guint v_old = pm_board_gamma.default_voltage;
  guint v_new = 1250;
  double expected_ratio = ((double) v_new * v_new) / ((double) v_old * v_old);
  guint i;

  run (miner, START, t, 5 * SEC);
  for (i = 0; i < 60; i++)
    {
      pm_miner_advance (miner, t += 5 * SEC);
      before_power += st->power - 5;
    }

  pm_miner_set_core_voltage (miner, v_new);
  g_assert_cmpuint (st->core_voltage, ==, v_new);
  pm_miner_advance (miner, t += 100 * 1000);
  /* Not there yet after 100 ms... */
  g_assert_cmpfloat (st->core_voltage_actual, <, v_new * 0.98);
  /* ...but within 2 % after a few seconds. */
  pm_miner_advance (miner, t += 10 * SEC);
  g_assert_cmpfloat (fabs (st->core_voltage_actual / v_new - 1), <=, 0.02);
  for (i = 0; i < 60; i++)
    {
      pm_miner_advance (miner, t += 5 * SEC);
      check_power_relations (c, st);
      after_power += st->power - 5;
    }
  g_test_message ("core power %.2f W → %.2f W (V² ratio %.3f)", before_power / 60, after_power / 60, expected_ratio);
  g_assert_cmpfloat (fabs (after_power / before_power / expected_ratio - 1), <, 0.05);
}

static void
test_efficiency (void)
{
  guint i, s;

  for (i = 0; i < G_N_ELEMENTS (board_cases); i++)
    {
      const BoardCase *c = &board_cases[i];
      double lo = G_MAXDOUBLE, hi = 0;

      if (c->efficiency_hi == 0)
        continue;
      for (s = 0; s < N_SEEDS; s++)
        {
          g_autoptr(PmMiner) miner = pm_miner_new (c->board, c->sensor, seed_of (s), 4100 + s, START);
          const PmMinerState *st = pm_miner_get_state (miner);
          gint64 t;

          run (miner, START, START + 30 * MINUTE, 5 * SEC);
          for (t = START + 30 * MINUTE + 5 * SEC; t <= START + 60 * MINUTE; t += 5 * SEC)
            {
              double now, smoothed;

              pm_miner_advance (miner, t);
              now = st->power / (st->hashrate / 1000);
              smoothed = st->power / (st->hashrate_10m / 1000);
              lo = MIN (lo, MIN (now, smoothed));
              hi = MAX (hi, MAX (now, smoothed));
              g_assert_cmpfloat (now, >=, c->efficiency_lo);
              g_assert_cmpfloat (now, <=, c->efficiency_hi);
              g_assert_cmpfloat (smoothed, >=, c->efficiency_lo);
              g_assert_cmpfloat (smoothed, <=, c->efficiency_hi);
            }
        }
      g_test_message ("%s: efficiency %.1f-%.1f J/TH", c->name, lo, hi);
    }
}

/* Per ASIC, the domains sum to that ASIC's share; the ASICs to the
 * hashrate. */
static void
test_domains (void)
{
  guint i, a, d;

  for (i = 0; i < G_N_ELEMENTS (board_cases); i++)
    {
      const BoardCase *c = &board_cases[i];
      g_autoptr(PmMiner) miner = pm_miner_new (c->board, c->sensor, 7, 4200, START);
      const PmMinerState *st = pm_miner_get_state (miner);
      gint64 t;

      for (t = START + 5 * SEC; t <= START + 10 * MINUTE; t += 5 * SEC)
        {
          double total = 0;

          pm_miner_advance (miner, t);
          for (a = 0; a < 16; a++)
            {
              double asic = 0;

              for (d = 0; d < 4; d++)
                {
                  if (a >= c->board->asic_count || d >= c->board->hash_domains)
                    {
                      g_assert_cmpfloat (st->domain_hashrate[a][d], ==, 0);
                      continue;
                    }
                  g_assert_cmpfloat (st->domain_hashrate[a][d], >=, 0);
                  asic += st->domain_hashrate[a][d];
                }
              if (a < c->board->asic_count && st->hashrate > 0)
                g_assert_cmpfloat (fabs (asic / (st->hashrate / c->board->asic_count) - 1), <, 0.1);
              total += asic;
            }
          g_assert_cmpfloat_with_epsilon (total, st->hashrate, 1e-9 * st->hashrate + 1e-12);
          g_assert_cmpfloat (st->error_percentage, >=, 0);
          g_assert_cmpfloat (st->error_percentage, <=, 3);
        }
    }
}

/* Errors rise with frequency stress. */
static void
test_errors (void)
{
  double stock = 0, stressed = 0;
  guint s;

  for (s = 0; s < N_SEEDS; s++)
    {
      g_autoptr(PmMiner) a = pm_miner_new (&pm_board_gamma, PM_POWER_SENSOR_TPS546, seed_of (s), 4300, START);
      g_autoptr(PmMiner) b = pm_miner_new (&pm_board_gamma, PM_POWER_SENSOR_TPS546, seed_of (s), 4300, START);

      pm_miner_set_frequency (b, 625);
      pm_miner_set_core_voltage (b, 1000);
      run (a, START, START + 10 * MINUTE, 5 * SEC);
      run (b, START, START + 10 * MINUTE, 5 * SEC);
      stock += pm_miner_get_state (a)->error_percentage;
      stressed += pm_miner_get_state (b)->error_percentage;
      g_assert_cmpfloat (pm_miner_get_state (b)->error_percentage, <=, 3);
    }
  g_test_message ("error %%: stock %.2f, 625 MHz at 1000 mV %.2f", stock / N_SEEDS, stressed / N_SEEDS);
  g_assert_cmpfloat (stock / N_SEEDS, <, 1.5);
  g_assert_cmpfloat (stressed / N_SEEDS, >, stock / N_SEEDS + 0.5);
}

/* ---- hashrate averages ------------------------------------------------------------- */

static void
test_averages (void)
{
  g_autoptr(PmMiner) miner = pm_miner_new (&pm_board_gamma, PM_POWER_SENSOR_TPS546, 99, 4400, START);
  const PmMinerState *st = pm_miner_get_state (miner);
  double level = formula_hashrate (&pm_board_gamma, pm_board_gamma.default_frequency);
  double window_sum = 0;
  guint window_n = 0;
  gint64 t;

  /* All zero at boot. */
  g_assert_cmpfloat (st->hashrate, ==, 0);
  g_assert_cmpfloat (st->hashrate_1m, ==, 0);
  g_assert_cmpfloat (st->hashrate_10m, ==, 0);
  g_assert_cmpfloat (st->hashrate_1h, ==, 0);
  g_assert_cmpfloat (st->hashrate_1d, ==, 0);
  g_assert_cmpfloat (st->expected_hashrate, ==, level);

  /* Ramping up, not jumping. */
  pm_miner_advance (miner, START + 10 * SEC);
  g_assert_cmpfloat (st->hashrate_1m, >, 0);
  g_assert_cmpfloat (st->hashrate_1m, <, 0.3 * level);

  /* After 5 minutes the 1 m average is at the level; the longer ones
   * are still on their way. */
  for (t = START + 15 * SEC; t <= START + 5 * MINUTE; t += 5 * SEC)
    {
      pm_miner_advance (miner, t);
      if (t > START + 4 * MINUTE)
        {
          window_sum += st->hashrate;
          window_n++;
        }
    }
  g_test_message ("5 min: 1m %.1f, 10m %.1f, 1h %.1f, last minute %.1f GH/s",
                  st->hashrate_1m, st->hashrate_10m, st->hashrate_1h, window_sum / window_n);
  g_assert_cmpfloat (fabs (st->hashrate_1m / level - 1), <, 0.08);
  g_assert_cmpfloat (fabs (st->hashrate_1m / (window_sum / window_n) - 1), <, 0.04);
  g_assert_cmpfloat (st->hashrate_10m, <, 0.7 * level);
  g_assert_cmpfloat (st->hashrate_1h, <, 0.2 * level);
  g_assert_cmpfloat (st->hashrate_1d, <, st->hashrate_1h);

  /* After an hour the 10 m average is at the level too. */
  window_sum = 0;
  window_n = 0;
  for (t = START + 5 * MINUTE + 5 * SEC; t <= START + HOUR; t += 5 * SEC)
    {
      pm_miner_advance (miner, t);
      if (t > START + 50 * MINUTE)
        {
          window_sum += st->hashrate;
          window_n++;
        }
    }
  g_test_message ("1 h: 10m %.1f, 1h %.1f, 1d %.1f, last 10 minutes %.1f GH/s",
                  st->hashrate_10m, st->hashrate_1h, st->hashrate_1d, window_sum / window_n);
  g_assert_cmpfloat (fabs (st->hashrate_10m / level - 1), <, 0.06);
  g_assert_cmpfloat (fabs (st->hashrate_10m / (window_sum / window_n) - 1), <, 0.03);
  g_assert_cmpfloat (st->hashrate_1h, >, 0.4 * level);
  g_assert_cmpfloat (st->hashrate_1h, <, 0.9 * level);
  g_assert_cmpfloat (st->hashrate_1d, <, 0.2 * level);

  /* The instantaneous hashrate fluctuates around the level, by a few
   * per cent. */
  {
    double lo = G_MAXDOUBLE, hi = 0;

    for (t = START + HOUR + 5 * SEC; t <= START + 6 * HOUR; t += 5 * SEC)
      {
        pm_miner_advance (miner, t);
        lo = MIN (lo, st->hashrate);
        hi = MAX (hi, st->hashrate);
      }
    g_test_message ("hashrate over 5 h: %.1f-%.1f GH/s, expected %.1f", lo, hi, level);
    g_assert_cmpfloat (lo, >, 0.9 * level);
    g_assert_cmpfloat (hi, <, 1.1 * level);
    g_assert_cmpfloat (hi - lo, >, 0.03 * level);
    g_assert_cmpfloat (fabs (st->hashrate_1h / level - 1), <, 0.05);
  }
}

/* ---- counters ----------------------------------------------------------------------- */

static gint64
random_gap (GRand *rand)
{
  /* Log-uniform from 1 ms to 2 h, sometimes less than a millisecond. */
  if (g_rand_int_range (rand, 0, 20) == 0)
    return g_rand_int_range (rand, 1, 1000);
  return (gint64) (1000 * exp (g_rand_double_range (rand, 0, log (7.2e6))));
}

static void
check_scoreboard (const PmMinerState *st,
                  double              min_pool)
{
  guint i;

  g_assert_cmpuint (st->n_scoreboard, <=, PM_MINER_SCOREBOARD_SIZE);
  if (st->n_scoreboard > 0)
    g_assert_cmpfloat (st->scoreboard[0].difficulty, ==, st->best_session_diff);
  else
    g_assert_cmpfloat (st->best_session_diff, ==, 0);
  for (i = 0; i < st->n_scoreboard; i++)
    {
      g_assert_cmpfloat (st->scoreboard[i].difficulty, >=, min_pool);
      if (i > 0)
        g_assert_cmpfloat (st->scoreboard[i].difficulty, <=, st->scoreboard[i - 1].difficulty);
    }
}

static void
test_counters (void)
{
  static const double pools[] = { 1000, 512, 4096, 65536 };
  guint s;

  for (s = 0; s < 4; s++)
    {
      const PmBoard *board = s % 2 ? &pm_board_nerdqaxe_plus : &pm_board_gamma;
      g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_TPS546, seed_of (s), 4500, START);
      g_autoptr(GRand) rand = g_rand_new_with_seed (s + 1);
      const PmMinerState *st = pm_miner_get_state (miner);
      PmMinerState prev;
      gint64 t = START;
      guint restarts = 0;
      guint step, a, r;

      for (step = 0; step < 4000; step++)
        {
          gboolean restarted = FALSE;

          prev = *st;
          t += random_gap (rand);
          if (g_rand_int_range (rand, 0, 500) == 0)
            {
              pm_miner_restart (miner, t);
              restarted = TRUE;
              restarts++;
            }
          else
            {
              if (g_rand_int_range (rand, 0, 200) == 0)
                pm_miner_set_pool_difficulty (miner, pools[g_rand_int_range (rand, 0, G_N_ELEMENTS (pools))]);
              pm_miner_advance (miner, t);
            }

          /* Kept across restarts. */
          g_assert_cmpfloat (st->best_diff, >=, prev.best_diff);
          g_assert_cmpuint (st->total_uptime_seconds, >=, prev.total_uptime_seconds);
          g_assert_cmpfloat (st->total_hashes, >=, prev.total_hashes);
          g_assert_cmpfloat (st->best_diff, >=, st->best_session_diff);
          g_assert_cmpuint (st->shares_rejected, ==,
                            st->reject_reasons[0].count + st->reject_reasons[1].count + st->reject_reasons[2].count);
          check_scoreboard (st, 512);
          if (restarted)
            continue;

          /* Monotonic within a boot. */
          g_assert_cmpint (st->ms_since_boot, >=, prev.ms_since_boot);
          g_assert_cmpuint (st->uptime_seconds, >=, prev.uptime_seconds);
          g_assert_cmpuint (st->shares_accepted, >=, prev.shares_accepted);
          g_assert_cmpuint (st->shares_rejected, >=, prev.shares_rejected);
          for (r = 0; r < PM_MINER_N_REJECT_REASONS; r++)
            g_assert_cmpuint (st->reject_reasons[r].count, >=, prev.reject_reasons[r].count);
          g_assert_cmpfloat (st->best_session_diff, >=, prev.best_session_diff);
          g_assert_cmpuint (st->work_received, >=, prev.work_received);
          g_assert_cmpuint (st->job_id, >=, prev.job_id);
          g_assert_cmpuint (st->block_height, >=, prev.block_height);
          for (a = 0; a < 16; a++)
            g_assert_cmpuint (st->asic_error_count[a], >=, prev.asic_error_count[a]);
        }
      g_test_message ("%s: %u restarts, %" G_GUINT64_FORMAT " accepted, %" G_GUINT64_FORMAT
                      " rejected since the last, best %.4g",
                      board->device_model, restarts, st->shares_accepted, st->shares_rejected, st->best_diff);
      g_assert_cmpuint (restarts, >, 0);
      g_assert_cmpuint (st->shares_accepted, >, 0);
    }
}

/* Shares come at the rate of hashes ÷ (difficulty × 2³²), and a few
 * percent at most are rejected. */
static void
test_share_rate (void)
{
  g_autoptr(PmMiner) miner = pm_miner_new (&pm_board_gamma, PM_POWER_SENSOR_TPS546, 5, 4550, START);
  const PmMinerState *st = pm_miner_get_state (miner);
  double pool = 2048;
  double mean, shares, rejected_part;

  pm_miner_set_pool_difficulty (miner, pool);
  run (miner, START, START + 2 * HOUR, 5 * SEC);
  mean = st->total_hashes / (pool * 4294967296.0);
  shares = st->shares_accepted + st->shares_rejected;
  rejected_part = st->shares_rejected / shares;
  g_test_message ("%.0f shares for a mean of %.1f; %.2f %% rejected", shares, mean, 100 * rejected_part);
  g_assert_cmpfloat (fabs (shares - mean), <, 5 * sqrt (mean));
  /* Accepted: about 1-10 per minute at difficulty 1000, so more than
   * one a minute here. */
  g_assert_cmpfloat (st->shares_accepted / 120.0, >, 1);
  g_assert_cmpfloat (rejected_part, >, 0);
  g_assert_cmpfloat (rejected_part, <, 0.02);
  g_assert_cmpfloat (st->response_time, >=, 20);
  g_assert_cmpfloat (st->response_time, <=, 300);
}

/* ---- temperature and fan --------------------------------------------------------------- */

static void
check_fan (const PmBoard      *board,
           const PmMinerState *st)
{
  double rpm = st->fan_duty / 100 * board->fan_max_rpm;

  g_assert_cmpfloat (fabs (st->fan_rpm - rpm), <=, 0.06 * rpm + 30);
}

static void
test_temperature_auto (void)
{
  static const guint targets[] = { 55, 60, 65 };
  guint i, k;

  for (i = 0; i < G_N_ELEMENTS (board_cases); i++)
    for (k = 0; k < G_N_ELEMENTS (targets); k++)
      {
        const BoardCase *c = &board_cases[i];
        g_autoptr(PmMiner) miner = pm_miner_new (c->board, c->sensor, seed_of (k), 4600 + i, START);
        const PmMinerState *st = pm_miner_get_state (miner);
        double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
        gint64 t;

        pm_miner_set_fan (miner, TRUE, 100, 25, targets[k]);
        run (miner, START, START + 20 * MINUTE, 5 * SEC);
        for (t = START + 20 * MINUTE + 5 * SEC; t <= START + 50 * MINUTE; t += 5 * SEC)
          {
            pm_miner_advance (miner, t);
            lo = MIN (lo, st->temp);
            hi = MAX (hi, st->temp);
            g_assert_cmpfloat (st->fan_duty, >=, 25);
            g_assert_cmpfloat (st->fan_duty, <=, 100);
            check_fan (c->board, st);
          }
        g_test_message ("%s, target %u: %.1f-%.1f °C, fan %.1f %%", c->name, targets[k], lo, hi, st->fan_duty);
        g_assert_cmpfloat (lo, >=, targets[k] - 2.0);
        g_assert_cmpfloat (hi, <=, targets[k] + 2.0);
      }
}

static void
test_temperature_manual (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (board_cases); i++)
    {
      const BoardCase *c = &board_cases[i];
      g_autoptr(PmMiner) miner = pm_miner_new (c->board, c->sensor, 11, 4700 + i, START);
      const PmMinerState *st = pm_miner_get_state (miner);
      gint64 t = START + 30 * MINUTE;
      double slow, fast;

      /* A slow fan at full power: hotter than the target, which only
       * the controller would hold, though not past the firmware's
       * overheat limit, which 20 % would pass. */
      pm_miner_set_fan (miner, FALSE, 30, 25, 60);
      run (miner, START, t, 5 * SEC);
      slow = st->temp;
      g_assert_false (st->settings_overheat_mode);
      g_assert_cmpfloat (fabs (st->fan_duty - 30), <, 0.5);
      check_fan (c->board, st);
      g_assert_cmpfloat (slow, >, 65);

      /* Full speed: cooler than the target. */
      pm_miner_set_fan (miner, FALSE, 100, 25, 60);
      run (miner, t, t + 30 * MINUTE, 5 * SEC);
      t += 30 * MINUTE;
      fast = st->temp;
      g_assert_cmpfloat (st->fan_duty, >, 99.5);
      check_fan (c->board, st);
      g_assert_cmpfloat (fast, <, 58);

      /* Back to the controller: back to the target. */
      pm_miner_set_fan (miner, TRUE, 100, 25, 60);
      run (miner, t, t + 20 * MINUTE, 5 * SEC);
      g_test_message ("%s: 30 %% fan %.1f °C, 100 %% fan %.1f °C, auto %.1f °C at %.1f %%",
                      c->name, slow, fast, st->temp, st->fan_duty);
      g_assert_cmpfloat (fabs (st->temp - 60), <=, 2);
    }
}

/* ---- settings ----------------------------------------------------------------------------- */

static gboolean
has_event (PmMiner          *miner,
           PmMinerEventKind  kind,
           double            value)
{
  PmMinerEvent events[PM_MINER_EVENTS_KEPT];
  guint n = pm_miner_copy_events (miner, -1, events, G_N_ELEMENTS (events));
  guint i;

  for (i = 0; i < n; i++)
    if (events[i].kind == kind && events[i].value == value)
      return TRUE;
  return FALSE;
}

static void
check_follows_actual_frequency (const PmBoard      *board,
                                const PmMinerState *st)
{
  double following = formula_hashrate (board, st->actual_frequency);

  g_assert_cmpfloat (fabs (st->hashrate / following - 1), <, 0.1);
}

static void
test_frequency (void)
{
  const PmBoard *board = &pm_board_gamma;
  g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 3, 4800, START);
  const PmMinerState *st = pm_miner_get_state (miner);
  gint64 t = START + 10 * MINUTE;
  double before;
  guint i;

  /* From 50 MHz at boot. */
  g_assert_cmpfloat (st->actual_frequency, ==, 50);
  pm_miner_advance (miner, START + 4 * SEC);
  g_assert_cmpfloat (st->actual_frequency, >, 50);
  g_assert_cmpfloat (st->actual_frequency, <, board->default_frequency);
  check_follows_actual_frequency (board, st);
  g_assert_true (has_event (miner, PM_MINER_EVENT_FREQUENCY, board->default_frequency));

  run (miner, START + 4 * SEC, t, 5 * SEC);
  g_assert_cmpfloat (fabs (st->actual_frequency - board->default_frequency), <, 0.5);
  before = st->hashrate;

  /* Up: the expected hashrate moves at once, the rest follows. */
  pm_miner_set_frequency (miner, 625);
  g_assert_cmpfloat (st->frequency, ==, 625);
  g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, 625));
  pm_miner_advance (miner, t += 500 * 1000);
  g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, 625));
  g_assert_cmpfloat (st->actual_frequency, >, board->default_frequency);
  g_assert_cmpfloat (st->actual_frequency, <, 625 - 0.5 * (625 - board->default_frequency));
  check_follows_actual_frequency (board, st);
  g_assert_true (has_event (miner, PM_MINER_EVENT_FREQUENCY, 625));
  for (i = 0; i < 10; i++)
    {
      pm_miner_advance (miner, t += 500 * 1000);
      check_follows_actual_frequency (board, st);
    }
  run (miner, t, t + 60 * SEC, 5 * SEC);
  t += 60 * SEC;
  g_assert_cmpfloat (fabs (st->actual_frequency - 625), <, 0.5);
  g_assert_cmpfloat (fabs (st->hashrate / formula_hashrate (board, 625) - 1), <, 0.1);
  g_test_message ("%.1f GH/s at %u MHz, %.1f GH/s at 625 MHz", before, board->default_frequency, st->hashrate);

  /* Down. */
  pm_miner_set_frequency (miner, 400);
  g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, 400));
  pm_miner_advance (miner, t += 1 * SEC);
  g_assert_cmpfloat (st->actual_frequency, >, 450);
  run (miner, t, t + 60 * SEC, 5 * SEC);
  g_assert_cmpfloat (fabs (st->actual_frequency - 400), <, 0.5);
  g_assert_cmpfloat (fabs (st->hashrate / formula_hashrate (board, 400) - 1), <, 0.1);
}

static void
test_pause (void)
{
  const PmBoard *board = &pm_board_supra;
  g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_INA260, 8, 4900, START);
  const PmMinerState *st = pm_miner_get_state (miner);
  gint64 t = START + 20 * MINUTE;
  double running_power;
  guint64 accepted;

  run (miner, START, t, 5 * SEC);
  running_power = st->power;
  g_assert_cmpfloat (st->hashrate, >, 0);

  pm_miner_set_paused (miner, TRUE);
  g_assert_true (st->paused);
  g_assert_cmpfloat (st->expected_hashrate, ==, 0);
  pm_miner_advance (miner, t += 2 * SEC);
  g_assert_cmpfloat (st->expected_hashrate, ==, 0);
  g_assert_cmpfloat (st->hashrate, ==, 0);
  g_assert_cmpfloat (st->temp, ==, -1);
  g_assert_cmpfloat (st->asic_temps[0], ==, -1);
  g_assert_cmpfloat (st->power, <, 0.5 * running_power);
  check_power_relations (&board_cases[1], st);
  accepted = st->shares_accepted;
  run (miner, t, t + 30 * MINUTE, 5 * SEC);
  t += 30 * MINUTE;
  g_assert_cmpuint (st->shares_accepted, ==, accepted);
  g_assert_cmpfloat (st->hashrate_1m, <, 0.01 * formula_hashrate (board, board->default_frequency));
  g_assert_cmpfloat (st->temp, ==, -1);

  pm_miner_set_paused (miner, FALSE);
  g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, board->default_frequency));
  pm_miner_advance (miner, t += 1 * SEC);
  g_assert_cmpfloat (st->actual_frequency, <, board->default_frequency - 50);
  g_assert_cmpfloat (st->temp, >, 0);
  run (miner, t, t + 5 * MINUTE, 5 * SEC);
  g_assert_cmpfloat (fabs (st->hashrate / st->expected_hashrate - 1), <, 0.1);
  g_assert_cmpuint (st->shares_accepted, >, accepted);
}

/* ---- restart ------------------------------------------------------------------------------ */

static void
test_restart (void)
{
  const PmBoard *board = &pm_board_gamma;
  g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 12, 5000, START);
  const PmMinerState *st = pm_miner_get_state (miner);
  PmMinerEvent events[PM_MINER_EVENTS_KEPT];
  gint64 t = START + HOUR;
  PmMinerState before;
  guint n, a, r;

  pm_miner_set_frequency (miner, 550);
  pm_miner_set_core_voltage (miner, 1200);
  pm_miner_set_pool_difficulty (miner, 256);
  run (miner, START, t, 5 * SEC);
  before = *st;
  g_assert_cmpuint (before.uptime_seconds, ==, 3600);
  g_assert_cmpuint (before.shares_accepted, >, 0);
  g_assert_cmpuint (before.work_received, >, 0);
  g_assert_cmpfloat (before.best_session_diff, >, 0);
  g_assert_cmpuint (before.n_scoreboard, >, 0);
  g_assert_cmpfloat (before.hashrate_1m, >, 0);

  pm_miner_restart (miner, t += 30 * SEC);

  g_assert_cmpint (st->ms_since_boot, ==, 0);
  g_assert_cmpuint (st->uptime_seconds, ==, 0);
  g_assert_cmpuint (st->shares_accepted, ==, 0);
  g_assert_cmpuint (st->shares_rejected, ==, 0);
  for (r = 0; r < PM_MINER_N_REJECT_REASONS; r++)
    g_assert_cmpuint (st->reject_reasons[r].count, ==, 0);
  g_assert_cmpuint (st->work_received, ==, 0);
  g_assert_cmpfloat (st->best_session_diff, ==, 0);
  g_assert_cmpuint (st->n_scoreboard, ==, 0);
  g_assert_cmpfloat (st->hashrate, ==, 0);
  g_assert_cmpfloat (st->hashrate_1m, ==, 0);
  g_assert_cmpfloat (st->hashrate_10m, ==, 0);
  g_assert_cmpfloat (st->hashrate_1h, ==, 0);
  g_assert_cmpfloat (st->hashrate_1d, ==, 0);
  g_assert_cmpfloat (st->actual_frequency, ==, 50);
  for (a = 0; a < 16; a++)
    g_assert_cmpuint (st->asic_error_count[a], ==, 0);

  /* Kept. */
  g_assert_cmpfloat (st->best_diff, ==, before.best_diff);
  g_assert_cmpuint (st->total_uptime_seconds, >=, before.total_uptime_seconds + 30);
  g_assert_cmpfloat (st->total_hashes, >=, before.total_hashes);
  g_assert_cmpfloat (st->frequency, ==, 550);
  g_assert_cmpuint (st->core_voltage, ==, 1200);
  g_assert_cmpfloat (st->pool_difficulty, ==, 256);
  g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, 550));

  /* The log starts again with the boot. */
  n = pm_miner_copy_events (miner, -1, events, G_N_ELEMENTS (events));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (events[0].kind, ==, PM_MINER_EVENT_BOOT);
  g_assert_cmpint (events[0].ms_since_boot, ==, 0);

  /* And everything ramps up again. */
  pm_miner_advance (miner, t + 5 * SEC);
  g_assert_cmpuint (st->uptime_seconds, ==, 5);
  g_assert_cmpuint (st->total_uptime_seconds, ==, before.total_uptime_seconds + 30 + 5);
  g_assert_cmpfloat (st->hashrate_1m, <, 0.3 * st->expected_hashrate);
  run (miner, t + 5 * SEC, t + 10 * MINUTE, 5 * SEC);
  g_assert_cmpfloat (fabs (st->actual_frequency - 550), <, 0.5);
  g_assert_cmpuint (st->shares_accepted, >, 0);
  g_assert_cmpfloat (st->best_diff, >=, before.best_diff);
  g_assert_cmpfloat (st->best_diff, >=, st->best_session_diff);
}

/* ---- identity and determinism -------------------------------------------------------------- */

static void
check_mac (const char *mac)
{
  guint i, first;

  g_assert_cmpuint (strlen (mac), ==, 17);
  for (i = 0; i < 17; i++)
    {
      if (i % 3 == 2)
        g_assert_cmpint (mac[i], ==, ':');
      else
        g_assert_true (g_ascii_isdigit (mac[i]) || (mac[i] >= 'A' && mac[i] <= 'F'));
    }
  first = g_ascii_xdigit_value (mac[0]) * 16 + g_ascii_xdigit_value (mac[1]);
  g_assert_cmpuint (first & 0x02, ==, 0x02);  /* locally administered */
  g_assert_cmpuint (first & 0x01, ==, 0);     /* unicast */
}

static void
test_mac (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char mac[18], again[18], other_seed[18];
  guint port;

  for (port = 1; port <= 20000; port++)
    {
      pm_miner_format_mac (77, port, mac);
      check_mac (mac);
      g_assert_false (g_hash_table_contains (seen, mac));
      g_hash_table_add (seen, g_strdup (mac));
      pm_miner_format_mac (77, port, again);
      g_assert_cmpstr (mac, ==, again);
    }
  pm_miner_format_mac (77, 8080, mac);
  pm_miner_format_mac (78, 8080, other_seed);
  g_assert_cmpstr (mac, !=, other_seed);
  pm_miner_format_mac (0, 0, mac);
  check_mac (mac);
  pm_miner_format_mac (G_MAXUINT64, G_MAXUINT, mac);
  check_mac (mac);
}

static void
assert_states_equal (const PmMinerState *a,
                     const PmMinerState *b)
{
  guint i, j;

  g_assert_cmpint (a->ms_since_boot, ==, b->ms_since_boot);
  g_assert_cmpuint (a->total_uptime_seconds, ==, b->total_uptime_seconds);
  g_assert_cmpfloat (a->total_hashes, ==, b->total_hashes);
  g_assert_cmpfloat (a->actual_frequency, ==, b->actual_frequency);
  g_assert_cmpfloat (a->core_voltage_actual, ==, b->core_voltage_actual);
  g_assert_cmpfloat (a->hashrate, ==, b->hashrate);
  g_assert_cmpfloat (a->hashrate_1m, ==, b->hashrate_1m);
  g_assert_cmpfloat (a->hashrate_1d, ==, b->hashrate_1d);
  for (i = 0; i < 16; i++)
    {
      for (j = 0; j < 4; j++)
        g_assert_cmpfloat (a->domain_hashrate[i][j], ==, b->domain_hashrate[i][j]);
      g_assert_cmpuint (a->asic_error_count[i], ==, b->asic_error_count[i]);
      g_assert_cmpfloat (a->asic_temps[i], ==, b->asic_temps[i]);
    }
  g_assert_cmpfloat (a->error_percentage, ==, b->error_percentage);
  g_assert_cmpfloat (a->power, ==, b->power);
  g_assert_cmpfloat (a->voltage, ==, b->voltage);
  g_assert_cmpfloat (a->current, ==, b->current);
  g_assert_cmpfloat (a->temp, ==, b->temp);
  g_assert_cmpfloat (a->vr_temp, ==, b->vr_temp);
  g_assert_cmpfloat (a->fan_duty, ==, b->fan_duty);
  g_assert_cmpuint (a->fan_rpm, ==, b->fan_rpm);
  g_assert_cmpuint (a->shares_accepted, ==, b->shares_accepted);
  g_assert_cmpuint (a->shares_rejected, ==, b->shares_rejected);
  for (i = 0; i < PM_MINER_N_REJECT_REASONS; i++)
    g_assert_cmpuint (a->reject_reasons[i].count, ==, b->reject_reasons[i].count);
  g_assert_cmpfloat (a->best_diff, ==, b->best_diff);
  g_assert_cmpfloat (a->best_session_diff, ==, b->best_session_diff);
  g_assert_cmpfloat (a->network_difficulty, ==, b->network_difficulty);
  g_assert_cmpuint (a->block_height, ==, b->block_height);
  g_assert_cmpuint (a->work_received, ==, b->work_received);
  g_assert_cmpfloat (a->response_time, ==, b->response_time);
  g_assert_cmpuint (a->job_id, ==, b->job_id);
  g_assert_cmpuint (a->n_scoreboard, ==, b->n_scoreboard);
  for (i = 0; i < a->n_scoreboard; i++)
    {
      g_assert_cmpfloat (a->scoreboard[i].difficulty, ==, b->scoreboard[i].difficulty);
      g_assert_cmpuint (a->scoreboard[i].nonce, ==, b->scoreboard[i].nonce);
      g_assert_cmpuint (a->scoreboard[i].extranonce2, ==, b->scoreboard[i].extranonce2);
      g_assert_cmpuint (a->scoreboard[i].ntime, ==, b->scoreboard[i].ntime);
      g_assert_cmpuint (a->scoreboard[i].version_bits, ==, b->scoreboard[i].version_bits);
    }
  g_assert_cmpuint (a->free_heap, ==, b->free_heap);
  g_assert_cmpuint (a->min_free_heap, ==, b->min_free_heap);
  g_assert_cmpfloat (a->cpu_usage, ==, b->cpu_usage);
  g_assert_cmpint (a->wifi_rssi, ==, b->wifi_rssi);
}

static void
test_deterministic (void)
{
  g_autoptr(PmMiner) a = pm_miner_new (&pm_board_nerdqaxe_plus, PM_POWER_SENSOR_TPS546, 2024, 8001, START);
  g_autoptr(PmMiner) b = pm_miner_new (&pm_board_nerdqaxe_plus, PM_POWER_SENSOR_TPS546, 2024, 8001, START);
  g_autoptr(PmMiner) c = pm_miner_new (&pm_board_nerdqaxe_plus, PM_POWER_SENSOR_TPS546, 2024, 8002, START);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  PmMinerEvent ea[PM_MINER_EVENTS_KEPT], eb[PM_MINER_EVENTS_KEPT];
  gint64 t = START;
  guint differ = 0;
  guint step, i, na, nb;

  assert_states_equal (pm_miner_get_state (a), pm_miner_get_state (b));
  for (step = 0; step < 2000; step++)
    {
      t += random_gap (rand) / 10;
      switch (step)
        {
        case 300:
          pm_miner_set_frequency (a, 550);
          pm_miner_set_frequency (b, 550);
          pm_miner_set_frequency (c, 550);
          break;
        case 600:
          pm_miner_restart (a, t);
          pm_miner_restart (b, t);
          pm_miner_restart (c, t);
          break;
        case 900:
          pm_miner_set_fan (a, FALSE, 40, 25, 60);
          pm_miner_set_fan (b, FALSE, 40, 25, 60);
          pm_miner_set_fan (c, FALSE, 40, 25, 60);
          break;
        default:
          break;
        }
      pm_miner_advance (a, t);
      pm_miner_advance (b, t);
      pm_miner_advance (c, t);
      assert_states_equal (pm_miner_get_state (a), pm_miner_get_state (b));
      na = pm_miner_copy_events (a, -1, ea, G_N_ELEMENTS (ea));
      nb = pm_miner_copy_events (b, -1, eb, G_N_ELEMENTS (eb));
      g_assert_cmpuint (na, ==, nb);
      for (i = 0; i < na; i++)
        {
          g_assert_cmpint (ea[i].ms_since_boot, ==, eb[i].ms_since_boot);
          g_assert_cmpint (ea[i].kind, ==, eb[i].kind);
          g_assert_cmpfloat (ea[i].value, ==, eb[i].value);
          g_assert_true (ea[i].reason == eb[i].reason);
        }
      if (pm_miner_get_state (a)->hashrate != pm_miner_get_state (c)->hashrate)
        differ++;
    }
  /* Another port is another device. */
  g_assert_cmpuint (differ, >, 1000);
}

/* ---- events ------------------------------------------------------------------------------- */

static void
test_events (void)
{
  const PmBoard *board = &pm_board_gamma;
  g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 21, 5100, START);
  const PmMinerState *st = pm_miner_get_state (miner);
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (PmMinerEvent));
  PmMinerEvent batch[PM_MINER_EVENTS_KEPT];
  gint64 after = -1;
  gint64 t;
  gint64 last_temp = -1, last_job = -1;
  guint found = 0, accepted = 0, rejected = 0, temps = 0, jobs = 0, bests = 0, frequencies = 0;
  double best = 0;
  double last_job_id = -1;
  guint n, i, r;

  n = pm_miner_copy_events (miner, -1, batch, G_N_ELEMENTS (batch));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (batch[0].kind, ==, PM_MINER_EVENT_BOOT);
  g_assert_cmpint (batch[0].ms_since_boot, ==, 0);
  g_array_append_vals (all, batch, n);
  after = 0;

  /* Many shares: a low difficulty. */
  pm_miner_set_pool_difficulty (miner, 256);
  for (t = START + 5 * SEC; t <= START + 30 * MINUTE; t += 5 * SEC)
    {
      pm_miner_advance (miner, t);
      n = pm_miner_copy_events (miner, after, batch, G_N_ELEMENTS (batch));
      /* Far from the ring's size: nothing was lost between reads. */
      g_assert_cmpuint (n, <, PM_MINER_EVENTS_KEPT);
      for (i = 0; i < n; i++)
        {
          g_assert_cmpint (batch[i].ms_since_boot, >, after);
          g_assert_cmpint (batch[i].ms_since_boot, <=, st->ms_since_boot);
          if (i > 0)
            g_assert_cmpint (batch[i].ms_since_boot, >=, batch[i - 1].ms_since_boot);
        }
      if (n > 0)
        {
          g_array_append_vals (all, batch, n);
          after = batch[n - 1].ms_since_boot;
        }
      g_assert_cmpuint (pm_miner_copy_events (miner, after, batch, G_N_ELEMENTS (batch)), ==, 0);
    }

  for (i = 0; i < all->len; i++)
    {
      const PmMinerEvent *e = &g_array_index (all, PmMinerEvent, i);

      switch (e->kind)
        {
        case PM_MINER_EVENT_BOOT:
          g_assert_cmpuint (i, ==, 0);
          break;
        case PM_MINER_EVENT_NEW_JOB:
          if (last_job >= 0)
            {
              g_assert_cmpint (e->ms_since_boot - last_job, >=, 10000);
              g_assert_cmpint (e->ms_since_boot - last_job, <=, 30000);
              g_assert_cmpfloat (e->value, ==, last_job_id + 1);
            }
          last_job = e->ms_since_boot;
          last_job_id = e->value;
          jobs++;
          break;
        case PM_MINER_EVENT_SHARE_FOUND:
          g_assert_cmpfloat (e->value, >=, 256);
          found++;
          break;
        case PM_MINER_EVENT_SHARE_ACCEPTED:
          g_assert_cmpfloat (e->value, >=, 256);
          g_assert_null (e->reason);
          accepted++;
          break;
        case PM_MINER_EVENT_SHARE_REJECTED:
          g_assert_cmpfloat (e->value, >=, 256);
          g_assert_nonnull (e->reason);
          for (r = 0; r < PM_MINER_N_REJECT_REASONS; r++)
            if (g_strcmp0 (e->reason, st->reject_reasons[r].message) == 0)
              break;
          g_assert_cmpuint (r, <, PM_MINER_N_REJECT_REASONS);
          rejected++;
          break;
        case PM_MINER_EVENT_TEMPERATURE:
          if (last_temp >= 0)
            {
              g_assert_cmpint (e->ms_since_boot - last_temp, >=, 5000);
              g_assert_cmpint (e->ms_since_boot - last_temp, <=, 10000);
            }
          g_assert_cmpfloat (e->value, >, 15);
          g_assert_cmpfloat (e->value, <, 90);
          last_temp = e->ms_since_boot;
          temps++;
          break;
        case PM_MINER_EVENT_FREQUENCY:
          g_assert_cmpfloat (e->value, ==, board->default_frequency);
          frequencies++;
          break;
        case PM_MINER_EVENT_NEW_BEST:
          g_assert_cmpfloat (e->value, >, best);
          best = e->value;
          bests++;
          break;
        case PM_MINER_EVENT_OVERHEAT:
        case PM_MINER_EVENT_SAFE_MODE:
        case PM_MINER_EVENT_OVERHEAT_RECOVERED:
        case PM_MINER_EVENT_POOL_DOWN:
        case PM_MINER_EVENT_POOL_FALLBACK:
        case PM_MINER_EVENT_POOLS_UNAVAILABLE:
        case PM_MINER_EVENT_POOL_RESTORED:
        case PM_MINER_EVENT_POWER_FAULT:
        default:
          g_assert_not_reached ();
        }
    }
  g_test_message ("%u events: %u jobs, %u shares (%u rejected), %u readings, %u new bests",
                  all->len, jobs, found, rejected, temps, bests);
  /* Every share of every step was logged, and answered. */
  g_assert_cmpuint (found, ==, st->shares_accepted + st->shares_rejected);
  g_assert_cmpuint (accepted, ==, st->shares_accepted);
  g_assert_cmpuint (rejected, ==, st->shares_rejected);
  g_assert_cmpuint (found, >, 1000);
  g_assert_cmpuint (frequencies, ==, 1);
  g_assert_cmpuint (jobs, ==, st->work_received);
  g_assert_cmpfloat (last_job_id, ==, st->job_id);
  g_assert_cmpuint (temps, >=, 30 * 60 / 10 - 1);
  g_assert_cmpuint (temps, <=, 30 * 60 / 5);
  g_assert_cmpfloat (best, ==, st->best_session_diff);

  /* max: the oldest of the newer ones. */
  n = pm_miner_copy_events (miner, -1, batch, 3);
  g_assert_cmpuint (n, ==, 3);
  {
    PmMinerEvent full[PM_MINER_EVENTS_KEPT];
    guint n_full = pm_miner_copy_events (miner, -1, full, G_N_ELEMENTS (full));

    g_assert_cmpuint (n_full, ==, PM_MINER_EVENTS_KEPT);
    for (i = 0; i < 3; i++)
      g_assert_cmpint (batch[i].ms_since_boot, ==, full[i].ms_since_boot);
    /* The ring holds the newest: the last one read above is in it. */
    g_assert_cmpint (full[n_full - 1].ms_since_boot, ==, after);
  }
  g_assert_cmpuint (pm_miner_copy_events (miner, -1, batch, 0), ==, 0);

  /* A long gap: only the last events, in order, and near its end. */
  t = START + 30 * MINUTE;
  pm_miner_advance (miner, t + 5 * HOUR);
  n = pm_miner_copy_events (miner, -1, batch, G_N_ELEMENTS (batch));
  g_assert_cmpuint (n, ==, PM_MINER_EVENTS_KEPT);
  for (i = 1; i < n; i++)
    g_assert_cmpint (batch[i].ms_since_boot, >=, batch[i - 1].ms_since_boot);
  g_assert_cmpint (batch[0].ms_since_boot, >, st->ms_since_boot - 15 * 60 * 1000);
  g_assert_cmpint (batch[n - 1].ms_since_boot, <=, st->ms_since_boot);
}

/* ---- long gaps ---------------------------------------------------------------------------- */

static int
compare_doubles (const void *x,
                 const void *y)
{
  double a = *(const double *) x;
  double b = *(const double *) y;

  return (a > b) - (a < b);
}

static void
test_long_gap (void)
{
  const PmBoard *board = &pm_board_gamma;
  const double pool = 1000;
  double big_shares = 0, small_shares = 0;
  double big_ratio[16], small_ratio[16];
  guint s;

  for (s = 0; s < G_N_ELEMENTS (big_ratio); s++)
    {
      g_autoptr(PmMiner) big = pm_miner_new (board, PM_POWER_SENSOR_TPS546, seed_of (s), 5200, START);
      g_autoptr(PmMiner) small = pm_miner_new (board, PM_POWER_SENSOR_TPS546, seed_of (s), 5200, START);
      const PmMinerState *b = pm_miner_get_state (big);
      const PmMinerState *m = pm_miner_get_state (small);
      double level = formula_hashrate (board, board->default_frequency);
      double n_big, n_small, mean;
      gint64 begin = g_get_monotonic_time ();

      pm_miner_advance (big, START + 10 * HOUR);
      if (s == 0)
        g_test_message ("one 10 h step: %" G_GINT64_FORMAT " µs", g_get_monotonic_time () - begin);
      run (small, START, START + 10 * HOUR, 5 * SEC);

      g_assert_cmpuint (b->uptime_seconds, ==, 36000);
      g_assert_cmpuint (m->uptime_seconds, ==, 36000);
      g_assert_cmpfloat (fabs (b->hashrate / level - 1), <, 0.1);
      g_assert_cmpfloat (fabs (b->hashrate_1m / level - 1), <, 0.03);
      g_assert_cmpfloat (fabs (b->hashrate_1h / level - 1), <, 0.03);
      g_assert_cmpfloat (b->hashrate_1d, <, 0.6 * level);
      g_assert_cmpfloat (fabs (b->temp - 60), <=, 2);
      g_assert_cmpfloat (fabs (b->actual_frequency - board->default_frequency), <, 0.5);
      g_assert_cmpfloat (fabs (b->total_hashes / m->total_hashes - 1), <, 0.01);
      check_scoreboard (b, pool);
      g_assert_cmpuint (b->n_scoreboard, ==, PM_MINER_SCOREBOARD_SIZE);

      n_big = b->shares_accepted + b->shares_rejected;
      n_small = m->shares_accepted + m->shares_rejected;
      mean = b->total_hashes / (pool * 4294967296.0);
      g_assert_cmpfloat (fabs (n_big - mean), <, 5 * sqrt (mean));
      g_assert_cmpuint (b->shares_rejected, >, 0);
      g_assert_cmpfloat (b->shares_rejected / n_big, <, 0.02);
      g_assert_cmpuint (b->work_received, >, 36000 / 30);
      g_assert_cmpuint (b->work_received, <, 36000 / 10);
      big_shares += n_big;
      small_shares += n_small;
      /* The best of n shares is about pool × n: its median is
       * pool × n / ln 2. */
      big_ratio[s] = b->best_session_diff / (pool * n_big);
      small_ratio[s] = m->best_session_diff / (pool * n_small);
    }

  g_test_message ("shares in 10 h over %u devices: %.0f in one step, %.0f in 5 s steps",
                  (guint) G_N_ELEMENTS (big_ratio), big_shares, small_shares);
  g_assert_cmpfloat (fabs (big_shares - small_shares), <, 5 * sqrt (big_shares + small_shares));

  qsort (big_ratio, G_N_ELEMENTS (big_ratio), sizeof (double), compare_doubles);
  qsort (small_ratio, G_N_ELEMENTS (small_ratio), sizeof (double), compare_doubles);
  g_test_message ("best ÷ (pool × shares), median: %.2f in one step, %.2f in 5 s steps",
                  big_ratio[8], small_ratio[8]);
  g_assert_cmpfloat (big_ratio[8], >, 0.2);
  g_assert_cmpfloat (big_ratio[8], <, 12);
  g_assert_cmpfloat (small_ratio[8], >, 0.2);
  g_assert_cmpfloat (small_ratio[8], <, 12);
}

/* A century in one step: a per-second or per-share loop would not end
 * within the test's timeout. */
static void
test_huge_gap (void)
{
  g_autoptr(PmMiner) miner = pm_miner_new (&pm_board_nerdqaxe_plus, PM_POWER_SENSOR_TPS546, 1, 5300, START);
  const PmMinerState *st = pm_miner_get_state (miner);
  const gint64 century = G_GINT64_CONSTANT (100) * 365 * 24 * HOUR;
  double mean;
  gint64 begin = g_get_monotonic_time ();

  pm_miner_advance (miner, START + century);
  g_test_message ("one 100-year step: %" G_GINT64_FORMAT " µs", g_get_monotonic_time () - begin);
  g_assert_cmpuint (st->uptime_seconds, ==, century / SEC);
  mean = st->total_hashes / (1000 * 4294967296.0);
  g_assert_cmpfloat (fabs ((st->shares_accepted + st->shares_rejected) - mean), <, 5 * sqrt (mean));
  g_assert_true (isfinite (st->hashrate_1d) && isfinite (st->best_diff) && isfinite (st->network_difficulty));
  g_assert_cmpfloat (fabs (st->hashrate_1d / st->expected_hashrate - 1), <, 0.03);
  g_assert_cmpfloat (st->best_diff, >, 1000.0 * 1e8);
  check_scoreboard (st, 1000);
  pm_miner_advance (miner, START + century + 5 * SEC);
  g_assert_cmpuint (st->uptime_seconds, ==, century / SEC + 5);
}

/* ---- faults ------------------------------------------------------------------------------- */

/* Finds the newest kept event of @kind; FALSE if there is none. */
static gboolean
last_event (PmMiner          *miner,
            PmMinerEventKind  kind,
            PmMinerEvent     *out)
{
  PmMinerEvent events[PM_MINER_EVENTS_KEPT];
  guint n = pm_miner_copy_events (miner, -1, events, G_N_ELEMENTS (events));

  while (n > 0)
    {
      n--;
      if (events[n].kind == kind)
        {
          *out = events[n];
          return TRUE;
        }
    }
  return FALSE;
}

/* A fault of @kind with no parameters set, freed by pm_fault_free(). */
static PmFault *
fault_new (PmFaultKind kind)
{
  PmFault *fault = g_new0 (PmFault, 1);

  fault->kind = kind;
  return fault;
}

/* Advances @miner from *@t in 1 s steps until @condition holds, for at
 * most @limit. */
#define RUN_UNTIL(miner, st, t, limit, condition)                         \
  G_STMT_START                                                            \
  {                                                                       \
    gint64 end_ = *(t) + (limit);                                         \
    while (!(condition) && *(t) < end_)                                   \
      pm_miner_advance ((miner), *(t) += SEC);                            \
  }                                                                       \
  G_STMT_END

/* The frequencies and core voltages the overheat handling leaves. */
static double
reduced_mhz (double mhz)
{
  return mhz > 100 ? mhz - 100 : 400;
}

static guint
reduced_mv (guint mv)
{
  return mv > 100 ? mv - 100 : 1000;
}

static void
test_fault_overheat (void)
{
  const BoardCase *cases[] = { &board_cases[0], &board_cases[1] };
  guint c;

  for (c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const PmBoard *board = cases[c]->board;
      g_autoptr(PmMiner) miner = pm_miner_new (board, cases[c]->sensor, 31, 5400 + c, START);
      g_autoptr(PmFault) fault = fault_new (PM_FAULT_OVERHEAT);
      const PmMinerState *st = pm_miner_get_state (miner);
      gint64 t = START + 10 * MINUTE;
      gint64 set_at, tripped_at;
      double temp_at_set, before, previous, expected_minutes, hot = 0;
      double f = board->default_frequency;
      guint v = board->default_voltage;
      PmMinerEvent event, tripped;
      guint cycle;

      run (miner, START, t, 5 * SEC);
      before = st->hashrate;
      temp_at_set = st->temp;
      g_assert_cmpfloat (temp_at_set, <, 65);

      /* 6 °C a minute whatever the fan: the reading climbs to the limit. */
      fault->rate_c_per_min = 6;
      pm_miner_set_fault (miner, fault);
      set_at = t;
      previous = st->temp;
      while (!st->safe_mode && t < set_at + 10 * MINUTE)
        {
          pm_miner_advance (miner, t += 5 * SEC);
          if (!st->safe_mode)
            {
              /* Up at the rate, give or take the sensor's wobble. */
              g_assert_cmpfloat (st->temp, >, previous + 0.5 - 2);
              g_assert_cmpfloat (st->temp, <, previous + 0.5 + 2);
              previous = st->temp;
              hot = MAX (hot, st->temp);
            }
        }
      tripped_at = t;
      expected_minutes = (75 - temp_at_set) / 6;
      g_test_message ("%s: %.1f °C, tripped after %.1f min (%.1f expected), hottest reading %.1f °C",
                      cases[c]->name, temp_at_set, (tripped_at - set_at) / (double) MINUTE, expected_minutes, hot);
      g_assert_true (st->safe_mode);
      g_assert_cmpfloat (hot, <=, 76);
      g_assert_cmpfloat (fabs ((tripped_at - set_at) / (double) MINUTE - expected_minutes), <, 0.5);

      for (cycle = 1; cycle <= 2; cycle++)
        {
          /* Mining stopped: the ASICs off, the fan at full speed as the
           * firmware stored it, the latch stored but not reported. */
          g_assert_true (last_event (miner, PM_MINER_EVENT_OVERHEAT, &tripped));
          g_assert_cmpfloat (tripped.value, >=, 75);
          g_assert_cmpfloat (tripped.value, <, 76);
          g_assert_cmpfloat (st->hashrate, ==, 0);
          g_assert_cmpfloat (st->expected_hashrate, ==, 0);
          g_assert_cmpfloat (st->temp, ==, -1);
          g_assert_cmpfloat (st->actual_frequency, ==, 50);
          g_assert_false (st->settings_autofan);
          g_assert_cmpuint (st->settings_manual_fan, ==, 100);
          g_assert_true (st->settings_overheat_mode);
          g_assert_false (st->overheat_mode);
          g_assert_cmpfloat (st->frequency, ==, f);
          pm_miner_advance (miner, t += 10 * SEC);
          g_assert_true (st->safe_mode);
          g_assert_cmpfloat (st->fan_duty, >, 99);
          g_assert_cmpfloat (st->hashrate, ==, 0);

          /* 30 s of cooling, then lower settings and mining again. */
          RUN_UNTIL (miner, st, &t, MINUTE, !st->safe_mode);
          g_assert_false (st->safe_mode);
          g_assert_cmpint (t - tripped_at, <=, 31 * SEC);
          f = reduced_mhz (f);
          v = reduced_mv (v);
          g_assert_cmpfloat (st->frequency, ==, f);
          g_assert_cmpuint (st->core_voltage, ==, v);
          g_assert_false (st->settings_overheat_mode);
          g_assert_false (st->overheat_mode);
          g_assert_true (last_event (miner, PM_MINER_EVENT_OVERHEAT_RECOVERED, &event));
          g_assert_cmpint (event.ms_since_boot - tripped.ms_since_boot, ==, 30000);
          g_assert_cmpfloat (event.value, ==, f);
          g_assert_cmpfloat (event.aux[0], ==, f + 100);
          g_assert_cmpfloat (event.aux[1], ==, v);
          g_assert_cmpfloat (event.aux[2], ==, v + 100);

          run (miner, t, t + 30 * SEC, 5 * SEC);
          t += 30 * SEC;
          g_assert_false (st->safe_mode);
          g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, f));
          g_assert_cmpfloat (fabs (st->hashrate / formula_hashrate (board, f) - 1), <, 0.1);
          g_assert_cmpfloat (st->hashrate, <, before);
          g_assert_cmpfloat (st->temp, >, 0);

          /* The fault is still there: it climbs back to the limit. */
          RUN_UNTIL (miner, st, &t, 30 * MINUTE, st->safe_mode);
          tripped_at = t;
          g_assert_true (st->safe_mode);
        }

      /* Lifted in the cooling: the lower settings and the fan stay, the
       * chip keeps below the limit. */
      pm_miner_clear_fault (miner, PM_FAULT_OVERHEAT);
      RUN_UNTIL (miner, st, &t, MINUTE, !st->safe_mode);
      f = reduced_mhz (f);
      run (miner, t, t + 30 * MINUTE, 5 * SEC);
      t += 30 * MINUTE;
      g_assert_false (st->safe_mode);
      g_assert_cmpfloat (st->frequency, ==, f);
      g_assert_cmpfloat (st->temp, <, 60);
      g_assert_cmpfloat (st->fan_duty, >, 99);
      g_assert_cmpfloat (fabs (st->hashrate / formula_hashrate (board, f) - 1), <, 0.1);
    }
}

/* The firmware stores the latch, which only a boot reads back into what
 * it reports: there it stays, fault or not, until cleared. */
static void
test_fault_overheat_latch (void)
{
  const PmBoard *board = &pm_board_gamma;
  g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 32, 5410, START);
  g_autoptr(PmFault) fault = fault_new (PM_FAULT_OVERHEAT);
  const PmMinerState *st = pm_miner_get_state (miner);
  gint64 t = START + 5 * MINUTE;

  run (miner, START, t, 5 * SEC);
  fault->rate_c_per_min = 20;
  pm_miner_set_fault (miner, fault);
  RUN_UNTIL (miner, st, &t, 10 * MINUTE, st->safe_mode);
  g_assert_true (st->safe_mode);
  g_assert_false (st->overheat_mode);

  /* Restarted while it cools. */
  pm_miner_restart (miner, t += 10 * SEC);
  g_assert_false (st->safe_mode);
  g_assert_true (st->overheat_mode);
  g_assert_true (st->settings_overheat_mode);
  /* It boots on the settings it had: the cooling did not end. */
  g_assert_cmpfloat (st->frequency, ==, board->default_frequency);

  pm_miner_clear_fault (miner, PM_FAULT_OVERHEAT);
  run (miner, t, t + 30 * MINUTE, 5 * SEC);
  t += 30 * MINUTE;
  g_assert_true (st->overheat_mode);
  g_assert_false (st->safe_mode);
  g_assert_cmpfloat (st->fan_duty, >, 99);
  g_assert_cmpfloat (fabs (st->hashrate / formula_hashrate (board, board->default_frequency) - 1), <, 0.1);

  /* What a PATCH of overheat_mode 0 stores. */
  pm_miner_set_overheat_mode (miner, FALSE);
  g_assert_false (st->overheat_mode);
  g_assert_false (st->settings_overheat_mode);
  pm_miner_advance (miner, t += 5 * SEC);
  g_assert_false (st->overheat_mode);
}

static void
test_fault_fan (void)
{
  guint c;

  for (c = 0; c < G_N_ELEMENTS (board_cases); c++)
    {
      const BoardCase *bc = &board_cases[c];
      g_autoptr(PmMiner) miner = pm_miner_new (bc->board, bc->sensor, 33, 5420 + c, START);
      g_autoptr(PmFault) fault = fault_new (PM_FAULT_FAN_FAILURE);
      const PmMinerState *st = pm_miner_get_state (miner);
      gint64 t = START + 10 * MINUTE;
      gint64 set_at;
      double previous, duty;
      PmMinerEvent event;

      run (miner, START, t, 5 * SEC);
      g_assert_cmpuint (st->fan_rpm, >, 1000);
      duty = st->fan_duty;

      pm_miner_set_fault (miner, fault);
      set_at = t;
      pm_miner_advance (miner, t += SEC);
      g_assert_cmpuint (st->fan_rpm, ==, 0);
      /* The duty is the controller's, which does not know. */
      g_assert_cmpfloat (st->fan_duty, >=, duty - 1);

      /* No air: well above what the fan held, toward far more. */
      previous = st->temp;
      pm_miner_advance (miner, t += 5 * SEC);
      g_assert_cmpfloat (st->temp, >, previous + 3);
      g_assert_cmpuint (st->fan_rpm, ==, 0);
      RUN_UNTIL (miner, st, &t, 5 * MINUTE, st->safe_mode);
      g_test_message ("%s: overheated %.0f s after the fan stopped", bc->name, (t - set_at) / (double) SEC);
      g_assert_true (st->safe_mode);
      g_assert_cmpuint (st->fan_rpm, ==, 0);
      g_assert_true (last_event (miner, PM_MINER_EVENT_OVERHEAT, &event));

      /* A new fan: it spins, and the chip cools at the lower settings. */
      pm_miner_clear_fault (miner, PM_FAULT_FAN_FAILURE);
      g_assert_cmpuint (st->fan_rpm, >, 0);
      pm_miner_advance (miner, t += SEC);
      g_assert_cmpuint (st->fan_rpm, >, 1000);
      run (miner, t, t + 20 * MINUTE, 5 * SEC);
      t += 20 * MINUTE;
      g_assert_false (st->safe_mode);
      g_assert_cmpfloat (st->temp, >, 0);
      g_assert_cmpfloat (st->temp, <, 60);
      g_assert_cmpfloat (st->hashrate, >, 0);
    }
}

/* The mean hashrate over @span in 5 s steps. */
static double
mean_hashrate (PmMiner *miner,
               gint64  *t,
               gint64   span)
{
  const PmMinerState *st = pm_miner_get_state (miner);
  gint64 end = *t + span;
  double sum = 0;
  guint n = 0;

  while (*t < end)
    {
      pm_miner_advance (miner, *t += 5 * SEC);
      sum += st->hashrate;
      n++;
    }
  return sum / n;
}

static void
test_fault_asic (void)
{
  const BoardCase *cases[] = { &board_cases[0], &board_cases[5] };
  guint c;

  for (c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const PmBoard *board = cases[c]->board;
      g_autoptr(PmMiner) miner = pm_miner_new (board, cases[c]->sensor, 34, 5430 + c, START);
      g_autoptr(PmFault) fault = fault_new (PM_FAULT_ASIC_FAILURE);
      const PmMinerState *st = pm_miner_get_state (miner);
      guint last_asic = board->asic_count - 1;
      guint last_domain = board->hash_domains - 1;
      double lost = 1.0 / (board->asic_count * board->hash_domains);
      gint64 t = START + 10 * MINUTE;
      double healthy, faulty, healthy_errors, sum;
      guint64 errors_before, errors_healthy, errors_faulty;
      guint a, d;

      run (miner, START, t, 5 * SEC);
      healthy = mean_hashrate (miner, &t, 30 * MINUTE);
      healthy_errors = st->error_percentage;
      errors_before = st->asic_error_count[last_asic];
      run (miner, t, t + 30 * MINUTE, 5 * SEC);
      t += 30 * MINUTE;
      errors_healthy = st->asic_error_count[last_asic] - errors_before;

      /* Beyond the board: its last ASIC and domain. */
      fault->asic = 15;
      fault->domain = 15;
      pm_miner_set_fault (miner, fault);
      pm_miner_advance (miner, t += 5 * SEC);
      g_assert_cmpfloat (st->domain_hashrate[last_asic][last_domain], ==, 0);
      sum = 0;
      for (a = 0; a < board->asic_count; a++)
        for (d = 0; d < board->hash_domains; d++)
          {
            if (a != last_asic || d != last_domain)
              g_assert_cmpfloat (st->domain_hashrate[a][d], >, 0);
            sum += st->domain_hashrate[a][d];
          }
      g_assert_cmpfloat (fabs (sum - st->hashrate), <, 1e-6 * st->hashrate);

      errors_before = st->asic_error_count[last_asic];
      faulty = mean_hashrate (miner, &t, 30 * MINUTE);
      errors_faulty = st->asic_error_count[last_asic] - errors_before;
      g_test_message ("%s: %.1f GH/s healthy, %.1f with a dead domain (%.1f %% less, %.1f %% expected); "
                      "errors %.2f %% → %.2f %%, %" G_GUINT64_FORMAT " → %" G_GUINT64_FORMAT " in 30 min",
                      cases[c]->name, healthy, faulty, 100 * (1 - faulty / healthy), 100 * lost,
                      healthy_errors, st->error_percentage, errors_healthy, errors_faulty);
      g_assert_cmpfloat (fabs ((1 - faulty / healthy) - lost), <, 0.02);
      g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, board->default_frequency));
      g_assert_cmpfloat (st->error_percentage, >, healthy_errors + 3);
      if (board->asic_count == 1)
        {
          g_assert_cmpfloat (st->error_percentage, >, 10);
          g_assert_cmpfloat (st->error_percentage, <, 30);
        }
      g_assert_cmpuint (errors_faulty, >, 3 * errors_healthy + 10);

      /* Back to health. */
      pm_miner_clear_fault (miner, PM_FAULT_ASIC_FAILURE);
      pm_miner_advance (miner, t += 5 * SEC);
      g_assert_cmpfloat (st->domain_hashrate[last_asic][last_domain], >, 0);
      g_assert_cmpfloat (st->error_percentage, <, 3);
      g_assert_cmpfloat (fabs (mean_hashrate (miner, &t, 30 * MINUTE) / healthy - 1), <, 0.02);
    }
}

static void
test_fault_pool_fallback (void)
{
  const PmBoard *board = &pm_board_gamma;
  g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 35, 5440, START);
  g_autoptr(PmFault) fault = fault_new (PM_FAULT_POOL_DOWN);
  const PmMinerState *st = pm_miner_get_state (miner);
  gint64 t = START + 10 * MINUTE;
  gint64 lost_at, cleared_at;
  guint64 accepted, work;
  PmMinerEvent event;

  pm_miner_set_pool_difficulty (miner, 500);
  pm_miner_set_fallback_pool (miner, TRUE, 2000, FALSE);
  g_assert_false (st->using_fallback);
  run (miner, START, t, 5 * SEC);
  g_assert_cmpuint (st->shares_accepted, >, 0);
  g_assert_true (st->pool_connected);

  /* Lost: nothing goes through while the firmware retries, though the
   * ASIC hashes on. */
  pm_miner_set_fault (miner, fault);
  lost_at = t;
  g_assert_true (last_event (miner, PM_MINER_EVENT_POOL_DOWN, &event));
  accepted = st->shares_accepted;
  work = st->work_received;
  while (t < lost_at + 9 * SEC)
    {
      pm_miner_advance (miner, t += SEC);
      g_assert_false (st->pool_connected);
      g_assert_false (st->using_fallback);
      g_assert_cmpuint (st->shares_accepted, ==, accepted);
      g_assert_cmpuint (st->work_received, ==, work);
      g_assert_cmpfloat (st->hashrate, >, 0);
    }

  /* Its retries spent, on the fallback pool: new counters, its
   * difficulty, shares again. */
  RUN_UNTIL (miner, st, &t, MINUTE, st->using_fallback);
  g_assert_cmpint (t - lost_at, >=, 10 * SEC);
  g_assert_cmpint (t - lost_at, <=, 11 * SEC);
  g_assert_true (st->pool_connected);
  g_assert_cmpfloat (st->pool_difficulty, ==, 2000);
  g_assert_cmpuint (st->shares_accepted, <, accepted);
  g_assert_true (last_event (miner, PM_MINER_EVENT_POOL_FALLBACK, &event));
  run (miner, t, t + 10 * MINUTE, 5 * SEC);
  t += 10 * MINUTE;
  g_assert_true (st->using_fallback);
  g_assert_cmpuint (st->shares_accepted, >, 0);
  g_assert_cmpuint (st->work_received, >, 10);
  g_assert_cmpfloat (fabs (st->hashrate / st->expected_hashrate - 1), <, 0.1);

  /* Back: the next probe of the primary, within a minute, moves there. */
  pm_miner_clear_fault (miner, PM_FAULT_POOL_DOWN);
  cleared_at = t;
  RUN_UNTIL (miner, st, &t, 2 * MINUTE, !st->using_fallback);
  g_assert_false (st->using_fallback);
  g_assert_cmpint (t - cleared_at, <=, 61 * SEC);
  g_assert_cmpfloat (st->pool_difficulty, ==, 500);
  g_assert_true (last_event (miner, PM_MINER_EVENT_POOL_RESTORED, &event));
  g_assert_cmpfloat (event.value, ==, PM_MINER_POOL_BACK_FROM_FALLBACK);
  accepted = st->shares_accepted;
  run (miner, t, t + 5 * MINUTE, 5 * SEC);
  t += 5 * MINUTE;
  g_assert_cmpuint (st->shares_accepted, >, accepted);

  /* Back before the retries ran out: the next one gets through, 5 s
   * after the loss, and there is no failover. */
  pm_miner_set_fault (miner, fault);
  lost_at = t;
  pm_miner_advance (miner, t += 2 * SEC);
  g_assert_false (st->pool_connected);
  pm_miner_clear_fault (miner, PM_FAULT_POOL_DOWN);
  RUN_UNTIL (miner, st, &t, MINUTE, st->pool_connected);
  g_assert_true (st->pool_connected);
  g_assert_cmpint (t - lost_at, ==, 5 * SEC);
  g_assert_true (last_event (miner, PM_MINER_EVENT_POOL_RESTORED, &event));
  g_assert_cmpfloat (event.value, ==, PM_MINER_POOL_RECONNECTED);
  run (miner, t, t + 2 * MINUTE, SEC);
  t += 2 * MINUTE;
  g_assert_true (st->pool_connected);
  g_assert_false (st->using_fallback);
}

static void
test_fault_pool_none (void)
{
  const PmBoard *board = &pm_board_supra;
  g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_INA260, 36, 5450, START);
  g_autoptr(PmFault) fault = fault_new (PM_FAULT_POOL_DOWN);
  const PmMinerState *st = pm_miner_get_state (miner);
  gint64 t = START + 10 * MINUTE;
  gint64 lost_at, cleared_at;
  guint64 accepted;
  double response;
  PmMinerEvent event;

  /* No secondary pool. */
  pm_miner_set_fallback_pool (miner, FALSE, 0, FALSE);
  run (miner, START, t, 5 * SEC);
  pm_miner_set_fault (miner, fault);
  lost_at = t;
  RUN_UNTIL (miner, st, &t, MINUTE, st->pools_unavailable);
  g_assert_true (st->pools_unavailable);
  g_assert_cmpint (t - lost_at, <=, 11 * SEC);
  g_assert_true (last_event (miner, PM_MINER_EVENT_POOLS_UNAVAILABLE, &event));

  /* The firmware stops mining to save power; the last round trip
   * stays. */
  accepted = st->shares_accepted;
  response = st->response_time;
  pm_miner_advance (miner, t += 10 * SEC);
  g_assert_cmpfloat (st->hashrate, ==, 0);
  g_assert_cmpfloat (st->expected_hashrate, ==, 0);
  g_assert_cmpfloat (st->temp, ==, -1);
  g_assert_false (st->using_fallback);
  run (miner, t, t + 10 * MINUTE, 5 * SEC);
  t += 10 * MINUTE;
  g_assert_cmpuint (st->shares_accepted, ==, accepted);
  g_assert_cmpfloat (st->response_time, ==, response);
  g_assert_cmpfloat (fabs (st->fan_duty - 30), <, 0.5);

  /* Back: a probe within 30 s, and mining starts from 50 MHz. */
  pm_miner_clear_fault (miner, PM_FAULT_POOL_DOWN);
  cleared_at = t;
  RUN_UNTIL (miner, st, &t, MINUTE, !st->pools_unavailable);
  g_assert_false (st->pools_unavailable);
  g_assert_cmpint (t - cleared_at, <=, 31 * SEC);
  g_assert_true (last_event (miner, PM_MINER_EVENT_POOL_RESTORED, &event));
  g_assert_cmpfloat (event.value, ==, PM_MINER_POOL_RESUMED);
  g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, board->default_frequency));
  run (miner, t, t + 5 * MINUTE, 5 * SEC);
  t += 5 * MINUTE;
  g_assert_cmpfloat (fabs (st->hashrate / st->expected_hashrate - 1), <, 0.1);
  g_assert_cmpuint (st->shares_accepted, >, 0);
  g_assert_cmpfloat (st->response_time, !=, response);
}

/* useFallbackStratum: on the secondary pool from the boot, which a
 * primary that is down does not touch. */
static void
test_fault_pool_selected (void)
{
  g_autoptr(PmMiner) miner = pm_miner_new (&pm_board_gamma, PM_POWER_SENSOR_TPS546, 37, 5460, START);
  g_autoptr(PmFault) fault = fault_new (PM_FAULT_POOL_DOWN);
  const PmMinerState *st = pm_miner_get_state (miner);
  gint64 t = START + 10 * MINUTE;

  pm_miner_set_fallback_pool (miner, TRUE, 4096, TRUE);
  g_assert_true (st->using_fallback);
  g_assert_cmpfloat (st->pool_difficulty, ==, 4096);
  run (miner, START, t, 5 * SEC);
  pm_miner_set_fault (miner, fault);
  run (miner, t, t + 5 * MINUTE, 5 * SEC);
  t += 5 * MINUTE;
  g_assert_true (st->using_fallback);
  g_assert_true (st->pool_connected);
  g_assert_cmpuint (st->shares_accepted, >, 0);

  /* The setting is read at boot. */
  pm_miner_set_fallback_pool (miner, TRUE, 4096, FALSE);
  g_assert_true (st->using_fallback);
  pm_miner_restart (miner, t += SEC);
  pm_miner_set_fallback_pool (miner, TRUE, 4096, FALSE);
  g_assert_false (st->using_fallback);
  /* Now the primary is the pool, and it is down. */
  RUN_UNTIL (miner, st, &t, MINUTE, st->using_fallback);
  g_assert_true (st->using_fallback);
}

static void
test_fault_power (void)
{
  const PmBoard *board = &pm_board_gamma;
  g_autoptr(PmMiner) miner = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 38, 5470, START);
  g_autoptr(PmFault) fault = fault_new (PM_FAULT_POWER_FAULT);
  const PmMinerState *st = pm_miner_get_state (miner);
  gint64 t = START + 10 * MINUTE;
  guint64 accepted;
  double power;

  pm_miner_set_pool_difficulty (miner, 256);
  run (miner, START, t, 5 * SEC);
  power = st->power;
  g_assert_null (st->power_fault);

  fault->message = g_strdup ("Input undervoltage: check the supply");
  pm_miner_set_fault (miner, fault);
  g_assert_cmpstr (st->power_fault, ==, fault->message);
  g_assert_true (has_event (miner, PM_MINER_EVENT_POWER_FAULT, 0));
  pm_miner_advance (miner, t += 10 * SEC);
  accepted = st->shares_accepted;
  /* Nothing hashes; the firmware still expects what it set. */
  g_assert_cmpfloat (st->hashrate, ==, 0);
  g_assert_cmpfloat (st->expected_hashrate, ==, formula_hashrate (board, board->default_frequency));
  g_assert_false (st->paused);
  g_assert_cmpfloat (st->core_voltage_actual, <, 0.01 * board->default_voltage);
  g_assert_cmpfloat (st->power, <, 0.5 * power);
  run (miner, t, t + 10 * MINUTE, 5 * SEC);
  t += 10 * MINUTE;
  g_assert_cmpuint (st->shares_accepted, ==, accepted);
  g_assert_cmpfloat (st->hashrate_1m, <, 0.01 * st->expected_hashrate);
  g_assert_cmpstr (st->power_fault, ==, "Input undervoltage: check the supply");

  /* Survives a restart: imposed from outside. */
  pm_miner_restart (miner, t += SEC);
  g_assert_nonnull (st->power_fault);
  run (miner, t, t + MINUTE, 5 * SEC);
  t += MINUTE;
  g_assert_cmpfloat (st->hashrate, ==, 0);
  g_assert_cmpuint (st->shares_accepted, ==, 0);
  accepted = 0;

  pm_miner_clear_fault (miner, PM_FAULT_POWER_FAULT);
  g_assert_null (st->power_fault);
  run (miner, t, t + 2 * MINUTE, 5 * SEC);
  t += 2 * MINUTE;
  g_assert_cmpfloat (fabs (st->hashrate / st->expected_hashrate - 1), <, 0.1);
  g_assert_cmpuint (st->shares_accepted, >, accepted);
  g_assert_cmpfloat (fabs (st->power / power - 1), <, 0.1);
}

/* Faults of other kinds are not the miner's. */
static void
test_fault_other_kinds (void)
{
  g_autoptr(PmMiner) miner = pm_miner_new (&pm_board_gamma, PM_POWER_SENSOR_TPS546, 39, 5480, START);
  g_autoptr(PmMiner) twin = pm_miner_new (&pm_board_gamma, PM_POWER_SENSOR_TPS546, 39, 5480, START);
  g_autoptr(PmFault) fault = fault_new (PM_FAULT_OFFLINE);

  run (miner, START, START + MINUTE, 5 * SEC);
  run (twin, START, START + MINUTE, 5 * SEC);
  pm_miner_set_fault (miner, fault);
  pm_miner_clear_fault (miner, PM_FAULT_LATENCY);
  run (miner, START + MINUTE, START + 10 * MINUTE, 5 * SEC);
  run (twin, START + MINUTE, START + 10 * MINUTE, 5 * SEC);
  assert_states_equal (pm_miner_get_state (miner), pm_miner_get_state (twin));
}

/* An overheat fault left alone for long: the cycles are counted, not
 * run one by one, and come out near what 5 s steps give. */
static void
test_fault_overheat_gap (void)
{
  const PmBoard *board = &pm_board_gamma;
  g_autoptr(PmMiner) big = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 40, 5490, START);
  g_autoptr(PmMiner) small = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 40, 5490, START);
  g_autoptr(PmMiner) century = pm_miner_new (board, PM_POWER_SENSOR_TPS546, 40, 5490, START);
  g_autoptr(PmFault) fault = fault_new (PM_FAULT_OVERHEAT);
  const PmMinerState *b = pm_miner_get_state (big);
  const PmMinerState *m = pm_miner_get_state (small);
  const PmMinerState *c = pm_miner_get_state (century);
  const gint64 years = G_GINT64_CONSTANT (100) * 365 * 24 * HOUR;
  const double cycle[] = { 400, 300, 200, 100 };
  gint64 begin, big_us, century_us;
  guint i;

  fault->rate_c_per_min = 10;
  pm_miner_set_fault (big, fault);
  pm_miner_set_fault (small, fault);
  pm_miner_set_fault (century, fault);

  begin = g_get_monotonic_time ();
  pm_miner_advance (big, START + 24 * HOUR);
  big_us = g_get_monotonic_time () - begin;
  run (small, START, START + 24 * HOUR, 5 * SEC);
  begin = g_get_monotonic_time ();
  pm_miner_advance (century, START + years);
  century_us = g_get_monotonic_time () - begin;
  g_test_message ("a day: %.3g hashes in one step (%" G_GINT64_FORMAT " µs), %.3g in 5 s steps; "
                  "%.0f MHz and %.0f MHz; a century in %" G_GINT64_FORMAT " µs at %.0f MHz",
                  b->total_hashes, big_us, m->total_hashes, b->frequency, m->frequency, century_us, c->frequency);

  g_assert_cmpuint (b->uptime_seconds, ==, 24 * 3600);
  g_assert_cmpfloat (fabs (b->total_hashes / m->total_hashes - 1), <, 0.1);
  g_assert_cmpfloat (fabs ((double) b->shares_accepted / m->shares_accepted - 1), <, 0.2);
  g_assert_cmpuint (c->uptime_seconds, ==, years / SEC);
  g_assert_true (isfinite (c->total_hashes) && c->total_hashes > b->total_hashes);
  /* Long since in the firmware's cycle of frequencies. */
  for (i = 0; i < G_N_ELEMENTS (cycle); i++)
    if (c->frequency == cycle[i])
      break;
  g_assert_cmpuint (i, <, G_N_ELEMENTS (cycle));
  g_assert_cmpuint (c->core_voltage, >=, 100);
  g_assert_cmpuint (c->core_voltage, <=, 1000);
  g_assert_cmpuint (c->core_voltage % 100, ==, 0);
}

/* ---- the simulated device's faults -------------------------------------------------------- */

static JsonObject *
sim_info (PmSim  *sim,
          gint64  now)
{
  g_autofree char *text = pm_sim_dup_info (sim, "v2.15.0", "192.168.1.20", now);
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

static void
test_sim_overheat (void)
{
  const PmProfile *profile = pm_profile_lookup ("axeos-gamma");
  const PmBoard *board = profile->board;
  g_autoptr(PmSim) sim = pm_sim_new (profile, "bitaxe", 41, 5500, START);
  g_autoptr(PmFault) fault = fault_new (PM_FAULT_OVERHEAT);
  g_autoptr(JsonNode) patch = json_from_string ("{\"overheat_mode\": 0}", NULL);
  const PmMinerState *st = pm_miner_get_state (pm_sim_get_miner (sim));
  gint64 t = START + 10 * MINUTE;
  JsonObject *info;

  pm_sim_catch_up (sim, t);
  fault->rate_c_per_min = 20;
  pm_sim_set_fault_at (sim, fault, t);
  while (!st->safe_mode && t < START + HOUR)
    pm_sim_catch_up (sim, t += SEC);
  g_assert_true (st->safe_mode);

  /* What the firmware stored is what it reports. */
  info = sim_info (sim, t);
  g_assert_cmpint (json_object_get_int_member (info, "autofanspeed"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (info, "manualFanSpeed"), ==, 100);
  g_assert_cmpint (json_object_get_int_member (info, "overheat_mode"), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (info, "hashRate"), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (info, "temp"), ==, -1);
  json_object_unref (info);
  g_assert_true (pm_sim_get_settings (sim)->overheat_mode);

  /* The cooling ends: the lower settings are stored. */
  pm_sim_catch_up (sim, t += 31 * SEC);
  info = sim_info (sim, t);
  g_assert_cmpfloat (json_object_get_double_member (info, "frequency"), ==, board->default_frequency - 100);
  g_assert_cmpint (json_object_get_int_member (info, "coreVoltage"), ==, board->default_voltage - 100);
  g_assert_cmpint (json_object_get_int_member (info, "overheat_mode"), ==, 0);
  json_object_unref (info);
  g_assert_false (pm_sim_get_settings (sim)->overheat_mode);

  /* Again, and a restart while it cools: the latch shows, through the
   * clearing of the fault, until a PATCH clears it. */
  while (!st->safe_mode && t < START + 2 * HOUR)
    pm_sim_catch_up (sim, t += SEC);
  g_assert_true (st->safe_mode);
  pm_sim_reboot (sim, t += 5 * SEC);
  pm_sim_clear_fault_at (sim, PM_FAULT_OVERHEAT, t += SEC);
  pm_sim_catch_up (sim, t += 30 * MINUTE);
  info = sim_info (sim, t);
  g_assert_cmpint (json_object_get_int_member (info, "overheat_mode"), ==, 1);
  /* It booted on what was stored before the cooling. */
  g_assert_cmpfloat (json_object_get_double_member (info, "frequency"), ==, board->default_frequency - 100);
  g_assert_cmpfloat (json_object_get_double_member (info, "hashRate"), >, 0);
  json_object_unref (info);

  g_assert_true (pm_sim_patch (sim, patch, t += SEC, NULL, NULL));
  info = sim_info (sim, t += SEC);
  g_assert_cmpint (json_object_get_int_member (info, "overheat_mode"), ==, 0);
  json_object_unref (info);
}

static void
test_sim_pool_and_power (void)
{
  const PmProfile *profile = pm_profile_lookup ("axeos-gamma");
  g_autoptr(PmSim) sim = pm_sim_new (profile, "bitaxe", 42, 5510, START);
  g_autoptr(PmFault) pool = fault_new (PM_FAULT_POOL_DOWN);
  g_autoptr(PmFault) power = fault_new (PM_FAULT_POWER_FAULT);
  PmSettings *settings = pm_sim_get_settings (sim);
  gint64 t = START + 10 * MINUTE;
  JsonObject *info;

  /* The factory secondary pool, at a difficulty of its own. */
  g_assert_nonnull (settings->pools[settings->secondary_pool_index].url);
  settings->pools[settings->secondary_pool_index].suggested_difficulty = 8192;
  pm_sim_apply_settings (sim);
  pm_sim_catch_up (sim, t);
  info = sim_info (sim, t);
  g_assert_cmpint (json_object_get_int_member (info, "isUsingFallbackStratum"), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (info, "poolDifficulty"), ==, 1000);
  json_object_unref (info);

  pm_sim_set_fault_at (sim, pool, t);
  pm_sim_catch_up (sim, t += 15 * SEC);
  info = sim_info (sim, t);
  g_assert_cmpint (json_object_get_int_member (info, "isUsingFallbackStratum"), ==, 1);
  g_assert_cmpfloat (json_object_get_double_member (info, "poolDifficulty"), ==, 8192);
  /* The flat members stay the slots'. */
  g_assert_cmpstr (json_object_get_string_member (info, "stratumURL"), ==, settings->pools[settings->primary_pool_index].url);
  g_assert_cmpstr (json_object_get_string_member (info, "fallbackStratumURL"), ==,
                   settings->pools[settings->secondary_pool_index].url);
  g_assert_false (json_object_has_member (info, "power_fault"));
  json_object_unref (info);

  power->message = g_strdup ("Power Fault Detected.");
  pm_sim_set_fault_at (sim, power, t += SEC);
  info = sim_info (sim, t += 5 * SEC);
  g_assert_cmpstr (json_object_get_string_member (info, "power_fault"), ==, "Power Fault Detected.");
  g_assert_false (json_object_has_member (info, "hardware_fault"));
  g_assert_cmpfloat (json_object_get_double_member (info, "hashRate"), ==, 0);
  json_object_unref (info);

  pm_sim_clear_fault_at (sim, PM_FAULT_POWER_FAULT, t += SEC);
  pm_sim_clear_fault_at (sim, PM_FAULT_POOL_DOWN, t += SEC);
  pm_sim_catch_up (sim, t += 2 * MINUTE);
  info = sim_info (sim, t);
  g_assert_false (json_object_has_member (info, "power_fault"));
  g_assert_cmpint (json_object_get_int_member (info, "isUsingFallbackStratum"), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (info, "poolDifficulty"), ==, 1000);
  g_assert_cmpfloat (json_object_get_double_member (info, "hashRate"), >, 0);
  json_object_unref (info);
}

/* The lines the firmware writes for what its faults made it do. */
static void
collect_line (gint64      ms_since_boot,
              const char *line,
              gsize       length,
              gpointer    user_data)
{
  g_string_append_len (user_data, line, (gssize) length);
}

static void
test_sim_log (void)
{
  const PmProfile *profile = pm_profile_lookup ("axeos-gamma");
  g_autoptr(PmSim) sim = pm_sim_new (profile, "bitaxe", 43, 5520, START);
  g_autoptr(PmFault) overheat = fault_new (PM_FAULT_OVERHEAT);
  g_autoptr(PmFault) pool = fault_new (PM_FAULT_POOL_DOWN);
  g_autoptr(PmFault) power = fault_new (PM_FAULT_POWER_FAULT);
  g_autoptr(GString) log = g_string_new (NULL);
  const PmMinerState *st = pm_miner_get_state (pm_sim_get_miner (sim));
  static const char *const expected[] = {
    "E (", ") power_management: OVERHEAT! VR: ",
    "W (", ") power_management: Entering safe mode due to overheat condition. System operation halted.\n",
    "W (", ") power_management: Safe mode active (cycle 6/6) - VR: ",
    "I (", ") power_management: Restoring at reduced settings: 1050mV (was 1150mV), 425 MHz (was 525 MHz)\n",
    "E (", ") stratum_v1_task: Failed to receive JSON-RPC line, reconnecting...\n",
    "I (", ") protocol_coordinator: Switching to fallback pool (SV1)\n",
    "I (", ") protocol_coordinator: Primary pool is back! Switching from fallback.\n",
    "E (", ") TPS546: The voltage regulator is turned off\n",
  };
  gint64 t = START + 5 * MINUTE;
  guint i;

  pm_sim_catch_up (sim, t);
  overheat->rate_c_per_min = 30;
  pm_sim_set_fault_at (sim, overheat, t);
  while (!st->safe_mode && t < START + HOUR)
    pm_sim_catch_up (sim, t += SEC);
  g_assert_true (st->safe_mode);
  pm_sim_clear_fault_at (sim, PM_FAULT_OVERHEAT, t);
  pm_sim_take_log (sim, FALSE, collect_line, log);
  pm_sim_catch_up (sim, t += MINUTE);
  pm_sim_take_log (sim, FALSE, collect_line, log);

  pm_sim_set_fault_at (sim, pool, t += SEC);
  pm_sim_catch_up (sim, t += 20 * SEC);
  pm_sim_clear_fault_at (sim, PM_FAULT_POOL_DOWN, t);
  pm_sim_take_log (sim, FALSE, collect_line, log);
  pm_sim_catch_up (sim, t += 61 * SEC);
  pm_sim_set_fault_at (sim, power, t += SEC);
  pm_sim_take_log (sim, FALSE, collect_line, log);

  for (i = 0; i < G_N_ELEMENTS (expected); i += 2)
    {
      const char *at = strstr (log->str, expected[i + 1]);

      if (at == NULL)
        g_error ("no line with \"%s\" in:\n%s", expected[i + 1], log->str);
      /* The level and the time stamp before it. */
      while (at > log->str && at[-1] != '\n')
        at--;
      g_assert_true (g_str_has_prefix (at, expected[i]));
    }
}

/* ---- cost --------------------------------------------------------------------------------- */

static void
test_cost (void)
{
  enum { N_DEVICES = 1000, N_ROUNDS = 50 };
  PmMiner *fleet[N_DEVICES];
  double sink = 0;
  gint64 begin, elapsed;
  guint i, round;

  for (i = 0; i < N_DEVICES; i++)
    fleet[i] = pm_miner_new (i % 2 ? &pm_board_gamma : &pm_board_nerdqaxe_plus,
                             PM_POWER_SENSOR_TPS546, 9, 10000 + i, START);
  begin = g_get_monotonic_time ();
  for (round = 1; round <= N_ROUNDS; round++)
    for (i = 0; i < N_DEVICES; i++)
      {
        pm_miner_advance (fleet[i], START + round * 5 * SEC);
        sink += pm_miner_get_state (fleet[i])->hashrate;
      }
  elapsed = g_get_monotonic_time () - begin;
  g_test_message ("advance + get_state every 5 s: %.2f µs a call; "
                  "10 000 devices cost %.3f %% of one core",
                  (double) elapsed / (N_DEVICES * N_ROUNDS),
                  100.0 * elapsed / (N_DEVICES * N_ROUNDS) * 10000 / (5.0 * SEC));
  g_assert_cmpfloat (sink, >, 0);
  for (i = 0; i < N_DEVICES; i++)
    pm_miner_free (fleet[i]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/miner/power/relations", test_power);
  g_test_add_func ("/miner/power/voltage", test_power_voltage);
  g_test_add_func ("/miner/power/efficiency", test_efficiency);
  g_test_add_func ("/miner/hashrate/domains", test_domains);
  g_test_add_func ("/miner/hashrate/errors", test_errors);
  g_test_add_func ("/miner/hashrate/averages", test_averages);
  g_test_add_func ("/miner/shares/counters", test_counters);
  g_test_add_func ("/miner/shares/rate", test_share_rate);
  g_test_add_func ("/miner/temperature/auto", test_temperature_auto);
  g_test_add_func ("/miner/temperature/manual", test_temperature_manual);
  g_test_add_func ("/miner/settings/frequency", test_frequency);
  g_test_add_func ("/miner/settings/pause", test_pause);
  g_test_add_func ("/miner/restart", test_restart);
  g_test_add_func ("/miner/identity/mac", test_mac);
  g_test_add_func ("/miner/identity/deterministic", test_deterministic);
  g_test_add_func ("/miner/events", test_events);
  g_test_add_func ("/miner/gap/long", test_long_gap);
  g_test_add_func ("/miner/gap/huge", test_huge_gap);
  g_test_add_func ("/miner/fault/overheat", test_fault_overheat);
  g_test_add_func ("/miner/fault/overheat-latch", test_fault_overheat_latch);
  g_test_add_func ("/miner/fault/overheat-gap", test_fault_overheat_gap);
  g_test_add_func ("/miner/fault/fan", test_fault_fan);
  g_test_add_func ("/miner/fault/asic", test_fault_asic);
  g_test_add_func ("/miner/fault/pool-fallback", test_fault_pool_fallback);
  g_test_add_func ("/miner/fault/pool-none", test_fault_pool_none);
  g_test_add_func ("/miner/fault/pool-selected", test_fault_pool_selected);
  g_test_add_func ("/miner/fault/power", test_fault_power);
  g_test_add_func ("/miner/fault/other-kinds", test_fault_other_kinds);
  g_test_add_func ("/miner/sim/overheat", test_sim_overheat);
  g_test_add_func ("/miner/sim/pool-and-power", test_sim_pool_and_power);
  g_test_add_func ("/miner/sim/log", test_sim_log);
  g_test_add_func ("/miner/cost", test_cost);

  return g_test_run ();
}
