/* SPDX-License-Identifier: MIT */

/*
 * Linked into every test program of a sanitized build (-Db_sanitize).
 *
 * GTestDBus forks a watcher process that never calls exec and ends with
 * exit() once the test is gone.  LeakSanitizer then checks that copy of
 * the test, made while other threads ran: those threads do not exist in
 * the copy, so LeakSanitizer cannot read their stacks and thread-local
 * data ("Running thread N was not suspended"), and reports whatever only
 * they pointed to (GLib's per-thread GSlice and main-loop data) as
 * leaked.  A copy that did not exec has no leak of its own worth finding,
 * so leak checking stays on only in the process the test started as.
 */

#include <sys/types.h>
#include <unistd.h>

int __lsan_is_turned_off (void);

static pid_t test_pid;

__attribute__ ((constructor)) static void
remember_test_pid (void)
{
  test_pid = getpid ();
}

/* Called by LeakSanitizer before it checks for leaks. */
__attribute__ ((visibility ("default"))) int
__lsan_is_turned_off (void)
{
  return test_pid != 0 && getpid () != test_pid;
}
