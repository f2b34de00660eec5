/*
 * hash.c - the process's hash key (see hash.h).
 *
 * The key is the one piece of process-wide state here: it must be the same
 * for every table of the process (a table handed over at a reload keeps its
 * hashes) and unknown outside it. Tables copy it when they are created, so
 * the hot paths never look at this file's state.
 */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static struct hash_key process_key;
static int have_key;

/* 1-32 hex digits into a key; 0 if s is not that. */
static int
parse_seed(const char *s, struct hash_key *k)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	k->k0 = k->k1 = 0;
	for (size_t i = 0; i < n; i++) {
		int v = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
		    (s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f' ? (s[i] | 0x20) - 'a' + 10 : -1;

		if (v < 0)
			return 0;
		k->k1 = k->k1 << 4 | k->k0 >> 60;
		k->k0 = k->k0 << 4 | (uint64_t)v;
	}
	return 1;
}

/* 16 random bytes: getrandom, else /dev/urandom. 1 on success, 0 if neither works. */
static int
random_key(struct hash_key *k)
{
	unsigned char b[16];
	size_t got = 0;
	int fd;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < sizeof(b) && (fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) >= 0) {
		got = 0;
		while (got < sizeof(b)) {
			ssize_t r = read(fd, b + got, sizeof(b) - got);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(fd);
	}
	if (got < sizeof(b))
		return 0;
	memcpy(&k->k0, b, 8);
	memcpy(&k->k1, b + 8, 8);
	return 1;
}

struct hash_key
hash_process_key(void)
{
	const char *seed;

	if (have_key)
		return process_key;
	if ((seed = getenv("MXGUARD_HASH_SEED")) != NULL) {
		if (!parse_seed(seed, &process_key))
			fatalx(EX_USAGE, "MXGUARD_HASH_SEED: expected 1 to 32 hex digits");
		log_warnx("hash key fixed by MXGUARD_HASH_SEED: for tests only, hashes are predictable");
	} else if (!random_key(&process_key))
		fatal(EX_OSERR, "no random bytes for the hash key (getrandom, /dev/urandom)");
	have_key = 1;
	return process_key;
}

uint64_t
hash_siphash(const struct hash_key *k, int c, int d, const void *p, size_t n)
{
	return hash_sip_core(k, c, d, p, n, 0);
}
