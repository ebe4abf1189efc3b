/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-http"

#include "config.h"

#include <string.h>
#include <time.h>

#include "pm-conn-stream.h"
#include "pm-http.h"
#include "pm-json-writer.h"
#include "pm-quote.h"

#define BODY_KEY "pm-http-body"

typedef struct
{
  GByteArray *data;  /* (owned) */
  gsize       limit;
  gboolean    over;
} BodyCollector;

static void
body_collector_free (BodyCollector *collector)
{
  g_byte_array_unref (collector->data);
  g_free (collector);
}

/* Replies without the request body.  libsoup 3.2.3 reads a body before
 * it answers anyway, unless the client asked for `100 Continue`: then the
 * body has not come, and the connection cannot carry another request,
 * since that body would come first. */
static void
refuse_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  g_autoptr(PmConnStream) stream = NULL;

  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  /* Most requests have no body: nothing can be left unread. */
  if (soup_message_headers_get_encoding (request) == SOUP_ENCODING_NONE ||
      (soup_message_headers_get_encoding (request) == SOUP_ENCODING_CONTENT_LENGTH &&
       soup_message_headers_get_content_length (request) == 0))
    return;
  stream = pm_conn_stream_dup_for_message (msg);
  if (stream != NULL && pm_conn_stream_get_keep_alive (stream) &&
      !pm_conn_stream_get_request_read (stream))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Connection", "close");
}

/**
 * pm_http_set_response:
 * @msg: the message
 * @content_type: the body's content type
 * @use: how @body is held, as soup_server_message_set_response() takes it
 * @body: the body
 * @length: its length
 *
 * Sets the response body, replacing whatever an earlier reply set:
 * soup_server_message_set_response() appends to it, so a second reply
 * (a handler answering after an early refusal, say) would send two
 * documents glued together.
 */
void
pm_http_set_response (SoupServerMessage *msg,
                      const char        *content_type,
                      SoupMemoryUse      use,
                      const char        *body,
                      gsize              length)
{
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_response (msg, content_type, use, body, length);
}

/**
 * pm_http_reply_json:
 * @msg: the message
 * @status: the HTTP status
 * @json: (transfer full): the JSON text of the body
 */
void
pm_http_reply_json (SoupServerMessage *msg,
                    guint              status,
                    char              *json)
{
  refuse_body (msg);
  soup_server_message_set_status (msg, status, NULL);
  pm_http_set_response (msg, "application/json", SOUP_MEMORY_TAKE, json, strlen (json));
}

/**
 * pm_http_reply_error:
 * @msg: the message
 * @status: the HTTP status
 * @format: printf() format of what was wrong
 *
 * Answers with `{"error":"<what was wrong>"}`.
 */
void
pm_http_reply_error (SoupServerMessage *msg,
                     guint              status,
                     const char        *format,
                     ...)
{
  g_autofree char *text = NULL;
  GString *out = g_string_sized_new (128);
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_string_append (out, "{\"error\":");
  pm_json_append_string (out, text);
  g_string_append_c (out, '}');
  pm_http_reply_json (msg, status, g_string_free (out, FALSE));
}

/**
 * pm_http_reply_static:
 * @msg: the message
 * @status: the HTTP status
 * @content_type: the body's content type
 * @body: (transfer none): a body that outlives the message
 */
void
pm_http_reply_static (SoupServerMessage *msg,
                      guint              status,
                      const char        *content_type,
                      const char        *body)
{
  refuse_body (msg);
  soup_server_message_set_status (msg, status, NULL);
  pm_http_set_response (msg, content_type, SOUP_MEMORY_STATIC, body, strlen (body));
}

static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              gpointer           user_data)
{
  BodyCollector *collector = user_data;
  gsize size = g_bytes_get_size (chunk);

  if (collector->over)
    return;
  if (collector->data->len + size > collector->limit)
    {
      collector->over = TRUE;
      g_byte_array_set_size (collector->data, 0);
      pm_http_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                           "request body is over the limit of %" G_GSIZE_FORMAT " bytes",
                           collector->limit);
      return;
    }
  g_byte_array_append (collector->data, g_bytes_get_data (chunk, NULL), size);
}

/* The reason phrase of @status; libsoup 3.2 does not know 431. */
static const char *
status_phrase (guint status)
{
  if (status == 431)
    return "Request Header Fields Too Large";
  return soup_status_get_phrase (status);
}

/**
 * pm_http_format_raw_error:
 * @status: an HTTP status
 * @problem: what was wrong
 *
 * Formats a whole HTTP/1.1 response, headers and `{"error":...}` body,
 * for the rare cases where plutomock writes to a connection itself
 * instead of through libsoup.
 *
 * Returns: (transfer full): the response text
 */
char *
pm_http_format_raw_error (guint       status,
                          const char *problem)
{
  GString *body = g_string_new ("{\"error\":");
  char *reply;

  pm_json_append_string (body, problem);
  g_string_append_c (body, '}');
  reply = g_strdup_printf ("HTTP/1.1 %u %s\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                           "Access-Control-Allow-Origin: *\r\n"
                           "Connection: close\r\n\r\n%s",
                           status, status_phrase (status), body->len, body->str);
  g_string_free (body, TRUE);
  return reply;
}

/* The Date header's value now, as libsoup writes it (RFC 9110's
 * IMF-fixdate), formatted once a second.  Main thread only. */
static const char *
http_date_now (void)
{
  static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
  static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  static gint64 second = -1;
  static char text[40];
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (now != second)
    {
      time_t t = (time_t) now;
      struct tm tm;

      gmtime_r (&t, &tm);
      g_snprintf (text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                  days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
      second = now;
    }
  return text;
}

/**
 * pm_http_answer_ok:
 * @server_header: the `Server` header's value
 * @headers: the header lines the handler sets, each ending in CRLF
 * @content_type: the body's content type
 * @body: the body
 * @length: its bytes
 *
 * Writes a `200 OK` reply with @body for a connection that stays open,
 * byte for byte as libsoup writes the same reply, but for the time in
 * `Date`: `Server`, `Date`, @headers, `Content-Type`, `Content-Length`.
 * For answers given without libsoup (pm_acceptor_set_answer_func()).
 *
 * Returns: (transfer full): the reply
 */
GBytes *
pm_http_answer_ok (const char *server_header,
                   const char *headers,
                   const char *content_type,
                   const char *body,
                   gsize       length)
{
  GString *out = g_string_sized_new (length + 256);

  g_string_append (out, "HTTP/1.1 200 OK\r\nServer: ");
  g_string_append (out, server_header);
  g_string_append (out, "\r\nDate: ");
  g_string_append (out, http_date_now ());
  g_string_append (out, "\r\n");
  g_string_append (out, headers);
  g_string_append (out, "Content-Type: ");
  g_string_append (out, content_type);
  g_string_append (out, "\r\nContent-Length: ");
  pm_json_append_int (out, (gint64) length);
  g_string_append (out, "\r\n\r\n");
  g_string_append_len (out, body, length);
  return g_string_free_to_bytes (out);
}

/* Caps the request body at @limit bytes.  A declared length over the limit
 * is refused at once; a chunked body is collected here, never by libsoup,
 * and refused as soon as it passes the limit.  Either way the body is
 * read and thrown away, never held.  (A malformed Content-Length never
 * gets here: the acceptor's head screen refuses it.) */
gboolean
pm_http_limit_body (SoupServerMessage *msg,
                    gsize              limit)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  BodyCollector *collector;

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_NONE:
      return TRUE;

    case SOUP_ENCODING_CONTENT_LENGTH:
      if ((guint64) soup_message_headers_get_content_length (headers) <= limit)
        return TRUE;
      pm_http_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                           "request body of %" G_GINT64_FORMAT " bytes is over the limit of %" G_GSIZE_FORMAT " bytes",
                           soup_message_headers_get_content_length (headers), limit);
      return FALSE;

    case SOUP_ENCODING_UNRECOGNIZED:
    case SOUP_ENCODING_EOF:
    case SOUP_ENCODING_CHUNKED:
    case SOUP_ENCODING_BYTERANGES:
    default:
      refuse_body (msg);
      collector = g_new0 (BodyCollector, 1);
      collector->data = g_byte_array_new ();
      collector->limit = limit;
      g_object_set_data_full (G_OBJECT (msg), BODY_KEY, collector,
                              (GDestroyNotify) body_collector_free);
      g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), collector);
      return TRUE;
    }
}

/**
 * pm_http_get_body:
 * @msg: a message whose body has been read
 *
 * Returns: (transfer full): the request body
 */
GBytes *
pm_http_get_body (SoupServerMessage *msg)
{
  BodyCollector *collector = g_object_get_data (G_OBJECT (msg), BODY_KEY);

  if (collector != NULL)
    return g_bytes_new (collector->data->data, collector->data->len);
  return soup_message_body_flatten (soup_server_message_get_request_body (msg));
}

/**
 * pm_http_get_body_length:
 * @msg: a message whose body has been read
 *
 * Returns: the length of the request body, without copying it
 */
gsize
pm_http_get_body_length (SoupServerMessage *msg)
{
  BodyCollector *collector = g_object_get_data (G_OBJECT (msg), BODY_KEY);

  if (collector != NULL)
    return collector->data->len;
  return (gsize) soup_server_message_get_request_body (msg)->length;
}

/* Whether @method is one of the comma-separated @methods.  Each listed
 * name is compared whole, so an empty method, or one that is a prefix or
 * a part of a listed name, never matches. */
static gboolean
method_listed (const char *methods,
               const char *method)
{
  gsize len = strlen (method);
  const char *p = methods;

  if (len == 0)
    return FALSE;
  while (*p != '\0')
    {
      const char *end;

      while (*p == ' ' || *p == ',')
        p++;
      for (end = p; *end != '\0' && *end != ',' && *end != ' '; end++)
        ;
      if ((gsize) (end - p) == len && memcmp (p, method, len) == 0)
        return TRUE;
      p = end;
    }
  return FALSE;
}

/**
 * pm_http_prepare_reply:
 * @msg: a message whose headers have arrived
 *
 * Sets the headers every reply carries: `Access-Control-Allow-Origin: *`,
 * as real AxeOS sends, and `Connection: close` unless the acceptor keeps
 * the connection alive for another request (see #PmAcceptor), so that a
 * client knows whether it may send one.
 */
void
pm_http_prepare_reply (SoupServerMessage *msg)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Access-Control-Allow-Origin", "*");
  pm_http_prepare_connection (msg);
}

/**
 * pm_http_prepare_connection:
 * @msg: a message whose headers have arrived
 *
 * Sets `Connection: close` unless the acceptor keeps the connection
 * alive for another request.
 */
void
pm_http_prepare_connection (SoupServerMessage *msg)
{
  g_autoptr(PmConnStream) stream = pm_conn_stream_dup_for_message (msg);

  if (stream == NULL || !pm_conn_stream_get_keep_alive (stream))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Connection", "close");
}

/* What the route answers, OPTIONS included, as an Allow header lists it. */
static char *
route_allow (const PmRoute *route)
{
  return g_strconcat (route->methods, ", OPTIONS", NULL);
}

/**
 * pm_http_route_find:
 * @routes: the server's routes
 * @n_routes: how many
 * @msg: a message
 *
 * Returns: (nullable): the route whose path is exactly the request's
 */
const PmRoute *
pm_http_route_find (const PmRoute     *routes,
                    gsize              n_routes,
                    SoupServerMessage *msg)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  gsize i;

  for (i = 0; i < n_routes; i++)
    if (strcmp (routes[i].path, path) == 0)
      return &routes[i];
  return NULL;
}

/**
 * pm_http_route_check:
 * @routes: the server's routes
 * @n_routes: how many
 * @msg: a message whose headers have arrived
 * @body_limit: the largest request body accepted
 *
 * The checks every request passes before its body is read: the body
 * limit, an exact path (404), an allowed method (405 with `Allow`), and
 * CORS preflight.  Call it from an early handler, after
 * pm_http_prepare_reply().
 *
 * Returns: %TRUE if the request goes on to its handler; otherwise the
 *   reply has been set
 */
gboolean
pm_http_route_check (const PmRoute     *routes,
                     gsize              n_routes,
                     SoupServerMessage *msg,
                     gsize              body_limit)
{
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const PmRoute *route;

  if (!pm_http_limit_body (msg, body_limit))
    return FALSE;

  route = pm_http_route_find (routes, n_routes, msg);
  if (route == NULL)
    {
      /* The path is the client's, decoded: any bytes, up to the length of
       * a request line. */
      g_autofree char *quoted_method = pm_quote (method, -1);
      g_autofree char *quoted_path = pm_quote (g_uri_get_path (soup_server_message_get_uri (msg)), -1);

      pm_http_reply_error (msg, SOUP_STATUS_NOT_FOUND, "no such endpoint: %s %s",
                           quoted_method, quoted_path);
      return FALSE;
    }

  if (strcmp (method, SOUP_METHOD_OPTIONS) == 0)
    {
      g_autofree char *allow = route_allow (route);

      soup_message_headers_replace (response, "Allow", allow);
      soup_message_headers_replace (response, "Access-Control-Allow-Methods", allow);
      soup_message_headers_replace (response, "Access-Control-Allow-Headers", "Content-Type");
      refuse_body (msg);
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      return FALSE;
    }

  if (!method_listed (route->methods, method))
    {
      g_autofree char *allow = route_allow (route);
      g_autofree char *quoted_method = pm_quote (method, -1);

      soup_message_headers_replace (response, "Allow", allow);
      pm_http_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                           "method %s is not allowed on %s (allowed: %s)",
                           quoted_method, route->path, allow);
      return FALSE;
    }

  return TRUE;
}

/**
 * pm_http_dup_url:
 * @bind_address: the address a server is bound to
 * @port: its port
 * @path: what follows the port, e.g. "" or "/servers"
 *
 * A URL one can open from this machine for a server bound to
 * @bind_address: 0.0.0.0 and :: are nobody's address, so for them the
 * loopback address of the same family.
 *
 * Returns: (transfer full): the URL
 */
char *
pm_http_dup_url (const char *bind_address,
                 guint       port,
                 const char *path)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (bind_address);
  const char *host = bind_address;

  if (address != NULL && g_inet_address_get_is_any (address))
    host = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? "::1" : "127.0.0.1";
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("http://[%s]:%u%s", host, port, path);
  return g_strdup_printf ("http://%s:%u%s", host, port, path);
}
