/* socketmap.c - see socketmap.h. */
#include "socketmap.h"

#include <errno.h>
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
#include "../common/xalloc.h"

#define MAX_CONNS 256		/* more than a busy Postfix's smtpd processes */
#define REQ_MAX 4096		/* a request is a map name and a key: far less */

struct conn {
	int fd;
	size_t len;
	char buf[REQ_MAX + 16];
};

struct smap {
	int lfd;
	char *path;
	struct dmap *m;
	struct conn *c[MAX_CONNS];
	int n;
};

struct smap *
smap_listen(const char *path, struct dmap *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct smap *s;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("socketmap: path too long: %s", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		log_warn("socketmap socket");
		return NULL;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		log_warn("socketmap %s", path);
		close(fd);
		return NULL;
	}
	/* Postfix's smtpd runs as its own user: it must connect. Lookups change nothing. */
	chmod(path, 0666);
	s = xcalloc(1, sizeof(*s));
	s->lfd = fd;
	s->path = xstrdup(path);
	s->m = m;
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

/* Answer every complete netstring in the connection's buffer; -1: drop it (bad framing). */
static int
serve_conn(struct smap *s, struct conn *c, int64_t now)
{
	size_t off = 0;

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
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return 0;
}

void
smap_serve(struct smap *s, const struct pollfd *pfd, int n, int64_t now)
{
	/* Connections first (their order matches pfd[1..]), from the end so drop() keeps indexes. */
	for (int i = n - 1; i >= 1; i--) {
		int k = i - 1;
		ssize_t r;

		if (k >= s->n || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(s->c[k]->fd, s->c[k]->buf + s->c[k]->len, sizeof(s->c[k]->buf) - s->c[k]->len);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			drop(s, k);
			continue;
		}
		s->c[k]->len += (size_t)r;
		if (serve_conn(s, s->c[k], now) < 0 || s->c[k]->len == sizeof(s->c[k]->buf))
			drop(s, k);
	}
	if (n > 0 && (pfd[0].revents & POLLIN))
		for (;;) {
			int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd < 0)
				break;
			if (s->n == MAX_CONNS) {
				close(fd);
				continue;
			}
			s->c[s->n] = xcalloc(1, sizeof(struct conn));
			s->c[s->n++]->fd = fd;
		}
}
