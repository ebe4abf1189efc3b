/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "plutomock"

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <sys/resource.h>

#include <glib/gi18n.h>

#include "pm-bus.h"
#include "pm-config.h"
#include "pm-manager.h"

/* Exit status for a bad configuration, as for a usage error. */
#define EXIT_BAD_CONFIG 2

/* Every device holds a listening socket and every client a connection:
 * take all the descriptors the hard limit allows. */
static void
raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max)
    return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    g_debug ("Could not raise the descriptor limit: %s", g_strerror (errno));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PmConfig) config = NULL;
  g_autoptr(PmManager) manager = NULL;
  g_autoptr(PmBus) bus = NULL;
  int status;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  config = pm_config_new ();
  envp = g_get_environ ();
  if (!pm_config_load (config, (const char *const *) envp, &argc, &argv, &error))
    {
      g_printerr (_("plutomock: %s\n"), error->message);
      g_printerr (_("Run 'plutomock --help' to see the options.\n"));
      return EXIT_BAD_CONFIG;
    }
  if (config->show_version)
    {
      g_print ("plutomock %s\n", PACKAGE_VERSION);
      return 0;
    }

  raise_fd_limit ();
  manager = pm_manager_new (config);
  pm_manager_handle_signals (manager);

  /* The name is checked before any port is bound; the objects are
   * exported once the fleet runs, and the name asked for after that. */
  if (config->dbus_enabled)
    {
      bus = pm_bus_new ();
      if (!pm_bus_connect (bus, &error))
        {
          if (config->replace)
            {
              g_printerr (_("plutomock: --replace needs the session bus: %s\n"), error->message);
              return 1;
            }
          g_message (_("D-Bus control is off: no session bus (%s)"), error->message);
          g_clear_error (&error);
          g_clear_object (&bus);
        }
      else if (!pm_bus_claim (bus, manager, config->replace, &error))
        {
          g_printerr (_("plutomock: %s\n"), error->message);
          return 1;
        }
    }
  else
    {
      g_message (_("D-Bus control is off (--no-dbus)"));
    }

  /* SIGINT or SIGTERM while --replace waited: stop before starting. */
  if (pm_manager_get_quit_requested (manager))
    return 0;

  if (!pm_manager_start (manager, &error))
    {
      g_printerr (_("plutomock: %s\n"), error->message);
      return 1;
    }
  if (bus != NULL)
    pm_bus_export (bus, manager);

  status = pm_manager_run (manager);
  if (bus != NULL && !pm_bus_check_name (bus, &error))
    {
      g_printerr (_("plutomock: %s\n"), error->message);
      return 1;
    }
  return status;
}
