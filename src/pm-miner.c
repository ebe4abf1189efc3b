/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-miner"

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pm-miner.h"

/*
 * One simulated miner.  Nothing runs on its own: every call to
 * pm_miner_advance() moves the model from the time of the previous call
 * to the time given, with closed forms, so its cost does not depend on
 * how long the device was left alone.
 *
 * - Lags (actual frequency, core voltage, fan duty, chip temperature)
 *   are exponential approaches toward a target.
 * - The hashrate is actual frequency × cores, times a slow
 *   Ornstein-Uhlenbeck fluctuation; the rolling averages are exponential
 *   moving averages of the mean hashrate of each interval.
 * - Shares are a Poisson process; the best share of n is drawn from the
 *   distribution of the minimum of n uniforms, so a long interval costs
 *   no more than a short one.
 * - Jobs, temperature readings and shares leave events in a fixed ring;
 *   after a long interval only the last ones are generated.
 *
 * All randomness comes from a xoshiro256** generator seeded from the
 * seed and the port.
 */

/* ---- constants of the model ----------------------------------------------- */

#define ASIC_INIT_US       (3 * G_USEC_PER_SEC)  /* boot to first hash */
#define IDLE_FREQUENCY     50.0                  /* MHz, before the ramp */

#define TAU_FREQUENCY      3.0     /* s */
#define TAU_VOLTAGE        1.0     /* s */
#define TAU_TEMPERATURE    45.0    /* s */
#define TAU_FAN_AUTO       10.0    /* s, the PID's net lag */
#define TAU_FAN_MANUAL     2.0     /* s, spin-up */
#define TAU_NOISE          30.0    /* s, hashrate fluctuation */

#define NOISE_SIGMA        0.03    /* stationary relative deviation */
#define NOISE_LIMIT        0.07

/* The chip temperature read wanders around the modelled one. */
#define TAU_WOBBLE         20.0    /* s */
#define WOBBLE_SIGMA       0.4     /* °C */
#define WOBBLE_LIMIT       1.2     /* °C */

#define FAN_GAIN           2.0     /* % duty per °C above target */

/* Thermal resistance chip → air, in K/W before the board's scale:
 * R (u) = R_FLOOR + R_SPAN / (1 + R_FAN_GAIN × u), u the fan's fraction
 * of its full speed. */
#define R_FLOOR            0.6
#define R_SPAN             7.4
#define R_FAN_GAIN         6.0
/* At stock settings the fan runs about this fraction of full speed to
 * hold STOCK_RISE above ambient. */
#define STOCK_FAN          0.45
#define STOCK_RISE         35.0

/* Power: core power = k_dyn × V² × f × cores + K_STATIC × V² × ASICs. */
#define K_STATIC           0.42    /* W/V² per ASIC */
#define PAUSED_STATIC      0.3     /* fraction of the static power while paused */
#define INA_EFFICIENCY     0.85    /* core regulator, INA260 boards */
#define INA_BASE_POWER     3.4     /* W: ESP32, display, regulators */
#define FAN_POWER          0.012   /* W per % duty */
#define TPS_REPORTED_EXTRA 5.0     /* W the TPS546 firmware adds */

/* Nonces an ASIC reports are at this difficulty; some fail. */
#define ASIC_NONCE_DIFFICULTY 256.0

#define TWO_POW_32         4294967296.0

#define JOB_MIN_MS         10000
#define JOB_MAX_MS         30000
#define JOB_MEAN_MS        20000
#define TEMP_MIN_MS        5000
#define TEMP_MAX_MS        10000
#define TEMP_MEAN_MS       7500
#define BLOCK_SECONDS      600
#define RETARGET_BLOCKS    2016

/* At most this many shares of one interval are logged; each gives two
 * events. */
#define SHARE_EVENTS_MAX   (PM_MINER_EVENTS_KEPT / 2)

/* The wall clock used for a share's ntime, until told otherwise: the
 * monotonic time plus 2025-06-01T00:00:00Z. */
#define DEFAULT_CLOCK_OFFSET_US (G_GINT64_CONSTANT (1748736000) * G_USEC_PER_SEC)

#define MAX_ASICS          16
#define MAX_DOMAINS        4

static const char *const reject_messages[PM_MINER_N_REJECT_REASONS] = {
  "Above target",
  "Stale",
  "Duplicate share",
};
static const double reject_weights[PM_MINER_N_REJECT_REASONS] = { 0.3, 0.6, 0.1 };

struct _PmMiner
{
  const PmBoard *board;
  PmPowerSensor  sensor;
  guint64        rng[4];

  /* Fixed for the device's life. */
  double  cores_per_mhz;       /* GH/s per MHz: cores × ASICs / 1000 */
  double  k_dynamic;           /* W / (V² MHz core) */
  double  stock_core_power;    /* W, the model's, before power_factor */
  double  power_factor;        /* this chip's luck */
  double  thermal_scale;
  double  ambient;             /* °C */
  double  hash_bias;
  double  voltage_offset;
  double  input_base;          /* mV */
  double  input_sag;           /* mV per W */
  double  fan_rpm_factor;
  double  reject_probability;
  double  error_base;          /* % */
  double  response_base;       /* ms */
  double  rssi_base;           /* dBm */
  double  cpu_base;            /* % */
  double  heap_internal_base;  /* bytes */
  double  heap_spiram_base;    /* bytes */
  guint64 network_seed;        /* the seed's, shared by its fleet */
  guint64 height_base;
  double  difficulty_base;
  float   asic_weight[MAX_ASICS];
  float   asic_temp_offset[MAX_ASICS];
  float   domain_weight[MAX_ASICS][MAX_DOMAINS];
  gint64  clock_offset_us;

  /* Settings. */
  double   frequency;
  guint    core_voltage;
  gboolean autofan;
  guint    manual_fan;
  guint    min_fan;
  guint    temp_target;
  gboolean paused;
  double   pool_difficulty;

  /* Dynamic state. */
  gint64   boot_us;
  gint64   last_us;
  double   actual_frequency;
  double   core_voltage_true;  /* mV */
  double   noise;              /* relative hashrate deviation */
  double   chip_temp;          /* °C */
  double   temp_wobble;        /* °C, the reading's error */
  double   duty;               /* % */
  double   core_power;         /* W */
  double   input_power;        /* W, INA260 boards */
  double   error_fraction;
  gint64   next_job_ms;
  gint64   next_temp_ms;
  guint64  total_uptime_base;  /* s, of the previous boots */
  gboolean frequency_event_pending;

  PmMinerState state;

  PmMinerEvent events[PM_MINER_EVENTS_KEPT];
  guint        events_first;   /* index of the oldest */
  guint        n_events;
};

/* A function, not the CLAMP macro: its argument is evaluated once. */
static inline double
clamp (double x,
       double lo,
       double hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

/* ---- random numbers --------------------------------------------------------- */

static inline guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static inline guint64
mix64 (guint64 x)
{
  return splitmix64 (&x);
}

static inline guint64
rotl64 (guint64 x,
        int     k)
{
  return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static inline guint64
rng_next (PmMiner *self)
{
  guint64 *s = self->rng;
  guint64 result = rotl64 (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64 (s[3], 45);
  return result;
}

/* In [0, 1). */
static inline double
rng_uniform (PmMiner *self)
{
  return (rng_next (self) >> 11) * (1.0 / 9007199254740992.0);
}

/* In (0, 1]. */
static inline double
rng_uniform_positive (PmMiner *self)
{
  return ((rng_next (self) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

static inline double
rng_range (PmMiner *self,
           double   lo,
           double   hi)
{
  return lo + (hi - lo) * rng_uniform (self);
}

/* In [lo, hi]. */
static inline gint64
rng_int (PmMiner *self,
         gint64   lo,
         gint64   hi)
{
  return lo + (gint64) (rng_next (self) % (guint64) (hi - lo + 1));
}

static double
rng_normal (PmMiner *self)
{
  double u = rng_uniform_positive (self);
  double v = rng_uniform (self);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

/* Exact (by multiplication of uniforms) for small means, normal above. */
static guint64
rng_poisson (PmMiner *self,
             double   mean)
{
  if (!(mean > 0))
    return 0;
  if (mean < 30)
    {
      double limit = exp (-mean);
      double product = rng_uniform_positive (self);
      guint64 n = 0;

      /* The cap is far in the tail: P(n > 200 | mean < 30) < 1e-80. */
      while (product > limit && n < 200)
        {
          product *= rng_uniform_positive (self);
          n++;
        }
      return n;
    }
  else
    {
      double x = floor (mean + sqrt (mean) * rng_normal (self) + 0.5);

      return x > 0 ? (guint64) x : 0;
    }
}

/* Exact for a few trials, Poisson or normal for many: at most a few
 * dozen draws whatever n. */
static guint64
rng_binomial (PmMiner *self,
              guint64  n,
              double   p)
{
  double mean;
  guint64 k;

  if (n == 0 || p <= 0)
    return 0;
  if (p >= 1)
    return n;
  if (n <= 40)
    {
      guint64 i;

      k = 0;
      for (i = 0; i < n; i++)
        k += rng_uniform (self) < p;
      return k;
    }
  mean = n * p;
  if (mean < 30)
    k = rng_poisson (self, mean);
  else
    {
      double x = floor (mean + sqrt (mean * (1 - p)) * rng_normal (self) + 0.5);

      k = x > 0 ? (guint64) x : 0;
    }
  return MIN (k, n);
}

/* ---- events ------------------------------------------------------------------ */

/* The events of one interval, gathered before they are sorted and the
 * newest PM_MINER_EVENTS_KEPT go into the ring.  Each source gives at
 * most a bounded number. */
#define PENDING_JOBS  (PM_MINER_EVENTS_KEPT * JOB_MAX_MS / JOB_MIN_MS + 2)
#define PENDING_TEMPS (PM_MINER_EVENTS_KEPT * TEMP_MAX_MS / TEMP_MIN_MS + 2)
#define PENDING_MAX   (PENDING_JOBS + PENDING_TEMPS + 2 * SHARE_EVENTS_MAX + 2)

typedef struct
{
  PmMinerEvent event;
  guint        order;
} PendingEvent;

typedef struct
{
  PendingEvent items[PENDING_MAX];
  guint        n;
} Pending;

static void
pending_add (Pending          *pending,
             gint64            ms,
             PmMinerEventKind  kind,
             double            value,
             const char       *reason)
{
  PendingEvent *item;

  if (pending->n >= PENDING_MAX)
    return;
  item = &pending->items[pending->n];
  item->event.ms_since_boot = ms;
  item->event.kind = kind;
  item->event.value = value;
  item->event.reason = reason;
  item->order = pending->n;
  pending->n++;
}

static int
pending_compare (const void *a,
                 const void *b)
{
  const PendingEvent *x = a;
  const PendingEvent *y = b;

  if (x->event.ms_since_boot != y->event.ms_since_boot)
    return x->event.ms_since_boot < y->event.ms_since_boot ? -1 : 1;
  return x->order < y->order ? -1 : (x->order > y->order);
}

static void
ring_push (PmMiner            *self,
           const PmMinerEvent *event)
{
  guint slot;

  if (self->n_events < PM_MINER_EVENTS_KEPT)
    {
      slot = (self->events_first + self->n_events) % PM_MINER_EVENTS_KEPT;
      self->n_events++;
    }
  else
    {
      slot = self->events_first;
      self->events_first = (self->events_first + 1) % PM_MINER_EVENTS_KEPT;
    }
  self->events[slot] = *event;
}

static void
pending_flush (PmMiner *self,
               Pending *pending)
{
  guint i;
  guint start;

  if (pending->n == 0)
    return;
  if (pending->n > 1)
    qsort (pending->items, pending->n, sizeof pending->items[0], pending_compare);
  start = pending->n > PM_MINER_EVENTS_KEPT ? pending->n - PM_MINER_EVENTS_KEPT : 0;
  for (i = start; i < pending->n; i++)
    ring_push (self, &pending->items[i].event);
}

/* ---- the board's physics ------------------------------------------------------- */

/* The core power of each model at its stock frequency and voltage, W:
 * what makes the reported power and efficiency of each model fall where
 * real devices are. */
static double
stock_core_power_of (const PmBoard *board)
{
  if (board == &pm_board_gamma)
    return 12.0;
  if (board == &pm_board_supra)
    return 7.6;
  if (board == &pm_board_ultra)
    return 6.4;
  if (board == &pm_board_nerdqaxe_plus)
    return 41.0;
  /* Another board: about what a BM1370 core draws per small core. */
  return 12.0 * board->small_core_count * board->asic_count / 2040.0;
}

static double
thermal_shape (double fan_fraction)
{
  return R_FLOOR + R_SPAN / (1.0 + R_FAN_GAIN * fan_fraction);
}

/* K/W from chip to air at @duty % of fan. */
static double
thermal_resistance (PmMiner *self,
                    double   duty)
{
  return self->thermal_scale * thermal_shape (CLAMP (duty, 0.0, 100.0) / 100.0);
}

/* The duty, %, at which @power W gives the target temperature, or 100
 * if no duty does. */
static double
duty_holding_target (PmMiner *self,
                     double   power)
{
  double needed;
  double over;

  if (power <= 0)
    return 0;
  needed = (self->temp_target - self->ambient) / power / self->thermal_scale;
  over = needed - R_FLOOR;
  if (over <= R_SPAN / (1.0 + R_FAN_GAIN))
    return 100;
  return CLAMP ((R_SPAN / over - 1.0) / R_FAN_GAIN * 100.0, 0.0, 100.0);
}

static double
core_power_at (PmMiner *self,
               double   frequency,
               double   voltage_mv,
               gboolean hashing)
{
  double v2 = (voltage_mv / 1000.0) * (voltage_mv / 1000.0);
  double static_power = K_STATIC * v2 * self->board->asic_count;

  if (!hashing && self->paused)
    return static_power * PAUSED_STATIC * self->power_factor;
  return (self->k_dynamic * v2 * frequency * self->board->small_core_count * self->board->asic_count +
          static_power) *
         self->power_factor;
}

static double
error_fraction_now (PmMiner *self)
{
  double f_ratio = self->frequency / self->board->default_frequency;
  double v_ratio = self->core_voltage / (double) self->board->default_voltage;
  double percent = self->error_base + 4.0 * MAX (0.0, f_ratio - v_ratio) +
                   0.05 * MAX (0.0, self->chip_temp - 65.0);

  return CLAMP (percent, 0.0, 3.0) / 100.0;
}

/* The first block arrives after about BLOCK_SECONDS; the k-th at about
 * k × BLOCK_SECONDS, give or take less than half of that, the same for
 * every device of a seed. */
static double
block_arrival (PmMiner *self,
               gint64   k)
{
  guint64 h = mix64 (self->network_seed ^ (guint64) k);

  return k * (double) BLOCK_SECONDS + ((h >> 11) * (1.0 / 9007199254740992.0) - 0.5) * 0.8 * BLOCK_SECONDS;
}

static void
update_block (PmMiner *self,
              gint64   now_us)
{
  double t = now_us / (double) G_USEC_PER_SEC;
  gint64 k = (gint64) floor (t / BLOCK_SECONDS) + 1;
  guint64 height;

  /* Arrivals are in order and within 0.4 blocks of k × BLOCK_SECONDS. */
  while (k > 0 && block_arrival (self, k) > t)
    k--;
  height = self->height_base + (guint64) k;
  if (height != self->state.block_height)
    {
      gint64 epochs = (gint64) (height / RETARGET_BLOCKS) - (gint64) (self->height_base / RETARGET_BLOCKS);

      self->state.block_height = height;
      self->state.network_difficulty = self->difficulty_base * pow (1.015, (double) epochs);
    }
}

/* ---- shares ---------------------------------------------------------------------- */

static void
scoreboard_offer (PmMiner *self,
                  double   difficulty,
                  gint64   ms)
{
  PmMinerState *st = &self->state;
  PmMinerShare share;
  guint i;

  if (st->n_scoreboard == PM_MINER_SCOREBOARD_SIZE &&
      difficulty <= st->scoreboard[PM_MINER_SCOREBOARD_SIZE - 1].difficulty)
    return;

  share.difficulty = difficulty;
  share.job_id = st->job_id;
  share.extranonce2 = rng_next (self) >> 32;
  share.ntime = (guint32) ((self->boot_us + ms * 1000 + self->clock_offset_us) / G_USEC_PER_SEC);
  share.nonce = (guint32) (rng_next (self) >> 32);
  share.version_bits = (guint32) (rng_next (self) >> 32) & 0x1fffe000;

  i = st->n_scoreboard < PM_MINER_SCOREBOARD_SIZE ? st->n_scoreboard : PM_MINER_SCOREBOARD_SIZE - 1;
  while (i > 0 && st->scoreboard[i - 1].difficulty < difficulty)
    {
      st->scoreboard[i] = st->scoreboard[i - 1];
      i--;
    }
  st->scoreboard[i] = share;
  if (st->n_scoreboard < PM_MINER_SCOREBOARD_SIZE)
    st->n_scoreboard++;
}

/* Index of a reason drawn from @left (decremented), else by weight. */
static guint
take_reason (PmMiner *self,
             guint64  left[PM_MINER_N_REJECT_REASONS])
{
  guint64 total = 0;
  guint64 pick;
  double x;
  guint r;

  for (r = 0; r < PM_MINER_N_REJECT_REASONS; r++)
    total += left[r];
  if (total > 0)
    {
      pick = rng_next (self) % total;
      for (r = 0; r < PM_MINER_N_REJECT_REASONS - 1 && pick >= left[r]; r++)
        pick -= left[r];
      left[r]--;
      return r;
    }
  x = rng_uniform (self);
  for (r = 0; r < PM_MINER_N_REJECT_REASONS - 1 && x >= reject_weights[r]; r++)
    x -= reject_weights[r];
  return r;
}

/* The shares found in (@ms0, @ms1] over @hashes hashes. */
static void
find_shares (PmMiner *self,
             Pending *pending,
             double   hashes,
             gint64   ms0,
             gint64   ms1)
{
  PmMinerState *st = &self->state;
  double pool = self->pool_difficulty;
  guint64 n, n_rejected, left, k, i, j;
  guint64 by_reason[PM_MINER_N_REJECT_REASONS];
  guint64 reasons_left[PM_MINER_N_REJECT_REASONS];
  double weight_left = 1.0;
  gint64 times[SHARE_EVENTS_MAX];
  double difficulties[SHARE_EVENTS_MAX];
  double best = 0;
  gint64 best_ms = ms1;
  gint64 lo;
  guint64 rejected_logged;
  guint r;

  n = rng_poisson (self, hashes / (pool * TWO_POW_32));
  if (n == 0)
    return;

  n_rejected = rng_binomial (self, n, self->reject_probability);
  left = n_rejected;
  for (r = 0; r < PM_MINER_N_REJECT_REASONS; r++)
    {
      if (r == PM_MINER_N_REJECT_REASONS - 1)
        by_reason[r] = left;
      else
        by_reason[r] = rng_binomial (self, left, reject_weights[r] / weight_left);
      weight_left -= reject_weights[r];
      left -= by_reason[r];
      st->reject_reasons[r].count += by_reason[r];
    }
  st->shares_accepted += n - n_rejected;
  st->shares_rejected += n_rejected;

  /* The logged shares: all of them, or the last SHARE_EVENTS_MAX. */
  k = MIN (n, (guint64) SHARE_EVENTS_MAX);
  lo = ms0 + 1;
  if (k < n)
    lo = ms1 - (gint64) ((ms1 - ms0 - 1) * (double) k / n);

  if (k == n)
    {
      /* Each share drawn: the best is one of them. */
      for (i = 0; i < k; i++)
        {
          times[i] = rng_int (self, lo, ms1);
          difficulties[i] = pool / rng_uniform_positive (self);
          if (difficulties[i] > best)
            {
              best = difficulties[i];
              best_ms = times[i];
            }
          scoreboard_offer (self, difficulties[i], times[i]);
        }
    }
  else
    {
      /* The best of n from the smallest of n uniforms, then the next
       * best, for as long as they would make the scoreboard. */
      double u = 0;

      for (i = 0; i < MIN (n, (guint64) PM_MINER_SCOREBOARD_SIZE); i++)
        {
          double d;
          gint64 ms = rng_int (self, ms0 + 1, ms1);

          u += (1.0 - u) * -expm1 (log (rng_uniform_positive (self)) / (double) (n - i));
          d = pool / MAX (u, 1e-300);
          if (i == 0)
            {
              best = d;
              best_ms = ms;
            }
          else if (st->n_scoreboard == PM_MINER_SCOREBOARD_SIZE &&
                   d <= st->scoreboard[PM_MINER_SCOREBOARD_SIZE - 1].difficulty)
            break;
          scoreboard_offer (self, d, ms);
        }
      for (i = 0; i < k; i++)
        {
          times[i] = rng_int (self, lo, ms1);
          difficulties[i] = fmin (pool / rng_uniform_positive (self), best);
        }
    }

  /* In time order, for the log. */
  for (i = 1; i < k; i++)
    for (j = i; j > 0 && times[j - 1] > times[j]; j--)
      {
        gint64 t = times[j];
        double d = difficulties[j];

        times[j] = times[j - 1];
        difficulties[j] = difficulties[j - 1];
        times[j - 1] = t;
        difficulties[j - 1] = d;
      }

  memcpy (reasons_left, by_reason, sizeof reasons_left);
  rejected_logged = k == n ? n_rejected : (guint64) floor (n_rejected * (double) k / n + rng_uniform (self));
  for (i = 0; i < k; i++)
    {
      gint64 answered = MIN (times[i] + (gint64) st->response_time, ms1);
      /* Selection sampling: exactly rejected_logged of the k. */
      gboolean rejected = rng_uniform (self) * (k - i) < rejected_logged;

      pending_add (pending, times[i], PM_MINER_EVENT_SHARE_FOUND, difficulties[i], NULL);
      if (rejected)
        {
          r = take_reason (self, reasons_left);
          rejected_logged--;
          pending_add (pending, answered, PM_MINER_EVENT_SHARE_REJECTED, difficulties[i], reject_messages[r]);
        }
      else
        pending_add (pending, answered, PM_MINER_EVENT_SHARE_ACCEPTED, difficulties[i], NULL);
    }

  if (best > st->best_session_diff)
    {
      st->best_session_diff = best;
      pending_add (pending, best_ms, PM_MINER_EVENT_NEW_BEST, best, NULL);
    }
  if (best > st->best_diff)
    st->best_diff = best;
}

/* ---- periodic happenings -------------------------------------------------------- */

static void
receive_jobs (PmMiner *self,
              Pending *pending,
              gint64   ms0,
              gint64   ms1)
{
  PmMinerState *st = &self->state;
  gint64 span = ms1 - self->next_job_ms;
  const gint64 logged_span = (gint64) PM_MINER_EVENTS_KEPT * JOB_MAX_MS;

  if (span < 0)
    return;
  if (span > logged_span)
    {
      /* Too many to log: count the older ones at the mean rate. */
      gint64 skipped = (span - logged_span) / JOB_MEAN_MS + 1;

      st->job_id += (guint) skipped;
      st->work_received += (guint64) skipped;
      self->next_job_ms += skipped * JOB_MEAN_MS;
    }
  while (self->next_job_ms <= ms1)
    {
      st->job_id++;
      st->work_received++;
      pending_add (pending, MAX (self->next_job_ms, ms0 + 1), PM_MINER_EVENT_NEW_JOB, st->job_id, NULL);
      self->next_job_ms += rng_int (self, JOB_MIN_MS, JOB_MAX_MS);
    }
}

static void
read_temperatures (PmMiner *self,
                   Pending *pending,
                   gint64   ms0,
                   gint64   ms1,
                   double   temp0,
                   double   temp_eq)
{
  gint64 span = ms1 - self->next_temp_ms;
  const gint64 logged_span = (gint64) PM_MINER_EVENTS_KEPT * TEMP_MAX_MS;

  if (span < 0)
    return;
  if (span > logged_span)
    self->next_temp_ms += ((span - logged_span) / TEMP_MEAN_MS + 1) * TEMP_MEAN_MS;
  while (self->next_temp_ms <= ms1)
    {
      gint64 ms = MAX (self->next_temp_ms, ms0 + 1);
      double t = temp_eq + (temp0 - temp_eq) * exp (-(ms - ms0) / 1000.0 / TAU_TEMPERATURE);

      if (!self->paused)
        pending_add (pending, ms, PM_MINER_EVENT_TEMPERATURE,
                     floor ((t + rng_range (self, -0.3, 0.3)) * 10 + 0.5) / 10, NULL);
      self->next_temp_ms += rng_int (self, TEMP_MIN_MS, TEMP_MAX_MS);
    }
}

/* ---- advancing -------------------------------------------------------------------- */

static inline gint64
ms_of (PmMiner *self,
       gint64   t_us)
{
  return (t_us - self->boot_us) / 1000;
}

static void
step (PmMiner *self,
      gint64   t0,
      gint64   t1)
{
  PmMinerState *st = &self->state;
  Pending pending;
  double dt = (t1 - t0) / (double) G_USEC_PER_SEC;
  gint64 ms0 = ms_of (self, t0);
  gint64 ms1 = ms_of (self, t1);
  gint64 on_us = self->boot_us + ASIC_INIT_US;
  gboolean hashing = !self->paused && t1 > on_us;
  double hashing_time = hashing ? (t1 - MAX (t0, on_us)) / (double) G_USEC_PER_SEC : 0;
  double frequency_integral = 0;
  double e, mean_noise, hashes, mean_hashrate;
  double voltage_target, duty_goal, temp0, temp_eq, tau;
  guint i;

  pending.n = 0;

  if (self->frequency_event_pending)
    {
      pending_add (&pending, ms0 + 1, PM_MINER_EVENT_FREQUENCY, self->frequency, NULL);
      self->frequency_event_pending = FALSE;
    }

  /* Frequency: from 50 MHz once the ASIC is up, toward the setting. */
  if (hashing)
    {
      double f = self->frequency;
      double f0 = t0 < on_us ? IDLE_FREQUENCY : self->actual_frequency;

      e = exp (-hashing_time / TAU_FREQUENCY);
      self->actual_frequency = f + (f0 - f) * e;
      frequency_integral = f * hashing_time + (f0 - f) * TAU_FREQUENCY * (1 - e);
    }
  else
    self->actual_frequency = IDLE_FREQUENCY;

  /* The fluctuation, exactly as an Ornstein-Uhlenbeck process; its mean
   * over the interval is the expected one. */
  e = exp (-dt / TAU_NOISE);
  mean_noise = self->noise * TAU_NOISE * (1 - e) / dt;
  self->noise = clamp (self->noise * e + NOISE_SIGMA * sqrt (1 - e * e) * rng_normal (self),
                       -NOISE_LIMIT, NOISE_LIMIT);

  hashes = self->cores_per_mhz * frequency_integral * (1 + self->hash_bias) * (1 + mean_noise) * 1e9;
  mean_hashrate = hashes / 1e9 / dt;
  st->hashrate_1m += (mean_hashrate - st->hashrate_1m) * -expm1 (-dt / 60.0);
  st->hashrate_10m += (mean_hashrate - st->hashrate_10m) * -expm1 (-dt / 600.0);
  st->hashrate_1h += (mean_hashrate - st->hashrate_1h) * -expm1 (-dt / 3600.0);
  st->hashrate_1d += (mean_hashrate - st->hashrate_1d) * -expm1 (-dt / 86400.0);
  st->total_hashes += hashes;

  /* Errors, before the shares: the ASICs report them as they hash. */
  self->error_fraction = error_fraction_now (self);
  for (i = 0; i < self->board->asic_count && i < MAX_ASICS; i++)
    st->asic_error_count[i] +=
      rng_poisson (self, self->error_fraction * hashes * self->asic_weight[i] /
                           (ASIC_NONCE_DIFFICULTY * TWO_POW_32));

  receive_jobs (self, &pending, ms0, ms1);
  find_shares (self, &pending, hashes, ms0, ms1);
  update_block (self, t1);

  /* Core voltage: the regulator follows the setting, sagging a little
   * under load. */
  voltage_target = self->core_voltage * (1 + self->voltage_offset) *
                   (1 - 0.004 * (hashing ? self->core_power / self->stock_core_power : 0));
  self->core_voltage_true = voltage_target + (self->core_voltage_true - voltage_target) * exp (-dt / TAU_VOLTAGE);
  self->core_power = core_power_at (self, self->actual_frequency, self->core_voltage_true, hashing);

  /* Fan: the PID as a lagged approach to the duty that holds the
   * target, corrected by the error it reads while that lasts. */
  temp0 = self->chip_temp;
  if (self->autofan)
    {
      duty_goal = duty_holding_target (self, self->core_power) +
                  FAN_GAIN * (temp0 + self->temp_wobble - self->temp_target) * exp (-dt / TAU_TEMPERATURE);
      duty_goal = CLAMP (duty_goal, (double) MIN (self->min_fan, 100), 100.0);
      tau = TAU_FAN_AUTO;
    }
  else
    {
      duty_goal = MIN (self->manual_fan, 100);
      tau = TAU_FAN_MANUAL;
    }
  self->duty = duty_goal + (self->duty - duty_goal) * exp (-dt / tau);

  temp_eq = self->ambient + self->core_power * thermal_resistance (self, self->duty);
  self->chip_temp = temp_eq + (temp0 - temp_eq) * exp (-dt / TAU_TEMPERATURE);
  e = exp (-dt / TAU_WOBBLE);
  self->temp_wobble = clamp (self->temp_wobble * e + WOBBLE_SIGMA * sqrt (1 - e * e) * rng_normal (self),
                             -WOBBLE_LIMIT, WOBBLE_LIMIT);
  read_temperatures (self, &pending, ms0, ms1, temp0, temp_eq);

  pending_flush (self, &pending);
}

/* Writes what the firmware would report now into the state. */
static void
publish (PmMiner *self)
{
  PmMinerState *st = &self->state;
  const PmBoard *board = self->board;
  guint asics = MIN (board->asic_count, MAX_ASICS);
  guint domains = MIN (board->hash_domains, MAX_DOMAINS);
  gboolean hashing = !self->paused && self->last_us >= self->boot_us + ASIC_INIT_US;
  double weight_sum = 0;
  double weights[MAX_ASICS];
  double temp_sum = 0;
  double vcore;
  double free_internal;
  guint i, j;

  st->ms_since_boot = ms_of (self, self->last_us);
  st->uptime_seconds = (guint64) (st->ms_since_boot / 1000);
  st->total_uptime_seconds = self->total_uptime_base + st->uptime_seconds;

  st->frequency = self->frequency;
  st->actual_frequency = self->actual_frequency;
  st->core_voltage = self->core_voltage;
  st->paused = self->paused;
  st->pool_difficulty = self->pool_difficulty;
  st->expected_hashrate = self->paused ? 0 : pm_board_expected_hashrate (board, self->frequency);

  st->hashrate = hashing ? self->cores_per_mhz * self->actual_frequency * (1 + self->hash_bias) * (1 + self->noise) : 0;
  for (i = 0; i < asics; i++)
    {
      weights[i] = self->asic_weight[i] * (1 + rng_range (self, -0.02, 0.02));
      weight_sum += weights[i];
    }
  for (i = 0; i < asics; i++)
    {
      double share = st->hashrate * weights[i] / weight_sum;
      double domain_weights[MAX_DOMAINS];
      double domain_sum = 0;

      for (j = 0; j < domains; j++)
        {
          domain_weights[j] = self->domain_weight[i][j] * (1 + rng_range (self, -0.03, 0.03));
          domain_sum += domain_weights[j];
        }
      for (j = 0; j < domains; j++)
        st->domain_hashrate[i][j] = share * domain_weights[j] / domain_sum;
    }
  st->error_percentage = hashing ? fmax (0.0, self->error_fraction * 100 + rng_range (self, -0.05, 0.05)) : 0;

  /* Power, as the board's sensor sees it. */
  vcore = self->core_voltage_true * (1 + rng_range (self, -0.002, 0.002));
  st->core_voltage_actual = vcore;
  self->input_power = self->core_power / INA_EFFICIENCY + INA_BASE_POWER + FAN_POWER * self->duty;
  switch (self->sensor)
    {
    case PM_POWER_SENSOR_INA260:
      st->voltage = self->input_base - self->input_sag * self->input_power + rng_range (self, -8, 8);
      st->current = self->input_power * 1e6 / st->voltage;
      st->power = st->voltage * st->current / 1e6;
      st->vr_temp = 0;
      break;
    case PM_POWER_SENSOR_TPS546:
    default:
      st->voltage = self->input_base - self->input_sag * (self->core_power + TPS_REPORTED_EXTRA) +
                    rng_range (self, -8, 8);
      st->current = self->core_power * 1e6 / vcore;
      st->power = vcore / 1000 * st->current / 1000 + TPS_REPORTED_EXTRA;
      st->vr_temp = self->ambient + 0.7 * (self->chip_temp - self->ambient) +
                    0.25 * st->current / 1000 / asics + rng_range (self, -0.5, 0.5);
      break;
    }

  /* Temperatures: -1 while the ASICs are off. */
  for (i = 0; i < asics; i++)
    {
      st->asic_temps[i] = self->paused ? -1 : self->chip_temp + self->temp_wobble + self->asic_temp_offset[i] +
                                         rng_range (self, -0.2, 0.2);
      temp_sum += st->asic_temps[i];
    }
  st->temp = self->paused ? -1 : temp_sum / asics;

  st->fan_duty = self->duty;
  st->fan_rpm = (guint) fmax (0.0, floor (self->duty / 100 * board->fan_max_rpm * self->fan_rpm_factor +
                                         (self->duty > 0 ? rng_range (self, -25, 25) : 0) + 0.5));

  st->response_time = clamp (self->response_base * exp (0.25 * rng_normal (self)), 20.0, 300.0);
  free_internal = self->heap_internal_base + rng_range (self, -15000, 15000);
  st->free_heap_internal = (guint64) free_internal;
  st->free_heap_spiram = (guint64) (self->heap_spiram_base + rng_range (self, -40000, 40000));
  st->free_heap = st->free_heap_internal + st->free_heap_spiram;
  if (st->min_free_heap == 0 || st->free_heap < st->min_free_heap)
    st->min_free_heap = st->free_heap;
  st->cpu_usage = clamp (self->cpu_base + rng_range (self, -4, 4), 5.0, 40.0);
  st->wifi_rssi = (int) floor (self->rssi_base + rng_range (self, -3, 3) + 0.5);
}

/* What a boot resets, and the boot event. */
static void
boot (PmMiner *self,
      gint64   now_us)
{
  PmMinerState *st = &self->state;
  PmMinerEvent event = { 0, PM_MINER_EVENT_BOOT, 0, NULL };
  guint r;

  self->boot_us = now_us;
  self->last_us = now_us;
  self->actual_frequency = IDLE_FREQUENCY;
  self->duty = 100;  /* full speed until the controller takes over */
  self->next_job_ms = rng_int (self, 1500, 4000);
  self->next_temp_ms = rng_int (self, TEMP_MIN_MS, TEMP_MAX_MS);
  self->frequency_event_pending = TRUE;

  st->hashrate_1m = 0;
  st->hashrate_10m = 0;
  st->hashrate_1h = 0;
  st->hashrate_1d = 0;
  memset (st->asic_error_count, 0, sizeof st->asic_error_count);
  st->shares_accepted = 0;
  st->shares_rejected = 0;
  for (r = 0; r < PM_MINER_N_REJECT_REASONS; r++)
    {
      st->reject_reasons[r].message = reject_messages[r];
      st->reject_reasons[r].count = 0;
    }
  st->best_session_diff = 0;
  st->work_received = 0;
  memset (st->scoreboard, 0, sizeof st->scoreboard);
  st->n_scoreboard = 0;
  st->min_free_heap = 0;

  self->events_first = 0;
  self->n_events = 0;
  ring_push (self, &event);

  update_block (self, now_us);
  publish (self);
}

/* ---- public API ------------------------------------------------------------------- */

/**
 * pm_miner_new:
 * @board: the model
 * @sensor: how this board revision measures its power
 * @seed: the fleet's seed
 * @port: the device's port; with @seed, all the device's randomness
 * @now_us: the monotonic time of power-on
 *
 * Returns: (transfer full): a miner just powered on, at stock settings,
 *   not paused, with pool difficulty 1000
 */
PmMiner *
pm_miner_new (const PmBoard *board,
              PmPowerSensor  sensor,
              guint64        seed,
              guint          port,
              gint64         now_us)
{
  PmMiner *self;
  guint64 x;
  double stock_v2;
  double mean;
  guint i, j;

  g_return_val_if_fail (board != NULL, NULL);
  g_return_val_if_fail (board->asic_count >= 1 && board->asic_count <= MAX_ASICS, NULL);

  self = g_new0 (PmMiner, 1);
  self->board = board;
  self->sensor = sensor;
  x = seed ^ mix64 ((guint64) port + G_GUINT64_CONSTANT (0x6A09E667F3BCC908));
  for (i = 0; i < 4; i++)
    self->rng[i] = splitmix64 (&x);

  /* The chip and the board. */
  self->cores_per_mhz = board->small_core_count * (double) board->asic_count / 1000.0;
  self->stock_core_power = stock_core_power_of (board);
  stock_v2 = (board->default_voltage / 1000.0) * (board->default_voltage / 1000.0);
  self->k_dynamic = MAX (0.0, self->stock_core_power - K_STATIC * stock_v2 * board->asic_count) /
                    (stock_v2 * board->default_frequency * board->small_core_count * board->asic_count);
  self->thermal_scale = STOCK_RISE / (self->stock_core_power * thermal_shape (STOCK_FAN)) * rng_range (self, 0.95, 1.05);
  self->power_factor = rng_range (self, 0.96, 1.04);
  self->ambient = rng_range (self, 22, 28);
  self->hash_bias = rng_range (self, -0.015, 0.005);
  self->voltage_offset = rng_range (self, -0.008, 0.008);
  if (board->nominal_voltage >= 12)
    {
      self->input_base = board->nominal_voltage * 1000.0 * rng_range (self, 0.99, 1.01);
      self->input_sag = 2.0;
    }
  else
    {
      self->input_base = board->nominal_voltage * 1000.0 * rng_range (self, 1.0, 1.04);
      self->input_sag = 5.0;
    }
  self->fan_rpm_factor = rng_range (self, 0.95, 1.02);
  self->reject_probability = rng_range (self, 0.002, 0.01);
  self->error_base = rng_range (self, 0.1, 0.6);
  self->response_base = rng_range (self, 30, 120);
  self->rssi_base = rng_range (self, -75, -45);
  self->cpu_base = rng_range (self, 10, 25);
  self->heap_internal_base = rng_range (self, 80000, 180000);
  self->heap_spiram_base = rng_range (self, 6.8e6, 7.4e6);
  mean = 0;
  for (i = 0; i < board->asic_count; i++)
    {
      self->asic_weight[i] = (float) rng_range (self, 0.97, 1.03);
      self->asic_temp_offset[i] = board->asic_count > 1 ? (float) rng_range (self, -2, 2) : 0;
      mean += self->asic_temp_offset[i];
      for (j = 0; j < MIN (board->hash_domains, MAX_DOMAINS); j++)
        self->domain_weight[i][j] = (float) rng_range (self, 0.96, 1.04);
    }
  for (i = 0; i < board->asic_count; i++)
    self->asic_temp_offset[i] -= (float) (mean / board->asic_count);

  /* The network, the same for every device of the seed. */
  self->network_seed = mix64 (seed ^ G_GUINT64_CONSTANT (0x3C6EF372FE94F82B));
  self->height_base = 880000 + mix64 (self->network_seed) % 50000;
  self->difficulty_base = 1.0e14 + (mix64 (self->network_seed + 1) >> 11) * (1.0 / 9007199254740992.0) * 0.5e14;
  self->clock_offset_us = DEFAULT_CLOCK_OFFSET_US;

  /* Stock settings. */
  self->frequency = board->default_frequency;
  self->core_voltage = board->default_voltage;
  self->autofan = TRUE;
  self->manual_fan = 100;
  self->min_fan = 25;
  self->temp_target = 60;
  self->paused = FALSE;
  self->pool_difficulty = 1000;

  /* Powered on from cold. */
  self->noise = NOISE_SIGMA * rng_normal (self);
  self->chip_temp = self->ambient;
  self->core_voltage_true = self->core_voltage * (1 + self->voltage_offset);
  self->core_power = core_power_at (self, IDLE_FREQUENCY, self->core_voltage_true, FALSE);
  self->error_fraction = error_fraction_now (self);

  boot (self, now_us);
  return self;
}

void
pm_miner_free (PmMiner *self)
{
  g_free (self);
}

/**
 * pm_miner_advance:
 * @self: a miner
 * @now_us: the monotonic time now
 *
 * Moves the model to @now_us, in a time that does not depend on how
 * long ago the previous call was.  Less than a millisecond after the
 * previous step it does nothing: the time is kept for the next call.
 */
void
pm_miner_advance (PmMiner *self,
                  gint64   now_us)
{
  g_return_if_fail (self != NULL);

  if (now_us - self->last_us < 1000)
    return;
  step (self, self->last_us, now_us);
  self->last_us = now_us;
  publish (self);
}

/**
 * pm_miner_get_state:
 * @self: a miner
 *
 * Returns: (transfer none): what the firmware reports, as of the last
 *   advance; valid until the next call on @self
 */
const PmMinerState *
pm_miner_get_state (PmMiner *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->state;
}

/**
 * pm_miner_restart:
 * @self: a miner
 * @now_us: the monotonic time of the reboot
 *
 * A soft reboot: the session (uptime, shares, averages, session best,
 * scoreboard, rejections, events) starts again, the frequency ramps
 * from 50 MHz; the best difficulty, the totals and the settings stay.
 */
void
pm_miner_restart (PmMiner *self,
                  gint64   now_us)
{
  g_return_if_fail (self != NULL);

  pm_miner_advance (self, now_us);
  self->total_uptime_base += self->state.uptime_seconds;
  boot (self, MAX (now_us, self->last_us));
}

void
pm_miner_set_frequency (PmMiner *self,
                        double   mhz)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (mhz > 0);

  if (mhz == self->frequency)
    return;
  self->frequency = mhz;
  self->frequency_event_pending = TRUE;
  self->state.frequency = mhz;
  self->state.expected_hashrate = self->paused ? 0 : pm_board_expected_hashrate (self->board, mhz);
}

void
pm_miner_set_core_voltage (PmMiner *self,
                           guint    mv)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (mv > 0);

  self->core_voltage = mv;
  self->state.core_voltage = mv;
}

/**
 * pm_miner_set_fan:
 * @self: a miner
 * @autofan: whether the controller holds @temp_target
 * @manual_percent: the duty without the controller
 * @min_percent: the controller's lowest duty
 * @temp_target: °C
 */
void
pm_miner_set_fan (PmMiner *self,
                  gboolean autofan,
                  guint    manual_percent,
                  guint    min_percent,
                  guint    temp_target)
{
  g_return_if_fail (self != NULL);

  self->autofan = autofan;
  self->manual_fan = MIN (manual_percent, 100);
  self->min_fan = MIN (min_percent, 100);
  self->temp_target = temp_target;
}

void
pm_miner_set_paused (PmMiner *self,
                     gboolean paused)
{
  g_return_if_fail (self != NULL);

  self->paused = !!paused;
  self->state.paused = self->paused;
  self->state.expected_hashrate = self->paused ? 0 : pm_board_expected_hashrate (self->board, self->frequency);
}

void
pm_miner_set_pool_difficulty (PmMiner *self,
                              double   difficulty)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (difficulty > 0);

  self->pool_difficulty = difficulty;
  self->state.pool_difficulty = difficulty;
}

/**
 * pm_miner_set_clock_offset:
 * @self: a miner
 * @offset_us: the wall clock minus the monotonic clock, µs
 *
 * Sets the clock the shares' ntime is read from.  Until it is called,
 * the monotonic time counts from 2025-06-01.
 */
void
pm_miner_set_clock_offset (PmMiner *self,
                           gint64   offset_us)
{
  g_return_if_fail (self != NULL);

  self->clock_offset_us = offset_us;
}

/**
 * pm_miner_copy_events:
 * @self: a miner
 * @after_ms: copy only events after this many ms since boot; -1 for all
 * @out: (out caller-allocates) (array length=max): where to copy them
 * @max: room in @out
 *
 * Copies the kept events strictly newer than @after_ms, oldest first;
 * if more than @max are newer, the oldest @max of them.
 *
 * Returns: how many were copied
 */
guint
pm_miner_copy_events (PmMiner      *self,
                      gint64        after_ms,
                      PmMinerEvent *out,
                      guint         max)
{
  guint first;
  guint n = 0;
  guint i;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (out != NULL || max == 0, 0);

  /* The ring is in time order: find the first newer one. */
  for (first = 0; first < self->n_events; first++)
    if (self->events[(self->events_first + first) % PM_MINER_EVENTS_KEPT].ms_since_boot > after_ms)
      break;
  for (i = first; i < self->n_events && n < max; i++)
    out[n++] = self->events[(self->events_first + i) % PM_MINER_EVENTS_KEPT];
  return n;
}

/**
 * pm_miner_format_mac:
 * @seed: the fleet's seed
 * @port: the device's port
 * @out: room for "AA:BB:CC:DD:EE:FF" and its nul
 *
 * Writes the device's MAC address: locally administered, unicast,
 * uppercase.  Two ports of one seed never get the same address.
 */
void
pm_miner_format_mac (guint64 seed,
                     guint   port,
                     char    out[18])
{
  const guint64 mask = (G_GUINT64_CONSTANT (1) << 46) - 1;
  guint64 v;

  /* port × an odd number, plus a value of the seed, then steps that
   * are each one-to-one on 46 bits: distinct ports stay distinct. */
  v = (mix64 (seed) + (guint64) port * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) & mask;
  v ^= v >> 23;
  v = (v * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9)) & mask;
  v ^= v >> 21;
  v = (v * G_GUINT64_CONSTANT (0x94D049BB133111EB)) & mask;
  v ^= v >> 23;

  g_snprintf (out, 18, "%02X:%02X:%02X:%02X:%02X:%02X",
              (guint) (((v >> 40) & 0x3F) << 2) | 0x02,
              (guint) (v >> 32) & 0xFF,
              (guint) (v >> 24) & 0xFF,
              (guint) (v >> 16) & 0xFF,
              (guint) (v >> 8) & 0xFF,
              (guint) v & 0xFF);
}
