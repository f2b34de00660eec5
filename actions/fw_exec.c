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
 * Why a helper cannot stall or confuse the daemon: both pipes are
 * non-blocking and a whole batch (writing it and reading every answer)
 * has one deadline. A helper that misses it, dies, or answers something
 * that is neither "ok" nor "error ..." is killed and reaped, and a new one
 * is started (with the handshake) at the next batch — so answers always
 * belong to the requests of the helper that got them, never to an older
 * batch's. A helper found dead when a batch starts is restarted at once
 * and given the batch again; otherwise the batch fails, and the daemon
 * retries it with backoff (requests are idempotent: a block of what is
 * blocked, a release of what is not, are "ok").
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
#include "fw.h"

#define HELLO_TIMEOUT_MS 2000
#define BATCH_TIMEOUT_MS 2000	/* + 2 ms per request, at most BATCH_TIMEOUT_MAX_MS */
#define BATCH_TIMEOUT_MAX_MS 10000
#define QUIT_TIMEOUT_MS 2000

struct helper {
	pid_t pid;		/* -1: not running (never started, died, or killed) */
	int to, from;		/* its stdin and stdout, non-blocking */
	char buf[4096];
	size_t len;
	char line[4096];	/* the last reply line */
	char *path;
	char *req;		/* the batch being sent */
	size_t reqlen, reqcap;
};

enum { OK = 0, FAILED = -1, DEAD = -2, HUNG = -3 };

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

/* Write all of data before the deadline: OK, DEAD (it closed its stdin) or HUNG. */
static int
send_all(struct helper *h, const char *data, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = { .fd = h->to, .events = POLLOUT };
		int64_t left = deadline - fw_now_ms();
		ssize_t k;

		if (left <= 0)
			return HUNG;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return DEAD;
		k = write(h->to, data + off, len - off);
		if (k > 0)
			off += (size_t)k;
		else if (k < 0 && errno != EAGAIN && errno != EINTR)
			return DEAD;	/* EPIPE: SIGPIPE is ignored by the daemon */
	}
	return OK;
}

/* One reply line into h->line: OK, DEAD (EOF) or HUNG (deadline, or a line too long). */
static int
reply_line(struct helper *h, int64_t deadline)
{
	for (;;) {
		char *nl = memchr(h->buf, '\n', h->len);
		struct pollfd p = { .fd = h->from, .events = POLLIN };
		int64_t left = deadline - fw_now_ms();
		ssize_t k;

		if (nl != NULL) {
			size_t n = (size_t)(nl - h->buf);

			memcpy(h->line, h->buf, n);
			h->line[n] = '\0';
			memmove(h->buf, nl + 1, h->len - n - 1);
			h->len -= n + 1;
			return OK;
		}
		if (h->len == sizeof(h->buf) || left <= 0)
			return HUNG;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return DEAD;
		k = read(h->from, h->buf + h->len, sizeof(h->buf) - h->len);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			return DEAD;
		if (k > 0)
			h->len += (size_t)k;
	}
}

/* Start the helper and check its protocol version. 0, or -1 (logged; nothing left running). */
static int
spawn(struct helper *h)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, rc;

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
	{
		int64_t deadline = fw_now_ms() + HELLO_TIMEOUT_MS;

		rc = send_all(h, "mxguard-fw 1\n", 13, deadline);
		if (rc == OK)
			rc = reply_line(h, deadline);
	}
	if (rc != OK || strcmp(h->line, "ok 1") != 0) {
		log_warnx("exec firewall %s: expected 'ok 1' to 'mxguard-fw 1', got %s", h->path,
		    rc == HUNG ? "no answer in time" : rc == DEAD ? "nothing (it exited)" : h->line);
		stop(h);
		return -1;
	}
	return 0;
}

/*
 * Send h->req (n requests) and read n answers, all before one deadline.
 * OK, FAILED (an "error" answer, logged), DEAD (it exited) or HUNG (it
 * missed the deadline or broke the protocol: killed).
 */
static int
exchange(struct helper *h, int n)
{
	int64_t ms = BATCH_TIMEOUT_MS + 2 * (int64_t)n, deadline;
	int rc = OK, got = 0;

	deadline = fw_now_ms() + (ms > BATCH_TIMEOUT_MAX_MS ? BATCH_TIMEOUT_MAX_MS : ms);
	if ((rc = send_all(h, h->req, h->reqlen, deadline)) != OK)
		return rc;
	for (rc = OK; got < n; got++) {
		int r = reply_line(h, deadline);

		if (r != OK)
			return got == 0 ? r : r == DEAD ? DEAD : HUNG;
		if (strncmp(h->line, "error", 5) == 0 && (h->line[5] == ' ' || h->line[5] == '\0')) {
			log_warnx("exec firewall %s: %s", h->path, h->line);
			rc = FAILED;
		} else if (strcmp(h->line, "ok") != 0) {
			log_warnx("exec firewall %s: answer '%.80s' is not 'ok' or 'error TEXT'", h->path, h->line);
			return HUNG;
		}
	}
	return rc;
}

/*
 * The batch in h->req to the helper: started first if it is not running,
 * restarted once and given the batch again if it turns out to have died.
 */
static int
transact(struct helper *h, int n)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int rc;

		if (h->pid < 0) {
			log_info("exec firewall %s: starting the helper", h->path);
			if (spawn(h) < 0)
				return -1;
		}
		rc = exchange(h, n);
		if (rc == OK || rc == FAILED)
			return rc;
		log_warnx("exec firewall %s: %s; it is stopped and started again", h->path,
		    rc == DEAD ? "the helper exited" : "the helper did not answer in time, or garbled its answers");
		stop(h);
		if (rc == HUNG)
			return -1;	/* a hung helper is not given the batch again now: the daemon retries later */
	}
	return -1;
}

static void
put_req(struct helper *h, const char *s)
{
	size_t n = strlen(s);

	if (h->reqcap - h->reqlen < n + 1)
		h->req = xrealloc(h->req, h->reqcap = 2 * h->reqcap + n + 1);
	memcpy(h->req + h->reqlen, s, n);
	h->reqlen += n;
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
	if (spawn(h) < 0) {
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

	h->reqlen = 0;
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
	return nblock + nrelease > 0 ? transact(h, nblock + nrelease) : 0;
}

static int
exec_flush(void *state)
{
	struct helper *h = state;

	h->reqlen = 0;
	put_req(h, "flush\n");
	return transact(h, 1);
}

static void
exec_fini(void *state, int remove)
{
	struct helper *h = state;

	if (h == NULL)
		return;
	if (remove)
		exec_flush(h);
	if (h->pid > 0) {
		int64_t deadline = fw_now_ms() + QUIT_TIMEOUT_MS;

		send_all(h, "quit\n", 5, deadline);
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
	.fini = exec_fini,
};
