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
 * pm_bus_connect(), pm_bus_claim_async(), starting the fleet once it
 * reports, then pm_bus_export(), which exports everything and only then
 * asks for the name.  The exception is --replace: the old daemon lets go
 * of its ports only once it has lost the name, so the claim takes the
 * name first, and until the new fleet is exported a call gets "Object
 * does not exist".
 *
 * PmBus runs no main loop of its own: the claim reports through its
 * callback, and a name lost later through #PmBus::name-lost.
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

/* A --replace in progress: the name asked for, the old owner watched. */
typedef struct
{
  char    *owner;       /* (owned): the unique name of the old owner */
  guint    watch_id;
  guint    timeout_id;
  GSource *cancel_source;  /* (owned) (nullable) */
  gboolean vanished;
  gboolean timed_out;
} Takeover;

struct _PmBus
{
  GObject                   parent_instance;

  GDBusConnection          *connection;  /* (owned) (nullable) */
  guint                     owner_id;
  NameState                 name_state;
  gboolean                  ever_owned;
  gboolean                  name_refused;
  gboolean                  replace;

  GTask                    *claim;       /* (owned) (nullable): a claim in progress */
  Takeover                 *takeover;    /* (owned) (nullable): its --replace, once asked */

  PmManager                *manager;     /* (owned) (nullable) until exported */
  GDBusObjectManagerServer *server;      /* (owned) (nullable) until exported */
  GPtrArray                *objects;     /* (owned) (element-type PmDBusObjectSkeleton):
                                          * one per device, in the fleet's order */
  gulong                    devices_changed_id;
};

G_DEFINE_FINAL_TYPE (PmBus, pm_bus, G_TYPE_OBJECT)

enum
{
  SIGNAL_NAME_LOST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void claim_check (PmBus *self);

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  PmBus *self = PM_BUS (user_data);

  self->name_state = NAME_OWNED;
  self->ever_owned = TRUE;
  g_message (_("D-Bus control on the session bus as %s"), name);
  claim_check (self);
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

  if (was_owned)
    {
      /* Forget the id rather than g_bus_unown_name() it: GLib 2.74 would
       * ask the bus to release a name this process no longer has, and
       * warn about the answer. */
      self->owner_id = 0;
    }

  /* During a claim, the claim says what went wrong. */
  if (self->claim != NULL)
    {
      claim_check (self);
      return;
    }

  if (bus_gone)
    g_message (_("The session bus has gone; stopping"));
  else if (was_owned)
    g_message (_("Another process took %s over; stopping"), name);
  else
    self->name_refused = TRUE;  /* pm_bus_check_name() says so */

  g_signal_emit (self, signals[SIGNAL_NAME_LOST], 0);
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

/* ---- the claim ------------------------------------------------------------- */

static void
takeover_free (Takeover *takeover)
{
  if (takeover->watch_id != 0)
    g_bus_unwatch_name (takeover->watch_id);
  g_clear_handle_id (&takeover->timeout_id, g_source_remove);
  if (takeover->cancel_source != NULL)
    {
      g_source_destroy (takeover->cancel_source);
      g_source_unref (takeover->cancel_source);
    }
  g_free (takeover->owner);
  g_free (takeover);
}

/* Ends the claim in progress, with @error or (if %NULL) success. */
static void
claim_finish (PmBus  *self,
              GError *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->claim);

  g_clear_pointer (&self->takeover, takeover_free);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* Ends a --replace in progress if what it waits for has happened: the
 * name is ours and the old owner has left the bus (it closes its ports
 * before that), or the wait was cancelled, timed out, or the name went
 * elsewhere. */
static void
claim_check (PmBus *self)
{
  Takeover *takeover = self->takeover;

  if (self->claim == NULL || takeover == NULL)
    return;  /* no claim, or still asking who owns the name */

  if (g_cancellable_is_cancelled (g_task_get_cancellable (self->claim)))
    {
      g_clear_handle_id (&self->owner_id, g_bus_unown_name);
      self->name_state = NAME_NOT_ASKED;
      claim_finish (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                               "the claim was cancelled"));
      return;
    }

  if (self->name_state == NAME_LOST ||
      (self->name_state == NAME_PENDING && takeover->timed_out))
    {
      GError *error = NULL;

      if (g_dbus_connection_is_closed (self->connection))
        g_set_error (&error, PM_ERROR, PM_ERROR_FAILED,
                     _("the session bus went away while taking %s over"), PM_DBUS_NAME);
      else if (self->ever_owned)
        g_set_error (&error, PM_ERROR, PM_ERROR_FAILED,
                     _("another process took %s over while this one waited for %s to stop"),
                     PM_DBUS_NAME, takeover->owner);
      else
        g_set_error (&error, PM_ERROR, PM_ERROR_FAILED,
                     _("%s could not be taken over from %s, which does not allow it"),
                     PM_DBUS_NAME, takeover->owner);
      g_clear_handle_id (&self->owner_id, g_bus_unown_name);
      self->name_state = NAME_NOT_ASKED;
      claim_finish (self, error);
      return;
    }

  if (self->name_state == NAME_OWNED && (takeover->vanished || takeover->timed_out))
    {
      if (!takeover->vanished)
        g_message (_("%s still runs after %d s; starting anyway"), takeover->owner,
                   REPLACE_TIMEOUT_MS / 1000);
      claim_finish (self, NULL);
    }
}

static void
on_old_owner_vanished (GDBusConnection *connection,
                       const char      *name,
                       gpointer         user_data)
{
  PmBus *self = PM_BUS (user_data);

  self->takeover->vanished = TRUE;
  claim_check (self);
}

static gboolean
on_takeover_timeout (gpointer user_data)
{
  PmBus *self = PM_BUS (user_data);

  self->takeover->timeout_id = 0;
  self->takeover->timed_out = TRUE;
  claim_check (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_claim_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  claim_check (PM_BUS (user_data));
  return G_SOURCE_REMOVE;
}

static void
on_owner_reply (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(PmBus) self = PM_BUS (user_data);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable = g_task_get_cancellable (self->claim);
  Takeover *takeover;
  const char *owner;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_cancellable_is_cancelled (cancellable))
    {
      claim_finish (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                               "the claim was cancelled"));
      return;
    }
  if (reply == NULL)
    {
      /* Nobody has the name: pm_bus_export() asks for it. */
      if (g_dbus_error_is_remote_error (error) &&
          g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
        claim_finish (self, NULL);
      else
        claim_finish (self, g_steal_pointer (&error));
      return;
    }

  g_variant_get (reply, "(&s)", &owner);
  if (!self->replace)
    {
      GError *taken = NULL;

      set_name_taken_error (&taken, owner);
      claim_finish (self, taken);
      return;
    }

  g_message (_("Taking %s over from %s"), PM_DBUS_NAME, owner);
  takeover = g_new0 (Takeover, 1);
  takeover->owner = g_strdup (owner);
  self->takeover = takeover;
  takeover->watch_id = g_bus_watch_name_on_connection (self->connection, owner,
                                                       G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                       NULL, on_old_owner_vanished,
                                                       self, NULL);
  takeover->timeout_id = g_timeout_add (REPLACE_TIMEOUT_MS, on_takeover_timeout, self);
  if (cancellable != NULL)
    {
      takeover->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (takeover->cancel_source, G_SOURCE_FUNC (on_claim_cancelled),
                             self, NULL);
      g_source_attach (takeover->cancel_source, g_main_context_get_thread_default ());
    }
  own_name (self, G_BUS_NAME_OWNER_FLAGS_REPLACE);
}

/**
 * pm_bus_claim_async:
 * @self: a connected #PmBus
 * @replace: whether to take the name over from its owner
 * @cancellable: (nullable): cancels the wait (SIGTERM, say)
 * @callback: called when the fleet may start, or may not
 * @user_data: for @callback
 *
 * Checks, before the fleet starts, that plutomock may have its name.  If
 * another process owns it, this fails, or with @replace takes the name
 * over and waits (up to 10 s) for the other daemon to stop and free its
 * ports.  If nobody owns it, the name is asked for by pm_bus_export().
 * Call pm_bus_claim_finish() from @callback.
 */
void
pm_bus_claim_async (PmBus              *self,
                    gboolean            replace,
                    GCancellable       *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer            user_data)
{
  g_return_if_fail (PM_IS_BUS (self));
  g_return_if_fail (self->connection != NULL);
  g_return_if_fail (self->name_state == NAME_NOT_ASKED);
  g_return_if_fail (self->claim == NULL);

  self->replace = replace;
  self->claim = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (self->claim, pm_bus_claim_async);

  g_dbus_connection_call (self->connection, "org.freedesktop.DBus",
                          "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "GetNameOwner", g_variant_new ("(s)", PM_DBUS_NAME),
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                          -1, cancellable, on_owner_reply, g_object_ref (self));
}

/**
 * pm_bus_claim_finish:
 * @self: a #PmBus
 * @result: the result given to the callback
 * @error: return location for a #GError: a %PM_ERROR saying why the
 *   name may not be had, or %G_IO_ERROR_CANCELLED
 *
 * Returns: %TRUE if the fleet may start
 */
gboolean
pm_bus_claim_finish (PmBus        *self,
                     GAsyncResult *result,
                     GError      **error)
{
  g_return_val_if_fail (PM_IS_BUS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pm_bus_claim_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the objects ----------------------------------------------------------- */

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
 * @self: a connected #PmBus whose claim succeeded
 * @manager: the started fleet
 *
 * Exports the manager and every device, follows the fleet from now on,
 * then asks for the name (unless the claim took it over already).  If
 * the name is refused or lost later, #PmBus::name-lost is emitted;
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
  g_return_if_fail (self->claim == NULL);

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

  /* The claim may have taken the name over already. */
  if (self->name_state == NAME_NOT_ASKED)
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

  /**
   * PmBus::name-lost:
   *
   * The name was refused when pm_bus_export() asked for it, was taken
   * over by another process, or the bus went away: the daemon should
   * stop.  pm_bus_check_name() tells whether that is a failure.
   */
  signals[SIGNAL_NAME_LOST] = g_signal_new ("name-lost", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 0);
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
