/*
 * fw_ipfw.c - FreeBSD ipfw, through a named lookup table of mxguard's own.
 *
 * The ruleset must use the table ("mxguard" unless table=NAME;
 * docs/FIREWALL.md):
 *     ipfw table mxguard create type addr
 *     ipfw add 100 deny ip from 'table(mxguard)' to any
 * One `ipfw -q table mxguard add|delete ADDR/LEN` per entry (ipfw takes one
 * address per command); ipfw tables have no timeouts: the daemon releases
 * entries when they expire. No shell: every argument is mxguard's own text.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "fw.h"

struct ipfw {
	struct fw_opts opt;
};

static int
ipfw_init(const char *arg, const struct fw_opts *o, void **state)
{
	struct ipfw *s = xcalloc(1, sizeof(*s));

	(void)arg;
	s->opt = *o;
	*state = s;
	return 0;
}

static int
entry_op(struct ipfw *s, const char *verb, const struct fw_entry *e)
{
	char t[ADDR_STRLEN + 5];
	char *argv[] = { "ipfw", "-q", "table", s->opt.name, (char *)verb, t, NULL };

	fw_entry_text(e, t);
	return fw_run(argv);
}

static int
ipfw_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	int rc = 0;

	for (int i = 0; i < nrelease; i++)
		if (entry_op(state, "delete", &release[i]) < 0)
			rc = -1;
	for (int i = 0; i < nblock; i++)
		if (entry_op(state, "add", &block[i]) < 0)
			rc = -1;
	return rc;
}

static int
ipfw_flush(void *state)
{
	struct ipfw *s = state;
	char *argv[] = { "ipfw", "-q", "table", s->opt.name, "flush", NULL };

	return fw_run(argv);
}

static void
ipfw_fini(void *state, int remove)
{
	if (remove)
		ipfw_flush(state);
	free(state);
}

const struct fw_backend fw_ipfw = {
	.name = "ipfw",
	.name_key = "table",
	.options = "",
	.init = ipfw_init,
	.apply = ipfw_apply,
	.flush = ipfw_flush,
	.fini = ipfw_fini,
};
