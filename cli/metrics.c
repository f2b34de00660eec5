/*
 * metrics.c - the daemon's figures in the Prometheus text exposition
 * format (version 0.0.4): `mxguard ctl metrics`, and the node_exporter
 * textfile of --metrics-file / 'set metrics-file' (docs/REPORTS.md,
 * "Metrics"). Counters count since the daemon started (Prometheus sees a
 * restart as a reset, as it should).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../cluster/counters.h"
#include "daemon_state.h"

static void
put(struct outbuf *ob, const char *s)
{
	ob_put(ob, s, strlen(s));
}

/* A label value: \, " and newline escaped (a log's path is anyone's choice of name). */
static void
label(struct outbuf *ob, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			ob_putc(ob, '\\');
		if (*v == '\n') {
			OB_LIT(ob, "\\n");
			continue;
		}
		ob_putc(ob, *v);
	}
}

static void
head(struct outbuf *ob, const char *name, const char *type, const char *help)
{
	OB_LIT(ob, "# HELP ");
	put(ob, name);
	ob_putc(ob, ' ');
	put(ob, help);
	OB_LIT(ob, "\n# TYPE ");
	put(ob, name);
	ob_putc(ob, ' ');
	put(ob, type);
	ob_putc(ob, '\n');
}

/* name{key="value"} v */
static void
sample(struct outbuf *ob, const char *name, const char *key, const char *value, uint64_t v)
{
	put(ob, name);
	if (key != NULL) {
		ob_putc(ob, '{');
		put(ob, key);
		OB_LIT(ob, "=\"");
		label(ob, value);
		OB_LIT(ob, "\"}");
	}
	ob_putc(ob, ' ');
	ob_put_u64(ob, v);
	ob_putc(ob, '\n');
}

void
daemon_metrics(struct daemon *dm, struct outbuf *ob, int64_t now)
{
	const struct parser_stats *ps = parser_stats(dm->parser);
	long active = store_count_active(dm->store, now);

	head(ob, "mxguard_lines_read_total", "counter", "Log lines read.");
	sample(ob, "mxguard_lines_read_total", NULL, NULL, dm->lines);
	head(ob, "mxguard_events_total", "counter", "Events parsed from the logs, by type (docs/EVENTS.md).");
	for (int t = 1; t < EV__COUNT; t++)
		sample(ob, "mxguard_events_total", "type", ev_type_name((enum ev_type)t), ps->by_type[t]);
	head(ob, "mxguard_parse_unmatched_total", "counter",
	    "Lines of a client-facing MTA daemon that no pattern understood.");
	sample(ob, "mxguard_parse_unmatched_total", NULL, NULL, ps->unmatched);
	head(ob, "mxguard_parse_bad_header_total", "counter", "Lines without a syslog header mxguard reads.");
	sample(ob, "mxguard_parse_bad_header_total", NULL, NULL, ps->bad_header);
	head(ob, "mxguard_parse_doubtful_total", "counter",
	    "Events with a field client text made unreadable (left out, never guessed).");
	sample(ob, "mxguard_parse_doubtful_total", NULL, NULL, ps->doubtful);
	head(ob, "mxguard_rule_events_total", "counter", "Events that passed a rule's conditions.");
	for (int i = 0; i < dm->conf->nrules; i++)
		sample(ob, "mxguard_rule_events_total", "rule", dm->conf->rules[i]->name,
		    engine_rule_stats(dm->eng, i).events);
	head(ob, "mxguard_rule_decisions_total", "counter", "Decisions a rule took.");
	for (int i = 0; i < dm->conf->nrules; i++)
		sample(ob, "mxguard_rule_decisions_total", "rule", dm->conf->rules[i]->name,
		    engine_rule_stats(dm->eng, i).decisions);
	head(ob, "mxguard_decisions_total", "counter", "Decisions this node took (rules and ctl ban), by action.");
	for (int a = 0; a <= A_LOG; a++)
		sample(ob, "mxguard_decisions_total", "action", action_name((enum action)a), dm->dec_by_action[a]);
	head(ob, "mxguard_bans_in_force", "gauge", "Decisions in force now (this node's and received).");
	sample(ob, "mxguard_bans_in_force", NULL, NULL, active < 0 ? 0 : (uint64_t)active);
	head(ob, "mxguard_firewall_pending", "gauge", "Firewall changes still owed (failed, waiting for a retry).");
	sample(ob, "mxguard_firewall_pending", NULL, NULL, (uint64_t)daemon_fw_pending(dm));
	head(ob, "mxguard_state_saved", "gauge", "1 if the state database took the last commit.");
	sample(ob, "mxguard_state_saved", NULL, NULL, dm->store_ok ? 1 : 0);
	head(ob, "mxguard_log_lag_bytes", "gauge", "Bytes of a followed log not read yet.");
	for (int i = 0; i < dm->nsrc; i++) {
		struct follow_pos pos;
		struct stat st;
		const char *path = follow_path(dm->src[i]);

		/* the file now, if it is still the one being read (a rotation makes the figure moot) */
		if (follow_position(dm->src[i], &pos) && stat(path, &st) == 0 && (uint64_t)st.st_ino == pos.ino &&
		    (uint64_t)st.st_dev == pos.dev)
			sample(ob, "mxguard_log_lag_bytes", "source", path,
			    (uint64_t)st.st_size > pos.offset ? (uint64_t)st.st_size - pos.offset : 0);
	}
	if (dm->newest_ts > 0) {
		head(ob, "mxguard_log_lag_seconds", "gauge",
		    "Seconds between now and the newest event's time stamp read (a quiet server's is large too).");
		sample(ob, "mxguard_log_lag_seconds", NULL, NULL, now > dm->newest_ts ? (uint64_t)(now - dm->newest_ts) : 0);
	}
	if (dm->cl != NULL) {
		struct cluster_stats cs = cluster_stats(dm->cl);

		head(ob, "mxguard_cluster_up", "gauge", "1 if the link to the cluster's Redis is up.");
		sample(ob, "mxguard_cluster_up", NULL, NULL, strcmp(cs.link, "up") == 0);
		head(ob, "mxguard_cluster_backlog", "gauge", "This node's decisions not yet in the cluster's stream.");
		sample(ob, "mxguard_cluster_backlog", NULL, NULL, cs.backlog);
		head(ob, "mxguard_cluster_published_total", "counter", "Decisions this node put into the stream.");
		sample(ob, "mxguard_cluster_published_total", NULL, NULL, cs.published);
		head(ob, "mxguard_cluster_applied_total", "counter", "Other nodes' decisions applied here.");
		sample(ob, "mxguard_cluster_applied_total", NULL, NULL, cs.applied);
		head(ob, "mxguard_cluster_malformed_total", "counter", "Stream entries skipped as malformed.");
		sample(ob, "mxguard_cluster_malformed_total", NULL, NULL, cs.malformed);
		if (dm->cnt != NULL) {
			struct counters_stats c = counters_stats(dm->cnt);

			head(ob, "mxguard_cluster_counter_round_trips_total", "counter",
			    "Round trips of scope cluster rules' counters to Redis.");
			sample(ob, "mxguard_cluster_counter_round_trips_total", NULL, NULL, c.batches);
			head(ob, "mxguard_cluster_counter_errors_total", "counter",
			    "Counter updates Redis refused or lost with the link.");
			sample(ob, "mxguard_cluster_counter_errors_total", NULL, NULL, c.errors);
		}
	}
}
