/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the files of PmDevice share: its instance structure and
 * properties.  Only pm-device.c and pm-device-faults.c include this.
 */

#include "pm-device.h"
#include "pm-faults.h"
#include "pm-sim.h"
#include "pm-streams.h"

G_BEGIN_DECLS

struct _PmDevice
{
  GObject       parent_instance;

  PmAcceptor   *acceptor;        /* (owned) */
  guint         port;
  char         *hostname;        /* (owned) */
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
  char         *server_header;   /* (owned) what its replies say in Server */
  GSocket      *listener;        /* (owned) (nullable) while not listening */
  char         *bind_address;    /* (owned) (nullable) */
  gboolean      started;         /* between pm_device_start() and pm_device_stop() */
  gint64        start_time_ms;   /* wall clock, ms since the epoch */
  gint64        start_mono_us;   /* monotonic clock */
  PmOverrides  *overrides;       /* (owned) */

  gboolean      restarting;
  GSource      *restart_source;  /* (owned) (nullable) */

  PmStreams    *streams;         /* (owned) */
  PmFaults     *faults;          /* (owned) (nullable) until a fault is set */
  PmSim        *sim;             /* (owned) (nullable) until started; simulated profiles */
};

typedef enum
{
  PROP_ACCEPTOR = 1,
  PROP_PORT,
  PROP_HOSTNAME,
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
  PROP_FAULTS,
} PmDeviceProperty;

extern GParamSpec *pm_device_props[PROP_FAULTS + 1];

gboolean pm_device_is_simulated (PmDevice *self);
gboolean pm_device_open_port (PmDevice *self,
                              GError  **error);
void     pm_device_close_port (PmDevice *self,
                               gboolean  notify);

G_END_DECLS
