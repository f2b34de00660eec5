/*
 * cmd_check.c - "mxguard check CONFIG": validate a configuration.
 *
 * Prints every error as FILE:LINE:COL: message and every warning as
 * FILE:LINE:COL: warning: message on stderr; exits 0 when the file is
 * valid (warnings allowed) and 78 (EX_CONFIG) otherwise. With -v, also
 * prints a one-line summary of each rule.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>

#include "../actions/enforce.h"
#include "../actions/fw.h"
#include "../cluster/redis.h"
#include "../common/log.h"
#include "../reputation/dnszone.h"
#include "../reputation/feed.h"
#include "../rules/conf.h"
#include "../privsep/worker.h"
#include "../actions/mapfile.h"
#include "commands.h"

void
print_diag(void *arg, int warning, const char *msg)
{
	(void)arg;
	log_line(warning ? LOG_WARNING : LOG_ERR, "%s", msg);
}

int
cmd_check(int argc, char **argv)
{
	struct config *c;
	int verbose = 0, i = 1;

	if (i < argc && strcmp(argv[i], "-v") == 0) {
		verbose = 1;
		i++;
	}
	if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
		printf("usage: mxguard check [-v] CONFIG\n"
		    "  Validate CONFIG: every error as FILE:LINE:COL: message; exit 0 if valid, 78 if not.\n"
		    "  -v   also print what it understood: each rule in one line, the feeds, zones, cluster\n");
		return 0;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: mxguard check [-v] CONFIG\n");
		return EX_USAGE;
	}
	c = conf_load(argv[i], print_diag, NULL);
	if (c == NULL)
		return EX_CONFIG;
	const struct fw_backend *fwb = NULL;

	if (c->firewall != NULL) {
		/* "set firewall": the backend and its options are the firewall stage's to judge. */
		const char *arg;
		struct fw_opts o;
		char err[600];

		if (fw_spec_parse(c->firewall, &fwb, &arg, &o, err, sizeof(err)) < 0) {
			log_line(LOG_ERR, "%s: %s", c->firewall_at, err);
			conf_free(c);
			return EX_CONFIG;
		}
		if (strcmp(fwb->name, "none") == 0)
			fwb = NULL;
		if (fwb != NULL && enforce_ports_ok(c, fwb, err, sizeof(err)) != NULL) {
			log_line(LOG_ERR, "%s: %s", c->firewall_at, err);
			conf_free(c);
			return EX_CONFIG;
		}
	}
	if (fwb != NULL || c->socketmap != NULL || c->mapfile != NULL) {
		/*
		 * The configuration says how it is enforced: a rule none of that can carry out is said here
		 * (mxguard run says it again with its command line's --firewall, --socketmap, --map-file).
		 */
		char maptype[16] = "", why[400];

		if (c->mapfile != NULL)
			snprintf(maptype, sizeof(maptype), "%.*s", (int)strcspn(c->mapfile, ":"), c->mapfile);
		for (int r = 0; r < c->nrules; r++)
			if (enforce_rule_reach(c->rules[r], fwb, c->socketmap != NULL, maptype[0] ? maptype : NULL, why,
			    sizeof(why)) != NULL)
				fprintf(stderr, "%s:%d:1: warning: rule \"%s\": %s\n", c->rules[r]->file, c->rules[r]->line,
				    c->rules[r]->name, why);
	}
	if (c->log_syslog && !log_syslog_socket())
		fprintf(stderr, "%s: warning: set log syslog: no syslog socket at " LOG_SYSLOG_SOCKET " here (no syslog "
		    "daemon?): the daemon's messages would stay on stderr\n", c->log_at);
	if (c->user != NULL) {
		/* "set user": a user this host has not (or root) would stop the daemon at start: said here as a warning */
		char err[300];

		if (worker_user_check(c->user, err, sizeof(err)) < 0)
			fprintf(stderr, "%s: warning: set user: %s (on this host the daemon would not start)\n", c->user_at,
			    err);
		else if (c->mapfile != NULL && strncmp(c->mapfile, "sendmail:", 9) == 0 &&
		    mapfile_sendmail_trusts(mapfile_sendmail_cf(), c->user, err, sizeof(err)) <= 0)
			fprintf(stderr, "%s: warning: set map-file with set user: %s\n", c->mapfile_at, err);
	}
	{
		/* The feeds are read as the daemon would read them: a broken one is FILE:LINE here. */
		int bad = 0;

		for (int f = 0; f < c->nfeeds; f++) {
			char err[512];
			struct feed *fd = feed_load(c->feeds[f], err, sizeof(err));

			if (fd == NULL) {
				fprintf(stderr, "%s: feed \"%s\": %s\n", c->feeds[f]->at, c->feeds[f]->name, err);
				bad = 1;
			} else if (verbose)
				printf("feed \"%s\": %zu entries from %s (%s)\n", c->feeds[f]->name, fd->n,
				    c->feeds[f]->path, feed_format_name(c->feeds[f]->format));
			feed_free(fd);
		}
		if (bad) {
			conf_free(c);
			return EX_CONFIG;
		}
	}
	if (verbose) {
		if (c->cluster != NULL) {
			/* The URL as written, but never its password. */
			struct redis_url u;
			char why[300];

			if (redis_url_parse(c->cluster, &u, why, sizeof(why)) == 0)
				printf("cluster: %s%s, node %s%s\n", u.nsentinels > 0 ? "Redis Sentinel, master " : "Redis ",
				    u.nsentinels > 0 ? u.master : u.host, c->node ? c->node : "(the host name)",
				    c->cluster_password_file || u.password[0] ? ", with a password" : "");
		}
		for (int z = 0; z < c->nzones; z++) {
			const struct zone_spec *s = c->zones[z];

			printf("zone \"%s\": %s at %s port %u, timeout %d ms; %s\n", s->name, s->domain,
			    s->server[0] ? s->server : "the system's resolvers", s->port ? s->port : 53,
			    s->timeout_ms ? s->timeout_ms : DNSREP_TIMEOUT_DEFAULT,
			    c->uses_zones ? "rules read it: the daemon asks it for every client" :
			    "no rule reads it: the daemon does not ask it");
		}
		for (int r = 0; r < c->nrules; r++) {
			const struct rule *ru = c->rules[r];

			printf("rule \"%s\": by %s, threshold %llu within %llds, %s for %llds%s\n", ru->name,
			    key_kind_name(ru->key), (unsigned long long)ru->threshold, (long long)ru->window,
			    action_name(ru->action), (long long)ru->duration,
			    ru->scope == SCOPE_CLUSTER ? ", counted across the cluster (scope cluster)" : "");
		}
	}
	if (c->nzones > 0)
		printf("%s: OK (%d rules, %d tables, %d feeds, %d zones)\n", argv[i], c->nrules, c->ntables, c->nfeeds,
		    c->nzones);
	else if (c->nfeeds > 0)
		printf("%s: OK (%d rules, %d tables, %d feeds)\n", argv[i], c->nrules, c->ntables, c->nfeeds);
	else
		printf("%s: OK (%d rules, %d tables)\n", argv[i], c->nrules, c->ntables);
	conf_free(c);
	return 0;
}
