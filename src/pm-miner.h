/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-board.h"

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
} PmMinerEventKind;

typedef struct
{
  gint64           ms_since_boot;
  PmMinerEventKind kind;
  double           value;
  const char      *reason;       /* static, or NULL */
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
