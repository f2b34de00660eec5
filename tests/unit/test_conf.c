/*
 * test_conf.c - the configuration language: the default policy, macros,
 * includes and table files (relative paths), client prefixes, thresholds,
 * actions, escalation and durations; every error reported as
 * FILE:LINE:COL at the offending token, error recovery (every error of a
 * file), and warnings that still accept the file.
 *
 * Expected columns are computed from the test's own text (the position of
 * the offending token in its line), never taken from the parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../rules/cond.h"
#include "../../rules/conf.h"
#include "../../reputation/rep.h"

/* ------------------------------------------------------- fixtures --- */

static char dir[256];

#define MAXDIAG 64

struct diags {
	int n, nerr, nwarn;
	int warn[MAXDIAG];
	char msg[MAXDIAG][1024];
};

static struct diags D;

static void
record(void *arg, int warning, const char *msg)
{
	struct diags *d = arg;

	if (d->n < MAXDIAG) {
		d->warn[d->n] = warning;
		snprintf(d->msg[d->n], sizeof(d->msg[0]), "%s", msg);
	}
	d->n++;
	if (warning)
		d->nwarn++;
	else
		d->nerr++;
}

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_conf.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	*state = NULL;
	memset(&D, 0, sizeof(D));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 32];

	conf_free(*state);
	*state = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The path of a file in the test directory (a few rotating buffers). */
static const char *
P(const char *name)
{
	static char buf[4][PATH_MAX];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", dir, name);
	return b;
}

static void
wfile(const char *name, const char *text)
{
	char path[PATH_MAX], cmd[PATH_MAX + 32];
	FILE *fp;
	const char *slash = strrchr(name, '/');

	if (slash != NULL) {
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%.*s'", dir, (int)(slash - name), name);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

static void
dump(void)
{
	for (int i = 0; i < D.n && i < MAXDIAG; i++)
		print_message("    diag %d: %s\n", i, D.msg[i]);
}

/* Load name from the test directory into *state; the diagnostics go to D. */
static struct config *
load(void **state, const char *name)
{
	conf_free(*state);
	memset(&D, 0, sizeof(D));
	*state = conf_load(P(name), record, &D);
	return *state;
}

static struct config *
load_ok(void **state, const char *name)
{
	struct config *c = load(state, name);

	if (c == NULL || D.nerr != 0) {
		dump();
		fail_msg("%s should load without errors", name);
	}
	return c;
}

/* Load a file that has errors: NULL, and at least one error. */
static void
load_bad(void **state, const char *name)
{
	struct config *c = load(state, name);

	if (c != NULL || D.nerr == 0) {
		dump();
		fail_msg("%s should fail to load (config %p, %d errors)", name, (void *)c, D.nerr);
	}
}

/* 1-based column of the first `needle` in line `lineno` (1-based) of text. */
static int
col_of(const char *text, int lineno, const char *needle)
{
	const char *l = text, *hit, *eol;

	for (int i = 1; i < lineno; i++) {
		l = strchr(l, '\n');
		assert_non_null(l);
		l++;
	}
	eol = strchr(l, '\n');
	hit = strstr(l, needle);
	if (hit == NULL || (eol != NULL && hit > eol))
		fail_msg("test bug: '%s' not on line %d", needle, lineno);
	return (int)(hit - l) + 1;
}

/* The index of the diagnostic that starts with FILE:LINE:COL: [warning: ], or -1. */
static int
find_diag(const char *file, int line, int col, int warning)
{
	char want[PATH_MAX + 64];

	snprintf(want, sizeof(want), "%s:%d:%d: %s", file, line, col, warning ? "warning: " : "");
	for (int i = 0; i < D.n && i < MAXDIAG; i++)
		if (D.warn[i] == warning && strncmp(D.msg[i], want, strlen(want)) == 0) {
			/* an error is not a warning, whatever the flag says */
			if (!warning && strncmp(D.msg[i] + strlen(want), "warning:", 8) == 0)
				continue;
			return i;
		}
	return -1;
}

/* Assert a diagnostic at file:line:col whose text contains `about` (case-insensitive). */
static void
expect_diag(const char *file, int line, int col, int warning, const char *about)
{
	int i = find_diag(file, line, col, warning);

	if (i < 0) {
		dump();
		fail_msg("no %s at %s:%d:%d", warning ? "warning" : "error", file, line, col);
	}
	if (about != NULL && strcasestr(D.msg[i], about) == NULL) {
		dump();
		fail_msg("diagnostic '%s' should mention '%s'", D.msg[i], about);
	}
}

static const struct rule *
rule_named(const struct config *c, const char *name)
{
	for (int i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i]->name, name) == 0)
			return c->rules[i];
	fail_msg("no rule \"%s\"", name);
	return NULL;
}

static const struct cidr_table *
table_named(const struct config *c, const char *name)
{
	for (int i = 0; i < c->ntables; i++)
		if (strcmp(table_name(c->tables[i]), name) == 0)
			return c->tables[i];
	fail_msg("no table <%s>", name);
	return NULL;
}

static int
in(const struct cidr_table *t, const char *ip)
{
	struct addr a;

	assert_int_equal(addr_parse(ip, strlen(ip), &a), 1);
	return table_contains(t, &a);
}

#define TYPE(t) (1u << (t))

/* ---------------------------------------------------- valid files --- */

/* samples/mxguard.conf, found next to the build directory of this binary. */
static int
find_sample(char *out, size_t len)
{
	char exe[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 6; up++) {
			char *s = strrchr(exe, '/');

			if (s == NULL)
				break;
			*s = '\0';
			snprintf(out, len, "%s/samples/mxguard.conf", exe);
			if (access(out, R_OK) == 0)
				return 1;
		}
	}
	snprintf(out, len, "samples/mxguard.conf");
	return access(out, R_OK) == 0;
}

/* Feeds: every setting read, paths relative to the configuration, names known to conditions. */
static void
test_feeds(void **state)
{
	struct config *c;

	wfile("feeds/drop.txt", "198.51.100.0/24 ; SBL1\n");
	wfile("feeds/bl.zone", "198.51.100.0/24\n");
	wfile("f.conf",
	    "feed \"drop\" { file \"feeds/drop.txt\" format drop risk 10 }\n"
	    "feed zone {\n"
	    "    file \"feeds/bl.zone\"\n"
	    "    format ip4trie\n"
	    "    value \"127.0.0.2\" risk 9 spam 80\n"
	    "    value \"127.0.0.3\" vol 5\n"
	    "    weight 0.5\n"
	    "}\n"
	    "rule \"r\" { on rcpt_unknown where rep.risk >= 8 and not listed \"zone\" when count >= 1 within 1m do log }\n");
	c = load_ok(state, "f.conf");
	assert_int_equal(c->nfeeds, 2);
	assert_string_equal(c->feeds[0]->name, "drop");
	assert_string_equal(c->feeds[0]->path, P("feeds/drop.txt"));
	assert_int_equal(c->feeds[0]->format, FEED_DROP);
	assert_int_equal(c->feeds[0]->risk, 10);
	assert_int_equal(c->feeds[0]->spam, FEED_SCORE_NONE);
	assert_int_equal(c->feeds[1]->nvalues, 2);
	assert_int_equal(c->feeds[1]->values[0].a, 0x7f000002);
	assert_int_equal(c->feeds[1]->values[0].risk, 9);
	assert_int_equal(c->feeds[1]->values[0].spam, 80);
	assert_int_equal(c->feeds[1]->values[1].vol, 5);
	assert_true(c->feeds[1]->weight == 0.5);
	assert_true(c->uses_rep);
}

static void
test_error_feeds(void **state)
{
	const char *text =
	    "feed \"a\" { file \"missing.txt\" format list }\n"
	    "feed \"b\" { file \"l.txt\" format yaml }\n"
	    "feed \"c\" { file \"l.txt\" format list risk 11 }\n"
	    "feed \"d\" { file \"l.txt\" format list weight 2 }\n"
	    "feed \"e\" { file \"l.txt\" format list value \"127.0.0.2\" risk 1 }\n"
	    "feed \"f\" { format list }\n"
	    "feed \"b\" { file \"l.txt\" format list }\n"
	    "feed \"g\" { file \"dir\" format list }\n"
	    "rule \"r\" { on connect where listed \"nope\" when count >= 1 within 1m do log }\n";

	wfile("l.txt", "198.51.100.1\n");
	wfile("dir/x", "");
	wfile("e.conf", text);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 1, col_of(text, 1, "\"missing.txt\""), 0, "cannot open");
	expect_diag(P("e.conf"), 2, col_of(text, 2, "yaml"), 0, "format");
	expect_diag(P("e.conf"), 3, col_of(text, 3, "11"), 0, "risk");
	expect_diag(P("e.conf"), 4, col_of(text, 4, "2 }"), 0, "weight");
	expect_diag(P("e.conf"), 5, 1, 0, "rbldnsd");
	expect_diag(P("e.conf"), 6, 1, 0, "needs a file");
	expect_diag(P("e.conf"), 7, col_of(text, 7, "\"b\""), 0, "already defined");
	expect_diag(P("e.conf"), 8, col_of(text, 8, "\"dir\""), 0, "not a regular file");
	expect_diag(P("e.conf"), 9, col_of(text, 9, "\"nope\""), 0, "unknown feed");
}

/*
 * What a new user wrote: a duration as two words, an action for 0s, a
 * table file with several bad lines (each said, with its line), a widest
 * ban of /0.
 */
/*
 * include with a pattern: every match, in name order (a rule of 20-*.conf
 * uses the table of 10-*.conf), as many as match (more than the include
 * depth: they are read one after the other, not nested), and a pattern
 * that matches nothing is a warning, not silence.
 */
static void
test_include_glob(void **state)
{
	const struct config *c;
	char name[64];

	wfile("conf.d/10-table.conf", "table <t> { 198.51.100.0/24 }\n");
	wfile("conf.d/20-rule.conf", "rule \"r\" { on connect where client in <t> when count >= 5 within 1m do log }\n");
	wfile("conf.d/notes.txt", "this is not a configuration\n");
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "conf.d/3%02d-more.conf", i);
		wfile(name, "");
	}
	wfile("g.conf", "include \"conf.d/*.conf\"\ninclude \"empty.d/*.conf\"\n");
	c = load_ok(state, "g.conf");
	assert_int_equal(c->nrules, 1);
	assert_int_equal(c->ntables, 1);
	expect_diag(P("g.conf"), 2, 9, 1, "matches no file");
	if (D.nwarn != 1) {
		dump();
		fail_msg("one warning (the pattern that matches nothing), not %d", D.nwarn);
	}
	/* the other order: the rule first, its table unknown yet: an error, so the order is the names' */
	wfile("conf.d/05-rule.conf", "rule \"s\" { on connect where client in <t> when count >= 5 within 1m do log }\n");
	load_bad(state, "g.conf");
	expect_diag(P("conf.d/05-rule.conf"), 1, col_of("rule \"s\" { on connect where client in <t>", 1, "<t>"), 0,
	    "unknown table");
}

/* Warnings for what cannot take effect: trusting every address, an empty file. */
static void
test_warn_no_effect(void **state)
{
	const char *text =
	    "table <all4> { 0.0.0.0/0, !203.0.113.0/24 }\n"
	    "table <all6> { ::/0 }\n"
	    "table <some> { 198.51.100.0/24 }\n"
	    "trust <some>, <all4>\n"
	    "trust <all6>\n";

	wfile("w.conf", text);
	load_ok(state, "w.conf");
	expect_diag(P("w.conf"), 4, col_of(text, 4, "<all4>"), 1, "holds 0.0.0.0/0, so no IPv4 client is ever counted");
	expect_diag(P("w.conf"), 5, col_of(text, 5, "<all6>"), 1, "holds ::/0, so no IPv6 client");
	if (D.nwarn != 2) {
		dump();
		fail_msg("two warnings, not %d (<some> is fine; a file of tables only is not empty)", D.nwarn);
	}
	wfile("empty.conf", "# nothing but comments\n\n   \n");
	load_ok(state, "empty.conf");
	expect_diag(P("empty.conf"), 1, 1, 1, "the file is empty (no statement)");
}

static void
test_error_small_things(void **state)
{
	const char *text =
	    "rule \"a\" { on connect when count >= 5 within 10 minutes do block for 1h }\n"
	    "rule \"b\" { on connect when count >= 5 within 10m do block for 0s }\n"
	    "rule \"c\" { on connect when count >= 5 within 10m do reject for 2 hours }\n"
	    "table <t> file \"bad.txt\"\n"
	    "set widest-ban ipv4 /0\n";

	wfile("bad.txt", "bogus\n203.0.113.0/24\n# c\n203.0.113.0/33\n198.51.100.0/24 nope\n");
	wfile("s.conf", text);
	load_bad(state, "s.conf");
	expect_diag(P("s.conf"), 1, col_of(text, 1, "10 minutes"), 0, "'10 minutes' is two words");
	expect_diag(P("s.conf"), 1, col_of(text, 1, "10 minutes"), 0, ": 10m");
	expect_diag(P("s.conf"), 2, col_of(text, 2, "0s"), 0, "for 0s: an action lasts at least one second");
	expect_diag(P("s.conf"), 3, col_of(text, 3, "2 hours"), 0, ": 2h");
	if (D.nerr < 6) {
		dump();
		fail_msg("every bad line of bad.txt should be said: %d errors", D.nerr);
	}
	{
		int lines = 0;

		for (int i = 0; i < D.n; i++)
			lines += strstr(D.msg[i], "bad.txt:1: ") != NULL || strstr(D.msg[i], "bad.txt:4: ") != NULL ||
			    strstr(D.msg[i], "bad.txt:5: ") != NULL;
		if (lines != 3) {
			dump();
			fail_msg("bad.txt's lines 1, 4 and 5 should each be said (%d were)", lines);
		}
	}
	expect_diag(P("s.conf"), 5, col_of(text, 5, "ipv4"), 0, "/0 would let 'ctl ban' take every address");
}

/* DNS zones: every setting, and their errors. */
static void
test_zones(void **state)
{
	struct config *c;
	const char *bad =
	    "zone \"z\" { domain \"bl..example\" }\n"
	    "zone \"y\" { domain \"bl.example\" server \"nameserver\" }\n"
	    "zone \"x\" { domain \"bl.example\" timeout 2m }\n"
	    "zone \"w\" { server \"127.0.0.1\" }\n"
	    "at-connect reject where listed \"x\"\n";

	wfile("z.conf",
	    "zone \"bl\" {\n"
	    "    domain \"bl.example\"\n"
	    "    server \"127.0.0.1\" port 5353 timeout 3s cache 5000\n"
	    "    risk 8\n"
	    "    value \"127.0.0.4\" risk 10 spam 100\n"
	    "    family ipv4\n"
	    "}\n");
	c = load_ok(state, "z.conf");
	assert_int_equal(c->nzones, 1);
	assert_string_equal(c->zones[0]->domain, "bl.example");
	assert_string_equal(c->zones[0]->server, "127.0.0.1");
	assert_int_equal(c->zones[0]->port, 5353);
	assert_int_equal(c->zones[0]->timeout_ms, 3000);
	assert_int_equal(c->zones[0]->cache_max, 5000);
	assert_int_equal(c->zones[0]->risk, 8);
	assert_int_equal(c->zones[0]->values[0].a, 0x7f000004);
	assert_int_equal(c->zones[0]->values[0].spam, 100);
	assert_int_equal(c->zones[0]->family, 4);
	wfile("e.conf", bad);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 1, col_of(bad, 1, "\"bl..example\""), 0, "DNS name");
	expect_diag(P("e.conf"), 2, col_of(bad, 2, "\"nameserver\""), 0, "address");
	expect_diag(P("e.conf"), 3, col_of(bad, 3, "timeout"), 0, "between 1s and 60s");
	expect_diag(P("e.conf"), 4, 1, 0, "needs a domain");
	expect_diag(P("e.conf"), 5, col_of(bad, 5, "\"x\""), 0, "without waiting for DNS");
}

/*
 * Rules may name zones: events then wait for the answers (uses_zones), and
 * so they do when a rule reads the scores zones give. A zone nothing reads
 * is not asked; a rule before the zone it reads is fine.
 */
static void
test_zones_in_rules(void **state)
{
	struct config *c;
	const char *listed =
	    "zone \"a\" { domain \"a.example\" }\n"
	    "zone \"b\" { domain \"b.example\" }\n"
	    "rule \"r\" { on connect where listed \"b\" and not listed \"a\" when count >= 1 within 1m do log }\n";
	const char *scores =
	    "rule \"r\" { on connect where rep.risk >= 8 when count >= 1 within 1m do log }\n"
	    "zone \"a\" { domain \"a.example\" risk 9 }\n";
	struct event ev = { .type = EV_CONNECT, .ip = { .family = 4, .b = { 203, 0, 113, 9 } } };
	struct rep_result rr = { .score = { REP_UNKNOWN, REP_UNKNOWN, REP_UNKNOWN } };

	wfile("l.conf", listed);
	c = load_ok(state, "l.conf");
	assert_int_equal(c->uses_zones, 1);
	/* zone bits are the zones' order in the configuration */
	ev.rep = &rr;
	rr.zlisted = 2;
	assert_true(cond_eval(c->rules[0]->where, &ev));
	rr.zlisted = 3;
	assert_false(cond_eval(c->rules[0]->where, &ev));
	rr.zlisted = 1;
	assert_false(cond_eval(c->rules[0]->where, &ev));
	wfile("s.conf", scores);
	c = load_ok(state, "s.conf");
	assert_int_equal(c->uses_zones, 1);
	assert_int_equal(D.n, 0);	/* no "rep.risk is unknown" warning: a zone gives it */
	wfile("n.conf", "zone \"a\" { domain \"a.example\" }\n"
	    "rule \"r\" { on connect when count >= 1 within 1m do log }\n"
	    "at-connect reject where rep.risk >= 9\n");
	c = load_ok(state, "n.conf");
	assert_int_equal(c->uses_zones, 0);
}

/* A reputation condition with no feed at all can never hold: said, not silently accepted. */
static void
test_rep_without_feeds_warns(void **state)
{
	const char *text = "rule \"r\" { on connect where rep.risk >= 8 when count >= 1 within 1m do log }\n";

	wfile("w.conf", text);
	load_ok(state, "w.conf");
	expect_diag(P("w.conf"), 1, col_of(text, 1, "rep.risk"), 1, "no feed");
}

static void
test_default_policy(void **state)
{
	char path[PATH_MAX];
	struct config *c;
	const struct rule *r;
	static const char *const names[] = {
		"dha", "dha-spread", "conn-flood", "bounce-flood", "backscatter", "protocol-abuse",
		"auth-guess", "relay-probe", "msg-flood",
	};

	if (!find_sample(path, sizeof(path)))
		fail_msg("samples/mxguard.conf not found");
	memset(&D, 0, sizeof(D));
	c = *state = conf_load(path, record, &D);
	if (c == NULL || D.n != 0) {
		dump();
		fail_msg("the default policy should load without errors or warnings");
	}
	assert_int_equal(c->nrules, 9);
	for (int i = 0; i < 9; i++)
		assert_string_equal(c->rules[i]->name, names[i]);
	assert_int_equal(c->ntables, 3);
	assert_int_equal(c->ntrusted, 1);
	assert_true(in(c->trusted[0], "127.0.0.1"));
	assert_true(in(c->trusted[0], "127.255.0.1"));
	assert_true(in(c->trusted[0], "::1"));
	assert_false(in(c->trusted[0], "192.0.2.1"));
	assert_true(in(table_named(c, "bulk"), "2001:db8:b01c:5::1"));

	r = rule_named(c, "dha");
	assert_int_equal(r->types, TYPE(EV_RCPT_UNKNOWN));
	assert_int_equal(r->key, KEY_CLIENT);
	assert_int_equal(r->v4len, 32);
	assert_int_equal(r->v6len, 64);
	assert_int_equal(r->measure, M_DISTINCT);
	assert_int_equal(r->field, F_TO);
	assert_int_equal(r->threshold, 20);
	assert_int_equal(r->window, 600);
	assert_int_equal(r->action, A_BLOCK);
	assert_int_equal(r->duration, 3600);
	assert_int_equal(r->escalate, 4);
	assert_int_equal(r->escalate_max, 7 * 86400);
	assert_null(r->where);
	assert_int_equal(r->nunless, 0);
	assert_int_equal(r->max_keys, 1000000);
	assert_non_null(strstr(r->file, "mxguard.conf"));
	assert_int_equal(r->line, 24);

	r = rule_named(c, "dha-spread");
	assert_int_equal(r->types, TYPE(EV_RCPT_UNKNOWN));
	assert_int_equal(r->key, KEY_CLIENT);
	assert_int_equal(r->v6len, 48);
	assert_int_equal(r->measure, M_DISTINCT);
	assert_int_equal(r->field, CF_IP);
	assert_int_equal(r->dv4len, 32);
	assert_int_equal(r->dv6len, 64);
	assert_int_equal(r->threshold, 8);
	assert_int_equal(r->window, 600);
	assert_non_null(r->where);
	assert_int_equal(r->nunless, 1);
	assert_true(in(table_named(c, "ipv6"), "2001:db8:4848:1::1"));
	assert_false(in(table_named(c, "ipv6"), "203.0.113.66"));

	r = rule_named(c, "conn-flood");
	assert_int_equal(r->types, TYPE(EV_CONNECT));
	assert_int_equal(r->measure, M_COUNT);
	assert_int_equal(r->threshold, 60);
	assert_int_equal(r->window, 60);
	assert_int_equal(r->duration, 1800);
	assert_int_equal(r->escalate_max, 86400);

	r = rule_named(c, "bounce-flood");
	assert_int_equal(r->action, A_REJECT);
	assert_int_equal(r->escalate, 2);

	r = rule_named(c, "backscatter");
	assert_int_equal(r->key, KEY_GLOBAL);
	assert_int_equal(r->action, A_DEFER);
	assert_int_equal(r->duration, 900);
	assert_int_equal(r->threshold, 300);
	assert_int_equal(r->escalate, 1);

	r = rule_named(c, "protocol-abuse");
	assert_int_equal(r->types, TYPE(EV_LOST_CONN) | TYPE(EV_PROTOCOL_ERROR));

	r = rule_named(c, "msg-flood");
	assert_int_equal(r->types, TYPE(EV_MSG_ACCEPTED) | TYPE(EV_BOUNCE_IN));
	assert_int_equal(r->action, A_TARPIT);
	assert_int_equal(r->duration, 1800);
	assert_int_equal(r->nunless, 1);
	assert_int_equal(r->threshold, 300);
}

static void
test_macros(void **state)
{
	static const char conf[] =
	    "win = 10m\n"
	    "thr = 5\n"
	    "re = \"^bad\"\n"
	    "net = \"192.0.2.0/24\"\n"
	    "table <t> { $net, 198.51.100.7 }\n"
	    "rule \"m\" {\n"
	    "    on rcpt_unknown\n"
	    "    where helo matches $re\n"
	    "    when count >= $thr within $win\n"
	    "    do block for $win\n"
	    "}\n"
	    "win = 1h   # redefined: later uses see the new value\n"
	    "rule \"n\" { on connect when count >= 1 within $win do log }\n";
	struct config *c;
	const struct rule *r;
	struct event ev;

	wfile("main.conf", conf);
	c = load_ok(state, "main.conf");
	assert_int_equal(c->nrules, 2);
	r = rule_named(c, "m");
	assert_int_equal(r->threshold, 5);
	assert_int_equal(r->window, 600);
	assert_int_equal(r->duration, 600);
	assert_non_null(r->where);
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_RCPT_UNKNOWN;
	ev.mta = "postfix";
	ev_set_str(&ev, F_HELO, SPAN_LIT("badhost.example"));
	assert_true(cond_eval(r->where, &ev));
	ev_set_str(&ev, F_HELO, SPAN_LIT("goodhost.example"));
	assert_false(cond_eval(r->where, &ev));
	assert_true(in(table_named(c, "t"), "192.0.2.77"));
	assert_true(in(table_named(c, "t"), "198.51.100.7"));
	assert_false(in(table_named(c, "t"), "198.51.100.8"));
	assert_int_equal(rule_named(c, "n")->window, 3600);

	/* an undefined macro is an error at the '$' */
	static const char bad[] =
	    "rule \"m\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within $nowhere\n"
	    "    do log\n"
	    "}\n";

	wfile("bad.conf", bad);
	load_bad(state, "bad.conf");
	expect_diag(P("bad.conf"), 3, col_of(bad, 3, "$nowhere"), 0, "nowhere");
}

static void
test_include_relative(void **state)
{
	static const char main_conf[] =
	    "# main\n"
	    "include \"sub/tables.conf\"\n"
	    "rule \"main-rule\" {\n"
	    "    on connect\n"
	    "    unless client in <inc>\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n"
	    "include \"sub/rules.conf\"\n";
	static const char tables_conf[] =
	    "table <inc> { 192.0.2.0/24 }\n"
	    "include \"more.conf\"\n";	/* relative to sub/, not to main.conf's directory */
	static const char more_conf[] = "table <more> { 198.51.100.0/24 }\n";
	static const char rules_conf[] =
	    "\n"
	    "\n"
	    "rule \"sub-rule\" { on auth_fail when count >= 3 within 1m do log }\n";
	struct config *c;
	char abs_inc[PATH_MAX + 64];

	wfile("main.conf", main_conf);
	wfile("sub/tables.conf", tables_conf);
	wfile("sub/more.conf", more_conf);
	wfile("sub/rules.conf", rules_conf);
	wfile("more.conf", "this is not a valid file\n");	/* the wrong one, if resolved from main's dir */
	c = load_ok(state, "main.conf");
	assert_int_equal(c->nrules, 2);
	assert_int_equal(c->ntables, 2);
	assert_true(in(table_named(c, "more"), "198.51.100.1"));
	assert_int_equal(rule_named(c, "main-rule")->line, 3);
	assert_int_equal(rule_named(c, "sub-rule")->line, 3);
	assert_non_null(strstr(rule_named(c, "sub-rule")->file, "rules.conf"));
	assert_non_null(strstr(rule_named(c, "main-rule")->file, "main.conf"));

	/* an absolute include */
	snprintf(abs_inc, sizeof(abs_inc), "include \"%s\"\n", P("sub/rules.conf"));
	wfile("abs.conf", abs_inc);
	c = load_ok(state, "abs.conf");
	assert_int_equal(c->nrules, 1);

	/* the same file included twice (not a loop) defines its rule twice: an error there */
	wfile("twice.conf", "include \"sub/rules.conf\"\ninclude \"sub/rules.conf\"\n");
	load_bad(state, "twice.conf");
	expect_diag(P("sub/rules.conf"), 3, 1, 0, "sub-rule");

	/* loading through a relative path from another directory */
	{
		char cwd[PATH_MAX], rel[PATH_MAX];
		const char *base = strrchr(dir, '/') + 1;

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir("/tmp"), 0);
		snprintf(rel, sizeof(rel), "%s/main.conf", base);
		memset(&D, 0, sizeof(D));
		conf_free(*state);
		*state = conf_load(rel, record, &D);
		assert_int_equal(chdir(cwd), 0);
		if (*state == NULL)
			dump();
		assert_non_null(*state);
		assert_int_equal(((struct config *)*state)->nrules, 2);
	}
}

static void
test_table_file_relative(void **state)
{
	static const char main_conf[] =
	    "table <bulk> file \"lists/bulk.txt\"\n"
	    "include \"sub/inc.conf\"\n"
	    "trust <bulk>, <x>\n";
	struct config *c;

	wfile("main.conf", main_conf);
	wfile("lists/bulk.txt", "# bulk senders\n2001:db8:b01c::/48, 203.0.113.64/26\n\n!203.0.113.70\n");
	wfile("sub/inc.conf", "table <x> file \"x.txt\"\n");
	wfile("sub/x.txt", "192.0.2.0/24\n");
	wfile("x.txt", "10.0.0.0/8\n");	/* the wrong one */
	c = load_ok(state, "main.conf");
	assert_int_equal(c->ntables, 2);
	assert_int_equal(c->ntrusted, 2);
	assert_true(in(table_named(c, "bulk"), "2001:db8:b01c:1::5"));
	assert_true(in(table_named(c, "bulk"), "203.0.113.65"));
	assert_false(in(table_named(c, "bulk"), "203.0.113.70"));
	assert_int_equal(table_size(table_named(c, "bulk")), 3);
	assert_true(in(table_named(c, "x"), "192.0.2.1"));
	assert_false(in(table_named(c, "x"), "10.0.0.1"));

	/* a missing table file is an error at the file name */
	static const char bad[] = "\n  table <t> file \"nope.txt\"\n";

	wfile("bad.conf", bad);
	load_bad(state, "bad.conf");
	expect_diag(P("bad.conf"), 2, col_of(bad, 2, "\"nope.txt\""), 0, "nope.txt");

	/* a table file with a bad line: the message names that file and line */
	static const char bad2[] = "table <t> file \"broken.txt\"\n";

	wfile("broken.txt", "192.0.2.0/24\n\n10.0.0.0/33\n");
	wfile("bad2.conf", bad2);
	load_bad(state, "bad2.conf");
	expect_diag(P("bad2.conf"), 1, col_of(bad2, 1, "\"broken.txt\""), 0, "broken.txt:3:");

	/* an entry too long to keep is an error, not the entry cut to fit ("/000...08" cut to "/0": everyone) */
	char bad3[400];

	snprintf(bad3, sizeof(bad3), "table <t> { 198.51.100.0/%0200d }\n", 8);
	wfile("bad3.conf", bad3);
	load_bad(state, "bad3.conf");
	expect_diag(P("bad3.conf"), 1, col_of(bad3, 1, "198.51.100.0/"), 0, "more than 127 characters");
}

static void
test_by_client(void **state)
{
	static const char conf[] =
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    by client ipv4 /24 ipv6 /48\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n"
	    "rule \"b\" {\n"
	    "    on connect\n"
	    "    by client (ipv4 /32, ipv6 /64)\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n"
	    "rule \"c\" {\n"
	    "    on connect\n"
	    "    by client ipv6 /56\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n"
	    "rule \"d\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n"
	    "rule \"e\" { on connect by client (ipv6 /128, ipv4 /0) when count >= 5 within 1m do log }\n"
	    "rule \"f\" { on rcpt_reject by helo when count >= 5 within 1m do log }\n"
	    "rule \"g\" { on msg_accepted by sender when count >= 5 within 1m do log }\n"
	    "rule \"h\" { on msg_accepted by sender_domain when count >= 5 within 1m do log }\n"
	    "rule \"i\" { on rcpt_unknown by recipient when count >= 5 within 1m do log }\n"
	    "rule \"j\" { on connect by global when count >= 5 within 1m do log }\n";
	struct config *c;
	const struct rule *r;

	wfile("main.conf", conf);
	c = load_ok(state, "main.conf");
	assert_int_equal(D.n, 0);
	assert_int_equal(c->nrules, 10);
	r = rule_named(c, "a");
	assert_int_equal(r->key, KEY_CLIENT);
	assert_int_equal(r->v4len, 24);
	assert_int_equal(r->v6len, 48);
	r = rule_named(c, "b");
	assert_int_equal(r->v4len, 32);
	assert_int_equal(r->v6len, 64);
	r = rule_named(c, "c");
	assert_int_equal(r->v4len, 32);
	assert_int_equal(r->v6len, 56);
	r = rule_named(c, "d");
	assert_int_equal(r->key, KEY_CLIENT);
	assert_int_equal(r->v4len, 32);
	assert_int_equal(r->v6len, 64);
	r = rule_named(c, "e");
	assert_int_equal(r->v4len, 0);
	assert_int_equal(r->v6len, 128);
	assert_int_equal(rule_named(c, "f")->key, KEY_HELO);
	assert_int_equal(rule_named(c, "g")->key, KEY_SENDER);
	assert_int_equal(rule_named(c, "h")->key, KEY_SENDER_DOMAIN);
	assert_int_equal(rule_named(c, "i")->key, KEY_RECIPIENT);
	assert_int_equal(rule_named(c, "j")->key, KEY_GLOBAL);

	/* out of range lengths */
	static const char bad[] =
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    by client ipv4 /33\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n"
	    "rule \"b\" { on connect by client ipv6 /129 when count >= 5 within 1m do log }\n"
	    "rule \"c\" { on connect by country when count >= 5 within 1m do log }\n";

	wfile("bad.conf", bad);
	load_bad(state, "bad.conf");
	expect_diag(P("bad.conf"), 3, col_of(bad, 3, "33"), 0, NULL);
	expect_diag(P("bad.conf"), 7, col_of(bad, 7, "129"), 0, NULL);
	expect_diag(P("bad.conf"), 8, col_of(bad, 8, "country"), 0, "country");
	assert_int_equal(D.nerr, 3);
}

static void
test_when_and_do(void **state)
{
	static const char conf[] =
	    "rule \"gt\" { on connect when count > 9 within 1m do log }\n"
	    "rule \"ge\" { on connect when count >= 10 within 1m do log }\n"
	    "rule \"dist\" { on rcpt_unknown when distinct to >= 20 within 10m do log }\n"
	    "rule \"distip\" { on rcpt_unknown by helo when distinct client >= 3 within 10m do log }\n"
	    "rule \"sum\" { on msg_accepted when sum size >= 1000000 within 1h do log }\n"
	    "rule \"limit\" {\n"
	    "    on msg_accepted\n"
	    "    when count >= 120 within 10m\n"
	    "    do limit 10 per 1m for 1h\n"
	    "}\n"
	    "rule \"esc\" { on connect when count >= 5 within 1m do block for 1h escalate x4 max 7d }\n"
	    "rule \"esc-default\" { on connect when count >= 5 within 1m do reject for 2h escalate x2 }\n"
	    "rule \"defer\" { on connect when count >= 5 within 1m do defer for 10m }\n"
	    "rule \"discard\" { on connect when count >= 5 within 1m do discard for 10m }\n"
	    "rule \"tarpit\" { on connect when count >= 5 within 1m do tarpit for 10m }\n"
	    "rule \"keys\" { on connect when count >= 5 within 1m do log max-keys 16 }\n";
	struct config *c;
	const struct rule *r;

	wfile("main.conf", conf);
	c = load_ok(state, "main.conf");
	assert_int_equal(D.n, 0);
	assert_int_equal(rule_named(c, "gt")->threshold, 10);
	assert_int_equal(rule_named(c, "ge")->threshold, 10);
	assert_int_equal(rule_named(c, "gt")->measure, M_COUNT);
	r = rule_named(c, "dist");
	assert_int_equal(r->measure, M_DISTINCT);
	assert_int_equal(r->field, F_TO);
	assert_int_equal(r->threshold, 20);
	assert_int_equal(r->window, 600);
	r = rule_named(c, "distip");
	assert_int_equal(r->measure, M_DISTINCT);
	assert_int_equal(r->field, CF_IP);
	r = rule_named(c, "sum");
	assert_int_equal(r->measure, M_SUM);
	assert_int_equal(r->field, F_SIZE);
	assert_int_equal(r->threshold, 1000000);
	assert_int_equal(r->window, 3600);
	r = rule_named(c, "limit");
	assert_int_equal(r->action, A_LIMIT);
	assert_int_equal(r->limit_n, 10);
	assert_int_equal(r->limit_per, 60);
	assert_int_equal(r->duration, 3600);
	r = rule_named(c, "esc");
	assert_int_equal(r->action, A_BLOCK);
	assert_int_equal(r->duration, 3600);
	assert_int_equal(r->escalate, 4);
	assert_int_equal(r->escalate_max, 7 * 86400);
	r = rule_named(c, "esc-default");
	assert_int_equal(r->action, A_REJECT);
	assert_int_equal(r->escalate, 2);
	assert_int_equal(r->escalate_max, 30 * 86400);	/* docs/RULES.md: default cap 30 days */
	assert_int_equal(rule_named(c, "defer")->action, A_DEFER);
	assert_int_equal(rule_named(c, "discard")->action, A_DISCARD);
	assert_int_equal(rule_named(c, "tarpit")->action, A_TARPIT);
	r = rule_named(c, "gt");
	assert_int_equal(r->action, A_LOG);
	assert_int_equal(r->duration, 0);
	assert_int_equal(r->escalate, 1);
	assert_int_equal(rule_named(c, "keys")->max_keys, 16);
	assert_int_equal(rule_named(c, "gt")->max_keys, 1000000);

	assert_string_equal(action_name(A_BLOCK), "block");
	assert_string_equal(action_name(A_LIMIT), "limit");
	assert_string_equal(action_name(A_LOG), "log");
	assert_string_equal(key_kind_name(KEY_CLIENT), "client");
	assert_string_equal(key_kind_name(KEY_GLOBAL), "global");
	assert_string_equal(key_kind_name(KEY_SENDER_DOMAIN), "sender_domain");
}

/* scope local (the default) or cluster; anything else is an error at the word */
static void
test_scope(void **state)
{
	const char *text =
	    "rule \"l\" { on connect when count >= 5 within 1m do log }\n"
	    "rule \"L\" { on connect when count >= 5 within 1m do log scope local }\n"
	    "rule \"c\" { on rcpt_unknown when distinct to >= 20 within 10m do block for 1h scope cluster }\n";
	const char *bad = "rule \"x\" { on connect when count >= 5 within 1m do log scope global }\n";
	struct config *c;

	wfile("s.conf", text);
	c = load_ok(state, "s.conf");
	assert_int_equal(rule_named(c, "l")->scope, SCOPE_LOCAL);
	assert_int_equal(rule_named(c, "L")->scope, SCOPE_LOCAL);
	assert_int_equal(rule_named(c, "c")->scope, SCOPE_CLUSTER);
	assert_int_equal(c->ncluster_rules, 1);
	wfile("e.conf", bad);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 1, col_of(bad, 1, "global"), 0, "expected local or cluster");
}

/* set report-dir (with its options, a relative path resolved) and set rrdcached; bad values at their place */
static void
test_report_settings(void **state)
{
	const char *text =
	    "set report-dir \"rep\" interval 15m keep 90d svg\n"
	    "set rrdcached \"unix:/run/rrdcached.sock\"\n";
	const char *bad =
	    "set report-dir \"rep\" interval 7m\n"
	    "set rrdcached \"localhost:42217\"\n"
	    "set report-dir rep\n";
	struct config *c;

	wfile("r.conf", text);
	c = load_ok(state, "r.conf");
	assert_string_equal(c->report_dir, P("rep"));
	assert_int_equal(c->report_interval, 900);
	assert_int_equal(c->report_keep, 90 * 86400);
	assert_int_equal(c->report_svg, 1);
	assert_string_equal(c->rrdcached, "unix:/run/rrdcached.sock");
	wfile("e.conf", bad);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 1, col_of(bad, 1, "7m"), 0, "divide a day");
	expect_diag(P("e.conf"), 2, col_of(bad, 2, "\"localhost"), 0, "unix:/");
	expect_diag(P("e.conf"), 3, (int)strlen("set report-dir ") + 1, 0, "directory in quotes");
}

static void
test_durations(void **state)
{
	static const char conf[] =
	    "rule \"s\" { on connect when count >= 5 within 90s do block for 90s }\n"
	    "rule \"m\" { on connect when count >= 5 within 10m do block for 10m }\n"
	    "rule \"h\" { on connect when count >= 5 within 2h do block for 2h }\n"
	    "rule \"d\" { on connect when count >= 5 within 7d do block for 7d }\n"
	    "rule \"w\" { on connect when count >= 5 within 1w do block for 1w }\n"
	    "rule \"plain\" { on connect when count >= 5 within 45 do block for 3600 }\n";
	static const struct {
		const char *name;
		int64_t secs;
	} want[] = {
		{ "s", 90 }, { "m", 600 }, { "h", 7200 }, { "d", 7 * 86400 }, { "w", 7 * 86400 },
		{ "plain", 45 },
	};
	struct config *c;

	wfile("main.conf", conf);
	c = load_ok(state, "main.conf");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct rule *r = rule_named(c, want[i].name);

		assert_int_equal(r->window, want[i].secs);
		assert_int_equal(r->duration, strcmp(want[i].name, "plain") == 0 ? 3600 : want[i].secs);
	}
}

static void
test_set_and_trust(void **state)
{
	static const char conf[] =
	    "set max-keys 5000\n"
	    "table <a> { 192.0.2.0/24 }\n"
	    "table <b> { 2001:db8::/32, !2001:db8:bad::/48 }\n"
	    "trust <a>, <b>\n"
	    "rule \"x\" { on connect when count >= 5 within 1m do log }\n"
	    "rule \"y\" { on connect when count >= 5 within 1m do log max-keys 20 }\n";
	struct config *c;

	wfile("main.conf", conf);
	c = load_ok(state, "main.conf");
	assert_int_equal(c->max_keys, 5000);
	assert_int_equal(rule_named(c, "x")->max_keys, 5000);
	assert_int_equal(rule_named(c, "y")->max_keys, 20);
	assert_int_equal(c->ntrusted, 2);
	assert_true(in(c->trusted[1], "2001:db8::1"));
	assert_false(in(c->trusted[1], "2001:db8:bad::1"));
	/* the parser's table and the trusted one are the same object */
	assert_ptr_equal(c->trusted[0], table_named(c, "a"));
}

/* ------------------------------------------------------------ errors --- */

/*
 * One error in a file: conf_load returns NULL and reports exactly that
 * error at FILE:LINE:COL, LINE and COL of `needle` in the text.
 */
static void
one_error(void **state, const char *text, int line, const char *needle, const char *about)
{
	wfile("e.conf", text);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), line, col_of(text, line, needle), 0, about);
	if (D.nerr != 1) {
		dump();
		fail_msg("expected exactly one error, got %d", D.nerr);
	}
}

static void
test_error_unknown_event(void **state)
{
	one_error(state,
	    "rule \"a\" {\n"
	    "    on connect, rcpt_unkown\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n",
	    2, "rcpt_unkown", "rcpt_unkown");
}

static void
test_error_unknown_field(void **state)
{
	one_error(state,
	    "# a comment line\n"
	    "rule \"a\" {\n"
	    "    on rcpt_unknown\n"
	    "    where from == \"x\" and hello == \"y\"\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n",
	    4, "hello", "hello");
}

static void
test_error_unknown_table(void **state)
{
	one_error(state,
	    "table <bulk> { 192.0.2.0/24 }\n"
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    unless client in <blk>\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n",
	    4, "<blk>", "blk");
	one_error(state, "table <t> { 192.0.2.0/24 }\n\n   trust <t>, <nosuch>\n", 3, "<nosuch>", "nosuch");
}

static void
test_error_bad_duration(void **state)
{
	one_error(state,
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 10x\n"
	    "    do log\n"
	    "}\n",
	    3, "10x", "10x");
	one_error(state,
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 1m\n"
	    "    do block for 1hour\n"
	    "}\n",
	    4, "1hour", "1hour");
	one_error(state,
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 5q\n"
	    "    do log\n"
	    "}\n",
	    3, "5q", "5q");
}

static void
test_error_missing_parts(void **state)
{
	/* reported at the rule (its keyword) */
	one_error(state,
	    "# no 'on'\n"
	    "  rule \"a\" {\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n",
	    2, "rule", "'on");
	one_error(state,
	    "\n"
	    "\n"
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    do log\n"
	    "}\n",
	    3, "rule", "'when");
	one_error(state,
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 1m\n"
	    "}\n",
	    1, "rule", "'do");
}

static void
test_error_action_without_for(void **state)
{
	static const char text[] =
	    "rule \"ok\" { on connect when count >= 5 within 1m do log }\n"
	    "rule \"a\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 1m\n"
	    "    do block\n"
	    "}\n";

	wfile("e.conf", text);
	load_bad(state, "e.conf");
	assert_int_equal(D.nerr, 1);
	/* at the rule or at its 'do' line */
	if (find_diag(P("e.conf"), 2, 1, 0) < 0 && find_diag(P("e.conf"), 5, col_of(text, 5, "do"), 0) < 0) {
		dump();
		fail_msg("the missing 'for' should be reported at 2:1 or 5:%d", col_of(text, 5, "do"));
	}
	assert_non_null(strstr(D.msg[0], "for"));
}

static void
test_error_bad_table_entry(void **state)
{
	static const char text[] =
	    "table <t> {\n"
	    "    10.0.0.0/8, 10.0.0.300,\n"
	    "    !192.0.2.0/33, 2001:db8::/129\n"
	    "}\n"
	    "rule \"a\" { on connect unless client in <t> when count >= 5 within 1m do log }\n";

	wfile("e.conf", text);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 2, col_of(text, 2, "10.0.0.300"), 0, "10.0.0.300");
	expect_diag(P("e.conf"), 3, col_of(text, 3, "!192.0.2.0/33"), 0, NULL);
	expect_diag(P("e.conf"), 3, col_of(text, 3, "2001:db8::/129"), 0, NULL);
	assert_int_equal(D.nerr, 3);

	one_error(state, "table <t> { 192.0.2.0/ }\n", 1, "192.0.2.0/", NULL);
}

/*
 * A '!' with no address before the closing brace: one error, at the '!' or
 * at the '}' where the address was expected, and the table is closed.
 */
static void
test_error_table_dangling_bang(void **state)
{
	static const char text[] = "table <t> { 192.0.2.1, ! }\n";

	wfile("e.conf", text);
	load_bad(state, "e.conf");
	if (find_diag(P("e.conf"), 1, col_of(text, 1, "!"), 0) < 0 &&
	    find_diag(P("e.conf"), 1, col_of(text, 1, "}"), 0) < 0) {
		dump();
		fail_msg("no error at the '!' or the '}'");
	}
	if (D.nerr != 1) {
		dump();
		fail_msg("expected exactly one error, got %d", D.nerr);
	}

	/* the same before a comma */
	static const char text2[] = "table <t> {\n  192.0.2.1,\n  !,\n  192.0.2.2 }\n";

	wfile("e.conf", text2);
	load_bad(state, "e.conf");
	assert_int_equal(D.nerr, 1);
	assert_true(find_diag(P("e.conf"), 3, col_of(text2, 3, "!"), 0) >= 0 ||
	    find_diag(P("e.conf"), 3, col_of(text2, 3, ","), 0) >= 0);
}

static void
test_error_unterminated_string(void **state)
{
	static const char text[] =
	    "rule \"a\" {\n"
	    "    on rcpt_unknown\n"
	    "    where helo == \"abc\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n";

	wfile("e.conf", text);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 3, col_of(text, 3, "\"abc"), 0, "unterminated");
	/* and at the end of the file */
	one_error(state, "rule \"a\" { on connect when count >= 5 within 1m do log }\nx = \"open", 2, "\"open",
	    "unterminated");
}

static void
test_error_include_missing(void **state)
{
	static const char text[] =
	    "rule \"a\" { on connect when count >= 5 within 1m do log }\n"
	    "\n"
	    "include \"nope.conf\"\n"
	    "rule \"b\" { on connect when count >= 5 within 1m do log }\n";

	wfile("e.conf", text);
	load_bad(state, "e.conf");
	assert_int_equal(D.nerr, 1);
	/* at the file name (or the keyword), naming the file */
	if (find_diag(P("e.conf"), 3, col_of(text, 3, "\"nope"), 0) < 0 && find_diag(P("e.conf"), 3, 1, 0) < 0) {
		dump();
		fail_msg("the missing include should be reported at e.conf:3");
	}
	assert_non_null(strstr(D.msg[0], "nope.conf"));

	/* the top file itself missing: an error, NULL */
	memset(&D, 0, sizeof(D));
	assert_null(conf_load(P("absent.conf"), record, &D));
	assert_int_equal(D.nerr, 1);
	assert_non_null(strstr(D.msg[0], "absent.conf"));
}

static void
test_error_include_loop(void **state)
{
	static const char a[] = "# a\ninclude \"b.conf\"\n";
	static const char b[] = "rule \"b\" { on connect when count >= 5 within 1m do log }\n  include \"a.conf\"\n";

	wfile("a.conf", a);
	wfile("b.conf", b);
	load_bad(state, "a.conf");
	if (find_diag(P("b.conf"), 2, col_of(b, 2, "\"a.conf\""), 0) < 0 &&
	    find_diag(P("b.conf"), 2, col_of(b, 2, "include"), 0) < 0) {
		dump();
		fail_msg("the loop should be reported at b.conf:2");
	}
	assert_non_null(strcasestr(D.msg[0], "loop"));
	assert_int_equal(D.nerr, 1);

	/* a file including itself */
	static const char self[] = "\ninclude \"e.conf\"\n";

	wfile("e.conf", self);
	load_bad(state, "e.conf");
	assert_int_equal(D.nerr, 1);
	assert_non_null(strcasestr(D.msg[0], "loop"));
	assert_true(find_diag(P("e.conf"), 2, col_of(self, 2, "\"e.conf\""), 0) >= 0 ||
	    find_diag(P("e.conf"), 2, 1, 0) >= 0);
}

/* docs/RULES.md: includes nest at most 16 deep. */
static void
test_include_depth(void **state)
{
	char name[32], text[64];

	/* a chain of 10 files is fine */
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d.conf", i);
		if (i < 9)
			snprintf(text, sizeof(text), "include \"d%d.conf\"\n", i + 1);
		else
			snprintf(text, sizeof(text), "rule \"deep\" { on connect when count >= 5 within 1m do log }\n");
		wfile(name, text);
	}
	assert_int_equal(load_ok(state, "d0.conf")->nrules, 1);

	/* a chain of 30 is not */
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "n%d.conf", i);
		if (i < 29)
			snprintf(text, sizeof(text), "include \"n%d.conf\"\n", i + 1);
		else
			snprintf(text, sizeof(text), "rule \"deep\" { on connect when count >= 5 within 1m do log }\n");
		wfile(name, text);
	}
	load_bad(state, "n0.conf");
	assert_int_equal(D.nerr, 1);
	assert_non_null(strstr(D.msg[0], "16"));

	/* a loop spelt differently ("./") still ends, in an error */
	wfile("dot.conf", "include \"./dot.conf\"\n");
	load_bad(state, "dot.conf");
}

static void
test_error_duplicate_rule(void **state)
{
	static const char text[] =
	    "rule \"x\" { on connect when count >= 5 within 1m do log }\n"
	    "rule \"y\" { on connect when count >= 5 within 1m do log }\n"
	    "\n"
	    "   rule \"x\" {\n"
	    "    on auth_fail\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n";

	wfile("e.conf", text);
	load_bad(state, "e.conf");
	assert_int_equal(D.nerr, 1);
	if (find_diag(P("e.conf"), 4, col_of(text, 4, "rule"), 0) < 0 &&
	    find_diag(P("e.conf"), 4, col_of(text, 4, "\"x\""), 0) < 0) {
		dump();
		fail_msg("the duplicate should be reported at e.conf:4");
	}
	/* the message points at the first definition */
	assert_non_null(strstr(D.msg[0], ":1"));
}

static void
test_error_unknown_statement(void **state)
{
	one_error(state,
	    "rule \"x\" { on connect when count >= 5 within 1m do log }\n"
	    "  frobnicate 42\n",
	    2, "frobnicate", "frobnicate");
	/* a misspelt keyword: at least reported where it is (what follows may add errors) */
	{
		static const char text[] = "\n\nrules \"x\" { on connect when count >= 5 within 1m do log }\n";

		wfile("e.conf", text);
		load_bad(state, "e.conf");
		expect_diag(P("e.conf"), 3, 1, 0, "rules");
		assert_true(find_diag(P("e.conf"), 3, 1, 0) == 0);
	}
}

/* An unknown line inside a rule: reported at it, and the message names it. */
static void
test_error_unknown_rule_line(void **state)
{
	one_error(state,
	    "rule \"x\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 1m\n"
	    "    frob 7\n"
	    "    do log\n"
	    "}\n",
	    4, "frob", "frob");
}

static void
test_error_string_for_number(void **state)
{
	one_error(state,
	    "rule \"x\" {\n"
	    "    on msg_accepted\n"
	    "    where size == abc\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n",
	    3, "abc", "abc");
	one_error(state,
	    "rule \"x\" {\n"
	    "    on msg_accepted\n"
	    "    where from == \"a\" or size > \"10\"\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n",
	    3, "\"10\"", NULL);
	/* and sum of a string field */
	one_error(state, "rule \"x\" { on msg_accepted when sum from >= 5 within 1m do log }\n", 1, "from", "from");
}

static void
test_error_recovery(void **state)
{
	static const char text[] =
	    "table <t> { 192.0.2.0/24 }\n"			/* 1 */
	    "frobnicate 42\n"					/* 2: error */
	    "rule \"a\" {\n"					/* 3 */
	    "    on connect\n"					/* 4 */
	    "    when count >= 5 within 10x\n"			/* 5: error */
	    "    do log\n"					/* 6 */
	    "}\n"						/* 7 */
	    "table <u> { 192.0.2.0/24, 999.1.1.1 }\n"		/* 8: error */
	    "rule \"b\" { on connect when count >= 5 within 1m do log }\n";	/* 9 */

	wfile("e.conf", text);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 2, 1, 0, "frobnicate");
	expect_diag(P("e.conf"), 5, col_of(text, 5, "10x"), 0, "10x");
	expect_diag(P("e.conf"), 8, col_of(text, 8, "999.1.1.1"), 0, "999.1.1.1");
	if (D.nerr != 3) {
		dump();
		fail_msg("3 errors, got %d", D.nerr);
	}
	/* in file order */
	assert_true(find_diag(P("e.conf"), 2, 1, 0) < find_diag(P("e.conf"), 5, col_of(text, 5, "10x"), 0));
}

/* An error inside an included file is reported in that file, at its line. */
static void
test_error_in_include(void **state)
{
	static const char inc[] =
	    "# included\n"
	    "rule \"i\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 1m\n"
	    "    do block for 1x\n"
	    "}\n";
	static const char top[] =
	    "include \"sub/inc.conf\"\n"
	    "rule \"t\" { on connect, bogus when count >= 5 within 1m do log }\n";

	wfile("sub/inc.conf", inc);
	wfile("top.conf", top);
	load_bad(state, "top.conf");
	expect_diag(P("sub/inc.conf"), 5, col_of(inc, 5, "1x"), 0, "1x");
	expect_diag(P("top.conf"), 2, col_of(top, 2, "bogus"), 0, "bogus");
	assert_int_equal(D.nerr, 2);
}

static void
test_error_other_rule_checks(void **state)
{
	static const char text[] =
	    "rule \"w0\" { on connect when count >= 5 within 0 do log }\n"
	    "rule \"cap\" {\n"
	    "    on connect\n"
	    "    when count >= 5 within 1m\n"
	    "    do block for 1h escalate x4 max 30m\n"
	    "}\n"
	    "rule \"x1\" { on connect when count >= 5 within 1m do block for 1h escalate x1 }\n"
	    "rule \"act\" { on connect when count >= 5 within 1m do nuke for 1h }\n"
	    "rule \"ok\" { on connect when count >= 5 within 1m do log }\n"
	    "rule \"open\" {\n"
	    "    on connect\n";

	wfile("e.conf", text);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 1, col_of(text, 1, "0 do"), 0, NULL);
	expect_diag(P("e.conf"), 2, 1, 0, "cap");
	expect_diag(P("e.conf"), 7, col_of(text, 7, "x1 }"), 0, "x1");
	expect_diag(P("e.conf"), 8, col_of(text, 8, "nuke"), 0, "nuke");
	expect_diag(P("e.conf"), 10, 1, 0, "open");
	if (D.nerr != 5) {
		dump();
		fail_msg("5 errors, got %d", D.nerr);
	}
}

/*
 * A condition written over two lines with a mistake on the second: one
 * error, at the mistake (the rest of the rule is fine).
 */
static void
test_error_multiline_condition(void **state)
{
	one_error(state,
	    "rule \"a\" {\n"
	    "    on rcpt_unknown\n"
	    "    where helo == \"x\" and\n"
	    "          frob == \"y\"\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n",
	    4, "frob", "frob");
}

/* A table defined twice: one error, at the second name. */
static void
test_error_duplicate_table(void **state)
{
	one_error(state,
	    "table <t> { 192.0.2.1 }\n"
	    "table <t> { 192.0.2.2 }\n"
	    "rule \"a\" { on connect unless client in <t> when count >= 5 within 1m do log }\n",
	    2, "<t>", "<t>");
}

/* The listing in docs/RULES.md, "Checking a configuration". */
static void
test_rules_md_broken_conf(void **state)
{
	static const char text[] =
	    "table <trusted> { 127.0.0.0/8 }\n"
	    "rule \"dha\" {\n"
	    "    on rcpt_unkown\n"
	    "    by client (ipv4 /32, ipv6 /64)\n"
	    "    when distinct to >= 20 within 10x\n"
	    "}\n"
	    "rule \"x\" { on connect when count >= 1 within 1m do log }\n"
	    "rule \"w\" {\n"
	    "    on connect\n"
	    "    where helo == \"x\"\n"
	    "    when count >= 0 within 1m\n"
	    "    do log\n"
	    "}\n";

	wfile("broken.conf", text);
	load_bad(state, "broken.conf");
	expect_diag(P("broken.conf"), 3, 8, 0, "unknown event type rcpt_unkown");
	expect_diag(P("broken.conf"), 5, 35, 0, "expected a duration");
	expect_diag(P("broken.conf"), 10, 11, 1, "none of its events carries 'helo'");
	expect_diag(P("broken.conf"), 8, 1, 1, "threshold 0");
	assert_int_equal(D.nerr, 2);
	assert_int_equal(D.nwarn, 2);
}

/* ---------------------------------------------------------- warnings --- */

static void
test_warnings(void **state)
{
	static const char text[] =
	    "rule \"w\" {\n"
	    "    on connect\n"
	    "    where helo == \"x\"\n"
	    "    when count >= 5 within 1m\n"
	    "    do log\n"
	    "}\n"
	    "  rule \"zero\" { on connect when count >= 0 within 1m do log }\n"
	    "rule \"one\" { on connect when count > 0 within 1m do log }\n"
	    "rule \"carried\" { on connect, rcpt_unknown where helo == \"x\" when count >= 5 within 1m do log }\n";
	struct config *c;

	wfile("w.conf", text);
	c = load(state, "w.conf");
	if (c == NULL) {
		dump();
		fail_msg("warnings must not fail the load");
	}
	assert_int_equal(D.nerr, 0);
	expect_diag(P("w.conf"), 3, col_of(text, 3, "helo"), 1, "helo");
	expect_diag(P("w.conf"), 7, col_of(text, 7, "rule"), 1, "threshold 0");
	if (D.nwarn != 2) {
		dump();
		fail_msg("2 warnings, got %d", D.nwarn);
	}
	assert_int_equal(c->nrules, 4);
	assert_int_equal(rule_named(c, "zero")->threshold, 0);
	assert_int_equal(rule_named(c, "one")->threshold, 1);
}

/* ------------------------------------------- hostile configuration --- */

/*
 * include of a directory, a FIFO or a device, and a table file that is one:
 * an error at the file name's position, never an empty policy or a hang (a
 * FIFO with no writer would block a plain open for ever: the test would
 * time out).
 */
static void
test_error_not_regular(void **state)
{
	const char *kinds[] = { "dir", "fifo", "/dev/null" };
	char text[PATH_MAX + 200];

	assert_int_equal(mkdir(P("dir"), 0700), 0);
	assert_int_equal(mkfifo(P("fifo"), 0600), 0);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(text, sizeof(text),
		    "rule \"a\" { on connect when count >= 5 within 1m do log }\n"
		    "  include \"%s\"\n", kinds[i]);
		one_error(state, text, 2, "\"", "not a regular file");

		snprintf(text, sizeof(text),
		    "table <t> file \"%s\"\n"
		    "rule \"a\" { on connect where client in <t> when count >= 5 within 1m do log }\n", kinds[i]);
		one_error(state, text, 1, "\"", "not a regular file");
	}
	/* the top file itself */
	memset(&D, 0, sizeof(D));
	assert_null(conf_load(P("fifo"), record, &D));
	assert_int_equal(D.nerr, 1);
	assert_non_null(strstr(D.msg[0], "not a regular file"));
}

/* A file of n copies of unit between prefix and suffix. */
static void
wrepeat(const char *name, const char *prefix, const char *unit, int n, const char *mid, const char *unit2,
    const char *suffix)
{
	size_t ul = strlen(unit), u2 = strlen(unit2), len = strlen(prefix) + strlen(mid) + strlen(suffix) +
	    (size_t)n * (ul + u2) + 1;
	char *t = malloc(len), *q = t;

	assert_non_null(t);
	q += sprintf(q, "%s", prefix);
	for (int i = 0; i < n; i++, q += ul)
		memcpy(q, unit, ul);
	q += sprintf(q, "%s", mid);
	for (int i = 0; i < n; i++, q += u2)
		memcpy(q, unit2, u2);
	sprintf(q, "%s", suffix);
	wfile(name, t);
	free(t);
}

/*
 * Conditions nest at most 200 deep: 50,000 parentheses, 'not's, 'and'
 * terms or 'where' lines are one error at the first token too deep, not a
 * stack overflow (this test also runs under ASan, whose frames are larger).
 */
static void
test_error_deep_condition(void **state)
{
	static const char head[] = "rule \"a\" { on connect where ";
	static const char tail[] = " when count >= 5 within 1m do log }\n";
	char mid[64];

	snprintf(mid, sizeof(mid), "helo == \"x\"");
	wrepeat("e.conf", head, "(", 50000, mid, ")", tail);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 1, (int)strlen(head) + 201, 0, "deeper than 200");
	assert_int_equal(D.nerr, 1);

	wrepeat("e.conf", head, "not ", 50000, mid, "", tail);
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 1, (int)strlen(head) + 200 * 4 + 1, 0, "deeper than 200");
	assert_int_equal(D.nerr, 1);

	wrepeat("e.conf", head, "helo == \"x\" and ", 50000, mid, "", tail);
	load_bad(state, "e.conf");
	assert_int_equal(D.nerr, 1);
	assert_non_null(strstr(D.msg[0], "deeper than 200"));

	/* 50,000 'where' lines are one condition too: an error, and then no more than 100 */
	wrepeat("e.conf", "rule \"a\" { on connect\n", "where helo == \"x\"\n", 50000, "", "",
	    "when count >= 5 within 1m do log }\n");
	load_bad(state, "e.conf");
	expect_diag(P("e.conf"), 2 + 200, 1, 0, "deeper than 200");
	assert_in_range(D.nerr, 1, 101);

	/* 150 levels are fine, and mean what they say */
	wrepeat("ok.conf", head, "(", 150, mid, ")", tail);
	assert_int_equal(load_ok(state, "ok.conf")->nrules, 1);
	wrepeat("ok.conf", head, "not not ", 75, mid, "", tail);
	assert_non_null(load_ok(state, "ok.conf")->rules[0]->where);
}

/*
 * Rule and table names: letters, digits, '_', '-', '.', at most 32, starting
 * with a letter or digit. A quote, a newline or a space could forge a line
 * of an access map or a JSON field.
 */
static void
test_error_bad_names(void **state)
{
	static const char *const bad_rules[] = {
		"rule \"a\\\"b\" { on connect when count >= 5 within 1m do log }\n",
		"rule \"a\\nREJECT\" { on connect when count >= 5 within 1m do log }\n",
		"rule \"a b\" { on connect when count >= 5 within 1m do log }\n",
		"rule \"a,\\\"x\\\":1\" { on connect when count >= 5 within 1m do log }\n",
		"rule \"\" { on connect when count >= 5 within 1m do log }\n",
		"rule \"-a\" { on connect when count >= 5 within 1m do log }\n",
		"rule \"a23456789012345678901234567890123\" { on connect when count >= 5 within 1m do log }\n",
		"rule \"r\xc3\xa9\" { on connect when count >= 5 within 1m do log }\n",
	};
	struct config *c;

	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++)
		one_error(state, bad_rules[i], 1, "\"", "rule name");
	one_error(state, "table <a@b> { 203.0.113.1 }\n", 1, "<a@b>", "table name");
	one_error(state, "table <a*> { 203.0.113.1 }\n", 1, "<a*>", "table name");

	wfile("ok.conf", "table <Good_1.v6-x> { 203.0.113.1 }\n"
	    "rule \"dha-2.v6_X\" { on connect where client in <Good_1.v6-x> when count >= 5 within 1m do log }\n"
	    "rule a2345678901234567890123456789012 { on connect when count >= 5 within 1m do log }\n");
	c = load_ok(state, "ok.conf");
	assert_int_equal(c->nrules, 2);
	assert_string_equal(c->rules[0]->name, "dha-2.v6_X");
}

/* "set socketmap PATH [group NAME] [idle D]"; one "set map-file" only. */
static void
test_socketmap_and_mapfile_settings(void **state)
{
	struct config *c;

	wfile("ok.conf", "set socketmap \"/run/mxguard/map\" group \"postfix\" idle 90s\n"
	    "set map-file \"cidr:/var/lib/mxguard/access.cidr\"\n");
	c = load_ok(state, "ok.conf");
	assert_string_equal(c->socketmap, "/run/mxguard/map");
	assert_string_equal(c->socketmap_group, "postfix");
	assert_int_equal(c->socketmap_idle, 90);
	assert_string_equal(c->mapfile, "cidr:/var/lib/mxguard/access.cidr");

	wfile("ok.conf", "set socketmap \"/run/mxguard/map\"\n");
	c = load_ok(state, "ok.conf");
	assert_null(c->socketmap_group);
	assert_int_equal(c->socketmap_idle, 0);

	one_error(state, "set socketmap \"/run/m\" group \"post fix\"\n", 1, "\"post", "group name");
	one_error(state, "set socketmap \"/run/m\" idle 0s\n", 1, "0s", "at least 1s");
	one_error(state, "set map-file \"cidr:/a\"\n# one more\nset map-file \"cidr:/b\"\n", 3, "\"cidr:/b",
	    "already set at");
	assert_non_null(strstr(D.msg[0], "e.conf:1:14"));
}


/* Parser blocks: what is read, and every fault at the byte of the regex it is at. */
static void
test_parser_blocks(void **state)
{
	struct config *c;

	wfile("p.conf",
	    "parser \"dove\" {\n"
	    "    program \"dovecot\", \"auth-worker\"\n"
	    "    pattern auth_fail 'x \\((?<user>.*),(?<ip>[0-9.]+),<(?<session>\\w+)>\\)$' contains \"x (\"\n"
	    "    pattern auth_fail 'y (?<ip>\\S+) <(?<session>\\w+)>$' once\n"
	    "    pattern ignore 'z'\n"
	    "}\n");
	c = load_ok(state, "p.conf");
	assert_int_equal(c->nparsers, 1);
	assert_string_equal(c->parsers[0].name, "dove");
	assert_int_equal(c->parsers[0].nprograms, 2);
	assert_int_equal(c->parsers[0].npat, 3);
	assert_string_equal(c->parsers[0].pat[0].regex, "x \\((?<user>.*),(?<ip>[0-9.]+),<(?<session>\\w+)>\\)$");
	assert_string_equal(c->parsers[0].pat[0].contains, "x (");
	assert_int_equal(c->parsers[0].pat[1].once, 1);
	assert_int_equal(c->parsers[0].pat[2].type, EV_NONE);

	/* a bad regex: at the byte PCRE2 names (the end here, where ')' is missing) */
	one_error(state, "parser \"d\" {\n program \"dovecot\"\n pattern auth_fail 'a (?<ip>\\S+'\n}\n", 3, "'\n",
	    "missing closing parenthesis");
	/* a group that is no field: at its name */
	one_error(state, "parser \"d\" {\n program \"dovecot\"\n pattern auth_fail 'a (?<addr>\\S+)'\n}\n", 3, "addr>",
	    "<addr> is not an event field");
	/* an unknown event type: at the word, the known ones listed */
	one_error(state, "parser \"d\" {\n program \"dovecot\"\n pattern auth_failed 'a (?<ip>\\S+)'\n}\n", 3,
	    "auth_failed", "known: connect");
	/* a pattern written against the whole line: it can never match */
	one_error(state, "parser \"d\" {\n program \"dovecot\"\n pattern auth_fail 'dovecot: a (?<ip>\\S+)'\n}\n", 3,
	    "dovecot:", "can never match");
	one_error(state, "parser \"d\" {\n program \"dovecot\"\n pattern auth_fail 'a (?<ip>\\S+)' once\n}\n", 3,
	    "a (", "needs a session");
	one_error(state, "parser \"d\" {\n pattern auth_fail 'a (?<ip>\\S+)'\n}\n", 1, "parser", "claims no program");
	one_error(state, "parser \"d\" {\n program \"dove cot\"\n pattern auth_fail 'a (?<ip>\\S+)'\n}\n", 2,
	    "\"dove cot", "program tag");
	one_error(state, "parser \"postfix\" {\n program \"x\"\n pattern ignore 'a'\n}\n", 1, "\"postfix",
	    "built-in module");
	one_error(state, "parser \"d\" {\n program \"x\"\n pattern ignore 'a'\n}\nparser \"d\" {\n program \"y\"\n pattern ignore 'b'\n}\n",
	    5, "\"d", "already defined");
	one_error(state, "parser \"d\" {\n program \"x\"\n pattern ignore 'a\n}\n", 3, "'a", "unterminated");
	/* events that name no client: a warning */
	wfile("w.conf", "parser \"d\" {\n program \"x\"\n pattern auth_fail 'a (?<user>\\S+)'\n}\n");
	load_ok(state, "w.conf");
	expect_diag(P("w.conf"), 3, 21, 1, "name no client");
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_default_policy),
		T(test_parser_blocks),
		T(test_feeds),
		T(test_error_small_things),
		T(test_warn_no_effect),
		T(test_include_glob),
		T(test_error_feeds),
		T(test_rep_without_feeds_warns),
		T(test_zones),
		T(test_zones_in_rules),
		T(test_macros),
		T(test_include_relative),
		T(test_table_file_relative),
		T(test_by_client),
		T(test_when_and_do),
		T(test_scope),
		T(test_report_settings),
		T(test_durations),
		T(test_set_and_trust),
		T(test_error_unknown_event),
		T(test_error_unknown_field),
		T(test_error_unknown_table),
		T(test_error_bad_duration),
		T(test_error_missing_parts),
		T(test_error_action_without_for),
		T(test_error_bad_table_entry),
		T(test_error_table_dangling_bang),
		T(test_error_unterminated_string),
		T(test_error_include_missing),
		T(test_error_include_loop),
		T(test_include_depth),
		T(test_error_duplicate_rule),
		T(test_error_unknown_statement),
		T(test_error_unknown_rule_line),
		T(test_error_string_for_number),
		T(test_error_recovery),
		T(test_error_in_include),
		T(test_error_other_rule_checks),
		T(test_error_multiline_condition),
		T(test_error_duplicate_table),
		T(test_rules_md_broken_conf),
		T(test_warnings),
		T(test_error_not_regular),
		T(test_error_deep_condition),
		T(test_error_bad_names),
		T(test_socketmap_and_mapfile_settings),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
#undef T
}
