/*
 * shapes.c - see shapes.h. One open-addressing table of "PROGRAM\tSHAPE"
 * strings and their counts; at SHAPES_MAX distinct ones, further new
 * shapes are only counted (an attacker's random lines cannot make it grow
 * without bound).
 */
#include "shapes.h"

#include <stdlib.h>
#include <string.h>

#include "../common/hash.h"
#include "../common/xalloc.h"
#include "../parsers/shape.h"

#define SHAPES_MAX 65536
#define SHAPE_LEN 160		/* a shape is cut there: the start of a line says its kind */

struct entry {
	char *key;		/* "PROGRAM\tSHAPE" */
	uint64_t count;
};

struct shapes {
	struct hash_key key;	/* the process's secret: shapes are attacker text */
	struct entry *slot;
	size_t cap, n;
	uint64_t overflow;	/* lines of shapes that found no room */
};

struct shapes *
shapes_new(void)
{
	struct shapes *s = xcalloc(1, sizeof(*s));

	s->key = hash_process_key();
	s->cap = 1024;
	s->slot = xcalloc(s->cap, sizeof(*s->slot));
	return s;
}

void
shapes_free(struct shapes *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i].key);
	free(s->slot);
	free(s);
}

/*
 * Keyed: the shapes come from lines a client wrote, and with a public hash
 * a crafted log could put every shape in one chain.
 */
static struct entry *
find(const struct hash_key *hk, struct entry *slot, size_t cap, const char *key)
{
	size_t i = hash_bytes(hk, key, strlen(key)) & (cap - 1);

	while (slot[i].key != NULL && strcmp(slot[i].key, key) != 0)
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static void
grow(struct shapes *s)
{
	size_t cap = s->cap * 2;
	struct entry *slot = xcalloc(cap, sizeof(*slot));

	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].key != NULL)
			*find(&s->key, slot, cap, s->slot[i].key) = s->slot[i];
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
}

void
shapes_add(struct shapes *s, const char *mta, struct span tag, struct span body)
{
	char key[64 + 1 + SHAPE_LEN];
	size_t k;
	struct entry *e;

	/* (the program tag without digits: "postfix/smtpd", not each pid's; none: the MTA's name) */
	k = 0;
	if (tag.n == 0)
		tag = (struct span){ mta, strlen(mta) };
	for (size_t i = 0; i < tag.n && k < 64; i++)
		key[k++] = tag.p[i] > 0x20 && tag.p[i] < 0x7f ? tag.p[i] : '?';
	key[k++] = '\t';
	line_shape(body.p, body.n, key + k, sizeof(key) - k);
	e = find(&s->key, s->slot, s->cap, key);
	if (e->key == NULL) {
		if (s->n >= SHAPES_MAX) {
			s->overflow++;
			return;
		}
		e->key = xstrdup(key);
		s->n++;
		if (s->n * 2 > s->cap) {
			e->count++;
			grow(s);
			return;
		}
	}
	e->count++;
}

static int
by_program_then_count(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
	size_t px = strcspn(x->key, "\t"), py = strcspn(y->key, "\t");
	int c = strncmp(x->key, y->key, px < py ? px : py);

	if (c != 0 || px != py)
		return c != 0 ? c : px < py ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

void
shapes_print(const struct shapes *s, FILE *f, int top)
{
	const struct entry **all = xmalloc((s->n + 1) * sizeof(*all));
	size_t n = 0;

	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].key != NULL)
			all[n++] = &s->slot[i];
	qsort(all, n, sizeof(*all), by_program_then_count);
	fprintf(f, "unmatched_shapes: %zu\n", n);
	for (size_t i = 0, shown = 0; i < n; i++) {
		size_t pl = strcspn(all[i]->key, "\t");

		if (i > 0 && (pl != strcspn(all[i - 1]->key, "\t") || strncmp(all[i]->key, all[i - 1]->key, pl) != 0))
			shown = 0;
		if ((int)shown++ >= top)
			continue;
		fprintf(f, "  %.*s %llu %s\n", (int)pl, all[i]->key, (unsigned long long)all[i]->count, all[i]->key + pl + 1);
	}
	if (s->overflow > 0)
		fprintf(f, "  (%llu more lines of shapes past the first %d)\n", (unsigned long long)s->overflow, SHAPES_MAX);
	free(all);
}
