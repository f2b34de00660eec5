/* log.c - stderr logging with a program prefix; see log.h. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

/* The daemon has exactly one log destination, so this is process state. */
static const char *log_prog = "mxguard";
static int log_verbose;
static int log_to_syslog;

int
log_syslog_socket(void)
{
	struct stat sb;

	return stat(LOG_SYSLOG_SOCKET, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

int
log_syslog(int on)
{
	/* syslog(3) drops what it cannot send: with no socket, messages would vanish. */
	if (on && !log_syslog_socket())
		return -1;
	if (on && !log_to_syslog)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && log_to_syslog)
		closelog();
	log_to_syslog = on;
	return 0;
}

void
log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
}

static void
vlog_prio(int prio, const char *fmt, va_list ap, const char *err)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_to_syslog) {
		if (err != NULL)
			syslog(prio, "%s: %s", buf, err);
		else
			syslog(prio, "%s", buf);
		return;
	}
	if (err != NULL)
		fprintf(stderr, "%s: %s: %s\n", log_prog, buf, err);
	else
		fprintf(stderr, "%s: %s\n", log_prog, buf);
}

#define vlog(fmt, ap, err) vlog_prio(LOG_WARNING, fmt, ap, err)

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	vlog(fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_prio(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog_prio(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	vlog(fmt, ap, err);
	va_end(ap);
	exit(code);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	exit(code);
}
