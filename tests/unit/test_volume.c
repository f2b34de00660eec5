/*
 * test_volume.c - mxguard's own vol: messages per client over today and
 * yesterday (UTC), relative to the busiest client on a log scale; IPv6
 * counted per /64; nothing known for a client that sent nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "../../reputation/volume.h"

#define DAY 86400
#define T0 (20000 * (int64_t)DAY)	/* a midnight */

static int
vol(struct volume *v, const char *s, int64_t now, uint32_t *n)
{
	struct addr a = A(s);

	return volume_of(v, &a, now, n);
}

static void
count(struct volume *v, const char *s, int64_t ts, int times)
{
	struct addr a = A(s);

	for (int i = 0; i < times; i++)
		volume_count(v, &a, ts);
}

static void
test_relative_to_busiest(void **state)
{
	struct volume *v = volume_new(1000);
	uint32_t n;

	(void)state;
	count(v, "198.51.100.1", T0 + 10, 999);
	count(v, "198.51.100.2", T0 + 20, 9);
	count(v, "198.51.100.3", T0 + 30, 1);
	assert_int_equal(vol(v, "198.51.100.1", T0 + 60, &n), 100);
	assert_int_equal(n, 999);
	/* ln(10)/ln(1000) = 1/3; ln(2)/ln(1000) = 10 % */
	assert_int_equal(vol(v, "198.51.100.2", T0 + 60, &n), 33);
	assert_int_equal(vol(v, "198.51.100.3", T0 + 60, &n), 10);
	assert_int_equal(vol(v, "198.51.100.4", T0 + 60, &n), -1);
	assert_int_equal(n, 0);
	volume_free(v);
}

static void
test_days(void **state)
{
	struct volume *v = volume_new(1000);
	uint32_t n;

	(void)state;
	count(v, "203.0.113.7", T0 + 100, 4);
	count(v, "203.0.113.7", T0 + DAY + 100, 6);	/* the next day: yesterday's 4 still count */
	assert_int_equal(vol(v, "203.0.113.7", T0 + DAY + 200, &n), 100);
	assert_int_equal(n, 10);
	assert_int_equal(vol(v, "203.0.113.7", T0 + 2 * DAY + 5, &n), 100);	/* two days on: the 6 of yesterday */
	assert_int_equal(n, 6);
	assert_int_equal(vol(v, "203.0.113.7", T0 + 3 * DAY + 5, &n), -1);	/* then nothing */
	count(v, "203.0.113.7", T0 + 5 * DAY, 1);	/* days later: counted afresh */
	assert_int_equal(vol(v, "203.0.113.7", T0 + 5 * DAY + 1, &n), 100);
	assert_int_equal(n, 1);
	/* The busiest of two days ago no longer sets the scale. */
	count(v, "203.0.113.8", T0 + 5 * DAY + 2, 1);
	assert_int_equal(vol(v, "203.0.113.8", T0 + 5 * DAY + 3, &n), 100);
	volume_free(v);
}

static void
test_ipv6_per_64(void **state)
{
	struct volume *v = volume_new(1000);
	uint32_t n;

	(void)state;
	count(v, "2001:db8:1:2::10", T0, 3);
	count(v, "2001:db8:1:2::11", T0, 2);
	count(v, "2001:db8:1:3::10", T0, 1);
	vol(v, "2001:db8:1:2::99", T0 + 1, &n);
	assert_int_equal(n, 5);
	vol(v, "2001:db8:1:3::1", T0 + 1, &n);
	assert_int_equal(n, 1);
	/* IPv4 addresses are their own clients. */
	count(v, "198.51.100.1", T0, 1);
	vol(v, "198.51.100.2", T0 + 1, &n);
	assert_int_equal(n, 0);
	volume_free(v);
}

static void
test_bounded(void **state)
{
	struct volume *v = volume_new(64);
	uint32_t n;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		struct addr a = { .family = 6, .b = { 0x20, 0x01, 0x0d, 0xb8, (uint8_t)(i >> 8), (uint8_t)i } };

		volume_count(v, &a, T0 + i);
	}
	/* The first clients are gone (the least recently seen go first); the last are there. */
	{
		struct addr first = { .family = 6, .b = { 0x20, 0x01, 0x0d, 0xb8, 0, 0 } };
		struct addr last = { .family = 6, .b = { 0x20, 0x01, 0x0d, 0xb8, 999 >> 8, 999 & 255 } };

		assert_int_equal(volume_of(v, &first, T0 + 1000, &n), -1);
		assert_int_equal(volume_of(v, &last, T0 + 1000, &n), 100);
	}
	volume_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative_to_busiest),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_ipv6_per_64),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
