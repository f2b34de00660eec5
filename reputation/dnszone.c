/*
 * dnszone.c - DNS reputation zones through c-ares (see dnszone.h).
 *
 * A lookup asks each zone one question (the A record of the address's
 * reversed name under the zone's domain) unless the zone's cache has the
 * answer, or a question about the same address is already out: then it
 * waits for that one too, so a storm of events from one client costs one
 * question per zone. A lookup is done when each of its questions is
 * settled: answered, failed, or past the zone's timeout; its callback then
 * runs from dnsrep_process(), never from inside c-ares.
 *
 * Deadlines are ours, not c-ares's: a question's deadline is the lookup's
 * time plus the zone's timeout, and at that point every lookup waiting for
 * it gets "unknown", whatever c-ares is still doing. c-ares 1.18 cannot
 * cancel one query (ares_cancel ends them all), so a question past its
 * deadline stays with c-ares as an orphan: nobody waits for it, and when
 * c-ares ends it (an answer, or its own timeout, which we set to end its
 * retries at about the zone's timeout) a usable answer goes to the cache
 * and the question is freed. Every deadline of a zone is its questions'
 * creation time plus the same timeout, so the questions in creation order
 * are in deadline order: a list, whose head is the next to fire, and
 * settling one is O(1).
 *
 * Each channel (one per distinct server, port and timeout) holds at most
 * WINDOW questions; more wait in a queue, in order, and go out as answers
 * come back. A storm of new clients would otherwise be thousands of
 * datagrams at once, more than a socket buffer holds, and what the kernel
 * drops comes back as a retransmission a third of the timeout later, or a
 * timeout. Measured against rbldnsd on loopback (10,000 lookups, 20,000
 * questions): a window of 256 lost a few hundred datagrams to full receive
 * buffers and took 0.8 s, 64 lost none and took 0.3 s. c-ares 1.18 also
 * walks all its queries in ares_timeout(), so the window keeps that cheap.
 */
#include "dnszone.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <sys/socket.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "dnscache.h"
#include "dnsreply.h"

#define WINDOW 64		/* questions c-ares holds per channel */
#define TRIES 2			/* c-ares sends a question twice at most: after T, then 2T */
#define QBUCKETS 16384		/* per zone, >= DNSREP_INFLIGHT_MAX: a zone has one question per waiting lookup at most */
#define RCVBUF (1 << 20)	/* asked for the sockets (the kernel caps it at net.core.rmem_max) */
#define QNAME_MAX 253		/* the longest DNS name in text, without the final dot */
#define NIBBLES_LEN 64		/* "x." times 32: the IPv6 part of a question */

enum qstate {
	Q_QUEUED,	/* waiting for room in its channel's window */
	Q_SENT,		/* c-ares has it, lookups wait for it */
	Q_ORPHAN,	/* c-ares has it, nobody waits any more (its deadline passed) */
};

struct lookup;

/* A lookup waiting for a question (a lookup has one per zone, embedded). */
struct waiter {
	struct lookup *l;
	struct waiter *next;
};

struct zone;

struct question {
	struct addr addr;
	uint8_t state;
	uint32_t hv;			/* addr's hash: the bucket in its zone's table */
	struct zone *z;
	int64_t deadline;
	struct question *hnext;		/* the zone's table of questions waited for */
	struct question *older, *newer;	/* the zone's deadline list */
	struct question *qprev, *qnext;	/* the channel's queue (Q_QUEUED) */
	struct waiter *wfirst, *wlast;
};

struct lookup {
	dnsrep_fn fn;
	void *arg;
	int pending;			/* questions not settled yet */
	struct lookup *next;		/* the done list */
	struct dnsrep_answer ans;
	struct waiter w[DNSREP_ZONES_MAX];
};

struct chan {
	struct dnsrep *d;
	ares_channel ares;
	const char *server;		/* the first spec's ("": the system's resolvers) */
	uint16_t port;
	int timeout_ms;
	char where[96];			/* for messages: "127.0.0.1 port 53" */
	struct question *qhead, *qtail;
	int outstanding;		/* questions c-ares holds (orphans included) */
	int warned_self;		/* a socket of ours connected to itself was refused: said */
};

struct zone {
	const struct zone_spec *spec;
	int idx;
	int timeout_ms;
	struct chan *ch;
	struct dnscache *cache;
	struct question **bucket;	/* [QBUCKETS] */
	struct question *oldest, *newest;
	unsigned warned;		/* 1 << dnsreply_kind: that kind of unknown was reported */
};

struct sock {
	ares_socket_t fd;
	struct chan *ch;
	uint8_t rd, wr;
};

struct dnsrep {
	struct zone zone[DNSREP_ZONES_MAX];
	int nzones;
	struct chan *chan[DNSREP_ZONES_MAX];
	int nchan;
	struct sock *sock;		/* c-ares's sockets, as its sock_state_cb reports them */
	int nsock, socksz;
	struct sock *ready;		/* dnsrep_process's copy of sock[] (callbacks change sock[]) */
	struct pollfd *pfd;
	int readysz;
	struct lookup *done, *done_tail;	/* settled, callback not run yet */
	uint64_t inflight;
	struct hash_key key;
	struct dnsrep_stats st;
	int64_t now;			/* the latest now_ms seen */
	int closing;
	int library;			/* ares_library_init succeeded (c-ares counts its users) */
	int warned_overflow;
};

static const struct zone_answer unknown = {
	.state = ZONE_UNKNOWN, .risk = FEED_SCORE_NONE, .spam = FEED_SCORE_NONE, .vol = FEED_SCORE_NONE,
};

/* ---- names ---- */

int
dnsrep_qname(const struct addr *a, const char *domain, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char head[NIBBLES_LEN + 1];
	size_t n = 0, dl = strlen(domain);

	if (a->family == 4)
		n = (size_t)snprintf(head, sizeof(head), "%u.%u.%u.%u.", a->b[3], a->b[2], a->b[1], a->b[0]);
	else if (a->family == 6)
		for (int i = 15; i >= 0; i--) {
			head[n++] = hex[a->b[i] & 15];
			head[n++] = '.';
			head[n++] = hex[a->b[i] >> 4];
			head[n++] = '.';
		}
	else
		return -1;
	if (dl == 0)
		n--;		/* no domain: no dot after the address part */
	if (n + dl > QNAME_MAX || n + dl + 1 > len)
		return -1;
	memcpy(buf, head, n);
	memcpy(buf + n, domain, dl + 1);
	return (int)(n + dl);
}

/* 1 if s is a host name we will ask under: labels of 1-63 letters, digits, '-', '_'. */
static int
valid_domain(const char *s)
{
	size_t label = 0, n = strlen(s);

	if (n == 0)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || label > 63)
				return 0;
			label = 0;
		} else if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_')
			label++;
		else
			return 0;
	}
	return 1;
}

/* ---- what an answer means ---- */

static int8_t
first_given(int8_t a, int8_t b)
{
	return a != FEED_SCORE_NONE ? a : b;
}

static struct zone_answer
answer_of(const struct zone *z, const struct dnsreply *r)
{
	const struct zone_spec *s = z->spec;
	struct zone_answer za = unknown;
	const struct feed_value *v = NULL;

	if (r->kind == DNSREPLY_NOT_LISTED)
		za.state = ZONE_NOT_LISTED;
	if (r->kind != DNSREPLY_LISTED)
		return za;
	for (int i = 0; i < s->nvalues && v == NULL; i++)
		if (s->values[i].a == r->a)
			v = &s->values[i];
	za.state = ZONE_LISTED;
	za.a = r->a;
	/* As for feeds (feed.c): the value's score where it gives one, else the zone's. */
	za.risk = first_given(v ? v->risk : FEED_SCORE_NONE, s->risk);
	za.spam = first_given(v ? v->spam : FEED_SCORE_NONE, s->spam);
	za.vol = first_given(v ? v->vol : FEED_SCORE_NONE, s->vol);
	return za;
}

/* One zone answer given to a lookup, counted under its kind. */
static void
count(struct dnsrep *d, enum dnsreply_kind k)
{
	switch (k) {
	case DNSREPLY_LISTED:
		d->st.listed++;
		break;
	case DNSREPLY_NOT_LISTED:
		d->st.not_listed++;
		break;
	case DNSREPLY_TIMEOUT:
		d->st.timeouts++;
		break;
	case DNSREPLY_SERVFAIL:
		d->st.servfail++;
		break;
	case DNSREPLY_REFUSED:
	case DNSREPLY_DENIED:
		d->st.refused++;
		break;
	case DNSREPLY_OUTSIDE:
	case DNSREPLY_NOT_REPLY:
	case DNSREPLY_ERROR:
		d->st.errors++;
		break;
	}
}

static void
dotted(uint32_t a, char *buf)
{
	snprintf(buf, INET_ADDRSTRLEN, "%u.%u.%u.%u", a >> 24, a >> 16 & 0xff, a >> 8 & 0xff, a & 0xff);
}

/*
 * Each kind of unknown is reported once per zone: a DNSBL that refuses us
 * refuses every question, and one line says it as well as a million.
 */
static void
warn_once(struct zone *z, const struct dnsreply *r, int status)
{
	const char *name = z->spec->name, *where = z->ch->where;
	char a[INET_ADDRSTRLEN];

	if (z->warned & (1u << r->kind))
		return;
	z->warned |= 1u << r->kind;
	switch (r->kind) {
	case DNSREPLY_LISTED:
	case DNSREPLY_NOT_LISTED:
		break;
	case DNSREPLY_TIMEOUT:
		log_warnx("zone %s: no answer from %s within %d ms: such lookups count as unknown",
		    name, where, z->timeout_ms);
		break;
	case DNSREPLY_SERVFAIL:
		log_warnx("zone %s: SERVFAIL from %s: its answers count as unknown", name, where);
		break;
	case DNSREPLY_REFUSED:
		log_warnx("zone %s: REFUSED by %s: the server refuses our queries; its answers count as unknown",
		    name, where);
		break;
	case DNSREPLY_DENIED:
		dotted(r->a, a);
		log_warnx("zone %s: %s answered: the DNSBL refuses our queries; its answers count as unknown",
		    name, a);
		break;
	case DNSREPLY_OUTSIDE:
		dotted(r->a, a);
		log_warnx("zone %s: %s answered, outside 127.0.0.0/8 (a resolver that rewrites answers?): "
		    "such answers count as unknown", name, a);
		break;
	case DNSREPLY_NOT_REPLY:
		log_warnx("zone %s: a question, not an answer, came from %s (our own sent back, as when the server "
		    "is gone and a socket of ours got its port): such packets count as unknown", name, where);
		break;
	case DNSREPLY_ERROR:
		log_warnx("zone %s: %s (%s): such answers count as unknown", name, ares_strerror(status), where);
		break;
	}
}

/* ---- questions ---- */

static void
done_push(struct dnsrep *d, struct lookup *l)
{
	l->next = NULL;
	if (d->done_tail != NULL)
		d->done_tail->next = l;
	else
		d->done = l;
	d->done_tail = l;
}

static struct question *
table_find(const struct zone *z, const struct addr *a, uint32_t h)
{
	size_t n = a->family == 4 ? 4 : 16;

	for (struct question *q = z->bucket[h % QBUCKETS]; q != NULL; q = q->hnext)
		if (q->hv == h && q->addr.family == a->family && memcmp(q->addr.b, a->b, n) == 0)
			return q;
	return NULL;
}

static void
table_del(struct zone *z, struct question *q)
{
	struct question **pp = &z->bucket[q->hv % QBUCKETS];

	while (*pp != q)
		pp = &(*pp)->hnext;
	*pp = q->hnext;
}

static void
deadline_del(struct zone *z, struct question *q)
{
	if (q->older != NULL)
		q->older->newer = q->newer;
	else
		z->oldest = q->newer;
	if (q->newer != NULL)
		q->newer->older = q->older;
	else
		z->newest = q->older;
}

static void
queue_del(struct chan *ch, struct question *q)
{
	if (q->qprev != NULL)
		q->qprev->qnext = q->qnext;
	else
		ch->qhead = q->qnext;
	if (q->qnext != NULL)
		q->qnext->qprev = q->qprev;
	else
		ch->qtail = q->qprev;
}

/*
 * Give r to every lookup waiting for q, and take q out of its zone (the
 * caller frees it, or leaves it to c-ares as an orphan).
 */
static void
settle(struct dnsrep *d, struct question *q, const struct dnsreply *r, int status)
{
	struct zone *z = q->z;
	struct zone_answer za = answer_of(z, r);
	struct waiter *w, *next;

	if (!dnsreply_usable(r->kind))
		warn_once(z, r, status);
	table_del(z, q);
	deadline_del(z, q);
	for (w = q->wfirst; w != NULL; w = next) {
		struct lookup *l = w->l;

		next = w->next;
		l->ans.zone[z->idx] = za;
		count(d, r->kind);
		if (--l->pending == 0)
			done_push(d, l);
	}
	q->wfirst = q->wlast = NULL;
}

/* c-ares's callback for a question: its answer, its failure, or its end (EDESTRUCTION). */
static void
answered(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct question *q = arg;
	struct zone *z = q->z;
	struct dnsrep *d = z->ch->d;
	struct dnsreply r;

	(void)timeouts;
	z->ch->outstanding--;
	if (d->closing) {	/* dnsrep_free: only orphans are left */
		free(q);
		return;
	}
	dnsreply_read(status, abuf, alen, &r);
	if (dnsreply_usable(r.kind) && r.ttl > 0) {
		struct zone_answer za = answer_of(z, &r);

		/* A late answer (an orphan's) is still the zone's answer: the next lookup gets it. */
		dnscache_put(z->cache, &q->addr, &za, d->now + (int64_t)r.ttl * 1000);
	}
	if (q->state != Q_ORPHAN)
		settle(d, q, &r, status);
	free(q);
}

/* Send what waits in ch's queue while the window has room. */
static void
pump(struct dnsrep *d, struct chan *ch)
{
	char name[QNAME_MAX + 1];
	struct question *q;

	while (ch->outstanding < WINDOW && (q = ch->qhead) != NULL) {
		queue_del(ch, q);
		q->state = Q_SENT;
		ch->outstanding++;
		d->st.queries++;
		if (dnsrep_qname(&q->addr, q->z->spec->domain, name, sizeof(name)) < 0) {
			/* (dnsrep_new refused domains too long for a question: this cannot happen) */
			answered(q, ARES_EBADNAME, 0, NULL, 0);
			continue;
		}
		/* q may be settled and freed before this returns (c-ares fails at once without a socket). */
		ares_query(ch->ares, name, ns_c_in, ns_t_a, answered, q);
	}
}

static struct question *
ask(struct dnsrep *d, struct zone *z, const struct addr *a, uint32_t h)
{
	struct question *q = xcalloc(1, sizeof(*q));
	struct chan *ch = z->ch;

	q->addr = *a;
	q->hv = h;
	q->z = z;
	q->state = Q_QUEUED;
	q->deadline = d->now + z->timeout_ms;
	q->hnext = z->bucket[h % QBUCKETS];
	z->bucket[h % QBUCKETS] = q;
	q->older = z->newest;
	if (z->newest != NULL)
		z->newest->newer = q;
	else
		z->oldest = q;
	z->newest = q;
	q->qprev = ch->qtail;
	if (ch->qtail != NULL)
		ch->qtail->qnext = q;
	else
		ch->qhead = q;
	ch->qtail = q;
	return q;
}

/* Settle the questions whose deadline has passed: unknown for whoever waits. */
static void
expire(struct dnsrep *d, int64_t now)
{
	static const struct dnsreply timeout = { .kind = DNSREPLY_TIMEOUT };

	for (int i = 0; i < d->nzones; i++) {
		struct zone *z = &d->zone[i];
		struct question *q;

		while ((q = z->oldest) != NULL && q->deadline <= now) {
			settle(d, q, &timeout, ARES_ETIMEOUT);
			if (q->state == Q_QUEUED) {
				queue_del(z->ch, q);
				free(q);
			} else
				q->state = Q_ORPHAN;	/* c-ares ends it; answered() frees it */
		}
	}
}

/* ---- sockets ---- */

/* c-ares's word on a socket: watch it for reading and/or writing, or forget it (0, 0). */
static void
sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct chan *ch = data;
	struct dnsrep *d = ch->d;
	int i;

	for (i = 0; i < d->nsock; i++)
		if (d->sock[i].fd == fd && d->sock[i].ch == ch)
			break;
	if (!readable && !writable) {
		if (i < d->nsock)
			d->sock[i] = d->sock[--d->nsock];
		return;
	}
	if (i == d->nsock) {
		if (d->nsock == d->socksz) {
			d->socksz = d->socksz ? 2 * d->socksz : 8;
			d->sock = xrealloc(d->sock, (size_t)d->socksz * sizeof(*d->sock));
		}
		d->nsock++;
	}
	d->sock[i] = (struct sock){ .fd = fd, .ch = ch, .rd = readable != 0, .wr = writable != 0 };
}

int
dnsrep_pollfds(struct dnsrep *d, struct pollfd *pfd, int max)
{
	int n;

	for (n = 0; n < d->nsock && n < max; n++)
		pfd[n] = (struct pollfd){ .fd = d->sock[n].fd,
			.events = (short)((d->sock[n].rd ? POLLIN : 0) | (d->sock[n].wr ? POLLOUT : 0)) };
	return n;
}

/* Let c-ares read and write what the sockets are ready for (polled here, without waiting). */
static void
service_sockets(struct dnsrep *d)
{
	int n = d->nsock;

	if (n == 0)
		return;
	if (n > d->readysz) {
		d->readysz = n;
		d->ready = xrealloc(d->ready, (size_t)n * sizeof(*d->ready));
		d->pfd = xrealloc(d->pfd, (size_t)n * sizeof(*d->pfd));
	}
	/* A copy: the callbacks c-ares runs from here open and close sockets. */
	memcpy(d->ready, d->sock, (size_t)n * sizeof(*d->ready));
	dnsrep_pollfds(d, d->pfd, n);
	if (poll(d->pfd, (nfds_t)n, 0) <= 0)
		return;		/* nothing ready (or EINTR: the next call sees it) */
	for (int i = 0; i < n; i++) {
		short re = d->pfd[i].revents;
		int rd = (re & (POLLIN | POLLERR | POLLHUP)) != 0, wr = (re & POLLOUT) != 0;

		if (re & POLLNVAL)
			continue;
		/* (a socket closed meanwhile is unknown to its channel, which ignores it) */
		if (rd || wr)
			ares_process_fd(d->ready[i].ch->ares, rd ? d->ready[i].fd : ARES_SOCKET_BAD,
			    wr ? d->ready[i].fd : ARES_SOCKET_BAD);
	}
}

/* ---- the interface ---- */

int64_t
dnsrep_next_deadline_ms(struct dnsrep *d)
{
	int64_t t = -1;

	if (d->done != NULL)
		return d->now;
	for (int i = 0; i < d->nzones; i++)
		if (d->zone[i].oldest != NULL && (t < 0 || d->zone[i].oldest->deadline < t))
			t = d->zone[i].oldest->deadline;
	/* c-ares's own timers (retransmissions): relative to now, so from the latest now we saw (early at worst). */
	for (int i = 0; i < d->nchan; i++) {
		struct timeval tv, *p;
		int64_t c;

		if (d->chan[i]->outstanding == 0 || (p = ares_timeout(d->chan[i]->ares, NULL, &tv)) == NULL)
			continue;
		c = d->now + (int64_t)p->tv_sec * 1000 + (p->tv_usec + 999) / 1000;
		if (t < 0 || c < t)
			t = c;
	}
	return t;
}

void
dnsrep_process(struct dnsrep *d, int64_t now_ms)
{
	struct lookup *l;

	if (now_ms > d->now)
		d->now = now_ms;
	service_sockets(d);
	for (int i = 0; i < d->nchan; i++)
		if (d->chan[i]->outstanding > 0)	/* c-ares's timeouts and retransmissions */
			ares_process_fd(d->chan[i]->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	expire(d, d->now);
	for (int i = 0; i < d->nchan; i++)
		pump(d, d->chan[i]);
	/* Callbacks last, outside c-ares: they may start lookups (which then join the list). */
	while ((l = d->done) != NULL) {
		d->done = l->next;
		if (d->done == NULL)
			d->done_tail = NULL;
		d->inflight--;
		l->fn(l->arg, &l->ans);
		free(l);
	}
}

/* The key form of an address: an IPv4 address's unused bytes zero. */
static struct addr
key_of(const struct addr *a)
{
	struct addr k = { .family = a->family };

	memcpy(k.b, a->b, a->family == 4 ? 4 : 16);
	return k;
}

int
dnsrep_lookup(struct dnsrep *d, const struct addr *a, int64_t now_ms, dnsrep_fn fn, void *arg)
{
	struct addr key = key_of(a);
	struct dnsrep_answer ans = { .addr = key, .nzones = d->nzones };
	int need[DNSREP_ZONES_MAX], nneed = 0;
	struct lookup *l;
	uint32_t h;

	d->st.lookups++;
	if (now_ms > d->now)
		d->now = now_ms;
	for (int i = 0; i < d->nzones; i++) {
		struct zone_answer *za = &ans.zone[i];

		*za = unknown;
		if (key.family != 4 && key.family != 6) {
			d->st.errors++;
			continue;
		}
		if (d->zone[i].spec->family != 0 && d->zone[i].spec->family != key.family) {
			/* An IPv4 DNSBL knows nothing of IPv6 clients (and the other way): no question. */
			za->state = ZONE_NOT_LISTED;
			d->st.not_listed++;
			d->st.other_family++;
			continue;
		}
		if (dnscache_get(d->zone[i].cache, &key, d->now, za)) {
			za->cached = 1;
			d->st.cache_hits++;
			if (za->state == ZONE_LISTED)
				d->st.listed++;
			else
				d->st.not_listed++;
			continue;
		}
		need[nneed++] = i;
	}
	if (nneed == 0) {
		fn(arg, &ans);
		return 1;
	}
	if (d->inflight >= DNSREP_INFLIGHT_MAX) {
		d->st.overflow += (uint64_t)nneed;
		if (!d->warned_overflow) {
			d->warned_overflow = 1;
			log_warnx("DNS zones: %d lookups are waiting; more are answered at once, unknown "
			    "where the cache has nothing", DNSREP_INFLIGHT_MAX);
		}
		fn(arg, &ans);
		return 1;
	}
	l = xmalloc(sizeof(*l));
	l->fn = fn;
	l->arg = arg;
	l->pending = nneed;
	l->next = NULL;
	l->ans = ans;
	d->inflight++;
	h = (uint32_t)hash_bytes(&d->key, &key, sizeof(key));
	for (int k = 0; k < nneed; k++) {
		struct zone *z = &d->zone[need[k]];
		struct question *q = table_find(z, &key, h);
		struct waiter *w = &l->w[need[k]];

		if (q == NULL)
			q = ask(d, z, &key, h);
		w->l = l;
		w->next = NULL;
		if (q->wlast != NULL)
			q->wlast->next = w;
		else
			q->wfirst = w;
		q->wlast = w;
	}
	/* Every waiter is in place before anything is sent: c-ares may fail a question at once. */
	for (int i = 0; i < d->nchan; i++)
		pump(d, d->chan[i]);
	return 0;
}

struct dnsrep_stats
dnsrep_stats(const struct dnsrep *d)
{
	struct dnsrep_stats st = d->st;

	st.in_flight = d->inflight;
	st.cache_size = 0;
	for (int i = 0; i < d->nzones; i++)
		st.cache_size += dnscache_size(d->zone[i].cache);
	return st;
}

/* ---- setting up ---- */

/*
 * A socket of ours connected to itself: when a server on this host and a
 * port of the ephemeral range is gone, the kernel may give a new socket of
 * ours that very port, and it then receives what it sends. Its questions
 * would come back as answers (read as unknown: dnsreply.c), and while
 * questions keep coming c-ares would keep the socket, holding the port the
 * server needs to start again. Refused as soon as it is connected (c-ares
 * closes it, the question counts as an error, the next socket gets another
 * port); said once per server.
 */
static int
refuse_self(ares_socket_t fd, int type, void *arg)
{
	struct chan *ch = arg;
	struct sockaddr_storage a, b;
	socklen_t al = sizeof(a), bl = sizeof(b);
	int self = 0;

	(void)type;
	if (getsockname(fd, (struct sockaddr *)&a, &al) != 0 || getpeername(fd, (struct sockaddr *)&b, &bl) != 0 ||
	    a.ss_family != b.ss_family)
		return ARES_SUCCESS;	/* (not connected yet, as a TCP connection in progress: nothing to compare) */
	if (a.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a, *y = (const void *)&b;

		self = x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else if (a.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)&a, *y = (const void *)&b;

		self = x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	if (!self)
		return ARES_SUCCESS;
	if (!ch->warned_self) {
		ch->warned_self = 1;
		log_warnx("DNS zones: a socket of ours to %s was connected to itself (the server is gone and the "
		    "kernel gave us its port): refused, its questions count as errors", ch->where);
	}
	return -1;
}

static struct chan *
chan_new(struct dnsrep *d, const struct zone_spec *s, uint16_t port, int timeout_ms, char *err, size_t errlen)
{
	struct ares_addr_port_node srv = { 0 };
	struct ares_options o = { 0 };
	struct chan *ch;
	int st;

	if (s->server[0] != '\0') {
		if (inet_pton(AF_INET, s->server, &srv.addr.addr4) == 1)
			srv.family = AF_INET;
		else if (inet_pton(AF_INET6, s->server, &srv.addr.addr6) == 1)
			srv.family = AF_INET6;
		else {
			snprintf(err, errlen, "zone %s: server '%s' is not an IPv4 or IPv6 address", s->name, s->server);
			return NULL;
		}
		srv.udp_port = srv.tcp_port = port;
	}
	ch = xcalloc(1, sizeof(*ch));
	ch->d = d;
	ch->server = s->server;
	ch->port = port;
	ch->timeout_ms = timeout_ms;
	if (s->server[0] != '\0')
		snprintf(ch->where, sizeof(ch->where), "%s port %u", s->server, (unsigned)port);
	else
		snprintf(ch->where, sizeof(ch->where), "the system's resolvers");
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = ch;
	/*
	 * Two sends, the second after T, and c-ares gives up 2T later: 3T is
	 * just past the zone's timeout, so our deadline settles the question
	 * first and c-ares's ETIMEOUT finds an orphan.
	 */
	o.timeout = timeout_ms / 3 + 1;
	o.tries = TRIES;
	o.socket_receive_buffer_size = RCVBUF;
	/*
	 * SERVFAIL and REFUSED come to us as they are: c-ares 1.18 would
	 * otherwise ask the server again and then report a refusal as
	 * "connection refused" (it does not keep the rcode it skipped).
	 */
	o.flags = ARES_FLAG_NOCHECKRESP;
	st = ares_init_options(&ch->ares, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SOCK_RCVBUF | ARES_OPT_FLAGS);
	if (st != ARES_SUCCESS) {
		snprintf(err, errlen, "zone %s: cannot set up the resolver: %s", s->name, ares_strerror(st));
		free(ch);
		return NULL;
	}
	ares_set_socket_callback(ch->ares, refuse_self, ch);
	if (s->server[0] != '\0' && (st = ares_set_servers_ports(ch->ares, &srv)) != ARES_SUCCESS) {
		snprintf(err, errlen, "zone %s: cannot use server %s: %s", s->name, ch->where, ares_strerror(st));
		ares_destroy(ch->ares);
		free(ch);
		return NULL;
	}
	return ch;
}

struct dnsrep *
dnsrep_new(const struct zone_spec *const *zones, int n, char *err, size_t errlen)
{
	struct dnsrep *d;
	int st;

	if (n < 0 || n > DNSREP_ZONES_MAX) {
		snprintf(err, errlen, "%d DNS zones: at most %d", n, DNSREP_ZONES_MAX);
		return NULL;
	}
	if ((st = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(st));
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->library = 1;
	d->key = hash_process_key();
	for (int i = 0; i < n; i++) {
		const struct zone_spec *s = zones[i];
		struct zone *z = &d->zone[i];
		uint16_t port = s->port ? s->port : 53;
		int timeout = s->timeout_ms ? s->timeout_ms : DNSREP_TIMEOUT_DEFAULT;
		struct chan *ch = NULL;

		if (!valid_domain(s->domain)) {
			snprintf(err, errlen, "zone %s: domain '%s' is not a DNS name (dot-separated labels of "
			    "1 to 63 letters, digits, '-' or '_')", s->name, s->domain);
			goto fail;
		}
		if (strlen(s->domain) + NIBBLES_LEN > QNAME_MAX) {
			snprintf(err, errlen, "zone %s: domain '%s' is too long for IPv6 questions (%d characters at most)",
			    s->name, s->domain, QNAME_MAX - NIBBLES_LEN);
			goto fail;
		}
		if (timeout < 1 || timeout > DNSREP_TIMEOUT_MAX) {
			snprintf(err, errlen, "zone %s: timeout %d ms: 1 to %d", s->name, timeout, DNSREP_TIMEOUT_MAX);
			goto fail;
		}
		for (int k = 0; k < d->nchan && ch == NULL; k++)
			if (strcmp(d->chan[k]->server, s->server) == 0 &&
			    (s->server[0] == '\0' || d->chan[k]->port == port) && d->chan[k]->timeout_ms == timeout)
				ch = d->chan[k];
		if (ch == NULL) {
			if ((ch = chan_new(d, s, port, timeout, err, errlen)) == NULL)
				goto fail;
			d->chan[d->nchan++] = ch;
		}
		z->spec = s;
		z->idx = i;
		z->timeout_ms = timeout;
		z->ch = ch;
		z->cache = dnscache_new(s->cache_max ? s->cache_max : 100000);
		z->bucket = xcalloc(QBUCKETS, sizeof(*z->bucket));
		d->nzones = i + 1;
	}
	return d;
fail:
	dnsrep_free(d);
	return NULL;
}

void
dnsrep_free(struct dnsrep *d)
{
	struct lookup *l;

	if (d == NULL)
		return;
	d->closing = 1;
	for (int i = 0; i < d->nzones; i++) {
		struct question *q, *qnext;

		for (q = d->zone[i].oldest; q != NULL; q = qnext) {
			struct waiter *w, *wnext;

			qnext = q->newer;
			for (w = q->wfirst; w != NULL; w = wnext) {
				wnext = w->next;
				if (--w->l->pending == 0)
					free(w->l);
			}
			if (q->state == Q_SENT)
				q->state = Q_ORPHAN;	/* ares_destroy ends it: answered() frees it */
			else
				free(q);
		}
	}
	while ((l = d->done) != NULL) {
		d->done = l->next;
		free(l);
	}
	for (int i = 0; i < d->nchan; i++) {
		ares_destroy(d->chan[i]->ares);
		free(d->chan[i]);
	}
	for (int i = 0; i < d->nzones; i++) {
		dnscache_free(d->zone[i].cache);
		free(d->zone[i].bucket);
	}
	if (d->library)
		ares_library_cleanup();
	free(d->sock);
	free(d->ready);
	free(d->pfd);
	free(d);
}
