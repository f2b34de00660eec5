/*
 * fw_nft.c - nftables through libnftables.
 *
 * Its own table ("inet mxguard" unless table=NAME): sets with flags
 * timeout and interval, one per family and per kind (blocked, tarpitted,
 * and limited at each rate in use), so the kernel expires entries itself
 * and matching is one set lookup whatever the number of clients. A chain
 * jumped to from input (and forward with the "forward" option) drops what
 * the block sets hold and meters the others with per-client token buckets
 * (dynamic sets with a limit); a block of some ports only ('ports') goes
 * to a set of its own per list of ports, whose rule drops only what goes
 * to them. Every batch of changes is one nft transaction: all of it
 * happens, or none.
 */
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "fw.h"

/* A rate of `limit N per D` (per 0: `limit N connections`): its sets of clients and their meters, made on first use. */
struct rate {
	uint32_t n, per;
};

/* The TCP ports some blocks hold ('ports'): their sets and rule, made on first use. */
struct scope {
	uint16_t port[FW_PORTS_MAX];
	int n;
};

struct nft {
	struct nft_ctx *ctx;
	struct fw_opts opt;
	char *buf;
	size_t len, cap;
	struct rate *rates;
	int nrates;
	struct scope *scopes;	/* set vK_pS holds the clients blocked on scope S's ports */
	int nscopes;
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

static void
putf(struct nft *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct nft *n, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	put(n, line);
}

/* Run the buffered commands as one transaction; quiet: a failure is expected (releases). */
static int
run(struct nft *n, int quiet)
{
	int rc;

	if (n->len == 0)
		return 0;
	rc = nft_run_cmd_from_buffer(n->ctx, n->buf);
	if (rc != 0 && !quiet) {
		const char *err = nft_ctx_get_error_buffer(n->ctx);

		log_warnx("nftables: %s", err && *err ? err : "command failed");
	}
	n->len = 0;
	return rc == 0 ? 0 : -1;
}

/*
 * N per D as nft writes a rate: per the largest unit (second, minute,
 * hour, day) in which it is a whole number, else per day rounded up.
 */
static void
rate_text(uint32_t count, uint32_t per, char *out, size_t outlen)
{
	static const struct {
		const char *name;
		uint32_t secs;
	} units[] = { { "second", 1 }, { "minute", 60 }, { "hour", 3600 }, { "day", 86400 } };

	for (int i = 0; i < 4; i++)
		if ((uint64_t)count * units[i].secs % per == 0) {
			snprintf(out, outlen, "%llu/%s", (unsigned long long)count * units[i].secs / per, units[i].name);
			return;
		}
	snprintf(out, outlen, "%llu/day", ((unsigned long long)count * 86400 + per - 1) / per);
}

/*
 * A cap on the connections open at once ("limit N connections", per 0):
 * the clients' set, and a dynamic set counting each one's connections in
 * conntrack (ct count); a new connection over N is refused.
 */
static void
put_cap(struct nft *n, uint32_t cap)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		const char *type = fam == 4 ? "ipv4_addr" : "ipv6_addr", *ip = fam == 4 ? "ip" : "ip6";

		putf(n, "add set inet %s c%d_%u { type %s; flags interval, timeout; }\n", n->opt.name, fam, cap, type);
		putf(n, "add set inet %s cm%d_%u { type %s; size 1048576; flags dynamic; }\n", n->opt.name, fam, cap,
		    type);
		/* SYNs only: conntrack takes a packet it has no entry for as new (fw_iptables.c, add_syn_only) */
		putf(n, "add rule inet %s clients %s saddr @c%d_%u tcp flags & (fin | syn | rst | ack) == syn "
		    "ct state new add @cm%d_%u { %s saddr ct count over %u } reject with tcp reset\n",
		    n->opt.name, ip, fam, cap, fam, cap, ip, cap);
	}
}

/* The sets of one family's clients under one rate, and the rule that meters them. */
static void
put_rate(struct nft *n, const struct rate *r)
{
	char rate[48];

	if (r->per == 0) {
		put_cap(n, r->n);
		return;
	}

	rate_text(r->n, r->per, rate, sizeof(rate));
	for (int fam = 4; fam <= 6; fam += 2) {
		const char *type = fam == 4 ? "ipv4_addr" : "ipv6_addr", *ip = fam == 4 ? "ip" : "ip6";

		putf(n, "add set inet %s l%d_%u_%u { type %s; flags interval, timeout; }\n", n->opt.name, fam, r->n,
		    r->per, type);
		/* The meter: one token bucket per client address, gone once the client is quiet for a period. */
		putf(n, "add set inet %s m%d_%u_%u { type %s; size 1048576; flags dynamic, timeout; timeout %us; }\n",
		    n->opt.name, fam, r->n, r->per, type, r->per);
		putf(n, "add rule inet %s clients %s saddr @l%d_%u_%u ct state new update @m%d_%u_%u "
		    "{ %s saddr limit rate over %s burst %u packets } drop\n", n->opt.name, ip, fam, r->n, r->per, fam,
		    r->n, r->per, ip, rate, r->n);
	}
}

static int
nft_init(const char *arg, const struct fw_opts *o, void **state)
{
	struct nft *n = xcalloc(1, sizeof(*n));
	const char *t;

	(void)arg;
	n->opt = *o;
	if ((n->ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		log_warnx("nftables: cannot create a context");
		free(n);
		return -1;
	}
	nft_ctx_buffer_error(n->ctx);
	nft_ctx_buffer_output(n->ctx);
	t = n->opt.name;
	/*
	 * The table is mxguard's alone: made afresh (the start reconciles it
	 * with the decisions in force), in one transaction.
	 */
	putf(n, "add table inet %s\ndelete table inet %s\nadd table inet %s\n", t, t, t);
	putf(n, "add set inet %s v4 { type ipv4_addr; flags interval, timeout; }\n"
	    "add set inet %s v6 { type ipv6_addr; flags interval, timeout; }\n"
	    "add set inet %s t4 { type ipv4_addr; flags interval, timeout; }\n"
	    "add set inet %s t6 { type ipv6_addr; flags interval, timeout; }\n"
	    "add set inet %s tm4 { type ipv4_addr; size 1048576; flags dynamic, timeout; timeout 60s; }\n"
	    "add set inet %s tm6 { type ipv6_addr; size 1048576; flags dynamic, timeout; timeout 60s; }\n",
	    t, t, t, t, t, t);
	putf(n, "add chain inet %s clients\n"
	    "add rule inet %s clients ip saddr @v4 drop\n"
	    "add rule inet %s clients ip6 saddr @v6 drop\n"
	    "add rule inet %s clients ip saddr @t4 update @tm4 { ip saddr limit rate over %d/second burst %d packets } drop\n"
	    "add rule inet %s clients ip6 saddr @t6 update @tm6 { ip6 saddr limit rate over %d/second burst %d packets } drop\n",
	    t, t, t, t, FW_TARPIT_PPS, FW_TARPIT_PPS, t, FW_TARPIT_PPS, FW_TARPIT_PPS);
	putf(n, "add chain inet %s input { type filter hook input priority -10; policy accept; }\n"
	    "add rule inet %s input jump clients\n", t, t);
	if (n->opt.forward)
		putf(n, "add chain inet %s forward { type filter hook forward priority -10; policy accept; }\n"
		    "add rule inet %s forward jump clients\n", t, t);
	if (run(n, 0) < 0) {
		nft_ctx_free(n->ctx);
		free(n->buf);
		free(n);
		return -1;
	}
	*state = n;
	return 0;
}

/* The sets of the clients blocked on some ports only, and the rule that drops what goes to those ports. */
static void
put_scope(struct nft *n, int s)
{
	char ports[FW_PORTS_MAX * 8] = "";
	size_t k = 0;

	for (int i = 0; i < n->scopes[s].n; i++)
		k += (size_t)snprintf(ports + k, sizeof(ports) - k, "%s%u", i ? ", " : "", n->scopes[s].port[i]);
	for (int fam = 4; fam <= 6; fam += 2) {
		putf(n, "add set inet %s v%d_p%d { type %s; flags interval, timeout; }\n", n->opt.name, fam, s,
		    fam == 4 ? "ipv4_addr" : "ipv6_addr");
		putf(n, "add rule inet %s clients %s saddr @v%d_p%d tcp dport { %s } drop\n", n->opt.name,
		    fam == 4 ? "ip" : "ip6", fam, s, ports);
	}
}

/* The scope of a block's ports (made, in the batch, if new). */
static int
scope_of(struct nft *n, const struct fw_entry *e)
{
	for (int s = 0; s < n->nscopes; s++)
		if (fw_entry_ports_are(e, n->scopes[s].port, n->scopes[s].n))
			return s;
	n->scopes = xrealloc(n->scopes, (size_t)(n->nscopes + 1) * sizeof(*n->scopes));
	memset(&n->scopes[n->nscopes], 0, sizeof(n->scopes[0]));
	memcpy(n->scopes[n->nscopes].port, e->ports, e->nports * sizeof(e->ports[0]));
	n->scopes[n->nscopes].n = e->nports;
	put_scope(n, n->nscopes);
	return n->nscopes++;
}

/* The set an entry goes to: "v4", "v4_p0", "t6", "l4_10_60" (a new rate's or ports' sets are made first). */
static void
set_of(struct nft *n, const struct fw_entry *e, char *out, size_t outlen)
{
	int fam = e->addr.family == 6 ? 6 : 4;

	if (e->kind == FW_BLOCK && e->nports > 0) {
		snprintf(out, outlen, "v%d_p%d", fam, scope_of(n, e));
		return;
	}
	if (e->kind == FW_BLOCK || e->kind == FW_TARPIT) {
		snprintf(out, outlen, "%c%d", e->kind == FW_BLOCK ? 'v' : 't', fam);
		return;
	}
	if (e->limit_per == 0)
		snprintf(out, outlen, "c%d_%u", fam, e->limit_n);
	else
		snprintf(out, outlen, "l%d_%u_%u", fam, e->limit_n, e->limit_per);
	for (int i = 0; i < n->nrates; i++)
		if (n->rates[i].n == e->limit_n && n->rates[i].per == e->limit_per)
			return;
	n->rates = xrealloc(n->rates, (size_t)(n->nrates + 1) * sizeof(*n->rates));
	n->rates[n->nrates] = (struct rate){ e->limit_n, e->limit_per };
	put_rate(n, &n->rates[n->nrates++]);
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
	char el[128], (*sets)[32] = xmalloc(((size_t)nblock + 1) * sizeof(*sets));
	int rc = 0;

	/*
	 * A release of what the kernel already expired (or what was never
	 * there: an unban takes a key out of every set) would fail the whole
	 * batch: releases go one by one, and such a failure is normal.
	 */
	for (int i = 0; i < nrelease; i++) {
		const struct fw_entry *e = &release[i];
		int fam = e->addr.family == 6 ? 6 : 4;

		element_text(e, 0, el, sizeof(el));
		if (e->kind != FW_LIMIT && (e->nports == 0 || e->kind != FW_BLOCK)) {
			putf(n, "delete element inet %s %c%d { %s }\n", n->opt.name, e->kind == FW_BLOCK ? 'v' : 't', fam,
			    el);
			run(n, 1);
		}
		for (int sc = 0; e->kind == FW_BLOCK && sc < n->nscopes; sc++)
			if (e->every_scope || fw_entry_ports_are(e, n->scopes[sc].port, n->scopes[sc].n)) {
				putf(n, "delete element inet %s v%d_p%d { %s }\n", n->opt.name, fam, sc, el);
				run(n, 1);
			}
		for (int r = 0; e->kind == FW_LIMIT && r < n->nrates; r++)
			if (e->limit_n == 0 || (e->limit_n == n->rates[r].n && e->limit_per == n->rates[r].per)) {
				if (n->rates[r].per == 0)
					putf(n, "delete element inet %s c%d_%u { %s }\n", n->opt.name, fam, n->rates[r].n, el);
				else
					putf(n, "delete element inet %s l%d_%u_%u { %s }\n", n->opt.name, fam, n->rates[r].n,
					    n->rates[r].per, el);
				run(n, 1);
			}
	}
	/*
	 * Blocks: one "add element" per set with every element, one
	 * transaction. nft parses one long command far faster than many
	 * short ones (100,000 elements in well under a second). A new rate's
	 * sets and rule come first in the same transaction.
	 */
	for (int i = 0; i < nblock; i++)
		set_of(n, &block[i], sets[i], sizeof(sets[i]));
	for (int i = 0; i < nblock; i++) {
		int seen = 0;

		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(sets[j], sets[i]) == 0;
		if (seen)
			continue;
		putf(n, "add element inet %s %s { ", n->opt.name, sets[i]);
		for (int j = i; j < nblock; j++) {
			if (j > i && strcmp(sets[j], sets[i]) != 0)
				continue;
			element_text(&block[j], 1, el, sizeof(el));
			put(n, j > i ? ", " : "");
			put(n, el);
		}
		put(n, " }\n");
	}
	free(sets);
	if (run(n, 0) < 0)
		rc = -1;
	return rc;
}

static int
nft_flush(void *state)
{
	struct nft *n = state;

	for (int fam = 4; fam <= 6; fam += 2) {
		putf(n, "flush set inet %s v%d\nflush set inet %s t%d\n", n->opt.name, fam, n->opt.name, fam);
		for (int r = 0; r < n->nrates; r++)
			if (n->rates[r].per == 0)
				putf(n, "flush set inet %s c%d_%u\n", n->opt.name, fam, n->rates[r].n);
			else
				putf(n, "flush set inet %s l%d_%u_%u\n", n->opt.name, fam, n->rates[r].n, n->rates[r].per);
		for (int sc = 0; sc < n->nscopes; sc++)
			putf(n, "flush set inet %s v%d_p%d\n", n->opt.name, fam, sc);
	}
	return run(n, 0);
}

static void
nft_fini(void *state, int remove)
{
	struct nft *n = state;

	if (n == NULL)
		return;
	if (remove) {
		putf(n, "delete table inet %s\n", n->opt.name);
		run(n, 0);
	}
	nft_ctx_free(n->ctx);
	free(n->rates);
	free(n->scopes);
	free(n->buf);
	free(n);
}

const struct fw_backend fw_nftables = {
	.name = "nftables",
	.self_expiring = 1,
	.shapes = 1,
	.ports = 1,
	.conns = 1,
	.name_key = "table",
	.options = "forward",
	.init = nft_init,
	.apply = nft_apply,
	.flush = nft_flush,
	.fini = nft_fini,
};
