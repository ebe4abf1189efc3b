/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-test-util"

#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pm-test-util.h"

/* ---- what the original service says ---------------------------------------- */

const char *const pm_test_log_messages[10] = {
  "System started",
  "Temperature reading failed",
  "Fan speed increased",
  "Power supply issue detected",
  "System performance optimal",
  "Network connection lost",
  "ASIC failure detected",
  "Overclocking applied successfully",
  "Temperature is stable",
  "Fan is operating within limits",
};

/**
 * pm_test_log_message_index:
 * @message: (nullable): a log line
 *
 * Returns: its index in %pm_test_log_messages, or -1
 */
gssize
pm_test_log_message_index (const char *message)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (pm_test_log_messages); i++)
    if (g_strcmp0 (message, pm_test_log_messages[i]) == 0)
      return (gssize) i;
  return -1;
}

/* ---- waiting on the main loop ------------------------------------------- */

static gboolean
on_wait_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/**
 * pm_test_wait_until:
 * @condition: checked after every main loop iteration
 * @user_data: its argument
 * @timeout_ms: the longest wait
 *
 * Runs the default main context until @condition holds or @timeout_ms
 * passes.
 *
 * Returns: whether @condition holds
 */
gboolean
pm_test_wait_until (PmTestCondition condition,
                    gpointer        user_data,
                    guint           timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, on_wait_timeout, &timed_out);

  while (!condition (user_data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);

  return condition (user_data);
}

static gboolean
is_true (gpointer user_data)
{
  return *(gboolean *) user_data;
}

/**
 * pm_test_keep_result:
 * @source: the object the call was made on
 * @result: its result
 * @user_data: a `GAsyncResult **`, %NULL until the call has finished
 *
 * A #GAsyncReadyCallback that keeps a reference to @result in @user_data,
 * so the test can call the matching _finish() function itself once
 * pm_test_wait_result() returns.
 */
void
pm_test_keep_result (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GAsyncResult **kept = user_data;

  g_assert_null (*kept);
  *kept = g_object_ref (result);
}

static gboolean
has_result (gpointer user_data)
{
  return *(GAsyncResult **) user_data != NULL;
}

/**
 * pm_test_wait_result:
 * @result: where pm_test_keep_result() stores the result
 * @timeout_ms: the longest wait
 *
 * Runs the default main context until an asynchronous call started with
 * pm_test_keep_result() and @result as its callback has finished, or
 * @timeout_ms passes.
 *
 * Returns: whether the call has finished
 */
gboolean
pm_test_wait_result (GAsyncResult **result,
                     guint          timeout_ms)
{
  return pm_test_wait_until (has_result, result, timeout_ms);
}

/**
 * pm_test_flag_set:
 * @flag: a flag the main thread waits on with pm_test_flag_wait()
 *
 * Sets @flag from any thread, and wakes the default main context so the
 * waiting test sees it at once.
 */
void
pm_test_flag_set (gint *flag)
{
  g_atomic_int_set (flag, TRUE);
  g_main_context_wakeup (NULL);
}

static gboolean
flag_is_set (gpointer user_data)
{
  return g_atomic_int_get ((gint *) user_data) != 0;
}

/**
 * pm_test_flag_wait:
 * @flag: a flag another thread sets with pm_test_flag_set()
 * @timeout_ms: the longest wait
 *
 * Runs the default main context until @flag is set or @timeout_ms passes.
 *
 * Returns: whether @flag is set
 */
gboolean
pm_test_flag_wait (gint  *flag,
                   guint  timeout_ms)
{
  return pm_test_wait_until (flag_is_set, flag, timeout_ms);
}

/**
 * pm_test_wait_ms:
 * @ms: how long
 *
 * Runs the default main context for @ms milliseconds, so servers in this
 * process keep answering.
 */
void
pm_test_wait_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_wait_timeout, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Below this, no port is drawn: the well-known and registered ports
 * most services use. */
#define FREE_PORT_FLOOR 16384

/* The first port the kernel gives client sockets (and port 0 binds). */
static guint
ephemeral_low (void)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents ("/proc/sys/net/ipv4/ip_local_port_range", &text, NULL, NULL))
    return 32768;
  return (guint) g_ascii_strtoull (text, NULL, 10);
}

/* Whether @port on 127.0.0.1 can be bound now. */
static gboolean
port_is_free (guint port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  g_assert_nonnull (socket);
  return g_socket_bind (socket, address, FALSE, NULL);
}

/**
 * pm_test_free_port:
 *
 * A port drawn below the kernel's range for client sockets: tests that
 * open thousands of connections at once take ports of that range, and
 * one of them could otherwise take a port another test running beside it
 * was given and is about to listen on.
 *
 * Returns: a TCP port on 127.0.0.1 that was free a moment ago
 */
guint
pm_test_free_port (void)
{
  guint low = ephemeral_low ();
  guint i;

  if (low > FREE_PORT_FLOOR + 1024)
    for (i = 0; i < 1000; i++)
      {
        guint port = (guint) g_random_int_range (FREE_PORT_FLOOR, (gint32) low);

        if (port_is_free (port))
          return port;
      }

  /* No room below the range: any port the kernel picks. */
  {
    g_autoptr(GSocket) socket = NULL;
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    g_autoptr(GError) error = NULL;

    socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
    g_assert_no_error (error);
    g_socket_bind (socket, address, FALSE, &error);
    g_assert_no_error (error);
    bound = g_socket_get_local_address (socket, &error);
    g_assert_no_error (error);
    return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  }
}

/**
 * pm_test_free_ports:
 * @n: how many
 * @avoid: (nullable) (element-type guint): ports not to return
 *
 * Returns: (transfer full) (element-type guint): @n ports on 127.0.0.1
 *   that were free a moment ago, all different and none in @avoid
 */
GArray *
pm_test_free_ports (guint   n,
                    GArray *avoid)
{
  GArray *ports = g_array_new (FALSE, FALSE, sizeof (guint));

  while (ports->len < n)
    {
      guint port = pm_test_free_port ();
      gboolean taken = FALSE;
      guint i;

      for (i = 0; i < ports->len; i++)
        taken |= g_array_index (ports, guint, i) == port;
      for (i = 0; avoid != NULL && i < avoid->len; i++)
        taken |= g_array_index (avoid, guint, i) == port;
      if (!taken)
        g_array_append_val (ports, port);
    }
  return ports;
}

/**
 * pm_test_port_refuses:
 * @port: a TCP port on 127.0.0.1
 *
 * Returns: whether a connection to @port is refused (nothing listens)
 */
gboolean
pm_test_port_refuses (guint port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GError) error = NULL;

  /* Blocking connect to loopback: answered at once either way. */
  g_socket_connect (socket, address, NULL, &error);
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

/* ---- HTTP ---------------------------------------------------------------- */

void
pm_test_response_free (PmTestResponse *response)
{
  if (response == NULL)
    return;
  g_clear_pointer (&response->headers, soup_message_headers_unref);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_free (response);
}

/**
 * pm_test_http:
 * @session: a session
 * @method: the method
 * @url: the URL
 * @content_type: (nullable): the request body's type
 * @body: (nullable): the request body
 * @length: its length, or -1 if NUL-terminated
 *
 * Sends a request and runs the main loop until the reply has arrived;
 * fails the test on a transport error or a time-out.
 *
 * Returns: (transfer full): the response
 */
PmTestResponse *
pm_test_http (SoupSession *session,
              const char  *method,
              const char  *url,
              const char  *content_type,
              const char  *body,
              gssize       length)
{
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  PmTestResponse *response;
  GBytes *reply;

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, length < 0 ? strlen (body) : (gsize) length);

      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL,
                                    pm_test_keep_result, &result);
  g_assert_true (pm_test_wait_result (&result, PM_TEST_TIMEOUT_MS));
  reply = soup_session_send_and_read_finish (session, result, &error);
  g_assert_no_error (error);

  response = g_new0 (PmTestResponse, 1);
  response->status = soup_message_get_status (msg);
  response->headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  response->body = reply;
  return response;
}

/**
 * pm_test_response_text:
 * @response: a response
 *
 * Returns: (transfer none): the body as a NUL-terminated string
 */
const char *
pm_test_response_text (PmTestResponse *response)
{
  gsize size;
  const char *data = g_bytes_get_data (response->body, &size);

  /* The body GBytes from libsoup is not terminated; keep a copy that is. */
  if (size == 0 || data[size - 1] != '\0')
    {
      g_autoptr(GByteArray) copy = g_byte_array_sized_new (size + 1);

      g_byte_array_append (copy, (const guint8 *) data, size);
      g_byte_array_append (copy, (const guint8 *) "", 1);
      g_bytes_unref (response->body);
      response->body = g_byte_array_free_to_bytes (g_steal_pointer (&copy));
      data = g_bytes_get_data (response->body, NULL);
    }
  return data;
}

const char *
pm_test_response_content_type (PmTestResponse *response)
{
  return soup_message_headers_get_content_type (response->headers, NULL);
}

/**
 * pm_test_response_object:
 * @response: a response
 *
 * Parses the body; fails the test if it is not a JSON object.
 *
 * Returns: (transfer full): the object
 */
JsonObject *
pm_test_response_object (PmTestResponse *response)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (pm_test_response_text (response), &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

/**
 * pm_test_socket_exchange:
 * @port: a port on 127.0.0.1
 * @request: (nullable): the bytes to send first, exactly
 * @length: how many
 * @half_close: whether to shut down the sending side after @request
 * @reply: where to append all that comes back
 *
 * Connects to @port, sends @request, half-closes the connection if asked,
 * and reads into @reply until the server closes. It blocks, so it is for
 * a helper thread while the main loop runs the server.
 *
 * Returns: whether the connect succeeded
 */
gboolean
pm_test_socket_exchange (guint       port,
                         const char *request,
                         gsize       length,
                         gboolean    half_close,
                         GString    *reply)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  GInputStream *in;
  char buffer[4096];
  gssize n;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (connection == NULL)
    return FALSE;

  /* The server may answer and close before it has read everything. */
  if (request != NULL)
    g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                               request, length, NULL, NULL, NULL);
  if (half_close)
    g_socket_shutdown (g_socket_connection_get_socket (connection), FALSE, TRUE, NULL);
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  while ((n = g_input_stream_read (in, buffer, sizeof buffer, NULL, NULL)) > 0)
    g_string_append_len (reply, buffer, n);
  return TRUE;
}

/**
 * pm_test_member_value:
 * @object: a JSON object
 * @name: a member name
 * @type: the #GType its value must have, such as %G_TYPE_STRING
 *
 * Fails the test unless @object has a member @name that is a plain value
 * of @type.
 *
 * Returns: (transfer none): the member
 */
JsonNode *
pm_test_member_value (JsonObject *object,
                      const char *name,
                      GType       type)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    g_error ("Member “%s” is missing", name);
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));
  g_assert_cmpuint (json_node_get_value_type (node), ==, type);
  return node;
}

/**
 * pm_test_member_int:
 * @object: a JSON object
 * @name: a member name
 *
 * Returns: the member @name, which must be a JSON integer
 */
gint64
pm_test_member_int (JsonObject *object,
                    const char *name)
{
  return json_node_get_int (pm_test_member_value (object, name, G_TYPE_INT64));
}

/**
 * pm_test_member_string:
 * @object: a JSON object
 * @name: a member name
 *
 * Returns: (transfer none): the member @name, which must be a JSON string
 */
const char *
pm_test_member_string (JsonObject *object,
                       const char *name)
{
  return json_node_get_string (pm_test_member_value (object, name, G_TYPE_STRING));
}

typedef struct
{
  guint     port;
  GBytes   *request;
  GString  *reply;
  gint      done;
} RawData;

static gpointer
raw_http_thread (gpointer user_data)
{
  RawData *data = user_data;

  pm_test_socket_exchange (data->port, g_bytes_get_data (data->request, NULL),
                           g_bytes_get_size (data->request), TRUE, data->reply);
  pm_test_flag_set (&data->done);
  return NULL;
}

/**
 * pm_test_raw_http:
 * @port: a port on 127.0.0.1
 * @request: the bytes to send, exactly
 * @length: how many
 *
 * Sends @request over a fresh connection, half-closes it, and returns all
 * that comes back until the server closes; the main loop runs meanwhile.
 *
 * Returns: (transfer full): the raw reply
 */
char *
pm_test_raw_http (guint       port,
                  const char *request,
                  gsize       length)
{
  RawData data = { port, g_bytes_new (request, length), g_string_new (NULL), FALSE };
  GThread *thread = g_thread_new ("raw-http", raw_http_thread, &data);

  g_assert_true (pm_test_flag_wait (&data.done, PM_TEST_TIMEOUT_MS));
  g_thread_join (thread);
  g_bytes_unref (data.request);
  return g_string_free (data.reply, FALSE);
}

/**
 * pm_test_websocket_connect:
 * @session: a session
 * @url: a ws:// URL
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the connection
 */
SoupWebsocketConnection *
pm_test_websocket_connect (SoupSession *session,
                           const char  *url,
                           GError     **error)
{
  g_autoptr(SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr(GAsyncResult) result = NULL;

  soup_session_websocket_connect_async (session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        pm_test_keep_result, &result);
  g_assert_true (pm_test_wait_result (&result, PM_TEST_TIMEOUT_MS));
  return soup_session_websocket_connect_finish (session, result, error);
}

/**
 * pm_test_device_url:
 * @device: a started device, on 127.0.0.1
 * @scheme: "http" or "ws"
 * @path: the path, from its leading slash
 *
 * Returns: (transfer full): the URL of @path on @device
 */
char *
pm_test_device_url (PmDevice   *device,
                    const char *scheme,
                    const char *path)
{
  return g_strdup_printf ("%s://127.0.0.1:%u%s", scheme, pm_device_get_port (device), path);
}

/* ---- requests that overlap --------------------------------------------------- */

static void
on_pending_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PmTestPending *pending = user_data;

  pending->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &pending->error);
  pending->finished = g_get_monotonic_time ();
}

/**
 * pm_test_pending_start:
 * @session: a #SoupSession
 * @method: the HTTP method
 * @url: the URL
 *
 * Sends @method @url and returns at once; the main loop must run for
 * the reply to come (see pm_test_pending_done()).
 *
 * Returns: (transfer full): the request, to free with
 *   pm_test_pending_free() once it has finished
 */
PmTestPending *
pm_test_pending_start (SoupSession *session,
                       const char  *method,
                       const char  *url)
{
  PmTestPending *pending = g_new0 (PmTestPending, 1);

  pending->msg = soup_message_new (method, url);
  g_assert_nonnull (pending->msg);
  pending->started = g_get_monotonic_time ();
  soup_session_send_and_read_async (session, pending->msg, G_PRIORITY_DEFAULT, NULL,
                                    on_pending_done, pending);
  return pending;
}

/**
 * pm_test_pending_done:
 * @user_data: a #PmTestPending
 *
 * A #PmTestCondition.
 *
 * Returns: whether the request has finished, with a reply or an error
 */
gboolean
pm_test_pending_done (gpointer user_data)
{
  return ((PmTestPending *) user_data)->finished != 0;
}

/**
 * pm_test_pending_free:
 * @pending: a finished request
 */
void
pm_test_pending_free (PmTestPending *pending)
{
  g_clear_object (&pending->msg);
  g_clear_pointer (&pending->body, g_bytes_unref);
  g_clear_error (&pending->error);
  g_free (pending);
}

/* ---- WebSocket clients -------------------------------------------------------- */

static void
on_ws_message (SoupWebsocketConnection *conn,
               SoupWebsocketDataType    type,
               GBytes                  *message,
               gpointer                 user_data)
{
  PmTestWsClient *client = user_data;
  gint64 now = g_get_monotonic_time ();
  gsize size;
  const char *data = g_bytes_get_data (message, &size);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    client->n_binary++;
  g_ptr_array_add (client->texts, g_strndup (data != NULL ? data : "", size));
  g_array_append_val (client->times, now);
}

static void
on_ws_closing (SoupWebsocketConnection *conn,
               gpointer                 user_data)
{
  ((PmTestWsClient *) user_data)->closing = TRUE;
}

static void
on_ws_closed (SoupWebsocketConnection *conn,
              gpointer                 user_data)
{
  PmTestWsClient *client = user_data;

  client->closed = TRUE;
  client->close_code = soup_websocket_connection_get_close_code (conn);
  client->closed_at = g_get_monotonic_time ();
}

/**
 * pm_test_ws_client_init:
 * @client: the client to set up, zeroed
 * @conn: (transfer full): an open connection
 *
 * Makes @client record what @conn receives, and how it closes.  Other
 * handlers of @conn's signals may use @client as their data: they go
 * with it in pm_test_ws_client_clear().
 */
void
pm_test_ws_client_init (PmTestWsClient          *client,
                        SoupWebsocketConnection *conn)
{
  g_assert_nonnull (conn);
  client->conn = conn;
  client->texts = g_ptr_array_new_with_free_func (g_free);
  client->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_signal_connect (conn, "message", G_CALLBACK (on_ws_message), client);
  g_signal_connect (conn, "closing", G_CALLBACK (on_ws_closing), client);
  g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed), client);
}

/**
 * pm_test_ws_client_clear:
 * @client: a client set up with pm_test_ws_client_init()
 *
 * Disconnects all handlers whose data is @client and frees what it holds.
 */
void
pm_test_ws_client_clear (PmTestWsClient *client)
{
  if (client->conn != NULL)
    {
      g_signal_handlers_disconnect_by_data (client->conn, client);
      g_clear_object (&client->conn);
    }
  g_clear_pointer (&client->texts, g_ptr_array_unref);
  g_clear_pointer (&client->times, g_array_unref);
}

/**
 * pm_test_ws_client_new:
 * @conn: (transfer full): an open connection
 *
 * Returns: (transfer full): a client recording what @conn receives
 */
PmTestWsClient *
pm_test_ws_client_new (SoupWebsocketConnection *conn)
{
  PmTestWsClient *client = g_new0 (PmTestWsClient, 1);

  pm_test_ws_client_init (client, conn);
  return client;
}

/**
 * pm_test_ws_client_free:
 * @client: a client from pm_test_ws_client_new()
 */
void
pm_test_ws_client_free (PmTestWsClient *client)
{
  pm_test_ws_client_clear (client);
  g_free (client);
}

typedef struct
{
  PmTestWsClient *client;
  guint           n;
} MessagesWait;

static gboolean
has_messages (gpointer user_data)
{
  MessagesWait *wait = user_data;

  return wait->client->texts->len >= wait->n;
}

/**
 * pm_test_ws_client_wait_messages:
 * @client: a client
 * @n: how many messages in all
 * @timeout_ms: how long to wait at most
 *
 * Runs the main loop until @client has had at least @n messages.
 *
 * Returns: whether it had them in time (if not, says how many it had)
 */
gboolean
pm_test_ws_client_wait_messages (PmTestWsClient *client,
                                 guint           n,
                                 guint           timeout_ms)
{
  MessagesWait wait = { client, n };

  if (pm_test_wait_until (has_messages, &wait, timeout_ms))
    return TRUE;
  g_test_message ("%u WebSocket messages after %u ms, not %u", client->texts->len, timeout_ms, n);
  return FALSE;
}

/**
 * pm_test_ws_client_is_closed:
 * @user_data: a #PmTestWsClient
 *
 * A #PmTestCondition.
 *
 * Returns: whether the client's connection has closed
 */
gboolean
pm_test_ws_client_is_closed (gpointer user_data)
{
  PmTestWsClient *client = user_data;

  return client->closed &&
         soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_CLOSED;
}

/**
 * pm_test_ws_client_wait_closed:
 * @client: a client
 * @timeout_ms: how long to wait at most
 *
 * Runs the main loop until @client's connection has closed.
 *
 * Returns: whether it closed in time
 */
gboolean
pm_test_ws_client_wait_closed (PmTestWsClient *client,
                               guint           timeout_ms)
{
  if (pm_test_wait_until (pm_test_ws_client_is_closed, client, timeout_ms))
    return TRUE;
  g_test_message ("The WebSocket is still open after %u ms", timeout_ms);
  return FALSE;
}

static gboolean
all_closed (gpointer user_data)
{
  GPtrArray *clients = user_data;
  guint i;

  for (i = 0; i < clients->len; i++)
    if (!pm_test_ws_client_is_closed (g_ptr_array_index (clients, i)))
      return FALSE;
  return TRUE;
}

/**
 * pm_test_ws_clients_wait_closed:
 * @clients: (element-type PmTestWsClient): clients, or structs that
 *   begin with one
 * @timeout_ms: how long to wait at most
 *
 * Runs the main loop until the connections of all @clients have closed.
 *
 * Returns: whether they all closed in time
 */
gboolean
pm_test_ws_clients_wait_closed (GPtrArray *clients,
                                guint      timeout_ms)
{
  return pm_test_wait_until (all_closed, clients, timeout_ms);
}

/**
 * pm_test_get_info:
 * @session: a #SoupSession
 * @host: the device's address, in brackets if IPv6
 * @port: the device's port
 *
 * GET /api/system/info: checks that it is 200 and JSON.
 *
 * Returns: (transfer full): the info
 */
JsonObject *
pm_test_get_info (SoupSession *session,
                  const char  *host,
                  guint        port)
{
  g_autofree char *url = g_strdup_printf ("http://%s:%u/api/system/info", host, port);
  g_autoptr(PmTestResponse) response = pm_test_http (session, "GET", url, NULL, NULL, 0);

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  return pm_test_response_object (response);
}

/**
 * pm_test_get_servers:
 * @session: a #SoupSession
 * @listing_port: the listing server's port on 127.0.0.1
 *
 * GET /servers: checks the status, type and message.
 *
 * Returns: (transfer full): the list of servers
 */
JsonArray *
pm_test_get_servers (SoupSession *session,
                     guint        listing_port)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/servers", listing_port);
  g_autofree char *message = g_strdup_printf ("Available servers from listing-server:%u", listing_port);
  g_autoptr(PmTestResponse) response = pm_test_http (session, "GET", url, NULL, NULL, 0);
  g_autoptr(JsonObject) object = NULL;
  JsonNode *servers;

  g_assert_cmpuint (response->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (pm_test_response_content_type (response), ==, "application/json");
  object = pm_test_response_object (response);
  g_assert_cmpstr (json_object_get_string_member_with_default (object, "message", NULL), ==, message);
  servers = json_object_get_member (object, "servers");
  g_assert_nonnull (servers);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (servers));
  return json_array_ref (json_node_get_array (servers));
}

/* ---- the real daemon ------------------------------------------------------ */

/**
 * pm_test_daemon_path:
 *
 * Returns: the daemon built with the tests, from `PLUTOMOCK_DAEMON`
 */
const char *
pm_test_daemon_path (void)
{
  const char *path = g_getenv ("PLUTOMOCK_DAEMON");

  g_assert_nonnull (path);
  return path;
}

static void read_output (PmTestDaemon *daemon);

/* In the child: die with the test, so a failed assertion leaves no
 * daemon behind. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
on_output (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  PmTestDaemon *daemon;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  daemon = user_data;
  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      daemon->output_closed = TRUE;
      return;
    }
  g_string_append_len (daemon->output, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (g_test_verbose ())
    g_test_message ("daemon: %.*s", (int) g_bytes_get_size (bytes),
                    (const char *) g_bytes_get_data (bytes, NULL));
  read_output (daemon);
}

static void
read_output (PmTestDaemon *daemon)
{
  g_input_stream_read_bytes_async (daemon->stream, 4096, G_PRIORITY_DEFAULT,
                                   daemon->cancellable, on_output, daemon);
}

/**
 * pm_test_daemon_spawn:
 * @args: (array zero-terminated=1): the daemon's arguments
 * @environment: (nullable) (array zero-terminated=1): VAR=VALUE entries
 *   added to the test's environment; an entry VAR alone unsets VAR
 *
 * Starts the daemon with its output captured.  Does not wait for it.
 *
 * Returns: (transfer full): the daemon
 */
PmTestDaemon *
pm_test_daemon_spawn (const char *const *args,
                      const char *const *environment)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  PmTestDaemon *daemon = g_new0 (PmTestDaemon, 1);
  gsize i;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  /* The daemon's own warnings must not abort it. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_unsetenv (launcher, "LISTING_PORT");
  g_subprocess_launcher_unsetenv (launcher, "PORTS");
  g_subprocess_launcher_unsetenv (launcher, "LOGS_PUB_ENABLED");
  g_subprocess_launcher_unsetenv (launcher, "PROFILE");
  g_subprocess_launcher_unsetenv (launcher, "TELEMETRY");
  g_subprocess_launcher_unsetenv (launcher, "NETWORK_GATE");
  for (i = 0; environment != NULL && environment[i] != NULL; i++)
    {
      const char *eq = strchr (environment[i], '=');

      if (eq == NULL)
        {
          g_subprocess_launcher_unsetenv (launcher, environment[i]);
        }
      else
        {
          g_autofree char *name = g_strndup (environment[i], eq - environment[i]);

          g_subprocess_launcher_setenv (launcher, name, eq + 1, TRUE);
        }
    }

  g_ptr_array_add (argv, (gpointer) pm_test_daemon_path ());
  for (i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  daemon->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  daemon->ports = g_array_new (FALSE, FALSE, sizeof (guint));
  daemon->output = g_string_new (NULL);
  daemon->cancellable = g_cancellable_new ();
  daemon->stream = g_object_ref (g_subprocess_get_stdout_pipe (daemon->process));
  read_output (daemon);
  return daemon;
}

static gboolean
array_has (GArray *ports,
           guint   port)
{
  guint i;

  for (i = 0; i < ports->len; i++)
    if (g_array_index (ports, guint, i) == port)
      return TRUE;
  return FALSE;
}

/**
 * pm_test_daemon_spawn_on_ports:
 * @listing_port: the listing port to ask for
 * @ports: (element-type guint): the device ports to ask for; none leaves
 *   out --ports
 * @extra_args: (nullable) (array zero-terminated=1): more arguments
 * @environment: (nullable) (array zero-terminated=1): as for
 *   pm_test_daemon_spawn()
 *
 * Starts the daemon with --listing-port and --ports set to these ports,
 * and records them in the result; it does not wait for the daemon.
 *
 * Returns: (transfer full): the daemon
 */
PmTestDaemon *
pm_test_daemon_spawn_on_ports (guint              listing_port,
                               GArray            *ports,
                               const char *const *extra_args,
                               const char *const *environment)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  PmTestDaemon *daemon;
  guint i;

  g_ptr_array_add (args, g_strdup ("--listing-port"));
  g_ptr_array_add (args, g_strdup_printf ("%u", listing_port));
  if (ports->len > 0)
    {
      GString *list = g_string_new (NULL);

      for (i = 0; i < ports->len; i++)
        g_string_append_printf (list, "%s%u", i > 0 ? "," : "", g_array_index (ports, guint, i));
      g_ptr_array_add (args, g_strdup ("--ports"));
      g_ptr_array_add (args, g_string_free (list, FALSE));
    }
  for (i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (extra_args[i]));
  g_ptr_array_add (args, NULL);

  daemon = pm_test_daemon_spawn ((const char *const *) args->pdata, environment);
  daemon->listing_port = listing_port;
  g_array_append_vals (daemon->ports, ports->data, ports->len);
  return daemon;
}

/**
 * pm_test_daemon_start:
 * @n_devices: how many devices, on free ports
 * @extra_args: (nullable) (array zero-terminated=1): more arguments
 * @environment: (nullable) (array zero-terminated=1): as for
 *   pm_test_daemon_spawn()
 *
 * Starts the daemon with a listing port and @n_devices device ports that
 * were free, and waits until it reports the listing server started.
 *
 * Returns: (transfer full): the daemon
 */
PmTestDaemon *
pm_test_daemon_start (guint               n_devices,
                      const char *const  *extra_args,
                      const char *const  *environment)
{
  g_autoptr(GArray) port_list = g_array_new (FALSE, FALSE, sizeof (guint));
  guint listing_port = pm_test_free_port ();
  PmTestDaemon *daemon;
  guint i;

  for (i = 0; i < n_devices; i++)
    {
      guint port;

      do
        port = pm_test_free_port ();
      while (port == listing_port || array_has (port_list, port));
      g_array_append_val (port_list, port);
    }

  daemon = pm_test_daemon_spawn_on_ports (listing_port, port_list, extra_args, environment);
  if (!pm_test_daemon_output_contains (daemon, "Listing server on", PM_TEST_TIMEOUT_MS))
    g_error ("The daemon did not start; it said:\n%s", daemon->output->str);
  return daemon;
}

typedef struct
{
  PmTestDaemon *daemon;
  const char   *text;
} OutputWait;

static gboolean
output_has (gpointer user_data)
{
  OutputWait *wait = user_data;

  return strstr (wait->daemon->output->str, wait->text) != NULL ||
         wait->daemon->output_closed;
}

/**
 * pm_test_daemon_output_contains:
 * @daemon: a daemon
 * @text: what to look for
 * @timeout_ms: how long to wait for it
 *
 * Returns: whether the daemon has written @text
 */
gboolean
pm_test_daemon_output_contains (PmTestDaemon *daemon,
                                const char   *text,
                                guint         timeout_ms)
{
  OutputWait wait = { daemon, text };

  pm_test_wait_until (output_has, &wait, timeout_ms);
  return strstr (daemon->output->str, text) != NULL;
}

typedef struct
{
  gboolean done;
} ExitWait;

static void
on_exited (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  ExitWait *wait = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  wait->done = TRUE;
}

/**
 * pm_test_daemon_wait:
 * @daemon: a daemon
 *
 * Waits for the daemon to exit; fails the test if it does not in time.
 *
 * Returns: its exit status, or 128 + the signal that killed it
 */
int
pm_test_daemon_wait (PmTestDaemon *daemon)
{
  ExitWait wait = { FALSE };

  g_subprocess_wait_async (daemon->process, NULL, on_exited, &wait);
  if (!pm_test_wait_until (is_true, &wait.done, PM_TEST_TIMEOUT_MS))
    {
      g_subprocess_force_exit (daemon->process);
      g_error ("The daemon did not exit; it said:\n%s", daemon->output->str);
    }
  /* Collect what it wrote last. */
  pm_test_wait_until (is_true, &daemon->output_closed, PM_TEST_TIMEOUT_MS);

  if (g_subprocess_get_if_exited (daemon->process))
    return g_subprocess_get_exit_status (daemon->process);
  return 128 + g_subprocess_get_term_sig (daemon->process);
}

/**
 * pm_test_daemon_stop:
 * @daemon: a running daemon
 *
 * Sends SIGTERM and waits for the daemon to exit.
 *
 * Returns: its exit status
 */
int
pm_test_daemon_stop (PmTestDaemon *daemon)
{
  g_subprocess_send_signal (daemon->process, SIGTERM);
  return pm_test_daemon_wait (daemon);
}

void
pm_test_daemon_free (PmTestDaemon *daemon)
{
  if (daemon == NULL)
    return;
  if (g_subprocess_get_identifier (daemon->process) != NULL)
    {
      g_subprocess_force_exit (daemon->process);
      g_subprocess_wait (daemon->process, NULL, NULL);
    }
  g_cancellable_cancel (daemon->cancellable);
  g_clear_object (&daemon->cancellable);
  g_clear_object (&daemon->stream);
  g_clear_object (&daemon->process);
  g_array_unref (daemon->ports);
  g_string_free (daemon->output, TRUE);
  g_free (daemon);
}

/**
 * pm_test_daemon_count_fds:
 * @daemon: a running daemon
 *
 * Returns: how many file descriptors it has open
 */
guint
pm_test_daemon_count_fds (PmTestDaemon *daemon)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/fd",
                                           g_subprocess_get_identifier (daemon->process));
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/**
 * pm_test_daemon_url:
 * @daemon: a daemon
 * @port: one of its ports
 * @path: a path
 *
 * Returns: (transfer full): `http://127.0.0.1:<port><path>`
 */
char *
pm_test_daemon_url (PmTestDaemon *daemon,
                    guint         port,
                    const char   *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
}

/* ---- a private session bus ------------------------------------------------- */

/* GTestDBus (GLib 2.74) relies on a watcher process to kill its
 * dbus-daemon should the test die, which does not always work: the watcher
 * learns of each daemon through a pipe whose write end every later
 * dbus-daemon inherits (it is not close-on-exec), so it never sees the test
 * die; and it may hold the newest daemon's pid unread when it does.  A bus
 * left running keeps meson's pipes open, and a failed test then hangs
 * until meson's time-out instead of failing.  So the helpers below make
 * this process's descriptors close-on-exec once the watcher exists, and
 * kill the bus themselves when an assertion fails. */
static volatile sig_atomic_t bus_pid;

static void
on_fatal_signal (int signum)
{
  if (bus_pid > 0)
    kill (bus_pid, SIGTERM);
  signal (signum, SIG_DFL);
  raise (signum);
}

static void
set_fds_cloexec (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      int fd = atoi (name);
      int flags = fd > 2 ? fcntl (fd, F_GETFD) : -1;

      if (flags >= 0 && !(flags & FD_CLOEXEC))
        fcntl (fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

/* Returns: the live dbus-daemon this process started, or 0 */
static pid_t
find_bus_pid (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;
  pid_t found = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", name, "stat", NULL);
      g_autofree char *stat = NULL;
      const char *end;
      char state;
      int ppid;

      /* "PID (COMM) STATE PPID ..." */
      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      end = strrchr (stat, ')');
      if (end != NULL && strstr (stat, " (dbus-daemon) ") != NULL &&
          sscanf (end + 1, " %c %d", &state, &ppid) == 2 &&
          ppid == getpid () && state != 'Z')
        found = atoi (name);
    }
  return found;
}

static GTestDBus *
bus_up (const char *services)
{
  static gsize handlers_installed = 0;
  g_autoptr(GTestDBus) bus = g_test_dbus_new (G_TEST_DBUS_NONE);

  g_assert_cmpint (bus_pid, ==, 0);
  if (g_once_init_enter (&handlers_installed))
    {
      signal (SIGABRT, on_fatal_signal);
      signal (SIGTRAP, on_fatal_signal);
      signal (SIGSEGV, on_fatal_signal);
      g_once_init_leave (&handlers_installed, 1);
    }
  if (services != NULL)
    g_test_dbus_add_service_dir (bus, services);
  g_test_dbus_up (bus);

  set_fds_cloexec ();
  bus_pid = find_bus_pid ();
  g_assert_cmpint (bus_pid, >, 0);
  return g_steal_pointer (&bus);
}

/**
 * pm_test_bus_up:
 * @ports: (nullable): PORTS for the daemon, or %NULL for one free port
 *
 * Starts a private session bus (#GTestDBus) on which org.pluto.Mock1 is
 * the build-tree daemon, started by bus activation on the first call.
 * The daemon inherits this process's environment: its listing server
 * takes any free port (LISTING_PORT=0; read ListingPort) and its devices
 * are @ports.  Should the test die, the bus dies with it.
 *
 * Returns: (transfer full): the bus, up; give it to pm_test_bus_down()
 *   after dropping every proxy and connection
 */
GTestDBus *
pm_test_bus_up (const char *ports)
{
  g_autofree char *free_ports = NULL;
  const char *services = g_getenv ("PM_TEST_SERVICES_DIR");

  g_assert_nonnull (services);
  if (ports == NULL)
    ports = free_ports = g_strdup_printf ("%u", pm_test_free_port ());

  g_setenv ("LISTING_PORT", "0", TRUE);
  g_setenv ("PORTS", ports, TRUE);
  g_unsetenv ("LOGS_PUB_ENABLED");
  g_unsetenv ("PROFILE");
  g_unsetenv ("TELEMETRY");
  g_unsetenv ("NETWORK_GATE");
  return bus_up (services);
}

/**
 * pm_test_bus_up_without_service:
 *
 * Returns: (transfer full): a private session bus, up, on which nothing
 *   can be activated; give it to pm_test_bus_down()
 */
GTestDBus *
pm_test_bus_up_without_service (void)
{
  return bus_up (NULL);
}

/**
 * pm_test_bus_down:
 * @bus: (transfer full): a bus from pm_test_bus_up()
 *
 * Stops the bus (and so the daemon on it) and frees it.
 */
void
pm_test_bus_down (GTestDBus *bus)
{
  g_test_dbus_down (bus);
  bus_pid = 0;
  g_object_unref (bus);
}

PmDevice *
pm_test_device_new (PmAcceptor *acceptor,
                    guint       port,
                    const char *hostname,
                    const char *profile,
                    const char *firmware,
                    gboolean    logs_enabled,
                    guint64     seed)
{
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(PmDeviceSpec) spec = NULL;

  config->logs_enabled = logs_enabled;
  spec = pm_device_spec_new (port, hostname,
                             profile != NULL ? pm_profile_lookup (profile) : NULL, firmware);
  g_assert (profile == NULL || spec->profile != NULL);
  return pm_device_new (acceptor, spec, config, seed);
}

PmDevice *
pm_test_add_device (PmManager  *manager,
                    guint       port,
                    const char *hostname,
                    const char *profile,
                    const char *firmware,
                    GError    **error)
{
  g_autoptr(PmDeviceSpec) spec = NULL;

  spec = pm_device_spec_new (port, hostname,
                             profile != NULL ? pm_profile_lookup (profile) : NULL, firmware);
  g_assert (profile == NULL || spec->profile != NULL);
  return pm_manager_add_device (manager, spec, error);
}
