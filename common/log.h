/*
 * log.h - the one logging API of mxguard.
 *
 * Messages go to stderr, or to syslog (log_syslog). On stderr under systemd
 * (its journal stream) each line carries its priority: fatal() error,
 * log_warn() warning, log_info() info, log_debug() debug. Every function
 * is printf-checked. log_warn() appends strerror(errno); log_warnx() does
 * not. fatal()/fatalx() log and exit with the given sysexits(3) code.
 */
#ifndef MXG_LOG_H
#define MXG_LOG_H

#include <stdarg.h>

#define MXG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Program name used as the prefix of every message ("mxguard"). */
void log_init(const char *progname, int verbose);
/* 1: send messages to syslog (facility daemon) instead of stderr; 0: back to stderr. */
#define LOG_SYSLOG_SOCKET "/dev/log"
/*
 * Messages to syslog (on) or stderr. 0, or -1 when on and there is no
 * syslog socket (LOG_SYSLOG_SOCKET): then messages stay on stderr (the
 * caller says so).
 */
int log_syslog(int on);
/* 1 if the syslog socket is there. */
int log_syslog_socket(void);

/*
 * A line as it is, without the program name ("FILE:LINE:COL: message" of
 * a configuration): on stderr, with its priority on the journal's stream.
 */
void log_line(int prio, const char *fmt, ...) MXG_PRINTF(2, 3);
void log_warn(const char *fmt, ...) MXG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) MXG_PRINTF(1, 2);
void log_info(const char *fmt, ...) MXG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) MXG_PRINTF(1, 2);
__attribute__((noreturn)) void fatal(int code, const char *fmt, ...) MXG_PRINTF(2, 3);
__attribute__((noreturn)) void fatalx(int code, const char *fmt, ...) MXG_PRINTF(2, 3);

#endif
