/*
 * test_follow.c - the follower driven with a simulated clock (follow_poll
 * takes the time): rotations faster than the grace period, each file
 * written only before it is rotated, as logrotate and a writer that
 * reopens promptly do. Every line must come out once, in order, and a
 * backlog of rotated files nobody writes to must be read at once, not one
 * grace period per file. No real time passes: nothing depends on load.
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

#include "../../tail/follow.h"

struct got {
	long n;		/* lines delivered */
	long next;	/* the number the next line must carry */
	int out_of_order;
};

static void
on_line(void *arg, struct span line)
{
	struct got *g = arg;
	char buf[32];
	size_t k = line.n < sizeof(buf) - 1 ? line.n : sizeof(buf) - 1;

	memcpy(buf, line.p, k);
	buf[k] = '\0';
	if (strtol(buf, NULL, 10) != g->next)
		g->out_of_order = 1;
	g->next++;
	g->n++;
}

static char dir[64];

static int
mkdir_tmp(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mxg-follow-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
rm_tmp(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
append_lines(const char *path, long *next, int n)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	for (int i = 0; i < n; i++)
		fprintf(fp, "%ld\n", (*next)++);
	assert_int_equal(fclose(fp), 0);
}

/* logrotate's rename and create: path becomes rotated, a new empty path appears */
static void
rotate(const char *path, const char *rotated, long *written)
{
	assert_int_equal(rename(path, rotated), 0);
	append_lines(path, written, 0);
}

/*
 * 40 rotations 50 ms apart (the old follower queued at most 16 and read one
 * file per second of simulated time: it lost the files rotated while its
 * queue was full). Then the backlog must be read within the grace period
 * of the last file, not 40 seconds later.
 */
static void
test_rotation_burst(void **state)
{
	char path[128], rotated[160];
	struct got g = { 0, 0, 0 };
	struct follower *f;
	long written = 0;
	int64_t now = 1000000;

	(void)state;
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	append_lines(path, &written, 0);
	f = follow_new(path, NULL, FOLLOW_FROM_START, 4096);
	assert_non_null(f);
	for (int r = 0; r < 40; r++) {
		append_lines(path, &written, 100);
		follow_poll(f, now, on_line, &g);
		snprintf(rotated, sizeof(rotated), "%s/mail.log.%d", dir, r);
		rotate(path, rotated, &written);
		now += 50;
		follow_poll(f, now, on_line, &g);
	}
	append_lines(path, &written, 7);
	/* 2 s of simulated time, polled every 250 ms (the daemon's tick) */
	for (int i = 0; i < 8; i++) {
		now += 250;
		follow_poll(f, now, on_line, &g);
	}
	assert_int_equal(g.n, written);
	assert_false(g.out_of_order);
	follow_free(f);
}

/* A rotated file that is still written to is read for its grace period. */
static void
test_rotated_file_still_written(void **state)
{
	char path[128], rotated[160];
	struct got g = { 0, 0, 0 };
	struct follower *f;
	long written = 0;
	int64_t now = 1000000;

	(void)state;
	snprintf(path, sizeof(path), "%s/live.log", dir);
	append_lines(path, &written, 3);
	f = follow_new(path, NULL, FOLLOW_FROM_START, 4096);
	follow_poll(f, now, on_line, &g);
	snprintf(rotated, sizeof(rotated), "%s/live.log.1", dir);
	rotate(path, rotated, &written);
	now += 100;
	follow_poll(f, now, on_line, &g);
	/* syslog has not reopened yet: two more lines go to the rotated file, 800 ms later */
	now += 800;
	append_lines(rotated, &written, 2);
	follow_poll(f, now, on_line, &g);
	assert_int_equal(g.n, 5);
	assert_false(g.out_of_order);
	/* then it reopens: the new file waits until the old one has been quiet 1 s */
	append_lines(path, &written, 4);
	now += 500;
	follow_poll(f, now, on_line, &g);
	assert_int_equal(g.n, 5);
	now += 600;
	follow_poll(f, now, on_line, &g);
	assert_int_equal(g.n, 9);
	assert_false(g.out_of_order);
	follow_free(f);
}

/*
 * Two rotations between two looks (a loaded machine): the file that was at
 * the path in between was never opened, and is found next to the path
 * (mail.log.1) and read before the newest one. Rotated files that were
 * there at the start, compressed copies, and copies made while the path's
 * file stayed are not read.
 */
static void
test_rotated_twice_between_looks(void **state)
{
	char path[128], r1[160], r2[160], old[160], gz[160];
	struct got g = { 0, 0, 0 };
	struct follower *f;
	long written = 0, ignored = 1000000;
	int64_t now = 1000000;

	(void)state;
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	snprintf(r1, sizeof(r1), "%s/mail.log.1", dir);
	snprintf(r2, sizeof(r2), "%s/mail.log.2", dir);
	snprintf(old, sizeof(old), "%s/mail.log.7", dir);
	snprintf(gz, sizeof(gz), "%s/mail.log.3.gz", dir);
	append_lines(old, &ignored, 5);		/* rotated before the start: not ours */
	append_lines(path, &written, 10);
	f = follow_new(path, NULL, FOLLOW_FROM_START, 4096);
	follow_poll(f, now, on_line, &g);
	assert_int_equal(g.n, 10);
	/* X -> .1, Y at the path, written; Y -> .1 (X -> .2), Z at the path, written: no look between */
	rotate(path, r1, &written);
	append_lines(path, &written, 20);
	assert_int_equal(rename(r1, r2), 0);
	rotate(path, r1, &written);
	append_lines(path, &written, 30);
	append_lines(gz, &ignored, 3);		/* a compressed copy appears too: never read */
	for (int i = 0; i < 12; i++) {
		now += 250;
		follow_poll(f, now, on_line, &g);
	}
	assert_int_equal(g.n, 60);
	assert_false(g.out_of_order);
	assert_int_equal(follow_stats(f).rotations, 2);
	/*
	 * A copy made next to the path while its file stays (copytruncate's, an
	 * administrator's) is seen at the next look and is never taken for a
	 * missed file; a rotation later reads nothing twice.
	 */
	{
		char copy[160], cmd[400];

		snprintf(copy, sizeof(copy), "%s/mail.log.bak", dir);
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", path, copy);
		assert_int_equal(system(cmd), 0);
	}
	now += 250;
	follow_poll(f, now, on_line, &g);
	rotate(path, r1, &written);
	append_lines(path, &written, 4);
	for (int i = 0; i < 12; i++) {
		now += 250;
		follow_poll(f, now, on_line, &g);
	}
	assert_int_equal(g.n, 64);
	assert_false(g.out_of_order);
	follow_free(f);
}

/* Set a file's modification time to t seconds (atime too). */
static void
set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/*
 * Rotated twice while mxguard was stopped: the saved file (now .2) is
 * finished, then the one that took the path after it (.1), then the one
 * at the path; an older rotated file (.5, last written before the saved
 * one) is not read. The times are set, not waited for.
 */
static void
test_rotated_twice_while_stopped(void **state)
{
	char path[128], r1[160], r2[160], r5[160];
	struct got g = { 0, 0, 0 };
	struct follower *f;
	struct follow_pos pos;
	long written = 0, ignored = 1000000;
	time_t t = 1700000000;

	(void)state;
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	snprintf(r1, sizeof(r1), "%s/mail.log.1", dir);
	snprintf(r2, sizeof(r2), "%s/mail.log.2", dir);
	snprintf(r5, sizeof(r5), "%s/mail.log.5", dir);
	append_lines(r5, &ignored, 5);
	set_mtime(r5, t - 100);
	append_lines(path, &written, 10);
	f = follow_new(path, NULL, FOLLOW_FROM_START, 4096);
	follow_poll(f, 1000, on_line, &g);
	assert_int_equal(g.n, 10);
	assert_true(follow_position(f, &pos));
	follow_free(f);
	/* while stopped: 3 more lines to X, X -> .1, Y written, Y -> .1 (X -> .2), Z written */
	append_lines(path, &written, 3);
	set_mtime(path, t);
	rotate(path, r1, &written);
	append_lines(path, &written, 20);
	set_mtime(path, t + 10);
	assert_int_equal(rename(r1, r2), 0);
	rotate(path, r1, &written);
	append_lines(path, &written, 30);
	f = follow_new(path, &pos, FOLLOW_FROM_START, 4096);
	for (int i = 0, now = 2000; i < 12; i++, now += 250)
		follow_poll(f, now, on_line, &g);
	assert_int_equal(g.n, 63);
	assert_false(g.out_of_order);
	follow_free(f);
}

/*
 * What inotify told the caller (follow_poll_as): a written file is read
 * without looking at the names; a quiet one is skipped; a truncation, and
 * a refill past the offset, are still seen at once; a rotation the hint
 * did not announce is found by the look every 200 ms, nothing lost.
 */
static void
test_hints(void **state)
{
	char path[128], r1[160];
	struct got g = { 0, 0, 0 };
	struct follower *f;
	long written = 0;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	snprintf(r1, sizeof(r1), "%s/mail.log.1", dir);
	append_lines(path, &written, 100);
	f = follow_new(path, NULL, FOLLOW_FROM_START, 4096);
	assert_int_equal(follow_poll_as(f, 1000, FOLLOW_WRITTEN, on_line, &g), 100);	/* (the first call looks) */
	append_lines(path, &written, 5);
	assert_int_equal(follow_poll_as(f, 1010, FOLLOW_QUIET, on_line, &g), 0);
	assert_int_equal(follow_poll_as(f, 1020, FOLLOW_WRITTEN, on_line, &g), 5);
	append_lines(path, &written, 3);
	assert_int_equal(follow_poll_as(f, 1200, FOLLOW_QUIET, on_line, &g), 3);	/* 200 ms: looked at anyway */
	/* rotated, the hint says only "written": the old file is read, the new one at the next look */
	assert_int_equal(rename(path, r1), 0);
	append_lines(path, &written, 7);
	assert_int_equal(follow_poll_as(f, 1210, FOLLOW_WRITTEN, on_line, &g), 0);
	assert_int_equal(follow_poll_as(f, 1400, FOLLOW_WRITTEN, on_line, &g), 0);	/* found; the old one's grace */
	assert_int_equal(follow_poll_as(f, 7000, FOLLOW_QUIET, on_line, &g), 7);
	assert_int_equal(g.n, 115);
	assert_false(g.out_of_order);
	/* truncated in place and refilled with fewer bytes: seen on a "written" hint */
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fclose(fp), 0);
	g.next = written = 0;
	append_lines(path, &written, 2);
	assert_int_equal(follow_poll_as(f, 7010, FOLLOW_WRITTEN, on_line, &g), 2);
	append_lines(path, &written, 100);	/* (past the 256 first bytes that identify a file) */
	assert_int_equal(follow_poll_as(f, 7015, FOLLOW_WRITTEN, on_line, &g), 100);
	/* ... and refilled past the offset before the look: the first bytes changed */
	assert_non_null(fp = fopen(path, "w"));
	fputs("2000\n", fp);	/* (a different first line) */
	for (int i = 0; i < 300; i++)
		fprintf(fp, "%d\n", 2001 + i);
	assert_int_equal(fclose(fp), 0);
	g.next = 2000;
	assert_true(follow_poll_as(f, 7020, FOLLOW_WRITTEN, on_line, &g) > 0);
	assert_false(g.out_of_order);
	assert_int_equal(g.next, 2301);
	assert_int_equal(follow_stats(f).truncations, 2);
	follow_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotation_burst, mkdir_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_rotated_file_still_written, mkdir_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_rotated_twice_between_looks, mkdir_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_rotated_twice_while_stopped, mkdir_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_hints, mkdir_tmp, rm_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
