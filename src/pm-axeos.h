/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-board.h"
#include "pm-miner.h"
#include "pm-settings.h"
#include "pm-stats.h"

G_BEGIN_DECLS

/**
 * PmFirmwareView:
 *
 * Everything a firmware's JSON replies are written from: the board, the
 * device's identity, the miner's state and the stored settings.  Writers
 * only read it.
 */
typedef struct
{
  const PmBoard      *board;
  const char         *board_version;     /* "601" */
  PmPowerSensor       sensor;
  const char         *firmware;          /* "v2.15.0" */
  const char         *mac;               /* "02:1A:2B:3C:4D:5E" */
  const char         *ipv4;              /* "127.0.0.1" */
  const char         *reset_reason;      /* "Software reset via esp_restart" */
  const char         *running_partition; /* "ota_0" */
  const PmMinerState *state;
  const PmSettings   *settings;
  guint               block_found;
  gboolean            show_new_block;
} PmFirmwareView;

/* AxeOS v2.15 `GET /api/system/info`.  @http: the HTTP reply (with
 * `fullHostname`), or the /api/ws/live state (without). */
void pm_axeos_write_info (GString              *out,
                          const PmFirmwareView *view,
                          gboolean              http);
/* AxeOS `GET /api/system/asic`. */
void pm_axeos_write_asic (GString       *out,
                          const PmBoard *board);
/* AxeOS `GET /api/system/scoreboard`. */
void pm_axeos_write_scoreboard (GString            *out,
                                const PmMinerState *state);

/* NerdQAxe+ `GET /api/system/info`, without `history`. */
void pm_nerdqaxe_write_info (GString              *out,
                             const PmFirmwareView *view);
/* NerdQAxe+ `GET /api/system/asic`. */
void pm_nerdqaxe_write_asic (GString       *out,
                             const PmBoard *board);

/* NerdQAxe+ `history` limits: points per reply and span of time. */
#define PM_NERDQAXE_HISTORY_MAX_POINTS 1000
#define PM_NERDQAXE_HISTORY_SPAN_MS    (G_GUINT64_CONSTANT (3600) * 1000)
#define PM_NERDQAXE_HISTORY_MAX_SPAN_MS (3 * PM_NERDQAXE_HISTORY_SPAN_MS)

/* The `ts`, `limit`, `history_span` and `cur` values of a NerdQAxe+
 * `GET /api/system/info` query (string to string, as libsoup decodes
 * it); returns whether it asks for `history` (a non-zero `ts`). */
gboolean pm_nerdqaxe_parse_history_query (GHashTable *query,
                                          guint64    *out_ts_ms,
                                          guint      *out_limit,
                                          guint64    *out_span_ms,
                                          guint64    *out_cur_ms);
/* The NerdQAxe+ `history` object, from @stats: the samples from
 * @ts_ms − @cur_ms + @now_ms (device time) on, over @span_ms (0: one
 * hour; at most three), at most @limit of them (0: no limit; at most
 * 1000).  @now_ms is the device's time, ms since boot.  As on the
 * firmware, a @cur_ms of 0 (no `cur`) puts the window after now, with
 * no samples in it. */
void pm_nerdqaxe_write_history (GString       *out,
                                const PmStats *stats,
                                guint64        ts_ms,
                                guint          limit,
                                guint64        span_ms,
                                guint64        cur_ms,
                                gint64         now_ms);
/* NerdQAxe+ `GET /api/system/info?ts=…`: the info object with its
 * `history` member (the device's time: the state's `ms_since_boot`),
 * which the firmware leaves out while mining is shut down. */
void pm_nerdqaxe_write_info_with_history (GString              *out,
                                          const PmFirmwareView *view,
                                          const PmStats        *stats,
                                          guint64               ts_ms,
                                          guint                 limit,
                                          guint64               span_ms,
                                          guint64               cur_ms);

G_END_DECLS
