/*
 * journal.c - the systemd journal as a line source (see journal.h).
 */
#include "journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "../common/log.h"
#include "../common/xalloc.h"

#define ENTRIES_PER_POLL 100000	/* a catch-up gives the loop back now and then */

struct journal_src {
	sd_journal *j;
	char *cursor;		/* of the last entry delivered, or NULL */
	int redeliver;		/* the saved entry is gone: the one the journal is at now is new */
	size_t max_line;
	char *line;
	uint64_t skipped;
};

/* The value of field name ("MESSAGE") of the current entry, or NULL. */
static const char *
field(sd_journal *j, const char *name, size_t *len)
{
	const void *d;
	size_t n, k = strlen(name);

	if (sd_journal_get_data(j, name, &d, &n) < 0 || n <= k || ((const char *)d)[k] != '=')
		return NULL;
	*len = n - k - 1;
	return (const char *)d + k + 1;
}

struct journal_src *
journal_open(const struct journal_spec *spec, const char *cursor, enum follow_start start, int64_t since,
    size_t max_line, char *err, size_t errlen)
{
	struct journal_src *js = xcalloc(1, sizeof(*js));
	int r;

	js->max_line = max_line;
	js->line = xmalloc(max_line + 512);
	r = spec->directory != NULL ? sd_journal_open_directory(&js->j, spec->directory, 0) :
	    sd_journal_open(&js->j, SD_JOURNAL_LOCAL_ONLY);
	if (r < 0) {
		snprintf(err, errlen, "cannot open the journal%s%s: %s", spec->directory ? " in " : "",
		    spec->directory ? spec->directory : "", strerror(-r));
		journal_close(js);
		return NULL;
	}
	/* (fields longer than a line are not read whole: they are passed over anyway) */
	sd_journal_set_data_threshold(js->j, max_line + 64);
	for (int i = 0; i < spec->nunits; i++) {
		char m[512];

		snprintf(m, sizeof(m), "_SYSTEMD_UNIT=%s", spec->units[i]);
		if ((r = sd_journal_add_match(js->j, m, 0)) < 0) {
			snprintf(err, errlen, "journal: unit %s: %s", spec->units[i], strerror(-r));
			journal_close(js);
			return NULL;
		}
	}
	if (cursor != NULL && sd_journal_seek_cursor(js->j, cursor) >= 0) {
		/*
		 * At the saved entry, delivered last time; if it was vacuumed
		 * meanwhile, the journal is at the first entry after it, which
		 * was not.
		 */
		if (sd_journal_next(js->j) > 0)
			js->redeliver = sd_journal_test_cursor(js->j, cursor) <= 0;
		js->cursor = xstrdup(cursor);
	} else if (since > 0) {
		sd_journal_seek_realtime_usec(js->j, (uint64_t)since * 1000000);
	} else if (start == FOLLOW_FROM_START) {
		sd_journal_seek_head(js->j);
	} else {
		/* the end: the next entry is the first new one */
		sd_journal_seek_tail(js->j);
		sd_journal_previous(js->j);
	}
	return js;
}

void
journal_close(struct journal_src *js)
{
	if (js == NULL)
		return;
	if (js->j != NULL)
		sd_journal_close(js->j);
	free(js->cursor);
	free(js->line);
	free(js);
}

int
journal_fd(struct journal_src *js)
{
	int fd = sd_journal_get_fd(js->j);

	return fd < 0 ? -1 : fd;
}

const char *
journal_cursor(const struct journal_src *js)
{
	return js->cursor;
}

uint64_t
journal_skipped(const struct journal_src *js)
{
	return js->skipped;
}

/* The current entry as a syslog line in js->line; its length, or 0 to pass it over. */
static size_t
entry_line(struct journal_src *js)
{
	const char *msg, *ident, *pid, *host;
	size_t mlen, ilen, plen, hlen, n;
	uint64_t usec;
	time_t t;
	struct tm tm;
	char *o = js->line;

	if ((msg = field(js->j, "MESSAGE", &mlen)) == NULL || mlen > js->max_line ||
	    sd_journal_get_realtime_usec(js->j, &usec) < 0)
		return 0;
	if ((ident = field(js->j, "SYSLOG_IDENTIFIER", &ilen)) == NULL && (ident = field(js->j, "_COMM", &ilen)) == NULL) {
		ident = "-";
		ilen = 1;
	}
	if ((pid = field(js->j, "SYSLOG_PID", &plen)) == NULL && (pid = field(js->j, "_PID", &plen)) == NULL)
		plen = 0;
	if ((host = field(js->j, "_HOSTNAME", &hlen)) == NULL) {
		host = "localhost";
		hlen = 9;
	}
	ilen = ilen > 128 ? 128 : ilen;
	plen = plen > 20 ? 20 : plen;
	hlen = hlen > 255 ? 255 : hlen;
	t = (time_t)(usec / 1000000);
	gmtime_r(&t, &tm);
	n = strftime(o, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(o + n, 40, ".%06llu+00:00 ", (unsigned long long)(usec % 1000000));
	memcpy(o + n, host, hlen);
	n += hlen;
	o[n++] = ' ';
	memcpy(o + n, ident, ilen);
	n += ilen;
	if (plen > 0) {
		o[n++] = '[';
		memcpy(o + n, pid, plen);
		n += plen;
		o[n++] = ']';
	}
	o[n++] = ':';
	o[n++] = ' ';
	/* one entry, one line: a message of several lines is joined (and so is anything before it) */
	memcpy(o + n, msg, mlen);
	n += mlen;
	for (size_t i = 0; i < n; i++)
		if (o[i] == '\n' || o[i] == '\r')
			o[i] = ' ';
	return n;
}

long
journal_poll(struct journal_src *js, follow_line_fn fn, void *arg)
{
	long delivered = 0;
	int r, moved = 0;

	sd_journal_process(js->j);	/* (acknowledges the change that woke the loop) */
	for (int k = 0; k < ENTRIES_PER_POLL; k++) {
		size_t n;

		if (js->redeliver) {
			js->redeliver = 0;	/* the journal is at it already */
		} else if ((r = sd_journal_next(js->j)) <= 0) {
			if (r < 0)
				log_warnx("journal: %s", strerror(-r));
			break;
		}
		moved = 1;
		if ((n = entry_line(js)) == 0) {
			js->skipped++;
			continue;
		}
		fn(arg, (struct span){ js->line, n });
		delivered++;
	}
	if (moved) {
		char *c;

		if (sd_journal_get_cursor(js->j, &c) >= 0) {
			free(js->cursor);
			js->cursor = c;
		}
	}
	return delivered;
}
