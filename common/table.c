/*
 * table.c - CIDR tables (see table.h).
 *
 * Per address family: the list of prefix lengths in use, longest first,
 * and one open-addressing hash set of (length, masked address). A lookup
 * masks the address to each length in turn and stops at the first hit:
 * that is the longest match. Sets grow by doubling at half load.
 */
#include "table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "xalloc.h"

struct entry {
	uint8_t used, plen, negated;
	uint8_t b[16];
};

struct fam {
	struct entry *e;
	size_t cap, n;		/* cap: power of two */
	uint8_t lens[129];	/* distinct prefix lengths, longest first */
	int nlens;
	int bytes;		/* 4 or 16 */
	/*
	 * For table_overlaps: the entries' (not negations') first addresses,
	 * sorted; made at the first call after a change (tables are built by
	 * the configuration, then only read).
	 */
	uint8_t (*sorted)[16];
	size_t nsorted;
	int sorted_ok;
};

struct cidr_table {
	char *name;
	struct fam f4, f6;
};

struct cidr_table *
table_new(const char *name)
{
	struct cidr_table *t = xcalloc(1, sizeof(*t));

	t->name = xstrdup(name);
	t->f4.bytes = 4;
	t->f6.bytes = 16;
	return t;
}

void
table_free(struct cidr_table *t)
{
	if (t == NULL)
		return;
	free(t->f4.e);
	free(t->f6.e);
	free(t->f4.sorted);
	free(t->f6.sorted);
	free(t->name);
	free(t);
}

const char *
table_name(const struct cidr_table *t)
{
	return t->name;
}

size_t
table_size(const struct cidr_table *t)
{
	return t->f4.n + t->f6.n;
}

static size_t
hash(const uint8_t *b, int bytes, int plen)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)plen;

	for (int i = 0; i < bytes; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

/* The slot holding (plen, b), or the empty slot where it would go. */
static struct entry *
probe(const struct fam *f, const uint8_t *b, int plen)
{
	size_t i = hash(b, f->bytes, plen) & (f->cap - 1);

	for (;;) {
		struct entry *e = &f->e[i];

		if (!e->used || (e->plen == plen && memcmp(e->b, b, (size_t)f->bytes) == 0))
			return e;
		i = (i + 1) & (f->cap - 1);
	}
}

static void
grow(struct fam *f)
{
	struct entry *old = f->e;
	size_t oldcap = f->cap;

	f->cap = oldcap ? oldcap * 2 : 16;
	f->e = xcalloc(f->cap, sizeof(*f->e));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].used)
			*probe(f, old[i].b, old[i].plen) = old[i];
	free(old);
}

int
table_holds_all(const struct cidr_table *t, int family)
{
	const struct fam *f = family == 4 ? &t->f4 : &t->f6;
	const uint8_t zero[16] = { 0 };
	const struct entry *e;

	if (f->cap == 0)
		return 0;
	e = probe(f, zero, 0);
	return e->used && !e->negated;
}

int
table_add(struct cidr_table *t, const struct addr *a, int plen, int negated)
{
	struct fam *f = a->family == 4 ? &t->f4 : &t->f6;
	uint8_t b[16] = { 0 };
	struct entry *e;
	int k;

	if (plen < 0 || plen > f->bytes * 8)
		return 0;
	f->sorted_ok = 0;
	if (2 * (f->n + 1) > f->cap)
		grow(f);
	addr_mask_bytes(a->b, plen, b);
	e = probe(f, b, plen);
	if (e->used) {
		e->negated = (uint8_t)negated;
		return 0;
	}
	e->used = 1;
	e->plen = (uint8_t)plen;
	e->negated = (uint8_t)negated;
	memcpy(e->b, b, (size_t)f->bytes);
	f->n++;
	for (k = 0; k < f->nlens && f->lens[k] > plen; k++)
		;
	if (k == f->nlens || f->lens[k] != plen) {
		memmove(f->lens + k + 1, f->lens + k, (size_t)(f->nlens - k));
		f->lens[k] = (uint8_t)plen;
		f->nlens++;
	}
	return 1;
}

int
table_contains(const struct cidr_table *t, const struct addr *a)
{
	const struct fam *f = a->family == 4 ? &t->f4 : a->family == 6 ? &t->f6 : NULL;
	uint8_t b[16] = { 0 };

	if (f == NULL || f->n == 0)
		return 0;
	for (int k = 0; k < f->nlens; k++) {
		const struct entry *e;

		addr_mask_bytes(a->b, f->lens[k], b);
		e = probe(f, b, f->lens[k]);
		if (e->used)
			return !e->negated;
	}
	return 0;
}

static int
cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void
sort_entries(struct fam *f)
{
	free(f->sorted);
	f->sorted = xmalloc((f->n + 1) * sizeof(*f->sorted));
	f->nsorted = 0;
	for (size_t i = 0; i < f->cap; i++)
		if (f->e[i].used && !f->e[i].negated) {
			memset(f->sorted[f->nsorted], 0, 16);
			memcpy(f->sorted[f->nsorted++], f->e[i].b, (size_t)f->bytes);
		}
	qsort(f->sorted, f->nsorted, sizeof(*f->sorted), cmp16);
	f->sorted_ok = 1;
}

/*
 * An entry shares an address with a/plen if it holds it (an entry of a
 * length up to plen: one probe per length, as table_contains) or lies
 * inside it (its first address is in a/plen's range: one binary search
 * over the sorted first addresses). So a feed of a million prefixes is
 * checked against a big trusted table in O(lengths + log n) each.
 */
int
table_overlaps(const struct cidr_table *t, const struct addr *a, int plen)
{
	struct fam *f = (struct fam *)(a->family == 4 ? &t->f4 : a->family == 6 ? &t->f6 : NULL);
	uint8_t lo[16] = { 0 }, hi[16];
	size_t l, r;

	if (f == NULL || f->n == 0 || plen < 0 || plen > f->bytes * 8)
		return 0;
	for (int k = 0; k < f->nlens; k++) {
		const struct entry *e;

		if (f->lens[k] > plen)
			continue;
		addr_mask_bytes(a->b, f->lens[k], lo);
		e = probe(f, lo, f->lens[k]);
		if (e->used && !e->negated)
			return 1;
	}
	if (!f->sorted_ok)
		sort_entries(f);	/* (the cache of a table only read: see struct fam) */
	memset(lo, 0, sizeof(lo));
	addr_mask_bytes(a->b, plen, lo);
	memcpy(hi, lo, sizeof(hi));
	for (int bit = plen; bit < f->bytes * 8; bit++)
		hi[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	for (l = 0, r = f->nsorted; l < r;) {	/* the first entry at or after lo */
		size_t m = l + (r - l) / 2;

		if (memcmp(f->sorted[m], lo, 16) < 0)
			l = m + 1;
		else
			r = m;
	}
	return l < f->nsorted && memcmp(f->sorted[l], hi, 16) <= 0;
}

int
table_parse_entry(const char *s, size_t n, struct addr *a, int *plen, int *negated,
    char *err, size_t errlen)
{
	const char *slash;
	size_t alen;

	*negated = 0;
	if (n > 0 && s[0] == '!') {
		*negated = 1;
		s++;
		n--;
	}
	slash = memchr(s, '/', n);
	alen = slash ? (size_t)(slash - s) : n;
	if (!addr_parse(s, alen, a)) {
		snprintf(err, errlen, "'%.*s' is not an IPv4 or IPv6 address", (int)(alen > 64 ? 64 : alen), s);
		return 0;
	}
	if (slash == NULL) {
		*plen = a->family == 4 ? 32 : 128;
		return 1;
	}
	const char *p = slash + 1, *end = s + n;
	int v = 0, max = a->family == 4 ? 32 : 128;

	if (p == end) {
		snprintf(err, errlen, "missing prefix length after '/'");
		return 0;
	}
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' || (v = v * 10 + (*p - '0')) > max) {
			snprintf(err, errlen, "prefix length must be 0..%d for %s", max,
			    a->family == 4 ? "IPv4" : "IPv6");
			return 0;
		}
	}
	*plen = v;
	return 1;
}

int
table_parse_prefix(const char *w, struct addr *a, int *plen)
{
	char err[160];
	int neg;

	if (!table_parse_entry(w, strlen(w), a, plen, &neg, err, sizeof(err)) || neg)
		return 0;
	addr_mask(a, *plen);
	return 1;
}

long
table_load_file(struct cidr_table *t, const char *path, table_bad_line_fn bad, void *arg, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, msg[160];
	size_t cap = 0;
	ssize_t len;
	long added = 0, lineno = 0, nbad = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *p = line, *end = line + len;
		char *hash = memchr(line, '#', (size_t)len);

		lineno++;
		if (hash != NULL)
			end = hash;
		while (p < end) {
			char *q;
			struct addr a;
			int plen, neg;

			while (p < end && (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n' || *p == '\r'))
				p++;
			for (q = p; q < end && *q != ' ' && *q != '\t' && *q != ',' && *q != '\n' && *q != '\r'; q++)
				;
			if (q == p)
				break;
			if (!table_parse_entry(p, (size_t)(q - p), &a, &plen, &neg, msg, sizeof(msg))) {
				/* Every bad entry is said (the first in err), then the file is refused. */
				if (nbad++ == 0)
					snprintf(err, errlen, "%s:%ld: %s", path, lineno, msg);
				if (bad != NULL)
					bad(arg, lineno, msg);
			} else
				added += table_add(t, &a, plen, neg);
			p = q;
		}
	}
	free(line);
	fclose(fp);
	return nbad > 0 ? -1 : added;
}
