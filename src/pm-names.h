/* SPDX-License-Identifier: MIT */
#pragma once

/* The names plutomock uses on the session bus, shared by the daemon and
 * plutomockctl.  They are versioned: a change that breaks clients gets
 * org.pluto.Mock2. */

#define PM_DBUS_NAME "org.pluto.Mock1"
#define PM_DBUS_PATH "/org/pluto/Mock1"
#define PM_DBUS_MANAGER_PATH PM_DBUS_PATH "/Manager"
#define PM_DBUS_DEVICE_PATH_PREFIX PM_DBUS_PATH "/Device/"
#define PM_DBUS_ERROR_PREFIX PM_DBUS_NAME ".Error."
