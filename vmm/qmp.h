/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QMP client: one connection to a QEMU's QMP unix socket, driven from the
 * host agent's poll loop.
 *
 * QMP speaks one JSON object per line each way. On connect QEMU sends a
 * greeting ({"QMP": {...}}); the client must send qmp_capabilities and get
 * its {"return": {}} before any other command. After that QEMU sends command
 * replies ({"return": X, "id": ID} or {"error": {...}, "id": ID}) in order,
 * and asynchronous events ({"event": NAME, "data": {...}, "timestamp": ...})
 * at any time, e.g. NIC_RX_FILTER_CHANGED (a guest changed its MAC or RX
 * mode: read query-rx-filter, which also re-arms the event for that NIC),
 * SHUTDOWN, POWERDOWN, STOP, RESUME.
 *
 * Non-blocking use (the agent): vmm_qmp_open() connects (a unix connect does
 * not block) and returns at once; the caller polls vmm_qmp_fd() for POLLIN
 * and calls vmm_qmp_next() until it returns 0, handling each message. The
 * negotiation is done inside: the first message is VMM_QMP_MSG_READY. QEMU
 * 7.2 with vhost-user NICs sends its greeting only once every NIC's backend
 * has connected, so READY may take seconds. vmm_qmp_send() queues a command
 * (sent at once, a short bounded write) and returns its id; its reply comes
 * later through vmm_qmp_next().
 *
 * Blocking use (tests, one-shot tools): vmm_qmp_wait_ready() and
 * vmm_qmp_call() wait with a timeout; messages that arrive meanwhile (events,
 * other replies) are kept and handed out by the next vmm_qmp_next().
 *
 * Functions return 0 or -errno; errors leave a reason in vmm_qmp_error().
 * jansson and libc only.
 */
#ifndef PORTICO_VMM_QMP_H
#define PORTICO_VMM_QMP_H

#include <stdbool.h>

#include <jansson.h>

#define VMM_QMP_LINE_MAX (16u << 20) /* longest message line accepted, in bytes */

/* Where a connection is. */
enum vmm_qmp_state {
	VMM_QMP_GREETING, /* connected, waiting for QEMU's greeting */
	VMM_QMP_NEGOTIATING, /* qmp_capabilities sent, waiting for its return */
	VMM_QMP_READY, /* commands may be sent */
	VMM_QMP_CLOSED, /* QEMU closed the connection, or a protocol error */
};

/* What vmm_qmp_next() hands out. */
enum vmm_qmp_msg_kind {
	VMM_QMP_MSG_READY, /* negotiation done: the connection is READY (once) */
	VMM_QMP_MSG_EVENT, /* an asynchronous event: name in event, "data" in data */
	VMM_QMP_MSG_RETURN, /* a command succeeded: its "return" in data */
	VMM_QMP_MSG_ERROR, /* a command failed: its "error" object in data */
};

/* One message. data is a reference the caller owns (json_decref() it). */
struct vmm_qmp_msg {
	enum vmm_qmp_msg_kind kind; /* what it is */
	json_int_t id; /* RETURN/ERROR: the id vmm_qmp_send() gave; else 0 */
	char event[64]; /* EVENT: the event's name; else "" */
	json_t *data; /* EVENT: "data" ({} if none); RETURN: "return"; ERROR: "error"; READY: NULL
		       */
};

struct vmm_qmp;

/*
 * Connect to the QMP socket at path. NULL with errno set (ENOENT,
 * ECONNREFUSED: QEMU is not listening (yet); ENAMETOOLONG; ENOMEM).
 */
struct vmm_qmp *vmm_qmp_open(const char *path);

/* Close and free. NULL is a no-op. */
void vmm_qmp_close(struct vmm_qmp *q);

/* The socket to poll for POLLIN. */
int vmm_qmp_fd(const struct vmm_qmp *q);

enum vmm_qmp_state vmm_qmp_state(const struct vmm_qmp *q);

/* Why the last call failed, or why the connection closed ("" if nothing). */
const char *vmm_qmp_error(const struct vmm_qmp *q);

/*
 * The next message, reading what the socket has without blocking: 1 and *msg
 * filled, 0 when nothing complete is there (poll the fd again), or -errno
 * when the connection is closed (-ECONNRESET: QEMU went away; -EPROTO: not
 * QMP; -EMSGSIZE: line too long); closed connections stay closed.
 */
int vmm_qmp_next(struct vmm_qmp *q, struct vmm_qmp_msg *msg);

/*
 * Send command (with args, an object or NULL; borrowed) and return its id in
 * *id (may be NULL). Only when READY (-ENOTCONN otherwise). -EIO/-EPIPE on a
 * write error (the connection is then closed).
 */
int vmm_qmp_send(struct vmm_qmp *q, const char *command, json_t *args, json_int_t *id);

/* Block up to timeout_ms until READY: 0, -ETIMEDOUT, or the close's -errno. */
int vmm_qmp_wait_ready(struct vmm_qmp *q, int timeout_ms);

/*
 * Send command and block up to timeout_ms for its reply: 0 with *ret (the
 * "return", a new reference; may be NULL if ret is NULL), -EREMOTEIO when
 * QEMU answered with an error (its "desc" in vmm_qmp_error()), -ETIMEDOUT,
 * or the connection's -errno. Other messages that arrive meanwhile are kept
 * for vmm_qmp_next().
 */
int vmm_qmp_call(
	struct vmm_qmp *q, const char *command, json_t *args, json_t **ret, int timeout_ms);

#endif /* PORTICO_VMM_QMP_H */
