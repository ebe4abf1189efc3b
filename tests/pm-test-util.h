/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "pm-manager.h"

G_BEGIN_DECLS

/* Whether the build runs under AddressSanitizer, whose shadow memory
 * makes resident-size measurements meaningless. */
#if defined(__SANITIZE_ADDRESS__)
#define PM_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PM_TEST_SANITIZED 1
#endif
#endif
#ifndef PM_TEST_SANITIZED
#define PM_TEST_SANITIZED 0
#endif

/* How long any single wait in a test may take before it fails. */
#define PM_TEST_TIMEOUT_MS 10000

/* The ten log lines of the original service, in its order: what the
 * tests expect, written down apart from the code under test. */
extern const char *const pm_test_log_messages[10];
gssize pm_test_log_message_index (const char *message);

typedef gboolean (*PmTestCondition) (gpointer user_data);

gboolean pm_test_wait_until (PmTestCondition condition,
                             gpointer        user_data,
                             guint           timeout_ms);
void     pm_test_wait_ms (guint ms);

void     pm_test_keep_result (GObject      *source,
                              GAsyncResult *result,
                              gpointer      user_data);
gboolean pm_test_wait_result (GAsyncResult **result,
                              guint          timeout_ms);

void     pm_test_flag_set (gint *flag);
gboolean pm_test_flag_wait (gint  *flag,
                            guint  timeout_ms);

gboolean pm_test_socket_exchange (guint       port,
                                  const char *request,
                                  gsize       length,
                                  gboolean    half_close,
                                  GString    *reply);

guint    pm_test_free_port (void);
GArray  *pm_test_free_ports (guint   n,
                            GArray *avoid);
gboolean pm_test_port_refuses (guint port);

/**
 * PmTestResponse:
 * @status: the HTTP status
 * @headers: the response headers
 * @body: the response body
 */
typedef struct
{
  guint               status;
  SoupMessageHeaders *headers;
  GBytes             *body;
} PmTestResponse;

void pm_test_response_free (PmTestResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmTestResponse, pm_test_response_free)

PmTestResponse *pm_test_http (SoupSession *session,
                              const char  *method,
                              const char  *url,
                              const char  *content_type,
                              const char  *body,
                              gssize       length);
const char     *pm_test_response_text (PmTestResponse *response);
const char     *pm_test_response_content_type (PmTestResponse *response);
JsonObject     *pm_test_response_object (PmTestResponse *response);
JsonNode       *pm_test_member_value (JsonObject *object,
                                      const char *name,
                                      GType       type);
gint64          pm_test_member_int (JsonObject *object,
                                    const char *name);
const char     *pm_test_member_string (JsonObject *object,
                                       const char *name);
JsonObject     *pm_test_get_info (SoupSession *session,
                                  const char  *host,
                                  guint        port);
JsonArray      *pm_test_get_servers (SoupSession *session,
                                     guint        listing_port);
char           *pm_test_raw_http (guint       port,
                                  const char *request,
                                  gsize       length);

SoupWebsocketConnection *pm_test_websocket_connect (SoupSession *session,
                                                    const char  *url,
                                                    GError     **error);

char *pm_test_device_url (PmDevice   *device,
                          const char *scheme,
                          const char *path);

/**
 * PmTestPending:
 * @msg: the request
 * @body: (nullable): the reply's body, once it has come
 * @error: (nullable): why the request failed, once it has
 * @started: when it was sent, monotonic µs
 * @finished: when it ended, monotonic µs; 0 until it has
 *
 * A request answered asynchronously, for requests that overlap.
 */
typedef struct
{
  SoupMessage *msg;
  GBytes      *body;
  GError      *error;
  gint64       started;
  gint64       finished;
} PmTestPending;

PmTestPending *pm_test_pending_start (SoupSession *session,
                                      const char  *method,
                                      const char  *url);
gboolean       pm_test_pending_done (gpointer user_data);
void           pm_test_pending_free (PmTestPending *pending);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmTestPending, pm_test_pending_free)

/**
 * PmTestWsClient:
 * @conn: (owned): the connection
 * @texts: (element-type utf8): each message's content, in order
 * @times: (element-type gint64): when each message came, monotonic µs
 * @n_binary: how many of the messages were binary
 * @closing: whether a close frame came
 * @closed: whether the connection has closed
 * @close_code: the close code it ended with
 * @closed_at: when it closed, monotonic µs
 *
 * A WebSocket client and all it saw.  It can stand first in a larger
 * struct, set up with pm_test_ws_client_init().
 */
typedef struct
{
  SoupWebsocketConnection *conn;
  GPtrArray               *texts;
  GArray                  *times;
  guint                    n_binary;
  gboolean                 closing;
  gboolean                 closed;
  gushort                  close_code;
  gint64                   closed_at;
} PmTestWsClient;

void            pm_test_ws_client_init (PmTestWsClient          *client,
                                        SoupWebsocketConnection *conn);
void            pm_test_ws_client_clear (PmTestWsClient *client);
PmTestWsClient *pm_test_ws_client_new (SoupWebsocketConnection *conn);
void            pm_test_ws_client_free (PmTestWsClient *client);
gboolean        pm_test_ws_client_wait_messages (PmTestWsClient *client,
                                                 guint           n,
                                                 guint           timeout_ms);
gboolean        pm_test_ws_client_is_closed (gpointer user_data);
gboolean        pm_test_ws_client_wait_closed (PmTestWsClient *client,
                                               guint           timeout_ms);
gboolean        pm_test_ws_clients_wait_closed (GPtrArray *clients,
                                                guint      timeout_ms);

/**
 * PmTestDaemon:
 * @process: the running daemon
 * @listing_port: its listing port
 * @ports: (element-type guint): its device ports
 * @output: what it has written to stdout and stderr so far
 *
 * A real plutomock process started by a test.
 */
typedef struct
{
  GSubprocess *process;
  guint        listing_port;
  GArray      *ports;
  GString     *output;
  GInputStream *stream;
  GCancellable *cancellable;
  gboolean     output_closed;
} PmTestDaemon;

const char   *pm_test_daemon_path (void);
PmTestDaemon *pm_test_daemon_spawn (const char *const *args,
                                    const char *const *environment);
PmTestDaemon *pm_test_daemon_spawn_on_ports (guint              listing_port,
                                             GArray            *ports,
                                             const char *const *extra_args,
                                             const char *const *environment);
PmTestDaemon *pm_test_daemon_start (guint               n_devices,
                                    const char *const  *extra_args,
                                    const char *const  *environment);
int           pm_test_daemon_stop (PmTestDaemon *daemon);
int           pm_test_daemon_wait (PmTestDaemon *daemon);
void          pm_test_daemon_free (PmTestDaemon *daemon);
gboolean      pm_test_daemon_output_contains (PmTestDaemon *daemon,
                                              const char   *text,
                                              guint         timeout_ms);
guint         pm_test_daemon_count_fds (PmTestDaemon *daemon);
char         *pm_test_daemon_url (PmTestDaemon *daemon,
                                  guint         port,
                                  const char   *path);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmTestDaemon, pm_test_daemon_free)

GTestDBus *pm_test_bus_up (const char *ports);
GTestDBus *pm_test_bus_up_without_service (void);
void       pm_test_bus_down (GTestDBus *bus);

/* A device or a fleet's new device from the parts of a spec, the
 * profile by name (NULL: the default). */
PmDevice *pm_test_device_new (PmAcceptor *acceptor,
                              guint       port,
                              const char *hostname,
                              const char *profile,
                              const char *firmware,
                              gboolean    logs_enabled,
                              guint64     seed);
PmDevice *pm_test_add_device (PmManager  *manager,
                              guint       port,
                              const char *hostname,
                              const char *profile,
                              const char *firmware,
                              GError    **error);

G_END_DECLS
