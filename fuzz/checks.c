/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "fuzz-checks"

#include "config.h"

#include <stdlib.h>

#include "checks.h"

/* Whether @c is a C0 or C1 control character, or DEL. */
gboolean
fuzz_is_control (gunichar c)
{
  return c < 0x20 || (c >= 0x7F && c < 0xA0);
}

/* Aborts unless @text is one line of valid UTF-8, without control
 * characters, of at most @max characters. */
void
fuzz_check_line (const char *text,
                 glong       max)
{
  const char *p;

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_printerr ("not UTF-8: %s\n", text);
      abort ();
    }
  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (fuzz_is_control (g_utf8_get_char (p)))
      {
        g_printerr ("a control character U+%04X in: %s\n", g_utf8_get_char (p), text);
        abort ();
      }
  if (g_utf8_strlen (text, -1) > max)
    {
      g_printerr ("%ld characters, more than %ld: %s\n", g_utf8_strlen (text, -1), max, text);
      abort ();
    }
}
