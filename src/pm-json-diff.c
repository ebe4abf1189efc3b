/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-json-diff"

#include "config.h"

#include <string.h>

#include "pm-json-diff.h"

/*
 * The diff of two states as AxeOS sends it on /api/ws/live: only the
 * top-level members whose value changed, nested objects diffed member by
 * member, arrays sent whole when they differ in any way, and members that
 * disappeared not signalled at all.
 */

static gboolean
is_number (JsonNode *node)
{
  GType type = json_node_get_value_type (node);

  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
values_equal (JsonNode *a,
              JsonNode *b)
{
  GType type_a = json_node_get_value_type (a);
  GType type_b = json_node_get_value_type (b);

  if (is_number (a) && is_number (b))
    {
      if (type_a == G_TYPE_INT64 && type_b == G_TYPE_INT64)
        return json_node_get_int (a) == json_node_get_int (b);
      /* 1 and 1.0 are the same number to a JavaScript client. */
      return json_node_get_double (a) == json_node_get_double (b);
    }
  if (type_a != type_b)
    return FALSE;
  if (type_a == G_TYPE_STRING)
    return g_strcmp0 (json_node_get_string (a), json_node_get_string (b)) == 0;
  if (type_a == G_TYPE_BOOLEAN)
    return json_node_get_boolean (a) == json_node_get_boolean (b);
  return FALSE;
}

static gboolean
objects_equal (JsonObject *a,
               JsonObject *b)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  if (json_object_get_size (a) != json_object_get_size (b))
    return FALSE;
  json_object_iter_init (&iter, a);
  while (json_object_iter_next (&iter, &name, &node))
    {
      JsonNode *other = json_object_get_member (b, name);

      if (other == NULL || !pm_json_node_equal (node, other))
        return FALSE;
    }
  return TRUE;
}

static gboolean
arrays_equal (JsonArray *a,
              JsonArray *b)
{
  guint length = json_array_get_length (a);
  guint i;

  if (length != json_array_get_length (b))
    return FALSE;
  for (i = 0; i < length; i++)
    {
      if (!pm_json_node_equal (json_array_get_element (a, i), json_array_get_element (b, i)))
        return FALSE;
    }
  return TRUE;
}

/**
 * pm_json_node_equal:
 * @a: a #JsonNode
 * @b: another
 *
 * Compares two JSON values deeply.  Numbers compare by value, whether
 * stored as integers or doubles; the order of an object's members does
 * not matter, the order of an array's elements does.
 *
 * Returns: whether @a and @b hold the same value
 */
gboolean
pm_json_node_equal (JsonNode *a,
                    JsonNode *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  if (JSON_NODE_TYPE (a) != JSON_NODE_TYPE (b))
    return FALSE;
  switch (JSON_NODE_TYPE (a))
    {
    case JSON_NODE_NULL:
      return TRUE;
    case JSON_NODE_OBJECT:
      return objects_equal (json_node_get_object (a), json_node_get_object (b));
    case JSON_NODE_ARRAY:
      return arrays_equal (json_node_get_array (a), json_node_get_array (b));
    case JSON_NODE_VALUE:
      return values_equal (a, b);
    default:
      return FALSE;
    }
}

/**
 * pm_json_diff:
 * @old: (nullable): the state last sent
 * @new: the state now
 *
 * What changed from @old to @new: every member of @new that @old lacks
 * or holds with another value.  A member that is an object in both is
 * diffed recursively, so that only its changed members are given; an
 * array that differs in any way is given whole.  Members of @old that
 * @new lacks are not signalled.  A %NULL @old gives all of @new.
 *
 * Returns: (transfer full) (nullable): the changed members, or %NULL if
 *   nothing changed (never an empty object).  Arrays and objects in it
 *   are shared with @new, not copied: change neither afterwards.
 */
JsonObject *
pm_json_diff (JsonObject *old,
              JsonObject *new)
{
  g_autoptr(JsonObject) diff = NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  g_return_val_if_fail (new != NULL, NULL);

  /* In @new's order, so that a diff reads like the state it comes from. */
  json_object_iter_init_ordered (&iter, new);
  while (json_object_iter_next_ordered (&iter, &name, &node))
    {
      JsonNode *before = old != NULL ? json_object_get_member (old, name) : NULL;
      JsonNode *changed = NULL;

      if (before != NULL && JSON_NODE_HOLDS_OBJECT (before) && JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *inner = pm_json_diff (json_node_get_object (before),
                                            json_node_get_object (node));

          if (inner != NULL)
            {
              changed = json_node_new (JSON_NODE_OBJECT);
              json_node_take_object (changed, inner);
            }
        }
      else if (before == NULL || !pm_json_node_equal (before, node))
        {
          changed = json_node_copy (node);
        }

      if (changed != NULL)
        {
          if (diff == NULL)
            diff = json_object_new ();
          json_object_set_member (diff, name, changed);
        }
    }
  return g_steal_pointer (&diff);
}
