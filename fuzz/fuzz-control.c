/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "fuzz-control"

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "checks.h"
#include "pm-allow.h"
#include "pm-control.h"
#include "pm-control-http.h"
#include "pm-error.h"
#include "pm-fault.h"
#include "pm-limits.h"
#include "pm-manager.h"
#include "pm-names.h"
#include "pm-update.h"

/*
 * Fuzzes what control over HTTP makes of a request: the input's first
 * byte picks what the rest is, and the rest goes, over a real connection
 * on loopback, to a real fleet of two devices (an axeos-gamma, which has
 * a simulated miner, and a pluto-legacy) started once, so that the
 * control endpoints read it as they read any client's:
 *
 *   0  the body of POST /control/v1/devices (AddDevice's options);
 *   1  the body of PUT /control/v1/devices/{port}/faults/{kind}, its
 *      second byte choosing the device and the kind (one kind unknown);
 *   2  the body of POST /control/v1/faults;
 *   3  the body of POST /control/v1/faults/clear, with a latency fault on
 *      both devices beforehand;
 *   4  a device id, percent-encoded as one path segment of
 *      GET /control/v1/devices/{id};
 *   5  a --control-allow list, read by pm_allow_list_parse().
 *
 * Whatever a request did is undone before the next input (a device added
 * is removed, faults are lifted), so that every input meets the same
 * fleet.  The fleet, its listing server and its devices listen on
 * 127.0.0.2, away from ports others take on 127.0.0.1.
 *
 * Checked for every request:
 *  - the answer is JSON, and an error is {"error", "message"} with a
 *    known error name that goes with the status, and a message on one
 *    line of valid UTF-8 and bounded length;
 *  - a body the strict parser refuses is refused with the parser's own
 *    error, code and message;
 *  - a body with a member the endpoint does not know is refused with
 *    InvalidArgument;
 *  - what an accepted request did shows in the fleet: the device added
 *    is listed with the port and hostname asked for; a fault set is held
 *    by the devices the answer names; a clear lifts the faults it names
 *    from exactly the devices named; a refused request changes nothing;
 *  - a device id finds the device a plain reading of the rule names (its
 *    port in decimal, or its hostname in any case), and nothing else.
 * For an allow list: an accepted list reads back, from its normalised
 *  entries, as the same list, and lets in the address of each entry;
 *  a refused one has an InvalidArgument on one line.
 */

int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

#define BIND_ADDRESS "127.0.0.2"

/* The longest error message: its own text around a few quotes of at most
 * PM_LIMIT_QUOTE_CHARS characters each. */
#define MESSAGE_MAX_CHARS (4 * PM_LIMIT_QUOTE_CHARS + 240)

enum
{
  BODY_ADD,
  BODY_FAULT,
  BODY_FLEET_FAULT,
  BODY_FLEET_CLEAR,
  BODY_DEVICE_ID,
  BODY_ALLOW,
  BODY_N_KINDS,
};

static PmManager *manager;
static SoupSession *session;
static char *base;  /* http://127.0.0.2:PORT/control/v1 */
static PmDevice *fleet[2];  /* (unowned): the gamma, the legacy */

/* ---- checks ---------------------------------------------------------------- */

/* Fails the input: abort(), which libFuzzer catches and keeps the input
 * of (g_error() stops on a breakpoint trap, which it does not). */
#define fail(...)                \
  G_STMT_START                   \
  {                              \
    g_printerr (__VA_ARGS__);    \
    g_printerr ("\n");           \
    abort ();                    \
  }                              \
  G_STMT_END

/* The fleet's messages (a device added, a fault set) would fill the log. */
static GLogWriterOutput
write_log (GLogLevelFlags   log_level,
           const GLogField *fields,
           gsize            n_fields,
           gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

/* The status an error of @code is answered with. */
static guint
expected_status (int code)
{
  switch (code)
    {
    case PM_ERROR_INVALID_ARGUMENT:
    case PM_ERROR_INVALID_JSON:
    case PM_ERROR_NOT_AN_OBJECT:
    case PM_ERROR_TOO_DEEP:
      return 400;
    case PM_ERROR_TOO_LARGE:
      return 413;
    case PM_ERROR_NO_SUCH_DEVICE:
      return 404;
    case PM_ERROR_PORT_IN_USE:
    case PM_ERROR_HOSTNAME_IN_USE:
      return 409;
    case PM_ERROR_RESTARTING:
      return 503;
    case PM_ERROR_FORBIDDEN:
      return 403;
    default:
      return 500;
    }
}

typedef struct
{
  guint     status;
  JsonNode *root;     /* (owned) (nullable) */
  int       code;     /* the PmError of an error, or -1 */
  char     *message;  /* (owned) (nullable): an error's message */
} Reply;

static void
reply_clear (Reply *reply)
{
  g_clear_pointer (&reply->root, json_node_unref);
  g_clear_pointer (&reply->message, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reply, reply_clear)

/* An error reply: its name a PmError's, its status that error's. */
static void
check_problem (Reply *reply)
{
  JsonObject *object;
  const char *name;
  g_autoptr(GError) decoded = NULL;

  if (reply->root == NULL || !JSON_NODE_HOLDS_OBJECT (reply->root))
    fail ("status %u without a JSON object", reply->status);
  object = json_node_get_object (reply->root);
  g_assert_cmpuint (json_object_get_size (object), ==, 2);
  name = json_object_get_string_member (object, "error");
  reply->message = g_strdup (json_object_get_string_member (object, "message"));
  g_assert_nonnull (name);
  g_assert_nonnull (reply->message);
  g_assert_true (g_str_has_prefix (name, PM_DBUS_ERROR_PREFIX));
  fuzz_check_line (reply->message, MESSAGE_MAX_CHARS);
  /* The two errors of HTTP only: a path or a method control lacks. */
  if (g_str_equal (name, PM_DBUS_ERROR_PREFIX "NotFound") ||
      g_str_equal (name, PM_DBUS_ERROR_PREFIX "MethodNotAllowed"))
    {
      g_assert_cmpuint (reply->status, ==, g_str_has_suffix (name, ".NotFound") ? 404 : 405);
      return;
    }
  /* Any other, read back as D-Bus would, is a PmError. */
  decoded = g_dbus_error_new_for_dbus_error (name, "");
  if (decoded->domain != PM_ERROR)
    fail ("unknown error name %s (status %u)", name, reply->status);
  reply->code = decoded->code;
  if (expected_status (reply->code) != reply->status)
    fail ("%s answered with %u", name, reply->status);
}

/* ---- requests -------------------------------------------------------------- */

typedef struct
{
  GBytes  *body;
  GError  *error;
  gboolean done;
} Pending;

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Pending *pending = user_data;

  pending->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &pending->error);
  pending->done = TRUE;
}

/* Sends @method @path (under /control/v1, already percent-encoded) with
 * @body unless %NULL, and reads the answer into @reply; checks an error
 * is control's where @strict. */
static void
request (const char *method,
         const char *path,
         const void *body,
         gsize       size,
         gboolean    strict,
         Reply      *reply)
{
  g_autofree char *url = g_strconcat (base, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  Pending pending = { NULL, NULL, FALSE };
  gsize length;
  const char *data;

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, size);

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL, on_sent, &pending);
  while (!pending.done)
    g_main_context_iteration (NULL, TRUE);
  if (pending.error != NULL)
    fail ("%s %s: %s", method, url, pending.error->message);

  *reply = (Reply) { soup_message_get_status (msg), NULL, -1, NULL };
  data = g_bytes_get_data (pending.body, &length);
  if (length > 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new_immutable ();
      g_autoptr(GError) error = NULL;

      if (!json_parser_load_from_data (parser, data, (gssize) length, &error))
        fail ("%s %s: %u with a body that is not JSON: %s", method, url, reply->status, error->message);
      reply->root = json_node_ref (json_parser_get_root (parser));
    }
  g_bytes_unref (pending.body);
  /* A path whose segments libsoup decodes into others (an escaped '/',
   * dot segments) may leave control for the listing server; one holding
   * %00 gets libsoup's own bare 400. */
  if (!strict)
    return;
  if (reply->status >= 400)
    check_problem (reply);
}

/* The parser's verdict on a control body, as the endpoints take it: a
 * blank body is {}. */
static JsonObject *
parse_body (const uint8_t *data,
            size_t         size,
            GError       **error)
{
  size_t i;

  for (i = 0; i < size; i++)
    if (data[i] != ' ' && data[i] != '\t' && data[i] != '\n' && data[i] != '\r')
      return pm_update_parse ((const char *) data, size, error);
  return json_object_new ();
}

/* A body the parser refuses is refused with its error: returns whether
 * @object is %NULL, having checked that. */
static gboolean
check_refused_body (JsonObject   *object,
                    const GError *error,
                    const Reply  *reply)
{
  if (object != NULL)
    return FALSE;
  if (reply->code != error->code || g_strcmp0 (reply->message, error->message) != 0)
    fail ("the parser says \"%s\" (%d), the endpoint %u \"%s\" (%d)", error->message, error->code,
             reply->status, reply->message, reply->code);
  return TRUE;
}

/* Whether @object has a member not in @known. */
static gboolean
has_unknown_member (JsonObject        *object,
                    const char *const *known)
{
  g_autoptr(GList) names = json_object_get_members (object);
  GList *l;

  for (l = names; l != NULL; l = l->next)
    if (!g_strv_contains (known, l->data))
      return TRUE;
  return FALSE;
}

static guint
n_faults (PmDevice *device)
{
  g_autoptr(GVariant) faults = pm_device_dup_faults (device);

  return (guint) g_variant_n_children (faults);
}

static gboolean
has_fault (PmDevice   *device,
           const char *kind)
{
  g_autoptr(GVariant) faults = pm_device_dup_faults (device);
  g_autoptr(GVariant) parameters = g_variant_lookup_value (faults, kind, NULL);

  return parameters != NULL;
}

static void
lift_faults (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fleet); i++)
    pm_device_clear_faults (fleet[i]);
}

/* The devices of a {"devices": [port...]} answer. */
static GPtrArray *
answered_devices (const Reply *reply)
{
  GPtrArray *devices = g_ptr_array_new ();
  JsonArray *ports;
  guint i;

  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply->root));
  ports = json_object_get_array_member (json_node_get_object (reply->root), "devices");
  g_assert_nonnull (ports);
  for (i = 0; i < json_array_get_length (ports); i++)
    {
      PmDevice *device = pm_manager_find_device (manager, (guint) json_array_get_int_element (ports, i), NULL);

      g_assert_nonnull (device);
      g_ptr_array_add (devices, device);
    }
  return devices;
}

/* ---- the kinds of input ---------------------------------------------------- */

static void
fuzz_add (const uint8_t *data,
          size_t         size)
{
  static const char *const known[] = { "port", "hostname", "api-version", "firmware", "profile", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = parse_body (data, size, &error);
  g_auto(Reply) reply = { 0 };
  GListModel *devices = pm_manager_get_devices (manager);
  JsonObject *listed;
  PmDevice *device;
  guint port;

  request ("POST", "/devices", data, size, TRUE, &reply);
  if (check_refused_body (object, error, &reply))
    return;
  if (has_unknown_member (object, known) && reply.code != PM_ERROR_INVALID_ARGUMENT)
    fail ("an unknown option: %u", reply.status);
  if (reply.status != 201)
    {
      g_assert_cmpuint (reply.status, >=, 400);
      g_assert_cmpuint (g_list_model_get_n_items (devices), ==, G_N_ELEMENTS (fleet));
      return;
    }

  listed = json_node_get_object (reply.root);
  port = (guint) json_object_get_int_member (listed, "port");
  device = pm_manager_find_device (manager, port, NULL);
  g_assert_nonnull (device);
  g_assert_cmpuint (g_list_model_get_n_items (devices), ==, G_N_ELEMENTS (fleet) + 1);
  g_assert_cmpstr (json_object_get_string_member (listed, "hostname"), ==, pm_device_get_hostname (device));
  if (json_object_has_member (object, "port") && json_object_get_int_member (object, "port") != 0)
    g_assert_cmpint (json_object_get_int_member (object, "port"), ==, port);
  if (json_object_has_member (object, "hostname"))
    g_assert_cmpstr (json_object_get_string_member (object, "hostname"), ==, pm_device_get_hostname (device));
  if (json_object_has_member (object, "firmware"))
    g_assert_cmpstr (json_object_get_string_member (object, "firmware"), ==, pm_device_get_firmware (device));
  if (json_object_has_member (object, "profile"))
    g_assert_cmpstr (json_object_get_string_member (object, "profile"), ==, pm_device_get_profile (device)->name);

  g_assert_true (pm_manager_remove_device (manager, device, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (devices), ==, G_N_ELEMENTS (fleet));
}

static void
fuzz_fault (const uint8_t *data,
            size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_auto(Reply) reply = { 0 };
  g_autofree char *path = NULL;
  PmDevice *device;
  PmFaultKind kind;
  const char *name;

  if (size == 0)
    return;
  device = fleet[data[0] & 1];
  kind = (PmFaultKind) ((data[0] >> 1) % (PM_FAULT_N_KINDS + 1));
  name = kind < PM_FAULT_N_KINDS ? pm_fault_kind_to_string (kind) : "no-such-fault";
  data++;
  size--;
  object = parse_body (data, size, &error);

  path = g_strdup_printf ("/devices/%u/faults/%s", pm_device_get_port (device), name);
  request ("PUT", path, data, size, TRUE, &reply);
  if (check_refused_body (object, error, &reply))
    {
      g_assert_cmpuint (n_faults (device), ==, 0);
      return;
    }
  if (reply.status != 200)
    {
      g_assert_cmpuint (reply.status, ==, 400);
      g_assert_cmpuint (n_faults (device), ==, 0);
      return;
    }
  g_assert_cmpint (kind, <, PM_FAULT_N_KINDS);
  g_assert_true (!pm_fault_kind_needs_miner (kind) || device == fleet[0]);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (reply.root), "port"), ==,
                   pm_device_get_port (device));
  g_assert_true (has_fault (device, name));
  g_assert_cmpuint (n_faults (device), ==, 1);
  lift_faults ();
}

static void
fuzz_fleet_fault (const uint8_t *data,
                  size_t         size)
{
  static const char *const known[] = { "kind", "parameters", "devices", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = parse_body (data, size, &error);
  g_auto(Reply) reply = { 0 };
  g_autoptr(GPtrArray) devices = NULL;
  const char *kind;
  guint i;

  request ("POST", "/faults", data, size, TRUE, &reply);
  if (check_refused_body (object, error, &reply) || reply.status != 200)
    {
      if (object != NULL && has_unknown_member (object, known) && reply.code != PM_ERROR_INVALID_ARGUMENT)
        fail ("an unknown member: %u", reply.status);
      g_assert_cmpuint (n_faults (fleet[0]) + n_faults (fleet[1]), ==, 0);
      return;
    }
  g_assert_false (has_unknown_member (object, known));
  kind = json_object_get_string_member (object, "kind");
  devices = answered_devices (&reply);
  if (!json_object_has_member (object, "devices") ||
      json_array_get_length (json_object_get_array_member (object, "devices")) == 0)
    g_assert_cmpuint (devices->len, ==, G_N_ELEMENTS (fleet));
  else
    g_assert_cmpuint (devices->len, ==, json_array_get_length (json_object_get_array_member (object, "devices")));
  for (i = 0; i < devices->len; i++)
    g_assert_true (has_fault (g_ptr_array_index (devices, i), kind));
  for (i = 0; i < G_N_ELEMENTS (fleet); i++)
    if (!g_ptr_array_find (devices, fleet[i], NULL))
      g_assert_cmpuint (n_faults (fleet[i]), ==, 0);
  lift_faults ();
}

static void
fuzz_fleet_clear (const uint8_t *data,
                  size_t         size)
{
  static const char *const known[] = { "kind", "devices", NULL };
  static const char *const latency[] = { "ms=5", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PmFault) fault = pm_fault_new_from_strings ("latency", latency, &error);
  g_autoptr(JsonObject) object = NULL;
  g_auto(Reply) reply = { 0 };
  g_autoptr(GPtrArray) devices = NULL;
  const char *kind;
  guint i;

  g_assert_no_error (error);
  g_assert_nonnull (fault);
  for (i = 0; i < G_N_ELEMENTS (fleet); i++)
    g_assert_true (pm_device_set_fault (fleet[i], fault, NULL));
  object = parse_body (data, size, &error);

  request ("POST", "/faults/clear", data, size, TRUE, &reply);
  if (check_refused_body (object, error, &reply) || reply.status != 200)
    {
      if (object != NULL && has_unknown_member (object, known) && reply.code != PM_ERROR_INVALID_ARGUMENT)
        fail ("an unknown member: %u", reply.status);
      for (i = 0; i < G_N_ELEMENTS (fleet); i++)
        g_assert_true (has_fault (fleet[i], "latency"));
      lift_faults ();
      return;
    }
  g_assert_false (has_unknown_member (object, known));
  kind = json_object_has_member (object, "kind") ? json_object_get_string_member (object, "kind") : NULL;
  devices = answered_devices (&reply);
  for (i = 0; i < G_N_ELEMENTS (fleet); i++)
    {
      gboolean named = g_ptr_array_find (devices, fleet[i], NULL);
      PmFaultKind parsed;

      g_assert_true (kind == NULL || pm_fault_kind_from_string (kind, &parsed));
      if (named && (kind == NULL || g_str_equal (kind, "latency")))
        g_assert_cmpuint (n_faults (fleet[i]), ==, 0);
      else
        g_assert_true (has_fault (fleet[i], "latency"));
    }
  lift_faults ();
}

/* What a device id names, read plainly: all digits, a port; else a
 * hostname in any case. */
static PmDevice *
expect_device (const char *id)
{
  guint i;

  if (id[0] != '\0' && strspn (id, "0123456789") == strlen (id))
    {
      guint64 port = 0;
      const char *p;

      for (p = id; *p != '\0' && port <= 65535; p++)
        port = port * 10 + (guint64) (*p - '0');
      for (i = 0; i < G_N_ELEMENTS (fleet); i++)
        if (port == pm_device_get_port (fleet[i]))
          return fleet[i];
      return NULL;
    }
  for (i = 0; i < G_N_ELEMENTS (fleet); i++)
    if (g_ascii_strcasecmp (id, pm_device_get_hostname (fleet[i])) == 0)
      return fleet[i];
  return NULL;
}

static void
fuzz_device_id (const uint8_t *data,
                size_t         size)
{
  g_autofree char *id = g_strndup ((const char *) data, size);
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Reply) reply = { 0 };
  PmDevice *expected;
  PmDevice *found;

  /* Every byte escaped but the unreserved ones: the segment is the id. */
  escaped = g_uri_escape_bytes (data, size, NULL);
  path = g_strconcat ("/devices/", escaped, NULL);
  /* An id with a '/' (or a NUL) is not one segment once decoded, and
   * "." and ".." are dot segments, which the URI's path resolves away:
   * these are sent for what they may break, and not checked. */
  if (size == 0 || strlen (id) != size || strchr (id, '/') != NULL ||
      g_str_equal (id, ".") || g_str_equal (id, ".."))
    {
      request ("GET", path, NULL, 0, FALSE, &reply);
      return;
    }
  request ("GET", path, NULL, 0, TRUE, &reply);
  expected = expect_device (id);
  found = pm_control_find_device (manager, id, &error);
  g_assert_true (found == expected);
  if (expected == NULL)
    {
      g_assert_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE);
      fuzz_check_line (error->message, MESSAGE_MAX_CHARS);
      g_assert_cmpuint (reply.status, ==, 404);
      g_assert_cmpint (reply.code, ==, PM_ERROR_NO_SUCH_DEVICE);
      g_assert_cmpstr (reply.message, ==, error->message);
      return;
    }
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (reply.root), "port"), ==,
                   pm_device_get_port (expected));
}

static void
fuzz_allow (const uint8_t *data,
            size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(PmAllowList) allow = pm_allow_list_parse (text, &error);
  g_autoptr(PmAllowList) again = NULL;
  g_auto(GStrv) entries = NULL;
  g_auto(GStrv) entries_again = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *description = NULL;
  guint i;

  if (allow == NULL)
    {
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
      fuzz_check_line (error->message, MESSAGE_MAX_CHARS);
      return;
    }
  g_assert_no_error (error);
  entries = pm_allow_list_dup_entries (allow);
  g_assert_cmpuint (g_strv_length (entries), >, 0);
  description = pm_allow_list_describe (allow);
  g_assert_true (g_utf8_validate (description, -1, NULL));

  joined = g_strjoinv (",", entries);
  again = pm_allow_list_parse (joined, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
  entries_again = pm_allow_list_dup_entries (again);
  g_assert_true (g_strv_equal ((const char *const *) entries, (const char *const *) entries_again));
  g_assert_cmpint (pm_allow_list_is_none (allow), ==, g_str_equal (joined, "none"));

  for (i = 0; entries[i] != NULL; i++)
    {
      g_autoptr(GInetAddressMask) mask = NULL;

      if (g_str_equal (entries[i], "any") || g_str_equal (entries[i], "none"))
        {
          g_assert_cmpuint (g_strv_length (entries), ==, 1);
          continue;
        }
      mask = g_inet_address_mask_new_from_string (entries[i], &error);
      g_assert_no_error (error);
      g_assert_true (pm_allow_list_allows (allow, g_inet_address_mask_get_address (mask)));
    }
}

/* ---- the target ------------------------------------------------------------ */

/* Starts the fleet once: its listing server with control, and the two
 * devices, each on a port the kernel picks. */
int
LLVMFuzzerInitialize (G_GNUC_UNUSED int    *argc,
                      G_GNUC_UNUSED char ***argv)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;
  const char *const profiles[] = { "axeos-gamma", "pluto-legacy" };
  const char *const hostnames[] = { "fuzz-gamma", "fuzz-legacy" };
  guint i;

  g_log_set_writer_func (write_log, NULL, NULL);
  config->listing_port = 0;
  g_array_set_size (config->ports, 0);
  g_free (config->bind_address);
  config->bind_address = g_strdup (BIND_ADDRESS);
  config->seed = 1;
  config->seed_given = TRUE;
  pm_allow_list_unref (config->control_allow);
  config->control_allow = pm_allow_list_parse ("127.0.0.0/8", &error);
  g_assert_no_error (error);

  manager = pm_manager_new (config);
  pm_control_http_mount (pm_manager_get_listing_server (manager), manager, config->control_allow);
  if (!pm_manager_start (manager, &error))
    fail ("the fleet did not start: %s", error->message);
  g_assert_cmpuint (pm_manager_get_listing_port (manager), >, 0);

  for (i = 0; i < G_N_ELEMENTS (fleet); i++)
    {
      g_autoptr(PmDeviceSpec) spec = pm_device_spec_new (0, hostnames[i], pm_profile_lookup (profiles[i]), NULL);

      fleet[i] = pm_manager_add_device (manager, spec, &error);
      if (fleet[i] == NULL)
        fail ("device %s did not start: %s", hostnames[i], error->message);
    }
  g_assert_true (pm_profile_is_simulated (pm_device_get_profile (fleet[0])));
  g_assert_false (pm_profile_is_simulated (pm_device_get_profile (fleet[1])));

  session = soup_session_new ();
  base = g_strdup_printf ("http://" BIND_ADDRESS ":%u" PM_CONTROL_HTTP_PREFIX,
                          pm_manager_get_listing_port (manager));
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size == 0)
    return 0;
  switch (data[0] % BODY_N_KINDS)
    {
    case BODY_ADD:
      fuzz_add (data + 1, size - 1);
      break;
    case BODY_FAULT:
      fuzz_fault (data + 1, size - 1);
      break;
    case BODY_FLEET_FAULT:
      fuzz_fleet_fault (data + 1, size - 1);
      break;
    case BODY_FLEET_CLEAR:
      fuzz_fleet_clear (data + 1, size - 1);
      break;
    case BODY_DEVICE_ID:
      fuzz_device_id (data + 1, size - 1);
      break;
    case BODY_ALLOW:
    default:
      fuzz_allow (data + 1, size - 1);
      break;
    }
  /* Every input meets the same fleet. */
  g_assert_cmpuint (g_list_model_get_n_items (pm_manager_get_devices (manager)), ==, G_N_ELEMENTS (fleet));
  g_assert_cmpuint (n_faults (fleet[0]) + n_faults (fleet[1]), ==, 0);
  return 0;
}
