/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "plutomockctl"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "ctl-client.h"
#include "pm-parse.h"
#include "pm-dbus-generated.h"
#include "pm-error.h"
#include "pm-names.h"
#include "pm-quote.h"

/*
 * plutomockctl over D-Bus: org.pluto.Mock1 on the session bus, through
 * the generated proxies; the bus starts the daemon if it is not running.
 */

typedef struct
{
  CtlClient           parent;
  GDBusObjectManager *objects;
  PmDBusManager      *manager;
} CtlDBusClient;

static void
dbus_client_free (CtlClient *client)
{
  CtlDBusClient *self = (CtlDBusClient *) client;

  g_clear_object (&self->manager);
  g_clear_object (&self->objects);
  g_free (self);
}

static PmDBusManager *
get_manager (CtlDBusClient *self,
             GError       **error)
{
  g_autoptr(PmDBusObject) object = NULL;

  if (self->manager != NULL)
    return self->manager;
  object = PM_DBUS_OBJECT (g_dbus_object_manager_get_object (self->objects, PM_DBUS_MANAGER_PATH));
  if (object != NULL)
    self->manager = pm_dbus_object_get_manager (object);
  if (self->manager == NULL)
    g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                 _("plutomock has no manager object at %s"), PM_DBUS_MANAGER_PATH);
  return self->manager;
}

static int
compare_ports (gconstpointer a,
               gconstpointer b)
{
  guint port_a = pm_dbus_device_get_port (*(PmDBusDevice *const *) a);
  guint port_b = pm_dbus_device_get_port (*(PmDBusDevice *const *) b);

  return (port_a > port_b) - (port_a < port_b);
}

/* Returns: (transfer full) (element-type PmDBusDevice): the devices,
 * sorted by port */
static GPtrArray *
list_proxies (CtlDBusClient *self)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
  GList *list = g_dbus_object_manager_get_objects (self->objects);
  GList *l;

  for (l = list; l != NULL; l = l->next)
    {
      PmDBusDevice *device = pm_dbus_object_get_device (PM_DBUS_OBJECT (l->data));

      if (device != NULL)
        g_ptr_array_add (devices, device);
    }
  g_list_free_full (list, g_object_unref);

  g_ptr_array_sort (devices, compare_ports);
  return devices;
}

/* The device's Faults, a{sa{sv}}: an empty dictionary if it has none or
 * the daemon did not say. */
static GVariant *
dup_faults (PmDBusDevice *device)
{
  GVariant *faults = pm_dbus_device_dup_faults (device);

  if (faults == NULL || !g_variant_is_of_type (faults, G_VARIANT_TYPE ("a{sa{sv}}")))
    {
      g_clear_pointer (&faults, g_variant_unref);
      faults = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sa{sv}}"), NULL, 0));
    }
  return faults;
}

/* A string property the daemon left unset reads as NULL. */
static const char *
nonnull (const char *text)
{
  return text != NULL ? text : "";
}

/* Returns: (transfer full): the device record of @device */
static JsonObject *
device_to_json (PmDBusDevice *device)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(GVariant) faults = dup_faults (device);

  json_object_set_int_member (object, "port", pm_dbus_device_get_port (device));
  json_object_set_string_member (object, "hostname", nonnull (pm_dbus_device_get_hostname (device)));
  json_object_set_string_member (object, "profile", nonnull (pm_dbus_device_get_profile (device)));
  /* "" for the profiles other than pluto-*, as on the bus. */
  json_object_set_string_member (object, "apiVersion", nonnull (pm_dbus_device_get_api_version (device)));
  json_object_set_string_member (object, "firmware", nonnull (pm_dbus_device_get_firmware (device)));
  json_object_set_string_member (object, "state",
                                 pm_dbus_device_get_restarting (device) ? "restarting" : "running");
  json_object_set_int_member (object, "startTime", pm_dbus_device_get_start_time (device));
  json_object_set_string_member (object, "url", nonnull (pm_dbus_device_get_url (device)));
  /* Each kind's parameters, numbers as numbers. */
  json_object_set_member (object, "faults", json_gvariant_serialize (faults));
  return g_steal_pointer (&object);
}

static GPtrArray *
dbus_list_devices (CtlClient *client,
                   GError   **error)
{
  g_autoptr(GPtrArray) proxies = list_proxies ((CtlDBusClient *) client);
  GPtrArray *devices = g_ptr_array_new_full (proxies->len, (GDestroyNotify) json_object_unref);
  guint i;

  for (i = 0; i < proxies->len; i++)
    g_ptr_array_add (devices, device_to_json (g_ptr_array_index (proxies, i)));
  return devices;
}

/* Finds the proxy of the device @which names: all digits is a port,
 * anything else a hostname, in any case. */
static PmDBusDevice *
find_proxy (CtlDBusClient *self,
            const char    *which,
            GError       **error)
{
  g_autoptr(GPtrArray) devices = list_proxies (self);
  gboolean by_port = pm_parse_is_all_digits (which);
  g_autofree char *quoted = NULL;
  guint64 port = 0;
  guint i;

  /* A number too large for a port matches no device. */
  if (by_port && !g_ascii_string_to_unsigned (which, 10, 1, 65535, &port, NULL))
    port = 0;

  for (i = 0; i < devices->len; i++)
    {
      PmDBusDevice *device = g_ptr_array_index (devices, i);

      if (by_port ? pm_dbus_device_get_port (device) == port
                  : g_ascii_strcasecmp (nonnull (pm_dbus_device_get_hostname (device)), which) == 0)
        return g_object_ref (device);
    }

  quoted = pm_quote (which, -1);
  if (by_port)
    g_set_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE,
                 _("no device with port %s"), quoted);
  else
    g_set_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE,
                 _("no device named '%s'"), quoted);
  return NULL;
}

/* The proxy of a device get_device() returned, found again by its port. */
static PmDBusDevice *
proxy_of (CtlDBusClient *self,
          JsonObject    *device,
          GError       **error)
{
  g_autofree char *port = g_strdup_printf ("%" G_GINT64_FORMAT,
                                           json_object_get_int_member_with_default (device, "port", 0));

  return find_proxy (self, port, error);
}

static JsonObject *
dbus_get_device (CtlClient  *client,
                 const char *which,
                 GError    **error)
{
  g_autoptr(PmDBusDevice) proxy = find_proxy ((CtlDBusClient *) client, which, error);

  return proxy != NULL ? device_to_json (proxy) : NULL;
}

static JsonObject *
dbus_add_device (CtlClient *client,
                 GVariant  *options,
                 GError   **error)
{
  CtlDBusClient *self = (CtlDBusClient *) client;
  PmDBusManager *manager = get_manager (self, error);
  g_autoptr(PmDBusDevice) device = NULL;
  g_autofree char *object_path = NULL;

  if (manager == NULL)
    return NULL;
  if (!pm_dbus_manager_call_add_device_sync (manager, options, G_DBUS_CALL_FLAGS_NONE, -1,
                                             &object_path, NULL, error))
    return NULL;

  /* The object manager hears of the device only on the main loop: ask the
   * device itself. */
  device = pm_dbus_device_proxy_new_sync (g_dbus_object_manager_client_get_connection (G_DBUS_OBJECT_MANAGER_CLIENT (self->objects)),
                                          G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                          PM_DBUS_NAME, object_path, NULL, error);
  return device != NULL ? device_to_json (device) : NULL;
}

static gboolean
dbus_remove_device (CtlClient  *client,
                    JsonObject *device,
                    GError    **error)
{
  CtlDBusClient *self = (CtlDBusClient *) client;
  PmDBusManager *manager = get_manager (self, error);
  g_autoptr(PmDBusDevice) proxy = NULL;

  if (manager == NULL)
    return FALSE;
  proxy = proxy_of (self, device, error);
  return proxy != NULL &&
         pm_dbus_manager_call_remove_device_sync (manager, g_dbus_proxy_get_object_path (G_DBUS_PROXY (proxy)),
                                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
}

static gboolean
dbus_restart (CtlClient  *client,
              JsonObject *device,
              GError    **error)
{
  g_autoptr(PmDBusDevice) proxy = proxy_of ((CtlDBusClient *) client, device, error);

  return proxy != NULL &&
         pm_dbus_device_call_restart_sync (proxy, G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
}

static char *
dbus_get_info (CtlClient  *client,
               JsonObject *device,
               GError    **error)
{
  g_autoptr(PmDBusDevice) proxy = proxy_of ((CtlDBusClient *) client, device, error);
  char *json = NULL;

  if (proxy == NULL ||
      !pm_dbus_device_call_get_info_sync (proxy, G_DBUS_CALL_FLAGS_NONE, -1, &json, NULL, error))
    return NULL;
  return json;
}

static gboolean
dbus_update (CtlClient  *client,
             JsonObject *device,
             const char *json,
             GError    **error)
{
  g_autoptr(PmDBusDevice) proxy = proxy_of ((CtlDBusClient *) client, device, error);

  return proxy != NULL &&
         pm_dbus_device_call_update_sync (proxy, json, G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
}

static gboolean
dbus_set_fault (CtlClient  *client,
                JsonObject *device,
                const char *kind,
                GVariant   *parameters,
                GError    **error)
{
  CtlDBusClient *self = (CtlDBusClient *) client;
  const char *const every_device[] = { NULL };
  g_autoptr(PmDBusDevice) proxy = NULL;
  PmDBusManager *manager;

  if (device != NULL)
    {
      proxy = proxy_of (self, device, error);
      return proxy != NULL &&
             pm_dbus_device_call_set_fault_sync (proxy, kind, parameters,
                                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
    }
  manager = get_manager (self, error);
  return manager != NULL &&
         pm_dbus_manager_call_set_fault_sync (manager, every_device, kind, parameters,
                                              G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
}

static gboolean
dbus_clear_fault (CtlClient  *client,
                  JsonObject *device,
                  const char *kind,
                  GError    **error)
{
  CtlDBusClient *self = (CtlDBusClient *) client;
  const char *const every_device[] = { NULL };
  g_autoptr(PmDBusDevice) proxy = NULL;
  PmDBusManager *manager;

  if (device != NULL)
    {
      proxy = proxy_of (self, device, error);
      if (proxy == NULL)
        return FALSE;
      if (kind != NULL)
        return pm_dbus_device_call_clear_fault_sync (proxy, kind, G_DBUS_CALL_FLAGS_NONE, -1,
                                                     NULL, error);
      return pm_dbus_device_call_clear_faults_sync (proxy, G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
    }
  manager = get_manager (self, error);
  if (manager == NULL)
    return FALSE;
  if (kind != NULL)
    return pm_dbus_manager_call_clear_fault_sync (manager, every_device, kind,
                                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
  return pm_dbus_manager_call_clear_faults_sync (manager, every_device,
                                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
}

/* Status from the Manager's properties and the devices; the bus does not
 * say who may control the daemon over HTTP, so no "controlAllow". */
static JsonObject *
dbus_get_status (CtlClient *client,
                 GError   **error)
{
  CtlDBusClient *self = (CtlDBusClient *) client;
  PmDBusManager *manager = get_manager (self, error);
  g_autoptr(GPtrArray) devices = NULL;

  if (manager == NULL)
    return NULL;
  devices = dbus_list_devices (client, error);
  return ctl_status_new (pm_dbus_manager_get_version (manager),
                         pm_dbus_manager_get_seed (manager),
                         pm_dbus_manager_get_listing_port (manager),
                         pm_dbus_manager_get_bind_address (manager),
                         pm_dbus_manager_get_logs_enabled (manager),
                         devices,
                         pm_dbus_manager_get_scenario_running (manager),
                         pm_dbus_manager_get_scenario (manager));
}

static gboolean
dbus_run_scenario (CtlClient  *client,
                   const char *text,
                   GError    **error)
{
  PmDBusManager *manager = get_manager ((CtlDBusClient *) client, error);

  return manager != NULL &&
         pm_dbus_manager_call_run_scenario_sync (manager, text, G_DBUS_CALL_FLAGS_NONE, -1,
                                                 NULL, error);
}

static gboolean
dbus_stop_scenario (CtlClient *client,
                    gboolean  *out_stopped,
                    GError   **error)
{
  PmDBusManager *manager = get_manager ((CtlDBusClient *) client, error);

  return manager != NULL &&
         pm_dbus_manager_call_stop_scenario_sync (manager, G_DBUS_CALL_FLAGS_NONE, -1,
                                                  out_stopped, NULL, error);
}

static const CtlClientClass dbus_client_class = {
  dbus_client_free,
  dbus_list_devices,
  dbus_get_device,
  dbus_add_device,
  dbus_remove_device,
  dbus_restart,
  dbus_get_info,
  dbus_update,
  dbus_set_fault,
  dbus_clear_fault,
  dbus_get_status,
  dbus_run_scenario,
  dbus_stop_scenario,
};

/**
 * ctl_dbus_client_new:
 *
 * Connects to the session bus and reads the daemon's objects, the bus
 * starting the daemon if need be.
 *
 * Returns: (transfer full): the client, or %NULL with CTL_ERROR_NO_BUS
 *   if there is no bus or no daemon on it
 */
CtlClient *
ctl_dbus_client_new (GError **error)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autofree char *owner = NULL;
  g_autoptr(GError) local_error = NULL;
  CtlDBusClient *self;

  connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &local_error);
  if (connection == NULL)
    {
      g_autofree char *reason = ctl_lowercase_first (local_error->message);

      g_set_error (error, CTL_ERROR, CTL_ERROR_NO_BUS,
                   _("cannot connect to the session bus: %s"), reason);
      return NULL;
    }

  objects = pm_dbus_object_manager_client_new_sync (connection,
                                                    G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                    PM_DBUS_NAME, PM_DBUS_PATH,
                                                    NULL, &local_error);
  if (objects == NULL)
    {
      g_autofree char *reason = NULL;

      g_dbus_error_strip_remote_error (local_error);
      reason = ctl_lowercase_first (local_error->message);
      g_set_error (error, CTL_ERROR, CTL_ERROR_NO_BUS,
                   _("cannot reach plutomock (%s) on the session bus: %s"),
                   PM_DBUS_NAME, reason);
      return NULL;
    }

  /* No owner: the bus could not start the daemon (it has no service
   * file for it, say). */
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (objects));
  if (owner == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_NO_BUS,
                   _("plutomock is not running, and the session bus could not start it (nobody owns %s)"),
                   PM_DBUS_NAME);
      return NULL;
    }

  self = g_new0 (CtlDBusClient, 1);
  self->parent.klass = &dbus_client_class;
  self->objects = g_steal_pointer (&objects);
  return &self->parent;
}
