/* SPDX-License-Identifier: MIT */
#pragma once

#include <libsoup/soup.h>

#include "pm-acceptor.h"
#include "pm-profile.h"
#include "pm-sim.h"
#include "pm-update.h"

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
 * @rand: a Pluto device's random stream
 * @overrides: what PATCH stored on a Pluto device
 * @uptime_seconds: whole seconds since the device started
 * @server_header: the `Server` header its replies carry
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
  GRand           *rand;
  PmOverrides     *overrides;
  guint64          uptime_seconds;
  const char      *server_header;
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

/**
 * PmApiAnswerFunc:
 * @host: the device
 * @request: a bodiless request on a connection that stays open
 *
 * Answers the few requests a profile answers without libsoup: those
 * that pollers repeat, whose reply depends on nothing but the device.
 * The device asks only while it has no fault.
 *
 * Returns: (transfer full) (nullable): the whole reply, or %NULL for
 *   libsoup to answer
 */
typedef GBytes *(*PmApiAnswerFunc) (const PmApiHost         *host,
                                    const PmAcceptorRequest *request);

G_END_DECLS
