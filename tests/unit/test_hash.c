/*
 * test_hash.c - the keyed hash (common/hash.h): SipHash against the
 * reference vectors of its paper, the 1-3 variant that mxguard uses against
 * the same reference code, case folding (equal to hashing a folded copy),
 * every length and every byte mattering, different keys giving different
 * hashes, and the process key: fixed by MXGUARD_HASH_SEED, the same at
 * every call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/hash.h"

static const struct hash_key ref_key = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };

/* SipHash-2-4 with key 00..0f over messages 00, 00 01, ...: the paper's vectors. */
static void
test_reference_vectors(void **state)
{
	unsigned char msg[64];

	(void)state;
	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	assert_true(hash_siphash(&ref_key, 2, 4, msg, 0) == 0x726fdb47dd0e0e31ull);
	assert_true(hash_siphash(&ref_key, 2, 4, msg, 15) == 0xa129ca6149be45e5ull);
	/* the variant in use is the same code with 1 and 3 rounds */
	for (size_t n = 0; n < 64; n++)
		assert_true(hash_bytes(&ref_key, msg, n) == hash_siphash(&ref_key, 1, 3, msg, n));
}

/* Folding is hashing the bytes with 0x20 OR-ed in, at every length. */
static void
test_fold(void **state)
{
	const char *s = "Postmaster@Example.ORG-and-some-MORE-text-to-cross-words";
	char low[128], orr[128];
	size_t n = strlen(s);

	(void)state;
	for (size_t k = 0; k <= n; k++) {
		for (size_t i = 0; i < k; i++) {
			low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]);
			orr[i] = (char)(s[i] | 0x20);
		}
		assert_true(hash_bytes_fold(&ref_key, s, k) == hash_bytes(&ref_key, orr, k));
		assert_true(hash_bytes_fold(&ref_key, s, k) == hash_bytes_fold(&ref_key, low, k));
	}
	assert_true(hash_bytes_fold(&ref_key, "a", 1) != hash_bytes_fold(&ref_key, "b", 1));
}

/* Every byte and the length count; another key gives other hashes. */
static void
test_sensitivity(void **state)
{
	unsigned char m[40] = { 0 };
	struct hash_key other = { 1, 0 };
	uint64_t seen[41 + 40 * 8];
	int n = 0;

	(void)state;
	for (size_t len = 0; len <= 40; len++)
		seen[n++] = hash_bytes(&ref_key, m, len);	/* zeros of every length */
	for (int i = 0; i < 40; i++)
		for (int b = 0; b < 8; b++) {
			m[i] ^= (unsigned char)(1u << b);
			seen[n++] = hash_bytes(&ref_key, m, 40);
			m[i] ^= (unsigned char)(1u << b);
		}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			assert_true(seen[i] != seen[j]);
	assert_true(hash_bytes(&ref_key, "203.0.113.66", 12) != hash_bytes(&other, "203.0.113.66", 12));
}

/* The process key of a child that draws it (nothing drawn in this process yet). */
static struct hash_key
child_key(void)
{
	struct hash_key k = { 0, 0 };
	int fd[2], st;
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		k = hash_process_key();
		_exit(write(fd[1], &k, sizeof(k)) == (ssize_t)sizeof(k) ? 0 : 1);
	}
	close(fd[1]);
	assert_int_equal(read(fd[0], &k, sizeof(k)), (ssize_t)sizeof(k));
	close(fd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return k;
}

/*
 * Without MXGUARD_HASH_SEED every process draws its own key; with it, the
 * key is the one given (set before the first call), and a warning says so.
 */
static void
test_process_key(void **state)
{
	struct hash_key a, b;

	(void)state;
	assert_int_equal(unsetenv("MXGUARD_HASH_SEED"), 0);
	a = child_key();
	b = child_key();
	assert_true(a.k0 != b.k0 || a.k1 != b.k1);
	assert_true((a.k0 | a.k1) != 0);
	assert_int_equal(setenv("MXGUARD_HASH_SEED", "00112233445566778899aabbccddeeff", 1), 0);
	a = hash_process_key();
	assert_true(a.k1 == 0x0011223344556677ull);
	assert_true(a.k0 == 0x8899aabbccddeeffull);
	/* drawn once: later calls give the same, whatever the environment says */
	assert_int_equal(setenv("MXGUARD_HASH_SEED", "1", 1), 0);
	b = hash_process_key();
	assert_memory_equal(&a, &b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_sensitivity),
		cmocka_unit_test(test_process_key),
	};

	return cmocka_run_group_tests_name("hash", tests, NULL, NULL);
}
