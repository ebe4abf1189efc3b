/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "floor"

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <libsoup/soup.h>

/*
 * The floor: the least a SoupServer costs per reply.  One bare SoupServer
 * on 127.0.0.1 answers every GET with the same bytes, with nothing
 * computed, on a listening socket of its own (backlog 1024), so the
 * server keeps connections alive unless told to close them.  Compare the
 * daemon's CPU per request with this one's for the same body.
 *
 *     floor --port PORT (--body FILE | --size BYTES) [--close]
 *
 * --close adds `Connection: close` to every reply, as plutomock does
 * while it does not keep connections alive.  Prints "listening on PORT"
 * once it listens; stops on SIGTERM or SIGINT.
 */

#define LISTEN_BACKLOG 1024

static GBytes *body;
static gboolean close_connections;

static void
on_request (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_message_headers_replace (headers, "Access-Control-Allow-Origin", "*");
  if (close_connections)
    soup_message_headers_replace (headers, "Connection", "close");
  soup_message_headers_set_content_type (headers, "application/json", NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), body);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static GSocket *
listen_on (guint16  port,
           GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  if (!g_socket_bind (socket, address, TRUE, error))
    return NULL;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

int
main (int   argc,
      char *argv[])
{
  int port = 0;
  gint64 size = -1;
  g_autofree char *body_file = NULL;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (0: any)", "PORT" },
    { "body", 'b', 0, G_OPTION_ARG_FILENAME, &body_file, "Answer with the bytes of FILE", "FILE" },
    { "size", 's', 0, G_OPTION_ARG_INT64, &size, "Answer with BYTES bytes of JSON", "BYTES" },
    { "close", 'c', 0, G_OPTION_ARG_NONE, &close_connections, "Close every connection after its reply", NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- a bare SoupServer answering fixed bytes");
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || port < 0 || port > 65535 ||
      (body_file == NULL) == (size < 0))
    {
      fprintf (stderr, "floor: %s\n", error != NULL ? error->message
                                                  : "give --body FILE or --size BYTES, and a port 0-65535");
      return 2;
    }

  if (body_file != NULL)
    {
      char *contents;
      gsize length;

      if (!g_file_get_contents (body_file, &contents, &length, &error))
        {
          fprintf (stderr, "floor: %s\n", error->message);
          return 1;
        }
      body = g_bytes_new_take (contents, length);
    }
  else
    {
      /* A JSON string of that many bytes: quotes around 'x's. */
      char *contents = g_malloc (MAX (size, 2));

      memset (contents, 'x', MAX (size, 2));
      contents[0] = '"';
      contents[MAX (size, 2) - 1] = '"';
      body = g_bytes_new_take (contents, MAX (size, 2));
    }

  server = soup_server_new ("server-header", "floor ", NULL);
  soup_server_add_handler (server, NULL, on_request, NULL, NULL);
  socket = listen_on ((guint16) port, &error);
  if (socket == NULL || !soup_server_listen_socket (server, socket, 0, &error))
    {
      fprintf (stderr, "floor: cannot listen on 127.0.0.1:%d: %s\n", port, error->message);
      return 1;
    }
  local = g_socket_get_local_address (socket, NULL);
  printf ("listening on %u\n", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);

  soup_server_disconnect (server);
  g_bytes_unref (body);
  return 0;
}
