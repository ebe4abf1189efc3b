/* SPDX-License-Identifier: MIT */
/* placeholder, being written */
#include "pm-test-util.h"

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  return g_test_run ();
}
