/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "plutomockctl"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "ctl-client.h"
#include "pm-error.h"
#include "pm-quote.h"

/*
 * plutomockctl over HTTP: the control API under /control/v1 on the
 * daemon's listing server, one synchronous request after another on one
 * keep-alive connection.
 */

#define CONTROL_PREFIX "/control/v1"

/* How long a request may take before the client gives up. */
#define REQUEST_TIMEOUT_S 60

typedef struct
{
  CtlClient    parent;
  SoupSession *session;
  char        *base;   /* the listing server's URL, without a trailing '/' */
  char        *shown;  /* the same without user and password, for messages */
} CtlHttpClient;

/* @url without its userinfo: messages do not print a password. */
static char *
dup_shown_url (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  g_autoptr(GUri) bare = NULL;

  if (uri == NULL || g_uri_get_userinfo (uri) == NULL)
    return g_strdup (url);
  bare = g_uri_build (SOUP_HTTP_URI_FLAGS, g_uri_get_scheme (uri), NULL, g_uri_get_host (uri),
                      g_uri_get_port (uri), g_uri_get_path (uri), NULL, NULL);
  return g_uri_to_string (bare);
}

/**
 * ctl_http_check_url:
 * @url: the listing server's URL, as the user gave it
 *
 * Returns: (transfer full): the URL the client builds on: http or https,
 *   a host, no query or fragment, no trailing '/'; or %NULL with a
 *   message saying what is wrong with it
 */
char *
ctl_http_check_url (const char *url,
                    GError    **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GUri) base = NULL;
  g_autofree char *quoted = pm_quote (url, -1);
  g_autofree char *path = NULL;
  const char *scheme;
  char *text;

  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("'%s' is not an http:// URL such as http://127.0.0.1:7770"), quoted);
      return NULL;
    }
  if (g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("'%s' has a query or a fragment: give the listing server's URL, such as http://127.0.0.1:7770"),
                   quoted);
      return NULL;
    }

  path = g_strdup (g_uri_get_path (uri));
  while (g_str_has_suffix (path, "/"))
    path[strlen (path) - 1] = '\0';
  base = g_uri_build (SOUP_HTTP_URI_FLAGS, g_uri_get_scheme (uri), g_uri_get_userinfo (uri),
                      g_uri_get_host (uri), g_uri_get_port (uri), path, NULL, NULL);
  text = g_uri_to_string (base);
  /* An empty path comes back as "/". */
  while (g_str_has_suffix (text, "/"))
    text[strlen (text) - 1] = '\0';
  return text;
}

static void
http_client_free (CtlClient *client)
{
  CtlHttpClient *self = (CtlHttpClient *) client;

  g_clear_object (&self->session);
  g_free (self->base);
  g_free (self->shown);
  g_free (self);
}

/* The reason a request could not be sent, for "cannot reach plutomock
 * at URL: REASON". */
static char *
dup_unreachable_reason (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return g_strdup (_("connection refused; is it running?"));
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_strdup_printf (_("no answer within %d seconds"), REQUEST_TIMEOUT_S);
  if (error->domain == G_RESOLVER_ERROR)
    return g_strdup (_("its host name does not resolve"));
  return ctl_lowercase_first (error->message);
}

/* An answer that is not the control API's. */
static void
set_protocol_error (CtlHttpClient *self,
                    GError       **error,
                    const char    *method,
                    const char    *path,
                    SoupMessage   *message,
                    const char    *what)
{
  g_set_error (error, CTL_ERROR, CTL_ERROR_PROTOCOL,
               _("%s answered %u %s to %s %s%s (%s): is it a plutomock with control over HTTP?"),
               self->shown, soup_message_get_status (message),
               soup_message_get_reason_phrase (message) != NULL ? soup_message_get_reason_phrase (message) : "",
               method, CONTROL_PREFIX, path, what);
}

/* Reads a JSON body strictly enough: UTF-8, one value. */
static JsonNode *
parse_body (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  gsize length;
  const char *data = g_bytes_get_data (body, &length);
  JsonNode *root;

  if (data == NULL || length == 0 || !g_utf8_validate_len (data, length, NULL) ||
      !json_parser_load_from_data (parser, data, length, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root != NULL ? json_node_ref (root) : NULL;
}

static gboolean
is_json (SoupMessage *message)
{
  const char *type = soup_message_headers_get_content_type (soup_message_get_response_headers (message), NULL);

  return type != NULL && g_ascii_strcasecmp (type, "application/json") == 0;
}

/* Sends @method on CONTROL_PREFIX @path (escaped) with @body (nullable,
 * JSON unless @content_type says otherwise).  On a 2xx answer returns
 * TRUE and its body in @out_body (nullable); on an error answer sets the
 * daemon's error, named as on the bus. */
static gboolean
request (CtlHttpClient *self,
         const char    *method,
         const char    *path,
         const char    *content_type,
         const char    *body,
         GBytes       **out_body,
         GError       **error)
{
  g_autofree char *url = g_strconcat (self->base, CONTROL_PREFIX, path, NULL);
  g_autoptr(SoupMessage) message = soup_message_new (method, url);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *object;
  guint status;

  if (message == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("cannot make a URL of %s and %s"), self->shown, path);
      return FALSE;
    }
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (message,
                                                content_type != NULL ? content_type : "application/json",
                                                bytes);
    }

  answer = soup_session_send_and_read (self->session, message, NULL, &local_error);
  if (answer == NULL)
    {
      g_autofree char *reason = dup_unreachable_reason (local_error);

      g_set_error (error, CTL_ERROR, CTL_ERROR_UNREACHABLE,
                   _("cannot reach plutomock at %s: %s"), self->shown, reason);
      return FALSE;
    }

  status = soup_message_get_status (message);
  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      if (out_body != NULL)
        *out_body = g_steal_pointer (&answer);
      return TRUE;
    }

  /* {"error": NAME, "message": TEXT}: the error the bus would give. */
  if (is_json (message))
    node = parse_body (answer);
  object = node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (object == NULL ||
      json_object_get_string_member_with_default (object, "error", NULL) == NULL ||
      json_object_get_string_member_with_default (object, "message", NULL) == NULL)
    {
      set_protocol_error (self, error, method, path, message, _("not a control API error"));
      return FALSE;
    }
  g_propagate_error (error, g_dbus_error_new_for_dbus_error (json_object_get_string_member (object, "error"),
                                                             json_object_get_string_member (object, "message")));
  return FALSE;
}

/* A request whose answer must be a JSON object. */
static JsonObject *
request_object (CtlHttpClient *self,
                const char    *method,
                const char    *path,
                const char    *body,
                GError       **error)
{
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (!request (self, method, path, NULL, body, &answer, error))
    return NULL;
  node = parse_body (answer);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_PROTOCOL,
                   _("%s answered %s %s%s with something other than a JSON object"),
                   self->shown, method, CONTROL_PREFIX, path);
      return NULL;
    }
  return json_object_ref (json_node_get_object (node));
}

/* The path of the device @which names, its text escaped. */
static char *
dup_device_path (const char *which,
                 const char *rest)
{
  g_autofree char *escaped = g_uri_escape_string (which, NULL, FALSE);

  return g_strconcat ("/devices/", escaped, rest, NULL);
}

/* The path of a device get_device() returned: by its port. */
static char *
dup_port_path (JsonObject *device,
               const char *rest)
{
  return g_strdup_printf ("/devices/%" G_GINT64_FORMAT "%s",
                          json_object_get_int_member_with_default (device, "port", 0), rest);
}

static char *
object_to_text (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return json_to_string (node, FALSE);
}

/* An a{sv} value as JSON: booleans, numbers and strings, which is all
 * fault parameters and add options hold. */
static JsonNode *
variant_to_json (GVariant *value)
{
  JsonNode *node = json_node_alloc ();

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return json_node_init_boolean (node, g_variant_get_boolean (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return json_node_init_int (node, g_variant_get_uint32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return json_node_init_int (node, g_variant_get_int64 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    {
      guint64 number = g_variant_get_uint64 (value);

      /* Beyond a JSON integer json-glib holds: a number still. */
      if (number > G_MAXINT64)
        return json_node_init_double (node, (double) number);
      return json_node_init_int (node, (gint64) number);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    return json_node_init_double (node, g_variant_get_double (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return json_node_init_string (node, g_variant_get_string (value, NULL));
  g_return_val_if_reached (json_node_init_null (node));
}

static JsonObject *
vardict_to_json (GVariant *dictionary)
{
  JsonObject *object = json_object_new ();
  GVariantIter iter;
  const char *name;
  GVariant *value;

  if (dictionary == NULL)
    return object;
  g_variant_iter_init (&iter, dictionary);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      json_object_set_member (object, name, variant_to_json (value));
      g_variant_unref (value);
    }
  return object;
}

static GPtrArray *
http_list_devices (CtlClient *client,
                   GError   **error)
{
  g_autoptr(JsonObject) answer = request_object ((CtlHttpClient *) client, "GET", "/devices", NULL, error);
  g_autoptr(GPtrArray) devices = NULL;
  JsonNode *member;
  JsonArray *array;
  guint i;

  if (answer == NULL)
    return NULL;
  member = json_object_get_member (answer, "devices");
  if (member == NULL || !JSON_NODE_HOLDS_ARRAY (member))
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_PROTOCOL,
                   _("%s answered GET %s/devices without a \"devices\" array"),
                   ((CtlHttpClient *) client)->shown, CONTROL_PREFIX);
      return NULL;
    }
  array = json_node_get_array (member);
  devices = g_ptr_array_new_full (json_array_get_length (array), (GDestroyNotify) json_object_unref);
  for (i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_OBJECT (element))
        g_ptr_array_add (devices, json_object_ref (json_node_get_object (element)));
    }
  return g_steal_pointer (&devices);
}

static JsonObject *
http_get_device (CtlClient  *client,
                 const char *which,
                 GError    **error)
{
  g_autofree char *path = dup_device_path (which, "");

  return request_object ((CtlHttpClient *) client, "GET", path, NULL, error);
}

static JsonObject *
http_add_device (CtlClient *client,
                 GVariant  *options,
                 GError   **error)
{
  g_autoptr(JsonObject) object = vardict_to_json (options);
  g_autofree char *body = object_to_text (object);

  return request_object ((CtlHttpClient *) client, "POST", "/devices", body, error);
}

static gboolean
http_remove_device (CtlClient  *client,
                    JsonObject *device,
                    GError    **error)
{
  g_autofree char *path = dup_port_path (device, "");

  return request ((CtlHttpClient *) client, "DELETE", path, NULL, NULL, NULL, error);
}

static gboolean
http_restart (CtlClient  *client,
              JsonObject *device,
              GError    **error)
{
  g_autofree char *path = dup_port_path (device, "/restart");

  return request ((CtlHttpClient *) client, "POST", path, NULL, NULL, NULL, error);
}

static char *
http_get_info (CtlClient  *client,
               JsonObject *device,
               GError    **error)
{
  g_autofree char *path = dup_port_path (device, "/info");
  g_autoptr(GBytes) answer = NULL;
  gsize length;
  const char *data;

  if (!request ((CtlHttpClient *) client, "GET", path, NULL, NULL, &answer, error))
    return NULL;
  /* The text as the daemon wrote it: the caller lays it out. */
  data = g_bytes_get_data (answer, &length);
  if (data == NULL || !g_utf8_validate_len (data, length, NULL) || memchr (data, '\0', length) != NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_PROTOCOL,
                   _("%s answered GET %s%s with something other than UTF-8 text"),
                   ((CtlHttpClient *) client)->shown, CONTROL_PREFIX, path);
      return NULL;
    }
  return g_strndup (data, length);
}

static gboolean
http_update (CtlClient  *client,
             JsonObject *device,
             const char *json,
             GError    **error)
{
  g_autofree char *path = dup_port_path (device, "/info");

  /* The daemon checks the JSON as PATCH /api/system does. */
  return request ((CtlHttpClient *) client, "PATCH", path, NULL, json, NULL, error);
}

static gboolean
http_set_fault (CtlClient  *client,
                JsonObject *device,
                const char *kind,
                GVariant   *parameters,
                GError    **error)
{
  g_autoptr(JsonObject) object = vardict_to_json (parameters);
  g_autoptr(JsonObject) body = NULL;
  g_autofree char *text = NULL;

  if (device != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (kind, NULL, FALSE);
      g_autofree char *rest = g_strconcat ("/faults/", escaped, NULL);
      g_autofree char *path = dup_port_path (device, rest);

      text = object_to_text (object);
      return request ((CtlHttpClient *) client, "PUT", path, NULL, text, NULL, error);
    }

  body = json_object_new ();
  json_object_set_string_member (body, "kind", kind);
  json_object_set_object_member (body, "parameters", g_steal_pointer (&object));
  json_object_set_array_member (body, "devices", json_array_new ());
  text = object_to_text (body);
  return request ((CtlHttpClient *) client, "POST", "/faults", NULL, text, NULL, error);
}

static gboolean
http_clear_fault (CtlClient  *client,
                  JsonObject *device,
                  const char *kind,
                  GError    **error)
{
  g_autoptr(JsonObject) body = NULL;
  g_autofree char *text = NULL;

  if (device != NULL)
    {
      g_autofree char *escaped = kind != NULL ? g_uri_escape_string (kind, NULL, FALSE) : NULL;
      g_autofree char *rest = g_strconcat ("/faults", kind != NULL ? "/" : "", escaped, NULL);
      g_autofree char *path = dup_port_path (device, rest);

      return request ((CtlHttpClient *) client, "DELETE", path, NULL, NULL, NULL, error);
    }

  body = json_object_new ();
  if (kind != NULL)
    json_object_set_string_member (body, "kind", kind);
  json_object_set_array_member (body, "devices", json_array_new ());
  text = object_to_text (body);
  return request ((CtlHttpClient *) client, "POST", "/faults/clear", NULL, text, NULL, error);
}

static JsonObject *
http_get_status (CtlClient *client,
                 GError   **error)
{
  return request_object ((CtlHttpClient *) client, "GET", "", NULL, error);
}

static gboolean
http_run_scenario (CtlClient  *client,
                   const char *text,
                   GError    **error)
{
  return request ((CtlHttpClient *) client, "PUT", "/scenario", "text/plain; charset=utf-8", text,
                  NULL, error);
}

static gboolean
http_stop_scenario (CtlClient *client,
                    gboolean  *out_stopped,
                    GError   **error)
{
  g_autoptr(JsonObject) answer = request_object ((CtlHttpClient *) client, "DELETE", "/scenario",
                                                 NULL, error);
  JsonNode *stopped;

  if (answer == NULL)
    return FALSE;
  stopped = json_object_get_member (answer, "stopped");
  if (stopped == NULL || json_node_get_value_type (stopped) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_PROTOCOL,
                   _("%s answered DELETE %s/scenario without \"stopped\""),
                   ((CtlHttpClient *) client)->shown, CONTROL_PREFIX);
      return FALSE;
    }
  *out_stopped = json_node_get_boolean (stopped);
  return TRUE;
}

static const CtlClientClass http_client_class = {
  http_client_free,
  http_list_devices,
  http_get_device,
  http_add_device,
  http_remove_device,
  http_restart,
  http_get_info,
  http_update,
  http_set_fault,
  http_clear_fault,
  http_get_status,
  http_run_scenario,
  http_stop_scenario,
};

/**
 * ctl_http_client_new:
 * @base_url: a URL from ctl_http_check_url()
 *
 * Returns: (transfer full): a client of the control API at @base_url;
 *   nothing is sent yet
 */
CtlClient *
ctl_http_client_new (const char *base_url)
{
  CtlHttpClient *self = g_new0 (CtlHttpClient, 1);

  self->parent.klass = &http_client_class;
  self->base = g_strdup (base_url);
  self->shown = dup_shown_url (base_url);
  self->session = soup_session_new_with_options ("timeout", REQUEST_TIMEOUT_S,
                                                 "user-agent", "plutomockctl/" PACKAGE_VERSION,
                                                 NULL);
  return &self->parent;
}
