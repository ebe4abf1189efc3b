/* SPDX-License-Identifier: MIT */
#pragma once

#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * A small, fast JSON text builder for the documents plutomock serves on
 * every request.  It writes straight into a GString, formats numbers the
 * way JavaScript prints them (shortest form, no trailing zeros) and never
 * depends on the locale.
 */

/* g_string_append_len(), copying straight in while there is room, as
 * g_string_append_c() does.  In GLib before 2.76 g_string_append_len()
 * is a call to g_string_insert_len(), whose checks cost more than
 * copying the few bytes of a name or a number, and a reply is hundreds
 * of such pieces. */
static inline void
pm_json_append_len (GString    *out,
                    const char *text,
                    gsize       len)
{
  if (G_LIKELY (out->len + len < out->allocated_len))
    {
      memcpy (out->str + out->len, text, len);
      out->len += len;
      out->str[out->len] = '\0';
    }
  else
    {
      g_string_append_len (out, text, (gssize) len);
    }
}

/* Appends @text, already JSON, as it is. */
static inline void
pm_json_append_raw (GString    *out,
                    const char *text)
{
  pm_json_append_len (out, text, strlen (text));
}

void pm_json_append_string (GString    *out,
                            const char *text);
void pm_json_append_int (GString *out,
                         gint64   value);
void pm_json_append_fixed (GString *out,
                           double   value,
                           guint    decimals);
void pm_json_append_double (GString *out,
                            double   value,
                            guint    decimals);
void pm_json_append_node (GString  *out,
                          JsonNode *node);
GHashTable *pm_json_double_cache_new (void);
void pm_json_append_node_cached (GString    *out,
                                 JsonNode   *node,
                                 GHashTable *doubles);

G_END_DECLS
