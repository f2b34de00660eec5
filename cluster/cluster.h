/*
 * cluster.h - decisions shared between mxguard nodes through a Redis
 * Stream (docs/CLUSTER.md).
 *
 * Every node appends what it decides (a rule's decision, `ctl ban`, `ctl
 * unban`) to the stream "mxguard:decisions" as one entry, and reads the
 * stream from the last entry it has taken, applying what the other nodes
 * decided. An entry carries its node's name and that node's own sequence
 * number: a receiver keeps, per node, the highest number it took, and drops
 * anything not above it, so an entry sent twice (a resend after Redis came
 * back, or after a failover) is applied once. A node never publishes again
 * what it received.
 *
 * What this module does not do: persistence. The daemon saves the outbox
 * (what it must still publish), the stream position and the per-node
 * numbers in its state database, in the same transaction as the decisions
 * (state/store.h), and gives them back at start.
 */
#ifndef MXG_CLUSTER_H
#define MXG_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "redis.h"

#define CLUSTER_NODE_MAX 64		/* a node's name: letters, digits, '.', '_', '-' */
#define CLUSTER_KEY_MAX 64		/* an address or a prefix, as decisions write keys */
#define CLUSTER_RULE_MAX 64
#define CLUSTER_STREAM "mxguard:decisions"

enum cluster_op { CL_DECIDE, CL_RELEASE };
/* What a key is: a client's address or prefix, or a rule's string key (a decision's only; releases are of clients). */
enum cluster_kind { CK_CLIENT, CK_HELO, CK_SENDER, CK_SENDER_DOMAIN };
#define CLUSTER_STRKEY_MAX 48	/* a string key as decisions write it whole (longer ones are shown shortened) */

/* One entry of the stream. */
struct cluster_msg {
	enum cluster_op op;
	enum cluster_kind kind;			/* stream field "kind" (absent: client) */
	char node[CLUSTER_NODE_MAX + 1];
	uint64_t seq;
	char rule[CLUSTER_RULE_MAX + 1];	/* CL_DECIDE */
	char key[CLUSTER_KEY_MAX + 1];
	char action[16];			/* CL_DECIDE: "block", "reject", ... */
	int64_t ts, until;			/* CL_DECIDE: UTC seconds */
	uint64_t value;
	uint32_t level;
};

/* 1 if s is a node name (1 to 64 of letters, digits, '.', '_', '-'). */
int cluster_node_name_ok(const char *s);
/* "client", "helo", "sender", "sender_domain"; and back (-1: none of them). */
const char *cluster_kind_name(enum cluster_kind k);
int cluster_kind_by_name(const char *s);
/*
 * 1 if key is one of that kind as the rules write it: an address or prefix;
 * or 1 to 48 bytes of printable ASCII without spaces or capitals (the
 * rules fold case; a HELO name with a space or UTF-8 in it is not shared).
 */
int cluster_key_ok(enum cluster_kind kind, const char *key);

/*
 * The message as the outbox keeps it (text, no NUL; without its node and
 * number, which the outbox row has), and back: 0, or -1 if it is not one
 * (every field checked like a stream entry's).
 */
size_t cluster_msg_pack(const struct cluster_msg *m, char *out, size_t len);
int cluster_msg_unpack(const char *p, size_t n, struct cluster_msg *m);

/*
 * A stream entry's fields (name, value pairs; lengths given) into m:
 * 0, or -1 with the reason in why if anything is missing or not what it
 * must be (a node name, an address or prefix, an action, a rule name,
 * times). An entry from outside is validated like `ctl` input.
 */
int cluster_msg_from_fields(int n, const char *const *f, const size_t *flen, struct cluster_msg *m, char *why,
    size_t whylen);

struct cluster;

/* m came from another node: not yet taken from it (the daemon applies it). */
typedef void (*cluster_apply_fn)(void *arg, const struct cluster_msg *m);

struct cluster_opts {
	struct redis_url url;
	const char *node;		/* this node's name */
	int64_t keep_seconds;		/* entries older than this are trimmed from the stream */
};

struct cluster *cluster_new(const struct cluster_opts *o, cluster_apply_fn apply, void *arg);
void cluster_free(struct cluster *c);

/*
 * Queue m (this node's, numbered m->seq, already in the saved outbox) for
 * the stream: sent when the link is up, in order.
 */
void cluster_publish(struct cluster *c, const struct cluster_msg *m);
/* Every message up to this number is in the stream (the outbox can forget them). */
uint64_t cluster_acked(const struct cluster *c);

/* Where reading is ("0": the beginning), and the per-node numbers taken, as a blob; and back. */
void *cluster_position_export(const struct cluster *c, size_t *len);
int cluster_position_import(struct cluster *c, const void *blob, size_t len);
/* A number that changes whenever the position does (to save it only then). */
uint64_t cluster_position_changes(const struct cluster *c);

#define CLUSTER_POLL_MAX 2
struct pollfd;
int cluster_pollfds(struct cluster *c, struct pollfd *pfd, int max);
int64_t cluster_next_ms(const struct cluster *c);	/* -1: nothing due */
/* pfd: the entries cluster_pollfds filled (revents set by poll), n of them. */
void cluster_process(struct cluster *c, const struct pollfd *pfd, int n, int64_t now_ms);

struct cluster_stats {
	const char *link;		/* the publishing link's state: "up", "down (...)" */
	const char *where;
	uint64_t backlog;		/* this node's messages not yet in the stream */
	uint64_t published, received, applied, duplicates, own, malformed;
};
struct cluster_stats cluster_stats(const struct cluster *c);

#endif
