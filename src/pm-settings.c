/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-settings"

#include "config.h"

#include <string.h>

#include "pm-settings.h"

/*
 * The settings a firmware keeps in flash, and the rules by which its HTTP
 * API changes them: AxeOS v2.15's table-driven PATCH, which checks every
 * known key before it writes any, its pool and theme endpoints, and the
 * NerdQAxe+ PATCH, which takes what it can and skips the rest.
 */

G_DEFINE_QUARK (pm-settings-error-quark, pm_settings_error)

#define MESSAGE_WRONG_INPUT "Wrong API input"
#define MESSAGE_INVALID_JSON "Invalid JSON"
#define MESSAGE_BAD_POOL_INDEX "Invalid pool index"
#define MESSAGE_BAD_POOL "Invalid pool configuration payload"
#define MESSAGE_POOL_IN_USE "Cannot clear the primary or secondary pool"

/* What a factory-fresh device mines to: the ESP-Miner defaults, and a
 * payout address in the form public pools expect as the user name. */
#define DEFAULT_SSID "plutomock"
#define DEFAULT_PAYOUT_ADDRESS "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
#define DEFAULT_PRIMARY_URL "public-pool.io"
#define DEFAULT_SECONDARY_URL "solo.ckpool.org"
#define DEFAULT_POOL_PORT 3333
#define DEFAULT_POOL_PASSWORD "x"
#define DEFAULT_SUGGESTED_DIFFICULTY 1000
#define DEFAULT_DISPLAY "SSD1306 (128x32)"
#define DEFAULT_COLOR_SCHEME "dark"
#define DEFAULT_PRIMARY_COLOR "#F80421"

/* The password AxeOS shows for every pool, and which, sent back, keeps
 * the stored one. */
#define MASKED_PASSWORD "*****"

#define LOCAL_SUFFIX ".local"

/* The display drivers AxeOS knows by name. */
static const char *const display_names[] = {
  "NONE",
  "SSD1306 (128x32)",
  "SSD1309 (128x64)",
  "SH1107 (64x128)",
  "SH1107 (128x128)",
  NULL,
};

static const char *const protocol_names[] = { "SV1", "SV2", NULL };
static const char *const channel_type_names[] = { "standard", "extended", NULL };

/* What JSON a key takes. */
typedef enum
{
  KIND_STRING, /* a string whose length in bytes is within [min, max] */
  KIND_NUMBER, /* a number within [min, max] */
  KIND_FLAG,   /* true (1), false (0) or a number, within [min, max] */
} Kind;

/* A rule on top of the kind's. */
typedef enum
{
  RULE_NONE,
  RULE_HOSTNAME,     /* something must be left once ".local" is gone */
  RULE_QUARTER_TURN, /* 0, 90, 180 or 270 */
} Rule;

/* Where a value goes, and as what. */
typedef enum
{
  STORE_STRING,   /* char * */
  STORE_HOSTNAME, /* char *, without a trailing ".local" */
  STORE_DOUBLE,
  STORE_UINT,     /* the integer part */
  STORE_INT,      /* the integer part */
  STORE_BOOLEAN,  /* whether non-zero */
} Store;

/* Which record a key writes: the one it is applied to (the settings, or
 * the slot for a pool field), or for a NerdQAxe+ flat stratum key the
 * primary or secondary slot. */
typedef enum
{
  TARGET_SELF,
  TARGET_PRIMARY,
  TARGET_SECONDARY,
} Target;

typedef struct
{
  const char        *key;
  Kind               kind;
  double             min;
  double             max;
  const char *const *one_of; /* strings: the only values allowed, or NULL */
  Rule               rule;
  gboolean           required;
  Store              store;
  Target             target;
  gsize              offset; /* into PmSettings or PmPool */
} Field;

#define SETTING(name) TARGET_SELF, G_STRUCT_OFFSET (PmSettings, name)
#define POOL(name) TARGET_SELF, G_STRUCT_OFFSET (PmPool, name)
#define PRIMARY(name) TARGET_PRIMARY, G_STRUCT_OFFSET (PmPool, name)
#define SECONDARY(name) TARGET_SECONDARY, G_STRUCT_OFFSET (PmPool, name)

/* AxeOS v2.15's known PATCH keys, `pools` apart. */
static const Field axeos_fields[] = {
  { "ssid", KIND_STRING, 1, 32, NULL, RULE_NONE, FALSE, STORE_STRING, SETTING (ssid) },
  { "wifiPass", KIND_STRING, 0, 63, NULL, RULE_NONE, FALSE, STORE_STRING, SETTING (wifi_pass) },
  { "hostname", KIND_STRING, 1, 32, NULL, RULE_HOSTNAME, FALSE, STORE_HOSTNAME, SETTING (hostname) },
  { "frequency", KIND_NUMBER, 1, 65535, NULL, RULE_NONE, FALSE, STORE_DOUBLE, SETTING (frequency) },
  { "coreVoltage", KIND_NUMBER, 1, 65535, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (core_voltage) },
  { "overclockEnabled", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (overclock_enabled) },
  { "autofanspeed", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (autofanspeed) },
  { "manualFanSpeed", KIND_NUMBER, 0, 100, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (manual_fan_speed) },
  { "minFanSpeed", KIND_NUMBER, 0, 99, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (min_fan_speed) },
  { "temptarget", KIND_NUMBER, 35, 66, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (temp_target) },
  { "display", KIND_STRING, 1, 32, display_names, RULE_NONE, FALSE, STORE_STRING, SETTING (display) },
  { "rotation", KIND_NUMBER, 0, 270, NULL, RULE_QUARTER_TURN, FALSE, STORE_UINT, SETTING (rotation) },
  { "invertscreen", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (invert_screen) },
  { "displayOffset", KIND_NUMBER, 0, 255, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (display_offset) },
  { "displayTimeout", KIND_NUMBER, -1, 65535, NULL, RULE_NONE, FALSE, STORE_INT, SETTING (display_timeout) },
  /* It can only clear the overheat latch. */
  { "overheat_mode", KIND_FLAG, 0, 0, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (overheat_mode) },
  { "useCustomWWW", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (use_custom_www) },
  { "statsFrequency", KIND_NUMBER, 0, 65535, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (stats_frequency) },
  { "useFallbackStratum", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (use_fallback_stratum) },
  { "primaryPoolIndex", KIND_NUMBER, 0, PM_SETTINGS_N_POOLS - 1, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (primary_pool_index) },
  { "secondaryPoolIndex", KIND_NUMBER, 0, PM_SETTINGS_N_POOLS - 1, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (secondary_pool_index) },
};

/* The `id` of a `pools` element; not a field of the slot. */
static const Field pool_id_field = {
  "id", KIND_NUMBER, 0, PM_SETTINGS_N_POOLS - 1, NULL, RULE_NONE, TRUE, STORE_UINT, TARGET_SELF, 0,
};

/* The fields of a `pools` element, and of a PUT pool body. */
static const Field pool_fields[] = {
  { "stratumURL", KIND_STRING, 1, 255, NULL, RULE_NONE, TRUE, STORE_STRING, POOL (url) },
  { "stratumPort", KIND_NUMBER, 1, 65535, NULL, RULE_NONE, TRUE, STORE_UINT, POOL (port) },
  { "stratumUser", KIND_STRING, 1, 255, NULL, RULE_NONE, TRUE, STORE_STRING, POOL (user) },
  { "stratumPassword", KIND_STRING, 0, 255, NULL, RULE_NONE, FALSE, STORE_STRING, POOL (password) },
  { "stratumProtocol", KIND_STRING, 0, 3, protocol_names, RULE_NONE, FALSE, STORE_STRING, POOL (protocol) },
  { "stratumSuggestedDifficulty", KIND_NUMBER, 0, 1e18, NULL, RULE_NONE, FALSE, STORE_DOUBLE, POOL (suggested_difficulty) },
  { "stratumExtranonceSubscribe", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, POOL (extranonce_subscribe) },
  { "stratumTLS", KIND_NUMBER, 0, 2, NULL, RULE_NONE, FALSE, STORE_UINT, POOL (tls) },
  { "stratumCert", KIND_STRING, 0, 3000, NULL, RULE_NONE, FALSE, STORE_STRING, POOL (cert) },
  { "stratumDecodeCoinbase", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, POOL (decode_coinbase) },
  { "stratumV2ChannelType", KIND_STRING, 0, 8, channel_type_names, RULE_NONE, FALSE, STORE_STRING, POOL (v2_channel_type) },
  { "stratumV2AuthorityPubkey", KIND_STRING, 0, 128, NULL, RULE_NONE, FALSE, STORE_STRING, POOL (v2_authority_pubkey) },
  { "stratumV2RequireAuth", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, POOL (v2_require_auth) },
};

/* The NerdQAxe+ PATCH keys this store keeps.  For numbers, [min, max] is
 * what a value is clamped into; for strings, the lengths taken. */
static const Field nerdqaxe_fields[] = {
  { "hostname", KIND_STRING, 1, 32, NULL, RULE_HOSTNAME, FALSE, STORE_HOSTNAME, SETTING (hostname) },
  { "ssid", KIND_STRING, 1, 32, NULL, RULE_NONE, FALSE, STORE_STRING, SETTING (ssid) },
  { "wifiPass", KIND_STRING, 0, 63, NULL, RULE_NONE, FALSE, STORE_STRING, SETTING (wifi_pass) },
  { "frequency", KIND_NUMBER, 1, 65535, NULL, RULE_NONE, FALSE, STORE_DOUBLE, SETTING (frequency) },
  { "coreVoltage", KIND_NUMBER, 1, 65535, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (core_voltage) },
  { "jobInterval", KIND_NUMBER, 100, 60000, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (job_interval) },
  { "stratumDifficulty", KIND_NUMBER, 0, G_MAXUINT32, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (stratum_difficulty) },
  { "flipscreen", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (flipscreen) },
  { "overheat_temp", KIND_NUMBER, 0, 100, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (overheat_temp) },
  { "invertscreen", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (invert_screen) },
  { "invertfanpolarity", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (invertfanpolarity) },
  { "autofanspeed", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (autofanspeed) },
  { "manualFanSpeed", KIND_NUMBER, 0, 100, NULL, RULE_NONE, FALSE, STORE_UINT, SETTING (manual_fan_speed) },
  { "autoscreenoff", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SETTING (autoscreenoff) },
  { "stratumURL", KIND_STRING, 1, 255, NULL, RULE_NONE, FALSE, STORE_STRING, PRIMARY (url) },
  { "stratumPort", KIND_NUMBER, 1, 65535, NULL, RULE_NONE, FALSE, STORE_UINT, PRIMARY (port) },
  { "stratumUser", KIND_STRING, 1, 255, NULL, RULE_NONE, FALSE, STORE_STRING, PRIMARY (user) },
  { "stratumPassword", KIND_STRING, 0, 255, NULL, RULE_NONE, FALSE, STORE_STRING, PRIMARY (password) },
  { "stratumTLS", KIND_FLAG, 0, 2, NULL, RULE_NONE, FALSE, STORE_UINT, PRIMARY (tls) },
  { "stratumEnonceSubscribe", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, PRIMARY (extranonce_subscribe) },
  { "stratumProtocol", KIND_STRING, 0, 3, protocol_names, RULE_NONE, FALSE, STORE_STRING, PRIMARY (protocol) },
  { "fallbackStratumURL", KIND_STRING, 1, 255, NULL, RULE_NONE, FALSE, STORE_STRING, SECONDARY (url) },
  { "fallbackStratumPort", KIND_NUMBER, 1, 65535, NULL, RULE_NONE, FALSE, STORE_UINT, SECONDARY (port) },
  { "fallbackStratumUser", KIND_STRING, 1, 255, NULL, RULE_NONE, FALSE, STORE_STRING, SECONDARY (user) },
  { "fallbackStratumPassword", KIND_STRING, 0, 255, NULL, RULE_NONE, FALSE, STORE_STRING, SECONDARY (password) },
  { "fallbackStratumTLS", KIND_FLAG, 0, 2, NULL, RULE_NONE, FALSE, STORE_UINT, SECONDARY (tls) },
  { "fallbackStratumEnonceSubscribe", KIND_FLAG, 0, 1, NULL, RULE_NONE, FALSE, STORE_BOOLEAN, SECONDARY (extranonce_subscribe) },
  { "fallbackStratumProtocol", KIND_STRING, 0, 3, protocol_names, RULE_NONE, FALSE, STORE_STRING, SECONDARY (protocol) },
};

/* ---- Values ------------------------------------------------------------- */

/* The number @node holds for @kind: a JSON number, or for a flag also
 * true (1) or false (0).  FALSE for any other JSON. */
static gboolean
node_get_number (JsonNode *node,
                 Kind      kind,
                 double   *out_value)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE)
    {
      *out_value = json_node_get_double (node);
      return TRUE;
    }
  if (kind == KIND_FLAG && type == G_TYPE_BOOLEAN)
    {
      *out_value = json_node_get_boolean (node) ? 1 : 0;
      return TRUE;
    }
  return FALSE;
}

/* The string @node holds, or NULL if it holds no string. */
static const char *
node_get_string (JsonNode *node)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gsize
hostname_length_without_local (const char *name)
{
  gsize length = strlen (name);

  if (g_str_has_suffix (name, LOCAL_SUFFIX))
    length -= strlen (LOCAL_SUFFIX);
  return length;
}

/* Whether the string @value passes @field's length and value rules. */
static gboolean
string_is_valid (const Field *field,
                 const char  *value)
{
  gsize length = strlen (value);

  if ((double) length < field->min || (double) length > field->max)
    return FALSE;
  if (field->one_of != NULL && !g_strv_contains (field->one_of, value))
    return FALSE;
  if (field->rule == RULE_HOSTNAME && hostname_length_without_local (value) == 0)
    return FALSE;
  return TRUE;
}

/* AxeOS: whether @node has the type @field takes and is within its range
 * and rules. */
static gboolean
value_is_valid (const Field *field,
                JsonNode    *node)
{
  const char *string;
  double value;

  switch (field->kind)
    {
    case KIND_STRING:
      string = node_get_string (node);
      return string != NULL && string_is_valid (field, string);

    case KIND_NUMBER:
    case KIND_FLAG:
      if (!node_get_number (node, field->kind, &value))
        return FALSE;
      /* Written so that a NaN fails too. */
      if (!(value >= field->min && value <= field->max))
        return FALSE;
      if (field->rule == RULE_QUARTER_TURN &&
          value != 0 && value != 90 && value != 180 && value != 270)
        return FALSE;
      return TRUE;

    default:
      break;
    }
  g_return_val_if_reached (FALSE);
}

static void
store_string (const Field *field,
              gpointer     base,
              const char  *value)
{
  char **slot = G_STRUCT_MEMBER_P (base, field->offset);
  char *copy;

  if (field->store == STORE_HOSTNAME)
    copy = g_strndup (value, hostname_length_without_local (value));
  else
    copy = g_strdup (value);
  g_free (*slot);
  *slot = copy;
}

static void
store_number (const Field *field,
              gpointer     base,
              double       value)
{
  switch (field->store)
    {
    case STORE_DOUBLE:
      G_STRUCT_MEMBER (double, base, field->offset) = value;
      break;
    case STORE_UINT:
      G_STRUCT_MEMBER (guint, base, field->offset) = (guint) value;
      break;
    case STORE_INT:
      G_STRUCT_MEMBER (int, base, field->offset) = (int) value;
      break;
    case STORE_BOOLEAN:
      G_STRUCT_MEMBER (gboolean, base, field->offset) = value != 0;
      break;
    case STORE_STRING:
    case STORE_HOSTNAME:
    default:
      g_assert_not_reached ();
    }
}

/* Writes @node, already checked, into @base. */
static void
store_value (const Field *field,
             gpointer     base,
             JsonNode    *node)
{
  double value = 0;

  if (field->kind == KIND_STRING)
    {
      store_string (field, base, node_get_string (node));
      return;
    }
  if (!node_get_number (node, field->kind, &value))
    g_assert_not_reached ();
  store_number (field, base, value);
}

/* ---- Pools -------------------------------------------------------------- */

static void
pool_clear (PmPool *pool)
{
  g_free (pool->url);
  g_free (pool->user);
  g_free (pool->password);
  g_free (pool->protocol);
  g_free (pool->cert);
  g_free (pool->v2_channel_type);
  g_free (pool->v2_authority_pubkey);
  memset (pool, 0, sizeof *pool);
}

/* The values a slot starts from: everything but the URL, the port and
 * the user, which a pool must be given. */
static void
pool_set_defaults (PmPool *pool)
{
  pool_clear (pool);
  pool->password = g_strdup (DEFAULT_POOL_PASSWORD);
  pool->protocol = g_strdup ("SV1");
  pool->suggested_difficulty = DEFAULT_SUGGESTED_DIFFICULTY;
  pool->extranonce_subscribe = FALSE;
  pool->tls = 0;
  pool->cert = g_strdup ("");
  pool->decode_coinbase = FALSE;
  pool->v2_channel_type = g_strdup ("standard");
  pool->v2_authority_pubkey = g_strdup ("");
  pool->v2_require_auth = FALSE;
}

/* Whether nothing was ever written to @pool since it was cleared. */
static gboolean
pool_is_blank (const PmPool *pool)
{
  return pool->url == NULL && pool->protocol == NULL;
}

static void
pool_set_factory (PmPool     *pool,
                  const char *url,
                  const char *hostname)
{
  pool_set_defaults (pool);
  pool->url = g_strdup (url);
  pool->port = DEFAULT_POOL_PORT;
  pool->user = g_strconcat (DEFAULT_PAYOUT_ADDRESS, ".", hostname, NULL);
}

/* Whether @node is a valid pool object: every field it has passes, and
 * the required ones are there.  With @with_id, it must also name its
 * slot in `id`, returned in @out_id. */
static gboolean
pool_object_is_valid (JsonNode *node,
                      gboolean  with_id,
                      guint    *out_id)
{
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  object = json_node_get_object (node);

  if (with_id)
    {
      JsonNode *id = json_object_get_member (object, pool_id_field.key);
      double value;

      if (id == NULL || !value_is_valid (&pool_id_field, id))
        return FALSE;
      if (!node_get_number (id, pool_id_field.kind, &value))
        g_assert_not_reached ();
      if (out_id != NULL)
        *out_id = (guint) value;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (pool_fields); i++)
    {
      const Field *field = &pool_fields[i];
      JsonNode *member = json_object_get_member (object, field->key);

      if (member == NULL)
        {
          if (field->required)
            return FALSE;
          continue;
        }
      if (!value_is_valid (field, member))
        return FALSE;
    }
  return TRUE;
}

/* Writes a checked pool object into @pool.  Fields it leaves out keep
 * their stored values; an empty slot starts from the defaults. */
static void
pool_apply (PmPool     *pool,
            JsonObject *object)
{
  if (pool->url == NULL)
    pool_set_defaults (pool);

  for (gsize i = 0; i < G_N_ELEMENTS (pool_fields); i++)
    {
      const Field *field = &pool_fields[i];
      JsonNode *member = json_object_get_member (object, field->key);

      if (member == NULL)
        continue;
      if (field->offset == G_STRUCT_OFFSET (PmPool, password) &&
          g_strcmp0 (node_get_string (member), MASKED_PASSWORD) == 0)
        continue;
      store_value (field, pool, member);
    }
}

/* ---- Construction ------------------------------------------------------- */

PmSettings *
pm_settings_new (const PmBoard *board,
                 const char    *hostname)
{
  PmSettings *self;

  g_return_val_if_fail (board != NULL, NULL);
  g_return_val_if_fail (hostname != NULL, NULL);

  self = g_new0 (PmSettings, 1);
  self->hostname = g_strdup (hostname);
  self->ssid = g_strdup (DEFAULT_SSID);
  self->wifi_pass = g_strdup ("");
  self->frequency = board->default_frequency;
  self->core_voltage = board->default_voltage;
  self->overclock_enabled = FALSE;
  self->autofanspeed = TRUE;
  self->manual_fan_speed = 100;
  self->min_fan_speed = 25;
  self->temp_target = 60;
  self->display = g_strdup (DEFAULT_DISPLAY);
  self->rotation = 0;
  self->invert_screen = FALSE;
  self->display_offset = 0;
  self->display_timeout = -1;
  self->overheat_mode = FALSE;
  self->use_custom_www = FALSE;
  self->stats_frequency = 0;
  self->use_fallback_stratum = FALSE;

  pool_set_factory (&self->pools[0], DEFAULT_PRIMARY_URL, hostname);
  pool_set_factory (&self->pools[1], DEFAULT_SECONDARY_URL, hostname);
  self->primary_pool_index = 0;
  self->secondary_pool_index = 1;

  self->theme_color_scheme = g_strdup (DEFAULT_COLOR_SCHEME);
  self->theme_primary_color = g_strdup (DEFAULT_PRIMARY_COLOR);

  self->job_interval = 1200;
  self->stratum_difficulty = DEFAULT_SUGGESTED_DIFFICULTY;
  self->overheat_temp = 70;
  self->flipscreen = FALSE;
  self->autoscreenoff = FALSE;
  self->invertfanpolarity = TRUE;

  return self;
}

void
pm_settings_free (PmSettings *self)
{
  if (self == NULL)
    return;

  g_free (self->hostname);
  g_free (self->ssid);
  g_free (self->wifi_pass);
  g_free (self->display);
  for (guint i = 0; i < PM_SETTINGS_N_POOLS; i++)
    pool_clear (&self->pools[i]);
  g_free (self->theme_color_scheme);
  g_free (self->theme_primary_color);
  g_free (self);
}

/* ---- PATCH -------------------------------------------------------------- */

/* Stores a hostname from PATCH, noting whether it really changed. */
static void
store_hostname (PmSettings  *self,
                const Field *field,
                const char  *value,
                gboolean    *changed)
{
  g_autofree char *old = g_strdup (self->hostname);

  store_string (field, self, value);
  if (g_strcmp0 (old, self->hostname) != 0)
    *changed = TRUE;
}

static gboolean
patch_axeos (PmSettings *self,
             JsonObject *object,
             gboolean   *hostname_changed,
             GError    **error)
{
  JsonNode *pools = json_object_get_member (object, "pools");

  /* First pass: every known key, before anything is written. */
  for (gsize i = 0; i < G_N_ELEMENTS (axeos_fields); i++)
    {
      JsonNode *member = json_object_get_member (object, axeos_fields[i].key);

      if (member != NULL && !value_is_valid (&axeos_fields[i], member))
        goto wrong;
    }
  if (pools != NULL)
    {
      JsonArray *array;

      if (!JSON_NODE_HOLDS_ARRAY (pools))
        goto wrong;
      array = json_node_get_array (pools);
      for (guint i = 0; i < json_array_get_length (array); i++)
        if (!pool_object_is_valid (json_array_get_element (array, i), TRUE, NULL))
          goto wrong;
    }

  /* Second pass: all of it. */
  for (gsize i = 0; i < G_N_ELEMENTS (axeos_fields); i++)
    {
      const Field *field = &axeos_fields[i];
      JsonNode *member = json_object_get_member (object, field->key);

      if (member == NULL)
        continue;
      if (field->store == STORE_HOSTNAME)
        store_hostname (self, field, node_get_string (member), hostname_changed);
      else
        store_value (field, self, member);
    }
  if (pools != NULL)
    {
      JsonArray *array = json_node_get_array (pools);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          guint id = 0;

          if (!pool_object_is_valid (element, TRUE, &id))
            g_assert_not_reached ();
          pool_apply (&self->pools[id], json_node_get_object (element));
        }
    }
  return TRUE;

wrong:
  g_set_error_literal (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_INVALID,
                       MESSAGE_WRONG_INPUT);
  return FALSE;
}

static void
patch_nerdqaxe (PmSettings *self,
                JsonObject *object,
                gboolean   *hostname_changed)
{
  for (gsize i = 0; i < G_N_ELEMENTS (nerdqaxe_fields); i++)
    {
      const Field *field = &nerdqaxe_fields[i];
      JsonNode *member = json_object_get_member (object, field->key);
      const char *string = NULL;
      double value = 0;
      gpointer base;

      if (member == NULL)
        continue;

      if (field->kind == KIND_STRING)
        {
          string = node_get_string (member);
          if (string == NULL || !string_is_valid (field, string))
            continue;
        }
      else
        {
          if (!node_get_number (member, field->kind, &value))
            continue;
          if (field->store != STORE_BOOLEAN)
            value = CLAMP (value, field->min, field->max);
        }

      switch (field->target)
        {
        case TARGET_SELF:
          base = self;
          break;
        case TARGET_PRIMARY:
        case TARGET_SECONDARY:
          {
            guint index = field->target == TARGET_PRIMARY ? self->primary_pool_index
                                                          : self->secondary_pool_index;
            PmPool *pool = &self->pools[MIN (index, PM_SETTINGS_N_POOLS - 1)];

            /* A slot never written starts from the defaults; one that
             * has been keeps what it was given, its URL or not. */
            if (pool_is_blank (pool))
              pool_set_defaults (pool);
            base = pool;
          }
          break;
        default:
          g_assert_not_reached ();
        }

      if (field->store == STORE_HOSTNAME)
        store_hostname (self, field, string, hostname_changed);
      else if (field->kind == KIND_STRING)
        store_string (field, base, string);
      else
        store_number (field, base, value);
    }
}

gboolean
pm_settings_patch (PmSettings     *self,
                   PmSettingsStyle style,
                   JsonNode       *root,
                   gboolean       *out_hostname_changed,
                   GError        **error)
{
  gboolean hostname_changed = FALSE;
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (out_hostname_changed != NULL)
    *out_hostname_changed = FALSE;

  /* A body that is not an object matches no key. */
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return TRUE;

  switch (style)
    {
    case PM_SETTINGS_STYLE_AXEOS:
      ok = patch_axeos (self, json_node_get_object (root), &hostname_changed, error);
      break;
    case PM_SETTINGS_STYLE_NERDQAXE:
      patch_nerdqaxe (self, json_node_get_object (root), &hostname_changed);
      break;
    default:
      g_return_val_if_reached (FALSE);
    }

  if (out_hostname_changed != NULL)
    *out_hostname_changed = hostname_changed;
  return ok;
}

/* ---- Pool endpoints ----------------------------------------------------- */

gboolean
pm_settings_put_pool (PmSettings *self,
                      guint       index,
                      JsonNode   *pool,
                      GError    **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (index >= PM_SETTINGS_N_POOLS)
    {
      g_set_error_literal (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_BAD_POOL_INDEX,
                           MESSAGE_BAD_POOL_INDEX);
      return FALSE;
    }
  if (pool == NULL)
    {
      g_set_error_literal (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_INVALID_JSON,
                           MESSAGE_INVALID_JSON);
      return FALSE;
    }
  if (!pool_object_is_valid (pool, FALSE, NULL))
    {
      g_set_error_literal (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_BAD_POOL,
                           MESSAGE_BAD_POOL);
      return FALSE;
    }

  pool_apply (&self->pools[index], json_node_get_object (pool));
  return TRUE;
}

gboolean
pm_settings_delete_pool (PmSettings *self,
                         guint       index,
                         GError    **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (index >= PM_SETTINGS_N_POOLS)
    {
      g_set_error_literal (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_BAD_POOL_INDEX,
                           MESSAGE_BAD_POOL_INDEX);
      return FALSE;
    }
  if (index == self->primary_pool_index || index == self->secondary_pool_index)
    {
      g_set_error_literal (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_POOL_IN_USE,
                           MESSAGE_POOL_IN_USE);
      return FALSE;
    }

  pool_clear (&self->pools[index]);
  return TRUE;
}

const PmPool *
pm_settings_get_primary_pool (const PmSettings *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->primary_pool_index < PM_SETTINGS_N_POOLS, NULL);

  return &self->pools[self->primary_pool_index];
}

const PmPool *
pm_settings_get_secondary_pool (const PmSettings *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->secondary_pool_index < PM_SETTINGS_N_POOLS, NULL);

  return &self->pools[self->secondary_pool_index];
}

/* ---- Theme -------------------------------------------------------------- */

static void
theme_take (JsonObject *object,
            const char *key,
            char      **slot)
{
  JsonNode *member = json_object_get_member (object, key);
  const char *value;

  if (member == NULL)
    return;
  value = node_get_string (member);
  if (value == NULL || strlen (value) > PM_SETTINGS_THEME_MAX_BYTES)
    return;
  g_free (*slot);
  *slot = g_strdup (value);
}

gboolean
pm_settings_set_theme (PmSettings *self,
                       JsonNode   *root,
                       GError    **error)
{
  JsonObject *object;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, PM_SETTINGS_ERROR, PM_SETTINGS_ERROR_INVALID_JSON,
                           MESSAGE_INVALID_JSON);
      return FALSE;
    }

  object = json_node_get_object (root);
  theme_take (object, "colorScheme", &self->theme_color_scheme);
  theme_take (object, "primaryColor", &self->theme_primary_color);
  return TRUE;
}
