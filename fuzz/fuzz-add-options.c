/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "fuzz-add-options"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include <gio/gio.h>

#include "checks.h"
#include "pm-bus-manager.h"
#include "pm-error.h"
#include "pm-identity.h"
#include "pm-limits.h"
#include "pm-quote.h"

/*
 * Fuzzes AddDevice's options (org.pluto.Mock1.Manager.AddDevice, a{sv}):
 * the input is a serialised GVariant of type a{sv}, untrusted.  GDBus
 * hands the daemon only variants in normal form, so the input is brought
 * to its normal form first, as the bus would deliver it, then read by
 * pm_bus_manager_parse_add_options() and the hostname and firmware
 * checked by pm_identity_check_hostname() and pm_identity_check_firmware(),
 * as pm_manager_add_device() does before it starts anything.
 *
 * Checked for every input:
 *  - the parser accepts exactly the dictionaries a plain reading of the
 *    interface allows (known names, each once, of the right type, an
 *    api-version of legacy or new in any case), and reads their values;
 *  - the hostname and firmware checks agree with a plain reading of the
 *    rules (a DNS label; 1 to 64 characters without control characters);
 *  - every error is an InvalidArgument whose message fits one log line:
 *    valid UTF-8, no control character, short whatever the input;
 *  - pm_quote() of the raw input, NULs and all, is valid UTF-8 without
 *    control characters, of at most PM_LIMIT_QUOTE_CHARS characters
 *    before its mark.
 */

/* The longest an error message may be: its own text around at most one
 * quote of PM_LIMIT_QUOTE_CHARS characters and a length. */
#define FUZZ_MESSAGE_MAX_CHARS (PM_LIMIT_QUOTE_CHARS + 160)

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
check_error (const GError *error)
{
  g_assert_nonnull (error);
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  fuzz_check_line (error->message, FUZZ_MESSAGE_MAX_CHARS);
}

/* ---- the rules, written plainly ----------------------------------------- */

static gboolean
expect_hostname (const char *text)
{
  gsize i, n = strlen (text);
  gboolean digits_only = TRUE;

  if (n < 1 || n > PM_LIMIT_HOSTNAME_CHARS || text[0] == '-')
    return FALSE;
  for (i = 0; i < n; i++)
    {
      char c = text[i];

      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
        return FALSE;
      if (!(c >= '0' && c <= '9'))
        digits_only = FALSE;
    }
  return !digits_only;
}

static gboolean
expect_firmware (const char *text)
{
  const char *p;

  if (!g_utf8_validate (text, -1, NULL) || text[0] == '\0' ||
      g_utf8_strlen (text, -1) > PM_LIMIT_FIRMWARE_CHARS)
    return FALSE;
  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (fuzz_is_control (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/* The profiles a device may have, written down apart from the code. */
static const char *const device_profiles[] = {
  "pluto-legacy", "pluto-new", "axeos-gamma", "axeos-supra", "axeos-ultra", "nerdqaxe-plus",
};

/* Sets the expected profile to @name, unless another was set: the
 * `profile` and `api-version` options must agree. */
static gboolean
expect_profile (const char  *name,
                const char **profile)
{
  if (*profile != NULL && strcmp (*profile, name) != 0)
    return FALSE;
  *profile = name;
  return TRUE;
}

/* What the parser must make of @options: whether it is accepted and, if
 * so, the options in @out and the profile's name in @out_profile. */
static gboolean
expect_options (GVariant     *options,
                PmAddOptions *out,
                const char  **out_profile)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gsize i, n = g_variant_n_children (options);

  *out = (PmAddOptions) { 0, NULL, NULL, NULL };
  *out_profile = NULL;
  for (i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (options, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) value = g_variant_get_variant (boxed);
      const char *name = g_variant_get_string (key, NULL);
      const char *type = g_variant_get_type_string (value);

      if (!g_hash_table_add (seen, (gpointer) name))
        return FALSE;
      if (strcmp (name, "port") == 0 && strcmp (type, "u") == 0)
        {
          out->port = g_variant_get_uint32 (value);
        }
      else if (strcmp (name, "hostname") == 0 && strcmp (type, "s") == 0)
        {
          out->hostname = g_variant_get_string (value, NULL);
        }
      else if (strcmp (name, "firmware") == 0 && strcmp (type, "s") == 0)
        {
          out->firmware = g_variant_get_string (value, NULL);
        }
      else if (strcmp (name, "api-version") == 0 && strcmp (type, "s") == 0)
        {
          const char *text = g_variant_get_string (value, NULL);

          /* In any case, as pm_api_version_from_string () reads it. */
          if (g_ascii_strcasecmp (text, "legacy") == 0)
            {
              if (!expect_profile ("pluto-legacy", out_profile))
                return FALSE;
            }
          else if (g_ascii_strcasecmp (text, "new") == 0)
            {
              if (!expect_profile ("pluto-new", out_profile))
                return FALSE;
            }
          else
            {
              return FALSE;
            }
        }
      else if (strcmp (name, "profile") == 0 && strcmp (type, "s") == 0)
        {
          const char *text = g_variant_get_string (value, NULL);
          gsize j;

          for (j = 0; j < G_N_ELEMENTS (device_profiles); j++)
            if (strcmp (text, device_profiles[j]) == 0)
              break;
          if (j == G_N_ELEMENTS (device_profiles) || !expect_profile (device_profiles[j], out_profile))
            return FALSE;
        }
      else
        {
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- the target ------------------------------------------------------------ */

static void
check_quote (const uint8_t *data,
             size_t         size)
{
  g_autofree char *quoted = pm_quote ((const char *) data, (gssize) size);
  const char *mark = strstr (quoted, "… (");
  g_autofree char *head = g_strndup (quoted, mark != NULL ? (gsize) (mark - quoted) : strlen (quoted));

  fuzz_check_line (quoted, PM_LIMIT_QUOTE_CHARS + 32);
  if (g_utf8_strlen (head, -1) > PM_LIMIT_QUOTE_CHARS)
    g_error ("the quote keeps %ld characters: %s", g_utf8_strlen (head, -1), quoted);
  /* Text that fits is kept whole, unmarked. */
  if (size <= 32 && g_utf8_validate ((const char *) data, (gssize) size, NULL) &&
      memchr (data, '\0', size) == NULL)
    {
      g_autofree char *text = g_strndup ((const char *) data, size);

      if (expect_firmware (text) && strcmp (quoted, text) != 0)
        g_error ("'%s' was quoted as '%s'", text, quoted);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GVariant) untrusted = NULL;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(GError) error = NULL;
  PmAddOptions parsed, expected;
  const char *expected_profile = NULL;
  gboolean accepted;

  check_quote (data, size);

  untrusted = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
  /* What GDBus would hand the daemon. */
  options = g_variant_get_normal_form (untrusted);
  g_assert_true (g_variant_is_normal_form (options));

  accepted = pm_bus_manager_parse_add_options (options, &parsed, &error);
  if (accepted != expect_options (options, &expected, &expected_profile))
    g_error ("the parser %s %s", accepted ? "accepts" : "refuses",
             g_variant_print (options, TRUE));
  if (!accepted)
    {
      check_error (error);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (parsed.port, ==, expected.port);
  g_assert_cmpstr (parsed.profile != NULL ? parsed.profile->name : NULL, ==, expected_profile);
  g_assert_cmpstr (parsed.hostname, ==, expected.hostname);
  g_assert_cmpstr (parsed.firmware, ==, expected.firmware);

  if (parsed.hostname != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean good = pm_identity_check_hostname (parsed.hostname, &local_error);

      if (good != expect_hostname (parsed.hostname))
        g_error ("hostname '%s' %s", parsed.hostname, good ? "accepted" : "refused");
      if (!good)
        check_error (local_error);
    }
  if (parsed.firmware != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean good = pm_identity_check_firmware (parsed.firmware, &local_error);

      if (good != expect_firmware (parsed.firmware))
        g_error ("firmware '%s' %s", parsed.firmware, good ? "accepted" : "refused");
      if (!good)
        check_error (local_error);
    }
  return 0;
}
