/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *pm_quote (const char *text,
                gssize      length);

G_END_DECLS
