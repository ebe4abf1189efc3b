/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-miner"

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pm-miner.h"
#include "pm-splitmix.h"

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
 * - What the firmware does on its own happens at the instant it is due:
 *   an advance is cut into a few stretches at those instants (the chip
 *   passing the overheat limit, the end of the cooling, a pool retry or
 *   probe), each advanced in closed form as above.
 *
 * The firmware's reactions are ESP-Miner v2.15's:
 *
 * - Overheat (power_management_task.c): a chip reading above 75 °C
 *   stops mining (ASIC frequency 50 MHz, then core power off), stores
 *   autofanspeed 0, manualFanSpeed 100 and the overheat_mode latch, and
 *   holds the fan at 100 % while the latch is stored; after six 5 s
 *   cooling cycles it stores the frequency and the core voltage less
 *   100 each (400 MHz and 1000 mV once there is no 100 left), starts
 *   mining again and, once the ASICs answer, clears the stored latch.
 *   The reported `overheat_mode` is the power management loop's copy
 *   of the latch, read at boot and on each pass of its loop, which the
 *   cooling blocks: it shows 1 only after a restart while the latch was
 *   stored (or if the ASICs did not come back), until a PATCH of
 *   overheat_mode 0 or a later overheat's recovery clears it.
 * - Pool (stratum_v1_task.c, protocol_coordinator.c): a lost primary
 *   pool is retried twice, 5 s apart; then the coordinator moves to the
 *   fallback pool if a secondary slot is set (share counters reset),
 *   and probes the primary every 60 s to go back; without a fallback
 *   it stops mining and probes every 30 s.  `useFallbackStratum`
 *   chooses the secondary pool at boot.
 * - A core regulator fault leaves the ASICs unpowered: nothing hashes,
 *   the expected hashrate stays, `power_fault` carries the message.
 *
 * Faults (pm_miner_set_fault()) are conditions imposed from outside: an
 * overheat makes the powered chip climb at a rate whatever the fan, a
 * fan failure stops the airflow (0 rpm, whatever the duty), an ASIC
 * failure kills one hash domain, which then returns bad nonces, a pool
 * failure takes the primary pool away, a power fault turns the
 * regulator off.  They persist across restarts until cleared.
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

/* ESP-Miner v2.15's power management: the chip reading above which it
 * stops mining, how long it cools, and what it takes off the frequency
 * (MHz) and the core voltage (mV) before it starts again. */
#define OVERHEAT_CELSIUS       75.0
#define SAFE_MODE_CYCLES       6
#define SAFE_MODE_CYCLE_US     (5 * G_USEC_PER_SEC)
#define SAFE_MODE_US           (SAFE_MODE_CYCLES * SAFE_MODE_CYCLE_US)
#define OVERHEAT_REDUCTION     100
#define OVERHEAT_FREQUENCY     400.0   /* when there is no 100 MHz to take off */
#define OVERHEAT_VOLTAGE       1000    /* mV, likewise */

/* The fan controller's duty while no pool is reachable, %. */
#define NO_POOL_FAN            30.0

/* Stratum: after a lost connection two more attempts, 5 s apart, then
 * the coordinator is told; it probes the primary pool every 60 s from
 * the fallback, every 30 s while mining is stopped for want of a pool. */
#define POOL_RETRY_US          (5 * G_USEC_PER_SEC)
#define POOL_GIVE_UP_US        (2 * POOL_RETRY_US)
#define POOL_HEARTBEAT_US      (60 * G_USEC_PER_SEC)
#define POOL_PROBE_US          (30 * G_USEC_PER_SEC)

/* A dead hash domain returns bad nonces worth this share of the
 * hashrate it had. */
#define DEAD_DOMAIN_ERRORS     0.8

/* Stretches one advance is cut into before whole overheat cycles are
 * skipped, and a bound that is never reached in practice. */
#define MAX_SEGMENTS           32
#define MAX_SEGMENTS_HARD      4096

typedef enum
{
  POOL_CONNECTED,    /* on the current pool (primary or fallback) */
  POOL_RETRYING,     /* the primary was lost: retrying it */
  POOL_UNAVAILABLE,  /* no pool: mining stopped, probing */
} PoolPhase;

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
  gint64   asic_on_us;         /* the ASICs were last started then */

  /* Faults imposed from outside; they outlive restarts. */
  gboolean fault_overheat;
  double   overheat_rate;      /* °C a minute */
  gboolean fault_fan;
  gboolean fault_asic;
  guint    failed_asic;
  guint    failed_domain;
  double   failed_share;       /* of the hashrate, by the static weights */
  gboolean fault_pool;
  gboolean fault_power;
  char     power_message[PM_FAULT_MESSAGE_MAX_BYTES + 1];

  /* The firmware's states. */
  gboolean nvs_overheat;       /* the stored overheat_mode latch */
  gboolean sys_overheat;       /* the power management loop's copy */
  gint64   safe_since_us;      /* cooling after an overheat from then… */
  gint64   safe_until_us;      /* …until then; 0 when not */
  guint    safe_cycles_logged;
  double   safe_frequency;     /* the settings when it overheated */
  guint    safe_voltage;
  guint    settings_serial;
  PoolPhase pool_phase;
  gint64   pool_since_us;      /* the phase began then */
  gint64   pool_next_us;       /* its next retry or probe; G_MAXINT64 */
  double   primary_difficulty;
  gboolean has_fallback;       /* a secondary pool slot is set */
  double   fallback_difficulty;
  gboolean fallback_selected;  /* useFallbackStratum, read at boot */
  gboolean using_fallback;
  gboolean fallback_chosen;    /* by the setting, not by a failover */

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

/* 64 bits that depend on @x alone: the first draw of the SplitMix64
 * stream that starts at @x. */
static inline guint64
mix64 (guint64 x)
{
  return pm_splitmix64_next (&x);
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
#define PENDING_MAX   (PENDING_JOBS + PENDING_TEMPS + 2 * SHARE_EVENTS_MAX + SAFE_MODE_CYCLES + 2)

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
  memset (item, 0, sizeof *item);
  item->event.ms_since_boot = ms;
  item->event.kind = kind;
  item->event.value = value;
  item->event.reason = reason;
  item->order = pending->n;
  pending->n++;
}

/* pending_add() with the event's two first extra numbers. */
static void
pending_add_aux (Pending          *pending,
                 gint64            ms,
                 PmMinerEventKind  kind,
                 double            value,
                 double            aux0,
                 double            aux1)
{
  guint n = pending->n;

  pending_add (pending, ms, kind, value, NULL);
  if (pending->n > n)
    {
      pending->items[n].event.aux[0] = aux0;
      pending->items[n].event.aux[1] = aux1;
    }
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

/* An event of the firmware's own, at @ms: straight into the ring, after
 * those of the stretch that ended then. */
static void
push_event (PmMiner          *self,
            gint64            ms,
            PmMinerEventKind  kind,
            double            value,
            const double      aux[3])
{
  PmMinerEvent event;

  memset (&event, 0, sizeof event);
  event.ms_since_boot = ms;
  event.kind = kind;
  event.value = value;
  if (aux != NULL)
    memcpy (event.aux, aux, sizeof event.aux);
  ring_push (self, &event);
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

/* ---- the firmware's states -------------------------------------------------------- */

static inline gint64
ms_of (PmMiner *self,
       gint64   t_us)
{
  return (t_us - self->boot_us) / 1000;
}

/* The firmware stopped the ASICs: it cools after an overheat, or it has
 * no pool. */
static inline gboolean
asics_stopped (PmMiner *self)
{
  return self->safe_until_us != 0 || self->pool_phase == POOL_UNAVAILABLE;
}

/* The power management loop runs: it reads the temperatures, acts on an
 * overheat and copies the stored latch. */
static inline gboolean
loop_runs (PmMiner *self)
{
  return !self->paused && !asics_stopped (self);
}

/* The core regulator feeds the ASICs. */
static inline gboolean
core_powered (PmMiner *self)
{
  return !asics_stopped (self) && !self->fault_power;
}

/* Jobs come and shares go: the firmware drops the pool's connection
 * while the ASICs are stopped. */
static inline gboolean
pool_up (PmMiner *self)
{
  return self->pool_phase == POOL_CONNECTED && !asics_stopped (self);
}

/* The regulator's temperature at a chip temperature and a core current
 * (mA); 0 on boards without a TPS546. */
static double
vr_temp_of (PmMiner *self,
            double   chip_temp,
            double   current)
{
  if (self->sensor != PM_POWER_SENSOR_TPS546)
    return 0;
  return self->ambient + 0.7 * (chip_temp - self->ambient) +
         0.25 * current / 1000 / MIN (self->board->asic_count, MAX_ASICS);
}

static void
reset_share_stats (PmMiner *self)
{
  PmMinerState *st = &self->state;
  guint r;

  st->shares_accepted = 0;
  st->shares_rejected = 0;
  st->work_received = 0;
  for (r = 0; r < PM_MINER_N_REJECT_REASONS; r++)
    st->reject_reasons[r].count = 0;
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

/* What happens without randomness over one stretch of time: frequency,
 * core voltage, power, fan and chip temperature, from the state at its
 * start. */
typedef struct
{
  gboolean hashing;
  double   actual_frequency;    /* MHz, at the end */
  double   frequency_integral;  /* MHz × s of hashing */
  double   core_voltage_true;   /* mV, at the end */
  double   core_power;          /* W, at the end */
  double   duty;                /* %, at the end */
  double   temp0;               /* °C, the chip's at the start */
  double   temp_eq;             /* °C, what it tends to */
  double   climb;               /* °C/s of an overheat fault, or 0 */
  double   chip_temp;           /* °C, at the end */
} Physics;

/* The chip's temperature @s seconds into the stretch: toward its
 * equilibrium or, under an overheat fault, climbing whatever the fan. */
static double
temp_at (const Physics *p,
         double         s)
{
  double t = p->temp_eq + (p->temp0 - p->temp_eq) * exp (-s / TAU_TEMPERATURE);

  if (p->climb > 0)
    t = fmax (t, p->temp0 + p->climb * s);
  return t;
}

/* Fills @p for the stretch from @t0 to @t1; changes nothing. */
static void
physics (PmMiner *self,
         gint64   t0,
         gint64   t1,
         Physics *p)
{
  double dt = (t1 - t0) / (double) G_USEC_PER_SEC;
  gint64 on_us = self->asic_on_us + ASIC_INIT_US;
  gboolean powered = core_powered (self);
  double e, voltage_target, duty_goal, tau;

  /* Frequency: from 50 MHz once the ASICs are up, toward the setting. */
  p->hashing = powered && !self->paused && t1 > on_us;
  p->frequency_integral = 0;
  if (p->hashing)
    {
      double f = self->frequency;
      double f0 = t0 < on_us ? IDLE_FREQUENCY : self->actual_frequency;
      double hashing_time = (t1 - MAX (t0, on_us)) / (double) G_USEC_PER_SEC;

      e = exp (-hashing_time / TAU_FREQUENCY);
      p->actual_frequency = f + (f0 - f) * e;
      p->frequency_integral = f * hashing_time + (f0 - f) * TAU_FREQUENCY * (1 - e);
    }
  else if (self->fault_power && !asics_stopped (self) && !self->paused)
    {
      /* The firmware set the PLL; the unpowered chip just does not run. */
      p->actual_frequency = self->actual_frequency;
    }
  else
    {
      p->actual_frequency = IDLE_FREQUENCY;
    }

  /* Core voltage: the regulator follows the setting, sagging a little
   * under load; switched off, it falls to nothing. */
  voltage_target = 0;
  if (powered)
    voltage_target = self->core_voltage * (1 + self->voltage_offset) *
                     (1 - 0.004 * (p->hashing ? self->core_power / self->stock_core_power : 0));
  p->core_voltage_true = voltage_target + (self->core_voltage_true - voltage_target) * exp (-dt / TAU_VOLTAGE);
  p->core_power = powered ? core_power_at (self, p->actual_frequency, p->core_voltage_true, p->hashing) : 0;

  /* Fan: full speed while the overheat latch is stored, 30 % without a
   * pool, else the PID as a lagged approach to the duty that holds the
   * target, corrected by the error it reads while that lasts. */
  if (self->nvs_overheat)
    {
      duty_goal = 100;
      tau = TAU_FAN_MANUAL;
    }
  else if (self->pool_phase == POOL_UNAVAILABLE)
    {
      duty_goal = NO_POOL_FAN;
      tau = TAU_FAN_MANUAL;
    }
  else if (self->autofan)
    {
      duty_goal = duty_holding_target (self, p->core_power) +
                  FAN_GAIN * (self->chip_temp + self->temp_wobble - self->temp_target) * exp (-dt / TAU_TEMPERATURE);
      duty_goal = CLAMP (duty_goal, (double) MIN (self->min_fan, 100), 100.0);
      tau = TAU_FAN_AUTO;
    }
  else
    {
      duty_goal = MIN (self->manual_fan, 100);
      tau = TAU_FAN_MANUAL;
    }
  p->duty = duty_goal + (self->duty - duty_goal) * exp (-dt / tau);

  /* A stopped fan moves no air, whatever its duty. */
  p->temp0 = self->chip_temp;
  p->temp_eq = self->ambient + p->core_power * thermal_resistance (self, self->fault_fan ? 0 : p->duty);
  p->climb = self->fault_overheat && powered && !self->paused ? self->overheat_rate / 60 : 0;
  p->chip_temp = temp_at (p, dt);
}

/* When in (@t0, @t1] the chip's reading passes the firmware's limit,
 * @p being the stretch's physics: @t0 if it is past it already, -1 if
 * it does not get there.  The reading is the chip's temperature plus
 * the wobble, which holds over the stretch; the regulator's limit
 * (105 °C) comes after the chip's in this model. */
static gint64
overheat_time (PmMiner       *self,
               gint64         t0,
               gint64         t1,
               const Physics *p)
{
  double limit = OVERHEAT_CELSIUS - self->temp_wobble;
  double s = G_MAXDOUBLE;
  gint64 t;

  if (!loop_runs (self))
    return -1;
  if (p->temp0 > limit)
    return t0;
  if (p->chip_temp <= limit)
    return -1;
  if (p->temp_eq > limit)
    s = TAU_TEMPERATURE * log ((p->temp_eq - p->temp0) / (p->temp_eq - limit));
  if (p->climb > 0)
    s = fmin (s, (limit - p->temp0) / p->climb);
  t = t0 + (gint64) ceil (s * G_USEC_PER_SEC);
  return CLAMP (t, t0 + 1, t1);
}

static void
read_temperatures (PmMiner       *self,
                   Pending       *pending,
                   gint64         ms0,
                   gint64         ms1,
                   const Physics *p)
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
      double t = temp_at (p, (ms - ms0) / 1000.0);

      /* No reading while the ASICs are off. */
      if (!self->paused && !asics_stopped (self))
        pending_add (pending, ms, PM_MINER_EVENT_TEMPERATURE,
                     floor ((t + rng_range (self, -0.3, 0.3)) * 10 + 0.5) / 10, NULL);
      self->next_temp_ms += rng_int (self, TEMP_MIN_MS, TEMP_MAX_MS);
    }
}

/* The cooling cycles of the safe mode that ended by @ms1. */
static void
log_cooling (PmMiner       *self,
             Pending       *pending,
             gint64         ms0,
             gint64         ms1,
             const Physics *p)
{
  while (self->safe_until_us != 0 && self->safe_cycles_logged < SAFE_MODE_CYCLES)
    {
      guint cycle = self->safe_cycles_logged + 1;
      gint64 ms = ms_of (self, self->safe_since_us + cycle * SAFE_MODE_CYCLE_US);
      double chip;

      if (ms > ms1)
        break;
      chip = temp_at (p, MAX (ms - ms0, 0) / 1000.0);
      pending_add_aux (pending, ms, PM_MINER_EVENT_SAFE_MODE, cycle, vr_temp_of (self, chip, 0),
                       self->sensor == PM_POWER_SENSOR_INA260 ? 1 : 0);
      self->safe_cycles_logged = cycle;
    }
}

/* ---- advancing -------------------------------------------------------------------- */

/* Adds @hashes hashed over @dt seconds to the averages and the total. */
static void
count_hashes (PmMiner *self,
              double   hashes,
              double   dt)
{
  PmMinerState *st = &self->state;
  double mean_hashrate = hashes / 1e9 / dt;

  st->hashrate_1m += (mean_hashrate - st->hashrate_1m) * -expm1 (-dt / 60.0);
  st->hashrate_10m += (mean_hashrate - st->hashrate_10m) * -expm1 (-dt / 600.0);
  st->hashrate_1h += (mean_hashrate - st->hashrate_1h) * -expm1 (-dt / 3600.0);
  st->hashrate_1d += (mean_hashrate - st->hashrate_1d) * -expm1 (-dt / 86400.0);
  st->total_hashes += hashes;
}

/* The bad nonces the ASICs report over @hashes hashes. */
static void
count_errors (PmMiner *self,
              double   hashes)
{
  PmMinerState *st = &self->state;
  guint i;

  self->error_fraction = error_fraction_now (self);
  for (i = 0; i < self->board->asic_count && i < MAX_ASICS; i++)
    st->asic_error_count[i] +=
      rng_poisson (self, self->error_fraction * hashes * self->asic_weight[i] /
                           (ASIC_NONCE_DIFFICULTY * TWO_POW_32));
  /* A dead domain's bad nonces, on its ASIC. */
  if (self->failed_share > 0 && hashes > 0)
    st->asic_error_count[self->failed_asic] +=
      rng_poisson (self, DEAD_DOMAIN_ERRORS * self->failed_share / (1 - self->failed_share) * hashes /
                           (ASIC_NONCE_DIFFICULTY * TWO_POW_32));
}

static void
step (PmMiner       *self,
      gint64         t0,
      gint64         t1,
      const Physics *p)
{
  Pending pending;
  double dt = (t1 - t0) / (double) G_USEC_PER_SEC;
  gint64 ms0 = ms_of (self, t0);
  gint64 ms1 = ms_of (self, t1);
  double e, mean_noise, hashes;

  pending.n = 0;

  if (self->frequency_event_pending)
    {
      pending_add (&pending, ms0 + 1, PM_MINER_EVENT_FREQUENCY, self->frequency, NULL);
      self->frequency_event_pending = FALSE;
    }
  self->actual_frequency = p->actual_frequency;

  /* The fluctuation, exactly as an Ornstein-Uhlenbeck process; its mean
   * over the interval is the expected one. */
  e = exp (-dt / TAU_NOISE);
  mean_noise = self->noise * TAU_NOISE * (1 - e) / dt;
  self->noise = clamp (self->noise * e + NOISE_SIGMA * sqrt (1 - e * e) * rng_normal (self),
                       -NOISE_LIMIT, NOISE_LIMIT);

  /* A dead domain hashes nothing. */
  hashes = self->cores_per_mhz * p->frequency_integral * (1 + self->hash_bias) * (1 + mean_noise) * 1e9 *
           (1 - self->failed_share);
  count_hashes (self, hashes, dt);

  /* Errors, before the shares: the ASICs report them as they hash. */
  count_errors (self, hashes);

  /* Jobs and shares need the pool; the pool sends a job as soon as it
   * is back. */
  if (pool_up (self))
    {
      receive_jobs (self, &pending, ms0, ms1);
      find_shares (self, &pending, hashes, ms0, ms1);
    }
  else
    {
      self->next_job_ms = MAX (self->next_job_ms, ms1 + 1000);
    }
  update_block (self, t1);

  self->core_voltage_true = p->core_voltage_true;
  self->core_power = p->core_power;
  self->duty = p->duty;
  self->chip_temp = p->chip_temp;
  e = exp (-dt / TAU_WOBBLE);
  self->temp_wobble = clamp (self->temp_wobble * e + WOBBLE_SIGMA * sqrt (1 - e * e) * rng_normal (self),
                             -WOBBLE_LIMIT, WOBBLE_LIMIT);
  read_temperatures (self, &pending, ms0, ms1, p);
  log_cooling (self, &pending, ms0, ms1, p);

  pending_flush (self, &pending);
}

/* The chip's reading passed the limit at @t: mining stops, the fan goes
 * to full speed and the latch is stored. */
static void
enter_safe_mode (PmMiner *self,
                 gint64   t)
{
  double reading = self->chip_temp + self->temp_wobble;
  double current = self->core_voltage_true > 1 ? self->core_power * 1e6 / self->core_voltage_true : 0;
  double aux[3] = { 0, 0, 0 };

  /* The stretch was cut where the reading reaches the limit; a shorter
   * stretch's fan may leave it a hair below. */
  if (reading < OVERHEAT_CELSIUS)
    {
      self->chip_temp += OVERHEAT_CELSIUS - reading;
      reading = OVERHEAT_CELSIUS;
    }
  aux[0] = vr_temp_of (self, self->chip_temp, current);
  push_event (self, ms_of (self, t), PM_MINER_EVENT_OVERHEAT, reading, aux);

  self->safe_frequency = self->frequency;
  self->safe_voltage = self->core_voltage;
  self->autofan = FALSE;
  self->manual_fan = 100;
  self->nvs_overheat = TRUE;
  self->settings_serial++;
  self->safe_since_us = t;
  self->safe_until_us = t + SAFE_MODE_US;
  self->safe_cycles_logged = 0;
  self->actual_frequency = IDLE_FREQUENCY;
}

static double
reduced_frequency (double frequency)
{
  return frequency > OVERHEAT_REDUCTION ? frequency - OVERHEAT_REDUCTION : OVERHEAT_FREQUENCY;
}

static guint
reduced_voltage (guint voltage)
{
  return voltage > OVERHEAT_REDUCTION ? voltage - OVERHEAT_REDUCTION : OVERHEAT_VOLTAGE;
}

/* The cooling is over at @t: lower settings are stored and mining
 * starts again; the latch is cleared once the ASICs answer. */
static void
leave_safe_mode (PmMiner *self,
                 gint64   t)
{
  double frequency = reduced_frequency (self->safe_frequency);
  guint voltage = reduced_voltage (self->safe_voltage);
  double aux[3];

  aux[0] = self->safe_frequency;
  aux[1] = voltage;
  aux[2] = self->safe_voltage;
  self->safe_until_us = 0;
  self->frequency = frequency;
  self->core_voltage = voltage;
  self->frequency_event_pending = TRUE;
  self->asic_on_us = t;
  /* Without power the ASICs do not answer, and the latch stays. */
  if (!self->fault_power)
    self->nvs_overheat = FALSE;
  self->settings_serial++;
  push_event (self, ms_of (self, t), PM_MINER_EVENT_OVERHEAT_RECOVERED, frequency, aux);
}

/* Sets when the pool's state next moves by itself, from @now_us. */
static void
schedule_pool (PmMiner *self,
               gint64   now_us)
{
  gint64 since = self->pool_since_us;
  gint64 period, k;

  self->pool_next_us = G_MAXINT64;
  switch (self->pool_phase)
    {
    case POOL_CONNECTED:
      /* After a failover the primary pool is probed, to go back to. */
      if (!self->using_fallback || self->fallback_chosen || self->fault_pool)
        return;
      period = POOL_HEARTBEAT_US;
      break;
    case POOL_RETRYING:
      /* The first attempt after the pool is back gets through, unless
       * the retries are spent by then. */
      if (self->fault_pool)
        self->pool_next_us = since + POOL_GIVE_UP_US;
      else if (now_us < since)
        self->pool_next_us = since;
      else if (now_us < since + POOL_RETRY_US)
        self->pool_next_us = since + POOL_RETRY_US;
      else
        self->pool_next_us = since + POOL_GIVE_UP_US;
      return;
    case POOL_UNAVAILABLE:
      if (self->fault_pool && !self->has_fallback)
        return;
      period = POOL_PROBE_US;
      break;
    default:
      g_return_if_reached ();
    }
  k = now_us > since ? (now_us - since) / period + 1 : 1;
  self->pool_next_us = since + k * period;
}

/* The pool's state moves at @t, as scheduled. */
static void
move_pool (PmMiner *self,
           gint64   t)
{
  gint64 ms = ms_of (self, t);
  double aux[3] = { 0, 0, 0 };

  switch (self->pool_phase)
    {
    case POOL_RETRYING:
      if (!self->fault_pool && t < self->pool_since_us + POOL_GIVE_UP_US)
        {
          self->pool_phase = POOL_CONNECTED;
          push_event (self, ms, PM_MINER_EVENT_POOL_RESTORED, PM_MINER_POOL_RECONNECTED, NULL);
        }
      else if (self->has_fallback)
        {
          self->pool_phase = POOL_CONNECTED;
          self->using_fallback = TRUE;
          self->fallback_chosen = FALSE;
          self->pool_difficulty = self->fallback_difficulty;
          reset_share_stats (self);
          push_event (self, ms, PM_MINER_EVENT_POOL_FALLBACK, 0, NULL);
        }
      else
        {
          self->pool_phase = POOL_UNAVAILABLE;
          self->actual_frequency = IDLE_FREQUENCY;
          push_event (self, ms, PM_MINER_EVENT_POOLS_UNAVAILABLE, 0, NULL);
        }
      break;
    case POOL_CONNECTED:
      /* A heartbeat found the primary pool. */
      self->using_fallback = FALSE;
      self->pool_difficulty = self->primary_difficulty;
      reset_share_stats (self);
      push_event (self, ms, PM_MINER_EVENT_POOL_RESTORED, PM_MINER_POOL_BACK_FROM_FALLBACK, NULL);
      break;
    case POOL_UNAVAILABLE:
      /* A probe found a pool: the primary if it is back, else the
       * fallback. */
      self->pool_phase = POOL_CONNECTED;
      self->using_fallback = self->fault_pool;
      self->fallback_chosen = FALSE;
      self->pool_difficulty = self->using_fallback ? self->fallback_difficulty : self->primary_difficulty;
      self->asic_on_us = t;
      reset_share_stats (self);
      aux[0] = self->using_fallback ? 1 : 0;
      push_event (self, ms, PM_MINER_EVENT_POOL_RESTORED, PM_MINER_POOL_RESUMED, aux);
      break;
    default:
      g_return_if_reached ();
    }
  self->pool_since_us = t;
  schedule_pool (self, t);
}

/* The next instant at which the firmware moves by itself. */
static gint64
next_due (PmMiner *self)
{
  gint64 due = self->pool_next_us;

  if (self->safe_until_us != 0)
    due = MIN (due, self->safe_until_us);
  return due;
}

/* Does what falls due at @t. */
static void
apply_due (PmMiner *self,
           gint64   t)
{
  if (self->safe_until_us != 0 && self->safe_until_us <= t)
    leave_safe_mode (self, self->safe_until_us);
  if (self->pool_next_us <= t)
    move_pool (self, t);
  /* The power management loop copies the stored latch on each pass. */
  if (loop_runs (self))
    self->sys_overheat = self->nvs_overheat;
}

/* The frequency and core voltage after @n overheat recoveries, and the
 * sum of the frequencies they left.  After at most 656 steps of 100
 * both are in their cycles (4 and 10 values, 20 together), so at most
 * 720 steps are taken. */
static void
reduce_settings (double  *frequency,
                 guint   *voltage,
                 guint64  n,
                 double  *out_sum)
{
  const guint64 settle = 700, period = 20;
  guint64 exact = n <= settle + period ? n : settle + (n - settle) % period;
  double f = *frequency, sum = 0;
  guint v = *voltage;
  guint64 i;

  for (i = 0; i < exact; i++)
    {
      f = reduced_frequency (f);
      v = reduced_voltage (v);
      sum += f;
    }
  if (exact < n)
    {
      double g = f, period_sum = 0;

      for (i = 0; i < period; i++)
        {
          g = reduced_frequency (g);
          period_sum += g;
        }
      sum += period_sum * (double) ((n - exact) / period);
    }
  *frequency = f;
  *voltage = v;
  *out_sum = sum;
}

/* At @t the chip passes the limit again, @period after it did last,
 * with an overheat fault that makes every cycle alike but for the
 * settings: the cycles up to near @now_us are counted without being
 * run one by one.  Returns the time the next overheat is due. */
static gint64
skip_overheat_cycles (PmMiner *self,
                      gint64   t,
                      gint64   period,
                      gint64   now_us)
{
  gint64 end = MIN (now_us, self->pool_next_us);
  double sum_f, hashing_s, ramp, hashes;
  double f = self->frequency;
  guint v = self->core_voltage;
  gint64 ms0, ms1, skipped;
  guint64 n;
  Pending pending;

  if (period <= SAFE_MODE_US + ASIC_INIT_US || end - t < 3 * period)
    return t;
  /* The last two cycles are run. */
  n = (guint64) ((end - t) / period) - 2;
  skipped = (gint64) n * period;
  reduce_settings (&f, &v, n, &sum_f);

  /* Each cycle hashed from 50 MHz up to its frequency, after the
   * cooling and the ASICs' start. */
  hashing_s = (period - SAFE_MODE_US - ASIC_INIT_US) / (double) G_USEC_PER_SEC;
  ramp = TAU_FREQUENCY * -expm1 (-hashing_s / TAU_FREQUENCY);
  hashes = self->cores_per_mhz * (1 + self->hash_bias) * (1 - self->failed_share) * 1e9 *
           (hashing_s * sum_f - ramp * (sum_f - IDLE_FREQUENCY * (double) n));
  count_hashes (self, hashes, skipped / (double) G_USEC_PER_SEC);
  count_errors (self, hashes);

  pending.n = 0;
  ms0 = ms_of (self, t);
  ms1 = ms_of (self, t + skipped);
  if (self->pool_phase == POOL_CONNECTED)
    {
      receive_jobs (self, &pending, ms0, ms1);
      find_shares (self, &pending, hashes, ms0, ms1);
    }
  update_block (self, t + skipped);
  pending_flush (self, &pending);

  self->frequency = f;
  self->core_voltage = v;
  self->frequency_event_pending = TRUE;
  self->settings_serial++;
  self->asic_on_us += skipped;
  self->last_us = t + skipped;
  return self->last_us;
}

/* Writes what the firmware would report now into the state. */
static void
publish (PmMiner *self)
{
  PmMinerState *st = &self->state;
  const PmBoard *board = self->board;
  guint asics = MIN (board->asic_count, MAX_ASICS);
  guint domains = MIN (board->hash_domains, MAX_DOMAINS);
  gboolean off = self->paused || asics_stopped (self);
  gboolean hashing = !self->paused && core_powered (self) && self->last_us >= self->asic_on_us + ASIC_INIT_US;
  double weight_sum = 0;
  double weights[MAX_ASICS];
  double temp_sum = 0;
  double nominal;
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
  /* Stopping mining zeroes it; a power fault is not seen to stop it. */
  st->expected_hashrate = off ? 0 : pm_board_expected_hashrate (board, self->frequency);

  nominal = hashing ? self->cores_per_mhz * self->actual_frequency * (1 + self->hash_bias) * (1 + self->noise) : 0;
  for (i = 0; i < asics; i++)
    {
      weights[i] = self->asic_weight[i] * (1 + rng_range (self, -0.02, 0.02));
      weight_sum += weights[i];
    }
  for (i = 0; i < asics; i++)
    {
      double share = nominal * weights[i] / weight_sum;
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
  /* A dead domain reads 0, and the total lacks it. */
  st->hashrate = nominal;
  if (self->fault_asic)
    {
      st->hashrate -= st->domain_hashrate[self->failed_asic][self->failed_domain];
      st->domain_hashrate[self->failed_asic][self->failed_domain] = 0;
    }
  st->error_percentage = 0;
  if (hashing)
    st->error_percentage = fmax (0.0, self->error_fraction * 100 + rng_range (self, -0.05, 0.05) +
                                        100 * DEAD_DOMAIN_ERRORS * self->failed_share / (1 - self->failed_share));

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
      st->current = vcore > 1 ? self->core_power * 1e6 / vcore : 0;
      st->power = vcore / 1000 * st->current / 1000 + TPS_REPORTED_EXTRA;
      st->vr_temp = vr_temp_of (self, self->chip_temp, st->current) + rng_range (self, -0.5, 0.5);
      break;
    }

  /* Temperatures: -1 while the ASICs are off. */
  for (i = 0; i < asics; i++)
    {
      st->asic_temps[i] = off ? -1 : self->chip_temp + self->temp_wobble + self->asic_temp_offset[i] +
                                     rng_range (self, -0.2, 0.2);
      temp_sum += st->asic_temps[i];
    }
  st->temp = off ? -1 : temp_sum / asics;

  /* A failed fan's tachometer reads nothing. */
  st->fan_duty = self->duty;
  st->fan_rpm = self->fault_fan ? 0 : (guint) fmax (0.0, floor (self->duty / 100 * board->fan_max_rpm * self->fan_rpm_factor +
                                                                (self->duty > 0 ? rng_range (self, -25, 25) : 0) + 0.5));

  /* The round trip is measured on each answer: without a pool the last
   * one stays. */
  if (pool_up (self) || st->response_time == 0)
    st->response_time = clamp (self->response_base * exp (0.25 * rng_normal (self)), 20.0, 300.0);
  free_internal = self->heap_internal_base + rng_range (self, -15000, 15000);
  st->free_heap_internal = (guint64) free_internal;
  st->free_heap_spiram = (guint64) (self->heap_spiram_base + rng_range (self, -40000, 40000));
  st->free_heap = st->free_heap_internal + st->free_heap_spiram;
  if (st->min_free_heap == 0 || st->free_heap < st->min_free_heap)
    st->min_free_heap = st->free_heap;
  st->cpu_usage = clamp (self->cpu_base + rng_range (self, -4, 4), 5.0, 40.0);
  st->wifi_rssi = (int) floor (self->rssi_base + rng_range (self, -3, 3) + 0.5);

  st->overheat_mode = self->sys_overheat;
  st->using_fallback = self->using_fallback;
  st->pool_connected = pool_up (self);
  st->pools_unavailable = self->pool_phase == POOL_UNAVAILABLE;
  st->safe_mode = self->safe_until_us != 0;
  st->power_fault = self->fault_power ? self->power_message : NULL;
  /* v2.15 sets it only when it cannot drive the fan controller. */
  st->hardware_fault = NULL;
  st->settings_serial = self->settings_serial;
  st->settings_autofan = self->autofan;
  st->settings_manual_fan = self->manual_fan;
  st->settings_overheat_mode = self->nvs_overheat;
}

/* The pool a boot starts on: the secondary if the setting says so and
 * there is one; a primary that is down is retried once the ASICs are
 * up. */
static void
choose_boot_pool (PmMiner *self,
                  gint64   now_us)
{
  self->using_fallback = self->fallback_selected && self->has_fallback;
  self->fallback_chosen = self->using_fallback;
  self->pool_difficulty = self->using_fallback ? self->fallback_difficulty : self->primary_difficulty;
  if (self->fault_pool && !self->using_fallback)
    {
      self->pool_phase = POOL_RETRYING;
      self->pool_since_us = now_us + ASIC_INIT_US;
    }
  else
    {
      self->pool_phase = POOL_CONNECTED;
      self->pool_since_us = now_us;
    }
  schedule_pool (self, now_us);
}

/* What a boot resets, and the boot event. */
static void
boot (PmMiner *self,
      gint64   now_us)
{
  PmMinerState *st = &self->state;
  PmMinerEvent event = { 0, PM_MINER_EVENT_BOOT, 0, NULL, { 0, 0, 0 } };
  guint r;

  self->boot_us = now_us;
  self->last_us = now_us;
  self->asic_on_us = now_us;
  self->actual_frequency = IDLE_FREQUENCY;
  self->duty = 100;  /* full speed until the controller takes over */
  self->next_job_ms = rng_int (self, 1500, 4000);
  self->next_temp_ms = rng_int (self, TEMP_MIN_MS, TEMP_MAX_MS);
  self->frequency_event_pending = TRUE;
  /* The cooling ends with the reboot; the stored latch is read back. */
  self->safe_until_us = 0;
  self->sys_overheat = self->nvs_overheat;
  choose_boot_pool (self, now_us);

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
    self->rng[i] = pm_splitmix64_next (&x);

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
  self->primary_difficulty = 1000;
  self->fallback_difficulty = 1000;
  self->pool_next_us = G_MAXINT64;
  self->overheat_rate = 5;

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
  gint64 last_overheat = -1;
  guint segments = 0;

  g_return_if_fail (self != NULL);

  if (now_us - self->last_us < 1000)
    return;
  while (self->last_us < now_us)
    {
      gint64 t0 = self->last_us;
      gint64 t1 = now_us;
      gint64 due = next_due (self);
      gint64 hot;
      Physics p;

      if (due <= t0)
        {
          apply_due (self, t0);
          continue;
        }
      if (due < t1)
        t1 = due;
      physics (self, t0, t1, &p);
      /* Past the bound, the rest goes in one stretch, overheat or not. */
      hot = segments < MAX_SEGMENTS_HARD ? overheat_time (self, t0, t1, &p) : -1;
      if (hot == t0)
        {
          enter_safe_mode (self, t0);
          last_overheat = t0;
          continue;
        }
      if (hot > t0 && hot < t1)
        {
          t1 = hot;
          physics (self, t0, t1, &p);
        }
      step (self, t0, t1, &p);
      self->last_us = t1;
      segments++;
      if (hot == t1)
        {
          /* Many cycles of an overheat fault: count most of them. */
          if (segments >= MAX_SEGMENTS && self->fault_overheat && last_overheat >= 0)
            t1 = skip_overheat_cycles (self, t1, t1 - last_overheat, now_us);
          enter_safe_mode (self, t1);
          last_overheat = t1;
        }
      apply_due (self, t1);
    }
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
 * So do the faults, which are imposed from outside, and the stored
 * overheat latch, which `overheat_mode` reports from then on; a cooling
 * in progress ends, and the pool is the one `useFallbackStratum` says.
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
  self->state.expected_hashrate = self->paused || asics_stopped (self) ? 0 : pm_board_expected_hashrate (self->board, mhz);
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
  self->state.expected_hashrate = self->paused || asics_stopped (self) ? 0
                                                                       : pm_board_expected_hashrate (self->board, self->frequency);
}

/**
 * pm_miner_set_pool_difficulty:
 * @self: a miner
 * @difficulty: what the primary pool gives
 */
void
pm_miner_set_pool_difficulty (PmMiner *self,
                              double   difficulty)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (difficulty > 0);

  self->primary_difficulty = difficulty;
  if (!self->using_fallback)
    self->pool_difficulty = difficulty;
  self->state.pool_difficulty = self->pool_difficulty;
}

/**
 * pm_miner_set_fallback_pool:
 * @self: a miner
 * @configured: whether there is a secondary pool to fail over to
 * @difficulty: what it gives; 0 for the primary's
 * @selected: `useFallbackStratum`: mine on it from the next boot on
 *
 * Called at the instant of a boot (right after pm_miner_new() or
 * pm_miner_restart()), @selected chooses the pool of this boot too.
 */
void
pm_miner_set_fallback_pool (PmMiner *self,
                            gboolean configured,
                            double   difficulty,
                            gboolean selected)
{
  g_return_if_fail (self != NULL);

  self->has_fallback = !!configured;
  self->fallback_difficulty = difficulty > 0 ? difficulty : self->primary_difficulty;
  self->fallback_selected = !!selected;
  if (self->last_us == self->boot_us)
    choose_boot_pool (self, self->last_us);
  else
    schedule_pool (self, self->last_us);
  if (self->using_fallback)
    self->pool_difficulty = self->fallback_difficulty;
  self->state.pool_difficulty = self->pool_difficulty;
  self->state.using_fallback = self->using_fallback;
}

/**
 * pm_miner_set_overheat_mode:
 * @self: a miner
 * @overheat_mode: the stored overheat latch
 *
 * What the settings store holds for `overheat_mode`: a PATCH can only
 * clear it.  The power management loop copies it into what `overheat_mode`
 * reports on its next pass, unless it is stopped.
 */
void
pm_miner_set_overheat_mode (PmMiner *self,
                            gboolean overheat_mode)
{
  g_return_if_fail (self != NULL);

  self->nvs_overheat = !!overheat_mode;
  if (loop_runs (self))
    self->sys_overheat = self->nvs_overheat;
  self->state.overheat_mode = self->sys_overheat;
  self->state.settings_overheat_mode = self->nvs_overheat;
}

/* The share of the hashrate that hash domain @domain of ASIC @asic
 * has. */
static double
domain_share (PmMiner *self,
              guint    asic,
              guint    domain)
{
  guint asics = MIN (self->board->asic_count, MAX_ASICS);
  guint domains = MIN (self->board->hash_domains, MAX_DOMAINS);
  double asic_sum = 0, domain_sum = 0;
  guint i;

  for (i = 0; i < asics; i++)
    asic_sum += self->asic_weight[i];
  for (i = 0; i < domains; i++)
    domain_sum += self->domain_weight[asic][i];
  return self->asic_weight[asic] / asic_sum * (self->domain_weight[asic][domain] / domain_sum);
}

/**
 * pm_miner_set_fault:
 * @self: a miner
 * @fault: a fault of the miner's kinds (overheat, fan-failure,
 *   asic-failure, pool-down, power-fault); others are ignored
 *
 * Imposes @fault from the time of the last advance on, replacing one of
 * its kind.  It stays, across restarts too, until
 * pm_miner_clear_fault().  An ASIC or domain beyond the board's is
 * taken as its last one; a device refuses such a fault before it gets
 * here (pm_device_check_fault()).
 */
void
pm_miner_set_fault (PmMiner       *self,
                    const PmFault *fault)
{
  gint64 now = 0;

  g_return_if_fail (self != NULL);
  g_return_if_fail (fault != NULL);

  now = self->last_us;
  switch (fault->kind)
    {
    case PM_FAULT_OVERHEAT:
      self->fault_overheat = TRUE;
      self->overheat_rate = fault->rate_c_per_min > 0 ? fault->rate_c_per_min : 5;
      break;
    case PM_FAULT_FAN_FAILURE:
      self->fault_fan = TRUE;
      break;
    case PM_FAULT_ASIC_FAILURE:
      self->fault_asic = TRUE;
      self->failed_asic = MIN (fault->asic, MIN (self->board->asic_count, MAX_ASICS) - 1);
      self->failed_domain = MIN (fault->domain, MAX (MIN (self->board->hash_domains, MAX_DOMAINS), 1) - 1);
      self->failed_share = domain_share (self, self->failed_asic, self->failed_domain);
      break;
    case PM_FAULT_POOL_DOWN:
      self->fault_pool = TRUE;
      /* Only the primary pool goes: mining on it, the connection drops;
       * while the firmware cools it has none, and tries once it mines
       * again. */
      if (self->pool_phase == POOL_CONNECTED && !self->using_fallback)
        {
          self->pool_phase = POOL_RETRYING;
          if (self->safe_until_us != 0)
            {
              self->pool_since_us = self->safe_until_us + ASIC_INIT_US;
            }
          else
            {
              self->pool_since_us = now;
              push_event (self, ms_of (self, now), PM_MINER_EVENT_POOL_DOWN, 0, NULL);
            }
        }
      schedule_pool (self, now);
      break;
    case PM_FAULT_POWER_FAULT:
      if (!self->fault_power)
        push_event (self, ms_of (self, now), PM_MINER_EVENT_POWER_FAULT, 0, NULL);
      self->fault_power = TRUE;
      g_strlcpy (self->power_message, fault->message != NULL ? fault->message : "Power Fault Detected.",
                 sizeof self->power_message);
      break;
    case PM_FAULT_LATENCY:
    case PM_FAULT_ERRORS:
    case PM_FAULT_OFFLINE:
    case PM_FAULT_BLACKHOLE:
    case PM_FAULT_FLAPPING:
    case PM_FAULT_CORRUPT:
    case PM_FAULT_SLOW_BODY:
    case PM_FAULT_WS_DROP:
    case PM_FAULT_WS_SILENT:
    case PM_FAULT_REBOOT_LOOP:
    case PM_FAULT_N_KINDS:
    default:
      return;
    }
  publish (self);
}

/**
 * pm_miner_clear_fault:
 * @self: a miner
 * @kind: the kind of fault to lift
 *
 * Lifts the fault of @kind from the time of the last advance on; what
 * the firmware did meanwhile stays done (a stored overheat latch, lower
 * settings, a pool it failed over to), as it would.
 */
void
pm_miner_clear_fault (PmMiner    *self,
                      PmFaultKind kind)
{
  g_return_if_fail (self != NULL);

  switch (kind)
    {
    case PM_FAULT_OVERHEAT:
      self->fault_overheat = FALSE;
      break;
    case PM_FAULT_FAN_FAILURE:
      self->fault_fan = FALSE;
      break;
    case PM_FAULT_ASIC_FAILURE:
      self->fault_asic = FALSE;
      self->failed_share = 0;
      break;
    case PM_FAULT_POOL_DOWN:
      self->fault_pool = FALSE;
      schedule_pool (self, self->last_us);
      break;
    case PM_FAULT_POWER_FAULT:
      /* The regulator comes back and the ASICs start again. */
      if (self->fault_power)
        self->asic_on_us = self->last_us;
      self->fault_power = FALSE;
      break;
    case PM_FAULT_LATENCY:
    case PM_FAULT_ERRORS:
    case PM_FAULT_OFFLINE:
    case PM_FAULT_BLACKHOLE:
    case PM_FAULT_FLAPPING:
    case PM_FAULT_CORRUPT:
    case PM_FAULT_SLOW_BODY:
    case PM_FAULT_WS_DROP:
    case PM_FAULT_WS_SILENT:
    case PM_FAULT_REBOOT_LOOP:
    case PM_FAULT_N_KINDS:
    default:
      return;
    }
  publish (self);
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
