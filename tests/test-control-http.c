/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-control-http"

#include "config.h"

#include <string.h>

#include "pm-control-http.h"
#include "pm-error.h"
#include "pm-manager.h"
#include "pm-test-util.h"

/* Control over HTTP (/control/v1 on the listing port) against a real
 * fleet on loopback: every endpoint, every error class with its status
 * and name, who may, and the same errors as over D-Bus. */

typedef struct
{
  SoupSession *session;
  PmManager   *manager;
  char        *base;  /* http://127.0.0.1:PORT/control/v1 */
} Fixture;

static void
fixture_start (Fixture    *fixture,
               PmConfig   *config,
               const char *allow)
{
  g_autoptr(GError) error = NULL;

  config->listing_port = pm_test_free_port ();
  config->seed = 11;
  config->seed_given = TRUE;
  if (allow != NULL)
    {
      pm_allow_list_unref (config->control_allow);
      config->control_allow = pm_allow_list_parse (allow, &error);
      g_assert_no_error (error);
    }
  fixture->session = soup_session_new ();
  fixture->manager = pm_manager_new (config);
  pm_control_http_mount (pm_manager_get_listing_server (fixture->manager), fixture->manager,
                         config->control_allow);
  g_assert_true (pm_manager_start (fixture->manager, &error));
  g_assert_no_error (error);
  fixture->base = g_strdup_printf ("http://127.0.0.1:%u/control/v1",
                                   pm_manager_get_listing_port (fixture->manager));
}

/* Two devices on free ports, of @profiles (a list, as --profile). */
static void
fixture_setup_with (Fixture      *fixture,
                    const char   *profiles,
                    gconstpointer user_data)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GArray) ports = pm_test_free_ports (2, NULL);
  g_autoptr(GError) error = NULL;

  g_array_set_size (config->ports, 0);
  g_array_append_vals (config->ports, ports->data, ports->len);
  pm_profile_list_free (config->profiles);
  config->profiles = pm_profile_list_parse (profiles, &error);
  g_assert_no_error (error);
  fixture_start (fixture, config, user_data);
}

/* An axeos-gamma (a simulated miner) and a pluto-legacy. */
static void
fixture_setup (Fixture      *fixture,
               gconstpointer user_data)
{
  fixture_setup_with (fixture, "axeos-gamma,pluto-legacy", user_data);
}

/* Two simulated devices of different boards: an axeos-gamma (1 ASIC)
 * and a nerdqaxe-plus (4 ASICs). */
static void
fixture_setup_boards (Fixture      *fixture,
                      gconstpointer user_data)
{
  fixture_setup_with (fixture, "axeos-gamma,nerdqaxe-plus", user_data);
}

static void
fixture_teardown (Fixture      *fixture,
                  gconstpointer user_data)
{
  g_object_add_weak_pointer (G_OBJECT (fixture->manager), (gpointer *) &fixture->manager);
  g_object_unref (fixture->manager);
  g_assert_null (fixture->manager);
  g_clear_object (&fixture->session);
  g_clear_pointer (&fixture->base, g_free);
}

static guint
device_port (Fixture *fixture,
             guint    index)
{
  g_autoptr(PmDevice) device = g_list_model_get_item (pm_manager_get_devices (fixture->manager), index);

  return pm_device_get_port (device);
}

/* A request to /control/v1@path; @body NULL for none. */
static PmTestResponse *
call (Fixture    *fixture,
      const char *method,
      const char *path,
      const char *body)
{
  g_autofree char *url = g_strconcat (fixture->base, path, NULL);

  return pm_test_http (fixture->session, method, url, "application/json", body, -1);
}

/* Checks that @response is a control error: its status, its name and
 * that its message says @part (if given). */
static void
assert_error (PmTestResponse *response,
              guint           status,
              const char     *name,
              const char     *part)
{
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *full = g_strconcat ("org.pluto.Mock1.Error.", name, NULL);

  g_test_message ("%u %s", response->status, pm_test_response_text (response));
  g_assert_cmpuint (response->status, ==, status);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  object = pm_test_response_object (response);
  g_assert_cmpuint (json_object_get_size (object), ==, 2);
  g_assert_cmpstr (pm_test_member_string (object, "error"), ==, full);
  g_assert_cmpstr (pm_test_member_string (object, "message"), !=, "");
  if (part != NULL && strstr (pm_test_member_string (object, "message"), part) == NULL)
    g_error ("message “%s” does not say “%s”", pm_test_member_string (object, "message"), part);
}

static JsonObject *
get_ok (Fixture    *fixture,
        const char *path)
{
  g_autoptr(PmTestResponse) response = call (fixture, "GET", path, NULL);

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  return pm_test_response_object (response);
}

static gboolean
servers_list (Fixture *fixture,
              guint    port)
{
  JsonArray *servers = pm_test_get_servers (fixture->session, pm_manager_get_listing_port (fixture->manager));
  guint i;
  gboolean found = FALSE;

  for (i = 0; i < json_array_get_length (servers); i++)
    if ((guint) json_object_get_int_member (json_array_get_object_element (servers, i), "port") == port)
      found = TRUE;
  json_array_unref (servers);
  return found;
}

static guint
n_devices (Fixture *fixture)
{
  return g_list_model_get_n_items (pm_manager_get_devices (fixture->manager));
}

/* ---- endpoints ---------------------------------------------------------- */

static void
test_status (Fixture      *fixture,
             gconstpointer user_data)
{
  g_autoptr(JsonObject) status = get_ok (fixture, "");
  g_autoptr(JsonObject) profiles = get_ok (fixture, "/profiles");
  JsonObject *counts = json_object_get_object_member (status, "profiles");
  JsonArray *allow = json_object_get_array_member (status, "controlAllow");
  JsonArray *list = json_object_get_array_member (profiles, "profiles");
  gboolean gamma = FALSE;
  guint i;

  g_assert_cmpstr (pm_test_member_string (status, "version"), ==, PACKAGE_VERSION);
  g_assert_cmpstr (pm_test_member_string (status, "seed"), ==, "11");
  g_assert_cmpint (pm_test_member_int (status, "listingPort"), ==, pm_manager_get_listing_port (fixture->manager));
  g_assert_cmpstr (pm_test_member_string (status, "bindAddress"), ==, "127.0.0.1");
  g_assert_false (json_object_get_boolean_member (status, "logsEnabled"));
  g_assert_cmpint (pm_test_member_int (status, "devices"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (counts, "axeos-gamma"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (counts, "pluto-legacy"), ==, 1);
  g_assert_cmpuint (json_object_get_size (counts), ==, 2);
  g_assert_false (json_object_get_boolean_member (status, "scenarioRunning"));
  g_assert_cmpstr (pm_test_member_string (status, "scenario"), ==, "");
  g_assert_cmpuint (json_array_get_length (allow), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (allow, 0), ==, "127.0.0.0/8");
  g_assert_cmpstr (json_array_get_string_element (allow, 1), ==, "::1");

  g_assert_cmpuint (json_array_get_length (list), ==, 6);
  for (i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *profile = json_array_get_object_element (list, i);

      g_assert_nonnull (pm_profile_lookup (pm_test_member_string (profile, "name")));
      if (g_str_equal (pm_test_member_string (profile, "name"), "axeos-gamma"))
        gamma = json_object_get_boolean_member (profile, "simulated");
    }
  g_assert_true (gamma);
}

static void
assert_device (JsonObject *object,
               PmDevice   *device)
{
  g_autofree char *url = pm_device_dup_url (device);

  g_assert_cmpint (pm_test_member_int (object, "port"), ==, pm_device_get_port (device));
  g_assert_cmpstr (pm_test_member_string (object, "hostname"), ==, pm_device_get_hostname (device));
  g_assert_cmpstr (pm_test_member_string (object, "profile"), ==, pm_device_get_profile (device)->name);
  g_assert_cmpstr (pm_test_member_string (object, "firmware"), ==, pm_device_get_firmware (device));
  g_assert_cmpstr (pm_test_member_string (object, "state"), ==,
                   pm_device_get_restarting (device) ? "restarting" : "running");
  g_assert_cmpint (pm_test_member_int (object, "startTime"), ==, pm_device_get_start_time (device));
  g_assert_cmpstr (pm_test_member_string (object, "url"), ==, url);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "faults")));
  /* Only a simulated miner has live numbers. */
  g_assert_cmpint (json_object_has_member (object, "live"), ==,
                   pm_profile_is_simulated (pm_device_get_profile (device)));
}

static void
test_devices (Fixture      *fixture,
              gconstpointer user_data)
{
  g_autoptr(JsonObject) list = get_ok (fixture, "/devices");
  JsonArray *devices = json_object_get_array_member (list, "devices");
  guint port = pm_test_free_port ();
  g_autofree char *body = g_strdup_printf ("{\"port\": %u, \"hostname\": \"Rig-7\", \"profile\": \"axeos-ultra\"}", port);
  g_autofree char *location = NULL;
  g_autofree char *by_port = NULL;
  g_autoptr(PmTestResponse) added = NULL;
  g_autoptr(PmTestResponse) next = NULL;
  g_autoptr(PmTestResponse) removed = NULL;
  g_autoptr(PmTestResponse) gone = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonObject) by_name = NULL;
  guint i;

  /* In port order, each as the device is. */
  g_assert_cmpuint (json_array_get_length (devices), ==, 2);
  for (i = 0; i < 2; i++)
    {
      JsonObject *entry = json_array_get_object_element (devices, i);
      PmDevice *device = pm_manager_find_device (fixture->manager, pm_test_member_int (entry, "port"), NULL);

      g_assert_nonnull (device);
      assert_device (entry, device);
    }
  g_assert_cmpint (pm_test_member_int (json_array_get_object_element (devices, 0), "port"), <,
                   pm_test_member_int (json_array_get_object_element (devices, 1), "port"));

  /* Added: 201, Location, listed; the port an int64 JSON number. */
  added = call (fixture, "POST", "/devices", body);
  g_assert_cmpuint (added->status, ==, 201);
  location = g_strdup_printf ("/control/v1/devices/%u", port);
  g_assert_cmpstr (soup_message_headers_get_one (added->headers, "Location"), ==, location);
  object = pm_test_response_object (added);
  assert_device (object, pm_manager_find_device (fixture->manager, port, NULL));
  g_assert_cmpstr (pm_test_member_string (object, "hostname"), ==, "Rig-7");
  g_assert_true (servers_list (fixture, port));

  /* An empty body: the next default device. */
  next = call (fixture, "POST", "/devices", NULL);
  g_assert_cmpuint (next->status, ==, 201);
  g_assert_cmpuint (n_devices (fixture), ==, 4);

  /* A hostname in any case. */
  by_name = get_ok (fixture, "/devices/rIG-7");
  g_assert_cmpint (pm_test_member_int (by_name, "port"), ==, port);

  /* Removed: 204, off /servers, then unknown. */
  by_port = g_strdup_printf ("/devices/%u", port);
  removed = call (fixture, "DELETE", by_port, NULL);
  g_assert_cmpuint (removed->status, ==, 204);
  g_assert_cmpuint (g_bytes_get_size (removed->body), ==, 0);
  g_assert_false (servers_list (fixture, port));
  g_assert_null (pm_manager_find_device (fixture->manager, port, NULL));
  gone = call (fixture, "GET", by_port, NULL);
  assert_error (gone, 404, "NoSuchDevice", "no device with port");
}

static gboolean
is_running (gpointer user_data)
{
  return !pm_device_get_restarting (user_data);
}

static void
test_restart (Fixture      *fixture,
              gconstpointer user_data)
{
  g_autofree char *path = g_strdup_printf ("/devices/%u/restart", device_port (fixture, 1));
  g_autofree char *info_path = g_strdup_printf ("/devices/%u/info", device_port (fixture, 1));
  g_autofree char *device_path = g_strdup_printf ("/devices/%u", device_port (fixture, 1));
  g_autoptr(PmDevice) device = g_list_model_get_item (pm_manager_get_devices (fixture->manager), 1);
  g_autoptr(PmTestResponse) first = call (fixture, "POST", path, NULL);
  g_autoptr(PmTestResponse) again = NULL;
  g_autoptr(PmTestResponse) info = NULL;
  g_autoptr(JsonObject) object = pm_test_response_object (first);
  g_autoptr(JsonObject) after = NULL;

  g_assert_cmpuint (first->status, ==, 202);
  g_assert_cmpstr (pm_test_member_string (object, "state"), ==, "restarting");
  again = call (fixture, "POST", path, NULL);
  assert_error (again, 503, "Restarting", pm_device_get_hostname (device));
  info = call (fixture, "GET", info_path, NULL);
  assert_error (info, 503, "Restarting", "is restarting");

  g_assert_true (pm_test_wait_until (is_running, device, PM_DEVICE_RESTART_MS + PM_TEST_TIMEOUT_MS));
  after = get_ok (fixture, device_path);
  g_assert_cmpstr (pm_test_member_string (after, "state"), ==, "running");
}

static void
test_info (Fixture      *fixture,
           gconstpointer user_data)
{
  g_autofree char *path = g_strdup_printf ("/devices/%u/info", device_port (fixture, 1));
  g_autoptr(JsonObject) info = get_ok (fixture, path);
  g_autoptr(PmTestResponse) patched = call (fixture, "PATCH", path, "{\"hostname\": \"patched-1\", \"extra\": 5}");
  g_autoptr(JsonObject) object = pm_test_response_object (patched);
  g_autoptr(PmTestResponse) bad = call (fixture, "PATCH", path, "{\"a\": tru}");

  g_assert_true (json_object_has_member (info, "hashRate"));
  g_assert_cmpuint (patched->status, ==, 200);
  g_assert_cmpint (pm_test_member_int (object, "extra"), ==, 5);
  assert_error (bad, 400, "InvalidJson", "malformed JSON");
}

static JsonObject *
faults_of (JsonObject *device)
{
  return json_object_get_object_member (device, "faults");
}

static void
test_faults (Fixture      *fixture,
             gconstpointer user_data)
{
  guint gamma = device_port (fixture, 0), pluto = device_port (fixture, 1);
  g_autofree char *latency = g_strdup_printf ("/devices/%u/faults/latency", pluto);
  g_autofree char *offline = g_strdup_printf ("/devices/%u/faults/offline", pluto);
  g_autofree char *all = g_strdup_printf ("/devices/%u/faults", pluto);
  g_autofree char *miner = g_strdup_printf ("{\"kind\": \"overheat\", \"parameters\": {\"rate-c-per-min\": 2.5}, "
                                            "\"devices\": [%u, \"mockaxe2\"]}", gamma);
  g_autofree char *gamma_only = g_strdup_printf ("{\"kind\": \"fan-failure\", \"devices\": [\"%u\"]}", gamma);
  g_autofree char *gamma_path = g_strdup_printf ("/devices/%u", gamma);
  g_autoptr(PmTestResponse) set = call (fixture, "PUT", latency, "{\"ms\": 250, \"jitter-ms\": 10}");
  g_autoptr(PmTestResponse) set_empty = call (fixture, "PUT", offline, NULL);
  g_autoptr(PmTestResponse) cleared = NULL;
  g_autoptr(PmTestResponse) cleared_all = NULL;
  g_autoptr(PmTestResponse) fleet = NULL;
  g_autoptr(PmTestResponse) refused = NULL;
  g_autoptr(PmTestResponse) one = NULL;
  g_autoptr(PmTestResponse) clear_fleet = NULL;
  g_autoptr(JsonObject) object = pm_test_response_object (set);
  g_autoptr(JsonObject) empty = pm_test_response_object (set_empty);
  g_autoptr(JsonObject) after = NULL;
  g_autoptr(JsonObject) fleet_object = NULL;
  g_autoptr(JsonObject) gamma_device = NULL;
  JsonObject *parameters;
  JsonArray *ports;

  g_assert_cmpuint (set->status, ==, 200);
  parameters = json_object_get_object_member (faults_of (object), "latency");
  g_assert_cmpint (json_object_get_int_member (parameters, "ms"), ==, 250);
  g_assert_cmpint (json_object_get_int_member (parameters, "jitter-ms"), ==, 10);
  g_assert_cmpuint (set_empty->status, ==, 200);
  g_assert_true (json_object_has_member (faults_of (empty), "offline"));

  cleared = call (fixture, "DELETE", latency, NULL);
  g_assert_cmpuint (cleared->status, ==, 200);
  after = pm_test_response_object (cleared);
  g_assert_false (json_object_has_member (faults_of (after), "latency"));
  g_assert_true (json_object_has_member (faults_of (after), "offline"));
  cleared_all = call (fixture, "DELETE", all, NULL);
  g_assert_cmpuint (cleared_all->status, ==, 200);
  g_clear_pointer (&after, json_object_unref);
  after = pm_test_response_object (cleared_all);
  g_assert_cmpuint (json_object_get_size (faults_of (after)), ==, 0);

  /* The fleet: every device when none is named. */
  fleet = call (fixture, "POST", "/faults", "{\"kind\": \"latency\", \"parameters\": {\"ms\": 5}, \"devices\": []}");
  g_assert_cmpuint (fleet->status, ==, 200);
  fleet_object = pm_test_response_object (fleet);
  ports = json_object_get_array_member (fleet_object, "devices");
  g_assert_cmpuint (json_array_get_length (ports), ==, 2);
  g_assert_cmpint (json_array_get_int_element (ports, 0), ==, gamma);
  g_assert_cmpint (json_array_get_int_element (ports, 1), ==, pluto);

  /* All or nothing: the pluto device has no miner, so the gamma gets no
   * overheat either. */
  refused = call (fixture, "POST", "/faults", miner);
  assert_error (refused, 400, "InvalidArgument", "has none");
  gamma_device = get_ok (fixture, gamma_path);
  g_assert_false (json_object_has_member (faults_of (gamma_device), "overheat"));
  g_assert_true (json_object_has_member (faults_of (gamma_device), "latency"));

  one = call (fixture, "POST", "/faults", gamma_only);
  g_assert_cmpuint (one->status, ==, 200);
  g_clear_pointer (&gamma_device, json_object_unref);
  gamma_device = get_ok (fixture, gamma_path);
  g_assert_true (json_object_has_member (faults_of (gamma_device), "fan-failure"));

  clear_fleet = call (fixture, "POST", "/faults/clear", "{\"kind\": \"latency\"}");
  g_assert_cmpuint (clear_fleet->status, ==, 200);
  g_clear_pointer (&gamma_device, json_object_unref);
  gamma_device = get_ok (fixture, gamma_path);
  g_assert_false (json_object_has_member (faults_of (gamma_device), "latency"));
  g_assert_true (json_object_has_member (faults_of (gamma_device), "fan-failure"));
  {
    g_autoptr(PmTestResponse) every = call (fixture, "POST", "/faults/clear", NULL);

    g_assert_cmpuint (every->status, ==, 200);
    g_clear_pointer (&gamma_device, json_object_unref);
    gamma_device = get_ok (fixture, gamma_path);
    g_assert_cmpuint (json_object_get_size (faults_of (gamma_device)), ==, 0);
  }
}

/* An ASIC the board lacks: refused for one device, and for a fleet
 * where one device lacks it, with nothing changed anywhere. */
static void
test_faults_asic_range (Fixture      *fixture,
                        gconstpointer user_data)
{
  guint gamma = device_port (fixture, 0), nerd = device_port (fixture, 1);
  g_autofree char *gamma_asic = g_strdup_printf ("/devices/%u/faults/asic-failure", gamma);
  g_autofree char *nerd_asic = g_strdup_printf ("/devices/%u/faults/asic-failure", nerd);
  g_autofree char *gamma_path = g_strdup_printf ("/devices/%u", gamma);
  g_autofree char *nerd_path = g_strdup_printf ("/devices/%u", nerd);
  g_autoptr(PmTestResponse) one = call (fixture, "PUT", gamma_asic, "{\"asic\": 2}");
  g_autoptr(PmTestResponse) fleet = call (fixture, "POST", "/faults",
                                          "{\"kind\": \"asic-failure\", "
                                          "\"parameters\": {\"asic\": 2, \"domain\": 1}}");
  g_autoptr(PmTestResponse) nerd_only = NULL;
  g_autoptr(JsonObject) gamma_device = NULL;
  g_autoptr(JsonObject) nerd_device = NULL;
  JsonObject *parameters;

  assert_error (one, 400, "InvalidArgument", "asic=2 is out of range: a Bitaxe Gamma has 1 ASIC (0)");
  assert_error (fleet, 400, "InvalidArgument", "asic=2 is out of range: a Bitaxe Gamma has 1 ASIC (0)");
  gamma_device = get_ok (fixture, gamma_path);
  g_assert_cmpuint (json_object_get_size (faults_of (gamma_device)), ==, 0);
  nerd_device = get_ok (fixture, nerd_path);
  g_assert_cmpuint (json_object_get_size (faults_of (nerd_device)), ==, 0);

  /* The NerdQAxe+ has that ASIC. */
  nerd_only = call (fixture, "PUT", nerd_asic, "{\"asic\": 2, \"domain\": 1}");
  g_assert_cmpuint (nerd_only->status, ==, 200);
  g_clear_pointer (&nerd_device, json_object_unref);
  nerd_device = get_ok (fixture, nerd_path);
  parameters = json_object_get_object_member (faults_of (nerd_device), "asic-failure");
  g_assert_nonnull (parameters);
  g_assert_cmpint (json_object_get_int_member (parameters, "asic"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (parameters, "domain"), ==, 1);
}

static const char scenario_text[] =
  "[scenario]\n"
  "name=lab-test\n"
  "length=1h\n"
  "\n"
  "[step slow]\n"
  "at=0s\n"
  "select=all\n"
  "fault=latency\n"
  "ms=50\n"
  "\n"
  "[step later]\n"
  "at=30m\n"
  "select=all\n"
  "fault=offline\n";

static void
test_scenario (Fixture      *fixture,
               gconstpointer user_data)
{
  g_autofree char *url = g_strconcat (fixture->base, "/scenario", NULL);
  g_autoptr(PmTestResponse) run = pm_test_http (fixture->session, "PUT", url, "text/plain", scenario_text, -1);
  g_autoptr(JsonObject) ran = pm_test_response_object (run);
  g_autoptr(JsonObject) state = get_ok (fixture, "/scenario");
  g_autoptr(JsonObject) status = get_ok (fixture, "");
  g_autoptr(PmTestResponse) bad = pm_test_http (fixture->session, "PUT", url, "text/plain", "[step x]\nat=soon\n", -1);
  g_autoptr(PmTestResponse) stop = call (fixture, "DELETE", "/scenario", NULL);
  g_autoptr(PmTestResponse) stop_again = call (fixture, "DELETE", "/scenario", NULL);
  g_autoptr(JsonObject) stopped = pm_test_response_object (stop);
  g_autoptr(JsonObject) stopped_again = pm_test_response_object (stop_again);
  g_autoptr(JsonObject) idle = get_ok (fixture, "/scenario");

  g_test_message ("%s", pm_test_response_text (run));
  g_assert_cmpuint (run->status, ==, 200);
  g_assert_true (json_object_get_boolean_member (ran, "running"));
  g_assert_cmpstr (pm_test_member_string (ran, "name"), ==, "lab-test");
  g_assert_true (json_object_get_boolean_member (state, "running"));
  g_assert_true (json_object_get_boolean_member (status, "scenarioRunning"));
  g_assert_cmpstr (pm_test_member_string (status, "scenario"), ==, "lab-test");
  /* A bad one leaves the running one running. */
  assert_error (bad, 400, "InvalidArgument", NULL);
  g_assert_true (json_object_get_boolean_member (stopped, "stopped"));
  g_assert_false (json_object_get_boolean_member (stopped_again, "stopped"));
  g_assert_false (json_object_get_boolean_member (idle, "running"));
}

/* Polls until the gamma's uptime has moved, or the time is up. */
static void
test_live (Fixture      *fixture,
           gconstpointer user_data)
{
  g_autofree char *gamma = g_strdup_printf ("/devices/%u", device_port (fixture, 0));
  g_autofree char *pluto = g_strdup_printf ("/devices/%u", device_port (fixture, 1));
  g_autoptr(JsonObject) first = get_ok (fixture, gamma);
  g_autoptr(JsonObject) none = get_ok (fixture, pluto);
  JsonObject *live = json_object_get_object_member (first, "live");
  const char *members[] = { "hashRate", "temp", "power", "fanrpm", "sharesAccepted", "sharesRejected", "uptimeSeconds" };
  gint64 uptime = json_object_get_int_member (live, "uptimeSeconds");
  double temp = json_object_get_double_member (live, "temp");
  gboolean moved = FALSE;
  gint64 deadline = g_get_monotonic_time () + (gint64) PM_TEST_TIMEOUT_MS * 1000;
  gsize i;

  g_assert_false (json_object_has_member (none, "live"));
  g_assert_cmpuint (json_object_get_size (live), ==, G_N_ELEMENTS (members));
  for (i = 0; i < G_N_ELEMENTS (members); i++)
    g_assert_true (JSON_NODE_HOLDS_VALUE (json_object_get_member (live, members[i])));
  g_assert_cmpfloat (json_object_get_double_member (live, "power"), >, 0);
  g_assert_cmpint (json_object_get_int_member (live, "fanrpm"), >, 0);

  while (!moved && g_get_monotonic_time () < deadline)
    {
      g_autoptr(JsonObject) next = NULL;
      JsonObject *now;

      pm_test_wait_ms (200);
      next = get_ok (fixture, gamma);
      now = json_object_get_object_member (next, "live");
      moved = json_object_get_int_member (now, "uptimeSeconds") > uptime &&
              json_object_get_double_member (now, "temp") != temp;
    }
  g_assert_true (moved);
}

/* ---- errors ------------------------------------------------------------- */

static void
test_errors (Fixture      *fixture,
             gconstpointer user_data)
{
  guint gamma = device_port (fixture, 0);
  g_autofree char *in_use = g_strdup_printf ("{\"port\": %u}", gamma);
  g_autofree char *fault = g_strdup_printf ("/devices/%u/faults/nonsense", gamma);
  g_autofree char *latency = g_strdup_printf ("/devices/%u/faults/latency", gamma);
  g_autofree char *huge = NULL;
  g_autoptr(GString) deep = g_string_new ("{\"a\":");
  struct
  {
    const char *method;
    const char *path;
    const char *body;
    guint       status;
    const char *name;
    const char *part;
  } cases[] = {
    { "GET", "/devices/99999", NULL, 404, "NoSuchDevice", "no device with port 99999" },
    { "GET", "/devices/nobody", NULL, 404, "NoSuchDevice", "no device named 'nobody'" },
    { "POST", "/devices", "{\"port\": ", 400, "InvalidJson", "malformed JSON" },
    { "POST", "/devices", "[1, 2]", 400, "NotAnObject", "got an array" },
    { "POST", "/devices", in_use, 409, "PortInUse", "is in use" },
    { "POST", "/devices", "{\"hostname\": \"MOCKAXE1\"}", 409, "HostnameInUse", "exists already" },
    { "POST", "/devices", "{\"colour\": \"red\"}", 400, "InvalidArgument", "unknown option 'colour'" },
    { "POST", "/devices", "{\"port\": 70000}", 400, "InvalidArgument", "out of range" },
    { "POST", "/devices", "{\"profile\": \"abacus\"}", 400, "InvalidArgument", "unknown profile 'abacus'" },
    { "PUT", fault, "{}", 400, "InvalidArgument", "nonsense" },
    { "PUT", latency, "{\"ms\": -5}", 400, "InvalidArgument", "ms" },
    { "PUT", latency, "{\"ms\": 5, \"speed\": 1}", 400, "InvalidArgument", "speed" },
    { "POST", "/faults", "{\"kind\": \"latency\", \"parameters\": {\"ms\": 5}, \"devices\": [\"nobody\"]}",
      404, "NoSuchDevice", "nobody" },
    { "POST", "/faults", "{\"parameters\": {}}", 400, "InvalidArgument", "kind" },
    { "POST", "/faults/clear", "{\"kind\": \"nonsense\"}", 400, "InvalidArgument", "unknown fault 'nonsense'" },
    { "GET", "/nothing", NULL, 404, "NotFound", "no such endpoint" },
    { "GET", "/devices/", NULL, 404, "NotFound", NULL },
    { "GET", "/", NULL, 404, "NotFound", NULL },
    { "DELETE", "", NULL, 405, "MethodNotAllowed", "DELETE" },
    { "PATCH", "/devices", "{}", 405, "MethodNotAllowed", "PATCH" },
  };
  guint before = n_devices (fixture);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PmTestResponse) response = call (fixture, cases[i].method, cases[i].path, cases[i].body);

      g_test_message ("%s %s", cases[i].method, cases[i].path);
      assert_error (response, cases[i].status, cases[i].name, cases[i].part);
    }
  /* Nothing refused changed the fleet, nor set a fault. */
  g_assert_cmpuint (n_devices (fixture), ==, before);
  {
    g_autofree char *path = g_strdup_printf ("/devices/%u", gamma);
    g_autoptr(JsonObject) device = get_ok (fixture, path);

    g_assert_cmpuint (json_object_get_size (faults_of (device)), ==, 0);
  }

  /* 405 says what is allowed. */
  {
    g_autoptr(PmTestResponse) response = call (fixture, "PUT", "/devices", "{}");
    g_autoptr(PmTestResponse) options = call (fixture, "OPTIONS", "/scenario", NULL);

    g_assert_cmpstr (soup_message_headers_get_one (response->headers, "Allow"), ==, "GET, HEAD, POST, OPTIONS");
    g_assert_cmpuint (options->status, ==, 200);
    g_assert_cmpstr (soup_message_headers_get_one (options->headers, "Allow"), ==,
                     "GET, HEAD, PUT, DELETE, OPTIONS");
  }

  /* Too deep, then too large (over the JSON limit, declared). */
  for (i = 0; i < 100; i++)
    g_string_append (deep, "[");
  {
    g_autoptr(PmTestResponse) response = call (fixture, "POST", "/devices", deep->str);

    assert_error (response, 400, "TooDeep", "deeper than");
  }
  huge = g_strnfill (70 * 1024, ' ');
  {
    g_autoptr(PmTestResponse) response = call (fixture, "POST", "/devices", huge);

    assert_error (response, 413, "TooLarge", "over the limit");
  }
  g_assert_cmpuint (n_devices (fixture), ==, before);
}

/* ---- who may ------------------------------------------------------------ */

static PmTestResponse *
call_from (Fixture    *fixture,
           const char *local,
           const char *method,
           const char *path,
           const char *body)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (local);
  g_autoptr(GSocketAddress) socket_address = g_inet_socket_address_new (address, 0);
  g_autoptr(SoupSession) session = soup_session_new_with_options ("local-address", socket_address, NULL);
  g_autofree char *url = g_strconcat (fixture->base, path, NULL);

  return pm_test_http (session, method, url, "application/json", body, -1);
}

/* 127.0.0.2/32 lets 127.0.0.2 in, and refuses 127.0.0.1: a real peer
 * address, both on loopback. */
static void
test_allow_list (Fixture      *fixture,
                 gconstpointer user_data)
{
  g_autoptr(PmTestResponse) refused = call_from (fixture, "127.0.0.1", "POST", "/devices", "{}");
  g_autoptr(PmTestResponse) allowed = call_from (fixture, "127.0.0.2", "POST", "/devices", "{}");
  g_autoptr(PmTestResponse) unknown_path = call_from (fixture, "127.0.0.1", "GET", "/nothing", NULL);

  assert_error (refused, 403, "Forbidden", "not from 127.0.0.1");
  g_assert_cmpuint (allowed->status, ==, 201);
  g_assert_cmpuint (n_devices (fixture), ==, 3);
  /* Who asks is checked before anything else. */
  assert_error (unknown_path, 403, "Forbidden", "127.0.0.2");
  g_assert_true (servers_list (fixture, device_port (fixture, 2)));
}

/* none refuses everyone, loopback included; the page and /servers stay
 * open. */
static void
test_allow_none (Fixture      *fixture,
                 gconstpointer user_data)
{
  const char *requests[][3] = {
    { "GET", "", NULL }, { "POST", "/devices", "{}" }, { "OPTIONS", "/devices", NULL },
    { "DELETE", "/scenario", NULL }, { "GET", "/nothing", NULL },
  };
  g_autofree char *root = g_strdup_printf ("http://127.0.0.1:%u/", pm_manager_get_listing_port (fixture->manager));
  g_autoptr(PmTestResponse) page = pm_test_http (fixture->session, "GET", root, NULL, NULL, 0);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      g_autoptr(PmTestResponse) response = call (fixture, requests[i][0], requests[i][1], requests[i][2]);

      assert_error (response, 403, "Forbidden", "--control-allow");
    }
  g_assert_cmpuint (n_devices (fixture), ==, 2);
  g_assert_cmpuint (page->status, ==, 200);
  g_assert_true (servers_list (fixture, device_port (fixture, 0)));
}

/* A page of another origin may not drive the fleet, even from an
 * allowed peer; the fleet's own page may. */
static void
test_cross_origin (Fixture      *fixture,
                   gconstpointer user_data)
{
  g_autofree char *url = g_strconcat (fixture->base, "/devices", NULL);
  g_autofree char *own = g_strdup_printf ("http://127.0.0.1:%u", pm_manager_get_listing_port (fixture->manager));
  const char *origins[] = { "http://evil.example", "null", own };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (origins); i++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
      g_autoptr(GBytes) reply = NULL;
      g_autoptr(GError) error = NULL;

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Origin", origins[i]);
      soup_message_set_request_body_from_bytes (msg, "text/plain", body);
      {
        g_autoptr(GAsyncResult) result = NULL;

        soup_session_send_and_read_async (fixture->session, msg, G_PRIORITY_DEFAULT, NULL,
                                          pm_test_keep_result, &result);
        g_assert_true (pm_test_wait_result (&result, PM_TEST_TIMEOUT_MS));
        reply = soup_session_send_and_read_finish (fixture->session, result, &error);
      }
      g_assert_no_error (error);
      g_assert_cmpuint (soup_message_get_status (msg), ==, i < 2 ? 403 : 201);
      g_assert_null (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                   "Access-Control-Allow-Origin"));
    }
  g_assert_cmpuint (n_devices (fixture), ==, 3);
}

/* ---- the same errors as over D-Bus --------------------------------------- */

/* A raw request to the listing port: the status, and the body parsed as
 * one JSON object (the test fails if it is not exactly one). */
static JsonObject *
raw_request (Fixture    *fixture,
             const char *request,
             gsize       length,
             guint      *status)
{
  g_autofree char *reply = pm_test_raw_http (pm_manager_get_listing_port (fixture->manager), request, length);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char *body = strstr (reply, "\r\n\r\n");

  g_test_message ("%s", reply);
  g_assert_true (g_str_has_prefix (reply, "HTTP/1.1 "));
  *status = (guint) g_ascii_strtoull (reply + strlen ("HTTP/1.1 "), NULL, 10);
  g_assert_nonnull (body);
  g_assert_true (g_utf8_validate (body + 4, -1, NULL));
  json_parser_load_from_data (parser, body + 4, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
assert_raw_error (JsonObject *object,
                  const char *name)
{
  g_autofree char *full = g_strconcat ("org.pluto.Mock1.Error.", name, NULL);

  g_assert_cmpuint (json_object_get_size (object), ==, 2);
  g_assert_cmpstr (pm_test_member_string (object, "error"), ==, full);
}

/* A chunked body over the limit gets one error document, not two glued
 * together (libsoup appends to a reply set before); a path that is not
 * UTF-8 is quoted in the 405's message, which stays valid JSON. */
static void
test_hostile_requests (Fixture      *fixture,
                       gconstpointer user_data)
{
  guint port = pm_manager_get_listing_port (fixture->manager);
  g_autoptr(GString) chunked = g_string_new (NULL);
  g_autoptr(JsonObject) too_large = NULL;
  g_autoptr(JsonObject) not_allowed = NULL;
  g_autofree char *bad_path = g_strdup_printf ("PATCH /control/v1/devices/%%FF%%FE/restart HTTP/1.1\r\n"
                                               "Host: 127.0.0.1:%u\r\nConnection: close\r\n"
                                               "Content-Length: 0\r\n\r\n", port);
  guint status = 0;
  guint i;

  g_string_append_printf (chunked, "POST /control/v1/faults HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                          "Connection: close\r\n\r\n", port);
  /* 17 chunks of 4 KiB: 68 KiB, over the 64 KiB a JSON body may have. */
  for (i = 0; i < 17; i++)
    {
      g_autofree char *spaces = g_strnfill (4096, ' ');

      g_string_append_printf (chunked, "1000\r\n%s\r\n", spaces);
    }
  g_string_append (chunked, "0\r\n\r\n");

  too_large = raw_request (fixture, chunked->str, chunked->len, &status);
  g_assert_cmpuint (status, ==, 413);
  assert_raw_error (too_large, "TooLarge");

  not_allowed = raw_request (fixture, bad_path, strlen (bad_path), &status);
  g_assert_cmpuint (status, ==, 405);
  assert_raw_error (not_allowed, "MethodNotAllowed");
  g_assert_cmpuint (n_devices (fixture), ==, 2);
}

/* DNS rebinding: a page whose name was pointed at 127.0.0.1 sends its
 * own name in Host and Origin alike; over loopback, only an address or
 * localhost is taken. */
static void
test_rebinding (Fixture      *fixture,
                gconstpointer user_data)
{
  guint port = pm_manager_get_listing_port (fixture->manager);
  const char *hosts[] = { "evil.example", "LOCALHOST", "127.0.0.1" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autofree char *request = g_strdup_printf ("POST /control/v1/devices HTTP/1.1\r\n"
                                                  "Host: %s:%u\r\nOrigin: http://%s:%u\r\n"
                                                  "Content-Type: application/json\r\nContent-Length: 2\r\n"
                                                  "Connection: close\r\n\r\n{}",
                                                  hosts[i], port, hosts[i], port);
      g_autoptr(JsonObject) reply = NULL;
      guint status = 0;

      reply = raw_request (fixture, request, strlen (request), &status);
      if (i == 0)
        {
          g_assert_cmpuint (status, ==, 403);
          assert_raw_error (reply, "Forbidden");
          g_assert_nonnull (strstr (pm_test_member_string (reply, "message"), "evil.example"));
          g_assert_cmpuint (n_devices (fixture), ==, 2);
        }
      else
        {
          g_assert_cmpuint (status, ==, 201);
          g_assert_cmpuint (n_devices (fixture), ==, 2 + i);
        }
    }
}

/* Only the page's own files are under /fleet/: anything else is a 404,
 * whatever the method. */
static void
test_fleet_paths (Fixture      *fixture,
                  gconstpointer user_data)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/fleet/nothing",
                                          pm_manager_get_listing_port (fixture->manager));
  g_autofree char *page = g_strdup_printf ("http://127.0.0.1:%u/fleet/fleet.js",
                                           pm_manager_get_listing_port (fixture->manager));
  g_autoptr(PmTestResponse) get = pm_test_http (fixture->session, "GET", url, NULL, NULL, 0);
  g_autoptr(PmTestResponse) post = pm_test_http (fixture->session, "POST", url, "text/plain", "x", -1);
  g_autoptr(PmTestResponse) script = pm_test_http (fixture->session, "GET", page, NULL, NULL, 0);

  g_assert_cmpuint (get->status, ==, 404);
  g_assert_cmpuint (post->status, ==, 404);
  g_assert_cmpuint (script->status, ==, 200);
}

static void
test_same_as_dbus (void)
{
  g_autoptr(GArray) ports = pm_test_free_ports (1, NULL);
  g_autofree char *ports_text = g_strdup_printf ("%u", g_array_index (ports, guint, 0));
  GTestDBus *bus = pm_test_bus_up (ports_text);
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) listing = NULL;
  g_autoptr(GVariant) value = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *in_use = g_strdup_printf ("{\"port\": %u}", g_array_index (ports, guint, 0));
  const struct
  {
    const char *json;
    GVariant   *options;
  } inputs[] = {
    { "{\"colour\": \"red\"}", g_variant_new_parsed ("{'colour': <'red'>}") },
    { "{\"hostname\": \"-bad\"}", g_variant_new_parsed ("{'hostname': <'-bad'>}") },
    { "{\"hostname\": \"MOCKAXE1\"}", g_variant_new_parsed ("{'hostname': <'MOCKAXE1'>}") },
    { "{\"profile\": \"abacus\"}", g_variant_new_parsed ("{'profile': <'abacus'>}") },
    { "{\"profile\": \"axeos-gamma\", \"api-version\": \"new\"}",
      g_variant_new_parsed ("{'profile': <'axeos-gamma'>, 'api-version': <'new'>}") },
    { "{\"port\": 70000}", g_variant_new_parsed ("{'port': <uint32 70000>}") },
    { in_use, g_variant_new_parsed ("{'port': <%u>}", g_array_index (ports, guint, 0)) },
  };
  guint listing_port;
  gsize i;

  connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  listing = g_dbus_connection_call_sync (connection, "org.pluto.Mock1", "/org/pluto/Mock1/Manager",
                                         "org.freedesktop.DBus.Properties", "Get",
                                         g_variant_new ("(ss)", "org.pluto.Mock1.Manager", "ListingPort"),
                                         G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (listing, "(v)", &value);
  listing_port = g_variant_get_uint32 (value);
  g_assert_cmpuint (listing_port, >, 0);

  for (i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/control/v1/devices", listing_port);
      g_autoptr(PmTestResponse) response = pm_test_http (session, "POST", url, "application/json", inputs[i].json, -1);
      g_autoptr(JsonObject) object = pm_test_response_object (response);
      g_autoptr(GError) dbus_error = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autofree char *remote = NULL;

      reply = g_dbus_connection_call_sync (connection, "org.pluto.Mock1", "/org/pluto/Mock1/Manager",
                                           "org.pluto.Mock1.Manager", "AddDevice",
                                           g_variant_new ("(@a{sv})", inputs[i].options),
                                           NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &dbus_error);
      g_assert_null (reply);
      g_assert_nonnull (dbus_error);
      remote = g_dbus_error_get_remote_error (dbus_error);
      g_dbus_error_strip_remote_error (dbus_error);
      g_test_message ("%s: HTTP %u %s; D-Bus %s %s", inputs[i].json, response->status,
                      pm_test_response_text (response), remote, dbus_error->message);
      g_assert_cmpstr (pm_test_member_string (object, "error"), ==, remote);
      g_assert_cmpstr (pm_test_member_string (object, "message"), ==, dbus_error->message);
      g_assert_cmpuint (response->status, ==, g_str_has_suffix (remote, "InUse") ? 409 : 400);
    }

  g_clear_object (&connection);
  pm_test_bus_down (bus);
}

/* A bad --control-allow stops the daemon at once with status 2. */
/* Bound to every address, a device's URL is one a client on this
 * machine can open: the loopback's, never 0.0.0.0. */
static void
test_url_bind_any (void)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GArray) ports = pm_test_free_ports (1, NULL);
  g_autoptr(JsonObject) devices = NULL;
  g_autoptr(PmTestResponse) info = NULL;
  g_autofree char *expected = g_strdup_printf ("http://127.0.0.1:%u", g_array_index (ports, guint, 0));
  g_autofree char *info_url = NULL;
  Fixture fixture = { NULL, };
  JsonObject *device;

  g_array_set_size (config->ports, 0);
  g_array_append_vals (config->ports, ports->data, ports->len);
  g_free (config->bind_address);
  config->bind_address = g_strdup ("0.0.0.0");
  fixture_start (&fixture, config, NULL);

  devices = get_ok (&fixture, "/devices");
  device = json_array_get_object_element (json_object_get_array_member (devices, "devices"), 0);
  g_assert_cmpstr (pm_test_member_string (device, "url"), ==, expected);
  info_url = g_strconcat (expected, "/api/system/info", NULL);
  info = pm_test_http (fixture.session, "GET", info_url, NULL, NULL, 0);
  g_assert_cmpuint (info->status, ==, 200);

  fixture_teardown (&fixture, NULL);
}

static void
test_bad_option_exits (void)
{
  const char *args[] = { "--no-dbus", "--control-allow", "10.0.0.0/40", NULL };
  g_autoptr(PmTestDaemon) daemon = pm_test_daemon_spawn (args, NULL);

  g_assert_cmpint (pm_test_daemon_wait (daemon), ==, 2);
  g_assert_true (pm_test_daemon_output_contains (daemon, "--control-allow", PM_TEST_TIMEOUT_MS));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add ("/control-http/" path, Fixture, data, fixture_setup, func, fixture_teardown)
  ADD ("status", test_status, NULL);
  ADD ("devices", test_devices, NULL);
  ADD ("restart", test_restart, NULL);
  ADD ("info", test_info, NULL);
  ADD ("faults", test_faults, NULL);
  ADD ("scenario", test_scenario, NULL);
  ADD ("live", test_live, NULL);
  ADD ("errors", test_errors, NULL);
  ADD ("allow/list", test_allow_list, "127.0.0.2/32");
  ADD ("allow/none", test_allow_none, "none");
  ADD ("allow/cross-origin", test_cross_origin, NULL);
  ADD ("allow/rebinding", test_rebinding, NULL);
  ADD ("hostile", test_hostile_requests, NULL);
  ADD ("fleet-paths", test_fleet_paths, NULL);
#undef ADD
  g_test_add ("/control-http/faults/asic-range", Fixture, NULL, fixture_setup_boards,
              test_faults_asic_range, fixture_teardown);
  g_test_add_func ("/control-http/same-as-dbus", test_same_as_dbus);
  g_test_add_func ("/control-http/bad-option-exits", test_bad_option_exits);
  g_test_add_func ("/control-http/url-bind-any", test_url_bind_any);

  return g_test_run ();
}
