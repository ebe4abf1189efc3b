/* SPDX-License-Identifier: MIT */
#define G_LOG_DOMAIN "sim-cost"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pm-axeos.h"
#include "pm-profile.h"
#include "pm-sim.h"

/*
 * The CPU cost of one simulated device's `/api/system/info` document, as
 * the firmware API makes it on every request: pm_sim_catch_up() to the
 * time of the request, then the AxeOS or NerdQAxe+ writer.  For each
 * profile and each gap between two requests to the device (100 µs, as on
 * one device under load, where the miner moves once a millisecond; 50 ms,
 * as round-robin over a fleet, where it moves on every request), it
 * prints the median nanoseconds per document over the runs, and the
 * catch-up and the writer alone.  It also prints a SHA-256 over the first
 * documents of a fixed seed, 50 ms apart, so that two builds can be shown
 * to write the same bytes.
 *
 *     sim-cost [N [RUNS]]        (defaults: 100000, 7)
 */

#define SEED G_GUINT64_CONSTANT (20240601)
#define PORT 20000
#define BOOT_US G_GINT64_CONSTANT (1000000000)
#define WARM_UP_US (G_GINT64_CONSTANT (600) * G_USEC_PER_SEC)
#define CHECKSUM_DOCS 20000
#define CHECKSUM_GAP_US 50000

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

/* A device of @profile, ten minutes after power-on: hashing, with jobs,
 * shares and statistics behind it, as a device of a fleet is. */
static PmSim *
new_device (const PmProfile *profile,
            gint64          *t_us)
{
  PmSim *sim = pm_sim_new (profile, "mockaxe1", SEED, PORT, BOOT_US);

  *t_us = BOOT_US + WARM_UP_US;
  pm_sim_catch_up (sim, *t_us);
  return sim;
}

static void
write_doc (const PmProfile *profile,
           PmSim           *sim,
           GString         *out)
{
  PmFirmwareView view;

  pm_sim_get_view (sim, profile->firmware, "127.0.0.1", &view);
  if (profile->family == PM_PROFILE_FAMILY_NERDQAXE)
    pm_nerdqaxe_write_info (out, &view);
  else
    pm_axeos_write_info (out, &view, TRUE);
}

static char *
checksum (const PmProfile *profile)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GString) out = g_string_sized_new (4096);
  gint64 t_us;
  g_autoptr(PmSim) sim = new_device (profile, &t_us);
  guint i;

  for (i = 0; i < CHECKSUM_DOCS; i++)
    {
      t_us += CHECKSUM_GAP_US;
      pm_sim_catch_up (sim, t_us);
      g_string_truncate (out, 0);
      write_doc (profile, sim, out);
      g_checksum_update (sum, (const guchar *) out->str, out->len);
    }
  return g_strdup (g_checksum_get_string (sum));
}

typedef enum
{
  PART_BOTH,
  PART_CATCH_UP,
  PART_WRITE,
} Part;

static double
one_run (const PmProfile *profile,
         guint            n,
         gint64           gap_us,
         Part             part,
         gsize           *bytes)
{
  g_autoptr(GString) out = g_string_sized_new (4096);
  gint64 t_us, t0;
  g_autoptr(PmSim) sim = new_device (profile, &t_us);
  guint i;

  t0 = now_ns ();
  for (i = 0; i < n; i++)
    {
      if (part != PART_WRITE)
        {
          t_us += gap_us;
          pm_sim_catch_up (sim, t_us);
        }
      if (part != PART_CATCH_UP)
        {
          /* A reply's body starts empty, as the firmware API's does. */
          g_string_truncate (out, 0);
          write_doc (profile, sim, out);
          *bytes += out->len;
        }
    }
  return (double) (now_ns () - t0) / n;
}

static void
measure (const PmProfile *profile,
         guint            n,
         guint            runs)
{
  static const struct
  {
    const char *name;
    gint64      gap_us;
    Part        part;
  } cases[] = {
    { "gap_100us", 100, PART_BOTH },
    { "gap_50ms", 50000, PART_BOTH },
    { "catch_up_100us", 100, PART_CATCH_UP },
    { "catch_up_50ms", 50000, PART_CATCH_UP },
    { "write", 0, PART_WRITE },
  };
  g_autofree double *ns = g_new (double, runs);
  g_autofree char *sum = checksum (profile);
  gsize c;
  guint run;

  for (c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      gsize bytes = 0;

      for (run = 0; run < runs; run++)
        ns[run] = one_run (profile, n, cases[c].gap_us, cases[c].part, &bytes);
      qsort (ns, runs, sizeof *ns, compare_double);
      printf ("%s\t%s\tns_per_doc=%.0f\tmin=%.0f\tmax=%.0f", profile->name, cases[c].name,
              ns[runs / 2], ns[0], ns[runs - 1]);
      if (cases[c].part != PART_CATCH_UP)
        printf ("\tbytes_per_doc=%.0f", (double) bytes / ((double) n * runs));
      printf ("\n");
    }
  printf ("%s\tsha256_first_%u=%s\n", profile->name, CHECKSUM_DOCS, sum);
}

int
main (int   argc,
      char *argv[])
{
  guint n = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 100000;
  guint runs = argc > 2 ? (guint) strtoul (argv[2], NULL, 10) : 7;

  if (n == 0 || runs == 0)
    {
      fprintf (stderr, "usage: sim-cost [N [RUNS]]\n");
      return 2;
    }
  measure (pm_profile_lookup ("axeos-gamma"), n, runs);
  measure (pm_profile_lookup ("nerdqaxe-plus"), n, runs);
  return 0;
}
