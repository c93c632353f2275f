/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit-test helper: mbufs in plain heap memory, for the pure per-frame
 * functions that never touch a mempool (no EAL, no hugepages).
 */
#ifndef PORTICO_TESTS_MBUF_FAKE_H
#define PORTICO_TESTS_MBUF_FAKE_H

#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#define FAKE_BUF_LEN 2048

static inline struct rte_mbuf *
fake_mbuf(const void *frame, uint16_t len)
{
	struct rte_mbuf *m = calloc(1, sizeof(*m) + FAKE_BUF_LEN);

	m->buf_addr = (char *)(m + 1);
	m->buf_len = FAKE_BUF_LEN;
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->nb_segs = 1;
	rte_mbuf_refcnt_set(m, 1);
	memcpy(rte_pktmbuf_mtod(m, void *), frame, len);
	m->data_len = len;
	m->pkt_len = len;
	return m;
}

#endif
