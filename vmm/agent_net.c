/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * portico-agent's clients: the local unix socket (root or group "portico",
 * checked with SO_PEERCRED, as porticod's) and the remote API, TLS over TCP
 * with mutual authentication (OpenSSL; TLS 1.2 or newer; a client must
 * present a certificate the configured CA signed, or the handshake fails and
 * no request of it is ever read). Both speak one JSON object per line.
 *
 * Everything is non-blocking and driven by the agent's poll loop; a client
 * that sends a line over AGENT_LINE_MAX, lets 64 MiB of answers pile up, or
 * does not finish its TLS handshake within 10 s is dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "vmm/agent.h"

#define OUT_MAX (64u << 20) /* a client that lets this much pile up is dropped */
#define HANDSHAKE_MS 10000 /* a TLS client must finish its handshake within this */
#define READ_ROUNDS 16 /* reads per client per poll, so none starves the others */

/* One client. */
struct agent_conn {
	int fd; /* socket; -1: free slot */
	uint64_t id; /* unique for the agent's life; deferred replies find it by this */
	SSL *ssl; /* TLS state, NULL for a local client */
	bool handshaking; /* TLS handshake not finished */
	bool want_write; /* TLS: the last SSL call wants the socket writable */
	bool closing; /* close once out is sent */
	int64_t deadline_ms; /* TLS: end of the handshake allowance */
	char *in; /* bytes received, not yet a full line */
	size_t in_len; /* bytes used in in */
	size_t in_cap; /* bytes allocated for in */
	char *out; /* bytes to send */
	size_t out_len; /* bytes used in out */
	size_t out_off; /* bytes of out already sent */
	char peer[160]; /* who it is, for the log */
};

struct agent_net {
	struct agent *a; /* the agent (methods) */
	int ufd; /* local listener */
	char upath[VMM_SOCK_MAX]; /* its path */
	gid_t group; /* group "portico", or (gid_t)-1 */
	int tfd; /* TLS listener, -1 without --listen */
	SSL_CTX *ctx; /* TLS server context, NULL without --listen */
	uint64_t next_id; /* id of the next client */
	struct agent_conn conns[AGENT_MAX_CONNS]; /* the clients */
	int map[AGENT_MAX_CONNS + 2]; /* pollfd index -> conn index (-1, -2: listeners) */
	int nmap; /* entries used in map */
};

/* The first queued OpenSSL error as text (and clear the queue). */
static const char *
ssl_err(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static void
conn_close(struct agent_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Is a local peer root or a member of the portico group? */
static bool
peer_allowed(const struct agent_net *n, int fd, char *peer, size_t size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd *pw;
	gid_t groups[256];
	int ng = 256;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	snprintf(peer, size, "local pid %d uid %u", (int)cred.pid, (unsigned)cred.uid);
	if (cred.uid == 0)
		return true;
	if (n->group == (gid_t)-1)
		return false;
	if (cred.gid == n->group)
		return true;
	pw = getpwuid(cred.uid);
	if (pw == NULL || getgrouplist(pw->pw_name, pw->pw_gid, groups, &ng) < 0)
		return false;
	for (int i = 0; i < ng; i++)
		if (groups[i] == n->group)
			return true;
	return false;
}

static int
listen_unix(struct agent_net *n, const char *path, char *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct group *gr;
	char dir[VMM_SOCK_MAX], *slash;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, VMM_ERR_MAX, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	snprintf(n->upath, sizeof(n->upath), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, VMM_ERR_MAX, "%s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	gr = getgrnam("portico");
	n->group = gr != NULL ? gr->gr_gid : (gid_t)-1;

	/* A live socket means another agent; a dead one is left over. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(err, VMM_ERR_MAX, "%s: another agent is listening there", path);
		return -EADDRINUSE;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	n->ufd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->ufd < 0 || bind(n->ufd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		chmod(path, 0660) != 0 ||
		(n->group != (gid_t)-1 && chown(path, 0, n->group) != 0) ||
		listen(n->ufd, 16) != 0) {
		snprintf(err, VMM_ERR_MAX, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static int
split_hostport(const char *s, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon;
	size_t hlen;

	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - s - 1);
		s++;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= hsize || strlen(colon + 1) == 0 || strlen(colon + 1) >= psize)
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int
listen_tls(struct agent_net *n, const struct agent_tls_opts *o, char *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
	STACK_OF(X509_NAME) * cas;
	char host[256], port[16];
	int one = 1, rc;

	if (o->ca == NULL || o->cert == NULL || o->key == NULL) {
		snprintf(err, VMM_ERR_MAX, "--listen needs --ca, --cert and --key");
		return -EINVAL;
	}
	if (split_hostport(o->listen, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(err, VMM_ERR_MAX, "--listen %s: expected HOST:PORT", o->listen);
		return -EINVAL;
	}
	n->ctx = SSL_CTX_new(TLS_server_method());
	if (n->ctx == NULL) {
		snprintf(err, VMM_ERR_MAX, "TLS: %.200s", ssl_err());
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(n->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(n->ctx,
		SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_num_tickets(n->ctx, 0);
	SSL_CTX_set_mode(
		n->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(n->ctx, o->cert) != 1) {
		snprintf(err, VMM_ERR_MAX, "--cert %.100s: %.120s", o->cert, ssl_err());
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(n->ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
		SSL_CTX_check_private_key(n->ctx) != 1) {
		snprintf(err, VMM_ERR_MAX, "--key %.100s: %.120s", o->key, ssl_err());
		return -EINVAL;
	}
	if (SSL_CTX_load_verify_locations(n->ctx, o->ca, NULL) != 1) {
		snprintf(err, VMM_ERR_MAX, "--ca %.100s: %.120s", o->ca, ssl_err());
		return -EINVAL;
	}
	cas = SSL_load_client_CA_file(o->ca);
	if (cas == NULL) {
		snprintf(err, VMM_ERR_MAX, "--ca %s: no CA certificate in it", o->ca);
		return -EINVAL;
	}
	SSL_CTX_set_client_CA_list(n->ctx, cas);
	/* Mutual authentication: no certificate, or one the CA did not sign,
	 * fails the handshake. */
	SSL_CTX_set_verify(n->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, VMM_ERR_MAX, "--listen %s: %s", o->listen, gai_strerror(rc));
		return -EINVAL;
	}
	n->tfd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->tfd < 0 || setsockopt(n->tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		bind(n->tfd, res->ai_addr, res->ai_addrlen) != 0 || listen(n->tfd, 16) != 0) {
		snprintf(err, VMM_ERR_MAX, "--listen %s: %s", o->listen, strerror(errno));
		rc = -errno;
		freeaddrinfo(res);
		return rc;
	}
	freeaddrinfo(res);
	return 0;
}

struct agent_net *
agent_net_new(struct agent *a, const char *sock_path, const struct agent_tls_opts *tls, char *err)
{
	struct agent_net *n;
	int rc;

	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		snprintf(err, VMM_ERR_MAX, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	n->a = a;
	n->ufd = -1;
	n->tfd = -1;
	n->next_id = 1;
	for (int i = 0; i < AGENT_MAX_CONNS; i++)
		n->conns[i].fd = -1;
	rc = listen_unix(n, sock_path, err);
	if (rc == 0 && tls != NULL && tls->listen != NULL)
		rc = listen_tls(n, tls, err);
	if (rc < 0) {
		agent_net_free(n);
		errno = -rc;
		return NULL;
	}
	return n;
}

void
agent_net_free(struct agent_net *n)
{
	if (n == NULL)
		return;
	for (int i = 0; i < AGENT_MAX_CONNS; i++)
		if (n->conns[i].fd >= 0)
			conn_close(&n->conns[i]);
	if (n->ufd >= 0) {
		close(n->ufd);
		unlink(n->upath);
	}
	if (n->tfd >= 0)
		close(n->tfd);
	SSL_CTX_free(n->ctx);
	free(n);
}

static struct agent_conn *
conn_by_id(struct agent_net *n, uint64_t id)
{
	for (int i = 0; i < AGENT_MAX_CONNS; i++)
		if (n->conns[i].fd >= 0 && n->conns[i].id == id)
			return &n->conns[i];
	return NULL;
}

/* Append line and '\n' to c's output. */
static void
conn_queue(struct agent_conn *c, const char *data, size_t len)
{
	char *p;

	if (c->closing)
		return;
	if (c->out_len - c->out_off + len + 1 > OUT_MAX) {
		agent_log("%s: does not read its answers: dropped", c->peer);
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

/* Send what can be sent now. */
static void
conn_flush(struct agent_conn *c)
{
	ssize_t n;
	int r;

	while (c->out_off < c->out_len && !c->handshaking) {
		if (c->ssl != NULL) {
			r = SSL_write(c->ssl, c->out + c->out_off, (int)(c->out_len - c->out_off));
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				c->want_write = e == SSL_ERROR_WANT_WRITE;
				if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
					ERR_clear_error();
					c->closing = true;
					c->out_len = c->out_off = 0;
				}
				return;
			}
			c->want_write = false;
			c->out_off += (size_t)r;
			continue;
		}
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->closing = true, c->out_len = c->out_off = 0;
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off >= c->out_len)
		c->out_len = c->out_off = 0;
}

int
agent_net_send(struct agent_net *n, uint64_t conn, const char *line)
{
	struct agent_conn *c = conn_by_id(n, conn);

	if (c == NULL || c->closing)
		return -ENOENT;
	conn_queue(c, line, strlen(line));
	conn_flush(c);
	return 0;
}

static void
answer(struct agent_net *n, struct agent_conn *c, const char *line, size_t len)
{
	char *resp;

	if (c->closing)
		return;
	resp = agent_rpc_handle(n->a, c->id, line, len);
	if (resp != NULL) {
		conn_queue(c, resp, strlen(resp));
		free(resp);
	}
}

/* Receive into c->in: bytes read, 0 on EOF, -EAGAIN, or another -errno. */
static ssize_t
conn_recv(struct agent_conn *c, char *buf, size_t size)
{
	ssize_t n;
	int r, e;

	if (c->ssl == NULL) {
		n = recv(c->fd, buf, size, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
		return n;
	}
	r = SSL_read(c->ssl, buf, (int)size);
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return -EAGAIN;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = true;
		return -EAGAIN;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	agent_log("%s: TLS: %s", c->peer, e == SSL_ERROR_SSL ? ssl_err() : "connection lost");
	ERR_clear_error();
	return -EIO;
}

/* Read what is there and answer every complete line. */
static void
conn_read(struct agent_net *n, struct agent_conn *c)
{
	for (unsigned round = 0; round < READ_ROUNDS && !c->closing; round++) {
		size_t start = 0, i, scanned = c->in_len;
		ssize_t got;

		if (c->in_cap - c->in_len < 4096) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
			char *p;

			if (cap > AGENT_LINE_MAX + 8192)
				cap = AGENT_LINE_MAX + 8192;
			p = realloc(c->in, cap);
			if (p == NULL) {
				c->closing = true;
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		got = conn_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
		if (got == 0) {
			/* EOF: a last line without its newline still counts. */
			if (c->in_len > 0)
				answer(n, c, c->in, c->in_len);
			c->closing = true;
			c->in_len = 0;
			return;
		}
		if (got == -EAGAIN)
			return;
		if (got < 0) {
			c->closing = true;
			c->out_len = c->out_off = 0;
			return;
		}
		c->in_len += (size_t)got;
		for (i = scanned; i < c->in_len && !c->closing; i++)
			if (c->in[i] == '\n') {
				if (i > start)
					answer(n, c, c->in + start, i - start);
				start = i + 1;
			}
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
		if (c->in_len > AGENT_LINE_MAX) {
			static const char msg[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
						  "{\"code\":-32600,\"message\":\"request line "
						  "longer than 1 MiB\"}}";

			conn_queue(c, msg, sizeof(msg) - 1);
			c->closing = true;
			c->in_len = 0;
			return;
		}
	}
}

/* Drive the TLS handshake; on success, note who the client is. */
static void
conn_handshake(struct agent_conn *c)
{
	X509 *cert;
	char cn[96] = "?";
	int r, e;

	r = SSL_accept(c->ssl);
	if (r == 1) {
		c->handshaking = false;
		c->want_write = false;
		cert = SSL_get1_peer_certificate(c->ssl);
		if (cert != NULL) {
			X509_NAME_get_text_by_NID(
				X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
			X509_free(cert);
		}
		snprintf(
			c->peer + strlen(c->peer), sizeof(c->peer) - strlen(c->peer), " CN=%s", cn);
		agent_log("%s: authenticated (%s)", c->peer, SSL_get_version(c->ssl));
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->want_write = e == SSL_ERROR_WANT_WRITE;
		return;
	}
	if (e == SSL_ERROR_SSL) {
		long v = SSL_get_verify_result(c->ssl);

		agent_log("%s: refused: %s%s%s", c->peer, ssl_err(), v != X509_V_OK ? ": " : "",
			v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
	} else {
		agent_log("%s: refused: handshake not completed", c->peer);
	}
	ERR_clear_error();
	c->closing = true;
	c->out_len = c->out_off = 0;
}

static struct agent_conn *
free_slot(struct agent_net *n)
{
	for (int i = 0; i < AGENT_MAX_CONNS; i++)
		if (n->conns[i].fd < 0)
			return &n->conns[i];
	return NULL;
}

static void
accept_unix(struct agent_net *n)
{
	struct agent_conn *c;
	char peer[160];
	int fd;

	for (;;) {
		fd = accept4(n->ufd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!peer_allowed(n, fd, peer, sizeof(peer))) {
			static const char msg[] =
				"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
				"-32001,\"message\":\"permission denied: not root "
				"or in group portico\"}}\n";

			if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				(void)0;
			close(fd);
			continue;
		}
		c = free_slot(n);
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = n->next_id++;
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
	}
}

static void
accept_tls(struct agent_net *n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN], port[8];
	struct agent_conn *c;
	int fd;

	for (;;) {
		len = sizeof(ss);
		fd = accept4(n->tfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c = free_slot(n);
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->ssl = SSL_new(n->ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
			agent_log("TLS: %s", ssl_err());
			if (c->ssl != NULL)
				SSL_free(c->ssl);
			c->ssl = NULL;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = n->next_id++;
		c->handshaking = true;
		c->deadline_ms = agent_now_ms() + HANDSHAKE_MS;
		if (getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			snprintf(host, sizeof(host), "?"), snprintf(port, sizeof(port), "?");
		snprintf(c->peer, sizeof(c->peer), "tls %s:%s", host, port);
		conn_handshake(c);
	}
}

int
agent_net_pollfds(struct agent_net *n, struct pollfd *pfd, int max)
{
	int64_t now = agent_now_ms();
	int k = 0;

	n->nmap = 0;
	if (k < max) {
		pfd[k] = (struct pollfd){.fd = n->ufd, .events = POLLIN};
		n->map[k++] = -1;
	}
	if (n->tfd >= 0 && k < max) {
		pfd[k] = (struct pollfd){.fd = n->tfd, .events = POLLIN};
		n->map[k++] = -2;
	}
	for (int i = 0; i < AGENT_MAX_CONNS && k < max; i++) {
		struct agent_conn *c = &n->conns[i];

		if (c->fd < 0)
			continue;
		if (c->handshaking && now > c->deadline_ms) {
			agent_log("%s: refused: no TLS handshake within %d s", c->peer,
				HANDSHAKE_MS / 1000);
			conn_close(c);
			continue;
		}
		if (c->closing && c->out_len <= c->out_off) {
			conn_close(c);
			continue;
		}
		pfd[k].fd = c->fd;
		pfd[k].events = (c->closing ? 0 : POLLIN) |
			(c->out_len > c->out_off || c->want_write ? POLLOUT : 0);
		pfd[k].revents = 0;
		n->map[k++] = i;
	}
	n->nmap = k;
	return k;
}

void
agent_net_events(struct agent_net *n, const struct pollfd *pfd, int count)
{
	for (int k = 0; k < count && k < n->nmap; k++) {
		struct agent_conn *c;

		if (pfd[k].revents == 0)
			continue;
		if (n->map[k] == -1) {
			accept_unix(n);
			continue;
		}
		if (n->map[k] == -2) {
			accept_tls(n);
			continue;
		}
		c = &n->conns[n->map[k]];
		if (c->fd < 0)
			continue;
		if (c->handshaking) {
			conn_handshake(c);
		} else if ((pfd[k].revents & (POLLHUP | POLLERR)) && c->closing) {
			c->out_len = c->out_off = 0; /* nobody will read what is left */
		} else if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR | POLLOUT)) {
			if (!c->closing)
				conn_read(n, c);
		}
		if (c->out_len > c->out_off)
			conn_flush(c);
		if (c->closing && c->out_len <= c->out_off)
			conn_close(c);
	}
}
