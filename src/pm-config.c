/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-config"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "pm-config.h"
#include "pm-error.h"
#include "pm-quote.h"

/*
 * Start-up configuration.  The variables are the original service's
 * (LISTING_PORT, PORTS, LOGS_PUB_ENABLED); every one has an option of the
 * same meaning, and an option beats the environment.  Every value is
 * checked here, so the daemon either starts with a sound configuration or
 * says which value is wrong.
 */

PmConfig *
pm_config_new (void)
{
  PmConfig *self = g_new0 (PmConfig, 1);
  guint port;

  self->listing_port = PM_DEFAULT_LISTING_PORT;
  self->ports = g_array_new (FALSE, FALSE, sizeof (guint));
  for (port = PM_DEFAULT_FIRST_PORT; port <= PM_DEFAULT_LAST_PORT; port++)
    g_array_append_val (self->ports, port);
  self->logs_enabled = FALSE;
  self->profiles = pm_profile_list_new_default ();
  self->bind_address = g_strdup (PM_DEFAULT_BIND_ADDRESS);
  self->dbus_enabled = TRUE;

  return self;
}

void
pm_config_free (PmConfig *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->ports, g_array_unref);
  g_clear_pointer (&self->bind_address, g_free);
  g_clear_pointer (&self->profiles, pm_profile_list_free);
  g_clear_pointer (&self->scenario, pm_scenario_unref);
  g_free (self);
}

/**
 * pm_config_parse_port:
 * @source: where @text comes from, for the error message
 * @text: the text to parse
 * @out_port: (out): the port
 * @error: return location for a #GError
 *
 * Parses a TCP port number, 1 to 65535, surrounding blanks allowed.
 */
gboolean
pm_config_parse_port (const char *source,
                      const char *text,
                      guint      *out_port,
                      GError    **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  g_autofree char *quoted = pm_quote (copy, -1);
  guint64 value;

  if (copy[0] == '\0')
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("%s: a port number is empty"), source);
      return FALSE;
    }
  /* Digits only: g_ascii_string_to_unsigned() lets a leading vertical
   * tab, and a '+' after it, through. */
  if (copy[strspn (copy, "0123456789")] != '\0' ||
      !g_ascii_string_to_unsigned (copy, 10, 0, G_MAXUINT64, &value, NULL))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("%s: '%s' is not a port number"), source, quoted);
      return FALSE;
    }
  if (value < 1 || value > 65535)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("%s: port %s is out of range (1–65535)"), source, quoted);
      return FALSE;
    }

  *out_port = (guint) value;
  return TRUE;
}

static gboolean
array_contains (GArray *ports,
                guint   port)
{
  guint i;

  for (i = 0; i < ports->len; i++)
    if (g_array_index (ports, guint, i) == port)
      return TRUE;
  return FALSE;
}

/**
 * pm_config_parse_ports:
 * @source: where @text comes from, for the error message
 * @text: a comma-separated list of ports and FIRST-LAST ranges
 * @out_ports: (element-type guint): an array the ports are appended to
 * @error: return location for a #GError
 *
 * Parses a port list such as "7751,7752" or "8000-8999,9001".  An empty
 * entry and a port listed twice are errors; on error @out_ports is left
 * as it was.
 */
gboolean
pm_config_parse_ports (const char *source,
                       const char *text,
                       GArray     *out_ports,
                       GError    **error)
{
  g_auto(GStrv) entries = g_strsplit (text, ",", -1);
  g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree guint8 *seen = g_new0 (guint8, 65536 / 8);
  guint i;

  if (entries[0] == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("%s: no port given"), source);
      return FALSE;
    }

  for (i = 0; entries[i] != NULL; i++)
    {
      char *entry = g_strstrip (entries[i]);
      const char *dash = strchr (entry, '-');
      guint first, last, port;

      if (entry[0] == '\0')
        {
          g_autofree char *quoted = pm_quote (text, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       _("%s: entry %u of '%s' is empty"), source, i + 1, quoted);
          return FALSE;
        }

      if (dash != NULL && dash != entry)
        {
          g_autofree char *head = g_strndup (entry, dash - entry);

          if (!pm_config_parse_port (source, head, &first, error) ||
              !pm_config_parse_port (source, dash + 1, &last, error))
            return FALSE;
          if (last < first)
            {
              g_autofree char *quoted = pm_quote (entry, -1);

              g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           _("%s: range '%s' runs backwards"), source, quoted);
              return FALSE;
            }
        }
      else
        {
          if (!pm_config_parse_port (source, entry, &first, error))
            return FALSE;
          last = first;
        }

      for (port = first; port <= last; port++)
        {
          if (seen[port / 8] & (1u << (port % 8)))
            {
              g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           _("%s: port %u is listed twice"), source, port);
              return FALSE;
            }
          seen[port / 8] |= (guint8) (1u << (port % 8));
          g_array_append_val (ports, port);
        }
    }

  g_array_append_vals (out_ports, ports->data, ports->len);
  return TRUE;
}

/**
 * pm_config_parse_bool:
 * @source: where @text comes from, for the error message
 * @text: true, false, 1, 0, yes or no, in any case
 * @out_value: (out): the value
 * @error: return location for a #GError
 */
gboolean
pm_config_parse_bool (const char *source,
                      const char *text,
                      gboolean   *out_value,
                      GError    **error)
{
  static const char *const yes[] = { "true", "1", "yes" };
  static const char *const no[] = { "false", "0", "no" };
  g_autofree char *copy = g_strstrip (g_strdup (text));
  g_autofree char *quoted = NULL;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      if (g_ascii_strcasecmp (copy, yes[i]) == 0)
        {
          *out_value = TRUE;
          return TRUE;
        }
      if (g_ascii_strcasecmp (copy, no[i]) == 0)
        {
          *out_value = FALSE;
          return TRUE;
        }
    }

  quoted = pm_quote (copy, -1);
  g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
               _("%s: '%s' is neither true nor false (use true/false, 1/0 or yes/no)"),
               source, quoted);
  return FALSE;
}

typedef struct
{
  char     *listing_port;
  char     *ports;
  char     *logs;
  gboolean  logs_given;
  char     *bind_address;
  char     *seed;
  char     *profile;
  char     *telemetry;
  char     *network_gate;
  char     *scenario;
  gboolean  no_dbus;
  gboolean  replace;
  gboolean  version;
} Options;

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->listing_port, g_free);
  g_clear_pointer (&options->ports, g_free);
  g_clear_pointer (&options->logs, g_free);
  g_clear_pointer (&options->bind_address, g_free);
  g_clear_pointer (&options->seed, g_free);
  g_clear_pointer (&options->profile, g_free);
  g_clear_pointer (&options->telemetry, g_free);
  g_clear_pointer (&options->network_gate, g_free);
  g_clear_pointer (&options->scenario, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static gboolean
on_logs_option (const char *option_name,
                const char *value,
                gpointer    user_data,
                GError    **error)
{
  Options *options = user_data;

  options->logs_given = TRUE;
  g_free (options->logs);
  options->logs = g_strdup (value != NULL ? value : "true");
  return TRUE;
}

static gboolean
on_gate_option (const char *option_name,
                const char *value,
                gpointer    user_data,
                GError    **error)
{
  Options *options = user_data;

  g_free (options->network_gate);
  options->network_gate = g_strdup (value != NULL ? value : "true");
  return TRUE;
}

/* Picks the option's value if given, else the variable's if set and not
 * empty; returns the name of where it came from in @out_source. */
static const char *
pick (const char        *option_value,
      const char        *option_name,
      const char *const *envp,
      const char        *variable,
      const char       **out_source)
{
  const char *value;

  if (option_value != NULL)
    {
      *out_source = option_name;
      return option_value;
    }
  value = g_environ_getenv ((char **) envp, variable);
  if (value != NULL && value[0] != '\0')
    {
      *out_source = variable;
      return value;
    }
  return NULL;
}

/**
 * pm_config_load:
 * @self: a #PmConfig holding the defaults
 * @envp: (nullable): the environment to read, or %NULL for none
 * @argc: (inout): the argument count
 * @argv: (inout): the arguments; recognised options are removed
 * @error: return location for a #GError
 *
 * Reads the environment and the command line into @self.  `--help` prints
 * the help and exits the process, as #GOptionContext does.
 *
 * Returns: %TRUE if the configuration is sound
 */
gboolean
pm_config_load (PmConfig           *self,
                const char *const  *envp,
                int                *argc,
                char             ***argv,
                GError            **error)
{
  g_auto(Options) options = { 0 };
  g_autoptr(GOptionContext) context = NULL;
  GOptionGroup *group;
  const char *value, *source;
  const char *listing_source = _("the default listing port");
  const char *ports_source = _("the default ports");
  g_autoptr(GError) local_error = NULL;
  const GOptionEntry entries[] = {
    { "listing-port", 'l', 0, G_OPTION_ARG_STRING, &options.listing_port,
      N_("Port of the listing server, 0 for any free port (LISTING_PORT, default 7770)"), N_("PORT") },
    { "ports", 'p', 0, G_OPTION_ARG_STRING, &options.ports,
      N_("Comma-separated device ports or FIRST-LAST ranges (PORTS, default 7751-7760)"), N_("PORTS") },
    { "logs", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, on_logs_option,
      N_("Stream fake logs over WebSocket on /api/ws (LOGS_PUB_ENABLED, default false)"), N_("[true|false]") },
    { "bind", 'b', 0, G_OPTION_ARG_STRING, &options.bind_address,
      N_("IP address the servers bind to (default 127.0.0.1)"), N_("ADDRESS") },
    { "seed", 's', 0, G_OPTION_ARG_STRING, &options.seed,
      N_("Seed for every random value, to make runs reproducible"), N_("N") },
    { "profile", 'P', 0, G_OPTION_ARG_STRING, &options.profile,
      N_("Device profiles, one for all or a comma-separated list assigned in turn, or 'mixed' (PROFILE, default pluto-legacy,pluto-new)"), N_("LIST") },
    { "telemetry", 0, 0, G_OPTION_ARG_STRING, &options.telemetry,
      N_("Where pluto-* devices take their numbers from: 'random' as the original mock, or 'simulated' (TELEMETRY, default random)"), N_("MODE") },
    { "network-gate", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, on_gate_option,
      N_("Refuse AxeOS and NerdQAxe API requests from outside private networks with 401, loopback included, as the firmware does (NETWORK_GATE, default false)"), N_("[true|false]") },
    { "scenario", 0, 0, G_OPTION_ARG_FILENAME, &options.scenario,
      N_("Run the scenario in FILE from the start: faults and restarts on a timeline (SCENARIO)"), N_("FILE") },
    { "no-dbus", 0, 0, G_OPTION_ARG_NONE, &options.no_dbus,
      N_("Do not offer control over D-Bus (org.pluto.Mock1 on the session bus)"), NULL },
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &options.replace,
      N_("Take org.pluto.Mock1 over from a plutomock that owns it"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &options.version,
      N_("Print the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };

  g_return_val_if_fail (self != NULL, FALSE);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Pretends to be a fleet of Bitaxe miners running AxeOS, one HTTP server per device,\n"
                                  "plus a listing server that names them all."));
  group = g_option_group_new (NULL, NULL, NULL, &options, NULL);
  g_option_group_add_entries (group, entries);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  g_option_context_set_main_group (context, group);

  if (!g_option_context_parse (context, argc, argv, &local_error))
    {
      /* GOption's messages quote the argument whole ("Unknown option
       * --x..."): the message is shortened and escaped as a quote. */
      g_autofree char *quoted = pm_quote (local_error->message, -1);

      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT, quoted);
      return FALSE;
    }
  if (*argc > 1)
    {
      g_autofree char *quoted = pm_quote ((*argv)[1], -1);

      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("unexpected argument '%s'"), quoted);
      return FALSE;
    }

  self->show_version = options.version;
  self->dbus_enabled = !options.no_dbus;
  self->replace = options.replace;
  if (options.no_dbus && options.replace)
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           _("--replace takes the D-Bus name over, so it cannot go with --no-dbus"));
      return FALSE;
    }

  value = pick (options.listing_port, "--listing-port", envp, "LISTING_PORT", &source);
  if (value != NULL)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (value));

      /* 0 lets the kernel pick a free port: the listing server reports
       * it in its log line and on D-Bus (ListingPort). */
      if (g_strcmp0 (stripped, "0") == 0)
        self->listing_port = 0;
      else if (!pm_config_parse_port (source, value, &self->listing_port, error))
        return FALSE;
      listing_source = source;
    }

  value = pick (options.ports, "--ports", envp, "PORTS", &source);
  if (value != NULL)
    {
      g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));

      if (!pm_config_parse_ports (source, value, ports, error))
        return FALSE;
      g_clear_pointer (&self->ports, g_array_unref);
      self->ports = g_steal_pointer (&ports);
      ports_source = source;
    }
  if (array_contains (self->ports, self->listing_port))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("%s: the listing port %u is also a device port in %s"),
                   listing_source, self->listing_port, ports_source);
      return FALSE;
    }

  value = pick (options.logs, "--logs", envp, "LOGS_PUB_ENABLED", &source);
  if (value != NULL && !pm_config_parse_bool (source, value, &self->logs_enabled, error))
    return FALSE;

  value = pick (options.profile, "--profile", envp, "PROFILE", &source);
  if (value != NULL)
    {
      g_autoptr(GError) profile_error = NULL;
      PmProfileList *profiles = pm_profile_list_parse (value, &profile_error);

      if (profiles == NULL)
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT, "%s: %s",
                       source, profile_error->message);
          return FALSE;
        }
      g_clear_pointer (&self->profiles, pm_profile_list_free);
      self->profiles = profiles;
    }

  value = pick (options.telemetry, "--telemetry", envp, "TELEMETRY", &source);
  if (value != NULL)
    {
      g_autofree char *mode = g_strstrip (g_strdup (value));

      if (strcmp (mode, "random") == 0)
        self->simulated_telemetry = FALSE;
      else if (strcmp (mode, "simulated") == 0)
        self->simulated_telemetry = TRUE;
      else
        {
          g_autofree char *quoted = pm_quote (mode, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       _("%s: '%s' is neither 'random' nor 'simulated'"), source, quoted);
          return FALSE;
        }
    }

  value = pick (options.network_gate, "--network-gate", envp, "NETWORK_GATE", &source);
  if (value != NULL && !pm_config_parse_bool (source, value, &self->network_gate, error))
    return FALSE;

  value = pick (options.scenario, "--scenario", envp, "SCENARIO", &source);
  if (value != NULL)
    {
      g_autoptr(GError) scenario_error = NULL;
      PmScenario *scenario = pm_scenario_new_from_file (value, &scenario_error);

      /* The message names the file, then the group and key at fault. */
      if (scenario == NULL)
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT, "%s: %s",
                       source, scenario_error->message);
          return FALSE;
        }
      g_clear_pointer (&self->scenario, pm_scenario_unref);
      self->scenario = scenario;
    }

  if (options.bind_address != NULL)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (options.bind_address);

      if (address == NULL)
        {
          g_autofree char *quoted = pm_quote (options.bind_address, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       _("--bind: '%s' is not an IP address"), quoted);
          return FALSE;
        }
      g_free (self->bind_address);
      self->bind_address = g_inet_address_to_string (address);
    }

  if (options.seed != NULL)
    {
      g_autofree char *seed = g_strstrip (g_strdup (options.seed));

      /* Digits only, as for ports. */
      if (seed[strspn (seed, "0123456789")] != '\0' ||
          !g_ascii_string_to_unsigned (seed, 10, 0, G_MAXUINT64, &self->seed, NULL))
        {
          g_autofree char *quoted = pm_quote (seed, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       _("--seed: '%s' is not a whole number from 0 to 18446744073709551615"),
                       quoted);
          return FALSE;
        }
      self->seed_given = TRUE;
    }

  return TRUE;
}
