/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live rates of ports (rates.h): a reading per port per second, kept by
 * dataplane port index; main lcore only.
 */
#include <errno.h>
#include <string.h>

#include "control/rates.h"

/* One port index: its last reading and the rates it gave. */
struct rate_slot {
	struct dp_port_stats last; /* the counters at last_us */
	uint64_t last_us; /* when they were read; 0: never (or the index went unused) */
	struct ctl_rate rate; /* between the two last readings */
	bool have_rate; /* rate holds two readings' difference */
};

static struct rate_slot slots[DP_MAX_PORTS];
static uint64_t last_poll_us;

/* delta per second over dt_us, rounded to nearest; 0 when the counter went back. */
static uint64_t
per_sec(uint64_t prev, uint64_t cur, uint64_t dt_us)
{
	if (cur <= prev || dt_us == 0)
		return 0;
	return (uint64_t)(((unsigned __int128)(cur - prev) * 1000000u + dt_us / 2) / dt_us);
}

void
ctl_rate_compute(const struct dp_port_stats *prev, const struct dp_port_stats *cur, uint64_t dt_us,
	struct ctl_rate *out)
{
	uint64_t dp = 0, dc = 0;

	memset(out, 0, sizeof(*out));
	out->interval_us = dt_us;
	if (dt_us == 0)
		return;
	out->rx_pps = per_sec(prev->rx_packets, cur->rx_packets, dt_us);
	out->tx_pps = per_sec(prev->tx_packets, cur->tx_packets, dt_us);
	out->rx_bps = per_sec(prev->rx_bytes, cur->rx_bytes, dt_us) * 8;
	out->tx_bps = per_sec(prev->tx_bytes, cur->tx_bytes, dt_us) * 8;
	/* Each reason on its own, so one that went back does not cancel another. */
	for (unsigned r = 0; r < DP_DROP_MAX; r++) {
		if (cur->drops[r] > prev->drops[r]) {
			dp += prev->drops[r];
			dc += cur->drops[r];
		}
	}
	out->drops_ps = per_sec(dp, dc, dt_us);
}

void
ctl_rates_poll(const bool *used, uint64_t now_us)
{
	if (last_poll_us != 0 && now_us - last_poll_us < CTL_RATES_PERIOD_US)
		return;
	last_poll_us = now_us;
	for (unsigned i = 0; i < DP_MAX_PORTS; i++) {
		struct rate_slot *s = &slots[i];
		struct dp_port_stats cur;

		if (!used[i]) {
			if (s->last_us != 0)
				memset(s, 0, sizeof(*s));
			continue;
		}
		dp_port_stats_get((uint16_t)i, &cur);
		if (s->last_us != 0) {
			ctl_rate_compute(&s->last, &cur, now_us - s->last_us, &s->rate);
			s->have_rate = true;
		}
		s->last = cur;
		s->last_us = now_us;
	}
}

int
ctl_rates_get(uint16_t index, struct ctl_rate *out)
{
	if (index >= DP_MAX_PORTS || !slots[index].have_rate)
		return -ENOENT;
	*out = slots[index].rate;
	return 0;
}

json_t *
ctl_rates_json(uint16_t index)
{
	struct ctl_rate r;

	if (ctl_rates_get(index, &r) != 0)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rx_pps", (json_int_t)r.rx_pps, "rx_bps",
		(json_int_t)r.rx_bps, "tx_pps", (json_int_t)r.tx_pps, "tx_bps",
		(json_int_t)r.tx_bps, "drops_ps", (json_int_t)r.drops_ps, "interval_ms",
		(json_int_t)((r.interval_us + 500) / 1000));
}
