/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-faults"

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "pm-device.h"
#include "pm-error.h"
#include "pm-fault.h"
#include "pm-faults.h"
#include "pm-listing-server.h"
#include "pm-test-util.h"

/*
 * Faults on demand as a client sees them: devices in this process, each
 * fault imposed with pm_device_set_fault() and watched over real HTTP and
 * WebSocket connections on loopback, with a device beside it that must
 * not notice.  Timings are judged against the parameters the fault was
 * given: never earlier than they allow, and later only by a margin
 * generous enough for a loaded machine.
 */

/* Short, so the tests are quick. */
#define RESTART_WINDOW_MS 300
#define LOG_INTERVAL_MS 100
/* How late a timer may fire, or a reply come, on a loaded machine. */
#define SLACK_MS 4000
/* How early a timer may seem to fire, measured from outside it: the
 * millisecond rounding of GLib's timeouts. */
#define EARLY_MS 5

#define PATH_INFO "/api/system/info"
#define PATH_ASIC "/api/system/asic"
#define PATH_WS "/api/ws"
#define PATH_WS_LIVE "/api/ws/live"

/* ---- fixture ----------------------------------------------------------------- */

typedef struct
{
  PmAcceptor  *acceptor;
  SoupSession *session;
  GPtrArray   *devices;  /* (element-type PmDevice) */
  GPtrArray   *clients;  /* (element-type PmTestWsClient) */
} Fixture;

static void
fixture_setup (Fixture      *fixture,
               gconstpointer user_data)
{
  fixture->acceptor = pm_acceptor_new ();
  fixture->session = soup_session_new_with_options ("max-conns", 100, "max-conns-per-host", 20, NULL);
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
  g_assert_true (pm_test_ws_clients_wait_closed (fixture->clients, PM_TEST_TIMEOUT_MS));

  g_clear_pointer (&fixture->clients, g_ptr_array_unref);
  g_clear_pointer (&fixture->devices, g_ptr_array_unref);
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->acceptor);
}

/* A started device on 127.0.0.1, on a port the kernel picks. */
static PmDevice *
add_device (Fixture    *fixture,
            const char *profile,
            gboolean    logs_enabled)
{
  g_autoptr(GError) error = NULL;
  guint64 seed = 42;
  PmDevice *device = g_object_new (PM_TYPE_DEVICE,
                                   "acceptor", fixture->acceptor,
                                   "profile", profile,
                                   "seed", seed,
                                   "logs-enabled", logs_enabled,
                                   "log-interval", LOG_INTERVAL_MS,
                                   "restart-window", RESTART_WINDOW_MS,
                                   NULL);

  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  g_ptr_array_add (fixture->devices, device);
  return device;
}

/* Imposes @kind with the NAME=VALUE parameters that follow, up to NULL. */
G_GNUC_NULL_TERMINATED
static void
set_fault (PmDevice   *device,
           const char *kind,
           ...)
{
  g_autoptr(GPtrArray) parameters = g_ptr_array_new ();
  g_autoptr(PmFault) fault = NULL;
  g_autoptr(GError) error = NULL;
  const char *parameter;
  va_list args;

  va_start (args, kind);
  while ((parameter = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (parameters, (gpointer) parameter);
  va_end (args);
  g_ptr_array_add (parameters, NULL);

  fault = pm_fault_new_from_strings (kind, (const char *const *) parameters->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (pm_device_set_fault (device, fault, &error));
  g_assert_no_error (error);
}

static void
clear_fault (PmDevice   *device,
             const char *kind)
{
  PmFaultKind value;

  g_assert_true (pm_fault_kind_from_string (kind, &value));
  g_assert_true (pm_device_clear_fault (device, value));
}

/* ---- HTTP ------------------------------------------------------------------- */

static PmTestResponse *
request (Fixture    *fixture,
         PmDevice   *device,
         const char *method,
         const char *path)
{
  g_autofree char *url = pm_test_device_url (device, "http", path);

  return pm_test_http (fixture->session, method, url, NULL, NULL, 0);
}

static PmTestResponse *
get (Fixture    *fixture,
     PmDevice   *device,
     const char *path)
{
  return request (fixture, device, "GET", path);
}

/* The body as JSON, or NULL if it is not JSON. */
static JsonNode *
try_parse (PmTestResponse *response)
{
  return json_from_string (pm_test_response_text (response), NULL);
}

/* A 200 JSON object, as an unfaulted device answers. */
static JsonObject *
normal_object (PmTestResponse *response)
{
  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  return pm_test_response_object (response);
}

static JsonObject *
get_info (Fixture  *fixture,
          PmDevice *device)
{
  g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);

  return normal_object (response);
}

static PmTestPending *
pending_start_in (SoupSession *session,
                  PmDevice    *device,
                  const char  *path)
{
  g_autofree char *url = pm_test_device_url (device, "http", path);

  return pm_test_pending_start (session, SOUP_METHOD_GET, url);
}

static PmTestPending *
pending_start (Fixture    *fixture,
               PmDevice   *device,
               const char *path)
{
  return pending_start_in (fixture->session, device, path);
}

/* Waits for @pending; it must have succeeded unless @may_fail.
 * Returns how long it took, in ms. */
static gint64
pending_wait (PmTestPending *pending,
              guint          timeout_ms,
              gboolean       may_fail)
{
  if (!pm_test_wait_until (pm_test_pending_done, pending, timeout_ms))
    g_error ("No reply within %u ms", timeout_ms);
  if (!may_fail)
    g_assert_no_error (pending->error);
  return (pending->finished - pending->started) / 1000;
}

/* A 200 JSON object in @pending's reply. */
static JsonObject *
pending_object (PmTestPending *pending)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;
  gsize size;
  const char *data = g_bytes_get_data (pending->body, &size);

  g_assert_cmpuint (soup_message_get_status (pending->msg), ==, SOUP_STATUS_OK);
  text = g_strndup (data, size);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

/* Each member's name and the type of its value, sorted: what a reply's
 * shape is, whatever the numbers in it. */
static char *
shape_of (JsonObject *object)
{
  g_autoptr(GList) names = json_object_get_members (object);
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  GList *l;

  names = g_list_sort (names, (GCompareFunc) strcmp);
  for (l = names; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (object, l->data);
      const char *type = JSON_NODE_HOLDS_VALUE (node)
                           ? (json_node_get_value_type (node) == G_TYPE_STRING ? "string"
                              : json_node_get_value_type (node) == G_TYPE_BOOLEAN ? "boolean"
                                                                                  : "number")
                           : json_node_type_name (node);

      g_ptr_array_add (parts, g_strdup_printf ("%s:%s", (const char *) l->data, type));
    }
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (",", (char **) parts->pdata);
}

static gboolean
is_number (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
         (json_node_get_value_type (node) == G_TYPE_INT64 ||
          json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

/* ---- WebSocket ---------------------------------------------------------------- */

static PmTestWsClient *
ws_open (Fixture    *fixture,
         PmDevice   *device,
         const char *path)
{
  g_autofree char *url = pm_test_device_url (device, "ws", path);
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *conn = pm_test_websocket_connect (fixture->session, url, &error);
  PmTestWsClient *client;

  g_assert_no_error (error);
  g_assert_nonnull (conn);
  client = pm_test_ws_client_new (conn);
  g_ptr_array_add (fixture->clients, client);
  return client;
}

/* ---- latency ------------------------------------------------------------------ */

#define LATENCY_MS 800
#define JITTER_MS 100

static void
test_latency (Fixture      *fixture,
              gconstpointer user_data)
{
  PmDevice *slow = add_device (fixture, "pluto-legacy", FALSE);
  PmDevice *other = add_device (fixture, "pluto-legacy", FALSE);
  PmDevice *third = add_device (fixture, "axeos-gamma", FALSE);
  g_autoptr(PmTestPending) first = NULL;
  g_autoptr(PmTestPending) second = NULL;
  g_autoptr(PmTestPending) prompt = NULL;
  g_autoptr(PmTestPending) during = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(PmTestPending) cleared = NULL;
  gboolean first_pending;
  gint64 took;

  set_fault (slow, "latency", "ms=" G_STRINGIFY (LATENCY_MS), "jitter-ms=" G_STRINGIFY (JITTER_MS), NULL);

  /* While the delayed reply waits, another device answers at once, and
   * so does a request to a third one started during the delay. */
  first = pending_start (fixture, slow, PATH_INFO);
  prompt = pending_start (fixture, other, PATH_INFO);
  took = pending_wait (prompt, PM_TEST_TIMEOUT_MS, FALSE);
  g_test_message ("another device answered in %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, <, LATENCY_MS / 2);
  object = pending_object (prompt);
  first_pending = first->finished == 0;
  during = pending_start (fixture, third, PATH_INFO);
  /* A second request to the slow device waits a delay of its own,
   * counted from when it came. */
  second = pending_start (fixture, slow, PATH_INFO);
  took = pending_wait (during, PM_TEST_TIMEOUT_MS, FALSE);
  g_test_message ("a device asked during the delay answered in %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, <, LATENCY_MS / 2);
  g_assert_true (first_pending);
  g_clear_pointer (&object, json_object_unref);
  object = pending_object (during);

  took = pending_wait (first, LATENCY_MS + JITTER_MS + SLACK_MS, FALSE);
  g_test_message ("the delayed reply came after %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, >=, LATENCY_MS - JITTER_MS);
  g_clear_pointer (&object, json_object_unref);
  object = pending_object (first);

  took = pending_wait (second, LATENCY_MS + JITTER_MS + SLACK_MS, FALSE);
  g_assert_cmpint (took, >=, LATENCY_MS - JITTER_MS);
  g_clear_pointer (&object, json_object_unref);
  object = pending_object (second);

  /* Cleared: prompt again. */
  clear_fault (slow, "latency");
  cleared = pending_start (fixture, slow, PATH_INFO);
  took = pending_wait (cleared, PM_TEST_TIMEOUT_MS, FALSE);
  g_assert_cmpint (took, <, LATENCY_MS / 2);
  g_clear_pointer (&object, json_object_unref);
  object = pending_object (cleared);
}

/* An error is as slow to come as any other reply. */
static void
test_latency_errors (Fixture      *fixture,
                     gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-legacy", FALSE);
  g_autoptr(PmTestPending) pending = NULL;
  gint64 took;

  set_fault (device, "latency", "ms=" G_STRINGIFY (LATENCY_MS), NULL);
  set_fault (device, "errors", "status=502", NULL);
  pending = pending_start (fixture, device, PATH_INFO);
  took = pending_wait (pending, LATENCY_MS + SLACK_MS, FALSE);
  g_assert_cmpuint (soup_message_get_status (pending->msg), ==, 502);
  g_assert_cmpint (took, >=, LATENCY_MS - EARLY_MS);
}

/* ---- errors --------------------------------------------------------------------- */

/* An ESP-IDF error: @status, a short text labelled text/html. */
static void
assert_esp_error (PmTestResponse *response,
                  guint           status)
{
  const char *text = pm_test_response_text (response);

  g_assert_cmpuint (response->status, ==, status);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "text/html");
  g_assert_cmpuint (strlen (text), >, 0);
  g_assert_cmpuint (strlen (text), <, 80);
  g_assert_null (strchr (text, '{'));
}

static void
test_errors (Fixture      *fixture,
             gconstpointer user_data)
{
  PmDevice *pluto = add_device (fixture, "pluto-legacy", FALSE);
  PmDevice *axeos = add_device (fixture, "axeos-gamma", FALSE);
  PmDevice *nerd = add_device (fixture, "nerdqaxe-plus", FALSE);
  PmDevice *devices[] = { pluto, axeos, nerd };
  gsize i;

  /* A Pluto device: its own JSON error, on every path and method; the
   * request never reaches the device. */
  set_fault (pluto, "errors", "status=503", NULL);
  {
    g_autoptr(PmTestResponse) response = get (fixture, pluto, PATH_INFO);
    g_autoptr(PmTestResponse) restart = request (fixture, pluto, "POST", "/api/system/restart");
    g_autoptr(JsonObject) object = NULL;

    g_assert_cmpuint (response->status, ==, 503);
    g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
    object = pm_test_response_object (response);
    g_assert_cmpuint (json_object_get_size (object), ==, 1);
    g_assert_cmpstr (pm_test_member_string (object, "error"), !=, "");
    g_assert_cmpuint (restart->status, ==, 503);
    g_assert_false (pm_device_get_restarting (pluto));
  }

  /* The firmware profiles: ESP-IDF's short text, status 500 by default. */
  set_fault (axeos, "errors", NULL);
  set_fault (nerd, "errors", "status=404", NULL);
  {
    g_autoptr(PmTestResponse) a = get (fixture, axeos, PATH_INFO);
    g_autoptr(PmTestResponse) b = get (fixture, axeos, PATH_ASIC);
    g_autoptr(PmTestResponse) c = get (fixture, nerd, PATH_INFO);

    assert_esp_error (a, 500);
    assert_esp_error (b, 500);
    assert_esp_error (c, 404);
  }

  /* rate 0: nothing happens; the fault replaces the one before. */
  set_fault (axeos, "errors", "rate=0", NULL);
  {
    g_autoptr(JsonObject) info = get_info (fixture, axeos);
  }

  /* path: only that path. */
  set_fault (axeos, "errors", "path=" PATH_INFO, NULL);
  {
    g_autoptr(PmTestResponse) a = get (fixture, axeos, PATH_INFO);
    g_autoptr(PmTestResponse) b = get (fixture, axeos, PATH_ASIC);
    g_autoptr(JsonObject) asic = NULL;

    assert_esp_error (a, 500);
    asic = normal_object (b);
  }

  /* Cleared: normal replies everywhere. */
  for (i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      g_autoptr(JsonObject) info = NULL;

      clear_fault (devices[i], "errors");
      info = get_info (fixture, devices[i]);
    }
}

#define N_DRAWS 200

static void
test_errors_rate (Fixture      *fixture,
                  gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-new", FALSE);
  guint i, n_errors = 0;

  set_fault (device, "errors", "rate=0.5", "status=502", NULL);
  for (i = 0; i < N_DRAWS; i++)
    {
      g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);

      if (response->status == 502)
        n_errors++;
      else
        g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    }
  g_test_message ("%u of %u requests failed", n_errors, N_DRAWS);
  g_assert_cmpuint (n_errors, >=, N_DRAWS * 3 / 10);
  g_assert_cmpuint (n_errors, <=, N_DRAWS * 7 / 10);
}

/* ---- offline and blackhole ------------------------------------------------------------- */

/* The ports /servers lists, as "PORT PORT ...". */
static char *
listed_ports (Fixture         *fixture,
              PmListingServer *listing)
{
  g_autoptr(JsonArray) servers = pm_test_get_servers (fixture->session,
                                                      pm_listing_server_get_port (listing));
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; i < json_array_get_length (servers); i++)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT, i > 0 ? " " : "",
                            pm_test_member_int (json_array_get_object_element (servers, i), "port"));
  return g_string_free (out, FALSE);
}

static void
test_offline (Fixture      *fixture,
              gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-legacy", TRUE);
  PmDevice *other = add_device (fixture, "axeos-gamma", FALSE);
  guint port = pm_device_get_port (device);
  PmTestWsClient *client = ws_open (fixture, device, PATH_WS);
  g_autoptr(GListStore) fleet = g_list_store_new (PM_TYPE_DEVICE);
  g_autoptr(PmListingServer) listing = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *both = g_strdup_printf ("%u %u", port, pm_device_get_port (other));
  g_autofree char *one = g_strdup_printf ("%u", pm_device_get_port (other));
  g_autofree char *listed = NULL;
  g_autoptr(PmTestPending) refused = NULL;

  /* The listing server follows the devices added after it is made. */
  listing = pm_listing_server_new (fixture->acceptor, G_LIST_MODEL (fleet));
  g_list_store_append (fleet, device);
  g_list_store_append (fleet, other);
  g_assert_true (pm_listing_server_start (listing, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  listed = listed_ports (fixture, listing);
  g_assert_cmpstr (listed, ==, both);
  {
    g_autoptr(JsonObject) info = get_info (fixture, device);
  }

  set_fault (device, "offline", NULL);
  g_assert_true (pm_test_port_refuses (port));
  g_assert_false (pm_device_get_listening (device));
  /* Its WebSocket clients lose the connection without a word. */
  g_assert_true (pm_test_ws_client_wait_closed (client, PM_TEST_TIMEOUT_MS));
  g_assert_false (client->closing);
  refused = pending_start (fixture, device, PATH_INFO);
  pending_wait (refused, PM_TEST_TIMEOUT_MS, TRUE);
  g_assert_error (refused->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_pointer (&listed, g_free);
  listed = listed_ports (fixture, listing);
  g_assert_cmpstr (listed, ==, one);
  {
    g_autoptr(JsonObject) info = get_info (fixture, other);
  }

  clear_fault (device, "offline");
  g_assert_false (pm_test_port_refuses (port));
  g_assert_true (pm_device_get_listening (device));
  {
    g_autoptr(JsonObject) info = get_info (fixture, device);
  }
  g_clear_pointer (&listed, g_free);
  listed = listed_ports (fixture, listing);
  g_assert_cmpstr (listed, ==, both);

  pm_listing_server_stop (listing);
}

/* What a firmware device's properties did while it rebooted. */
typedef struct
{
  PmDevice *device;
  gboolean  done;          /* restarting went back to FALSE */
  guint     n_start_time;  /* start-time notifications */
  gboolean  listening_at_boot;
} Boot;

static void
on_boot_restarting (PmDevice   *device,
                    GParamSpec *pspec,
                    Boot       *boot)
{
  if (pm_device_get_restarting (device))
    return;
  boot->done = TRUE;
  boot->listening_at_boot = pm_device_get_listening (device);
}

static void
on_boot_start_time (PmDevice   *device,
                    GParamSpec *pspec,
                    Boot       *boot)
{
  boot->n_start_time++;
}

static gboolean
boot_done (gpointer user_data)
{
  return ((Boot *) user_data)->done;
}

/* How long after its restart reply a firmware goes down. */
#define FIRMWARE_RESTART_DELAY_MS 1000
/* How long the rebooted device stays offline before the fault is lifted. */
#define HELD_OFFLINE_MS 2500

/* A firmware device that reboots while a fault keeps it off the network
 * still boots then: once the fault is lifted, its start time and uptime
 * are that boot's, not the first start's. */
static void
test_offline_reboot (Fixture      *fixture,
                     gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "axeos-gamma", FALSE);
  guint port = pm_device_get_port (device);
  gint64 first_start = pm_device_get_start_time (device);
  Boot boot = { device, FALSE, 0, TRUE };
  gulong restarting_handler, start_handler;
  gint64 asked_ms, booted_us, start_time, now_ms, uptime_s;
  g_autoptr(GError) error = NULL;

  set_fault (device, "offline", NULL);
  g_assert_true (pm_test_port_refuses (port));
  restarting_handler = g_signal_connect (device, "notify::restarting",
                                         G_CALLBACK (on_boot_restarting), &boot);
  start_handler = g_signal_connect (device, "notify::start-time",
                                    G_CALLBACK (on_boot_start_time), &boot);
  /* Well after the first start, so the two cannot be taken for each other. */
  pm_test_wait_ms (1100);
  asked_ms = g_get_real_time () / 1000;
  g_assert_cmpint (asked_ms, >, first_start + 1000);
  g_assert_true (pm_device_restart (device, &error));
  g_assert_no_error (error);
  g_assert_true (pm_test_wait_until (boot_done, &boot,
                                     FIRMWARE_RESTART_DELAY_MS + RESTART_WINDOW_MS + SLACK_MS));
  booted_us = g_get_monotonic_time ();

  /* Booted, its start time now, and still off the network. */
  g_assert_false (boot.listening_at_boot);
  g_assert_false (pm_device_get_listening (device));
  g_assert_true (pm_test_port_refuses (port));
  g_assert_cmpuint (boot.n_start_time, ==, 1);
  start_time = pm_device_get_start_time (device);
  g_assert_cmpint (start_time, >=, asked_ms + FIRMWARE_RESTART_DELAY_MS + RESTART_WINDOW_MS - EARLY_MS);

  /* Lifted a while later: it comes back with that boot's time. */
  pm_test_wait_ms (HELD_OFFLINE_MS);
  clear_fault (device, "offline");
  g_assert_true (pm_device_get_listening (device));
  g_assert_cmpint (pm_device_get_start_time (device), ==, start_time);
  g_assert_cmpuint (boot.n_start_time, ==, 1);
  {
    gint64 before_ms = g_get_real_time () / 1000;
    g_autoptr(JsonObject) info = get_info (fixture, device);

    now_ms = g_get_real_time () / 1000;
    uptime_s = pm_test_member_int (info, "uptimeSeconds");
    /* At least the time held offline, at most the time since the boot
     * was seen, and what the start time says, give or take the rounding
     * to whole seconds and however long the request took. */
    g_assert_cmpint (uptime_s, >=, HELD_OFFLINE_MS / 1000);
    g_assert_cmpint (uptime_s, <=, (g_get_monotonic_time () - booted_us) / G_USEC_PER_SEC + 1);
    g_assert_cmpint (uptime_s, >=, (before_ms - start_time) / 1000 - 1);
    g_assert_cmpint (uptime_s, <=, (now_ms - start_time) / 1000 + 1);
  }

  g_signal_handler_disconnect (device, restarting_handler);
  g_signal_handler_disconnect (device, start_handler);
}

/* How long a client waits for a black hole's reply, in seconds. */
#define CLIENT_TIMEOUT_S 1

static void
test_blackhole (Fixture      *fixture,
                gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "axeos-gamma", FALSE);
  PmDevice *other = add_device (fixture, "pluto-legacy", FALSE);
  g_autoptr(SoupSession) impatient = soup_session_new_with_options ("timeout", CLIENT_TIMEOUT_S, NULL);
  g_autoptr(PmTestPending) swallowed = NULL;
  g_autoptr(PmTestPending) answered = NULL;
  gint64 took;

  set_fault (device, "blackhole", NULL);
  /* The port takes the connection... */
  g_assert_false (pm_test_port_refuses (pm_device_get_port (device)));
  swallowed = pending_start_in (impatient, device, PATH_INFO);
  /* ...another device answers meanwhile... */
  answered = pending_start (fixture, other, PATH_INFO);
  took = pending_wait (answered, PM_TEST_TIMEOUT_MS, FALSE);
  g_assert_cmpint (took, <, CLIENT_TIMEOUT_S * 1000 / 2);
  g_assert_cmpuint (soup_message_get_status (answered->msg), ==, SOUP_STATUS_OK);
  g_assert_true (swallowed->finished == 0);
  /* ...and the request gets nothing until the client gives up. */
  took = pending_wait (swallowed, CLIENT_TIMEOUT_S * 1000 + SLACK_MS, TRUE);
  g_test_message ("the client gave up after %" G_GINT64_FORMAT " ms", took);
  g_assert_error (swallowed->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (took, >=, CLIENT_TIMEOUT_S * 1000 - EARLY_MS);

  /* Cleared: new requests are answered. */
  clear_fault (device, "blackhole");
  {
    g_autoptr(JsonObject) info = get_info (fixture, device);
  }
}

/* Clearing a black hole ends what it holds: each held connection is
 * closed at once, rather than left to the client's time-out with its
 * descriptor kept, and the next black hole holds requests again. */
static void
test_blackhole_release (Fixture      *fixture,
                        gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "axeos-gamma", FALSE);
  g_autoptr(SoupSession) patient = soup_session_new_with_options ("timeout", 20, NULL);
  g_autoptr(SoupSession) impatient = soup_session_new_with_options ("timeout", CLIENT_TIMEOUT_S, NULL);
  g_autoptr(PmTestPending) held = NULL;
  g_autoptr(PmTestPending) again = NULL;
  gint written = 0;
  gint64 took;

  set_fault (device, "blackhole", NULL);
  held = pending_start_in (patient, device, PATH_INFO);
  g_signal_connect_swapped (held->msg, "wrote-body", G_CALLBACK (pm_test_flag_set), &written);
  g_assert_true (pm_test_flag_wait (&written, PM_TEST_TIMEOUT_MS));
  /* The device reads what was written in the iterations that follow. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (held->finished == 0);

  clear_fault (device, "blackhole");
  took = pending_wait (held, PM_TEST_TIMEOUT_MS, TRUE);
  g_test_message ("the held request ended %" G_GINT64_FORMAT " ms after it began", took);
  g_assert_nonnull (held->error);
  g_assert_false (g_error_matches (held->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  g_assert_cmpint (took, <, 20 * 1000 / 2);

  set_fault (device, "blackhole", NULL);
  again = pending_start_in (impatient, device, PATH_INFO);
  pending_wait (again, CLIENT_TIMEOUT_S * 1000 + SLACK_MS, TRUE);
  g_assert_error (again->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  clear_fault (device, "blackhole");
}

/* ---- flapping ---------------------------------------------------------------------- */

#define FLAP_UP_MS 300
#define FLAP_DOWN_MS 450
#define POLL_MS 20

typedef struct
{
  PmDevice *device;
  guint     port;
  GString  *seen;     /* U and D, each change of what a connect found */
  GArray   *changes;  /* (element-type gint64) when listening changed, µs */
  GArray   *states;   /* (element-type gboolean) what it changed to */
} Flaps;

static gboolean
on_poll (gpointer user_data)
{
  Flaps *flaps = user_data;
  char state = pm_test_port_refuses (flaps->port) ? 'D' : 'U';

  if (flaps->seen->len == 0 || flaps->seen->str[flaps->seen->len - 1] != state)
    g_string_append_c (flaps->seen, state);
  return G_SOURCE_CONTINUE;
}

static void
on_listening (PmDevice   *device,
              GParamSpec *pspec,
              Flaps      *flaps)
{
  gint64 now = g_get_monotonic_time ();
  gboolean listening = pm_device_get_listening (device);

  g_array_append_val (flaps->changes, now);
  g_array_append_val (flaps->states, listening);
}

static gboolean
seen_a_cycle (gpointer user_data)
{
  return strstr (((Flaps *) user_data)->seen->str, "DUD") != NULL;
}

static void
test_flapping (Fixture      *fixture,
               gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-legacy", FALSE);
  Flaps flaps = { device, pm_device_get_port (device), g_string_new (NULL),
                  g_array_new (FALSE, FALSE, sizeof (gint64)),
                  g_array_new (FALSE, FALSE, sizeof (gboolean)) };
  gint64 set_at;
  guint poll_id, n_changes, i;
  gulong handler;

  handler = g_signal_connect (device, "notify::listening", G_CALLBACK (on_listening), &flaps);
  set_at = g_get_monotonic_time ();
  set_fault (device, "flapping", "up-s=0.3", "down-s=0.45", NULL);
  poll_id = g_timeout_add (POLL_MS, on_poll, &flaps);

  /* Down, up and down again, as a client finds it. */
  if (!pm_test_wait_until (seen_a_cycle, &flaps, 3 * (FLAP_UP_MS + FLAP_DOWN_MS) + 2 * SLACK_MS))
    g_error ("Connections went %s, not down, up and down", flaps.seen->str);
  g_test_message ("connections: %s", flaps.seen->str);

  /* Each phase as long as the fault says, at least: first up, then
   * down, alternating. */
  g_assert_cmpuint (flaps.changes->len, >=, 3);
  for (i = 0; i < flaps.changes->len; i++)
    {
      gint64 from = i == 0 ? set_at : g_array_index (flaps.changes, gint64, i - 1);
      gint64 lasted = (g_array_index (flaps.changes, gint64, i) - from) / 1000;
      gboolean listening = g_array_index (flaps.states, gboolean, i);

      g_assert_cmpint (listening, ==, i % 2 == 1);
      g_assert_cmpint (lasted, >=, (listening ? FLAP_DOWN_MS : FLAP_UP_MS) - EARLY_MS);
    }

  /* Cleared: up at once, and it stays up longer than a whole cycle. */
  clear_fault (device, "flapping");
  g_assert_true (pm_device_get_listening (device));
  g_assert_false (pm_test_port_refuses (flaps.port));
  n_changes = flaps.changes->len;
  g_string_assign (flaps.seen, "");
  pm_test_wait_ms (FLAP_UP_MS + FLAP_DOWN_MS + 200);
  g_assert_cmpstr (flaps.seen->str, ==, "U");
  g_assert_true (pm_device_get_listening (device));
  g_assert_cmpuint (flaps.changes->len, ==, n_changes);
  {
    g_autoptr(JsonObject) info = get_info (fixture, device);
  }

  g_source_remove (poll_id);
  g_signal_handler_disconnect (device, handler);
  g_string_free (flaps.seen, TRUE);
  g_array_unref (flaps.changes);
  g_array_unref (flaps.states);
}

/* ---- corrupt ------------------------------------------------------------------------- */

static void
test_corrupt (Fixture      *fixture,
              gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-legacy", FALSE);
  g_autoptr(PmTestResponse) plain = get (fixture, device, PATH_INFO);
  g_autoptr(JsonObject) normal = normal_object (plain);
  g_autofree char *normal_shape = shape_of (normal);
  gsize normal_size = g_bytes_get_size (plain->body);
  g_autoptr(GList) names = json_object_get_members (normal);
  guint n_numbers = 0;
  GList *l;

  for (l = names; l != NULL; l = l->next)
    n_numbers += is_number (json_object_get_member (normal, l->data));
  g_assert_cmpuint (n_numbers, >=, 5);

  /* truncate: a shorter body that is not JSON. */
  set_fault (device, "corrupt", "mode=truncate", NULL);
  {
    g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);
    g_autoptr(JsonNode) node = NULL;

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpuint (g_bytes_get_size (response->body), <, normal_size * 3 / 4);
    g_assert_cmpuint (g_bytes_get_size (response->body), >, 0);
    node = try_parse (response);
    g_assert_null (node);
  }

  /* invalid-json: not JSON. */
  set_fault (device, "corrupt", "mode=invalid-json", NULL);
  {
    g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);
    g_autoptr(JsonNode) node = try_parse (response);

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    g_assert_null (node);
  }

  /* strings: every number is a string that reads as one; the rest as
   * it was. */
  set_fault (device, "corrupt", "mode=strings", NULL);
  {
    g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);
    g_autoptr(JsonObject) object = normal_object (response);

    g_assert_cmpuint (json_object_get_size (object), ==, json_object_get_size (normal));
    for (l = names; l != NULL; l = l->next)
      {
        JsonNode *before = json_object_get_member (normal, l->data);
        JsonNode *after = json_object_get_member (object, l->data);

        g_assert_nonnull (after);
        if (is_number (before))
          {
            const char *text;
            char *end = NULL;

            g_assert_true (JSON_NODE_HOLDS_VALUE (after));
            g_assert_cmpuint (json_node_get_value_type (after), ==, G_TYPE_STRING);
            text = json_node_get_string (after);
            g_ascii_strtod (text, &end);
            if (end == text || *end != '\0')
              g_error ("%s is \"%s\", not a number in a string", (const char *) l->data, text);
          }
        else
          {
            g_assert_cmpint (json_node_get_node_type (after), ==, json_node_get_node_type (before));
            g_assert_false (is_number (after));
          }
      }
  }

  /* missing-fields: fewer members, none new. */
  set_fault (device, "corrupt", "mode=missing-fields", NULL);
  {
    g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);
    g_autoptr(JsonObject) object = normal_object (response);
    g_autoptr(GList) left = json_object_get_members (object);

    g_assert_cmpuint (json_object_get_size (object), <, json_object_get_size (normal));
    g_assert_cmpuint (json_object_get_size (object), >, 0);
    for (l = left; l != NULL; l = l->next)
      g_assert_true (json_object_has_member (normal, l->data));
  }

  /* content-type: text/plain over an intact JSON body. */
  set_fault (device, "corrupt", "mode=content-type", NULL);
  {
    g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);
    g_autoptr(JsonObject) object = NULL;
    g_autofree char *shape = NULL;

    g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
    g_assert_cmpstr (pm_test_response_content_type (response), ==, "text/plain");
    object = pm_test_response_object (response);
    shape = shape_of (object);
    g_assert_cmpstr (shape, ==, normal_shape);
  }

  /* Cleared: as before. */
  clear_fault (device, "corrupt");
  {
    g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);
    g_autoptr(JsonObject) object = normal_object (response);
    g_autofree char *shape = shape_of (object);

    g_assert_cmpstr (shape, ==, normal_shape);
  }
}

static void
test_corrupt_rate (Fixture      *fixture,
                   gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-new", FALSE);
  guint i, n_spoiled = 0;

  set_fault (device, "corrupt", "mode=invalid-json", "rate=0", NULL);
  for (i = 0; i < 20; i++)
    {
      g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);
      g_autoptr(JsonObject) object = normal_object (response);
    }

  set_fault (device, "corrupt", "mode=invalid-json", "rate=0.5", NULL);
  for (i = 0; i < N_DRAWS; i++)
    {
      g_autoptr(PmTestResponse) response = get (fixture, device, PATH_INFO);
      g_autoptr(JsonNode) node = try_parse (response);

      g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
      n_spoiled += node == NULL;
    }
  g_test_message ("%u of %u replies spoiled", n_spoiled, N_DRAWS);
  g_assert_cmpuint (n_spoiled, >=, N_DRAWS * 3 / 10);
  g_assert_cmpuint (n_spoiled, <=, N_DRAWS * 7 / 10);
}

/* ---- slow-body ------------------------------------------------------------------------- */

#define BYTES_PER_S 2000

static void
test_slow_body (Fixture      *fixture,
                gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-new", FALSE);
  PmDevice *other = add_device (fixture, "pluto-new", FALSE);
  g_autoptr(JsonObject) normal = get_info (fixture, device);
  g_autofree char *normal_shape = shape_of (normal);
  g_autoptr(PmTestPending) slow = NULL;
  g_autoptr(PmTestPending) prompt = NULL;
  g_autoptr(PmTestPending) cleared = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *shape = NULL;
  gsize size;
  gint64 took, least_ms;

  set_fault (device, "slow-body", "bytes-per-s=" G_STRINGIFY (BYTES_PER_S), NULL);
  slow = pending_start (fixture, device, PATH_INFO);
  prompt = pending_start (fixture, other, PATH_INFO);
  took = pending_wait (prompt, PM_TEST_TIMEOUT_MS, FALSE);
  g_clear_pointer (&object, json_object_unref);
  object = pending_object (prompt);

  pending_wait (slow, PM_TEST_TIMEOUT_MS + SLACK_MS, FALSE);
  size = g_bytes_get_size (slow->body);
  least_ms = (gint64) size * 1000 / BYTES_PER_S;
  g_test_message ("%" G_GSIZE_FORMAT " bytes in %" G_GINT64_FORMAT " ms; another device answered in %"
                  G_GINT64_FORMAT " ms", size, (slow->finished - slow->started) / 1000, took);
  g_assert_cmpuint (size, >=, 1000);
  g_assert_cmpint ((slow->finished - slow->started) / 1000, >=, least_ms - 100);
  g_assert_cmpint (took, <, least_ms / 2);
  g_assert_true (prompt->finished < slow->finished);
  /* Complete: as long as it said, and the whole document. */
  g_assert_cmpint (soup_message_headers_get_content_length (soup_message_get_response_headers (slow->msg)),
                   ==, size);
  g_clear_pointer (&object, json_object_unref);
  object = pending_object (slow);
  shape = shape_of (object);
  g_assert_cmpstr (shape, ==, normal_shape);

  /* Cleared: at once. */
  clear_fault (device, "slow-body");
  cleared = pending_start (fixture, device, PATH_INFO);
  took = pending_wait (cleared, PM_TEST_TIMEOUT_MS, FALSE);
  g_assert_cmpint (took, <, least_ms / 2);
}

/* A reply read as it comes: how much of its body had come, and when. */
typedef struct
{
  SoupMessage  *msg;
  GInputStream *stream;   /* (nullable): the body, once the headers came */
  gint64        started;  /* when the request was sent, monotonic µs */
  GByteArray   *body;
  GArray       *lengths;  /* (element-type gsize): the body's length after each read */
  GArray       *times;    /* (element-type gint64): when each read ended, monotonic µs */
  GError       *error;
  gboolean      done;
} Streamed;

static void streamed_read (Streamed *streamed);

static void
on_streamed_read (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Streamed *streamed = user_data;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result,
                                                              &streamed->error);
  gint64 now = g_get_monotonic_time ();
  gsize length;

  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      streamed->done = TRUE;
      return;
    }
  g_byte_array_append (streamed->body, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  length = streamed->body->len;
  g_array_append_val (streamed->lengths, length);
  g_array_append_val (streamed->times, now);
  streamed_read (streamed);
}

static void
streamed_read (Streamed *streamed)
{
  g_input_stream_read_bytes_async (streamed->stream, 4096, G_PRIORITY_DEFAULT, NULL,
                                   on_streamed_read, streamed);
}

static void
on_streamed_sent (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Streamed *streamed = user_data;

  streamed->stream = soup_session_send_finish (SOUP_SESSION (source), result, &streamed->error);
  if (streamed->stream == NULL)
    {
      streamed->done = TRUE;
      return;
    }
  streamed_read (streamed);
}

/* Sends @method @path to @device, with @body as JSON if not %NULL, and
 * reads the reply's body piece by piece as it comes. */
static Streamed *
streamed_start (Fixture    *fixture,
                PmDevice   *device,
                const char *method,
                const char *path,
                const char *body)
{
  g_autofree char *url = pm_test_device_url (device, "http", path);
  Streamed *streamed = g_new0 (Streamed, 1);

  streamed->msg = soup_message_new (method, url);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (body, strlen (body));

      soup_message_set_request_body_from_bytes (streamed->msg, "application/json", bytes);
    }
  streamed->body = g_byte_array_new ();
  streamed->lengths = g_array_new (FALSE, FALSE, sizeof (gsize));
  streamed->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  streamed->started = g_get_monotonic_time ();
  soup_session_send_async (fixture->session, streamed->msg, G_PRIORITY_DEFAULT, NULL,
                           on_streamed_sent, streamed);
  return streamed;
}

static gboolean
streamed_done (gpointer user_data)
{
  return ((Streamed *) user_data)->done;
}

typedef struct
{
  Streamed *streamed;
  gsize     length;
} StreamedLength;

static gboolean
streamed_has (gpointer user_data)
{
  StreamedLength *want = user_data;

  return want->streamed->done || want->streamed->body->len >= want->length;
}

static void
streamed_free (Streamed *streamed)
{
  g_assert_true (streamed->done);
  g_clear_object (&streamed->stream);
  g_clear_object (&streamed->msg);
  g_byte_array_unref (streamed->body);
  g_array_unref (streamed->lengths);
  g_array_unref (streamed->times);
  g_clear_error (&streamed->error);
  g_free (streamed);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Streamed, streamed_free)

/* No part of @streamed's body came before @bytes_per_s allowed: the body
 * began to trickle no sooner than the request was sent, so by any time
 * the client has at most the rate times the time since it sent the
 * request.  A loaded machine only makes the body later, never earlier,
 * so this holds however slow the machine is. */
static void
assert_within_rate (Streamed *streamed,
                    guint64   bytes_per_s)
{
  guint i;

  for (i = 0; i < streamed->lengths->len; i++)
    {
      gsize length = g_array_index (streamed->lengths, gsize, i);
      gint64 since = g_array_index (streamed->times, gint64, i) - streamed->started;
      guint64 allowed = (guint64) since * bytes_per_s / G_USEC_PER_SEC;

      if (length > allowed)
        g_error ("%" G_GSIZE_FORMAT " bytes of the body had come %" G_GINT64_FORMAT
                 " ms after the request, but %" G_GUINT64_FORMAT " bytes a second allow only %"
                 G_GUINT64_FORMAT, length, since / 1000, bytes_per_s, allowed);
    }
}

#define PATCH_BODY "{\"frequency\":525}"
#define PATCH_REPLY "{\"message\":\"System info updated successfully\"}"
#define SLOWEST_BYTES_PER_S 2
/* How many bytes of the reply the test waits for at the slowest rate. */
#define SLOWEST_WANT 3
#define BRISK_BYTES_PER_S 1000

/* A rate of a few bytes a second holds as well as a fast one: a body
 * never comes faster than its rate allows, however few bytes a tick
 * that is, and it goes on coming. */
static void
test_slow_body_rate (Fixture      *fixture,
                     gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-new", FALSE);
  g_autoptr(Streamed) slowest = NULL;
  g_autoptr(Streamed) brisk = NULL;
  g_autoptr(JsonObject) normal = get_info (fixture, device);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *normal_shape = shape_of (normal);
  g_autofree char *shape = NULL;
  g_autofree char *text = NULL;
  StreamedLength want;
  gint64 took, least_ms;

  set_fault (device, "slow-body", "bytes-per-s=" G_STRINGIFY (SLOWEST_BYTES_PER_S), NULL);
  slowest = streamed_start (fixture, device, "PATCH", "/api/system", PATCH_BODY);
  want.streamed = slowest;
  want.length = SLOWEST_WANT;
  g_assert_true (pm_test_wait_until (streamed_has, &want,
                                     SLOWEST_WANT * 1000 / SLOWEST_BYTES_PER_S + SLACK_MS));
  g_assert_no_error (slowest->error);
  g_assert_false (slowest->done);
  g_assert_cmpuint (soup_message_get_status (slowest->msg), ==, SOUP_STATUS_OK);
  g_assert_cmpint (soup_message_headers_get_content_length (soup_message_get_response_headers (slowest->msg)),
                   ==, strlen (PATCH_REPLY));
  took = (g_get_monotonic_time () - slowest->started) / 1000;
  g_test_message ("%u bytes had come %" G_GINT64_FORMAT " ms after the request, in %u reads",
                  slowest->body->len, took, slowest->lengths->len);
  assert_within_rate (slowest, SLOWEST_BYTES_PER_S);

  /* Cleared: the rest at once, and the whole reply. */
  clear_fault (device, "slow-body");
  g_assert_true (pm_test_wait_until (streamed_done, slowest, PM_TEST_TIMEOUT_MS));
  g_assert_no_error (slowest->error);
  text = g_strndup ((const char *) slowest->body->data, slowest->body->len);
  g_assert_cmpstr (text, ==, PATCH_REPLY);

  /* A brisk rate: the whole body, no sooner than the rate allows. */
  set_fault (device, "slow-body", "bytes-per-s=" G_STRINGIFY (BRISK_BYTES_PER_S), NULL);
  brisk = streamed_start (fixture, device, "GET", PATH_INFO, NULL);
  g_assert_true (pm_test_wait_until (streamed_done, brisk, PM_TEST_TIMEOUT_MS + SLACK_MS));
  g_assert_no_error (brisk->error);
  took = (g_array_index (brisk->times, gint64, brisk->times->len - 1) - brisk->started) / 1000;
  least_ms = (gint64) brisk->body->len * 1000 / BRISK_BYTES_PER_S;
  g_test_message ("%u bytes in %" G_GINT64_FORMAT " ms, in %u reads",
                  brisk->body->len, took, brisk->lengths->len);
  g_assert_cmpuint (brisk->body->len, >=, 1000);
  g_assert_cmpint (took, >=, least_ms);
  g_assert_cmpint (took, <, least_ms + SLACK_MS);
  assert_within_rate (brisk, BRISK_BYTES_PER_S);
  g_assert_cmpint (soup_message_headers_get_content_length (soup_message_get_response_headers (brisk->msg)),
                   ==, brisk->body->len);
  g_free (text);
  text = g_strndup ((const char *) brisk->body->data, brisk->body->len);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_object_ref (json_node_get_object (node));
  shape = shape_of (object);
  g_assert_cmpstr (shape, ==, normal_shape);
  clear_fault (device, "slow-body");
}

/* ---- replies held back --------------------------------------------------------------- */

/* A latency, and a trickle, that hold a reply well past the end of a
 * test unless something lets it go. */
#define HOLD_MS "60000"
#define CRAWL_BYTES_PER_S "10"
/* Replies held back at once in the tests that need many. */
#define N_MANY 40

typedef struct
{
  guint n;
  guint want;
} Count;

static void
on_count (SoupMessage *msg,
          Count       *count)
{
  count->n++;
}

static gboolean
count_reached (gpointer user_data)
{
  Count *count = user_data;

  return count->n >= count->want;
}

/* A session that opens a connection for each of @n requests at once. */
static SoupSession *
session_for (guint n)
{
  return soup_session_new_with_options ("max-conns", n + 8, "max-conns-per-host", n + 8, NULL);
}

/* Sends @n requests to @device at once, and returns once the device has
 * read them all; with @headers, once the reply headers of each have come
 * too (a trickled body comes after its headers). */
static GPtrArray *
hold_requests (SoupSession *session,
               PmDevice    *device,
               guint        n,
               gboolean     headers)
{
  GPtrArray *held = g_ptr_array_new_with_free_func ((GDestroyNotify) pm_test_pending_free);
  Count written = { 0, n };
  Count got = { 0, headers ? n : 0 };
  guint i;

  for (i = 0; i < n; i++)
    {
      PmTestPending *pending = pending_start_in (session, device, PATH_INFO);

      g_signal_connect (pending->msg, "wrote-body", G_CALLBACK (on_count), &written);
      g_signal_connect (pending->msg, "got-headers", G_CALLBACK (on_count), &got);
      g_ptr_array_add (held, pending);
    }
  g_assert_true (pm_test_wait_until (count_reached, &written, PM_TEST_TIMEOUT_MS));
  g_assert_true (pm_test_wait_until (count_reached, &got, PM_TEST_TIMEOUT_MS));
  /* The device reads what was written in the iterations that follow. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (i = 0; i < n; i++)
    {
      PmTestPending *pending = g_ptr_array_index (held, i);

      g_signal_handlers_disconnect_by_data (pending->msg, &written);
      g_signal_handlers_disconnect_by_data (pending->msg, &got);
    }
  return held;
}

static void
assert_none_finished (GPtrArray *held)
{
  guint i;

  for (i = 0; i < held->len; i++)
    g_assert_true (((PmTestPending *) g_ptr_array_index (held, i))->finished == 0);
}

/* Each of @held ends within @timeout_ms with a whole 200 JSON reply. */
static void
assert_all_answered (GPtrArray *held,
                     guint      timeout_ms)
{
  guint i;

  for (i = 0; i < held->len; i++)
    {
      PmTestPending *pending = g_ptr_array_index (held, i);
      g_autoptr(JsonObject) object = NULL;

      pending_wait (pending, timeout_ms, FALSE);
      object = pending_object (pending);
    }
}

/* At least the id the next source attached to the main context gets. */
static guint
next_source_id (void)
{
  GSource *source = g_idle_source_new ();
  guint id = g_source_attach (source, NULL);

  g_source_destroy (source);
  g_source_unref (source);
  return id;
}

/* How many sources named @name are attached to the main context among
 * those attached since @since (a next_source_id()).  Ids grow as sources
 * are attached; the id of a source that is gone finds nothing. */
static guint
count_sources (guint       since,
               const char *name)
{
  guint until = next_source_id ();
  guint id, n = 0;

  for (id = since; id < until; id++)
    {
      GSource *source = g_main_context_find_source_by_id (NULL, id);

      if (source != NULL && g_strcmp0 (g_source_get_name (source), name) == 0)
        n++;
    }
  return n;
}

/* A device holds back at most PM_FAULTS_MAX_DELAYED replies; the next
 * gets a 503 at once, saying why, while those held stay held.  Clearing
 * the fault lets every held reply go at once, whole. */
static void
test_held_cap (Fixture      *fixture,
               gconstpointer user_data)
{
  gboolean latency = g_str_equal (user_data, "latency");
  /* Both error styles: Pluto's JSON, ESP-IDF's short text. */
  PmDevice *device = add_device (fixture, latency ? "pluto-legacy" : "axeos-gamma", FALSE);
  PmDevice *other = add_device (fixture, "pluto-legacy", FALSE);
  g_autoptr(SoupSession) session = session_for (PM_FAULTS_MAX_DELAYED + 1);
  g_autoptr(PmTestPending) refused = NULL;
  g_autoptr(PmTestPending) prompt = NULL;
  g_autoptr(GPtrArray) held = NULL;
  g_autofree char *text = NULL;
  gint64 took;

  if (latency)
    set_fault (device, "latency", "ms=" HOLD_MS, NULL);
  else
    set_fault (device, "slow-body", "bytes-per-s=" CRAWL_BYTES_PER_S, NULL);
  held = hold_requests (session, device, PM_FAULTS_MAX_DELAYED, !latency);
  assert_none_finished (held);

  refused = pending_start_in (session, device, PATH_INFO);
  took = pending_wait (refused, PM_TEST_TIMEOUT_MS, FALSE);
  text = g_strndup (g_bytes_get_data (refused->body, NULL), g_bytes_get_size (refused->body));
  g_test_message ("past the cap: %u in %" G_GINT64_FORMAT " ms: %s",
                  soup_message_get_status (refused->msg), took, text);
  g_assert_cmpuint (soup_message_get_status (refused->msg), ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
  g_assert_nonnull (strstr (text, G_STRINGIFY (PM_FAULTS_MAX_DELAYED)));
  g_assert_nonnull (strstr (text, "held back"));
  g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (refused->msg), NULL),
                   ==, latency ? "application/json" : "text/html");
  /* Those held are still held; another device answers as ever. */
  prompt = pending_start (fixture, other, PATH_INFO);
  pending_wait (prompt, PM_TEST_TIMEOUT_MS, FALSE);
  g_assert_cmpuint (soup_message_get_status (prompt->msg), ==, SOUP_STATUS_OK);
  assert_none_finished (held);

  clear_fault (device, latency ? "latency" : "slow-body");
  assert_all_answered (held, PM_TEST_TIMEOUT_MS);
  {
    g_autoptr(JsonObject) info = get_info (fixture, device);
  }
}

/* However many replies a device holds back, one timer waits for the
 * latencies and one ticks for the trickles; each stops once nothing is
 * held, and clearing the faults lets every held reply go at once. */
static void
test_held_timers (Fixture      *fixture,
                  gconstpointer user_data)
{
  PmDevice *slow = add_device (fixture, "pluto-new", FALSE);
  PmDevice *late = add_device (fixture, "axeos-gamma", FALSE);
  g_autoptr(SoupSession) session = session_for (2 * N_MANY);
  g_autoptr(GPtrArray) trickled = NULL;
  g_autoptr(GPtrArray) waited = NULL;
  guint since = next_source_id ();
  gint64 cleared_at;

  set_fault (slow, "slow-body", "bytes-per-s=" CRAWL_BYTES_PER_S, NULL);
  /* Jitter, so that each reply is due at a time of its own. */
  set_fault (late, "latency", "ms=" HOLD_MS, "jitter-ms=5000", NULL);
  trickled = hold_requests (session, slow, N_MANY, TRUE);
  waited = hold_requests (session, late, N_MANY, FALSE);
  assert_none_finished (trickled);
  assert_none_finished (waited);
  g_assert_cmpuint (count_sources (since, "pm-faults-trickle"), ==, 1);
  g_assert_cmpuint (count_sources (since, "pm-faults-latency"), ==, 1);

  cleared_at = g_get_monotonic_time ();
  clear_fault (slow, "slow-body");
  clear_fault (late, "latency");
  assert_all_answered (trickled, PM_TEST_TIMEOUT_MS);
  assert_all_answered (waited, PM_TEST_TIMEOUT_MS);
  g_test_message ("%u held replies out %" G_GINT64_FORMAT " ms after the faults were cleared",
                  2 * N_MANY, (g_get_monotonic_time () - cleared_at) / 1000);
  g_assert_cmpuint (count_sources (since, "pm-faults-trickle"), ==, 0);
  g_assert_cmpuint (count_sources (since, "pm-faults-latency"), ==, 0);
}

#define FIRST_MS 1500
#define SECOND_MS 300

/* A reply due sooner than those already waiting goes first, on time; the
 * later one still waits its own delay. */
static void
test_held_order (Fixture      *fixture,
                 gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-legacy", FALSE);
  g_autoptr(GPtrArray) held = NULL;
  PmTestPending *first;
  g_autoptr(PmTestPending) second = NULL;
  g_autoptr(JsonObject) object = NULL;
  gint64 took;

  set_fault (device, "latency", "ms=" G_STRINGIFY (FIRST_MS), NULL);
  held = hold_requests (fixture->session, device, 1, FALSE);
  first = g_ptr_array_index (held, 0);
  set_fault (device, "latency", "ms=" G_STRINGIFY (SECOND_MS), NULL);
  second = pending_start (fixture, device, PATH_INFO);

  took = pending_wait (second, SECOND_MS + SLACK_MS, FALSE);
  g_test_message ("the second reply came after %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, >=, SECOND_MS - EARLY_MS);
  g_assert_true (first->finished == 0);
  object = pending_object (second);

  took = pending_wait (first, FIRST_MS + SLACK_MS, FALSE);
  g_test_message ("the first reply came after %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, >=, FIRST_MS - EARLY_MS);
  g_clear_pointer (&object, json_object_unref);
  object = pending_object (first);
}

/* With both faults, a reply waits out its latency, then trickles:
 * clearing the latency starts the trickle at once, clearing slow-body
 * sends the rest at once. */
static void
test_held_latency_then_trickle (Fixture      *fixture,
                                gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-new", FALSE);
  g_autoptr(GPtrArray) held = NULL;
  PmTestPending *pending;
  g_autoptr(JsonObject) object = NULL;
  gint got_headers = 0;

  set_fault (device, "latency", "ms=" HOLD_MS, NULL);
  set_fault (device, "slow-body", "bytes-per-s=" CRAWL_BYTES_PER_S, NULL);
  held = hold_requests (fixture->session, device, 1, FALSE);
  pending = g_ptr_array_index (held, 0);
  /* Nothing of the reply has come. */
  g_assert_cmpuint (soup_message_get_status (pending->msg), ==, 0);
  g_signal_connect_swapped (pending->msg, "got-headers", G_CALLBACK (pm_test_flag_set), &got_headers);

  clear_fault (device, "latency");
  g_assert_true (pm_test_flag_wait (&got_headers, PM_TEST_TIMEOUT_MS));
  g_signal_handlers_disconnect_by_data (pending->msg, &got_headers);
  g_assert_true (pending->finished == 0);

  clear_fault (device, "slow-body");
  pending_wait (pending, PM_TEST_TIMEOUT_MS, FALSE);
  object = pending_object (pending);
}

/* A device that goes away ends the replies it holds back: each client
 * sees its connection close at once, not its own time-out, and no timer
 * of the device fires afterwards. */
static void
test_held_device_gone (Fixture      *fixture,
                       gconstpointer user_data)
{
  PmDevice *slow = add_device (fixture, "pluto-new", FALSE);
  PmDevice *late = add_device (fixture, "axeos-gamma", FALSE);
  PmDevice *other = add_device (fixture, "pluto-legacy", FALSE);
  g_autoptr(SoupSession) session = session_for (2 * N_MANY);
  g_autoptr(GPtrArray) trickled = NULL;
  g_autoptr(GPtrArray) waited = NULL;
  guint since = next_source_id ();
  guint i;

  set_fault (slow, "slow-body", "bytes-per-s=" CRAWL_BYTES_PER_S, NULL);
  set_fault (late, "latency", "ms=" HOLD_MS, NULL);
  trickled = hold_requests (session, slow, N_MANY, TRUE);
  waited = hold_requests (session, late, N_MANY, FALSE);

  pm_device_stop (slow);
  pm_device_stop (late);
  g_ptr_array_remove (fixture->devices, slow);
  g_ptr_array_remove (fixture->devices, late);
  g_ptr_array_extend_and_steal (trickled, g_steal_pointer (&waited));
  for (i = 0; i < trickled->len; i++)
    {
      PmTestPending *pending = g_ptr_array_index (trickled, i);

      pending_wait (pending, PM_TEST_TIMEOUT_MS, TRUE);
      g_assert_nonnull (pending->error);
      g_assert_false (g_error_matches (pending->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
    }
  g_assert_cmpuint (count_sources (since, "pm-faults-trickle"), ==, 0);
  g_assert_cmpuint (count_sources (since, "pm-faults-latency"), ==, 0);
  {
    g_autoptr(JsonObject) info = get_info (fixture, other);
  }
}

/* A black hole holds at most PM_FAULTS_MAX_HELD requests: the connection
 * of the next is closed at once while those held stay held, another
 * device answers as ever, and clearing the fault closes every held
 * connection at once. */
static void
test_blackhole_cap (Fixture      *fixture,
                    gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "axeos-gamma", FALSE);
  PmDevice *other = add_device (fixture, "pluto-legacy", FALSE);
  g_autoptr(SoupSession) session = session_for (PM_FAULTS_MAX_HELD + 1);
  g_autoptr(PmTestPending) dropped = NULL;
  g_autoptr(GPtrArray) held = NULL;
  gint64 took, cleared_at;
  guint i;

  /* The client waits far longer than the test: only the device can end
   * a request here. */
  g_object_set (session, "timeout", 600, NULL);
  set_fault (device, "blackhole", NULL);
  held = hold_requests (session, device, PM_FAULTS_MAX_HELD, FALSE);
  assert_none_finished (held);

  dropped = pending_start_in (session, device, PATH_INFO);
  g_assert_true (pm_test_wait_until (pm_test_pending_done, dropped, PM_TEST_TIMEOUT_MS));
  took = (dropped->finished - dropped->started) / 1000;
  g_test_message ("past the cap: %s after %" G_GINT64_FORMAT " ms",
                  dropped->error != NULL ? dropped->error->message : "a reply", took);
  g_assert_nonnull (dropped->error);
  g_assert_cmpuint (soup_message_get_status (dropped->msg), ==, 0);
  g_assert_false (g_error_matches (dropped->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));

  /* Those held are still held; another device answers as ever. */
  {
    g_autoptr(JsonObject) info = get_info (fixture, other);
  }
  assert_none_finished (held);

  cleared_at = g_get_monotonic_time ();
  clear_fault (device, "blackhole");
  for (i = 0; i < held->len; i++)
    {
      PmTestPending *pending = g_ptr_array_index (held, i);

      pending_wait (pending, PM_TEST_TIMEOUT_MS, TRUE);
      g_assert_nonnull (pending->error);
      g_assert_false (g_error_matches (pending->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
    }
  g_test_message ("%u held connections closed %" G_GINT64_FORMAT " ms after the fault was cleared",
                  held->len, (g_get_monotonic_time () - cleared_at) / 1000);
  {
    g_autoptr(JsonObject) info = get_info (fixture, device);
  }
}

/* ---- WebSockets ------------------------------------------------------------------------ */

#define WS_DROP_MS 300
#define GOING_AWAY 1001

static void
test_ws_drop (Fixture      *fixture,
              gconstpointer user_data)
{
  PmDevice *pluto = add_device (fixture, "pluto-legacy", TRUE);
  PmDevice *axeos = add_device (fixture, "axeos-gamma", FALSE);
  PmTestWsClient *cut, *log, *live, *again, *kept;
  gint64 set_at;

  cut = ws_open (fixture, pluto, PATH_WS);
  log = ws_open (fixture, axeos, PATH_WS);
  live = ws_open (fixture, axeos, PATH_WS_LIVE);
  g_assert_true (pm_test_ws_client_wait_messages (cut, 1, PM_TEST_TIMEOUT_MS));
  g_assert_true (pm_test_ws_client_wait_messages (live, 1, PM_TEST_TIMEOUT_MS));

  set_at = g_get_monotonic_time ();
  set_fault (pluto, "ws-drop", "interval-s=0.3", NULL);
  set_fault (axeos, "ws-drop", "interval-s=0.3", "clean=true", NULL);

  /* Cut: no close frame. */
  g_assert_true (pm_test_ws_client_wait_closed (cut, WS_DROP_MS + SLACK_MS));
  g_assert_false (cut->closing);
  g_assert_cmpuint (cut->close_code, ==, 0);
  g_assert_cmpint ((cut->closed_at - set_at) / 1000, >=, WS_DROP_MS - EARLY_MS);

  /* Clean: "going away", log and live streams alike. */
  g_assert_true (pm_test_ws_client_wait_closed (log, WS_DROP_MS + SLACK_MS));
  g_assert_true (pm_test_ws_client_wait_closed (live, WS_DROP_MS + SLACK_MS));
  g_assert_true (log->closing);
  g_assert_true (live->closing);
  g_assert_cmpuint (log->close_code, ==, GOING_AWAY);
  g_assert_cmpuint (live->close_code, ==, GOING_AWAY);
  g_assert_cmpint ((log->closed_at - set_at) / 1000, >=, WS_DROP_MS - EARLY_MS);

  /* Over and over: a client that comes back is dropped too. */
  again = ws_open (fixture, pluto, PATH_WS);
  g_assert_true (pm_test_ws_client_wait_closed (again, WS_DROP_MS + SLACK_MS));
  g_assert_false (again->closing);

  /* Cleared: a client stays, and gets its log, past several intervals. */
  clear_fault (pluto, "ws-drop");
  clear_fault (axeos, "ws-drop");
  kept = ws_open (fixture, pluto, PATH_WS);
  pm_test_wait_ms (3 * WS_DROP_MS);
  g_assert_false (kept->closed);
  g_assert_true (pm_test_ws_client_wait_messages (kept, 1, PM_TEST_TIMEOUT_MS));
}

#define SILENT_MS 1600
/* Frames on their way when the fault is set may still come. */
#define IN_FLIGHT_MS 200

static void
test_ws_silent (Fixture      *fixture,
                gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-legacy", TRUE);
  PmTestWsClient *client = ws_open (fixture, device, PATH_WS);
  guint n;

  g_assert_true (pm_test_ws_client_wait_messages (client, 2, PM_TEST_TIMEOUT_MS));
  set_fault (device, "ws-silent", NULL);
  pm_test_wait_ms (IN_FLIGHT_MS);
  n = client->texts->len;
  pm_test_wait_ms (SILENT_MS);
  g_assert_cmpuint (client->texts->len, ==, n);
  g_assert_false (client->closed);
  g_assert_cmpint (soup_websocket_connection_get_state (client->conn), ==, SOUP_WEBSOCKET_STATE_OPEN);

  clear_fault (device, "ws-silent");
  g_assert_true (pm_test_ws_client_wait_messages (client, n + 2, 2 * LOG_INTERVAL_MS + SLACK_MS));
  g_assert_false (client->closed);
}

/* ---- reboot-loop ----------------------------------------------------------------------- */

#define REBOOT_INTERVAL_MS 1000

typedef struct
{
  GArray *started;  /* (element-type gint64) when restarting became TRUE, µs */
  guint   n_done;   /* how often it became FALSE */
} Reboots;

static void
on_restarting (PmDevice   *device,
               GParamSpec *pspec,
               Reboots    *reboots)
{
  gint64 now = g_get_monotonic_time ();

  if (pm_device_get_restarting (device))
    g_array_append_val (reboots->started, now);
  else
    reboots->n_done++;
}

static gboolean
rebooted_twice (gpointer user_data)
{
  Reboots *reboots = user_data;

  return reboots->started->len >= 2 && reboots->n_done >= 2;
}

static void
test_reboot_loop (Fixture      *fixture,
                  gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-legacy", FALSE);
  Reboots reboots = { g_array_new (FALSE, FALSE, sizeof (gint64)), 0 };
  gulong handler = g_signal_connect (device, "notify::restarting", G_CALLBACK (on_restarting), &reboots);
  gint64 set_at = g_get_monotonic_time ();
  guint n;

  set_fault (device, "reboot-loop", "interval-s=1", NULL);
  g_assert_true (pm_test_wait_until (rebooted_twice, &reboots, 2 * REBOOT_INTERVAL_MS + SLACK_MS));
  g_assert_cmpint ((g_array_index (reboots.started, gint64, 0) - set_at) / 1000, >=,
                   REBOOT_INTERVAL_MS - EARLY_MS);
  /* The next one an interval after the last one ran (give or take
   * what ran before it in that main loop iteration). */
  g_assert_cmpint ((g_array_index (reboots.started, gint64, 1) - g_array_index (reboots.started, gint64, 0)) / 1000,
                   >=, REBOOT_INTERVAL_MS - 50);

  /* Cleared: no more restarts. */
  clear_fault (device, "reboot-loop");
  n = reboots.started->len;
  pm_test_wait_ms (REBOOT_INTERVAL_MS + RESTART_WINDOW_MS);
  g_assert_cmpuint (reboots.started->len, ==, n);
  g_assert_false (pm_device_get_restarting (device));
  {
    g_autoptr(JsonObject) info = get_info (fixture, device);
  }

  g_signal_handler_disconnect (device, handler);
  g_array_unref (reboots.started);
}

/* ---- the list of faults, and clearing them all -------------------------------------------- */

static void
on_notify_count (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

/* Checks that the device's faults, by pm_device_dup_faults() and by its
 * property, are @expected (GVariant text). */
static void
assert_faults (PmDevice   *device,
               const char *expected)
{
  g_autoptr(GVariant) want = g_variant_ref_sink (g_variant_new_parsed (expected));
  g_autoptr(GVariant) have = pm_device_dup_faults (device);
  g_autoptr(GVariant) property = NULL;

  g_object_get (device, "faults", &property, NULL);
  g_assert_cmpstr (g_variant_get_type_string (have), ==, "a{sa{sv}}");
  if (!g_variant_equal (have, want))
    {
      g_autofree char *text = g_variant_print (have, TRUE);

      g_error ("The faults are %s, not %s", text, expected);
    }
  g_assert_true (g_variant_equal (property, want));
}

static void
test_list_and_clear (Fixture      *fixture,
                     gconstpointer user_data)
{
  PmDevice *device = add_device (fixture, "pluto-legacy", TRUE);
  PmTestWsClient *client;
  g_autoptr(PmTestPending) prompt = NULL;
  PmFaultKind kind;
  guint notified = 0;
  gint64 took;
  /* Disconnected before the test ends: the count lives on this stack, and
   * stopping the device in the teardown notifies too. */
  gulong handler = g_signal_connect (device, "notify::faults", G_CALLBACK (on_notify_count), &notified);

  assert_faults (device, "@a{sa{sv}} {}");

  /* Each kind with every parameter, defaults included. */
  set_fault (device, "latency", "ms=2000", NULL);
  g_assert_cmpuint (notified, ==, 1);
  assert_faults (device, "{'latency': {'ms': <uint32 2000>, 'jitter-ms': <uint32 0>}}");
  set_fault (device, "errors", "path=/nowhere", NULL);
  set_fault (device, "corrupt", "mode=strings", NULL);
  set_fault (device, "ws-drop", "interval-s=0.3", NULL);
  set_fault (device, "flapping", "up-s=0.2", "down-s=5", NULL);
  g_assert_cmpuint (notified, ==, 5);
  assert_faults (device,
                 "{'latency': {'ms': <uint32 2000>, 'jitter-ms': <uint32 0>},"
                 " 'errors': {'status': <uint32 500>, 'rate': <1.0>, 'path': <'/nowhere'>},"
                 " 'flapping': {'up-s': <0.2>, 'down-s': <5.0>},"
                 " 'corrupt': {'mode': <'strings'>, 'rate': <1.0>},"
                 " 'ws-drop': {'interval-s': <0.3>, 'clean': <false>}}");

  /* One of a kind: a new one replaces the old. */
  set_fault (device, "errors", "status=418", "rate=0.25", NULL);
  set_fault (device, "offline", NULL);
  set_fault (device, "slow-body", "bytes-per-s=100", NULL);
  set_fault (device, "reboot-loop", "interval-s=60", NULL);
  assert_faults (device,
                 "{'latency': {'ms': <uint32 2000>, 'jitter-ms': <uint32 0>},"
                 " 'errors': {'status': <uint32 418>, 'rate': <0.25>},"
                 " 'offline': @a{sv} {},"
                 " 'flapping': {'up-s': <0.2>, 'down-s': <5.0>},"
                 " 'corrupt': {'mode': <'strings'>, 'rate': <1.0>},"
                 " 'slow-body': {'bytes-per-s': <uint32 100>},"
                 " 'ws-drop': {'interval-s': <0.3>, 'clean': <false>},"
                 " 'reboot-loop': {'interval-s': <60.0>}}");
  g_assert_cmpuint (notified, ==, 9);

  /* Clearing one: only that one goes; one that is not there changes
   * nothing. */
  clear_fault (device, "slow-body");
  g_assert_true (pm_fault_kind_from_string ("ws-silent", &kind));
  g_assert_false (pm_device_clear_fault (device, kind));
  g_assert_cmpuint (notified, ==, 10);
  clear_fault (device, "offline");
  clear_fault (device, "reboot-loop");
  clear_fault (device, "errors");
  g_assert_cmpuint (notified, ==, 13);

  /* ClearFaults: every fault at once, with one notification. */
  set_fault (device, "ws-silent", NULL);
  set_fault (device, "blackhole", NULL);
  notified = 0;
  pm_device_clear_faults (device);
  g_assert_cmpuint (notified, ==, 1);
  assert_faults (device, "@a{sa{sv}} {}");
  pm_device_clear_faults (device);
  g_assert_cmpuint (notified, ==, 1);

  /* ...and the device is itself again: up, prompt, whole, and its log
   * clients are neither dropped nor silenced. */
  g_assert_true (pm_device_get_listening (device));
  prompt = pending_start (fixture, device, PATH_INFO);
  took = pending_wait (prompt, PM_TEST_TIMEOUT_MS, FALSE);
  g_assert_cmpint (took, <, 1000);
  {
    g_autoptr(JsonObject) object = pending_object (prompt);
    JsonNode *node = json_object_get_member (object, "hashRate");

    g_assert_nonnull (node);
    g_assert_true (is_number (node));
  }
  client = ws_open (fixture, device, PATH_WS);
  pm_test_wait_ms (2 * WS_DROP_MS);
  g_assert_false (client->closed);
  g_assert_cmpuint (client->texts->len, >, 0);
  /* The flapping is over too: still up after its first up phase. */
  g_assert_true (pm_device_get_listening (device));
  g_signal_handler_disconnect (device, handler);
}

/* ---- miner faults --------------------------------------------------------------------------- */

static const char *const miner_faults[][2] = {
  { "overheat", "rate-c-per-min=2" },
  { "fan-failure", NULL },
  { "asic-failure", "domain=1" },
  { "pool-down", NULL },
  { "power-fault", "message=Test power fault" },
};

static void
test_miner (Fixture      *fixture,
            gconstpointer user_data)
{
  PmDevice *pluto = add_device (fixture, "pluto-new", FALSE);
  PmDevice *axeos = add_device (fixture, "axeos-gamma", FALSE);
  g_autoptr(JsonObject) before = get_info (fixture, axeos);
  gint64 fan_before = pm_test_member_int (before, "fanrpm");
  g_autoptr(GVariant) pluto_faults = NULL;
  guint pluto_notified = 0;
  gulong pluto_handler;
  gsize i;

  /* A Pluto device has no miner: refused, nothing changes. */
  set_fault (pluto, "latency", "ms=1", NULL);
  pluto_faults = pm_device_dup_faults (pluto);
  /* Disconnected before the test ends, as the count lives on this stack. */
  pluto_handler = g_signal_connect (pluto, "notify::faults", G_CALLBACK (on_notify_count), &pluto_notified);
  for (i = 0; i < G_N_ELEMENTS (miner_faults); i++)
    {
      const char *parameters[] = { miner_faults[i][1], NULL };
      g_autoptr(PmFault) fault = pm_fault_new_from_strings (miner_faults[i][0], parameters, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) now = NULL;

      g_assert_nonnull (fault);
      g_assert_false (pm_device_set_fault (pluto, fault, &error));
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, miner_faults[i][0]));
      now = pm_device_dup_faults (pluto);
      g_assert_true (g_variant_equal (now, pluto_faults));

      /* A simulated device takes it. */
      g_clear_error (&error);
      g_assert_true (pm_device_set_fault (axeos, fault, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (pluto_notified, ==, 0);
  {
    g_autoptr(GVariant) faults = pm_device_dup_faults (axeos);

    g_assert_cmpuint (g_variant_n_children (faults), ==, G_N_ELEMENTS (miner_faults));
  }

  /* What the firmware reports. */
  {
    g_autoptr(JsonObject) info = get_info (fixture, axeos);

    g_assert_cmpstr (pm_test_member_string (info, "power_fault"), ==, "Test power fault");
    g_assert_cmpint (pm_test_member_int (info, "fanrpm"), ==, 0);
  }

  pm_device_clear_faults (axeos);
  {
    g_autoptr(JsonObject) info = get_info (fixture, axeos);

    g_assert_false (json_object_has_member (info, "power_fault"));
    if (fan_before > 0)
      g_assert_cmpint (pm_test_member_int (info, "fanrpm"), >, 0);
  }
  g_signal_handler_disconnect (pluto, pluto_handler);
}

/* An ASIC or hash domain the board does not have is refused, naming the
 * board and what it has, and nothing changes; one it has is taken. */
static void
test_miner_asic_range (Fixture      *fixture,
                       gconstpointer user_data)
{
  static const struct
  {
    const char *profile;
    const char *parameters[3];
    const char *message;  /* NULL: taken */
  } cases[] = {
    { "axeos-gamma", { "asic=1", NULL },
      "fault asic-failure: asic=1 is out of range: a Bitaxe Gamma has 1 ASIC (0)" },
    { "axeos-gamma", { "asic=15", "domain=0", NULL },
      "fault asic-failure: asic=15 is out of range: a Bitaxe Gamma has 1 ASIC (0)" },
    { "axeos-gamma", { "domain=4", NULL },
      "fault asic-failure: domain=4 is out of range: a Bitaxe Gamma has 4 hash domains per ASIC (0-3)" },
    { "axeos-supra", { "asic=2", NULL },
      "fault asic-failure: asic=2 is out of range: a Bitaxe Supra has 1 ASIC (0)" },
    { "axeos-ultra", { "domain=7", NULL },
      "fault asic-failure: domain=7 is out of range: a Bitaxe Ultra has 4 hash domains per ASIC (0-3)" },
    { "nerdqaxe-plus", { "asic=4", NULL },
      "fault asic-failure: asic=4 is out of range: a NerdQAxe+ has 4 ASICs (0-3)" },
    { "nerdqaxe-plus", { "asic=3", "domain=3", NULL }, NULL },
    { "axeos-gamma", { "asic=0", "domain=3", NULL }, NULL },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PmDevice *device = add_device (fixture, cases[i].profile, FALSE);
      g_autoptr(PmFault) fault = pm_fault_new_from_strings ("asic-failure", cases[i].parameters, NULL);
      g_autoptr(GError) error = NULL;
      guint notified = 0;
      gulong handler;

      g_test_message ("%s: %s %s", cases[i].profile, cases[i].parameters[0],
                      cases[i].parameters[1] != NULL ? cases[i].parameters[1] : "");
      g_assert_nonnull (fault);
      set_fault (device, "latency", "ms=1", NULL);
      handler = g_signal_connect (device, "notify::faults", G_CALLBACK (on_notify_count), &notified);
      if (cases[i].message == NULL)
        {
          g_assert_true (pm_device_set_fault (device, fault, &error));
          g_assert_no_error (error);
          g_assert_true (pm_device_check_fault (device, fault, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (notified, ==, 1);
          g_signal_handler_disconnect (device, handler);
          continue;
        }

      g_assert_false (pm_device_set_fault (device, fault, &error));
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_clear_error (&error);
      g_assert_false (pm_device_check_fault (device, fault, &error));
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);

      /* Nothing changed. */
      g_assert_cmpuint (notified, ==, 0);
      assert_faults (device, "{'latency': {'ms': <uint32 1>, 'jitter-ms': <uint32 0>}}");
      g_signal_handler_disconnect (device, handler);
    }
}

/* ---- stopping ----------------------------------------------------------------------------- */

static void
on_any_notify (GObject    *object,
               GParamSpec *pspec,
               GString    *changed)
{
  g_string_append_printf (changed, "%s ", pspec->name);
}

/* A stopped device does nothing: the timers of its faults would reopen
 * its port (flapping's up phase, a firmware reboot's boot) or restart
 * it. */
static void
test_stop (Fixture      *fixture,
           gconstpointer user_data)
{
  PmDevice *flapping = add_device (fixture, "pluto-legacy", FALSE);
  PmDevice *rebooting = add_device (fixture, "axeos-gamma", FALSE);
  PmDevice *dropping = add_device (fixture, "axeos-gamma", FALSE);
  PmDevice *devices[] = { flapping, rebooting, dropping };
  g_autoptr(GString) changed = g_string_new (NULL);
  gsize i;

  set_fault (flapping, "flapping", "up-s=0.2", "down-s=0.2", NULL);
  set_fault (rebooting, "reboot-loop", "interval-s=1", NULL);
  set_fault (dropping, "ws-drop", "interval-s=0.2", NULL);
  set_fault (dropping, "offline", NULL);
  for (i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      pm_device_stop (devices[i]);
      g_assert_false (pm_device_get_listening (devices[i]));
      g_assert_false (pm_device_get_restarting (devices[i]));
      /* Its faults are lifted with the timers. */
      assert_faults (devices[i], "@a{sa{sv}} {}");
      g_signal_connect (devices[i], "notify", G_CALLBACK (on_any_notify), changed);
    }

  /* Past a whole flap, and the reboot-loop's interval, the firmware's
   * restart delay and its restart window. */
  pm_test_wait_ms (REBOOT_INTERVAL_MS + FIRMWARE_RESTART_DELAY_MS + RESTART_WINDOW_MS + 500);
  g_assert_cmpstr (changed->str, ==, "");
  for (i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      g_assert_false (pm_device_get_listening (devices[i]));
      g_assert_false (pm_device_get_restarting (devices[i]));
      g_assert_true (pm_test_port_refuses (pm_device_get_port (devices[i])));
      g_signal_handlers_disconnect_by_func (devices[i], on_any_notify, changed);
    }

  /* Started again, it is itself, without the faults. */
  for (i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (pm_device_start (devices[i], "127.0.0.1", &error));
      g_assert_no_error (error);
    }
  pm_test_wait_ms (500);
  for (i = 0; i < G_N_ELEMENTS (devices); i++)
    {
      g_autoptr(JsonObject) info = get_info (fixture, devices[i]);

      g_assert_true (pm_device_get_listening (devices[i]));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

  ADD ("/faults/latency", test_latency);
  ADD ("/faults/latency/errors", test_latency_errors);
  ADD ("/faults/errors", test_errors);
  ADD ("/faults/errors/rate", test_errors_rate);
  ADD ("/faults/offline", test_offline);
  ADD ("/faults/offline/reboot", test_offline_reboot);
  ADD ("/faults/blackhole", test_blackhole);
  ADD ("/faults/blackhole/release", test_blackhole_release);
  ADD ("/faults/blackhole/cap", test_blackhole_cap);
  ADD ("/faults/flapping", test_flapping);
  ADD ("/faults/corrupt", test_corrupt);
  ADD ("/faults/corrupt/rate", test_corrupt_rate);
  ADD ("/faults/slow-body", test_slow_body);
  ADD ("/faults/slow-body/rate", test_slow_body_rate);
  g_test_add ("/faults/held/cap/latency", Fixture, "latency", fixture_setup, test_held_cap, fixture_teardown);
  g_test_add ("/faults/held/cap/slow-body", Fixture, "slow-body", fixture_setup, test_held_cap, fixture_teardown);
  ADD ("/faults/held/timers", test_held_timers);
  ADD ("/faults/held/order", test_held_order);
  ADD ("/faults/held/latency-then-trickle", test_held_latency_then_trickle);
  ADD ("/faults/held/device-gone", test_held_device_gone);
  ADD ("/faults/ws-drop", test_ws_drop);
  ADD ("/faults/ws-silent", test_ws_silent);
  ADD ("/faults/reboot-loop", test_reboot_loop);
  ADD ("/faults/list-and-clear", test_list_and_clear);
  ADD ("/faults/miner", test_miner);
  ADD ("/faults/miner/asic-range", test_miner_asic_range);
  ADD ("/faults/stop", test_stop);

#undef ADD

  return g_test_run ();
}
