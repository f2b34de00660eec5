/*
 * fw_ipset.c - ipset sets (hash:net, with timeouts) and the iptables /
 * ip6tables rules that drop what they hold.
 *
 * Two sets, mxguard4 and mxguard6 (NAME4, NAME6 with set=NAME); one rule
 * each at the top of INPUT (and FORWARD with the "forward" option), added
 * only if missing, so restarts are idempotent. A batch is one
 * `ipset restore -exist` fed on its standard input; the kernel expires
 * entries by itself. No shell; every address is mxguard's own text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "fw.h"

static const struct {
	const char *suffix, *family, *iptables;
} fams[2] = {
	{ "4", "inet", "iptables" },
	{ "6", "inet6", "ip6tables" },
};

struct ipset {
	struct fw_opts opt;
	char set[2][32];	/* NAME4, NAME6 (a name has at most 28 bytes) */
};

/* iptables -w OP CHAIN -m set --match-set SET src -j DROP */
static int
rule(const char *iptables, const char *op, const char *chain, const char *set, int quiet)
{
	char *argv[] = { (char *)iptables, "-w", (char *)op, (char *)chain, "-m", "set", "--match-set", (char *)set,
		"src", "-j", "DROP", NULL };

	return quiet ? fw_try(argv) : fw_run(argv);
}

static int
ipset_init(const char *arg, const struct fw_opts *o, void **state)
{
	struct ipset *s = xcalloc(1, sizeof(*s));

	(void)arg;
	s->opt = *o;
	for (int i = 0; i < 2; i++) {
		char *create[] = { "ipset", "create", s->set[i], "hash:net", "family", (char *)fams[i].family,
			"timeout", "0", "maxelem", "2097152", "-exist", NULL };
		size_t n = strlen(s->opt.name);

		memcpy(s->set[i], s->opt.name, n);
		strcpy(s->set[i] + n, fams[i].suffix);
		if (fw_run(create) < 0)
			goto fail;
		/* -C fails when the rule is missing: the normal first start. */
		for (int fwd = 0; fwd <= s->opt.forward; fwd++) {
			const char *chain = fwd ? "FORWARD" : "INPUT";

			if (rule(fams[i].iptables, "-C", chain, s->set[i], 1) < 0 &&
			    rule(fams[i].iptables, "-I", chain, s->set[i], 0) < 0)
				goto fail;
		}
	}
	*state = s;
	return 0;
fail:
	free(s);
	return -1;
}

static int
ipset_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct ipset *s = state;
	char *argv[] = { "ipset", "restore", "-exist", NULL };
	char *buf = xmalloc((size_t)(nblock + nrelease) * 96 + 1);
	size_t n = 0;
	int rc;

	for (int i = 0; i < nrelease; i++) {
		char t[ADDR_STRLEN + 5];

		fw_entry_text(&release[i], t);
		n += (size_t)sprintf(buf + n, "del %s %s\n", s->set[release[i].addr.family == 6], t);
	}
	for (int i = 0; i < nblock; i++) {
		char t[ADDR_STRLEN + 5];
		/* ipset's timeout is at most 2147483 s; 0 would mean "forever" */
		long long secs = block[i].seconds > 2147483 ? 2147483 : block[i].seconds < 1 ? 1 : block[i].seconds;

		fw_entry_text(&block[i], t);
		n += (size_t)sprintf(buf + n, "add %s %s timeout %lld\n", s->set[block[i].addr.family == 6], t, secs);
	}
	rc = n > 0 ? fw_run_input(argv, buf, n) : 0;
	free(buf);
	return rc;
}

static int
ipset_flush(void *state)
{
	struct ipset *s = state;
	int rc = 0;

	for (int i = 0; i < 2; i++) {
		char *argv[] = { "ipset", "flush", s->set[i], NULL };

		if (fw_run(argv) < 0)
			rc = -1;
	}
	return rc;
}

static void
ipset_fini(void *state, int remove)
{
	struct ipset *s = state;

	for (int i = 0; remove && i < 2; i++) {
		char *destroy[] = { "ipset", "destroy", s->set[i], NULL };

		for (int fwd = 0; fwd <= 1; fwd++)
			while (rule(fams[i].iptables, "-D", fwd ? "FORWARD" : "INPUT", s->set[i], 1) == 0)
				;
		fw_run(destroy);
	}
	free(s);
}

const struct fw_backend fw_ipset = {
	.name = "ipset",
	.self_expiring = 1,
	.name_key = "set",
	.options = "forward",
	.init = ipset_init,
	.apply = ipset_apply,
	.flush = ipset_flush,
	.fini = ipset_fini,
};
