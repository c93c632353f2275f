/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico-pktgen: a packet generator for benchmarking vhost-user switches.
 *
 * Ports are virtio_user devices on the switch's vhost-user sockets (server
 * by default: the switch connects as a client, as it would to QEMU) or any
 * DPDK devargs. Streams send UDP frames of a given size at a given rate
 * (paced on the TSC) from one port, and are counted where they come back,
 * with a timestamp in the payload for latency percentiles. On two CPUs the
 * switch owns one, so tx and rx share one lcore here, and the main lcore
 * only sleeps, reads counters once a second and writes the summary.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "bench/hist.h"

#define MAX_PORTS 8
#define MAX_STREAMS 16
#define BURST 32
#define RING_SIZE 1024
#define N_MBUFS 16383
#define MAGIC 0x5047u /* "PG" */
#define HDR_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))

/* What a frame carries after its UDP header: 16 bytes, so 42 + 16 fit in 64. */
struct stamp {
	uint16_t magic;
	uint16_t stream;
	uint32_t seq; /* low bits of the stream's sequence number */
	uint64_t tsc; /* when it was sent */
} __rte_packed;

/* An inclusive range that cycles per packet. */
struct range {
	uint64_t first;
	uint64_t last;
};

struct stream {
	uint16_t tx_port;
	int rx_port; /* -1: not received */
	uint16_t size;
	uint16_t vlan; /* 0: untagged */
	double rate_pps; /* 0: as fast as the port takes them */
	char rate_text[32];
	uint64_t count; /* 0: until the end */
	struct rte_ether_addr src_mac, dst_mac;
	struct range src_ip, dst_ip, sport, dport;
	/* Worker state. */
	uint8_t tmpl[HDR_LEN + 4]; /* header template (with room for a tag) */
	uint16_t hdr_len;
	bool vary_ip; /* addresses cycle: rewrite them and the checksum per frame */
	bool vary_port; /* UDP ports cycle */
	uint64_t next_seq;
	uint64_t tx_packets; /* written by the worker only */
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t start_tsc;
	/* The window, in sequence numbers, latched by the worker. */
	bool win_open; /* the window has started */
	uint64_t win_first; /* first sequence number sent in the window */
	uint64_t win_rx; /* frames of the window received, drain included */
	struct hist lat; /* TSC cycles, frames received in the window */
};

struct port {
	char spec[512];
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t id;
	uint64_t tx_refused; /* frames a tx burst did not take */
};

static struct {
	unsigned n_ports;
	struct port ports[MAX_PORTS];
	unsigned n_streams;
	struct stream streams[MAX_STREAMS];
	double duration, warmup, drain, link_timeout;
	double speed_bps;
	const char *json_path;
	bool quiet;
	unsigned lat_every; /* record the latency of one frame in this many (0: none) */
	int cpu;
	char eal_extra[512];
	struct rte_mempool *mp;
	volatile bool sending; /* worker sends while set */
	volatile bool running; /* worker polls while set */
	volatile bool window; /* latency is recorded while set */
} g = {
	.duration = 10,
	.warmup = 2,
	.drain = 0.5,
	.link_timeout = 30,
	.speed_bps = 10e9,
	.cpu = -1,
	.lat_every = 1,
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: portico-pktgen --cpu N --port SPEC [--port SPEC...] --stream SPEC [...]\n"
		"         [--duration S] [--warmup S] [--drain S] [--speed BPS] [--json FILE|-]\n"
		"         [--quiet] [--link-timeout S] [--eal \"EAL args\"] [--latency-every N]\n"
		"  --port "
		"vhost:PATH[,server|,client][,mrg_rxbuf=0|1][,in_order=0|1][,packed_vq=0|1]\n"
		"         [,queue_size=N]   a virtio_user port (server by default)\n"
		"  --port dev:DEVARGS      any DPDK device\n"
		"  --stream tx=P,rx=P,size=64,rate=max|PPS|N%%[,count=N][,src_mac=M][,dst_mac=M]\n"
		"         [,src_ip=A[-B]][,dst_ip=A[-B]][,sport=A[-B]][,dport=A[-B]][,vlan=V]\n"
		"  --latency-every N       time one frame in N (default 1; 0: none)\n");
}

/* --- parsing --- */

static int
parse_range(const char *s, struct range *r, bool ip)
{
	char a[64], *dash;
	struct in_addr in;

	snprintf(a, sizeof(a), "%s", s);
	dash = strchr(a, '-');
	if (dash != NULL)
		*dash++ = '\0';
	if (ip) {
		if (inet_pton(AF_INET, a, &in) != 1)
			return -EINVAL;
		r->first = rte_be_to_cpu_32(in.s_addr);
		r->last = r->first;
		if (dash != NULL) {
			if (inet_pton(AF_INET, dash, &in) != 1)
				return -EINVAL;
			r->last = rte_be_to_cpu_32(in.s_addr);
		}
	} else {
		char *end;

		r->first = strtoull(a, &end, 0);
		if (*end != '\0' || r->first > 65535)
			return -EINVAL;
		r->last = r->first;
		if (dash != NULL) {
			r->last = strtoull(dash, &end, 0);
			if (*end != '\0' || r->last > 65535)
				return -EINVAL;
		}
	}
	return r->first <= r->last ? 0 : -EINVAL;
}

static int
parse_rate(struct stream *st, const char *v)
{
	char *end;
	double x;

	snprintf(st->rate_text, sizeof(st->rate_text), "%s", v);
	if (strcmp(v, "max") == 0) {
		st->rate_pps = 0;
		return 0;
	}
	x = strtod(v, &end);
	if (end == v || x <= 0)
		return -EINVAL;
	switch (*end) {
	case '%':
		/* Percent of --speed, in frames of this size on the wire (+20: preamble, gap). */
		x = g.speed_bps * x / 100 / ((st->size + 4 + 20) * 8.0);
		end++;
		break;
	case 'M':
	case 'm':
		x *= 1e6, end++;
		break;
	case 'k':
	case 'K':
		x *= 1e3, end++;
		break;
	}
	if (*end != '\0')
		return -EINVAL;
	st->rate_pps = x;
	return 0;
}

static int
parse_stream(const char *spec)
{
	struct stream *st;
	char buf[1024], *tok, *save = NULL;
	const char *rate = "max";

	if (g.n_streams == MAX_STREAMS)
		return -ENOSPC;
	st = &g.streams[g.n_streams];
	memset(st, 0, sizeof(*st));
	st->rx_port = 1;
	st->size = 64;
	rte_ether_unformat_addr("02:00:00:00:00:0a", &st->src_mac);
	rte_ether_unformat_addr("02:00:00:00:00:0b", &st->dst_mac);
	parse_range("198.18.0.1", &st->src_ip, true);
	parse_range("198.19.0.1", &st->dst_ip, true);
	parse_range("1024", &st->sport, false);
	parse_range("1024", &st->dport, false);
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '=');
		int ret = 0;

		if (v == NULL)
			return -EINVAL;
		*v++ = '\0';
		if (strcmp(tok, "tx") == 0)
			st->tx_port = (uint16_t)atoi(v);
		else if (strcmp(tok, "rx") == 0)
			st->rx_port = atoi(v);
		else if (strcmp(tok, "size") == 0)
			st->size = (uint16_t)atoi(v);
		else if (strcmp(tok, "rate") == 0)
			rate = v;
		else if (strcmp(tok, "count") == 0)
			st->count = strtoull(v, NULL, 0);
		else if (strcmp(tok, "vlan") == 0)
			st->vlan = (uint16_t)atoi(v);
		else if (strcmp(tok, "src_mac") == 0)
			ret = rte_ether_unformat_addr(v, &st->src_mac);
		else if (strcmp(tok, "dst_mac") == 0)
			ret = rte_ether_unformat_addr(v, &st->dst_mac);
		else if (strcmp(tok, "src_ip") == 0)
			ret = parse_range(v, &st->src_ip, true);
		else if (strcmp(tok, "dst_ip") == 0)
			ret = parse_range(v, &st->dst_ip, true);
		else if (strcmp(tok, "sport") == 0)
			ret = parse_range(v, &st->sport, false);
		else if (strcmp(tok, "dport") == 0)
			ret = parse_range(v, &st->dport, false);
		else
			ret = -EINVAL;
		if (ret != 0) {
			fprintf(stderr, "portico-pktgen: bad stream field %s=%s\n", tok, v);
			return -EINVAL;
		}
	}
	if (st->size < 64 || st->size > 9000 || st->vlan > 4094) {
		fprintf(stderr, "portico-pktgen: size must be 64..9000, vlan 0..4094\n");
		return -EINVAL;
	}
	if (parse_rate(st, rate) != 0) {
		fprintf(stderr, "portico-pktgen: bad rate %s\n", rate);
		return -EINVAL;
	}
	g.n_streams++;
	return 0;
}

/* The EAL --vdev argument of a port spec. */
static int
port_vdev(unsigned i, char *out, size_t len)
{
	const char *spec = g.ports[i].spec;

	if (strncmp(spec, "dev:", 4) == 0) {
		snprintf(out, len, "%s", spec + 4);
		return 0;
	}
	if (strncmp(spec, "vhost:", 6) == 0) {
		char path[256], opts[256] = "";
		const char *comma = strchr(spec + 6, ',');
		bool server = true;
		char mrg[8] = "1", inord[8] = "0", packed[8] = "0", qs[16] = "1024";
		char buf[256], *tok, *save = NULL;

		snprintf(path, sizeof(path), "%.*s",
			(int)(comma ? (size_t)(comma - spec - 6) : strlen(spec + 6)), spec + 6);
		if (comma != NULL) {
			snprintf(buf, sizeof(buf), "%s", comma + 1);
			for (tok = strtok_r(buf, ",", &save); tok;
				tok = strtok_r(NULL, ",", &save)) {
				if (strcmp(tok, "server") == 0)
					server = true;
				else if (strcmp(tok, "client") == 0)
					server = false;
				else if (sscanf(tok, "mrg_rxbuf=%7s", mrg) == 1 ||
					sscanf(tok, "in_order=%7s", inord) == 1 ||
					sscanf(tok, "packed_vq=%7s", packed) == 1 ||
					sscanf(tok, "queue_size=%15s", qs) == 1)
					;
				else
					return -EINVAL;
			}
		}
		snprintf(opts, sizeof(opts),
			"server=%d,mrg_rxbuf=%s,in_order=%s,packed_vq=%s,queue_size=%s", server,
			mrg, inord, packed, qs);
		snprintf(out, len, "net_virtio_user%u,path=%s,%s", i, path, opts);
		return 0;
	}
	return -EINVAL;
}

/* --- frames --- */

static void
stream_template(struct stream *st)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)st->tmpl;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint16_t l3 = RTE_ETHER_HDR_LEN;

	memset(st->tmpl, 0, sizeof(st->tmpl));
	rte_ether_addr_copy(&st->dst_mac, &eth->dst_addr);
	rte_ether_addr_copy(&st->src_mac, &eth->src_addr);
	if (st->vlan != 0) {
		struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eth + 1);

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(st->vlan);
		vh->eth_proto = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		l3 += sizeof(*vh);
	} else {
		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	}
	ip = (struct rte_ipv4_hdr *)(st->tmpl + l3);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(st->size - l3));
	ip->src_addr = rte_cpu_to_be_32((uint32_t)st->src_ip.first);
	ip->dst_addr = rte_cpu_to_be_32((uint32_t)st->dst_ip.first);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16((uint16_t)st->sport.first);
	udp->dst_port = rte_cpu_to_be_16((uint16_t)st->dport.first);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(st->size - l3 - sizeof(*ip)));
	st->hdr_len = (uint16_t)(l3 + sizeof(*ip) + sizeof(*udp));
	st->vary_ip = st->src_ip.first != st->src_ip.last || st->dst_ip.first != st->dst_ip.last;
	st->vary_port = st->sport.first != st->sport.last || st->dport.first != st->dport.last;
}

static inline uint64_t
cycle(const struct range *r, uint64_t seq)
{
	return r->first + seq % (r->last - r->first + 1);
}

/* Fill one frame of stream st. Worker lcore. */
static inline void
stream_fill(struct stream *st, uint16_t id, struct rte_mbuf *m, uint64_t now)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + st->hdr_len - 28);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct stamp *sp = (struct stamp *)(udp + 1);
	uint64_t seq = st->next_seq++;

	/* The template holds the fixed addresses, ports and checksum. */
	memcpy(p, st->tmpl, st->hdr_len);
	if (unlikely(st->vary_ip)) {
		ip->src_addr = rte_cpu_to_be_32((uint32_t)cycle(&st->src_ip, seq));
		ip->dst_addr = rte_cpu_to_be_32((uint32_t)cycle(&st->dst_ip, seq));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (unlikely(st->vary_port)) {
		udp->src_port = rte_cpu_to_be_16((uint16_t)cycle(&st->sport, seq));
		udp->dst_port = rte_cpu_to_be_16((uint16_t)cycle(&st->dport, seq));
	}
	sp->magic = MAGIC;
	sp->stream = id;
	sp->seq = (uint32_t)seq;
	sp->tsc = now;
	m->data_len = st->size;
	m->pkt_len = st->size;
}

/* Account one received frame. Worker lcore. */
static inline void
rx_one(struct rte_mbuf *m, uint64_t now)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)p;
	size_t off = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr);
	const struct stamp *sp;
	struct stream *st;

	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_VLAN))
		off += sizeof(struct rte_vlan_hdr);
	if (m->data_len < off + sizeof(*sp))
		return;
	sp = (const struct stamp *)(p + off);
	if (sp->magic != MAGIC || sp->stream >= g.n_streams)
		return;
	st = &g.streams[sp->stream];
	st->rx_packets++;
	st->rx_bytes += m->pkt_len;
	/* Sent in the window? (32-bit sequence arithmetic; sending stops at its end.) */
	if (st->win_open &&
		(uint32_t)(sp->seq - (uint32_t)st->win_first) <
			(uint32_t)(st->next_seq - st->win_first))
		st->win_rx++;
	if (g.window && g.lat_every != 0 && sp->seq % g.lat_every == 0 && now > sp->tsc)
		hist_record(&st->lat, now - sp->tsc);
}

/* The one lcore that sends and receives. */
static int
worker(void *arg)
{
	uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc();
	struct rte_mbuf *pkts[BURST];
	(void)arg;

	for (unsigned s = 0; s < g.n_streams; s++)
		g.streams[s].start_tsc = start;
	while (g.running) {
		uint64_t now = rte_rdtsc();

		if (g.sending) {
			for (unsigned s = 0; s < g.n_streams; s++) {
				struct stream *st = &g.streams[s];
				uint64_t want = BURST;
				uint16_t n, sent, i;

				if (unlikely(g.window && !st->win_open)) {
					st->win_first = st->next_seq;
					st->win_open = true;
				}
				if (st->rate_pps > 0) {
					uint64_t due = (uint64_t)((double)(now - st->start_tsc) *
						st->rate_pps / (double)hz);

					want = due > st->tx_packets ? due - st->tx_packets : 0;
					if (want > BURST)
						want = BURST;
				}
				if (st->count != 0 && st->tx_packets + want > st->count)
					want = st->count - st->tx_packets;
				if (want == 0)
					continue;
				if (rte_pktmbuf_alloc_bulk(g.mp, pkts, (unsigned)want) != 0)
					continue;
				for (i = 0; i < want; i++)
					stream_fill(st, (uint16_t)s, pkts[i], now);
				n = (uint16_t)want;
				sent = rte_eth_tx_burst(g.ports[st->tx_port].id, 0, pkts, n);
				if (sent < n) {
					/* Backpressure: give the sequence numbers back, retry
					 * later. */
					g.ports[st->tx_port].tx_refused += n - sent;
					st->next_seq -= n - sent;
					rte_pktmbuf_free_bulk(pkts + sent, n - sent);
				}
				st->tx_packets += sent;
			}
		}
		for (unsigned p = 0; p < g.n_ports; p++) {
			uint16_t n = rte_eth_rx_burst(g.ports[p].id, 0, pkts, BURST);

			if (n == 0)
				continue;
			now = rte_rdtsc();
			for (uint16_t i = 0; i < n; i++)
				rx_one(pkts[i], now);
			rte_pktmbuf_free_bulk(pkts, n);
		}
	}
	return 0;
}

/* --- setup, main loop, summary --- */

static int
port_start(struct port *p)
{
	struct rte_eth_conf conf = {0};
	int ret;

	ret = rte_eth_dev_configure(p->id, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(p->id, 0, RING_SIZE, rte_socket_id(), NULL, g.mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(p->id, 0, RING_SIZE, rte_socket_id(), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(p->id);
	if (ret == 0)
		rte_eth_promiscuous_enable(p->id);
	return ret;
}

static bool
links_up(void)
{
	for (unsigned i = 0; i < g.n_ports; i++) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(g.ports[i].id, &link) != 0 ||
			link.link_status != RTE_ETH_LINK_UP)
			return false;
	}
	return true;
}

static void
sleep_s(double s)
{
	if (s > 0)
		usleep((useconds_t)(s * 1e6));
}

struct snap {
	uint64_t tx[MAX_STREAMS];
	uint64_t rx[MAX_STREAMS];
	uint64_t rx_bytes[MAX_STREAMS];
	uint64_t tsc;
};

static void
take(struct snap *s)
{
	s->tsc = rte_rdtsc();
	for (unsigned i = 0; i < g.n_streams; i++) {
		s->tx[i] = g.streams[i].tx_packets;
		s->rx[i] = g.streams[i].rx_packets;
		s->rx_bytes[i] = g.streams[i].rx_bytes;
	}
}

static void
summary(FILE *f, const struct snap *w0, const struct snap *w1)
{
	double hz = (double)rte_get_tsc_hz(), win = (double)(w1->tsc - w0->tsc) / hz;

	fprintf(f, "{\"hz\": %.0f, \"window_s\": %.3f,\n \"streams\": [", hz, win);
	for (unsigned i = 0; i < g.n_streams; i++) {
		const struct stream *st = &g.streams[i];
		const struct hist *h = &st->lat;
		double ns = 1e9 / hz;
		uint64_t wtx = w1->tx[i] - w0->tx[i], wrx = w1->rx[i] - w0->rx[i];

		fprintf(f,
			"%s\n  {\"id\": %u, \"tx_port\": %u, \"rx_port\": %d, \"size\": %u, "
			"\"rate\": \"%s\", \"tx_packets\": %lu, \"rx_packets\": %lu, \"lost\": "
			"%ld,\n"
			"   \"window\": {\"tx_packets\": %lu, \"rx_packets\": %lu, \"tx_pps\": "
			"%.1f, "
			"\"rx_pps\": %.1f, \"rx_bps\": %.1f, \"sent\": %lu, \"lost\": %ld},\n"
			"   \"latency_ns\": {\"samples\": %lu, \"min\": %.0f, \"avg\": %.0f, "
			"\"p50\": %.0f, "
			"\"p90\": %.0f, \"p99\": %.0f, \"p99.9\": %.0f, \"max\": %.0f}}",
			i ? "," : "", i, st->tx_port, st->rx_port, st->size, st->rate_text,
			st->tx_packets, st->rx_packets, (long)st->tx_packets - (long)st->rx_packets,
			wtx, wrx, win > 0 ? wtx / win : 0, win > 0 ? wrx / win : 0,
			win > 0 ? (double)(w1->rx_bytes[i] - w0->rx_bytes[i]) * 8 / win : 0,
			st->win_open ? st->next_seq - st->win_first : 0,
			st->win_open ? (long)(st->next_seq - st->win_first) - (long)st->win_rx : 0,
			h->n, h->n ? (double)h->min * ns : 0, h->n ? (double)h->sum / h->n * ns : 0,
			(double)hist_quantile(h, 0.5) * ns, (double)hist_quantile(h, 0.9) * ns,
			(double)hist_quantile(h, 0.99) * ns, (double)hist_quantile(h, 0.999) * ns,
			(double)h->max * ns);
	}
	fprintf(f, "],\n \"ports\": [");
	for (unsigned i = 0; i < g.n_ports; i++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(g.ports[i].id, &es) != 0)
			memset(&es, 0, sizeof(es));
		fprintf(f,
			"%s\n  {\"id\": %u, \"name\": \"%s\", \"ipackets\": %lu, \"opackets\": "
			"%lu, "
			"\"tx_refused\": %lu}",
			i ? "," : "", i, g.ports[i].name, es.ipackets, es.opackets,
			g.ports[i].tx_refused);
	}
	fprintf(f, "]}\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cpu", required_argument, NULL, 'c'},
		{"port", required_argument, NULL, 'p'},
		{"stream", required_argument, NULL, 's'},
		{"duration", required_argument, NULL, 'd'},
		{"warmup", required_argument, NULL, 'w'},
		{"drain", required_argument, NULL, 'D'},
		{"speed", required_argument, NULL, 'S'},
		{"json", required_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},
		{"link-timeout", required_argument, NULL, 'l'},
		{"eal", required_argument, NULL, 'e'},
		{"latency-every", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *eal_argv[64], lcores[64], prefix[64], vdevs[MAX_PORTS][600], *save = NULL, *tok;
	const char *stream_specs[MAX_STREAMS];
	unsigned n_specs = 0, i, max_size;
	int eal_argc = 0, opt, lcore;
	struct snap w0, w1;
	double t;
	FILE *out;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			g.cpu = atoi(optarg);
			break;
		case 'p':
			if (g.n_ports == MAX_PORTS)
				goto usage;
			snprintf(g.ports[g.n_ports++].spec, sizeof(g.ports[0].spec), "%s", optarg);
			break;
		case 's':
			if (n_specs == MAX_STREAMS)
				goto usage;
			stream_specs[n_specs++] = optarg; /* parsed after --speed is known */
			break;
		case 'd':
			g.duration = atof(optarg);
			break;
		case 'w':
			g.warmup = atof(optarg);
			break;
		case 'D':
			g.drain = atof(optarg);
			break;
		case 'S':
			g.speed_bps = atof(optarg);
			break;
		case 'j':
			g.json_path = optarg;
			break;
		case 'q':
			g.quiet = true;
			break;
		case 'l':
			g.link_timeout = atof(optarg);
			break;
		case 'e':
			snprintf(g.eal_extra, sizeof(g.eal_extra), "%s", optarg);
			break;
		case 'L':
			g.lat_every = (unsigned)atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (g.cpu < 0 || g.n_ports == 0 || n_specs == 0 || g.warmup >= g.duration)
		goto usage;
	for (i = 0; i < n_specs; i++)
		if (parse_stream(stream_specs[i]) != 0)
			goto usage;
	for (i = 0; i < g.n_streams; i++)
		if (g.streams[i].tx_port >= g.n_ports || g.streams[i].rx_port >= (int)g.n_ports) {
			fprintf(stderr,
				"portico-pktgen: stream %u names a port that does not exist\n", i);
			goto usage;
		}

	snprintf(lcores, sizeof(lcores), "0@%d,1@%d", g.cpu, g.cpu);
	snprintf(prefix, sizeof(prefix), "pktgen%d", getpid());
	eal_argv[eal_argc++] = argv[0];
	eal_argv[eal_argc++] = "--lcores";
	eal_argv[eal_argc++] = lcores;
	eal_argv[eal_argc++] = "--in-memory";
	eal_argv[eal_argc++] = "--single-file-segments";
	eal_argv[eal_argc++] = "-m";
	eal_argv[eal_argc++] = "256";
	eal_argv[eal_argc++] = "--no-pci";
	eal_argv[eal_argc++] = "--file-prefix";
	eal_argv[eal_argc++] = prefix;
	eal_argv[eal_argc++] = "--log-level";
	eal_argv[eal_argc++] = "*:warning";
	for (i = 0; i < g.n_ports; i++) {
		if (port_vdev(i, vdevs[i], sizeof(vdevs[i])) != 0) {
			fprintf(stderr, "portico-pktgen: bad port %s\n", g.ports[i].spec);
			goto usage;
		}
		eal_argv[eal_argc++] = "--vdev";
		eal_argv[eal_argc++] = vdevs[i];
	}
	for (tok = strtok_r(g.eal_extra, " ", &save); tok && eal_argc < 62;
		tok = strtok_r(NULL, " ", &save))
		eal_argv[eal_argc++] = tok;
	eal_argv[eal_argc] = NULL;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* A virtio_user server's probe waits here until the switch connects. */
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "portico-pktgen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	/* Frames fit one mbuf: the data room grows with the largest stream. */
	max_size = RTE_MBUF_DEFAULT_DATAROOM;
	for (i = 0; i < g.n_streams; i++)
		if (g.streams[i].size > max_size)
			max_size = g.streams[i].size;
	g.mp = rte_pktmbuf_pool_create("pktgen", N_MBUFS, 256, 0,
		(uint16_t)(RTE_PKTMBUF_HEADROOM + max_size), rte_socket_id());
	if (g.mp == NULL) {
		fprintf(stderr, "portico-pktgen: no mbuf pool: %s\n", rte_strerror(rte_errno));
		goto fail;
	}
	for (i = 0; i < g.n_ports; i++) {
		char name[RTE_ETH_NAME_MAX_LEN];
		const char *spec = vdevs[i];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(spec, ","), spec);
		if (rte_eth_dev_get_port_by_name(name, &g.ports[i].id) != 0) {
			fprintf(stderr, "portico-pktgen: port %s did not appear\n", name);
			goto fail;
		}
		snprintf(g.ports[i].name, sizeof(g.ports[i].name), "%s", name);
		if (port_start(&g.ports[i]) != 0) {
			fprintf(stderr, "portico-pktgen: cannot start %s\n", name);
			goto fail;
		}
	}
	for (t = 0; !links_up(); t += 0.1) {
		if (t >= g.link_timeout || interrupted) {
			fprintf(stderr, "portico-pktgen: links not up after %.0f s\n", t);
			goto fail_links;
		}
		sleep_s(0.1);
	}
	for (i = 0; i < g.n_streams; i++) {
		stream_template(&g.streams[i]);
		hist_reset(&g.streams[i].lat);
	}

	g.running = true;
	g.sending = true;
	lcore = (int)rte_get_next_lcore(-1, 1, 0);
	if (rte_eal_remote_launch(worker, NULL, (unsigned)lcore) != 0)
		goto fail;
	memset(&w0, 0, sizeof(w0));
	take(&w0);
	for (t = 0; t < g.duration && !interrupted; t += 0.1) {
		if (t < g.warmup && t + 0.1 >= g.warmup) {
			take(&w0);
			g.window = true;
		}
		sleep_s(0.1);
		if (!g.quiet && isatty(STDERR_FILENO) && (int)(t * 10 + 1) % 10 == 0) {
			fprintf(stderr, "\r%5.0f s", t + 0.1);
			for (i = 0; i < g.n_streams; i++)
				fprintf(stderr, "  s%u tx %lu rx %lu", i, g.streams[i].tx_packets,
					g.streams[i].rx_packets);
			fflush(stderr);
		}
	}
	take(&w1);
	g.sending = false;
	g.window = false;
	sleep_s(g.drain);
	g.running = false;
	rte_eal_mp_wait_lcore();
	if (!g.quiet && isatty(STDERR_FILENO))
		fprintf(stderr, "\n");

	out = stdout;
	if (g.json_path != NULL && strcmp(g.json_path, "-") != 0) {
		out = fopen(g.json_path, "w");
		if (out == NULL) {
			perror(g.json_path);
			goto fail;
		}
	}
	summary(out, &w0, &w1);
	if (out != stdout)
		fclose(out);
	for (i = 0; i < g.n_ports; i++) {
		rte_eth_dev_stop(g.ports[i].id);
		rte_eth_dev_close(g.ports[i].id);
	}
	rte_eal_cleanup();
	return 0;
fail_links:
	rte_eal_cleanup();
	return 1;
fail:
	rte_eal_cleanup();
	return 1;
usage:
	usage(stderr);
	return 2;
}
