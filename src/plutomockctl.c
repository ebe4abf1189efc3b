/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "plutomockctl"

#include "config.h"

#include <locale.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "ctl-client.h"
#include "pm-parse.h"
#include "pm-error.h"
#include "pm-json-writer.h"
#include "pm-quote.h"
#include "pm-scenario.h"

/*
 * plutomockctl: the command-line client of plutomock, over its D-Bus
 * interface (org.pluto.Mock1 on the session bus, which starts the daemon
 * if it is not running) or, with --http URL or PLUTOMOCK_URL, over the
 * control API on its listing server.  The commands speak to a CtlClient
 * (ctl-client.h) and print the same whichever way it goes.  Exit status:
 * 0 on success, 1 when the daemon, the bus or the network says no, 2 for
 * a command line that is wrong.
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

static const GOptionEntry status_entries[] = {
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt.json,
    N_("Print the status as a JSON object instead of a table"), NULL },
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

/* Prints a failure: the daemon's error without its remote prefix, over
 * D-Bus as over HTTP.  When the bus is not there, says what else works. */
static int
fail (GError *error)
{
  g_dbus_error_strip_remote_error (error);
  g_printerr (_("plutomockctl: %s\n"), error->message);
  if (g_error_matches (error, CTL_ERROR, CTL_ERROR_NO_BUS))
    g_printerr (_("plutomockctl: run plutomock under dbus-run-session, or control it over HTTP on its listing port: plutomockctl --http http://127.0.0.1:7770 COMMAND\n"));
  return EXIT_FAILED;
}

/* ---- the daemon ------------------------------------------------------------ */

/* The listing server's URL from --http or PLUTOMOCK_URL, checked; NULL
 * for D-Bus. */
static char *http_url;

/* Connects to the daemon the way the command line says. */
static CtlClient *
open_client (GError **error)
{
  if (http_url != NULL)
    return ctl_http_client_new (http_url);
  return ctl_dbus_client_new (error);
}

/* Connects to the daemon and finds the device @which names. */
static JsonObject *
open_device (const char *which,
             CtlClient **out_client,
             GError    **error)
{
  g_autoptr(CtlClient) client = open_client (error);
  JsonObject *device;

  if (client == NULL)
    return NULL;
  device = client->klass->get_device (client, which, error);
  if (device != NULL)
    *out_client = g_steal_pointer (&client);
  return device;
}

static const char *
get_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return "";
  return json_node_get_string (node);
}

static gint64
get_int (JsonObject *object,
         const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return 0;
  return json_node_get_int (node);
}

static gboolean
get_boolean (JsonObject *object,
             const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && json_node_get_value_type (node) == G_TYPE_BOOLEAN &&
         json_node_get_boolean (node);
}

/* A table cell: "-" for nothing, so that every row has every column. */
static const char *
cell (const char *text)
{
  return text != NULL && text[0] != '\0' ? text : "-";
}

/* "plutomock-1 (port 7751)" */
static char *
dup_target (JsonObject *device)
{
  return g_strdup_printf (_("%s (port %u)"), get_string (device, "hostname"),
                          (guint) get_int (device, "port"));
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

/* Prints @node as info does: "key": value, two spaces an indent, members
 * in their order, numbers written as the daemon writes them, so that both
 * transports print the same. */
static void
print_json_node (JsonNode *node)
{
  g_autoptr(GString) compact = g_string_new (NULL);
  g_autofree char *text = NULL;

  pm_json_append_node (compact, node);
  text = format_json (compact->str, TRUE);
  g_print ("%s\n", text);
}

static void
print_json_object (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  print_json_node (node);
}

static void
print_devices_json (GPtrArray *devices)
{
  g_autoptr(JsonArray) array = json_array_sized_new (devices->len);
  g_autoptr(JsonNode) node = NULL;
  guint i;

  for (i = 0; i < devices->len; i++)
    json_array_add_object_element (array, json_object_ref (g_ptr_array_index (devices, i)));
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

/* The FAULTS cell: the kinds, comma-separated, or "-". */
static char *
dup_faults_cell (JsonObject *device)
{
  JsonNode *faults = json_object_get_member (device, "faults");
  g_autoptr(GList) kinds = NULL;
  GString *text = g_string_new (NULL);
  GList *l;

  if (faults != NULL && JSON_NODE_HOLDS_OBJECT (faults))
    kinds = json_object_get_members (json_node_get_object (faults));
  for (l = kinds; l != NULL; l = l->next)
    {
      g_autofree char *quoted = pm_quote (l->data, -1);

      if (text->len > 0)
        g_string_append_c (text, ',');
      g_string_append (text, quoted);
    }
  if (text->len == 0)
    g_string_append (text, "-");
  return g_string_free (text, FALSE);
}

static const char *
state_cell (JsonObject *device)
{
  const char *state = get_string (device, "state");

  /* TRANSLATORS: a device's state in 'plutomockctl list' */
  if (g_str_equal (state, "restarting"))
    return C_("state", "restarting");
  if (g_str_equal (state, "running"))
    return C_("state", "running");
  return cell (state);
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
      JsonObject *device = g_ptr_array_index (devices, i);
      char **row = g_new0 (char *, G_N_ELEMENTS (header));

      row[0] = g_strdup_printf ("%u", (guint) get_int (device, "port"));
      row[1] = g_strdup (get_string (device, "hostname"));
      row[2] = g_strdup (cell (get_string (device, "profile")));
      /* Only the pluto-* profiles have an API version. */
      row[3] = g_strdup (cell (get_string (device, "apiVersion")));
      row[4] = g_strdup (get_string (device, "firmware"));
      row[5] = g_strdup (state_cell (device));
      row[6] = g_strdup (get_string (device, "url"));
      row[7] = dup_faults_cell (device);
      g_ptr_array_add (rows, row);
    }
  print_columns (rows);
}

/* ---- the commands ------------------------------------------------------------ */

static int
run_list (char **args)
{
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) error = NULL;

  client = open_client (&error);
  if (client == NULL)
    return fail (error);
  devices = client->klass->list_devices (client, &error);
  if (devices == NULL)
    return fail (error);

  if (opt.json)
    print_devices_json (devices);
  else
    print_devices_table (devices);
  return 0;
}

static gboolean
parse_add_port (const char *text,
                guint      *out_port)
{
  guint64 port;

  /* Digits only: g_ascii_string_to_unsigned() lets a leading vertical
   * tab, and a '+' after it, through. */
  if (!pm_parse_is_all_digits (text) || !g_ascii_string_to_unsigned (text, 10, 0, 65535, &port, NULL))
    return FALSE;
  *out_port = (guint) port;
  return TRUE;
}

static int
run_add (char **args)
{
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(JsonObject) device = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) options = NULL;
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
    g_variant_builder_add (&builder, "{sv}", "port", g_variant_new_uint32 (port));
  if (opt.hostname != NULL)
    g_variant_builder_add (&builder, "{sv}", "hostname", g_variant_new_string (opt.hostname));
  if (opt.api != NULL)
    g_variant_builder_add (&builder, "{sv}", "api-version", g_variant_new_string (opt.api));
  if (opt.firmware != NULL)
    g_variant_builder_add (&builder, "{sv}", "firmware", g_variant_new_string (opt.firmware));
  /* The daemon knows the profiles, and says what is wrong with a name. */
  if (opt.profile != NULL)
    g_variant_builder_add (&builder, "{sv}", "profile", g_variant_new_string (opt.profile));
  options = g_variant_ref_sink (g_variant_builder_end (&builder));

  client = open_client (&error);
  if (client == NULL)
    return fail (error);
  device = client->klass->add_device (client, options, &error);
  if (device == NULL)
    return fail (error);

  if (opt.json)
    {
      print_json_object (device);
    }
  else
    {
      g_autoptr(GPtrArray) devices = g_ptr_array_new ();

      g_ptr_array_add (devices, device);
      print_devices_table (devices);
    }
  return 0;
}

static int
run_remove (char **args)
{
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(JsonObject) device = NULL;
  g_autoptr(GError) error = NULL;

  device = open_device (args[0], &client, &error);
  if (device == NULL)
    return fail (error);
  if (!client->klass->remove_device (client, device, &error))
    return fail (error);

  g_print (_("Removed %s (port %u)\n"), get_string (device, "hostname"), (guint) get_int (device, "port"));
  return 0;
}

static int
run_restart (char **args)
{
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(JsonObject) device = NULL;
  g_autoptr(GError) error = NULL;

  device = open_device (args[0], &client, &error);
  if (device == NULL)
    return fail (error);
  if (!client->klass->restart (client, device, &error))
    return fail (error);

  /* The Pluto shapes answer 503; firmware profiles go off the network as
   * hardware does. */
  if (g_str_has_prefix (get_string (device, "profile"), "pluto-"))
    g_print (_("Restarting %s (port %u): HTTP answers 503 for 5 seconds\n"),
             get_string (device, "hostname"), (guint) get_int (device, "port"));
  else
    g_print (_("Restarting %s (port %u): in 1 second its connections are cut and its port is closed for 5 seconds\n"),
             get_string (device, "hostname"), (guint) get_int (device, "port"));
  return 0;
}

static int
run_info (char **args)
{
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(JsonObject) device = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;

  device = open_device (args[0], &client, &error);
  if (device == NULL)
    return fail (error);
  json = client->klass->get_info (client, device, &error);
  if (json == NULL)
    return fail (error);

  node = json_from_string (json, &error);
  if (node == NULL)
    {
      g_printerr (_("plutomockctl: plutomock sent malformed JSON: %s\n"),
                  error != NULL ? error->message : _("it is empty"));
      return EXIT_FAILED;
    }

  /* Every token as the daemon wrote it. */
  text = format_json (json, !opt.compact);
  g_print ("%s\n", text);
  return 0;
}

static int
run_update (char **args)
{
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(JsonObject) device = NULL;
  g_autoptr(GError) error = NULL;

  device = open_device (args[0], &client, &error);
  if (device == NULL)
    return fail (error);

  /* The daemon checks the JSON as PATCH /api/system does, and says what
   * is wrong with it. */
  if (!client->klass->update (client, device, args[1], &error))
    return fail (error);

  g_print (_("Updated %s (port %u)\n"), get_string (device, "hostname"), (guint) get_int (device, "port"));
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
  if (text[0] == '-' && pm_parse_is_all_digits (text + 1))
    {
      gint64 value;

      if (g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &value, NULL))
        return g_variant_new_int64 (value);
    }
  else if (pm_parse_is_all_digits (text))
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
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(JsonObject) device = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) parameters = NULL;
  g_autofree char *target = NULL;
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
      client = open_client (&error);
      if (client == NULL)
        return fail (error);
      target = g_strdup (_("every device"));
    }
  else
    {
      device = open_device (which, &client, &error);
      if (device == NULL)
        return fail (error);
      target = dup_target (device);
    }

  if (!opt.clear)
    {
      if (!client->klass->set_fault (client, device, kind, parameters, &error))
        return fail (error);
      g_print (_("Set fault %s on %s\n"), kind, target);
    }
  else
    {
      if (!client->klass->clear_fault (client, device, kind, &error))
        return fail (error);
      if (kind != NULL)
        g_print (_("Cleared fault %s on %s\n"), kind, target);
      else
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
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *quoted = NULL;
  gboolean stopped = FALSE;

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

  client = open_client (&error);
  if (client == NULL)
    return fail (error);

  if (opt.stop)
    {
      if (!client->klass->stop_scenario (client, &stopped, &error))
        return fail (error);
      if (stopped)
        g_print (_("Scenario stopped; the faults it set are cleared\n"));
      else
        g_print (_("No scenario was running\n"));
      return 0;
    }

  if (!client->klass->run_scenario (client, text, &error))
    {
      /* The daemon's message names the group and key; add the file.  Not
       * to a failure to reach it. */
      if (error->domain != CTL_ERROR)
        {
          g_dbus_error_strip_remote_error (error);
          g_prefix_error (&error, "'%s': ", quoted);
        }
      return fail (error);
    }
  g_print (_("Running the scenario in '%s'\n"), quoted);
  return 0;
}

/* The listing server's URL: on the address the daemon binds to. */
static char *
dup_listing_url (JsonObject *status)
{
  g_autoptr(GUri) uri = NULL;
  const char *host = get_string (status, "bindAddress");

  uri = g_uri_build (G_URI_FLAGS_NONE, "http", NULL, host[0] != '\0' ? host : "127.0.0.1",
                     (int) get_int (status, "listingPort"), "/servers", NULL, NULL);
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

/* Returns: (transfer full): how many devices have each profile, by name:
 * "2 axeos-gamma, 1 pluto-new"; "-" for no device */
static char *
dup_profile_counts (JsonObject *status)
{
  JsonNode *member = json_object_get_member (status, "profiles");
  g_autoptr(GList) names = NULL;
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  JsonObject *profiles;
  GString *out = g_string_new (NULL);
  GList *l;
  guint i;

  if (member != NULL && JSON_NODE_HOLDS_OBJECT (member))
    {
      profiles = json_node_get_object (member);
      names = json_object_get_members (profiles);
      for (l = names; l != NULL; l = l->next)
        g_ptr_array_add (sorted, l->data);
      g_ptr_array_sort (sorted, compare_names);
      for (i = 0; i < sorted->len; i++)
        {
          const char *name = g_ptr_array_index (sorted, i);

          if (out->len > 0)
            g_string_append (out, ", ");
          g_string_append_printf (out, "%" G_GINT64_FORMAT " %s", get_int (profiles, name), cell (name));
        }
    }
  if (out->len == 0)
    g_string_append (out, "-");
  return g_string_free (out, FALSE);
}

/* Returns: (transfer full): the running scenario's name, "(unnamed)" or
 * "none" */
static char *
dup_scenario_state (JsonObject *status)
{
  const char *name = get_string (status, "scenario");

  if (!get_boolean (status, "scenarioRunning"))
    return g_strdup (C_("scenario", "none"));
  if (name[0] == '\0')
    return g_strdup (_("(unnamed)"));
  return pm_quote (name, -1);
}

static int
run_status (char **args)
{
  g_autoptr(CtlClient) client = NULL;
  g_autoptr(JsonObject) status = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr(GError) error = NULL;
  char *listing;

  client = open_client (&error);
  if (client == NULL)
    return fail (error);
  status = client->klass->get_status (client, &error);
  if (status == NULL)
    return fail (error);

  if (opt.json)
    {
      print_json_object (status);
      return 0;
    }

  if (get_int (status, "listingPort") == 0)
    {
      listing = g_strdup (_("not running"));
    }
  else
    {
      g_autofree char *url = dup_listing_url (status);

      listing = g_strdup_printf ("%u (%s)", (guint) get_int (status, "listingPort"), url);
    }

  /* TRANSLATORS: the labels of 'plutomockctl status' */
  g_ptr_array_add (rows, make_pair (_("Version:"), g_strdup (get_string (status, "version"))));
  g_ptr_array_add (rows, make_pair (_("Seed:"), g_strdup (get_string (status, "seed"))));
  g_ptr_array_add (rows, make_pair (_("Listing port:"), listing));
  g_ptr_array_add (rows, make_pair (_("Logs:"),
                                    g_strdup (get_boolean (status, "logsEnabled")
                                              ? _("enabled") : _("disabled"))));
  g_ptr_array_add (rows, make_pair (_("Devices:"),
                                    g_strdup_printf ("%" G_GINT64_FORMAT, get_int (status, "devices"))));
  g_ptr_array_add (rows, make_pair (_("Profiles:"), dup_profile_counts (status)));
  g_ptr_array_add (rows, make_pair (_("Scenario:"), dup_scenario_state (status)));
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
    NULL, status_entries, 0, run_status },
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
      g_autofree char *message = ctl_lowercase_first (error->message);
      g_autofree char *quoted = pm_quote (message, -1);

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
  g_autofree char *http = NULL;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "http", 0, 0, G_OPTION_ARG_STRING, &http,
      N_("Control plutomock over HTTP on its listing server at URL, such as http://127.0.0.1:7770, instead of D-Bus (default: PLUTOMOCK_URL if set)"),
      N_("URL") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };
  const char *url_from = "--http";
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
  g_option_context_set_summary (context, N_("Controls plutomock, the mock fleet of Bitaxe miners, over D-Bus, or over HTTP with --http or PLUTOMOCK_URL."));
  commands_help = dup_commands_help ();
  g_option_context_set_description (context, commands_help);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* Options after the command are the command's. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      /* GOption quotes the argument whole ("Unknown option --x..."), and
       * starts with a capital. */
      g_autofree char *message = ctl_lowercase_first (error->message);
      g_autofree char *quoted = pm_quote (message, -1);

      return usage_error (NULL, "%s", quoted);
    }
  if (version)
    {
      g_print ("plutomockctl %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argc < 2)
    return usage_error (NULL, _("no command given"));

  /* The option wins over the environment; an empty variable is none. */
  if (http == NULL && g_getenv ("PLUTOMOCK_URL") != NULL && g_getenv ("PLUTOMOCK_URL")[0] != '\0')
    {
      http = g_strdup (g_getenv ("PLUTOMOCK_URL"));
      url_from = "PLUTOMOCK_URL";
    }
  if (http != NULL)
    {
      http_url = ctl_http_check_url (http, &error);
      if (http_url == NULL)
        return usage_error (NULL, "%s: %s", url_from, error->message);
    }

  command = find_command (argv[1]);
  if (command == NULL)
    {
      g_autofree char *quoted = pm_quote (argv[1], -1);

      return usage_error (NULL, _("unknown command '%s'"), quoted);
    }

  status = run_command (command, argc - 2, argv + 2);
  opt_clear ();
  g_clear_pointer (&http_url, g_free);
  return status;
}
