/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding database: a table from a 64-bit key to a port index.
 *
 * Keys are (VLAN, MAC) for learned entries and MAC alone for the static
 * entries of VM ports (fdb_key()). The table is open addressing with
 * linear probing over 16-byte slots, four to a cache line, sized to a power
 * of two at twice the capacity: a hit is nearly always one cache line, and a
 * lookup is a multiply, a shift and a compare. rte_hash's general keys and
 * signatures cost more than that for a key that fits a register.
 *
 * Concurrency: none. A table is either immutable (the static table of a
 * published snapshot) or owned by one worker (its learned table), which is
 * the only writer and reader. Control keeps its own mirror, fed by events.
 */
#ifndef PORTICO_DATAPLANE_FDB_H
#define PORTICO_DATAPLANE_FDB_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>

#define FDB_MISS UINT16_MAX
#define FDB_KEY_VALID (UINT64_C(1) << 63) /* set in every key: 0 marks a free slot */

/* One slot. */
struct fdb_entry {
	uint64_t key; /* FDB_KEY_VALID | vid << 48 | MAC, or 0 when free */
	uint16_t port; /* the port index the MAC is behind */
	uint16_t vid; /* static entries: the one VLAN the port carries, or FDB_VID_ANY */
	uint32_t seen; /* learned entries: last time seen, in seconds */
};

#define FDB_VID_ANY UINT16_MAX /* the port carries several VLANs: ask the port */

struct fdb {
	uint32_t mask; /* slots - 1 */
	uint32_t shift; /* 64 - log2(slots), for the multiplicative hash */
	uint32_t n; /* entries in use */
	uint32_t capacity; /* entries allowed (half the slots) */
	struct fdb_entry slots[]; /* cache-line aligned */
};

/* What fdb_learn() did. */
enum fdb_learn_result {
	FDB_REFRESHED, /* known at the same port: nothing written unless its time moved */
	FDB_NEW, /* a new entry */
	FDB_MOVED, /* known, now behind another port */
	FDB_FULL, /* unknown and the table is full: not learned */
};

/* The key of a MAC in a VLAN (vid 0 for the static table). */
static inline uint64_t
fdb_key(uint16_t vid, const struct rte_ether_addr *mac)
{
	uint64_t k = 0;

	memcpy(&k, mac->addr_bytes, RTE_ETHER_ADDR_LEN);
	return FDB_KEY_VALID | (uint64_t)(vid & 0xfff) << 48 | k;
}

/*
 * The key of the MAC at p inside a frame, with one 8-byte load (a 6-byte
 * copy followed by an 8-byte read would stall store forwarding on every
 * frame). p must have 8 readable bytes: true for both MACs of a frame.
 */
static inline uint64_t
fdb_key_frame(uint16_t vid, const void *p)
{
	uint64_t k;

	memcpy(&k, p, sizeof(k));
	return FDB_KEY_VALID | (uint64_t)(vid & 0xfff) << 48 | (k & UINT64_C(0xffffffffffff));
}

/* The MAC and VLAN back from a key. */
static inline void
fdb_key_split(uint64_t key, uint16_t *vid, struct rte_ether_addr *mac)
{
	*vid = (key >> 48) & 0xfff;
	memcpy(mac->addr_bytes, &key, RTE_ETHER_ADDR_LEN);
}

static inline uint32_t
fdb_hash(const struct fdb *t, uint64_t key)
{
	return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> t->shift);
}

/* The slot holding key, or NULL. Any thread that owns or only reads the table. */
static inline struct fdb_entry *
fdb_find(const struct fdb *t, uint64_t key)
{
	uint32_t i = fdb_hash(t, key);

	for (;;) {
		const struct fdb_entry *e = &t->slots[i];

		if (e->key == key)
			return (struct fdb_entry *)(uintptr_t)e;
		if (e->key == 0)
			return NULL;
		i = (i + 1) & t->mask;
	}
}

/* The port of key, or FDB_MISS. Worker lcore. */
static inline uint16_t
fdb_lookup(const struct fdb *t, uint64_t key)
{
	const struct fdb_entry *e = fdb_find(t, key);

	return e != NULL ? e->port : FDB_MISS;
}

/*
 * A table for at least capacity entries (1..2^24). NULL and errno on
 * failure. Control side.
 */
struct fdb *fdb_create(uint32_t capacity);
void fdb_destroy(struct fdb *t); /* NULL is a no-op */
void fdb_clear(struct fdb *t);

/* Insert or overwrite. 0, or -ENOSPC when full. */
int fdb_set(struct fdb *t, uint64_t key, uint16_t port, uint32_t now);

/*
 * Learn key behind port at time now (seconds). Writes the slot only when
 * something changed or the time moved, so a steady flow does not dirty the
 * cache line on every frame. Owner thread.
 */
enum fdb_learn_result fdb_learn(struct fdb *t, uint64_t key, uint16_t port, uint32_t now);

/* Remove key: 0 or -ENOENT. */
int fdb_del(struct fdb *t, uint64_t key);

/*
 * Remove entries behind port (a port removed). Returns how many. Owner
 * thread or, for a table not yet published, control.
 */
unsigned fdb_flush_port(struct fdb *t, uint16_t port);

/*
 * Age: visit up to budget slots from *cursor (wrapping), removing entries
 * not seen for max_age seconds; aged(key, port, arg) is called for each
 * removed entry (may be NULL). Returns the number removed. Owner thread.
 */
unsigned fdb_age(struct fdb *t, uint32_t now, uint32_t max_age, uint32_t *cursor, uint32_t budget,
	void (*aged)(uint64_t key, uint16_t port, void *arg), void *arg);

/* Visit every entry in slot order. */
#define FDB_FOREACH(t, e)                                                \
	for ((e) = &(t)->slots[0]; (e) <= &(t)->slots[(t)->mask]; (e)++) \
		if ((e)->key != 0)

#endif /* PORTICO_DATAPLANE_FDB_H */
