/*
 * ipsets.h - mxguard's pair of ipset sets (hash:net with timeouts, one per
 * address family), driven through the ipset command: shared by the ipset
 * backend and the iptables backend's set mode. Only blocks go into sets.
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

#endif
