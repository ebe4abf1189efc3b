/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-update"

#include "config.h"

#include <string.h>

#include "pm-error.h"
#include "pm-update.h"

/*
 * Validation and merging of the documents sent to PATCH /api/system.
 * Everything is checked before anything is stored, so a rejected update
 * leaves the device's overrides exactly as they were.
 */

/* The deepest nesting of [ and { in @data, outside strings.  Scanned
 * before parsing so that a hostile document cannot drive the recursive
 * parser into the stack. Stops counting past @limit. */
static guint
nesting_depth (const char *data,
               gsize       length,
               guint       limit)
{
  gboolean in_string = FALSE;
  gboolean escaped = FALSE;
  guint depth = 0, deepest = 0;
  gsize i;

  for (i = 0; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }

      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          depth++;
          if (depth > deepest)
            deepest = depth;
          if (deepest > limit)
            return deepest;
          break;
        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;
        default:
          break;
        }
    }

  return deepest;
}

static gboolean
is_blank (const char *data,
          gsize       length)
{
  gsize i;

  for (i = 0; i < length; i++)
    if (!g_ascii_isspace (data[i]))
      return FALSE;
  return TRUE;
}

static const char *
node_kind (JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_VALUE:
    default:
      break;
    }

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
    }
}

/**
 * pm_update_parse:
 * @data: the update document
 * @length: its length in bytes
 * @error: return location for a #PmError
 *
 * Checks that @data is a JSON object within the size and depth limits.
 *
 * Returns: (transfer full): the object, or %NULL with @error set
 */
JsonObject *
pm_update_parse (const char *data,
                 gsize       length,
                 GError    **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  guint depth;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length > PM_UPDATE_MAX_BYTES)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_TOO_LARGE,
                   "body of %" G_GSIZE_FORMAT " bytes is over the limit of %d bytes",
                   length, PM_UPDATE_MAX_BYTES);
      return NULL;
    }
  if (length == 0 || is_blank (data, length))
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                           "body is empty; expected a JSON object");
      return NULL;
    }
  if (memchr (data, '\0', length) != NULL || !g_utf8_validate_len (data, length, NULL))
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                           "body is not valid UTF-8 text");
      return NULL;
    }
  depth = nesting_depth (data, length, PM_UPDATE_MAX_DEPTH);
  if (depth > PM_UPDATE_MAX_DEPTH)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_TOO_DEEP,
                   "body nests deeper than %d levels", PM_UPDATE_MAX_DEPTH);
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, &local_error))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                   "malformed JSON: %s", local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_JSON,
                           "body is empty; expected a JSON object");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_NOT_AN_OBJECT,
                   "expected a JSON object, got %s", node_kind (root));
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

/**
 * pm_update_merge:
 * @overrides: the stored overrides
 * @update: a parsed update
 *
 * Merges @update into @overrides, member by member: a member of @update
 * replaces the stored one of the same name; members not named keep their
 * value.
 */
void
pm_update_merge (JsonObject *overrides,
                 JsonObject *update)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  g_return_if_fail (overrides != NULL);
  g_return_if_fail (update != NULL);

  json_object_iter_init_ordered (&iter, update);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    json_object_set_member (overrides, name, json_node_copy (member));
}
