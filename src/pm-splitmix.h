/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

/*
 * SplitMix64, the public-domain generator of Steele, Lea and Flood
 * ("Fast splittable pseudorandom number generators", OOPSLA 2014): a
 * 64-bit state that moves by a fixed odd increment, and a finaliser that
 * turns each state into 64 well-mixed bits.
 *
 * The seeded fleet, the scenario picks, the fault draws and the miners'
 * log lines all come from these two functions, so a seed gives the same
 * bytes in every version: changing either changes all of them.
 */

/* The increment: 2^64 divided by the golden ratio, made odd, so that the
 * state runs through every 64-bit value before it repeats.  The state
 * after N steps from zero is N times it. */
#define PM_SPLITMIX64_GAMMA G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)

/* The finaliser: every bit of @z stirs every bit of the result, and as
 * each step can be undone, two different inputs never give the same
 * output. */
static inline guint64
pm_splitmix64_mix (guint64 z)
{
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* The next 64 random bits of the stream @state, which moves one step. */
static inline guint64
pm_splitmix64_next (guint64 *state)
{
  *state += PM_SPLITMIX64_GAMMA;
  return pm_splitmix64_mix (*state);
}
