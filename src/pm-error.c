/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-error"

#include "config.h"

#include "pm-error.h"

G_DEFINE_QUARK (pm-error-quark, pm_error)
