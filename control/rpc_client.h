/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC 2.0 client of porticod's control socket and portico-agent's
 * sockets, used by the portico CLI and by the agent (to reach porticod).
 *
 * Transports: a unix stream socket (porticod, the local agent), or TCP with
 * TLS (the agent's remote API: TLS 1.2 or newer, the server's certificate
 * checked against a CA and the host name or address dialled, the client's
 * own certificate presented). A request is one JSON object on one line
 * ended by '\n', and so is its reply. The client sends one request at a
 * time and waits for its reply; connecting and every call are each bounded
 * by the client's timeout. No DPDK here: jansson, OpenSSL and libc.
 */
#ifndef PORTICO_CONTROL_RPC_CLIENT_H
#define PORTICO_CONTROL_RPC_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#define CTL_CLIENT_TIMEOUT_MS 10000 /* default bound of connect and of each call */
#define CTL_CLIENT_REPLY_MAX (64u << 20) /* longest reply line accepted, in bytes */
#define CTL_CLIENT_ERR_MAX 256 /* size of the last-error text, with NUL */

struct ssl_st;
struct ssl_ctx_st;

/* A connection to porticod or the agent. */
struct ctl_client {
	int fd; /* connected socket; -1 when not connected */
	struct ssl_st *ssl; /* TLS state; NULL on a unix socket */
	struct ssl_ctx_st *ssl_ctx; /* its context; NULL on a unix socket */
	int timeout_ms; /* bound of connect and of each call */
	json_int_t next_id; /* JSON-RPC id of the next request */
	char *rbuf; /* bytes received and not yet consumed */
	size_t rlen; /* bytes used in rbuf */
	size_t rcap; /* bytes allocated for rbuf */
	char err[CTL_CLIENT_ERR_MAX]; /* why the last call failed, "" if it did not */
};

/*
 * Connect to the unix socket at "path", waiting at most timeout_ms.
 * The client is initialised even on failure, so ctl_client_close() is always
 * safe after this. Returns 0, or -errno: -ENAMETOOLONG for a path that does not
 * fit sun_path, -ETIMEDOUT, or connect(2)'s error (-ENOENT, -ECONNREFUSED...).
 */
int ctl_client_connect(struct ctl_client *c, const char *path, int timeout_ms);

/* Files of a TLS connection (PEM). */
struct ctl_client_tls {
	const char *ca; /* CA certificate(s) the server's certificate must chain to */
	const char *cert; /* the client's certificate (chain), signed by the server's CA */
	const char *key; /* its private key */
};

/*
 * Connect to "host:port" ("[v6]:port" for an IPv6 address) over TLS 1.2+,
 * waiting at most timeout_ms for TCP and the handshake. The server's
 * certificate must chain to tls->ca and name host (DNS name or IP address).
 * Initialised even on failure, as ctl_client_connect(). 0, or -errno with
 * c->err saying why: -EINVAL (bad address or files), -EACCES (TLS refused:
 * the server's certificate, or ours), -ETIMEDOUT, or connect(2)'s error.
 * With TLS 1.3 a server that refuses our certificate says so only after the
 * handshake: the first call then fails with -EACCES.
 */
int ctl_client_connect_tls(struct ctl_client *c, const char *hostport,
	const struct ctl_client_tls *tls, int timeout_ms);

/*
 * Call "method" with "params" (an object or array; NULL sends {}), and wait
 * for the reply. Returns 0 when a reply came: then exactly one of *result (the
 * "result" member, possibly JSON null) and *error (the "error" object) is set
 * to a new reference, and the other to NULL. Otherwise returns -errno with
 * c->err saying why: -ETIMEDOUT (no reply within the timeout), -ECONNRESET
 * (closed before replying), -EACCES (TLS: the server refused us), -EPROTO (the reply is not a
 * JSON-RPC 2.0 response to this request), -EMSGSIZE (reply longer than CTL_CLIENT_REPLY_MAX),
 * -ENOMEM, -EINVAL, -ENOTCONN, or send(2)/recv(2)'s error.
 */
int ctl_client_call(
	struct ctl_client *c, const char *method, json_t *params, json_t **result, json_t **error);

/*
 * ctl_client_call(), passing descriptor fd (SCM_RIGHTS) with the request: the
 * daemon gets its own copy, the caller keeps fd. Unix sockets only (-EINVAL
 * over TLS).
 */
int ctl_client_call_fd(struct ctl_client *c, const char *method, json_t *params, int fd,
	json_t **result, json_t **error);

/* Close the connection and free the client's buffers. Safe to call twice. */
void ctl_client_close(struct ctl_client *c);

#endif /* PORTICO_CONTROL_RPC_CLIENT_H */
