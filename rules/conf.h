/*
 * conf.h - the configuration: tables, trusted clients and rules.
 *
 * The language is documented in docs/RULES.md. conf_load() reads a file
 * (and its includes), reports every error it can find as
 * "FILE:LINE:COL: message" and every warning as "FILE:LINE:COL: warning:
 * message" through the diag callback, and returns NULL if there was an
 * error.
 */
#ifndef MXG_CONF_H
#define MXG_CONF_H

#include <stdint.h>

#include "../parsers/custom.h"
#include "../parsers/event.h"
#include "../reputation/dnszone.h"
#include "../reputation/feed.h"
#include "cond.h"
#include "../common/table.h"

enum key_kind { KEY_CLIENT, KEY_HELO, KEY_SENDER, KEY_SENDER_DOMAIN, KEY_RECIPIENT, KEY_GLOBAL };
enum measure { M_COUNT, M_DISTINCT, M_SUM };
enum scope { SCOPE_LOCAL, SCOPE_CLUSTER };
enum action { A_BLOCK, A_REJECT, A_DEFER, A_DISCARD, A_HOLD, A_TARPIT, A_LIMIT, A_LOG };

/* TCP ports a firewall block is limited to ("ports smtp, submission"); n 0: every port. */
#define PORTS_MAX 8
struct port_list {
	uint16_t port[PORTS_MAX];	/* in the order given */
	int n;
	int all;			/* "ports all": every port, whatever 'set ports' says */
};

struct rule {
	char *name;
	char *file;		/* where it was defined, for messages */
	int line;
	uint32_t types;		/* bit per enum ev_type it listens to */
	struct cond *where;	/* NULL: every event of those types */
	struct cond **unless;	/* exemptions */
	int nunless;
	enum key_kind key;
	int v4len, v6len;	/* client prefix lengths */
	enum measure measure;
	int field;		/* enum cond_field for distinct/sum */
	int dv4len, dv6len;	/* distinct client: the prefixes addresses are counted as (32, 128) */
	uint64_t threshold;	/* fires when the measure >= threshold */
	int64_t window;		/* seconds */
	enum action action;
	int64_t duration;	/* seconds the action lasts */
	uint32_t limit_n;	/* A_LIMIT: N ... */
	int64_t limit_per;	/* ... per this many seconds */
	uint32_t escalate;	/* factor for repeat offenders (1: none) */
	int64_t escalate_max;	/* cap on an escalated duration */
	uint32_t max_keys;	/* cap on tracked keys */
	enum scope scope;	/* SCOPE_CLUSTER: counted across the cluster's nodes (cluster/counters.h) */
	struct port_list ports;	/* "ports ...": the ports its firewall blocks hold (n 0: as 'set ports') */
};

/*
 * "at-connect ACTION where CONDITION": what the MTA is told at a client's
 * first lookup (the socketmap), before the client has done anything, from
 * what is known of it already: its address and its reputation.
 */
struct at_connect {
	enum action action;	/* A_REJECT, A_DEFER or A_TARPIT */
	struct cond *where;
	char *at;		/* "FILE:LINE:COL" */
};

#define DEFAULT_WIDEST_BAN_V4 16
#define DEFAULT_WIDEST_BAN_V6 32

struct config {
	struct rule **rules;
	int nrules;
	struct cidr_table **tables;
	int ntables;
	struct cidr_table **trusted;	/* clients never counted or acted on */
	int ntrusted;
	uint32_t max_keys;		/* default for rules */
	int widest_ban_v4, widest_ban_v6;	/* "set widest-ban": 'ctl ban' refuses wider prefixes without --force */
	char **sources;			/* log files the daemon follows */
	int nsources;
	int journal;			/* "source journal ...": the systemd journal too */
	char *journal_dir;		/* ... directory "PATH" (else the system's journal) */
	char **journal_units;		/* ... unit "U", ... (none: every entry) */
	int njournal_units;
	int log_syslog;			/* "set log syslog": the daemon logs to syslog */
	char *log_at;			/* where "set log syslog" was, "FILE:LINE:COL" */
	char *firewall;			/* "set firewall "SPEC"": the daemon's default --firewall */
	char *firewall_at;		/* where it was set, "FILE:LINE:COL", for messages */
	char *user;			/* "set user "NAME"": the daemon's default --user (privilege separation) */
	char *user_at;			/* where it was set, "FILE:LINE:COL" */
	int firewall_remove;		/* ... remove-on-exit */
	char *socketmap;		/* "set socketmap "PATH"": the daemon's default --socketmap */
	char *socketmap_group;		/* ... group "NAME": the socket's group (default --socketmap-group) */
	int64_t socketmap_idle;		/* ... idle DURATION: seconds before an idle connection is closed (0: default) */
	char *mapfile_at;		/* where "set map-file" was, "FILE:LINE:COL" */
	char *mapfile;			/* "set map-file "TYPE:PATH"": the daemon's default --map-file */
	struct feed_spec **feeds;	/* reputation feeds (docs/REPUTATION.md) */
	int nfeeds;
	struct zone_spec **zones;	/* DNS reputation zones */
	int nzones;
	int uses_rep;			/* a rule's condition reads the client's reputation: look it up per event */
	int uses_zones;			/* ... and what DNS zones say: events wait for their answers (repwait.h) */
	struct at_connect *atc;		/* in order: the first whose condition holds answers */
	char *cluster;			/* "set cluster "URL"": share decisions through Redis (docs/CLUSTER.md) */
	char *cluster_at;		/* where it was set, "FILE:LINE:COL" */
	char *cluster_password_file;	/* ... password-file "PATH" (resolved) */
	char *node;			/* "set node "NAME"": this node's name in the cluster */
	int ncluster_rules;		/* rules with "scope cluster" */
	char *report_dir;		/* "set report-dir "PATH"": the daemon keeps a report directory (docs/REPORTS.md) */
	char *report_at;		/* where it was set, "FILE:LINE:COL" */
	int64_t report_interval;	/* ... interval DURATION (0: 1h) */
	int64_t report_keep;		/* ... keep DURATION (0: all) */
	int report_svg;			/* ... svg */
	char *rrdcached;		/* "set rrdcached "unix:/PATH"" */
	char *metrics_file;		/* "set metrics-file "PATH"": Prometheus' textfile */
	char *decision_log;		/* "set decision-log "PATH"" (or "off"): the audit trail; NULL: the default */
	struct port_list ports;		/* "set ports ...": the ports every firewall block holds unless its rule says */
	char *ports_at;			/* where it was set ("FILE:LINE:COL"), for messages */
	int natc;
	struct custom_def *parsers;	/* parser "NAME" { ... }: pattern sets, tried before the built-in modules */
	int nparsers;
};

/* Messages: file:line:col already formatted; warning is 1 for warnings. */
typedef void (*conf_diag_fn)(void *arg, int warning, const char *msg);

struct config *conf_load(const char *path, conf_diag_fn diag, void *arg);
/* A configuration with nothing in it (an agent started without one). */
struct config *conf_empty(void);
/* The place in c->rules of the rule of that name, or -1 (a manual ban's, a rule gone since a reload). */
int conf_rule_index(const struct config *c, const char *name);
/* The rule itself, or NULL. */
const struct rule *conf_rule_named(const struct config *c, const char *name);
void conf_free(struct config *c);

const char *action_name(enum action a);
/* -1 if name is not an action. */
int action_by_name(const char *name);
/* "90s", "10m", "2h", "7d", "1w" or plain seconds; 1 and *out on success. */
int conf_parse_duration(const char *s, int64_t *out);
/* A duration as the language writes it: "10m", "2h", "7d", "90s" (the largest whole unit). */
void conf_format_duration(int64_t s, char *buf, size_t len);
const char *key_kind_name(enum key_kind k);

#endif
