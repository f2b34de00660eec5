/*
 * fw.h - firewall backends: one vtable, one file per backend.
 *
 * The daemon hands a backend every change of one tick at once (block and
 * release lists), so a backend commits them in one transaction. Keys are
 * client addresses or prefixes in canonical text ("203.0.113.7",
 * "2001:db8:1:2::/64"), already validated. Backends only ever touch what
 * they created (their own table, chain or set).
 */
#ifndef MXG_FW_H
#define MXG_FW_H

#include <stdint.h>

#include "../common/addr.h"

struct fw_entry {
	struct addr addr;	/* network address (host bits clear) */
	int plen;
	int64_t seconds;	/* how long (block); 0 = until released */
};

struct fw_backend {
	const char *name;
	/* arg: what followed "NAME:" on the command line (exec: the helper), or NULL. */
	int (*init)(const char *arg, void **state);
	/* One batch of changes. 0 on success, -1 (logged) on failure. */
	int (*apply)(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release,
	    int nrelease);
	/* Remove every entry mxguard added (keep its table, chain, sets). */
	int (*flush)(void *state);
	/* Close; with remove = 1 also take out everything mxguard created. */
	void (*fini)(void *state, int remove);
};

/* "NAME" or "NAME:ARG"; NULL if there is no backend of that name. *arg gets ARG or NULL. */
const struct fw_backend *fw_by_name(const char *spec, const char **arg);

/* "ADDR[/LEN]" to an entry; 0 if the text is not an address or prefix. */
int fw_entry_parse(const char *key, int64_t seconds, struct fw_entry *e);

#endif
