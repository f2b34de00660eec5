/*
 * dnscache.c - a zone's answers for their TTL, the least recently used
 * evicted first (see dnscache.h).
 *
 * Slots are numbered from 1 so that 0 is "none" and a zeroed array is an
 * empty table: the slots and the buckets come from calloc and cost no
 * memory until touched, so a zone of 100,000 entries that sees a few
 * hundred clients stays small. Slots never used are taken in order,
 * released ones (expired entries) from a free list. The recency list runs
 * from the most recently used (head) to the least (tail); a hit moves the
 * entry to the head, an eviction takes the tail.
 */
#include "dnscache.h"

#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "../common/xalloc.h"

#define NIL 0

struct entry {
	struct addr key;
	struct zone_answer ans;
	int64_t expires;
	uint32_t prev, next;	/* recency list: prev is more recent */
	uint32_t hnext;		/* hash chain; the free list when released */
	uint32_t hv;		/* the key's hash: chains compare it first, an unlink needs no rehash */
};

struct dnscache {
	struct entry *slot;	/* [1..max] */
	uint32_t max, size;
	uint32_t fresh;		/* slots [fresh, max] were never used */
	uint32_t free;		/* released slots */
	uint32_t head, tail;	/* most and least recently used */
	uint32_t *bucket;
	uint32_t mask;
	struct hash_key key;
	uint64_t evictions;
};

struct dnscache *
dnscache_new(uint32_t max)
{
	struct dnscache *c = xcalloc(1, sizeof(*c));
	uint32_t nb = 16;

	if (max < 1)
		max = 1;
	if (max > DNSCACHE_MAX)
		max = DNSCACHE_MAX;
	while (nb < max)
		nb <<= 1;
	c->max = max;
	c->slot = xcalloc((size_t)max + 1, sizeof(*c->slot));
	c->fresh = 1;
	c->bucket = xcalloc(nb, sizeof(*c->bucket));
	c->mask = nb - 1;
	c->key = hash_process_key();
	return c;
}

void
dnscache_free(struct dnscache *c)
{
	if (c == NULL)
		return;
	free(c->slot);
	free(c->bucket);
	free(c);
}

/* The bytes of a that make the key: an IPv4 address is 4 of them. */
static size_t
key_len(const struct addr *a)
{
	return a->family == 4 ? 4 : 16;
}

static uint32_t
hash(const struct dnscache *c, const struct addr *a)
{
	unsigned char k[17];
	size_t n = key_len(a);

	k[0] = a->family;
	memcpy(k + 1, a->b, n);
	return (uint32_t)hash_bytes(&c->key, k, n + 1);
}

static uint32_t
find(const struct dnscache *c, const struct addr *a, uint32_t h)
{
	for (uint32_t i = c->bucket[h & c->mask]; i != NIL; i = c->slot[i].hnext) {
		const struct entry *e = &c->slot[i];

		if (e->hv == h && e->key.family == a->family && memcmp(e->key.b, a->b, key_len(a)) == 0)
			return i;
	}
	return NIL;
}

static void
unlink_recency(struct dnscache *c, uint32_t i)
{
	struct entry *e = &c->slot[i];

	if (e->prev != NIL)
		c->slot[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next != NIL)
		c->slot[e->next].prev = e->prev;
	else
		c->tail = e->prev;
}

static void
push_head(struct dnscache *c, uint32_t i)
{
	struct entry *e = &c->slot[i];

	e->prev = NIL;
	e->next = c->head;
	if (c->head != NIL)
		c->slot[c->head].prev = i;
	else
		c->tail = i;
	c->head = i;
}

/* Take entry i out of its chain and the recency list; the slot stays the caller's. */
static void
unlink_entry(struct dnscache *c, uint32_t i)
{
	uint32_t *pp = &c->bucket[c->slot[i].hv & c->mask];

	while (*pp != i)
		pp = &c->slot[*pp].hnext;
	*pp = c->slot[i].hnext;
	unlink_recency(c, i);
	c->size--;
}

int
dnscache_get(struct dnscache *c, const struct addr *a, int64_t now_ms, struct zone_answer *ans)
{
	uint32_t i = find(c, a, hash(c, a));

	if (i == NIL)
		return 0;
	if (c->slot[i].expires <= now_ms) {
		unlink_entry(c, i);
		c->slot[i].hnext = c->free;
		c->free = i;
		return 0;
	}
	if (c->head != i) {
		unlink_recency(c, i);
		push_head(c, i);
	}
	*ans = c->slot[i].ans;
	return 1;
}

void
dnscache_put(struct dnscache *c, const struct addr *a, const struct zone_answer *ans, int64_t expires_ms)
{
	uint32_t h = hash(c, a), i = find(c, a, h);
	struct entry *e;

	if (i != NIL)
		unlink_entry(c, i);		/* a fresher answer: it takes the same slot */
	else if (c->free != NIL) {
		i = c->free;
		c->free = c->slot[i].hnext;
	} else if (c->fresh <= c->max)
		i = c->fresh++;
	else {
		i = c->tail;			/* full: the least recently used goes */
		unlink_entry(c, i);
		c->evictions++;
	}
	e = &c->slot[i];
	memset(&e->key, 0, sizeof(e->key));
	e->key.family = a->family;
	memcpy(e->key.b, a->b, key_len(a));
	e->ans = *ans;
	e->expires = expires_ms;
	e->hv = h;
	e->hnext = c->bucket[h & c->mask];
	c->bucket[h & c->mask] = i;
	push_head(c, i);
	c->size++;
}

uint32_t
dnscache_size(const struct dnscache *c)
{
	return c->size;
}

uint64_t
dnscache_evictions(const struct dnscache *c)
{
	return c->evictions;
}
