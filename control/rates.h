/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live rates of ports (port.stats "rates", `portico top`): the main loop
 * reads every port's dataplane counters once a second and keeps the
 * previous reading; a rate is the difference of the last two readings over
 * the time between them. Nothing on the packet path: the counters exist
 * anyway.
 *
 * Main lcore only (one table per process, by dataplane port index).
 */
#ifndef PORTICO_CONTROL_RATES_H
#define PORTICO_CONTROL_RATES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dataplane/dp.h"

#define CTL_RATES_PERIOD_US 1000000u /* how often the counters are read */

/* A port's rates over one interval, per second. */
struct ctl_rate {
	uint64_t rx_pps; /* frames received from the port */
	uint64_t rx_bps; /* their bits (frame bytes x 8, no preamble or gap) */
	uint64_t tx_pps; /* frames delivered to the port */
	uint64_t tx_bps;
	uint64_t drops_ps; /* frames dropped for the port, all reasons */
	uint64_t interval_us; /* the interval measured */
};

/*
 * The rates between two readings dt_us apart (pure). A counter that went
 * backwards counts as 0; dt_us 0 gives all zeros.
 */
void ctl_rate_compute(const struct dp_port_stats *prev, const struct dp_port_stats *cur,
	uint64_t dt_us, struct ctl_rate *out);

/*
 * Read the counters of the ports in use (used[index], DP_MAX_PORTS entries)
 * when CTL_RATES_PERIOD_US has passed since the last reading. Main loop.
 */
void ctl_rates_poll(const bool *used, uint64_t now_us);

/* Port index's last rates; -ENOENT before two readings of it. */
int ctl_rates_get(uint16_t index, struct ctl_rate *out);

/*
 * {rx_pps, rx_bps, tx_pps, tx_bps, drops_ps, interval_ms} of port index
 * (new reference), or JSON null before two readings.
 */
json_t *ctl_rates_json(uint16_t index);

#endif /* PORTICO_CONTROL_RATES_H */
