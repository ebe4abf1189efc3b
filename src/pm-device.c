/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-device"

#include "config.h"

#include <string.h>

#include "pm-device.h"
#include "pm-error.h"
#include "pm-device-private.h"
#include "pm-faults.h"
#include "pm-firmware-api.h"
#include "pm-pluto-api.h"
#include "pm-http.h"
#include "pm-limits.h"
#include "pm-sim.h"
#include "pm-streams.h"
#include "pm-update.h"

/**
 * PmDevice:
 *
 * One mock miner: a #SoupServer on its own port, answering as its
 * profile (#PmProfile) says.
 *
 * A Pluto profile answers as the original service did
 * (`GET /api/system/info`, `PATCH /api/system`,
 * `POST /api/system/restart`, and when logs are enabled fake log lines on
 * `/api/ws`), keeping what it kept per worker: the overrides stored by
 * PATCH, whether it is restarting.
 *
 * An AxeOS or NerdQAxe profile has a simulated miner behind it (#PmSim)
 * and answers the firmware's API (pm-firmware-api.c); its log stream
 * carries what the miner does, its restart cuts every connection and
 * closes the port for the restart window, as real hardware's does.
 */

/* How each family of profiles answers HTTP. */
static const struct
{
  PmApiEarlyFunc  early;
  PmApiHandleFunc handle;
  PmApiAnswerFunc answer;
} family_apis[] = {
  [PM_PROFILE_FAMILY_PLUTO] = { pm_pluto_api_early, pm_pluto_api_handle, pm_pluto_api_answer },
  [PM_PROFILE_FAMILY_AXEOS] = { pm_firmware_api_early, pm_firmware_api_handle,
                                pm_firmware_api_answer },
  [PM_PROFILE_FAMILY_NERDQAXE] = { pm_firmware_api_early, pm_firmware_api_handle, NULL },
};


G_DEFINE_FINAL_TYPE (PmDevice, pm_device, G_TYPE_OBJECT)


GParamSpec *pm_device_props[PROP_FAULTS + 1] = { NULL, };

/* ---- WebSockets ---------------------------------------------------------- */

gboolean
pm_device_is_simulated (PmDevice *self)
{
  return pm_profile_is_simulated (self->profile);
}

/* The address a simulated device reports as its own outside a request. */
static const char *
own_address (PmDevice *self)
{
  return self->bind_address != NULL ? self->bind_address : "127.0.0.1";
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *conn,
              gpointer                 user_data)
{
  PmDevice *self = PM_DEVICE (user_data);

  if (strcmp (path, PM_FIRMWARE_PATH_WS_LIVE) == 0)
    pm_streams_add_live_client (self->streams, conn, msg);
  else
    pm_streams_add_log_client (self->streams, conn, msg);
}

/* The /api/ws/live state. */
static JsonObject *
live_state (gpointer user_data)
{
  PmDevice *self = PM_DEVICE (user_data);

  if (self->sim == NULL)
    return NULL;
  return pm_sim_dup_live_state (self->sim, self->firmware, own_address (self),
                                g_get_monotonic_time ());
}

/**
 * pm_device_get_miner_state:
 * @self: a #PmDevice
 *
 * What the device's simulated miner reports now: the numbers behind its
 * info, without writing the info.
 *
 * Returns: (transfer none) (nullable): the state, valid until the next
 *   call on @self, or %NULL for a device without a simulated miner
 */
const PmMinerState *
pm_device_get_miner_state (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);

  if (self->sim == NULL)
    return NULL;
  pm_sim_catch_up (self->sim, g_get_monotonic_time ());
  return pm_miner_get_state (pm_sim_get_miner (self->sim));
}

/* ---- HTTP --------------------------------------------------------------- */

static void restart_by_profile (gpointer device);

/* The device's hostname follows its settings, as a real device's mDNS
 * name does: the listing and D-Bus show the new one. */
static void
on_renamed (gpointer device)
{
  PmDevice *self = PM_DEVICE (device);
  const char *hostname = pm_sim_get_settings (self->sim)->hostname;

  if (g_strcmp0 (hostname, self->hostname) == 0)
    return;
  g_message ("%s: hostname is now %s", self->hostname, hostname);
  g_free (self->hostname);
  self->hostname = g_strdup (hostname);
  pm_streams_set_hostname (self->streams, hostname);
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_HOSTNAME]);
}

/* What the profile's API sees of the device, for one request. */
static void
fill_host (PmDevice  *self,
           PmApiHost *host)
{
  *host = (PmApiHost) {
    .device = self,
    .profile = self->profile,
    .hostname = self->hostname,
    .firmware = self->firmware,
    .sim = self->sim,
    .logs_enabled = self->logs_enabled,
    .network_gate = self->network_gate,
    .restarting = self->restarting,
    .restart_left_us = self->restart_source != NULL
                         ? g_source_get_ready_time (self->restart_source) - g_get_monotonic_time ()
                         : 0,
    .n_websockets = pm_streams_get_n_clients (self->streams),
    .rand = self->rand,
    .overrides = self->overrides,
    .uptime_seconds = (guint64) MAX (0, g_get_monotonic_time () - self->start_mono_us) / G_USEC_PER_SEC,
    .server_header = self->server_header,
    .restart = restart_by_profile,
    .renamed = on_renamed,
  };
}

static void
on_early_request (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  PmDevice *self = PM_DEVICE (user_data);
  PmApiHost host;

  if (self->faults != NULL && pm_faults_intercept (self->faults, msg, path))
    return;
  fill_host (self, &host);
  family_apis[self->profile->family].early (&host, msg, path);
  if (self->faults != NULL)
    pm_faults_shape_reply (self->faults, msg);
}

/* A request the acceptor lets the device answer without libsoup: only
 * while no fault acts on its HTTP replies (a fault on the miner or the
 * WebSockets changes nothing on this path: the reply reads the miner's
 * state either way). */
static GBytes *
answer_request (const PmAcceptorRequest *request,
                gpointer                 user_data)
{
  PmDevice *self = PM_DEVICE (user_data);
  PmApiHost host;

  if (self->faults != NULL && pm_faults_get_shapes_http (self->faults))
    return NULL;
  fill_host (self, &host);
  return family_apis[self->profile->family].answer (&host, request);
}

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  PmDevice *self = PM_DEVICE (user_data);
  PmApiHost host;

  fill_host (self, &host);
  family_apis[self->profile->family].handle (&host, msg, path, query);
  if (self->faults != NULL)
    pm_faults_shape_reply (self->faults, msg);
}

/* The device boots: its uptime counts from now, whether or not its port
 * opens. */
static void
note_booted (PmDevice *self)
{
  self->start_time_ms = g_get_real_time () / 1000;
  self->start_mono_us = g_get_monotonic_time ();
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_START_TIME]);
}

/* Opens the port of a started device that is off the network, after a
 * reboot or an offline fault. */
gboolean
pm_device_open_port (PmDevice *self,
                     GError  **error)
{
  g_assert (self->listener == NULL);
  g_assert (self->bind_address != NULL);

  self->listener = pm_acceptor_listen (self->acceptor, self->server, self->bind_address,
                                       self->port, PM_LIMIT_BODY_BYTES, error);
  if (self->listener == NULL)
    return FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_LISTENING]);
  return TRUE;
}

/* Closes the port and every HTTP connection of the device. */
void
pm_device_close_port (PmDevice *self,
                      gboolean  notify)
{
  if (self->listener != NULL)
    {
      pm_acceptor_close (self->acceptor, self->listener);
      g_clear_object (&self->listener);
      if (notify)
        g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_LISTENING]);
    }
  soup_server_disconnect (self->server);
}

/* ---- restart ------------------------------------------------------------ */

/* How long a firmware takes from its restart reply to esp_restart(). */
#define FIRMWARE_RESTART_DELAY_MS 1000

static void
schedule_restart_step (PmDevice   *self,
                       guint       delay_ms,
                       GSourceFunc step)
{
  g_clear_pointer (&self->restart_source, g_source_unref);
  self->restart_source = g_timeout_source_new (delay_ms);
  g_source_set_name (self->restart_source, "pm-device-restart");
  g_source_set_callback (self->restart_source, step, self, NULL);
  g_source_attach (self->restart_source, g_main_context_get_thread_default ());
}

static gboolean
on_restart_done (gpointer user_data)
{
  PmDevice *self = PM_DEVICE (user_data);

  g_clear_pointer (&self->restart_source, g_source_unref);
  self->restarting = FALSE;
  g_message ("%s: System has restarted and is available again.", self->hostname);
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_RESTARTING]);

  return G_SOURCE_REMOVE;
}

/* The firmware is up again: the miner boots and the port opens. */
static gboolean
on_firmware_up (gpointer user_data)
{
  PmDevice *self = PM_DEVICE (user_data);
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->restart_source, g_source_unref);
  self->restarting = FALSE;
  /* It boots even when it cannot be reached: once it can, its uptime
   * counts from this boot, as real hardware's does. */
  note_booted (self);
  pm_sim_reboot (self->sim, self->start_mono_us);
  if (self->faults != NULL && pm_faults_get_offline (self->faults))
    {
      /* Lifting the fault opens the port. */
      g_message ("%s: System has restarted; a fault keeps it off the network.", self->hostname);
    }
  else if (!pm_device_open_port (self, &error))
    {
      /* Someone took the port meanwhile: the device stays off the network. */
      g_warning ("%s: could not come back after its restart: %s", self->hostname, error->message);
    }
  else
    {
      g_message ("%s: System has restarted and is available again.", self->hostname);
    }
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_RESTARTING]);
  return G_SOURCE_REMOVE;
}

/* esp_restart(): every connection dies without a word, WebSockets
 * included, and the port refuses connections until the device is up. */
static gboolean
on_firmware_down (gpointer user_data)
{
  PmDevice *self = PM_DEVICE (user_data);

  pm_streams_close_all (self->streams, FALSE);
  pm_device_close_port (self, TRUE);
  g_message ("%s: rebooting; off the network for %u s", self->hostname,
             (self->restart_ms + 999) / 1000);
  schedule_restart_step (self, self->restart_ms, on_firmware_up);
  return G_SOURCE_REMOVE;
}

static void
restart_firmware (gpointer device)
{
  PmDevice *self = PM_DEVICE (device);

  if (self->restarting)
    return;
  self->restarting = TRUE;
  schedule_restart_step (self, FIRMWARE_RESTART_DELAY_MS, on_firmware_down);
  g_message ("%s: restarting in %u ms", self->hostname, FIRMWARE_RESTART_DELAY_MS);
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_RESTARTING]);
}

/**
 * pm_device_restart:
 * @self: a #PmDevice
 * @error: return location for a #GError
 *
 * Simulates a restart.  A Pluto device answers 503 to every HTTP request
 * for the next #PmDevice:restart-window milliseconds, keeping its
 * overrides, start time and WebSocket clients, as the original service
 * did.  A simulated device restarts as hardware does: about a second
 * later every connection is cut, the port refuses connections for the
 * restart window, and the device boots again with its settings.
 *
 * Returns: %FALSE with %PM_ERROR_RESTARTING if it is restarting already,
 *   or %PM_ERROR_FAILED if it is stopped
 */
gboolean
pm_device_restart (PmDevice *self,
                   GError  **error)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);

  /* A firmware device would open its port again after its reboot. */
  if (!self->started)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_FAILED, "%s is stopped", self->hostname);
      return FALSE;
    }

  if (self->restarting)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_RESTARTING,
                   "%s is restarting already", self->hostname);
      return FALSE;
    }

  if (pm_device_is_simulated (self))
    {
      restart_firmware (self);
      return TRUE;
    }

  self->restarting = TRUE;
  schedule_restart_step (self, self->restart_ms, on_restart_done);
  g_message ("%s: restarting; unavailable for %u s", self->hostname,
             (self->restart_ms + 999) / 1000);
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_RESTARTING]);
  return TRUE;
}

/**
 * pm_device_dup_info:
 * @self: a #PmDevice
 *
 * Returns: (transfer full): what `GET /api/system/info` answers now
 */
char *
pm_device_dup_info (PmDevice *self)
{
  PmApiHost host;

  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);
  g_return_val_if_fail (self->rand != NULL, NULL);

  if (pm_device_is_simulated (self))
    return pm_sim_dup_info (self->sim, self->firmware, own_address (self), g_get_monotonic_time ());

  fill_host (self, &host);
  return pm_pluto_api_dup_info (&host);
}

/**
 * pm_device_update:
 * @self: a #PmDevice
 * @data: a JSON document
 * @length: its length
 * @error: return location for a #PmError
 *
 * Does what `PATCH /api/system` does: merges the members of the JSON
 * object @data into the stored overrides.  A rejected document changes
 * nothing.
 */
gboolean
pm_device_update (PmDevice   *self,
                  const char *data,
                  gsize       length,
                  GError    **error)
{
  PmApiHost host;

  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);

  if (self->restarting)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_RESTARTING,
                   "%s is restarting", self->hostname);
      return FALSE;
    }

  if (pm_device_is_simulated (self))
    {
      gboolean renamed = FALSE;

      if (!pm_sim_update (self->sim, data, length, g_get_monotonic_time (), &renamed, error))
        return FALSE;
      if (renamed)
        on_renamed (self);
      return TRUE;
    }

  fill_host (self, &host);
  return pm_pluto_api_update (&host, data, length, error);
}

/* The callbacks of #PmApiHost. */
static void
restart_by_profile (gpointer device)
{
  pm_device_restart (PM_DEVICE (device), NULL);
}

/* ---- life cycle --------------------------------------------------------- */

/**
 * pm_device_start:
 * @self: a #PmDevice
 * @bind_address: the address to listen on
 * @error: return location for a #GError
 *
 * Binds the device's port (port 0 lets the kernel pick one) and starts
 * answering.  A taken port gives %PM_ERROR_PORT_IN_USE and leaves the
 * device stopped.
 */
gboolean
pm_device_start (PmDevice   *self,
                 const char *bind_address,
                 GError    **error)
{
  g_autoptr(GSocket) listener = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);
  g_return_val_if_fail (bind_address != NULL, FALSE);
  g_return_val_if_fail (self->listener == NULL, FALSE);

  listener = pm_acceptor_listen (self->acceptor, self->server, bind_address, self->port,
                                 PM_LIMIT_BODY_BYTES, error);
  if (listener == NULL)
    return FALSE;

  if (self->port == 0)
    {
      local = g_socket_get_local_address (listener, error);
      if (local == NULL)
        {
          pm_acceptor_close (self->acceptor, listener);
          return FALSE;
        }
      self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
      g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_PORT]);
    }

  if (self->rand == NULL)
    self->rand = pm_rand_new_for_port (self->seed, self->port);
  if (self->sim == NULL && (pm_device_is_simulated (self) || self->simulated_telemetry))
    self->sim = pm_sim_new (self->profile, self->hostname, self->seed, self->port,
                            g_get_monotonic_time ());
  pm_streams_set_rand (self->streams, self->rand);
  pm_streams_set_sim (self->streams, self->sim);
  if (self->firmware == NULL)
    {
      self->firmware = g_strdup (pm_firmware_draw (self->rand));
      g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_FIRMWARE]);
    }

  g_free (self->bind_address);
  self->bind_address = g_strdup (bind_address);
  self->listener = g_steal_pointer (&listener);
  self->started = TRUE;
  note_booted (self);
  g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_LISTENING]);
  return TRUE;
}

/* Closes everything; notifies the properties that change unless the
 * device is being disposed. */
static void
shut_down (PmDevice *self,
           gboolean  notify)
{
  pm_streams_close_all (self->streams, TRUE);
  if (self->restart_source != NULL)
    {
      g_source_destroy (self->restart_source);
      g_clear_pointer (&self->restart_source, g_source_unref);
      self->restarting = FALSE;
      if (notify)
        g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_RESTARTING]);
    }
  if (self->server != NULL)
    pm_device_close_port (self, notify);
}

/**
 * pm_device_stop:
 * @self: a #PmDevice
 *
 * Closes the device's port, its HTTP connections and its WebSockets, and
 * lifts its faults: a stopped device does nothing until it is started
 * again.
 */
void
pm_device_stop (PmDevice *self)
{
  g_return_if_fail (PM_IS_DEVICE (self));

  /* The faults' timers (flapping, reboot-loop, ws-drop) would otherwise
   * go on opening the port or restarting the device.  Lifting them stops
   * the timers; once the device is no longer started, lifting an offline
   * fault leaves the port closed. */
  self->started = FALSE;
  if (self->faults != NULL && pm_faults_get_n_active (self->faults) > 0)
    {
      pm_faults_clear_all (self->faults);
      g_object_notify_by_pspec (G_OBJECT (self), pm_device_props[PROP_FAULTS]);
    }
  shut_down (self, TRUE);
}

static void
pm_device_constructed (GObject *object)
{
  PmDevice *self = PM_DEVICE (object);

  G_OBJECT_CLASS (pm_device_parent_class)->constructed (object);

  g_assert (self->acceptor != NULL);
  if (self->profile == NULL)
    self->profile = pm_profile_lookup ("pluto-legacy");
  if (self->firmware == NULL && self->profile->firmware != NULL)
    self->firmware = g_strdup (self->profile->firmware);
  if (self->hostname == NULL)
    self->hostname = g_strdup_printf ("mockaxe-%u", self->port);

  self->server = soup_server_new ("server-header", PACKAGE_NAME "/" PACKAGE_VERSION " ", NULL);
  /* libsoup enables permessage-deflate by default, and browsers and
   * Node's ws always offer it: some 220 KB per log client, kept after
   * use, and three times the CPU per frame, for short text lines. */
  soup_server_remove_websocket_extension (self->server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_early_handler (self->server, NULL, on_early_request, self, NULL);
  soup_server_add_handler (self->server, NULL, on_request, self, NULL);
  g_object_get (self->server, "server-header", &self->server_header, NULL);
  if (family_apis[self->profile->family].answer != NULL)
    pm_acceptor_set_answer_func (self->acceptor, self->server, answer_request, self);

  self->streams = pm_streams_new (self->profile, self->hostname, self->log_interval_ms,
                                  live_state, self);
  if (pm_streams_has_live (self->streams))
    {
      soup_server_add_early_handler (self->server, PM_FIRMWARE_PATH_WS_LIVE, on_early_request,
                                     self, NULL);
      soup_server_add_websocket_handler (self->server, PM_FIRMWARE_PATH_WS_LIVE, NULL, NULL,
                                         on_websocket, self, NULL);
    }
  /* Real firmware always streams its log; the original mock only when
   * asked to. */
  if (self->logs_enabled || pm_device_is_simulated (self))
    {
      /* libsoup runs the early handler of the most specific path only,
       * and the WebSocket handler below makes /api/ws a path of its own:
       * without this second registration a restarting device would
       * upgrade log clients, and the route checks would be skipped. */
      soup_server_add_early_handler (self->server, PM_PLUTO_PATH_WS, on_early_request, self, NULL);
      soup_server_add_websocket_handler (self->server, PM_PLUTO_PATH_WS, NULL, NULL,
                                         on_websocket, self, NULL);
    }
}

static void
pm_device_dispose (GObject *object)
{
  PmDevice *self = PM_DEVICE (object);

  if (self->streams != NULL)
    shut_down (self, FALSE);
  g_clear_object (&self->faults);
  g_clear_object (&self->streams);
  if (self->server != NULL && self->acceptor != NULL)
    pm_acceptor_set_answer_func (self->acceptor, self->server, NULL, NULL);
  g_clear_object (&self->server);
  g_clear_object (&self->acceptor);

  G_OBJECT_CLASS (pm_device_parent_class)->dispose (object);
}

static void
pm_device_finalize (GObject *object)
{
  PmDevice *self = PM_DEVICE (object);

  g_clear_pointer (&self->hostname, g_free);
  g_clear_pointer (&self->server_header, g_free);
  g_clear_pointer (&self->firmware, g_free);
  g_clear_pointer (&self->bind_address, g_free);
  g_clear_pointer (&self->rand, g_rand_free);
  g_clear_pointer (&self->overrides, pm_overrides_free);
  g_clear_pointer (&self->sim, pm_sim_free);

  G_OBJECT_CLASS (pm_device_parent_class)->finalize (object);
}

static void
pm_device_get_property (GObject    *object,
                        guint       property_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PmDevice *self = PM_DEVICE (object);

  switch ((PmDeviceProperty) property_id)
    {
    case PROP_ACCEPTOR:
      g_value_set_object (value, self->acceptor);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_HOSTNAME:
      g_value_set_string (value, self->hostname);
      break;
    case PROP_PROFILE:
      g_value_set_string (value, self->profile->name);
      break;
    case PROP_NETWORK_GATE:
      g_value_set_boolean (value, self->network_gate);
      break;
    case PROP_SIMULATED_TELEMETRY:
      g_value_set_boolean (value, self->simulated_telemetry);
      break;
    case PROP_FIRMWARE:
      g_value_set_string (value, self->firmware);
      break;
    case PROP_LOGS_ENABLED:
      g_value_set_boolean (value, self->logs_enabled);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->seed);
      break;
    case PROP_LOG_INTERVAL:
      g_value_set_uint (value, self->log_interval_ms);
      break;
    case PROP_RESTART_WINDOW:
      g_value_set_uint (value, self->restart_ms);
      break;
    case PROP_START_TIME:
      g_value_set_int64 (value, self->start_time_ms);
      break;
    case PROP_LISTENING:
      g_value_set_boolean (value, self->listener != NULL);
      break;
    case PROP_RESTARTING:
      g_value_set_boolean (value, self->restarting);
      break;
    case PROP_FAULTS:
      g_value_take_variant (value, pm_device_dup_faults (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_device_set_property (GObject      *object,
                        guint         property_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PmDevice *self = PM_DEVICE (object);

  switch ((PmDeviceProperty) property_id)
    {
    case PROP_ACCEPTOR:
      self->acceptor = g_value_dup_object (value);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_HOSTNAME:
      self->hostname = g_value_dup_string (value);
      break;
    case PROP_PROFILE:
      self->profile = pm_profile_lookup (g_value_get_string (value) != NULL
                                           ? g_value_get_string (value) : "pluto-legacy");
      g_return_if_fail (self->profile != NULL);
      break;
    case PROP_NETWORK_GATE:
      self->network_gate = g_value_get_boolean (value);
      break;
    case PROP_SIMULATED_TELEMETRY:
      self->simulated_telemetry = g_value_get_boolean (value);
      break;
    case PROP_FIRMWARE:
      self->firmware = g_value_dup_string (value);
      break;
    case PROP_LOGS_ENABLED:
      self->logs_enabled = g_value_get_boolean (value);
      break;
    case PROP_SEED:
      self->seed = g_value_get_uint64 (value);
      break;
    case PROP_LOG_INTERVAL:
      self->log_interval_ms = g_value_get_uint (value);
      break;
    case PROP_RESTART_WINDOW:
      self->restart_ms = g_value_get_uint (value);
      break;
    case PROP_START_TIME:
    case PROP_LISTENING:
    case PROP_RESTARTING:
    case PROP_FAULTS:
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_device_class_init (PmDeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  const GParamFlags readonly = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS |
                               G_PARAM_EXPLICIT_NOTIFY;

  object_class->constructed = pm_device_constructed;
  object_class->dispose = pm_device_dispose;
  object_class->finalize = pm_device_finalize;
  object_class->get_property = pm_device_get_property;
  object_class->set_property = pm_device_set_property;

  pm_device_props[PROP_ACCEPTOR] =
    g_param_spec_object ("acceptor", NULL, NULL, PM_TYPE_ACCEPTOR, construct);
  /**
   * PmDevice:port:
   *
   * The TCP port; 0 until started lets the kernel pick one.
   */
  pm_device_props[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, 65535, 0, construct);
  pm_device_props[PROP_HOSTNAME] =
    g_param_spec_string ("hostname", NULL, NULL, NULL, construct);
  /**
   * PmDevice:profile:
   *
   * The name of the device's profile (see #PmProfile); %NULL at
   * construction means `pluto-legacy`.
   */
  pm_device_props[PROP_PROFILE] =
    g_param_spec_string ("profile", NULL, NULL, NULL, construct);
  /**
   * PmDevice:network-gate:
   *
   * Whether an AxeOS or NerdQAxe device refuses API requests from
   * outside private networks (loopback included) with 401, as the
   * firmware does.
   */
  pm_device_props[PROP_NETWORK_GATE] =
    g_param_spec_boolean ("network-gate", NULL, NULL, FALSE, construct);
  /**
   * PmDevice:simulated-telemetry:
   *
   * Whether a Pluto device draws its numbers from the simulated miner
   * instead of at random.
   */
  pm_device_props[PROP_SIMULATED_TELEMETRY] =
    g_param_spec_boolean ("simulated-telemetry", NULL, NULL, FALSE, construct);
  /**
   * PmDevice:firmware:
   *
   * The firmware version; %NULL at construction draws one from the
   * distribution when the device starts.
   */
  pm_device_props[PROP_FIRMWARE] =
    g_param_spec_string ("firmware", NULL, NULL, NULL, construct);
  pm_device_props[PROP_LOGS_ENABLED] =
    g_param_spec_boolean ("logs-enabled", NULL, NULL, FALSE, construct);
  pm_device_props[PROP_SEED] =
    g_param_spec_uint64 ("seed", NULL, NULL, 0, G_MAXUINT64, 0, construct);
  /**
   * PmDevice:log-interval:
   *
   * The period of the fake log stream in milliseconds.  For tests; the
   * daemon always uses %PM_DEVICE_LOG_INTERVAL_MS.
   */
  pm_device_props[PROP_LOG_INTERVAL] =
    g_param_spec_uint ("log-interval", NULL, NULL, 1, G_MAXUINT,
                       PM_DEVICE_LOG_INTERVAL_MS, construct);
  /**
   * PmDevice:restart-window:
   *
   * How long a restart keeps the device answering 503, in milliseconds.
   * For tests; the daemon always uses %PM_DEVICE_RESTART_MS.
   */
  pm_device_props[PROP_RESTART_WINDOW] =
    g_param_spec_uint ("restart-window", NULL, NULL, 1, G_MAXINT,
                       PM_DEVICE_RESTART_MS, construct);
  pm_device_props[PROP_START_TIME] =
    g_param_spec_int64 ("start-time", NULL, NULL, 0, G_MAXINT64, 0, readonly);
  pm_device_props[PROP_LISTENING] =
    g_param_spec_boolean ("listening", NULL, NULL, FALSE, readonly);
  pm_device_props[PROP_RESTARTING] =
    g_param_spec_boolean ("restarting", NULL, NULL, FALSE, readonly);
  /**
   * PmDevice:faults:
   *
   * The active faults, `a{sa{sv}}`: each kind and its parameters.
   */
  pm_device_props[PROP_FAULTS] =
    g_param_spec_variant ("faults", NULL, NULL, G_VARIANT_TYPE ("a{sa{sv}}"), NULL, readonly);

  g_object_class_install_properties (object_class, G_N_ELEMENTS (pm_device_props), pm_device_props);
}

static void
pm_device_init (PmDevice *self)
{
  self->log_interval_ms = PM_DEVICE_LOG_INTERVAL_MS;
  self->restart_ms = PM_DEVICE_RESTART_MS;
  self->overrides = pm_overrides_new ();
}

/**
 * pm_device_new:
 * @acceptor: the acceptor that serves the device's port
 * @spec: what the device is: its hostname must be set; port 0 lets the
 *   kernel pick one at start; without a profile it is `pluto-legacy`;
 *   without a firmware version it takes the profile's or draws one
 * @config: the fleet's settings: logs, telemetry, network gate
 * @seed: the fleet's seed
 *
 * Returns: (transfer full): a new, stopped #PmDevice
 */
PmDevice *
pm_device_new (PmAcceptor         *acceptor,
               const PmDeviceSpec *spec,
               const PmConfig     *config,
               guint64             seed)
{
  g_return_val_if_fail (PM_IS_ACCEPTOR (acceptor), NULL);
  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (spec->hostname != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);

  return g_object_new (PM_TYPE_DEVICE,
                       "acceptor", acceptor,
                       "port", spec->port,
                       "hostname", spec->hostname,
                       "profile", spec->profile != NULL ? spec->profile->name : NULL,
                       "firmware", spec->firmware,
                       "logs-enabled", config->logs_enabled,
                       "network-gate", config->network_gate,
                       "simulated-telemetry", config->simulated_telemetry,
                       "seed", seed,
                       NULL);
}

guint
pm_device_get_port (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), 0);
  return self->port;
}

const char *
pm_device_get_hostname (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);
  return self->hostname;
}


/**
 * pm_device_get_profile:
 * @self: a #PmDevice
 *
 * Returns: (transfer none): the device's profile
 */
const PmProfile *
pm_device_get_profile (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);
  return self->profile;
}

const char *
pm_device_get_firmware (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);
  return self->firmware;
}

/**
 * pm_device_get_start_time:
 * @self: a #PmDevice
 *
 * Returns: when the device started listening, in ms since the Unix epoch
 */
gint64
pm_device_get_start_time (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), 0);
  return self->start_time_ms;
}

gboolean
pm_device_get_listening (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);
  return self->listener != NULL;
}

gboolean
pm_device_get_restarting (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);
  return self->restarting;
}

gboolean
pm_device_get_logs_enabled (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);
  return self->logs_enabled;
}

guint
pm_device_get_n_log_clients (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), 0);
  return pm_log_stream_get_n_clients (pm_streams_get_log_stream (self->streams));
}

/**
 * pm_device_get_log_stream:
 * @self: a #PmDevice
 *
 * Returns: (transfer none): the stream of its `/api/ws` clients
 */
PmLogStream *
pm_device_get_log_stream (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);
  return pm_streams_get_log_stream (self->streams);
}

/**
 * pm_device_dup_faults:
 * @self: a #PmDevice
 *
 * Returns: (transfer full): the active faults, `a{sa{sv}}`
 */
GVariant *
pm_device_dup_faults (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);
  return g_variant_ref_sink (pm_faults_to_variant (self->faults));
}

/**
 * pm_device_dup_url:
 * @self: a listening #PmDevice
 *
 * Returns: (transfer full): the device's base URL, e.g. `http://127.0.0.1:7751`;
 *   on 0.0.0.0 or ::, the loopback address's, which one can open
 */
char *
pm_device_dup_url (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);

  if (self->bind_address == NULL)
    return NULL;
  return pm_http_dup_url (self->bind_address, self->port, "");
}
