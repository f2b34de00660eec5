/*
 * enforce.h - what a decision becomes at enforcement: a firewall entry
 * and an entry of the map the MTA looks up.
 *
 * A decision reaches the daemon's enforcement from the engine, from the
 * state at start, from a manual ban or from another cluster node — as its
 * rule's name, its action and its key as text (the form it is saved and
 * shared in), and, from the engine and a manual ban, its key as a typed
 * network too (the address and prefix length the engine counted, or ctl
 * parsed), which the firewall entry is made from. These two functions
 * are the one place that turns that into what the firewall and the map
 * hold, with what the rule adds (a limit's rate; the kind of key it
 * counts). The daemon queues and applies the result (cli/cmd_run.c).
 */
#ifndef MXG_ENFORCE_H
#define MXG_ENFORCE_H

#include <stdint.h>

#include "../rules/conf.h"
#include "dmap.h"
#include "fw.h"

enum enforce_fw {
	ENF_FW_OK,		/* *e is the entry */
	ENF_FW_NONE,		/* nothing for the firewall: not a client key, an action it has no part in, a rule gone */
	ENF_FW_CANNOT_SHAPE,	/* a limit or tarpit, and the backend can only block: recorded, not enforced */
};

/*
 * The firewall entry of a decision (rule, action, key) lasting `seconds`
 * more, for backend fw (c: the configuration in force, for a limit's rate).
 * net (or NULL): the key as a network, as the engine gives it (engine.h);
 * then it is taken as it is and the text is not read. Without it — a
 * decision read back from the store, a peer's, a manual ban — the key's
 * text is parsed (an address or a prefix; anything else has no entry).
 */
enum enforce_fw enforce_fw_entry(const struct config *c, const struct fw_backend *fw, const char *rule,
    const char *action, const char *key, const struct addr *net, int plen, int64_t seconds, struct fw_entry *e);

/*
 * The map entry of a decision: 1 and *kind, *h (the key itself goes as it
 * is), or 0 if the MTA's lookups could not match it (an action the map
 * does not carry; a rule keyed by recipient or by nothing). The key's
 * kind is its rule's; a manual ban, or a rule gone since a reload, is a
 * client key.
 */
int enforce_map_entry(const struct config *c, const char *rule, const char *action, int64_t until,
    enum dmap_kind *kind, struct dmap_hit *h);

/*
 * Whether rule r's decisions take effect with this daemon's enforcement:
 * fw the firewall backend (NULL: none), socketmap whether the socketmap
 * is served, maptype the map file's type ("cidr", "hash", "lmdb", "exim",
 * "sendmail"; NULL: none). NULL if they do somewhere; else why not, in why
 * (a warning at start and at a reload: nothing accepted silently does
 * nothing).
 */
const char *enforce_rule_reach(const struct rule *r, const struct fw_backend *fw, int socketmap, const char *maptype,
    char *why, size_t whylen);

/*
 * Whether every 'ports' and every 'limit N connections' of the
 * configuration can take effect at fw: NULL, or the reason it cannot (in
 * why): the backend blocks every port or none (a customer blocked for a
 * mistyped password would lose his IMAP too), or cannot count a client's
 * open connections.
 */
const char *enforce_ports_ok(const struct config *c, const struct fw_backend *fw, char *why, size_t whylen);

#endif
