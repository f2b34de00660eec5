/*
 * test_corr.c - the bounded correlation table: put/get/del, replacement,
 * key limits, TTL, capacity and eviction, slot reuse, floods, collisions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../parsers/corr.h"

/* Tables live in *state so that a failed assertion does not leak them. */
static int
free_table(void **state)
{
	corr_free(*state);
	*state = NULL;
	return 0;
}

static struct corr_table *
table(void **state, uint32_t cap, int64_t ttl)
{
	corr_free(*state);
	*state = corr_new(cap, ttl);
	assert_non_null(*state);
	return *state;
}

static struct span
K(const char *s)
{
	return (struct span){ s, strlen(s) };
}

/* "Q%08u": a distinct 9-byte key per number, in a caller buffer. */
static struct span
numkey(char buf[16], unsigned i)
{
	int n = snprintf(buf, 16, "Q%08u", i);

	return (struct span){ buf, (size_t)n };
}

static int
has(struct corr_table *t, unsigned i, int64_t now)
{
	char b[16];

	return corr_get(t, numkey(b, i), now) != NULL;
}

static void
test_put_get_del(void **state)
{
	struct corr_table *t = table(state, 64, 3600);
	struct corr_entry *e;
	struct corr_stats st;

		assert_null(corr_get(t, K("A81D2C0F3B"), 100));
	e = corr_put(t, K("A81D2C0F3B"), 100);
	assert_non_null(e);
	assert_int_equal(e->ts, 100);
	assert_int_equal(e->ip.family, 0);
	assert_int_equal(e->port, 0);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->hostlen, 0);
	{
		struct corr_record r[2];	/* the key as saved */

		assert_int_equal(corr_export(t, r, 2), 1);
		assert_int_equal(r[0].keylen, 10);
		assert_memory_equal(r[0].key, "A81D2C0F3B", 10);
		assert_int_equal(r[0].ts, 100);
	}

	/* the caller fills the entry in */
	e->ip.family = 4;
	e->ip.b[0] = 192; e->ip.b[1] = 0; e->ip.b[2] = 2; e->ip.b[3] = 203;
	e->port = 41822;
	e->flags = CORR_LOCAL;
	memcpy(e->host, "gw2.example.com", 15);
	e->hostlen = 15;

	assert_non_null(corr_put(t, K("4D91B3A2F8C4"), 101));
	e = corr_get(t, K("A81D2C0F3B"), 102);
	assert_non_null(e);
	assert_int_equal(e->ip.family, 4);
	assert_int_equal(e->ip.b[3], 203);
	assert_int_equal(e->port, 41822);
	assert_int_equal(e->flags, CORR_LOCAL);
	assert_int_equal(e->hostlen, 15);
	assert_memory_equal(e->host, "gw2.example.com", 15);
	assert_int_equal(e->ts, 100);

	/* a key is found by its exact bytes only */
	assert_null(corr_get(t, K("A81D2C0F3"), 102));
	assert_null(corr_get(t, K("A81D2C0F3B0"), 102));
	assert_null(corr_get(t, K("a81d2c0f3b"), 102));

	st = corr_stats(t);
	assert_int_equal(st.inserted, 2);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.expired, 0);

	assert_int_equal(corr_del(t, K("A81D2C0F3B")), 1);
	assert_null(corr_get(t, K("A81D2C0F3B"), 102));
	assert_int_equal(corr_del(t, K("A81D2C0F3B")), 0);
	assert_int_equal(corr_del(t, K("nothere")), 0);
	assert_non_null(corr_get(t, K("4D91B3A2F8C4"), 102));
	assert_int_equal(corr_stats(t).size, 1);

	/* deleting and re-adding the same key */
	assert_non_null(corr_put(t, K("A81D2C0F3B"), 103));
	assert_non_null(corr_get(t, K("A81D2C0F3B"), 103));
	assert_int_equal(corr_stats(t).size, 2);
	corr_free(NULL);
}

static void
test_replace(void **state)
{
	struct corr_table *t = table(state, 64, 3600);
	struct corr_entry *e;

		e = corr_put(t, K("7C19A2B0E54"), 10);
	assert_non_null(e);
	e->port = 25;
	e->flags = CORR_EMITTED;
	e->ip.family = 6;
	e->hostlen = 3;
	memcpy(e->host, "old", 3);

	e = corr_put(t, K("7C19A2B0E54"), 20);
	assert_non_null(e);
	/* a fresh entry: everything but key and ts is zero */
	assert_int_equal(e->ts, 20);
	assert_int_equal(e->port, 0);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->ip.family, 0);
	assert_int_equal(e->hostlen, 0);
	e->port = 587;

	e = corr_get(t, K("7C19A2B0E54"), 21);
	assert_non_null(e);
	assert_int_equal(e->ts, 20);
	assert_int_equal(e->port, 587);
	assert_int_equal(corr_stats(t).size, 1);
	assert_int_equal(corr_stats(t).inserted, 2);

	/* one delete removes it: no stale duplicate left in the chain */
	assert_int_equal(corr_del(t, K("7C19A2B0E54")), 1);
	assert_null(corr_get(t, K("7C19A2B0E54"), 21));
	assert_int_equal(corr_del(t, K("7C19A2B0E54")), 0);
	assert_int_equal(corr_stats(t).size, 0);
}

static void
test_key_limits(void **state)
{
	struct corr_table *t = table(state, 64, 3600);
	char k31[CORR_KEYMAX + 1], k32[CORR_KEYMAX + 2];
	struct corr_entry *e;

		memset(k31, 'x', sizeof(k31));
	memset(k32, 'x', sizeof(k32));
	assert_int_equal(CORR_KEYMAX, 31);

	e = corr_put(t, (struct span){ k31, CORR_KEYMAX }, 1);
	assert_non_null(e);
	{
		struct corr_record r[1];

		assert_int_equal(corr_export(t, r, 1), 1);
		assert_int_equal(r[0].keylen, CORR_KEYMAX);
		assert_memory_equal(r[0].key, k31, CORR_KEYMAX);
	}
	assert_non_null(corr_get(t, (struct span){ k31, CORR_KEYMAX }, 1));

	assert_null(corr_put(t, (struct span){ k32, CORR_KEYMAX + 1 }, 1));
	assert_null(corr_get(t, (struct span){ k32, CORR_KEYMAX + 1 }, 1));
	assert_int_equal(corr_del(t, (struct span){ k32, CORR_KEYMAX + 1 }), 0);
	assert_null(corr_put(t, (struct span){ k32, 1000 }, 1));
	assert_null(corr_put(t, (struct span){ "", 0 }, 1));
	assert_null(corr_get(t, (struct span){ "", 0 }, 1));
	assert_int_equal(corr_del(t, (struct span){ "", 0 }), 0);

	/* the 31-byte key is untouched by the rejected ones */
	assert_non_null(corr_get(t, (struct span){ k31, CORR_KEYMAX }, 1));
	assert_int_equal(corr_stats(t).size, 1);
	assert_int_equal(corr_stats(t).inserted, 1);

	/* keys are bytes: NULs and high bytes are fine */
	assert_non_null(corr_put(t, (struct span){ "a\0b", 3 }, 1));
	assert_non_null(corr_put(t, (struct span){ "a\0c", 3 }, 1));
	assert_non_null(corr_put(t, (struct span){ "\xff\xfe", 2 }, 1));
	assert_non_null(corr_get(t, (struct span){ "a\0b", 3 }, 1));
	assert_non_null(corr_get(t, (struct span){ "a\0c", 3 }, 1));
	assert_null(corr_get(t, (struct span){ "a\0d", 3 }, 1));
	assert_null(corr_get(t, (struct span){ "a", 1 }, 1));
	assert_non_null(corr_get(t, (struct span){ "\xff\xfe", 2 }, 1));
}

static void
test_ttl(void **state)
{
	struct corr_table *t = table(state, 64, 60);

		assert_non_null(corr_put(t, K("AAA"), 1000));
	assert_non_null(corr_get(t, K("AAA"), 1000));
	assert_non_null(corr_get(t, K("AAA"), 1060));	/* exactly ttl old: still live */
	assert_null(corr_get(t, K("AAA"), 1061));	/* older than ttl */
	assert_null(corr_get(t, K("AAA"), 100000));

	/* re-putting an expired key gives a live entry */
	assert_non_null(corr_put(t, K("AAA"), 2000));
	assert_non_null(corr_get(t, K("AAA"), 2000));
	assert_null(corr_get(t, K("AAA"), 2061));
}

/* Expired entries are swept as new ones arrive, and counted. */
static void
test_ttl_sweep(void **state)
{
	struct corr_table *t = table(state, 64, 60);
	struct corr_stats st;

		for (unsigned i = 0; i < 10; i++) {
		char b[16];

		assert_non_null(corr_put(t, numkey(b, i), 100 + i));
	}
	assert_int_equal(corr_stats(t).size, 10);
	/* at 165: entries with ts < 105 are older than 60 s */
	assert_non_null(corr_put(t, K("NEW1"), 165));
	st = corr_stats(t);
	assert_int_equal(st.expired, 5);
	assert_int_equal(st.size, 6);
	assert_int_equal(st.evicted, 0);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(has(t, i, 165), i >= 5);
	/* much later: everything older goes */
	assert_non_null(corr_put(t, K("NEW2"), 10000));
	st = corr_stats(t);
	assert_int_equal(st.expired, 11);
	assert_int_equal(st.size, 1);
	assert_non_null(corr_get(t, K("NEW2"), 10000));
}

static void
test_capacity_eviction(void **state)
{
	struct corr_table *t = table(state, 16, 1000000);
	struct corr_stats st;

		for (unsigned i = 0; i < 1000; i++) {
		char b[16];

		assert_non_null(corr_put(t, numkey(b, i), 500));
		assert_true(corr_stats(t).size <= 16);
	}
	st = corr_stats(t);
	assert_int_equal(st.size, 16);
	assert_int_equal(st.inserted, 1000);
	assert_int_equal(st.evicted, 984);
	assert_int_equal(st.expired, 0);
	for (unsigned i = 0; i < 1000; i++)
		if (has(t, i, 500) != (i >= 984))
			fail_msg("key %u: present %d", i, has(t, i, 500));
}

/* A freed slot at the oldest end is reused: no live entry is evicted. */
static void
test_deleted_oldest_slot_reused(void **state)
{
	struct corr_table *t = table(state, 16, 1000000);
	char b[16];

		for (unsigned i = 0; i < 16; i++)
		assert_non_null(corr_put(t, numkey(b, i), 1));
	assert_int_equal(corr_del(t, numkey(b, 0)), 1);
	assert_int_equal(corr_stats(t).size, 15);
	assert_non_null(corr_put(t, numkey(b, 100), 2));
	assert_int_equal(corr_stats(t).evicted, 0);
	assert_int_equal(corr_stats(t).size, 16);
	for (unsigned i = 1; i < 16; i++)
		assert_true(has(t, i, 2));
	assert_true(has(t, 100, 2));
}

/*
 * A slot freed anywhere (not just the oldest) means the table is not full:
 * the next put must not evict a live entry.
 */
static void
test_deleted_middle_slot_reused(void **state)
{
	struct corr_table *t = table(state, 16, 1000000);
	char b[16];

		for (unsigned i = 0; i < 16; i++)
		assert_non_null(corr_put(t, numkey(b, i), 1));
	assert_int_equal(corr_del(t, numkey(b, 7)), 1);
	assert_int_equal(corr_stats(t).size, 15);
	assert_non_null(corr_put(t, numkey(b, 100), 2));
	for (unsigned i = 0; i < 16; i++)
		if (i != 7 && !has(t, i, 2))
			fail_msg("live key %u was evicted although a slot was free "
			    "(evicted=%llu size=%llu)", i,
			    (unsigned long long)corr_stats(t).evicted,
			    (unsigned long long)corr_stats(t).size);
	assert_true(has(t, 100, 2));
	assert_int_equal(corr_stats(t).evicted, 0);
	assert_int_equal(corr_stats(t).size, 16);
}

/*
 * Postfix's life cycle: client= puts a QID, "removed" deletes it. One
 * long-lived entry plus a stream of put+del pairs keeps the table almost
 * empty, so the long-lived entry must not be evicted.
 */
static void
test_churn_does_not_evict(void **state)
{
	struct corr_table *t = table(state, 1024, 1000000);
	char b[16];

		assert_non_null(corr_put(t, K("LONGLIVED"), 1));
	for (unsigned i = 0; i < 5000; i++) {
		assert_non_null(corr_put(t, numkey(b, i), 2));
		assert_int_equal(corr_del(t, numkey(b, i)), 1);
		if (corr_get(t, K("LONGLIVED"), 2) == NULL)
			fail_msg("LONGLIVED evicted after %u put+del pairs with size %llu, evicted %llu",
			    i + 1, (unsigned long long)corr_stats(t).size,
			    (unsigned long long)corr_stats(t).evicted);
	}
	assert_int_equal(corr_stats(t).size, 1);
	assert_int_equal(corr_stats(t).evicted, 0);
}

/* Replacing a key in a full table frees its old slot: nothing else is lost. */
static void
test_replace_in_full_table(void **state)
{
	struct corr_table *t = table(state, 16, 1000000);
	char b[16];

		for (unsigned i = 0; i < 16; i++)
		assert_non_null(corr_put(t, numkey(b, i), 1));
	assert_non_null(corr_put(t, numkey(b, 15), 2));	/* QID reused */
	for (unsigned i = 0; i < 16; i++)
		if (!has(t, i, 2))
			fail_msg("key %u lost by replacing key 15 (evicted=%llu size=%llu)", i,
			    (unsigned long long)corr_stats(t).evicted,
			    (unsigned long long)corr_stats(t).size);
	assert_int_equal(corr_stats(t).evicted, 0);
	assert_int_equal(corr_stats(t).size, 16);
}

/* 1,000,000 puts on 1024 slots: bounded, recent keys always found. */
static void
test_flood(void **state)
{
	const unsigned cap = 1024, total = 1000000;
	struct corr_table *t = table(state, cap, 1000000000);
	struct corr_stats st;

		for (unsigned i = 0; i < total; i++) {
		char b[16];
		int64_t now = i / 1000;

		assert_non_null(corr_put(t, numkey(b, i), now));
		if (!has(t, i, now))
			fail_msg("key %u not found right after put", i);
		if (i >= 1 && !has(t, i - 1, now))
			fail_msg("key %u not found", i - 1);
		if (i >= cap - 1 && !has(t, i - (cap - 1), now))
			fail_msg("key %u (cap-1 puts ago) not found", i - (cap - 1));
		if (i >= cap && has(t, i - cap, now))
			fail_msg("key %u should have been evicted", i - cap);
		if (i % 65536 == 0 || i == total - 1) {
			st = corr_stats(t);
			assert_true(st.size <= cap);
			/* all of the last cap keys */
			for (unsigned j = i + 1 > cap ? i + 1 - cap : 0; j <= i; j++)
				if (!has(t, j, now))
					fail_msg("at %u: recent key %u missing", i, j);
		}
	}
	st = corr_stats(t);
	assert_int_equal(st.size, cap);
	assert_int_equal(st.inserted, total);
	assert_int_equal(st.evicted, total - cap);
}

/* A flood mixing deletes, replacements and advancing time. */
static void
test_flood_mixed(void **state)
{
	const unsigned cap = 1024, total = 300000;
	const int64_t ttl = 50;
	struct corr_table *t = table(state, cap, ttl);
	/* independent model: when each key was put, or -1 if deleted */
	int64_t *put_at = malloc(total * sizeof(*put_at));
	uint64_t x = 12345, deleted = 0, replaced = 0;
	struct corr_stats st;

		assert_non_null(put_at);
	for (unsigned i = 0; i < total; i++) {
		char b[16];
		int64_t now = i / 10;	/* 10 puts per second: ttl covers ~500 puts < cap */

		assert_non_null(corr_put(t, numkey(b, i), now));
		put_at[i] = now;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		if (i > 10 && x % 4 == 0) {
			unsigned j = i - 1 - (unsigned)(x >> 8) % 10;

			if (put_at[j] >= 0 && now - put_at[j] <= ttl && has(t, j, now)) {
				assert_int_equal(corr_del(t, numkey(b, j)), 1);
				put_at[j] = -1;
				deleted++;
			}
		} else if (i > 10 && x % 7 == 0) {
			/* an ID reused: put a recent key again */
			unsigned j = i - 1 - (unsigned)(x >> 8) % 10;

			if (put_at[j] >= 0 && now - put_at[j] <= ttl && has(t, j, now)) {
				assert_non_null(corr_put(t, numkey(b, j), now));
				put_at[j] = now;
				replaced++;
			}
		}
		st = corr_stats(t);
		assert_true(st.size <= cap);
		/* the newest key and the undeleted ones of the last few puts are present */
		for (unsigned j = i >= 8 ? i - 8 : 0; j <= i; j++)
			if (put_at[j] >= 0 && !has(t, j, now))
				fail_msg("at %u: key %u missing", i, j);
		/* deleted keys never come back */
		for (unsigned j = i >= 20 ? i - 20 : 0; j <= i; j++)
			if (put_at[j] < 0 && has(t, j, now))
				fail_msg("at %u: deleted key %u found", i, j);
	}
	/* the oldest keys are long expired */
	for (unsigned j = 0; j < 1000; j++)
		assert_false(has(t, j, (total - 1) / 10));
	st = corr_stats(t);
	assert_int_equal(st.inserted, total + replaced);
	assert_true(replaced > 0 && deleted > 0);
	/* every inserted entry is live, evicted, expired, deleted or replaced */
	assert_int_equal(st.size + st.evicted + st.expired + deleted + replaced, st.inserted);
	assert_true(st.expired > 0);
	free(put_at);
}

/* FNV-1a as in the header comment of corr.c, to build colliding keys. */
static uint32_t
fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h ^ (h >> 15);
}

static void
test_collisions(void **state)
{
	struct corr_table *t = table(state, 4096, 1000000);
	char (*keys)[16] = malloc(4096 * sizeof(*keys));

		assert_non_null(keys);
	/* many keys, similar shapes */
	for (unsigned i = 0; i < 4096; i++) {
		snprintf(keys[i], 16, "%X", i * 2654435761u);
		assert_non_null(corr_put(t, K(keys[i]), 1));
	}
	for (unsigned i = 0; i < 4096; i++)
		assert_non_null(corr_get(t, K(keys[i]), 1));
	assert_int_equal(corr_stats(t).size, 4096);
	assert_int_equal(corr_stats(t).evicted, 0);
	/* unlink every third, the rest stay reachable through the chains */
	for (unsigned i = 0; i < 4096; i += 3)
		assert_int_equal(corr_del(t, K(keys[i])), 1);
	for (unsigned i = 0; i < 4096; i++)
		if ((corr_get(t, K(keys[i]), 1) != NULL) != (i % 3 != 0))
			fail_msg("key %s wrong after deletes", keys[i]);

	/* keys that share a bucket (16 slots -> 32 buckets), all in one chain */
	t = table(state, 16, 1000000);
	unsigned found = 0;
	uint32_t target = fnv1a("seed", 4) & 31;
	for (unsigned i = 0; found < 16 && i < 100000; i++) {
		snprintf(keys[found], 16, "C%u", i);
		if ((fnv1a(keys[found], strlen(keys[found])) & 31) == target)
			found++;
	}
	assert_int_equal(found, 16);
	for (unsigned i = 0; i < 16; i++)
		assert_non_null(corr_put(t, K(keys[i]), 1));
	for (unsigned i = 0; i < 16; i++)
		assert_non_null(corr_get(t, K(keys[i]), 1));
	/* delete from the middle, the head and the tail of the chain */
	assert_int_equal(corr_del(t, K(keys[8])), 1);
	assert_int_equal(corr_del(t, K(keys[15])), 1);
	assert_int_equal(corr_del(t, K(keys[0])), 1);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(corr_get(t, K(keys[i]), 1) != NULL, i != 8 && i != 15 && i != 0);
	/* keep inserting the colliding keys round and round: always consistent */
	for (unsigned r = 0; r < 1000; r++) {
		unsigned i = r % 16;

		assert_non_null(corr_put(t, K(keys[i]), 2 + r));
		assert_non_null(corr_get(t, K(keys[i]), 2 + r));
		assert_true(corr_stats(t).size <= 16);
	}
	for (unsigned i = 0; i < 16; i++)
		assert_non_null(corr_get(t, K(keys[i]), 1001));
	free(keys);
}

/*
 * One-word keys (Exim's pids) take the multiply-shift hash: keys chosen to
 * collide under any hash that keeps low or high bits as they are (multiples
 * of 2^32, of 2^48, consecutive pids) still spread over the buckets, and
 * every one is found, replaced and deleted through its chain.
 */
static void
test_word_keys_spread(void **state)
{
	static const int shifts[] = { 0, 12, 32, 48 };

	for (size_t s = 0; s < sizeof(shifts) / sizeof(shifts[0]); s++) {
		struct corr_table *t = table(state, 16384, 1000000);
		uint32_t longest;

		for (uint64_t i = 0; i < 16384; i++) {
			uint64_t w = (i + 1) << shifts[s];

			assert_non_null(corr_put(t, (struct span){ (const char *)&w, sizeof(w) }, 1));
		}
		assert_int_equal(corr_stats(t).size, 16384);
		assert_int_equal(corr_stats(t).evicted, 0);
		longest = corr_chain_max(t);
		/* 32,768 buckets at load 1/2: a few per chain; a hash that ignored the varying bits: 16,384 */
		if (longest > 16)
			fail_msg("keys (i + 1) << %d: a chain of %u", shifts[s], longest);
		for (uint64_t i = 0; i < 16384; i += 2) {
			uint64_t w = (i + 1) << shifts[s];

			assert_int_equal(corr_del(t, (struct span){ (const char *)&w, sizeof(w) }), 1);
		}
		for (uint64_t i = 0; i < 16384; i++) {
			uint64_t w = (i + 1) << shifts[s];

			assert_int_equal(corr_get(t, (struct span){ (const char *)&w, sizeof(w) }, 1) != NULL,
			    i % 2 == 1);
		}
	}
}

/*
 * Queue-ID-shaped keys (Postfix hex, Sendmail's 14 characters, Exim's
 * message IDs), consecutive as an MTA makes them and of every length up to
 * CORR_KEYMAX: spread over the buckets too.
 */
static void
test_string_keys_spread(void **state)
{
	static const char *const fmt[] = { "4Xb%07X", "4AB1C%09u", "1t%04X-000Xyz-%02X", "%u", "%031u" };
	char key[64];

	for (size_t f = 0; f < sizeof(fmt) / sizeof(fmt[0]); f++) {
		struct corr_table *t = table(state, 16384, 1000000);
		uint32_t longest;

		for (unsigned i = 0; i < 16384; i++) {
			if (f == 2)
				snprintf(key, sizeof(key), fmt[f], i >> 8, i & 255);
			else
				snprintf(key, sizeof(key), fmt[f], i);
			assert_non_null(corr_put(t, K(key), 1));
		}
		assert_int_equal(corr_stats(t).size, 16384);
		longest = corr_chain_max(t);
		if (longest > 16)
			fail_msg("keys like %s: a chain of %u", fmt[f], longest);
	}
}

/* Capacity below the minimum and odd sizes still work. */
static void
test_small_and_odd_capacity(void **state)
{
		for (uint32_t cap = 1; cap <= 40; cap += 3) {
		struct corr_table *t = table(state, cap, 1000000);
		struct corr_stats st;

		for (unsigned i = 0; i < 500; i++) {
			char b[16];

			assert_non_null(corr_put(t, numkey(b, i), 1));
			assert_true(has(t, i, 1));
		}
		st = corr_stats(t);
		assert_true(st.size >= cap && st.size <= (cap < 16 ? 16 : cap));
		assert_int_equal(st.size + st.evicted, 500);
		/* the newest size keys are the ones present */
		for (unsigned i = 0; i < 500; i++)
			assert_int_equal(has(t, i, 1), i >= 500 - st.size);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_put_get_del, free_table),
		cmocka_unit_test_teardown(test_replace, free_table),
		cmocka_unit_test_teardown(test_key_limits, free_table),
		cmocka_unit_test_teardown(test_ttl, free_table),
		cmocka_unit_test_teardown(test_ttl_sweep, free_table),
		cmocka_unit_test_teardown(test_capacity_eviction, free_table),
		cmocka_unit_test_teardown(test_deleted_oldest_slot_reused, free_table),
		cmocka_unit_test_teardown(test_deleted_middle_slot_reused, free_table),
		cmocka_unit_test_teardown(test_churn_does_not_evict, free_table),
		cmocka_unit_test_teardown(test_replace_in_full_table, free_table),
		cmocka_unit_test_teardown(test_flood, free_table),
		cmocka_unit_test_teardown(test_flood_mixed, free_table),
		cmocka_unit_test_teardown(test_collisions, free_table),
		cmocka_unit_test_teardown(test_word_keys_spread, free_table),
		cmocka_unit_test_teardown(test_string_keys_spread, free_table),
		cmocka_unit_test_teardown(test_small_and_odd_capacity, free_table),
	};

	return cmocka_run_group_tests_name("corr", tests, NULL, NULL);
}
