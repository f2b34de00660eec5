/* log.c - stderr logging with a program prefix (priorities for the journal), or syslog; see log.h. */
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
static int log_journal = -1;	/* stderr is the journal's stream: -1 not looked at yet */

/*
 * 1 if stderr is connected to systemd's journal (JOURNAL_STREAM names its
 * device and inode): lines then carry their priority as "<N>" and no
 * program name (the journal records it), and journalctl -p works.
 */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &sb) == 0 &&
	    (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

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
	if (log_journal < 0)
		log_journal = stderr_is_journal();
	if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", prio, buf, err != NULL ? ": " : "", err != NULL ? err : "");
	else if (err != NULL)
		fprintf(stderr, "%s: %s: %s\n", log_prog, buf, err);
	else
		fprintf(stderr, "%s: %s\n", log_prog, buf);
}

#define vlog(fmt, ap, err) vlog_prio(LOG_WARNING, fmt, ap, err)

void
log_line(int prio, const char *fmt, ...)
{
	va_list ap;

	if (log_journal < 0)
		log_journal = stderr_is_journal();
	if (log_journal)
		fprintf(stderr, "<%d>", prio);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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
	vlog_prio(LOG_ERR, fmt, ap, err);
	va_end(ap);
	exit(code);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_prio(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(code);
}
