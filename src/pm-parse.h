/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean pm_parse_port (const char *source,
                        const char *text,
                        guint      *out_port,
                        GError    **error);
gboolean pm_parse_ports (const char *source,
                         const char *text,
                         GArray     *out_ports,
                         GError    **error);
gboolean pm_parse_seed (const char *source,
                        const char *text,
                        guint64    *out_seed,
                        GError    **error);
gboolean pm_parse_bool (const char *source,
                        const char *text,
                        gboolean   *out_value,
                        GError    **error);

G_END_DECLS
