/*
 * latency.c - end-to-end latency of the live daemon: a line appended to
 * the log -> the decision saved and printed.
 *
 * usage: latency LOG N -- mxguard run ...   (the daemon's stdout is read here)
 * The config must decide on every connect line (the bench writes one).
 * Each of N connect lines comes from a new address; the time from write()
 * to its decision on the daemon's stdout is recorded, then the
 * distribution is printed (min, p50, p90, p99, max, in milliseconds).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int pfd[2], n, logfd, sep = 3;
	pid_t pid;
	double *lat;
	char buf[65536];
	size_t have = 0;

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: latency LOG N -- COMMAND...\n");
		return 64;
	}
	n = atoi(argv[2]);
	lat = calloc((size_t)n, sizeof(*lat));
	if (pipe(pfd) < 0 || (pid = fork()) < 0)
		return 71;
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execvp(argv[sep + 1], argv + sep + 1);
		_exit(127);
	}
	close(pfd[1]);
	usleep(500000);		/* the daemon starts and watches the log */
	if ((logfd = open(argv[1], O_WRONLY | O_APPEND)) < 0)
		return 66;
	for (int i = 0; i < n; i++) {
		char line[256], want[64];
		struct tm tm;
		time_t t = time(NULL);
		double t0;
		int len, got = 0;

		localtime_r(&t, &tm);
		len = (int)strftime(line, sizeof(line), "%b %e %H:%M:%S mx1 postfix/smtpd[42]: ", &tm);
		/* Non-zero groups, so this text is also the canonical form the daemon prints. */
		len += snprintf(line + len, sizeof(line) - (size_t)len, "connect from unknown[2001:db8:%x:%x::1]\n",
		    (i >> 16) + 1, (i & 0xffff) + 1);
		snprintf(want, sizeof(want), "\"ip\":\"2001:db8:%x:%x::1\"", (i >> 16) + 1, (i & 0xffff) + 1);
		t0 = now();
		if (write(logfd, line, (size_t)len) != len)
			return 74;
		while (!got) {
			struct pollfd p = { .fd = pfd[0], .events = POLLIN };
			ssize_t k;

			if (poll(&p, 1, 5000) <= 0) {
				fprintf(stderr, "latency: no decision for line %d within 5 s\n", i);
				kill(pid, SIGTERM);
				return 1;
			}
			k = read(pfd[0], buf + have, sizeof(buf) - 1 - have);
			if (k <= 0)
				return 1;
			have += (size_t)k;
			buf[have] = '\0';
			if (strstr(buf, want) != NULL) {
				lat[i] = now() - t0;
				got = 1;
				have = 0;
			} else if (have > sizeof(buf) / 2) {
				memmove(buf, buf + have - 200, 200);	/* keep the tail only */
				have = 200;
			}
		}
		usleep(2000);	/* lines arrive one by one, as from a real MTA */
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("lines %d  min %.2f ms  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", n, lat[0],
	    lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], lat[n - 1]);
	return 0;
}
