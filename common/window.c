/* window.c - ring-of-buckets windows and distinct sets (see window.h). */
#include "window.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Memory per tracked key is dominated by this (docs/ARCHITECTURE.md, bench/RESULTS.md). */
_Static_assert(sizeof(struct window) <= 64, "a window must stay within 64 bytes");

/* Bucket number and ring slot of time t, right for times before 1970 too. */
static int64_t
bucket_of(int64_t t, int64_t width)
{
	return t >= 0 ? t / width : -((-t + width - 1) / width);
}

static unsigned
slot_of(int64_t idx)
{
	int64_t m = idx % WIN_BUCKETS;

	return (unsigned)(m < 0 ? m + WIN_BUCKETS : m);
}

int64_t
win_width(int64_t window)
{
	int64_t w = (window + WIN_BUCKETS - 1) / WIN_BUCKETS;

	return w < 1 ? 1 : w;
}

/*
 * Move the ring so that bucket `idx` is the newest, zeroing the buckets
 * that fall out (count windows only). Returns 0 if idx is older than the
 * window (ignore it).
 */
static int
advance(struct window *w, int64_t idx, int distinct)
{
	if (w->head == 0 && w->total == 0) {
		w->head = idx;	/* a fresh (or reset) window starts here */
		return 1;
	}
	if (idx <= w->head - WIN_BUCKETS)
		return 0;
	if (idx > w->head) {
		int64_t shift = idx - w->head;

		if (distinct) {
			/* values carry their own bucket numbers */
		} else if (shift >= WIN_BUCKETS) {
			memset(w->u.b, 0, sizeof(w->u.b));
			w->total = 0;
		} else {
			/* A saturated total no longer equals the sum of the buckets: recount it. */
			int saturated = w->total == UINT32_MAX;

			for (int64_t k = 1; k <= shift; k++) {
				uint32_t *slot = &w->u.b[slot_of(w->head + k)];

				if (!saturated)
					w->total -= *slot;
				*slot = 0;
			}
			if (saturated) {
				uint64_t sum = 0;

				for (int b = 0; b < WIN_BUCKETS; b++)
					sum += w->u.b[b];
				w->total = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
			}
		}
		w->head = idx;
	}
	return 1;
}

uint32_t
win_add(struct window *w, int64_t width, int64_t t, uint32_t v)
{
	int64_t idx = bucket_of(t, width);
	uint32_t *slot;

	if (!advance(w, idx, 0))
		return w->total;
	slot = &w->u.b[slot_of(idx)];
	*slot = *slot > UINT32_MAX - v ? UINT32_MAX : *slot + v;
	w->total = w->total > UINT32_MAX - v ? UINT32_MAX : w->total + v;
	return w->total;
}

static struct dval *
dv(struct window *w, uint32_t i)
{
	return i < WIN_DINLINE ? &w->u.d.din[i] : &w->u.d.dext[i - WIN_DINLINE];
}

uint32_t
win_distinct(struct window *w, int64_t width, int64_t t, uint64_t fp, uint32_t limit)
{
	const uint32_t lo = (uint32_t)fp, hi = (uint32_t)(fp >> 32);
	int64_t idx = bucket_of(t, width);
	uint32_t head32, live = 0, n, oldest = 0;
	struct dval *found = NULL, *seg[2];
	uint32_t segn[2];

	if (!advance(w, idx, 1))
		return w->u.d.ndist;
	head32 = (uint32_t)w->head;
	n = w->u.d.ndist;
	seg[0] = w->u.d.din;
	segn[0] = n < WIN_DINLINE ? n : WIN_DINLINE;
	seg[1] = w->u.d.dext;
	segn[1] = n - segn[0];
	/*
	 * One pass over the inline values, then the array: drop values last
	 * seen before the window (moving later ones down only after a gap),
	 * refresh fp if present, and note the value seen longest ago.
	 */
	for (int sg = 0; sg < 2; sg++) {
		for (uint32_t k = 0; k < segn[sg]; k++) {
			struct dval d = seg[sg][k];

			if (head32 - d.bucket >= WIN_BUCKETS)
				continue;
			int same = d.lo == lo && d.hi == hi;

			if (same) {
				if ((int32_t)((uint32_t)idx - d.bucket) > 0)
					d.bucket = (uint32_t)idx;
				found = dv(w, live);
			}
			if (live != (sg ? WIN_DINLINE + k : k))
				*dv(w, live) = d;
			else if (same)
				seg[sg][k] = d;
			if ((int32_t)(d.bucket - dv(w, oldest)->bucket) < 0)
				oldest = live;
			live++;
		}
	}
	w->u.d.ndist = live;
	if (found == NULL && live >= limit && limit > 0) {
		/* Full: the value seen longest ago makes room, so the set holds the newest. */
		*dv(w, oldest) = (struct dval){ lo, hi, (uint32_t)idx };
	} else if (found == NULL && live < limit) {
		if (live >= WIN_DINLINE && live - WIN_DINLINE >= w->dcap) {
			uint32_t ncap = w->dcap ? w->dcap * 2 : 4;

			if (ncap > limit)
				ncap = limit;
			w->u.d.dext = xrealloc(w->u.d.dext, ncap * sizeof(*w->u.d.dext));
			w->dcap = ncap;
		}
		*dv(w, w->u.d.ndist++) = (struct dval){ lo, hi, (uint32_t)idx };
	}
	w->total = w->u.d.ndist;
	return w->u.d.ndist;
}

void
win_reset(struct window *w, int distinct)
{
	if (!distinct)
		memset(w->u.b, 0, sizeof(w->u.b));
	else
		w->u.d.ndist = 0;
	w->total = 0;
	w->head = 0;
}

void
win_free(struct window *w)
{
	if (w->dcap > 0)
		free(w->u.d.dext);
	w->u.d.dext = NULL;
	w->dcap = 0;
}

/*
 * The saved form: head and total, then a count window's WIN_BUCKETS
 * buckets, or a distinct window's number of values and the values (12
 * bytes each: fingerprints do not shrink). Numbers are LEB128 varints
 * (head zigzag-coded): an idle bucket is one byte, a count window about
 * 16 bytes instead of 52 — a million keys are a million rows.
 */
#define VARINT_MAX 10

static size_t
put_varint(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/* The number at *p (n bytes left): 0 if the bytes end or run past 64 bits. */
static size_t
get_varint(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n && i < VARINT_MAX; i++) {
		if (i == VARINT_MAX - 1 && p[i] > 1)
			return 0;
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

size_t
win_pack_size(const struct window *w, int distinct)
{
	return 2 * VARINT_MAX + (distinct ? VARINT_MAX + (size_t)w->u.d.ndist * sizeof(struct dval) :
	    WIN_BUCKETS * 5);
}

size_t
win_pack(const struct window *w, int distinct, uint8_t *out)
{
	size_t n = put_varint(out, ((uint64_t)w->head << 1) ^ (uint64_t)(w->head >> 63));

	n += put_varint(out + n, w->total);
	if (!distinct) {
		for (int b = 0; b < WIN_BUCKETS; b++)
			n += put_varint(out + n, w->u.b[b]);
		return n;
	}
	n += put_varint(out + n, w->u.d.ndist);
	for (uint32_t i = 0; i < w->u.d.ndist; i++, n += sizeof(struct dval))
		memcpy(out + n, dv((struct window *)w, i), sizeof(struct dval));
	return n;
}

int
win_unpack(struct window *w, int distinct, const uint8_t *p, size_t n, uint32_t limit)
{
	uint64_t zz, total, nd, sum = 0;
	size_t k, o;

	if ((k = get_varint(p, n, &zz)) == 0)
		return -1;
	w->head = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
	if ((o = get_varint(p + k, n - k, &total)) == 0 || total > UINT32_MAX)
		return -1;
	k += o;
	w->total = (uint32_t)total;
	if (!distinct) {
		for (int b = 0; b < WIN_BUCKETS; b++) {
			uint64_t v;

			if ((o = get_varint(p + k, n - k, &v)) == 0 || v > UINT32_MAX)
				return -1;
			k += o;
			w->u.b[b] = (uint32_t)v;
			sum += v;
		}
		/* (the total is the buckets' sum, saturated: a row that says otherwise is not this program's) */
		return k == n && total == (sum > UINT32_MAX ? UINT32_MAX : sum) ? 0 : -1;
	}
	if ((o = get_varint(p + k, n - k, &nd)) == 0)
		return -1;
	k += o;
	if (nd > limit || nd != total || n - k != nd * sizeof(struct dval))
		return -1;
	if (nd > WIN_DINLINE) {
		w->u.d.dext = xmalloc((nd - WIN_DINLINE) * sizeof(struct dval));
		w->dcap = (uint32_t)(nd - WIN_DINLINE);
	}
	w->u.d.ndist = (uint32_t)nd;
	for (uint32_t i = 0; i < nd; i++, k += sizeof(struct dval))
		memcpy(dv(w, i), p + k, sizeof(struct dval));
	return 0;
}
