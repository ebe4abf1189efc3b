/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "pm-limits.h"

G_BEGIN_DECLS

JsonNode   *pm_update_parse_node (const char *data,
                                  gsize       length,
                                  GError    **error);
JsonObject *pm_update_parse (const char *data,
                             gsize       length,
                             GError    **error);

/**
 * PmOverrides:
 *
 * A device's stored overrides: the members PATCH /api/system has set, in
 * the order each was first set, each kept as its compact JSON text.
 * Looking up or replacing a member takes constant time, and the store
 * keeps its serialised size and member count up to date, so an update
 * costs what its own document costs, whatever is stored already.
 */
typedef struct _PmOverrides PmOverrides;

PmOverrides *pm_overrides_new (void);
PmOverrides *pm_overrides_new_from_object (JsonObject *object);
void         pm_overrides_free (PmOverrides *self);

gboolean pm_overrides_update (PmOverrides *self,
                              JsonObject  *update,
                              GError     **error);

guint       pm_overrides_get_size (const PmOverrides *self);
gsize       pm_overrides_get_bytes (const PmOverrides *self);
const char *pm_overrides_lookup (const PmOverrides *self,
                                 const char        *name);
const char *pm_overrides_get_nth (const PmOverrides *self,
                                  guint              index,
                                  const char       **member);
char       *pm_overrides_to_string (const PmOverrides *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmOverrides, pm_overrides_free)

G_END_DECLS
