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

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/addr.h"

/* What the firewall does to a client's packets. */
enum fw_kind {
	FW_BLOCK,	/* drop (or reject) everything */
	FW_LIMIT,	/* drop new connections over limit_n per limit_per seconds; limit_per 0: over limit_n open at once */
	FW_TARPIT,	/* let FW_TARPIT_PPS packets a second through, drop the rest */
};

#define FW_TARPIT_PPS 1
#define FW_LIMIT_N_MAX 1000000		/* as in the rule language */
#define FW_LIMIT_PER_MAX 86400		/* per connection at most: hashlimit's slowest rate is 1/day */

#define FW_PORTS_MAX 8		/* as PORTS_MAX in the rule language */

struct fw_entry {
	struct addr addr;	/* network address (host bits clear) */
	int plen;
	int64_t seconds;	/* how long (block); 0 = until released */
	enum fw_kind kind;
	uint32_t limit_n, limit_per;	/* FW_LIMIT only; limit_per 0: a cap on the connections open at once */
	/*
	 * FW_BLOCK: the TCP ports the block holds ('ports', 'set ports'), in
	 * the order given; nports 0: every port. A release with every_scope
	 * takes the client out whatever its ports (an unban, a flush).
	 */
	uint16_t ports[FW_PORTS_MAX];
	uint8_t nports;
	uint8_t every_scope;
};

/*
 * A backend's options, from "NAME:OPT,OPT=VALUE,...": the name of its
 * table, chain, set or pool; hook FORWARD too (gateway); REJECT rather
 * than DROP; one rule per client even when sets are there (iptables).
 */
struct fw_opts {
	char name[29];		/* default "mxguard" */
	int forward, reject, rules;
};

/*
 * Parse arg (may be NULL) for a backend; name_key is the word for its
 * name ("table", "chain", "set", "pool"), `allowed` a space-separated list
 * of its flags. 0, or -1 with a message in err.
 */
int fw_opts_parse(const char *arg, const char *name_key, const char *allowed, struct fw_opts *o, char *err,
    size_t errlen);

/* The fw_kind an action name stands for at the firewall; -1 if none ("reject", "log"). */
int fw_kind_of(const char *action);

#define FW_IN_PROGRESS 1

struct pollfd;

struct fw_backend {
	const char *name;
	/* 1 if the firewall expires entries by itself (nftables timeouts). */
	int self_expiring;
	/* 1 if it can also limit and tarpit (FW_LIMIT, FW_TARPIT); else it is only given blocks. */
	int shapes;
	/* 1 if a block can hold some TCP ports only (fw_entry.ports); else a configuration asking it is refused. */
	int ports;
	/*
	 * 1 if it can cap a client's connections open at once (FW_LIMIT,
	 * limit_per 0); 2 if only on the ports of 'set ports', given in the
	 * cap's entry (pf: its cap is a pass rule, which must not let a client
	 * through to other ports); 0: refused like ports.
	 */
	int conns;
	/* Its options: the word for its name and its flags (fw_opts_parse); NULL: the arg is its own (exec). */
	const char *name_key, *options;
	/* arg: what followed "NAME:" (exec: the helper), or NULL; o: the options parsed from it. */
	int (*init)(const char *arg, const struct fw_opts *o, void **state);
	/*
	 * One batch of changes. 0 on success, -1 (logged) on failure, or
	 * FW_IN_PROGRESS (a backend with progress): the result comes later.
	 */
	int (*apply)(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release,
	    int nrelease);
	/* Remove every entry mxguard added (keep its table, chain, sets). The same results. */
	int (*flush)(void *state);
	/*
	 * Asynchronous backends only (NULL otherwise), while an apply or flush
	 * is in progress — nothing else is asked of them then: the descriptors
	 * to poll (at most 2), and a step that never blocks, to call after the
	 * poll whatever it returned (deadlines are checked there): FW_IN_PROGRESS,
	 * or the result, 0 or -1.
	 */
	int (*pollfds)(void *state, struct pollfd *pfd, int max);
	int (*progress)(void *state);
	/* Close; with remove = 1 also take out everything mxguard created. */
	void (*fini)(void *state, int remove);
};

/* The names of the backends that can limit a block to some ports, or cap connections ("nftables, ..."), into out. */
enum fw_can { FW_CAN_PORTS, FW_CAN_CONNS };
void fw_names_that_can(enum fw_can what, char *out, size_t len);

/* "NAME" or "NAME:ARG"; NULL if there is no backend of that name. *arg gets ARG or NULL. */
const struct fw_backend *fw_by_name(const char *spec, const char **arg);

/*
 * A whole --firewall value, "NAME[:OPTIONS]": the backend, its arg and its
 * parsed options. 0, or -1 with a message in err (unknown backend, bad option).
 */
int fw_spec_parse(const char *spec, const struct fw_backend **b, const char **arg, struct fw_opts *o, char *err,
    size_t errlen);

/*
 * Releases at expiry, for backends that cannot expire entries themselves
 * (pf tables, ipfw tables): a min-heap of (expiry, entry).
 */
struct fw_expiry;
struct fw_expiry *fw_expiry_new(void);
void fw_expiry_free(struct fw_expiry *x);
void fw_expiry_add(struct fw_expiry *x, int64_t when, const struct fw_entry *e);
/* Pop every entry due at `now` into out (grown as needed); returns how many. */
int fw_expiry_due(struct fw_expiry *x, int64_t now, struct fw_entry **out, int *cap);

/*
 * Run a command with no shell (PATH is searched); 0 if it exited 0, -1
 * otherwise (logged with the command line). A command that has not ended
 * after FW_CMD_TIMEOUT_MS is killed (a failure): it must not stall the
 * daemon's loop. Its pipes are close-on-exec, and nothing leaks on error.
 */
#define FW_CMD_TIMEOUT_MS 10000
int fw_run(char *const argv[]);
/* The same, with len bytes of data on the command's standard input. */
int fw_run_input(char *const argv[], const char *data, size_t len);
/* The same, with the command's standard output in *output (to free; NULL if it could not run). */
int fw_run_output(char *const argv[], char **output);
/* The same as fw_run, without a message: for a command expected to fail (a check). */
int fw_try(char *const argv[]);

/* In a child between fork and exec: an empty signal mask, SIGPIPE back to its default. */
void fw_child_setup(void);
/* Kill a child (SIGKILL) and reap it. */
void fw_kill(pid_t pid);
/* Wait for a child until deadline (mono_ms, common/clock.h); its wait status, or -1: then it was killed and reaped. */
int fw_wait(pid_t pid, int64_t deadline);

/* A name for a list of ports (FNV-1a: the same in every run; a name, not a secret): sets and tables of a scope. */
uint32_t fw_ports_hash(const uint16_t *ports, int n);
/* 1 if e holds exactly these n ports, in this order (a block's scope). */
int fw_entry_ports_are(const struct fw_entry *e, const uint16_t *ports, int n);

/* The decision key of an entry into buf (ADDR_STRLEN + 4): "ADDR", or "ADDR/LEN" for a prefix. */
void fw_entry_key(const struct fw_entry *e, char *buf);

/* "block", "limit", "tarpit": the action a kind enforces. */
const char *fw_kind_name(enum fw_kind k);

/* "ADDR/LEN" of an entry into buf (ADDR_STRLEN + 4). */
void fw_entry_text(const struct fw_entry *e, char *buf);

/* "ADDR[/LEN]" to an entry; 0 if the text is not an address or prefix. */
int fw_entry_parse(const char *key, int64_t seconds, struct fw_entry *e);

#endif
