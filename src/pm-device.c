/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-device"

#include "config.h"

#include <string.h>

#include "pm-device.h"
#include "pm-error.h"
#include "pm-firmware-api.h"
#include "pm-http.h"
#include "pm-limits.h"
#include "pm-live-stream.h"
#include "pm-log-stream.h"
#include "pm-sim.h"
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

#define RESTART_REPLY "<html><body><h1>System will restart shortly.</h1></body></html>"
#define UNAVAILABLE_REPLY "<html><body><h1>Server is temporarily unavailable. Please try again later.</h1></body></html>"
#define PATCH_REPLY "{\"message\":\"System info updated successfully\"}"

#define PATH_INFO "/api/system/info"
#define PATH_SYSTEM "/api/system"
#define PATH_RESTART "/api/system/restart"
#define PATH_WS "/api/ws"

static const PmRoute device_routes[] = {
  { PATH_INFO, "GET, HEAD" },
  { PATH_SYSTEM, "PATCH" },
  { PATH_RESTART, "POST" },
  { PATH_WS, "GET" },
};

struct _PmDevice
{
  GObject       parent_instance;

  PmAcceptor   *acceptor;        /* (owned) */
  guint         port;
  char         *hostname;        /* (owned) */
  PmApiVersion  api_version;
  char         *profile_name;    /* (owned) (nullable): NULL for api_version's */
  const PmProfile *profile;
  gboolean      network_gate;
  gboolean      simulated_telemetry;
  char         *firmware;        /* (owned) (nullable) until started */
  gboolean      logs_enabled;
  guint64       seed;
  guint         log_interval_ms;
  guint         restart_ms;

  GRand        *rand;            /* (owned) (nullable) until started */
  SoupServer   *server;          /* (owned) */
  GSocket      *listener;        /* (owned) (nullable) while not listening */
  char         *bind_address;    /* (owned) (nullable) */
  gint64        start_time_ms;   /* wall clock, ms since the epoch */
  gint64        start_mono_us;   /* monotonic clock */
  PmOverrides  *overrides;       /* (owned) */

  gboolean      restarting;
  GSource      *restart_source;  /* (owned) (nullable) */

  PmLogStream  *logs;            /* (owned) */
  PmLiveStream *live;            /* (owned) (nullable): AxeOS only */
  PmSim        *sim;             /* (owned) (nullable) until started; simulated profiles */
  GSource      *log_pump;        /* (owned) (nullable) while a simulated device has log clients */
};

G_DEFINE_FINAL_TYPE (PmDevice, pm_device, G_TYPE_OBJECT)

typedef enum
{
  PROP_ACCEPTOR = 1,
  PROP_PORT,
  PROP_HOSTNAME,
  PROP_API_VERSION,
  PROP_PROFILE,
  PROP_NETWORK_GATE,
  PROP_SIMULATED_TELEMETRY,
  PROP_FIRMWARE,
  PROP_LOGS_ENABLED,
  PROP_SEED,
  PROP_LOG_INTERVAL,
  PROP_RESTART_WINDOW,
  PROP_START_TIME,
  PROP_LISTENING,
  PROP_RESTARTING,
} PmDeviceProperty;

static GParamSpec *props[PROP_RESTARTING + 1] = { NULL, };

/* ---- log streams ------------------------------------------------------ */

#define LOG_PUMP_MS 500

static gboolean
is_simulated (PmDevice *self)
{
  return pm_profile_is_simulated (self->profile);
}

/* While a simulated device has log clients, what its miner did goes to
 * them every half second, as the firmware's log task sends. */
static gboolean
on_log_pump (gpointer user_data)
{
  PmDevice *self = PM_DEVICE (user_data);
  g_autoptr(GString) lines = g_string_new (NULL);

  if (pm_log_stream_get_n_clients (self->logs) == 0)
    {
      g_clear_pointer (&self->log_pump, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  pm_sim_catch_up (self->sim, g_get_monotonic_time ());
  if (pm_sim_take_log_lines (self->sim, lines,
                             self->profile->family == PM_PROFILE_FAMILY_AXEOS))
    pm_log_stream_push (self->logs, lines->str, lines->len);
  return G_SOURCE_CONTINUE;
}

static void
stop_log_pump (PmDevice *self)
{
  if (self->log_pump == NULL)
    return;
  g_source_destroy (self->log_pump);
  g_clear_pointer (&self->log_pump, g_source_unref);
}

static void
on_websocket (SoupServer              *server,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *conn,
              gpointer                 user_data)
{
  PmDevice *self = PM_DEVICE (user_data);

  if (is_simulated (self) && pm_log_stream_get_n_clients (self->logs) == 0)
    {
      g_autoptr(GString) skipped = g_string_new (NULL);

      /* No backlog: the log starts now. */
      pm_sim_catch_up (self->sim, g_get_monotonic_time ());
      pm_sim_take_log_lines (self->sim, skipped, FALSE);
    }
  pm_log_stream_add_client (self->logs, conn, msg);
  if (is_simulated (self) && self->log_pump == NULL)
    {
      self->log_pump = g_timeout_source_new (LOG_PUMP_MS);
      g_source_set_name (self->log_pump, "pm-device-log-pump");
      g_source_set_callback (self->log_pump, on_log_pump, self, NULL);
      g_source_attach (self->log_pump, g_main_context_get_thread_default ());
    }
}

static void
on_live_websocket (SoupServer              *server,
                   SoupServerMessage       *msg,
                   const char              *path,
                   SoupWebsocketConnection *conn,
                   gpointer                 user_data)
{
  PmDevice *self = PM_DEVICE (user_data);

  pm_live_stream_add_client (self->live, conn, msg);
}

/* The /api/ws/live state: the info object without `fullHostname`. */
static JsonObject *
live_state (gpointer user_data)
{
  PmDevice *self = PM_DEVICE (user_data);
  g_autoptr(GString) out = g_string_sized_new (4096);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  PmFirmwareView view;
  JsonNode *root;

  if (self->sim == NULL)
    return NULL;
  pm_sim_catch_up (self->sim, g_get_monotonic_time ());
  pm_sim_get_view (self->sim, self->firmware,
                   self->bind_address != NULL ? self->bind_address : "127.0.0.1", &view);
  pm_axeos_write_info (out, &view, FALSE);
  if (!json_parser_load_from_data (parser, out->str, out->len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return JSON_NODE_HOLDS_OBJECT (root) ? json_object_ref (json_node_get_object (root)) : NULL;
}

static void
close_websockets (PmDevice *self,
                  gboolean  clean)
{
  stop_log_pump (self);
  pm_log_stream_close_all (self->logs, clean);
  if (self->live != NULL)
    pm_live_stream_close_all (self->live, clean);
}

static guint
count_websockets (PmDevice *self)
{
  return pm_log_stream_get_n_clients (self->logs) +
         (self->live != NULL ? pm_live_stream_get_n_clients (self->live) : 0);
}

/* ---- HTTP --------------------------------------------------------------- */

/* The 503 of a restarting device, with how long is left. */
static void
reply_unavailable (PmDevice          *self,
                   SoupServerMessage *msg)
{
  g_autofree char *retry = NULL;
  gint64 left_us = 0;

  if (self->restart_source != NULL)
    left_us = g_source_get_ready_time (self->restart_source) - g_get_monotonic_time ();
  retry = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (1, (left_us + 999999) / 1000000));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Retry-After", retry);
  /* A restarting device keeps no connection open. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Connection", "close");
  pm_http_reply_static (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/html", UNAVAILABLE_REPLY);
}

static void restart_firmware (gpointer device);

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
  pm_log_stream_set_hostname (self->logs, hostname);
  if (self->live != NULL)
    pm_live_stream_set_hostname (self->live, hostname);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_HOSTNAME]);
}

static void
fill_host (PmDevice       *self,
           PmFirmwareHost *host)
{
  *host = (PmFirmwareHost) {
    .device = self,
    .sim = self->sim,
    .profile = self->profile,
    .firmware = self->firmware,
    .hostname = self->hostname,
    .network_gate = self->network_gate,
    .n_websockets = count_websockets (self),
    .restart = restart_firmware,
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
  g_autoptr(GError) error = NULL;

  if (is_simulated (self))
    {
      PmFirmwareHost host;

      fill_host (self, &host);
      pm_firmware_api_early (&host, msg, path);
      return;
    }

  pm_http_prepare_reply (msg);
  if (self->restarting)
    {
      reply_unavailable (self, msg);
      return;
    }

  if (strcmp (path, PATH_WS) == 0 && !self->logs_enabled)
    {
      pm_http_reply_error (msg, SOUP_STATUS_NOT_FOUND,
                           "log streaming is off on this device; start plutomock with "
                           "LOGS_PUB_ENABLED=true or --logs to enable it");
      return;
    }

  if (!pm_http_route_check (device_routes, G_N_ELEMENTS (device_routes), msg,
                            PM_LIMIT_BODY_BYTES))
    return;

  if (strcmp (path, PATH_WS) == 0)
    {
      if (!soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error))
        {
          pm_http_reply_error (msg, SOUP_STATUS_BAD_REQUEST,
                               "not a WebSocket handshake: %s", error->message);
          return;
        }
      /* The connection lives on as the WebSocket.  pm_http_prepare_reply()
       * set `Connection: close`; libsoup 3.2.3 would keep that header next
       * to its own `Connection: Upgrade` in the 101, and then close the
       * connection after the 101 as asked, killing the WebSocket. */
      soup_message_headers_remove (soup_server_message_get_response_headers (msg),
                                   "Connection");
    }
}

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  PmDevice *self = PM_DEVICE (user_data);

  if (is_simulated (self))
    {
      PmFirmwareHost host;

      fill_host (self, &host);
      pm_firmware_api_handle (&host, msg, path, query);
      return;
    }

  /* A restart may have begun while this request's body arrived. */
  if (self->restarting)
    {
      reply_unavailable (self, msg);
      return;
    }

  if (strcmp (path, PATH_INFO) == 0)
    {
      pm_http_reply_json (msg, SOUP_STATUS_OK, pm_device_dup_info (self));
    }
  else if (strcmp (path, PATH_SYSTEM) == 0)
    {
      g_autoptr(GBytes) body = pm_http_get_body (msg);
      g_autoptr(GError) error = NULL;
      gsize length;
      const char *data = g_bytes_get_data (body, &length);

      if (!pm_device_update (self, data != NULL ? data : "", length, &error))
        {
          guint status = g_error_matches (error, PM_ERROR, PM_ERROR_TOO_LARGE)
                           ? SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE
                           : SOUP_STATUS_BAD_REQUEST;

          g_debug ("%s: PATCH refused: %s", self->hostname, error->message);
          pm_http_reply_error (msg, status, "%s", error->message);
          return;
        }
      pm_http_reply_static (msg, SOUP_STATUS_OK, "application/json", PATCH_REPLY);
    }
  else if (strcmp (path, PATH_RESTART) == 0)
    {
      pm_device_restart (self, NULL);
      pm_http_reply_static (msg, SOUP_STATUS_OK, "text/html", RESTART_REPLY);
    }
  else
    {
      /* The early handler lets only known paths through. */
      pm_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "no such endpoint: %s", path);
    }
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
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESTARTING]);

  return G_SOURCE_REMOVE;
}

/* The firmware is up again: the port is opened and the miner boots. */
static gboolean
on_firmware_up (gpointer user_data)
{
  PmDevice *self = PM_DEVICE (user_data);
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->restart_source, g_source_unref);
  self->restarting = FALSE;
  self->listener = pm_acceptor_listen (self->acceptor, self->server, self->bind_address,
                                       self->port, PM_LIMIT_BODY_BYTES, &error);
  if (self->listener == NULL)
    {
      /* Someone took the port meanwhile: the device stays off the network. */
      g_warning ("%s: could not come back after its restart: %s", self->hostname, error->message);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESTARTING]);
      return G_SOURCE_REMOVE;
    }
  self->start_time_ms = g_get_real_time () / 1000;
  self->start_mono_us = g_get_monotonic_time ();
  pm_sim_reboot (self->sim, self->start_mono_us);
  g_message ("%s: System has restarted and is available again.", self->hostname);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_START_TIME]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LISTENING]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESTARTING]);
  return G_SOURCE_REMOVE;
}

/* esp_restart(): every connection dies without a word, WebSockets
 * included, and the port refuses connections until the device is up. */
static gboolean
on_firmware_down (gpointer user_data)
{
  PmDevice *self = PM_DEVICE (user_data);

  close_websockets (self, FALSE);
  if (self->listener != NULL)
    {
      pm_acceptor_close (self->acceptor, self->listener);
      g_clear_object (&self->listener);
    }
  soup_server_disconnect (self->server);
  g_message ("%s: rebooting; off the network for %u s", self->hostname,
             (self->restart_ms + 999) / 1000);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LISTENING]);
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
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESTARTING]);
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
 * Returns: %FALSE with %PM_ERROR_RESTARTING if it is restarting already
 */
gboolean
pm_device_restart (PmDevice *self,
                   GError  **error)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);

  if (self->restarting)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_RESTARTING,
                   "%s is restarting already", self->hostname);
      return FALSE;
    }

  if (is_simulated (self))
    {
      restart_firmware (self);
      return TRUE;
    }

  self->restarting = TRUE;
  schedule_restart_step (self, self->restart_ms, on_restart_done);
  g_message ("%s: restarting; unavailable for %u s", self->hostname,
             (self->restart_ms + 999) / 1000);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESTARTING]);
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
  guint64 uptime;

  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);
  g_return_val_if_fail (self->rand != NULL, NULL);

  if (is_simulated (self))
    {
      GString *out = g_string_sized_new (4096);
      PmFirmwareView view;

      pm_sim_catch_up (self->sim, g_get_monotonic_time ());
      pm_sim_get_view (self->sim, self->firmware,
                       self->bind_address != NULL ? self->bind_address : "127.0.0.1", &view);
      if (self->profile->family == PM_PROFILE_FAMILY_NERDQAXE)
        pm_nerdqaxe_write_info (out, &view);
      else
        pm_axeos_write_info (out, &view, TRUE);
      return g_string_free (out, FALSE);
    }

  uptime = (guint64) MAX (0, g_get_monotonic_time () - self->start_mono_us) / G_USEC_PER_SEC;
  /* With --telemetry simulated, a Pluto shape carries the miner's numbers. */
  if (self->sim != NULL)
    pm_sim_catch_up (self->sim, g_get_monotonic_time ());
  return pm_system_info_generate_full (self->rand,
                                       self->sim != NULL ? pm_miner_get_state (pm_sim_get_miner (self->sim)) : NULL,
                                       self->api_version, self->hostname, self->firmware, uptime,
                                       g_get_real_time () / 1000, self->overrides);
}

/* The number @name of @update holds, if it is one from 1 to 65535, as
 * the firmware accepts for a frequency or a voltage. */
static gboolean
setting_number (JsonObject *update,
                const char *name,
                double     *out)
{
  JsonNode *node = json_object_get_member (update, name);
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return FALSE;
  *out = json_node_get_double (node);
  return *out >= 1 && *out <= 65535;
}

/* With simulated telemetry, the numbers a Pluto PATCH sets that a miner
 * acts on drive the simulated miner too, so what follows fits them. */
static void
steer_miner (PmDevice   *self,
             JsonObject *update)
{
  PmMiner *miner = pm_sim_get_miner (self->sim);
  double value;

  pm_sim_catch_up (self->sim, g_get_monotonic_time ());
  if (setting_number (update, "frequency", &value))
    pm_miner_set_frequency (miner, value);
  if (setting_number (update, "coreVoltage", &value))
    pm_miner_set_core_voltage (miner, (guint) value);
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
  g_autoptr(JsonObject) update = NULL;

  g_return_val_if_fail (PM_IS_DEVICE (self), FALSE);

  if (self->restarting)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_RESTARTING,
                   "%s is restarting", self->hostname);
      return FALSE;
    }

  if (is_simulated (self))
    {
      g_autoptr(JsonNode) root = pm_update_parse_node (data, length, error);
      g_autoptr(GError) local_error = NULL;
      gint64 now = g_get_monotonic_time ();
      gboolean renamed = FALSE;

      if (root == NULL)
        return FALSE;
      /* Old settings up to now, the new ones from now (see handle_patch()
       * in pm-firmware-api.c). */
      pm_sim_catch_up (self->sim, now);
      if (!pm_settings_patch (pm_sim_get_settings (self->sim),
                              self->profile->family == PM_PROFILE_FAMILY_NERDQAXE
                                ? PM_SETTINGS_STYLE_NERDQAXE : PM_SETTINGS_STYLE_AXEOS,
                              root, &renamed, &local_error))
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "the firmware refuses the update: %s", local_error->message);
          return FALSE;
        }
      pm_sim_apply_settings (self->sim);
      pm_sim_catch_up (self->sim, now);
      if (renamed)
        on_renamed (self);
      return TRUE;
    }

  update = pm_update_parse (data, length, error);
  if (update == NULL)
    return FALSE;

  if (!pm_overrides_update (self->overrides, update, error))
    return FALSE;
  g_debug ("%s: %u override(s) stored", self->hostname,
           pm_overrides_get_size (self->overrides));
  if (self->sim != NULL)
    steer_miner (self, update);
  return TRUE;
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
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PORT]);
    }

  if (self->rand == NULL)
    self->rand = pm_rand_new_for_port (self->seed, self->port);
  if (self->sim == NULL && (is_simulated (self) || self->simulated_telemetry))
    self->sim = pm_sim_new (self->profile, self->hostname, self->seed, self->port,
                            g_get_monotonic_time ());
  pm_log_stream_set_rand (self->logs, self->rand);
  if (self->firmware == NULL)
    {
      self->firmware = g_strdup (pm_firmware_draw (self->rand));
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_FIRMWARE]);
    }

  g_free (self->bind_address);
  self->bind_address = g_strdup (bind_address);
  self->listener = g_steal_pointer (&listener);
  self->start_time_ms = g_get_real_time () / 1000;
  self->start_mono_us = g_get_monotonic_time ();

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_START_TIME]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LISTENING]);
  return TRUE;
}

/* Closes everything; notifies the properties that change unless the
 * device is being disposed. */
static void
shut_down (PmDevice *self,
           gboolean  notify)
{
  close_websockets (self, TRUE);
  if (self->restart_source != NULL)
    {
      g_source_destroy (self->restart_source);
      g_clear_pointer (&self->restart_source, g_source_unref);
      self->restarting = FALSE;
      if (notify)
        g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESTARTING]);
    }
  if (self->listener != NULL)
    {
      pm_acceptor_close (self->acceptor, self->listener);
      g_clear_object (&self->listener);
      if (notify)
        g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LISTENING]);
    }
  if (self->server != NULL)
    soup_server_disconnect (self->server);
}

/**
 * pm_device_stop:
 * @self: a #PmDevice
 *
 * Closes the device's port, its HTTP connections and its WebSockets.
 */
void
pm_device_stop (PmDevice *self)
{
  g_return_if_fail (PM_IS_DEVICE (self));

  shut_down (self, TRUE);
}

static void
pm_device_constructed (GObject *object)
{
  PmDevice *self = PM_DEVICE (object);

  G_OBJECT_CLASS (pm_device_parent_class)->constructed (object);

  g_assert (self->acceptor != NULL);
  if (self->profile_name != NULL)
    {
      self->profile = pm_profile_lookup (self->profile_name);
      g_return_if_fail (self->profile != NULL);
      self->api_version = self->profile->api_version;
    }
  else
    {
      self->profile = pm_profile_for_api_version (self->api_version);
    }
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

  switch (self->profile->family)
    {
    case PM_PROFILE_FAMILY_AXEOS:
      self->logs = pm_log_stream_new (PM_LOG_STYLE_AXEOS, self->hostname, NULL);
      self->live = pm_live_stream_new (self->hostname, live_state, self, NULL);
      break;
    case PM_PROFILE_FAMILY_NERDQAXE:
      self->logs = pm_log_stream_new (PM_LOG_STYLE_NERDQAXE, self->hostname, NULL);
      break;
    case PM_PROFILE_FAMILY_PLUTO:
    default:
      self->logs = pm_log_stream_new (PM_LOG_STYLE_PLUTO, self->hostname, NULL);
      pm_log_stream_set_interval (self->logs, self->log_interval_ms);
      break;
    }

  if (self->live != NULL)
    {
      soup_server_add_early_handler (self->server, PM_FIRMWARE_PATH_WS_LIVE, on_early_request,
                                     self, NULL);
      soup_server_add_websocket_handler (self->server, PM_FIRMWARE_PATH_WS_LIVE, NULL, NULL,
                                         on_live_websocket, self, NULL);
    }
  /* Real firmware always streams its log; the original mock only when
   * asked to. */
  if (self->logs_enabled || is_simulated (self))
    {
      /* libsoup runs the early handler of the most specific path only,
       * and the WebSocket handler below makes /api/ws a path of its own:
       * without this second registration a restarting device would
       * upgrade log clients, and the route checks would be skipped. */
      soup_server_add_early_handler (self->server, PATH_WS, on_early_request, self, NULL);
      soup_server_add_websocket_handler (self->server, PATH_WS, NULL, NULL,
                                         on_websocket, self, NULL);
    }
}

static void
pm_device_dispose (GObject *object)
{
  PmDevice *self = PM_DEVICE (object);

  if (self->logs != NULL)
    shut_down (self, FALSE);
  g_clear_object (&self->logs);
  g_clear_object (&self->live);
  g_clear_object (&self->server);
  g_clear_object (&self->acceptor);

  G_OBJECT_CLASS (pm_device_parent_class)->dispose (object);
}

static void
pm_device_finalize (GObject *object)
{
  PmDevice *self = PM_DEVICE (object);

  g_clear_pointer (&self->hostname, g_free);
  g_clear_pointer (&self->profile_name, g_free);
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
    case PROP_API_VERSION:
      g_value_set_enum (value, self->api_version);
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
    case PROP_API_VERSION:
      self->api_version = g_value_get_enum (value);
      break;
    case PROP_PROFILE:
      self->profile_name = g_value_dup_string (value);
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

  props[PROP_ACCEPTOR] =
    g_param_spec_object ("acceptor", NULL, NULL, PM_TYPE_ACCEPTOR, construct);
  /**
   * PmDevice:port:
   *
   * The TCP port; 0 until started lets the kernel pick one.
   */
  props[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, 65535, 0, construct);
  props[PROP_HOSTNAME] =
    g_param_spec_string ("hostname", NULL, NULL, NULL, construct);
  props[PROP_API_VERSION] =
    g_param_spec_enum ("api-version", NULL, NULL, PM_TYPE_API_VERSION,
                       PM_API_VERSION_LEGACY, construct);
  /**
   * PmDevice:profile:
   *
   * The name of the device's profile (see #PmProfile); %NULL at
   * construction means the Pluto profile of #PmDevice:api-version.
   */
  props[PROP_PROFILE] =
    g_param_spec_string ("profile", NULL, NULL, NULL, construct);
  /**
   * PmDevice:network-gate:
   *
   * Whether an AxeOS or NerdQAxe device refuses API requests from
   * outside private networks (loopback included) with 401, as the
   * firmware does.
   */
  props[PROP_NETWORK_GATE] =
    g_param_spec_boolean ("network-gate", NULL, NULL, FALSE, construct);
  /**
   * PmDevice:simulated-telemetry:
   *
   * Whether a Pluto device draws its numbers from the simulated miner
   * instead of at random.
   */
  props[PROP_SIMULATED_TELEMETRY] =
    g_param_spec_boolean ("simulated-telemetry", NULL, NULL, FALSE, construct);
  /**
   * PmDevice:firmware:
   *
   * The firmware version; %NULL at construction draws one from the
   * distribution when the device starts.
   */
  props[PROP_FIRMWARE] =
    g_param_spec_string ("firmware", NULL, NULL, NULL, construct);
  props[PROP_LOGS_ENABLED] =
    g_param_spec_boolean ("logs-enabled", NULL, NULL, FALSE, construct);
  props[PROP_SEED] =
    g_param_spec_uint64 ("seed", NULL, NULL, 0, G_MAXUINT64, 0, construct);
  /**
   * PmDevice:log-interval:
   *
   * The period of the fake log stream in milliseconds.  For tests; the
   * daemon always uses %PM_DEVICE_LOG_INTERVAL_MS.
   */
  props[PROP_LOG_INTERVAL] =
    g_param_spec_uint ("log-interval", NULL, NULL, 1, G_MAXUINT,
                       PM_DEVICE_LOG_INTERVAL_MS, construct);
  /**
   * PmDevice:restart-window:
   *
   * How long a restart keeps the device answering 503, in milliseconds.
   * For tests; the daemon always uses %PM_DEVICE_RESTART_MS.
   */
  props[PROP_RESTART_WINDOW] =
    g_param_spec_uint ("restart-window", NULL, NULL, 1, G_MAXINT,
                       PM_DEVICE_RESTART_MS, construct);
  props[PROP_START_TIME] =
    g_param_spec_int64 ("start-time", NULL, NULL, 0, G_MAXINT64, 0, readonly);
  props[PROP_LISTENING] =
    g_param_spec_boolean ("listening", NULL, NULL, FALSE, readonly);
  props[PROP_RESTARTING] =
    g_param_spec_boolean ("restarting", NULL, NULL, FALSE, readonly);

  g_object_class_install_properties (object_class, G_N_ELEMENTS (props), props);
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

PmApiVersion
pm_device_get_api_version (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), PM_API_VERSION_LEGACY);
  return self->api_version;
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
  return pm_log_stream_get_n_clients (self->logs);
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
  return self->logs;
}

/**
 * pm_device_dup_url:
 * @self: a listening #PmDevice
 *
 * Returns: (transfer full): the device's base URL, e.g. `http://127.0.0.1:7751`
 */
char *
pm_device_dup_url (PmDevice *self)
{
  g_return_val_if_fail (PM_IS_DEVICE (self), NULL);

  if (self->bind_address == NULL)
    return NULL;
  if (strchr (self->bind_address, ':') != NULL)
    return g_strdup_printf ("http://[%s]:%u", self->bind_address, self->port);
  return g_strdup_printf ("http://%s:%u", self->bind_address, self->port);
}
