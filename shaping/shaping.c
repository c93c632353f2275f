/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic shaping, control side: profile compile, state set-up and
 * teardown. The per-frame functions are inline in shaping.h.
 */
#include <errno.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_malloc.h>

#include "shaping/shaping.h"

static const char *const drop_names[] = {
#define SHP_DROP_NAME(name, str) [SHP_DROP_##name] = str,
	SHP_DROP_REASONS(SHP_DROP_NAME)
#undef SHP_DROP_NAME
};

const char *
shp_drop_name(enum shp_drop reason)
{
	if ((unsigned)reason >= SHP_DROP_MAX)
		return "unknown";
	return drop_names[reason];
}

/* Tokens of a bucket of bytes for byte_cost; -EINVAL when it is too deep. */
static int
depth_tokens(uint64_t bytes, uint64_t byte_cost, int64_t *depth)
{
	uint64_t t;

	if (__builtin_mul_overflow(bytes, byte_cost, &t) || t > (uint64_t)SHP_TOKENS_MAX)
		return -EINVAL;
	*depth = (int64_t)t;
	return 0;
}

int
shp_profile_init(struct shp_profile *p, const struct shp_params *params, uint64_t hz)
{
	struct shp_params c = *params;
	uint64_t peak_burst, max_debt;
	int64_t avg_depth, peak_depth;

	memset(p, 0, sizeof(*p));
	if (c.mode != SHP_MODE_POLICE && c.mode != SHP_MODE_SHAPE)
		return -EINVAL;
	if (hz == 0 || hz > SHP_HZ_MAX)
		return -EINVAL;
	if (c.average_bps < SHP_RATE_MIN || c.peak_bps < c.average_bps || c.peak_bps > SHP_RATE_MAX)
		return -EINVAL;
	if (c.frame_max == 0)
		c.frame_max = SHP_FRAME_MAX_DEFAULT;
	if (c.frame_max < RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN || c.frame_max > SHP_LEN_MAX)
		return -EINVAL;
	if (c.burst_bytes < c.frame_max)
		return -EINVAL;
	if (c.peak_burst_bytes == 0) {
		/* peak_bps <= 10^12 and the window is 5 * 10^4 ns: no overflow. */
		peak_burst = c.peak_bps * SHP_PEAK_WINDOW_NS / (UINT64_C(8) * 1000000000);
		peak_burst = RTE_MAX(peak_burst, (uint64_t)SHP_PEAK_MIN_FRAMES * c.frame_max);
		if (peak_burst > UINT32_MAX)
			return -EINVAL;
		c.peak_burst_bytes = (uint32_t)peak_burst;
	}
	if (c.peak_burst_bytes < c.frame_max)
		return -EINVAL;
	if (depth_tokens(c.burst_bytes, 8 * hz, &avg_depth) < 0 ||
		depth_tokens(c.peak_burst_bytes, 8 * hz, &peak_depth) < 0)
		return -EINVAL;

	/* The deepest debt a bucket can be in: one frame of SHP_LEN_MAX bytes. */
	max_debt = (uint64_t)SHP_LEN_MAX * 8 * hz;
	p->byte_cost = (int64_t)(8 * hz);
	p->avg_rate = (int64_t)c.average_bps;
	p->avg_depth = avg_depth;
	p->avg_fill = ((uint64_t)avg_depth + max_debt) / c.average_bps + 1;
	p->peak_rate = (int64_t)c.peak_bps;
	p->peak_depth = peak_depth;
	p->peak_fill = ((uint64_t)peak_depth + max_debt) / c.peak_bps + 1;
	p->mode = c.mode;
	p->hz = hz;
	p->params = c;
	return 0;
}

size_t
shp_state_memsize(unsigned queue_size)
{
	return RTE_ALIGN_CEIL(
		sizeof(struct shp_state) + (size_t)queue_size * sizeof(struct rte_mbuf *),
		RTE_CACHE_LINE_SIZE);
}

int
shp_state_init(struct shp_state *st, unsigned queue_size, const struct shp_profile *p, uint64_t now)
{
	if (queue_size > SHP_QUEUE_MAX || (queue_size != 0 && !rte_is_power_of_2(queue_size)))
		return -EINVAL;
	memset(st, 0, shp_state_memsize(queue_size));
	st->avg_tokens = p->avg_depth;
	st->peak_tokens = p->peak_depth;
	st->last_tsc = now;
	st->q_size = queue_size;
	st->q_mask = queue_size != 0 ? queue_size - 1 : 0;
	return 0;
}

struct shp_state *
shp_state_create(unsigned queue_size, const struct shp_profile *p, uint64_t now, int socket)
{
	struct shp_state *st;

	if (queue_size > SHP_QUEUE_MAX || (queue_size != 0 && !rte_is_power_of_2(queue_size))) {
		errno = EINVAL;
		return NULL;
	}
	st = rte_zmalloc_socket(
		"shp_state", shp_state_memsize(queue_size), RTE_CACHE_LINE_SIZE, socket);
	if (st == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	shp_state_init(st, queue_size, p, now);
	return st;
}

void
shp_state_destroy(struct shp_state *st)
{
	rte_free(st);
}

uint16_t
shp_shape_drain(struct shp_state *st, struct rte_mbuf **out, uint16_t max)
{
	uint64_t bytes = 0;
	uint16_t k = 0;

	while (k < max && st->q_head != st->q_tail) {
		struct rte_mbuf *m = st->q[st->q_head++ & st->q_mask];

		out[k++] = m;
		bytes += m->pkt_len;
	}
	st->stats.drops[SHP_DROP_FLUSHED] += k;
	st->stats.dropped_bytes += bytes;
	return k;
}
