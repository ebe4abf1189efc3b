/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean pm_identity_check_hostname (const char *hostname,
                                     GError    **error);
gboolean pm_identity_check_firmware (const char *firmware,
                                     GError    **error);

G_END_DECLS
