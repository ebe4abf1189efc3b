/* SPDX-License-Identifier: MIT */
#pragma once

#include <libsoup/soup.h>

#include "pm-api-host.h"

G_BEGIN_DECLS

/* At most this many WebSocket clients per device, /api/ws and
 * /api/ws/live together, as AxeOS allows. */
#define PM_FIRMWARE_MAX_WEBSOCKETS 10

/* AxeOS refuses a PATCH body of this size or more. */
#define PM_FIRMWARE_PATCH_LIMIT 10240

/* How long a Wi-Fi scan takes, in milliseconds. */
#define PM_FIRMWARE_WIFI_SCAN_MS 2000

#define PM_FIRMWARE_PATH_WS "/api/ws"
#define PM_FIRMWARE_PATH_WS_LIVE "/api/ws/live"


void     pm_firmware_api_early (const PmApiHost   *host,
                                SoupServerMessage *msg,
                                const char        *path);
GBytes  *pm_firmware_api_answer (const PmApiHost         *host,
                                 const PmAcceptorRequest *request);
void     pm_firmware_api_handle (const PmApiHost   *host,
                                 SoupServerMessage *msg,
                                 const char        *path,
                                 GHashTable        *query);

gboolean pm_firmware_network_allows (GSocketAddress *peer,
                                     const char     *origin,
                                     const char     *hostname);

G_END_DECLS
