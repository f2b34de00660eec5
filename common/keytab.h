/*
 * keytab.h - a bounded hash table of per-key state, least recently seen
 * first out.
 *
 * Every rule keeps its counters in one (the key is a client prefix, a HELO
 * name, a sender...). Each slot holds a fixed-size payload chosen by the
 * caller and the key bytes. At capacity, inserting evicts a key (counted):
 * the least recently seen, or, with a score function, the lowest-scored of
 * the KEYTAB_EVICT_SAMPLE least recently seen (so a flood of fresh keys
 * cannot push out a key that has nearly reached its threshold); idle keys
 * are expired from the old end by an incremental sweep. Keys are hashed
 * under the process's secret (keyed vector multiply-shift). Memory is one calloc'd array sized
 * for the cap, touched only as keys arrive. Lookups, inserts and evictions
 * are O(1).
 */
#ifndef MXG_KEYTAB_H
#define MXG_KEYTAB_H

#include <stddef.h>
#include <stdint.h>

#define KEYTAB_KEYMAX 60
#define KEYTAB_EVICT_SAMPLE 8	/* keys looked at to choose an eviction victim */

struct keytab;

struct keytab_stats {
	uint64_t size, peak, inserted, evicted, expired;
};

/* payload: bytes per key (zeroed on insert); keymax: the longest key stored. */
struct keytab *keytab_new(uint32_t capacity, size_t payload, size_t keymax);
void keytab_free(struct keytab *t, void (*free_payload)(void *payload));

/* Forget every key (no payload is freed: for tables of plain payloads), keeping the memory. */
void keytab_clear(struct keytab *t);

/* The payload for key, or NULL. Does not count as "seen". */
void *keytab_get(struct keytab *t, const void *key, size_t klen);

/*
 * The payload for key, created (zeroed) if absent, and marked seen at
 * `now`. *created tells which. May evict the least recently seen key
 * (free_payload, if given, is called on its payload first).
 */
void *keytab_put(struct keytab *t, const void *key, size_t klen, int64_t now, int *created,
    void (*free_payload)(void *payload));

/*
 * Expire up to max keys last seen before `before`, oldest first. Returns
 * the number expired.
 */
int keytab_expire(struct keytab *t, int64_t before, int max, void (*free_payload)(void *payload));
/*
 * Size the hash index for at least `buckets` now (it grows by itself to
 * one bucket per key): a table looked up for nearly every line, mostly for
 * keys it does not hold, finds most buckets empty (no slot touched).
 */
void keytab_reserve_index(struct keytab *t, size_t buckets);
/* Remove key (free_payload, if given, is called on its payload); 1 if it was there. */
int keytab_del(struct keytab *t, const void *key, size_t klen, void (*free_payload)(void *payload));
/* The longest hash chain (a scan of every bucket: for tests). */
uint32_t keytab_chain_max(const struct keytab *t);

/*
 * Choose eviction victims by score: at the cap, of the KEYTAB_EVICT_SAMPLE
 * least recently seen keys, the one whose payload scores lowest is evicted
 * (the least recently seen among equal scores; a score of 0 is taken at
 * once). NULL (the default): the least recently seen key.
 */
void keytab_set_score(struct keytab *t, uint64_t (*score)(const void *payload));

/* The key bytes of a payload returned by this table. */
const uint8_t *keytab_key(const struct keytab *t, const void *payload, size_t *klen);

/* Call fn for every live payload, oldest first. */
void keytab_foreach(struct keytab *t, void (*fn)(void *arg, void *payload), void *arg);

struct keytab_stats keytab_stats(const struct keytab *t);

/* Bytes per key including the index: for memory estimates. */
size_t keytab_bytes_per_key(const struct keytab *t);

/* When a payload's key was last seen (the `now` of its last keytab_put). */
int64_t keytab_seen(const struct keytab *t, const void *payload);

/*
 * Saving a table incrementally (the daemon's counters). keytab_track
 * starts noting changes. keytab_changes calls removed() for each saved
 * key removed since (expired, evicted; a key never saved needs nothing)
 * and changed() for each key put since the last keytab_saved, least
 * recently seen first. It returns 1 when the change is "everything"
 * (never saved, cleared, or more removals than are listed): the saved
 * copy must then be emptied first — changed() is called for every key,
 * removed() not at all. keytab_saved: the changes so far are saved (call
 * it once they are committed).
 */
void keytab_track(struct keytab *t);
/* 1 if the next keytab_changes will be "everything" (empty the saved copy first). */
int keytab_rewrite(const struct keytab *t);
int keytab_changes(struct keytab *t, void (*changed)(void *arg, void *payload),
    void (*removed)(void *arg, const uint8_t *key, size_t klen), void *arg);
void keytab_saved(struct keytab *t);

#endif
