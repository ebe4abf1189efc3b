/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-listing-server"

#include "config.h"

#include <string.h>

#include "pm-device.h"
#include "pm-fleet-page.h"
#include "pm-http.h"
#include "pm-json-writer.h"
#include "pm-limits.h"
#include "pm-listing-server.h"

/**
 * PmListingServer:
 *
 * The discovery endpoint: `GET /servers` names every device that is
 * listening, in fleet order, as Pluto's discovery service expects.  It
 * reads the fleet from a #GListModel of #PmDevice, so devices added or
 * removed at run time show at once.
 */

#define PATH_SERVERS "/servers"

/* The largest request body the listing server reads; it needs none. */

static const PmRoute listing_routes[] = {
  { PATH_SERVERS, "GET, HEAD" },
};

struct _PmListingServer
{
  GObject     parent_instance;

  PmAcceptor *acceptor;  /* (owned) */
  GListModel *devices;   /* (owned) (element-type PmDevice) */
  SoupServer *server;    /* (owned) */
  GSocket    *listener;  /* (owned) (nullable) */
  PmListingMount mount;          /* what is mounted, if mount.prefix != NULL */
  gpointer       mount_data;     /* (owned) */
  GDestroyNotify mount_destroy;
  guint       port;
  GBytes     *servers;   /* (owned) (nullable): the /servers body, until the fleet changes */
  gulong      devices_changed_id;
};

G_DEFINE_FINAL_TYPE (PmListingServer, pm_listing_server, G_TYPE_OBJECT)

typedef enum
{
  PROP_ACCEPTOR = 1,
  PROP_DEVICES,
} PmListingServerProperty;

static GParamSpec *props[PROP_DEVICES + 1] = { NULL, };

/* 2026-11-27T10:30:45.123Z, as JavaScript's Date.toISOString() */
static void
append_iso_time (GString *out,
                 gint64   ms)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (ms / 1000);

  g_string_append_printf (out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
                          g_date_time_get_year (time), g_date_time_get_month (time),
                          g_date_time_get_day_of_month (time), g_date_time_get_hour (time),
                          g_date_time_get_minute (time), g_date_time_get_second (time),
                          (int) (ms % 1000));
}

static GBytes *build_servers (PmListingServer *self);

static void
clear_mount (PmListingServer *self)
{
  if (self->mount_destroy != NULL && self->mount_data != NULL)
    self->mount_destroy (self->mount_data);
  self->mount = (PmListingMount) { NULL, };
  self->mount_data = NULL;
  self->mount_destroy = NULL;
}

/* (transfer none): the body of `GET /servers`, built again only when the
 * fleet changes, or a device's hostname, start time or listening does (a
 * simulated device renamed by PATCH, or rebooting). */
static GBytes *
get_servers (PmListingServer *self)
{
  if (self->servers == NULL)
    self->servers = build_servers (self);
  return self->servers;
}

/**
 * pm_listing_server_dup_servers:
 * @self: a #PmListingServer
 *
 * Returns: (transfer full): the body of `GET /servers`
 */
char *
pm_listing_server_dup_servers (PmListingServer *self)
{
  gsize size;
  const char *data = g_bytes_get_data (get_servers (self), &size);

  return g_strndup (data, size);
}

static void
on_device_changed (PmDevice        *device,
                   GParamSpec      *pspec,
                   PmListingServer *self)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "hostname") || g_str_equal (name, "listening") ||
      g_str_equal (name, "start-time"))
    g_clear_pointer (&self->servers, g_bytes_unref);
}

static void
on_devices_changed (GListModel *devices,
                    guint       position,
                    guint       removed,
                    guint       added,
                    gpointer    user_data)
{
  PmListingServer *self = PM_LISTING_SERVER (user_data);
  guint i;

  g_clear_pointer (&self->servers, g_bytes_unref);
  for (i = position; i < position + added; i++)
    {
      g_autoptr(PmDevice) device = g_list_model_get_item (devices, i);

      /* One handler a device: a fleet may hold thousands. */
      g_signal_connect_object (device, "notify", G_CALLBACK (on_device_changed), self, 0);
    }
}

static GBytes *
build_servers (PmListingServer *self)
{
  GString *out = g_string_sized_new (256);
  g_autofree char *message = g_strdup_printf ("Available servers from listing-server:%u", self->port);
  guint i, n = g_list_model_get_n_items (self->devices);
  gboolean first = TRUE;

  g_string_append (out, "{\"message\":");
  pm_json_append_string (out, message);
  g_string_append (out, ",\"servers\":[");
  for (i = 0; i < n; i++)
    {
      g_autoptr(PmDevice) device = g_list_model_get_item (self->devices, i);

      if (!pm_device_get_listening (device))
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      g_string_append_printf (out, "{\"port\":%u,\"hostname\":", pm_device_get_port (device));
      pm_json_append_string (out, pm_device_get_hostname (device));
      g_string_append (out, ",\"startTime\":");
      append_iso_time (out, pm_device_get_start_time (device));
      g_string_append_c (out, '}');
    }
  g_string_append (out, "]}");

  return g_string_free_to_bytes (out);
}

/* Whether @path is one of the fleet page's files; any other path under
 * `/fleet/` is a 404 as any unknown path. */
static gboolean
is_fleet_page_path (const char *path)
{
  return pm_fleet_page_has (path);
}

/* Whether the mount, if any, answers @path. */
static gboolean
is_mount_path (PmListingServer *self,
               const char      *path)
{
  gsize n;

  if (self->mount.prefix == NULL)
    return FALSE;
  n = strlen (self->mount.prefix);
  return strncmp (path, self->mount.prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void
on_early_request (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  PmListingServer *self = PM_LISTING_SERVER (user_data);

  if (is_mount_path (self, path))
    {
      self->mount.early (self->mount_data, msg, path);
      return;
    }
  pm_http_prepare_reply (msg);
  if (is_fleet_page_path (path))
    {
      /* The page's files are answered to anyone, as /servers is. */
      const PmRoute page = { path, "GET, HEAD" };

      pm_http_route_check (&page, 1, msg, PM_LIMIT_LISTING_BODY_BYTES);
      return;
    }
  pm_http_route_check (listing_routes, G_N_ELEMENTS (listing_routes), msg, PM_LIMIT_LISTING_BODY_BYTES);
}

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  PmListingServer *self = PM_LISTING_SERVER (user_data);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  if (is_mount_path (self, path))
    {
      self->mount.handle (self->mount_data, msg, path);
      return;
    }
  if (pm_fleet_page_serve (msg, path))
    return;

  /* As pm_http_reply_json(), but the reply holds a reference to the body
   * instead of a copy: the body of a large fleet is hundreds of kB, and
   * a change of the fleet replaces it rather than changing it, so a reply
   * still being written keeps the body it started with. */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (headers, "application/json", NULL);
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), get_servers (self));
}

/**
 * pm_listing_server_start:
 * @self: a #PmListingServer
 * @bind_address: the address to listen on
 * @port: the port, or 0 to let the kernel pick one
 * @error: return location for a #GError
 */
gboolean
pm_listing_server_start (PmListingServer *self,
                         const char      *bind_address,
                         guint            port,
                         GError         **error)
{
  g_autoptr(GSocket) listener = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  g_return_val_if_fail (PM_IS_LISTING_SERVER (self), FALSE);
  g_return_val_if_fail (self->listener == NULL, FALSE);

  /* A mount may take larger bodies (control: a scenario's text); the
   * listing's own routes are held to PM_LIMIT_LISTING_BODY_BYTES by the
   * early handler. */
  listener = pm_acceptor_listen (self->acceptor, self->server, bind_address, port,
                                 MAX (self->mount.body_limit, PM_LIMIT_LISTING_BODY_BYTES),
                                 error);
  if (listener == NULL)
    return FALSE;
  local = g_socket_get_local_address (listener, error);
  if (local == NULL)
    {
      pm_acceptor_close (self->acceptor, listener);
      return FALSE;
    }
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  self->listener = g_steal_pointer (&listener);
  g_clear_pointer (&self->servers, g_bytes_unref);  /* its message names the port */
  return TRUE;
}

void
pm_listing_server_stop (PmListingServer *self)
{
  g_return_if_fail (PM_IS_LISTING_SERVER (self));

  if (self->listener != NULL)
    {
      pm_acceptor_close (self->acceptor, self->listener);
      g_clear_object (&self->listener);
    }
  if (self->server != NULL)
    soup_server_disconnect (self->server);
}

/**
 * pm_listing_server_mount:
 * @self: a stopped #PmListingServer
 * @mount: the endpoints; copied, but @mount->prefix must be static
 * @data: (transfer full): passed to @mount's functions
 * @destroy: frees @data when @self is disposed or mounts something else
 *
 * Serves @mount's endpoints besides the listing and the fleet page (the
 * daemon mounts control over HTTP here).
 */
void
pm_listing_server_mount (PmListingServer      *self,
                         const PmListingMount *mount,
                         gpointer              data,
                         GDestroyNotify        destroy)
{
  g_return_if_fail (PM_IS_LISTING_SERVER (self));
  g_return_if_fail (self->listener == NULL);
  g_return_if_fail (mount != NULL && mount->prefix != NULL && mount->prefix[0] == '/');

  clear_mount (self);
  self->mount = *mount;
  self->mount_data = data;
  self->mount_destroy = destroy;
}

/**
 * pm_listing_server_get_port:
 * @self: a #PmListingServer
 *
 * Returns: the port it listens on, or 0 if it never started
 */
guint
pm_listing_server_get_port (PmListingServer *self)
{
  g_return_val_if_fail (PM_IS_LISTING_SERVER (self), 0);
  return self->listener != NULL ? self->port : 0;
}

static void
pm_listing_server_dispose (GObject *object)
{
  PmListingServer *self = PM_LISTING_SERVER (object);

  if (self->acceptor != NULL)
    pm_listing_server_stop (self);
  g_clear_object (&self->server);
  if (self->devices != NULL)
    g_clear_signal_handler (&self->devices_changed_id, self->devices);
  g_clear_object (&self->devices);
  g_clear_object (&self->acceptor);

  G_OBJECT_CLASS (pm_listing_server_parent_class)->dispose (object);
}

static void
pm_listing_server_finalize (GObject *object)
{
  PmListingServer *self = PM_LISTING_SERVER (object);

  g_clear_pointer (&self->servers, g_bytes_unref);
  clear_mount (self);

  G_OBJECT_CLASS (pm_listing_server_parent_class)->finalize (object);
}

static void
pm_listing_server_get_property (GObject    *object,
                                guint       property_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  PmListingServer *self = PM_LISTING_SERVER (object);

  switch ((PmListingServerProperty) property_id)
    {
    case PROP_ACCEPTOR:
      g_value_set_object (value, self->acceptor);
      break;
    case PROP_DEVICES:
      g_value_set_object (value, self->devices);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_listing_server_set_property (GObject      *object,
                                guint         property_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  PmListingServer *self = PM_LISTING_SERVER (object);

  switch ((PmListingServerProperty) property_id)
    {
    case PROP_ACCEPTOR:
      self->acceptor = g_value_dup_object (value);
      break;
    case PROP_DEVICES:
      self->devices = g_value_dup_object (value);
      self->devices_changed_id = g_signal_connect (self->devices, "items-changed",
                                                   G_CALLBACK (on_devices_changed), self);
      /* The devices already there are followed as the ones to come. */
      on_devices_changed (self->devices, 0, 0, g_list_model_get_n_items (self->devices), self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_listing_server_class_init (PmListingServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                            G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = pm_listing_server_dispose;
  object_class->finalize = pm_listing_server_finalize;
  object_class->get_property = pm_listing_server_get_property;
  object_class->set_property = pm_listing_server_set_property;

  props[PROP_ACCEPTOR] =
    g_param_spec_object ("acceptor", NULL, NULL, PM_TYPE_ACCEPTOR, flags);
  /**
   * PmListingServer:devices:
   *
   * The fleet, a #GListModel of #PmDevice in order.
   */
  props[PROP_DEVICES] =
    g_param_spec_object ("devices", NULL, NULL, G_TYPE_LIST_MODEL, flags);
  g_object_class_install_properties (object_class, G_N_ELEMENTS (props), props);
}

static void
pm_listing_server_init (PmListingServer *self)
{
  self->server = soup_server_new ("server-header", PACKAGE_NAME "/" PACKAGE_VERSION " ", NULL);
  soup_server_add_early_handler (self->server, NULL, on_early_request, self, NULL);
  soup_server_add_handler (self->server, NULL, on_request, self, NULL);
}

/**
 * pm_listing_server_new:
 * @acceptor: the acceptor that serves its port
 * @devices: (element-type PmDevice): the fleet, in order
 *
 * Returns: (transfer full): a new, stopped #PmListingServer
 */
PmListingServer *
pm_listing_server_new (PmAcceptor *acceptor,
                       GListModel *devices)
{
  g_return_val_if_fail (PM_IS_ACCEPTOR (acceptor), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (devices), NULL);

  return g_object_new (PM_TYPE_LISTING_SERVER,
                       "acceptor", acceptor,
                       "devices", devices,
                       NULL);
}
