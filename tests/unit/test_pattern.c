/*
 * test_pattern.c - the pattern tables' defences against hostile lines:
 * the match limit stops a regex that backtracks without end, the limit
 * grows with the line so linear regexes never hit it, an entry's fallback
 * keeps the event (type and client) when its full regex was stopped, and
 * the MTA address scanners step over quoted local parts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../parsers/mta_text.h"
#include "../../parsers/pattern.h"

static const struct pattern_def defs[] = {
	/* (a|a)+ backtracks exponentially on "aaaa...b": it must be stopped. */
	{ "x ", NULL, "x (?<reason>(?:a|a)+)c from \\[(?<ip>[^\\]]+)\\]$", EV_RCPT_UNKNOWN, 0,
	    "x a+b? from \\[(?<ip>[^\\]]+)\\]$" },
	{ "y ", NULL, "y (?<reason>(?:a|a)+)c$", EV_RCPT_UNKNOWN, 0 },
	/* Linear, with a lazy group: fine on a line of any length. */
	{ "z ", NULL, "z (?<reason>.*?) end from \\[(?<ip>[^\\]]+)\\]$", EV_CONNECT, 0 },
};

static struct span
line_of(char *buf, const char *head, char fill, size_t n, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);

	memcpy(buf, head, h);
	memset(buf + h, fill, n);
	memcpy(buf + h + n, tail, t);
	return (struct span){ buf, h + n + t };
}

static void
limit_then_fallback(void **state)
{
	struct pattern_set *ps = pattern_set_new("test", defs, sizeof(defs) / sizeof(defs[0]));
	uint64_t hits = 0;
	struct event ev = { 0 };
	char *buf = malloc(10000);

	(void)state;
	ev_reset(&ev);
	/* "x aaaa...ab from [ip]": the full regex is stopped, the fallback yields the entry and the client. */
	assert_int_equal(0, pattern_set_match(ps, line_of(buf, "x ", 'a', 40, "b from [203.0.113.9]"), &ev, &hits));
	assert_int_equal(1, hits);
	assert_int_equal(EV_DOUBT_ANY, ev.doubtful);
	assert_int_equal(4, ev.ip.family);
	assert_false(ev_has(&ev, F_REASON));
	/* Without a fallback, a stopped regex is no match (and counted). */
	ev_reset(&ev);
	assert_int_equal(-1, pattern_set_match(ps, line_of(buf, "y ", 'a', 40, "bc"), &ev, &hits));
	assert_int_equal(2, hits);
	/* A linear regex on a long line is not stopped: the limit grows with the line. */
	ev_reset(&ev);
	assert_int_equal(2, pattern_set_match(ps, line_of(buf, "z ", 'e', 9000, " end from [198.51.100.7]"), &ev, &hits));
	assert_int_equal(2, hits);
	assert_true(ev_has(&ev, F_REASON));
	assert_int_equal(9000, ev.str[F_REASON].n);
	free(buf);
	pattern_set_free(ps);
}

static void
address_scanners(void **state)
{
	struct span s = SPAN_LIT("to=<\"a> to=<b\\\" c\"@example.org> proto=ESMTP");
	struct span nul = SPAN_LIT("from=<> to=<x@y>");
	struct span bad = SPAN_LIT("to=<a b@example.org>");

	(void)state;
	/* Forward from after "<": the quoted local part is one token. */
	assert_int_equal(30, mta_addr_end(s, 4));
	assert_int_equal(6, mta_addr_end(nul, 6));
	assert_int_equal(-1, mta_addr_end(bad, 4));
	/* Backward from the closing ">": to its "<", over the quotes (with an escaped quote inside). */
	assert_int_equal(3, mta_addr_start(s, 30));
	assert_int_equal(5, mta_addr_start(nul, 6));
	assert_int_equal(-1, mta_addr_start(bad, 19));
	/* Postfix's reply text carries the local part unquoted. */
	assert_int_equal(17, mta_addr_unquoted_prefix(SPAN_LIT("\"a> b\\\"\"@example.org"), SPAN_LIT("a> b\"@example.org>: x")));
	assert_int_equal(5, mta_addr_unquoted_prefix(SPAN_LIT("a@b.c"), SPAN_LIT("a@b.c>: x")));
	assert_int_equal(-1, mta_addr_unquoted_prefix(SPAN_LIT("\"a b\"@x"), SPAN_LIT("a c@x>")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(limit_then_fallback),
		cmocka_unit_test(address_scanners),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
