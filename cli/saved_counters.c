/*
 * saved_counters.c - the rules' counters in the daemon's state (see
 * saved_counters.h).
 */
#include "saved_counters.h"

#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xalloc.h"

#define KEY_BLOB "engine-hash-key"	/* the engine's SipHash key: fingerprints in the rows are made with it */
#define COUNTING_MAX 256

/* The rules the state has rows for, read before anything is written. */
struct saved_rule {
	char *name, *counting;
};

struct saved_rules {
	struct saved_rule *r;
	int n;
};

static void
collect_rule(void *arg, const char *rule, const char *counting)
{
	struct saved_rules *sr = arg;

	sr->r = xrealloc(sr->r, (size_t)(sr->n + 1) * sizeof(*sr->r));
	sr->r[sr->n].name = xstrdup(rule != NULL ? rule : "");
	sr->r[sr->n].counting = xstrdup(counting != NULL ? counting : "");
	sr->n++;
}

static void
saved_rules_free(struct saved_rules *sr)
{
	for (int i = 0; i < sr->n; i++) {
		free(sr->r[i].name);
		free(sr->r[i].counting);
	}
	free(sr->r);
}

/*
 * The saved rules against c: the rows of a rule gone from c, or counting
 * otherwise now, are removed (`said` tells whether to say why: a reload
 * said it already); every rule of c is written with its way of counting.
 * Rules whose rows stay are flagged in keep[] (may be NULL).
 */
static int
sync_rules(struct store *s, const struct config *c, int said, char *keep)
{
	struct saved_rules sr = { 0 };
	char counting[COUNTING_MAX];
	int rc = 0;

	if (store_list_window_rules(s, collect_rule, &sr) < 0) {
		saved_rules_free(&sr);
		return -1;
	}
	for (int i = 0; i < sr.n && rc == 0; i++) {
		int k = conf_rule_index(c, sr.r[i].name);
		const char *why = k < 0 ? "it is no longer in the configuration" :
		    engine_counting_change(c->rules[k], sr.r[i].counting);

		if (why == NULL) {
			if (keep != NULL)
				keep[k] = 1;
			continue;
		}
		if (!said && k >= 0)
			log_warnx("run: rule \"%s\": %s since its counters were saved: they start again from zero",
			    sr.r[i].name, why);
		if (store_clear_windows(s, sr.r[i].name) < 0 || store_put_window_rule(s, sr.r[i].name, NULL) < 0)
			rc = -1;
	}
	for (int i = 0; i < c->nrules && rc == 0; i++) {
		engine_counting(c->rules[i], counting, sizeof(counting));
		if (store_put_window_rule(s, c->rules[i]->name, counting) < 0)
			rc = -1;
	}
	saved_rules_free(&sr);
	return rc;
}

struct restoring {
	struct engine *e;
	int rule;
	long restored, bad;
};

static void
restore_row(void *arg, const void *key, size_t klen, int64_t seen, const void *data, size_t len)
{
	struct restoring *rs = arg;

	if (engine_restore_window(rs->e, rs->rule, key, klen, seen, data, len) == 0)
		rs->restored++;
	else
		rs->bad++;
}

long
counters_restore(struct store *s, struct engine *e, const struct config *c)
{
	struct restoring rs = { .e = e };
	char *keep = xcalloc((size_t)c->nrules + 1, 1);
	struct hash_key k;
	void *blob;
	size_t len;

	if (store_begin(s) < 0)
		goto fail;
	if (store_get_blob(s, KEY_BLOB, &blob, &len)) {
		if (len == sizeof(k)) {
			memcpy(&k, blob, sizeof(k));
			engine_set_key(e, &k);
		}
		free(blob);
		if (len != sizeof(k)) {
			log_warnx("run: the saved hash key has %zu bytes, not %zu: saved counters are not taken back",
			    len, sizeof(k));
			len = 0;
		}
	} else
		len = 0;
	if (len == 0) {
		/* A new key: rows made with another one (if any) cannot be read. */
		k = engine_key(e);
		if (store_put_blob(s, KEY_BLOB, &k, sizeof(k)) < 0)
			goto fail;
		for (int i = 0; i < c->nrules; i++)
			if (store_clear_windows(s, c->rules[i]->name) < 0)
				goto fail;
	}
	if (sync_rules(s, c, 0, len == 0 ? NULL : keep) < 0)
		goto fail;
	for (int i = 0; i < c->nrules; i++) {
		if (!keep[i])
			continue;
		rs.rule = i;
		if (store_list_windows(s, c->rules[i]->name, restore_row, &rs) < 0)
			goto fail;
	}
	if (store_commit(s) < 0)
		goto fail;
	free(keep);
	engine_track_changes(e);
	if (rs.bad > 0)	/* (not marked saved: the first commit writes the rules' rows anew, without them) */
		log_warnx("run: %ld saved counter(s) could not be read and were left out", rs.bad);
	else
		engine_saved(e);	/* what was taken back is what is saved */
	return rs.restored;
fail:
	store_rollback(s);
	free(keep);
	log_warnx("run: the rules' saved counters cannot be read or written: counting goes on from the %ld taken "
	    "back", rs.restored);
	engine_track_changes(e);	/* (the first commit writes the rules' rows anew) */
	return -1;
}

int
counters_reload(struct store *s, struct engine *e, const struct config *c)
{
	engine_track_changes(e);	/* (tables taken over keep what they noted; new ones are written whole) */
	if (store_begin(s) < 0 || sync_rules(s, c, 1, NULL) < 0 || store_commit(s) < 0) {
		store_rollback(s);
		log_warnx("run: reload: the rules' saved counters cannot be updated");
		return -1;
	}
	return 0;
}

static int
put_row(void *arg, const char *rule, const uint8_t *key, size_t klen, int64_t seen, const void *data, size_t len)
{
	return store_put_window(arg, rule, key, klen, seen, data, len);
}

static int
del_row(void *arg, const char *rule, const uint8_t *key, size_t klen)
{
	return store_del_window(arg, rule, key, klen);
}

static int
clear_rows(void *arg, const char *rule)
{
	return store_clear_windows(arg, rule);
}

long
counters_save(struct store *s, struct engine *e)
{
	struct engine_saver sv = { put_row, del_row, clear_rows, s };

	return engine_save_changes(e, &sv);
}
