/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-bus-manager"

#include "config.h"

#include <string.h>

#include "pm-bus-device.h"
#include "pm-bus-manager.h"
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

static const struct
{
  const char *name;
  const char *type;
} known_options[] = {
  { "port", "u" },
  { "hostname", "s" },
  { "api-version", "s" },
  { "firmware", "s" },
  { "profile", "s" },
};

/**
 * pm_bus_manager_parse_add_options:
 * @options: AddDevice's options, a{sv}, as the bus delivered them
 * @out: (out caller-allocates): the options read
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Reads @options into @out; the strings point into @options.  Unknown
 * names, wrong types, names given twice and unknown API versions are
 * errors.  The hostname and firmware are not checked here: the manager
 * does that (pm_identity_check_hostname(), pm_identity_check_firmware()).
 * Needs no bus and no fleet.
 *
 * Returns: whether @options could be read
 */
gboolean
pm_bus_manager_parse_add_options (GVariant     *options,
                                  PmAddOptions *out,
                                  GError      **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GVariantIter iter;
  const char *name;
  GVariant *next;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (g_variant_is_of_type (options, G_VARIANT_TYPE_VARDICT), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  *out = (PmAddOptions) { 0, NULL, NULL, NULL };

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &next))
    {
      g_autoptr(GVariant) value = next;
      const char *type = NULL;
      gsize i;

      for (i = 0; i < G_N_ELEMENTS (known_options); i++)
        if (g_str_equal (name, known_options[i].name))
          type = known_options[i].type;
      if (type == NULL)
        {
          g_autofree char *quoted = pm_quote (name, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "unknown option '%s' (the options are port, hostname, profile, api-version and firmware)",
                       quoted);
          return FALSE;
        }
      if (!g_hash_table_add (seen, (gpointer) name))
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "option '%s' is given twice", name);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
        {
          g_autofree char *quoted = pm_quote (g_variant_get_type_string (value), -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "option '%s' has type '%s'; it must be '%s'",
                       name, quoted, type);
          return FALSE;
        }

      if (g_str_equal (name, "port"))
        {
          out->port = g_variant_get_uint32 (value);
        }
      else if (g_str_equal (name, "hostname"))
        {
          out->hostname = g_variant_get_string (value, NULL);
        }
      else if (g_str_equal (name, "firmware"))
        {
          out->firmware = g_variant_get_string (value, NULL);
        }
      else if (g_str_equal (name, "profile"))
        {
          const char *text = g_variant_get_string (value, NULL);
          const PmProfile *profile = pm_profile_lookup (text);

          if (profile == NULL)
            {
              g_autofree char *quoted = pm_quote (text, -1);
              g_autofree char *known = pm_profile_dup_names (", ");

              /* `mixed` is a way to assign profiles to a fleet, not one. */
              g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "unknown profile '%s' (a device takes one of %s)",
                           quoted, known);
              return FALSE;
            }
          if (out->profile != NULL && out->profile != profile)
            {
              g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "profile '%s' does not go with api-version '%s'",
                           profile->name, pm_api_version_to_string (out->profile->api_version));
              return FALSE;
            }
          out->profile = profile;
        }
      else
        {
          const char *text = g_variant_get_string (value, NULL);
          const PmProfile *profile;
          PmApiVersion api_version;

          if (!pm_api_version_from_string (text, &api_version))
            {
              g_autofree char *quoted = pm_quote (text, -1);

              g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "api-version '%s' is neither 'legacy' nor 'new'", quoted);
              return FALSE;
            }
          profile = pm_profile_for_api_version (api_version);
          if (out->profile != NULL && out->profile != profile)
            {
              g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "profile '%s' does not go with api-version '%s'",
                           out->profile->name, text);
              return FALSE;
            }
          out->profile = profile;
        }
    }
  return TRUE;
}

static gboolean
handle_add_device (PmDBusManager         *object,
                   GDBusMethodInvocation *invocation,
                   GVariant              *options)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *object_path = NULL;
  g_autoptr(PmDeviceSpec) spec = NULL;
  PmAddOptions add;
  PmDevice *device;

  if (!pm_bus_manager_parse_add_options (options, &add, &error))
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  /* The device is started, listed and (by PmBus, which follows the
   * fleet) exported when this returns. */
  spec = pm_device_spec_new (add.port, add.hostname, add.profile, add.firmware);
  device = pm_manager_add_device (self->manager, spec, &error);
  if (device == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  object_path = pm_bus_device_dup_object_path (pm_device_get_port (device));
  pm_dbus_manager_complete_add_device (object, invocation, object_path);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_remove_device (PmDBusManager         *object,
                      GDBusMethodInvocation *invocation,
                      const char            *object_path)
{
  PmBusManager *self = PM_BUS_MANAGER (object);
  g_autoptr(GError) error = NULL;
  PmDevice *device = NULL;
  guint port;

  if (pm_bus_device_parse_object_path (object_path, &port))
    device = pm_manager_find_device (self->manager, port, NULL);
  if (device == NULL)
    {
      g_autofree char *quoted = pm_quote (object_path, -1);

      g_dbus_method_invocation_return_error (invocation, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE,
                                             "no device at %s", quoted);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (!pm_manager_remove_device (self->manager, device, &error))
    g_dbus_method_invocation_return_gerror (invocation, error);
  else
    pm_dbus_manager_complete_remove_device (object, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The devices @paths name, or with none every device of the fleet. */
static GPtrArray *
find_devices (PmBusManager       *self,
              const char *const  *paths,
              GError            **error)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  GListModel *fleet = pm_manager_get_devices (self->manager);
  guint i;

  if (paths[0] == NULL)
    {
      for (i = 0; i < g_list_model_get_n_items (fleet); i++)
        g_ptr_array_add (devices, g_list_model_get_item (fleet, i));
      return g_steal_pointer (&devices);
    }
  for (i = 0; paths[i] != NULL; i++)
    {
      PmDevice *device = NULL;
      guint port;

      if (pm_bus_device_parse_object_path (paths[i], &port))
        device = pm_manager_find_device (self->manager, port, NULL);
      if (device == NULL)
        {
          g_autofree char *quoted = pm_quote (paths[i], -1);

          g_set_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE, "no device at %s", quoted);
          return NULL;
        }
      g_ptr_array_add (devices, g_object_ref (device));
    }
  return g_steal_pointer (&devices);
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
  g_autoptr(PmFault) fault = pm_fault_new_from_variant (kind, parameters, &error);
  g_autoptr(GPtrArray) devices = NULL;
  guint i;

  if (fault != NULL)
    devices = find_devices (self, paths, &error);
  /* All or nothing: a miner fault needs every device to have a miner. */
  for (i = 0; devices != NULL && i < devices->len; i++)
    {
      PmDevice *device = g_ptr_array_index (devices, i);

      if (pm_fault_kind_needs_miner (fault->kind) &&
          !pm_profile_is_simulated (pm_device_get_profile (device)))
        {
          g_set_error (&error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "fault '%s' acts on a simulated miner, and %s (%s) has none",
                       kind, pm_device_get_hostname (device), pm_device_get_profile (device)->name);
          g_clear_pointer (&devices, g_ptr_array_unref);
        }
    }
  if (devices == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  for (i = 0; i < devices->len; i++)
    pm_device_set_fault (g_ptr_array_index (devices, i), fault, NULL);
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
  g_autoptr(GPtrArray) devices = NULL;
  PmFaultKind parsed;
  guint i;

  if (pm_bus_device_parse_fault_kind (kind, &parsed, &error))
    devices = find_devices (self, paths, &error);
  if (devices == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  for (i = 0; i < devices->len; i++)
    pm_device_clear_fault (g_ptr_array_index (devices, i), parsed);
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
  g_autoptr(GPtrArray) devices = find_devices (self, paths, &error);
  guint i;

  if (devices == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  for (i = 0; i < devices->len; i++)
    pm_device_clear_faults (g_ptr_array_index (devices, i));
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
  g_autoptr(PmScenario) scenario = pm_scenario_new_from_data (text, strlen (text), &error);

  if (scenario == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  pm_manager_run_scenario (self->manager, scenario);
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
  pm_dbus_manager_set_logs_enabled (iface, pm_manager_get_logs_enabled (manager));
  pm_dbus_manager_set_version (iface, PACKAGE_VERSION);
  pm_dbus_manager_set_seed (iface, pm_manager_get_seed (manager));
  sync_scenario (self);
  g_signal_connect (manager, "notify::scenario-running", G_CALLBACK (on_scenario_running), self);

  return self;
}
