/* SPDX-License-Identifier: MIT */
#pragma once

#include "pm-api-host.h"

G_BEGIN_DECLS

#define PM_PLUTO_PATH_WS "/api/ws"

void pm_pluto_api_early (const PmApiHost   *host,
                         SoupServerMessage *msg,
                         const char        *path);
char     *pm_pluto_api_dup_info (const PmApiHost *host);
GBytes   *pm_pluto_api_answer (const PmApiHost         *host,
                               const PmAcceptorRequest *request);
gboolean  pm_pluto_api_update (const PmApiHost *host,
                               const char      *data,
                               gsize            length,
                               GError         **error);
void pm_pluto_api_handle (const PmApiHost   *host,
                          SoupServerMessage *msg,
                          const char        *path,
                          GHashTable        *query);

G_END_DECLS
