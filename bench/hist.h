/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A log-linear latency histogram (HDR style): values up to 2^40 with a
 * relative error under 1/HIST_SUB (1.6 %). Recording is an index
 * computation and an increment; percentiles walk the buckets once.
 */
#ifndef PORTICO_BENCH_HIST_H
#define PORTICO_BENCH_HIST_H

#include <stdint.h>
#include <string.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS) /* linear sub-buckets per power of two */
#define HIST_EXP 40 /* powers of two covered */
#define HIST_BUCKETS (HIST_SUB * (HIST_EXP + 1))

struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t n; /* values recorded */
	uint64_t sum; /* of the values, for the mean */
	uint64_t min;
	uint64_t max;
};

static inline void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static inline unsigned
hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63 - (unsigned)__builtin_clzll(v);
	if (msb >= HIST_EXP + HIST_SUB_BITS - 1)
		return HIST_BUCKETS - 1;
	shift = msb - HIST_SUB_BITS + 1;
	return (shift * HIST_SUB) + (unsigned)(v >> shift); /* v >> shift is in [SUB/2, SUB) */
}

/* The smallest value of bucket i (inverse of hist_index). */
static inline uint64_t
hist_value(unsigned i)
{
	unsigned shift;

	if (i < HIST_SUB)
		return i;
	shift = i / HIST_SUB;
	/* Bucket i = shift * SUB + (v >> shift), with v >> shift in [SUB/2... ) */
	return (uint64_t)(i - shift * HIST_SUB) << shift;
}

static inline void
hist_record(struct hist *h, uint64_t v)
{
	h->count[hist_index(v)]++;
	h->n++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* The value at quantile q (0..1). */
static inline uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen > want) {
			/* The bucket's highest value, as HDR histograms report. */
			uint64_t v = i < HIST_SUB
				? i
				: hist_value(i) + (UINT64_C(1) << (i / HIST_SUB)) - 1;

			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

#endif /* PORTICO_BENCH_HIST_H */
