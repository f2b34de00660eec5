/*
 * lpm.c - longest-prefix match by disjoint ranges (see lpm.h).
 *
 * Building: the prefixes of a family are sorted by first address (less
 * specific first at equal addresses) and swept once with a stack of the
 * prefixes that are open; every stretch of addresses between two prefix
 * boundaries becomes a range labelled with the innermost open prefix (or
 * none). Neighbouring ranges with the same label merge. n prefixes give at
 * most 2n + 1 ranges, and the same sweep gives each prefix its parent
 * (the next less specific prefix around it) for lpm_lookup_chain.
 *
 * Looking up: ranges are stored as their first addresses only (a range
 * ends where the next begins), each next to its label, so the cache line
 * where the search ends also holds the answer. The index cuts the block
 * of addresses the prefixes span (the bits all their boundaries share are
 * skipped: IPv6 feeds live in 2000::/3) into as many slices as there are
 * about two ranges (1,024 to 1,048,576 slices); idx[s] is the range that
 * holds the first address of slice s, so an address's range lies between
 * idx[s] and idx[s + 1]: a count (search4) or a binary search over a
 * couple of entries, mostly one cache line. Addresses outside the block
 * search the few ranges before or after it. An IPv4 range takes 12 bytes,
 * an IPv6 range 24.
 */
#include "lpm.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hugepages.h"
#include "../common/xalloc.h"

typedef unsigned __int128 u128;

#define SLICE_BITS_MIN 10
#define SLICE_BITS_MAX 20
#define WINDOW 3		/* ranges a slice search counts without a branch (see search4) */

/* A range: its first address and its innermost prefix (its index in lpm_build's input), or LPM_NONE. */
struct r4 {
	uint32_t start, label, tag;
};

struct r6 {
	uint64_t hi, lo;
	uint32_t label, tag;	/* (fills what would be padding) */
};

/* One family's index. */
struct fam {
	int width;		/* 32 or 128 */
	size_t nr;		/* ranges */
	struct r4 *r4;
	struct r6 *r6;
	int skip;		/* leading bits every range boundary of the block shares */
	int shift;		/* width - skip - slice bits: an address's slice is (x >> shift) & mask */
	u128 block;		/* the shared leading bits (the rest zero) */
	size_t mask;		/* slices - 1 */
	uint32_t *idx;		/* slices + 1 entries */
	uint64_t block_hi, block_mask_hi;	/* IPv6: the block's first 64 bits, and which of them it shares */
	size_t np;		/* prefixes kept */
};

struct lpm {
	struct fam f4, f6;
	uint32_t *parent;	/* by input index: the next less specific prefix, or LPM_NONE */
	size_t n;
};

/* A prefix while building (32 bytes: a million of them are sorted). */
struct bp {
	u128 start;
	uint32_t order, tag;
	uint8_t plen;
};

/* The last address of a prefix. */
static inline u128
bp_end(const struct bp *b, int width)
{
	return b->plen == 0 ? (width == 128 ? ~(u128)0 : ((u128)1 << width) - 1) :
	    b->start | (b->plen == width ? 0 : (((u128)1 << (width - b->plen)) - 1));
}

static u128
key_of(const struct addr *a)
{
	u128 k = 0;

	for (int i = 0; i < (a->family == 4 ? 4 : 16); i++)
		k = k << 8 | a->b[i];
	return k;
}

static int
bp_cmp(const void *x, const void *y)
{
	const struct bp *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

struct builder {
	struct fam *f;
	size_t cap;
};

static uint32_t
label_at(const struct fam *f, size_t k)
{
	return f->width == 32 ? f->r4[k].label : f->r6[k].label;
}

static u128
range_start(const struct fam *f, size_t k)
{
	return f->width == 32 ? f->r4[k].start : (u128)f->r6[k].hi << 64 | f->r6[k].lo;
}

/* A range from `start` on, labelled `label`; merged into the previous one if that has the same label. */
static void
emit(struct builder *b, u128 start, uint32_t label, uint32_t tag)
{
	struct fam *f = b->f;

	if (f->nr > 0 && label_at(f, f->nr - 1) == label)
		return;
	if (f->nr == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		if (f->width == 32)
			f->r4 = xrealloc(f->r4, b->cap * sizeof(*f->r4));
		else
			f->r6 = xrealloc(f->r6, b->cap * sizeof(*f->r6));
	}
	if (f->width == 32)
		f->r4[f->nr++] = (struct r4){ (uint32_t)start, label, tag };
	else
		f->r6[f->nr++] = (struct r6){ (uint64_t)(start >> 64), (uint64_t)start, label, tag };
}

/* The sort key of a prefix: IPv4 whole (start, length, order: 32 + 6 + 26 bits), IPv6 its first 64 bits. */
static inline uint64_t
bp_key(const struct bp *b, int width)
{
	return width == 32 ? (uint64_t)b->start << 32 | (uint64_t)b->plen << 26 | b->order : (uint64_t)(b->start >> 64);
}

/*
 * Sort prefixes as bp_cmp does, by an LSD radix sort on a 64-bit key (four
 * passes of 16 bits; a million prefixes in a few tens of milliseconds,
 * where qsort's comparisons took several times that). The IPv4 key is the
 * whole order; IPv6 prefixes equal in their first 64 bits are put in order
 * after, run by run (short runs: prefixes inside one /64).
 */
static void
sort_prefixes(struct bp *p, size_t n, int width)
{
	struct bp *tmp, *src = p, *dst;
	uint32_t *count;

	if (n < 64 || (width == 32 && n >= (1u << 26))) {
		qsort(p, n, sizeof(*p), bp_cmp);
		return;
	}
	tmp = xmalloc(n * sizeof(*tmp));
	count = xmalloc(65536 * sizeof(*count));
	dst = tmp;
	for (int pass = 0; pass < 4; pass++) {
		int shift = 16 * pass;
		uint32_t sum = 0;

		memset(count, 0, 65536 * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(bp_key(&src[i], width) >> shift) & 0xffff]++;
		for (size_t d = 0; d < 65536; d++) {
			uint32_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(bp_key(&src[i], width) >> shift) & 0xffff]++] = src[i];
		src = dst;
		dst = dst == tmp ? p : tmp;
	}
	/* Four passes: the result is back in p. */
	free(count);
	free(tmp);
	if (width == 128)
		for (size_t i = 0; i < n;) {
			size_t j = i + 1;

			while (j < n && bp_key(&p[j], width) == bp_key(&p[i], width))
				j++;
			if (j - i > 1)
				qsort(p + i, j - i, sizeof(*p), bp_cmp);
			i = j;
		}
}

static void index_fam(struct fam *f, u128 max);

/* A prefix closes: what is left of it from *pos on is its range. */
static void
close_prefix(struct builder *b, const struct bp *t, int width, u128 max, u128 *pos, int *beyond)
{
	u128 end = bp_end(t, width);

	if (!*beyond && *pos <= end) {
		emit(b, *pos, t->order, t->tag);
		*beyond = end == max;
		*pos = end + 1;
	}
}

static void
build_fam(struct fam *f, uint32_t *parent, int width, struct bp *p, size_t n)
{
	struct builder b = { .f = f };
	u128 max = width == 128 ? ~(u128)0 : ((u128)1 << width) - 1, pos = 0;
	int beyond = 0;		/* pos has passed max: everything is emitted */
	uint32_t stack[129];
	int sp = 0;
	size_t k = 0;

	f->width = width;
	sort_prefixes(p, n, width);
	/* Identical prefixes: the last given wins. */
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || p[i].start != p[i + 1].start || p[i].plen != p[i + 1].plen)
			p[k++] = p[i];
	n = k;
	f->np = n;
	/*
	 * At most 2n + 1 ranges: reserved at once, so the arrays never move
	 * (a doubling realloc would hold old and new copies at the peak);
	 * pages never written cost no memory.
	 */
	b.cap = 2 * n + 1 + WINDOW;
	if (width == 32) {
		f->r4 = huge_alloc(b.cap * sizeof(*f->r4));
	} else {
		f->r6 = huge_alloc(b.cap * sizeof(*f->r6));
	}
	for (size_t i = 0; i < n; i++) {
		/* Close the prefixes that end before this one starts: each owns the rest of itself. */
		while (sp > 0 && bp_end(&p[stack[sp - 1]], width) < p[i].start)
			close_prefix(&b, &p[stack[--sp]], width, max, &pos, &beyond);
		if (!beyond && pos < p[i].start) {
			emit(&b, pos, sp > 0 ? p[stack[sp - 1]].order : LPM_NONE, sp > 0 ? p[stack[sp - 1]].tag : 0);
			pos = p[i].start;
		}
		parent[p[i].order] = sp > 0 ? p[stack[sp - 1]].order : LPM_NONE;
		stack[sp++] = (uint32_t)i;	/* nested prefixes are longer: at most width + 1 open */
	}
	while (sp > 0)
		close_prefix(&b, &p[stack[--sp]], width, max, &pos, &beyond);
	if (!beyond)
		emit(&b, pos, LPM_NONE, 0);
	/* A slice search reads up to WINDOW - 1 ranges past the last (and ignores them): defined bytes there. */
	if (width == 32)
		memset(f->r4 + f->nr, 0, WINDOW * sizeof(*f->r4));
	else
		memset(f->r6 + f->nr, 0, WINDOW * sizeof(*f->r6));
	index_fam(f, max);
}

/* Number of leading zero bits of x in a width-bit word. */
static int
leading_zeros(u128 x, int width)
{
	int n = 0;

	while (n < width && !((x >> (width - 1 - n)) & 1))
		n++;
	return n;
}

static void
index_fam(struct fam *f, u128 max)
{
	int bits = SLICE_BITS_MIN;
	u128 lo = 0, hi = max;
	size_t k = 0;

	/* The block: from the first labelled range's start to the last labelled range's end. */
	for (size_t i = 0; i < f->nr; i++)
		if (label_at(f, i) != LPM_NONE) {
			lo = range_start(f, i);
			break;
		}
	for (size_t i = f->nr; i-- > 0;)
		if (label_at(f, i) != LPM_NONE) {
			hi = i + 1 < f->nr ? range_start(f, i + 1) - 1 : max;
			break;
		}
	f->skip = leading_zeros(lo ^ hi, f->width);
	while (bits < SLICE_BITS_MAX && ((size_t)1 << bits) < f->nr / 2)
		bits++;
	if (bits > f->width - f->skip)
		bits = f->width - f->skip;
	f->shift = f->width - f->skip - bits;
	/* (skip == width: the prefixes span one address; no shift by the whole width) */
	f->block = f->skip == 0 ? 0 : f->skip >= f->width ? lo : lo & ~(max >> f->skip);
	f->mask = ((size_t)1 << bits) - 1;
	f->block_hi = (uint64_t)(f->block >> 64);
	f->block_mask_hi = f->skip == 0 ? 0 : f->skip >= 64 ? ~0ull : ~(~0ull >> f->skip);
	f->idx = huge_alloc((f->mask + 2) * sizeof(*f->idx));
	/* idx[s]: the range holding the first address of slice s. */
	for (size_t s = 0; s <= f->mask; s++) {
		u128 first = f->block | (u128)s << f->shift;

		while (k + 1 < f->nr && range_start(f, k + 1) <= first)
			k++;
		f->idx[s] = (uint32_t)k;
	}
	f->idx[f->mask + 1] = (uint32_t)(f->nr - 1);
}

struct lpm *
lpm_build(const struct lpm_prefix *in, size_t n)
{
	struct lpm *t = xcalloc(1, sizeof(*t));
	uint32_t *parent = xmalloc((n + 1) * sizeof(*parent));
	struct bp *p4 = xmalloc((n + 1) * sizeof(*p4)), *p6 = xmalloc((n + 1) * sizeof(*p6));
	size_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < n; i++) {
		int width = in[i].addr.family == 4 ? 32 : in[i].addr.family == 6 ? 128 : 0;
		struct bp *b;
		u128 host;

		parent[i] = LPM_NONE;
		if (width == 0 || in[i].plen > width || i >= LPM_NONE)
			continue;
		b = width == 32 ? &p4[n4++] : &p6[n6++];
		host = in[i].plen == width ? 0 : in[i].plen == 0 ? (width == 128 ? ~(u128)0 : ((u128)1 << width) - 1) :
		    (((u128)1 << (width - in[i].plen)) - 1);
		b->start = key_of(&in[i].addr) & ~host;
		b->plen = in[i].plen;
		b->tag = in[i].tag;
		b->order = (uint32_t)i;
	}
	build_fam(&t->f4, parent, 32, p4, n4);
	build_fam(&t->f6, parent, 128, p6, n6);
	t->parent = parent;
	t->n = n;
	free(p4);
	free(p6);
	return t;
}

void
lpm_free(struct lpm *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < 2; i++) {
		struct fam *f = i ? &t->f6 : &t->f4;

		free(f->r4);
		free(f->r6);
		free(f->idx);
	}
	free(t->parent);
	free(t);
}

/*
 * The ranges between which x's lies: its slice's, or those before or
 * after the block. (The general form, for an IPv6 block too narrow for
 * the fast path below.)
 */
static inline void
slice_bounds(const struct fam *f, u128 x, size_t *lo, size_t *hi)
{
	if (f->skip > 0 && (x ^ f->block) >> (f->width - f->skip) != 0) {
		if (x < f->block) {
			*lo = 0;
			*hi = f->idx[0];
		} else {
			*lo = f->idx[f->mask];
			*hi = f->nr - 1;
		}
		return;
	}
	x = (x >> f->shift) & f->mask;
	*lo = f->idx[(size_t)x];
	*hi = f->idx[(size_t)x + 1];
}

/*
 * Searching a slice. Whether a range boundary lies below the address is
 * random for random clients: a branch on it is mispredicted about every
 * other time, and only once the range's cache line has come in, which
 * throws away the next lookups' memory reads already under way. So a
 * slice of up to WINDOW ranges (three in four: the index has about two
 * per slice) is counted without a branch on the data; a longer one is
 * searched by halves.
 */
static inline size_t
search4(const struct r4 *r, size_t lo, size_t hi, uint32_t x)
{
	if (__builtin_expect(hi - lo < WINDOW, 1)) {
		size_t span = hi - lo, k = lo;

		for (size_t j = 1; j < WINDOW; j++)
			k += (j <= span) & (r[lo + j].start <= x);
		return k;
	}
	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;

		if (r[mid].start <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static inline size_t
search6(const struct r6 *r, size_t lo, size_t hi, uint64_t xh, uint64_t xl)
{
	if (__builtin_expect(hi - lo < WINDOW, 1)) {
		size_t span = hi - lo, k = lo;

		for (size_t j = 1; j < WINDOW; j++)
			k += (j <= span) & ((r[lo + j].hi < xh) | ((r[lo + j].hi == xh) & (r[lo + j].lo <= xl)));
		return k;
	}
	while (lo < hi) {
		size_t mid = (lo + hi + 1) / 2;

		if (r[mid].hi < xh || (r[mid].hi == xh && r[mid].lo <= xl))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

uint32_t
lpm_lookup(const struct lpm *t, const struct addr *a)
{
	uint32_t tag;

	return lpm_lookup_tag(t, a, &tag);
}

uint32_t
lpm_lookup_tag(const struct lpm *t, const struct addr *a, uint32_t *tag)
{
	const struct fam *f;
	size_t lo, hi, k;

	if (a->family == 4) {
		uint32_t x;

		memcpy(&x, a->b, 4);
		x = be32toh(x);
		f = &t->f4;
		slice_bounds(f, x, &lo, &hi);
		k = search4(f->r4, lo, hi, x);
		*tag = f->r4[k].tag;
		return f->r4[k].label;
	}
	if (a->family == 6) {
		uint64_t xh, xl;

		memcpy(&xh, a->b, 8);
		memcpy(&xl, a->b + 8, 8);
		xh = be64toh(xh);
		xl = be64toh(xl);
		f = &t->f6;
		if (f->shift >= 64 && ((xh ^ f->block_hi) & f->block_mask_hi) == 0) {
			/* The slice from the first 64 bits alone (a feed spread over the Internet's space). */
			size_t s = (size_t)(xh >> (f->shift - 64)) & f->mask;

			lo = f->idx[s];
			hi = f->idx[s + 1];
		} else
			slice_bounds(f, (u128)xh << 64 | xl, &lo, &hi);
		k = search6(f->r6, lo, hi, xh, xl);
		*tag = f->r6[k].tag;
		return f->r6[k].label;
	}
	*tag = 0;
	return LPM_NONE;
}

int
lpm_lookup_chain(const struct lpm *t, const struct addr *a, uint32_t *out, int max)
{
	int n = 0;

	for (uint32_t i = lpm_lookup(t, a); i != LPM_NONE; i = t->parent[i], n++)
		if (n < max)
			out[n] = i;
	return n;
}

uint32_t
lpm_parent(const struct lpm *t, uint32_t i)
{
	return i < t->n ? t->parent[i] : LPM_NONE;
}

size_t
lpm_size(const struct lpm *t)
{
	return t->f4.np + t->f6.np;
}

size_t
lpm_memory(const struct lpm *t)
{
	return sizeof(*t) + t->f4.nr * sizeof(struct r4) + t->f6.nr * sizeof(struct r6) + t->n * sizeof(*t->parent) +
	    (t->f4.mask + 2 + t->f6.mask + 2) * sizeof(uint32_t);
}
