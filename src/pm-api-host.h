/* SPDX-License-Identifier: MIT */
#pragma once

#include <libsoup/soup.h>

#include "pm-profile.h"
#include "pm-sim.h"

G_BEGIN_DECLS

/**
 * PmApiHost:
 * @device: the device, passed back to the callbacks
 * @profile: its profile
 * @hostname: its hostname now
 * @firmware: the version it reports
 * @sim: (nullable): the simulated device behind a firmware profile
 * @logs_enabled: whether a Pluto device streams fake logs
 * @network_gate: whether peers outside private networks get 401
 * @restarting: whether a Pluto device is in its restart window
 * @restart_left_us: how long that window still lasts
 * @n_websockets: how many WebSocket clients it has now
 * @dup_info: what `GET /api/system/info` of a Pluto device answers
 * @update: what `PATCH /api/system` of a Pluto device does
 * @restart: restarts the device as its profile says
 * @renamed: tells the device its settings hold a new hostname
 *
 * What a profile's HTTP API needs of the device that serves it: a view
 * of its state, filled for each request, and the few things it asks the
 * device to do.
 */
typedef struct
{
  gpointer         device;
  const PmProfile *profile;
  const char      *hostname;
  const char      *firmware;
  PmSim           *sim;
  gboolean         logs_enabled;
  gboolean         network_gate;
  gboolean         restarting;
  gint64           restart_left_us;
  guint            n_websockets;
  char          *(*dup_info) (gpointer device);
  gboolean       (*update) (gpointer    device,
                            const char *data,
                            gsize       length,
                            GError    **error);
  void           (*restart) (gpointer device);
  void           (*renamed) (gpointer device);
} PmApiHost;

/**
 * PmApiEarlyFunc:
 * @host: the device
 * @msg: a message whose headers have arrived
 * @path: its path
 *
 * Decides what can be decided before the body is read, and sets the
 * reply if the request goes no further.
 */
typedef void (*PmApiEarlyFunc) (const PmApiHost   *host,
                                SoupServerMessage *msg,
                                const char        *path);

/**
 * PmApiHandleFunc:
 * @host: the device
 * @msg: a message whose body has arrived
 * @path: its path
 * @query: (nullable): its query
 *
 * Answers a request the early function let through.
 */
typedef void (*PmApiHandleFunc) (const PmApiHost   *host,
                                 SoupServerMessage *msg,
                                 const char        *path,
                                 GHashTable        *query);

G_END_DECLS
