/*
 * test_keytab.c - bounded per-key state: put/get, the created flag, zeroed
 * payloads, least-recently-seen eviction, expiry from the old end,
 * free_payload on every way out, index growth, key bytes, iteration order,
 * a random sequence against a plain LRU model; and eviction by score
 * (keytab_set_score): a key with progress survives a flood of fresh keys,
 * the work is bounded to KEYTAB_EVICT_SAMPLE keys, and a random sequence
 * against a model of the policy; keys shaped as an attacker would choose
 * them (consecutive addresses and /64s, HELO names that differ in one
 * byte, every length) spread over the index, and keytab_del.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/keytab.h"

struct pl {
	uint32_t id;		/* set by the test after creation */
	uint32_t hits;
	uint64_t junk[3];	/* a payload that is not a multiple of 8 once the id is counted */
	uint8_t tail;
};

/* Every payload freed, in order, by id. */
static uint32_t freed[4096];
static int nfreed;

static void
record_free(void *payload)
{
	struct pl *p = payload;

	if (nfreed < (int)(sizeof(freed) / sizeof(freed[0])))
		freed[nfreed] = p->id;
	nfreed++;
	p->id = 0xdeadbeef;	/* a freed payload must not be read again */
}

static int
free_tab(void **state)
{
	keytab_free(*state, NULL);
	*state = NULL;
	return 0;
}

static struct keytab *
tab(void **state, uint32_t cap, size_t payload, size_t keymax)
{
	keytab_free(*state, NULL);
	*state = keytab_new(cap, payload, keymax);
	assert_non_null(*state);
	nfreed = 0;
	return *state;
}

static size_t
K(char buf[32], unsigned i)
{
	return (size_t)snprintf(buf, 32, "key-%u", i);
}

static struct pl *
put(struct keytab *t, unsigned i, int64_t now, int *created)
{
	char b[32];
	size_t n = K(b, i);
	int c = -1;
	struct pl *p = keytab_put(t, b, n, now, &c, record_free);

	assert_non_null(p);
	assert_true(c == 0 || c == 1);
	if (c)
		p->id = i;
	else if (p->id != i)
		fail_msg("key %u: payload holds id %u", i, p->id);
	if (created)
		*created = c;
	return p;
}

static struct pl *
get(struct keytab *t, unsigned i)
{
	char b[32];
	size_t n = K(b, i);
	struct pl *p = keytab_get(t, b, n);

	if (p != NULL && p->id != i)
		fail_msg("get %u: payload holds id %u", i, p->id);
	return p;
}

static void
test_put_get(void **state)
{
	struct keytab *t = tab(state, 100, sizeof(struct pl), 32);
	struct pl *p, *q;
	int created = -1;
	struct keytab_stats st;

	assert_null(keytab_get(t, "alpha", 5));
	p = keytab_put(t, "alpha", 5, 1000, &created, NULL);
	assert_non_null(p);
	assert_int_equal(created, 1);
	p->id = 1;
	p->hits = 7;
	p->tail = 0x5a;

	q = keytab_put(t, "alpha", 5, 1001, &created, NULL);
	assert_ptr_equal(p, q);
	assert_int_equal(created, 0);
	assert_int_equal(q->hits, 7);
	assert_int_equal(q->tail, 0x5a);
	assert_ptr_equal(keytab_get(t, "alpha", 5), p);

	/* exact bytes and length */
	assert_null(keytab_get(t, "alph", 4));
	assert_null(keytab_get(t, "alphaa", 6));
	assert_null(keytab_get(t, "ALPHA", 5));
	assert_null(keytab_get(t, "", 0));

	/* binary keys: NULs inside, keys that are prefixes of each other */
	static const uint8_t k1[] = { 4, 32, 192, 0, 2, 1 }, k2[] = { 4, 32, 192, 0, 2, 1, 0 },
	    k3[] = { 4, 32, 192, 0, 2 };
	struct pl *a = keytab_put(t, k1, sizeof(k1), 1002, &created, NULL);

	assert_int_equal(created, 1);
	a->id = 11;
	struct pl *b = keytab_put(t, k2, sizeof(k2), 1002, &created, NULL);

	assert_int_equal(created, 1);
	b->id = 12;
	struct pl *c = keytab_put(t, k3, sizeof(k3), 1002, &created, NULL);

	assert_int_equal(created, 1);
	c->id = 13;
	assert_ptr_not_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_int_equal(((struct pl *)keytab_get(t, k1, sizeof(k1)))->id, 11);
	assert_int_equal(((struct pl *)keytab_get(t, k2, sizeof(k2)))->id, 12);
	assert_int_equal(((struct pl *)keytab_get(t, k3, sizeof(k3)))->id, 13);

	/* the empty key is a key */
	struct pl *e = keytab_put(t, "", 0, 1003, &created, NULL);

	assert_int_equal(created, 1);
	e->id = 14;
	assert_ptr_equal(keytab_get(t, "", 0), e);

	/* a key of keymax bytes */
	char longk[32];

	memset(longk, 'L', sizeof(longk));
	struct pl *l = keytab_put(t, longk, 32, 1004, &created, NULL);

	assert_int_equal(created, 1);
	l->id = 15;
	assert_ptr_equal(keytab_get(t, longk, 32), l);
	assert_null(keytab_get(t, longk, 31));
	/* longer than keymax: never stored, so never found */
	assert_null(keytab_get(t, "0123456789012345678901234567890123456789", 40));

	st = keytab_stats(t);
	assert_int_equal(st.size, 6);
	assert_int_equal(st.inserted, 6);
	assert_int_equal(st.peak, 6);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.expired, 0);
	assert_true(keytab_bytes_per_key(t) >= sizeof(struct pl) + 32);
}

static void
test_payload_zeroed(void **state)
{
	struct keytab *t = tab(state, 16, sizeof(struct pl), 16);
	int created;

	/* fill a table, dirty every payload, then churn: every new payload is zero */
	for (unsigned i = 0; i < 200; i++) {
		char b[32];
		size_t n = K(b, i);
		struct pl *p = keytab_put(t, b, n, i, &created, NULL), zero;

		assert_int_equal(created, 1);
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(p, &zero, sizeof(zero));
		memset(p, 0xff, sizeof(*p));
	}
	/* also after expiry (slots come back from the free list) */
	assert_int_equal(keytab_expire(t, 1000, 100, NULL), 16);
	for (unsigned i = 1000; i < 1016; i++) {
		char b[32];
		size_t n = K(b, i);
		struct pl *p = keytab_put(t, b, n, i, &created, NULL), zero;

		assert_int_equal(created, 1);
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(p, &zero, sizeof(zero));
		memset(p, 0xff, sizeof(*p));
	}
}

static void
test_lru_eviction(void **state)
{
	struct keytab *t = tab(state, 16, sizeof(struct pl), 16);
	int created;
	struct keytab_stats st;

	for (unsigned i = 0; i < 16; i++)
		put(t, i, 100 + i, &created);
	assert_int_equal(keytab_stats(t).size, 16);
	assert_int_equal(nfreed, 0);

	/* a put of an existing key refreshes it: key 0 is now the most recent */
	put(t, 0, 200, &created);
	assert_int_equal(created, 0);
	/* a get does not: key 1 stays the least recent */
	assert_non_null(get(t, 1));

	put(t, 16, 201, &created);
	assert_int_equal(created, 1);
	assert_null(get(t, 1));
	assert_non_null(get(t, 0));
	assert_int_equal(nfreed, 1);
	assert_int_equal(freed[0], 1);
	st = keytab_stats(t);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(st.size, 16);
	assert_int_equal(st.inserted, 17);

	/* then 2, 3, ... in order of last sighting */
	put(t, 5, 202, NULL);	/* refresh 5 */
	for (unsigned i = 17; i < 21; i++)
		put(t, i, 203, &created);
	/* evicted: 2, 3, 4, then 6 (5 was refreshed) */
	assert_int_equal(nfreed, 5);
	assert_int_equal(freed[1], 2);
	assert_int_equal(freed[2], 3);
	assert_int_equal(freed[3], 4);
	assert_int_equal(freed[4], 6);
	assert_non_null(get(t, 5));
	assert_null(get(t, 6));
	assert_non_null(get(t, 7));
	st = keytab_stats(t);
	assert_int_equal(st.evicted, 5);
	assert_int_equal(st.size, 16);
	assert_int_equal(st.peak, 16);

	/* an evicted key comes back as a new key */
	put(t, 1, 204, &created);
	assert_int_equal(created, 1);
	assert_int_equal(freed[5], 7);
}

static void
test_expire(void **state)
{
	struct keytab *t = tab(state, 100, sizeof(struct pl), 16);
	struct keytab_stats st;

	/* keys 0..9 seen at 10, 20, ..., 100 */
	for (unsigned i = 0; i < 10; i++)
		put(t, i, 10 * (i + 1), NULL);
	/* key 2 seen again at 105 */
	put(t, 2, 105, NULL);

	/* nothing before 10 */
	assert_int_equal(keytab_expire(t, 10, 100, record_free), 0);
	assert_int_equal(nfreed, 0);
	/* before 41: keys 0, 1, 3 (seen 10, 20, 40); 2 was seen at 105 - but the limit is 2 */
	assert_int_equal(keytab_expire(t, 41, 2, record_free), 2);
	assert_int_equal(nfreed, 2);
	assert_int_equal(freed[0], 0);
	assert_int_equal(freed[1], 1);
	assert_non_null(get(t, 2));
	assert_non_null(get(t, 3));
	assert_int_equal(keytab_expire(t, 41, 100, record_free), 1);
	assert_int_equal(freed[2], 3);
	assert_non_null(get(t, 2));
	assert_non_null(get(t, 4));	/* seen at 50 */
	/* the cutoff is strict: seen at 50 is not before 50 */
	assert_int_equal(keytab_expire(t, 50, 100, record_free), 0);
	assert_int_equal(keytab_expire(t, 51, 100, record_free), 1);
	assert_int_equal(freed[3], 4);
	/* max 0 does nothing */
	assert_int_equal(keytab_expire(t, 1000, 0, record_free), 0);
	st = keytab_stats(t);
	assert_int_equal(st.expired, 4);
	assert_int_equal(st.size, 6);
	assert_int_equal(st.evicted, 0);
	/* everything; oldest first: 5..9 (60..100), then 2 (105) */
	assert_int_equal(keytab_expire(t, 1000, 100, record_free), 6);
	assert_int_equal(nfreed, 10);
	for (int i = 0; i < 5; i++)
		assert_int_equal(freed[4 + i], 5 + i);
	assert_int_equal(freed[9], 2);
	assert_int_equal(keytab_stats(t).size, 0);
	assert_int_equal(keytab_stats(t).expired, 10);
	assert_int_equal(keytab_expire(t, 1000, 100, record_free), 0);

	/* the table works on after being emptied */
	for (unsigned i = 100; i < 150; i++)
		put(t, i, 2000, NULL);
	for (unsigned i = 100; i < 150; i++)
		assert_non_null(get(t, i));
	assert_null(get(t, 2));
	assert_int_equal(keytab_stats(t).size, 50);
	/* peak counts at most what was there at once */
	assert_int_equal(keytab_stats(t).peak, 50);
}

static void
test_free_payload_everywhere(void **state)
{
	struct keytab *t = tab(state, 16, sizeof(struct pl), 16);
	int seen[40];

	for (unsigned i = 0; i < 20; i++)	/* 4 evictions: 0..3 */
		put(t, i, i, NULL);
	assert_int_equal(keytab_expire(t, 6, 100, record_free), 2);	/* 4, 5 */
	assert_int_equal(nfreed, 6);
	/* free the rest through keytab_free: the 14 remaining, each once */
	keytab_free(t, record_free);
	*state = NULL;
	assert_int_equal(nfreed, 20);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 20; i++) {
		assert_true(freed[i] < 20);
		seen[freed[i]]++;
	}
	for (int i = 0; i < 20; i++)
		assert_int_equal(seen[i], 1);
	keytab_free(NULL, record_free);
}

/* Payloads that own memory: under ASan a missed free_payload is a leak. */
struct owning {
	char *buf;
};

static void
free_owning(void *payload)
{
	struct owning *o = payload;

	free(o->buf);
	o->buf = NULL;
}

static void
test_free_payload_no_leak(void **state)
{
	struct keytab *t = tab(state, 32, sizeof(struct owning), 16);

	for (unsigned i = 0; i < 500; i++) {
		char b[32];
		size_t n = K(b, i % 100);
		int created;
		struct owning *o = keytab_put(t, b, n, i, &created, free_owning);

		if (created) {
			assert_null(o->buf);
			o->buf = malloc(64);
			assert_non_null(o->buf);
		} else
			assert_non_null(o->buf);
		if (i % 7 == 0)
			keytab_expire(t, (int64_t)i - 20, 3, free_owning);
	}
	keytab_free(t, free_owning);
	*state = NULL;
}

static void
test_index_grows(void **state)
{
	enum { N = 200000 };
	struct keytab *t = tab(state, 1000000, sizeof(struct pl), 16);
	struct keytab_stats st;

	for (unsigned i = 0; i < N; i++) {
		int created;

		put(t, i, i, &created);
		assert_int_equal(created, 1);
	}
	for (unsigned i = 0; i < N; i++) {
		struct pl *p = get(t, i);

		if (p == NULL)
			fail_msg("key %u lost", i);
	}
	for (unsigned i = N; i < N + 1000; i++)
		assert_null(get(t, i));
	/* refreshing keeps them all: no duplicates */
	for (unsigned i = 0; i < N; i += 3) {
		int created;

		put(t, i, N + i, &created);
		assert_int_equal(created, 0);
	}
	st = keytab_stats(t);
	assert_int_equal(st.size, N);
	assert_int_equal(st.inserted, N);
	assert_int_equal(st.evicted, 0);
	/* expiring the old half keeps the index right for the rest */
	assert_int_equal(keytab_expire(t, N / 2, N, record_free), N / 2 - (N / 2 + 2) / 3);
	for (unsigned i = 0; i < N; i++) {
		int present = get(t, i) != NULL;
		int want = i >= N / 2 || i % 3 == 0;

		if (present != want)
			fail_msg("key %u: present %d, want %d", i, present, want);
	}
}

static void
test_keytab_key(void **state)
{
	struct keytab *t = tab(state, 64, 24, 40);
	static const uint8_t bin[] = { 6, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0 };
	const uint8_t *k;
	size_t klen = 999;
	int created;
	void *p1 = keytab_put(t, "evil.example", 12, 1, &created, NULL);
	void *p2 = keytab_put(t, bin, sizeof(bin), 1, &created, NULL);
	void *p3 = keytab_put(t, "", 0, 1, &created, NULL);

	k = keytab_key(t, p1, &klen);
	assert_int_equal(klen, 12);
	assert_memory_equal(k, "evil.example", 12);
	k = keytab_key(t, p2, &klen);
	assert_int_equal(klen, sizeof(bin));
	assert_memory_equal(k, bin, sizeof(bin));
	k = keytab_key(t, p3, &klen);
	assert_int_equal(klen, 0);
	/* the key does not alias the payload */
	memset(p1, 0xee, 24);
	k = keytab_key(t, p1, &klen);
	assert_memory_equal(k, "evil.example", 12);
	/* still right for many keys (slots far into the array) */
	for (unsigned i = 0; i < 60; i++) {
		char b[32];
		size_t n = K(b, i);
		void *p = keytab_put(t, b, n, 2, &created, NULL);

		k = keytab_key(t, p, &klen);
		assert_int_equal(klen, n);
		assert_memory_equal(k, b, n);
	}
}

struct order {
	uint32_t ids[64];
	int n;
};

static void
collect(void *arg, void *payload)
{
	struct order *o = arg;

	if (o->n < 64)
		o->ids[o->n] = ((struct pl *)payload)->id;
	o->n++;
}

static void
test_foreach(void **state)
{
	struct keytab *t = tab(state, 16, sizeof(struct pl), 16);
	struct order o = { .n = 0 };

	keytab_foreach(t, collect, &o);
	assert_int_equal(o.n, 0);

	for (unsigned i = 0; i < 10; i++)
		put(t, i, i, NULL);
	put(t, 3, 20, NULL);
	put(t, 0, 21, NULL);
	put(t, 7, 22, NULL);
	assert_int_equal(keytab_expire(t, 3, 100, NULL), 2);	/* 1 and 2 (seen at 1 and 2) */
	o.n = 0;
	keytab_foreach(t, collect, &o);
	{
		static const uint32_t want[] = { 4, 5, 6, 8, 9, 3, 0, 7 };

		assert_int_equal(o.n, 8);
		for (int i = 0; i < 8; i++)
			assert_int_equal(o.ids[i], want[i]);
	}

	/* after evictions: the 16 newest, oldest first */
	for (unsigned i = 100; i < 130; i++)
		put(t, i, i, NULL);
	o.n = 0;
	keytab_foreach(t, collect, &o);
	assert_int_equal(o.n, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(o.ids[i], 114 + i);
}

/* --------------------------------------------------------- model --- */

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A plain model: keys in order of last sighting, oldest first. */
struct model {
	unsigned key[64];
	int64_t seen[64];
	int n;
};

static int
model_find(const struct model *m, unsigned k)
{
	for (int i = 0; i < m->n; i++)
		if (m->key[i] == k)
			return i;
	return -1;
}

static void
model_remove(struct model *m, int i)
{
	memmove(m->key + i, m->key + i + 1, (size_t)(m->n - i - 1) * sizeof(m->key[0]));
	memmove(m->seen + i, m->seen + i + 1, (size_t)(m->n - i - 1) * sizeof(m->seen[0]));
	m->n--;
}

static void
test_random_vs_model(void **state)
{
	const int cap = 24;
	struct keytab *t = tab(state, (uint32_t)cap, sizeof(struct pl), 16);
	struct model m = { .n = 0 };
	int64_t now = 0;
	uint64_t evicted = 0, expired = 0;

	rng_state = 7;
	for (int step = 0; step < 200000; step++) {
		unsigned r = (unsigned)(rnd() % 100);
		unsigned k = (unsigned)(rnd() % 60);

		now += (int64_t)(rnd() % 3);
		if (r < 70) {
			int created, i = model_find(&m, k);

			nfreed = 0;
			put(t, k, now, &created);
			if (i >= 0) {
				assert_int_equal(created, 0);
				model_remove(&m, i);
			} else {
				assert_int_equal(created, 1);
				if (m.n == cap) {
					assert_int_equal(nfreed, 1);
					assert_int_equal(freed[0], m.key[0]);
					model_remove(&m, 0);
					evicted++;
				} else
					assert_int_equal(nfreed, 0);
			}
			m.key[m.n] = k;
			m.seen[m.n] = now;
			m.n++;
		} else if (r < 90) {
			struct pl *p = get(t, k);

			assert_int_equal(p != NULL, model_find(&m, k) >= 0);
		} else {
			int64_t before = now - (int64_t)(rnd() % 40);
			int max = (int)(rnd() % 5), want = 0, got;

			nfreed = 0;
			got = keytab_expire(t, before, max, record_free);
			/* the model: the oldest keys seen before the cutoff, at most max */
			while (want < max && m.n > 0 && m.seen[0] < before) {
				if (want >= nfreed)
					fail_msg("step %d: key %u (seen %lld) not expired before %lld", step, m.key[0],
					    (long long)m.seen[0], (long long)before);
				assert_int_equal(freed[want], m.key[0]);
				model_remove(&m, 0);
				want++;
			}
			assert_int_equal(got, want);
			assert_int_equal(nfreed, want);
			expired += (uint64_t)want;
		}
		if (step % 1000 == 0) {
			struct keytab_stats st = keytab_stats(t);

			assert_int_equal(st.size, (uint64_t)m.n);
			assert_int_equal(st.evicted, evicted);
			assert_int_equal(st.expired, expired);
		}
		if (step % 5000 == 0) {
			struct order o = { .n = 0 };

			keytab_foreach(t, collect, &o);
			assert_int_equal(o.n, m.n);
			for (int i = 0; i < m.n; i++)
				assert_int_equal(o.ids[i], m.key[i]);
		}
	}
}

static uint64_t
score_zero(const void *payload)
{
	(void)payload;
	return 0;
}

/*
 * Keys a little longer than KEYTAB_KEYMAX fit when the slot's rounding
 * leaves room (payload 8, keymax 60: 64 bytes of key). Looking them up
 * again and again (the last-key hash cache) finds them, and under ASan
 * shows nothing is copied past the cache.
 */
static void
test_long_keys_and_cache(void **state)
{
	struct keytab *t = tab(state, 16, 8, KEYTAB_KEYMAX);
	uint8_t k[4][64];
	int created;

	keytab_set_score(t, score_zero);	/* a pointer beside the cache: an overrun would break it */

	for (int i = 0; i < 4; i++) {
		memset(k[i], 'a' + i, sizeof(k[i]));
		assert_non_null(keytab_put(t, k[i], 61 + (size_t)i, 1, &created, NULL));
		assert_int_equal(created, 1);
	}
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 4; i++) {
			assert_non_null(keytab_get(t, k[i], 61 + (size_t)i));
			assert_non_null(keytab_get(t, k[i], 61 + (size_t)i));
			assert_null(keytab_get(t, k[i], 60));
			assert_non_null(keytab_put(t, k[i], 61 + (size_t)i, 2, &created, NULL));
			assert_int_equal(created, 0);
		}
	assert_int_equal(keytab_stats(t).size, 4);
	/* the same bytes at another length are another key, cached or not */
	assert_non_null(keytab_put(t, k[0], 8, 3, &created, NULL));
	assert_int_equal(created, 1);
	assert_non_null(keytab_put(t, k[0], 9, 3, &created, NULL));
	assert_int_equal(created, 1);
	assert_non_null(keytab_get(t, k[0], 8));
	assert_int_equal(keytab_stats(t).size, 6);
	/* evictions call the score function */
	for (unsigned i = 0; i < 20; i++)
		put(t, i, 4, NULL);
	assert_int_equal(keytab_stats(t).evicted, 10);
}

/* --------------------------------------------------- eviction by score --- */

static uint64_t
score_hits(const void *payload)
{
	return ((const struct pl *)payload)->hits;
}

/*
 * A key 19 steps into its count survives ten times the cap of one-step
 * keys; the fresh keys go in the order they came; among equal scores the
 * least recently seen goes.
 */
static void
test_score_keeps_progress(void **state)
{
	struct keytab *t = tab(state, 16, sizeof(struct pl), 16);

	keytab_set_score(t, score_hits);
	put(t, 0, 1, NULL)->hits = 19;
	for (unsigned i = 1; i <= 160; i++) {
		put(t, i, 2, NULL)->hits = 1;
		assert_non_null(get(t, 0));
	}
	assert_int_equal(keytab_stats(t).evicted, 161 - 16);
	assert_int_equal(nfreed, 161 - 16);
	for (int i = 0; i < nfreed; i++)
		assert_int_equal(freed[i], (unsigned)i + 1);
	/* key 0 is still the least recently seen, and still there */
	put(t, 0, 3, NULL)->hits++;
	assert_int_equal(get(t, 0)->hits, 20);

	/* no score function: least recently seen out, whatever the payload says */
	t = tab(state, 16, sizeof(struct pl), 16);
	put(t, 0, 1, NULL)->hits = 19;
	for (unsigned i = 1; i <= 16; i++)
		put(t, i, 2, NULL)->hits = 1;
	assert_null(get(t, 0));
	assert_int_equal(freed[0], 0);
}

/*
 * Bounded work: only the KEYTAB_EVICT_SAMPLE least recently seen keys are
 * candidates. When they all score higher than a newer key, the lowest of
 * them goes, not the newer key; a score of 0 is taken at once.
 */
static void
test_score_sample_bounded(void **state)
{
	struct keytab *t = tab(state, 16, sizeof(struct pl), 16);

	keytab_set_score(t, score_hits);
	for (unsigned i = 0; i < KEYTAB_EVICT_SAMPLE; i++)
		put(t, i, 1, NULL)->hits = 10 + (i == 3 ? 0 : 5);	/* key 3: the lowest of the sample */
	for (unsigned i = KEYTAB_EVICT_SAMPLE; i < 16; i++)
		put(t, i, 2, NULL)->hits = 1;	/* lower, but newer than the sample */
	put(t, 100, 3, NULL)->hits = 1;
	assert_int_equal(nfreed, 1);
	assert_int_equal(freed[0], 3);
	/* a zero score (a window emptied by a decision) goes first, the oldest of them */
	get(t, 5)->hits = 0;
	get(t, 6)->hits = 0;
	put(t, 101, 4, NULL)->hits = 1;
	assert_int_equal(nfreed, 2);
	assert_int_equal(freed[1], 5);
}

/* The policy as a model: of the oldest KEYTAB_EVICT_SAMPLE, the lowest score, oldest first. */
static void
test_score_random_vs_model(void **state)
{
	const int cap = 24;
	struct keytab *t = tab(state, (uint32_t)cap, sizeof(struct pl), 16);
	struct model m = { .n = 0 };
	uint32_t hits[64] = { 0 };
	int64_t now = 0;

	keytab_set_score(t, score_hits);
	rng_state = 11;
	for (int step = 0; step < 100000; step++) {
		unsigned k = (unsigned)(rnd() % 60);
		int created, i = model_find(&m, k);
		struct pl *p;

		now++;
		nfreed = 0;
		p = put(t, k, now, &created);
		if (i >= 0) {
			assert_int_equal(created, 0);
			model_remove(&m, i);
		} else {
			assert_int_equal(created, 1);
			hits[k] = 0;
			if (m.n == cap) {
				int v = 0;

				for (int j = 1; j < KEYTAB_EVICT_SAMPLE && hits[m.key[v]] > 0; j++)
					if (hits[m.key[j]] < hits[m.key[v]])
						v = j;
				assert_int_equal(nfreed, 1);
				assert_int_equal(freed[0], m.key[v]);
				model_remove(&m, v);
			} else
				assert_int_equal(nfreed, 0);
		}
		/* most keys stay low, a few climb */
		p->hits = hits[k] = hits[k] + (k % 7 == 0 ? 3 : (unsigned)(rnd() % 2));
		m.key[m.n] = k;
		m.seen[m.n] = now;
		m.n++;
	}
}

/*
 * Saving incrementally: a copy kept only from what keytab_changes reports
 * (and emptied when it says "everything") holds exactly the table's keys
 * after every save, through random puts, expiry, eviction at the cap and
 * a clear; and a save reports no more than what changed.
 */
#define SAVE_KEYS 512

struct saved_copy {
	uint8_t have[SAVE_KEYS];	/* key k (a 2-byte key) is in the copy */
	int changed, removed;
	const struct keytab *t;
};

static void
copy_changed(void *arg, void *payload)
{
	struct saved_copy *c = arg;
	size_t klen;
	const uint8_t *k = keytab_key(c->t, payload, &klen);

	assert_int_equal(klen, 2);
	c->have[(k[0] << 8 | k[1]) % SAVE_KEYS] = 1;
	c->changed++;
}

static void
copy_removed(void *arg, const uint8_t *key, size_t klen)
{
	struct saved_copy *c = arg;

	assert_int_equal(klen, 2);
	c->have[(key[0] << 8 | key[1]) % SAVE_KEYS] = 0;
	c->removed++;
}

static void
test_track_changes(void **state)
{
	struct keytab *t = tab(state, 200, sizeof(uint32_t), 2);
	struct saved_copy c = { .t = t };
	int64_t now = 1000;

	int touched[SAVE_KEYS] = { 0 }, ntouched = 0, all;	/* keys put since the last save */

	keytab_track(t);
	srand(7);
	for (int round = 0; round < 400; round++) {
		int puts = rand() % 40;

		for (int i = 0; i < puts; i++) {
			int k = rand() % SAVE_KEYS, created;
			uint8_t key[2] = { (uint8_t)(k >> 8), (uint8_t)k };

			keytab_put(t, key, 2, now++, &created, NULL);
			if (!touched[k]++)
				ntouched++;
		}
		if (rand() % 5 == 0)
			keytab_expire(t, now - 300, rand() % 50, NULL);
		if (round == 200)
			keytab_clear(t);
		if (rand() % 3 == 0)
			continue;	/* several rounds between two saves */
		c.changed = c.removed = 0;
		all = keytab_rewrite(t);
		if (all)
			memset(c.have, 0, sizeof(c.have));
		assert_int_equal(keytab_changes(t, copy_changed, copy_removed, &c), all);
		keytab_saved(t);
		for (int k = 0; k < SAVE_KEYS; k++) {
			uint8_t key[2] = { (uint8_t)(k >> 8), (uint8_t)k };

			if (c.have[k] != (keytab_get(t, key, 2) != NULL))
				fail_msg("round %d: key %d: copy %d, table %d", round, k, c.have[k], keytab_get(t, key, 2) != NULL);
		}
		if (!all && c.changed > ntouched)	/* (the first save, and the one after the clear, write all) */
			fail_msg("round %d: %d keys reported changed, at most %d were put", round, c.changed, ntouched);
		memset(touched, 0, sizeof(touched));
		ntouched = 0;
	}
	/* Nothing changed since the last save: nothing to write. */
	c.changed = c.removed = 0;
	keytab_changes(t, copy_changed, copy_removed, &c);
	keytab_saved(t);
	c.changed = c.removed = 0;
	assert_int_equal(keytab_rewrite(t), 0);
	keytab_changes(t, copy_changed, copy_removed, &c);
	assert_int_equal(c.changed + c.removed, 0);
}

/*
 * Keys an attacker chooses, shaped to collide under any hash that keeps
 * some of their bits as they are: consecutive IPv4 addresses and IPv6 /64
 * prefixes (the engine's client keys), 16-byte addresses that differ in
 * one word, and names of every length up to the slot's that differ in one
 * byte. The index is keyed (vector multiply-shift under the process's
 * secret): 65,536 of each spread over the buckets, a few per chain where
 * a hash blind to the varying bytes would make one chain of all of them.
 * Half are then deleted (keytab_del) through their chains.
 */
static void
test_adversarial_keys_spread(void **state)
{
	enum { N = 65536 };

	for (int shape = 0; shape < 5; shape++) {
		struct keytab *t = tab(state, N, 8, KEYTAB_KEYMAX);
		uint8_t k[KEYTAB_KEYMAX + 4];
		size_t klen = 0;
		uint32_t longest;
		int created;

		for (int pass = 0; pass < 3; pass++)
			for (uint32_t i = 0; i < N; i++) {
				memset(k, 'h', sizeof(k));
				switch (shape) {
				case 0:	/* 198.51.x.y, then beyond */
					k[0] = 198; k[1] = 51; k[2] = (uint8_t)(i >> 8); k[3] = (uint8_t)i;
					klen = 4;
					break;
				case 1:	/* 2001:db8:0:i::/64 */
					memset(k, 0, 8);
					k[0] = 0x20; k[1] = 0x01; k[2] = 0x0d; k[3] = 0xb8;
					k[6] = (uint8_t)(i >> 8); k[7] = (uint8_t)i;
					klen = 8;
					break;
				case 2:	/* 2001:db8::i<<32: only the fourth word varies */
					memset(k, 0, 16);
					k[0] = 0x20; k[1] = 0x01; k[2] = 0x0d; k[3] = 0xb8;
					memcpy(k + 8, &i, 4);
					klen = 16;
					break;
				case 3:	/* a long HELO name differing in two bytes in its middle */
					k[30] = (uint8_t)i; k[31] = (uint8_t)(i >> 8);
					klen = KEYTAB_KEYMAX;
					break;
				default:	/* every length from 2 to the slot's, the varying bytes last */
					klen = 2 + i % (KEYTAB_KEYMAX + 3);
					k[klen - 1] = (uint8_t)(i / (KEYTAB_KEYMAX + 3));
					k[klen - 2] = (uint8_t)(i / (KEYTAB_KEYMAX + 3) >> 8);
					break;
				}
				if (pass == 0) {
					assert_non_null(keytab_put(t, k, klen, 1, &created, NULL));
					if (!created)
						fail_msg("key shape %d: key %u taken for another", shape, i);
				} else if (pass == 1) {
					if (i % 2 == 0)
						assert_int_equal(keytab_del(t, k, klen, NULL), 1);
				} else {
					assert_int_equal(keytab_get(t, k, klen) != NULL, i % 2 == 1);
					assert_int_equal(keytab_del(t, k, klen, NULL), i % 2 == 1);
				}
				if (pass == 0 && i == N - 1) {
					assert_int_equal(keytab_stats(t).size, N);
					longest = keytab_chain_max(t);
					/* 65,536 buckets at load 1: about 8 at random */
					if (longest > 16)
						fail_msg("key shape %d: a chain of %u", shape, longest);
				}
			}
		assert_int_equal(keytab_stats(t).size, 0);
		assert_int_equal(keytab_stats(t).evicted, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_put_get, free_tab),
		cmocka_unit_test_teardown(test_payload_zeroed, free_tab),
		cmocka_unit_test_teardown(test_lru_eviction, free_tab),
		cmocka_unit_test_teardown(test_expire, free_tab),
		cmocka_unit_test_teardown(test_free_payload_everywhere, free_tab),
		cmocka_unit_test_teardown(test_free_payload_no_leak, free_tab),
		cmocka_unit_test_teardown(test_index_grows, free_tab),
		cmocka_unit_test_teardown(test_keytab_key, free_tab),
		cmocka_unit_test_teardown(test_foreach, free_tab),
		cmocka_unit_test_teardown(test_random_vs_model, free_tab),
		cmocka_unit_test_teardown(test_long_keys_and_cache, free_tab),
		cmocka_unit_test_teardown(test_score_keeps_progress, free_tab),
		cmocka_unit_test_teardown(test_score_sample_bounded, free_tab),
		cmocka_unit_test_teardown(test_score_random_vs_model, free_tab),
		cmocka_unit_test_teardown(test_track_changes, free_tab),
		cmocka_unit_test_teardown(test_adversarial_keys_spread, free_tab),
	};

	return cmocka_run_group_tests_name("keytab", tests, NULL, NULL);
}
