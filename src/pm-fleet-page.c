/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-fleet-page"

#include "config.h"

#include "pm-fleet-page.h"
#include "pm-fleet-resources.h"
#include "pm-http.h"

/*
 * The fleet page: plain HTML, CSS and JavaScript compiled into the
 * program (data/fleet/), which reads and drives the fleet through the
 * control API under /control/v1.  The files never change while the
 * program runs: each has an ETag, the hash of its content, and a browser
 * asks again every time (no-cache) but gets 304 when it has them.
 */

#define RESOURCE_PREFIX "/org/pluto/Mock1/fleet/"

/* What the page may load and where it may connect: its own files and the
 * listing server, nothing else, no inline script or style. */
#define CONTENT_SECURITY_POLICY \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

typedef struct
{
  const char *path;
  const char *name;
  const char *content_type;
} FleetFile;

static const FleetFile fleet_files[] = {
  { "/", "index.html", "text/html; charset=utf-8" },
  { "/fleet/fleet.css", "fleet.css", "text/css; charset=utf-8" },
  { "/fleet/fleet.js", "fleet.js", "text/javascript; charset=utf-8" },
  { "/fleet/icon.svg", "icon.svg", "image/svg+xml" },
};

typedef struct
{
  GBytes *data;  /* (owned) */
  char   *etag;  /* (owned) */
} FleetEntry;

/* The files' contents and ETags, in the order of fleet_files: they live
 * as long as the program. */
static FleetEntry *
get_entries (void)
{
  static FleetEntry *entries = NULL;

  if (g_once_init_enter (&entries))
    {
      FleetEntry *found = g_new0 (FleetEntry, G_N_ELEMENTS (fleet_files));
      GResource *resource = pm_fleet_get_resource ();
      gsize i;

      for (i = 0; i < G_N_ELEMENTS (fleet_files); i++)
        {
          g_autofree char *resource_path = g_strconcat (RESOURCE_PREFIX, fleet_files[i].name, NULL);
          g_autofree char *hash = NULL;
          g_autoptr(GError) error = NULL;

          found[i].data = g_resource_lookup_data (resource, resource_path,
                                                  G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
          /* The build puts every file there. */
          g_assert_no_error (error);
          hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, found[i].data);
          found[i].etag = g_strdup_printf ("\"%.32s\"", hash);
        }
      g_once_init_leave (&entries, found);
    }
  return entries;
}

/* Whether an If-None-Match header names @etag: a comma-separated list of
 * entity tags, weak or strong, or `*`. */
static gboolean
etag_matches (const char *if_none_match,
              const char *etag)
{
  g_auto(GStrv) tags = NULL;
  gsize i;

  if (if_none_match == NULL)
    return FALSE;
  tags = g_strsplit (if_none_match, ",", -1);
  for (i = 0; tags[i] != NULL; i++)
    {
      const char *tag = g_strstrip (tags[i]);

      if (g_str_has_prefix (tag, "W/"))
        tag += 2;
      if (g_str_equal (tag, "*") || g_str_equal (tag, etag))
        return TRUE;
    }
  return FALSE;
}

/* The index of @path in fleet_files, or G_N_ELEMENTS (fleet_files). */
static gsize
find_file (const char *path)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (fleet_files); i++)
    if (g_str_equal (path, fleet_files[i].path))
      break;
  return i;
}

/**
 * pm_fleet_page_has:
 * @path: a request path on the listing port
 *
 * Returns: whether @path is one of the fleet page's files
 */
gboolean
pm_fleet_page_has (const char *path)
{
  g_return_val_if_fail (path != NULL, FALSE);
  return find_file (path) < G_N_ELEMENTS (fleet_files);
}

/**
 * pm_fleet_page_serve:
 * @msg: a GET or HEAD request to the listing server
 * @path: its path
 *
 * Answers the fleet page's files: `/` and what lies under `/fleet/`, with
 * their content type, an ETag and `Cache-Control: no-cache`; 304 when the
 * request's If-None-Match names the file's ETag.
 *
 * Returns: %TRUE if @path is one of them and the reply is set; %FALSE
 *   for any other path (the caller answers 404)
 */
gboolean
pm_fleet_page_serve (SoupServerMessage *msg,
                     const char        *path)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);
  const FleetEntry *entry;
  gsize i;

  g_return_val_if_fail (SOUP_IS_SERVER_MESSAGE (msg), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  i = find_file (path);
  if (i == G_N_ELEMENTS (fleet_files))
    return FALSE;

  entry = &get_entries ()[i];
  soup_message_headers_replace (response, "ETag", entry->etag);
  soup_message_headers_replace (response, "Cache-Control", "no-cache");
  soup_message_headers_replace (response, "X-Content-Type-Options", "nosniff");
  if (i == 0)
    {
      soup_message_headers_replace (response, "Content-Security-Policy", CONTENT_SECURITY_POLICY);
      soup_message_headers_replace (response, "Referrer-Policy", "no-referrer");
    }

  if (etag_matches (soup_message_headers_get_list (request, "If-None-Match"), entry->etag))
    {
      pm_http_reply_static (msg, SOUP_STATUS_NOT_MODIFIED, fleet_files[i].content_type, "");
      return TRUE;
    }

  /* A resource's data is NUL-terminated and lives as long as the
   * program. */
  pm_http_reply_static (msg, SOUP_STATUS_OK, fleet_files[i].content_type,
                        g_bytes_get_data (entry->data, NULL));
  return TRUE;
}
