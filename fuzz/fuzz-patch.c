/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "fuzz-patch"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "pm-error.h"
#include "pm-generator.h"
#include "pm-json-writer.h"
#include "pm-limits.h"
#include "pm-update.h"

/*
 * Fuzzes PATCH /api/system (src/pm-update.c): the input is a request
 * body, checked by pm_update_parse() and merged by pm_overrides_update(),
 * as pm_device_update() does, into one store of overrides that lives
 * across inputs, so that updates meet members stored by earlier ones.
 * The store starts afresh once it nears either cap or an update was
 * refused for one.
 *
 * Checked for every input:
 *  - a refused body has a PmError with a message;
 *  - an accepted body is also JSON to json-glib's own (lenient) parser,
 *    which reads it to the same document;
 *  - an update is refused exactly when the store would pass a cap, as
 *    worked out here from the stored text of each member and the
 *    writer's text of each new value;
 *  - a refused update changes nothing, text, size and member count;
 *  - after an accepted one, every member of the update reads back as the
 *    writer writes it, the members stored before keep their places, and
 *    the stored size and member count match a recount of the store's
 *    text;
 *  - GET /api/system/info over the store is one JSON object holding
 *    every stored member.
 * The last two read the whole store: they run after every input while it
 * is small, and then once more before it is dropped.
 */

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* Up to this size the whole store is checked after every input. */
#define FULL_CHECK_BYTES 8192

static PmOverrides *store;

static char *
node_text (JsonNode *node)
{
  GString *out = g_string_new (NULL);

  pm_json_append_node (out, node);
  return g_string_free (out, FALSE);
}

static char *
object_text (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return node_text (node);
}

/* json-glib's parser reads @data to the same document as @update. */
static void
check_same_as_json_glib (const uint8_t *data,
                         size_t         size,
                         JsonObject    *update)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  g_autofree char *ours = object_text (update);
  g_autofree char *theirs = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) size, &error))
    g_error ("accepted, but json-glib refuses it: %s", error->message);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  theirs = node_text (root);
  g_assert_cmpstr (ours, ==, theirs);
}

/* Whether @update fits in the store, worked out member by member. */
static gboolean
expect_fits (JsonObject *update)
{
  guint count = pm_overrides_get_size (store);
  gsize bytes = pm_overrides_get_bytes (store);
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  json_object_iter_init_ordered (&iter, update);
  while (json_object_iter_next_ordered (&iter, &name, &value))
    {
      g_autoptr(GString) member = g_string_new (NULL);
      const char *stored = pm_overrides_lookup (store, name);
      g_autofree char *text = node_text (value);

      pm_json_append_string (member, name);
      g_string_append_c (member, ':');
      g_string_append (member, text);
      if (stored != NULL)
        {
          g_autoptr(GString) old = g_string_new (NULL);

          pm_json_append_string (old, name);
          g_string_append_c (old, ':');
          g_string_append (old, stored);
          bytes = bytes - old->len + member->len;
        }
      else
        {
          /* One more member: its text and a comma, unless it is the
           * first, which only replaces nothing inside the braces. */
          bytes += member->len + (count > 0 ? 1 : 0);
          count++;
        }
    }
  return count <= PM_LIMIT_OVERRIDES_MEMBERS && bytes <= PM_LIMIT_OVERRIDES_BYTES;
}

/* The store's text recounted: its length, its members, each as stored. */
static void
check_recount (void)
{
  g_autofree char *text = pm_overrides_to_string (store);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  guint i, n = pm_overrides_get_size (store);

  g_assert_cmpuint (strlen (text), ==, pm_overrides_get_bytes (store));
  g_assert_cmpuint (pm_overrides_get_bytes (store), <=, PM_LIMIT_OVERRIDES_BYTES);
  g_assert_cmpuint (n, <=, PM_LIMIT_OVERRIDES_MEMBERS);
  if (!json_parser_load_from_data (parser, text, -1, &error))
    g_error ("the store's text is not JSON: %s", error->message);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_object_get_size (object), ==, n);
  for (i = 0; i < n; i++)
    {
      const char *member;
      const char *name = pm_overrides_get_nth (store, i, &member);
      g_autofree char *value = node_text (json_object_get_member (object, name));

      g_assert_cmpstr (pm_overrides_lookup (store, name), ==, value);
      g_assert_true (g_str_has_suffix (member, value));
    }
}

/* GET /api/system/info over the store. */
static void
check_info (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  g_autofree char *info = pm_system_info_generate_with_overrides (rand, PM_API_VERSION_NEW, "fuzz",
                                                                   "v2.4.0", 1, 2, store);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  guint i, n = pm_overrides_get_size (store);

  if (!json_parser_load_from_data (parser, info, -1, &error))
    g_error ("the info is not JSON: %s", error->message);
  object = json_node_get_object (json_parser_get_root (parser));
  for (i = 0; i < n; i++)
    {
      const char *name = pm_overrides_get_nth (store, i, NULL);
      g_autofree char *value = NULL;

      g_assert_true (json_object_has_member (object, name));
      value = node_text (json_object_get_member (object, name));
      g_assert_cmpstr (pm_overrides_lookup (store, name), ==, value);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonObject) update = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree const char **names = NULL;
  gsize bytes_before;
  guint i, count_before;
  gboolean fits, stored, reset;

  if (store == NULL)
    store = pm_overrides_new ();

  update = pm_update_parse ((const char *) data, size, &error);
  if (update == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == PM_ERROR);
      g_assert_true (error->code == PM_ERROR_INVALID_JSON || error->code == PM_ERROR_NOT_AN_OBJECT ||
                     error->code == PM_ERROR_TOO_LARGE || error->code == PM_ERROR_TOO_DEEP);
      g_assert_true (error->message[0] != '\0');
      return 0;
    }
  g_assert_no_error (error);
  check_same_as_json_glib (data, size, update);

  before = pm_overrides_to_string (store);
  bytes_before = pm_overrides_get_bytes (store);
  count_before = pm_overrides_get_size (store);
  names = g_new (const char *, count_before + 1);
  for (i = 0; i < count_before; i++)
    names[i] = pm_overrides_get_nth (store, i, NULL);

  fits = expect_fits (update);
  stored = pm_overrides_update (store, update, &error);
  g_assert_cmpint (stored, ==, fits);

  if (!stored)
    {
      g_autofree char *after = pm_overrides_to_string (store);

      g_assert_error (error, PM_ERROR, PM_ERROR_TOO_LARGE);
      g_assert_nonnull (strstr (error->message, "limit"));
      g_assert_cmpstr (after, ==, before);
      g_assert_cmpuint (pm_overrides_get_bytes (store), ==, bytes_before);
      g_assert_cmpuint (pm_overrides_get_size (store), ==, count_before);
    }
  else
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      g_assert_no_error (error);
      json_object_iter_init_ordered (&iter, update);
      while (json_object_iter_next_ordered (&iter, &name, &value))
        {
          g_autofree char *text = node_text (value);

          g_assert_cmpstr (pm_overrides_lookup (store, name), ==, text);
        }
      for (i = 0; i < count_before; i++)
        g_assert_true (pm_overrides_get_nth (store, i, NULL) == names[i]);
    }

  /* Afresh once near a cap, or once one has been met. */
  reset = (!stored ||
           pm_overrides_get_bytes (store) > PM_LIMIT_OVERRIDES_BYTES / 4 * 3 ||
           pm_overrides_get_size (store) > PM_LIMIT_OVERRIDES_MEMBERS / 4 * 3);

  /* The whole store is recounted and written into the info while it is
   * small, and once more before it is dropped: each check reads all of
   * it, and doing so on every input near the caps would cost the fuzzer
   * most of its speed.  What an update touched is checked above every
   * time. */
  if (reset || pm_overrides_get_bytes (store) <= FULL_CHECK_BYTES)
    {
      check_recount ();
      check_info ();
    }
  if (reset)
    g_clear_pointer (&store, pm_overrides_free);

  return 0;
}
