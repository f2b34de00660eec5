/*
 * fw_ipset.c - ipset sets (hash:net, with timeouts) and the iptables /
 * ip6tables rules that drop what they hold.
 *
 * Two sets, mxguard4 and mxguard6 (NAME4, NAME6 with set=NAME; ipsets.c);
 * one rule each at the top of INPUT (and FORWARD with the "forward"
 * option), added with the system's iptables commands only if missing, so
 * restarts are idempotent. A batch is one `ipset restore -exist` per pair
 * of sets; the kernel expires entries by itself. Blocks of some ports only
 * have sets and rules of their own (struct scope).
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
 * of ports, named after a hash of the list (the same name in every run:
 * its rule is the same, found again by -C), and a rule per family that
 * drops what they send to those ports. Made on first use.
 */
struct scope {
	uint16_t port[FW_PORTS_MAX];
	int n;
	struct ipsets sets;
	char dports[FW_PORTS_MAX * 6];	/* "25,465,587" */
};

struct ipset {
	struct fw_opts opt;
	struct ipsets sets;
	struct scope *scopes;
	int nscopes;
};

/* iptables -w OP CHAIN [-p tcp -m multiport --dports PORTS] -m set --match-set SET src -j DROP */
static int
scoped_rule(const char *cmd, const char *op, const char *chain, const char *set, const char *dports, int quiet)
{
	char *argv[20];	/* (4 + 6 + 5 + 2 words, and the NULL) */
	int k = 0;

	argv[k++] = (char *)cmd;
	argv[k++] = "-w";
	argv[k++] = (char *)op;
	argv[k++] = (char *)chain;
	if (dports != NULL) {
		argv[k++] = "-p";
		argv[k++] = "tcp";
		argv[k++] = "-m";
		argv[k++] = "multiport";
		argv[k++] = "--dports";
		argv[k++] = (char *)dports;
	}
	argv[k++] = "-m";
	argv[k++] = "set";
	argv[k++] = "--match-set";
	argv[k++] = (char *)set;
	argv[k++] = "src";
	argv[k++] = "-j";
	argv[k++] = "DROP";
	argv[k] = NULL;
	return quiet ? fw_try(argv) : fw_run(argv);
}

static int
rule(const char *cmd, const char *op, const char *chain, const char *set, int quiet)
{
	return scoped_rule(cmd, op, chain, set, NULL, quiet);
}

/* The sets' base name of a list of ports: BASE "p" and 8 hex digits of its hash (ipsets.h adds 4 or 6). */
static void
scope_base(const char *base, const uint16_t *port, int n, char *out, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a over the ports: a name, not a secret */

	for (int i = 0; i < n; i++) {
		h = (h ^ (port[i] & 0xff)) * 16777619u;
		h = (h ^ (port[i] >> 8)) * 16777619u;
	}
	snprintf(out, len, "%.19sp%08x", base, h);
}

/* The scope of a block's ports: made (sets and rules) if new; NULL if it could not be. */
static struct scope *
scope_of(struct ipset *s, const struct fw_entry *e)
{
	struct scope *sc;
	char base[32];
	size_t k = 0;

	for (int i = 0; i < s->nscopes; i++)
		if (fw_entry_ports_are(e, s->scopes[i].port, s->scopes[i].n))
			return &s->scopes[i];
	s->scopes = xrealloc(s->scopes, (size_t)(s->nscopes + 1) * sizeof(*s->scopes));
	sc = &s->scopes[s->nscopes];
	memset(sc, 0, sizeof(*sc));
	memcpy(sc->port, e->ports, e->nports * sizeof(e->ports[0]));
	sc->n = e->nports;
	for (int i = 0; i < sc->n; i++)
		k += (size_t)snprintf(sc->dports + k, sizeof(sc->dports) - k, "%s%u", i ? "," : "", sc->port[i]);
	scope_base(s->opt.name, sc->port, sc->n, base, sizeof(base));
	ipsets_name(&sc->sets, base);
	if (ipsets_create(&sc->sets, 0) < 0)
		return NULL;
	for (int i = 0; i < 2; i++)
		for (int fwd = 0; fwd <= s->opt.forward; fwd++) {
			const char *chain = fwd ? "FORWARD" : "INPUT";

			if (scoped_rule(iptables[i], "-C", chain, sc->sets.name[i], sc->dports, 1) < 0 &&
			    scoped_rule(iptables[i], "-I", chain, sc->sets.name[i], sc->dports, 0) < 0)
				return NULL;
		}
	s->nscopes++;
	return sc;
}

/* 1 if set is one of the block-of-some-ports sets of this backend (BASEp and 8 hex digits, 4 or 6). */
static int
scope_set_name(const struct ipset *s, const char *set)
{
	char prefix[32];
	size_t pl;

	snprintf(prefix, sizeof(prefix), "%.19sp", s->opt.name);
	pl = strlen(prefix);
	if (strncmp(set, prefix, pl) != 0 || strlen(set) != pl + 9 || (set[pl + 8] != '4' && set[pl + 8] != '6'))
		return 0;
	for (size_t i = pl; i < pl + 8; i++)
		if (strchr("0123456789abcdef", set[i]) == NULL)
			return 0;
	return 1;
}

/*
 * --remove-on-exit: every rule and set of blocks of some ports, this run's
 * and those an earlier run left (a list of ports no longer configured):
 * the rules as iptables -S prints them, deleted as they were added.
 */
static void
remove_scopes(const struct ipset *s)
{
	for (int i = 0; i < 2; i++)
		for (int fwd = 0; fwd <= 1; fwd++) {
			char *list[] = { (char *)iptables[i], "-w", "-S", fwd ? "FORWARD" : "INPUT", NULL }, *out = NULL, *save;

			if (fw_run_output(list, &out) < 0 || out == NULL) {
				free(out);
				continue;
			}
			for (char *line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
				char *argv[24], *w, *ws, *set = strstr(line, "--match-set ");
				char copy[512], name[64] = "";
				int k = 0;

				if (set == NULL || strncmp(line, "-A ", 3) != 0 || sscanf(set + 12, "%63s", name) != 1 ||
				    !scope_set_name(s, name) || strlen(line) >= sizeof(copy))
					continue;
				snprintf(copy, sizeof(copy), "%s", line);
				argv[k++] = (char *)iptables[i];
				argv[k++] = "-w";
				for (w = strtok_r(copy, " ", &ws); w != NULL && k < 23; w = strtok_r(NULL, " ", &ws))
					argv[k++] = strcmp(w, "-A") == 0 ? "-D" : w;
				argv[k] = NULL;
				fw_run(argv);
			}
			free(out);
		}
	{
		char *argv[] = { "ipset", "list", "-n", NULL }, *out = NULL, *save;

		if (fw_run_output(argv, &out) == 0 && out != NULL)
			for (char *line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
				if (scope_set_name(s, line)) {
					char *d[] = { "ipset", "destroy", line, NULL };

					fw_run(d);
				}
		free(out);
	}
}

/*
 * Empty the block-of-some-ports sets an earlier run left (BASEp........4/6):
 * the start puts back exactly what is in force.
 */
static void
flush_old_scopes(const struct ipset *s)
{
	char *argv[] = { "ipset", "list", "-n", NULL }, *out = NULL, *save;

	if (fw_run_output(argv, &out) < 0 || out == NULL) {
		free(out);
		return;
	}
	for (char *line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (scope_set_name(s, line)) {
			char *fl[] = { "ipset", "flush", line, NULL };

			fw_run(fl);
		}
	free(out);
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
	flush_old_scopes(s);
	*state = s;
	return 0;
fail:
	free(s);
	return -1;
}

/* The entries of a (blocks or releases) that go to scope sc (NULL: the sets of every port), into out. */
static int
pick(const struct fw_entry *a, int n, const struct scope *sc, int releases, struct fw_entry *out)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		int mine = sc == NULL ? a[i].nports == 0 || (releases && a[i].every_scope) :
		    (releases && a[i].every_scope) || fw_entry_ports_are(&a[i], sc->port, sc->n);

		if (mine)
			out[k++] = a[i];
	}
	return k;
}

static int
ipset_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct ipset *s = state;
	struct fw_entry *b = xmalloc(((size_t)nblock + 1) * sizeof(*b)), *r = xmalloc(((size_t)nrelease + 1) * sizeof(*r));
	int rc = 0, nb, nr;

	/* the scopes of the new blocks first (made now if new) */
	for (int i = 0; i < nblock; i++)
		if (block[i].nports > 0 && scope_of(s, &block[i]) == NULL)
			rc = -1;
	nb = pick(block, nblock, NULL, 0, b);
	nr = pick(release, nrelease, NULL, 1, r);
	if ((nb > 0 || nr > 0) && ipsets_apply(&s->sets, b, nb, r, nr) < 0)
		rc = -1;
	for (int i = 0; i < s->nscopes; i++) {
		nb = pick(block, nblock, &s->scopes[i], 0, b);
		nr = pick(release, nrelease, &s->scopes[i], 1, r);
		if ((nb > 0 || nr > 0) && ipsets_apply(&s->scopes[i].sets, b, nb, r, nr) < 0)
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

	for (int i = 0; i < s->nscopes; i++)
		if (ipsets_flush(&s->scopes[i].sets) < 0)
			rc = -1;
	return rc;
}

static void
ipset_fini(void *state, int remove)
{
	struct ipset *s = state;

	for (int i = 0; remove && i < 2; i++)
		for (int fwd = 0; fwd <= 1; fwd++)
			while (rule(iptables[i], "-D", fwd ? "FORWARD" : "INPUT", s->sets.name[i], 1) == 0)
				;
	if (remove) {
		ipsets_destroy(&s->sets);
		remove_scopes(s);
	}
	free(s->scopes);
	free(s);
}

const struct fw_backend fw_ipset = {
	.name = "ipset",
	.self_expiring = 1,
	.ports = 1,
	.name_key = "set",
	.options = "forward",
	.init = ipset_init,
	.apply = ipset_apply,
	.flush = ipset_flush,
	.fini = ipset_fini,
};
