/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-acceptor"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <glib-unix.h>

#include "pm-acceptor.h"
#include "pm-error.h"
#include "pm-http.h"

/**
 * PmAcceptor:
 *
 * Accepts the connections of every listening socket of the process and
 * hands each one to the #SoupServer that owns the socket.
 *
 * libsoup's own listener is not fit for a fleet of long-running servers:
 * its backlog is 10, it stops accepting for good after one failed
 * accept() (such as running out of file descriptors), it leaks a little
 * on every connection, and with thousands of servers the main loop polls
 * thousands of listening sockets on every iteration.  Here one epoll
 * descriptor watches all listening sockets, so the main loop polls one
 * descriptor however many devices there are; sockets are created with a
 * backlog of %PM_LISTEN_BACKLOG; and when the process runs out of
 * descriptors accepting pauses briefly and then resumes.
 *
 * Connections handed over with soup_server_accept_iostream() are closed
 * after each response, which also keeps abandoned keep-alive connections
 * from piling up.  A connection that has not delivered a complete request
 * within #PmAcceptor:request-timeout (a client that connects and stays
 * silent, or dribbles its headers) is shut down, so idle peers cannot hold
 * descriptors for ever.  A WebSocket, once its upgrade request is read,
 * is not affected.  And a peer that stops acknowledging what is sent to it
 * (gone without a word, or never reading) is dropped by the kernel after
 * #PmAcceptor:send-timeout, so a dead log client does not linger for the
 * many minutes TCP would otherwise retry.
 */

/* Connections accepted from one socket per wake-up, so a flood on one
 * device cannot starve the others. */
#define ACCEPT_BATCH 64
/* How long accepting pauses after running out of descriptors. */
#define BACKOFF_MS 100
/* How long a connection may take to deliver its request. */
#define REQUEST_TIMEOUT_MS 30000
/* How long data sent on a connection may go unacknowledged, or the
 * peer's window stay shut, before the kernel drops the connection. */
#define SEND_TIMEOUT_MS 30000
/* Where a connection's Pending entry hangs, on its remote address. */
#define PENDING_KEY "pm-acceptor-pending"

typedef struct
{
  GSocket        *socket;  /* (owned) */
  SoupServer     *server;  /* (owned) */
  GSocketAddress *local;   /* (owned) */
  gulong          request_read_id;
} Listener;

/* A connection whose request has not been read yet.  It hangs on the
 * connection's remote address, which libsoup keeps as long as the
 * connection: the entry goes when the request is read, when the address
 * is freed with the connection, or when its deadline passes. */
typedef struct
{
  GList           link;        /* in PmAcceptor.pending; data is this */
  PmAcceptor     *acceptor;    /* (unowned) */
  GSocketAddress *remote;      /* (unowned) holds this as PENDING_KEY */
  GWeakRef        connection;  /* GSocketConnection */
  gint64          deadline;    /* monotonic */
} Pending;

struct _PmAcceptor
{
  GObject       parent_instance;

  int           epoll_fd;
  GMainContext *context;    /* (owned) */
  GSource      *watch;      /* (owned) (nullable) */
  GSource      *backoff;    /* (owned) (nullable) */
  gboolean      exhausted;  /* ran out of descriptors, not recovered yet */
  GHashTable   *listeners;  /* (owned) fd → (owned) Listener */

  guint         request_timeout_ms;
  guint         send_timeout_ms;
  GQueue        pending;    /* (owned) Pending, oldest first */
  GSource      *sweep;      /* (owned) (nullable) */
};

typedef enum
{
  PROP_REQUEST_TIMEOUT = 1,
  PROP_SEND_TIMEOUT,
} PmAcceptorProperty;

static GParamSpec *props[PROP_SEND_TIMEOUT + 1] = { NULL, };

G_DEFINE_FINAL_TYPE (PmAcceptor, pm_acceptor, G_TYPE_OBJECT)

static void
listener_free (Listener *listener)
{
  g_clear_signal_handler (&listener->request_read_id, listener->server);
  g_clear_object (&listener->socket);
  g_clear_object (&listener->server);
  g_clear_object (&listener->local);
  g_free (listener);
}

static void start_watch (PmAcceptor *self);

static void
pending_free (Pending *pending)
{
  g_queue_unlink (&pending->acceptor->pending, &pending->link);
  g_weak_ref_clear (&pending->connection);
  g_free (pending);
}

/* The connection is gone, and its address with it. */
static void
on_pending_address_gone (gpointer data)
{
  pending_free (data);
}

/* Takes the entry off its address without running the notify. */
static void
pending_detach (Pending *pending)
{
  g_object_steal_data (G_OBJECT (pending->remote), PENDING_KEY);
}

static gboolean
on_sweep (gpointer user_data)
{
  PmAcceptor *self = PM_ACCEPTOR (user_data);
  gint64 now = g_get_monotonic_time ();
  Pending *pending;

  while ((pending = g_queue_peek_head (&self->pending)) != NULL && pending->deadline <= now)
    {
      g_autoptr(GSocketConnection) connection = g_weak_ref_get (&pending->connection);

      pending_detach (pending);
      pending_free (pending);
      if (connection != NULL)
        {
          GSocket *socket = g_socket_connection_get_socket (connection);

          if (!g_socket_is_closed (socket))
            {
              /* No response is under way on it: libsoup has not read a
               * request.  Best effort, the socket does not block. */
              g_autofree char *reply = pm_http_format_raw_error (SOUP_STATUS_REQUEST_TIMEOUT,
                                                                 "the request did not arrive in time");

              g_debug ("Closing a connection that sent no complete request in %u ms",
                       self->request_timeout_ms);
              g_socket_send (socket, reply, strlen (reply), NULL, NULL);
              g_socket_shutdown (socket, TRUE, TRUE, NULL);
            }
        }
    }

  if (g_queue_is_empty (&self->pending))
    {
      g_clear_pointer (&self->sweep, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
watch_request (PmAcceptor        *self,
               GSocketConnection *connection,
               GSocketAddress    *remote)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->link.data = pending;
  pending->acceptor = self;
  pending->remote = remote;
  g_weak_ref_init (&pending->connection, connection);
  pending->deadline = g_get_monotonic_time () + (gint64) self->request_timeout_ms * 1000;
  g_queue_push_tail_link (&self->pending, &pending->link);
  g_object_set_data_full (G_OBJECT (remote), PENDING_KEY, pending, on_pending_address_gone);

  if (self->sweep == NULL)
    {
      self->sweep = g_timeout_source_new (MAX (10, MIN (1000, self->request_timeout_ms / 4)));
      g_source_set_name (self->sweep, "pm-acceptor-sweep");
      g_source_set_callback (self->sweep, on_sweep, self, NULL);
      g_source_attach (self->sweep, self->context);
    }
}

/* A request has been read on some connection of @server: its connection
 * has delivered in time. */
static void
on_request_read (SoupServer        *server,
                 SoupServerMessage *msg,
                 gpointer           user_data)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  Pending *pending;

  if (remote == NULL)
    return;
  pending = g_object_steal_data (G_OBJECT (remote), PENDING_KEY);
  if (pending != NULL)
    pending_free (pending);
}

static gboolean
on_backoff_done (gpointer user_data)
{
  PmAcceptor *self = PM_ACCEPTOR (user_data);

  g_clear_pointer (&self->backoff, g_source_unref);
  g_debug ("Accepting connections again");
  start_watch (self);
  return G_SOURCE_REMOVE;
}

static void
pause_accepting (PmAcceptor *self)
{
  if (self->watch != NULL)
    {
      g_source_destroy (self->watch);
      g_clear_pointer (&self->watch, g_source_unref);
    }
  if (self->backoff != NULL)
    return;

  /* Once an episode; the retries are quiet. */
  if (!self->exhausted)
    g_warning ("Out of file descriptors; pausing accepting connections, retrying every %d ms",
               BACKOFF_MS);
  else
    g_debug ("Still out of file descriptors");
  self->exhausted = TRUE;
  self->backoff = g_timeout_source_new (BACKOFF_MS);
  g_source_set_callback (self->backoff, on_backoff_done, self, NULL);
  g_source_attach (self->backoff, self->context);
}

/* Accepts up to a batch of connections from @listener.  Returns FALSE if
 * the process ran out of descriptors. */
static gboolean
accept_batch (PmAcceptor     *self,
              GSocket        *listener,
              SoupServer     *server,
              GSocketAddress *local)
{
  guint i;

  for (i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = NULL;
      g_autoptr(GSocketConnection) connection = NULL;
      g_autoptr(GSocketAddress) remote = NULL;

      client = g_socket_accept (listener, NULL, &error);
      if (client == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return TRUE;
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
            return FALSE;
          /* The peer gave up before we got to it, or similar: next. */
          g_debug ("accept() failed: %s", error->message);
          continue;
        }

      if (self->exhausted)
        {
          self->exhausted = FALSE;
          g_message ("Accepting connections again");
        }
      remote = g_socket_get_remote_address (client, NULL);
      if (remote == NULL)
        continue;
      g_socket_set_option (client, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
      g_socket_set_option (client, IPPROTO_TCP, TCP_USER_TIMEOUT, (gint) self->send_timeout_ms, NULL);
      connection = g_socket_connection_factory_create_connection (client);
      watch_request (self, connection, remote);
      if (!soup_server_accept_iostream (server, G_IO_STREAM (connection),
                                        local, remote, &error))
        g_debug ("Could not hand over a connection: %s", error->message);
    }

  return TRUE;
}

static gboolean
on_epoll_ready (int          fd,
                GIOCondition condition,
                gpointer     user_data)
{
  PmAcceptor *self = PM_ACCEPTOR (user_data);
  struct epoll_event events[64];
  int n, i;

  n = epoll_wait (self->epoll_fd, events, G_N_ELEMENTS (events), 0);
  if (n < 0)
    {
      if (errno != EINTR)
        g_warning ("epoll_wait() failed: %s", g_strerror (errno));
      return G_SOURCE_CONTINUE;
    }

  g_object_ref (self);
  for (i = 0; i < n; i++)
    {
      Listener *listener = g_hash_table_lookup (self->listeners,
                                                GINT_TO_POINTER (events[i].data.fd));
      g_autoptr(GSocket) socket = NULL;
      g_autoptr(SoupServer) server = NULL;
      g_autoptr(GSocketAddress) local = NULL;

      if (listener == NULL)
        continue;

      /* A handler may unserve the listener while we use it. */
      socket = g_object_ref (listener->socket);
      server = g_object_ref (listener->server);
      local = g_object_ref (listener->local);
      if (!accept_batch (self, socket, server, local))
        {
          pause_accepting (self);
          break;
        }
    }
  g_object_unref (self);

  return G_SOURCE_CONTINUE;
}

static void
start_watch (PmAcceptor *self)
{
  if (self->watch != NULL)
    return;
  self->watch = g_unix_fd_source_new (self->epoll_fd, G_IO_IN);
  g_source_set_callback (self->watch, (GSourceFunc) (void (*) (void)) on_epoll_ready, self, NULL);
  g_source_attach (self->watch, self->context);
}

static void
pm_acceptor_dispose (GObject *object)
{
  PmAcceptor *self = PM_ACCEPTOR (object);

  if (self->watch != NULL)
    {
      g_source_destroy (self->watch);
      g_clear_pointer (&self->watch, g_source_unref);
    }
  if (self->backoff != NULL)
    {
      g_source_destroy (self->backoff);
      g_clear_pointer (&self->backoff, g_source_unref);
    }
  if (self->sweep != NULL)
    {
      g_source_destroy (self->sweep);
      g_clear_pointer (&self->sweep, g_source_unref);
    }
  while (!g_queue_is_empty (&self->pending))
    {
      Pending *pending = g_queue_peek_head (&self->pending);

      pending_detach (pending);
      pending_free (pending);
    }
  if (self->listeners != NULL)
    g_hash_table_remove_all (self->listeners);

  G_OBJECT_CLASS (pm_acceptor_parent_class)->dispose (object);
}

static void
pm_acceptor_finalize (GObject *object)
{
  PmAcceptor *self = PM_ACCEPTOR (object);

  g_clear_pointer (&self->listeners, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  if (self->epoll_fd >= 0)
    close (self->epoll_fd);

  G_OBJECT_CLASS (pm_acceptor_parent_class)->finalize (object);
}

static void
pm_acceptor_get_property (GObject    *object,
                          guint       property_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  PmAcceptor *self = PM_ACCEPTOR (object);

  switch ((PmAcceptorProperty) property_id)
    {
    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, self->request_timeout_ms);
      break;
    case PROP_SEND_TIMEOUT:
      g_value_set_uint (value, self->send_timeout_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_acceptor_set_property (GObject      *object,
                          guint         property_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  PmAcceptor *self = PM_ACCEPTOR (object);

  switch ((PmAcceptorProperty) property_id)
    {
    case PROP_REQUEST_TIMEOUT:
      self->request_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_SEND_TIMEOUT:
      self->send_timeout_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, property_id, pspec);
    }
}

static void
pm_acceptor_class_init (PmAcceptorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pm_acceptor_dispose;
  object_class->finalize = pm_acceptor_finalize;
  object_class->get_property = pm_acceptor_get_property;
  object_class->set_property = pm_acceptor_set_property;

  /**
   * PmAcceptor:request-timeout:
   *
   * How long, in milliseconds, a connection may take to deliver a
   * complete request before it is shut down.  For tests; the daemon
   * uses 30 s.
   */
  props[PROP_REQUEST_TIMEOUT] =
    g_param_spec_uint ("request-timeout", NULL, NULL, 1, G_MAXUINT, REQUEST_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * PmAcceptor:send-timeout:
   *
   * How long, in milliseconds, data sent on a connection may go
   * unacknowledged (TCP_USER_TIMEOUT) before the connection is dropped.
   * For tests; the daemon uses 30 s.
   */
  props[PROP_SEND_TIMEOUT] =
    g_param_spec_uint ("send-timeout", NULL, NULL, 1, G_MAXINT, SEND_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, G_N_ELEMENTS (props), props);
}

static void
pm_acceptor_init (PmAcceptor *self)
{
  self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epoll_fd < 0)
    g_error ("epoll_create1() failed: %s", g_strerror (errno));
  self->context = g_main_context_ref_thread_default ();
  self->listeners = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) listener_free);
  self->request_timeout_ms = REQUEST_TIMEOUT_MS;
  self->send_timeout_ms = SEND_TIMEOUT_MS;
  g_queue_init (&self->pending);
  start_watch (self);
}

/**
 * pm_acceptor_new:
 *
 * Creates an acceptor that works in the thread-default main context.
 *
 * Returns: (transfer full): a new #PmAcceptor
 */
PmAcceptor *
pm_acceptor_new (void)
{
  return g_object_new (PM_TYPE_ACCEPTOR, NULL);
}

/**
 * pm_acceptor_bind:
 * @address: an IPv4 or IPv6 address literal
 * @port: the port, or 0 to let the kernel pick one
 * @error: return location for a #GError
 *
 * Creates a non-blocking TCP socket bound to @address and @port, listening
 * with a backlog of %PM_LISTEN_BACKLOG.  A port taken by another socket
 * gives %PM_ERROR_PORT_IN_USE.
 *
 * Returns: (transfer full): the listening socket, or %NULL with @error set
 */
GSocket *
pm_acceptor_bind (const char *address,
                  guint       port,
                  GError    **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (port <= 65535, NULL);

  inet = g_inet_address_new_from_string (address);
  if (inet == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "'%s' is not an IP address", address);
      return NULL;
    }

  socket = g_socket_new (g_inet_address_get_family (inet), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, NULL);

  socket_address = g_inet_socket_address_new (inet, (guint16) port);
  if (!g_socket_bind (socket, socket_address, TRUE, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE,
                     "port %u on %s is already in use", port, address);
      else
        g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                     "cannot bind port %u on %s: %s", port, address, local_error->message);
      return NULL;
    }

  g_socket_set_listen_backlog (socket, PM_LISTEN_BACKLOG);
  if (!g_socket_listen (socket, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, PM_ERROR, PM_ERROR_PORT_IN_USE,
                     "port %u on %s is already in use", port, address);
      else
        g_set_error (error, PM_ERROR, PM_ERROR_FAILED,
                     "cannot listen on port %u of %s: %s", port, address, local_error->message);
      return NULL;
    }

  return g_steal_pointer (&socket);
}

/**
 * pm_acceptor_serve:
 * @self: a #PmAcceptor
 * @listener: a listening socket from pm_acceptor_bind()
 * @server: the server its connections go to
 * @error: return location for a #GError
 *
 * Starts accepting connections on @listener for @server.
 */
gboolean
pm_acceptor_serve (PmAcceptor *self,
                   GSocket    *listener,
                   SoupServer *server,
                   GError    **error)
{
  struct epoll_event event = { 0 };
  Listener *entry;
  int fd;

  g_return_val_if_fail (PM_IS_ACCEPTOR (self), FALSE);
  g_return_val_if_fail (G_IS_SOCKET (listener), FALSE);
  g_return_val_if_fail (SOUP_IS_SERVER (server), FALSE);

  fd = g_socket_get_fd (listener);
  g_return_val_if_fail (!g_hash_table_contains (self->listeners, GINT_TO_POINTER (fd)), FALSE);

  entry = g_new0 (Listener, 1);
  entry->socket = g_object_ref (listener);
  entry->server = g_object_ref (server);
  entry->local = g_socket_get_local_address (listener, error);
  if (entry->local == NULL)
    {
      listener_free (entry);
      return FALSE;
    }

  entry->request_read_id = g_signal_connect (server, "request-read",
                                             G_CALLBACK (on_request_read), self);

  event.events = EPOLLIN;
  event.data.fd = fd;
  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot watch the listening socket: %s", g_strerror (saved_errno));
      listener_free (entry);
      return FALSE;
    }
  g_hash_table_insert (self->listeners, GINT_TO_POINTER (fd), entry);
  return TRUE;
}

/**
 * pm_acceptor_unserve:
 * @self: a #PmAcceptor
 * @listener: a socket given to pm_acceptor_serve()
 *
 * Stops accepting connections on @listener.  The caller closes it.
 */
void
pm_acceptor_unserve (PmAcceptor *self,
                     GSocket    *listener)
{
  int fd;

  g_return_if_fail (PM_IS_ACCEPTOR (self));
  g_return_if_fail (G_IS_SOCKET (listener));

  fd = g_socket_get_fd (listener);
  if (!g_hash_table_contains (self->listeners, GINT_TO_POINTER (fd)))
    return;
  epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
  g_hash_table_remove (self->listeners, GINT_TO_POINTER (fd));
}

guint
pm_acceptor_get_n_listeners (PmAcceptor *self)
{
  g_return_val_if_fail (PM_IS_ACCEPTOR (self), 0);

  return g_hash_table_size (self->listeners);
}
