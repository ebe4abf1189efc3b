/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-update"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pm-error.h"
#include "pm-json-writer.h"
#include "pm-limits.h"
#include "pm-update.h"

/*
 * Validation and merging of the documents sent to PATCH /api/system.
 * Everything is checked before anything is stored, so a rejected update
 * leaves the device's overrides exactly as they were.
 */

/*
 * A strict RFC 8259 parser.  json-glib 1.6 is lenient (it takes single
 * quotes, comments, octal and hex numbers, raw control characters and
 * trailing documents), its parser recurses without a limit, and a name
 * repeated in one object costs it a scan of all the object's members;
 * this one accepts only JSON, refuses nesting deeper than
 * PM_LIMIT_JSON_DEPTH before any recursion can go deep, refuses numbers
 * that are not finite as a double, and takes time linear in the length
 * of the document.  It builds json-glib nodes as it goes.
 */

typedef struct
{
  const char *data;
  gsize       length;
  gsize       pos;
  guint       depth;
  PmError     code;
  const char *problem;  /* static */
  gboolean    not_finite;
  GString    *text;     /* the last string read, unescaped */
  GArray     *members;  /* (element-type Pending) */
} Checker;

static JsonNode *parse_value (Checker *c);

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

static JsonNode *
parse_number (Checker *c)
{
  gsize start = c->pos;
  gboolean negative = FALSE;
  gsize digits;
  char buffer[64];
  g_autofree char *long_text = NULL;
  const char *text;
  double value;

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
        {
          fail (c, PM_ERROR_INVALID_JSON, "a number has a leading zero");
          return NULL;
        }
    }
  else if (!check_digits (c))
    {
      return NULL;
    }
  if (peek (c) != '.' && peek (c) != 'e' && peek (c) != 'E')
    {
      /* An integer, kept as a 64-bit integer: a larger one would have to
       * wrap or lose digits. */
      if (!integer_fits (c->data + digits, c->data + c->pos, negative))
        {
          c->pos = digits;
          fail (c, PM_ERROR_INVALID_JSON,
                "an integer is outside the 64-bit range (write it with a fraction or an exponent)");
          return NULL;
        }
      {
        guint64 magnitude = 0;
        gsize i;

        for (i = digits; i < c->pos; i++)
          magnitude = magnitude * 10 + (guint64) (c->data[i] - '0');
        return json_node_init_int (json_node_alloc (),
                                   (gint64) (negative ? (guint64) 0 - magnitude : magnitude));
      }
    }
  if (peek (c) == '.')
    {
      c->pos++;
      if (!check_digits (c))
        return NULL;
    }
  if (peek (c) == 'e' || peek (c) == 'E')
    {
      c->pos++;
      if (peek (c) == '+' || peek (c) == '-')
        c->pos++;
      if (!check_digits (c))
        return NULL;
    }

  /* A double.  One past its range (1e999) would be stored as infinity
   * and read back as null: refused. */
  if (c->pos - start < sizeof buffer)
    {
      memcpy (buffer, c->data + start, c->pos - start);
      buffer[c->pos - start] = '\0';
      text = buffer;
    }
  else
    {
      text = long_text = g_strndup (c->data + start, c->pos - start);
    }
  value = g_ascii_strtod (text, NULL);
  if (!isfinite (value))
    {
      c->pos = start;
      c->not_finite = TRUE;
      fail (c, PM_ERROR_INVALID_JSON, NULL);
      return NULL;
    }
  return json_node_init_double (json_node_alloc (), value);
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

/* Reads the string at the current position into c->text, unescaped. */
static gboolean
read_string (Checker *c)
{
  gsize run;

  g_string_truncate (c->text, 0);
  c->pos++;  /* the opening quote */
  run = c->pos;
  for (;;)
    {
      int ch = peek (c);
      char unescaped;

      if (ch < 0)
        return fail (c, PM_ERROR_INVALID_JSON, "a string is not closed");
      if (ch == '"' || ch == '\\')
        g_string_append_len (c->text, c->data + run, c->pos - run);
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
          unescaped = (char) ch;
          break;
        case 'b':
          unescaped = '\b';
          break;
        case 'f':
          unescaped = '\f';
          break;
        case 'n':
          unescaped = '\n';
          break;
        case 'r':
          unescaped = '\r';
          break;
        case 't':
          unescaped = '\t';
          break;
        case 'u':
          {
            gunichar unit;
            char utf8[6];

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
                unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
              }
            g_string_append_len (c->text, utf8, g_unichar_to_utf8 (unit, utf8));
            run = c->pos;
          }
          continue;
        default:
          return fail (c, PM_ERROR_INVALID_JSON, "a string holds an unknown escape");
        }
      g_string_append_c (c->text, unescaped);
      run = c->pos;
    }
}

/* The members of the objects being built: each object's above those of
 * the objects that hold it. */
typedef struct
{
  char     *name;   /* (owned) */
  JsonNode *value;  /* (owned) */
} Pending;

/* Below this many members an object's names are compared one by one;
 * from it on, through a hash table. */
#define SCAN_MEMBERS 8

/* Adds a member to the object whose members start at @base, taking @name
 * and @value.  A name given twice keeps the place of its first and the
 * value of its last, as json-glib's own parser does. */
static void
add_member (Checker     *c,
            guint        base,
            GHashTable **index,
            char        *name,
            JsonNode    *value)
{
  Pending *members = (Pending *) (gpointer) c->members->data;
  guint n = c->members->len - base;
  guint i;
  gpointer found;
  Pending pending = { name, value };

  if (*index != NULL)
    {
      if (g_hash_table_lookup_extended (*index, name, NULL, &found))
        {
          i = GPOINTER_TO_UINT (found);
          goto replace;
        }
    }
  else
    {
      for (i = base; i < base + n; i++)
        if (strcmp (members[i].name, name) == 0)
          goto replace;
      if (n + 1 >= SCAN_MEMBERS)
        {
          *index = g_hash_table_new (g_str_hash, g_str_equal);
          for (i = base; i < base + n; i++)
            g_hash_table_insert (*index, members[i].name, GUINT_TO_POINTER (i));
        }
    }

  g_array_append_val (c->members, pending);
  if (*index != NULL)
    g_hash_table_insert (*index, name, GUINT_TO_POINTER (c->members->len - 1));
  return;

replace:
  json_node_unref (members[i].value);
  members[i].value = value;
  g_free (name);
}

/* An array or object, the opening bracket at the current position. */
static JsonNode *
parse_container (Checker *c,
                 gboolean is_object)
{
  char close = is_object ? '}' : ']';
  guint base = c->members->len;
  g_autoptr(GHashTable) index = NULL;
  g_autoptr(JsonArray) array = NULL;

  if (++c->depth > PM_LIMIT_JSON_DEPTH)
    {
      fail (c, PM_ERROR_TOO_DEEP, NULL);
      return NULL;
    }
  if (!is_object)
    array = json_array_new ();
  c->pos++;
  skip_blanks (c);

  if (peek (c) != close)
    for (;;)
      {
        g_autofree char *name = NULL;
        JsonNode *value;

        if (is_object)
          {
            if (peek (c) != '"')
              {
                fail (c, PM_ERROR_INVALID_JSON, "an object member needs a name in double quotes");
                return NULL;
              }
            if (!read_string (c))
              return NULL;
            name = g_strndup (c->text->str, c->text->len);
            skip_blanks (c);
            if (peek (c) != ':')
              {
                fail (c, PM_ERROR_INVALID_JSON, "a member name must be followed by a colon");
                return NULL;
              }
            c->pos++;
            skip_blanks (c);
          }
        value = parse_value (c);
        if (value == NULL)
          return NULL;
        if (is_object)
          add_member (c, base, &index, g_steal_pointer (&name), value);
        else
          json_array_add_element (array, value);

        skip_blanks (c);
        if (peek (c) == ',')
          {
            c->pos++;
            skip_blanks (c);
            continue;
          }
        if (peek (c) == close)
          break;
        fail (c, PM_ERROR_INVALID_JSON,
              is_object ? "expected a comma or } in an object" : "expected a comma or ] in an array");
        return NULL;
      }

  c->pos++;
  c->depth--;
  if (is_object)
    {
      g_autoptr(JsonObject) object = json_object_new ();
      guint i;

      /* Every name is new to the object: each member is added in
       * constant time. */
      for (i = base; i < c->members->len; i++)
        {
          Pending *member = &g_array_index (c->members, Pending, i);

          json_object_set_member (object, member->name, g_steal_pointer (&member->value));
          g_clear_pointer (&member->name, g_free);
        }
      g_array_set_size (c->members, base);
      return json_node_init_object (json_node_alloc (), object);
    }
  return json_node_init_array (json_node_alloc (), array);
}

static JsonNode *
parse_value (Checker *c)
{
  switch (peek (c))
    {
    case '{':
      return parse_container (c, TRUE);
    case '[':
      return parse_container (c, FALSE);
    case '"':
      if (!read_string (c))
        return NULL;
      return json_node_init_string (json_node_alloc (), c->text->str);
    case 't':
      if (!check_literal (c, "true"))
        return NULL;
      return json_node_init_boolean (json_node_alloc (), TRUE);
    case 'f':
      if (!check_literal (c, "false"))
        return NULL;
      return json_node_init_boolean (json_node_alloc (), FALSE);
    case 'n':
      if (!check_literal (c, "null"))
        return NULL;
      return json_node_init_null (json_node_alloc ());
    case -1:
      fail (c, PM_ERROR_INVALID_JSON, "the document ends too early");
      return NULL;
    default:
      if (peek (c) == '-' || g_ascii_isdigit (peek (c)))
        return parse_number (c);
      fail (c, PM_ERROR_INVALID_JSON, "unexpected character");
      return NULL;
    }
}

static void
clear_pending (gpointer data)
{
  Pending *member = data;

  g_clear_pointer (&member->name, g_free);
  g_clear_pointer (&member->value, json_node_unref);
}

/* Parses @data as exactly one JSON value, within the depth limit. */
static JsonNode *
parse_json (const char *data,
            gsize       length,
            GError    **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GArray) members = g_array_new (FALSE, FALSE, sizeof (Pending));
  Checker c = { data, length, 0, 0, PM_ERROR_INVALID_JSON, NULL, FALSE, text, members };
  g_autoptr(JsonNode) root = NULL;

  g_array_set_clear_func (members, clear_pending);

  skip_blanks (&c);
  root = parse_value (&c);
  if (root != NULL)
    {
      skip_blanks (&c);
      if (c.pos == length)
        return g_steal_pointer (&root);
      fail (&c, PM_ERROR_INVALID_JSON, "more text follows the document");
    }

  if (c.code == PM_ERROR_TOO_DEEP)
    g_set_error (error, PM_ERROR, PM_ERROR_TOO_DEEP,
                 "body nests deeper than %d levels", PM_LIMIT_JSON_DEPTH);
  else if (c.not_finite)
    g_set_error (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                 "the number at byte %" G_GSIZE_FORMAT " is beyond the range of a "
                 "double (about 1.8e308): only finite numbers can be stored",
                 c.pos);
  else
    g_set_error (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                 "malformed JSON at byte %" G_GSIZE_FORMAT ": %s", c.pos, c.problem);
  return NULL;
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
 * pm_update_parse_node:
 * @data: a JSON document
 * @length: its length in bytes
 * @error: return location for a #PmError
 *
 * Checks that @data is one JSON value within the size and depth limits,
 * every number in it finite.
 *
 * Returns: (transfer full): the value, or %NULL with @error set
 */
JsonNode *
pm_update_parse_node (const char *data,
                      gsize       length,
                      GError    **error)
{
  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length > PM_LIMIT_BODY_BYTES)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_TOO_LARGE,
                   "body of %" G_GSIZE_FORMAT " bytes is over the limit of %d bytes",
                   length, PM_LIMIT_BODY_BYTES);
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

  return parse_json (data, length, error);
}

/**
 * pm_update_parse:
 * @data: the update document
 * @length: its length in bytes
 * @error: return location for a #PmError
 *
 * Checks that @data is a JSON object within the size and depth limits,
 * every number in it finite.
 *
 * Returns: (transfer full): the object, or %NULL with @error set
 */
JsonObject *
pm_update_parse (const char *data,
                 gsize       length,
                 GError    **error)
{
  g_autoptr(JsonNode) root = pm_update_parse_node (data, length, error);

  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_NOT_AN_OBJECT,
                   "expected a JSON object, got %s", node_kind (root));
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

/* ---- the stored overrides ------------------------------------------------ */

/*
 * Each member is kept as its serialised text, "name":value, written once
 * when it is set: its length is what the size limit counts, and GET lays
 * it over the generated document without writing it again.
 */

typedef struct
{
  char *name;          /* (owned) */
  char *text;          /* (owned) "name":value */
  gsize length;        /* of text */
  gsize value_offset;  /* where the value starts in text */
} Member;

struct _PmOverrides
{
  GPtrArray  *members;       /* (element-type Member) in the order first set */
  GHashTable *index;         /* name -> Member; the names are the members' */
  gsize       member_bytes;  /* the sum of the members' lengths */
};

static void
member_free (gpointer data)
{
  Member *member = data;

  g_free (member->name);
  g_free (member->text);
  g_free (member);
}

/* The length of {m1,m2,...} for @count members of @member_bytes in all. */
static inline gsize
serialised_size (guint count,
                 gsize member_bytes)
{
  return 2 + member_bytes + (count > 0 ? count - 1 : 0);
}

/* Stores the member written at @text (@length bytes, its value from
 * @value_offset) under @name: in @member if the name is stored already,
 * else as a new last member. */
static void
store (PmOverrides *self,
       Member      *member,
       const char  *name,
       const char  *text,
       gsize        length,
       gsize        value_offset)
{
  if (member == NULL)
    {
      member = g_new0 (Member, 1);
      member->name = g_strdup (name);
      g_ptr_array_add (self->members, member);
      g_hash_table_insert (self->index, member->name, member);
    }
  else
    {
      self->member_bytes -= member->length;
      g_free (member->text);
    }
  member->text = g_strndup (text, length);
  member->length = length;
  member->value_offset = value_offset;
  self->member_bytes += length;
}

/* Writes "@name":@value at the end of @out; returns where the value
 * starts. */
static gsize
append_member (GString    *out,
               const char *name,
               JsonNode   *value,
               GHashTable *doubles)
{
  gsize value_offset;

  pm_json_append_string (out, name);
  g_string_append_c (out, ':');
  value_offset = out->len;
  pm_json_append_node_cached (out, value, doubles);
  return value_offset;
}

/**
 * pm_overrides_new:
 *
 * Returns: (transfer full): an empty store
 */
PmOverrides *
pm_overrides_new (void)
{
  PmOverrides *self = g_new0 (PmOverrides, 1);

  self->members = g_ptr_array_new_with_free_func (member_free);
  self->index = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

/**
 * pm_overrides_new_from_object:
 * @object: members to store
 *
 * Makes a store holding the members of @object, in its order, whatever
 * their number and size: for documents that come from the program itself,
 * not from a client.
 *
 * Returns: (transfer full): the store
 */
PmOverrides *
pm_overrides_new_from_object (JsonObject *object)
{
  PmOverrides *self = pm_overrides_new ();
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GHashTable) doubles = pm_json_double_cache_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  g_return_val_if_fail (object != NULL, self);

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    {
      gsize value_offset;

      g_string_truncate (text, 0);
      value_offset = append_member (text, name, value, doubles);
      store (self, g_hash_table_lookup (self->index, name), name, text->str, text->len,
             value_offset);
    }
  return self;
}

void
pm_overrides_free (PmOverrides *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->index);
  g_ptr_array_unref (self->members);
  g_free (self);
}

/**
 * pm_overrides_update:
 * @self: the stored overrides
 * @update: a parsed update
 * @error: return location for a #PmError
 *
 * Merges @update into @self, member by member: a member of @update
 * replaces the stored one of the same name, keeping its place; a new one
 * goes last; members not named keep their value.  Refused with
 * %PM_ERROR_TOO_LARGE, changing nothing, if the result would hold more
 * than %PM_LIMIT_OVERRIDES_MEMBERS members or serialise to more than
 * %PM_LIMIT_OVERRIDES_BYTES bytes, so that a client cannot grow a device's
 * document without bound.
 *
 * The cost is that of @update alone: each of its members is looked up in
 * constant time and written once, and the new size is worked out from
 * the lengths of the members it replaces.
 *
 * Returns: whether @update was stored
 */
gboolean
pm_overrides_update (PmOverrides *self,
                     JsonObject  *update,
                     GError     **error)
{
  g_autoptr(GString) text = NULL;
  g_autoptr(GHashTable) doubles = NULL;
  g_autofree gsize *offsets = NULL;
  g_autofree Member **stored = NULL;
  guint count, n, i;
  gsize member_bytes, total;
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (update != NULL, FALSE);

  n = json_object_get_size (update);
  /* For member i: where its text starts, where its value starts, and
   * (the next start) where it ends. */
  offsets = g_new (gsize, 2 * n + 2);
  stored = g_new (Member *, MAX (n, 1));
  count = self->members->len;
  member_bytes = self->member_bytes;

  /* What the store would be, before anything changes: first the member
   * count, then the size. */
  i = 0;
  json_object_iter_init_ordered (&iter, update);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    {
      stored[i] = g_hash_table_lookup (self->index, name);
      if (stored[i++] == NULL)
        count++;
    }
  if (count > PM_LIMIT_OVERRIDES_MEMBERS)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_TOO_LARGE,
                   "the stored overrides would hold %u members, over the limit of %d members",
                   count, PM_LIMIT_OVERRIDES_MEMBERS);
      return FALSE;
    }

  text = g_string_new (NULL);
  doubles = pm_json_double_cache_new ();
  i = 0;
  json_object_iter_init_ordered (&iter, update);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    {
      gsize value_at;

      offsets[2 * i] = text->len;
      value_at = append_member (text, name, value, doubles);
      offsets[2 * i + 1] = value_at - offsets[2 * i];
      if (stored[i] != NULL)
        member_bytes -= stored[i]->length;
      i++;
    }
  offsets[2 * n] = text->len;
  member_bytes += text->len;

  total = serialised_size (count, member_bytes);
  if (total > PM_LIMIT_OVERRIDES_BYTES)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_TOO_LARGE,
                   "the stored overrides would grow to %" G_GSIZE_FORMAT
                   " bytes, over the limit of %d bytes",
                   total, PM_LIMIT_OVERRIDES_BYTES);
      return FALSE;
    }

  i = 0;
  json_object_iter_init_ordered (&iter, update);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    {
      gsize start = offsets[2 * i];
      gsize end = offsets[2 * (i + 1)];

      store (self, stored[i], name, text->str + start, end - start, offsets[2 * i + 1]);
      i++;
    }
  g_assert (self->members->len == count && self->member_bytes == member_bytes);
  return TRUE;
}

/**
 * pm_overrides_get_size:
 * @self: the stored overrides
 *
 * Returns: how many members are stored
 */
guint
pm_overrides_get_size (const PmOverrides *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->members->len;
}

/**
 * pm_overrides_get_bytes:
 * @self: the stored overrides
 *
 * Returns: the length of pm_overrides_to_string()'s text, worked out
 *   without writing it
 */
gsize
pm_overrides_get_bytes (const PmOverrides *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return serialised_size (self->members->len, self->member_bytes);
}

/**
 * pm_overrides_lookup:
 * @self: the stored overrides
 * @name: a member name
 *
 * Returns: (transfer none) (nullable): the value stored under @name, as
 *   compact JSON text
 */
const char *
pm_overrides_lookup (const PmOverrides *self,
                     const char        *name)
{
  Member *member;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  member = g_hash_table_lookup (self->index, name);
  return member != NULL ? member->text + member->value_offset : NULL;
}

/**
 * pm_overrides_get_nth:
 * @self: the stored overrides
 * @index: a position, below pm_overrides_get_size()
 * @member: (out) (transfer none) (optional): the whole member as JSON
 *   text, "name":value
 *
 * Returns: (transfer none): the name of the member at @index, members
 *   being in the order they were first set
 */
const char *
pm_overrides_get_nth (const PmOverrides *self,
                      guint              index,
                      const char       **member)
{
  Member *m;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->members->len, NULL);

  m = g_ptr_array_index (self->members, index);
  if (member != NULL)
    *member = m->text;
  return m->name;
}

/**
 * pm_overrides_to_string:
 * @self: the stored overrides
 *
 * Returns: (transfer full): the stored members as one compact JSON object
 */
char *
pm_overrides_to_string (const PmOverrides *self)
{
  GString *out;
  guint i;

  g_return_val_if_fail (self != NULL, NULL);

  out = g_string_sized_new (pm_overrides_get_bytes (self) + 1);
  g_string_append_c (out, '{');
  for (i = 0; i < self->members->len; i++)
    {
      Member *member = g_ptr_array_index (self->members, i);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_len (out, member->text, member->length);
    }
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}
