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
 * ends where the next begins). idx[b] is the range that holds the first
 * address of the b-th 1/65536 of the address space, so an address's range
 * lies between idx[b] and idx[b + 1]: a binary search over a slice that
 * is a few entries long for a million random prefixes. IPv4 starts take 4
 * bytes, IPv6 starts 16 (unsigned __int128, compared natively).
 */
#include "lpm.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"

typedef unsigned __int128 u128;

#define SLICES 65536

/* One family's index. */
struct fam {
	int width;		/* 32 or 128 */
	size_t nr;		/* ranges */
	uint32_t *start4;	/* IPv4 range starts */
	u128 *start6;		/* IPv6 range starts */
	uint32_t *label;	/* each range's innermost prefix (an index into value[]), or LPM_NONE */
	uint32_t idx[SLICES + 1];
	size_t np;		/* prefixes kept */
	uint32_t *value, *parent;
};

struct lpm {
	struct fam f4, f6;
};

/* A prefix while building. */
struct bp {
	u128 start, end;
	uint32_t order, value;
	uint8_t plen;
};

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

/* A range from `start` on, labelled `label`; merged into the previous one if that has the same label. */
static void
emit(struct builder *b, u128 start, uint32_t label)
{
	struct fam *f = b->f;

	if (f->nr > 0 && f->label[f->nr - 1] == label)
		return;
	if (f->nr == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		f->label = xrealloc(f->label, b->cap * sizeof(*f->label));
		if (f->width == 32)
			f->start4 = xrealloc(f->start4, b->cap * sizeof(*f->start4));
		else
			f->start6 = xrealloc(f->start6, b->cap * sizeof(*f->start6));
	}
	if (f->width == 32)
		f->start4[f->nr] = (uint32_t)start;
	else
		f->start6[f->nr] = start;
	f->label[f->nr++] = label;
}

static u128
range_start(const struct fam *f, size_t k)
{
	return f->width == 32 ? f->start4[k] : f->start6[k];
}

static void
build_fam(struct fam *f, int width, struct bp *p, size_t n)
{
	struct builder b = { .f = f };
	u128 max = width == 128 ? ~(u128)0 : ((u128)1 << width) - 1, pos = 0;
	int beyond = 0;		/* pos has passed max: everything is emitted */
	uint32_t stack[129];
	int sp = 0;
	size_t k = 0;

	f->width = width;
	qsort(p, n, sizeof(*p), bp_cmp);
	/* Identical prefixes: the last given wins. */
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || p[i].start != p[i + 1].start || p[i].plen != p[i + 1].plen)
			p[k++] = p[i];
	n = k;
	f->np = n;
	f->value = xmalloc((n + 1) * sizeof(*f->value));
	f->parent = xmalloc((n + 1) * sizeof(*f->parent));
	for (size_t i = 0; i < n; i++) {
		/* Close the prefixes that end before this one starts: each owns the rest of itself. */
		while (sp > 0 && p[stack[sp - 1]].end < p[i].start) {
			const struct bp *t = &p[stack[--sp]];

			if (!beyond && pos <= t->end) {
				emit(&b, pos, stack[sp]);
				beyond = t->end == max;
				pos = t->end + 1;
			}
		}
		if (!beyond && pos < p[i].start) {
			emit(&b, pos, sp > 0 ? stack[sp - 1] : LPM_NONE);
			pos = p[i].start;
		}
		f->value[i] = p[i].value;
		f->parent[i] = sp > 0 ? stack[sp - 1] : LPM_NONE;
		stack[sp++] = (uint32_t)i;	/* nested prefixes are longer: at most width + 1 open */
	}
	while (sp > 0) {
		const struct bp *t = &p[stack[--sp]];

		if (!beyond && pos <= t->end) {
			emit(&b, pos, stack[sp]);
			beyond = t->end == max;
			pos = t->end + 1;
		}
	}
	if (!beyond)
		emit(&b, pos, LPM_NONE);
	/* idx[s]: the range holding the first address of slice s. */
	k = 0;
	for (size_t s = 0; s < SLICES; s++) {
		u128 first = (u128)s << (width - 16);

		while (k + 1 < f->nr && range_start(f, k + 1) <= first)
			k++;
		f->idx[s] = (uint32_t)k;
	}
	f->idx[SLICES] = (uint32_t)(f->nr - 1);
}

struct lpm *
lpm_build(const struct lpm_prefix *in, size_t n)
{
	struct lpm *t = xcalloc(1, sizeof(*t));
	struct bp *p4 = xmalloc((n + 1) * sizeof(*p4)), *p6 = xmalloc((n + 1) * sizeof(*p6));
	size_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < n; i++) {
		int width = in[i].addr.family == 4 ? 32 : in[i].addr.family == 6 ? 128 : 0;
		struct bp *b;
		u128 host;

		if (width == 0 || in[i].plen > width || in[i].value == LPM_NONE)
			continue;
		b = width == 32 ? &p4[n4++] : &p6[n6++];
		host = in[i].plen == width ? 0 : in[i].plen == 0 ? (width == 128 ? ~(u128)0 : ((u128)1 << width) - 1) :
		    (((u128)1 << (width - in[i].plen)) - 1);
		b->start = key_of(&in[i].addr) & ~host;
		b->end = b->start | host;
		b->plen = in[i].plen;
		b->value = in[i].value;
		b->order = (uint32_t)i;
	}
	build_fam(&t->f4, 32, p4, n4);
	build_fam(&t->f6, 128, p6, n6);
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

		free(f->start4);
		free(f->start6);
		free(f->label);
		free(f->value);
		free(f->parent);
	}
	free(t);
}

/* The innermost prefix covering a (an index into its family's value[]), or LPM_NONE. */
static uint32_t
find(const struct lpm *t, const struct addr *a, const struct fam **fp)
{
	const struct fam *f;
	size_t lo, hi;

	if (a->family == 4) {
		uint32_t x = (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];

		f = &t->f4;
		lo = f->idx[x >> 16];
		hi = f->idx[(x >> 16) + 1];
		while (lo < hi) {
			size_t mid = (lo + hi + 1) / 2;

			if (f->start4[mid] <= x)
				lo = mid;
			else
				hi = mid - 1;
		}
	} else if (a->family == 6) {
		u128 x = key_of(a);

		f = &t->f6;
		lo = f->idx[(size_t)(x >> 112)];
		hi = f->idx[(size_t)(x >> 112) + 1];
		while (lo < hi) {
			size_t mid = (lo + hi + 1) / 2;

			if (f->start6[mid] <= x)
				lo = mid;
			else
				hi = mid - 1;
		}
	} else
		return LPM_NONE;
	*fp = f;
	return f->label[lo];
}

uint32_t
lpm_lookup(const struct lpm *t, const struct addr *a)
{
	const struct fam *f;
	uint32_t i = find(t, a, &f);

	return i == LPM_NONE ? LPM_NONE : f->value[i];
}

int
lpm_lookup_chain(const struct lpm *t, const struct addr *a, uint32_t *out, int max)
{
	const struct fam *f;
	int n = 0;

	for (uint32_t i = find(t, a, &f); i != LPM_NONE; i = f->parent[i], n++)
		if (n < max)
			out[n] = f->value[i];
	return n;
}

size_t
lpm_size(const struct lpm *t)
{
	return t->f4.np + t->f6.np;
}

size_t
lpm_memory(const struct lpm *t)
{
	return sizeof(*t) + t->f4.nr * (4 + 4) + t->f6.nr * (16 + 4) + (t->f4.np + t->f6.np) * 8;
}
