/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture registry (capture.h): capture.start / stop / list, and the
 * main-loop side of every running capture. Main lcore only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "control/capture.h"
#include "control/methods.h"

/* Where a capture is in its life. */
enum entry_state {
	ENTRY_RUNNING, /* copying and writing */
	ENTRY_ENDING, /* ended: writing what was copied, then the statistics block */
	ENTRY_DONE, /* torn down: only its record is left */
};

static const char *const state_names[] = {
	[ENTRY_RUNNING] = "running",
	[ENTRY_ENDING] = "ending",
	[ENTRY_DONE] = "ended",
};

/* One capture, running or ended. */
struct cap_entry {
	unsigned id; /* capture.stop's id, from 1 */
	char port[CTL_NAME_MAX]; /* the port's name */
	bool uplink; /* the port is an uplink (else a VM port) */
	enum cap_dir dir;
	char *filter; /* the expression ("" for all) */
	char *file; /* the path written, or "-" for a stream */
	uint64_t count; /* as asked (0: no limit) */
	uint64_t duration_ms;
	uint32_t snaplen;
	uint64_t owner; /* a stream's client (ctl_server_client()); 0 for a file */
	time_t started; /* wall clock, for people */
	uint64_t start_ms; /* monotonic */
	uint64_t deadline_ms; /* monotonic end of the duration; UINT64_MAX: none */
	uint64_t ended_ms; /* monotonic, when its end was first seen; 0 while running */
	enum entry_state state;
	struct cap_session *s; /* the session; NULL once destroyed */
	uint64_t link_seq; /* order of linking (the newest is its chain's head); 0: not linked */
	bool unpublished; /* unlinked, but the snapshot without it is not published yet */
	struct cap_stats st; /* the counters, final once done */
	int error; /* the output's -errno, 0 */
	bool cut; /* torn down before its output was complete (CTL_CAP_LINGER_MS) */
};

struct ctl_capture {
	struct ctl_rt *rt; /* whose ports are captured */
	struct ctl_server *srv; /* hands out passed descriptors, knows clients */
	unsigned next_id; /* id of the next capture */
	uint64_t next_seq; /* link order */
	struct cap_entry *run[CTL_CAP_MAX]; /* running or ending, NULL slots free */
	struct cap_entry *hist[CTL_CAP_HISTORY]; /* done, oldest first */
	unsigned n_hist;
	bool republish_failed; /* logged once until it succeeds again */
};

/* --- parsing (pure) --- */

static const char *const start_keys[] = {"port", "direction", "filter", "file", "stream", "count",
	"duration", "snaplen", "ring_size", NULL};

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, CTL_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* An optional positive integer parameter up to max; 0 when absent. */
static int
opt_uint(json_t *params, const char *key, uint64_t min, uint64_t max, uint64_t *out, char *err)
{
	json_t *v = json_object_get(params, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
		(uint64_t)json_integer_value(v) > max)
		return fail(
			err, "%s must be an integer from %" PRIu64 " to %" PRIu64, key, min, max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int
ctl_capture_parse(json_t *params, struct ctl_cap_req *req, char *err)
{
	const char *key;
	json_t *v;
	uint64_t n;

	memset(req, 0, sizeof(*req));
	req->dir = CAP_DIR_BOTH;
	req->filter = "";
	if (!json_is_object(params))
		return fail(err, "params must be an object");
	json_object_foreach (params, key, v) {
		const char *const *k;

		for (k = start_keys; *k != NULL && strcmp(*k, key) != 0; k++)
			;
		if (*k == NULL)
			return fail(err, "unknown parameter \"%.64s\"", key);
	}
	v = json_object_get(params, "port");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return fail(err, "missing string parameter \"port\" (a VM port or an uplink)");
	req->port = json_string_value(v);
	v = json_object_get(params, "direction");
	if (v != NULL && !json_is_null(v) &&
		(!json_is_string(v) || cap_dir_parse(json_string_value(v), &req->dir) != 0))
		return fail(err, "direction must be in, out or both");
	v = json_object_get(params, "filter");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v))
			return fail(err, "filter must be a string (a tcpdump expression)");
		if (json_string_length(v) > CTL_CAP_FILTER_MAX)
			return fail(err, "filter longer than %d bytes", CTL_CAP_FILTER_MAX);
		req->filter = json_string_value(v);
	}
	v = json_object_get(params, "stream");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_boolean(v))
			return fail(err, "stream must be true or false");
		req->stream = json_is_true(v);
	}
	v = json_object_get(params, "file");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v))
			return fail(err, "file must be a string (an absolute path)");
		req->file = json_string_value(v);
		if (req->file[0] != '/')
			return fail(err,
				"file must be an absolute path (porticod's working directory is "
				"not yours): \"%.128s\"",
				req->file);
		if (json_string_length(v) >= PATH_MAX)
			return fail(err, "file: path too long");
	}
	if ((req->file != NULL) == req->stream)
		return fail(err,
			req->stream ? "give file or stream, not both"
				    : "missing \"file\" (an absolute path) or \"stream\"");
	if (opt_uint(params, "count", 1, INT64_MAX, &req->count, err) != 0 ||
		opt_uint(params, "snaplen", RTE_ETHER_HDR_LEN, CAP_SNAPLEN_MAX, &n, err) != 0)
		return -EINVAL;
	req->snaplen = (uint32_t)n;
	if (opt_uint(params, "ring_size", 2, CTL_CAP_RING_MAX, &n, err) != 0)
		return -EINVAL;
	if (n != 0 && !rte_is_power_of_2((uint32_t)n))
		return fail(err, "ring_size must be a power of two");
	req->ring_size = (unsigned)n;
	v = json_object_get(params, "duration");
	if (v != NULL && !json_is_null(v)) {
		double s = json_is_number(v) ? json_number_value(v) : -1;

		if (!(s > 0 && s <= CTL_CAP_DURATION_MAX_S))
			return fail(err,
				"duration must be a number of seconds, more than 0 and "
				"at most %d",
				CTL_CAP_DURATION_MAX_S);
		req->duration_ms = (uint64_t)(s * 1000 + 0.5);
		if (req->duration_ms == 0)
			req->duration_ms = 1;
	}
	return 0;
}

/* --- the registry --- */

static void
entry_free(struct cap_entry *e)
{
	if (e == NULL)
		return;
	cap_session_destroy(e->s);
	free(e->filter);
	free(e->file);
	free(e);
}

struct ctl_capture *
ctl_capture_new(struct ctl_rt *rt, struct ctl_server *srv)
{
	struct ctl_capture *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->rt = rt;
	c->srv = srv;
	c->next_id = 1;
	c->next_seq = 1;
	return c;
}

/* The chain of e's port, or NULL when no such port exists (any more). */
static struct cap_session **
chain_of(struct ctl_rt *rt, const struct cap_entry *e)
{
	struct ctl_rt_uplink *u;
	struct ctl_rt_port *p;

	if (e->uplink) {
		u = ctl_rt_uplink(rt, e->port);
		return u != NULL ? &u->cap : NULL;
	}
	p = ctl_rt_port(rt, e->port);
	return p != NULL ? &p->cap : NULL;
}

/* The newest linked capture of e's port (its chain's head, as we linked it). */
static struct cap_entry *
newest_linked(struct ctl_capture *c, const struct cap_entry *e)
{
	struct cap_entry *best = NULL;

	for (unsigned i = 0; i < CTL_CAP_MAX; i++) {
		struct cap_entry *o = c->run[i];

		if (o != NULL && o->link_seq != 0 && o->uplink == e->uplink &&
			strcmp(o->port, e->port) == 0 &&
			(best == NULL || o->link_seq > best->link_seq))
			best = o;
	}
	return best;
}

/*
 * A capture whose port was removed or re-created is no longer reachable
 * (the apply that did it published and waited): forget its link, end it.
 */
static void
sync_ports(struct ctl_capture *c)
{
	uint64_t now = rte_rdtsc();

	for (unsigned i = 0; i < CTL_CAP_MAX; i++) {
		struct cap_entry *e = c->run[i], *head;
		struct cap_session **chain;

		if (e == NULL || e->link_seq == 0 || e->unpublished)
			continue;
		chain = chain_of(c->rt, e);
		head = newest_linked(c, e);
		if (chain != NULL && *chain == head->s)
			continue;
		/* Every linked capture of this port is gone with it. */
		for (unsigned j = 0; j < CTL_CAP_MAX; j++) {
			struct cap_entry *o = c->run[j];

			if (o == NULL || o->link_seq == 0 || o->unpublished ||
				o->uplink != e->uplink || strcmp(o->port, e->port) != 0)
				continue;
			o->link_seq = 0;
			cap_session_stop(o->s, CAP_END_PORT_REMOVED, now);
			RTE_LOG(INFO, USER1, "capture %u: port %s removed\n", o->id, o->port);
		}
	}
}

/* Move a torn-down entry to the history (dropping the oldest record when full). */
static void
to_history(struct ctl_capture *c, unsigned slot)
{
	struct cap_entry *e = c->run[slot];

	c->run[slot] = NULL;
	if (c->n_hist == CTL_CAP_HISTORY) {
		entry_free(c->hist[0]);
		memmove(c->hist, c->hist + 1, (CTL_CAP_HISTORY - 1) * sizeof(c->hist[0]));
		c->n_hist--;
	}
	c->hist[c->n_hist++] = e;
}

/*
 * Tear down the captures that are complete (or cut): unlink them, publish
 * once, destroy them. A failed publish leaves them unlinked but alive, to
 * try again at the next poll (they are inactive: workers only skip them).
 */
static void
reap(struct ctl_capture *c)
{
	bool publish = false, any = false;
	char err[CTL_ERR_MAX];
	unsigned i;

	for (i = 0; i < CTL_CAP_MAX; i++) {
		struct cap_entry *e = c->run[i];
		struct cap_session **chain;

		if (e == NULL || e->state != ENTRY_DONE)
			continue;
		any = true;
		if (e->unpublished) {
			publish = true;
			continue;
		}
		if (e->link_seq == 0)
			continue;
		chain = chain_of(c->rt, e);
		if (chain == NULL) {
			e->link_seq = 0; /* gone with its port (sync_ports() ran: cannot happen) */
			continue;
		}
		/* sync_ports() ran: the chain is as we linked it. */
		*chain = cap_chain_del(*chain, e->s);
		e->link_seq = 0;
		e->unpublished = true;
		publish = true;
	}
	if (!any)
		return;
	if (publish) {
		if (ctl_rt_republish(c->rt, err) != 0) {
			if (!c->republish_failed)
				RTE_LOG(ERR, USER1,
					"capture: cannot unpublish ended captures: %s\n", err);
			c->republish_failed = true;
			return;
		}
		c->republish_failed = false;
	}
	/* Published and the grace period passed: no worker reaches them. */
	for (i = 0; i < CTL_CAP_MAX; i++) {
		struct cap_entry *e = c->run[i];

		if (e == NULL || e->state != ENTRY_DONE)
			continue;
		cap_session_stats(e->s, &e->st);
		cap_session_destroy(e->s);
		e->s = NULL;
		e->unpublished = false;
		to_history(c, i);
	}
}

/* One poll of e's session at now; marks it done when complete (or cut). */
static void
entry_poll(struct ctl_capture *c, struct cap_entry *e, uint64_t now, uint64_t now_ms)
{
	int r;

	if (e->state == ENTRY_DONE)
		return;
	if (e->state == ENTRY_RUNNING) {
		if (now_ms >= e->deadline_ms)
			cap_session_stop(e->s, CAP_END_DURATION, now);
		else if (e->owner != 0 && !ctl_server_client_alive(c->srv, e->owner))
			cap_session_stop(e->s, CAP_END_STOPPED, now);
	}
	r = cap_session_poll(e->s, now);
	cap_session_stats(e->s, &e->st);
	if (e->st.end != CAP_END_NONE && e->state == ENTRY_RUNNING) {
		e->state = ENTRY_ENDING;
		e->ended_ms = now_ms;
	}
	if (r < 0)
		e->error = r;
	if (r != 0) {
		e->state = ENTRY_DONE;
	} else if (e->state == ENTRY_ENDING && now_ms - e->ended_ms >= CTL_CAP_LINGER_MS) {
		e->cut = true;
		e->state = ENTRY_DONE;
		RTE_LOG(WARNING, USER1,
			"capture %u: its output did not take the rest within %u ms: cut\n", e->id,
			CTL_CAP_LINGER_MS);
	}
	if (e->state == ENTRY_DONE)
		RTE_LOG(INFO, USER1,
			"capture %u on %s ended (%s%s%s): %" PRIu64 " written, %" PRIu64
			" dropped\n",
			e->id, e->port, cap_end_name(e->st.end), e->error != 0 ? ": " : "",
			e->error != 0 ? strerror(-e->error) : "", e->st.written,
			e->st.drop_ring + e->st.drop_nombuf);
}

int
ctl_capture_poll(struct ctl_capture *c)
{
	uint64_t now = rte_rdtsc(), now_ms = ctl_now_ms();
	bool any = false;

	sync_ports(c);
	for (unsigned i = 0; i < CTL_CAP_MAX; i++)
		if (c->run[i] != NULL) {
			entry_poll(c, c->run[i], now, now_ms);
			any = true;
		}
	if (any)
		reap(c);
	for (unsigned i = 0; i < CTL_CAP_MAX; i++)
		if (c->run[i] != NULL)
			return CTL_CAP_POLL_MS;
	return -1;
}

/* Poll e until its output is complete, for at most wait_ms (capture.stop, shutdown). */
static void
entry_finish(struct ctl_capture *c, struct cap_entry *e, unsigned wait_ms)
{
	uint64_t until = ctl_now_ms() + wait_ms;

	for (;;) {
		entry_poll(c, e, rte_rdtsc(), ctl_now_ms());
		if (e->state == ENTRY_DONE || ctl_now_ms() >= until)
			return;
		if (cap_session_wants_write(e->s)) {
			struct pollfd pfd = {.fd = cap_session_fd(e->s), .events = POLLOUT};

			if (poll(&pfd, 1, 5) < 0 && errno != EINTR)
				return;
		}
	}
}

void
ctl_capture_free(struct ctl_capture *c)
{
	uint64_t now = rte_rdtsc();
	unsigned i;

	if (c == NULL)
		return;
	sync_ports(c);
	for (i = 0; i < CTL_CAP_MAX; i++)
		if (c->run[i] != NULL && c->run[i]->state != ENTRY_DONE)
			cap_session_stop(c->run[i]->s, CAP_END_STOPPED, now);
	for (i = 0; i < CTL_CAP_MAX; i++)
		if (c->run[i] != NULL)
			entry_finish(c, c->run[i], 200);
	for (i = 0; i < CTL_CAP_MAX; i++)
		if (c->run[i] != NULL && c->run[i]->state != ENTRY_DONE) {
			c->run[i]->cut = true;
			c->run[i]->state = ENTRY_DONE;
		}
	reap(c);
	for (i = 0; i < CTL_CAP_MAX; i++) {
		/* A publish that failed: the sessions may still be reachable; leak them. */
		if (c->run[i] != NULL) {
			c->run[i]->s = NULL;
			entry_free(c->run[i]);
		}
	}
	for (i = 0; i < c->n_hist; i++)
		entry_free(c->hist[i]);
	free(c);
}

/* --- methods --- */

static json_t *
entry_json(const struct cap_entry *e)
{
	char started[32];
	struct tm tm;
	json_t *o;

	localtime_r(&e->started, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%S%z", &tm);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:I, s:I, s:I, s:{s:I, s:I}, "
		      "s:I, s:I, s:s, s:I, s:f}",
		"id", (int)e->id, "port", e->port, "kind", e->uplink ? "uplink" : "vm", "direction",
		cap_dir_name(e->dir), "filter", e->filter, "file", e->file, "state",
		state_names[e->state], "end",
		e->st.end != CAP_END_NONE ? cap_end_name(e->st.end) : NULL, "seen",
		(json_int_t)e->st.seen, "matched", (json_int_t)e->st.matched, "copied",
		(json_int_t)e->st.copied, "drops", "ring", (json_int_t)e->st.drop_ring, "nombuf",
		(json_int_t)e->st.drop_nombuf, "written", (json_int_t)e->st.written, "bytes",
		(json_int_t)e->st.bytes, "started", started, "count", (json_int_t)e->count,
		"duration", (double)e->duration_ms / 1000);
	if (o == NULL)
		return NULL;
	json_object_set_new(
		o, "error", e->error != 0 ? json_string(strerror(-e->error)) : json_null());
	if (e->cut)
		json_object_set_new(o, "cut", json_true());
	return o;
}

static struct cap_entry *
find_entry(struct ctl_capture *c, unsigned id)
{
	for (unsigned i = 0; i < CTL_CAP_MAX; i++)
		if (c->run[i] != NULL && c->run[i]->id == id)
			return c->run[i];
	for (unsigned i = 0; i < c->n_hist; i++)
		if (c->hist[i]->id == id)
			return c->hist[i];
	return NULL;
}

/*
 * Open the file porticod writes: created 0640 (owned by the client when it
 * is not root), truncated, never through a symlink. *created: it did not
 * exist (remove it again if the capture cannot start).
 */
static int
open_file(struct ctl_capture *c, const char *path, bool *created, char *err)
{
	struct stat st;
	uid_t uid;
	gid_t gid;
	int fd;

	*created = lstat(path, &st) != 0 && errno == ENOENT;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0640);
	if (fd < 0) {
		snprintf(err, CTL_ERR_MAX, "file %.200s: %s", path, strerror(errno));
		return -1;
	}
	if (*created && ctl_server_client_cred(c->srv, &uid, &gid) == 0 && uid != 0 &&
		fchown(fd, uid, gid) != 0)
		RTE_LOG(WARNING, USER1, "capture: %s: cannot give it to uid %u: %s\n", path,
			(unsigned)uid, strerror(errno));
	return fd;
}

static json_t *
m_capture_start(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	struct ctl_capture *c = d->cap;
	char err[CTL_ERR_MAX], descr[CTL_NAME_MAX * 2 + 320];
	struct ctl_cap_req req;
	struct cap_params p = {0};
	struct ctl_rt_port *rp = NULL;
	struct ctl_rt_uplink *ru = NULL;
	struct cap_session *s, **chain;
	struct cap_filter *f;
	struct cap_entry *en = NULL;
	bool created = false;
	unsigned slot;
	int fd, flags;

	if (ctl_capture_parse(params, &req, err) != 0)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "%s", err);
	sync_ports(c);
	rp = ctl_rt_port(d->rt, req.port);
	if (rp == NULL)
		ru = ctl_rt_uplink(d->rt, req.port);
	if (rp == NULL && ru == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no port or uplink \"%s\"", req.port);
	for (slot = 0; slot < CTL_CAP_MAX && c->run[slot] != NULL; slot++)
		;
	if (slot == CTL_CAP_MAX)
		return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
			"too many captures (%d at once): stop one first", CTL_CAP_MAX);
	/* The filter first, so a bad one creates no file. */
	f = cap_filter_new(
		req.filter, req.snaplen != 0 ? req.snaplen : CAP_SNAPLEN_DEFAULT, err, sizeof(err));
	if (f == NULL)
		return ctl_rpc_fail(
			e, errno == EINVAL ? CTL_RPC_INVALID_PARAMS : CTL_RPC_FAILED, "%s", err);
	cap_filter_free(f);

	if (req.stream) {
		fd = ctl_server_take_fd(c->srv);
		if (fd < 0)
			return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
				"stream: no file descriptor was passed with the request "
				"(SCM_RIGHTS; `portico capture start PORT -w -` passes its "
				"stdout)");
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY ||
			fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
			close(fd);
			return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
				"stream: the descriptor passed is not open for writing");
		}
	} else {
		fd = open_file(c, req.file, &created, err);
		if (fd < 0)
			return ctl_rpc_fail(e, CTL_RPC_FAILED, "%s", err);
	}

	if (rp != NULL) {
		snprintf(descr, sizeof(descr), "VM port, vSwitch %s, port group %s",
			rp->cfg.vswitch, rp->cfg.portgroup);
		p.port = rp->index;
		chain = &rp->cap;
	} else {
		snprintf(descr, sizeof(descr), "uplink, vSwitch %s, %s", ru->vswitch,
			ru->cfg.devargs);
		p.port = ru->index;
		chain = &ru->cap;
	}
	p.port_name = req.port;
	p.port_descr = descr;
	p.dir = req.dir;
	p.filter = req.filter;
	p.snaplen = req.snaplen;
	p.count = req.count;
	p.duration_ms = req.duration_ms;
	p.n_lanes = dp_n_workers();
	p.ring_size = req.ring_size;
	p.fd = fd; /* the session's from here on, also when it fails */
	p.socket = SOCKET_ID_ANY;

	en = calloc(1, sizeof(*en));
	if (en != NULL) {
		en->filter = strdup(req.filter);
		en->file = strdup(req.stream ? "-" : req.file);
	}
	if (en == NULL || en->filter == NULL || en->file == NULL) {
		close(fd);
		ctl_rpc_fail(e, CTL_RPC_INTERNAL, "out of memory");
		goto fail;
	}
	s = cap_session_new(&p, rte_rdtsc(), err, sizeof(err));
	if (s == NULL) {
		ctl_rpc_fail(
			e, errno == EINVAL ? CTL_RPC_INVALID_PARAMS : CTL_RPC_FAILED, "%s", err);
		goto fail;
	}
	*chain = cap_chain_add(*chain, s);
	if (ctl_rt_republish(d->rt, err) != 0) {
		*chain = cap_chain_del(*chain, s); /* never published */
		cap_session_destroy(s);
		ctl_rpc_fail(e, CTL_RPC_FAILED, "%s", err);
		goto fail;
	}
	en->s = s;
	en->id = c->next_id++;
	snprintf(en->port, sizeof(en->port), "%s", req.port);
	en->uplink = ru != NULL;
	en->dir = req.dir;
	en->count = req.count;
	en->duration_ms = req.duration_ms;
	en->snaplen = cap_session_params(s)->snaplen;
	en->owner = req.stream ? ctl_server_client(c->srv) : 0;
	en->started = time(NULL);
	en->start_ms = ctl_now_ms();
	en->deadline_ms = req.duration_ms != 0 ? en->start_ms + req.duration_ms : UINT64_MAX;
	en->state = ENTRY_RUNNING;
	en->link_seq = c->next_seq++;
	c->run[slot] = en;
	RTE_LOG(INFO, USER1, "capture %u on %s (%s%s%s) to %s\n", en->id, en->port,
		cap_dir_name(en->dir), en->filter[0] != '\0' ? ", filter " : "", en->filter,
		req.stream ? "a stream" : en->file);
	return entry_json(en);
fail:
	if (created)
		unlink(req.file);
	entry_free(en);
	return NULL;
}

/* The "id" parameter (a positive integer), or 0 with e set. */
static unsigned
param_id(json_t *params, bool required, struct ctl_rpc_error *e)
{
	json_t *v = json_object_get(params, "id");
	const char *key;
	json_t *x;

	json_object_foreach (params, key, x)
		if (strcmp(key, "id") != 0) {
			ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "unknown parameter \"%.64s\"", key);
			return 0;
		}
	if (v == NULL && !required)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > UINT_MAX) {
		ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS,
			"id must be a capture's id (a positive integer, see capture.list)");
		return 0;
	}
	return (unsigned)json_integer_value(v);
}

static json_t *
m_capture_stop(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	struct ctl_capture *c = d->cap;
	struct cap_entry *en;
	unsigned id = param_id(params, true, e);

	if (id == 0)
		return NULL;
	sync_ports(c);
	en = find_entry(c, id);
	if (en == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no capture %u", id);
	if (en->state == ENTRY_RUNNING)
		cap_session_stop(en->s, CAP_END_STOPPED, rte_rdtsc());
	if (en->state != ENTRY_DONE)
		entry_finish(c, en, CTL_CAP_STOP_WAIT_MS);
	reap(c); /* en stays valid: it moves to the history, or stays */
	return entry_json(en);
}

static json_t *
m_capture_list(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	struct ctl_daemon *d = ctx;
	struct ctl_capture *c = d->cap;
	struct cap_entry *all[CTL_CAP_MAX + CTL_CAP_HISTORY];
	unsigned n = 0, id = param_id(params, false, e);
	json_t *list;

	if (e->code != 0)
		return NULL;
	sync_ports(c);
	for (unsigned i = 0; i < c->n_hist; i++)
		all[n++] = c->hist[i];
	for (unsigned i = 0; i < CTL_CAP_MAX; i++)
		if (c->run[i] != NULL) {
			cap_session_stats(c->run[i]->s, &c->run[i]->st);
			all[n++] = c->run[i];
		}
	/* By id (the history is in id order of ending, not of starting). */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && all[j - 1]->id > all[j]->id; j--)
			RTE_SWAP(all[j - 1], all[j]);
	if (id != 0 && find_entry(c, id) == NULL)
		return ctl_rpc_fail(e, CTL_RPC_NOT_FOUND, "no capture %u", id);
	list = json_array();
	for (unsigned i = 0; list != NULL && i < n; i++)
		if (id == 0 || all[i]->id == id)
			json_array_append_new(list, entry_json(all[i]));
	return list;
}

const struct ctl_method ctl_capture_methods[] = {
	{"capture.start", m_capture_start},
	{"capture.stop", m_capture_stop},
	{"capture.list", m_capture_list},
	{NULL, NULL},
};
