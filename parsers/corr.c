/*
 * corr.c - the correlation table (see corr.h).
 *
 * A fixed array of slots. Live entries are on a doubly linked age list
 * (oldest first: insertion order, which is event-time order) and in a
 * chained hash over slot indices; released slots are on a free list, and
 * slots never used yet are taken in order (so an idle table, e.g. of an
 * MTA this host does not run, stays out of resident memory). A put
 * takes a free slot if there is one and evicts the oldest live entry only
 * when every slot is live, so the usual churn of Postfix's queue IDs
 * (client= ... removed) never pushes out a long-lived entry. Expiry looks
 * only at the oldest end of the age list, on each put. The IDs are read
 * from log text, which a local user can also write (logger(1), a crafted
 * syslog message), so the chain hash is keyed by the process's secret
 * (common/hash.h): a strongly universal hash under secret multipliers
 * (hash()): nobody can line IDs up in one chain.
 * Saved tables hold keys, not hashes (corr_export), so a restart with a
 * new key re-hashes them on import.
 */
#include "corr.h"

#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "../common/xalloc.h"

#define NIL UINT32_MAX
#define KEYWORDS ((CORR_KEYMAX + 3) / 4)	/* 32-bit words in the longest key */

struct corr_table {
	struct corr_entry *slot;
	uint32_t cap;
	uint32_t oldest, newest;	/* age list ends */
	uint32_t free;			/* free list head (slots released) */
	uint32_t fresh;			/* slots [fresh, cap) were never used */
	uint32_t *bucket;
	uint32_t *hv;			/* each slot's key hash: chains compare it first, a release needs no rehash */
	int shift;			/* a bucket is a hash's top bits: 32 - log2(buckets) */
	/* Secret multipliers: the length's, one per 32-bit word of a key, and the constant (hash()). */
	uint64_t mul[1 + KEYWORDS + 1];
	int64_t ttl;
	struct corr_stats st;
};

/*
 * Vector multiply-shift (Dietzfelbinger 1996; Thorup, "High speed hashing
 * for integers and strings"): the key, zero-padded, as 32-bit words x_i,
 * and its length; the hash is the top 32 bits of
 *     mul[0]·n + Σ mul[1+i]·x_i + mul[last]   (mod 2^64)
 * under secret 64-bit multipliers. The family is strongly universal: for
 * any two different keys (padding plus length make the words differ) the
 * pair of hashes is uniform, so keys chosen without the secret fall into
 * one chain no more often than at random. Buckets are the hash's top bits
 * (what the guarantee is about). A Sendmail queue ID costs four
 * multiply-adds where SipHash took 150 instructions — this runs for
 * nearly every line.
 */
static inline uint32_t
hash(const struct corr_table *t, const char *p, size_t n)
{
	uint64_t h = t->mul[0] * n + t->mul[1 + KEYWORDS];
	uint32_t w;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		memcpy(&w, p + i, 4);
		h += t->mul[1 + i / 4] * w;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, p + i, n - i);
		h += t->mul[1 + i / 4] * w;
	}
	return (uint32_t)(h >> 32);
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
	/* Untouched slots cost no memory until used: no free list is built up front. */
	t->slot = xcalloc(capacity, sizeof(*t->slot));
	t->hv = xcalloc(capacity, sizeof(*t->hv));
	t->free = NIL;
	t->oldest = t->newest = NIL;
	t->bucket = xmalloc(nb * sizeof(*t->bucket));
	memset(t->bucket, 0xff, nb * sizeof(*t->bucket));
	t->shift = 32;
	while ((1u << (32 - t->shift)) < nb)
		t->shift--;
	t->ttl = ttl;
	{
		/* Drawn from the process's secret (its PRF), not stored anywhere else. */
		struct hash_key k = hash_process_key();

		for (uint64_t i = 0; i < sizeof(t->mul) / sizeof(t->mul[0]); i++)
			t->mul[i] = hash_bytes(&k, &i, sizeof(i));
	}
	return t;
}

void
corr_free(struct corr_table *t)
{
	if (t == NULL)
		return;
	free(t->slot);
	free(t->hv);
	free(t->bucket);
	free(t);
}

/* Take live slot i out of the hash and the age list, and free it. */
static void
release(struct corr_table *t, uint32_t i)
{
	struct corr_entry *e = &t->slot[i];
	uint32_t *pp = &t->bucket[t->hv[i] >> t->shift];

	while (*pp != NIL && *pp != i)
		pp = &t->slot[*pp].hnext;
	if (*pp == i)
		*pp = e->hnext;
	if (e->older != NIL)
		t->slot[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer != NIL)
		t->slot[e->newer].older = e->older;
	else
		t->newest = e->older;
	e->keylen = 0;
	e->newer = t->free;
	t->free = i;
	t->st.size--;
}

static uint32_t
find(const struct corr_table *t, struct span key, uint32_t h)
{
	uint32_t i = t->bucket[h >> t->shift];

	while (i != NIL) {
		const struct corr_entry *e = &t->slot[i];

		if (t->hv[i] == h && e->keylen == key.n && memcmp(e->key, key.p, key.n) == 0)
			return i;
		i = e->hnext;
	}
	return NIL;
}

struct corr_entry *
corr_get(struct corr_table *t, struct span key, int64_t now)
{
	uint32_t i;

	if (key.n == 0 || key.n > CORR_KEYMAX || (i = find(t, key, hash(t, key.p, key.n))) == NIL)
		return NULL;
	if (now - t->slot[i].ts > t->ttl)
		return NULL;	/* expired; a later put sweeps it */
	return &t->slot[i];
}

struct corr_entry *
corr_put(struct corr_table *t, struct span key, int64_t now)
{
	struct corr_entry *e;
	uint32_t i, b, h;

	if (key.n == 0 || key.n > CORR_KEYMAX)
		return NULL;
	h = hash(t, key.p, key.n);
	if ((i = find(t, key, h)) != NIL)
		release(t, i);		/* IDs are reused: the new one wins */
	/* Each entry expires once, so this loop is O(1) amortised per put. */
	while (t->oldest != NIL && now - t->slot[t->oldest].ts > t->ttl) {
		t->st.expired++;
		release(t, t->oldest);
	}
	if (t->free == NIL && t->fresh == t->cap) {
		t->st.evicted++;
		release(t, t->oldest);
	}
	if (t->free != NIL) {
		i = t->free;
		t->free = t->slot[i].newer;
	} else
		i = t->fresh++;
	e = &t->slot[i];

	memset(e, 0, sizeof(*e));
	e->ts = now;
	e->keylen = (uint8_t)key.n;
	memcpy(e->key, key.p, key.n);
	t->hv[i] = h;
	b = h >> t->shift;
	e->hnext = t->bucket[b];
	t->bucket[b] = i;
	e->older = t->newest;
	e->newer = NIL;
	if (t->newest != NIL)
		t->slot[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
	t->st.inserted++;
	t->st.size++;
	return e;
}

int
corr_del(struct corr_table *t, struct span key)
{
	uint32_t i;

	if (key.n == 0 || key.n > CORR_KEYMAX || (i = find(t, key, hash(t, key.p, key.n))) == NIL)
		return 0;
	release(t, i);
	return 1;
}

struct corr_stats
corr_stats(const struct corr_table *t)
{
	return t->st;
}

uint32_t
corr_chain_max(const struct corr_table *t)
{
	uint32_t longest = 0;

	for (uint64_t b = 0; b < (1ull << (32 - t->shift)); b++) {
		uint32_t n = 0;

		for (uint32_t i = t->bucket[b]; i != NIL; i = t->slot[i].hnext)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}

size_t
corr_export(const struct corr_table *t, struct corr_entry *out, size_t max)
{
	size_t n = 0;

	for (uint32_t i = t->oldest; i != NIL && n < max; i = t->slot[i].newer)
		out[n++] = t->slot[i];
	return n;
}

void
corr_import(struct corr_table *t, const struct corr_entry *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct corr_entry *e = corr_put(t, (struct span){ in[i].key, in[i].keylen }, in[i].ts);

		if (e == NULL)
			continue;
		e->ip = in[i].ip;
		e->port = in[i].port;
		e->flags = in[i].flags;
		e->hostlen = in[i].hostlen;
		memcpy(e->host, in[i].host, sizeof(e->host));
		memcpy(e->aux, in[i].aux, sizeof(e->aux));
	}
}
