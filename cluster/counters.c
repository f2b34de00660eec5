/*
 * counters.c - scope cluster rules' windows in Redis (see counters.h).
 *
 * Two batches: the one being gathered (what this tick's events added, per
 * rule and key) and the one in flight (its script calls sent together,
 * their replies awaited). A batch goes when the one before it is answered
 * and at most every COUNTERS_TICK_MS: so a node makes at most one round
 * trip per tick, and under load a batch simply holds more.
 */
#include "counters.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/xalloc.h"
#include "../common/window.h"

#define COUNTERS_TICK_MS 50
#define BATCH_KEYS_MAX 65536	/* rules x keys gathered per batch; beyond, the local windows decide */
#define REFUSED_PAUSE_MS 10000	/* after a refused call: the local windows decide this long */
#define CKEY_MAX 56	/* the longest key bytes the engine makes (48 of text and 8 of hash) */
#define ITEMS_MAX 4096		/* updates per key and batch (a count's are per bucket: few) */

/*
 * The window in Redis, updated atomically. KEYS[1]: the window's name;
 * ARGV: 'c' (count or sum: a hash of bucket -> total, and "head") or 'd'
 * (distinct: a HyperLogLog per bucket, NAME:BUCKET, and "head" in NAME),
 * the bucket width, the threshold, the TTL, then bucket, value pairs. The
 * newest bucket seen is the window's head; what is older than the window's
 * 10 buckets is dropped. Returns {crossed, total}: crossed is 1 for the one
 * call whose update made the total reach the threshold (the window is
 * emptied then, as a local window is after a decision).
 */
static const char script[] =
    "local k, distinct = KEYS[1], ARGV[1] == 'd'\n"
    "local threshold, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local head = tonumber(redis.call('HGET', k, 'head') or -1)\n"
    "for i = 5, #ARGV, 2 do\n"
    "  local b = tonumber(ARGV[i])\n"
    "  if b > head then head = b end\n"
    "end\n"
    "local low, total = head - 9, 0\n"
    "if distinct then\n"
    "  local byb = {}\n"
    "  for i = 5, #ARGV, 2 do\n"
    "    local b = tonumber(ARGV[i])\n"
    "    if b >= low then\n"
    "      local t = byb[b]\n"
    "      if not t then t = {}; byb[b] = t end\n"
    "      t[#t + 1] = ARGV[i + 1]\n"
    "    end\n"
    "  end\n"
    "  for b, vals in pairs(byb) do\n"
    "    local bk = k .. ':' .. string.format('%d', b)\n"
    "    redis.call('PFADD', bk, unpack(vals))\n"
    "    redis.call('EXPIRE', bk, ttl)\n"
    "  end\n"
    "  local keys = {}\n"
    "  for b = low, head do keys[#keys + 1] = k .. ':' .. string.format('%d', b) end\n"
    "  total = redis.call('PFCOUNT', unpack(keys))\n"
    "  if total >= threshold then\n"
    "    redis.call('DEL', k, unpack(keys))\n"
    "    return {1, total}\n"
    "  end\n"
    "else\n"
    "  for i = 5, #ARGV, 2 do\n"
    "    if tonumber(ARGV[i]) >= low then redis.call('HINCRBY', k, ARGV[i], ARGV[i + 1]) end\n"
    "  end\n"
    "  local all = redis.call('HGETALL', k)\n"
    "  for i = 1, #all, 2 do\n"
    "    if all[i] ~= 'head' then\n"
    "      if tonumber(all[i]) < low then redis.call('HDEL', k, all[i])\n"
    "      else total = total + tonumber(all[i + 1]) end\n"
    "    end\n"
    "  end\n"
    "  if total >= threshold then\n"
    "    redis.call('DEL', k)\n"
    "    return {1, total}\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', k, 'head', string.format('%d', head))\n"
    "redis.call('EXPIRE', k, ttl)\n"
    "return {0, total}\n";

struct item {
	int64_t bucket;
	uint64_t v;		/* count/sum: what was added in the bucket; distinct: a fingerprint */
};

struct entry {
	struct counters *owner;
	int rule;
	uint8_t cklen, klen;
	uint8_t ckey[CKEY_MAX], key[CKEY_MAX];
	int64_t ts;		/* the last event's */
	struct addr ip;
	enum ev_type type;
	struct item *it;
	uint32_t nit, cap;
	uint64_t gen;		/* the configuration it was gathered under */
};

struct batch {
	struct entry *e;
	uint32_t n, cap;
	uint32_t *slot;		/* open addressing: entry index + 1, 0 empty */
	uint32_t nslot;
};

struct counters {
	const struct config *conf;
	counters_decide_fn decide;
	void *arg;
	struct rlink *link;
	char sha[48];		/* the script's, once loaded */
	int loading;		/* SCRIPT LOAD or the key's GET is out */
	int have_key;
	struct hash_key key;	/* the cluster's */
	struct hash_key local;	/* this process's, for the gathering table */
	uint64_t key_version;
	uint64_t gen;
	struct batch gather, flight;
	uint32_t outstanding;	/* replies the batch in flight still waits for */
	int64_t sent_ms, next_ms;
	char *arena;		/* a command's arguments, formatted */
	size_t arena_cap;
	const char **argv;
	size_t *lens;
	size_t argv_cap;
	int64_t refused_until;	/* Redis refused a call (an ACL, a full memory): local counting till then */
	struct counters_stats st;
};

/* ---- the link's setup: the script, the cluster's key ---- */

static void
key_reply(void *arg, redisReply *r)
{
	struct counters *c = arg;
	struct hash_key k;
	char hex[33];

	c->loading &= ~2;
	if (r == NULL)
		return;
	if (r->type != REDIS_REPLY_STRING || r->len != 32 ||
	    sscanf(r->str, "%16" SCNx64 "%16" SCNx64, &k.k0, &k.k1) != 2) {
		/* someone else's value: never hash with a key anyone could have chosen */
		log_warnx("cluster counters: %s in Redis is not 32 hex digits; scope cluster rules count locally",
		    COUNTERS_SECRET);
		return;
	}
	memcpy(hex, r->str, 32);
	hex[32] = '\0';
	if (c->key_version == 0 || k.k0 != c->key.k0 || k.k1 != c->key.k1) {
		if (c->key_version > 0)
			log_warnx("cluster counters: the cluster's key in Redis changed (Redis lost its data?); taken");
		c->key = k;
		c->key_version++;
	}
	c->have_key = 1;
}

static void
load_reply(void *arg, redisReply *r)
{
	struct counters *c = arg;

	c->loading &= ~1;
	if (r == NULL)
		return;
	if (r->type != REDIS_REPLY_STRING || r->len >= (int)sizeof(c->sha)) {
		log_warnx("cluster counters: SCRIPT LOAD: %s", r->type == REDIS_REPLY_ERROR ? r->str : "an odd reply");
		return;
	}
	memcpy(c->sha, r->str, (size_t)r->len);
	c->sha[r->len] = '\0';
}

static void
setup(struct counters *c)
{
	const char *load[] = { "SCRIPT", "LOAD", script };
	char hex[33];
	uint64_t k[2];
	const char *set[] = { "SET", COUNTERS_SECRET, hex, "NX" };
	const char *get[] = { "GET", COUNTERS_SECRET };

	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
		log_warn("cluster counters: getrandom");
		return;
	}
	snprintf(hex, sizeof(hex), "%016" PRIx64 "%016" PRIx64, k[0], k[1]);
	c->sha[0] = '\0';
	c->loading = 3;
	rlink_command(c->link, load_reply, c, 3, load, NULL);
	rlink_command(c->link, NULL, NULL, 4, set, NULL);	/* the first node's key is everyone's */
	rlink_command(c->link, key_reply, c, 2, get, NULL);
}

static void
link_state(void *arg, int up)
{
	struct counters *c = arg;

	c->sha[0] = '\0';
	c->loading = 0;
	c->have_key = 0;	/* asked again: Redis may have lost it, and another node drawn a new one */
	if (up)
		setup(c);
}

int
counters_ready(const struct counters *c)
{
	return rlink_up(c->link) && c->sha[0] != '\0' && c->have_key && c->refused_until == 0;
}

/* The pause after a refusal is over: try Redis again. */
static void
refusal_over(struct counters *c, int64_t now)
{
	if (c->refused_until != 0 && now >= c->refused_until) {
		c->refused_until = 0;
		log_info("cluster counters: asking Redis again");
	}
}

const struct hash_key *
counters_key(const struct counters *c)
{
	return &c->key;
}

uint64_t
counters_key_version(const struct counters *c)
{
	return c->key_version;
}

/* ---- gathering ---- */

static void
batch_clear(struct batch *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		b->e[i].nit = 0;	/* (item arrays kept for the next batch) */
	b->n = 0;
	if (b->slot != NULL)
		memset(b->slot, 0, b->nslot * sizeof(*b->slot));
}

static void
batch_free(struct batch *b)
{
	for (uint32_t i = 0; i < b->cap; i++)
		free(b->e[i].it);
	free(b->e);
	free(b->slot);
}

static void
batch_rehash(struct counters *c, struct batch *b, uint32_t nslot)
{
	free(b->slot);
	b->nslot = nslot;
	b->slot = xcalloc(nslot, sizeof(*b->slot));
	for (uint32_t i = 0; i < b->n; i++) {
		struct entry *e = &b->e[i];
		uint64_t h = hash_bytes(&c->local, e->ckey, e->cklen) ^ (uint64_t)e->rule * 0x9e3779b97f4a7c15ull;
		uint32_t s = (uint32_t)h & (nslot - 1);

		while (b->slot[s] != 0)
			s = (s + 1) & (nslot - 1);
		b->slot[s] = i + 1;
	}
}

/* The gathering batch's entry for (rule, cluster key), created if new; NULL when the batch is full. */
static struct entry *
entry_of(struct counters *c, const struct engine_shared *s)
{
	struct batch *b = &c->gather;
	uint64_t h = hash_bytes(&c->local, s->ckey, s->cklen) ^ (uint64_t)s->rule * 0x9e3779b97f4a7c15ull;
	uint32_t i;
	struct entry *e;

	if (b->nslot == 0)
		batch_rehash(c, b, 1024);
	for (i = (uint32_t)h & (b->nslot - 1); b->slot[i] != 0; i = (i + 1) & (b->nslot - 1)) {
		e = &b->e[b->slot[i] - 1];
		if (e->rule == s->rule && e->cklen == s->cklen && memcmp(e->ckey, s->ckey, s->cklen) == 0)
			return e;
	}
	if (b->n >= BATCH_KEYS_MAX)
		return NULL;
	if (b->n == b->cap) {
		uint32_t ncap = b->cap ? b->cap * 2 : 256;

		b->e = xrealloc(b->e, ncap * sizeof(*b->e));
		memset(b->e + b->cap, 0, (ncap - b->cap) * sizeof(*b->e));
		b->cap = ncap;
	}
	e = &b->e[b->n++];
	e->owner = c;
	e->rule = s->rule;
	e->cklen = (uint8_t)s->cklen;
	memcpy(e->ckey, s->ckey, s->cklen);
	e->klen = (uint8_t)s->klen;
	memcpy(e->key, s->key, s->klen);
	e->nit = 0;
	e->gen = c->gen;
	b->slot[i] = b->n;
	if (b->n * 2 > b->nslot)
		batch_rehash(c, b, b->nslot * 2);
	return e;
}

/*
 * Forget the updates of buckets that are out of the window by now (a long
 * catch-up gathers hours of a log in one batch): Redis would drop them
 * anyway, since the window's head is at least this bucket.
 */
static void
compact(struct entry *e, int64_t bucket)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < e->nit; i++)
		if (e->it[i].bucket > bucket - WIN_BUCKETS)
			e->it[n++] = e->it[i];
	e->nit = n;
}

int
counters_add(struct counters *c, const struct engine_shared *s)
{
	const struct rule *r;
	struct entry *e;
	int64_t bucket;

	if (!counters_ready(c) || s->rule < 0 || s->rule >= c->conf->nrules || s->cklen > CKEY_MAX ||
	    s->klen > CKEY_MAX)
		return 0;
	r = c->conf->rules[s->rule];
	if ((e = entry_of(c, s)) == NULL) {
		c->st.dropped++;
		return 0;
	}
	bucket = s->ts / win_width(r->window);
	if (r->measure != M_DISTINCT && e->nit > 0 && e->it[e->nit - 1].bucket == bucket) {
		e->it[e->nit - 1].v += s->add;
	} else {
		if (r->measure == M_DISTINCT)
			/* the same value again (a client repeating a recipient) is sent once */
			for (uint32_t i = e->nit > 8 ? e->nit - 8 : 0; i < e->nit; i++)
				if (e->it[i].v == s->fp && e->it[i].bucket == bucket)
					goto taken;
		if (e->nit == e->cap || e->nit >= ITEMS_MAX)
			compact(e, bucket);
		if (e->nit >= ITEMS_MAX) {
			c->st.dropped++;
			return 0;
		}
		if (e->nit == e->cap) {
			e->cap = e->cap ? e->cap * 2 : 8;
			e->it = xrealloc(e->it, e->cap * sizeof(*e->it));
		}
		e->it[e->nit++] = (struct item){ bucket, r->measure == M_DISTINCT ? s->fp : s->add };
	}
taken:
	e->ts = s->ts;
	e->ip = s->ev->ip;
	e->type = s->ev->type;
	c->st.updates++;
	return 1;
}

/* ---- sending ---- */

static void
call_reply(void *arg, redisReply *r)
{
	struct entry *e = arg;
	struct counters *c = e->owner;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER) {
		c->st.errors++;
		if (e->gen == c->gen)
			c->decide(c->arg, e->rule, e->key, e->klen, 0, e->ts, &e->ip, e->type);	/* judged here */
		if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 &&
		    c->sha[0] != '\0' && !(c->loading & 1)) {
			/* the script is gone (a failover to a fresh replica, SCRIPT FLUSH): load it again */
			const char *load[] = { "SCRIPT", "LOAD", script };

			c->sha[0] = '\0';
			c->loading |= 1;
			rlink_command(c->link, load_reply, c, 3, load, NULL);
		} else if (r != NULL) {
			/*
			 * Refused (an ACL without the script's commands, a Redis out
			 * of memory): the rules' own windows decide for a while, so
			 * that nothing goes undecided while Redis says no.
			 */
			if (c->refused_until == 0)
				log_warnx("cluster counters: %s; scope cluster rules count on this node alone for %d s",
				    r->type == REDIS_REPLY_ERROR ? r->str : "an odd reply", REFUSED_PAUSE_MS / 1000);
			c->refused_until = mono_ms() + REFUSED_PAUSE_MS;
		}
	} else if (r->element[0]->integer == 1 && r->element[1]->integer > 0 && e->gen == c->gen) {
		c->st.crossed++;
		c->decide(c->arg, e->rule, e->key, e->klen, (uint64_t)r->element[1]->integer, e->ts, &e->ip, e->type);
	}
	if (c->outstanding > 0 && --c->outstanding == 0) {
		int64_t rtt = mono_ms() - c->sent_ms;

		c->st.last_rtt_ms = rtt;
		if (rtt > c->st.max_rtt_ms)
			c->st.max_rtt_ms = rtt;
		batch_clear(&c->flight);
	}
}

static char *
arena_put(struct counters *c, size_t *at, const void *p, size_t n)
{
	char *s = c->arena + *at;

	memcpy(s, p, n);
	*at += n;
	return s;
}

/*
 * A key as the window's name ends: a client's address or prefix as text
 * ("203.0.113.7", "2001:db8:1::/64"), "*", or for a string key (a HELO
 * name, a sender: anyone's text) its bytes in hex. Room: 2 * CKEY_MAX + 1.
 */
static size_t
key_name(const struct rule *r, const uint8_t *k, size_t klen, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (r->key == KEY_CLIENT || r->key == KEY_GLOBAL) {
		engine_key_text(r, k, klen, out, 2 * CKEY_MAX + 1);	/* (as the decisions name it) */
		return strlen(out);
	}
	for (size_t i = 0; i < klen; i++) {
		out[n++] = hex[k[i] >> 4];
		out[n++] = hex[k[i] & 15];
	}
	return n;
}

static void
send_entry(struct counters *c, struct entry *e)
{
	const struct rule *r = c->conf->rules[e->rule];
	size_t need = 256 + strlen(r->name) + 2 * (size_t)e->cklen + (size_t)e->nit * 48, at = 0, n = 0;
	size_t nargs = 9 + 2 * (size_t)e->nit;
	char num[32];
	int distinct = r->measure == M_DISTINCT;
	int64_t width = win_width(r->window);

	if (need > c->arena_cap) {
		c->arena_cap = need * 2;
		c->arena = xrealloc(c->arena, c->arena_cap);
	}
	if (nargs > c->argv_cap) {
		c->argv_cap = nargs * 2;
		c->argv = xrealloc(c->argv, c->argv_cap * sizeof(*c->argv));
		c->lens = xrealloc(c->lens, c->argv_cap * sizeof(*c->lens));
	}
#define ARG(p, len) (c->lens[n] = (len), c->argv[n++] = (p))
#define ARGNUM(fmt, v) do { int l_ = snprintf(num, sizeof(num), fmt, v); ARG(arena_put(c, &at, num, (size_t)l_), (size_t)l_); } while (0)
	ARG("EVALSHA", 7);
	ARG(c->sha, strlen(c->sha));
	ARG("1", 1);
	{
		/* the window's name: the prefix, the rule, the key's bytes (binary-safe) */
		size_t l0 = at;

		arena_put(c, &at, COUNTERS_KEY_PREFIX, strlen(COUNTERS_KEY_PREFIX));
		arena_put(c, &at, r->name, strlen(r->name));
		arena_put(c, &at, ":", 1);
		at += key_name(r, e->ckey, e->cklen, c->arena + at);
		ARG(c->arena + l0, at - l0);
	}
	ARG(distinct ? "d" : "c", 1);
	ARGNUM("%" PRId64, width);
	ARGNUM("%" PRIu64, r->threshold);
	ARGNUM("%" PRId64, r->window + 2 * width);
	for (uint32_t i = 0; i < e->nit; i++) {
		ARGNUM("%" PRId64, e->it[i].bucket);
		if (distinct) {
			/* 8 raw bytes: the value itself never leaves the node */
			ARG(arena_put(c, &at, &e->it[i].v, 8), 8);
		} else {
			ARGNUM("%" PRIu64, e->it[i].v);
		}
	}
#undef ARG
#undef ARGNUM
	if (rlink_command(c->link, call_reply, e, (int)n, c->argv, c->lens) == 0) {
		c->outstanding++;
		c->st.calls++;
	} else {
		c->st.errors++;
	}
}

void
counters_flush(struct counters *c)
{
	struct batch t;

	if (c->outstanding > 0 || c->gather.n == 0 || !counters_ready(c))
		return;
	batch_clear(&c->flight);
	t = c->flight;
	c->flight = c->gather;
	c->gather = t;
	c->sent_ms = mono_ms();
	c->next_ms = c->sent_ms + COUNTERS_TICK_MS;
	for (uint32_t i = 0; i < c->flight.n; i++)
		if (c->flight.e[i].gen == c->gen)
			send_entry(c, &c->flight.e[i]);
	if (c->outstanding > 0)
		c->st.batches++;
	else
		batch_clear(&c->flight);
}

int
counters_busy(const struct counters *c)
{
	return c->outstanding > 0 || c->gather.n > 0;
}

/* ---- the rest ---- */

struct counters *
counters_new(const struct redis_url *u, const struct config *conf, counters_decide_fn fn, void *arg)
{
	struct counters *c = xcalloc(1, sizeof(*c));

	c->conf = conf;
	c->decide = fn;
	c->arg = arg;
	c->local = hash_process_key();
	c->link = rlink_new(u, "counters", 5000, link_state, c);
	return c;
}

void
counters_free(struct counters *c)
{
	if (c == NULL)
		return;
	c->gen++;		/* replies that come back NULL now decide nothing */
	rlink_free(c->link);
	batch_free(&c->gather);
	batch_free(&c->flight);
	free(c->arena);
	free(c->argv);
	free(c->lens);
	free(c);
}

void
counters_reconfigure(struct counters *c, const struct config *conf)
{
	c->conf = conf;
	c->gen++;
	batch_clear(&c->gather);
}

int
counters_pollfd(struct counters *c, struct pollfd *pfd)
{
	return rlink_pollfd(c->link, pfd);
}

int64_t
counters_next_ms(const struct counters *c)
{
	int64_t l = rlink_next_ms(c->link);

	if (c->gather.n > 0 && c->outstanding == 0 && counters_ready(c) && (l < 0 || c->next_ms < l))
		return c->next_ms;
	if (c->refused_until != 0 && (l < 0 || c->refused_until < l))
		return c->refused_until;
	return l;
}

void
counters_process(struct counters *c, short revents, int64_t now_ms)
{
	refusal_over(c, now_ms);
	rlink_process(c->link, revents, now_ms);
	if (now_ms >= c->next_ms)
		counters_flush(c);
}

int
counters_wait(struct counters *c, int until_ready, int timeout_ms)
{
	int64_t end = mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd;
		int64_t now = mono_ms(), due = rlink_next_ms(c->link), wait = end - now;
		int n;

		if (until_ready ? counters_ready(c) : c->outstanding == 0)
			return 1;
		if (wait <= 0)
			return 0;
		if (due >= 0 && due - now < wait)
			wait = due > now ? due - now : 0;
		n = rlink_pollfd(c->link, &pfd);
		if (poll(&pfd, (nfds_t)n, (int)wait) < 0)
			pfd.revents = 0;
		refusal_over(c, mono_ms());
		rlink_process(c->link, n ? pfd.revents : 0, mono_ms());
	}
}

void
counters_pump(struct counters *c)
{
	struct pollfd pfd;
	int n = rlink_pollfd(c->link, &pfd);

	if (n > 0 && poll(&pfd, 1, 0) <= 0)
		pfd.revents = 0;
	counters_process(c, n > 0 ? pfd.revents : 0, mono_ms());
}

struct counters_stats
counters_stats(const struct counters *c)
{
	struct counters_stats s = c->st;

	s.link = rlink_state_text(c->link);
	s.waiting = c->gather.n + c->outstanding;
	return s;
}
