/* SPDX-License-Identifier: MIT */
#pragma once

#include <libsoup/soup.h>

#include "pm-profile.h"
#include "pm-sim.h"

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

/**
 * PmFirmwareHost:
 * @device: the device, passed back to the callbacks
 * @sim: the simulated device
 * @profile: its profile, of the AxeOS or NerdQAxe family
 * @firmware: the version it reports
 * @hostname: its hostname now
 * @network_gate: whether peers outside private networks get 401
 * @n_websockets: how many WebSocket clients it has now
 * @restart: asks the device to restart about 1 s after this reply
 * @renamed: tells the device its settings hold a new hostname
 *
 * What the firmware API needs of the device that serves it.
 */
typedef struct
{
  gpointer         device;
  PmSim           *sim;
  const PmProfile *profile;
  const char      *firmware;
  const char      *hostname;
  gboolean         network_gate;
  guint            n_websockets;
  void           (*restart) (gpointer device);
  void           (*renamed) (gpointer device);
} PmFirmwareHost;

gboolean pm_firmware_api_early (const PmFirmwareHost *host,
                                SoupServerMessage    *msg,
                                const char           *path);
void     pm_firmware_api_handle (const PmFirmwareHost *host,
                                 SoupServerMessage    *msg,
                                 const char           *path,
                                 GHashTable           *query);

gboolean pm_firmware_network_allows (GSocketAddress *peer,
                                     const char     *origin,
                                     const char     *hostname);

G_END_DECLS
