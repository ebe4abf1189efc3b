/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * PmError:
 * @PM_ERROR_INVALID_ARGUMENT: a value given by the user is not acceptable
 * @PM_ERROR_INVALID_JSON: a request body is not well-formed JSON or not UTF-8
 * @PM_ERROR_NOT_AN_OBJECT: a request body is JSON, but not a JSON object
 * @PM_ERROR_TOO_LARGE: a request body is larger than the limit
 * @PM_ERROR_TOO_DEEP: a request body nests deeper than the limit
 * @PM_ERROR_PORT_IN_USE: a port cannot be bound because it is taken
 * @PM_ERROR_RESTARTING: the device is restarting
 * @PM_ERROR_NO_SUCH_DEVICE: no device matches
 * @PM_ERROR_HOSTNAME_IN_USE: a device with that hostname exists already
 * @PM_ERROR_FAILED: anything else
 * @PM_ERROR_FORBIDDEN: the client may not do that from where it is
 *
 * Errors of plutomock's own making, shared by HTTP, D-Bus and the command
 * line.  On the bus each is org.pluto.Mock1.Error.NAME, NAME being the
 * value's name in CamelCase (InvalidArgument, PortInUse, ...).
 */
typedef enum
{
  PM_ERROR_INVALID_ARGUMENT,
  PM_ERROR_INVALID_JSON,
  PM_ERROR_NOT_AN_OBJECT,
  PM_ERROR_TOO_LARGE,
  PM_ERROR_TOO_DEEP,
  PM_ERROR_PORT_IN_USE,
  PM_ERROR_RESTARTING,
  PM_ERROR_NO_SUCH_DEVICE,
  PM_ERROR_HOSTNAME_IN_USE,
  PM_ERROR_FAILED,
  PM_ERROR_FORBIDDEN,
} PmError;

#define PM_ERROR (pm_error_quark ())
GQuark pm_error_quark (void);

G_END_DECLS
