/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PmFaultKind:
 * @PM_FAULT_LATENCY: `latency`: every reply waits `ms` (0–60000, required)
 *   give or take `jitter-ms` (0–60000, default 0)
 * @PM_FAULT_ERRORS: `errors`: requests get HTTP `status` (400–599, default
 *   500) with probability `rate` (0–1, default 1), only on `path` if given
 *   (a string starting with '/')
 * @PM_FAULT_OFFLINE: `offline`: connections are refused; no parameters
 * @PM_FAULT_BLACKHOLE: `blackhole`: connections are accepted and never
 *   answered; no parameters
 * @PM_FAULT_FLAPPING: `flapping`: up for `up-s`, then offline for
 *   `down-s`, over and over (each 0.1–86400 s, both required)
 * @PM_FAULT_CORRUPT: `corrupt`: replies are spoiled as `mode` says
 *   (truncate, invalid-json, strings, missing-fields or content-type;
 *   required) with probability `rate` (0–1, default 1)
 * @PM_FAULT_SLOW_BODY: `slow-body`: reply bodies trickle at `bytes-per-s`
 *   (1–1000000000, required)
 * @PM_FAULT_WS_DROP: `ws-drop`: WebSocket connections are dropped every
 *   `interval-s` (0.1–86400, required), with a close frame if `clean`
 *   (boolean, default false)
 * @PM_FAULT_WS_SILENT: `ws-silent`: the log WebSocket stays open and
 *   sends nothing (`/api/ws/live` goes on); no parameters
 * @PM_FAULT_REBOOT_LOOP: `reboot-loop`: the device restarts every
 *   `interval-s` (1–86400, required)
 * @PM_FAULT_OVERHEAT: `overheat`: the ASIC warms by `rate-c-per-min`
 *   (0.1–100, default 5) °C a minute; simulated miner only
 * @PM_FAULT_FAN_FAILURE: `fan-failure`: the fan stops; no parameters;
 *   simulated miner only
 * @PM_FAULT_ASIC_FAILURE: `asic-failure`: ASIC `asic` (0–15, default 0)
 *   of hash domain `domain` (0–15, default 0) fails; simulated miner
 *   only, and only a part its board has (pm_device_check_fault())
 * @PM_FAULT_POOL_DOWN: `pool-down`: the pool stops answering; no
 *   parameters; simulated miner only
 * @PM_FAULT_POWER_FAULT: `power-fault`: the board reports `message`
 *   (a string, default "Power fault detected"); simulated miner only
 * @PM_FAULT_N_KINDS: the number of kinds, not a kind
 *
 * What can go wrong with a device.  The text in backquotes is the kind's
 * name on the bus, on the command line and in scenario files; the names
 * of its parameters are part of the interface too.  The first ten work
 * with any profile; the last five act on the simulated miner, so only on
 * profiles that have one (pm_fault_kind_needs_miner()).
 */
typedef enum
{
  PM_FAULT_LATENCY,
  PM_FAULT_ERRORS,
  PM_FAULT_OFFLINE,
  PM_FAULT_BLACKHOLE,
  PM_FAULT_FLAPPING,
  PM_FAULT_CORRUPT,
  PM_FAULT_SLOW_BODY,
  PM_FAULT_WS_DROP,
  PM_FAULT_WS_SILENT,
  PM_FAULT_REBOOT_LOOP,
  PM_FAULT_OVERHEAT,
  PM_FAULT_FAN_FAILURE,
  PM_FAULT_ASIC_FAILURE,
  PM_FAULT_POOL_DOWN,
  PM_FAULT_POWER_FAULT,
  PM_FAULT_N_KINDS,
} PmFaultKind;

/**
 * PmFaultCorruptMode:
 * @PM_FAULT_CORRUPT_TRUNCATE: `truncate`: the body stops short
 * @PM_FAULT_CORRUPT_INVALID_JSON: `invalid-json`: the body is not JSON
 * @PM_FAULT_CORRUPT_STRINGS: `strings`: numbers are sent as strings
 * @PM_FAULT_CORRUPT_MISSING_FIELDS: `missing-fields`: members are left out
 * @PM_FAULT_CORRUPT_CONTENT_TYPE: `content-type`: the Content-Type is wrong
 *
 * How a %PM_FAULT_CORRUPT fault spoils a reply.
 */
typedef enum
{
  PM_FAULT_CORRUPT_TRUNCATE,
  PM_FAULT_CORRUPT_INVALID_JSON,
  PM_FAULT_CORRUPT_STRINGS,
  PM_FAULT_CORRUPT_MISSING_FIELDS,
  PM_FAULT_CORRUPT_CONTENT_TYPE,
} PmFaultCorruptMode;

/* The longest `path` of an errors fault, in bytes. */
#define PM_FAULT_PATH_MAX_BYTES 1024
/* The longest `message` of a power-fault, in bytes. */
#define PM_FAULT_MESSAGE_MAX_BYTES 256

/**
 * PmFault:
 * @kind: what goes wrong
 * @ms: latency: the delay in milliseconds
 * @jitter_ms: latency: how far each delay may stray from @ms
 * @status: errors: the HTTP status
 * @rate: errors and corrupt: the share of requests hit, 0 to 1
 * @path: (nullable): errors: the only request path hit, or %NULL for all
 * @up_s: flapping: seconds up
 * @down_s: flapping: seconds down
 * @mode: corrupt: how replies are spoiled
 * @bytes_per_s: slow-body: the rate of reply bodies
 * @interval_s: ws-drop and reboot-loop: seconds between drops or restarts
 * @clean: ws-drop: whether a close frame is sent
 * @rate_c_per_min: overheat: how fast the ASIC warms, °C a minute
 * @domain: asic-failure: the hash domain
 * @asic: asic-failure: the ASIC within @domain
 * @message: (nullable): power-fault: what the board reports
 *
 * One fault, checked and complete: the parameters of @kind hold their
 * value or their default, every other field is 0 or %NULL.  Made only by
 * pm_fault_new_from_variant(), pm_fault_new_from_strings() and
 * pm_fault_copy(); freed with pm_fault_free().
 */
typedef struct
{
  PmFaultKind        kind;
  guint              ms;
  guint              jitter_ms;
  guint              status;
  double             rate;
  char              *path;    /* (owned) (nullable) */
  double             up_s;
  double             down_s;
  PmFaultCorruptMode mode;
  guint64            bytes_per_s;
  double             interval_s;
  gboolean           clean;
  double             rate_c_per_min;
  guint              domain;
  guint              asic;
  char              *message; /* (owned) (nullable) */
} PmFault;

const char *pm_fault_kind_to_string (PmFaultKind kind);
gboolean    pm_fault_kind_from_string (const char  *name,
                                       PmFaultKind *out_kind);
gboolean    pm_fault_kind_needs_miner (PmFaultKind kind);
const char *pm_fault_corrupt_mode_to_string (PmFaultCorruptMode mode);

PmFault  *pm_fault_new_from_variant (const char *kind,
                                     GVariant   *parameters,
                                     GError    **error);
PmFault  *pm_fault_new_from_strings (const char        *kind,
                                     const char *const *key_values,
                                     GError           **error);
PmFault  *pm_fault_copy (const PmFault *fault);
void      pm_fault_free (PmFault *fault);
GVariant *pm_fault_to_variant (const PmFault *fault);

gboolean pm_fault_draw (double   rate,
                        guint64 *state);
guint    pm_fault_jitter (const PmFault *fault,
                          guint64       *state);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmFault, pm_fault_free)

G_END_DECLS
