/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-head"

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "pm-head.h"
#include "pm-limits.h"

/*
 * The screen every request head passes before libsoup parses it.
 *
 * libsoup 3.2.3 leaks the request line whenever it refuses a request's
 * framing itself (an unknown Transfer-Encoding, a Content-Length that is
 * not one number), answers such heads and over-long ones without a body
 * or with a bare reset, and reads a body it will refuse to the end.  So
 * plutomock reads each head itself and hands libsoup only heads that are
 * plainly well formed: one request line of a method token, an
 * origin-form target (or `*` for OPTIONS) and HTTP/1.0 or HTTP/1.1;
 * header lines of a token name and a value without control characters;
 * at most one Content-Length of plain digits within the body limit, or
 * `Transfer-Encoding: chunked` alone; a single Host without `/` where
 * HTTP/1.1 needs one; and no Expect but `100-continue`.  Everything else
 * gets a JSON error from the acceptor, whatever libsoup would have done.
 *
 * The screen is strict on purpose: it accepts what real clients send
 * (browsers, curl, Node, Python, libsoup), not everything RFC 9112
 * tolerates, such as folded header lines or blank lines before the
 * request line.
 */

/* RFC 6585; libsoup 3.2 has no name for it. */
#define PM_STATUS_HEADER_FIELDS_TOO_LARGE 431

/* RFC 9110 tchar. */
static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static PmHeadVerdict
refuse (PmHeadResult *result,
        guint         status,
        const char   *problem)
{
  result->status = status;
  result->problem = problem;
  return PM_HEAD_REFUSED;
}

/* The end of the line starting at @p (the LF), or NULL if it has not
 * arrived.  A CR is allowed only right before the LF: *bare_cr says
 * whether one was seen elsewhere. */
static const char *
line_end (const char *p,
          const char *end,
          gboolean   *bare_cr)
{
  const char *lf = memchr (p, '\n', end - p);
  const char *cr;

  *bare_cr = FALSE;
  if (lf == NULL)
    return NULL;
  cr = memchr (p, '\r', lf - p);
  if (cr != NULL && cr != lf - 1)
    *bare_cr = TRUE;
  return lf;
}

/* Whether an unfinished line holds a CR that is not its last byte (the
 * one that may yet be followed by its LF). */
static gboolean
has_bare_cr (const char *p,
             const char *end)
{
  const char *cr = memchr (p, '\r', end - p);

  return cr != NULL && cr != end - 1;
}

/* The length of the line from @p to @lf, without its CR. */
static gsize
content_length_of (const char *p,
                   const char *lf)
{
  if (lf > p && lf[-1] == '\r')
    lf--;
  return lf - p;
}

static PmHeadVerdict
screen_request_line (const char   *line,
                     gsize         length,
                     gboolean     *http10,
                     gboolean     *options,
                     PmHeadResult *result)
{
  const char *end = line + length;
  const char *p = line;
  const char *target;
  const char *version;

  for (; p < end && is_tchar (*p); p++)
    ;
  if (p == line)
    return refuse (result, SOUP_STATUS_BAD_REQUEST, "the request line has no method");
  if (p == end || *p != ' ')
    return refuse (result, SOUP_STATUS_BAD_REQUEST,
                   "the method is not followed by one space and a target");
  *options = ((gsize) (p - line) == strlen (SOUP_METHOD_OPTIONS) &&
              memcmp (line, SOUP_METHOD_OPTIONS, p - line) == 0);

  target = ++p;
  for (; p < end && *p > ' ' && *p < 0x7f; p++)
    ;
  if (p == target)
    return refuse (result, SOUP_STATUS_BAD_REQUEST, "the request line has no target");
  if (p == end || *p != ' ')
    return refuse (result, SOUP_STATUS_BAD_REQUEST,
                   "the target holds a space or a byte that is not printable ASCII");
  if (*target != '/' && !(*options && p - target == 1 && *target == '*'))
    return refuse (result, SOUP_STATUS_BAD_REQUEST,
                   "the target is not a path starting with '/'");

  version = ++p;
  if (end - version != 8 || memcmp (version, "HTTP/", 5) != 0 ||
      !g_ascii_isdigit (version[5]) || version[6] != '.' || !g_ascii_isdigit (version[7]))
    return refuse (result, SOUP_STATUS_BAD_REQUEST,
                   "the request line does not end in an HTTP version");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
    return refuse (result, SOUP_STATUS_HTTP_VERSION_NOT_SUPPORTED,
                   "only HTTP/1.0 and HTTP/1.1 are served");
  *http10 = (version[7] == '0');
  result->method_length = target - 1 - line;
  result->target_offset = target - line;
  result->target_length = version - 1 - target;
  return PM_HEAD_ACCEPTED;
}

typedef struct
{
  guint    n_host;
  gboolean host_has_slash;
  guint    n_content_length;
  gboolean content_length_bad;
  guint64  content_length;
  guint    n_transfer_encoding;
  gboolean transfer_encoding_chunked;
  gboolean expect_unknown;
  gboolean connection_close;
  gboolean upgrade;
  gboolean origin;
  gboolean expect;
  gboolean host_plain;
} Framing;

static gboolean
name_is (const char *name,
         gsize       name_length,
         const char *wanted)
{
  return name_length == strlen (wanted) && g_ascii_strncasecmp (name, wanted, name_length) == 0;
}

/* Reads a value of 1 to 18 decimal digits (so that any fits in 64 bits). */
static gboolean
parse_digits (const char *value,
              gsize       length,
              guint64    *out)
{
  guint64 n = 0;
  gsize i;

  if (length == 0 || length > 18)
    return FALSE;
  for (i = 0; i < length; i++)
    {
      if (!g_ascii_isdigit (value[i]))
        return FALSE;
      n = n * 10 + (guint64) (value[i] - '0');
    }
  *out = n;
  return TRUE;
}

/* Whether a Host value is a name or IPv4 address of letters, digits, '.',
 * '-' and '_', then a port from 1 to 65535 or none: what any HTTP
 * library reads the same way.  Anything else (an IPv6 literal, '?', '#',
 * '%', a port out of range) is for libsoup's own reading. */
static gboolean
host_is_plain (const char *value,
               gsize       length)
{
  gsize i = 0;
  guint64 port = 0;

  for (; i < length && (g_ascii_isalnum (value[i]) || value[i] == '.' || value[i] == '-' ||
                        value[i] == '_'); i++)
    ;
  if (i == 0)
    return FALSE;
  if (i == length)
    return TRUE;
  if (value[i] != ':' || !parse_digits (value + i + 1, length - i - 1, &port))
    return FALSE;
  return port >= 1 && port <= 65535;
}

static PmHeadVerdict
screen_header_line (const char   *line,
                    gsize         length,
                    Framing      *framing,
                    PmHeadResult *result)
{
  const char *end = line + length;
  const char *p = line;
  const char *value, *value_end;

  if (*p == ' ' || *p == '\t')
    return refuse (result, SOUP_STATUS_BAD_REQUEST, "folded header lines are not accepted");
  for (; p < end && is_tchar (*p); p++)
    ;
  if (p == line || p == end || *p != ':')
    return refuse (result, SOUP_STATUS_BAD_REQUEST,
                   "a header line is not a name, a colon and a value");

  for (value = p + 1; value < end && (*value == ' ' || *value == '\t'); value++)
    ;
  for (value_end = end; value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'); value_end--)
    ;
  for (p = value; p < value_end; p++)
    if (((guchar) *p < 0x20 && *p != '\t') || *p == 0x7f)
      return refuse (result, SOUP_STATUS_BAD_REQUEST,
                     "a header value holds a control character");

#define NAME_IS(wanted) name_is (line, strcspn (line, ":"), wanted)
  if (NAME_IS ("Host"))
    {
      framing->n_host++;
      if (memchr (value, '/', value_end - value) != NULL)
        framing->host_has_slash = TRUE;
      framing->host_plain = host_is_plain (value, value_end - value);
    }
  else if (NAME_IS ("Content-Length"))
    {
      framing->n_content_length++;
      if (!parse_digits (value, value_end - value, &framing->content_length))
        framing->content_length_bad = TRUE;
    }
  else if (NAME_IS ("Transfer-Encoding"))
    {
      framing->n_transfer_encoding++;
      framing->transfer_encoding_chunked =
        (value_end - value == 7 && g_ascii_strncasecmp (value, "chunked", 7) == 0);
    }
  else if (NAME_IS ("Connection"))
    {
      const char *token = value;

      /* A list of tokens: `close`, `keep-alive`, `Upgrade`... */
      while (token < value_end)
        {
          const char *token_end = token;
          gsize n;

          while (token_end < value_end && *token_end != ',')
            token_end++;
          for (n = token_end - token; n > 0 && (token[n - 1] == ' ' || token[n - 1] == '\t'); n--)
            ;
          if (n == 5 && g_ascii_strncasecmp (token, "close", 5) == 0)
            framing->connection_close = TRUE;
          else if (n == 7 && g_ascii_strncasecmp (token, "upgrade", 7) == 0)
            framing->upgrade = TRUE;
          token = token_end;
          while (token < value_end && (*token == ',' || *token == ' ' || *token == '\t'))
            token++;
        }
    }
  else if (NAME_IS ("Upgrade"))
    {
      framing->upgrade = TRUE;
    }
  else if (NAME_IS ("Origin"))
    {
      framing->origin = TRUE;
    }
  else if (NAME_IS ("Expect"))
    {
      framing->expect = TRUE;
      if (!(value_end - value == 12 && g_ascii_strncasecmp (value, "100-continue", 12) == 0))
        framing->expect_unknown = TRUE;
    }
#undef NAME_IS
  return PM_HEAD_ACCEPTED;
}

static PmHeadVerdict
screen_framing (const Framing *framing,
                gboolean       http10,
                gsize          body_limit,
                PmHeadResult  *result)
{
  if (framing->n_transfer_encoding > 0)
    {
      if (framing->n_transfer_encoding > 1 || !framing->transfer_encoding_chunked)
        return refuse (result, SOUP_STATUS_NOT_IMPLEMENTED,
                       "the only Transfer-Encoding served is a single 'chunked'");
      if (framing->n_content_length > 0)
        return refuse (result, SOUP_STATUS_BAD_REQUEST,
                       "a request may not carry both Transfer-Encoding and Content-Length");
    }
  if (framing->n_content_length > 1)
    return refuse (result, SOUP_STATUS_BAD_REQUEST,
                   "the request has more than one Content-Length header");
  if (framing->content_length_bad)
    return refuse (result, SOUP_STATUS_BAD_REQUEST,
                   "the Content-Length header is not one plain number");
  if (framing->n_content_length == 1 && framing->content_length > body_limit)
    return refuse (result, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                   "the request body is over the limit");
  if (framing->n_host > 1)
    return refuse (result, SOUP_STATUS_BAD_REQUEST, "the request has more than one Host header");
  if (framing->n_host == 0 && !http10)
    return refuse (result, SOUP_STATUS_BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
  if (framing->host_has_slash)
    return refuse (result, SOUP_STATUS_BAD_REQUEST, "the Host header holds a '/'");
  if (framing->expect_unknown)
    return refuse (result, SOUP_STATUS_EXPECTATION_FAILED,
                   "the only expectation served is '100-continue'");
  return PM_HEAD_ACCEPTED;
}

/**
 * pm_head_screen:
 * @data: what a connection has sent so far
 * @length: its length in bytes
 * @body_limit: the largest request body accepted
 * @result: (out): the details of the verdict
 *
 * Screens a request head against the limits of `pm-limits.h` and the
 * rules above.  Refusals come as soon as the bytes show them: a request
 * line that is already too long or malformed is refused before the rest
 * of the head arrives.  The cost is linear in @length.
 *
 * Returns: whether the head is incomplete, accepted or refused
 */
PmHeadVerdict
pm_head_screen (const char   *data,
                gsize         length,
                gsize         body_limit,
                PmHeadResult *result)
{
  const char *p = data;
  const char *lf;
  gboolean bare_cr;
  gboolean http10 = FALSE;
  gboolean options = FALSE;
  Framing framing = { 0, };
  guint n_headers = 0;
  gsize scanned;

  g_return_val_if_fail (data != NULL || length == 0, PM_HEAD_INCOMPLETE);
  g_return_val_if_fail (result != NULL, PM_HEAD_INCOMPLETE);

  result->length = 0;
  result->body_length = 0;
  result->keep_alive = FALSE;
  result->upgrade = FALSE;
  result->method_length = 0;
  result->target_offset = 0;
  result->target_length = 0;
  result->has_origin = FALSE;
  result->has_expect = FALSE;
  result->plain_host = FALSE;
  result->status = 0;
  result->problem = NULL;
  if (length == 0)
    return PM_HEAD_INCOMPLETE;

  scanned = MIN (length, PM_LIMIT_HEAD_BYTES);

  /* The request line. */
  lf = line_end (p, data + MIN (length, PM_LIMIT_REQUEST_LINE_BYTES), &bare_cr);
  if (lf == NULL)
    {
      gsize seen = MIN (length, PM_LIMIT_REQUEST_LINE_BYTES);

      /* Refuse what is already wrong in the part that has arrived. */
      if (seen > 0 && !is_tchar (data[0]))
        return refuse (result, SOUP_STATUS_BAD_REQUEST, "the request line has no method");
      if (has_bare_cr (data, data + seen))
        return refuse (result, SOUP_STATUS_BAD_REQUEST, "the request line holds a bare CR");
      if (length >= PM_LIMIT_REQUEST_LINE_BYTES)
        return refuse (result, SOUP_STATUS_REQUEST_URI_TOO_LONG,
                       "the request line is over the limit");
      return PM_HEAD_INCOMPLETE;
    }
  if (bare_cr)
    return refuse (result, SOUP_STATUS_BAD_REQUEST, "the request line holds a bare CR");
  if (screen_request_line (p, content_length_of (p, lf), &http10, &options, result) != PM_HEAD_ACCEPTED)
    return PM_HEAD_REFUSED;
  p = lf + 1;

  /* The header lines, up to the blank line. */
  for (;;)
    {
      gsize line_length;

      lf = line_end (p, data + scanned, &bare_cr);
      if (lf == NULL)
        {
          if (has_bare_cr (p, data + scanned))
            return refuse (result, SOUP_STATUS_BAD_REQUEST, "a header line holds a bare CR");
          if (length >= PM_LIMIT_HEAD_BYTES)
            return refuse (result, PM_STATUS_HEADER_FIELDS_TOO_LARGE,
                           "the request head is over the limit");
          return PM_HEAD_INCOMPLETE;
        }
      if (bare_cr)
        return refuse (result, SOUP_STATUS_BAD_REQUEST, "a header line holds a bare CR");
      line_length = content_length_of (p, lf);
      if (line_length == 0)
        break;
      if (++n_headers > PM_LIMIT_HEADER_LINES)
        return refuse (result, PM_STATUS_HEADER_FIELDS_TOO_LARGE,
                       "the request has too many header lines");
      if (screen_header_line (p, line_length, &framing, result) != PM_HEAD_ACCEPTED)
        return PM_HEAD_REFUSED;
      p = lf + 1;
    }

  if (screen_framing (&framing, http10, body_limit, result) != PM_HEAD_ACCEPTED)
    return PM_HEAD_REFUSED;
  result->length = lf + 1 - data;
  if (framing.n_transfer_encoding > 0)
    result->body_length = -1;
  else
    result->body_length = framing.n_content_length > 0 ? (gint64) framing.content_length : 0;
  result->upgrade = framing.upgrade;
  result->has_origin = framing.origin;
  result->has_expect = framing.expect;
  result->plain_host = framing.n_host == 1 && framing.host_plain;
  /* Persistent by default in HTTP/1.1 only; plutomock keeps no HTTP/1.0
   * connection open. */
  result->keep_alive = !http10 && !framing.connection_close && !framing.upgrade;
  return PM_HEAD_ACCEPTED;
}
