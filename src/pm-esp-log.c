/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-esp-log"

#include "config.h"

#include "pm-esp-log.h"
#include "pm-splitmix.h"

/*
 * Log lines as ESP-Miner's ESP-IDF build writes them to its log stream:
 *
 *   ESC[0;32mI (123456) stratum_task: Share accepted, diff 1203.4ESC[0m\n
 *
 * a colour for the level, the level letter, milliseconds since boot in
 * parentheses, the tag, a colon, the message, a colour reset and a
 * newline.  Not a hot path: a simulated miner logs a few lines a second.
 */

/**
 * pm_esp_log_append_line:
 * @out: where to append
 * @level: 'E', 'W', 'I', 'D' or 'V'
 * @ms_since_boot: the time stamp; printed as ESP-IDF does, an unsigned
 *   32-bit count that wraps after some 49.7 days
 * @tag: the module that logs, e.g. "stratum_task"
 * @message: the text
 * @colours: whether to add the ANSI colours of a CONFIG_LOG_COLORS build
 *
 * Appends one log line, newline included.  E is red, W yellow, I green;
 * D and V have no colour of their own but, as in ESP-IDF, still end with
 * the reset when @colours is set.
 */
void
pm_esp_log_append_line (GString    *out,
                        char        level,
                        gint64      ms_since_boot,
                        const char *tag,
                        const char *message,
                        gboolean    colours)
{
  const char *colour;

  g_return_if_fail (out != NULL);
  g_return_if_fail (tag != NULL);
  g_return_if_fail (message != NULL);

  switch (level)
    {
    case 'E':
      colour = PM_ESP_LOG_COLOR_E;
      break;
    case 'W':
      colour = PM_ESP_LOG_COLOR_W;
      break;
    case 'I':
      colour = PM_ESP_LOG_COLOR_I;
      break;
    case 'D':
    case 'V':
      colour = "";
      break;
    default:
      g_return_if_reached ();
    }

  g_string_append_printf (out, "%s%c (%" G_GUINT32_FORMAT ") %s: %s%s\n",
                          colours ? colour : "", level, (guint32) ms_since_boot, tag, message,
                          colours ? PM_ESP_LOG_RESET : "");
}

/* A number as the firmware prints it with "%.<decimals>f", whatever the
 * locale. */
static const char *
format_fixed (char   buffer[G_ASCII_DTOSTR_BUF_SIZE],
              guint  decimals,
              double value)
{
  char format[8];

  g_snprintf (format, sizeof format, "%%.%uf", MIN (decimals, 9u));
  return g_ascii_formatd (buffer, G_ASCII_DTOSTR_BUF_SIZE, format, value);
}

/* Stable pseudo-random bits from the event, for the nonce and version
 * of a share: the same event always prints the same line. */
static guint64
event_bits (const PmMinerEvent *event)
{
  union
  {
    double  d;
    guint64 u;
  } value = { event->value };

  /* A SplitMix64 state as many steps in as the event's millisecond,
   * stirred by the value's bits, then finalised. */
  return pm_splitmix64_mix (((guint64) event->ms_since_boot * PM_SPLITMIX64_GAMMA)
                            ^ (value.u + G_GUINT64_CONSTANT (0x632BE59BD9B4E019)));
}

/* The temperature above which a line about the chips is a warning: the
 * firmware's default overheat threshold. */
#define HOT_CELSIUS 70.0

/**
 * pm_esp_log_append_event:
 * @out: where to append
 * @event: what the miner did
 * @colours: whether to add ANSI colours
 *
 * Appends the line or lines an ESP-Miner firmware would log for @event,
 * stamped with its time.  The numbers come from the event; a found
 * share's nonce and version bits are derived from it, so the same event
 * always gives the same text.
 */
void
pm_esp_log_append_event (GString            *out,
                         const PmMinerEvent *event,
                         gboolean            colours)
{
  char number[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *message = NULL;
  gint64 ms;

  g_return_if_fail (out != NULL);
  g_return_if_fail (event != NULL);

  ms = event->ms_since_boot;
  switch (event->kind)
    {
    case PM_MINER_EVENT_BOOT:
      pm_esp_log_append_line (out, 'I', ms, "main", "ESP-Miner firmware starting", colours);
      pm_esp_log_append_line (out, 'I', ms, "power_management", "Power management task started", colours);
      pm_esp_log_append_line (out, 'I', ms, "stratum_task", "Connecting to the pool", colours);
      break;

    case PM_MINER_EVENT_NEW_JOB:
      message = g_strdup_printf ("Mining.notify: New job %x", (guint) event->value);
      pm_esp_log_append_line (out, 'I', ms, "stratum_task", message, colours);
      g_free (message);
      message = g_strdup_printf ("Job %x queued for the ASICs", (guint) event->value);
      pm_esp_log_append_line (out, 'I', ms, "create_jobs_task", message, colours);
      break;

    case PM_MINER_EVENT_SHARE_FOUND:
      {
        guint64 bits = event_bits (event);
        guint32 version = 0x20000000u | ((guint32) (bits >> 32) & 0x1fffe000u);

        message = g_strdup_printf ("Ver: %08X Nonce %08X diff %s", version, (guint32) bits,
                                   format_fixed (number, 1, event->value));
        pm_esp_log_append_line (out, 'I', ms, "asic_result", message, colours);
      }
      break;

    case PM_MINER_EVENT_SHARE_ACCEPTED:
      message = g_strdup_printf ("Share accepted, diff %s", format_fixed (number, 1, event->value));
      pm_esp_log_append_line (out, 'I', ms, "stratum_task", message, colours);
      break;

    case PM_MINER_EVENT_SHARE_REJECTED:
      message = g_strdup_printf ("Share rejected: %s (diff %s)",
                                 event->reason != NULL ? event->reason : "unknown reason",
                                 format_fixed (number, 1, event->value));
      pm_esp_log_append_line (out, 'W', ms, "stratum_task", message, colours);
      break;

    case PM_MINER_EVENT_TEMPERATURE:
      if (event->value >= HOT_CELSIUS)
        {
          message = g_strdup_printf ("Temp: %s °C, above %.0f °C", format_fixed (number, 1, event->value),
                                     HOT_CELSIUS);
          pm_esp_log_append_line (out, 'W', ms, "power_management", message, colours);
        }
      else
        {
          message = g_strdup_printf ("Temp: %s °C", format_fixed (number, 1, event->value));
          pm_esp_log_append_line (out, 'I', ms, "power_management", message, colours);
        }
      break;

    case PM_MINER_EVENT_FREQUENCY:
      message = g_strdup_printf ("Frequency set to %s MHz", format_fixed (number, 2, event->value));
      pm_esp_log_append_line (out, 'I', ms, "asic", message, colours);
      break;

    case PM_MINER_EVENT_NEW_BEST:
      message = g_strdup_printf ("New best difficulty: %s", format_fixed (number, 1, event->value));
      pm_esp_log_append_line (out, 'I', ms, "asic_result", message, colours);
      break;

    case PM_MINER_EVENT_OVERHEAT:
      {
        char vr[G_ASCII_DTOSTR_BUF_SIZE];

        message = g_strdup_printf ("OVERHEAT! VR: %sC ASIC: %sC", format_fixed (vr, 6, event->aux[0]),
                                   format_fixed (number, 6, event->value));
        pm_esp_log_append_line (out, 'E', ms, "power_management", message, colours);
        pm_esp_log_append_line (out, 'W', ms, "power_management",
                                "Entering safe mode due to overheat condition. System operation halted.", colours);
        pm_esp_log_append_line (out, 'I', ms, "power_management", "Stopping mining", colours);
        pm_esp_log_append_line (out, 'I', ms, "power_management", "Mining stopped", colours);
      }
      break;

    case PM_MINER_EVENT_SAFE_MODE:
      /* Boards whose chip sensor is the EMC2101's own print the chip
       * readings, -1 while the ASICs are off; the others say so. */
      if (event->aux[1] != 0)
        message = g_strdup_printf ("Safe mode active (cycle %u) - VR: %s°C ASIC1: -1.0°C ASIC2: -1.0°C",
                                   (guint) event->value, format_fixed (number, 1, event->aux[0]));
      else
        message = g_strdup_printf ("Safe mode active (cycle %u/6) - VR: %s°C (ASIC temps unavailable while powered down)",
                                   (guint) event->value, format_fixed (number, 1, event->aux[0]));
      pm_esp_log_append_line (out, 'W', ms, "power_management", message, colours);
      break;

    case PM_MINER_EVENT_OVERHEAT_RECOVERED:
      {
        char before[G_ASCII_DTOSTR_BUF_SIZE];

        pm_esp_log_append_line (out, 'I', ms, "power_management",
                                "Temperature normalized after 6 cooling cycles. Reinitializing ASIC...", colours);
        message = g_strdup_printf ("Restoring at reduced settings: %umV (was %umV), %s MHz (was %s MHz)",
                                   (guint) event->aux[1], (guint) event->aux[2],
                                   format_fixed (number, 0, event->value), format_fixed (before, 0, event->aux[0]));
        pm_esp_log_append_line (out, 'I', ms, "power_management", message, colours);
        pm_esp_log_append_line (out, 'I', ms, "power_management", "Starting mining", colours);
        g_free (message);
        message = g_strdup_printf ("Resuming normal operation. Reduced frequency (%s MHz) will be applied automatically.",
                                   format_fixed (number, 0, event->value));
        pm_esp_log_append_line (out, 'I', ms, "power_management", message, colours);
      }
      break;

    case PM_MINER_EVENT_POOL_DOWN:
      pm_esp_log_append_line (out, 'E', ms, "stratum_v1_task", "Failed to receive JSON-RPC line, reconnecting...",
                              colours);
      break;

    case PM_MINER_EVENT_POOL_FALLBACK:
      pm_esp_log_append_line (out, 'W', ms, "stratum_v1_task",
                              "Max V1 retry attempts reached (3), notifying coordinator", colours);
      pm_esp_log_append_line (out, 'W', ms, "protocol_coordinator",
                              "Protocol failure reported (state=1, failures=1/2)", colours);
      pm_esp_log_append_line (out, 'I', ms, "protocol_coordinator", "Switching to fallback pool (SV1)", colours);
      break;

    case PM_MINER_EVENT_POOLS_UNAVAILABLE:
      pm_esp_log_append_line (out, 'W', ms, "stratum_v1_task",
                              "Max V1 retry attempts reached (3), notifying coordinator", colours);
      pm_esp_log_append_line (out, 'W', ms, "protocol_coordinator",
                              "Protocol failure reported (state=1, failures=1/1)", colours);
      pm_esp_log_append_line (out, 'W', ms, "protocol_coordinator",
                              "All configured pools unreachable, pausing mining to conserve power.", colours);
      pm_esp_log_append_line (out, 'I', ms, "power_management", "Stopping mining", colours);
      pm_esp_log_append_line (out, 'I', ms, "power_management", "Mining stopped", colours);
      break;

    case PM_MINER_EVENT_POOL_RESTORED:
      switch ((PmMinerPoolRestored) event->value)
        {
        case PM_MINER_POOL_RECONNECTED:
          pm_esp_log_append_line (out, 'I', ms, "stratum_v1_task", "setup message accepted", colours);
          break;
        case PM_MINER_POOL_BACK_FROM_FALLBACK:
          pm_esp_log_append_line (out, 'I', ms, "protocol_coordinator",
                                  "Primary pool is back! Switching from fallback.", colours);
          break;
        case PM_MINER_POOL_RESUMED:
        default:
          message = g_strdup_printf ("Pool recovery: %s pool reachable, resuming mining (SV1)",
                                     event->aux[0] != 0 ? "fallback" : "primary");
          pm_esp_log_append_line (out, 'I', ms, "protocol_coordinator", message, colours);
          pm_esp_log_append_line (out, 'I', ms, "power_management", "Starting mining", colours);
          break;
        }
      break;

    case PM_MINER_EVENT_POWER_FAULT:
      /* STATUS_WORD with OFF set. */
      pm_esp_log_append_line (out, 'E', ms, "TPS546", "Status: 0x0040", colours);
      pm_esp_log_append_line (out, 'E', ms, "TPS546", "The voltage regulator is turned off", colours);
      break;

    default:
      g_debug ("no log line for miner event %d", (int) event->kind);
      break;
    }
}
