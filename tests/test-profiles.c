/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-profiles"

#include "config.h"

#include <string.h>

#include "axeos-fields.h"
#include "pm-device.h"
#include "pm-firmware-api.h"
#include "pm-manager.h"
#include "pm-test-util.h"

/*
 * The simulated profiles (axeos-gamma, axeos-supra, axeos-ultra,
 * nerdqaxe-plus) over real HTTP and WebSocket on loopback: every
 * endpoint, its reply, its error style and its CORS headers, as the
 * device reference describes the firmware; PATCH, restart, the two
 * WebSocket streams, the client limit, the network gate and the seed.
 * Expected values come from the reference (and axeos-fields.h), not
 * from the code under test; timings are judged against what the device
 * scheduled.
 */

/* How long the devices of these tests stay off the network when they
 * restart, in ms: short, so the tests are quick. */
#define RESTART_WINDOW_MS 1500
/* From a restart reply to esp_restart(), as the firmware waits. */
#define RESTART_DELAY_MS 1000
/* How late a timer may fire, or a reply come, on a loaded machine. */
#define SLACK_MS 4000

/* What the reference says of the firmware. */
#define PATCH_LIMIT_BYTES 10240
#define MAX_WEBSOCKETS 10
#define FIRMWARE_AXEOS "v2.15.0"
#define RESET_POWER_ON "Reset due to power-on event"
#define RESET_SOFTWARE "Software reset via esp_restart"
#define RESTART_MESSAGE "System will restart shortly."
#define CORS_METHODS "GET, POST, PUT, PATCH, DELETE, OPTIONS"

/* An ESP-IDF log line: optional colour, level, (ms), tag, colon. */
#define LOG_LINE_PATTERN "^(\x1b\\[0;3[0-9]m)?[EWIDV] \\([0-9]+\\) [A-Za-z0-9_.-]+: "

/* ---- what each AxeOS board is (device reference §2.1) -------------------- */

typedef struct
{
  const char *profile;
  const char *asic_model;
  const char *device_model;
  const char *swarm_color;
  gint64      small_core_count;
  gint64      default_frequency;
  gint64      frequency_options[12];   /* 0-terminated */
  gint64      default_voltage;
  gint64      voltage_options[12];     /* 0-terminated */
  gint64      max_power;
  gint64      nominal_voltage;
  const char *board_versions[8];       /* NULL-terminated */
} Board;

static const Board boards[] = {
  {
    .profile = "axeos-gamma",
    .asic_model = "BM1370",
    .device_model = "Gamma",
    .swarm_color = "green",
    .small_core_count = 2040,
    .default_frequency = 525,
    .frequency_options = { 400, 490, 525, 550, 600, 625 },
    .default_voltage = 1150,
    .voltage_options = { 1000, 1060, 1100, 1150, 1200, 1250 },
    .max_power = 40,
    .nominal_voltage = 5,
    .board_versions = { "600", "601", "602", "603" },
  },
  {
    .profile = "axeos-supra",
    .asic_model = "BM1368",
    .device_model = "Supra",
    .swarm_color = "blue",
    .small_core_count = 1276,
    .default_frequency = 490,
    .frequency_options = { 400, 425, 450, 475, 485, 490, 500, 525, 550, 575 },
    .default_voltage = 1166,
    .voltage_options = { 1100, 1150, 1166, 1200, 1250, 1300 },
    .max_power = 40,
    .nominal_voltage = 5,
    .board_versions = { "400", "401", "402", "403" },
  },
  {
    .profile = "axeos-ultra",
    .asic_model = "BM1366",
    .device_model = "Ultra",
    .swarm_color = "purple",
    .small_core_count = 894,
    .default_frequency = 485,
    .frequency_options = { 400, 425, 450, 475, 485, 500, 525, 550, 575 },
    .default_voltage = 1200,
    .voltage_options = { 1100, 1150, 1200, 1250, 1300 },
    .max_power = 25,
    .nominal_voltage = 5,
    .board_versions = { "0.11", "201", "202", "203", "204", "205", "207" },
  },
};

#define N_BOARDS G_N_ELEMENTS (boards)

static const Board *
board_of (const char *profile)
{
  gsize i;

  for (i = 0; i < N_BOARDS; i++)
    if (strcmp (boards[i].profile, profile) == 0)
      return &boards[i];
  g_assert_not_reached ();
}

/* ---- small functions ------------------------------------------------------ */

static double
abs_double (double x)
{
  return x < 0 ? -x : x;
}

static void
assert_close (double actual,
              double expected)
{
  if (abs_double (actual - expected) > 1e-5 * MAX (1.0, abs_double (expected)))
    g_error ("%.9g is not %.9g", actual, expected);
}

static double
member_number (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    g_error ("member %s is missing", name);
  g_assert_true (axeos_node_has_type (node, AXEOS_NUMBER));
  return json_node_get_double (node);
}

static gboolean
member_bool (JsonObject *object,
             const char *name)
{
  return json_node_get_boolean (pm_test_member_value (object, name, G_TYPE_BOOLEAN));
}

static void
assert_int_array (JsonArray    *array,
                  const gint64 *expected)
{
  guint i, n = 0;

  while (expected[n] != 0)
    n++;
  g_assert_cmpuint (json_array_get_length (array), ==, n);
  for (i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      g_assert_true (axeos_node_has_type (node, AXEOS_INT));
      g_assert_cmpint (json_node_get_int (node), ==, expected[i]);
    }
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static gboolean
is_log_line (const char *line)
{
  return g_regex_match_simple (LOG_LINE_PATTERN, line, 0, 0);
}

/* ---- fixture ----------------------------------------------------------------- */

typedef struct
{
  PmAcceptor  *acceptor;
  SoupSession *session;
  GPtrArray   *devices;  /* (element-type PmDevice) */
  GPtrArray   *clients;  /* (element-type PmTestWsClient) */
  PmManager   *manager;  /* (nullable) */
} Fixture;

static void
fixture_setup (Fixture      *fixture,
               gconstpointer user_data)
{
  fixture->acceptor = pm_acceptor_new ();
  fixture->session = soup_session_new_with_options ("max-conns", 200, "max-conns-per-host", 50, NULL);
  fixture->devices = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_test_ws_client_free);
}

static void
fixture_teardown (Fixture      *fixture,
                  gconstpointer user_data)
{
  guint i;

  for (i = 0; i < fixture->devices->len; i++)
    pm_device_stop (g_ptr_array_index (fixture->devices, i));
  /* Let the clients see their close frames before they go. */
  g_assert_true (pm_test_ws_clients_wait_closed (fixture->clients, PM_TEST_TIMEOUT_MS));

  g_clear_pointer (&fixture->clients, g_ptr_array_unref);
  g_clear_pointer (&fixture->devices, g_ptr_array_unref);
  if (fixture->manager != NULL)
    {
      g_object_add_weak_pointer (G_OBJECT (fixture->manager), (gpointer *) &fixture->manager);
      g_object_unref (fixture->manager);
      g_assert_null (fixture->manager);
    }
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->acceptor);
}

/* A started device on 127.0.0.1; @port 0 lets the kernel pick one. */
static PmDevice *
fixture_add_device_full (Fixture    *fixture,
                         const char *profile,
                         const char *hostname,
                         guint       port,
                         guint64     seed,
                         gboolean    network_gate)
{
  g_autoptr(GError) error = NULL;
  PmDevice *device = g_object_new (PM_TYPE_DEVICE,
                                   "acceptor", fixture->acceptor,
                                   "port", port,
                                   "hostname", hostname,
                                   "profile", profile,
                                   "seed", seed,
                                   "network-gate", network_gate,
                                   "restart-window", RESTART_WINDOW_MS,
                                   NULL);

  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pm_device_get_profile (device)->name, ==, profile);
  g_ptr_array_add (fixture->devices, device);
  return device;
}

static PmDevice *
fixture_add_device (Fixture    *fixture,
                    const char *profile,
                    const char *hostname)
{
  return fixture_add_device_full (fixture, profile, hostname, 0, 42, FALSE);
}

/* ---- HTTP ------------------------------------------------------------------ */

/* Sends @msg, never following a redirect, and waits for the reply. */
static PmTestResponse *
send_message (Fixture     *fixture,
              SoupMessage *msg)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  PmTestResponse *response;
  GBytes *body;

  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  soup_session_send_and_read_async (fixture->session, msg, G_PRIORITY_DEFAULT, NULL,
                                    pm_test_keep_result, &result);
  g_assert_true (pm_test_wait_result (&result, PM_TEST_TIMEOUT_MS));
  body = soup_session_send_and_read_finish (fixture->session, result, &error);
  g_assert_no_error (error);

  response = g_new0 (PmTestResponse, 1);
  response->status = soup_message_get_status (msg);
  response->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  response->body = body;
  return response;
}

/* @method @path on @device, with @body (NULL: none) and an Origin header
 * if @origin is set. */
static PmTestResponse *
request_full (Fixture    *fixture,
              PmDevice   *device,
              const char *method,
              const char *path,
              const char *origin,
              const char *body,
              gssize      length)
{
  g_autofree char *url = pm_test_device_url (device, "http", path);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);

  g_assert_nonnull (msg);
  if (origin != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Origin", origin);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, length < 0 ? strlen (body) : (gsize) length);

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  return send_message (fixture, msg);
}

static PmTestResponse *
request (Fixture    *fixture,
         PmDevice   *device,
         const char *method,
         const char *path,
         const char *body)
{
  return request_full (fixture, device, method, path, NULL, body, -1);
}

static const char *
header (PmTestResponse *response,
        const char     *name)
{
  return soup_message_headers_get_one (response->headers, name);
}

static void
assert_cors (PmTestResponse *response,
             gboolean        present)
{
  if (present)
    {
      g_assert_cmpstr (header (response, "Access-Control-Allow-Origin"), ==, "*");
      g_assert_cmpstr (header (response, "Access-Control-Allow-Methods"), ==, CORS_METHODS);
      g_assert_cmpstr (header (response, "Access-Control-Allow-Headers"), ==, "Content-Type");
    }
  else
    {
      g_assert_null (header (response, "Access-Control-Allow-Origin"));
      g_assert_null (header (response, "Access-Control-Allow-Methods"));
      g_assert_null (header (response, "Access-Control-Allow-Headers"));
    }
}

/* A reply in the ESP-IDF error style: @status, text/html, @text. */
static void
assert_esp_error (PmTestResponse *response,
                  guint           status,
                  const char     *text)
{
  g_assert_cmpuint (response->status, ==, status);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "text/html");
  g_assert_cmpstr (pm_test_response_text (response), ==, text);
}

/* A 200 JSON object with CORS headers. */
static JsonObject *
json_reply (PmTestResponse *response)
{
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  assert_cors (response, TRUE);
  return pm_test_response_object (response);
}

/* A JSON `{"message": @message}` with @status and CORS headers. */
static void
assert_message (PmTestResponse *response,
                guint           status,
                const char     *message)
{
  g_autoptr(JsonObject) object = NULL;

  g_assert_cmpuint (response->status, ==, status);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  assert_cors (response, TRUE);
  object = pm_test_response_object (response);
  g_assert_cmpuint (json_object_get_size (object), ==, 1);
  g_assert_cmpstr (pm_test_member_string (object, "message"), ==, message);
}

static JsonObject *
get_info (Fixture  *fixture,
          PmDevice *device)
{
  g_autoptr(PmTestResponse) response = request (fixture, device, "GET", "/api/system/info", NULL);

  return json_reply (response);
}

/* ---- WebSocket ---------------------------------------------------------------- */

/* The firmware sends text messages only. */
static void
on_ws_message (SoupWebsocketConnection *conn,
               SoupWebsocketDataType    type,
               GBytes                  *message,
               gpointer                 user_data)
{
  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
}

/* Opens a WebSocket on @path of @device; on a refused handshake returns
 * NULL with its status in @out_status. */
static PmTestWsClient *
ws_connect (Fixture    *fixture,
            PmDevice   *device,
            const char *path,
            const char *origin,
            guint      *out_status)
{
  g_autofree char *url = pm_test_device_url (device, "ws", path);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn;
  PmTestWsClient *client;

  soup_session_websocket_connect_async (fixture->session, msg, origin, NULL, G_PRIORITY_DEFAULT,
                                        NULL, pm_test_keep_result, &result);
  g_assert_true (pm_test_wait_result (&result, PM_TEST_TIMEOUT_MS));
  conn = soup_session_websocket_connect_finish (fixture->session, result, &error);
  if (out_status != NULL)
    *out_status = soup_message_get_status (msg);
  if (conn == NULL)
    {
      g_assert_nonnull (error);
      return NULL;
    }
  g_assert_no_error (error);

  client = pm_test_ws_client_new (conn);
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), client);
  g_ptr_array_add (fixture->clients, client);
  return client;
}

static PmTestWsClient *
ws_open (Fixture    *fixture,
         PmDevice   *device,
         const char *path)
{
  guint status = 0;
  PmTestWsClient *client = ws_connect (fixture, device, path, NULL, &status);

  g_assert_cmpuint (status, ==, SOUP_STATUS_SWITCHING_PROTOCOLS);
  g_assert_nonnull (client);
  return client;
}

/* A WebSocket handshake sent as a plain request, so that a refusal's
 * body can be read. */
static PmTestResponse *
ws_handshake_raw (Fixture    *fixture,
                  PmDevice   *device,
                  const char *path)
{
  g_autofree char *url = pm_test_device_url (device, "http", path);
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);

  soup_websocket_client_prepare_handshake (msg, NULL, NULL, NULL);
  return send_message (fixture, msg);
}

/* The complete lines of a log client's frames, in order. */
static GPtrArray *
ws_log_lines (PmTestWsClient *client)
{
  g_autoptr(GString) text = g_string_new (NULL);
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  const char *p;
  guint i;

  for (i = 0; i < client->texts->len; i++)
    g_string_append (text, g_ptr_array_index (client->texts, i));
  for (p = text->str; strchr (p, '\n') != NULL; p = strchr (p, '\n') + 1)
    g_ptr_array_add (lines, g_strndup (p, strchr (p, '\n') - p));
  return lines;
}

typedef struct
{
  PmTestWsClient *client;
  guint           n;
} LinesWait;

static gboolean
has_log_lines (gpointer user_data)
{
  LinesWait *wait = user_data;
  g_autoptr(GPtrArray) lines = ws_log_lines (wait->client);

  return lines->len >= wait->n;
}

/* ---- AxeOS: info and asic ------------------------------------------------------- */

/* The members present in @info that only come once a block height is
 * known: all of them or none. */
static guint
block_members (JsonObject *info)
{
  return json_object_has_member (info, "blockHeight") ? AXEOS_BLOCK : 0;
}

static void
assert_axeos_info (JsonObject  *info,
                   const Board *board,
                   const char  *hostname,
                   gboolean     http)
{
  g_autofree char *full = g_strconcat (hostname, ".local", NULL);
  JsonArray *pools;
  JsonArray *partitions;
  guint i, j;

  axeos_assert_fields (info, axeos_info_fields, G_N_ELEMENTS (axeos_info_fields),
                       block_members (info) | (http ? AXEOS_HTTP : 0));
  for (i = 0; axeos_info_forbidden[i] != NULL; i++)
    if (json_object_has_member (info, axeos_info_forbidden[i]))
      g_error ("member %s must not be sent", axeos_info_forbidden[i]);
  if (!http)
    g_assert_false (json_object_has_member (info, "mdnsHostname"));

  g_assert_cmpstr (pm_test_member_string (info, "ASICModel"), ==, board->asic_model);
  g_assert_cmpint (pm_test_member_int (info, "smallCoreCount"), ==, board->small_core_count);
  g_assert_cmpint (pm_test_member_int (info, "maxPower"), ==, board->max_power);
  g_assert_cmpint (pm_test_member_int (info, "nominalVoltage"), ==, board->nominal_voltage);
  g_assert_true (g_strv_contains (board->board_versions, pm_test_member_string (info, "boardVersion")));
  g_assert_cmpstr (pm_test_member_string (info, "version"), ==, FIRMWARE_AXEOS);
  g_assert_cmpstr (pm_test_member_string (info, "axeOSVersion"), ==, FIRMWARE_AXEOS);
  g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, hostname);
  if (http)
    g_assert_cmpstr (pm_test_member_string (info, "fullHostname"), ==, full);
  g_assert_true (g_regex_match_simple ("^([0-9A-F]{2}:){5}[0-9A-F]{2}$",
                                       pm_test_member_string (info, "macAddr"), 0, 0));
  g_assert_cmpint (pm_test_member_int (info, "statsLimit"), ==, 720);
  assert_close (member_number (info, "expectedHashrate"),
                member_number (info, "frequency") * board->small_core_count / 1000.0);
  g_assert_cmpfloat (member_number (info, "bestDiff"), >=, member_number (info, "bestSessionDiff"));

  pools = json_object_get_array_member (info, "pools");
  g_assert_cmpuint (json_array_get_length (pools), >, 0);
  for (i = 0; i < json_array_get_length (pools); i++)
    {
      JsonObject *pool = json_array_get_object_element (pools, i);

      axeos_assert_fields (pool, axeos_pool_fields, G_N_ELEMENTS (axeos_pool_fields), 0);
      g_assert_cmpstr (pm_test_member_string (pool, "stratumPassword"), ==, "*****");
    }
  partitions = json_object_get_array_member (info, "partitions");
  g_assert_cmpuint (json_array_get_length (partitions), >, 0);
  for (i = 0; i < json_array_get_length (partitions); i++)
    {
      JsonObject *partition = json_array_get_object_element (partitions, i);

      for (j = 0; j < G_N_ELEMENTS (axeos_partition_fields); j++)
        {
          const AxeosField *field = &axeos_partition_fields[j];
          JsonNode *node = json_object_get_member (partition, field->name);

          g_assert_nonnull (node);
          g_assert_true (JSON_NODE_HOLDS_NULL (node) || axeos_node_has_type (node, field->type));
        }
    }
}

static void
test_axeos_info (Fixture      *fixture,
                 gconstpointer user_data)
{
  const Board *board = board_of (user_data);
  gint64 before_start = g_get_monotonic_time ();
  PmDevice *device = fixture_add_device (fixture, board->profile, "mockaxe1");
  g_autoptr(PmTestResponse) response = request (fixture, device, "GET", "/api/system/info", NULL);
  g_autoptr(JsonObject) info = json_reply (response);

  assert_axeos_info (info, board, "mockaxe1", TRUE);
  /* A device just powered on, at its board's factory settings. */
  g_assert_cmpstr (pm_test_member_string (info, "resetReason"), ==, RESET_POWER_ON);
  g_assert_cmpint (pm_test_member_int (info, "statsFrequency"), ==, 0);
  g_assert_cmpfloat (member_number (info, "frequency"), ==, board->default_frequency);
  g_assert_cmpint (pm_test_member_int (info, "coreVoltage"), ==, board->default_voltage);
  g_assert_false (member_bool (info, "miningPaused"));
  g_assert_cmpint (pm_test_member_int (info, "uptimeSeconds"), <=,
                   (g_get_monotonic_time () - before_start) / G_USEC_PER_SEC);
}

static void
test_axeos_asic (Fixture      *fixture,
                 gconstpointer user_data)
{
  const Board *board = board_of (user_data);
  PmDevice *device = fixture_add_device (fixture, board->profile, "mockaxe1");
  g_autoptr(PmTestResponse) response = request (fixture, device, "GET", "/api/system/asic", NULL);
  g_autoptr(JsonObject) asic = json_reply (response);

  axeos_assert_fields (asic, axeos_asic_fields, G_N_ELEMENTS (axeos_asic_fields), 0);
  g_assert_cmpuint (json_object_get_size (asic), ==, G_N_ELEMENTS (axeos_asic_fields));
  g_assert_cmpstr (pm_test_member_string (asic, "ASICModel"), ==, board->asic_model);
  g_assert_cmpstr (pm_test_member_string (asic, "deviceModel"), ==, board->device_model);
  g_assert_cmpstr (pm_test_member_string (asic, "swarmColor"), ==, board->swarm_color);
  g_assert_cmpint (pm_test_member_int (asic, "asicCount"), ==, 1);
  g_assert_cmpint (pm_test_member_int (asic, "hashDomains"), ==, 4);
  g_assert_cmpint (pm_test_member_int (asic, "defaultFrequency"), ==, board->default_frequency);
  g_assert_cmpint (pm_test_member_int (asic, "defaultVoltage"), ==, board->default_voltage);
  assert_int_array (json_object_get_array_member (asic, "frequencyOptions"), board->frequency_options);
  assert_int_array (json_object_get_array_member (asic, "voltageOptions"), board->voltage_options);
}

/* ---- AxeOS: statistics ---------------------------------------------------------- */

static void
assert_labels (JsonObject        *stats,
               const char *const *expected)
{
  JsonArray *labels = json_object_get_array_member (stats, "labels");
  guint i, n = g_strv_length ((char **) expected);

  g_assert_cmpuint (json_array_get_length (labels), ==, n + 1);
  for (i = 0; i < n; i++)
    g_assert_cmpstr (json_array_get_string_element (labels, i), ==, expected[i]);
  g_assert_cmpstr (json_array_get_string_element (labels, n), ==, "timestamp");
}

static JsonObject *
get_statistics (Fixture    *fixture,
                PmDevice   *device,
                const char *query)
{
  g_autofree char *path = g_strconcat ("/api/system/statistics", query, NULL);
  g_autoptr(PmTestResponse) response = request (fixture, device, "GET", path, NULL);
  JsonObject *stats = json_reply (response);

  g_assert_cmpuint (json_object_get_size (stats), ==, 3);
  pm_test_member_int (stats, "currentTimestamp");
  return stats;
}

/* The rows of @stats: each as long as the labels, numbers ending in a
 * sample time after the previous one and not after currentTimestamp. */
static JsonArray *
check_rows (JsonObject *stats)
{
  JsonArray *labels = json_object_get_array_member (stats, "labels");
  JsonArray *rows = json_object_get_array_member (stats, "statistics");
  gint64 current = pm_test_member_int (stats, "currentTimestamp");
  gint64 previous = -1;
  guint i, j;

  for (i = 0; i < json_array_get_length (rows); i++)
    {
      JsonArray *row = json_array_get_array_element (rows, i);
      guint n = json_array_get_length (row);
      JsonNode *last;

      g_assert_cmpuint (n, ==, json_array_get_length (labels));
      for (j = 0; j < n; j++)
        g_assert_true (axeos_node_has_type (json_array_get_element (row, j), AXEOS_NUMBER));
      last = json_array_get_element (row, n - 1);
      g_assert_true (axeos_node_has_type (last, AXEOS_INT));
      g_assert_cmpint (json_node_get_int (last), >, previous);
      g_assert_cmpint (json_node_get_int (last), <=, current);
      previous = json_node_get_int (last);
    }
  return rows;
}

static gint64
row_time (JsonArray *rows,
          guint      index)
{
  JsonArray *row = json_array_get_array_element (rows, index);

  return json_array_get_int_element (row, json_array_get_length (row) - 1);
}

static void
test_axeos_statistics (Fixture      *fixture,
                       gconstpointer user_data)
{
  PmDevice *devices[N_BOARDS];
  gint64 sent[N_BOARDS];
  const char *some[] = { "hashrate", "power", "fanRpm", NULL };
  guint i, j;

  for (i = 0; i < N_BOARDS; i++)
    {
      g_autoptr(JsonObject) stats = NULL;
      g_autoptr(JsonObject) info = NULL;
      g_autoptr(PmTestResponse) patch = NULL;

      devices[i] = fixture_add_device (fixture, boards[i].profile, boards[i].device_model);
      /* statsFrequency 0, the factory value, records nothing. */
      info = get_info (fixture, devices[i]);
      g_assert_cmpint (pm_test_member_int (info, "statsFrequency"), ==, 0);
      stats = get_statistics (fixture, devices[i], "");
      assert_labels (stats, axeos_stats_labels);
      g_assert_cmpuint (json_array_get_length (check_rows (stats)), ==, 0);

      sent[i] = g_get_monotonic_time ();
      patch = request (fixture, devices[i], "PATCH", "/api/system", "{\"statsFrequency\":1}");
      g_assert_cmpuint (patch->status, ==, SOUP_STATUS_OK);
    }

  /* The firmware samples every second from the change on, whether or not
   * anyone reads: 2.1 s later at least two rows are there. */
  pm_test_wait_ms (2100);
  for (i = 0; i < N_BOARDS; i++)
    {
      g_autoptr(JsonObject) info = get_info (fixture, devices[i]);
      g_autoptr(JsonObject) all = get_statistics (fixture, devices[i], "");
      g_autoptr(JsonObject) part = NULL;
      g_autoptr(JsonObject) bogus = get_statistics (fixture, devices[i], "?columns=nothing,else");
      g_autoptr(JsonObject) encoded = get_statistics (fixture, devices[i], "?columns=power%2Chashrate");
      const char *const hashrate_power[] = { "hashrate", "power", NULL };
      JsonArray *rows = check_rows (all);
      JsonArray *part_rows;
      guint n = json_array_get_length (rows);
      gint64 current = pm_test_member_int (all, "currentTimestamp");

      g_assert_cmpint (pm_test_member_int (info, "statsFrequency"), ==, 1);
      assert_labels (all, axeos_stats_labels);
      g_assert_cmpuint (n, >=, 2);
      g_assert_cmpuint (n, <=, 720);
      /* One a second from the change, up to now. */
      for (j = 1; j < n; j++)
        {
          g_assert_cmpint (row_time (rows, j) - row_time (rows, j - 1), >=, 950);
          g_assert_cmpint (row_time (rows, j) - row_time (rows, j - 1), <=, 1050);
        }
      g_assert_cmpint (current - row_time (rows, n - 1), <, 1050);
      g_assert_cmpint ((g_get_monotonic_time () - sent[i]) / 1000, >=, (gint64) n * 950);

      /* Named columns come in the firmware's order, whatever the order
       * asked; unknown names alone give all of them. */
      part = get_statistics (fixture, devices[i], "?columns=fanRpm,power,hashrate");
      assert_labels (part, some);
      part_rows = check_rows (part);
      g_assert_cmpuint (json_array_get_length (part_rows), >=, n);
      assert_labels (bogus, axeos_stats_labels);
      check_rows (bogus);
      assert_labels (encoded, hashrate_power);
      check_rows (encoded);

      /* The same sample has the same values in both. */
      for (j = 0; j < n; j++)
        {
          JsonArray *full_row = json_array_get_array_element (rows, j);
          JsonArray *part_row = json_array_get_array_element (part_rows, j);
          guint k;

          g_assert_cmpint (row_time (part_rows, j), ==, row_time (rows, j));
          for (k = 0; some[k] != NULL; k++)
            {
              guint column = 0;

              while (strcmp (axeos_stats_labels[column], some[k]) != 0)
                column++;
              g_assert_cmpfloat (json_array_get_double_element (part_row, k), ==,
                                 json_array_get_double_element (full_row, column));
            }
        }
    }
}

/* ---- AxeOS: the other endpoints -------------------------------------------------- */

static void
test_axeos_actions (Fixture      *fixture,
                    gconstpointer user_data)
{
  const Board *board = board_of (user_data);
  PmDevice *device = fixture_add_device (fixture, board->profile, "mockaxe1");
  guint i;

  /* The scoreboard: the session's best shares, best first. */
  {
    g_autoptr(PmTestResponse) response = request (fixture, device, "GET", "/api/system/scoreboard", NULL);
    g_autoptr(JsonNode) root = NULL;
    JsonArray *shares;
    double previous = G_MAXDOUBLE;

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
    assert_cors (response, TRUE);
    root = parse_json (pm_test_response_text (response));
    g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
    shares = json_node_get_array (root);
    g_assert_cmpuint (json_array_get_length (shares), <=, 20);
    for (i = 0; i < json_array_get_length (shares); i++)
      {
        JsonObject *share = json_array_get_object_element (shares, i);

        axeos_assert_fields (share, axeos_scoreboard_fields, G_N_ELEMENTS (axeos_scoreboard_fields), 0);
        g_assert_true (g_regex_match_simple ("^[0-9A-F]{8}$", pm_test_member_string (share, "nonce"), 0, 0));
        g_assert_true (g_regex_match_simple ("^[0-9a-fA-F]{8}$", pm_test_member_string (share, "version_bits"), 0, 0));
        g_assert_cmpfloat (member_number (share, "difficulty"), <=, previous);
        previous = member_number (share, "difficulty");
      }
  }

  /* identify toggles. */
  {
    g_autoptr(PmTestResponse) on = request (fixture, device, "POST", "/api/system/identify", NULL);
    g_autoptr(PmTestResponse) off = request (fixture, device, "POST", "/api/system/identify", NULL);
    g_autoptr(PmTestResponse) again = request (fixture, device, "POST", "/api/system/identify", NULL);

    assert_message (on, SOUP_STATUS_OK, "The device says \"Hi!\" for 30 seconds.");
    assert_message (off, SOUP_STATUS_OK, "The device no longer says \"Hi!\".");
    assert_message (again, SOUP_STATUS_OK, "The device says \"Hi!\" for 30 seconds.");
  }

  /* pause and resume. */
  {
    g_autoptr(PmTestResponse) pause = request (fixture, device, "POST", "/api/system/pause", NULL);
    g_autoptr(JsonObject) paused = get_info (fixture, device);
    g_autoptr(PmTestResponse) resume = NULL;
    g_autoptr(JsonObject) resumed = NULL;

    assert_message (pause, SOUP_STATUS_OK, "Mining paused");
    g_assert_true (member_bool (paused, "miningPaused"));
    g_assert_cmpfloat (member_number (paused, "expectedHashrate"), ==, 0);
    resume = request (fixture, device, "POST", "/api/system/resume", NULL);
    assert_message (resume, SOUP_STATUS_OK, "Mining resumed");
    resumed = get_info (fixture, device);
    g_assert_false (member_bool (resumed, "miningPaused"));
    assert_close (member_number (resumed, "expectedHashrate"),
                  board->default_frequency * board->small_core_count / 1000.0);
  }

  /* blockFound/dismiss. */
  {
    g_autoptr(PmTestResponse) response = request (fixture, device, "POST", "/api/system/blockFound/dismiss", NULL);
    g_autoptr(JsonObject) object = json_reply (response);

    g_assert_cmpuint (json_object_get_size (object), ==, 3);
    g_assert_cmpint (pm_test_member_int (object, "blockFound"), >=, 0);
    g_assert_false (member_bool (object, "showNewBlock"));
    g_assert_cmpstr (pm_test_member_string (object, "message"), ==, "Block found notification dismissed");
  }
}

static JsonObject *
find_pool (JsonObject *info,
           gint64      id)
{
  JsonArray *pools = json_object_get_array_member (info, "pools");
  guint i;

  for (i = 0; i < json_array_get_length (pools); i++)
    {
      JsonObject *pool = json_array_get_object_element (pools, i);

      if (pm_test_member_int (pool, "id") == id)
        return pool;
    }
  return NULL;
}

static void
test_axeos_pools (Fixture      *fixture,
                  gconstpointer user_data)
{
  const Board *board = board_of (user_data);
  PmDevice *device = fixture_add_device (fixture, board->profile, "mockaxe1");
  const char *good = "{\"stratumURL\":\"pool.example.org\",\"stratumPort\":4444,"
                     "\"stratumUser\":\"bc1qexample.worker\",\"stratumPassword\":\"pool-secret-1\"}";
  const char *bad = "{\"stratumURL\":\"pool.example.org\",\"stratumPort\":0,"
                    "\"stratumUser\":\"bc1qexample.worker\"}";
  const char *bad_paths[] = {
    "/api/system/pools/8", "/api/system/pools/99", "/api/system/pools/-1",
    "/api/system/pools/x", "/api/system/pools/",
  };
  g_autoptr(JsonObject) before = get_info (fixture, device);
  gint64 primary = pm_test_member_int (before, "primaryPoolIndex");
  gint64 secondary = pm_test_member_int (before, "secondaryPoolIndex");
  guint i;

  g_assert_null (find_pool (before, 2));
  g_assert_nonnull (find_pool (before, primary));
  g_assert_nonnull (find_pool (before, secondary));

  /* A good pool in slot 2. */
  {
    g_autoptr(PmTestResponse) put = request (fixture, device, "PUT", "/api/system/pools/2", good);
    g_autoptr(PmTestResponse) text = request (fixture, device, "GET", "/api/system/info", NULL);
    g_autoptr(JsonObject) info = get_info (fixture, device);
    JsonObject *pool;

    assert_message (put, SOUP_STATUS_OK, "Pool updated successfully");
    pool = find_pool (info, 2);
    g_assert_nonnull (pool);
    g_assert_cmpstr (pm_test_member_string (pool, "stratumURL"), ==, "pool.example.org");
    g_assert_cmpint (pm_test_member_int (pool, "stratumPort"), ==, 4444);
    g_assert_cmpstr (pm_test_member_string (pool, "stratumUser"), ==, "bc1qexample.worker");
    g_assert_cmpstr (pm_test_member_string (pool, "stratumPassword"), ==, "*****");
    g_assert_null (strstr (pm_test_response_text (text), "pool-secret-1"));
  }

  /* Bad indexes and a bad pool change nothing. */
  for (i = 0; i < G_N_ELEMENTS (bad_paths); i++)
    {
      g_autoptr(PmTestResponse) put = request (fixture, device, "PUT", bad_paths[i], good);
      g_autoptr(PmTestResponse) delete = request (fixture, device, "DELETE", bad_paths[i], NULL);

      assert_esp_error (put, SOUP_STATUS_BAD_REQUEST, "Invalid pool index");
      assert_esp_error (delete, SOUP_STATUS_BAD_REQUEST, "Invalid pool index");
    }
  {
    g_autoptr(PmTestResponse) put = request (fixture, device, "PUT", "/api/system/pools/3", bad);
    g_autoptr(PmTestResponse) put_json = request (fixture, device, "PUT", "/api/system/pools/3", "{oops");
    g_autoptr(JsonObject) info = get_info (fixture, device);

    assert_esp_error (put, SOUP_STATUS_BAD_REQUEST, "Invalid pool configuration payload");
    assert_esp_error (put_json, SOUP_STATUS_BAD_REQUEST, "Invalid JSON");
    g_assert_null (find_pool (info, 3));
  }

  /* The primary and secondary slots cannot be cleared; slot 2 can. */
  {
    g_autofree char *primary_path = g_strdup_printf ("/api/system/pools/%" G_GINT64_FORMAT, primary);
    g_autofree char *secondary_path = g_strdup_printf ("/api/system/pools/%" G_GINT64_FORMAT, secondary);
    g_autoptr(PmTestResponse) delete_primary = request (fixture, device, "DELETE", primary_path, NULL);
    g_autoptr(PmTestResponse) delete_secondary = request (fixture, device, "DELETE", secondary_path, NULL);
    g_autoptr(PmTestResponse) delete_two = request (fixture, device, "DELETE", "/api/system/pools/2", NULL);
    g_autoptr(JsonObject) info = get_info (fixture, device);
    const char *text;

    g_assert_cmpuint (delete_primary->status, ==, SOUP_STATUS_BAD_REQUEST);
    g_assert_cmpstr (pm_test_response_content_type (delete_primary), ==, "text/html");
    text = pm_test_response_text (delete_primary);
    g_assert_true (g_utf8_validate (text, -1, NULL));
    g_assert_cmpuint (strlen (text), >, 0);
    g_assert_true (g_ascii_isalpha (text[0]));
    g_assert_cmpuint (delete_secondary->status, ==, SOUP_STATUS_BAD_REQUEST);
    g_assert_cmpstr (pm_test_response_text (delete_secondary), ==, text);
    assert_message (delete_two, SOUP_STATUS_OK, "Pool cleared successfully");
    g_assert_nonnull (find_pool (info, primary));
    g_assert_nonnull (find_pool (info, secondary));
    g_assert_null (find_pool (info, 2));
  }
}

static void
test_axeos_theme (Fixture      *fixture,
                  gconstpointer user_data)
{
  PmDevice *device = fixture_add_device (fixture, user_data, "mockaxe1");
  g_autoptr(PmTestResponse) get = request (fixture, device, "GET", "/api/theme", NULL);
  g_autoptr(JsonObject) theme = json_reply (get);
  g_autofree char *primary = g_strdup (pm_test_member_string (theme, "primaryColor"));
  g_autoptr(PmTestResponse) post = NULL;
  g_autoptr(PmTestResponse) wrong = NULL;
  g_autoptr(PmTestResponse) invalid = NULL;
  g_autoptr(PmTestResponse) again = NULL;
  g_autoptr(JsonObject) after = NULL;

  g_assert_cmpuint (json_object_get_size (theme), ==, 2);
  pm_test_member_string (theme, "colorScheme");

  post = request (fixture, device, "POST", "/api/theme", "{\"colorScheme\":\"plutomock-light\"}");
  g_assert_cmpuint (post->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_text (post), ==, "{\"status\":\"ok\"}");
  assert_cors (post, TRUE);
  /* A value of the wrong type is ignored. */
  wrong = request (fixture, device, "POST", "/api/theme", "{\"primaryColor\":5,\"colorScheme\":true}");
  g_assert_cmpuint (wrong->status, ==, SOUP_STATUS_OK);
  invalid = request (fixture, device, "POST", "/api/theme", "{\"colorScheme\":");
  assert_esp_error (invalid, SOUP_STATUS_BAD_REQUEST, "Invalid JSON");

  again = request (fixture, device, "GET", "/api/theme", NULL);
  after = json_reply (again);
  g_assert_cmpstr (pm_test_member_string (after, "colorScheme"), ==, "plutomock-light");
  g_assert_cmpstr (pm_test_member_string (after, "primaryColor"), ==, primary);
}

static void
test_axeos_logs (Fixture      *fixture,
                 gconstpointer user_data)
{
  PmDevice *device = fixture_add_device (fixture, user_data, "mockaxe1");
  g_autoptr(PmTestResponse) response = request (fixture, device, "GET", "/api/system/logs", NULL);
  g_auto(GStrv) lines = NULL;
  guint i, n = 0;

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "text/plain");
  g_assert_cmpstr (header (response, "Content-Disposition"), ==,
                   "attachment; filename=\"bitaxe-logs.txt\"");
  assert_cors (response, FALSE);
  /* The boot of a device just powered on, as ESP-IDF lines. */
  lines = g_strsplit (pm_test_response_text (response), "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0')
        continue;
      if (!is_log_line (lines[i]))
        g_error ("not a log line: %s", lines[i]);
      n++;
    }
  g_assert_cmpuint (n, >, 0);
  g_assert_null (strstr (pm_test_response_text (response), "SYSTEM RESTART"));
}

static void
test_axeos_errors (Fixture      *fixture,
                   gconstpointer user_data)
{
  PmDevice *device = fixture_add_device (fixture, user_data, "mockaxe1");
  const char *unknown[][2] = {
    { "GET", "/api/nothing" },
    { "GET", "/api/system" },
    { "POST", "/api/system/info" },
    { "GET", "/api/system/infox" },
    { "GET", "/api/system/info/x" },
    { "GET", "/api/system/statistics/dashboard" },
    { "GET", "/api/swarm" },
    { "DELETE", "/api/theme" },
    { "GET", "/api/system/restart" },
  };
  const char *ota[][2] = {
    { "/api/system/OTA", NULL },
    { "/api/system/OTAWWW", NULL },
  };
  const char *boot[][2] = {
    { "", "Empty request body" },
    { "{\"partition\":", "Invalid JSON" },
    { "{}", "Missing partition label" },
    { "{\"partition\":3}", "Missing partition label" },
    { "{\"partition\":\"nvs\"}", "Partition not found" },
    { "{\"partition\":\"ota_1\"}", "No valid firmware found on partition" },
    { "{\"partition\":\"factory\"}", "No valid firmware found on partition" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr(PmTestResponse) response = request (fixture, device, unknown[i][0], unknown[i][1], NULL);

      g_assert_cmpuint (response->status, ==, SOUP_STATUS_NOT_FOUND);
      g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
      g_assert_cmpstr (pm_test_response_text (response), ==, "{\"error\":\"unknown route\"}");
      assert_cors (response, TRUE);
    }

  /* Preflight: any path under /api. */
  {
    const char *paths[] = { "/api/anything", "/api/system/info", "/api/system/pools/9" };

    for (i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        g_autoptr(PmTestResponse) response = request (fixture, device, "OPTIONS", paths[i], NULL);

        g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
        g_assert_cmpuint (g_bytes_get_size (response->body), ==, 0);
        assert_cors (response, TRUE);
      }
  }

  /* A simulated device takes no firmware. */
  for (i = 0; i < G_N_ELEMENTS (ota); i++)
    {
      g_autoptr(PmTestResponse) response = NULL;
      g_autoptr(JsonObject) object = NULL;
      g_autofree char *url = pm_test_device_url (device, "http", ota[i][0]);
      g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr(GBytes) image = g_bytes_new_static ("\xe9\x03\x02 firmware", 12);

      soup_message_set_request_body_from_bytes (msg, "application/octet-stream", image);
      response = send_message (fixture, msg);
      g_assert_cmpuint (response->status, ==, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
      assert_cors (response, TRUE);
      object = pm_test_response_object (response);
      g_assert_cmpuint (json_object_get_size (object), ==, 1);
      g_assert_cmpuint (strlen (pm_test_member_string (object, "message")), >, 0);
    }

  for (i = 0; i < G_N_ELEMENTS (boot); i++)
    {
      g_autoptr(PmTestResponse) response = request (fixture, device, "POST", "/api/system/boot", boot[i][0]);

      assert_esp_error (response, SOUP_STATUS_BAD_REQUEST, boot[i][1]);
    }
  g_assert_false (pm_device_get_restarting (device));

  /* The web interface, and the captive portal's redirect. */
  {
    g_autoptr(PmTestResponse) index = request (fixture, device, "GET", "/", NULL);
    g_autoptr(PmTestResponse) other = request (fixture, device, "GET", "/some/page.html", NULL);

    g_assert_cmpuint (index->status, ==, SOUP_STATUS_OK);
    g_assert_nonnull (strstr (pm_test_response_text (index), "<title>AxeOS</title>"));
    g_assert_cmpuint (other->status, ==, SOUP_STATUS_FOUND);
    g_assert_cmpstr (header (other, "Location"), ==, "/");
    g_assert_cmpstr (pm_test_response_text (other), ==, "Redirect to the captive portal");
  }
}

/* A Wi-Fi scan takes seconds and answers without CORS; meanwhile the
 * device and others answer at once. */
static void
test_axeos_wifi_scan (Fixture      *fixture,
                      gconstpointer user_data)
{
  PmDevice *devices[N_BOARDS];
  PmTestPending *scans[N_BOARDS];
  guint i, j;

  for (i = 0; i < N_BOARDS; i++)
    devices[i] = fixture_add_device (fixture, boards[i].profile, boards[i].device_model);
  for (i = 0; i < N_BOARDS; i++)
    {
      g_autofree char *url = pm_test_device_url (devices[i], "http", "/api/system/wifi/scan");

      scans[i] = pm_test_pending_start (fixture->session, SOUP_METHOD_GET, url);
    }

  /* While the scans wait: the same device, and another, at once. */
  for (i = 0; i < N_BOARDS; i++)
    {
      gint64 start = g_get_monotonic_time ();
      g_autoptr(JsonObject) same = get_info (fixture, devices[i]);
      g_autoptr(JsonObject) other = get_info (fixture, devices[(i + 1) % N_BOARDS]);
      gint64 took_ms = (g_get_monotonic_time () - start) / 1000;

      g_test_message ("%s: two info replies during the scan took %" G_GINT64_FORMAT " ms",
                      boards[i].profile, took_ms);
      g_assert_cmpint (took_ms, <, 1000);
      g_assert_false (pm_test_pending_done (scans[i]));
    }
  g_assert_cmpint ((g_get_monotonic_time () - scans[0]->started) / 1000, <, PM_FIRMWARE_WIFI_SCAN_MS);

  for (i = 0; i < N_BOARDS; i++)
    {
      g_autoptr(PmTestPending) scan = scans[i];
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;
      SoupMessageHeaders *headers;
      JsonArray *networks;

      g_assert_true (pm_test_wait_until (pm_test_pending_done, scan, PM_TEST_TIMEOUT_MS));
      g_assert_no_error (scan->error);
      g_test_message ("%s: the scan took %" G_GINT64_FORMAT " ms", boards[i].profile,
                      (scan->finished - scan->started) / 1000);
      g_assert_cmpint (scan->finished - scan->started, >=, PM_FIRMWARE_WIFI_SCAN_MS * 1000);
      g_assert_cmpint (scan->finished - scan->started, <, (PM_FIRMWARE_WIFI_SCAN_MS + SLACK_MS) * 1000);
      g_assert_cmpuint (soup_message_get_status (scan->msg), ==, SOUP_STATUS_OK);
      headers = soup_message_get_response_headers (scan->msg);
      g_assert_cmpstr (soup_message_headers_get_content_type (headers, NULL), ==, "application/json");
      g_assert_null (soup_message_headers_get_one (headers, "Access-Control-Allow-Origin"));
      text = g_strndup (g_bytes_get_data (scan->body, NULL), g_bytes_get_size (scan->body));
      root = parse_json (text);
      networks = json_object_get_array_member (json_node_get_object (root), "networks");
      g_assert_cmpuint (json_array_get_length (networks), >, 0);
      g_assert_cmpuint (json_array_get_length (networks), <=, 20);
      for (j = 0; j < json_array_get_length (networks); j++)
        {
          JsonObject *network = json_array_get_object_element (networks, j);

          g_assert_cmpuint (json_object_get_size (network), ==, 3);
          pm_test_member_string (network, "ssid");
          g_assert_cmpint (pm_test_member_int (network, "rssi"), <, 0);
          g_assert_cmpint (pm_test_member_int (network, "authmode"), >=, 0);
          g_assert_cmpint (pm_test_member_int (network, "authmode"), <=, 12);
        }
    }
}

/* ---- AxeOS: PATCH ---------------------------------------------------------------- */

/* The settings members of an info object, as text, to compare. */
static char *
settings_of (JsonObject *info)
{
  static const char *const names[] = {
    "frequency", "coreVoltage", "hostname", "ssid", "overclockEnabled", "autofanspeed",
    "manualFanSpeed", "minFanSpeed", "temptarget", "display", "rotation", "invertscreen",
    "displayTimeout", "overheat_mode", "useCustomWWW", "statsFrequency", "useFallbackStratum",
    "primaryPoolIndex", "secondaryPoolIndex", "pools", "stratumURL", "stratumPort",
    "stratumUser", "fallbackStratumURL",
  };
  g_autoptr(JsonObject) subset = json_object_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonNode *member = json_object_get_member (info, names[i]);

      g_assert_nonnull (member);
      json_object_set_member (subset, names[i], json_node_copy (member));
    }
  json_node_set_object (node, subset);
  return json_to_string (node, FALSE);
}

/* A JSON object of exactly @length bytes, with one unknown key. */
static GString *
padded_body (gsize length)
{
  GString *body = g_string_new ("{\"plutomockPadding\":\"");

  while (body->len < length - 2)
    g_string_append_c (body, 'x');
  g_string_append (body, "\"}");
  g_assert_cmpuint (body->len, ==, length);
  return body;
}

static void
test_axeos_patch (Fixture      *fixture,
                  gconstpointer user_data)
{
  const Board *board = board_of (user_data);
  PmDevice *device = fixture_add_device (fixture, board->profile, "mockaxe1");
  const char *wrong[] = {
    "{\"frequency\":\"600\"}",
    "{\"frequency\":0}",
    "{\"frequency\":65536}",
    "{\"frequency\":true}",
    "{\"coreVoltage\":null}",
    "{\"temptarget\":70}",
    "{\"rotation\":45}",
    "{\"hostname\":\"\"}",
    "{\"hostname\":7}",
    "{\"statsFrequency\":-1}",
    "{\"overheat_mode\":1}",
    "{\"autofanspeed\":2}",
    "{\"manualFanSpeed\":101}",
    "{\"display\":\"no such display\"}",
    /* Good keys with one bad: nothing is written. */
    "{\"frequency\":600,\"coreVoltage\":1200,\"hostname\":\"other\",\"rotation\":45}",
    "{\"statsFrequency\":5,\"pools\":[{\"id\":9,\"stratumURL\":\"a\",\"stratumPort\":1,\"stratumUser\":\"b\"}]}",
  };
  const char *invalid_json[] = { "", "   ", "{\"frequency\":", "{frequency:600}", "nonsense" };
  g_autoptr(JsonObject) before = get_info (fixture, device);
  g_autofree char *settings = settings_of (before);
  double frequency = (double) board->frequency_options[0] + 12.5;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      g_autoptr(PmTestResponse) response = request (fixture, device, "PATCH", "/api/system", wrong[i]);
      g_autoptr(JsonObject) info = get_info (fixture, device);
      g_autofree char *now = settings_of (info);

      g_test_message ("PATCH %s", wrong[i]);
      assert_esp_error (response, SOUP_STATUS_BAD_REQUEST, "Wrong API input");
      g_assert_cmpstr (now, ==, settings);
    }
  for (i = 0; i < G_N_ELEMENTS (invalid_json); i++)
    {
      g_autoptr(PmTestResponse) response = request (fixture, device, "PATCH", "/api/system", invalid_json[i]);

      assert_esp_error (response, SOUP_STATUS_BAD_REQUEST, "Invalid JSON");
    }

  /* The limit is on the body's size: 10240 bytes and more are refused
   * unread, one byte less is read. */
  {
    g_autoptr(GString) body = padded_body (PATCH_LIMIT_BYTES);
    g_autoptr(GString) smaller = padded_body (PATCH_LIMIT_BYTES - 1);
    g_autoptr(PmTestResponse) over = NULL;
    g_autoptr(PmTestResponse) under = NULL;
    g_autoptr(PmTestResponse) chunked = NULL;
    g_autofree char *url = pm_test_device_url (device, "http", "/api/system");
    g_autoptr(SoupMessage) msg = soup_message_new ("PATCH", url);
    g_autoptr(GInputStream) stream = NULL;

    over = request_full (fixture, device, "PATCH", "/api/system", NULL, body->str, body->len);
    assert_esp_error (over, SOUP_STATUS_INTERNAL_SERVER_ERROR, "content too long");

    /* Sent in chunks, without a length up front. */
    stream = g_memory_input_stream_new_from_data (g_memdup2 (body->str, body->len), body->len, g_free);
    soup_message_set_request_body (msg, "application/json", stream, -1);
    chunked = send_message (fixture, msg);
    assert_esp_error (chunked, SOUP_STATUS_INTERNAL_SERVER_ERROR, "content too long");

    under = request_full (fixture, device, "PATCH", "/api/system", NULL, smaller->str, smaller->len);
    g_assert_cmpuint (under->status, ==, SOUP_STATUS_OK);
  }

  /* Unknown keys, read-only fields and the keys v2.15 dropped are
   * ignored: 200, an empty body, nothing changed. */
  {
    g_autoptr(PmTestResponse) response =
      request (fixture, device, "PATCH", "/api/system",
               "{\"plutomockUnknown\":1,\"power\":99,\"hashRate\":1,\"stratumURL\":\"legacy.example\","
               "\"stratumPort\":1,\"stratumPassword\":\"p\",\"fallbackStratumURL\":\"f.example\","
               "\"fanspeed\":10,\"flipscreen\":1,\"invertfanpolarity\":1,\"wifiPassword\":\"w\","
               "\"autoscreenoff\":1,\"overheat_temp\":80,\"autoFanspeed\":0}");
    g_autoptr(PmTestResponse) array = request (fixture, device, "PATCH", "/api/system", "[1,2]");
    g_autoptr(JsonObject) info = get_info (fixture, device);
    g_autofree char *now = settings_of (info);

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpuint (g_bytes_get_size (response->body), ==, 0);
    assert_cors (response, TRUE);
    g_assert_cmpuint (array->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (now, ==, settings);
  }

  /* A frequency takes effect at once: expectedHashrate follows it. */
  {
    g_autofree char *body = g_strdup_printf ("{\"frequency\":%.1f,\"wifiPass\":\"wifi-secret-2\"}", frequency);
    g_autoptr(PmTestResponse) response = request (fixture, device, "PATCH", "/api/system", body);
    g_autoptr(PmTestResponse) text = request (fixture, device, "GET", "/api/system/info", NULL);
    g_autoptr(JsonObject) info = get_info (fixture, device);

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpuint (g_bytes_get_size (response->body), ==, 0);
    g_assert_cmpfloat (member_number (info, "frequency"), ==, frequency);
    assert_close (member_number (info, "expectedHashrate"), frequency * board->small_core_count / 1000.0);
    g_assert_null (strstr (pm_test_response_text (text), "wifi-secret-2"));
  }
}

static void
test_axeos_rename (Fixture      *fixture,
                   gconstpointer user_data)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) servers = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(PmTestResponse) renamed = NULL;
  g_autoptr(PmTestResponse) same = NULL;
  g_autoptr(JsonObject) reply = NULL;
  JsonObject *redirect;
  PmDevice *device;
  guint listing_port;
  guint i, found = 0;

  g_array_set_size (config->ports, 0);
  config->listing_port = 0;
  config->seed = 3;
  config->seed_given = TRUE;
  fixture->manager = pm_manager_new (config);
  g_assert_true (pm_manager_start (fixture->manager, &error));
  g_assert_no_error (error);
  listing_port = pm_manager_get_listing_port (fixture->manager);
  device = pm_test_add_device (fixture->manager, 0, "gamma-before", user_data, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (device);

  /* A trailing ".local" is dropped; the reply sends the UI to the new
   * name, though it is labelled text/html. */
  renamed = request (fixture, device, "PATCH", "/api/system", "{\"hostname\":\"gamma-after.local\"}");
  g_assert_cmpuint (renamed->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (renamed), ==, "text/html");
  assert_cors (renamed, TRUE);
  reply = pm_test_response_object (renamed);
  g_assert_cmpstr (pm_test_member_string (reply, "status"), ==, "success");
  redirect = json_object_get_object_member (reply, "redirect");
  g_assert_nonnull (redirect);
  g_assert_cmpstr (pm_test_member_string (redirect, "url"), ==, "http://gamma-after.local");
  g_assert_cmpint (pm_test_member_int (redirect, "delay"), ==, 2000);
  g_assert_cmpstr (pm_test_member_string (redirect, "message"), ==,
                   "Hostname updated. Redirecting to new address...");

  /* The device, its info and the listing all say the new name. */
  g_assert_cmpstr (pm_device_get_hostname (device), ==, "gamma-after");
  g_assert_true (pm_manager_find_device (fixture->manager, 0, "gamma-after") == device);
  g_assert_null (pm_manager_find_device (fixture->manager, 0, "gamma-before"));
  info = get_info (fixture, device);
  g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, "gamma-after");
  g_assert_cmpstr (pm_test_member_string (info, "fullHostname"), ==, "gamma-after.local");
  servers = pm_test_get_servers (fixture->session, listing_port);
  for (i = 0; i < json_array_get_length (servers); i++)
    {
      JsonObject *entry = json_array_get_object_element (servers, i);

      if (json_object_get_int_member (entry, "port") == pm_device_get_port (device))
        {
          g_assert_cmpstr (json_object_get_string_member (entry, "hostname"), ==, "gamma-after");
          found++;
        }
    }
  g_assert_cmpuint (found, ==, 1);

  /* The same name again is no change: an empty reply. */
  same = request (fixture, device, "PATCH", "/api/system", "{\"hostname\":\"gamma-after\"}");
  g_assert_cmpuint (same->status, ==, SOUP_STATUS_OK);
  g_assert_cmpuint (g_bytes_get_size (same->body), ==, 0);
}

/* ---- AxeOS: the network gate ------------------------------------------------------ */

static void
test_axeos_network_gate (Fixture      *fixture,
                         gconstpointer user_data)
{
  PmDevice *gated = fixture_add_device_full (fixture, user_data, "mockaxe1", 0, 42, TRUE);
  PmDevice *open = fixture_add_device (fixture, user_data, "mockaxe2");
  const char *refused[] = { NULL, "http://example.com", "http://127.0.0.1", "https://mockaxe1.local",
                            "http://100.64.0.1:80" };
  const char *allowed[] = { "http://mockaxe1.local", "http://other.local:8080", "http://mockaxe1",
                            "http://bitaxe" };
  guint i, status = 0;

  for (i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(PmTestResponse) info = request_full (fixture, gated, "GET", "/api/system/info", refused[i], NULL, -1);
      g_autoptr(PmTestResponse) options = request_full (fixture, gated, "OPTIONS", "/api/system", refused[i], NULL, -1);

      g_test_message ("Origin %s", refused[i] != NULL ? refused[i] : "(none)");
      assert_esp_error (info, SOUP_STATUS_UNAUTHORIZED, "Unauthorized");
      assert_cors (info, FALSE);
      assert_esp_error (options, SOUP_STATUS_UNAUTHORIZED, "Unauthorized");
      assert_cors (options, FALSE);
    }
  for (i = 0; i < G_N_ELEMENTS (allowed); i++)
    {
      g_autoptr(PmTestResponse) response = request_full (fixture, gated, "GET", "/api/system/info", allowed[i], NULL, -1);
      g_autoptr(JsonObject) info = NULL;

      g_test_message ("Origin %s", allowed[i]);
      info = json_reply (response);
      g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, "mockaxe1");
    }

  /* The WebSockets are gated at the handshake. */
  g_assert_null (ws_connect (fixture, gated, PM_FIRMWARE_PATH_WS, NULL, &status));
  g_assert_cmpuint (status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_null (ws_connect (fixture, gated, PM_FIRMWARE_PATH_WS_LIVE, NULL, &status));
  g_assert_cmpuint (status, ==, SOUP_STATUS_UNAUTHORIZED);
  ws_connect (fixture, gated, PM_FIRMWARE_PATH_WS_LIVE, "http://mockaxe1.local", &status);
  g_assert_cmpuint (status, ==, SOUP_STATUS_SWITCHING_PROTOCOLS);

  /* Without the gate, loopback is served. */
  {
    g_autoptr(JsonObject) info = get_info (fixture, open);

    g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, "mockaxe2");
  }
}

/* ---- AxeOS: WebSockets -------------------------------------------------------------- */

static void
test_axeos_streams (Fixture      *fixture,
                    gconstpointer user_data)
{
  PmDevice *devices[N_BOARDS];
  PmTestWsClient *logs[N_BOARDS];
  PmTestWsClient *lives[N_BOARDS];
  gint64 opened[N_BOARDS];
  guint i, j;

  for (i = 0; i < N_BOARDS; i++)
    {
      g_autoptr(PmTestResponse) pool = NULL;

      devices[i] = fixture_add_device (fixture, boards[i].profile, boards[i].device_model);
      /* A low difficulty, for shares (and lines) every second. */
      pool = request (fixture, devices[i], "PUT", "/api/system/pools/0",
                      "{\"stratumURL\":\"public-pool.io\",\"stratumPort\":3333,"
                      "\"stratumUser\":\"bc1qexample.worker\",\"stratumSuggestedDifficulty\":16}");
      g_assert_cmpuint (pool->status, ==, SOUP_STATUS_OK);
      logs[i] = ws_open (fixture, devices[i], PM_FIRMWARE_PATH_WS);
      lives[i] = ws_open (fixture, devices[i], PM_FIRMWARE_PATH_WS_LIVE);
      opened[i] = g_get_monotonic_time ();
    }

  for (i = 0; i < N_BOARDS; i++)
    {
      LinesWait wait = { logs[i], 3 };
      g_autoptr(GPtrArray) lines = NULL;

      /* Several raw ESP-IDF lines within a few seconds: mining starts
       * some 3 s after boot. */
      g_assert_true (pm_test_wait_until (has_log_lines, &wait, 6000 + SLACK_MS));
      lines = ws_log_lines (logs[i]);
      g_test_message ("%s: %u log lines in %" G_GINT64_FORMAT " ms", boards[i].profile, lines->len,
                      (g_get_monotonic_time () - opened[i]) / 1000);
      for (j = 0; j < lines->len; j++)
        if (!is_log_line (g_ptr_array_index (lines, j)))
          g_error ("not a log line: %s", (char *) g_ptr_array_index (lines, j));
      for (j = 0; j < logs[i]->texts->len; j++)
        {
          const char *frame = g_ptr_array_index (logs[i]->texts, j);

          /* Raw text, not JSON. */
          g_assert_cmpuint (strlen (frame), <=, 4096);
          g_assert_false (g_str_has_prefix (frame, "{"));
        }
    }

  for (i = 0; i < N_BOARDS; i++)
    {
      PmTestWsClient *live = lives[i];
      g_autoptr(JsonNode) first = NULL;
      JsonObject *state;
      gint64 uptime, previous_at;
      guint n_uptimes = 0;

      /* Three seconds of frames: the full state, then diffs, at least
       * one a second as uptimeSeconds changes. */
      g_assert_true (pm_test_ws_client_wait_messages (live, 1, PM_TEST_TIMEOUT_MS));
      while (g_get_monotonic_time () - g_array_index (live->times, gint64, 0) < 3 * G_USEC_PER_SEC)
        pm_test_wait_ms (100);

      first = parse_json (g_ptr_array_index (live->texts, 0));
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (first), "event"), ==, "update");
      g_assert_cmpuint (json_object_get_size (json_node_get_object (first)), ==, 2);
      state = json_object_get_object_member (json_node_get_object (first), "data");
      assert_axeos_info (state, &boards[i], boards[i].device_model, FALSE);
      uptime = pm_test_member_int (state, "uptimeSeconds");
      previous_at = g_array_index (live->times, gint64, 0);

      g_assert_cmpuint (live->texts->len, >=, 3);
      for (j = 1; j < live->texts->len; j++)
        {
          g_autoptr(JsonNode) frame = parse_json (g_ptr_array_index (live->texts, j));
          JsonObject *diff;
          g_autoptr(GList) names = NULL;
          GList *l;

          g_assert_cmpstr (json_object_get_string_member (json_node_get_object (frame), "event"), ==, "update");
          diff = json_object_get_object_member (json_node_get_object (frame), "data");
          g_assert_nonnull (diff);
          g_assert_cmpuint (json_object_get_size (diff), >, 0);
          /* What does not change is not sent again. */
          g_assert_false (json_object_has_member (diff, "ASICModel"));
          g_assert_false (json_object_has_member (diff, "macAddr"));
          g_assert_false (json_object_has_member (diff, "hostname"));
          g_assert_false (json_object_has_member (diff, "fullHostname"));
          g_assert_cmpuint (json_object_get_size (diff), <, json_object_get_size (state));
          /* Each plain value sent differs from the one before. */
          names = json_object_get_members (diff);
          for (l = names; l != NULL; l = l->next)
            {
              JsonNode *now = json_object_get_member (diff, l->data);
              JsonNode *before = json_object_get_member (state, l->data);

              if (before != NULL && JSON_NODE_HOLDS_VALUE (now) && JSON_NODE_HOLDS_VALUE (before))
                g_assert_false (json_node_equal (now, before));
              json_object_set_member (state, l->data, json_node_copy (now));
            }
          if (json_object_has_member (diff, "uptimeSeconds"))
            {
              gint64 at = g_array_index (live->times, gint64, j);

              g_assert_cmpint (pm_test_member_int (diff, "uptimeSeconds"), >, uptime);
              uptime = pm_test_member_int (diff, "uptimeSeconds");
              g_assert_cmpint (at - previous_at, <, (1500 + SLACK_MS) * 1000);
              previous_at = at;
              n_uptimes++;
            }
        }
      /* Three seconds: uptimeSeconds changed at least twice. */
      g_assert_cmpuint (n_uptimes, >=, 2);
      g_test_message ("%s: %u live frames, %u with uptimeSeconds", boards[i].profile,
                      live->texts->len, n_uptimes);
    }
}

static gboolean
has_fewer_log_clients (gpointer user_data)
{
  return pm_device_get_n_log_clients (user_data) < MAX_WEBSOCKETS / 2;
}

static void
test_axeos_websocket_limit (Fixture      *fixture,
                            gconstpointer user_data)
{
  PmDevice *device = fixture_add_device (fixture, user_data, "mockaxe1");
  PmDevice *other = fixture_add_device (fixture, user_data, "mockaxe2");
  PmTestWsClient *clients[MAX_WEBSOCKETS];
  guint i, status = 0;

  for (i = 0; i < MAX_WEBSOCKETS; i++)
    clients[i] = ws_open (fixture, device, i % 2 == 0 ? PM_FIRMWARE_PATH_WS : PM_FIRMWARE_PATH_WS_LIVE);

  /* The eleventh, of either kind, is refused. */
  g_assert_null (ws_connect (fixture, device, PM_FIRMWARE_PATH_WS, NULL, &status));
  g_assert_cmpuint (status, ==, 429);
  g_assert_null (ws_connect (fixture, device, PM_FIRMWARE_PATH_WS_LIVE, NULL, &status));
  g_assert_cmpuint (status, ==, 429);
  {
    g_autoptr(PmTestResponse) response = ws_handshake_raw (fixture, device, PM_FIRMWARE_PATH_WS);

    assert_esp_error (response, 429, "Max WebSocket clients reached");
  }
  /* The limit is each device's own. */
  ws_open (fixture, other, PM_FIRMWARE_PATH_WS);

  /* The ten stay served; one gone makes room for one. */
  for (i = 0; i < MAX_WEBSOCKETS; i++)
    g_assert_cmpint (soup_websocket_connection_get_state (clients[i]->conn), ==, SOUP_WEBSOCKET_STATE_OPEN);
  g_assert_cmpuint (pm_device_get_n_log_clients (device), ==, MAX_WEBSOCKETS / 2);
  soup_websocket_connection_close (clients[2]->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_assert_true (pm_test_wait_until (has_fewer_log_clients, device, PM_TEST_TIMEOUT_MS));
  ws_open (fixture, device, PM_FIRMWARE_PATH_WS_LIVE);
  g_assert_null (ws_connect (fixture, device, PM_FIRMWARE_PATH_WS_LIVE, NULL, &status));
  g_assert_cmpuint (status, ==, 429);
}

/* ---- restart ------------------------------------------------------------------------- */

typedef struct
{
  PmDevice   *device;
  const Board *board;       /* NULL for the NerdQAxe+ */
  gint64      sent;         /* when the restart request went */
  gint64      down_at;
  gint64      up_at;
  guint       n_down;
  guint       n_up;
  PmTestWsClient   *log;
  PmTestWsClient   *live;        /* (nullable) */
  double      frequency;
  double      best_diff;
  char       *hostname;
  char       *mac;
} Restart;

static void
on_listening (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  Restart *restart = user_data;

  if (pm_device_get_listening (restart->device))
    {
      restart->up_at = g_get_monotonic_time ();
      restart->n_up++;
    }
  else
    {
      restart->down_at = g_get_monotonic_time ();
      restart->n_down++;
    }
}

static gboolean
is_down (gpointer user_data)
{
  return ((Restart *) user_data)->n_down > 0;
}

static gboolean
is_up_again (gpointer user_data)
{
  return ((Restart *) user_data)->n_up > 0;
}

/* Waits until the device reports a best difficulty, and keeps it and
 * its MAC in @r. */
static void
wait_best_diff (Fixture *fixture,
                Restart *r)
{
  gint64 deadline = g_get_monotonic_time () + (6000 + SLACK_MS) * 1000;

  for (;;)
    {
      g_autoptr(JsonObject) info = get_info (fixture, r->device);

      r->best_diff = member_number (info, "bestDiff");
      g_clear_pointer (&r->mac, g_free);
      r->mac = g_strdup (pm_test_member_string (info, "macAddr"));
      if (r->best_diff > 0)
        return;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      pm_test_wait_ms (200);
    }
}

static void
test_restart (Fixture      *fixture,
              gconstpointer user_data)
{
  Restart restarts[N_BOARDS + 1];
  guint i, n_refusing = 0;

  memset (restarts, 0, sizeof restarts);
  for (i = 0; i < G_N_ELEMENTS (restarts); i++)
    {
      Restart *r = &restarts[i];
      gboolean nerd = i == N_BOARDS;
      g_autofree char *old_name = g_strdup_printf ("restart-%u", i);
      g_autofree char *body = NULL;
      g_autoptr(PmTestResponse) patch = NULL;
      g_autoptr(JsonObject) info = NULL;

      r->board = nerd ? NULL : &boards[i];
      r->device = fixture_add_device (fixture, nerd ? "nerdqaxe-plus" : boards[i].profile, old_name);
      g_signal_connect (r->device, "notify::listening", G_CALLBACK (on_listening), r);
      r->hostname = g_strdup_printf ("restarted-%u", i);
      r->frequency = nerd ? 525 : (double) boards[i].frequency_options[1];
      /* A low pool difficulty: a best share soon after mining starts. */
      body = g_strdup_printf ("{\"frequency\":%g,\"hostname\":\"%s\",%s}", r->frequency, r->hostname,
                              nerd ? "\"stratumDifficulty\":16"
                                   : "\"statsFrequency\":1,\"pools\":[{\"id\":0,"
                                     "\"stratumURL\":\"public-pool.io\",\"stratumPort\":3333,"
                                     "\"stratumUser\":\"bc1qexample.worker\","
                                     "\"stratumSuggestedDifficulty\":16}]");
      patch = request (fixture, r->device, "PATCH", "/api/system", body);
      g_assert_cmpuint (patch->status, ==, SOUP_STATUS_OK);
      r->log = ws_open (fixture, r->device, PM_FIRMWARE_PATH_WS);
      if (!nerd)
        {
          r->live = ws_open (fixture, r->device, PM_FIRMWARE_PATH_WS_LIVE);
          g_assert_true (pm_test_ws_client_wait_messages (r->live, 1, PM_TEST_TIMEOUT_MS));
        }
    }
  /* A best difficulty to keep. */
  for (i = 0; i < G_N_ELEMENTS (restarts); i++)
    wait_best_diff (fixture, &restarts[i]);

  for (i = 0; i < G_N_ELEMENTS (restarts); i++)
    {
      Restart *r = &restarts[i];
      g_autoptr(PmTestResponse) response = NULL;

      r->sent = g_get_monotonic_time ();
      response = request (fixture, r->device, "POST", "/api/system/restart", NULL);
      if (r->board != NULL)
        {
          assert_message (response, SOUP_STATUS_OK, RESTART_MESSAGE);
        }
      else
        {
          /* The NerdQAxe+ answers bare text. */
          g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
          g_assert_cmpstr (pm_test_response_content_type (response), ==, "text/html");
          g_assert_cmpstr (pm_test_response_text (response), ==, RESTART_MESSAGE);
          g_assert_cmpstr (header (response, "Connection"), ==, "close");
        }
      /* The reply came first: the device is still there. */
      g_assert_true (pm_device_get_restarting (r->device));
      g_assert_true (pm_device_get_listening (r->device));
      g_assert_cmpuint (r->n_down, ==, 0);
    }

  for (i = 0; i < G_N_ELEMENTS (restarts); i++)
    {
      Restart *r = &restarts[i];

      /* About a second later the chip resets: the port closes... */
      g_assert_true (pm_test_wait_until (is_down, r, RESTART_DELAY_MS + SLACK_MS + 1000));
      if (r->n_up == 0)
        {
          /* Nothing runs between the check and the connect: no race. */
          g_assert_false (pm_device_get_listening (r->device));
          g_assert_true (pm_test_port_refuses (pm_device_get_port (r->device)));
          n_refusing++;
        }
      g_test_message ("%s down %" G_GINT64_FORMAT " ms after the request",
                      pm_device_get_profile (r->device)->name, (r->down_at - r->sent) / 1000);
      g_assert_cmpint (r->down_at - r->sent, >=, RESTART_DELAY_MS * 1000);
      g_assert_cmpint (r->down_at - r->sent, <, (RESTART_DELAY_MS + SLACK_MS) * 1000);

      /* ...and the WebSockets are cut without a close frame. */
      g_assert_true (pm_test_ws_client_wait_closed (r->log, PM_TEST_TIMEOUT_MS));
      g_assert_false (r->log->closing);
      g_assert_cmpuint (r->log->close_code, ==, 0);
      g_assert_cmpint (r->log->closed_at, >=, r->down_at);
      if (r->live != NULL)
        {
          g_assert_true (pm_test_ws_client_wait_closed (r->live, PM_TEST_TIMEOUT_MS));
          g_assert_false (r->live->closing);
          g_assert_cmpuint (r->live->close_code, ==, 0);
          g_assert_cmpint (r->live->closed_at, >=, r->down_at);
        }
    }

  /* Seen refusing connections at least once (the window can only have
   * passed for the later devices on a very slow machine). */
  g_assert_cmpuint (n_refusing, >, 0);

  for (i = 0; i < G_N_ELEMENTS (restarts); i++)
    {
      Restart *r = &restarts[i];
      g_autoptr(JsonObject) info = NULL;
      gint64 booted;

      /* Back after the restart window, as a device that booted. */
      g_assert_true (pm_test_wait_until (is_up_again, r, RESTART_WINDOW_MS + SLACK_MS + 1000));
      g_assert_cmpuint (r->n_down, ==, 1);
      g_assert_cmpuint (r->n_up, ==, 1);
      g_assert_cmpint (r->log->closed_at, <, r->up_at);
      g_test_message ("%s up again %" G_GINT64_FORMAT " ms after going down",
                      pm_device_get_profile (r->device)->name, (r->up_at - r->down_at) / 1000);
      g_assert_cmpint (r->up_at - r->down_at, >=, RESTART_WINDOW_MS * 1000);
      g_assert_cmpint (r->up_at - r->down_at, <, (RESTART_WINDOW_MS + SLACK_MS) * 1000);
      g_assert_false (pm_device_get_restarting (r->device));

      info = get_info (fixture, r->device);
      /* It booted no earlier than the window after going down. */
      booted = r->down_at + RESTART_WINDOW_MS * 1000;
      g_assert_cmpint (pm_test_member_int (info, "uptimeSeconds"), <=,
                       (g_get_monotonic_time () - booted) / G_USEC_PER_SEC);
      g_assert_cmpfloat (member_number (info, "frequency"), ==, r->frequency);
      g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, r->hostname);
      g_assert_cmpstr (pm_device_get_hostname (r->device), ==, r->hostname);
      g_assert_cmpstr (pm_test_member_string (info, "macAddr"), ==, r->mac);
      g_assert_cmpfloat (member_number (info, "bestDiff"), >=, r->best_diff);
      if (r->board != NULL)
        {
          g_autoptr(PmTestResponse) log = request (fixture, r->device, "GET", "/api/system/logs", NULL);

          g_autoptr(JsonObject) stats = get_statistics (fixture, r->device, "");
          gint64 current = pm_test_member_int (stats, "currentTimestamp");

          g_assert_cmpstr (pm_test_member_string (info, "resetReason"), ==, RESET_SOFTWARE);
          assert_axeos_info (info, r->board, r->hostname, TRUE);
          /* The statistics start again with the boot; their setting stays. */
          g_assert_cmpint (pm_test_member_int (info, "statsFrequency"), ==, 1);
          g_assert_cmpint (current, <=, (g_get_monotonic_time () - booted) / 1000);
          g_assert_cmpuint (json_array_get_length (check_rows (stats)), <=, current / 1000);
          /* The log ring survives, marked. */
          g_assert_nonnull (strstr (pm_test_response_text (log), "--- SYSTEM RESTART ---"));
          ws_open (fixture, r->device, PM_FIRMWARE_PATH_WS_LIVE);
        }
      else
        {
          g_assert_cmpstr (pm_test_member_string (info, "lastResetReason"), ==, "SYSTEM.RESET_SOFTWARE");
        }
      ws_open (fixture, r->device, PM_FIRMWARE_PATH_WS);
      g_signal_handlers_disconnect_by_data (r->device, r);
      g_free (r->hostname);
      g_free (r->mac);
    }
}

/* ---- NerdQAxe+ ----------------------------------------------------------------------- */

static void
assert_connection_close (PmTestResponse *response)
{
  g_assert_cmpstr (header (response, "Connection"), ==, "close");
}

static void
test_nerdqaxe_info (Fixture      *fixture,
                    gconstpointer user_data)
{
  PmDevice *device = fixture_add_device (fixture, "nerdqaxe-plus", "nerd1");
  g_autoptr(PmTestResponse) response = request (fixture, device, "GET", "/api/system/info", NULL);
  g_autoptr(JsonObject) info = json_reply (response);
  g_autofree char *query = g_strdup_printf ("/api/system/info?ts=%" G_GINT64_FORMAT "&cur=%" G_GINT64_FORMAT,
                                            g_get_real_time () / 1000 - 3600 * 1000,
                                            g_get_real_time () / 1000);
  g_autoptr(PmTestResponse) with_ts = request (fixture, device, "GET", query, NULL);
  g_autoptr(PmTestResponse) ts_zero = request (fixture, device, "GET", "/api/system/info?ts=0", NULL);
  g_autoptr(JsonObject) history_info = json_reply (with_ts);
  g_autoptr(JsonObject) zero_info = json_reply (ts_zero);
  JsonObject *history;
  guint i, j, n;

  assert_connection_close (response);
  axeos_assert_fields (info, nerdqaxe_info_fields, G_N_ELEMENTS (nerdqaxe_info_fields), 0);
  g_assert_cmpint (pm_test_member_int (info, "asicCount"), ==, 4);
  g_assert_cmpint (pm_test_member_int (info, "smallCoreCount"), ==, 1276);
  g_assert_cmpstr (pm_test_member_string (info, "ASICModel"), ==, "BM1368");
  g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, "nerd1");
  g_assert_cmpstr (pm_test_member_string (info, "lastResetReason"), ==, "SYSTEM.RESET_POWERON");
  g_assert_cmpfloat (member_number (info, "frequency"), ==, 490);
  g_assert_cmpint (pm_test_member_int (info, "coreVoltage"), ==, 1250);
  g_assert_cmpfloat (member_number (info, "maxPower"), ==, 70);
  g_assert_cmpfloat (member_number (info, "minPower"), ==, 30);
  g_assert_cmpfloat (member_number (info, "bestDiff"), >=, member_number (info, "bestSessionDiff"));
  g_assert_false (json_object_has_member (info, "history"));
  g_assert_false (json_object_has_member (zero_info, "history"));

  history = json_object_get_object_member (history_info, "history");
  g_assert_nonnull (history);
  axeos_assert_fields (history, nerdqaxe_history_fields, G_N_ELEMENTS (nerdqaxe_history_fields), 0);
  n = json_array_get_length (json_object_get_array_member (history, "timestamps"));
  for (i = 0; i < G_N_ELEMENTS (nerdqaxe_history_fields); i++)
    {
      JsonArray *array;

      if (nerdqaxe_history_fields[i].type != AXEOS_ARRAY)
        continue;
      array = json_object_get_array_member (history, nerdqaxe_history_fields[i].name);
      g_assert_cmpuint (json_array_get_length (array), ==, n);
      for (j = 0; j < n; j++)
        g_assert_true (axeos_node_has_type (json_array_get_element (array, j), AXEOS_INT));
    }

  /* /asic, with the NerdQAxe+ extras. */
  {
    g_autoptr(PmTestResponse) asic_response = request (fixture, device, "GET", "/api/system/asic", NULL);
    g_autoptr(JsonObject) asic = json_reply (asic_response);
    const char *ints[] = { "absMaxFrequency", "absMaxVoltage", "ecoFrequency", "ecoVoltage" };

    assert_connection_close (asic_response);
    g_assert_cmpstr (pm_test_member_string (asic, "ASICModel"), ==, "BM1368");
    g_assert_cmpstr (pm_test_member_string (asic, "deviceModel"), ==, "NerdQAxe+");
    g_assert_cmpint (pm_test_member_int (asic, "asicCount"), ==, 4);
    g_assert_cmpint (pm_test_member_int (asic, "defaultFrequency"), ==, 490);
    g_assert_cmpint (pm_test_member_int (asic, "defaultVoltage"), ==, 1250);
    for (i = 0; i < G_N_ELEMENTS (ints); i++)
      pm_test_member_int (asic, ints[i]);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (asic, "frequencyOptions")), >, 0);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (asic, "voltageOptions")), >, 0);
  }
}

static void
test_nerdqaxe_patch (Fixture      *fixture,
                     gconstpointer user_data)
{
  PmDevice *device = fixture_add_device (fixture, "nerdqaxe-plus", "nerd1");
  g_autoptr(PmTestResponse) patch =
    request (fixture, device, "PATCH", "/api/system",
             "{\"frequency\":\"600\",\"coreVoltage\":1200,\"hostname\":42,\"jobInterval\":\"x\","
             "\"stratumDifficulty\":5000,\"flipscreen\":1,\"plutomockUnknown\":true}");
  g_autoptr(PmTestResponse) invalid = request (fixture, device, "PATCH", "/api/system", "{\"frequency\":");
  g_autoptr(JsonObject) info = get_info (fixture, device);

  /* Wrong types are skipped, the rest applies: no 400. */
  g_assert_cmpuint (patch->status, ==, SOUP_STATUS_OK);
  g_assert_cmpuint (g_bytes_get_size (patch->body), ==, 0);
  assert_connection_close (patch);
  assert_esp_error (invalid, SOUP_STATUS_BAD_REQUEST, "Invalid JSON");
  assert_connection_close (invalid);
  g_assert_cmpfloat (member_number (info, "frequency"), ==, 490);
  g_assert_cmpint (pm_test_member_int (info, "coreVoltage"), ==, 1200);
  g_assert_cmpstr (pm_test_member_string (info, "hostname"), ==, "nerd1");
  g_assert_cmpint (pm_test_member_int (info, "flipscreen"), ==, 1);
  /* The difficulty it asks the pool for is the one the pool gives. */
  g_assert_cmpint (pm_test_member_int (info, "stratumDifficulty"), ==, 5000);
  g_assert_cmpfloat (member_number (info, "poolDifficulty"), ==, 5000);
}

static void
test_nerdqaxe_routes (Fixture      *fixture,
                      gconstpointer user_data)
{
  PmDevice *device = fixture_add_device (fixture, "nerdqaxe-plus", "nerd1");
  const char *missing[][2] = {
    { "GET", "/api/nothing" },
    { "GET", "/api/system/statistics" },
    { "POST", "/api/system/identify" },
    { "GET", "/api/system/wifi/scan" },
    { "GET", "/api/system" },
    { "GET", "/api/ws/live" },
  };
  guint i, status = 0;

  for (i = 0; i < G_N_ELEMENTS (missing); i++)
    {
      g_autoptr(PmTestResponse) response = request (fixture, device, missing[i][0], missing[i][1], NULL);

      g_test_message ("%s %s", missing[i][0], missing[i][1]);
      g_assert_cmpuint (response->status, ==, SOUP_STATUS_NOT_FOUND);
      g_assert_null (strstr (pm_test_response_text (response), "unknown route"));
      assert_connection_close (response);
    }
  g_assert_null (ws_connect (fixture, device, PM_FIRMWARE_PATH_WS_LIVE, NULL, &status));
  g_assert_cmpuint (status, ==, SOUP_STATUS_NOT_FOUND);
}

/* One line per frame, to the newest client only. */
static void
test_nerdqaxe_log (Fixture      *fixture,
                   gconstpointer user_data)
{
  PmDevice *device = fixture_add_device (fixture, "nerdqaxe-plus", "nerd1");
  g_autoptr(PmTestResponse) patch = request (fixture, device, "PATCH", "/api/system", "{\"stratumDifficulty\":16}");
  PmTestWsClient *older = ws_open (fixture, device, PM_FIRMWARE_PATH_WS);
  PmTestWsClient *newer;
  gint64 newer_first;
  guint i, n_older;

  g_assert_cmpuint (patch->status, ==, SOUP_STATUS_OK);
  /* The first client gets the log... */
  g_assert_true (pm_test_ws_client_wait_messages (older, 1, 6000 + SLACK_MS));
  /* ...until a newer one comes. */
  newer = ws_open (fixture, device, PM_FIRMWARE_PATH_WS);
  g_assert_true (pm_test_ws_client_wait_messages (newer, 1, 2000 + SLACK_MS));
  newer_first = g_array_index (newer->times, gint64, 0);
  n_older = older->texts->len;
  g_assert_true (pm_test_ws_client_wait_messages (newer, newer->texts->len + 3, 3000 + SLACK_MS));

  for (i = 0; i < older->texts->len; i++)
    g_assert_cmpint (g_array_index (older->times, gint64, i), <, newer_first);
  g_assert_cmpuint (older->texts->len, ==, n_older);
  g_assert_cmpint (soup_websocket_connection_get_state (older->conn), ==, SOUP_WEBSOCKET_STATE_OPEN);

  for (i = 0; i < newer->texts->len; i++)
    {
      const char *frame = g_ptr_array_index (newer->texts, i);

      g_assert_true (g_str_has_suffix (frame, "\n"));
      g_assert_true (strchr (frame, '\n') == frame + strlen (frame) - 1);
      if (!is_log_line (frame))
        g_error ("not a log line: %s", frame);
    }
}

/* ---- the seed ------------------------------------------------------------------------- */

static void
test_seed (Fixture      *fixture,
           gconstpointer user_data)
{
  const char *profile = user_data;
  g_autoptr(GHashTable) macs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) versions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean nerd = strcmp (profile, "nerdqaxe-plus") == 0;
  const char *version_member = nerd ? "deviceModel" : "boardVersion";
  PmDevice *first = fixture_add_device_full (fixture, profile, "seeded", 0, 7, FALSE);
  guint port = pm_device_get_port (first);
  g_autoptr(JsonObject) first_info = get_info (fixture, first);
  g_autoptr(JsonObject) again_info = NULL;
  g_autoptr(JsonObject) other_seed_info = NULL;
  PmDevice *again;
  PmDevice *other_seed;
  guint i;

  /* The same seed and port after a stop: the same device. */
  pm_device_stop (first);
  again = fixture_add_device_full (fixture, profile, "seeded-again", port, 7, FALSE);
  again_info = get_info (fixture, again);
  g_assert_cmpstr (pm_test_member_string (again_info, "macAddr"), ==,
                   pm_test_member_string (first_info, "macAddr"));
  g_assert_cmpstr (pm_test_member_string (again_info, version_member), ==,
                   pm_test_member_string (first_info, version_member));
  pm_device_stop (again);
  other_seed = fixture_add_device_full (fixture, profile, "seeded-other", port, 8, FALSE);
  other_seed_info = get_info (fixture, other_seed);
  g_assert_cmpstr (pm_test_member_string (other_seed_info, "macAddr"), !=,
                   pm_test_member_string (first_info, "macAddr"));

  /* Other ports, other devices. */
  g_hash_table_add (macs, g_strdup (pm_test_member_string (first_info, "macAddr")));
  g_hash_table_add (versions, g_strdup (pm_test_member_string (first_info, version_member)));
  for (i = 0; i < 16; i++)
    {
      g_autofree char *name = g_strdup_printf ("seeded-%u", i);
      PmDevice *device = fixture_add_device_full (fixture, profile, name, 0, 7, FALSE);
      g_autoptr(JsonObject) info = get_info (fixture, device);

      g_assert_cmpuint (pm_device_get_port (device), !=, port);
      g_assert_true (g_hash_table_add (macs, g_strdup (pm_test_member_string (info, "macAddr"))));
      g_hash_table_add (versions, g_strdup (pm_test_member_string (info, version_member)));
    }
  /* Board revisions are drawn per port too (a NerdQAxe+ has one). */
  if (!nerd)
    g_assert_cmpuint (g_hash_table_size (versions), >, 1);
}

int
main (int   argc,
      char *argv[])
{
  guint i;

  g_test_init (&argc, &argv, NULL);

#define ADD(path, data, fn) \
  g_test_add (path, Fixture, data, fixture_setup, fn, fixture_teardown)

  for (i = 0; i < N_BOARDS; i++)
    {
      const char *profile = boards[i].profile;
      g_autofree char *info = g_strdup_printf ("/profiles/%s/info", profile);
      g_autofree char *asic = g_strdup_printf ("/profiles/%s/asic", profile);
      g_autofree char *actions = g_strdup_printf ("/profiles/%s/actions", profile);
      g_autofree char *pools = g_strdup_printf ("/profiles/%s/pools", profile);
      g_autofree char *theme = g_strdup_printf ("/profiles/%s/theme", profile);
      g_autofree char *logs = g_strdup_printf ("/profiles/%s/logs", profile);
      g_autofree char *errors = g_strdup_printf ("/profiles/%s/errors", profile);
      g_autofree char *patch = g_strdup_printf ("/profiles/%s/patch", profile);
      g_autofree char *rename = g_strdup_printf ("/profiles/%s/rename", profile);
      g_autofree char *gate = g_strdup_printf ("/profiles/%s/network-gate", profile);
      g_autofree char *limit = g_strdup_printf ("/profiles/%s/websocket-limit", profile);
      g_autofree char *seed = g_strdup_printf ("/profiles/%s/seed", profile);

      ADD (info, profile, test_axeos_info);
      ADD (asic, profile, test_axeos_asic);
      ADD (actions, profile, test_axeos_actions);
      ADD (pools, profile, test_axeos_pools);
      ADD (theme, profile, test_axeos_theme);
      ADD (logs, profile, test_axeos_logs);
      ADD (errors, profile, test_axeos_errors);
      ADD (patch, profile, test_axeos_patch);
      ADD (rename, profile, test_axeos_rename);
      ADD (gate, profile, test_axeos_network_gate);
      ADD (limit, profile, test_axeos_websocket_limit);
      ADD (seed, profile, test_seed);
    }
  ADD ("/profiles/axeos/statistics", NULL, test_axeos_statistics);
  ADD ("/profiles/axeos/wifi-scan", NULL, test_axeos_wifi_scan);
  ADD ("/profiles/axeos/streams", NULL, test_axeos_streams);
  ADD ("/profiles/restart", NULL, test_restart);
  ADD ("/profiles/nerdqaxe-plus/info", NULL, test_nerdqaxe_info);
  ADD ("/profiles/nerdqaxe-plus/patch", NULL, test_nerdqaxe_patch);
  ADD ("/profiles/nerdqaxe-plus/routes", NULL, test_nerdqaxe_routes);
  ADD ("/profiles/nerdqaxe-plus/log", NULL, test_nerdqaxe_log);
  ADD ("/profiles/nerdqaxe-plus/seed", "nerdqaxe-plus", test_seed);

#undef ADD

  return g_test_run ();
}
