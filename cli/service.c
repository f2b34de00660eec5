/*
 * service.c - sd_notify(3) for the daemon (see service.h).
 */
#include "service.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#define STATUS_EVERY_MS 5000

/* The process has one service manager: these are its one state. */
static int64_t next_watchdog_ms, next_status_ms;
static int watchdog_ms = -2;	/* -2: not asked yet */

/*
 * How often to say WATCHDOG=1 (ms), or -1: no watchdog. WATCHDOG_USEC is
 * read here, not through sd_watchdog_enabled(): that one also wants
 * WATCHDOG_PID to be this process, and under privilege separation the
 * loop runs in the worker, a child of the main process systemd knows.
 */
static int
watchdog_every_ms(void)
{
	const char *v;
	char *end;
	unsigned long long usec;

	if (watchdog_ms != -2)
		return watchdog_ms;
	watchdog_ms = -1;
	if ((v = getenv("WATCHDOG_USEC")) != NULL && getenv("NOTIFY_SOCKET") != NULL) {
		usec = strtoull(v, &end, 10);
		if (*end == '\0' && usec >= 2000 && usec / 2000 < INT_MAX)
			watchdog_ms = (int)(usec / 2000);
	}
	return watchdog_ms;
}

static void
vstatus(const char *head, const char *fmt, va_list ap)
{
	char line[512], msg[600];

	vsnprintf(line, sizeof(line), fmt, ap);
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", head, line);
	sd_notify(0, msg);
}

void
service_ready(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstatus("READY=1\n", fmt, ap);
	va_end(ap);
}

void
service_status(int64_t now_ms, const char *fmt, ...)
{
	va_list ap;

	if (now_ms < next_status_ms)
		return;
	next_status_ms = now_ms + STATUS_EVERY_MS;
	va_start(ap, fmt);
	vstatus("", fmt, ap);
	va_end(ap);
}

void
service_tick(int64_t now_ms)
{
	int every = watchdog_every_ms();

	if (every < 0 || now_ms < next_watchdog_ms)
		return;
	next_watchdog_ms = now_ms + every;
	sd_notify(0, "WATCHDOG=1");
}

void
service_reloading(void)
{
	struct timespec ts;
	char msg[80];

	/* (MONOTONIC_USEC: what systemd's Type=notify-reload wants with RELOADING=1) */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	sd_notify(0, msg);
}

void
service_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
