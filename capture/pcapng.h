/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small pcapng writer (https://www.ietf.org/archive/id/draft-tuexen-opsawg-pcapng-05.html):
 * blocks are formatted into a memory buffer and flushed to a file
 * descriptor that may be non-blocking (a pipe to `tcpdump -r -`, a socket),
 * so the control side never waits for a slow reader: a full buffer says
 * -ENOSPC and the caller tries again after the next flush.
 *
 * Part of the capture module (capture.h), control side only. DPDK 22.11's
 * rte_pcapng is not used because it names interfaces only after ethdev
 * ports (one Interface Description Block per ethdev, written when the file
 * is opened, and no way to add one), while most Portico ports are vhost-user
 * ports without an ethdev; see docs/capture.md.
 *
 * Every block is written in host byte order, as pcapng allows (readers
 * check the Section Header's byte-order magic).
 */
#ifndef PORTICO_CAPTURE_PCAPNG_H
#define PORTICO_CAPTURE_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Block types. */
enum cap_pcapng_block {
	CAP_PCAPNG_IDB = 0x00000001, /* Interface Description Block */
	CAP_PCAPNG_ISB = 0x00000005, /* Interface Statistics Block */
	CAP_PCAPNG_EPB = 0x00000006, /* Enhanced Packet Block */
	CAP_PCAPNG_SHB = 0x0A0D0D0A, /* Section Header Block */
};

#define CAP_PCAPNG_MAGIC 0x1A2B3C4D /* Section Header byte-order magic */
#define CAP_PCAPNG_LINKTYPE_ETHERNET 1 /* LINKTYPE_ETHERNET (DLT_EN10MB) */

/* Option codes used here. */
enum cap_pcapng_opt {
	CAP_PCAPNG_OPT_END = 0, /* opt_endofopt */
	CAP_PCAPNG_OPT_COMMENT = 1, /* opt_comment, any block */
	CAP_PCAPNG_SHB_USERAPPL = 4, /* shb_userappl: the writing application */
	CAP_PCAPNG_IF_NAME = 2, /* if_name */
	CAP_PCAPNG_IF_DESCRIPTION = 3, /* if_description */
	CAP_PCAPNG_IF_TSRESOL = 9, /* if_tsresol: 9 = nanoseconds */
	CAP_PCAPNG_IF_FILTER = 11, /* if_filter: type byte 0 = libpcap expression */
	CAP_PCAPNG_EPB_FLAGS = 2, /* epb_flags: bits 0-1 direction */
	CAP_PCAPNG_ISB_STARTTIME = 2, /* isb_starttime */
	CAP_PCAPNG_ISB_ENDTIME = 3, /* isb_endtime */
	CAP_PCAPNG_ISB_IFRECV = 4, /* isb_ifrecv: frames the interface saw */
	CAP_PCAPNG_ISB_IFDROP = 5, /* isb_ifdrop: frames lost by the capture */
	CAP_PCAPNG_ISB_FILTERACCEPT = 6, /* isb_filteraccept: frames the filter accepted */
	CAP_PCAPNG_ISB_USRDELIV = 8, /* isb_usrdeliv: frames written */
};

/* epb_flags direction bits (pcapng's, also enum cap_dir's values). */
#define CAP_PCAPNG_FLAG_INBOUND 1
#define CAP_PCAPNG_FLAG_OUTBOUND 2

/* Bytes an EPB with caplen bytes of frame takes (header, padded data, flags, trailer). */
#define CAP_PCAPNG_EPB_SIZE(caplen) (28 + (((caplen) + 3u) & ~3u) + 8 + 4 + 4)

/* A buffered writer. Control side; not thread-safe. */
struct cap_pcapng {
	int fd; /* output; not owned (cap_pcapng_fini() leaves it open) */
	bool is_sock; /* fd is a socket: send(MSG_NOSIGNAL), no SIGPIPE */
	uint8_t *buf; /* formatted blocks not yet written */
	size_t size; /* capacity of buf */
	size_t head; /* first byte of buf not yet written to fd */
	size_t tail; /* end of the formatted bytes */
	uint64_t written; /* bytes written to fd so far */
};

/* Statistics for an Interface Statistics Block; UINT64_MAX leaves one out. */
struct cap_pcapng_stats {
	uint64_t start_ns; /* capture start, ns since the epoch (0: left out) */
	uint64_t end_ns; /* capture end, ns since the epoch (0: left out) */
	uint64_t ifrecv; /* frames the port saw in the captured direction(s) */
	uint64_t ifdrop; /* frames matched but lost (ring or pool full) */
	uint64_t filteraccept; /* frames the filter accepted */
	uint64_t usrdeliv; /* frames written */
};

/*
 * Start a writer on fd with a buffer of size bytes (at least 4096). Returns
 * 0 or -ENOMEM / -EINVAL.
 */
int cap_pcapng_init(struct cap_pcapng *w, int fd, size_t size);
/* Free the buffer (unwritten bytes are lost); the fd stays open. */
void cap_pcapng_fini(struct cap_pcapng *w);

/* Bytes formatted but not yet written. */
static inline size_t
cap_pcapng_pending(const struct cap_pcapng *w)
{
	return w->tail - w->head;
}

/* Section Header Block; appl names the writer (shb_userappl), may be NULL. 0 or -ENOSPC. */
int cap_pcapng_shb(struct cap_pcapng *w, const char *appl);

/*
 * Interface Description Block for an Ethernet interface with nanosecond
 * timestamps: name (if_name), descr (if_description) and filter (if_filter)
 * may be NULL. Interfaces are numbered from 0 in the order they are added.
 * 0 or -ENOSPC.
 */
int cap_pcapng_idb(struct cap_pcapng *w, const char *name, const char *descr, const char *filter,
	uint32_t snaplen);

/*
 * Reserve an Enhanced Packet Block of interface ifid with timestamp ts_ns
 * (ns since the epoch), epb_flags flags (0 leaves the option out), caplen
 * bytes of a frame of origlen bytes. Returns where the caller copies the
 * caplen bytes (padding is zeroed already), or NULL when the buffer lacks
 * room (flush, then try again).
 */
uint8_t *cap_pcapng_epb(struct cap_pcapng *w, uint32_t ifid, uint64_t ts_ns, uint32_t flags,
	uint32_t caplen, uint32_t origlen);

/* Interface Statistics Block of interface ifid at ts_ns; comment may be NULL. 0 or -ENOSPC. */
int cap_pcapng_isb(struct cap_pcapng *w, uint32_t ifid, uint64_t ts_ns,
	const struct cap_pcapng_stats *st, const char *comment);

/*
 * Write what is buffered. Returns 0 when everything is out, -EAGAIN when
 * the fd would block with bytes left (call again later), or the -errno of a
 * failed write (-EPIPE: the reader went away). Never blocks on a
 * non-blocking fd. Writing to a pipe whose reader has gone raises SIGPIPE
 * unless the process ignores it (porticod does).
 */
int cap_pcapng_flush(struct cap_pcapng *w);

#endif /* PORTICO_CAPTURE_PCAPNG_H */
