/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib-object.h>

#include "pm-acceptor.h"
#include "pm-config.h"
#include "pm-device-spec.h"
#include "pm-fault.h"
#include "pm-generator.h"
#include "pm-log-stream.h"
#include "pm-miner.h"
#include "pm-profile.h"

G_BEGIN_DECLS

/* How long a restart keeps a device answering 503, in milliseconds. */
#define PM_DEVICE_RESTART_MS 5000
/* The period of the fake log stream, in milliseconds. */
#define PM_DEVICE_LOG_INTERVAL_MS 5000

#define PM_TYPE_DEVICE (pm_device_get_type ())
G_DECLARE_FINAL_TYPE (PmDevice, pm_device, PM, DEVICE, GObject)

PmDevice *pm_device_new (PmAcceptor         *acceptor,
                         const PmDeviceSpec *spec,
                         const PmConfig     *config,
                         guint64             seed);

gboolean pm_device_start (PmDevice   *self,
                          const char *bind_address,
                          GError    **error);
void     pm_device_stop (PmDevice *self);

guint        pm_device_get_port (PmDevice *self);
const char  *pm_device_get_hostname (PmDevice *self);
const PmProfile *pm_device_get_profile (PmDevice *self);
const char  *pm_device_get_firmware (PmDevice *self);
gint64       pm_device_get_start_time (PmDevice *self);
gboolean     pm_device_get_listening (PmDevice *self);
gboolean     pm_device_get_restarting (PmDevice *self);
gboolean     pm_device_get_logs_enabled (PmDevice *self);
guint        pm_device_get_n_log_clients (PmDevice *self);
PmLogStream *pm_device_get_log_stream (PmDevice *self);
char        *pm_device_dup_url (PmDevice *self);

gboolean pm_device_restart (PmDevice *self,
                            GError  **error);
char    *pm_device_dup_info (PmDevice *self);
gboolean pm_device_update (PmDevice   *self,
                           const char *data,
                           gsize       length,
                           GError    **error);

gboolean  pm_device_check_fault (PmDevice      *self,
                                 const PmFault *fault,
                                 GError       **error);
gboolean  pm_device_set_fault (PmDevice      *self,
                               const PmFault *fault,
                               GError       **error);
gboolean  pm_device_clear_fault (PmDevice   *self,
                                 PmFaultKind kind);
void      pm_device_clear_faults (PmDevice *self);
GVariant *pm_device_dup_faults (PmDevice *self);

const PmMinerState *pm_device_get_miner_state (PmDevice *self);

G_END_DECLS
