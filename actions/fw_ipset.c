/*
 * fw_ipset.c - ipset sets (hash:net, with timeouts) and the iptables /
 * ip6tables rules that drop what they hold.
 *
 * Two sets, mxguard4 and mxguard6 (NAME4, NAME6 with set=NAME; ipsets.c);
 * one rule each at the top of INPUT (and FORWARD with the "forward"
 * option), added with the system's iptables commands only if missing, so
 * restarts are idempotent. A batch is one `ipset restore -exist`; the
 * kernel expires entries by itself.
 */
#include <stdlib.h>

#include "../common/xalloc.h"
#include "fw.h"
#include "ipsets.h"

static const char *const iptables[2] = { "iptables", "ip6tables" };

struct ipset {
	struct fw_opts opt;
	struct ipsets sets;
};

/* iptables -w OP CHAIN -m set --match-set SET src -j DROP */
static int
rule(const char *cmd, const char *op, const char *chain, const char *set, int quiet)
{
	char *argv[] = { (char *)cmd, "-w", (char *)op, (char *)chain, "-m", "set", "--match-set", (char *)set,
		"src", "-j", "DROP", NULL };

	return quiet ? fw_try(argv) : fw_run(argv);
}

static int
ipset_init(const char *arg, const struct fw_opts *o, void **state)
{
	struct ipset *s = xcalloc(1, sizeof(*s));

	(void)arg;
	s->opt = *o;
	ipsets_name(&s->sets, o->name);
	if (ipsets_create(&s->sets, 0) < 0)
		goto fail;
	for (int i = 0; i < 2; i++)
		for (int fwd = 0; fwd <= s->opt.forward; fwd++) {
			const char *chain = fwd ? "FORWARD" : "INPUT";

			/* -C fails when the rule is missing: the normal first start. */
			if (rule(iptables[i], "-C", chain, s->sets.name[i], 1) < 0 &&
			    rule(iptables[i], "-I", chain, s->sets.name[i], 0) < 0)
				goto fail;
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

	return ipsets_apply(&s->sets, block, nblock, release, nrelease);
}

static int
ipset_flush(void *state)
{
	struct ipset *s = state;

	return ipsets_flush(&s->sets);
}

static void
ipset_fini(void *state, int remove)
{
	struct ipset *s = state;

	for (int i = 0; remove && i < 2; i++)
		for (int fwd = 0; fwd <= 1; fwd++)
			while (rule(iptables[i], "-D", fwd ? "FORWARD" : "INPUT", s->sets.name[i], 1) == 0)
				;
	if (remove)
		ipsets_destroy(&s->sets);
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
