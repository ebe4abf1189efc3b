/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

gboolean    pm_json_node_equal (JsonNode *a,
                                JsonNode *b);
JsonObject *pm_json_diff (JsonObject *old,
                          JsonObject *new);

G_END_DECLS
