/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-manager"

#include "config.h"

#include "pm-error.h"
#include "pm-manager.h"
#include "pm-test-util.h"

typedef struct
{
  SoupSession *session;
  PmManager   *manager;
} Fixture;

/* A manager with no devices yet and a listing server on a free port. */
static void
fixture_setup (Fixture      *fixture,
               gconstpointer user_data)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;

  g_array_set_size (config->ports, 0);
  config->listing_port = pm_test_free_port ();
  config->seed = 7;
  config->seed_given = TRUE;
  config->logs_enabled = GPOINTER_TO_INT (user_data);

  fixture->session = soup_session_new ();
  fixture->manager = pm_manager_new (config);
  g_assert_true (pm_manager_start (fixture->manager, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pm_manager_get_listing_port (fixture->manager), ==, config->listing_port);
}

static void
fixture_teardown (Fixture      *fixture,
                  gconstpointer user_data)
{
  g_object_add_weak_pointer (G_OBJECT (fixture->manager), (gpointer *) &fixture->manager);
  g_object_unref (fixture->manager);
  g_assert_null (fixture->manager);
  g_clear_object (&fixture->session);
}

static JsonArray *
get_servers (Fixture     *fixture,
             JsonObject **out_root)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/servers",
                                          pm_manager_get_listing_port (fixture->manager));
  g_autoptr(PmTestResponse) response = pm_test_http (fixture->session, "GET", url, NULL, NULL, 0);
  JsonObject *root;

  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  root = pm_test_response_object (response);
  *out_root = root;
  return json_object_get_array_member (root, "servers");
}

static guint
get_status (Fixture    *fixture,
            guint       port,
            const char *path)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  g_autoptr(PmTestResponse) response = pm_test_http (fixture->session, "GET", url, NULL, NULL, 0);

  return response->status;
}

static void
test_listing_empty (Fixture      *fixture,
                    gconstpointer user_data)
{
  g_autoptr(JsonObject) root = NULL;
  JsonArray *servers = get_servers (fixture, &root);
  g_autofree char *message = g_strdup_printf ("Available servers from listing-server:%u",
                                              pm_manager_get_listing_port (fixture->manager));

  g_assert_cmpstr (json_object_get_string_member (root, "message"), ==, message);
  g_assert_cmpuint (json_array_get_length (servers), ==, 0);
  g_assert_cmpuint (json_object_get_size (root), ==, 2);
}

static void
test_listing_routes (Fixture      *fixture,
                     gconstpointer user_data)
{
  guint port = pm_manager_get_listing_port (fixture->manager);
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/servers", port);
  g_autoptr(PmTestResponse) post = pm_test_http (fixture->session, "POST", url, "application/json", "{}", -1);

  g_assert_cmpuint (get_status (fixture, port, "/serversx"), ==, 404);
  g_assert_cmpuint (get_status (fixture, port, "/servers/1"), ==, 404);
  g_assert_cmpuint (get_status (fixture, port, "/"), ==, 200);  /* the fleet page */
  g_assert_cmpuint (get_status (fixture, port, "/fleet"), ==, 404);
  g_assert_cmpuint (get_status (fixture, port, "/index.html"), ==, 404);
  g_assert_cmpuint (get_status (fixture, port, "/api/system/info"), ==, 404);
  g_assert_cmpuint (post->status, ==, 405);
  g_assert_cmpstr (soup_message_headers_get_one (post->headers, "Allow"), ==, "GET, HEAD, OPTIONS");
}

static void
assert_server (JsonArray  *servers,
               guint       index,
               PmDevice   *device)
{
  JsonObject *entry = json_array_get_object_element (servers, index);
  g_autoptr(GDateTime) start = NULL;
  g_autoptr(GRegex) iso = g_regex_new ("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$", 0, 0, NULL);
  const char *start_time = json_object_get_string_member (entry, "startTime");

  g_assert_cmpuint (json_object_get_size (entry), ==, 3);
  g_assert_cmpint (json_object_get_int_member (entry, "port"), ==, pm_device_get_port (device));
  g_assert_cmpstr (json_object_get_string_member (entry, "hostname"), ==,
                   pm_device_get_hostname (device));
  g_assert_true (g_regex_match (iso, start_time, 0, NULL));
  start = g_date_time_new_from_iso8601 (start_time, NULL);
  g_assert_nonnull (start);
  g_assert_cmpint (g_date_time_to_unix (start) * 1000 +
                     g_date_time_get_microsecond (start) / 1000,
                   ==, pm_device_get_start_time (device));
}

static void
test_add_remove (Fixture      *fixture,
                 gconstpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) root1 = NULL;
  g_autoptr(JsonObject) root2 = NULL;
  PmDevice *first, *second, *third;
  JsonArray *servers;
  guint second_port;

  first = pm_test_add_device (fixture->manager, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  second = pm_test_add_device (fixture->manager, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  third = pm_test_add_device (fixture->manager, 0, "rig-7", "pluto-new", "v9.9.9", &error);
  g_assert_no_error (error);

  /* Defaults as at start-up: numbered names, alternating shapes. */
  g_assert_cmpstr (pm_device_get_hostname (first), ==, "mockaxe1");
  g_assert_cmpint (pm_device_get_profile (first)->api_version, ==, PM_API_VERSION_LEGACY);
  g_assert_cmpstr (pm_device_get_hostname (second), ==, "mockaxe2");
  g_assert_cmpint (pm_device_get_profile (second)->api_version, ==, PM_API_VERSION_NEW);
  g_assert_cmpstr (pm_device_get_firmware (third), ==, "v9.9.9");
  g_assert_true (pm_device_get_listening (first));
  g_assert_cmpuint (pm_device_get_port (first), !=, 0);

  /* Listed at once, in order, and answering. */
  servers = get_servers (fixture, &root1);
  g_assert_cmpuint (json_array_get_length (servers), ==, 3);
  assert_server (servers, 0, first);
  assert_server (servers, 1, second);
  assert_server (servers, 2, third);
  g_assert_cmpuint (get_status (fixture, pm_device_get_port (third), "/api/system/info"), ==, 200);

  /* Removed: gone from the listing, its port closed. */
  second_port = pm_device_get_port (second);
  g_assert_true (pm_manager_remove_device (fixture->manager, second, &error));
  g_assert_no_error (error);
  servers = get_servers (fixture, &root2);
  g_assert_cmpuint (json_array_get_length (servers), ==, 2);
  assert_server (servers, 0, first);
  assert_server (servers, 1, third);
  g_assert_true (pm_test_port_refuses (second_port));
  g_assert_null (pm_manager_find_device (fixture->manager, second_port, NULL));
  g_assert_true (pm_manager_find_device (fixture->manager, 0, "RIG-7") == third);

  /* The next default name does not reuse a number. */
  second = pm_test_add_device (fixture->manager, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pm_device_get_hostname (second), ==, "mockaxe3");
  g_assert_cmpint (pm_device_get_profile (second)->api_version, ==, PM_API_VERSION_LEGACY);
}

/* Binds a socket to a free port on 127.0.0.1, so that port is taken
 * while @taken lives; returns the port. */
static guint
take_port (GSocket **taken)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  *taken = pm_acceptor_bind ("127.0.0.1", 0, &error);
  g_assert_no_error (error);
  address = g_socket_get_local_address (*taken, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
}

static void
test_add_errors (Fixture      *fixture,
                 gconstpointer user_data)
{
  GListModel *devices = pm_manager_get_devices (fixture->manager);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) taken = NULL;
  g_autoptr(JsonObject) root = NULL;
  g_autoptr(PmAcceptor) stray_acceptor = NULL;
  PmDevice *device, *other;
  guint taken_port;

  device = pm_test_add_device (fixture->manager, 0, "alpha", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (device);

  /* A hostname in use, in any case. */
  g_assert_null (pm_test_add_device (fixture->manager, 0, "ALPHA", NULL, NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_HOSTNAME_IN_USE);
  g_clear_error (&error);

  /* A port used by another device. */
  g_assert_null (pm_test_add_device (fixture->manager, pm_device_get_port (device), NULL,
                                        NULL, NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE);
  g_clear_error (&error);

  /* A port taken by another socket. */
  taken_port = take_port (&taken);
  g_assert_null (pm_test_add_device (fixture->manager, taken_port, NULL, NULL, NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE);
  g_assert_nonnull (strstr (error->message, "in use"));
  g_clear_error (&error);

  /* The listing server's own port. */
  g_assert_null (pm_test_add_device (fixture->manager,
                                        pm_manager_get_listing_port (fixture->manager),
                                        NULL, NULL, NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE);
  g_clear_error (&error);

  /* Bad values. */
  g_assert_null (pm_test_add_device (fixture->manager, 0, "", NULL, NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (pm_test_add_device (fixture->manager, 0, "bad name", NULL, NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (pm_test_add_device (fixture->manager, 0, "-dash", NULL, NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (pm_test_add_device (fixture->manager, 70000, NULL, NULL, NULL, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (pm_test_add_device (fixture->manager, 0, NULL, NULL, "", &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Nothing was created by any of them. */
  g_assert_cmpuint (g_list_model_get_n_items (devices), ==, 1);
  g_assert_cmpuint (json_array_get_length (get_servers (fixture, &root)), ==, 1);

  /* A device that is not part of the fleet cannot be removed. */
  stray_acceptor = pm_acceptor_new ();
  other = pm_test_device_new (stray_acceptor, 0, "stray", "pluto-legacy", NULL, FALSE, 0);
  g_assert_false (pm_manager_remove_device (fixture->manager, other, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_NO_SUCH_DEVICE);
  g_object_unref (other);
}

/* Start-up: a device whose port is taken is left out, the rest run, and
 * the names follow the positions in PORTS. */
static void
test_start_port_conflict (void)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(PmManager) manager = NULL;
  g_autoptr(GSocket) taken = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  GListModel *devices;
  guint ports[3];
  guint i;

  ports[1] = take_port (&taken);
  ports[0] = pm_test_free_port ();
  do
    ports[2] = pm_test_free_port ();
  while (ports[2] == ports[0]);

  g_array_set_size (config->ports, 0);
  g_array_append_vals (config->ports, ports, 3);
  config->listing_port = pm_test_free_port ();

  manager = pm_manager_new (config);
  expected = g_strdup_printf ("mockaxe2: not started: port %u on 127.0.0.1 is already in use",
                              ports[1]);
  g_test_expect_message ("pm-manager", G_LOG_LEVEL_MESSAGE, "Seed *");
  g_test_expect_message ("pm-manager", G_LOG_LEVEL_MESSAGE, "mockaxe1 *");
  g_test_expect_message ("pm-manager", G_LOG_LEVEL_WARNING, expected);
  g_test_expect_message ("pm-manager", G_LOG_LEVEL_MESSAGE, "mockaxe3 *");
  g_test_expect_message ("pm-manager", G_LOG_LEVEL_MESSAGE, "Listing server on *(2 devices)");
  g_assert_true (pm_manager_start (manager, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  devices = pm_manager_get_devices (manager);
  g_assert_cmpuint (g_list_model_get_n_items (devices), ==, 2);
  for (i = 0; i < 2; i++)
    {
      g_autoptr(PmDevice) device = g_list_model_get_item (devices, i);
      g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/api/system/info",
                                              pm_device_get_port (device));
      g_autoptr(PmTestResponse) response = pm_test_http (session, "GET", url, NULL, NULL, 0);
      g_autoptr(JsonObject) info = NULL;

      g_assert_cmpuint (pm_device_get_port (device), ==, ports[i * 2]);
      g_assert_cmpstr (pm_device_get_hostname (device), ==, i == 0 ? "mockaxe1" : "mockaxe3");
      g_assert_cmpint (pm_device_get_profile (device)->api_version, ==, PM_API_VERSION_LEGACY);
      g_assert_cmpuint (response->status, ==, 200);
      info = pm_test_response_object (response);
      g_assert_cmpstr (json_object_get_string_member (info, "hostname"), ==,
                       pm_device_get_hostname (device));
    }
  g_assert_cmpuint (pm_manager_get_listing_port (manager), ==, config->listing_port);
}

/* Start-up: the listing port is taken; the devices run without it. */
static void
test_start_listing_taken (void)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(PmManager) manager = NULL;
  g_autoptr(GSocket) taken = NULL;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PmDevice) device = NULL;
  g_autoptr(PmTestResponse) response = NULL;
  g_autofree char *url = NULL;
  guint port = pm_test_free_port ();

  g_array_set_size (config->ports, 0);
  g_array_append_val (config->ports, port);
  config->listing_port = take_port (&taken);

  manager = pm_manager_new (config);
  g_test_expect_message ("pm-manager", G_LOG_LEVEL_MESSAGE, "Seed *");
  g_test_expect_message ("pm-manager", G_LOG_LEVEL_MESSAGE, "mockaxe1 *");
  g_test_expect_message ("pm-manager", G_LOG_LEVEL_WARNING, "Listing server not started: *");
  g_assert_true (pm_manager_start (manager, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpuint (pm_manager_get_listing_port (manager), ==, 0);

  device = g_list_model_get_item (pm_manager_get_devices (manager), 0);
  g_assert_nonnull (device);
  url = g_strdup_printf ("http://127.0.0.1:%u/api/system/info", port);
  response = pm_test_http (session, "GET", url, NULL, NULL, 0);
  g_assert_cmpuint (response->status, ==, 200);
}

/* A started manager with one device on a free port, returned in
 * @out_port, and a listing server. */
static PmManager *
start_one_device (guint *out_port)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;
  PmManager *manager;
  guint port = pm_test_free_port ();

  g_array_set_size (config->ports, 0);
  g_array_append_val (config->ports, port);
  config->listing_port = pm_test_free_port ();
  manager = pm_manager_new (config);
  g_assert_true (pm_manager_start (manager, &error));
  g_assert_no_error (error);
  g_assert_false (pm_test_port_refuses (port));
  g_assert_false (pm_test_port_refuses (pm_manager_get_listing_port (manager)));
  *out_port = port;
  return manager;
}

/* stop() closes every server. */
static void
test_stop (void)
{
  guint port;
  g_autoptr(PmManager) manager = start_one_device (&port);
  guint listing = pm_manager_get_listing_port (manager);

  pm_manager_stop (manager);

  g_assert_true (pm_test_port_refuses (port));
  g_assert_true (pm_test_port_refuses (listing));
  g_assert_cmpuint (g_list_model_get_n_items (pm_manager_get_devices (manager)), ==, 0);
}

/* Without a seed one is drawn; with one, it is kept. */
static void
test_seed (void)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(PmManager) seeded = NULL;
  g_autoptr(PmManager) drawn1 = NULL;
  g_autoptr(PmManager) drawn2 = NULL;

  config->seed = 99;
  config->seed_given = TRUE;
  seeded = pm_manager_new (config);
  g_assert_cmpuint (pm_manager_get_seed (seeded), ==, 99);

  config->seed_given = FALSE;
  drawn1 = pm_manager_new (config);
  drawn2 = pm_manager_new (config);
  g_assert_cmpuint (pm_manager_get_seed (drawn1), !=, pm_manager_get_seed (drawn2));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/manager/listing/empty", Fixture, NULL,
              fixture_setup, test_listing_empty, fixture_teardown);
  g_test_add ("/manager/listing/routes", Fixture, NULL,
              fixture_setup, test_listing_routes, fixture_teardown);
  g_test_add ("/manager/add-remove", Fixture, NULL,
              fixture_setup, test_add_remove, fixture_teardown);
  g_test_add ("/manager/add-errors", Fixture, NULL,
              fixture_setup, test_add_errors, fixture_teardown);
  g_test_add_func ("/manager/start/port-conflict", test_start_port_conflict);
  g_test_add_func ("/manager/start/listing-taken", test_start_listing_taken);
  g_test_add_func ("/manager/stop", test_stop);
  g_test_add_func ("/manager/seed", test_seed);

  return g_test_run ();
}
