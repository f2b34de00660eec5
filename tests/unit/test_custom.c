/*
 * test_custom.c - parser blocks (parsers/custom.h) without a configuration
 * file: the literal lead derived from a regex is a prefix of everything it
 * matches (a wrong lead would make a pattern silently never match); the
 * checks refuse what can never work; a block claims its programs with or
 * without Dovecot's "(pid)"; a session joins a later line's client to an
 * earlier one's, 'once' counts a session once; a block goes in front of
 * the built-in module of its program and lets its other lines through;
 * the session table survives export/import and a change of blocks.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcre2.h>

#include "../../parsers/custom.h"
#include "../../parsers/parser.h"

static const char *
lead(const char *re)
{
	static char out[CUSTOM_LEAD_MAX + 1];

	custom_lead(re, out);
	return out;
}

static void
test_lead(void **state)
{
	(void)state;
	assert_string_equal(lead("badlogin: (?<x>a)"), "badlogin: ");
	assert_string_equal(lead("^auth: x"), "auth: x");
	assert_string_equal(lead("ab?c"), "a");			/* b is optional */
	assert_string_equal(lead("ab*c"), "a");
	assert_string_equal(lead("ab{0,2}c"), "a");
	assert_string_equal(lead("ab+c"), "ab");		/* b at least once, then unknown */
	assert_string_equal(lead("a\\(b\\)\\.c"), "a(b).c");	/* escaped punctuation is literal */
	assert_string_equal(lead("a\\dc"), "a");		/* \d is a class */
	assert_string_equal(lead("abc|abd"), "");		/* an alternation at the top */
	assert_string_equal(lead("ab(?:c|d)"), "ab");		/* ... inside a group it is not */
	assert_string_equal(lead("ab[|]c"), "ab");		/* nor in a class */
	assert_string_equal(lead("a\\|b|c"), "");		/* an escaped '|' is literal, the other is not */
	assert_string_equal(lead("(?i)abc"), "");		/* options: nothing assumed */
	assert_string_equal(lead("\\Qa|b\\E"), "");		/* (\Q: a letter escape ends the lead; no '|' counted) */
}

/* The lead is a prefix of what each regex matches, on lines built to match. */
static void
test_lead_is_prefix(void **state)
{
	static const struct {
		const char *re, *subject;
	} cases[] = {
		{ "badlogin: \\[(?<ip>[0-9.]+)\\]", "badlogin: [203.0.113.5]" },
		{ "ab?c", "ac" },
		{ "ab*c", "ac" },
		{ "ab{0,2}c", "ac" },
		{ "ab+c", "abbbc" },
		{ "x\\.y\\(z", "x.y(z" },
		{ "foo(?:bar|baz)", "foobaz" },
		{ "a[|]b", "a|b" },
		{ "abc|xyz", "xyz" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err;
		PCRE2_SIZE off;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)cases[i].re, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED, &err,
		    &off, NULL);
		pcre2_match_data *md = pcre2_match_data_create(8, NULL);
		const char *l = lead(cases[i].re);

		assert_non_null(re);
		assert_true(pcre2_match(re, (PCRE2_SPTR)cases[i].subject, strlen(cases[i].subject), 0, 0, md, NULL) > 0);
		assert_memory_equal(cases[i].subject, l, strlen(l));
		pcre2_match_data_free(md);
		pcre2_code_free(re);
	}
}

static struct custom_pattern pats[4];
static char *progs[2] = { "dovecot", "auth-worker" };

/* A block of n patterns (regex, type, once) claiming dovecot and auth-worker. */
static struct custom_def
block(const char *name, int n, ...)
{
	va_list ap;

	va_start(ap, n);
	memset(pats, 0, sizeof(pats));
	for (int i = 0; i < n; i++) {
		pats[i].regex = va_arg(ap, char *);
		pats[i].type = (enum ev_type)va_arg(ap, int);
		pats[i].once = va_arg(ap, int);
	}
	va_end(ap);
	return (struct custom_def){ .name = (char *)name, .programs = progs, .nprograms = 2, .pat = pats, .npat = n };
}

static int nwarn;
static void
count_warn(void *arg, int pat, const char *msg)
{
	(void)arg, (void)pat, (void)msg;
	nwarn++;
}

static void
test_check(void **state)
{
	struct custom_def d;
	char msg[400];
	size_t off;
	int i;

	(void)state;
	d = block("t", 1, "x (?<ip>\\S+", EV_AUTH_FAIL, 0);
	assert_false(custom_check(&d, &i, &off, msg, sizeof(msg), NULL, NULL));
	assert_int_equal(i, 0);
	assert_int_equal(off, strlen("x (?<ip>\\S+"));	/* PCRE2's offset: the end, where ')' is missing */
	d = block("t", 2, "ok (?<ip>\\S+)", EV_AUTH_FAIL, 0, "y (?<ipaddr>\\S+)", EV_AUTH_FAIL, 0);
	assert_false(custom_check(&d, &i, &off, msg, sizeof(msg), NULL, NULL));
	assert_int_equal(i, 1);
	assert_int_equal(off, 5);			/* at the group's name */
	assert_non_null(strstr(msg, "<ipaddr> is not an event field"));
	d = block("t", 1, "dovecot: auth: (?<ip>\\S+)", EV_AUTH_FAIL, 0);
	assert_false(custom_check(&d, &i, &off, msg, sizeof(msg), NULL, NULL));
	assert_non_null(strstr(msg, "can never match"));
	d = block("t", 1, "x (?<ip>\\S+)", EV_AUTH_FAIL, 1);
	assert_false(custom_check(&d, &i, &off, msg, sizeof(msg), NULL, NULL));
	assert_non_null(strstr(msg, "'once' needs a session"));
	d = block("t", 1, "x (?<aux>\\S+)", EV_AUTH_FAIL, 0);
	assert_false(custom_check(&d, &i, &off, msg, sizeof(msg), NULL, NULL));
	d = block("t", 0);
	assert_false(custom_check(&d, &i, &off, msg, sizeof(msg), NULL, NULL));
	assert_int_equal(i, -1);
	nwarn = 0;
	d = block("t", 2, "x (?<user>\\S+)", EV_AUTH_FAIL, 0, "y", EV_NONE, 0);
	assert_true(custom_check(&d, &i, &off, msg, sizeof(msg), count_warn, NULL));
	assert_int_equal(nwarn, 1);			/* events with no client: a warning, the ignore line none */
}

static struct parser *
parser_with(struct custom_def *d, int n)
{
	struct parser_opts o = { .mta = PARSER_MTA_AUTO, .year = 2024, .custom = d, .ncustom = n };

	return parser_new(&o);
}

/* The event of one line (type EV_NONE if none), its ip as text in ipbuf. */
static enum ev_type
line(struct parser *p, const char *s, char ipbuf[ADDR_STRLEN])
{
	struct event ev;

	ipbuf[0] = '\0';
	if (!parser_line(p, s, strlen(s), 1, &ev))
		return EV_NONE;
	if (ev.ip.family != 0)
		addr_format(&ev.ip, ipbuf);
	return ev.type;
}

#define AUTH "auth: [a-z]+\\((?<user>.*),(?<ip>[0-9a-f.:]+),<(?<session>[A-Za-z0-9]+)>\\): unknown user$"
#define LOGIN "imap-login: Disconnected \\(auth failed\\): rip=(?<ip>[0-9a-f.:]+), session=<(?<session>[A-Za-z0-9]+)>$"
#define LATER "later <(?<session>[A-Za-z0-9]+)>$"

static void
test_sessions(void **state)
{
	struct custom_def d = block("dove", 3, AUTH, EV_AUTH_FAIL, 0, LOGIN, EV_AUTH_FAIL, 1, LATER, EV_PROTOCOL_ERROR, 0);
	struct parser *p = parser_with(&d, 1);
	char ip[ADDR_STRLEN];

	(void)state;
	/* an auth line, then the session's summary: counted once */
	assert_int_equal(line(p, "Mar  4 09:00:01 mx dovecot: auth: pf(a,203.0.113.5,<S1>): unknown user", ip), EV_AUTH_FAIL);
	assert_string_equal(ip, "203.0.113.5");
	assert_int_equal(line(p, "Mar  4 09:00:02 mx dovecot: imap-login: Disconnected (auth failed): rip=203.0.113.5, session=<S1>", ip), EV_NONE);
	/* a summary alone counts */
	assert_int_equal(line(p, "Mar  4 09:00:03 mx dovecot: imap-login: Disconnected (auth failed): rip=203.0.113.6, session=<S2>", ip), EV_AUTH_FAIL);
	/* a line with a session and no client gets the session's */
	assert_int_equal(line(p, "Mar  4 09:00:04 mx dovecot: later <S2>", ip), EV_PROTOCOL_ERROR);
	assert_string_equal(ip, "203.0.113.6");
	/* a session ID longer than the table's keys (Dovecot's for IPv6 clients: 32 bytes) joins too */
	assert_int_equal(line(p, "Mar  4 09:00:04 mx dovecot: imap-login: Disconnected (auth failed): rip=2001:db8::7, "
	    "session=<6OkOYg1iHpggAQ24AA0AAAAAAAAAAAAhXYZ>", ip), EV_AUTH_FAIL);
	assert_int_equal(line(p, "Mar  4 09:00:04 mx dovecot: later <6OkOYg1iHpggAQ24AA0AAAAAAAAAAAAhXYZ>", ip), EV_PROTOCOL_ERROR);
	assert_string_equal(ip, "2001:db8::7");
	assert_int_equal(line(p, "Mar  4 09:00:04 mx dovecot: later <6OkOYg1iHpggAQ24AA0AAAAAAAAAAAAhXYW>", ip), EV_PROTOCOL_ERROR);
	assert_string_equal(ip, "");
	/* ... an unknown session: no client */
	assert_int_equal(line(p, "Mar  4 09:00:05 mx dovecot: later <S9>", ip), EV_PROTOCOL_ERROR);
	assert_string_equal(ip, "");
	/* "auth-worker(12)" is auth-worker's; "auth-workers" is not */
	assert_int_equal(line(p, "Mar  4 09:00:06 auth-worker(12): later <S2>", ip), EV_PROTOCOL_ERROR);
	assert_int_equal(line(p, "Mar  4 09:00:07 auth-workers(12): later <S2>", ip), EV_NONE);
	assert_int_equal(parser_stats(p)->other_program, 1);

	/* the session table goes with the state, and across a change of blocks (by name) */
	size_t len;
	void *blob = parser_corr_export(p, &len);
	struct parser *q = parser_with(&d, 1);

	assert_true(parser_corr_import(q, blob, len));
	assert_int_equal(line(q, "Mar  4 09:00:08 mx dovecot: later <S2>", ip), EV_PROTOCOL_ERROR);
	assert_string_equal(ip, "203.0.113.6");
	free(blob);
	d = block("dove", 1, LATER, EV_RCPT_UNKNOWN, 0);
	parser_set_custom(q, &d, 1);
	assert_int_equal(line(q, "Mar  4 09:00:09 mx dovecot: later <S2>", ip), EV_RCPT_UNKNOWN);
	assert_string_equal(ip, "203.0.113.6");
	d = block("other", 1, LATER, EV_RCPT_UNKNOWN, 0);
	parser_set_custom(q, &d, 1);
	assert_int_equal(line(q, "Mar  4 09:00:10 mx dovecot: later <S2>", ip), EV_RCPT_UNKNOWN);
	assert_string_equal(ip, "");			/* another block: its own table */
	parser_free(q);
	parser_free(p);
}

/* A block in front of a built-in module: its line is the block's, the module keeps the rest. */
static void
test_precedence(void **state)
{
	static char *pf[1] = { "postfix/smtpd" };
	struct custom_pattern one = { .regex = "too many cats from [^[]*\\[(?<ip>[0-9.]+)\\]$", .type = EV_PROTOCOL_ERROR };
	struct custom_def d = { .name = "local", .programs = pf, .nprograms = 1, .pat = &one, .npat = 1 };
	struct parser *p = parser_with(&d, 1);
	struct event ev;
	const char *a = "Mar  4 09:00:01 mx postfix/smtpd[1]: too many cats from x[198.51.100.3]";
	const char *b = "Mar  4 09:00:02 mx postfix/smtpd[1]: connect from x[198.51.100.4]";
	const char *c = "Mar  4 09:00:03 mx postfix/smtpd[1]: something new from x[198.51.100.4]";

	(void)state;
	assert_true(parser_line(p, a, strlen(a), 1, &ev));
	assert_int_equal(ev.type, EV_PROTOCOL_ERROR);
	assert_string_equal(ev.mta, "local");
	assert_true(parser_line(p, b, strlen(b), 2, &ev));
	assert_int_equal(ev.type, EV_CONNECT);
	assert_string_equal(ev.mta, "postfix");
	assert_false(parser_line(p, c, strlen(c), 3, &ev));
	assert_int_equal(parser_stats(p)->unmatched, 1);
	parser_free(p);
}

/*
 * Lines go to the blocks only if their tag's first three bytes are some
 * program's (parser.c's tag set): the tags of every length still reach
 * the block they belong to, a two-byte program (no filter) included.
 */
static void
test_tag_filter(void **state)
{
	static char *tags3[3] = { "xyz", "pop3-login", "qq" };
	struct custom_pattern one = { .regex = "bad from (?<ip>[0-9.]+)$", .type = EV_AUTH_FAIL };
	struct custom_def d = { .name = "t", .programs = tags3, .nprograms = 2, .pat = &one, .npat = 1 };
	struct parser *p = parser_with(&d, 1);
	char ip[ADDR_STRLEN];

	(void)state;
	assert_int_equal(line(p, "Mar  4 09:00:01 mx xyz: bad from 198.51.100.1", ip), EV_AUTH_FAIL);
	assert_int_equal(line(p, "Mar  4 09:00:01 mx xyz(7): bad from 198.51.100.1", ip), EV_AUTH_FAIL);
	assert_int_equal(line(p, "Mar  4 09:00:01 mx pop3-login: bad from 198.51.100.1", ip), EV_AUTH_FAIL);
	assert_int_equal(line(p, "Mar  4 09:00:01 mx xy: bad from 198.51.100.1", ip), EV_NONE);
	assert_int_equal(line(p, "Mar  4 09:00:01 mx pop3-logins: bad from 198.51.100.1", ip), EV_NONE);
	assert_int_equal(line(p, "Mar  4 09:00:01 mx qq: bad from 198.51.100.1", ip), EV_NONE);
	d.nprograms = 3;	/* with "qq": every tag is offered to the blocks */
	parser_set_custom(p, &d, 1);
	assert_int_equal(line(p, "Mar  4 09:00:01 mx qq: bad from 198.51.100.1", ip), EV_AUTH_FAIL);
	assert_int_equal(line(p, "Mar  4 09:00:01 mx qq[3]: bad from 198.51.100.1", ip), EV_AUTH_FAIL);
	assert_int_equal(line(p, "Mar  4 09:00:01 mx xyz: bad from 198.51.100.1", ip), EV_AUTH_FAIL);
	parser_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lead),
		cmocka_unit_test(test_lead_is_prefix),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_tag_filter),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_precedence),
	};

	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
