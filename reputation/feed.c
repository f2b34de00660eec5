/*
 * feed.c - one version of a reputation feed (see feed.h).
 *
 * Loading reads the file whole (a regular file only), parses it
 * (feed_parse.c), settles each entry's scores once — its own, else what
 * the configuration maps its rbldnsd value to, else the feed's defaults,
 * each times the feed's weight — and builds an lpm whose values are entry
 * numbers. A lookup is then one lpm probe and a look at the entry; only an
 * entry that has expired sends it down the chain of less specific ones.
 */
#include "feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/xalloc.h"
#include "lpm.h"

/* A score times the weight, rounded; FEED_SCORE_NONE stays so. */
static int8_t
weigh(int8_t score, double weight)
{
	return score == FEED_SCORE_NONE ? FEED_SCORE_NONE : (int8_t)(score * weight + 0.5);	/* scores are >= 0 */
}

/*
 * An entry's answer packed into the index's tag: risk in 4 bits (15: none),
 * spam and vol in 7 (127: none), then "excluded" and "may expire".
 */
#define TAG_EXCLUDED (1u << 18)
#define TAG_EXPIRES (1u << 19)

static uint32_t
tag_of(const struct feed_item *it)
{
	return (uint32_t)(it->risk < 0 ? 15 : it->risk) | (uint32_t)(it->spam < 0 ? 127 : it->spam) << 4 |
	    (uint32_t)(it->vol < 0 ? 127 : it->vol) << 11 | (it->flags & FEED_EXCLUDED ? TAG_EXCLUDED : 0) |
	    (it->expires != 0 ? TAG_EXPIRES : 0);
}

/* The first score of the list that is given. */
static int8_t
first_given(int8_t a, int8_t b, int8_t c)
{
	return a != FEED_SCORE_NONE ? a : b != FEED_SCORE_NONE ? b : c;
}

static struct feed_stamp
stamp_of(const struct stat *sb)
{
	return (struct feed_stamp){ .dev = sb->st_dev, .ino = sb->st_ino, .size = sb->st_size,
		.mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec };
}

int
feed_stamp(const char *path, struct feed_stamp *st)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return -1;
	*st = stamp_of(&sb);
	return 0;
}

int
feed_stamp_eq(const struct feed_stamp *a, const struct feed_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

struct feed *
feed_load(const struct feed_spec *spec, char *err, size_t errlen)
{
	struct feed_data d = { 0 };
	struct lpm_prefix *pfx;
	struct stat sb;
	struct feed *f;

	/* One way of reading a feed file: its size bound, its check for a file growing while read. */
	if (feed_read_file(spec->path, spec->format, &d, &sb, err, errlen) < 0) {
		feed_data_free(&d);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->spec = spec;
	f->n = d.n;
	f->item = xmalloc((d.n + 1) * sizeof(*f->item));
	pfx = xmalloc((d.n + 1) * sizeof(*pfx));
	for (size_t i = 0; i < d.n; i++) {
		const struct feed_entry *e = &d.e[i];
		const struct feed_value *v = NULL;
		struct feed_item *it = &f->item[i];

		for (int k = 0; k < spec->nvalues && v == NULL && e->value != 0; k++)
			if (spec->values[k].a == e->value)
				v = &spec->values[k];
		it->risk = weigh(first_given(e->risk, v ? v->risk : FEED_SCORE_NONE, spec->risk), spec->weight);
		it->spam = weigh(first_given(e->spam, v ? v->spam : FEED_SCORE_NONE, spec->spam), spec->weight);
		it->vol = weigh(first_given(e->vol, v ? v->vol : FEED_SCORE_NONE, spec->vol), spec->weight);
		it->expires = e->expires;
		it->line = e->line;
		it->flags = e->excluded ? FEED_EXCLUDED : 0;
		pfx[i] = (struct lpm_prefix){ .addr = e->addr, .plen = e->plen, .tag = tag_of(it) };
	}
	feed_data_free(&d);	/* before the index is built: the two need not be in memory at once */
	f->index = lpm_build(pfx, f->n);
	if (spec->preload) {
		/* What the firewall will be given needs the prefixes, and which of them hold an exclusion. */
		for (size_t i = 0; i < f->n; i++)
			if (f->item[i].flags & FEED_EXCLUDED)
				for (uint32_t p = lpm_parent(f->index, (uint32_t)i); p != LPM_NONE; p = lpm_parent(f->index, p))
					f->item[p].flags |= FEED_HOLDS_EXCLUSION;
		f->pfx = pfx;
	} else
		free(pfx);
	f->stamp = stamp_of(&sb);
	return f;
}

void
feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	lpm_free(f->index);
	free(f->pfx);
	free(f->item);
	free(f);
}

int
feed_lookup(const struct feed *f, const struct addr *a, int64_t now, struct feed_hit *h)
{
	uint32_t tag, i = lpm_lookup_tag(f->index, a, &tag);

	if (__builtin_expect(!(tag & TAG_EXPIRES), 1)) {
		/*
		 * The common case without a branch on the answer (hit or miss is
		 * random for random clients, and a mispredicted branch would stop
		 * the next lookup's memory reads): *h is written either way. An
		 * address no prefix covers has tag 0 (lpm.c).
		 */
		h->risk = (tag & 15) == 15 ? FEED_SCORE_NONE : (int8_t)(tag & 15);
		h->spam = ((tag >> 4) & 127) == 127 ? FEED_SCORE_NONE : (int8_t)((tag >> 4) & 127);
		h->vol = ((tag >> 11) & 127) == 127 ? FEED_SCORE_NONE : (int8_t)((tag >> 11) & 127);
		h->entry = i;
		return (i != LPM_NONE) & !(tag & TAG_EXCLUDED);
	}
	/* It may have expired: then the next less specific entry that has not speaks for it. */
	for (; i != LPM_NONE; i = lpm_parent(f->index, i)) {
		const struct feed_item *it = &f->item[i];

		if (it->expires != 0 && it->expires <= now)
			continue;
		if (it->flags & FEED_EXCLUDED)
			return 0;
		*h = (struct feed_hit){ it->risk, it->spam, it->vol, i };
		return 1;
	}
	return 0;
}
