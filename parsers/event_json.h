/*
 * event_json.h - the one-line text form of an event (JSON Lines).
 *
 * {"line":12,"ts":"2024-10-30T07:14:52Z","mta":"postfix","type":"rcpt_unknown",
 *  "ip":"203.0.113.41","host":"mail.example.net",...}
 * Keys: line, [file], ts, mta, type, [ip], then the present fields in the
 * order of enum ev_field. Times are UTC; the fraction appears only when the
 * log had one.
 */
#ifndef MXG_EVENT_JSON_H
#define MXG_EVENT_JSON_H

#include "../common/outbuf.h"
#include "event.h"

/* Append e and a newline; file (may be NULL) adds a "file" key. */
void event_json(struct outbuf *ob, const struct event *e, const char *file);
/*
 * The same with members of the caller's after the event's own: more()
 * writes them (each starting with a comma) before the closing brace — the
 * daemon adds the client's reputation there, which parsers know nothing of.
 */
void event_json_more(struct outbuf *ob, const struct event *e, const char *file,
    void (*more)(struct outbuf *ob, const struct event *e));

/* Append the ISO 8601 UTC form of ts/usec (usec < 0: whole seconds), no quotes. */
void put_iso8601(struct outbuf *ob, int64_t ts, int32_t usec);

#endif
