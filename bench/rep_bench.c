/*
 * rep_bench.c - the reputation lookup path under load (issue 13 targets).
 *
 *   rep_bench [-n PREFIXES] [-l LOOKUPS] [-f FILE]
 *
 * Writes a feed of PREFIXES (default 1,000,000) random prefixes — half
 * IPv4 (/16 to /32), half IPv6 (/32 to /128, inside 2000::/3) — as CSV to
 * FILE (default bench/data/rep-N.csv, made once), loads it through the
 * daemon's own path (feed_load: read, parse, settle scores, index) and
 * reports the time and the memory it took (peak RSS before and after),
 * then LOOKUPS (default 20,000,000) random addresses, half of them inside
 * a prefix of the feed (hits) and half anywhere (mostly misses), one core:
 * lookups/s. Targets: load <= 1 s and <= 64 MB; >= 10 M lookups/s.
 * There is no peer to compare with: no tool in Debian puts a scored feed
 * behind its own detections (rbldnsd answers DNS, a different job).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../reputation/feed.h"
#include "../reputation/lpm.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long
peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* The process's memory on transparent huge pages, in kB (-1 if unknown): lookups depend on it. */
static long
huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
random_prefix(struct addr *a, int *plen)
{
	memset(a, 0, sizeof(*a));
	if (rng() % 2) {
		uint32_t x = (uint32_t)rng();

		a->family = 4;
		*plen = 16 + (int)(rng() % 17);
		x &= *plen == 32 ? ~0u : ~(~0u >> *plen);
		a->b[0] = (uint8_t)(x >> 24), a->b[1] = (uint8_t)(x >> 16), a->b[2] = (uint8_t)(x >> 8), a->b[3] = (uint8_t)x;
	} else {
		uint64_t hi = rng(), lo = rng();

		a->family = 6;
		hi = (hi & ~(7ull << 61)) | (1ull << 61);	/* 2000::/3 */
		*plen = 32 + (int)(rng() % 97);
		if (*plen <= 64) {
			hi &= *plen == 64 ? ~0ull : ~(~0ull >> *plen);
			lo = 0;
		} else
			lo &= *plen == 128 ? ~0ull : ~(~0ull >> (*plen - 64));
		for (int i = 0; i < 8; i++) {
			a->b[i] = (uint8_t)(hi >> (56 - 8 * i));
			a->b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
	}
}

static int
write_feed(const char *path, long n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "prefix,risk,spam,vol\n");
	for (long i = 0; i < n; i++) {
		struct addr a;
		char text[ADDR_STRLEN];
		int plen;

		random_prefix(&a, &plen);
		addr_format(&a, text);
		fprintf(f, "%s/%d,%d,%d,%d\n", text, plen, (int)(rng() % 11), (int)(rng() % 101), (int)(rng() % 101));
	}
	return fclose(f);
}

int
main(int argc, char **argv)
{
	long n = 1000000, lookups = 20000000, rss0, rss1, hits = 0;
	uint64_t sum = 0;
	char path[256] = "", err[512];
	struct feed_spec spec = { .name = "bench", .format = FEED_CSV, .weight = 1, .risk = FEED_SCORE_NONE,
		.spam = FEED_SCORE_NONE, .vol = FEED_SCORE_NONE };
	struct feed *f;
	struct addr *probe;
	struct stat sb;
	double t0, t1;
	int c;

	while ((c = getopt(argc, argv, "n:l:f:")) != -1) {
		switch (c) {
		case 'n': n = atol(optarg); break;
		case 'l': lookups = atol(optarg); break;
		case 'f': snprintf(path, sizeof(path), "%s", optarg); break;
		default:
			fprintf(stderr, "usage: rep_bench [-n PREFIXES] [-l LOOKUPS] [-f FILE]\n");
			return 64;
		}
	}
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "bench/data/rep-%ld.csv", n);
	if (stat(path, &sb) != 0 && write_feed(path, n) != 0) {
		perror(path);
		return 1;
	}
	spec.path = path;
	rss0 = peak_rss_kb();
	t0 = now_s();
	if ((f = feed_load(&spec, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t1 = now_s();
	rss1 = peak_rss_kb();
	printf("feed: %ld prefixes (%s), %zu entries\n", n, path, f->n);
	printf("load: %.3f s, peak RSS +%.1f MB (%.1f MB in all); kept: %.1f MB (index %.1f MB, entries %.1f MB)\n",
	    t1 - t0, (double)(rss1 - rss0) / 1024, (double)rss1 / 1024,
	    (double)(lpm_memory(f->index) + f->n * sizeof(*f->item)) / 1048576, (double)lpm_memory(f->index) / 1048576,
	    (double)(f->n * sizeof(*f->item)) / 1048576);
	/* The probes: half inside random prefixes of the feed (host bits random), half anywhere. */
	{
		struct feed_data d = { 0 };

		if (feed_parse_file(path, FEED_CSV, &d, err, sizeof(err)) < 0 || d.n == 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		probe = malloc(sizeof(*probe) << 20);
		for (int i = 0; i < (1 << 20); i++) {
			const struct feed_entry *e = &d.e[rng() % d.n];
			int width = e->addr.family == 4 ? 32 : 128;

			probe[i] = e->addr;
			for (int bit = e->plen; bit < width; bit++)
				if (i % 2 == 1 && rng() % 2)
					probe[i].b[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
			if (i % 2 == 0) {	/* anywhere */
				probe[i].family = rng() % 2 ? 4 : 6;
				for (int k = 0; k < 16; k++)
					probe[i].b[k] = (uint8_t)rng();
			}
		}
		feed_data_free(&d);
	}
	t0 = now_s();
	for (long i = 0; i < lookups; i++) {
		struct feed_hit h = { 0 };	/* (not written for an expired entry: none here) */

		hits += feed_lookup(f, &probe[i & ((1 << 20) - 1)], 0, &h);
		sum += (uint64_t)(h.risk + h.spam + h.vol) + h.entry;	/* every answer used: none computed for nothing */
	}
	t1 = now_s();
	printf("huge pages: %.1f MB of the process\n", (double)huge_kb() / 1024);
	printf("lookups: %ld in %.3f s: %.2f M lookups/s on one core (%.1f %% hits; answers' sum %llu)\n", lookups,
	    t1 - t0, (double)lookups / (t1 - t0) / 1e6, 100.0 * (double)hits / (double)lookups, (unsigned long long)sum);
	free(probe);
	feed_free(f);
	return 0;
}
