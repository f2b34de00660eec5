/*
 * fuzz_cluster.c - libFuzzer target: arbitrary bytes as cluster messages
 * (cluster/cluster.c).
 *
 * The stream in Redis is written by every node: one compromised node, or
 * anyone who can write to Redis, chooses every field of every entry the
 * others read. Each input is tried two ways:
 *
 *  - as an outbox text, through cluster_msg_unpack(); one that is accepted
 *    is packed again and unpacked again, and must come back the same (else
 *    abort(): the outbox would publish something else than was decided);
 *  - as a stream entry, split into fields on '\n' (name, value, name,
 *    value...; a value may hold any other byte, NUL included), through
 *    cluster_msg_from_fields().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cluster/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS_MAX 64

static int
same(const struct cluster_msg *a, const struct cluster_msg *b)
{
	if (a->op != b->op || strcmp(a->key, b->key) != 0)
		return 0;
	if (a->op == CL_RELEASE)
		return 1;	/* a release is a key alone */
	return a->kind == b->kind && strcmp(a->rule, b->rule) == 0 && strcmp(a->action, b->action) == 0 &&
	    a->ts == b->ts && a->until == b->until && a->value == b->value && a->level == b->level;
}

static void
terminated(const struct cluster_msg *m)
{
	if (memchr(m->node, '\0', sizeof(m->node)) == NULL || memchr(m->rule, '\0', sizeof(m->rule)) == NULL ||
	    memchr(m->key, '\0', sizeof(m->key)) == NULL || memchr(m->action, '\0', sizeof(m->action)) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster_msg m, m2;
	const char *f[FIELDS_MAX];
	size_t fl[FIELDS_MAX];
	char buf[1024], why[128];
	const char *p = (const char *)data, *end = p + size;
	int n = 0;

	memset(&m, 0, sizeof(m));
	if (cluster_msg_unpack(p, size, &m) == 0) {
		size_t k;

		terminated(&m);
		if ((k = cluster_msg_pack(&m, buf, sizeof(buf))) == 0)
			abort();	/* an accepted message that cannot be kept */
		memset(&m2, 0, sizeof(m2));
		if (cluster_msg_unpack(buf, k, &m2) != 0 || !same(&m, &m2)) {
			fprintf(stderr, "round trip: '%.*s' packed as '%.*s'\n", (int)(size > 600 ? 600 : size), p,
			    (int)k, buf);
			abort();
		}
	}

	/* Fields: split on '\n'; the last one runs to the end. */
	while (n < FIELDS_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		f[n] = p;
		fl[n] = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		n++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	why[0] = '\0';
	if (cluster_msg_from_fields(n, f, fl, &m, why, sizeof(why)) == 0)
		terminated(&m);
	else if (why[0] == '\0')
		abort();	/* a refused entry must say why */
	return 0;
}
