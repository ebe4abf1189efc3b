/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-stats"

#include "config.h"

#include <math.h>  /* isfinite () only: nothing here links libm */
#include <string.h>

#include "pm-json-writer.h"
#include "pm-stats.h"

/*
 * The statistics ring of AxeOS (`GET /api/system/statistics`), which the
 * NerdQAxe+ history reads too.  A row is what the firmware keeps: floats,
 * plus the sample's time since boot, 84 bytes in all.  Ten thousand idle
 * devices cost nothing: a ring allocates on its first sample, and grows in
 * steps up to PM_STATS_LIMIT rows.
 */

struct _PmStatsRow
{
  float   values[PM_STATS_N_VALUES];
  guint32 time_low;   /* ms since boot, split so that a row needs no */
  guint32 time_high;  /* 8-byte alignment and its padding */
};

G_STATIC_ASSERT (sizeof (PmStatsRow) == PM_STATS_N_VALUES * 4 + 8);
G_STATIC_ASSERT (PM_STATS_LIMIT <= G_MAXUINT16);

#define FIRST_CAPACITY 32

/* Indexed by PmStatsColumn. */
static const char *const column_names[PM_STATS_N_VALUES] = {
  "hashrate",
  "hashrate_1m",
  "hashrate_10m",
  "hashrate_1h",
  "errorPercentage",
  "asicTemp",
  "asicTemp2",
  "vrTemp",
  "asicVoltage",
  "voltage",
  "power",
  "current",
  "fanSpeed",
  "fanRpm",
  "fan2Rpm",
  "wifiRssi",
  "freeHeap",
  "responseTime",
  "hashrate_1d",
};

/**
 * pm_stats_column_name:
 * @column: a column
 *
 * Returns: (transfer none): the label the firmware gives @column
 */
const char *
pm_stats_column_name (PmStatsColumn column)
{
  g_return_val_if_fail ((guint) column < PM_STATS_N_VALUES, NULL);
  return column_names[column];
}

/**
 * pm_stats_new:
 *
 * Returns: (transfer full): an empty ring on the heap; a zero-filled
 *   #PmStats inside another structure does as well
 */
PmStats *
pm_stats_new (void)
{
  return g_new0 (PmStats, 1);
}

void
pm_stats_free (PmStats *stats)
{
  if (stats == NULL)
    return;
  pm_stats_clear (stats);
  g_free (stats);
}

/**
 * pm_stats_clear:
 * @stats: a ring
 *
 * Drops every sample and gives the ring's memory back, as a restart
 * empties the firmware's buffer.
 */
void
pm_stats_clear (PmStats *stats)
{
  g_return_if_fail (stats != NULL);

  g_clear_pointer (&stats->rows, g_free);
  stats->capacity = 0;
  stats->first = 0;
  stats->n_rows = 0;
}

static const PmStatsRow *
row_at (const PmStats *stats,
        guint          row)
{
  return &stats->rows[(stats->first + row) % stats->capacity];
}

/**
 * pm_stats_add_sample:
 * @stats: a ring
 * @state: the miner's state at the time of the sample
 * @ms_since_boot: the sample's time, ms since the device's boot
 *
 * Records one row of every column; once %PM_STATS_LIMIT rows are kept,
 * the oldest is dropped.
 */
void
pm_stats_add_sample (PmStats            *stats,
                     const PmMinerState *state,
                     gint64              ms_since_boot)
{
  PmStatsRow *row;
  float *v;

  g_return_if_fail (stats != NULL);
  g_return_if_fail (state != NULL);

  if (stats->n_rows == stats->capacity && stats->capacity < PM_STATS_LIMIT)
    {
      /* Not wrapped yet: a ring wraps only at its full size. */
      guint capacity = stats->capacity == 0 ? FIRST_CAPACITY : MIN (2u * stats->capacity, PM_STATS_LIMIT);

      stats->rows = g_renew (PmStatsRow, stats->rows, capacity);
      stats->capacity = (guint16) capacity;
    }

  if (stats->n_rows < stats->capacity)
    {
      row = &stats->rows[(stats->first + stats->n_rows) % stats->capacity];
      stats->n_rows++;
    }
  else
    {
      row = &stats->rows[stats->first];
      stats->first = (guint16) ((stats->first + 1) % stats->capacity);
    }

  v = row->values;
  v[PM_STATS_HASHRATE] = (float) state->hashrate;
  v[PM_STATS_HASHRATE_1M] = (float) state->hashrate_1m;
  v[PM_STATS_HASHRATE_10M] = (float) state->hashrate_10m;
  v[PM_STATS_HASHRATE_1H] = (float) state->hashrate_1h;
  v[PM_STATS_ERROR_PERCENTAGE] = (float) state->error_percentage;
  v[PM_STATS_ASIC_TEMP] = (float) state->temp;
  v[PM_STATS_ASIC_TEMP2] = -1.0f;  /* no second sensor on these boards */
  v[PM_STATS_VR_TEMP] = (float) state->vr_temp;
  v[PM_STATS_ASIC_VOLTAGE] = (float) state->core_voltage_actual;
  v[PM_STATS_VOLTAGE] = (float) state->voltage;
  v[PM_STATS_POWER] = (float) state->power;
  v[PM_STATS_CURRENT] = (float) state->current;
  v[PM_STATS_FAN_SPEED] = (float) state->fan_duty;
  v[PM_STATS_FAN_RPM] = (float) state->fan_rpm;
  v[PM_STATS_FAN2_RPM] = 0.0f;  /* one fan */
  v[PM_STATS_WIFI_RSSI] = (float) state->wifi_rssi;
  v[PM_STATS_FREE_HEAP] = (float) state->free_heap;
  v[PM_STATS_RESPONSE_TIME] = (float) state->response_time;
  v[PM_STATS_HASHRATE_1D] = (float) state->hashrate_1d;
  row->time_low = (guint32) ((guint64) ms_since_boot & 0xffffffffu);
  row->time_high = (guint32) ((guint64) ms_since_boot >> 32);
}

guint
pm_stats_get_n_rows (const PmStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0);
  return stats->n_rows;
}

/**
 * pm_stats_get_value:
 * @stats: a ring
 * @row: a row, 0 the oldest
 * @column: a column
 *
 * Returns: the value kept, as the float the firmware keeps
 */
double
pm_stats_get_value (const PmStats *stats,
                    guint          row,
                    PmStatsColumn  column)
{
  g_return_val_if_fail (stats != NULL, 0.0);
  g_return_val_if_fail (row < stats->n_rows, 0.0);
  g_return_val_if_fail ((guint) column < PM_STATS_N_VALUES, 0.0);

  return row_at (stats, row)->values[column];
}

/**
 * pm_stats_get_timestamp:
 * @stats: a ring
 * @row: a row, 0 the oldest
 *
 * Returns: when the row was sampled, ms since boot
 */
gint64
pm_stats_get_timestamp (const PmStats *stats,
                        guint          row)
{
  const PmStatsRow *r;

  g_return_val_if_fail (stats != NULL, 0);
  g_return_val_if_fail (row < stats->n_rows, 0);

  r = row_at (stats, row);
  return (gint64) (((guint64) r->time_high << 32) | r->time_low);
}

/* The columns @columns names, as a bit set; 0 when it names none. */
static guint32
parse_columns (const char *columns)
{
  guint32 selected = 0;
  const char *p = columns;

  while (p != NULL && *p != '\0')
    {
      const char *comma = strchr (p, ',');
      gsize len = comma != NULL ? (gsize) (comma - p) : strlen (p);
      guint i;

      for (i = 0; i < PM_STATS_N_COLUMNS; i++)
        {
          if (strlen (column_names[i]) == len && memcmp (column_names[i], p, len) == 0)
            {
              selected |= 1u << i;
              break;
            }
        }
      p = comma != NULL ? comma + 1 : NULL;
    }
  return selected;
}

/* A float as the firmware prints one: rounded to 7 decimals, a whole
 * value without a point. */
static void
append_float (GString *out,
              float    value)
{
  pm_json_append_double (out, isfinite (value) ? (double) value : 0.0, 7);
}

/**
 * pm_stats_write:
 * @stats: a ring
 * @out: where to write
 * @columns: (nullable): the `columns=` query, URL-decoded: labels
 *   separated by commas
 * @current_ms: the time of the request, ms since boot
 *
 * Writes the `GET /api/system/statistics` reply: `currentTimestamp`,
 * `labels` (the selected columns in the firmware's order, then
 * `timestamp`) and `statistics`, one array per row, oldest first.  Names
 * the firmware does not know are ignored; when @columns names none, every
 * column is written.
 */
void
pm_stats_write (const PmStats *stats,
                GString       *out,
                const char    *columns,
                gint64         current_ms)
{
  guint32 selected = parse_columns (columns);
  guint i, r;

  g_return_if_fail (stats != NULL);
  g_return_if_fail (out != NULL);

  if (selected == 0)
    selected = (1u << PM_STATS_N_COLUMNS) - 1;

  g_string_append (out, "{\"currentTimestamp\":");
  pm_json_append_int (out, current_ms);
  g_string_append (out, ",\"labels\":[");
  for (i = 0; i < PM_STATS_N_COLUMNS; i++)
    {
      if ((selected & (1u << i)) == 0)
        continue;
      g_string_append_c (out, '"');
      g_string_append (out, column_names[i]);  /* nothing to escape */
      g_string_append (out, "\",");
    }
  g_string_append (out, "\"timestamp\"],\"statistics\":[");

  for (r = 0; r < stats->n_rows; r++)
    {
      const PmStatsRow *row = row_at (stats, r);

      if (r > 0)
        g_string_append_c (out, ',');
      g_string_append_c (out, '[');
      for (i = 0; i < PM_STATS_N_COLUMNS; i++)
        {
          if ((selected & (1u << i)) == 0)
            continue;
          append_float (out, row->values[i]);
          g_string_append_c (out, ',');
        }
      pm_json_append_int (out, (gint64) (((guint64) row->time_high << 32) | row->time_low));
      g_string_append_c (out, ']');
    }
  g_string_append (out, "]}");
}
