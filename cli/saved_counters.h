/*
 * saved_counters.h - the rules' counters in the daemon's state: taken back
 * at start, kept in step with the configuration at a reload, and written
 * at each commit (the keys that changed since the last one, in the
 * commit's transaction). A rule whose way of counting changed since its
 * rows were saved starts from zero, and the daemon says so.
 */
#ifndef MXG_SAVED_COUNTERS_H
#define MXG_SAVED_COUNTERS_H

#include <stdint.h>

#include "../rules/conf.h"
#include "../rules/engine.h"
#include "../state/store.h"

/*
 * At start, before any event: the engine's hash key and the counters of
 * the rules that count as when they were saved, in e; then e notes its
 * changes. Returns the number of keys taken back, or -1 if the state
 * could not be read or written (said).
 */
long counters_restore(struct store *s, struct engine *e, const struct config *c);
/* After a reload to c (e: the new engine): the rules' rows follow it. -1 on failure (said). */
int counters_reload(struct store *s, struct engine *e, const struct config *c);
/* Inside a commit's transaction: what changed; the rows written, -1 if a write failed. */
long counters_save(struct store *s, struct engine *e);

#endif
