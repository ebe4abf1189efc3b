/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "pm-error"

#include "config.h"

#include "pm-error.h"
#include "pm-names.h"

static const GDBusErrorEntry error_entries[] = {
  { PM_ERROR_INVALID_ARGUMENT, PM_DBUS_ERROR_PREFIX "InvalidArgument" },
  { PM_ERROR_INVALID_JSON, PM_DBUS_ERROR_PREFIX "InvalidJson" },
  { PM_ERROR_NOT_AN_OBJECT, PM_DBUS_ERROR_PREFIX "NotAnObject" },
  { PM_ERROR_TOO_LARGE, PM_DBUS_ERROR_PREFIX "TooLarge" },
  { PM_ERROR_TOO_DEEP, PM_DBUS_ERROR_PREFIX "TooDeep" },
  { PM_ERROR_PORT_IN_USE, PM_DBUS_ERROR_PREFIX "PortInUse" },
  { PM_ERROR_RESTARTING, PM_DBUS_ERROR_PREFIX "Restarting" },
  { PM_ERROR_NO_SUCH_DEVICE, PM_DBUS_ERROR_PREFIX "NoSuchDevice" },
  { PM_ERROR_HOSTNAME_IN_USE, PM_DBUS_ERROR_PREFIX "HostnameInUse" },
  { PM_ERROR_FAILED, PM_DBUS_ERROR_PREFIX "Failed" },
  { PM_ERROR_FORBIDDEN, PM_DBUS_ERROR_PREFIX "Forbidden" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (error_entries) == PM_ERROR_FORBIDDEN + 1);

/* Registering the domain maps every value to its D-Bus error name both
 * ways: a reply carries the name, and a client gets a PM_ERROR back. */
GQuark
pm_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("pm-error-quark", &quark,
                                      error_entries, G_N_ELEMENTS (error_entries));
  return (GQuark) quark;
}
