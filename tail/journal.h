/*
 * journal.h - the systemd journal as a line source (sd-journal), for hosts
 * that keep no syslog files.
 *
 * Each entry becomes one line as rsyslog would have written it, with the
 * journal's own time: "2026-12-07T10:00:00.123456+00:00 HOST IDENT[PID]:
 * MESSAGE", so the parsers see what they see in mail.log. The position is
 * the journal's cursor of the last entry delivered: saved with the other
 * positions, given back after a restart, reading resumes after it (every
 * entry exactly once).
 *
 * Which entries: with units, only those journald itself attributes to one
 * of them (_SYSTEMD_UNIT, a field no client of the journal can set: a user
 * running `logger -t postfix/smtpd` cannot forge a line); without, every
 * entry (as a syslog file holds every program's lines).
 */
#ifndef MXG_JOURNAL_H
#define MXG_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/span.h"
#include "follow.h"

struct journal_src;

struct journal_spec {
	const char *directory;		/* journal files there (sd_journal_open_directory), or NULL: the system's */
	char *const *units;		/* _SYSTEMD_UNIT values, any of them; none: every entry */
	int nunits;
};

/*
 * Open the journal. cursor: where the last run stopped (NULL: a first
 * start, begin at `start`; since > 0: at that time, UTC seconds, instead).
 * NULL with the reason in err.
 */
struct journal_src *journal_open(const struct journal_spec *spec, const char *cursor, enum follow_start start,
    int64_t since, size_t max_line, char *err, size_t errlen);
void journal_close(struct journal_src *j);
/* The descriptor to poll (POLLIN: something changed), or -1. */
int journal_fd(struct journal_src *j);
/* Deliver the entries that came since the last call. The number delivered, or -1 (logged). */
long journal_poll(struct journal_src *j, follow_line_fn fn, void *arg);
/* The cursor after the last entry delivered (to save), or NULL if none was ever. */
const char *journal_cursor(const struct journal_src *j);
/* Entries passed over: no MESSAGE, or one longer than max_line. */
uint64_t journal_skipped(const struct journal_src *j);

#endif
