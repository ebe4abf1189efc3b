/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * PmPowerSensor:
 * @PM_POWER_SENSOR_INA260: the board measures its input: `power` is
 *   input voltage × input current
 * @PM_POWER_SENSOR_TPS546: the core regulator reports: `current` is the
 *   ASIC core current, and `power` is core voltage × core current + 5 W
 *
 * How a board measures its power, which decides what `voltage`,
 * `current` and `power` mean.
 */
typedef enum
{
  PM_POWER_SENSOR_INA260,
  PM_POWER_SENSOR_TPS546,
} PmPowerSensor;

/**
 * PmBoard:
 *
 * The constants of one miner model, as its firmware has them: ASIC,
 * core counts, frequency and voltage defaults and options, power
 * limits, and the board revisions it ships as.
 */
typedef struct
{
  const char        *name;               /* "Bitaxe Gamma": what it is sold as */
  const char        *device_model;       /* "Gamma", "NerdQAxe+" */
  const char        *asic_model;         /* "BM1370" */
  const char        *swarm_color;        /* "green"; NULL where the firmware has none */
  guint              asic_count;
  guint              small_core_count;   /* per ASIC */
  guint              hash_domains;       /* per ASIC */
  guint              default_frequency;  /* MHz */
  const guint       *frequency_options;
  gsize              n_frequency_options;
  guint              default_voltage;    /* core, mV */
  const guint       *voltage_options;
  gsize              n_voltage_options;
  guint              max_power;          /* W */
  guint              min_power;          /* W; 0 where the firmware reports none */
  guint              nominal_voltage;    /* input, V */
  const char *const *board_versions;     /* NULL-terminated */
  const PmPowerSensor *board_sensors;    /* one per board version */
  guint              fan_max_rpm;        /* at 100 % duty */
} PmBoard;

extern const PmBoard pm_board_gamma;
extern const PmBoard pm_board_supra;
extern const PmBoard pm_board_ultra;
extern const PmBoard pm_board_nerdqaxe_plus;

guint         pm_board_count_versions (const PmBoard *board);
PmPowerSensor pm_board_sensor_of (const PmBoard *board,
                                  guint          version_index);
double        pm_board_expected_hashrate (const PmBoard *board,
                                          double         frequency_mhz);
gboolean      pm_board_check_chip (const PmBoard *board,
                                   guint          asic,
                                   guint          domain,
                                   GError       **error);

G_END_DECLS
