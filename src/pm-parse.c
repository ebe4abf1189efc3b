/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-parse"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pm-error.h"
#include "pm-parse.h"
#include "pm-quote.h"

/*
 * The values a user writes in the environment, on the command line or in
 * a scenario file: ports, lists of ports, seeds, booleans.  Each error names
 * where the value came from and quotes it.
 */

/**
 * pm_parse_port:
 * @source: where @text comes from, for the error message
 * @text: the text to parse
 * @out_port: (out): the port
 * @error: return location for a #GError
 *
 * Parses a TCP port number, 1 to 65535, surrounding blanks allowed.
 */
gboolean
pm_parse_port (const char *source,
               const char *text,
               guint      *out_port,
               GError    **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  g_autofree char *quoted = pm_quote (copy, -1);
  guint64          value;

  if (copy[0] == '\0')
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _ ("%s: a port number is empty"), source);
      return FALSE;
    }
  /* Digits only: g_ascii_string_to_unsigned() lets a leading vertical
   * tab, and a '+' after it, through. */
  if (copy[strspn (copy, "0123456789")] != '\0' || !g_ascii_string_to_unsigned (copy, 10, 0, G_MAXUINT64, &value, NULL))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _ ("%s: '%s' is not a port number"), source, quoted);
      return FALSE;
    }
  if (value < 1 || value > 65535)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _ ("%s: port %s is out of range (1–65535)"), source, quoted);
      return FALSE;
    }

  *out_port = (guint) value;
  return TRUE;
}

/**
 * pm_parse_port_ranges:
 * @source: where @text comes from, for the error message
 * @text: a comma-separated list of ports and FIRST-LAST ranges
 * @func: takes each entry as a range, a single port as a range of one
 * @user_data: for @func
 * @error: return location for a #GError
 *
 * Parses a port list such as "7751,7752" or "8000-8999,9001".  An empty
 * list or entry, a port pm_parse_port() refuses and a range that runs
 * backwards are errors; whether a port may be listed twice is for @func
 * to say.  @func takes each entry, in the order written, before the next
 * is read, so that the error reported is the first in the text whichever
 * side finds it.
 *
 * Returns: %TRUE if every entry was read and @func took it
 */
gboolean
pm_parse_port_ranges (const char     *source,
                      const char     *text,
                      PmPortRangeFunc func,
                      gpointer        user_data,
                      GError        **error)
{
  g_auto (GStrv) entries = g_strsplit (text, ",", -1);
  guint          i;

  if (entries[0] == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _ ("%s: no port given"), source);
      return FALSE;
    }

  for (i = 0; entries[i] != NULL; i++)
    {
      char       *entry = g_strstrip (entries[i]);
      const char *dash = strchr (entry, '-');
      guint       first, last;

      if (entry[0] == '\0')
        {
          g_autofree char *quoted = pm_quote (text, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       _ ("%s: entry %u of '%s' is empty"), source, i + 1, quoted);
          return FALSE;
        }

      if (dash != NULL && dash != entry)
        {
          g_autofree char *head = g_strndup (entry, dash - entry);

          if (!pm_parse_port (source, head, &first, error) || !pm_parse_port (source, dash + 1, &last, error))
            return FALSE;
          if (last < first)
            {
              g_autofree char *quoted = pm_quote (entry, -1);

              g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           _ ("%s: range '%s' runs backwards"), source, quoted);
              return FALSE;
            }
        }
      else
        {
          if (!pm_parse_port (source, entry, &first, error))
            return FALSE;
          last = first;
        }

      if (!func (first, last, user_data, error))
        return FALSE;
    }

  return TRUE;
}

/* The ports of a list as pm_parse_ports() gathers them, with a bit for
 * each port seen so far. */
typedef struct
{
  const char *source;
  GArray     *ports;
  guint8      seen[65536 / 8];
} PortList;

static gboolean
add_ports (guint    first,
           guint    last,
           gpointer user_data,
           GError **error)
{
  PortList *list = user_data;
  guint     port;

  for (port = first; port <= last; port++)
    {
      if (list->seen[port / 8] & (1u << (port % 8)))
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       _ ("%s: port %u is listed twice"), list->source, port);
          return FALSE;
        }
      list->seen[port / 8] |= (guint8) (1u << (port % 8));
      g_array_append_val (list->ports, port);
    }
  return TRUE;
}

/**
 * pm_parse_ports:
 * @source: where @text comes from, for the error message
 * @text: a comma-separated list of ports and FIRST-LAST ranges
 * @out_ports: (element-type guint): an array the ports are appended to
 * @error: return location for a #GError
 *
 * Parses a port list such as "7751,7752" or "8000-8999,9001" into its
 * ports, in the order written.  The errors of pm_parse_port_ranges(), and
 * a port listed twice; on error @out_ports is left as it was.
 */
gboolean
pm_parse_ports (const char *source,
                const char *text,
                GArray     *out_ports,
                GError    **error)
{
  g_autoptr (GArray) ports = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree PortList *list = g_new0 (PortList, 1);

  list->source = source;
  list->ports = ports;
  if (!pm_parse_port_ranges (source, text, add_ports, list, error))
    return FALSE;

  g_array_append_vals (out_ports, ports->data, ports->len);
  return TRUE;
}

/**
 * pm_parse_seed:
 * @source: where @text comes from, for the error message
 * @text: the text to parse
 * @out_seed: (out): the seed
 * @error: return location for a #GError
 *
 * Parses the seed of the draws: a whole number from 0 to 2^64-1,
 * surrounding blanks allowed.
 */
gboolean
pm_parse_seed (const char *source,
               const char *text,
               guint64    *out_seed,
               GError    **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));

  /* Digits only, as for ports. */
  if (copy[0] == '\0' || copy[strspn (copy, "0123456789")] != '\0' ||
      !g_ascii_string_to_unsigned (copy, 10, 0, G_MAXUINT64, out_seed, NULL))
    {
      g_autofree char *quoted = pm_quote (copy, -1);

      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _ ("%s: '%s' is not a whole number from 0 to 18446744073709551615"),
                   source, quoted);
      return FALSE;
    }
  return TRUE;
}

/**
 * pm_parse_bool:
 * @source: where @text comes from, for the error message
 * @text: true, false, 1, 0, yes or no, in any case
 * @out_value: (out): the value
 * @error: return location for a #GError
 */
gboolean
pm_parse_bool (const char *source,
               const char *text,
               gboolean   *out_value,
               GError    **error)
{
  static const char *const yes[] = { "true", "1", "yes" };
  static const char *const no[] = { "false", "0", "no" };
  g_autofree char         *copy = g_strstrip (g_strdup (text));
  g_autofree char         *quoted = NULL;
  gsize                    i;

  for (i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      if (g_ascii_strcasecmp (copy, yes[i]) == 0)
        {
          *out_value = TRUE;
          return TRUE;
        }
      if (g_ascii_strcasecmp (copy, no[i]) == 0)
        {
          *out_value = FALSE;
          return TRUE;
        }
    }

  quoted = pm_quote (copy, -1);
  g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
               _ ("%s: '%s' is neither true nor false (use true/false, 1/0 or yes/no)"),
               source, quoted);
  return FALSE;
}
