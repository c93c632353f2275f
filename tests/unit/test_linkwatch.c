/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of control/linkwatch.c against the real kernel. Needs root: the
 * process moves itself into a new, empty network namespace (unshare), so
 * the veth pairs it makes with ip(8) are private to it and vanish with it,
 * whatever happens. Skipped when that is not possible. Checks that carrier
 * changes of a veth (its peer set down/up, itself set down, created,
 * deleted, renamed away) are reported once each within 100 ms.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "control/linkwatch.h"

#define BOUND_MS 100 /* the bar: an event within 100 ms of the change */
#define MAX_EVENTS 1024

/* What the callback saw. */
struct seen {
	char name[16]; /* interface */
	bool up; /* carrier */
	uint64_t at_us; /* CLOCK_MONOTONIC */
};

static bool ready; /* root, in a private network namespace */
static struct seen events[MAX_EVENTS];
static unsigned n_events;
static uint64_t worst_us; /* slowest event seen */

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
on_change(void *arg, const char *ifname, bool up)
{
	assert_ptr_equal(arg, &events);
	assert_true(n_events < MAX_EVENTS);
	snprintf(events[n_events].name, sizeof(events[n_events].name), "%s", ifname);
	events[n_events].up = up;
	events[n_events].at_us = now_us();
	n_events++;
}

/* Run a shell command; fail the test if it fails. */
static void
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("'%s' failed (%d)", cmd, rc);
}

/*
 * Poll the watcher until an event (name, up) arrives after index from, at
 * most BOUND_MS after t0 (plus slack for the check itself). Returns its index.
 */
static unsigned
expect(struct ctl_lw *lw, unsigned from, const char *name, bool up, uint64_t t0)
{
	uint64_t deadline = t0 + 2 * BOUND_MS * 1000; /* wait longer, judge at BOUND_MS */

	for (;;) {
		struct pollfd pfd = {.fd = ctl_lw_fd(lw), .events = POLLIN};
		uint64_t t = now_us();
		int rc;

		for (unsigned i = from; i < n_events; i++) {
			if (strcmp(events[i].name, name) != 0 || events[i].up != up)
				continue;
			if (events[i].at_us - t0 > worst_us)
				worst_us = events[i].at_us - t0;
			if (events[i].at_us - t0 > BOUND_MS * 1000)
				fail_msg("%s %s after %lu us", name, up ? "up" : "down",
					(unsigned long)(events[i].at_us - t0));
			return i;
		}
		if (t >= deadline)
			fail_msg("no %s %s event within %d ms", name, up ? "up" : "down",
				2 * BOUND_MS);
		rc = poll(&pfd, 1, (int)((deadline - t) / 1000) + 1);
		assert_true(rc >= 0);
		assert_true(ctl_lw_process(lw) >= 0);
	}
}

/* Nothing more for name within ms. */
static void
expect_quiet(struct ctl_lw *lw, const char *name, int ms)
{
	unsigned from = n_events;
	uint64_t end = now_us() + (uint64_t)ms * 1000;

	while (now_us() < end) {
		struct pollfd pfd = {.fd = ctl_lw_fd(lw), .events = POLLIN};

		poll(&pfd, 1, 10);
		assert_true(ctl_lw_process(lw) >= 0);
	}
	for (unsigned i = from; i < n_events; i++)
		if (strcmp(events[i].name, name) == 0)
			fail_msg("unexpected %s %s", name, events[i].up ? "up" : "down");
}

static int
group_setup(void **st)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0 ||
		system("ip link set lo up >/dev/null 2>&1") != 0) {
		ready = false;
		return 0;
	}
	ready = true;
	return 0;
}

static int
group_teardown(void **st)
{
	if (ready)
		print_message("slowest event: %lu us after the command started\n",
			(unsigned long)worst_us);
	return 0; /* the namespace and its links die with the process */
}

static struct ctl_lw *
watcher(void)
{
	struct ctl_lw *lw;

	if (!ready)
		skip();
	lw = ctl_lw_new(on_change, &events);
	assert_non_null(lw);
	return lw;
}

static void
test_api(void **st)
{
	struct ctl_lw *lw = watcher();

	assert_true(ctl_lw_fd(lw) >= 0);
	assert_int_equal(ctl_lw_watch(lw, "lo"), 0);
	assert_int_equal(ctl_lw_carrier(lw, "lo"), 1);
	assert_int_equal(ctl_lw_watch(lw, "lo"), -EEXIST);
	assert_int_equal(ctl_lw_watch(lw, ""), -EINVAL);
	assert_int_equal(ctl_lw_watch(lw, NULL), -EINVAL);
	assert_int_equal(ctl_lw_watch(lw, "a-name-longer-than-15"), -EINVAL);
	assert_int_equal(ctl_lw_watch(lw, "nosuch0"), 0); /* absent: down */
	assert_int_equal(ctl_lw_carrier(lw, "nosuch0"), 0);
	assert_int_equal(ctl_lw_carrier(lw, "nosuch1"), -ENOENT);
	assert_int_equal(ctl_lw_unwatch(lw, "nosuch1"), -ENOENT);
	assert_int_equal(ctl_lw_unwatch(lw, "lo"), 0);
	assert_int_equal(ctl_lw_carrier(lw, "lo"), -ENOENT);
	/* Many names: the table grows. */
	for (int i = 0; i < 40; i++) {
		char name[16];

		snprintf(name, sizeof(name), "many%d", i);
		assert_int_equal(ctl_lw_watch(lw, name), 0);
	}
	assert_int_equal(ctl_lw_carrier(lw, "many39"), 0);
	/* Nothing pending: returns at once with no change. */
	assert_int_equal(ctl_lw_process(lw), 0);
	ctl_lw_destroy(lw);
	ctl_lw_destroy(NULL);
}

static void
test_peer_carrier(void **st)
{
	struct ctl_lw *lw = watcher();
	unsigned i;
	uint64_t t0;

	sh("ip link add lwa type veth peer name lwb");
	assert_int_equal(ctl_lw_watch(lw, "lwa"), 0);
	assert_int_equal(ctl_lw_carrier(lw, "lwa"), 0);
	/* Up without a peer: still no carrier, nothing reported. */
	sh("ip link set lwa up");
	expect_quiet(lw, "lwa", 50);
	assert_int_equal(ctl_lw_carrier(lw, "lwa"), 0);
	t0 = now_us();
	sh("ip link set lwb up");
	i = expect(lw, n_events, "lwa", true, t0);
	assert_int_equal(ctl_lw_carrier(lw, "lwa"), 1);
	/* The physical side goes down and up (what it_uplink_link does), 5 times. */
	for (int k = 0; k < 5; k++) {
		t0 = now_us();
		sh("ip link set lwb down");
		i = expect(lw, i + 1, "lwa", false, t0);
		assert_int_equal(ctl_lw_carrier(lw, "lwa"), 0);
		t0 = now_us();
		sh("ip link set lwb up");
		i = expect(lw, i + 1, "lwa", true, t0);
		assert_int_equal(ctl_lw_carrier(lw, "lwa"), 1);
	}
	/* Once each: nothing more. */
	expect_quiet(lw, "lwa", 50);
	/* Our side set down administratively: down too. */
	t0 = now_us();
	sh("ip link set lwa down");
	i = expect(lw, i + 1, "lwa", false, t0);
	t0 = now_us();
	sh("ip link set lwa up");
	expect(lw, i + 1, "lwa", true, t0);
	sh("ip link del lwa");
	ctl_lw_destroy(lw);
}

static void
test_appear_disappear_rename(void **st)
{
	struct ctl_lw *lw = watcher();
	unsigned i;
	uint64_t t0;

	assert_int_equal(ctl_lw_watch(lw, "lwc"), 0);
	assert_int_equal(ctl_lw_carrier(lw, "lwc"), 0);
	t0 = now_us();
	sh("ip link add lwc type veth peer name lwd && ip link set lwd up && ip link set lwc up");
	i = expect(lw, n_events, "lwc", true, t0);
	/* Deleting the peer deletes the pair. */
	t0 = now_us();
	sh("ip link del lwd");
	i = expect(lw, i + 1, "lwc", false, t0);
	assert_int_equal(ctl_lw_carrier(lw, "lwc"), 0);

	/* Renamed away: the name watched is down, the new name's carrier is not its. */
	t0 = now_us();
	sh("ip link add lwc type veth peer name lwd && ip link set lwd up && ip link set lwc up");
	i = expect(lw, i + 1, "lwc", true, t0);
	sh("ip link set lwc down && ip link set lwc name lwx && ip link set lwx up");
	i = expect(lw, i + 1, "lwc", false, t0);
	expect_quiet(lw, "lwc", 50);
	assert_int_equal(ctl_lw_carrier(lw, "lwc"), 0);
	/* And back. */
	t0 = now_us();
	sh("ip link set lwx down && ip link set lwx name lwc && ip link set lwc up");
	expect(lw, i + 1, "lwc", true, t0);
	sh("ip link del lwc");
	ctl_lw_destroy(lw);
}

/*
 * A burst of changes read late, more than the socket buffer holds (the
 * kernel drops notifications, ENOBUFS): the state is re-read and ends
 * right, and the changes reported still alternate.
 */
static void
test_burst(void **st)
{
	struct ctl_lw *lw = watcher();
	char path[] = "/tmp/portico-lw-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	unsigned first;
	bool last;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (int k = 0; k < 3000; k++) /* overruns the socket buffer */
		fprintf(f, "link set lwf %s\n", k % 2 == 0 ? "down" : "up");
	fprintf(f, "link set lwf down\n");
	fclose(f);
	sh("ip link add lwe type veth peer name lwf && ip link set lwe up && ip link set lwf up");
	assert_int_equal(ctl_lw_watch(lw, "lwe"), 0);
	assert_int_equal(ctl_lw_carrier(lw, "lwe"), 1);
	first = n_events;
	sh("ip -batch %s", path);
	unlink(path);
	expect_quiet(lw, "nothing", 200); /* reads everything pending */
	assert_int_equal(ctl_lw_carrier(lw, "lwe"), 0);
	last = true;
	for (unsigned i = first; i < n_events; i++) {
		if (strcmp(events[i].name, "lwe") != 0)
			continue;
		assert_true(events[i].up != last);
		last = events[i].up;
	}
	assert_false(last);
	print_message("3000 flips: %u changes reported (socket overrun: state re-read)\n",
		n_events - first);
	sh("ip link del lwe");
	ctl_lw_destroy(lw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_peer_carrier),
		cmocka_unit_test(test_appear_disappear_rename),
		cmocka_unit_test(test_burst),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
