/* fw.c - the list of firewall backends and shared helpers (see fw.h). */
#include "fw.h"

#include <string.h>

#include "../common/addr.h"
#include "../common/xalloc.h"
#include "../common/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"

extern const struct fw_backend fw_none, fw_nftables, fw_exec, fw_pf, fw_ipf, fw_ipfw, fw_ipset, fw_iptables;

static const struct fw_backend *const backends[] = {
	&fw_none,
	&fw_iptables,
	&fw_nftables,
	&fw_exec,
	&fw_pf,
	&fw_ipf,
	&fw_ipfw,
	&fw_ipset,
	NULL,
};

const struct fw_backend *
fw_by_name(const char *spec, const char **arg)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	*arg = colon ? colon + 1 : NULL;
	for (int i = 0; backends[i] != NULL; i++)
		if (strlen(backends[i]->name) == n && strncmp(backends[i]->name, spec, n) == 0)
			return backends[i];
	return NULL;
}

uint32_t
fw_ports_hash(const uint16_t *ports, int n)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < n; i++) {
		h = (h ^ (ports[i] & 0xff)) * 16777619u;
		h = (h ^ (ports[i] >> 8)) * 16777619u;
	}
	return h;
}

int
fw_entry_ports_are(const struct fw_entry *e, const uint16_t *ports, int n)
{
	return e->nports == n && memcmp(e->ports, ports, (size_t)n * sizeof(ports[0])) == 0;
}

void
fw_names_that_can(enum fw_can what, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; backends[i] != NULL && n < len; i++)
		if (what == FW_CAN_PORTS ? backends[i]->ports : backends[i]->conns)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", backends[i]->name);
}

/* 1 if word (n bytes) is one of the space-separated words of list. */
static int
listed(const char *list, const char *word, size_t n)
{
	for (const char *p = list; *p != '\0';) {
		size_t k = strcspn(p, " ");

		if (k == n && strncmp(p, word, n) == 0)
			return 1;
		p += k;
		p += strspn(p, " ");
	}
	return 0;
}

int
fw_opts_parse(const char *arg, const char *name_key, const char *allowed, struct fw_opts *o, char *err,
    size_t errlen)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->name, "mxguard");
	for (const char *p = arg; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ","), k = strcspn(p, ",=");
		const char *val = k < n ? p + k + 1 : NULL;
		size_t vlen = val ? n - k - 1 : 0;

		if (val != NULL && k == strlen(name_key) && strncmp(p, name_key, k) == 0) {
			/* Names go into kernel objects and command lines: a short, plain word. */
			if (vlen == 0 || vlen >= sizeof(o->name) || strspn(val, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789_-") < vlen || val[0] == '-') {
				snprintf(err, errlen, "%s name '%.*s': use 1 to %zu letters, digits, '_' or '-'",
				    name_key, (int)vlen, val, sizeof(o->name) - 1);
				return -1;
			}
			memcpy(o->name, val, vlen);
			o->name[vlen] = '\0';
		} else if (val == NULL && n > 0 && listed(allowed, p, n)) {
			if (strncmp(p, "forward", n) == 0)
				o->forward = 1;
			else if (strncmp(p, "reject", n) == 0)
				o->reject = 1;
			else
				o->rules = 1;
		} else {
			snprintf(err, errlen, "unknown option '%.*s' (options: %s=NAME%s%s)", (int)n, p, name_key,
			    *allowed ? " " : "", allowed);
			return -1;
		}
		p += n;
		p += *p == ',';
	}
	return 0;
}

int
fw_spec_parse(const char *spec, const struct fw_backend **b, const char **arg, struct fw_opts *o, char *err,
    size_t errlen)
{
	char e[200];

	memset(o, 0, sizeof(*o));
	if ((*b = fw_by_name(spec, arg)) == NULL) {
		snprintf(err, errlen, "unknown firewall backend '%.*s' (none, iptables, nftables, ipset, pf, ipf, ipfw, "
		    "exec:HELPER)", (int)strcspn(spec, ":"), spec);
		return -1;
	}
	if ((*b)->name_key == NULL) {
		/* none takes nothing; exec takes the helper's path. */
		if (strcmp((*b)->name, "none") == 0 && *arg != NULL) {
			snprintf(err, errlen, "none: takes no options");
			return -1;
		}
		if (strcmp((*b)->name, "exec") == 0 && (*arg == NULL || **arg != '/')) {
			snprintf(err, errlen, "exec: name the helper by its absolute path: exec:/path/to/helper");
			return -1;
		}
		return 0;
	}
	if (fw_opts_parse(*arg, (*b)->name_key, (*b)->options, o, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", (*b)->name, e);
		return -1;
	}
	return 0;
}

int
fw_kind_of(const char *action)
{
	return strcmp(action, "block") == 0 ? FW_BLOCK : strcmp(action, "limit") == 0 ? FW_LIMIT :
	    strcmp(action, "tarpit") == 0 ? FW_TARPIT : -1;
}

int
fw_entry_parse(const char *key, int64_t seconds, struct fw_entry *e)
{
	char err[128];
	int neg;

	memset(e, 0, sizeof(*e));
	if (!table_parse_entry(key, strlen(key), &e->addr, &e->plen, &neg, err, sizeof(err)) || neg)
		return 0;
	addr_mask(&e->addr, e->plen);
	e->seconds = seconds;
	return 1;
}

struct fw_due {
	int64_t when;
	struct fw_entry e;
};

struct fw_expiry {
	struct fw_due *h;
	int n, cap;
};

struct fw_expiry *
fw_expiry_new(void)
{
	return xcalloc(1, sizeof(struct fw_expiry));
}

void
fw_expiry_free(struct fw_expiry *x)
{
	if (x != NULL)
		free(x->h);
	free(x);
}

void
fw_expiry_add(struct fw_expiry *x, int64_t when, const struct fw_entry *e)
{
	int i;

	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->h = xrealloc(x->h, (size_t)x->cap * sizeof(*x->h));
	}
	for (i = x->n++; i > 0 && x->h[(i - 1) / 2].when > when; i = (i - 1) / 2)
		x->h[i] = x->h[(i - 1) / 2];
	x->h[i] = (struct fw_due){ when, *e };
}

int
fw_expiry_due(struct fw_expiry *x, int64_t now, struct fw_entry **out, int *cap)
{
	int k = 0;

	while (x->n > 0 && x->h[0].when <= now) {
		struct fw_due last = x->h[--x->n];
		int i = 0;

		if (k == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*out = xrealloc(*out, (size_t)*cap * sizeof(**out));
		}
		(*out)[k++] = x->h[0].e;
		for (;;) {	/* sift the last element down from the root */
			int c = 2 * i + 1;

			if (c >= x->n)
				break;
			if (c + 1 < x->n && x->h[c + 1].when < x->h[c].when)
				c++;
			if (x->h[c].when >= last.when)
				break;
			x->h[i] = x->h[c];
			i = c;
		}
		if (x->n > 0)
			x->h[i] = last;
	}
	return k;
}

static int run(char *const argv[], const char *data, size_t len, int quiet, char **output);

int
fw_run(char *const argv[])
{
	return run(argv, NULL, 0, 0, NULL);
}

int
fw_try(char *const argv[])
{
	return run(argv, NULL, 0, 1, NULL);
}

int
fw_run_input(char *const argv[], const char *data, size_t len)
{
	return run(argv, data, len, 0, NULL);
}

int
fw_run_output(char *const argv[], char **output)
{
	*output = NULL;
	return run(argv, NULL, 0, 0, output);
}

/*
 * A child of the daemon starts clean: the daemon blocks SIGTERM, SIGINT and
 * SIGHUP (they arrive on its signalfd) and ignores SIGPIPE, and both would
 * be inherited across exec — a helper or pfctl that could not be stopped,
 * or that wrote on into a closed pipe.
 */
void
fw_child_setup(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}

void
fw_kill(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
}

static void
close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	p[0] = p[1] = -1;
}

/*
 * Feed data to the child and collect its output, both through non-blocking
 * pipes, until it has read all of one and closed the other — or until
 * the deadline: a command that hangs (a stuck pfctl, an NFS PATH) must not
 * stop the daemon. 0, or -1 at the deadline.
 */
static int
exchange(int in, const char *data, size_t len, int out, char **output, int64_t deadline)
{
	size_t off = 0, n = 0, cap = 0;

	if (in >= 0 && len == 0) {
		close(in);
		in = -1;
	}
	while (in >= 0 || out >= 0) {
		struct pollfd p[2] = { { .fd = in, .events = POLLOUT }, { .fd = out, .events = POLLIN } };
		int64_t left = deadline - mono_ms();
		int r;

		if (left <= 0 || (r = poll(p, 2, (int)left)) == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (in >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t k = write(in, data + off, len - off);

			/* EPIPE: the command exited without reading it all; its exit status says how it went. */
			if (k > 0)
				off += (size_t)k;
			if ((k < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
				close(in);
				in = -1;
			}
		}
		if (out >= 0 && (p[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			ssize_t k;

			if (cap - n < 4096)
				*output = xrealloc(*output, cap = cap ? 2 * cap : 8192);
			k = read(out, *output + n, cap - n - 1);
			if (k > 0)
				n += (size_t)k;
			else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(out);
				out = -1;
			}
		}
	}
	if (output != NULL) {
		if (*output == NULL)
			*output = xmalloc(1);
		(*output)[n] = '\0';
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in < 0 && out < 0 ? 0 : -1;
}

int
fw_wait(pid_t pid, int64_t deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (mono_ms() >= deadline) {
			fw_kill(pid);
			return -1;
		}
		/* A child that closed its pipes is about to exit: wait in short steps. */
		poll(NULL, 0, 5);
	}
}

static int
run(char *const argv[], const char *data, size_t len, int quiet, char **output)
{
	int status, in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int64_t deadline = mono_ms() + FW_CMD_TIMEOUT_MS;
	const char *why = NULL;
	pid_t pid;

	/* O_CLOEXEC: a pipe of this command must not leak into another child (a helper started later). */
	if ((data != NULL && pipe2(in, O_CLOEXEC) < 0) || (output != NULL && pipe2(out, O_CLOEXEC) < 0)) {
		log_warn("%s: pipe", argv[0]);
		close_pair(in);
		return -1;
	}
	if ((pid = fork()) < 0) {
		log_warn("%s: fork", argv[0]);
		close_pair(in);
		close_pair(out);
		return -1;
	}
	if (pid == 0) {
		fw_child_setup();
		if (data != NULL)
			dup2(in[0], 0);
		if (output != NULL)
			dup2(out[1], 1);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (null >= 0) {
				dup2(null, 1);
				dup2(null, 2);
			}
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (data != NULL) {
		close(in[0]);
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	if (output != NULL) {
		*output = NULL;
		close(out[1]);
		fcntl(out[0], F_SETFL, O_NONBLOCK);
	}
	if (exchange(data != NULL ? in[1] : -1, data, len, output != NULL ? out[0] : -1, output, deadline) < 0 ||
	    (status = fw_wait(pid, deadline)) < 0) {
		fw_kill(pid);
		why = "timed out: killed";
	} else if (!WIFEXITED(status))
		why = "killed by a signal";
	else if (WEXITSTATUS(status) == 127)
		why = "not found";
	else if (WEXITSTATUS(status) != 0)
		why = "non-zero exit";
	if (why != NULL) {
		char line[512];
		size_t n = 0;

		if (quiet && strcmp(why, "timed out: killed") != 0)
			return -1;
		for (int i = 0; argv[i] != NULL && n < sizeof(line); i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", i ? " " : "", argv[i]);
		log_warnx("command failed (%s): %s", why, line);
		return -1;
	}
	return 0;
}

void
fw_entry_text(const struct fw_entry *e, char *buf)
{
	size_t n = addr_format(&e->addr, buf);

	snprintf(buf + n, 6, "/%d", e->plen);
}

void
fw_entry_key(const struct fw_entry *e, char *buf)
{
	size_t n = addr_format(&e->addr, buf);

	if (e->plen != (e->addr.family == 4 ? 32 : 128))
		snprintf(buf + n, 6, "/%d", e->plen);
}

const char *
fw_kind_name(enum fw_kind k)
{
	return k == FW_LIMIT ? "limit" : k == FW_TARPIT ? "tarpit" : "block";
}
