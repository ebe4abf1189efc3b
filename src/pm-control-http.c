/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-control-http"

#include "config.h"

#include <string.h>

#include "pm-control.h"
#include "pm-control-http.h"
#include "pm-error.h"
#include "pm-http.h"
#include "pm-json-writer.h"
#include "pm-limits.h"
#include "pm-names.h"
#include "pm-quote.h"
#include "pm-scenario.h"
#include "pm-update.h"

/*
 * Control over HTTP: every endpoint under /control/v1 does what a D-Bus
 * method does, through pm-control.h, so an input gives the same error
 * over both; an error is {"error": "<D-Bus error name>", "message": ...}
 * with the status its kind maps to.  Only the peers of the allow list get
 * in (403 for the others, before anything else is looked at), and a
 * request a web page of another origin makes is refused as well: the
 * replies carry no CORS grant, but a browser sends a cross-origin POST
 * before it knows that, so its Origin is checked.
 */

/* The names of the two HTTP-only errors, in the same shape as PmError's. */
#define ERROR_NOT_FOUND PM_DBUS_ERROR_PREFIX "NotFound"
#define ERROR_METHOD_NOT_ALLOWED PM_DBUS_ERROR_PREFIX "MethodNotAllowed"

G_STATIC_ASSERT (PM_SCENARIO_MAX_BYTES >= PM_LIMIT_BODY_BYTES);

typedef struct
{
  GWeakRef     manager;  /* PmManager: it owns what owns this */
  PmAllowList *allow;    /* (owned) */
} PmControlHttp;

typedef enum
{
  ROUTE_NONE,
  ROUTE_STATUS,         /* /control/v1 */
  ROUTE_PROFILES,       /* /control/v1/profiles */
  ROUTE_DEVICES,        /* /control/v1/devices */
  ROUTE_DEVICE,         /* /control/v1/devices/{id} */
  ROUTE_RESTART,        /* /control/v1/devices/{id}/restart */
  ROUTE_INFO,           /* /control/v1/devices/{id}/info */
  ROUTE_DEVICE_FAULTS,  /* /control/v1/devices/{id}/faults */
  ROUTE_DEVICE_FAULT,   /* /control/v1/devices/{id}/faults/{kind} */
  ROUTE_FAULTS,         /* /control/v1/faults */
  ROUTE_FAULTS_CLEAR,   /* /control/v1/faults/clear */
  ROUTE_SCENARIO,       /* /control/v1/scenario */
} Route;

/* What each route answers, as an Allow header lists them (OPTIONS
 * aside). */
static const char *const route_methods[] = {
  [ROUTE_NONE] = NULL,
  [ROUTE_STATUS] = "GET, HEAD",
  [ROUTE_PROFILES] = "GET, HEAD",
  [ROUTE_DEVICES] = "GET, HEAD, POST",
  [ROUTE_DEVICE] = "GET, HEAD, DELETE",
  [ROUTE_RESTART] = "POST",
  [ROUTE_INFO] = "GET, HEAD, PATCH",
  [ROUTE_DEVICE_FAULTS] = "DELETE",
  [ROUTE_DEVICE_FAULT] = "PUT, DELETE",
  [ROUTE_FAULTS] = "POST",
  [ROUTE_FAULTS_CLEAR] = "POST",
  [ROUTE_SCENARIO] = "GET, HEAD, PUT, DELETE",
};

typedef struct
{
  Route route;
  char *id;    /* (owned) (nullable): the device, decoded */
  char *kind;  /* (owned) (nullable): the fault, decoded */
} Match;

static void
match_clear (Match *match)
{
  g_clear_pointer (&match->id, g_free);
  g_clear_pointer (&match->kind, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Match, match_clear)

/* One path segment; %NULL if empty.  libsoup 3.2.3 hands handlers the
 * path decoded whole (even soup_server_message_get_uri()'s): a '%' here
 * is the client's own, and an escaped '/' has already split the id, so a
 * device whose hostname holds a '/' is reached by its port. */
static char *
dup_segment (const char *start,
             const char *end)
{
  if (start == end)
    return NULL;
  return g_strndup (start, end - start);
}

/* Matches @path to a route; ROUTE_NONE if it is none of them. */
static void
match_path (const char *path,
            Match      *match)
{
  g_auto(GStrv) parts = NULL;
  guint n;

  *match = (Match) { ROUTE_NONE, NULL, NULL };
  if (g_str_equal (path, PM_CONTROL_HTTP_PREFIX))
    {
      match->route = ROUTE_STATUS;
      return;
    }
  if (!g_str_has_prefix (path, PM_CONTROL_HTTP_PREFIX "/"))
    return;
  parts = g_strsplit (path + strlen (PM_CONTROL_HTTP_PREFIX "/"), "/", 0);
  n = g_strv_length (parts);

  if (n == 1 && g_str_equal (parts[0], "profiles"))
    match->route = ROUTE_PROFILES;
  else if (n == 1 && g_str_equal (parts[0], "devices"))
    match->route = ROUTE_DEVICES;
  else if (n == 1 && g_str_equal (parts[0], "faults"))
    match->route = ROUTE_FAULTS;
  else if (n == 2 && g_str_equal (parts[0], "faults") && g_str_equal (parts[1], "clear"))
    match->route = ROUTE_FAULTS_CLEAR;
  else if (n == 1 && g_str_equal (parts[0], "scenario"))
    match->route = ROUTE_SCENARIO;
  else if (n >= 2 && n <= 4 && g_str_equal (parts[0], "devices"))
    {
      match->id = dup_segment (parts[1], parts[1] + strlen (parts[1]));
      if (match->id == NULL)
        return;
      if (n == 2)
        match->route = ROUTE_DEVICE;
      else if (n == 3 && g_str_equal (parts[2], "restart"))
        match->route = ROUTE_RESTART;
      else if (n == 3 && g_str_equal (parts[2], "info"))
        match->route = ROUTE_INFO;
      else if (n == 3 && g_str_equal (parts[2], "faults"))
        match->route = ROUTE_DEVICE_FAULTS;
      else if (n == 4 && g_str_equal (parts[2], "faults"))
        {
          match->kind = dup_segment (parts[3], parts[3] + strlen (parts[3]));
          if (match->kind != NULL)
            match->route = ROUTE_DEVICE_FAULT;
        }
    }
  if (match->route == ROUTE_NONE)
    match_clear (match);
}

/* ---- replies -------------------------------------------------------------- */

static void
reply_node (SoupServerMessage *msg,
            guint              status,
            JsonNode          *node)
{
  pm_http_reply_json (msg, status, json_to_string (node, FALSE));
}

static void
reply_builder (SoupServerMessage *msg,
               guint              status,
               JsonBuilder       *builder)
{
  g_autoptr(JsonNode) node = json_builder_get_root (builder);

  reply_node (msg, status, node);
}

static void
reply_problem (SoupServerMessage *msg,
               guint              status,
               const char        *name,
               const char        *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  reply_builder (msg, status, builder);
}

static guint
error_status (const GError *error)
{
  if (error->domain != PM_ERROR)
    return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  switch ((PmError) error->code)
    {
    case PM_ERROR_INVALID_ARGUMENT:
    case PM_ERROR_INVALID_JSON:
    case PM_ERROR_NOT_AN_OBJECT:
    case PM_ERROR_TOO_DEEP:
      return SOUP_STATUS_BAD_REQUEST;
    case PM_ERROR_TOO_LARGE:
      return SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
    case PM_ERROR_NO_SUCH_DEVICE:
      return SOUP_STATUS_NOT_FOUND;
    case PM_ERROR_PORT_IN_USE:
    case PM_ERROR_HOSTNAME_IN_USE:
      return SOUP_STATUS_CONFLICT;
    case PM_ERROR_RESTARTING:
      return SOUP_STATUS_SERVICE_UNAVAILABLE;
    case PM_ERROR_FORBIDDEN:
      return SOUP_STATUS_FORBIDDEN;
    case PM_ERROR_FAILED:
    default:
      return SOUP_STATUS_INTERNAL_SERVER_ERROR;
    }
}

/* Answers @error as the D-Bus method would have failed. */
static void
reply_error (SoupServerMessage *msg,
             const GError      *error)
{
  g_autofree char *name = NULL;

  if (error->domain == PM_ERROR)
    name = g_dbus_error_encode_gerror (error);
  else
    name = g_strdup (PM_DBUS_ERROR_PREFIX "Failed");
  reply_problem (msg, error_status (error), name, error->message);
}

static void
reply_pm_error (SoupServerMessage *msg,
                PmError            code,
                const char        *format,
                ...) G_GNUC_PRINTF (3, 4);

static void
reply_pm_error (SoupServerMessage *msg,
                PmError            code,
                const char        *format,
                ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (PM_ERROR, code, format, args);
  va_end (args);
  reply_error (msg, error);
}

/* ---- objects ------------------------------------------------------------ */

/* A Device object, written straight into @out: the fleet page polls the
 * whole listing every 2 s, and for 10 000 devices a JsonBuilder held the
 * main loop for about 200 ms a time. */
static void
append_device (GString  *out,
               PmDevice *device)
{
  const PmProfile *profile = pm_device_get_profile (device);
  g_autofree char *url = pm_device_dup_url (device);
  g_autoptr(GVariant) faults = pm_device_dup_faults (device);
  const PmMinerState *live = pm_device_get_miner_state (device);

  g_string_append (out, "{\"port\":");
  pm_json_append_int (out, pm_device_get_port (device));
  g_string_append (out, ",\"hostname\":");
  pm_json_append_string (out, pm_device_get_hostname (device));
  g_string_append (out, ",\"profile\":");
  pm_json_append_string (out, profile->name);
  g_string_append (out, ",\"apiVersion\":");
  pm_json_append_string (out, pm_profile_get_api_version_name (profile));
  g_string_append (out, ",\"firmware\":");
  pm_json_append_string (out, pm_device_get_firmware (device));
  g_string_append (out, pm_device_get_restarting (device) ? ",\"state\":\"restarting\""
                                                          : ",\"state\":\"running\"");
  g_string_append (out, ",\"startTime\":");
  pm_json_append_int (out, pm_device_get_start_time (device));
  g_string_append (out, ",\"url\":");
  pm_json_append_string (out, url != NULL ? url : "");
  g_string_append (out, ",\"faults\":");
  if (g_variant_n_children (faults) == 0)
    {
      g_string_append (out, "{}");
    }
  else
    {
      g_autoptr(JsonNode) node = json_gvariant_serialize (faults);

      pm_json_append_node (out, node);
    }
  if (live != NULL)
    {
      g_string_append (out, ",\"live\":{\"hashRate\":");
      pm_json_append_double (out, live->hashrate, 3);
      g_string_append (out, ",\"temp\":");
      pm_json_append_double (out, live->temp, 3);
      g_string_append (out, ",\"power\":");
      pm_json_append_double (out, live->power, 3);
      g_string_append (out, ",\"fanrpm\":");
      pm_json_append_int (out, live->fan_rpm);
      g_string_append (out, ",\"sharesAccepted\":");
      pm_json_append_int (out, (gint64) live->shares_accepted);
      g_string_append (out, ",\"sharesRejected\":");
      pm_json_append_int (out, (gint64) live->shares_rejected);
      g_string_append (out, ",\"uptimeSeconds\":");
      pm_json_append_int (out, (gint64) live->uptime_seconds);
      g_string_append_c (out, '}');
    }
  g_string_append_c (out, '}');
}

static void
reply_device (SoupServerMessage *msg,
              guint              status,
              PmDevice          *device)
{
  GString *out = g_string_sized_new (512);

  append_device (out, device);
  pm_http_reply_json (msg, status, g_string_free (out, FALSE));
}

/* {"devices": [ports]} */
static void
reply_ports (SoupServerMessage *msg,
             GPtrArray         *devices)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  guint i;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "devices");
  json_builder_begin_array (builder);
  for (i = 0; i < devices->len; i++)
    json_builder_add_int_value (builder, pm_device_get_port (g_ptr_array_index (devices, i)));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, SOUP_STATUS_OK, builder);
}

static int
compare_ports (gconstpointer a,
               gconstpointer b)
{
  guint port_a = pm_device_get_port (*(PmDevice *const *) a);
  guint port_b = pm_device_get_port (*(PmDevice *const *) b);

  return (port_a > port_b) - (port_a < port_b);
}

/* Orders indices into @profiles by the profiles' names. */
static int
compare_profile_names (gconstpointer a,
                       gconstpointer b,
                       gpointer      profiles)
{
  const PmProfile *const *list = profiles;

  return strcmp (list[*(const gsize *) a]->name, list[*(const gsize *) b]->name);
}

/* Every device, in the fleet's order. */
static GPtrArray *
dup_fleet (PmManager *manager)
{
  return pm_control_find_devices (manager, NULL, NULL, NULL);
}

static void
reply_status (PmControlHttp     *self,
              SoupServerMessage *msg,
              PmManager         *manager)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(GPtrArray) devices = dup_fleet (manager);
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, pm_manager_get_seed (manager));
  g_auto(GStrv) allow = pm_allow_list_dup_entries (self->allow);
  PmScenario *scenario = pm_manager_get_scenario (manager);
  const char *scenario_name = scenario != NULL ? pm_scenario_get_name (scenario) : NULL;
  gsize n_profiles, i, j;
  const PmProfile *const *profiles = pm_profile_list_all (&n_profiles);
  g_autofree guint *counts = g_new0 (guint, n_profiles);
  g_autofree gsize *order = g_new (gsize, n_profiles);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_set_member_name (builder, "seed");
  json_builder_add_string_value (builder, seed);
  json_builder_set_member_name (builder, "listingPort");
  json_builder_add_int_value (builder, pm_manager_get_listing_port (manager));
  json_builder_set_member_name (builder, "bindAddress");
  json_builder_add_string_value (builder, pm_manager_get_bind_address (manager));
  json_builder_set_member_name (builder, "logsEnabled");
  json_builder_add_boolean_value (builder, pm_manager_get_logs_enabled (manager));
  json_builder_set_member_name (builder, "devices");
  json_builder_add_int_value (builder, devices->len);

  /* How many devices have each profile, in the profiles' name order:
   * the fleet page asks every 2 s, so a count per profile, not a sort of
   * the whole fleet. */
  for (i = 0; i < devices->len; i++)
    {
      const PmProfile *profile = pm_device_get_profile (g_ptr_array_index (devices, i));

      for (j = 0; j < n_profiles && profiles[j] != profile; j++)
        ;
      if (j < n_profiles)
        counts[j]++;
    }
  for (i = 0; i < n_profiles; i++)
    order[i] = i;
  g_qsort_with_data (order, n_profiles, sizeof *order, compare_profile_names, (gpointer) profiles);
  json_builder_set_member_name (builder, "profiles");
  json_builder_begin_object (builder);
  for (i = 0; i < n_profiles; i++)
    if (counts[order[i]] > 0)
      {
        json_builder_set_member_name (builder, profiles[order[i]]->name);
        json_builder_add_int_value (builder, counts[order[i]]);
      }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "scenarioRunning");
  json_builder_add_boolean_value (builder, scenario != NULL);
  json_builder_set_member_name (builder, "scenario");
  json_builder_add_string_value (builder, scenario_name != NULL ? scenario_name : "");
  json_builder_set_member_name (builder, "controlAllow");
  json_builder_begin_array (builder);
  for (i = 0; allow[i] != NULL; i++)
    json_builder_add_string_value (builder, allow[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, SOUP_STATUS_OK, builder);
}

static void
reply_profiles (SoupServerMessage *msg)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  gsize i, n;
  const PmProfile *const *profiles = pm_profile_list_all (&n);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "profiles");
  json_builder_begin_array (builder);
  for (i = 0; i < n; i++)
    {
      const PmProfile *profile = profiles[i];

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, profile->name);
      json_builder_set_member_name (builder, "summary");
      json_builder_add_string_value (builder, profile->summary);
      json_builder_set_member_name (builder, "apiVersion");
      json_builder_add_string_value (builder, pm_profile_get_api_version_name (profile));
      /* null: drawn for each device */
      json_builder_set_member_name (builder, "firmware");
      if (profile->firmware != NULL)
        json_builder_add_string_value (builder, profile->firmware);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "simulated");
      json_builder_add_boolean_value (builder, pm_profile_is_simulated (profile));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (msg, SOUP_STATUS_OK, builder);
}

static void
reply_devices (SoupServerMessage *msg,
               PmManager         *manager)
{
  g_autoptr(GPtrArray) devices = dup_fleet (manager);
  GString *out = g_string_sized_new (64 + 320 * devices->len);
  guint i;

  g_ptr_array_sort (devices, compare_ports);
  g_string_append (out, "{\"devices\":[");
  for (i = 0; i < devices->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      append_device (out, g_ptr_array_index (devices, i));
    }
  g_string_append (out, "]}");
  pm_http_reply_json (msg, SOUP_STATUS_OK, g_string_free (out, FALSE));
}

static void
reply_scenario (SoupServerMessage *msg,
                PmManager         *manager)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  PmScenario *scenario = pm_manager_get_scenario (manager);
  const char *name = scenario != NULL ? pm_scenario_get_name (scenario) : NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "running");
  json_builder_add_boolean_value (builder, scenario != NULL);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name != NULL ? name : "");
  json_builder_end_object (builder);
  reply_builder (msg, SOUP_STATUS_OK, builder);
}

/* ---- request bodies ----------------------------------------------------- */

static gboolean
is_blank (const char *data,
          gsize       length)
{
  gsize i;

  for (i = 0; i < length; i++)
    if (data[i] != ' ' && data[i] != '\t' && data[i] != '\n' && data[i] != '\r')
      return FALSE;
  return TRUE;
}

/* The body as a JSON object, checked as PATCH /api/system checks its
 * own; an empty body is {} where @empty_ok. */
static JsonObject *
parse_body (SoupServerMessage *msg,
            gboolean           empty_ok,
            GError           **error)
{
  g_autoptr(GBytes) body = pm_http_get_body (msg);
  gsize length;
  const char *data = g_bytes_get_data (body, &length);

  if (empty_ok && is_blank (data, length))
    return json_object_new ();
  return pm_update_parse (data != NULL ? data : "", length, error);
}

/* A JSON object's members as a{sv}: integers as x, other numbers as d. */
static GVariant *
object_to_vardict (JsonObject *object,
                   GError    **error)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autoptr(GError) local_error = NULL;
  GVariant *variant = json_gvariant_deserialize (node, "a{sv}", &local_error);

  if (variant == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "the object's members cannot be read: %s", local_error->message);
      return NULL;
    }
  return g_variant_ref_sink (variant);
}

/* The "devices" member of a fleet request: ports and hostnames, or none
 * for every device. */
static GStrv
read_device_ids (JsonObject *object,
                 GError    **error)
{
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
  JsonNode *member = json_object_get_member (object, "devices");
  JsonArray *array;
  guint i;

  if (member == NULL)
    return g_strv_builder_end (ids);
  if (!JSON_NODE_HOLDS_ARRAY (member))
    goto bad;
  array = json_node_get_array (member);
  for (i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element))
        goto bad;
      if (json_node_get_value_type (element) == G_TYPE_STRING)
        g_strv_builder_add (ids, json_node_get_string (element));
      else if (json_node_get_value_type (element) == G_TYPE_INT64)
        {
          g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (element));

          g_strv_builder_add (ids, text);
        }
      else
        goto bad;
    }
  return g_strv_builder_end (ids);

bad:
  g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "member 'devices' must be an array of ports and hostnames");
  return NULL;
}

/* Refuses members other than @known (NULL-terminated). */
static gboolean
check_members (JsonObject        *object,
               const char *const *known,
               const char        *listed,
               GError           **error)
{
  g_autoptr(GList) names = json_object_get_members (object);
  GList *l;

  for (l = names; l != NULL; l = l->next)
    if (!g_strv_contains (known, l->data))
      {
        g_autofree char *quoted = pm_quote (l->data, -1);

        g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                     "unknown member '%s' (the members are %s)", quoted, listed);
        return FALSE;
      }
  return TRUE;
}

/* The "kind" member: a string, or absent where not @required. */
static gboolean
read_kind (JsonObject  *object,
           gboolean     required,
           const char **out_kind,
           GError     **error)
{
  JsonNode *member = json_object_get_member (object, "kind");

  *out_kind = NULL;
  if (member == NULL && !required)
    return TRUE;
  if (member == NULL)
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "member 'kind' is missing: it names the fault");
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_STRING)
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "member 'kind' must be a string");
      return FALSE;
    }
  *out_kind = json_node_get_string (member);
  return TRUE;
}

/* ---- endpoints ---------------------------------------------------------- */

static void
post_device (SoupServerMessage *msg,
             PmManager         *manager)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = parse_body (msg, TRUE, &error);
  g_autoptr(GVariant) options = NULL;
  g_autofree char *location = NULL;
  PmDevice *device = NULL;

  if (object != NULL)
    options = object_to_vardict (object, &error);
  if (options != NULL)
    device = pm_control_add_device (manager, options, PM_CONTROL_JSON, &error);
  if (device == NULL)
    {
      reply_error (msg, error);
      return;
    }
  location = g_strdup_printf (PM_CONTROL_HTTP_PREFIX "/devices/%u", pm_device_get_port (device));
  reply_device (msg, SOUP_STATUS_CREATED, device);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location", location);
}

static void
put_fault (SoupServerMessage *msg,
           PmDevice          *device,
           const char        *kind)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = parse_body (msg, TRUE, &error);
  g_autoptr(GVariant) parameters = NULL;

  if (object != NULL)
    parameters = object_to_vardict (object, &error);
  if (parameters == NULL || !pm_control_set_fault (device, kind, parameters, &error))
    reply_error (msg, error);
  else
    reply_device (msg, SOUP_STATUS_OK, device);
}

static void
post_fleet_fault (SoupServerMessage *msg,
                  PmManager         *manager,
                  gboolean           clear)
{
  static const char *const set_members[] = { "kind", "parameters", "devices", NULL };
  static const char *const clear_members[] = { "kind", "devices", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = parse_body (msg, TRUE, &error);
  g_autoptr(GVariant) parameters = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_auto(GStrv) ids = NULL;
  const char *kind = NULL;

  if (object == NULL ||
      !check_members (object, clear ? clear_members : set_members,
                      clear ? "kind and devices" : "kind, parameters and devices", &error) ||
      !read_kind (object, !clear, &kind, &error))
    goto fail;
  ids = read_device_ids (object, &error);
  if (ids == NULL)
    goto fail;
  if (clear)
    {
      devices = pm_control_clear_fleet_fault (manager, (const char *const *) ids,
                                              pm_control_find_device, kind, &error);
    }
  else
    {
      JsonNode *member = json_object_get_member (object, "parameters");

      if (member != NULL && !JSON_NODE_HOLDS_OBJECT (member))
        {
          g_set_error_literal (&error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                               "member 'parameters' must be an object");
          goto fail;
        }
      if (member != NULL)
        parameters = object_to_vardict (json_node_get_object (member), &error);
      else
        parameters = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
      if (parameters == NULL)
        goto fail;
      devices = pm_control_set_fleet_fault (manager, (const char *const *) ids,
                                            pm_control_find_device, kind, parameters, &error);
    }
  if (devices == NULL)
    goto fail;
  reply_ports (msg, devices);
  return;

fail:
  reply_error (msg, error);
}

static void
put_scenario (SoupServerMessage *msg,
              PmManager         *manager)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = pm_http_get_body (msg);
  gsize length;
  const char *data = g_bytes_get_data (body, &length);

  if (!pm_control_run_scenario (manager, data != NULL ? data : "", length, &error))
    reply_error (msg, error);
  else
    reply_scenario (msg, manager);
}

static void
handle_device (SoupServerMessage *msg,
               PmManager         *manager,
               const Match       *match,
               const char        *method)
{
  g_autoptr(GError) error = NULL;
  PmDevice *device = pm_control_find_device (manager, match->id, &error);
  gboolean get = g_str_equal (method, SOUP_METHOD_GET) || g_str_equal (method, SOUP_METHOD_HEAD);
  gboolean delete = g_str_equal (method, SOUP_METHOD_DELETE);

  if (device == NULL)
    {
      reply_error (msg, error);
      return;
    }
  /* The device stays alive through the call, whatever it does. */
  g_object_ref (device);

  switch (match->route)
    {
    case ROUTE_DEVICE:
      if (get)
        reply_device (msg, SOUP_STATUS_OK, device);
      else if (!pm_manager_remove_device (manager, device, &error))
        reply_error (msg, error);
      else
        soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      break;

    case ROUTE_RESTART:
      if (!pm_device_restart (device, &error))
        reply_error (msg, error);
      else
        reply_device (msg, SOUP_STATUS_ACCEPTED, device);
      break;

    case ROUTE_INFO:
      {
        g_autofree char *info = NULL;

        if (!get)
          {
            g_autoptr(GBytes) body = pm_http_get_body (msg);
            gsize length;
            const char *data = g_bytes_get_data (body, &length);

            if (!pm_device_update (device, data != NULL ? data : "", length, &error))
              {
                reply_error (msg, error);
                break;
              }
          }
        info = pm_control_get_info (device, &error);
        if (info == NULL)
          reply_error (msg, error);
        else
          pm_http_reply_json (msg, SOUP_STATUS_OK, g_steal_pointer (&info));
      }
      break;

    case ROUTE_DEVICE_FAULTS:
      pm_device_clear_faults (device);
      reply_device (msg, SOUP_STATUS_OK, device);
      break;

    case ROUTE_DEVICE_FAULT:
      if (!delete)
        put_fault (msg, device, match->kind);
      else if (!pm_control_clear_fault (device, match->kind, &error))
        reply_error (msg, error);
      else
        reply_device (msg, SOUP_STATUS_OK, device);
      break;

    case ROUTE_NONE:
    case ROUTE_STATUS:
    case ROUTE_PROFILES:
    case ROUTE_DEVICES:
    case ROUTE_FAULTS:
    case ROUTE_FAULTS_CLEAR:
    case ROUTE_SCENARIO:
    default:
      g_assert_not_reached ();
    }
  g_object_unref (device);
}

/* ---- gatekeeping -------------------------------------------------------- */

/* Whether @method is one of the comma-separated @methods. */
static gboolean
method_listed (const char *methods,
               const char *method)
{
  g_auto(GStrv) names = g_strsplit (methods, ", ", -1);

  return g_strv_contains ((const char *const *) names, method);
}

/* The host:port an Origin or Host names, lower case, with the port. */
static char *
dup_authority (const char *host,
               int         port)
{
  g_autofree char *lower = g_ascii_strdown (host, -1);

  if (strchr (lower, ':') != NULL && lower[0] != '[')
    return g_strdup_printf ("[%s]:%d", lower, port);
  return g_strdup_printf ("%s:%d", lower, port);
}

/* Whether a browser made the request from a page of another origin: its
 * Origin, if any, is not the origin the request went to. */
static gboolean
is_cross_origin (SoupServerMessage *msg,
                 const char       **out_origin)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *host = soup_message_headers_get_one (headers, "Host");
  g_autoptr(GUri) origin_uri = NULL;
  g_autoptr(GUri) host_uri = NULL;
  g_autofree char *host_url = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  *out_origin = origin;
  if (origin == NULL)
    return FALSE;
  if (host == NULL)
    return TRUE;
  origin_uri = g_uri_parse (origin, G_URI_FLAGS_NONE, NULL);
  host_url = g_strconcat ("http://", host, NULL);
  host_uri = g_uri_parse (host_url, G_URI_FLAGS_NONE, NULL);
  if (origin_uri == NULL || host_uri == NULL ||
      g_ascii_strcasecmp (g_uri_get_scheme (origin_uri), "http") != 0 ||
      g_uri_get_host (origin_uri) == NULL || g_uri_get_host (host_uri) == NULL)
    return TRUE;
  a = dup_authority (g_uri_get_host (origin_uri),
                     g_uri_get_port (origin_uri) > 0 ? g_uri_get_port (origin_uri) : 80);
  b = dup_authority (g_uri_get_host (host_uri),
                     g_uri_get_port (host_uri) > 0 ? g_uri_get_port (host_uri) : 80);
  return strcmp (a, b) != 0;
}

/* Whether the request's Host names this machine by address or as
 * localhost, rather than by a DNS name. */
static gboolean
is_host_local_literal (SoupServerMessage *msg)
{
  const char *host = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Host");
  g_autofree char *url = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *name;

  if (host == NULL)
    return FALSE;
  url = g_strconcat ("http://", host, NULL);
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  name = uri != NULL ? g_uri_get_host (uri) : NULL;
  return name != NULL && (g_hostname_is_ip_address (name) || g_ascii_strcasecmp (name, "localhost") == 0);
}

/* Refuses the request with 403 if its peer may not use control, or a
 * page of another origin made it, or a page reached by a DNS name on a
 * loopback connection (DNS rebinding: a foreign page whose name was
 * pointed at 127.0.0.1 is of the same origin as itself). */
static gboolean
check_peer (PmControlHttp     *self,
            SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  GInetAddress *address = NULL;
  g_autofree char *peer = NULL;
  const char *origin;

  if (remote != NULL && G_IS_INET_SOCKET_ADDRESS (remote))
    address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  if (address == NULL)
    {
      reply_pm_error (msg, PM_ERROR_FORBIDDEN,
                      "control over HTTP needs to know the client's address, and this connection has none");
      return FALSE;
    }
  peer = g_inet_address_to_string (address);
  if (pm_allow_list_is_none (self->allow))
    {
      reply_pm_error (msg, PM_ERROR_FORBIDDEN,
                      "control over HTTP is off (--control-allow none), also for %s; "
                      "start plutomock with --control-allow (CONTROL_ALLOW) to allow it", peer);
      return FALSE;
    }
  if (!pm_allow_list_allows (self->allow, address))
    {
      g_autofree char *who = pm_allow_list_describe (self->allow);

      reply_pm_error (msg, PM_ERROR_FORBIDDEN,
                      "control over HTTP is allowed from %s only, not from %s; "
                      "start plutomock with --control-allow (CONTROL_ALLOW) to allow it", who, peer);
      return FALSE;
    }
  if (is_cross_origin (msg, &origin))
    {
      g_autofree char *quoted = pm_quote (origin, -1);

      reply_pm_error (msg, PM_ERROR_FORBIDDEN,
                      "control over HTTP does not take requests from web pages of other origins (Origin: %s)",
                      quoted);
      return FALSE;
    }
  if (origin != NULL && g_inet_address_get_is_loopback (address) && !is_host_local_literal (msg))
    {
      g_autofree char *quoted = pm_quote (soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Host"), -1);

      reply_pm_error (msg, PM_ERROR_FORBIDDEN,
                      "a web page reached by a name (Host: %s) may not control a fleet over loopback: "
                      "open it at http://127.0.0.1:PORT/ or http://localhost:PORT/", quoted);
      return FALSE;
    }
  return TRUE;
}

/* The largest body @match takes with @method. */
static gsize
body_limit (const Match *match,
            const char  *method)
{
  if (match->route == ROUTE_SCENARIO && g_str_equal (method, SOUP_METHOD_PUT))
    return PM_SCENARIO_MAX_BYTES;
  return PM_LIMIT_BODY_BYTES;
}

static void
too_large (SoupServerMessage *msg,
           gboolean           scenario,
           gint64             length,
           gsize              limit)
{
  /* The messages the scenario parser and the JSON checker give. */
  if (scenario && length >= 0)
    reply_pm_error (msg, PM_ERROR_TOO_LARGE, "the scenario is %" G_GINT64_FORMAT " bytes long, more than %" G_GSIZE_FORMAT,
                    length, limit);
  else if (scenario)
    reply_pm_error (msg, PM_ERROR_TOO_LARGE, "the scenario is more than %" G_GSIZE_FORMAT " bytes long", limit);
  else if (length >= 0)
    reply_pm_error (msg, PM_ERROR_TOO_LARGE, "body of %" G_GINT64_FORMAT " bytes is over the limit of %" G_GSIZE_FORMAT " bytes",
                    length, limit);
  else
    reply_pm_error (msg, PM_ERROR_TOO_LARGE, "body is over the limit of %" G_GSIZE_FORMAT " bytes", limit);
}

/* After pm_http_limit_body()'s collector refused a chunked body with its
 * own reply, says it in control's shape. */
static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              gpointer           user_data)
{
  if (soup_server_message_get_status (msg) != SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE)
    return;
  g_signal_handlers_disconnect_by_func (msg, on_got_chunk, user_data);
  too_large (msg, GPOINTER_TO_INT (user_data) != 0, -1,
             GPOINTER_TO_INT (user_data) != 0 ? PM_SCENARIO_MAX_BYTES : PM_LIMIT_BODY_BYTES);
}

/* What is checked before the body is read: the peer (403), the path
 * (404), the method (405, or the answer to OPTIONS) and the body's size
 * (413), from the listing server's early handler; a refused request gets
 * its reply here. */
static void
control_early (gpointer           data,
               SoupServerMessage *msg,
               const char        *path)
{
  PmControlHttp *self = data;
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  g_auto(Match) match = { ROUTE_NONE, NULL, NULL };
  g_autofree char *allow = NULL;
  gsize limit;

  /* No CORS grant: control is for its own page and for programs. */
  pm_http_prepare_connection (msg);
  if (!check_peer (self, msg))
    return;

  match_path (path, &match);
  if (match.route == ROUTE_NONE)
    {
      g_autofree char *quoted_method = pm_quote (method, -1);
      g_autofree char *quoted_path = pm_quote (path, -1);
      g_autofree char *message = g_strdup_printf ("no such endpoint: %s %s", quoted_method, quoted_path);

      reply_problem (msg, SOUP_STATUS_NOT_FOUND, ERROR_NOT_FOUND, message);
      return;
    }

  allow = g_strconcat (route_methods[match.route], ", OPTIONS", NULL);
  if (g_str_equal (method, SOUP_METHOD_OPTIONS))
    {
      soup_message_headers_replace (response, "Allow", allow);
      soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      return;
    }
  if (!method_listed (route_methods[match.route], method))
    {
      g_autofree char *quoted_method = pm_quote (method, -1);
      g_autofree char *quoted_path = pm_quote (path, -1);
      g_autofree char *message = g_strdup_printf ("method %s is not allowed on %s (allowed: %s)",
                                                  quoted_method, quoted_path, allow);

      soup_message_headers_replace (response, "Allow", allow);
      reply_problem (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, ERROR_METHOD_NOT_ALLOWED, message);
      return;
    }

  limit = body_limit (&match, method);
  if (soup_message_headers_get_encoding (request) == SOUP_ENCODING_CONTENT_LENGTH &&
      (guint64) soup_message_headers_get_content_length (request) > limit)
    {
      too_large (msg, limit == PM_SCENARIO_MAX_BYTES,
                 soup_message_headers_get_content_length (request), limit);
      return;
    }
  if (pm_http_limit_body (msg, limit) &&
      soup_message_headers_get_encoding (request) != SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_encoding (request) != SOUP_ENCODING_NONE)
    g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk),
                      GINT_TO_POINTER (limit == PM_SCENARIO_MAX_BYTES));
}

/* Does what a request that passed control_early() asks, its body read,
 * and answers. */
static void
control_handle (gpointer           data,
                SoupServerMessage *msg,
                const char        *path)
{
  PmControlHttp *self = data;
  const char *method = soup_server_message_get_method (msg);
  g_auto(Match) match = { ROUTE_NONE, NULL, NULL };
  g_autoptr(PmManager) manager = g_weak_ref_get (&self->manager);
  gboolean get = g_str_equal (method, SOUP_METHOD_GET) || g_str_equal (method, SOUP_METHOD_HEAD);

  match_path (path, &match);
  g_return_if_fail (match.route != ROUTE_NONE);
  if (manager == NULL)
    {
      reply_pm_error (msg, PM_ERROR_FAILED, "the fleet is shutting down");
      return;
    }

  switch (match.route)
    {
    case ROUTE_STATUS:
      reply_status (self, msg, manager);
      break;
    case ROUTE_PROFILES:
      reply_profiles (msg);
      break;
    case ROUTE_DEVICES:
      if (get)
        reply_devices (msg, manager);
      else
        post_device (msg, manager);
      break;
    case ROUTE_DEVICE:
    case ROUTE_RESTART:
    case ROUTE_INFO:
    case ROUTE_DEVICE_FAULTS:
    case ROUTE_DEVICE_FAULT:
      handle_device (msg, manager, &match, method);
      break;
    case ROUTE_FAULTS:
      post_fleet_fault (msg, manager, FALSE);
      break;
    case ROUTE_FAULTS_CLEAR:
      post_fleet_fault (msg, manager, TRUE);
      break;
    case ROUTE_SCENARIO:
      if (get)
        {
          reply_scenario (msg, manager);
        }
      else if (g_str_equal (method, SOUP_METHOD_PUT))
        {
          put_scenario (msg, manager);
        }
      else
        {
          g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "stopped");
          json_builder_add_boolean_value (builder, pm_manager_stop_scenario (manager));
          json_builder_end_object (builder);
          reply_builder (msg, SOUP_STATUS_OK, builder);
        }
      break;
    case ROUTE_NONE:
    default:
      g_assert_not_reached ();
    }
}

static void
control_free (gpointer data)
{
  PmControlHttp *self = data;

  g_weak_ref_clear (&self->manager);
  pm_allow_list_unref (self->allow);
  g_free (self);
}

static const PmListingMount control_mount = {
  .prefix = "/control",
  /* The largest body: a scenario's text, as large as RunScenario takes. */
  .body_limit = PM_SCENARIO_MAX_BYTES,
  .early = control_early,
  .handle = control_handle,
};

/**
 * pm_control_http_mount:
 * @listing: @manager's listing server, not started
 * @manager: the fleet control acts on; not referenced (it owns the
 *   listing server that owns control)
 * @allow: who may use it
 *
 * Serves control over HTTP on @listing: `/control/v1` and, with a JSON
 * 404, anything else under `/control`.
 */
void
pm_control_http_mount (PmListingServer *listing,
                       PmManager       *manager,
                       PmAllowList     *allow)
{
  PmControlHttp *self = g_new0 (PmControlHttp, 1);

  g_return_if_fail (PM_IS_LISTING_SERVER (listing));
  g_return_if_fail (PM_IS_MANAGER (manager));

  g_weak_ref_init (&self->manager, manager);
  self->allow = pm_allow_list_ref (allow);
  pm_listing_server_mount (listing, &control_mount, self, control_free);
}
