/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-board"

#include "config.h"

#include "pm-board.h"
#include "pm-error.h"

/* The per-model constants of ESP-Miner v2.15 (device_config.h) and of
 * the NerdQAxe+ firmware. */

static const guint gamma_frequencies[] = { 400, 490, 525, 550, 600, 625 };
static const guint gamma_voltages[] = { 1000, 1060, 1100, 1150, 1200, 1250 };
static const char *const gamma_versions[] = { "601", "602", "600", "603", NULL };
static const PmPowerSensor gamma_sensors[] = {
  PM_POWER_SENSOR_TPS546, PM_POWER_SENSOR_TPS546, PM_POWER_SENSOR_TPS546, PM_POWER_SENSOR_TPS546,
};

const PmBoard pm_board_gamma = {
  .name = "Bitaxe Gamma",
  .device_model = "Gamma",
  .asic_model = "BM1370",
  .swarm_color = "green",
  .asic_count = 1,
  .small_core_count = 2040,
  .hash_domains = 4,
  .default_frequency = 525,
  .frequency_options = gamma_frequencies,
  .n_frequency_options = G_N_ELEMENTS (gamma_frequencies),
  .default_voltage = 1150,
  .voltage_options = gamma_voltages,
  .n_voltage_options = G_N_ELEMENTS (gamma_voltages),
  .max_power = 40,
  .nominal_voltage = 5,
  .board_versions = gamma_versions,
  .board_sensors = gamma_sensors,
  .fan_max_rpm = 6500,
};

static const guint supra_frequencies[] = { 400, 425, 450, 475, 485, 490, 500, 525, 550, 575 };
static const guint supra_voltages[] = { 1100, 1150, 1166, 1200, 1250, 1300 };
static const char *const supra_versions[] = { "401", "402", "400", "403", NULL };
static const PmPowerSensor supra_sensors[] = {
  PM_POWER_SENSOR_INA260, PM_POWER_SENSOR_TPS546, PM_POWER_SENSOR_INA260, PM_POWER_SENSOR_TPS546,
};

const PmBoard pm_board_supra = {
  .name = "Bitaxe Supra",
  .device_model = "Supra",
  .asic_model = "BM1368",
  .swarm_color = "blue",
  .asic_count = 1,
  .small_core_count = 1276,
  .hash_domains = 4,
  .default_frequency = 490,
  .frequency_options = supra_frequencies,
  .n_frequency_options = G_N_ELEMENTS (supra_frequencies),
  .default_voltage = 1166,
  .voltage_options = supra_voltages,
  .n_voltage_options = G_N_ELEMENTS (supra_voltages),
  .max_power = 40,
  .nominal_voltage = 5,
  .board_versions = supra_versions,
  .board_sensors = supra_sensors,
  .fan_max_rpm = 6500,
};

static const guint ultra_frequencies[] = { 400, 425, 450, 475, 485, 500, 525, 550, 575 };
static const guint ultra_voltages[] = { 1100, 1150, 1200, 1250, 1300 };
static const char *const ultra_versions[] = { "204", "205", "201", "202", "203", "0.11", "207", NULL };
static const PmPowerSensor ultra_sensors[] = {
  PM_POWER_SENSOR_INA260, PM_POWER_SENSOR_INA260, PM_POWER_SENSOR_INA260, PM_POWER_SENSOR_INA260,
  PM_POWER_SENSOR_INA260, PM_POWER_SENSOR_INA260, PM_POWER_SENSOR_TPS546,
};

const PmBoard pm_board_ultra = {
  .name = "Bitaxe Ultra",
  .device_model = "Ultra",
  .asic_model = "BM1366",
  .swarm_color = "purple",
  .asic_count = 1,
  .small_core_count = 894,
  .hash_domains = 4,
  .default_frequency = 485,
  .frequency_options = ultra_frequencies,
  .n_frequency_options = G_N_ELEMENTS (ultra_frequencies),
  .default_voltage = 1200,
  .voltage_options = ultra_voltages,
  .n_voltage_options = G_N_ELEMENTS (ultra_voltages),
  .max_power = 25,
  .nominal_voltage = 5,
  .board_versions = ultra_versions,
  .board_sensors = ultra_sensors,
  .fan_max_rpm = 6500,
};

static const guint nerd_frequencies[] = { 400, 425, 450, 475, 490, 500, 525, 550, 575 };
static const guint nerd_voltages[] = { 1100, 1150, 1200, 1250, 1300, 1350 };
static const char *const nerd_versions[] = { "501", NULL };
static const PmPowerSensor nerd_sensors[] = { PM_POWER_SENSOR_TPS546 };

const PmBoard pm_board_nerdqaxe_plus = {
  .name = "NerdQAxe+",
  .device_model = "NerdQAxe+",
  .asic_model = "BM1368",
  .swarm_color = NULL,
  .asic_count = 4,
  .small_core_count = 1276,
  .hash_domains = 4,
  .default_frequency = 490,
  .frequency_options = nerd_frequencies,
  .n_frequency_options = G_N_ELEMENTS (nerd_frequencies),
  .default_voltage = 1250,
  .voltage_options = nerd_voltages,
  .n_voltage_options = G_N_ELEMENTS (nerd_voltages),
  .max_power = 70,
  .min_power = 30,
  .nominal_voltage = 12,
  .board_versions = nerd_versions,
  .board_sensors = nerd_sensors,
  .fan_max_rpm = 5000,
};

/**
 * pm_board_count_versions:
 * @board: a board
 *
 * Returns: how many board revisions @board ships as
 */
guint
pm_board_count_versions (const PmBoard *board)
{
  guint n = 0;

  while (board->board_versions[n] != NULL)
    n++;
  return n;
}

/**
 * pm_board_sensor_of:
 * @board: a board
 * @version_index: an index into its board versions
 *
 * Returns: how that revision measures its power
 */
PmPowerSensor
pm_board_sensor_of (const PmBoard *board,
                    guint          version_index)
{
  g_return_val_if_fail (version_index < pm_board_count_versions (board), PM_POWER_SENSOR_TPS546);
  return board->board_sensors[version_index];
}

/**
 * pm_board_expected_hashrate:
 * @board: a board
 * @frequency_mhz: the configured ASIC frequency
 *
 * Returns: the hashrate the firmware expects, in GH/s: frequency ×
 *   small cores × ASICs ÷ 1000
 */
double
pm_board_expected_hashrate (const PmBoard *board,
                            double         frequency_mhz)
{
  return frequency_mhz * board->small_core_count * board->asic_count / 1000.0;
}

/* "(0)" or "(0-3)": the indexes of @count things. */
static char *
dup_index_range (guint count)
{
  return count == 1 ? g_strdup ("(0)") : g_strdup_printf ("(0-%u)", count - 1);
}

/**
 * pm_board_check_chip:
 * @board: a board
 * @asic: an ASIC index
 * @domain: a hash domain index within that ASIC
 * @error: return location for a %PM_ERROR_INVALID_ARGUMENT
 *
 * Checks that @board has ASIC @asic, and that its ASICs have hash
 * domain @domain.
 *
 * Returns: %FALSE, with a message naming the board and its counts, if
 *   it has not
 */
gboolean
pm_board_check_chip (const PmBoard *board,
                     guint          asic,
                     guint          domain,
                     GError       **error)
{
  g_autofree char *range = NULL;

  if (asic >= board->asic_count)
    {
      range = dup_index_range (board->asic_count);
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "asic=%u is out of range: a %s has %u %s %s", asic, board->name,
                   board->asic_count, board->asic_count == 1 ? "ASIC" : "ASICs", range);
      return FALSE;
    }
  if (domain >= board->hash_domains)
    {
      range = dup_index_range (board->hash_domains);
      g_set_error (error, PM_ERROR, PM_ERROR_INVALID_ARGUMENT,
                   "domain=%u is out of range: a %s has %u hash %s per ASIC %s", domain,
                   board->name, board->hash_domains,
                   board->hash_domains == 1 ? "domain" : "domains", range);
      return FALSE;
    }
  return TRUE;
}
