/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "plutomock"

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <sys/resource.h>

#include <glib/gi18n.h>

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
  if (!pm_manager_start (manager, &error))
    {
      g_printerr (_("plutomock: %s\n"), error->message);
      return 1;
    }

  return pm_manager_run (manager);
}
