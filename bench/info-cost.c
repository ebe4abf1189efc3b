/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "info-cost"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pm-generator.h"

/*
 * The CPU cost of one /api/system/info document: calls the generator N
 * times per run for each shape, as a device does on every request, and
 * prints the median nanoseconds per document over the runs.  It also
 * prints a SHA-256 over the first documents of a fixed seed, so that two
 * builds can be shown to produce the same bytes.
 *
 *     info-cost [N [RUNS]]        (defaults: 200000, 7)
 */

#define SEED G_GUINT64_CONSTANT (20240601)
#define PORT 19001
#define NOW_MS G_GINT64_CONSTANT (1717171717171)
#define CHECKSUM_DOCS 20000

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static char *
checksum (PmApiVersion version)
{
  g_autoptr(GRand) rand = pm_rand_new_for_port (SEED, PORT);
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint i;

  for (i = 0; i < CHECKSUM_DOCS; i++)
    {
      g_autofree char *doc = pm_system_info_generate_with_overrides (rand, version, "bitaxe-19001",
                                                                     "v2.1.8", i, NOW_MS + i, NULL);

      g_checksum_update (sum, (const guchar *) doc, -1);
    }
  return g_strdup (g_checksum_get_string (sum));
}

static void
measure (PmApiVersion version,
         guint        n,
         guint        runs)
{
  g_autoptr(GRand) rand = pm_rand_new_for_port (SEED, PORT);
  g_autofree double *ns = g_new (double, runs);
  g_autofree char *sum = checksum (version);
  gsize bytes = 0;
  guint run, i;

  for (run = 0; run < runs; run++)
    {
      gint64 t0 = now_ns ();

      for (i = 0; i < n; i++)
        {
          char *doc = pm_system_info_generate_with_overrides (rand, version, "bitaxe-19001",
                                                             "v2.1.8", i, NOW_MS + i, NULL);

          bytes += strlen (doc);
          g_free (doc);
        }
      ns[run] = (double) (now_ns () - t0) / n;
    }
  qsort (ns, runs, sizeof *ns, compare_double);
  printf ("%s\tns_per_doc=%.0f\tmin=%.0f\tmax=%.0f\tbytes_per_doc=%.0f\tsha256_first_%u=%s\n",
          pm_api_version_to_string (version), ns[runs / 2], ns[0], ns[runs - 1],
          (double) bytes / ((double) n * runs), CHECKSUM_DOCS, sum);
}

int
main (int   argc,
      char *argv[])
{
  guint n = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 200000;
  guint runs = argc > 2 ? (guint) strtoul (argv[2], NULL, 10) : 7;

  if (n == 0 || runs == 0)
    {
      fprintf (stderr, "usage: info-cost [N [RUNS]]\n");
      return 2;
    }
  measure (PM_API_VERSION_LEGACY, n, runs);
  measure (PM_API_VERSION_NEW, n, runs);
  return 0;
}
