/*
 * audit.c - the decision log (see audit.h).
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/outbuf.h"
#include "../common/safefile.h"
#include "../common/xalloc.h"
#include "../parsers/event_json.h"

#define CHECK_EVERY 60		/* seconds between looks for a rotation */

struct audit {
	char *path;
	int fd;
	int64_t checked;
	int said_write, said_open;
	struct outbuf ob;
};

/* Never through a planted symlink or FIFO, nor in a directory others can write (common/safefile.h). */
static int
open_log(const char *path, char *why, size_t len)
{
	if (sf_check_dir(path, why, len) < 0)
		return -1;
	return sf_open_output(path, O_CREAT | O_APPEND, 0640, why, len);
}

struct audit *
audit_open(const char *path, char *err, size_t errlen)
{
	struct audit *a;
	int fd = open_log(path, err, errlen);

	if (fd < 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(path);
	a->fd = fd;
	ob_init(&a->ob, -1, 1024);
	return a;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	ob_free(&a->ob);
	free(a->path);
	free(a);
}

const char *
audit_path(const struct audit *a)
{
	return a->path;
}

int
audit_check(struct audit *a, int64_t now, int force)
{
	struct stat byname, byfd;
	char why[4300];
	int fd;

	if (a == NULL || (!force && now - a->checked < CHECK_EVERY))
		return 0;
	a->checked = now;
	if (stat(a->path, &byname) == 0 && fstat(a->fd, &byfd) == 0 && byname.st_dev == byfd.st_dev &&
	    byname.st_ino == byfd.st_ino)
		return 0;	/* still the file the name gives */
	if ((fd = open_log(a->path, why, sizeof(why))) < 0) {
		if (!a->said_open)
			log_warnx("run: decision log: cannot open it again after it was moved: %s (entries go to the "
			    "moved file meanwhile; said once)", why);
		a->said_open = 1;
		return -1;
	}
	close(a->fd);
	a->fd = fd;
	a->said_open = 0;
	return 0;
}

/* ---- one line ---- */

static void
begin(struct audit *a, int64_t ts, const char *event)
{
	a->ob.len = 0;
	OB_LIT(&a->ob, "{\"ts\":\"");
	put_iso8601(&a->ob, ts, -1);
	OB_LIT(&a->ob, "\",\"event\":\"");
	ob_put(&a->ob, event, strlen(event));
	ob_putc(&a->ob, '"');
}

static void
str(struct audit *a, const char *name, const char *v)
{
	ob_putc(&a->ob, ',');
	ob_put_json_str(&a->ob, name, strlen(name));
	ob_putc(&a->ob, ':');
	ob_put_json_str(&a->ob, v, strlen(v));
}

static void
num(struct audit *a, const char *name, int64_t v)
{
	ob_putc(&a->ob, ',');
	ob_put_json_str(&a->ob, name, strlen(name));
	ob_putc(&a->ob, ':');
	ob_put_i64(&a->ob, v);
}

static void
when(struct audit *a, const char *name, int64_t ts)
{
	ob_putc(&a->ob, ',');
	ob_put_json_str(&a->ob, name, strlen(name));
	OB_LIT(&a->ob, ":\"");
	put_iso8601(&a->ob, ts, -1);
	ob_putc(&a->ob, '"');
}

static void
who(struct audit *a, const struct audit_who *w)
{
	static const char *const names[] = { "rule", "cluster", "ctl", "expiry", "signal", "daemon" };

	str(a, "by", names[w->by]);
	switch (w->by) {
	case BY_CLUSTER:
		str(a, "node", w->node != NULL ? w->node : "");
		break;
	case BY_CTL:
		num(a, "uid", (int64_t)w->uid);
		if (w->pid > 0)
			num(a, "pid", (int64_t)w->pid);
		break;
	case BY_SIGNAL:
		str(a, "signal", sigabbrev_np(w->sig) != NULL ? sigabbrev_np(w->sig) : "?");
		break;
	default:
		break;
	}
}

/* The line out, in one write (O_APPEND: whole lines, never interleaved). */
static void
end(struct audit *a)
{
	ssize_t n;

	OB_LIT(&a->ob, "}\n");
	do
		n = write(a->fd, a->ob.p, a->ob.len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)a->ob.len) {
		if (!a->said_write)
			log_warnx("run: decision log %s: %s (entries are lost until it can be written; said once)", a->path,
			    n < 0 ? strerror(errno) : "short write (disk full?)");
		a->said_write = 1;
	} else
		a->said_write = 0;
}

static void
decision(struct audit *a, const struct stored_decision *d)
{
	str(a, "key", d->key);
	str(a, "action", d->action);
	str(a, "rule", d->rule);
	when(a, "until", d->until);
	if (d->reason != NULL)
		str(a, "reason", d->reason);
}

void
audit_ban(struct audit *a, int64_t now, const struct stored_decision *d, const struct audit_who *w)
{
	if (a == NULL)
		return;
	begin(a, now, "ban");
	decision(a, d);
	num(a, "duration", d->until > now ? d->until - now : 0);
	who(a, w);
	end(a);
}

void
audit_unban(struct audit *a, int64_t now, const char *key, long n, const struct audit_who *w)
{
	if (a == NULL)
		return;
	begin(a, now, "unban");
	str(a, "key", key);
	num(a, "released", n);
	who(a, w);
	end(a);
}

void
audit_expire(struct audit *a, const struct stored_decision *d)
{
	static const struct audit_who expiry = { .by = BY_EXPIRY };

	if (a == NULL)
		return;
	begin(a, d->until, "expire");
	decision(a, d);
	who(a, &expiry);
	if (d->origin != NULL)
		str(a, "origin", d->origin);	/* the node that had decided it */
	end(a);
}

void
audit_flush(struct audit *a, int64_t now, long n, const struct audit_who *w)
{
	if (a == NULL)
		return;
	begin(a, now, "flush");
	num(a, "released", n);
	who(a, w);
	end(a);
}

void
audit_reload(struct audit *a, int64_t now, const char *conffile, int ok, const char *why, const struct audit_who *w)
{
	if (a == NULL)
		return;
	begin(a, now, "reload");
	str(a, "config", conffile != NULL ? conffile : "");
	OB_LIT(&a->ob, ",\"ok\":");
	if (ok)
		OB_LIT(&a->ob, "true");
	else
		OB_LIT(&a->ob, "false");
	if (!ok && why != NULL)
		str(a, "error", why);
	who(a, w);
	end(a);
}

void
audit_daemon(struct audit *a, int64_t now, const char *what, const char *conffile)
{
	static const struct audit_who daemon = { .by = BY_DAEMON };

	if (a == NULL)
		return;
	begin(a, now, what);
	if (conffile != NULL)
		str(a, "config", conffile);
	num(a, "pid", (int64_t)getpid());
	who(a, &daemon);
	end(a);
}
