/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

#include "pm-allow.h"
#include "pm-profile.h"
#include "pm-scenario.h"

G_BEGIN_DECLS

#define PM_DEFAULT_LISTING_PORT 7770
#define PM_DEFAULT_FIRST_PORT 7751
#define PM_DEFAULT_LAST_PORT 7760
#define PM_DEFAULT_BIND_ADDRESS "127.0.0.1"

/**
 * PmConfig:
 * @listing_port: the port of the listing server
 * @ports: (element-type guint): the device ports, in order
 * @logs_enabled: whether devices stream fake logs over WebSocket
 * @bind_address: the address servers bind to
 * @seed: the seed of every random value
 * @seed_given: whether @seed was given by the user
 * @dbus_enabled: whether to offer control on the session bus
 * @replace: whether to take the bus name over from another daemon
 * @show_version: whether `--version` was given
 * @scenario: (nullable): the scenario to run from the start, loaded and
 *   checked
 * @control_allow: who may use control over HTTP on the listing port
 *
 * The daemon's start-up configuration: built-in defaults, overridden by
 * the environment, overridden by the command line.
 */
typedef struct
{
  guint     listing_port;
  GArray   *ports;
  gboolean  logs_enabled;
  PmProfileList *profiles;   /* (owned) */
  gboolean  simulated_telemetry;
  gboolean  network_gate;
  char     *bind_address;
  guint64   seed;
  gboolean  seed_given;
  gboolean  dbus_enabled;
  gboolean  replace;
  gboolean  show_version;
  PmScenario *scenario;      /* (owned) (nullable) */
  PmAllowList *control_allow; /* (owned) */
} PmConfig;

PmConfig *pm_config_new (void);
void      pm_config_free (PmConfig *self);
gboolean  pm_config_load (PmConfig           *self,
                          const char *const  *envp,
                          int                *argc,
                          char             ***argv,
                          GError            **error);


G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmConfig, pm_config_free)

G_END_DECLS
