/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib-object.h>
#include <libsoup/soup.h>

#include "pm-live-stream.h"
#include "pm-log-stream.h"
#include "pm-profile.h"
#include "pm-sim.h"

G_BEGIN_DECLS

#define PM_TYPE_STREAMS (pm_streams_get_type ())
G_DECLARE_FINAL_TYPE (PmStreams, pm_streams, PM, STREAMS, GObject)

PmStreams   *pm_streams_new (const PmProfile *profile,
                             const char      *hostname,
                             guint            log_interval_ms,
                             PmLiveStateFunc  live_state,
                             gpointer         user_data);

void         pm_streams_set_sim (PmStreams *self,
                                 PmSim     *sim);
void         pm_streams_set_rand (PmStreams *self,
                                  GRand     *rand);
void         pm_streams_set_hostname (PmStreams  *self,
                                      const char *hostname);
gboolean     pm_streams_has_live (PmStreams *self);
void         pm_streams_set_silent (PmStreams *self,
                                    gboolean   silent);

void         pm_streams_add_log_client (PmStreams               *self,
                                        SoupWebsocketConnection *conn,
                                        SoupServerMessage       *msg);
void         pm_streams_add_live_client (PmStreams               *self,
                                         SoupWebsocketConnection *conn,
                                         SoupServerMessage       *msg);
guint        pm_streams_get_n_clients (PmStreams *self);
PmLogStream *pm_streams_get_log_stream (PmStreams *self);
void         pm_streams_close_all (PmStreams *self,
                                   gboolean   clean);

G_END_DECLS
