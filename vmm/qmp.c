/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QMP client (see qmp.h): a non-blocking unix socket, a line buffer, and a
 * queue of messages that arrived while a blocking call waited for its reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmm/qmp.h"

#define RECV_CHUNK 65536 /* bytes asked of each recv(2) */
#define SEND_TIMEOUT_MS 2000 /* bound of one command's write */

/* A message kept for a later vmm_qmp_next(). */
struct queued {
	struct vmm_qmp_msg msg; /* the message (owns data) */
	struct queued *next; /* the next one, in arrival order */
};

struct vmm_qmp {
	int fd; /* connected socket; -1 once closed */
	enum vmm_qmp_state state; /* where the connection is */
	int close_rc; /* CLOSED: the -errno it closed with */
	json_int_t next_id; /* id of the next command */
	json_int_t caps_id; /* id of the qmp_capabilities command */
	char *rbuf; /* bytes received, not yet consumed */
	size_t rlen; /* bytes used in rbuf */
	size_t rcap; /* bytes allocated for rbuf */
	struct queued *head; /* messages kept for vmm_qmp_next(), oldest first */
	struct queued *tail; /* the newest kept message */
	char err[256]; /* last error or why the connection closed */
};

static void
set_err(struct vmm_qmp *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Close the connection for good, keeping why; returns rc. */
static int
fail(struct vmm_qmp *q, int rc, const char *fmt, ...)
{
	va_list ap;

	if (q->state != VMM_QMP_CLOSED) {
		va_start(ap, fmt);
		vsnprintf(q->err, sizeof(q->err), fmt, ap);
		va_end(ap);
	}
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	if (q->state != VMM_QMP_CLOSED)
		q->close_rc = rc;
	q->state = VMM_QMP_CLOSED;
	return rc;
}

struct vmm_qmp *
vmm_qmp_open(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct vmm_qmp *q;
	int fd, err;

	if (path == NULL || strlen(path) >= sizeof(addr.sun_path)) {
		errno = path == NULL ? EINVAL : ENAMETOOLONG;
		return NULL;
	}
	strcpy(addr.sun_path, path);
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail_free;
	/* A unix connect either succeeds at once or fails (EAGAIN: backlog full). */
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail_close;
	q->fd = fd;
	q->state = VMM_QMP_GREETING;
	q->next_id = 1;
	return q;

fail_close:
	err = errno;
	close(fd);
	errno = err;
fail_free:
	err = errno;
	free(q);
	errno = err;
	return NULL;
}

void
vmm_qmp_close(struct vmm_qmp *q)
{
	struct queued *e, *next;

	if (q == NULL)
		return;
	for (e = q->head; e != NULL; e = next) {
		next = e->next;
		json_decref(e->msg.data);
		free(e);
	}
	if (q->fd >= 0)
		close(q->fd);
	free(q->rbuf);
	free(q);
}

int
vmm_qmp_fd(const struct vmm_qmp *q)
{
	return q->fd;
}

enum vmm_qmp_state
vmm_qmp_state(const struct vmm_qmp *q)
{
	return q->state;
}

const char *
vmm_qmp_error(const struct vmm_qmp *q)
{
	return q->err;
}

/* Write all of buf, waiting for room at most SEND_TIMEOUT_MS. */
static int
send_all(struct vmm_qmp *q, const char *buf, size_t len)
{
	int64_t deadline = now_ms() + SEND_TIMEOUT_MS;
	struct pollfd pfd = {.fd = q->fd, .events = POLLOUT};
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(q->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int64_t left = deadline - now_ms();

			if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
				return fail(q, -ETIMEDOUT, "QEMU does not read its QMP socket");
			continue;
		}
		return fail(q, -EPIPE, "cannot write to QMP: %s", strerror(n < 0 ? errno : EIO));
	}
	return 0;
}

static int
send_command(struct vmm_qmp *q, const char *command, json_t *args, json_int_t *id)
{
	json_t *req;
	char *text;
	size_t len;
	int rc;

	if (command == NULL || (args != NULL && !json_is_object(args)))
		return -EINVAL;
	req = json_pack("{s:s, s:I}", "execute", command, "id", q->next_id);
	if (req == NULL || (args != NULL && json_object_set(req, "arguments", args) < 0)) {
		json_decref(req);
		return -ENOMEM;
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n'; /* over the NUL: compact JSON has no newline of its own */
	rc = send_all(q, text, len + 1);
	free(text);
	if (rc < 0)
		return rc;
	if (id != NULL)
		*id = q->next_id;
	q->next_id++;
	return 0;
}

int
vmm_qmp_send(struct vmm_qmp *q, const char *command, json_t *args, json_int_t *id)
{
	if (q->state != VMM_QMP_READY) {
		set_err(q, "QMP is not ready");
		return q->state == VMM_QMP_CLOSED ? -ECONNRESET : -ENOTCONN;
	}
	return send_command(q, command, args, id);
}

/*
 * Turn one line into a message: 1 (msg filled), 0 (handled inside: the
 * greeting), or -errno (the connection is closed).
 */
static int
parse_line(struct vmm_qmp *q, const char *line, size_t len, struct vmm_qmp_msg *msg)
{
	json_t *doc, *v;
	json_error_t jerr;
	int rc = 0;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return 0;
	doc = json_loadb(line, len, 0, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		json_decref(doc);
		return fail(q, -EPROTO, "QMP sent something that is not a JSON object");
	}
	memset(msg, 0, sizeof(*msg));
	switch (q->state) {
	case VMM_QMP_GREETING:
		if (json_object_get(doc, "QMP") == NULL) {
			rc = fail(q, -EPROTO, "no QMP greeting");
			break;
		}
		q->caps_id = q->next_id;
		rc = send_command(q, "qmp_capabilities", NULL, NULL);
		if (rc == 0)
			q->state = VMM_QMP_NEGOTIATING;
		break;
	case VMM_QMP_NEGOTIATING:
		v = json_object_get(doc, "id");
		if (json_object_get(doc, "event") != NULL)
			break; /* not expected before negotiation; nothing to do with it */
		if (!json_is_integer(v) || json_integer_value(v) != q->caps_id ||
			json_object_get(doc, "return") == NULL) {
			rc = fail(q, -EPROTO, "qmp_capabilities refused");
			break;
		}
		q->state = VMM_QMP_READY;
		msg->kind = VMM_QMP_MSG_READY;
		rc = 1;
		break;
	case VMM_QMP_READY:
		if ((v = json_object_get(doc, "event")) != NULL) {
			msg->kind = VMM_QMP_MSG_EVENT;
			snprintf(msg->event, sizeof(msg->event), "%s",
				json_is_string(v) ? json_string_value(v) : "?");
			v = json_object_get(doc, "data");
			msg->data = v != NULL ? json_incref(v) : json_object();
			rc = 1;
			break;
		}
		v = json_object_get(doc, "id");
		msg->id = json_is_integer(v) ? json_integer_value(v) : 0;
		if ((v = json_object_get(doc, "return")) != NULL) {
			msg->kind = VMM_QMP_MSG_RETURN;
			msg->data = json_incref(v);
			rc = 1;
		} else if ((v = json_object_get(doc, "error")) != NULL) {
			msg->kind = VMM_QMP_MSG_ERROR;
			msg->data = json_incref(v);
			rc = 1;
		}
		break; /* anything else: ignored (a newer QEMU's extension) */
	case VMM_QMP_CLOSED:
		rc = q->close_rc;
		break;
	}
	json_decref(doc);
	return rc;
}

/* The next message from the socket (not the queue); as vmm_qmp_next(). */
static int
read_msg(struct vmm_qmp *q, struct vmm_qmp_msg *msg)
{
	size_t scanned = 0, len;
	char *nl, *p;
	ssize_t n;
	int rc;

	for (;;) {
		if (q->state == VMM_QMP_CLOSED)
			return q->close_rc;
		nl = q->rlen > scanned ? memchr(q->rbuf + scanned, '\n', q->rlen - scanned) : NULL;
		if (nl != NULL) {
			len = (size_t)(nl - q->rbuf);
			rc = parse_line(q, q->rbuf, len, msg);
			memmove(q->rbuf, nl + 1, q->rlen - len - 1);
			q->rlen -= len + 1;
			scanned = 0;
			if (rc != 0)
				return rc;
			continue;
		}
		scanned = q->rlen;
		if (q->rlen > VMM_QMP_LINE_MAX)
			return fail(
				q, -EMSGSIZE, "QMP line longer than %u bytes", VMM_QMP_LINE_MAX);
		if (q->rcap - q->rlen < RECV_CHUNK) {
			p = realloc(q->rbuf, q->rcap + RECV_CHUNK);
			if (p == NULL)
				return -ENOMEM;
			q->rbuf = p;
			q->rcap += RECV_CHUNK;
		}
		n = recv(q->fd, q->rbuf + q->rlen, q->rcap - q->rlen, 0);
		if (n > 0) {
			q->rlen += (size_t)n;
			continue;
		}
		if (n == 0)
			return fail(q, -ECONNRESET, "QEMU closed the QMP connection");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return fail(q, -ECONNRESET, "QMP: %s", strerror(errno));
	}
}

static int
enqueue(struct vmm_qmp *q, const struct vmm_qmp_msg *msg)
{
	struct queued *e = malloc(sizeof(*e));

	if (e == NULL) {
		json_decref(msg->data);
		return -ENOMEM;
	}
	e->msg = *msg;
	e->next = NULL;
	if (q->tail != NULL)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	return 0;
}

int
vmm_qmp_next(struct vmm_qmp *q, struct vmm_qmp_msg *msg)
{
	struct queued *e = q->head;

	if (e != NULL) {
		*msg = e->msg;
		q->head = e->next;
		if (q->head == NULL)
			q->tail = NULL;
		free(e);
		return 1;
	}
	return read_msg(q, msg);
}

/* Wait until the socket is readable or the deadline passes: 0, or -ETIMEDOUT. */
static int
wait_readable(struct vmm_qmp *q, int64_t deadline)
{
	struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
	int64_t left = deadline - now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	if (n == 0)
		return -ETIMEDOUT;
	return 0; /* readable, EINTR or an error: read_msg() finds out */
}

int
vmm_qmp_wait_ready(struct vmm_qmp *q, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct vmm_qmp_msg msg;
	int rc;

	while (q->state != VMM_QMP_READY) {
		rc = read_msg(q, &msg);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (msg.kind == VMM_QMP_MSG_READY)
				return 0;
			rc = enqueue(q, &msg);
			if (rc < 0)
				return rc;
			continue;
		}
		rc = wait_readable(q, deadline);
		if (rc < 0) {
			set_err(q, "QMP not ready within %d ms", timeout_ms);
			return rc;
		}
	}
	return 0;
}

int
vmm_qmp_call(struct vmm_qmp *q, const char *command, json_t *args, json_t **ret, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct vmm_qmp_msg msg;
	json_int_t id;
	json_t *desc;
	int rc;

	if (ret != NULL)
		*ret = NULL;
	rc = vmm_qmp_send(q, command, args, &id);
	if (rc < 0)
		return rc;
	for (;;) {
		rc = read_msg(q, &msg);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			rc = wait_readable(q, deadline);
			if (rc < 0) {
				set_err(q, "no reply to %s within %d ms", command, timeout_ms);
				return rc;
			}
			continue;
		}
		if ((msg.kind == VMM_QMP_MSG_RETURN || msg.kind == VMM_QMP_MSG_ERROR) &&
			msg.id == id)
			break;
		rc = enqueue(q, &msg);
		if (rc < 0)
			return rc;
	}
	if (msg.kind == VMM_QMP_MSG_ERROR) {
		desc = json_object_get(msg.data, "desc");
		set_err(q, "%s: %s", command,
			json_is_string(desc) ? json_string_value(desc) : "error");
		json_decref(msg.data);
		return -EREMOTEIO;
	}
	if (ret != NULL)
		*ret = msg.data;
	else
		json_decref(msg.data);
	return 0;
}
