/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-allow"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pm-allow.h"
#include "pm-error.h"
#include "pm-quote.h"

struct _PmAllowList
{
  gatomicrefcount ref_count;
  GPtrArray      *masks;     /* (element-type GInetAddressMask) */
  gboolean        any;
  gboolean        loopback;  /* the default: 127.0.0.0/8 and ::1 */
};

static PmAllowList *
allow_list_new (void)
{
  PmAllowList *self = g_new0 (PmAllowList, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->masks = g_ptr_array_new_with_free_func (g_object_unref);
  return self;
}

static void
add_mask (PmAllowList *self,
          const char  *text)
{
  GInetAddressMask *mask = g_inet_address_mask_new_from_string (text, NULL);

  g_assert (mask != NULL);
  g_ptr_array_add (self->masks, mask);
}

/**
 * pm_allow_list_new_loopback:
 *
 * Returns: (transfer full): the default list, loopback only: 127.0.0.0/8
 *   and ::1 (and so ::ffff:127.0.0.0/104)
 */
PmAllowList *
pm_allow_list_new_loopback (void)
{
  PmAllowList *self = allow_list_new ();

  add_mask (self, "127.0.0.0/8");
  add_mask (self, "::1");
  self->loopback = TRUE;
  return self;
}

/* One entry of a list: an address, or an address and a prefix length
 * with no bits set past it. */
static GInetAddressMask *
parse_entry (const char *entry,
             GError    **error)
{
  g_autofree char *address_text = NULL;
  g_autoptr(GInetAddress) address = NULL;
  const char *slash = strchr (entry, '/');
  guint64 length;
  guint bits;
  g_autofree char *quoted = pm_quote (entry, -1);

  address_text = slash != NULL ? g_strndup (entry, slash - entry) : g_strdup (entry);
  address = g_inet_address_new_from_string (address_text);
  if (address == NULL)
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("'%s' is not an IP address or a prefix such as 10.0.0.0/8 or fd00::/8 "
                     "(the list takes addresses and prefixes separated by commas, or 'any' or 'none' alone)"),
                   quoted);
      return NULL;
    }
  bits = g_inet_address_get_native_size (address) * 8;
  if (slash == NULL)
    return g_inet_address_mask_new (address, bits, error);

  if (slash[1] == '\0' || strspn (slash + 1, "0123456789") != strlen (slash + 1) ||
      !g_ascii_string_to_unsigned (slash + 1, 10, 0, bits, &length, NULL))
    {
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   _("'%s': the prefix length must be a number from 0 to %u"), quoted, bits);
      return NULL;
    }
  {
    g_autoptr(GError) local_error = NULL;
    GInetAddressMask *mask = g_inet_address_mask_new (address, (guint) length, &local_error);

    if (mask == NULL)
      {
        g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                     _("'%s' has bits set past its first %u: a prefix names a network, such as 10.0.0.0/8"),
                     quoted, (guint) length);
        return NULL;
      }
    return mask;
  }
}

/* ::ffff:a.b.c.d as a.b.c.d; anything else as it is. */
static GInetAddress *
unmap (GInetAddress *address)
{
  static const guint8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  const guint8 *bytes;

  if (g_inet_address_get_family (address) != G_SOCKET_FAMILY_IPV6)
    return g_object_ref (address);
  bytes = g_inet_address_to_bytes (address);
  if (memcmp (bytes, prefix, sizeof prefix) != 0)
    return g_object_ref (address);
  return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
}

/* An IPv4-mapped prefix (::ffff:10.0.0.0/104) as the IPv4 prefix it
 * names (10.0.0.0/8): peers are compared unmapped. */
static GInetAddressMask *
unmap_mask (GInetAddressMask *mask)
{
  GInetAddress *address = g_inet_address_mask_get_address (mask);
  guint length = g_inet_address_mask_get_length (mask);
  g_autoptr(GInetAddress) plain = unmap (address);

  if (plain == address || g_inet_address_get_family (plain) == g_inet_address_get_family (address) ||
      length < 96)
    return mask;
  g_object_unref (mask);
  return g_inet_address_mask_new (plain, length - 96, NULL);
}

/**
 * pm_allow_list_parse:
 * @text: `any`, `none`, or comma-separated IP addresses and CIDR prefixes
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full): the list, or %NULL with @error set
 */
PmAllowList *
pm_allow_list_parse (const char *text,
                     GError    **error)
{
  g_autoptr(PmAllowList) self = allow_list_new ();
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  g_auto(GStrv) entries = NULL;
  guint i;

  g_return_val_if_fail (text != NULL, NULL);

  if (strcmp (stripped, "any") == 0)
    {
      self->any = TRUE;
      return g_steal_pointer (&self);
    }
  if (strcmp (stripped, "none") == 0)
    return g_steal_pointer (&self);
  if (stripped[0] == '\0')
    {
      g_set_error_literal (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                           _("the list is empty (give addresses and prefixes separated by commas, "
                             "or 'any' or 'none')"));
      return NULL;
    }

  entries = g_strsplit (stripped, ",", -1);
  for (i = 0; entries[i] != NULL; i++)
    {
      char *entry = g_strstrip (entries[i]);
      GInetAddressMask *mask;

      if (entry[0] == '\0')
        {
          g_autofree char *quoted = pm_quote (stripped, -1);

          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       _("empty entry in '%s'"), quoted);
          return NULL;
        }
      if (strcmp (entry, "any") == 0 || strcmp (entry, "none") == 0)
        {
          g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                       _("'%s' stands alone, not in a list"), entry);
          return NULL;
        }
      mask = parse_entry (entry, error);
      if (mask == NULL)
        return NULL;
      g_ptr_array_add (self->masks, unmap_mask (mask));
    }
  return g_steal_pointer (&self);
}

PmAllowList *
pm_allow_list_ref (PmAllowList *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
pm_allow_list_unref (PmAllowList *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_ptr_array_unref (self->masks);
  g_free (self);
}

/**
 * pm_allow_list_allows:
 * @self: a list
 * @address: a peer's address
 *
 * Returns: whether @address may use control over HTTP
 */
gboolean
pm_allow_list_allows (const PmAllowList *self,
                      GInetAddress      *address)
{
  g_autoptr(GInetAddress) plain = NULL;
  guint i;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (address), FALSE);

  if (self->any)
    return TRUE;
  plain = unmap (address);
  for (i = 0; i < self->masks->len; i++)
    {
      GInetAddressMask *mask = g_ptr_array_index (self->masks, i);

      if (g_inet_address_mask_get_family (mask) == g_inet_address_get_family (plain) &&
          g_inet_address_mask_matches (mask, plain))
        return TRUE;
    }
  return FALSE;
}

/**
 * pm_allow_list_is_none:
 * @self: a list
 *
 * Returns: whether no one at all may use control over HTTP
 */
gboolean
pm_allow_list_is_none (const PmAllowList *self)
{
  return !self->any && self->masks->len == 0;
}

/**
 * pm_allow_list_is_loopback:
 * @self: a list
 *
 * Returns: whether @self is the default, loopback only
 */
gboolean
pm_allow_list_is_loopback (const PmAllowList *self)
{
  return self->loopback;
}

/**
 * pm_allow_list_dup_entries:
 * @self: a list
 *
 * Returns: (transfer full): the entries, normalised, as the option takes
 *   them: `any`, `none`, or each address or prefix
 */
GStrv
pm_allow_list_dup_entries (const PmAllowList *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  guint i;

  if (self->any)
    g_strv_builder_add (builder, "any");
  else if (self->masks->len == 0)
    g_strv_builder_add (builder, "none");
  for (i = 0; i < self->masks->len; i++)
    {
      g_autofree char *text = g_inet_address_mask_to_string (g_ptr_array_index (self->masks, i));

      g_strv_builder_add (builder, text);
    }
  return g_strv_builder_end (builder);
}

/**
 * pm_allow_list_describe:
 * @self: a list
 *
 * Returns: (transfer full): who may, for a message: "loopback", "any
 *   address", "no address" or the entries separated by commas
 */
char *
pm_allow_list_describe (const PmAllowList *self)
{
  g_auto(GStrv) entries = NULL;

  if (self->loopback)
    return g_strdup ("loopback");
  if (self->any)
    return g_strdup ("any address");
  if (self->masks->len == 0)
    return g_strdup ("no address");
  entries = pm_allow_list_dup_entries (self);
  return g_strjoinv (", ", entries);
}
