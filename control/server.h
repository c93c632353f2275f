/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a unix stream socket speaking one JSON object per
 * line, polled from the main loop (no thread of its own). Bounded: a line
 * longer than CTL_LINE_MAX, too many clients, or a client that does not read
 * its answers is disconnected, never waited for.
 */
#ifndef PORTICO_CONTROL_SERVER_H
#define PORTICO_CONTROL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_LINE_MAX (1u << 20) /* longest request line */
#define CTL_MAX_CLIENTS 64
#define CTL_MAX_PASSED_FDS 4 /* descriptors a client may pass with one request */

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

/*
 * Passing descriptors: a client may send file descriptors (SCM_RIGHTS) with
 * a request, in the same sendmsg() as its line, with no other request in
 * flight on that connection (the CLI's `capture start -w -` passes its
 * stdout). They belong to the next request line the server completes; while
 * that request's handler runs, ctl_server_take_fd() hands them out, and those
 * not taken are closed when it returns.
 */

/* The next descriptor passed with the request being handled (now the caller's), or -1. */
int ctl_server_take_fd(struct ctl_server *srv);

/*
 * The client whose request is being handled: a token (never 0, never
 * reused) and its credentials (SO_PEERCRED). 0 / -ENOENT outside a handler.
 */
uint64_t ctl_server_client(const struct ctl_server *srv);
int ctl_server_client_cred(const struct ctl_server *srv, uid_t *uid, gid_t *gid);

/* Whether the client named by token is still connected (and not closing). */
bool ctl_server_client_alive(const struct ctl_server *srv, uint64_t token);

#endif /* PORTICO_CONTROL_SERVER_H */
