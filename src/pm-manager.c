/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-manager"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pm-acceptor.h"
#include "pm-device-spec.h"
#include "pm-error.h"
#include "pm-identity.h"
#include "pm-http.h"
#include "pm-listing-server.h"
#include "pm-manager.h"
#include "pm-scenario-runner.h"

/**
 * PmManager:
 *
 * The fleet: starts the devices the configuration names and the listing
 * server, adds and removes devices while running, and stops them all.
 * It runs no main loop and handles no signal: the daemon's main() does.
 *
 * A device whose port cannot be bound is logged and left out; a listing
 * server whose port cannot be bound is logged and the devices run on.
 *
 * It runs at most one scenario at a time (#PmScenarioRunner): the one the
 * configuration names, from pm_manager_start() on, or one given to
 * pm_manager_run_scenario(), which replaces it.
 */

#define HOSTNAME_PREFIX "mockaxe"

struct _PmManager
{
  GObject          parent_instance;

  PmConfig        *config;       /* (owned) */
  guint64          seed;
  PmAcceptor      *acceptor;     /* (owned) */
  GListStore      *devices;      /* (owned) (element-type PmDevice) */
  GHashTable      *by_port;      /* (owned): port → PmDevice (unowned), for devices */
  GHashTable      *by_hostname;  /* (owned): lower-case hostname (owned) → PmDevice (unowned) */
  PmListingServer *listing;      /* (owned) */
  guint            last_number;  /* highest N given to a mockaxeN */
  PmScenarioRunner *runner;      /* (owned) (nullable): the running scenario */
};

G_DEFINE_FINAL_TYPE (PmManager, pm_manager, G_TYPE_OBJECT)

typedef enum
{
  PROP_SCENARIO_RUNNING = 1,
} PmManagerProperty;

static GParamSpec *props[PROP_SCENARIO_RUNNING + 1] = { NULL, };

static PmConfig *
config_copy (const PmConfig *config)
{
  PmConfig *copy = pm_config_new ();

  copy->listing_port = config->listing_port;
  g_array_set_size (copy->ports, 0);
  g_array_append_vals (copy->ports, config->ports->data, config->ports->len);
  copy->logs_enabled = config->logs_enabled;
  g_free (copy->bind_address);
  copy->bind_address = g_strdup (config->bind_address);
  copy->seed = config->seed;
  copy->seed_given = config->seed_given;
  pm_profile_list_free (copy->profiles);
  copy->profiles = pm_profile_list_copy (config->profiles);
  copy->simulated_telemetry = config->simulated_telemetry;
  copy->network_gate = config->network_gate;
  if (config->scenario != NULL)
    copy->scenario = pm_scenario_ref (config->scenario);
  pm_allow_list_unref (copy->control_allow);
  copy->control_allow = pm_allow_list_ref (config->control_allow);
  return copy;
}

/* Whether @bind_address is 0.0.0.0 or ::, where no one can connect to. */
static gboolean
is_any_address (const char *bind_address)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (bind_address);

  return address != NULL && g_inet_address_get_is_any (address);
}

static void
log_device_started (PmManager *self,
                    PmDevice  *device)
{
  g_autofree char *url = pm_http_dup_url (self->config->bind_address, pm_device_get_port (device), "");

  if (pm_device_get_profile (device)->family == PM_PROFILE_FAMILY_PLUTO)
    g_message (_("%s (%s API, firmware %s) listening on %s"),
               pm_device_get_hostname (device),
               pm_api_version_to_string (pm_device_get_profile (device)->api_version),
               pm_device_get_firmware (device), url);
  else
    g_message (_("%s (profile %s, firmware %s) listening on %s"),
               pm_device_get_hostname (device),
               pm_device_get_profile (device)->name,
               pm_device_get_firmware (device), url);
}

#define KEY_DATA "pm-manager-hostname-key"

/* Files @device under its hostname, unless another device has that
 * name already (a device renamed by PATCH may take any name, as a real
 * one may); remembers the key it is filed under. */
static void
index_hostname (PmManager *self,
                PmDevice  *device)
{
  const char *old_key = g_object_get_data (G_OBJECT (device), KEY_DATA);
  char *key = g_ascii_strdown (pm_device_get_hostname (device), -1);

  if (old_key != NULL && g_hash_table_lookup (self->by_hostname, old_key) == device)
    g_hash_table_remove (self->by_hostname, old_key);
  if (g_hash_table_lookup (self->by_hostname, key) == NULL)
    g_hash_table_insert (self->by_hostname, g_strdup (key), device);
  g_object_set_data_full (G_OBJECT (device), KEY_DATA, key, g_free);
}

static void
unindex_hostname (PmManager *self,
                  PmDevice  *device)
{
  const char *key = g_object_get_data (G_OBJECT (device), KEY_DATA);

  if (key != NULL && g_hash_table_lookup (self->by_hostname, key) == device)
    g_hash_table_remove (self->by_hostname, key);
  g_object_set_data (G_OBJECT (device), KEY_DATA, NULL);
}

static void
on_device_renamed (PmDevice   *device,
                   GParamSpec *pspec,
                   PmManager  *self)
{
  index_hostname (self, device);
}

/* Starts one device and adds it to the fleet. */
static PmDevice *
start_device (PmManager          *self,
              const PmDeviceSpec *spec,
              GError            **error)
{
  g_autoptr(PmDevice) device = NULL;

  device = pm_device_new (self->acceptor, spec, self->config, self->seed);
  if (!pm_device_start (device, self->config->bind_address, error))
    return NULL;

  g_hash_table_insert (self->by_port, GUINT_TO_POINTER (pm_device_get_port (device)), device);
  index_hostname (self, device);
  g_signal_connect_object (device, "notify::hostname", G_CALLBACK (on_device_renamed), self, 0);
  g_list_store_append (self->devices, device);
  log_device_started (self, device);
  return device;
}

static int
compare_ports (gconstpointer a,
               gconstpointer b)
{
  guint port_a = *(const guint *) a;
  guint port_b = *(const guint *) b;

  return (port_a > port_b) - (port_a < port_b);
}

/* "7751-7760", "7751, 7753-7755": @ports (in any order) as runs of
 * consecutive ports, the first few of them. */
static char *
dup_port_ranges (GArray *ports)
{
  g_autoptr(GArray) sorted = g_array_copy (ports);
  GString *text = g_string_new (NULL);
  guint i = 0, runs = 0;

  g_array_sort (sorted, compare_ports);
  while (i < sorted->len)
    {
      guint first = g_array_index (sorted, guint, i);
      guint last = first;

      while (i + 1 < sorted->len && g_array_index (sorted, guint, i + 1) == last + 1)
        last = g_array_index (sorted, guint, ++i);
      i++;
      if (runs++ == 6)
        {
          g_string_append (text, ", …");
          break;
        }
      if (text->len > 0)
        g_string_append (text, ", ");
      if (first == last)
        g_string_append_printf (text, "%u", first);
      else
        g_string_append_printf (text, "%u-%u", first, last);
    }
  return g_string_free (text, FALSE);
}

/* Logs the warnings held back while no device had started. */
static void
warn_held (GPtrArray *held)
{
  guint i;

  for (i = 0; i < held->len; i++)
    g_warning ("%s", (const char *) g_ptr_array_index (held, i));
  g_ptr_array_set_size (held, 0);
}

/**
 * pm_manager_start:
 * @self: a #PmManager
 * @error: return location for a #GError
 *
 * Starts the configured devices, in order, and the listing server.  A
 * device or listing port that cannot be bound is logged and left out.
 * When every port is in use (another daemon on the same ports, most
 * likely), it logs nothing per device (but at debug level) and fails
 * with one #PM_ERROR_PORT_IN_USE that says so.
 *
 * Returns: %TRUE; %FALSE only if nothing at all could be started
 */
gboolean
pm_manager_start (PmManager *self,
                  GError   **error)
{
  g_autoptr(GError) listing_error = NULL;
  g_autofree char *seed = NULL;
  /* Each device's "not started" line, held back until one has started:
   * if none does, it may be that every port is taken. */
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_free);
  gboolean all_in_use = TRUE;
  guint i, started = 0;

  g_return_val_if_fail (PM_IS_MANAGER (self), FALSE);

  seed = g_strdup_printf ("%" G_GUINT64_FORMAT, self->seed);
  g_message (_("Seed %s (run with --seed %s to get the same fleet again)"), seed, seed);
  if (is_any_address (self->config->bind_address))
    {
      g_message (_("Listening on every %s address (%s): the URLs below use %s, from this machine"),
                 strchr (self->config->bind_address, ':') != NULL ? "IPv6" : "IPv4",
                 self->config->bind_address,
                 strchr (self->config->bind_address, ':') != NULL ? "[::1]" : "127.0.0.1");
    }

  for (i = 0; i < self->config->ports->len; i++)
    {
      guint port = g_array_index (self->config->ports, guint, i);
      g_autofree char *hostname = g_strdup_printf (HOSTNAME_PREFIX "%u", i + 1);
      g_autoptr(PmDeviceSpec) spec = NULL;
      g_autoptr(GError) local_error = NULL;

      self->last_number = i + 1;
      spec = pm_device_spec_new (port, hostname,
                                 pm_profile_list_pick (self->config->profiles, i + 1, self->seed),
                                 NULL);
      if (start_device (self, spec, &local_error) == NULL)
        {
          char *line = g_strdup_printf (_("%s: not started: %s"), hostname, local_error->message);

          if (!g_error_matches (local_error, PM_ERROR, PM_ERROR_PORT_IN_USE))
            all_in_use = FALSE;
          g_ptr_array_add (held, line);
          if (started > 0)
            warn_held (held);
        }
      else
        {
          warn_held (held);
          started++;
        }
    }

  if (!pm_listing_server_start (self->listing, self->config->bind_address,
                                self->config->listing_port, &listing_error))
    {
      if (started == 0 && self->config->ports->len > 0 && all_in_use &&
          g_error_matches (listing_error, PM_ERROR, PM_ERROR_PORT_IN_USE))
        {
          g_autofree char *ranges = dup_port_ranges (self->config->ports);

          for (i = 0; i < held->len; i++)
            g_debug ("%s", (const char *) g_ptr_array_index (held, i));
          g_set_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE,
                       _("ports %s and %u are all in use: is another plutomock running? "
                         "(plutomockctl status, or ss -ltnp)"),
                       ranges, self->config->listing_port);
          return FALSE;
        }
      warn_held (held);
      if (started == 0 && self->config->ports->len > 0)
        {
          g_set_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE,
                       _("no device and no listing server could be started (listing server: %s)"),
                       listing_error->message);
          return FALSE;
        }
      g_warning (_("Listing server not started: %s; the devices run without it"),
                 listing_error->message);
    }
  else
    {
      g_autofree char *url = pm_http_dup_url (self->config->bind_address,
                                      pm_listing_server_get_port (self->listing), "/servers");

      warn_held (held);
      g_message (ngettext ("Listing server on %s (%u device)",
                           "Listing server on %s (%u devices)", started),
                 url, started);
    }

  if (self->config->scenario != NULL)
    pm_manager_run_scenario (self, self->config->scenario);
  return TRUE;
}

/* Drops the runner, stopping it first if @stop. */
static void
drop_runner (PmManager *self,
             gboolean   stop)
{
  if (self->runner == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->runner, self);
  if (stop)
    pm_scenario_runner_stop (self->runner);
  g_clear_object (&self->runner);
}

static void
on_runner_running (PmScenarioRunner *runner,
                   GParamSpec       *pspec,
                   PmManager        *self)
{
  /* Its timeline has come to the end. */
  if (pm_scenario_runner_get_running (runner))
    return;
  drop_runner (self, FALSE);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SCENARIO_RUNNING]);
}

/**
 * pm_manager_run_scenario:
 * @self: a started #PmManager
 * @scenario: a scenario; a reference is taken
 *
 * Starts @scenario on the fleet, its time 0 now, its draws seeded with
 * its own seed or else the fleet's (pm_manager_get_seed()).  A scenario
 * that runs already is stopped first, as pm_manager_stop_scenario()
 * does.
 */
void
pm_manager_run_scenario (PmManager  *self,
                         PmScenario *scenario)
{
  g_return_if_fail (PM_IS_MANAGER (self));
  g_return_if_fail (scenario != NULL);

  drop_runner (self, TRUE);
  self->runner = pm_scenario_runner_new (scenario, G_LIST_MODEL (self->devices), self->seed);
  g_signal_connect_object (self->runner, "notify::running", G_CALLBACK (on_runner_running), self, 0);
  pm_scenario_runner_start (self->runner);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SCENARIO_RUNNING]);
}

/**
 * pm_manager_stop_scenario:
 * @self: a #PmManager
 *
 * Stops the running scenario, if any, and clears the faults it set that
 * are still as it set them.
 *
 * Returns: whether a scenario was running
 */
gboolean
pm_manager_stop_scenario (PmManager *self)
{
  g_return_val_if_fail (PM_IS_MANAGER (self), FALSE);

  if (self->runner == NULL)
    return FALSE;
  drop_runner (self, TRUE);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SCENARIO_RUNNING]);
  return TRUE;
}

/**
 * pm_manager_get_scenario:
 * @self: a #PmManager
 *
 * Returns: (transfer none) (nullable): the running scenario: started and
 *   neither stopped, replaced nor come to its end
 */
PmScenario *
pm_manager_get_scenario (PmManager *self)
{
  g_return_val_if_fail (PM_IS_MANAGER (self), NULL);
  return self->runner != NULL ? pm_scenario_runner_get_scenario (self->runner) : NULL;
}

/**
 * pm_manager_stop:
 * @self: a #PmManager
 *
 * Closes every server and WebSocket.
 */
void
pm_manager_stop (PmManager *self)
{
  guint i, n;

  g_return_if_fail (PM_IS_MANAGER (self));

  /* The scenario's timer goes; its faults go with the devices. */
  if (self->runner != NULL)
    {
      drop_runner (self, FALSE);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SCENARIO_RUNNING]);
    }
  pm_listing_server_stop (self->listing);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->devices));
  for (i = 0; i < n; i++)
    {
      g_autoptr(PmDevice) device = g_list_model_get_item (G_LIST_MODEL (self->devices), i);

      pm_device_stop (device);
    }
  g_hash_table_remove_all (self->by_port);
  g_hash_table_remove_all (self->by_hostname);
  g_list_store_remove_all (self->devices);
}

/**
 * pm_manager_find_device:
 * @self: a #PmManager
 * @port: a port, or 0 to match by @hostname alone
 * @hostname: (nullable): a hostname, or %NULL to match by @port alone
 *
 * Returns: (transfer none) (nullable): the device with that port or
 *   hostname
 */
PmDevice *
pm_manager_find_device (PmManager  *self,
                        guint       port,
                        const char *hostname)
{
  PmDevice *device = NULL;

  g_return_val_if_fail (PM_IS_MANAGER (self), NULL);

  if (port != 0)
    device = g_hash_table_lookup (self->by_port, GUINT_TO_POINTER (port));
  if (device == NULL && hostname != NULL)
    {
      g_autofree char *key = g_ascii_strdown (hostname, -1);

      device = g_hash_table_lookup (self->by_hostname, key);
    }
  return device;
}

/**
 * pm_manager_add_device:
 * @self: a #PmManager
 * @spec: what the device is to be: port 0 lets the kernel pick a free
 *   one; without a hostname it is `mockaxe<N>` with the next unused N;
 *   without a profile it gets the fleet's next (as at start-up); without
 *   a firmware version the profile's, or a draw
 * @error: return location for a #PmError
 *
 * Adds a device to the running fleet.  When this returns, the device is
 * listening and listed by `/servers`.  On error nothing is created.
 *
 * Returns: (transfer none): the new device, or %NULL with @error set
 */
PmDevice *
pm_manager_add_device (PmManager          *self,
                       const PmDeviceSpec *spec,
                       GError            **error)
{
  g_autoptr(PmDeviceSpec) full = NULL;
  guint number = 0;
  PmDevice *device;

  g_return_val_if_fail (PM_IS_MANAGER (self), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

  if (spec->port > 65535)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "port %u is out of range (0–65535)", spec->port);
      return NULL;
    }
  /* The checks a client's values get before anything is started. */
  if (spec->firmware != NULL && !pm_identity_check_firmware (spec->firmware, error))
    return NULL;
  if (spec->hostname != NULL && !pm_identity_check_hostname (spec->hostname, error))
    return NULL;
  if (spec->hostname != NULL && pm_manager_find_device (self, 0, spec->hostname) != NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_HOSTNAME_IN_USE,
                   "a device named '%s' exists already", spec->hostname);
      return NULL;
    }
  if (spec->port != 0 && pm_manager_find_device (self, spec->port, NULL) != NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE,
                   "port %u is in use by %s", spec->port,
                   pm_device_get_hostname (pm_manager_find_device (self, spec->port, NULL)));
      return NULL;
    }

  full = pm_device_spec_copy (spec);
  if (full->hostname == NULL)
    {
      number = self->last_number;
      do
        {
          number++;
          g_free (full->hostname);
          full->hostname = g_strdup_printf (HOSTNAME_PREFIX "%u", number);
        }
      while (pm_manager_find_device (self, 0, full->hostname) != NULL);
    }
  if (full->profile == NULL)
    {
      /* The fleet's next, as at start-up: with the default list, odd
       * numbers legacy, even numbers new. */
      guint n = number != 0 ? number : self->last_number + 1;

      full->profile = pm_profile_list_pick (self->config->profiles, n, self->seed);
    }

  device = start_device (self, full, error);
  if (device != NULL && number != 0)
    self->last_number = number;
  return device;
}

/**
 * pm_manager_remove_device:
 * @self: a #PmManager
 * @device: a device of the fleet
 * @error: return location for a #PmError
 *
 * Closes the device's server and WebSockets and drops it from the fleet.
 */
gboolean
pm_manager_remove_device (PmManager *self,
                          PmDevice  *device,
                          GError   **error)
{
  guint position;

  g_return_val_if_fail (PM_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (PM_IS_DEVICE (device), FALSE);

  if (!g_list_store_find (self->devices, device, &position))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE,
                   "%s is not part of the fleet", pm_device_get_hostname (device));
      return FALSE;
    }

  g_object_ref (device);
  pm_device_stop (device);
  g_signal_handlers_disconnect_by_data (device, self);
  g_hash_table_remove (self->by_port, GUINT_TO_POINTER (pm_device_get_port (device)));
  unindex_hostname (self, device);
  g_list_store_remove (self->devices, position);
  g_message (_("%s removed"), pm_device_get_hostname (device));
  g_object_unref (device);
  return TRUE;
}

/**
 * pm_manager_get_devices:
 * @self: a #PmManager
 *
 * Returns: (transfer none): the fleet, a #GListModel of #PmDevice in order
 */
GListModel *
pm_manager_get_devices (PmManager *self)
{
  g_return_val_if_fail (PM_IS_MANAGER (self), NULL);
  return G_LIST_MODEL (self->devices);
}

/**
 * pm_manager_get_listing_server:
 * @self: a #PmManager
 *
 * Returns: (transfer none): the listing server, started or not
 */
PmListingServer *
pm_manager_get_listing_server (PmManager *self)
{
  g_return_val_if_fail (PM_IS_MANAGER (self), NULL);
  return self->listing;
}

/**
 * pm_manager_get_listing_port:
 * @self: a #PmManager
 *
 * Returns: the listing server's port, or 0 if it is not running
 */
guint
pm_manager_get_listing_port (PmManager *self)
{
  g_return_val_if_fail (PM_IS_MANAGER (self), 0);
  return pm_listing_server_get_port (self->listing);
}

guint64
pm_manager_get_seed (PmManager *self)
{
  g_return_val_if_fail (PM_IS_MANAGER (self), 0);
  return self->seed;
}

gboolean
pm_manager_get_logs_enabled (PmManager *self)
{
  g_return_val_if_fail (PM_IS_MANAGER (self), FALSE);
  return self->config->logs_enabled;
}

const char *
pm_manager_get_bind_address (PmManager *self)
{
  g_return_val_if_fail (PM_IS_MANAGER (self), NULL);
  return self->config->bind_address;
}

static void
pm_manager_dispose (GObject *object)
{
  PmManager *self = PM_MANAGER (object);

  if (self->devices != NULL)
    pm_manager_stop (self);
  g_clear_object (&self->listing);
  g_clear_object (&self->devices);
  g_clear_pointer (&self->by_port, g_hash_table_unref);
  g_clear_pointer (&self->by_hostname, g_hash_table_unref);
  g_clear_object (&self->acceptor);

  G_OBJECT_CLASS (pm_manager_parent_class)->dispose (object);
}

static void
pm_manager_finalize (GObject *object)
{
  PmManager *self = PM_MANAGER (object);

  g_clear_pointer (&self->config, pm_config_free);

  G_OBJECT_CLASS (pm_manager_parent_class)->finalize (object);
}

static void
pm_manager_get_property (GObject    *object,
                         guint       property_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  PmManager *self = PM_MANAGER (object);

  switch ((PmManagerProperty) property_id)
    {
    case PROP_SCENARIO_RUNNING:
      g_value_set_boolean (value, self->runner != NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_manager_class_init (PmManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = pm_manager_get_property;
  object_class->dispose = pm_manager_dispose;
  object_class->finalize = pm_manager_finalize;

  /**
   * PmManager:scenario-running:
   *
   * Whether a scenario runs (pm_manager_get_scenario()); notified each
   * time one starts, stops, is replaced or comes to its end.
   */
  props[PROP_SCENARIO_RUNNING] =
    g_param_spec_boolean ("scenario-running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, G_N_ELEMENTS (props), props);
}

static void
pm_manager_init (PmManager *self)
{
  self->acceptor = pm_acceptor_new ();
  self->devices = g_list_store_new (PM_TYPE_DEVICE);
  self->by_port = g_hash_table_new (NULL, NULL);
  self->by_hostname = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->listing = pm_listing_server_new (self->acceptor, G_LIST_MODEL (self->devices));
}

/**
 * pm_manager_new:
 * @config: the configuration; copied
 *
 * Creates a stopped fleet.  Without a seed in @config one is drawn.
 *
 * Returns: (transfer full): a new #PmManager
 */
PmManager *
pm_manager_new (const PmConfig *config)
{
  PmManager *self;

  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (PM_TYPE_MANAGER, NULL);
  self->config = config_copy (config);
  if (config->seed_given)
    self->seed = config->seed;
  else
    self->seed = ((guint64) g_random_int () << 32) | g_random_int ();
  return self;
}
