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
