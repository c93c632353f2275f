/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of bench/hist.h: the generator's log-linear latency histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bench/hist.h"

static struct hist h;

/* Within the histogram's resolution (1/32 relative, or exact below 64). */
static void
near(uint64_t got, uint64_t want)
{
	uint64_t tol = want < HIST_SUB ? 0 : want / (HIST_SUB / 2);

	if (got + tol < want || got > want + tol)
		fail_msg("got %lu, want %lu (+-%lu)", got, want, tol);
}

static void
test_index_monotonic(void **state)
{
	unsigned last = 0;

	for (uint64_t v = 0; v < (UINT64_C(1) << 22); v += 1 + v / 97) {
		unsigned i = hist_index(v);

		assert_true(i >= last);
		assert_true(i < HIST_BUCKETS);
		assert_true(hist_value(i) <= v);
		last = i;
	}
	assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
}

static void
test_uniform_percentiles(void **state)
{
	hist_reset(&h);
	for (uint64_t v = 1; v <= 100000; v++)
		hist_record(&h, v);
	assert_int_equal(h.n, 100000);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 100000);
	near(hist_quantile(&h, 0.5), 50000);
	near(hist_quantile(&h, 0.9), 90000);
	near(hist_quantile(&h, 0.99), 99000);
	near(hist_quantile(&h, 0.999), 99900);
	assert_int_equal(hist_quantile(&h, 1.0), 100000);
}

static void
test_small_and_tail(void **state)
{
	hist_reset(&h);
	assert_int_equal(hist_quantile(&h, 0.5), 0);
	for (int i = 0; i < 999; i++)
		hist_record(&h, 40);
	hist_record(&h, 5000000);
	assert_int_equal(hist_quantile(&h, 0.5), 40);
	assert_int_equal(hist_quantile(&h, 0.99), 40);
	near(hist_quantile(&h, 0.9999), 5000000);
	assert_int_equal(h.max, 5000000);
	/* The last value of the exact range is its own bucket's top. */
	hist_reset(&h);
	hist_record(&h, 63);
	hist_record(&h, 64);
	assert_int_equal(hist_quantile(&h, 0.0), 63);
	assert_int_equal(hist_quantile(&h, 1.0), 64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_monotonic),
		cmocka_unit_test(test_uniform_percentiles),
		cmocka_unit_test(test_small_and_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
