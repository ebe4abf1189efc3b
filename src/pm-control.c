/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-control"

#include "config.h"

#include <string.h>

#include "pm-control.h"
#include "pm-error.h"
#include "pm-parse.h"
#include "pm-quote.h"

/*
 * What control does beyond what #PmManager and #PmDevice offer: reading
 * a client's options, naming devices, faults on many devices at once.
 * The methods of the D-Bus objects (#PmBusManager, #PmBusDevice) and the
 * endpoints of control over HTTP call these (and the manager and device
 * themselves for the rest), so that one input gives one answer, the same
 * error (code and message) included.  Each call either does all it is
 * asked or nothing, and says why in a #PmError.
 */

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
 * pm_control_parse_add_options:
 * @options: AddDevice's options, a{sv}, as the bus delivered them or as
 *   JSON gave them
 * @flags: where they came from
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
pm_control_parse_add_options (GVariant       *options,
                              PmControlFlags  flags,
                              PmAddOptions   *out,
                              GError        **error)
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
      /* JSON has one kind of integer: a port in range is a port. */
      if ((flags & PM_CONTROL_JSON) && g_str_equal (name, "port") &&
          g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
        {
          gint64 port = g_variant_get_int64 (value);

          if (port < 0 || port > 65535)
            {
              g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "port %" G_GINT64_FORMAT " is out of range (0–65535)", port);
              return FALSE;
            }
          out->port = (guint) port;
          continue;
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

/**
 * pm_control_add_device:
 * @manager: the fleet
 * @options: AddDevice's options (see pm_control_parse_add_options())
 * @flags: where they came from
 * @error: return location for a #PmError
 *
 * Starts a device.  When this returns it is listening and listed.
 *
 * Returns: (transfer none): the device, or %NULL with @error set
 */
PmDevice *
pm_control_add_device (PmManager      *manager,
                       GVariant       *options,
                       PmControlFlags  flags,
                       GError        **error)
{
  g_autoptr(PmDeviceSpec) spec = NULL;
  PmAddOptions add;

  if (!pm_control_parse_add_options (options, flags, &add, error))
    return NULL;
  spec = pm_device_spec_new (add.port, add.hostname, add.profile, add.firmware);
  return pm_manager_add_device (manager, spec, error);
}

/**
 * pm_control_find_device:
 * @manager: the fleet
 * @id: a port, all digits, or else a hostname in any case
 * @error: return location for a %PM_ERROR_NO_SUCH_DEVICE
 *
 * Finds a device as plutomockctl names it.  A #PmControlFindFunc.
 *
 * Returns: (transfer none) (nullable): the device
 */
PmDevice *
pm_control_find_device (PmManager  *manager,
                        const char *id,
                        GError    **error)
{
  g_autofree char *quoted = NULL;
  PmDevice *device = NULL;
  guint64 port;

  if (pm_parse_is_all_digits (id))
    {
      /* A number too large for a port matches no device. */
      if (g_ascii_string_to_unsigned (id, 10, 1, 65535, &port, NULL))
        device = pm_manager_find_device (manager, (guint) port, NULL);
      if (device != NULL)
        return device;
      quoted = pm_quote (id, -1);
      g_set_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE, "no device with port %s", quoted);
      return NULL;
    }
  device = pm_manager_find_device (manager, 0, id);
  if (device != NULL)
    return device;
  quoted = pm_quote (id, -1);
  g_set_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE, "no device named '%s'", quoted);
  return NULL;
}

/**
 * pm_control_find_devices:
 * @manager: the fleet
 * @names: the devices, as @find takes them; none for every device
 * @find: how to find one
 * @error: return location for a %PM_ERROR_NO_SUCH_DEVICE
 *
 * Returns: (transfer full) (element-type PmDevice): the devices, in the
 *   order named, or the whole fleet in its order; %NULL if one name
 *   matches no device
 */
GPtrArray *
pm_control_find_devices (PmManager         *manager,
                         const char *const *names,
                         PmControlFindFunc  find,
                         GError           **error)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  GListModel *fleet = pm_manager_get_devices (manager);
  guint i;

  if (names == NULL || names[0] == NULL)
    {
      for (i = 0; i < g_list_model_get_n_items (fleet); i++)
        g_ptr_array_add (devices, g_list_model_get_item (fleet, i));
      return g_steal_pointer (&devices);
    }
  for (i = 0; names[i] != NULL; i++)
    {
      PmDevice *device = find (manager, names[i], error);

      if (device == NULL)
        return NULL;
      g_ptr_array_add (devices, g_object_ref (device));
    }
  return g_steal_pointer (&devices);
}

/**
 * pm_control_get_info:
 * @device: a device
 * @error: return location for a %PM_ERROR_RESTARTING
 *
 * Returns: (transfer full): what GET /api/system/info answers now, or
 *   %NULL during a restart, when that answers 503
 */
char *
pm_control_get_info (PmDevice *device,
                     GError  **error)
{
  if (pm_device_get_restarting (device))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_RESTARTING,
                   "%s is restarting", pm_device_get_hostname (device));
      return NULL;
    }
  return pm_device_dup_info (device);
}

/**
 * pm_control_parse_fault_kind:
 * @name: a kind of fault as a client names it
 * @out_kind: (out): the kind
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 */
gboolean
pm_control_parse_fault_kind (const char  *name,
                             PmFaultKind *out_kind,
                             GError     **error)
{
  g_autofree char *quoted = NULL;

  if (pm_fault_kind_from_string (name, out_kind))
    return TRUE;
  quoted = pm_quote (name, -1);
  g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT, "unknown fault '%s'", quoted);
  return FALSE;
}

/**
 * pm_control_set_fault:
 * @device: a device
 * @kind: a kind of fault
 * @parameters: its parameters, a{sv}
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Imposes the fault, replacing one of the same kind.
 */
gboolean
pm_control_set_fault (PmDevice   *device,
                      const char *kind,
                      GVariant   *parameters,
                      GError    **error)
{
  g_autoptr(PmFault) fault = pm_fault_new_from_variant (kind, parameters, error);

  return fault != NULL && pm_device_set_fault (device, fault, error);
}

/**
 * pm_control_clear_fault:
 * @device: a device
 * @kind: a kind of fault
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Lifts the fault of that kind, if @device has one.
 */
gboolean
pm_control_clear_fault (PmDevice   *device,
                        const char *kind,
                        GError    **error)
{
  PmFaultKind parsed;

  if (!pm_control_parse_fault_kind (kind, &parsed, error))
    return FALSE;
  pm_device_clear_fault (device, parsed);
  return TRUE;
}

/**
 * pm_control_set_fleet_fault:
 * @manager: the fleet
 * @names: the devices (see pm_control_find_devices()); none for all
 * @find: how to find one
 * @kind: a kind of fault
 * @parameters: its parameters, a{sv}
 * @error: return location for a #PmError
 *
 * Imposes the fault on every device named, or on none: a miner fault
 * needs every device to have a miner, an asic-failure every device's
 * board to have that ASIC and hash domain.
 *
 * Returns: (transfer full) (element-type PmDevice): the devices, or %NULL
 *   with @error set and nothing changed
 */
GPtrArray *
pm_control_set_fleet_fault (PmManager         *manager,
                            const char *const *names,
                            PmControlFindFunc  find,
                            const char        *kind,
                            GVariant          *parameters,
                            GError           **error)
{
  g_autoptr(PmFault) fault = pm_fault_new_from_variant (kind, parameters, error);
  g_autoptr(GPtrArray) devices = NULL;
  guint i;

  if (fault == NULL)
    return NULL;
  devices = pm_control_find_devices (manager, names, find, error);
  if (devices == NULL)
    return NULL;
  for (i = 0; i < devices->len; i++)
    {
      PmDevice *device = g_ptr_array_index (devices, i);

      if (!pm_device_check_fault (device, fault, error))
        {
          g_prefix_error (error, "%s: ", pm_device_get_hostname (device));
          return NULL;
        }
    }
  for (i = 0; i < devices->len; i++)
    pm_device_set_fault (g_ptr_array_index (devices, i), fault, NULL);
  return g_steal_pointer (&devices);
}

/**
 * pm_control_clear_fleet_fault:
 * @manager: the fleet
 * @names: the devices (see pm_control_find_devices()); none for all
 * @find: how to find one
 * @kind: (nullable): a kind of fault, or %NULL for every kind
 * @error: return location for a #PmError
 *
 * Lifts the fault of that kind, or every fault, on every device named.
 *
 * Returns: (transfer full) (element-type PmDevice): the devices, or %NULL
 *   with @error set and nothing changed
 */
GPtrArray *
pm_control_clear_fleet_fault (PmManager         *manager,
                              const char *const *names,
                              PmControlFindFunc  find,
                              const char        *kind,
                              GError           **error)
{
  g_autoptr(GPtrArray) devices = NULL;
  PmFaultKind parsed = PM_FAULT_N_KINDS;
  guint i;

  if (kind != NULL && !pm_control_parse_fault_kind (kind, &parsed, error))
    return NULL;
  devices = pm_control_find_devices (manager, names, find, error);
  if (devices == NULL)
    return NULL;
  for (i = 0; i < devices->len; i++)
    {
      if (kind != NULL)
        pm_device_clear_fault (g_ptr_array_index (devices, i), parsed);
      else
        pm_device_clear_faults (g_ptr_array_index (devices, i));
    }
  return g_steal_pointer (&devices);
}

/**
 * pm_control_run_scenario:
 * @manager: the fleet
 * @text: (array length=length): the text of a scenario file
 * @length: its length in bytes
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Starts the scenario, stopping one that runs; on error the running one
 * runs on.
 */
gboolean
pm_control_run_scenario (PmManager  *manager,
                         const char *text,
                         gsize       length,
                         GError    **error)
{
  g_autoptr(PmScenario) scenario = pm_scenario_new_from_data (text, length, error);

  if (scenario == NULL)
    return FALSE;
  pm_manager_run_scenario (manager, scenario);
  return TRUE;
}
