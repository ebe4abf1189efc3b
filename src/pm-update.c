/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-update"

#include "config.h"

#include <string.h>

#include "pm-error.h"
#include "pm-json-writer.h"
#include "pm-update.h"

/*
 * Validation and merging of the documents sent to PATCH /api/system.
 * Everything is checked before anything is stored, so a rejected update
 * leaves the device's overrides exactly as they were.
 */

/*
 * A strict RFC 8259 check of the whole document, run before json-glib
 * parses it.  json-glib 1.6 is lenient (it takes single quotes, comments,
 * octal and hex numbers, raw control characters and trailing documents),
 * and its parser recurses without a limit; this check accepts only JSON,
 * and refuses nesting deeper than PM_UPDATE_MAX_DEPTH before any recursion
 * can go deep.
 */

typedef struct
{
  const char *data;
  gsize       length;
  gsize       pos;
  guint       depth;
  PmError     code;
  const char *problem;  /* static */
} Checker;

static gboolean check_value (Checker *c);

static gboolean
fail (Checker    *c,
      PmError     code,
      const char *problem)
{
  c->code = code;
  c->problem = problem;
  return FALSE;
}

static inline int
peek (Checker *c)
{
  return c->pos < c->length ? (guchar) c->data[c->pos] : -1;
}

static void
skip_blanks (Checker *c)
{
  while (c->pos < c->length &&
         (c->data[c->pos] == ' ' || c->data[c->pos] == '\t' ||
          c->data[c->pos] == '\n' || c->data[c->pos] == '\r'))
    c->pos++;
}

static gboolean
check_literal (Checker    *c,
               const char *word)
{
  gsize n = strlen (word);

  if (c->length - c->pos < n || memcmp (c->data + c->pos, word, n) != 0)
    return fail (c, PM_ERROR_INVALID_JSON, "unexpected text");
  c->pos += n;
  return TRUE;
}

static gboolean
check_digits (Checker *c)
{
  if (!g_ascii_isdigit (peek (c)))
    return fail (c, PM_ERROR_INVALID_JSON, "a number is missing digits");
  while (g_ascii_isdigit (peek (c)))
    c->pos++;
  return TRUE;
}

/* Whether the integer digits [start, end) fit in a 64-bit integer. */
static gboolean
integer_fits (const char *start,
              const char *end,
              gboolean    negative)
{
  const char *limit = negative ? "9223372036854775808" : "9223372036854775807";
  gsize n = end - start;

  if (n != strlen (limit))
    return n < strlen (limit);
  return memcmp (start, limit, n) <= 0;
}

static gboolean
check_number (Checker *c)
{
  gboolean negative = FALSE;
  gsize digits;

  if (peek (c) == '-')
    {
      negative = TRUE;
      c->pos++;
    }
  digits = c->pos;
  if (peek (c) == '0')
    {
      c->pos++;
      if (g_ascii_isdigit (peek (c)))
        return fail (c, PM_ERROR_INVALID_JSON, "a number has a leading zero");
    }
  else if (!check_digits (c))
    {
      return FALSE;
    }
  if (peek (c) != '.' && peek (c) != 'e' && peek (c) != 'E')
    {
      /* An integer: json-glib keeps it as a 64-bit integer and would
       * silently wrap a larger one. */
      if (!integer_fits (c->data + digits, c->data + c->pos, negative))
        {
          c->pos = digits;
          return fail (c, PM_ERROR_INVALID_JSON,
                       "an integer is outside the 64-bit range (write it with a fraction or an exponent)");
        }
      return TRUE;
    }
  if (peek (c) == '.')
    {
      c->pos++;
      if (!check_digits (c))
        return FALSE;
    }
  if (peek (c) == 'e' || peek (c) == 'E')
    {
      c->pos++;
      if (peek (c) == '+' || peek (c) == '-')
        c->pos++;
      if (!check_digits (c))
        return FALSE;
    }
  return TRUE;
}

static gboolean
read_hex4 (Checker  *c,
           gunichar *out)
{
  guint i;

  *out = 0;
  for (i = 0; i < 4; i++, c->pos++)
    {
      if (!g_ascii_isxdigit (peek (c)))
        return FALSE;
      *out = (*out << 4) | (gunichar) g_ascii_xdigit_value ((char) peek (c));
    }
  return TRUE;
}

static gboolean
check_string (Checker *c)
{
  c->pos++;  /* the opening quote */
  for (;;)
    {
      int ch = peek (c);

      if (ch < 0)
        return fail (c, PM_ERROR_INVALID_JSON, "a string is not closed");
      c->pos++;
      if (ch == '"')
        return TRUE;
      if (ch < 0x20)
        return fail (c, PM_ERROR_INVALID_JSON, "a string holds a raw control character");
      if (ch != '\\')
        continue;

      ch = peek (c);
      c->pos++;
      switch (ch)
        {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          break;
        case 'u':
          {
            gunichar unit;

            if (!read_hex4 (c, &unit))
              return fail (c, PM_ERROR_INVALID_JSON, "a \\u escape needs four hex digits");
            if (unit == 0)
              return fail (c, PM_ERROR_INVALID_JSON, "a string holds \\u0000");
            if (unit >= 0xdc00 && unit <= 0xdfff)
              return fail (c, PM_ERROR_INVALID_JSON, "a string holds an unpaired \\u surrogate");
            if (unit >= 0xd800 && unit <= 0xdbff)
              {
                gunichar low;

                if (peek (c) != '\\' || c->pos + 1 >= c->length || c->data[c->pos + 1] != 'u')
                  return fail (c, PM_ERROR_INVALID_JSON, "a string holds an unpaired \\u surrogate");
                c->pos += 2;
                if (!read_hex4 (c, &low))
                  return fail (c, PM_ERROR_INVALID_JSON, "a \\u escape needs four hex digits");
                if (low < 0xdc00 || low > 0xdfff)
                  return fail (c, PM_ERROR_INVALID_JSON, "a string holds an unpaired \\u surrogate");
              }
          }
          break;
        default:
          return fail (c, PM_ERROR_INVALID_JSON, "a string holds an unknown escape");
        }
    }
}

/* An array or object, the opening bracket at the current position. */
static gboolean
check_container (Checker *c,
                 gboolean is_object)
{
  char close = is_object ? '}' : ']';

  if (++c->depth > PM_UPDATE_MAX_DEPTH)
    return fail (c, PM_ERROR_TOO_DEEP, NULL);
  c->pos++;
  skip_blanks (c);
  if (peek (c) == close)
    {
      c->pos++;
      c->depth--;
      return TRUE;
    }

  for (;;)
    {
      if (is_object)
        {
          if (peek (c) != '"')
            return fail (c, PM_ERROR_INVALID_JSON, "an object member needs a name in double quotes");
          if (!check_string (c))
            return FALSE;
          skip_blanks (c);
          if (peek (c) != ':')
            return fail (c, PM_ERROR_INVALID_JSON, "a member name must be followed by a colon");
          c->pos++;
          skip_blanks (c);
        }
      if (!check_value (c))
        return FALSE;
      skip_blanks (c);
      if (peek (c) == ',')
        {
          c->pos++;
          skip_blanks (c);
          continue;
        }
      if (peek (c) == close)
        {
          c->pos++;
          c->depth--;
          return TRUE;
        }
      return fail (c, PM_ERROR_INVALID_JSON,
                   is_object ? "expected a comma or } in an object" : "expected a comma or ] in an array");
    }
}

static gboolean
check_value (Checker *c)
{
  switch (peek (c))
    {
    case '{':
      return check_container (c, TRUE);
    case '[':
      return check_container (c, FALSE);
    case '"':
      return check_string (c);
    case 't':
      return check_literal (c, "true");
    case 'f':
      return check_literal (c, "false");
    case 'n':
      return check_literal (c, "null");
    case -1:
      return fail (c, PM_ERROR_INVALID_JSON, "the document ends too early");
    default:
      if (peek (c) == '-' || g_ascii_isdigit (peek (c)))
        return check_number (c);
      return fail (c, PM_ERROR_INVALID_JSON, "unexpected character");
    }
}

/* Checks that @data is exactly one JSON value, within the depth limit. */
static gboolean
check_json (const char *data,
            gsize       length,
            GError    **error)
{
  Checker c = { data, length, 0, 0, PM_ERROR_INVALID_JSON, NULL };

  skip_blanks (&c);
  if (check_value (&c))
    {
      skip_blanks (&c);
      if (c.pos == length)
        return TRUE;
      fail (&c, PM_ERROR_INVALID_JSON, "more text follows the document");
    }

  if (c.code == PM_ERROR_TOO_DEEP)
    g_set_error (error, PM_ERROR, PM_ERROR_TOO_DEEP,
                 "body nests deeper than %d levels", PM_UPDATE_MAX_DEPTH);
  else
    g_set_error (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                 "malformed JSON at byte %" G_GSIZE_FORMAT ": %s", c.pos, c.problem);
  return FALSE;
}

static gboolean
is_blank (const char *data,
          gsize       length)
{
  gsize i;

  for (i = 0; i < length; i++)
    if (!g_ascii_isspace (data[i]))
      return FALSE;
  return TRUE;
}

static const char *
node_kind (JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_VALUE:
    default:
      break;
    }

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
    }
}

/**
 * pm_update_parse:
 * @data: the update document
 * @length: its length in bytes
 * @error: return location for a #PmError
 *
 * Checks that @data is a JSON object within the size and depth limits.
 *
 * Returns: (transfer full): the object, or %NULL with @error set
 */
JsonObject *
pm_update_parse (const char *data,
                 gsize       length,
                 GError    **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length > PM_UPDATE_MAX_BYTES)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_TOO_LARGE,
                   "body of %" G_GSIZE_FORMAT " bytes is over the limit of %d bytes",
                   length, PM_UPDATE_MAX_BYTES);
      return NULL;
    }
  if (length == 0 || is_blank (data, length))
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                           "body is empty; expected a JSON object");
      return NULL;
    }
  if (memchr (data, '\0', length) != NULL || !g_utf8_validate_len (data, length, NULL))
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                           "body is not valid UTF-8 text");
      return NULL;
    }
  if (!check_json (data, length, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, &local_error))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                   "malformed JSON: %s", local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                           "body is empty; expected a JSON object");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_NOT_AN_OBJECT,
                   "expected a JSON object, got %s", node_kind (root));
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

/**
 * pm_update_merged:
 * @overrides: the stored overrides
 * @update: a parsed update
 * @error: return location for a #PmError
 *
 * Merges @update into a copy of @overrides, as pm_update_merge() does,
 * and checks that the result stays within %PM_OVERRIDES_MAX_BYTES once
 * serialised, so that a client cannot grow a device's document without
 * bound.
 *
 * Returns: (transfer full): the merged overrides, or %NULL with
 *   %PM_ERROR_TOO_LARGE
 */
JsonObject *
pm_update_merged (JsonObject *overrides,
                  JsonObject *update,
                  GError    **error)
{
  g_autoptr(JsonObject) merged = json_object_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GString) text = g_string_new (NULL);

  g_return_val_if_fail (overrides != NULL, NULL);
  g_return_val_if_fail (update != NULL, NULL);

  pm_update_merge (merged, overrides);
  pm_update_merge (merged, update);

  node = json_node_init_object (json_node_alloc (), merged);
  pm_json_append_node (text, node);
  if (text->len > PM_OVERRIDES_MAX_BYTES)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_TOO_LARGE,
                   "the stored overrides would grow to %" G_GSIZE_FORMAT
                   " bytes, over the limit of %d bytes",
                   text->len, PM_OVERRIDES_MAX_BYTES);
      return NULL;
    }

  return g_steal_pointer (&merged);
}

/**
 * pm_update_merge:
 * @overrides: the stored overrides
 * @update: a parsed update
 *
 * Merges @update into @overrides, member by member: a member of @update
 * replaces the stored one of the same name; members not named keep their
 * value.
 */
void
pm_update_merge (JsonObject *overrides,
                 JsonObject *update)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  g_return_if_fail (overrides != NULL);
  g_return_if_fail (update != NULL);

  json_object_iter_init_ordered (&iter, update);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    json_object_set_member (overrides, name, json_node_copy (member));
}
