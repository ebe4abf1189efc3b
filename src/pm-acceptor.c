/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-acceptor"

#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib-unix.h>

#include "pm-acceptor.h"
#include "pm-conn-stream.h"
#include "pm-error.h"
#include "pm-head.h"
#include "pm-http.h"
#include "pm-limits.h"

/**
 * PmAcceptor:
 *
 * Accepts the connections of every listening socket of the process, reads
 * and screens each request head, and hands each sound connection to the
 * #SoupServer that owns the socket.
 *
 * libsoup's own listener is not fit for a fleet of long-running servers:
 * its backlog is 10, it stops accepting for good after one failed
 * accept() (such as running out of file descriptors), it leaks a little
 * on every connection, and with thousands of servers the main loop polls
 * thousands of listening sockets on every iteration.  Here one epoll
 * descriptor watches all listening sockets, and the connections whose
 * request head is still arriving, so the main loop polls one descriptor
 * however many devices and clients there are; sockets are created with a
 * backlog of %PM_LISTEN_BACKLOG; and when the process runs out of
 * descriptors accepting pauses briefly and then resumes.
 *
 * libsoup 3.2.3 leaks the request line of every request whose framing it
 * refuses itself, and answers over-long heads with a bare reset.  So the
 * acceptor reads each request head first and passes it through
 * pm_head_screen(): a refused head gets a JSON error with
 * `Connection: close`, written here, and libsoup never sees it; a sound
 * one goes to libsoup in a #PmConnStream that replays what was read.
 *
 * Connections are kept alive, but not by libsoup: 3.2.3 never frees an
 * idle keep-alive connection that its client closes, and a server fed
 * through soup_server_accept_iostream() keeps none alive anyway.  libsoup
 * gets each request on a #PmConnStream of its own, which delivers that
 * request and nothing after it, and which libsoup closes after the reply;
 * the socket then comes back here, waits for the next request head for
 * #PmAcceptor:idle-timeout, and is screened and handed over again.  At
 * most #PmAcceptor:max-kept-per-server connections per server and
 * #PmAcceptor:max-kept in all are kept alive; past either, replies say
 * `Connection: close`.  A connection that has not delivered a complete
 * request within #PmAcceptor:request-timeout (a client that connects and
 * stays silent, or dribbles its head or its body) gets a 408 and is shut
 * down, so idle peers cannot hold descriptors for ever.
 *
 * A server may also answer some requests here, without libsoup: see
 * pm_acceptor_set_answer_func().  Such a request, on a connection kept
 * alive, costs a read, a screen of its head, the answer and a write, and
 * none of the connection set-up that libsoup repeats for every request
 * it is given.  A WebSocket, once
 * its upgrade request is read, is not affected.  And a peer that stops
 * acknowledging what is sent to it (gone without a word, or never reading)
 * is dropped by the kernel after #PmAcceptor:send-timeout, so a dead log
 * client does not linger for the many minutes TCP would otherwise retry.
 */

/* Connections accepted from one socket per wake-up, so a flood on one
 * device cannot starve the others. */
#define ACCEPT_BATCH 64
/* How long accepting pauses after running out of descriptors. */
#define BACKOFF_MS 100
/* How much is read from a connection at a time while its head arrives. */
#define READ_CHUNK 4096
/* The most reads of one connection per wake-up: a client that keeps
 * sending pipelined requests cannot hold the main loop. */
#define READS_PER_WAKE 16
/* The fewest connections open at once after which, when most of them
 * have gone, freed memory is handed back to the system. */
#define TRIM_AFTER_HEADS 1024
/* After a refusal, how long and how much the rest of the client's request
 * is read and dropped before closing, so that the client reads the reply
 * instead of a reset caused by unread data. */
#define DRAIN_MS 2000
#define DRAIN_BYTES (256 * 1024)
/* Where a connection's Pending entry hangs, on its remote address. */
#define PENDING_KEY "pm-acceptor-pending"
/* epoll data of a connection whose head is being read; listening
 * sockets are known by their descriptor. */
#define HEAD_TAG (G_GUINT64_CONSTANT (1) << 63)

typedef struct
{
  GSocket        *socket;  /* (owned) */
  SoupServer     *server;  /* (owned) */
  GSocketAddress *local;   /* (owned) */
  gsize           body_limit;
  gulong          request_read_id;
  gulong          request_finished_id;
} Listener;

/* Where a connection came from: shared (GRcBox) by the connection's
 * head while it is read and by its GSocketConnection, for the requests
 * after the first. */
typedef struct
{
  SoupServer     *server;  /* (owned) */
  GSocketAddress *local;   /* (owned) */
  GSocketAddress *remote;  /* (owned) */
  gsize           body_limit;
} Origin;

/* A connection whose request head is being read, or, once refused,
 * drained before closing. */
typedef struct
{
  GList           link;     /* in PmAcceptor.reading or .draining */
  PmAcceptor     *acceptor; /* (unowned) */
  guint64         id;       /* key in PmAcceptor.heads */
  GSocket        *socket;   /* (owned) */
  Origin         *origin;   /* (owned) */
  GByteArray     *data;     /* (owned) (nullable) what has arrived */
  GSocketConnection *connection;  /* (owned) (nullable) once handed over */
  gint64          deadline; /* monotonic */
  gboolean        watched;  /* in the epoll set */
  gboolean        draining;
  gsize           drained;
  gboolean        kept;     /* kept alive after a request: holds a slot */
  gboolean        started;  /* kept, and the next request has begun */
  GSource        *later;    /* (owned) (nullable) reads what was left over */
  guint32         events;   /* what the epoll set watches for, when watched */
  GBytes         *out;      /* (owned) (nullable) an answer being written */
  gsize           out_sent; /* bytes of @out written */
} Head;

/* A server's own answers; see pm_acceptor_set_answer_func(). */
typedef struct
{
  PmAcceptorAnswerFunc func;
  gpointer             user_data;
} Answerer;

/* A connection handed to libsoup whose request has not been read yet.  It
 * hangs on the connection's remote address: libsoup 3.2.3 keeps the
 * address given to soup_server_accept_iostream() for as long as the
 * connection lives, and returns that same object from
 * soup_server_message_get_remote_address() for each of its messages, so
 * the address is the one handle plutomock shares with libsoup for a
 * connection.  The entry goes when the request is read, when the address
 * is freed with the connection, or when its deadline passes.  (Were a
 * libsoup to copy the address, entries would still end at their deadline,
 * shutting connections whose request was read: the tests of the request
 * timeout would show it.) */
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
  GHashTable   *served;     /* (owned) SoupServer → Listener, of listeners */
  GHashTable   *slots;      /* (owned) SoupServer → connections kept alive */
  GHashTable   *answerers;  /* (owned) SoupServer → (owned) Answerer */
  guint         n_slots;    /* connections kept alive in all */

  guint         request_timeout_ms;
  guint         send_timeout_ms;
  guint         idle_timeout_ms;
  guint         max_kept_per_server;
  guint         max_kept;
  guint64       n_accepted;
  guint64       n_answered;
  GHashTable   *heads;      /* (owned) &Head.id → (owned) Head */
  guint         heads_peak; /* the most heads at once since the last trim */
  guint64       next_head_id;
  GQueue        reading;    /* Head, by deadline */
  GQueue        draining;   /* Head, by deadline */
  GQueue        pending;    /* (owned) Pending, by deadline */
  GSource      *sweep;      /* (owned) (nullable) */
};

typedef enum
{
  PROP_REQUEST_TIMEOUT = 1,
  PROP_SEND_TIMEOUT,
  PROP_IDLE_TIMEOUT,
  PROP_MAX_KEPT_PER_SERVER,
  PROP_MAX_KEPT,
} PmAcceptorProperty;

static GParamSpec *props[PROP_MAX_KEPT + 1] = { NULL, };

G_DEFINE_FINAL_TYPE (PmAcceptor, pm_acceptor, G_TYPE_OBJECT)

static void
listener_free (Listener *listener)
{
  g_clear_signal_handler (&listener->request_read_id, listener->server);
  g_clear_signal_handler (&listener->request_finished_id, listener->server);
  g_clear_object (&listener->socket);
  g_clear_object (&listener->server);
  g_clear_object (&listener->local);
  g_free (listener);
}

static void start_watch (PmAcceptor *self);
static void start_sweep (PmAcceptor *self);

#define ORIGIN_KEY "pm-acceptor-origin"

static void
origin_clear (Origin *origin)
{
  g_clear_object (&origin->server);
  g_clear_object (&origin->local);
  g_clear_object (&origin->remote);
}

static Origin *
origin_new (SoupServer     *server,
            GSocketAddress *local,
            GSocketAddress *remote,
            gsize           body_limit)
{
  Origin *origin = g_rc_box_new0 (Origin);

  origin->server = g_object_ref (server);
  origin->local = g_object_ref (local);
  origin->remote = g_object_ref (remote);
  origin->body_limit = body_limit;
  return origin;
}

static void
origin_unref (Origin *origin)
{
  g_rc_box_release_full (origin, (GDestroyNotify) origin_clear);
}

/* ---- keep-alive slots ---------------------------------------------------- */

/* Takes a keep-alive slot for a connection of @server, if the caps allow. */
static gboolean
slot_take (PmAcceptor *self,
           SoupServer *server)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->slots, server));
  struct rlimit limit;
  guint64 max_kept = self->max_kept;

  /* Kept connections may not take the descriptors that new clients need:
   * with 10 000 devices listening and a limit of 20 000, some 9000. */
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    {
      guint64 used = (guint64) g_hash_table_size (self->listeners) + PM_LIMIT_FD_RESERVE;

      max_kept = MIN (max_kept, limit.rlim_cur > used ? limit.rlim_cur - used : 0);
    }
  if (n >= self->max_kept_per_server || self->n_slots >= max_kept)
    return FALSE;
  g_hash_table_insert (self->slots, server, GUINT_TO_POINTER (n + 1));
  self->n_slots++;
  return TRUE;
}

static void
slot_release (PmAcceptor *self,
              SoupServer *server)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->slots, server));

  g_return_if_fail (n > 0 && self->n_slots > 0);
  if (n == 1)
    g_hash_table_remove (self->slots, server);
  else
    g_hash_table_insert (self->slots, server, GUINT_TO_POINTER (n - 1));
  self->n_slots--;
}

/* Inserts @link into @queue, which is kept in order of deadline; entries
 * nearly always arrive in that order, so this is O(1) in practice. */
static void
queue_by_deadline (GQueue *queue,
                   GList  *link,
                   gint64  deadline,
                   gint64 (*deadline_of) (gpointer))
{
  GList *after = queue->tail;

  while (after != NULL && deadline_of (after->data) > deadline)
    after = after->prev;
  if (after == NULL)
    g_queue_push_head_link (queue, link);
  else if (after == queue->tail)
    g_queue_push_tail_link (queue, link);
  else
    {
      link->prev = after;
      link->next = after->next;
      after->next->prev = link;
      after->next = link;
      queue->length++;
    }
}

/* ---- connections whose head is being read ------------------------------ */

static gint64
head_deadline (gpointer data)
{
  return ((Head *) data)->deadline;
}

static GQueue *
head_queue (Head *head)
{
  return head->draining ? &head->acceptor->draining : &head->acceptor->reading;
}

static void
head_unwatch (Head *head)
{
  if (head->watched)
    {
      epoll_ctl (head->acceptor->epoll_fd, EPOLL_CTL_DEL, g_socket_get_fd (head->socket), NULL);
      head->watched = FALSE;
    }
}

/* Watches @head's connection for @events. */
static void
head_watch_for (Head    *head,
                guint32  events)
{
  struct epoll_event event = { 0 };

  if (head->watched && head->events == events)
    return;
  event.events = events;
  event.data.u64 = head->id;
  if (epoll_ctl (head->acceptor->epoll_fd, head->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
                 g_socket_get_fd (head->socket), &event) == 0)
    {
      head->watched = TRUE;
      head->events = events;
    }
  else
    {
      g_debug ("Cannot watch a connection: %s", g_strerror (errno));
    }
}

/* Watches for what the client sends, or for its leaving. */
static void
head_watch (Head *head)
{
  head_watch_for (head, EPOLLIN | EPOLLRDHUP);
}

/* Forgets @head; closes its connection unless it was handed over. */
static void
head_free (Head *head)
{
  head_unwatch (head);
  g_queue_unlink (head_queue (head), &head->link);
  if (head->later != NULL)
    {
      g_source_destroy (head->later);
      g_clear_pointer (&head->later, g_source_unref);
    }
  if (head->kept)
    slot_release (head->acceptor, head->origin->server);
  if (head->connection != NULL)
    g_io_stream_close (G_IO_STREAM (head->connection), NULL, NULL);
  else if (head->socket != NULL)
    g_socket_close (head->socket, NULL);
  g_clear_object (&head->connection);
  g_clear_object (&head->socket);
  g_clear_pointer (&head->origin, origin_unref);
  g_clear_pointer (&head->data, g_byte_array_unref);
  g_clear_pointer (&head->out, g_bytes_unref);
  g_free (head);
}

static void
head_close (Head *head)
{
  g_hash_table_remove (head->acceptor->heads, &head->id);
}

static void watch_request (PmAcceptor        *self,
                           GSocketConnection *connection,
                           GSocketAddress    *remote,
                           gint64             deadline);

static gboolean on_stream_finished (GObject           *owner,
                                    PmConnStream      *stream,
                                    GSocketConnection *connection,
                                    GBytes            *leftover,
                                    gboolean           reusable);

/* Gives the connection, and what was read of it, to libsoup, for one
 * request: libsoup sees every request on a connection of its own, which
 * it closes after the response, and the connection comes back here for
 * the next one (see on_stream_finished()).  So libsoup never keeps an
 * idle connection itself, which 3.2.3 cannot do without leaking, and
 * every request head passes the screen. */
static void
head_hand_over (Head               *head,
                const PmHeadResult *result)
{
  PmAcceptor *self = head->acceptor;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(PmConnStream) stream = NULL;
  g_autoptr(GBytes) prefix = NULL;
  Origin *origin = g_rc_box_acquire (head->origin);
  g_autoptr(GError) error = NULL;
  gint64 deadline = head->deadline;
  gint64 request_length = -1;
  gboolean keep_alive = FALSE;

  head_unwatch (head);
  if (head->connection != NULL)
    {
      connection = g_steal_pointer (&head->connection);
    }
  else
    {
      connection = g_socket_connection_factory_create_connection (head->socket);
      g_object_set_data_full (G_OBJECT (connection), ORIGIN_KEY,
                              g_rc_box_acquire (origin), (GDestroyNotify) origin_unref);
    }

  if (result->body_length >= 0 && !result->upgrade)
    request_length = (gint64) result->length + result->body_length;
  if (result->keep_alive && request_length >= 0)
    keep_alive = head->kept || slot_take (self, origin->server);
  else if (head->kept)
    slot_release (self, origin->server);
  head->kept = FALSE;  /* the slot, if any, goes with the stream */

  prefix = g_byte_array_free_to_bytes (g_steal_pointer (&head->data));
  stream = pm_conn_stream_new (connection, prefix, request_length, origin->remote);
  pm_conn_stream_set_keep_alive (stream, keep_alive);
  /* Only a kept connection comes back; the others close with the stream. */
  if (keep_alive)
    pm_conn_stream_set_finish_func (stream, on_stream_finished, G_OBJECT (self));
  g_clear_object (&head->socket);  /* the connection has it */
  head_close (head);

  watch_request (self, connection, origin->remote, deadline);
  if (!soup_server_accept_iostream (origin->server, G_IO_STREAM (stream), origin->local,
                                    origin->remote, &error))
    g_debug ("Could not hand over a connection: %s", error->message);
  origin_unref (origin);
}

/* Answers a refused head, then drains what else the client sends. */
static void
head_refuse (Head       *head,
             guint       status,
             const char *problem)
{
  PmAcceptor *self = head->acceptor;
  g_autofree char *reply = pm_http_format_raw_error (status, problem);

  g_debug ("Refusing a request head: %u %s", status, problem);
  /* Best effort: the reply is small and nothing else was sent, so it
   * fits in the socket's buffer. */
  g_socket_send (head->socket, reply, strlen (reply), NULL, NULL);
  g_socket_shutdown (head->socket, FALSE, TRUE, NULL);

  g_queue_unlink (&self->reading, &head->link);
  head->draining = TRUE;
  head->deadline = g_get_monotonic_time () + (gint64) DRAIN_MS * 1000;
  g_clear_pointer (&head->data, g_byte_array_unref);
  g_queue_push_tail_link (&self->draining, &head->link);
  start_sweep (self);
}

/* Moves @head to @timeout_ms from now in the queue of deadlines. */
static void
head_set_deadline (Head  *head,
                   guint  timeout_ms)
{
  PmAcceptor *self = head->acceptor;

  head->deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_queue_unlink (&self->reading, &head->link);
  queue_by_deadline (&self->reading, &head->link, head->deadline, head_deadline);
}

/* The first byte of the next request on a kept connection: from now
 * on the request timeout applies instead of the idle one. */
static void
head_start_request (Head *head)
{
  head->started = TRUE;
  head_set_deadline (head, head->acceptor->request_timeout_ms);
}

/* What head_answer() and head_flush() did. */
typedef enum
{
  ANSWER_NONE,     /* the request goes to libsoup */
  ANSWER_SENT,     /* answered; the connection waits for the next request */
  ANSWER_WRITING,  /* answered; the rest is written when the client reads */
  ANSWER_GONE,     /* the client left; @head is freed */
} Answered;

/* Writes what is left of @head's answer. */
static Answered
head_flush (Head *head)
{
  gsize size;
  const char *data = g_bytes_get_data (head->out, &size);

  while (head->out_sent < size)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (head->socket, data + head->out_sent, size - head->out_sent,
                                NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          /* A client that reads nothing gets the request time-out to
           * take its answer. */
          head_watch_for (head, EPOLLOUT);
          head_set_deadline (head, head->acceptor->request_timeout_ms);
          return ANSWER_WRITING;
        }
      if (n <= 0)
        {
          head_close (head);
          return ANSWER_GONE;
        }
      head->out_sent += n;
    }

  g_clear_pointer (&head->out, g_bytes_unref);
  head->out_sent = 0;
  head->started = FALSE;
  head_set_deadline (head, head->acceptor->idle_timeout_ms);
  return ANSWER_SENT;
}

/* Lets @head's server answer the request itself, if it will, on a
 * connection that stays open. */
static Answered
head_answer (Head               *head,
             const PmHeadResult *result)
{
  PmAcceptor *self = head->acceptor;
  SoupServer *server = head->origin->server;
  const char *data = (const char *) head->data->data;
  PmAcceptorRequest request;
  Answerer *answerer;

  /* Only bodiless requests on connections kept alive (the others cost
   * libsoup's set-up anyway), with nothing in their head that libsoup
   * would read its own way: an expectation it answers with 100 Continue,
   * a Host it may refuse or read into the URL. */
  if (!result->keep_alive || result->body_length != 0 || result->has_expect ||
      !result->plain_host)
    return ANSWER_NONE;
  answerer = g_hash_table_lookup (self->answerers, server);
  if (answerer == NULL)
    return ANSWER_NONE;
  if (!head->kept)
    {
      if (!slot_take (self, server))
        return ANSWER_NONE;
      head->kept = TRUE;
    }

  request.method = data;
  request.method_length = result->method_length;
  request.target = data + result->target_offset;
  request.target_length = result->target_length;
  request.has_origin = result->has_origin;
  request.local = head->origin->local;
  request.remote = head->origin->remote;
  head->out = answerer->func (&request, answerer->user_data);
  if (head->out == NULL)
    return ANSWER_NONE;

  self->n_answered++;
  g_byte_array_remove_range (head->data, 0, result->length);
  head->out_sent = 0;
  return head_flush (head);
}

/* Screens what has arrived, and answers what can be answered here;
 * returns FALSE if @head is gone (handed over or closed). */
static gboolean
head_screen (Head *head)
{
  for (;;)
    {
      PmHeadResult result;

      switch (pm_head_screen ((const char *) head->data->data, head->data->len,
                              head->origin->body_limit, &result))
        {
        case PM_HEAD_ACCEPTED:
          switch (head_answer (head, &result))
            {
            case ANSWER_NONE:
              head_hand_over (head, &result);
              return FALSE;
            case ANSWER_GONE:
              return FALSE;
            case ANSWER_WRITING:
              return TRUE;
            case ANSWER_SENT:
            default:
              if (head->data->len == 0)
                return TRUE;
              /* A pipelined request follows. */
              head_start_request (head);
              continue;
            }
        case PM_HEAD_REFUSED:
          head_refuse (head, result.status, result.problem);
          return TRUE;
        case PM_HEAD_INCOMPLETE:
        default:
          return TRUE;
        }
    }
}

/* Reads what has arrived on @head's connection and acts on it. */
static void
head_read (Head *head)
{
  guint reads;

  for (reads = 0; head->out == NULL; reads++)
    {
      char buffer[READ_CHUNK];
      g_autoptr(GError) error = NULL;
      gssize n = 0;
      gsize before;

      if (reads == READS_PER_WAKE ||
          (n = g_socket_receive (head->socket, buffer, sizeof buffer, NULL, &error)) < 0)
        {
          /* Nothing more now, or enough for one wake-up: the rest, once
           * the other connections had their turn. */
          if (reads == READS_PER_WAKE || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            {
              head_watch (head);
              return;
            }
        }
      if (n <= 0)
        {
          /* The client left, or reset, before its head was complete or
           * while being drained. */
          head_close (head);
          return;
        }

      if (head->draining)
        {
          head->drained += n;
          if (head->drained > DRAIN_BYTES)
            {
              head_close (head);
              return;
            }
          continue;
        }

      if (head->kept && !head->started)
        head_start_request (head);
      if (head->data == NULL)
        head->data = g_byte_array_sized_new (n);
      before = head->data->len;
      g_byte_array_append (head->data, (const guint8 *) buffer, n);

      /* Screen when a line may have ended, on the first bytes (to refuse
       * what is no HTTP at once), and when a limit is passed; not on
       * every byte of a client that dribbles. */
      if (before != 0 && memchr (buffer, '\n', n) == NULL &&
          !(before < PM_LIMIT_REQUEST_LINE_BYTES && head->data->len >= PM_LIMIT_REQUEST_LINE_BYTES) &&
          !(before < PM_LIMIT_HEAD_BYTES && head->data->len >= PM_LIMIT_HEAD_BYTES))
        continue;

      if (!head_screen (head))
        return;
    }
}

/* A head for a connection from @origin, waiting until @timeout_ms from
 * now. */
static Head *
head_new (PmAcceptor *self,
          GSocket    *socket,
          Origin     *origin,
          guint       timeout_ms)
{
  Head *head = g_new0 (Head, 1);

  head->link.data = head;
  head->acceptor = self;
  head->id = HEAD_TAG | self->next_head_id++;
  head->socket = g_object_ref (socket);
  head->origin = g_rc_box_acquire (origin);
  head->deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_hash_table_insert (self->heads, &head->id, head);
  self->heads_peak = MAX (self->heads_peak, g_hash_table_size (self->heads));
  queue_by_deadline (&self->reading, &head->link, head->deadline, head_deadline);
  start_sweep (self);
  return head;
}

static void
head_start (PmAcceptor     *self,
            GSocket        *client,
            Listener       *listener,
            GSocketAddress *remote)
{
  Origin *origin = origin_new (listener->server, listener->local, remote, listener->body_limit);
  Head *head = head_new (self, client, origin, self->request_timeout_ms);

  origin_unref (origin);
  /* Most clients send their request with the connection: read it now. */
  head_read (head);
}

/* The client reads again: the rest of the answer, then what it sent
 * meanwhile. */
static void
head_write (Head *head)
{
  if (head_flush (head) != ANSWER_SENT)
    return;
  head_watch (head);
  if (head->data->len > 0)
    {
      head_start_request (head);
      if (!head_screen (head))
        return;
    }
  head_read (head);
}

static gboolean
on_leftover (gpointer user_data)
{
  Head *head = user_data;

  g_clear_pointer (&head->later, g_source_unref);
  if (head_screen (head))
    head_read (head);
  return G_SOURCE_REMOVE;
}

/* libsoup has answered a request on a kept-alive connection and handed
 * it back: wait for the next request, for at most the idle time-out. */
static void
head_keep (PmAcceptor        *self,
           GSocketConnection *connection,
           Origin            *origin,
           GBytes            *leftover)
{
  Head *head = head_new (self, g_socket_connection_get_socket (connection), origin,
                         self->idle_timeout_ms);

  head->connection = g_object_ref (connection);
  head->kept = TRUE;

  if (leftover != NULL)
    {
      /* A pipelined request: screen it from the main loop, not from
       * inside libsoup's closing of the last one. */
      head->data = g_byte_array_sized_new (g_bytes_get_size (leftover));
      g_byte_array_append (head->data, g_bytes_get_data (leftover, NULL), g_bytes_get_size (leftover));
      head_start_request (head);
      head->later = g_idle_source_new ();
      g_source_set_name (head->later, "pm-acceptor-leftover");
      g_source_set_callback (head->later, on_leftover, head, NULL);
      g_source_attach (head->later, self->context);
    }
  else
    {
      head_watch (head);
    }
}

static gboolean
on_stream_finished (GObject           *owner,
                    PmConnStream      *stream,
                    GSocketConnection *connection,
                    GBytes            *leftover,
                    gboolean           reusable)
{
  PmAcceptor *self = PM_ACCEPTOR (owner);
  Origin *origin;
  gboolean counted = pm_conn_stream_get_keep_alive (stream);

  if (!counted)
    return FALSE;
  origin = g_object_get_data (G_OBJECT (connection), ORIGIN_KEY);
  if (origin == NULL)
    return FALSE;
  /* Kept only while its server still serves, and its peer is there. */
  if (!reusable || !g_hash_table_contains (self->served, origin->server) ||
      g_socket_is_closed (g_socket_connection_get_socket (connection)))
    {
      slot_release (self, origin->server);
      return FALSE;
    }
  head_keep (self, connection, origin, leftover);
  return TRUE;
}

/* Closes the connections of @server whose head is being read. */
static void
close_heads_of (PmAcceptor *self,
                SoupServer *server)
{
  GQueue *queues[] = { &self->reading, &self->draining };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (queues); i++)
    {
      GList *l = queues[i]->head;

      while (l != NULL)
        {
          Head *head = l->data;

          l = l->next;
          if (head->origin->server == server)
            head_close (head);
        }
    }
}

/* ---- connections handed to libsoup ------------------------------------- */

static gint64
pending_deadline (gpointer data)
{
  return ((Pending *) data)->deadline;
}

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

static void
sweep_pending (PmAcceptor *self,
               gint64      now)
{
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
               * whole request.  Best effort, the socket does not block. */
              g_autofree char *reply = pm_http_format_raw_error (SOUP_STATUS_REQUEST_TIMEOUT,
                                                                 "the request did not arrive in time");

              g_debug ("Closing a connection that sent no complete request in %u ms",
                       self->request_timeout_ms);
              g_socket_send (socket, reply, strlen (reply), NULL, NULL);
              g_socket_shutdown (socket, TRUE, TRUE, NULL);
            }
        }
    }
}

static void
sweep_heads (PmAcceptor *self,
             gint64      now)
{
  Head *head;

  while ((head = g_queue_peek_head (&self->reading)) != NULL && head->deadline <= now)
    {
      /* A kept connection that stayed idle just closes, as an HTTP
       * server's keep-alive time-out does; a request that began and did
       * not end gets its 408; an answer the client did not take, nothing
       * more. */
      if ((!head->kept || head->started) && head->out == NULL)
        {
          g_autofree char *reply = pm_http_format_raw_error (SOUP_STATUS_REQUEST_TIMEOUT,
                                                             "the request did not arrive in time");

          g_debug ("Closing a connection that sent no complete request head in %u ms",
                   self->request_timeout_ms);
          g_socket_send (head->socket, reply, strlen (reply), NULL, NULL);
        }
      head_close (head);
    }
  while ((head = g_queue_peek_head (&self->draining)) != NULL && head->deadline <= now)
    head_close (head);
}

/* Once a burst of connections is over (at least TRIM_AFTER_HEADS open at
 * once, three quarters of them gone), hands the memory they held back to
 * the system: malloc() keeps freed memory in its arenas otherwise, and
 * the daemon's size would stay at its highest. */
static void
trim_after_burst (PmAcceptor *self)
{
  guint n = g_hash_table_size (self->heads);
  gint64 start;

  if (self->heads_peak < TRIM_AFTER_HEADS || n > self->heads_peak / 4)
    return;
  start = g_get_monotonic_time ();
  malloc_trim (0);
  g_debug ("%u connections closed since there were %u: memory trimmed in %" G_GINT64_FORMAT " µs",
           self->heads_peak - n, self->heads_peak, g_get_monotonic_time () - start);
  self->heads_peak = n;
}

static gboolean
on_sweep (gpointer user_data)
{
  PmAcceptor *self = PM_ACCEPTOR (user_data);
  gint64 now = g_get_monotonic_time ();

  sweep_heads (self, now);
  sweep_pending (self, now);
  trim_after_burst (self);

  if (g_queue_is_empty (&self->pending) && g_queue_is_empty (&self->reading) &&
      g_queue_is_empty (&self->draining))
    {
      g_clear_pointer (&self->sweep, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
start_sweep (PmAcceptor *self)
{
  if (self->sweep != NULL)
    return;
  self->sweep = g_timeout_source_new (MAX (10, MIN (1000, MIN (self->request_timeout_ms,
                                                                 self->idle_timeout_ms) / 4)));
  g_source_set_name (self->sweep, "pm-acceptor-sweep");
  g_source_set_callback (self->sweep, on_sweep, self, NULL);
  g_source_attach (self->sweep, self->context);
}

static void
watch_request (PmAcceptor        *self,
               GSocketConnection *connection,
               GSocketAddress    *remote,
               gint64             deadline)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->link.data = pending;
  pending->acceptor = self;
  pending->remote = remote;
  g_weak_ref_init (&pending->connection, connection);
  pending->deadline = deadline;
  queue_by_deadline (&self->pending, &pending->link, deadline, pending_deadline);
  g_object_set_data_full (G_OBJECT (remote), PENDING_KEY, pending, on_pending_address_gone);
  start_sweep (self);
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

/* A response went out whole.  Unless it closes the connection, the
 * connection may carry the next request. */
static void
on_request_finished (SoupServer        *server,
                     SoupServerMessage *msg,
                     gpointer           user_data)
{
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  g_autoptr(PmConnStream) stream = NULL;

  if (soup_message_headers_header_contains (response, "Connection", "close"))
    return;
  stream = pm_conn_stream_dup_for_message (msg);
  if (stream != NULL)
    pm_conn_stream_set_answered (stream);
}

/* ---- accepting ----------------------------------------------------------- */

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
accept_batch (PmAcceptor *self,
              Listener   *listener)
{
  guint i;

  for (i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = NULL;
      g_autoptr(GSocketAddress) remote = NULL;

      client = g_socket_accept (listener->socket, NULL, &error);
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
      g_socket_set_blocking (client, FALSE);
      g_socket_set_option (client, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
      g_socket_set_option (client, IPPROTO_TCP, TCP_USER_TIMEOUT, (gint) self->send_timeout_ms, NULL);
      self->n_accepted++;
      head_start (self, client, listener, remote);
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
  gboolean out_of_fds = FALSE;
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
      guint64 key = events[i].data.u64;
      Listener *listener;
      Head *head;

      /* Whatever a handler did to the servers or connections while an
       * earlier event was handled, each is looked up afresh. */
      if ((key & HEAD_TAG) != 0)
        {
          head = g_hash_table_lookup (self->heads, &key);
          if (head != NULL && head->out != NULL)
            head_write (head);
          else if (head != NULL)
            head_read (head);
          continue;
        }

      /* Out of descriptors: no more accepting this round, but the
       * connections' events still run, since they are what frees
       * descriptors. */
      if (out_of_fds)
        continue;
      listener = g_hash_table_lookup (self->listeners, GINT_TO_POINTER ((int) key));
      if (listener == NULL)
        continue;
      if (!accept_batch (self, listener))
        out_of_fds = TRUE;
    }
  if (out_of_fds)
    pause_accepting (self);
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
  if (self->served != NULL)
    g_hash_table_remove_all (self->served);
  if (self->heads != NULL)
    g_hash_table_remove_all (self->heads);
  if (self->listeners != NULL)
    g_hash_table_remove_all (self->listeners);
  if (self->answerers != NULL)
    g_hash_table_remove_all (self->answerers);

  G_OBJECT_CLASS (pm_acceptor_parent_class)->dispose (object);
}

static void
pm_acceptor_finalize (GObject *object)
{
  PmAcceptor *self = PM_ACCEPTOR (object);

  g_clear_pointer (&self->listeners, g_hash_table_unref);
  g_clear_pointer (&self->heads, g_hash_table_unref);
  g_clear_pointer (&self->served, g_hash_table_unref);
  g_clear_pointer (&self->slots, g_hash_table_unref);
  g_clear_pointer (&self->answerers, g_hash_table_unref);
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
    case PROP_IDLE_TIMEOUT:
      g_value_set_uint (value, self->idle_timeout_ms);
      break;
    case PROP_MAX_KEPT_PER_SERVER:
      g_value_set_uint (value, self->max_kept_per_server);
      break;
    case PROP_MAX_KEPT:
      g_value_set_uint (value, self->max_kept);
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
    case PROP_IDLE_TIMEOUT:
      self->idle_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_MAX_KEPT_PER_SERVER:
      self->max_kept_per_server = g_value_get_uint (value);
      break;
    case PROP_MAX_KEPT:
      self->max_kept = g_value_get_uint (value);
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
    g_param_spec_uint ("request-timeout", NULL, NULL, 1, G_MAXUINT, PM_LIMIT_REQUEST_TIMEOUT_MS,
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
    g_param_spec_uint ("send-timeout", NULL, NULL, 1, G_MAXINT, PM_LIMIT_SEND_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * PmAcceptor:idle-timeout:
   *
   * How long, in milliseconds, a connection kept alive may wait for its
   * next request before it is closed.  For tests; the daemon uses
   * %PM_LIMIT_KEEPALIVE_IDLE_MS.
   */
  props[PROP_IDLE_TIMEOUT] =
    g_param_spec_uint ("idle-timeout", NULL, NULL, 1, G_MAXUINT, PM_LIMIT_KEEPALIVE_IDLE_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * PmAcceptor:max-kept-per-server:
   *
   * The most connections of one server kept alive at a time; past it,
   * replies say `Connection: close`.  For tests; the daemon uses
   * %PM_LIMIT_KEEPALIVE_PER_SERVER.
   */
  props[PROP_MAX_KEPT_PER_SERVER] =
    g_param_spec_uint ("max-kept-per-server", NULL, NULL, 0, G_MAXUINT, PM_LIMIT_KEEPALIVE_PER_SERVER,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * PmAcceptor:max-kept:
   *
   * The most connections kept alive at a time in all.  For tests; the
   * daemon uses %PM_LIMIT_KEEPALIVE_TOTAL.
   */
  props[PROP_MAX_KEPT] =
    g_param_spec_uint ("max-kept", NULL, NULL, 0, G_MAXUINT, PM_LIMIT_KEEPALIVE_TOTAL,
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
  self->heads = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, (GDestroyNotify) head_free);
  self->served = g_hash_table_new (NULL, NULL);
  self->slots = g_hash_table_new (NULL, NULL);
  self->answerers = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->request_timeout_ms = PM_LIMIT_REQUEST_TIMEOUT_MS;
  self->send_timeout_ms = PM_LIMIT_SEND_TIMEOUT_MS;
  self->idle_timeout_ms = PM_LIMIT_KEEPALIVE_IDLE_MS;
  self->max_kept_per_server = PM_LIMIT_KEEPALIVE_PER_SERVER;
  self->max_kept = PM_LIMIT_KEEPALIVE_TOTAL;
  g_queue_init (&self->reading);
  g_queue_init (&self->draining);
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

/* Starts accepting connections on @listener for @server. */
static gboolean
serve (PmAcceptor *self,
       GSocket    *listener,
       SoupServer *server,
       gsize       body_limit,
       GError    **error)
{
  struct epoll_event event = { 0 };
  Listener *entry;
  int fd;

  fd = g_socket_get_fd (listener);
  g_return_val_if_fail (!g_hash_table_contains (self->listeners, GINT_TO_POINTER (fd)), FALSE);

  entry = g_new0 (Listener, 1);
  entry->socket = g_object_ref (listener);
  entry->server = g_object_ref (server);
  entry->body_limit = body_limit;
  entry->local = g_socket_get_local_address (listener, error);
  if (entry->local == NULL)
    {
      listener_free (entry);
      return FALSE;
    }

  entry->request_read_id = g_signal_connect (server, "request-read",
                                             G_CALLBACK (on_request_read), self);
  entry->request_finished_id = g_signal_connect (server, "request-finished",
                                                 G_CALLBACK (on_request_finished), self);

  event.events = EPOLLIN;
  event.data.u64 = (guint64) fd;
  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "cannot watch the listening socket: %s", g_strerror (saved_errno));
      listener_free (entry);
      return FALSE;
    }
  g_hash_table_insert (self->listeners, GINT_TO_POINTER (fd), entry);
  g_hash_table_insert (self->served, server, entry);
  return TRUE;
}

/**
 * pm_acceptor_listen:
 * @self: a #PmAcceptor
 * @server: the server the connections go to
 * @address: an IPv4 or IPv6 address literal
 * @port: the port, or 0 to let the kernel pick one
 * @body_limit: the largest request body @server takes; a request that
 *   declares a larger one is answered 413 before libsoup sees it
 * @error: return location for a #GError
 *
 * Binds @address and @port (see pm_acceptor_bind()) and starts handing
 * the connections to @server.  What every plutomock server does to listen.
 *
 * Returns: (transfer full): the listening socket, for
 *   pm_acceptor_close(), or %NULL with @error set
 */
GSocket *
pm_acceptor_listen (PmAcceptor *self,
                    SoupServer *server,
                    const char *address,
                    guint       port,
                    gsize       body_limit,
                    GError    **error)
{
  g_autoptr(GSocket) listener = NULL;

  g_return_val_if_fail (PM_IS_ACCEPTOR (self), NULL);
  g_return_val_if_fail (SOUP_IS_SERVER (server), NULL);

  listener = pm_acceptor_bind (address, port, error);
  if (listener == NULL)
    return NULL;
  if (!serve (self, listener, server, body_limit, error))
    {
      g_socket_close (listener, NULL);
      return NULL;
    }
  return g_steal_pointer (&listener);
}

/**
 * pm_acceptor_close:
 * @self: a #PmAcceptor
 * @listener: a socket from pm_acceptor_listen()
 *
 * Stops accepting connections on @listener, closes it, and closes the
 * connections of its server whose request is still arriving.  The caller
 * disconnects the server from the connections libsoup holds.
 */
void
pm_acceptor_close (PmAcceptor *self,
                   GSocket    *listener)
{
  Listener *entry;
  int fd;

  g_return_if_fail (PM_IS_ACCEPTOR (self));
  g_return_if_fail (G_IS_SOCKET (listener));

  fd = g_socket_get_fd (listener);
  entry = g_hash_table_lookup (self->listeners, GINT_TO_POINTER (fd));
  if (entry != NULL)
    {
      epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
      g_hash_table_remove (self->served, entry->server);
      close_heads_of (self, entry->server);
      g_hash_table_remove (self->listeners, GINT_TO_POINTER (fd));
    }
  g_socket_close (listener, NULL);
}

/**
 * pm_acceptor_set_answer_func:
 * @self: a #PmAcceptor
 * @server: a server
 * @func: (nullable): what answers requests of @server here, or %NULL to
 *   hand them all to libsoup again
 * @user_data: for @func; it must outlive the setting
 *
 * Lets @func answer requests of @server before they reach libsoup.  It
 * is asked for every request that has no body and arrives on a
 * connection that stays open (HTTP/1.1, no `Connection: close`, no
 * upgrade, within the keep-alive caps), whose head libsoup would read no
 * other way (a plain Host, no Expect), and returns either the whole
 * reply, status line, headers and body, or %NULL to let libsoup answer.
 * A reply must not close the connection.  The servers that use this
 * clear it before they go.
 */
void
pm_acceptor_set_answer_func (PmAcceptor          *self,
                             SoupServer          *server,
                             PmAcceptorAnswerFunc func,
                             gpointer             user_data)
{
  Answerer *answerer;

  g_return_if_fail (PM_IS_ACCEPTOR (self));
  g_return_if_fail (SOUP_IS_SERVER (server));

  if (func == NULL)
    {
      g_hash_table_remove (self->answerers, server);
      return;
    }
  answerer = g_new0 (Answerer, 1);
  answerer->func = func;
  answerer->user_data = user_data;
  g_hash_table_replace (self->answerers, server, answerer);
}

/**
 * pm_acceptor_get_n_answered:
 * @self: a #PmAcceptor
 *
 * Returns: how many requests were answered by answer functions (see
 *   pm_acceptor_set_answer_func()) since it was made
 */
guint64
pm_acceptor_get_n_answered (PmAcceptor *self)
{
  g_return_val_if_fail (PM_IS_ACCEPTOR (self), 0);

  return self->n_answered;
}

/**
 * pm_acceptor_get_n_accepted:
 * @self: a #PmAcceptor
 *
 * Returns: how many connections were accepted since it was made
 */
guint64
pm_acceptor_get_n_accepted (PmAcceptor *self)
{
  g_return_val_if_fail (PM_IS_ACCEPTOR (self), 0);

  return self->n_accepted;
}

/**
 * pm_acceptor_get_n_kept:
 * @self: a #PmAcceptor
 *
 * Returns: how many connections are kept alive now, waiting for a
 *   request or in one
 */
guint
pm_acceptor_get_n_kept (PmAcceptor *self)
{
  g_return_val_if_fail (PM_IS_ACCEPTOR (self), 0);

  return self->n_slots;
}

guint
pm_acceptor_get_n_listeners (PmAcceptor *self)
{
  g_return_val_if_fail (PM_IS_ACCEPTOR (self), 0);

  return g_hash_table_size (self->listeners);
}
