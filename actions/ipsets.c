/* ipsets.c - see ipsets.h. No shell; every address is mxguard's own text. */
#include "ipsets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"

void
ipsets_name(struct ipsets *s, const char *base)
{
	size_t n = strlen(base);

	if (n > 28)
		n = 28;
	for (int i = 0; i < 2; i++) {
		memcpy(s->name[i], base, n);
		strcpy(s->name[i] + n, i == 0 ? "4" : "6");
	}
}

int
ipsets_create(const struct ipsets *s, int quiet)
{
	for (int i = 0; i < 2; i++) {
		char *argv[] = { "ipset", "create", (char *)s->name[i], "hash:net", "family", i == 0 ? "inet" : "inet6",
			"timeout", "0", "maxelem", "2097152", "-exist", NULL };

		/* maxelem: ipset's default (65,536) would silently cap a large ban list. */
		if ((quiet ? fw_try(argv) : fw_run(argv)) < 0)
			return -1;
	}
	return 0;
}

int
ipsets_apply(const struct ipsets *s, const struct fw_entry *block, int nblock, const struct fw_entry *release,
    int nrelease)
{
	char *argv[] = { "ipset", "restore", "-exist", NULL };
	char *buf = xmalloc((size_t)(nblock + nrelease) * 96 + 1);
	size_t n = 0;
	int rc;

	for (int i = 0; i < nrelease; i++) {
		char t[ADDR_STRLEN + 5];

		fw_entry_text(&release[i], t);
		n += (size_t)sprintf(buf + n, "del %s %s\n", s->name[release[i].addr.family == 6], t);
	}
	for (int i = 0; i < nblock; i++) {
		char t[ADDR_STRLEN + 5];
		/* ipset's timeout is at most 2147483 s; 0 means "forever": a block until released (seconds 0) */
		long long secs = block[i].seconds > 2147483 ? 2147483 : block[i].seconds < 0 ? 1 : block[i].seconds;

		fw_entry_text(&block[i], t);
		n += (size_t)sprintf(buf + n, "add %s %s timeout %lld\n", s->name[block[i].addr.family == 6], t, secs);
	}
	rc = n > 0 ? fw_run_input(argv, buf, n) : 0;
	free(buf);
	return rc;
}

int
ipsets_flush(const struct ipsets *s)
{
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		char *argv[] = { "ipset", "flush", (char *)s->name[i], NULL };

		if (fw_run(argv) < 0)
			rc = -1;
	}
	return rc;
}

void
ipsets_destroy(const struct ipsets *s)
{
	for (int i = 0; i < 2; i++) {
		char *argv[] = { "ipset", "destroy", (char *)s->name[i], NULL };

		fw_run(argv);
	}
}

void
ipsets_scope_init(struct ipsets_scope *sc, const char *base, const struct fw_entry *e)
{
	char name[32];

	memset(sc, 0, sizeof(*sc));
	memcpy(sc->port, e->ports, e->nports * sizeof(e->ports[0]));
	sc->n = e->nports;
	snprintf(name, sizeof(name), "%.19sp%08x", base, fw_ports_hash(sc->port, sc->n));
	ipsets_name(&sc->sets, name);
}

void
ipsets_cap_name(struct ipsets *s, const char *base, uint32_t cap)
{
	char name[32];

	snprintf(name, sizeof(name), "%.19sc%u", base, cap);
	ipsets_name(s, name);
}

int
ipsets_is_extra(const char *base, const char *set)
{
	char prefix[32];
	size_t pl, n = strlen(set);

	snprintf(prefix, sizeof(prefix), "%.19s", base);
	pl = strlen(prefix);
	if (strncmp(set, prefix, pl) != 0 || n < pl + 3 || (set[n - 1] != '4' && set[n - 1] != '6'))
		return 0;
	if (set[pl] == 'p' && n == pl + 10)
		return strspn(set + pl + 1, "0123456789abcdef") >= 8;
	if (set[pl] == 'c' && n <= pl + 9)
		return strspn(set + pl + 1, "0123456789") == n - pl - 1;
	return 0;
}

int
ipsets_extra_each(const char *base, int destroy)
{
	char *argv[] = { "ipset", "list", "-n", NULL }, *out = NULL, *save;
	int rc = 0;

	if (fw_run_output(argv, &out) < 0 || out == NULL) {
		free(out);
		return -1;
	}
	for (char *line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (ipsets_is_extra(base, line)) {
			char *op[] = { "ipset", destroy ? "destroy" : "flush", line, NULL };

			if (fw_run(op) < 0)
				rc = -1;
		}
	free(out);
	return rc;
}

int
ipsets_pick(const struct fw_entry *a, int n, const uint16_t *port, int nports, int releases, struct fw_entry *out)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (a[i].kind == FW_BLOCK && ((releases && a[i].every_scope) || (nports == 0 ? a[i].nports == 0 :
		    fw_entry_ports_are(&a[i], port, nports))))
			out[k++] = a[i];
	return k;
}

int
ipsets_apply_scoped(const struct ipsets *main, const struct ipsets_scope *scopes, int nscopes,
    const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct fw_entry *b = xmalloc(((size_t)nblock + 1) * sizeof(*b)), *r = xmalloc(((size_t)nrelease + 1) * sizeof(*r));
	int rc = 0;

	for (int i = -1; i < nscopes; i++) {
		const uint16_t *port = i < 0 ? NULL : scopes[i].port;
		int n = i < 0 ? 0 : scopes[i].n;
		int nb = ipsets_pick(block, nblock, port, n, 0, b), nr = ipsets_pick(release, nrelease, port, n, 1, r);

		if ((nb > 0 || nr > 0) && ipsets_apply(i < 0 ? main : &scopes[i].sets, b, nb, r, nr) < 0)
			rc = -1;
	}
	free(b);
	free(r);
	return rc;
}
