/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-device"

#include "config.h"

#include "pm-device-private.h"
#include "pm-error.h"

/*
 * The faults of a #PmDevice: what a #PmFaults asks of its device (going
 * off the network and back, restarting, dropping or silencing its
 * WebSockets, faults of its miner), and the device's fault API.
 */

static void
fault_set_offline (gpointer device,
                   gboolean offline)
{
  PmDevice *self = PM_DEVICE (device);
  g_autoptr(GError) error = NULL;

  if (offline)
    {
      if (self->listener == NULL)
        return;
      pm_streams_close_all (self->streams, FALSE);
      pm_device_close_port (self, TRUE);
      g_message ("%s: off the network (a fault)", self->hostname);
      return;
    }
  /* A device that is rebooting comes back when it has booted; a stopped
   * one not at all. */
  if (self->listener != NULL || !self->started ||
      (self->restarting && pm_device_is_simulated (self)))
    return;
  if (!pm_device_open_port (self, &error))
    {
      g_warning ("%s: could not come back on the network: %s", self->hostname, error->message);
      return;
    }
  g_message ("%s: back on the network", self->hostname);
}

static void
fault_restart (gpointer device)
{
  pm_device_restart (PM_DEVICE (device), NULL);
}

static void
fault_drop_websockets (gpointer device,
                       gboolean clean)
{
  pm_streams_close_all (PM_DEVICE (device)->streams, clean);
}

static void
fault_silence_websockets (gpointer device,
                          gboolean silent)
{
  pm_streams_set_silent (PM_DEVICE (device)->streams, silent);
}

static void
fault_miner (gpointer       device,
             PmFaultKind    kind,
             const PmFault *fault)
{
  PmDevice *self = PM_DEVICE (device);

  if (self->sim == NULL)
    return;
  if (fault != NULL)
    pm_sim_set_fault (self->sim, fault);
  else
    pm_sim_clear_fault (self->sim, kind);
}

static const PmFaultsDeviceFuncs fault_funcs = {
  .set_offline = fault_set_offline,
  .restart = fault_restart,
  .drop_websockets = fault_drop_websockets,
  .silence_websockets = fault_silence_websockets,
  .miner_fault = fault_miner,
};

/**
 * pm_device_check_fault:
 * @self: a #PmDevice
 * @fault: a checked fault (see pm_fault_new_from_variant())
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Checks @fault against the device: a miner fault needs a simulated
 * miner, and an asic-failure must name an ASIC and a hash domain the
 * board of its profile has.
 *
 * Returns: %FALSE if the device cannot take @fault
 */
gboolean
pm_device_check_fault (PmDevice      *self,
                       const PmFault *fault,
                       GError       **error)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);
  g_return_val_if_fail (fault != NULL, FALSE);

  if (!pm_faults_check_kind (self->profile, fault->kind, error))
    return FALSE;
  /* A Pluto device's board only lends its numbers; it has no ASIC to
   * fail, which the check above has said. */
  if (fault->kind != PM_FAULT_ASIC_FAILURE || !pm_device_is_simulated (self))
    return TRUE;
  if (!pm_board_check_chip (self->profile->board, fault->asic, fault->domain, error))
    {
      g_prefix_error (error, "fault %s: ", pm_fault_kind_to_string (fault->kind));
      return FALSE;
    }
  return TRUE;
}

/**
 * pm_device_set_fault:
 * @self: a #PmDevice
 * @fault: a checked fault (see pm_fault_new_from_variant()); copied, and
 *   one of its kind replaced
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Returns: %FALSE if the device cannot take that fault; nothing changes
 */
gboolean
pm_device_set_fault (PmDevice      *self,
                     const PmFault *fault,
                     GError       **error)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);

  /* Beyond the board, the miner would fail a part it has instead. */
  if (!pm_device_check_fault (self, fault, error))
    return FALSE;
  if (self->faults == NULL)
    self->faults = pm_faults_new (&fault_funcs, self, self->profile, self->seed, self->port);
  if (!pm_faults_set (self->faults, fault, error))
    return FALSE;
  g_message ("%s: fault %s set", self->hostname, pm_fault_kind_to_string (fault->kind));
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_FAULTS]);
  return TRUE;
}

/**
 * pm_device_clear_fault:
 * @self: a #PmDevice
 * @kind: a kind of fault
 *
 * Returns: whether one was active
 */
gboolean
pm_device_clear_fault (PmDevice   *self,
                       PmFaultKind kind)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);

  if (self->faults == NULL || !pm_faults_clear (self->faults, kind))
    return FALSE;
  g_message ("%s: fault %s cleared", self->hostname, pm_fault_kind_to_string (kind));
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_FAULTS]);
  return TRUE;
}

/**
 * pm_device_clear_faults:
 * @self: a #PmDevice
 *
 * Lifts every fault.
 */
void
pm_device_clear_faults (PmDevice *self)
{
  g_return_if_fail (PM_IS_DEVICE (self));

  if (self->faults == NULL || pm_faults_get_n_active (self->faults) == 0)
    return;
  pm_faults_clear_all (self->faults);
  g_message ("%s: faults cleared", self->hostname);
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_FAULTS]);
}
