/*
 * fw_ipf.c - IPFilter (illumos/Solaris, NetBSD, FreeBSD), through an ippool
 * address pool of mxguard's own.
 *
 * ipf.rules must use the pool (docs/FIREWALL.md):
 *     block in quick from pool/mxguard to any
 * The pool (role ipf, type tree) is created at start when missing. One
 * `ippool -a|-r -m mxguard -o ipf -i ADDR/LEN` per entry (ippool takes one
 * address per run); a flush lists the pool (`ippool -l`) and removes what
 * it holds, so nothing outside the pool is touched. Pools have no portable
 * timeouts: the daemon releases entries when they expire. No shell: every
 * argument is mxguard's own text.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "fw.h"

struct ipf {
	struct fw_opts opt;
};

static int
node_op(struct ipf *s, const char *verb, const struct fw_entry *e)
{
	char t[ADDR_STRLEN + 5];
	char *argv[] = { "ippool", (char *)verb, "-m", s->opt.name, "-o", "ipf", "-i", t, NULL };

	fw_entry_text(e, t);
	return fw_run(argv);
}

static int
ipf_init(const char *arg, const struct fw_opts *o, void **state)
{
	struct ipf *s = xcalloc(1, sizeof(*s));

	(void)arg;
	s->opt = *o;
	{
		char *list[] = { "ippool", "-l", "-m", s->opt.name, "-o", "ipf", NULL };
		char *create[] = { "ippool", "-A", "-m", s->opt.name, "-o", "ipf", "-t", "tree", NULL };

		/* Listing fails when the pool is missing: the normal first start. */
		if (fw_try(list) < 0 && fw_run(create) < 0) {
			free(s);
			return -1;
		}
	}
	*state = s;
	return 0;
}

static int
ipf_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	int rc = 0;

	for (int i = 0; i < nrelease; i++)
		if (node_op(state, "-r", &release[i]) < 0)
			rc = -1;
	for (int i = 0; i < nblock; i++)
		if (node_op(state, "-a", &block[i]) < 0)
			rc = -1;
	return rc;
}

/*
 * `ippool -l` prints the pool as ipf's own syntax:
 *     table role=ipf type=tree number=mxguard
 *             { 203.0.113.7/32; 2001:db8::/64; };
 * Every word between the braces that is an address or prefix is removed.
 */
static int
ipf_flush(void *state)
{
	struct ipf *s = state;
	char *list[] = { "ippool", "-l", "-m", s->opt.name, "-o", "ipf", NULL };
	char *out, *p;
	int rc;

	if (fw_run_output(list, &out) < 0) {
		free(out);
		return -1;
	}
	rc = 0;
	p = strchr(out, '{');
	while (p != NULL && *p != '\0' && *p != '}') {
		size_t n;
		struct fw_entry e;
		char word[ADDR_STRLEN + 8];

		p += strspn(p, "{; \t\n!");
		n = strcspn(p, "; \t\n}");
		if (n > 0 && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (fw_entry_parse(word, 0, &e) && node_op(s, "-r", &e) < 0)
				rc = -1;
		}
		p += n;
	}
	free(out);
	return rc;
}

static void
ipf_fini(void *state, int remove)
{
	struct ipf *s = state;

	if (remove) {
		char *destroy[] = { "ippool", "-R", "-m", s->opt.name, "-o", "ipf", "-t", "tree", NULL };

		ipf_flush(s);
		/* The pool goes too; ipf refuses while ipf.rules still uses it, which is fine. */
		fw_try(destroy);
	}
	free(s);
}

const struct fw_backend fw_ipf = {
	.name = "ipf",
	.name_key = "pool",
	.options = "",
	.init = ipf_init,
	.apply = ipf_apply,
	.flush = ipf_flush,
	.fini = ipf_fini,
};
