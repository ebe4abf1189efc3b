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
  const char *p;

  g_string_append_c (out, '"');
  for (p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20)
            {
              g_string_append_printf (out, "\\u%04x", c);
            }
          else if (c < 0x80)
            {
              g_string_append_c (out, (char) c);
            }
          else if (g_utf8_get_char_validated (p, -1) < (gunichar) -2)
            {
              const char *next = g_utf8_next_char (p);

              g_string_append_len (out, p, next - p);
              p = next - 1;
            }
          else
            {
              /* Not UTF-8 (say, a path of raw bytes): the replacement
               * character keeps the document valid JSON. */
              g_string_append (out, "\\ufffd");
            }
          break;
        }
    }
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

void
pm_json_append_double (GString *out,
                       double   value,
                       guint    decimals)
{
  char format[8];
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_if_fail (decimals <= 17);
  g_return_if_fail (isfinite (value));

  g_snprintf (format, sizeof format, "%%.%uf", decimals);
  g_ascii_formatd (buf, sizeof buf, format, value);
  trim_number (buf);
  g_string_append (out, buf);
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static void
append_any_double (GString *out,
                   double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    {
      g_string_append (out, "null");
      return;
    }
  g_ascii_formatd (buf, sizeof buf, "%.15g", value);
  if (g_ascii_strtod (buf, NULL) != value)
    g_ascii_formatd (buf, sizeof buf, "%.17g", value);
  trim_number (buf);
  g_string_append (out, buf);
}

static void
append_value (GString  *out,
              JsonNode *node)
{
  GType type = json_node_get_value_type (node);

  if (type == G_TYPE_INT64)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
  else if (type == G_TYPE_DOUBLE)
    append_any_double (out, json_node_get_double (node));
  else if (type == G_TYPE_BOOLEAN)
    g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
  else if (type == G_TYPE_STRING)
    pm_json_append_string (out, json_node_get_string (node));
  else
    g_string_append (out, "null");
}

void
pm_json_append_node (GString  *out,
                     JsonNode *node)
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
            pm_json_append_node (out, member);
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
            pm_json_append_node (out, json_array_get_element (array, i));
          }
        g_string_append_c (out, ']');
      }
      break;

    case JSON_NODE_VALUE:
      append_value (out, node);
      break;

    case JSON_NODE_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}
