/*
 * fw_ipset.c - ipset sets (hash:net, with timeouts) and the iptables /
 * ip6tables rules that drop what they hold.
 *
 * Two sets, mxguard4 and mxguard6 (NAME4, NAME6 with set=NAME; ipsets.c);
 * one rule each at the top of INPUT (and FORWARD with the "forward"
 * option), added with the system's iptables commands only if missing, so
 * restarts are idempotent. A batch is one `ipset restore -exist` per pair
 * of sets; the kernel expires entries by itself. Blocks of some ports only
 * have sets and rules of their own (struct scope), and so have caps on a
 * client's open connections (struct cap): ipset blocks and caps, it does
 * not limit rates or tarpit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "fw.h"
#include "ipsets.h"

static const char *const iptables[2] = { "iptables", "ip6tables" };

/*
 * The clients blocked on some ports only ('ports'): a pair of sets per list
 * of ports (ipsets.h: the same name in every run, so its rule is the same,
 * found again by -C), and a rule per family that drops what they send to
 * those ports. Made on first use.
 */
/*
 * The clients capped at N connections open at once ('limit N connections'):
 * a pair of sets per N, and a rule per family that refuses (TCP reset) a
 * new connection from one of them that has N open already (connlimit, per
 * address). Made on first use.
 */
struct cap {
	uint32_t n;
	struct ipsets sets;
};

struct ipset {
	struct fw_opts opt;
	struct ipsets sets;
	struct ipsets_scope *scopes;	/* the lists of ports so far (their sets and rules made) */
	int nscopes;
	struct cap *caps;
	int ncaps;
};

/*
 * iptables -w OP CHAIN [-p tcp -m multiport --dports PORTS] -m set --match-set SET src -j DROP,
 * or for a cap of N (dports NULL; --syn unless syn is 0, the form before 2026-12-08):
 * iptables -w OP CHAIN -p tcp --syn -m state --state NEW -m set --match-set SET src
 *     -m connlimit --connlimit-above N --connlimit-mask 32|128 --connlimit-saddr -j REJECT --reject-with tcp-reset
 */
static int
scoped_rule(int fam, const char *op, const char *chain, const char *set, const char *dports, uint32_t cap, int syn,
    int quiet)
{
	char *argv[40], above[16];
	int k = 0;

	argv[k++] = (char *)iptables[fam];
	argv[k++] = "-w";
	argv[k++] = (char *)op;
	argv[k++] = (char *)chain;
	if (dports != NULL || cap > 0) {
		argv[k++] = "-p";
		argv[k++] = "tcp";
	}
	if (dports != NULL) {
		argv[k++] = "-m";
		argv[k++] = "multiport";
		argv[k++] = "--dports";
		argv[k++] = (char *)dports;
	}
	if (cap > 0 && syn)
		/* SYNs only: conntrack takes a packet it has no entry for as new (fw_iptables.c, add_syn_only) */
		argv[k++] = "--syn";
	if (cap > 0) {
		argv[k++] = "-m";
		argv[k++] = "state";
		argv[k++] = "--state";
		argv[k++] = "NEW";
	}
	argv[k++] = "-m";
	argv[k++] = "set";
	argv[k++] = "--match-set";
	argv[k++] = (char *)set;
	argv[k++] = "src";
	if (cap > 0) {
		snprintf(above, sizeof(above), "%u", cap);
		argv[k++] = "-m";
		argv[k++] = "connlimit";
		argv[k++] = "--connlimit-above";
		argv[k++] = above;
		argv[k++] = "--connlimit-mask";
		argv[k++] = fam == 0 ? "32" : "128";
		argv[k++] = "--connlimit-saddr";
		argv[k++] = "-j";
		argv[k++] = "REJECT";
		argv[k++] = "--reject-with";
		argv[k++] = "tcp-reset";
	} else {
		argv[k++] = "-j";
		argv[k++] = "DROP";
	}
	argv[k] = NULL;
	return quiet ? fw_try(argv) : fw_run(argv);
}

static int
rule(int fam, const char *op, const char *chain, const char *set, int quiet)
{
	return scoped_rule(fam, op, chain, set, NULL, 0, 0, quiet);
}

/* The rules of a scope or cap's sets, in each family's INPUT (and FORWARD): added if missing. */
static int
extra_rules(const struct ipset *s, const struct ipsets *sets, const char *dports, uint32_t cap)
{
	for (int i = 0; i < 2; i++)
		for (int fwd = 0; fwd <= s->opt.forward; fwd++) {
			const char *chain = fwd ? "FORWARD" : "INPUT";

			if (scoped_rule(i, "-C", chain, sets->name[i], dports, cap, 1, 1) < 0 &&
			    scoped_rule(i, "-I", chain, sets->name[i], dports, cap, 1, 0) < 0)
				return -1;
			/* a cap's rule as versions before 2026-12-08 wrote it (without --syn): replaced */
			while (cap > 0 && scoped_rule(i, "-D", chain, sets->name[i], dports, cap, 0, 1) == 0)
				;
		}
	return 0;
}

/* The scope of a block's ports: made (sets and rules) if new; NULL if it could not be. */
static const struct ipsets_scope *
scope_of(struct ipset *s, const struct fw_entry *e)
{
	struct ipsets_scope *sc;
	char dports[FW_PORTS_MAX * 6];	/* "25,465,587" */
	size_t k = 0;

	for (int i = 0; i < s->nscopes; i++)
		if (fw_entry_ports_are(e, s->scopes[i].port, s->scopes[i].n))
			return &s->scopes[i];
	s->scopes = xrealloc(s->scopes, (size_t)(s->nscopes + 1) * sizeof(*s->scopes));
	sc = &s->scopes[s->nscopes];
	ipsets_scope_init(sc, s->opt.name, e);
	for (int i = 0; i < sc->n; i++)
		k += (size_t)snprintf(dports + k, sizeof(dports) - k, "%s%u", i ? "," : "", sc->port[i]);
	if (ipsets_create(&sc->sets, 0) < 0 || extra_rules(s, &sc->sets, dports, 0) < 0)
		return NULL;
	s->nscopes++;
	return sc;
}

/* The sets of a cap: made (sets and rules) if new; NULL if they could not be. */
static struct cap *
cap_of(struct ipset *s, uint32_t n)
{
	struct cap *c;

	for (int i = 0; i < s->ncaps; i++)
		if (s->caps[i].n == n)
			return &s->caps[i];
	s->caps = xrealloc(s->caps, (size_t)(s->ncaps + 1) * sizeof(*s->caps));
	c = &s->caps[s->ncaps];
	c->n = n;
	ipsets_cap_name(&c->sets, s->opt.name, n);
	if (ipsets_create(&c->sets, 0) < 0 || extra_rules(s, &c->sets, NULL, n) < 0)
		return NULL;
	s->ncaps++;
	return c;
}

/*
 * --remove-on-exit: every rule of a scope or cap, this run's and those an
 * earlier run left (a list of ports or a cap no longer configured), as
 * iptables -S prints them, deleted as they were added; then their sets.
 */
static void
remove_extras(const struct ipset *s)
{
	for (int i = 0; i < 2; i++)
		for (int fwd = 0; fwd <= 1; fwd++) {
			char *list[] = { (char *)iptables[i], "-w", "-S", fwd ? "FORWARD" : "INPUT", NULL }, *out = NULL, *save;

			if (fw_run_output(list, &out) < 0 || out == NULL) {
				free(out);
				continue;
			}
			for (char *line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
				char *argv[40], *w, *ws, *set = strstr(line, "--match-set ");
				char copy[512], name[64] = "";
				int k = 0;

				if (set == NULL || strncmp(line, "-A ", 3) != 0 || sscanf(set + 12, "%63s", name) != 1 ||
				    !ipsets_is_extra(s->opt.name, name) || strlen(line) >= sizeof(copy))
					continue;
				snprintf(copy, sizeof(copy), "%s", line);
				argv[k++] = (char *)iptables[i];
				argv[k++] = "-w";
				for (w = strtok_r(copy, " ", &ws); w != NULL && k < 39; w = strtok_r(NULL, " ", &ws))
					argv[k++] = strcmp(w, "-A") == 0 ? "-D" : w;
				argv[k] = NULL;
				fw_run(argv);
			}
			free(out);
		}
	ipsets_extra_each(s->opt.name, 1);
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
			if (rule(i, "-C", chain, s->sets.name[i], 1) < 0 && rule(i, "-I", chain, s->sets.name[i], 0) < 0)
				goto fail;
		}
	/* What an earlier run left in its scope and cap sets goes: the start puts back exactly what is in force. */
	ipsets_extra_each(s->opt.name, 0);
	*state = s;
	return 0;
fail:
	free(s);
	return -1;
}

/* The caps among a (blocks or releases) that go to the sets of cap c (a release of every scope: to all). */
static int
pick_cap(const struct fw_entry *a, int n, const struct cap *c, int releases, struct fw_entry *out)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (a[i].kind == FW_LIMIT && (a[i].limit_n == c->n || (releases && a[i].every_scope)))
			out[k++] = a[i];
	return k;
}

static int
ipset_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct ipset *s = state;
	struct fw_entry *b = xmalloc(((size_t)nblock + 1) * sizeof(*b)), *r = xmalloc(((size_t)nrelease + 1) * sizeof(*r));
	int rc = 0, nb, nr;

	/* the scopes and caps of the new entries first (made now if new) */
	for (int i = 0; i < nblock; i++)
		if ((block[i].kind == FW_BLOCK && block[i].nports > 0 && scope_of(s, &block[i]) == NULL) ||
		    (block[i].kind == FW_LIMIT && cap_of(s, block[i].limit_n) == NULL))
			rc = -1;
	if (ipsets_apply_scoped(&s->sets, s->scopes, s->nscopes, block, nblock, release, nrelease) < 0)
		rc = -1;
	for (int i = 0; i < s->ncaps; i++) {
		nb = pick_cap(block, nblock, &s->caps[i], 0, b);
		nr = pick_cap(release, nrelease, &s->caps[i], 1, r);
		if ((nb > 0 || nr > 0) && ipsets_apply(&s->caps[i].sets, b, nb, r, nr) < 0)
			rc = -1;
	}
	free(b);
	free(r);
	return rc;
}

static int
ipset_flush(void *state)
{
	struct ipset *s = state;
	int rc = ipsets_flush(&s->sets);

	if (ipsets_extra_each(s->opt.name, 0) < 0)
		rc = -1;
	return rc;
}

static void
ipset_fini(void *state, int remove)
{
	struct ipset *s = state;

	for (int i = 0; remove && i < 2; i++)
		for (int fwd = 0; fwd <= 1; fwd++)
			while (rule(i, "-D", fwd ? "FORWARD" : "INPUT", s->sets.name[i], 1) == 0)
				;
	if (remove) {
		ipsets_destroy(&s->sets);
		remove_extras(s);
	}
	free(s->scopes);
	free(s->caps);
	free(s);
}

const struct fw_backend fw_ipset = {
	.name = "ipset",
	.self_expiring = 1,
	.ports = 1,
	.conns = 1,
	.name_key = "set",
	.options = "forward",
	.init = ipset_init,
	.apply = ipset_apply,
	.flush = ipset_flush,
	.fini = ipset_fini,
};
