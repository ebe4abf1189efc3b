/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Whether @text is one or more ASCII digits and nothing else: how the
 * daemon and plutomockctl tell a device named by its port from one named
 * by its hostname.  Inline, so that plutomockctl has it without linking
 * the daemon's parsers.
 */
static inline gboolean
pm_parse_is_all_digits (const char *text)
{
  const char *p;

  if (text[0] == '\0')
    return FALSE;
  for (p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

gboolean pm_parse_port (const char *source,
                        const char *text,
                        guint      *out_port,
                        GError    **error);

/*
 * Takes one entry of a port list, ports @first to @last (both included),
 * for pm_parse_port_ranges().  Returns FALSE, with @error set, to stop it.
 */
typedef gboolean (*PmPortRangeFunc) (guint    first,
                                     guint    last,
                                     gpointer user_data,
                                     GError **error);

gboolean pm_parse_port_ranges (const char     *source,
                               const char     *text,
                               PmPortRangeFunc func,
                               gpointer        user_data,
                               GError        **error);
gboolean pm_parse_ports (const char *source,
                         const char *text,
                         GArray     *out_ports,
                         GError    **error);
gboolean pm_parse_seed (const char *source,
                        const char *text,
                        guint64    *out_seed,
                        GError    **error);
gboolean pm_parse_bool (const char *source,
                        const char *text,
                        gboolean   *out_value,
                        GError    **error);

G_END_DECLS
