/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a unix stream socket speaking one JSON object per
 * line, polled from the main loop (no thread of its own). Bounded: a line
 * longer than CTL_LINE_MAX, too many clients, or a client that does not read
 * its answers is disconnected, never waited for.
 */
#ifndef PORTICO_CONTROL_SERVER_H
#define PORTICO_CONTROL_SERVER_H

#include <stddef.h>

#define CTL_LINE_MAX (1u << 20) /* longest request line */
#define CTL_MAX_CLIENTS 64

struct ctl_server;

/*
 * Handle one request line; return the response line (malloc'd, without the
 * newline) or NULL for no response (a notification).
 */
typedef char *(*ctl_handler_fn)(const char *line, size_t len, void *arg);

/*
 * Listen on path: created 0660, group "portico" when that group exists;
 * peers that are neither root nor in that group are refused. A stale socket
 * file is replaced; a live one (another daemon) is an error. NULL with a
 * reason in err (CTL_ERR_MAX) on failure.
 */
struct ctl_server *ctl_server_new(const char *path, ctl_handler_fn fn, void *arg, char *err);
void ctl_server_free(struct ctl_server *srv); /* NULL no-op; unlinks the socket */

/* Wait up to timeout_ms for activity and serve it. Main lcore. */
void ctl_server_poll(struct ctl_server *srv, int timeout_ms);

#endif /* PORTICO_CONTROL_SERVER_H */
