/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "plutomockctl"

#include "config.h"

#include <locale.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "pm-dbus-generated.h"
#include "pm-error.h"
#include "pm-names.h"
#include "pm-quote.h"
#include "pm-scenario.h"

/*
 * plutomockctl: the command-line client of plutomock's D-Bus interface
 * (org.pluto.Mock1 on the session bus).  Every command is one or two
 * calls of the generated proxies; the bus starts the daemon if it is not
 * running.  Exit status: 0 on success, 1 when the daemon or the bus says
 * no, 2 for a command line that is wrong.
 */

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* ---- the command line ---------------------------------------------------- */

/* Every command's options; each command reads only its own. */
static struct
{
  gboolean  json;
  gboolean  compact;
  char     *port;
  char     *hostname;
  char     *api;
  char     *profile;
  char     *firmware;
  gboolean  clear;
  gboolean  all;
  gboolean  stop;
} opt;

static const GOptionEntry list_entries[] = {
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt.json,
    N_("Print a JSON array instead of a table"), NULL },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry add_entries[] = {
  { "port", 'p', 0, G_OPTION_ARG_STRING, &opt.port,
    N_("TCP port of the device (default: any free port)"), N_("PORT") },
  { "hostname", 'n', 0, G_OPTION_ARG_FILENAME, &opt.hostname,
    N_("Hostname: letters, digits and hyphens (default: mockaxeN)"), N_("NAME") },
  { "api", 'a', 0, G_OPTION_ARG_STRING, &opt.api,
    N_("Shape of /api/system/info: legacy or new, the same as --profile pluto-legacy or pluto-new"), N_("legacy|new") },
  { "profile", 'P', 0, G_OPTION_ARG_FILENAME, &opt.profile,
    N_("Device profile: pluto-legacy, pluto-new, axeos-gamma, axeos-supra, axeos-ultra or nerdqaxe-plus (default: the fleet's next)"), N_("NAME") },
  { "firmware", 'f', 0, G_OPTION_ARG_FILENAME, &opt.firmware,
    N_("Firmware version (default: a common one, at random)"), N_("VERSION") },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt.json,
    N_("Print the new device as a JSON object instead of a table"), NULL },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry info_entries[] = {
  { "compact", 'c', 0, G_OPTION_ARG_NONE, &opt.compact,
    N_("Print the JSON on one line"), NULL },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry fault_entries[] = {
  { "clear", 'c', 0, G_OPTION_ARG_NONE, &opt.clear,
    N_("Lift the fault of kind KIND, or without KIND every fault"), NULL },
  { "all", 'a', 0, G_OPTION_ARG_NONE, &opt.all,
    N_("Act on every device; leave PORT|HOSTNAME out"), NULL },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry scenario_entries[] = {
  { "stop", 0, 0, G_OPTION_ARG_NONE, &opt.stop,
    N_("Stop the running scenario and clear the faults it set; leave FILE out"), NULL },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry no_entries[] = {
  G_OPTION_ENTRY_NULL
};

static void
opt_clear (void)
{
  g_clear_pointer (&opt.port, g_free);
  g_clear_pointer (&opt.hostname, g_free);
  g_clear_pointer (&opt.api, g_free);
  g_clear_pointer (&opt.profile, g_free);
  g_clear_pointer (&opt.firmware, g_free);
  opt.clear = opt.all = opt.stop = FALSE;
}

/* Prints a usage error and returns EXIT_USAGE.  @command is NULL for the
 * command line as a whole. */
G_GNUC_PRINTF (2, 3)
static int
usage_error (const char *command,
             const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr (_("plutomockctl: %s\n"), message);
  if (command == NULL)
    g_printerr (_("Run 'plutomockctl --help' to see the commands.\n"));
  else
    g_printerr (_("Run 'plutomockctl %s --help' to see its options.\n"), command);
  return EXIT_USAGE;
}

/* Prints a failure: a D-Bus error without its remote prefix. */
static int
fail (GError *error)
{
  g_dbus_error_strip_remote_error (error);
  g_printerr (_("plutomockctl: %s\n"), error->message);
  return EXIT_FAILED;
}

/* ---- the daemon ------------------------------------------------------------ */

/* Connects to the session bus and reads the daemon's objects, the bus
 * starting the daemon if need be. */
static GDBusObjectManager *
connect_to_daemon (GError **error)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autofree char *owner = NULL;
  g_autoptr(GError) local_error = NULL;

  connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &local_error);
  if (connection == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                   _("cannot connect to the session bus: %s"), local_error->message);
      return NULL;
    }

  objects = pm_dbus_object_manager_client_new_sync (connection,
                                                    G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                    PM_DBUS_NAME, PM_DBUS_PATH,
                                                    NULL, &local_error);
  if (objects == NULL)
    {
      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                   _("cannot reach plutomock (%s) on the session bus: %s"),
                   PM_DBUS_NAME, local_error->message);
      return NULL;
    }

  /* No owner: the bus could not start the daemon (it has no service
   * file for it, say). */
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (objects));
  if (owner == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                   _("plutomock is not running, and the session bus could not start it (nobody owns %s)"),
                   PM_DBUS_NAME);
      return NULL;
    }

  return g_steal_pointer (&objects);
}

static PmDBusManager *
get_manager (GDBusObjectManager *objects,
             GError            **error)
{
  g_autoptr(PmDBusObject) object = NULL;
  PmDBusManager *manager = NULL;

  object = PM_DBUS_OBJECT (g_dbus_object_manager_get_object (objects, PM_DBUS_MANAGER_PATH));
  if (object != NULL)
    manager = pm_dbus_object_get_manager (object);
  if (manager == NULL)
    g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                 _("plutomock has no manager object at %s"), PM_DBUS_MANAGER_PATH);
  return manager;
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
list_devices (GDBusObjectManager *objects)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
  GList *list = g_dbus_object_manager_get_objects (objects);
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

/* A string property the daemon left unset reads as NULL. */
static const char *
nonnull (const char *text)
{
  return text != NULL ? text : "";
}

/* A table cell: "-" for nothing, so that every row has every column. */
static const char *
cell (const char *text)
{
  return text != NULL && text[0] != '\0' ? text : "-";
}

static gboolean
is_all_digits (const char *text)
{
  const char *p;

  if (text[0] == '\0')
    return FALSE;
  for (p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

/* Finds the device that @which names: all digits is a port, anything else
 * a hostname, in any case. */
static PmDBusDevice *
find_device (GDBusObjectManager *objects,
             const char         *which,
             GError            **error)
{
  g_autoptr(GPtrArray) devices = list_devices (objects);
  gboolean by_port = is_all_digits (which);
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

/* Connects to the daemon and finds the device @which names; the device
 * lives as long as *@out_objects. */
static PmDBusDevice *
open_device (const char          *which,
             GDBusObjectManager **out_objects,
             GError             **error)
{
  g_autoptr(GDBusObjectManager) objects = connect_to_daemon (error);
  PmDBusDevice *device;

  if (objects == NULL)
    return NULL;
  device = find_device (objects, which, error);
  if (device != NULL)
    *out_objects = g_steal_pointer (&objects);
  return device;
}

/* ---- output ------------------------------------------------------------------ */

static void
add_newline (GString  *out,
             guint     depth,
             gboolean  pretty)
{
  guint i;

  if (!pretty)
    return;
  g_string_append_c (out, '\n');
  for (i = 0; i < depth; i++)
    g_string_append (out, "  ");
}

static const char *
skip_blanks (const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

/* Lays JSON text out again, two spaces an indent (or on one line if not
 * @pretty), keeping every token as the daemon wrote it: json-glib would
 * write 5.1 back as 5.0999999999999996. */
static char *
format_json (const char *text,
             gboolean    pretty)
{
  GString *out = g_string_new (NULL);
  guint depth = 0;
  const char *p = skip_blanks (text);

  while (*p != '\0')
    {
      const char *start = p;
      const char *next;

      switch (*p)
        {
        case '"':
          for (p++; *p != '\0' && *p != '"'; p++)
            if (*p == '\\' && p[1] != '\0')
              p++;
          if (*p == '"')
            p++;
          g_string_append_len (out, start, p - start);
          break;
        case '{':
        case '[':
          next = skip_blanks (p + 1);
          g_string_append_c (out, *p);
          if (*next == '}' || *next == ']')
            {
              g_string_append_c (out, *next);
              p = next + 1;
              break;
            }
          depth++;
          add_newline (out, depth, pretty);
          p = next;
          break;
        case '}':
        case ']':
          if (depth > 0)
            depth--;
          add_newline (out, depth, pretty);
          g_string_append_c (out, *p++);
          break;
        case ',':
          g_string_append_c (out, *p++);
          add_newline (out, depth, pretty);
          break;
        case ':':
          g_string_append (out, pretty ? ": " : ":");
          p++;
          break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
          p++;
          break;
        default:
          g_string_append_c (out, *p++);
          break;
        }
    }

  return g_string_free (out, FALSE);
}

static const char *
device_state (PmDBusDevice *device)
{
  return pm_dbus_device_get_restarting (device) ? "restarting" : "running";
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

/* "faults" in list --json: each kind's parameters, numbers as numbers. */
static JsonNode *
faults_to_json (PmDBusDevice *device)
{
  g_autoptr(GVariant) faults = dup_faults (device);

  return json_gvariant_serialize (faults);
}

/* The FAULTS cell: the kinds, comma-separated, or "-". */
static char *
dup_faults_cell (PmDBusDevice *device)
{
  g_autoptr(GVariant) faults = dup_faults (device);
  GString *text = g_string_new (NULL);
  GVariantIter iter;
  const char *kind;

  g_variant_iter_init (&iter, faults);
  while (g_variant_iter_next (&iter, "{&s@a{sv}}", &kind, NULL))
    {
      g_autofree char *quoted = pm_quote (kind, -1);

      if (text->len > 0)
        g_string_append_c (text, ',');
      g_string_append (text, quoted);
    }
  if (text->len == 0)
    g_string_append (text, "-");
  return g_string_free (text, FALSE);
}

static JsonNode *
device_to_json (PmDBusDevice *device)
{
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_int_member (object, "port", pm_dbus_device_get_port (device));
  json_object_set_string_member (object, "hostname", pm_dbus_device_get_hostname (device));
  json_object_set_string_member (object, "profile", pm_dbus_device_get_profile (device));
  /* "" for the profiles other than pluto-*, as on the bus. */
  json_object_set_string_member (object, "apiVersion", pm_dbus_device_get_api_version (device));
  json_object_set_string_member (object, "firmware", pm_dbus_device_get_firmware (device));
  json_object_set_string_member (object, "state", device_state (device));
  json_object_set_int_member (object, "startTime", pm_dbus_device_get_start_time (device));
  json_object_set_string_member (object, "url", pm_dbus_device_get_url (device));
  json_object_set_member (object, "faults", faults_to_json (device));

  return json_node_init_object (json_node_alloc (), object);
}

/* Prints @node as info does: "key": value, two spaces an indent. */
static void
print_json_node (JsonNode *node)
{
  g_autofree char *compact = json_to_string (node, FALSE);
  g_autofree char *text = format_json (compact, TRUE);

  g_print ("%s\n", text);
}

static void
print_devices_json (GPtrArray *devices)
{
  g_autoptr(JsonArray) array = json_array_sized_new (devices->len);
  g_autoptr(JsonNode) node = NULL;
  guint i;

  for (i = 0; i < devices->len; i++)
    json_array_add_element (array, device_to_json (g_ptr_array_index (devices, i)));
  node = json_node_init_array (json_node_alloc (), array);
  print_json_node (node);
}

/* Appends @text padded with spaces to @width characters. */
static void
append_cell (GString    *line,
             const char *text,
             gsize       width)
{
  gsize length = g_utf8_strlen (text, -1);

  g_string_append (line, text);
  for (; length < width; length++)
    g_string_append_c (line, ' ');
}

/* Prints @rows (each a GStrv) as columns two spaces apart, the last one
 * unpadded. */
static void
print_columns (GPtrArray *rows)
{
  g_autofree gsize *widths = NULL;
  guint n_columns, i, j;

  if (rows->len == 0)
    return;

  n_columns = g_strv_length (g_ptr_array_index (rows, 0));
  widths = g_new0 (gsize, n_columns);
  for (i = 0; i < rows->len; i++)
    {
      char **row = g_ptr_array_index (rows, i);

      for (j = 0; j < n_columns; j++)
        widths[j] = MAX (widths[j], (gsize) g_utf8_strlen (row[j], -1));
    }

  for (i = 0; i < rows->len; i++)
    {
      char **row = g_ptr_array_index (rows, i);
      g_autoptr(GString) line = g_string_new (NULL);

      for (j = 0; j + 1 < n_columns; j++)
        {
          append_cell (line, row[j], widths[j]);
          g_string_append (line, "  ");
        }
      g_string_append (line, row[n_columns - 1]);
      g_print ("%s\n", line->str);
    }
}

static void
print_devices_table (GPtrArray *devices)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  const char *header[] = {
    /* TRANSLATORS: the column headers of 'plutomockctl list' */
    C_("column", "PORT"), C_("column", "HOSTNAME"), C_("column", "PROFILE"),
    C_("column", "API"), C_("column", "FIRMWARE"), C_("column", "STATE"),
    C_("column", "URL"), C_("column", "FAULTS"), NULL
  };
  guint i;

  g_ptr_array_add (rows, g_strdupv ((char **) header));
  for (i = 0; i < devices->len; i++)
    {
      PmDBusDevice *device = g_ptr_array_index (devices, i);
      char **row = g_new0 (char *, G_N_ELEMENTS (header));

      row[0] = g_strdup_printf ("%u", pm_dbus_device_get_port (device));
      row[1] = g_strdup (nonnull (pm_dbus_device_get_hostname (device)));
      row[2] = g_strdup (cell (pm_dbus_device_get_profile (device)));
      /* Only the pluto-* profiles have an API version. */
      row[3] = g_strdup (cell (pm_dbus_device_get_api_version (device)));
      row[4] = g_strdup (nonnull (pm_dbus_device_get_firmware (device)));
      /* TRANSLATORS: a device's state in 'plutomockctl list' */
      row[5] = g_strdup (pm_dbus_device_get_restarting (device) ? C_("state", "restarting") : C_("state", "running"));
      row[6] = g_strdup (nonnull (pm_dbus_device_get_url (device)));
      row[7] = dup_faults_cell (device);
      g_ptr_array_add (rows, row);
    }
  print_columns (rows);
}

static void
print_devices (GPtrArray *devices,
               gboolean   json)
{
  if (json)
    print_devices_json (devices);
  else
    print_devices_table (devices);
}

/* ---- the commands ------------------------------------------------------------ */

static int
run_list (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) error = NULL;

  objects = connect_to_daemon (&error);
  if (objects == NULL)
    return fail (error);

  devices = list_devices (objects);
  print_devices (devices, opt.json);
  return 0;
}

static gboolean
parse_add_port (const char *text,
                guint      *out_port)
{
  guint64 port;

  /* Digits only: g_ascii_string_to_unsigned() lets a leading vertical
   * tab, and a '+' after it, through. */
  if (!is_all_digits (text) || !g_ascii_string_to_unsigned (text, 10, 0, 65535, &port, NULL))
    return FALSE;
  *out_port = (guint) port;
  return TRUE;
}

static int
run_add (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(PmDBusManager) manager = NULL;
  g_autoptr(PmDBusDevice) device = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *object_path = NULL;
  g_auto(GVariantBuilder) options = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  guint port = 0;

  /* Check everything before starting the daemon. */
  if (opt.port != NULL && !parse_add_port (opt.port, &port))
    {
      g_autofree char *quoted = pm_quote (opt.port, -1);

      return usage_error ("add", _("--port: '%s' is not a port number (0 to 65535, 0 for any free port)"),
                          quoted);
    }
  if (opt.api != NULL && g_strcmp0 (opt.api, "legacy") != 0 && g_strcmp0 (opt.api, "new") != 0)
    {
      g_autofree char *quoted = pm_quote (opt.api, -1);

      return usage_error ("add", _("--api: '%s' is neither 'legacy' nor 'new'"), quoted);
    }

  /* Only what was given: the daemon picks the rest. */
  if (opt.port != NULL)
    g_variant_builder_add (&options, "{sv}", "port", g_variant_new_uint32 (port));
  if (opt.hostname != NULL)
    g_variant_builder_add (&options, "{sv}", "hostname", g_variant_new_string (opt.hostname));
  if (opt.api != NULL)
    g_variant_builder_add (&options, "{sv}", "api-version", g_variant_new_string (opt.api));
  if (opt.firmware != NULL)
    g_variant_builder_add (&options, "{sv}", "firmware", g_variant_new_string (opt.firmware));
  /* The daemon knows the profiles, and says what is wrong with a name. */
  if (opt.profile != NULL)
    g_variant_builder_add (&options, "{sv}", "profile", g_variant_new_string (opt.profile));

  objects = connect_to_daemon (&error);
  if (objects == NULL)
    return fail (error);
  manager = get_manager (objects, &error);
  if (manager == NULL)
    return fail (error);

  if (!pm_dbus_manager_call_add_device_sync (manager, g_variant_builder_end (&options),
                                             G_DBUS_CALL_FLAGS_NONE, -1,
                                             &object_path, NULL, &error))
    return fail (error);

  /* The object manager hears of the device only on the main loop: ask the
   * device itself. */
  device = pm_dbus_device_proxy_new_sync (g_dbus_object_manager_client_get_connection (G_DBUS_OBJECT_MANAGER_CLIENT (objects)),
                                          G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                          PM_DBUS_NAME, object_path, NULL, &error);
  if (device == NULL)
    return fail (error);

  if (opt.json)
    {
      g_autoptr(JsonNode) node = device_to_json (device);

      print_json_node (node);
    }
  else
    {
      devices = g_ptr_array_new ();
      g_ptr_array_add (devices, device);
      print_devices_table (devices);
    }
  return 0;
}

static int
run_remove (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(PmDBusManager) manager = NULL;
  g_autoptr(PmDBusDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *hostname = NULL;
  guint port;

  device = open_device (args[0], &objects, &error);
  if (device == NULL)
    return fail (error);
  manager = get_manager (objects, &error);
  if (manager == NULL)
    return fail (error);

  hostname = pm_dbus_device_dup_hostname (device);
  port = pm_dbus_device_get_port (device);
  if (!pm_dbus_manager_call_remove_device_sync (manager,
                                                g_dbus_proxy_get_object_path (G_DBUS_PROXY (device)),
                                                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return fail (error);

  g_print (_("Removed %s (port %u)\n"), nonnull (hostname), port);
  return 0;
}

static int
run_restart (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(PmDBusDevice) device = NULL;
  g_autoptr(GError) error = NULL;

  device = open_device (args[0], &objects, &error);
  if (device == NULL)
    return fail (error);

  if (!pm_dbus_device_call_restart_sync (device, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return fail (error);

  /* The Pluto shapes answer 503; firmware profiles go off the network as
   * hardware does. */
  if (g_str_has_prefix (nonnull (pm_dbus_device_get_profile (device)), "pluto-"))
    g_print (_("Restarting %s (port %u): HTTP answers 503 for 5 seconds\n"),
             nonnull (pm_dbus_device_get_hostname (device)), pm_dbus_device_get_port (device));
  else
    g_print (_("Restarting %s (port %u): in 1 second its connections are cut and its port is closed for 5 seconds\n"),
             nonnull (pm_dbus_device_get_hostname (device)), pm_dbus_device_get_port (device));
  return 0;
}

static int
run_info (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(PmDBusDevice) device = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;

  device = open_device (args[0], &objects, &error);
  if (device == NULL)
    return fail (error);

  if (!pm_dbus_device_call_get_info_sync (device, G_DBUS_CALL_FLAGS_NONE, -1, &json, NULL, &error))
    return fail (error);

  node = json_from_string (json, &error);
  if (node == NULL)
    {
      g_printerr (_("plutomockctl: plutomock sent malformed JSON: %s\n"),
                  error != NULL ? error->message : _("it is empty"));
      return EXIT_FAILED;
    }

  text = format_json (json, !opt.compact);
  g_print ("%s\n", text);
  return 0;
}

static int
run_update (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(PmDBusDevice) device = NULL;
  g_autoptr(GError) error = NULL;

  device = open_device (args[0], &objects, &error);
  if (device == NULL)
    return fail (error);

  /* The daemon checks the JSON as PATCH /api/system does, and says what
   * is wrong with it. */
  if (!pm_dbus_device_call_update_sync (device, args[1], G_DBUS_CALL_FLAGS_NONE, -1,
                                        NULL, &error))
    return fail (error);

  g_print (_("Updated %s (port %u)\n"),
           nonnull (pm_dbus_device_get_hostname (device)), pm_dbus_device_get_port (device));
  return 0;
}

/* A fault parameter's value as the daemon takes it: true or false a
 * boolean, a whole number an integer (x if negative, else t), another
 * number a double, anything else a string.  The daemon checks it. */
static GVariant *
parse_parameter_value (const char *text)
{
  char *end = NULL;
  double number;

  if (strcmp (text, "true") == 0)
    return g_variant_new_boolean (TRUE);
  if (strcmp (text, "false") == 0)
    return g_variant_new_boolean (FALSE);
  if (text[0] == '-' && is_all_digits (text + 1))
    {
      gint64 value;

      if (g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &value, NULL))
        return g_variant_new_int64 (value);
    }
  else if (is_all_digits (text))
    {
      guint64 value;

      if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &value, NULL))
        return g_variant_new_uint64 (value);
    }
  /* Decimal notation only: no hexadecimal, infinity or NaN. */
  if (text[0] != '\0' && text[strspn (text, "0123456789.eE+-")] == '\0' &&
      (g_ascii_isdigit (text[0]) || text[0] == '.' || text[0] == '-' || text[0] == '+'))
    {
      number = g_ascii_strtod (text, &end);
      if (end != text && *end == '\0' && isfinite (number))
        return g_variant_new_double (number);
    }
  return g_variant_new_string (text);
}

/* Builds the a{sv} of NAME=VALUE arguments; a usage error if one is
 * malformed or a name is given twice. */
static gboolean
parse_parameters (char *const *args,
                  GVariant   **out_parameters,
                  int         *out_status)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gsize i;

  for (i = 0; args[i] != NULL; i++)
    {
      const char *eq = strchr (args[i], '=');
      g_autofree char *name = NULL;

      if (eq == NULL || eq == args[i])
        {
          g_autofree char *quoted = pm_quote (args[i], -1);

          *out_status = usage_error ("fault", _("'%s' is not NAME=VALUE"), quoted);
          return FALSE;
        }
      name = g_strndup (args[i], eq - args[i]);
      if (g_hash_table_contains (seen, name))
        {
          g_autofree char *quoted = pm_quote (name, -1);

          *out_status = usage_error ("fault", _("parameter '%s' is given twice"), quoted);
          return FALSE;
        }
      g_variant_builder_add (&builder, "{sv}", name, parse_parameter_value (eq + 1));
      g_hash_table_add (seen, g_steal_pointer (&name));
    }
  *out_parameters = g_variant_builder_end (&builder);
  return TRUE;
}

static int
run_fault (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(PmDBusManager) manager = NULL;
  g_autoptr(PmDBusDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) parameters = NULL;
  g_autofree char *target = NULL;
  const char *const no_paths[] = { NULL };
  const char *which = NULL, *kind = NULL;
  guint n_args = g_strv_length (args), next = 0;
  int status;

  /* The shapes: DEVICE KIND [NAME=VALUE…], --all KIND [NAME=VALUE…],
   * --clear DEVICE [KIND] and --clear --all [KIND]. */
  if (!opt.all)
    {
      if (n_args == 0)
        return usage_error ("fault", _("missing argument %s"), _("PORT|HOSTNAME"));
      which = args[next++];
    }
  if (next < n_args)
    kind = args[next++];
  else if (!opt.clear)
    return usage_error ("fault", _("missing argument %s"), _("KIND"));
  if (opt.clear && next < n_args)
    {
      g_autofree char *quoted = pm_quote (args[next], -1);

      return usage_error ("fault", _("unexpected argument '%s' (--clear takes no parameters)"), quoted);
    }
  if (!opt.clear && !parse_parameters (args + next, &parameters, &status))
    return status;
  if (parameters != NULL)
    g_variant_ref_sink (parameters);

  if (opt.all)
    {
      objects = connect_to_daemon (&error);
      if (objects == NULL)
        return fail (error);
      manager = get_manager (objects, &error);
      if (manager == NULL)
        return fail (error);
      target = g_strdup (_("every device"));
    }
  else
    {
      device = open_device (which, &objects, &error);
      if (device == NULL)
        return fail (error);
      target = g_strdup_printf (_("%s (port %u)"), nonnull (pm_dbus_device_get_hostname (device)),
                                pm_dbus_device_get_port (device));
    }

  if (!opt.clear)
    {
      gboolean done = opt.all
                        ? pm_dbus_manager_call_set_fault_sync (manager, no_paths, kind, parameters,
                                                               G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error)
                        : pm_dbus_device_call_set_fault_sync (device, kind, parameters,
                                                              G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

      if (!done)
        return fail (error);
      g_print (_("Set fault %s on %s\n"), kind, target);
    }
  else if (kind != NULL)
    {
      gboolean done = opt.all
                        ? pm_dbus_manager_call_clear_fault_sync (manager, no_paths, kind,
                                                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error)
                        : pm_dbus_device_call_clear_fault_sync (device, kind,
                                                                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

      if (!done)
        return fail (error);
      g_print (_("Cleared fault %s on %s\n"), kind, target);
    }
  else
    {
      gboolean done = opt.all
                        ? pm_dbus_manager_call_clear_faults_sync (manager, no_paths,
                                                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error)
                        : pm_dbus_device_call_clear_faults_sync (device,
                                                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

      if (!done)
        return fail (error);
      g_print (_("Cleared every fault on %s\n"), target);
    }
  return 0;
}

/* Reads a scenario file whole, up to the daemon's limit; the text must
 * be UTF-8, as D-Bus strings are. */
static char *
read_scenario (const char *path,
               GError    **error)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = g_malloc (PM_SCENARIO_MAX_BYTES + 2);
  g_autofree char *quoted = pm_quote (path, -1);
  gsize length = 0;

  stream = g_file_read (file, NULL, &local_error);
  if (stream == NULL ||
      !g_input_stream_read_all (G_INPUT_STREAM (stream), text, PM_SCENARIO_MAX_BYTES + 1,
                                &length, NULL, &local_error))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                   _("cannot read '%s': %s"), quoted, local_error->message);
      return NULL;
    }
  if (length > PM_SCENARIO_MAX_BYTES)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                   _("'%s' is larger than a scenario may be (%d bytes)"), quoted, PM_SCENARIO_MAX_BYTES);
      return NULL;
    }
  text[length] = '\0';
  if (!g_utf8_validate_len (text, length, NULL) || strlen (text) != length)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                   _("'%s' is not a text file in UTF-8"), quoted);
      return NULL;
    }
  return g_steal_pointer (&text);
}

static int
run_scenario (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(PmDBusManager) manager = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *quoted = NULL;
  gboolean stopped;

  if (opt.stop && args[0] != NULL)
    {
      g_autofree char *quoted_arg = pm_quote (args[0], -1);

      return usage_error ("scenario", _("unexpected argument '%s' (--stop takes no file)"), quoted_arg);
    }
  if (!opt.stop && args[0] == NULL)
    return usage_error ("scenario", _("missing argument %s"), _("FILE"));

  /* The file is read here: the daemon may not see it. */
  if (!opt.stop)
    {
      text = read_scenario (args[0], &error);
      if (text == NULL)
        return fail (error);
      quoted = pm_quote (args[0], -1);
    }

  objects = connect_to_daemon (&error);
  if (objects == NULL)
    return fail (error);
  manager = get_manager (objects, &error);
  if (manager == NULL)
    return fail (error);

  if (opt.stop)
    {
      if (!pm_dbus_manager_call_stop_scenario_sync (manager, G_DBUS_CALL_FLAGS_NONE, -1,
                                                    &stopped, NULL, &error))
        return fail (error);
      if (stopped)
        g_print (_("Scenario stopped; the faults it set are cleared\n"));
      else
        g_print (_("No scenario was running\n"));
      return 0;
    }

  if (!pm_dbus_manager_call_run_scenario_sync (manager, text, G_DBUS_CALL_FLAGS_NONE, -1,
                                               NULL, &error))
    {
      /* The daemon's message names the group and key; add the file. */
      g_dbus_error_strip_remote_error (error);
      g_prefix_error (&error, "'%s': ", quoted);
      return fail (error);
    }
  g_print (_("Running the scenario in '%s'\n"), quoted);
  return 0;
}

/* The listing server's URL: on the host the devices' URLs name, as it
 * binds to the same address. */
static char *
dup_listing_url (GPtrArray *devices,
                 guint      listing_port)
{
  g_autoptr(GUri) device_uri = NULL;
  g_autoptr(GUri) uri = NULL;

  if (devices->len > 0)
    device_uri = g_uri_parse (nonnull (pm_dbus_device_get_url (g_ptr_array_index (devices, 0))),
                              G_URI_FLAGS_NONE, NULL);
  uri = g_uri_build (G_URI_FLAGS_NONE, "http", NULL,
                     device_uri != NULL ? g_uri_get_host (device_uri) : "127.0.0.1",
                     (int) listing_port, "/servers", NULL, NULL);
  return g_uri_to_string (uri);
}

/* Returns: (transfer full): the row { @label, @value }; takes @value */
static char **
make_pair (const char *label,
           char       *value)
{
  char **row = g_new (char *, 3);

  row[0] = g_strdup (label);
  row[1] = value;
  row[2] = NULL;
  return row;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Returns: (transfer full): how many of @devices have each profile, by
 * name: "2 axeos-gamma, 1 pluto-new"; "-" for no device */
static char *
dup_profile_counts (GPtrArray *devices)
{
  g_autoptr(GPtrArray) names = g_ptr_array_sized_new (devices->len);
  GString *out = g_string_new (NULL);
  guint i, n;

  for (i = 0; i < devices->len; i++)
    g_ptr_array_add (names, (gpointer) cell (pm_dbus_device_get_profile (g_ptr_array_index (devices, i))));
  g_ptr_array_sort (names, compare_names);

  for (i = 0; i < names->len; i += n)
    {
      const char *name = g_ptr_array_index (names, i);

      for (n = 1; i + n < names->len && strcmp (g_ptr_array_index (names, i + n), name) == 0; n++)
        ;
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append_printf (out, "%u %s", n, name);
    }
  if (out->len == 0)
    g_string_append (out, "-");
  return g_string_free (out, FALSE);
}

/* Returns: (transfer full): the running scenario's name, "(unnamed)" or
 * "none" */
static char *
dup_scenario_state (PmDBusManager *manager)
{
  const char *name = pm_dbus_manager_get_scenario (manager);

  if (!pm_dbus_manager_get_scenario_running (manager))
    return g_strdup (C_("scenario", "none"));
  if (name == NULL || name[0] == '\0')
    return g_strdup (_("(unnamed)"));
  return pm_quote (name, -1);
}

static int
run_status (char **args)
{
  g_autoptr(GDBusObjectManager) objects = NULL;
  g_autoptr(PmDBusManager) manager = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GError) error = NULL;
  guint listing_port;
  char *listing;

  objects = connect_to_daemon (&error);
  if (objects == NULL)
    return fail (error);
  manager = get_manager (objects, &error);
  if (manager == NULL)
    return fail (error);
  devices = list_devices (objects);

  listing_port = pm_dbus_manager_get_listing_port (manager);
  if (listing_port == 0)
    {
      listing = g_strdup (_("not running"));
    }
  else
    {
      g_autofree char *url = dup_listing_url (devices, listing_port);

      listing = g_strdup_printf ("%u (%s)", listing_port, url);
    }

  /* TRANSLATORS: the labels of 'plutomockctl status' */
  g_ptr_array_add (rows, make_pair (_("Version:"), g_strdup (pm_dbus_manager_get_version (manager))));
  g_ptr_array_add (rows, make_pair (_("Seed:"),
                                    g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                     pm_dbus_manager_get_seed (manager))));
  g_ptr_array_add (rows, make_pair (_("Listing port:"), listing));
  g_ptr_array_add (rows, make_pair (_("Logs:"),
                                    g_strdup (pm_dbus_manager_get_logs_enabled (manager)
                                              ? _("enabled") : _("disabled"))));
  g_ptr_array_add (rows, make_pair (_("Devices:"), g_strdup_printf ("%u", devices->len)));
  g_ptr_array_add (rows, make_pair (_("Profiles:"), dup_profile_counts (devices)));
  g_ptr_array_add (rows, make_pair (_("Scenario:"), dup_scenario_state (manager)));
  print_columns (rows);
  return 0;
}

typedef struct
{
  const char         *name;
  const char         *parameters;   /* N_(): the arguments, for the usage line */
  const char         *summary;      /* N_(): one line */
  const char         *description;  /* N_(): more, for COMMAND --help; nullable */
  const GOptionEntry *entries;
  guint               n_args;
  int               (*run) (char **args);
  gboolean            checks_args;  /* run() checks how many arguments */
} Command;

#define DEVICE_DESCRIPTION \
  N_("PORT|HOSTNAME is the device's port, or its hostname in any case.")

static const Command commands[] = {
  { "list", NULL, N_("List the devices: port, hostname, profile, API, firmware, state, URL and faults"),
    NULL, list_entries, 0, run_list },
  { "add", NULL, N_("Start a new device and print it"),
    N_("Options left out get the daemon's defaults."), add_entries, 0, run_add },
  { "remove", N_("PORT|HOSTNAME"), N_("Stop a device and drop it from the fleet"),
    DEVICE_DESCRIPTION, no_entries, 1, run_remove },
  { "restart", N_("PORT|HOSTNAME"), N_("Restart a device: a pluto-* device answers 503 for 5 seconds, another goes off the network for 5 seconds"),
    DEVICE_DESCRIPTION, no_entries, 1, run_restart },
  { "info", N_("PORT|HOSTNAME"), N_("Print the device's /api/system/info JSON"),
    DEVICE_DESCRIPTION, info_entries, 1, run_info },
  { "update", N_("PORT|HOSTNAME JSON"), N_("Merge a JSON object into the device's info, as PATCH /api/system does"),
    N_("PORT|HOSTNAME is the device's port, or its hostname in any case.\n"
       "JSON is an object, such as '{\"hostname\": \"rig-7\", \"hashRate\": 512.5}'."),
    no_entries, 2, run_update },
  { "status", NULL, N_("Show the daemon's version, seed, listing server, logs setting, device count, profiles and scenario"),
    NULL, no_entries, 0, run_status },
  { "fault", N_("PORT|HOSTNAME KIND [NAME=VALUE…]"), N_("Set or clear a fault on a device or on every device"),
    N_("PORT|HOSTNAME is the device's port, or its hostname in any case.\n"
       "KIND is latency, errors, offline, blackhole, flapping, corrupt, slow-body,\n"
       "ws-drop, ws-silent or reboot-loop, or on a simulated device (axeos-* and\n"
       "nerdqaxe-plus) overheat, fan-failure, asic-failure, pool-down or power-fault;\n"
       "each NAME=VALUE is one of its parameters, e.g. ms=2000 or clean=true.\n"
       "\n"
       "  plutomockctl fault PORT|HOSTNAME KIND [NAME=VALUE…]\n"
       "  plutomockctl fault --all KIND [NAME=VALUE…]\n"
       "  plutomockctl fault --clear PORT|HOSTNAME [KIND]\n"
       "  plutomockctl fault --clear --all [KIND]"),
    fault_entries, 0, run_fault, TRUE },
  { "scenario", N_("FILE"), N_("Run a scenario file, replacing the running one, or stop it with --stop"),
    N_("FILE is read here and sent to the daemon, which checks it and starts it at once.\n"
       "--stop clears the faults the scenario set, unless changed since."),
    scenario_entries, 0, run_scenario, TRUE },
};

static const Command *
find_command (const char *name)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static char *
dup_commands_help (void)
{
  GString *help = g_string_new (_("Commands:"));
  gsize width = 0, i;

  for (i = 0; i < G_N_ELEMENTS (commands); i++)
    width = MAX (width, strlen (commands[i].name));
  for (i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (help, "\n  %-*s  %s", (int) width, commands[i].name,
                            _(commands[i].summary));
  g_string_append (help, "\n\n");
  g_string_append (help, _("Run 'plutomockctl COMMAND --help' to see a command's options."));
  return g_string_free (help, FALSE);
}

/* Parses the command's options in @args (its arguments after the command
 * name) and runs it. */
static int
run_command (const Command *command,
             int            argc,
             char         **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("plutomockctl %s", command->name);
  g_auto(GStrv) args = g_new0 (char *, argc + 2);
  guint n_args;
  int i;

  args[0] = g_strdup (prgname);
  for (i = 0; i < argc; i++)
    args[i + 1] = g_strdup (argv[i]);

  /* --help says "Usage: plutomockctl COMMAND [OPTION…] ARGUMENTS". */
  g_set_prgname (prgname);
  context = g_option_context_new (command->parameters);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, command->summary);
  if (command->description != NULL)
    g_option_context_set_description (context, command->description);
  g_option_context_add_main_entries (context, command->entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse_strv (context, &args, &error))
    {
      g_autofree char *quoted = pm_quote (error->message, -1);

      return usage_error (command->name, "%s", quoted);
    }

  n_args = g_strv_length (args) - 1;
  if (command->checks_args)
    n_args = command->n_args;
  if (n_args < command->n_args)
    {
      g_auto(GStrv) names = g_strsplit (_(command->parameters), " ", -1);

      return usage_error (command->name, _("missing argument %s"),
                          n_args < g_strv_length (names) ? names[n_args] : _(command->parameters));
    }
  if (n_args > command->n_args)
    {
      g_autofree char *quoted = pm_quote (args[command->n_args + 1], -1);

      return usage_error (command->name, _("unexpected argument '%s'"), quoted);
    }

  /* Arguments and text options are taken as they are, whatever the
   * locale, and must be UTF-8: D-Bus carries nothing else. */
  for (i = 1; args[i] != NULL; i++)
    if (!g_utf8_validate (args[i], -1, NULL))
      return usage_error (command->name, _("argument %d is not valid UTF-8"), i);
  if ((opt.hostname != NULL && !g_utf8_validate (opt.hostname, -1, NULL)) ||
      (opt.firmware != NULL && !g_utf8_validate (opt.firmware, -1, NULL)))
    return usage_error (command->name, _("--hostname and --firmware must be valid UTF-8"));
  if (opt.profile != NULL && !g_utf8_validate (opt.profile, -1, NULL))
    return usage_error (command->name, _("--profile must be valid UTF-8"));

  return command->run (args + 1);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *commands_help = NULL;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };
  const Command *command;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* Map org.pluto.Mock1.Error.* replies to PM_ERROR. */
  (void) PM_ERROR;

  g_set_prgname ("plutomockctl");
  context = g_option_context_new (N_("COMMAND [ARGUMENT…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, N_("Controls plutomock, the mock fleet of Bitaxe miners, over D-Bus."));
  commands_help = dup_commands_help ();
  g_option_context_set_description (context, commands_help);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* Options after the command are the command's. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      /* GOption quotes the argument whole ("Unknown option --x..."). */
      g_autofree char *quoted = pm_quote (error->message, -1);

      return usage_error (NULL, "%s", quoted);
    }
  if (version)
    {
      g_print ("plutomockctl %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argc < 2)
    return usage_error (NULL, _("no command given"));

  command = find_command (argv[1]);
  if (command == NULL)
    {
      g_autofree char *quoted = pm_quote (argv[1], -1);

      return usage_error (NULL, _("unknown command '%s'"), quoted);
    }

  status = run_command (command, argc - 2, argv + 2);
  opt_clear ();
  return status;
}
