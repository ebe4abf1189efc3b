/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-device"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "pm-device.h"
#include "pm-error.h"
#include "pm-test-util.h"

/*
 * PmDevice in this process, spoken to over real HTTP on loopback: the
 * shapes of /api/system/info, PATCH merging and its limits, the restart
 * window, routing, and how the listening socket behaves.
 */

#define SEED 20240611
#define NEW_FIRMWARE "v2.1.8"
#define RESTART_REPLY "<html><body><h1>System will restart shortly.</h1></body></html>"
#define UNAVAILABLE_REPLY "<html><body><h1>Server is temporarily unavailable. Please try again later.</h1></body></html>"
#define PATCH_REPLY "{\"message\":\"System info updated successfully\"}"
#define STRATUM_USER_PREFIX "bc1asdasdasdasdasasdasdasdasdasdasd."
/* The limits as specified, written out here rather than taken from the
 * code under test, so that a change to them is noticed. */
#define MAX_BODY_BYTES (64 * 1024)
#define MAX_DEPTH 64
/* How long a restart lasts, as specified. */
#define RESTART_WINDOW_MS 5000

/* ---- fixture ------------------------------------------------------------ */

typedef struct
{
  PmAcceptor  *acceptor;
  SoupSession *session;
  PmDevice    *legacy;  /* mockaxe1, firmware drawn */
  PmDevice    *modern;  /* mockaxe2, firmware NEW_FIRMWARE */
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->acceptor = pm_acceptor_new ();
  fixture->session = soup_session_new ();
  fixture->legacy = pm_test_device_new (fixture->acceptor, 0, "mockaxe1", "pluto-legacy",
                                   NULL, FALSE, SEED);
  fixture->modern = pm_test_device_new (fixture->acceptor, 0, "mockaxe2", "pluto-new",
                                   NEW_FIRMWARE, FALSE, SEED);

  g_assert_true (pm_device_start (fixture->legacy, "127.0.0.1", &error));
  g_assert_no_error (error);
  g_assert_true (pm_device_start (fixture->modern, "127.0.0.1", &error));
  g_assert_no_error (error);

  g_assert_cmpuint (pm_device_get_port (fixture->legacy), >, 0);
  g_assert_cmpuint (pm_device_get_port (fixture->modern), >, 0);
  g_assert_cmpuint (pm_device_get_port (fixture->legacy), !=, pm_device_get_port (fixture->modern));
  g_assert_true (pm_device_get_listening (fixture->legacy));
  g_assert_true (pm_device_get_listening (fixture->modern));
  g_assert_cmpuint (pm_acceptor_get_n_listeners (fixture->acceptor), ==, 2);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  user_data)
{
  gpointer legacy = fixture->legacy;
  gpointer modern = fixture->modern;
  gpointer session = fixture->session;
  gpointer acceptor = fixture->acceptor;

  pm_device_stop (fixture->legacy);
  pm_device_stop (fixture->modern);
  g_assert_false (pm_device_get_listening (fixture->legacy));
  g_assert_false (pm_device_get_listening (fixture->modern));
  g_assert_false (pm_device_get_restarting (fixture->legacy));
  g_assert_cmpuint (pm_acceptor_get_n_listeners (fixture->acceptor), ==, 0);

  g_object_add_weak_pointer (G_OBJECT (fixture->legacy), &legacy);
  g_object_add_weak_pointer (G_OBJECT (fixture->modern), &modern);
  g_object_add_weak_pointer (G_OBJECT (fixture->session), &session);
  g_object_add_weak_pointer (G_OBJECT (fixture->acceptor), &acceptor);

  g_clear_object (&fixture->legacy);
  g_clear_object (&fixture->modern);
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->acceptor);

  /* Nothing else may hold on to them. */
  g_assert_null (legacy);
  g_assert_null (modern);
  g_assert_null (session);
  g_assert_null (acceptor);
}

/* ---- helpers ------------------------------------------------------------ */

static char *
url_for (PmDevice   *device,
         const char *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", pm_device_get_port (device), path);
}

static PmTestResponse *
request (Fixture    *fixture,
         PmDevice   *device,
         const char *method,
         const char *path,
         const char *body,
         gssize      length)
{
  g_autofree char *url = url_for (device, path);

  return pm_test_http (fixture->session, method, url,
                       body != NULL ? "application/json" : NULL, body, length);
}

static void
assert_cors (PmTestResponse *response)
{
  g_assert_cmpstr (soup_message_headers_get_one (response->headers,
                                                 "Access-Control-Allow-Origin"), ==, "*");
}

/* Checks a JSON error reply: @status, application/json, CORS, and a body
 * that is exactly {"error": "<non-empty text>"} whose text mentions
 * @hint (case-insensitively) when @hint is given. */
static void
assert_json_error (PmTestResponse *response,
                   guint           status,
                   const char     *hint)
{
  g_autoptr(JsonObject) object = NULL;
  const char *text;

  g_assert_cmpuint (response->status, ==, status);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  assert_cors (response);

  object = pm_test_response_object (response);
  g_assert_cmpuint (json_object_get_size (object), ==, 1);
  text = json_node_get_string (pm_test_member_value (object, "error", G_TYPE_STRING));
  g_assert_cmpuint (strlen (text), >, 0);

  if (hint != NULL)
    {
      g_autofree char *lower_text = g_ascii_strdown (text, -1);
      g_autofree char *lower_hint = g_ascii_strdown (hint, -1);

      if (strstr (lower_text, lower_hint) == NULL)
        g_error ("Error message “%s” does not mention “%s”", text, hint);
    }
}

static void
assert_unavailable (PmTestResponse *response)
{
  const char *retry;
  guint64 seconds = 0;

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "text/html");
  g_assert_cmpstr (pm_test_response_text (response), ==, UNAVAILABLE_REPLY);
  assert_cors (response);
  g_assert_cmpstr (soup_message_headers_get_list (response->headers, "Connection"), ==, "close");
  retry = soup_message_headers_get_one (response->headers, "Retry-After");
  g_assert_nonnull (retry);
  g_assert_true (g_ascii_string_to_unsigned (retry, 10, 1, RESTART_WINDOW_MS / 1000,
                                             &seconds, NULL));
}

/* GETs /api/system/info and checks it is a 200 JSON object. */
static JsonObject *
get_info (Fixture  *fixture,
          PmDevice *device)
{
  g_autoptr(PmTestResponse) response = request (fixture, device, "GET", "/api/system/info",
                                                NULL, 0);

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  assert_cors (response);
  return pm_test_response_object (response);
}

static void
patch_ok (Fixture    *fixture,
          PmDevice   *device,
          const char *body)
{
  g_autoptr(PmTestResponse) response = request (fixture, device, "PATCH", "/api/system",
                                                body, -1);

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  g_assert_cmpstr (pm_test_response_text (response), ==, PATCH_REPLY);
  assert_cors (response);
}

static double
member_number (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  GType type;

  if (node == NULL)
    g_error ("Member “%s” is missing", name);
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  type = json_node_get_value_type (node);
  g_assert_true (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE);
  return json_node_get_double (node);
}

/* The response to a request sent as raw bytes. */
typedef struct
{
  guint               status;
  SoupMessageHeaders *headers;
  char               *body;
} RawReply;

static void
raw_reply_free (RawReply *reply)
{
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_free (reply->body);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawReply, raw_reply_free)

static RawReply *
raw_reply_parse (const char *raw)
{
  RawReply *reply = g_new0 (RawReply, 1);
  const char *end = strstr (raw, "\r\n\r\n");
  goffset length;

  if (end == NULL)
    g_error ("Not an HTTP reply: “%s”", raw);
  reply->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  g_assert_true (soup_headers_parse_response (raw, (int) (end + 4 - raw), reply->headers,
                                              NULL, &reply->status, NULL));
  reply->body = g_strdup (end + 4);
  g_assert_cmpint (soup_message_headers_get_encoding (reply->headers), ==,
                   SOUP_ENCODING_CONTENT_LENGTH);
  length = soup_message_headers_get_content_length (reply->headers);
  g_assert_cmpint (length, ==, (goffset) strlen (reply->body));
  return reply;
}

static void
assert_raw_json_error (RawReply   *reply,
                       guint       status,
                       const char *hint)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  const char *text;

  g_assert_cmpuint (reply->status, ==, status);
  g_assert_cmpstr (soup_message_headers_get_content_type (reply->headers, NULL), ==,
                   "application/json");
  g_assert_cmpstr (soup_message_headers_get_one (reply->headers, "Access-Control-Allow-Origin"),
                   ==, "*");
  root = json_from_string (reply->body, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  object = json_node_get_object (root);
  g_assert_cmpuint (json_object_get_size (object), ==, 1);
  text = pm_test_member_string (object, "error");
  g_assert_cmpuint (strlen (text), >, 0);
  if (hint != NULL && strstr (text, hint) == NULL)
    g_error ("Error message “%s” does not mention “%s”", text, hint);
}

/* A chunked PATCH of @body in chunks of @chunk_size bytes. */
static GString *
chunked_patch (const char *body,
               gsize       length,
               gsize       chunk_size)
{
  GString *out = g_string_new ("PATCH /api/system HTTP/1.1\r\n"
                               "Host: x\r\n"
                               "Transfer-Encoding: chunked\r\n"
                               "Content-Type: application/json\r\n"
                               "Connection: close\r\n"
                               "\r\n");
  gsize offset;

  for (offset = 0; offset < length; offset += chunk_size)
    {
      gsize n = MIN (chunk_size, length - offset);

      g_string_append_printf (out, "%" G_GSIZE_MODIFIER "x\r\n", n);
      g_string_append_len (out, body + offset, n);
      g_string_append (out, "\r\n");
    }
  g_string_append (out, "0\r\n\r\n");
  return out;
}

static RawReply *
send_chunked_patch (PmDevice   *device,
                    const char *body,
                    gsize       length,
                    gsize       chunk_size)
{
  g_autoptr(GString) raw_request = chunked_patch (body, length, chunk_size);
  g_autofree char *raw = pm_test_raw_http (pm_device_get_port (device),
                                           raw_request->str, raw_request->len);

  return raw_reply_parse (raw);
}

/* A JSON object of exactly @length bytes: @prefix (which opens the object
 * and ends after a comma or brace) followed by "pad":"xxx…"}. */
static char *
padded_object (const char *prefix,
               gsize       length)
{
  GString *out = g_string_new (prefix);
  gsize fixed;

  g_string_append (out, "\"pad\":\"");
  fixed = out->len + 2;
  g_assert_cmpuint (length, >=, fixed);
  while (out->len < length - 2)
    g_string_append_c (out, 'x');
  g_string_append (out, "\"}");
  g_assert_cmpuint (out->len, ==, length);
  return g_string_free (out, FALSE);
}

static gboolean
device_not_restarting (gpointer user_data)
{
  return !pm_device_get_restarting (PM_DEVICE (user_data));
}

/* ---- GET /api/system/info ---------------------------------------------- */

typedef enum
{
  KIND_INT,     /* a JSON integer */
  KIND_NUMBER,  /* any JSON number */
  KIND_STRING,
  KIND_OBJECT,
} Kind;

/* One field of a shape.  Numbers must lie in [min, max]; a string with
 * @fixed must be exactly that. */
typedef struct
{
  const char *name;
  Kind        kind;
  double      min;
  double      max;
  const char *fixed;
} Field;

#define ANY 0, 0, NULL
#define INT(lo, hi) KIND_INT, lo, hi, NULL
#define NUM(lo, hi) KIND_NUMBER, lo, hi, NULL
#define STR(text) KIND_STRING, 0, 0, text

static const Field legacy_fields[] = {
  { "power", NUM (10, 20) },
  { "voltage", INT (5000, 6000) },
  { "current", NUM (2000, 3000) },
  { "fanSpeedRpm", INT (4000, 6000) },
  { "temp", INT (30, 70) },
  { "hashRate", NUM (700, 800) },
  { "bestDiff", STR (NULL) },
  { "bestSessionDiff", STR (NULL) },
  { "freeHeap", INT (100000, 200000) },
  { "coreVoltage", INT (1000, 1300) },
  { "coreVoltageActual", INT (1000, 1300) },
  { "frequency", INT (400, 600) },
  { "ssid", STR ("WiFi-SSID") },
  { "hostname", STR ("mockaxe1") },
  { "wifiStatus", STR ("Connected!") },
  { "sharesAccepted", INT (0, 10) },
  { "sharesRejected", INT (0, 10) },
  { "uptimeSeconds", INT (0, 100) },
  { "ASICModel", STR ("BM1368") },
  { "stratumURL", STR ("solo.ckpool.org") },
  { "stratumPort", INT (3333, 3333) },
  { "stratumUser", STR (STRATUM_USER_PREFIX "mockaxe1") },
  { "version", STR (NULL) },
  { "boardVersion", STR ("401") },
  { "runningPartition", STR ("factory") },
  { "flipscreen", INT (0, 1) },
  { "invertscreen", INT (0, 1) },
  { "invertfanpolarity", INT (0, 1) },
  { "autofanspeed", INT (0, 1) },
  { "fanspeed", INT (0, 100) },
};

static const Field new_fields[] = {
  { "power", NUM (30, 80) },
  { "maxPower", INT (70, 70) },
  { "minPower", INT (30, 30) },
  { "voltage", NUM (11000, 13000) },
  { "maxVoltage", INT (13, 13) },
  { "minVoltage", INT (11, 11) },
  { "current", NUM (6000, 7000) },
  { "temp", INT (30, 80) },
  { "vrTemp", NUM (60, 80) },
  { "hashRateTimestamp", INT (0, 0) },  /* checked against the clock */
  { "hashRate_10m", NUM (2900, 3100) },
  { "hashRate_1h", NUM (2900, 3100) },
  { "hashRate_1d", NUM (2900, 3100) },
  { "jobInterval", INT (1200, 1200) },
  { "bestDiff", STR (NULL) },
  { "bestSessionDiff", STR (NULL) },
  { "freeHeap", INT (5000000, 6000000) },
  { "coreVoltage", INT (1300, 1400) },
  { "coreVoltageActual", INT (1300, 1400) },
  { "frequency", INT (400, 600) },
  { "ssid", STR ("EMN_Guest") },
  { "hostname", STR ("mockaxe2") },
  { "wifiStatus", STR ("Connected!") },
  { "sharesAccepted", INT (10000, 20000) },
  { "sharesRejected", INT (0, 50) },
  { "uptimeSeconds", INT (0, 100) },
  { "asicCount", INT (2, 6) },
  { "smallCoreCount", INT (1200, 1300) },
  { "ASICModel", STR ("BM1368") },
  { "deviceModel", STR ("NerdQAxe+") },
  { "stratumURL", STR ("solo.ckpool.org") },
  { "stratumPort", INT (3333, 3333) },
  { "stratumUser", STR (STRATUM_USER_PREFIX "mockaxe2") },
  { "version", STR (NEW_FIRMWARE) },
  { "runningPartition", STR ("ota_1") },
  { "flipscreen", INT (0, 1) },
  { "invertscreen", INT (0, 1) },
  { "autoscreenoff", INT (0, 1) },
  { "invertfanpolarity", INT (0, 1) },
  { "autofanspeed", INT (0, 1) },
  { "overheat_temp", INT (75, 75) },
  { "fanspeed", INT (0, 100) },
  { "fanrpm", INT (2000, 3000) },
  { "lastResetReason", STR ("Power on reset") },
  { "history", KIND_OBJECT, ANY },
};

/* A difficulty string such as "3.27M": a number with @decimals decimals
 * in [@min, @max], then @suffix. */
static void
assert_difficulty (const char *text,
                   guint       decimals,
                   const char *suffix,
                   double      min,
                   double      max)
{
  g_autofree char *pattern = g_strdup_printf ("^[0-9]+\\.[0-9]{%u}%s$", decimals, suffix);
  double value;

  if (!g_regex_match_simple (pattern, text, 0, 0))
    g_error ("Difficulty “%s” does not match %s", text, pattern);
  value = g_ascii_strtod (text, NULL);
  g_assert_cmpfloat (value, >=, min);
  g_assert_cmpfloat (value, <=, max);
}

static void
assert_int_array (JsonObject *object,
                  const char *name,
                  gint64      min,
                  gint64      max)
{
  JsonNode *node = json_object_get_member (object, name);
  JsonArray *array;
  guint i;

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 4);
  for (i = 0; i < 4; i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      g_assert_cmpuint (json_node_get_value_type (element), ==, G_TYPE_INT64);
      g_assert_cmpint (json_node_get_int (element), >=, min);
      g_assert_cmpint (json_node_get_int (element), <=, max);
    }
}

/* Checks that @info has exactly the fields of @fields, of their types and
 * in their ranges. */
static void
assert_shape (JsonObject  *info,
              const Field *fields,
              gsize        n_fields)
{
  gsize i;

  g_assert_cmpuint (json_object_get_size (info), ==, n_fields);
  for (i = 0; i < n_fields; i++)
    {
      const Field *field = &fields[i];
      JsonNode *node = json_object_get_member (info, field->name);

      if (node == NULL)
        g_error ("Field “%s” is missing", field->name);

      switch (field->kind)
        {
        case KIND_INT:
          {
            gint64 value = pm_test_member_int (info, field->name);

            if (field->min < field->max || field->min > 0)
              {
                g_assert_cmpint (value, >=, (gint64) field->min);
                g_assert_cmpint (value, <=, (gint64) field->max);
              }
          }
          break;
        case KIND_NUMBER:
          {
            double value = member_number (info, field->name);

            g_assert_cmpfloat (value, >=, field->min);
            g_assert_cmpfloat (value, <=, field->max);
          }
          break;
        case KIND_STRING:
          {
            const char *value = pm_test_member_string (info, field->name);

            if (field->fixed != NULL)
              g_assert_cmpstr (value, ==, field->fixed);
          }
          break;
        case KIND_OBJECT:
          g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static gboolean
firmware_in_table (const char *version)
{
  const PmFirmwareShare *table;
  gsize n, i;

  table = pm_firmware_table (&n);
  for (i = 0; i < n; i++)
    if (g_strcmp0 (table[i].version, version) == 0)
      return TRUE;
  return FALSE;
}

/* Whole seconds since @device started, rounded up: what its uptime may
 * read at most by now. */
static gint64
seconds_since_start (PmDevice *device)
{
  gint64 elapsed_ms = g_get_real_time () / 1000 - pm_device_get_start_time (device);

  return (elapsed_ms + 999) / 1000;
}

static void
test_info_legacy (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(JsonObject) first = get_info (fixture, fixture->legacy);
  g_autoptr(JsonObject) second = NULL;
  const char *version;
  gint64 uptime;

  assert_shape (first, legacy_fields, G_N_ELEMENTS (legacy_fields));
  g_assert_false (json_object_has_member (first, "hashRate_10m"));
  assert_difficulty (pm_test_member_string (first, "bestDiff"), 2, "M", 1, 5);
  assert_difficulty (pm_test_member_string (first, "bestSessionDiff"), 1, "k", 10, 30);

  /* Started with no firmware: one is drawn from the table, and it is the
   * device's firmware. */
  version = pm_test_member_string (first, "version");
  g_assert_true (firmware_in_table (version));
  g_assert_cmpstr (version, ==, pm_device_get_firmware (fixture->legacy));

  /* Uptime counts from the start, however late the test got to ask. */
  uptime = pm_test_member_int (first, "uptimeSeconds");
  g_assert_cmpint (uptime, <=, seconds_since_start (fixture->legacy));

  pm_test_wait_ms (1100);
  second = get_info (fixture, fixture->legacy);
  assert_shape (second, legacy_fields, G_N_ELEMENTS (legacy_fields));
  g_assert_cmpint (pm_test_member_int (second, "uptimeSeconds"), >=, 1);
  g_assert_cmpint (pm_test_member_int (second, "uptimeSeconds"), >=, uptime);
  g_assert_cmpint (pm_test_member_int (second, "uptimeSeconds"), <=, seconds_since_start (fixture->legacy));
  g_assert_cmpstr (pm_test_member_string (second, "version"), ==, version);
}

static void
test_info_new (Fixture       *fixture,
               gconstpointer  user_data)
{
  gint64 before_ms = g_get_real_time () / 1000;
  g_autoptr(JsonObject) first = get_info (fixture, fixture->modern);
  gint64 after_ms = g_get_real_time () / 1000;
  g_autoptr(JsonObject) second = NULL;
  JsonObject *history;
  gint64 uptime, stamp;

  assert_shape (first, new_fields, G_N_ELEMENTS (new_fields));
  g_assert_false (json_object_has_member (first, "hashRate"));
  assert_difficulty (pm_test_member_string (first, "bestDiff"), 1, "M", 400, 500);
  assert_difficulty (pm_test_member_string (first, "bestSessionDiff"), 1, "M", 100, 200);
  g_assert_cmpstr (pm_device_get_firmware (fixture->modern), ==, NEW_FIRMWARE);

  stamp = pm_test_member_int (first, "hashRateTimestamp");
  g_assert_cmpint (stamp, >=, before_ms);
  g_assert_cmpint (stamp, <=, after_ms);

  history = json_object_get_object_member (first, "history");
  g_assert_nonnull (history);
  g_assert_cmpuint (json_object_get_size (history), ==, 5);
  assert_int_array (history, "hashrate_10m", 290000, 310000);
  assert_int_array (history, "hashrate_1h", 300000, 310000);
  assert_int_array (history, "hashrate_1d", 310000, 320000);
  assert_int_array (history, "timestamps", 2000, 5000);
  stamp = pm_test_member_int (history, "timestampBase");
  g_assert_cmpint (stamp, >=, before_ms);
  g_assert_cmpint (stamp, <=, after_ms);

  /* Uptime counts from the start, however late the test got to ask. */
  uptime = pm_test_member_int (first, "uptimeSeconds");
  g_assert_cmpint (uptime, <=, seconds_since_start (fixture->modern));

  pm_test_wait_ms (1100);
  second = get_info (fixture, fixture->modern);
  assert_shape (second, new_fields, G_N_ELEMENTS (new_fields));
  g_assert_cmpint (pm_test_member_int (second, "uptimeSeconds"), >=, 1);
  g_assert_cmpint (pm_test_member_int (second, "uptimeSeconds"), >=, uptime);
  g_assert_cmpint (pm_test_member_int (second, "uptimeSeconds"), <=, seconds_since_start (fixture->modern));
}

static void
test_info_head (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "HEAD",
                                                "/api/system/info", NULL, 0);

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  assert_cors (response);
  g_assert_cmpuint (g_bytes_get_size (response->body), ==, 0);
}

/* ---- PATCH /api/system -------------------------------------------------- */

static void
test_patch_merge (Fixture       *fixture,
                  gconstpointer  user_data)
{
  const char *nested_json =
    "{\"list\":[1,2.5,\"three\",null,true,{\"deep\":{\"deeper\":[]}}],\"flag\":false}";
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(JsonObject) again = NULL;
  g_autoptr(JsonObject) other = NULL;
  g_autoptr(JsonNode) expected_nested = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PmTestResponse) raw = NULL;
  g_autofree char *body = NULL;

  patch_ok (fixture, fixture->legacy, "{\"power\":20,\"frequency\":550}");
  patch_ok (fixture, fixture->legacy, "{\"power\":25}");
  body = g_strdup_printf ("{\"customKey\":\"hello\",\"nested\":%s}", nested_json);
  patch_ok (fixture, fixture->legacy, body);

  info = get_info (fixture, fixture->legacy);
  again = get_info (fixture, fixture->legacy);

  /* The second PATCH replaced power and left frequency alone. */
  g_assert_cmpint (pm_test_member_int (info, "power"), ==, 25);
  g_assert_cmpint (pm_test_member_int (info, "frequency"), ==, 550);
  g_assert_cmpint (pm_test_member_int (again, "power"), ==, 25);
  g_assert_cmpint (pm_test_member_int (again, "frequency"), ==, 550);

  /* Unknown keys and nested values are stored and echoed as sent. */
  g_assert_cmpstr (pm_test_member_string (info, "customKey"), ==, "hello");
  expected_nested = json_from_string (nested_json, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (json_object_get_member (info, "nested"), expected_nested));
  g_assert_true (json_node_equal (json_object_get_member (again, "nested"), expected_nested));
  g_assert_cmpuint (json_object_get_size (info), ==, G_N_ELEMENTS (legacy_fields) + 2);

  /* Everything not overridden is still generated, and still random. */
  g_assert_cmpfloat (member_number (info, "hashRate"), >=, 700);
  g_assert_cmpfloat (member_number (info, "hashRate"), <=, 800);
  g_assert_cmpfloat (member_number (info, "hashRate"), !=, member_number (again, "hashRate"));
  g_assert_cmpint (pm_test_member_int (info, "voltage"), >=, 5000);
  g_assert_cmpint (pm_test_member_int (info, "voltage"), <=, 6000);
  g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, "mockaxe1");

  /* An overridden field keeps its place: power comes first. */
  raw = request (fixture, fixture->legacy, "GET", "/api/system/info", NULL, 0);
  g_assert_true (g_str_has_prefix (pm_test_response_text (raw), "{\"power\":25,"));

  /* The other device has overrides of its own: none. */
  other = get_info (fixture, fixture->modern);
  g_assert_false (json_object_has_member (other, "customKey"));
  g_assert_false (json_object_has_member (other, "nested"));
  assert_shape (other, new_fields, G_N_ELEMENTS (new_fields));
}

static void
assert_kept (Fixture  *fixture,
             PmDevice *device)
{
  g_autoptr(JsonObject) info = get_info (fixture, device);

  g_assert_cmpint (pm_test_member_int (info, "power"), ==, 21);
  g_assert_cmpstr (pm_test_member_string (info, "note"), ==, "keep");
  g_assert_false (json_object_has_member (info, "evil"));
}

typedef struct
{
  const char *name;
  const char *body;
  gssize      length;
  guint       status;
  const char *hint;
} BadBody;

static void
test_patch_bad (Fixture       *fixture,
                gconstpointer  user_data)
{
  static const char invalid_utf8[] = "{\"power\":99,\"note\":\"\xff\xfe\",\"evil\":1}";
  static const char with_nul[] = "{\"power\":99,\"note\":\"a\0b\",\"evil\":1}";
  static const BadBody bodies[] = {
    { "unterminated", "{\"power\":99,\"note\":\"changed\",\"evil\":1", -1, 400, "JSON" },
    { "trailing comma", "{\"power\":99,\"evil\":1,}", -1, 400, "JSON" },
    { "garbage after", "{\"power\":99,\"evil\":1} x", -1, 400, "JSON" },
    { "not JSON", "power=99&evil=1", -1, 400, "JSON" },
    { "array", "[{\"power\":99,\"evil\":1}]", -1, 400, "array" },
    { "string", "\"{\\\"power\\\":99}\"", -1, 400, "string" },
    { "number", "99", -1, 400, "number" },
    { "true", "true", -1, 400, "boolean" },
    { "null", "null", -1, 400, "null" },
    { "empty", "", 0, 400, "empty" },
    { "whitespace", " \r\n\t  \n", -1, 400, "empty" },
    { "invalid UTF-8", invalid_utf8, sizeof invalid_utf8 - 1, 400, "UTF-8" },
    { "NUL byte", with_nul, sizeof with_nul - 1, 400, NULL },
  };
  g_autoptr(GString) deep = g_string_new ("{\"power\":99,\"evil\":");
  g_autoptr(GString) deep_ok = g_string_new ("{\"deep\":");
  g_autofree char *over = padded_object ("{\"power\":99,\"evil\":1,", MAX_BODY_BYTES + 1);
  g_autofree char *at_limit = padded_object ("{", MAX_BODY_BYTES);
  g_autofree char *huge = NULL;
  gsize huge_length = 8 * 1024 * 1024;
  gsize i;

  patch_ok (fixture, fixture->legacy, "{\"power\":21,\"note\":\"keep\"}");
  assert_kept (fixture, fixture->legacy);

  for (i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(PmTestResponse) response = NULL;

      g_test_message ("bad body: %s", bodies[i].name);
      response = request (fixture, fixture->legacy, "PATCH", "/api/system",
                          bodies[i].body, bodies[i].length);
      assert_json_error (response, bodies[i].status, bodies[i].hint);
      assert_kept (fixture, fixture->legacy);
    }

  /* Nesting: 65 levels (the object and 64 arrays) is refused... */
  for (i = 0; i < MAX_DEPTH; i++)
    g_string_append_c (deep, '[');
  for (i = 0; i < MAX_DEPTH; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  {
    g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "PATCH",
                                                  "/api/system", deep->str, deep->len);

    assert_json_error (response, 400, "deep");
    assert_kept (fixture, fixture->legacy);
  }

  /* ...and 64 levels is stored. */
  for (i = 0; i < MAX_DEPTH - 1; i++)
    g_string_append_c (deep_ok, '[');
  for (i = 0; i < MAX_DEPTH - 1; i++)
    g_string_append_c (deep_ok, ']');
  g_string_append_c (deep_ok, '}');
  patch_ok (fixture, fixture->legacy, deep_ok->str);
  {
    g_autoptr(JsonObject) info = get_info (fixture, fixture->legacy);
    JsonNode *node = json_object_get_member (info, "deep");
    guint depth = 1;

    g_assert_nonnull (node);
    while (JSON_NODE_HOLDS_ARRAY (node) && json_array_get_length (json_node_get_array (node)) > 0)
      {
        node = json_array_get_element (json_node_get_array (node), 0);
        depth++;
      }
    g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
    g_assert_cmpuint (depth, ==, MAX_DEPTH - 1);
    g_assert_cmpint (pm_test_member_int (info, "power"), ==, 21);
  }

  /* Size: one byte over the limit is refused, exactly the limit is fine. */
  {
    g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "PATCH",
                                                  "/api/system", over, -1);

    assert_json_error (response, 413, "limit");
    assert_kept (fixture, fixture->legacy);
  }
  patch_ok (fixture, fixture->legacy, at_limit);
  {
    g_autoptr(JsonObject) info = get_info (fixture, fixture->legacy);

    g_assert_cmpuint (strlen (pm_test_member_string (info, "pad")), ==, MAX_BODY_BYTES - 10);
    g_assert_cmpint (pm_test_member_int (info, "power"), ==, 21);
    g_assert_cmpstr (pm_test_member_string (info, "note"), ==, "keep");
  }

  /* A huge declared length is refused at once, from the head alone: the
   * client sends no byte of the body before it reads the 413. */
  huge = padded_object ("{\"power\":99,\"evil\":1,", huge_length);
  {
    g_autofree char *head = g_strdup_printf ("PATCH /api/system HTTP/1.1\r\nHost: x\r\n"
                                             "Content-Type: application/json\r\n"
                                             "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                                             huge_length);
    g_autofree char *raw = pm_test_raw_http (pm_device_get_port (fixture->legacy),
                                             head, strlen (head));
    g_autoptr(RawReply) reply = raw_reply_parse (raw);

    assert_raw_json_error (reply, 413, "limit");
    assert_kept (fixture, fixture->legacy);
  }

  /* Chunked: one byte over the limit... */
  {
    g_autoptr(RawReply) reply = send_chunked_patch (fixture->legacy, over,
                                                    MAX_BODY_BYTES + 1, 4096);

    assert_raw_json_error (reply, 413, "limit");
    assert_kept (fixture, fixture->legacy);
  }
  /* ...a lot over it... */
  {
    g_autoptr(RawReply) reply = send_chunked_patch (fixture->legacy, huge, 1024 * 1024, 65536);

    assert_raw_json_error (reply, 413, "limit");
    assert_kept (fixture, fixture->legacy);
  }
  /* ...a bad document in chunks... */
  {
    static const char bad[] = "[{\"power\":99,\"evil\":1}]";
    g_autoptr(RawReply) reply = send_chunked_patch (fixture->legacy, bad, sizeof bad - 1, 5);

    assert_raw_json_error (reply, 400, "array");
    assert_kept (fixture, fixture->legacy);
  }
  /* ...and a good one, which is merged. */
  {
    static const char good[] = "{\"chunked\":\"yes\",\"frequency\":575}";
    g_autoptr(RawReply) reply = send_chunked_patch (fixture->legacy, good, sizeof good - 1, 7);
    g_autoptr(JsonObject) info = NULL;

    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_cmpstr (soup_message_headers_get_content_type (reply->headers, NULL), ==,
                     "application/json");
    g_assert_cmpstr (reply->body, ==, PATCH_REPLY);

    info = get_info (fixture, fixture->legacy);
    g_assert_cmpstr (pm_test_member_string (info, "chunked"), ==, "yes");
    g_assert_cmpint (pm_test_member_int (info, "frequency"), ==, 575);
    g_assert_cmpint (pm_test_member_int (info, "power"), ==, 21);
    g_assert_cmpstr (pm_test_member_string (info, "note"), ==, "keep");
  }
  /* Exactly the limit in chunks is fine too. */
  {
    g_autoptr(RawReply) reply = send_chunked_patch (fixture->legacy, at_limit,
                                                    MAX_BODY_BYTES, 1000);

    g_assert_cmpuint (reply->status, ==, 200);
    g_assert_cmpstr (reply->body, ==, PATCH_REPLY);
  }

  /* The other device never saw any of it. */
  {
    g_autoptr(JsonObject) other = get_info (fixture, fixture->modern);

    assert_shape (other, new_fields, G_N_ELEMENTS (new_fields));
  }
}

/* ---- body limit before memory ------------------------------------------- */

#define FLOOD_BUFFER_SIZE (64 * 1024)
#define FLOOD_TOTAL (32 * 1024 * 1024)

typedef struct
{
  guint    port;
  guint64  sent;     /* body bytes written */
  GString *reply;
  gint     done;
} Flood;

static gpointer
flood_thread (gpointer user_data)
{
  static char buffer[FLOOD_BUFFER_SIZE];
  static const char head[] = "PATCH /api/system HTTP/1.1\r\n"
                             "Host: x\r\n"
                             "Transfer-Encoding: chunked\r\n"
                             "Content-Type: application/json\r\n"
                             "Connection: close\r\n"
                             "\r\n";
  Flood *flood = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree char *chunk_head = g_strdup_printf ("%x\r\n", FLOOD_BUFFER_SIZE);
  GOutputStream *out;
  GInputStream *in;
  char reply[4096];
  gssize n;

  memset (buffer, ' ', sizeof buffer);
  buffer[0] = '{';

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", flood->port, NULL, NULL);
  if (connection != NULL)
    {
      out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
      in = g_io_stream_get_input_stream (G_IO_STREAM (connection));

      if (g_output_stream_write_all (out, head, sizeof head - 1, NULL, NULL, NULL))
        {
          while (flood->sent < FLOOD_TOTAL)
            {
              if (!g_output_stream_write_all (out, chunk_head, strlen (chunk_head), NULL, NULL, NULL) ||
                  !g_output_stream_write_all (out, buffer, sizeof buffer, NULL, NULL, NULL) ||
                  !g_output_stream_write_all (out, "\r\n", 2, NULL, NULL, NULL))
                break;
              flood->sent += sizeof buffer;
            }
          g_output_stream_write_all (out, "0\r\n\r\n", 5, NULL, NULL, NULL);
        }
      while ((n = g_input_stream_read (in, reply, sizeof reply, NULL, NULL)) > 0)
        g_string_append_len (flood->reply, reply, n);
    }

  pm_test_flag_set (&flood->done);
  return NULL;
}

/* The peak resident set size of this process, in KiB. */
static guint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "\nVmHWM:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("\nVmHWM:"), NULL, 10);
}

static void
test_patch_body_limit_memory (Fixture       *fixture,
                              gconstpointer  user_data)
{
  Flood flood = { pm_device_get_port (fixture->legacy), 0, g_string_new (NULL), 0 };
  g_autoptr(RawReply) reply = NULL;
  GThread *thread;
  guint64 before, after;

  patch_ok (fixture, fixture->legacy, "{\"power\":21,\"note\":\"keep\"}");

  /* Start from the current size, so earlier peaks cannot hide growth
   * (writing 5 to clear_refs resets the peak; if it fails the peak only
   * makes the check looser, never stricter). */
  g_file_set_contents ("/proc/self/clear_refs", "5", 1, NULL);
  before = peak_rss_kib ();

  thread = g_thread_new ("flood", flood_thread, &flood);
  g_assert_true (pm_test_flag_wait (&flood.done, PM_TEST_TIMEOUT_MS));
  g_thread_join (thread);

  after = peak_rss_kib ();
  g_test_message ("peak RSS %" G_GUINT64_FORMAT " KiB before, %" G_GUINT64_FORMAT
                  " KiB after a %d MiB body", before, after, FLOOD_TOTAL / (1024 * 1024));

  g_assert_cmpuint (flood.sent, ==, FLOOD_TOTAL);
  g_assert_cmpuint (after - before, <, 16 * 1024);

  reply = raw_reply_parse (flood.reply->str);
  g_string_free (flood.reply, TRUE);
  assert_raw_json_error (reply, 413, "limit");
  assert_kept (fixture, fixture->legacy);
}

/* ---- restart ------------------------------------------------------------ */

typedef struct
{
  guint  n_started;
  guint  n_ended;
  gint64 ended_at;
} RestartWatch;

static void
on_restarting_changed (GObject    *object,
                       GParamSpec *pspec,
                       gpointer    user_data)
{
  RestartWatch *watch = user_data;

  if (pm_device_get_restarting (PM_DEVICE (object)))
    {
      watch->n_started++;
    }
  else
    {
      watch->n_ended++;
      watch->ended_at = g_get_monotonic_time ();
    }
}

static void
test_restart (Fixture       *fixture,
              gconstpointer  user_data)
{
  static const char *const paths[] = {
    "/api/system/info", "/nonexistent", "/api/ws", "/",
  };
  RestartWatch watch = { 0, 0, 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) info = NULL;
  gint64 sent_at, window_us;
  gulong handler;
  gsize i;

  patch_ok (fixture, fixture->legacy, "{\"power\":22,\"marker\":\"before restart\"}");
  handler = g_signal_connect (fixture->legacy, "notify::restarting",
                              G_CALLBACK (on_restarting_changed), &watch);
  g_assert_false (pm_device_get_restarting (fixture->legacy));

  sent_at = g_get_monotonic_time ();
  {
    g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "POST",
                                                  "/api/system/restart", NULL, 0);

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (pm_test_response_content_type (response), ==, "text/html");
    g_assert_cmpstr (pm_test_response_text (response), ==, RESTART_REPLY);
    assert_cors (response);
  }
  g_assert_true (pm_device_get_restarting (fixture->legacy));
  g_assert_cmpuint (watch.n_started, ==, 1);
  g_assert_cmpuint (watch.n_ended, ==, 0);

  /* Everything gets 503 now: GET, PATCH, another restart, unknown paths. */
  for (i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "GET",
                                                    paths[i], NULL, 0);

      assert_unavailable (response);
    }
  {
    g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "PATCH",
                                                  "/api/system", "{\"power\":99}", -1);

    assert_unavailable (response);
  }
  {
    g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "POST",
                                                  "/api/system/restart", NULL, 0);

    assert_unavailable (response);
  }
  {
    g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "OPTIONS",
                                                  "/api/system", NULL, 0);

    assert_unavailable (response);
  }

  /* The API refuses too, and changes nothing. */
  g_assert_false (pm_device_restart (fixture->legacy, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_RESTARTING);
  g_clear_error (&error);
  g_assert_false (pm_device_update (fixture->legacy, "{\"power\":98}", 12, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_RESTARTING);
  g_clear_error (&error);
  g_assert_cmpuint (watch.n_started, ==, 1);

  /* The other device does not care. */
  {
    g_autoptr(JsonObject) other = get_info (fixture, fixture->modern);

    assert_shape (other, new_fields, G_N_ELEMENTS (new_fields));
    g_assert_false (pm_device_get_restarting (fixture->modern));
  }

  /* The window ends by itself, 5 s after it began: measured from before
   * the POST it cannot be shorter (GLib's timers never fire early), and a
   * busy machine may make it end late, not much. */
  g_assert_true (pm_test_wait_until (device_not_restarting, fixture->legacy,
                                     RESTART_WINDOW_MS + PM_TEST_TIMEOUT_MS));
  g_assert_cmpuint (watch.n_ended, ==, 1);
  g_assert_cmpuint (watch.n_started, ==, 1);
  window_us = watch.ended_at - sent_at;
  g_test_message ("restart window: %" G_GINT64_FORMAT " us", window_us);
  g_assert_cmpint (window_us, >=, RESTART_WINDOW_MS * G_GINT64_CONSTANT (1000));
  g_assert_cmpint (window_us, <=, (RESTART_WINDOW_MS + 2000) * G_GINT64_CONSTANT (1000));

  /* Back, with the overrides from before and none from during. */
  info = get_info (fixture, fixture->legacy);
  g_assert_cmpint (pm_test_member_int (info, "power"), ==, 22);
  g_assert_cmpstr (pm_test_member_string (info, "marker"), ==, "before restart");
  g_assert_cmpuint (json_object_get_size (info), ==, G_N_ELEMENTS (legacy_fields) + 1);
  g_assert_cmpint (pm_test_member_int (info, "uptimeSeconds"), >=, RESTART_WINDOW_MS / 1000);
  g_assert_false (pm_device_get_restarting (fixture->legacy));
  g_signal_handler_disconnect (fixture->legacy, handler);
}

static void
test_restart_stopped (Fixture       *fixture,
                      gconstpointer  user_data)
{
  RestartWatch watch = { 0, 0, 0 };
  g_autoptr(GError) error = NULL;
  gulong handler;

  handler = g_signal_connect (fixture->legacy, "notify::restarting",
                              G_CALLBACK (on_restarting_changed), &watch);
  g_assert_true (pm_device_restart (fixture->legacy, &error));
  g_assert_no_error (error);
  g_assert_true (pm_device_get_restarting (fixture->legacy));
  g_assert_cmpuint (watch.n_started, ==, 1);

  /* Stopping ends the window at once, and no timer is left behind to
   * fire on a device that is gone (teardown checks the references). */
  pm_device_stop (fixture->legacy);
  g_assert_false (pm_device_get_restarting (fixture->legacy));
  g_assert_false (pm_device_get_listening (fixture->legacy));
  g_assert_cmpuint (watch.n_ended, ==, 1);
  g_signal_handler_disconnect (fixture->legacy, handler);

  /* It restarts normally after a new start. */
  g_assert_true (pm_device_start (fixture->legacy, "127.0.0.1", &error));
  g_assert_no_error (error);
  {
    g_autoptr(JsonObject) info = get_info (fixture, fixture->legacy);

    assert_shape (info, legacy_fields, G_N_ELEMENTS (legacy_fields));
  }
}

/* ---- routing ------------------------------------------------------------ */

static void
test_routing_not_found (Fixture       *fixture,
                        gconstpointer  user_data)
{
  static const char *const paths[] = {
    "/api/system/infox", "/api/system/info/x", "/api/systemx", "/api", "/",
    "/api/system/restart/x", "/api/system/", "/API/SYSTEM/INFO", "/api/wsx",
  };
  gsize i;

  patch_ok (fixture, fixture->legacy, "{\"power\":21,\"note\":\"keep\"}");

  for (i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(PmTestResponse) get = NULL;
      g_autoptr(PmTestResponse) post = NULL;
      g_autoptr(PmTestResponse) patch = NULL;

      g_test_message ("GET/POST/PATCH %s", paths[i]);
      get = request (fixture, fixture->legacy, "GET", paths[i], NULL, 0);
      assert_json_error (get, 404, paths[i]);
      post = request (fixture, fixture->legacy, "POST", paths[i], NULL, 0);
      assert_json_error (post, 404, paths[i]);
      patch = request (fixture, fixture->legacy, "PATCH", paths[i],
                       "{\"power\":99,\"evil\":1}", -1);
      assert_json_error (patch, 404, paths[i]);
    }

  /* None of them did what the path they resemble does. */
  g_assert_false (pm_device_get_restarting (fixture->legacy));
  assert_kept (fixture, fixture->legacy);

  /* The New device routes the same way. */
  {
    g_autoptr(PmTestResponse) response = request (fixture, fixture->modern, "GET",
                                                  "/api/system/infox", NULL, 0);

    assert_json_error (response, 404, NULL);
  }
}

typedef struct
{
  const char *method;
  const char *path;
  const char *allow;
} WrongMethod;

static void
test_routing_wrong_method (Fixture       *fixture,
                           gconstpointer  user_data)
{
  static const WrongMethod cases[] = {
    { "POST", "/api/system/info", "GET, HEAD, OPTIONS" },
    { "PUT", "/api/system/info", "GET, HEAD, OPTIONS" },
    { "DELETE", "/api/system/info", "GET, HEAD, OPTIONS" },
    { "PATCH", "/api/system/info", "GET, HEAD, OPTIONS" },
    { "GET", "/api/system", "PATCH, OPTIONS" },
    { "POST", "/api/system", "PATCH, OPTIONS" },
    { "PUT", "/api/system", "PATCH, OPTIONS" },
    { "GET", "/api/system/restart", "POST, OPTIONS" },
    { "PUT", "/api/system/restart", "POST, OPTIONS" },
  };
  gsize i;

  patch_ok (fixture, fixture->legacy, "{\"power\":21,\"note\":\"keep\"}");

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PmTestResponse) response = NULL;

      g_test_message ("%s %s", cases[i].method, cases[i].path);
      response = request (fixture, fixture->legacy, cases[i].method, cases[i].path,
                          "{\"power\":99,\"evil\":1}", -1);
      assert_json_error (response, 405, cases[i].method);
      g_assert_cmpstr (soup_message_headers_get_one (response->headers, "Allow"), ==,
                       cases[i].allow);
    }

  g_assert_false (pm_device_get_restarting (fixture->legacy));
  assert_kept (fixture, fixture->legacy);
}

static void
assert_methods_listed (const char *list,
                       const char *method)
{
  g_auto(GStrv) items = g_strsplit (list, ",", -1);
  gsize i;

  for (i = 0; items[i] != NULL; i++)
    if (strcmp (g_strstrip (items[i]), method) == 0)
      return;
  g_error ("“%s” does not list %s", list, method);
}

static void
test_routing_options (Fixture       *fixture,
                      gconstpointer  user_data)
{
  static const WrongMethod cases[] = {
    { "OPTIONS", "/api/system", "PATCH" },
    { "OPTIONS", "/api/system/info", "GET" },
    { "OPTIONS", "/api/system/restart", "POST" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "OPTIONS",
                                                    cases[i].path, NULL, 0);
      const char *allow = soup_message_headers_get_one (response->headers, "Allow");
      const char *methods = soup_message_headers_get_one (response->headers,
                                                          "Access-Control-Allow-Methods");

      g_test_message ("OPTIONS %s", cases[i].path);
      g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
      assert_cors (response);
      g_assert_nonnull (allow);
      g_assert_nonnull (methods);
      assert_methods_listed (allow, cases[i].allow);
      assert_methods_listed (methods, cases[i].allow);
      assert_methods_listed (allow, "OPTIONS");
      g_assert_cmpuint (g_bytes_get_size (response->body), ==, 0);
    }

  /* OPTIONS is routed like everything else. */
  {
    g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "OPTIONS",
                                                  "/api/systemx", NULL, 0);

    assert_json_error (response, 404, NULL);
  }
}

/* ---- sockets ------------------------------------------------------------ */

#define N_BACKLOG_CLIENTS 50

static GSocketAddress *
loopback_address (guint port)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);

  return g_inet_socket_address_new (loopback, (guint16) port);
}

static void
test_socket_backlog (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GSocketAddress) address = loopback_address (pm_device_get_port (fixture->legacy));
  GSocket *sockets[N_BACKLOG_CLIENTS];
  gboolean connected[N_BACKLOG_CLIENTS] = { FALSE, };
  GPollFD fds[N_BACKLOG_CLIENTS];
  gint64 deadline;
  guint n_connected = 0;
  guint i;

  /* Connect them all without letting the main loop run, so nothing is
   * accepted: they must all fit in the listen queue. */
  for (i = 0; i < N_BACKLOG_CLIENTS; i++)
    {
      g_autoptr(GError) error = NULL;

      sockets[i] = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, &error);
      g_assert_no_error (error);
      g_socket_set_blocking (sockets[i], FALSE);
      if (!g_socket_connect (sockets[i], address, NULL, &error))
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
    }

  deadline = g_get_monotonic_time () + PM_TEST_TIMEOUT_MS * G_GINT64_CONSTANT (1000);
  while (n_connected < N_BACKLOG_CLIENTS)
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      guint n_fds = 0;
      guint index[N_BACKLOG_CLIENTS];

      for (i = 0; i < N_BACKLOG_CLIENTS; i++)
        {
          if (connected[i])
            continue;
          fds[n_fds].fd = g_socket_get_fd (sockets[i]);
          fds[n_fds].events = G_IO_OUT;
          fds[n_fds].revents = 0;
          index[n_fds] = i;
          n_fds++;
        }

      if (g_poll (fds, n_fds, (int) MAX (0, left_ms)) <= 0)
        break;

      for (i = 0; i < n_fds; i++)
        {
          g_autoptr(GError) error = NULL;
          gint so_error = -1;

          if (fds[i].revents == 0)
            continue;
          g_assert_true (g_socket_get_option (sockets[index[i]], SOL_SOCKET, SO_ERROR,
                                              &so_error, &error));
          g_assert_no_error (error);
          g_assert_cmpint (so_error, ==, 0);
          g_assert_true (fds[i].revents & G_IO_OUT);
          connected[index[i]] = TRUE;
          n_connected++;
        }
    }

  g_assert_cmpuint (n_connected, ==, N_BACKLOG_CLIENTS);

  for (i = 0; i < N_BACKLOG_CLIENTS; i++)
    {
      g_socket_close (sockets[i], NULL);
      g_object_unref (sockets[i]);
    }

  /* The abandoned connections do not get in the way. */
  {
    g_autoptr(JsonObject) info = get_info (fixture, fixture->legacy);

    assert_shape (info, legacy_fields, G_N_ELEMENTS (legacy_fields));
  }
}

static void
test_socket_slow_client (Fixture       *fixture,
                         gconstpointer  user_data)
{
  static const char partial[] = "GET /api/system/info HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Ag";
  g_autoptr(GSocketAddress) address = loopback_address (pm_device_get_port (fixture->legacy));
  g_autoptr(GSocket) slow = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;

  slow = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (slow, address, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_socket_send (slow, partial, sizeof partial - 1, NULL, &error), ==,
                   sizeof partial - 1);
  g_assert_no_error (error);

  /* Give the device time to accept it and start reading the request
   * (the requests below would let it do so anyway, first in line). */
  pm_test_wait_ms (100);

  start = g_get_monotonic_time ();
  {
    g_autoptr(JsonObject) info = get_info (fixture, fixture->modern);

    assert_shape (info, new_fields, G_N_ELEMENTS (new_fields));
  }
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);

  start = g_get_monotonic_time ();
  {
    g_autoptr(JsonObject) info = get_info (fixture, fixture->legacy);

    assert_shape (info, legacy_fields, G_N_ELEMENTS (legacy_fields));
  }
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);

  /* The slow client is still connected, waiting for its reply. */
  g_assert_true (g_socket_is_connected (slow));
  g_assert_cmpint (g_socket_condition_check (slow, G_IO_IN | G_IO_HUP | G_IO_ERR), ==, 0);
  g_socket_close (slow, NULL);
}

static void
test_socket_port_in_use (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(GSocketAddress) any = loopback_address (0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) taken = NULL;
  g_autoptr(GSocket) client = NULL;
  g_autoptr(GSocket) accepted = NULL;
  g_autoptr(GError) error = NULL;
  PmDevice *device;
  gpointer weak;
  guint port;

  taken = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (taken, any, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (g_socket_listen (taken, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (taken, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  device = pm_test_device_new (fixture->acceptor, port, "mockaxe3", "pluto-legacy",
                          NULL, FALSE, SEED);
  weak = device;
  g_object_add_weak_pointer (G_OBJECT (device), &weak);

  g_assert_false (pm_device_start (device, "127.0.0.1", &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE);
  g_assert_nonnull (strstr (error->message, "in use"));
  g_clear_error (&error);
  g_assert_false (pm_device_get_listening (device));
  g_assert_cmpuint (pm_device_get_port (device), ==, port);
  g_assert_cmpuint (pm_acceptor_get_n_listeners (fixture->acceptor), ==, 2);

  /* Nothing was served: a connection to the port reaches the socket that
   * holds it, not the device. */
  address = loopback_address (port);
  client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (client, address, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_socket_condition_timed_wait (taken, G_IO_IN, G_USEC_PER_SEC, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (taken, FALSE);
  accepted = g_socket_accept (taken, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (accepted);

  /* Once the port is free, the same device starts on it. */
  g_socket_close (client, NULL);
  g_socket_close (accepted, NULL);
  g_socket_close (taken, NULL);
  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  g_assert_true (pm_device_get_listening (device));
  g_assert_cmpuint (pm_device_get_port (device), ==, port);
  {
    g_autoptr(JsonObject) info = get_info (fixture, device);

    g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, "mockaxe3");
  }

  pm_device_stop (device);
  g_object_unref (device);
  g_assert_null (weak);
  g_assert_cmpuint (pm_acceptor_get_n_listeners (fixture->acceptor), ==, 2);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_socket_stop (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = loopback_address (pm_device_get_port (fixture->legacy));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  guint n_notified = 0;
  gulong handler;

  /* It answers before. */
  {
    g_autoptr(JsonObject) info = get_info (fixture, fixture->legacy);

    assert_shape (info, legacy_fields, G_N_ELEMENTS (legacy_fields));
  }

  handler = g_signal_connect (fixture->legacy, "notify::listening",
                              G_CALLBACK (count_notify), &n_notified);
  pm_device_stop (fixture->legacy);
  g_signal_handler_disconnect (fixture->legacy, handler);

  g_assert_false (pm_device_get_listening (fixture->legacy));
  g_assert_cmpuint (n_notified, ==, 1);
  g_assert_cmpuint (pm_acceptor_get_n_listeners (fixture->acceptor), ==, 1);

  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (address), NULL,
                                 pm_test_keep_result, &result);
  g_assert_true (pm_test_wait_result (&result, PM_TEST_TIMEOUT_MS));
  connection = g_socket_client_connect_finish (client, result, &error);
  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);

  /* Stopping again is harmless, and the other device carries on. */
  pm_device_stop (fixture->legacy);
  g_assert_false (pm_device_get_listening (fixture->legacy));
  {
    g_autoptr(JsonObject) info = get_info (fixture, fixture->modern);

    assert_shape (info, new_fields, G_N_ELEMENTS (new_fields));
  }

  /* A stopped device does not restart: a firmware one would open its
   * port again when its reboot was over. */
  g_assert_false (pm_device_restart (fixture->legacy, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_FAILED);
  g_assert_false (pm_device_get_restarting (fixture->legacy));
}

/* Every reply says Connection: close, as the server closes every
 * connection after its response; a WebSocket upgrade says Upgrade. */
static void
test_socket_keep_alive (Fixture      *fixture,
                              gconstpointer user_data)
{
  static const char *const cases[][3] = {
    { "GET", "/api/system/info", NULL },
    { "HEAD", "/api/system/info", NULL },
    { "PATCH", "/api/system", "{\"power\":21}" },
    { "PATCH", "/api/system", "[1]" },
    { "GET", "/nowhere", NULL },
    { "GET", "/api/system", NULL },
    { "OPTIONS", "/api/system", NULL },
  };
  g_autoptr(PmDevice) streaming = NULL;
  g_autoptr(GError) error = NULL;
  const char *two_requests = "GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n"
                             "GET /api/system/info HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autofree char *pipelined = NULL;
  g_autofree char *upgrade = NULL;
  g_autofree char *upgrade_request = NULL;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PmTestResponse) response =
        request (fixture, fixture->legacy, cases[i][0], cases[i][1], cases[i][2], -1);

      g_test_message ("%s %s -> %u", cases[i][0], cases[i][1], response->status);
      /* Every reply, errors included, leaves the connection open for the
       * next request (see test-keepalive for the rest). */
      g_assert_null (soup_message_headers_get_list (response->headers, "Connection"));
    }

  /* Two pipelined requests, then a half-close: two replies, then the
   * server closes. */
  pipelined = pm_test_raw_http (pm_device_get_port (fixture->legacy), two_requests,
                                strlen (two_requests));
  g_assert_true (g_str_has_prefix (pipelined, "HTTP/1.1 200 OK\r\n"));
  g_assert_null (strstr (pipelined, "\r\nConnection: close\r\n"));
  g_assert_nonnull (strstr (pipelined + 1, "HTTP/1.1 200 OK\r\n"));
  g_assert_null (strstr (strstr (pipelined + 1, "HTTP/1.1 ") + 1, "HTTP/1.1 "));

  streaming = pm_test_device_new (fixture->acceptor, 0, "mockaxe9", "pluto-legacy", NULL, TRUE, 1);
  g_assert_true (pm_device_start (streaming, "127.0.0.1", &error));
  g_assert_no_error (error);
  upgrade_request = g_strdup ("GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  upgrade = pm_test_raw_http (pm_device_get_port (streaming), upgrade_request, strlen (upgrade_request));
  g_assert_true (g_str_has_prefix (upgrade, "HTTP/1.1 101 "));
  g_assert_nonnull (strstr (upgrade, "\r\nConnection: Upgrade\r\n"));
  g_assert_null (strstr (upgrade, "close"));
  pm_device_stop (streaming);
}

/* A client that connects and stays silent (or sends half a request)
 * holds its connection only until the request timeout; one whose request
 * was read, such as a WebSocket, keeps it. */
typedef struct
{
  guint    port;
  char    *send;      /* (nullable) bytes to send, then wait */
  gint64   closed_after_us;
  GString *reply;
  gint     done;
} SilentClient;

static gpointer
silent_client_thread (gpointer user_data)
{
  SilentClient *client = user_data;
  gint64 start = g_get_monotonic_time ();

  /* No half-close: the server must see a client that could still send.
   * This blocks until the server closes the connection. */
  if (pm_test_socket_exchange (client->port, client->send,
                               client->send != NULL ? strlen (client->send) : 0,
                               FALSE, client->reply))
    client->closed_after_us = g_get_monotonic_time () - start;
  pm_test_flag_set (&client->done);
  return NULL;
}

static void
on_ws_message (SoupWebsocketConnection *conn,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  (*(guint *) user_data)++;
}

static void
test_socket_request_timeout (Fixture      *fixture,
                             gconstpointer user_data)
{
  g_autoptr(PmAcceptor) acceptor = g_object_new (PM_TYPE_ACCEPTOR, "request-timeout", 300, NULL);
  g_autoptr(PmDevice) device = NULL;
  g_autoptr(SoupWebsocketConnection) ws = NULL;
  g_autoptr(PmTestResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ws_url = NULL;
  g_autofree char *info_url = NULL;
  SilentClient silent = { 0, NULL, 0, NULL, FALSE };
  SilentClient partial = { 0, g_strdup ("GET /api/system/info HTTP/1.1\r\nHost: x\r\n"), 0, NULL, FALSE };
  GThread *threads[2];
  guint frames = 0, frames_before;

  device = g_object_new (PM_TYPE_DEVICE, "acceptor", acceptor, "port", 0, "hostname", "mockaxe7",
                         "logs-enabled", TRUE, "log-interval", 100, NULL);
  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  silent.port = partial.port = pm_device_get_port (device);
  silent.reply = g_string_new (NULL);
  partial.reply = g_string_new (NULL);

  ws_url = g_strdup_printf ("ws://127.0.0.1:%u/api/ws", silent.port);
  ws = pm_test_websocket_connect (fixture->session, ws_url, &error);
  g_assert_no_error (error);
  g_signal_connect (ws, "message", G_CALLBACK (on_ws_message), &frames);

  threads[0] = g_thread_new ("silent", silent_client_thread, &silent);
  threads[1] = g_thread_new ("partial", silent_client_thread, &partial);
  g_assert_true (pm_test_flag_wait (&silent.done, 3000));
  g_assert_true (pm_test_flag_wait (&partial.done, 3000));
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);
  g_free (partial.send);

  /* Shut down after the timeout, not before, and not much later. */
  g_test_message ("silent closed after %" G_GINT64_FORMAT " us, partial after %" G_GINT64_FORMAT " us",
                  silent.closed_after_us, partial.closed_after_us);
  g_assert_cmpint (silent.closed_after_us, >=, 290000);
  g_assert_cmpint (silent.closed_after_us, <, 1500000);
  g_assert_cmpint (partial.closed_after_us, >=, 290000);
  g_assert_cmpint (partial.closed_after_us, <, 1500000);
  /* Each was told why. */
  g_assert_true (g_str_has_prefix (silent.reply->str, "HTTP/1.1 408 Request Timeout\r\n"));
  g_assert_true (g_str_has_suffix (silent.reply->str, "\r\n\r\n{\"error\":\"the request did not arrive in time\"}"));
  g_assert_true (g_str_has_prefix (partial.reply->str, "HTTP/1.1 408 Request Timeout\r\n"));
  g_string_free (silent.reply, TRUE);
  g_string_free (partial.reply, TRUE);

  /* The WebSocket, older than the timeout by now, still streams. */
  g_assert_cmpint (soup_websocket_connection_get_state (ws), ==, SOUP_WEBSOCKET_STATE_OPEN);
  frames_before = frames;
  pm_test_wait_ms (350);
  g_assert_cmpuint (frames, >, frames_before);
  g_assert_cmpint (soup_websocket_connection_get_state (ws), ==, SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, 1);

  /* And ordinary requests go on as before. */
  info_url = g_strdup_printf ("http://127.0.0.1:%u/api/system/info", silent.port);
  response = pm_test_http (fixture->session, "GET", info_url, NULL, NULL, 0);
  g_assert_cmpuint (response->status, ==, 200);

  g_signal_handlers_disconnect_by_data (ws, &frames);
  pm_device_stop (device);
}

/* A device's stored overrides cannot grow without bound: a PATCH that
 * would take them over the limit is refused and changes nothing. */
static void
test_patch_overrides_limit (Fixture      *fixture,
                            gconstpointer user_data)
{
  g_autofree char *pad = g_strnfill (60 * 1024, 'x');
  g_autoptr(PmTestResponse) info = NULL;
  g_autoptr(JsonObject) object = NULL;
  guint i, accepted = 0;
  gboolean refused = FALSE;

  patch_ok (fixture, fixture->legacy, "{\"power\":21,\"note\":\"keep\"}");
  for (i = 0; i < 10 && !refused; i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"pad%u\":\"%s\"}", i, pad);
      g_autoptr(PmTestResponse) response = request (fixture, fixture->legacy, "PATCH",
                                                    "/api/system", body, -1);

      if (response->status == SOUP_STATUS_OK)
        {
          accepted++;
          continue;
        }
      assert_json_error (response, 413, "overrides");
      refused = TRUE;
    }

  /* 256 KiB hold four 60 KiB members, not five. */
  g_assert_true (refused);
  g_assert_cmpuint (accepted, ==, 4);

  info = request (fixture, fixture->legacy, "GET", "/api/system/info", NULL, 0);
  g_assert_cmpuint (info->status, ==, 200);
  g_assert_cmpuint (g_bytes_get_size (info->body), <, 300 * 1024);
  object = pm_test_response_object (info);
  g_assert_true (json_object_has_member (object, "pad3"));
  g_assert_false (json_object_has_member (object, "pad4"));
  g_assert_cmpint (json_object_get_int_member (object, "power"), ==, 21);

  /* Replacing a member with a smaller value still works at the limit. */
  patch_ok (fixture, fixture->legacy, "{\"pad0\":\"small\"}");
  patch_ok (fixture, fixture->legacy, "{\"pad4\":\"small\"}");
}

/* A Content-Length that is not one plain number gets a prompt 400 (libsoup
 * alone would read such a body until the client gave up, and answer
 * nothing), and changes nothing. */
static void
test_patch_bad_content_length (Fixture      *fixture,
                               gconstpointer user_data)
{
  static const char *const lengths[] = { "-1", "+7", "99999999999999999999" };
  gsize i;

  patch_ok (fixture, fixture->legacy, "{\"power\":21,\"note\":\"keep\"}");
  for (i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autofree char *request = g_strdup_printf ("PATCH /api/system HTTP/1.1\r\nHost: x\r\n"
                                                  "Content-Length: %s\r\n\r\n{\"power\":99}",
                                                  lengths[i]);
      gint64 start = g_get_monotonic_time ();
      g_autofree char *raw = pm_test_raw_http (pm_device_get_port (fixture->legacy),
                                               request, strlen (request));
      g_autoptr(RawReply) reply = raw_reply_parse (raw);

      g_test_message ("Content-Length: %s -> %u", lengths[i], reply->status);
      assert_raw_json_error (reply, SOUP_STATUS_BAD_REQUEST, "Content-Length");
      g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
    }
  assert_kept (fixture, fixture->legacy);
}


/* ---- simulated telemetry ------------------------------------------------ */

static PmDevice *
start_simulated_telemetry (Fixture    *fixture,
                           const char *hostname,
                           const char *profile)
{
  g_autoptr(GError) error = NULL;
  PmDevice *device = g_object_new (PM_TYPE_DEVICE,
                                   "acceptor", fixture->acceptor,
                                   "hostname", hostname,
                                   "profile", profile,
                                   "firmware", NEW_FIRMWARE,
                                   "seed", (guint64) SEED,
                                   "simulated-telemetry", TRUE,
                                   NULL);

  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  return device;
}

/* The members of @object and their JSON types, as "name:type" lines; a
 * JSON number is a number whether it has a fraction or not. */
static char *
shape_of (JsonObject *object)
{
  g_autoptr(GList) members = json_object_get_members (object);
  GString *out = g_string_new (NULL);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);

      const char *type = json_node_type_name (node);

      if (JSON_NODE_HOLDS_VALUE (node))
        type = json_node_get_value_type (node) == G_TYPE_DOUBLE ? "gint64"
                                                                : g_type_name (json_node_get_value_type (node));
      g_string_append_printf (out, "%s:%s\n", (const char *) l->data, type);
    }
  return g_string_free (out, FALSE);
}

typedef struct
{
  Fixture  *fixture;
  PmDevice *device;
  double    power;
} PowerWatch;

static gboolean
power_rose (gpointer user_data)
{
  PowerWatch *watch = user_data;
  g_autoptr(JsonObject) info = pm_test_get_info (watch->fixture->session, "127.0.0.1",
                                                 pm_device_get_port (watch->device));

  return json_object_get_double_member (info, "power") > watch->power * 1.1;
}

/* With --telemetry simulated the Pluto shapes keep their members and
 * types, while the numbers hang together: power is volts times amperes on
 * the Legacy board, counters only grow, the New device has four ASICs
 * and a history in time order. */
static void
test_simulated_telemetry (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(PmDevice) legacy = start_simulated_telemetry (fixture, "sim1", "pluto-legacy");
  g_autoptr(PmDevice) modern = start_simulated_telemetry (fixture, "sim2", "pluto-new");
  g_autoptr(JsonObject) random_legacy = pm_test_get_info (fixture->session, "127.0.0.1",
                                                         pm_device_get_port (fixture->legacy));
  g_autoptr(JsonObject) random_new = pm_test_get_info (fixture->session, "127.0.0.1",
                                                      pm_device_get_port (fixture->modern));
  g_autofree char *random_legacy_shape = shape_of (random_legacy);
  g_autofree char *random_new_shape = shape_of (random_new);
  gint64 accepted = -1, uptime = -1;
  guint round;

  for (round = 0; round < 4; round++)
    {
      g_autoptr(JsonObject) info = pm_test_get_info (fixture->session, "127.0.0.1",
                                                     pm_device_get_port (legacy));
      g_autoptr(JsonObject) info_new = pm_test_get_info (fixture->session, "127.0.0.1",
                                                         pm_device_get_port (modern));
      g_autofree char *shape = shape_of (info);
      g_autofree char *shape_new = shape_of (info_new);
      JsonArray *stamps;
      double power = json_object_get_double_member (info, "power");
      double volts = json_object_get_int_member (info, "voltage") / 1000.0;
      double amperes = json_object_get_double_member (info, "current") / 1000.0;
      guint i;

      g_assert_cmpstr (shape, ==, random_legacy_shape);
      g_assert_cmpstr (shape_new, ==, random_new_shape);

      /* The voltage is rounded to a millivolt, the current to 0.1 mA. */
      g_assert_cmpfloat_with_epsilon (power, volts * amperes, power * 0.001 + 0.001);
      g_assert_cmpint (json_object_get_int_member (info, "sharesAccepted"), >=, accepted);
      accepted = json_object_get_int_member (info, "sharesAccepted");
      g_assert_cmpint (json_object_get_int_member (info, "uptimeSeconds"), >=, uptime);
      uptime = json_object_get_int_member (info, "uptimeSeconds");
      g_assert_cmpint (json_object_get_int_member (info, "frequency"), ==, 490);

      g_assert_cmpint (json_object_get_int_member (info_new, "asicCount"), ==, 4);
      g_assert_cmpint (json_object_get_int_member (info_new, "smallCoreCount"), ==, 1276);
      stamps = json_object_get_array_member (json_object_get_object_member (info_new, "history"),
                                             "timestamps");
      for (i = 1; i < json_array_get_length (stamps); i++)
        g_assert_cmpint (json_array_get_int_element (stamps, i - 1), <,
                         json_array_get_int_element (stamps, i));
      pm_test_wait_ms (300);
    }

  /* A PATCHed frequency is stored as before, and the miner follows it:
   * its power rises with the frequency. */
  {
    g_autoptr(JsonObject) before = pm_test_get_info (fixture->session, "127.0.0.1",
                                                     pm_device_get_port (legacy));
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/api/system", pm_device_get_port (legacy));
    g_autoptr(PmTestResponse) response = NULL;
    PowerWatch watch = { fixture, legacy, json_object_get_double_member (before, "power") };

    /* From the stock 490 MHz, the core power grows about a fifth. */
    response = pm_test_http (fixture->session, "PATCH", url, "application/json",
                             "{\"frequency\":575}", -1);
    g_assert_cmpuint (response->status, ==, 200);
    g_assert_true (pm_test_wait_until (power_rose, &watch, PM_TEST_TIMEOUT_MS));
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/device/info/legacy", test_info_legacy);
  ADD ("/device/info/new", test_info_new);
  ADD ("/device/info/head", test_info_head);
  ADD ("/device/patch/merge", test_patch_merge);
  ADD ("/device/patch/bad", test_patch_bad);
  /* Resident sizes mean nothing under AddressSanitizer. */
  if (!PM_TEST_SANITIZED)
    ADD ("/device/patch/body-limit-memory", test_patch_body_limit_memory);
  ADD ("/device/patch/overrides-limit", test_patch_overrides_limit);
  ADD ("/device/patch/bad-content-length", test_patch_bad_content_length);
  ADD ("/device/restart/window", test_restart);
  ADD ("/device/restart/stopped", test_restart_stopped);
  ADD ("/device/routing/not-found", test_routing_not_found);
  ADD ("/device/routing/wrong-method", test_routing_wrong_method);
  ADD ("/device/routing/options", test_routing_options);
  ADD ("/device/socket/backlog", test_socket_backlog);
  ADD ("/device/socket/slow-client", test_socket_slow_client);
  ADD ("/device/socket/port-in-use", test_socket_port_in_use);
  ADD ("/device/socket/stop", test_socket_stop);
  ADD ("/device/socket/keep-alive", test_socket_keep_alive);
  ADD ("/device/socket/request-timeout", test_socket_request_timeout);
  ADD ("/device/telemetry/simulated", test_simulated_telemetry);
#undef ADD

  return g_test_run ();
}
