/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib-object.h>
#include <libsoup/soup.h>

#include "pm-fault.h"
#include "pm-profile.h"

G_BEGIN_DECLS

/* The most requests one device's black hole holds unanswered at once:
 * past it a connection is closed at once, and the client sees it go. */
#define PM_FAULTS_MAX_HELD 256

/* The most replies one device's latency and slow-body faults hold back at
 * once, as a black hole holds at most PM_FAULTS_MAX_HELD requests: past it
 * a reply is not held but answered at once with 503, saying why. */
#define PM_FAULTS_MAX_DELAYED 256

/**
 * PmFaultsDeviceFuncs:
 * @set_offline: takes the device off the network (its port refuses
 *   connections) or back on
 * @restart: restarts the device as its profile says
 * @drop_websockets: cuts (@clean %FALSE) or closes the device's
 *   WebSocket clients
 * @silence_websockets: stops or resumes what the device's WebSockets send
 * @miner_fault: imposes (@fault not %NULL) or lifts (@kind) a miner fault
 *   on a simulated device
 *
 * What the faults of a device ask the device to do.
 */
typedef struct
{
  void (*set_offline) (gpointer device,
                       gboolean offline);
  void (*restart) (gpointer device);
  void (*drop_websockets) (gpointer device,
                           gboolean clean);
  void (*silence_websockets) (gpointer device,
                              gboolean silent);
  void (*miner_fault) (gpointer       device,
                       PmFaultKind    kind,
                       const PmFault *fault);
} PmFaultsDeviceFuncs;

#define PM_TYPE_FAULTS (pm_faults_get_type ())
G_DECLARE_FINAL_TYPE (PmFaults, pm_faults, PM, FAULTS, GObject)

PmFaults      *pm_faults_new (const PmFaultsDeviceFuncs *funcs,
                              gpointer                   device,
                              const PmProfile           *profile,
                              guint64                    seed,
                              guint                      port);

gboolean       pm_faults_set (PmFaults      *self,
                              const PmFault *fault,
                              GError       **error);
gboolean       pm_faults_clear (PmFaults   *self,
                                PmFaultKind kind);
void           pm_faults_clear_all (PmFaults *self);
const PmFault *pm_faults_get (PmFaults   *self,
                              PmFaultKind kind);
guint          pm_faults_get_n_active (PmFaults *self);
GVariant      *pm_faults_to_variant (PmFaults *self);
gboolean       pm_faults_get_offline (PmFaults *self);
gboolean       pm_faults_get_shapes_http (PmFaults *self);
gboolean       pm_faults_check_kind (const PmProfile *profile,
                                     PmFaultKind      kind,
                                     GError         **error);

gboolean       pm_faults_intercept (PmFaults          *self,
                                    SoupServerMessage *msg,
                                    const char        *path);
void           pm_faults_shape_reply (PmFaults          *self,
                                      SoupServerMessage *msg);

G_END_DECLS
