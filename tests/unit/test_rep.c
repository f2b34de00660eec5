/*
 * test_rep.c - reputation feeds in memory and combined: scores from the
 * entry, the zone value or the feed's defaults, weights, the highest score
 * per feed wins, sources, listings, expiry without a reload (the less
 * specific entry takes over), exclusions, and reloads that swap a whole
 * new version in or keep the old one when the new file is broken.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../reputation/rep.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mxg-test-rep.XXXXXX");
	return mkdtemp(dir) == NULL;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) != 0;
}

/* Write a file in the test directory; its path into path (static). */
static const char *
put(const char *name, const char *text)
{
	static char path[8][128];
	static int next;
	char *p = path[next++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return p;
}

static struct feed_spec
spec(const char *name, const char *path, enum feed_format fmt)
{
	struct feed_spec s = { .format = fmt, .weight = 1, .risk = FEED_SCORE_NONE, .spam = FEED_SCORE_NONE,
		.vol = FEED_SCORE_NONE };

	snprintf(s.name, sizeof(s.name), "%s", name);
	s.path = (char *)path;
	return s;
}

static struct rep_result
look(const struct rep_db *db, const char *ip, int64_t now)
{
	struct rep_result r;
	struct addr a;

	assert_true(addr_parse(ip, strlen(ip), &a));
	rep_lookup(db, &a, now, &r);
	return r;
}

static void
test_scores_and_sources(void **state)
{
	struct feed_spec vendor = spec("vendor", put("v.csv", "prefix,risk,spam,vol\n198.51.100.0/24,6,40,\n"
	    "198.51.100.7,9,,80\n2001:db8:bad::/48,10,90,5\n"), FEED_CSV);
	struct feed_spec drop = spec("drop", put("drop.txt", "; Spamhaus DROP\n198.51.100.0/25 ; SBL1\n"), FEED_DROP);
	struct rep_db *db = rep_new();
	struct rep_result r;
	char err[256];

	(void)state;
	drop.risk = 10;
	assert_int_equal(rep_add(db, &vendor, err, sizeof(err)), 0);
	assert_int_equal(rep_add(db, &drop, err, sizeof(err)), 0);
	/* The most specific vendor entry (line 3), and DROP's risk 10 beats the vendor's 9. */
	r = look(db, "198.51.100.7", 0);
	assert_int_equal(r.score[REP_RISK], 10);
	assert_ptr_equal(r.src[REP_RISK].feed, &drop);
	assert_int_equal(rep_source_line(&r.src[REP_RISK]), 2);
	assert_int_equal(r.score[REP_SPAM], REP_UNKNOWN);	/* line 3 gives none; its /24 does not speak for it */
	assert_int_equal(r.score[REP_VOL], 80);
	assert_int_equal(rep_source_line(&r.src[REP_VOL]), 3);
	assert_int_equal(r.listed, 3);
	/* Outside DROP's /25: the vendor's /24 alone. */
	r = look(db, "198.51.100.200", 0);
	assert_int_equal(r.score[REP_RISK], 6);
	assert_int_equal(r.score[REP_SPAM], 40);
	assert_int_equal(r.listed, 1);
	r = look(db, "2001:db8:bad:1::9", 0);
	assert_int_equal(r.score[REP_RISK], 10);
	assert_int_equal(r.score[REP_SPAM], 90);
	r = look(db, "203.0.113.1", 0);
	assert_int_equal(r.score[REP_RISK], REP_UNKNOWN);
	assert_int_equal(r.listed, 0);
	assert_int_equal(rep_feed_index(db, "drop"), 1);
	assert_int_equal(rep_feed_index(db, "nope"), -1);
	rep_free(db);
}

static void
test_weight_and_defaults(void **state)
{
	struct feed_spec list = spec("mine", put("mine.txt", "203.0.113.0/24\n"), FEED_LIST);
	struct rep_db *db = rep_new();
	struct rep_result r;
	char err[256];

	(void)state;
	list.risk = 9;
	list.spam = 75;
	list.weight = 0.5;
	assert_int_equal(rep_add(db, &list, err, sizeof(err)), 0);
	r = look(db, "203.0.113.9", 0);
	assert_int_equal(r.score[REP_RISK], 5);	/* 4.5 rounds up */
	assert_int_equal(r.score[REP_SPAM], 38);
	assert_int_equal(r.score[REP_VOL], REP_UNKNOWN);
	rep_free(db);
}

static void
test_expiry_falls_back(void **state)
{
	/* The /32 expires at 2026-01-01; the /24 around it never does. */
	struct feed_spec v = spec("v", put("exp.csv", "198.51.100.0/24,3,,\n198.51.100.7,9,,,2026-01-01T00:00:00Z\n"),
	    FEED_CSV);
	struct rep_db *db = rep_new();
	char err[256];
	int64_t before = 1767225599, after = 1767225600;	/* 2025-12-31T23:59:59Z, 2026-01-01T00:00:00Z */

	(void)state;
	assert_int_equal(rep_add(db, &v, err, sizeof(err)), 0);
	assert_int_equal(look(db, "198.51.100.7", before).score[REP_RISK], 9);
	assert_int_equal(look(db, "198.51.100.7", after).score[REP_RISK], 3);
	assert_int_equal(rep_source_line(&look(db, "198.51.100.7", after).src[REP_RISK]), 1);
	rep_free(db);
}

static void
test_zone_values_and_exclusions(void **state)
{
	struct feed_spec z = spec("zone", put("bl.zone", ":127.0.0.2:listed\n198.51.100.0/24\n!198.51.100.9\n"
	    "203.0.113.0/24 :127.0.0.3:policy\n"), FEED_IP4TRIE);
	struct rep_db *db = rep_new();
	struct rep_result r;
	char err[256];

	(void)state;
	z.values[0] = (struct feed_value){ 0x7f000002, 10, FEED_SCORE_NONE, FEED_SCORE_NONE };
	z.values[1] = (struct feed_value){ 0x7f000003, 4, 60, FEED_SCORE_NONE };
	z.nvalues = 2;
	assert_int_equal(rep_add(db, &z, err, sizeof(err)), 0);
	assert_int_equal(look(db, "198.51.100.8", 0).score[REP_RISK], 10);
	r = look(db, "198.51.100.9", 0);	/* excluded */
	assert_int_equal(r.score[REP_RISK], REP_UNKNOWN);
	assert_int_equal(r.listed, 0);
	r = look(db, "203.0.113.77", 0);
	assert_int_equal(r.score[REP_RISK], 4);
	assert_int_equal(r.score[REP_SPAM], 60);
	rep_free(db);
}

static int reports;
static char last_report[512];

static void
report(void *arg, const char *msg)
{
	(void)arg;
	reports++;
	snprintf(last_report, sizeof(last_report), "%s", msg);
}

/* Change a file's mtime to t: the refresh sees a new version whatever the clock's resolution. */
static void
touch_at(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void
test_refresh(void **state)
{
	const char *path = put("live.txt", "198.51.100.1\n");
	struct feed_spec l = spec("live", path, FEED_LIST);
	struct rep_db *db = rep_new();
	char err[256];

	(void)state;
	l.risk = 8;
	assert_int_equal(rep_add(db, &l, err, sizeof(err)), 0);
	assert_int_equal(rep_refresh(db, report, NULL), 0);	/* unchanged */
	assert_int_equal(look(db, "198.51.100.2", 0).listed, 0);
	put("live.txt", "198.51.100.1\n198.51.100.2\n");
	touch_at(path, 1000);
	/* The first look sees it changed and waits; the next, still the same, loads it. */
	assert_int_equal(rep_refresh(db, report, NULL), 0);
	assert_int_equal(look(db, "198.51.100.2", 0).listed, 0);
	assert_int_equal(rep_refresh(db, report, NULL), 1);
	assert_int_equal(look(db, "198.51.100.2", 0).listed, 1);
	assert_int_equal(rep_feed_size(db, 0), 2);
	/* A broken version: said once, the previous one stays in use. */
	put("live.txt", "198.51.100.1\nnot an address\n198.51.100.3\n");
	touch_at(path, 2000);
	reports = 0;
	assert_int_equal(rep_refresh(db, report, NULL), 0);
	assert_int_equal(rep_refresh(db, report, NULL), 0);
	assert_int_equal(rep_refresh(db, report, NULL), 0);
	assert_int_equal(reports, 1);
	assert_non_null(strstr(last_report, "live.txt:2:"));
	assert_int_equal(look(db, "198.51.100.2", 0).listed, 1);
	assert_int_equal(look(db, "198.51.100.3", 0).listed, 0);
	/* Gone: the version in memory stays. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rep_refresh(db, report, NULL), 0);
	assert_int_equal(look(db, "198.51.100.2", 0).listed, 1);
	rep_free(db);
}

/* Refresh until something is replaced or reported (a thread reads), for at most 10 s. */
static int
refresh_until_done(struct rep_db *db)
{
	for (int i = 0; i < 1000; i++) {
		struct timespec ms10 = { 0, 10 * 1000 * 1000 };
		int before = reports, n = rep_refresh(db, report, NULL);

		if (n > 0 || reports > before)
			return n;
		nanosleep(&ms10, NULL);
	}
	fail_msg("the loading thread never finished");
	return -1;
}

/* The daemon's way: a changed feed is read by a thread; the old version answers meanwhile. */
static void
test_refresh_async(void **state)
{
	const char *path = put("async.txt", "198.51.100.1\n");
	struct feed_spec l = spec("async", path, FEED_LIST);
	struct rep_db *db = rep_new();
	char err[256];

	(void)state;
	assert_int_equal(rep_add(db, &l, err, sizeof(err)), 0);
	rep_set_async(db, 1);
	put("async.txt", "198.51.100.2\n");
	touch_at(path, 3000);
	assert_int_equal(rep_refresh(db, report, NULL), 0);	/* seen changed: wait until still */
	assert_int_equal(rep_refresh(db, report, NULL), 0);	/* still: a thread starts reading */
	assert_true(rep_loading(db));
	assert_int_equal(look(db, "198.51.100.1", 0).listed, 1);	/* the old version answers meanwhile */
	assert_int_equal(refresh_until_done(db), 1);
	assert_false(rep_loading(db));
	assert_int_equal(look(db, "198.51.100.1", 0).listed, 0);
	assert_int_equal(look(db, "198.51.100.2", 0).listed, 1);
	/* A broken version: reported, the previous one kept. */
	put("async.txt", "198.51.100.3\nnot an address\n");
	touch_at(path, 4000);
	rep_refresh(db, report, NULL);
	rep_refresh(db, report, NULL);
	reports = 0;
	assert_int_equal(refresh_until_done(db), 0);
	assert_int_equal(reports, 1);
	assert_non_null(strstr(last_report, "async.txt:2:"));
	assert_int_equal(look(db, "198.51.100.2", 0).listed, 1);
	/* Freed while a thread reads: it is waited for, nothing leaks. */
	put("async.txt", "198.51.100.4\n");
	touch_at(path, 5000);
	rep_refresh(db, report, NULL);
	rep_refresh(db, report, NULL);
	rep_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scores_and_sources),
		cmocka_unit_test(test_weight_and_defaults),
		cmocka_unit_test(test_expiry_falls_back),
		cmocka_unit_test(test_zone_values_and_exclusions),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_refresh_async),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
