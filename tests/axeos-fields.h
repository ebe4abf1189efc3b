/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * The members of the firmwares' system info objects and their JSON types,
 * written down from the device reference apart from the code that writes
 * them: the one table every test that reads an info object checks it
 * against.
 */

typedef enum
{
  AXEOS_NUMBER,  /* any JSON number */
  AXEOS_INT,     /* an integer */
  AXEOS_FLAG,    /* the integer 0 or 1 */
  AXEOS_BOOL,    /* true or false */
  AXEOS_STRING,
  AXEOS_ARRAY,
  AXEOS_OBJECT,
} AxeosType;

typedef enum
{
  AXEOS_ALWAYS = 0,
  AXEOS_BLOCK = 1 << 0,  /* only once a job with a block height came */
  AXEOS_HTTP = 1 << 1,   /* only in the HTTP reply, not on /api/ws/live */
  AXEOS_POWER_FAULT = 1 << 2,     /* only while the regulator reports a fault */
  AXEOS_HARDWARE_FAULT = 1 << 3,  /* only while there is a hardware fault */
} AxeosWhen;

typedef struct
{
  const char *name;
  AxeosType   type;
  AxeosWhen   when;
} AxeosField;

/* AxeOS v2.15 `GET /api/system/info`. */
static const AxeosField axeos_info_fields[] G_GNUC_UNUSED = {
  /* telemetry */
  { "power", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "voltage", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "current", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "temp", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "temp2", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "vrTemp", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "coreVoltageActual", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "actualFrequency", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "expectedHashrate", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "fanspeed", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "fanrpm", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "fan2rpm", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "hashRate", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "hashRate_1m", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "hashRate_10m", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "hashRate_1h", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "errorPercentage", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "sharesAccepted", AXEOS_INT, AXEOS_ALWAYS },
  { "sharesRejected", AXEOS_INT, AXEOS_ALWAYS },
  { "sharesPending", AXEOS_INT, AXEOS_ALWAYS },
  { "bestDiff", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "bestSessionDiff", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "poolDifficulty", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "responseTime", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "responseShareBatch", AXEOS_INT, AXEOS_ALWAYS },
  { "processTime", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "workReceived", AXEOS_INT, AXEOS_ALWAYS },
  { "blockFound", AXEOS_INT, AXEOS_ALWAYS },
  { "showNewBlock", AXEOS_BOOL, AXEOS_ALWAYS },
  { "blockHeight", AXEOS_INT, AXEOS_BLOCK },
  { "scriptsig", AXEOS_STRING, AXEOS_BLOCK },
  { "networkDifficulty", AXEOS_NUMBER, AXEOS_BLOCK },
  { "coinbaseValueTotalSatoshis", AXEOS_INT, AXEOS_BLOCK },
  { "coinbaseValueUserSatoshis", AXEOS_INT, AXEOS_BLOCK },
  { "freeHeap", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "freeHeapInternal", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "freeHeapSpiram", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "minFreeHeap", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "maxAllocHeap", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "uptimeSeconds", AXEOS_INT, AXEOS_ALWAYS },
  { "totalUptimeSeconds", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "totalHashes", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "totalLog2Work", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "cpuUsage", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "miningPaused", AXEOS_BOOL, AXEOS_ALWAYS },
  { "overheat_mode", AXEOS_FLAG, AXEOS_ALWAYS },
  { "wifiStatus", AXEOS_STRING, AXEOS_ALWAYS },
  { "wifiRSSI", AXEOS_INT, AXEOS_ALWAYS },
  { "power_fault", AXEOS_STRING, AXEOS_POWER_FAULT },
  { "hardware_fault", AXEOS_STRING, AXEOS_HARDWARE_FAULT },
  /* configuration and identity */
  { "version", AXEOS_STRING, AXEOS_ALWAYS },
  { "axeOSVersion", AXEOS_STRING, AXEOS_ALWAYS },
  { "idfVersion", AXEOS_STRING, AXEOS_ALWAYS },
  { "boardVersion", AXEOS_STRING, AXEOS_ALWAYS },
  { "maxPower", AXEOS_INT, AXEOS_ALWAYS },
  { "nominalVoltage", AXEOS_INT, AXEOS_ALWAYS },
  { "smallCoreCount", AXEOS_INT, AXEOS_ALWAYS },
  { "ASICModel", AXEOS_STRING, AXEOS_ALWAYS },
  { "isPSRAMAvailable", AXEOS_FLAG, AXEOS_ALWAYS },
  { "resetReason", AXEOS_STRING, AXEOS_ALWAYS },
  { "runningPartition", AXEOS_STRING, AXEOS_ALWAYS },
  { "macAddr", AXEOS_STRING, AXEOS_ALWAYS },
  { "hostname", AXEOS_STRING, AXEOS_ALWAYS },
  { "ssid", AXEOS_STRING, AXEOS_ALWAYS },
  { "ipv4", AXEOS_STRING, AXEOS_ALWAYS },
  { "ipv6", AXEOS_STRING, AXEOS_ALWAYS },
  { "apEnabled", AXEOS_FLAG, AXEOS_ALWAYS },
  { "poolConnectionInfo", AXEOS_STRING, AXEOS_ALWAYS },
  { "isUsingFallbackStratum", AXEOS_FLAG, AXEOS_ALWAYS },
  { "useFallbackStratum", AXEOS_FLAG, AXEOS_ALWAYS },
  { "primaryPoolIndex", AXEOS_INT, AXEOS_ALWAYS },
  { "secondaryPoolIndex", AXEOS_INT, AXEOS_ALWAYS },
  { "pools", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "stratumURL", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumPort", AXEOS_INT, AXEOS_ALWAYS },
  { "stratumUser", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumSuggestedDifficulty", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "stratumExtranonceSubscribe", AXEOS_BOOL, AXEOS_ALWAYS },
  { "stratumDecodeCoinbase", AXEOS_BOOL, AXEOS_ALWAYS },
  { "stratumTLS", AXEOS_INT, AXEOS_ALWAYS },
  { "stratumCert", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumProtocol", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumV2AuthorityPubkey", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumV2ChannelType", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumURL", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumPort", AXEOS_INT, AXEOS_ALWAYS },
  { "fallbackStratumUser", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumSuggestedDifficulty", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "fallbackStratumExtranonceSubscribe", AXEOS_BOOL, AXEOS_ALWAYS },
  { "fallbackStratumDecodeCoinbase", AXEOS_BOOL, AXEOS_ALWAYS },
  { "fallbackStratumTLS", AXEOS_INT, AXEOS_ALWAYS },
  { "fallbackStratumCert", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumProtocol", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumV2AuthorityPubkey", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumV2ChannelType", AXEOS_STRING, AXEOS_ALWAYS },
  { "useCustomWWW", AXEOS_FLAG, AXEOS_ALWAYS },
  { "overclockEnabled", AXEOS_FLAG, AXEOS_ALWAYS },
  { "invertscreen", AXEOS_FLAG, AXEOS_ALWAYS },
  { "autofanspeed", AXEOS_FLAG, AXEOS_ALWAYS },
  { "display", AXEOS_STRING, AXEOS_ALWAYS },
  { "rotation", AXEOS_INT, AXEOS_ALWAYS },
  { "displayTimeout", AXEOS_INT, AXEOS_ALWAYS },
  { "manualFanSpeed", AXEOS_INT, AXEOS_ALWAYS },
  { "minFanSpeed", AXEOS_INT, AXEOS_ALWAYS },
  { "temptarget", AXEOS_INT, AXEOS_ALWAYS },
  { "coreVoltage", AXEOS_INT, AXEOS_ALWAYS },
  { "frequency", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "statsFrequency", AXEOS_INT, AXEOS_ALWAYS },
  { "statsLimit", AXEOS_INT, AXEOS_ALWAYS },
  { "hashrateMonitor", AXEOS_OBJECT, AXEOS_ALWAYS },
  { "partitions", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "sharesRejectedReasons", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "blockSignals", AXEOS_ARRAY, AXEOS_BLOCK },
  { "coinbaseOutputs", AXEOS_ARRAY, AXEOS_BLOCK },
  { "fullHostname", AXEOS_STRING, AXEOS_HTTP },
};

/* Members AxeOS v2.15 never sends in its system info. */
static const char *const axeos_info_forbidden[] G_GNUC_UNUSED = {
  "stratumPassword",
  "fallbackStratumPassword",
  "wifiPass",
  "wifiPassword",
  "flipscreen",
  "invertfanpolarity",
  "fanSpeedRpm",
  "asicCount",
  "mac",
  NULL,
};

/* One entry of the AxeOS `pools` array. */
static const AxeosField axeos_pool_fields[] G_GNUC_UNUSED = {
  { "id", AXEOS_INT, AXEOS_ALWAYS },
  { "stratumURL", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumPort", AXEOS_INT, AXEOS_ALWAYS },
  { "stratumUser", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumPassword", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumProtocol", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumSuggestedDifficulty", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "stratumExtranonceSubscribe", AXEOS_BOOL, AXEOS_ALWAYS },
  { "stratumTLS", AXEOS_INT, AXEOS_ALWAYS },
  { "stratumCert", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumDecodeCoinbase", AXEOS_BOOL, AXEOS_ALWAYS },
  { "stratumV2ChannelType", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumV2AuthorityPubkey", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumV2RequireAuth", AXEOS_BOOL, AXEOS_ALWAYS },
};

/* One entry of the AxeOS `partitions` array; `version`, `compileDate`,
 * `compileTime` and `usagePercent` may also be null. */
static const AxeosField axeos_partition_fields[] G_GNUC_UNUSED = {
  { "label", AXEOS_STRING, AXEOS_ALWAYS },
  { "isCurrent", AXEOS_BOOL, AXEOS_ALWAYS },
  { "isFactory", AXEOS_BOOL, AXEOS_ALWAYS },
  { "version", AXEOS_STRING, AXEOS_ALWAYS },
  { "compileDate", AXEOS_STRING, AXEOS_ALWAYS },
  { "compileTime", AXEOS_STRING, AXEOS_ALWAYS },
  { "usagePercent", AXEOS_NUMBER, AXEOS_ALWAYS },
};

/* AxeOS `GET /api/system/asic`. */
static const AxeosField axeos_asic_fields[] G_GNUC_UNUSED = {
  { "ASICModel", AXEOS_STRING, AXEOS_ALWAYS },
  { "deviceModel", AXEOS_STRING, AXEOS_ALWAYS },
  { "swarmColor", AXEOS_STRING, AXEOS_ALWAYS },
  { "asicCount", AXEOS_INT, AXEOS_ALWAYS },
  { "hashDomains", AXEOS_INT, AXEOS_ALWAYS },
  { "defaultFrequency", AXEOS_INT, AXEOS_ALWAYS },
  { "frequencyOptions", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "defaultVoltage", AXEOS_INT, AXEOS_ALWAYS },
  { "voltageOptions", AXEOS_ARRAY, AXEOS_ALWAYS },
};

/* One entry of the AxeOS `GET /api/system/scoreboard` array. */
static const AxeosField axeos_scoreboard_fields[] G_GNUC_UNUSED = {
  { "difficulty", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "job_id", AXEOS_STRING, AXEOS_ALWAYS },
  { "extranonce2", AXEOS_STRING, AXEOS_ALWAYS },
  { "ntime", AXEOS_INT, AXEOS_ALWAYS },
  { "nonce", AXEOS_STRING, AXEOS_ALWAYS },
  { "version_bits", AXEOS_STRING, AXEOS_ALWAYS },
};

/* NerdQAxe+ `GET /api/system/info` (`history` only with `?ts=`). */
static const AxeosField nerdqaxe_info_fields[] G_GNUC_UNUSED = {
  { "asicCount", AXEOS_INT, AXEOS_ALWAYS },
  { "smallCoreCount", AXEOS_INT, AXEOS_ALWAYS },
  { "deviceModel", AXEOS_STRING, AXEOS_ALWAYS },
  { "hostip", AXEOS_STRING, AXEOS_ALWAYS },
  { "macAddr", AXEOS_STRING, AXEOS_ALWAYS },
  { "wifiRSSI", AXEOS_INT, AXEOS_ALWAYS },
  { "power", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "maxPower", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "minPower", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "maxVoltage", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "minVoltage", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "current", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "currentA", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "minCurrentA", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "maxCurrentA", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "temp", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "vrTemp", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "vrTempInt", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "asicTemps", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "hashRateTimestamp", AXEOS_INT, AXEOS_ALWAYS },
  { "hashRate", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "hashRate_1m", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "hashRate_10m", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "hashRate_1h", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "hashRate_1d", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "coreVoltage", AXEOS_INT, AXEOS_ALWAYS },
  { "defaultCoreVoltage", AXEOS_INT, AXEOS_ALWAYS },
  { "coreVoltageActual", AXEOS_INT, AXEOS_ALWAYS },
  { "fanspeed", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "manualFanSpeed", AXEOS_INT, AXEOS_ALWAYS },
  { "fanrpm", AXEOS_INT, AXEOS_ALWAYS },
  { "fanrpm2", AXEOS_INT, AXEOS_ALWAYS },
  { "fanspeed2", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "fanCount", AXEOS_INT, AXEOS_ALWAYS },
  { "fans", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "pidTargetTemp", AXEOS_INT, AXEOS_ALWAYS },
  { "pidP", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "pidI", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "pidD", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "lastpingrtt", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "recentpingloss", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "shutdown", AXEOS_BOOL, AXEOS_ALWAYS },
  { "can", AXEOS_OBJECT, AXEOS_ALWAYS },
  { "duplicateHWNonces", AXEOS_INT, AXEOS_ALWAYS },
  { "stratum", AXEOS_OBJECT, AXEOS_ALWAYS },
  { "poolDifficulty", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "networkDifficulty", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "foundBlocks", AXEOS_INT, AXEOS_ALWAYS },
  { "totalFoundBlocks", AXEOS_INT, AXEOS_ALWAYS },
  { "sharesAccepted", AXEOS_INT, AXEOS_ALWAYS },
  { "sharesRejected", AXEOS_INT, AXEOS_ALWAYS },
  { "bestDiff", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "bestSessionDiff", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "blockHeaders", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "coinbaseVerifyMode", AXEOS_INT, AXEOS_ALWAYS },
  { "coinbaseMaxFee", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "coinbaseVerifyForce", AXEOS_BOOL, AXEOS_ALWAYS },
  { "fallbackCoinbaseVerifyMode", AXEOS_INT, AXEOS_ALWAYS },
  { "fallbackCoinbaseMaxFee", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "fallbackCoinbaseVerifyForce", AXEOS_BOOL, AXEOS_ALWAYS },
  { "hostname", AXEOS_STRING, AXEOS_ALWAYS },
  { "ssid", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumURL", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumPort", AXEOS_INT, AXEOS_ALWAYS },
  { "stratumUser", AXEOS_STRING, AXEOS_ALWAYS },
  { "stratumEnonceSubscribe", AXEOS_BOOL, AXEOS_ALWAYS },
  { "stratumTLS", AXEOS_BOOL, AXEOS_ALWAYS },
  { "fallbackStratumURL", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumPort", AXEOS_INT, AXEOS_ALWAYS },
  { "fallbackStratumUser", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumEnonceSubscribe", AXEOS_BOOL, AXEOS_ALWAYS },
  { "fallbackStratumTLS", AXEOS_BOOL, AXEOS_ALWAYS },
  { "stratumProtocol", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackStratumProtocol", AXEOS_STRING, AXEOS_ALWAYS },
  { "sv2AuthorityPubkey", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackSv2AuthorityPubkey", AXEOS_STRING, AXEOS_ALWAYS },
  { "sv2ChannelType", AXEOS_STRING, AXEOS_ALWAYS },
  { "fallbackSv2ChannelType", AXEOS_STRING, AXEOS_ALWAYS },
  { "voltage", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "frequency", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "defaultFrequency", AXEOS_INT, AXEOS_ALWAYS },
  { "jobInterval", AXEOS_INT, AXEOS_ALWAYS },
  { "stratumDifficulty", AXEOS_INT, AXEOS_ALWAYS },
  { "overheat_temp", AXEOS_INT, AXEOS_ALWAYS },
  { "flipscreen", AXEOS_FLAG, AXEOS_ALWAYS },
  { "invertscreen", AXEOS_FLAG, AXEOS_ALWAYS },
  { "autoscreenoff", AXEOS_FLAG, AXEOS_ALWAYS },
  { "invertfanpolarity", AXEOS_FLAG, AXEOS_ALWAYS },
  { "autofanspeed", AXEOS_INT, AXEOS_ALWAYS },
  { "stratum_keep", AXEOS_FLAG, AXEOS_ALWAYS },
  { "vrFrequency", AXEOS_INT, AXEOS_ALWAYS },
  { "defaultVrFrequency", AXEOS_INT, AXEOS_ALWAYS },
  { "otp", AXEOS_BOOL, AXEOS_ALWAYS },
  { "ASICModel", AXEOS_STRING, AXEOS_ALWAYS },
  { "uptimeSeconds", AXEOS_INT, AXEOS_ALWAYS },
  { "lastResetReason", AXEOS_STRING, AXEOS_ALWAYS },
  { "wifiStatus", AXEOS_STRING, AXEOS_ALWAYS },
  { "freeHeap", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "freeHeapInt", AXEOS_NUMBER, AXEOS_ALWAYS },
  { "version", AXEOS_STRING, AXEOS_ALWAYS },
  { "runningPartition", AXEOS_STRING, AXEOS_ALWAYS },
  { "defaultTheme", AXEOS_STRING, AXEOS_ALWAYS },
};

/* Members of the NerdQAxe+ `history` object; every array holds one
 * integer per sample. */
static const AxeosField nerdqaxe_history_fields[] G_GNUC_UNUSED = {
  { "hashrate_1m", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "hashrate_10m", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "hashrate_1h", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "hashrate_1d", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "timestamps", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "vregTemp", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "asicTemp", AXEOS_ARRAY, AXEOS_ALWAYS },
  { "timestampBase", AXEOS_INT, AXEOS_ALWAYS },
  { "hasMore", AXEOS_BOOL, AXEOS_ALWAYS },
};

/* The statistics labels, in the firmware's fixed order. */
static const char *const axeos_stats_labels[] G_GNUC_UNUSED = {
  "hashrate", "hashrate_1m", "hashrate_10m", "hashrate_1h",
  "errorPercentage", "asicTemp", "asicTemp2", "vrTemp", "asicVoltage",
  "voltage", "power", "current", "fanSpeed", "fanRpm", "fan2Rpm",
  "wifiRssi", "freeHeap", "responseTime",
};

/* Whether @node has JSON type @type. */
static inline gboolean
axeos_node_has_type (JsonNode *node,
                     AxeosType type)
{
  GType value_type;

  switch (type)
    {
    case AXEOS_ARRAY:
      return JSON_NODE_HOLDS_ARRAY (node);
    case AXEOS_OBJECT:
      return JSON_NODE_HOLDS_OBJECT (node);
    case AXEOS_NUMBER:
    case AXEOS_INT:
    case AXEOS_FLAG:
    case AXEOS_BOOL:
    case AXEOS_STRING:
    default:
      break;
    }
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  value_type = json_node_get_value_type (node);
  switch (type)
    {
    case AXEOS_NUMBER:
      return value_type == G_TYPE_INT64 || value_type == G_TYPE_DOUBLE;
    case AXEOS_INT:
      return value_type == G_TYPE_INT64;
    case AXEOS_FLAG:
      return value_type == G_TYPE_INT64 && (json_node_get_int (node) == 0 || json_node_get_int (node) == 1);
    case AXEOS_BOOL:
      return value_type == G_TYPE_BOOLEAN;
    case AXEOS_STRING:
      return value_type == G_TYPE_STRING;
    case AXEOS_ARRAY:
    case AXEOS_OBJECT:
    default:
      return FALSE;
    }
}

/* Asserts that @object has each of @fields with its type, those of
 * @present among the optional ones included, and none of the optional
 * ones outside @present. */
static inline void
axeos_assert_fields (JsonObject       *object,
                     const AxeosField *fields,
                     gsize             n_fields,
                     guint             present)
{
  gsize i;

  for (i = 0; i < n_fields; i++)
    {
      const AxeosField *field = &fields[i];
      gboolean expected = field->when == AXEOS_ALWAYS || (field->when & present) != 0;
      JsonNode *node = json_object_get_member (object, field->name);

      if (!expected)
        {
          if (node != NULL)
            g_error ("member %s should be absent", field->name);
          continue;
        }
      if (node == NULL)
        g_error ("member %s is missing", field->name);
      if (!axeos_node_has_type (node, field->type))
        g_error ("member %s has the wrong JSON type (%s)", field->name, json_node_type_name (node));
    }
}

G_END_DECLS
