/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-dbus"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pm-dbus-generated.h"
#include "pm-error.h"
#include "pm-test-util.h"

/*
 * The daemon's D-Bus interface, org.pluto.Mock1, on a private session bus
 * (GTestDBus): the build-tree daemon is bus-activated, or spawned for the
 * life-cycle tests, and spoken to over the bus and over HTTP, whose
 * answers must agree.  Adding and removing devices, the devices started
 * from PORTS, restarts, GetInfo and Update, every error, the properties,
 * and how the daemon behaves with a second daemon, --replace, --no-dbus,
 * a bus that goes away and no bus at all.
 */

/* The names, written out here rather than taken from the code under
 * test, so that a change to them is noticed. */
#define BUS_NAME "org.pluto.Mock1"
#define ROOT_PATH "/org/pluto/Mock1"
#define MANAGER_PATH "/org/pluto/Mock1/Manager"
#define DEVICE_PATH_PREFIX "/org/pluto/Mock1/Device/"
#define MANAGER_IFACE "org.pluto.Mock1.Manager"
#define DEVICE_IFACE "org.pluto.Mock1.Device"
#define ERROR_PREFIX "org.pluto.Mock1.Error."
#define OBJECT_MANAGER_IFACE "org.freedesktop.DBus.ObjectManager"
#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

/* What the daemon says about the bus, in English (the tests clear
 * LANGUAGE). */
#define SAYS_OWNED "D-Bus control on the session bus as org.pluto.Mock1"
#define SAYS_LISTING "Listing server on"

/* As specified. */
#define RESTART_WINDOW_MS 5000
#define MAX_BODY_BYTES (64 * 1024)
#define MAX_DEPTH 64
#define HOSTNAME_MAX 63
#define STRATUM_USER_PREFIX "bc1asdasdasdasdasasdasdasdasdasdasd."
/* How many members /api/system/info has in each shape (test-device.c
 * checks them one by one). */
#define LEGACY_MEMBERS 30
#define NEW_MEMBERS 45

#define CALL_TIMEOUT_MS PM_TEST_TIMEOUT_MS
/* The daemon is started once, by the fixture; a call after that must not
 * start another one in place of a daemon that died. */
#define CALL_FLAGS G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS

/* The device interface as the object manager lists it: the interfaces of
 * a device object, each with its properties and their types. */
#define DEVICE_DESCRIPTION \
  DEVICE_IFACE "(ApiVersion:s,Faults:a{sa{sv}},Firmware:s,Hostname:s,Port:u,Profile:s,Restarting:b,StartTime:x,Url:s)"
#define MANAGER_DESCRIPTION \
  MANAGER_IFACE "(BindAddress:s,ListingPort:u,LogsEnabled:b,Scenario:s,ScenarioRunning:b,Seed:t,Version:s)"

/* The devices that the fixture's PORTS start, in order. */
static const char *const startup_hostnames[] = { "mockaxe1", "mockaxe2" };
static const char *const startup_api_versions[] = { "legacy", "new" };

/* ---- small helpers --------------------------------------------------------- */

static char *
device_path (guint port)
{
  return g_strdup_printf (DEVICE_PATH_PREFIX "%u", port);
}

/* The port in a device path; fails the test if it is not one. */
static guint
port_of_path (const char *path)
{
  guint64 port = 0;
  g_autoptr(GError) error = NULL;

  if (!g_str_has_prefix (path, DEVICE_PATH_PREFIX))
    g_error ("“%s” is not a device path", path);
  g_ascii_string_to_unsigned (path + strlen (DEVICE_PATH_PREFIX), 10, 1, 65535, &port, &error);
  g_assert_no_error (error);
  return (guint) port;
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Sorts @strings and joins them with @separator. */
static char *
sorted_join (GPtrArray  *strings,
             const char *separator)
{
  g_ptr_array_sort (strings, compare_strings);
  g_ptr_array_add (strings, NULL);
  return g_strjoinv (separator, (char **) strings->pdata);
}

/* Checks that the call failed with org.pluto.Mock1.Error.@name, which the
 * client sees as PM_ERROR @code. */
static void
assert_pm_error (const GError *error,
                 PmError       code,
                 const char   *name)
{
  g_autofree char *expected = g_strconcat (ERROR_PREFIX, name, NULL);
  g_autofree char *prefix = g_strconcat ("GDBus.Error:", expected, ":", NULL);
  g_autofree char *remote = NULL;

  if (error == NULL)
    g_error ("The call succeeded; it should fail with %s", expected);
  g_assert_error (error, PM_ERROR, (int) code);
  g_assert_true (g_dbus_error_is_remote_error (error));
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, expected);
  /* The name as it came over the wire, not only through the mapping. */
  if (!g_str_has_prefix (error->message, prefix))
    g_error ("Error “%s” does not start with “%s”", error->message, prefix);
}

/* Checks that the call failed with a standard D-Bus error. */
static void
assert_dbus_error (const GError *error,
                   GDBusError    code,
                   const char   *name)
{
  g_autofree char *remote = NULL;

  if (error == NULL)
    g_error ("The call succeeded; it should fail with %s", name);
  g_assert_error (error, G_DBUS_ERROR, (int) code);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, name);
}

static void
flush_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* ---- the bus itself ---------------------------------------------------------- */

static GVariant *
bus_call (GDBusConnection *connection,
          const char      *method,
          GVariant        *parameters,
          const char      *reply_type,
          GError         **error)
{
  return g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", method, parameters,
                                      G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE,
                                      CALL_TIMEOUT_MS, NULL, error);
}

/* The unique name owning org.pluto.Mock1, or NULL; never starts it. */
static char *
name_owner (GDBusConnection *connection)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  char *owner;

  reply = bus_call (connection, "GetNameOwner", g_variant_new ("(s)", BUS_NAME), "(s)", &error);
  if (reply == NULL)
    {
      g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
      return NULL;
    }
  g_variant_get (reply, "(s)", &owner);
  return owner;
}

static guint32
connection_pid (GDBusConnection *connection,
                const char      *name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 pid;

  reply = bus_call (connection, "GetConnectionUnixProcessID", g_variant_new ("(s)", name),
                    "(u)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &pid);
  return pid;
}

/* Whether any connection on the bus belongs to process @pid. */
static gboolean
pid_on_bus (GDBusConnection *connection,
            guint32          pid)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **names = NULL;
  gsize i;

  reply = bus_call (connection, "ListNames", NULL, "(as)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(^a&s)", &names);
  for (i = 0; names[i] != NULL; i++)
    if (names[i][0] == ':' && connection_pid (connection, names[i]) == pid)
      return TRUE;
  return FALSE;
}

/*
 * Calls @method on org.pluto.Mock1, never starting it: after the first
 * call a daemon that died must show as a failed call, not as a fresh
 * daemon started in its place.
 */
static GVariant *
daemon_call (GDBusConnection *connection,
             const char      *path,
             const char      *interface,
             const char      *method,
             GVariant        *parameters,
             const char      *reply_type,
             GError         **error)
{
  return g_dbus_connection_call_sync (connection, BUS_NAME, path, interface, method, parameters,
                                      reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                                      G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS,
                                      NULL, error);
}

/* Calls @method as daemon_call() does; it must succeed, with a reply of
 * @reply_type, a tuple of one value, which is returned. */
static GVariant *
daemon_get (GDBusConnection *connection,
            const char      *path,
            const char      *interface,
            const char      *method,
            GVariant        *parameters,
            const char      *reply_type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = daemon_call (connection, path, interface, method, parameters,
                                           reply_type, &error);

  g_assert_no_error (error);
  return g_variant_get_child_value (reply, 0);
}

/* A property read afresh with Properties.Get (not from a proxy's cache). */
static GVariant *
get_property (GDBusConnection *connection,
              const char      *path,
              const char      *interface,
              const char      *name)
{
  g_autoptr(GVariant) boxed = daemon_get (connection, path, PROPERTIES_IFACE, "Get",
                                          g_variant_new ("(ss)", interface, name), "(v)");

  return g_variant_get_variant (boxed);
}

static gboolean
get_restarting (GDBusConnection *connection,
                const char      *path)
{
  g_autoptr(GVariant) value = get_property (connection, path, DEVICE_IFACE, "Restarting");

  g_assert_cmpstr (g_variant_get_type_string (value), ==, "b");
  return g_variant_get_boolean (value);
}

/* Properties.GetAll, as a{sv}. */
static GVariant *
get_all (GDBusConnection *connection,
         const char      *path,
         const char      *interface)
{
  return daemon_get (connection, path, PROPERTIES_IFACE, "GetAll",
                     g_variant_new ("(s)", interface), "(a{sv})");
}

/* GetManagedObjects, as a{oa{sa{sv}}}. */
static GVariant *
get_managed_objects (GDBusConnection *connection)
{
  return daemon_get (connection, ROOT_PATH, OBJECT_MANAGER_IFACE, "GetManagedObjects", NULL,
                     "(a{oa{sa{sv}}})");
}

/* "Iface(Prop:type,...)" for each of @interfaces (a{sa{sv}}), sorted and
 * joined with ";". */
static char *
describe_interfaces (GVariant *interfaces)
{
  g_autoptr(GPtrArray) described = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *name;
  GVariant *properties;

  g_variant_iter_init (&iter, interfaces);
  while (g_variant_iter_next (&iter, "{&s@a{sv}}", &name, &properties))
    {
      g_autoptr(GVariant) owned = properties;
      g_autoptr(GPtrArray) props = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *joined = NULL;
      GVariantIter prop_iter;
      const char *prop;
      GVariant *value;

      g_variant_iter_init (&prop_iter, properties);
      while (g_variant_iter_next (&prop_iter, "{&sv}", &prop, &value))
        {
          g_ptr_array_add (props, g_strdup_printf ("%s:%s", prop, g_variant_get_type_string (value)));
          g_variant_unref (value);
        }
      joined = sorted_join (props, ",");
      g_ptr_array_add (described, g_strdup_printf ("%s(%s)", name, joined));
    }
  return sorted_join (described, ";");
}

/* The properties of @interface at @path in @objects, or NULL. */
static GVariant *
lookup_properties (GVariant   *objects,
                   const char *path,
                   const char *interface)
{
  g_autoptr(GVariant) interfaces = g_variant_lookup_value (objects, path, G_VARIANT_TYPE ("a{sa{sv}}"));

  if (interfaces == NULL)
    return NULL;
  return g_variant_lookup_value (interfaces, interface, G_VARIANT_TYPE ("a{sv}"));
}

/* ---- signals --------------------------------------------------------------- */

/* One signal the test saw. */
typedef struct
{
  char     *what;  /* InterfacesAdded, InterfacesRemoved, PropertiesChanged,
                    * or the object manager client's object-added and
                    * object-removed */
  char     *path;  /* the object it is about */
  GVariant *body;  /* (nullable) the signal's parameters */
} Event;

static void
event_free (gpointer data)
{
  Event *event = data;

  g_free (event->what);
  g_free (event->path);
  g_clear_pointer (&event->body, g_variant_unref);
  g_free (event);
}

/* Records, in order, the object manager's signals, PropertiesChanged of
 * every device, and what a PmDBusObjectManagerClient makes of them. */
typedef struct
{
  GDBusConnection    *connection;
  GDBusObjectManager *client;
  guint               ids[3];
  gulong              client_ids[2];
  GPtrArray          *events;
} Recorder;

static void
record (Recorder   *recorder,
        const char *what,
        const char *path,
        GVariant   *body)
{
  Event *event = g_new0 (Event, 1);

  event->what = g_strdup (what);
  event->path = g_strdup (path);
  event->body = body != NULL ? g_variant_ref (body) : NULL;
  g_ptr_array_add (recorder->events, event);
}

static void
on_signal (GDBusConnection *connection,
           const char      *sender,
           const char      *object_path,
           const char      *interface,
           const char      *signal,
           GVariant        *parameters,
           gpointer         user_data)
{
  const char *path = object_path;

  /* The object manager's signals are about the object they name. */
  if (!g_str_equal (signal, "PropertiesChanged"))
    g_variant_get_child (parameters, 0, "&o", &path);
  record (user_data, signal, path, parameters);
}

static void
on_object_added (GDBusObjectManager *manager,
                 GDBusObject        *object,
                 gpointer            user_data)
{
  record (user_data, "object-added", g_dbus_object_get_object_path (object), NULL);
}

static void
on_object_removed (GDBusObjectManager *manager,
                   GDBusObject        *object,
                   gpointer            user_data)
{
  record (user_data, "object-removed", g_dbus_object_get_object_path (object), NULL);
}

/* Subscribes to the signals of @owner, the daemon's unique name. */
static Recorder *
recorder_new (GDBusConnection *connection,
              const char      *owner)
{
  Recorder *recorder = g_new0 (Recorder, 1);
  g_autoptr(GError) error = NULL;

  recorder->connection = g_object_ref (connection);
  recorder->events = g_ptr_array_new_with_free_func (event_free);
  recorder->ids[0] = g_dbus_connection_signal_subscribe (connection, owner, OBJECT_MANAGER_IFACE,
                                                         "InterfacesAdded", ROOT_PATH, NULL,
                                                         G_DBUS_SIGNAL_FLAGS_NONE,
                                                         on_signal, recorder, NULL);
  recorder->ids[1] = g_dbus_connection_signal_subscribe (connection, owner, OBJECT_MANAGER_IFACE,
                                                         "InterfacesRemoved", ROOT_PATH, NULL,
                                                         G_DBUS_SIGNAL_FLAGS_NONE,
                                                         on_signal, recorder, NULL);
  recorder->ids[2] = g_dbus_connection_signal_subscribe (connection, owner, PROPERTIES_IFACE,
                                                         "PropertiesChanged", NULL, DEVICE_IFACE,
                                                         G_DBUS_SIGNAL_FLAGS_NONE,
                                                         on_signal, recorder, NULL);

  recorder->client = pm_dbus_object_manager_client_new_sync (connection,
                                                             G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                                             BUS_NAME, ROOT_PATH, NULL, &error);
  g_assert_no_error (error);
  recorder->client_ids[0] = g_signal_connect (recorder->client, "object-added",
                                              G_CALLBACK (on_object_added), recorder);
  recorder->client_ids[1] = g_signal_connect (recorder->client, "object-removed",
                                              G_CALLBACK (on_object_removed), recorder);
  return recorder;
}

static void
recorder_free (Recorder *recorder)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (recorder->ids); i++)
    g_dbus_connection_signal_unsubscribe (recorder->connection, recorder->ids[i]);
  for (i = 0; i < G_N_ELEMENTS (recorder->client_ids); i++)
    g_signal_handler_disconnect (recorder->client, recorder->client_ids[i]);
  g_clear_object (&recorder->client);
  g_clear_object (&recorder->connection);
  g_ptr_array_unref (recorder->events);
  g_free (recorder);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Recorder, recorder_free)

/* Forgets the events so far, once those on their way are in. */
static void
recorder_clear (Recorder *recorder)
{
  flush_main_context ();
  g_ptr_array_set_size (recorder->events, 0);
}

/* The value of Restarting in a PropertiesChanged, or -1 if absent. */
static int
changed_restarting (GVariant *body)
{
  g_autoptr(GVariant) changed = g_variant_get_child_value (body, 1);
  gboolean value;

  if (!g_variant_lookup (changed, "Restarting", "b", &value))
    return -1;
  return value;
}

/* The index of the first event @what about @path at or after @from, or
 * -1; for PropertiesChanged, @restarting (unless -1) must be the
 * Restarting value it carries. */
static gssize
recorder_find (Recorder   *recorder,
               const char *what,
               const char *path,
               guint       from,
               int         restarting)
{
  guint i;

  for (i = from; i < recorder->events->len; i++)
    {
      Event *event = g_ptr_array_index (recorder->events, i);

      if (!g_str_equal (event->what, what) || g_strcmp0 (event->path, path) != 0)
        continue;
      if (restarting >= 0 && changed_restarting (event->body) != restarting)
        continue;
      return i;
    }
  return -1;
}

static guint
recorder_count (Recorder   *recorder,
                const char *what)
{
  guint i, n = 0;

  for (i = 0; i < recorder->events->len; i++)
    n += g_str_equal (((Event *) g_ptr_array_index (recorder->events, i))->what, what);
  return n;
}

typedef struct
{
  Recorder   *recorder;
  const char *what;
  const char *path;
  guint       from;
  int         restarting;
} EventWait;

static gboolean
event_seen (gpointer user_data)
{
  EventWait *wait = user_data;

  return recorder_find (wait->recorder, wait->what, wait->path, wait->from, wait->restarting) >= 0;
}

/* Waits for an event as recorder_find() finds it; returns its index. */
static guint
recorder_wait (Recorder   *recorder,
               const char *what,
               const char *path,
               guint       from,
               int         restarting,
               guint       timeout_ms)
{
  EventWait wait = { recorder, what, path, from, restarting };

  if (!pm_test_wait_until (event_seen, &wait, timeout_ms))
    g_error ("No %s for %s within %u ms", what, path, timeout_ms);
  return (guint) recorder_find (recorder, what, path, from, restarting);
}

/* A method call whose reply is awaited on the main loop, so that signals
 * sent before it are delivered first: @events_at_reply tells how many
 * the recorder had when the reply came. */
typedef struct
{
  Recorder *recorder;
  gboolean  done;
  GVariant *reply;
  GError   *error;
  guint     events_at_reply;
} Call;

static void
on_call_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Call *call = user_data;

  call->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->error);
  call->events_at_reply = call->recorder->events->len;
  call->done = TRUE;
}

static gboolean
call_done (gpointer user_data)
{
  return ((Call *) user_data)->done;
}

static GVariant *
call_recorded (Recorder    *recorder,
               const char  *path,
               const char  *interface,
               const char  *method,
               GVariant    *parameters,
               const char  *reply_type,
               guint       *events_at_reply,
               GError     **error)
{
  Call call = { recorder, FALSE, NULL, NULL, 0 };

  g_dbus_connection_call (recorder->connection, BUS_NAME, path, interface, method, parameters,
                          G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          CALL_TIMEOUT_MS, NULL, on_call_done, &call);
  g_assert_true (pm_test_wait_until (call_done, &call, CALL_TIMEOUT_MS + 1000));
  *events_at_reply = call.events_at_reply;
  if (call.error != NULL)
    g_propagate_error (error, call.error);
  return call.reply;
}

/* ---- HTTP ------------------------------------------------------------------- */

static guint
http_status (SoupSession *session,
             const char  *method,
             guint        port,
             const char  *path)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr(PmTestResponse) response = pm_test_http (session, method, url, NULL, NULL, 0);

  return response->status;
}

static void
http_patch (SoupSession *session,
            guint        port,
            const char  *body)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/api/system", port);
  g_autoptr(PmTestResponse) response = pm_test_http (session, "PATCH", url, "application/json",
                                                     body, -1);

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
}

/* The entry of /servers for @port, or NULL. */
static JsonObject *
find_server (JsonArray *servers,
             guint      port)
{
  guint i;

  for (i = 0; i < json_array_get_length (servers); i++)
    {
      JsonObject *server = json_array_get_object_element (servers, i);

      if (json_object_get_int_member_with_default (server, "port", -1) == (gint64) port)
        return server;
    }
  return NULL;
}

/* A listing's startTime, 2026-11-27T10:30:45.123Z, in ms since the epoch. */
static gint64
parse_start_time (const char *text)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_iso8601 (text, NULL);

  g_assert_nonnull (time);
  return g_date_time_to_unix (time) * 1000 + g_date_time_get_microsecond (time) / 1000;
}

static void
assert_refused (guint port)
{
  if (!pm_test_port_refuses (port))
    g_error ("Port %u did not refuse a connection; it should", port);
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  return json_node_get_string (pm_test_member_value (object, name, G_TYPE_STRING));
}

static gint64
member_int (JsonObject *object,
            const char *name)
{
  return json_node_get_int (pm_test_member_value (object, name, G_TYPE_INT64));
}

/* The shape of /api/system/info: the API version's members, the
 * hostname and firmware the device reports. */
static void
assert_info_shape (JsonObject *info,
                   const char *api_version,
                   const char *hostname,
                   const char *firmware)
{
  g_autofree char *stratum_user = g_strconcat (STRATUM_USER_PREFIX, hostname, NULL);

  g_assert_cmpstr (member_string (info, "hostname"), ==, hostname);
  g_assert_cmpstr (member_string (info, "version"), ==, firmware);
  g_assert_cmpstr (member_string (info, "stratumUser"), ==, stratum_user);
  g_assert_cmpstr (member_string (info, "ASICModel"), ==, "BM1368");
  if (g_str_equal (api_version, "legacy"))
    {
      g_assert_cmpuint (json_object_get_size (info), ==, LEGACY_MEMBERS);
      g_assert_cmpstr (member_string (info, "boardVersion"), ==, "401");
      g_assert_true (json_object_has_member (info, "hashRate"));
      g_assert_false (json_object_has_member (info, "hashRate_10m"));
      g_assert_false (json_object_has_member (info, "deviceModel"));
    }
  else
    {
      g_assert_cmpstr (api_version, ==, "new");
      g_assert_cmpuint (json_object_get_size (info), ==, NEW_MEMBERS);
      g_assert_cmpstr (member_string (info, "deviceModel"), ==, "NerdQAxe+");
      g_assert_true (json_object_has_member (info, "hashRate_10m"));
      g_assert_true (json_object_has_member (info, "asicCount"));
      g_assert_false (json_object_has_member (info, "hashRate"));
      g_assert_false (json_object_has_member (info, "boardVersion"));
    }
}

/* A JSON object of exactly @length bytes: @prefix (which opens the object
 * and ends after a comma or brace) followed by "pad":"xxx…"}. */
static char *
padded_object (const char *prefix,
               gsize       length)
{
  GString *out = g_string_new (prefix);

  g_string_append (out, "\"pad\":\"");
  g_assert_cmpuint (length, >=, out->len + 2);
  while (out->len < length - 2)
    g_string_append_c (out, 'x');
  g_string_append (out, "\"}");
  g_assert_cmpuint (out->len, ==, length);
  return g_string_free (out, FALSE);
}

/* {@prefix @depth arrays nested} */
static char *
nested_object (const char *prefix,
               guint       depth)
{
  GString *out = g_string_new (prefix);
  guint i;

  for (i = 0; i < depth; i++)
    g_string_append_c (out, '[');
  for (i = 0; i < depth; i++)
    g_string_append_c (out, ']');
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

/* ---- spawned daemons --------------------------------------------------------- */

static void
assert_said (PmTestDaemon *daemon,
             const char   *text)
{
  if (!pm_test_daemon_output_contains (daemon, text, PM_TEST_TIMEOUT_MS))
    g_error ("The daemon did not say “%s”; it said:\n%s", text, daemon->output->str);
}

static void
assert_no_warnings (PmTestDaemon *daemon)
{
  if (strstr (daemon->output->str, "WARNING") != NULL ||
      strstr (daemon->output->str, "CRITICAL") != NULL)
    g_error ("The daemon warned:\n%s", daemon->output->str);
}

/* The daemon has not said that it started any server. */
static void
assert_no_fleet (PmTestDaemon *daemon)
{
  if (strstr (daemon->output->str, "listening on") != NULL ||
      strstr (daemon->output->str, SAYS_LISTING) != NULL)
    g_error ("The daemon started servers:\n%s", daemon->output->str);
}

/* How many lines of its output contain @text. */
static guint
count_lines_with (PmTestDaemon *daemon,
                  const char   *text)
{
  g_auto(GStrv) lines = g_strsplit (daemon->output->str, "\n", -1);
  guint i, n = 0;

  for (i = 0; lines[i] != NULL; i++)
    n += strstr (lines[i], text) != NULL;
  return n;
}

static guint32
daemon_pid (PmTestDaemon *daemon)
{
  const char *id = g_subprocess_get_identifier (daemon->process);

  g_assert_nonnull (id);
  return (guint32) g_ascii_strtoull (id, NULL, 10);
}

/* Spawns the daemon on @listing_port and @port with more arguments. */
static PmTestDaemon *
spawn_daemon_on (guint              listing_port,
                 guint              port,
                 const char *const *extra,
                 const char *const *environment)
{
  g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));

  g_array_append_val (ports, port);
  return pm_test_daemon_spawn_on_ports (listing_port, ports, extra, environment);
}

/* The same on two ports that were free: its listing port and the port
 * of its one device, daemon_port(). */
static PmTestDaemon *
spawn_daemon (const char *const *extra,
              const char *const *environment)
{
  g_autoptr(GArray) ports = pm_test_free_ports (2, NULL);

  return spawn_daemon_on (g_array_index (ports, guint, 0), g_array_index (ports, guint, 1),
                          extra, environment);
}

static guint
daemon_port (PmTestDaemon *daemon)
{
  return g_array_index (daemon->ports, guint, 0);
}

/* ---- the fixture: a bus with an activated daemon ------------------------------ */

typedef struct
{
  GTestDBus       *bus;
  GDBusConnection *connection;
  PmDBusManager   *manager;        /* its creation starts the daemon */
  SoupSession     *session;
  char            *owner;          /* the daemon's unique name */
  guint            listing_port;
  GArray          *ports;          /* (element-type guint): PORTS, mockaxe1 and mockaxe2 */
  gint64           started_ms;     /* bounds of the daemon's start */
  gint64           up_ms;
} Fixture;

/* @user_data: NULL, or the LOGS_PUB_ENABLED the daemon gets */
static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  const char *logs = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *ports = NULL;

  fixture->ports = pm_test_free_ports (2, NULL);
  ports = g_strdup_printf ("%u,%u", g_array_index (fixture->ports, guint, 0),
                           g_array_index (fixture->ports, guint, 1));

  fixture->started_ms = now_ms ();
  fixture->bus = pm_test_bus_up (ports);
  fixture->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (name_owner (fixture->connection));
  if (logs != NULL)
    {
      g_autoptr(GVariant) reply = NULL;

      /* The environment the bus starts the daemon with. */
      reply = bus_call (fixture->connection, "UpdateActivationEnvironment",
                        g_variant_new_parsed ("({'LOGS_PUB_ENABLED': %s},)", logs), "()", &error);
      g_assert_no_error (error);
    }

  /* Bus activation: the proxy asks for the properties, which starts the
   * daemon; it answers once it has its fleet and its name. */
  fixture->manager = pm_dbus_manager_proxy_new_sync (fixture->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                     BUS_NAME, MANAGER_PATH, NULL, &error);
  g_assert_no_error (error);
  fixture->up_ms = now_ms ();
  fixture->owner = name_owner (fixture->connection);
  g_assert_nonnull (fixture->owner);
  fixture->listing_port = pm_dbus_manager_get_listing_port (fixture->manager);
  g_assert_cmpuint (fixture->listing_port, >, 0);
  fixture->session = soup_session_new ();
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *owner = name_owner (fixture->connection);

  /* The same daemon throughout: it neither crashed nor was replaced. */
  g_assert_cmpstr (owner, ==, fixture->owner);

  g_clear_object (&fixture->session);
  g_clear_object (&fixture->manager);
  g_clear_object (&fixture->connection);
  g_clear_pointer (&fixture->bus, pm_test_bus_down);
  g_clear_pointer (&fixture->owner, g_free);
  g_clear_pointer (&fixture->ports, g_array_unref);
}

static guint
startup_port (Fixture *fixture,
              guint    i)
{
  return g_array_index (fixture->ports, guint, i);
}

/*
 * The fleet as the bus and the listing server see it: "PORT=HOSTNAME ..."
 * for every device object in GetManagedObjects, sorted.  Checks that
 * /servers lists exactly the same, that each object's path names its
 * port, and that the manager is there.
 */
static char *
fleet_state (Fixture *fixture)
{
  g_autoptr(GVariant) objects = get_managed_objects (fixture->connection);
  g_autoptr(GVariant) manager = lookup_properties (objects, MANAGER_PATH, MANAGER_IFACE);
  g_autoptr(JsonArray) servers = pm_test_get_servers (fixture->session, fixture->listing_port);
  g_autoptr(GPtrArray) on_bus = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) listed = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bus_text = NULL;
  g_autofree char *listed_text = NULL;
  GVariantIter iter;
  const char *path;
  GVariant *interfaces;
  guint i;

  g_assert_nonnull (manager);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &interfaces))
    {
      g_autoptr(GVariant) owned = interfaces;
      g_autoptr(GVariant) device = g_variant_lookup_value (interfaces, DEVICE_IFACE,
                                                            G_VARIANT_TYPE ("a{sv}"));
      guint port;
      const char *hostname;

      if (g_str_equal (path, MANAGER_PATH))
        continue;
      g_assert_nonnull (device);
      g_assert_true (g_variant_lookup (device, "Port", "u", &port));
      g_assert_true (g_variant_lookup (device, "Hostname", "&s", &hostname));
      g_assert_cmpuint (port_of_path (path), ==, port);
      g_ptr_array_add (on_bus, g_strdup_printf ("%u=%s", port, hostname));
    }

  for (i = 0; i < json_array_get_length (servers); i++)
    {
      JsonObject *server = json_array_get_object_element (servers, i);

      g_ptr_array_add (listed, g_strdup_printf ("%" G_GINT64_FORMAT "=%s",
                                                member_int (server, "port"),
                                                member_string (server, "hostname")));
    }

  bus_text = sorted_join (on_bus, " ");
  listed_text = sorted_join (listed, " ");
  g_assert_cmpstr (bus_text, ==, listed_text);
  return g_steal_pointer (&bus_text);
}

static PmDBusDevice *
device_proxy (Fixture    *fixture,
              const char *path)
{
  g_autoptr(GError) error = NULL;
  PmDBusDevice *device;

  device = pm_dbus_device_proxy_new_sync (fixture->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                          BUS_NAME, path, NULL, &error);
  g_assert_no_error (error);
  return device;
}

/* AddDevice(@options_text); returns the object path. */
static char *
add_device (Fixture    *fixture,
            const char *options_text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = g_variant_parse (G_VARIANT_TYPE_VARDICT, options_text, NULL, NULL, &error);
  char *path = NULL;

  g_assert_no_error (error);
  pm_dbus_manager_call_add_device_sync (fixture->manager, options, CALL_FLAGS, &path, NULL, &error);
  g_assert_no_error (error);
  return path;
}

static JsonObject *
bus_info (PmDBusDevice *device)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;

  pm_dbus_device_call_get_info_sync (device, CALL_FLAGS, &json, NULL, &error);
  g_assert_no_error (error);
  return parse_object (json);
}

static void
bus_update (PmDBusDevice *device,
            const char   *json)
{
  g_autoptr(GError) error = NULL;

  pm_dbus_device_call_update_sync (device, json, CALL_FLAGS, NULL, &error);
  g_assert_no_error (error);
}

/* Adds a device with no options and checks that it is mockaxe3, legacy
 * as 3 is odd: what comes next after the fleet of PORTS, whatever else
 * was added or refused since. */
static void
assert_next_default (Fixture *fixture)
{
  g_autofree char *path = add_device (fixture, "{}");
  g_autoptr(PmDBusDevice) device = device_proxy (fixture, path);

  g_assert_cmpstr (pm_dbus_device_get_hostname (device), ==, "mockaxe3");
  g_assert_cmpstr (pm_dbus_device_get_api_version (device), ==, "legacy");
}

static void
remove_device (Fixture    *fixture,
               const char *path)
{
  g_autoptr(GError) error = NULL;

  pm_dbus_manager_call_remove_device_sync (fixture->manager, path, CALL_FLAGS, NULL, &error);
  g_assert_no_error (error);
}

/* Checks the properties of the device on @path: @properties (a{sv}) as
 * GetManagedObjects lists them, or if NULL as GetAll reads them, and the
 * generated proxy, /api/system/info and /servers, which must agree: the
 * device is @hostname in @api_version's shape, runs @firmware (any if
 * NULL), is not restarting and started between @started_ms and @up_ms. */
static void
assert_device_properties (Fixture    *fixture,
                          const char *path,
                          GVariant   *properties,
                          const char *hostname,
                          const char *api_version,
                          const char *firmware,
                          gint64      started_ms,
                          gint64      up_ms)
{
  guint port = port_of_path (path);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_autoptr(GVariant) all = properties != NULL ? g_variant_ref (properties)
                                               : get_all (fixture->connection, path, DEVICE_IFACE);
  g_autoptr(JsonObject) info = pm_test_get_info (fixture->session, "127.0.0.1", port);
  g_autoptr(JsonArray) servers = pm_test_get_servers (fixture->session, fixture->listing_port);
  g_autoptr(PmDBusDevice) device = device_proxy (fixture, path);
  JsonObject *server = find_server (servers, port);
  const char *text;
  gboolean restarting;
  gint64 start_time;
  guint u;

  g_assert_cmpuint (g_variant_n_children (all), ==, 9);
  /* No faults unless asked for. */
  {
    g_autoptr(GVariant) faults = g_variant_lookup_value (all, "Faults", G_VARIANT_TYPE ("a{sa{sv}}"));

    g_assert_nonnull (faults);
    g_assert_cmpuint (g_variant_n_children (faults), ==, 0);
  }
  g_assert_true (g_variant_lookup (all, "Port", "u", &u));
  g_assert_cmpuint (u, ==, port);
  g_assert_true (g_variant_lookup (all, "Hostname", "&s", &text));
  g_assert_cmpstr (text, ==, hostname);
  g_assert_true (g_variant_lookup (all, "ApiVersion", "&s", &text));
  g_assert_cmpstr (text, ==, api_version);
  /* The two shapes are the two Pluto profiles. */
  g_assert_true (g_variant_lookup (all, "Profile", "&s", &text));
  g_assert_cmpstr (text, ==, g_str_equal (api_version, "legacy") ? "pluto-legacy" : "pluto-new");
  /* Firmware is what /api/system/info reports as its version, in the
   * shape of its API version. */
  g_assert_true (g_variant_lookup (all, "Firmware", "&s", &text));
  g_assert_cmpstr (text, ==, member_string (info, "version"));
  if (firmware != NULL)
    g_assert_cmpstr (text, ==, firmware);
  else
    g_assert_cmpstr (text, !=, "");
  assert_info_shape (info, api_version, hostname, text);
  g_assert_true (g_variant_lookup (all, "Restarting", "b", &restarting));
  g_assert_false (restarting);
  /* StartTime: when it started, in ms, as /servers says. */
  g_assert_true (g_variant_lookup (all, "StartTime", "x", &start_time));
  g_assert_cmpint (start_time, >=, started_ms - 1000);
  g_assert_cmpint (start_time, <=, up_ms + 1000);
  g_assert_cmpint (ABS (start_time - now_ms ()), <, 10000);
  if (server == NULL)
    g_error ("/servers does not list port %u", port);
  g_assert_cmpstr (member_string (server, "hostname"), ==, hostname);
  g_assert_cmpint (parse_start_time (member_string (server, "startTime")), ==, start_time);
  g_assert_true (g_variant_lookup (all, "Url", "&s", &text));
  g_assert_cmpstr (text, ==, url);

  /* The generated proxy reads the same. */
  g_assert_cmpuint (pm_dbus_device_get_port (device), ==, port);
  g_assert_cmpstr (pm_dbus_device_get_hostname (device), ==, hostname);
  g_assert_cmpstr (pm_dbus_device_get_api_version (device), ==, api_version);
  g_assert_cmpstr (pm_dbus_device_get_firmware (device), ==, member_string (info, "version"));
  g_assert_false (pm_dbus_device_get_restarting (device));
  g_assert_cmpint (pm_dbus_device_get_start_time (device), ==, start_time);
  g_assert_cmpstr (pm_dbus_device_get_url (device), ==, url);
}

/* ---- /dbus/manager ------------------------------------------------------------ */

/*
 * AddDevice(@options_text), its reply awaited on the main loop; returns
 * the new device's path.  Checks that the reply came after the object
 * manager's signal and the client's object-added, that the signal and
 * GetManagedObjects describe the device interface, and that the device
 * is as assert_device_properties() expects.  The recorder is cleared
 * afterwards, for the next call.
 */
static char *
add_recorded (Fixture    *fixture,
              Recorder   *recorder,
              const char *options_text,
              const char *hostname,
              const char *api_version,
              const char *firmware)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = g_variant_parse (G_VARIANT_TYPE_VARDICT, options_text, NULL, NULL,
                                                 &error);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) interfaces = NULL;
  g_autoptr(GVariant) signal_interfaces = NULL;
  g_autoptr(GVariant) properties = NULL;
  g_autoptr(GDBusObject) object = NULL;
  g_autofree char *description = NULL;
  g_autofree char *signal_description = NULL;
  PmDBusDevice *device;
  char *path;
  gint64 before, after;
  gssize added, object_added;
  guint events_at_reply;

  g_assert_no_error (error);
  before = now_ms ();
  reply = call_recorded (recorder, MANAGER_PATH, MANAGER_IFACE, "AddDevice",
                         g_variant_new ("(@a{sv})", options), "(o)", &events_at_reply, &error);
  after = now_ms ();
  g_assert_no_error (error);
  g_variant_get (reply, "(o)", &path);

  /* The signals came first. */
  added = recorder_find (recorder, "InterfacesAdded", path, 0, -1);
  object_added = recorder_find (recorder, "object-added", path, 0, -1);
  if (added < 0 || (guint) added >= events_at_reply)
    g_error ("InterfacesAdded for %s did not come before the reply", path);
  if (object_added < 0 || (guint) object_added >= events_at_reply)
    g_error ("The object manager client had no object-added for %s at the reply", path);
  g_assert_cmpuint (recorder_count (recorder, "InterfacesAdded"), ==, 1);

  /* InterfacesAdded carries the device interface with its properties,
   * and so does GetManagedObjects. */
  g_variant_get_child (((Event *) g_ptr_array_index (recorder->events, added))->body,
                       1, "@a{sa{sv}}", &signal_interfaces);
  signal_description = describe_interfaces (signal_interfaces);
  g_assert_cmpstr (signal_description, ==, DEVICE_DESCRIPTION);
  objects = get_managed_objects (fixture->connection);
  interfaces = g_variant_lookup_value (objects, path, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_assert_nonnull (interfaces);
  description = describe_interfaces (interfaces);
  g_assert_cmpstr (description, ==, DEVICE_DESCRIPTION);
  properties = g_variant_lookup_value (interfaces, DEVICE_IFACE, G_VARIANT_TYPE ("a{sv}"));
  assert_device_properties (fixture, path, properties, hostname, api_version, firmware,
                            before, after);

  /* The client's proxy for it. */
  object = g_dbus_object_manager_get_object (recorder->client, path);
  g_assert_nonnull (object);
  g_assert_true (PM_DBUS_IS_OBJECT (object));
  g_assert_null (pm_dbus_object_peek_manager (PM_DBUS_OBJECT (object)));
  device = pm_dbus_object_peek_device (PM_DBUS_OBJECT (object));
  g_assert_nonnull (device);
  g_assert_cmpuint (pm_dbus_device_get_port (device), ==, port_of_path (path));
  g_assert_cmpstr (pm_dbus_device_get_hostname (device), ==, hostname);

  recorder_clear (recorder);
  return path;
}

static void
test_add_defaults (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *before = fleet_state (fixture);
  g_autofree char *path = NULL;
  g_autofree char *second_path = NULL;
  g_autofree char *after = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) entries = NULL;
  guint port, second_port;

  /* No options at all: a free port picked by the kernel, the next
   * mockaxeN (3, after the two from PORTS), odd so legacy. */
  path = add_recorded (fixture, recorder, "{}", "mockaxe3", "legacy", NULL);
  port = port_of_path (path);
  g_assert_cmpuint (port, !=, startup_port (fixture, 0));
  g_assert_cmpuint (port, !=, startup_port (fixture, 1));

  /* Port 0 is the same as no port; mockaxe4 is new. */
  second_path = add_recorded (fixture, recorder, "{'port': <uint32 0>}", "mockaxe4", "new", NULL);
  second_port = port_of_path (second_path);
  g_assert_cmpuint (second_port, !=, port);

  /* The fleet is what it was, and the two. */
  after = fleet_state (fixture);
  expected = g_strdup_printf ("%s %u=mockaxe3 %u=mockaxe4", before, port, second_port);
  entries = g_strsplit (expected, " ", -1);
  qsort (entries, g_strv_length (entries), sizeof (char *), compare_strings);
  g_free (expected);
  expected = g_strjoinv (" ", entries);
  g_assert_cmpstr (after, ==, expected);
}

static void
test_add_options (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autoptr(GArray) ports = pm_test_free_ports (1, fixture->ports);
  guint port = g_array_index (ports, guint, 0);
  g_autofree char *options = g_strdup_printf ("{'port': <uint32 %u>, 'hostname': <'rig-7'>, "
                                              "'api-version': <'new'>, 'firmware': <'v9.9.9-test'>}",
                                              port);
  g_autofree char *long_name = g_strnfill (HOSTNAME_MAX, 'h');
  g_autofree char *long_options = g_strdup_printf ("{'hostname': <'%s'>, 'api-version': <'legacy'>, "
                                                   "'firmware': <'2.4.1-custom'>}", long_name);
  g_autofree char *expected_path = device_path (port);
  g_autofree char *path = NULL;
  g_autofree char *long_path = NULL;

  /* Every option, on a port none of the fleet has: the device is exactly
   * what was asked for. */
  path = add_recorded (fixture, recorder, options, "rig-7", "new", "v9.9.9-test");
  g_assert_cmpstr (path, ==, expected_path);

  /* The other shape, on a kernel-picked port, with a name of the
   * longest length. */
  long_path = add_recorded (fixture, recorder, long_options, long_name, "legacy", "2.4.1-custom");

  /* Named devices take no mockaxeN, and the shape asked for does not
   * change the next default's. */
  assert_next_default (fixture);
}

/* The device profiles, with what GET /api/system/info says of each:
 * its ASIC, and for the firmware profiles a member the original mock's
 * shapes lack. */
static const struct
{
  const char *profile;
  const char *api_version;
  const char *asic_model;
} device_profiles[] = {
  { "pluto-legacy", "legacy", "BM1368" },
  { "pluto-new", "new", "BM1368" },
  { "axeos-gamma", "", "BM1370" },
  { "axeos-supra", "", "BM1368" },
  { "axeos-ultra", "", "BM1366" },
  { "nerdqaxe-plus", "", "BM1368" },
};

/* Checks that the device on @path has @profile, as its properties, the
 * generated proxy, GetInfo and HTTP show it. */
static void
assert_device_profile (Fixture    *fixture,
                       const char *path,
                       const char *profile)
{
  g_autoptr(GVariant) all = get_all (fixture->connection, path, DEVICE_IFACE);
  g_autoptr(PmDBusDevice) device = device_proxy (fixture, path);
  g_autoptr(JsonObject) info = pm_test_get_info (fixture->session, "127.0.0.1", port_of_path (path));
  g_autoptr(JsonObject) from_bus = bus_info (device);
  const char *text;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (device_profiles); i++)
    if (g_str_equal (device_profiles[i].profile, profile))
      break;
  g_assert_cmpuint (i, <, G_N_ELEMENTS (device_profiles));

  g_assert_cmpuint (g_variant_n_children (all), ==, 9);
  g_assert_true (g_variant_lookup (all, "Profile", "&s", &text));
  g_assert_cmpstr (text, ==, profile);
  g_assert_true (g_variant_lookup (all, "ApiVersion", "&s", &text));
  g_assert_cmpstr (text, ==, device_profiles[i].api_version);
  g_assert_cmpstr (pm_dbus_device_get_profile (device), ==, profile);
  g_assert_cmpstr (pm_dbus_device_get_api_version (device), ==, device_profiles[i].api_version);
  g_assert_true (g_variant_lookup (all, "Firmware", "&s", &text));
  g_assert_cmpstr (text, ==, member_string (info, "version"));

  g_assert_cmpstr (member_string (info, "ASICModel"), ==, device_profiles[i].asic_model);
  g_assert_cmpstr (member_string (from_bus, "ASICModel"), ==, device_profiles[i].asic_model);
  if (device_profiles[i].api_version[0] != '\0')
    {
      g_assert_false (json_object_has_member (info, "macAddr"));
      g_assert_cmpstr (json_object_has_member (info, "hashRate_10m") ? "new" : "legacy", ==,
                       device_profiles[i].api_version);
    }
  else
    {
      g_assert_true (json_object_has_member (info, "macAddr"));
      g_assert_true (json_object_has_member (from_bus, "macAddr"));
    }
}

/* The profile option: the device is what it names, over the bus and
 * over HTTP. */
static void
test_add_profile (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonArray) servers = NULL;
  gsize i;

  /* axeos-gamma: no API version, and the AxeOS info of a Gamma. */
  path = add_device (fixture, "{'profile': <'axeos-gamma'>}");
  assert_device_profile (fixture, path, "axeos-gamma");
  info = pm_test_get_info (fixture->session, "127.0.0.1", port_of_path (path));
  g_assert_cmpstr (member_string (info, "ASICModel"), ==, "BM1370");
  g_assert_true (json_object_has_member (info, "macAddr"));
  g_assert_cmpstr (member_string (info, "hostname"), ==, "mockaxe3");
  servers = pm_test_get_servers (fixture->session, fixture->listing_port);
  g_assert_nonnull (find_server (servers, port_of_path (path)));

  /* Every device profile, each announced with the same interface. */
  for (i = 0; i < G_N_ELEMENTS (device_profiles); i++)
    {
      g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) interfaces = NULL;
      g_autofree char *added = NULL;
      g_autofree char *description = NULL;
      guint events_at_reply;
      gssize announced;

      g_test_message ("AddDevice: profile %s", device_profiles[i].profile);
      recorder_clear (recorder);
      g_variant_builder_add (&options, "{sv}", "profile",
                             g_variant_new_string (device_profiles[i].profile));
      reply = call_recorded (recorder, MANAGER_PATH, MANAGER_IFACE, "AddDevice",
                             g_variant_new ("(@a{sv})", g_variant_builder_end (&options)),
                             "(o)", &events_at_reply, &error);
      g_assert_no_error (error);
      g_variant_get (reply, "(o)", &added);
      announced = recorder_find (recorder, "InterfacesAdded", added, 0, -1);
      if (announced < 0 || (guint) announced >= events_at_reply)
        g_error ("InterfacesAdded for %s did not come before the reply", added);
      g_variant_get_child (((Event *) g_ptr_array_index (recorder->events, announced))->body,
                           1, "@a{sa{sv}}", &interfaces);
      description = describe_interfaces (interfaces);
      g_assert_cmpstr (description, ==, DEVICE_DESCRIPTION);
      assert_device_profile (fixture, added, device_profiles[i].profile);
    }

  /* A pluto-* profile and the API version that goes with it. */
  {
    g_autofree char *both = add_device (fixture, "{'profile': <'pluto-new'>, 'api-version': <'new'>}");
    g_autofree char *reversed = add_device (fixture, "{'api-version': <'legacy'>, 'profile': <'pluto-legacy'>}");

    assert_device_profile (fixture, both, "pluto-new");
    assert_device_profile (fixture, reversed, "pluto-legacy");
  }
}

static void
test_startup_devices (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(GVariant) objects = get_managed_objects (fixture->connection);
  g_autoptr(GVariant) manager = NULL;
  g_autoptr(JsonArray) servers = pm_test_get_servers (fixture->session, fixture->listing_port);
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *added_path = NULL;
  g_autofree char *added_description = NULL;
  g_autofree char *manager_description = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GVariant) added_interfaces = NULL;
  GList *client_objects;
  guint i;

  /* The manager and the two devices of PORTS, nothing else. */
  g_assert_cmpuint (g_variant_n_children (objects), ==, 3);
  manager = g_variant_lookup_value (objects, MANAGER_PATH, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_assert_nonnull (manager);
  manager_description = describe_interfaces (manager);
  g_assert_cmpstr (manager_description, ==, MANAGER_DESCRIPTION);
  g_assert_cmpuint (json_array_get_length (servers), ==, 2);

  /* A device added now, to compare with. */
  added_path = add_device (fixture, "{}");
  after = get_managed_objects (fixture->connection);
  added_interfaces = g_variant_lookup_value (after, added_path, G_VARIANT_TYPE ("a{sa{sv}}"));
  g_assert_nonnull (added_interfaces);
  added_description = describe_interfaces (added_interfaces);
  g_assert_cmpstr (added_description, ==, DEVICE_DESCRIPTION);

  /* The two of PORTS, as they were listed before it. */
  for (i = 0; i < 2; i++)
    {
      g_autofree char *path = device_path (startup_port (fixture, i));
      g_autoptr(GVariant) interfaces = g_variant_lookup_value (objects, path,
                                                               G_VARIANT_TYPE ("a{sa{sv}}"));
      g_autoptr(GVariant) properties = NULL;
      g_autofree char *description = NULL;

      if (interfaces == NULL)
        g_error ("GetManagedObjects has no %s", path);
      description = describe_interfaces (interfaces);
      g_assert_cmpstr (description, ==, added_description);
      properties = g_variant_lookup_value (interfaces, DEVICE_IFACE, G_VARIANT_TYPE ("a{sv}"));
      assert_device_properties (fixture, path, properties, startup_hostnames[i],
                                startup_api_versions[i], NULL, fixture->started_ms, fixture->up_ms);
    }

  /* The object manager client knows all four objects as typed proxies. */
  client_objects = g_dbus_object_manager_get_objects (recorder->client);
  g_assert_cmpuint (g_list_length (client_objects), ==, 4);
  g_list_free_full (client_objects, g_object_unref);
}

static void
test_remove (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *added = add_device (fixture, "{'hostname': <'goner'>}");
  g_autofree char *startup = device_path (startup_port (fixture, 0));
  const char *const paths[] = { added, startup };
  guint i;

  recorder_clear (recorder);

  for (i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      const char *path = paths[i];
      guint port = port_of_path (path);
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GVariant) objects = NULL;
      g_autoptr(GVariant) body_path = NULL;
      g_autoptr(JsonArray) servers = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *state = NULL;
      guint events_at_reply;
      gssize removed;

      g_test_message ("removing %s", path);
      g_assert_cmpuint (http_status (fixture->session, "GET", port, "/api/system/info"), ==, 200);
      reply = call_recorded (recorder, MANAGER_PATH, MANAGER_IFACE, "RemoveDevice",
                             g_variant_new ("(o)", path), "()", &events_at_reply, &error);
      g_assert_no_error (error);

      /* InterfacesRemoved came before the reply, and names the device
       * interface. */
      removed = recorder_find (recorder, "InterfacesRemoved", path, 0, -1);
      if (removed < 0 || (guint) removed >= events_at_reply)
        g_error ("InterfacesRemoved for %s did not come before the reply", path);
      {
        Event *event = g_ptr_array_index (recorder->events, removed);
        g_autofree const char **names = NULL;

        g_variant_get (event->body, "(&o^a&s)", NULL, &names);
        g_assert_cmpuint (g_strv_length ((char **) names), ==, 1);
        g_assert_cmpstr (names[0], ==, DEVICE_IFACE);
      }
      recorder_wait (recorder, "object-removed", path, 0, -1, PM_TEST_TIMEOUT_MS);

      /* Closed, unlisted, unexported, at once. */
      assert_refused (port);
      servers = pm_test_get_servers (fixture->session, fixture->listing_port);
      g_assert_null (find_server (servers, port));
      objects = get_managed_objects (fixture->connection);
      body_path = g_variant_lookup_value (objects, path, NULL);
      g_assert_null (body_path);
      g_assert_null (g_dbus_object_manager_get_object (recorder->client, path));
      state = fleet_state (fixture);
      g_assert_null (strstr (state, path + strlen (DEVICE_PATH_PREFIX)));
    }

  /* The rest of the fleet carries on. */
  g_assert_cmpuint (http_status (fixture->session, "GET", startup_port (fixture, 1),
                                 "/api/system/info"), ==, 200);
  g_assert_cmpuint (recorder_count (recorder, "InterfacesRemoved"), ==, 2);
  g_assert_cmpuint (recorder_count (recorder, "InterfacesAdded"), ==, 0);
}

static void
test_manager_properties (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(GVariant) all = get_all (fixture->connection, MANAGER_PATH, MANAGER_IFACE);
  g_autoptr(GVariant) listing = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "ListingPort");
  g_autoptr(GVariant) logs = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "LogsEnabled");
  g_autoptr(GVariant) version = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "Version");
  g_autoptr(GVariant) seed = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "Seed");
  g_autoptr(GVariant) bind = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "BindAddress");
  g_autoptr(JsonArray) servers = NULL;
  g_autoptr(PmDBusDevice) device = NULL;
  g_autoptr(PmTestDaemon) replay = NULL;
  g_autofree char *path = device_path (startup_port (fixture, 0));
  g_autofree char *seed_text = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *firmware = NULL;

  g_assert_cmpuint (g_variant_n_children (all), ==, 7);

  g_assert_cmpstr (g_variant_get_type_string (bind), ==, "s");
  g_assert_cmpstr (g_variant_get_string (bind, NULL), ==, "127.0.0.1");

  /* ListingPort: LISTING_PORT=0 let the kernel pick it, and /servers
   * answers there, listing the fleet. */
  g_assert_cmpstr (g_variant_get_type_string (listing), ==, "u");
  g_assert_cmpuint (g_variant_get_uint32 (listing), ==, fixture->listing_port);
  servers = pm_test_get_servers (fixture->session, g_variant_get_uint32 (listing));
  g_assert_cmpuint (json_array_get_length (servers), ==, 2);
  g_assert_nonnull (find_server (servers, startup_port (fixture, 0)));
  g_assert_nonnull (find_server (servers, startup_port (fixture, 1)));

  g_assert_cmpstr (g_variant_get_type_string (logs), ==, "b");
  g_assert_false (g_variant_get_boolean (logs));
  g_assert_false (pm_dbus_manager_get_logs_enabled (fixture->manager));

  g_assert_cmpstr (g_variant_get_type_string (version), ==, "s");
  g_assert_cmpstr (g_variant_get_string (version, NULL), ==, PACKAGE_VERSION);

  /* Seed is the seed: a daemon run with it draws the same firmware for
   * the same port.  Free mockaxe1's port and start one there. */
  g_assert_cmpstr (g_variant_get_type_string (seed), ==, "t");
  g_assert_cmpuint (pm_dbus_manager_get_seed (fixture->manager), ==, g_variant_get_uint64 (seed));
  device = device_proxy (fixture, path);
  firmware = pm_dbus_device_dup_firmware (device);
  remove_device (fixture, path);

  seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (seed));
  {
    const char *extra[] = { "--no-dbus", "--seed", seed_text, NULL };

    replay = spawn_daemon_on (0, startup_port (fixture, 0), extra, NULL);
  }
  assert_said (replay, SAYS_LISTING);
  expected = g_strdup_printf ("mockaxe1 (legacy API, firmware %s) listening on http://127.0.0.1:%u",
                              firmware, startup_port (fixture, 0));
  if (strstr (replay->output->str, expected) == NULL)
    g_error ("A daemon run with --seed %s did not say “%s”; it said:\n%s",
             seed_text, expected, replay->output->str);
  g_assert_cmpint (pm_test_daemon_stop (replay), ==, 0);
}

static void
test_logs_enabled (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GVariant) logs = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "LogsEnabled");

  g_assert_true (g_variant_get_boolean (logs));
  g_assert_true (pm_dbus_manager_get_logs_enabled (fixture->manager));
}

/* ---- /dbus/device --------------------------------------------------------------- */

static void
test_device_properties (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autofree char *added = NULL;
  g_autoptr(PmDBusDevice) device = NULL;
  g_autoptr(GVariant) hostname = NULL;
  g_autoptr(GVariant) firmware = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonArray) servers = NULL;
  gint64 before, after;
  guint i;

  /* GetAll, for the devices of PORTS and one added now. */
  for (i = 0; i < G_N_ELEMENTS (startup_hostnames); i++)
    {
      g_autofree char *path = device_path (startup_port (fixture, i));

      assert_device_properties (fixture, path, NULL, startup_hostnames[i], startup_api_versions[i],
                                NULL, fixture->started_ms, fixture->up_ms);
    }

  before = now_ms ();
  added = add_device (fixture, "{'hostname': <'props'>, 'api-version': <'new'>, 'firmware': <'v7.7.7'>}");
  after = now_ms ();
  assert_device_properties (fixture, added, NULL, "props", "new", "v7.7.7", before, after);

  /* An Update lays another hostname and version over what the device
   * reports; the properties (and /servers) keep what it started with. */
  device = device_proxy (fixture, added);
  bus_update (device, "{\"hostname\":\"disguised\",\"version\":\"v0.0.1-fake\"}");
  info = pm_test_get_info (fixture->session, "127.0.0.1", pm_dbus_device_get_port (device));
  g_assert_cmpstr (member_string (info, "hostname"), ==, "disguised");
  g_assert_cmpstr (member_string (info, "version"), ==, "v0.0.1-fake");
  hostname = get_property (fixture->connection, added, DEVICE_IFACE, "Hostname");
  firmware = get_property (fixture->connection, added, DEVICE_IFACE, "Firmware");
  g_assert_cmpstr (g_variant_get_string (hostname, NULL), ==, "props");
  g_assert_cmpstr (g_variant_get_string (firmware, NULL), ==, "v7.7.7");
  servers = pm_test_get_servers (fixture->session, fixture->listing_port);
  g_assert_cmpstr (member_string (find_server (servers, pm_dbus_device_get_port (device)), "hostname"),
                   ==, "props");
}

/* Checks that GetInfo and GET /api/system/info agree: the same members,
 * of the same kinds, and the same values for those that do not change
 * from one request to the next. */
static void
assert_info_agrees (JsonObject *from_bus,
                    JsonObject *from_http)
{
  static const char *const stable[] = {
    "hostname", "version", "ssid", "wifiStatus", "ASICModel", "stratumURL", "stratumPort",
    "stratumUser", "runningPartition", "boardVersion", "deviceModel", "maxPower", "minPower",
    "maxVoltage", "minVoltage", "jobInterval", "overheat_temp", "lastResetReason",
  };
  g_autoptr(GList) names = json_object_get_members (from_http);
  GList *l;
  gsize i;
  guint n_stable = 0;

  g_assert_cmpuint (json_object_get_size (from_bus), ==, json_object_get_size (from_http));
  for (l = names; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *a = json_object_get_member (from_bus, name);
      JsonNode *b = json_object_get_member (from_http, name);

      if (a == NULL)
        g_error ("GetInfo has no “%s”, which HTTP has", name);
      g_assert_cmpint (json_node_get_node_type (a), ==, json_node_get_node_type (b));
      if (JSON_NODE_HOLDS_VALUE (a))
        g_assert_cmpint (json_node_get_value_type (a) == G_TYPE_STRING, ==,
                         json_node_get_value_type (b) == G_TYPE_STRING);
    }

  for (i = 0; i < G_N_ELEMENTS (stable); i++)
    {
      JsonNode *a = json_object_get_member (from_bus, stable[i]);
      JsonNode *b = json_object_get_member (from_http, stable[i]);

      if (a == NULL)
        continue;
      n_stable++;
      if (!json_node_equal (a, b))
        g_error ("GetInfo and HTTP differ on “%s”: %s / %s", stable[i],
                 json_to_string (a, FALSE), json_to_string (b, FALSE));
    }
  g_assert_cmpuint (n_stable, >=, 9);

  /* The uptime is the same clock. */
  g_assert_cmpint (ABS (member_int (from_bus, "uptimeSeconds") - member_int (from_http, "uptimeSeconds")), <=, 1);
}

static void
test_device_info (Fixture       *fixture,
                  gconstpointer  user_data)
{
  guint port = startup_port (fixture, 0);
  g_autofree char *path = device_path (port);
  g_autofree char *other_path = device_path (startup_port (fixture, 1));
  g_autoptr(PmDBusDevice) device = device_proxy (fixture, path);
  g_autoptr(PmDBusDevice) other = device_proxy (fixture, other_path);
  PmDBusDevice *const startup[] = { device, other };
  g_autoptr(JsonObject) from_http = NULL;
  g_autoptr(JsonObject) from_bus = NULL;
  g_autoptr(JsonObject) other_info = NULL;
  JsonNode *nested;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (startup); i++)
    {
      g_autoptr(JsonObject) bus = bus_info (startup[i]);
      g_autoptr(JsonObject) http = pm_test_get_info (fixture->session, "127.0.0.1",
                                                     startup_port (fixture, i));

      g_test_message ("GetInfo of %s", startup_hostnames[i]);
      assert_info_agrees (bus, http);
      assert_info_shape (bus, startup_api_versions[i], startup_hostnames[i],
                         pm_dbus_device_get_firmware (startup[i]));
    }

  /* Update over the bus shows over HTTP, and PATCH over HTTP in GetInfo;
   * the two merge, and only on that device. */
  bus_update (device, "{\"fanspeed\":42,\"note\":\"from-dbus\",\"nested\":{\"a\":[1,2]}}");
  from_http = pm_test_get_info (fixture->session, "127.0.0.1", port);
  g_assert_cmpint (member_int (from_http, "fanspeed"), ==, 42);
  g_assert_cmpstr (member_string (from_http, "note"), ==, "from-dbus");
  nested = json_object_get_member (from_http, "nested");
  g_assert_nonnull (nested);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (nested));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (nested), "a")), ==, 2);

  http_patch (fixture->session, port, "{\"fanspeed\":17,\"other\":\"from-http\"}");
  from_bus = bus_info (device);
  g_assert_cmpint (member_int (from_bus, "fanspeed"), ==, 17);
  g_assert_cmpstr (member_string (from_bus, "other"), ==, "from-http");
  g_assert_cmpstr (member_string (from_bus, "note"), ==, "from-dbus");
  g_clear_pointer (&from_http, json_object_unref);
  from_http = pm_test_get_info (fixture->session, "127.0.0.1", port);
  assert_info_agrees (from_bus, from_http);

  other_info = bus_info (other);
  g_assert_false (json_object_has_member (other_info, "note"));
  g_assert_false (json_object_has_member (other_info, "other"));
}

static void
test_device_restart (Fixture       *fixture,
                     gconstpointer  user_data)
{
  guint port = startup_port (fixture, 0);
  guint other_port = startup_port (fixture, 1);
  g_autofree char *path = device_path (port);
  g_autofree char *other_path = device_path (other_port);
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autoptr(PmDBusDevice) device = device_proxy (fixture, path);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autofree char *json = NULL;
  gint64 before, elapsed_ms;
  guint on, off;

  bus_update (device, "{\"note\":\"before\"}");
  recorder_clear (recorder);

  before = g_get_monotonic_time ();
  pm_dbus_device_call_restart_sync (device, CALL_FLAGS, NULL, &error);
  g_assert_no_error (error);

  /* At once: 503, Restarting, and PropertiesChanged saying so. */
  g_assert_cmpuint (http_status (fixture->session, "GET", port, "/api/system/info"), ==, 503);
  g_assert_true (get_restarting (fixture->connection, path));
  on = recorder_wait (recorder, "PropertiesChanged", path, 0, TRUE, PM_TEST_TIMEOUT_MS);

  /* Only that device. */
  g_assert_cmpuint (http_status (fixture->session, "GET", other_port, "/api/system/info"), ==, 200);
  g_assert_false (get_restarting (fixture->connection, other_path));

  /* Meanwhile Restart, GetInfo and Update fail with Restarting. */
  pm_dbus_device_call_restart_sync (device, CALL_FLAGS, NULL, &error);
  assert_pm_error (error, PM_ERROR_RESTARTING, "Restarting");
  g_clear_error (&error);
  g_assert_false (pm_dbus_device_call_get_info_sync (device, CALL_FLAGS, &json, NULL, &error));
  assert_pm_error (error, PM_ERROR_RESTARTING, "Restarting");
  g_clear_error (&error);
  g_assert_false (pm_dbus_device_call_update_sync (device, "{\"note\":\"during\"}", CALL_FLAGS, NULL, &error));
  assert_pm_error (error, PM_ERROR_RESTARTING, "Restarting");
  g_clear_error (&error);
  g_assert_cmpuint (http_status (fixture->session, "GET", port, "/api/system/info"), ==, 503);
  g_assert_true (get_restarting (fixture->connection, path));

  /* After the window: PropertiesChanged with false, and 200 again. */
  off = recorder_wait (recorder, "PropertiesChanged", path, on + 1, FALSE, RESTART_WINDOW_MS + 3000);
  elapsed_ms = (g_get_monotonic_time () - before) / 1000;
  g_test_message ("the restart took %" G_GINT64_FORMAT " ms", elapsed_ms);
  g_assert_cmpint (elapsed_ms, >=, RESTART_WINDOW_MS - 100);
  g_assert_cmpint (elapsed_ms, <, RESTART_WINDOW_MS + 3000);
  g_assert_false (get_restarting (fixture->connection, path));
  g_assert_cmpuint (http_status (fixture->session, "GET", port, "/api/system/info"), ==, 200);

  /* The update refused meanwhile was not stored; the earlier one was
   * kept. */
  info = bus_info (device);
  g_assert_cmpstr (member_string (info, "note"), ==, "before");

  /* Exactly one change each way, for this device only. */
  g_assert_cmpint (recorder_find (recorder, "PropertiesChanged", other_path, 0, -1), ==, -1);
  g_assert_cmpint (recorder_find (recorder, "PropertiesChanged", path, on + 1, TRUE), ==, -1);
  g_assert_cmpint (recorder_find (recorder, "PropertiesChanged", path, off + 1, -1), ==, -1);
}

/* ---- /dbus/errors ----------------------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *options;  /* a{sv} in GVariant text */
} BadOptions;

/* After a failed call: the fleet is as it was and no device appeared. */
static void
assert_unchanged (Fixture    *fixture,
                  Recorder   *recorder,
                  const char *before)
{
  g_autofree char *after = fleet_state (fixture);

  g_assert_cmpstr (after, ==, before);
  flush_main_context ();
  g_assert_cmpuint (recorder_count (recorder, "InterfacesAdded"), ==, 0);
  g_assert_cmpuint (recorder_count (recorder, "InterfacesRemoved"), ==, 0);
  g_assert_cmpuint (recorder_count (recorder, "object-added"), ==, 0);
}

/* AddDevice(@options_text) fails with PM_ERROR @code, called @name on the
 * bus, and changes nothing. */
static void
assert_add_refused (Fixture    *fixture,
                    Recorder   *recorder,
                    const char *before,
                    const char *options_text,
                    PmError     code,
                    const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) options = g_variant_parse (G_VARIANT_TYPE_VARDICT, options_text, NULL, NULL,
                                                 &error);
  g_autofree char *path = NULL;

  g_assert_no_error (error);
  if (pm_dbus_manager_call_add_device_sync (fixture->manager, options, CALL_FLAGS, &path, NULL, &error))
    g_error ("AddDevice(%s) gave %s; it should fail", options_text, path);
  assert_pm_error (error, code, name);
  assert_unchanged (fixture, recorder, before);
}

static void
test_errors_add (Fixture       *fixture,
                 gconstpointer  user_data)
{
  static const BadOptions invalid[] = {
    { "unknown option", "{'colour': <'red'>}" },
    { "unknown option with a good one", "{'api-version': <'new'>, 'colour': <'red'>}" },
    { "port as int32", "{'port': <int32 7000>}" },
    { "port as string", "{'port': <'7000'>}" },
    { "port out of range", "{'port': <uint32 70000>}" },
    { "hostname as int32", "{'hostname': <42>}" },
    { "api-version bogus", "{'api-version': <'bogus'>}" },
    { "api-version empty", "{'api-version': <''>}" },
    { "api-version as boolean", "{'api-version': <true>}" },
    { "hostname empty", "{'hostname': <''>}" },
    { "hostname with a space and !", "{'hostname': <'bad name!'>}" },
    { "hostname with a dot", "{'hostname': <'a.b'>}" },
    { "hostname all digits (it would read as a port)", "{'hostname': <'12345'>}" },
    { "hostname starting with a hyphen", "{'hostname': <'-rig'>}" },
    { "firmware of 65 characters", "{'firmware': <'ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé'>}" },
    { "hostname too long", NULL },
    { "firmware empty", "{'firmware': <''>}" },
    { "firmware empty with a good hostname", "{'hostname': <'fine-name'>, 'firmware': <''>}" },
    { "firmware as int32", "{'firmware': <2>}" },
    { "option given twice", "{'hostname': <'twice'>, 'hostname': <'twice'>}" },
  };
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *before = fleet_state (fixture);
  g_autofree char *too_long = g_strnfill (HOSTNAME_MAX + 1, 'h');
  g_autofree char *too_long_options = g_strdup_printf ("{'hostname': <'%s'>}", too_long);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_test_message ("AddDevice: %s", invalid[i].name);
      assert_add_refused (fixture, recorder, before,
                          invalid[i].options != NULL ? invalid[i].options : too_long_options,
                          PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
    }

  /* A port a device has. */
  {
    g_autofree char *options = g_strdup_printf ("{'port': <uint32 %u>}", startup_port (fixture, 1));

    g_test_message ("AddDevice: port of a device");
    assert_add_refused (fixture, recorder, before, options, PM_ERROR_PORT_IN_USE, "PortInUse");
    g_assert_cmpuint (http_status (fixture->session, "GET", startup_port (fixture, 1),
                                   "/api/system/info"), ==, 200);
  }

  /* A port some other socket has. */
  {
    g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *options = NULL;
    g_autofree char *freed_options = NULL;
    g_autofree char *freed_path = NULL;
    guint port;

    g_test_message ("AddDevice: port of another socket");
    g_assert_nonnull (socket);
    g_socket_bind (socket, any, FALSE, &error);
    g_assert_no_error (error);
    g_socket_listen (socket, &error);
    g_assert_no_error (error);
    bound = g_socket_get_local_address (socket, &error);
    g_assert_no_error (error);
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

    options = g_strdup_printf ("{'port': <uint32 %u>}", port);
    assert_add_refused (fixture, recorder, before, options, PM_ERROR_PORT_IN_USE, "PortInUse");

    /* Once the socket lets go, the same call works. */
    g_socket_close (socket, NULL);
    freed_options = g_strdup_printf ("{'port': <uint32 %u>, 'hostname': <'freed-port'>}", port);
    freed_path = add_device (fixture, freed_options);
    g_assert_cmpuint (port_of_path (freed_path), ==, port);
    remove_device (fixture, freed_path);
    recorder_clear (recorder);
    assert_unchanged (fixture, recorder, before);
  }

  /* A hostname a device has, alone or with a free port (which stays
   * free). */
  {
    g_autoptr(GArray) ports = pm_test_free_ports (1, NULL);
    guint port = g_array_index (ports, guint, 0);
    g_autofree char *options = g_strdup_printf ("{'hostname': <'mockaxe2'>, 'port': <uint32 %u>}", port);

    g_test_message ("AddDevice: hostname of a device");
    assert_add_refused (fixture, recorder, before, "{'hostname': <'mockaxe1'>}",
                        PM_ERROR_HOSTNAME_IN_USE, "HostnameInUse");
    assert_add_refused (fixture, recorder, before, options,
                        PM_ERROR_HOSTNAME_IN_USE, "HostnameInUse");
    assert_refused (port);
  }

  /* The failures used up nothing: the next default is mockaxe3, and the
   * names refused for other reasons are free. */
  assert_next_default (fixture);
  g_free (add_device (fixture, "{'hostname': <'fine-name'>}"));
  g_free (add_device (fixture, "{'hostname': <'twice'>}"));

  /* The firmware limit counts characters, not bytes: 64 two-byte ones. */
  {
    g_autoptr(GString) options = g_string_new ("{'firmware': <'");
    g_autofree char *path = NULL;
    guint j;

    for (j = 0; j < 64; j++)
      g_string_append (options, "é");
    g_string_append (options, "'>}");
    path = add_device (fixture, options->str);
    remove_device (fixture, path);
  }
}

/* The longest an error message may quote of a client's value, and the
 * most any of the messages below may be with the text around it. */
#define QUOTE_CHARS 64
#define MESSAGE_MAX_CHARS 300

/* Checks that @message, an error's message with the remote prefix
 * stripped, can go in one log line: valid UTF-8, no control character,
 * and short whatever the client sent. */
static void
assert_message_quotable (const char *message)
{
  const char *p;

  g_assert_true (g_utf8_validate (message, -1, NULL));
  for (p = message; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7F && c < 0xA0))
        g_error ("The message holds U+%04X: “%s”", c, message);
    }
  if (g_utf8_strlen (message, -1) > MESSAGE_MAX_CHARS)
    g_error ("The message has %ld characters: “%.200s…”", g_utf8_strlen (message, -1), message);
}

/* AddDevice(@options) fails with InvalidArgument, changes nothing, and
 * says why in a quotable message, which is returned. */
static char *
add_refused_message (Fixture    *fixture,
                     Recorder   *recorder,
                     const char *before,
                     GVariant   *options)
{
  g_autoptr(GVariant) owned = g_variant_take_ref (options);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (pm_dbus_manager_call_add_device_sync (fixture->manager, owned, CALL_FLAGS, &path, NULL, &error))
    g_error ("AddDevice gave %s; it should fail", path);
  assert_pm_error (error, PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
  assert_unchanged (fixture, recorder, before);
  g_dbus_error_strip_remote_error (error);
  assert_message_quotable (error->message);
  return g_strdup (error->message);
}

static GVariant *
one_option (const char *name,
            const char *value)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&builder, "{sv}", name, g_variant_new_string (value));
  return g_variant_builder_end (&builder);
}

/* A string of @n_bytes: @unit over and over, @unit's bytes never cut. */
static char *
repeated (const char *unit,
          gsize       n_bytes)
{
  GString *text = g_string_sized_new (n_bytes);

  while (text->len + strlen (unit) <= n_bytes)
    g_string_append (text, unit);
  return g_string_free (text, FALSE);
}

/* A hostname or firmware with a control character is refused, the
 * message naming the problem; and whatever a client sends, an error
 * message quotes at most QUOTE_CHARS characters of it, cut between
 * characters and marked with the whole length. */
static void
test_errors_add_text (Fixture       *fixture,
                      gconstpointer  user_data)
{
  static const char *const controls[] = {
    "\n", "\r", "\t", "\x1b", "\x7f", "\xc2\x85" /* U+0085 */, "\xc2\x9b" /* U+009B */, "\x01",
  };
  static const char *const options[] = { "hostname", "firmware" };
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *before = fleet_state (fixture);
  gsize i, j;

  for (i = 0; i < G_N_ELEMENTS (options); i++)
    for (j = 0; j < G_N_ELEMENTS (controls); j++)
      {
        g_autofree char *value = g_strconcat ("rig", controls[j], "INJECTED", NULL);
        g_autofree char *message = NULL;

        g_test_message ("AddDevice: %s with control character %" G_GSIZE_FORMAT, options[i], j);
        message = add_refused_message (fixture, recorder, before, one_option (options[i], value));
        if (strstr (message, "control character") == NULL || strstr (message, options[i]) == NULL)
          g_error ("The message does not name the problem: “%s”", message);
      }

  /* 1 MiB in each string a client can send: the message quotes the
   * start, cut between characters (two-byte ones here), and the whole
   * length. */
  {
    g_autofree char *ascii = repeated ("h", 1024 * 1024);
    g_autofree char *accented = repeated ("é", 1024 * 1024);
    const char *names[] = { "hostname", "firmware", "api-version" };

    for (i = 0; i < G_N_ELEMENTS (names); i++)
      {
        const char *values[] = { ascii, accented };

        for (j = 0; j < G_N_ELEMENTS (values); j++)
          {
            g_autofree char *message = NULL;
            g_autofree char *start = g_utf8_substring (values[j], 0, QUOTE_CHARS);
            g_autofree char *past = g_utf8_substring (values[j], 0, QUOTE_CHARS + 1);

            g_test_message ("AddDevice: 1 MiB %s, %s", names[i], j == 0 ? "ASCII" : "é");
            message = add_refused_message (fixture, recorder, before, one_option (names[i], values[j]));
            if (strstr (message, start) == NULL || strstr (message, past) != NULL ||
                strstr (message, "… (1048576 bytes)") == NULL)
              g_error ("The message does not quote the first %d characters and the length: “%s”",
                       QUOTE_CHARS, message);
          }
      }

    /* An option's name, and a type that is not the option's. */
    {
      g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
      g_autofree char *message = NULL;

      g_test_message ("AddDevice: an option named with 1 MiB");
      g_variant_builder_add (&builder, "{sv}", ascii, g_variant_new_uint32 (1));
      message = add_refused_message (fixture, recorder, before, g_variant_builder_end (&builder));
      g_assert_nonnull (strstr (message, "… (1048576 bytes)"));
    }
    {
      g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
      g_autofree char *message = NULL;
      GVariant *booleans[100];

      /* A signature of 102 characters (D-Bus allows 255). */
      g_test_message ("AddDevice: a port of a long type");
      for (i = 0; i < G_N_ELEMENTS (booleans); i++)
        booleans[i] = g_variant_new_boolean (TRUE);
      g_variant_builder_add (&builder, "{sv}", "port",
                             g_variant_new_tuple (booleans, G_N_ELEMENTS (booleans)));
      message = add_refused_message (fixture, recorder, before, g_variant_builder_end (&builder));
      g_assert_nonnull (strstr (message, "…"));
    }

    /* RemoveDevice with a long path that is no device's. */
    {
      g_autofree char *tail = repeated ("x", 1024 * 1024);
      g_autofree char *path = g_strconcat (DEVICE_PATH_PREFIX, tail, NULL);
      g_autoptr(GError) error = NULL;

      g_test_message ("RemoveDevice: a path of 1 MiB");
      g_assert_false (pm_dbus_manager_call_remove_device_sync (fixture->manager, path, CALL_FLAGS,
                                                               NULL, &error));
      assert_pm_error (error, PM_ERROR_NO_SUCH_DEVICE, "NoSuchDevice");
      g_dbus_error_strip_remote_error (error);
      assert_message_quotable (error->message);
      g_assert_nonnull (strstr (error->message, "… ("));
      assert_unchanged (fixture, recorder, before);
    }
  }

  /* Characters that are not control characters are fine in a firmware
   * version; the log says it on one line. */
  {
    g_autofree char *path = add_device (fixture, "{'firmware': <'v2.2.2 «β» \u00a0'>}");
    g_autoptr(PmDBusDevice) device = device_proxy (fixture, path);

    g_assert_cmpstr (pm_dbus_device_get_firmware (device), ==, "v2.2.2 «β» \u00a0");
    remove_device (fixture, path);
  }
}

/* A profile AddDevice refuses: InvalidArgument, a message that names
 * the problem, and nothing added or used up. */
static void
test_errors_add_profile (Fixture       *fixture,
                         gconstpointer  user_data)
{
  static const struct
  {
    const char *name;
    const char *options;  /* a{sv} in GVariant text */
    const char *says[3];  /* what the message must contain */
  } cases[] = {
    { "unknown", "{'profile': <'axeos-hyper'>}", { "profile", "'axeos-hyper'", NULL } },
    { "empty", "{'profile': <''>}", { "profile", "''", NULL } },
    { "in another case", "{'profile': <'AXEOS-GAMMA'>}", { "profile", "'AXEOS-GAMMA'", NULL } },
    { "with blanks", "{'profile': <' axeos-gamma'>}", { "profile", "' axeos-gamma'", NULL } },
    { "a list", "{'profile': <'axeos-gamma,pluto-new'>}", { "profile", "'axeos-gamma,pluto-new'", NULL } },
    { "as int32", "{'profile': <5>}", { "'profile'", "'i'", NULL } },
    { "as a string array", "{'profile': <['axeos-gamma']>}", { "'profile'", "'as'", NULL } },
    /* A way to assign profiles to a fleet, not a device's. */
    { "mixed", "{'profile': <'mixed'>}", { "profile", "'mixed'", NULL } },
    { "pluto-new with api-version legacy", "{'profile': <'pluto-new'>, 'api-version': <'legacy'>}",
      { "pluto-new", "legacy", NULL } },
    { "api-version legacy with pluto-new", "{'api-version': <'legacy'>, 'profile': <'pluto-new'>}",
      { "pluto-new", "legacy", NULL } },
    { "axeos-gamma with api-version new", "{'profile': <'axeos-gamma'>, 'api-version': <'new'>}",
      { "axeos-gamma", "new", NULL } },
    { "a good profile and a bad hostname", "{'profile': <'axeos-gamma'>, 'hostname': <'bad name'>}",
      { "hostname", NULL } },
    { "profile given twice", "{'profile': <'axeos-gamma'>, 'profile': <'axeos-gamma'>}",
      { "profile", "twice", NULL } },
  };
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *before = fleet_state (fixture);
  gsize i, j;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) options = g_variant_parse (G_VARIANT_TYPE_VARDICT, cases[i].options,
                                                     NULL, NULL, &error);
      g_autofree char *message = NULL;

      g_test_message ("AddDevice: profile %s", cases[i].name);
      g_assert_no_error (error);
      message = add_refused_message (fixture, recorder, before, g_steal_pointer (&options));
      for (j = 0; cases[i].says[j] != NULL; j++)
        if (strstr (message, cases[i].says[j]) == NULL)
          g_error ("The message does not name the problem (%s): “%s”", cases[i].says[j], message);
    }

  /* 1 MiB of a name: quoted shortened, with its length. */
  {
    g_autofree char *long_name = repeated ("x", 1024 * 1024);
    g_autofree char *message = add_refused_message (fixture, recorder, before,
                                                    one_option ("profile", long_name));

    g_assert_nonnull (strstr (message, "… (1048576 bytes)"));
  }

  /* Nothing was used up: the next default is mockaxe3. */
  assert_next_default (fixture);
}

static void
test_errors_remove (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *added = add_device (fixture, "{}");
  g_autofree char *before = NULL;
  g_autofree char *leading_zero = g_strdup_printf (DEVICE_PATH_PREFIX "0%u", startup_port (fixture, 0));
  g_autofree char *below = g_strdup_printf (DEVICE_PATH_PREFIX "%u/sub", startup_port (fixture, 0));
  /* The device just removed, then paths that never had one. */
  const char *bogus[] = {
    added,
    DEVICE_PATH_PREFIX "1",
    DEVICE_PATH_PREFIX "0",
    DEVICE_PATH_PREFIX "65536",
    DEVICE_PATH_PREFIX "abc",
    "/org/pluto/Mock1/Device",
    leading_zero,
    below,
    MANAGER_PATH,
    ROOT_PATH,
    "/",
  };
  gsize i;

  remove_device (fixture, added);
  recorder_clear (recorder);
  before = fleet_state (fixture);

  for (i = 0; i < G_N_ELEMENTS (bogus); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("RemoveDevice: %s", bogus[i]);
      if (pm_dbus_manager_call_remove_device_sync (fixture->manager, bogus[i], CALL_FLAGS, NULL, &error))
        g_error ("RemoveDevice(%s) succeeded; it should fail", bogus[i]);
      assert_pm_error (error, PM_ERROR_NO_SUCH_DEVICE, "NoSuchDevice");
      assert_unchanged (fixture, recorder, before);
    }

  /* The manager is still there and works. */
  {
    g_autoptr(GVariant) listing = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE,
                                                "ListingPort");

    g_assert_cmpuint (g_variant_get_uint32 (listing), ==, fixture->listing_port);
  }
  g_assert_cmpuint (http_status (fixture->session, "GET", startup_port (fixture, 0),
                                 "/api/system/info"), ==, 200);
}

typedef struct
{
  const char *name;
  const char *body;
  PmError     code;
  const char *error_name;
} BadUpdate;

/* What the device must still report after a refused update. */
static void
assert_kept (Fixture      *fixture,
             PmDBusDevice *device)
{
  g_autoptr(JsonObject) from_bus = bus_info (device);
  g_autoptr(JsonObject) from_http = pm_test_get_info (fixture->session, "127.0.0.1", pm_dbus_device_get_port (device));

  g_assert_cmpint (member_int (from_bus, "power"), ==, 21);
  g_assert_cmpstr (member_string (from_bus, "note"), ==, "keep");
  g_assert_false (json_object_has_member (from_bus, "evil"));
  g_assert_cmpuint (json_object_get_size (from_bus), ==, LEGACY_MEMBERS + 1);
  g_assert_cmpint (member_int (from_http, "power"), ==, 21);
  g_assert_false (json_object_has_member (from_http, "evil"));
}

/* Update(@body) fails with PM_ERROR @code, called @name on the bus, and
 * the device keeps what it had. */
static void
assert_update_refused (Fixture      *fixture,
                       PmDBusDevice *device,
                       const char   *body,
                       PmError       code,
                       const char   *name)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (pm_dbus_device_call_update_sync (device, body, CALL_FLAGS, NULL, &error));
  assert_pm_error (error, code, name);
  assert_kept (fixture, device);
}

static void
test_errors_update (Fixture       *fixture,
                    gconstpointer  user_data)
{
  static const BadUpdate bad[] = {
    { "malformed", "{not json", PM_ERROR_INVALID_JSON, "InvalidJson" },
    { "unterminated", "{\"power\":99,\"evil\":1", PM_ERROR_INVALID_JSON, "InvalidJson" },
    { "trailing comma", "{\"power\":99,\"evil\":1,}", PM_ERROR_INVALID_JSON, "InvalidJson" },
    { "garbage after", "{\"power\":99,\"evil\":1} x", PM_ERROR_INVALID_JSON, "InvalidJson" },
    { "empty", "", PM_ERROR_INVALID_JSON, "InvalidJson" },
    { "blank", " \n\t ", PM_ERROR_INVALID_JSON, "InvalidJson" },
    { "array", "[1]", PM_ERROR_NOT_AN_OBJECT, "NotAnObject" },
    { "array of an object", "[{\"power\":99,\"evil\":1}]", PM_ERROR_NOT_AN_OBJECT, "NotAnObject" },
    { "number", "42", PM_ERROR_NOT_AN_OBJECT, "NotAnObject" },
    { "string", "\"{}\"", PM_ERROR_NOT_AN_OBJECT, "NotAnObject" },
    { "null", "null", PM_ERROR_NOT_AN_OBJECT, "NotAnObject" },
  };
  guint port = startup_port (fixture, 0);
  g_autofree char *path = device_path (port);
  g_autoptr(PmDBusDevice) device = device_proxy (fixture, path);
  g_autofree char *over = padded_object ("{\"power\":99,\"evil\":1,", MAX_BODY_BYTES + 1);
  g_autofree char *at_limit = padded_object ("{\"note\":\"keep\",", MAX_BODY_BYTES);
  g_autofree char *too_deep = nested_object ("{\"power\":99,\"evil\":", MAX_DEPTH);
  g_autofree char *deep_enough = nested_object ("{\"deep\":", MAX_DEPTH - 1);
  g_autoptr(JsonObject) info = NULL;
  gsize i;

  bus_update (device, "{\"power\":21,\"note\":\"keep\"}");
  assert_kept (fixture, device);

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("Update: %s", bad[i].name);
      assert_update_refused (fixture, device, bad[i].body, bad[i].code, bad[i].error_name);
    }

  /* One byte over 64 KiB... */
  g_test_message ("Update: over 64 KiB");
  assert_update_refused (fixture, device, over, PM_ERROR_TOO_LARGE, "TooLarge");

  /* ...and nesting deeper than 64 (the object and 64 arrays). */
  g_test_message ("Update: too deep");
  assert_update_refused (fixture, device, too_deep, PM_ERROR_TOO_DEEP, "TooDeep");

  /* The limits themselves are fine. */
  bus_update (device, at_limit);
  bus_update (device, deep_enough);
  info = bus_info (device);
  g_assert_cmpuint (strlen (member_string (info, "pad")), ==, MAX_BODY_BYTES - strlen ("{\"note\":\"keep\",\"pad\":\"\"}"));
  g_assert_true (json_object_has_member (info, "deep"));
  g_assert_cmpint (member_int (info, "power"), ==, 21);
}

typedef struct
{
  const char *name;
  gboolean    on_device;
  const char *interface;
  const char *method;
  const char *parameters;  /* GVariant text, or NULL for none */
  GDBusError  code;
  const char *error_name;
} BadCall;

#define INVALID_ARGS G_DBUS_ERROR_INVALID_ARGS, "org.freedesktop.DBus.Error.InvalidArgs"
#define UNKNOWN_METHOD G_DBUS_ERROR_UNKNOWN_METHOD, "org.freedesktop.DBus.Error.UnknownMethod"

static void
test_errors_signature (Fixture       *fixture,
                       gconstpointer  user_data)
{
  static const BadCall calls[] = {
    { "AddDevice(s)", FALSE, MANAGER_IFACE, "AddDevice", "('port',)", INVALID_ARGS },
    { "AddDevice()", FALSE, MANAGER_IFACE, "AddDevice", NULL, INVALID_ARGS },
    { "AddDevice(a{ss})", FALSE, MANAGER_IFACE, "AddDevice", "({'port': '1'},)", INVALID_ARGS },
    { "AddDevice(a{sv}a{sv})", FALSE, MANAGER_IFACE, "AddDevice", "(@a{sv} {}, @a{sv} {})", INVALID_ARGS },
    { "RemoveDevice(s)", FALSE, MANAGER_IFACE, "RemoveDevice", "('/org/pluto/Mock1/Device/1',)", INVALID_ARGS },
    { "RemoveDevice(u)", FALSE, MANAGER_IFACE, "RemoveDevice", "(uint32 1,)", INVALID_ARGS },
    { "RemoveDevice()", FALSE, MANAGER_IFACE, "RemoveDevice", NULL, INVALID_ARGS },
    { "Update(i)", TRUE, DEVICE_IFACE, "Update", "(1,)", INVALID_ARGS },
    { "Update()", TRUE, DEVICE_IFACE, "Update", NULL, INVALID_ARGS },
    { "GetInfo(s)", TRUE, DEVICE_IFACE, "GetInfo", "('x',)", INVALID_ARGS },
    { "Restart(b)", TRUE, DEVICE_IFACE, "Restart", "(true,)", INVALID_ARGS },
    { "SetFault(s)", TRUE, DEVICE_IFACE, "SetFault", "('offline',)", INVALID_ARGS },
    { "SetFault(sa{ss})", TRUE, DEVICE_IFACE, "SetFault", "('latency', {'ms': '1'})", INVALID_ARGS },
    { "ClearFaults(s)", TRUE, DEVICE_IFACE, "ClearFaults", "('offline',)", INVALID_ARGS },
    { "Manager.SetFault(sa{sv})", FALSE, MANAGER_IFACE, "SetFault", "('offline', @a{sv} {})", INVALID_ARGS },
    { "Manager.ClearFault(s)", FALSE, MANAGER_IFACE, "ClearFault", "('offline',)", INVALID_ARGS },
    { "Manager.ClearFaults()", FALSE, MANAGER_IFACE, "ClearFaults", NULL, INVALID_ARGS },
    { "Set a read-only property", TRUE, PROPERTIES_IFACE, "Set",
      "('org.pluto.Mock1.Device', 'Port', <uint32 1>)", INVALID_ARGS },
    { "Get an unknown property", FALSE, PROPERTIES_IFACE, "Get",
      "('org.pluto.Mock1.Manager', 'Nope')", INVALID_ARGS },
    { "an unknown method", FALSE, MANAGER_IFACE, "Frobnicate", NULL, UNKNOWN_METHOD },
    { "a manager method on a device", TRUE, DEVICE_IFACE, "AddDevice", "(@a{sv} {},)", UNKNOWN_METHOD },
  };
  g_autofree char *path = device_path (startup_port (fixture, 0));
  g_autofree char *before = fleet_state (fixture);
  g_autofree char *after = NULL;
  g_autoptr(PmDBusDevice) device = device_proxy (fixture, path);
  g_autoptr(JsonObject) info = NULL;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autofree char *owner = NULL;
      g_autoptr(GVariant) parameters = NULL;

      g_test_message ("call: %s", calls[i].name);
      if (calls[i].parameters != NULL)
        {
          parameters = g_variant_parse (NULL, calls[i].parameters, NULL, NULL, &error);
          g_assert_no_error (error);
        }
      reply = daemon_call (fixture->connection, calls[i].on_device ? path : MANAGER_PATH,
                           calls[i].interface, calls[i].method, parameters, NULL, &error);
      g_assert_null (reply);
      assert_dbus_error (error, calls[i].code, calls[i].error_name);

      /* The same daemon answers. */
      owner = name_owner (fixture->connection);
      g_assert_cmpstr (owner, ==, fixture->owner);
    }

  after = fleet_state (fixture);
  g_assert_cmpstr (after, ==, before);
  info = bus_info (device);
  g_assert_cmpstr (member_string (info, "hostname"), ==, "mockaxe1");
  g_assert_cmpuint (http_status (fixture->session, "GET", startup_port (fixture, 0),
                                 "/api/system/info"), ==, 200);
}

/* ---- /dbus/faults ------------------------------------------------------------------- */

/* The Faults property of the device on @path, read afresh. */
static GVariant *
get_faults (Fixture    *fixture,
            const char *path)
{
  g_autoptr(GVariant) value = get_property (fixture->connection, path, DEVICE_IFACE, "Faults");

  g_assert_cmpstr (g_variant_get_type_string (value), ==, "a{sa{sv}}");
  return g_steal_pointer (&value);
}

/* Checks that the Faults of the device on @path are @expected, GVariant
 * text. */
static void
assert_faults (Fixture    *fixture,
               const char *path,
               const char *expected)
{
  g_autoptr(GVariant) want = g_variant_ref_sink (g_variant_new_parsed (expected));
  g_autoptr(GVariant) have = get_faults (fixture, path);

  if (!g_variant_equal (have, want))
    {
      g_autofree char *text = g_variant_print (have, TRUE);

      g_error ("%s has the faults %s, not %s", path, text, expected);
    }
}

/* Calls @method of @interface on @path with @parameters, GVariant text. */
static gboolean
fault_call (Fixture     *fixture,
            const char  *path,
            const char  *interface,
            const char  *method,
            const char  *parameters,
            GError     **error)
{
  g_autoptr(GVariant) reply = daemon_call (fixture->connection, path, interface, method,
                                           g_variant_new_parsed (parameters), "()", error);

  return reply != NULL;
}

/* Whether a PropertiesChanged @body says that Faults changed. */
static gboolean
changed_faults (GVariant *body)
{
  g_autoptr(GVariant) changed = g_variant_get_child_value (body, 1);
  g_autoptr(GVariant) value = g_variant_lookup_value (changed, "Faults", G_VARIANT_TYPE ("a{sa{sv}}"));
  g_autofree const char **invalidated = NULL;

  if (value != NULL)
    return TRUE;
  g_variant_get_child (body, 2, "^a&s", &invalidated);
  return invalidated != NULL && g_strv_contains (invalidated, "Faults");
}

typedef struct
{
  Recorder   *recorder;
  const char *path;
  guint       from;
} FaultsChangedWait;

static gssize
find_faults_changed (Recorder   *recorder,
                     const char *path,
                     guint       from)
{
  gssize i = (gssize) from - 1;

  while ((i = recorder_find (recorder, "PropertiesChanged", path, i + 1, -1)) >= 0)
    if (changed_faults (((Event *) g_ptr_array_index (recorder->events, i))->body))
      return i;
  return -1;
}

static gboolean
faults_changed (gpointer user_data)
{
  FaultsChangedWait *wait = user_data;

  return find_faults_changed (wait->recorder, wait->path, wait->from) >= 0;
}

/* Waits for a PropertiesChanged of @path's Faults at or after event
 * @from. */
static void
wait_faults_changed (Recorder   *recorder,
                     const char *path,
                     guint       from)
{
  FaultsChangedWait wait = { recorder, path, from };

  if (!pm_test_wait_until (faults_changed, &wait, PM_TEST_TIMEOUT_MS))
    g_error ("No PropertiesChanged for the Faults of %s", path);
}

typedef struct
{
  const char *kind;
  const char *parameters;  /* a{sv} text */
  const char *says[3];     /* what the message must name */
} BadFault;

static void
test_faults_device (Fixture       *fixture,
                    gconstpointer  user_data)
{
  static const BadFault bad[] = {
    { "nope", "@a{sv} {}", { "unknown fault", "nope" } },
    { "Latency", "{'ms': <uint32 1>}", { "unknown fault", "Latency" } },
    { "latency", "{'ms': <uint32 100>, 'bogus': <1>}", { "latency", "bogus" } },
    { "latency", "{'ms': <'100'>}", { "latency", "ms", "number" } },
    { "ws-drop", "{'interval-s': <1.0>, 'clean': <'yes'>}", { "ws-drop", "clean", "boolean" } },
    { "latency", "{'ms': <uint32 60001>}", { "latency", "ms", "out of range" } },
    { "errors", "{'rate': <1.5>}", { "errors", "rate", "out of range" } },
    { "errors", "{'status': <uint32 200>}", { "errors", "status", "out of range" } },
    { "errors", "{'path': <'api'>}", { "errors", "path", "'/'" } },
    { "latency", "{'ms': <12.5>}", { "latency", "ms", "whole number" } },
    { "latency", "@a{sv} {}", { "latency", "ms", "required" } },
    { "flapping", "{'up-s': <1.0>}", { "flapping", "down-s", "required" } },
    { "corrupt", "{'mode': <'shuffle'>}", { "corrupt", "mode", "shuffle" } },
    { "offline", "{'ms': <uint32 1>}", { "offline", "no parameters" } },
    { "ws-silent", "{'interval-s': <1.0>}", { "ws-silent", "no parameters" } },
    { "fan-failure", "@a{sv} {}", { "fan-failure", "simulated miner" } },
    { "power-fault", "{'message': <'x'>}", { "power-fault", "simulated miner" } },
    { "overheat", "@a{sv} {}", { "overheat", "simulated miner" } },
  };
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *path = device_path (startup_port (fixture, 0));
  g_autofree char *other = device_path (startup_port (fixture, 1));
  g_autofree char *axeos = add_device (fixture, "{'profile': <'axeos-gamma'>}");
  g_autoptr(GError) error = NULL;
  const char *with_errors = "{'errors': {'status': <uint32 503>, 'rate': <1.0>}}";
  gsize i, j;

  /* Set: the property lists it with its defaults, says it changed, and
   * the device acts on it. */
  recorder_clear (recorder);
  g_assert_true (fault_call (fixture, path, DEVICE_IFACE, "SetFault",
                             "('errors', {'status': <uint32 503>})", &error));
  g_assert_no_error (error);
  wait_faults_changed (recorder, path, 0);
  assert_faults (fixture, path, with_errors);
  g_assert_cmpuint (http_status (fixture->session, "GET", startup_port (fixture, 0),
                                 "/api/system/info"), ==, 503);
  /* Only that device. */
  assert_faults (fixture, other, "@a{sa{sv}} {}");
  g_assert_cmpuint (http_status (fixture->session, "GET", startup_port (fixture, 1),
                                 "/api/system/info"), ==, 200);

  /* Any integer type will do for a number. */
  g_assert_true (fault_call (fixture, other, DEVICE_IFACE, "SetFault",
                             "('latency', {'ms': <byte 5>, 'jitter-ms': <int64 2>})", &error));
  g_assert_no_error (error);
  assert_faults (fixture, other, "{'latency': {'ms': <uint32 5>, 'jitter-ms': <uint32 2>}}");

  /* Refused, naming the problem; nothing changes. */
  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *parameters = g_strdup_printf ("('%s', %s)", bad[i].kind, bad[i].parameters);

      g_test_message ("SetFault%s", parameters);
      g_clear_error (&error);
      g_assert_false (fault_call (fixture, path, DEVICE_IFACE, "SetFault", parameters, &error));
      assert_pm_error (error, PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
      for (j = 0; j < G_N_ELEMENTS (bad[i].says) && bad[i].says[j] != NULL; j++)
        if (strstr (error->message, bad[i].says[j]) == NULL)
          g_error ("“%s” does not say “%s”", error->message, bad[i].says[j]);
      assert_faults (fixture, path, with_errors);
    }

  /* The miner's faults on a simulated device. */
  g_clear_error (&error);
  g_assert_true (fault_call (fixture, axeos, DEVICE_IFACE, "SetFault",
                             "('power-fault', {'message': <'Bus fault'>})", &error));
  g_assert_no_error (error);
  g_assert_true (fault_call (fixture, axeos, DEVICE_IFACE, "SetFault", "('fan-failure', @a{sv} {})", &error));
  g_assert_no_error (error);
  assert_faults (fixture, axeos,
                 "{'fan-failure': @a{sv} {}, 'power-fault': {'message': <'Bus fault'>}}");

  /* ClearFault: an unknown kind is refused; one not set is no error. */
  g_assert_false (fault_call (fixture, path, DEVICE_IFACE, "ClearFault", "('nope',)", &error));
  assert_pm_error (error, PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
  g_assert_nonnull (strstr (error->message, "nope"));
  g_clear_error (&error);
  assert_faults (fixture, path, with_errors);
  g_assert_true (fault_call (fixture, path, DEVICE_IFACE, "ClearFault", "('latency',)", &error));
  g_assert_no_error (error);
  assert_faults (fixture, path, with_errors);

  recorder_clear (recorder);
  g_assert_true (fault_call (fixture, path, DEVICE_IFACE, "ClearFault", "('errors',)", &error));
  g_assert_no_error (error);
  wait_faults_changed (recorder, path, 0);
  assert_faults (fixture, path, "@a{sa{sv}} {}");
  g_assert_cmpuint (http_status (fixture->session, "GET", startup_port (fixture, 0),
                                 "/api/system/info"), ==, 200);

  /* ClearFaults: all of them. */
  recorder_clear (recorder);
  g_assert_true (fault_call (fixture, axeos, DEVICE_IFACE, "ClearFaults", "()", &error));
  g_assert_no_error (error);
  wait_faults_changed (recorder, axeos, 0);
  assert_faults (fixture, axeos, "@a{sa{sv}} {}");
  assert_faults (fixture, other, "{'latency': {'ms': <uint32 5>, 'jitter-ms': <uint32 2>}}");
}

/* The Faults of every device, "PATH=FAULTS;..." in path order. */
static char *
fleet_faults (Fixture           *fixture,
              const char *const *paths)
{
  GString *out = g_string_new (NULL);
  gsize i;

  for (i = 0; paths[i] != NULL; i++)
    {
      g_autoptr(GVariant) faults = get_faults (fixture, paths[i]);
      g_autofree char *text = g_variant_print (faults, FALSE);

      g_string_append_printf (out, "%s=%s;", paths[i], text);
    }
  return g_string_free (out, FALSE);
}

static void
test_faults_manager (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(Recorder) recorder = recorder_new (fixture->connection, fixture->owner);
  g_autofree char *pluto1 = device_path (startup_port (fixture, 0));
  g_autofree char *pluto2 = device_path (startup_port (fixture, 1));
  g_autofree char *axeos = add_device (fixture, "{'profile': <'axeos-gamma'>}");
  const char *const paths[] = { pluto1, pluto2, axeos, NULL };
  const char *latency = "{'latency': {'ms': <uint32 7>, 'jitter-ms': <uint32 0>}}";
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *call = NULL;
  gsize i;

  /* No paths: every device, each saying so. */
  recorder_clear (recorder);
  g_assert_true (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "SetFault",
                             "(@ao [], 'latency', {'ms': <uint32 7>})", &error));
  g_assert_no_error (error);
  for (i = 0; paths[i] != NULL; i++)
    {
      wait_faults_changed (recorder, paths[i], 0);
      assert_faults (fixture, paths[i], latency);
    }

  /* A path that names no device: NoSuchDevice, and nothing changes on
   * the devices that exist. */
  before = fleet_faults (fixture, paths);
  call = g_strdup_printf ("([objectpath '%s', '" DEVICE_PATH_PREFIX "1'], 'errors', @a{sv} {})", pluto1);
  g_assert_false (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "SetFault", call, &error));
  assert_pm_error (error, PM_ERROR_NO_SUCH_DEVICE, "NoSuchDevice");
  g_assert_nonnull (strstr (error->message, DEVICE_PATH_PREFIX "1"));
  g_clear_error (&error);
  after = fleet_faults (fixture, paths);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (http_status (fixture->session, "GET", startup_port (fixture, 0),
                                 "/api/system/info"), ==, 200);

  /* A miner fault where one device has no miner: refused for all. */
  g_assert_false (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "SetFault",
                              "(@ao [], 'fan-failure', @a{sv} {})", &error));
  assert_pm_error (error, PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
  g_assert_nonnull (strstr (error->message, "fan-failure"));
  g_clear_error (&error);
  g_clear_pointer (&call, g_free);
  call = g_strdup_printf ("([objectpath '%s', '%s'], 'pool-down', @a{sv} {})", axeos, pluto2);
  g_assert_false (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "SetFault", call, &error));
  assert_pm_error (error, PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
  g_assert_nonnull (strstr (error->message, "pool-down"));
  g_clear_error (&error);
  /* A bad parameter, and an unknown kind. */
  g_assert_false (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "SetFault",
                              "(@ao [], 'latency', {'ms': <'soon'>})", &error));
  assert_pm_error (error, PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
  g_assert_nonnull (strstr (error->message, "ms"));
  g_clear_error (&error);
  g_assert_false (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "SetFault",
                              "(@ao [], 'nope', @a{sv} {})", &error));
  assert_pm_error (error, PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
  g_clear_error (&error);
  g_clear_pointer (&after, g_free);
  after = fleet_faults (fixture, paths);
  g_assert_cmpstr (after, ==, before);

  /* The same miner fault on the simulated device alone. */
  g_clear_pointer (&call, g_free);
  call = g_strdup_printf ("([objectpath '%s'], 'fan-failure', @a{sv} {})", axeos);
  g_assert_true (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "SetFault", call, &error));
  g_assert_no_error (error);
  assert_faults (fixture, axeos,
                 "{'latency': {'ms': <uint32 7>, 'jitter-ms': <uint32 0>}, 'fan-failure': @a{sv} {}}");

  /* ClearFault on some devices; an unknown kind is refused. */
  g_assert_false (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "ClearFault", "(@ao [], 'nope')", &error));
  assert_pm_error (error, PM_ERROR_INVALID_ARGUMENT, "InvalidArgument");
  g_clear_error (&error);
  g_clear_pointer (&call, g_free);
  call = g_strdup_printf ("([objectpath '%s', '%s'], 'latency')", pluto1, axeos);
  g_assert_true (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "ClearFault", call, &error));
  g_assert_no_error (error);
  assert_faults (fixture, pluto1, "@a{sa{sv}} {}");
  assert_faults (fixture, pluto2, latency);
  assert_faults (fixture, axeos, "{'fan-failure': @a{sv} {}}");

  /* ClearFaults: a bad path changes nothing; none clears all. */
  g_clear_pointer (&before, g_free);
  before = fleet_faults (fixture, paths);
  g_clear_pointer (&call, g_free);
  call = g_strdup_printf ("([objectpath '%s', '" DEVICE_PATH_PREFIX "0'],)", axeos);
  g_assert_false (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "ClearFaults", call, &error));
  assert_pm_error (error, PM_ERROR_NO_SUCH_DEVICE, "NoSuchDevice");
  g_clear_error (&error);
  g_clear_pointer (&after, g_free);
  after = fleet_faults (fixture, paths);
  g_assert_cmpstr (after, ==, before);

  g_assert_true (fault_call (fixture, MANAGER_PATH, MANAGER_IFACE, "ClearFaults", "(@ao [],)", &error));
  g_assert_no_error (error);
  for (i = 0; paths[i] != NULL; i++)
    assert_faults (fixture, paths[i], "@a{sa{sv}} {}");
}

/* ---- /dbus/daemon: spawned daemons on the test bus --------------------------------- */

typedef struct
{
  GTestDBus       *bus;
  GDBusConnection *connection;
  SoupSession     *session;
} BusFixture;

/* @user_data: whether org.pluto.Mock1 can be activated on the bus; the
 * tests that spawn the daemon themselves make sure that no call starts
 * another one by the way. */
static void
bus_fixture_set_up (BusFixture    *fixture,
                    gconstpointer  user_data)
{
  gboolean activatable = GPOINTER_TO_INT (user_data);
  g_autoptr(GError) error = NULL;

  fixture->bus = activatable ? pm_test_bus_up (NULL) : pm_test_bus_up_without_service ();
  fixture->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  fixture->session = soup_session_new ();
}

static void
bus_fixture_down (BusFixture *fixture)
{
  g_clear_object (&fixture->connection);
  g_clear_pointer (&fixture->bus, pm_test_bus_down);
}

static void
bus_fixture_tear_down (BusFixture    *fixture,
                       gconstpointer  user_data)
{
  g_clear_object (&fixture->session);
  bus_fixture_down (fixture);
}

static void
test_daemon_seed (BusFixture    *fixture,
                  gconstpointer  user_data)
{
  const char *extra[] = { "--seed", "4242", NULL };
  g_autoptr(PmTestDaemon) daemon = spawn_daemon (extra, NULL);
  g_autoptr(GVariant) seed = NULL;
  g_autoptr(GVariant) listing = NULL;
  g_autofree char *owner = NULL;

  assert_said (daemon, SAYS_OWNED);
  owner = name_owner (fixture->connection);
  g_assert_nonnull (owner);
  g_assert_cmpuint (connection_pid (fixture->connection, owner), ==, daemon_pid (daemon));

  seed = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "Seed");
  g_assert_cmpuint (g_variant_get_uint64 (seed), ==, 4242);
  listing = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "ListingPort");
  g_assert_cmpuint (g_variant_get_uint32 (listing), ==, daemon->listing_port);

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
  assert_no_warnings (daemon);
}

/* The Profile of every device the object manager lists, in the order
 * of @ports. */
static GPtrArray *
startup_profiles (GDBusConnection *connection,
                  GArray          *ports)
{
  g_autoptr(GVariant) objects = get_managed_objects (connection);
  GPtrArray *profiles = g_ptr_array_new_with_free_func (g_free);
  guint i;

  g_assert_cmpuint (g_variant_n_children (objects), ==, ports->len + 1);
  for (i = 0; i < ports->len; i++)
    {
      g_autofree char *path = device_path (g_array_index (ports, guint, i));
      g_autoptr(GVariant) properties = lookup_properties (objects, path, DEVICE_IFACE);
      const char *profile;

      if (properties == NULL)
        g_error ("GetManagedObjects has no %s", path);
      g_assert_true (g_variant_lookup (properties, "Profile", "&s", &profile));
      g_ptr_array_add (profiles, g_strdup (profile));
    }
  return profiles;
}

/* --profile with a list: the devices of PORTS take its entries in turn,
 * and a device added without a profile the next. */
static void
test_daemon_profile_list (BusFixture    *fixture,
                          gconstpointer  user_data)
{
  const char *extra[] = { "--profile", "axeos-gamma,nerdqaxe-plus", NULL };
  const char *const expected[] = { "axeos-gamma", "nerdqaxe-plus" };
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (5, extra, NULL);
  g_autoptr(GPtrArray) profiles = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) added_profile = NULL;
  g_autoptr(GError) error = NULL;
  const char *added;
  guint i;

  assert_said (daemon, SAYS_OWNED);
  profiles = startup_profiles (fixture->connection, daemon->ports);
  for (i = 0; i < profiles->len; i++)
    {
      guint port = g_array_index (daemon->ports, guint, i);
      g_autofree char *path = device_path (port);
      g_autoptr(GVariant) api_version = get_property (fixture->connection, path, DEVICE_IFACE,
                                                      "ApiVersion");
      g_autoptr(JsonObject) info = pm_test_get_info (fixture->session, "127.0.0.1", port);

      g_assert_cmpstr (g_ptr_array_index (profiles, i), ==, expected[i % 2]);
      g_assert_cmpstr (g_variant_get_string (api_version, NULL), ==, "");
      g_assert_true (json_object_has_member (info, "macAddr"));
      if (i % 2 == 0)
        {
          g_assert_cmpstr (member_string (info, "ASICModel"), ==, "BM1370");
          g_assert_false (json_object_has_member (info, "deviceModel"));
        }
      else
        {
          g_assert_cmpstr (member_string (info, "ASICModel"), ==, "BM1368");
          g_assert_cmpstr (member_string (info, "deviceModel"), ==, "NerdQAxe+");
        }
    }

  /* The sixth device is the list's second entry. */
  reply = daemon_call (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "AddDevice",
                       g_variant_new_parsed ("(@a{sv} {},)"), "(o)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&o)", &added);
  added_profile = get_property (fixture->connection, added, DEVICE_IFACE, "Profile");
  g_assert_cmpstr (g_variant_get_string (added_profile, NULL), ==, expected[1]);

  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
  assert_no_warnings (daemon);
}

/* The profiles of a daemon started with --profile mixed and @seed on
 * @n_devices devices, by device. */
static GPtrArray *
mixed_fleet (BusFixture *fixture,
             const char *seed,
             guint       n_devices)
{
  const char *extra[] = { "--profile", "mixed", "--seed", seed, NULL };
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (n_devices, extra, NULL);
  g_autoptr(GVariant) seed_property = NULL;
  GPtrArray *profiles;
  guint i;

  assert_said (daemon, SAYS_OWNED);
  seed_property = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "Seed");
  g_assert_cmpuint (g_variant_get_uint64 (seed_property), ==, g_ascii_strtoull (seed, NULL, 10));
  profiles = startup_profiles (fixture->connection, daemon->ports);
  for (i = 0; i < profiles->len; i++)
    {
      const char *profile = g_ptr_array_index (profiles, i);
      gsize j;

      for (j = 0; j < G_N_ELEMENTS (device_profiles); j++)
        if (g_str_equal (device_profiles[j].profile, profile))
          break;
      if (j == G_N_ELEMENTS (device_profiles))
        g_error ("Device %u has profile “%s”, which is not a device profile", i + 1, profile);
    }
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
  assert_no_warnings (daemon);
  return profiles;
}

/* --profile mixed: the same seed gives the same profile to each device,
 * on other ports and in another run. */
static void
test_daemon_profile_mixed (BusFixture    *fixture,
                           gconstpointer  user_data)
{
  g_autoptr(GPtrArray) first = mixed_fleet (fixture, "4242", 8);
  g_autoptr(GPtrArray) second = mixed_fleet (fixture, "4242", 8);
  g_autofree char *first_text = NULL;
  g_autofree char *second_text = NULL;

  g_ptr_array_add (first, NULL);
  g_ptr_array_add (second, NULL);
  first_text = g_strjoinv (",", (char **) first->pdata);
  second_text = g_strjoinv (",", (char **) second->pdata);
  g_test_message ("mixed, seed 4242: %s", first_text);
  g_assert_cmpstr (second_text, ==, first_text);
  /* A blend, not one profile for all, and not the default list of the
   * two pluto-* shapes: nine in ten draws are firmware profiles. */
  {
    g_autoptr(GHashTable) distinct = g_hash_table_new (g_str_hash, g_str_equal);
    guint i, n_pluto = 0;

    for (i = 0; g_ptr_array_index (first, i) != NULL; i++)
      {
        g_hash_table_add (distinct, g_ptr_array_index (first, i));
        n_pluto += g_str_has_prefix (g_ptr_array_index (first, i), "pluto-");
      }
    g_assert_cmpuint (g_hash_table_size (distinct), >, 1);
    g_assert_cmpuint (n_pluto, <, i);
  }
}

static void
test_daemon_second (BusFixture    *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GArray) ports = pm_test_free_ports (4, NULL);
  guint port = g_array_index (ports, guint, 1);
  guint second_listing = g_array_index (ports, guint, 2);
  guint second_port = g_array_index (ports, guint, 3);
  g_autoptr(PmTestDaemon) first = spawn_daemon_on (g_array_index (ports, guint, 0), port, NULL, NULL);
  g_autoptr(PmTestDaemon) second = NULL;
  g_autofree char *owner = NULL;
  g_autofree char *owner_after = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean found = FALSE;
  guint i;

  assert_said (first, SAYS_OWNED);
  owner = name_owner (fixture->connection);

  second = spawn_daemon_on (second_listing, second_port, NULL, NULL);
  g_assert_cmpint (pm_test_daemon_wait (second), ==, 1);

  /* One line says who has the name and what to do. */
  lines = g_strsplit (second->output->str, "\n", -1);
  for (i = 0; lines[i] != NULL && !found; i++)
    found = strstr (lines[i], BUS_NAME) != NULL && strstr (lines[i], "--replace") != NULL;
  if (!found)
    g_error ("The second daemon did not name %s and --replace; it said:\n%s",
             BUS_NAME, second->output->str);

  /* It never started its fleet. */
  assert_no_fleet (second);
  assert_refused (second_port);
  assert_refused (second_listing);

  /* The first one carries on, with the name. */
  owner_after = name_owner (fixture->connection);
  g_assert_cmpstr (owner_after, ==, owner);
  g_assert_cmpuint (connection_pid (fixture->connection, owner), ==, daemon_pid (first));
  g_assert_cmpuint (http_status (fixture->session, "GET", port, "/api/system/info"), ==, 200);
  g_assert_cmpint (pm_test_daemon_stop (first), ==, 0);
  assert_no_warnings (first);
}

static gboolean
on_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* pm_test_wait_until() for a @condition that no event of the main loop
 * changes (a process that exits, a synchronous call): it is checked
 * again every few milliseconds. */
static gboolean
poll_until (PmTestCondition condition,
            gpointer        user_data)
{
  guint tick = g_timeout_add (5, on_tick, NULL);
  gboolean met = pm_test_wait_until (condition, user_data, PM_TEST_TIMEOUT_MS);

  g_source_remove (tick);
  return met;
}

/* Whether the manager answers a call, without starting anything. */
static gboolean
manager_answers (gpointer user_data)
{
  g_autoptr(GVariant) reply = NULL;

  reply = daemon_call (G_DBUS_CONNECTION (user_data), MANAGER_PATH, PROPERTIES_IFACE, "Get",
                       g_variant_new ("(ss)", MANAGER_IFACE, "ListingPort"), "(v)", NULL);
  return reply != NULL;
}

static void
test_daemon_replace (BusFixture    *fixture,
                     gconstpointer  user_data)
{
  const char *replace[] = { "--replace", NULL };
  g_autoptr(PmTestDaemon) old = spawn_daemon (NULL, NULL);
  guint port = daemon_port (old);
  g_autoptr(PmTestDaemon) new = NULL;
  g_autoptr(GVariant) listing = NULL;
  g_autoptr(JsonArray) servers = NULL;
  g_autofree char *old_owner = NULL;
  g_autofree char *new_owner = NULL;
  g_autofree char *taking = NULL;

  assert_said (old, SAYS_OWNED);
  old_owner = name_owner (fixture->connection);

  /* The same ports: the new daemon waits for the old one to free them. */
  new = spawn_daemon_on (old->listing_port, port, replace, NULL);
  taking = g_strdup_printf ("Taking %s over from %s", BUS_NAME, old_owner);
  assert_said (new, taking);
  g_assert_cmpint (pm_test_daemon_wait (old), ==, 0);
  assert_said (old, "Another process took " BUS_NAME " over; stopping");
  assert_no_warnings (old);

  assert_said (new, SAYS_LISTING);
  new_owner = name_owner (fixture->connection);
  g_assert_nonnull (new_owner);
  g_assert_cmpstr (new_owner, !=, old_owner);
  g_assert_cmpuint (connection_pid (fixture->connection, new_owner), ==, daemon_pid (new));

  /* The new daemon takes the name before its fleet runs, and exports its
   * objects a moment after saying the listing server started: wait for
   * them rather than race. */
  if (!poll_until (manager_answers, fixture->connection))
    g_error ("The new daemon owns %s but its manager does not answer; it said:\n%s",
             BUS_NAME, new->output->str);

  /* It serves, over the bus and HTTP. */
  listing = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "ListingPort");
  g_assert_cmpuint (g_variant_get_uint32 (listing), ==, new->listing_port);
  g_assert_cmpuint (http_status (fixture->session, "GET", port, "/api/system/info"), ==, 200);
  servers = pm_test_get_servers (fixture->session, new->listing_port);
  g_assert_nonnull (find_server (servers, port));

  g_assert_cmpint (pm_test_daemon_stop (new), ==, 0);
  assert_no_warnings (new);
}

/* With --bind 0.0.0.0 the bus says so, and plutomockctl's status over the
 * bus shows it as its status over HTTP does (it showed the loopback
 * address of the devices' URLs). */
static void
test_daemon_bind_any (BusFixture    *fixture,
                      gconstpointer  user_data)
{
  const char *extra[] = { "--bind", "0.0.0.0", NULL };
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_start (1, extra, NULL);
  g_autoptr(GVariant) bind = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  const char *argv[] = { g_getenv ("PLUTOMOCKCTL"), "status", "--json", NULL };
  int status = -1;

  g_assert_nonnull (argv[0]);
  assert_said (daemon, SAYS_OWNED);
  if (!poll_until (manager_answers, fixture->connection))
    g_error ("The daemon owns %s but its manager does not answer; it said:\n%s",
             BUS_NAME, daemon->output->str);
  bind = get_property (fixture->connection, MANAGER_PATH, MANAGER_IFACE, "BindAddress");
  g_assert_cmpstr (g_variant_get_string (bind, NULL), ==, "0.0.0.0");

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)),
                                                  "bindAddress"), ==, "0.0.0.0");
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
}

static void
test_daemon_no_dbus (BusFixture    *fixture,
                     gconstpointer  user_data)
{
  const char *no_dbus[] = { "--no-dbus", NULL };
  g_autoptr(PmTestDaemon) daemon = spawn_daemon (no_dbus, NULL);
  g_autofree char *owner = NULL;

  assert_said (daemon, SAYS_LISTING);
  g_assert_cmpuint (count_lines_with (daemon, "D-Bus control is off (--no-dbus)"), ==, 1);
  g_assert_cmpuint (count_lines_with (daemon, "D-Bus"), ==, 1);

  /* Not on the bus at all, and the name is nobody's. */
  owner = name_owner (fixture->connection);
  g_assert_null (owner);
  g_assert_false (pid_on_bus (fixture->connection, daemon_pid (daemon)));

  g_assert_cmpuint (http_status (fixture->session, "GET", daemon_port (daemon), "/api/system/info"),
                    ==, 200);
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
  assert_no_warnings (daemon);
}

/* Whether process @pid has exited (a zombie nobody reaps counts). */
static gboolean
process_gone (gpointer user_data)
{
  guint32 pid = GPOINTER_TO_UINT (user_data);
  g_autofree char *path = g_strdup_printf ("/proc/%u/stat", pid);
  g_autofree char *stat = NULL;
  const char *end;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return TRUE;
  end = strrchr (stat, ')');
  return end != NULL && (end[2] == 'Z' || end[2] == 'X');
}

static void
test_bus_gone_activated (BusFixture    *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) listing = NULL;
  g_autoptr(GVariant) objects = NULL;
  g_autofree char *owner = NULL;
  GVariantIter iter;
  const char *path;
  guint32 pid;
  guint port = 0, listing_port;

  /* The first call starts it. */
  reply = g_dbus_connection_call_sync (fixture->connection, BUS_NAME, MANAGER_PATH, PROPERTIES_IFACE,
                                       "Get", g_variant_new ("(ss)", MANAGER_IFACE, "ListingPort"),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                       CALL_TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &listing);
  listing_port = g_variant_get_uint32 (listing);
  owner = name_owner (fixture->connection);
  g_assert_nonnull (owner);
  pid = connection_pid (fixture->connection, owner);
  g_assert_false (process_gone (GUINT_TO_POINTER (pid)));

  objects = get_managed_objects (fixture->connection);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, NULL))
    if (g_str_has_prefix (path, DEVICE_PATH_PREFIX))
      port = port_of_path (path);
  g_assert_cmpuint (port, >, 0);
  g_assert_cmpuint (http_status (fixture->session, "GET", port, "/api/system/info"), ==, 200);

  bus_fixture_down (fixture);

  if (!poll_until (process_gone, GUINT_TO_POINTER (pid)))
    g_error ("The activated daemon (pid %u) still runs after its bus went away", pid);
  assert_refused (port);
  assert_refused (listing_port);
}

static void
test_bus_gone_spawned (BusFixture    *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(PmTestDaemon) daemon = spawn_daemon (NULL, NULL);

  assert_said (daemon, SAYS_OWNED);
  g_assert_cmpuint (http_status (fixture->session, "GET", daemon_port (daemon), "/api/system/info"),
                    ==, 200);

  bus_fixture_down (fixture);

  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 0);
  assert_said (daemon, "The session bus has gone; stopping");
  assert_no_warnings (daemon);
  assert_refused (daemon_port (daemon));
}

/* Whether @user_data, a connection that owned org.pluto.Mock1, no longer
 * does. */
static gboolean
name_left (gpointer user_data)
{
  GDBusConnection *connection = user_data;
  g_autofree char *owner = name_owner (connection);

  return g_strcmp0 (owner, g_dbus_connection_get_unique_name (connection)) != 0;
}

/* SIGTERM while --replace waits for an owner that lets the name go but
 * never leaves the bus: the daemon stops at once, without starting its
 * fleet (it would otherwise wait 10 s, then start). */
static void
test_daemon_replace_interrupted (BusFixture    *fixture,
                                 gconstpointer  user_data)
{
  const char *replace[] = { "--replace", NULL };
  g_autoptr(GDBusConnection) stubborn = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmTestDaemon) daemon = NULL;
  gint64 start;
  guint request_reply;

  /* A connection of its own, so that nothing of it outlives the test. */
  stubborn = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (fixture->bus),
                                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                     NULL, NULL, &error);
  g_assert_no_error (error);
  reply = bus_call (stubborn, "RequestName", g_variant_new ("(su)", BUS_NAME, 1 /* ALLOW_REPLACEMENT */),
                    "(u)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &request_reply);
  g_assert_cmpuint (request_reply, ==, 1 /* PRIMARY_OWNER */);

  daemon = spawn_daemon (replace, NULL);
  assert_said (daemon, "Taking " BUS_NAME " over from");
  if (!poll_until (name_left, stubborn))
    g_error ("The daemon never took the name over; it said:\n%s", daemon->output->str);

  start = g_get_monotonic_time ();
  g_subprocess_send_signal (daemon->process, SIGTERM);
  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  assert_no_fleet (daemon);
  assert_refused (daemon_port (daemon));
  assert_refused (daemon->listing_port);
  assert_no_warnings (daemon);

  g_dbus_connection_close_sync (stubborn, NULL, &error);
  g_assert_no_error (error);
}

/* DBUS_SESSION_BUS_ADDRESS=… for a session bus that does not exist. */
static char *
missing_bus_environment (void)
{
  g_autofree char *missing = g_build_filename (g_get_tmp_dir (), "plutomock-test-dbus-missing",
                                               "bus", NULL);

  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  return g_strconcat ("DBUS_SESSION_BUS_ADDRESS=unix:path=", missing, NULL);
}

/* --replace asks for the bus: without one it is an error, before any
 * port is bound. */
static void
test_replace_without_bus (void)
{
  const char *replace[] = { "--replace", NULL };
  g_autofree char *address = missing_bus_environment ();
  const char *environment[] = { address, NULL };
  g_autoptr(PmTestDaemon) daemon = spawn_daemon (replace, environment);

  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 1);
  assert_said (daemon, "--replace needs the session bus");
  g_assert_null (strstr (daemon->output->str, SAYS_LISTING));
  assert_refused (daemon_port (daemon));
}

static void
test_no_bus (void)
{
  g_autofree char *address = missing_bus_environment ();
  const char *environment[] = { address, NULL };
  g_autoptr(PmTestDaemon) daemon = spawn_daemon (NULL, environment);
  g_autoptr(SoupSession) session = soup_session_new ();

  assert_said (daemon, SAYS_LISTING);
  /* Said once the listing server runs, with its URL. */
  assert_said (daemon, "dbus-run-session");

  /* One line says so, and nothing else about the bus. */
  g_assert_cmpuint (count_lines_with (daemon, "D-Bus control is off"), ==, 1);
  g_assert_cmpuint (count_lines_with (daemon, "D-Bus"), ==, 1);
  g_assert_cmpuint (count_lines_with (daemon, "no session bus"), ==, 1);

  g_assert_cmpuint (http_status (session, "GET", daemon_port (daemon), "/api/system/info"), ==, 200);
  g_assert_cmpint (pm_test_daemon_stop (daemon), ==, 0);
  assert_no_warnings (daemon);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* Map org.pluto.Mock1.Error.* to PM_ERROR before any reply comes. */
  g_assert_cmpuint (PM_ERROR, !=, 0);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)
#define ADD_BUS(path, func, activatable) \
  g_test_add (path, BusFixture, GINT_TO_POINTER (activatable), bus_fixture_set_up, func, \
              bus_fixture_tear_down)

  ADD ("/dbus/manager/add/defaults", test_add_defaults, NULL);
  ADD ("/dbus/manager/add/options", test_add_options, NULL);
  ADD ("/dbus/manager/add/profile", test_add_profile, NULL);
  ADD ("/dbus/manager/startup-devices", test_startup_devices, NULL);
  ADD ("/dbus/manager/remove", test_remove, NULL);
  ADD ("/dbus/manager/properties", test_manager_properties, NULL);
  ADD ("/dbus/manager/logs-enabled", test_logs_enabled, "true");
  ADD ("/dbus/device/properties", test_device_properties, NULL);
  ADD ("/dbus/device/info", test_device_info, NULL);
  ADD ("/dbus/device/restart", test_device_restart, NULL);
  ADD ("/dbus/errors/add", test_errors_add, NULL);
  ADD ("/dbus/errors/add-text", test_errors_add_text, NULL);
  ADD ("/dbus/errors/add-profile", test_errors_add_profile, NULL);
  ADD ("/dbus/errors/remove", test_errors_remove, NULL);
  ADD ("/dbus/errors/update", test_errors_update, NULL);
  ADD ("/dbus/errors/signature", test_errors_signature, NULL);
  ADD ("/dbus/faults/device", test_faults_device, NULL);
  ADD ("/dbus/faults/manager", test_faults_manager, NULL);
  ADD_BUS ("/dbus/daemon/seed", test_daemon_seed, FALSE);
  ADD_BUS ("/dbus/daemon/profile-list", test_daemon_profile_list, FALSE);
  ADD_BUS ("/dbus/daemon/profile-mixed", test_daemon_profile_mixed, FALSE);
  ADD_BUS ("/dbus/daemon/second-instance", test_daemon_second, FALSE);
  ADD_BUS ("/dbus/daemon/replace", test_daemon_replace, FALSE);
  ADD_BUS ("/dbus/daemon/replace-interrupted", test_daemon_replace_interrupted, FALSE);
  ADD_BUS ("/dbus/daemon/no-dbus", test_daemon_no_dbus, FALSE);
  ADD_BUS ("/dbus/daemon/bind-any", test_daemon_bind_any, FALSE);
  ADD_BUS ("/dbus/daemon/bus-gone/activated", test_bus_gone_activated, TRUE);
  ADD_BUS ("/dbus/daemon/bus-gone/spawned", test_bus_gone_spawned, FALSE);
  g_test_add_func ("/dbus/daemon/no-bus", test_no_bus);
  g_test_add_func ("/dbus/daemon/replace-without-bus", test_replace_without_bus);

  return g_test_run ();
}
