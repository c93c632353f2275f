/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for vmm/qmp: the QMP client against a fake QEMU, a thread that
 * plays a script on a unix socket in a temporary directory (send a line,
 * expect a command and answer with its id, close, pause). Covers the
 * negotiation, events, replies matched by id, messages kept while a blocking
 * call waits, errors, lines split across writes, and a QEMU that goes away.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/qmp.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}}}"

/* One step of the fake QEMU's script. */
enum step_kind {
	SEND, /* send text as is (add "\n" yourself) */
	EXPECT, /* read a line; it must contain text; remember its "id" */
	REPLY, /* send text with every "@ID@" replaced by the remembered id */
	PAUSE, /* sleep text's number of milliseconds */
	CLOSE, /* close the connection; ends the script */
};

struct step {
	enum step_kind kind; /* what to do */
	const char *text; /* its argument */
};

/* The fake QEMU. */
struct fake {
	char dir[64]; /* temporary directory */
	char path[108]; /* its socket */
	int lfd; /* listening socket */
	const struct step *script; /* steps, ended by CLOSE */
	pthread_t thread; /* runs the script */
	char failure[256]; /* first mismatch, "" if none */
};

static void
msleep(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Read one line (without '\n') from fd into buf; false on EOF. */
static bool
read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		if (read(fd, &c, 1) != 1)
			return false;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return true;
}

static void
write_all(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, s + off, len - off);
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static void *
fake_run(void *arg)
{
	struct fake *f = arg;
	char line[4096], out[4096], id[32] = "0";
	const struct step *s;
	const char *p;
	int fd;

	fd = accept(f->lfd, NULL, NULL);
	if (fd < 0) {
		snprintf(f->failure, sizeof(f->failure), "accept: %s", strerror(errno));
		return NULL;
	}
	for (s = f->script; s->kind != CLOSE; s++) {
		switch (s->kind) {
		case SEND:
			write_all(fd, s->text);
			break;
		case EXPECT:
			if (!read_line(fd, line, sizeof(line))) {
				snprintf(f->failure, sizeof(f->failure), "EOF, expected %s",
					s->text);
				goto out;
			}
			if (strstr(line, s->text) == NULL) {
				snprintf(f->failure, sizeof(f->failure),
					"got %.120s, expected %.100s", line, s->text);
				goto out;
			}
			p = strstr(line, "\"id\":");
			if (p != NULL)
				snprintf(id, sizeof(id), "%ld", strtol(p + 5, NULL, 10));
			break;
		case REPLY: {
			size_t o = 0;

			for (p = s->text; *p != '\0' && o + 32 < sizeof(out);) {
				if (strncmp(p, "@ID@", 4) == 0) {
					o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", id);
					p += 4;
				} else {
					out[o++] = *p++;
				}
			}
			out[o] = '\0';
			write_all(fd, out);
			break;
		}
		case PAUSE:
			msleep(atol(s->text));
			break;
		case CLOSE:
			break;
		}
	}
out:
	close(fd);
	return NULL;
}

static void
fake_start(struct fake *f, const struct step *script)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/portico-qmp.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/qmp.sock", f->dir);
	strcpy(addr.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	f->script = script;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void
fake_finish(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	if (f->failure[0] != '\0')
		fail_msg("fake QEMU: %s", f->failure);
}

/* Poll q until a message comes (bounded): returns vmm_qmp_next()'s result. */
static int
next_wait(struct vmm_qmp *q, struct vmm_qmp_msg *msg)
{
	int rc;

	for (int i = 0; i < 500; i++) {
		rc = vmm_qmp_next(q, msg);
		if (rc != 0)
			return rc;
		msleep(10);
	}
	return 0;
}

#define NEGOTIATE                                                \
	{SEND, GREETING "\n"}, {EXPECT, "\"qmp_capabilities\""}, \
	{                                                        \
		REPLY, "{\"return\": {}, \"id\": @ID@}\n"        \
	}

static void
test_open_missing(void **state)
{
	struct vmm_qmp *q;

	q = vmm_qmp_open("/nonexistent/portico/qmp.sock");
	assert_null(q);
	assert_int_equal(errno, ENOENT);
	q = vmm_qmp_open(
		"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/qmp.sock");
	assert_null(q);
	assert_int_equal(errno, ENAMETOOLONG);
	vmm_qmp_close(NULL);
}

/* The agent's way: negotiation, an event, a command and its reply, close. */
static void
test_nonblocking_flow(void **state)
{
	static const struct step script[] = {
		NEGOTIATE,
		{SEND,
			"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": "
			"\"NIC_RX_FILTER_CHANGED\", \"data\": {\"name\": \"nic0\", \"path\": "
			"\"/machine/peripheral/nic0/virtio-backend\"}}\n"},
		{EXPECT,
			"\"execute\":\"query-rx-filter\",\"id\":2,\"arguments\":{\"name\":"
			"\"nic0\"}"},
		{REPLY,
			"{\"return\": [{\"name\": \"nic0\", \"promiscuous\": false, "
			"\"main-mac\": \"02:00:00:00:00:09\"}], \"id\": @ID@}\n"},
		{SEND, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}}\n"},
		{CLOSE, NULL},
	};
	struct vmm_qmp_msg msg;
	struct fake f;
	struct vmm_qmp *q;
	json_int_t id;
	json_t *args, *e;

	fake_start(&f, script);
	q = vmm_qmp_open(f.path);
	assert_non_null(q);
	assert_true(vmm_qmp_fd(q) >= 0);
	assert_int_equal(vmm_qmp_state(q), VMM_QMP_GREETING);
	assert_int_equal(vmm_qmp_send(q, "query-status", NULL, NULL), -ENOTCONN);

	assert_int_equal(next_wait(q, &msg), 1);
	assert_int_equal(msg.kind, VMM_QMP_MSG_READY);
	assert_null(msg.data);
	assert_int_equal(vmm_qmp_state(q), VMM_QMP_READY);

	assert_int_equal(next_wait(q, &msg), 1);
	assert_int_equal(msg.kind, VMM_QMP_MSG_EVENT);
	assert_string_equal(msg.event, "NIC_RX_FILTER_CHANGED");
	assert_string_equal(json_string_value(json_object_get(msg.data, "name")), "nic0");
	json_decref(msg.data);

	args = json_pack("{s:s}", "name", "nic0");
	assert_int_equal(vmm_qmp_send(q, "query-rx-filter", args, &id), 0);
	json_decref(args);
	assert_true(id > 0);
	assert_int_equal(next_wait(q, &msg), 1);
	assert_int_equal(msg.kind, VMM_QMP_MSG_RETURN);
	assert_int_equal(msg.id, id);
	e = json_array_get(msg.data, 0);
	assert_string_equal(json_string_value(json_object_get(e, "main-mac")), "02:00:00:00:00:09");
	assert_true(json_is_false(json_object_get(e, "promiscuous")));
	json_decref(msg.data);

	assert_int_equal(next_wait(q, &msg), 1);
	assert_int_equal(msg.kind, VMM_QMP_MSG_EVENT);
	assert_string_equal(msg.event, "SHUTDOWN");
	assert_true(json_is_true(json_object_get(msg.data, "guest")));
	json_decref(msg.data);

	assert_int_equal(next_wait(q, &msg), -ECONNRESET);
	assert_int_equal(vmm_qmp_state(q), VMM_QMP_CLOSED);
	assert_true(strlen(vmm_qmp_error(q)) > 0);
	/* Closed stays closed. */
	assert_int_equal(vmm_qmp_next(q, &msg), -ECONNRESET);
	assert_int_equal(vmm_qmp_send(q, "quit", NULL, NULL), -ECONNRESET);
	vmm_qmp_close(q);
	fake_finish(&f);
}

/* Blocking calls keep what arrives meanwhile, in order, for vmm_qmp_next(). */
static void
test_blocking_call_keeps_events(void **state)
{
	static const struct step script[] = {
		{SEND, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n"},
		{EXPECT, "qmp_capabilities"},
		{REPLY, "{\"return\": {}, \"id\": @ID@}\n"},
		{EXPECT, "\"query-status\""},
		{SEND, "{\"event\": \"STOP\"}\n"},
		{SEND, "{\"event\": \"RESUME\", \"data\": {}}\n"},
		{PAUSE, "50"},
		{REPLY,
			"{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": "
			"@ID@}\n"},
		{EXPECT, "\"no-such-command\""},
		{REPLY,
			"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
			"no-such-command has not been found\"}, \"id\": @ID@}\n"},
		{EXPECT, "\"query-name\""},
		{CLOSE, NULL},
	};
	struct vmm_qmp_msg msg;
	struct fake f;
	struct vmm_qmp *q;
	json_t *ret;

	fake_start(&f, script);
	q = vmm_qmp_open(f.path);
	assert_non_null(q);
	assert_int_equal(vmm_qmp_wait_ready(q, 5000), 0);
	assert_int_equal(vmm_qmp_call(q, "query-status", NULL, &ret, 5000), 0);
	assert_string_equal(json_string_value(json_object_get(ret, "status")), "running");
	json_decref(ret);

	assert_int_equal(vmm_qmp_call(q, "no-such-command", NULL, &ret, 5000), -EREMOTEIO);
	assert_null(ret);
	assert_non_null(strstr(vmm_qmp_error(q), "has not been found"));

	/* The events that came before the reply, in order, event without data as {}. */
	assert_int_equal(vmm_qmp_next(q, &msg), 1);
	assert_int_equal(msg.kind, VMM_QMP_MSG_EVENT);
	assert_string_equal(msg.event, "STOP");
	assert_true(json_is_object(msg.data));
	json_decref(msg.data);
	assert_int_equal(vmm_qmp_next(q, &msg), 1);
	assert_string_equal(msg.event, "RESUME");
	json_decref(msg.data);

	/* QEMU goes away while a call waits. */
	assert_int_equal(vmm_qmp_call(q, "query-name", NULL, NULL, 5000), -ECONNRESET);
	vmm_qmp_close(q);
	fake_finish(&f);
}

/* Lines split across writes, several messages in one write, CRLF. */
static void
test_split_and_coalesced_lines(void **state)
{
	static const struct step script[] = {
		{SEND, "{\"QMP\": {\"vers"},
		{PAUSE, "30"},
		{SEND, "ion\": {}}}\r\n"},
		{EXPECT, "qmp_capabilities"},
		{REPLY,
			"{\"return\": {}, \"id\": @ID@}\n{\"event\": \"A\"}\n{\"event\": "
			"\"B\"}\n{\"ev"},
		{PAUSE, "30"},
		{SEND, "ent\": \"C\"}\n"},
		{CLOSE, NULL},
	};
	struct vmm_qmp_msg msg;
	const char *want[] = {"A", "B", "C"};
	struct fake f;
	struct vmm_qmp *q;

	fake_start(&f, script);
	q = vmm_qmp_open(f.path);
	assert_non_null(q);
	assert_int_equal(next_wait(q, &msg), 1);
	assert_int_equal(msg.kind, VMM_QMP_MSG_READY);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(next_wait(q, &msg), 1);
		assert_int_equal(msg.kind, VMM_QMP_MSG_EVENT);
		assert_string_equal(msg.event, want[i]);
		json_decref(msg.data);
	}
	assert_int_equal(next_wait(q, &msg), -ECONNRESET);
	vmm_qmp_close(q);
	fake_finish(&f);
}

/* Something that is not QMP is a protocol error. */
static void
test_not_qmp(void **state)
{
	static const struct step script[] = {
		{SEND, "SSH-2.0-OpenSSH_9.2\n"},
		{PAUSE, "200"},
		{CLOSE, NULL},
	};
	static const struct step script2[] = {
		{SEND, "{\"hello\": 1}\n"},
		{PAUSE, "200"},
		{CLOSE, NULL},
	};
	static const struct step script3[] = {
		{SEND, GREETING "\n"},
		{EXPECT, "qmp_capabilities"},
		{REPLY,
			"{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": "
			"@ID@}\n"},
		{PAUSE, "200"},
		{CLOSE, NULL},
	};
	const struct step *scripts[] = {script, script2, script3};
	struct vmm_qmp_msg msg;
	struct fake f;
	struct vmm_qmp *q;

	for (int i = 0; i < 3; i++) {
		fake_start(&f, scripts[i]);
		q = vmm_qmp_open(f.path);
		assert_non_null(q);
		assert_int_equal(next_wait(q, &msg), -EPROTO);
		assert_int_equal(vmm_qmp_state(q), VMM_QMP_CLOSED);
		assert_int_equal(vmm_qmp_wait_ready(q, 100), -EPROTO);
		vmm_qmp_close(q);
		fake_finish(&f);
	}
}

/* A QEMU that does not answer yet (vhost-user backends missing): timeouts. */
static void
test_silent_qemu(void **state)
{
	static const struct step script[] = {
		{PAUSE, "400"},
		{CLOSE, NULL},
	};
	struct vmm_qmp_msg msg;
	struct fake f;
	struct vmm_qmp *q;

	fake_start(&f, script);
	q = vmm_qmp_open(f.path);
	assert_non_null(q);
	assert_int_equal(vmm_qmp_next(q, &msg), 0);
	assert_int_equal(vmm_qmp_wait_ready(q, 100), -ETIMEDOUT);
	assert_int_equal(vmm_qmp_state(q), VMM_QMP_GREETING);
	assert_int_equal(vmm_qmp_call(q, "query-status", NULL, NULL, 100), -ENOTCONN);
	assert_int_equal(vmm_qmp_wait_ready(q, 2000), -ECONNRESET);
	vmm_qmp_close(q);
	fake_finish(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_nonblocking_flow),
		cmocka_unit_test(test_blocking_call_keeps_events),
		cmocka_unit_test(test_split_and_coalesced_lines),
		cmocka_unit_test(test_not_qmp),
		cmocka_unit_test(test_silent_qemu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
