/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "fuzz-config"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include <gio/gio.h>

#include "pm-config.h"
#include "pm-parse.h"
#include "pm-error.h"

/*
 * Fuzzes the start-up configuration (src/pm-config.c).
 *
 * The input, up to its first NUL, is given whole to
 * pm_parse_port(), pm_parse_ports() and
 * pm_parse_bool(), and each answer is compared with a plain
 * reading of what the function documents.  Then the input is cut into
 * lines: the first three are the values of LISTING_PORT, PORTS and
 * LOGS_PUB_ENABLED, the others the command line of pm_config_load(),
 * whose result must be a sound configuration; with no command line it
 * must also agree with the three parsers.
 */

/* The most command-line arguments taken from one input. */
#define FUZZ_MAX_ARGS 16

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* ---- what the functions document, written plainly ------------------------ */

/* The text without the blanks around it, as g_strstrip() would leave it. */
static char *
stripped (const char *text,
          gsize       length)
{
  gsize start = 0, end = length;

  while (start < end && g_ascii_isspace (text[start]))
    start++;
  while (end > start && g_ascii_isspace (text[end - 1]))
    end--;
  return g_strndup (text + start, end - start);
}

/* A port: decimal digits only, blanks around allowed, 1 to 65535. */
static gboolean
expect_port (const char *text,
             gsize       length,
             guint      *out_port)
{
  g_autofree char *digits = stripped (text, length);
  guint64 value = 0;
  const char *p;

  if (digits[0] == '\0')
    return FALSE;
  for (p = digits; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      value = value * 10 + (guint64) (*p - '0');
      if (value > 65535)
        value = 65536;
    }
  if (value < 1 || value > 65535)
    return FALSE;
  *out_port = (guint) value;
  return TRUE;
}

/* A list: comma-separated entries, each a port or FIRST-LAST (the first
 * dash that is not the entry's first character splits a range), no entry
 * empty, no port twice. */
static gboolean
expect_ports (const char *text,
              GArray     *out_ports)
{
  g_autofree guint8 *seen = g_new0 (guint8, 65536 / 8);
  const char *entry = text;

  for (;;)
    {
      const char *comma = strchr (entry, ',');
      gsize length = comma != NULL ? (gsize) (comma - entry) : strlen (entry);
      g_autofree char *bare = stripped (entry, length);
      const char *dash = strchr (bare, '-');
      guint first, last, port;

      if (bare[0] == '\0')
        return FALSE;
      if (dash != NULL && dash != bare)
        {
          if (!expect_port (bare, dash - bare, &first) ||
              !expect_port (dash + 1, strlen (dash + 1), &last) ||
              last < first)
            return FALSE;
        }
      else
        {
          if (!expect_port (bare, strlen (bare), &first))
            return FALSE;
          last = first;
        }
      for (port = first; port <= last; port++)
        {
          if (seen[port / 8] & (1u << (port % 8)))
            return FALSE;
          seen[port / 8] |= (guint8) (1u << (port % 8));
          g_array_append_val (out_ports, port);
        }
      if (comma == NULL)
        return TRUE;
      entry = comma + 1;
    }
}

/* true, 1, yes, false, 0 or no, in any case, blanks around allowed. */
static gboolean
expect_bool (const char *text,
             gboolean   *out_value)
{
  g_autofree char *bare = stripped (text, strlen (text));
  g_autofree char *lower = g_ascii_strdown (bare, -1);

  if (g_str_equal (lower, "true") || g_str_equal (lower, "1") || g_str_equal (lower, "yes"))
    *out_value = TRUE;
  else if (g_str_equal (lower, "false") || g_str_equal (lower, "0") || g_str_equal (lower, "no"))
    *out_value = FALSE;
  else
    return FALSE;
  return TRUE;
}

/* ---- checks --------------------------------------------------------------- */

static void
assert_failed_soundly (gboolean ok,
                       GError  *error)
{
  g_assert_false (ok);
  g_assert_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (error->message);
}

/* Every port from @from on is in range and there once. */
static void
assert_ports_sound (GArray *ports,
                    guint   from)
{
  g_autofree guint8 *seen = g_new0 (guint8, 65536 / 8);
  guint i;

  for (i = from; i < ports->len; i++)
    {
      guint port = g_array_index (ports, guint, i);

      g_assert_cmpuint (port, >=, 1);
      g_assert_cmpuint (port, <=, 65535);
      g_assert_false (seen[port / 8] & (1u << (port % 8)));
      seen[port / 8] |= (guint8) (1u << (port % 8));
    }
}

static void
assert_same_ports (GArray *ports,
                   guint   from,
                   GArray *expected)
{
  g_assert_cmpuint (ports->len - from, ==, expected->len);
  g_assert_cmpmem (&g_array_index (ports, guint, from), (gsize) expected->len * sizeof (guint),
                   expected->data, (gsize) expected->len * sizeof (guint));
}

static void
fuzz_port (const char *text)
{
  g_autoptr(GError) error = NULL;
  guint port = 0, expected = 0;
  gboolean ok = pm_parse_port ("fuzz", text, &port, &error);

  if (!expect_port (text, strlen (text), &expected))
    {
      assert_failed_soundly (ok, error);
      g_assert_cmpuint (port, ==, 0);
      return;
    }
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (port, ==, expected);
}

static void
fuzz_ports (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) expected = g_array_new (FALSE, FALSE, sizeof (guint));
  /* Something already there, which must stay first and alone on error. */
  const guint before = 0;
  gboolean ok;

  g_array_append_val (ports, before);
  ok = pm_parse_ports ("fuzz", text, ports, &error);
  g_assert_cmpuint (g_array_index (ports, guint, 0), ==, before);

  if (!expect_ports (text, expected))
    {
      assert_failed_soundly (ok, error);
      g_assert_cmpuint (ports->len, ==, 1);
      return;
    }
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (ports->len, >, 1);
  assert_ports_sound (ports, 1);
  assert_same_ports (ports, 1, expected);
}

static void
fuzz_bool (const char *text)
{
  g_autoptr(GError) error = NULL;
  gboolean value = 42, expected = FALSE;
  gboolean ok = pm_parse_bool ("fuzz", text, &value, &error);

  if (!expect_bool (text, &expected))
    {
      assert_failed_soundly (ok, error);
      g_assert_cmpint (value, ==, 42);
      return;
    }
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (value, ==, expected);
}

/* GOption prints the help and exits on these: -h, -?, a group of short
 * options holding one of them, and --help... */
static gboolean
asks_for_help (const char *arg)
{
  if (g_str_has_prefix (arg, "--"))
    return g_str_has_prefix (arg, "--help");
  return arg[0] == '-' && (strchr (arg, 'h') != NULL || strchr (arg, '?') != NULL);
}

/* With no command line, what pm_config_load() makes of the environment
 * follows from the three parsers. */
static void
assert_follows_environment (gboolean    ok,
                            PmConfig   *config,
                            const char *listing,
                            const char *ports,
                            const char *logs)
{
  g_autoptr(PmConfig) defaults = pm_config_new ();
  g_autoptr(GArray) expected_ports = g_array_new (FALSE, FALSE, sizeof (guint));
  guint expected_listing = defaults->listing_port;
  gboolean expected_logs = defaults->logs_enabled;
  gboolean sound = TRUE;
  guint i;

  if (listing[0] != '\0')
    {
      g_autofree char *bare = stripped (listing, strlen (listing));

      if (g_str_equal (bare, "0"))
        expected_listing = 0;
      else
        sound = expect_port (listing, strlen (listing), &expected_listing);
    }
  if (ports[0] != '\0')
    sound = sound && expect_ports (ports, expected_ports);
  else
    g_array_append_vals (expected_ports, defaults->ports->data, defaults->ports->len);
  for (i = 0; sound && i < expected_ports->len; i++)
    if (g_array_index (expected_ports, guint, i) == expected_listing)
      sound = FALSE;
  if (sound && logs[0] != '\0')
    sound = expect_bool (logs, &expected_logs);

  g_assert_cmpint (ok, ==, sound);
  if (!ok)
    return;
  g_assert_cmpuint (config->listing_port, ==, expected_listing);
  assert_same_ports (config->ports, 0, expected_ports);
  g_assert_cmpint (config->logs_enabled, ==, expected_logs);
  g_assert_cmpstr (config->bind_address, ==, defaults->bind_address);
  g_assert_true (config->dbus_enabled);
  g_assert_false (config->replace);
  g_assert_false (config->seed_given);
  g_assert_false (config->show_version);
}

static void
fuzz_load (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n_lines = g_strv_length (lines);
  const char *listing = n_lines > 0 ? lines[0] : "";
  const char *ports = n_lines > 1 ? lines[1] : "";
  const char *logs = n_lines > 2 ? lines[2] : "";
  g_auto(GStrv) envp = NULL;
  g_autoptr(PmConfig) config = pm_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char **argv = g_new0 (char *, FUZZ_MAX_ARGS + 2);
  char **args = argv;
  int argc = 0;
  guint i;
  gboolean no_options, ok;

  envp = g_environ_setenv (envp, "LISTING_PORT", listing, TRUE);
  envp = g_environ_setenv (envp, "PORTS", ports, TRUE);
  envp = g_environ_setenv (envp, "LOGS_PUB_ENABLED", logs, TRUE);

  /* GOption moves the arguments it takes out of argv: the strings stay
   * owned by @lines. */
  argv[argc++] = (char *) "plutomock";
  for (i = 3; i < n_lines && argc <= FUZZ_MAX_ARGS; i++)
    if (!asks_for_help (lines[i]))
      argv[argc++] = lines[i];
  argv[argc] = NULL;

  no_options = argc == 1;
  ok = pm_config_load (config, (const char *const *) envp, &argc, &args, &error);
  if (no_options)
    assert_follows_environment (ok, config, listing, ports, logs);

  if (!ok)
    {
      assert_failed_soundly (ok, error);
      return;
    }
  g_assert_no_error (error);

  /* Whatever the input, a configuration the daemon accepts is sound. */
  g_assert_cmpuint (config->ports->len, >, 0);
  assert_ports_sound (config->ports, 0);
  g_assert_cmpuint (config->listing_port, <=, 65535);
  for (i = 0; i < config->ports->len; i++)
    g_assert_cmpuint (g_array_index (config->ports, guint, i), !=, config->listing_port);
  g_assert_nonnull (config->bind_address);
  {
    g_autoptr(GInetAddress) address = g_inet_address_new_from_string (config->bind_address);

    g_assert_nonnull (address);
  }
  g_assert_false (config->replace && !config->dbus_enabled);
  g_assert_cmpint (argc, ==, 1);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);

  fuzz_port (text);
  fuzz_ports (text);
  fuzz_bool (text);
  fuzz_load (text);
  return 0;
}
