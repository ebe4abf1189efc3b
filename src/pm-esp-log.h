/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-miner.h"

G_BEGIN_DECLS

/* The ANSI colours an ESP-IDF build with CONFIG_LOG_COLORS puts around a
 * line: a colour per level before it, a reset after it. */
#define PM_ESP_LOG_COLOR_E "\033[0;31m"
#define PM_ESP_LOG_COLOR_W "\033[0;33m"
#define PM_ESP_LOG_COLOR_I "\033[0;32m"
#define PM_ESP_LOG_RESET   "\033[0m"

void pm_esp_log_append_line (GString    *out,
                             char        level,
                             gint64      ms_since_boot,
                             const char *tag,
                             const char *message,
                             gboolean    colours);
void pm_esp_log_append_event (GString            *out,
                              const PmMinerEvent *event,
                              gboolean            colours);

G_END_DECLS
