/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture (capture.h): filters (libpcap -> rte_bpf), the worker side
 * (cap_offer_burst: worker lcore, RCU read side; no lock, no atomic, no log,
 * no system call) and the control side (sessions, the pcapng writer).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <rte_bpf.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "capture/capture.h"
#include "capture/pcapng.h"

#ifndef PORTICO_VERSION
#define PORTICO_VERSION "dev"
#endif

#define DRAIN_BURST 64 /* copies taken from one lane at a time by the writer */
#define POLL_BUDGET 4096 /* frames one cap_session_poll() writes at most */
#define OFFER_MAX 64 /* frames offer_one() takes at once */

/* What a copy carries beside the frame, in its mbuf's private area. */
struct cap_meta {
	uint64_t tsc; /* when the worker saw it (its burst's now) */
	uint32_t orig_len; /* the frame's length on the wire */
	uint8_t dir; /* CAP_DIR_IN or CAP_DIR_OUT */
	uint8_t pad[3];
};

/* A compiled filter. */
struct cap_filter {
	struct rte_bpf *bpf; /* the loaded eBPF program */
	uint64_t (*jit)(void *); /* its native code in use, NULL when interpreted */
	uint64_t (*jit_code)(void *); /* its native code, NULL when DPDK has none (or a bad one) */
	char *expr; /* the expression as given */
};

/* One worker's share of a session: written by that worker only. */
struct cap_lane {
	struct rte_ring *ring; /* copies, single producer (the worker), single consumer */
	uint64_t seen; /* frames offered in the captured direction(s) */
	uint64_t matched; /* frames the filter accepted */
	uint64_t copied; /* copies enqueued */
	uint64_t drop_ring; /* accepted, ring full */
	uint64_t drop_nombuf; /* accepted, pool empty */
} __rte_cache_aligned;

/* What the writer holds of one lane: copies dequeued, not yet written. */
struct cap_pend {
	uint16_t n; /* copies in m */
	uint16_t i; /* next one to write */
	struct rte_mbuf *m[DRAIN_BURST];
};

struct cap_session {
	/* Read by workers; written by control only while unreachable, except next and active. */
	struct cap_session *next; /* the next capture of the same port (RCU list) */
	volatile uint8_t active; /* 0 once ended: workers stop copying */
	uint8_t dir; /* enum cap_dir */
	uint32_t snaplen; /* bytes kept per frame */
	uint32_t seg_room; /* frame bytes one pool mbuf holds */
	uint64_t lane_limit; /* copies one lane makes at most (the count, or no limit) */
	const struct cap_filter *filter; /* NULL: every frame */
	struct rte_mempool *pool; /* the copies */
	unsigned n_lanes; /* entries in lanes */

	/* Control side. */
	struct cap_filter *own_filter; /* the filter, freed with the session */
	struct cap_params params; /* as applied; strings below */
	char *port_name, *port_descr, *filter_expr;
	struct cap_pcapng out; /* the pcapng writer */
	uint64_t tsc0; /* clock at creation */
	uint64_t wall0; /* wall clock (ns) at tsc0 */
	uint64_t hz; /* clock rate */
	uint64_t deadline; /* tsc at which the duration ends; UINT64_MAX: none */
	uint64_t written; /* frames written */
	uint64_t end_tsc; /* clock when the capture ended */
	uint8_t end; /* enum cap_end */
	bool trailer; /* the final statistics block is formatted */
	int result; /* 1 when done, -errno after an output error, 0 running */
	struct cap_pend *pend; /* [n_lanes] */

	struct cap_lane lanes[]; /* [n_lanes] */
};

static unsigned cap_serial; /* names of pools and rings (control side) */

/* --- names --- */

static const char *const end_names[] = {
#define CAP_END_STR(name, str) [CAP_END_##name] = str,
	CAP_END_REASONS(CAP_END_STR)
#undef CAP_END_STR
};

const char *
cap_end_name(enum cap_end why)
{
	return (unsigned)why < CAP_END_MAX ? end_names[why] : "unknown";
}

const char *
cap_dir_name(enum cap_dir dir)
{
	switch (dir) {
	case CAP_DIR_IN:
		return "in";
	case CAP_DIR_OUT:
		return "out";
	case CAP_DIR_BOTH:
		return "both";
	}
	return "?";
}

int
cap_dir_parse(const char *s, enum cap_dir *dir)
{
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "in") == 0)
		*dir = CAP_DIR_IN;
	else if (strcmp(s, "out") == 0)
		*dir = CAP_DIR_OUT;
	else if (strcmp(s, "both") == 0)
		*dir = CAP_DIR_BOTH;
	else
		return -EINVAL;
	return 0;
}

/* --- filters --- */

/* Copy a libpcap message as one line (no trailing newline). */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	char *nl;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	while ((nl = strpbrk(err, "\r\n")) != NULL)
		*nl = ' ';
}

/*
 * Whether DPDK 22.11's x86-64 JIT compiles prm correctly. It encodes
 * `jset dst, #imm` as `test $imm, dst` with a one-byte immediate when imm
 * fits in a signed byte, but that opcode (F7 /0) always takes four: the
 * native code is garbage (libpcap emits such a jset for `ether[0] & 1 != 0`,
 * `ip[6:2] & 0x1fff = 0` does not). Such programs run interpreted.
 */
static bool
jit_safe(const struct rte_bpf_prm *prm)
{
	uint32_t i;

	for (i = 0; i < prm->nb_ins; i++) {
		const struct ebpf_insn *in = &prm->ins[i];

		if (in->code == (BPF_JMP | BPF_JSET | BPF_K) && in->imm >= INT8_MIN &&
			in->imm <= INT8_MAX)
			return false;
	}
	return true;
}

struct cap_filter *
cap_filter_new(const char *expr, uint32_t snaplen, char *err, size_t errlen)
{
	struct bpf_program prog = {0};
	struct rte_bpf_prm *prm = NULL;
	struct rte_bpf_jit jit = {0};
	struct cap_filter *f;
	pcap_t *pcap = NULL;
	int e = EINVAL;

	if (expr == NULL)
		expr = "";
	if (snaplen == 0 || snaplen > CAP_SNAPLEN_MAX)
		snaplen = CAP_SNAPLEN_MAX;
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->expr = strdup(expr)) == NULL) {
		e = ENOMEM;
		set_err(err, errlen, "filter: out of memory");
		goto fail;
	}
	pcap = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (pcap == NULL) {
		e = ENOMEM;
		set_err(err, errlen, "filter: out of memory");
		goto fail;
	}
	if (pcap_compile(pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		set_err(err, errlen, "filter '%s': %s", expr, pcap_geterr(pcap));
		goto fail;
	}
	prm = rte_bpf_convert(&prog);
	if (prm == NULL) {
		e = rte_errno == ENOMEM ? ENOMEM : EINVAL;
		set_err(err, errlen, "filter '%s': cannot convert to eBPF: %s", expr,
			rte_strerror(rte_errno));
		goto fail;
	}
	f->bpf = rte_bpf_load(prm);
	if (f->bpf == NULL) {
		e = rte_errno == ENOMEM ? ENOMEM : EINVAL;
		set_err(err, errlen, "filter '%s': cannot load the eBPF program: %s", expr,
			rte_strerror(rte_errno));
		goto fail;
	}
	if (jit_safe(prm) && rte_bpf_get_jit(f->bpf, &jit) == 0 && jit.func != NULL)
		f->jit = jit.func;
	f->jit_code = f->jit;
	rte_free(prm);
	pcap_freecode(&prog);
	pcap_close(pcap);
	return f;
fail:
	rte_free(prm);
	if (prog.bf_insns != NULL)
		pcap_freecode(&prog);
	if (pcap != NULL)
		pcap_close(pcap);
	cap_filter_free(f);
	errno = e;
	return NULL;
}

void
cap_filter_free(struct cap_filter *f)
{
	if (f == NULL)
		return;
	if (f->bpf != NULL)
		rte_bpf_destroy(f->bpf);
	free(f->expr);
	free(f);
}

const char *
cap_filter_expr(const struct cap_filter *f)
{
	return f->expr;
}

bool
cap_filter_jitted(const struct cap_filter *f)
{
	return f->jit != NULL;
}

bool
cap_filter_use_jit(struct cap_filter *f, bool on)
{
	f->jit = on ? f->jit_code : NULL;
	return f->jit != NULL;
}

static inline bool
filter_run(const struct cap_filter *f, const struct rte_mbuf *m)
{
	void *ctx = (void *)(uintptr_t)m; /* the program only reads the frame */

	return (f->jit != NULL ? f->jit(ctx) : rte_bpf_exec(f->bpf, ctx)) != 0;
}

bool
cap_filter_match(const struct cap_filter *f, const struct rte_mbuf *m)
{
	return f == NULL || filter_run(f, m);
}

/* --- the worker side (worker lcore, RCU read side) --- */

static inline struct cap_meta *
meta_of(struct rte_mbuf *c)
{
	return (struct cap_meta *)rte_mbuf_to_priv(c);
}

/* Whether the wire form of m has a tag the mbuf keeps beside the frame. */
static inline bool
tag_offloaded(const struct rte_mbuf *m, enum cap_dir dir)
{
	return dir == CAP_DIR_IN ? (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) != 0
				 : (m->ol_flags & RTE_MBUF_F_TX_VLAN) != 0;
}

/*
 * Copy the first len bytes of m into c, a fresh mbuf of the session's pool.
 * Returns c, or a chained copy when the bytes do not fit one mbuf (c is
 * then freed), or NULL when the pool ran dry.
 */
static inline struct rte_mbuf *
copy_into(struct cap_session *s, struct rte_mbuf *c, const struct rte_mbuf *m, uint32_t len)
{
	const void *src;
	char *dst;

	if (unlikely(len > s->seg_room)) {
		rte_pktmbuf_free(c);
		return rte_pktmbuf_copy(m, s->pool, 0, len);
	}
	dst = rte_pktmbuf_mtod(c, char *);
	src = rte_pktmbuf_read(m, 0, len, dst);
	if (likely(src != dst))
		rte_memcpy(dst, src, len);
	c->data_len = (uint16_t)len;
	c->pkt_len = len;
	return c;
}

/*
 * The slow way for a frame whose tag the mbuf keeps beside it: copy, put the
 * tag back inline, then filter the copy. Returns the copy or NULL (no match,
 * or the pool ran dry: *nombuf set).
 */
static struct rte_mbuf *
offer_offloaded(struct cap_session *s, struct cap_lane *l, struct rte_mbuf *m, enum cap_dir dir,
	bool *nombuf)
{
	uint32_t len = RTE_MIN(m->pkt_len, s->snaplen);
	struct rte_mbuf *c = rte_pktmbuf_alloc(s->pool);

	*nombuf = false;
	if (c == NULL || (c = copy_into(s, c, m, len)) == NULL) {
		*nombuf = true;
		return NULL;
	}
	c->vlan_tci = m->vlan_tci;
	c->ol_flags = 0;
	if (rte_vlan_insert(&c) != 0) {
		/* No headroom: keep the frame as it is. */
		rte_pktmbuf_free(c);
		c = rte_pktmbuf_alloc(s->pool);
		if (c == NULL || (c = copy_into(s, c, m, len)) == NULL) {
			*nombuf = true;
			return NULL;
		}
	} else if (c->pkt_len > s->snaplen) {
		rte_pktmbuf_trim(c, c->pkt_len - s->snaplen);
	}
	if (s->filter != NULL && !filter_run(s->filter, c)) {
		rte_pktmbuf_free(c);
		return NULL;
	}
	l->matched++;
	meta_of(c)->orig_len = m->pkt_len + sizeof(struct rte_vlan_hdr);
	return c;
}

/* One session, up to OFFER_MAX frames: filter, copy, enqueue. */
static inline void
offer_one(struct cap_session *s, unsigned lane, struct rte_mbuf *const *pkts, unsigned n,
	enum cap_dir dir, uint64_t now)
{
	struct cap_lane *l = &s->lanes[lane];
	struct rte_mbuf *copies[OFFER_MAX];
	uint8_t idx[OFFER_MAX];
	unsigned room, k = 0, i, j, done;

	l->seen += n;
	/* Frames the filter accepts (those with an offloaded tag decide later). */
	for (i = 0; i < n; i++) {
		if (likely(!tag_offloaded(pkts[i], dir)) && s->filter != NULL &&
			!filter_run(s->filter, pkts[i]))
			continue;
		idx[k++] = (uint8_t)i;
	}
	if (k == 0)
		return;
	/* Never beyond the count (the rest are ignored: the capture is over)... */
	if (unlikely(s->lane_limit - l->copied < k))
		k = (unsigned)(s->lane_limit - l->copied);
	/* ...and no copy the ring cannot take (those are drops). */
	room = rte_ring_free_count(l->ring);
	if (unlikely(k > room)) {
		for (i = room; i < k; i++) {
			if (!tag_offloaded(pkts[idx[i]], dir))
				l->matched++;
			l->drop_ring++;
		}
		k = room;
	}
	if (k == 0)
		return;
	if (unlikely(rte_pktmbuf_alloc_bulk(s->pool, copies, k) != 0)) {
		/* Nearly empty: as many as there are, one by one. */
		for (j = 0; j < k; j++) {
			copies[j] = rte_pktmbuf_alloc(s->pool);
			if (copies[j] == NULL)
				break;
		}
		for (i = j; i < k; i++) {
			if (!tag_offloaded(pkts[idx[i]], dir))
				l->matched++;
			l->drop_nombuf++;
		}
		k = j;
	}
	for (i = 0, j = 0; i < k; i++) {
		struct rte_mbuf *m = pkts[idx[i]], *c = copies[i];
		struct cap_meta *meta;

		if (unlikely(tag_offloaded(m, dir))) {
			bool nombuf;

			rte_pktmbuf_free(c);
			c = offer_offloaded(s, l, m, dir, &nombuf);
			if (c == NULL) {
				l->drop_nombuf += nombuf;
				continue;
			}
		} else {
			l->matched++;
			c = copy_into(s, c, m, RTE_MIN(m->pkt_len, s->snaplen));
			if (unlikely(c == NULL)) {
				l->drop_nombuf++;
				continue;
			}
			meta_of(c)->orig_len = m->pkt_len;
		}
		meta = meta_of(c);
		meta->tsc = now;
		meta->dir = (uint8_t)dir;
		copies[j++] = c;
	}
	done = rte_ring_sp_enqueue_burst(l->ring, (void *const *)copies, j, NULL);
	l->copied += done;
	if (unlikely(done < j)) {
		/* Cannot happen with a single producer; stay safe. */
		l->drop_ring += j - done;
		rte_pktmbuf_free_bulk(&copies[done], j - done);
	}
}

void
cap_offer_burst(struct cap_session *head, unsigned lane, struct rte_mbuf *const *pkts, uint16_t n,
	enum cap_dir dir, uint64_t now)
{
	struct cap_session *s;
	unsigned i;

	if (unlikely(dir != CAP_DIR_IN && dir != CAP_DIR_OUT))
		return;
	for (s = head; s != NULL; s = __atomic_load_n(&s->next, __ATOMIC_ACQUIRE)) {
		if (!(s->dir & dir) || !s->active || unlikely(lane >= s->n_lanes))
			continue;
		for (i = 0; i < n && s->lanes[lane].copied < s->lane_limit; i += OFFER_MAX)
			offer_one(s, lane, pkts + i, RTE_MIN(n - i, (unsigned)OFFER_MAX), dir, now);
	}
}

/* --- the control side --- */

struct cap_session *
cap_chain_add(struct cap_session *head, struct cap_session *s)
{
	s->next = head;
	return s;
}

struct cap_session *
cap_chain_del(struct cap_session *head, struct cap_session *s)
{
	struct cap_session *p;

	if (head == s)
		return s->next;
	for (p = head; p != NULL; p = p->next) {
		if (p->next == s) {
			__atomic_store_n(&p->next, s->next, __ATOMIC_RELEASE);
			break;
		}
	}
	return head;
}

static uint64_t
wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall-clock ns of a clock reading. */
static uint64_t
ts_ns(const struct cap_session *s, uint64_t tsc)
{
	if (tsc >= s->tsc0)
		return s->wall0 +
			(uint64_t)((unsigned __int128)(tsc - s->tsc0) * 1000000000u / s->hz);
	return s->wall0 - (uint64_t)((unsigned __int128)(s->tsc0 - tsc) * 1000000000u / s->hz);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct cap_session *
cap_session_new(const struct cap_params *p, uint64_t now, char *err, size_t errlen)
{
	struct cap_params q = *p;
	struct cap_session *s = NULL;
	char name[RTE_RING_NAMESIZE];
	unsigned serial, i, cache;
	size_t size;
	int e, fd = p->fd;

	if (q.snaplen == 0)
		q.snaplen = CAP_SNAPLEN_DEFAULT;
	if (q.ring_size == 0)
		q.ring_size = CAP_RING_DEFAULT;
	if (q.n_mbufs == 0)
		q.n_mbufs = CAP_MBUFS_DEFAULT;
	if (q.buf_size == 0)
		q.buf_size = CAP_BUF_DEFAULT;
	if (q.tsc_hz == 0)
		q.tsc_hz = rte_get_tsc_hz();
	if (q.wall_ns == 0)
		q.wall_ns = wall_now_ns();
	e = EINVAL;
	if (q.dir < CAP_DIR_IN || q.dir > CAP_DIR_BOTH) {
		set_err(err, errlen, "capture: direction must be in, out or both");
		goto fail;
	}
	if (q.snaplen < RTE_ETHER_HDR_LEN || q.snaplen > CAP_SNAPLEN_MAX) {
		set_err(err, errlen, "capture: snaplen must be %u..%u", RTE_ETHER_HDR_LEN,
			CAP_SNAPLEN_MAX);
		goto fail;
	}
	if (q.n_lanes == 0 || q.n_lanes > CAP_MAX_LANES || !rte_is_power_of_2(q.ring_size) ||
		q.ring_size < 2 || q.n_mbufs < 2 || q.tsc_hz == 0 || fd < 0 ||
		q.buf_size < (size_t)CAP_PCAPNG_EPB_SIZE(q.snaplen) + 4096) {
		set_err(err, errlen, "capture: invalid parameters");
		goto fail;
	}

	size = sizeof(*s) + q.n_lanes * sizeof(s->lanes[0]);
	s = rte_zmalloc_socket("capture", size, RTE_CACHE_LINE_SIZE, q.socket);
	if (s == NULL) {
		e = ENOMEM;
		set_err(err, errlen, "capture: out of memory");
		goto fail;
	}
	s->n_lanes = q.n_lanes;
	s->out.fd = -1;
	if (q.filter != NULL && q.filter[0] != '\0') {
		s->own_filter = cap_filter_new(q.filter, q.snaplen, err, errlen);
		if (s->own_filter == NULL) {
			e = errno;
			goto fail;
		}
		s->filter = s->own_filter;
	}
	s->port_name = dup_or_null(q.port_name);
	s->port_descr = dup_or_null(q.port_descr);
	s->filter_expr = strdup(q.filter != NULL ? q.filter : "");
	s->pend = calloc(q.n_lanes, sizeof(*s->pend));
	if ((q.port_name != NULL && s->port_name == NULL) ||
		(q.port_descr != NULL && s->port_descr == NULL) || s->filter_expr == NULL ||
		s->pend == NULL) {
		e = ENOMEM;
		set_err(err, errlen, "capture: out of memory");
		goto fail;
	}
	q.port_name = s->port_name;
	q.port_descr = s->port_descr;
	q.filter = s->filter_expr;

	serial = __atomic_fetch_add(&cap_serial, 1, __ATOMIC_RELAXED);
	s->seg_room = RTE_MIN(q.snaplen + (uint32_t)sizeof(struct rte_vlan_hdr), CAP_SEG_ROOM);
	cache = q.n_mbufs >= 1024 ? 32 : 0;
	snprintf(name, sizeof(name), "cap%u", serial);
	s->pool = rte_pktmbuf_pool_create(name, q.n_mbufs, cache,
		RTE_ALIGN(sizeof(struct cap_meta), RTE_MBUF_PRIV_ALIGN),
		(uint16_t)(RTE_PKTMBUF_HEADROOM + s->seg_room), q.socket);
	if (s->pool == NULL) {
		e = rte_errno != 0 ? rte_errno : ENOMEM;
		set_err(err, errlen, "capture: cannot create the mbuf pool: %s",
			rte_strerror(rte_errno));
		goto fail;
	}
	for (i = 0; i < q.n_lanes; i++) {
		snprintf(name, sizeof(name), "cap%u_%u", serial, i);
		s->lanes[i].ring =
			rte_ring_create(name, q.ring_size, q.socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (s->lanes[i].ring == NULL) {
			e = rte_errno != 0 ? rte_errno : ENOMEM;
			set_err(err, errlen, "capture: cannot create a ring: %s",
				rte_strerror(rte_errno));
			goto fail;
		}
	}

	e = -cap_pcapng_init(&s->out, fd, q.buf_size);
	if (e != 0) {
		set_err(err, errlen, "capture: out of memory");
		goto fail;
	}
	fd = -1; /* the writer has it now */
	{
		char descr[256];

		/* The if_description says the direction too, for tools that show only it. */
		snprintf(descr, sizeof(descr), "%s%s(direction %s)",
			q.port_descr != NULL ? q.port_descr : "", q.port_descr != NULL ? " " : "",
			cap_dir_name(q.dir));
		if (cap_pcapng_shb(&s->out, "Portico " PORTICO_VERSION) != 0 ||
			cap_pcapng_idb(&s->out, q.port_name, descr, q.filter, q.snaplen) != 0) {
			e = ENOMEM;
			set_err(err, errlen, "capture: output buffer too small");
			goto fail;
		}
	}
	s->params = q;
	s->params.fd = s->out.fd;
	s->dir = (uint8_t)q.dir;
	s->snaplen = q.snaplen;
	s->lane_limit = q.count != 0 ? q.count : UINT64_MAX;
	s->tsc0 = now;
	s->wall0 = q.wall_ns;
	s->hz = q.tsc_hz;
	s->deadline = q.duration_ms != 0
		? now + (uint64_t)((unsigned __int128)q.duration_ms * q.tsc_hz / 1000)
		: UINT64_MAX;
	s->end = CAP_END_NONE;
	/* The header now, so a reader at the other end of a pipe starts at once. */
	e = cap_pcapng_flush(&s->out);
	if (e != 0 && e != -EAGAIN) {
		e = -e;
		set_err(err, errlen, "capture: cannot write the output: %s", strerror(e));
		goto fail;
	}
	s->active = 1;
	return s;
fail:
	if (fd >= 0)
		close(fd);
	cap_session_destroy(s);
	errno = e;
	return NULL;
}

void
cap_session_destroy(struct cap_session *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_lanes; i++) {
		struct rte_mbuf *m;

		if (s->pend != NULL)
			for (; s->pend[i].i < s->pend[i].n; s->pend[i].i++)
				rte_pktmbuf_free(s->pend[i].m[s->pend[i].i]);
		if (s->lanes[i].ring == NULL)
			continue;
		while (rte_ring_sc_dequeue(s->lanes[i].ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(s->lanes[i].ring);
	}
	rte_mempool_free(s->pool);
	if (s->out.fd >= 0) {
		close(s->out.fd);
		cap_pcapng_fini(&s->out);
	}
	cap_filter_free(s->own_filter);
	free(s->pend);
	free(s->port_name);
	free(s->port_descr);
	free(s->filter_expr);
	rte_free(s);
}

void
cap_session_stats(const struct cap_session *s, struct cap_stats *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < s->n_lanes; i++) {
		const struct cap_lane *l = &s->lanes[i];

		out->seen += l->seen;
		out->matched += l->matched;
		out->copied += l->copied;
		out->drop_ring += l->drop_ring;
		out->drop_nombuf += l->drop_nombuf;
	}
	out->written = s->written;
	out->bytes = s->out.written;
	out->end = (enum cap_end)s->end;
}

const struct cap_params *
cap_session_params(const struct cap_session *s)
{
	return &s->params;
}

bool
cap_session_wants_write(const struct cap_session *s)
{
	return cap_pcapng_pending(&s->out) != 0;
}

int
cap_session_fd(const struct cap_session *s)
{
	return s->out.fd;
}

/* End the capture (first reason wins) at now: workers stop copying. */
static void
end_at(struct cap_session *s, enum cap_end why, uint64_t now)
{
	if (s->end != CAP_END_NONE)
		return;
	s->end = (uint8_t)why;
	s->end_tsc = now;
	__atomic_store_n(&s->active, 0, __ATOMIC_RELEASE);
}

void
cap_session_stop(struct cap_session *s, enum cap_end why, uint64_t now)
{
	if (why == CAP_END_NONE || why >= CAP_END_MAX)
		why = CAP_END_STOPPED;
	end_at(s, why, now);
}

/* The lane whose next pending copy is the oldest (refilling all when all are written). */
static struct cap_pend *
next_pending(struct cap_session *s)
{
	struct cap_pend *best = NULL;
	uint64_t best_tsc = UINT64_MAX;
	unsigned i;

	for (i = 0; i < s->n_lanes; i++) {
		struct cap_pend *p = &s->pend[i];
		uint64_t t;

		if (p->i == p->n)
			continue;
		t = meta_of(p->m[p->i])->tsc;
		if (best == NULL || t < best_tsc) {
			best = p;
			best_tsc = t;
		}
	}
	if (best != NULL)
		return best;
	/* Everything taken is written: take more from every lane. */
	for (i = 0; i < s->n_lanes; i++) {
		struct cap_pend *p = &s->pend[i];

		p->i = 0;
		p->n = (uint16_t)rte_ring_sc_dequeue_burst(
			s->lanes[i].ring, (void **)p->m, DRAIN_BURST, NULL);
		if (p->n == 0)
			continue;
		if (best == NULL || meta_of(p->m[0])->tsc < best_tsc) {
			best = p;
			best_tsc = meta_of(p->m[0])->tsc;
		}
	}
	return best;
}

/* Format one copy as an EPB; false when the buffer lacks room. */
static bool
write_copy(struct cap_session *s, struct rte_mbuf *c)
{
	const struct cap_meta *meta = meta_of(c);
	uint8_t *data = cap_pcapng_epb(
		&s->out, 0, ts_ns(s, meta->tsc), meta->dir, c->pkt_len, meta->orig_len);
	const void *src;

	if (data == NULL)
		return false;
	src = rte_pktmbuf_read(c, 0, c->pkt_len, data);
	if (src != data)
		memcpy(data, src, c->pkt_len);
	return true;
}

/* Drop every copy the writer holds or the rings have (after the count). */
static void
discard_all(struct cap_session *s)
{
	struct cap_pend *p;

	while ((p = next_pending(s)) != NULL)
		rte_pktmbuf_free(p->m[p->i++]);
}

int
cap_session_poll(struct cap_session *s, uint64_t now)
{
	struct cap_pend *p;
	unsigned budget = POLL_BUDGET;
	int r;

	if (s->result != 0)
		return s->result;
	r = cap_pcapng_flush(&s->out);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		goto out_error;
	if (s->end == CAP_END_NONE && now >= s->deadline)
		end_at(s, CAP_END_DURATION, s->deadline);

	while (budget > 0) {
		if (s->written >= s->lane_limit) {
			end_at(s, CAP_END_COUNT, now);
			discard_all(s);
			break;
		}
		p = next_pending(s);
		if (p == NULL)
			break;
		if (!write_copy(s, p->m[p->i])) {
			r = cap_pcapng_flush(&s->out);
			if (r == -EAGAIN)
				return 0;
			if (r < 0)
				goto out_error;
			if (!write_copy(s, p->m[p->i]))
				return 0; /* cannot happen: the buffer holds the largest block */
		}
		rte_pktmbuf_free(p->m[p->i++]);
		s->written++;
		budget--;
	}
	if (s->written >= s->lane_limit)
		end_at(s, CAP_END_COUNT, now);
	if (s->end != CAP_END_NONE && budget > 0 && !s->trailer) {
		struct cap_stats st;
		struct cap_pcapng_stats ps;
		char comment[64];

		/* Everything copied before the end is written: the statistics last. */
		discard_all(s);
		cap_session_stats(s, &st);
		ps.start_ns = s->wall0;
		ps.end_ns = ts_ns(s, s->end_tsc);
		ps.ifrecv = st.seen;
		ps.ifdrop = st.drop_ring + st.drop_nombuf;
		ps.filteraccept = st.matched;
		ps.usrdeliv = st.written;
		snprintf(comment, sizeof(comment), "capture ended: %s", cap_end_name(s->end));
		if (cap_pcapng_isb(&s->out, 0, ps.end_ns, &ps, comment) != 0) {
			r = cap_pcapng_flush(&s->out);
			if (r == -EAGAIN)
				return 0;
			if (r < 0)
				goto out_error;
			cap_pcapng_isb(&s->out, 0, ps.end_ns, &ps, comment);
		}
		s->trailer = true;
	}
	r = cap_pcapng_flush(&s->out);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		goto out_error;
	if (s->trailer) {
		s->result = 1;
		return 1;
	}
	return 0;
out_error:
	end_at(s, CAP_END_OUTPUT, now);
	s->end = CAP_END_OUTPUT; /* also when it failed after another end */
	s->result = r;
	return r;
}
