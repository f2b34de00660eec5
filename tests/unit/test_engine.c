/*
 * test_engine.c - the detection engine on hand-built events: distinct
 * counts (DHA), client prefixes as keys, suppression while an action is in
 * force, escalation and its cap, trusted clients, "unless" exemptions, the
 * null sender, global / HELO / sum rules, old events, the key cap, expiry,
 * and the decision records: every reason is non-empty and every JSON line
 * is valid JSON (checked by a small validator below); the examples of
 * docs/RULES.md give exact expected lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/table.h"
#include "../../rules/engine.h"

#include "../json_valid.h"

static int
jv(const char *s)
{
	return json_valid_object(s, strlen(s));
}

static void
test_json_validator(void **state)
{
	(void)state;
	assert_true(jv("{}"));
	assert_true(jv(" {\"a\":1,\"b\":[true,false,null,-1.5e3,\"x\\u00e9\\n\",{}],\"c\":{\"d\":[]}}\n"));
	assert_true(jv("{\"k\":\"caf\xc3\xa9\"}"));
	assert_false(jv(""));
	assert_false(jv("{"));
	assert_false(jv("{\"a\":1,}"));
	assert_false(jv("{\"a\":01}"));
	assert_false(jv("{\"a\":\"x\ty\"}"));		/* raw control character */
	assert_false(jv("{\"a\":\"\\x\"}"));		/* bad escape */
	assert_false(jv("{\"a\":\"\xff\"}"));		/* invalid UTF-8 */
	assert_false(jv("{\"a\":\"\xe2\x82\"}"));		/* truncated UTF-8 */
	assert_false(jv("{\"a\":\"unterminated}"));
	assert_false(jv("{\"a\":1}{}"));
	assert_false(jv("{\"a\" 1}"));
	assert_false(jv("{\"a\":tru}"));
	assert_false(jv("{a:1}"));
	assert_false(jv("[1]"));
}

/* --------------------------------------------------------- fixtures --- */

#define MAXDEC 256

struct rec {
	int n;
	struct decision d[MAXDEC];
	char key[MAXDEC][DECISION_KEYMAX];
	char json[MAXDEC][1024];
	char reason[MAXDEC][512];
};

static struct rec R;

/* Every decision: its reason is non-empty, its JSON is one valid object on one line. */
static void
on_decision(void *arg, const struct decision *d)
{
	struct rec *r = arg;
	struct outbuf ob;
	char reason[512];
	int n;

	assert_non_null(d->rule);
	n = decision_reason(d, reason, sizeof(reason));
	assert_true(n > 0);
	assert_true(strlen(reason) > 0);
	assert_non_null(memchr(d->key, '\0', sizeof(d->key)));
	assert_true(d->key[0] != '\0');
	/* A client rule's decision carries its key as a network, the same as the text says; other keys none. */
	if (d->rule->key == KEY_CLIENT) {
		struct addr a;
		int plen, neg;
		char err[80];

		assert_true(table_parse_entry(d->key, strlen(d->key), &a, &plen, &neg, err, sizeof(err)));
		assert_int_equal(d->net.family, a.family);
		assert_int_equal(d->plen, plen);
		assert_memory_equal(d->net.b, a.b, a.family == 4 ? 4 : 16);
	} else
		assert_int_equal(d->net.family, 0);

	ob_init(&ob, -1, 64);
	decision_json(&ob, d);
	assert_true(ob.len > 2);
	assert_int_equal(ob.p[ob.len - 1], '\n');
	if (memchr(ob.p, '\n', ob.len - 1) != NULL)
		fail_msg("decision JSON spans lines: %.*s", (int)ob.len, ob.p);
	if (!json_valid_object(ob.p, ob.len))
		fail_msg("invalid decision JSON: %.*s", (int)ob.len, ob.p);

	if (r->n < MAXDEC) {
		r->d[r->n] = *d;
		snprintf(r->key[r->n], sizeof(r->key[0]), "%s", d->key);
		snprintf(r->json[r->n], sizeof(r->json[0]), "%.*s", (int)ob.len, ob.p);
		snprintf(r->reason[r->n], sizeof(r->reason[0]), "%s", reason);
	}
	r->n++;
	ob_free(&ob);
}

struct fix {
	char dir[64];
	struct config *c;
	struct engine *e;
	struct config *c2;
	struct engine *e2;
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_engine.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	memset(&R, 0, sizeof(R));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	engine_free(f->e);
	conf_free(f->c);
	engine_free(f->e2);
	conf_free(f->c2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	free(f);
	*state = NULL;
	return system(cmd) == 0 ? 0 : -1;
}

static void
diag_fail(void *arg, int warning, const char *msg)
{
	(void)arg;
	if (!warning)
		print_error("config: %s\n", msg);
}

static struct config *
load_conf(struct fix *f, const char *text)
{
	char path[128];
	FILE *fp;
	struct config *c;
	static int k;

	snprintf(path, sizeof(path), "%s/c%d.conf", f->dir, k++);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	c = conf_load(path, diag_fail, NULL);
	if (c == NULL)
		fail_msg("config did not load:\n%s", text);
	return c;
}

/* Load text as the fixture's config and start an engine on it. */
static struct engine *
engine_for(void **state, const char *text)
{
	struct fix *f = *state;

	f->c = load_conf(f, text);
	f->e = engine_new(f->c);
	assert_non_null(f->e);
	memset(&R, 0, sizeof(R));
	return f->e;
}

static int
rule_index(void **state, const char *name)
{
	struct fix *f = *state;

	for (int i = 0; i < f->c->nrules; i++)
		if (strcmp(f->c->rules[i]->name, name) == 0)
			return i;
	fail_msg("no rule %s", name);
	return -1;
}

static struct event
E(enum ev_type type, int64_t ts, const char *ip)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev_reset(&ev);
	ev.type = type;
	ev.mta = "postfix";
	ev.ts = ts;
	ev.usec = -1;
	ev.line = 1;
	if (ip != NULL && !addr_parse(ip, strlen(ip), &ev.ip))
		fail_msg("test bug: bad address %s", ip);
	return ev;
}

static struct span
S(const char *s)
{
	return (struct span){ s, strlen(s) };
}

static void
feed(struct engine *e, const struct event *ev)
{
	engine_event(e, ev, on_decision, &R);
}

/* A recipient-unknown event: client ip, recipient to. */
static void
rcpt(struct engine *e, int64_t ts, const char *ip, const char *to)
{
	struct event ev = E(EV_RCPT_UNKNOWN, ts, ip);

	ev_set_str(&ev, F_TO, S(to));
	ev_set_str(&ev, F_FROM, S("x@example.net"));
	ev_set_str(&ev, F_HELO, S("x"));
	feed(e, &ev);
}

static void
simple(struct engine *e, enum ev_type type, int64_t ts, const char *ip)
{
	struct event ev = E(type, ts, ip);

	feed(e, &ev);
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

#define T0 ((int64_t)1700000040)	/* a multiple of 60 */

static const char DHA[] =
    "rule \"dha\" {\n"
    "    on rcpt_unknown\n"
    "    by client ipv4 /32 ipv6 /64\n"
    "    when distinct to >= 20 within 10m\n"
    "    do block for 1h escalate x4 max 7d\n"
    "}\n";

/* ------------------------------------------------------------ tests --- */

static void
test_dha_distinct(void **state)
{
	struct engine *e = engine_for(state, DHA);
	char to[64];
	int64_t t = T0;
	struct rule_stats st;
	int nev = 0;

	/* 19 distinct recipients, each followed by repeats of earlier ones (in other cases) */
	for (int i = 0; i < 19; i++) {
		snprintf(to, sizeof(to), "user%d@example.org", i);
		rcpt(e, t++, "203.0.113.66", to), nev++;
		rcpt(e, t++, "203.0.113.66", "user0@example.org"), nev++;
		snprintf(to, sizeof(to), "USER%d@Example.ORG", i / 2);
		rcpt(e, t++, "203.0.113.66", to), nev++;
		/* another client, interleaved, 19 distinct too */
		snprintf(to, sizeof(to), "other%d@example.org", i);
		rcpt(e, t++, "198.51.100.20", to), nev++;
	}
	assert_int_equal(R.n, 0);
	/* many more repeats change nothing */
	for (int i = 0; i < 100; i++) {
		snprintf(to, sizeof(to), "user%d@example.org", i % 19);
		rcpt(e, t, "203.0.113.66", to), nev++;
	}
	assert_int_equal(R.n, 0);
	/* the 20th distinct recipient */
	rcpt(e, t, "203.0.113.66", "user19@example.org"), nev++;
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "203.0.113.66");
	assert_string_equal(R.d[0].rule->name, "dha");
	assert_int_equal(R.d[0].action, A_BLOCK);
	assert_int_equal(R.d[0].duration, 3600);
	assert_int_equal(R.d[0].value, 20);
	assert_int_equal(R.d[0].level, 0);
	assert_int_equal(R.d[0].ts, t);
	assert_int_equal(R.d[0].type, EV_RCPT_UNKNOWN);
	assert_int_equal(R.d[0].ip.family, 4);
	assert_non_null(strstr(R.json[0], "\"key\":\"203.0.113.66\""));
	assert_non_null(strstr(R.json[0], "\"rule\":\"dha\""));
	assert_non_null(strstr(R.json[0], "\"action\":\"block\""));
	assert_non_null(strstr(R.json[0], "\"duration\":3600"));
	assert_non_null(strstr(R.json[0], "\"value\":20"));
	assert_non_null(strstr(R.json[0], "\"level\":0"));
	assert_non_null(strstr(R.json[0], "\"ip\":\"203.0.113.66\""));
	/* the other client never got there */
	for (int i = 0; i < 5; i++)
		rcpt(e, t, "198.51.100.20", "other3@example.org"), nev++;
	assert_int_equal(R.n, 1);

	st = engine_rule_stats(((struct fix *)*state)->e, 0);
	assert_int_equal(st.events, (uint64_t)nev);
	assert_int_equal(st.decisions, 1);
	assert_int_equal(st.keys, 2);

	/* events of other types and events without a recipient are not counted */
	simple(e, EV_CONNECT, t, "203.0.113.66");
	simple(e, EV_RCPT_UNKNOWN, t, "203.0.113.66");
	assert_int_equal(engine_rule_stats(e, 0).events, (uint64_t)nev);
}

/* docs/RULES.md, "A harvester rotating through its /64": the exact decision line. */
static void
test_docs_dha_example(void **state)
{
	static const int hms[][3] = {
		{ 10, 0, 0 }, { 10, 0, 7 }, { 10, 0, 14 }, { 10, 0, 21 }, { 10, 0, 28 }, { 10, 0, 35 },
		{ 10, 1, 42 }, { 10, 1, 49 }, { 10, 1, 56 }, { 10, 1, 3 }, { 10, 1, 10 }, { 10, 1, 17 },
		{ 10, 2, 24 }, { 10, 2, 31 }, { 10, 2, 38 }, { 10, 2, 45 }, { 10, 2, 52 }, { 10, 2, 59 },
		{ 10, 3, 6 }, { 10, 3, 13 }, { 10, 3, 20 }, { 10, 3, 27 },
	};
	struct engine *e = engine_for(state,
	    "table <trusted> { 127.0.0.0/8, ::1 }\n"
	    "trust <trusted>\n"
	    "\n"
	    "rule \"dha\" {\n"
	    "    on rcpt_unknown\n"
	    "    by client ipv4 /32 ipv6 /64\n"
	    "    when distinct to >= 20 within 10m\n"
	    "    do block for 1h escalate x4 max 7d\n"
	    "}\n");

	for (int i = 0; i < 22; i++) {
		char ip[64], to[64];

		snprintf(ip, sizeof(ip), "2001:db8:bad:1::%d", 10 + i % 4);
		snprintf(to, sizeof(to), "user%d@example.org", i);
		rcpt(e, utc(2024, 11, 19, hms[i][0], hms[i][1], hms[i][2]), ip, to);
	}
	assert_int_equal(R.n, 1);
	assert_string_equal(R.json[0],
	    "{\"ts\":\"2024-11-19T10:03:13Z\",\"rule\":\"dha\",\"key\":\"2001:db8:bad:1::/64\",\"action\":\"block\","
	    "\"duration\":3600,\"value\":20,\"level\":0,\"ip\":\"2001:db8:bad:1::13\",\"reason\":\"client "
	    "2001:db8:bad:1::/64: 20 distinct values of to within 10m (threshold 20, last rcpt_unknown)\"}\n");
}

static void
test_client_prefixes(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"v64\" {\n"
	    "    on rcpt_unknown\n"
	    "    when distinct to >= 20 within 10m\n"
	    "    do block for 1h\n"
	    "}\n"
	    "rule \"v24\" {\n"
	    "    on rcpt_unknown\n"
	    "    by client ipv4 /24 ipv6 /48\n"
	    "    when distinct to >= 20 within 10m\n"
	    "    do log\n"
	    "}\n");
	char ip[64], to[64];

	/* 20 addresses of one /64, one recipient each; 19 from the next /64 of the same /48 */
	for (int i = 0; i < 19; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:1:2:%x::%x", i * 3001, i + 1);
		snprintf(to, sizeof(to), "a%d@example.org", i);
		rcpt(e, T0 + i, ip, to);
		snprintf(ip, sizeof(ip), "2001:db8:1:3::%x", i + 1);
		snprintf(to, sizeof(to), "b%d@example.org", i);
		rcpt(e, T0 + i, ip, to);
	}
	/* by /48: 38 distinct recipients already - it decided at the 20th */
	assert_int_equal(R.n, 1);
	assert_string_equal(R.d[0].rule->name, "v24");
	assert_string_equal(R.key[0], "2001:db8:1::/48");
	assert_int_equal(R.d[0].value, 20);
	assert_int_equal(R.d[0].duration, 0);	/* log */
	rcpt(e, T0 + 30, "2001:db8:1:2:ffff:ffff:ffff:ffff", "a19@example.org");
	assert_int_equal(R.n, 2);
	assert_string_equal(R.d[1].rule->name, "v64");
	assert_string_equal(R.key[1], "2001:db8:1:2::/64");
	assert_non_null(strstr(R.json[1], "\"key\":\"2001:db8:1:2::/64\""));
	assert_non_null(strstr(R.json[1], "\"ip\":\"2001:db8:1:2:ffff:ffff:ffff:ffff\""));
	assert_int_equal(R.d[1].ip.family, 6);

	/* IPv4: /32 keys are the address, /24 keys a prefix; a mapped address is the IPv4 client */
	memset(&R, 0, sizeof(R));
	for (int i = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), i % 2 ? "198.51.100.%d" : "::ffff:198.51.100.%d", 1 + i);
		snprintf(to, sizeof(to), "c%d@example.org", i);
		rcpt(e, T0 + 40, ip, to);
	}
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "198.51.100.0/24");
	for (int i = 0; i < 19; i++) {
		snprintf(to, sizeof(to), "d%d@example.org", i);
		rcpt(e, T0 + 41, i % 2 ? "203.0.113.7" : "::ffff:203.0.113.7", to);
	}
	assert_int_equal(R.n, 1);
	rcpt(e, T0 + 42, "::FFFF:203.0.113.7", "d19@example.org");
	/* both rules: the address for /32, its /24 for the other */
	assert_int_equal(R.n, 3);
	assert_string_equal(R.d[1].rule->name, "v64");
	assert_string_equal(R.key[1], "203.0.113.7");
	assert_non_null(strstr(R.json[1], "\"key\":\"203.0.113.7\""));
	assert_non_null(strstr(R.json[1], "\"ip\":\"203.0.113.7\""));
	assert_string_equal(R.key[2], "203.0.113.0/24");
}

static void
test_suppression_and_escalation(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"abuse\" {\n"
	    "    on lost_conn, protocol_error\n"
	    "    when count >= 3 within 1m\n"
	    "    do block for 5m escalate x4 max 1h\n"
	    "}\n");
	const char *ip = "203.0.113.5";
	struct rule_stats st;

	simple(e, EV_LOST_CONN, T0 + 10, ip);
	simple(e, EV_LOST_CONN, T0 + 11, ip);
	assert_int_equal(R.n, 0);
	simple(e, EV_PROTOCOL_ERROR, T0 + 12, ip);
	assert_int_equal(R.n, 1);
	assert_int_equal(R.d[0].level, 0);
	assert_int_equal(R.d[0].duration, 300);
	assert_int_equal(R.d[0].value, 3);
	assert_int_equal(R.d[0].type, EV_PROTOCOL_ERROR);

	/* while the block is in force: nothing new, counted as suppressed */
	for (int i = 20; i < 26; i++)
		simple(e, EV_LOST_CONN, T0 + i, ip);
	assert_int_equal(R.n, 1);
	st = engine_rule_stats(e, 0);
	assert_int_equal(st.decisions, 1);
	assert_int_equal(st.suppressed, 4);	/* the window restarted at the decision: 3rd..6th */

	/* a fresh crossing after the block: level 1, 4x longer */
	simple(e, EV_LOST_CONN, T0 + 400, ip);
	simple(e, EV_LOST_CONN, T0 + 401, ip);
	simple(e, EV_LOST_CONN, T0 + 402, ip);
	assert_int_equal(R.n, 2);
	assert_int_equal(R.d[1].level, 1);
	assert_int_equal(R.d[1].duration, 1200);
	assert_non_null(strstr(R.json[1], "\"level\":1"));
	assert_non_null(strstr(R.json[1], "\"duration\":1200"));
	assert_non_null(strstr(R.reason[1], "repeat offender"));
	assert_null(strstr(R.reason[0], "repeat offender"));

	/* the block ends at T0+1602: a crossing exactly then decides (level 2: 4800 s, capped at 1h) */
	simple(e, EV_LOST_CONN, T0 + 1600, ip);
	simple(e, EV_LOST_CONN, T0 + 1601, ip);
	simple(e, EV_LOST_CONN, T0 + 1602, ip);
	assert_int_equal(R.n, 3);
	assert_int_equal(R.d[2].level, 2);
	assert_int_equal(R.d[2].duration, 3600);
	/* and again: the cap holds */
	for (int i = 0; i < 3; i++)
		simple(e, EV_LOST_CONN, T0 + 5202 + i, ip);
	assert_int_equal(R.n, 4);
	assert_int_equal(R.d[3].level, 3);
	assert_int_equal(R.d[3].duration, 3600);

	/* another client starts at level 0 */
	for (int i = 0; i < 3; i++)
		simple(e, EV_LOST_CONN, T0 + 5300 + i, "203.0.113.6");
	assert_int_equal(R.n, 5);
	assert_int_equal(R.d[4].level, 0);
	assert_int_equal(R.d[4].duration, 300);
	st = engine_rule_stats(e, 0);
	assert_int_equal(st.decisions, 5);
}

/* docs/RULES.md, "A repeat offender": the exact lines. */
static void
test_docs_abuse_example(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"abuse\" {\n"
	    "    on lost_conn, protocol_error\n"
	    "    when count >= 3 within 1m\n"
	    "    do block for 5m escalate x4 max 1h\n"
	    "}\n");
	static const int ms[][3] = {
		{ 0, 10, EV_LOST_CONN }, { 0, 11, EV_LOST_CONN }, { 0, 12, EV_LOST_CONN },
		{ 5, 10, EV_LOST_CONN }, { 5, 11, EV_LOST_CONN }, { 5, 12, EV_LOST_CONN },
		{ 12, 10, EV_PROTOCOL_ERROR }, { 12, 11, EV_PROTOCOL_ERROR }, { 12, 12, EV_PROTOCOL_ERROR },
	};

	for (int i = 0; i < 9; i++)
		simple(e, (enum ev_type)ms[i][2], utc(2024, 11, 19, 11, ms[i][0], ms[i][1]), "203.0.113.5");
	assert_int_equal(R.n, 2);
	assert_string_equal(R.json[0],
	    "{\"ts\":\"2024-11-19T11:00:12Z\",\"rule\":\"abuse\",\"key\":\"203.0.113.5\",\"action\":\"block\","
	    "\"duration\":300,\"value\":3,\"level\":0,\"ip\":\"203.0.113.5\",\"reason\":\"client 203.0.113.5: "
	    "3 events within 1m (threshold 3, last lost_conn)\"}\n");
	assert_string_equal(R.json[1],
	    "{\"ts\":\"2024-11-19T11:05:12Z\",\"rule\":\"abuse\",\"key\":\"203.0.113.5\",\"action\":\"block\","
	    "\"duration\":1200,\"value\":3,\"level\":1,\"ip\":\"203.0.113.5\",\"reason\":\"client 203.0.113.5: "
	    "3 events within 1m (threshold 3, last lost_conn), repeat offender\"}\n");
	assert_int_equal(engine_rule_stats(e, 0).suppressed, 1);
}

static void
test_trusted(void **state)
{
	struct engine *e = engine_for(state,
	    "table <trusted> { 192.0.2.0/24, !192.0.2.99, 2001:db8:100::/48 }\n"
	    "table <peers> { 198.51.100.53 }\n"
	    "trust <trusted>, <peers>\n"
	    "rule \"c\" { on connect when count >= 1 within 1m do log }\n"
	    "rule \"g\" { on connect by global when count >= 3 within 1m do log }\n");

	simple(e, EV_CONNECT, T0, "192.0.2.5");
	simple(e, EV_CONNECT, T0, "192.0.2.5");
	simple(e, EV_CONNECT, T0, "192.0.2.200");
	simple(e, EV_CONNECT, T0, "::ffff:192.0.2.6");
	simple(e, EV_CONNECT, T0, "2001:db8:100:abcd::1");
	simple(e, EV_CONNECT, T0, "198.51.100.53");
	assert_int_equal(R.n, 0);
	assert_int_equal(engine_trusted(e), 6);
	assert_int_equal(engine_rule_stats(e, 0).events, 0);
	assert_int_equal(engine_rule_stats(e, 1).events, 0);	/* not even for a global key */
	assert_int_equal(engine_rule_stats(e, 0).keys, 0);

	/* carved out of the trusted /24 */
	simple(e, EV_CONNECT, T0 + 1, "192.0.2.99");
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "192.0.2.99");
	simple(e, EV_CONNECT, T0 + 2, "2001:db8:101::1");
	assert_int_equal(R.n, 2);
	assert_string_equal(R.key[1], "2001:db8:101::/64");
	assert_int_equal(engine_trusted(e), 6);
	/* no client address: nothing to trust, and no client key */
	simple(e, EV_CONNECT, T0 + 3, NULL);
	assert_int_equal(engine_trusted(e), 6);
	assert_int_equal(R.n, 3);
	assert_string_equal(R.key[2], "*");
}

static void
test_unless_exempts(void **state)
{
	struct engine *e = engine_for(state,
	    "table <bulk> { 203.0.113.64/26, 2001:db8:b01c::/48 }\n"
	    "rule \"flood\" {\n"
	    "    on msg_accepted, bounce_in\n"
	    "    when count >= 3 within 10m\n"
	    "    unless client in <bulk>\n"
	    "    unless helo == \"never-set\"\n"
	    "    do tarpit for 30m\n"
	    "}\n");

	for (int i = 0; i < 10; i++) {
		simple(e, EV_MSG_ACCEPTED, T0 + i, "203.0.113.70");
		simple(e, EV_BOUNCE_IN, T0 + i, "2001:db8:b01c:1::1");
	}
	assert_int_equal(R.n, 0);
	assert_int_equal(engine_rule_stats(e, 0).events, 0);
	simple(e, EV_MSG_ACCEPTED, T0 + 20, "203.0.113.10");
	simple(e, EV_BOUNCE_IN, T0 + 21, "203.0.113.10");
	assert_int_equal(R.n, 0);
	simple(e, EV_MSG_ACCEPTED, T0 + 22, "203.0.113.10");
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "203.0.113.10");
	assert_int_equal(R.d[0].action, A_TARPIT);
	assert_int_equal(R.d[0].duration, 1800);
	assert_non_null(strstr(R.json[0], "\"action\":\"tarpit\""));
	assert_int_equal(engine_rule_stats(e, 0).events, 3);
}

static void
test_null_sender(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"nb\" {\n"
	    "    on msg_accepted, bounce_in\n"
	    "    where from == \"<>\"\n"
	    "    when count >= 3 within 10m\n"
	    "    do reject for 1h\n"
	    "}\n"
	    "rule \"notnull\" {\n"
	    "    on msg_accepted\n"
	    "    where not (from == \"<>\")\n"
	    "    when count >= 4 within 10m\n"
	    "    do log\n"
	    "}\n");
	struct event ev;

	for (int i = 0; i < 3; i++) {
		ev = E(EV_MSG_ACCEPTED, T0 + i, "198.51.100.9");
		ev_set_str(&ev, F_FROM, S("news@example.net"));
		feed(e, &ev);
	}
	/* no from at all: "from == <>" is false, "not (from == <>)" is true */
	ev = E(EV_MSG_ACCEPTED, T0 + 3, "198.51.100.9");
	feed(e, &ev);
	assert_int_equal(R.n, 1);
	assert_string_equal(R.d[0].rule->name, "notnull");
	for (int i = 0; i < 2; i++) {
		ev = E(EV_BOUNCE_IN, T0 + 10 + i, "198.51.100.9");
		ev_set_str(&ev, F_FROM, S(""));
		feed(e, &ev);
	}
	assert_int_equal(R.n, 1);
	ev = E(EV_MSG_ACCEPTED, T0 + 12, "198.51.100.9");
	ev_set_str(&ev, F_FROM, (struct span){ "", 0 });
	feed(e, &ev);
	assert_int_equal(R.n, 2);
	assert_string_equal(R.d[1].rule->name, "nb");
	assert_int_equal(R.d[1].action, A_REJECT);
	assert_int_equal(engine_rule_stats(e, 0).events, 3);
}

static void
test_global_key(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"ndr\" {\n"
	    "    on bounce_in\n"
	    "    by global\n"
	    "    when count >= 5 within 10m\n"
	    "    do defer for 15m\n"
	    "}\n");
	char ip[32];

	for (int i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", 10 + i);
		simple(e, EV_BOUNCE_IN, T0 + i, ip);
	}
	assert_int_equal(R.n, 0);
	simple(e, EV_BOUNCE_IN, T0 + 5, NULL);	/* no client: still counted globally */
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "*");
	assert_int_equal(R.d[0].value, 5);
	assert_int_equal(R.d[0].action, A_DEFER);
	assert_int_equal(R.d[0].duration, 900);
	assert_int_equal(R.d[0].ip.family, 0);
	assert_non_null(strstr(R.json[0], "\"key\":\"*\""));
	assert_null(strstr(R.json[0], "\"ip\""));
	assert_int_equal(engine_rule_stats(e, 0).keys, 1);
}

static void
helo_ev(struct engine *e, int64_t ts, const char *ip, const char *helo)
{
	struct event ev = E(EV_CLIENT_REJECT, ts, ip);

	if (helo != NULL)
		ev_set_str(&ev, F_HELO, S(helo));
	feed(e, &ev);
}

static void
test_helo_key(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"h\" {\n"
	    "    on client_reject\n"
	    "    by helo\n"
	    "    when count >= 4 within 10m\n"
	    "    do block for 1h\n"
	    "}\n");
	char ip[32];

	helo_ev(e, T0, "192.0.2.1", "EVIL.example");
	helo_ev(e, T0 + 1, "192.0.2.2", "evil.example");
	helo_ev(e, T0 + 2, "2001:db8::3", "Evil.Example");
	for (int i = 0; i < 3; i++)
		helo_ev(e, T0 + 3, "192.0.2.9", "other.example");
	helo_ev(e, T0 + 3, "192.0.2.9", NULL);	/* no HELO: no key */
	helo_ev(e, T0 + 3, "192.0.2.9", "evil.example.");	/* another name */
	assert_int_equal(R.n, 0);
	helo_ev(e, T0 + 4, "192.0.2.4", "eViL.eXample");
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "evil.example");
	assert_non_null(strstr(R.json[0], "\"key\":\"evil.example\""));
	assert_non_null(strstr(R.json[0], "\"ip\":\"192.0.2.4\""));

	/* long names: keyed by 48 bytes and a hash of the whole, so these two are two keys */
	static const char a[] = "a-very-long-helo-name-that-goes-on-and-on.example.com.x1",
	    b[] = "a-very-long-helo-name-that-goes-on-and-on.example.com.x2";

	memset(&R, 0, sizeof(R));
	for (int i = 0; i < 3; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i);
		helo_ev(e, T0 + 10, ip, a);
		helo_ev(e, T0 + 10, ip, b);
	}
	assert_int_equal(R.n, 0);
	helo_ev(e, T0 + 11, "198.51.100.200", "A-VERY-LONG-HELO-NAME-THAT-GOES-ON-AND-ON.EXAMPLE.COM.X2");
	assert_int_equal(R.n, 1);
	assert_int_equal(strncmp(R.key[0], b, 48), 0);
}

/* Hostile bytes in a key still give valid JSON. */
static void
test_json_escaping(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"esc\" { on client_reject by helo when count >= 1 within 1m do log }\n"
	    "rule \"snd\" { on msg_accepted by sender when count >= 1 within 1m do log }\n");
	static const char *const nasty[] = {
		"q\"uote", "back\\slash", "ctl\x01\x1f", "tab\there", "nl\nx", "\xff\xfe invalid utf-8",
		"caf\xc3\xa9", "\xe2\x82", "</script>", "{\"json\":1}",
	};
	struct event ev;

	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++)
		helo_ev(e, T0 + (int64_t)i, "192.0.2.1", nasty[i]);
	assert_int_equal(R.n, (int)(sizeof(nasty) / sizeof(nasty[0])));
	assert_string_equal(R.key[0], "q\"uote");
	ev = E(EV_MSG_ACCEPTED, T0, "192.0.2.1");
	ev_set_str(&ev, F_FROM, S("\"evil\"@ex\\ample.org"));
	feed(e, &ev);
	assert_int_equal(R.n, (int)(sizeof(nasty) / sizeof(nasty[0])) + 1);
}

static void
test_sum_size(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"vol\" {\n"
	    "    on msg_accepted\n"
	    "    when sum size >= 1000000 within 10m\n"
	    "    do log\n"
	    "}\n");
	struct event ev;

	for (int i = 0; i < 3; i++) {
		ev = E(EV_MSG_ACCEPTED, T0 + i, "192.0.2.1");
		ev_set_num(&ev, F_SIZE, 300000);
		feed(e, &ev);
	}
	ev = E(EV_MSG_ACCEPTED, T0 + 3, "192.0.2.1");	/* no size: adds nothing */
	feed(e, &ev);
	ev = E(EV_MSG_ACCEPTED, T0 + 4, "192.0.2.2");	/* another client */
	ev_set_num(&ev, F_SIZE, 999999);
	feed(e, &ev);
	assert_int_equal(R.n, 0);
	ev = E(EV_MSG_ACCEPTED, T0 + 5, "192.0.2.1");
	ev_set_num(&ev, F_SIZE, 100000);
	feed(e, &ev);
	assert_int_equal(R.n, 1);
	assert_int_equal(R.d[0].value, 1000000);
	assert_string_equal(R.key[0], "192.0.2.1");
	assert_non_null(strstr(R.reason[0], "size"));
	/* the sum slides: 999999 at T0+4, nothing more until it has left the window */
	ev = E(EV_MSG_ACCEPTED, T0 + 700, "192.0.2.2");
	ev_set_num(&ev, F_SIZE, 1);
	feed(e, &ev);
	assert_int_equal(R.n, 1);
	/* one huge message */
	ev = E(EV_MSG_ACCEPTED, T0 + 701, "192.0.2.3");
	ev_set_num(&ev, F_SIZE, 5000000000ll);
	feed(e, &ev);
	assert_int_equal(R.n, 2);
	assert_true(R.d[1].value >= 1000000);
}

static void
test_old_events(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"c\" { on auth_fail when count >= 3 within 10m do block for 1h }\n");

	simple(e, EV_AUTH_FAIL, T0 + 3600, "192.0.2.1");
	simple(e, EV_AUTH_FAIL, T0 + 3601, "192.0.2.1");
	/* an hour late: outside the window, not counted */
	simple(e, EV_AUTH_FAIL, T0, "192.0.2.1");
	simple(e, EV_AUTH_FAIL, T0 + 1, "192.0.2.1");
	assert_int_equal(R.n, 0);
	simple(e, EV_AUTH_FAIL, T0 + 3602, "192.0.2.1");
	assert_int_equal(R.n, 1);
	assert_int_equal(R.d[0].ts, T0 + 3602);
	assert_int_equal(R.d[0].value, 3);

	/* spread out: 3 events 11 minutes apart never make 3 within 10 minutes */
	for (int i = 0; i < 3; i++)
		simple(e, EV_AUTH_FAIL, T0 + 10000 + 660 * i, "192.0.2.2");
	assert_int_equal(R.n, 1);
	/* ...but late events still inside the window count */
	simple(e, EV_AUTH_FAIL, T0 + 10000 + 1320 - 300, "192.0.2.2");
	simple(e, EV_AUTH_FAIL, T0 + 10000 + 1320 - 200, "192.0.2.2");
	assert_int_equal(R.n, 2);
	assert_string_equal(R.key[1], "192.0.2.2");
}

/*
 * An event older than the window is ignored by the window, so it must not
 * decide either. Count >= 3 within 1m, block 1m: T0..T0+2 decide (until
 * T0+62); T0+10..12 are suppressed and stay in the window. At T0+63 a line
 * ten minutes late arrives: not counted, no decision. At T0+64 the window
 * (from T0+10) holds 4 events and the block is over: one decision, level 1,
 * at T0+64.
 */
static void
test_old_event_does_not_decide(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"c\" { on auth_fail when count >= 3 within 1m do block for 1m escalate x4 }\n");
	const char *ip = "192.0.2.1";

	for (int i = 0; i < 3; i++)
		simple(e, EV_AUTH_FAIL, T0 + i, ip);
	assert_int_equal(R.n, 1);
	for (int i = 10; i < 13; i++)
		simple(e, EV_AUTH_FAIL, T0 + i, ip);
	assert_int_equal(R.n, 1);
	simple(e, EV_AUTH_FAIL, T0 - 600, ip);
	assert_int_equal(R.n, 1);
	simple(e, EV_AUTH_FAIL, T0 + 64, ip);
	assert_int_equal(R.n, 2);
	assert_int_equal(R.d[1].ts, T0 + 64);
	assert_int_equal(R.d[1].level, 1);
	assert_int_equal(R.d[1].duration, 240);
}

static void
test_string_keys(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"dom\" { on msg_accepted by sender_domain when count >= 3 within 10m do log }\n"
	    "rule \"rcpt\" { on rcpt_unknown by recipient when count >= 3 within 10m do log }\n"
	    "rule \"snd\" { on msg_accepted by sender when count >= 2 within 10m do log }\n");
	struct event ev;
	static const char *const froms[] = { "a@Example.COM", "b@example.com", "nobody", "c@EXAMPLE.com" };

	for (int i = 0; i < 4; i++) {
		ev = E(EV_MSG_ACCEPTED, T0 + i, "192.0.2.1");
		ev_set_str(&ev, F_FROM, S(froms[i]));
		feed(e, &ev);
	}
	/* "nobody" has no domain; the others are one domain */
	assert_int_equal(R.n, 1);
	assert_string_equal(R.d[0].rule->name, "dom");
	assert_string_equal(R.key[0], "example.com");
	ev = E(EV_MSG_ACCEPTED, T0 + 5, "192.0.2.2");
	ev_set_str(&ev, F_FROM, S("A@example.com"));
	feed(e, &ev);
	assert_int_equal(R.n, 2);
	assert_string_equal(R.d[1].rule->name, "snd");
	assert_string_equal(R.key[1], "a@example.com");

	rcpt(e, T0 + 6, "192.0.2.1", "Postmaster@example.org");
	rcpt(e, T0 + 6, "192.0.2.2", "postmaster@EXAMPLE.org");
	assert_int_equal(R.n, 2);
	rcpt(e, T0 + 6, "2001:db8::1", "POSTMASTER@example.org");
	assert_int_equal(R.n, 3);
	assert_string_equal(R.key[2], "postmaster@example.org");
}

/* Every rule listening to an event's type sees it, however many rules there are. */
static void
test_many_rules(void **state)
{
	enum { N = 100 };
	static char text[N * 80];
	size_t len = 0;

	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "rule \"r%d\" { on connect when count >= 1 within 1m do log }\n", i);
	struct engine *e = engine_for(state, text);

	assert_int_equal(((struct fix *)*state)->c->nrules, N);
	simple(e, EV_CONNECT, T0, "192.0.2.1");
	assert_int_equal(R.n, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(engine_rule_stats(e, i).decisions, 1);
}

static void
test_key_cap(void **state)
{
	struct fix *f = *state;
	static const char conf_small[] =
	    "rule \"cap\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 10m\n"
	    "    do block for 1h\n"
	    "    max-keys 16\n"
	    "}\n";
	static const char conf_big[] =
	    "rule \"cap\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 10m\n"
	    "    do block for 1h\n"
	    "}\n";
	struct engine *e = engine_for(state, conf_small), *big;
	struct rule_stats st;
	char ip[32];

	f->c2 = load_conf(f, conf_big);
	big = f->e2 = engine_new(f->c2);
	for (int i = 0; i < 1000; i++) {
		struct event ev;

		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 250, i % 250 + 1);
		ev = E(EV_CONNECT, T0, ip);
		feed(e, &ev);
		feed(big, &ev);
	}
	assert_int_equal(R.n, 0);
	st = engine_rule_stats(e, 0);
	assert_int_equal(st.events, 1000);
	assert_true(st.keys <= 16);
	assert_int_equal(st.keys_peak, 16);
	assert_int_equal(st.evicted, 1000 - 16);
	st = engine_rule_stats(big, 0);
	assert_int_equal(st.keys, 1000);
	assert_int_equal(st.evicted, 0);
	/* memory follows the cap, not the number of clients */
	assert_true(engine_memory(e) > 0);
	assert_true(engine_memory(e) <= 16 * 2 * 512);
	assert_true(engine_memory(e) * 20 < engine_memory(big));

	/*
	 * Among keys of equal progress the least recently seen goes, and an
	 * evicted key starts again from zero: 203.0.113.1 has one event, 16
	 * newer one-event keys push it out.
	 */
	simple(e, EV_CONNECT, T0 + 1, "203.0.113.1");
	for (int i = 0; i < 16; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%d", i + 1);
		simple(e, EV_CONNECT, T0 + 1, ip);
	}
	for (int i = 0; i < 4; i++)
		simple(e, EV_CONNECT, T0 + 1, "203.0.113.1");
	assert_int_equal(R.n, 0);	/* 4, not 5: the first one was forgotten */
	/* a key that stays recent keeps its count */
	simple(e, EV_CONNECT, T0 + 1, "203.0.113.1");
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "203.0.113.1");
}

/*
 * "distinct client ipv6 /64" counts /64s, not addresses: one /64 rotating
 * through 30 addresses is one value; the third /64 of the /48 decides.
 * IPv4 keeps counting addresses (/32 by default), and a rule counting
 * addresses still sees the 30.
 */
static void
test_distinct_client_prefix(void **state)
{
	static const char conf[] =
	    "rule \"spread\" {\n"
	    "    on rcpt_unknown\n"
	    "    by client ipv4 /24 ipv6 /48\n"
	    "    when distinct client ipv6 /64 >= 3 within 10m\n"
	    "    do block for 1h\n"
	    "}\n"
	    "rule \"addrs\" {\n"
	    "    on rcpt_unknown\n"
	    "    by client ipv6 /48\n"
	    "    when distinct client >= 30 within 10m\n"
	    "    do log\n"
	    "}\n";
	struct engine *e = engine_for(state, conf);
	char ip[64];

	for (int i = 0; i < 30; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:4848:1::%x", i + 1);
		rcpt(e, T0 + i, ip, "a@example.org");
	}
	assert_int_equal(R.n, 1);
	assert_string_equal(R.d[0].rule->name, "addrs");
	rcpt(e, T0 + 40, "2001:db8:4848:2::1", "a@example.org");
	assert_int_equal(R.n, 1);
	rcpt(e, T0 + 41, "2001:db8:4848:3::1", "a@example.org");
	assert_int_equal(R.n, 2);
	assert_string_equal(R.d[1].rule->name, "spread");
	assert_string_equal(R.key[1], "2001:db8:4848::/48");
	assert_int_equal(R.d[1].value, 3);
	assert_non_null(strstr(R.reason[1], "3 distinct client /64s within 10m"));
	/* IPv4: addresses of the /24, as before */
	rcpt(e, T0 + 50, "203.0.113.1", "a@example.org");
	rcpt(e, T0 + 51, "203.0.113.1", "b@example.org");
	rcpt(e, T0 + 52, "203.0.113.2", "a@example.org");
	assert_int_equal(R.n, 2);
	rcpt(e, T0 + 53, "203.0.113.3", "a@example.org");
	assert_int_equal(R.n, 3);
	assert_string_equal(R.key[2], "203.0.113.0/24");
	assert_non_null(strstr(R.reason[2], "3 distinct values of client"));
}

/*
 * mxguard's hash of `distinct` values up to issue 12 (rules/engine.c,
 * fold_hash): 32 bits of an unkeyed multiply-xorshift, so anyone could
 * compute collisions offline. Kept here only to craft them.
 */
static uint32_t
old_fold_hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = ((h ^ (w | 0x2020202020202020ull)) * 0xc4ceb9fe1a85ec53ull);
		h ^= h >> 29;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, p + i, n - i);
		h = (h ^ (w | (0x2020202020202020ull >> (8 * (8 - (n - i)))))) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* The old hash's state after the first 8 bytes of a 28-byte value. */
static uint64_t
old_state1(const char w1[8])
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ 28, w;

	memcpy(&w, w1, 8);
	h = (h ^ (w | 0x2020202020202020ull)) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

/*
 * A harvester who knows the hash makes 20 different recipients count as
 * one. The old state after two words is state1(w1) ^ (w2 | 0x20..): pick
 * w1 = "u" + 7 digits, and w2 = K ^ state1(w1) for a constant K, whenever
 * that is 8 bytes of valid local-part characters with bit 5 set (so the
 * case folding leaves them alone: no capitals, no '^' or '_'); add "@example.org". All of them have
 * the same 64-bit state, so the same old 32-bit hash. With today's keyed
 * 64-bit fingerprints they count as 20 and the rule decides.
 * (Little-endian layout, as the old hash read it; x86 and arm64.)
 */
static void
test_crafted_collisions_count_apart(void **state)
{
	static const char conf[] =
	    "rule \"dha\" {\n"
	    "    on rcpt_unknown\n"
	    "    when distinct to >= 20 within 10m\n"
	    "    do block for 1h\n"
	    "}\n";
	static const char ok[] = "0123456789abcdefghijklmnopqrstuvwxyz!#$%&'*+-/=?`{|}~";
	char rc[20][32], w1[9];
	uint64_t k;
	int n = 0;
	struct engine *e = engine_for(state, conf);

	memcpy(w1, "u0000000", 9);
	k = old_state1(w1) ^ 0x6161616161616161ull;	/* w2 = "aaaaaaaa" for the first */
	for (unsigned i = 0; i < 10000000 && n < 20; i++) {
		uint64_t v;
		char w2[9];
		int good = 1;

		snprintf(w1, sizeof(w1), "u%07u", i);
		v = k ^ old_state1(w1);
		memcpy(w2, &v, 8);
		w2[8] = '\0';
		for (int b = 0; b < 8 && good; b++)
			good = w2[b] != '\0' && strchr(ok, w2[b]) != NULL;
		if (good)
			snprintf(rc[n++], sizeof(rc[0]), "%s%s@example.org", w1, w2);
	}
	assert_int_equal(n, 20);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(strlen(rc[i]), 28);
		assert_int_equal(old_fold_hash(rc[i], 28), old_fold_hash(rc[0], 28));
		for (int j = 0; j < i; j++)
			assert_true(strcasecmp(rc[i], rc[j]) != 0);
	}
	assert_string_equal(rc[0], "u0000000aaaaaaaa@example.org");
	for (int i = 0; i < 19; i++)
		rcpt(e, T0 + i, "203.0.113.66", rc[i]);
	assert_int_equal(R.n, 0);
	rcpt(e, T0 + 19, "203.0.113.66", rc[19]);
	assert_int_equal(R.n, 1);
	assert_int_equal(R.d[0].value, 20);
	assert_string_equal(R.key[0], "203.0.113.66");
	/* and case still folds: the same recipients in capitals add nothing */
	for (int i = 0; i < 19; i++) {
		char up[32];

		for (int b = 0; b < 29; b++)
			up[b] = (char)(rc[i][b] >= 'a' && rc[i][b] <= 'z' ? rc[i][b] - 32 : rc[i][b]);
		rcpt(e, T0 + 30, "203.0.113.67", rc[i]);
		rcpt(e, T0 + 31, "203.0.113.67", up);
	}
	assert_int_equal(R.n, 1);
}

/*
 * The eviction policy (keytab_set_score, window_score): a real attacker at
 * threshold - 1 survives a flood of ten times the cap of one-event keys
 * (an IPv6 client spreading over fresh /64s), then decides; a key with one
 * event less than another goes first. Without the policy (least recently
 * seen out) the attacker's counter is the first to go.
 */
static void
test_eviction_keeps_progress(void **state)
{
	static const char conf[] =
	    "rule \"dha\" {\n"
	    "    on rcpt_unknown\n"
	    "    by client ipv4 /32 ipv6 /64\n"
	    "    when distinct to >= 20 within 10m\n"
	    "    do block for 1h\n"
	    "    max-keys 100\n"
	    "}\n";
	struct engine *e = engine_for(state, conf);
	char ip[64], to[64];
	struct rule_stats st;

	for (int i = 0; i < 19; i++) {
		snprintf(to, sizeof(to), "user%d@example.org", i);
		rcpt(e, T0 + i, "2001:db8:bad:1::7", to);
	}
	/* a slower one half-way to the threshold */
	for (int i = 0; i < 10; i++) {
		snprintf(to, sizeof(to), "guess%d@example.org", i);
		rcpt(e, T0 + 19, "203.0.113.9", to);
	}
	/* 1000 throwaway keys (10x the cap), one event each, all newer */
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:f100:%x::1", i + 1);
		rcpt(e, T0 + 20 + i / 10, ip, "x@example.org");
	}
	st = engine_rule_stats(e, 0);
	assert_int_equal(st.evicted, 1000 + 2 - 100);
	assert_int_equal(st.keys, 100);
	assert_int_equal(R.n, 0);
	/* the attacker's 20th recipient decides, for its /64 */
	rcpt(e, T0 + 200, "2001:db8:bad:1::8", "user19@example.org");
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "2001:db8:bad:1::/64");
	assert_int_equal(R.d[0].value, 20);
	/* the slower one kept its 10 too */
	for (int i = 10; i < 20; i++) {
		snprintf(to, sizeof(to), "guess%d@example.org", i);
		rcpt(e, T0 + 201, "203.0.113.9", to);
	}
	assert_int_equal(R.n, 2);
	assert_string_equal(R.key[1], "203.0.113.9");
}

static void
test_idle_keys_expire(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"c\" { on connect when count >= 100 within 1m do block for 1h }\n");
	char ip[32];
	struct rule_stats st;

	for (int i = 0; i < 50; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		simple(e, EV_CONNECT, T0, ip);
	}
	assert_int_equal(engine_rule_stats(e, 0).keys, 50);
	/* much later, one client keeps the engine busy: the 50 idle keys go */
	for (int i = 0; i < 90; i++)
		simple(e, EV_CONNECT, T0 + 3600 + i * 30, "192.0.2.1");
	st = engine_rule_stats(e, 0);
	assert_int_equal(st.expired, 50);
	assert_int_equal(st.keys, 1);
	assert_int_equal(st.keys_peak, 51);	/* the busy client arrived before the sweep */
	assert_int_equal(st.evicted, 0);
	assert_int_equal(R.n, 0);
}

static void
test_limit_action(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"slow-down\" {\n"
	    "    on msg_accepted, bounce_in\n"
	    "    when count >= 3 within 10m\n"
	    "    do limit 10 per 1m for 1h\n"
	    "}\n");

	for (int i = 0; i < 3; i++)
		simple(e, i ? EV_MSG_ACCEPTED : EV_BOUNCE_IN, T0 + i, "2001:db8:77::1");
	assert_int_equal(R.n, 1);
	assert_int_equal(R.d[0].action, A_LIMIT);
	assert_non_null(strstr(R.json[0], "\"action\":\"limit\""));
	assert_non_null(strstr(R.json[0], "\"limit\":10"));
	assert_non_null(strstr(R.json[0], "\"per\":60"));
	assert_non_null(strstr(R.json[0], "\"duration\":3600"));
	assert_non_null(strstr(R.json[0], "\"key\":\"2001:db8:77::/64\""));
	assert_non_null(strstr(R.json[0], "\"ip\":\"2001:db8:77::1\""));
}

static void
test_rules_by_type(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"a\" { on connect when count >= 2 within 1m do log }\n"
	    "rule \"b\" { on connect, auth_fail when count >= 3 within 1m do log }\n"
	    "rule \"c\" { on auth_fail where user == \"admin\" when count >= 1 within 1m do log }\n");
	struct event ev;

	simple(e, EV_DISCONNECT, T0, "192.0.2.1");
	simple(e, EV_RCPT_UNKNOWN, T0, "192.0.2.1");
	assert_int_equal(engine_rule_stats(e, 0).events, 0);
	assert_int_equal(engine_rule_stats(e, 1).events, 0);
	simple(e, EV_CONNECT, T0, "192.0.2.1");
	simple(e, EV_AUTH_FAIL, T0, "192.0.2.1");
	assert_int_equal(R.n, 0);
	simple(e, EV_CONNECT, T0, "192.0.2.1");
	/* both rules at once: a (2 connects) and b (2 connects + 1 auth_fail) */
	assert_int_equal(R.n, 2);
	assert_int_equal(engine_rule_stats(e, rule_index(state, "a")).events, 2);
	assert_int_equal(engine_rule_stats(e, rule_index(state, "b")).events, 3);
	assert_int_equal(engine_rule_stats(e, rule_index(state, "c")).events, 0);
	ev = E(EV_AUTH_FAIL, T0 + 1, "192.0.2.1");
	ev_set_str(&ev, F_USER, S("admin"));
	feed(e, &ev);
	assert_int_equal(R.n, 3);
	assert_string_equal(R.d[2].rule->name, "c");
}

/*
 * A distinct rule whose key stays under action keeps counting; when the
 * action has ended, the values seen during it that are still inside the
 * window must count. Threshold 3 in 10 minutes, block 10 minutes:
 * a, b, c at T0 decide (until T0+600); d, e, f at T0+60 and g, h, i at
 * T0+540 are suppressed; at T0+660 the window (T0+60..T0+660, buckets of
 * 60 s: T0+120 onwards) holds g, h, i and j: 4 distinct values >= 3, and
 * the block is over: a decision, level 1.
 */
static void
test_distinct_after_suppression(void **state)
{
	struct engine *e = engine_for(state,
	    "rule \"d\" {\n"
	    "    on rcpt_unknown\n"
	    "    when distinct to >= 3 within 10m\n"
	    "    do block for 10m\n"
	    "}\n");
	const char *ip = "203.0.113.9";

	rcpt(e, T0, ip, "a@x");
	rcpt(e, T0, ip, "b@x");
	rcpt(e, T0, ip, "c@x");
	assert_int_equal(R.n, 1);
	rcpt(e, T0 + 60, ip, "d@x");
	rcpt(e, T0 + 60, ip, "e@x");
	rcpt(e, T0 + 60, ip, "f@x");
	rcpt(e, T0 + 540, ip, "g@x");
	rcpt(e, T0 + 540, ip, "h@x");
	rcpt(e, T0 + 540, ip, "i@x");
	assert_int_equal(R.n, 1);
	assert_true(engine_rule_stats(e, 0).suppressed >= 1);
	rcpt(e, T0 + 660, ip, "j@x");
	assert_int_equal(R.n, 2);
	assert_int_equal(R.d[1].level, 1);
}

/*
 * A recipient the parser could not read (client text made it ambiguous,
 * or the MTA cut it short) is doubtful: each such event counts as a value
 * of its own, so a harvest cannot hide behind unreadable lines; an event
 * that simply has no recipient counts as none.
 */
static void
test_doubtful_counts_as_distinct(void **state)
{
	struct engine *e = engine_for(state, DHA);
	int64_t t = T0;

	for (int i = 0; i < 30; i++) {
		struct event ev = E(EV_RCPT_UNKNOWN, t++, "203.0.113.66");

		feed(e, &ev);	/* no recipient at all: nothing to count */
	}
	assert_int_equal(R.n, 0);
	for (int i = 0; i < 19; i++) {
		struct event ev = E(EV_RCPT_UNKNOWN, t++, "203.0.113.67");

		ev_doubt(&ev, F_TO);
		feed(e, &ev);
	}
	assert_int_equal(R.n, 0);
	{
		struct event ev = E(EV_RCPT_UNKNOWN, t++, "203.0.113.67");

		ev.doubtful |= EV_DOUBT_ANY;	/* read by a fallback pattern */
		feed(e, &ev);
	}
	assert_int_equal(R.n, 1);
	assert_string_equal(R.key[0], "203.0.113.67");
}

/* ---- scope cluster: what the engine hands the cluster's counters ---- */

struct shared_log {
	int take;		/* what the share function answers */
	int n;
	int rule[64];
	uint8_t key[64][64], ckey[64][64];
	size_t klen[64], cklen[64];
	uint64_t fp[64], add[64];
};
static struct shared_log SL;

static int
share_rec(void *arg, const struct engine_shared *s)
{
	struct shared_log *l = arg;

	if (l->n < 64) {
		l->rule[l->n] = s->rule;
		memcpy(l->key[l->n], s->key, s->klen);
		l->klen[l->n] = s->klen;
		memcpy(l->ckey[l->n], s->ckey, s->cklen);
		l->cklen[l->n] = s->cklen;
		l->fp[l->n] = s->fp;
		l->add[l->n] = s->add;
	}
	l->n++;
	return l->take;
}

static const char CLUSTER_RULES[] =
    "rule \"c\" { on rcpt_unknown when distinct to >= 3 within 10m do block for 1h scope cluster }\n"
    "rule \"l\" { on rcpt_unknown when distinct to >= 3 within 10m do log }\n"
    "rule \"h\" { on rcpt_unknown by helo when count >= 100 within 10m do log scope cluster }\n";

/*
 * A scope cluster rule's events go to the share function; while it takes
 * them, the cluster decides (engine_cluster_decide), not the local window;
 * when it does not (Redis away), the local window does. Fingerprints and
 * long keys' hashes are under the cluster's key: two engines (two nodes)
 * name a value alike.
 */
static void
test_cluster_scope(void **state)
{
	struct engine *e = engine_for(state, CLUSTER_RULES), *e2;
	struct hash_key ck = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
	struct shared_log first;
	char helo[80];
	struct event ev;
	struct addr ip;
	int c = rule_index(state, "c"), h = rule_index(state, "h");

	memset(&SL, 0, sizeof(SL));
	SL.take = 1;
	engine_set_cluster(e, &ck, share_rec, &SL);
	rcpt(e, T0, "203.0.113.9", "u1@example.org");
	rcpt(e, T0 + 1, "203.0.113.9", "U2@EXAMPLE.org");
	rcpt(e, T0 + 2, "203.0.113.9", "u3@example.org");
	/* the local rule decided; the cluster rule's window reached 3 too, but the cluster decides */
	assert_int_equal(R.n, 1);
	assert_string_equal(R.d[0].rule->name, "l");
	assert_int_equal(SL.n, 6);	/* 3 events x 2 scope cluster rules */
	assert_int_equal(SL.rule[0], c);
	assert_int_equal(SL.rule[1], h);
	assert_int_equal(SL.add[1], 1);
	assert_true(SL.fp[0] != SL.fp[2] && SL.fp[2] != SL.fp[4] && SL.fp[0] != SL.fp[4]);
	/* a client key is its bytes, the same for the cluster */
	assert_int_equal(SL.klen[0], SL.cklen[0]);
	assert_memory_equal(SL.key[0], SL.ckey[0], SL.klen[0]);

	/* another node (engine) with the cluster's key: the same fingerprints, case-blind */
	first = SL;
	memset(&SL, 0, sizeof(SL));
	SL.take = 1;
	e2 = engine_new(((struct fix *)*state)->c);
	engine_set_cluster(e2, &ck, share_rec, &SL);
	ev = E(EV_RCPT_UNKNOWN, T0, "203.0.113.9");
	ev_set_str(&ev, F_TO, S("U1@Example.ORG"));
	ev_set_str(&ev, F_HELO, S("x"));
	engine_event(e2, &ev, on_decision, &R);
	assert_int_equal(SL.n, 2);
	assert_true(SL.fp[0] == first.fp[0]);

	/* a long HELO: the local key ends in the process's hash, the cluster's in the cluster's */
	memset(helo, 'h', 60);
	helo[60] = '\0';
	memset(&SL, 0, sizeof(SL));
	SL.take = 1;
	ev = E(EV_RCPT_UNKNOWN, T0 + 3, "203.0.113.9");
	ev_set_str(&ev, F_TO, S("u9@example.org"));
	ev_set_str(&ev, F_HELO, S(helo));
	engine_event(e, &ev, on_decision, &R);
	assert_int_equal(SL.rule[1], h);
	assert_int_equal(SL.klen[1], 56);
	assert_int_equal(SL.cklen[1], 56);
	assert_memory_equal(SL.key[1], SL.ckey[1], 48);
	assert_true(memcmp(SL.key[1] + 48, SL.ckey[1] + 48, 8) != 0);
	engine_event(e2, &ev, on_decision, &R);
	assert_memory_equal(SL.ckey[3], SL.ckey[1], 56);	/* the other node names it alike */
	engine_free(e2);

	/* the cluster's count crossed with this node's update: this node decides, once */
	assert_true(addr_parse("203.0.113.9", 11, &ip));
	engine_cluster_decide(e, c, first.key[0], first.klen[0], 3, T0 + 4, &ip, EV_RCPT_UNKNOWN, on_decision, &R);
	assert_int_equal(R.n, 2);
	assert_string_equal(R.d[1].rule->name, "c");
	assert_string_equal(R.key[1], "203.0.113.9");
	assert_int_equal(R.d[1].value, 3);
	assert_int_equal(R.d[1].action, A_BLOCK);
	engine_cluster_decide(e, c, first.key[0], first.klen[0], 3, T0 + 5, &ip, EV_RCPT_UNKNOWN, on_decision, &R);
	assert_int_equal(R.n, 2);	/* under the action already: suppressed */
	assert_int_equal(engine_rule_stats(e, c).suppressed, 1);

	/* Redis refused a batch: the keys' own windows judge (3 distinct here: decided; 2: not) */
	memset(&SL, 0, sizeof(SL));
	SL.take = 1;
	rcpt(e, T0 + 6, "203.0.113.11", "a@example.org");
	rcpt(e, T0 + 6, "203.0.113.12", "a@example.org");
	rcpt(e, T0 + 7, "203.0.113.11", "b@example.org");
	rcpt(e, T0 + 7, "203.0.113.12", "b@example.org");
	rcpt(e, T0 + 8, "203.0.113.11", "c@example.org");
	assert_int_equal(R.n, 3);	/* "l" for .11 */
	assert_int_equal(SL.rule[0], c);	/* .11's (entries 0, 4, 8: c; the odd ones h) */
	assert_int_equal(SL.rule[2], c);	/* .12's */
	engine_cluster_decide(e, c, SL.key[2], SL.klen[2], 0, T0 + 8, &ip, EV_RCPT_UNKNOWN, on_decision, &R);
	assert_int_equal(R.n, 3);	/* .12: 2 values, nothing */
	engine_cluster_decide(e, c, SL.key[0], SL.klen[0], 0, T0 + 8, &ip, EV_RCPT_UNKNOWN, on_decision, &R);
	assert_int_equal(R.n, 4);
	assert_string_equal(R.d[3].rule->name, "c");
	assert_string_equal(R.key[3], "203.0.113.11");
	assert_int_equal(R.d[3].value, 3);
	R.n = 2;	/* (the two above out of the way) */

	/* the counters unreachable: the rule's own window decides */
	SL.take = 0;
	rcpt(e, T0 + 6, "203.0.113.10", "a@example.org");
	rcpt(e, T0 + 7, "203.0.113.10", "b@example.org");
	rcpt(e, T0 + 8, "203.0.113.10", "c@example.org");
	assert_int_equal(R.n, 4);
	assert_string_equal(R.d[2].rule->name, "c");
	assert_string_equal(R.key[2], "203.0.113.10");
	assert_string_equal(R.d[3].rule->name, "l");
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_validator),
		T(test_dha_distinct),
		T(test_cluster_scope),
		T(test_docs_dha_example),
		T(test_client_prefixes),
		T(test_suppression_and_escalation),
		T(test_docs_abuse_example),
		T(test_trusted),
		T(test_unless_exempts),
		T(test_null_sender),
		T(test_global_key),
		T(test_helo_key),
		T(test_json_escaping),
		T(test_sum_size),
		T(test_old_events),
		T(test_old_event_does_not_decide),
		T(test_string_keys),
		T(test_many_rules),
		T(test_key_cap),
		T(test_eviction_keeps_progress),
		T(test_crafted_collisions_count_apart),
		T(test_distinct_client_prefix),
		T(test_idle_keys_expire),
		T(test_limit_action),
		T(test_rules_by_type),
		T(test_distinct_after_suppression),
		T(test_doubtful_counts_as_distinct),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
#undef T
}
