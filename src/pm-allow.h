/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * PmAllowList:
 *
 * Which peers may use control over HTTP: IP addresses and CIDR prefixes,
 * or anyone (`any`), or no one (`none`).  An IPv4-mapped IPv6 peer
 * (::ffff:a.b.c.d) counts as its IPv4 address.  Immutable once parsed;
 * reference counted.
 */
typedef struct _PmAllowList PmAllowList;

PmAllowList *pm_allow_list_new_loopback (void);
PmAllowList *pm_allow_list_parse (const char *text,
                                  GError    **error);
PmAllowList *pm_allow_list_ref (PmAllowList *self);
void         pm_allow_list_unref (PmAllowList *self);

gboolean     pm_allow_list_allows (const PmAllowList *self,
                                   GInetAddress      *address);
gboolean     pm_allow_list_is_none (const PmAllowList *self);
gboolean     pm_allow_list_is_loopback (const PmAllowList *self);
GStrv        pm_allow_list_dup_entries (const PmAllowList *self);
char        *pm_allow_list_describe (const PmAllowList *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmAllowList, pm_allow_list_unref)

G_END_DECLS
