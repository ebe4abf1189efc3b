/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Checks the fuzz targets share: each failure prints what is wrong and
 * aborts, which libFuzzer reports with the input. */

gboolean fuzz_is_control (gunichar c);
void     fuzz_check_line (const char *text,
                          glong       max);

G_END_DECLS
