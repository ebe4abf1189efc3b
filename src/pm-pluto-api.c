/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-pluto-api"

#include "config.h"

#include <string.h>

#include "pm-error.h"
#include "pm-generator.h"
#include "pm-http.h"
#include "pm-limits.h"
#include "pm-pluto-api.h"

/*
 * The HTTP API of the original Pluto mock, which the pluto-* profiles
 * serve: three endpoints and the log WebSocket, JSON errors, and the 503
 * window of its restart.
 */

#define RESTART_REPLY "<html><body><h1>System will restart shortly.</h1></body></html>"
#define UNAVAILABLE_REPLY "<html><body><h1>Server is temporarily unavailable. Please try again later.</h1></body></html>"
#define PATCH_REPLY "{\"message\":\"System info updated successfully\"}"

#define PATH_INFO "/api/system/info"
#define PATH_SYSTEM "/api/system"
#define PATH_RESTART "/api/system/restart"

static const PmRoute routes[] = {
  { PATH_INFO, "GET, HEAD" },
  { PATH_SYSTEM, "PATCH" },
  { PATH_RESTART, "POST" },
  { PM_PLUTO_PATH_WS, "GET" },
};

/* The 503 of a restarting device, with how long is left. */
static void
reply_unavailable (const PmApiHost   *host,
                   SoupServerMessage *msg)
{
  g_autofree char *retry = NULL;

  retry = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (1, (host->restart_left_us + 999999) / 1000000));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Retry-After", retry);
  /* A restarting device keeps no connection open. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Connection", "close");
  pm_http_reply_static (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/html", UNAVAILABLE_REPLY);
}

/**
 * pm_pluto_api_dup_info:
 * @host: the device
 *
 * Returns: (transfer full): what `GET /api/system/info` answers now:
 *   random values in the device's shape, or with `--telemetry simulated`
 *   the miner's, and the stored overrides laid over them
 */
char *
pm_pluto_api_dup_info (const PmApiHost *host)
{
  const PmMinerState *state = NULL;

  if (host->sim != NULL)
    {
      pm_sim_catch_up (host->sim, g_get_monotonic_time ());
      state = pm_miner_get_state (pm_sim_get_miner (host->sim));
    }
  return pm_system_info_generate_full (host->rand, state, host->profile->api_version,
                                       host->hostname, host->firmware, host->uptime_seconds,
                                       g_get_real_time () / 1000, host->overrides);
}

/**
 * pm_pluto_api_answer:
 * @host: the device
 * @request: a bodiless request on a connection that stays open
 *
 * Answers `GET /api/system/info` without libsoup, with the headers that
 * pm_pluto_api_early() and pm_pluto_api_handle() give it.
 *
 * Returns: (transfer full) (nullable): the reply, or %NULL for libsoup
 */
GBytes *
pm_pluto_api_answer (const PmApiHost         *host,
                     const PmAcceptorRequest *request)
{
  g_autofree char *json = NULL;

  if (host->restarting || !pm_acceptor_request_is (request, "GET", PATH_INFO))
    return NULL;
  json = pm_pluto_api_dup_info (host);
  return pm_http_answer_ok (host->server_header, "Access-Control-Allow-Origin: *\r\n",
                            "application/json", json, strlen (json));
}

/**
 * pm_pluto_api_update:
 * @host: the device
 * @data: a JSON document
 * @length: its length
 * @error: return location for a #PmError
 *
 * Does what `PATCH /api/system` does: merges the members of the JSON
 * object @data into the stored overrides (and with simulated telemetry
 * steers the miner by them).  A rejected document changes nothing.
 */
gboolean
pm_pluto_api_update (const PmApiHost *host,
                     const char      *data,
                     gsize            length,
                     GError         **error)
{
  g_autoptr(JsonObject) update = pm_update_parse (data, length, error);

  if (update == NULL || !pm_overrides_update (host->overrides, update, error))
    return FALSE;
  g_debug ("%s: %u override(s) stored", host->hostname, pm_overrides_get_size (host->overrides));
  if (host->sim != NULL)
    pm_sim_steer (host->sim, update, g_get_monotonic_time ());
  return TRUE;
}

/**
 * pm_pluto_api_early:
 * @host: the device
 * @msg: a message whose headers have arrived
 * @path: its path
 *
 * The 503 of a restart, routes, methods, body limits and the WebSocket
 * handshake, before the body is read.
 */
void
pm_pluto_api_early (const PmApiHost   *host,
                    SoupServerMessage *msg,
                    const char        *path)
{
  g_autoptr(GError) error = NULL;

  pm_http_prepare_reply (msg);
  if (host->restarting)
    {
      reply_unavailable (host, msg);
      return;
    }

  if (strcmp (path, PM_PLUTO_PATH_WS) == 0 && !host->logs_enabled)
    {
      pm_http_reply_error (msg, SOUP_STATUS_NOT_FOUND,
                           "log streaming is off on this device; start plutomock with "
                           "LOGS_PUB_ENABLED=true or --logs to enable it");
      return;
    }

  if (!pm_http_route_check (routes, G_N_ELEMENTS (routes), msg, PM_LIMIT_BODY_BYTES))
    return;

  if (strcmp (path, PM_PLUTO_PATH_WS) == 0)
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

/**
 * pm_pluto_api_handle:
 * @host: the device
 * @msg: a message whose body has arrived
 * @path: its path
 * @query: (nullable): its query
 *
 * Answers as the original service did.
 */
void
pm_pluto_api_handle (const PmApiHost   *host,
                     SoupServerMessage *msg,
                     const char        *path,
                     GHashTable        *query)
{
  /* A restart may have begun while this request's body arrived. */
  if (host->restarting)
    {
      reply_unavailable (host, msg);
      return;
    }

  if (strcmp (path, PATH_INFO) == 0)
    {
      pm_http_reply_json (msg, SOUP_STATUS_OK, pm_pluto_api_dup_info (host));
    }
  else if (strcmp (path, PATH_SYSTEM) == 0)
    {
      g_autoptr(GBytes) body = pm_http_get_body (msg);
      g_autoptr(GError) error = NULL;
      gsize length;
      const char *data = g_bytes_get_data (body, &length);

      if (!pm_pluto_api_update (host, data != NULL ? data : "", length, &error))
        {
          guint status = g_error_matches (error, PM_ERROR, PM_ERROR_TOO_LARGE)
                           ? SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE
                           : SOUP_STATUS_BAD_REQUEST;

          g_debug ("%s: PATCH refused: %s", host->hostname, error->message);
          pm_http_reply_error (msg, status, "%s", error->message);
          return;
        }
      pm_http_reply_static (msg, SOUP_STATUS_OK, "application/json", PATCH_REPLY);
    }
  else if (strcmp (path, PATH_RESTART) == 0)
    {
      host->restart (host->device);
      pm_http_reply_static (msg, SOUP_STATUS_OK, "text/html", RESTART_REPLY);
    }
  else
    {
      /* The early function lets only known paths through. */
      pm_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "no such endpoint: %s", path);
    }
}
