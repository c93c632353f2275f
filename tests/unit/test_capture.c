/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of packet capture (capture/): tcpdump filters converted to
 * eBPF on hand-built frames, invalid expressions, the worker side's drops
 * (ring full, pool empty) and limits, and the pcapng writer, checked with
 * libpcap (pcap_open_offline) and by parsing the blocks here (interface
 * name, per-packet direction, statistics), plus `tcpdump -r -` on a pipe
 * when tcpdump is installed. The last test prints what a capture costs.
 * EAL runs without hugepages (--no-huge) for the mempools and rings.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <pcap/pcap.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "capture/capture.h"
#include "capture/pcapng.h"

#define HZ UINT64_C(1000000000) /* fake clock: one cycle is one ns */
#define WALL0 UINT64_C(1700000000000000000) /* wall clock at T0, ns */
#define T0 UINT64_C(5000000000) /* clock when sessions start */

static struct rte_mempool *pool; /* the "switch's" frames */

/* --- frames --- */

enum proto {
	P_UDP,
	P_ICMP,
	P_ARP,
};

static const struct rte_ether_addr mac_a = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct rte_ether_addr mac_b = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct rte_ether_addr mac_bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

/*
 * Build a frame in buf: Ethernet (tagged with vid when non-zero), then an
 * IPv4 UDP (dport 53) or ICMP echo, or an ARP request; padded to len bytes
 * (at least 60). Returns its length.
 */
static uint16_t
build(uint8_t *buf, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
	uint16_t vid, enum proto proto, uint16_t len)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	uint8_t *l3 = (uint8_t *)(eth + 1);
	uint8_t *type = buf + 2 * RTE_ETHER_ADDR_LEN; /* where the innermost ethertype goes */
	struct rte_ipv4_hdr *ip;
	rte_be16_t et;

	if (len < 60)
		len = 60;
	memset(buf, 0, len);
	eth->dst_addr = *dst;
	eth->src_addr = *src;
	if (vid != 0) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)l3;

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(vid);
		type = l3 + offsetof(struct rte_vlan_hdr, eth_proto);
		l3 += sizeof(*vh);
	}
	if (proto == P_ARP) {
		et = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		memcpy(type, &et, sizeof(et));
		memcpy(l3, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
		return len;
	}
	et = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memcpy(type, &et, sizeof(et));
	ip = (struct rte_ipv4_hdr *)l3;
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->total_length = rte_cpu_to_be_16(len - (uint16_t)(l3 - buf));
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 2));
	if (proto == P_UDP) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		ip->next_proto_id = IPPROTO_UDP;
		udp->src_port = rte_cpu_to_be_16(4000);
		udp->dst_port = rte_cpu_to_be_16(53);
		udp->dgram_len = rte_cpu_to_be_16(len - (uint16_t)((uint8_t *)udp - buf));
	} else {
		struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(ip + 1);

		ip->next_proto_id = IPPROTO_ICMP;
		icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	}
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return len;
}

static struct rte_mbuf *
mbuf_of(const uint8_t *frame, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, len), frame, len);
	return m;
}

static struct rte_mbuf *
frame(const struct rte_ether_addr *dst, const struct rte_ether_addr *src, uint16_t vid,
	enum proto proto, uint16_t len)
{
	uint8_t buf[2048];

	return mbuf_of(buf, build(buf, dst, src, vid, proto, len));
}

/* A frame split over two segments after split bytes. */
static struct rte_mbuf *
frame_chained(enum proto proto, uint16_t len, uint16_t split)
{
	uint8_t buf[2048];
	struct rte_mbuf *a, *b;

	len = build(buf, &mac_b, &mac_a, 0, proto, len);
	a = mbuf_of(buf, split);
	b = mbuf_of(buf + split, len - split);
	assert_int_equal(rte_pktmbuf_chain(a, b), 0);
	return a;
}

static void
free_all(struct rte_mbuf **m, unsigned n)
{
	rte_pktmbuf_free_bulk(m, n);
}

/* --- pcapng as written --- */

#define MAX_PKTS 512

/* What parse() found in a pcapng file. */
struct parsed {
	unsigned n_shb, n_idb, n_epb, n_isb;
	char if_name[64];
	char if_descr[128];
	char if_filter[128];
	uint8_t tsresol;
	uint32_t ifid[MAX_PKTS];
	uint32_t flags[MAX_PKTS];
	uint32_t caplen[MAX_PKTS];
	uint32_t origlen[MAX_PKTS];
	uint64_t ts[MAX_PKTS];
	uint8_t data[MAX_PKTS][96]; /* the first bytes */
	uint64_t isb[9]; /* isb options by code (UINT64_MAX: absent) */
	char isb_comment[64];
};

static uint8_t file_buf[4 << 20];

static size_t
read_all(int fd, uint8_t *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n < size && (r = read(fd, buf + n, size - n)) > 0)
		n += (size_t)r;
	return n;
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void
copy_str(char *dst, size_t size, const uint8_t *src, size_t len)
{
	len = len < size - 1 ? len : size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Parse the blocks of a pcapng stream, checking their framing. */
static void
parse(const uint8_t *b, size_t n, struct parsed *out)
{
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	memset(out->isb, 0xff, sizeof(out->isb));
	while (off < n) {
		uint32_t type, len;
		const uint8_t *blk = b + off, *o, *end;

		assert_true(n - off >= 12);
		type = get32(blk);
		len = get32(blk + 4);
		assert_int_equal(len % 4, 0);
		assert_true(len >= 12 && len <= n - off);
		assert_int_equal(get32(blk + len - 4), len); /* trailer */
		end = blk + len - 4;
		switch (type) {
		case CAP_PCAPNG_SHB:
			assert_int_equal(get32(blk + 8), CAP_PCAPNG_MAGIC);
			out->n_shb++;
			break;
		case CAP_PCAPNG_IDB:
			assert_int_equal(
				*(const uint16_t *)(blk + 8), CAP_PCAPNG_LINKTYPE_ETHERNET);
			for (o = blk + 16; o + 4 <= end;) {
				uint16_t code = *(const uint16_t *)o,
					 olen = *(const uint16_t *)(o + 2);

				if (code == CAP_PCAPNG_OPT_END)
					break;
				if (code == CAP_PCAPNG_IF_NAME)
					copy_str(out->if_name, sizeof(out->if_name), o + 4, olen);
				if (code == CAP_PCAPNG_IF_DESCRIPTION)
					copy_str(out->if_descr, sizeof(out->if_descr), o + 4, olen);
				if (code == CAP_PCAPNG_IF_FILTER) {
					assert_int_equal(o[4], 0);
					copy_str(out->if_filter, sizeof(out->if_filter), o + 5,
						olen - 1);
				}
				if (code == CAP_PCAPNG_IF_TSRESOL)
					out->tsresol = o[4];
				o += 4 + ((olen + 3u) & ~3u);
			}
			out->n_idb++;
			break;
		case CAP_PCAPNG_EPB: {
			unsigned i = out->n_epb++;
			uint32_t cap = get32(blk + 20);

			assert_true(i < MAX_PKTS);
			out->ifid[i] = get32(blk + 8);
			out->ts[i] = (uint64_t)get32(blk + 12) << 32 | get32(blk + 16);
			out->caplen[i] = cap;
			out->origlen[i] = get32(blk + 24);
			memcpy(out->data[i], blk + 28, cap < 96 ? cap : 96);
			for (o = blk + 28 + ((cap + 3u) & ~3u); o + 4 <= end;) {
				uint16_t code = *(const uint16_t *)o,
					 olen = *(const uint16_t *)(o + 2);

				if (code == CAP_PCAPNG_OPT_END)
					break;
				if (code == CAP_PCAPNG_EPB_FLAGS)
					out->flags[i] = get32(o + 4);
				o += 4 + ((olen + 3u) & ~3u);
			}
			break;
		}
		case CAP_PCAPNG_ISB:
			for (o = blk + 20; o + 4 <= end;) {
				uint16_t code = *(const uint16_t *)o,
					 olen = *(const uint16_t *)(o + 2);

				if (code == CAP_PCAPNG_OPT_END)
					break;
				if (code == CAP_PCAPNG_OPT_COMMENT)
					copy_str(out->isb_comment, sizeof(out->isb_comment), o + 4,
						olen);
				else if (code < 9 && olen == 8)
					memcpy(&out->isb[code], o + 4, 8);
				o += 4 + ((olen + 3u) & ~3u);
			}
			out->n_isb++;
			break;
		default:
			fail_msg("unknown block type %#x", type);
		}
		off += len;
	}
}

/* A temporary file for a capture; its path in path. */
static int
tmp_file(char *path, size_t size)
{
	int fd;

	snprintf(path, size, "/tmp/test_capture.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	return fd;
}

static void
params_init(struct cap_params *p, int fd)
{
	memset(p, 0, sizeof(*p));
	p->port = 7;
	p->port_name = "vmA.eth0";
	p->port_descr = "VM port vmA.eth0 of vSwitch0";
	p->dir = CAP_DIR_BOTH;
	p->n_lanes = 1;
	p->fd = fd;
	p->tsc_hz = HZ;
	p->wall_ns = WALL0;
	p->socket = SOCKET_ID_ANY;
}

static struct cap_session *
session(const struct cap_params *p)
{
	char err[256] = "";
	struct cap_session *s = cap_session_new(p, T0, err, sizeof(err));

	if (s == NULL)
		fail_msg("cap_session_new: %s (%s)", err, strerror(errno));
	return s;
}

/* Stop s at now, poll until done (expect 1), destroy it. */
static void
finish(struct cap_session *s, uint64_t now)
{
	int r, i;

	cap_session_stop(s, CAP_END_STOPPED, now);
	for (i = 0; i < 1000 && (r = cap_session_poll(s, now)) == 0; i++)
		;
	assert_int_equal(r, 1);
	cap_session_destroy(s);
}

/* Read a capture file back (the session closed its fd). */
static void
read_back(const char *path, struct parsed *out)
{
	int fd = open(path, O_RDONLY);
	size_t n;

	assert_true(fd >= 0);
	n = read_all(fd, file_buf, sizeof(file_buf));
	close(fd);
	parse(file_buf, n, out);
}

/* How many packets libpcap reads from path. */
static int
pcap_count(const char *path, struct pcap_pkthdr *first)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0;

	if (p == NULL)
		fail_msg("pcap_open_offline: %s", errbuf);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	while (pcap_next_ex(p, &h, &data) == 1) {
		if (n == 0 && first != NULL)
			*first = *h;
		n++;
	}
	pcap_close(p);
	return n;
}

/* --- filters --- */

/* Whether expr matches m, interpreted and (where DPDK has a JIT) as native code alike. */
static bool
matches(const char *expr, struct rte_mbuf *m)
{
	char err[256];
	struct cap_filter *f = cap_filter_new(expr, 0, err, sizeof(err));
	bool r;

	if (f == NULL)
		fail_msg("%s", err);
	cap_filter_use_jit(f, false);
	r = cap_filter_match(f, m);
	if (cap_filter_use_jit(f, true) && cap_filter_match(f, m) != r)
		fail_msg("filter '%s': the JIT and the interpreter disagree", expr);
	cap_filter_free(f);
	return r;
}

static void
test_filter_protocols(void **state)
{
	struct rte_mbuf *udp = frame(&mac_b, &mac_a, 0, P_UDP, 60);
	struct rte_mbuf *icmp = frame(&mac_b, &mac_a, 0, P_ICMP, 60);
	struct rte_mbuf *arp = frame(&mac_bc, &mac_b, 0, P_ARP, 60);
	struct rte_mbuf *udp10 = frame(&mac_b, &mac_a, 10, P_UDP, 64);
	struct rte_mbuf *icmp20 = frame(&mac_a, &mac_b, 20, P_ICMP, 64);
	struct rte_mbuf *big = frame(&mac_b, &mac_a, 0, P_UDP, 1000);
	struct {
		const char *expr;
		bool udp, icmp, arp, udp10, icmp20;
	} cases[] = {
		{"", true, true, true, true, true},
		{"udp", true, false, false, false, false},
		{"icmp", false, true, false, false, false},
		{"arp", false, false, true, false, false},
		{"udp port 53", true, false, false, false, false},
		{"ether src 02:00:00:00:00:01", true, true, false, true, false},
		{"ether dst 02:00:00:00:00:01", false, false, false, false, true},
		{"ether broadcast", false, false, true, false, false},
		{"ether[0] & 1 != 0", false, false, true, false, false},
		{"vlan", false, false, false, true, true},
		{"vlan 10", false, false, false, true, false},
		{"vlan 20 and icmp", false, false, false, false, true},
		{"vlan and udp", false, false, false, true, false},
		{"not vlan", true, true, true, false, false},
		{"host 10.0.0.2", true, true, false, false, false},
		{"less 63", true, true, true, false, false},
		{"len >= 64", false, false, false, true, true},
		{"ether[12:2] = 0x0800", true, true, false, false, false},
		{"ip[9] = 17", true, false, false, false, false},
		{"ip[6:2] & 0x1fff = 0 and ip[8] > 10", true, true, false, false, false},
		{"ip[0] & 0xf0 = 0x40", true, true, false, false, false},
		{"ether[0] & 2 != 0", true, true, true, true, true},
		{"udp[2:2] < 100 or arp", true, false, true, false, false},
		{"tcp or ip6", false, false, false, false, false},
		{"ip and not icmp", true, false, false, false, false},
		{"vlan and (udp or icmp)", false, false, false, true, true},
		/* As in tcpdump, each `vlan` moves past one more tag: the second is the inner one.
		 */
		{"vlan 10 or vlan 20", false, false, false, true, false},
		{"net 10.0.0.0/24 and ip[8] = 64", true, true, false, false, false},
	};
	unsigned i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		const char *e = cases[i].expr;

		if (matches(e, udp) != cases[i].udp || matches(e, icmp) != cases[i].icmp ||
			matches(e, arp) != cases[i].arp || matches(e, udp10) != cases[i].udp10 ||
			matches(e, icmp20) != cases[i].icmp20)
			fail_msg("filter '%s': udp %d icmp %d arp %d udp10 %d icmp20 %d", e,
				matches(e, udp), matches(e, icmp), matches(e, arp),
				matches(e, udp10), matches(e, icmp20));
	}
	/* Frame length (BPF_LEN) and a load beyond a short frame. */
	assert_true(matches("greater 500", big));
	assert_false(matches("greater 500", udp));
	assert_false(matches("ether[800] = 0", udp));
	assert_true(matches("ether[800] = 0", big));
	free_all((struct rte_mbuf *[]){udp, icmp, arp, udp10, icmp20, big}, 6);
}

static void
test_filter_jit(void **state)
{
	char err[256];
	struct cap_filter *f = cap_filter_new("udp", 0, err, sizeof(err));

	assert_non_null(f);
	assert_string_equal(cap_filter_expr(f), "udp");
#if defined(RTE_ARCH_X86_64)
	assert_true(cap_filter_jitted(f));
#endif
	assert_false(cap_filter_use_jit(f, false));
	assert_false(cap_filter_jitted(f));
	cap_filter_free(f);
	cap_filter_free(NULL);

	/* DPDK 22.11's JIT miscompiles `jset` with a small immediate: interpreted. */
	f = cap_filter_new("ether[0] & 1 != 0", 0, err, sizeof(err));
	assert_non_null(f);
	assert_false(cap_filter_jitted(f));
	assert_false(cap_filter_use_jit(f, true));
	cap_filter_free(f);
}

static void
test_filter_chained(void **state)
{
	/* The UDP header lies in the second segment. */
	struct rte_mbuf *m = frame_chained(P_UDP, 200, 20);

	assert_int_equal(m->nb_segs, 2);
	assert_true(matches("udp port 53", m));
	assert_false(matches("icmp", m));
	rte_pktmbuf_free(m);
}

static void
test_filter_invalid(void **state)
{
	const char *bad[] = {"udpp", "port 70000", "ether src zz:zz", "vlan 5000", "tcp[", "host",
		"udp and", "ether host 1:2:3"};
	char err[256];
	unsigned i;

	for (i = 0; i < RTE_DIM(bad); i++) {
		err[0] = '\0';
		errno = 0;
		assert_null(cap_filter_new(bad[i], 0, err, sizeof(err)));
		assert_int_equal(errno, EINVAL);
		assert_true(strncmp(err, "filter '", 8) == 0);
		assert_non_null(strstr(err, bad[i]));
		assert_null(strchr(err, '\n'));
		assert_true(strlen(err) > strlen(bad[i]) + 12);
	}
	/* A message cut to the buffer stays a string. */
	assert_null(cap_filter_new("udpp", 0, err, 12));
	assert_int_equal(strlen(err), 11);
}

/* --- sessions --- */

static void
test_session_invalid(void **state)
{
	struct cap_params p;
	char err[256] = "";
	char path[64];
	int fd = tmp_file(path, sizeof(path));

	params_init(&p, fd);
	p.filter = "udp port";
	errno = 0;
	assert_null(cap_session_new(&p, T0, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "udp port"));
	/* The fd was the session's: closed. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);

	fd = open(path, O_WRONLY);
	params_init(&p, fd);
	p.dir = 0;
	assert_null(cap_session_new(&p, T0, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "direction"));
	assert_int_equal(fcntl(fd, F_GETFD), -1);

	fd = open(path, O_WRONLY);
	params_init(&p, fd);
	p.ring_size = 1000; /* not a power of two */
	assert_null(cap_session_new(&p, T0, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	unlink(path);
	cap_session_destroy(NULL);
}

static void
test_write_and_read_back(void **state)
{
	struct cap_params p;
	struct cap_session *s;
	struct cap_stats st;
	struct pcap_pkthdr first;
	struct parsed *r = malloc(sizeof(*r));
	char path[64];
	uint8_t want_udp[60];
	int fd = tmp_file(path, sizeof(path));
	struct rte_mbuf *in[3] = {frame(&mac_b, &mac_a, 0, P_UDP, 60),
		frame(&mac_b, &mac_a, 0, P_ICMP, 60), frame(&mac_b, &mac_a, 0, P_UDP, 300)};
	struct rte_mbuf *out[2] = {
		frame(&mac_a, &mac_b, 10, P_UDP, 64), frame(&mac_a, &mac_b, 0, P_ICMP, 60)};

	build(want_udp, &mac_b, &mac_a, 0, P_UDP, 60);
	params_init(&p, fd);
	p.filter = "udp";
	s = session(&p);
	assert_true(cap_session_params(s)->snaplen == CAP_SNAPLEN_DEFAULT);
	assert_string_equal(cap_session_params(s)->filter, "udp");
	assert_int_equal(cap_session_fd(s), fd);

	cap_offer(s, 0, in, 3, CAP_DIR_IN, T0 + 1000);
	cap_offer(s, 0, out, 2, CAP_DIR_OUT, T0 + 2000);
	/* The originals are untouched and still ours. */
	assert_int_equal(rte_mbuf_refcnt_read(in[0]), 1);
	assert_memory_equal(rte_pktmbuf_mtod(in[0], void *), want_udp, 60);

	assert_int_equal(cap_session_poll(s, T0 + 3000), 0);
	cap_session_stats(s, &st);
	assert_int_equal(st.seen, 5);
	/* `udp` does not see inside a VLAN tag, as tcpdump: the tagged one does not match. */
	assert_int_equal(st.matched, 2);
	assert_int_equal(st.copied, 2);
	assert_int_equal(st.written, 2);
	assert_int_equal(st.drop_ring + st.drop_nombuf, 0);
	assert_int_equal(st.end, CAP_END_NONE);
	finish(s, T0 + 4000);

	assert_int_equal(pcap_count(path, &first), 2);
	/* libpcap scales the ns timestamps to us. */
	assert_int_equal(first.ts.tv_sec, WALL0 / HZ);
	assert_int_equal(first.ts.tv_usec, 1);
	assert_int_equal(first.caplen, 60);

	read_back(path, r);
	assert_int_equal(r->n_shb, 1);
	assert_int_equal(r->n_idb, 1);
	assert_string_equal(r->if_name, "vmA.eth0");
	assert_string_equal(r->if_descr, "VM port vmA.eth0 of vSwitch0 (direction both)");
	assert_string_equal(r->if_filter, "udp");
	assert_int_equal(r->tsresol, 9);
	assert_int_equal(r->n_epb, 2);
	assert_int_equal(r->ifid[0], 0);
	assert_int_equal(r->flags[0], CAP_PCAPNG_FLAG_INBOUND);
	assert_int_equal(r->flags[1], CAP_PCAPNG_FLAG_INBOUND);
	assert_int_equal(r->ts[0], WALL0 + 1000);
	assert_int_equal(r->caplen[1], 300);
	assert_int_equal(r->origlen[1], 300);
	assert_memory_equal(r->data[0], want_udp, 60);
	assert_int_equal(r->n_isb, 1);
	assert_int_equal(r->isb[CAP_PCAPNG_ISB_IFRECV], 5);
	assert_int_equal(r->isb[CAP_PCAPNG_ISB_FILTERACCEPT], 2);
	assert_int_equal(r->isb[CAP_PCAPNG_ISB_IFDROP], 0);
	assert_int_equal(r->isb[CAP_PCAPNG_ISB_USRDELIV], 2);
	assert_string_equal(r->isb_comment, "capture ended: stopped");

	/* Both directions, no filter: per-packet direction. */
	fd = open(path, O_WRONLY | O_TRUNC);
	params_init(&p, fd);
	s = session(&p);
	cap_offer(s, 0, in, 1, CAP_DIR_IN, T0 + 1000);
	cap_offer(s, 0, out, 2, CAP_DIR_OUT, T0 + 2000);
	cap_offer(s, 0, in + 1, 1, CAP_DIR_IN, T0 + 3000);
	finish(s, T0 + 4000);
	read_back(path, r);
	assert_int_equal(r->n_epb, 4);
	assert_int_equal(r->flags[0], CAP_PCAPNG_FLAG_INBOUND);
	assert_int_equal(r->flags[1], CAP_PCAPNG_FLAG_OUTBOUND);
	assert_int_equal(r->flags[2], CAP_PCAPNG_FLAG_OUTBOUND);
	assert_int_equal(r->flags[3], CAP_PCAPNG_FLAG_INBOUND);
	/* The tagged frame out of a trunk port keeps its tag in the file. */
	assert_int_equal(r->caplen[1], 64);
	assert_memory_equal(r->data[1] + 12, "\x81\x00\x00\x0a", 4);
	assert_int_equal(pcap_count(path, NULL), 4);
	if (getenv("TEST_CAPTURE_KEEP") != NULL) {
		/* For a look with tcpdump -r or tshark -r outside the test. */
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "cp %s %s", path, getenv("TEST_CAPTURE_KEEP"));
		assert_int_equal(system(cmd), 0);
	}

	/* One direction only. */
	fd = open(path, O_WRONLY | O_TRUNC);
	params_init(&p, fd);
	p.dir = CAP_DIR_OUT;
	s = session(&p);
	cap_offer(s, 0, in, 3, CAP_DIR_IN, T0 + 1000);
	cap_offer(s, 0, out, 2, CAP_DIR_OUT, T0 + 2000);
	cap_session_stats(s, &st);
	assert_int_equal(st.seen, 2);
	finish(s, T0 + 4000);
	read_back(path, r);
	assert_int_equal(r->n_epb, 2);
	assert_int_equal(r->flags[0] | r->flags[1], CAP_PCAPNG_FLAG_OUTBOUND);

	unlink(path);
	free(r);
	free_all(in, 3);
	free_all(out, 2);
}

static void
test_ring_full_and_pool_empty(void **state)
{
	struct cap_params p;
	struct cap_session *s;
	struct cap_stats st;
	struct rte_mbuf *b[32];
	char path[64];
	unsigned i;
	int fd = tmp_file(path, sizeof(path));

	for (i = 0; i < 32; i++)
		b[i] = frame(&mac_b, &mac_a, 0, P_UDP, 60);

	/* A ring of 8 holds 7 copies: the rest are dropped and counted. */
	params_init(&p, fd);
	p.ring_size = 8;
	p.n_mbufs = 63;
	s = session(&p);
	cap_offer(s, 0, b, 32, CAP_DIR_IN, T0);
	cap_session_stats(s, &st);
	assert_int_equal(st.seen, 32);
	assert_int_equal(st.matched, 32);
	assert_int_equal(st.copied, 7);
	assert_int_equal(st.drop_ring, 25);
	assert_int_equal(st.drop_nombuf, 0);
	/* Forwarding is unaffected: the frames are still the caller's, unchanged. */
	for (i = 0; i < 32; i++)
		assert_int_equal(rte_mbuf_refcnt_read(b[i]), 1);
	/* Once the writer drained the ring there is room again. */
	assert_int_equal(cap_session_poll(s, T0 + 1), 0);
	cap_offer(s, 0, b, 5, CAP_DIR_IN, T0 + 2);
	cap_session_stats(s, &st);
	assert_int_equal(st.copied, 12);
	assert_int_equal(st.drop_ring, 25);
	finish(s, T0 + 3);

	struct parsed *r = malloc(sizeof(*r));

	read_back(path, r);
	assert_int_equal(r->n_epb, 12);
	assert_int_equal(r->isb[CAP_PCAPNG_ISB_IFDROP], 25);
	assert_int_equal(r->isb[CAP_PCAPNG_ISB_IFRECV], 37);
	free(r);

	/* A pool of 7 copies: the rest are dropped as no_mbuf. */
	fd = open(path, O_WRONLY | O_TRUNC);
	params_init(&p, fd);
	p.ring_size = 64;
	p.n_mbufs = 7;
	s = session(&p);
	cap_offer(s, 0, b, 32, CAP_DIR_IN, T0);
	cap_session_stats(s, &st);
	assert_int_equal(st.copied, 7);
	assert_int_equal(st.drop_nombuf, 25);
	assert_int_equal(st.drop_ring, 0);
	/* Written copies go back to the pool. */
	assert_int_equal(cap_session_poll(s, T0 + 1), 0);
	cap_offer(s, 0, b, 7, CAP_DIR_IN, T0 + 2);
	cap_session_stats(s, &st);
	assert_int_equal(st.copied, 14);
	finish(s, T0 + 3);
	assert_int_equal(pcap_count(path, NULL), 14);

	unlink(path);
	free_all(b, 32);
}

static void
test_count_and_duration(void **state)
{
	struct cap_params p;
	struct cap_session *s;
	struct cap_stats st;
	struct rte_mbuf *b[10];
	char path[64];
	unsigned i;
	int fd = tmp_file(path, sizeof(path));

	for (i = 0; i < 10; i++)
		b[i] = frame(&mac_b, &mac_a, 0, i % 2 ? P_ICMP : P_UDP, 60);

	/* Count 3 on one lane: the worker stops copying after 3. */
	params_init(&p, fd);
	p.count = 3;
	s = session(&p);
	cap_offer(s, 0, b, 10, CAP_DIR_IN, T0 + 10);
	cap_session_stats(s, &st);
	assert_int_equal(st.copied, 3);
	assert_int_equal(st.drop_ring + st.drop_nombuf, 0); /* beyond the count is no drop */
	assert_int_equal(cap_session_poll(s, T0 + 20), 1);
	cap_session_stats(s, &st);
	assert_int_equal(st.end, CAP_END_COUNT);
	assert_int_equal(st.written, 3);
	/* Nothing more once ended. */
	cap_offer(s, 0, b, 10, CAP_DIR_IN, T0 + 30);
	cap_session_stats(s, &st);
	assert_int_equal(st.seen, 10);
	assert_int_equal(cap_session_poll(s, T0 + 40), 1);
	cap_session_destroy(s);
	assert_int_equal(pcap_count(path, NULL), 3);

	/* Count 3 over two lanes: 6 copies, 3 written, the rest discarded. */
	fd = open(path, O_WRONLY | O_TRUNC);
	params_init(&p, fd);
	p.count = 3;
	p.n_lanes = 2;
	p.filter = "udp";
	s = session(&p);
	cap_offer(s, 0, b, 6, CAP_DIR_IN, T0 + 10); /* 3 udp */
	cap_offer(s, 1, b + 4, 6, CAP_DIR_IN, T0 + 5); /* 3 udp, older */
	assert_int_equal(cap_session_poll(s, T0 + 20), 1);
	cap_session_stats(s, &st);
	assert_int_equal(st.copied, 6);
	assert_int_equal(st.written, 3);
	cap_session_destroy(s);
	struct parsed *r = malloc(sizeof(*r));

	read_back(path, r);
	assert_int_equal(r->n_epb, 3);
	/* Oldest first across lanes: lane 1's frames were seen first. */
	for (i = 0; i < 3; i++)
		assert_int_equal(r->ts[i], WALL0 + 5);
	assert_string_equal(r->isb_comment, "capture ended: count");

	/* Duration: 1 s on the fake clock. */
	fd = open(path, O_WRONLY | O_TRUNC);
	params_init(&p, fd);
	p.duration_ms = 1000;
	s = session(&p);
	cap_offer(s, 0, b, 2, CAP_DIR_IN, T0 + HZ / 2);
	assert_int_equal(cap_session_poll(s, T0 + HZ / 2), 0);
	assert_int_equal(cap_session_poll(s, T0 + HZ - 1), 0);
	cap_offer(s, 0, b, 1, CAP_DIR_IN, T0 + HZ - 1);
	assert_int_equal(cap_session_poll(s, T0 + HZ), 1);
	cap_session_stats(s, &st);
	assert_int_equal(st.end, CAP_END_DURATION);
	assert_int_equal(st.written, 3);
	cap_session_destroy(s);
	read_back(path, r);
	assert_int_equal(r->n_epb, 3);
	assert_int_equal(
		r->isb[CAP_PCAPNG_ISB_STARTTIME] >> 32 | r->isb[CAP_PCAPNG_ISB_STARTTIME] << 32,
		WALL0);
	assert_int_equal(
		r->isb[CAP_PCAPNG_ISB_ENDTIME] >> 32 | r->isb[CAP_PCAPNG_ISB_ENDTIME] << 32,
		WALL0 + HZ);
	assert_string_equal(r->isb_comment, "capture ended: duration");

	free(r);
	unlink(path);
	free_all(b, 10);
}

static void
test_lanes_in_time_order(void **state)
{
	struct cap_params p;
	struct cap_session *s;
	struct parsed *r = malloc(sizeof(*r));
	struct rte_mbuf *b[4];
	char path[64];
	unsigned i;
	int fd = tmp_file(path, sizeof(path));

	for (i = 0; i < 4; i++)
		b[i] = frame(&mac_b, &mac_a, 0, P_UDP, 60 + i);
	params_init(&p, fd);
	p.n_lanes = 3;
	s = session(&p);
	cap_offer(s, 2, b, 1, CAP_DIR_OUT, T0 + 30);
	cap_offer(s, 1, b + 1, 1, CAP_DIR_IN, T0 + 10);
	cap_offer(s, 0, b + 2, 2, CAP_DIR_IN, T0 + 20);
	cap_offer(s, 1, b, 1, CAP_DIR_IN, T0 + 40);
	cap_offer(s, 3, b, 1, CAP_DIR_IN, T0 + 50); /* no such lane: ignored */
	finish(s, T0 + 100);
	read_back(path, r);
	assert_int_equal(r->n_epb, 5);
	assert_int_equal(r->ts[0], WALL0 + 10);
	assert_int_equal(r->ts[1], WALL0 + 20);
	assert_int_equal(r->ts[2], WALL0 + 20);
	assert_int_equal(r->ts[3], WALL0 + 30);
	assert_int_equal(r->ts[4], WALL0 + 40);
	/* Frames of one burst keep their order. */
	assert_int_equal(r->caplen[1], 62);
	assert_int_equal(r->caplen[2], 63);
	assert_int_equal(r->flags[3], CAP_PCAPNG_FLAG_OUTBOUND);
	unlink(path);
	free(r);
	free_all(b, 4);
}

static void
test_offloaded_vlan(void **state)
{
	struct cap_params p;
	struct cap_session *s;
	struct cap_stats st;
	struct parsed *r = malloc(sizeof(*r));
	struct rte_mbuf *m = frame(&mac_b, &mac_a, 0, P_UDP, 60);
	uint8_t want[64];
	char path[64];
	int fd = tmp_file(path, sizeof(path));

	/* As a NIC that strips tags hands it over: the tag beside the frame. */
	m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 10;
	build(want, &mac_b, &mac_a, 10, P_UDP, 64); /* the same frame, tag inline */

	params_init(&p, fd);
	p.dir = CAP_DIR_IN;
	p.filter = "vlan 10 and udp";
	s = session(&p);
	cap_offer(s, 0, &m, 1, CAP_DIR_IN, T0);
	/* The frame itself is not changed. */
	assert_int_equal(m->pkt_len, 60);
	assert_true(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED);
	cap_session_stats(s, &st);
	assert_int_equal(st.matched, 1);
	finish(s, T0 + 1);
	read_back(path, r);
	assert_int_equal(r->n_epb, 1);
	assert_int_equal(r->caplen[0], 64);
	assert_int_equal(r->origlen[0], 64);
	assert_memory_equal(r->data[0], want, 64);

	/* Another VLAN: not captured; out direction ignores RX flags. */
	fd = open(path, O_WRONLY | O_TRUNC);
	params_init(&p, fd);
	p.filter = "vlan 20";
	s = session(&p);
	cap_offer(s, 0, &m, 1, CAP_DIR_IN, T0);
	cap_offer(s, 0, &m, 1, CAP_DIR_OUT, T0);
	cap_session_stats(s, &st);
	assert_int_equal(st.seen, 2);
	assert_int_equal(st.matched, 0);
	finish(s, T0 + 1);
	read_back(path, r);
	assert_int_equal(r->n_epb, 0);

	unlink(path);
	free(r);
	rte_pktmbuf_free(m);
}

static void
test_snaplen_and_long_frames(void **state)
{
	struct cap_params p;
	struct cap_session *s;
	struct parsed *r = malloc(sizeof(*r));
	struct rte_mbuf *big = frame(&mac_b, &mac_a, 0, P_UDP, 1000);
	struct rte_mbuf *chained = frame_chained(P_UDP, 1500, 700);
	struct rte_mbuf *jumbo;
	uint8_t want[1500];
	char path[64];
	unsigned i;
	int fd = tmp_file(path, sizeof(path));

	/* snaplen 64: the first 64 bytes, the length on the wire. */
	params_init(&p, fd);
	p.snaplen = 64;
	s = session(&p);
	cap_offer(s, 0, &big, 1, CAP_DIR_IN, T0);
	cap_offer(s, 0, &chained, 1, CAP_DIR_IN, T0);
	finish(s, T0 + 1);
	read_back(path, r);
	assert_int_equal(r->n_epb, 2);
	assert_int_equal(r->caplen[0], 64);
	assert_int_equal(r->origlen[0], 1000);
	assert_memory_equal(r->data[0], rte_pktmbuf_mtod(big, void *), 64);
	assert_int_equal(r->caplen[1], 64);
	assert_int_equal(r->origlen[1], 1500);

	/* A chained frame and one longer than a copy mbuf holds: copied whole. */
	jumbo = rte_pktmbuf_alloc(pool);
	assert_non_null(jumbo);
	for (i = 0; i < 4; i++) {
		struct rte_mbuf *seg = i == 0 ? jumbo : rte_pktmbuf_alloc(pool);
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(seg, 1500);

		for (unsigned j = 0; j < 1500; j++)
			d[j] = (uint8_t)(i * 7 + j);
		if (i > 0)
			assert_int_equal(rte_pktmbuf_chain(jumbo, seg), 0);
	}
	fd = open(path, O_WRONLY | O_TRUNC);
	params_init(&p, fd);
	s = session(&p);
	cap_offer(s, 0, &chained, 1, CAP_DIR_IN, T0);
	cap_offer(s, 0, &jumbo, 1, CAP_DIR_OUT, T0 + 1);
	finish(s, T0 + 2);
	fd = open(path, O_RDONLY);
	size_t n = read_all(fd, file_buf, sizeof(file_buf));
	close(fd);
	parse(file_buf, n, r);
	assert_int_equal(r->n_epb, 2);
	assert_int_equal(r->caplen[0], 1500);
	build(want, &mac_b, &mac_a, 0, P_UDP, 1500);
	assert_memory_equal(r->data[0], want, 96);
	assert_int_equal(r->caplen[1], 6000);
	assert_int_equal(r->origlen[1], 6000);
	/* The last byte of the jumbo frame, found in the file. */
	{
		const uint8_t *tail = memmem(file_buf, n,
			rte_pktmbuf_mtod_offset(rte_pktmbuf_lastseg(jumbo), void *, 1400), 100);

		assert_non_null(tail);
	}
	assert_int_equal(pcap_count(path, NULL), 2);

	unlink(path);
	free(r);
	rte_pktmbuf_free(big);
	rte_pktmbuf_free(chained);
	rte_pktmbuf_free(jumbo);
}

static void
test_chain(void **state)
{
	struct cap_params p;
	struct cap_session *a, *b, *c, *head = NULL;
	struct cap_stats st;
	struct rte_mbuf *m = frame(&mac_b, &mac_a, 0, P_UDP, 60);
	char path[3][64];

	params_init(&p, tmp_file(path[0], sizeof(path[0])));
	p.dir = CAP_DIR_IN;
	a = session(&p);
	params_init(&p, tmp_file(path[1], sizeof(path[1])));
	p.dir = CAP_DIR_OUT;
	b = session(&p);
	params_init(&p, tmp_file(path[2], sizeof(path[2])));
	p.filter = "icmp";
	c = session(&p);

	/* Nothing to do without a capture. */
	cap_offer(head, 0, &m, 1, CAP_DIR_IN, T0);

	head = cap_chain_add(head, a);
	head = cap_chain_add(head, b);
	head = cap_chain_add(head, c);
	assert_ptr_equal(head, c);
	cap_offer(head, 0, &m, 1, CAP_DIR_IN, T0);
	cap_offer(head, 0, &m, 1, CAP_DIR_OUT, T0);
	cap_session_stats(a, &st);
	assert_int_equal(st.copied, 1);
	cap_session_stats(b, &st);
	assert_int_equal(st.copied, 1);
	cap_session_stats(c, &st);
	assert_int_equal(st.seen, 2);
	assert_int_equal(st.copied, 0);

	/* Unlink from the middle (in place), then the head. */
	head = cap_chain_del(head, b);
	assert_ptr_equal(head, c);
	cap_offer(head, 0, &m, 1, CAP_DIR_IN, T0);
	cap_session_stats(b, &st);
	assert_int_equal(st.seen, 1);
	cap_session_stats(a, &st);
	assert_int_equal(st.seen, 2);
	head = cap_chain_del(head, c);
	assert_ptr_equal(head, a);
	head = cap_chain_del(head, c); /* not linked: no change */
	assert_ptr_equal(head, a);
	head = cap_chain_del(head, a);
	assert_null(head);

	finish(a, T0 + 1);
	finish(b, T0 + 1);
	finish(c, T0 + 1);
	for (unsigned i = 0; i < 3; i++)
		unlink(path[i]);
	rte_pktmbuf_free(m);
}

/* Read a pcapng stream from a pipe with libpcap until EOF; count the packets. */
static void *
pipe_reader(void *arg)
{
	int *fd = arg;
	char errbuf[PCAP_ERRBUF_SIZE];
	FILE *f = fdopen(*fd, "r");
	pcap_t *p;
	struct pcap_pkthdr *h;
	const u_char *data;
	intptr_t n = 0;

	usleep(50 * 1000); /* a slow reader: the writer finds the pipe full */
	p = pcap_fopen_offline(f, errbuf);
	if (p == NULL) {
		fclose(f);
		return (void *)(intptr_t)-1;
	}
	while (pcap_next_ex(p, &h, &data) == 1)
		n++;
	pcap_close(p);
	return (void *)n;
}

/* Write n frames of len bytes through a session to fd, polling without blocking. */
static void
stream(int fd, unsigned n, uint16_t len, bool check_nonblocking)
{
	struct cap_params p;
	struct cap_session *s;
	struct cap_stats st;
	struct rte_mbuf *b[32];
	bool was_full = false;
	uint64_t now = T0;
	unsigned i, sent = 0;
	int r;

	for (i = 0; i < 32; i++)
		b[i] = frame(&mac_b, &mac_a, 0, P_UDP, len);
	params_init(&p, fd);
	p.buf_size = 128 << 10;
	s = session(&p);
	while (sent < n) {
		unsigned k = RTE_MIN(32u, n - sent);

		cap_offer(s, 0, b, (uint16_t)k, CAP_DIR_IN, ++now);
		cap_session_stats(s, &st);
		sent = (unsigned)(st.copied + st.drop_ring + st.drop_nombuf);
		assert_int_equal(st.drop_ring + st.drop_nombuf, 0);
		do {
			uint64_t t = rte_rdtsc();

			r = cap_session_poll(s, now);
			/* A full pipe never makes the writer wait (allow a slow machine). */
			if (check_nonblocking)
				assert_true(rte_rdtsc() - t < rte_get_tsc_hz() / 10);
			assert_int_equal(r, 0);
			if (cap_session_wants_write(s)) {
				struct pollfd pfd = {.fd = cap_session_fd(s), .events = POLLOUT};

				was_full = true;
				poll(&pfd, 1, 1000);
			}
			cap_session_stats(s, &st);
		} while (st.written < st.copied);
	}
	cap_session_stop(s, CAP_END_STOPPED, now);
	while ((r = cap_session_poll(s, now)) == 0) {
		struct pollfd pfd = {.fd = cap_session_fd(s), .events = POLLOUT};

		poll(&pfd, 1, 1000);
	}
	assert_int_equal(r, 1);
	if (check_nonblocking)
		assert_true(was_full);
	cap_session_destroy(s); /* closes the write end: EOF for the reader */
	free_all(b, 32);
}

static void
test_pipe_nonblocking(void **state)
{
	pthread_t t;
	void *n;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	fcntl(fds[1], F_SETPIPE_SZ, 4096);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	assert_int_equal(pthread_create(&t, NULL, pipe_reader, &fds[0]), 0);
	stream(fds[1], 300, 1000, true);
	assert_int_equal(pthread_join(t, &n), 0);
	assert_int_equal((intptr_t)n, 300);
}

static void
test_output_error(void **state)
{
	struct cap_params p;
	struct cap_session *s;
	struct cap_stats st;
	struct rte_mbuf *m = frame(&mac_b, &mac_a, 0, P_UDP, 60);
	int fds[2], r;

	/* The reader went away (tcpdump quit): EPIPE ends the capture. */
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	params_init(&p, fds[1]);
	errno = 0;
	s = cap_session_new(&p, T0, NULL, 0);
	if (s != NULL) {
		cap_offer(s, 0, &m, 1, CAP_DIR_IN, T0);
		r = cap_session_poll(s, T0 + 1);
		assert_int_equal(r, -EPIPE);
		assert_int_equal(cap_session_poll(s, T0 + 2), -EPIPE);
		cap_session_stats(s, &st);
		assert_int_equal(st.end, CAP_END_OUTPUT);
		cap_offer(s, 0, &m, 1, CAP_DIR_IN, T0 + 3);
		cap_session_stats(s, &st);
		assert_int_equal(st.seen, 1);
		cap_session_destroy(s);
	} else {
		/* The header could not be written either. */
		assert_int_equal(errno, EPIPE);
	}
	rte_pktmbuf_free(m);
}

/* `portico capture ... -w - | tcpdump -r -`: tcpdump reads the stream from a pipe. */
static void
test_tcpdump_pipe(void **state)
{
	char out[] = "/tmp/test_capture_tcpdump.XXXXXX";
	char line[512];
	unsigned lines = 0;
	int fds[2], ofd, status;
	FILE *f;
	pid_t pid;

	if (system("command -v tcpdump >/dev/null 2>&1") != 0) {
		print_message("tcpdump not installed: skipped\n");
		skip();
	}
	ofd = mkstemp(out);
	assert_true(ofd >= 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[0], 0);
		dup2(ofd, 1);
		close(fds[0]);
		close(fds[1]);
		freopen("/dev/null", "w", stderr);
		execlp("tcpdump", "tcpdump", "-r", "-", "-nn", "-e", NULL);
		_exit(127);
	}
	close(fds[0]);
	close(ofd);
	stream(fds[1], 100, 100, false);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	f = fopen(out, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (lines == 0)
			print_message("tcpdump -r -: %s", line);
		if (strstr(line, "10.0.0.1.4000 > 10.0.0.2.53") != NULL)
			lines++;
	}
	fclose(f);
	unlink(out);
	assert_int_equal(lines, 100);
}

/* --- what it costs (printed, not asserted) --- */

#define ROUNDS 2000

static uint64_t timer_overhead; /* cycles two rte_rdtsc_precise() take */

/* The best of ROUNDS bursts (steadier than a mean on a shared machine), per frame. */
static double
measure_offer(struct cap_session *s, struct rte_mbuf **b, unsigned n, unsigned *copied)
{
	uint64_t best = UINT64_MAX, t;
	struct cap_stats st;
	unsigned r;

	for (r = 0; r < ROUNDS; r++) {
		t = rte_rdtsc_precise();
		cap_offer(s, 0, b, (uint16_t)n, CAP_DIR_IN, T0 + r);
		t = rte_rdtsc_precise() - t;
		t = t > timer_overhead ? t - timer_overhead : 0;
		if (t < best)
			best = t;
		if (s != NULL)
			cap_session_poll(s, T0 + r);
	}
	if (s != NULL) {
		cap_session_stats(s, &st);
		*copied = (unsigned)(st.copied / ROUNDS);
	}
	return (double)best / n;
}

static void
test_cost(void **state)
{
	struct cap_params p;
	struct cap_session *s;
	struct cap_session *volatile none = NULL;
	struct rte_mbuf *small[32], *large[32], *icmp[32];
	unsigned i, copied = 0;
	uint64_t t;
	int fd;

	for (i = 0; i < 32; i++) {
		small[i] = frame(&mac_b, &mac_a, 0, P_UDP, 64);
		large[i] = frame(&mac_b, &mac_a, 0, P_UDP, 1514);
		icmp[i] = frame(&mac_b, &mac_a, 0, P_ICMP, 64);
	}
	timer_overhead = UINT64_MAX;
	for (i = 0; i < ROUNDS; i++) {
		t = rte_rdtsc_precise();
		t = rte_rdtsc_precise() - t;
		timer_overhead = RTE_MIN(timer_overhead, t);
	}
	print_message("cost (TSC %.2f GHz, cycles per frame, best of %u bursts of 32, "
		      "timer overhead of %" PRIu64 " cycles subtracted):\n",
		rte_get_tsc_hz() / 1e9, ROUNDS, timer_overhead);
	print_message("  no capture (NULL pointer):       %6.2f per burst\n",
		32 * measure_offer(none, small, 32, &copied));

	fd = open("/dev/null", O_WRONLY);
	params_init(&p, fd);
	p.dir = CAP_DIR_OUT;
	s = session(&p);
	print_message("  capture of the other direction:  %6.2f per burst\n",
		32 * measure_offer(s, small, 32, &copied));
	cap_session_destroy(s);

	struct {
		const char *what, *filter;
		struct rte_mbuf **b;
	} cases[] = {
		{"copy 64 B, no filter", NULL, small},
		{"copy 1514 B, no filter", NULL, large},
		{"copy 64 B, filter 'udp' matches", "udp", small},
		{"filter 'udp' rejects (icmp)", "udp", icmp},
		{"filter 'udp port 53 and host 10.0.0.2'", "udp port 53 and host 10.0.0.2", small},
	};
	for (i = 0; i < RTE_DIM(cases); i++) {
		fd = open("/dev/null", O_WRONLY);
		params_init(&p, fd);
		p.dir = CAP_DIR_IN;
		p.filter = cases[i].filter;
		s = session(&p);
		double c = measure_offer(s, cases[i].b, 32, &copied);

		print_message("  %-38s %6.2f (%u of 32 copied)\n", cases[i].what, c, copied);
		cap_session_destroy(s);
	}

	/* The alternatives, for comparison: rte_pktmbuf_copy() and a clone (refcount). */
	{
		struct rte_mempool *mp = rte_pktmbuf_pool_create(
			"cmp", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		struct rte_mbuf *c[32];
		uint64_t best[2] = {UINT64_MAX, UINT64_MAX};

		assert_non_null(mp);
		for (unsigned r = 0; r < ROUNDS; r++) {
			for (int clone = 0; clone < 2; clone++) {
				t = rte_rdtsc_precise();
				for (unsigned k = 0; k < 32; k++)
					c[k] = clone
						? rte_pktmbuf_clone(small[k], mp)
						: rte_pktmbuf_copy(small[k], mp, 0, UINT32_MAX);
				t = rte_rdtsc_precise() - t - timer_overhead;
				best[clone] = RTE_MIN(best[clone], t);
				free_all(c, 32);
			}
		}
		print_message("  (rte_pktmbuf_copy 64 B alone:     %6.2f)\n", (double)best[0] / 32);
		print_message("  (rte_pktmbuf_clone alone:         %6.2f)\n", (double)best[1] / 32);
		rte_mempool_free(mp);
	}

	/* Filters alone, native and interpreted. */
	const char *exprs[] = {"udp", "udp port 53 and host 10.0.0.2"};
	for (i = 0; i < RTE_DIM(exprs); i++) {
		char err[256];
		struct cap_filter *f = cap_filter_new(exprs[i], 0, err, sizeof(err));

		assert_non_null(f);
		for (int jit = 1; jit >= 0; jit--) {
			uint64_t best = UINT64_MAX;

			if (cap_filter_use_jit(f, jit) != (bool)jit)
				continue;
			for (unsigned r = 0; r < ROUNDS; r++) {
				unsigned hits = 0;

				t = rte_rdtsc_precise();
				for (unsigned k = 0; k < 32; k++)
					hits += cap_filter_match(f, icmp[k]);
				t = rte_rdtsc_precise() - t - timer_overhead;
				assert_int_equal(hits, 0);
				best = RTE_MIN(best, t);
			}
			print_message("  filter '%s' alone, %s: %6.2f\n", exprs[i],
				jit ? "native" : "interpreted", (double)best / 32);
		}
		cap_filter_free(f);
	}

	/* The writer: pcapng to /dev/null, per frame. */
	fd = open("/dev/null", O_WRONLY);
	params_init(&p, fd);
	s = session(&p);
	t = 0;
	for (i = 0; i < ROUNDS; i++) {
		uint64_t t0;

		cap_offer(s, 0, small, 32, CAP_DIR_IN, T0 + i);
		t0 = rte_rdtsc_precise();
		cap_session_poll(s, T0 + i);
		t += rte_rdtsc_precise() - t0;
	}
	print_message("  writer, 64 B frames (control side): %6.2f\n", (double)t / (ROUNDS * 32));
	cap_session_destroy(s);

	free_all(small, 32);
	free_all(large, 32);
	free_all(icmp, 32);
}

int
main(int argc, char **argv)
{
	char *eal[] = {argv[0], "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "-l", "0",
		"--log-level", "*:error", NULL};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_protocols),
		cmocka_unit_test(test_filter_jit),
		cmocka_unit_test(test_filter_chained),
		cmocka_unit_test(test_filter_invalid),
		cmocka_unit_test(test_session_invalid),
		cmocka_unit_test(test_write_and_read_back),
		cmocka_unit_test(test_ring_full_and_pool_empty),
		cmocka_unit_test(test_count_and_duration),
		cmocka_unit_test(test_lanes_in_time_order),
		cmocka_unit_test(test_offloaded_vlan),
		cmocka_unit_test(test_snaplen_and_long_frames),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_pipe_nonblocking),
		cmocka_unit_test(test_output_error),
		cmocka_unit_test(test_tcpdump_pipe),
		cmocka_unit_test(test_cost),
	};
	int ret;

	(void)argc;
	signal(SIGPIPE, SIG_IGN); /* as porticod: a reader that quits is an EPIPE */
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create(
		"test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return ret;
}
