/*
 * conf_check.c - the configuration's checks (see conf_check.h): what is
 * checked of a name, of a whole rule once its block is read, and of the
 * whole file once it is read. The parser (conf.c) reports what is wrong
 * with a token where it reads it; what needs more than one token is here.
 */
#include "conf_check.h"

#include <string.h>

#include "../common/table.h"

/* A Unix group name as useradd takes it. */
int
conf_group_ok(const char *g)
{
	size_t n = strlen(g);

	if (n == 0 || n > 32 || g[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((g[i] >= 'a' && g[i] <= 'z') || (g[i] >= 'A' && g[i] <= 'Z') || (g[i] >= '0' && g[i] <= '9') ||
		    g[i] == '_' || g[i] == '-' || g[i] == '.'))
			return 0;
	return 1;
}

/*
 * Rule and table names: letters, digits, '_', '-' and '.', starting with a
 * letter or digit, at most MAX_NAME characters. A rule's name goes into
 * the MTA's answers, access map lines, JSON and the control socket's
 * replies: a quote, a space or a newline there could forge a map line or
 * a JSON field, so such names are refused here once for all outputs.
 */
int
conf_name_ok(struct P *p, const struct token *at, const char *what, const char *name)
{
	size_t n = strlen(name);
	int ok = n > 0 && n <= MAX_NAME && ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	    (name[0] >= '0' && name[0] <= '9'));

	for (size_t i = 0; ok && i < n; i++) {
		char ch = name[i];

		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		    ch == '-' || ch == '.';
	}
	if (!ok)
		ERR(p, at, "%s name: use 1 to %d letters, digits, '_', '-' or '.', starting with a letter or digit",
		    what, MAX_NAME);
	return ok;
}

/* A DNS name: labels of 1-63 letters, digits and '-', dot-separated, at most 200 bytes in all. */
int
conf_dns_name_ok(const char *s)
{
	size_t label = 0, n = strlen(s);

	if (n == 0 || n > 200)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_')
			label++;
		else
			return 0;
	}
	return 1;
}

int
conf_rule_name_free(struct P *p, const struct token *at, const char *name)
{
	int ok = 1;

	for (int i = 0; i < p->c->nrules; i++)
		if (strcmp(p->c->rules[i]->name, name) == 0) {
			ERR(p, at, "a rule named \"%s\" is already defined at %s:%d", name, p->c->rules[i]->file,
			    p->c->rules[i]->line);
			ok = 0;
		}
	return ok;
}

/* Warnings for rules that can never fire, or fire on everything. */
static void
rule_warnings(struct P *p, const struct rule *r, const struct token *at, const struct rule_ctx *rc)
{
	for (int i = 0; i < rc->nrefs; i++) {
		int any = 0;

		for (int t = 1; t < EV__COUNT; t++)
			if ((r->types >> t) & 1 && cond_field_carried(rc->refs[i].field, (enum ev_type)t))
				any = 1;
		if (!any)
			conf_diag(p, 1, rc->refs[i].file, rc->refs[i].line, rc->refs[i].col,
			    "rule \"%s\": none of its events carries '%s', so this can never hold", r->name,
			    cond_field_name(rc->refs[i].field));
	}
	if (r->threshold == 0)
		conf_diag(p, 1, at->file, at->line, at->col, "rule \"%s\": threshold 0 fires on every event",
		    r->name);
	if (r->key != KEY_CLIENT && r->key != KEY_GLOBAL) {
		static const int keyfield[] = {
			[KEY_HELO] = F_HELO, [KEY_SENDER] = F_FROM, [KEY_SENDER_DOMAIN] = F_FROM,
			[KEY_RECIPIENT] = F_TO,
		};
		int any = 0;

		for (int t = 1; t < EV__COUNT; t++)
			if ((r->types >> t) & 1 && cond_field_carried(keyfield[r->key], (enum ev_type)t))
				any = 1;
		if (!any)
			conf_diag(p, 1, at->file, at->line, at->col,
			    "rule \"%s\": none of its events carries a %s, so it can never fire", r->name,
			    key_kind_name(r->key));
	}
}

int
conf_check_rule(struct P *p, struct rule *r, const struct token *at, const struct rule_ctx *rc,
    const struct rule_lines *lines)
{
	if (!lines->on) {
		ERR(p, at, "rule \"%s\" has no 'on EVENT' line", r->name);
		return 0;
	}
	if (!lines->when) {
		ERR(p, at, "rule \"%s\" has no 'when MEASURE >= N within DURATION' line", r->name);
		return 0;
	}
	if (!lines->do_) {
		ERR(p, at, "rule \"%s\" has no 'do ACTION' line", r->name);
		return 0;
	}
	if (r->action != A_LOG && r->duration == 0) {
		ERR(p, at, "rule \"%s\": '%s' needs 'for DURATION'", r->name, action_name(r->action));
		return 0;
	}
	if (r->escalate > 1 && r->escalate_max < r->duration) {
		ERR(p, at, "rule \"%s\": the escalation cap is shorter than the action itself", r->name);
		return 0;
	}
	rule_warnings(p, r, at, rc);
	return 1;
}

void
conf_check_file(struct P *p)
{
	if (p->nstmt == 0 && p->nfiles > 0 && p->errors == 0) {
		/* An empty file (comments and blank lines only): mxguard run would follow logs and decide nothing. */
		struct token at = { .file = p->files[0], .line = 1, .col = 1 };

		WARN(p, &at, "the file is empty (no statement): nothing is counted or decided (samples/mxguard.conf "
		    "is a policy to start from)");
	}
	if (p->have_rep_ref && p->c->nfeeds == 0 && p->c->nzones == 0)
		WARN(p, &p->rep_ref, "'%s' is unknown for every client: no feed or zone is defined",
		    cond_field_name(p->rep_ref_field));
}

void
conf_check_trust(struct P *p, const struct token *at, const struct cidr_table *tab)
{
	int v4 = table_holds_all(tab, 4), v6 = table_holds_all(tab, 6);

	if (v4 || v6)
		WARN(p, at, "trust <%s>: the table holds %s%s%s, so no %s client is ever counted or acted on%s",
		    table_name(tab), v4 ? "0.0.0.0/0" : "", v4 && v6 ? " and " : "", v6 ? "::/0" : "",
		    v4 && v6 ? "IPv4 or IPv6" : v4 ? "IPv4" : "IPv6",
		    " (but its exceptions, '!ADDR')");
}
