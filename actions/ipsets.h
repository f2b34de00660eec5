/*
 * ipsets.h - mxguard's pair of ipset sets (hash:net with timeouts, one per
 * address family), driven through the ipset command: shared by the ipset
 * backend and the iptables backend's set mode. Blocks go into sets; a
 * block of some ports only ('ports') into a pair of its own per list of
 * ports (a scope), and the ipset backend's caps on open connections into a
 * pair per cap.
 */
#ifndef MXG_IPSETS_H
#define MXG_IPSETS_H

#include "fw.h"

struct ipsets {
	char name[2][32];	/* [0] IPv4 "BASE4", [1] IPv6 "BASE6" */
};

/* Name the sets after base (at most 28 bytes). */
void ipsets_name(struct ipsets *s, const char *base);
/* Create them when missing (idempotent). quiet: a failure is expected (probing for ipset). */
int ipsets_create(const struct ipsets *s, int quiet);
/* One `ipset restore -exist` with every change; timeouts clamped to ipset's range. */
int ipsets_apply(const struct ipsets *s, const struct fw_entry *block, int nblock, const struct fw_entry *release,
    int nrelease);
int ipsets_flush(const struct ipsets *s);
/* Destroy them (the kernel refuses while a rule still uses one). */
void ipsets_destroy(const struct ipsets *s);

/* The clients blocked on the same list of ports: their sets, named BASE "p" and 8 hex digits of the list's hash. */
struct ipsets_scope {
	uint16_t port[FW_PORTS_MAX];
	int n;
	struct ipsets sets;
};

/* Name a scope after base and a block's ports (the same name in every run, for the same list). */
void ipsets_scope_init(struct ipsets_scope *sc, const char *base, const struct fw_entry *e);
/* Name the sets of the clients capped at `cap` connections: BASE "c" and the cap. */
void ipsets_cap_name(struct ipsets *s, const char *base, uint32_t cap);
/* 1 if an existing set's name is one of base's scope or cap sets. */
int ipsets_is_extra(const char *base, const char *set);
/* Flush (destroy 0) or destroy (1) every scope and cap set of base, this run's and an earlier run's. */
int ipsets_extra_each(const char *base, int destroy);
/*
 * The entries of a (blocks, or releases) that belong to the sets of these
 * ports (n 0: every port, the main sets), into out; a release of every
 * scope (an unban) belongs to all. Returns how many.
 */
int ipsets_pick(const struct fw_entry *a, int n, const uint16_t *port, int nports, int releases, struct fw_entry *out);
/* The blocks and releases into the main sets and each scope's (the scopes made already): an ipset run each. */
int ipsets_apply_scoped(const struct ipsets *main, const struct ipsets_scope *scopes, int nscopes,
    const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease);

#endif
