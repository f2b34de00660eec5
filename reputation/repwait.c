/*
 * repwait.c - events that wait for their client's DNS reputation (see
 * repwait.h).
 *
 * One queue per client with a question out: its packed events, oldest
 * first, found through a hash of the address (keyed: clients choose their
 * addresses, within what they own). Queues also form a list in the order
 * they were opened, so an export and a flush keep the log's order as far
 * as it can be kept (per client it always is).
 */
#include "repwait.h"

#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/hash.h"
#include "../common/outbuf.h"
#include "../common/xalloc.h"
#include "../parsers/event_pack.h"

#define BLOB_MAGIC "MXGW"
#define BLOB_VERSION 1u

struct queue {
	struct addr addr;
	uint64_t hash;
	struct queue *chain;		/* next in its hash bucket */
	struct queue *prev, *next;	/* the list in opening order */
	struct outbuf ev;		/* packed events (memory only) */
	uint32_t count;
	int64_t first_ms;		/* when its oldest event came */
};

struct repwait {
	struct dnsrep *d;
	int nzones;
	size_t max_bytes;
	repwait_fn fn;
	void *arg;
	struct hash_key key;
	struct queue **bucket;
	size_t nbucket, nqueue;
	struct queue *oldest, *newest;
	struct event *sync_ev;		/* the event whose lookup is being started */
	int sync_hit;			/* ... was answered from the cache during dnsrep_lookup */
	uint64_t changes;
	struct repwait_stats st;
};

struct repwait *
repwait_new(struct dnsrep *d, int nzones, size_t max_bytes, repwait_fn fn, void *arg)
{
	struct repwait *w = xcalloc(1, sizeof(*w));

	w->d = d;
	w->nzones = nzones;
	w->max_bytes = max_bytes;
	w->fn = fn;
	w->arg = arg;
	w->key = hash_process_key();
	w->nbucket = 64;
	w->bucket = xcalloc(w->nbucket, sizeof(*w->bucket));
	return w;
}

static void
queue_free(struct queue *q)
{
	ob_free(&q->ev);
	free(q);
}

void
repwait_free(struct repwait *w)
{
	if (w == NULL)
		return;
	for (struct queue *q = w->oldest, *n; q != NULL; q = n) {
		n = q->next;
		queue_free(q);
	}
	free(w->bucket);
	free(w);
}

static uint64_t
addr_hash(const struct repwait *w, const struct addr *a)
{
	return hash_bytes(&w->key, a->b, a->family == 4 ? 4 : 16) ^ a->family;
}

static struct queue *
find(const struct repwait *w, const struct addr *a)
{
	uint64_t h = addr_hash(w, a);

	for (struct queue *q = w->bucket[h & (w->nbucket - 1)]; q != NULL; q = q->chain)
		if (q->hash == h && addr_equal(&q->addr, a))
			return q;
	return NULL;
}

static void
grow(struct repwait *w)
{
	size_t nb = w->nbucket * 2;
	struct queue **b = xcalloc(nb, sizeof(*b));

	for (struct queue *q = w->oldest; q != NULL; q = q->next) {
		q->chain = b[q->hash & (nb - 1)];
		b[q->hash & (nb - 1)] = q;
	}
	free(w->bucket);
	w->bucket = b;
	w->nbucket = nb;
}

static struct queue *
open_queue(struct repwait *w, const struct addr *a, int64_t now_ms)
{
	struct queue *q = xcalloc(1, sizeof(*q));
	struct queue **slot;

	if (w->nqueue >= w->nbucket)
		grow(w);
	q->addr = *a;
	q->hash = addr_hash(w, a);
	q->first_ms = now_ms;
	ob_init(&q->ev, -1, 256);
	slot = &w->bucket[q->hash & (w->nbucket - 1)];
	q->chain = *slot;
	*slot = q;
	q->prev = w->newest;
	if (w->newest != NULL)
		w->newest->next = q;
	else
		w->oldest = q;
	w->newest = q;
	w->nqueue++;
	w->st.clients++;
	return q;
}

/* Out of the hash and the list (its events are the caller's now). */
static void
close_queue(struct repwait *w, struct queue *q)
{
	struct queue **pp = &w->bucket[q->hash & (w->nbucket - 1)];

	while (*pp != q)
		pp = &(*pp)->chain;
	*pp = q->chain;
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		w->oldest = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		w->newest = q->prev;
	w->nqueue--;
	w->st.clients--;
	w->st.waiting -= q->count;
	w->st.bytes -= q->ev.len;
}

/* Hand on a queue's events with ans (NULL: every zone unknown), and free it. */
static void
deliver(struct repwait *w, struct queue *q, const struct dnsrep_answer *ans)
{
	struct dnsrep_answer unknown;
	int64_t waited = mono_ms() - q->first_ms;
	size_t off = 0, k;

	close_queue(w, q);
	w->changes++;
	if (ans == NULL) {
		memset(&unknown, 0, sizeof(unknown));	/* ZONE_UNKNOWN is 0 */
		unknown.addr = q->addr;
		unknown.nzones = w->nzones;
		ans = &unknown;
		w->st.forced += q->count;
	}
	if (waited > 0 && (uint64_t)waited > w->st.max_wait_ms)
		w->st.max_wait_ms = (uint64_t)waited;
	w->st.waited += q->count;
	while (off < q->ev.len) {
		struct event ev;

		k = ev_unpack(q->ev.p + off, q->ev.len - off, &ev);
		if (k == 0)
			break;		/* cannot happen: packed here */
		w->fn(w->arg, &ev, ans);
		off += k;
	}
	queue_free(q);
}

static void
on_answer(void *arg, const struct dnsrep_answer *ans)
{
	struct repwait *w = arg;
	struct queue *q;

	if (w->sync_ev != NULL && addr_equal(&w->sync_ev->ip, &ans->addr)) {
		w->sync_hit = 1;
		w->fn(w->arg, w->sync_ev, ans);
		return;
	}
	/* None: its events were handed on already (forced), or another lookup of it answered first. */
	if ((q = find(w, &ans->addr)) != NULL)
		deliver(w, q, ans);
}

static void
append(struct repwait *w, struct queue *q, const struct event *ev)
{
	size_t k = ev_pack(&q->ev, ev);

	w->changes++;
	q->count++;
	w->st.waiting++;
	w->st.bytes += k;
	if (w->st.bytes > w->max_bytes)
		deliver(w, q, NULL);	/* the bound: this client's events now, unknown */
}

void
repwait_put(struct repwait *w, struct event *ev, int64_t now_ms)
{
	struct queue *q;

	if (ev->ip.family == 0) {
		w->fn(w->arg, ev, NULL);
		return;
	}
	if ((q = find(w, &ev->ip)) != NULL) {
		append(w, q, ev);	/* behind the client's waiting events */
		return;
	}
	w->sync_ev = ev;
	w->sync_hit = 0;
	dnsrep_lookup(w->d, &ev->ip, now_ms, on_answer, w);
	w->sync_ev = NULL;
	if (!w->sync_hit)
		append(w, open_queue(w, &ev->ip, now_ms), ev);
}

void
repwait_flush(struct repwait *w)
{
	while (w->oldest != NULL)
		deliver(w, w->oldest, NULL);
}

void *
repwait_export(const struct repwait *w, size_t *len)
{
	struct outbuf ob;
	uint32_t v = BLOB_VERSION;

	*len = 0;
	if (w->oldest == NULL)
		return NULL;
	ob_init(&ob, -1, 4096);
	OB_LIT(&ob, BLOB_MAGIC);
	ob_put(&ob, &v, sizeof(v));
	for (const struct queue *q = w->oldest; q != NULL; q = q->next)
		ob_put(&ob, q->ev.p, q->ev.len);
	*len = ob.len;
	return ob.p;		/* the buffer is the caller's now */
}

int
repwait_blob_each(const void *blob, size_t len, void (*fn)(void *arg, struct event *ev), void *arg)
{
	const char *p = blob;
	size_t off, k;
	uint32_t v;
	struct event ev;

	if (len < 8 || memcmp(p, BLOB_MAGIC, 4) != 0)
		return -1;
	memcpy(&v, p + 4, 4);
	if (v != BLOB_VERSION)
		return -1;
	for (off = 8; off < len; off += k)	/* all of it readable, or none of it taken */
		if ((k = ev_unpack(p + off, len - off, &ev)) == 0)
			return -1;
	for (off = 8; off < len; off += k) {
		k = ev_unpack(p + off, len - off, &ev);
		fn(arg, &ev);
	}
	return 0;
}

struct import {
	struct repwait *w;
	int64_t now_ms;
};

static void
import_one(void *arg, struct event *ev)
{
	struct import *im = arg;

	repwait_put(im->w, ev, im->now_ms);
}

int
repwait_import(struct repwait *w, const void *blob, size_t len, int64_t now_ms)
{
	struct import im = { w, now_ms };

	return repwait_blob_each(blob, len, import_one, &im);
}

struct repwait_stats
repwait_stats(const struct repwait *w)
{
	return w->st;
}

uint64_t
repwait_changes(const struct repwait *w)
{
	return w->changes;
}
