/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the control side's pure parts: capture.start's params
 * (control/capture.h: defaults, every range, exactly one output, the
 * messages) and the rates between two readings of a port's counters
 * (control/rates.h). No EAL: these functions need none.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "control/capture.h"
#include "control/rates.h"

/* Parse the JSON text; return the result, *req and err filled. */
static int
parse(const char *text, struct ctl_cap_req *req, char *err)
{
	json_error_t jerr;
	json_t *p = json_loads(text, 0, &jerr);
	int r;

	assert_non_null(p);
	err[0] = '\0';
	r = ctl_capture_parse(p, req, err);
	/* The borrowed strings live in p: copy what the tests look at. */
	json_decref(p);
	return r;
}

/* The params must be refused with a message containing want. */
static void
refused(const char *text, const char *want)
{
	struct ctl_cap_req req;
	char err[CTL_ERR_MAX];

	if (parse(text, &req, err) != -EINVAL || strstr(err, want) == NULL) {
		print_error("params %s: got '%s', want '%s'\n", text, err, want);
		fail();
	}
}

static void
test_parse_defaults(void **state)
{
	struct ctl_cap_req req;
	char err[CTL_ERR_MAX];
	json_t *p = json_pack("{s:s, s:s}", "port", "vm1.eth0", "file", "/tmp/x.pcapng");

	assert_int_equal(ctl_capture_parse(p, &req, err), 0);
	assert_string_equal(req.port, "vm1.eth0");
	assert_string_equal(req.file, "/tmp/x.pcapng");
	assert_int_equal(req.dir, CAP_DIR_BOTH);
	assert_string_equal(req.filter, "");
	assert_false(req.stream);
	assert_int_equal(req.count, 0);
	assert_int_equal(req.duration_ms, 0);
	assert_int_equal(req.snaplen, 0);
	assert_int_equal(req.ring_size, 0);
	json_decref(p);
}

static void
test_parse_all(void **state)
{
	struct ctl_cap_req req;
	char err[CTL_ERR_MAX];
	json_t *p = json_pack("{s:s, s:s, s:s, s:b, s:i, s:f, s:i, s:i}", "port", "uplink0",
		"direction", "in", "filter", "udp port 53", "stream", 1, "count", 10, "duration",
		1.5, "snaplen", 128, "ring_size", 64);

	assert_int_equal(ctl_capture_parse(p, &req, err), 0);
	assert_string_equal(req.port, "uplink0");
	assert_int_equal(req.dir, CAP_DIR_IN);
	assert_string_equal(req.filter, "udp port 53");
	assert_true(req.stream);
	assert_null(req.file);
	assert_int_equal(req.count, 10);
	assert_int_equal(req.duration_ms, 1500);
	assert_int_equal(req.snaplen, 128);
	assert_int_equal(req.ring_size, 64);
	json_decref(p);

	/* Fractions of a second, rounded; never 0. */
	assert_int_equal(
		parse("{\"port\":\"p\",\"stream\":true,\"duration\":0.0001}", &req, err), 0);
	assert_int_equal(req.duration_ms, 1);
	assert_int_equal(parse("{\"port\":\"p\",\"stream\":true,\"duration\":2}", &req, err), 0);
	assert_int_equal(req.duration_ms, 2000);
	/* Nulls are absent values; out is the third direction. */
	assert_int_equal(parse("{\"port\":\"p\",\"stream\":true,\"filter\":null,\"count\":null,"
			       "\"direction\":\"out\",\"file\":null}",
				 &req, err),
		0);
	assert_int_equal(req.dir, CAP_DIR_OUT);
	assert_string_equal(req.filter, "");
}

static void
test_parse_refused(void **state)
{
	refused("[]", "params must be an object");
	refused("{\"file\":\"/x\"}", "missing string parameter \"port\"");
	refused("{\"port\":\"\",\"file\":\"/x\"}", "missing string parameter \"port\"");
	refused("{\"port\":7,\"file\":\"/x\"}", "missing string parameter \"port\"");
	refused("{\"port\":\"p\"}", "missing \"file\"");
	refused("{\"port\":\"p\",\"stream\":false}", "missing \"file\"");
	refused("{\"port\":\"p\",\"file\":\"/x\",\"stream\":true}", "not both");
	refused("{\"port\":\"p\",\"file\":\"x.pcapng\"}", "must be an absolute path");
	refused("{\"port\":\"p\",\"file\":\"\"}", "must be an absolute path");
	refused("{\"port\":\"p\",\"file\":3}", "file must be a string");
	refused("{\"port\":\"p\",\"stream\":\"yes\"}", "stream must be true or false");
	refused("{\"port\":\"p\",\"stream\":true,\"direction\":\"sideways\"}", "direction must be");
	refused("{\"port\":\"p\",\"stream\":true,\"direction\":1}", "direction must be");
	refused("{\"port\":\"p\",\"stream\":true,\"filter\":[\"udp\"]}", "filter must be a string");
	refused("{\"port\":\"p\",\"stream\":true,\"count\":0}", "count must be an integer from 1");
	refused("{\"port\":\"p\",\"stream\":true,\"count\":-3}", "count must be");
	refused("{\"port\":\"p\",\"stream\":true,\"count\":2.5}", "count must be");
	refused("{\"port\":\"p\",\"stream\":true,\"snaplen\":13}",
		"snaplen must be an integer from 14");
	refused("{\"port\":\"p\",\"stream\":true,\"snaplen\":65536}", "to 65535");
	refused("{\"port\":\"p\",\"stream\":true,\"ring_size\":1}", "ring_size must be");
	refused("{\"port\":\"p\",\"stream\":true,\"ring_size\":48}", "power of two");
	refused("{\"port\":\"p\",\"stream\":true,\"ring_size\":131072}", "ring_size must be");
	refused("{\"port\":\"p\",\"stream\":true,\"duration\":0}", "duration must be");
	refused("{\"port\":\"p\",\"stream\":true,\"duration\":-1}", "duration must be");
	refused("{\"port\":\"p\",\"stream\":true,\"duration\":\"5\"}", "duration must be");
	refused("{\"port\":\"p\",\"stream\":true,\"duration\":604801}", "at most 604800");
	refused("{\"port\":\"p\",\"stream\":true,\"colour\":\"red\"}",
		"unknown parameter \"colour\"");
}

static void
test_parse_filter_length(void **state)
{
	static char expr[CTL_CAP_FILTER_MAX + 2];
	struct ctl_cap_req req;
	char err[CTL_ERR_MAX];
	json_t *p;

	memset(expr, 'x', CTL_CAP_FILTER_MAX);
	p = json_pack("{s:s, s:b, s:s}", "port", "p", "stream", 1, "filter", expr);
	assert_int_equal(ctl_capture_parse(p, &req, err), 0); /* the limit itself is fine */
	json_decref(p);
	expr[CTL_CAP_FILTER_MAX] = 'x';
	p = json_pack("{s:s, s:b, s:s}", "port", "p", "stream", 1, "filter", expr);
	assert_int_equal(ctl_capture_parse(p, &req, err), -EINVAL);
	assert_non_null(strstr(err, "filter longer than"));
	json_decref(p);
}

static void
test_rates(void **state)
{
	struct dp_port_stats a, b;
	struct ctl_rate r;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.rx_packets = 1000;
	a.rx_bytes = 64000;
	a.tx_packets = 50;
	a.tx_bytes = 5000;
	a.drops[0] = 10;
	a.drops[1] = 5;
	b = a;
	b.rx_packets += 2000000; /* over 2 s: 1 Mpps */
	b.rx_bytes += 128000000; /* 64 MB/s = 512 Mbit/s */
	b.tx_packets += 3;
	b.tx_bytes += 300;
	b.drops[0] += 20;
	b.drops[DP_DROP_MAX - 1] += 4;
	ctl_rate_compute(&a, &b, 2000000, &r);
	assert_int_equal(r.rx_pps, 1000000);
	assert_int_equal(r.rx_bps, 512000000);
	assert_int_equal(r.tx_pps, 2); /* 1.5 rounds to 2 */
	assert_int_equal(r.tx_bps, 1200);
	assert_int_equal(r.drops_ps, 12);
	assert_int_equal(r.interval_us, 2000000);

	/* An interval that is not a whole second: 2e6 frames in 333333 us. */
	ctl_rate_compute(&a, &b, 333333, &r);
	assert_int_equal(r.rx_pps, 6000006);

	/* A counter that went back (a new port on a reused index) counts as 0, alone. */
	b.drops[1] = 0;
	ctl_rate_compute(&a, &b, 1000000, &r);
	assert_int_equal(r.drops_ps, 24);
	ctl_rate_compute(&b, &a, 1000000, &r);
	assert_int_equal(r.rx_pps, 0);
	assert_int_equal(r.rx_bps, 0);
	assert_int_equal(r.drops_ps, 5); /* drops[1] rose from 0 to 5 */

	/* No time: no rate. */
	ctl_rate_compute(&a, &b, 0, &r);
	assert_int_equal(r.rx_pps + r.rx_bps + r.tx_pps + r.tx_bps + r.drops_ps, 0);

	/* Large deltas do not overflow on the way (x 10^6 before / dt). */
	a.rx_bytes = 0;
	b.rx_bytes = 1000000000000000ull;
	ctl_rate_compute(&a, &b, 1000000, &r);
	assert_true(r.rx_bps == 8000000000000000ull);
}

static void
test_rates_json(void **state)
{
	/* An index never read has no rates: null, not zeros. */
	json_t *v = ctl_rates_json(5);

	assert_true(json_is_null(v));
	json_decref(v);
	v = ctl_rates_json(DP_MAX_PORTS + 7);
	assert_true(json_is_null(v));
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_all),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_filter_length),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_rates_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
