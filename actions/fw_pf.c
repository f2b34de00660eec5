/*
 * fw_pf.c - OpenBSD/FreeBSD pf, through pfctl and a table of mxguard's own.
 *
 * pf.conf must declare and use the table ("mxguard" unless table=NAME;
 * docs/FIREWALL.md):
 *     table <mxguard> persist
 *     block in quick from <mxguard>
 * A batch is one `pfctl -t mxguard -T add ...` with every address (and one
 * `-T delete ...`); blocked clients' open states are killed (`pfctl -k`).
 * pf tables have no timeouts: the daemon releases entries when they expire.
 * No shell: every argument is an address mxguard printed itself.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "fw.h"

#define PER_CALL 256		/* addresses per pfctl run */

struct pf {
	struct fw_opts opt;
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

/* pfctl -t mxguard -T VERB addr... in runs of PER_CALL. */
static int
table_op(struct pf *s, const char *verb, const struct fw_entry *e, int n)
{
	char texts[PER_CALL][ADDR_STRLEN + 5];
	char *argv[PER_CALL + 6];
	int rc = 0;

	for (int i = 0; i < n; i += PER_CALL) {
		int k = 0, m = n - i < PER_CALL ? n - i : PER_CALL;

		argv[k++] = "pfctl";
		argv[k++] = "-q";
		argv[k++] = "-t";
		argv[k++] = s->opt.name;
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

static int
pf_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	int rc = 0;

	if (nrelease > 0 && table_op(state, "delete", release, nrelease) < 0)
		rc = -1;
	if (nblock > 0 && table_op(state, "add", block, nblock) < 0)
		return -1;	/* the retry kills the states once the blocks are in */
	/* Cut the connections a blocked client already has. */
	for (int i = 0; i < nblock; i++) {
		char t[ADDR_STRLEN + 5];
		char *argv[] = { "pfctl", "-q", "-k", t, NULL };

		fw_entry_text(&block[i], t);
		fw_run(argv);
	}
	return rc;
}

static int
pf_flush(void *state)
{
	struct pf *s = state;
	char *argv[] = { "pfctl", "-q", "-t", s->opt.name, "-T", "flush", NULL };

	return fw_run(argv);
}

static void
pf_fini(void *state, int remove)
{
	if (remove)
		pf_flush(state);
	free(state);
}

const struct fw_backend fw_pf = {
	.name = "pf",
	.name_key = "table",
	.options = "",
	.init = pf_init,
	.apply = pf_apply,
	.flush = pf_flush,
	.fini = pf_fini,
};
