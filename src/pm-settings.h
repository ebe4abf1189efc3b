/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "pm-board.h"

G_BEGIN_DECLS

#define PM_SETTINGS_N_POOLS 8

/* The longest theme value (`colorScheme`, `primaryColor`) stored, in
 * bytes; a longer one is ignored like a value of the wrong type. */
#define PM_SETTINGS_THEME_MAX_BYTES 64

/**
 * PmSettingsError:
 * @PM_SETTINGS_ERROR_INVALID: a PATCH key has the wrong JSON type or is out
 *   of range: "Wrong API input"
 * @PM_SETTINGS_ERROR_INVALID_JSON: there is no JSON body, or the body is
 *   not an object where one is needed: "Invalid JSON"
 * @PM_SETTINGS_ERROR_BAD_POOL_INDEX: no pool slot has that index:
 *   "Invalid pool index"
 * @PM_SETTINGS_ERROR_BAD_POOL: a pool object breaks a rule: "Invalid pool
 *   configuration payload"
 * @PM_SETTINGS_ERROR_POOL_IN_USE: the slot is the current primary or
 *   secondary pool and cannot be cleared
 *
 * Why the settings refused a change.  Each message is the firmware's
 * 400 body, word for word (the last is plutomock's own wording).
 */
typedef enum
{
  PM_SETTINGS_ERROR_INVALID,
  PM_SETTINGS_ERROR_INVALID_JSON,
  PM_SETTINGS_ERROR_BAD_POOL_INDEX,
  PM_SETTINGS_ERROR_BAD_POOL,
  PM_SETTINGS_ERROR_POOL_IN_USE,
} PmSettingsError;

#define PM_SETTINGS_ERROR (pm_settings_error_quark ())
GQuark pm_settings_error_quark (void);

/**
 * PmPool:
 *
 * One stratum pool slot, as AxeOS v2.15 stores it.  A slot whose @url
 * is %NULL is empty.
 */
typedef struct
{
  char    *url;                    /* stratumURL */
  guint    port;                   /* stratumPort */
  char    *user;                   /* stratumUser */
  char    *password;               /* stratumPassword; never reported */
  char    *protocol;               /* "SV1" or "SV2" */
  double   suggested_difficulty;   /* stratumSuggestedDifficulty */
  gboolean extranonce_subscribe;
  guint    tls;                    /* 0-2 */
  char    *cert;
  gboolean decode_coinbase;
  char    *v2_channel_type;        /* "standard" or "extended" */
  char    *v2_authority_pubkey;
  gboolean v2_require_auth;
} PmPool;

typedef enum
{
  PM_SETTINGS_STYLE_AXEOS,     /* v2.15: strict, all or nothing */
  PM_SETTINGS_STYLE_NERDQAXE,  /* wrong types skipped silently */
} PmSettingsStyle;

/**
 * PmSettings:
 *
 * What a firmware keeps in flash (NVS): the settings PATCH writes, the
 * pool slots and the theme.  They survive restarts.
 */
typedef struct
{
  char    *hostname;
  char    *ssid;
  char    *wifi_pass;               /* never reported */
  double   frequency;               /* MHz */
  guint    core_voltage;            /* mV */
  gboolean overclock_enabled;
  gboolean autofanspeed;
  guint    manual_fan_speed;        /* % */
  guint    min_fan_speed;           /* % */
  guint    temp_target;             /* °C */
  char    *display;
  guint    rotation;
  gboolean invert_screen;
  guint    display_offset;
  int      display_timeout;         /* minutes, -1 always on */
  gboolean overheat_mode;
  gboolean use_custom_www;
  guint    stats_frequency;         /* s, 0 off */
  gboolean use_fallback_stratum;
  guint    primary_pool_index;
  guint    secondary_pool_index;
  PmPool   pools[PM_SETTINGS_N_POOLS];
  char    *theme_color_scheme;      /* "dark" */
  char    *theme_primary_color;     /* "#F80421" */
  /* NerdQAxe+ only */
  guint    job_interval;            /* ms */
  guint    stratum_difficulty;
  guint    overheat_temp;
  gboolean flipscreen;
  gboolean autoscreenoff;
  gboolean invertfanpolarity;
} PmSettings;

PmSettings *pm_settings_new (const PmBoard  *board,
                             const char     *hostname);
void        pm_settings_free (PmSettings *self);

/*
 * pm_settings_patch:
 * @root: (nullable): the parsed PATCH body
 * @out_hostname_changed: (out) (optional): whether the stored hostname
 *   is now different
 *
 * PATCH /api/system.  A @root that is not an object (or %NULL) matches no
 * key: nothing changes and the call succeeds.  Unknown keys are ignored.
 *
 * %PM_SETTINGS_STYLE_AXEOS (v2.15): every known key is checked first; one
 * wrong type or out-of-range value fails the whole call with
 * %PM_SETTINGS_ERROR_INVALID ("Wrong API input") and nothing changes.
 * Types: a "number" key takes a JSON number only (true/false, strings
 * and null are wrong); a "bool or number" key takes true/false or a
 * number in its range; a string key takes a string only, its length
 * counted in bytes.  Integer settings keep the integer part of the
 * number.  `hostname` loses one trailing ".local"; a value that is
 * nothing but ".local" is refused.  In `pools`, fields an element leaves
 * out keep the slot's stored values (an empty slot starts from the
 * factory pool values), and a `stratumPassword` of "*****" keeps the
 * stored password.  The flat `stratum*` / `fallbackStratum*` keys,
 * `fanspeed`, `flipscreen`, `invertfanpolarity`, `wifiPassword`,
 * `autoscreenoff`, `overheat_temp` and `autoFanspeed` are ignored.
 *
 * %PM_SETTINGS_STYLE_NERDQAXE: the NerdQAxe+ keys, each applied on its
 * own: a value of the wrong type, a string of a length out of bounds or
 * an unknown protocol is skipped; a number out of range is clamped into
 * it.  The flat `stratum*` keys write the primary pool slot and the
 * `fallbackStratum*` keys the secondary one.  Never fails.
 */
gboolean    pm_settings_patch (PmSettings     *self,
                               PmSettingsStyle style,
                               JsonNode       *root,
                               gboolean       *out_hostname_changed,
                               GError        **error);

/* PUT /api/system/pools/{index}: @pool is checked like one `pools`
 * element, except that the index comes from @index and any `id` in the
 * body is ignored.  Errors: %PM_SETTINGS_ERROR_BAD_POOL_INDEX, or
 * %PM_SETTINGS_ERROR_INVALID_JSON for a %NULL @pool, or
 * %PM_SETTINGS_ERROR_BAD_POOL for anything else that is not a valid pool
 * object; nothing changes then.  DELETE clears the slot, unless it is
 * the current primary or secondary (%PM_SETTINGS_ERROR_POOL_IN_USE). */
gboolean    pm_settings_put_pool (PmSettings *self,
                                  guint       index,
                                  JsonNode   *pool,
                                  GError    **error);
gboolean    pm_settings_delete_pool (PmSettings *self,
                                     guint       index,
                                     GError    **error);

/* POST /api/theme: `colorScheme` and `primaryColor`, each optional; a
 * value that is not a string, or is longer than
 * PM_SETTINGS_THEME_MAX_BYTES, is ignored.  A @root that is not an object
 * fails with %PM_SETTINGS_ERROR_INVALID_JSON. */
gboolean    pm_settings_set_theme (PmSettings *self,
                                   JsonNode   *root,
                                   GError    **error);

/* The slots the primary and secondary indexes name; the slot may be
 * empty (its url %NULL). */
const PmPool *pm_settings_get_primary_pool (const PmSettings *self);
const PmPool *pm_settings_get_secondary_pool (const PmSettings *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmSettings, pm_settings_free)

G_END_DECLS
