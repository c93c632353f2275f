/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of shaping/: profile validation, the policer and the shaper
 * against a fake TSC of 2.6 GHz. No EAL: the frames are bare mbuf headers
 * (the module reads only pkt_len) from a static pool.
 *
 * Traffic is simulated as a worker sees it: frames arrive evenly spaced at
 * the offered rate and are polled every POLL cycles, up to 32 at a time.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "shaping/shaping.h"

#define HZ UINT64_C(2600000000)
#define MS (HZ / 1000)
#define US (HZ / 1000000)
#define POLL (10 * US) /* a worker polls the port every 10 us */
#define BURST 32
#define POOL 1024 /* frames: a full queue plus bursts in flight */

#define KBIT UINT64_C(1000)
#define MBIT UINT64_C(1000000)
#define GBIT UINT64_C(1000000000)

/* A static pool of frame headers, with a free stack. */
static struct rte_mbuf pool[POOL];
static struct rte_mbuf *free_stack[POOL];
static unsigned n_free;
static uint32_t next_seq; /* a frame's arrival order, kept in hash.usr */

static void
pool_reset(void)
{
	for (n_free = 0; n_free < POOL; n_free++)
		free_stack[n_free] = &pool[POOL - 1 - n_free];
	next_seq = 1;
}

static struct rte_mbuf *
frame_get(uint32_t len)
{
	struct rte_mbuf *m;

	assert_true(n_free > 0);
	m = free_stack[--n_free];
	m->pkt_len = len;
	m->data_len = len > UINT16_MAX ? UINT16_MAX : len;
	m->hash.usr = next_seq++;
	return m;
}

static void
frame_put(struct rte_mbuf *m)
{
	assert_true(n_free < POOL);
	free_stack[n_free++] = m;
}

/* A cache-aligned state, as shp_state_create() would make without the EAL. */
static struct shp_state *
state_new(unsigned queue_size, const struct shp_profile *p, uint64_t now)
{
	struct shp_state *st = aligned_alloc(RTE_CACHE_LINE_SIZE, shp_state_memsize(queue_size));

	assert_non_null(st);
	assert_int_equal(shp_state_init(st, queue_size, p, now), 0);
	return st;
}

static void
profile(struct shp_profile *p, uint64_t avg, uint64_t peak, uint64_t burst, enum shp_mode mode)
{
	struct shp_params c = {
		.average_bps = avg,
		.peak_bps = peak,
		.burst_bytes = burst,
		.mode = mode,
	};

	assert_int_equal(shp_profile_init(p, &c, HZ), 0);
}

/* Bytes a rate of bps carries in cycles TSC cycles (rounded down). */
static uint64_t
bytes_in(uint64_t bps, uint64_t cycles)
{
	return (uint64_t)((unsigned __int128)bps * cycles / (8 * HZ));
}

/* Evenly spaced arrivals: one frame every step + rem/den cycles. */
struct gen {
	uint64_t t; /* arrival TSC of the next frame */
	uint64_t step; /* whole cycles between frames */
	uint64_t rem; /* and the fraction rem / den */
	uint64_t den;
	uint64_t acc; /* accumulated fraction, < den */
};

static void
gen_init(struct gen *g, uint64_t bps, uint32_t len, uint64_t t0)
{
	uint64_t num = (uint64_t)len * 8 * HZ;

	g->t = t0;
	g->step = num / bps;
	g->rem = num % bps;
	g->den = bps;
	g->acc = 0;
}

static void
gen_next(struct gen *g)
{
	g->t += g->step;
	g->acc += g->rem;
	if (g->acc >= g->den) {
		g->acc -= g->den;
		g->t++;
	}
}

/* One simulated run of a port's traffic through a profile and a state. */
struct sim {
	const struct shp_profile *p; /* the profile in force (its mode picks the path) */
	struct shp_state *st;
	uint64_t offered_packets; /* this run */
	uint64_t offered_bytes;
	uint64_t passed_packets; /* passed (police) or released (shape), this run */
	uint64_t passed_bytes;
	uint64_t first_poll; /* TSC of the first poll that saw a frame; 0: none yet */
	uint64_t last_poll; /* TSC of the last poll */
	uint32_t last_seq; /* the last passed frame's seq: passes keep arrival order */
	uint32_t max_queue; /* most frames ever queued */
	uint64_t *log_t; /* optional: per poll, its TSC ... */
	uint64_t *log_bytes; /* ... and passed_bytes after it */
	size_t n_log, log_cap;
};

static void
sim_passed(struct sim *s, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		assert_true(pkts[i]->hash.usr > s->last_seq);
		s->last_seq = pkts[i]->hash.usr;
		s->passed_packets++;
		s->passed_bytes += pkts[i]->pkt_len;
		frame_put(pkts[i]);
	}
}

/*
 * Offer frames of len bytes at bps from t0 (first arrival) until t_end,
 * polling every POLL cycles. Polls with nothing to do are skipped, unless
 * the run keeps a log (one entry per poll).
 */
static void
sim_run(struct sim *s, uint64_t bps, uint32_t len, uint64_t t0, uint64_t t_end)
{
	struct rte_mbuf *burst[BURST], *out[BURST];
	uint64_t now = t0;
	struct gen g;
	uint16_t n, k, i;

	gen_init(&g, bps, len, t0);
	for (;;) {
		now += POLL;
		if (s->log_t == NULL && shp_queue_count(s->st) == 0 && g.t > now)
			now += (g.t - now + POLL - 1) / POLL * POLL;
		if (now > t_end)
			break;
		if (s->first_poll == 0)
			s->first_poll = now;
		do {
			for (n = 0; n < BURST && g.t <= now; n++, gen_next(&g))
				burst[n] = frame_get(len);
			s->offered_packets += n;
			s->offered_bytes += (uint64_t)n * len;
			if (s->p->mode == SHP_MODE_POLICE) {
				k = shp_police(s->p, s->st, burst, n, now);
				sim_passed(s, burst, k);
				for (i = k; i < n; i++)
					frame_put(burst[i]);
				continue;
			}
			k = shp_shape_enqueue(s->st, burst, n);
			/* Tail drop: the ones refused are the newest. */
			for (i = k; i < n; i++) {
				if (k > 0)
					assert_true(burst[i]->hash.usr > burst[k - 1]->hash.usr);
				frame_put(burst[i]);
			}
			assert_true(shp_queue_count(s->st) <= s->st->q_size);
			s->max_queue = RTE_MAX(s->max_queue, shp_queue_count(s->st));
			do {
				k = shp_shape_release(s->p, s->st, now, out, BURST);
				sim_passed(s, out, k);
			} while (k == BURST);
		} while (n == BURST);
		s->last_poll = now;
		if (s->log_t != NULL) {
			assert_true(s->n_log < s->log_cap);
			s->log_t[s->n_log] = now;
			s->log_bytes[s->n_log++] = s->passed_bytes;
		}
	}
}

/* Give the frames still queued back to the pool. */
static void
state_free(struct shp_state *st)
{
	struct rte_mbuf *out[BURST];
	uint16_t k;

	while ((k = shp_shape_drain(st, out, BURST)) > 0)
		for (uint16_t i = 0; i < k; i++)
			frame_put(out[i]);
	free(st);
}

static void
test_drop_names(void **state)
{
	assert_string_equal(shp_drop_name(SHP_DROP_EXCEED), "shaping_exceed");
	assert_string_equal(shp_drop_name(SHP_DROP_QUEUE_FULL), "shaping_queue_full");
	assert_string_equal(shp_drop_name(SHP_DROP_FLUSHED), "shaping_flushed");
	assert_string_equal(shp_drop_name(SHP_DROP_MAX), "unknown");
}

static void
test_profile_validation(void **state)
{
	const struct shp_params ok = {
		.average_bps = 100 * MBIT,
		.peak_bps = 200 * MBIT,
		.burst_bytes = 100 * 1024 * 1024, /* vSphere's default: 102400 KB */
		.mode = SHP_MODE_POLICE,
	};
	struct shp_params c;
	struct shp_profile p;

	assert_int_equal(shp_profile_init(&p, &ok, HZ), 0);
	assert_int_equal(p.byte_cost, 8 * HZ);
	assert_int_equal(p.avg_rate, 100 * MBIT);
	assert_int_equal(p.peak_rate, 200 * MBIT);
	assert_int_equal(p.avg_depth, (int64_t)(100 * 1024 * 1024) * 8 * HZ);
	assert_int_equal(p.params.frame_max, SHP_FRAME_MAX_DEFAULT);
	/* Default peak depth: 1 ms at 200 Mbit/s is 25000 bytes. */
	assert_int_equal(p.params.peak_burst_bytes, 25000);
	assert_int_equal(p.peak_depth, (int64_t)25000 * 8 * HZ);
	assert_int_equal(p.hz, HZ);

	/* 1 ms at 10 Gbit/s: 1250000 bytes; at 10 Mbit/s the two-frame floor. */
	c = ok, c.average_bps = 10 * GBIT, c.peak_bps = 10 * GBIT;
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);
	assert_int_equal(p.params.peak_burst_bytes, 1250000);
	c = ok, c.average_bps = 10 * MBIT, c.peak_bps = 10 * MBIT;
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);
	assert_int_equal(p.params.peak_burst_bytes, 2 * 1518);

	/* Edges that are fine. */
	c = ok, c.peak_bps = c.average_bps;
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);
	c = ok, c.mode = SHP_MODE_SHAPE;
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);
	assert_int_equal(p.mode, SHP_MODE_SHAPE);
	c = ok, c.average_bps = c.peak_bps = SHP_RATE_MIN, c.burst_bytes = 1518;
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);
	c = ok, c.average_bps = c.peak_bps = SHP_RATE_MAX;
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);
	c = ok, c.frame_max = 9018, c.burst_bytes = 9018, c.peak_burst_bytes = 9018;
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);
	c = ok, c.burst_bytes = 200 * 1000 * 1000; /* 200 MB fits at 2.6 GHz */
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);

	/* Refused, and each refusal leaves nothing half-built behind. */
	c = ok, c.peak_bps = c.average_bps - 1;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.average_bps = 0;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.average_bps = 0, c.peak_bps = 0;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.peak_bps = 0;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.average_bps = c.peak_bps = SHP_RATE_MIN - 1;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.peak_bps = SHP_RATE_MAX + 1;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.burst_bytes = 0;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.burst_bytes = 1517; /* smaller than one frame */
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.frame_max = 9018, c.burst_bytes = 9000;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.peak_burst_bytes = 1000;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.frame_max = 59;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.frame_max = SHP_LEN_MAX + 1;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.burst_bytes = 1000 * 1000 * 1000; /* 1 GB: too deep at 2.6 GHz */
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.burst_bytes = UINT64_MAX;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	c = ok, c.mode = (enum shp_mode)7;
	assert_int_equal(shp_profile_init(&p, &c, HZ), -EINVAL);
	assert_int_equal(shp_profile_init(&p, &ok, 0), -EINVAL);
	assert_int_equal(shp_profile_init(&p, &ok, SHP_HZ_MAX + 1), -EINVAL);
}

static void
test_state_init(void **state)
{
	struct shp_profile p;
	struct shp_state *st;

	profile(&p, 10 * MBIT, 10 * MBIT, 16384, SHP_MODE_SHAPE);
	assert_int_equal(shp_state_memsize(0) % RTE_CACHE_LINE_SIZE, 0);
	assert_int_equal(shp_state_memsize(256) % RTE_CACHE_LINE_SIZE, 0);
	assert_true(shp_state_memsize(256) >= sizeof(struct shp_state) + 256 * sizeof(void *));
	st = aligned_alloc(RTE_CACHE_LINE_SIZE, shp_state_memsize(SHP_QUEUE_MAX));
	assert_non_null(st);
	assert_int_equal(shp_state_init(st, 3, &p, 0), -EINVAL);
	assert_int_equal(shp_state_init(st, SHP_QUEUE_MAX * 2, &p, 0), -EINVAL);
	assert_int_equal(shp_state_init(st, SHP_QUEUE_MAX, &p, 5), 0);
	assert_int_equal(st->q_size, SHP_QUEUE_MAX);
	assert_int_equal(st->avg_tokens, p.avg_depth);
	assert_int_equal(st->peak_tokens, p.peak_depth);
	assert_int_equal(st->last_tsc, 5);
	assert_int_equal(shp_queue_count(st), 0);
	assert_int_equal(shp_state_init(st, 0, &p, 0), 0);
	free(st);
	shp_state_destroy(NULL);
}

/* The policer splits a burst in place: passing frames first, in order. */
static void
test_police_partition(void **state)
{
	static const uint32_t lens[] = {1000, 1518, 1000, 64, 1518, 100};
	struct shp_params c = {
		.average_bps = 1 * MBIT,
		.peak_bps = 1 * MBIT,
		.burst_bytes = 3000,
		.peak_burst_bytes = 100000,
		.mode = SHP_MODE_POLICE,
	};
	struct rte_mbuf *pkts[6], *orig[6];
	struct shp_profile p;
	struct shp_state *st;
	unsigned i;

	pool_reset();
	assert_int_equal(shp_profile_init(&p, &c, HZ), 0);
	st = state_new(0, &p, 0);
	for (i = 0; i < 6; i++)
		orig[i] = pkts[i] = frame_get(lens[i]);
	/* 3000 bytes of credit: 1000, 1518 pass (482 left), 1000 not, 64 and 100 pass. */
	assert_int_equal(shp_police(&p, st, pkts, 6, 0), 4);
	assert_ptr_equal(pkts[0], orig[0]);
	assert_ptr_equal(pkts[1], orig[1]);
	assert_ptr_equal(pkts[2], orig[3]);
	assert_ptr_equal(pkts[3], orig[5]);
	assert_true((pkts[4] == orig[2] && pkts[5] == orig[4]) ||
		(pkts[4] == orig[4] && pkts[5] == orig[2]));
	assert_int_equal(st->stats.conform_packets, 4);
	assert_int_equal(st->stats.conform_bytes, 1000 + 1518 + 64 + 100);
	assert_int_equal(st->stats.drops[SHP_DROP_EXCEED], 2);
	assert_int_equal(st->stats.dropped_bytes, 1000 + 1518);
	assert_int_equal(st->avg_tokens, (int64_t)318 * p.byte_cost);

	/* Frame by frame, the same decisions; 8 ms at 1 Mbit/s is 1000 bytes more. */
	shp_refill(&p, st, 8 * MS);
	assert_int_equal(st->avg_tokens, (int64_t)1318 * p.byte_cost);
	assert_false(shp_police_frame(&p, st, 1518));
	assert_true(shp_police_frame(&p, st, 1318));
	assert_false(shp_police_frame(&p, st, 1));
	assert_int_equal(st->stats.conform_packets, 5);
	assert_int_equal(st->stats.drops[SHP_DROP_EXCEED], 4);
	assert_int_equal(st->stats.dropped_bytes, 1000 + 1518 + 1518 + 1);

	/* An empty burst only refills; a clock that went back adds nothing. */
	assert_int_equal(shp_police(&p, st, pkts, 0, 4 * MS), 0);
	assert_int_equal(st->avg_tokens, 0);
	assert_int_equal(st->last_tsc, 8 * MS);
	free(st);
}

/*
 * Offered twice the average for a long time: the rate that passes is the
 * average within 1 % (in fact within two frames and one poll of credit of
 * burst + average * time, which it never exceeds).
 */
static void
long_run(uint64_t avg, uint32_t len, enum shp_mode mode, uint64_t duration)
{
	uint64_t burst = RTE_MAX(bytes_in(avg, 2 * MS), (uint64_t)16384), expect, t;
	struct sim s = {0};
	struct shp_profile p;
	double rate, err;

	pool_reset();
	profile(&p, avg, avg * 3 / 2, burst, mode);
	s.p = &p;
	s.st = state_new(SHP_QUEUE_DEFAULT, &p, 0);
	sim_run(&s, 2 * avg, len, 0, duration);

	t = s.last_poll - s.first_poll;
	expect = burst + bytes_in(avg, t);
	rate = (double)s.passed_bytes * 8 * HZ / (double)(s.last_poll);
	err = (rate - (double)avg) / (double)avg;
	print_message("%-6s %5.0f Mbit/s %4u B: %.6f Mbit/s (%+.4f %%), queue max %u\n",
		mode == SHP_MODE_POLICE ? "police" : "shape", (double)avg / 1e6, len, rate / 1e6,
		err * 100, s.max_queue);
	assert_true(s.passed_bytes <= expect);
	assert_true(s.passed_bytes + 2 * len + bytes_in(avg, POLL) >= expect);
	assert_true(err < 0.01 && err > -0.01);
	assert_true(s.passed_packets > 0 && s.passed_packets < s.offered_packets);

	/* The counters add up. */
	assert_int_equal(s.st->stats.conform_packets, s.passed_packets);
	assert_int_equal(s.st->stats.conform_bytes, s.passed_bytes);
	if (mode == SHP_MODE_POLICE) {
		assert_int_equal(s.st->stats.conform_packets + s.st->stats.drops[SHP_DROP_EXCEED],
			s.offered_packets);
		assert_int_equal(
			s.st->stats.conform_bytes + s.st->stats.dropped_bytes, s.offered_bytes);
		assert_int_equal(s.st->stats.queued_packets, 0);
	} else {
		assert_int_equal(s.st->stats.drops[SHP_DROP_EXCEED], 0);
		assert_int_equal(
			s.st->stats.queued_packets + s.st->stats.drops[SHP_DROP_QUEUE_FULL],
			s.offered_packets);
		assert_int_equal(
			s.st->stats.queued_bytes + s.st->stats.dropped_bytes, s.offered_bytes);
		assert_int_equal(s.st->stats.conform_packets + shp_queue_count(s.st),
			s.st->stats.queued_packets);
		assert_int_equal(s.max_queue, SHP_QUEUE_DEFAULT);
	}
	state_free(s.st);
}

static void
test_police_long_run(void **state)
{
	static const uint64_t rates[] = {10 * MBIT, 100 * MBIT, 500 * MBIT};

	for (unsigned i = 0; i < RTE_DIM(rates); i++) {
		long_run(rates[i], 64, SHP_MODE_POLICE, 10 * HZ);
		long_run(rates[i], 1518, SHP_MODE_POLICE, 10 * HZ);
	}
	/* 10 Gbit/s for 1 s: already 39 million frames of 64 bytes offered. */
	long_run(10 * GBIT, 64, SHP_MODE_POLICE, HZ);
	long_run(10 * GBIT, 1518, SHP_MODE_POLICE, HZ);
}

static void
test_shape_long_run(void **state)
{
	static const uint64_t rates[] = {10 * MBIT, 100 * MBIT, 500 * MBIT};

	for (unsigned i = 0; i < RTE_DIM(rates); i++) {
		long_run(rates[i], 64, SHP_MODE_SHAPE, 10 * HZ);
		long_run(rates[i], 1518, SHP_MODE_SHAPE, 10 * HZ);
	}
	long_run(10 * GBIT, 64, SHP_MODE_SHAPE, HZ);
	long_run(10 * GBIT, 1518, SHP_MODE_SHAPE, HZ);
}

/* Bytes passed in the window (log_t[i], log_t[j]]. */
static uint64_t
logged(const struct sim *s, size_t i, size_t j)
{
	return s->log_bytes[j] - s->log_bytes[i];
}

/*
 * After a long idle, offered twice the peak (the peak is four times the
 * average): the port sends at the peak rate until burst_bytes above the
 * average are spent, then at the average; the peak rate holds over every
 * window.
 */
static void
burst_after_idle(uint64_t avg, uint32_t len, enum shp_mode mode)
{
	const uint64_t peak = 4 * avg, burst = bytes_in(avg, 80 * MS), t0 = 1 * HZ;
	const uint64_t windows[] = {POLL, 100 * US, 1 * MS, 10 * MS};
	struct sim s = {0};
	struct shp_profile p;
	uint64_t pd, excess, t;
	size_t i, j, w, span;

	pool_reset();
	profile(&p, avg, peak, burst, mode);
	pd = p.params.peak_burst_bytes;
	s.p = &p;
	s.st = state_new(SHP_QUEUE_DEFAULT, &p, 0);
	s.log_cap = 100 * MS / POLL + 2;
	s.log_t = calloc(s.log_cap, sizeof(*s.log_t));
	s.log_bytes = calloc(s.log_cap, sizeof(*s.log_bytes));
	assert_non_null(s.log_t);
	assert_non_null(s.log_bytes);
	/* Idle from 0 to t0 (1 s), then 100 ms of traffic. */
	sim_run(&s, 2 * peak, len, t0, t0 + 100 * MS);
	assert_int_equal(s.first_poll, t0 + POLL);

	/* The burst: what passed beyond the average rate is burst_bytes, within one frame. */
	t = s.last_poll - s.first_poll;
	excess = s.passed_bytes - bytes_in(avg, t);
	print_message("%-6s %5.0f Mbit/s: burst %" PRIu64 " bytes, excess %" PRIu64 "\n",
		mode == SHP_MODE_POLICE ? "police" : "shape", (double)avg / 1e6, burst, excess);
	assert_true(excess <= burst);
	assert_true(excess + len >= burst);

	/* The burst leaves at the peak rate: burst / (peak - average) = 26.7 ms of it. */
	j = 20 * MS / POLL;
	assert_int_equal(s.log_t[j], t0 + POLL + 20 * MS);
	assert_true(logged(&s, 0, j) <= bytes_in(peak, 20 * MS) + pd);
	assert_true(logged(&s, 0, j) + 2 * len >= bytes_in(peak, 20 * MS));
	/* Then at the average rate. */
	i = 40 * MS / POLL;
	assert_true(logged(&s, i, s.n_log - 1) <=
		bytes_in(avg, s.log_t[s.n_log - 1] - s.log_t[i]) + len);
	assert_true(logged(&s, i, s.n_log - 1) + 2 * len >=
		bytes_in(avg, s.log_t[s.n_log - 1] - s.log_t[i]));

	/* The peak caps every window: at most its depth plus the peak rate's worth. */
	for (w = 0; w < RTE_DIM(windows); w++) {
		span = windows[w] / POLL;
		for (i = 0; i + span < s.n_log; i++)
			assert_true(logged(&s, i, i + span) <= pd + bytes_in(peak, windows[w]));
	}
	/* And from the first poll on, counting the full peak bucket at the start. */
	for (i = 0; i < s.n_log; i++)
		assert_true(s.log_bytes[i] <= pd + bytes_in(peak, s.log_t[i] - s.first_poll));

	free(s.log_t);
	free(s.log_bytes);
	state_free(s.st);
}

static void
test_burst_and_peak(void **state)
{
	static const uint64_t rates[] = {10 * MBIT, 100 * MBIT, 500 * MBIT, 10 * GBIT};

	for (unsigned i = 0; i < RTE_DIM(rates); i++) {
		burst_after_idle(rates[i], 1518, SHP_MODE_POLICE);
		burst_after_idle(rates[i], 1518, SHP_MODE_SHAPE);
	}
	burst_after_idle(100 * MBIT, 64, SHP_MODE_POLICE);
	burst_after_idle(100 * MBIT, 64, SHP_MODE_SHAPE);
}

/* With peak = average there is no burst above the average rate. */
static void
test_peak_equals_average(void **state)
{
	struct sim s = {0};
	struct shp_profile p;

	pool_reset();
	profile(&p, 100 * MBIT, 100 * MBIT, 1000000, SHP_MODE_POLICE);
	s.p = &p;
	s.st = state_new(0, &p, 0);
	sim_run(&s, 1 * GBIT, 1518, HZ, HZ + 100 * MS);
	/* Only the peak bucket's depth (1 ms at 100 Mbit/s) beyond the average. */
	assert_true(s.passed_bytes <= 12500 + bytes_in(100 * MBIT, s.last_poll - s.first_poll));
	state_free(s.st);
}

/* The shape queue: bounded, tail drop, FIFO release on credit, drain. */
static void
test_shape_queue(void **state)
{
	struct rte_mbuf *pkts[8], *orig[8], *out[16];
	struct shp_profile p;
	struct shp_state *st;
	unsigned i;

	pool_reset();
	/* 1518 bytes at 10 Mbit/s take 1.2144 ms; the buckets start with 2 frames. */
	profile(&p, 10 * MBIT, 10 * MBIT, 2 * 1518, SHP_MODE_SHAPE);
	st = state_new(8, &p, 0);

	for (i = 0; i < 5; i++)
		orig[i] = pkts[i] = frame_get(1518);
	assert_int_equal(shp_shape_enqueue(st, pkts, 5), 5);
	assert_int_equal(shp_queue_count(st), 5);
	for (i = 0; i < 5; i++)
		orig[i] = pkts[i] = frame_get(1518);
	/* Three fit; the last two come back, in place. */
	assert_int_equal(shp_shape_enqueue(st, pkts, 5), 3);
	assert_ptr_equal(pkts[3], orig[3]);
	assert_ptr_equal(pkts[4], orig[4]);
	assert_int_equal(shp_queue_count(st), 8);
	assert_int_equal(st->stats.queued_packets, 8);
	assert_int_equal(st->stats.queued_bytes, 8 * 1518);
	assert_int_equal(st->stats.drops[SHP_DROP_QUEUE_FULL], 2);
	assert_int_equal(st->stats.dropped_bytes, 2 * 1518);
	frame_put(pkts[3]);
	frame_put(pkts[4]);
	/* Full: nothing more goes in. */
	pkts[0] = frame_get(64);
	assert_int_equal(shp_shape_enqueue(st, pkts, 1), 0);
	assert_int_equal(shp_queue_count(st), 8);
	assert_int_equal(st->stats.drops[SHP_DROP_QUEUE_FULL], 3);
	frame_put(pkts[0]);

	/* At time 0 the two frames of burst credit leave, oldest first. */
	assert_int_equal(shp_shape_release(&p, st, 0, out, 16), 2);
	assert_int_equal(out[0]->hash.usr, 1);
	assert_int_equal(out[1]->hash.usr, 2);
	/* Just under one frame time later: nothing; at one frame time: one. */
	assert_int_equal(shp_shape_release(&p, st, 1518 * 8 * HZ / (10 * MBIT) - 1, out, 16), 0);
	assert_int_equal(shp_shape_release(&p, st, 1518 * 8 * HZ / (10 * MBIT), out, 16), 1);
	assert_int_equal(out[0]->hash.usr, 3);
	/* Much later: the bucket holds two frames, max limits the rest. */
	assert_int_equal(shp_shape_release(&p, st, HZ, out, 1), 1);
	assert_int_equal(out[0]->hash.usr, 4);
	assert_int_equal(shp_shape_release(&p, st, HZ, out, 16), 1);
	assert_int_equal(out[0]->hash.usr, 5);
	assert_int_equal(shp_shape_release(&p, st, HZ, out, 16), 0);
	assert_int_equal(shp_queue_count(st), 3);
	assert_int_equal(st->stats.conform_packets, 5);
	assert_int_equal(st->stats.conform_bytes, 5 * 1518);

	/* The queue wraps around and keeps its order. */
	for (i = 0; i < 5; i++)
		pkts[i] = frame_get(1518);
	assert_int_equal(shp_shape_enqueue(st, pkts, 5), 5);
	assert_int_equal(shp_shape_release(&p, st, 2 * HZ, out, 16), 2);
	assert_int_equal(out[0]->hash.usr, 6);
	assert_int_equal(out[1]->hash.usr, 7);

	/* Drain: everything left, in order, counted as flushed. */
	assert_int_equal(shp_shape_drain(st, out, 16), 6);
	assert_int_equal(out[0]->hash.usr, 8);
	assert_int_equal(out[1]->hash.usr, 12);
	assert_int_equal(out[5]->hash.usr, 16);
	assert_int_equal(shp_queue_count(st), 0);
	assert_int_equal(st->stats.drops[SHP_DROP_FLUSHED], 6);
	assert_int_equal(shp_shape_release(&p, st, 3 * HZ, out, 16), 0);
	free(st);

	/* A police-only state has no queue: shaping through it drops. */
	st = state_new(0, &p, 0);
	pkts[0] = frame_get(64);
	assert_int_equal(shp_shape_enqueue(st, pkts, 1), 0);
	assert_int_equal(st->stats.drops[SHP_DROP_QUEUE_FULL], 1);
	free(st);
}

/*
 * A live change of profile keeps the counters, the burst credit (clamped
 * to the new depth) and the queued frames.
 */
static void
test_live_change(void **state)
{
	struct shp_params fast_params = {
		.average_bps = 1 * GBIT,
		.peak_bps = 1 * GBIT,
		.burst_bytes = 1000000,
		.peak_burst_bytes = 1000000,
		.mode = SHP_MODE_SHAPE,
	};
	struct shp_profile a, b, c, slow, fast;
	struct rte_mbuf *pkts[BURST], *out[BURST];
	struct shp_stats before;
	struct sim s = {0};
	struct shp_state *st;
	uint64_t now, t;
	unsigned i;
	uint16_t k;

	pool_reset();
	profile(&a, 100 * MBIT, 400 * MBIT, 1000000, SHP_MODE_POLICE);
	profile(&b, 200 * MBIT, 800 * MBIT, 4000000, SHP_MODE_POLICE);
	profile(&c, 100 * MBIT, 400 * MBIT, 65536, SHP_MODE_POLICE);
	st = state_new(SHP_QUEUE_DEFAULT, &a, 0);

	/* Some history under a. */
	for (i = 0; i < BURST; i++)
		pkts[i] = frame_get(1518);
	k = shp_police(&a, st, pkts, BURST, 0);
	assert_int_equal(k, 50000 / 1518); /* the peak bucket: 1 ms at 400 Mbit/s */
	for (i = 0; i < BURST; i++)
		frame_put(pkts[i]);
	/* Idle a second: a's buckets are full again. */
	assert_int_equal(shp_police(&a, st, pkts, 0, HZ), 0);
	assert_int_equal(st->avg_tokens, a.avg_depth);
	before = st->stats;

	/* Change to b: same credit (neither reset to b's depth nor emptied), same counters. */
	assert_int_equal(shp_police(&b, st, pkts, 0, HZ), 0);
	assert_int_equal(st->avg_tokens, a.avg_depth);
	assert_memory_equal(&st->stats, &before, sizeof(before));

	/*
	 * Under b, offered 2 Gbit/s for 100 ms: a's 1 MB of burst, then b's
	 * average (credited from the last refill, at HZ).
	 */
	s.p = &b;
	s.st = st;
	sim_run(&s, 2 * GBIT, 1518, HZ, HZ + 100 * MS);
	t = s.last_poll - HZ;
	assert_true(s.passed_bytes <= 1000000 + bytes_in(200 * MBIT, t));
	assert_true(s.passed_bytes + 1518 >= 1000000 + bytes_in(200 * MBIT, t));
	assert_int_equal(st->stats.conform_packets, before.conform_packets + s.passed_packets);
	assert_int_equal(st->stats.drops[SHP_DROP_EXCEED],
		before.drops[SHP_DROP_EXCEED] + s.offered_packets - s.passed_packets);

	/* Idle under b fills to b's 4 MB; a change to c clamps to c's 64 KB. */
	now = s.last_poll + HZ;
	assert_int_equal(shp_police(&b, st, pkts, 0, now), 0);
	assert_int_equal(st->avg_tokens, b.avg_depth);
	assert_int_equal(shp_police(&c, st, pkts, 0, now + 1), 0);
	assert_int_equal(st->avg_tokens, c.avg_depth);
	assert_int_equal(st->peak_tokens, c.peak_depth);
	free(st);

	/* Shape: frames queued under a slow profile all leave, in order, under a fast one. */
	pool_reset();
	profile(&slow, 1 * MBIT, 1 * MBIT, 1518, SHP_MODE_SHAPE);
	assert_int_equal(shp_profile_init(&fast, &fast_params, HZ), 0);
	st = state_new(SHP_QUEUE_DEFAULT, &slow, 0);
	for (i = 0; i < BURST; i++)
		pkts[i] = frame_get(1000);
	assert_int_equal(shp_shape_enqueue(st, pkts, BURST), BURST);
	assert_int_equal(shp_shape_release(&slow, st, 0, out, BURST), 1);
	frame_put(out[0]);
	assert_int_equal(shp_shape_release(&slow, st, MS, out, BURST), 0);
	before = st->stats;
	/* 1 ms at 1 Gbit/s is 125000 bytes: everything left goes. */
	k = shp_shape_release(&fast, st, 2 * MS, out, BURST);
	assert_int_equal(k, BURST - 1);
	for (i = 0; i < k; i++) {
		assert_int_equal(out[i]->hash.usr, i + 2);
		frame_put(out[i]);
	}
	assert_int_equal(st->stats.conform_packets, before.conform_packets + BURST - 1);
	assert_int_equal(st->stats.queued_packets, BURST);
	assert_int_equal(st->stats.dropped_bytes, 0);
	/* And a change of mode to police still drains what is queued. */
	pkts[0] = frame_get(1000);
	assert_int_equal(shp_shape_enqueue(st, pkts, 1), 1);
	fast.mode = SHP_MODE_POLICE;
	assert_int_equal(shp_shape_release(&fast, st, 3 * MS, out, BURST), 1);
	frame_put(out[0]);
	free(st);
}

/*
 * A frame larger than a bucket (here a 9018-byte jumbo frame through a
 * profile made for 1518) passes when the bucket is full and leaves a debt:
 * no head-of-line block in the queue, and the long-run rate still holds.
 */
static void
test_oversize_frames(void **state)
{
	struct shp_profile p;
	struct sim s = {0};
	uint64_t expect;

	pool_reset();
	profile(&p, 10 * MBIT, 10 * MBIT, 1518, SHP_MODE_SHAPE);
	s.p = &p;
	s.st = state_new(SHP_QUEUE_DEFAULT, &p, 0);
	sim_run(&s, 20 * MBIT, 9018, 0, 10 * HZ);
	expect = 1518 + bytes_in(10 * MBIT, s.last_poll - s.first_poll);
	assert_true(s.passed_packets > 1000);
	assert_true(s.passed_bytes <= expect + 9018);
	/* Frames wait for full buckets, seen only at polls: a little credit is lost. */
	assert_true(s.passed_bytes >= expect - expect / 100);
	state_free(s.st);

	profile(&p, 10 * MBIT, 10 * MBIT, 1518, SHP_MODE_POLICE);
	s = (struct sim){.p = &p, .st = state_new(0, &p, 0)};
	sim_run(&s, 20 * MBIT, 9018, 0, 10 * HZ);
	expect = 1518 + bytes_in(10 * MBIT, s.last_poll - s.first_poll);
	assert_true(s.passed_packets > 500);
	assert_true(s.passed_bytes <= expect + 9018);
	state_free(s.st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_profile_validation),
		cmocka_unit_test(test_state_init),
		cmocka_unit_test(test_police_partition),
		cmocka_unit_test(test_police_long_run),
		cmocka_unit_test(test_shape_long_run),
		cmocka_unit_test(test_burst_and_peak),
		cmocka_unit_test(test_peak_equals_average),
		cmocka_unit_test(test_shape_queue),
		cmocka_unit_test(test_live_change),
		cmocka_unit_test(test_oversize_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
