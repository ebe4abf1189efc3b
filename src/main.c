/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "plutomock"

#include "config.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "pm-bus.h"
#include "pm-config.h"
#include "pm-control-http.h"
#include "pm-http.h"
#include "pm-manager.h"

/*
 * The daemon's life: main() owns the main loop and the SIGINT/SIGTERM
 * sources.  With D-Bus it connects, claims the name (which with
 * --replace waits, on the loop, for the old daemon to let go), starts
 * the fleet once the claim says so, exports it, and runs until a signal
 * or a lost name; then it closes every server and exits with the status
 * the way it ended calls for.
 */

/* Exit status for a bad configuration, as for a usage error. */
#define EXIT_BAD_CONFIG 2

typedef struct
{
  GMainLoop    *loop;         /* (owned) */
  PmManager    *manager;      /* (owned) */
  PmBus        *bus;          /* (owned) (nullable) without D-Bus */
  GCancellable *cancellable;  /* (owned): cancels the claim on a signal */
  gboolean      claiming;
  gboolean      stopping;     /* a signal or a lost name asked to stop */
  gboolean      started;
  int           status;
  char         *no_bus;       /* (owned) (nullable): why there is no session bus */
  PmAllowList  *control_allow;  /* (unowned): who may use control over HTTP */
} Daemon;

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

/* Stops the daemon with @status, unless it is stopping already. */
static void
daemon_stop (Daemon *daemon,
             int     status)
{
  if (daemon->stopping)
    return;
  daemon->stopping = TRUE;
  daemon->status = status;
  g_main_loop_quit (daemon->loop);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  Daemon *daemon = user_data;

  if (daemon->stopping)
    return G_SOURCE_CONTINUE;
  g_message (_("Stopping"));
  /* A claim in progress ends at once, and its callback stops the loop. */
  if (daemon->claiming)
    {
      g_cancellable_cancel (daemon->cancellable);
      return G_SOURCE_CONTINUE;
    }
  daemon_stop (daemon, 0);
  return G_SOURCE_CONTINUE;
}

static void
on_name_lost (PmBus   *bus,
              gpointer user_data)
{
  Daemon *daemon = user_data;

  /* pm_bus_check_name() says afterwards whether that is a failure. */
  daemon_stop (daemon, 0);
}

/* Says that D-Bus control is off for want of a session bus, once the
 * listing server (which serves control over HTTP) has its port. */
static void
log_no_bus (Daemon *daemon)
{
  const char *bind = pm_manager_get_bind_address (daemon->manager);
  guint port = pm_manager_get_listing_port (daemon->manager);
  g_autofree char *url = NULL;

  /* No listing server, or control over HTTP off: the bus is the way. */
  if (port == 0 || (daemon->control_allow != NULL && pm_allow_list_is_none (daemon->control_allow)))
    {
      g_message (_("D-Bus control is off: no session bus (%s); run plutomock under dbus-run-session "
                   "to control it over D-Bus"), daemon->no_bus);
      return;
    }
  url = pm_http_dup_url (bind, port, "");
  g_message (_("D-Bus control is off: no session bus (%s); control over HTTP is at %s/control/v1 "
               "(plutomockctl --http %s), or run plutomock under dbus-run-session"),
             daemon->no_bus, url, url);
}

/* Says where control over HTTP is, and for whom, next to the listing
 * server's line. */
static void
log_control (Daemon *daemon)
{
  const char *bind = pm_manager_get_bind_address (daemon->manager);
  guint port = pm_manager_get_listing_port (daemon->manager);
  g_autofree char *url = NULL;
  g_autofree char *who = NULL;

  if (port == 0)
    return;
  if (pm_allow_list_is_none (daemon->control_allow))
    {
      g_message (_("Control over HTTP is off (--control-allow none)"));
      return;
    }
  url = pm_http_dup_url (bind, port, "/control/v1");
  who = pm_allow_list_describe (daemon->control_allow);
  g_message (_("Control over HTTP on %s (from %s)"), url, who);
}

/* The fleet, then its objects on the bus, which then asks for the name. */
static void
start_fleet (Daemon *daemon)
{
  g_autoptr(GError) error = NULL;

  if (!pm_manager_start (daemon->manager, &error))
    {
      g_printerr (_("plutomock: %s\n"), error->message);
      daemon_stop (daemon, 1);
      return;
    }
  daemon->started = TRUE;
  log_control (daemon);
  if (daemon->bus != NULL)
    pm_bus_export (daemon->bus, daemon->manager);
  else if (daemon->no_bus != NULL)
    log_no_bus (daemon);
}

static void
on_claimed (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Daemon *daemon = user_data;
  g_autoptr(GError) error = NULL;

  daemon->claiming = FALSE;
  if (!pm_bus_claim_finish (PM_BUS (source), result, &error))
    {
      /* SIGINT or SIGTERM while --replace waited: stop before starting. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          daemon_stop (daemon, 0);
          return;
        }
      g_printerr (_("plutomock: %s\n"), error->message);
      daemon_stop (daemon, 1);
      return;
    }
  if (g_cancellable_is_cancelled (daemon->cancellable))
    {
      daemon_stop (daemon, 0);
      return;
    }
  start_fleet (daemon);
}

/* GLib before 2.76 keeps the memory its slice allocator frees for reuse
 * by the slice allocator alone, never for the system: after a burst of
 * 10 000 connections the daemon would stay some 3 MB larger for good.
 * With G_SLICE=always-malloc the same objects come from malloc(), which
 * the acceptor trims after a burst.  GLib reads G_SLICE before main()
 * runs, so the daemon starts itself again, once, with it set.  Setting
 * G_SLICE to anything keeps it from doing so. */
static void
use_plain_malloc (char *argv[])
{
  if (glib_check_version (2, 76, 0) == NULL || g_getenv ("G_SLICE") != NULL)
    return;
  g_setenv ("G_SLICE", "always-malloc", TRUE);
  execv ("/proc/self/exe", argv);
  /* Without /proc, the daemon runs on as it is. */
  g_unsetenv ("G_SLICE");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PmConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) envp = NULL;
  Daemon daemon = { 0 };
  guint sigint_id, sigterm_id;

  use_plain_malloc (argv);
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
  daemon.loop = g_main_loop_new (NULL, FALSE);
  daemon.manager = pm_manager_new (config);
  daemon.control_allow = config->control_allow;
  pm_control_http_mount (pm_manager_get_listing_server (daemon.manager), daemon.manager,
                         config->control_allow);
  daemon.cancellable = g_cancellable_new ();
  /* From here on SIGINT and SIGTERM stop the daemon cleanly; one that
   * comes while the ports are being bound is dispatched by the loop's
   * first iteration. */
  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, &daemon);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, &daemon);

  /* The name is checked before any port is bound; the objects are
   * exported once the fleet runs, and the name asked for after that. */
  if (config->dbus_enabled)
    {
      daemon.bus = pm_bus_new ();
      if (!pm_bus_connect (daemon.bus, &error))
        {
          if (config->replace)
            {
              g_printerr (_("plutomock: --replace needs the session bus: %s\n"), error->message);
              daemon.status = 1;
              goto out;
            }
          /* Said once the fleet runs, with where control over HTTP is. */
          daemon.no_bus = g_strdup (error->message);
          g_clear_error (&error);
          g_clear_object (&daemon.bus);
        }
    }
  else
    {
      g_message (_("D-Bus control is off (--no-dbus)"));
    }

  if (daemon.bus != NULL)
    {
      g_signal_connect (daemon.bus, "name-lost", G_CALLBACK (on_name_lost), &daemon);
      daemon.claiming = TRUE;
      pm_bus_claim_async (daemon.bus, config->replace, daemon.cancellable, on_claimed, &daemon);
    }
  else
    {
      start_fleet (&daemon);
    }

  if (!daemon.stopping)
    g_main_loop_run (daemon.loop);

  if (daemon.bus != NULL && daemon.status == 0 && !pm_bus_check_name (daemon.bus, &error))
    {
      g_printerr (_("plutomock: %s\n"), error->message);
      daemon.status = 1;
    }

out:
  g_clear_handle_id (&sigint_id, g_source_remove);
  g_clear_handle_id (&sigterm_id, g_source_remove);
  if (daemon.started)
    pm_manager_stop (daemon.manager);
  if (daemon.bus != NULL)
    g_signal_handlers_disconnect_by_data (daemon.bus, &daemon);
  g_clear_object (&daemon.bus);
  g_clear_object (&daemon.manager);
  g_clear_object (&daemon.cancellable);
  g_clear_pointer (&daemon.loop, g_main_loop_unref);
  g_clear_pointer (&daemon.no_bus, g_free);
  return daemon.status;
}
