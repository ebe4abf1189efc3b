/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-firmware-api"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pm-firmware-api.h"
#include "pm-http.h"
#include "pm-json-writer.h"
#include "pm-limits.h"
#include "pm-update.h"

/*
 * The HTTP API of real firmware, AxeOS v2.15 and NerdQAxe+, over a
 * simulated device (#PmSim): which routes exist, their replies and
 * error styles, CORS, the network gate.  What a device does beyond one
 * reply (restart, renaming, WebSockets) is the device's: it is asked
 * through #PmApiHost.
 */

#define CORS_METHODS "GET, POST, PUT, PATCH, DELETE, OPTIONS"
#define INDEX_PAGE \
  "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" \
  "<title>AxeOS</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" \
  "</head>\n<body>\n<h1>AxeOS</h1>\n<p>This device is simulated by plutomock. It answers the AxeOS " \
  "API under <a href=\"/api/system/info\">/api/system/info</a>; the AxeOS web interface itself " \
  "is not included.</p>\n</body>\n</html>\n"
#define NERD_INDEX_PAGE \
  "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" \
  "<title>NerdQAxe+ Dashboard</title>\n</head>\n<body>\n<h1>NerdQAxe+</h1>\n<p>This device is " \
  "simulated by plutomock; its API is under <a href=\"/api/system/info\">/api/system/info</a>.</p>\n" \
  "</body>\n</html>\n"
#define RECOVERY_PAGE \
  "<!doctype html>\n<html>\n<head>\n<title>AxeOS Recovery</title>\n</head>\n<body>\n" \
  "<h1>Recovery</h1>\n<p>Upload of firmware is not possible on this simulated device.</p>\n" \
  "</body>\n</html>\n"

typedef enum
{
  ROUTE_INFO,
  ROUTE_PATCH,
  ROUTE_RESTART,
  ROUTE_IDENTIFY,
  ROUTE_ASIC,
  ROUTE_STATISTICS,
  ROUTE_WIFI_SCAN,
  ROUTE_SCOREBOARD,
  ROUTE_LOGS,
  ROUTE_PAUSE,
  ROUTE_RESUME,
  ROUTE_BLOCK_DISMISS,
  ROUTE_POOL_PUT,
  ROUTE_POOL_DELETE,
  ROUTE_BOOT,
  ROUTE_OTA,
  ROUTE_OTA_WWW,
  ROUTE_THEME_GET,
  ROUTE_THEME_POST,
  ROUTE_WS,
  ROUTE_WS_LIVE,
  ROUTE_SHUTDOWN,
} RouteId;

typedef struct
{
  const char *method;
  const char *path;    /* ending in '/' for a path with an index after it */
  RouteId     id;
} Route;

static const Route axeos_routes[] = {
  { "GET", "/api/system/info", ROUTE_INFO },
  { "PATCH", "/api/system", ROUTE_PATCH },
  { "POST", "/api/system/restart", ROUTE_RESTART },
  { "POST", "/api/system/identify", ROUTE_IDENTIFY },
  { "GET", "/api/system/asic", ROUTE_ASIC },
  { "GET", "/api/system/statistics", ROUTE_STATISTICS },
  { "GET", "/api/system/wifi/scan", ROUTE_WIFI_SCAN },
  { "GET", "/api/system/scoreboard", ROUTE_SCOREBOARD },
  { "GET", "/api/system/logs", ROUTE_LOGS },
  { "POST", "/api/system/pause", ROUTE_PAUSE },
  { "POST", "/api/system/resume", ROUTE_RESUME },
  { "POST", "/api/system/blockFound/dismiss", ROUTE_BLOCK_DISMISS },
  { "PUT", "/api/system/pools/", ROUTE_POOL_PUT },
  { "DELETE", "/api/system/pools/", ROUTE_POOL_DELETE },
  { "POST", "/api/system/boot", ROUTE_BOOT },
  { "POST", "/api/system/OTA", ROUTE_OTA },
  { "POST", "/api/system/OTAWWW", ROUTE_OTA_WWW },
  { "GET", "/api/theme", ROUTE_THEME_GET },
  { "POST", "/api/theme", ROUTE_THEME_POST },
  { "GET", PM_FIRMWARE_PATH_WS, ROUTE_WS },
  { "GET", PM_FIRMWARE_PATH_WS_LIVE, ROUTE_WS_LIVE },
};

static const Route nerdqaxe_routes[] = {
  { "GET", "/api/system/info", ROUTE_INFO },
  { "PATCH", "/api/system", ROUTE_PATCH },
  { "POST", "/api/system/restart", ROUTE_RESTART },
  { "GET", "/api/system/asic", ROUTE_ASIC },
  { "POST", "/api/system/shutdown", ROUTE_SHUTDOWN },
  { "POST", "/api/system/OTA", ROUTE_OTA },
  { "POST", "/api/system/OTAWWW", ROUTE_OTA_WWW },
  { "GET", PM_FIRMWARE_PATH_WS, ROUTE_WS },
};

static gboolean
is_nerd (const PmApiHost *host)
{
  return host->profile->family == PM_PROFILE_FAMILY_NERDQAXE;
}

static const Route *
find_route (const PmApiHost   *host,
            const char        *method,
            const char        *path)
{
  const Route *routes = is_nerd (host) ? nerdqaxe_routes : axeos_routes;
  gsize i, n = is_nerd (host) ? G_N_ELEMENTS (nerdqaxe_routes) : G_N_ELEMENTS (axeos_routes);

  for (i = 0; i < n; i++)
    {
      gsize len = strlen (routes[i].path);

      if (strcmp (routes[i].method, method) != 0)
        continue;
      if (routes[i].path[len - 1] == '/' ? strncmp (routes[i].path, path, len) == 0
                                         : strcmp (routes[i].path, path) == 0)
        return &routes[i];
    }
  return NULL;
}

/* ---- replies ------------------------------------------------------------- */

static void
set_cors (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (headers, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (headers, "Access-Control-Allow-Methods", CORS_METHODS);
  soup_message_headers_replace (headers, "Access-Control-Allow-Headers", "Content-Type");
}

static void
reply_take (SoupServerMessage *msg,
            guint              status,
            const char        *content_type,
            GString           *body)
{
  gsize length = body->len;

  soup_server_message_set_status (msg, status, NULL);
  pm_http_set_response (msg, content_type, SOUP_MEMORY_TAKE, g_string_free (body, FALSE), length);
}

static void
reply_static (SoupServerMessage *msg,
              guint              status,
              const char        *content_type,
              const char        *body)
{
  soup_server_message_set_status (msg, status, NULL);
  pm_http_set_response (msg, content_type, SOUP_MEMORY_STATIC, body, strlen (body));
}

/* The ESP-IDF error style: a short text labelled text/html.  @text is
 * copied: it may be an error's message, freed before the reply goes. */
static void
reply_esp_error (SoupServerMessage *msg,
                 guint              status,
                 const char        *text)
{
  soup_server_message_set_status (msg, status, NULL);
  pm_http_set_response (msg, "text/html", SOUP_MEMORY_COPY, text, strlen (text));
}

/* `{"message": ...}`, as most AxeOS actions answer. */
static void
reply_message (SoupServerMessage *msg,
               guint              status,
               const char        *message)
{
  GString *out = g_string_new ("{\"message\":");

  pm_json_append_string (out, message);
  g_string_append_c (out, '}');
  reply_take (msg, status, "application/json", out);
}

/* ---- the network gate ---------------------------------------------------- */

static gboolean
is_private_ipv4 (GInetAddress *address)
{
  const guint8 *b;

  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV4)
    return FALSE;
  b = g_inet_address_to_bytes (address);
  return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168);
}

static gboolean
host_is_private_ipv4 (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  return address != NULL && is_private_ipv4 (address);
}

/**
 * pm_firmware_network_allows:
 * @peer: (nullable): the client's address
 * @origin: (nullable): the request's Origin header
 * @hostname: the device's hostname
 *
 * The firmware's network gate: without an Origin the peer must be in
 * 10/8, 172.16/12 or 192.168/16 (loopback is not); an Origin of
 * `http://<IPv4>` needs that address and the peer's to be private;
 * another `http://` Origin passes if its host ends in `.local`, has no
 * dot, or is the device's own name.
 *
 * Returns: whether the request may pass
 */
gboolean
pm_firmware_network_allows (GSocketAddress *peer,
                            const char     *origin,
                            const char     *hostname)
{
  gboolean peer_private = G_IS_INET_SOCKET_ADDRESS (peer) &&
    is_private_ipv4 (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (peer)));
  g_autofree char *host = NULL;
  const char *start, *end;

  if (origin == NULL)
    return peer_private;
  if (!g_str_has_prefix (origin, "http://"))
    return FALSE;
  start = origin + strlen ("http://");
  end = start + strcspn (start, ":/");
  host = g_ascii_strdown (start, end - start);
  if (host_is_private_ipv4 (host))
    return peer_private;
  if (g_str_has_suffix (host, ".local") || strchr (host, '.') == NULL)
    return TRUE;
  if (g_ascii_strcasecmp (host, hostname) == 0)
    return TRUE;
  return FALSE;
}

/* ---- early checks -------------------------------------------------------- */

static gboolean
is_upgrade (SoupServerMessage *msg)
{
  return soup_message_headers_header_contains (soup_server_message_get_request_headers (msg),
                                               "Upgrade", "websocket");
}

/* What pm_firmware_api_early() decides; returns whether the request goes
 * on to pm_firmware_api_handle() (or to the WebSocket handshake). */
static gboolean
screen_request (const PmApiHost   *host,
                SoupServerMessage *msg,
                const char        *path)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const Route *route;

  pm_http_prepare_connection (msg);
  /* NerdQAxe+ closes every connection after its reply. */
  if (is_nerd (host))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Connection", "close");

  if (!g_str_has_prefix (path, "/api/") && strcmp (path, "/api") != 0)
    {
      pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);
      if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
        {
          reply_esp_error (msg, SOUP_STATUS_NOT_FOUND, "This URI does not exist");
          return FALSE;
        }
      if (strcmp (path, "/") == 0 || strcmp (path, "/index.html") == 0)
        return TRUE;
      if (!is_nerd (host) && strcmp (path, "/recovery") == 0)
        return TRUE;
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Location", "/");
      reply_static (msg, SOUP_STATUS_FOUND, "text/plain", "Redirect to the captive portal");
      return FALSE;
    }

  if (host->network_gate &&
      !pm_firmware_network_allows (soup_server_message_get_remote_address (msg),
                                   soup_message_headers_get_one (request, "Origin"),
                                   host->hostname))
    {
      pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);
      reply_esp_error (msg, SOUP_STATUS_UNAUTHORIZED, "Unauthorized");
      return FALSE;
    }

  if (strcmp (method, "OPTIONS") == 0)
    {
      pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);
      set_cors (msg);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      return FALSE;
    }

  route = find_route (host, method, path);
  if (route == NULL)
    {
      pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);
      if (is_nerd (host))
        {
          reply_esp_error (msg, SOUP_STATUS_NOT_FOUND, "This URI does not exist");
        }
      else
        {
          set_cors (msg);
          reply_static (msg, SOUP_STATUS_NOT_FOUND, "application/json",
                        "{\"error\":\"unknown route\"}");
        }
      return FALSE;
    }

  switch (route->id)
    {
    case ROUTE_WS:
    case ROUTE_WS_LIVE:
      {
        g_autoptr(GError) error = NULL;

        pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);
        if (!is_upgrade (msg) ||
            !soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &error))
          {
            reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, "Bad Request");
            return FALSE;
          }
        if (host->n_websockets >= PM_FIRMWARE_MAX_WEBSOCKETS)
          {
            reply_esp_error (msg, 429, "Max WebSocket clients reached");
            return FALSE;
          }
        /* The connection lives on as the WebSocket: see the note in
         * pm-device.c about libsoup and `Connection: close` on a 101. */
        soup_message_headers_remove (soup_server_message_get_response_headers (msg),
                                     "Connection");
        return TRUE;
      }

    case ROUTE_OTA:
    case ROUTE_OTA_WWW:
      /* A simulated device takes no firmware: refused before the upload
       * is read, as a device whose flash write fails. */
      pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
      set_cors (msg);
      reply_message (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                     route->id == ROUTE_OTA ? "Validation / Activation Error" : "Write Error");
      return FALSE;

    case ROUTE_PATCH:
    case ROUTE_POOL_PUT:
    case ROUTE_THEME_POST:
    case ROUTE_BOOT:
      if (soup_message_headers_get_encoding (request) == SOUP_ENCODING_CONTENT_LENGTH &&
          soup_message_headers_get_content_length (request) >= PM_FIRMWARE_PATCH_LIMIT)
        {
          pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);
          set_cors (msg);
          reply_esp_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "content too long");
          return FALSE;
        }
      return pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);

    case ROUTE_INFO:
    case ROUTE_RESTART:
    case ROUTE_IDENTIFY:
    case ROUTE_ASIC:
    case ROUTE_STATISTICS:
    case ROUTE_WIFI_SCAN:
    case ROUTE_SCOREBOARD:
    case ROUTE_LOGS:
    case ROUTE_PAUSE:
    case ROUTE_RESUME:
    case ROUTE_BLOCK_DISMISS:
    case ROUTE_POOL_DELETE:
    case ROUTE_THEME_GET:
    case ROUTE_SHUTDOWN:
    default:
      return pm_http_limit_body (msg, PM_LIMIT_BODY_BYTES);
    }
}

/**
 * pm_firmware_api_early:
 * @host: the device
 * @msg: a message whose headers have arrived
 * @path: its path
 *
 * Everything decided before the body is read: the gate, preflight,
 * unknown routes, non-API paths, WebSocket limits and body limits.  A
 * request that goes no further has its reply set; the others go on to
 * pm_firmware_api_handle() or to the WebSocket handshake.
 */
void
pm_firmware_api_early (const PmApiHost   *host,
                       SoupServerMessage *msg,
                       const char        *path)
{
  screen_request (host, msg, path);
}

/* ---- handlers ------------------------------------------------------------ */

/* What an info document is written into: AxeOS documents are 4.0 to
 * 4.3 kB, so a buffer of 4096 bytes grew, and was copied, once a reply. */
#define PM_FIRMWARE_INFO_BUFFER 8192

/* An address as text, long enough for any IPv6 address. */
typedef char AddressText[64];

/* Brings the device to now and fills @view; the device reports the
 * address it was reached on as its own, written into @ipv4. */
static void
current_view (const PmApiHost *host,
              GSocketAddress  *local,
              PmFirmwareView  *view,
              AddressText      ipv4)
{
  GInetAddress *address = G_IS_INET_SOCKET_ADDRESS (local)
                            ? g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local))
                            : NULL;

  if (address != NULL && g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    {
      /* Written from its four bytes: this runs on every info request. */
      const guint8 *bytes = g_inet_address_to_bytes (address);
      char *p = ipv4;
      guint i;

      for (i = 0; i < 4; i++)
        {
          guint b = bytes[i];

          if (b >= 100)
            *p++ = (char) ('0' + b / 100);
          if (b >= 10)
            *p++ = (char) ('0' + b / 10 % 10);
          *p++ = (char) ('0' + b % 10);
          *p++ = i < 3 ? '.' : '\0';
        }
    }
  else
    {
      g_autofree char *text = address != NULL ? g_inet_address_to_string (address) : NULL;

      g_strlcpy (ipv4, text != NULL ? text : "127.0.0.1", sizeof (AddressText));
    }

  pm_sim_catch_up (host->sim, g_get_monotonic_time ());
  pm_sim_get_view (host->sim, host->firmware, ipv4, view);
}

static gboolean
body_too_long (SoupServerMessage *msg)
{
  return pm_http_get_body_length (msg) >= PM_FIRMWARE_PATCH_LIMIT;
}

/* Parses a request body as the firmware's cJSON would accept it. */
static JsonNode *
parse_body (SoupServerMessage *msg)
{
  g_autoptr(GBytes) body = pm_http_get_body (msg);
  gsize length;
  const char *data = g_bytes_get_data (body, &length);

  return pm_update_parse_node (data != NULL ? data : "", length, NULL);
}

static void
handle_patch (const PmApiHost   *host,
              SoupServerMessage *msg)
{
  g_autoptr(JsonNode) root = parse_body (msg);
  g_autoptr(GError) error = NULL;
  PmSettings *settings = pm_sim_get_settings (host->sim);
  gboolean renamed = FALSE;

  if (root == NULL)
    {
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, "Invalid JSON");
      return;
    }
  if (!pm_sim_patch (host->sim, root, g_get_monotonic_time (), &renamed, &error))
    {
      g_debug ("%s: PATCH refused: %s", host->hostname, error->message);
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST,
                       g_error_matches (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_INVALID_JSON)
                         ? "Invalid JSON" : "Wrong API input");
      return;
    }
  if (renamed)
    host->renamed (host->device);

  if (renamed && !is_nerd (host))
    {
      GString *out = g_string_new ("{\"status\":\"success\",\"redirect\":{\"url\":");
      g_autofree char *url = g_strconcat ("http://", settings->hostname, ".local", NULL);

      pm_json_append_string (out, url);
      g_string_append (out, ",\"delay\":2000,\"message\":\"Hostname updated. Redirecting to new address...\"}}");
      reply_take (msg, SOUP_STATUS_OK, "text/html", out);
      return;
    }
  reply_static (msg, SOUP_STATUS_OK, "text/html", "");
}

static void
handle_pool_put (const PmApiHost   *host,
                 SoupServerMessage *msg,
                 const char        *path,
                 gboolean           put)
{
  const char *index_text = path + strlen ("/api/system/pools/");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  char *end = NULL;
  guint64 index = 0;
  gboolean ok;

  if (*index_text >= '0' && *index_text <= '9')
    index = g_ascii_strtoull (index_text, &end, 10);
  if (end == NULL || *end != '\0' || index >= PM_SETTINGS_N_POOLS)
    {
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, "Invalid pool index");
      return;
    }
  /* The old pool served up to now. */
  pm_sim_catch_up (host->sim, g_get_monotonic_time ());
  if (put)
    {
      root = parse_body (msg);
      ok = pm_settings_put_pool (pm_sim_get_settings (host->sim), (guint) index, root, &error);
    }
  else
    {
      ok = pm_settings_delete_pool (pm_sim_get_settings (host->sim), (guint) index, &error);
    }
  if (!ok)
    {
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, error->message);
      return;
    }
  pm_sim_apply_settings (host->sim);
  reply_message (msg, SOUP_STATUS_OK, put ? "Pool updated successfully" : "Pool cleared successfully");
}

static void
handle_theme_post (const PmApiHost   *host,
                   SoupServerMessage *msg)
{
  g_autoptr(JsonNode) root = parse_body (msg);

  if (root == NULL || !pm_settings_set_theme (pm_sim_get_settings (host->sim), root, NULL))
    {
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, "Invalid JSON");
      return;
    }
  reply_static (msg, SOUP_STATUS_OK, "text/html", "{\"status\":\"ok\"}");
}

static void
handle_theme_get (const PmApiHost   *host,
                  SoupServerMessage *msg)
{
  const PmSettings *settings = pm_sim_get_settings (host->sim);
  GString *out = g_string_new ("{\"colorScheme\":");

  pm_json_append_string (out, settings->theme_color_scheme);
  g_string_append (out, ",\"primaryColor\":");
  pm_json_append_string (out, settings->theme_primary_color);
  g_string_append_c (out, '}');
  reply_take (msg, SOUP_STATUS_OK, "application/json", out);
}

static void
handle_boot (const PmApiHost   *host,
             SoupServerMessage *msg)
{
  g_autoptr(JsonNode) root = parse_body (msg);
  JsonNode *label;
  const char *partition;

  if (root == NULL)
    {
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST,
                       pm_http_get_body_length (msg) == 0 ? "Empty request body" : "Invalid JSON");
      return;
    }
  label = JSON_NODE_HOLDS_OBJECT (root) ? json_object_get_member (json_node_get_object (root), "partition")
                                        : NULL;
  if (label == NULL || json_node_get_value_type (label) != G_TYPE_STRING)
    {
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, "Missing partition label");
      return;
    }
  partition = json_node_get_string (label);
  if (strcmp (partition, "ota_0") != 0 && strcmp (partition, "ota_1") != 0 &&
      strcmp (partition, "factory") != 0)
    {
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, "Partition not found");
      return;
    }
  if (strcmp (partition, "ota_0") != 0)
    {
      /* Only the running partition holds a firmware here. */
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, "No valid firmware found on partition");
      return;
    }
  reply_message (msg, SOUP_STATUS_OK, "Booting from ota_0 after restart.");
  host->restart (host->device);
}

typedef struct
{
  SoupServerMessage *msg;     /* (owned) */
  GSource           *source;  /* (owned) */
  gulong             finished_id;
} Scan;

static void
scan_free (Scan *scan)
{
  g_clear_signal_handler (&scan->finished_id, scan->msg);
  g_clear_object (&scan->msg);
  g_source_destroy (scan->source);
  g_source_unref (scan->source);
  g_free (scan);
}

static gboolean
on_scan_done (gpointer user_data)
{
  Scan *scan = user_data;
  static const struct
  {
    const char *ssid;
    int         rssi;
    int         authmode;
  } networks[] = {
    { "plutomock", -42, 3 },
    { "FRITZ!Box 7590 QX", -61, 4 },
    { "Vodafone-5G-2C8A", -70, 3 },
    { "DIRECT-7B-HP OfficeJet", -78, 3 },
    { "Guest", -83, 0 },
  };
  GString *out = g_string_new ("{\"networks\":[");
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (networks); i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, "{\"ssid\":");
      pm_json_append_string (out, networks[i].ssid);
      g_string_append (out, ",\"rssi\":");
      pm_json_append_int (out, networks[i].rssi);
      g_string_append (out, ",\"authmode\":");
      pm_json_append_int (out, networks[i].authmode);
      g_string_append_c (out, '}');
    }
  g_string_append (out, "]}");
  reply_take (scan->msg, SOUP_STATUS_OK, "application/json", out);
  soup_server_message_unpause (scan->msg);
  scan_free (scan);
  return G_SOURCE_REMOVE;
}

static void
on_scan_abandoned (SoupServerMessage *msg,
                   gpointer           user_data)
{
  Scan *scan = user_data;

  scan_free (scan);
}

/* A scan takes seconds on the device; the reply waits on a timer, so
 * other requests and devices go on meanwhile. */
static void
handle_wifi_scan (const PmApiHost   *host,
                  SoupServerMessage *msg)
{
  Scan *scan = g_new0 (Scan, 1);

  scan->msg = g_object_ref (msg);
  scan->source = g_timeout_source_new (PM_FIRMWARE_WIFI_SCAN_MS);
  g_source_set_name (scan->source, "pm-firmware-wifi-scan");
  g_source_set_callback (scan->source, on_scan_done, scan, NULL);
  g_source_attach (scan->source, g_main_context_get_thread_default ());
  scan->finished_id = g_signal_connect (msg, "finished", G_CALLBACK (on_scan_abandoned), scan);
  soup_server_message_pause (msg);
}

static void
handle_info (const PmApiHost   *host,
             SoupServerMessage *msg,
             GHashTable        *query)
{
  GString *out = g_string_sized_new (PM_FIRMWARE_INFO_BUFFER);
  PmFirmwareView view;
  AddressText ipv4;
  guint64 ts_ms, span_ms, cur_ms;
  guint limit;

  current_view (host, soup_server_message_get_local_address (msg), &view, ipv4);
  if (!is_nerd (host))
    pm_axeos_write_info (out, &view, TRUE);
  else if (query != NULL &&
           pm_nerdqaxe_parse_history_query (query, &ts_ms, &limit, &span_ms, &cur_ms))
    pm_nerdqaxe_write_info_with_history (out, &view, pm_sim_get_stats (host->sim), ts_ms, limit,
                                         span_ms, cur_ms);
  else
    pm_nerdqaxe_write_info (out, &view);
  reply_take (msg, SOUP_STATUS_OK, "application/json", out);
}

/**
 * pm_firmware_api_answer:
 * @host: the device
 * @request: a bodiless request on a connection that stays open
 *
 * Answers an AxeOS `GET /api/system/info` without libsoup, as
 * pm_firmware_api_early() and pm_firmware_api_handle() answer it: from a
 * peer the network gate lets through, without an `Origin` (whose checks
 * stay with libsoup's path).  A NerdQAxe+ closes every connection, so
 * its requests all go to libsoup.
 *
 * Returns: (transfer full) (nullable): the reply, or %NULL for libsoup
 */
GBytes *
pm_firmware_api_answer (const PmApiHost         *host,
                        const PmAcceptorRequest *request)
{
  g_autoptr(GString) out = NULL;
  PmFirmwareView view;
  AddressText ipv4;

  if (is_nerd (host) || request->has_origin ||
      !pm_acceptor_request_is (request, "GET", "/api/system/info"))
    return NULL;
  if (host->network_gate && !pm_firmware_network_allows (request->remote, NULL, host->hostname))
    return NULL;

  out = g_string_sized_new (PM_FIRMWARE_INFO_BUFFER);
  current_view (host, request->local, &view, ipv4);
  pm_axeos_write_info (out, &view, TRUE);
  return pm_http_answer_ok (host->server_header,
                            "Access-Control-Allow-Origin: *\r\n"
                            "Access-Control-Allow-Methods: " CORS_METHODS "\r\n"
                            "Access-Control-Allow-Headers: Content-Type\r\n",
                            "application/json", out->str, out->len);
}

/**
 * pm_firmware_api_handle:
 * @host: the device
 * @msg: a message whose body has arrived, past pm_firmware_api_early()
 * @path: its path
 * @query: (nullable): its query
 *
 * Answers the request as the firmware does.
 */
void
pm_firmware_api_handle (const PmApiHost   *host,
                        SoupServerMessage *msg,
                        const char        *path,
                        GHashTable        *query)
{
  const Route *route;
  GString *out;

  if (!g_str_has_prefix (path, "/api/"))
    {
      if (strcmp (path, "/recovery") == 0)
        reply_static (msg, SOUP_STATUS_OK, "text/html", RECOVERY_PAGE);
      else
        reply_static (msg, SOUP_STATUS_OK, "text/html", is_nerd (host) ? NERD_INDEX_PAGE : INDEX_PAGE);
      return;
    }

  route = find_route (host, soup_server_message_get_method (msg), path);
  g_return_if_fail (route != NULL);

  /* Which replies carry CORS headers, as the firmware's handlers set them. */
  if (route->id != ROUTE_WIFI_SCAN && route->id != ROUTE_LOGS)
    set_cors (msg);

  /* A body sent in chunks had no length to refuse early: the limit holds
   * for it all the same. */
  if ((route->id == ROUTE_PATCH || route->id == ROUTE_POOL_PUT ||
       route->id == ROUTE_THEME_POST || route->id == ROUTE_BOOT) &&
      body_too_long (msg))
    {
      reply_esp_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "content too long");
      return;
    }

  switch (route->id)
    {
    case ROUTE_INFO:
      handle_info (host, msg, query);
      break;

    case ROUTE_PATCH:
      handle_patch (host, msg);
      break;

    case ROUTE_RESTART:
      if (is_nerd (host))
        reply_static (msg, SOUP_STATUS_OK, "text/html", "System will restart shortly.");
      else
        reply_message (msg, SOUP_STATUS_OK, "System will restart shortly.");
      host->restart (host->device);
      break;

    case ROUTE_IDENTIFY:
      reply_message (msg, SOUP_STATUS_OK,
                     pm_sim_toggle_identify (host->sim, g_get_monotonic_time ())
                       ? "The device says \"Hi!\" for 30 seconds."
                       : "The device no longer says \"Hi!\".");
      break;

    case ROUTE_ASIC:
      out = g_string_sized_new (512);
      if (is_nerd (host))
        pm_nerdqaxe_write_asic (out, host->profile->board);
      else
        pm_axeos_write_asic (out, host->profile->board);
      reply_take (msg, SOUP_STATUS_OK, "application/json", out);
      break;

    case ROUTE_STATISTICS:
      {
        PmFirmwareView view;
        AddressText ipv4;

        out = g_string_sized_new (1024);
        current_view (host, soup_server_message_get_local_address (msg), &view, ipv4);
        pm_stats_write (pm_sim_get_stats (host->sim), out,
                        query != NULL ? g_hash_table_lookup (query, "columns") : NULL,
                        view.state->ms_since_boot);
        reply_take (msg, SOUP_STATUS_OK, "application/json", out);
        break;
      }

    case ROUTE_SCOREBOARD:
      {
        PmFirmwareView view;
        AddressText ipv4;

        out = g_string_sized_new (2048);
        current_view (host, soup_server_message_get_local_address (msg), &view, ipv4);
        pm_axeos_write_scoreboard (out, view.state);
        reply_take (msg, SOUP_STATUS_OK, "application/json", out);
        break;
      }

    case ROUTE_LOGS:
      out = g_string_sized_new (4096);
      pm_sim_catch_up (host->sim, g_get_monotonic_time ());
      pm_sim_append_log_history (host->sim, out);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Content-Disposition",
                                    "attachment; filename=\"bitaxe-logs.txt\"");
      reply_take (msg, SOUP_STATUS_OK, "text/plain", out);
      break;

    case ROUTE_WIFI_SCAN:
      handle_wifi_scan (host, msg);
      break;

    case ROUTE_PAUSE:
    case ROUTE_RESUME:
      pm_sim_catch_up (host->sim, g_get_monotonic_time ());
      pm_miner_set_paused (pm_sim_get_miner (host->sim), route->id == ROUTE_PAUSE);
      reply_message (msg, SOUP_STATUS_OK, route->id == ROUTE_PAUSE ? "Mining paused" : "Mining resumed");
      break;

    case ROUTE_SHUTDOWN:
      pm_sim_catch_up (host->sim, g_get_monotonic_time ());
      pm_miner_set_paused (pm_sim_get_miner (host->sim), TRUE);
      reply_static (msg, SOUP_STATUS_OK, "text/html", "");
      break;

    case ROUTE_BLOCK_DISMISS:
      out = g_string_new ("{\"blockFound\":");
      pm_json_append_int (out, 0);
      g_string_append (out, ",\"showNewBlock\":false,\"message\":\"Block found notification dismissed\"}");
      reply_take (msg, SOUP_STATUS_OK, "application/json", out);
      break;

    case ROUTE_POOL_PUT:
    case ROUTE_POOL_DELETE:
      handle_pool_put (host, msg, path, route->id == ROUTE_POOL_PUT);
      break;

    case ROUTE_BOOT:
      handle_boot (host, msg);
      break;

    case ROUTE_THEME_GET:
      handle_theme_get (host, msg);
      break;

    case ROUTE_THEME_POST:
      handle_theme_post (host, msg);
      break;

    case ROUTE_OTA:
    case ROUTE_OTA_WWW:
    case ROUTE_WS:
    case ROUTE_WS_LIVE:
    default:
      /* Answered early, or upgraded. */
      reply_esp_error (msg, SOUP_STATUS_BAD_REQUEST, "Bad Request");
      break;
    }
}
