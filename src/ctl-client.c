/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "plutomockctl"

#include "config.h"

#include <string.h>

#include "ctl-client.h"

G_DEFINE_QUARK (ctl-error-quark, ctl_error)

void
ctl_client_free (CtlClient *self)
{
  if (self != NULL)
    self->klass->free (self);
}

static int
compare_names (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  return strcmp (a, b);
}

/* Returns: (transfer full): the Status object; "profiles" counts the
 * devices of each profile, in name order */
JsonObject *
ctl_status_new (const char *version,
                guint64     seed,
                guint       listing_port,
                const char *bind_address,
                gboolean    logs_enabled,
                GPtrArray  *devices,
                gboolean    scenario_running,
                const char *scenario)
{
  g_autoptr(JsonObject) status = json_object_new ();
  g_autoptr(GTree) counts = g_tree_new_full (compare_names, NULL, g_free, NULL);
  g_autofree char *seed_text = g_strdup_printf ("%" G_GUINT64_FORMAT, seed);
  JsonObject *profiles = json_object_new ();
  GTreeNode *node;
  guint i;

  for (i = 0; i < devices->len; i++)
    {
      const char *profile = json_object_get_string_member_with_default (g_ptr_array_index (devices, i),
                                                                        "profile", "");
      guint n = GPOINTER_TO_UINT (g_tree_lookup (counts, profile));

      g_tree_replace (counts, g_strdup (profile), GUINT_TO_POINTER (n + 1));
    }
  for (node = g_tree_node_first (counts); node != NULL; node = g_tree_node_next (node))
    json_object_set_int_member (profiles, g_tree_node_key (node),
                                GPOINTER_TO_UINT (g_tree_node_value (node)));

  json_object_set_string_member (status, "version", version != NULL ? version : "");
  json_object_set_string_member (status, "seed", seed_text);
  json_object_set_int_member (status, "listingPort", listing_port);
  json_object_set_string_member (status, "bindAddress", bind_address);
  json_object_set_boolean_member (status, "logsEnabled", logs_enabled);
  json_object_set_int_member (status, "devices", devices->len);
  json_object_set_object_member (status, "profiles", profiles);
  json_object_set_boolean_member (status, "scenarioRunning", scenario_running);
  json_object_set_string_member (status, "scenario", scenario != NULL ? scenario : "");
  return g_steal_pointer (&status);
}

/* Returns: (transfer full): @message with its first letter in lower case
 * if it starts a word, as GLib's messages ("Unknown option", "Could not
 * connect") do; "D-Bus" and the like are left alone */
char *
ctl_lowercase_first (const char *message)
{
  gunichar first, second;
  const char *next;
  char head[8];
  int length;

  if (message == NULL || message[0] == '\0' || !g_utf8_validate (message, -1, NULL))
    return g_strdup (message);
  first = g_utf8_get_char (message);
  next = g_utf8_next_char (message);
  second = g_utf8_get_char (next);
  if (!g_unichar_isupper (first) || !g_unichar_islower (second))
    return g_strdup (message);
  length = g_unichar_to_utf8 (g_unichar_tolower (first), head);
  head[length] = '\0';
  return g_strconcat (head, next, NULL);
}
