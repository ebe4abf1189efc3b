/* SPDX-License-Identifier: MIT */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

gboolean pm_fleet_page_has (const char *path);
gboolean pm_fleet_page_serve (SoupServerMessage *msg,
                              const char        *path);

G_END_DECLS
