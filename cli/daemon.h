/*
 * daemon.h - the state of "mxguard run", shared by its event loop
 * (cmd_run.c) and its control socket handler (control.c).
 */
#ifndef MXG_DAEMON_H
#define MXG_DAEMON_H

#include <stdint.h>

#include "../actions/fw.h"
#include "../common/outbuf.h"
#include "../parsers/parser.h"
#include "../rules/engine.h"
#include "../state/store.h"
#include "../tail/follow.h"

struct dmap;
struct mapfile;

struct daemon {
	struct config *conf;
	struct engine *eng;
	struct parser *parser;
	struct store *store;
	struct follower **src;
	int nsrc;
	struct outbuf out;	/* decisions on stdout */
	int events_fd;		/* --events FILE, or -1 */
	struct outbuf events;
	uint64_t events_len;	/* bytes of the events file written */
	uint64_t lineno;
	struct stored_decision *batch;	/* decisions since the last commit */
	char **batch_keys;
	int nbatch, capbatch;
	uint64_t lines, nevents, ndecisions;
	uint64_t restored;	/* decisions in force put back into the engine at start */
	int64_t since;		/* --since: events older than this (UTC seconds) are skipped */
	int dirty;
	int store_ok;		/* 0 after a failed commit: keep enforcing from memory */
	const char *conffile;
	struct outbuf reply;	/* the control socket's answer being built */
	const struct fw_backend *fw;
	void *fw_state;
	struct fw_entry *fwq;	/* blocks waiting for the next batch */
	int nfwq, capfwq;
	struct dmap *dmap;	/* decisions the MTA looks up (--socketmap, --map-file), or NULL */
	struct mapfile *mapfile;	/* --map-file, or NULL */
	int map_dirty;		/* the map changed since the file was written */
	int64_t map_next;	/* write the file again then (an entry ends) */
	int fw_warned_shapes;	/* said once that the backend cannot limit or tarpit */
	struct fw_expiry *expiry;	/* releases due, for firewalls without timeouts */
	struct fw_entry *due;
	int capdue;
};

/* Save positions, decisions and parser state in one transaction, then enforce. */
void daemon_commit(struct daemon *dm);
/* Load the configuration again; 1 if it took (a broken one is reported and kept out). */
int daemon_reload(struct daemon *dm);
/* Enforce one decision (a manual ban) at the firewall; take a key out of it. */
void daemon_fw_one(struct daemon *dm, const char *rule, const char *key, const char *action, int64_t until);
void daemon_fw_release(struct daemon *dm, const char *key);
/* A decision into the MTA's map (if there is one). */
void daemon_map_put(struct daemon *dm, const struct stored_decision *d);
/* Serve the control socket's clients (ctl.h): lrevents of the listener, pfd from ctl_pollfds(). */
struct ctl_server;
struct pollfd;
void daemon_control(struct daemon *dm, struct ctl_server *cs, short lrevents, const struct pollfd *pfd, int n);

#endif
