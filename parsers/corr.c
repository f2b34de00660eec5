/*
 * corr.c - the correlation table (see corr.h).
 *
 * Slots are used as a ring in insertion order, so "the oldest entry" is
 * the ring's head and both eviction and expiry are O(1): entries are
 * created in (nearly) event-time order. Lookup is a chained hash over slot
 * indices. A deleted entry leaves a free slot that the head skips later.
 */
#include "corr.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"

#define NIL UINT32_MAX

struct corr_table {
	struct corr_entry *slot;
	uint32_t cap, head, count;	/* ring: count slots from head, oldest first */
	uint32_t *bucket, mask;
	int64_t ttl;
	struct corr_stats st;
};

static uint32_t
hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h ^ (h >> 15);
}

struct corr_table *
corr_new(uint32_t capacity, int64_t ttl)
{
	struct corr_table *t = xcalloc(1, sizeof(*t));
	uint32_t nb = 16;

	if (capacity < 16)
		capacity = 16;
	while (nb < capacity * 2)
		nb <<= 1;
	t->cap = capacity;
	t->slot = xcalloc(capacity, sizeof(*t->slot));
	t->bucket = xmalloc(nb * sizeof(*t->bucket));
	memset(t->bucket, 0xff, nb * sizeof(*t->bucket));
	t->mask = nb - 1;
	t->ttl = ttl;
	return t;
}

void
corr_free(struct corr_table *t)
{
	if (t == NULL)
		return;
	free(t->slot);
	free(t->bucket);
	free(t);
}

/* Take slot i out of its hash chain and mark it free. */
static void
unlink_slot(struct corr_table *t, uint32_t i)
{
	struct corr_entry *e = &t->slot[i];
	uint32_t *pp = &t->bucket[hash(e->key, e->keylen) & t->mask];

	while (*pp != NIL && *pp != i)
		pp = &t->slot[*pp].next;
	if (*pp == i)
		*pp = e->next;
	e->keylen = 0;
	t->st.size--;
}

static uint32_t
find(const struct corr_table *t, struct span key)
{
	uint32_t i = t->bucket[hash(key.p, key.n) & t->mask];

	while (i != NIL) {
		const struct corr_entry *e = &t->slot[i];

		if (e->keylen == key.n && memcmp(e->key, key.p, key.n) == 0)
			return i;
		i = e->next;
	}
	return NIL;
}

/* Drop free and expired slots at the head; make room if the ring is full. */
static void
advance_head(struct corr_table *t, int64_t now)
{
	while (t->count > 0) {
		struct corr_entry *e = &t->slot[t->head];

		if (e->keylen != 0) {
			if (now - e->ts > t->ttl) {
				t->st.expired++;
				unlink_slot(t, t->head);
			} else if (t->count == t->cap) {
				t->st.evicted++;
				unlink_slot(t, t->head);
			} else
				break;
		}
		t->head = t->head + 1 == t->cap ? 0 : t->head + 1;
		t->count--;
	}
}

struct corr_entry *
corr_get(struct corr_table *t, struct span key, int64_t now)
{
	uint32_t i;

	if (key.n == 0 || key.n > CORR_KEYMAX || (i = find(t, key)) == NIL)
		return NULL;
	if (now - t->slot[i].ts > t->ttl)
		return NULL;	/* expired; the head sweep frees it */
	return &t->slot[i];
}

struct corr_entry *
corr_put(struct corr_table *t, struct span key, int64_t now)
{
	uint32_t i, b;
	struct corr_entry *e;

	if (key.n == 0 || key.n > CORR_KEYMAX)
		return NULL;
	if ((i = find(t, key)) != NIL)
		unlink_slot(t, i);
	advance_head(t, now);
	i = t->head + t->count;
	if (i >= t->cap)
		i -= t->cap;
	t->count++;
	e = &t->slot[i];
	memset(e, 0, sizeof(*e));
	e->ts = now;
	e->keylen = (uint8_t)key.n;
	memcpy(e->key, key.p, key.n);
	b = hash(key.p, key.n) & t->mask;
	e->next = t->bucket[b];
	t->bucket[b] = i;
	t->st.inserted++;
	t->st.size++;
	return e;
}

int
corr_del(struct corr_table *t, struct span key)
{
	uint32_t i;

	if (key.n == 0 || key.n > CORR_KEYMAX || (i = find(t, key)) == NIL)
		return 0;
	unlink_slot(t, i);
	return 1;
}

struct corr_stats
corr_stats(const struct corr_table *t)
{
	return t->st;
}
