/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side of packet capture: the captures porticod runs, behind
 * the methods capture.start, capture.stop and capture.list.
 *
 * A capture is a capture/ session (capture/capture.h) put on its port's
 * chain (struct ctl_rt_port / ctl_rt_uplink .cap, copied into every
 * snapshot) and published with ctl_rt_republish(). The main loop polls
 * every session (ctl_capture_poll(): the pcapng writer, the count and
 * duration limits) and tears a session down once it has ended and its
 * output is complete: unlink it from the chain, publish, wait for the
 * grace period, destroy. A capture ends by its count, its duration,
 * capture.stop, an output error (a reader that went away), the end of the
 * client connection that streams it, or its port's removal. The last is
 * noticed without a hook in apply.c: a capture's port is looked up by name
 * at every poll, and a port that is gone, or was re-created (its chain no
 * longer starts with our newest capture of it), ends the capture; the
 * snapshot that dropped the port was published and its grace period waited
 * for before ctl_apply() returned, so no worker can reach the session then.
 *
 * Output: a file porticod opens itself ("file", an absolute path), or a
 * descriptor the client passed with the request ("stream": the CLI's
 * stdout for `portico capture start ... -w -`; control/server.h).
 *
 * Nothing here is on the packet path: a port without a capture has a NULL
 * chain, which the workers test once per burst (dataplane/dp.c).
 *
 * Main lcore only.
 */
#ifndef PORTICO_CONTROL_CAPTURE_H
#define PORTICO_CONTROL_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "capture/capture.h"
#include "control/apply.h"
#include "control/rpc.h"
#include "control/server.h"

#define CTL_CAP_MAX 8 /* captures at once (each has its own pool, ~9 MB of hugepages) */
#define CTL_CAP_HISTORY 16 /* ended captures capture.list still shows */
#define CTL_CAP_POLL_MS 10 /* the main loop's period while a capture runs */
#define CTL_CAP_LINGER_MS 2000 /* after its end, how long a capture may take to write the rest */
#define CTL_CAP_STOP_WAIT_MS 50 /* how long capture.stop waits for the output to complete */
#define CTL_CAP_DURATION_MAX_S (7 * 86400) /* the longest duration accepted */
#define CTL_CAP_FILTER_MAX 4096 /* the longest filter expression accepted */
#define CTL_CAP_RING_MAX 65536 /* the largest ring_size accepted */

/* A capture.start request, checked (borrowed strings: they live in the params). */
struct ctl_cap_req {
	const char *port; /* a VM port's or an uplink's name */
	enum cap_dir dir; /* default both */
	const char *filter; /* tcpdump expression; "" (the default) captures everything */
	const char *file; /* absolute path porticod writes; NULL with stream */
	bool stream; /* write to the descriptor passed with the request */
	uint64_t count; /* frames to write, then end; 0: no limit */
	uint64_t duration_ms; /* how long, then end; 0: no limit */
	uint32_t snaplen; /* bytes kept of each frame; 0: CAP_SNAPLEN_DEFAULT */
	unsigned ring_size; /* copies in flight per worker, a power of two; 0: CAP_RING_DEFAULT */
};

/*
 * Check capture.start's params (pure: no EAL, no runtime): the names and
 * ranges above, exactly one of file and stream, no unknown parameter. The
 * filter itself is compiled later. 0, or -EINVAL with err (CTL_ERR_MAX).
 */
int ctl_capture_parse(json_t *params, struct ctl_cap_req *req, char *err);

struct ctl_capture;

/* The registry of rt's captures; srv hands out passed descriptors. NULL on ENOMEM. */
struct ctl_capture *ctl_capture_new(struct ctl_rt *rt, struct ctl_server *srv);

/*
 * Stop every capture, give their outputs a moment to complete, tear them
 * down (one publish). Before ctl_rt_free(). NULL is a no-op.
 */
void ctl_capture_free(struct ctl_capture *c);

/*
 * Write, apply limits, notice removed ports and gone clients, tear down
 * the captures that ended. Every main-loop round. Returns the poll timeout
 * the captures need (CTL_CAP_POLL_MS while any runs), or -1 when none does.
 */
int ctl_capture_poll(struct ctl_capture *c);

/*
 * capture.start, capture.stop, capture.list: ctx is the struct ctl_daemon
 * (control/methods.h) whose cap is the registry. NULL-name terminated.
 */
extern const struct ctl_method ctl_capture_methods[];

#endif /* PORTICO_CONTROL_CAPTURE_H */
