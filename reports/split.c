/*
 * split.c - an offline report's reporter, directly or in a process of its
 * own (see split.h for why).
 *
 * The pipe carries records, each a 32-bit length (itself included) and a
 * tag: 'E' an event (type, family, number of fields, the lines read up to
 * it, its time, the client's address bytes, then each field summary_event
 * reads of it: number, length, bytes), 'D' a decision (the struct as it
 * is: both processes are the same program, and its rule pointer is the
 * same rule in both), 'L' lines read, 'F' the end. The lines after an
 * event travel in its record (on_event's usual pair of calls costs one
 * record, not two).
 */
#include "split.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/outbuf.h"
#include "../common/xalloc.h"
#include "graphs.h"
#include "summary.h"

#define BUF_SIZE (256 * 1024)	/* written to the pipe in pieces of this (the reader takes them as they come) */
#define PIPE_SIZE (1024 * 1024)	/* the pipe's own buffer, when the system allows it */
#define HDR 5			/* a record's length and tag */
#define EV_FIXED (HDR + 3 + 4 + 8)	/* an event's: type, family, fields; lines; time */

struct split {
	struct reporter *r;		/* the reporter: fed directly, or (apart) the other process's copy, only freed here */
	split_finish_fn fin;
	void *arg;
	pid_t pid;			/* the reporter's process, or 0: direct */
	/*
	 * Apart: the records, written to the pipe as the buffer fills (a write
	 * error, as the reporter's process gone, is kept and drops the rest:
	 * split_finish tells of it).
	 */
	struct outbuf out;
	size_t last_event;		/* the offset of the last record in out if it is an event's, else SIZE_MAX */
};

static void serve(struct split *s, int fd) __attribute__((noreturn));

/* ---- the reading process's side ---- */

/* Room for a record of n bytes at the buffer's end (written out first if it is full); its start. */
static unsigned char *
room(struct split *s, size_t n)
{
	ob_need(&s->out, n);
	return (unsigned char *)s->out.p + s->out.len;
}

static void
put_header(unsigned char *p, uint32_t len, char tag)
{
	memcpy(p, &len, 4);
	p[4] = (unsigned char)tag;
}

struct split *
split_start(struct reporter *r, split_finish_fn fin, void *arg)
{
	struct split *s = xcalloc(1, sizeof(*s));
	int fds[2];

	s->r = r;
	s->fin = fin;
	s->arg = arg;
	s->last_event = SIZE_MAX;
	if (graphs_cpus() < 2 || pipe(fds) != 0)
		return s;
	(void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_SIZE);	/* (a smaller pipe works too, with more switches) */
	fflush(NULL);		/* (nothing buffered is written twice) */
	s->pid = fork();
	if (s->pid < 0) {
		s->pid = 0;
		close(fds[0]);
		close(fds[1]);
		return s;
	}
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		close(fds[1]);
		if (null > 0) {
			dup2(null, STDIN_FILENO);	/* (the logs may come on stdin: they are the other's) */
			close(null);
		}
		serve(s, fds[0]);	/* (does not return) */
	}
	close(fds[0]);
	ob_init(&s->out, fds[1], BUF_SIZE);
	return s;
}

int
split_apart(const struct split *s)
{
	return s->pid > 0;
}

void
split_event(struct split *s, const struct event *ev)
{
	uint32_t fields = ev->present & summary_fields(ev->type), lines = 0;
	size_t alen = ev->ip.family == 4 ? 4 : ev->ip.family == 6 ? 16 : 0, n = EV_FIXED + alen;
	unsigned char *p, nf = 0;

	if (s->pid == 0) {
		reporter_event(s->r, ev);
		return;
	}
	for (uint32_t m = fields; m != 0; m &= m - 1) {
		n += 5 + ev->str[__builtin_ctz(m)].n;
		nf++;
	}
	p = room(s, n);
	put_header(p, (uint32_t)n, 'E');
	p[5] = (unsigned char)ev->type;
	p[6] = ev->ip.family;
	p[7] = nf;
	memcpy(p + 8, &lines, 4);
	memcpy(p + 12, &ev->ts, 8);
	memcpy(p + EV_FIXED, ev->ip.b, alen);
	p += EV_FIXED + alen;
	for (uint32_t m = fields; m != 0; m &= m - 1) {
		int f = __builtin_ctz(m);
		uint32_t fl = (uint32_t)ev->str[f].n;

		p[0] = (unsigned char)f;
		memcpy(p + 1, &fl, 4);
		memcpy(p + 5, ev->str[f].p, fl);
		p += 5 + fl;
	}
	s->last_event = s->out.len;
	s->out.len += n;
}

void
split_lines(struct split *s, uint64_t n)
{
	unsigned char *p;

	if (s->pid == 0) {
		reporter_lines(s->r, n);
		return;
	}
	if (n == 0)
		return;
	if (s->last_event != SIZE_MAX) {
		uint32_t have;

		p = (unsigned char *)s->out.p + s->last_event + 8;
		memcpy(&have, p, 4);
		if (have == 0 && n < UINT32_MAX) {
			uint32_t v = (uint32_t)n;

			memcpy(p, &v, 4);
			s->last_event = SIZE_MAX;
			return;
		}
	}
	p = room(s, HDR + 8);
	put_header(p, HDR + 8, 'L');
	memcpy(p + HDR, &n, 8);
	s->out.len += HDR + 8;
	s->last_event = SIZE_MAX;
}

void
split_decision(struct split *s, const struct decision *d)
{
	struct decision copy;
	unsigned char *p;

	if (s->pid == 0) {
		reporter_decision(s->r, d);
		return;
	}
	memcpy(&copy, d, sizeof(copy));	/* (its padding too, as the engine cleared it: no byte sent is undefined) */
	copy.rep = NULL;	/* (the reputation the rules saw: this process's memory; the reporter reads none) */
	p = room(s, HDR + sizeof(copy));
	put_header(p, (uint32_t)(HDR + sizeof(copy)), 'D');
	memcpy(p + HDR, &copy, sizeof(copy));
	s->out.len += HDR + sizeof(copy);
	s->last_event = SIZE_MAX;
}

int
split_finish(struct split *s)
{
	int rc, status;

	if (s->pid == 0) {
		rc = s->fin(s->r, s->arg);
		reporter_free(s->r);
		free(s);
		return rc;
	}
	put_header(room(s, HDR), HDR, 'F');
	s->out.len += HDR;
	(void)ob_flush(&s->out);	/* (a reporter's process gone: its status says so below) */
	close(s->out.fd);
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else {
		log_warnx("report: the process writing the report ended by signal %d: the report is not complete",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		rc = EX_SOFTWARE;
	}
	reporter_free(s->r);	/* (this process's copy: nothing of it was written here) */
	ob_free(&s->out);
	free(s);
	return rc;
}

/* ---- the reporter's process ---- */

static void
replay_event(struct reporter *r, const unsigned char *p, size_t len)
{
	struct event ev;
	uint32_t lines;
	size_t alen, off;

	ev_reset(&ev);
	ev.mta = "";
	ev.line = 0;
	ev.usec = -1;
	ev.type = (enum ev_type)p[5];
	ev.ip.family = p[6];
	memcpy(&lines, p + 8, 4);
	memcpy(&ev.ts, p + 12, 8);
	alen = ev.ip.family == 4 ? 4 : ev.ip.family == 6 ? 16 : 0;
	memset(ev.ip.b, 0, sizeof(ev.ip.b));
	memcpy(ev.ip.b, p + EV_FIXED, alen);
	off = EV_FIXED + alen;
	for (int i = 0; i < p[7] && off + 5 <= len; i++) {
		int f = p[off];
		uint32_t fl;

		memcpy(&fl, p + off + 1, 4);
		if (f >= F__COUNT || off + 5 + fl > len)
			break;
		ev_set_str(&ev, (enum ev_field)f, (struct span){ (const char *)p + off + 5, fl });
		off += 5 + fl;
	}
	reporter_event(r, &ev);
	if (lines > 0)
		reporter_lines(r, lines);
}

/* One record; 1 at the end ('F'), else 0. */
static int
replay_record(struct split *s, const unsigned char *p, size_t len)
{
	switch (p[4]) {
	case 'E':
		replay_event(s->r, p, len);
		break;
	case 'D': {
		struct decision d;

		memcpy(&d, p + HDR, sizeof(d));
		reporter_decision(s->r, &d);
		break;
	}
	case 'L': {
		uint64_t n;

		memcpy(&n, p + HDR, 8);
		reporter_lines(s->r, n);
		break;
	}
	case 'F':
		return 1;
	}
	return 0;
}

/*
 * The reporter's process: records until the end, then fin, and exit with
 * its result. An end of the pipe without the last record: the reading
 * process died (or was killed); what was written stays, nothing more is.
 */
static void
serve(struct split *s, int fd)
{
	size_t cap = BUF_SIZE, have = 0, at;
	unsigned char *buf = xmalloc(cap);
	int rc;

	reporter_warm(s->r);	/* librrd and the fonts load while the records come */
	for (;;) {
		ssize_t n = read(fd, buf + have, cap - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(EX_SOFTWARE);
		have += (size_t)n;
		at = 0;
		while (have - at >= HDR) {
			uint32_t len;

			memcpy(&len, buf + at, 4);
			if (len < HDR)
				_exit(EX_SOFTWARE);	/* (cannot happen: the same program wrote it) */
			if (have - at < len) {
				if (len > cap) {
					cap = len;
					buf = xrealloc(buf, cap);
				}
				break;
			}
			if (replay_record(s, buf + at, len)) {
				rc = s->fin(s->r, s->arg);
				reporter_free(s->r);
				_exit(rc);
			}
			at += len;
		}
		memmove(buf, buf + at, have - at);
		have -= at;
	}
}
