/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-json-writer"

#include "config.h"

#include <math.h>
#include <string.h>

#include "pm-json-writer.h"

void
pm_json_append_string (GString    *out,
                       const char *text)
{
  static const char hex[] = "0123456789abcdef";
  const char *run = text;  /* the start of characters written as they are */
  const char *p;

  g_string_append_c (out, '"');
  for (p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;
      const char *escape = NULL;
      char control[7];

      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
        continue;
      if (c >= 0x80 && g_utf8_get_char_validated (p, -1) < (gunichar) -2)
        {
          p = g_utf8_next_char (p) - 1;
          continue;
        }

      switch (c)
        {
        case '"':
          escape = "\\\"";
          break;
        case '\\':
          escape = "\\\\";
          break;
        case '\n':
          escape = "\\n";
          break;
        case '\r':
          escape = "\\r";
          break;
        case '\t':
          escape = "\\t";
          break;
        default:
          if (c < 0x20)
            {
              memcpy (control, "\\u00", 4);
              control[4] = hex[c >> 4];
              control[5] = hex[c & 0xf];
              control[6] = '\0';
              escape = control;
            }
          else
            {
              /* Not UTF-8 (say, a path of raw bytes): the replacement
               * character keeps the document valid JSON. */
              escape = "\\ufffd";
            }
          break;
        }
      pm_json_append_len (out, run, p - run);
      pm_json_append_raw (out, escape);
      run = p + 1;
    }
  pm_json_append_len (out, run, p - run);
  g_string_append_c (out, '"');
}

/* Drops trailing zeros and a trailing decimal point, and turns "-0" into
 * "0", so that 12.500000 prints as 12.5 and 15.000 as 15, as JavaScript
 * prints a number that went through toFixed() and parseFloat(). */
static void
trim_number (char *buf)
{
  char *dot = strchr (buf, '.');

  if (dot != NULL && strchr (buf, 'e') == NULL)
    {
      char *end = buf + strlen (buf) - 1;

      while (end > dot && *end == '0')
        *end-- = '\0';
      if (end == dot)
        *end = '\0';
    }
  if (strcmp (buf, "-0") == 0)
    strcpy (buf, "0");
}

/* The digits of @value, most significant first, at least @min_digits of
 * them (zeros in front); returns where they start in @end's buffer. */
static char *
format_digits (char   *end,
               guint64 value,
               guint   min_digits)
{
  char *p = end;

  do
    {
      *--p = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value != 0);
  while ((guint) (end - p) < min_digits)
    *--p = '0';
  return p;
}

/**
 * pm_json_append_int:
 * @out: where to write
 * @value: an integer
 *
 * Writes @value in decimal, as `"%" G_GINT64_FORMAT` prints it.
 */
void
pm_json_append_int (GString *out,
                    gint64   value)
{
  char buf[24];
  char *end = buf + sizeof buf;
  char *start;
  guint64 magnitude = value < 0 ? (guint64) 0 - (guint64) value : (guint64) value;

  start = format_digits (end, magnitude, 1);
  if (value < 0)
    *--start = '-';
  pm_json_append_len (out, start, end - start);
}

#ifdef __SIZEOF_INT128__
static const guint64 powers_of_ten[] = {
  G_GUINT64_CONSTANT (1),
  G_GUINT64_CONSTANT (10),
  G_GUINT64_CONSTANT (100),
  G_GUINT64_CONSTANT (1000),
  G_GUINT64_CONSTANT (10000),
  G_GUINT64_CONSTANT (100000),
  G_GUINT64_CONSTANT (1000000),
  G_GUINT64_CONSTANT (10000000),
  G_GUINT64_CONSTANT (100000000),
  G_GUINT64_CONSTANT (1000000000),
  G_GUINT64_CONSTANT (10000000000),
  G_GUINT64_CONSTANT (100000000000),
  G_GUINT64_CONSTANT (1000000000000),
  G_GUINT64_CONSTANT (10000000000000),
  G_GUINT64_CONSTANT (100000000000000),
  G_GUINT64_CONSTANT (1000000000000000),
  G_GUINT64_CONSTANT (10000000000000000),
  G_GUINT64_CONSTANT (100000000000000000),
};
#endif

/* Rounds |@value| × 10^@decimals to an integer, as "%.*f" rounds in the
 * C locale under the default rounding mode.  A double is exactly m·2^-s
 * with an integer m < 2^53, so m·10^decimals is computed in 128 bits and
 * shifted right by s; the bits shifted out decide the rounding, ties to
 * even, as printf rounds the exact value.  Returns %FALSE when this
 * cannot be exact (values of 2^52 and above, or more than 64 bits of
 * digits): the caller then asks printf. */
static gboolean
scale_round (double   value,
             guint    decimals,
             guint64 *out)
{
#ifdef __SIZEOF_INT128__
  guint64 bits, mantissa;
  int biased, shift;
  unsigned __int128 product, quotient;

  memcpy (&bits, &value, sizeof bits);
  biased = (int) ((bits >> 52) & 0x7ff);
  mantissa = bits & ((G_GUINT64_CONSTANT (1) << 52) - 1);
  if (biased == 0)
    {
      shift = 1074;  /* zero or subnormal */
    }
  else
    {
      mantissa |= G_GUINT64_CONSTANT (1) << 52;
      shift = 1075 - biased;
    }
  if (shift <= 0)
    return FALSE;

  product = (unsigned __int128) mantissa * powers_of_ten[decimals];
  if (shift >= 127)
    {
      /* product < 2^110 is below half of 2^shift: it rounds to zero. */
      quotient = 0;
    }
  else
    {
      unsigned __int128 half = (unsigned __int128) 1 << (shift - 1);
      unsigned __int128 rest;

      quotient = product >> shift;
      rest = product - (quotient << shift);
      if (rest > half || (rest == half && (quotient & 1) != 0))
        quotient++;
    }
  if ((quotient >> 64) != 0)
    return FALSE;
  *out = (guint64) quotient;
  return TRUE;
#else
  return FALSE;
#endif
}

/* Writes |@value| rounded to @decimals places into the end of @buf, as
 * "%.*f" prints it in the C locale under the default rounding mode.
 * Returns where the text starts, or NULL when scale_round() cannot do it
 * exactly. */
static char *
format_fixed_fast (char  *end,
                   double value,
                   guint  decimals)
{
  guint64 quotient;
  char *p;

  if (!scale_round (value, decimals, &quotient))
    return NULL;

  p = format_digits (end, quotient, decimals + 1);
  if (decimals > 0)
    {
      /* Moves the integer digits one to the left for the point. */
      char *point = end - decimals;

      memmove (p - 1, p, point - p);
      p--;
      point[-1] = '.';
    }
  return p;
}

/* "%.*f" of @value without the locale: by hand where that is exact, by
 * g_ascii_formatd() elsewhere.  Returns a NUL-terminated string in @buf. */
static const char *
format_fixed (char   *buf,
              gsize   size,
              double  value,
              guint   decimals)
{
  char *end = buf + size - 1;
  char *start;

  *end = '\0';
  start = isfinite (value) ? format_fixed_fast (end, value, decimals) : NULL;
  if (start == NULL)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%uf", decimals);
      return g_ascii_formatd (buf, size, format, value);
    }
  if (signbit (value))
    *--start = '-';
  return start;
}

/**
 * pm_json_append_fixed:
 * @out: where to write
 * @value: a number
 * @decimals: how many digits after the point, at most 17
 *
 * Writes @value with exactly @decimals digits after the point, zeros
 * kept, as `"%.*f"` prints it in the C locale (and JavaScript's toFixed()
 * for the values plutomock generates).
 */
void
pm_json_append_fixed (GString *out,
                      double   value,
                      guint    decimals)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE + 320];

  g_return_if_fail (decimals <= 17);

  pm_json_append_raw (out, format_fixed (buf, sizeof buf, value, decimals));
}

/**
 * pm_json_append_double:
 * @out: where to write
 * @value: a finite number
 * @decimals: at most how many digits after the point, at most 17
 *
 * Writes @value rounded to @decimals places, without trailing zeros or a
 * trailing point, and "0" for a negative zero.
 */
void
pm_json_append_double (GString *out,
                       double   value,
                       guint    decimals)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE + 320];
  const char *text;
  gsize len;
  guint64 quotient;

  g_return_if_fail (decimals <= 17);
  g_return_if_fail (isfinite (value));

  if (scale_round (value, decimals, &quotient))
    {
      /* What the trimming below makes of "%.*f", written directly: the
       * zeros at the end of the fraction are dropped before they are
       * written, and a point with them when none is left. */
      char digits[48];
      char *end = digits + sizeof digits;
      char *p = end;
      gboolean zero = quotient == 0;
      guint kept = decimals;

      while (kept > 0 && quotient % 10 == 0)
        {
          quotient /= 10;
          kept--;
        }
      if (kept > 0)
        {
          guint i;

          for (i = 0; i < kept; i++)
            {
              *--p = (char) ('0' + quotient % 10);
              quotient /= 10;
            }
          *--p = '.';
        }
      p = format_digits (p, quotient, 1);
      /* A negative zero is "0". */
      if (signbit (value) && !zero)
        *--p = '-';
      pm_json_append_len (out, p, end - p);
      return;
    }

  text = format_fixed (buf, sizeof buf, value, decimals);
  len = strlen (text);
  if (decimals > 0 && strchr (text, 'e') == NULL)
    {
      while (text[len - 1] == '0')
        len--;
      if (text[len - 1] == '.')
        len--;
    }
  if (len == 2 && text[0] == '-' && text[1] == '0')
    {
      text++;
      len--;
    }
  pm_json_append_len (out, text, len);
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static void
append_any_double (GString *out,
                   double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    {
      pm_json_append_raw (out, "null");
      return;
    }
  g_ascii_formatd (buf, sizeof buf, "%.15g", value);
  if (g_ascii_strtod (buf, NULL) != value)
    g_ascii_formatd (buf, sizeof buf, "%.17g", value);
  trim_number (buf);
  pm_json_append_raw (out, buf);
}

/* A double as it was written, kept to be copied when the same double
 * comes again: writing one takes printf calls and a strtod, and a PATCH
 * body of 64 KiB holds up to 16 000 of them, but at most a few hundred
 * different ones when they are that short. */
typedef struct
{
  guint64 bits;  /* first: the key */
  gsize   length;
  char    text[];
} WrittenDouble;

static void
append_cached_double (GString    *out,
                      double      value,
                      GHashTable *doubles)
{
  guint64 bits;
  WrittenDouble *written;
  gsize start = out->len;

  G_STATIC_ASSERT (sizeof bits == sizeof value);
  memcpy (&bits, &value, sizeof bits);
  written = g_hash_table_lookup (doubles, &bits);
  if (written != NULL)
    {
      pm_json_append_len (out, written->text, written->length);
      return;
    }
  append_any_double (out, value);
  written = g_malloc (sizeof (WrittenDouble) + out->len - start + 1);
  written->bits = bits;
  written->length = out->len - start;
  memcpy (written->text, out->str + start, written->length + 1);
  g_hash_table_add (doubles, written);
}

static void
append_value (GString    *out,
              JsonNode   *node,
              GHashTable *doubles)
{
  GType type = json_node_get_value_type (node);

  if (type == G_TYPE_INT64)
    pm_json_append_int (out, json_node_get_int (node));
  else if (type == G_TYPE_DOUBLE && doubles != NULL)
    append_cached_double (out, json_node_get_double (node), doubles);
  else if (type == G_TYPE_DOUBLE)
    append_any_double (out, json_node_get_double (node));
  else if (type == G_TYPE_BOOLEAN)
    pm_json_append_raw (out, json_node_get_boolean (node) ? "true" : "false");
  else if (type == G_TYPE_STRING)
    pm_json_append_string (out, json_node_get_string (node));
  else
    pm_json_append_raw (out, "null");
}

static void
append_node (GString    *out,
             JsonNode   *node,
             GHashTable *doubles)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;
        gboolean first = TRUE;

        g_string_append_c (out, '{');
        json_object_iter_init_ordered (&iter, json_node_get_object (node));
        while (json_object_iter_next_ordered (&iter, &name, &member))
          {
            if (!first)
              g_string_append_c (out, ',');
            first = FALSE;
            pm_json_append_string (out, name);
            g_string_append_c (out, ':');
            append_node (out, member, doubles);
          }
        g_string_append_c (out, '}');
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);
        guint i, n = json_array_get_length (array);

        g_string_append_c (out, '[');
        for (i = 0; i < n; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            append_node (out, json_array_get_element (array, i), doubles);
          }
        g_string_append_c (out, ']');
      }
      break;

    case JSON_NODE_VALUE:
      append_value (out, node, doubles);
      break;

    case JSON_NODE_NULL:
    default:
      pm_json_append_raw (out, "null");
      break;
    }
}

void
pm_json_append_node (GString  *out,
                     JsonNode *node)
{
  append_node (out, node, NULL);
}

/* g_int64_hash() keeps only the low 32 bits, which short decimals share
 * far too often: all 64 are mixed. */
static guint
bits_hash (gconstpointer key)
{
  guint64 bits = *(const guint64 *) key;

  bits ^= bits >> 33;
  bits *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  bits ^= bits >> 33;
  return (guint) bits;
}

/**
 * pm_json_double_cache_new:
 *
 * Returns: (transfer full): a cache for pm_json_append_node_cached()
 */
GHashTable *
pm_json_double_cache_new (void)
{
  return g_hash_table_new_full (bits_hash, g_int64_equal, g_free, NULL);
}

/**
 * pm_json_append_node_cached:
 * @out: where to write
 * @node: a JSON node
 * @doubles: a cache from pm_json_double_cache_new()
 *
 * Writes @node as pm_json_append_node() does, writing each distinct
 * double once and copying its text after that.
 */
void
pm_json_append_node_cached (GString    *out,
                            JsonNode   *node,
                            GHashTable *doubles)
{
  append_node (out, node, doubles);
}
