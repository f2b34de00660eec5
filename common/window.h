/*
 * window.h - sliding windows in event time: a count (or sum) in a ring of
 * buckets, and a set of distinct values.
 *
 * A window of W seconds is WIN_BUCKETS buckets of ceil(W / WIN_BUCKETS)
 * seconds (resolution: 1/10 of the window). The sum over the ring is kept
 * as a running total, so reading it is O(1). Distinct values are kept as
 * 64-bit fingerprints (keyed hashes: the caller's) with the bucket they
 * were last seen in, at most `limit` of them (the rule's threshold:
 * reaching it is all that matters); the first WIN_DINLINE live in the
 * window itself, more in an array that grows. 64 bits, because values are
 * attacker-chosen: with 32, a harvester who could find collisions would
 * make different recipients count as one (and even by chance, a million
 * values give a hundred colliding pairs).
 * Events older than the window are ignored; the caller feeds times that
 * are roughly in order (a log file's).
 */
#ifndef MXG_WINDOW_H
#define MXG_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define WIN_BUCKETS 10
#define WIN_DINLINE 3	/* 3 x 12 bytes: a window stays 64 bytes, counting or distinct */

/* A fingerprint as two halves: 12 bytes, 4-byte aligned, not 16. */
struct dval {
	uint32_t lo, hi;	/* the value's 64-bit fingerprint */
	uint32_t bucket;	/* low 32 bits of the bucket number it was last seen in */
};

struct window {
	int64_t head;		/* bucket number (time / width) of the newest bucket */
	uint32_t total;		/* count: sum of b[]; distinct: live values */
	uint32_t dcap;		/* distinct: capacity of dext (0 for a count window: nothing to free) */
	union {			/* a window counts, or it tracks distinct values, never both */
		uint32_t b[WIN_BUCKETS];
		struct {
			struct dval *dext;	/* distinct values beyond the inline ones */
			uint32_t ndist;		/* distinct values stored */
			struct dval din[WIN_DINLINE];
		} d;
	} u;
};			/* 64 bytes: a key table slot holds one per tracked key */

/* Bucket width in seconds for a window (>= 1). */
int64_t win_width(int64_t window);

/* Add v at time t; returns the window's sum after it (saturating). */
uint32_t win_add(struct window *w, int64_t width, int64_t t, uint32_t v);

/* Note the value with fingerprint fp at time t; returns the number of distinct values in the window. */
uint32_t win_distinct(struct window *w, int64_t width, int64_t t, uint64_t fp, uint32_t limit);

/* Forget everything (after a decision), keeping allocated memory. */
void win_reset(struct window *w, int distinct);

/* Free a distinct window's array (the window itself belongs to the caller). */
void win_free(struct window *w);

/*
 * A window as bytes, to be saved with the daemon's state, and back:
 * win_pack writes at most win_pack_size bytes and returns how many;
 * win_unpack fills a zeroed window (-1 if the bytes are not a window of
 * that kind holding at most `limit` values).
 */
size_t win_pack_size(const struct window *w, int distinct);
size_t win_pack(const struct window *w, int distinct, uint8_t *out);
int win_unpack(struct window *w, int distinct, const uint8_t *p, size_t n, uint32_t limit);

#endif
