/*
 * rep.c - the feeds of a configuration, combined (see rep.h).
 */
#include "rep.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/outbuf.h"
#include "../common/xalloc.h"
#include "volume.h"

struct rep_db {
	const struct feed_spec *spec[REP_FEEDS_MAX];
	struct feed *feed[REP_FEEDS_MAX];	/* the version in use, or NULL */
	/*
	 * The file as the last refresh saw it, and the last version tried: a
	 * file is loaded once it has not changed between two refreshes (one
	 * being written in place is not read half-way), and one that failed
	 * is not tried (nor reported) again until it changes.
	 */
	struct feed_stamp seen[REP_FEEDS_MAX], tried[REP_FEEDS_MAX];
	int n;
	struct volume *vol;	/* mxguard's own counts, or NULL */
	/*
	 * rep_set_async: a new version is read by a thread of its own, one
	 * feed at a time, and swapped in by the next rep_refresh after it is
	 * done — the daemon's loop never waits for a million-line feed. The
	 * thread touches nothing but its spec (read-only) and what it makes.
	 */
	int async;
	struct {
		pthread_t th;
		int active;		/* started, not joined yet */
		int feed;
		struct feed *result;	/* NULL: it failed, err says why */
		char err[512];
		atomic_int done;
	} ld;
};

static void *
load_main(void *arg)
{
	struct rep_db *db = arg;

	db->ld.result = feed_load(db->spec[db->ld.feed], db->ld.err, sizeof(db->ld.err));
	atomic_store_explicit(&db->ld.done, 1, memory_order_release);
	return NULL;
}

void
rep_set_async(struct rep_db *db, int on)
{
	db->async = on;
}

int
rep_loading(const struct rep_db *db)
{
	return db->ld.active;
}

/* Wait for the loading thread, if any; its result to *f (NULL: it failed, err says why). -1 if none ran. */
static int
loader_join(struct rep_db *db, struct feed **f)
{
	if (!db->ld.active)
		return -1;
	pthread_join(db->ld.th, NULL);
	db->ld.active = 0;
	*f = db->ld.result;
	db->ld.result = NULL;
	return db->ld.feed;
}

struct rep_db *
rep_new(void)
{
	return xcalloc(1, sizeof(struct rep_db));
}

void
rep_free(struct rep_db *db)
{
	struct feed *f = NULL;

	if (db == NULL)
		return;
	if (loader_join(db, &f) >= 0)
		feed_free(f);
	for (int i = 0; i < db->n; i++)
		feed_free(db->feed[i]);
	free(db);
}

int
rep_add(struct rep_db *db, const struct feed_spec *spec, char *err, size_t errlen)
{
	if (db->n == REP_FEEDS_MAX) {
		snprintf(err, errlen, "more than %d feeds", REP_FEEDS_MAX);
		return -1;
	}
	db->spec[db->n] = spec;
	db->feed[db->n] = feed_load(spec, err, errlen);
	if (db->feed[db->n] != NULL)
		db->seen[db->n] = db->tried[db->n] = db->feed[db->n]->stamp;
	else if (feed_stamp(spec->path, &db->seen[db->n]) == 0)
		db->tried[db->n] = db->seen[db->n];
	return db->feed[db->n++] != NULL ? 0 : -1;
}

int
rep_feed_index(const struct rep_db *db, const char *name)
{
	for (int i = 0; i < db->n; i++)
		if (strcmp(db->spec[i]->name, name) == 0)
			return i;
	return -1;
}

int
rep_nfeeds(const struct rep_db *db)
{
	return db->n;
}

void
rep_merge_zones(struct rep_result *r, const struct zone_spec *const *zones, const struct dnsrep_answer *ans)
{
	r->nzones = ans->nzones;
	for (int z = 0; z < ans->nzones; z++) {
		const struct zone_answer *za = &ans->zone[z];
		const int8_t sc[REP_NSCORES] = { za->risk, za->spam, za->vol };

		r->zone[z] = zones[z];
		r->zans[z] = *za;
		if (za->state != ZONE_LISTED)
			continue;
		r->zlisted |= 1u << z;
		for (int s = 0; s < REP_NSCORES; s++)
			if (sc[s] != FEED_SCORE_NONE && (sc[s] > r->score[s] || r->src[s].local != 0)) {
				/* A zone's listing outranks mxguard's own vol, like a feed's. */
				r->score[s] = sc[s];
				r->src[s] = (struct rep_source){ .zone = zones[z], .answer = za->a };
			}
	}
}

void
rep_set_volume(struct rep_db *db, struct volume *v)
{
	db->vol = v;
}

const struct feed *
rep_feed(const struct rep_db *db, int i)
{
	return i >= 0 && i < db->n ? db->feed[i] : NULL;
}

size_t
rep_feed_size(const struct rep_db *db, int i)
{
	return i >= 0 && i < db->n && db->feed[i] != NULL ? db->feed[i]->n : 0;
}

int
rep_refresh(struct rep_db *db, void (*report)(void *arg, const char *msg), void *arg)
{
	int replaced = 0;

	if (db->ld.active) {
		struct feed *f = NULL;
		int i;

		if (!atomic_load_explicit(&db->ld.done, memory_order_acquire))
			return 0;	/* still reading: one feed at a time */
		i = loader_join(db, &f);
		if (f == NULL) {
			if (report != NULL)
				report(arg, db->ld.err);
		} else {
			feed_free(db->feed[i]);
			db->feed[i] = f;
			replaced++;
		}
	}
	for (int i = 0; i < db->n; i++) {
		char err[512];
		struct feed_stamp now;
		struct feed *f;

		/* Gone or unreadable by name: the version in memory stays until a file is back. */
		if (feed_stamp(db->spec[i]->path, &now) < 0)
			continue;
		if (!feed_stamp_eq(&now, &db->seen[i])) {
			db->seen[i] = now;	/* changed since the last look: wait until it is still */
			continue;
		}
		if (feed_stamp_eq(&now, &db->tried[i]))
			continue;
		db->tried[i] = now;
		if (db->async) {
			db->ld.feed = i;
			db->ld.result = NULL;
			atomic_store(&db->ld.done, 0);
			if (pthread_create(&db->ld.th, NULL, load_main, db) == 0) {
				db->ld.active = 1;
				break;	/* the next refresh takes its result */
			}
			/* No thread to be had: read it here. */
		}
		if ((f = feed_load(db->spec[i], err, sizeof(err))) == NULL) {
			if (report != NULL)
				report(arg, err);
			continue;
		}
		feed_free(db->feed[i]);
		db->feed[i] = f;
		replaced++;
	}
	return replaced;
}

void
rep_lookup(const struct rep_db *db, const struct addr *a, int64_t now, struct rep_result *r)
{
	/* Not the zones' part (nzones says how much of it is valid): a lookup runs for every event. */
	memset(r->src, 0, sizeof(r->src));
	r->listed = 0;
	r->zlisted = 0;
	r->nzones = 0;
	r->db = db;
	for (int s = 0; s < REP_NSCORES; s++)
		r->score[s] = REP_UNKNOWN;
	for (int i = 0; i < db->n; i++) {
		struct feed_hit h;

		if (db->feed[i] == NULL || !feed_lookup(db->feed[i], a, now, &h))
			continue;
		r->listed |= 1u << i;
		{
			const int8_t sc[REP_NSCORES] = { h.risk, h.spam, h.vol };

			for (int s = 0; s < REP_NSCORES; s++)
				if (sc[s] != FEED_SCORE_NONE && sc[s] > r->score[s]) {
					r->score[s] = sc[s];
					r->src[s] = (struct rep_source){ db->spec[i], db->feed[i], h.entry, 0 };
				}
		}
	}
	if (r->score[REP_VOL] == REP_UNKNOWN && db->vol != NULL) {
		uint32_t n;
		int v = volume_of(db->vol, a, now, &n);

		if (v >= 0) {
			r->score[REP_VOL] = (int8_t)v;
			r->src[REP_VOL] = (struct rep_source){ .local = n };
		}
	}
}

uint32_t
rep_source_line(const struct rep_source *s)
{
	return s->version != NULL ? s->version->item[s->entry].line : 0;
}

const char *
rep_score_name(enum rep_score s)
{
	static const char *const names[] = { "risk", "spam", "vol" };

	return (unsigned)s < REP_NSCORES ? names[s] : "?";
}

void
rep_put_json(struct outbuf *ob, const struct rep_result *r)
{
	const struct rep_db *db = r->db;
	int first = 1;

	for (int s = 0; s < REP_NSCORES; s++) {
		if (s > 0)
			ob_putc(ob, ',');
		ob_putc(ob, '"');
		ob_put(ob, rep_score_name((enum rep_score)s), strlen(rep_score_name((enum rep_score)s)));
		OB_LIT(ob, "\":");
		if (r->score[s] == REP_UNKNOWN)
			OB_LIT(ob, "null");
		else
			ob_put_i64(ob, r->score[s]);
	}
	OB_LIT(ob, ",\"sources\":{");
	for (int s = 0; s < REP_NSCORES; s++) {
		const struct rep_source *src = &r->src[s];

		if (src->feed == NULL && src->local == 0 && src->zone == NULL)
			continue;
		if (!first)
			ob_putc(ob, ',');
		first = 0;
		ob_putc(ob, '"');
		ob_put(ob, rep_score_name((enum rep_score)s), strlen(rep_score_name((enum rep_score)s)));
		if (src->zone != NULL) {
			char a[ADDR_STRLEN];
			struct addr x = { .family = 4, .b = { (uint8_t)(src->answer >> 24), (uint8_t)(src->answer >> 16),
				(uint8_t)(src->answer >> 8), (uint8_t)src->answer } };

			OB_LIT(ob, "\":{\"zone\":");
			ob_put_json_str(ob, src->zone->name, strlen(src->zone->name));
			OB_LIT(ob, ",\"answer\":\"");
			ob_put(ob, a, addr_format(&x, a));
			OB_LIT(ob, "\"}");
			continue;
		}
		if (src->feed == NULL) {
			/* What mxguard saw itself: messages accepted today and yesterday. */
			OB_LIT(ob, "\":{\"local\":true,\"messages\":");
			ob_put_u64(ob, src->local);
			ob_putc(ob, '}');
			continue;
		}
		OB_LIT(ob, "\":{\"feed\":");
		ob_put_json_str(ob, src->feed->name, strlen(src->feed->name));
		OB_LIT(ob, ",\"file\":");
		ob_put_json_str(ob, src->feed->path, strlen(src->feed->path));
		OB_LIT(ob, ",\"line\":");
		ob_put_u64(ob, rep_source_line(src));
		ob_putc(ob, '}');
	}
	OB_LIT(ob, "},\"listed\":[");
	first = 1;
	for (int i = 0; db != NULL && i < db->n; i++)
		if (r->listed & (1u << i)) {
			if (!first)
				ob_putc(ob, ',');
			first = 0;
			ob_put_json_str(ob, db->spec[i]->name, strlen(db->spec[i]->name));
		}
	for (int z = 0; z < r->nzones; z++)
		if (r->zans[z].state == ZONE_LISTED) {
			if (!first)
				ob_putc(ob, ',');
			first = 0;
			ob_put_json_str(ob, r->zone[z]->name, strlen(r->zone[z]->name));
		}
	ob_putc(ob, ']');
	if (r->nzones > 0) {
		/* Each zone's answer: what "unknown" was (a timeout, a refusal) is in the daemon's log and stats. */
		OB_LIT(ob, ",\"zones\":{");
		for (int z = 0; z < r->nzones; z++) {
			static const char *const states[] = { "unknown", "not listed", "listed" };

			if (z > 0)
				ob_putc(ob, ',');
			ob_put_json_str(ob, r->zone[z]->name, strlen(r->zone[z]->name));
			ob_putc(ob, ':');
			ob_put_json_str(ob, states[r->zans[z].state], strlen(states[r->zans[z].state]));
		}
		ob_putc(ob, '}');
	}
}
