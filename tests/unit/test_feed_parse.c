/*
 * test_feed_parse.c - feed file reading: every format on the examples of
 * docs/REPUTATION.md, IPv6 wherever it applies, every error with its
 * exact "NAME:LINE: message", text checks (overlong lines, NUL bytes,
 * control characters, invalid UTF-8), CSV expiry forms against timegm(),
 * range splitting against a brute-force check, files (regular only), and
 * random ip4set / ip4trie zones against a model of rbldnsd's answers
 * (granularities, exclusions, first-wins duplicates) written apart from
 * the parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../reputation/feed_parse.h"
#include "testutil.h"

#define MTIME 1800000000	/* the mtime every in-memory read is given */

/* The entries live in *state so that a failed assertion does not leak them. */
static int
setup(void **state)
{
	*state = calloc(1, sizeof(struct feed_data));
	return *state == NULL;
}

static int
teardown(void **state)
{
	feed_data_free(*state);
	free(*state);
	return 0;
}

/* Read text as a feed of format f named "t.feed" into d (emptied first); feed_parse's result. */
static int
rd(struct feed_data *d, enum feed_format f, const char *text, char *err, size_t errlen)
{
	feed_data_free(d);
	err[0] = '\0';
	return feed_parse(text, strlen(text), f, "t.feed", MTIME, d, err, errlen);
}

/* The same, where the text must read: the number of entries. */
static size_t
ok(struct feed_data *d, enum feed_format f, const char *text)
{
	char err[512];

	if (rd(d, f, text, err, sizeof(err)) != 0)
		fail_msg("did not read: %s\n--\n%s", err, text);
	return d->n;
}

/* Entry i is PREFIX (as text: "192.0.2.0/24"), with these flags and value. */
static void
is_entry(const struct feed_entry *e, const char *prefix, int excluded, uint32_t value)
{
	char got[ADDR_STRLEN + 8];
	size_t n = addr_format(&e->addr, got);

	snprintf(got + n, sizeof(got) - n, "/%u", e->plen);
	assert_string_equal(got, prefix);
	assert_int_equal(e->excluded, excluded);
	assert_int_equal(e->value, value);
}

static void
scores(const struct feed_entry *e, int risk, int spam, int vol, int64_t expires)
{
	assert_int_equal(e->risk, risk);
	assert_int_equal(e->spam, spam);
	assert_int_equal(e->vol, vol);
	assert_int_equal(e->expires, expires);
}

/* ------------------------------------------------------------ names --- */

static void
test_format_names(void **state)
{
	static const char *const names[] = { "csv", "list", "drop", "drop-json", "ip4set", "ip4trie", "ip6trie" };

	(void)state;
	for (int i = 0; i < 7; i++) {
		assert_int_equal(feed_format_by_name(names[i]), i);
		assert_string_equal(feed_format_name((enum feed_format)i), names[i]);
	}
	assert_int_equal(feed_format_by_name("CSV"), -1);
	assert_int_equal(feed_format_by_name(""), -1);
	assert_int_equal(feed_format_by_name("ip6set"), -1);
	assert_string_equal(feed_format_name((enum feed_format)99), "unknown");
}

/* ------------------------------------------- the documented examples --- */

/* docs/REPUTATION.md, "csv" (test_doc_examples checks the doc shows these very texts) */
static const char doc_csv[] =
    "# vendor reputation, 2026-12-06\n"
    "prefix,risk,spam,vol,expires\n"
    "192.0.2.0/24,8,90,40,2026-12-31T00:00:00Z\n"
    "198.51.100.7,3,,10\n"
    "2001:db8:bad::/48,10,100,100,86400\n"
    "203.0.113.0/25, 5 , 60 , , 2027-01-15T12:30Z\n";

static void
test_csv_example(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_CSV, doc_csv), 4);
	is_entry(&d->e[0], "192.0.2.0/24", 0, 0);
	scores(&d->e[0], 8, 90, 40, 1798675200);	/* date -u -d 2026-12-31 +%s */
	assert_int_equal(d->e[0].line, 3);
	is_entry(&d->e[1], "198.51.100.7/32", 0, 0);
	scores(&d->e[1], 3, FEED_SCORE_NONE, 10, 0);
	is_entry(&d->e[2], "2001:db8:bad::/48", 0, 0);
	scores(&d->e[2], 10, 100, 100, MTIME + 86400);
	is_entry(&d->e[3], "203.0.113.0/25", 0, 0);
	scores(&d->e[3], 5, 60, FEED_SCORE_NONE, 1800016200);	/* 2027-01-15T12:30:00Z */
	assert_int_equal(d->e[3].line, 6);
}

/* docs/REPUTATION.md, "list" */
static const char doc_list[] =
    "# hosts our own spam traps saw\n"
    "192.0.2.15\n"
    "198.51.100.0/24   # a whole hosting range\n"
    "\n"
    "2001:db8:5::/48\n";

static void
test_list_example(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_LIST, doc_list), 3);
	is_entry(&d->e[0], "192.0.2.15/32", 0, 0);
	scores(&d->e[0], FEED_SCORE_NONE, FEED_SCORE_NONE, FEED_SCORE_NONE, 0);
	is_entry(&d->e[1], "198.51.100.0/24", 0, 0);
	is_entry(&d->e[2], "2001:db8:5::/48", 0, 0);
	assert_int_equal(d->e[2].line, 5);
}

/* docs/REPUTATION.md, "drop" */
static const char doc_drop[] =
    "; Spamhaus DROP List 2026/12/06 - (c) 2026 The Spamhaus Project SLU\n"
    "; Last-Modified: Sun, 06 Dec 2026 10:00:00 GMT\n"
    "192.0.2.0/24 ; SBL000001\n"
    "198.51.100.0/22 ; SBL000002\n"
    "2001:db8:66::/48 ; SBL000003\n";

static void
test_drop_example(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_DROP, doc_drop), 3);
	is_entry(&d->e[0], "192.0.2.0/24", 0, 0);
	is_entry(&d->e[1], "198.51.100.0/22", 0, 0);
	is_entry(&d->e[2], "2001:db8:66::/48", 0, 0);
	scores(&d->e[2], FEED_SCORE_NONE, FEED_SCORE_NONE, FEED_SCORE_NONE, 0);
	assert_int_equal(d->e[2].line, 5);
}

/* docs/REPUTATION.md, "drop-json" */
static const char doc_drop_json[] =
    "{\"cidr\":\"192.0.2.0/24\",\"sblid\":\"SBL000001\",\"rir\":\"arin\"}\n"
    "{\"cidr\":\"2001:db8:66::/48\",\"sblid\":\"SBL000003\",\"rir\":\"ripencc\"}\n"
    "{\"type\":\"metadata\",\"timestamp\":1796551200,\"size\":2048,\"records\":2,"
    "\"copyright\":\"(c) 2026 The Spamhaus Project SLU\",\"terms\":\"https://www.spamhaus.org/drop/terms/\"}\n";

static void
test_drop_json_example(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_DROP_JSON, doc_drop_json), 2);
	is_entry(&d->e[0], "192.0.2.0/24", 0, 0);
	is_entry(&d->e[1], "2001:db8:66::/48", 0, 0);
	assert_int_equal(d->e[1].line, 2);
}

/* docs/REPUTATION.md, "ip4set" */
static const char doc_ip4set[] =
    "$SOA 0 ns.bl.example. hostmaster.bl.example. 0 1h 15m 1w 1h\n"
    "$NS 1d ns.bl.example.\n"
    "$TTL 35m\n"
    "# the default for the lines below: A 127.0.0.2, and a text\n"
    ":127.0.0.2:Listed, see https://bl.example/lookup?$\n"
    "192.0.2.0/24\n"
    "198.51.100                     # the same as 198.51.100.0/24\n"
    "# a range, with A 127.0.0.3 and a text of its own\n"
    "203.0.113.10-203.0.113.20 :3:Listed for spam\n"
    "!192.0.2.128/25                # not listed\n"
    "# 10.1.0.0-10.3.255.255 with A 127.0.0.5 (a comment cannot follow a value)\n"
    "10.1-3 :5\n";

static void
test_ip4set_example(void **state)
{
	struct feed_data *d = *state;
	const uint32_t A2 = 0x7f000002, A3 = 0x7f000003, A5 = 0x7f000005;

	assert_int_equal(ok(d, FEED_IP4SET, doc_ip4set), 9);
	is_entry(&d->e[0], "192.0.2.0/24", 0, A2);
	assert_int_equal(d->e[0].line, 6);
	is_entry(&d->e[1], "198.51.100.0/24", 0, A2);
	/* 203.0.113.10-20: .10/31 .12/30 .16/30 .20/32 */
	is_entry(&d->e[2], "203.0.113.10/31", 0, A3);
	is_entry(&d->e[3], "203.0.113.12/30", 0, A3);
	is_entry(&d->e[4], "203.0.113.16/30", 0, A3);
	is_entry(&d->e[5], "203.0.113.20/32", 0, A3);
	assert_int_equal(d->e[5].line, 9);
	is_entry(&d->e[6], "192.0.2.128/25", 1, 0);
	is_entry(&d->e[7], "10.1.0.0/16", 0, A5);
	is_entry(&d->e[8], "10.2.0.0/15", 0, A5);
	assert_int_equal(d->e[8].line, 12);
}

/* docs/REPUTATION.md, "ip4trie" */
static const char doc_ip4trie[] =
    ":2:\n"
    "192.0.2.0/24 :4:\n"
    "192.0.2.64/26 :127.0.0.5:Listed for spam\n"
    "!192.0.2.66\n"
    "10/8\n"
    "# a duplicate: rbldnsd keeps the first (A 127.0.0.4)\n"
    "192.0.2.0/24 :6:\n";

static void
test_ip4trie_example(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_IP4TRIE, doc_ip4trie), 4);
	is_entry(&d->e[0], "192.0.2.0/24", 0, 0x7f000004);
	is_entry(&d->e[1], "192.0.2.64/26", 0, 0x7f000005);
	is_entry(&d->e[2], "192.0.2.66/32", 1, 0);
	is_entry(&d->e[3], "10.0.0.0/8", 0, 0x7f000002);
	assert_int_equal(d->e[3].line, 5);
}

/* docs/REPUTATION.md, "ip6trie" */
static const char doc_ip6trie[] =
    ":127.0.0.2:Listed, see https://bl.example/lookup?$\n"
    "2001:db8:c000/36                 # 2001:db8:c000::/36\n"
    "# 2001:db8:1:2::/64 with A 127.0.0.3\n"
    "2001:db8:1:2 :127.0.0.3:\n"
    "2001:db8:77::/48\n"
    "!2001:db8:77::25\n";

static void
test_ip6trie_example(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_IP6TRIE, doc_ip6trie), 4);
	is_entry(&d->e[0], "2001:db8:c000::/36", 0, 0x7f000002);
	is_entry(&d->e[1], "2001:db8:1:2::/64", 0, 0x7f000003);
	is_entry(&d->e[2], "2001:db8:77::/48", 0, 0x7f000002);
	is_entry(&d->e[3], "2001:db8:77::25/128", 1, 0);
}

/* ---------------------------------------------------- more of CSV --- */

static void
test_csv_details(void **state)
{
	struct feed_data *d = *state;

	/* host bits cleared, IPv6 and IPv4-mapped, blanks and CRLF, no final newline, no header */
	assert_int_equal(ok(d, FEED_CSV,
	    "\xef\xbb\xbf" "192.0.2.77/24,1,2,3\r\n"
	    "  \t\r\n"
	    "\t2001:DB8::1/32 ,0,0,0,\r\n"
	    "::ffff:198.51.100.9/120,10,100,100,0\n"
	    "::ffff:0.0.0.0/95,,,\n"
	    "# prefix,risk,spam,vol\n"
	    "0.0.0.0/0,,,,2026-02-28T23:59:59+00:00"), 5);
	is_entry(&d->e[0], "192.0.2.0/24", 0, 0);
	scores(&d->e[0], 1, 2, 3, 0);
	is_entry(&d->e[1], "2001:db8::/32", 0, 0);
	scores(&d->e[1], 0, 0, 0, 0);
	assert_int_equal(d->e[1].line, 3);
	is_entry(&d->e[2], "198.51.100.0/24", 0, 0);	/* mapped /120 is the IPv4 /24 */
	scores(&d->e[2], 10, 100, 100, MTIME);
	is_entry(&d->e[3], "::fffe:0:0/95", 0, 0);	/* shorter than /96: covers more than IPv4, stays IPv6 */
	is_entry(&d->e[4], "0.0.0.0/0", 0, 0);
	scores(&d->e[4], FEED_SCORE_NONE, FEED_SCORE_NONE, FEED_SCORE_NONE, 1772323199);
	assert_int_equal(d->e[4].line, 7);

	/* a header only as the first line that is neither blank nor comment */
	assert_int_equal(ok(d, FEED_CSV, "\n# x\nnetwork , risk\n192.0.2.1,1,1,1\n"), 1);
	assert_int_equal(ok(d, FEED_CSV, "\"prefix\",\"risk\",\"spam\",\"vol\"\n192.0.2.1,1,1,1\n"), 1);
	assert_int_equal(ok(d, FEED_CSV, ""), 0);
	assert_int_equal(ok(d, FEED_CSV, "\n\n# only comments\n"), 0);
}

/* Expiry dates against timegm: every month end and random instants, 1970..2200. */
static void
test_csv_expiry_oracle(void **state)
{
	struct feed_data *d = *state;
	char line[128];

	rng_seed(7);
	for (int i = 0; i < 2000; i++) {
		struct tm tm = { 0 };
		time_t want;

		tm.tm_year = 70 + (int)rng_below(231);
		tm.tm_mon = (int)rng_below(12);
		tm.tm_mday = 1 + (int)rng_below(31);
		tm.tm_hour = (int)rng_below(24);
		tm.tm_min = (int)rng_below(60);
		tm.tm_sec = (int)rng_below(60);
		if (i % 3 == 0)
			tm.tm_mday = 28 + (int)rng_below(4);	/* month ends, leap days */
		want = timegm(&tm);
		{
			struct tm back;

			gmtime_r(&want, &back);
			if (back.tm_mday != tm.tm_mday)
				continue;	/* (Feb 30 and such: not a date) */
		}
		snprintf(line, sizeof(line), "192.0.2.1,,,,%04d-%02d-%02dT%02d:%02d:%02dZ\n", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		assert_int_equal(ok(d, FEED_CSV, line), 1);
		assert_int_equal(d->e[0].expires, (int64_t)want);
	}
	/* the forms: no seconds, lower-case t and z, +00:00 */
	assert_int_equal(ok(d, FEED_CSV, "192.0.2.1,,,,2000-02-29t12:00z\n"), 1);
	assert_int_equal(d->e[0].expires, 951825600);
	assert_int_equal(ok(d, FEED_CSV, "192.0.2.1,,,,1970-01-01T00:00:01+00:00\n"), 1);
	assert_int_equal(d->e[0].expires, 1);
	assert_int_equal(ok(d, FEED_CSV, "192.0.2.1,,,,9999-12-31T23:59:59Z\n"), 1);
	assert_int_equal(d->e[0].expires, 253402300799);
	assert_int_equal(ok(d, FEED_CSV, "192.0.2.1,,,,0\n192.0.2.2,,,,3600\n"), 2);
	assert_int_equal(d->e[0].expires, MTIME);
	assert_int_equal(d->e[1].expires, MTIME + 3600);
}

/* ----------------------------------------------------- more of JSON --- */

static void
test_drop_json_details(void **state)
{
	struct feed_data *d = *state;

	/* member order, spaces, escapes; a "cidr" inside another member's string is not the member */
	assert_int_equal(ok(d, FEED_DROP_JSON,
	    "  { \"sblid\" : \"x\\\",\\\"cidr\\\":\\\"10.0.0.0/8\" ,\t\"rir\":null, \"cidr\" : \"192.0.2.0\\/24\" }  \n"
	    "{\"note\":\"{\\\"cidr\\\":\\\"10.0.0.0/8\\\"}\",\"n\":[1,-2.5e3,{\"cidr\":\"10.0.0.0/8\"},true,false],"
	    "\"ci\\u0064r\":\"2001:db8::/32\"}\n"
	    "\n"
	    "{\"cidr\":\"198.51.100.0/24\",\"x\":\"caf\\u00e9 \\ud83d\\ude00 \xc3\xa9\"}\n"
	    "{\"type\":\"metadata\"}\n"
	    "{\"type\":\"drop\",\"cidr\":\"203.0.113.0/24\"}\n"), 4);
	is_entry(&d->e[0], "192.0.2.0/24", 0, 0);
	is_entry(&d->e[1], "2001:db8::/32", 0, 0);
	is_entry(&d->e[2], "198.51.100.0/24", 0, 0);
	assert_int_equal(d->e[2].line, 4);
	is_entry(&d->e[3], "203.0.113.0/24", 0, 0);
}

/* ---------------------------------------------------- more of rbldnsd --- */

/* ip4set's address forms; each line reads to the prefixes after "=" */
static void
test_ip4set_forms(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{ "127.0.0.0/24", "127.0.0.0/24" },
		{ "127.0.0", "127.0.0.0/24" },
		{ "127/24", "127.0.0.0/24" },
		{ "127.0.0.0-127.0.0.255", "127.0.0.0/24" },
		{ "127.0.0.0-255", "127.0.0.0/24" },
		{ "127.16.0.0-127.31.255.255", "127.16.0.0/12" },
		{ "127.16.0-127.31.255", "127.16.0.0/12" },
		{ "127.16-127.31", "127.16.0.0/12" },
		{ "127.16-31", "127.16.0.0/12" },
		{ "127.16.0.0/12", "127.16.0.0/12" },
		{ "127.16.0/12", "127.16.0.0/12" },
		{ "127.16/12", "127.16.0.0/12" },
		{ "10.0.0.1-10.0.0.6", "10.0.0.1/32 10.0.0.2/31 10.0.0.4/31 10.0.0.6/32" },
		{ "10.0.0.5-10.0.0.5", "10.0.0.5/32" },
		{ "10-12", "10.0.0.0/7 12.0.0.0/8" },
		{ "10.0.0-5", "10.0.0.0/22 10.0.4.0/23" },
		{ "010.1.1.1", "10.1.1.1/32" },
		{ "10.1.1.0001", "10.1.1.1/32" },
		{ "10.2.3.4/16", "10.2.0.0/16" },
		{ "0/1", "0.0.0.0/1" },
		{ "0.0.0.0-255.255.255.255", "0.0.0.0/0" },
		{ "0.0.0.1-255.255.255.254", NULL },	/* 62 prefixes: checked by count below */
		{ "  10.9.9.9", "10.9.9.9/32" },
		{ "10.9.9.9\t; comment", "10.9.9.9/32" },
		{ "10.9.9.9:3:", "10.9.9.9/32" },
		{ "10.9.9.9 a text, no A", "10.9.9.9/32" },
	};
	struct feed_data *d = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[512] = "", one[64];
		size_t n = ok(d, FEED_IP4SET, cases[i].line);

		if (cases[i].want == NULL) {
			assert_int_equal(n, 62);
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			size_t m = addr_format(&d->e[k].addr, one);

			snprintf(one + m, sizeof(one) - m, "/%u", d->e[k].plen);
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "", one);
		}
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("'%s' read as '%s', want '%s'", cases[i].line, got, cases[i].want);
	}
}

/* Random ranges split into prefixes: aligned, contiguous, exactly the range, and no two that could merge. */
static void
test_ip4set_range_split(void **state)
{
	struct feed_data *d = *state;

	rng_seed(11);
	for (int i = 0; i < 3000; i++) {
		uint32_t a = (uint32_t)rng(), b = (uint32_t)rng(), next;
		char line[64];
		size_t n;

		if (i % 2)
			b = a + (uint32_t)rng_below(5000);	/* short ones too */
		if (b < a) {
			uint32_t t = a;

			a = b;
			b = t;
		}
		snprintf(line, sizeof(line), "%u.%u.%u.%u-%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255,
		    b >> 24, b >> 16 & 255, b >> 8 & 255, b & 255);
		n = ok(d, FEED_IP4SET, line);
		assert_true(n >= 1 && n <= 62);
		next = a;
		for (size_t k = 0; k < n; k++) {
			const struct feed_entry *e = &d->e[k];
			uint32_t start = (uint32_t)e->addr.b[0] << 24 | e->addr.b[1] << 16 | e->addr.b[2] << 8 | e->addr.b[3];
			uint64_t size = 1ull << (32 - e->plen);

			assert_int_equal(start, next);
			assert_int_equal(start % size, 0);	/* aligned */
			/* maximal: the block twice as big at this start would leave the range or be misaligned */
			if (e->plen > 0)
				assert_true(start % (2 * size) != 0 || (uint64_t)start + 2 * size - 1 > b);
			next = (uint32_t)(start + size);
		}
		assert_int_equal((uint32_t)(next - 1), b);
	}
}

static void
test_rbldnsd_values(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_IP4SET,
	    "10.0.0.1\n"		/* rbldnsd's own default: 127.0.0.2 */
	    "10.0.0.2 :3\n"
	    "10.0.0.3 :1.3:\n"		/* a.b is a.0.0.b */
	    "10.0.0.4 :1.2.3:x\n"	/* a.b.c is a.b.0.c */
	    "10.0.0.5 :10.20.30.40\n"
	    "10.0.0.6 :009 :\n"
	    ":4:new default\n"
	    "10.0.0.7\n"
	    "10.0.0.8 text only\n"
	    "!10.0.0.9 :7:\n"		/* an exclusion's value is ignored */
	    ":0.5\n"
	    "10.0.0.10\n"), 10);
	assert_int_equal(d->e[0].value, 0x7f000002);
	assert_int_equal(d->e[1].value, 0x7f000003);
	assert_int_equal(d->e[2].value, 0x01000003);
	assert_int_equal(d->e[3].value, 0x01020003);
	assert_int_equal(d->e[4].value, 0x0a141e28);
	assert_int_equal(d->e[5].value, 0x7f000009);
	assert_int_equal(d->e[6].value, 0x7f000004);
	assert_int_equal(d->e[7].value, 0x7f000004);
	is_entry(&d->e[8], "10.0.0.9/32", 1, 0);
	assert_int_equal(d->e[9].value, 0x00000005);
	/* ip6trie values need the blank before their colon; the default holds to the end */
	assert_int_equal(ok(d, FEED_IP6TRIE, ":3\n::1 :5:\n!::2\n2001:db8::/32\n"), 3);
	is_entry(&d->e[0], "::1/128", 0, 0x7f000005);
	is_entry(&d->e[1], "::2/128", 1, 0);
	is_entry(&d->e[2], "2001:db8::/32", 0, 0x7f000003);
}

static void
test_rbldnsd_specials(void **state)
{
	struct feed_data *d = *state;

	/* specials and comments of every kind, none of them an entry */
	assert_int_equal(ok(d, FEED_IP4TRIE,
	    "#$Id: zone,v 1.2 2026/12/06 $\n"	/* "#$" that is not a special: a comment */
	    "#$TTL 5m\n"
	    ";$TTL 5M\n"
	    ":$TTL 1w\n"
	    "  $ttl 4294967295\n"
	    "$SOA 3600 ns.example. admin.example. 2026120601 2h 15m 1w 1h\n"
	    "$NS 0 ns1.example. -ns2.example.\n"
	    "$1 See https://bl.example/\n"
	    "$= $1$\n"
	    "$TIMESTAMP 0\n"
	    "# a comment\n"
	    "; another\n"
	    "\t\n"
	    "192.0.2.1\n"), 1);
	assert_int_equal(d->e[0].line, 14);

	/* $MAXRANGE4 skips larger entries (ranges too, by their size), only ever lowers, and not ip6trie's */
	assert_int_equal(ok(d, FEED_IP4SET,
	    "10.0.0.0/16\n"
	    "$MAXRANGE4 /24\n"
	    "10.1.0.0/23\n"
	    "10.2.0.0/24\n"
	    "10.3.0.0-10.3.1.0\n"		/* 257 addresses */
	    "!10.4.0.0/20\n"
	    "$MAXRANGE4 /16\n"		/* (an attempt to raise it) */
	    "10.5.0.0/23\n"
	    "$MAXRANGE4 100\n"
	    "10.6.0.0/25\n"
	    "10.6.1.0-10.6.1.99\n"), 5);
	is_entry(&d->e[0], "10.0.0.0/16", 0, 0x7f000002);
	is_entry(&d->e[1], "10.2.0.0/24", 0, 0x7f000002);
	is_entry(&d->e[2], "10.6.1.0/26", 0, 0x7f000002);
	is_entry(&d->e[3], "10.6.1.64/27", 0, 0x7f000002);
	is_entry(&d->e[4], "10.6.1.96/30", 0, 0x7f000002);
	assert_int_equal(ok(d, FEED_IP4TRIE, "$MAXRANGE4 256\n10.0.0.0/23\n10.0.0.0/24\n"), 1);
	assert_int_equal(ok(d, FEED_IP6TRIE, "$MAXRANGE4 /24\n2001:db8::/32\n"), 1);

	/* $TIMESTAMP: its expiry is every entry's, before and after it; the earliest of two */
	assert_int_equal(ok(d, FEED_IP4SET, "10.0.0.1\n$TIMESTAMP 2020:12:01 2021:01:02:03:04:05\n10.0.0.2\n"), 2);
	assert_int_equal(d->e[0].expires, 1609556645);
	assert_int_equal(d->e[1].expires, d->e[0].expires);
	assert_int_equal(ok(d, FEED_IP4SET, "$TIMESTAMP 20201201 +1d\n$TIMESTAMP 2020-12-01-12 +2h\n10.0.0.1\n"), 1);
	assert_int_equal(d->e[0].expires, 1606780800 + 12 * 3600 + 2 * 3600);
	assert_int_equal(ok(d, FEED_IP4SET, "$TIMESTAMP 2020:1:2 -\n10.0.0.1\n"), 1);
	assert_int_equal(d->e[0].expires, 0);
	/* a stamp in the future: rbldnsd ignores the line (and serves the data without expiry) */
	assert_int_equal(ok(d, FEED_IP4SET, "$TIMESTAMP 9999:01:01 9999:02:01\n10.0.0.1\n"), 1);
	assert_int_equal(d->e[0].expires, 0);
}

/* ip6trie's address forms */
static void
test_ip6trie_forms(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_IP6TRIE,
	    "2001:db8\n"
	    "2001:db8:1:2:3\n"
	    "2001/16\n"
	    "2001:db8:1:2/48\n"		/* host bits cleared */
	    "::/0\n"
	    "::\n"
	    "2001:DB8:0:0:1:2:3:4\n"
	    "::ffff:a00:0/104\n"	/* IPv4-mapped: mxguard's IPv4 10.0.0.0/8 */
	    "! 2001:db8::5 # excluded\n"
	    "2001:db8::6\tsome text\n"), 10);
	is_entry(&d->e[0], "2001:db8::/32", 0, 0x7f000002);
	is_entry(&d->e[1], "2001:db8:1:2:3::/80", 0, 0x7f000002);
	is_entry(&d->e[2], "2001::/16", 0, 0x7f000002);
	is_entry(&d->e[3], "2001:db8:1::/48", 0, 0x7f000002);
	is_entry(&d->e[4], "::/0", 0, 0x7f000002);
	is_entry(&d->e[5], "::/128", 0, 0x7f000002);
	is_entry(&d->e[6], "2001:db8::1:2:3:4/128", 0, 0x7f000002);
	is_entry(&d->e[7], "10.0.0.0/8", 0, 0x7f000002);
	is_entry(&d->e[8], "2001:db8::5/128", 1, 0);
	is_entry(&d->e[9], "2001:db8::6/128", 0, 0x7f000002);
}

/* The fix-ups: trie duplicates (first wins), ip4set exclusions in the same granularity */
static void
test_rbldnsd_fixups(void **state)
{
	struct feed_data *d = *state;

	assert_int_equal(ok(d, FEED_IP4TRIE,
	    "10.3.0.0/24 :3:\n10.3.0.9/24 :4:\n"	/* the same prefix once masked */
	    "10.5.0.6 :5:\n!10.5.0.6\n"
	    "!10.6.0.6\n10.6.0.6 :5:\n"), 3);
	is_entry(&d->e[0], "10.3.0.0/24", 0, 0x7f000003);
	is_entry(&d->e[1], "10.5.0.6/32", 0, 0x7f000005);
	is_entry(&d->e[2], "10.6.0.6/32", 1, 0);
	assert_int_equal(ok(d, FEED_IP6TRIE, "2001:db8::1 :4:\n2001:db8:0::1 :5:\n!2001:db8::1\n"), 1);
	is_entry(&d->e[0], "2001:db8::1/128", 0, 0x7f000004);

	/* ip4set: an inclusion inside an exclusion of its granularity goes, whatever the order */
	assert_int_equal(ok(d, FEED_IP4SET,
	    "10.1.0.0/23 :3:\n!10.1.0.0/24\n"		/* /23 is kept: half of it is outside */
	    "10.2.0.0/24 :3:\n!10.2.0.0/23\n"		/* both /24 granularity: /24 goes */
	    "10.6.0.6 :5:\n!10.6.0.6\n10.6.0.6 :6:\n"	/* both go */
	    "!10.8.0.0/16\n10.8.1.0/24\n"		/* finer granularity: kept */
	    "!10.9.0.0/17\n10.9.0.0/16\n"		/* coarser granularity: kept */
	    "!0-255\n10.10.0.0/8\n"			/* /0 is of the /8 granularity: 10/8 goes */
	    ), 9);
	is_entry(&d->e[0], "10.1.0.0/23", 0, 0x7f000003);
	is_entry(&d->e[1], "10.1.0.0/24", 1, 0);
	is_entry(&d->e[2], "10.2.0.0/23", 1, 0);
	is_entry(&d->e[3], "10.6.0.6/32", 1, 0);
	is_entry(&d->e[4], "10.8.0.0/16", 1, 0);
	is_entry(&d->e[5], "10.8.1.0/24", 0, 0x7f000002);
	is_entry(&d->e[6], "10.9.0.0/17", 1, 0);
	is_entry(&d->e[7], "10.9.0.0/16", 0, 0x7f000002);
	is_entry(&d->e[8], "0.0.0.0/0", 1, 0);
}

/*
 * A model of rbldnsd's ip4set answer for one address, from the zone's
 * lines alone (FIRST..LAST, excluded, value): the granularity of an
 * address within a line is that of the largest aligned block holding it
 * inside the range; the most specific granularity where some line covers
 * the address decides: any exclusion there wins, else every value there
 * is an answer.
 */
struct mline {
	uint32_t first, last, value;
	int excluded;
};

static int
model_band(uint32_t x, const struct mline *l)
{
	for (int p = 0; p <= 32; p++) {
		uint64_t size = 1ull << (32 - p), start = x & ~(size - 1);

		if (start >= l->first && start + size - 1 <= l->last)
			return p <= 8 ? 8 : (p + 7) / 8 * 8;
	}
	return -1;
}

/* The LPM rule over parsed entries (as feed.c applies it): value, or 0 for not listed. */
static uint32_t
lpm(const struct feed_data *d, uint32_t x)
{
	const struct feed_entry *best = NULL;

	for (size_t i = 0; i < d->n; i++) {
		const struct feed_entry *e = &d->e[i];
		uint32_t a = (uint32_t)e->addr.b[0] << 24 | e->addr.b[1] << 16 | e->addr.b[2] << 8 | e->addr.b[3];
		uint32_t m = e->plen ? 0xffffffffu << (32 - e->plen) : 0;

		if (e->addr.family == 4 && (x & m) == a && (best == NULL || e->plen >= best->plen))
			best = e;
	}
	return best == NULL || best->excluded ? 0 : best->value;
}

static void
random_ip4set(void **state, int trie)
{
	struct feed_data *d = *state;
	struct mline l[40];
	char text[4096];

	rng_seed(trie ? 99 : 2024);
	for (int round = 0; round < 300; round++) {
		int n = 1 + (int)rng_below(40);
		size_t pos = 0;

		for (int i = 0; i < n; i++) {
			/* prefixes and ranges inside 10.0.0.0/14, so that they overlap */
			uint32_t base = 0x0a000000u | (uint32_t)rng_below(1u << 18);
			int plen = 14 + (int)rng_below(19);

			l[i].excluded = rng_below(4) == 0;
			l[i].value = 0x7f000000u | (1 + (uint32_t)rng_below(5));
			if (!trie && rng_below(3) == 0) {
				l[i].first = base;
				l[i].last = base + (uint32_t)rng_below(3000);
				pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "%s10.%u.%u.%u-10.%u.%u.%u :%u\n",
				    l[i].excluded ? "!" : "", l[i].first >> 16 & 255, l[i].first >> 8 & 255,
				    l[i].first & 255, l[i].last >> 16 & 255, l[i].last >> 8 & 255, l[i].last & 255,
				    l[i].value & 255);
			} else {
				l[i].first = base & (0xffffffffu << (32 - plen));
				l[i].last = l[i].first + (uint32_t)((1ull << (32 - plen)) - 1);
				pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "%s10.%u.%u.%u/%d :%u\n",
				    l[i].excluded ? "!" : "", l[i].first >> 16 & 255, l[i].first >> 8 & 255,
				    l[i].first & 255, plen, l[i].value & 255);
			}
		}
		ok(d, trie ? FEED_IP4TRIE : FEED_IP4SET, text);
		for (int probe = 0; probe < 400; probe++) {
			uint32_t x = probe < 2 * n ? (probe % 2 ? l[probe / 2].last : l[probe / 2].first)
			    : 0x0a000000u | (uint32_t)rng_below(1u << 18);
			uint32_t got = lpm(d, x);
			int listed = 0, allowed = 0;

			if (trie) {
				/* ip4trie: longest prefix, the first line of identical ones */
				int best = -1;

				for (int i = 0; i < n; i++) {
					uint64_t size = (uint64_t)l[i].last - l[i].first + 1;

					if (x >= l[i].first && x <= l[i].last &&
					    (best < 0 || size < (uint64_t)l[best].last - l[best].first + 1))
						best = i;
				}
				listed = best >= 0 && !l[best].excluded;
				allowed = listed && got == l[best].value;
			} else {
				int top = -1, excl = 0;

				for (int i = 0; i < n; i++)
					if (x >= l[i].first && x <= l[i].last && model_band(x, &l[i]) > top)
						top = model_band(x, &l[i]);
				for (int i = 0; i < n; i++)
					if (x >= l[i].first && x <= l[i].last && model_band(x, &l[i]) == top)
						excl |= l[i].excluded;
				listed = top >= 0 && !excl;
				for (int i = 0; i < n && listed; i++)
					if (x >= l[i].first && x <= l[i].last && model_band(x, &l[i]) == top &&
					    l[i].value == got)
						allowed = 1;
			}
			if ((got != 0) != listed || (listed && !allowed))
				fail_msg("round %d, 10.%u.%u.%u: parsed %08x, rbldnsd's model %s\n%s", round,
				    x >> 16 & 255, x >> 8 & 255, x & 255, got, listed ? "listed with another value" :
				    "not listed", text);
		}
	}
}

static void
test_random_ip4set(void **state)
{
	random_ip4set(state, 0);
}

static void
test_random_ip4trie(void **state)
{
	random_ip4set(state, 1);
}

/*
 * The examples of docs/REPUTATION.md are these strings, each line indented
 * by four blanks: a changed example must be changed here too, and read.
 */
static void
test_doc_examples(void **state)
{
	static const char *const examples[] = {
		doc_csv, doc_list, doc_drop, doc_drop_json, doc_ip4set, doc_ip4trie, doc_ip6trie,
	};
	FILE *fp = fopen("docs/REPUTATION.md", "r");
	char *doc, block[4096];
	long n;

	(void)state;
	if (fp == NULL) {
		skip();	/* (run_all.sh runs the tests from the source tree, where it is) */
		return;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	doc = calloc(1, (size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		size_t len = 0;

		for (const char *p = examples[i]; *p;) {
			const char *nl = strchr(p, '\n');
			size_t k = nl ? (size_t)(nl - p) : strlen(p);

			len += (size_t)snprintf(block + len, sizeof(block) - len, "%s%.*s\n", k ? "    " : "", (int)k, p);
			p += k + (nl != NULL);
		}
		if (strstr(doc, block) == NULL) {
			free(doc);
			fail_msg("docs/REPUTATION.md has no example block:\n%s", block);
		}
	}
	free(doc);
}

/* ------------------------------------------------------------ errors --- */

static void
test_errors(void **state)
{
	static const struct {
		enum feed_format f;
		const char *text, *err;
	} cases[] = {
		/* CSV */
		{ FEED_CSV, "192.0.2.1,1,2,3\n192.0.2.300,1,2,3\n", "t.feed:2: '192.0.2.300' is not an IPv4 or IPv6 address" },
		{ FEED_CSV, "prefix,risk,spam,vol\nprefix,risk,spam,vol\n", "t.feed:2: 'prefix' is not an IPv4 or IPv6 address" },
		{ FEED_CSV, "10.0.0.300,1,2,3\n", "t.feed:1: '10.0.0.300' is not an IPv4 or IPv6 address" },
		{ FEED_CSV, "\n\n192.0.2.1/33,1,2,3\n", "t.feed:3: '192.0.2.1/33': the prefix length must be 0..32" },
		{ FEED_CSV, "2001:db8::/129,1,2,3\n", "t.feed:1: '2001:db8::/129': the prefix length must be 0..128" },
		{ FEED_CSV, "192.0.2.1/,1,2,3\n", "t.feed:1: '192.0.2.1/': the prefix length must be 0..32" },
		{ FEED_CSV, "IPv6:2001:db8::1,1,2,3\n", "t.feed:1: 'IPv6:2001:db8::1' is not an IPv4 or IPv6 address" },
		{ FEED_CSV, "192.0.2.1,1,2\n", "t.feed:1: 3 fields: expected prefix,risk,spam,vol[,expires]" },
		{ FEED_CSV, "192.0.2.1\n", "t.feed:1: 1 field: expected prefix,risk,spam,vol[,expires]" },
		{ FEED_CSV, "192.0.2.1,1,2,3,0,6\n", "t.feed:1: more than 5 fields: expected prefix,risk,spam,vol[,expires]" },
		{ FEED_CSV, "192.0.2.1,11,2,3\n", "t.feed:1: risk '11' must be 0..10 or empty" },
		{ FEED_CSV, "192.0.2.1,-1,2,3\n", "t.feed:1: risk '-1' must be 0..10 or empty" },
		{ FEED_CSV, "192.0.2.1,1,101,3\n", "t.feed:1: spam '101' must be 0..100 or empty" },
		{ FEED_CSV, "192.0.2.1,1,2,x\n", "t.feed:1: vol 'x' must be 0..100 or empty" },
		{ FEED_CSV, "192.0.2.1,1,2,1 0\n", "t.feed:1: vol '1 0' must be 0..100 or empty" },
		{ FEED_CSV, "192.0.2.1,1.5,2,3\n", "t.feed:1: risk '1.5' must be 0..10 or empty" },
		{ FEED_CSV, "192.0.2.1,1,2,3,-5\n", "t.feed:1: expiry '-5' is neither a number of seconds nor YYYY-MM-DDTHH:MM[:SS]Z" },
		{ FEED_CSV, "192.0.2.1,1,2,3,1d\n", "t.feed:1: expiry '1d' is neither a number of seconds nor YYYY-MM-DDTHH:MM[:SS]Z" },
		{ FEED_CSV, "192.0.2.1,1,2,3,99999999999\n", "t.feed:1: expiry '99999999999' seconds is more than a hundred years" },
		{ FEED_CSV, "192.0.2.1,1,2,3,2026-12-31T00:00:00\n", "t.feed:1: expiry '2026-12-31T00:00:00' must be UTC: end it with Z (or +00:00)" },
		{ FEED_CSV, "192.0.2.1,1,2,3,2026-12-31T00:00:00+01:00\n", "t.feed:1: expiry '2026-12-31T00:00:00+01:00' must be UTC: end it with Z (or +00:00)" },
		{ FEED_CSV, "192.0.2.1,1,2,3,2026-12-31\n", "t.feed:1: expiry '2026-12-31' is neither a number of seconds nor YYYY-MM-DDTHH:MM[:SS]Z" },
		{ FEED_CSV, "192.0.2.1,1,2,3,2026-02-29T00:00Z\n", "t.feed:1: expiry '2026-02-29T00:00Z' is not a valid date and time" },
		{ FEED_CSV, "192.0.2.1,1,2,3,2026-12-31T24:00Z\n", "t.feed:1: expiry '2026-12-31T24:00Z' is not a valid date and time" },
		{ FEED_CSV, "192.0.2.1,1,2,3,1969-12-31T23:59:59Z\n", "t.feed:1: expiry '1969-12-31T23:59:59Z' is not a valid date and time" },
		{ FEED_CSV, "192.0.2.1,1,2,3,2026-12-31T00:00:00.5Z\n", "t.feed:1: expiry '2026-12-31T00:00:00.5Z' is neither a number of seconds nor YYYY-MM-DDTHH:MM[:SS]Z" },
		{ FEED_CSV, "192.0.2.1,1,2,3,2026-12-31T00:00:00Zx\n", "t.feed:1: expiry '2026-12-31T00:00:00Zx' is neither a number of seconds nor YYYY-MM-DDTHH:MM[:SS]Z" },
		/* list */
		{ FEED_LIST, "192.0.2.1\n192.0.2.2 192.0.2.3\n", "t.feed:2: one prefix per line: '192.0.2.3' after '192.0.2.2'" },
		{ FEED_LIST, "# x\nfoo\n", "t.feed:2: 'foo' is not an IPv4 or IPv6 address" },
		{ FEED_LIST, "192.0.2.1,192.0.2.2\n", "t.feed:1: '192.0.2.1,192.0.2.2' is not an IPv4 or IPv6 address" },
		{ FEED_LIST, "2001:db8::1/200\n", "t.feed:1: '2001:db8::1/200': the prefix length must be 0..128" },
		{ FEED_LIST, "192.0.2.1 ; SBL1\n", "t.feed:1: one prefix per line: '; SBL1' after '192.0.2.1'" },
		/* drop */
		{ FEED_DROP, "; x\n192.0.2.0/24 ; SBL1\n192.0.2.0/24 # SBL2\n", "t.feed:3: one prefix per line: '# SBL2' after '192.0.2.0/24'" },
		{ FEED_DROP, "192.0.2.0/24 SBL1\n", "t.feed:1: one prefix per line: 'SBL1' after '192.0.2.0/24'" },
		{ FEED_DROP, "192.0.2.0/40 ; SBL1\n", "t.feed:1: '192.0.2.0/40': the prefix length must be 0..32" },
		/* drop-json */
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\"}\n{\"sblid\":\"SBL1\"}\n", "t.feed:2: no \"cidr\" member in the object" },
		{ FEED_DROP_JSON, "{\"cidr\":24}\n", "t.feed:1: \"cidr\" is not a string" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"cidr\":\"192.0.2.0/24\"}\n", "t.feed:1: two \"cidr\" members in one object" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\"} x\n", "t.feed:1: invalid JSON line: text after the object at column 25" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\"}{}\n", "t.feed:1: invalid JSON line: text after the object at column 24" },
		{ FEED_DROP_JSON, "[\"cidr\",\"192.0.2.0/24\"]\n", "t.feed:1: invalid JSON line: expected an object" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\"\n", "t.feed:1: invalid JSON line: expected ',' or '}' at column 23" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24}\n", "t.feed:1: invalid JSON line: unterminated string at column 23" },
		{ FEED_DROP_JSON, "{\"cidr\" \"192.0.2.0/24\"}\n", "t.feed:1: invalid JSON line: expected ':' at column 9" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",}\n", "t.feed:1: invalid JSON line: expected a string at column 24" },
		{ FEED_DROP_JSON, "{cidr:\"192.0.2.0/24\"}\n", "t.feed:1: invalid JSON line: expected a string at column 2" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"n\":01}\n", "t.feed:1: invalid JSON line: expected ',' or '}' at column 29" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"n\":1.}\n", "t.feed:1: invalid JSON line: bad number at column 28" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"b\":tru}\n", "t.feed:1: invalid JSON line: unknown literal at column 28" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"s\":\"\\x\"}\n", "t.feed:1: invalid JSON line: unknown escape in a string at column 31" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"s\":\"\\u12\"}\n", "t.feed:1: invalid JSON line: bad \\u escape at column 31" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"s\":\"\\ud800x\"}\n", "t.feed:1: invalid JSON line: high surrogate without its low half in a \\u escape at column 35" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"s\":\"\\udc00\"}\n", "t.feed:1: invalid JSON line: lone low surrogate in a \\u escape at column 35" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"s\":\"a\tb\"}\n", "t.feed:1: invalid JSON line: control character in a string at column 30" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24\",\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}\n", "t.feed:1: invalid JSON line: nested too deep at column 43" },
		{ FEED_DROP_JSON, "{\"cidr\":\" 192.0.2.0/24\"}\n", "t.feed:1: ' 192.0.2.0' is not an IPv4 or IPv6 address" },
		{ FEED_DROP_JSON, "{\"cidr\":\"192.0.2.0/24 ; SBL1 and so on for a long while, past sixty-four bytes\"}\n", "t.feed:1: \"cidr\" is too long to be a prefix (69 bytes)" },
		/* rbldnsd */
		{ FEED_IP4SET, "10.0.0.1\n10.0.0.256\n", "t.feed:2: '10.0.0.256' is not an IPv4 address or prefix" },
		{ FEED_IP4SET, "10.0.0.1x\n", "t.feed:1: '10.0.0.1x' is not an IPv4 entry" },
		{ FEED_IP4SET, "1.2.3.4.5\n", "t.feed:1: '1.2.3.4.5' is not an IPv4 address or prefix" },
		{ FEED_IP4SET, "0/0\n", "t.feed:1: '0/0': ip4set takes no /0 (rbldnsd refuses it; use 0/1 and 128/1)" },
		{ FEED_IP4SET, "10.0.0.1/33\n", "t.feed:1: '10.0.0.1/33': the prefix length must be 0..32" },
		{ FEED_IP4SET, "127-127.0.0\n", "t.feed:1: '127-127.0.0': a range's end has as many parts as its start, or one" },
		{ FEED_IP4SET, "10.2-1\n", "t.feed:1: '10.2-1': the range ends before it starts" },
		{ FEED_IP4SET, "10.0.0.0/24-10.0.1.0\n", "t.feed:1: '10.0.0.0/24-10.0.1.0' is not an IPv4 range (FIRST-LAST)" },
		{ FEED_IP4SET, "10.0.0.1 :300:\n", "t.feed:1: invalid A value '300' (N, a.b, a.b.c or a.b.c.d, not 0)" },
		{ FEED_IP4SET, "10.0.0.1 :0:\n", "t.feed:1: invalid A value '0' (N, a.b, a.b.c or a.b.c.d, not 0)" },
		{ FEED_IP4SET, "10.0.0.1 :0.0.0.0\n", "t.feed:1: invalid A value '0.0.0.0' (N, a.b, a.b.c or a.b.c.d, not 0)" },
		{ FEED_IP4SET, "10.0.0.1 :1.2.3.4.5:\n", "t.feed:1: invalid A value '1.2.3.4.5' (N, a.b, a.b.c or a.b.c.d, not 0)" },
		{ FEED_IP4SET, "10.0.0.1 ::text\n", "t.feed:1: invalid A value '' (N, a.b, a.b.c or a.b.c.d, not 0)" },
		{ FEED_IP4SET, "10.0.0.1 :5 # not a comment\n", "t.feed:1: text after the A value '5': a TXT template goes after a second ':'" },
		{ FEED_IP4SET, "10.0.0.1 :3 text\n", "t.feed:1: text after the A value '3': a TXT template goes after a second ':'" },
		{ FEED_IP4SET, ":text\n", "t.feed:1: invalid A value 'text' (N, a.b, a.b.c or a.b.c.d, not 0)" },
		{ FEED_IP4SET, ":\n", "t.feed:1: invalid A value '' (N, a.b, a.b.c or a.b.c.d, not 0)" },
		{ FEED_IP4SET, "!\n", "t.feed:1: '' is not an IPv4 entry" },
		{ FEED_IP4SET, "2001:db8::1\n", "t.feed:1: '2001' is not an IPv4 address or prefix" },
		{ FEED_IP4SET, "$FOO bar\n", "t.feed:1: unknown special (known: $SOA $NS $TTL $TIMESTAMP $MAXRANGE4 $0-$9 $=)" },
		{ FEED_IP4SET, ":$FOO bar\n", "t.feed:1: unknown special (known: $SOA $NS $TTL $TIMESTAMP $MAXRANGE4 $0-$9 $=)" },
		{ FEED_IP4SET, "$TTL 1h30m\n", "t.feed:1: $TTL wants one time (e.g. 35m)" },
		{ FEED_IP4SET, "$TTL 4294967296\n", "t.feed:1: $TTL wants one time (e.g. 35m)" },
		{ FEED_IP4SET, "$TTL\n", "t.feed:1: $TTL wants one time (e.g. 35m)" },
		{ FEED_IP4SET, "$SOA 0 ns.x adm.x 0 1h 1h 1d\n", "t.feed:1: $SOA wants: ttl origin person serial refresh retry expire minttl" },
		/* shorter than the serial's field: never read (found by tests/fuzz/fuzz_feed) */
		{ FEED_IP4SET, "$SOA 1w 1h\n", "t.feed:1: $SOA wants: ttl origin person serial refresh retry expire minttl" },
		{ FEED_IP4SET, "$SOA\n", "t.feed:1: $SOA wants: ttl origin person serial refresh retry expire minttl" },
		{ FEED_IP4SET, "$NS 0\n", "t.feed:1: $NS wants: ttl nameserver..." },
		{ FEED_IP4SET, "$MAXRANGE4 /0\n", "t.feed:1: $MAXRANGE4 /LEN wants a length 1..32" },
		{ FEED_IP4SET, "$MAXRANGE4 0\n", "t.feed:1: $MAXRANGE4 wants /LEN or a number of addresses 1..4294967295" },
		{ FEED_IP4SET, "$MAXRANGE4 /24 x\n", "t.feed:1: $MAXRANGE4 wants one size: /LEN (1..32) or a number of addresses" },
		{ FEED_IP4SET, "$TIMESTAMP 2026:13:01\n", "t.feed:1: $TIMESTAMP's stamp is not yyyy:mm:dd[:hh[:mi[:ss]]]" },
		{ FEED_IP4SET, "$TIMESTAMP 2026:01:01 soon\n", "t.feed:1: $TIMESTAMP's expires is not yyyy:mm:dd[:hh[:mi[:ss]]] or +time" },
		{ FEED_IP4SET, "$TIMESTAMP 0 +1d\n", "t.feed:1: $TIMESTAMP's +expires wants a stamp and a time" },
		{ FEED_IP4SET, "$DATASET ip4set x @\n", "t.feed:1: $DATASET belongs in a 'combined' zone, which is not a feed format" },
		{ FEED_IP4TRIE, "10.0.0.1-10.0.0.5\n", "t.feed:1: '10.0.0.1-10.0.0.5': ranges are for ip4set zones; ip4trie takes prefixes" },
		{ FEED_IP4TRIE, "10.0.0.0/8\n\n10.0.0.0/8 :0:\n", "t.feed:3: invalid A value '0' (N, a.b, a.b.c or a.b.c.d, not 0)" },
		{ FEED_IP6TRIE, "2001\n", "t.feed:1: '2001' is not an IPv6 address or prefix" },
		{ FEED_IP6TRIE, "2001:\n", "t.feed:1: '2001:' is not an IPv6 address or prefix" },
		{ FEED_IP6TRIE, "2001:db8::1:3:\n", "t.feed:1: '2001:db8::1:3:' is not an IPv6 address or prefix" },
		{ FEED_IP6TRIE, "2001:db8:1:2:3:4:5:6:7\n", "t.feed:1: '2001:db8:1:2:3:4:5:6:7' is not an IPv6 address or prefix" },
		{ FEED_IP6TRIE, "2001:00db8::1\n", "t.feed:1: '2001:00db8::1' is not an IPv6 address or prefix" },
		{ FEED_IP6TRIE, "::ffff:1.2.3.4\n", "t.feed:1: '::ffff:1.2.3.4' is not an IPv6 entry" },
		{ FEED_IP6TRIE, "10.0.0.1\n", "t.feed:1: '10.0.0.1' is not an IPv6 entry" },
		{ FEED_IP6TRIE, "2001:db8::/129\n", "t.feed:1: '2001:db8::/129': the prefix length must be 0..128" },
		{ FEED_IP6TRIE, "fe80::1%eth0\n", "t.feed:1: 'fe80::1%eth0' is not an IPv6 entry" },
		{ FEED_IP6TRIE, "::1 :3x\n", "t.feed:1: text after the A value '3': a TXT template goes after a second ':'" },
	};
	struct feed_data *d = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512];

		if (rd(d, cases[i].f, cases[i].text, err, sizeof(err)) != -1)
			fail_msg("case %zu (%s) read without error:\n%s", i, feed_format_name(cases[i].f), cases[i].text);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu (%s):\n  got  %s\n  want %s", i, feed_format_name(cases[i].f), err, cases[i].err);
	}
}

/* Lines that are not text, in every format: an error with the line's number, never a crash. */
static void
test_not_text(void **state)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *err;
	} cases[] = {
		{ "\n192.0.2.2\0\n", 12, "t.feed:2: NUL byte at column 10: not a text file" },
		{ "\0\0\0\0", 4, "t.feed:1: NUL byte at column 1: not a text file" },
		{ "\n# \x01\n", 5, "t.feed:2: control character 0x01 at column 3" },
		{ "# \x7f\n", 4, "t.feed:1: control character 0x7f at column 3" },
		{ "#\r\r\n", 4, "t.feed:1: control character 0x0d at column 2" },
		{ "\n\n# caf\xe9\n", 9, "t.feed:3: invalid UTF-8 at column 6" },
		{ "# \xc0\xaf\n", 5, "t.feed:1: invalid UTF-8 at column 3" },		/* overlong '/' */
		{ "# \xed\xa0\x80\n", 6, "t.feed:1: invalid UTF-8 at column 3" },		/* a surrogate */
		{ "# \xf4\x90\x80\x80\n", 7, "t.feed:1: invalid UTF-8 at column 3" },	/* past U+10FFFF */
		{ "# \xe2\x82\n", 5, "t.feed:1: invalid UTF-8 at column 3" },		/* cut short */
		{ "# \xff\xfe\n", 5, "t.feed:1: invalid UTF-8 at column 3" },
	};
	struct feed_data *d = *state;
	char err[512];

	for (enum feed_format f = FEED_CSV; f <= FEED_IP6TRIE; f++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const char *bytes = cases[i].bytes;
			size_t n = cases[i].n;

			feed_data_free(d);
			err[0] = '\0';
			assert_int_equal(feed_parse(bytes, n, f, "t.feed", MTIME, d, err, sizeof(err)), -1);
			if (strcmp(err, cases[i].err) != 0)
				fail_msg("%s, case %zu:\n  got  %s\n  want %s", feed_format_name(f), i, err, cases[i].err);
		}
	}
	/* valid UTF-8 in a comment is text */
	assert_int_equal(ok(d, FEED_LIST, "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n192.0.2.1\n"), 1);
	assert_int_equal(ok(d, FEED_IP4SET, "10.0.0.1 :3:Listed \xc3\xa9t\xc3\xa9\n"), 1);
}

/* A line over 4096 bytes is an error at its number; 4096 is not. Random garbage never crashes. */
static void
test_long_lines_and_garbage(void **state)
{
	struct feed_data *d = *state;
	size_t big = 1 << 20;
	char *buf = malloc(big + 64), err[512];

	assert_non_null(buf);
	/* "192.0.2.1" then a 4096-byte line: a comment padded to exactly 4096 */
	strcpy(buf, "192.0.2.1\n#");
	memset(buf + 11, 'x', 4095);
	strcpy(buf + 11 + 4095, "\n");
	assert_int_equal(ok(d, FEED_LIST, buf), 1);
	strcpy(buf + 11 + 4095, "x\n192.0.2.2\n");
	feed_data_free(d);
	assert_int_equal(feed_parse(buf, strlen(buf), FEED_LIST, "t.feed", MTIME, d, err, sizeof(err)), -1);
	assert_string_equal(err, "t.feed:2: line longer than 4096 bytes");
	/* a 1 MiB line with no newline at all, every format */
	memset(buf, '1', big);
	for (enum feed_format f = FEED_CSV; f <= FEED_IP6TRIE; f++) {
		feed_data_free(d);
		assert_int_equal(feed_parse(buf, big, f, "t.feed", MTIME, d, err, sizeof(err)), -1);
		assert_string_equal(err, "t.feed:1: line longer than 4096 bytes");
	}
	/* random bytes and random printable soup: an error or entries, nothing else (ASan watches) */
	rng_seed(5);
	for (int round = 0; round < 3000; round++) {
		size_t n = rng_below(300);
		static const char soup[] = "0123456789abcdef.:/-!#;$ \t\n,{}\"\\[]:cidrTZ";

		for (size_t i = 0; i < n; i++)
			buf[i] = round % 2 ? (char)rng() : soup[rng_below(sizeof(soup) - 1)];
		for (enum feed_format f = FEED_CSV; f <= FEED_IP6TRIE; f++) {
			int rc;

			feed_data_free(d);
			err[0] = '\0';
			rc = feed_parse(buf, n, f, "t.feed", MTIME, d, err, sizeof(err));
			assert_true(rc == 0 || (rc == -1 && strncmp(err, "t.feed:", 7) == 0));
		}
	}
	free(buf);
}

/* Entries are appended after what out already holds; the fix-ups leave those alone. */
static void
test_appends(void **state)
{
	struct feed_data *d = *state;
	char err[512];
	static const char a[] = "10.0.0.0/8 :3:\n";

	feed_data_free(d);
	assert_int_equal(feed_parse(a, strlen(a), FEED_IP4TRIE, "a", 0, d, err, sizeof(err)), 0);
	assert_int_equal(feed_parse(a, strlen(a), FEED_IP4TRIE, "b", 0, d, err, sizeof(err)), 0);
	assert_int_equal(d->n, 2);	/* the same prefix twice, from two files: both kept */
	assert_int_equal(feed_parse("!10/8\n", 6, FEED_IP4SET, "c", 0, d, err, sizeof(err)), 0);
	assert_int_equal(d->n, 3);
	/* an error leaves what came before */
	assert_int_equal(feed_parse("10.1/16\nx\n", 10, FEED_IP4TRIE, "d", 0, d, err, sizeof(err)), -1);
	assert_string_equal(err, "d:2: 'x' is not an IPv4 entry");
	assert_true(d->n >= 3);
	is_entry(&d->e[0], "10.0.0.0/8", 0, 0x7f000003);
}

/* ------------------------------------------------------------- files --- */

static void
test_files(void **state)
{
	struct feed_data *d = *state;
	char dir[] = "/tmp/test_feed_parse.XXXXXX", path[128], fifo[128], err[512];
	struct stat sb;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/feed.csv", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("192.0.2.0/24,1,2,3,60\n2001:db8::/32,,,\n", fp);
	fclose(fp);
	assert_int_equal(stat(path, &sb), 0);
	feed_data_free(d);
	assert_int_equal(feed_parse_file(path, FEED_CSV, d, err, sizeof(err)), 0);
	assert_int_equal(d->n, 2);
	assert_int_equal(d->e[0].expires, (int64_t)sb.st_mtime + 60);	/* seconds after the file's mtime */

	fp = fopen(path, "a");
	fputs("192.0.2.0/24,1,2,3,bad\n", fp);
	fclose(fp);
	feed_data_free(d);
	assert_int_equal(feed_parse_file(path, FEED_CSV, d, err, sizeof(err)), -1);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s:3: expiry 'bad' is neither a number of seconds nor "
		    "YYYY-MM-DDTHH:MM[:SS]Z", path);
		assert_string_equal(err, want);
	}
	/* a directory, a FIFO (must not hang), nothing */
	feed_data_free(d);
	assert_int_equal(feed_parse_file(dir, FEED_CSV, d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(feed_parse_file(fifo, FEED_CSV, d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(fifo);
	assert_int_equal(feed_parse_file("/nonexistent/feed", FEED_CSV, d, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/feed: No such file or directory");
	/* an empty file reads as no entries */
	fp = fopen(path, "w");
	fclose(fp);
	assert_int_equal(feed_parse_file(path, FEED_IP6TRIE, d, err, sizeof(err)), 0);
	assert_int_equal(d->n, 0);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_names),
		cmocka_unit_test_setup_teardown(test_csv_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_json_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4set_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4trie_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip6trie_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_details, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_expiry_oracle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_json_details, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4set_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4set_range_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rbldnsd_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rbldnsd_specials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip6trie_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rbldnsd_fixups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_ip4set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_ip4trie, setup, teardown),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_lines_and_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_files, setup, teardown),
	};

	return cmocka_run_group_tests_name("feed_parse", tests, NULL, NULL);
}
