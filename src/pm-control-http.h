/* SPDX-License-Identifier: MIT */
#pragma once

#include "pm-allow.h"
#include "pm-listing-server.h"
#include "pm-manager.h"

G_BEGIN_DECLS

/* Where control over HTTP lives on the listing port. */
#define PM_CONTROL_HTTP_PREFIX "/control/v1"

/*
 * Control over HTTP: the endpoints under `/control/v1` on the listing
 * port, doing what the D-Bus methods do (through pm-control.h), for the
 * peers a #PmAllowList lets in.
 */
void pm_control_http_mount (PmListingServer *listing,
                            PmManager       *manager,
                            PmAllowList     *allow);

G_END_DECLS
