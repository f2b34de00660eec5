/*
 * syslog_hdr.h - split a log line into time, host, program tag, pid and body.
 *
 * Understands the header forms of docs/log-formats.md section 0: RFC 3164
 * (with or without <PRI>, BSD syslogd -v/-vv priority), rsyslog's ISO 8601
 * form, journalctl short (localised month names) and short-iso, RFC 5424,
 * and Exim's own mainlog ("2024-01-09 22:47:31.912 ...", no host or tag).
 * Times are converted to UTC. Year-less forms take the year that puts the
 * line at most one day after a reference time (the file's mtime, or now).
 */
#ifndef MXG_SYSLOG_HDR_H
#define MXG_SYSLOG_HDR_H

#include <stdint.h>
#include <time.h>

#include "../common/span.h"

enum hdr_form {
	HDR_RFC3164,		/* "Mar  4 09:07:13 host tag[pid]: body" (also journalctl short) */
	HDR_ISO,		/* "2024-11-19T07:42:05.118302+00:00 host tag[pid]: body" */
	HDR_RFC5424,		/* "<22>1 2024-03-11T09:14:02Z host app procid msgid sd body" */
	HDR_EXIM_MAINLOG,	/* "2021-02-17 10:04:58 [27316] body"; host and tag empty */
};

struct syslog_hdr {
	enum hdr_form form;
	int64_t ts;		/* UTC seconds since the epoch */
	int32_t usec;		/* sub-second part in microseconds; -1 if the header had none */
	struct span host;	/* the host that logged the line (may be empty) */
	struct span tag;	/* program tag, e.g. "postfix/submission/smtpd" (may be empty) */
	long pid;		/* -1 when absent */
	struct span body;	/* the message after "tag[pid]: " */
};

/* Per-input state: reference time for year inference, local-time cache. */
struct hdr_clock;

/*
 * ref: the newest time the input can hold (file mtime, or now).
 * year > 0 instead fixes year-less lines to that year.
 */
struct hdr_clock *hdr_clock_new(time_t ref, int year);
void hdr_clock_free(struct hdr_clock *c);

/* Returns 1 and fills *h, or 0 if the line has no recognisable header. */
int syslog_hdr_parse(struct hdr_clock *c, const char *line, size_t n, struct syslog_hdr *h);

/* Days since 1970-01-01 of a proleptic Gregorian date (exposed for tests). */
int64_t hdr_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
