/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-bus"

#include "config.h"

#include <glib/gi18n.h>

#include "pm-bus-device.h"
#include "pm-bus-manager.h"
#include "pm-bus.h"
#include "pm-error.h"
#include "pm-names.h"

/**
 * PmBus:
 *
 * plutomock on the session bus: the connection, the name org.pluto.Mock1,
 * and the object tree under /org/pluto/Mock1, which follows the fleet
 * (a device added or removed in any way is exported or unexported with
 * InterfacesAdded or InterfacesRemoved).
 *
 * The start-up order keeps clients from seeing a half-built tree:
 * pm_bus_connect(), pm_bus_claim(), starting the fleet, then
 * pm_bus_export(), which exports everything and only then asks for the
 * name.  The exception is --replace: the old daemon lets go of its ports
 * only once it has lost the name, so pm_bus_claim() takes the name first,
 * and until the new fleet is exported a call gets "Object does not exist".
 */

/* How long --replace waits for the daemon it replaces to let go. */
#define REPLACE_TIMEOUT_MS 10000

typedef enum
{
  NAME_NOT_ASKED,
  NAME_PENDING,
  NAME_OWNED,
  NAME_LOST,
} NameState;

struct _PmBus
{
  GObject                   parent_instance;

  GDBusConnection          *connection;  /* (owned) (nullable) */
  guint                     owner_id;
  NameState                 name_state;
  gboolean                  ever_owned;
  gboolean                  name_refused;
  gboolean                  replace;

  PmManager                *manager;     /* (owned) (nullable) until exported */
  GDBusObjectManagerServer *server;      /* (owned) (nullable) until exported */
  GPtrArray                *objects;     /* (owned) (element-type PmDBusObjectSkeleton):
                                          * one per device, in the fleet's order */
  gulong                    devices_changed_id;
};

G_DEFINE_FINAL_TYPE (PmBus, pm_bus, G_TYPE_OBJECT)

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  PmBus *self = PM_BUS (user_data);

  self->name_state = NAME_OWNED;
  self->ever_owned = TRUE;
  g_message (_("D-Bus control on the session bus as %s"), name);
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  PmBus *self = PM_BUS (user_data);
  gboolean was_owned = self->name_state == NAME_OWNED;
  gboolean bus_gone = connection == NULL || g_dbus_connection_is_closed (connection);

  if (self->name_state == NAME_LOST)
    return;
  self->name_state = NAME_LOST;
  if (bus_gone)
    g_message (_("The session bus has gone; stopping"));
  else if (was_owned)
    g_message (_("Another process took %s over; stopping"), name);
  else
    self->name_refused = TRUE;  /* main() says so and exits 1 */

  if (was_owned)
    {
      /* Forget the id rather than g_bus_unown_name() it: GLib 2.74 would
       * ask the bus to release a name this process no longer has, and
       * warn about the answer. */
      self->owner_id = 0;
    }

  if (self->manager != NULL)
    pm_manager_quit (self->manager);
}

static void
own_name (PmBus             *self,
          GBusNameOwnerFlags flags)
{
  self->name_state = NAME_PENDING;
  self->owner_id = g_bus_own_name_on_connection (self->connection, PM_DBUS_NAME,
                                                 flags | G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                                 G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                 on_name_acquired, on_name_lost,
                                                 self, NULL);
}

/**
 * pm_bus_connect:
 * @self: a #PmBus
 * @error: return location for a #GError
 *
 * Connects to the session bus.
 *
 * Returns: %FALSE if there is no session bus to connect to
 */
gboolean
pm_bus_connect (PmBus   *self,
                GError **error)
{
  g_return_val_if_fail (PM_IS_BUS (self), FALSE);
  g_return_val_if_fail (self->connection == NULL, FALSE);

  self->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
  if (self->connection == NULL)
    return FALSE;
  /* Losing the bus stops the daemon through on_name_lost(), cleanly,
   * rather than by the default SIGTERM. */
  g_dbus_connection_set_exit_on_close (self->connection, FALSE);
  return TRUE;
}

static char *
dup_name_owner (PmBus *self)
{
  g_autoptr(GVariant) reply = NULL;
  const char *owner;

  reply = g_dbus_connection_call_sync (self->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetNameOwner", g_variant_new ("(s)", PM_DBUS_NAME),
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                       -1, NULL, NULL);
  if (reply == NULL)
    return NULL;  /* NameHasNoOwner */
  g_variant_get (reply, "(&s)", &owner);
  return g_strdup (owner);
}

static void
set_name_taken_error (GError    **error,
                      const char *owner)
{
  g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
               _("%s is already owned on the session bus (by %s); stop that plutomock, or start this one with --replace"),
               PM_DBUS_NAME, owner != NULL ? owner : "?");
}

static void
on_old_owner_vanished (GDBusConnection *connection,
                       const char      *name,
                       gpointer         user_data)
{
  gboolean *vanished = user_data;

  *vanished = TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/**
 * pm_bus_claim:
 * @self: a connected #PmBus
 * @manager: the fleet, not started yet; a quit it is asked for (SIGTERM,
 *   say) ends the wait
 * @replace: whether to take the name over from its owner
 * @error: return location for a #GError
 *
 * Checks, before the fleet starts, that plutomock may have its name.  If
 * another process owns it, this fails, or with @replace takes the name
 * over and waits (up to 10 s) for the other daemon to stop and free its
 * ports.  If nobody owns it, the name is asked for by pm_bus_export().
 *
 * Returns: %FALSE if the name is taken and may not be taken over
 */
gboolean
pm_bus_claim (PmBus     *self,
              PmManager *manager,
              gboolean   replace,
              GError   **error)
{
  g_autofree char *owner = NULL;
  gboolean vanished = FALSE, timed_out = FALSE;
  guint watch_id, timeout_id;

  g_return_val_if_fail (PM_IS_BUS (self), FALSE);
  g_return_val_if_fail (self->connection != NULL, FALSE);
  g_return_val_if_fail (self->name_state == NAME_NOT_ASKED, FALSE);

  self->replace = replace;
  owner = dup_name_owner (self);
  if (owner == NULL)
    return TRUE;
  if (!replace)
    {
      set_name_taken_error (error, owner);
      return FALSE;
    }

  g_message (_("Taking %s over from %s"), PM_DBUS_NAME, owner);
  watch_id = g_bus_watch_name_on_connection (self->connection, owner,
                                             G_BUS_NAME_WATCHER_FLAGS_NONE,
                                             NULL, on_old_owner_vanished,
                                             &vanished, NULL);
  timeout_id = g_timeout_add (REPLACE_TIMEOUT_MS, on_timeout, &timed_out);
  own_name (self, G_BUS_NAME_OWNER_FLAGS_REPLACE);

  while (self->name_state == NAME_PENDING && !timed_out &&
         !pm_manager_get_quit_requested (manager))
    g_main_context_iteration (NULL, TRUE);
  /* The old daemon closes its ports before it leaves the bus. */
  while (self->name_state == NAME_OWNED && !vanished && !timed_out &&
         !pm_manager_get_quit_requested (manager))
    g_main_context_iteration (NULL, TRUE);

  g_bus_unwatch_name (watch_id);
  if (!timed_out)
    g_source_remove (timeout_id);

  if (pm_manager_get_quit_requested (manager))
    return TRUE;  /* the caller stops anyway */
  if (self->name_state != NAME_OWNED)
    {
      if (g_dbus_connection_is_closed (self->connection))
        g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                     _("the session bus went away while taking %s over"), PM_DBUS_NAME);
      else if (self->ever_owned)
        g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                     _("another process took %s over while this one waited for %s to stop"),
                     PM_DBUS_NAME, owner);
      else
        g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                     _("%s could not be taken over from %s, which does not allow it"),
                     PM_DBUS_NAME, owner);
      g_clear_handle_id (&self->owner_id, g_bus_unown_name);
      self->name_state = NAME_NOT_ASKED;
      self->name_refused = FALSE;
      return FALSE;
    }
  if (!vanished)
    g_message (_("%s still runs after %d s; starting anyway"), owner, REPLACE_TIMEOUT_MS / 1000);
  return TRUE;
}

static PmDBusObjectSkeleton *
export_device (PmBus    *self,
               PmDevice *device)
{
  g_autofree char *object_path = pm_bus_device_dup_object_path (pm_device_get_port (device));
  g_autoptr(PmBusDevice) interface = pm_bus_device_new (device);
  PmDBusObjectSkeleton *object = pm_dbus_object_skeleton_new (object_path);

  pm_dbus_object_skeleton_set_device (object, PM_DBUS_DEVICE (interface));
  g_dbus_object_manager_server_export (self->server, G_DBUS_OBJECT_SKELETON (object));
  return object;
}

static void
unexport_object (PmBus                *self,
                 PmDBusObjectSkeleton *object)
{
  g_dbus_object_manager_server_unexport (self->server,
                                         g_dbus_object_get_object_path (G_DBUS_OBJECT (object)));
}

static void
on_devices_changed (GListModel *devices,
                    guint       position,
                    guint       removed,
                    guint       added,
                    gpointer    user_data)
{
  PmBus *self = PM_BUS (user_data);
  guint i;

  for (i = 0; i < removed; i++)
    unexport_object (self, g_ptr_array_index (self->objects, position + i));
  g_ptr_array_remove_range (self->objects, position, removed);

  for (i = 0; i < added; i++)
    {
      g_autoptr(PmDevice) device = g_list_model_get_item (devices, position + i);

      g_ptr_array_insert (self->objects, position + i, export_device (self, device));
    }
}

/**
 * pm_bus_export:
 * @self: a connected #PmBus
 * @manager: the started fleet
 *
 * Exports the manager and every device, follows the fleet from now on,
 * then asks for the name (unless pm_bus_claim() took it over already).
 * If the name is refused or lost later, @manager is told to quit;
 * pm_bus_check_name() tells which.
 */
void
pm_bus_export (PmBus     *self,
               PmManager *manager)
{
  g_autoptr(PmBusManager) bus_manager = NULL;
  g_autoptr(PmDBusObjectSkeleton) manager_object = NULL;
  GListModel *devices;

  g_return_if_fail (PM_IS_BUS (self));
  g_return_if_fail (PM_IS_MANAGER (manager));
  g_return_if_fail (self->connection != NULL);
  g_return_if_fail (self->server == NULL);

  self->manager = g_object_ref (manager);
  self->server = g_dbus_object_manager_server_new (PM_DBUS_PATH);

  bus_manager = pm_bus_manager_new (manager);
  manager_object = pm_dbus_object_skeleton_new (PM_DBUS_MANAGER_PATH);
  pm_dbus_object_skeleton_set_manager (manager_object, PM_DBUS_MANAGER (bus_manager));
  g_dbus_object_manager_server_export (self->server, G_DBUS_OBJECT_SKELETON (manager_object));

  /* The fleet as it is, then as it changes. */
  devices = pm_manager_get_devices (manager);
  on_devices_changed (devices, 0, 0, g_list_model_get_n_items (devices), self);
  self->devices_changed_id = g_signal_connect (devices, "items-changed",
                                               G_CALLBACK (on_devices_changed), self);

  g_dbus_object_manager_server_set_connection (self->server, self->connection);

  /* pm_bus_claim() may have taken the name over already. */
  if (self->name_state == NAME_LOST)
    pm_manager_quit (manager);
  else if (self->name_state == NAME_NOT_ASKED)
    own_name (self, self->replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : G_BUS_NAME_OWNER_FLAGS_NONE);
}

/**
 * pm_bus_check_name:
 * @self: a #PmBus
 * @error: return location for a #GError
 *
 * Returns: %FALSE, saying who has it, if the name was refused because
 *   another process owns it
 */
gboolean
pm_bus_check_name (PmBus   *self,
                   GError **error)
{
  g_autofree char *owner = NULL;

  g_return_val_if_fail (PM_IS_BUS (self), FALSE);

  if (!self->name_refused)
    return TRUE;
  if (self->connection != NULL && !g_dbus_connection_is_closed (self->connection))
    owner = dup_name_owner (self);
  set_name_taken_error (error, owner);
  return FALSE;
}

static void
pm_bus_dispose (GObject *object)
{
  PmBus *self = PM_BUS (object);

  g_clear_handle_id (&self->owner_id, g_bus_unown_name);
  if (self->manager != NULL)
    g_clear_signal_handler (&self->devices_changed_id, pm_manager_get_devices (self->manager));
  /* Off the connection, every object is unregistered at once. */
  if (self->server != NULL)
    g_dbus_object_manager_server_set_connection (self->server, NULL);
  g_ptr_array_set_size (self->objects, 0);
  g_clear_object (&self->server);
  g_clear_object (&self->manager);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (pm_bus_parent_class)->dispose (object);
}

static void
pm_bus_finalize (GObject *object)
{
  PmBus *self = PM_BUS (object);

  g_clear_pointer (&self->objects, g_ptr_array_unref);

  G_OBJECT_CLASS (pm_bus_parent_class)->finalize (object);
}

static void
pm_bus_class_init (PmBusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_bus_dispose;
  object_class->finalize = pm_bus_finalize;
}

static void
pm_bus_init (PmBus *self)
{
  self->objects = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * pm_bus_new:
 *
 * Returns: (transfer full): a #PmBus, not connected
 */
PmBus *
pm_bus_new (void)
{
  return g_object_new (PM_TYPE_BUS, NULL);
}
