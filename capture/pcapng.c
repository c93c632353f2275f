/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pcapng writer (pcapng.h): block formatting into a buffer and a flush
 * that never blocks on a non-blocking fd. Control side.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/pcapng.h"

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)

/* Bytes an option with len bytes of value takes. */
static inline size_t
opt_size(size_t len)
{
	return 4 + ALIGN4(len);
}

/* Bytes a string option takes, 0 for NULL or "". */
static inline size_t
opt_str_size(const char *s)
{
	return s == NULL || s[0] == '\0' ? 0 : opt_size(strlen(s));
}

static inline void
put32(uint8_t **p, uint32_t v)
{
	memcpy(*p, &v, sizeof(v));
	*p += sizeof(v);
}

static inline void
put16(uint8_t **p, uint16_t v)
{
	memcpy(*p, &v, sizeof(v));
	*p += sizeof(v);
}

/* Append one option (code, len, value padded with zeros). */
static void
put_opt(uint8_t **p, uint16_t code, const void *val, size_t len)
{
	size_t pad = ALIGN4(len) - len;

	put16(p, code);
	put16(p, (uint16_t)len);
	if (len > 0)
		memcpy(*p, val, len);
	memset(*p + len, 0, pad);
	*p += len + pad;
}

static void
put_opt_str(uint8_t **p, uint16_t code, const char *s)
{
	if (s != NULL && s[0] != '\0')
		put_opt(p, code, s, strlen(s));
}

/* A 64-bit timestamp option as pcapng stores it: high then low 32 bits. */
static void
put_opt_ts(uint8_t **p, uint16_t code, uint64_t ts)
{
	uint32_t v[2] = {(uint32_t)(ts >> 32), (uint32_t)ts};

	put_opt(p, code, v, sizeof(v));
}

/* Reserve len bytes at the tail; NULL when they do not fit. */
static uint8_t *
reserve(struct cap_pcapng *w, size_t len)
{
	uint8_t *p;

	if (w->size - w->tail < len) {
		/* Move what is left to the front first. */
		if (w->head > 0) {
			memmove(w->buf, w->buf + w->head, w->tail - w->head);
			w->tail -= w->head;
			w->head = 0;
		}
		if (w->size - w->tail < len)
			return NULL;
	}
	p = w->buf + w->tail;
	w->tail += len;
	return p;
}

int
cap_pcapng_init(struct cap_pcapng *w, int fd, size_t size)
{
	struct stat st;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (fd < 0 || size < 4096)
		return -EINVAL;
	w->buf = malloc(size);
	if (w->buf == NULL)
		return -ENOMEM;
	w->fd = fd;
	w->size = size;
	w->is_sock = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	return 0;
}

void
cap_pcapng_fini(struct cap_pcapng *w)
{
	free(w->buf);
	w->buf = NULL;
	w->size = w->head = w->tail = 0;
}

int
cap_pcapng_shb(struct cap_pcapng *w, const char *appl)
{
	size_t len = 28 + opt_str_size(appl) + (appl != NULL && appl[0] ? 4 : 0);
	uint8_t *p = reserve(w, len);

	if (p == NULL)
		return -ENOSPC;
	put32(&p, CAP_PCAPNG_SHB);
	put32(&p, (uint32_t)len);
	put32(&p, CAP_PCAPNG_MAGIC);
	put16(&p, 1); /* major */
	put16(&p, 0); /* minor */
	put32(&p, UINT32_MAX); /* section length: unknown (-1) */
	put32(&p, UINT32_MAX);
	if (appl != NULL && appl[0]) {
		put_opt_str(&p, CAP_PCAPNG_SHB_USERAPPL, appl);
		put_opt(&p, CAP_PCAPNG_OPT_END, NULL, 0);
	}
	put32(&p, (uint32_t)len);
	return 0;
}

int
cap_pcapng_idb(struct cap_pcapng *w, const char *name, const char *descr, const char *filter,
	uint32_t snaplen)
{
	size_t flen = filter != NULL && filter[0] ? strlen(filter) + 1 : 0;
	size_t len = 20 + opt_str_size(name) + opt_str_size(descr) + opt_size(1) +
		(flen ? opt_size(flen) : 0) + 4;
	uint8_t tsresol = 9; /* 10^-9 s */
	uint8_t *p = reserve(w, len);

	if (p == NULL)
		return -ENOSPC;
	put32(&p, CAP_PCAPNG_IDB);
	put32(&p, (uint32_t)len);
	put16(&p, CAP_PCAPNG_LINKTYPE_ETHERNET);
	put16(&p, 0); /* reserved */
	put32(&p, snaplen);
	put_opt_str(&p, CAP_PCAPNG_IF_NAME, name);
	put_opt_str(&p, CAP_PCAPNG_IF_DESCRIPTION, descr);
	put_opt(&p, CAP_PCAPNG_IF_TSRESOL, &tsresol, 1);
	if (flen) {
		/* if_filter: a type byte (0: libpcap filter string), then the string. */
		put16(&p, CAP_PCAPNG_IF_FILTER);
		put16(&p, (uint16_t)flen);
		*p = 0;
		memcpy(p + 1, filter, flen - 1);
		memset(p + flen, 0, ALIGN4(flen) - flen);
		p += ALIGN4(flen);
	}
	put_opt(&p, CAP_PCAPNG_OPT_END, NULL, 0);
	put32(&p, (uint32_t)len);
	return 0;
}

uint8_t *
cap_pcapng_epb(struct cap_pcapng *w, uint32_t ifid, uint64_t ts_ns, uint32_t flags, uint32_t caplen,
	uint32_t origlen)
{
	size_t dlen = ALIGN4((size_t)caplen);
	size_t len = 28 + dlen + (flags != 0 ? opt_size(4) + 4 : 0) + 4;
	uint8_t *p = reserve(w, len), *data;

	if (p == NULL)
		return NULL;
	put32(&p, CAP_PCAPNG_EPB);
	put32(&p, (uint32_t)len);
	put32(&p, ifid);
	put32(&p, (uint32_t)(ts_ns >> 32));
	put32(&p, (uint32_t)ts_ns);
	put32(&p, caplen);
	put32(&p, origlen);
	data = p;
	memset(p + caplen, 0, dlen - caplen);
	p += dlen;
	if (flags != 0) {
		put_opt(&p, CAP_PCAPNG_EPB_FLAGS, &flags, sizeof(flags));
		put_opt(&p, CAP_PCAPNG_OPT_END, NULL, 0);
	}
	put32(&p, (uint32_t)len);
	return data;
}

int
cap_pcapng_isb(struct cap_pcapng *w, uint32_t ifid, uint64_t ts_ns,
	const struct cap_pcapng_stats *st, const char *comment)
{
	const uint64_t vals[] = {st->ifrecv, st->ifdrop, st->filteraccept, st->usrdeliv};
	const uint16_t codes[] = {CAP_PCAPNG_ISB_IFRECV, CAP_PCAPNG_ISB_IFDROP,
		CAP_PCAPNG_ISB_FILTERACCEPT, CAP_PCAPNG_ISB_USRDELIV};
	size_t len = 20 + opt_str_size(comment) + 4 + 4;
	unsigned i;
	uint8_t *p;

	if (st->start_ns != 0)
		len += opt_size(8);
	if (st->end_ns != 0)
		len += opt_size(8);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		if (vals[i] != UINT64_MAX)
			len += opt_size(8);
	p = reserve(w, len);
	if (p == NULL)
		return -ENOSPC;
	put32(&p, CAP_PCAPNG_ISB);
	put32(&p, (uint32_t)len);
	put32(&p, ifid);
	put32(&p, (uint32_t)(ts_ns >> 32));
	put32(&p, (uint32_t)ts_ns);
	put_opt_str(&p, CAP_PCAPNG_OPT_COMMENT, comment);
	if (st->start_ns != 0)
		put_opt_ts(&p, CAP_PCAPNG_ISB_STARTTIME, st->start_ns);
	if (st->end_ns != 0)
		put_opt_ts(&p, CAP_PCAPNG_ISB_ENDTIME, st->end_ns);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		if (vals[i] != UINT64_MAX)
			put_opt(&p, codes[i], &vals[i], sizeof(vals[i]));
	put_opt(&p, CAP_PCAPNG_OPT_END, NULL, 0);
	put32(&p, (uint32_t)len);
	return 0;
}

int
cap_pcapng_flush(struct cap_pcapng *w)
{
	while (w->head < w->tail) {
		size_t n = w->tail - w->head;
		ssize_t r = w->is_sock ? send(w->fd, w->buf + w->head, n, MSG_NOSIGNAL)
				       : write(w->fd, w->buf + w->head, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return -errno;
		}
		w->head += (size_t)r;
		w->written += (uint64_t)r;
	}
	w->head = w->tail = 0;
	return 0;
}
