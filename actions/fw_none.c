/* fw_none.c - no firewall: decisions are recorded only. */
#include "fw.h"

static int
none_init(const char *arg, const struct fw_opts *o, void **state)
{
	(void)o;
	(void)arg;
	*state = NULL;
	return 0;
}

static int
none_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	(void)state;
	(void)block;
	(void)nblock;
	(void)release;
	(void)nrelease;
	return 0;
}

static int
none_flush(void *state)
{
	(void)state;
	return 0;
}

static void
none_fini(void *state, int remove)
{
	(void)state;
	(void)remove;
}

const struct fw_backend fw_none = {
	.name = "none",
	.shapes = 1,
	.init = none_init,
	.apply = none_apply,
	.flush = none_flush,
	.fini = none_fini,
};
