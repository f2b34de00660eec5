/*
 * fw_exec.c - a firewall mxguard has no native backend for, driven through
 * a long-running helper process and a small versioned line protocol
 * (docs/FIREWALL.md):
 *
 *   mxguard -> helper            helper -> mxguard
 *   mxguard-fw 1                 ok 1
 *   block ADDR/LEN ACTION SECS   ok | error TEXT
 *   release ADDR/LEN ACTION      ok | error TEXT
 *   flush                        ok | error TEXT
 *   quit                         (the helper exits)
 *
 * ACTION is block, tarpit or limit:N/SECONDS. Every address is canonical
 * text that mxguard itself printed; a batch is written in one go and its
 * answers read afterwards (pipelined). The helper runs with no shell
 * between it and mxguard.
 *
 * Why a helper cannot stall or confuse the daemon: the helper is talked to
 * asynchronously. apply and flush only start a batch and return
 * FW_IN_PROGRESS; the daemon's event loop polls the helper's pipes next to
 * its other descriptors and calls progress, which writes and reads what
 * the pipes take without ever blocking. A batch has a deadline for its
 * first answer, moved on by each answer (a helper that answers, however
 * slowly the machine lets it, is working, and a batch given again from its
 * start would never end); a helper that misses it, dies twice, or answers something that is neither "ok"
 * nor "error ..." is killed and reaped, and a new one is started (its
 * handshake written ahead of the next batch) — so answers always belong to
 * the requests of the helper that got them, never to an older batch's. A
 * helper found dead during a batch is restarted at once and given the
 * batch again (requests are idempotent: a block of what is blocked, a
 * release of what is not, are "ok"); a batch that fails is retried by the
 * daemon with backoff.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xalloc.h"
#include "../common/clock.h"
#include "fw.h"

#define HELLO "mxguard-fw 1\n"
#define HELLO_TIMEOUT_MS 2000
#define BATCH_TIMEOUT_MS 2000	/* + 2 ms per request, at most BATCH_TIMEOUT_MAX_MS, for the first answer; */
					/* then this much from each answer to the next */
#define BATCH_TIMEOUT_MAX_MS 10000
#define QUIT_TIMEOUT_MS 2000

struct helper {
	pid_t pid;		/* -1: not running (never started, died, or killed) */
	int to, from;		/* its stdin and stdout, non-blocking */
	char buf[4096];		/* what it wrote that is not a whole line yet */
	size_t len;
	char line[4096];	/* the last reply line */
	char *path;
	char *req;		/* HELLO, then the batch's requests */
	size_t reqlen, reqcap;
	int nreq;
	/* The batch in flight (busy): */
	int busy;
	int hello;		/* the first answer due is the handshake's "ok 1" (a helper just started) */
	size_t first;		/* where the bytes to write start in req: 0 with the handshake, else after it */
	size_t sent;		/* bytes written from there */
	int got;		/* answers read */
	int failed;		/* one of them was "error ..." */
	int restarted;		/* the helper died during this batch and was started again */
	int64_t deadline;
};

#define HELLO_LEN (sizeof(HELLO) - 1)

/* How a step of a batch ended: MORE (answers still due), or the batch's end. */
enum { OK = 0, FAILED = -1, DEAD = -2, TIMEOUT = -3, BROKEN = -4, MORE = 1 };

static void
stop(struct helper *h)
{
	if (h->to >= 0)
		close(h->to);
	if (h->from >= 0)
		close(h->from);
	h->to = h->from = -1;
	fw_kill(h->pid);
	h->pid = -1;
	h->len = 0;
}

/* Fork and exec the helper, its pipes non-blocking. 0, or -1 (logged; nothing left running). */
static int
start(struct helper *h)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };

	/* O_CLOEXEC: only the helper's own ends become its stdin and stdout; no other child sees them. */
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		log_warn("exec firewall: pipe");
		for (int i = 0; i < 2; i++)
			if (in[i] >= 0)
				close(in[i]);
		return -1;
	}
	if ((h->pid = fork()) < 0) {
		log_warn("exec firewall: fork");
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		h->pid = -1;
		return -1;
	}
	if (h->pid == 0) {
		fw_child_setup();
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(h->path, h->path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	h->to = in[1];
	h->from = out[0];
	h->len = 0;
	fcntl(h->to, F_SETFL, O_NONBLOCK);
	fcntl(h->from, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Bytes of the batch not written yet. */
static size_t
unsent(const struct helper *h)
{
	return h->reqlen - h->first - h->sent;
}

/* Write what the pipe takes now of the handshake (if due) and the requests: OK or DEAD. */
static int
push(struct helper *h)
{
	while (unsent(h) > 0) {
		ssize_t k = write(h->to, h->req + h->first + h->sent, unsent(h));

		if (k > 0)
			h->sent += (size_t)k;
		else if (k < 0 && errno == EAGAIN)
			return OK;
		else if (k < 0 && errno != EINTR)
			return DEAD;	/* EPIPE: SIGPIPE is ignored by the daemon */
	}
	return OK;
}

/* One answer line from h->buf into h->line: 1, or 0 if no whole line is there. */
static int
next_line(struct helper *h)
{
	char *nl = memchr(h->buf, '\n', h->len);
	size_t n;

	if (nl == NULL)
		return 0;
	n = (size_t)(nl - h->buf);
	memcpy(h->line, h->buf, n);
	h->line[n] = '\0';
	memmove(h->buf, nl + 1, h->len - n - 1);
	h->len -= n + 1;
	return 1;
}

/*
 * Take the answers that arrived: MORE while some are due, OK or FAILED
 * when all are in, DEAD (EOF with answers due) or BROKEN (it broke the
 * protocol: a wrong handshake, an answer that is not one, a line too long;
 * logged).
 */
static int
pull(struct helper *h)
{
	for (;;) {
		ssize_t k;

		while (next_line(h)) {
			if (h->hello) {
				if (strcmp(h->line, "ok 1") != 0) {
					log_warnx("exec firewall %s: expected 'ok 1' to 'mxguard-fw 1', got '%.80s'",
					    h->path, h->line);
					return BROKEN;
				}
				h->hello = 0;
				continue;
			}
			if (h->got == h->nreq) {
				log_warnx("exec firewall %s: an answer to no request: '%.80s'", h->path, h->line);
				return BROKEN;
			}
			h->got++;
			if (strncmp(h->line, "error", 5) == 0 && (h->line[5] == ' ' || h->line[5] == '\0')) {
				log_warnx("exec firewall %s: %s", h->path, h->line);
				h->failed = 1;
			} else if (strcmp(h->line, "ok") != 0) {
				log_warnx("exec firewall %s: answer '%.80s' is not 'ok' or 'error TEXT'", h->path,
				    h->line);
				return BROKEN;
			}
		}
		if (!h->hello && h->got == h->nreq)
			return h->failed ? FAILED : OK;
		if (h->len == sizeof(h->buf)) {
			log_warnx("exec firewall %s: an answer longer than %zu bytes", h->path, sizeof(h->buf));
			return BROKEN;
		}
		k = read(h->from, h->buf + h->len, sizeof(h->buf) - h->len);
		if (k > 0)
			h->len += (size_t)k;
		else if (k < 0 && errno == EAGAIN)
			return MORE;
		else if (k == 0 || errno != EINTR)
			return DEAD;
	}
}

/* (Re)start the batch in h->req from its first request; the helper is started first if needed. */
static int
begin(struct helper *h)
{
	int64_t ms = BATCH_TIMEOUT_MS + 2 * (int64_t)h->nreq;

	if (h->pid < 0) {
		log_info("exec firewall %s: starting the helper", h->path);
		if (start(h) < 0)
			return -1;
		h->hello = 1;
		ms += HELLO_TIMEOUT_MS;
	}
	h->busy = 1;
	h->first = h->hello ? 0 : HELLO_LEN;
	h->sent = 0;
	h->got = 0;
	h->failed = 0;
	h->deadline = mono_ms() + (ms > BATCH_TIMEOUT_MAX_MS ? BATCH_TIMEOUT_MAX_MS : ms);
	return 0;
}

/*
 * Move the batch on without blocking: FW_IN_PROGRESS, 0 (every answer
 * "ok") or -1 (an "error" answer, or the helper failed: logged). A helper
 * that died is started again and given the batch once more.
 */
static int
step(struct helper *h)
{
	int rc;

	if (!h->busy)
		return 0;
	for (;;) {
		int got = h->got;

		rc = push(h);
		if (rc == OK)
			rc = pull(h);
		if (h->got > got)
			h->deadline = mono_ms() + BATCH_TIMEOUT_MS;
		if (rc == MORE && mono_ms() >= h->deadline)
			rc = TIMEOUT;
		if (rc == MORE)
			return FW_IN_PROGRESS;
		if (rc == OK || rc == FAILED) {
			h->busy = 0;
			return rc == OK ? 0 : -1;
		}
		if (h->hello)	/* the handshake failed (a BROKEN one is logged) */
			if (rc != BROKEN)
				log_warnx("exec firewall %s: expected 'ok 1' to 'mxguard-fw 1', got %s", h->path,
				    rc == DEAD ? "nothing (it exited)" : "no answer in time");
		stop(h);
		if (rc == DEAD && !h->restarted) {
			log_warnx("exec firewall %s: the helper exited; it is stopped and started again", h->path);
			h->restarted = 1;
			if (begin(h) == 0)
				continue;
		} else
			log_warnx("exec firewall %s: %s; a new one is started at the next try", h->path,
			    rc == DEAD ? "the helper exited" : rc == TIMEOUT ?
			    "the helper did not answer in time; it is killed" : "the helper is killed");
		h->busy = 0;
		return -1;
	}
}

/* Send the requests in h->req: FW_IN_PROGRESS, or already 0 or -1. */
static int
submit(struct helper *h)
{
	h->restarted = 0;
	/* Output while no request was out breaks the protocol: a new helper, or its answers would shift. */
	if (h->pid >= 0) {
		ssize_t k = read(h->from, h->buf + h->len, sizeof(h->buf) - h->len);

		if (k > 0 || h->len > 0) {
			log_warnx("exec firewall %s: the helper wrote while no request was out; it is stopped and "
			    "started again", h->path);
			stop(h);
		}
	}
	if (begin(h) < 0)
		return -1;
	return step(h);
}

/* Run the batch to its end, waiting (init and exit only: nothing else is waiting then). */
static int
finish(struct helper *h)
{
	int rc;

	while ((rc = step(h)) == FW_IN_PROGRESS) {
		struct pollfd p[2] = { { .fd = h->to, .events = POLLOUT }, { .fd = h->from, .events = POLLIN } };
		int64_t left = h->deadline - mono_ms();

		if (unsent(h) == 0)
			p[0].fd = -1;
		if (poll(p, 2, left < 1 ? 1 : (int)left) < 0 && errno != EINTR)
			log_warn("exec firewall: poll");
	}
	return rc;
}

static void
put_req(struct helper *h, const char *s)
{
	size_t n = strlen(s);

	if (h->reqcap - h->reqlen < n + 1)
		h->req = xrealloc(h->req, h->reqcap = 2 * h->reqcap + n + 1);
	memcpy(h->req + h->reqlen, s, n);
	h->reqlen += n;
	h->nreq++;
}

/* An empty batch: only the handshake's slot in front. */
static void
clear_req(struct helper *h)
{
	h->reqlen = 0;
	put_req(h, HELLO);
	h->nreq = 0;
}

static int
exec_init(const char *arg, const struct fw_opts *o, void **state)
{
	struct helper *h;

	(void)o;
	if (arg == NULL || *arg == '\0') {
		log_warnx("exec firewall: name the helper: --firewall exec:/path/to/helper");
		return -1;
	}
	h = xcalloc(1, sizeof(*h));
	h->pid = -1;
	h->to = h->from = -1;
	h->path = xstrdup(arg);
	/* The handshake alone, waited for: a helper that does not speak the protocol stops the start. */
	clear_req(h);
	log_info("exec firewall %s: starting the helper", h->path);
	if (start(h) < 0 || (h->hello = 1, h->restarted = 1, begin(h)) < 0 || finish(h) != 0) {
		stop(h);
		free(h->req);
		free(h->path);
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

/* "block", "tarpit", "limit:N/SECONDS" (a release of any limit: "limit"). */
static const char *
action_text(const struct fw_entry *e, char *buf, size_t len)
{
	if (e->kind == FW_BLOCK)
		return "block";
	if (e->kind == FW_TARPIT)
		return "tarpit";
	if (e->limit_n == 0)
		return "limit";
	snprintf(buf, len, "limit:%u/%u", e->limit_n, e->limit_per);
	return buf;
}

static int
exec_apply(void *state, const struct fw_entry *block, int nblock, const struct fw_entry *release, int nrelease)
{
	struct helper *h = state;
	char a[ADDR_STRLEN], act[32], line[ADDR_STRLEN + 80];

	if (nblock + nrelease == 0)
		return 0;
	clear_req(h);
	for (int i = 0; i < nrelease; i++) {
		addr_format(&release[i].addr, a);
		snprintf(line, sizeof(line), "release %s/%d %s\n", a, release[i].plen,
		    action_text(&release[i], act, sizeof(act)));
		put_req(h, line);
	}
	for (int i = 0; i < nblock; i++) {
		addr_format(&block[i].addr, a);
		snprintf(line, sizeof(line), "block %s/%d %s %lld\n", a, block[i].plen,
		    action_text(&block[i], act, sizeof(act)), (long long)block[i].seconds);
		put_req(h, line);
	}
	return submit(h);
}

static int
exec_flush(void *state)
{
	struct helper *h = state;

	clear_req(h);
	put_req(h, "flush\n");
	return submit(h);
}

static int
exec_pollfds(void *state, struct pollfd *pfd, int max)
{
	struct helper *h = state;
	int n = 0;

	if (!h->busy || h->pid < 0 || max < 2)
		return 0;
	/* Both ways at once: a helper blocked on writing answers must be read while the requests go out. */
	if (unsent(h) > 0)
		pfd[n++] = (struct pollfd){ .fd = h->to, .events = POLLOUT };
	pfd[n++] = (struct pollfd){ .fd = h->from, .events = POLLIN };
	return n;
}

static int
exec_progress(void *state)
{
	return step(state);
}

static void
exec_fini(void *state, int remove)
{
	struct helper *h = state;

	if (h == NULL)
		return;
	/* A batch still out gets its deadline; then, with remove, the flush. */
	finish(h);
	if (remove && exec_flush(h) == FW_IN_PROGRESS)
		finish(h);
	if (h->pid > 0) {
		int64_t deadline = mono_ms() + QUIT_TIMEOUT_MS;

		/* Best effort, never blocking: a helper that does not read gets killed at the deadline. */
		if (write(h->to, "quit\n", 5) < 0)
			log_debug("exec firewall %s: quit not written", h->path);
		close(h->to);
		close(h->from);
		h->to = h->from = -1;
		if (fw_wait(h->pid, deadline) < 0)
			log_warnx("exec firewall %s: the helper did not quit; killed", h->path);
	}
	free(h->req);
	free(h->path);
	free(h);
}

const struct fw_backend fw_exec = {
	.name = "exec",
	.shapes = 1,
	.init = exec_init,
	.apply = exec_apply,
	.flush = exec_flush,
	.pollfds = exec_pollfds,
	.progress = exec_progress,
	.fini = exec_fini,
};
