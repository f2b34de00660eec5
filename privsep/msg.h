/*
 * msg.h - the messages between the worker (unprivileged: reads the logs,
 * runs the rules) and the privileged part (holds the firewall).
 *
 * The worker is the side that reads text written by attackers, so the
 * privileged part treats each of its messages as hostile: fixed binary
 * layouts, every field checked (msg_decode) before anything is done, one
 * request answered at a time. The set is deliberately small — set up the
 * firewall, block or release ADDRESS/LEN KIND SECONDS, empty mxguard's
 * entries, close; open a log file for reading — and names no command,
 * table or file to write; the only path it carries is a log's, opened
 * only if it is a configured source or a rotated copy of one.
 *
 * Transport: two AF_UNIX SOCK_SEQPACKET pairs, so each message is one
 * datagram whose length is known: the firewall's channel (a change in
 * progress may take a while) and the files' (an open is answered at once,
 * whatever the firewall is doing). A request larger than one datagram
 * (a long list of entries) goes as chunks flagged MSG_MORE_FOLLOWS and is
 * applied as one transaction when the last arrives.
 */
#ifndef MXG_PRIVSEP_MSG_H
#define MXG_PRIVSEP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "../actions/fw.h"

#define MSG_MAGIC 0x4d58504du	/* "MXPM" */

enum msg_type {
	MSG_FW_INIT = 1,	/* worker: set the firewall up (as configured before the split) */
	MSG_FW_APPLY,		/* worker: entries to block and release, one transaction */
	MSG_FW_FLUSH,		/* worker: remove every entry mxguard added */
	MSG_FW_FINI,		/* worker: stopping; flags MSG_REMOVE: take mxguard's tables out */
	MSG_RESULT,		/* privileged part: the answer to the request, rc 0 or -1 (an open: -errno) */
	MSG_OPEN_LOG,		/* worker, on the files' channel: open the log whose path (n bytes) follows;
				 * answered with its descriptor (SCM_RIGHTS) and rc 0 */
};

/* The longest path an open carries (PATH_MAX less its NUL). */
#define MSG_PATH_MAX 4095

/* flags */
#define MSG_MORE_FOLLOWS 0x1u	/* MSG_FW_APPLY: more entries of the same transaction follow */
#define MSG_REMOVE 0x2u		/* MSG_FW_FINI */

struct msg_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t n;		/* MSG_FW_APPLY: entries that follow; MSG_OPEN_LOG: the path's bytes; else 0 */
	int32_t rc;		/* MSG_RESULT */
};

/* One entry on the wire: what a struct fw_entry holds, in fixed widths. */
struct msg_entry {
	uint8_t release;	/* 0 block, 1 release */
	uint8_t kind;		/* enum fw_kind */
	uint8_t family;		/* 4 or 6 */
	uint8_t plen;
	uint8_t addr[16];	/* network order, host bits clear; IPv4 in the first 4 */
	int64_t seconds;
	uint32_t limit_n, limit_per;
	uint16_t ports[FW_PORTS_MAX];	/* a block of these TCP ports only (nports of them); 0 beyond */
	uint8_t nports;
	uint8_t every_scope;	/* a release: whatever the ports */
	uint8_t pad[6];
};

/* What the privileged part's firewall can do (msg_decode, msg_entry_check): a bit each. */
#define MSG_CAP_SHAPES 1	/* limit and tarpit */
#define MSG_CAP_PORTS 2		/* blocks of some ports only */
#define MSG_CAP_CONNS 4		/* caps on the connections open at once (a limit per 0 seconds) */

/* Entries per datagram: 1,000 × 64 bytes, well inside the socket's buffer. */
#define MSG_ENTRIES_MAX 1000
/* Entries of one transaction (the chunks together): the decisions in force put back at a start. */
#define MSG_BATCH_MAX (1 << 22)
#define MSG_DATAGRAM_MAX (sizeof(struct msg_hdr) + MSG_ENTRIES_MAX * sizeof(struct msg_entry))
/* A block lasts at most this long (10 years); 0 is "until released". */
#define MSG_SECONDS_MAX (10 * 366 * 86400LL)
/*
 * The widest prefix the privileged part blocks: a worker taken over must
 * not be able to cut the host off the Internet with one 0.0.0.0/0. (Nor
 * is any block that reaches into 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104
 * taken: the host's own services listen there.)
 */
#define MSG_V4_PLEN_MIN 8
#define MSG_V6_PLEN_MIN 16

/* The wire form of e (release: 1 for a release). */
void msg_entry_of(const struct fw_entry *e, int release, struct msg_entry *m);

/*
 * Check one datagram of len bytes from the worker and describe it: 0 and
 * *h (and *entries, pointing into buf, when it carries entries; an open's
 * path is the h->n bytes after the header, without a NUL in them), or -1
 * with the reason in why. shapes: whether the firewall can limit and
 * tarpit (else only blocks are accepted).
 */
int msg_decode(const void *buf, size_t len, int caps, struct msg_hdr *h, const struct msg_entry **entries,
    char *why, size_t whylen);

/* Check one entry and make it a struct fw_entry; -1 with the reason in why. */
int msg_entry_check(const struct msg_entry *m, int caps, struct fw_entry *e, char *why, size_t whylen);

#endif
