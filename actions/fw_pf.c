/*
 * fw_pf.c - OpenBSD/FreeBSD pf, through pfctl and a table of mxguard's own.
 *
 * pf.conf must declare and use the table (docs/FIREWALL.md):
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

#define TABLE "mxguard"
#define PER_CALL 256		/* addresses per pfctl run */

static int
pf_init(const char *arg, void **state)
{
	(void)arg;
	*state = NULL;
	return 0;
}

/* pfctl -t mxguard -T VERB addr... in runs of PER_CALL. */
static int
table_op(const char *verb, const struct fw_entry *e, int n)
{
	char texts[PER_CALL][ADDR_STRLEN + 5];
	char *argv[PER_CALL + 6];
	int rc = 0;

	for (int i = 0; i < n; i += PER_CALL) {
		int k = 0, m = n - i < PER_CALL ? n - i : PER_CALL;

		argv[k++] = "pfctl";
		argv[k++] = "-q";
		argv[k++] = "-t";
		argv[k++] = TABLE;
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

	(void)state;
	if (nrelease > 0 && table_op("delete", release, nrelease) < 0)
		rc = -1;
	if (nblock > 0 && table_op("add", block, nblock) < 0)
		rc = -1;
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
	char *argv[] = { "pfctl", "-q", "-t", TABLE, "-T", "flush", NULL };

	(void)state;
	return fw_run(argv);
}

static void
pf_fini(void *state, int remove)
{
	if (remove)
		pf_flush(state);
}

const struct fw_backend fw_pf = {
	.name = "pf",
	.init = pf_init,
	.apply = pf_apply,
	.flush = pf_flush,
	.fini = pf_fini,
};
