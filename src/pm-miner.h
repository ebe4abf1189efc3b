/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-board.h"
#include "pm-fault.h"

G_BEGIN_DECLS

/**
 * PmMinerEventKind:
 *
 * What a simulated miner did, for its log.
 */
typedef enum
{
  PM_MINER_EVENT_BOOT,          /* value: 0 */
  PM_MINER_EVENT_NEW_JOB,       /* value: the job id */
  PM_MINER_EVENT_SHARE_FOUND,   /* value: the share's difficulty */
  PM_MINER_EVENT_SHARE_ACCEPTED,/* value: the share's difficulty */
  PM_MINER_EVENT_SHARE_REJECTED,/* value: the share's difficulty; reason: why */
  PM_MINER_EVENT_TEMPERATURE,   /* value: chip temperature, °C */
  PM_MINER_EVENT_FREQUENCY,     /* value: the frequency now set, MHz */
  PM_MINER_EVENT_NEW_BEST,      /* value: the new best difficulty */
  PM_MINER_EVENT_OVERHEAT,      /* value: chip temperature read, °C;
                                 * aux[0]: the regulator's, °C (0 without
                                 * a TPS546): the firmware stops mining */
  PM_MINER_EVENT_SAFE_MODE,     /* value: the cooling cycle, 1 to 6;
                                 * aux[0]: the regulator's temperature;
                                 * aux[1]: 1 where the chip sensor is the
                                 * EMC2101's own (INA260 boards) */
  PM_MINER_EVENT_OVERHEAT_RECOVERED, /* value: the frequency now set, MHz;
                                 * aux[0]: the one before; aux[1]: the core
                                 * voltage now set, mV; aux[2]: the one
                                 * before: mining starts again */
  PM_MINER_EVENT_POOL_DOWN,     /* the connection to the pool was lost */
  PM_MINER_EVENT_POOL_FALLBACK, /* the retries ran out: on the fallback
                                 * pool now */
  PM_MINER_EVENT_POOLS_UNAVAILABLE, /* the retries ran out and there is no
                                 * fallback pool: mining stops */
  PM_MINER_EVENT_POOL_RESTORED, /* value: a PmMinerPoolRestored */
  PM_MINER_EVENT_POWER_FAULT,   /* the core regulator turned off */
} PmMinerEventKind;

/**
 * PmMinerPoolRestored:
 * @PM_MINER_POOL_RECONNECTED: a retry reached the primary pool
 * @PM_MINER_POOL_BACK_FROM_FALLBACK: a probe found the primary pool
 *   again; the fallback pool is left
 * @PM_MINER_POOL_RESUMED: a probe found a pool while mining was
 *   stopped for want of one (aux[0]: 1 if the fallback); mining starts
 *   again
 *
 * How a %PM_MINER_EVENT_POOL_RESTORED came about, its value.
 */
typedef enum
{
  PM_MINER_POOL_RECONNECTED,
  PM_MINER_POOL_BACK_FROM_FALLBACK,
  PM_MINER_POOL_RESUMED,
} PmMinerPoolRestored;

typedef struct
{
  gint64           ms_since_boot;
  PmMinerEventKind kind;
  double           value;
  const char      *reason;       /* static, or NULL */
  double           aux[3];       /* more numbers, as the kind says */
} PmMinerEvent;

/* At most this many recent events are kept; older ones are dropped. */
#define PM_MINER_EVENTS_KEPT 64

/* Rejection reasons the simulated pool gives, and their counts. */
#define PM_MINER_N_REJECT_REASONS 3

/* The best shares of the session, as the scoreboard lists them. */
#define PM_MINER_SCOREBOARD_SIZE 20

typedef struct
{
  double  difficulty;
  guint   job_id;
  guint64 extranonce2;
  guint32 ntime;         /* seconds since the epoch */
  guint32 nonce;
  guint32 version_bits;
} PmMinerShare;

typedef struct
{
  const char *message;  /* e.g. "Above target" */
  guint64     count;
} PmMinerRejectReason;

/**
 * PmMinerState:
 *
 * What a miner's firmware reports, at the last time it was advanced.
 * Units as AxeOS reports them.
 */
typedef struct
{
  gint64  ms_since_boot;
  guint64 uptime_seconds;
  guint64 total_uptime_seconds;     /* kept across restarts */
  double  total_hashes;             /* kept across restarts */

  double  frequency;                /* configured, MHz */
  double  actual_frequency;         /* ramps toward frequency, MHz */
  guint   core_voltage;             /* configured, mV */
  double  core_voltage_actual;      /* measured, mV */

  double  expected_hashrate;        /* GH/s; 0 while paused */
  double  hashrate;                 /* GH/s, instantaneous */
  double  hashrate_1m;
  double  hashrate_10m;
  double  hashrate_1h;
  double  hashrate_1d;
  double  domain_hashrate[16][4];   /* [asic][domain], GH/s */
  guint64 asic_error_count[16];
  double  error_percentage;         /* % */

  double  power;                    /* W, as the firmware reports it */
  double  voltage;                  /* input, mV */
  double  current;                  /* mA: input (INA260) or core (TPS546) */
  double  temp;                     /* average chip, °C; -1 while paused */
  double  asic_temps[16];           /* per chip, °C */
  double  vr_temp;                  /* °C; 0 on boards without a TPS546 */
  double  fan_duty;                 /* live %, may be fractional */
  guint   fan_rpm;

  guint64 shares_accepted;
  guint64 shares_rejected;
  PmMinerRejectReason reject_reasons[PM_MINER_N_REJECT_REASONS];
  double  best_diff;                /* never decreases, kept across restarts */
  double  best_session_diff;        /* reset at restart */
  double  pool_difficulty;
  double  network_difficulty;
  guint64 block_height;
  guint64 work_received;
  double  response_time;            /* ms, pool round trip */
  guint   job_id;                   /* last job */
  PmMinerShare scoreboard[PM_MINER_SCOREBOARD_SIZE];  /* best first */
  guint   n_scoreboard;

  guint64 free_heap;
  guint64 free_heap_internal;
  guint64 free_heap_spiram;
  guint64 min_free_heap;
  double  cpu_usage;                /* % */
  int     wifi_rssi;                /* dBm */
  gboolean paused;

  /* The firmware's own states. */
  gboolean overheat_mode;           /* what `overheat_mode` reports */
  gboolean using_fallback;          /* mining on the secondary pool */
  gboolean pool_connected;          /* jobs come, shares go */
  gboolean pools_unavailable;       /* no pool: the ASICs are off */
  gboolean safe_mode;               /* cooling after an overheat: the
                                     * ASICs are off */
  const char *power_fault;          /* the regulator's fault, or NULL */
  const char *hardware_fault;       /* the hardware fault, or NULL */

  /* What the firmware wrote to its settings itself (the overheat
   * handling): `frequency` and `core_voltage` above, and these.
   * settings_serial grows with each such write. */
  guint    settings_serial;
  gboolean settings_autofan;
  guint    settings_manual_fan;     /* % */
  gboolean settings_overheat_mode;  /* the stored latch */
} PmMinerState;

typedef struct _PmMiner PmMiner;

PmMiner *pm_miner_new (const PmBoard *board,
                       PmPowerSensor  sensor,
                       guint64        seed,
                       guint          port,
                       gint64         now_us);
void     pm_miner_free (PmMiner *self);

void     pm_miner_advance (PmMiner *self,
                           gint64   now_us);
const PmMinerState *pm_miner_get_state (PmMiner *self);

void     pm_miner_restart (PmMiner *self,
                           gint64   now_us);

/* Settings the firmware acts on; each takes effect with a plausible lag
 * from the next advance on. */
void     pm_miner_set_frequency (PmMiner *self,
                                 double   mhz);
void     pm_miner_set_core_voltage (PmMiner *self,
                                    guint    mv);
void     pm_miner_set_fan (PmMiner *self,
                           gboolean autofan,
                           guint    manual_percent,
                           guint    min_percent,
                           guint    temp_target);
void     pm_miner_set_paused (PmMiner *self,
                              gboolean paused);
void     pm_miner_set_pool_difficulty (PmMiner *self,
                                       double   difficulty);
void     pm_miner_set_fallback_pool (PmMiner *self,
                                     gboolean configured,
                                     double   difficulty,
                                     gboolean selected);
void     pm_miner_set_overheat_mode (PmMiner *self,
                                     gboolean overheat_mode);

/* Faults imposed from outside: each kind at most once, a new one
 * replacing the old; they persist across restarts until cleared.
 * Kinds that are not the miner's are ignored. */
void     pm_miner_set_fault (PmMiner       *self,
                             const PmFault *fault);
void     pm_miner_clear_fault (PmMiner    *self,
                               PmFaultKind kind);

/* The wall clock minus the monotonic clock, µs: where a share's ntime
 * is read from. */
void     pm_miner_set_clock_offset (PmMiner *self,
                                    gint64   offset_us);

/* Events strictly newer than @after_ms (-1: all kept), oldest first; if
 * more than @max are newer, the oldest @max of them.  A restart clears
 * them: the log starts again at its BOOT event, at 0 ms. */
guint    pm_miner_copy_events (PmMiner      *self,
                               gint64        after_ms,
                               PmMinerEvent *out,
                               guint         max);

/* Identity, fixed for the device's life: derived from the seed and
 * the port only. */
void     pm_miner_format_mac (guint64 seed,
                              guint   port,
                              char    out[18]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmMiner, pm_miner_free)

G_END_DECLS
