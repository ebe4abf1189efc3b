/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-bus-manager"

#include "config.h"

#include <string.h>

#include "pm-bus-device.h"
#include "pm-bus-manager.h"
#include "pm-control.h"
#include "pm-error.h"
#include "pm-quote.h"

/**
 * PmBusManager:
 *
 * The fleet on the bus: the org.pluto.Mock1.Manager interface of a
 * #PmManager.  AddDevice and RemoveDevice go to the manager; exporting
 * the devices it then has is #PmBus's work.
 */

struct _PmBusManager
{
  PmDBusManagerSkeleton parent_instance;

  PmManager *manager;  /* (owned) */
};

static void pm_bus_manager_iface_init (PmDBusManagerIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmBusManager, pm_bus_manager, PM_DBUS_TYPE_MANAGER_SKELETON,
                               G_IMPLEMENT_INTERFACE (PM_DBUS_TYPE_MANAGER, pm_bus_manager_iface_init))

/**
 * pm_bus_manager_parse_add_options:
 * @options: AddDevice's options, a{sv}, as the bus delivered them
 * @out: (out caller-allocates): the options read
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * pm_control_parse_add_options() for options that came over the bus.
 *
 * Returns: whether @options could be read
 */
gboolean
pm_bus_manager_parse_add_options (GVariant     *options,
                                  PmAddOptions *out,
                                  GError      **error)
{
  return pm_control_parse_add_options (options, PM_CONTROL_NONE, out, error);
}

static gboolean
handle_add_device (PmDBusManager         *object,
                   GDBusMethodInvocation *invocation,
                   GVariant              *options)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *object_path = NULL;
  PmDevice *device;

  /* The device is started, listed and (by PmBus, which follows the
   * fleet) exported when this returns. */
  device = pm_control_add_device (self->manager, options, PM_CONTROL_NONE, &error);
  if (device == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  object_path = pm_bus_device_dup_object_path (pm_device_get_port (device));
  pm_dbus_manager_complete_add_device (object, invocation, object_path);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The device at @object_path: a #PmControlFindFunc. */
static PmDevice *
find_device (PmManager  *manager,
             const char *object_path,
             GError    **error)
{
  g_autofree char *quoted = NULL;
  PmDevice *device = NULL;
  guint port;

  if (pm_bus_device_parse_object_path (object_path, &port))
    device = pm_manager_find_device (manager, port, NULL);
  if (device != NULL)
    return device;
  quoted = pm_quote (object_path, -1);
  g_set_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE, "no device at %s", quoted);
  return NULL;
}

static gboolean
handle_remove_device (PmDBusManager         *object,
                      GDBusMethodInvocation *invocation,
                      const char            *object_path)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  g_autoptr(GError) error = NULL;
  PmDevice *device = find_device (self->manager, object_path, &error);

  if (device == NULL || !pm_manager_remove_device (self->manager, device, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_manager_complete_remove_device (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_fault (PmDBusManager         *object,
                  GDBusMethodInvocation *invocation,
                  const char *const     *paths,
                  const char            *kind,
                  GVariant              *parameters)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = pm_control_set_fleet_fault (self->manager, paths, find_device,
                                                              kind, parameters, &error);

  if (devices == NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_manager_complete_set_fault (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_clear_fault (PmDBusManager         *object,
                    GDBusMethodInvocation *invocation,
                    const char *const     *paths,
                    const char            *kind)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = pm_control_clear_fleet_fault (self->manager, paths, find_device,
                                                                kind, &error);

  if (devices == NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_manager_complete_clear_fault (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_clear_faults (PmDBusManager         *object,
                     GDBusMethodInvocation *invocation,
                     const char *const     *paths)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = pm_control_clear_fleet_fault (self->manager, paths, find_device,
                                                                NULL, &error);

  if (devices == NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_manager_complete_clear_faults (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_run_scenario (PmDBusManager         *object,
                     GDBusMethodInvocation *invocation,
                     const char            *text)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  g_autoptr(GError) error = NULL;

  if (!pm_control_run_scenario (self->manager, text, strlen (text), &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_manager_complete_run_scenario (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_stop_scenario (PmDBusManager         *object,
                      GDBusMethodInvocation *invocation)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  gboolean stopped = pm_manager_stop_scenario (self->manager);

  pm_dbus_manager_complete_stop_scenario (object, invocation, stopped);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
pm_bus_manager_iface_init (PmDBusManagerIface *iface)
{
  iface->handle_add_device = handle_add_device;
  iface->handle_remove_device = handle_remove_device;
  iface->handle_set_fault = handle_set_fault;
  iface->handle_clear_fault = handle_clear_fault;
  iface->handle_clear_faults = handle_clear_faults;
  iface->handle_run_scenario = handle_run_scenario;
  iface->handle_stop_scenario = handle_stop_scenario;
}

/* Copies the manager's scenario to the interface's properties. */
static void
sync_scenario (PmBusManager *self)
{
  PmScenario *scenario = pm_manager_get_scenario (self->manager);
  const char *name = scenario != NULL ? pm_scenario_get_name (scenario) : NULL;

  pm_dbus_manager_set_scenario_running (PM_DBUS_MANAGER (self), scenario != NULL);
  pm_dbus_manager_set_scenario (PM_DBUS_MANAGER (self), name != NULL ? name : "");
}

static void
on_scenario_running (PmManager    *manager,
                     GParamSpec   *pspec,
                     PmBusManager *self)
{
  sync_scenario (self);
}

static void
pm_bus_manager_dispose (GObject *object)
{
  PmBusManager *self = PM_BUS_MANAGER (object);

  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_data (self->manager, self);
  g_clear_object (&self->manager);

  G_OBJECT_CLASS (pm_bus_manager_parent_class)->dispose (object);
}

static void
pm_bus_manager_class_init (PmBusManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_bus_manager_dispose;
}

static void
pm_bus_manager_init (PmBusManager *self)
{
}

/**
 * pm_bus_manager_new:
 * @manager: a started #PmManager
 *
 * Returns: (transfer full): the manager's D-Bus interface, not exported
 */
PmBusManager *
pm_bus_manager_new (PmManager *manager)
{
  PmBusManager *self;
  PmDBusManager *iface;

  g_return_val_if_fail (PM_IS_MANAGER (manager), NULL);

  self = g_object_new (PM_TYPE_BUS_MANAGER, NULL);
  self->manager = g_object_ref (manager);

  iface = PM_DBUS_MANAGER (self);
  pm_dbus_manager_set_listing_port (iface, pm_manager_get_listing_port (manager));
  pm_dbus_manager_set_bind_address (iface, pm_manager_get_bind_address (manager));
  pm_dbus_manager_set_logs_enabled (iface, pm_manager_get_logs_enabled (manager));
  pm_dbus_manager_set_version (iface, PACKAGE_VERSION);
  pm_dbus_manager_set_seed (iface, pm_manager_get_seed (manager));
  sync_scenario (self);
  g_signal_connect (manager, "notify::scenario-running", G_CALLBACK (on_scenario_running), self);

  return self;
}
