/*
 * test_syslog_hdr.c - every header form of docs/log-formats.md section 0,
 * year inference, local time zones, rejections, no over-reads.
 *
 * Expected times are computed independently with timegm(3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../parsers/syslog_hdr.h"

/* The current line lives in an exact-size heap copy (no NUL): ASan sees over-reads. */
static char *g_line;

static int
free_line(void **state)
{
	(void)state;
	free(g_line);
	g_line = NULL;
	return 0;
}

static int
parse_n(struct hdr_clock *c, const char *s, size_t n, struct syslog_hdr *h)
{
	free(g_line);
	g_line = malloc(n ? n : 1);
	assert_non_null(g_line);
	memcpy(g_line, s, n);
	memset(h, 0x5a, sizeof(*h));
	return syslog_hdr_parse(c, g_line, n, h);
}

static int
parse(struct hdr_clock *c, const char *s, struct syslog_hdr *h)
{
	return parse_n(c, s, strlen(s), h);
}

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

#define assert_span(sp, lit)                                                          \
	do {                                                                          \
		struct span s_ = (sp);                                                \
		const char *l_ = (lit);                                               \
		if (s_.n != strlen(l_) || (s_.n > 0 && memcmp(s_.p, l_, s_.n) != 0))  \
			fail_msg("span \"%.*s\" (%zu) != \"%s\"", (int)s_.n, s_.p,    \
			    s_.n, l_);                                                \
	} while (0)

/* "<digits>" and nothing else */
static int
is_bare_pri(const char *s, size_t n)
{
	if (n < 2 || s[0] != '<' || s[n - 1] != '>')
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* A clock for 2024 lines: reference mid-2024, year inferred. */
static struct hdr_clock *
clock2024(void)
{
	return hdr_clock_new((time_t)utc(2024, 12, 1, 0, 0, 0), 0);
}

/* ------------------------------------------------------------------ */

static void
test_rfc3164_space_padded_day(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "Mar  4 09:07:13 mx1 postfix/smtpd[21408]: connect from x[192.0.2.1]", &h), 1);
	assert_int_equal(h.form, HDR_RFC3164);
	assert_int_equal(h.ts, utc(2024, 3, 4, 9, 7, 13));
	assert_int_equal(h.usec, -1);
	assert_span(h.host, "mx1");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 21408);
	assert_span(h.body, "connect from x[192.0.2.1]");

	/* two-digit day, single space */
	assert_int_equal(parse(c, "Nov 18 11:26:50 gw2 exim[4417]: dovecot_login", &h), 1);
	assert_int_equal(h.ts, utc(2024, 11, 18, 11, 26, 50));
	assert_span(h.host, "gw2");
	assert_span(h.tag, "exim");
	assert_int_equal(h.pid, 4417);
	assert_span(h.body, "dovecot_login");
	hdr_clock_free(c);
}

static void
test_rfc3164_pri(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "<22>Mar  4 09:07:13 mx1 postfix/smtpd[21408]: disconnect from y", &h), 1);
	assert_int_equal(h.form, HDR_RFC3164);
	assert_int_equal(h.ts, utc(2024, 3, 4, 9, 7, 13));
	assert_int_equal(h.usec, -1);
	assert_span(h.host, "mx1");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 21408);
	assert_span(h.body, "disconnect from y");

	assert_int_equal(parse(c, "<191>Dec  3 23:58:12 mx2 postfix/smtpd[11873]: x", &h), 1);
	assert_int_equal(h.ts, utc(2023, 12, 3, 23, 58, 12));	/* > ref + 1 day: 2023 */
	assert_span(h.host, "mx2");
	assert_int_equal(h.pid, 11873);
	hdr_clock_free(c);
}

static void
test_bsd_v_priority(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "Sep 22 03:18:40 <2.5> mx2 sm-mta[7316]: 49E9L5aB048213: lost input channel", &h), 1);
	assert_int_equal(h.form, HDR_RFC3164);
	assert_int_equal(h.ts, utc(2024, 9, 22, 3, 18, 40));
	assert_span(h.host, "mx2");
	assert_span(h.tag, "sm-mta");
	assert_int_equal(h.pid, 7316);
	assert_span(h.body, "49E9L5aB048213: lost input channel");

	assert_int_equal(parse(c, "Oct 17 07:12:31 <mail.notice> mx2 sm-mta[3318]: 49H7CQkL003318: <ghost@example.org>... User unknown", &h), 1);
	assert_int_equal(h.ts, utc(2024, 10, 17, 7, 12, 31));
	assert_span(h.host, "mx2");
	assert_span(h.tag, "sm-mta");
	assert_int_equal(h.pid, 3318);
	assert_span(h.body, "49H7CQkL003318: <ghost@example.org>... User unknown");
	hdr_clock_free(c);
}

static void
test_iso_usec_utc(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "2024-11-19T07:42:05.118302+00:00 mx1 postfix/smtpd[48211]: connect from z", &h), 1);
	assert_int_equal(h.form, HDR_ISO);
	assert_int_equal(h.ts, utc(2024, 11, 19, 7, 42, 5));
	assert_int_equal(h.usec, 118302);
	assert_span(h.host, "mx1");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 48211);
	assert_span(h.body, "connect from z");
	hdr_clock_free(c);
}

static void
test_iso_ms_z(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "2023-06-02T14:09:51.734Z gw2 postfix/smtps/smtpd[17720]: lost connection", &h), 1);
	assert_int_equal(h.form, HDR_ISO);
	assert_int_equal(h.ts, utc(2023, 6, 2, 14, 9, 51));
	assert_int_equal(h.usec, 734000);
	assert_span(h.host, "gw2");
	assert_span(h.tag, "postfix/smtps/smtpd");
	assert_int_equal(h.pid, 17720);
	assert_span(h.body, "lost connection");
	hdr_clock_free(c);
}

static void
test_iso_no_fraction(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "2024-12-03T05:16:48+00:00 gw2 postfix/smtpd[1840562]: NOQUEUE: reject", &h), 1);
	assert_int_equal(h.form, HDR_ISO);
	assert_int_equal(h.ts, utc(2024, 12, 3, 5, 16, 48));
	assert_int_equal(h.usec, -1);
	assert_span(h.host, "gw2");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 1840562);
	assert_span(h.body, "NOQUEUE: reject");

	assert_int_equal(parse(c, "2024-12-03T05:16:48Z gw2 postfix/smtpd[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 12, 3, 5, 16, 48));
	assert_int_equal(h.usec, -1);
	hdr_clock_free(c);
}

static void
test_iso_negative_offset(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "2024-11-19T07:42:05.5-05:00 mx1 postfix/smtpd[48211]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 11, 19, 12, 42, 5));
	assert_int_equal(h.usec, 500000);
	assert_span(h.host, "mx1");
	/* crossing midnight and the year */
	assert_int_equal(parse(c, "2024-12-31T23:30:00-01:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2025, 1, 1, 0, 30, 0));
	/* half-hour zone, positive */
	assert_int_equal(parse(c, "2024-01-01T00:10:00+05:30 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2023, 12, 31, 18, 40, 0));
	hdr_clock_free(c);
}

static void
test_journal_short_iso(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "2023-10-12T08:51:44+0200 mx1 postfix/smtpd[2210]: connect from a", &h), 1);
	assert_int_equal(h.form, HDR_ISO);
	assert_int_equal(h.ts, utc(2023, 10, 12, 6, 51, 44));
	assert_int_equal(h.usec, -1);
	assert_span(h.host, "mx1");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 2210);
	assert_span(h.body, "connect from a");

	assert_int_equal(parse(c, "2023-10-12T08:51:44+02:00 mx1 postfix/smtpd[2210]: connect from a", &h), 1);
	assert_int_equal(h.form, HDR_ISO);
	assert_int_equal(h.ts, utc(2023, 10, 12, 6, 51, 44));
	assert_int_equal(h.usec, -1);
	assert_span(h.host, "mx1");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 2210);
	assert_span(h.body, "connect from a");
	hdr_clock_free(c);
}

static void
test_journal_short_localised(void **state)
{
	struct hdr_clock *c = hdr_clock_new((time_t)utc(2024, 12, 1, 0, 0, 0), 2024);
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "M\xc3\xa4r 03 06:14:52 gw2 smtpd[5127]: 1a2b3c4d5e6f7a8b smtp connected", &h), 1);
	assert_int_equal(h.form, HDR_RFC3164);
	assert_int_equal(h.ts, utc(2024, 3, 3, 6, 14, 52));
	assert_int_equal(h.usec, -1);
	assert_span(h.host, "gw2");
	assert_span(h.tag, "smtpd");
	assert_int_equal(h.pid, 5127);
	assert_span(h.body, "1a2b3c4d5e6f7a8b smtp connected");

	/* zero-padded English day (Postfix maillog_file) */
	assert_int_equal(parse(c, "Mar 03 06:14:52 gw2 postfix/smtpd[5127]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 3, 3, 6, 14, 52));
	/* a few more localised names */
	assert_int_equal(parse(c, "Dez 24 18:00:00 gw2 smtpd[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 12, 24, 18, 0, 0));
	assert_int_equal(parse(c, "Okt 05 01:02:03 gw2 smtpd[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 10, 5, 1, 2, 3));
	assert_int_equal(parse(c, "janv. 05 01:02:03 gw2 smtpd[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 1, 5, 1, 2, 3));
	assert_int_equal(parse(c, "ao\xc3\xbbt 05 01:02:03 gw2 smtpd[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 8, 5, 1, 2, 3));
	assert_int_equal(parse(c, "d\xc3\xa9""c. 05 01:02:03 gw2 smtpd[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 12, 5, 1, 2, 3));
	assert_int_equal(parse(c, "\xd0\xbc\xd0\xb0\xd1\x8f 05 01:02:03 gw2 smtpd[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 5, 5, 1, 2, 3));
	/* case-insensitive ASCII */
	assert_int_equal(parse(c, "MAR 03 06:14:52 gw2 smtpd[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 3, 3, 6, 14, 52));
	hdr_clock_free(c);
}

static void
test_rfc5424_nil_sd(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "<22>1 2024-03-11T09:14:02.318204-05:00 192.0.2.5 postfix/smtpd 41822 - - connect from a[192.0.2.9]", &h), 1);
	assert_int_equal(h.form, HDR_RFC5424);
	assert_int_equal(h.ts, utc(2024, 3, 11, 14, 14, 2));
	assert_int_equal(h.usec, 318204);
	assert_span(h.host, "192.0.2.5");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 41822);
	assert_span(h.body, "connect from a[192.0.2.9]");

	/* nil host, app and procid */
	assert_int_equal(parse(c, "<22>1 2024-03-11T09:14:02Z - - - - - msg", &h), 1);
	assert_int_equal(h.ts, utc(2024, 3, 11, 9, 14, 2));
	assert_int_equal(h.usec, -1);
	assert_span(h.host, "");
	assert_span(h.tag, "");
	assert_int_equal(h.pid, -1);
	assert_span(h.body, "msg");
	hdr_clock_free(c);
}

static void
test_rfc5424_sd_escaped_bracket(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "<165>1 2024-03-11T09:14:02Z mx1.example.org postfix/smtpd 41822 ID47 "
	    "[exampleSDID@32473 iut=\"3\" eventSource=\"App] \\] \\\" x\" eventID=\"1011\"]"
	    "[examplePriority@32473 class=\"high\"] connect from b", &h), 1);
	assert_int_equal(h.form, HDR_RFC5424);
	assert_int_equal(h.ts, utc(2024, 3, 11, 9, 14, 2));
	assert_span(h.host, "mx1.example.org");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 41822);
	assert_span(h.body, "connect from b");
	hdr_clock_free(c);
}

static void
test_rfc5424_bom(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "<22>1 2024-03-11T09:14:02.003Z mx1 postfix/smtpd 41822 - - \xef\xbb\xbf" "connect from c", &h), 1);
	assert_int_equal(h.form, HDR_RFC5424);
	assert_int_equal(h.ts, utc(2024, 3, 11, 9, 14, 2));
	assert_int_equal(h.usec, 3000);
	assert_span(h.host, "mx1");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 41822);
	assert_span(h.body, "connect from c");
	hdr_clock_free(c);
}

static void
test_rfc5424_nil_timestamp(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "<22>1 2024-03-11T09:14:02Z mx1 postfix/smtpd 41822 - - first", &h), 1);
	assert_int_equal(h.ts, utc(2024, 3, 11, 9, 14, 2));
	assert_int_equal(parse(c, "<22>1 - mx1 postfix/smtpd 41823 - - second", &h), 1);
	assert_int_equal(h.form, HDR_RFC5424);
	/* nil time: the time of the previous line */
	assert_int_equal(h.ts, utc(2024, 3, 11, 9, 14, 2));
	assert_int_equal(h.usec, -1);
	assert_span(h.host, "mx1");
	assert_span(h.tag, "postfix/smtpd");
	assert_int_equal(h.pid, 41823);
	assert_span(h.body, "second");
	hdr_clock_free(c);

	/* on a fresh clock: no crash, still parsed */
	c = clock2024();
	assert_int_equal(parse(c, "<22>1 - - - - - - x", &h), 1);
	assert_span(h.body, "x");
	hdr_clock_free(c);
}

static void
test_exim_mainlog_pid(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "2021-02-17 10:04:58 [27316] H=(gw2.example.net) [203.0.113.5] F=<a@b> rejected RCPT <c@d>", &h), 1);
	assert_int_equal(h.form, HDR_EXIM_MAINLOG);
	assert_int_equal(h.ts, utc(2021, 2, 17, 10, 4, 58));
	assert_int_equal(h.usec, -1);
	assert_int_equal(h.pid, 27316);
	assert_span(h.host, "");
	assert_span(h.tag, "");
	assert_span(h.body, "H=(gw2.example.net) [203.0.113.5] F=<a@b> rejected RCPT <c@d>");
	hdr_clock_free(c);
}

static void
test_exim_mainlog_nopid(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "2021-02-17 10:04:58 H=(gw2.example.net) [203.0.113.5] rejected", &h), 1);
	assert_int_equal(h.form, HDR_EXIM_MAINLOG);
	assert_int_equal(h.ts, utc(2021, 2, 17, 10, 4, 58));
	assert_int_equal(h.usec, -1);
	assert_int_equal(h.pid, -1);
	assert_span(h.host, "");
	assert_span(h.tag, "");
	assert_span(h.body, "H=(gw2.example.net) [203.0.113.5] rejected");

	/* with +millisec */
	assert_int_equal(parse(c, "2024-01-09 22:47:31.912 1rNL2p-000Fv1-0K <= <> H=x [192.0.2.1]", &h), 1);
	assert_int_equal(h.form, HDR_EXIM_MAINLOG);
	assert_int_equal(h.ts, utc(2024, 1, 9, 22, 47, 31));
	assert_int_equal(h.usec, 912000);
	assert_int_equal(h.pid, -1);
	assert_span(h.body, "1rNL2p-000Fv1-0K <= <> H=x [192.0.2.1]");

	/* "[" that is not a pid stays in the body */
	assert_int_equal(parse(c, "2021-02-17 10:04:58 [abc] x", &h), 1);
	assert_int_equal(h.pid, -1);
	assert_span(h.body, "[abc] x");
	hdr_clock_free(c);
}

static void
test_tags(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;
	static const char *tags[] = {
		"postfix/submission/smtpd", "postfix/smtps/smtpd", "postfix-inbound/smtpd",
		"postfix-out/submission/smtpd", "postfix/smtp-2525/smtpd",
		"postfix-198.51.100.20/qmgr", "postfix/pre-cleanup/cleanup", "sm-mta",
		"sendmail", "sm-acceptingconnections", "exim4", "smtpd",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		char line[256];

		snprintf(line, sizeof(line), "Jul  9 02:17:45 mx1 %s[22807]: warning: x", tags[i]);
		assert_int_equal(parse(c, line, &h), 1);
		assert_span(h.host, "mx1");
		assert_span(h.tag, tags[i]);
		assert_int_equal(h.pid, 22807);
		assert_span(h.body, "warning: x");
		/* same tag in ISO form */
		snprintf(line, sizeof(line), "2024-07-09T02:17:45.1+00:00 mx1 %s[22807]: warning: x", tags[i]);
		assert_int_equal(parse(c, line, &h), 1);
		assert_span(h.tag, tags[i]);
		assert_int_equal(h.pid, 22807);
		assert_int_equal(h.usec, 100000);
	}
	/* tag without pid */
	assert_int_equal(parse(c, "Jul  9 02:17:45 mx1 postfix-198.51.100.20/qmgr: A81D2C0F3B: removed", &h), 1);
	assert_span(h.tag, "postfix-198.51.100.20/qmgr");
	assert_int_equal(h.pid, -1);
	assert_span(h.body, "A81D2C0F3B: removed");
	/* no host: the first token is already the tag */
	assert_int_equal(parse(c, "Jul  9 02:17:45 postfix/submission/smtpd[22807]: body", &h), 1);
	assert_span(h.host, "");
	assert_span(h.tag, "postfix/submission/smtpd");
	assert_int_equal(h.pid, 22807);
	assert_span(h.body, "body");
	hdr_clock_free(c);
}

static void
test_no_tag(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "Mar  4 09:07:13 mx1 last message repeated 3 times", &h), 1);
	assert_int_equal(h.ts, utc(2024, 3, 4, 9, 7, 13));
	assert_span(h.host, "mx1");
	assert_span(h.tag, "");
	assert_int_equal(h.pid, -1);
	assert_span(h.body, "last message repeated 3 times");
	hdr_clock_free(c);
}

/* Many lines with one timestamp text (a busy second): every field per line. */
static void
test_repeated_stamp(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	for (int round = 0; round < 2; round++) {
		assert_int_equal(parse(c, "Mar  4 09:07:13 mx1 postfix/smtpd[1]: a", &h), 1);
		assert_int_equal(h.ts, utc(2024, 3, 4, 9, 7, 13));
		assert_int_equal(h.usec, -1);
		assert_span(h.host, "mx1");
		assert_span(h.tag, "postfix/smtpd");
		assert_int_equal(h.pid, 1);
		assert_span(h.body, "a");
		assert_int_equal(parse(c, "Mar  4 09:07:13 mx2 postfix/qmgr: b", &h), 1);
		assert_int_equal(h.form, HDR_RFC3164);
		assert_int_equal(h.ts, utc(2024, 3, 4, 9, 7, 13));
		assert_span(h.host, "mx2");
		assert_span(h.tag, "postfix/qmgr");
		assert_int_equal(h.pid, -1);
		assert_span(h.body, "b");
		assert_int_equal(parse(c, "Mar  4 09:07:13 <mail.info> mx3 sm-mta[7]: c", &h), 1);
		assert_span(h.host, "mx3");
		assert_span(h.tag, "sm-mta");
		assert_int_equal(h.pid, 7);
		assert_int_equal(parse(c, "<13>Mar  4 09:07:13 mx4 last message repeated 2 times", &h), 1);
		assert_int_equal(h.ts, utc(2024, 3, 4, 9, 7, 13));
		assert_span(h.host, "mx4");
		assert_span(h.tag, "");
		assert_int_equal(parse(c, "Mar  4 09:07:13 postfix/smtpd[9]: d", &h), 1);
		assert_span(h.host, "");
		assert_span(h.tag, "postfix/smtpd");
		/* the same text extended by a fraction is another time */
		assert_int_equal(parse(c, "Mar  4 09:07:13.25 mx1 a[1]: e", &h), 1);
		assert_int_equal(h.ts, utc(2024, 3, 4, 9, 7, 13));
		assert_int_equal(h.usec, 250000);
		/* a near-identical stamp one second later */
		assert_int_equal(parse(c, "Mar  4 09:07:14 mx1 a[1]: f", &h), 1);
		assert_int_equal(h.ts, utc(2024, 3, 4, 9, 7, 14));
		assert_int_equal(h.usec, -1);

		assert_int_equal(parse(c, "2024-11-19T07:42:05.118302+00:00 mx1 postfix/smtpd[2]: g", &h), 1);
		assert_int_equal(parse(c, "2024-11-19T07:42:05.118302+00:00 mx9 postfix/smtps/smtpd[3]: h", &h), 1);
		assert_int_equal(h.form, HDR_ISO);
		assert_int_equal(h.ts, utc(2024, 11, 19, 7, 42, 5));
		assert_int_equal(h.usec, 118302);
		assert_span(h.host, "mx9");
		assert_span(h.tag, "postfix/smtps/smtpd");
		assert_int_equal(h.pid, 3);
		assert_span(h.body, "h");
		/* same digits, other zone: another time */
		assert_int_equal(parse(c, "2024-11-19T07:42:05.118302+01:00 mx9 a[3]: i", &h), 1);
		assert_int_equal(h.ts, utc(2024, 11, 19, 6, 42, 5));
		/* Exim mainlog lines sharing a second keep pid and body apart */
		assert_int_equal(parse(c, "2021-02-17 10:04:58 [27316] H=a", &h), 1);
		assert_int_equal(parse(c, "2021-02-17 10:04:58 [27317] H=b", &h), 1);
		assert_int_equal(h.form, HDR_EXIM_MAINLOG);
		assert_int_equal(h.ts, utc(2021, 2, 17, 10, 4, 58));
		assert_int_equal(h.pid, 27317);
		assert_span(h.host, "");
		assert_span(h.tag, "");
		assert_span(h.body, "H=b");
		assert_int_equal(parse(c, "2021-02-17 10:04:58 H=c", &h), 1);
		assert_int_equal(h.form, HDR_EXIM_MAINLOG);
		assert_int_equal(h.pid, -1);
		assert_span(h.host, "");
		assert_span(h.body, "H=c");
		/* RFC 5424 with the same time */
		assert_int_equal(parse(c, "<22>1 2024-11-19T07:42:05.118302+00:00 h5 app 4 - - j", &h), 1);
		assert_int_equal(h.form, HDR_RFC5424);
		assert_span(h.host, "h5");
		assert_span(h.body, "j");
	}
	hdr_clock_free(c);
}

static void
test_year_inference(void **state)
{
	struct hdr_clock *c = hdr_clock_new((time_t)utc(2024, 1, 2, 0, 0, 0), 0);
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "Dec 31 23:00:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2023, 12, 31, 23, 0, 0));
	assert_int_equal(parse(c, "Jan  1 10:00:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 1, 1, 10, 0, 0));
	/* at most one day after the reference */
	assert_int_equal(parse(c, "Jan  3 00:00:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 1, 3, 0, 0, 0));
	assert_int_equal(parse(c, "Jan  3 00:00:01 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2023, 1, 3, 0, 0, 1));
	assert_int_equal(parse(c, "Jul 15 12:00:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2023, 7, 15, 12, 0, 0));
	hdr_clock_free(c);

	/* reference in a leap year's Feb 29: the 29th stays in 2024 */
	c = hdr_clock_new((time_t)utc(2024, 3, 1, 0, 0, 0), 0);
	assert_int_equal(parse(c, "Feb 29 12:00:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 2, 29, 12, 0, 0));
	hdr_clock_free(c);
}

static void
test_fixed_year(void **state)
{
	struct hdr_clock *c = hdr_clock_new((time_t)utc(2024, 1, 2, 0, 0, 0), 2019);
	struct syslog_hdr h;
	static const char *names[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};

	(void)state;
	for (int m = 1; m <= 12; m++) {
		char line[128];

		snprintf(line, sizeof(line), "%s 28 13:14:15 mx1 a[1]: x", names[m - 1]);
		assert_int_equal(parse(c, line, &h), 1);
		assert_int_equal(h.ts, utc(2019, m, 28, 13, 14, 15));
	}
	/* Dec with a fixed year is not pushed back */
	assert_int_equal(parse(c, "Dec 31 23:59:59 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2019, 12, 31, 23, 59, 59));
	/* Feb 29 in a non-leap year: no crash; if accepted, around Feb 28 / Mar 1 */
	if (parse(c, "Feb 29 10:00:00 mx1 a[1]: x", &h) == 1) {
		assert_true(h.ts >= utc(2019, 2, 28, 10, 0, 0));
		assert_true(h.ts <= utc(2019, 3, 1, 10, 0, 0));
		assert_span(h.body, "x");
	}
	hdr_clock_free(c);
}

static void
test_timezone_berlin(void **state)
{
	struct hdr_clock *c;
	struct syslog_hdr h;

	(void)state;
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0) {
		print_message("  skipped: no /usr/share/zoneinfo/Europe/Berlin (./run test installs tzdata)\n");
		skip();
		return;
	}
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	c = hdr_clock_new((time_t)utc(2024, 12, 1, 0, 0, 0), 2024);
	/* alternate summer and winter to exercise any offset cache */
	for (int round = 0; round < 3; round++) {
		assert_int_equal(parse(c, "Jul  1 12:00:00 mx1 a[1]: x", &h), 1);
		assert_int_equal(h.ts, utc(2024, 7, 1, 10, 0, 0));
		assert_int_equal(parse(c, "Jan  1 12:00:00 mx1 a[1]: x", &h), 1);
		assert_int_equal(h.ts, utc(2024, 1, 1, 11, 0, 0));
	}
	/* unambiguous hours around the DST changes of 2024 */
	assert_int_equal(parse(c, "Mar 31 01:30:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 3, 31, 0, 30, 0));
	assert_int_equal(parse(c, "Mar 31 03:30:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 3, 31, 1, 30, 0));
	assert_int_equal(parse(c, "Oct 27 01:30:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 10, 26, 23, 30, 0));
	assert_int_equal(parse(c, "Oct 27 03:30:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 10, 27, 2, 30, 0));
	/* ISO without a zone and Exim's mainlog are local time too */
	assert_int_equal(parse(c, "2024-07-01T12:00:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 7, 1, 10, 0, 0));
	assert_int_equal(parse(c, "2024-01-09 22:47:31 [5] x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 1, 9, 21, 47, 31));
	/* an explicit offset is not shifted again */
	assert_int_equal(parse(c, "2024-07-01T12:00:00+00:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 7, 1, 12, 0, 0));
	assert_int_equal(parse(c, "2024-07-01T12:00:00Z mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2024, 7, 1, 12, 0, 0));
	hdr_clock_free(c);

	/* year inference uses the local reference: 2023-12-31 23:30 UTC is 2024-01-01 00:30 in Berlin */
	c = hdr_clock_new((time_t)utc(2023, 12, 31, 23, 30, 0), 0);
	assert_int_equal(parse(c, "Jan  1 00:10:00 mx1 a[1]: x", &h), 1);
	assert_int_equal(h.ts, utc(2023, 12, 31, 23, 10, 0));
	hdr_clock_free(c);

	setenv("TZ", "UTC", 1);
	tzset();
}

static void
test_rejections(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;
	static const char *bad[] = {
		"",
		"garbage",
		"garbage that is long enough to pass length checks",
		"Mar 32 09:07:13 mx1 a[1]: x",
		"Mar 0 09:07:13 mx1 a[1]: x",
		"Mar 00 09:07:13 mx1 a[1]: x",
		"Mar xx 09:07:13 mx1 a[1]: x",
		"Mar  4 25:07:13 mx1 a[1]: x",
		"Mar  4 24:00:00 mx1 a[1]: x",
		"Mar  4 09:60:13 mx1 a[1]: x",
		"Mar  4 09:07:61 mx1 a[1]: x",
		"Mar  4 09:0",
		"Mar  4 09:07:1",
		"Mar  4",
		"Mar",
		"Foo  4 09:07:13 mx1 a[1]: x",
		"March  4 09:07:13 mx1 a[1]: x",
		"2024-13-19T07:42:05Z mx1 a[1]: x",
		"2024-00-19T07:42:05Z mx1 a[1]: x",
		"2024-11-32T07:42:05Z mx1 a[1]: x",
		"2024-11-19T25:42:05Z mx1 a[1]: x",
		"2024-11-19T07:42",
		"2024-11-19 07:42",
		"2024-11-19",
		"<>Mar  4 09:07:13 mx1 a[1]: x",
		"<22",
		"<22>1 garbage",
		"<22>1 2024-03-11T09:14:02Z",
		"<22>1 2024-03-11T09:14:02Z mx1 app 1 - [unterminated sd",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(c, bad[i], &h) != 0)
			fail_msg("accepted \"%s\"", bad[i]);

	/* lines of only NUL bytes, of several lengths */
	static const char zeros[128];
	for (size_t n = 1; n <= sizeof(zeros); n++)
		assert_int_equal(parse_n(c, zeros, n, &h), 0);
	hdr_clock_free(c);
}

/*
 * A line that is just "<PRI>" must be rejected without reading past its
 * end (run under ASan: the buffer is an exact-size heap copy).
 */
static void
test_pri_only_no_overread(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;

	(void)state;
	assert_int_equal(parse(c, "<13>", &h), 0);
	assert_int_equal(parse(c, "<1>", &h), 0);
	assert_int_equal(parse(c, "<22>", &h), 0);
	hdr_clock_free(c);
}

/* Every prefix of every sample, in an exact-size buffer: no over-read, no crash. */
static void
test_prefixes_no_overread(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;
	static const char *samples[] = {
		"Mar  4 09:07:13 mx1 postfix/smtpd[21408]: connect from x",
		"Mar 14 09:07:13.123456 mx1 postfix/smtpd[21408]: connect from x",
		"<22>Mar  4 09:07:13 mx1 postfix/smtpd[21408]: x",
		"Sep 22 03:18:40 <mail.notice> mx2 sm-mta[7316]: x",
		"2024-11-19T07:42:05.118302+00:00 mx1 postfix/smtpd[48211]: x",
		"2023-10-12T08:51:44+0200 mx1 postfix/smtpd[2210]: x",
		"2023-06-02T14:09:51.734Z gw2 postfix/smtps/smtpd[17720]: x",
		"M\xc3\xa4r 03 06:14:52 gw2 smtpd[5127]: x",
		"<22>1 2024-03-11T09:14:02.318204-05:00 192.0.2.5 postfix/smtpd 41822 - - x",
		"<22>1 2024-03-11T09:14:02Z h a 1 m [x y=\"a\\]b\"][z] \xef\xbb\xbfx",
		"<22>1 - h a 1 m - x",
		"2021-02-17 10:04:58 [27316] H=x",
		"2024-01-09 22:47:31.912 x",
		"Mar  4 09:07:13 mx1 last message repeated 3 times",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		size_t n = strlen(samples[i]);

		for (size_t k = 0; k <= n; k++) {
			/*
			 * A bare "<PRI>" prefix is left to test_pri_only_no_overread
			 * (run last: under ASan its over-read aborts the binary).
			 */
			if (is_bare_pri(samples[i], k))
				continue;
			if (parse_n(c, samples[i], k, &h) == 1) {
				/* every span must lie inside the line */
				const char *b = g_line, *e = g_line + k;

				assert_true(h.host.p >= b && h.host.p + h.host.n <= e);
				assert_true(h.tag.p >= b && h.tag.p + h.tag.n <= e);
				assert_true(h.body.p >= b && h.body.p + h.body.n <= e);
			}
		}
		assert_int_equal(parse_n(c, samples[i], n, &h), 1);
	}
	hdr_clock_free(c);
}

/* Random bytes: never crash, spans stay inside the line. */
static void
test_random_lines(void **state)
{
	struct hdr_clock *c = clock2024();
	struct syslog_hdr h;
	uint64_t x = 88172645463325252ull;
	static const char alpha[] = "0123456789 :-+.TZ<>[]\"\\JanMar\xc3\xa4\x00";

	(void)state;
	for (int iter = 0; iter < 100000; iter++) {
		char s[80];
		size_t n;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		n = (size_t)(x % sizeof(s));
		for (size_t k = 0; k < n; k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			s[k] = alpha[x % (sizeof(alpha) - 1)];
		}
		if (is_bare_pri(s, n))
			continue;	/* see test_pri_only_no_overread */
		if (parse_n(c, s, n, &h) == 1) {
			const char *b = g_line, *e = g_line + n;

			assert_true(h.body.p >= b && h.body.p + h.body.n <= e);
			assert_true(h.tag.p >= b && h.tag.p + h.tag.n <= e);
			assert_true(h.host.p >= b && h.host.p + h.host.n <= e);
		}
	}
	hdr_clock_free(c);
}

static void
test_days_from_civil(void **state)
{
	(void)state;
	assert_int_equal(hdr_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(hdr_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(hdr_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(hdr_days_from_civil(0, 3, 1), -719468);

	/* the first and last day of every month, 1600..2400, against timegm */
	for (int y = 1600; y <= 2400; y++) {
		for (int m = 1; m <= 12; m++) {
			static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
			int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
			int last = mdays[m - 1] + (m == 2 && leap);

			if (hdr_days_from_civil(y, (unsigned)m, 1) * 86400 != utc(y, m, 1, 0, 0, 0))
				fail_msg("%d-%02d-01", y, m);
			if (hdr_days_from_civil(y, (unsigned)m, (unsigned)last) * 86400 != utc(y, m, last, 0, 0, 0))
				fail_msg("%d-%02d-%02d", y, m, last);
			/* the next month starts the day after the last */
			int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
			assert_int_equal(hdr_days_from_civil(ny, (unsigned)nm, 1),
			    hdr_days_from_civil(y, (unsigned)m, (unsigned)last) + 1);
		}
	}
	/* a few negative years */
	for (int y = -2000; y < 0; y += 97)
		if (hdr_days_from_civil(y, 7, 15) * 86400 != utc(y, 7, 15, 0, 0, 0))
			fail_msg("year %d", y);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rfc3164_space_padded_day, free_line),
		cmocka_unit_test_teardown(test_rfc3164_pri, free_line),
		cmocka_unit_test_teardown(test_bsd_v_priority, free_line),
		cmocka_unit_test_teardown(test_iso_usec_utc, free_line),
		cmocka_unit_test_teardown(test_iso_ms_z, free_line),
		cmocka_unit_test_teardown(test_iso_no_fraction, free_line),
		cmocka_unit_test_teardown(test_iso_negative_offset, free_line),
		cmocka_unit_test_teardown(test_journal_short_iso, free_line),
		cmocka_unit_test_teardown(test_journal_short_localised, free_line),
		cmocka_unit_test_teardown(test_rfc5424_nil_sd, free_line),
		cmocka_unit_test_teardown(test_rfc5424_sd_escaped_bracket, free_line),
		cmocka_unit_test_teardown(test_rfc5424_bom, free_line),
		cmocka_unit_test_teardown(test_rfc5424_nil_timestamp, free_line),
		cmocka_unit_test_teardown(test_exim_mainlog_pid, free_line),
		cmocka_unit_test_teardown(test_exim_mainlog_nopid, free_line),
		cmocka_unit_test_teardown(test_tags, free_line),
		cmocka_unit_test_teardown(test_no_tag, free_line),
		cmocka_unit_test_teardown(test_repeated_stamp, free_line),
		cmocka_unit_test_teardown(test_year_inference, free_line),
		cmocka_unit_test_teardown(test_fixed_year, free_line),
		cmocka_unit_test_teardown(test_timezone_berlin, free_line),
		cmocka_unit_test_teardown(test_rejections, free_line),
		cmocka_unit_test_teardown(test_prefixes_no_overread, free_line),
		cmocka_unit_test_teardown(test_random_lines, free_line),
		cmocka_unit_test(test_days_from_civil),
		/* last: under ASan an over-read aborts the whole binary */
		cmocka_unit_test_teardown(test_pri_only_no_overread, free_line),
	};

	return cmocka_run_group_tests_name("syslog_hdr", tests, NULL, NULL);
}
