/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-miner"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pm-board.h"
#include "pm-miner.h"

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
       * the controller would hold. */
      pm_miner_set_fan (miner, FALSE, 20, 25, 60);
      run (miner, START, t, 5 * SEC);
      slow = st->temp;
      g_assert_cmpfloat (fabs (st->fan_duty - 20), <, 0.5);
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
      g_test_message ("%s: 20 %% fan %.1f °C, 100 %% fan %.1f °C, auto %.1f °C at %.1f %%",
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
  g_test_add_func ("/miner/cost", test_cost);

  return g_test_run ();
}
