/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC 2.0 client of porticod's and the agent's sockets (see rpc_client.h).
 *
 * The socket is non-blocking once connected; every send and receive waits
 * with poll(2) against one deadline per call, so a stuck daemon costs at most
 * the timeout. Replies are read into a buffer kept across calls, so bytes
 * after a reply's '\n' are not lost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "control/rpc_client.h"

#define RECV_CHUNK 65536 /* bytes asked of each recv(2) */

static void
set_err(struct ctl_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for "events" or the deadline passes. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0; /* ready, or an error the next send/recv reports */
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int
ctl_client_connect(struct ctl_client *c, const char *path, int timeout_ms)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv;
	size_t len;
	int fd, flags, ret;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->next_id = 1;
	c->timeout_ms = timeout_ms;
	if (path == NULL || path[0] == '\0' || timeout_ms <= 0) {
		set_err(c, "invalid socket path or timeout");
		return -EINVAL;
	}
	len = strlen(path);
	if (len >= sizeof(addr.sun_path)) {
		set_err(c, "socket path longer than %zu bytes", sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, len + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	/* A blocking connect(2) to a listener whose backlog is full waits for
	 * room; on Linux SO_SNDTIMEO bounds that wait (it then fails EAGAIN). */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		ret = -errno;
		goto fail_close;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		goto fail_close;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		ret = -errno;
		goto fail_close;
	}
	c->fd = fd;
	return 0;

fail_close:
	close(fd);
fail:
	set_err(c, "%s", strerror(-ret));
	return ret;
}

/* The first queued OpenSSL error as text; the queue is cleared. */
static void
set_ssl_err(struct ctl_client *c, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[200];

	if (e == 0)
		snprintf(buf, sizeof(buf), "connection closed");
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	set_err(c, "%s: %s", what, buf);
}

/* "host:port" or "[v6]:port". */
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
	if (hlen == 0 || hlen >= hsize || colon[1] == '\0' || strlen(colon + 1) >= psize)
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/* A non-blocking TCP connection to host:port within the deadline. */
static int
tcp_connect(struct ctl_client *c, const char *host, const char *port, int64_t deadline)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, rc = -ECONNREFUSED, one = 1, soerr;
	socklen_t len;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		set_err(c, "%s: %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	rc = -ECONNREFUSED;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			rc = -errno;
			close(fd);
			fd = -1;
			continue;
		}
		rc = wait_fd(fd, POLLOUT, deadline);
		len = sizeof(soerr);
		if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
			soerr != 0)
			rc = -soerr;
		if (rc == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		set_err(c, "%s", strerror(-rc));
		return rc;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
}

/* Wait for what an SSL call that returned r wants: 0 to retry, or -errno. */
static int
ssl_wait(struct ctl_client *c, int r, int64_t deadline, const char *what)
{
	int e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(c->fd, POLLIN, deadline);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(c->fd, POLLOUT, deadline);
	if (e == SSL_ERROR_ZERO_RETURN)
		return -ECONNRESET;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		set_err(c, "%s: connection closed", what);
		return -ECONNRESET;
	}
	set_ssl_err(c, what);
	return -EACCES;
}

int
ctl_client_connect_tls(struct ctl_client *c, const char *hostport, const struct ctl_client_tls *tls,
	int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	char host[256], port[16];
	struct in6_addr a6;
	struct in_addr a4;
	int r, rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->next_id = 1;
	c->timeout_ms = timeout_ms;
	if (hostport == NULL || tls == NULL || tls->ca == NULL || tls->cert == NULL ||
		tls->key == NULL || timeout_ms <= 0) {
		set_err(c, "a remote connection needs HOST:PORT, a CA, a certificate and a key");
		return -EINVAL;
	}
	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port)) < 0) {
		set_err(c, "'%s' is not HOST:PORT", hostport);
		return -EINVAL;
	}
	c->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (c->ssl_ctx == NULL) {
		set_ssl_err(c, "TLS");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	if (SSL_CTX_load_verify_locations(c->ssl_ctx, tls->ca, NULL) != 1) {
		set_ssl_err(c, tls->ca);
		return -EINVAL;
	}
	if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, tls->cert) != 1) {
		set_ssl_err(c, tls->cert);
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, tls->key, SSL_FILETYPE_PEM) != 1 ||
		SSL_CTX_check_private_key(c->ssl_ctx) != 1) {
		set_ssl_err(c, tls->key);
		return -EINVAL;
	}
	SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
	rc = tcp_connect(c, host, port, deadline);
	if (rc < 0)
		return rc;
	c->ssl = SSL_new(c->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		set_ssl_err(c, "TLS");
		return -ENOMEM;
	}
	/* The server's certificate must name what we dialled. */
	if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
	} else {
		SSL_set_tlsext_host_name(c->ssl, host);
		SSL_set1_host(c->ssl, host);
	}
	while ((r = SSL_connect(c->ssl)) != 1) {
		rc = ssl_wait(c, r, deadline, "TLS handshake");
		if (rc == -EACCES && SSL_get_verify_result(c->ssl) != X509_V_OK)
			set_err(c, "TLS handshake: the server's certificate: %s",
				X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
		if (rc == -ETIMEDOUT)
			set_err(c, "TLS handshake: no answer within %d ms", timeout_ms);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * sendmsg() of buf with descriptor fd (SCM_RIGHTS): the descriptor goes with
 * the first byte the kernel takes.
 */
static ssize_t
send_with_fd(int sock, const char *buf, size_t len, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctrl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(ctrl.buf, 0, sizeof(ctrl.buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* Send all of buf before the deadline; fd (>= 0) is passed with it (unix socket only). */
static int
send_all(struct ctl_client *c, const char *buf, size_t len, int fd, int64_t deadline)
{
	size_t off = 0;
	ssize_t n;
	int ret;

	while (off < len) {
		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, buf + off, (int)(len - off));

			if (r > 0) {
				off += (size_t)r;
				continue;
			}
			ret = ssl_wait(c, r, deadline, "TLS");
			if (ret < 0)
				return ret;
			continue;
		}
		if (fd >= 0)
			n = send_with_fd(c->fd, buf + off, len - off, fd);
		else
			n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			fd = -1; /* it went with those bytes */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = wait_fd(c->fd, POLLOUT, deadline);
			if (ret < 0)
				return ret;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

/*
 * Receive until rbuf holds a '\n' (or the peer closed after sending
 * something); *line_len is then the length of the line without its '\n'.
 */
static int
recv_line(struct ctl_client *c, int64_t deadline, size_t *line_len)
{
	size_t scanned = 0;
	char *nl, *p;
	ssize_t n;
	int ret;

	for (;;) {
		nl = c->rlen > scanned ? memchr(c->rbuf + scanned, '\n', c->rlen - scanned) : NULL;
		if (nl != NULL) {
			*line_len = (size_t)(nl - c->rbuf);
			return 0;
		}
		scanned = c->rlen;
		if (c->rlen > CTL_CLIENT_REPLY_MAX)
			return -EMSGSIZE;
		if (c->rcap - c->rlen < RECV_CHUNK) {
			p = realloc(
				c->rbuf, c->rcap + (c->rcap > RECV_CHUNK ? c->rcap : RECV_CHUNK));
			if (p == NULL)
				return -ENOMEM;
			c->rbuf = p;
			c->rcap += c->rcap > RECV_CHUNK ? c->rcap : RECV_CHUNK;
		}
		if (c->ssl != NULL) {
			int r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));

			if (r > 0) {
				c->rlen += (size_t)r;
				continue;
			}
			ret = ssl_wait(c, r, deadline, "TLS");
			if (ret == -ECONNRESET && c->rlen > 0) {
				*line_len = c->rlen;
				return 0;
			}
			if (ret < 0)
				return ret;
			continue;
		}
		n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			continue;
		}
		if (n == 0) {
			/* Closed: take an unterminated last line as the reply. */
			if (c->rlen == 0)
				return -ECONNRESET;
			*line_len = c->rlen;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		ret = wait_fd(c->fd, POLLIN, deadline);
		if (ret < 0)
			return ret;
	}
}

/* Check one reply line and hand out its result or error. */
static int
parse_reply(struct ctl_client *c, const char *line, size_t len, json_int_t id, json_t **result,
	json_t **error)
{
	json_t *reply, *v, *res, *err;
	json_error_t jerr;
	int ret = -EPROTO;

	reply = json_loadb(line, len, 0, &jerr);
	if (reply == NULL) {
		set_err(c, "reply is not JSON: %s", jerr.text);
		return -EPROTO;
	}
	if (!json_is_object(reply)) {
		set_err(c, "reply is not a JSON object");
		goto out;
	}
	v = json_object_get(reply, "jsonrpc");
	if (v != NULL && !(json_is_string(v) && strcmp(json_string_value(v), "2.0") == 0)) {
		set_err(c, "reply is not JSON-RPC 2.0");
		goto out;
	}
	res = json_object_get(reply, "result");
	err = json_object_get(reply, "error");
	if ((res == NULL) == (err == NULL)) {
		set_err(c, "reply has %s \"result\" and \"error\"",
			res == NULL ? "neither" : "both");
		goto out;
	}
	if (err != NULL && !json_is_object(err)) {
		set_err(c, "reply's \"error\" is not an object");
		goto out;
	}
	/* A request the daemon could not parse gets an error with id null. */
	v = json_object_get(reply, "id");
	if (!(json_is_integer(v) && json_integer_value(v) == id) &&
		!(err != NULL && (v == NULL || json_is_null(v)))) {
		set_err(c, "reply is for another request (id mismatch)");
		goto out;
	}
	*result = res != NULL ? json_incref(res) : NULL;
	*error = err != NULL ? json_incref(err) : NULL;
	ret = 0;
out:
	json_decref(reply);
	return ret;
}

int
ctl_client_call(
	struct ctl_client *c, const char *method, json_t *params, json_t **result, json_t **error)
{
	return ctl_client_call_fd(c, method, params, -1, result, error);
}

int
ctl_client_call_fd(struct ctl_client *c, const char *method, json_t *params, int fd,
	json_t **result, json_t **error)
{
	json_t *req = NULL;
	char *text = NULL;
	size_t len, line_len = 0;
	int64_t deadline;
	json_int_t id;
	int ret, sret;

	*result = NULL;
	*error = NULL;
	c->err[0] = '\0';
	if (c->fd < 0) {
		set_err(c, "not connected");
		return -ENOTCONN;
	}
	if (method == NULL ||
		(params != NULL && !json_is_object(params) && !json_is_array(params)) ||
		(fd >= 0 && c->ssl != NULL)) {
		set_err(c, "invalid method or params");
		return -EINVAL;
	}
	deadline = now_ms() + c->timeout_ms;
	id = c->next_id++;

	/* "o" steals the reference, even when packing fails. */
	req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)id, "method",
		method, "params", params != NULL ? json_incref(params) : json_object());
	if (req == NULL) {
		set_err(c, "cannot build the request (method not UTF-8?)");
		ret = -EINVAL;
		goto out;
	}
	/* Compact JSON escapes control characters: the line has no '\n' of
	 * its own, so appending one frames it. */
	text = json_dumps(req, JSON_COMPACT);
	if (text == NULL) {
		set_err(c, "cannot encode the request");
		ret = -ENOMEM;
		goto out;
	}
	len = strlen(text);
	text[len] = '\n'; /* overwrites the NUL: text is now len + 1 bytes */

	sret = send_all(c, text, len + 1, fd, deadline);
	ret = recv_line(c, deadline, &line_len);
	if (sret < 0 && ret < 0) {
		/* The daemon may have replied (e.g. "request too long") and
		 * closed before reading everything: prefer its reply. */
		ret = sret == -EACCES ? sret : ret == -EACCES ? ret : sret;
		if (ret != -EACCES) /* TLS errors already say why */
			set_err(c, "cannot send the request: %s", strerror(-ret));
		goto out;
	}
	if (ret < 0) {
		if (ret == -EACCES)
			; /* TLS: refused, c->err says why */
		else if (ret == -ETIMEDOUT && c->timeout_ms % 1000 == 0)
			set_err(c, "no reply within %d s", c->timeout_ms / 1000);
		else if (ret == -ETIMEDOUT)
			set_err(c, "no reply within %d ms", c->timeout_ms);
		else if (ret == -ECONNRESET)
			set_err(c, "connection closed without a reply");
		else if (ret == -EMSGSIZE)
			set_err(c, "reply longer than %u bytes", CTL_CLIENT_REPLY_MAX);
		else
			set_err(c, "cannot receive the reply: %s", strerror(-ret));
		goto out;
	}
	ret = parse_reply(c, c->rbuf, line_len, id, result, error);
	/* Consume the line and its '\n' (if it had one). */
	if (line_len < c->rlen)
		line_len++;
	memmove(c->rbuf, c->rbuf + line_len, c->rlen - line_len);
	c->rlen -= line_len;
out:
	free(text);
	json_decref(req);
	return ret;
}

void
ctl_client_close(struct ctl_client *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl); /* best effort: the socket is non-blocking */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->ssl_ctx != NULL) {
		SSL_CTX_free(c->ssl_ctx);
		c->ssl_ctx = NULL;
	}
	ERR_clear_error();
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->rbuf);
	c->rbuf = NULL;
	c->rlen = 0;
	c->rcap = 0;
}
