/*
 * test_mtas.c - the Sendmail, Exim and OpenSMTPD modules through the parser
 * API: held events (released in order, ahead of the releasing line's own
 * event; expired; bounded), per-MTA correlation tables (bounded, their own
 * TTL), and the export/import of correlation state across a restart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../parsers/parser.h"

static int
free_parser(void **state)
{
	parser_free(*state);
	*state = NULL;
	return 0;
}

static struct parser *
mk(void **state, enum parser_mta mta, uint32_t cap, int64_t ttl)
{
	struct parser_opts o = { .mta = mta, .year = 2024, .corr_capacity = cap, .corr_ttl = ttl };

	parser_free(*state);
	*state = parser_new(&o);
	parser_begin_input(*state, 1735689600);
	return *state;
}

/* Feed one line; collect the types and line numbers of every event it yields. */
static int
feed(struct parser *p, const char *line, uint64_t lineno, enum ev_type *types, uint64_t *lines, int max)
{
	struct event ev;
	int n = 0;

	for (int got = parser_line(p, line, strlen(line), lineno, &ev); got; got = parser_next(p, &ev)) {
		assert_true(n < max);
		types[n] = ev.type;
		lines[n] = ev.line;
		n++;
	}
	return n;
}

static void
held_released_before_own_event(void **state)
{
	struct parser *p = mk(state, PARSER_MTA_AUTO, 0, 0);
	enum ev_type t[8];
	uint64_t l[8];

	assert_int_equal(0, feed(p, "Oct 17 07:12:31 mx sm-mta[1]: 49H7CQkL003318: <a@example.org>... User unknown", 1, t, l, 8));
	assert_int_equal(0, feed(p, "Oct 17 07:12:31 mx sm-mta[1]: 49H7CQkL003318: <b@example.org>... User unknown", 2, t, l, 8));
	assert_int_equal(2, parser_stats(p)->held);
	assert_int_equal(3, feed(p, "Oct 17 07:12:32 mx sm-mta[1]: 49H7CQkL003318: lost input channel from "
	    "[203.0.113.5] to MTA after rcpt", 3, t, l, 8));
	assert_int_equal(EV_RCPT_UNKNOWN, t[0]);
	assert_int_equal(1, l[0]);
	assert_int_equal(EV_RCPT_UNKNOWN, t[1]);
	assert_int_equal(2, l[1]);
	assert_int_equal(EV_LOST_CONN, t[2]);
	assert_int_equal(3, l[2]);
	assert_int_equal(0, parser_stats(p)->held);
	/* The closing from= line releases nothing more. */
	assert_int_equal(0, feed(p, "Oct 17 07:12:32 mx sm-mta[1]: 49H7CQkL003318: from=<x@example.net>, size=0, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.5]", 4, t, l, 8));
	assert_int_equal(3, parser_stats(p)->events);
}

static void
held_expire(void **state)
{
	struct parser *p = mk(state, PARSER_MTA_SENDMAIL, 0, 600);
	enum ev_type t[4];
	uint64_t l[4];

	feed(p, "Oct 17 07:00:00 mx sm-mta[1]: 49H7CQkL003318: <a@example.org>... User unknown", 1, t, l, 4);
	/* Another transaction, eleven minutes later: the first one's held event has expired. */
	feed(p, "Oct 17 07:11:00 mx sm-mta[2]: 49H7CQkL003999: <b@example.org>... User unknown", 2, t, l, 4);
	assert_int_equal(1, parser_stats(p)->held_dropped);
	assert_int_equal(0, feed(p, "Oct 17 07:11:01 mx sm-mta[1]: 49H7CQkL003318: from=<x@example.net>, size=0, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.5]", 3, t, l, 4));
	assert_int_equal(1, feed(p, "Oct 17 07:11:01 mx sm-mta[2]: 49H7CQkL003999: from=<x@example.net>, size=0, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.6]", 4, t, l, 4));
	assert_int_equal(2, l[0]);
}

static void
held_bounded(void **state)
{
	struct parser *p = mk(state, PARSER_MTA_SENDMAIL, 0, 0);
	enum ev_type t[4];
	uint64_t l[4];
	char line[200];

	/* 10000 bare lines of distinct transactions that never close: memory stays bounded. */
	for (int i = 0; i < 10000; i++) {
		snprintf(line, sizeof(line), "Oct 17 07:00:00 mx sm-mta[1]: 49H7CQkL%06d: <u%d@example.org>... User unknown",
		    i, i);
		feed(p, line, (uint64_t)i + 1, t, l, 4);
	}
	assert_true(parser_stats(p)->held <= 4096);
	assert_int_equal(10000, parser_stats(p)->held + parser_stats(p)->held_dropped);
	/* The newest one is still there and comes out with its own line number. */
	assert_int_equal(1, feed(p, "Oct 17 07:00:01 mx sm-mta[1]: 49H7CQkL009999: from=<x@example.net>, size=0, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.7]", 10001, t, l, 4));
	assert_int_equal(10000, l[0]);
}

static void
local_client_releases_nothing(void **state)
{
	struct parser *p = mk(state, PARSER_MTA_SENDMAIL, 0, 0);
	enum ev_type t[4];
	uint64_t l[4];

	feed(p, "Oct 17 07:00:00 mx sm-mta[1]: 49H7CQkL003318: <a@example.org>... User unknown", 1, t, l, 4);
	assert_int_equal(0, feed(p, "Oct 17 07:00:01 mx sm-mta[1]: 49H7CQkL003318: from=<root@mx>, size=10, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]", 2, t, l, 4));
	assert_int_equal(1, parser_stats(p)->held_dropped);
	/* A bare line after the local client is known: nothing either. */
	assert_int_equal(0, feed(p, "Oct 17 07:00:02 mx sm-mta[1]: 49H7CQkL003318: <b@example.org>... User unknown",
	    3, t, l, 4));
}

static void
opensmtpd_sessions_bounded(void **state)
{
	struct parser *p = mk(state, PARSER_MTA_OPENSMTPD, 64, 0);
	enum ev_type t[4];
	uint64_t l[4];
	char line[200];

	for (int i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "Dec  9 04:17:52 mx smtpd[1]: %016x smtp connected address=203.0.113.%d "
		    "host=<unknown>", i, i % 250 + 1);
		assert_int_equal(1, feed(p, line, (uint64_t)i + 1, t, l, 4));
	}
	assert_true(parser_stats(p)->corr_size <= 64);
	assert_int_equal(1000 - 64, parser_stats(p)->corr_evicted);
	/* The newest session still has its client; "disconnected" forgets it. */
	assert_int_equal(1, feed(p, "Dec  9 04:17:53 mx smtpd[1]: 00000000000003e7 smtp disconnected reason=quit",
	    1001, t, l, 4));
	assert_int_equal(63, parser_stats(p)->corr_size);
}

static void
corr_survives_restart(void **state)
{
	struct parser *p = mk(state, PARSER_MTA_AUTO, 0, 0), *q;
	struct parser_opts o = { .mta = PARSER_MTA_AUTO, .year = 2024 };
	struct event ev;
	const char *sess = "Dec  9 04:17:52 mx smtpd[1]: 3e91c0a7d25f48b6 smtp connected address=203.0.113.9 host=<unknown>";
	const char *fail = "Dec  9 04:17:53 mx smtpd[1]: 3e91c0a7d25f48b6 smtp failed-command "
	    "command=\"RCPT TO:<a@example.com>\" result=\"550 Invalid recipient: <a@example.com>\"";
	size_t len;
	void *blob;

	assert_int_equal(1, parser_line(p, sess, strlen(sess), 1, &ev));
	blob = parser_corr_export(p, &len);
	q = parser_new(&o);
	assert_int_equal(1, parser_corr_import(q, blob, len));
	free(blob);
	assert_int_equal(1, parser_line(q, fail, strlen(fail), 2, &ev));
	assert_int_equal(EV_RCPT_UNKNOWN, ev.type);
	assert_int_equal(4, ev.ip.family);
	assert_int_equal(9, ev.ip.b[3]);
	parser_free(q);
}

/* kill -9 between a bare line and the line that names the client: the held event is in the saved state. */
static void
held_survive_restart(void **state)
{
	struct parser *p = mk(state, PARSER_MTA_AUTO, 0, 0), *q;
	struct parser_opts o = { .mta = PARSER_MTA_AUTO, .year = 2024 };
	enum ev_type t[4];
	uint64_t l[4];
	size_t len;
	void *blob;

	feed(p, "Oct 17 07:12:31 mx sm-mta[1]: 49H7CQkL003318: <a@example.org>... User unknown", 7, t, l, 4);
	blob = parser_corr_export(p, &len);
	q = parser_new(&o);
	parser_begin_input(q, 1735689600);
	assert_int_equal(1, parser_corr_import(q, blob, len));
	free(blob);
	assert_int_equal(1, feed(q, "Oct 17 07:12:32 mx sm-mta[1]: 49H7CQkL003318: from=<x@example.net>, size=0, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.5]", 8, t, l, 4));
	assert_int_equal(EV_RCPT_UNKNOWN, t[0]);
	assert_int_equal(7, l[0]);
	parser_free(q);
}

/* Bare lines of several open transactions interleave; each close releases exactly its own, in order. */
static void
held_interleaved(void **state)
{
	struct parser *p = mk(state, PARSER_MTA_SENDMAIL, 0, 0), *q;
	struct parser_opts o = { .mta = PARSER_MTA_SENDMAIL, .year = 2024 };
	static const char *const qids[] = { "49H7CQkL00000Z", "49H7CQkL00000A", "49H7CQkL00000B",
		"49H7CQkL00000A", "49H7CQkL00000C", "49H7CQkL00000B" };
	enum ev_type t[8];
	uint64_t l[8];
	char line[256];
	size_t len;
	void *blob;

	for (int i = 0; i < 6; i++) {
		snprintf(line, sizeof(line), "Oct 17 07:00:00 mx sm-mta[1]: %s: <u%d@example.org>... User unknown", qids[i], i);
		feed(p, line, (uint64_t)i + 1, t, l, 8);
	}
	/* (Z never closes: it stays at the head of the ring) */
	snprintf(line, sizeof(line), "Oct 17 07:00:01 mx sm-mta[1]: 49H7CQkL00000B: from=<x@example.net>, size=0, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.2]");
	assert_int_equal(2, feed(p, line, 7, t, l, 8));
	assert_int_equal(3, l[0]);
	assert_int_equal(6, l[1]);
	snprintf(line, sizeof(line), "Oct 17 07:00:01 mx sm-mta[1]: 49H7CQkL00000A: from=<x@example.net>, size=0, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.1]");
	assert_int_equal(2, feed(p, line, 8, t, l, 8));
	assert_int_equal(2, l[0]);
	assert_int_equal(4, l[1]);
	/* A restart compacts the ring; C's event is still found. */
	blob = parser_corr_export(p, &len);
	q = parser_new(&o);
	parser_begin_input(q, 1735689600);
	assert_int_equal(1, parser_corr_import(q, blob, len));
	free(blob);
	snprintf(line, sizeof(line), "Oct 17 07:00:02 mx sm-mta[1]: 49H7CQkL00000C: from=<x@example.net>, size=0, "
	    "class=0, nrcpts=0, proto=ESMTP, daemon=MTA, relay=[203.0.113.3]");
	assert_int_equal(1, feed(q, line, 9, t, l, 8));
	assert_int_equal(5, l[0]);
	assert_int_equal(1, parser_stats(q)->held);	/* Z */
	parser_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(held_released_before_own_event, free_parser),
		cmocka_unit_test_teardown(held_expire, free_parser),
		cmocka_unit_test_teardown(held_bounded, free_parser),
		cmocka_unit_test_teardown(local_client_releases_nothing, free_parser),
		cmocka_unit_test_teardown(opensmtpd_sessions_bounded, free_parser),
		cmocka_unit_test_teardown(corr_survives_restart, free_parser),
		cmocka_unit_test_teardown(held_survive_restart, free_parser),
		cmocka_unit_test_teardown(held_interleaved, free_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
