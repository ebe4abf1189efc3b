/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-profile"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pm-error.h"
#include "pm-profile.h"
#include "pm-quote.h"
#include "pm-splitmix.h"

static const PmProfile pluto_legacy = {
  .name = "pluto-legacy",
  .family = PM_PROFILE_FAMILY_PLUTO,
  .api_version = PM_API_VERSION_LEGACY,
  .board = &pm_board_supra,
  .firmware = NULL,
  .summary = "the original mock's Legacy shape (AxeOS v2.1-era fields)",
};

static const PmProfile pluto_new = {
  .name = "pluto-new",
  .family = PM_PROFILE_FAMILY_PLUTO,
  .api_version = PM_API_VERSION_NEW,
  .board = &pm_board_nerdqaxe_plus,
  .firmware = NULL,
  .summary = "the original mock's New shape (an older NerdQAxe+ firmware)",
};

static const PmProfile axeos_gamma = {
  .name = "axeos-gamma",
  .family = PM_PROFILE_FAMILY_AXEOS,
  .board = &pm_board_gamma,
  .firmware = "v2.15.0",
  .summary = "ESP-Miner v2.15 on a Bitaxe Gamma (BM1370)",
};

static const PmProfile axeos_supra = {
  .name = "axeos-supra",
  .family = PM_PROFILE_FAMILY_AXEOS,
  .board = &pm_board_supra,
  .firmware = "v2.15.0",
  .summary = "ESP-Miner v2.15 on a Bitaxe Supra (BM1368)",
};

static const PmProfile axeos_ultra = {
  .name = "axeos-ultra",
  .family = PM_PROFILE_FAMILY_AXEOS,
  .board = &pm_board_ultra,
  .firmware = "v2.15.0",
  .summary = "ESP-Miner v2.15 on a Bitaxe Ultra (BM1366)",
};

static const PmProfile nerdqaxe_plus = {
  .name = "nerdqaxe-plus",
  .family = PM_PROFILE_FAMILY_NERDQAXE,
  .board = &pm_board_nerdqaxe_plus,
  .firmware = "v1.0.36",
  .summary = "NerdQAxe+ firmware v1.0.36 (4 × BM1368)",
};

static const PmProfile *const all_profiles[] = {
  &pluto_legacy, &pluto_new, &axeos_gamma, &axeos_supra, &axeos_ultra, &nerdqaxe_plus,
};

/* The blend of `mixed`: what a hobbyist fleet of today might hold, in
 * percent, summing to 100. */
static const struct
{
  const PmProfile *profile;
  guint            percent;
} mixed_blend[] = {
  { &axeos_gamma, 40 },
  { &axeos_supra, 20 },
  { &axeos_ultra, 15 },
  { &nerdqaxe_plus, 15 },
  { &pluto_legacy, 5 },
  { &pluto_new, 5 },
};

struct _PmProfileList
{
  GPtrArray *profiles;  /* (element-type PmProfile) (nullable): NULL for mixed */
};

/**
 * pm_profile_lookup:
 * @name: a profile name
 *
 * Returns: (nullable): the profile called @name
 */
const PmProfile *
pm_profile_lookup (const char *name)
{
  gsize i;

  g_return_val_if_fail (name != NULL, NULL);

  for (i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    if (strcmp (all_profiles[i]->name, name) == 0)
      return all_profiles[i];
  return NULL;
}

/**
 * pm_profile_for_api_version:
 * @version: a #PmApiVersion
 *
 * Returns: the Pluto profile of that info shape
 */
const PmProfile *
pm_profile_for_api_version (PmApiVersion version)
{
  return version == PM_API_VERSION_NEW ? &pluto_new : &pluto_legacy;
}

/**
 * pm_profile_list_all:
 * @n_profiles: (out): how many
 *
 * Returns: (array length=n_profiles): every profile
 */
const PmProfile *const *
pm_profile_list_all (gsize *n_profiles)
{
  *n_profiles = G_N_ELEMENTS (all_profiles);
  return all_profiles;
}

/**
 * pm_profile_dup_names:
 * @separator: what goes between two names
 *
 * Returns: (transfer full): the profiles' names
 */
char *
pm_profile_dup_names (const char *separator)
{
  GString *out = g_string_new (NULL);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (all_profiles); i++)
    {
      if (i > 0)
        g_string_append (out, separator);
      g_string_append (out, all_profiles[i]->name);
    }
  return g_string_free (out, FALSE);
}

/**
 * pm_profile_is_simulated:
 * @profile: a profile
 *
 * Returns: whether a simulated miner drives the profile's devices
 */
gboolean
pm_profile_is_simulated (const PmProfile *profile)
{
  return profile->family != PM_PROFILE_FAMILY_PLUTO;
}

/**
 * pm_profile_get_api_version_name:
 * @profile: a profile
 *
 * Returns: the name of a pluto-* profile's API shape ("legacy", "new"),
 *   or "" for the other profiles, which have none; as the bus and the
 *   control API show it
 */
const char *
pm_profile_get_api_version_name (const PmProfile *profile)
{
  return profile->family == PM_PROFILE_FAMILY_PLUTO ? pm_api_version_to_string (profile->api_version) : "";
}

/**
 * pm_profile_list_new_default:
 *
 * Returns: (transfer full): the original mock's assignment:
 *   `pluto-legacy,pluto-new` in turn
 */
PmProfileList *
pm_profile_list_new_default (void)
{
  PmProfileList *self = g_new0 (PmProfileList, 1);

  self->profiles = g_ptr_array_new ();
  g_ptr_array_add (self->profiles, (gpointer) &pluto_legacy);
  g_ptr_array_add (self->profiles, (gpointer) &pluto_new);
  return self;
}

/**
 * pm_profile_list_parse:
 * @text: `mixed`, or profile names separated by commas
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full) (nullable): the list, or %NULL if a name is
 *   unknown or the list is empty
 */
PmProfileList *
pm_profile_list_parse (const char *text,
                       GError    **error)
{
  g_autoptr(PmProfileList) self = g_new0 (PmProfileList, 1);
  g_autofree char *trimmed = NULL;
  g_auto(GStrv) names = NULL;
  guint i;

  g_return_val_if_fail (text != NULL, NULL);

  trimmed = g_strstrip (g_strdup (text));
  if (strcmp (trimmed, PM_PROFILE_MIXED) == 0)
    return g_steal_pointer (&self);
  if (*text == '\0')
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           _("the list of profiles is empty"));
      return NULL;
    }

  self->profiles = g_ptr_array_new ();
  names = g_strsplit (text, ",", -1);
  for (i = 0; names[i] != NULL; i++)
    {
      const char *name = g_strstrip (names[i]);
      const PmProfile *profile = pm_profile_lookup (name);

      if (profile == NULL)
        {
          g_autofree char *quoted = pm_quote (name, -1);
          g_autofree char *quoted_text = pm_quote (text, -1);
          g_autofree char *known = pm_profile_dup_names (", ");

          if (*name == '\0')
            g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                         _("empty profile name in '%s' (the profiles are %s, or mixed alone)"),
                         quoted_text, known);
          else
            g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                         _("unknown profile '%s' (the profiles are %s, or mixed alone)"),
                         quoted, known);
          return NULL;
        }
      g_ptr_array_add (self->profiles, (gpointer) profile);
    }
  return g_steal_pointer (&self);
}

/**
 * pm_profile_list_copy:
 * @self: a list
 *
 * Returns: (transfer full): a copy of @self
 */
PmProfileList *
pm_profile_list_copy (const PmProfileList *self)
{
  PmProfileList *copy = g_new0 (PmProfileList, 1);

  if (self->profiles != NULL)
    copy->profiles = g_ptr_array_copy (self->profiles, NULL, NULL);
  return copy;
}

void
pm_profile_list_free (PmProfileList *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->profiles, g_ptr_array_unref);
  g_free (self);
}

/* A draw in [0, 1) that depends on the seed and number alone. */
static double
blend_draw (guint64 seed,
            guint   number)
{
  guint64 x = pm_splitmix64_mix (seed ^ ((guint64) number * PM_SPLITMIX64_GAMMA));

  return (double) (x >> 11) / (double) (G_GUINT64_CONSTANT (1) << 53);
}

/**
 * pm_profile_list_pick:
 * @self: a list
 * @number: the device's number N (as in `mockaxeN`), from 1
 * @seed: the fleet's seed
 *
 * Returns: the profile of device @number: the list's entries in turn,
 *   or for `mixed` a draw from the blend that depends only on @seed and
 *   @number
 */
const PmProfile *
pm_profile_list_pick (const PmProfileList *self,
                      guint                number,
                      guint64              seed)
{
  double draw, sum = 0;
  gsize i;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->profiles != NULL)
    return g_ptr_array_index (self->profiles,
                              (MAX (number, 1) - 1) % self->profiles->len);

  draw = blend_draw (seed, number) * 100.0;
  for (i = 0; i < G_N_ELEMENTS (mixed_blend); i++)
    {
      sum += mixed_blend[i].percent;
      if (draw < sum)
        return mixed_blend[i].profile;
    }
  return mixed_blend[0].profile;
}

/**
 * pm_profile_list_to_string:
 * @self: a list
 *
 * Returns: (transfer full): the list as pm_profile_list_parse() reads it
 */
char *
pm_profile_list_to_string (const PmProfileList *self)
{
  GString *out;
  guint i;

  if (self->profiles == NULL)
    return g_strdup (PM_PROFILE_MIXED);
  out = g_string_new (NULL);
  for (i = 0; i < self->profiles->len; i++)
    {
      const PmProfile *profile = g_ptr_array_index (self->profiles, i);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, profile->name);
    }
  return g_string_free (out, FALSE);
}
