/*
 * keytab.c - bounded per-key state (see keytab.h).
 *
 * Slots live in one array: [header | key | payload], stride fixed per
 * table (the key beside the header: walking a chain reads both). Free slots come from a free list, then from the never-used tail
 * (so a big cap costs nothing until keys arrive). Live slots are on a
 * doubly linked list ordered by last sighting, most recent at the head:
 * the tail is where idle keys are swept and eviction victims are sought.
 * The hash index holds slot number + 1 (0 = empty) and doubles as keys
 * arrive (load <= 1), so a table with a cap of millions costs a few
 * kilobytes until it is used. Keys are attacker-chosen text or addresses
 * (client prefixes, HELO names, queue IDs a local user can forge through
 * syslog): the index hash is keyed by the process's secret (common/hash.h)
 * so that nobody can aim many keys at one chain — vector multiply-shift
 * under secret multipliers (hash()), strongly universal and a few
 * multiply-adds per key, where SipHash took 150 instructions; it runs for
 * nearly every line (the rules' tables and the parsers' queue-ID tables,
 * parsers/corr.c, are this structure).
 *
 * Eviction at the cap: with a score function (keytab_set_score), the
 * KEYTAB_EVICT_SAMPLE least recently seen keys are candidates and the one
 * with the lowest score goes, the least recently seen first among equals.
 * Why: an attacker who floods a rule with throwaway keys (an IPv6 client
 * has 2^64 addresses in its /64 and as many /64s as its provider gives
 * it) would otherwise push a real attacker's counter out, just before it
 * reaches the threshold, by making it the least recently seen key. A key
 * with one event scores lower than one close to its threshold, so the
 * flood evicts its own keys. Only keys that have themselves nearly
 * reached the threshold can push such a key out. The work is bounded
 * (KEYTAB_EVICT_SAMPLE steps), and a key kept at the old end still leaves
 * when it is idle for longer than its window (keytab_expire).
 */
#include "keytab.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "xalloc.h"

struct hdr {
	uint32_t hnext;		/* next slot + 1 in the hash chain, 0 = end */
	uint32_t older, newer;	/* LRU list (slot numbers), UINT32_MAX = none */
	uint8_t klen;
	uint8_t live;
	uint8_t saved;		/* tracked tables: the key is in the saved copy (a removal must be written) */
	uint8_t tag;		/* the low byte of the key's hash (buckets take the top bits): checked before the key */
	int64_t seen;
};

#define NONE UINT32_MAX
/* 32-bit words of the longest key a slot holds (KEYTAB_KEYMAX, plus the slot's rounding). */
#define KEYWORDS ((KEYTAB_KEYMAX + 7 + 3) / 4)

struct keytab {
	unsigned char *slots;
	size_t stride, payload;
	size_t keyroom;		/* bytes for the key: keymax rounded up to 8 */
	uint32_t cap, used;	/* used: high-water mark of the slot array */
	uint32_t freelist;	/* chained through hdr.newer */
	uint32_t newest, oldest;
	uint32_t *bucket;
	int shift;		/* a key's bucket is its hash's top bits: hash >> shift */
	/* Secret multipliers: the length's, one per 32-bit word of a key, and the constant (hash()). */
	uint64_t mul[1 + KEYWORDS + 1];
	uint64_t (*score)(const void *payload);	/* NULL: evict the least recently seen */
	struct keytab_stats st;
	/*
	 * Changes since the last keytab_saved (keytab_track): the keys put
	 * since are those newer than `mark` on the LRU list (a key put moves to
	 * the new end; when the mark itself moves or goes, its older neighbour
	 * takes its place); the keys removed since are listed in `gone`.
	 */
	int track;
	uint32_t mark;		/* NONE: no key is saved */
	uint8_t *gone;		/* removed keys: a length byte, then the key */
	size_t ngone, gone_cap;
	int gone_lost;		/* more removals than `gone` holds, or a clear: everything is written again */
};

#define GONE_MAX (4u << 20)	/* bytes of removed keys listed between two saves */

static inline struct hdr *
H(const struct keytab *t, uint32_t i)
{
	return (struct hdr *)(t->slots + (size_t)i * t->stride);
}

/* A slot is [hdr | key | payload]: a chain's walk reads a slot's header and key, side by side. */
static inline uint8_t *
KEY(const struct keytab *t, uint32_t i)
{
	return t->slots + (size_t)i * t->stride + sizeof(struct hdr);
}

static inline void *
PL(const struct keytab *t, uint32_t i)
{
	return t->slots + (size_t)i * t->stride + sizeof(struct hdr) + t->keyroom;
}

static uint32_t
slot_of(const struct keytab *t, const void *payload)
{
	return (uint32_t)(((const unsigned char *)payload - sizeof(struct hdr) - t->keyroom - t->slots) / t->stride);
}

/*
 * Vector multiply-shift (Dietzfelbinger 1996; Thorup, "High speed hashing
 * for integers and strings"): the key, zero-padded, as 32-bit words x_i,
 * and its length n; the hash is the top 32 bits of
 *     mul[0]·n + Σ mul[1+i]·x_i + mul[last]   (mod 2^64)
 * under secret 64-bit multipliers. The family is strongly universal: for
 * any two different keys (padding plus length make the words differ) the
 * pair of hashes is uniform, so keys chosen without the secret fall into
 * one chain no more often than at random; a fixed mixing step then keeps
 * structured keys from crowding the top bits, which are the buckets.
 */
static inline uint32_t
hash(const struct keytab *t, const uint8_t *p, size_t n)
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
	/*
	 * A fixed mixing step (a bijection of the 64 bits): multiply-shift
	 * maps keys in arithmetic progression (consecutive /64s, addresses
	 * shifted left) onto a near-lattice whose top bits can crowd some
	 * buckets (chains of 25 for 65,536 such keys under an unlucky
	 * multiplier); mixed, they spread as at random.
	 */
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (uint32_t)(h >> 32);
}

static inline uint32_t *
bucket_of(const struct keytab *t, uint32_t h)
{
	return &t->bucket[h >> t->shift];
}

static inline size_t
nbuckets(const struct keytab *t)
{
	return (size_t)1 << (32 - t->shift);
}

struct keytab *
keytab_new(uint32_t capacity, size_t payload, size_t keymax)
{
	struct keytab *t = xcalloc(1, sizeof(*t));
	uint32_t nb = 64;

	if (keymax > KEYTAB_KEYMAX)
		keymax = KEYTAB_KEYMAX;
	if (capacity < 16)
		capacity = 16;
	t->payload = (payload + 7) & ~(size_t)7;
	t->stride = (sizeof(struct hdr) + t->payload + keymax + 7) & ~(size_t)7;
	t->keyroom = t->stride - sizeof(struct hdr) - t->payload;
	t->cap = capacity;
	t->slots = xcalloc(capacity, t->stride);
	t->bucket = xcalloc(nb, sizeof(*t->bucket));
	t->shift = 32;
	while (((size_t)1 << (32 - t->shift)) < nb)
		t->shift--;
	t->freelist = t->newest = t->oldest = t->mark = NONE;
	{
		/* Drawn from the process's secret (its PRF), not stored anywhere else. */
		struct hash_key k = hash_process_key();

		for (uint64_t i = 0; i < sizeof(t->mul) / sizeof(t->mul[0]); i++)
			t->mul[i] = hash_bytes(&k, &i, sizeof(i));
	}
	return t;
}

void
keytab_free(struct keytab *t, void (*free_payload)(void *payload))
{
	if (t == NULL)
		return;
	if (free_payload != NULL)
		for (uint32_t i = t->newest; i != NONE; i = H(t, i)->older)
			free_payload(PL(t, i));
	free(t->slots);
	free(t->bucket);
	free(t->gone);
	free(t);
}

void
keytab_clear(struct keytab *t)
{
	/* slots are zeroed as they are taken (keytab_put): only the bookkeeping starts over */
	memset(t->bucket, 0, nbuckets(t) * sizeof(*t->bucket));
	t->used = 0;
	t->freelist = t->newest = t->oldest = NONE;
	memset(&t->st, 0, sizeof(t->st));
	t->mark = NONE;
	t->gone_lost = 1;
}

/* Double the hash index and rehash every live key. */
static void
grow_index(struct keytab *t)
{
	size_t nb = nbuckets(t) * 2;

	free(t->bucket);
	t->bucket = xcalloc(nb, sizeof(*t->bucket));
	t->shift--;
	for (uint32_t i = t->newest; i != NONE; i = H(t, i)->older) {
		uint32_t *b = bucket_of(t, hash(t, KEY(t, i), H(t, i)->klen));

		H(t, i)->hnext = *b;
		*b = i + 1;
	}
}

static uint32_t
find(const struct keytab *t, const void *key, size_t klen, uint32_t h)
{
	uint32_t i = *bucket_of(t, h);

	while (i != 0) {
		const struct hdr *hd = H(t, i - 1);

		if (hd->tag == (uint8_t)h && hd->klen == klen && memcmp(KEY(t, i - 1), key, klen) == 0)
			return i - 1;
		i = hd->hnext;
	}
	return NONE;
}

void *
keytab_get(struct keytab *t, const void *key, size_t klen)
{
	uint32_t i;

	if (klen > t->keyroom)
		return NULL;
	i = find(t, key, klen, hash(t, key, klen));
	return i == NONE ? NULL : PL(t, i);
}

static void
lru_unlink(struct keytab *t, uint32_t i)
{
	struct hdr *h = H(t, i);

	if (h->older != NONE)
		H(t, h->older)->newer = h->newer;
	else
		t->oldest = h->newer;
	if (h->newer != NONE)
		H(t, h->newer)->older = h->older;
	else
		t->newest = h->older;
}

static void
lru_push(struct keytab *t, uint32_t i)
{
	struct hdr *h = H(t, i);

	h->newer = NONE;
	h->older = t->newest;
	if (t->newest != NONE)
		H(t, t->newest)->newer = i;
	else
		t->oldest = i;
	t->newest = i;
}

static void
remove_slot(struct keytab *t, uint32_t i, void (*free_payload)(void *payload))
{
	struct hdr *h = H(t, i);
	uint32_t *pp = bucket_of(t, hash(t, KEY(t, i), h->klen));

	if (free_payload != NULL)
		free_payload(PL(t, i));
	if (t->track) {
		if (t->mark == i)
			t->mark = h->older;
		if (!h->saved) {
			/* never written: nothing to remove (a flood's short-lived keys cost no write) */
		} else if (t->gone_lost || t->ngone + 1 + h->klen > GONE_MAX) {
			t->gone_lost = 1;
		} else {
			if (t->ngone + 1 + h->klen > t->gone_cap) {
				t->gone_cap = t->gone_cap ? 2 * t->gone_cap : 4096;
				t->gone = xrealloc(t->gone, t->gone_cap);
			}
			t->gone[t->ngone] = h->klen;
			memcpy(t->gone + t->ngone + 1, KEY(t, i), h->klen);
			t->ngone += 1 + (size_t)h->klen;
		}
	}
	while (*pp != 0 && *pp != i + 1)
		pp = &H(t, *pp - 1)->hnext;
	if (*pp == i + 1)
		*pp = h->hnext;
	lru_unlink(t, i);
	h->live = 0;
	h->newer = t->freelist;
	t->freelist = i;
	t->st.size--;
}

/* The slot to evict at the cap (see the header of this file). */
static uint32_t
victim(const struct keytab *t)
{
	uint32_t best = t->oldest, i = t->oldest;
	uint64_t low;

	if (t->score == NULL)
		return best;
	low = t->score(PL(t, i));
	for (int n = 1; n < KEYTAB_EVICT_SAMPLE && low > 0 && (i = H(t, i)->newer) != NONE; n++) {
		uint64_t s = t->score(PL(t, i));

		if (s < low) {
			low = s;
			best = i;
		}
	}
	return best;
}

void *
keytab_put(struct keytab *t, const void *key, size_t klen, int64_t now, int *created,
    void (*free_payload)(void *payload))
{
	uint32_t h, i;
	struct hdr *hd;

	if (klen > t->keyroom)
		klen = t->keyroom;	/* callers size keys; never happens */
	h = hash(t, key, klen);
	i = find(t, key, klen, h);
	if (i != NONE) {
		hd = H(t, i);
		hd->seen = now;
		if (t->mark == i)
			t->mark = hd->older;	/* (NONE when it was the oldest: every key has changed) */
		if (t->newest != i) {
			lru_unlink(t, i);
			lru_push(t, i);
		}
		*created = 0;
		return PL(t, i);
	}
	if (t->freelist == NONE && t->used == t->cap) {
		t->st.evicted++;
		remove_slot(t, victim(t), free_payload);
	} else if (t->st.size >= nbuckets(t) && t->shift > 2) {
		grow_index(t);
	}
	if (t->freelist != NONE) {
		i = t->freelist;
		t->freelist = H(t, i)->newer;
	} else
		i = t->used++;
	hd = H(t, i);
	memset(hd, 0, t->stride);
	hd->klen = (uint8_t)klen;
	hd->tag = (uint8_t)h;
	hd->live = 1;
	hd->seen = now;
	memcpy(KEY(t, i), key, klen);
	hd->hnext = *bucket_of(t, h);
	*bucket_of(t, h) = i + 1;
	lru_push(t, i);
	t->st.inserted++;
	if (++t->st.size > t->st.peak)
		t->st.peak = t->st.size;
	*created = 1;
	return PL(t, i);
}

int
keytab_expire(struct keytab *t, int64_t before, int max, void (*free_payload)(void *payload))
{
	int n = 0;

	while (n < max && t->oldest != NONE && H(t, t->oldest)->seen < before) {
		remove_slot(t, t->oldest, free_payload);
		t->st.expired++;
		n++;
	}
	return n;
}

void
keytab_reserve_index(struct keytab *t, size_t buckets)
{
	while (nbuckets(t) < buckets && t->shift > 2)
		grow_index(t);
}

int
keytab_del(struct keytab *t, const void *key, size_t klen, void (*free_payload)(void *payload))
{
	uint32_t i;

	if (klen > t->keyroom)
		return 0;
	if ((i = find(t, key, klen, hash(t, key, klen))) == NONE)
		return 0;
	remove_slot(t, i, free_payload);
	return 1;
}

uint32_t
keytab_chain_max(const struct keytab *t)
{
	uint32_t longest = 0;

	for (size_t b = 0; b < nbuckets(t); b++) {
		uint32_t n = 0;

		for (uint32_t i = t->bucket[b]; i != 0; i = H(t, i - 1)->hnext)
			n++;
		if (n > longest)
			longest = n;
	}
	return longest;
}

const uint8_t *
keytab_key(const struct keytab *t, const void *payload, size_t *klen)
{
	uint32_t i = slot_of(t, payload);

	*klen = H(t, i)->klen;
	return KEY(t, i);
}

void
keytab_foreach(struct keytab *t, void (*fn)(void *arg, void *payload), void *arg)
{
	for (uint32_t i = t->oldest; i != NONE; i = H(t, i)->newer)
		fn(arg, PL(t, i));
}

void
keytab_set_score(struct keytab *t, uint64_t (*score)(const void *payload))
{
	t->score = score;
}

struct keytab_stats
keytab_stats(const struct keytab *t)
{
	return t->st;
}

size_t
keytab_bytes_per_key(const struct keytab *t)
{
	/* The slot, and at most two index entries per key (load between 1/2 and 1). */
	return t->stride + 2 * sizeof(uint32_t);
}

int64_t
keytab_seen(const struct keytab *t, const void *payload)
{
	return H(t, slot_of(t, payload))->seen;
}

void
keytab_track(struct keytab *t)
{
	if (t->track)
		return;
	t->track = 1;
	t->mark = NONE;
	t->gone_lost = 1;	/* nothing is known of what was saved before */
}

int
keytab_rewrite(const struct keytab *t)
{
	return !t->track || t->gone_lost;
}

int
keytab_changes(struct keytab *t, void (*changed)(void *arg, void *payload),
    void (*removed)(void *arg, const uint8_t *key, size_t klen), void *arg)
{
	int all = keytab_rewrite(t);

	if (!all)
		for (size_t o = 0; o < t->ngone; o += 1 + (size_t)t->gone[o])
			removed(arg, t->gone + o + 1, t->gone[o]);
	/* Oldest first: a saved copy sorted like the keys' arrival fills its pages (SQLite's B-tree). */
	for (uint32_t i = all || t->mark == NONE ? t->oldest : H(t, t->mark)->newer; i != NONE; i = H(t, i)->newer)
		changed(arg, PL(t, i));
	return all;
}

void
keytab_saved(struct keytab *t)
{
	int all = keytab_rewrite(t);

	for (uint32_t i = t->newest; i != NONE && (all || i != t->mark); i = H(t, i)->older)
		H(t, i)->saved = 1;
	t->mark = t->newest;
	t->ngone = 0;
	t->gone_lost = 0;
}
