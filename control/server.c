/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unix socket server for the JSON-RPC control protocol: non-blocking, one
 * poll() over the listener and the clients, a bounded input line and a
 * bounded output buffer per client. Clients may pass descriptors with a
 * request (SCM_RIGHTS); the request's handler takes them or they are closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_log.h>

#include "control/config.h"
#include "control/server.h"

#define OUT_MAX (64u << 20) /* a client that lets this much pile up is dropped */
#define READ_ROUNDS 16 /* reads per client per poll */

struct client {
	int fd;
	uint64_t token; /* names the client (ctl_server_client()); 0 while the slot is free */
	uid_t uid; /* the peer's credentials, at accept */
	gid_t gid;
	int fds[CTL_MAX_PASSED_FDS]; /* descriptors passed, for the next request line */
	unsigned n_fds;
	char *in; /* bytes received, not yet a full line */
	size_t in_len;
	size_t in_cap;
	char *out; /* bytes to send */
	size_t out_len;
	size_t out_off;
	bool closing; /* close once out is sent */
};

struct ctl_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler_fn fn;
	void *arg;
	gid_t group; /* the "portico" group, or (gid_t)-1 */
	struct client clients[CTL_MAX_CLIENTS];
	uint64_t next_token; /* the token of the next client accepted */
	struct client *current; /* the client whose request is being handled, or NULL */
};

static void
client_close_fds(struct client *c)
{
	for (unsigned i = 0; i < c->n_fds; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	c->n_fds = 0;
}

static void
client_close(struct client *c)
{
	client_close_fds(c);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Is the peer root or a member of the portico group? cred: its credentials. */
static bool
peer_allowed(const struct ctl_server *srv, int fd, struct ucred *out)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd *pw;
	gid_t groups[256];
	int n = RTE_DIM(groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	*out = cred;
	if (cred.uid == 0)
		return true;
	if (srv->group == (gid_t)-1)
		return false;
	if (cred.gid == srv->group)
		return true;
	pw = getpwuid(cred.uid);
	if (pw == NULL || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == srv->group)
			return true;
	return false;
}

struct ctl_server *
ctl_server_new(const char *path, ctl_handler_fn fn, void *arg, char *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ctl_server *srv;
	struct group *gr;
	int fd, i;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, CTL_ERR_MAX, "socket path too long: %s", path);
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return NULL;
	}
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		srv->clients[i].fd = -1;
	srv->next_token = 1;
	srv->fn = fn;
	srv->arg = arg;
	gr = getgrnam("portico");
	srv->group = gr != NULL ? gr->gr_gid : (gid_t)-1;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	strcpy(sa.sun_path, path);

	/* A live socket means another daemon; a dead one is left over. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(err, CTL_ERR_MAX, "%s: another daemon is listening there", path);
		free(srv);
		return NULL;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);

	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->fd < 0)
		goto sys_error;
	if (bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto sys_error;
	if (chmod(path, 0660) != 0 || (srv->group != (gid_t)-1 && chown(path, 0, srv->group) != 0))
		goto sys_error;
	if (listen(srv->fd, 16) != 0)
		goto sys_error;
	return srv;
sys_error:
	snprintf(err, CTL_ERR_MAX, "%s: %s", path, strerror(errno));
	if (srv->fd >= 0)
		close(srv->fd);
	unlink(path);
	free(srv);
	return NULL;
}

void
ctl_server_free(struct ctl_server *srv)
{
	if (srv == NULL)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (srv->clients[i].fd >= 0)
			client_close(&srv->clients[i]);
	close(srv->fd);
	unlink(srv->path);
	free(srv);
}

static void
client_queue(struct client *c, const char *data, size_t len)
{
	char *p;

	if (c->out_len - c->out_off + len + 1 > OUT_MAX) {
		c->closing = true;
		c->out_len = c->out_off = 0;
		return;
	}
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	p = realloc(c->out, c->out_len + len + 1);
	if (p == NULL) {
		c->closing = true;
		return;
	}
	c->out = p;
	memcpy(c->out + c->out_len, data, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
}

static void
client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->closing = true, c->out_len = c->out_off = 0;
			return;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
}

static void
client_answer(struct ctl_server *srv, struct client *c, const char *line, size_t len)
{
	char *resp;

	if (c->closing) {
		client_close_fds(c);
		return; /* its output overflowed or failed: no more work for it */
	}
	srv->current = c;
	resp = srv->fn(line, len, srv->arg);
	srv->current = NULL;
	client_close_fds(c); /* those the request did not take */

	if (resp != NULL) {
		client_queue(c, resp, strlen(resp));
		free(resp);
	}
}

/*
 * recv() that also takes the descriptors passed with the bytes (SCM_RIGHTS):
 * they wait in c->fds for the next request line; beyond CTL_MAX_PASSED_FDS
 * they are closed.
 */
static ssize_t
client_recv(struct client *c, void *buf, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_PASSED_FDS)];
	} ctrl;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t nfd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (c->n_fds < CTL_MAX_PASSED_FDS)
				c->fds[c->n_fds++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/*
 * Read what is there (at most READ_ROUNDS reads, so one busy client cannot
 * starve the others or the control loop) and answer every complete line.
 * Only new bytes are scanned for newlines.
 */
static void
client_read(struct ctl_server *srv, struct client *c)
{
	for (unsigned round = 0; round < READ_ROUNDS && !c->closing; round++) {
		size_t start = 0, i, scanned = c->in_len;
		ssize_t n;

		if (c->in_cap - c->in_len < 4096) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
			char *p;

			if (cap > CTL_LINE_MAX + 8192)
				cap = CTL_LINE_MAX + 8192;
			p = realloc(c->in, cap);
			if (p == NULL) {
				c->closing = true;
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		n = client_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == 0) {
			/* EOF: a last line without its newline still counts. */
			if (c->in_len > 0)
				client_answer(srv, c, c->in, c->in_len);
			c->closing = true;
			c->in_len = 0;
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->closing = true;
			return;
		}
		c->in_len += (size_t)n;
		for (i = scanned; i < c->in_len && !c->closing; i++)
			if (c->in[i] == '\n') {
				if (i > start)
					client_answer(srv, c, c->in + start, i - start);
				start = i + 1;
			}
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
		if (c->in_len > CTL_LINE_MAX) {
			static const char msg[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
						  "{\"code\":-32600,\"message\":\"request line "
						  "longer than 1 MiB\"}}";

			client_queue(c, msg, sizeof(msg) - 1);
			c->closing = true;
			c->in_len = 0;
			return;
		}
	}
}

static void
accept_clients(struct ctl_server *srv)
{
	for (;;) {
		int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ucred cred = {0};
		int i;

		if (fd < 0)
			return;
		if (!peer_allowed(srv, fd, &cred)) {
			static const char msg[] =
				"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
				"-32001,\"message\":\"permission denied: not root "
				"or in group portico\"}}\n";

			if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				(void)0;
			close(fd);
			continue;
		}
		for (i = 0; i < CTL_MAX_CLIENTS; i++)
			if (srv->clients[i].fd < 0)
				break;
		if (i == CTL_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		srv->clients[i].fd = fd;
		srv->clients[i].token = srv->next_token++;
		srv->clients[i].uid = cred.uid;
		srv->clients[i].gid = cred.gid;
	}
}

void
ctl_server_poll(struct ctl_server *srv, int timeout_ms)
{
	struct pollfd pfd[CTL_MAX_CLIENTS + 1];
	int map[CTL_MAX_CLIENTS + 1];
	int n = 0, i;

	pfd[n].fd = srv->fd;
	pfd[n].events = POLLIN;
	map[n++] = -1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct client *c = &srv->clients[i];

		if (c->fd < 0)
			continue;
		pfd[n].fd = c->fd;
		pfd[n].events = (c->closing ? 0 : POLLIN) | (c->out_len > c->out_off ? POLLOUT : 0);
		map[n++] = i;
	}
	if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (i = 1; i < n; i++) {
		struct client *c = &srv->clients[map[i]];

		if (pfd[i].revents & (POLLHUP | POLLERR) && c->closing)
			c->out_len = c->out_off = 0; /* nobody will read what is left */
		else if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			client_read(srv, c);
		if (c->out_len > c->out_off)
			client_flush(c);
		if (c->closing && c->out_len <= c->out_off)
			client_close(c);
	}
	if (pfd[0].revents & POLLIN)
		accept_clients(srv);
}

int
ctl_server_take_fd(struct ctl_server *srv)
{
	struct client *c = srv->current;
	int fd;

	if (c == NULL || c->n_fds == 0)
		return -1;
	fd = c->fds[0];
	memmove(c->fds, c->fds + 1, (c->n_fds - 1) * sizeof(c->fds[0]));
	c->n_fds--;
	return fd;
}

uint64_t
ctl_server_client(const struct ctl_server *srv)
{
	return srv->current != NULL ? srv->current->token : 0;
}

int
ctl_server_client_cred(const struct ctl_server *srv, uid_t *uid, gid_t *gid)
{
	if (srv->current == NULL)
		return -ENOENT;
	*uid = srv->current->uid;
	*gid = srv->current->gid;
	return 0;
}

bool
ctl_server_client_alive(const struct ctl_server *srv, uint64_t token)
{
	for (unsigned i = 0; token != 0 && i < CTL_MAX_CLIENTS; i++)
		if (srv->clients[i].fd >= 0 && srv->clients[i].token == token)
			return !srv->clients[i].closing;
	return false;
}
