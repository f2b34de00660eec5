/*
 * repwait.h - events that wait for their client's DNS reputation.
 *
 * When rules read what DNS zones say (docs/REPUTATION.md, "DNS zones in
 * rules"), an event of a client whose answers are not in the cache cannot
 * be judged yet. It waits here, packed (parsers/event_pack.h), while the
 * questions are out; the client's later events wait behind it, so one
 * client's events always reach the rules in their order. Other clients'
 * events go on: the pipeline never waits on DNS. When every zone has
 * answered, or its timeout has passed (then that zone is "unknown": it
 * lists nothing and gives no score), the client's events are handed on,
 * oldest first, with the answers.
 *
 * Bounded: at most max_bytes of packed events wait; an event that would
 * go past it first hands on its client's waiting events and itself at
 * once, every zone unknown (counted as forced). The waiting events can be
 * exported as a blob and imported at the next start (they are asked
 * again), so that a restart loses none of them.
 */
#ifndef MXG_REPWAIT_H
#define MXG_REPWAIT_H

#include <stddef.h>
#include <stdint.h>

#include "../parsers/event.h"
#include "dnszone.h"

struct repwait;

/* An event whose answers are in: ev is valid during the call only. */
typedef void (*repwait_fn)(void *arg, struct event *ev, const struct dnsrep_answer *ans);

/* d (not owned) asks the nzones zones; fn receives the events. */
struct repwait *repwait_new(struct dnsrep *d, int nzones, size_t max_bytes, repwait_fn fn, void *arg);
/* Frees everything; waiting events are dropped (export them first). */
void repwait_free(struct repwait *w);

/*
 * An event of the pipeline, in log order. Without a client address it goes
 * on at once (ans NULL); with one, at once if the answers are cached and
 * the client has no event waiting, else later (from dnsrep_process).
 */
void repwait_put(struct repwait *w, struct event *ev, int64_t now_ms);

/* Every waiting event handed on now, every zone unknown (a reload). */
void repwait_flush(struct repwait *w);

/*
 * The waiting events as one blob (malloc'd, *len bytes; NULL with *len 0
 * if none wait), and put back from one: asked again, in their order. -1 if
 * the blob is not one of this build's (nothing is put back then).
 */
void *repwait_export(const struct repwait *w, size_t *len);
int repwait_import(struct repwait *w, const void *blob, size_t len, int64_t now_ms);

struct repwait_stats {
	uint64_t waiting;	/* events waiting now */
	uint64_t clients;	/* clients with events waiting now */
	uint64_t bytes;		/* their packed size */
	uint64_t waited;	/* events that have waited (handed on since the start) */
	uint64_t forced;	/* ... of them, handed on before their answers (memory bound, reload) */
	uint64_t max_wait_ms;	/* the longest any event waited */
};
struct repwait_stats repwait_stats(const struct repwait *w);
/* A number that changes whenever the waiting events do (to save them only then). */
uint64_t repwait_changes(const struct repwait *w);

/* Each event of an exported blob, in order (the zones no longer asked: judged without them). -1: not one. */
int repwait_blob_each(const void *blob, size_t len, void (*fn)(void *arg, struct event *ev), void *arg);

#endif
