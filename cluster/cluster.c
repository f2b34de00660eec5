/*
 * cluster.c - decisions shared through a Redis Stream (see cluster.h).
 *
 * Two links: one publishes (XADD, pipelined, in order; an entry counts as
 * published once Redis answered with its ID), one reads (XREAD BLOCK on
 * its own connection, so that an entry reaches the other nodes as soon as
 * it is in the stream, not at their next tick). Either can be down while
 * the other is up; what is not published stays queued, and the daemon's
 * saved outbox holds it across a restart.
 */
#include "cluster.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../actions/fw.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../rules/conf.h"

#define PIPELINE_MAX 1000	/* XADDs in flight at most */
#define READ_COUNT "1000"	/* entries per XREAD */
#define READ_BLOCK_MS "1000"
#define SEEN_MAX 1024		/* nodes whose numbers are kept */
#define WAIT_MS "2000"		/* how long a window may take to reach a replica */
#define POSITION_MAGIC "MXGC1\n"

struct seen {
	char node[CLUSTER_NODE_MAX + 1];
	uint64_t seq;
};

struct cluster {
	char node[CLUSTER_NODE_MAX + 1];
	int64_t keep_seconds;
	cluster_apply_fn apply;
	void *arg;
	struct rlink *pub, *sub;
	/* the publisher's queue: q[head..nq); q[head..head + nsent) are out, waiting for their IDs */
	struct cluster_msg *q;
	size_t head, nq, capq, nsent;
	uint64_t acked;
	int wait_mode;		/* the window out is acknowledged by WAIT (the master has replicas) */
	int window_failed;	/* an XADD of the window out failed: it all goes again */
	int said_wait;		/* said once that WAIT found no replica */
	/* the reader */
	char lastid[48];
	int reading;		/* an XREAD is out */
	struct seen *seen;
	size_t nseen;
	uint64_t changes;
	struct cluster_stats st;
};

/* ---- messages ---- */

static int
name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		    *s == '_' || *s == '-'))
			return 0;
	return 1;
}

int
cluster_node_name_ok(const char *s)
{
	return name_ok(s, CLUSTER_NODE_MAX);
}

static const char *const kind_names[] = { "client", "helo", "sender", "sender_domain" };

const char *
cluster_kind_name(enum cluster_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : "?";
}

int
cluster_kind_by_name(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return i;
	return -1;
}

int
cluster_key_ok(enum cluster_kind kind, const char *s)
{
	struct fw_entry e;
	size_t n = strlen(s);

	if (kind == CK_CLIENT)
		return n <= CLUSTER_KEY_MAX && fw_entry_parse(s, 0, &e);
	if ((unsigned)kind > CK_SENDER_DOMAIN || n == 0 || n > CLUSTER_STRKEY_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e || (*s >= 'A' && *s <= 'Z'))
			return 0;
	return 1;
}

/* The fields every message must have right, whatever carried it (origin: its node and number too). */
static int
msg_ok(const struct cluster_msg *m, int origin, char *why, size_t whylen)
{
	if (!origin)
		goto fields;
	if (!cluster_node_name_ok(m->node)) {
		snprintf(why, whylen, "node: not a node name");
		return 0;
	}
	if (m->seq == 0) {
		snprintf(why, whylen, "seq: not a number above 0");
		return 0;
	}
fields:
	if ((unsigned)m->kind > CK_SENDER_DOMAIN || (m->op == CL_RELEASE && m->kind != CK_CLIENT)) {
		snprintf(why, whylen, "kind: not a kind of key");
		return 0;
	}
	if (!cluster_key_ok(m->kind, m->key)) {
		snprintf(why, whylen, m->kind == CK_CLIENT ? "key: not an address or prefix" :
		    "key: not a HELO name, sender or domain as rules write them");
		return 0;
	}
	if (m->op == CL_RELEASE)
		return 1;
	if (!name_ok(m->rule, CLUSTER_RULE_MAX)) {
		snprintf(why, whylen, "rule: not a rule name");
		return 0;
	}
	if (action_by_name(m->action) < 0) {
		snprintf(why, whylen, "action: not an action");
		return 0;
	}
	if (m->ts < 0 || m->until <= 0 || m->until < m->ts || m->until > (int64_t)1 << 40) {
		snprintf(why, whylen, "ts/until: not times");
		return 0;
	}
	return 1;
}

size_t
cluster_msg_pack(const struct cluster_msg *m, char *out, size_t len)
{
	int n;

	if (m->op == CL_RELEASE)
		n = snprintf(out, len, "release %s", m->key);
	else
		n = snprintf(out, len, "decide %s %s %s %" PRId64 " %" PRId64 " %" PRIu64 " %" PRIu32 "%s%s", m->rule,
		    m->key, m->action, m->ts, m->until, m->value, m->level, m->kind != CK_CLIENT ? " " : "",
		    m->kind != CK_CLIENT ? cluster_kind_name(m->kind) : "");
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

int
cluster_msg_unpack(const char *p, size_t n, struct cluster_msg *m)
{
	char buf[512], why[64];
	int used = 0;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (strncmp(buf, "release ", 8) == 0) {
		m->op = CL_RELEASE;
		if (sscanf(buf + 8, "%64s%n", m->key, &used) != 1 || buf[8 + used] != '\0')
			return -1;
	} else {
		m->op = CL_DECIDE;
		char kind[16];
		int k, used2 = 0;

		if (sscanf(buf, "decide %64s %64s %15s %" SCNd64 " %" SCNd64 " %" SCNu64 " %" SCNu32 "%n", m->rule, m->key,
		    m->action, &m->ts, &m->until, &m->value, &m->level, &used) != 7)
			return -1;
		m->kind = CK_CLIENT;
		if (buf[used] != '\0') {
			/* (a string key's kind after the rest: an outbox of an older version has none) */
			if (sscanf(buf + used, " %15s%n", kind, &used2) != 1 || buf[used + used2] != '\0' ||
			    (k = cluster_kind_by_name(kind)) < 0)
				return -1;
			m->kind = (enum cluster_kind)k;
		}
	}
	return msg_ok(m, 0, why, sizeof(why)) ? 0 : -1;
}

static int
field_copy(char *dst, size_t cap, const char *v, size_t n)
{
	if (n == 0 || n >= cap || memchr(v, '\0', n) != NULL)
		return 0;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 1;
}

static int
field_num(const char *v, size_t n, int64_t *out)
{
	char buf[24], *end;
	long long x;

	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (!((buf[0] >= '0' && buf[0] <= '9') || buf[0] == '-'))
		return 0;
	x = strtoll(buf, &end, 10);
	if (*end != '\0')
		return 0;
	*out = x;
	return 1;
}

int
cluster_msg_from_fields(int n, const char *const *f, const size_t *flen, struct cluster_msg *m, char *why,
    size_t whylen)
{
	int have_op = 0, have_v = 0;
	int64_t x;

	memset(m, 0, sizeof(*m));
	if (n % 2 != 0) {
		snprintf(why, whylen, "an odd number of fields");
		return -1;
	}
	for (int i = 0; i < n; i += 2) {
		const char *k = f[i], *v = f[i + 1];
		size_t kn = flen[i], vn = flen[i + 1];
		int ok = 1;

#define IS(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
		if (IS("v"))
			ok = have_v = vn == 1 && v[0] == '1';
		else if (IS("node"))
			ok = field_copy(m->node, sizeof(m->node), v, vn);
		else if (IS("seq"))
			ok = field_num(v, vn, &x) && x > 0 && (m->seq = (uint64_t)x, 1);
		else if (IS("op")) {
			have_op = 1;
			if (vn == 6 && memcmp(v, "decide", 6) == 0)
				m->op = CL_DECIDE;
			else if (vn == 7 && memcmp(v, "release", 7) == 0)
				m->op = CL_RELEASE;
			else
				ok = 0;
		} else if (IS("rule"))
			ok = field_copy(m->rule, sizeof(m->rule), v, vn);
		else if (IS("key"))
			ok = field_copy(m->key, sizeof(m->key), v, vn);
		else if (IS("action"))
			ok = field_copy(m->action, sizeof(m->action), v, vn);
		else if (IS("kind")) {
			char kind[16];
			int kk;

			ok = field_copy(kind, sizeof(kind), v, vn) && (kk = cluster_kind_by_name(kind)) >= 0 &&
			    (m->kind = (enum cluster_kind)kk, 1);
		}
		else if (IS("ts"))
			ok = field_num(v, vn, &m->ts);
		else if (IS("until"))
			ok = field_num(v, vn, &m->until);
		else if (IS("value"))
			ok = field_num(v, vn, &x) && x >= 0 && (m->value = (uint64_t)x, 1);
		else if (IS("level"))
			ok = field_num(v, vn, &x) && x >= 0 && x <= UINT32_MAX && (m->level = (uint32_t)x, 1);
		/* other fields: a later version's, ignored */
#undef IS
		if (!ok) {
			snprintf(why, whylen, "field %.*s: a bad value", (int)(kn > 20 ? 20 : kn), k);
			return -1;
		}
	}
	if (!have_v || !have_op) {
		snprintf(why, whylen, "not a version-1 entry (v, op)");
		return -1;
	}
	return msg_ok(m, 1, why, whylen) ? 0 : -1;
}

/* ---- publishing ---- */

static void send_more(struct cluster *c);

static void
xadd_reply(void *arg, redisReply *r)
{
	struct cluster *c = arg;

	if (c->nsent == 0)
		return;		/* (a reply after the queue was reset: cannot happen, replies come in order) */
	if (r == NULL || r->type != REDIS_REPLY_STRING) {
		if (r != NULL)
			log_warnx("cluster: publishing: %s", r->type == REDIS_REPLY_ERROR ? r->str : "an odd reply");
		/* Not published: it and everything after it go again (receivers drop what they have). */
		if (c->wait_mode)
			c->window_failed = 1;
		else
			c->nsent = 0;
		return;
	}
	if (c->wait_mode)
		return;		/* acknowledged with its window, by WAIT */
	c->acked = c->q[c->head++].seq;
	c->st.published++;
	c->nsent--;
	if (c->head == c->nq)
		c->head = c->nq = 0;
	if (c->nsent == 0)
		send_more(c);
}

static void
send_one(struct cluster *c, const struct cluster_msg *m)
{
	char minid[32], seq[24], ts[24], until[24], value[24], level[16];
	const char *argv[32];
	int n = 0;

	snprintf(minid, sizeof(minid), "%lld", (long long)((int64_t)time(NULL) - c->keep_seconds) * 1000);
	snprintf(seq, sizeof(seq), "%" PRIu64, m->seq);
	argv[n++] = "XADD";
	argv[n++] = CLUSTER_STREAM;
	argv[n++] = "MINID";	/* trimmed by age (approximately: whole nodes of the stream at a time) */
	argv[n++] = "~";
	argv[n++] = minid;
	argv[n++] = "*";
	argv[n++] = "v";
	argv[n++] = "1";
	argv[n++] = "node";
	argv[n++] = m->node;
	argv[n++] = "seq";
	argv[n++] = seq;
	argv[n++] = "op";
	argv[n++] = m->op == CL_DECIDE ? "decide" : "release";
	argv[n++] = "key";
	argv[n++] = m->key;
	if (m->kind != CK_CLIENT) {
		/* (only then: a reader of the first part of this version takes every entry without it as a client's) */
		argv[n++] = "kind";
		argv[n++] = cluster_kind_name(m->kind);
	}
	if (m->op == CL_DECIDE) {
		snprintf(ts, sizeof(ts), "%" PRId64, m->ts);
		snprintf(until, sizeof(until), "%" PRId64, m->until);
		snprintf(value, sizeof(value), "%" PRIu64, m->value);
		snprintf(level, sizeof(level), "%" PRIu32, m->level);
		argv[n++] = "rule";
		argv[n++] = m->rule;
		argv[n++] = "action";
		argv[n++] = m->action;
		argv[n++] = "ts";
		argv[n++] = ts;
		argv[n++] = "until";
		argv[n++] = until;
		argv[n++] = "value";
		argv[n++] = value;
		argv[n++] = "level";
		argv[n++] = level;
	}
	rlink_command(c->pub, xadd_reply, c, n, argv, NULL);
}

/*
 * A window is in the stream once a replica has it too: the master could
 * die before it replicated, and the replica the sentinels promote would
 * then not have it. So with replicas, a window of XADDs ends with WAIT 1,
 * and only its answer (at least one replica) counts the window as
 * published; otherwise it all goes again (receivers drop repeats).
 */
static void
wait_reply(void *arg, redisReply *r)
{
	struct cluster *c = arg;

	if (c->nsent == 0)
		return;
	if (!c->window_failed && r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer >= 1) {
		c->acked = c->q[c->head + c->nsent - 1].seq;
		c->st.published += c->nsent;
		c->head += c->nsent;
		if (c->head == c->nq)
			c->head = c->nq = 0;
		c->said_wait = 0;
	} else if (r != NULL && !c->said_wait) {
		log_warnx("cluster: publishing: no replica has the entries within %s ms; sending them again", WAIT_MS);
		c->said_wait = 1;
	}
	c->nsent = 0;
	c->window_failed = 0;
	if (r != NULL)
		send_more(c);
}

static void
send_more(struct cluster *c)
{
	const char *wait[] = { "WAIT", "1", WAIT_MS };

	if (c->nsent > 0 || !rlink_up(c->pub) || c->head == c->nq)
		return;		/* one window out at a time */
	c->wait_mode = rlink_replicas(c->pub) > 0;
	while (c->head + c->nsent < c->nq && c->nsent < PIPELINE_MAX)
		send_one(c, &c->q[c->head + c->nsent++]);
	if (c->wait_mode)
		rlink_command(c->pub, wait_reply, c, 3, wait, NULL);
}

void
cluster_publish(struct cluster *c, const struct cluster_msg *m)
{
	if (c->nq == c->capq && c->head > 0 && c->nsent == 0) {
		memmove(c->q, c->q + c->head, (c->nq - c->head) * sizeof(*c->q));	/* (nothing out: indexes free) */
		c->nq -= c->head;
		c->head = 0;
	}
	if (c->nq == c->capq) {
		c->capq = c->capq ? 2 * c->capq : 64;
		c->q = xrealloc(c->q, c->capq * sizeof(*c->q));
	}
	c->q[c->nq++] = *m;
	send_more(c);
}

uint64_t
cluster_acked(const struct cluster *c)
{
	return c->acked;
}

static void
pub_state(void *arg, int up)
{
	struct cluster *c = arg;

	if (!up) {
		c->nsent = 0;	/* what was out goes again */
		return;
	}
	send_more(c);
}

/* ---- reading ---- */

static struct seen *
seen_of(struct cluster *c, const char *node, int add)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i].node, node) == 0)
			return &c->seen[i];
	if (!add || c->nseen == SEEN_MAX)
		return NULL;
	c->seen = xrealloc(c->seen, (c->nseen + 1) * sizeof(*c->seen));
	memset(&c->seen[c->nseen], 0, sizeof(c->seen[0]));
	snprintf(c->seen[c->nseen].node, sizeof(c->seen[0].node), "%s", node);
	return &c->seen[c->nseen++];
}

static void read_more(struct cluster *c);

static void
take_entry(struct cluster *c, const redisReply *e)
{
	const redisReply *id, *fv;
	const char *f[64];
	size_t fl[64];
	struct cluster_msg m;
	struct seen *s;
	char why[96];

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING)
		return;
	id = e->element[0];
	fv = e->element[1];
	if (id->len < sizeof(c->lastid)) {
		memcpy(c->lastid, id->str, id->len);
		c->lastid[id->len] = '\0';
		c->changes++;
	}
	c->st.received++;
	if (fv->type != REDIS_REPLY_ARRAY || fv->elements > 64) {
		c->st.malformed++;
		log_warnx("cluster: stream entry %s: not a list of fields; skipped", c->lastid);
		return;
	}
	for (size_t i = 0; i < fv->elements; i++) {
		if (fv->element[i]->type != REDIS_REPLY_STRING) {
			c->st.malformed++;
			log_warnx("cluster: stream entry %s: a field is not a string; skipped", c->lastid);
			return;
		}
		f[i] = fv->element[i]->str;
		fl[i] = fv->element[i]->len;
	}
	if (cluster_msg_from_fields((int)fv->elements, f, fl, &m, why, sizeof(why)) < 0) {
		c->st.malformed++;
		log_warnx("cluster: stream entry %s: %s; skipped", c->lastid, why);
		return;
	}
	if (strcmp(m.node, c->node) == 0) {
		c->st.own++;		/* this node's own */
		return;
	}
	s = seen_of(c, m.node, 1);
	if (s != NULL && m.seq <= s->seq) {
		c->st.duplicates++;
		return;
	}
	if (s != NULL)
		s->seq = m.seq;
	c->st.applied++;
	c->apply(c->arg, &m);
}

static void
xread_reply(void *arg, redisReply *r)
{
	struct cluster *c = arg;

	c->reading = 0;
	if (r == NULL)
		return;		/* the link went down: read again when it is up */
	if (r->type == REDIS_REPLY_ERROR) {
		log_warnx("cluster: reading the stream: %s", r->str);
		return;		/* (read again at the next process) */
	}
	if (r->type == REDIS_REPLY_ARRAY)
		for (size_t s = 0; s < r->elements; s++) {
			const redisReply *st = r->element[s];

			if (st->type != REDIS_REPLY_ARRAY || st->elements != 2 || st->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t i = 0; i < st->element[1]->elements; i++)
				take_entry(c, st->element[1]->element[i]);
		}
	read_more(c);
}

static void
read_more(struct cluster *c)
{
	const char *argv[] = { "XREAD", "COUNT", READ_COUNT, "BLOCK", READ_BLOCK_MS, "STREAMS", CLUSTER_STREAM,
		c->lastid };

	if (c->reading || !rlink_up(c->sub))
		return;
	if (rlink_command(c->sub, xread_reply, c, 8, argv, NULL) == 0)
		c->reading = 1;
}

static void
sub_state(void *arg, int up)
{
	struct cluster *c = arg;

	c->reading = 0;
	if (up)
		read_more(c);
}

/* ---- the rest ---- */

struct cluster *
cluster_new(const struct cluster_opts *o, cluster_apply_fn apply, void *arg)
{
	struct cluster *c = xcalloc(1, sizeof(*c));

	snprintf(c->node, sizeof(c->node), "%s", o->node);
	c->keep_seconds = o->keep_seconds > 0 ? o->keep_seconds : 7 * 86400;
	c->apply = apply;
	c->arg = arg;
	snprintf(c->lastid, sizeof(c->lastid), "0");
	c->pub = rlink_new(&o->url, "publish", 5000, pub_state, c);
	c->sub = rlink_new(&o->url, "read", 5000, sub_state, c);
	return c;
}

void
cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	rlink_free(c->pub);	/* pending replies come back NULL: the queue is reset, nothing else */
	rlink_free(c->sub);
	free(c->q);
	free(c->seen);
	free(c);
}

void *
cluster_position_export(const struct cluster *c, size_t *len)
{
	size_t cap = 64 + c->nseen * (CLUSTER_NODE_MAX + 24), n = 0;
	char *p = xmalloc(cap);

	n += (size_t)snprintf(p + n, cap - n, "%s%s\n", POSITION_MAGIC, c->lastid);
	for (size_t i = 0; i < c->nseen; i++)
		n += (size_t)snprintf(p + n, cap - n, "%s %" PRIu64 "\n", c->seen[i].node, c->seen[i].seq);
	*len = n;
	return p;
}

int
cluster_position_import(struct cluster *c, const void *blob, size_t len)
{
	char *t = xmalloc(len + 1), *line, *save = NULL;
	size_t ml = strlen(POSITION_MAGIC);
	int first = 1;

	memcpy(t, blob, len);
	t[len] = '\0';
	if (len < ml || memcmp(t, POSITION_MAGIC, ml) != 0) {
		free(t);
		return -1;
	}
	for (line = strtok_r(t + ml, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char node[CLUSTER_NODE_MAX + 1];
		uint64_t seq;
		struct seen *s;

		if (first) {
			snprintf(c->lastid, sizeof(c->lastid), "%s", line);
			first = 0;
		} else if (sscanf(line, "%64s %" SCNu64, node, &seq) == 2 && cluster_node_name_ok(node) &&
		    (s = seen_of(c, node, 1)) != NULL)
			s->seq = seq;
	}
	free(t);
	return 0;
}

uint64_t
cluster_position_changes(const struct cluster *c)
{
	return c->changes;
}

int
cluster_pollfds(struct cluster *c, struct pollfd *pfd, int max)
{
	int n = 0;

	if (n < max)
		n += rlink_pollfd(c->pub, pfd + n);
	if (n < max)
		n += rlink_pollfd(c->sub, pfd + n);
	return n;
}

int64_t
cluster_next_ms(const struct cluster *c)
{
	int64_t a = rlink_next_ms(c->pub), b = rlink_next_ms(c->sub);

	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

void
cluster_process(struct cluster *c, const struct pollfd *pfd, int n, int64_t now_ms)
{
	short rp = 0, rs = 0;

	for (int i = 0; i < n; i++) {
		struct pollfd a;

		/* which link's socket is which: ask them again (their sockets may have changed) */
		if (rlink_pollfd(c->pub, &a) && a.fd == pfd[i].fd)
			rp = pfd[i].revents;
		else if (rlink_pollfd(c->sub, &a) && a.fd == pfd[i].fd)
			rs = pfd[i].revents;
	}
	rlink_process(c->pub, rp, now_ms);
	rlink_process(c->sub, rs, now_ms);
	send_more(c);
	read_more(c);
}

struct cluster_stats
cluster_stats(const struct cluster *c)
{
	struct cluster_stats s = c->st;

	s.link = rlink_state_text(c->pub);
	s.where = rlink_where(c->pub);
	s.backlog = c->nq - c->head;
	return s;
}
