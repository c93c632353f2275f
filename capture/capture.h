/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture on a port: tcpdump filters run by the workers, copies of
 * the matching frames handed to the control side, written as pcapng.
 *
 * A leaf module (DPDK and libpcap only). Three parts:
 *
 * - struct cap_filter: a tcpdump expression compiled by libpcap
 *   (pcap_compile() for DLT_EN10MB), converted to eBPF by DPDK's
 *   rte_bpf_convert() and loaded with rte_bpf_load(), run JIT-compiled
 *   where DPDK has a JIT (x86-64), else by DPDK's interpreter. This is how
 *   dpdk-dumpcap does it.
 *
 * - struct cap_session: one capture (a port, a direction, a filter, limits).
 *   Workers offer it their frames with cap_offer() (worker lcore, RCU read
 *   side): the frames the filter accepts are copied into the session's own
 *   small mempool and put on a single-producer/single-consumer ring, one
 *   ring per worker ("lane"), so the packet path takes no lock and no
 *   atomic. When a ring or the pool is full the copy is not made and a drop
 *   counter rises: a capture never slows or changes forwarding.
 *
 * - the writer: cap_session_poll() (control side) drains the lanes in
 *   timestamp order into a pcapng stream (capture/pcapng.h) on a file
 *   descriptor: a file, or a pipe/socket for `-w -`, written without
 *   blocking. The file has one interface, named after the port, and every
 *   packet carries its direction (epb_flags inbound/outbound).
 *
 * What the frames look like: a capture sees a frame as it is on the wire of
 * its port. "in" frames are offered as received, before the pipeline
 * classifies them (a VLAN tag the port sent is inline, a tag the NIC
 * stripped into the mbuf is put back in the copy); "out" frames are offered
 * as they are handed to the port, after tagging. So `vlan 10` matches on an
 * uplink or a VGT/trunk port, never on an access (VST/EST) port, exactly as
 * tcpdump on that link would. See docs/capture.md.
 *
 * Lifetime (control side, with the dataplane's RCU):
 *   s = cap_session_new(&params, now, err, sizeof(err));
 *   head = cap_chain_add(head, s);   publish head as the port's pointer
 *   loop: cap_session_poll(s, now) until it returns non-zero
 *   head = cap_chain_del(head, s);   publish, wait for a grace period
 *   cap_session_destroy(s);
 * cap_session_stop() ends a capture early (capture.stop, port removed).
 */
#ifndef PORTICO_CAPTURE_H
#define PORTICO_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#define CAP_SNAPLEN_DEFAULT 65535 /* bytes kept of each frame, as tcpdump's -s 65535 */
#define CAP_SNAPLEN_MAX 65535
#define CAP_RING_DEFAULT 1024 /* copies in flight per lane (worker), a power of two */
#define CAP_MBUFS_DEFAULT 4095 /* copies in flight in all (the session's pool) */
#define CAP_SEG_ROOM 2048u /* frame bytes one copy mbuf holds; longer copies chain */
#define CAP_BUF_DEFAULT (1u << 20) /* pcapng output buffer, bytes */
#define CAP_MAX_LANES 64

/* Which frames of the port a capture sees; the values are pcapng's epb_flags. */
enum cap_dir {
	CAP_DIR_IN = 1, /* received from the port (sent by the VM / arrived on the uplink) */
	CAP_DIR_OUT = 2, /* delivered to the port */
	CAP_DIR_BOTH = 3,
};

/* "in", "out", "both"; "?" otherwise. */
const char *cap_dir_name(enum cap_dir dir);
/* Parse "in", "out" or "both". 0 or -EINVAL. */
int cap_dir_parse(const char *s, enum cap_dir *dir);

/* Why a capture ended. */
#define CAP_END_REASONS(X)                                                  \
	X(NONE, "running") /* not ended */                                  \
	X(COUNT, "count") /* the frame count was reached */                 \
	X(DURATION, "duration") /* the duration ran out */                  \
	X(STOPPED, "stopped") /* cap_session_stop(): capture.stop */        \
	X(PORT_REMOVED, "port_removed") /* cap_session_stop(): port gone */ \
	X(OUTPUT, "output_error") /* the output failed (reader went away) */

enum cap_end {
#define CAP_END_ENUM(name, str) CAP_END_##name,
	CAP_END_REASONS(CAP_END_ENUM)
#undef CAP_END_ENUM
	CAP_END_MAX
};

/* The reason's name; "unknown" out of range. */
const char *cap_end_name(enum cap_end why);

/* --- filters --- */

struct cap_filter;

/*
 * Compile a tcpdump expression (pcap-filter(7)) for Ethernet frames of at
 * most snaplen bytes. NULL or "" matches everything. Returns NULL and sets
 * errno on failure: EINVAL for an expression libpcap or DPDK refuses, with
 * a one-line message in err (e.g. "filter 'udpp': syntax error"), ENOMEM.
 * Needs the EAL (rte_bpf_convert() allocates with rte_malloc). Control side.
 */
struct cap_filter *cap_filter_new(const char *expr, uint32_t snaplen, char *err, size_t errlen);
/* NULL is a no-op. */
void cap_filter_free(struct cap_filter *f);
/* The expression as given ("" for match all). */
const char *cap_filter_expr(const struct cap_filter *f);
/* Whether the filter runs as native code (DPDK's JIT) rather than interpreted. */
bool cap_filter_jitted(const struct cap_filter *f);
/*
 * Run the filter as native code (the default where DPDK's JIT compiles it
 * correctly) or interpreted; returns whether it now runs native. Only while
 * no worker uses the filter (tests, benchmarks).
 */
bool cap_filter_use_jit(struct cap_filter *f, bool on);
/*
 * Whether frame m matches; the filter reads the frame's bytes as they are
 * (an RX_VLAN_STRIPPED tag is not seen). Any thread.
 */
bool cap_filter_match(const struct cap_filter *f, const struct rte_mbuf *m);

/* --- sessions --- */

/* What to capture and where to write it. */
struct cap_params {
	uint16_t port; /* the port's index (recorded, for the caller) */
	const char *port_name; /* pcapng if_name: the port as the operator names it */
	const char *port_descr; /* pcapng if_description (may be NULL) */
	enum cap_dir dir; /* in, out or both */
	const char *filter; /* tcpdump expression; NULL or "" captures everything */
	uint32_t snaplen; /* bytes kept per frame; 0: CAP_SNAPLEN_DEFAULT */
	uint64_t count; /* stop after this many frames written; 0: no limit */
	uint64_t duration_ms; /* stop after this long; 0: no limit */
	unsigned n_lanes; /* producers: the number of workers (lane = worker id) */
	unsigned ring_size; /* per lane, a power of two; 0: CAP_RING_DEFAULT */
	unsigned n_mbufs; /* copies in flight; 0: CAP_MBUFS_DEFAULT */
	size_t buf_size; /* output buffer bytes; 0: CAP_BUF_DEFAULT */
	int fd; /* output, owned by the session from cap_session_new() on (closed
		 * by cap_session_destroy(), also when cap_session_new() fails);
		 * may be non-blocking */
	uint64_t tsc_hz; /* the clock `now` counts in; 0: rte_get_tsc_hz() */
	uint64_t wall_ns; /* wall clock (ns since the epoch) at cap_session_new()'s now;
			   * 0: CLOCK_REALTIME */
	int socket; /* NUMA socket of the pool and rings; SOCKET_ID_ANY (-1) is fine */
};

/* A session's counters, summed over lanes. */
struct cap_stats {
	uint64_t seen; /* frames offered in the captured direction(s) while active */
	uint64_t matched; /* frames the filter accepted */
	uint64_t copied; /* copies put on a ring */
	uint64_t drop_ring; /* accepted, not copied: the lane's ring was full */
	uint64_t drop_nombuf; /* accepted, not copied: the session's pool was empty */
	uint64_t written; /* frames written to the output */
	uint64_t bytes; /* bytes written to the output (the pcapng stream) */
	enum cap_end end; /* CAP_END_NONE while running */
};

struct cap_session;

/*
 * Create a session: compile the filter, make the pool and one ring per
 * lane, format the pcapng header (flushed at once if the fd takes it). now
 * is the clock cap_offer() and cap_session_poll() are given (TSC). Returns
 * NULL and sets errno (EINVAL with a one-line message in err: a bad filter
 * or parameter; ENOMEM; or the pool/ring's rte_errno); the fd is closed.
 * Control side, EAL initialised.
 */
struct cap_session *cap_session_new(
	const struct cap_params *p, uint64_t now, char *err, size_t errlen);

/*
 * Free a session no worker can reach any more (unlinked, grace period
 * passed): frames still on its rings are freed, the fd is closed (what the
 * writer had not written is lost: poll until done first). NULL is a no-op.
 */
void cap_session_destroy(struct cap_session *s);

/*
 * The writer: move copies from the lanes to the output (oldest first),
 * flush without blocking, and apply the count and duration limits at now.
 * Call it often (every few ms while active; the rings absorb the rest);
 * when cap_session_wants_write() is true, waiting for POLLOUT on the fd is
 * enough. Returns 0 while the capture runs, 1 once it has ended and
 * everything (with a final Interface Statistics Block) is written, or a
 * -errno of the output (the capture has ended: CAP_END_OUTPUT). Control
 * side.
 */
int cap_session_poll(struct cap_session *s, uint64_t now);

/* Whether the writer has bytes the fd did not take yet. */
bool cap_session_wants_write(const struct cap_session *s);
/* The output fd (for poll()). */
int cap_session_fd(const struct cap_session *s);

/*
 * End a capture at now (why: CAP_END_STOPPED, CAP_END_PORT_REMOVED): workers
 * stop copying at their next burst; what is on the rings is still written.
 * Keep polling until it returns non-zero. No-op on an ended capture.
 */
void cap_session_stop(struct cap_session *s, enum cap_end why, uint64_t now);

/* The counters (control side; lane counters are read while workers run). */
void cap_session_stats(const struct cap_session *s, struct cap_stats *out);
/* The parameters as applied (defaults filled in; strings owned by the session). */
const struct cap_params *cap_session_params(const struct cap_session *s);

/*
 * Several captures of one port form a chain; the port's pointer is the
 * head (NULL: no capture, nothing to do). cap_chain_add() links s in front
 * and returns the new head, to be published. cap_chain_del() unlinks s and
 * returns the new head: when s is not the head its predecessor's link is
 * changed in place (an atomic pointer store that workers may see at once,
 * as an RCU list); either way free s only after a grace period. Control
 * side.
 */
struct cap_session *cap_chain_add(struct cap_session *head, struct cap_session *s);
struct cap_session *cap_chain_del(struct cap_session *head, struct cap_session *s);

/* The out-of-line part of cap_offer(). */
void cap_offer_burst(struct cap_session *head, unsigned lane, struct rte_mbuf *const *pkts,
	uint16_t n, enum cap_dir dir, uint64_t now);

/*
 * Offer a burst of frames of one port and direction to the port's captures
 * (head: the port's chain, NULL when none). lane is the worker's id (<
 * n_lanes), now its TSC; dir is CAP_DIR_IN or CAP_DIR_OUT (anything else is
 * ignored). The frames are only read: the caller keeps them.
 * With no capture this is one test of a pointer. Worker lcore, RCU read
 * side; never blocks, logs or calls the system.
 */
static inline void
cap_offer(struct cap_session *head, unsigned lane, struct rte_mbuf *const *pkts, uint16_t n,
	enum cap_dir dir, uint64_t now)
{
	if (likely(head == NULL))
		return;
	cap_offer_burst(head, lane, pkts, n, dir, now);
}

#endif /* PORTICO_CAPTURE_H */
