/*
 * store.c - SQLite persistence (see store.h).
 *
 * WAL journal: a commit is one append to the WAL, readers never block, and
 * a process killed at any point loses at most the transaction in flight.
 * Statements are prepared once.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xalloc.h"

struct store {
	sqlite3 *db;
	sqlite3_stmt *get_pos, *put_pos, *get_mark, *put_mark, *put_dec, *count_dec, *get_blob, *put_blob;
	sqlite3_stmt *list_dec, *list_ended, *release_key, *release_all, *until_key;
	sqlite3_stmt *put_out, *del_out, *list_out;
	sqlite3_stmt *put_win, *del_win, *clear_win, *list_win, *put_wrule, *del_wrule, *list_wrule;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS positions (path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER,"
    "  offset INTEGER, head_len INTEGER, head_hash INTEGER);"
    "CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, value INTEGER);"
    "CREATE TABLE IF NOT EXISTS blobs (name TEXT PRIMARY KEY, data BLOB);"
    "CREATE TABLE IF NOT EXISTS decisions (id INTEGER PRIMARY KEY, rule TEXT, key TEXT, action TEXT,"
    "  ts INTEGER, until INTEGER, value INTEGER, level INTEGER);"
    "CREATE INDEX IF NOT EXISTS decisions_until ON decisions(until);"
    "CREATE INDEX IF NOT EXISTS decisions_key ON decisions(key);"
    "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, data BLOB);"
    "CREATE TABLE IF NOT EXISTS windows (rule TEXT NOT NULL, key BLOB NOT NULL, seen INTEGER NOT NULL,"
    "  data BLOB NOT NULL, PRIMARY KEY (rule, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS window_rules (rule TEXT PRIMARY KEY, counting TEXT NOT NULL);";

/*
 * Columns added since the first schema: added to an older database at open
 * (an old row has NULL there: a local decision).
 */
static const char *const added_columns[][2] = {
	{ "decisions", "origin TEXT" },		/* the cluster node that decided; NULL: this one */
	{ "decisions", "reason TEXT" },		/* why, as the decision line said it; NULL: not known (older rows, peers) */
	{ "decisions", "released INTEGER" },	/* 1: ended early (unban, flush), not by its time; NULL: not */
};

static int
prep(struct store *s, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		log_warnx("state: %s: %s", sql, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

struct store *
store_open(const char *dir, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char path[4096];
	char *msg = NULL;

	snprintf(path, sizeof(path), "%s/state.db", dir);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 2000);
	if (sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "schema");
		sqlite3_free(msg);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
		char sql[200], col[64];
		sqlite3_stmt *probe = NULL;

		snprintf(col, sizeof(col), "%.*s", (int)strcspn(added_columns[i][1], " "), added_columns[i][1]);
		snprintf(sql, sizeof(sql), "SELECT %s FROM %s LIMIT 0", col, added_columns[i][0]);
		if (sqlite3_prepare_v2(s->db, sql, -1, &probe, NULL) == SQLITE_OK) {
			sqlite3_finalize(probe);
			continue;	/* there already */
		}
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s", added_columns[i][0], added_columns[i][1]);
		if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s: %s", path, sql, msg ? msg : "schema");
			sqlite3_free(msg);
			goto fail;
		}
	}
	if (prep(s, &s->get_pos, "SELECT dev, ino, offset, head_len, head_hash FROM positions WHERE path = ?") ||
	    prep(s, &s->put_pos, "INSERT OR REPLACE INTO positions VALUES (?, ?, ?, ?, ?, ?)") ||
	    prep(s, &s->get_mark, "SELECT value FROM marks WHERE name = ?") ||
	    prep(s, &s->put_mark, "INSERT OR REPLACE INTO marks VALUES (?, ?)") ||
	    prep(s, &s->put_dec, "INSERT INTO decisions (rule, key, action, ts, until, value, level, origin, reason) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)") ||
	    prep(s, &s->count_dec, "SELECT count(*) FROM decisions WHERE until > ?") ||
	    prep(s, &s->get_blob, "SELECT data FROM blobs WHERE name = ?") ||
	    prep(s, &s->put_blob, "INSERT OR REPLACE INTO blobs VALUES (?, ?)") ||
	    prep(s, &s->list_dec, "SELECT rule, key, action, ts, until, value, level, origin, reason FROM decisions "
		"WHERE until > ? ORDER BY until DESC") ||
	    prep(s, &s->list_ended, "SELECT rule, key, action, ts, until, value, level, origin, reason FROM decisions "
		"WHERE until > ? AND until <= ? AND released IS NULL ORDER BY until") ||
	    prep(s, &s->release_key, "UPDATE decisions SET until = ?, released = 1 WHERE key = ? AND until > ?") ||
	    prep(s, &s->release_all, "UPDATE decisions SET until = ?, released = 1 WHERE until > ?") ||
	    prep(s, &s->until_key, "SELECT max(until) FROM decisions WHERE key = ? AND action = ? AND until > ?") ||
	    prep(s, &s->put_out, "INSERT OR REPLACE INTO outbox VALUES (?, ?)") ||
	    prep(s, &s->del_out, "DELETE FROM outbox WHERE seq <= ?") ||
	    prep(s, &s->list_out, "SELECT seq, data FROM outbox ORDER BY seq") ||
	    prep(s, &s->put_win, "INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?)") ||
	    prep(s, &s->del_win, "DELETE FROM windows WHERE rule = ? AND key = ?") ||
	    prep(s, &s->clear_win, "DELETE FROM windows WHERE rule = ?") ||
	    prep(s, &s->list_win, "SELECT key, seen, data FROM windows WHERE rule = ? ORDER BY seen") ||
	    prep(s, &s->put_wrule, "INSERT OR REPLACE INTO window_rules VALUES (?, ?)") ||
	    prep(s, &s->del_wrule, "DELETE FROM window_rules WHERE rule = ?") ||
	    prep(s, &s->list_wrule, "SELECT rule, counting FROM window_rules")) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->get_pos);
	sqlite3_finalize(s->put_pos);
	sqlite3_finalize(s->get_mark);
	sqlite3_finalize(s->put_mark);
	sqlite3_finalize(s->put_dec);
	sqlite3_finalize(s->count_dec);
	sqlite3_finalize(s->get_blob);
	sqlite3_finalize(s->put_blob);
	sqlite3_finalize(s->list_dec);
	sqlite3_finalize(s->list_ended);
	sqlite3_finalize(s->release_key);
	sqlite3_finalize(s->release_all);
	sqlite3_finalize(s->until_key);
	sqlite3_finalize(s->put_out);
	sqlite3_finalize(s->del_out);
	sqlite3_finalize(s->list_out);
	sqlite3_finalize(s->put_win);
	sqlite3_finalize(s->del_win);
	sqlite3_finalize(s->clear_win);
	sqlite3_finalize(s->list_win);
	sqlite3_finalize(s->put_wrule);
	sqlite3_finalize(s->del_wrule);
	sqlite3_finalize(s->list_wrule);
	sqlite3_close(s->db);
	free(s);
}

void store_rollback(struct store *s);

static int
exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_warnx("state: %s: %s", sql, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
store_begin(struct store *s)
{
	store_rollback(s);	/* one that a failed caller left open */
	return exec(s, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *s)
{
	if (exec(s, "COMMIT") == 0)
		return 0;
	store_rollback(s);
	return -1;
}

/*
 * SQLite rolls some failed transactions back by itself (SQLITE_FULL may),
 * others not: a transaction left open would make every later BEGIN fail.
 */
void
store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		exec(s, "ROLLBACK");
}

/* Step a write statement to completion and reset it. */
static int
run(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warnx("state: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int
store_get_position(struct store *s, const char *path, struct follow_pos *p)
{
	int found = 0;

	sqlite3_bind_text(s->get_pos, 1, path, -1, SQLITE_STATIC);
	if (sqlite3_step(s->get_pos) == SQLITE_ROW) {
		p->dev = (uint64_t)sqlite3_column_int64(s->get_pos, 0);
		p->ino = (uint64_t)sqlite3_column_int64(s->get_pos, 1);
		p->offset = (uint64_t)sqlite3_column_int64(s->get_pos, 2);
		p->head_len = (uint32_t)sqlite3_column_int64(s->get_pos, 3);
		p->head_hash = (uint64_t)sqlite3_column_int64(s->get_pos, 4);
		found = 1;
	}
	sqlite3_reset(s->get_pos);
	sqlite3_clear_bindings(s->get_pos);
	return found;
}

int
store_put_position(struct store *s, const char *path, const struct follow_pos *p)
{
	sqlite3_bind_text(s->put_pos, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->put_pos, 2, (sqlite3_int64)p->dev);
	sqlite3_bind_int64(s->put_pos, 3, (sqlite3_int64)p->ino);
	sqlite3_bind_int64(s->put_pos, 4, (sqlite3_int64)p->offset);
	sqlite3_bind_int64(s->put_pos, 5, p->head_len);
	sqlite3_bind_int64(s->put_pos, 6, (sqlite3_int64)p->head_hash);
	return run(s, s->put_pos);
}

int
store_get_mark(struct store *s, const char *name, uint64_t *v)
{
	int found = 0;

	sqlite3_bind_text(s->get_mark, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s->get_mark) == SQLITE_ROW) {
		*v = (uint64_t)sqlite3_column_int64(s->get_mark, 0);
		found = 1;
	}
	sqlite3_reset(s->get_mark);
	sqlite3_clear_bindings(s->get_mark);
	return found;
}

int
store_put_mark(struct store *s, const char *name, uint64_t v)
{
	sqlite3_bind_text(s->put_mark, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->put_mark, 2, (sqlite3_int64)v);
	return run(s, s->put_mark);
}

int
store_put_decision(struct store *s, const struct stored_decision *d)
{
	sqlite3_bind_text(s->put_dec, 1, d->rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put_dec, 2, d->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put_dec, 3, d->action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->put_dec, 4, d->ts);
	sqlite3_bind_int64(s->put_dec, 5, d->until);
	sqlite3_bind_int64(s->put_dec, 6, (sqlite3_int64)d->value);
	sqlite3_bind_int64(s->put_dec, 7, d->level);
	if (d->origin != NULL)
		sqlite3_bind_text(s->put_dec, 8, d->origin, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s->put_dec, 8);
	if (d->reason != NULL)
		sqlite3_bind_text(s->put_dec, 9, d->reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s->put_dec, 9);
	return run(s, s->put_dec);
}

long
store_count_active(struct store *s, int64_t now)
{
	long n = -1;

	sqlite3_bind_int64(s->count_dec, 1, now);
	if (sqlite3_step(s->count_dec) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s->count_dec, 0);
	sqlite3_reset(s->count_dec);
	return n;
}

int
store_put_blob(struct store *s, const char *name, const void *data, size_t len)
{
	sqlite3_bind_text(s->put_blob, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(s->put_blob, 2, data, len, SQLITE_STATIC);
	return run(s, s->put_blob);
}

int
store_get_blob(struct store *s, const char *name, void **data, size_t *len)
{
	int found = 0;

	sqlite3_bind_text(s->get_blob, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s->get_blob) == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(s->get_blob, 0);
		int n = sqlite3_column_bytes(s->get_blob, 0);

		*data = xmalloc((size_t)n + 1);
		if (n > 0)
			memcpy(*data, b, (size_t)n);
		*len = (size_t)n;
		found = 1;
	}
	sqlite3_reset(s->get_blob);
	sqlite3_clear_bindings(s->get_blob);
	return found;
}

/* Each row of st (the columns of list_dec) to fn. */
static int
each_decision(sqlite3_stmt *st, store_decision_fn fn, void *arg)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct stored_decision d = {
			.rule = (const char *)sqlite3_column_text(st, 0),
			.key = (const char *)sqlite3_column_text(st, 1),
			.action = (const char *)sqlite3_column_text(st, 2),
			.ts = sqlite3_column_int64(st, 3),
			.until = sqlite3_column_int64(st, 4),
			.value = (uint64_t)sqlite3_column_int64(st, 5),
			.level = (uint32_t)sqlite3_column_int64(st, 6),
			.origin = (const char *)sqlite3_column_text(st, 7),
			.reason = (const char *)sqlite3_column_text(st, 8),
		};

		fn(arg, &d);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_list_active(struct store *s, int64_t now, store_decision_fn fn, void *arg)
{
	sqlite3_bind_int64(s->list_dec, 1, now);
	return each_decision(s->list_dec, fn, arg);
}

int
store_list_ended(struct store *s, int64_t after, int64_t upto, store_decision_fn fn, void *arg)
{
	sqlite3_bind_int64(s->list_ended, 1, after);
	sqlite3_bind_int64(s->list_ended, 2, upto);
	return each_decision(s->list_ended, fn, arg);
}

long
store_release(struct store *s, const char *key, int64_t now)
{
	sqlite3_stmt *st = key ? s->release_key : s->release_all;

	sqlite3_bind_int64(st, 1, now);
	if (key) {
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
	} else
		sqlite3_bind_int64(st, 2, now);
	if (run(s, st) < 0)
		return -1;
	return (long)sqlite3_changes(s->db);
}

int64_t
store_until(struct store *s, const char *key, const char *action, int64_t now)
{
	sqlite3_stmt *st = s->until_key;
	int64_t until = 0;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) == SQLITE_ROW)
		until = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return until;
}

int
store_outbox_put(struct store *s, uint64_t seq, const void *data, size_t len)
{
	sqlite3_bind_int64(s->put_out, 1, (sqlite3_int64)seq);
	sqlite3_bind_blob64(s->put_out, 2, len ? data : "", len, SQLITE_STATIC);
	return run(s, s->put_out);
}

int
store_outbox_drop(struct store *s, uint64_t upto)
{
	sqlite3_bind_int64(s->del_out, 1, (sqlite3_int64)upto);
	return run(s, s->del_out);
}

int
store_outbox_list(struct store *s, store_outbox_fn fn, void *arg)
{
	int rc;

	while ((rc = sqlite3_step(s->list_out)) == SQLITE_ROW)
		fn(arg, (uint64_t)sqlite3_column_int64(s->list_out, 0), sqlite3_column_blob(s->list_out, 1),
		    (size_t)sqlite3_column_bytes(s->list_out, 1));
	sqlite3_reset(s->list_out);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_put_window(struct store *s, const char *rule, const void *key, size_t klen, int64_t seen, const void *data,
    size_t len)
{
	sqlite3_bind_text(s->put_win, 1, rule, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s->put_win, 2, key, (int)klen, SQLITE_STATIC);
	sqlite3_bind_int64(s->put_win, 3, seen);
	sqlite3_bind_blob64(s->put_win, 4, data, len, SQLITE_STATIC);
	return run(s, s->put_win);
}

int
store_del_window(struct store *s, const char *rule, const void *key, size_t klen)
{
	sqlite3_bind_text(s->del_win, 1, rule, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s->del_win, 2, key, (int)klen, SQLITE_STATIC);
	return run(s, s->del_win);
}

int
store_clear_windows(struct store *s, const char *rule)
{
	sqlite3_bind_text(s->clear_win, 1, rule, -1, SQLITE_STATIC);
	return run(s, s->clear_win);
}

int
store_list_windows(struct store *s, const char *rule, store_window_fn fn, void *arg)
{
	int rc;

	sqlite3_bind_text(s->list_win, 1, rule, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s->list_win)) == SQLITE_ROW)
		fn(arg, sqlite3_column_blob(s->list_win, 0), (size_t)sqlite3_column_bytes(s->list_win, 0),
		    sqlite3_column_int64(s->list_win, 1), sqlite3_column_blob(s->list_win, 2),
		    (size_t)sqlite3_column_bytes(s->list_win, 2));
	sqlite3_reset(s->list_win);
	sqlite3_clear_bindings(s->list_win);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_put_window_rule(struct store *s, const char *rule, const char *counting)
{
	if (counting == NULL) {
		sqlite3_bind_text(s->del_wrule, 1, rule, -1, SQLITE_STATIC);
		return run(s, s->del_wrule);
	}
	sqlite3_bind_text(s->put_wrule, 1, rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put_wrule, 2, counting, -1, SQLITE_STATIC);
	return run(s, s->put_wrule);
}

int
store_list_window_rules(struct store *s, store_window_rule_fn fn, void *arg)
{
	int rc;

	while ((rc = sqlite3_step(s->list_wrule)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(s->list_wrule, 0),
		    (const char *)sqlite3_column_text(s->list_wrule, 1));
	sqlite3_reset(s->list_wrule);
	return rc == SQLITE_DONE ? 0 : -1;
}
