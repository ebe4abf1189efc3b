/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PmHeadVerdict:
 * @PM_HEAD_INCOMPLETE: the head has not ended yet; read more
 * @PM_HEAD_ACCEPTED: the head is complete and sound
 * @PM_HEAD_REFUSED: the head is refused; answer #PmHeadResult.status
 *
 * What pm_head_screen() makes of the bytes a connection has sent so far.
 */
typedef enum
{
  PM_HEAD_INCOMPLETE,
  PM_HEAD_ACCEPTED,
  PM_HEAD_REFUSED,
} PmHeadVerdict;

/**
 * PmHeadResult:
 * @length: accepted: the bytes of the head, its blank line included
 * @body_length: accepted: the bytes of the body that follows, or -1 for a
 *   chunked body, whose end only its chunks tell
 * @keep_alive: accepted: whether the client will send another request on
 *   the connection (HTTP/1.1, no `Connection: close`, no upgrade)
 * @upgrade: accepted: whether the request asks for a protocol upgrade
 * @method_length: accepted: the bytes of the method, which starts the head
 * @target_offset: accepted: where the request target starts in the head
 * @target_length: accepted: the bytes of the request target
 * @has_origin: accepted: whether the request carries an `Origin` header
 * @has_expect: accepted: whether the request carries an `Expect` header
 * @plain_host: accepted: whether the request has one `Host` that is a
 *   plain name or IPv4 address, with a port from 1 to 65535 or none
 * @status: refused: the HTTP status to answer
 * @problem: refused: what was wrong, a static string
 *
 * The details of a verdict.
 */
typedef struct
{
  gsize       length;
  gint64      body_length;
  gboolean    keep_alive;
  gboolean    upgrade;
  gsize       method_length;
  gsize       target_offset;
  gsize       target_length;
  gboolean    has_origin;
  gboolean    has_expect;
  gboolean    plain_host;
  guint       status;
  const char *problem;
} PmHeadResult;

PmHeadVerdict pm_head_screen (const char   *data,
                              gsize         length,
                              gsize         body_limit,
                              PmHeadResult *result);

G_END_DECLS
