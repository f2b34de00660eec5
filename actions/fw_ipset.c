/*
 * fw_ipset.c - ipset sets (hash:net, with timeouts) and the iptables /
 * ip6tables rules that drop what they hold.
 *
 * Two sets, mxguard4 and mxguard6; one rule each at the top of INPUT,
 * added only if missing, so restarts are idempotent. A batch is one
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
	const char *set, *family, *iptables;
} fams[2] = {
	{ "mxguard4", "inet", "iptables" },
	{ "mxguard6", "inet6", "ip6tables" },
};

static int
rule(const char *iptables, const char *op, const char *set)
{
	char *argv[] = { (char *)iptables, "-w", (char *)op, "INPUT", "-m", "set", "--match-set", (char *)set, "src",
		"-j", "DROP", NULL };

	return fw_run(argv);
}

static int
ipset_init(const char *arg, void **state)
{
	(void)arg;
	*state = NULL;
	for (int i = 0; i < 2; i++) {
		char *create[] = { "ipset", "create", (char *)fams[i].set, "hash:net", "family", (char *)fams[i].family,
			"timeout", "0", "maxelem", "2097152", "-exist", NULL };
		char *check[] = { (char *)fams[i].iptables, "-w", "-C", "INPUT", "-m", "set", "--match-set",
			(char *)fams[i].set, "src", "-j", "DROP", NULL };

		if (fw_run(create) < 0)
			return -1;
		/* -C fails when the rule is missing: the normal first start. */
		if (fw_try(check) < 0 && rule(fams[i].iptables, "-I", fams[i].set) < 0)
			return -1;
	}
	return 0;
}

static int
ipset_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	char *argv[] = { "ipset", "restore", "-exist", NULL };
	char *buf = xmalloc((size_t)(nblock + nrelease) * 96 + 1);
	size_t n = 0;
	int rc;

	(void)state;
	for (int i = 0; i < nrelease; i++) {
		char t[ADDR_STRLEN + 5];

		fw_entry_text(&release[i], t);
		n += (size_t)sprintf(buf + n, "del %s %s\n", fams[release[i].addr.family == 6].set, t);
	}
	for (int i = 0; i < nblock; i++) {
		char t[ADDR_STRLEN + 5];
		/* ipset's timeout is at most 2147483 s; 0 would mean "forever" */
		long long secs = block[i].seconds > 2147483 ? 2147483 : block[i].seconds < 1 ? 1 : block[i].seconds;

		fw_entry_text(&block[i], t);
		n += (size_t)sprintf(buf + n, "add %s %s timeout %lld\n", fams[block[i].addr.family == 6].set, t, secs);
	}
	rc = n > 0 ? fw_run_input(argv, buf, n) : 0;
	free(buf);
	return rc;
}

static int
ipset_flush(void *state)
{
	int rc = 0;

	(void)state;
	for (int i = 0; i < 2; i++) {
		char *argv[] = { "ipset", "flush", (char *)fams[i].set, NULL };

		if (fw_run(argv) < 0)
			rc = -1;
	}
	return rc;
}

static void
ipset_fini(void *state, int remove)
{
	(void)state;
	if (!remove)
		return;
	for (int i = 0; i < 2; i++) {
		char *destroy[] = { "ipset", "destroy", (char *)fams[i].set, NULL };

		rule(fams[i].iptables, "-D", fams[i].set);
		fw_run(destroy);
	}
}

const struct fw_backend fw_ipset = {
	.name = "ipset",
	.self_expiring = 1,
	.init = ipset_init,
	.apply = ipset_apply,
	.flush = ipset_flush,
	.fini = ipset_fini,
};
