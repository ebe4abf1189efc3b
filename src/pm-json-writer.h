/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * A small, fast JSON text builder for the documents plutomock serves on
 * every request.  It writes straight into a GString, formats numbers the
 * way JavaScript prints them (shortest form, no trailing zeros) and never
 * depends on the locale.
 */

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
