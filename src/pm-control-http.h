/* SPDX-License-Identifier: MIT */
#pragma once

#include <libsoup/soup.h>

#include "pm-allow.h"
#include "pm-manager.h"

G_BEGIN_DECLS

/* Where control over HTTP lives on the listing port. */
#define PM_CONTROL_HTTP_PREFIX "/control/v1"

/**
 * PmControlHttp:
 *
 * Control over HTTP: the endpoints under `/control/v1` on the listing
 * port, doing what the D-Bus methods do (through pm-control.h), for the
 * peers a #PmAllowList lets in.
 */
typedef struct _PmControlHttp PmControlHttp;

PmControlHttp *pm_control_http_new (PmManager   *manager,
                                    PmAllowList *allow);
void           pm_control_http_free (PmControlHttp *self);

gboolean pm_control_http_owns_path (const char *path);
gsize    pm_control_http_get_body_limit (void);
void     pm_control_http_early (PmControlHttp     *self,
                                SoupServerMessage *msg,
                                const char        *path);
void     pm_control_http_handle (PmControlHttp     *self,
                                 SoupServerMessage *msg,
                                 const char        *path);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmControlHttp, pm_control_http_free)

G_END_DECLS
