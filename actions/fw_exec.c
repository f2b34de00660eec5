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
 * text that mxguard itself printed; a batch is
 * written in one go and its answers read afterwards (pipelined). The helper
 * runs with no shell between it and mxguard.
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

#define REPLY_TIMEOUT_MS 5000

struct helper {
	pid_t pid;
	FILE *to;		/* its stdin */
	int from;		/* its stdout */
	char buf[4096];
	size_t len;
	char line[4096];	/* the last reply line */
	char *path;
};

/* One reply line, or NULL on timeout or EOF. */
static const char *
reply_line(struct helper *h)
{
	for (;;) {
		char *nl = memchr(h->buf, '\n', h->len);
		struct pollfd p = { .fd = h->from, .events = POLLIN };
		ssize_t k;

		if (nl != NULL) {
			size_t n = (size_t)(nl - h->buf);

			memcpy(h->line, h->buf, n);
			h->line[n] = '\0';
			memmove(h->buf, nl + 1, h->len - n - 1);
			h->len -= n + 1;
			return h->line;
		}
		if (h->len == sizeof(h->buf) || poll(&p, 1, REPLY_TIMEOUT_MS) <= 0)
			return NULL;
		k = read(h->from, h->buf + h->len, sizeof(h->buf) - h->len);
		if (k <= 0)
			return NULL;
		h->len += (size_t)k;
	}
}

/* Read n answers; -1 if any is not "ok" (each logged). */
static int
answers(struct helper *h, int n)
{
	int rc = 0;

	for (int i = 0; i < n; i++) {
		const char *r = reply_line(h);

		if (r == NULL) {
			log_warnx("exec firewall %s: no answer", h->path);
			return -1;
		}
		if (strcmp(r, "ok") != 0) {
			log_warnx("exec firewall %s: %s", h->path, r);
			rc = -1;
		}
	}
	return rc;
}

static int
exec_init(const char *arg, const struct fw_opts *o, void **state)
{
	int in[2], out[2];
	struct helper *h;
	const char *r;

	(void)o;
	if (arg == NULL || *arg == '\0') {
		log_warnx("exec firewall: name the helper: --firewall exec:/path/to/helper");
		return -1;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		log_warn("exec firewall: pipe");
		return -1;
	}
	h = xcalloc(1, sizeof(*h));
	h->path = xstrdup(arg);
	if ((h->pid = fork()) < 0) {
		log_warn("exec firewall: fork");
		free(h->path);
		free(h);
		return -1;
	}
	if (h->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(arg, arg, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	signal(SIGPIPE, SIG_IGN);	/* a dead helper is an error to report, not a reason to die */
	h->to = fdopen(in[1], "w");
	h->from = out[0];
	fprintf(h->to, "mxguard-fw 1\n");
	fflush(h->to);
	if ((r = reply_line(h)) == NULL || strcmp(r, "ok 1") != 0) {
		log_warnx("exec firewall %s: expected 'ok 1' to 'mxguard-fw 1', got %s", arg, r ? r : "nothing");
		fclose(h->to);
		close(h->from);
		waitpid(h->pid, NULL, 0);
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
	char a[ADDR_STRLEN], act[32];

	for (int i = 0; i < nrelease; i++) {
		addr_format(&release[i].addr, a);
		fprintf(h->to, "release %s/%d %s\n", a, release[i].plen, action_text(&release[i], act, sizeof(act)));
	}
	for (int i = 0; i < nblock; i++) {
		addr_format(&block[i].addr, a);
		fprintf(h->to, "block %s/%d %s %lld\n", a, block[i].plen, action_text(&block[i], act, sizeof(act)),
		    (long long)block[i].seconds);
	}
	if (fflush(h->to) != 0) {
		log_warn("exec firewall %s", h->path);
		return -1;
	}
	return answers(h, nblock + nrelease);
}

static int
exec_flush(void *state)
{
	struct helper *h = state;

	fprintf(h->to, "flush\n");
	fflush(h->to);
	return answers(h, 1);
}

static void
exec_fini(void *state, int remove)
{
	struct helper *h = state;

	if (h == NULL)
		return;
	if (remove)
		exec_flush(h);
	fprintf(h->to, "quit\n");
	fclose(h->to);
	close(h->from);
	waitpid(h->pid, NULL, 0);
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
