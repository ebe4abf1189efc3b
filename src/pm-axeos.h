/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-board.h"
#include "pm-miner.h"
#include "pm-settings.h"

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

G_END_DECLS
