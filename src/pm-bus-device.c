/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-bus-device"

#include "config.h"

#include <string.h>

#include "pm-bus-device.h"
#include "pm-control.h"
#include "pm-error.h"
#include "pm-names.h"
#include "pm-quote.h"

/**
 * PmBusDevice:
 *
 * One device on the bus: the org.pluto.Mock1.Device interface of a
 * #PmDevice.  Its properties follow the device's (the skeleton emits
 * PropertiesChanged), and its methods do what the device's HTTP
 * endpoints do, with the same errors.
 */

struct _PmBusDevice
{
  PmDBusDeviceSkeleton parent_instance;

  PmDevice *device;  /* (owned) */
};

static void pm_bus_device_iface_init (PmDBusDeviceIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmBusDevice, pm_bus_device, PM_DBUS_TYPE_DEVICE_SKELETON,
                               G_IMPLEMENT_INTERFACE (PM_DBUS_TYPE_DEVICE, pm_bus_device_iface_init))

static gboolean
handle_restart (PmDBusDevice          *object,
                GDBusMethodInvocation *invocation)
{
  PmBusDevice *self = PM_BUS_DEVICE (object);
  g_autoptr(GError) error = NULL;

  if (!pm_device_restart (self->device, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_device_complete_restart (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_info (PmDBusDevice          *object,
                 GDBusMethodInvocation *invocation)
{
  PmBusDevice *self = PM_BUS_DEVICE (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *info = pm_control_get_info (self->device, &error);

  /* As GET /api/system/info, which answers 503 during a restart. */
  if (info == NULL)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_device_complete_get_info (object, invocation, info);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_update (PmDBusDevice          *object,
               GDBusMethodInvocation *invocation,
               const char            *json)
{
  PmBusDevice *self = PM_BUS_DEVICE (object);
  g_autoptr(GError) error = NULL;

  if (!pm_device_update (self->device, json, strlen (json), &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_device_complete_update (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_fault (PmDBusDevice          *object,
                  GDBusMethodInvocation *invocation,
                  const char            *kind,
                  GVariant              *parameters)
{
  PmBusDevice *self = PM_BUS_DEVICE (object);
  g_autoptr(GError) error = NULL;

  if (!pm_control_set_fault (self->device, kind, parameters, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_device_complete_set_fault (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_clear_fault (PmDBusDevice          *object,
                    GDBusMethodInvocation *invocation,
                    const char            *kind)
{
  PmBusDevice *self = PM_BUS_DEVICE (object);
  g_autoptr(GError) error = NULL;

  if (!pm_control_clear_fault (self->device, kind, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_device_complete_clear_fault (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_clear_faults (PmDBusDevice          *object,
                     GDBusMethodInvocation *invocation)
{
  PmBusDevice *self = PM_BUS_DEVICE (object);

  pm_device_clear_faults (self->device);
  pm_dbus_device_complete_clear_faults (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
pm_bus_device_iface_init (PmDBusDeviceIface *iface)
{
  iface->handle_restart = handle_restart;
  iface->handle_get_info = handle_get_info;
  iface->handle_update = handle_update;
  iface->handle_set_fault = handle_set_fault;
  iface->handle_clear_fault = handle_clear_fault;
  iface->handle_clear_faults = handle_clear_faults;
}

/* Copies the device's state to the interface's properties; the skeleton
 * emits PropertiesChanged for those that changed.  (One handler rather
 * than a GBinding per property: that saves about 4 kB per device.) */
static void
sync_properties (PmBusDevice *self)
{
  PmDBusDevice *iface = PM_DBUS_DEVICE (self);
  g_autofree char *url = pm_device_dup_url (self->device);

  g_autoptr(GVariant) faults = pm_device_dup_faults (self->device);

  pm_dbus_device_set_port (iface, pm_device_get_port (self->device));
  pm_dbus_device_set_faults (iface, faults);
  pm_dbus_device_set_hostname (iface, pm_device_get_hostname (self->device));
  pm_dbus_device_set_profile (iface, pm_device_get_profile (self->device)->name);
  pm_dbus_device_set_api_version (iface, pm_profile_get_api_version_name (pm_device_get_profile (self->device)));
  pm_dbus_device_set_firmware (iface, pm_device_get_firmware (self->device));
  pm_dbus_device_set_restarting (iface, pm_device_get_restarting (self->device));
  pm_dbus_device_set_start_time (iface, pm_device_get_start_time (self->device));
  pm_dbus_device_set_url (iface, url);
}

static void
pm_bus_device_dispose (GObject *object)
{
  PmBusDevice *self = PM_BUS_DEVICE (object);

  g_clear_object (&self->device);

  G_OBJECT_CLASS (pm_bus_device_parent_class)->dispose (object);
}

static void
pm_bus_device_class_init (PmBusDeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_bus_device_dispose;
}

static void
pm_bus_device_init (PmBusDevice *self)
{
}

/**
 * pm_bus_device_new:
 * @device: a started #PmDevice
 *
 * Returns: (transfer full): the device's D-Bus interface, not exported
 */
PmBusDevice *
pm_bus_device_new (PmDevice *device)
{
  PmBusDevice *self;

  g_return_val_if_fail (PM_IS_DEVICE (device), NULL);

  self = g_object_new (PM_TYPE_BUS_DEVICE, NULL);
  self->device = g_object_ref (device);
  sync_properties (self);
  g_signal_connect_object (device, "notify", G_CALLBACK (sync_properties), self, G_CONNECT_SWAPPED);

  return self;
}

/**
 * pm_bus_device_get_device:
 * @self: a #PmBusDevice
 *
 * Returns: (transfer none): the device
 */
PmDevice *
pm_bus_device_get_device (PmBusDevice *self)
{
  g_return_val_if_fail (PM_IS_BUS_DEVICE (self), NULL);
  return self->device;
}

/**
 * pm_bus_device_dup_object_path:
 * @port: a device's port
 *
 * Returns: (transfer full): the object path of the device on @port
 */
char *
pm_bus_device_dup_object_path (guint port)
{
  return g_strdup_printf (PM_DBUS_DEVICE_PATH_PREFIX "%u", port);
}

/**
 * pm_bus_device_parse_object_path:
 * @object_path: an object path
 * @out_port: (out): the port it names
 *
 * Returns: whether @object_path is a device path, /org/pluto/Mock1/Device/PORT
 */
gboolean
pm_bus_device_parse_object_path (const char *object_path,
                                 guint      *out_port)
{
  g_autofree char *canonical = NULL;
  guint64 port;

  if (!g_str_has_prefix (object_path, PM_DBUS_DEVICE_PATH_PREFIX) ||
      !g_ascii_string_to_unsigned (object_path + strlen (PM_DBUS_DEVICE_PATH_PREFIX), 10,
                                   1, 65535, &port, NULL))
    return FALSE;
  /* One path per device: no leading zeros. */
  canonical = pm_bus_device_dup_object_path ((guint) port);
  if (strcmp (canonical, object_path) != 0)
    return FALSE;
  *out_port = (guint) port;
  return TRUE;
}
