/* mapfile.c - see mapfile.h. */
#include "mapfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/safefile.h"
#include "../common/xalloc.h"
#include "../common/table.h"
#include "fw.h"

#define EXPAND_MAX 256		/* keys one off-boundary prefix may become in a hash table */

struct mapfile {
	char *type;	/* "cidr", "hash", "lmdb", "exim", "sendmail" */
	char *path;
	char *dir;	/* the directory of path, where temporaries are made */
	char *base;	/* the last component of path */
};

/*
 * Temporaries (the new table, and the database postmap or makemap builds
 * beside it) are made in a private directory inside the target's
 * directory: mkdtemp() makes it 0700 and unpredictable, so no one can
 * plant a symlink or a file there for us (or for postmap, which names its
 * own output) to follow; renames out of it into place stay atomic, on one
 * filesystem. Its name, ".mxguard-BASE.XXXXXX", lets a later start sweep
 * the ones a crash left behind.
 */
#define TMP_PREFIX ".mxguard-"

/* Remove a private temporary directory and what is in it (files only; nothing else is made there). */
static void
remove_tmpdir(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		log_warn("map file: cannot remove the temporary directory %s", name);
}

/* Temporary directories of ours that a crash left behind. */
static void
sweep_stale(const struct mapfile *f)
{
	int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	size_t plen = strlen(TMP_PREFIX), blen = strlen(f->base);
	struct dirent *de;

	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (strncmp(de->d_name, TMP_PREFIX, plen) != 0 || strncmp(de->d_name + plen, f->base, blen) != 0 ||
		    de->d_name[plen + blen] != '.' || strlen(de->d_name + plen + blen) != 7)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode) &&
		    sb.st_uid == geteuid())
			remove_tmpdir(dirfd(d), de->d_name);
	}
	closedir(d);
}

/* A new private directory for one rewrite, into buf; -1 (logged) if none. */
static int
make_tmpdir(const struct mapfile *f, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s%s.XXXXXX", f->dir, TMP_PREFIX, f->base) >= len || mkdtemp(buf) == NULL) {
		log_warn("map file: temporary directory in %s", f->dir);
		return -1;
	}
	return 0;
}

static void
drop_tmpdir(const char *tmpdir)
{
	remove_tmpdir(AT_FDCWD, tmpdir);
}

/* Create a temporary file (never an existing name, never through a symlink). NULL: logged. */
static FILE *
create_tmp(const char *path)
{
	char why[4300];
	int fd = sf_open_output(path, O_CREAT | O_EXCL, 0644, why, sizeof(why));
	FILE *fp;

	if (fd < 0) {
		log_warnx("map file: %s", why);
		return NULL;
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		log_warn("map file %s", path);
		close(fd);
	}
	return fp;
}

struct mapfile *
mapfile_new(const char *spec, char *err, size_t errlen)
{
	const char *colon = strchr(spec, ':'), *slash;
	struct mapfile *f;
	char why[4300];

	if (colon == NULL || colon[1] != '/' || !((colon - spec == 4 && (strncmp(spec, "cidr", 4) == 0 ||
	    strncmp(spec, "hash", 4) == 0 || strncmp(spec, "lmdb", 4) == 0 || strncmp(spec, "exim", 4) == 0)) ||
	    (colon - spec == 8 && strncmp(spec, "sendmail", 8) == 0))) {
		snprintf(err, errlen, "map file '%s': use cidr:/PATH, hash:/PATH, lmdb:/PATH, exim:/PATH or sendmail:/PATH",
		    spec);
		return NULL;
	}
	slash = strrchr(colon + 1, '/');
	if (slash[1] == '\0' || strlen(colon + 1) > 4000) {
		snprintf(err, errlen, "map file '%s': the path must name a file", spec);
		return NULL;
	}
	/* Who can write the directory could replace the map (docs/MAPS.md, "Where the files go"). */
	switch (sf_check_dir(colon + 1, why, sizeof(why))) {
	case -1:
		snprintf(err, errlen, "map file '%s': %s", spec, why);
		return NULL;
	case 1:
		log_warnx("map file: %s", why);
		break;
	}
	f = xcalloc(1, sizeof(*f));
	f->type = xstrdup(spec);
	f->type[colon - spec] = '\0';
	f->path = xstrdup(colon + 1);
	f->dir = xstrdup(colon + 1);
	f->dir[slash == colon + 1 ? 1 : slash - colon - 1] = '\0';
	f->base = xstrdup(slash + 1);
	sweep_stale(f);
	return f;
}

void
mapfile_free(struct mapfile *f)
{
	if (f == NULL)
		return;
	free(f->type);
	free(f->path);
	free(f->dir);
	free(f->base);
	free(f);
}

static int64_t table_write(struct mapfile *f, struct dmap *m, int64_t now);

/* One line of a table, kept until all are known: keys may overlap (a prefix spelled out, an address). */
struct line {
	char key[80];
	int strength;		/* enum dmap_action: lower is stronger */
	char result[160];
};

struct out {
	struct mapfile *f;
	FILE *fp;
	long n;
	const char *tag;	/* "Connect:" for Sendmail's keys, else "" */
	struct line *lines;
	size_t nlines, cap;
};

static void
add_line(struct out *o, const char *key, int strength, const char *result)
{
	if (o->nlines == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 256;
		o->lines = xrealloc(o->lines, o->cap * sizeof(*o->lines));
	}
	snprintf(o->lines[o->nlines].key, sizeof(o->lines[0].key), "%s", key);
	o->lines[o->nlines].strength = strength;
	snprintf(o->lines[o->nlines].result, sizeof(o->lines[0].result), "%s", result);
	o->nlines++;
}

/* Strongest first (a cidr table answers with its first match); then by key. */
static int
by_strength(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return x->strength != y->strength ? x->strength - y->strength : strcmp(x->key, y->key);
}

/* By key, the strongest first among equal keys (a hash table holds one value per key). */
static int
by_key(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : x->strength - y->strength;
}

static void
write_lines(struct out *o)
{
	int cidr = strcmp(o->f->type, "cidr") == 0;

	if (o->nlines > 1)	/* (an empty table has no array at all) */
		qsort(o->lines, o->nlines, sizeof(*o->lines), cidr ? by_strength : by_key);
	for (size_t i = 0; i < o->nlines; i++) {
		if (!cidr && i > 0 && strcmp(o->lines[i].key, o->lines[i - 1].key) == 0)
			continue;	/* a weaker value for a key already written */
		fprintf(o->fp, "%s %s\n", o->lines[i].key, o->lines[i].result);
		o->n++;
	}
}

/* A hash-table key for a network on an access(5) boundary: "203.0.113", "2001:db8:1:2". */
static void
partial_key(const struct addr *a, int plen, char *buf, size_t len)
{
	size_t n = 0;

	if (a->family == 4)
		for (int i = 0; i < plen / 8; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%u", i ? "." : "", a->b[i]);
	else
		for (int i = 0; i < plen / 16; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%x", i ? ":" : "", a->b[2 * i] << 8 | a->b[2 * i + 1]);
}

static void
put_line(void *arg, const char *key, const struct dmap_hit *h)
{
	struct out *o = arg;
	char result[160];
	struct fw_entry e;
	int full, step;

	/* A file cannot follow a limit's message count (only the socketmap can): what holds until the end. */
	if (h->action == DM_LIMIT)
		return;
	if (strcmp(o->f->type, "sendmail") == 0) {
		if (dmap_sendmail_result(h, result, sizeof(result)) == NULL)
			return;
	} else if (dmap_postfix_result(h, result, sizeof(result)) == NULL)
		return;
	if (!fw_entry_parse(key, 0, &e))
		return;
	if (strcmp(o->f->type, "cidr") == 0) {
		char net[ADDR_STRLEN + 5];

		fw_entry_text(&e, net);
		add_line(o, net, h->action, result);
		return;
	}
	/* access(5) keys: a whole address, or a network on an octet (IPv4) or 16-bit (IPv6) boundary. */
	full = e.addr.family == 4 ? 32 : 128;
	step = e.addr.family == 4 ? 8 : 16;
	if (e.plen == full) {
		char a[ADDR_STRLEN], k[ADDR_STRLEN + 16];

		addr_format(&e.addr, a);
		snprintf(k, sizeof(k), "%s%s%s", o->tag, e.addr.family == 6 && *o->tag ? "IPv6:" : "", a);
		add_line(o, k, h->action, result);
	} else if (*o->tag && e.addr.family == 6) {
		log_warnx("map file: %s: Sendmail's access database takes IPv6 addresses, not prefixes; not written", key);
	} else {
		int b = (e.plen + step - 1) / step * step;	/* the next boundary at or below the prefix */
		long count = 1L << (b - e.plen > 30 ? 30 : b - e.plen);

		if (count > EXPAND_MAX) {
			log_warnx("map file: %s would be %ld keys in a %s table; not written (use cidr)", key, count,
			    o->f->type);
			return;
		}
		for (long i = 0; i < count; i++) {
			struct addr a = e.addr;
			char k[64];

			/* set the bits between the prefix and the boundary to i */
			for (int bit = 0; bit < b - e.plen; bit++)
				if (i >> bit & 1) {
					int pos = b - 1 - bit;

					a.b[pos / 8] |= (uint8_t)(0x80 >> (pos % 8));
				}
			if (b == full) {
				addr_format(&a, k);
			} else
				partial_key(&a, b, k, sizeof(k));
			char tagged[80];

			snprintf(tagged, sizeof(tagged), "%s%s", o->tag, k);
			add_line(o, tagged, h->action, result);
		}
	}
}

/* Exim: one net-iplsearch file per action, "KEY: MESSAGE" lines (an IPv6 key quoted: it has colons). */
struct exim_out {
	FILE *fp;
	enum dmap_action want;
};

static void
exim_line(void *arg, const char *key, const struct dmap_hit *h)
{
	struct exim_out *o = arg;
	struct fw_entry e;
	char net[ADDR_STRLEN + 5];
	enum dmap_action a = h->action == DM_BLOCK ? DM_REJECT : h->action;

	if (a != o->want || !fw_entry_parse(key, 0, &e))
		return;
	fw_entry_text(&e, net);
	fprintf(o->fp, e.addr.family == 6 ? "\"%s\": " : "%s: ", net);
	if (a == DM_REJECT)
		fprintf(o->fp, "Rejected by mxguard rule %s\n", h->rule);
	else if (a == DM_DEFER)
		fprintf(o->fp, "Deferred by mxguard rule %s, try again later\n", h->rule);
	else
		fprintf(o->fp, "mxguard rule %s\n", h->rule);
}

static int64_t
exim_write(struct mapfile *f, struct dmap *m, int64_t now)
{
	static const struct {
		const char *suffix;
		enum dmap_action action;
	} files[] = { { "reject", DM_REJECT }, { "defer", DM_DEFER }, { "discard", DM_DISCARD }, { "hold", DM_HOLD },
		{ "tarpit", DM_TARPIT } };
	int64_t next = INT64_MAX;
	char tmpdir[4200];

	if (make_tmpdir(f, tmpdir, sizeof(tmpdir)) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4200], tmp[4300];
		struct exim_out o = { NULL, files[i].action };
		int64_t n;
		int ok;

		snprintf(path, sizeof(path), "%s.%s", f->path, files[i].suffix);
		snprintf(tmp, sizeof(tmp), "%s/%s.%s", tmpdir, f->base, files[i].suffix);
		if ((o.fp = create_tmp(tmp)) == NULL) {
			next = -1;
			break;
		}
		fprintf(o.fp, "# written by mxguard: the clients under '%s' (do not edit)\n", files[i].suffix);
		n = dmap_foreach_client(m, now, exim_line, &o);
		next = n < next ? n : next;
		ok = fflush(o.fp) == 0 && fsync(fileno(o.fp)) == 0;
		ok = fclose(o.fp) == 0 && ok;
		if (!ok || rename(tmp, path) < 0) {
			log_warn("map file %s", path);
			next = -1;
			break;
		}
	}
	drop_tmpdir(tmpdir);
	return next;
}

int64_t
mapfile_write(struct mapfile *f, struct dmap *m, int64_t now)
{
	if (strcmp(f->type, "exim") == 0)
		return exim_write(f, m, now);
	return table_write(f, m, now);
}

/* A Postfix table: cidr, or hash/lmdb through postmap; or Sendmail's access database through makemap. */
static int64_t
table_write(struct mapfile *f, struct dmap *m, int64_t now)
{
	struct out o = { f, NULL, 0, strcmp(f->type, "sendmail") == 0 ? "Connect:" : "", NULL, 0, 0 };
	char tmpdir[4200], tmp[4300];
	int64_t next;
	int ok;

	if (make_tmpdir(f, tmpdir, sizeof(tmpdir)) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/%s", tmpdir, f->base);
	if ((o.fp = create_tmp(tmp)) == NULL) {
		drop_tmpdir(tmpdir);
		return -1;
	}
	fprintf(o.fp, "# written by mxguard: the decisions in force (do not edit)\n");
	next = dmap_foreach_client(m, now, put_line, &o);
	write_lines(&o);
	free(o.lines);
	ok = fflush(o.fp) == 0 && fsync(fileno(o.fp)) == 0;
	ok = fclose(o.fp) == 0 && ok;
	if (!ok) {
		log_warn("map file %s", tmp);
		drop_tmpdir(tmpdir);
		return -1;
	}
	if (strcmp(f->type, "sendmail") == 0) {
		/* makemap reads the text on its input and builds TMP.db; renamed into place, then the text. */
		char *argv[] = { "makemap", "hash", tmp, NULL }, from[4400], to[4200];
		FILE *in = fopen(tmp, "r");
		char *text = NULL;
		size_t len = 0;
		int bad;

		if (in != NULL) {
			FILE *mem = open_memstream(&text, &len);
			int c;

			while (mem != NULL && (c = getc(in)) != EOF)
				putc(c, mem);
			if (mem != NULL)
				fclose(mem);
			fclose(in);
		}
		snprintf(from, sizeof(from), "%s.db", tmp);
		snprintf(to, sizeof(to), "%s.db", f->path);
		bad = text == NULL || fw_run_input(argv, text, len) < 0 || rename(from, to) < 0;
		free(text);
		if (bad) {
			log_warnx("map file: sendmail:%s not rebuilt", f->path);
			drop_tmpdir(tmpdir);
			return -1;
		}
	} else if (strcmp(f->type, "cidr") != 0) {
		/* postmap builds TMP.db (or .lmdb) next to it; both are renamed into place, database first. */
		char spec[4400], *argv[] = { "postmap", spec, NULL };
		const char *ext = strcmp(f->type, "hash") == 0 ? ".db" : ".lmdb";
		char from[4400], to[4200];

		snprintf(spec, sizeof(spec), "%s:%s", f->type, tmp);
		snprintf(from, sizeof(from), "%s%s", tmp, ext);
		snprintf(to, sizeof(to), "%s%s", f->path, ext);
		if (fw_run(argv) < 0 || rename(from, to) < 0) {
			log_warnx("map file: %s:%s not rebuilt: %s", f->type, f->path, strerror(errno));
			drop_tmpdir(tmpdir);
			return -1;
		}
	}
	if (rename(tmp, f->path) < 0) {
		log_warn("map file %s", f->path);
		drop_tmpdir(tmpdir);
		return -1;
	}
	drop_tmpdir(tmpdir);
	log_debug("map file %s:%s: %ld entries", f->type, f->path, o.n);
	return next;
}

const char *
mapfile_sendmail_cf(void)
{
	const char *cf = getenv("MXGUARD_SENDMAIL_CF");

	return cf != NULL && cf[0] != '\0' ? cf : "/etc/mail/sendmail.cf";
}

int
mapfile_sendmail_trusts(const char *cf, const char *user, char *why, size_t whylen)
{
	FILE *fp = fopen(cf, "re");
	char line[1024], trusted[256] = "";
	const struct passwd *pw;
	uid_t want, got;

	if (fp == NULL) {
		snprintf(why, whylen, "cannot read %s (%s) to see whether Sendmail trusts %s", cf, strerror(errno),
		    user);
		return -1;
	}
	/* "O TrustedUser=NAME" (or a uid), as confTRUSTED_USER writes it; the last one counts. */
	while (fgets(line, sizeof(line), fp) != NULL) {
		const char *p = line;
		size_t n;

		if (p[0] != 'O' || (p[1] != ' ' && p[1] != '\t'))
			continue;
		p += 1 + strspn(p + 1, " \t");
		if (strncmp(p, "TrustedUser", 11) != 0)
			continue;
		p += 11 + strspn(p + 11, " \t");
		if (*p != '=')
			continue;
		p += 1 + strspn(p + 1, " \t");
		n = strcspn(p, " \t\r\n");
		snprintf(trusted, sizeof(trusted), "%.*s", (int)n, p);
	}
	fclose(fp);
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(why, whylen, "no user %s", user);
		return -1;
	}
	want = pw->pw_uid;
	if (trusted[0] != '\0') {
		char *end;
		unsigned long v = strtoul(trusted, &end, 10);

		if (*end == '\0')
			got = (uid_t)v;
		else if ((pw = getpwnam(trusted)) != NULL)
			got = pw->pw_uid;
		else
			got = (uid_t)-1;
		if (got == want)
			return 1;
	}
	snprintf(why, whylen, "Sendmail ignores an access database that neither root nor its TrustedUser owns, "
	    "and the worker writes it as %s (%s%s%s): add define(`confTRUSTED_USER', `%s')dnl to sendmail.mc, "
	    "rebuild sendmail.cf and restart Sendmail, or let Sendmail ask the socket map (docs/MAPS.md)", user,
	    trusted[0] ? "its TrustedUser is " : "no TrustedUser in ", trusted[0] ? trusted : cf, "", user);
	return 0;
}
