/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "test-update"

#include "config.h"

#include <string.h>
#include <time.h>

#include "pm-device.h"
#include "pm-error.h"
#include "pm-json-writer.h"
#include "pm-limits.h"
#include "pm-test-util.h"
#include "pm-update.h"

/*
 * Unit tests of the PATCH /api/system document checks and of the merge of
 * an accepted document into a device's stored overrides.
 */

/* The CPU time this thread has used, in microseconds. */
static gint64
thread_cpu_us (void)
{
  struct timespec now;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &now);
  return (gint64) now.tv_sec * G_USEC_PER_SEC + now.tv_nsec / 1000;
}
static JsonObject *
parse_ok (const char *data,
          gsize       length)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  object = pm_update_parse (data, length, &error);
  g_assert_no_error (error);
  g_assert_nonnull (object);
  return object;
}

static JsonObject *
parse_text_ok (const char *text)
{
  return parse_ok (text, strlen (text));
}

/* Checks that @data is rejected with @code and returns the message. */
static char *
parse_fails (const char *data,
             gsize       length,
             PmError     code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = NULL;

  object = pm_update_parse (data, length, &error);
  g_assert_null (object);
  g_assert_error (error, PM_ERROR, (gint) code);
  g_assert_nonnull (error->message);
  g_assert_cmpstr (error->message, !=, "");
  g_test_message ("rejected (%d): %s", error->code, error->message);

  /* The same without an error location does not crash. */
  g_assert_null (pm_update_parse (data, length, NULL));

  return g_strdup (error->message);
}

static char *
parse_text_fails (const char *text,
                  PmError     code)
{
  return parse_fails (text, strlen (text), code);
}

static char *
object_to_string (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, object);
  return json_to_string (node, FALSE);
}

/* A document of @depth nested containers, the outermost an object:
 * {"a":[[...[1]...]]}, @depth counting the object. */
static char *
nested_document (guint    depth,
                 gboolean objects)
{
  GString *out = g_string_new ("{\"a\":");
  guint i;

  g_assert_cmpuint (depth, >=, 1);
  for (i = 1; i < depth; i++)
    g_string_append (out, objects ? "{\"a\":" : "[");
  g_string_append (out, "1");
  for (i = 1; i < depth; i++)
    g_string_append_c (out, objects ? '}' : ']');
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

/* {"k":"xxx..."} of exactly @size bytes. */
static char *
document_of_size (gsize size)
{
  const char *head = "{\"k\":\"";
  const char *tail = "\"}";
  gsize fill = size - strlen (head) - strlen (tail);
  GString *out = g_string_sized_new (size + 1);

  g_string_append (out, head);
  while (fill-- > 0)
    g_string_append_c (out, 'x');
  g_string_append (out, tail);
  g_assert_cmpuint (out->len, ==, size);
  return g_string_free (out, FALSE);
}

/* ---- accepted documents --------------------------------------------------- */

static void
test_parse_object (void)
{
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonObject) empty = NULL;
  g_autoptr(JsonObject) spaced = NULL;
  g_autoptr(JsonObject) nested = NULL;
  g_autoptr(JsonObject) unicode = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  const char *names[] = { "power", "frequency", "ssid", "flag", "none", "ratio" };
  guint index = 0;

  object = parse_text_ok ("{\"power\":20,\"frequency\":550,\"ssid\":\"lab\","
                          "\"flag\":true,\"none\":null,\"ratio\":0.25}");
  g_assert_cmpuint (json_object_get_size (object), ==, 6);
  g_assert_cmpint (json_object_get_int_member (object, "power"), ==, 20);
  g_assert_cmpint (json_object_get_int_member (object, "frequency"), ==, 550);
  g_assert_cmpstr (json_object_get_string_member (object, "ssid"), ==, "lab");
  g_assert_true (json_object_get_boolean_member (object, "flag"));
  g_assert_true (json_object_get_null_member (object, "none"));
  g_assert_cmpfloat (json_object_get_double_member (object, "ratio"), ==, 0.25);

  /* Members come back in document order. */
  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_assert_cmpuint (index, <, G_N_ELEMENTS (names));
      g_assert_cmpstr (name, ==, names[index]);
      index++;
    }
  g_assert_cmpuint (index, ==, G_N_ELEMENTS (names));

  empty = parse_text_ok ("{}");
  g_assert_cmpuint (json_object_get_size (empty), ==, 0);

  spaced = parse_text_ok (" \r\n\t{ \"power\" : 21 }\n\n");
  g_assert_cmpint (json_object_get_int_member (spaced, "power"), ==, 21);

  nested = parse_text_ok ("{\"pools\":[{\"id\":0,\"url\":\"a\"},{\"id\":1}],\"o\":{\"p\":{}}}");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (nested, "pools")), ==, 2);
  g_assert_true (json_object_has_member (json_object_get_object_member (nested, "o"), "p"));

  unicode = parse_text_ok ("{\"s\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \xf0\x9f\x98\x80\"}");
  g_assert_cmpstr (json_object_get_string_member (unicode, "s"), ==,
                   "caf\xc3\xa9 \xc3\xa9 \xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
}

/* Only @length bytes are read: what follows is not part of the body. */
static void
test_parse_length (void)
{
  const char buffer[] = "{\"power\":22}GARBAGE{[";
  g_autoptr(JsonObject) object = parse_ok (buffer, strlen ("{\"power\":22}"));
  g_autofree char *message = NULL;

  g_assert_cmpint (json_object_get_int_member (object, "power"), ==, 22);

  /* Cut short, the same bytes are malformed. */
  message = parse_fails (buffer, 5, PM_ERROR_INVALID_JSON);
}

/* ---- rejected documents --------------------------------------------------- */

static void
test_parse_empty (void)
{
  const char *blanks[] = { " ", "\n", "\r\n", "\t \t", "    \n\n\n   " };
  g_autofree char *message = NULL;
  gsize i;

  message = parse_fails ("", 0, PM_ERROR_INVALID_JSON);
  g_assert_nonnull (strstr (message, "empty"));
  g_clear_pointer (&message, g_free);

  message = parse_fails (NULL, 0, PM_ERROR_INVALID_JSON);
  g_assert_nonnull (strstr (message, "empty"));

  for (i = 0; i < G_N_ELEMENTS (blanks); i++)
    {
      g_autofree char *blank_message = parse_text_fails (blanks[i], PM_ERROR_INVALID_JSON);

      g_assert_nonnull (strstr (blank_message, "empty"));
    }
}

static void
test_parse_malformed (void)
{
  const char *documents[] = {
    "{",
    "}",
    "{\"power\":",
    "{\"power\":}",
    "{\"power\":20,}",
    "{\"power\" 20}",
    "{\"power\":20 \"frequency\":550}",
    "{power:20}",
    "{\"power\":tru}",
    "{\"power\":NaN}",
    "{\"power\":+1}",
    "{\"power\":[1,]}",
    "{\"power\":20}}",
    "{\"power\":\"unterminated}",
    "{\"s\":\"\\ud83d\"}",
    "hello",
    "<html></html>",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (documents); i++)
    {
      g_autofree char *message = NULL;

      g_test_message ("%s", documents[i]);
      message = parse_text_fails (documents[i], PM_ERROR_INVALID_JSON);
      g_assert_nonnull (strstr (message, "JSON"));
    }
}

/* Documents that are not JSON by RFC 8259 but that a lenient parser might
 * take: each must be rejected as malformed too. */
static void
test_parse_malformed_lenient (void)
{
  const char *documents[] = {
    "{\"power\":20} {\"power\":25}",   /* two documents */
    "{\"power\":20} [1]",              /* trailing content */
    "{'power':20}",                    /* single quotes */
    "{\"power\":20 /* comment */}",    /* comments */
    "{\"power\":20} // comment",       /* comments */
    "{\"power\":020}",                 /* leading zero */
    "{\"power\":.5}",                  /* no integer part */
    "{\"power\":5.}",                  /* no fraction digits */
    "{\"power\":0x14}",                /* hex */
    "{\"s\":\"tab\tinside\"}",         /* raw control character in a string */
    "{\"s\":\"\\x41\"}",               /* unknown escape */
  };
  g_autoptr(GString) accepted = g_string_new (NULL);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (documents); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) object = pm_update_parse (documents[i], strlen (documents[i]),
                                                      &error);

      if (object != NULL)
        {
          g_autofree char *parsed = object_to_string (object);

          g_test_message ("malformed JSON %s was accepted as %s", documents[i], parsed);
          g_string_append_printf (accepted, "%s%s", accepted->len > 0 ? "  " : "", documents[i]);
        }
      else
        {
          g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_JSON);
        }
    }

  if (accepted->len > 0)
    g_test_fail_printf ("malformed JSON accepted: %s", accepted->str);
}

static void
test_parse_not_object (void)
{
  const struct
  {
    const char *document;
    const char *kind;
  } cases[] = {
    { "[]", "array" },
    { "[{\"power\":20}]", "array" },
    { "\"power\"", "string" },
    { "42", "number" },
    { "-1.5", "number" },
    { "true", "boolean" },
    { "false", "boolean" },
    { "null", "null" },
    { "  [1, 2, 3]  ", "array" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = NULL;

      g_test_message ("%s", cases[i].document);
      message = parse_text_fails (cases[i].document, PM_ERROR_NOT_AN_OBJECT);
      /* Says what was expected and what came. */
      g_assert_nonnull (strstr (message, "JSON object"));
      g_assert_nonnull (strstr (message, cases[i].kind));
    }
}

static void
test_parse_invalid_utf8 (void)
{
  const char *documents[] = {
    "{\"s\":\"\xff\"}",                 /* never valid */
    "{\"s\":\"\xc3\"}",                 /* truncated sequence */
    "{\"s\":\"\xc0\xaf\"}",             /* overlong '/' */
    "{\"s\":\"\xed\xa0\x80\"}",         /* encoded surrogate */
    "{\"s\":\"\xf4\x90\x80\x80\"}",     /* beyond U+10FFFF */
    "{\"s\":\"ok\"}\xe2\x82",           /* truncated at the end */
    "{\"\xfe\":1}",                     /* in a name */
    "\xef\xbb\xbf\xff{}",               /* after a byte order mark */
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (documents); i++)
    {
      g_autofree char *message = parse_text_fails (documents[i], PM_ERROR_INVALID_JSON);

      g_assert_nonnull (strstr (message, "UTF-8"));
    }
}

static void
test_parse_embedded_nul (void)
{
  const char in_string[] = "{\"s\":\"a\0b\"}";
  const char after[] = "{\"s\":1}\0";
  const char before[] = "\0{\"s\":1}";
  g_autofree char *message1 = NULL;
  g_autofree char *message2 = NULL;
  g_autofree char *message3 = NULL;

  message1 = parse_fails (in_string, sizeof in_string - 1, PM_ERROR_INVALID_JSON);
  message2 = parse_fails (after, sizeof after - 1, PM_ERROR_INVALID_JSON);
  message3 = parse_fails (before, sizeof before - 1, PM_ERROR_INVALID_JSON);
}

static void
test_parse_size_limit (void)
{
  g_autofree char *at_limit = document_of_size (PM_LIMIT_BODY_BYTES);
  g_autofree char *over_limit = document_of_size (PM_LIMIT_BODY_BYTES + 1);
  g_autofree char *far_over = document_of_size (16 * PM_LIMIT_BODY_BYTES);
  g_autofree char *limit_text = g_strdup_printf ("%d", PM_LIMIT_BODY_BYTES);
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *message = NULL;
  g_autofree char *message_far = NULL;
  g_autofree char *blank = NULL;
  g_autofree char *message_blank = NULL;

  g_assert_cmpint (PM_LIMIT_BODY_BYTES, ==, 64 * 1024);

  object = parse_ok (at_limit, PM_LIMIT_BODY_BYTES);
  g_assert_cmpuint (strlen (json_object_get_string_member (object, "k")), ==,
                    PM_LIMIT_BODY_BYTES - strlen ("{\"k\":\"\"}"));

  message = parse_fails (over_limit, PM_LIMIT_BODY_BYTES + 1, PM_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (message, limit_text));
  message_far = parse_fails (far_over, 16 * PM_LIMIT_BODY_BYTES, PM_ERROR_TOO_LARGE);

  /* Size is checked before anything else. */
  blank = g_strnfill (PM_LIMIT_BODY_BYTES + 1, ' ');
  message_blank = parse_fails (blank, PM_LIMIT_BODY_BYTES + 1, PM_ERROR_TOO_LARGE);
}

static void
test_parse_depth_limit (void)
{
  gboolean objects;

  g_assert_cmpint (PM_LIMIT_JSON_DEPTH, ==, 64);

  for (objects = FALSE; objects <= TRUE; objects++)
    {
      g_autofree char *at_limit = nested_document (PM_LIMIT_JSON_DEPTH, objects);
      g_autofree char *over_limit = nested_document (PM_LIMIT_JSON_DEPTH + 1, objects);
      g_autoptr(JsonObject) object = parse_text_ok (at_limit);
      g_autofree char *message = parse_text_fails (over_limit, PM_ERROR_TOO_DEEP);
      g_autofree char *limit_text = g_strdup_printf ("%d", PM_LIMIT_JSON_DEPTH);
      JsonNode *node = json_object_get_member (object, "a");
      guint depth = 1;

      g_assert_nonnull (strstr (message, limit_text));

      /* The accepted document really is 64 deep. */
      while (!JSON_NODE_HOLDS_VALUE (node))
        {
          depth++;
          if (JSON_NODE_HOLDS_ARRAY (node))
            node = json_array_get_element (json_node_get_array (node), 0);
          else
            node = json_object_get_member (json_node_get_object (node), "a");
        }
      g_assert_cmpuint (depth, ==, PM_LIMIT_JSON_DEPTH);
      g_assert_cmpint (json_node_get_int (node), ==, 1);
    }

  /* Sixty-four levels reached twice, one after the other, is still 64;
   * one more level in the second is not. */
  {
    g_autofree char *open = g_strnfill (PM_LIMIT_JSON_DEPTH - 1, '[');
    g_autofree char *close = g_strnfill (PM_LIMIT_JSON_DEPTH - 1, ']');
    g_autofree char *twice = g_strdup_printf ("{\"x\":%s1%s,\"y\":%s2%s}",
                                              open, close, open, close);
    g_autofree char *deeper = g_strdup_printf ("{\"x\":%s1%s,\"y\":[%s2%s]}",
                                               open, close, open, close);
    g_autoptr(JsonObject) object = parse_text_ok (twice);
    g_autofree char *message = parse_text_fails (deeper, PM_ERROR_TOO_DEEP);

    g_assert_true (json_object_has_member (object, "y"));
  }
}

/* Deep nesting fails quickly and without exhausting the stack, inside the
 * size limit (about 32000 levels) and far beyond it. */
static void
test_parse_deep_fast (void)
{
  const guint depths[] = { 1000, 32000, 100000 };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (depths); i++)
    {
      g_autofree char *open = g_strnfill (depths[i], '[');
      g_autofree char *close = g_strnfill (depths[i], ']');
      g_autofree char *balanced = g_strconcat (open, close, NULL);
      g_autofree char *objects = NULL;
      GString *object_text = g_string_new (NULL);
      gint64 start = thread_cpu_us ();
      guint j;

      for (j = 0; j < depths[i]; j++)
        g_string_append (object_text, "{\"a\":");
      objects = g_string_free (object_text, FALSE);

      {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) object = pm_update_parse (balanced, strlen (balanced), &error);

        g_assert_null (object);
        g_assert_true (g_error_matches (error, PM_ERROR, PM_ERROR_TOO_DEEP) ||
                       g_error_matches (error, PM_ERROR, PM_ERROR_TOO_LARGE));
        if (strlen (balanced) <= PM_LIMIT_BODY_BYTES)
          g_assert_error (error, PM_ERROR, PM_ERROR_TOO_DEEP);
      }
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) object = pm_update_parse (open, strlen (open), &error);

        g_assert_null (object);
        if (strlen (open) <= PM_LIMIT_BODY_BYTES)
          g_assert_error (error, PM_ERROR, PM_ERROR_TOO_DEEP);
        else
          g_assert_error (error, PM_ERROR, PM_ERROR_TOO_LARGE);
      }
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonObject) object = pm_update_parse (objects, strlen (objects), &error);

        g_assert_null (object);
        if (strlen (objects) <= PM_LIMIT_BODY_BYTES)
          g_assert_error (error, PM_ERROR, PM_ERROR_TOO_DEEP);
        else
          g_assert_error (error, PM_ERROR, PM_ERROR_TOO_LARGE);
      }

      /* CPU time, which a busy machine does not stretch: refusing deep
       * input never recurses or backtracks. */
      g_test_message ("depth %u: %" G_GINT64_FORMAT " µs of CPU", depths[i],
                      thread_cpu_us () - start);
      g_assert_cmpint (thread_cpu_us () - start, <, G_USEC_PER_SEC);
    }
}

/* Brackets inside strings are text, not nesting; escaped quotes do not end
 * a string, escaped backslashes do. */
static void
test_parse_depth_strings (void)
{
  g_autofree char *brackets = g_strnfill (200, '[');
  g_autofree char *braces = g_strnfill (200, '{');
  g_autofree char *closers = g_strnfill (200, ']');
  g_autofree char *in_string = g_strdup_printf ("{\"a\":\"%s%s%s\",\"%s\":1}",
                                                brackets, braces, closers, brackets);
  g_autofree char *after_quote = g_strdup_printf ("{\"a\":\"\\\"%s\\\"%s\"}", brackets, braces);
  g_autofree char *deep = nested_document (PM_LIMIT_JSON_DEPTH + 1, FALSE);
  g_autofree char *after_backslash = g_strdup_printf ("{\"k\":\"\\\\\",\"n\":%s}", deep + 5);
  g_autoptr(JsonObject) object1 = NULL;
  g_autoptr(JsonObject) object2 = NULL;
  g_autofree char *message = NULL;

  object1 = parse_text_ok (in_string);
  g_assert_cmpuint (strlen (json_object_get_string_member (object1, "a")), ==, 600);
  g_assert_true (json_object_has_member (object1, brackets));

  object2 = parse_text_ok (after_quote);
  g_assert_cmpuint (strlen (json_object_get_string_member (object2, "a")), ==, 402);

  /* {"k":"\\","n":[[[...]]]}: the string ends after the escaped
   * backslash, so the 65 levels after it count. */
  after_backslash[strlen (after_backslash) - 1] = '\0';
  g_test_message ("%s", after_backslash);
  message = parse_text_fails (after_backslash, PM_ERROR_TOO_DEEP);
}

/* ---- merging -------------------------------------------------------------- */

static void
merge_text (PmOverrides *overrides,
            const char  *text)
{
  g_autoptr(JsonObject) update = parse_text_ok (text);
  g_autoptr(GError) error = NULL;

  g_assert_true (pm_overrides_update (overrides, update, &error));
  g_assert_no_error (error);
}

/* Checks that @overrides, written out compactly, is @expected, and that
 * the size and member count the store keeps are those of that text. */
static void
assert_overrides (PmOverrides *overrides,
                  const char  *expected)
{
  g_autofree char *text = pm_overrides_to_string (overrides);
  g_autoptr(JsonObject) reread = parse_text_ok (text);

  g_assert_cmpstr (text, ==, expected);
  g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, strlen (text));
  g_assert_cmpuint (pm_overrides_get_size (overrides), ==, json_object_get_size (reread));
}

static gint64
stored_int (PmOverrides *overrides,
            const char  *name)
{
  const char *value = pm_overrides_lookup (overrides, name);
  char *end = NULL;
  gint64 n;

  g_assert_nonnull (value);
  n = g_ascii_strtoll (value, &end, 10);
  g_assert_true (end != value && *end == '\0');
  return n;
}

static void
test_merge_example (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();

  assert_overrides (overrides, "{}");
  g_assert_null (pm_overrides_lookup (overrides, "power"));

  merge_text (overrides, "{\"power\":20,\"frequency\":550}");
  g_assert_cmpuint (pm_overrides_get_size (overrides), ==, 2);
  g_assert_cmpint (stored_int (overrides, "power"), ==, 20);
  g_assert_cmpint (stored_int (overrides, "frequency"), ==, 550);

  merge_text (overrides, "{\"power\":25}");
  g_assert_cmpuint (pm_overrides_get_size (overrides), ==, 2);
  g_assert_cmpint (stored_int (overrides, "power"), ==, 25);
  g_assert_cmpint (stored_int (overrides, "frequency"), ==, 550);

  /* A replaced member keeps its place; new ones go last. */
  merge_text (overrides, "{\"ssid\":\"x\",\"power\":\"high\"}");
  assert_overrides (overrides, "{\"power\":\"high\",\"frequency\":550,\"ssid\":\"x\"}");

  /* An empty update changes nothing. */
  merge_text (overrides, "{}");
  assert_overrides (overrides, "{\"power\":\"high\",\"frequency\":550,\"ssid\":\"x\"}");
}

/* A nested value is replaced whole, not merged into. */
static void
test_merge_shallow (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();

  merge_text (overrides, "{\"nested\":{\"a\":1,\"b\":2},\"list\":[1,2,3],\"keep\":true}");
  merge_text (overrides, "{\"nested\":{\"c\":3},\"list\":[4]}");
  assert_overrides (overrides, "{\"nested\":{\"c\":3},\"list\":[4],\"keep\":true}");

  /* A value may change type, including to null: null is stored as a
   * value like any other, it does not remove the member. */
  merge_text (overrides, "{\"nested\":null,\"list\":\"none\"}");
  assert_overrides (overrides, "{\"nested\":null,\"list\":\"none\",\"keep\":true}");
  g_assert_cmpstr (pm_overrides_lookup (overrides, "nested"), ==, "null");
  merge_text (overrides, "{\"nested\":[]}");
  assert_overrides (overrides, "{\"nested\":[],\"list\":\"none\",\"keep\":true}");
}

/* The stored overrides outlive the update they came from. */
static void
test_merge_owns_values (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  JsonObject *update = parse_text_ok ("{\"pool\":{\"url\":\"stratum+tcp://x\",\"ports\":[1,2]},"
                                      "\"s\":\"value\"}");

  g_assert_true (pm_overrides_update (overrides, update, NULL));
  before = pm_overrides_to_string (overrides);
  json_object_unref (update);

  after = pm_overrides_to_string (overrides);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpstr (after, ==, "{\"pool\":{\"url\":\"stratum+tcp://x\",\"ports\":[1,2]},\"s\":\"value\"}");
}

/* A rejected update leaves the stored overrides exactly as they were. */
static void
test_merge_failed_parse (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();
  g_autofree char *before = NULL;
  g_autofree char *deep = nested_document (PM_LIMIT_JSON_DEPTH + 1, TRUE);
  g_autofree char *large = document_of_size (PM_LIMIT_BODY_BYTES + 1);
  const char *bad[] = {
    "", "   ", "{\"power\":30", "[{\"power\":30}]", "\"power\"", "30", "true", "null",
    "{\"power\":\"\xff\"}", deep, large, "{\"power\":30,\"x\":1e999}",
  };
  gsize i;

  merge_text (overrides, "{\"power\":20,\"frequency\":550,\"nested\":{\"a\":[1,{\"b\":null}]}}");
  before = pm_overrides_to_string (overrides);

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) update = pm_update_parse (bad[i], strlen (bad[i]), &error);
      g_autofree char *after = NULL;

      g_assert_null (update);
      g_assert_nonnull (error);
      g_assert_true (error->domain == PM_ERROR);
      /* What a caller does: merge only what was accepted. */
      if (update != NULL)
        pm_overrides_update (overrides, update, NULL);
      after = pm_overrides_to_string (overrides);
      g_assert_cmpstr (after, ==, before);
    }

  /* A NUL inside the body, which strlen() would hide. */
  {
    const char with_nul[] = "{\"power\":99}\0{\"x\":1}";
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) update = pm_update_parse (with_nul, sizeof with_nul - 1, &error);
    g_autofree char *after = NULL;

    g_assert_null (update);
    g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_JSON);
    after = pm_overrides_to_string (overrides);
    g_assert_cmpstr (after, ==, before);
  }
}

/* Integers must fit in 64 bits, since json-glib would wrap them; a
 * fraction or an exponent makes a number a double, which is fine. */
static void
test_parse_integer_range (void)
{
  static const char *const fits[] = {
    "{\"n\":9223372036854775807}",
    "{\"n\":-9223372036854775808}",
    "{\"n\":0}",
    "{\"n\":-0}",
    "{\"n\":1e30}",
    "{\"n\":123456789012345678901234567890.5}",
    "{\"n\":-1.5e300}",
  };
  static const char *const too_big[] = {
    "{\"n\":9223372036854775808}",
    "{\"n\":-9223372036854775809}",
    "{\"n\":123456789012345678901234567890}",
    "{\"n\":[1,99999999999999999999]}",
  };
  g_autoptr(JsonObject) max = NULL;
  g_autoptr(JsonObject) min = NULL;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (fits); i++)
    {
      g_autoptr(JsonObject) object = parse_text_ok (fits[i]);

      g_assert_true (json_object_has_member (object, "n"));
    }
  for (i = 0; i < G_N_ELEMENTS (too_big); i++)
    {
      g_autofree char *message = parse_text_fails (too_big[i], PM_ERROR_INVALID_JSON);

      g_assert_nonnull (strstr (message, "64-bit"));
    }

  max = parse_text_ok (fits[0]);
  g_assert_cmpint (json_object_get_int_member (max, "n"), ==, G_MAXINT64);
  min = parse_text_ok (fits[1]);
  g_assert_cmpint (json_object_get_int_member (min, "n"), ==, G_MININT64);
}

/* \u0000 and unpaired surrogates cannot be stored faithfully: refused;
 * a surrogate pair is a character like any other. */
static void
test_parse_unicode_escapes (void)
{
  static const char *const refused[] = {
    "{\"a\":\"\\u0000b\"}",
    "{\"\\u0000\":1}",
    "{\"a\":\"\\ud800\"}",
    "{\"a\":\"\\ud800x\"}",
    "{\"a\":\"\\ud800\\u0041\"}",
    "{\"a\":\"\\udc00\"}",
    "{\"a\":\"\\u12\"}",
  };
  g_autoptr(JsonObject) pair = parse_text_ok ("{\"a\":\"\\ud83d\\ude00 \\u00e9\"}");
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *message = parse_text_fails (refused[i], PM_ERROR_INVALID_JSON);

      g_assert_nonnull (strstr (message, "\\u"));
    }
  g_assert_cmpstr (json_object_get_string_member (pair, "a"), ==, "\xf0\x9f\x98\x80 \xc3\xa9");
}

/* The stored overrides stay within their size limit, and are left alone
 * by an update that would pass it. */
static void
test_merge_limit (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();
  g_autofree char *pad = g_strnfill (100 * 1024, 'x');
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;
  guint i;

  merge_text (overrides, "{\"power\":20}");
  for (i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("pad%u", i);
      g_autoptr(JsonObject) update = json_object_new ();

      /* Built by hand: 100 KiB is over the limit of one document. */
      json_object_set_string_member (update, name, pad);
      g_assert_true (pm_overrides_update (overrides, update, &error));
      g_assert_no_error (error);
    }
  before = pm_overrides_to_string (overrides);

  {
    g_autoptr(JsonObject) update = json_object_new ();

    json_object_set_string_member (update, "pad2", pad);
    g_assert_false (pm_overrides_update (overrides, update, &error));
    g_assert_error (error, PM_ERROR, PM_ERROR_TOO_LARGE);
    g_assert_nonnull (strstr (error->message, "overrides"));
    g_clear_error (&error);
  }
  after = pm_overrides_to_string (overrides);
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, strlen (after));

  /* Replacing a big member with a small one is always fine. */
  merge_text (overrides, "{\"pad0\":\"small\"}");
  g_assert_cmpstr (pm_overrides_lookup (overrides, "pad0"), ==, "\"small\"");
  g_assert_cmpint (stored_int (overrides, "power"), ==, 20);
  after = (g_free (after), pm_overrides_to_string (overrides));
  g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, strlen (after));
}

/* ---- the member cap ------------------------------------------------------ */

/* An update of @n members named @prefix0000, @prefix0001, ... */
static JsonObject *
numbered_update (const char *prefix,
                 guint       first,
                 guint       n,
                 gint64      value)
{
  JsonObject *update = json_object_new ();
  guint i;

  for (i = first; i < first + n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s%04u", prefix, i);

      json_object_set_int_member (update, name, value);
    }
  return update;
}

static void
assert_refused (PmOverrides *overrides,
                JsonObject  *update,
                const char  *expected_in_message)
{
  g_autofree char *before = pm_overrides_to_string (overrides);
  g_autofree char *after = NULL;
  gsize bytes = pm_overrides_get_bytes (overrides);
  guint size = pm_overrides_get_size (overrides);
  g_autoptr(GError) error = NULL;

  g_assert_false (pm_overrides_update (overrides, update, &error));
  g_assert_error (error, PM_ERROR, PM_ERROR_TOO_LARGE);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, expected_in_message));
  after = pm_overrides_to_string (overrides);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, bytes);
  g_assert_cmpuint (pm_overrides_get_size (overrides), ==, size);
}

/* At most PM_LIMIT_OVERRIDES_MEMBERS members are stored: the update that
 * would add one more is refused whole, naming the limit. */
static void
test_merge_member_cap (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();
  g_autofree char *limit_text = g_strdup_printf ("limit of %d members", PM_LIMIT_OVERRIDES_MEMBERS);
  g_autofree char *text = NULL;
  guint half = PM_LIMIT_OVERRIDES_MEMBERS / 2;

  g_assert_cmpint (PM_LIMIT_OVERRIDES_MEMBERS, ==, 1024);

  /* One update of 1025 members into an empty store. */
  {
    g_autoptr(JsonObject) update = numbered_update ("k", 0, PM_LIMIT_OVERRIDES_MEMBERS + 1, 1);

    assert_refused (overrides, update, limit_text);
    g_assert_cmpuint (pm_overrides_get_size (overrides), ==, 0);
  }

  /* 1024 in two updates. */
  {
    g_autoptr(JsonObject) update1 = numbered_update ("k", 0, half, 1);
    g_autoptr(JsonObject) update2 = numbered_update ("k", half, PM_LIMIT_OVERRIDES_MEMBERS - half, 1);

    g_assert_true (pm_overrides_update (overrides, update1, NULL));
    g_assert_true (pm_overrides_update (overrides, update2, NULL));
    g_assert_cmpuint (pm_overrides_get_size (overrides), ==, PM_LIMIT_OVERRIDES_MEMBERS);
  }

  /* The 1025th, alone or with members that are stored already, whose new
   * values are not stored either. */
  {
    g_autoptr(JsonObject) one_more = parse_text_ok ("{\"another\":1}");
    g_autoptr(JsonObject) mixed = parse_text_ok ("{\"k0000\":2,\"k1023\":2,\"another\":2}");

    assert_refused (overrides, one_more, limit_text);
    assert_refused (overrides, mixed, limit_text);
    g_assert_cmpint (stored_int (overrides, "k0000"), ==, 1);
    g_assert_null (pm_overrides_lookup (overrides, "another"));
  }

  /* At the cap, stored members can still be set, every one of them. */
  {
    g_autoptr(JsonObject) update = numbered_update ("k", 0, PM_LIMIT_OVERRIDES_MEMBERS, 7);

    g_assert_true (pm_overrides_update (overrides, update, NULL));
    g_assert_cmpuint (pm_overrides_get_size (overrides), ==, PM_LIMIT_OVERRIDES_MEMBERS);
    g_assert_cmpint (stored_int (overrides, "k0000"), ==, 7);
    g_assert_cmpint (stored_int (overrides, "k1023"), ==, 7);
  }

  text = pm_overrides_to_string (overrides);
  g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, strlen (text));
  g_assert_true (g_str_has_prefix (text, "{\"k0000\":7,\"k0001\":7,"));
  g_assert_true (g_str_has_suffix (text, ",\"k1023\":7}"));
}

/* The size limit is exact: an update that brings the serialised store to
 * PM_LIMIT_OVERRIDES_BYTES is taken, one byte more is not, and the size
 * follows replacements that shrink or grow a member. */
static void
test_merge_size_exact (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();
  g_autofree char *limit_text = g_strdup_printf ("limit of %d bytes", PM_LIMIT_OVERRIDES_BYTES);
  /* {"a":1,"k":"..."}: 2 braces, "a":1 (5), a comma, "k":"" (6). */
  gsize fill = PM_LIMIT_OVERRIDES_BYTES - 2 - 5 - 1 - 6;
  g_autofree char *at_limit = g_strnfill (fill, 'x');
  g_autofree char *over_limit = g_strnfill (fill + 1, 'x');
  g_autofree char *text = NULL;

  merge_text (overrides, "{\"a\":1}");
  {
    g_autoptr(JsonObject) update = json_object_new ();

    json_object_set_string_member (update, "k", over_limit);
    assert_refused (overrides, update, limit_text);
  }
  {
    g_autoptr(JsonObject) update = json_object_new ();

    json_object_set_string_member (update, "k", at_limit);
    g_assert_true (pm_overrides_update (overrides, update, NULL));
    g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, PM_LIMIT_OVERRIDES_BYTES);
  }

  /* Full: a member one byte longer is refused, a new empty one too. */
  {
    g_autoptr(JsonObject) longer = parse_text_ok ("{\"a\":10}");
    g_autoptr(JsonObject) added = parse_text_ok ("{\"b\":0}");

    assert_refused (overrides, longer, limit_text);
    assert_refused (overrides, added, limit_text);
  }

  /* The same length in another value, and shorter then longer again. */
  merge_text (overrides, "{\"a\":2}");
  g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, PM_LIMIT_OVERRIDES_BYTES);
  merge_text (overrides, "{\"k\":\"short\",\"a\":null}");
  text = pm_overrides_to_string (overrides);
  g_assert_cmpstr (text, ==, "{\"a\":null,\"k\":\"short\"}");
  g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, strlen (text));
  merge_text (overrides, "{\"a\":[1,2,{\"b\":\"\\u00e9\\n\"}]}");
  assert_overrides (overrides, "{\"a\":[1,2,{\"b\":\"\xc3\xa9\\n\"}],\"k\":\"short\"}");
}

/* The store against a model: each update merged into a JsonObject the
 * way the overrides were once kept, and written out whole.  The text,
 * the size and whether an update is refused must agree. */
static void
test_merge_model (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();
  g_autoptr(JsonObject) model = json_object_new ();
  static const char *const values[] = {
    "0", "-1", "1.5", "\"\"", "\"a string\"", "null", "true", "[]", "{}",
    "[1,[2,[3]]]", "{\"x\":{\"y\":[null,false]}}", "\"\\u00e9\\t\\\"\"",
    "9223372036854775807", "-9223372036854775808", "-0", "-0.0", "1e300", "1E2", "0.1",
    "123456789", "-1000000", "[10,-10,100]",
  };
  guint round;
  guint refused_count = 0, refused_size = 0;

  for (round = 0; round < 400; round++)
    {
      g_autoptr(GString) body = g_string_new ("{");
      g_autoptr(JsonObject) update = NULL;
      g_autoptr(JsonObject) merged = json_object_new ();
      g_autoptr(JsonNode) merged_node = NULL;
      g_autoptr(GString) model_text = g_string_new (NULL);
      g_autoptr(GError) error = NULL;
      g_autofree char *store_text = NULL;
      guint n = g_test_rand_int_range (0, 40);
      /* First many names, to reach the member cap; then fewer and
       * larger values, to reach the size limit. */
      gint32 names = round < 200 ? 1200 : 300;
      gint32 big_odds = round < 200 ? 50 : 4;
      guint i;
      gboolean fits;
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      for (i = 0; i < n; i++)
        {
          guint value_index = g_test_rand_int_range (0, G_N_ELEMENTS (values));

          /* A big value now and then, to reach the size limit. */
          if (g_test_rand_int_range (0, big_odds) == 0)
            g_string_append_printf (body, "%s\"n%u\":\"%0*d\"", i > 0 ? "," : "",
                                    g_test_rand_int_range (0, names),
                                    g_test_rand_int_range (1000, 30000), 0);
          else
            g_string_append_printf (body, "%s\"n%u\":%s", i > 0 ? "," : "",
                                    g_test_rand_int_range (0, names), values[value_index]);
          if (body->len > 30000)
            break;
        }
      g_string_append_c (body, '}');
      update = parse_text_ok (body->str);

      json_object_iter_init_ordered (&iter, model);
      while (json_object_iter_next_ordered (&iter, &name, &value))
        json_object_set_member (merged, name, json_node_copy (value));
      json_object_iter_init_ordered (&iter, update);
      while (json_object_iter_next_ordered (&iter, &name, &value))
        json_object_set_member (merged, name, json_node_copy (value));
      merged_node = json_node_init_object (json_node_alloc (), merged);
      pm_json_append_node (model_text, merged_node);
      fits = model_text->len <= PM_LIMIT_OVERRIDES_BYTES &&
             json_object_get_size (merged) <= PM_LIMIT_OVERRIDES_MEMBERS;

      g_assert_cmpint (pm_overrides_update (overrides, update, &error), ==, fits);
      if (fits)
        {
          g_assert_no_error (error);
          g_clear_pointer (&model, json_object_unref);
          model = json_object_ref (merged);
        }
      else
        {
          g_assert_error (error, PM_ERROR, PM_ERROR_TOO_LARGE);
          if (strstr (error->message, "members") != NULL)
            refused_count++;
          else
            refused_size++;
        }

      {
        g_autoptr(JsonNode) model_node = json_node_init_object (json_node_alloc (), model);
        g_autoptr(GString) expected = g_string_new (NULL);

        pm_json_append_node (expected, model_node);
        store_text = pm_overrides_to_string (overrides);
        g_assert_cmpstr (store_text, ==, expected->str);
        g_assert_cmpuint (pm_overrides_get_bytes (overrides), ==, expected->len);
        g_assert_cmpuint (pm_overrides_get_size (overrides), ==, json_object_get_size (model));
      }
    }

  /* Both limits were reached. */
  g_test_message ("refused: %u for the member count, %u for the size", refused_count, refused_size);
  g_assert_cmpuint (refused_count, >, 0);
  g_assert_cmpuint (refused_size, >, 0);
}

/* ---- numbers that are not finite ------------------------------------------ */

/* A number past the range of a double would be stored as infinity and read
 * back as null: refused wherever it is; the largest finite ones, and
 * those too small to tell from zero, are taken. */
static void
test_parse_not_finite (void)
{
  g_autofree char *long_integer_part = NULL;
  static const char *const refused[] = {
    "{\"x\":1e999}",
    "{\"x\":-1e999}",
    "{\"x\":1E400}",
    "{\"x\":1.8e308}",
    "{\"x\":-1.8e+308}",
    "{\"x\":{\"y\":{\"z\":1e999}}}",
    "{\"x\":[1,2,[3,-1e999]]}",
    "{\"x\":[{\"a\":[{\"b\":1e999}]}],\"y\":1}",
    "{\"ok\":1,\"x\":1e999,\"more\":\"text\"}",
  };
  static const struct
  {
    const char *document;
    double      value;
  } taken[] = {
    { "{\"x\":1.7976931348623157e308}", 1.7976931348623157e308 },
    { "{\"x\":-1.7976931348623157e308}", -1.7976931348623157e308 },
    { "{\"x\":1e308}", 1e308 },
    { "{\"x\":1e-999}", 0.0 },
    { "{\"x\":-1e-400}", -0.0 },
    { "{\"x\":4.9e-324}", 4.9e-324 },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *message = NULL;

      g_test_message ("%s", refused[i]);
      message = parse_text_fails (refused[i], PM_ERROR_INVALID_JSON);
      g_assert_nonnull (strstr (message, "finite"));
      g_assert_nonnull (strstr (message, "at byte"));
    }

  /* 400 digits before the point. */
  {
    g_autofree char *digits = g_strnfill (400, '9');

    long_integer_part = g_strdup_printf ("{\"x\":%s.5}", digits);
    g_free (parse_text_fails (long_integer_part, PM_ERROR_INVALID_JSON));
  }

  for (i = 0; i < G_N_ELEMENTS (taken); i++)
    {
      g_autoptr(JsonObject) object = parse_text_ok (taken[i].document);

      g_assert_cmpfloat (json_object_get_double_member (object, "x"), ==, taken[i].value);
    }
}

/* What PATCH /api/system and the D-Bus Update method both do. */
static void
test_device_not_finite (void)
{
  g_autoptr(PmAcceptor) acceptor = pm_acceptor_new ();
  g_autoptr(PmDevice) device = pm_test_device_new (acceptor, 0, "overrides-test", "pluto-new",
                                              "v1.0", FALSE, 1);
  g_autoptr(GError) error = NULL;
  static const char *const refused[] = {
    "{\"power\":1e999}",
    "{\"power\":-1e999}",
    "{\"extra\":{\"deep\":[1e999]}}",
    "{\"power\":1,\"extra\":[-1e999]}",
  };
  gsize i;

  g_assert_true (pm_device_start (device, "127.0.0.1", &error));
  g_assert_no_error (error);
  g_assert_true (pm_device_update (device, "{\"power\":1.5,\"extra\":\"e\"}", 25, &error));
  g_assert_no_error (error);

  for (i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *info = NULL;
      g_autoptr(JsonObject) object = NULL;

      g_assert_false (pm_device_update (device, refused[i], strlen (refused[i]), &error));
      g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_JSON);
      g_assert_nonnull (strstr (error->message, "finite"));
      g_clear_error (&error);

      info = pm_device_dup_info (device);
      object = parse_text_ok (info);
      g_assert_cmpfloat (json_object_get_double_member (object, "power"), ==, 1.5);
      g_assert_cmpstr (json_object_get_string_member (object, "extra"), ==, "e");
    }
  pm_device_stop (device);
}

/* ---- order and repeated names ----------------------------------------------- */

static GPtrArray *
member_names (const char *json)
{
  g_autoptr(JsonObject) object = parse_text_ok (json);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    g_ptr_array_add (names, g_strdup (name));
  return names;
}

/* In /api/system/info an overridden field keeps its place, and overrides
 * of fields the shape lacks follow in the order they were first set,
 * wherever a later update names them. */
static void
test_merge_info_order (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree char *plain = NULL;
  g_autofree char *laid = NULL;
  g_autoptr(GPtrArray) plain_names = NULL;
  g_autoptr(GPtrArray) laid_names = NULL;
  g_autoptr(JsonObject) object = NULL;
  static const char *const tail[] = { "zeta", "alpha", "middle", "new" };
  guint i;

  merge_text (overrides, "{\"zeta\":1,\"frequency\":2,\"alpha\":3}");
  merge_text (overrides, "{\"middle\":4,\"power\":5}");
  merge_text (overrides, "{\"alpha\":6,\"new\":7,\"zeta\":8,\"frequency\":9}");

  plain = pm_system_info_generate_with_overrides (rand, PM_API_VERSION_LEGACY, "h", "v", 1, 2, NULL);
  laid = pm_system_info_generate_with_overrides (rand, PM_API_VERSION_LEGACY, "h", "v", 1, 2, overrides);
  plain_names = member_names (plain);
  laid_names = member_names (laid);

  g_assert_cmpuint (laid_names->len, ==, plain_names->len + G_N_ELEMENTS (tail));
  for (i = 0; i < plain_names->len; i++)
    g_assert_cmpstr (g_ptr_array_index (laid_names, i), ==, g_ptr_array_index (plain_names, i));
  for (i = 0; i < G_N_ELEMENTS (tail); i++)
    g_assert_cmpstr (g_ptr_array_index (laid_names, plain_names->len + i), ==, tail[i]);

  object = parse_text_ok (laid);
  g_assert_cmpint (json_object_get_int_member (object, "frequency"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (object, "power"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (object, "zeta"), ==, 8);
  g_assert_cmpint (json_object_get_int_member (object, "alpha"), ==, 6);

  /* The same from the overrides given as one object. */
  {
    g_autofree char *text = pm_overrides_to_string (overrides);
    g_autoptr(JsonObject) as_object = parse_text_ok (text);
    g_autoptr(GRand) rand2 = g_rand_new_with_seed (7);
    g_autofree char *plain2 = pm_system_info_generate (rand2, PM_API_VERSION_LEGACY, "h", "v", 1, 2, NULL);
    g_autofree char *laid2 = pm_system_info_generate (rand2, PM_API_VERSION_LEGACY, "h", "v", 1, 2, as_object);

    g_assert_cmpstr (laid2, ==, laid);
  }
}

/* A name repeated in one document: the last value is taken, in the place
 * of the first, at any depth. */
static void
test_parse_repeated_names (void)
{
  g_autoptr(PmOverrides) overrides = pm_overrides_new ();
  g_autoptr(GString) many = g_string_new ("{");
  g_autoptr(JsonObject) object = NULL;
  guint i;

  merge_text (overrides, "{\"a\":1,\"b\":2,\"a\":3}");
  assert_overrides (overrides, "{\"a\":3,\"b\":2}");
  merge_text (overrides, "{\"o\":{\"x\":1,\"y\":[2],\"x\":{\"z\":[1,{\"q\":1,\"q\":null}]}},"
                         "\"b\":\"s\",\"b\":[true],\"b\":false,\"c\":{},\"c\":1.5}");
  assert_overrides (overrides, "{\"a\":3,\"b\":false,\"o\":{\"x\":{\"z\":[1,{\"q\":null}]},\"y\":[2]},\"c\":1.5}");

  /* Many names, then the last of them over and over. */
  for (i = 0; i < 2000; i++)
    g_string_append_printf (many, "\"k%u\":%u,", i, i);
  for (i = 0; i < 2000; i++)
    g_string_append_printf (many, "\"k1999\":%u,", i);
  g_string_append (many, "\"k0\":\"last\"}");
  object = parse_text_ok (many->str);
  g_assert_cmpuint (json_object_get_size (object), ==, 2000);
  g_assert_cmpint (json_object_get_int_member (object, "k1999"), ==, 1999);
  g_assert_cmpstr (json_object_get_string_member (object, "k0"), ==, "last");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/update/parse/object", test_parse_object);
  g_test_add_func ("/update/parse/length", test_parse_length);
  g_test_add_func ("/update/parse/empty", test_parse_empty);
  g_test_add_func ("/update/parse/malformed", test_parse_malformed);
  g_test_add_func ("/update/parse/not-object", test_parse_not_object);
  g_test_add_func ("/update/parse/invalid-utf8", test_parse_invalid_utf8);
  g_test_add_func ("/update/parse/embedded-nul", test_parse_embedded_nul);
  g_test_add_func ("/update/parse/size-limit", test_parse_size_limit);
  g_test_add_func ("/update/parse/depth-limit", test_parse_depth_limit);
  g_test_add_func ("/update/parse/deep-fast", test_parse_deep_fast);
  g_test_add_func ("/update/parse/depth-strings", test_parse_depth_strings);
  g_test_add_func ("/update/merge/example", test_merge_example);
  g_test_add_func ("/update/merge/shallow", test_merge_shallow);
  g_test_add_func ("/update/merge/owns-values", test_merge_owns_values);
  g_test_add_func ("/update/merge/failed-parse", test_merge_failed_parse);
  g_test_add_func ("/update/merge/limit", test_merge_limit);
  g_test_add_func ("/update/merge/member-cap", test_merge_member_cap);
  g_test_add_func ("/update/merge/size-exact", test_merge_size_exact);
  g_test_add_func ("/update/merge/model", test_merge_model);
  g_test_add_func ("/update/merge/info-order", test_merge_info_order);
  g_test_add_func ("/update/parse/not-finite", test_parse_not_finite);
  g_test_add_func ("/update/parse/repeated-names", test_parse_repeated_names);
  g_test_add_func ("/update/device/not-finite", test_device_not_finite);
  g_test_add_func ("/update/parse/integer-range", test_parse_integer_range);
  g_test_add_func ("/update/parse/unicode-escapes", test_parse_unicode_escapes);
  /* Last: it fails on a lenient parser, which stops the run. */
  g_test_add_func ("/update/strict-json/malformed", test_parse_malformed_lenient);

  return g_test_run ();
}
