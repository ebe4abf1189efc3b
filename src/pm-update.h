/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The largest update document accepted, in bytes. */
#define PM_UPDATE_MAX_BYTES (64 * 1024)
/* The deepest nesting of arrays and objects accepted. */
#define PM_UPDATE_MAX_DEPTH 64
/* The largest a device's stored overrides may grow, serialised. */
#define PM_OVERRIDES_MAX_BYTES (256 * 1024)

JsonObject *pm_update_parse (const char *data,
                             gsize       length,
                             GError    **error);
void        pm_update_merge (JsonObject *overrides,
                             JsonObject *update);
JsonObject *pm_update_merged (JsonObject *overrides,
                              JsonObject *update,
                              GError    **error);

G_END_DECLS
