/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "pm-axeos.h"
#include "pm-fault.h"
#include "pm-miner.h"
#include "pm-profile.h"
#include "pm-settings.h"
#include "pm-stats.h"

G_BEGIN_DECLS

/* What the firmware says after a power-on and after esp_restart(). */
#define PM_SIM_RESET_POWER_ON "Reset due to power-on event"
#define PM_SIM_RESET_SOFTWARE "Software reset via esp_restart"

/* How often a NerdQAxe+ records its history, in seconds. */
#define PM_SIM_NERDQAXE_HISTORY_PERIOD_S 30

/**
 * PmSim:
 *
 * What a simulated device is behind its HTTP: the miner, the settings
 * kept in flash, the statistics ring, the identity (MAC, board
 * revision) and the few firmware states no setting holds (reset reason,
 * identify, found blocks).  Knows no HTTP.
 */
typedef struct _PmSim PmSim;

PmSim       *pm_sim_new (const PmProfile *profile,
                         const char      *hostname,
                         guint64          seed,
                         guint            port,
                         gint64           now_us);
void         pm_sim_free (PmSim *self);

void         pm_sim_catch_up (PmSim *self,
                              gint64 now_us);
void         pm_sim_get_view (PmSim          *self,
                              const char     *firmware,
                              const char     *ipv4,
                              PmFirmwareView *out);

PmMiner     *pm_sim_get_miner (PmSim *self);
PmSettings  *pm_sim_get_settings (PmSim *self);
PmStats     *pm_sim_get_stats (PmSim *self);
const char  *pm_sim_get_mac (PmSim *self);

void         pm_sim_apply_settings (PmSim *self);

void         pm_sim_set_fault (PmSim         *self,
                               const PmFault *fault);
void         pm_sim_clear_fault (PmSim      *self,
                                 PmFaultKind kind);
void         pm_sim_set_fault_at (PmSim         *self,
                                  const PmFault *fault,
                                  gint64         now_us);
void         pm_sim_clear_fault_at (PmSim      *self,
                                    PmFaultKind kind,
                                    gint64      now_us);
void         pm_sim_reboot (PmSim *self,
                            gint64 now_us);

gboolean     pm_sim_patch (PmSim    *self,
                           JsonNode *root,
                           gint64    now_us,
                           gboolean *out_renamed,
                           GError  **error);
gboolean     pm_sim_update (PmSim      *self,
                            const char *data,
                            gsize       length,
                            gint64      now_us,
                            gboolean   *out_renamed,
                            GError    **error);
void         pm_sim_steer (PmSim      *self,
                           JsonObject *update,
                           gint64      now_us);
char        *pm_sim_dup_info (PmSim      *self,
                              const char *firmware,
                              const char *ipv4,
                              gint64      now_us);
JsonObject  *pm_sim_dup_live_state (PmSim      *self,
                                    const char *firmware,
                                    const char *ipv4,
                                    gint64      now_us);

gboolean     pm_sim_toggle_identify (PmSim *self,
                                     gint64 now_us);

/**
 * PmSimLogFunc:
 * @ms_since_boot: when the line was written
 * @line: one log line, ending in a newline
 * @length: its length
 * @user_data: what was given with the function
 */
typedef void (*PmSimLogFunc) (gint64      ms_since_boot,
                              const char *line,
                              gsize       length,
                              gpointer    user_data);

void         pm_sim_take_log (PmSim       *self,
                              gboolean     colours,
                              PmSimLogFunc func,
                              gpointer     user_data);
void         pm_sim_skip_log (PmSim *self);
gint64       pm_sim_get_boot_time (PmSim *self);
void         pm_sim_append_log_history (PmSim   *self,
                                        GString *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmSim, pm_sim_free)

G_END_DECLS
