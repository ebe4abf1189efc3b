/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-fleet-page"

#include "config.h"

#include "pm-fleet-page.h"
#include "pm-http.h"

/**
 * pm_fleet_page_serve:
 * @msg: a request to the listing server
 * @path: its path
 *
 * Answers the fleet page's files: `/` and what lies under `/fleet/`.
 *
 * Returns: %TRUE if @path is one of them and the reply is set
 */
gboolean
pm_fleet_page_serve (SoupServerMessage *msg,
                     const char        *path)
{
  if (g_str_equal (path, "/"))
    {
      pm_http_reply_static (msg, SOUP_STATUS_OK, "text/html; charset=utf-8",
                            "<!DOCTYPE html><title>plutomock</title><p>plutomock</p>\n");
      return TRUE;
    }
  return FALSE;
}
