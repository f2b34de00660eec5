/*
 * history.c - the decision log read back for "mxguard ctl history" (see
 * history.h).
 *
 * The lines are the flat JSON objects audit.c writes; a line that is not
 * one (a torn last line after a crash, a file edited by hand) is counted
 * and said, never shown as something it is not. Keys and reasons hold
 * text attackers chose (a HELO name): control characters are shown as
 * \xNN, never sent to the terminal.
 */
#include "history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <zlib.h>

#include "../common/addr.h"
#include "../common/table.h"
#include "../rules/conf.h"

#define LINE_MAX_BYTES 65536
#define FIELDS_MAX 24
#define ROTATED_MAX 1000	/* PATH.1 .. PATH.1000 looked for */

struct entry {
	int n;
	const char *name[FIELDS_MAX], *val[FIELDS_MAX];
	char store[LINE_MAX_BYTES];	/* the decoded names and values */
};

static const char *
get(const struct entry *e, const char *name)
{
	for (int i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->val[i];
	return NULL;
}

/* ---- a flat JSON object: strings, numbers, true, false, null ---- */

static void
put_utf8(char **o, unsigned long c)
{
	unsigned char *p = (unsigned char *)*o;

	if (c < 0x80) {
		*p++ = (unsigned char)c;
	} else if (c < 0x800) {
		*p++ = (unsigned char)(0xc0 | c >> 6);
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*p++ = (unsigned char)(0xe0 | c >> 12);
		*p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	} else {
		*p++ = (unsigned char)(0xf0 | c >> 18);
		*p++ = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		*p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		*p++ = (unsigned char)(0x80 | (c & 0x3f));
	}
	*o = (char *)p;
}

static int
hex4(const char *s, unsigned long *v)
{
	char buf[5], *end;

	memcpy(buf, s, 4);
	buf[4] = '\0';
	*v = strtoul(buf, &end, 16);
	return end == buf + 4 && strspn(buf, "0123456789abcdefABCDEF") == 4;
}

/* The string at *s (after its opening quote), decoded into *o; 1, or 0 if it is not one. */
static int
json_string(const char **s, char **o)
{
	const char *p = *s;

	for (;;) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			break;
		if (c < 0x20)
			return 0;	/* (a raw control character, or the line's end) */
		if (c != '\\') {
			*(*o)++ = (char)c;
			p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"': case '\\': case '/': *(*o)++ = *p; break;
		case 'b': *(*o)++ = '\b'; break;
		case 'f': *(*o)++ = '\f'; break;
		case 'n': *(*o)++ = '\n'; break;
		case 'r': *(*o)++ = '\r'; break;
		case 't': *(*o)++ = '\t'; break;
		case 'u': {
			unsigned long v, lo;

			if (!hex4(p + 1, &v))
				return 0;
			p += 4;
			if (v >= 0xd800 && v < 0xdc00 && p[1] == '\\' && p[2] == 'u' && hex4(p + 3, &lo) && lo >= 0xdc00 &&
			    lo < 0xe000) {
				v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (v >= 0xd800 && v < 0xe000)
				v = 0xfffd;	/* (a lone surrogate) */
			put_utf8(o, v);
			break;
		}
		default:
			return 0;
		}
		p++;
	}
	*(*o)++ = '\0';
	*s = p + 1;
	return 1;
}

/* 1 if line is a flat JSON object (its fields in e), else 0. */
static int
parse_entry(const char *line, struct entry *e)
{
	const char *p = line + strspn(line, " \t");
	char *o = e->store;

	e->n = 0;
	if (*p++ != '{')
		return 0;
	p += strspn(p, " \t");
	if (*p == '}')
		return 1;
	for (;;) {
		if (*p++ != '"' || e->n == FIELDS_MAX)
			return 0;
		e->name[e->n] = o;
		if (!json_string(&p, &o))
			return 0;
		p += strspn(p, " \t");
		if (*p++ != ':')
			return 0;
		p += strspn(p, " \t");
		e->val[e->n] = o;
		if (*p == '"') {
			p++;
			if (!json_string(&p, &o))
				return 0;
		} else {
			size_t k = strspn(p, "-+.0123456789eEtruefalsn");

			if (k == 0)
				return 0;
			memcpy(o, p, k);
			o += k;
			*o++ = '\0';
			p += k;
		}
		e->n++;
		p += strspn(p, " \t");
		if (*p == '}')
			break;
		if (*p++ != ',')
			return 0;
		p += strspn(p, " \t");
	}
	p++;
	p += strspn(p, " \t\r\n");
	return *p == '\0';
}

/* ---- which entries ---- */

enum filter_kind { F_ALL, F_ADDR, F_RULE };

struct filter {
	enum filter_kind kind;
	struct addr a;
	int plen;
	const char *rule;
};


/* 1 if the prefixes overlap: one holds the other. */
static int
overlap(const struct addr *a, int alen, const struct addr *b, int blen)
{
	struct addr x = *a, y = *b;
	int len = alen < blen ? alen : blen;

	if (a->family != b->family)
		return 0;
	addr_mask(&x, len);
	addr_mask(&y, len);
	return memcmp(x.b, y.b, sizeof(x.b)) == 0;
}

static int
wanted(const struct filter *f, const struct entry *e)
{
	const char *event = get(e, "event"), *key = get(e, "key"), *rule = get(e, "rule");
	struct addr k;
	int klen;

	if (event == NULL)
		return 0;
	switch (f->kind) {
	case F_ADDR:
		if (strcmp(event, "flush") == 0)
			return 1;	/* (it released this address's decisions too) */
		return key != NULL && table_parse_prefix(key, &k, &klen) && overlap(&k, klen, &f->a, f->plen);
	case F_RULE:
		return rule != NULL && strcmp(rule, f->rule) == 0;
	default:
		return 1;
	}
}

/* ---- the table ---- */

/*
 * Text attackers may have chosen, shown without sending control characters
 * to the terminal; at most max characters. Returns the columns it took.
 */
static size_t
put_safe(FILE *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t shown = 0, cols = 0;

	while (*p != '\0' && shown < max) {
		size_t k = 0;
		unsigned long c = *p;

		if (c >= 0xc2 && c < 0xe0 && (p[1] & 0xc0) == 0x80) {
			k = 2;
			c = (c & 0x1f) << 6 | (p[1] & 0x3f);
		} else if (c >= 0xe0 && c < 0xf0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
			k = 3;
		} else if (c >= 0xf0 && c < 0xf5 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
			k = 4;
		} else if (c >= 0x20 && c < 0x7f) {
			k = 1;
		}
		if (k == 0 || (k == 2 && c < 0xa0)) {
			fprintf(out, "\\x%02x", *p);	/* a control character (C0, DEL, C1) or a stray byte */
			p++;
			cols += 4;
		} else {
			fwrite(p, 1, k, out);
			p += k;
			cols++;
		}
		shown++;
	}
	if (*p != '\0') {
		fputs("...", out);
		cols += 3;
	}
	return cols;
}

static void
put_who(FILE *out, const struct entry *e)
{
	const char *by = get(e, "by");

	if (by == NULL)
		return;
	fprintf(out, " by ");
	if (strcmp(by, "rule") == 0 && get(e, "rule") != NULL) {
		fputs("rule ", out);
		put_safe(out, get(e, "rule"), 64);
	} else if (strcmp(by, "cluster") == 0) {
		fputs("node ", out);
		put_safe(out, get(e, "node") != NULL ? get(e, "node") : "?", 64);
		if (get(e, "rule") != NULL) {
			fputs(" (rule ", out);
			put_safe(out, get(e, "rule"), 64);
			fputs(")", out);
		}
	} else if (strcmp(by, "ctl") == 0) {
		fprintf(out, "ctl (uid %s", get(e, "uid") != NULL ? get(e, "uid") : "?");
		if (get(e, "pid") != NULL)
			fprintf(out, ", pid %s", get(e, "pid"));
		fputs(")", out);
	} else if (strcmp(by, "signal") == 0) {
		fputs("SIG", out);
		put_safe(out, get(e, "signal") != NULL ? get(e, "signal") : "?", 16);
	} else
		put_safe(out, by, 32);
}

static void
put_entry(FILE *out, const struct entry *e)
{
	const char *ts = get(e, "ts"), *event = get(e, "event"), *key = get(e, "key"), *v;
	char when[32];

	snprintf(when, sizeof(when), "%.19s", ts != NULL ? ts : "?");
	if (strlen(when) > 10 && when[10] == 'T')
		when[10] = ' ';
	fprintf(out, "%-19s  %-7s  ", when, event);
	{
		/* (keys padded to an IPv4 address's width: the common case lines up) */
		size_t w = put_safe(out, key != NULL ? key : "-", 80);

		fprintf(out, "%*s  ", w < 15 ? (int)(15 - w) : 0, "");
	}
	if (strcmp(event, "ban") == 0) {
		char d[32] = "";

		if ((v = get(e, "duration")) != NULL)
			conf_format_duration(strtoll(v, NULL, 10), d, sizeof(d));
		put_safe(out, get(e, "action") != NULL ? get(e, "action") : "?", 16);
		if (d[0] != '\0')
			fprintf(out, " for %s", d);
		put_who(out, e);
		if ((v = get(e, "reason")) != NULL) {
			fputs(": ", out);
			put_safe(out, v, 200);
		}
	} else if (strcmp(event, "expire") == 0) {
		put_safe(out, get(e, "action") != NULL ? get(e, "action") : "?", 16);
		fputs(" ended (rule ", out);
		put_safe(out, get(e, "rule") != NULL ? get(e, "rule") : "?", 64);
		fputs(")", out);
	} else if (strcmp(event, "unban") == 0 || strcmp(event, "flush") == 0) {
		fprintf(out, "%s decision(s) released", get(e, "released") != NULL ? get(e, "released") : "?");
		put_who(out, e);
	} else if (strcmp(event, "reload") == 0) {
		put_safe(out, get(e, "config") != NULL ? get(e, "config") : "", 200);
		if ((v = get(e, "ok")) != NULL && strcmp(v, "true") == 0)
			fputs(": reloaded", out);
		else {
			fputs(": kept the running configuration (", out);
			put_safe(out, get(e, "error") != NULL ? get(e, "error") : "failed", 200);
			fputs(")", out);
		}
		put_who(out, e);
	} else {
		/* start, stop, and what a later version may add */
		put_safe(out, get(e, "config") != NULL ? get(e, "config") : "", 200);
		if ((v = get(e, "pid")) != NULL)
			fprintf(out, " (pid %s)", v);
	}
	fputc('\n', out);
}

/* ---- the files ---- */

static int
exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* One file's wanted entries; 0, or -1 if it cannot be opened. */
static int
show_file(const char *file, const struct filter *f, int json, FILE *out, long *shown, long *bad, struct entry *e,
    char *line)
{
	gzFile gz = gzopen(file, "rb");	/* (plain files are read as they are) */
	int skipping = 0;

	if (gz == NULL)
		return -1;
	while (gzgets(gz, line, LINE_MAX_BYTES) != NULL) {
		size_t n = strlen(line);
		int whole = n > 0 && line[n - 1] == '\n';

		if (skipping || !whole) {
			/* a line too long to be one of ours (or the torn last one): passed over */
			if (!skipping)
				(*bad)++;
			skipping = !whole;
			continue;
		}
		if (!parse_entry(line, e)) {
			(*bad)++;
			continue;
		}
		if (!wanted(f, e))
			continue;
		(*shown)++;
		if (json)
			fputs(line, out);
		else
			put_entry(out, e);
	}
	gzclose(gz);
	return 0;
}

int
history_show(const char *path, const char *filter, int json, FILE *out)
{
	struct filter f = { .kind = F_ALL };
	struct entry *e = malloc(sizeof(*e));
	char *line = malloc(LINE_MAX_BYTES), name[4200];
	long shown = 0, bad = 0;
	int oldest = 0, read = 0, rc = 0;

	if (e == NULL || line == NULL) {
		free(e);
		free(line);
		return EX_OSERR;
	}
	if (filter != NULL && table_parse_prefix(filter, &f.a, &f.plen)) {
		f.kind = F_ADDR;
	} else if (filter != NULL) {
		f.kind = F_RULE;
		f.rule = filter;
	}
	/* logrotate's copies, oldest first: PATH.N(.gz) ... PATH.1(.gz), then PATH */
	for (int i = 1; i <= ROTATED_MAX; i++) {
		char gz[4300];

		snprintf(name, sizeof(name), "%s.%d", path, i);
		snprintf(gz, sizeof(gz), "%s.gz", name);
		if (!exists(name) && !exists(gz))
			break;
		oldest = i;
	}
	for (int i = oldest; i >= 0; i--) {
		if (i == 0)
			snprintf(name, sizeof(name), "%s", path);
		else {
			snprintf(name, sizeof(name), "%s.%d", path, i);
			if (!exists(name))
				snprintf(name + strlen(name), sizeof(name) - strlen(name), ".gz");
		}
		if (show_file(name, &f, json, out, &shown, &bad, e, line) == 0)
			read++;
		else if (i == 0 || errno != ENOENT)
			fprintf(stderr, "mxguard ctl: history: cannot read %s: %s\n", name, strerror(errno));
	}
	if (read == 0)
		rc = EX_NOINPUT;
	else if (shown == 0)
		fprintf(stderr, "mxguard ctl: history: no entry%s%s in %s%s\n", filter ? " about " : "", filter ? filter : "",
		    path, oldest > 0 ? " and its rotated copies" : "");
	if (bad > 0)
		fprintf(stderr, "mxguard ctl: history: %ld line(s) that are not entries passed over\n", bad);
	free(e);
	free(line);
	return rc;
}
