/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "pm-board.h"

G_BEGIN_DECLS

#define PM_SETTINGS_N_POOLS 8

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

gboolean    pm_settings_patch (PmSettings     *self,
                               PmSettingsStyle style,
                               JsonNode       *root,
                               gboolean       *out_hostname_changed,
                               GError        **error);

gboolean    pm_settings_put_pool (PmSettings *self,
                                  guint       index,
                                  JsonNode   *pool,
                                  GError    **error);
gboolean    pm_settings_delete_pool (PmSettings *self,
                                     guint       index,
                                     GError    **error);

gboolean    pm_settings_set_theme (PmSettings *self,
                                   JsonNode   *root,
                                   GError    **error);

const PmPool *pm_settings_get_primary_pool (const PmSettings *self);
const PmPool *pm_settings_get_secondary_pool (const PmSettings *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PmSettings, pm_settings_free)

G_END_DECLS
