/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-identity"

#include "config.h"

#include <string.h>

#include "pm-error.h"
#include "pm-identity.h"
#include "pm-limits.h"
#include "pm-quote.h"

/*
 * What a client may call a device and the firmware it says it runs
 * (AddDevice's hostname and firmware).  Both end up in log lines, in
 * /servers, in /api/system/info and on the bus, so neither may hold a
 * control character; the messages quote the value with pm_quote().
 */

/* Sets @error if @text is not UTF-8 or holds a control character (C0,
 * DEL or C1), naming @what and the first bad character. */
static gboolean
check_text (const char *what,
            const char *text,
            GError    **error)
{
  const char *end = NULL;
  const char *p;

  if (!g_utf8_validate (text, -1, &end))
    {
      g_autofree char *quoted = pm_quote (text, -1);

      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "%s '%s' is not UTF-8 (byte %" G_GSIZE_FORMAT " is not part of a character)",
                   what, quoted, (gsize) (end - text) + 1);
      return FALSE;
    }

  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7F && c < 0xA0))
        {
          g_autofree char *quoted = pm_quote (text, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       "%s '%s' holds a control character (U+%04X at character %ld); "
                       "control characters are not allowed",
                       what, quoted, c, g_utf8_pointer_to_offset (text, p) + 1);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * pm_identity_check_hostname:
 * @hostname: a hostname a client asked for
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * A hostname is a DNS label: 1 to %PM_LIMIT_HOSTNAME_CHARS ASCII letters,
 * digits and hyphens, not starting with a hyphen, and not all digits
 * (it would read as a port where a device is named by port or hostname,
 * as plutomockctl does).
 *
 * Returns: whether @hostname is acceptable
 */
gboolean
pm_identity_check_hostname (const char *hostname,
                            GError    **error)
{
  const char *p;
  gboolean all_digits = TRUE;
  gboolean good = TRUE;
  g_autofree char *quoted = NULL;

  g_return_val_if_fail (hostname != NULL, FALSE);

  if (!check_text ("hostname", hostname, error))
    return FALSE;

  if (hostname[0] == '\0')
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           "a hostname cannot be empty");
      return FALSE;
    }
  quoted = pm_quote (hostname, -1);
  if (g_utf8_strlen (hostname, -1) > PM_LIMIT_HOSTNAME_CHARS)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "hostname '%s' is longer than %d characters", quoted,
                   PM_LIMIT_HOSTNAME_CHARS);
      return FALSE;
    }

  for (p = hostname; *p != '\0'; p++)
    {
      good &= g_ascii_isalnum (*p) || *p == '-';
      all_digits &= g_ascii_isdigit (*p);
    }
  if (!good || hostname[0] == '-' || all_digits)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a hostname: 1 to %d letters, digits and hyphens, "
                   "not all digits, not starting with a hyphen",
                   quoted, PM_LIMIT_HOSTNAME_CHARS);
      return FALSE;
    }
  return TRUE;
}

/**
 * pm_identity_check_firmware:
 * @firmware: a firmware version a client asked for
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * A firmware version is 1 to %PM_LIMIT_FIRMWARE_CHARS characters of
 * UTF-8 with no control character.
 *
 * Returns: whether @firmware is acceptable
 */
gboolean
pm_identity_check_firmware (const char *firmware,
                            GError    **error)
{
  g_return_val_if_fail (firmware != NULL, FALSE);

  if (!check_text ("firmware version", firmware, error))
    return FALSE;
  if (firmware[0] == '\0' || g_utf8_strlen (firmware, -1) > PM_LIMIT_FIRMWARE_CHARS)
    {
      g_autofree char *quoted = pm_quote (firmware, -1);

      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "firmware version '%s' is not 1 to %d characters", quoted,
                   PM_LIMIT_FIRMWARE_CHARS);
      return FALSE;
    }
  return TRUE;
}
