/*
 * redis.c - one connection to Redis in the daemon's poll loop (see redis.h).
 *
 * hiredis's asynchronous context is told to read or write through five
 * hooks; here they only set two flags, which rlink_pollfd turns into the
 * poll entry, and rlink_process calls hiredis back for what poll saw. Every
 * deadline is ours: hiredis 0.14 has none for an asynchronous connect or a
 * reply. hiredis frees its context itself when the connection ends from
 * within (an error, a failed connect); a drop decided in one of our
 * callbacks is only requested there and done in rlink_process, outside
 * hiredis.
 */
#include "redis.h"

#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/xalloc.h"

#define CONNECT_TIMEOUT_MS 2000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

enum lstate { L_DOWN, L_CONNECTING, L_HELLO, L_UP };

struct rlink {
	struct redis_url u;
	char name[64];
	int reply_timeout_ms;
	rlink_state_fn fn;
	void *arg;
	redisAsyncContext *ac;
	enum lstate st;
	int sentinel;		/* connected (or connecting) to sentinel number sentinel_i, not to Redis */
	int sentinel_i;
	char host[256];		/* the target now: Redis, or the sentinel being asked */
	uint16_t port;
	int want_read, want_write;
	int drop;		/* a drop asked for inside a callback (done in rlink_process) */
	int pending;		/* commands without their reply */
	int64_t progress_ms;	/* when the last reply came (or the first command went out) */
	int64_t deadline_ms;	/* connect or hello must be done by then */
	int64_t retry_ms;	/* DOWN: when to try again */
	int backoff_ms;
	char why[160];		/* why it is down */
	char text[220];
	char where[300];
	int said_down;		/* the drop was logged (once per outage) */
	int replicas;		/* the master's replicas when it said ROLE */
};

struct cmd {
	struct rlink *l;
	rlink_reply_fn fn;
	void *arg;
};

/* ---- the URL ---- */

static int
parse_hostport(const char *s, size_t n, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon;
	size_t hl;
	long p;
	char *end, num[8];

	if (n > 0 && s[0] == '[') {	/* [IPv6]:PORT */
		const char *rb = memchr(s, ']', n);

		if (rb == NULL || rb + 1 >= s + n || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - s - 1);
		if (hl == 0 || hl >= hostlen)
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		colon = rb + 1;
	} else {
		colon = NULL;
		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				colon = s + i;
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
		if (hl == 0 || hl >= hostlen)
			return -1;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if ((size_t)(s + n - colon - 1) == 0 || (size_t)(s + n - colon - 1) >= sizeof(num))
		return -1;
	memcpy(num, colon + 1, (size_t)(s + n - colon - 1));
	num[s + n - colon - 1] = '\0';
	p = strtol(num, &end, 10);
	if (*end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	for (const char *c = host; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
		    *c == '-' || *c == ':' || *c == '_'))
			return -1;
	return 0;
}

int
redis_url_parse(const char *text, struct redis_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	if (strncmp(text, "redis://", 8) == 0) {
		const char *p = text + 8, *at = strrchr(p, '@'), *slash;

		if (at != NULL) {
			const char *c = memchr(p, ':', (size_t)(at - p));

			if (c == NULL) {
				snprintf(err, errlen, "%s: USER:PASSWORD@ (a user alone: write USER: and set the password "
				    "with password-file)", text);
				return -1;
			}
			if ((size_t)(c - p) >= sizeof(u->user) || (size_t)(at - c - 1) >= sizeof(u->password)) {
				snprintf(err, errlen, "%s: user or password too long", text);
				return -1;
			}
			memcpy(u->user, p, (size_t)(c - p));
			memcpy(u->password, c + 1, (size_t)(at - c - 1));
			p = at + 1;
		}
		slash = strchr(p, '/');
		if (parse_hostport(p, slash ? (size_t)(slash - p) : strlen(p), u->host, sizeof(u->host), &u->port) < 0) {
			snprintf(err, errlen, "%s: expected redis://[USER:PASSWORD@]HOST:PORT[/DB]", text);
			return -1;
		}
		if (slash != NULL) {
			char *end;
			long db = strtol(slash + 1, &end, 10);

			if (slash[1] == '\0' || *end != '\0' || db < 0 || db > 1000000) {
				snprintf(err, errlen, "%s: the database is a number (/0, /1, ...)", text);
				return -1;
			}
			u->db = (int)db;
		}
		return 0;
	}
	if (strncmp(text, "sentinel://", 11) == 0) {
		const char *p = text + 11, *slash = strchr(p, '/');

		if (slash == NULL || slash[1] == '\0' || strlen(slash + 1) >= sizeof(u->master)) {
			snprintf(err, errlen, "%s: expected sentinel://HOST:PORT[,HOST:PORT...]/MASTER", text);
			return -1;
		}
		snprintf(u->master, sizeof(u->master), "%s", slash + 1);
		while (p < slash) {
			const char *comma = memchr(p, ',', (size_t)(slash - p));
			size_t n = comma ? (size_t)(comma - p) : (size_t)(slash - p);

			if (u->nsentinels == REDIS_SENTINELS_MAX) {
				snprintf(err, errlen, "%s: at most %d sentinels", text, REDIS_SENTINELS_MAX);
				return -1;
			}
			if (parse_hostport(p, n, u->shost[u->nsentinels], sizeof(u->shost[0]), &u->sport[u->nsentinels]) < 0) {
				snprintf(err, errlen, "%s: sentinel %d: expected HOST:PORT", text, u->nsentinels + 1);
				return -1;
			}
			u->nsentinels++;
			p += n + (comma != NULL);
		}
		if (u->nsentinels == 0) {
			snprintf(err, errlen, "%s: no sentinel", text);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "%s: expected redis://HOST:PORT or sentinel://HOST:PORT/MASTER", text);
	return -1;
}

/* ---- hiredis's hooks ---- */

static void ev_add_read(void *p) { ((struct rlink *)p)->want_read = 1; }
static void ev_del_read(void *p) { ((struct rlink *)p)->want_read = 0; }
static void ev_add_write(void *p) { ((struct rlink *)p)->want_write = 1; }
static void ev_del_write(void *p) { ((struct rlink *)p)->want_write = 0; }
static void ev_cleanup(void *p) { ((struct rlink *)p)->want_read = ((struct rlink *)p)->want_write = 0; }

/* ---- state ---- */

static void
went_down(struct rlink *l, const char *why)
{
	int was_up = l->st == L_UP;

	l->ac = NULL;
	l->st = L_DOWN;
	l->want_read = l->want_write = 0;
	l->pending = 0;
	l->drop = 0;
	snprintf(l->why, sizeof(l->why), "%s", why);
	l->retry_ms = mono_ms() + l->backoff_ms;
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
	if (l->sentinel)
		l->sentinel_i = (l->sentinel_i + 1) % l->u.nsentinels;	/* the next sentinel next time */
	else if (l->u.nsentinels > 0)
		l->host[0] = '\0';	/* a lost master: ask the sentinels where it is now, never straight back */
	if (!l->said_down || was_up)
		log_warnx("cluster: %s: %s %s: %s; trying again", l->name, l->sentinel ? "sentinel" : "Redis",
		    rlink_where(l), why);
	l->said_down = 1;
	if (was_up)
		l->fn(l->arg, 0);
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rlink *l = ac->data;

	(void)status;
	if (l != NULL && l->ac == ac)
		went_down(l, ac->errstr[0] ? ac->errstr : "connection closed");
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct rlink *l = ac->data;

	if (status != REDIS_OK && l != NULL && l->ac == ac)
		went_down(l, ac->errstr[0] ? ac->errstr : "cannot connect");	/* hiredis frees ac */
}

/* Drop the connection from outside hiredis's callbacks. */
static void
drop(struct rlink *l, const char *why)
{
	redisAsyncContext *ac = l->ac;
	char w[160];

	snprintf(w, sizeof(w), "%s", why);
	if (ac == NULL)
		return;
	ac->data = NULL;	/* its callbacks (replies NULL) come now; its disconnect is not ours any more */
	l->ac = NULL;
	redisAsyncFree(ac);
	went_down(l, w);
}

static void
reply_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct cmd *c = priv;
	struct rlink *l = c->l;
	redisReply *r = reply;

	(void)ac;
	if (l->pending > 0)
		l->pending--;
	l->progress_ms = mono_ms();
	if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "READONLY", 8) == 0 && !l->drop) {
		/* A master that became a replica (a failover): ask where the master is now. */
		l->drop = 1;
		snprintf(l->why, sizeof(l->why), "%s", "the server is a replica now (READONLY)");
	}
	if (c->fn != NULL)
		c->fn(c->arg, r);
	free(c);
}

static int
send_argv(struct rlink *l, rlink_reply_fn fn, void *arg, int argc, const char **argv, const size_t *lens)
{
	struct cmd *c = xmalloc(sizeof(*c));

	*c = (struct cmd){ l, fn, arg };
	if (redisAsyncCommandArgv(l->ac, reply_cb, c, argc, argv, lens) != REDIS_OK) {
		free(c);
		return -1;
	}
	if (l->pending++ == 0)
		l->progress_ms = mono_ms();
	return 0;
}

static void start_connect(struct rlink *l, int64_t now);

static void
hello_done(void *arg, redisReply *r)
{
	struct rlink *l = arg;

	if (r == NULL || l->st != L_HELLO || l->drop)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(l->why, sizeof(l->why), "%s", r->str);
		l->drop = 1;
		return;
	}
	if (l->pending > 0)
		return;		/* the last of AUTH, SELECT, ROLE */
	l->st = L_UP;
	l->backoff_ms = BACKOFF_MIN_MS;
	log_info("cluster: %s: connected to Redis %s", l->name, rlink_where(l));
	l->said_down = 0;
	l->fn(l->arg, 1);
}

/* A master must say it is one: after a failover the old one may come back as a replica. */
static void
role_reply(void *arg, redisReply *r)
{
	struct rlink *l = arg;

	if (r != NULL && l->st == L_HELLO && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") != 0) {
		snprintf(l->why, sizeof(l->why), "it is a %s, not the master", r->element[0]->str);
		l->drop = 1;
		return;
	}
	/* ["master", offset, [[ip, port, offset], ...]]: how many replicas a write should reach */
	l->replicas = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 3 &&
	    r->element[2]->type == REDIS_REPLY_ARRAY ? (int)r->element[2]->elements : 0;
	hello_done(arg, r);
}

static void
master_addr(void *arg, redisReply *r)
{
	struct rlink *l = arg;

	if (r == NULL || l->st != L_HELLO)
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING || atoi(r->element[1]->str) < 1 || atoi(r->element[1]->str) > 65535 ||
	    strlen(r->element[0]->str) >= sizeof(l->host)) {
		snprintf(l->why, sizeof(l->why), "does not know master \"%s\"", l->u.master);
		l->drop = 1;
		return;
	}
	snprintf(l->host, sizeof(l->host), "%s", r->element[0]->str);
	l->port = (uint16_t)atoi(r->element[1]->str);
	l->drop = 2;		/* done with the sentinel: to the master at once */
}

static void
connected(struct rlink *l)
{
	l->st = L_HELLO;
	l->deadline_ms = mono_ms() + CONNECT_TIMEOUT_MS;
	if (l->sentinel) {
		const char *argv[] = { "SENTINEL", "get-master-addr-by-name", l->u.master };

		send_argv(l, master_addr, l, 3, argv, NULL);
		return;
	}
	if (l->u.password[0]) {
		const char *argv[] = { "AUTH", l->u.user, l->u.password };

		if (l->u.user[0])
			send_argv(l, hello_done, l, 3, argv, NULL);
		else {
			argv[1] = l->u.password;
			send_argv(l, hello_done, l, 2, argv, NULL);
		}
	}
	if (l->u.db != 0) {
		char db[16];
		const char *argv[] = { "SELECT", db };

		snprintf(db, sizeof(db), "%d", l->u.db);
		send_argv(l, hello_done, l, 2, argv, NULL);
	}
	{
		const char *argv[] = { "ROLE" };

		send_argv(l, role_reply, l, 1, argv, NULL);
	}
}

static void
start_connect(struct rlink *l, int64_t now)
{
	redisAsyncContext *ac;

	if (l->u.nsentinels > 0 && !l->sentinel && l->host[0] == '\0') {
		l->sentinel = 1;	/* where is the master? */
	}
	if (l->sentinel) {
		snprintf(l->host, sizeof(l->host), "%s", l->u.shost[l->sentinel_i]);
		l->port = l->u.sport[l->sentinel_i];
	}
	ac = redisAsyncConnect(l->host, l->port);
	if (ac == NULL || ac->err) {
		char why[160];

		snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		l->st = L_CONNECTING;
		went_down(l, why);
		return;
	}
	ac->data = l;
	ac->ev.data = l;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	l->ac = ac;
	l->st = L_CONNECTING;
	l->pending = 0;
	l->deadline_ms = now + CONNECT_TIMEOUT_MS;
	/* The connect's end is a write event; the hello is queued now and goes out with it. */
	l->want_write = 1;
	connected(l);
	l->st = L_CONNECTING;
}

/* ---- the public side ---- */

struct rlink *
rlink_new(const struct redis_url *u, const char *name, int reply_timeout_ms, rlink_state_fn fn, void *arg)
{
	struct rlink *l = xcalloc(1, sizeof(*l));

	l->u = *u;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->reply_timeout_ms = reply_timeout_ms;
	l->fn = fn;
	l->arg = arg;
	l->backoff_ms = BACKOFF_MIN_MS;
	if (u->nsentinels == 0) {
		snprintf(l->host, sizeof(l->host), "%s", u->host);
		l->port = u->port;
	}
	l->st = L_DOWN;
	l->retry_ms = 0;	/* at once */
	snprintf(l->why, sizeof(l->why), "not connected yet");
	return l;
}

void
rlink_free(struct rlink *l)
{
	if (l == NULL)
		return;
	if (l->ac != NULL) {
		l->ac->data = NULL;
		redisAsyncFree(l->ac);
	}
	free(l);
}

int
rlink_up(const struct rlink *l)
{
	return l->st == L_UP;
}

int
rlink_replicas(const struct rlink *l)
{
	return l->replicas;
}

const char *
rlink_where(const struct rlink *l)
{
	struct rlink *m = (struct rlink *)l;

	snprintf(m->where, sizeof(m->where), strchr(l->host, ':') ? "[%s]:%u" : "%s:%u", l->host[0] ? l->host : "?",
	    l->port);
	return m->where;
}

const char *
rlink_state_text(const struct rlink *l)
{
	struct rlink *m = (struct rlink *)l;

	switch (l->st) {
	case L_UP:
		return "up";
	case L_CONNECTING:
	case L_HELLO:
		snprintf(m->text, sizeof(m->text), "connecting (%s)", l->why);
		return m->text;
	default:
		snprintf(m->text, sizeof(m->text), "down (%s)", l->why);
		return m->text;
	}
}

int
rlink_command(struct rlink *l, rlink_reply_fn fn, void *arg, int argc, const char **argv, const size_t *lens)
{
	if (l->st != L_UP || l->ac == NULL || l->drop)
		return -1;
	return send_argv(l, fn, arg, argc, argv, lens);
}

int
rlink_pollfd(struct rlink *l, struct pollfd *pfd)
{
	if (l->ac == NULL || (!l->want_read && !l->want_write))
		return 0;
	pfd->fd = l->ac->c.fd;
	pfd->events = (short)((l->want_read ? POLLIN : 0) | (l->want_write ? POLLOUT : 0));
	pfd->revents = 0;
	return 1;
}

int64_t
rlink_next_ms(const struct rlink *l)
{
	if (l->st == L_DOWN)
		return l->retry_ms;
	if (l->drop)
		return 0;
	if (l->st != L_UP)
		return l->deadline_ms;
	if (l->pending > 0)
		return l->progress_ms + l->reply_timeout_ms;
	return -1;
}

void
rlink_process(struct rlink *l, short revents, int64_t now)
{
	if (l->st == L_DOWN) {
		if (now >= l->retry_ms)
			start_connect(l, now);
		return;
	}
	if (l->ac != NULL && (revents & (POLLIN | POLLHUP | POLLERR)))
		redisAsyncHandleRead(l->ac);	/* may end the connection (hiredis frees it: went_down) */
	if (l->ac != NULL && (revents & POLLOUT))
		redisAsyncHandleWrite(l->ac);
	if (l->ac == NULL)
		return;
	if (l->st == L_CONNECTING && (l->ac->c.flags & REDIS_CONNECTED))
		l->st = L_HELLO;
	if (l->drop == 2) {		/* the sentinel named the master */
		char host[sizeof(l->host)];

		memcpy(host, l->host, sizeof(host));
		l->sentinel = 0;
		l->said_down = 1;	/* (not an outage) */
		drop(l, "asked the sentinel");
		memcpy(l->host, host, sizeof(host));	/* (went_down forgets a master's address) */
		l->retry_ms = now;	/* no backoff: straight to the master */
		l->backoff_ms = BACKOFF_MIN_MS;
		l->said_down = 1;
		return;
	}
	if (l->drop) {
		if (l->u.nsentinels > 0)
			l->host[0] = '\0';	/* ask the sentinels again */
		drop(l, l->why);
		return;
	}
	if (l->st != L_UP && now >= l->deadline_ms) {
		if (l->u.nsentinels > 0 && !l->sentinel)
			l->host[0] = '\0';
		drop(l, l->st == L_CONNECTING ? "no connection within 2 s" : "no answer within 2 s");
		return;
	}
	if (l->st == L_UP && l->pending > 0 && now - l->progress_ms > l->reply_timeout_ms) {
		if (l->u.nsentinels > 0)
			l->host[0] = '\0';
		drop(l, "no reply in time");
	}
}
