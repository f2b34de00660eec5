/*
 * fw_nft.c - nftables through libnftables.
 *
 * Its own table, "inet mxguard": two sets (IPv4, IPv6) with flags timeout
 * and interval, so the kernel expires entries itself and matching is one
 * set lookup whatever the number of bans; an input chain that drops what
 * the sets hold. Every batch of changes is one nft transaction: all of it
 * happens, or none.
 */
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "fw.h"

#define TABLE "inet mxguard"

struct nft {
	struct nft_ctx *ctx;
	char *buf;
	size_t len, cap;
};

static void
put(struct nft *n, const char *s)
{
	size_t k = strlen(s);

	if (n->len + k + 1 > n->cap) {
		n->cap = (n->len + k + 1) * 2;
		n->buf = xrealloc(n->buf, n->cap);
	}
	memcpy(n->buf + n->len, s, k + 1);
	n->len += k;
}

/* Run the buffered commands as one transaction. */
static int
run(struct nft *n)
{
	int rc;

	if (n->len == 0)
		return 0;
	rc = nft_run_cmd_from_buffer(n->ctx, n->buf);
	if (rc != 0) {
		const char *err = nft_ctx_get_error_buffer(n->ctx);

		log_warnx("nftables: %s", err && *err ? err : "command failed");
	}
	n->len = 0;
	return rc == 0 ? 0 : -1;
}

static int
nft_init(const char *arg, void **state)
{
	struct nft *n = xcalloc(1, sizeof(*n));

	(void)arg;
	if ((n->ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		log_warnx("nftables: cannot create a context");
		free(n);
		return -1;
	}
	nft_ctx_buffer_error(n->ctx);
	nft_ctx_buffer_output(n->ctx);
	/* Idempotent: "add" keeps what exists; a restart re-adds what is in force. */
	put(n, "add table " TABLE "\n"
	    "add set " TABLE " v4 { type ipv4_addr; flags interval, timeout; }\n"
	    "add set " TABLE " v6 { type ipv6_addr; flags interval, timeout; }\n"
	    "add chain " TABLE " input { type filter hook input priority -10; policy accept; }\n"
	    "flush chain " TABLE " input\n"
	    "add rule " TABLE " input ip saddr @v4 drop\n"
	    "add rule " TABLE " input ip6 saddr @v6 drop\n");
	if (run(n) < 0) {
		nft_ctx_free(n->ctx);
		free(n);
		return -1;
	}
	*state = n;
	return 0;
}

/* "a.b.c.d/len timeout Ns" */
static void
element_text(const struct fw_entry *e, int with_timeout, char *out, size_t outlen)
{
	char a[ADDR_STRLEN];

	addr_format(&e->addr, a);
	if (with_timeout && e->seconds > 0)
		snprintf(out, outlen, "%s/%d timeout %llds", a, e->plen, (long long)e->seconds);
	else
		snprintf(out, outlen, "%s/%d", a, e->plen);
}

static int
nft_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct nft *n = state;
	char el[128];
	int rc = 0;

	/*
	 * A release of something the kernel already expired would fail the
	 * whole batch: releases go one by one.
	 */
	for (int i = 0; i < nrelease; i++) {
		element_text(&release[i], 0, el, sizeof(el));
		put(n, release[i].addr.family == 4 ? "delete element " TABLE " v4 { " : "delete element " TABLE " v6 { ");
		put(n, el);
		put(n, " }\n");
		if (run(n) < 0)
			rc = -1;
	}
	/*
	 * Blocks: one "add element" per family with every element, one
	 * transaction. nft parses one long command far faster than many
	 * short ones (100,000 elements in well under a second).
	 */
	for (int fam = 4; fam <= 6; fam += 2) {
		int any = 0;

		for (int i = 0; i < nblock; i++) {
			if (block[i].addr.family != fam)
				continue;
			put(n, any ? ", " : fam == 4 ? "add element " TABLE " v4 { " : "add element " TABLE " v6 { ");
			element_text(&block[i], 1, el, sizeof(el));
			put(n, el);
			any = 1;
		}
		if (any)
			put(n, " }\n");
	}
	if (run(n) < 0)
		rc = -1;
	return rc;
}

static int
nft_flush(void *state)
{
	struct nft *n = state;

	put(n, "flush set " TABLE " v4\nflush set " TABLE " v6\n");
	return run(n);
}

static void
nft_fini(void *state, int remove)
{
	struct nft *n = state;

	if (n == NULL)
		return;
	if (remove) {
		put(n, "delete table " TABLE "\n");
		run(n);
	}
	nft_ctx_free(n->ctx);
	free(n->buf);
	free(n);
}

const struct fw_backend fw_nftables = {
	.name = "nftables",
	.self_expiring = 1,
	.init = nft_init,
	.apply = nft_apply,
	.flush = nft_flush,
	.fini = nft_fini,
};
