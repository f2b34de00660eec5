/*
 * test_repwait.c - events as bytes of their own (parsers/event_pack.c) and
 * events that wait for their client's DNS answers (reputation/repwait.c).
 *
 * Packing: every field, hostile bytes (NUL, newline, 0xff), IPv6, doubt
 * bits; several events back to back; every truncation and a wrong version
 * refused; random bytes never crash it. Waiting: a DNS server in this
 * process (a UDP socket on 127.0.0.1 that answers only when the test says,
 * in the order the test says) stands in for a zone, so that the order of
 * answers is the test's: one client's events are handed on in their order
 * and only with its answer, another client's go first if its answer comes
 * first, an event without a client goes at once, a cached client at once,
 * a silent server makes them unknown at the timeout (on the caller's
 * clock), the memory bound hands a client's events on unknown, and an
 * export/import round trip keeps every byte. The real rbldnsd is in
 * tests/sh/test_dns_rules.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/clock.h"
#include "../../common/outbuf.h"
#include "../../parsers/event_pack.h"
#include "../../reputation/repwait.h"
#include "testutil.h"

/* ---- packing ---- */

static const char hostile[] = "a\0b\n<to=<x@y>>;\xff\xfe[198.51.100.1]";

static struct event
full_event(void)
{
	struct event ev = { .type = EV_RCPT_UNKNOWN, .mta = "postfix", .line = 123456789012ull, .ts = 1732000000,
		.usec = 123456, .ip = A("2001:db8::7"), .doubtful = 1u << F_HELO };

	for (int f = 0; f < F__COUNT; f++) {
		if (f == F_HELO)
			continue;
		if (ev_field_kind((enum ev_field)f) == FK_NUM)
			ev_set_num(&ev, (enum ev_field)f, (int64_t)f * -1000003);
		else
			ev_set_str(&ev, (enum ev_field)f, (struct span){ hostile, sizeof(hostile) - 1 - (size_t)f % 5 });
	}
	ev_set_str(&ev, F_FROM, (struct span){ "", 0 });	/* the null sender: present and empty */
	return ev;
}

static void
assert_same_event(const struct event *a, const struct event *b)
{
	assert_int_equal(a->type, b->type);
	assert_string_equal(a->mta, b->mta);
	assert_int_equal(a->line, b->line);
	assert_int_equal(a->ts, b->ts);
	assert_int_equal(a->usec, b->usec);
	assert_int_equal(a->ip.family, b->ip.family);
	assert_memory_equal(a->ip.b, b->ip.b, 16);
	assert_int_equal(a->present, b->present);
	assert_int_equal(a->doubtful, b->doubtful);
	for (int f = 0; f < F__COUNT; f++) {
		if (!ev_has(a, (enum ev_field)f))
			continue;
		if (ev_field_kind((enum ev_field)f) == FK_NUM)
			assert_int_equal(a->num[f], b->num[f]);
		else {
			assert_int_equal(a->str[f].n, b->str[f].n);
			if (a->str[f].n > 0)
				assert_memory_equal(a->str[f].p, b->str[f].p, a->str[f].n);
		}
	}
	assert_null(b->rep);
	assert_int_equal(b->aux.n, 0);
}

static void
test_pack_roundtrip(void **state)
{
	struct outbuf ob;
	struct event a = full_event(), b = { .type = EV_CONNECT, .mta = "exim", .line = 1, .ts = 5, .usec = -1 }, x;
	size_t ka, kb, k;

	(void)state;
	ob_init(&ob, -1, 16);
	ka = ev_pack(&ob, &a);
	kb = ev_pack(&ob, &b);	/* no address, no fields */
	assert_int_equal(ob.len, ka + kb);
	k = ev_unpack(ob.p, ob.len, &x);
	assert_int_equal(k, ka);
	assert_same_event(&a, &x);
	k = ev_unpack(ob.p + ka, ob.len - ka, &x);
	assert_int_equal(k, kb);
	assert_same_event(&b, &x);
	/* every truncation of the first is refused, never read past */
	for (size_t n = 0; n < ka; n++) {
		char *cut = malloc(n ? n : 1);

		memcpy(cut, ob.p, n);
		assert_int_equal(ev_unpack(cut, n, &x), 0);
		free(cut);
	}
	ob.p[4] ^= 0x7f;	/* another version */
	assert_int_equal(ev_unpack(ob.p, ob.len, &x), 0);
	ob_free(&ob);
}

/* Random bytes and random corruptions of a good event: refused or read, never a crash (ASan watches). */
static void
test_pack_garbage(void **state)
{
	struct outbuf ob;
	struct event a = full_event(), x;
	unsigned char buf[2048];

	(void)state;
	rng_seed(13);
	ob_init(&ob, -1, 16);
	ev_pack(&ob, &a);
	for (int i = 0; i < 20000; i++) {
		size_t n = i % 2 ? rng_below(sizeof(buf)) : ob.len;
		size_t k;

		if (i % 2) {
			for (size_t j = 0; j < n; j++)
				buf[j] = (unsigned char)rng();
			if (n >= 8)
				buf[4] = 1;	/* past the version check often */
		} else {
			memcpy(buf, ob.p, n);
			for (int j = 0; j < 3; j++)
				buf[rng_below((unsigned)n)] = (unsigned char)rng();
		}
		k = ev_unpack(buf, n, &x);
		assert_true(k <= n);
		for (int f = 0; k > 0 && f < F__COUNT; f++)
			if (ev_has(&x, (enum ev_field)f) && ev_field_kind((enum ev_field)f) != FK_NUM)
				assert_true(x.str[f].p >= (const char *)buf && x.str[f].p + x.str[f].n <= (const char *)buf + n);
	}
	ob_free(&ob);
}

/* ---- a DNS server that answers when told ---- */

struct pending {
	unsigned char q[512];
	size_t n;
	struct sockaddr_in from;
	char qname[256];
};

struct server {
	int fd;
	uint16_t port;
	struct pending p[64];
	int np;
};

static void
server_start(struct server *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
	s->port = ntohs(sa.sin_port);
}

/* The question's name in text ("7.113.0.203.t.test"); the end of the question section in *end. */
static void
qname_of(const unsigned char *q, size_t n, char *out, size_t *end)
{
	size_t i = 12, o = 0;

	while (i < n && q[i] != 0) {
		unsigned l = q[i++];

		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, q + i, l);
		o += l;
		i += l;
	}
	out[o] = '\0';
	*end = i + 1 + 4;	/* the root label, type and class */
}

/* Take in the questions that arrived (waiting up to ms for the first of want). */
static void
server_collect(struct server *s, int want, int ms)
{
	int64_t end = mono_ms() + ms;

	while (s->np < want && mono_ms() < end) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		struct pending *p = &s->p[s->np];
		socklen_t fl = sizeof(p->from);
		ssize_t k;
		size_t qend;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		k = recvfrom(s->fd, p->q, sizeof(p->q), 0, (struct sockaddr *)&p->from, &fl);
		if (k < 12)
			continue;
		p->n = (size_t)k;
		qname_of(p->q, p->n, p->qname, &qend);
		p->n = qend;	/* the question only: an OPT record after it is not repeated */
		s->np++;
	}
}

/* Answer the question for name: a = 0 for NXDOMAIN, else the A record 127.0.0.a. */
static void
server_answer(struct server *s, const char *name, int a)
{
	for (int i = 0; i < s->np; i++) {
		struct pending *p = &s->p[i];
		unsigned char r[600];
		size_t n = p->n;

		if (strcmp(p->qname, name) != 0)
			continue;
		memcpy(r, p->q, n);
		r[2] = 0x84 | (p->q[2] & 1);	/* QR, AA, RD as asked */
		r[3] = a ? 0 : 3;		/* NOERROR or NXDOMAIN */
		r[4] = 0, r[5] = 1;		/* one question */
		r[6] = 0, r[7] = a ? 1 : 0;	/* answers */
		memset(r + 8, 0, 4);		/* no authority, no additional */
		if (a) {
			const unsigned char rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, (unsigned char)a };

			memcpy(r + n, rr, sizeof(rr));
			n += sizeof(rr);
		}
		assert_int_equal(sendto(s->fd, r, n, 0, (struct sockaddr *)&p->from, sizeof(p->from)), (ssize_t)n);
		s->p[i] = s->p[--s->np];
		return;
	}
	fail_msg("no question for %s", name);
}

/* ---- waiting ---- */

struct got {
	char ip[ADDR_STRLEN];
	uint64_t line;
	int state;		/* zone 0's, or -1: no answers (no client) */
	char from[64];
};

struct sink {
	struct got g[64];
	int n;
};

static void
record(void *arg, struct event *ev, const struct dnsrep_answer *ans)
{
	struct sink *s = arg;
	struct got *g = &s->g[s->n++];

	if (ev->ip.family != 0)
		addr_format(&ev->ip, g->ip);
	else
		strcpy(g->ip, "-");
	g->line = ev->line;
	g->state = ans ? (int)ans->zone[0].state : -1;
	if (ans != NULL)
		assert_true(ans->nzones == 1);
	snprintf(g->from, sizeof(g->from), "%.*s", (int)ev->str[F_FROM].n, ev->str[F_FROM].p);
}

struct fixture {
	struct server srv;
	struct zone_spec z;
	const struct zone_spec *zp;
	struct dnsrep *d;
	struct repwait *w;
	struct sink sink;
};

static struct fixture *
fixture_new(size_t max_bytes)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	server_start(&f->srv);
	snprintf(f->z.name, sizeof(f->z.name), "t");
	snprintf(f->z.domain, sizeof(f->z.domain), "t.test");
	snprintf(f->z.server, sizeof(f->z.server), "127.0.0.1");
	f->z.port = f->srv.port;
	f->z.timeout_ms = 1000;
	f->z.risk = f->z.spam = f->z.vol = FEED_SCORE_NONE;
	f->zp = &f->z;
	f->d = dnsrep_new(&f->zp, 1, err, sizeof(err));
	assert_non_null(f->d);
	f->w = repwait_new(f->d, 1, max_bytes, record, &f->sink);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	repwait_free(f->w);
	dnsrep_free(f->d);
	close(f->srv.fd);
	free(f);
}

static void
put(struct fixture *f, const char *ip, uint64_t line, const char *from, int64_t now)
{
	struct event ev = { .type = EV_RCPT_UNKNOWN, .mta = "postfix", .line = line, .ts = 1732000000 };

	if (ip != NULL)
		ev.ip = A(ip);
	ev_set_str(&ev, F_FROM, (struct span){ from, strlen(from) });
	repwait_put(f->w, &ev, now);
}

/* Drive dnsrep until n events have been handed on (or a second passed). */
static void
pump_until(struct fixture *f, int n, int64_t now)
{
	int64_t end = mono_ms() + 1000;

	while (f->sink.n < n && mono_ms() < end) {
		struct pollfd pfd[8];
		int k = dnsrep_pollfds(f->d, pfd, 8);

		poll(pfd, (nfds_t)k, 20);
		dnsrep_process(f->d, now);
	}
}

static void
test_wait_order(void **state)
{
	struct fixture *f = fixture_new(1 << 20);
	struct repwait_stats st;

	(void)state;
	put(f, "203.0.113.7", 1, "a1", 0);
	put(f, "198.51.100.9", 2, "b1", 0);
	put(f, "203.0.113.7", 3, "a2", 0);
	put(f, NULL, 4, "n1", 0);	/* no client: at once */
	put(f, "198.51.100.9", 5, "b2", 0);
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.g[0].ip, "-");
	assert_int_equal(f->sink.g[0].state, -1);
	st = repwait_stats(f->w);
	assert_int_equal(st.waiting, 4);
	assert_int_equal(st.clients, 2);
	server_collect(&f->srv, 2, 2000);
	assert_int_equal(f->srv.np, 2);	/* one question per client, however many events */
	/* the second client's answer first: its events go first, in their order */
	server_answer(&f->srv, "9.100.51.198.t.test", 2);
	pump_until(f, 3, 0);
	assert_int_equal(f->sink.n, 3);
	assert_string_equal(f->sink.g[1].from, "b1");
	assert_string_equal(f->sink.g[2].from, "b2");
	assert_int_equal(f->sink.g[1].state, ZONE_LISTED);
	server_answer(&f->srv, "7.113.0.203.t.test", 0);
	pump_until(f, 5, 0);
	assert_int_equal(f->sink.n, 5);
	assert_string_equal(f->sink.g[3].from, "a1");
	assert_string_equal(f->sink.g[4].from, "a2");
	assert_int_equal(f->sink.g[3].state, ZONE_NOT_LISTED);
	assert_int_equal(f->sink.g[4].line, 3);
	/* cached now: a client's next event is handed on inside repwait_put */
	put(f, "203.0.113.7", 6, "a3", 0);
	assert_int_equal(f->sink.n, 6);
	assert_int_equal(f->sink.g[5].state, ZONE_NOT_LISTED);
	st = repwait_stats(f->w);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.clients, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.waited, 4);
	assert_int_equal(st.forced, 0);
	fixture_free(f);
}

/* A silent server: the events wait until the zone's timeout on the caller's clock, then go on unknown. */
static void
test_wait_timeout(void **state)
{
	struct fixture *f = fixture_new(1 << 20);

	(void)state;
	put(f, "203.0.113.8", 1, "c1", 10000);
	put(f, "203.0.113.8", 2, "c2", 10500);
	dnsrep_process(f->d, 10999);
	assert_int_equal(f->sink.n, 0);
	dnsrep_process(f->d, 11001);
	assert_int_equal(f->sink.n, 2);
	assert_int_equal(f->sink.g[0].state, ZONE_UNKNOWN);
	assert_string_equal(f->sink.g[0].from, "c1");
	assert_string_equal(f->sink.g[1].from, "c2");
	assert_int_equal(repwait_stats(f->w).forced, 0);	/* a timeout is an answer ("unknown"), not forced */
	fixture_free(f);
}

/* Past the memory bound (700 bytes here), the client's events go on at once, unknown; others keep waiting. */
static void
test_wait_bound(void **state)
{
	struct fixture *f = fixture_new(700);
	struct repwait_stats st;
	char big[200];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(f, "198.51.100.1", 1, "small", 0);
	put(f, "198.51.100.2", 2, big, 0);
	put(f, "198.51.100.2", 3, big, 0);
	assert_int_equal(f->sink.n, 0);
	put(f, "198.51.100.2", 4, big, 0);	/* over 700 bytes: .2's three go on */
	assert_int_equal(f->sink.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(f->sink.g[i].ip, "198.51.100.2");
		assert_int_equal(f->sink.g[i].line, (uint64_t)i + 2);
		assert_int_equal(f->sink.g[i].state, ZONE_UNKNOWN);
	}
	st = repwait_stats(f->w);
	assert_int_equal(st.forced, 3);
	assert_int_equal(st.waiting, 1);
	/* .2's answer, when it comes, finds nothing waiting: nothing twice */
	server_collect(&f->srv, 2, 2000);
	server_answer(&f->srv, "2.100.51.198.t.test", 2);
	server_answer(&f->srv, "1.100.51.198.t.test", 0);
	pump_until(f, 4, 0);
	assert_int_equal(f->sink.n, 4);
	assert_string_equal(f->sink.g[3].from, "small");
	fixture_free(f);
}

/* Exported while waiting, imported into a new one (a restart): asked again, every byte kept. */
static void
test_export_import(void **state)
{
	struct fixture *f = fixture_new(1 << 20), *g;
	char evil[] = "\"<x@y>\"; to=<postmaster@example.org>\n\xff";
	void *blob;
	size_t len;

	(void)state;
	put(f, "198.51.100.3", 7, evil, 0);
	put(f, "203.0.113.3", 8, "e2", 0);
	put(f, "198.51.100.3", 9, "e3", 0);
	blob = repwait_export(f->w, &len);
	assert_non_null(blob);
	fixture_free(f);	/* the daemon stopped, its questions unanswered */
	g = fixture_new(1 << 20);
	{
		size_t none = 1;

		assert_null(repwait_export(g->w, &none));	/* nothing waits: nothing to save */
		assert_int_equal(none, 0);
	}
	assert_int_equal(repwait_import(g->w, "MXGW\2\0\0\0", 8, 0), -1);	/* another version */
	assert_int_equal(repwait_import(g->w, blob, len - 1, 0), -1);		/* cut short: none taken */
	assert_int_equal(repwait_stats(g->w).waiting, 0);
	assert_int_equal(repwait_import(g->w, blob, len, 0), 0);
	free(blob);
	assert_int_equal(repwait_stats(g->w).waiting, 3);
	server_collect(&g->srv, 2, 2000);
	server_answer(&g->srv, "3.100.51.198.t.test", 0);
	server_answer(&g->srv, "3.113.0.203.t.test", 0);
	pump_until(g, 3, 0);
	assert_int_equal(g->sink.n, 3);
	for (int i = 0; i < 3; i++)
		if (g->sink.g[i].line == 7)
			assert_string_equal(g->sink.g[i].from, evil);
	/* the client's order survives: 7 before 9 */
	for (int i = 0, seen7 = 0; i < 3; i++) {
		seen7 |= g->sink.g[i].line == 7;
		if (g->sink.g[i].line == 9)
			assert_true(seen7);
	}
	fixture_free(g);
}

/* A reload: everything waiting goes on now, unknown, in the order clients came. */
static void
test_flush(void **state)
{
	struct fixture *f = fixture_new(1 << 20);

	(void)state;
	put(f, "198.51.100.4", 1, "x", 0);
	put(f, "203.0.113.4", 2, "y", 0);
	put(f, "198.51.100.4", 3, "z", 0);
	repwait_flush(f->w);
	assert_int_equal(f->sink.n, 3);
	assert_int_equal(f->sink.g[0].line, 1);
	assert_int_equal(f->sink.g[1].line, 3);
	assert_int_equal(f->sink.g[2].line, 2);
	assert_int_equal(repwait_stats(f->w).forced, 3);
	assert_int_equal(repwait_stats(f->w).waiting, 0);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_roundtrip),
		cmocka_unit_test(test_pack_garbage),
		cmocka_unit_test(test_wait_order),
		cmocka_unit_test(test_wait_timeout),
		cmocka_unit_test(test_wait_bound),
		cmocka_unit_test(test_export_import),
		cmocka_unit_test(test_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
