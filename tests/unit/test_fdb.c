/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of dataplane/fdb: lookup, learn, delete with probe chains, aging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dataplane/fdb.h"

static uint64_t
key_n(unsigned n, uint16_t vid)
{
	struct rte_ether_addr mac = {
		{0x02, 0, (n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff}};

	return fdb_key(vid, &mac);
}

static void
test_key(void **state)
{
	struct rte_ether_addr mac = {{0x52, 0x54, 0, 1, 2, 3}}, out;
	uint16_t vid;

	fdb_key_split(fdb_key(4094, &mac), &vid, &out);
	assert_int_equal(vid, 4094);
	assert_memory_equal(&mac, &out, 6);
	assert_int_not_equal(fdb_key(1, &mac), fdb_key(2, &mac));
	/* The all-zero MAC is a valid key, not an empty slot. */
	memset(&mac, 0, sizeof(mac));
	assert_int_not_equal(fdb_key(0, &mac), 0);
}

static void
test_set_lookup(void **state)
{
	struct fdb *t = fdb_create(100);
	unsigned i;

	assert_non_null(t);
	for (i = 0; i < 100; i++)
		assert_int_equal(fdb_set(t, key_n(i, 1), (uint16_t)i, 0), 0);
	assert_int_equal(fdb_set(t, key_n(100, 1), 1, 0), -ENOSPC);
	assert_int_equal(t->n, 100);
	for (i = 0; i < 100; i++)
		assert_int_equal(fdb_lookup(t, key_n(i, 1)), i);
	assert_int_equal(fdb_lookup(t, key_n(5, 2)), FDB_MISS);
	/* Overwrite keeps the count. */
	assert_int_equal(fdb_set(t, key_n(5, 1), 999, 0), 0);
	assert_int_equal(fdb_lookup(t, key_n(5, 1)), 999);
	assert_int_equal(t->n, 100);
	fdb_destroy(t);
	fdb_destroy(NULL);
	assert_null(fdb_create(0));
}

static void
test_learn(void **state)
{
	struct fdb *t = fdb_create(2);
	uint64_t a = key_n(1, 0), b = key_n(2, 0), c = key_n(3, 0);

	assert_int_equal(fdb_learn(t, a, 7, 10), FDB_NEW);
	assert_int_equal(fdb_learn(t, a, 7, 11), FDB_REFRESHED);
	assert_int_equal(fdb_find(t, a)->seen, 11);
	assert_int_equal(fdb_learn(t, a, 8, 12), FDB_MOVED);
	assert_int_equal(fdb_lookup(t, a), 8);
	assert_int_equal(fdb_learn(t, b, 7, 12), FDB_NEW);
	assert_int_equal(fdb_learn(t, c, 7, 12), FDB_FULL);
	assert_int_equal(fdb_lookup(t, c), FDB_MISS);
	fdb_destroy(t);
}

/* Deleting from the middle of probe chains keeps every other key findable. */
static void
test_delete_chains(void **state)
{
	struct fdb *t = fdb_create(4000);
	unsigned i, n = 4000;

	srand(42);
	for (i = 0; i < n; i++)
		assert_int_equal(fdb_set(t, key_n(i, i % 7), (uint16_t)i, 0), 0);
	for (unsigned round = 0; round < 3; round++) {
		for (i = round; i < n; i += 3)
			assert_int_equal(fdb_del(t, key_n(i, i % 7)), 0);
		for (i = 0; i < n; i++) {
			bool gone = i % 3 <= round;

			assert_int_equal(fdb_lookup(t, key_n(i, i % 7)), gone ? FDB_MISS : i);
		}
	}
	assert_int_equal(t->n, 0);
	assert_int_equal(fdb_del(t, key_n(1, 1)), -ENOENT);
	/* Every slot is free again. */
	for (i = 0; i <= t->mask; i++)
		assert_int_equal(t->slots[i].key, 0);
	fdb_destroy(t);
}

static unsigned aged_count;

static void
aged(uint64_t key, uint16_t port, void *arg)
{
	(void)key, (void)port, (void)arg;
	aged_count++;
}

static void
test_age(void **state)
{
	struct fdb *t = fdb_create(1000);
	uint32_t cursor = 0;
	unsigned i;

	for (i = 0; i < 1000; i++)
		fdb_learn(t, key_n(i, 0), 1, i < 500 ? 100 : 350);
	/* At t=399 with max age 300: the first 500 (seen at 100) are 299 old. */
	aged_count = 0;
	assert_int_equal(fdb_age(t, 399, 300, &cursor, t->mask + 1, aged, NULL), 0);
	/* At t=400 they are 300 old: gone; the rest stay. */
	assert_int_equal(fdb_age(t, 400, 300, &cursor, t->mask + 1, aged, NULL), 500);
	assert_int_equal(aged_count, 500);
	for (i = 0; i < 1000; i++)
		assert_int_equal(fdb_lookup(t, key_n(i, 0)), i < 500 ? FDB_MISS : 1);
	/* A small budget ages in steps, resuming at the cursor. */
	unsigned total = 0;

	for (unsigned step = 0; step < 64 && total < 500; step++)
		total += fdb_age(t, 650, 300, &cursor, 64, NULL, NULL);
	assert_int_equal(total, 500);
	assert_int_equal(t->n, 0);
	fdb_destroy(t);
}

static void
test_flush_port(void **state)
{
	struct fdb *t = fdb_create(1000);
	unsigned i;

	for (i = 0; i < 1000; i++)
		fdb_set(t, key_n(i, 0), (uint16_t)(i % 4), 0);
	assert_int_equal(fdb_flush_port(t, 2), 250);
	for (i = 0; i < 1000; i++)
		assert_int_equal(fdb_lookup(t, key_n(i, 0)), i % 4 == 2 ? FDB_MISS : i % 4);
	fdb_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_set_lookup),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_delete_chains),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_flush_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
