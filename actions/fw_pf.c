/*
 * fw_pf.c - OpenBSD/FreeBSD pf, through pfctl and a table of mxguard's own.
 *
 * pf.conf must declare and use the table ("mxguard" unless table=NAME;
 * docs/FIREWALL.md):
 *     table <mxguard> persist
 *     block in quick from <mxguard>
 * and, for blocks of some ports only ('ports'), hook the anchor of the
 * same name, whose rules mxguard writes:
 *     anchor "mxguard"
 * A batch is one `pfctl -t mxguard -T add ...` with every address (and one
 * `-T delete ...`); blocked clients' open states are killed (`pfctl -k`).
 * A block of some ports goes to a table of the anchor per list of ports
 * (NAME_p and 8 hex digits of the list's hash), dropped by one rule each:
 *     block in quick proto tcp from <mxguard_p4421d8f5> to any port { 25 587 }
 * (pfctl cannot kill the states to some ports only: sessions open on those
 * ports before the block end by themselves). A cap on a client's open
 * connections ('limit N connections') is a pass rule's option in pf
 * (max-src-conn), so it is one in the anchor, on the ports of 'set ports'
 * only (enforce.c requires them: a pass rule on every port would let a
 * capped client through what the administrator blocks), with a table per
 * cap and list of ports (NAME_cN_p and the hash):
 *     pass in quick proto tcp from <mxguard_c3_p4421d8f5> to any port { 25 587 } \
 *         flags S/SA keep state (max-src-conn 3)
 * pf tables have no timeouts: the daemon releases entries when they
 * expire. No shell: every argument is an address mxguard printed itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "fw.h"

#define PER_CALL 256		/* addresses per pfctl run */

/* The clients blocked on the same list of ports, or capped at the same N on them: a table of the anchor and its rule. */
struct scope {
	uint16_t port[FW_PORTS_MAX];
	int n;
	uint32_t cap;		/* 0: a block */
	char table[32];
};

struct pf {
	struct fw_opts opt;
	struct scope *scopes;	/* the anchor holds a rule for each (written when one is added) */
	int nscopes;
};

static int
pf_init(const char *arg, const struct fw_opts *o, void **state)
{
	struct pf *s = xcalloc(1, sizeof(*s));

	(void)arg;
	s->opt = *o;
	*state = s;
	return 0;
}

/* pfctl [-a ANCHOR] -t TABLE -T VERB addr... in runs of PER_CALL. */
static int
table_op(const char *anchor, const char *table, const char *verb, const struct fw_entry *e, int n)
{
	char texts[PER_CALL][ADDR_STRLEN + 5];
	char *argv[PER_CALL + 8];
	int rc = 0;

	for (int i = 0; i < n; i += PER_CALL) {
		int k = 0, m = n - i < PER_CALL ? n - i : PER_CALL;

		argv[k++] = "pfctl";
		argv[k++] = "-q";
		if (anchor != NULL) {
			argv[k++] = "-a";
			argv[k++] = (char *)anchor;
		}
		argv[k++] = "-t";
		argv[k++] = (char *)table;
		argv[k++] = "-T";
		argv[k++] = (char *)verb;
		for (int j = 0; j < m; j++) {
			fw_entry_text(&e[i + j], texts[j]);
			argv[k++] = texts[j];
		}
		argv[k] = NULL;
		if (fw_run(argv) < 0)
			rc = -1;
	}
	return rc;
}

/* The anchor's rules: one per scope, loaded in one `pfctl -a NAME -f -` (it replaces the anchor's rules). */
static int
load_anchor(const struct pf *s)
{
	char *argv[] = { "pfctl", "-q", "-a", (char *)s->opt.name, "-f", "-", NULL };
	char *buf = xmalloc((size_t)s->nscopes * 256 + 1);	/* a rule: at most 172 bytes (a 31-byte table, 8 ports, a 7-digit cap) */
	size_t len = 0;
	int rc;

	for (int i = 0; i < s->nscopes; i++) {
		const struct scope *sc = &s->scopes[i];

		len += (size_t)sprintf(buf + len, "%s in quick proto tcp from <%s> to any port {", sc->cap ? "pass" : "block",
		    sc->table);
		for (int k = 0; k < sc->n; k++)
			len += (size_t)sprintf(buf + len, " %u", sc->port[k]);
		if (sc->cap)
			len += (size_t)sprintf(buf + len, " } flags S/SA keep state (max-src-conn %u)\n", sc->cap);
		else
			len += (size_t)sprintf(buf + len, " }\n");
	}
	rc = fw_run_input(argv, buf, len);
	free(buf);
	return rc;
}

/* 1 if the entry goes to (or, released, comes from) this scope's table. */
static int
in_scope(const struct fw_entry *e, const struct scope *sc)
{
	uint32_t cap = e->kind == FW_LIMIT ? e->limit_n : 0;

	return (e->kind == FW_BLOCK || e->kind == FW_LIMIT) && cap == sc->cap && fw_entry_ports_are(e, sc->port, sc->n);
}

/* The scope of a block's ports or a cap's: its table named, and the anchor's rules written again if it is new. */
static const struct scope *
scope_of(struct pf *s, const struct fw_entry *e)
{
	struct scope *sc;
	uint32_t h;

	for (int i = 0; i < s->nscopes; i++)
		if (in_scope(e, &s->scopes[i]))
			return &s->scopes[i];
	s->scopes = xrealloc(s->scopes, (size_t)(s->nscopes + 1) * sizeof(*s->scopes));
	sc = &s->scopes[s->nscopes++];
	memset(sc, 0, sizeof(*sc));
	memcpy(sc->port, e->ports, e->nports * sizeof(e->ports[0]));
	sc->n = e->nports;
	sc->cap = e->kind == FW_LIMIT ? e->limit_n : 0;
	h = fw_ports_hash(sc->port, sc->n);
	if (sc->cap)	/* (a cap has at most 7 digits, `limit` takes 1000000 at most: the name fits in 31 bytes) */
		snprintf(sc->table, sizeof(sc->table), "%.12s_c%u_p%08x", s->opt.name,
		    sc->cap < 10000000 ? sc->cap : 9999999, h);
	else
		snprintf(sc->table, sizeof(sc->table), "%.19s_p%08x", s->opt.name, h);
	if (load_anchor(s) < 0) {
		s->nscopes--;	/* tried again with the batch */
		return NULL;
	}
	return sc;
}

/*
 * The entries of a that belong to a table: the main one (sc NULL: blocks
 * of every port) or a scope's; a release of every scope goes to all those
 * of its kind.
 */
static int
pick(const struct fw_entry *a, int n, const struct scope *sc, int releases, struct fw_entry *out)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		int mine = sc == NULL ? a[i].kind == FW_BLOCK && (a[i].nports == 0 || (releases && a[i].every_scope)) :
		    in_scope(&a[i], sc) || (releases && a[i].every_scope && (a[i].kind == FW_LIMIT) == (sc->cap > 0));

		if (mine)
			out[k++] = a[i];
	}
	return k;
}

static int
pf_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct pf *s = state;
	struct fw_entry *b = xmalloc(((size_t)nblock + 1) * sizeof(*b)), *r = xmalloc(((size_t)nrelease + 1) * sizeof(*r));
	int rc = 0, nb, nr;

	for (int i = 0; i < nblock; i++) {
		if (block[i].kind == FW_LIMIT && block[i].nports == 0) {
			/* (never from enforce.c: a pass rule on every port would open what the administrator blocks) */
			log_warnx("pf: a cap on connections with no ports: not applied");
			continue;
		}
		if ((block[i].nports > 0 || block[i].kind == FW_LIMIT) && scope_of(s, &block[i]) == NULL)
			rc = -1;
	}
	nb = pick(block, nblock, NULL, 0, b);
	nr = pick(release, nrelease, NULL, 1, r);
	if (nr > 0 && table_op(NULL, s->opt.name, "delete", r, nr) < 0)
		rc = -1;
	if (nb > 0 && table_op(NULL, s->opt.name, "add", b, nb) < 0)
		rc = -1;
	else
		/* Cut the connections a client blocked on every port already has. */
		for (int i = 0; i < nb; i++) {
			char t[ADDR_STRLEN + 5];
			char *argv[] = { "pfctl", "-q", "-k", t, NULL };

			fw_entry_text(&b[i], t);
			fw_run(argv);
		}
	for (int i = 0; i < s->nscopes; i++) {
		nb = pick(block, nblock, &s->scopes[i], 0, b);
		nr = pick(release, nrelease, &s->scopes[i], 1, r);
		if (nr > 0 && table_op(s->opt.name, s->scopes[i].table, "delete", r, nr) < 0)
			rc = -1;
		if (nb > 0 && table_op(s->opt.name, s->scopes[i].table, "add", b, nb) < 0)
			rc = -1;
	}
	free(b);
	free(r);
	return rc;	/* (a failed batch is retried whole: adds are idempotent) */
}

static int
pf_flush(void *state)
{
	struct pf *s = state;
	char *argv[] = { "pfctl", "-q", "-t", s->opt.name, "-T", "flush", NULL };
	char *anchor[] = { "pfctl", "-q", "-a", s->opt.name, "-F", "all", NULL };

	/*
	 * The anchor's rules and tables too, this run's and an earlier run's
	 * (a list of ports no longer configured); quietly: without blocks of
	 * some ports there may be no anchor.
	 */
	fw_try(anchor);
	s->nscopes = 0;
	return fw_run(argv);
}

static void
pf_fini(void *state, int remove)
{
	struct pf *s = state;

	if (remove)
		pf_flush(s);
	free(s->scopes);
	free(s);
}

const struct fw_backend fw_pf = {
	.name = "pf",
	.ports = 1,
	.conns = 2,
	.name_key = "table",
	.options = "",
	.init = pf_init,
	.apply = pf_apply,
	.flush = pf_flush,
	.fini = pf_fini,
};
