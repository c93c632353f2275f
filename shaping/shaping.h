/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic shaping of one port in one direction: average rate, peak rate and
 * burst size with vSphere's semantics (vsphere-semantics.md), enforced as a
 * policer (non-conforming frames are dropped) or as a shaper (frames wait in
 * a small queue and leave as credit arrives).
 *
 * A leaf module (DPDK only). Control compiles a struct shp_profile once from
 * the configured rates and the TSC rate (shp_profile_init()); workers only
 * read it. Each worker that moves the port's traffic in one direction owns a
 * struct shp_state (the two token buckets, the shape queue, the counters), so
 * the packet path takes no lock and no atomic; with several workers on one
 * port and direction, each enforces the profile on its own share. Time is a
 * parameter (TSC cycles), so tests run with a fake clock.
 *
 * Two buckets, both of which a frame needs credit in:
 *   average: refills at average_bps, holds burst_bytes; after an idle period
 *            the port may send burst_bytes above the average rate;
 *   peak:    refills at peak_bps and holds only a little (see
 *            SHP_PEAK_WINDOW_NS), so bursts leave at no more than the peak rate.
 * Rates count Ethernet frame bytes without preamble, FCS and gap: a frame
 * costs its mbuf pkt_len (a 64-byte frame is 512 bits).
 *
 * Arithmetic: a token is 1/hz of a bit. A bucket gains exactly rate_bps
 * tokens per TSC cycle and a frame of L bytes costs L * 8 * hz tokens, so
 * the hot path multiplies once per frame and once per bucket per burst and
 * never divides or rounds: the long-run rate is exact. The unit depends only
 * on hz, which is the same for every profile of a host, so a state's tokens
 * keep their meaning when the port's profile changes: a new profile takes
 * effect at the next call, its depths clamp the credit, and neither credit
 * nor counters nor queued frames are reset.
 *
 * A frame larger than a bucket's depth (a misconfigured burst, a TSO-sized
 * mbuf) passes when that bucket is full and leaves it in debt (the token
 * counts are signed), so it neither blocks the shape queue forever nor
 * breaks the long-run rate.
 */
#ifndef PORTICO_SHAPING_H
#define PORTICO_SHAPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#define SHP_RATE_MIN UINT64_C(1000) /* bits/s: 1 Kbit/s, the UI's unit */
#define SHP_RATE_MAX UINT64_C(1000000000000) /* bits/s: 1 Tbit/s */
#define SHP_HZ_MAX (UINT64_C(1) << 36) /* a TSC up to ~68 GHz */
#define SHP_FRAME_MAX_DEFAULT 1518 /* MTU 1500 plus header and one VLAN tag, no FCS */
#define SHP_LEN_MAX 65535 /* longest frame cost counted (a TSO-sized mbuf) */
#define SHP_TOKENS_MAX (INT64_C(1) << 62) /* deepest bucket, in tokens (1/hz bit) */

/*
 * The peak bucket's depth, unless the profile sets peak_burst_bytes: the
 * larger of SHP_PEAK_MIN_FRAMES longest frames and SHP_PEAK_WINDOW_NS at the
 * peak rate. Frames reach the switch in bursts: a worker takes up to 32
 * frames at once, and guests batch their own sends (a sender paced by a
 * 1 ms timer, as iperf3 is, hands over a millisecond's frames at once). A
 * bucket of a few frames would drop traffic that keeps under the peak rate
 * over any window a person would measure (first tried: 50 us, which policed
 * a 150 Mbit/s UDP stream to 40 Mbit/s against a 1 Gbit/s peak). One
 * millisecond at the peak rate lets such batches through; the peak rate
 * holds over any window longer than that (at 10 Mbit/s the two-frame floor
 * dominates: 2 x 1518 bytes is 2.4 ms).
 */
#define SHP_PEAK_WINDOW_NS 1000000
#define SHP_PEAK_MIN_FRAMES 2

/*
 * The shape queue holds SHP_QUEUE_DEFAULT frames unless the state is made
 * with another power of two (at most SHP_QUEUE_MAX). 256 frames absorb
 * eight full bursts, enough for a TCP sender's window at the rates of a
 * shaped port on a host (the queue is per port, direction and worker) while
 * bounding the delay: 256 x 1518 bytes is 31 ms at 100 Mbit/s.
 */
#define SHP_QUEUE_DEFAULT 256
#define SHP_QUEUE_MAX 4096

/* How a profile enforces its rates. */
enum shp_mode {
	SHP_MODE_POLICE, /* drop what does not conform (vSphere, Open vSwitch) */
	SHP_MODE_SHAPE, /* queue a little and release on credit (kinder to TCP) */
};

/* Why shaping dropped a frame; the dataplane mirrors these in its own list. */
#define SHP_DROP_REASONS(X)                                                         \
	X(EXCEED, "shaping_exceed") /* police: over the average or the peak rate */ \
	X(QUEUE_FULL, "shaping_queue_full") /* shape: the queue was full */         \
	X(FLUSHED, "shaping_flushed") /* shape: queued, then flushed (reconfiguration) */

enum shp_drop {
#define SHP_DROP_ENUM(name, str) SHP_DROP_##name,
	SHP_DROP_REASONS(SHP_DROP_ENUM)
#undef SHP_DROP_ENUM
	SHP_DROP_MAX
};

/* The reason's name, as port.stats shows it; "unknown" out of range. */
const char *shp_drop_name(enum shp_drop reason);

/* A shaping policy as configured (API units: bits/s and bytes). */
struct shp_params {
	uint64_t average_bps; /* long-run rate, bits/s of frame bytes */
	uint64_t peak_bps; /* highest rate while burst credit lasts, >= average_bps */
	uint64_t burst_bytes; /* bytes a port may send above the average after idle */
	uint32_t peak_burst_bytes; /* peak bucket depth; 0: the default (SHP_PEAK_WINDOW_NS) */
	uint32_t frame_max; /* longest frame the port passes; 0: SHP_FRAME_MAX_DEFAULT */
	enum shp_mode mode; /* police or shape */
};

/*
 * A compiled profile. Immutable once built; workers only read it. Hot fields
 * first; the configured values are kept for display.
 */
struct shp_profile {
	int64_t byte_cost; /* tokens one frame byte costs: 8 * hz */
	int64_t avg_rate; /* tokens the average bucket gains per TSC cycle (= average_bps) */
	int64_t avg_depth; /* average bucket depth in tokens: burst_bytes * byte_cost */
	uint64_t avg_fill; /* cycles that fill the average bucket from its deepest debt */
	int64_t peak_rate; /* tokens the peak bucket gains per TSC cycle (= peak_bps) */
	int64_t peak_depth; /* peak bucket depth in tokens */
	uint64_t peak_fill; /* cycles that fill the peak bucket from its deepest debt */
	uint8_t mode; /* enum shp_mode */
	uint64_t hz; /* TSC cycles per second the profile was compiled for */
	struct shp_params params; /* as configured, defaults filled in */
};

/* Counters of one state (one port, one direction, one worker). */
struct shp_stats {
	uint64_t conform_packets; /* frames passed (police) or released (shape) */
	uint64_t conform_bytes; /* their frame bytes */
	uint64_t queued_packets; /* frames that entered the shape queue */
	uint64_t queued_bytes; /* their frame bytes */
	uint64_t drops[SHP_DROP_MAX]; /* frames dropped, by reason */
	uint64_t dropped_bytes; /* bytes of all dropped frames */
};

/*
 * What one worker keeps for one port and direction. Allocate
 * shp_state_memsize() bytes aligned to a cache line, or use
 * shp_state_create(). Only its worker writes it; control may read stats.
 * Every profile used with one state must be compiled for the same hz (the
 * host's TSC rate): the credit is kept in units of 1/hz bit.
 */
struct shp_state {
	int64_t avg_tokens; /* average bucket credit (1/hz bit), negative in debt */
	int64_t peak_tokens; /* peak bucket credit, negative in debt */
	uint64_t last_tsc; /* TSC of the last refill */
	uint32_t q_size; /* shape queue slots: 0 (police only) or a power of two */
	uint32_t q_mask; /* q_size - 1 */
	uint32_t q_head; /* free-running index of the oldest queued frame */
	uint32_t q_tail; /* free-running index of the next free slot */
	struct shp_stats stats; /* counters, never reset by a profile change */
	struct rte_mbuf *q[]; /* the shape queue, q_size slots */
} __rte_cache_aligned;

/*
 * Compile a profile for a TSC of hz cycles per second. Returns 0, or
 * -EINVAL when a value is out of range or inconsistent: an unknown mode, hz
 * 0 or above SHP_HZ_MAX, average_bps below SHP_RATE_MIN, peak_bps below
 * average_bps or above SHP_RATE_MAX, frame_max below 60 or above SHP_LEN_MAX,
 * burst_bytes or peak_burst_bytes smaller than frame_max, or a bucket too
 * deep for SHP_TOKENS_MAX (burst_bytes * 8 * hz; about 220 MB at 2.6 GHz).
 * Control side.
 */
int shp_profile_init(struct shp_profile *p, const struct shp_params *params, uint64_t hz);

/*
 * Bytes a state with a shape queue of queue_size frames needs (0 for a
 * police-only state); a multiple of the cache line size.
 */
size_t shp_state_memsize(unsigned queue_size);

/*
 * Initialize a state in memory of shp_state_memsize(queue_size) bytes: both
 * buckets full for profile p, last refill at now, counters zero, queue empty.
 * queue_size is 0 or a power of two up to SHP_QUEUE_MAX. Returns 0 or -EINVAL.
 */
int shp_state_init(
	struct shp_state *st, unsigned queue_size, const struct shp_profile *p, uint64_t now);

/*
 * Allocate (rte_zmalloc_socket, needs the EAL) and initialize a state.
 * Returns NULL and sets errno (EINVAL, ENOMEM) on failure.
 */
struct shp_state *shp_state_create(
	unsigned queue_size, const struct shp_profile *p, uint64_t now, int socket);

/*
 * Free a state; NULL is a no-op. Frames still queued are not freed: take
 * them out with shp_shape_drain() first.
 */
void shp_state_destroy(struct shp_state *st);

/*
 * Take up to max queued frames out of the shape queue without credit, oldest
 * first, into out; they count as SHP_DROP_FLUSHED and the caller frees them.
 * For a port going away or leaving shape mode. Returns how many.
 */
uint16_t shp_shape_drain(struct shp_state *st, struct rte_mbuf **out, uint16_t max);

/* Frames waiting in the shape queue. */
static inline uint32_t
shp_queue_count(const struct shp_state *st)
{
	return st->q_tail - st->q_head;
}

/*
 * Credit both buckets for the time since the last refill, up to the depths
 * of profile p (which may differ from the last call's: a live change). A
 * clock at or behind the last refill adds nothing. Worker lcore.
 */
static inline void
shp_refill(const struct shp_profile *p, struct shp_state *st, uint64_t now)
{
	int64_t dt = (int64_t)(now - st->last_tsc), add;

	if (unlikely(dt <= 0))
		return;
	st->last_tsc = now;
	/*
	 * Capping the cycles at the fill time keeps the product below
	 * depth + deepest debt + rate < 2^63, and comparing it with what is
	 * missing (rather than adding first) keeps the sum in range too. Credit
	 * above a smaller new depth is clamped to it.
	 */
	add = (int64_t)RTE_MIN((uint64_t)dt, p->avg_fill) * p->avg_rate;
	st->avg_tokens = add >= p->avg_depth - st->avg_tokens ? p->avg_depth : st->avg_tokens + add;
	add = (int64_t)RTE_MIN((uint64_t)dt, p->peak_fill) * p->peak_rate;
	st->peak_tokens =
		add >= p->peak_depth - st->peak_tokens ? p->peak_depth : st->peak_tokens + add;
}

/*
 * Does a frame of len bytes conform to both buckets, whose credit is *avg
 * and *peak? Takes its cost if so. A frame larger than a bucket passes when
 * that bucket is full and leaves it in debt. The burst loops below keep the
 * credit in locals (registers) and call this per frame. Worker lcore.
 */
static inline bool
shp_take_tokens(const struct shp_profile *p, int64_t *avg, int64_t *peak, uint32_t len)
{
	int64_t cost = (int64_t)RTE_MIN(len, (uint32_t)SHP_LEN_MAX) * p->byte_cost;

	if (likely(*avg >= cost && *peak >= cost) ||
		((*avg >= cost || *avg >= p->avg_depth) &&
			(*peak >= cost || *peak >= p->peak_depth))) {
		*avg -= cost;
		*peak -= cost;
		return true;
	}
	return false;
}

/* shp_take_tokens() on the state's buckets; no counters. Worker lcore. */
static inline bool
shp_take(const struct shp_profile *p, struct shp_state *st, uint32_t len)
{
	return shp_take_tokens(p, &st->avg_tokens, &st->peak_tokens, len);
}

/*
 * Police one frame of len bytes, for a pipeline that decides frame by frame:
 * call shp_refill() once per burst, then this per frame. Counts the frame as
 * conforming or as SHP_DROP_EXCEED; returns whether it passes. Worker lcore.
 */
static inline bool
shp_police_frame(const struct shp_profile *p, struct shp_state *st, uint32_t len)
{
	if (likely(shp_take(p, st, len))) {
		st->stats.conform_packets++;
		st->stats.conform_bytes += len;
		return true;
	}
	st->stats.drops[SHP_DROP_EXCEED]++;
	st->stats.dropped_bytes += len;
	return false;
}

/*
 * Police a burst at time now (TSC): each frame passes only if both buckets
 * hold its cost (pkt_len bytes). Returns how many pass; the burst is
 * partitioned in place: pkts[0..ret) are the passing frames in their
 * original order, pkts[ret..n) the dropped ones (in no particular order),
 * which the caller frees (or not, for a shared frame) and counts under its
 * own reason. One swap per passing frame, no verdict array. Worker lcore.
 */
static inline uint16_t
shp_police(const struct shp_profile *p, struct shp_state *st, struct rte_mbuf **pkts, uint16_t n,
	uint64_t now)
{
	uint64_t pass_bytes = 0, drop_bytes = 0;
	int64_t avg, peak;
	uint16_t i, k = 0;

	shp_refill(p, st, now);
	avg = st->avg_tokens;
	peak = st->peak_tokens;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = m->pkt_len;

		if (likely(shp_take_tokens(p, &avg, &peak, len))) {
			pkts[i] = pkts[k];
			pkts[k++] = m;
			pass_bytes += len;
		} else {
			drop_bytes += len;
		}
	}
	st->avg_tokens = avg;
	st->peak_tokens = peak;
	st->stats.conform_packets += k;
	st->stats.conform_bytes += pass_bytes;
	st->stats.drops[SHP_DROP_EXCEED] += n - k;
	st->stats.dropped_bytes += drop_bytes;
	return k;
}

/*
 * Shape mode, first half: append a burst to the state's queue. Returns how
 * many were queued: pkts[0..ret) now belong to the queue, pkts[ret..n) did
 * not fit (tail drop, counted as SHP_DROP_QUEUE_FULL) and stay the caller's
 * to free. The queue holds the pointers only: a caller that frees its
 * frames after a burst (shared frames, copying ports) takes a reference
 * first. Worker lcore.
 */
static inline uint16_t
shp_shape_enqueue(struct shp_state *st, struct rte_mbuf **pkts, uint16_t n)
{
	uint32_t room = st->q_size - shp_queue_count(st);
	uint16_t k = RTE_MIN((uint32_t)n, room), i;
	uint64_t bytes = 0;

	for (i = 0; i < k; i++) {
		st->q[(st->q_tail + i) & st->q_mask] = pkts[i];
		bytes += pkts[i]->pkt_len;
	}
	st->q_tail += k;
	st->stats.queued_packets += k;
	st->stats.queued_bytes += bytes;
	if (unlikely(k < n)) {
		bytes = 0;
		for (i = k; i < n; i++)
			bytes += pkts[i]->pkt_len;
		st->stats.drops[SHP_DROP_QUEUE_FULL] += n - k;
		st->stats.dropped_bytes += bytes;
	}
	return k;
}

/*
 * Shape mode, second half: at time now (TSC), move up to max frames the
 * buckets have credit for from the head of the queue to out, oldest first.
 * Call it on every round of the worker loop for every shaped port with
 * frames queued (shp_queue_count()), whether or not anything arrived: no
 * timer, no sleep. Works whatever the mode of p, so a queue filled under
 * shape mode keeps draining after a change to police. Returns how many.
 * Worker lcore.
 */
static inline uint16_t
shp_shape_release(const struct shp_profile *p, struct shp_state *st, uint64_t now,
	struct rte_mbuf **out, uint16_t max)
{
	uint32_t head = st->q_head, avail = st->q_tail - head;
	uint64_t bytes = 0;
	int64_t avg, peak;
	uint16_t k = 0;

	if (avail == 0)
		return 0; /* idle: the buckets catch up at the next refill */
	shp_refill(p, st, now);
	avg = st->avg_tokens;
	peak = st->peak_tokens;
	max = RTE_MIN((uint32_t)max, avail);
	while (k < max) {
		struct rte_mbuf *m = st->q[(head + k) & st->q_mask];
		uint32_t len = m->pkt_len;

		if (!shp_take_tokens(p, &avg, &peak, len))
			break;
		out[k++] = m;
		bytes += len;
	}
	st->avg_tokens = avg;
	st->peak_tokens = peak;
	st->q_head = head + k;
	st->stats.conform_packets += k;
	st->stats.conform_bytes += bytes;
	return k;
}

#endif /* PORTICO_SHAPING_H */
