/*
 * corr.c - the correlation table (see corr.h): a key table
 * (common/keytab.c) of struct corr_entry payloads.
 *
 * The key table keeps its keys in the order they were last put, which
 * here is the order of insertion (an entry is only ever put when its ID
 * is announced; corr_get does not count as a sighting), so its least
 * recently seen key is the oldest entry: the one evicted when every slot
 * is live, and where expiry looks, on each put. A put takes a free slot
 * if there is one and evicts only when every slot is live, so the usual
 * churn of Postfix's queue IDs (client= ... removed) never pushes out a
 * long-lived entry. The IDs are read from log text, which a local user
 * can also write (logger(1), a crafted syslog message): the key table's
 * hash is keyed by the process's secret. Saved tables hold keys, not
 * hashes (corr_export), so a restart with a new secret re-hashes them on
 * import.
 */
#include "corr.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../common/keytab.h"
#include "../common/xalloc.h"

/* The saved layout of earlier versions (152 bytes on x86-64 and arm64): state they saved is read back. */
_Static_assert(sizeof(struct corr_record) == 152 || sizeof(void *) != 8, "corr_record changed its layout");

struct corr_table {
	struct keytab *kt;
	int64_t ttl;
	uint64_t inserted;	/* puts, a reused ID's included (the key table counts new keys only) */
};

struct corr_table *
corr_new(uint32_t capacity, int64_t ttl)
{
	struct corr_table *t = xcalloc(1, sizeof(*t));

	t->kt = keytab_new(capacity, sizeof(struct corr_entry), CORR_KEYMAX);
	/* Two buckets per slot: most lines look up an ID (Exim: a pid) the table may not hold. */
	keytab_reserve_index(t->kt, 2 * (size_t)capacity);
	t->ttl = ttl;
	return t;
}

void
corr_free(struct corr_table *t)
{
	if (t == NULL)
		return;
	keytab_free(t->kt, NULL);
	free(t);
}

static inline int
usable(struct span key)
{
	return key.n > 0 && key.n <= CORR_KEYMAX;
}

struct corr_entry *
corr_get(struct corr_table *t, struct span key, int64_t now)
{
	struct corr_entry *e;

	if (!usable(key) || (e = keytab_get(t->kt, key.p, key.n)) == NULL)
		return NULL;
	if (now - e->ts > t->ttl)
		return NULL;	/* expired; a later put sweeps it */
	return e;
}

struct corr_entry *
corr_put(struct corr_table *t, struct span key, int64_t now)
{
	struct corr_entry *e;
	int created;

	if (!usable(key))
		return NULL;
	/*
	 * Expired entries go first (each expires once: O(1) amortised per
	 * put), so that a full table evicts only when every slot is live.
	 * IDs are reused: the new one wins, as a fresh entry at the new end.
	 */
	keytab_expire(t->kt, now - t->ttl, INT_MAX, NULL);
	e = keytab_put(t->kt, key.p, key.n, now, &created, NULL);
	if (!created)
		memset(e, 0, sizeof(*e));	/* (a new one is zeroed already) */
	e->ts = now;
	t->inserted++;
	return e;
}

int
corr_del(struct corr_table *t, struct span key)
{
	return usable(key) && keytab_del(t->kt, key.p, key.n, NULL);
}

struct corr_stats
corr_stats(const struct corr_table *t)
{
	struct keytab_stats k = keytab_stats(t->kt);

	return (struct corr_stats){ .inserted = t->inserted, .evicted = k.evicted, .expired = k.expired,
		.size = k.size };
}

uint32_t
corr_chain_max(const struct corr_table *t)
{
	return keytab_chain_max(t->kt);
}

struct export {
	const struct corr_table *t;
	struct corr_record *out;
	size_t n, max;
};

static void
export_one(void *arg, void *payload)
{
	struct export *x = arg;
	const struct corr_entry *e = payload;
	struct corr_record *r;
	const uint8_t *key;
	size_t klen;

	if (x->n == x->max)
		return;
	r = &x->out[x->n++];
	key = keytab_key(x->t->kt, payload, &klen);
	memset(r, 0, sizeof(*r));
	r->ts = e->ts;
	r->ip = e->ip;
	r->port = e->port;
	r->flags = e->flags;
	r->hostlen = e->hostlen;
	r->keylen = (uint8_t)klen;
	memcpy(r->key, key, klen);
	memcpy(r->host, e->host, sizeof(r->host));
	memcpy(r->aux, e->aux, sizeof(r->aux));
}

size_t
corr_export(struct corr_table *t, struct corr_record *out, size_t max)
{
	struct export x = { .t = t, .out = out, .max = max };

	keytab_foreach(t->kt, export_one, &x);	/* oldest first: corr_import puts them back in that order */
	return x.n;
}

void
corr_import(struct corr_table *t, const struct corr_record *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct corr_entry *e;

		if (in[i].keylen > CORR_KEYMAX)
			continue;
		e = corr_put(t, (struct span){ in[i].key, in[i].keylen }, in[i].ts);
		if (e == NULL)
			continue;
		e->ip = in[i].ip;
		e->port = in[i].port;
		e->flags = in[i].flags;
		e->hostlen = in[i].hostlen <= CORR_HOSTMAX ? in[i].hostlen : 0;
		memcpy(e->host, in[i].host, sizeof(e->host));
		memcpy(e->aux, in[i].aux, sizeof(e->aux));
	}
}
