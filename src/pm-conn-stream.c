/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-conn-stream"

#include "config.h"

#include <string.h>

#include "pm-conn-stream.h"

/**
 * PmConnStream:
 *
 * The stream of one accepted connection, as libsoup gets it.
 *
 * #PmAcceptor reads each request head itself before libsoup sees it (see
 * pm_head_screen()); this stream gives libsoup those bytes first and then
 * the rest of the connection, unchanged.  Once the connection has become a
 * WebSocket, pm_conn_stream_limit_websocket() makes the stream count the
 * frames the peer sends: libsoup 3.2.3 limits each incoming frame but not
 * a message of many continuation frames, which it holds until the last
 * one.  Past a limit the stream stops delivering input and emits
 * #PmConnStream::limit-exceeded, so the owner closes the WebSocket while
 * what libsoup holds stays bounded.
 *
 * Writing goes straight to the socket's own output stream.
 */

#define STREAM_KEY "pm-conn-stream"

/* ---- the input side ----------------------------------------------------- */

#define PM_TYPE_CONN_INPUT (pm_conn_input_get_type ())
G_DECLARE_FINAL_TYPE (PmConnInput, pm_conn_input, PM, CONN_INPUT, GInputStream)

typedef struct
{
  guint64  message_limit;
  guint64  total_limit;
  guint8   header[14];
  guint    header_len;
  guint    header_need;
  guint64  payload_left;
  guint64  message_bytes;
  guint64  total_bytes;
} FrameCounter;

struct _PmConnInput
{
  GInputStream  parent_instance;

  GInputStream *base;      /* (owned) the socket's */
  GBytes       *prefix;    /* (owned) (nullable) read before libsoup */
  gsize         prefix_offset;
  gint64        request_left;  /* bytes of the request still to give
                                * libsoup; -1 for no bound */
  PmConnStream *owner;     /* (unowned) owns this */

  gboolean      counting;
  FrameCounter  frames;
  gboolean      stopped;   /* a limit was passed: no more input */
};

static void pm_conn_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PmConnInput, pm_conn_input, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      pm_conn_input_pollable_init))

static void report_limit (PmConnStream *self,
                          guint         code,
                          const char   *reason);

/* Counts the WebSocket frames in @data, which the peer sent.  Returns
 * FALSE, with the close code and reason, once a limit is passed. */
static gboolean
count_frames (FrameCounter *f,
              const guint8 *data,
              gsize         length,
              guint        *code,
              const char  **reason)
{
  const guint8 *p = data;
  const guint8 *end = data + length;

  f->total_bytes += length;
  if (f->total_bytes > f->total_limit)
    {
      *code = SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION;
      *reason = "the client sent more than a log client may";
      return FALSE;
    }

  while (p < end)
    {
      if (f->payload_left > 0)
        {
          guint64 take = MIN ((guint64) (end - p), f->payload_left);

          f->payload_left -= take;
          p += take;
          continue;
        }

      f->header[f->header_len++] = *p++;
      if (f->header_len == 2)
        {
          guint len7 = f->header[1] & 0x7f;

          f->header_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) +
                           ((f->header[1] & 0x80) != 0 ? 4 : 0);
        }
      if (f->header_len >= 2 && f->header_len == f->header_need)
        {
          guint len7 = f->header[1] & 0x7f;
          guint opcode = f->header[0] & 0x0f;
          gboolean fin = (f->header[0] & 0x80) != 0;
          guint64 payload = len7;
          guint i;

          if (len7 == 126)
            payload = ((guint64) f->header[2] << 8) | f->header[3];
          else if (len7 == 127)
            for (i = 0, payload = 0; i < 8; i++)
              payload = (payload << 8) | f->header[2 + i];
          f->header_len = 0;
          f->payload_left = payload;

          /* Data frames (continuation, text, binary) add up to a
           * message; control frames are at most 125 bytes each. */
          if (opcode < 0x8)
            {
              if (payload > f->message_limit || f->message_bytes + payload > f->message_limit)
                {
                  *code = SOUP_WEBSOCKET_CLOSE_TOO_BIG;
                  *reason = "the message is over the limit";
                  return FALSE;
                }
              f->message_bytes = fin ? 0 : f->message_bytes + payload;
            }
        }
    }
  return TRUE;
}

/* Passes what was read through the counter, if it counts. */
static void
account (PmConnInput *self,
         const void  *data,
         gssize       nread)
{
  guint code = 0;
  const char *reason = NULL;

  if (!self->counting || nread <= 0 || self->stopped)
    return;
  if (!count_frames (&self->frames, data, nread, &code, &reason))
    {
      self->stopped = TRUE;
      report_limit (self->owner, code, reason);
    }
}

/* Whether the current request has been delivered whole: nothing more
 * is given to libsoup, whatever the peer sends. */
static gboolean
request_delivered (PmConnInput *self)
{
  return self->request_left == 0;
}

static gboolean
has_prefix (PmConnInput *self)
{
  return self->prefix != NULL && self->prefix_offset < g_bytes_get_size (self->prefix);
}

/* At most @count, and never past the end of the current request. */
static gsize
bounded (PmConnInput *self,
         gsize        count)
{
  if (self->request_left >= 0 && (guint64) self->request_left < count)
    return (gsize) self->request_left;
  return count;
}

static void
consumed (PmConnInput *self,
          gssize       n)
{
  if (n > 0 && self->request_left > 0)
    self->request_left -= n;
}

static gssize
take_prefix (PmConnInput *self,
             void        *buffer,
             gsize        count)
{
  gsize size = g_bytes_get_size (self->prefix);
  gsize n = MIN (bounded (self, count), size - self->prefix_offset);

  memcpy (buffer, (const guint8 *) g_bytes_get_data (self->prefix, NULL) + self->prefix_offset, n);
  self->prefix_offset += n;
  consumed (self, n);
  return n;
}

static gssize
pm_conn_input_read (GInputStream *stream,
                    void         *buffer,
                    gsize         count,
                    GCancellable *cancellable,
                    GError      **error)
{
  PmConnInput *self = PM_CONN_INPUT (stream);
  gssize n;

  if (self->stopped || request_delivered (self))
    return 0;
  if (has_prefix (self))
    return take_prefix (self, buffer, count);
  n = g_input_stream_read (self->base, buffer, bounded (self, count), cancellable, error);
  consumed (self, n);
  account (self, buffer, n);
  return n;
}

static gboolean
pm_conn_input_close (GInputStream *stream,
                     GCancellable *cancellable,
                     GError      **error)
{
  /* The socket closes with the connection's stream. */
  return TRUE;
}

static gboolean
pm_conn_input_can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

static gboolean
pm_conn_input_is_readable (GPollableInputStream *stream)
{
  PmConnInput *self = PM_CONN_INPUT (stream);

  if (self->stopped || request_delivered (self))
    return FALSE;
  if (has_prefix (self))
    return TRUE;
  return g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
pm_conn_input_create_source (GPollableInputStream *stream,
                             GCancellable         *cancellable)
{
  PmConnInput *self = PM_CONN_INPUT (stream);
  g_autoptr(GSource) base = NULL;

  /* Stopped, or the request is all read: a source that only the
   * cancellable can wake. */
  if (self->stopped || request_delivered (self))
    base = NULL;
  else if (has_prefix (self))
    base = g_timeout_source_new (0);
  else
    base = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base), NULL);
  return g_pollable_source_new_full (stream, base, cancellable);
}

static gssize
pm_conn_input_read_nonblocking (GPollableInputStream *stream,
                                void                 *buffer,
                                gsize                 count,
                                GError              **error)
{
  PmConnInput *self = PM_CONN_INPUT (stream);
  gssize n;

  if (self->stopped || request_delivered (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK,
                           self->stopped ? "input stopped at a limit" : "the request is all read");
      return -1;
    }
  if (has_prefix (self))
    return take_prefix (self, buffer, count);
  n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base),
                                                buffer, bounded (self, count), NULL, error);
  consumed (self, n);
  account (self, buffer, n);
  return n;
}

static void
pm_conn_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = pm_conn_input_can_poll;
  iface->is_readable = pm_conn_input_is_readable;
  iface->create_source = pm_conn_input_create_source;
  iface->read_nonblocking = pm_conn_input_read_nonblocking;
}

static void
pm_conn_input_finalize (GObject *object)
{
  PmConnInput *self = PM_CONN_INPUT (object);

  g_clear_object (&self->base);
  g_clear_pointer (&self->prefix, g_bytes_unref);

  G_OBJECT_CLASS (pm_conn_input_parent_class)->finalize (object);
}

static void
pm_conn_input_class_init (PmConnInputClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *input_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = pm_conn_input_finalize;
  input_class->read_fn = pm_conn_input_read;
  input_class->close_fn = pm_conn_input_close;
}

static void
pm_conn_input_init (PmConnInput *self)
{
}

/* ---- the connection ----------------------------------------------------- */

struct _PmConnStream
{
  GIOStream          parent_instance;

  GSocketConnection *base;     /* (owned) */
  PmConnInput       *input;    /* (owned) */
  GMainContext      *context;  /* (owned) */
  GSource           *report;   /* (owned) (nullable) */
  guint              code;
  const char        *reason;   /* static */
  gboolean           keep_alive;  /* the reply offers another request */
  gboolean           answered;    /* the response went out whole */
  PmConnStreamFinishFunc finish;  /* (nullable) */
  GObject           *finish_owner; /* (owned) (nullable) */
};

enum
{
  SIGNAL_LIMIT_EXCEEDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PmConnStream, pm_conn_stream, G_TYPE_IO_STREAM)

static gboolean
on_report (gpointer user_data)
{
  PmConnStream *self = PM_CONN_STREAM (user_data);

  g_clear_pointer (&self->report, g_source_unref);
  g_signal_emit (self, signals[SIGNAL_LIMIT_EXCEEDED], 0, self->code, self->reason);
  return G_SOURCE_REMOVE;
}

/* Reports a passed limit from the main loop, not from inside the read
 * that found it, which runs in the middle of libsoup's own code. */
static void
report_limit (PmConnStream *self,
              guint         code,
              const char   *reason)
{
  if (self->report != NULL)
    return;
  self->code = code;
  self->reason = reason;
  self->report = g_idle_source_new ();
  g_source_set_name (self->report, "pm-conn-stream-report");
  g_source_set_callback (self->report, on_report, g_object_ref (self), g_object_unref);
  g_source_attach (self->report, self->context);
}

static GInputStream *
pm_conn_stream_get_input_stream (GIOStream *stream)
{
  return G_INPUT_STREAM (PM_CONN_STREAM (stream)->input);
}

static GOutputStream *
pm_conn_stream_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (G_IO_STREAM (PM_CONN_STREAM (stream)->base));
}

/* What the peer sent past the end of the request: the start of its
 * next one. */
static GBytes *
dup_leftover (PmConnInput *input)
{
  gsize size;

  if (input->prefix == NULL)
    return NULL;
  size = g_bytes_get_size (input->prefix);
  if (input->prefix_offset >= size)
    return NULL;
  return g_bytes_new_from_bytes (input->prefix, input->prefix_offset, size - input->prefix_offset);
}

static gboolean
pm_conn_stream_close (GIOStream    *stream,
                      GCancellable *cancellable,
                      GError      **error)
{
  PmConnStream *self = PM_CONN_STREAM (stream);
  gboolean reusable = (self->keep_alive && self->answered && !self->input->stopped &&
                       request_delivered (self->input));
  g_autoptr(GBytes) leftover = reusable ? dup_leftover (self->input) : NULL;
  gboolean taken = FALSE;

  g_input_stream_close (G_INPUT_STREAM (self->input), NULL, NULL);
  /* libsoup is done with this request.  The connection goes back to
   * whoever takes it for the next one, or is closed.  (A plain call: this
   * runs once a request, and a signal with a handler per stream costs
   * several microseconds.) */
  if (self->finish != NULL)
    {
      g_autoptr(GObject) owner = g_steal_pointer (&self->finish_owner);
      PmConnStreamFinishFunc finish = self->finish;

      self->finish = NULL;
      taken = finish (owner, self, self->base, leftover, reusable);
    }
  if (taken)
    return TRUE;
  return g_io_stream_close (G_IO_STREAM (self->base), cancellable, error);
}

/* Closing a socket does not block: close in the caller's thread, as
 * GSocketConnection does, instead of GIOStream's default of a worker
 * thread touching a socket the main loop still polls. */
static void
pm_conn_stream_close_async (GIOStream          *stream,
                            int                 io_priority,
                            GCancellable       *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (stream, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, pm_conn_stream_close_async);
  if (G_IO_STREAM_GET_CLASS (stream)->close_fn (stream, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static gboolean
pm_conn_stream_close_finish (GIOStream    *stream,
                             GAsyncResult *result,
                             GError      **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
pm_conn_stream_dispose (GObject *object)
{
  PmConnStream *self = PM_CONN_STREAM (object);

  if (self->report != NULL)
    {
      g_source_destroy (self->report);
      g_clear_pointer (&self->report, g_source_unref);
    }

  G_OBJECT_CLASS (pm_conn_stream_parent_class)->dispose (object);
}

static void
pm_conn_stream_finalize (GObject *object)
{
  PmConnStream *self = PM_CONN_STREAM (object);

  g_clear_object (&self->input);
  g_clear_object (&self->base);
  g_clear_object (&self->finish_owner);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (pm_conn_stream_parent_class)->finalize (object);
}

static void
pm_conn_stream_class_init (PmConnStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->dispose = pm_conn_stream_dispose;
  object_class->finalize = pm_conn_stream_finalize;
  stream_class->get_input_stream = pm_conn_stream_get_input_stream;
  stream_class->get_output_stream = pm_conn_stream_get_output_stream;
  stream_class->close_fn = pm_conn_stream_close;
  stream_class->close_async = pm_conn_stream_close_async;
  stream_class->close_finish = pm_conn_stream_close_finish;

  /**
   * PmConnStream::limit-exceeded:
   * @stream: the stream
   * @code: the WebSocket close code that fits
   * @reason: what was passed
   *
   * The peer of a WebSocket sent more than
   * pm_conn_stream_limit_websocket() allows; no more of its input is
   * delivered.  Emitted once, from the main loop.
   */
  signals[SIGNAL_LIMIT_EXCEEDED] =
    g_signal_new ("limit-exceeded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
}

static void
pm_conn_stream_init (PmConnStream *self)
{
  self->context = g_main_context_ref_thread_default ();
}

static void
weak_ref_free (GWeakRef *ref)
{
  g_weak_ref_clear (ref);
  g_free (ref);
}

/**
 * pm_conn_stream_new:
 * @base: the accepted connection
 * @prefix: (nullable): what was read from it already
 * @request_length: the bytes of the request, head and body, or -1 if its
 *   end cannot be known (a chunked body, an upgrade)
 * @remote: the peer's address, as it is given to libsoup
 *
 * Wraps @base so that reading gives @prefix first, and then the rest of
 * the request from @base, and nothing past the request: what follows is
 * the next request, for whoever takes the connection in the
 * #PmConnStreamFinishFunc.  The stream can be
 * found again from a message on the connection through @remote (see
 * pm_conn_stream_dup_for_message()).
 *
 * Returns: (transfer full): a new #PmConnStream
 */
PmConnStream *
pm_conn_stream_new (GSocketConnection *base,
                    GBytes            *prefix,
                    gint64             request_length,
                    GSocketAddress    *remote)
{
  PmConnStream *self;
  GWeakRef *ref;

  g_return_val_if_fail (G_IS_SOCKET_CONNECTION (base), NULL);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (remote), NULL);

  self = g_object_new (PM_TYPE_CONN_STREAM, NULL);
  self->base = g_object_ref (base);
  self->input = g_object_new (PM_TYPE_CONN_INPUT, NULL);
  self->input->base = g_object_ref (g_io_stream_get_input_stream (G_IO_STREAM (base)));
  self->input->owner = self;
  self->input->request_left = request_length;
  if (prefix != NULL && g_bytes_get_size (prefix) > 0)
    self->input->prefix = g_bytes_ref (prefix);

  /* libsoup keeps @remote for as long as the connection lives and hands
   * it to every message; a weak reference, since the stream may go first. */
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  g_object_set_data_full (G_OBJECT (remote), STREAM_KEY, ref, (GDestroyNotify) weak_ref_free);
  return self;
}

/**
 * pm_conn_stream_dup_for_message:
 * @msg: a message a server got through #PmAcceptor
 *
 * Returns: (transfer full) (nullable): the stream of @msg's connection,
 *   or %NULL if it is gone or did not come through #PmAcceptor
 */
PmConnStream *
pm_conn_stream_dup_for_message (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  GWeakRef *ref;

  if (remote == NULL)
    return NULL;
  ref = g_object_get_data (G_OBJECT (remote), STREAM_KEY);
  return ref != NULL ? g_weak_ref_get (ref) : NULL;
}

/**
 * pm_conn_stream_limit_websocket:
 * @self: the stream of a connection that has become a WebSocket
 * @message_limit: the most bytes one incoming message may carry
 * @total_limit: the most bytes the peer may send in all
 *
 * From now on, counts the WebSocket frames the peer sends; past either
 * limit, stops delivering input and emits #PmConnStream::limit-exceeded
 * with close code 1009 (message) or 1008 (total).
 */
void
pm_conn_stream_limit_websocket (PmConnStream *self,
                                guint64       message_limit,
                                guint64       total_limit)
{
  g_return_if_fail (PM_IS_CONN_STREAM (self));

  memset (&self->input->frames, 0, sizeof self->input->frames);
  self->input->frames.message_limit = message_limit;
  self->input->frames.total_limit = total_limit;
  self->input->counting = TRUE;
}

/**
 * pm_conn_stream_set_keep_alive:
 * @self: a #PmConnStream
 * @keep_alive: whether the reply offers the client another request
 */
void
pm_conn_stream_set_keep_alive (PmConnStream *self,
                               gboolean      keep_alive)
{
  g_return_if_fail (PM_IS_CONN_STREAM (self));

  self->keep_alive = keep_alive;
}

/**
 * pm_conn_stream_get_keep_alive:
 * @self: a #PmConnStream
 *
 * Returns: whether the connection stays open for another request once
 *   this one is answered, so that the reply must not say
 *   `Connection: close`
 */
gboolean
pm_conn_stream_get_keep_alive (PmConnStream *self)
{
  g_return_val_if_fail (PM_IS_CONN_STREAM (self), FALSE);

  return self->keep_alive;
}

/**
 * pm_conn_stream_get_request_read:
 * @self: a #PmConnStream
 *
 * Returns: whether libsoup has read the whole request, body included
 */
gboolean
pm_conn_stream_get_request_read (PmConnStream *self)
{
  g_return_val_if_fail (PM_IS_CONN_STREAM (self), FALSE);

  return request_delivered (self->input);
}

/**
 * pm_conn_stream_set_answered:
 * @self: a #PmConnStream
 *
 * Says that the response went out whole, so that the connection may
 * carry another request.
 */
void
pm_conn_stream_set_answered (PmConnStream *self)
{
  g_return_if_fail (PM_IS_CONN_STREAM (self));

  self->answered = TRUE;
}

/**
 * pm_conn_stream_set_finish_func:
 * @self: a #PmConnStream
 * @finish: called once, when libsoup closes the stream
 * @owner: passed to @finish; kept alive until then
 *
 * Whoever takes the connection for its next request, if it may carry one:
 * @finish gets the connection, what the peer sent past the request, and
 * whether the connection is reusable, and returns %TRUE if it took the
 * connection, which is otherwise closed.
 */
void
pm_conn_stream_set_finish_func (PmConnStream          *self,
                                PmConnStreamFinishFunc finish,
                                GObject               *owner)
{
  g_return_if_fail (PM_IS_CONN_STREAM (self));
  g_return_if_fail (G_IS_OBJECT (owner));

  self->finish = finish;
  g_set_object (&self->finish_owner, owner);
}
