/*
 * test_window.c - sliding windows in event time: bucket width, counts and
 * sums, old events, advancing time, jumps, saturation; distinct sets:
 * repeats, expiry, refresh, the limit, the growth path beyond the inline
 * values, 64-bit fingerprints (values equal in their low 32 bits count
 * apart); and long random sequences against a brute-force model that
 * applies the same bucket rule to a plain list of events.
 *
 * The bucket rule (window.h): bucket number = t / width, width =
 * ceil(W / 10); the window is the newest bucket seen and the 9 before it;
 * an event in an older bucket is ignored.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../common/window.h"

/* Windows live in *state so that a failed assertion does not leak them. */
static int
setup_window(void **state)
{
	*state = calloc(1, sizeof(struct window));
	return *state == NULL ? -1 : 0;
}

static int
free_window(void **state)
{
	if (*state != NULL) {
		win_free(*state);
		free(*state);
		*state = NULL;
	}
	return 0;
}

#define W(state) ((struct window *)*(state))

static void
test_width(void **state)
{
	(void)state;
	assert_int_equal(WIN_BUCKETS, 10);
	assert_int_equal(win_width(600), 60);
	assert_int_equal(win_width(60), 6);
	assert_int_equal(win_width(3600), 360);
	assert_int_equal(win_width(601), 61);	/* ceil */
	assert_int_equal(win_width(599), 60);
	assert_int_equal(win_width(10), 1);
	assert_int_equal(win_width(11), 2);
	assert_int_equal(win_width(1), 1);	/* never 0 */
	assert_int_equal(win_width(0), 1);
	assert_int_equal(win_width(86400 * 7), 60480);
}

static void
test_count_in_window(void **state)
{
	struct window *w = W(state);
	const int64_t width = win_width(600);

	/* buckets 1000..1009 (t 60000..60599): all in one window */
	assert_int_equal(win_add(w, width, 60000, 1), 1);
	assert_int_equal(win_add(w, width, 60000, 1), 2);
	assert_int_equal(win_add(w, width, 60059, 1), 3);
	assert_int_equal(win_add(w, width, 60060, 5), 8);
	assert_int_equal(win_add(w, width, 60300, 2), 10);
	assert_int_equal(win_add(w, width, 60599, 1), 11);
	/* v == 0 reads the sum */
	assert_int_equal(win_add(w, width, 60599, 0), 11);
	/* out of order, still inside the window */
	assert_int_equal(win_add(w, width, 60001, 1), 12);
	assert_int_equal(w->total, 12);
	/* the next bucket drops bucket 1000 (t 60000..60059: 1+1+1+1 = 4) */
	assert_int_equal(win_add(w, width, 60600, 0), 8);
	/* two more buckets: 1001 (5) and 1002 (nothing) */
	assert_int_equal(win_add(w, width, 60720, 0), 3);
}

static void
test_old_events_ignored(void **state)
{
	struct window *w = W(state);
	const int64_t width = 60;

	assert_int_equal(win_add(w, width, 10000, 1), 1);	/* bucket 166: window is 157..166 */
	assert_int_equal(win_add(w, width, 9419, 1), 1);	/* bucket 156: too old */
	assert_int_equal(win_add(w, width, 0, 1), 1);
	assert_int_equal(win_add(w, width, 9000, 1000), 1);
	assert_int_equal(win_add(w, width, 9420, 1), 2);	/* bucket 157: oldest one in */
	assert_int_equal(win_add(w, width, 9999, 1), 3);
	/* the ignored events left nothing behind: moving on to 175 keeps 166 only */
	assert_int_equal(win_add(w, width, 10500, 0), 2);	/* bucket 175: window 166..175 */
	assert_int_equal(win_add(w, width, 10560, 0), 0);	/* bucket 176 */

	/* distinct windows ignore old events too */
	struct window d;

	memset(&d, 0, sizeof(d));
	assert_int_equal(win_distinct(&d, width, 10000, 1, 100), 1);
	assert_int_equal(win_distinct(&d, width, 9419, 2, 100), 1);
	assert_int_equal(win_distinct(&d, width, 9420, 3, 100), 2);
	assert_int_equal(win_distinct(&d, width, 10000, 2, 100), 3);
	win_free(&d);
}

static void
test_advance_exact(void **state)
{
	struct window *w = W(state);
	const int64_t width = win_width(600);
	uint32_t n = 0;

	/* one event a minute for 30 minutes: t = 0, 60, ..., 1800, one per bucket */
	for (int k = 0; k <= 30; k++) {
		n = win_add(w, width, 60 * k, 1);
		assert_int_equal(n, k < 10 ? k + 1 : 10);
	}
	assert_int_equal(n, 10);

	/* one event every 45 s: after t = 1800 (bucket 30, window 21..30, t >= 1260) the events
	 * t = 1260 .. 1800 step 45, i.e. k = 28..40: 13 of them */
	win_reset(w, 0);
	for (int k = 0; k <= 40; k++)
		n = win_add(w, width, 45 * k, 1);
	assert_int_equal(n, 13);
	/* t = 1845 is bucket 30 too: 14; t = 1890 is bucket 31 (window from t = 1320): k = 28 and
	 * 29 (t = 1260, 1305) leave, 14 - 2 + 1 = 13 */
	assert_int_equal(win_add(w, width, 1845, 1), 14);
	assert_int_equal(win_add(w, width, 1890, 1), 13);

	/* a 1 s window has 1 s buckets: exactly the last 10 seconds */
	struct window x;

	memset(&x, 0, sizeof(x));
	for (int k = 100; k < 200; k++)
		assert_int_equal(win_add(&x, win_width(1), k, 1), k - 100 < 10 ? (uint32_t)(k - 99) : 10u);
	/* ...and a 10 s window too; 2 events a second */
	memset(&x, 0, sizeof(x));
	for (int k = 100; k < 200; k++) {
		win_add(&x, win_width(10), k, 1);
		n = win_add(&x, win_width(10), k, 1);
	}
	assert_int_equal(n, 20);
}

/* Times before 1970: buckets are floor(t / width), like any others. */
static void
test_negative_times(void **state)
{
	struct window *w = W(state);
	struct window d;
	uint32_t n;

	/* t = -600, -540, ..., 600: buckets -10 .. 10, one event each */
	for (int k = 0; k <= 20; k++) {
		n = win_add(w, 60, -600 + 60 * k, 1);
		assert_int_equal(n, k < 10 ? (uint32_t)k + 1 : 10u);
	}
	/* -1 and -60 share bucket -1, -61 is bucket -2 */
	win_reset(w, 0);
	assert_int_equal(win_add(w, 60, -1, 1), 1);
	assert_int_equal(win_add(w, 60, -60, 1), 2);
	assert_int_equal(win_add(w, 60, -61, 1), 3);
	/* bucket 8: window -1..8 keeps bucket -1 only */
	assert_int_equal(win_add(w, 60, 480, 1), 3);
	/* bucket 9: window 0..9, nothing before 0 */
	assert_int_equal(win_add(w, 60, 540, 1), 2);

	memset(&d, 0, sizeof(d));
	assert_int_equal(win_distinct(&d, 60, -61, 1, 100), 1);
	assert_int_equal(win_distinct(&d, 60, -1, 2, 100), 2);
	assert_int_equal(win_distinct(&d, 60, 480, 3, 100), 2);	/* bucket -2 left */
	assert_int_equal(win_distinct(&d, 60, 540, 3, 100), 1);	/* bucket -1 left */
	win_free(&d);
}

static void
test_jump_resets(void **state)
{
	struct window *w = W(state);
	const int64_t width = 60;

	/* 3 events in bucket 100, 2 in bucket 105 */
	for (int i = 0; i < 3; i++)
		win_add(w, width, 6000 + i, 1);
	win_add(w, width, 6300, 1);
	assert_int_equal(win_add(w, width, 6310, 1), 5);
	/* bucket 114: window 105..114 keeps bucket 105 */
	assert_int_equal(win_add(w, width, 6840, 1), 3);
	/* bucket 124: window 115..124: only this one */
	assert_int_equal(win_add(w, width, 7440, 1), 1);
	/* a jump of exactly 10 buckets: nothing left */
	assert_int_equal(win_add(w, width, 7440 + 600, 1), 1);
	/* a jump of days */
	assert_int_equal(win_add(w, width, 7440 + 600 + 86400 * 3, 7), 7);
	assert_int_equal(win_add(w, width, 7440 + 600 + 86400 * 3 + 59, 1), 8);
	/* a jump of 9 buckets keeps the newest bucket */
	assert_int_equal(win_add(w, width, 7440 + 600 + 86400 * 3 + 540, 1), 9);

	/* distinct: a jump forgets every value */
	struct window d;

	memset(&d, 0, sizeof(d));
	for (uint32_t h = 1; h <= 10; h++)
		win_distinct(&d, width, 6000, h, 100);
	assert_int_equal(win_distinct(&d, width, 6000 + 86400, 11, 100), 1);
	assert_int_equal(win_distinct(&d, width, 6000 + 86400, 1, 100), 2);
	win_free(&d);
}

static void
test_saturation(void **state)
{
	struct window *w = W(state);

	assert_int_equal(win_add(w, 60, 6000, UINT32_MAX - 5), UINT32_MAX - 5);
	assert_int_equal(win_add(w, 60, 6000, 5), UINT32_MAX);
	assert_int_equal(win_add(w, 60, 6000, 1), UINT32_MAX);
	assert_int_equal(win_add(w, 60, 6000, UINT32_MAX), UINT32_MAX);
	assert_int_equal(win_add(w, 60, 6060, UINT32_MAX), UINT32_MAX);
	assert_int_equal(win_add(w, 60, 6120, 1), UINT32_MAX);
	/* all gone after a jump */
	assert_int_equal(win_add(w, 60, 6000 + 6000, 3), 3);
}

/*
 * Saturation must not corrupt the sum once the big bucket leaves the
 * window: 4294967294 in bucket 100, 10 in bucket 101 (the sum saturates),
 * then at bucket 110 bucket 100 is gone and 10 remain.
 */
static void
test_saturation_then_expiry(void **state)
{
	struct window *w = W(state);

	assert_int_equal(win_add(w, 60, 6000, UINT32_MAX - 1), UINT32_MAX - 1);
	assert_int_equal(win_add(w, 60, 6060, 10), UINT32_MAX);
	assert_int_equal(win_add(w, 60, 6600, 0), 10);
}

static void
test_reset(void **state)
{
	struct window *w = W(state);
	struct window d;
	struct dval *ext;
	uint32_t cap;

	for (int i = 0; i < 5; i++)
		win_add(w, 60, 6000 + i, 1);
	win_reset(w, 0);
	assert_int_equal(w->total, 0);
	/* after a reset the next event starts a new window, wherever it is */
	assert_int_equal(win_add(w, 60, 6001, 1), 1);
	win_reset(w, 0);
	assert_int_equal(win_add(w, 60, 100, 2), 2);
	assert_int_equal(win_add(w, 60, 160, 2), 4);
	/* nothing of the old buckets comes back when time moves on */
	win_reset(w, 0);
	assert_int_equal(win_add(w, 60, 220, 1), 1);
	assert_int_equal(win_add(w, 60, 400, 1), 2);

	/* distinct: memory is kept, values are forgotten */
	memset(&d, 0, sizeof(d));
	for (uint32_t h = 0; h < 50; h++)
		win_distinct(&d, 60, 6000, h, 1000);
	assert_int_equal(d.total, 50);
	ext = d.u.d.dext;
	cap = d.dcap;
	assert_non_null(ext);
	assert_true(cap >= 46);
	win_reset(&d, 1);
	assert_int_equal(d.total, 0);
	assert_int_equal(d.u.d.ndist, 0);
	assert_ptr_equal(d.u.d.dext, ext);
	assert_int_equal(d.dcap, cap);
	assert_int_equal(win_distinct(&d, 60, 6000, 7, 1000), 1);
	assert_int_equal(win_distinct(&d, 60, 6000, 7, 1000), 1);
	assert_int_equal(win_distinct(&d, 60, 6000, 8, 1000), 2);
	/* the kept array is reused: 50 values again, the same memory */
	for (uint32_t h = 100; h < 148; h++)
		win_distinct(&d, 60, 6001, h, 1000);
	assert_int_equal(d.total, 50);
	assert_ptr_equal(d.u.d.dext, ext);
	/* a reset distinct window starts again at the next event's time */
	win_reset(&d, 1);
	assert_int_equal(win_distinct(&d, 60, 100, 1, 1000), 1);
	assert_int_equal(win_distinct(&d, 60, 160, 2, 1000), 2);
	win_free(&d);
	assert_null(d.u.d.dext);
	assert_int_equal(d.dcap, 0);
	win_free(&d);	/* twice is harmless */
}

static void
test_distinct_basic(void **state)
{
	struct window *w = W(state);
	const int64_t width = 60;

	assert_int_equal(win_distinct(w, width, 6000, 0xabc, 100), 1);
	assert_int_equal(win_distinct(w, width, 6001, 0xabc, 100), 1);
	assert_int_equal(win_distinct(w, width, 6002, 0xabc, 100), 1);
	assert_int_equal(win_distinct(w, width, 6003, 0xdef, 100), 2);
	assert_int_equal(win_distinct(w, width, 6004, 0, 100), 3);	/* 0 is a value like any other */
	assert_int_equal(win_distinct(w, width, 6005, UINT32_MAX, 100), 4);
	assert_int_equal(win_distinct(w, width, 6006, 0xabc, 100), 4);
	assert_int_equal(win_distinct(w, width, 6007, 5, 100), 5);	/* beyond the inline ones */
	assert_int_equal(win_distinct(w, width, 6008, 0, 100), 5);
	assert_int_equal(win_distinct(w, width, 6009, 5, 100), 5);
	assert_int_equal(w->total, 5);
}

/*
 * Fingerprints are 64 bits: values that differ only in their high half
 * (a 32-bit hash would have made them one) count apart, whether they sit
 * in the window's inline slots or in its array.
 */
static void
test_distinct_64bit(void **state)
{
	struct window *w = W(state);
	uint32_t n = 0;

	for (uint64_t hi = 1; hi <= 40; hi++)
		n = win_distinct(w, 60, 6000 + (int64_t)hi, hi << 32 | 0x5eed, 100);
	assert_int_equal(n, 40);
	/* each is known again by its whole 64 bits */
	for (uint64_t hi = 1; hi <= 40; hi++)
		assert_int_equal(win_distinct(w, 60, 6050, hi << 32 | 0x5eed, 100), 40);
	assert_int_equal(win_distinct(w, 60, 6051, 0x5eed, 100), 41);
	assert_int_equal(win_distinct(w, 60, 6052, 1ull << 32 | 0x5eee, 100), 42);
	assert_int_equal(win_distinct(w, 60, 6053, UINT64_MAX, 100), 43);
	assert_int_equal(win_distinct(w, 60, 6054, UINT64_MAX, 100), 43);
}

static void
test_distinct_expiry_and_refresh(void **state)
{
	struct window *w = W(state);
	const int64_t width = 60;

	/* A in bucket 100; B in 100 and again in 105; C in 104 */
	assert_int_equal(win_distinct(w, width, 6000, 'A', 100), 1);
	assert_int_equal(win_distinct(w, width, 6010, 'B', 100), 2);
	assert_int_equal(win_distinct(w, width, 6240, 'C', 100), 3);
	assert_int_equal(win_distinct(w, width, 6300, 'B', 100), 3);
	/* bucket 109: everything still in */
	assert_int_equal(win_distinct(w, width, 6599, 'D', 100), 4);
	/* bucket 110: A (last seen 100) is gone, B was refreshed in 105 */
	assert_int_equal(win_distinct(w, width, 6600, 'D', 100), 3);
	/* A again: new */
	assert_int_equal(win_distinct(w, width, 6601, 'A', 100), 4);
	/* bucket 114: C (104) is gone; 113 would have kept it */
	assert_int_equal(win_distinct(w, width, 6840, 'D', 100), 3);
	/* bucket 115: B (105) is gone */
	assert_int_equal(win_distinct(w, width, 6900, 'D', 100), 2);
	/* bucket 120: A (110) gone, D (115) stays */
	assert_int_equal(win_distinct(w, width, 7200, 'D', 100), 1);

	/* an out-of-order sighting never moves a value's last sighting back */
	struct window x;

	memset(&x, 0, sizeof(x));
	assert_int_equal(win_distinct(&x, width, 6300, 'E', 100), 1);	/* bucket 105 */
	assert_int_equal(win_distinct(&x, width, 6120, 'E', 100), 1);	/* bucket 102, older */
	assert_int_equal(win_distinct(&x, width, 6840, 'F', 100), 2);	/* bucket 114: E (105) stays */
	assert_int_equal(win_distinct(&x, width, 6900, 'F', 100), 1);	/* bucket 115: E gone */
	win_free(&x);
}

static void
test_distinct_limit(void **state)
{
	struct window *w = W(state);

	for (uint32_t h = 0; h < 100; h++) {
		uint32_t n = win_distinct(w, 60, 6000 + h, h * 2654435761u, 20);

		assert_int_equal(n, h < 20 ? h + 1 : 20);
		assert_true(w->u.d.ndist <= 20);
		assert_true(w->dcap <= 20);
	}
	/* a limit below the inline size */
	struct window x;

	memset(&x, 0, sizeof(x));
	for (uint32_t h = 0; h < 10; h++)
		assert_int_equal(win_distinct(&x, 60, 6000, h, 2), h < 2 ? h + 1 : 2);
	assert_null(x.u.d.dext);
	/* limit 0: nothing is ever stored */
	memset(&x, 0, sizeof(x));
	assert_int_equal(win_distinct(&x, 60, 6000, 1, 0), 0);
	assert_int_equal(win_distinct(&x, 60, 6001, 2, 0), 0);
	win_free(&x);
}

static void
test_distinct_growth(void **state)
{
	struct window *w = W(state);
	enum { N = 5000 };

	/* many values, seen once each within one bucket, then all again */
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(win_distinct(w, 600, 600000 + i / 100, i * 0x9e3779b9u + 1, 1000000), i + 1);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(win_distinct(w, 600, 600049, i * 0x9e3779b9u + 1, 1000000), N);
	assert_true(w->dcap >= N - WIN_DINLINE);
	/* half of them refreshed in a later bucket; the other half expire */
	for (uint32_t i = 0; i < N; i += 2)
		assert_int_equal(win_distinct(w, 600, 600000 + 600 * 5, i * 0x9e3779b9u + 1, 1000000), N);
	assert_int_equal(win_distinct(w, 600, 600000 + 600 * 10, 1, 1000000), N / 2);
	assert_int_equal(win_distinct(w, 600, 600000 + 600 * 15, 1, 1000000), 1);
}

/*
 * The limit keeps at most `limit` values, but the count must still be that
 * of the window: limit 3; A, B, C in bucket 100; D, E, F in bucket 105 (the
 * set is full, the answer 3 is right); at bucket 110 A, B, C have left the
 * window but D, E, F have not, so with G the window holds 4 distinct values
 * and the answer must be 3 (the limit), not 1.
 */
static void
test_distinct_limit_keeps_newest(void **state)
{
	struct window *w = W(state);

	assert_int_equal(win_distinct(w, 60, 6000, 'A', 3), 1);
	assert_int_equal(win_distinct(w, 60, 6000, 'B', 3), 2);
	assert_int_equal(win_distinct(w, 60, 6000, 'C', 3), 3);
	assert_int_equal(win_distinct(w, 60, 6300, 'D', 3), 3);
	assert_int_equal(win_distinct(w, 60, 6300, 'E', 3), 3);
	assert_int_equal(win_distinct(w, 60, 6300, 'F', 3), 3);
	assert_int_equal(win_distinct(w, 60, 6600, 'G', 3), 3);
}

/* --------------------------------------------- brute-force models --- */

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct ev {
	int64_t bucket;
	uint32_t v;
};

/*
 * The time of the next line of a roughly ordered log: the clock moves on in
 * small steps with rare gaps; a few lines are late (some by more than the
 * window).
 */
static int64_t
next_time(int64_t *clock, int64_t window)
{
	uint64_t r = rnd() % 1000;

	if (r < 3)
		*clock += window * (1 + (int64_t)(rnd() % 3)) + (int64_t)(rnd() % 100);	/* gap */
	else
		*clock += (int64_t)(rnd() % (uint64_t)(window / 8 + 2));
	if (r >= 900)
		return *clock - (int64_t)(rnd() % (uint64_t)(2 * window + 12));		/* late line */
	return *clock;
}

static void
random_count(int64_t window, uint64_t seed, int nev)
{
	struct window w;
	const int64_t width = win_width(window);
	struct ev *log = calloc((size_t)nev, sizeof(*log));
	int nlog = 0, ignored = 0;
	int64_t clock = 1700000000, t, head = INT64_MIN;

	assert_non_null(log);
	memset(&w, 0, sizeof(w));
	rng_state = seed;
	for (int k = 0; k < nev; k++) {
		uint32_t v = rnd() % 8 == 0 ? 1 + (uint32_t)(rnd() % 1000) : 1;
		int64_t b, got;
		uint64_t want = 0;

		t = next_time(&clock, window);
		b = t / width;
		if (head != INT64_MIN && b <= head - WIN_BUCKETS)
			ignored++;
		else {
			log[nlog++] = (struct ev){ b, v };
			if (b > head)
				head = b;
		}
		for (int i = nlog - 1; i >= 0; i--)
			if (log[i].bucket > head - WIN_BUCKETS)
				want += log[i].v;
		got = win_add(&w, width, t, v);
		if ((uint64_t)got != want)
			fail_msg("window %lld, event %d at t=%lld (bucket %lld, head %lld): got %lld, want %llu",
			    (long long)window, k, (long long)t, (long long)b, (long long)head, (long long)got,
			    (unsigned long long)want);
		/* keep the model short: drop events that can never count again */
		if (nlog > 4096) {
			int j = 0;

			for (int i = 0; i < nlog; i++)
				if (log[i].bucket > head - WIN_BUCKETS)
					log[j++] = log[i];
			nlog = j;
		}
	}
	assert_true(ignored > 100);	/* the sequence did exercise old events */
	win_free(&w);
	free(log);
}

static void
test_random_count(void **state)
{
	(void)state;
	random_count(600, 1, 200000);
	random_count(60, 2, 100000);
	random_count(1, 3, 50000);
	random_count(3601, 4, 100000);
}

/* Distinct: value v's last sighting is its newest accepted bucket; it counts while in the window. */
static void
random_distinct(int64_t window, uint32_t nvalues, uint64_t seed, int nev)
{
	struct window w;
	const int64_t width = win_width(window);
	int64_t *last = malloc(nvalues * sizeof(*last));
	int64_t clock = 1700000000, t, head = INT64_MIN;
	uint32_t maxseen = 0;

	assert_non_null(last);
	for (uint32_t i = 0; i < nvalues; i++)
		last[i] = INT64_MIN;
	memset(&w, 0, sizeof(w));
	rng_state = seed;
	for (int k = 0; k < nev; k++) {
		/* a skewed choice: some values come back often, most rarely */
		uint32_t v = rnd() % 2 ? (uint32_t)(rnd() % 16) : (uint32_t)(rnd() % nvalues);
		uint32_t h = v * 0x9e3779b1u ^ 0x5bd1e995u;
		int64_t b;
		uint32_t got, want = 0;

		t = next_time(&clock, window);
		b = t / width;
		if (head == INT64_MIN || b > head - WIN_BUCKETS) {
			if (b > last[v])
				last[v] = b;
			if (b > head)
				head = b;
		}
		for (uint32_t i = 0; i < nvalues; i++)
			if (last[i] != INT64_MIN && last[i] > head - WIN_BUCKETS)
				want++;
		got = win_distinct(&w, width, t, h, 1u << 30);
		if (got != want)
			fail_msg("window %lld, event %d at t=%lld (bucket %lld, head %lld), value %u: got %u, want %u",
			    (long long)window, k, (long long)t, (long long)b, (long long)head, v, got, want);
		if (got > maxseen)
			maxseen = got;
	}
	assert_true(maxseen > WIN_DINLINE * 4);	/* the growth path was used */
	win_free(&w);
	free(last);
}

static void
test_random_distinct(void **state)
{
	(void)state;
	random_distinct(600, 500, 11, 100000);
	random_distinct(60, 200, 12, 100000);
	random_distinct(7, 50, 13, 50000);
	random_distinct(86400, 3000, 14, 30000);
}

/* With a small limit the count never exceeds it, and is exact below it. */
static void
test_random_distinct_limit(void **state)
{
	struct window w;
	const int64_t width = 60;
	int64_t t = 1700000000;

	(void)state;
	memset(&w, 0, sizeof(w));
	rng_state = 99;
	for (int k = 0; k < 100000; k++) {
		uint32_t got;

		t += (int64_t)(rnd() % 20);
		got = win_distinct(&w, width, t, (uint32_t)(rnd() % 64), 10);
		assert_true(got <= 10);
		assert_true(w.u.d.ndist <= 10);
		assert_true(w.dcap <= 10);
	}
	win_free(&w);
}

/* A window saved and taken back is the same window: it goes on counting alike. */
static void
test_pack_roundtrip(void **state)
{
	struct window a, b, c;
	uint8_t buf[4096];
	size_t n;

	(void)state;
	/* A count window, some buckets used, a time before 1970 too. */
	for (int64_t base = -100000; base <= 1700000000; base += 1700100000) {
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		for (int i = 0; i < 50; i++)
			win_add(&a, 6, base + i * 5, (uint32_t)(i % 7));
		assert_true(win_pack_size(&a, 0) <= sizeof(buf));
		n = win_pack(&a, 0, buf);
		assert_true(n <= win_pack_size(&a, 0));
		assert_int_equal(win_unpack(&b, 0, buf, n, 100), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		assert_int_equal(win_add(&a, 6, base + 260, 1), win_add(&b, 6, base + 260, 1));
		/* cut short, or a byte more, or a total that is not the buckets' sum: refused */
		memset(&c, 0, sizeof(c));
		assert_int_equal(win_unpack(&c, 0, buf, n - 1, 100), -1);
		assert_int_equal(win_unpack(&c, 0, buf, n + 1, 100), -1);
	}
	/* A distinct window holding more values than fit inline. */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (uint64_t v = 1; v <= 40; v++)
		win_distinct(&a, 60, 1000 + (int64_t)v, v * 0x9e3779b97f4a7c15ull, 50);
	n = win_pack(&a, 1, buf);
	assert_true(n <= win_pack_size(&a, 1));
	assert_int_equal(win_unpack(&b, 1, buf, n, 50), 0);
	assert_int_equal(b.u.d.ndist, 40);
	/* the same values: seen again they are not new; a new one is */
	assert_int_equal(win_distinct(&b, 60, 1100, 7 * 0x9e3779b97f4a7c15ull, 50), 40);
	assert_int_equal(win_distinct(&b, 60, 1100, 41 * 0x9e3779b97f4a7c15ull, 50), 41);
	memset(&c, 0, sizeof(c));
	assert_int_equal(win_unpack(&c, 1, buf, n, 39), -1);	/* more values than the limit */
	assert_int_equal(win_unpack(&c, 1, buf, n - 12, 50), -1);	/* a value missing */
	win_free(&a);
	win_free(&b);
	win_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width),
		cmocka_unit_test_setup_teardown(test_count_in_window, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_old_events_ignored, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_advance_exact, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_negative_times, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_jump_resets, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_saturation, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_saturation_then_expiry, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_reset, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_distinct_basic, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_distinct_64bit, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_distinct_expiry_and_refresh, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_distinct_limit, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_distinct_growth, setup_window, free_window),
		cmocka_unit_test_setup_teardown(test_distinct_limit_keeps_newest, setup_window, free_window),
		cmocka_unit_test(test_random_count),
		cmocka_unit_test(test_random_distinct),
		cmocka_unit_test(test_random_distinct_limit),
		cmocka_unit_test(test_pack_roundtrip),
	};

	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
