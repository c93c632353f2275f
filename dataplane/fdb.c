/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding database: open addressing with linear probing and backward
 * shift deletion (no tombstones, so lookups never slow down with churn).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/fdb.h"

struct fdb *
fdb_create(uint32_t capacity)
{
	uint32_t slots = 8, bits = 3;
	struct fdb *t;
	size_t size;

	if (capacity == 0 || capacity > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (slots < 2 * capacity) {
		slots <<= 1;
		bits++;
	}
	size = RTE_ALIGN_CEIL(
		sizeof(*t) + (size_t)slots * sizeof(struct fdb_entry), RTE_CACHE_LINE_SIZE);
	/* Header and slots share one allocation; keep the slots line-aligned. */
	t = aligned_alloc(RTE_CACHE_LINE_SIZE, size);
	if (t == NULL)
		return NULL;
	memset(t, 0, size);
	t->mask = slots - 1;
	t->shift = 64 - bits;
	t->capacity = capacity;
	return t;
}

void
fdb_destroy(struct fdb *t)
{
	free(t);
}

void
fdb_clear(struct fdb *t)
{
	memset(t->slots, 0, (size_t)(t->mask + 1) * sizeof(t->slots[0]));
	t->n = 0;
}

static struct fdb_entry *
fdb_insert_slot(struct fdb *t, uint64_t key)
{
	uint32_t i = fdb_hash(t, key);

	while (t->slots[i].key != 0)
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

int
fdb_set(struct fdb *t, uint64_t key, uint16_t port, uint32_t now)
{
	struct fdb_entry *e = fdb_find(t, key);

	if (e == NULL) {
		if (t->n >= t->capacity)
			return -ENOSPC;
		e = fdb_insert_slot(t, key);
		e->key = key;
		e->vid = FDB_VID_ANY;
		t->n++;
	}
	e->port = port;
	e->seen = now;
	return 0;
}

enum fdb_learn_result
fdb_learn(struct fdb *t, uint64_t key, uint16_t port, uint32_t now)
{
	struct fdb_entry *e = fdb_find(t, key);

	if (e != NULL) {
		if (e->port == port) {
			if (e->seen != now)
				e->seen = now;
			return FDB_REFRESHED;
		}
		e->port = port;
		e->seen = now;
		return FDB_MOVED;
	}
	if (t->n >= t->capacity)
		return FDB_FULL;
	e = fdb_insert_slot(t, key);
	e->key = key;
	e->port = port;
	e->vid = FDB_VID_ANY;
	e->seen = now;
	t->n++;
	return FDB_NEW;
}

/* Empty slot i and pull later entries of the probe run back over it. */
static void
fdb_remove_slot(struct fdb *t, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		t->slots[i].key = 0;
		for (;;) {
			j = (j + 1) & t->mask;
			if (t->slots[j].key == 0) {
				t->n--;
				return;
			}
			home = fdb_hash(t, t->slots[j].key);
			/* Keep j where it is if its home lies cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
}

int
fdb_del(struct fdb *t, uint64_t key)
{
	struct fdb_entry *e = fdb_find(t, key);

	if (e == NULL)
		return -ENOENT;
	fdb_remove_slot(t, (uint32_t)(e - t->slots));
	return 0;
}

unsigned
fdb_flush_port(struct fdb *t, uint16_t port)
{
	unsigned removed = 0;
	uint32_t i = 0;

	while (i <= t->mask) {
		if (t->slots[i].key != 0 && t->slots[i].port == port) {
			/* The shift may pull an unvisited entry into slot i: look again. */
			fdb_remove_slot(t, i);
			removed++;
			continue;
		}
		i++;
	}
	return removed;
}

unsigned
fdb_age(struct fdb *t, uint32_t now, uint32_t max_age, uint32_t *cursor, uint32_t budget,
	void (*aged)(uint64_t key, uint16_t port, void *arg), void *arg)
{
	uint32_t i = *cursor & t->mask;
	unsigned removed = 0;

	while (budget > 0) {
		struct fdb_entry *e = &t->slots[i];

		if (e->key != 0 && now - e->seen >= max_age) {
			uint64_t key = e->key;
			uint16_t port = e->port;

			fdb_remove_slot(t, i);
			removed++;
			if (aged != NULL)
				aged(key, port, arg);
			continue; /* slot i may hold a shifted entry now: visit it again */
		}
		i = (i + 1) & t->mask;
		budget--;
	}
	*cursor = i;
	return removed;
}
