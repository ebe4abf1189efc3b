/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-miner.h"

G_BEGIN_DECLS

/* At most this many samples are kept, as AxeOS keeps them
 * (`statsLimit`); a new one then drops the oldest. */
#define PM_STATS_LIMIT 720

/**
 * PmStatsColumn:
 *
 * The columns of `GET /api/system/statistics`, in the firmware's fixed
 * order: the order the labels and the values of a row are written in,
 * whatever order a request names them in.
 */
typedef enum
{
  PM_STATS_HASHRATE,
  PM_STATS_HASHRATE_1M,
  PM_STATS_HASHRATE_10M,
  PM_STATS_HASHRATE_1H,
  PM_STATS_ERROR_PERCENTAGE,
  PM_STATS_ASIC_TEMP,
  PM_STATS_ASIC_TEMP2,
  PM_STATS_VR_TEMP,
  PM_STATS_ASIC_VOLTAGE,
  PM_STATS_VOLTAGE,
  PM_STATS_POWER,
  PM_STATS_CURRENT,
  PM_STATS_FAN_SPEED,
  PM_STATS_FAN_RPM,
  PM_STATS_FAN2_RPM,
  PM_STATS_WIFI_RSSI,
  PM_STATS_FREE_HEAP,
  PM_STATS_RESPONSE_TIME,
  /* Not a statistics column: the NerdQAxe+ history reads it. */
  PM_STATS_HASHRATE_1D,
  PM_STATS_N_VALUES,
} PmStatsColumn;

/* How many columns `/api/system/statistics` has, without `timestamp`. */
#define PM_STATS_N_COLUMNS PM_STATS_HASHRATE_1D

typedef struct _PmStatsRow PmStatsRow;

/**
 * PmStats:
 *
 * The statistics ring of one device: the samples its firmware took
 * every `statsFrequency` seconds, oldest first.  A zero-filled PmStats
 * is an empty ring and holds no memory; rows are allocated as samples
 * come, in steps, up to %PM_STATS_LIMIT of them.  Its fields are
 * private.
 */
typedef struct
{
  PmStatsRow *rows;      /* (owned) (nullable) */
  guint16     capacity;
  guint16     first;     /* the oldest row */
  guint16     n_rows;
} PmStats;

PmStats    *pm_stats_new (void);
void        pm_stats_free (PmStats *stats);

void        pm_stats_add_sample (PmStats            *stats,
                                 const PmMinerState *state,
                                 gint64              ms_since_boot);
void        pm_stats_clear (PmStats *stats);

guint       pm_stats_get_n_rows (const PmStats *stats);
double      pm_stats_get_value (const PmStats *stats,
                                guint          row,
                                PmStatsColumn  column);
gint64      pm_stats_get_timestamp (const PmStats *stats,
                                    guint          row);

const char *pm_stats_column_name (PmStatsColumn column);

void        pm_stats_write (const PmStats *stats,
                            GString       *out,
                            const char    *columns,
                            gint64         current_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmStats, pm_stats_free)

G_END_DECLS
