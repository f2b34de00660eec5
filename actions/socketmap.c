/* socketmap.c - see socketmap.h. */
#include "socketmap.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/clock.h"
#include "../common/xalloc.h"

#define REQ_MAX 4096		/* a request is a map name and a key: far less */

struct conn {
	int fd;
	uid_t uid;		/* the peer's user (SO_PEERCRED) */
	int64_t active_ms;	/* last request answered (or accepted) */
	int64_t req_ms;		/* first byte of the pending request; 0: none */
	size_t len;
	char buf[REQ_MAX + 16];
};

struct smap {
	int lfd;
	char *path;
	struct dmap *m;
	int64_t idle_ms;
	struct conn *c[SMAP_MAX_CONNS];
	int n;
	uint64_t timed_out, evicted;	/* for the log */
};

/*
 * The group of the socket: the one asked for, else "postfix" if there is
 * one (its smtpd, proxymap and trivial-rewrite are the usual clients),
 * else ours. 1 and *gid; 0 if the named group does not exist.
 */
static int
socket_group(const char *name, gid_t *gid)
{
	struct group *g = getgrnam(name != NULL ? name : "postfix");

	if (g != NULL) {
		*gid = g->gr_gid;
		return 1;
	}
	if (name != NULL)
		return 0;
	*gid = getegid();
	return 1;
}

struct smap *
smap_listen(const char *path, const struct smap_opts *o, struct dmap *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct smap *s;
	struct stat sb;
	gid_t gid;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("socketmap: path too long: %s", path);
		return NULL;
	}
	if (!socket_group(o->group, &gid)) {
		log_warnx("socketmap: no group named '%s'", o->group);
		return NULL;
	}
	/* A stale socket is ours to replace; a file (a mistyped path) is not ours to delete. */
	if (lstat(path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
		log_warnx("socketmap: %s exists and is not a socket; not replacing it", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		log_warn("socketmap socket");
		return NULL;
	}
	unlink(path);
	/* 0660 from the start (no window where anyone may connect), then the MTA's group. */
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		umask(old);
		log_warn("socketmap %s", path);
		close(fd);
		return NULL;
	}
	umask(old);
	if (lchown(path, (uid_t)-1, gid) < 0 || chmod(path, 0660) < 0) {
		if (errno == EPERM && geteuid() != 0) {
			/* (run --user: the worker gives the socket its group, which it may only if it is a member) */
			struct group *g = getgrgid(gid);

			log_warnx("socketmap %s: cannot give it group %s: this user (uid %u) is not a member "
			    "(add it: usermod -aG %s USER)", path, g != NULL ? g->gr_name : "?", (unsigned)geteuid(),
			    g != NULL ? g->gr_name : "GROUP");
		} else
			log_warn("socketmap %s: mode 0660, group %u", path, (unsigned)gid);
		close(fd);
		unlink(path);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->lfd = fd;
	s->path = xstrdup(path);
	s->m = m;
	s->idle_ms = o->idle_ms > 0 ? o->idle_ms : SMAP_IDLE_MS;
	{
		struct group *g = getgrgid(gid);

		log_info("socketmap: %s, mode 0660, group %s", path, g != NULL ? g->gr_name : "?");
	}
	return s;
}

static void
drop(struct smap *s, int i)
{
	close(s->c[i]->fd);
	free(s->c[i]);
	s->c[i] = s->c[--s->n];
}

void
smap_close(struct smap *s)
{
	if (s == NULL)
		return;
	while (s->n > 0)
		drop(s, s->n - 1);
	close(s->lfd);
	unlink(s->path);
	free(s->path);
	free(s);
}

int
smap_pollfds(struct smap *s, struct pollfd *pfd, int max)
{
	int k = 0;

	if (max > 0)
		pfd[k++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	for (int i = 0; i < s->n && k < max; i++)
		pfd[k++] = (struct pollfd){ .fd = s->c[i]->fd, .events = POLLIN };
	return k;
}

void
smap_answer(struct dmap *m, const char *req, size_t len, int64_t now, char *out, size_t outlen)
{
	const char *sp = memchr(req, ' ', len);
	char key[REQ_MAX + 1];
	size_t nlen, klen;
	struct dmap_hit h;
	int found = 0;

	if (sp == NULL) {
		snprintf(out, outlen, "PERM expected 'NAME KEY'");
		return;
	}
	nlen = (size_t)(sp - req);
	klen = len - nlen - 1;
	memcpy(key, sp + 1, klen);
	key[klen] = '\0';
	if (nlen == 6 && memcmp(req, "client", 6) == 0) {
		struct addr a;

		/* Host names and Postfix's partial addresses ("203.0.113") are not ours to answer. */
		found = addr_parse(key, klen, &a) && dmap_client(m, &a, now, &h);
	} else if (nlen == 4 && memcmp(req, "helo", 4) == 0)
		found = dmap_word(m, DK_HELO, key, now, &h);
	else if (nlen == 6 && memcmp(req, "access", 6) == 0) {
		/*
		 * Sendmail's access map (FEATURE(access_db) on a socket map):
		 * "Connect:ADDR" (IPv6 as "IPv6:..."); its other tags and its
		 * shorter networks are not ours. The answer is in Sendmail's words.
		 */
		struct addr a;
		char text[200];

		if (klen > 8 && strncasecmp(key, "Connect:", 8) == 0 && addr_parse(key + 8, klen - 8, &a) &&
		    dmap_client(m, &a, now, &h) && dmap_sendmail_result(&h, text, sizeof(text)) != NULL)
			snprintf(out, outlen, "OK %s", text);
		else
			snprintf(out, outlen, "NOTFOUND ");
		return;
	} else if (nlen == 6 && memcmp(req, "sender", 6) == 0)
		/* check_sender_access asks for user@domain, then domain, then user@. */
		found = strchr(key, '@') != NULL ? dmap_word(m, DK_SENDER, key, now, &h) :
		    dmap_word(m, DK_SENDER_DOMAIN, key, now, &h);
	else {
		snprintf(out, outlen, "PERM unknown map '%.*s' (client, helo, sender, access)", (int)(nlen > 32 ? 32 : nlen),
		    req);
		return;
	}
	{
		char text[200];

		if (found && dmap_postfix_result(&h, text, sizeof(text)) != NULL)
			snprintf(out, outlen, "OK %s", text);
		else
			snprintf(out, outlen, "NOTFOUND ");
	}
}

/* Answer every complete netstring in the connection's buffer: how many; -1: drop it (bad framing). */
static int
serve_conn(struct smap *s, struct conn *c, int64_t now)
{
	size_t off = 0;
	int answered = 0;

	for (;;) {
		size_t len = 0, i = off, hdr;
		char reply[512], frame[600];
		int n;

		while (i < c->len && c->buf[i] >= '0' && c->buf[i] <= '9' && i - off < 6)
			len = len * 10 + (size_t)(c->buf[i++] - '0');
		if (i == c->len)
			break;			/* the length is still coming */
		if (i == off || c->buf[i] != ':' || len > REQ_MAX)
			return -1;
		hdr = i + 1 - off;
		if (c->len - off < hdr + len + 1)
			break;			/* the data is still coming */
		if (c->buf[off + hdr + len] != ',')
			return -1;
		smap_answer(s->m, c->buf + off + hdr, len, now, reply, sizeof(reply));
		n = snprintf(frame, sizeof(frame), "%zu:%s,", strlen(reply), reply);
		if (send(c->fd, frame, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
			return -1;		/* a client that does not read its replies goes */
		off += hdr + len + 1;
		answered++;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return answered;
}

/*
 * All slots taken: the connection to give up is the least recently active
 * one of the user who holds the most. A local process that hogs the
 * socket thus only ever evicts its own connections once it holds more
 * than the MTA, whose lookups keep their slots.
 */
static int
by_uid(const void *a, const void *b)
{
	uid_t x = *(const uid_t *)a, y = *(const uid_t *)b;

	return x < y ? -1 : x > y;
}

static int
victim(struct smap *s)
{
	uid_t u[SMAP_MAX_CONNS], top = 0;
	int best = -1, most = 0;

	/* The uid with the most connections: sort a copy (n log n, this runs for every accept when full). */
	for (int i = 0; i < s->n; i++)
		u[i] = s->c[i]->uid;
	qsort(u, (size_t)s->n, sizeof(u[0]), by_uid);
	for (int i = 0, j; i < s->n; i = j) {
		for (j = i; j < s->n && u[j] == u[i]; j++)
			;
		if (j - i > most) {
			most = j - i;
			top = u[i];
		}
	}
	for (int i = 0; i < s->n; i++)
		if (s->c[i]->uid == top && (best < 0 || s->c[i]->active_ms < s->c[best]->active_ms))
			best = i;
	return best;
}

static void
accept_all(struct smap *s, int64_t ms)
{
	/* At most a listen backlog per wakeup: clients that connect without end cannot keep the loop here. */
	for (int accepted = 0; accepted < 64; accepted++) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		struct conn *c;

		if (fd < 0)
			break;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0) {
			close(fd);
			continue;
		}
		if (s->n == SMAP_MAX_CONNS) {
			int v = victim(s);

			if (s->evicted++ == 0 || s->c[v]->uid != cr.uid)
				log_info("socketmap: all %d connections taken; closing the oldest of uid %u for uid %u",
				    SMAP_MAX_CONNS, (unsigned)s->c[v]->uid, (unsigned)cr.uid);
			drop(s, v);
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->uid = cr.uid;
		c->active_ms = ms;
		s->c[s->n++] = c;
	}
}

void
smap_serve(struct smap *s, const struct pollfd *pfd, int n, int64_t now)
{
	int64_t ms = mono_ms();

	/* Connections first (their order matches pfd[1..]), from the end so drop() keeps indexes. */
	for (int i = n - 1; i >= 1; i--) {
		int k = i - 1;
		struct conn *c;
		ssize_t r;

		if (k >= s->n || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		c = s->c[k];
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			drop(s, k);
			continue;
		}
		if (c->len == 0)
			c->req_ms = ms;
		c->len += (size_t)r;
		if ((r = serve_conn(s, c, now)) < 0 || c->len == sizeof(c->buf)) {
			drop(s, k);
			continue;
		}
		if (r > 0) {
			/* What is left is the start of the next request: its time starts now. */
			c->active_ms = ms;
			c->req_ms = c->len > 0 ? ms : 0;
		}
	}
	/*
	 * Deadlines, per request and not per byte: a client that drips a
	 * request byte by byte still has SMAP_REQUEST_MS for all of it; one
	 * that says nothing is closed after the idle time (Postfix and
	 * Sendmail reconnect when they next need the map).
	 */
	for (int k = s->n - 1; k >= 0; k--) {
		const struct conn *c = s->c[k];

		if ((c->req_ms != 0 && ms - c->req_ms > SMAP_REQUEST_MS) || (c->req_ms == 0 && ms - c->active_ms > s->idle_ms)) {
			s->timed_out++;
			log_debug("socketmap: closing a connection of uid %u (%s)", (unsigned)c->uid,
			    c->req_ms ? "request too slow" : "idle");
			drop(s, k);
		}
	}
	if (n > 0 && (pfd[0].revents & POLLIN))
		accept_all(s, ms);
}
