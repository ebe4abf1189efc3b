/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * What plutomockctl asks of the daemon, whichever way it reaches it: over
 * D-Bus (ctl-dbus.c) or over HTTP on the listing port (ctl-http.c).
 *
 * A device is a JsonObject, the Device object of the HTTP control API,
 * which is also what 'plutomockctl list --json' prints: "port",
 * "hostname", "profile", "apiVersion", "firmware", "state", "startTime",
 * "url", "faults" and, from the daemon over HTTP, "live".  The daemon's
 * status is the Status object of the same API.
 *
 * Fault parameters and add options are a{sv} dictionaries, as on the bus:
 * the HTTP side writes them as JSON objects.
 *
 * Every failure is a GError: the daemon's own errors come as the PM_ERROR
 * they are (or an error named by the daemon, whose message
 * g_dbus_error_strip_remote_error() leaves), failing to reach the daemon
 * as CTL_ERROR_UNREACHABLE.
 */

#define CTL_ERROR (ctl_error_quark ())
GQuark ctl_error_quark (void);

/**
 * CtlError:
 * @CTL_ERROR_UNREACHABLE: the daemon cannot be reached (no session bus,
 *   nobody on it, nothing on the URL's port)
 * @CTL_ERROR_NO_BUS: the same over D-Bus, and the way over HTTP is worth
 *   a word
 * @CTL_ERROR_PROTOCOL: the other side answered something the client
 *   cannot read
 */
typedef enum
{
  CTL_ERROR_UNREACHABLE,
  CTL_ERROR_NO_BUS,
  CTL_ERROR_PROTOCOL,
} CtlError;

typedef struct _CtlClient      CtlClient;
typedef struct _CtlClientClass CtlClientClass;

struct _CtlClientClass
{
  void        (*free)          (CtlClient *self);

  /* (element-type JsonObject): every device, in port order */
  GPtrArray  *(*list_devices)  (CtlClient  *self,
                                GError    **error);
  /* The device @which names: a port, or a hostname in any case. */
  JsonObject *(*get_device)    (CtlClient  *self,
                                const char *which,
                                GError    **error);
  JsonObject *(*add_device)    (CtlClient  *self,
                                GVariant   *options,
                                GError    **error);
  /* The others take a device that get_device() returned. */
  gboolean    (*remove_device) (CtlClient  *self,
                                JsonObject *device,
                                GError    **error);
  gboolean    (*restart)       (CtlClient  *self,
                                JsonObject *device,
                                GError    **error);
  /* The /api/system/info document, as the daemon wrote it. */
  char       *(*get_info)      (CtlClient  *self,
                                JsonObject *device,
                                GError    **error);
  gboolean    (*update)        (CtlClient  *self,
                                JsonObject *device,
                                const char *json,
                                GError    **error);
  /* @device NULL: every device. */
  gboolean    (*set_fault)     (CtlClient  *self,
                                JsonObject *device,
                                const char *kind,
                                GVariant   *parameters,
                                GError    **error);
  /* @kind NULL: every kind. */
  gboolean    (*clear_fault)   (CtlClient  *self,
                                JsonObject *device,
                                const char *kind,
                                GError    **error);
  JsonObject *(*get_status)    (CtlClient  *self,
                                GError    **error);
  gboolean    (*run_scenario)  (CtlClient  *self,
                                const char *text,
                                GError    **error);
  gboolean    (*stop_scenario) (CtlClient  *self,
                                gboolean   *out_stopped,
                                GError    **error);
};

struct _CtlClient
{
  const CtlClientClass *klass;
};

CtlClient *ctl_dbus_client_new (GError **error);
CtlClient *ctl_http_client_new (const char *base_url);
char      *ctl_http_check_url  (const char *url,
                                GError    **error);

void       ctl_client_free (CtlClient *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlClient, ctl_client_free)

/* Helpers the two sides share. */
JsonObject *ctl_status_new    (const char *version,
                               guint64     seed,
                               guint       listing_port,
                               const char *bind_address,
                               gboolean    logs_enabled,
                               GPtrArray  *devices,
                               gboolean    scenario_running,
                               const char *scenario);
char       *ctl_lowercase_first (const char *message);

G_END_DECLS
