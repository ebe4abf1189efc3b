/* SPDX-License-Identifier: MIT */
#pragma once

#include "pm-api-host.h"

G_BEGIN_DECLS

#define PM_PLUTO_PATH_WS "/api/ws"

void pm_pluto_api_early (const PmApiHost   *host,
                         SoupServerMessage *msg,
                         const char        *path);
void pm_pluto_api_handle (const PmApiHost   *host,
                          SoupServerMessage *msg,
                          const char        *path,
                          GHashTable        *query);

G_END_DECLS
