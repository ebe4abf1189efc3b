/* SPDX-License-Identifier: MIT */
/*
 * The request-head screen on arbitrary bytes: it never reads past what
 * it is given, and its verdict holds together.  The input is screened
 * whole and in every prefix cut at a line end, as a connection
 * delivers it piece by piece, and a verdict never turns round as more
 * bytes arrive.
 */
#include "config.h"

#include <string.h>

#include "pm-head.h"
#include "pm-limits.h"

int LLVMFuzzerTestOneInput (const guint8 *data,
                            size_t        size);

static PmHeadVerdict
screen_copy (const guint8 *data,
             gsize         size,
             PmHeadResult *result)
{
  /* An exact-size copy, so that AddressSanitizer sees any read past it. */
  g_autofree char *copy = g_memdup2 (data, size);

  return pm_head_screen (copy, size, PM_LIMIT_BODY_BYTES, result);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  PmHeadResult whole;
  PmHeadVerdict verdict = screen_copy (data, size, &whole);
  gsize i;

  switch (verdict)
    {
    case PM_HEAD_ACCEPTED:
      g_assert_cmpuint (whole.length, >, 0);
      g_assert_cmpuint (whole.length, <=, size);
      g_assert_cmpuint (whole.length, <=, PM_LIMIT_HEAD_BYTES);
      g_assert_true (data[whole.length - 1] == '\n');
      /* The method and target spans lie in the request line, a space
       * between them, and the target starts with '/' or is '*'. */
      g_assert_cmpuint (whole.method_length, >, 0);
      g_assert_cmpuint (whole.target_offset, ==, whole.method_length + 1);
      g_assert_true (data[whole.method_length] == ' ');
      g_assert_cmpuint (whole.target_length, >, 0);
      g_assert_cmpuint (whole.target_offset + whole.target_length, <, whole.length);
      g_assert_true (data[whole.target_offset + whole.target_length] == ' ');
      g_assert_true (data[whole.target_offset] == '/' || data[whole.target_offset] == '*');
      g_assert_null (memchr (data, '\n', whole.target_offset + whole.target_length));
      break;
    case PM_HEAD_REFUSED:
      g_assert_cmpuint (whole.status, >=, 400);
      g_assert_cmpuint (whole.status, <, 600);
      g_assert_nonnull (whole.problem);
      break;
    case PM_HEAD_INCOMPLETE:
    default:
      g_assert_cmpint (verdict, ==, PM_HEAD_INCOMPLETE);
      g_assert_cmpuint (size, <, PM_LIMIT_HEAD_BYTES);
      break;
    }

  /* Prefixes that end a line: an earlier verdict is never undone. */
  for (i = 0; i < size && i < 4096; i++)
    {
      PmHeadResult part;
      PmHeadVerdict early;

      if (data[i] != '\n')
        continue;
      early = screen_copy (data, i + 1, &part);
      if (early == PM_HEAD_ACCEPTED)
        {
          g_assert_cmpint (verdict, ==, PM_HEAD_ACCEPTED);
          g_assert_cmpuint (part.length, ==, whole.length);
        }
      else if (early == PM_HEAD_REFUSED)
        {
          g_assert_cmpint (verdict, ==, PM_HEAD_REFUSED);
        }
    }
  return 0;
}
