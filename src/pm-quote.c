/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-quote"

#include "config.h"

#include <string.h>

#include "pm-limits.h"
#include "pm-quote.h"

/*
 * Text a client sent, made fit to quote in an error or log message: it
 * cannot split a line, it is valid UTF-8, and it is short whatever the
 * client sent.
 */

/* Appends the escape for @c, a control character, to @out. */
static void
append_escape (GString  *out,
               gunichar  c)
{
  switch (c)
    {
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
      if (c < 0x80)
        g_string_append_printf (out, "\\x%02X", c);
      else
        g_string_append_printf (out, "\\u%04X", c);
      break;
    }
}

/**
 * pm_quote:
 * @text: (array length=length): what a client sent
 * @length: the length of @text in bytes, or -1 if it ends with a NUL
 *
 * Makes @text fit to quote in a message.  Control characters (C0, DEL
 * and C1) are written as escapes (`\n`, `\x1B`, `\u0085`) and bytes that
 * are not UTF-8 as `\xHH`, so a quote never splits a log line nor makes
 * a message invalid UTF-8.  Past %PM_LIMIT_QUOTE_CHARS characters of the
 * result (an escape counting as the characters it is written with, and
 * never cut) the text is cut and marked with an ellipsis and the length
 * of the whole, as in `hhhh… (1048576 bytes)`.
 *
 * Returns: (transfer full): the text to quote, valid UTF-8
 */
char *
pm_quote (const char *text,
          gssize      length)
{
  GString *out;
  const char *p, *end;
  gsize chars = 0;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  if (length < 0)
    length = (gssize) strlen (text);
  end = text + length;
  out = g_string_sized_new (MIN ((gsize) length, PM_LIMIT_QUOTE_CHARS * 2) + 24);

  for (p = text; p < end;)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      gsize before = out->len;
      gsize width, step;

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* Not UTF-8: this byte alone, escaped. */
          g_string_append_printf (out, "\\x%02X", (guchar) p[0]);
          width = 4;
          step = 1;
        }
      else
        {
          step = g_utf8_next_char (p) - p;
          if (c < 0x20 || (c >= 0x7F && c < 0xA0))
            {
              append_escape (out, c);
              width = out->len - before;  /* escapes are ASCII */
            }
          else
            {
              g_string_append_len (out, p, step);
              width = 1;
            }
        }

      if (chars + width > PM_LIMIT_QUOTE_CHARS)
        {
          g_string_truncate (out, before);
          g_string_append_printf (out, "… (%" G_GSIZE_FORMAT " bytes)", (gsize) length);
          break;
        }
      chars += width;
      p += step;
    }

  return g_string_free (out, FALSE);
}
