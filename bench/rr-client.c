/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "rr-client"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

/*
 * A load generator for many ports: GET requests spread round-robin over
 * the ports FIRST .. FIRST+N-1 of one host, CONNECTIONS of them in flight
 * at a time, at most one connection per port, reused for the next
 * request to that port as long as the server keeps it alive (a reply
 * with `Connection: close` makes it connect again next time).  Prints
 * key=value lines: requests, requests/s, connects, errors.
 *
 *     rr-client --first-port 19001 --ports 10000 [--path /api/system/info]
 *               [--host 127.0.0.1] [--connections 50] [--duration 10]
 */

#define READ_CHUNK 65536
#define HEAD_MAX 16384

typedef enum
{
  CONN_IDLE,
  CONN_CONNECTING,
  CONN_SENDING,
  CONN_READING,
} ConnState;

typedef struct
{
  int       fd;        /* -1 when not connected */
  guint16   port;
  ConnState state;
  gboolean  reused;    /* the request went out on a kept connection */
  char      request[256];
  gsize     request_len;
  gsize     sent;
  char      head[HEAD_MAX];
  gsize     head_len;
  gboolean  head_done;
  gint64    content_length;
  gint64    body_seen;
  gboolean  close_after;
  gint64    start_ns;
} Conn;

static int epoll_fd;
static Conn *conns;
static guint n_ports;
static guint next_port;
static struct sockaddr_in server_address;
static const char *path = "/api/system/info";
static const char *host = "127.0.0.1";

static guint64 n_requests, n_connects, n_errors, n_non2xx, n_bytes, n_retries;
static gint64 latency_ns_total;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static void
conn_close (Conn *conn)
{
  if (conn->fd >= 0)
    {
      epoll_ctl (epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
      close (conn->fd);
    }
  conn->fd = -1;
}

static void
conn_watch (Conn    *conn,
            guint32  events,
            int      op)
{
  struct epoll_event event = { .events = events, .data.ptr = conn };

  if (epoll_ctl (epoll_fd, op, conn->fd, &event) < 0)
    g_error ("epoll_ctl: %s", g_strerror (errno));
}

static gboolean conn_send (Conn *conn);

/* Starts a request on @conn: connects first if it has no connection. */
static gboolean
conn_start (Conn *conn)
{
  conn->head_len = 0;
  conn->head_done = FALSE;
  conn->content_length = -1;
  conn->body_seen = 0;
  conn->close_after = FALSE;
  conn->sent = 0;
  conn->start_ns = now_ns ();
  conn->reused = conn->fd >= 0;

  if (conn->fd < 0)
    {
      struct sockaddr_in address = server_address;
      int one = 1;

      conn->fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (conn->fd < 0)
        g_error ("socket: %s (raise ulimit -n)", g_strerror (errno));
      setsockopt (conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      address.sin_port = htons (conn->port);
      n_connects++;
      if (connect (conn->fd, (struct sockaddr *) &address, sizeof address) < 0 && errno != EINPROGRESS)
        {
          conn_close (conn);
          return FALSE;
        }
      conn->state = CONN_CONNECTING;
      conn_watch (conn, EPOLLOUT, EPOLL_CTL_ADD);
      return TRUE;
    }
  conn->state = CONN_SENDING;
  conn_watch (conn, EPOLLOUT, EPOLL_CTL_MOD);
  return conn_send (conn);
}

/* The next port in turn that has no request in flight. */
static void
start_next (void)
{
  guint tries;

  for (tries = 0; tries < n_ports; tries++)
    {
      Conn *conn = &conns[next_port];

      next_port = (next_port + 1) % n_ports;
      if (conn->state != CONN_IDLE)
        continue;
      if (conn_start (conn))
        return;
      n_errors++;
      conn->state = CONN_IDLE;
    }
}

static gboolean
conn_send (Conn *conn)
{
  while (conn->sent < conn->request_len)
    {
      ssize_t n = send (conn->fd, conn->request + conn->sent, conn->request_len - conn->sent, MSG_NOSIGNAL);

      if (n < 0)
        return errno == EAGAIN;
      conn->sent += n;
    }
  conn->state = CONN_READING;
  conn_watch (conn, EPOLLIN, EPOLL_CTL_MOD);
  return TRUE;
}

/* Parses the head once it is complete; returns FALSE if it is not HTTP. */
static gboolean
parse_head (Conn *conn,
            gsize end)
{
  g_autofree char *head = g_strndup (conn->head, end);
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);
  guint i;
  int status;

  if (lines[0] == NULL || sscanf (lines[0], "HTTP/1.%*d %d", &status) != 1)
    return FALSE;
  if (status < 200 || status > 399)
    n_non2xx++;
  for (i = 1; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');

      if (colon == NULL)
        continue;
      *colon = '\0';
      g_strstrip (colon + 1);
      if (g_ascii_strcasecmp (lines[i], "Content-Length") == 0)
        conn->content_length = g_ascii_strtoll (colon + 1, NULL, 10);
      else if (g_ascii_strcasecmp (lines[i], "Connection") == 0 &&
               g_ascii_strcasecmp (colon + 1, "close") == 0)
        conn->close_after = TRUE;
    }
  /* An HTTP/1.0 reply closes unless it says otherwise. */
  if (g_str_has_prefix (lines[0], "HTTP/1.0"))
    conn->close_after = TRUE;
  return TRUE;
}

static void
conn_done (Conn    *conn,
           gboolean ok)
{
  if (ok)
    {
      n_requests++;
      latency_ns_total += now_ns () - conn->start_ns;
    }
  else
    {
      n_errors++;
    }
  if (!ok || conn->close_after)
    conn_close (conn);
  else
    conn_watch (conn, EPOLLIN, EPOLL_CTL_MOD);  /* to see the server close it while idle */
  conn->state = CONN_IDLE;
  start_next ();
}

static void
conn_read (Conn *conn)
{
  static char buf[READ_CHUNK];

  for (;;)
    {
      ssize_t n = recv (conn->fd, buf, sizeof buf, 0);
      char *data = buf;

      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          gboolean nothing = !conn->head_done && conn->head_len == 0;

          if (conn->head_done && conn->content_length < 0)
            {
              conn->close_after = TRUE;
              conn_done (conn, TRUE);   /* a body up to the end of the connection */
            }
          else if (nothing && conn->reused)
            {
              /* The server closed a kept connection just as the request
               * went out: ask again on a new one. */
              n_retries++;
              conn_close (conn);
              if (!conn_start (conn))
                conn_done (conn, FALSE);
            }
          else
            {
              conn_done (conn, FALSE);
            }
          return;
        }
      n_bytes += n;

      if (!conn->head_done)
        {
          gsize take = MIN ((gsize) n, HEAD_MAX - conn->head_len);
          char *end;

          memcpy (conn->head + conn->head_len, data, take);
          conn->head_len += take;
          end = g_strstr_len (conn->head, conn->head_len, "\r\n\r\n");
          if (end == NULL)
            {
              if (conn->head_len == HEAD_MAX)
                {
                  conn_done (conn, FALSE);
                  return;
                }
              continue;
            }
          if (!parse_head (conn, end - conn->head))
            {
              conn_done (conn, FALSE);
              return;
            }
          conn->head_done = TRUE;
          /* What came after the head is body. */
          conn->body_seen = (gint64) (conn->head_len - (end + 4 - conn->head)) + (gint64) (n - take);
        }
      else
        {
          conn->body_seen += n;
        }
      if (conn->content_length >= 0 && conn->body_seen >= conn->content_length)
        {
          conn_done (conn, conn->body_seen == conn->content_length);
          return;
        }
    }
}

static void
on_event (Conn    *conn,
          guint32  events)
{
  switch (conn->state)
    {
    case CONN_IDLE:
      /* An idle kept connection: the server closed it (or sent junk). */
      conn_close (conn);
      break;
    case CONN_CONNECTING:
      {
        int error = 0;
        socklen_t len = sizeof error;

        getsockopt (conn->fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0)
          {
            conn_done (conn, FALSE);
            break;
          }
        conn->state = CONN_SENDING;
        if (!conn_send (conn))
          conn_done (conn, FALSE);
      }
      break;
    case CONN_SENDING:
      if (!conn_send (conn))
        conn_done (conn, FALSE);
      break;
    case CONN_READING:
      conn_read (conn);
      break;
    default:
      g_assert_not_reached ();
    }
}

int
main (int   argc,
      char *argv[])
{
  int first_port = 0, ports = 1, connections = 50;
  double duration = 10;
  const GOptionEntry entries[] = {
    { "host", 'h', 0, G_OPTION_ARG_STRING, &host, "IPv4 address of the server", "ADDRESS" },
    { "first-port", 'f', 0, G_OPTION_ARG_INT, &first_port, "First port", "PORT" },
    { "ports", 'n', 0, G_OPTION_ARG_INT, &ports, "How many ports from the first", "N" },
    { "path", 'p', 0, G_OPTION_ARG_STRING, &path, "Path to GET", "PATH" },
    { "connections", 'c', 0, G_OPTION_ARG_INT, &connections, "Requests in flight", "N" },
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Seconds to run", "SECONDS" },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- GET requests round-robin over many ports");
  g_autoptr(GError) error = NULL;
  struct rlimit limit;
  struct epoll_event events[256];
  gint64 t0, deadline, elapsed;
  guint i, in_flight;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || first_port <= 0 || ports <= 0 ||
      first_port + ports - 1 > 65535 || connections <= 0 || duration <= 0)
    {
      fprintf (stderr, "rr-client: %s\n", error != NULL ? error->message : "bad arguments (see --help)");
      return 2;
    }
  memset (&server_address, 0, sizeof server_address);
  server_address.sin_family = AF_INET;
  if (inet_pton (AF_INET, host, &server_address.sin_addr) != 1)
    {
      fprintf (stderr, "rr-client: not an IPv4 address: %s\n", host);
      return 2;
    }

  /* One descriptor per port: use all the process may have. */
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      setrlimit (RLIMIT_NOFILE, &limit);
    }

  n_ports = (guint) ports;
  conns = g_new0 (Conn, n_ports);
  for (i = 0; i < n_ports; i++)
    {
      conns[i].fd = -1;
      conns[i].port = (guint16) (first_port + i);
      conns[i].request_len = g_snprintf (conns[i].request, sizeof conns[i].request,
                                         "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: rr-client\r\n\r\n",
                                         path, host, conns[i].port);
      if (conns[i].request_len >= sizeof conns[i].request)
        {
          fprintf (stderr, "rr-client: the path is too long\n");
          return 2;
        }
    }
  epoll_fd = epoll_create1 (EPOLL_CLOEXEC);

  t0 = now_ns ();
  deadline = t0 + (gint64) (duration * 1e9);
  in_flight = MIN ((guint) connections, n_ports);
  for (i = 0; i < in_flight; i++)
    start_next ();

  while (now_ns () < deadline)
    {
      int n = epoll_wait (epoll_fd, events, G_N_ELEMENTS (events), 100);
      int k;

      if (n < 0 && errno != EINTR)
        g_error ("epoll_wait: %s", g_strerror (errno));
      for (k = 0; k < n; k++)
        on_event (events[k].data.ptr, events[k].events);
    }
  elapsed = now_ns () - t0;

  printf ("requests=%" G_GUINT64_FORMAT "\n", n_requests);
  printf ("seconds=%.3f\n", elapsed / 1e9);
  printf ("requests_per_s=%.0f\n", n_requests / (elapsed / 1e9));
  printf ("avg_latency_ms=%.3f\n", n_requests > 0 ? latency_ns_total / 1e6 / n_requests : 0.0);
  printf ("connects=%" G_GUINT64_FORMAT "\n", n_connects);
  printf ("requests_per_connect=%.1f\n", n_connects > 0 ? (double) n_requests / n_connects : 0.0);
  printf ("retries=%" G_GUINT64_FORMAT "\n", n_retries);
  printf ("errors=%" G_GUINT64_FORMAT "\n", n_errors);
  printf ("non2xx=%" G_GUINT64_FORMAT "\n", n_non2xx);
  printf ("bytes=%" G_GUINT64_FORMAT "\n", n_bytes);
  printf ("ports=%u\nin_flight=%u\n", n_ports, in_flight);
  return n_requests > 0 ? 0 : 1;
}
