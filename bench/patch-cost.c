/* SPDX-License-Identifier: MIT */
/*
 * The CPU cost of the worst PATCH /api/system a client can send within
 * the limits, and of GET /api/system/info over the overrides that leaves.
 *
 * Each run takes a fresh device, fills its overrides to the member cap
 * (1024) and to the size cap (256 KiB) in 64 KiB bodies, then times one
 * body of up to 64 KiB through pm_device_update(), the function both
 * PATCH /api/system and the D-Bus Update method call.  The time is the
 * process's CPU time (CLOCK_PROCESS_CPUTIME_ID) around that one call.
 * Only the public device interface is used, so the program builds against
 * older versions of the library too.
 *
 *     patch-cost [RUNS]          (RUNS defaults to 21)
 *
 * prints one line per scenario: body size, outcome, runs, median and
 * maximum milliseconds.  Built and run by bench/patch-cost.sh.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pm-device.h"
#include "pm-error.h"

/* The limits the fill aims at, as documented: 1024 members, 256 KiB
 * serialised, bodies of 64 KiB. */
#define MEMBERS    1024
#define STORE_MAX  (256 * 1024)
#define BODY_MAX   (64 * 1024)
/* {"k0000":"<VALUE_LEN x>"} members: 1024 of them fill the store to
 * within 1 KiB; the last one is longer and takes it to the byte. */
#define VALUE_LEN  244
#define PER_BODY   256

typedef struct
{
  const char *name;
  const char *what;
  /* Builds the timed body; @fill says whether to fill the store first. */
  GString *(*body) (void);
  gboolean fill;
} Scenario;

static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *
key (guint i)
{
  return g_strdup_printf ("k%04u", i);
}

/* The value of member @i of a full store. */
static void
append_fill_value (GString *body,
                   guint    i)
{
  guint len = VALUE_LEN;

  if (i == MEMBERS - 1)
    len += STORE_MAX - (2 + MEMBERS * (10 + VALUE_LEN) + (MEMBERS - 1));
  g_string_append_c (body, '"');
  while (len-- > 0)
    g_string_append_c (body, 'x');
  g_string_append_c (body, '"');
}

static void
update_or_die (PmDevice *device,
               GString  *body)
{
  g_autoptr(GError) error = NULL;

  if (!pm_device_update (device, body->str, body->len, &error))
    {
      fprintf (stderr, "patch-cost: filling the store failed: %s\n", error->message);
      exit (1);
    }
}

/* Fills @device's overrides: 1024 members, 262144 bytes serialised. */
static void
fill (PmDevice *device)
{
  guint first;

  for (first = 0; first < MEMBERS; first += PER_BODY)
    {
      g_autoptr(GString) body = g_string_new ("{");
      guint i;

      for (i = first; i < first + PER_BODY && i < MEMBERS; i++)
        {
          g_autofree char *name = key (i);

          if (i > first)
            g_string_append_c (body, ',');
          g_string_append_printf (body, "\"%s\":", name);
          /* The longer last value would not fit in the last body:
           * stored on its own below. */
          if (i == MEMBERS - 1)
            g_string_append (body, "0");
          else
            append_fill_value (body, i);
        }
      g_string_append_c (body, '}');
      update_or_die (device, body);
    }

  {
    g_autoptr(GString) body = g_string_new ("{");
    g_autofree char *name = key (MEMBERS - 1);

    g_string_append_printf (body, "\"%s\":", name);
    append_fill_value (body, MEMBERS - 1);
    g_string_append_c (body, '}');
    update_or_die (device, body);
  }
}

/* The last 256 stored members again, values of the same length: taken,
 * the store stays full. */
static GString *
body_replace_same_size (void)
{
  GString *body = g_string_new ("{");
  guint i;

  for (i = MEMBERS - 1 - PER_BODY; i < MEMBERS - 1; i++)
    {
      g_autofree char *name = key (i);

      g_string_append_printf (body, "%s\"%s\":", body->len > 1 ? "," : "", name);
      append_fill_value (body, i);
    }
  g_string_append_c (body, '}');
  return body;
}

/* Every stored member, set to a short value: taken. */
static GString *
body_replace_all_small (void)
{
  GString *body = g_string_new ("{");
  guint i;

  for (i = 0; i < MEMBERS; i++)
    {
      g_autofree char *name = key (MEMBERS - 1 - i);

      g_string_append_printf (body, "%s\"%s\":%u", i > 0 ? "," : "", name, i % 10);
    }
  g_string_append_c (body, '}');
  return body;
}

/* As many new short members as 64 KiB holds: refused (member cap, and
 * size cap). */
static GString *
body_new_refused (void)
{
  GString *body = g_string_new ("{");
  guint i;

  for (i = 0; body->len + 16 < BODY_MAX; i++)
    g_string_append_printf (body, "%s\"n%05u\":0", i > 0 ? "," : "", i);
  g_string_append_c (body, '}');
  return body;
}

/* The last stored member grown by 64 KiB: refused (size cap). */
static GString *
body_grow_refused (void)
{
  GString *body = g_string_new (NULL);
  g_autofree char *name = key (MEMBERS - 1);
  g_autofree char *pad = g_strnfill (BODY_MAX - 32, 'y');

  g_string_printf (body, "{\"%s\":\"%s\"}", name, pad);
  return body;
}

/* Every stored member once, then the last one again and again to 64 KiB:
 * taken. */
static GString *
body_repeated_names (void)
{
  GString *body = g_string_new ("{");
  g_autofree char *last = key (MEMBERS - 1);
  guint i;

  for (i = 0; i < MEMBERS; i++)
    {
      g_autofree char *name = key (i);

      g_string_append_printf (body, "%s\"%s\":1", i > 0 ? "," : "", name);
    }
  while (body->len + 16 < BODY_MAX)
    g_string_append_printf (body, ",\"%s\":2", last);
  g_string_append_c (body, '}');
  return body;
}

/* One stored member set to a 64 KiB array of @item: refused (size cap),
 * after every node is built and measured. */
static GString *
array_of (const char *item)
{
  GString *body = g_string_new ("{\"k0000\":[");
  gsize n = strlen (item);

  g_string_append (body, item);
  while (body->len + n + 3 < BODY_MAX)
    {
      g_string_append_c (body, ',');
      g_string_append (body, item);
    }
  g_string_append (body, "]}");
  return body;
}

static GString *
body_array_of_zeros (void)
{
  return array_of ("0");
}

static GString *
body_array_of_doubles (void)
{
  return array_of ("0.1");
}

/* [0.001,0.002,...]: as many different doubles as 64 KiB holds. */
static GString *
body_array_of_distinct_doubles (void)
{
  GString *body = g_string_new ("{\"k0000\":[0.000");
  guint i;

  for (i = 1; body->len + 9 < BODY_MAX; i++)
    g_string_append_printf (body, ",%u.%03u", i / 1000 % 10, i % 1000);
  g_string_append (body, "]}");
  return body;
}

static GString *
body_array_of_objects (void)
{
  return array_of ("{\"a\":0}");
}

/* One number of 64 KiB of digits. */
static GString *
body_long_number (void)
{
  GString *body = g_string_new ("{\"k0000\":0.");

  while (body->len + 2 < BODY_MAX)
    g_string_append_c (body, '1');
  g_string_append_c (body, '}');
  return body;
}

static const Scenario scenarios[] = {
  { "replace-same-size", "256 stored members, same-length values", body_replace_same_size, TRUE },
  { "replace-all-small", "all 1024 stored members, short values", body_replace_all_small, TRUE },
  { "new-refused", "~5900 new members (over the caps)", body_new_refused, TRUE },
  { "grow-refused", "one stored member grown by 64 KiB", body_grow_refused, TRUE },
  { "repeated-names", "1024 names, then the last ~5000 times", body_repeated_names, TRUE },
  { "array-of-zeros", "[0,0,...] as one stored member's value", body_array_of_zeros, TRUE },
  { "array-of-doubles", "[0.1,0.1,...] as one stored member's value", body_array_of_doubles, TRUE },
  { "array-of-distinct", "[0.001,0.002,...] as one stored member's value", body_array_of_distinct_doubles, TRUE },
  { "array-of-objects", "[{\"a\":0},...] as one stored member's value", body_array_of_objects, TRUE },
  { "long-number", "one number of 64 Ki digits", body_long_number, TRUE },
  /* Taken by a store without a member cap, refused by one with it. */
  { "many-new-empty", "~5900 new members into an empty store", body_new_refused, FALSE },
};

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

int
main (int   argc,
      char *argv[])
{
  guint runs = argc > 1 ? (guint) atoi (argv[1]) : 21;
  g_autoptr(PmAcceptor) acceptor = pm_acceptor_new ();
  g_autofree double *times = NULL;
  gsize s;
  guint r;

  if (runs < 1)
    runs = 1;
  times = g_new (double, runs);

  printf ("%-18s %8s  %-9s %4s %10s %10s  %s\n",
          "scenario", "body", "outcome", "runs", "median_ms", "max_ms", "body holds");

  for (s = 0; s < G_N_ELEMENTS (scenarios); s++)
    {
      const Scenario *sc = &scenarios[s];
      g_autoptr(GString) body = sc->body ();
      const char *outcome = NULL;

      for (r = 0; r < runs; r++)
        {
          g_autoptr(PmDevice) device = pm_device_new (acceptor, 0, "patch-cost", PM_API_VERSION_NEW,
                                                      "v2.4.0", FALSE, 1);
          g_autoptr(GError) error = NULL;
          gboolean ok;
          double start;

          if (sc->fill)
            fill (device);
          start = cpu_ms ();
          ok = pm_device_update (device, body->str, body->len, &error);
          times[r] = cpu_ms () - start;
          outcome = ok ? "taken" : error->code == PM_ERROR_TOO_LARGE ? "413" : "400";
        }
      qsort (times, runs, sizeof *times, compare_doubles);
      printf ("%-18s %8" G_GSIZE_FORMAT "  %-9s %4u %10.3f %10.3f  %s\n",
              sc->name, body->len, outcome, runs, times[runs / 2], times[runs - 1], sc->what);
    }

  /* GET /api/system/info over a full store. */
  {
    g_autoptr(PmDevice) device = pm_device_new (acceptor, 0, "patch-cost", PM_API_VERSION_NEW,
                                                "v2.4.0", FALSE, 1);
    g_autoptr(GError) error = NULL;
    gsize length = 0;

    if (!pm_device_start (device, "127.0.0.1", &error))
      {
        fprintf (stderr, "patch-cost: cannot start a device: %s\n", error->message);
        return 1;
      }
    fill (device);
    for (r = 0; r < runs; r++)
      {
        g_autofree char *info = NULL;
        double start = cpu_ms ();

        info = pm_device_dup_info (device);
        times[r] = cpu_ms () - start;
        length = strlen (info);
      }
    pm_device_stop (device);
    qsort (times, runs, sizeof *times, compare_doubles);
    printf ("%-18s %8" G_GSIZE_FORMAT "  %-9s %4u %10.3f %10.3f  %s\n",
            "get-info-full", length, "200", runs, times[runs / 2], times[runs - 1],
            "GET /api/system/info body over a full store");
  }

  return 0;
}
