/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-config"

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "pm-config.h"
#include "pm-error.h"
#include "pm-parse.h"
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
  self->control_allow = pm_allow_list_new_loopback ();

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
  g_clear_pointer (&self->control_allow, pm_allow_list_unref);
  g_free (self);
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
  char     *control_allow;
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
  g_clear_pointer (&options->control_allow, g_free);
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
  const char *listing_source = NULL;  /* NULL: the default */
  const char *ports_source = NULL;
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
    { "control-allow", 0, 0, G_OPTION_ARG_STRING, &options.control_allow,
      N_("Who may use control over HTTP (/control/v1 on the listing port): comma-separated IP addresses and CIDR prefixes, 'any' or 'none' (CONTROL_ALLOW, default loopback)"), N_("LIST") },
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
      else if (!pm_parse_port (source, value, &self->listing_port, error))
        return FALSE;
      listing_source = source;
    }

  value = pick (options.ports, "--ports", envp, "PORTS", &source);
  if (value != NULL)
    {
      g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));

      if (!pm_parse_ports (source, value, ports, error))
        return FALSE;
      g_clear_pointer (&self->ports, g_array_unref);
      self->ports = g_steal_pointer (&ports);
      ports_source = source;
    }
  if (array_contains (self->ports, self->listing_port))
    {
      /* One sentence: which list has the port, and the two ways out.
       * With the default listing port, LISTING_PORT is the one to set. */
      if (ports_source != NULL)
        g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                     _("%s includes %u, the listing port; set %s to another port or leave %u out of %s"),
                     ports_source, self->listing_port,
                     listing_source != NULL ? listing_source : "LISTING_PORT",
                     self->listing_port, ports_source);
      else
        g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                     _("%s is %u, one of the default device ports %u-%u; set %s to another port or set PORTS without %u"),
                     listing_source, self->listing_port,
                     PM_DEFAULT_FIRST_PORT, PM_DEFAULT_LAST_PORT,
                     listing_source, self->listing_port);
      return FALSE;
    }

  value = pick (options.logs, "--logs", envp, "LOGS_PUB_ENABLED", &source);
  if (value != NULL && !pm_parse_bool (source, value, &self->logs_enabled, error))
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
  if (value != NULL && !pm_parse_bool (source, value, &self->network_gate, error))
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

  value = pick (options.control_allow, "--control-allow", envp, "CONTROL_ALLOW", &source);
  if (value != NULL)
    {
      g_autoptr(GError) allow_error = NULL;
      PmAllowList *allow = pm_allow_list_parse (value, &allow_error);

      if (allow == NULL)
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT, "%s: %s",
                       source, allow_error->message);
          return FALSE;
        }
      g_clear_pointer (&self->control_allow, pm_allow_list_unref);
      self->control_allow = allow;
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
      if (!pm_parse_seed ("--seed", options.seed, &self->seed, error))
        return FALSE;
      self->seed_given = TRUE;
    }

  return TRUE;
}
