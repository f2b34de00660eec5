/*
 * genlog.c: reproducible, realistic Postfix log generator for the parser
 * benchmark, with an exact "truth" file of the events a correct parser
 * must produce for the lines written.
 *
 * The mail server is modelled as a set of concurrent actors (an smtpd
 * session, a delivery of one queued message, a Postfix-generated bounce, a
 * local pickup); each step picks one active actor at random and writes its
 * next line, so sessions interleave like on a busy MX.  Every line is written
 * by exactly one "op", and the truth counters are bumped by the op that
 * writes the line, so the counts stay exact wherever the -n cutoff falls.
 * Nothing depends on -n, so a shorter run is a prefix of a longer one.
 *
 * Standalone C99, libc only:  cc -O2 -Wall -Wextra -o bench/genlog bench/genlog.c
 * Usage: genlog [-n LINES] [-s SEED] [-o LOGFILE] [-t TRUTHFILE] [--iso]
 *
 * Addresses come only from 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32
 * (IPv6 in RFC 5952 form; 203.0.113.10 and 2001:db8:1::25 are the server
 * itself); domains are example.{org,com,net} and subdomains, and the DNSBL
 * zone is zen.example.test.
 *
 * Truth mapping (what a correct parser must count): "connect from",
 * "disconnect from", RCPT rejects with "User unknown", "Relay access denied",
 * "blocked using", "SASL ... authentication failed", "lost connection after" /
 * "timeout after", "rate limit exceeded", anvil's per-client "statistics: max
 * connection rate/count ... for (smtp:IP)" peaks, and a qmgr "from=" line whose QID had
 * an smtpd "client=" line (msg_accepted, or bounce_in for from=<>).  Lines that
 * count as nothing on purpose: anvil "max cache size" summaries, PTR "does not resolve" warnings, TLS lines, cleanup/delivery/
 * removed lines, Postfix's own bounces (no client=), pickup mail, and the
 * other programs (CRON, dovecot, kernel, systemd).  disconnect statistics use
 * Postfix 3.x's real form: "rcpt=2" when all succeeded, "rcpt=0/5" otherwise,
 * "commands=0/0" when nothing was sent.  QIDs are never reused in one file.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- PRNG --- */
/* xoshiro256** seeded through splitmix64: fast and identical everywhere. */
static uint64_t rs[4];

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rnd(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

/* Uniform integer in [0, n) (multiply-shift; the bias is negligible). */
static uint32_t rbelow(uint32_t n) { return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32); }
static int rrange(int lo, int hi) { return lo + (int)rbelow((uint32_t)(hi - lo + 1)); }
static double runi(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }
static int chance(double p) { return runi() < p; }
/* Index skewed towards 0: a few busy clients, a long tail of quiet ones. */
static uint32_t rskew(uint32_t n) { double u = runi(); return (uint32_t)(u * u * n); }
#define PICK(a) ((a)[rbelow(ARRAY_LEN(a))])

/* ------------------------------------------------------- truth counters --- */
enum { E_CONNECT, E_DISCONNECT, E_RCPT_UNKNOWN, E_RELAY_DENIED, E_DNSBL, E_AUTH_FAIL,
       E_LOST_CONN, E_RATE_LIMITED, E_MSG_ACCEPTED, E_BOUNCE_IN, E_N };
static const char *ev_name[E_N] = { "connect", "disconnect", "rcpt_unknown", "relay_denied",
	"dnsbl_reject", "auth_fail", "lost_conn", "rate_limited", "msg_accepted", "bounce_in" };
static unsigned long long ev[E_N];

/* ------------------------------------------------------------- clients --- */
enum { C_LEGIT, C_SUBMIT, C_DHA, C_FLOOD, C_BFLOOD, C_AUTH, C_SPAM, C_MX, C_N };

struct client {
	char ip[48];
	char host[64];          /* "unknown" when there is no (valid) PTR */
	int v6;
	int seen;               /* attacker: wrote a line of its attack */
};

struct pool {
	struct client *c;
	int n;
};
static struct pool legit4, legit6, dha, flood, bflood, authp, spam, remote_mx;

/* RFC 5952 text of an IPv6 address: lower case, no leading zeros, the
 * longest run (>= 2) of zero groups as "::", the first one on a tie. */
static void fmt_ip6(const uint16_t g[8], char *out)
{
	int best = -1, bestlen = 1, i, j;
	for (i = 0; i < 8; i = j + 1) {
		for (j = i; j < 8 && g[j] == 0; j++)
			;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
	}
	char *p = out;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (i == 0)
				*p++ = ':';
			i += bestlen - 1;
			continue;
		}
		p += sprintf(p, "%x", g[i]);
		if (i < 7)
			*p++ = ':';
	}
	*p = 0;
}

static void rand_ip6(char *out)
{
	uint16_t g[8] = { 0x2001, 0x0db8, 0, 0, 0, 0, 0, 0 };
	int i;
	switch (rbelow(8)) {
	case 0: case 1: case 2:         /* 2001:db8:7a10:44c2::1b */
		g[2] = (uint16_t)rrange(1, 0xffff);
		g[3] = (uint16_t)rrange(1, 0xffff);
		g[7] = (uint16_t)rrange(1, chance(0.5) ? 0xff : 0xffff);
		break;
	case 3: case 4:                 /* SLAAC: ...:9e3:1ff:fe21:b07 */
		for (i = 2; i < 8; i++)
			g[i] = (uint16_t)rrange(1, 0xffff);
		g[5] = (uint16_t)((g[5] & 0xff00) | 0xff);
		g[6] = (uint16_t)(0xfe00 | (g[6] & 0xff));
		break;
	case 5:                         /* single zero group is not compressed */
		g[3] = (uint16_t)rrange(1, 0xfff);
		g[4] = (uint16_t)rrange(1, 0xffff);
		g[5] = (uint16_t)rrange(1, 0xffff);
		g[7] = (uint16_t)rrange(1, 0xff);
		break;
	case 6:                         /* 2001:db8:p::a:b:c */
		g[2] = (uint16_t)rrange(1, 0xffff);
		g[5] = (uint16_t)rrange(1, 0xffff);
		g[6] = (uint16_t)rrange(1, 0xffff);
		g[7] = (uint16_t)rrange(1, 0xffff);
		break;
	default:                        /* two equal runs: the first is compressed */
		g[4] = (uint16_t)rrange(1, 0xffff);
		g[7] = (uint16_t)rrange(1, 0xff);
		break;
	}
	fmt_ip6(g, out);
}

static const char *hostpat[] = { "mail%d.example.net", "mx%d.example.com", "smtp-out%d.eu.example.net",
	"o%d.mail.example.com", "relay%d.branch.example.net", "mta%d.lists.example.com",
	"out%d.shop.example.net", "mail%d.news.example.com" };
static const char *badpat[] = { "static-%d.dsl.example.net", "host-%d.pool.example.com",
	"ip%d.cable.example.net", "dyn-%d.broadband.example.com" };

/* Taken: the same address, or for IPv6 the same /64 (one site each: a
 * /64 is what a rule keys IPv6 clients by). */
static int ip_taken(const struct client *c, int n, const char *ip)
{
	unsigned char a[16], b[16];
	int v6 = strchr(ip, ':') != NULL && inet_pton(AF_INET6, ip, a) == 1;
	for (int i = 0; i < n; i++) {
		if (strcmp(c[i].ip, ip) == 0)
			return 1;
		if (v6 && c[i].v6 && inet_pton(AF_INET6, c[i].ip, b) == 1 && memcmp(a, b, 8) == 0)
			return 1;
	}
	return 0;
}

/* Build a pool of n4 IPv4 (taken from the shuffled list) and n6 IPv6
 * clients; p_unknown of them have no usable PTR. */
static void make_pool(struct pool *p, int n4, int n6, char (*v4)[16], int *v4next,
		      const char **pat, int npat, double p_unknown)
{
	p->n = n4 + n6;
	p->c = calloc((size_t)p->n, sizeof *p->c);
	if (!p->c) {
		perror("calloc");
		exit(1);
	}
	for (int i = 0; i < p->n; i++) {
		struct client *c = &p->c[i];
		if (i < n4) {
			strcpy(c->ip, v4[(*v4next)++]);
		} else {
			do
				rand_ip6(c->ip);
			while (ip_taken(p->c, i, c->ip));
			c->v6 = 1;
		}
		if (chance(p_unknown))
			strcpy(c->host, "unknown");
		else
			snprintf(c->host, sizeof c->host, pat[rbelow((uint32_t)npat)], rrange(1, 99));
	}
}

/* ---------------------------------------------------------- word lists --- */
static const char *users[] = { "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor",
	"walter", "info", "sales", "support", "billing", "jobs", "hr", "office", "accounts",
	"j.smith", "m.jones", "k.lee", "a.brown", "postmaster", "newsletter", "helpdesk" };
static const char *guesses[] = { "admin", "test", "webmaster", "contact", "marketing", "root",
	"john", "mary", "michael", "linda", "david", "susan", "james", "karen", "robert", "lisa",
	"paul", "nancy", "mark", "sandra", "office1", "sales2", "info1", "user", "guest",
	"backup", "noreply", "abuse", "finance", "ceo", "hello", "team", "service" };
static const char *senders[] = { "news", "noreply", "orders", "billing", "alerts", "jane",
	"tom", "invoice", "updates", "no-reply", "notifications", "team", "hello", "support" };
static const char *sdomains[] = { "example.net", "example.com", "mail.example.net", "news.example.com",
	"shop.example.net", "lists.example.com", "corp.example.net", "eu.example.com" };
static const char *ldomain_virtual[] = { "lists.example.org", "staff.example.org" };
static const char *helos_bad[] = { "WIN-7QK2M4ZP1AB", "User", "localhost", "example.com",
	"WIN-3RD8XKQ2LTM", "ylmf-pc", "mail.example.org", "DESKTOP-9F2K1QZ" };
static const char *cron_cmds[] = {
	"command -v debian-sa1 > /dev/null && debian-sa1 1 1",
	"   cd / && run-parts --report /etc/cron.hourly",
	"test -x /usr/sbin/logwatch && /usr/sbin/logwatch --output mail",
	"/usr/local/bin/backup-mail.sh" };
static const char *units[] = { "logrotate.service", "man-db.service", "apt-daily.service",
	"phpsessionclean.service", "systemd-tmpfiles-clean.service", "certbot.service" };
static const char *unitdesc[] = { "Rotate log files", "Daily man-db regeneration",
	"Daily apt download activities", "Clean php session files",
	"Cleanup of Temporary Directories", "Certbot" };

/* ------------------------------------------------------------- clock --- */
static uint64_t now_us;                         /* since 2024-03-01 00:00:00 UTC */
static const char *month_name[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
	"Sep", "Oct", "Nov", "Dec" };

static void civil(uint64_t sec, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint64_t days = sec / 86400;
	int yy = 2024, mm = 2, dd = 0;              /* month 0-based: March */
	for (;;) {
		int leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
		int md = mdays[mm] + (mm == 1 && leap);
		if (days < (uint64_t)(md - dd)) {
			dd += (int)days;
			break;
		}
		days -= (uint64_t)(md - dd);
		dd = 0;
		if (++mm == 12) {
			mm = 0;
			yy++;
		}
	}
	*y = yy; *mo = mm; *d = dd + 1;
	*h = (int)(sec % 86400 / 3600); *mi = (int)(sec % 3600 / 60); *s = (int)(sec % 60);
}

/* "Mar  4 09:07:13" for the anvil "at" field and the RFC 3164 header. */
static void fmt_bsd(uint64_t sec, char *out)
{
	int y, mo, d, h, mi, s;
	civil(sec, &y, &mo, &d, &h, &mi, &s);
	sprintf(out, "%s %2d %02d:%02d:%02d", month_name[mo], d, h, mi, s);
}

/* ---------------------------------------------------------- line output --- */
static FILE *logfp;
static int iso;
static unsigned long long nlines, maxlines;
static char L[4096];
static size_t LN;
static char hdr[64];
static size_t hdrlen;
static uint64_t hdr_sec = UINT64_MAX;
static const char *myhost = "mx1";

static void lput(const char *s)
{
	size_t n = strlen(s);
	memcpy(L + LN, s, n);
	LN += n;
}

/* Append strings up to a NULL: the hot paths avoid printf. */
static void lcat(const char *s, ...)
{
	va_list ap;
	va_start(ap, s);
	for (; s; s = va_arg(ap, const char *)) {
		size_t n = strlen(s);
		memcpy(L + LN, s, n);
		LN += n;
	}
	va_end(ap);
}

static void lnum(unsigned long v)
{
	char t[24];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		L[LN++] = t[--n];
}

static void lprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void lprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(L + LN, sizeof L - LN - 2, fmt, ap);
	va_end(ap);
	if (n > 0)
		LN += (size_t)n < sizeof L - LN - 3 ? (size_t)n : sizeof L - LN - 3;
}

static void lbegin(const char *prog, int pid)
{
	uint64_t sec = now_us / 1000000;
	if (sec != hdr_sec) {
		int y, mo, d, h, mi, s;
		civil(sec, &y, &mo, &d, &h, &mi, &s);
		if (iso)
			hdrlen = (size_t)sprintf(hdr, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo + 1, d, h, mi, s);
		else
			hdrlen = (size_t)sprintf(hdr, "%s %2d %02d:%02d:%02d %s ", month_name[mo], d, h, mi, s, myhost);
		hdr_sec = sec;
	}
	memcpy(L, hdr, hdrlen);
	LN = hdrlen;
	if (iso)
		lprintf(".%06u+00:00 %s ", (unsigned)(now_us % 1000000), myhost);
	lput(prog);
	if (pid >= 0) {
		L[LN++] = '[';
		lnum((unsigned long)pid);
		L[LN++] = ']';
	}
	lput(": ");
}

static void lend(void)
{
	L[LN++] = '\n';
	fwrite(L, 1, LN, logfp);
	nlines++;
}

/* ------------------------------------------------------ pids and QIDs --- */
static int next_pid = 20143;

static int new_pid(void)
{
	next_pid += rrange(1, 37);
	if (next_pid > 4194000)
		next_pid = 300 + rrange(0, 999);
	return next_pid;
}

/* smtpd processes: a connection takes an idle one; a process exits after
 * max_use (100) connections and a new pid replaces it. */
struct worker {
	int pid, busy, uses;
};
struct wpool {
	struct worker w[512];
	int n;
};
static struct wpool smtpd_w, subm_w, smtps_w;

static int wp_take(struct wpool *p)
{
	int idle[512], ni = 0, i;
	for (i = 0; i < p->n; i++)
		if (!p->w[i].busy)
			idle[ni++] = i;
	if (ni == 0) {
		if (p->n == 512) {
			fprintf(stderr, "genlog: worker pool exhausted\n");
			exit(1);
		}
		p->w[p->n].pid = new_pid();
		idle[ni++] = p->n++;
	}
	i = idle[rbelow((uint32_t)ni)];
	p->w[i].busy = 1;
	return i;
}

static void wp_give(struct wpool *p, int i)
{
	p->w[i].busy = 0;
	if (++p->w[i].uses >= 100) {
		p->w[i].uses = 0;
		p->w[i].pid = new_pid();
	}
}

static int qmgr_pid, anvil_pid, pickup_pid, cleanup_pid[4], local_pid[6], virtual_pid[3],
	smtp_pid[8], bounce_pid[2];

/* Short queue ID: 5 hex digits of microseconds, then the queue file's inode
 * in hex.  The inode is a bijective scramble of a counter over
 * [0x10000, 0x1000000), so IDs never repeat (up to 16.7M of them) and are
 * 10 or 11 characters long. */
static uint32_t qid_counter;

static void new_qid(char *out)
{
	const uint32_t span = 0x1000000 - 0x10000;
	uint32_t ino = 0x10000 + (uint32_t)(((uint64_t)(qid_counter++ % span) * 10000019ULL + 777777) % span);
	sprintf(out, "%05X%X", (unsigned)(now_us % 1000000), (unsigned)ino);
}

/* Postfix-style delay figures from microseconds: two significant digits
 * below 1 s (0.075, 0.1, 0.42), one decimal below 10 s, whole seconds
 * above; integer arithmetic only (float printf was the generator's hot spot). */
static void fmt_delay(uint64_t us, char *out)
{
	static const uint64_t unit[3] = { 10000, 1000, 100 };
	char *p = out;
	if (us < 5000) {
		strcpy(out, "0");
		return;
	}
	if (us < 995000) {
		int k = us >= 99500 ? 0 : us >= 9950 ? 1 : 2;   /* zeros after the point */
		uint64_t v = (us + unit[k] / 2) / unit[k];  /* 10..99 */
		p += sprintf(p, "0.");
		for (int i = 0; i < k; i++)
			*p++ = '0';
		*p++ = (char)('0' + v / 10);
		if (v % 10)
			*p++ = (char)('0' + v % 10);
		*p = 0;
		return;
	}
	if (us < 9950000) {
		uint64_t v = (us + 50000) / 100000;
		sprintf(out, "%u.%u", (unsigned)(v / 10), (unsigned)(v % 10));
		return;
	}
	sprintf(out, "%u", (unsigned)((us + 500000) / 1000000));
}

/* ------------------------------------------------------------- actors --- */
enum { K_SESSION, K_DELIVERY, K_OWNBOUNCE, K_PICKUP };
enum { T_LOCAL, T_VIRTUAL, T_SMTP };

enum {
	OP_PTRWARN, OP_CONNECT, OP_TLS, OP_CLIENT, OP_RCPT_UNK_Q, OP_MSGID, OP_QMGR,
	OP_NOQ_UNKNOWN, OP_RELAY, OP_DNSBL, OP_AUTHFAIL, OP_RATEWARN, OP_LOST, OP_TIMEOUT,
	OP_DISCONNECT,
	OP_DELIVER, OP_BCLEANUP, OP_BNOTICE, OP_REMOVED,
	OP_OB_QMGR, OP_PK_PICKUP, OP_PK_QMGR
};

/* "lost connection after X" / "timeout after X" states */
enum { AF_CONNECT, AF_EHLO, AF_RCPT, AF_DATA, AF_EOM, AF_AUTH };
static const char *after_name[] = { "CONNECT", "EHLO", "RCPT", "DATA", "END-OF-MESSAGE", "AUTH" };

#define MAXRCPT 6
#define MAXOPS 160

struct msg {
	char qid[16];
	char sender[80];                /* "" = null sender */
	char rcpt[MAXRCPT][80];
	char orig[MAXRCPT][40];         /* orig_to when an alias was expanded */
	unsigned char tr[MAXRCPT];
	int nrcpt;
	int size;
	int bounce_idx;                 /* recipient whose delivery bounces, or -1 */
	char unk[80];                   /* rejected extra recipient, "" for none */
	char sasl_user[80];
	uint64_t t_arrive, t_active;
};

struct op {
	unsigned char op, a;
	unsigned short b;
};

struct actor {
	int kind, cat;
	struct client *cl;
	const char *svc;                /* "postfix/smtpd", "postfix/submission/smtpd", ... */
	struct wpool *wp;
	int worker, pid;
	char helo[64];
	int conns_left, conn_no;
	char disc[200];                 /* disconnect statistics */
	char newqid[16];
	struct msg m[2];
	struct op ops[MAXOPS];
	int nops, pos;
};

static struct actor **act;
static int nact, cap_act, nsessions;
static struct actor *freelist[64];
static int nfree;

static struct actor *actor_new(int kind)
{
	struct actor *a = nfree ? freelist[--nfree] : malloc(sizeof *a);
	if (!a) {
		perror("malloc");
		exit(1);
	}
	memset(a, 0, offsetof(struct actor, m));
	a->kind = kind;
	a->worker = -1;
	if (nact == cap_act) {
		cap_act = cap_act ? cap_act * 2 : 64;
		act = realloc(act, (size_t)cap_act * sizeof *act);
		if (!act) {
			perror("realloc");
			exit(1);
		}
	}
	act[nact++] = a;
	if (kind == K_SESSION)
		nsessions++;
	return a;
}

static void actor_free(int idx)
{
	struct actor *a = act[idx];
	if (a->kind == K_SESSION)
		nsessions--;
	act[idx] = act[--nact];
	if (nfree < (int)ARRAY_LEN(freelist))
		freelist[nfree++] = a;
	else
		free(a);
}

static void push(struct actor *a, int op, int arg, int b)
{
	if (a->nops >= MAXOPS) {
		fprintf(stderr, "genlog: op list overflow\n");
		exit(1);
	}
	a->ops[a->nops].op = (unsigned char)op;
	a->ops[a->nops].a = (unsigned char)arg;
	a->ops[a->nops].b = (unsigned short)b;
	a->nops++;
}

/* ------------------------------------------------- disconnect statistics --- */
struct cstat {
	int ehlo, starttls, auth_ok, auth_tot, mail_ok, mail_tot, rcpt_ok, rcpt_tot,
	    data_ok, data_tot, rset, quit;
};

static void one_stat(char **p, const char *name, int ok, int tot)
{
	if (tot == 0)
		return;
	*p += sprintf(*p, " %s=%d", name, ok);
	if (ok != tot)
		*p += sprintf(*p, "/%d", tot);
}

/* Postfix 3.x format: "name=N" when all succeeded, "name=N/M" otherwise;
 * "commands=0/0" when nothing was sent. */
static void fmt_stats(const struct cstat *c, char *out)
{
	char *p = out;
	int ok = c->ehlo + c->starttls + c->auth_ok + c->mail_ok + c->rcpt_ok + c->data_ok + c->rset + c->quit;
	int tot = c->ehlo + c->starttls + c->auth_tot + c->mail_tot + c->rcpt_tot + c->data_tot + c->rset + c->quit;
	*p = 0;
	one_stat(&p, "ehlo", c->ehlo, c->ehlo);
	one_stat(&p, "starttls", c->starttls, c->starttls);
	one_stat(&p, "auth", c->auth_ok, c->auth_tot);
	one_stat(&p, "mail", c->mail_ok, c->mail_tot);
	one_stat(&p, "rcpt", c->rcpt_ok, c->rcpt_tot);
	one_stat(&p, "data", c->data_ok, c->data_tot);
	one_stat(&p, "rset", c->rset, c->rset);
	one_stat(&p, "quit", c->quit, c->quit);
	p += sprintf(p, " commands=%d", ok);
	if (ok != tot || tot == 0)
		sprintf(p, "/%d", tot);
}

/* -------------------------------------------------------- message setup --- */
static void rand_local_rcpt(char *out, unsigned char *tr)
{
	if (chance(0.7)) {
		sprintf(out, "%s@example.org", PICK(users));
		*tr = T_LOCAL;
	} else {
		sprintf(out, "%s@%s", PICK(users), PICK(ldomain_virtual));
		*tr = T_VIRTUAL;
	}
}

static void rand_sender(char *out)
{
	if (chance(0.15))
		sprintf(out, "bounces+%u-%x@mailer.example.com", (unsigned)rbelow(99999), (unsigned)rbelow(0xfffff));
	else
		sprintf(out, "%s@%s", PICK(senders), PICK(sdomains));
}

static void msg_setup(struct msg *m, int cat)
{
	m->qid[0] = 0;
	m->unk[0] = 0;
	m->sasl_user[0] = 0;
	m->bounce_idx = -1;
	m->size = 900 + (int)(runi() * runi() * runi() * 400000) + rrange(0, 5000);
	if (cat == C_BFLOOD || (cat == C_LEGIT && chance(0.03)))
		m->sender[0] = 0;
	else
		rand_sender(m->sender);
	m->nrcpt = chance(0.75) ? 1 : rrange(2, cat == C_BFLOOD ? 2 : 5);
	for (int i = 0; i < m->nrcpt; i++) {
		m->orig[i][0] = 0;
		if (cat == C_SUBMIT) {
			sprintf(m->rcpt[i], "%s@%s", PICK(senders), PICK(sdomains));
			m->tr[i] = T_SMTP;
		} else {
			rand_local_rcpt(m->rcpt[i], &m->tr[i]);
			if (m->tr[i] == T_LOCAL && chance(0.1))
				strcpy(m->orig[i], chance(0.5) ? "postmaster@example.org" : "abuse@example.org");
		}
	}
	/* a mailbox-full bounce makes Postfix send its own NDR to the sender */
	if (cat == C_LEGIT && m->sender[0] && chance(0.03))
		m->bounce_idx = (int)rbelow((uint32_t)m->nrcpt);
	if (cat == C_LEGIT && chance(0.05))
		sprintf(m->unk, "%s@example.org", PICK(guesses));
}

/* ------------------------------------------------------ session refill --- */
static struct client *pick(struct pool *p, int skew)
{
	return &p->c[skew ? rskew((uint32_t)p->n) : rbelow((uint32_t)p->n)];
}

static void bad_helo(struct actor *a)
{
	if (!a->cl->v6 && chance(0.2))
		snprintf(a->helo, sizeof a->helo, "[%s]", a->cl->ip);
	else if (chance(0.3) && strcmp(a->cl->host, "unknown") != 0)
		snprintf(a->helo, sizeof a->helo, "%s", a->cl->host);
	else
		snprintf(a->helo, sizeof a->helo, "%s", PICK(helos_bad));
}

static void start_conn(struct actor *a, struct wpool *wp)
{
	a->wp = wp;
	a->worker = wp_take(wp);
	a->pid = wp->w[a->worker].pid;
	a->nops = a->pos = 0;
	a->conn_no++;
}

/* Ordinary inbound SMTP: legit senders and bounce-flood clients. */
static void plan_mail_session(struct actor *a)
{
	struct cstat cs = { 0 };
	int tls = chance(0.6), nmsg = chance(0.12) ? 2 : 1, i, end = 0;

	start_conn(a, &smtpd_w);
	strcpy(a->helo, strcmp(a->cl->host, "unknown") ? a->cl->host : "mail.example.net");
	push(a, OP_CONNECT, 0, 0);
	cs.ehlo = 1;
	if (tls) {
		push(a, OP_TLS, 0, 0);
		cs.ehlo = 2;
		cs.starttls = 1;
	}
	/* abnormal end: 0 clean QUIT, else where the client went away */
	if (chance(0.06))
		end = 1 + (int)rbelow(3);
	for (i = 0; i < nmsg; i++) {
		struct msg *m = &a->m[i];
		int last = i == nmsg - 1;
		msg_setup(m, a->cat);
		cs.mail_ok++, cs.mail_tot++;
		cs.rcpt_ok += m->nrcpt, cs.rcpt_tot += m->nrcpt;
		push(a, OP_CLIENT, i, 0);
		if (m->unk[0]) {
			cs.rcpt_tot++;
			push(a, OP_RCPT_UNK_Q, i, 0);
		}
		if (last && end == 1) {         /* gone after RCPT: nothing queued */
			push(a, OP_LOST, 0, AF_RCPT);
			break;
		}
		if (last && end == 2) {         /* gone during DATA */
			cs.data_tot++;
			push(a, OP_MSGID, i, 0);
			push(a, OP_LOST, 0, AF_DATA);
			break;
		}
		cs.data_ok++, cs.data_tot++;
		push(a, OP_MSGID, i, 0);
		push(a, OP_QMGR, i, 0);
		if (last && end == 3)           /* queued, then never said QUIT */
			push(a, OP_TIMEOUT, 0, AF_EOM);
	}
	if (!end)
		cs.quit = 1;
	fmt_stats(&cs, a->disc);
	push(a, OP_DISCONNECT, 0, 0);
}

/* Authenticated submission: mail goes out through postfix/smtp. */
static void plan_submission(struct actor *a)
{
	struct cstat cs = { 0 };
	struct msg *m = &a->m[0];
	start_conn(a, &subm_w);
	a->svc = "postfix/submission/smtpd";
	snprintf(a->helo, sizeof a->helo, "%s", chance(0.5) ? "laptop" : "DESKTOP-9F2K1QZ");
	push(a, OP_CONNECT, 0, 0);
	push(a, OP_TLS, 0, 0);
	cs.ehlo = 2, cs.starttls = 1, cs.auth_ok = cs.auth_tot = 1;
	msg_setup(m, C_SUBMIT);
	sprintf(m->sasl_user, "%s@example.org", PICK(users));
	strcpy(m->sender, m->sasl_user);
	cs.mail_ok = cs.mail_tot = 1;
	cs.rcpt_ok = cs.rcpt_tot = m->nrcpt;
	cs.data_ok = cs.data_tot = 1;
	cs.quit = 1;
	push(a, OP_CLIENT, 0, 0);
	push(a, OP_MSGID, 0, 0);
	push(a, OP_QMGR, 0, 0);
	fmt_stats(&cs, a->disc);
	push(a, OP_DISCONNECT, 0, 0);
}

static void plan_dha(struct actor *a)
{
	struct cstat cs = { 0 };
	/* A harvester's first session tries a dictionary (21-80 addresses), so
	 * every harvester in the truth file is one a DHA rule must catch;
	 * later sessions of the same actor vary. */
	int n = a->conn_no == 0 ? rrange(21, 80) : rrange(3, 40), i;
	start_conn(a, &smtpd_w);
	bad_helo(a);
	rand_sender(a->m[0].sender);
	push(a, OP_CONNECT, 0, 0);
	cs.ehlo = 1;
	cs.mail_ok = cs.mail_tot = 1;
	cs.rcpt_tot = n;
	for (i = 0; i < n; i++)
		push(a, OP_NOQ_UNKNOWN, 0, 0);
	if (chance(0.15))
		push(a, OP_LOST, 0, AF_RCPT);
	else
		cs.quit = 1;
	fmt_stats(&cs, a->disc);
	push(a, OP_DISCONNECT, 0, 0);
}

static void plan_flood(struct actor *a)
{
	struct cstat cs = { 0 };
	int burst = a->conn_no;               /* connections so far in this burst */
	start_conn(a, &smtpd_w);
	push(a, OP_CONNECT, 0, 0);
	if (burst >= 30 && chance(0.25)) {
		push(a, OP_RATEWARN, 0, burst + 1 > 65535 ? 65535 : burst + 1);
	} else if (chance(0.08)) {
		cs.ehlo = 1;
		push(a, OP_LOST, 0, AF_EHLO);
	} else if (chance(0.05)) {
		push(a, OP_TIMEOUT, 0, AF_CONNECT);
	} else {
		push(a, OP_LOST, 0, AF_CONNECT);
	}
	fmt_stats(&cs, a->disc);
	push(a, OP_DISCONNECT, 0, 0);
}

static void plan_auth(struct actor *a)
{
	struct cstat cs = { 0 };
	int smtps = chance(0.2), n = rrange(3, 8), i;
	start_conn(a, smtps ? &smtps_w : &subm_w);
	a->svc = smtps ? "postfix/smtps/smtpd" : "postfix/submission/smtpd";
	push(a, OP_CONNECT, 0, 0);
	cs.ehlo = 1;
	if (!smtps) {
		push(a, OP_TLS, 0, 0);
		cs.ehlo = 2;
		cs.starttls = 1;
	}
	cs.auth_tot = n;
	for (i = 0; i < n; i++)
		push(a, OP_AUTHFAIL, 0, 0);
	if (chance(0.4))
		push(a, OP_LOST, 0, AF_AUTH);
	else
		cs.quit = 1;
	fmt_stats(&cs, a->disc);
	push(a, OP_DISCONNECT, 0, 0);
}

static void plan_spam(struct actor *a)
{
	struct cstat cs = { 0 };
	int dnsbl = chance(0.55), n = dnsbl ? rrange(1, 3) : rrange(1, 5), i;
	start_conn(a, &smtpd_w);
	bad_helo(a);
	rand_sender(a->m[0].sender);
	if (strcmp(a->cl->host, "unknown") == 0 && chance(0.3))
		push(a, OP_PTRWARN, 0, 0);
	push(a, OP_CONNECT, 0, 0);
	cs.ehlo = 1;
	cs.mail_ok = cs.mail_tot = 1;
	cs.rcpt_tot = n;
	for (i = 0; i < n; i++)
		push(a, dnsbl ? OP_DNSBL : OP_RELAY, 0, 0);
	if (chance(0.3))
		cs.data_tot = 1;                /* tries DATA anyway: 554 no valid recipients */
	if (chance(0.1))
		push(a, OP_LOST, 0, AF_RCPT);
	else
		cs.quit = 1;
	fmt_stats(&cs, a->disc);
	push(a, OP_DISCONNECT, 0, 0);
}

/* Plan the actor's next connection; 0 when it has no more. */
static int refill(struct actor *a)
{
	if (a->kind != K_SESSION || a->conns_left <= 0)
		return 0;
	a->conns_left--;
	a->svc = "postfix/smtpd";
	switch (a->cat) {
	case C_LEGIT: case C_BFLOOD: plan_mail_session(a); break;
	case C_SUBMIT: plan_submission(a); break;
	case C_DHA: plan_dha(a); break;
	case C_FLOOD: plan_flood(a); break;
	case C_AUTH: plan_auth(a); break;
	default: plan_spam(a); break;
	}
	return 1;
}

/* Session mix: weights per newly started actor (an actor may run several
 * connections in a row from the same client). */
static const int cat_weight[C_N] = {
	[C_LEGIT] = 620, [C_SUBMIT] = 45, [C_DHA] = 36, [C_FLOOD] = 2, [C_BFLOOD] = 2,
	[C_AUTH] = 15, [C_SPAM] = 200,
};

/*
 * How fast an actor runs compared with an ordinary session (the scheduler
 * picks actors in proportion): attacks come in bursts, far faster than mail
 * from a legitimate MTA, which is what makes them detectable.
 */
static const int cat_speed[C_N] = {
	[C_LEGIT] = 1, [C_SUBMIT] = 1, [C_DHA] = 4, [C_FLOOD] = 24, [C_BFLOOD] = 12,
	[C_AUTH] = 4, [C_SPAM] = 1, [C_MX] = 1,
};
#define MAX_SPEED 24
#define TARGET_SESSIONS 14

static void spawn_session(void)
{
	int tot = 0, c, r;
	for (c = 0; c < C_N; c++)
		tot += cat_weight[c];
	r = (int)rbelow((uint32_t)tot);
	for (c = 0; r >= cat_weight[c]; c++)
		r -= cat_weight[c];

	struct actor *a = actor_new(K_SESSION);
	a->cat = c;
	a->conns_left = 1;
	switch (c) {
	case C_LEGIT:
	case C_SUBMIT:
		a->cl = pick(chance(0.2) ? &legit6 : &legit4, 1);
		break;
	case C_DHA: a->cl = pick(&dha, 1); a->conns_left = rrange(1, 4); break;
	case C_FLOOD: a->cl = pick(&flood, 0); a->conns_left = rrange(90, 300); break;
	case C_BFLOOD: a->cl = pick(&bflood, 0); a->conns_left = rrange(40, 90); break;
	case C_AUTH: a->cl = pick(&authp, 1); a->conns_left = rrange(4, 10); break;
	default: a->cl = pick(&spam, 1); break;
	}
	refill(a);
}

static void plan_flow(struct actor *a);

/* Start a delivery, own-bounce or pickup flow for a copy of *src. */
static void spawn_flow(int kind, const struct msg *src)
{
	struct actor *a = actor_new(kind);
	a->m[0] = *src;
	plan_flow(a);
}

/* --------------------------------------------------------- running ops --- */
static void write_delivery(const struct msg *m, int i)
{
	char d[16], d1[16], d2[16], d3[16], d4[16];
	uint64_t total = now_us - m->t_arrive, before = m->t_active - m->t_arrive;
	uint64_t rest = total - before;
	uint64_t r1 = rest * rbelow(100) / 1000;                       /* 0-10 %: qmgr */
	uint64_t r2 = m->tr[i] == T_SMTP ? rest * (200 + rbelow(500)) / 1000 : 0;  /* connection setup */
	fmt_delay(total, d);
	fmt_delay(before, d1);
	fmt_delay(r1, d2);
	fmt_delay(r2, d3);
	fmt_delay(rest - r1 - r2, d4);
	if (m->tr[i] == T_SMTP) {
		struct client *mx = pick(&remote_mx, 0);
		lbegin("postfix/smtp", smtp_pid[rbelow(ARRAY_LEN(smtp_pid))]);
		lprintf("%s: to=<%s>, relay=%s[%s]:25, delay=%s, delays=%s/%s/%s/%s, dsn=2.0.0, "
			"status=sent (250 2.0.0 Ok: queued as %X%05X)", m->qid, m->rcpt[i],
			mx->host, mx->ip, d, d1, d2, d3, d4, (unsigned)rbelow(0xfffff), (unsigned)rbelow(0xfffff));
	} else {
		int local = m->tr[i] == T_LOCAL;
		lbegin(local ? "postfix/local" : "postfix/virtual",
		       local ? local_pid[rbelow(ARRAY_LEN(local_pid))] : virtual_pid[rbelow(ARRAY_LEN(virtual_pid))]);
		lcat(m->qid, ": to=<", m->rcpt[i], ">, ", (char *)NULL);
		if (m->orig[i][0])
			lcat("orig_to=<", m->orig[i], ">, ", (char *)NULL);
		lcat("relay=", local ? "local" : "virtual", ", delay=", d, ", delays=", d1, "/", d2, "/", d3, "/",
		     d4, ", ", (char *)NULL);
		if (i == m->bounce_idx) {
			char user[80];
			sscanf(m->rcpt[i], "%79[^@]", user);
			lprintf("dsn=5.2.2, status=bounced (cannot update mailbox /var/mail/%s for user %s. "
				"error writing message: File too large)", user, user);
		} else {
			lput(local ? "dsn=2.0.0, status=sent (delivered to mailbox)" : "dsn=2.0.0, status=sent (delivered to maildir)");
		}
	}
	lend();
}

static void put_client(const struct client *c) { lcat(c->host, "[", c->ip, "]", (char *)NULL); }

static void reject_tail(const struct actor *a, const char *from, const char *to)
{
	lcat("; from=<", from, "> to=<", to, "> proto=ESMTP helo=<", a->helo, ">", (char *)NULL);
}

/* Write the actor's next line. */
static void run_op(struct actor *a)
{
	const struct op *o = &a->ops[a->pos++];
	struct msg *m = &a->m[o->a];
	struct client *c = a->cl;
	char buf[96];

	switch (o->op) {
	case OP_PTRWARN:
		lbegin(a->svc, a->pid);
		snprintf(buf, sizeof buf, badpat[rbelow(ARRAY_LEN(badpat))], rrange(1, 250));
		if (c->v6)
			lprintf("warning: hostname %s does not resolve to address %s: Name or service not known", buf, c->ip);
		else
			lprintf("warning: hostname %s does not resolve to address %s", buf, c->ip);
		lend();
		break;
	case OP_CONNECT:
		lbegin(a->svc, a->pid);
		lput("connect from ");
		put_client(c);
		lend();
		ev[E_CONNECT]++;
		break;
	case OP_TLS:
		lbegin(a->svc, a->pid);
		lput(a->kind == K_SESSION && a->cat == C_SUBMIT ? "Trusted" : "Anonymous");
		lput(" TLS connection established from ");
		put_client(c);
		lput(chance(0.8) ? ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
			"server-signature RSA-PSS (2048 bits) server-digest SHA256"
			: ": TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)");
		lend();
		break;
	case OP_CLIENT:
		new_qid(m->qid);
		m->t_arrive = now_us;
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": client=", (char *)NULL);
		put_client(c);
		if (m->sasl_user[0])
			lprintf(", sasl_method=PLAIN, sasl_username=%s", m->sasl_user);
		lend();
		break;
	case OP_RCPT_UNK_Q:
		lbegin(a->svc, a->pid);
		lprintf("%s: reject: RCPT from ", m->qid);
		put_client(c);
		lprintf(": 550 5.1.1 <%s>: Recipient address rejected: User unknown in local recipient table", m->unk);
		reject_tail(a, m->sender, m->unk);
		lend();
		ev[E_RCPT_UNKNOWN]++;
		break;
	case OP_MSGID:
		lbegin("postfix/cleanup", cleanup_pid[rbelow(ARRAY_LEN(cleanup_pid))]);
		if (a->kind == K_PICKUP) {
			int y, mo, d, h, mi, s;
			civil(now_us / 1000000, &y, &mo, &d, &h, &mi, &s);
			lprintf("%s: message-id=<%04d%02d%02d%02d%02d%02d.%s@mx1.example.org>", m->qid,
				y, mo + 1, d, h, mi, s, m->qid);
		} else if (!m->sender[0] && chance(0.4))
			lprintf("%s: message-id=<>", m->qid);
		else
			lprintf("%s: message-id=<%08X.%05X%s@%s>", m->qid, (unsigned)(rnd() >> 32),
				(unsigned)rbelow(0xfffff), chance(0.3) ? ".JavaMail" : "",
				strcmp(c->host, "unknown") ? c->host : "mail.example.net");
		lend();
		break;
	case OP_QMGR:
		m->t_active = now_us;
		lbegin("postfix/qmgr", qmgr_pid);
		lcat(m->qid, ": from=<", m->sender, ">, size=", (char *)NULL);
		lnum((unsigned long)m->size);
		lput(", nrcpt=");
		lnum((unsigned long)m->nrcpt);
		lput(" (queue active)");
		lend();
		if (m->sender[0]) {
			ev[E_MSG_ACCEPTED]++;
		} else {
			ev[E_BOUNCE_IN]++;
			if (a->cat == C_BFLOOD)
				c->seen = 1;
		}
		spawn_flow(K_DELIVERY, m);
		break;
	case OP_NOQ_UNKNOWN: {
		int virt = chance(0.25);
		const char *dom = virt ? PICK(ldomain_virtual) : "example.org";
		if (chance(0.5))
			snprintf(buf, sizeof buf, "%s@%s", PICK(guesses), dom);
		else
			snprintf(buf, sizeof buf, "%s%d@%s", PICK(guesses), rrange(1, 999), dom);
		lbegin(a->svc, a->pid);
		lput("NOQUEUE: reject: RCPT from ");
		put_client(c);
		lcat(": 550 5.1.1 <", buf, ">: Recipient address rejected: User unknown in ",
		     virt ? "virtual mailbox" : "local recipient", " table", (char *)NULL);
		reject_tail(a, a->m[0].sender, buf);
		lend();
		ev[E_RCPT_UNKNOWN]++;
		if (a->cat == C_DHA)
			c->seen = 1;
		break;
	}
	case OP_RELAY:
		snprintf(buf, sizeof buf, "%s@%s", PICK(guesses), PICK(sdomains));
		lbegin(a->svc, a->pid);
		lput("NOQUEUE: reject: RCPT from ");
		put_client(c);
		lprintf(": 454 4.7.1 <%s>: Relay access denied", buf);
		reject_tail(a, a->m[0].sender, buf);
		lend();
		ev[E_RELAY_DENIED]++;
		c->seen = 1;
		break;
	case OP_DNSBL: {
		unsigned char tr;
		rand_local_rcpt(buf, &tr);
		lbegin(a->svc, a->pid);
		lput("NOQUEUE: reject: RCPT from ");
		put_client(c);
		lprintf(": 554 5.7.1 Service unavailable; Client host [%s] blocked using zen.example.test", c->ip);
		if (chance(0.5))
			lprintf("; https://dnsbl.example.test/query/ip/%s", c->ip);
		reject_tail(a, a->m[0].sender, buf);
		lend();
		ev[E_DNSBL]++;
		break;
	}
	case OP_AUTHFAIL:
		lbegin(a->svc, a->pid);
		lput("warning: ");
		put_client(c);
		if (chance(0.7))
			lput(": SASL LOGIN authentication failed: UGFzc3dvcmQ6");
		else
			lput(": SASL PLAIN authentication failed: authentication failure");
		if (chance(0.2))
			lprintf(", sasl_username=%s@example.org", PICK(guesses));
		lend();
		ev[E_AUTH_FAIL]++;
		c->seen = 1;
		break;
	case OP_RATEWARN:
		lbegin(a->svc, a->pid);
		lprintf("warning: Connection rate limit exceeded: %u from ", o->b);
		put_client(c);
		lput(" for service smtp");
		lend();
		ev[E_RATE_LIMITED]++;
		c->seen = 1;
		break;
	case OP_LOST:
	case OP_TIMEOUT:
		lbegin(a->svc, a->pid);
		lcat(o->op == OP_LOST ? "lost connection after " : "timeout after ", after_name[o->b], (char *)NULL);
		if (o->b == AF_DATA)
			lprintf(" (%d bytes)", rrange(0, 60000));
		lput(" from ");
		put_client(c);
		lend();
		ev[E_LOST_CONN]++;
		if (a->cat == C_FLOOD)
			c->seen = 1;
		break;
	case OP_DISCONNECT:
		lbegin(a->svc, a->pid);
		lput("disconnect from ");
		put_client(c);
		lput(a->disc);
		lend();
		ev[E_DISCONNECT]++;
		wp_give(a->wp, a->worker);
		a->worker = -1;
		break;
	case OP_DELIVER:
		write_delivery(m, o->b);
		break;
	case OP_BCLEANUP:
		new_qid(a->newqid);
		lbegin("postfix/cleanup", cleanup_pid[rbelow(ARRAY_LEN(cleanup_pid))]);
		{
			int y, mo, d, h, mi, s;
			civil(now_us / 1000000, &y, &mo, &d, &h, &mi, &s);
			lprintf("%s: message-id=<%04d%02d%02d%02d%02d%02d.%s@mx1.example.org>", a->newqid,
				y, mo + 1, d, h, mi, s, a->newqid);
		}
		lend();
		break;
	case OP_BNOTICE: {
		lbegin("postfix/bounce", bounce_pid[rbelow(ARRAY_LEN(bounce_pid))]);
		lprintf("%s: sender non-delivery notification: %s", m->qid, a->newqid);
		lend();
		struct msg nb = { 0 };
		strcpy(nb.qid, a->newqid);
		strcpy(nb.rcpt[0], m->sender);
		nb.tr[0] = T_SMTP;
		nb.nrcpt = 1;
		nb.size = 3000 + m->size / 4 + rrange(0, 2000);
		nb.bounce_idx = -1;
		nb.t_arrive = now_us;
		spawn_flow(K_OWNBOUNCE, &nb);
		break;
	}
	case OP_REMOVED:
		lbegin("postfix/qmgr", qmgr_pid);
		lcat(m->qid, ": removed", (char *)NULL);
		lend();
		break;
	case OP_OB_QMGR:
	case OP_PK_QMGR:
		m->t_active = now_us;
		lbegin("postfix/qmgr", qmgr_pid);
		lprintf("%s: from=<%s>, size=%d, nrcpt=1 (queue active)", m->qid, m->sender, m->size);
		lend();
		break;
	case OP_PK_PICKUP:
		new_qid(m->qid);
		m->t_arrive = now_us;
		lbegin("postfix/pickup", pickup_pid);
		lprintf("%s: uid=0 from=<root>", m->qid);
		lend();
		break;
	}
}

/* Delivery flows plan all their lines when they start. */
static void plan_flow(struct actor *a)
{
	struct msg *m = &a->m[0];
	int i;
	a->nops = a->pos = 0;
	switch (a->kind) {
	case K_DELIVERY:
		for (i = 0; i < m->nrcpt; i++) {
			push(a, OP_DELIVER, 0, i);
			if (i == m->bounce_idx) {
				push(a, OP_BCLEANUP, 0, 0);
				push(a, OP_BNOTICE, 0, 0);
			}
		}
		push(a, OP_REMOVED, 0, 0);
		break;
	case K_OWNBOUNCE:
		push(a, OP_OB_QMGR, 0, 0);
		push(a, OP_DELIVER, 0, 0);
		push(a, OP_REMOVED, 0, 0);
		break;
	case K_PICKUP:
		push(a, OP_PK_PICKUP, 0, 0);
		push(a, OP_MSGID, 0, 0);
		push(a, OP_PK_QMGR, 0, 0);
		push(a, OP_DELIVER, 0, 0);
		push(a, OP_REMOVED, 0, 0);
		break;
	}
}

/* ------------------------------------------------------- other programs --- */
static void noise_line(void)
{
	char ses[17];
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int r = (int)rbelow(100), i;
	for (i = 0; i < 16; i++)
		ses[i] = b64[rbelow(64)];
	ses[16] = 0;
	if (r < 28) {
		struct client *c = pick(chance(0.2) ? &legit6 : &legit4, 1);
		lbegin("dovecot", -1);
		lprintf("imap-login: Login: user=<%s@example.org>, method=PLAIN, rip=%s, lip=%s, mpid=%d, TLS, session=<%s>",
			PICK(users), c->ip, c->v6 ? "2001:db8:1::25" : "203.0.113.10", rrange(1000, 60000), ses);
	} else if (r < 48) {
		lbegin("dovecot", -1);
		lprintf("imap(%s@example.org)<%d><%s>: Logged out in=%d out=%d deleted=0 expunged=0 trashed=0 "
			"hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0", PICK(users), rrange(1000, 60000), ses,
			rrange(50, 3000), rrange(300, 900000));
	} else if (r < 63) {
		struct client *c = pick(&spam, 0);
		uint64_t up = now_us + 3912345678ULL;
		lbegin("kernel", -1);
		if (c->v6)
			lprintf("[%6u.%06u] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:86:dd "
				"SRC=%s DST=2001:db8:1::25 LEN=60 TC=0 HOPLIMIT=51 FLOWLBL=0 "
				"PROTO=TCP SPT=%d DPT=23 WINDOW=1024 RES=0x00 SYN URGP=0",
				(unsigned)(up / 1000000), (unsigned)(up % 1000000), c->ip, rrange(1024, 65535));
		else
			lprintf("[%6u.%06u] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 "
				"SRC=%s DST=203.0.113.10 LEN=44 TOS=0x00 PREC=0x00 TTL=%d ID=%d PROTO=TCP SPT=%d "
				"DPT=%d WINDOW=1024 RES=0x00 SYN URGP=0", (unsigned)(up / 1000000),
				(unsigned)(up % 1000000), c->ip, rrange(40, 250), rrange(1, 65535),
				rrange(1024, 65535), chance(0.5) ? 23 : 3389);
	} else if (r < 78) {
		int u = (int)rbelow(ARRAY_LEN(units));
		lbegin("systemd", 1);
		switch (rbelow(4)) {
		case 0: lprintf("Starting %s - %s...", units[u], unitdesc[u]); break;
		case 1: lprintf("%s: Deactivated successfully.", units[u]); break;
		case 2: lprintf("Finished %s - %s.", units[u], unitdesc[u]); break;
		default: { int s = rrange(100, 9999);
			lprintf("Started session-%d.scope - Session %d of User root.", s, s); }
		}
	} else {
		lbegin("CRON", new_pid());
		switch (rbelow(3)) {
		case 0: lput("pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"); break;
		case 1: lput("pam_unix(cron:session): session closed for user root"); break;
		default:
			lprintf("(root) CMD (%s)", PICK(cron_cmds));
			if (chance(0.05)) {     /* the job mailed its output: a local pickup */
				struct msg m = { 0 };
				strcpy(m.sender, "root@mx1.example.org");
				strcpy(m.rcpt[0], "root@mx1.example.org");
				strcpy(m.orig[0], "root");
				m.tr[0] = T_LOCAL;
				m.nrcpt = 1;
				m.size = rrange(600, 4000);
				m.bounce_idx = -1;
				spawn_flow(K_PICKUP, &m);
			}
		}
	}
	lend();
}

/* anvil's periodic statistics (every 10 minutes of log time). */
static uint64_t next_anvil_us = 600000000ULL;
static int anvil_pending;
static struct client *anvil_client;
static uint64_t anvil_at;

static void anvil_line(void)
{
	char at[32];
	fmt_bsd(anvil_at / 1000000, at);
	lbegin("postfix/anvil", anvil_pid);
	switch (anvil_pending) {
	case 3: lprintf("statistics: max connection rate %d/60s for (smtp:%s) at %s", rrange(3, 60), anvil_client->ip, at); break;
	case 2: lprintf("statistics: max connection count %d for (smtp:%s) at %s", rrange(1, 6), anvil_client->ip, at); break;
	default: lprintf("statistics: max cache size %d at %s", rrange(5, 80), at); break;
	}
	lend();
	if (anvil_pending >= 2)
		ev[E_RATE_LIMITED]++;	/* anvil's per-client peaks are rate_limited events */
	anvil_pending--;
}

/* ----------------------------------------------------------- main loop --- */
static void step(void)
{
	now_us += rbelow(172800);               /* ~86.4 ms a line: 1M lines ~ one day */
	if (anvil_pending) {
		anvil_line();
		return;
	}
	if (now_us >= next_anvil_us) {
		next_anvil_us += 600000000ULL;
		anvil_pending = 3;
		anvil_client = chance(0.6) ? pick(&flood, 0) : pick(&legit4, 1);
		anvil_at = now_us - rbelow(590000000);
		anvil_line();
		return;
	}
	if (chance(0.10)) {
		noise_line();
		return;
	}
	while (nsessions < TARGET_SESSIONS)
		spawn_session();
	for (;;) {
		int i = (int)rbelow((uint32_t)nact);
		struct actor *a = act[i];
		/* Rejection sampling: pick in proportion to the actor's speed. */
		if (a->kind == K_SESSION && (int)rbelow(MAX_SPEED) >= cat_speed[a->cat])
			continue;
		if (a->pos >= a->nops) {
			if (a->kind == K_SESSION && refill(a))
				continue;
			actor_free(i);
			while (nsessions < TARGET_SESSIONS)
				spawn_session();
			continue;
		}
		run_op(a);
		return;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: genlog [-n LINES] [-s SEED] [-o LOGFILE] [-t TRUTHFILE] [--iso]\n"
	    "       genlog --distinct CLIENTS [-o LOGFILE]\n");
	exit(64);
}

static void write_list(FILE *f, const char *name, const struct pool *p, int first)
{
	int n = 0;
	fprintf(f, "%s\"%s\":[", first ? "" : ",", name);
	for (int i = 0; i < p->n; i++)
		if (p->c[i].seen)
			fprintf(f, "%s\"%s\"", n++ ? "," : "", p->c[i].ip);
	fputc(']', f);
}

/*
 * --distinct N: a botnet of N clients, each in its own IPv6 /64, each
 * trying two unknown recipients in one session, all within five minutes.
 * No client comes near a threshold, so a policy must simply track all of
 * them at once: the memory benchmark for a million distinct clients.
 */
static int distinct_clients(unsigned long n)
{
	uint64_t t0 = 10 * 3600ULL * 1000000, span = 300ULL * 1000000;
	for (unsigned long i = 0; i < n; i++) {
		char ip[48];
		now_us = t0 + span * i / n;
		snprintf(ip, sizeof ip, "2001:db8:%lx:%lx::%lx", (i >> 16) & 0xffff, i & 0xffff, 1 + i % 254);
		lbegin("postfix/smtpd", 3000 + (int)(i % 60));
		lcat("connect from unknown[", ip, "]", (char *)NULL);
		lend();
		for (int k = 0; k < 2; k++) {
			lbegin("postfix/smtpd", 3000 + (int)(i % 60));
			lprintf("NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <%s%lu@example.org>: Recipient "
			    "address rejected: User unknown in local recipient table; from=<x@example.net> "
			    "to=<%s%lu@example.org> proto=ESMTP helo=<bot>", ip, guesses[k], i, guesses[k], i);
			lend();
		}
		lbegin("postfix/smtpd", 3000 + (int)(i % 60));
		lcat("disconnect from unknown[", ip, "] ehlo=1 mail=1 rcpt=0/2 quit=1 commands=3/5", (char *)NULL);
		lend();
	}
	return fflush(logfp) != 0 || ferror(logfp) ? 74 : 0;
}

int main(int argc, char **argv)
{
	unsigned long distinct = 0;
	unsigned long long seed = 1;
	const char *logfile = NULL, *truthfile = NULL;
	char *end;
	int i;

	maxlines = 1000000;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		if (strcmp(arg, "--iso") == 0) {
			iso = 1;
			continue;
		}
		if (strcmp(arg, "--distinct") == 0 && i + 1 < argc) {
			distinct = strtoul(argv[++i], &end, 10);
			if (*end || distinct == 0)
				usage();
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			usage();
		if (arg[0] != '-' || !strchr("nsot", arg[1]) || arg[1] == 0)
			usage();
		val = arg[2] ? arg + 2 : (i + 1 < argc ? argv[++i] : NULL);
		if (!val)
			usage();
		switch (arg[1]) {
		case 'n':
			maxlines = strtoull(val, &end, 10);
			if (*end || val[0] == '-')
				usage();
			break;
		case 's':
			seed = strtoull(val, &end, 0);
			if (*end)
				usage();
			break;
		case 'o': logfile = val; break;
		case 't': truthfile = val; break;
		}
	}

	uint64_t sm = seed;
	for (i = 0; i < 4; i++)
		rs[i] = splitmix64(&sm);

	logfp = stdout;
	if (logfile && !(logfp = fopen(logfile, "w"))) {
		perror(logfile);
		return 73;
	}
	static char obuf[1 << 20];
	setvbuf(logfp, obuf, _IOFBF, sizeof obuf);
	if (distinct)
		return distinct_clients(distinct);

	/* Address plan: every usable IPv4 address of the two documentation
	 * /24s except the server's own, shuffled, dealt out to disjoint pools. */
	static char v4[512][16];
	int nv4 = 0, v4next = 0;
	for (i = 1; i < 255; i++) {
		sprintf(v4[nv4++], "198.51.100.%d", i);
		if (i != 10)
			sprintf(v4[nv4++], "203.0.113.%d", i);
	}
	for (i = nv4 - 1; i > 0; i--) {
		int j = (int)rbelow((uint32_t)i + 1);
		char t[16];
		memcpy(t, v4[i], 16);
		memcpy(v4[i], v4[j], 16);
		memcpy(v4[j], t, 16);
	}
	make_pool(&dha, 28, 8, v4, &v4next, badpat, ARRAY_LEN(badpat), 1.0);
	make_pool(&flood, 9, 3, v4, &v4next, badpat, ARRAY_LEN(badpat), 1.0);
	make_pool(&bflood, 5, 1, v4, &v4next, hostpat, ARRAY_LEN(hostpat), 0.3);
	make_pool(&authp, 18, 5, v4, &v4next, badpat, ARRAY_LEN(badpat), 1.0);
	make_pool(&spam, 45, 12, v4, &v4next, badpat, ARRAY_LEN(badpat), 0.6);
	make_pool(&remote_mx, 20, 6, v4, &v4next, hostpat, ARRAY_LEN(hostpat), 0.0);
	make_pool(&legit4, nv4 - v4next, 0, v4, &v4next, hostpat, ARRAY_LEN(hostpat), 0.12);
	make_pool(&legit6, 0, 120, v4, &v4next, hostpat, ARRAY_LEN(hostpat), 0.12);
	/* IPv6 pools were drawn independently: keep them disjoint too. */
	{
		struct pool *all[] = { &dha, &flood, &bflood, &authp, &spam, &remote_mx, &legit6 };
		for (size_t pi = 0; pi < ARRAY_LEN(all); pi++)
			for (int ci = 0; ci < all[pi]->n; ci++) {
				struct client *c = &all[pi]->c[ci];
				if (!c->v6)
					continue;
				for (size_t pj = 0; pj < pi; pj++)
					while (ip_taken(all[pj]->c, all[pj]->n, c->ip))
						rand_ip6(c->ip);
			}
	}

	for (i = 0; i < 60; i++)
		smtpd_w.w[i].pid = new_pid();
	smtpd_w.n = 60;
	for (i = 0; i < 20; i++)
		subm_w.w[i].pid = new_pid();
	subm_w.n = 20;
	for (i = 0; i < 10; i++)
		smtps_w.w[i].pid = new_pid();
	smtps_w.n = 10;
	qmgr_pid = 1102;
	anvil_pid = new_pid();
	pickup_pid = new_pid();
	for (i = 0; i < (int)ARRAY_LEN(cleanup_pid); i++) cleanup_pid[i] = new_pid();
	for (i = 0; i < (int)ARRAY_LEN(local_pid); i++) local_pid[i] = new_pid();
	for (i = 0; i < (int)ARRAY_LEN(virtual_pid); i++) virtual_pid[i] = new_pid();
	for (i = 0; i < (int)ARRAY_LEN(smtp_pid); i++) smtp_pid[i] = new_pid();
	for (i = 0; i < (int)ARRAY_LEN(bounce_pid); i++) bounce_pid[i] = new_pid();

	while (nlines < maxlines)
		step();

	if (fflush(logfp) != 0 || ferror(logfp)) {
		perror(logfile ? logfile : "stdout");
		return 74;
	}
	if (logfile)
		fclose(logfp);

	if (truthfile) {
		FILE *f = fopen(truthfile, "w");
		if (!f) {
			perror(truthfile);
			return 73;
		}
		fprintf(f, "{\"lines\":%llu,\"events\":{", nlines);
		for (i = 0; i < E_N; i++)
			fprintf(f, "%s\"%s\":%llu", i ? "," : "", ev_name[i], ev[i]);
		fputs("},\"attackers\":{", f);
		write_list(f, "dha", &dha, 1);
		write_list(f, "conn_flood", &flood, 0);
		write_list(f, "bounce_flood", &bflood, 0);
		write_list(f, "auth", &authp, 0);
		write_list(f, "spam", &spam, 0);	/* may be acted on; need not be */
		fputs("},\"legit\":[", f);
		/* Every legitimate client, whether or not it sent mail in this log: none may be acted on. */
		for (int li = 0, nl = 0; li < legit4.n + legit6.n; li++) {
			struct client *lc = li < legit4.n ? &legit4.c[li] : &legit6.c[li - legit4.n];
			fprintf(f, "%s\"%s\"", nl++ ? "," : "", lc->ip);
		}
		fputs("]}\n", f);
		if (fclose(f) != 0) {
			perror(truthfile);
			return 74;
		}
	}
	return 0;
}
