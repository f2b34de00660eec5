/*
 * genlog.c: reproducible, realistic Postfix, Sendmail or Exim log generator
 * for the parser benchmark, with an exact "truth" file of the events a
 * correct parser must produce for the lines written.  The Postfix log is
 * described here; the Sendmail and Exim logs (--mta) write the same traffic
 * in those MTAs' words (see "Sendmail and Exim" below and bench/README.md).
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
 * Usage: genlog [--mta postfix|sendmail|exim] [-n LINES] [-s SEED] [-o LOGFILE]
 *               [-t TRUTHFILE] [--iso (postfix, sendmail)] [--exim-new-ids (exim)]
 *               [--harvest48 (postfix: add a harvester rotating through the /64s of one /48)]
 * (--mta postfix, the default, writes exactly what genlog wrote before --mta existed.)
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
       E_LOST_CONN, E_RATE_LIMITED, E_MSG_ACCEPTED, E_BOUNCE_IN,
       E_N_POSTFIX,                     /* the Postfix truth file lists the types above */
       E_RCPT_REJECT = E_N_POSTFIX, E_CLIENT_REJECT, E_MSG_REJECT, E_PROTOCOL_ERROR, E_N };
static const char *ev_name[E_N] = { "connect", "disconnect", "rcpt_unknown", "relay_denied",
	"dnsbl_reject", "auth_fail", "lost_conn", "rate_limited", "msg_accepted", "bounce_in",
	"rcpt_reject", "client_reject", "msg_reject", "protocol_error" };
static unsigned long long ev[E_N];

/* Which MTA's log is written (--mta); Exim 4.97+ message IDs (--exim-new-ids). */
enum { MTA_POSTFIX, MTA_SENDMAIL, MTA_EXIM };
static int mta = MTA_POSTFIX, exim_new_ids;

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
	char qid[24];                   /* Postfix/Sendmail queue ID, Exim message ID (23 chars from 4.97) */
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
	/* Sendmail and Exim only */
	char msgid[96];                 /* Message-ID header, without <> */
	int pend;                       /* Sendmail: bare "User unknown" lines waiting for the QID's address */
	int nacc;                       /* Sendmail: nrcpts= of the from= line */
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
	char newqid[24];
	/* Sendmail and Exim only */
	char rel[240];                  /* Sendmail "host [IP]"; Exim H= text after HELO ("host (helo) [IP]:port I=[..]:25") */
	char rel0[160];                 /* Exim H= text before HELO */
	char tlsx[96];                  /* Exim " X=... CV=no" of a TLS session, "" without TLS */
	const char *daemon, *proto;     /* Sendmail daemon=, proto= */
	int port, seq, lport;           /* client port; Sendmail QID sequence; Exim local port */
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

/* Sendmail and Exim modes (below the Postfix code) */
static void sm_refill(struct actor *a);
static void sm_run_op(struct actor *a);
static void ex_run_op(struct actor *a);
static void ex_refill(struct actor *a);
static void sm_cron_mail(void);
static void step_other(void);

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
	if (mta == MTA_SENDMAIL) {
		sm_refill(a);
		return 1;
	}
	if (mta == MTA_EXIM) {
		ex_refill(a);
		return 1;
	}
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
			if (chance(0.05)) {     /* the job mailed its output */
				if (mta == MTA_SENDMAIL) {
					sm_cron_mail(); /* through sendmail's MSP */
				} else {        /* a Postfix local pickup */
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
/*
 * The scheduler, for every MTA: keep TARGET_SESSIONS sessions alive, pick an
 * active actor (sessions in proportion to their speed) and let run write its
 * next line.
 */
static void run_next_actor(void (*run)(struct actor *))
{
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
		run(a);
		return;
	}
}

static void step(void)
{
	if (mta != MTA_POSTFIX) {
		step_other();
		return;
	}
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
	run_next_actor(run_op);
}

/* ===================================================== Sendmail and Exim === */
/*
 * The same clients, pools, traffic mix and scheduler as the Postfix log,
 * written as a Debian 12 sm-mta (8.17, LogLevel 9, syslog) or Exim 4.96
 * mainlog would write them.  The truth is counted by the op that writes the
 * line that gives the event, as for Postfix, with one difference: Sendmail's
 * bare "QID: <addr>... User unknown" lines carry no address, so their
 * rcpt_unknown events are counted by the op that writes the QID's next line
 * with the client's address (lost input channel or from=); at a -n cut
 * between the two they are not counted (a parser holds them, then expires them).
 */

/* Message-ID header of a message from client c. */
static void rand_msgid(char *out, const struct client *c)
{
	const char *dom = strcmp(c->host, "unknown") ? c->host : "mail.example.net";
	switch (rbelow(3)) {
	case 0:
		sprintf(out, "%08X.%05X@%s", (unsigned)(rnd() >> 32), (unsigned)rbelow(0xfffff), dom);
		break;
	case 1:
		sprintf(out, "%08x%08x%04x@%s", (unsigned)(rnd() >> 32), (unsigned)(rnd() >> 32), (unsigned)rbelow(0xffff), dom);
		break;
	default:
		sprintf(out, "%u.%u.JavaMail.app@%s", (unsigned)rbelow(99999999), (unsigned)rbelow(999999), dom);
	}
}

/* A guessed address of a harvester or spammer in our domains. */
static void rand_guess(char *out, size_t n)
{
	const char *dom = chance(0.25) ? PICK(ldomain_virtual) : "example.org";
	if (chance(0.5))
		snprintf(out, n, "%s@%s", PICK(guesses), dom);
	else
		snprintf(out, n, "%s%d@%s", PICK(guesses), rrange(1, 999), dom);
}

static void mark_seen(struct actor *a)
{
	if (a->kind == K_SESSION && a->cat != C_LEGIT && a->cat != C_SUBMIT)
		a->cl->seen = 1;
}

/* -------------------------------------------------------------- Sendmail --- */
enum {
	K_SMDELIV = 16, K_SMMSP,                        /* Sendmail flows */
	K_EXDELIV, K_EXLOCAL, K_EXAPP, K_EXQRUN         /* Exim flows */
};

enum {
	SM_STARTTLS = 64, SM_CHK_UNK, SM_BARE_UNK, SM_RELAY, SM_DNSBL, SM_ACCESS, SM_CHK_MAIL,
	SM_CHK_RELAY, SM_FROM, SM_LOST, SM_NOISSUE, SM_ATTACK, SM_RCPTFLOOD, SM_TIMEOUT,
	SM_PREGREET, SM_AUTHFAIL,
	SMD_TLSCLIENT, SMD_TO, SMD_DSN, SMD_DSNTO,
	SMM_FROM, SMM_MTAFROM, SMM_TO, SMM_LOCALTO, SMM_QDSN
};

static const char b60[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx";

/* Sendmail 8.17 queue ID: year%60, month, day, hour, minute, second (one
 * base-60 character each), a 2-character sequence, the pid in 6+ digits. */
static void sm_qid(char *out, int pid, int *seq)
{
	int y, mo, d, h, mi, s, q = *seq % 3600;
	civil(now_us / 1000000, &y, &mo, &d, &h, &mi, &s);
	(*seq)++;
	sprintf(out, "%c%c%c%c%c%c%c%c%06d", b60[(y - 1900) % 60], b60[mo], b60[d], b60[h], b60[mi], b60[s],
		b60[q / 60], b60[q % 60], pid);
}

/* Client address as Sendmail writes it: "IPv6:" before IPv6 addresses,
 * whose hex digits are upper case for about a third of the clients. */
static void sm_ip(const struct client *c, char *out)
{
	const char *s;
	char *p = out;
	int up;
	if (!c->v6) {
		strcpy(out, c->ip);
		return;
	}
	up = (unsigned char)c->ip[strlen(c->ip) - 1] % 3 == 0;
	p += sprintf(p, "IPv6:");
	for (s = c->ip; *s; s++)
		*p++ = up && *s >= 'a' && *s <= 'f' ? (char)(*s - 'a' + 'A') : *s;
	*p = 0;
}

/* "HH:MM:SS", "D+HH:MM:SS" from microseconds. */
static void sm_delay(uint64_t us, char *out)
{
	uint64_t s = us / 1000000;
	if (s >= 86400)
		sprintf(out, "%u+%02u:%02u:%02u", (unsigned)(s / 86400), (unsigned)(s % 86400 / 3600),
			(unsigned)(s % 3600 / 60), (unsigned)(s % 60));
	else
		sprintf(out, "%02u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s % 3600 / 60), (unsigned)(s % 60));
}

/* A new sm-mta child for a connection: pid, QID sequence, the client as
 * Sendmail names it ("host [IP]", "[IP]", "host [IP] (may be forged)"). */
static void sm_start(struct actor *a, int submission, int forged)
{
	char ip[64];
	a->pid = new_pid();
	a->svc = chance(0.05) ? "sm-acceptingconnections" : "sm-mta";
	a->seq = (int)rbelow(3600);
	a->daemon = submission ? (a->cl->v6 ? "MSP-v6" : "MSP-v4") : (a->cl->v6 ? "MTA-v6" : "MTA-v4");
	a->nops = a->pos = 0;
	a->conn_no++;
	sm_ip(a->cl, ip);
	if (strcmp(a->cl->host, "unknown") == 0)
		snprintf(a->rel, sizeof a->rel, "[%s]", ip);
	else
		snprintf(a->rel, sizeof a->rel, "%s [%s]%s", a->cl->host, ip, forged ? " (may be forged)" : "");
	for (int i = 0; i < 2; i++) {
		a->m[i].pend = 0;
		a->m[i].nacc = 0;
		a->m[i].bounce_idx = -1;
		a->m[i].nrcpt = 0;
		a->m[i].unk[0] = 0;
	}
	sm_qid(a->m[0].qid, a->pid, &a->seq);   /* the envelope exists from the greeting on */
	strcpy(a->newqid, a->m[0].qid);
}

/* Sessions --------------------------------------------------------------- */
enum { ST_RCPT, ST_DATA, ST_MAIL };
static const char *sm_stage[] = { "rcpt", "data", "mail" };

static void sm_plan_mail(struct actor *a)        /* legitimate senders and bounce floods */
{
	int tls = chance(0.6), nmsg = chance(0.12) ? 2 : 1, end = 0, i;
	sm_start(a, 0, a->cat == C_LEGIT && chance(0.02));
	a->proto = tls ? "ESMTPS" : chance(0.1) ? "SMTP" : "ESMTP";
	if (tls)
		push(a, SM_STARTTLS, 0, 0);
	if (chance(0.06))
		end = 1 + (int)rbelow(3);
	for (i = 0; i < nmsg; i++) {
		struct msg *m = &a->m[i];
		int last = i == nmsg - 1;
		msg_setup(m, a->cat);           /* clears qid */
		m->pend = 0;
		m->nacc = m->nrcpt;
		rand_msgid(m->msgid, a->cl);
		if (i == 0)
			strcpy(m->qid, a->newqid);
		else
			sm_qid(m->qid, a->pid, &a->seq);
		if (m->unk[0]) {
			int r = (int)rbelow(3);         /* check_rcpt reject, bare User unknown, No such user here */
			push(a, r == 0 ? SM_CHK_UNK : SM_BARE_UNK, i, r == 2);
		}
		if (last && end == 1) {         /* gone after RCPT: the transaction is aborted */
			push(a, SM_LOST, i, ST_RCPT);
			push(a, SM_FROM, i, 1);
			break;
		}
		push(a, SM_FROM, i, 0);
		if (last && end == 2)
			push(a, SM_TIMEOUT, i, 0);
		if (last && end == 3)
			push(a, SM_LOST, i, ST_DATA);
	}
}

static void sm_plan_submission(struct actor *a)
{
	struct msg *m = &a->m[0];
	sm_start(a, 1, 0);
	a->proto = "ESMTPSA";
	push(a, SM_STARTTLS, 0, 0);
	msg_setup(m, C_SUBMIT);
	strcpy(m->qid, a->newqid);
	sprintf(m->sender, "%s@example.org", PICK(users));
	m->pend = 0;
	m->nacc = m->nrcpt;
	m->bounce_idx = chance(0.04) ? (int)rbelow((uint32_t)m->nrcpt) : -1;
	snprintf(m->msgid, sizeof m->msgid, "%08x-%04x-%04x@example.org", (unsigned)(rnd() >> 32),
		 (unsigned)rbelow(0xffff), (unsigned)rbelow(0xffff));
	push(a, SM_FROM, 0, 0);
}

static void sm_plan_dha(struct actor *a)
{
	int n = a->conn_no == 0 ? rrange(21, 80) : rrange(3, 40), i;
	int form = (int)rbelow(100);    /* < 45 check_rcpt; < 85 bare User unknown; else No such user here */
	sm_start(a, 0, 0);
	a->proto = chance(0.7) ? "ESMTP" : "SMTP";
	rand_sender(a->m[0].sender);
	for (i = 0; i < n; i++) {
		push(a, form < 45 ? SM_CHK_UNK : SM_BARE_UNK, 0, form >= 85);
		/* BadRcptThrottle 20; only on check_rcpt sessions so that no line
		 * with the address comes between bare rejects and from= */
		if (form < 45 && i == 20)
			push(a, SM_RCPTFLOOD, 0, 0);
	}
	if (chance(0.15))
		push(a, SM_LOST, 0, ST_RCPT);
	push(a, SM_FROM, 0, 0);                 /* nrcpts=0 */
}

static void sm_plan_flood(struct actor *a)
{
	int burst = a->conn_no;
	sm_start(a, 0, 0);
	if (burst >= 30 && chance(0.25)) {
		push(a, SM_CHK_RELAY, 0, chance(0.7) ? 0 : 1);
	} else if (chance(0.05)) {
		push(a, SM_PREGREET, 0, 0);
		push(a, SM_NOISSUE, 0, 0);
	} else if (chance(0.05)) {
		push(a, SM_TIMEOUT, 0, 0);
		push(a, SM_NOISSUE, 0, 0);
	} else {
		push(a, SM_NOISSUE, 0, 0);
	}
}

static void sm_plan_auth(struct actor *a)
{
	int subm = chance(0.8), n = rrange(3, 8), i;
	sm_start(a, subm, 0);
	if (subm || chance(0.5))
		push(a, SM_STARTTLS, 0, 0);
	for (i = 0; i < n; i++) {
		push(a, SM_AUTHFAIL, 0, 0);
		if (i == 5)
			push(a, SM_ATTACK, 0, 6);
	}
	push(a, SM_NOISSUE, 0, 0);
}

static void sm_plan_spam(struct actor *a)
{
	int named = strcmp(a->cl->host, "unknown") != 0, r = (int)rbelow(100), n, i;
	sm_start(a, 0, named && chance(0.5));
	a->proto = chance(0.6) ? "ESMTP" : "SMTP";
	rand_sender(a->m[0].sender);
	if (chance(0.05)) {                     /* talks before the greeting */
		push(a, SM_PREGREET, 0, 0);
		push(a, SM_NOISSUE, 0, 0);
		return;
	}
	if (r < 5) {                            /* refused by the access map at connect */
		push(a, SM_CHK_RELAY, 0, 2);
		return;
	}
	if (r < 15) {                           /* MAIL FROM refused: never issued a MAIL that was accepted */
		push(a, SM_CHK_MAIL, 0, 0);
		push(a, SM_NOISSUE, 0, 0);
		return;
	}
	/* FEATURE(dnsbl) with delay_checks rejects at RCPT; IPv4 only */
	int dnsbl = !a->cl->v6 && r < 60;
	n = dnsbl ? rrange(1, 3) : rrange(1, 5);
	for (i = 0; i < n; i++)
		push(a, dnsbl ? SM_DNSBL : chance(0.1) ? SM_ACCESS : SM_RELAY, 0, 0);
	if (chance(0.1))
		push(a, SM_LOST, 0, ST_RCPT);
	push(a, SM_FROM, 0, 0);                 /* nrcpts=0 */
}

static void sm_refill(struct actor *a)
{
	switch (a->cat) {
	case C_LEGIT: case C_BFLOOD: sm_plan_mail(a); break;
	case C_SUBMIT: sm_plan_submission(a); break;
	case C_DHA: sm_plan_dha(a); break;
	case C_FLOOD: sm_plan_flood(a); break;
	case C_AUTH: sm_plan_auth(a); break;
	default: sm_plan_spam(a); break;
	}
}

/* Deliveries (a background child with its own pid) and MSP submissions */
static void sm_spawn_delivery(const struct msg *src)
{
	struct actor *a = actor_new(K_SMDELIV);
	a->nops = a->pos = 0;             /* after m: actor_new leaves them */
	struct msg *m = &a->m[0];
	int i;
	*m = *src;
	a->pid = new_pid();
	a->svc = "sm-mta";
	a->seq = (int)rbelow(3600);
	a->cl = pick(&remote_mx, 0);            /* the next hop of esmtp deliveries */
	m->t_arrive = now_us;
	for (i = 0; i < m->nrcpt; i++) {
		if (m->tr[i] == T_SMTP && chance(0.7))
			push(a, SMD_TLSCLIENT, 0, 0);
		push(a, SMD_TO, 0, i);
		if (i == m->bounce_idx) {
			push(a, SMD_DSN, 0, 0);
			if (m->tr[i] != T_SMTP && chance(0.7))  /* the DSN goes back to a remote sender */
				push(a, SMD_TLSCLIENT, 0, 0);
			push(a, SMD_DSNTO, 0, 0);
		}
	}
}

/* kind 0: a cron job's mail through the MSP (sendmail); 1: a message the MSP
 * had queued, sent by its queue run (sm-msp-queue); 2: the MSP queue
 * runner's DSN for a message it could not send, relayed through the MTA. */
static void sm_spawn_msp(int kind)
{
	struct actor *a = actor_new(K_SMMSP);
	a->nops = a->pos = 0;             /* after m: actor_new leaves them */
	struct msg *m = &a->m[0];
	int y, mo, d, h, mi, s, seq = (int)rbelow(3600);
	a->pid = new_pid();
	a->svc = kind == 0 ? "sendmail" : "sm-msp-queue";
	a->port = new_pid();                    /* the MTA child of the 127.0.0.1 connection */
	a->lport = new_pid();                   /* its delivery */
	a->seq = (int)rbelow(3600);
	m->size = rrange(600, 4000);
	m->t_arrive = now_us - (kind == 1 ? (uint64_t)rrange(1200, 7200) * 1000000 : 0);
	sm_qid(m->qid, a->pid, &seq);
	civil(now_us / 1000000, &y, &mo, &d, &h, &mi, &s);
	snprintf(m->msgid, sizeof m->msgid, "%04d%02d%02d%02d%02d.%s@mx1.example.org", y, mo + 1, d, h, mi, m->qid);
	strcpy(m->sender, kind == 2 ? "" : "root@mx1.example.org");
	if (kind == 0)
		push(a, SMM_FROM, 0, 0);
	if (kind == 2)
		push(a, SMM_QDSN, 0, 0);
	push(a, SMM_MTAFROM, 0, 0);
	push(a, SMM_TO, 0, 0);
	push(a, SMM_LOCALTO, 0, 0);
}

static void sm_cron_mail(void) { sm_spawn_msp(0); }

/* Count the held bare rejects once a line of the QID names the client. */
static void sm_release(struct actor *a, struct msg *m)
{
	if (m->pend) {
		ev[E_RCPT_UNKNOWN] += (unsigned long long)m->pend;
		m->pend = 0;
		mark_seen(a);
	}
}

static void sm_run_op(struct actor *a)
{
	const struct op *o = &a->ops[a->pos++];
	struct msg *m = &a->m[o->a];
	struct client *c = a->cl;
	char buf[128], ip[64], d1[24], d2[24];

	switch (o->op) {
	case SM_STARTTLS:
		lbegin(a->svc, a->pid);
		lcat("STARTTLS=server, relay=", a->rel, (char *)NULL);
		lput(chance(0.8) ? ", version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256"
			: ", version=TLSv1.2, verify=NO, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256");
		lend();
		break;
	case SM_CHK_UNK:
		if (a->cat == C_DHA)
			rand_guess(buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "%s", m->unk);
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ruleset=check_rcpt, arg1=<", buf, ">, relay=", a->rel, ", reject=550 5.1.1 <", buf,
		     ">... User unknown", (char *)NULL);
		lend();
		ev[E_RCPT_UNKNOWN]++;
		mark_seen(a);
		break;
	case SM_BARE_UNK:
		if (a->cat == C_DHA)
			rand_guess(buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "%s", m->unk);
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": <", buf, o->b ? ">... No such user here" : ">... User unknown", (char *)NULL);
		lend();
		m->pend++;                      /* counted with the QID's next line that has the address */
		break;
	case SM_RELAY:
		snprintf(buf, sizeof buf, "%s@%s", PICK(guesses), PICK(sdomains));
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ruleset=check_rcpt, arg1=<", buf, ">, relay=", a->rel, ", reject=550 5.7.1 <", buf,
		     ">... Relaying denied", (char *)NULL);
		if (!c->v6 && a->rel[0] == '[')
			lcat(". IP name lookup failed [", c->ip, "]", (char *)NULL);
		else if (strstr(a->rel, "(may be forged)") && !c->v6)
			lcat(". IP name possibly forged [", c->ip, "]", (char *)NULL);
		else if (chance(0.5))
			lput(". Proper authentication required.");
		lend();
		ev[E_RELAY_DENIED]++;
		mark_seen(a);
		break;
	case SM_DNSBL: {
		unsigned char tr;
		rand_local_rcpt(buf, &tr);
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ruleset=check_rcpt, arg1=<", buf, ">, relay=", a->rel, ", reject=550 5.7.1 <", buf,
		     ">... Rejected: ", c->ip, " listed at zen.example.test", (char *)NULL);
		lend();
		ev[E_DNSBL]++;
		mark_seen(a);
		break;
	}
	case SM_ACCESS:
		snprintf(buf, sizeof buf, "%s@example.org", chance(0.5) ? "abuse-test" : "old.account");
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ruleset=check_rcpt, arg1=<", buf, ">, relay=", a->rel, ", reject=550 5.7.1 <", buf,
		     ">... Access denied", (char *)NULL);
		lend();
		ev[E_RCPT_REJECT]++;
		mark_seen(a);
		break;
	case SM_CHK_MAIL:
		snprintf(buf, sizeof buf, "%s@%s.example.com", PICK(senders), chance(0.5) ? "no-such-domain" : "bulk-mailer-xyz");
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ruleset=check_mail, arg1=<", buf, ">, relay=", a->rel, ", reject=553 5.1.8 <", buf,
		     ">... Domain of sender address ", buf, " does not exist", (char *)NULL);
		lend();
		ev[E_CLIENT_REJECT]++;
		mark_seen(a);
		break;
	case SM_CHK_RELAY:
		sm_ip(c, ip);
		lbegin(a->svc, a->pid);
		lput("ruleset=check_relay, arg1=");
		if (strcmp(c->host, "unknown") == 0)
			lcat("[", ip, "]", (char *)NULL);
		else
			lput(c->host);
		lcat(", arg2=", ip, ", relay=", a->rel, ", reject=", o->b == 0 ? "421 4.3.2 Connection rate limit exceeded."
		     : o->b == 1 ? "421 4.3.2 Too many open connections." : "550 5.7.1 Access denied", (char *)NULL);
		lend();
		ev[o->b == 2 ? E_CLIENT_REJECT : E_RATE_LIMITED]++;
		mark_seen(a);
		break;
	case SM_FROM:
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": from=<", m->sender, ">, size=", (char *)NULL);
		lnum(o->b || m->nacc == 0 ? 0 : (unsigned long)m->size);
		lput(", class=0, nrcpts=");
		lnum((unsigned long)m->nacc);
		if (!o->b && m->nacc > 0) {
			lcat(", msgid=<", m->msgid, ">", (char *)NULL);
			if (m->size % 3 == 0)
				lput(", bodytype=8BITMIME");
		}
		lcat(", proto=", a->proto, ", daemon=", a->daemon, ", relay=", a->rel, (char *)NULL);
		lend();
		sm_release(a, m);
		/* o->b: the client went away after RCPT; Sendmail logs the
		 * sender of the aborted transaction (size=0, no msgid=) with the
		 * recipients it had accepted: no message was accepted. */
		if (!o->b && m->nacc > 0) {
			if (m->sender[0]) {
				ev[E_MSG_ACCEPTED]++;
			} else {
				ev[E_BOUNCE_IN]++;
				mark_seen(a);
			}
			sm_spawn_delivery(m);
		}
		break;
	case SM_LOST:
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": lost input channel from ", a->rel, " to ", a->daemon, " after ", sm_stage[o->b], (char *)NULL);
		lend();
		ev[E_LOST_CONN]++;
		sm_release(a, m);
		if (a->cat == C_FLOOD || a->cat == C_DHA)
			mark_seen(a);
		break;
	case SM_NOISSUE:
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ", a->rel, " did not issue MAIL/EXPN/VRFY/ETRN during connection to ", a->daemon, (char *)NULL);
		lend();
		ev[E_DISCONNECT]++;
		sm_release(a, m);
		if (a->cat == C_FLOOD)
			mark_seen(a);
		break;
	case SM_ATTACK:
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ", a->rel, ": possible SMTP attack: command=AUTH, count=", (char *)NULL);
		lnum(o->b);
		lend();
		ev[E_PROTOCOL_ERROR]++;
		break;
	case SM_RCPTFLOOD:
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ", a->rel, ": Possible SMTP RCPT flood, throttling.", (char *)NULL);
		lend();
		ev[E_RATE_LIMITED]++;
		break;
	case SM_TIMEOUT:
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": timeout waiting for input from ", a->rel, " during server cmd read", (char *)NULL);
		lend();
		ev[E_LOST_CONN]++;
		if (a->cat == C_FLOOD)
			mark_seen(a);
		break;
	case SM_PREGREET:
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": rejecting commands from ", a->rel, " due to pre-greeting traffic after ", (char *)NULL);
		lnum(rbelow(3));
		lput(" seconds");
		lend();
		ev[E_PROTOCOL_ERROR]++;
		mark_seen(a);
		break;
	case SM_AUTHFAIL:
		lbegin(a->svc, a->pid);
		if (chance(0.6))
			lcat(m->qid, ": AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: "
			     "checkpass failed, user=", PICK(guesses), (char *)NULL);
		else
			lcat(m->qid, ": AUTH failure (PLAIN): authentication failure (-13) SASL(-13): authentication failure: "
			     "Password verification failed, user=", PICK(guesses), "@example.org", (char *)NULL);
		lcat(", relay=", a->rel, (char *)NULL);
		lend();
		ev[E_AUTH_FAIL]++;
		mark_seen(a);
		break;

	/* delivery child */
	case SMD_TLSCLIENT:
		lbegin(a->svc, a->pid);
		lcat("STARTTLS=client, relay=", c->host, "., version=TLSv1.3, verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, "
		     "bits=256/256", (char *)NULL);
		lend();
		break;
	case SMD_TO: {
		int i = o->b, fail = i == m->bounce_idx;
		sm_delay(now_us - m->t_arrive + 1000000 * (uint64_t)rbelow(2), d1);
		sm_delay((uint64_t)rbelow(3) * 1000000, d2);
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": to=<", m->rcpt[i], ">, delay=", d1, ", xdelay=", d2, ", mailer=",
		     m->tr[i] == T_SMTP ? "esmtp" : "local", ", pri=", (char *)NULL);
		lnum((unsigned long)(m->size + 30000 * m->nrcpt));
		if (m->tr[i] == T_SMTP) {
			lcat(", relay=", c->host, ". [", c->ip, "]", (char *)NULL);
			if (fail)
				lput(", dsn=5.1.1, stat=User unknown");
			else
				lprintf(", dsn=2.0.0, stat=Sent (Ok: queued as %X%05X)", (unsigned)rbelow(0xfffff), (unsigned)rbelow(0xfffff));
		} else {
			lput(fail ? ", dsn=5.3.0, stat=unknown mailer error 1" : ", dsn=2.0.0, stat=Sent");
		}
		lend();
		break;
	}
	case SMD_DSN:
		sm_qid(a->newqid, a->pid, &a->seq);
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": ", a->newqid, ": DSN: ", m->tr[m->bounce_idx] == T_SMTP ? "User unknown" : "unknown mailer error 1",
		     (char *)NULL);
		lend();
		break;
	case SMD_DSNTO: {
		int remote = m->tr[m->bounce_idx] != T_SMTP;   /* the sender of inbound mail is remote */
		lbegin(a->svc, a->pid);
		lcat(a->newqid, ": to=<", m->sender, ">, delay=00:00:00, xdelay=00:00:0", remote ? "1" : "0", ", mailer=",
		     remote ? "esmtp" : "local", ", pri=", (char *)NULL);
		lnum((unsigned long)(31000 + m->size / 4));
		if (remote)
			lprintf(", relay=%s. [%s], dsn=2.0.0, stat=Sent (Ok: queued as %X%05X)", c->host, c->ip,
				(unsigned)rbelow(0xfffff), (unsigned)rbelow(0xfffff));
		else
			lput(", dsn=2.0.0, stat=Sent");
		lend();
		break;
	}

	/* MSP */
	case SMM_FROM:
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": from=root, size=", (char *)NULL);
		lnum((unsigned long)m->size);
		lcat(", class=0, nrcpts=1, msgid=<", m->msgid, ">, relay=root@localhost", (char *)NULL);
		lend();
		break;
	case SMM_QDSN: {
		char orig[24];
		int seq = a->seq + 7;
		uint64_t t = now_us;
		now_us = now_us > 432000000000ULL ? now_us - 432000000000ULL - rbelow(600000000) : 0;
		sm_qid(orig, a->pid - 1 - (int)rbelow(5000), &seq);   /* queued five days ago */
		now_us = t;
		lbegin(a->svc, a->pid);
		lcat(orig, ": ", m->qid, ": DSN: Cannot send message for 5 days", (char *)NULL);
		lend();
		break;
	}
	case SMM_MTAFROM:
		sm_qid(a->newqid, a->port, &a->seq);
		lbegin("sm-mta", a->port);
		lcat(a->newqid, ": from=<", m->sender, ">, size=", (char *)NULL);
		lnum((unsigned long)(m->size + 312));
		lcat(", class=0, nrcpts=1, msgid=<", m->msgid, ">, proto=ESMTP, daemon=MTA-v4, relay=localhost [127.0.0.1]",
		     (char *)NULL);
		lend();
		break;
	case SMM_TO:
		sm_delay(now_us - m->t_arrive, d1);
		lbegin(a->svc, a->pid);
		lcat(m->qid, ": to=root, ctladdr=root (0/0), delay=", d1, ", xdelay=00:00:00, mailer=relay, pri=", (char *)NULL);
		lnum((unsigned long)(m->size + 30000 + (now_us - m->t_arrive) / 1000000 / 60 * 90000 / 20));
		lcat(", relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (", a->newqid, " Message accepted for delivery)",
		     (char *)NULL);
		lend();
		break;
	case SMM_LOCALTO:
		lbegin("sm-mta", a->lport);
		lcat(a->newqid, ": to=<root@mx1.example.org>, ctladdr=<root@mx1.example.org> (0/0), delay=00:00:00, "
		     "xdelay=00:00:00, mailer=local, pri=", (char *)NULL);
		lnum((unsigned long)(m->size + 30312));
		lput(", dsn=2.0.0, stat=Sent");
		lend();
		break;
	}
}

/* ------------------------------------------------------------------ Exim --- */
enum {
	EX_CONN = 128, EX_RCPT_UNK, EX_RELAY, EX_DNSBL, EX_SVFAIL, EX_SVREJ, EX_TEMPREJ, EX_DATAREJ,
	EX_HELOREJ, EX_RECV, EX_QUIT, EX_NOMAIL, EX_LOST, EX_TIMEOUT, EX_DROP, EX_SYNC, EX_RATELIM,
	EX_REFUSED, EX_AUTHFAIL,
	EXD_DELIV, EXD_FAIL, EXD_BOUNCE, EXD_COMPLETED,
	EXL_RECV, EXQ_START, EXQ_END
};

static const int ex_daemon_pid = 1387;
static const char *ex_unknown_text[] = { "Unrouteable address", "Unrouteable address", "Unrouteable address",
	"Unknown user", "No Such User Here", "User unknown" };
static const char *subjects[] = { "Invoice 2024-0311", "Re: meeting on Thursday", "Your order for March has shipped",
	"Weekly report", "Fwd: contract draft", "Newsletter: spring offers", "Re: Re: quick question",
	"Password reset request", "Thanks for your order", "Agenda", "Re: holiday rota", "Quote #4471" };
static const char *authenticators[] = { "dovecot_login", "dovecot_plain", "dovecot_login", "plain_server",
	"login_server" };
static struct client lo_client = { "127.0.0.1", "localhost", 0, 0 };

/* Exim message ID: 6 base-62 digits of the time, the pid (6, or 11 from
 * 4.97), the sub-second fraction (2, or 4 from 4.97); bump: one tick later
 * (Exim waits for the clock to pass the ID's resolution before the next). */
static void ex_id(char *out, int pid, int bump)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t t = now_us + (uint64_t)bump * (exim_new_ids ? 1 : 500);
	uint64_t v[3] = { 1709251200ULL + t / 1000000, (uint64_t)pid,
			  exim_new_ids ? t % 1000000 : t % 1000000 / 500 };
	int w[3] = { 6, exim_new_ids ? 11 : 6, exim_new_ids ? 4 : 2 }, k, i;
	char *p = out;
	for (k = 0; k < 3; k++) {
		for (i = w[k] - 1; i >= 0; i--) {
			p[i] = b62[v[k] % 62];
			v[k] /= 62;
		}
		p += w[k];
		*p++ = k < 2 ? '-' : 0;
	}
}

/* Mainlog header: "YYYY-MM-DD HH:MM:SS [pid] " (log_selector +pid). */
static char ehdr[32];
static size_t ehdrlen;
static uint64_t ehdr_sec = UINT64_MAX;

static void ebegin(int pid)
{
	uint64_t sec = now_us / 1000000;
	if (sec != ehdr_sec) {
		int y, mo, d, h, mi, s;
		civil(sec, &y, &mo, &d, &h, &mi, &s);
		ehdrlen = (size_t)sprintf(ehdr, "%04d-%02d-%02d %02d:%02d:%02d ", y, mo + 1, d, h, mi, s);
		ehdr_sec = sec;
	}
	memcpy(L, ehdr, ehdrlen);
	LN = ehdrlen;
	L[LN++] = '[';
	lnum((unsigned long)pid);
	lput("] ");
}

/* Exim's host_and_ident(): "name (helo) [IP]:port I=[server]:port"; the
 * name only with a verified PTR, "(helo)" only when it differs from it. */
static void ex_hosts(struct actor *a)
{
	const struct client *c = a->cl;
	char ipp[96];
	int named = strcmp(c->host, "unknown") != 0;
	snprintf(ipp, sizeof ipp, "[%s]:%d I=[%s]:%d", c->ip, a->port,
		 c == &lo_client ? "127.0.0.1" : c->v6 ? "2001:db8:1::25" : "203.0.113.10", a->lport);
	if (named)
		snprintf(a->rel0, sizeof a->rel0, "%s %s", c->host, ipp);
	else
		snprintf(a->rel0, sizeof a->rel0, "%s", ipp);
	if (!a->helo[0] || (named && strcmp(a->helo, c->host) == 0))
		snprintf(a->rel, sizeof a->rel, "%s", a->rel0);
	else if (named)
		snprintf(a->rel, sizeof a->rel, "%s (%s) %s", c->host, a->helo, ipp);
	else
		snprintf(a->rel, sizeof a->rel, "(%s) %s", a->helo, ipp);
}

static void ex_start(struct actor *a, int lport, int tls)
{
	a->pid = new_pid();
	a->port = rrange(32768, 60999);
	a->lport = lport;
	a->nops = a->pos = 0;
	a->conn_no++;
	a->tlsx[0] = 0;
	if (tls)
		snprintf(a->tlsx, sizeof a->tlsx, " X=%s CV=no", chance(0.8)
			 ? "TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256"
			 : "TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256");
	for (int i = 0; i < 2; i++) {
		a->m[i].bounce_idx = -1;
		a->m[i].nrcpt = 0;
		a->m[i].unk[0] = 0;
	}
	ex_hosts(a);
	push(a, EX_CONN, 0, 0);
}

static void ex_plan_mail(struct actor *a)        /* legitimate senders and bounce floods */
{
	int nmsg = chance(0.12) ? 2 : 1, end = 0, i;
	strcpy(a->helo, strcmp(a->cl->host, "unknown") ? (chance(0.9) ? a->cl->host : "mail.example.net") : "mail.example.net");
	ex_start(a, 25, chance(0.6));
	a->proto = a->tlsx[0] ? "esmtps" : chance(0.1) ? "smtp" : "esmtp";
	if (chance(0.06))
		end = 1 + (int)rbelow(4);
	for (i = 0; i < nmsg; i++) {
		struct msg *m = &a->m[i];
		int last = i == nmsg - 1;
		msg_setup(m, a->cat);
		rand_msgid(m->msgid, a->cl);
		if (m->unk[0])
			push(a, EX_RCPT_UNK, i, rbelow(ARRAY_LEN(ex_unknown_text)));
		if (last && end == 1) {         /* gone after RCPT */
			push(a, EX_LOST, i, 0);
			return;
		}
		if (last && end == 2) {         /* gone during DATA */
			push(a, EX_TIMEOUT, i, 1);
			return;
		}
		push(a, EX_RECV, i, 0);
	}
	if (end == 3)
		push(a, EX_LOST, 0, 1);
	else if (end == 4)
		push(a, EX_TIMEOUT, 0, 0);
	else
		push(a, EX_QUIT, 0, 0);
}

static void ex_plan_submission(struct actor *a)
{
	struct msg *m = &a->m[0];
	snprintf(a->helo, sizeof a->helo, "%s", chance(0.5) ? "laptop" : "[192.168.1.23]");
	ex_start(a, 587, 1);
	a->proto = "esmtpsa";
	msg_setup(m, C_SUBMIT);
	sprintf(m->sasl_user, "%s@example.org", PICK(users));
	strcpy(m->sender, m->sasl_user);
	m->bounce_idx = chance(0.04) ? (int)rbelow((uint32_t)m->nrcpt) : -1;
	snprintf(m->msgid, sizeof m->msgid, "%08x-%04x-%04x@example.org", (unsigned)(rnd() >> 32),
		 (unsigned)rbelow(0xffff), (unsigned)rbelow(0xffff));
	push(a, EX_RECV, 0, 0);
	push(a, EX_QUIT, 0, 0);
}

static void ex_plan_dha(struct actor *a)
{
	int n = a->conn_no == 0 ? rrange(21, 80) : rrange(3, 40), i;
	int text = (int)rbelow(ARRAY_LEN(ex_unknown_text));
	bad_helo(a);
	ex_start(a, 25, chance(0.2));
	rand_sender(a->m[0].sender);
	for (i = 0; i < n; i++)
		push(a, EX_RCPT_UNK, 0, text);
	if (chance(0.15))
		push(a, EX_LOST, 0, chance(0.5));
	else
		push(a, EX_QUIT, 0, 0);
}

static void ex_plan_flood(struct actor *a)
{
	int burst = a->conn_no;
	a->helo[0] = 0;
	if (burst >= 30 && chance(0.25)) {
		ex_start(a, 25, 0);
		if (chance(0.5)) {
			a->nops = 0;            /* refused before the connection is logged */
			push(a, EX_REFUSED, 0, chance(0.9) ? 0 : 1);
		} else {
			push(a, EX_RATELIM, 0, burst);
		}
		return;
	}
	ex_start(a, 25, 0);
	if (chance(0.08)) {
		push(a, EX_SYNC, 0, 0);
	} else if (chance(0.05)) {
		push(a, EX_TIMEOUT, 0, 0);
		push(a, EX_NOMAIL, 0, 0);
	} else if (chance(0.15)) {
		strcpy(a->helo, "User");
		ex_hosts(a);
		push(a, EX_QUIT, 0, 0);
		push(a, EX_NOMAIL, 0, 0);
	} else {
		push(a, EX_LOST, 0, 0);
		push(a, EX_NOMAIL, 0, 0);
	}
}

static void ex_plan_auth(struct actor *a)
{
	int n = rrange(3, 8), i, r;
	snprintf(a->helo, sizeof a->helo, "%s", PICK(helos_bad));
	ex_start(a, chance(0.8) ? 587 : 25, chance(0.7));
	for (i = 0; i < n; i++)
		push(a, EX_AUTHFAIL, 0, 0);
	r = (int)rbelow(10);
	if (r < 3) {
		push(a, EX_DROP, 0, 1);
	} else if (r < 7) {
		push(a, EX_QUIT, 0, 0);
		push(a, EX_NOMAIL, 0, 0);
	} else {
		push(a, EX_LOST, 0, 0);
		push(a, EX_NOMAIL, 0, 0);
	}
}

static void ex_plan_spam(struct actor *a)
{
	int r = (int)rbelow(100), n, i;
	bad_helo(a);
	ex_start(a, 25, chance(0.15));
	rand_sender(a->m[0].sender);
	if (r < 5) {                            /* the HELO ACL refuses it */
		push(a, EX_HELOREJ, 0, 0);
		push(a, EX_QUIT, 0, 0);
		push(a, EX_NOMAIL, 0, 0);
		return;
	}
	if (r < 15) {                           /* the sender does not verify */
		push(a, EX_SVFAIL, 0, 0);
		n = rrange(1, 3);
		for (i = 0; i < n; i++)
			push(a, EX_SVREJ, 0, 0);
	} else if (r < 25) {                    /* accepted RCPT, refused content */
		struct msg *m = &a->m[0];
		msg_setup(m, C_SPAM);
		rand_sender(m->sender);
		if (chance(0.3))
			push(a, EX_TEMPREJ, 0, 0);
		push(a, EX_DATAREJ, 0, 0);
	} else {
		int dnsbl = r < 65;
		n = dnsbl ? rrange(1, 3) : rrange(1, 5);
		for (i = 0; i < n; i++)
			push(a, dnsbl ? EX_DNSBL : EX_RELAY, 0, 0);
	}
	if (chance(0.1))
		push(a, EX_LOST, 0, chance(0.5));
	else
		push(a, EX_QUIT, 0, 0);
}

static void ex_refill(struct actor *a)
{
	switch (a->cat) {
	case C_LEGIT: case C_BFLOOD: ex_plan_mail(a); break;
	case C_SUBMIT: ex_plan_submission(a); break;
	case C_DHA: ex_plan_dha(a); break;
	case C_FLOOD: ex_plan_flood(a); break;
	case C_AUTH: ex_plan_auth(a); break;
	default: ex_plan_spam(a); break;
	}
}

/* Delivery of a received message: "=>" lines, "**" for a failure with the
 * local bounce it causes ("<= <> R=parent U=Debian-exim P=local"), "Completed". */
static void ex_spawn_delivery(const struct msg *src, int parent_is_bounce)
{
	struct actor *a = actor_new(K_EXDELIV);
	a->nops = a->pos = 0;             /* after m: actor_new leaves them */
	struct msg *m = &a->m[0];
	int i;
	*m = *src;
	if (parent_is_bounce)
		m->bounce_idx = -1;
	a->pid = new_pid();
	a->cl = pick(&remote_mx, 0);
	for (i = 0; i < m->nrcpt; i++) {
		if (i == m->bounce_idx) {
			push(a, EXD_FAIL, 0, i);
			push(a, EXD_BOUNCE, 0, 0);
		} else {
			push(a, EXD_DELIV, 0, i);
		}
	}
	push(a, EXD_COMPLETED, 0, 0);
}

static void ex_spawn_local(void)                /* a cron job's output, "P=local" */
{
	struct actor *a = actor_new(K_EXLOCAL);
	a->nops = a->pos = 0;             /* after m: actor_new leaves them */
	struct msg *m = &a->m[0];
	a->pid = new_pid();
	strcpy(m->sender, "root@mx1.example.org");
	strcpy(m->rcpt[0], "root@mx1.example.org");
	m->orig[0][0] = 0;
	m->tr[0] = T_LOCAL;
	m->nrcpt = 1;
	m->size = rrange(600, 4000);
	m->bounce_idx = -1;
	push(a, EXL_RECV, 0, 0);
}

/* A web application on the server sending through 127.0.0.1: a loopback
 * client (connect/disconnect events like any client, no message event). */
static void ex_spawn_app(void)
{
	struct actor *a = actor_new(K_EXAPP);
	struct msg *m = &a->m[0];
	a->cl = &lo_client;
	strcpy(a->helo, "mx1.example.org");
	ex_start(a, 25, 0);
	a->proto = "esmtp";
	msg_setup(m, C_SUBMIT);
	strcpy(m->sender, chance(0.5) ? "www-data@mx1.example.org" : "noreply@example.org");
	snprintf(m->msgid, sizeof m->msgid, "%08x%04x@mx1.example.org", (unsigned)(rnd() >> 32), (unsigned)rbelow(0xffff));
	push(a, EX_RECV, 0, 0);
	push(a, EX_QUIT, 0, 0);
}

static void ex_spawn_qrun(void)
{
	struct actor *a = actor_new(K_EXQRUN);
	a->nops = a->pos = 0;             /* after m: actor_new leaves them */
	a->pid = new_pid();
	push(a, EXQ_START, 0, 0);
	push(a, EXQ_END, 0, 0);
}

static void ex_reject_head(const struct actor *a, const char *from)
{
	lcat("H=", a->rel, a->tlsx, " F=<", from, "> ", (char *)NULL);
}

static void ex_for(const struct msg *m)
{
	lput(" for");
	for (int i = 0; i < m->nrcpt; i++)
		lcat(" ", m->rcpt[i], (char *)NULL);
}

static void ex_dtime(void)                      /* " D=..." of a session */
{
	int s = rrange(0, 400);
	lput(" D=");
	if (s >= 60) {
		lnum((unsigned long)(s / 60));
		L[LN++] = 'm';
		if (s % 60)
			lnum((unsigned long)(s % 60)), L[LN++] = 's';
	} else {
		lnum((unsigned long)s);
		L[LN++] = 's';
	}
}

static void ex_run_op(struct actor *a)
{
	const struct op *o = &a->ops[a->pos++];
	struct msg *m = &a->m[o->a];
	struct client *c = a->cl;
	char buf[128];

	switch (o->op) {
	case EX_CONN:
		ebegin(ex_daemon_pid);
		lprintf("SMTP connection from [%s]:%d I=[%s]:%d (TCP/IP connection count = %d)", c->ip, a->port,
			c == &lo_client ? "127.0.0.1" : c->v6 ? "2001:db8:1::25" : "203.0.113.10", a->lport,
			rrange(1, 1 + nsessions));
		lend();
		ev[E_CONNECT]++;
		if (a->cat == C_FLOOD)
			mark_seen(a);
		break;
	case EX_RCPT_UNK:
		if (a->cat == C_DHA)
			rand_guess(buf, sizeof buf);
		else
			snprintf(buf, sizeof buf, "%s", m->unk);
		ebegin(a->pid);
		ex_reject_head(a, a->cat == C_DHA ? a->m[0].sender : m->sender);
		lcat("rejected RCPT <", buf, ">: ", ex_unknown_text[o->b], (char *)NULL);
		lend();
		ev[E_RCPT_UNKNOWN]++;
		mark_seen(a);
		break;
	case EX_RELAY:
		snprintf(buf, sizeof buf, "%s@%s", PICK(guesses), PICK(sdomains));
		ebegin(a->pid);
		ex_reject_head(a, m->sender);
		lcat("rejected RCPT <", buf, ">: relay not permitted", (char *)NULL);
		lend();
		ev[E_RELAY_DENIED]++;
		mark_seen(a);
		break;
	case EX_DNSBL: {
		unsigned char tr;
		rand_local_rcpt(buf, &tr);
		ebegin(a->pid);
		ex_reject_head(a, m->sender);
		lcat("rejected RCPT <", buf, ">: rejected because ", c->ip, " is in a black list at zen.example.test", (char *)NULL);
		if (chance(0.5))
			lcat("\\nhttps://www.example.test/query/ip/", c->ip, (char *)NULL);
		lend();
		ev[E_DNSBL]++;
		mark_seen(a);
		break;
	}
	case EX_SVFAIL:
		ebegin(a->pid);
		lcat("H=", a->rel, a->tlsx, " sender verify fail for <", m->sender, ">: ",
		     chance(0.7) ? "Unrouteable address" : "all relevant MX records point to non-existent hosts", (char *)NULL);
		lend();                         /* about the sender: no event */
		break;
	case EX_SVREJ: {
		unsigned char tr;
		rand_local_rcpt(buf, &tr);
		ebegin(a->pid);
		ex_reject_head(a, m->sender);
		lcat("rejected RCPT <", buf, ">: Sender verify failed", (char *)NULL);
		lend();
		ev[E_CLIENT_REJECT]++;
		mark_seen(a);
		break;
	}
	case EX_TEMPREJ: {
		unsigned char tr;
		rand_local_rcpt(buf, &tr);
		ebegin(a->pid);
		ex_reject_head(a, m->sender);
		lcat("temporarily rejected RCPT <", buf, ">: greylisted", (char *)NULL);
		lend();
		ev[E_RCPT_REJECT]++;
		mark_seen(a);
		break;
	}
	case EX_DATAREJ:
		ebegin(a->pid);
		ex_reject_head(a, m->sender);
		lprintf("rejected after DATA: This message scored %d.%d spam points.", rrange(8, 40), rrange(0, 9));
		lend();
		ev[E_MSG_REJECT]++;
		mark_seen(a);
		break;
	case EX_HELOREJ:
		ebegin(a->pid);
		lcat("H=", a->rel, " rejected EHLO or HELO ", a->helo, ": ", strchr(a->helo, '.') ? "Your HELO is a lie"
		     : "HELO name must be a fully qualified domain name", (char *)NULL);
		lend();
		ev[E_CLIENT_REJECT]++;
		mark_seen(a);
		break;
	case EX_RECV:
		ex_id(m->qid, a->pid, 0);
		if (o->a == 1 && strcmp(m->qid, a->m[0].qid) == 0)
			ex_id(m->qid, a->pid, 1);       /* two messages of one session in one tick */
		ebegin(a->pid);
		lcat(m->qid, " <= ", m->sender[0] ? m->sender : "<>", " H=", a->rel, " P=", a->proto, a->tlsx, (char *)NULL);
		if (m->sasl_user[0])
			lcat(" A=dovecot_plain:", m->sasl_user, (char *)NULL);
		lput(" S=");
		lnum((unsigned long)m->size);
		if (m->sender[0] || chance(0.6))
			lcat(" id=", m->msgid, (char *)NULL);
		lcat(" T=\"", m->sender[0] ? subjects[m->size % ARRAY_LEN(subjects)]
		     : m->size % 2 ? "Undelivered Mail Returned to Sender" : "Delivery Status Notification (Failure)",
		     "\"", (char *)NULL);
		ex_for(m);
		lend();
		if (c != &lo_client) {
			if (m->sender[0]) {
				ev[E_MSG_ACCEPTED]++;
			} else {
				ev[E_BOUNCE_IN]++;
				mark_seen(a);
			}
		}
		ex_spawn_delivery(m, 0);
		break;
	case EX_QUIT:
		ebegin(a->pid);
		lcat("SMTP connection from ", a->rel, " closed by QUIT", (char *)NULL);
		lend();
		ev[E_DISCONNECT]++;
		break;
	case EX_NOMAIL:
		ebegin(a->pid);
		lcat("no MAIL in SMTP connection from ", a->rel, (char *)NULL);
		ex_dtime();
		if (a->helo[0])
			lput(a->cat == C_AUTH ? " C=EHLO,AUTH,AUTH,AUTH,QUIT" : " C=EHLO,QUIT");
		lend();
		ev[E_DISCONNECT]++;
		break;
	case EX_LOST:
		ebegin(a->pid);
		if (o->b && a->helo[0])
			lcat("unexpected disconnection while reading SMTP command from ", a->rel, (char *)NULL);
		else
			lcat("SMTP connection from ", a->rel, " lost", (char *)NULL);
		ex_dtime();
		lend();
		ev[E_LOST_CONN]++;
		if (a->cat == C_FLOOD)
			mark_seen(a);
		break;
	case EX_TIMEOUT:
		ebegin(a->pid);
		if (o->b)
			lcat("SMTP data timeout (message abandoned) on connection from ", a->rel, " F=<", m->sender, ">", (char *)NULL);
		else
			lcat("SMTP command timeout on connection from ", a->rel, (char *)NULL);
		lend();
		ev[E_LOST_CONN]++;
		if (a->cat == C_FLOOD)
			mark_seen(a);
		break;
	case EX_DROP:
		ebegin(a->pid);
		lcat("SMTP call from ", a->rel, o->b ? " dropped: too many nonmail commands (last was \"AUTH\")"
		     : " dropped: too many syntax or protocol errors (last command was \"AUTH LOGIN\")", (char *)NULL);
		lend();
		ev[E_PROTOCOL_ERROR]++;
		mark_seen(a);
		break;
	case EX_SYNC:
		ebegin(a->pid);
		lcat("SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=",
		     a->rel0, " input=\"", chance(0.5) ? "EHLO User\\r\\n" : "HELO localhost\\r\\n", "\"", (char *)NULL);
		lend();
		ev[E_PROTOCOL_ERROR]++;
		mark_seen(a);
		break;
	case EX_RATELIM:
		ebegin(a->pid);
		lprintf("H=%s temporarily rejected connection in \"connect\" ACL: Host is ratelimited (%d.%d/1m max:30)",
			a->rel0, o->b + 1, rrange(0, 9));
		lend();
		ev[E_RATE_LIMITED]++;
		mark_seen(a);
		break;
	case EX_REFUSED:
		ebegin(ex_daemon_pid);
		lprintf("Connection from [%s]:%d I=[%s]:%d refused: too many connections%s", c->ip, a->port,
			c->v6 ? "2001:db8:1::25" : "203.0.113.10", a->lport, o->b ? "" : " from that IP address");
		lend();
		ev[E_RATE_LIMITED]++;
		mark_seen(a);
		break;
	case EX_AUTHFAIL:
		ebegin(a->pid);
		lcat(PICK(authenticators), " authenticator failed for ", a->rel, ": 535 Incorrect authentication data",
		     (char *)NULL);
		if (chance(0.8))
			lcat(" (set_id=", PICK(guesses), chance(0.5) ? "@example.org" : "", ")", (char *)NULL);
		lend();
		ev[E_AUTH_FAIL]++;
		mark_seen(a);
		break;

	/* deliveries */
	case EXD_DELIV: {
		int i = o->b;
		char user[80];
		ebegin(a->pid);
		if (m->tr[i] == T_SMTP) {
			lcat(m->qid, " => ", m->rcpt[i], " R=dnslookup T=remote_smtp H=", c->host, " [", c->ip, "]",
			     " X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=yes", (char *)NULL);
			lprintf(" C=\"250 2.0.0 Ok: queued as %X%05X\"", (unsigned)rbelow(0xfffff), (unsigned)rbelow(0xfffff));
		} else if (m->tr[i] == T_VIRTUAL) {
			lcat(m->qid, " => ", m->rcpt[i], " R=virtual_user T=dovecot_delivery", (char *)NULL);
		} else {
			sscanf(m->rcpt[i], "%79[^@]", user);
			lcat(m->qid, " => ", user, " <", m->orig[i][0] ? m->orig[i] : m->rcpt[i], "> R=local_user T=mail_spool",
			     (char *)NULL);
		}
		lend();
		break;
	}
	case EXD_FAIL: {
		int i = o->b;
		char user[80];
		ebegin(a->pid);
		if (m->tr[i] == T_SMTP) {
			lcat(m->qid, " ** ", m->rcpt[i], " R=dnslookup T=remote_smtp H=", c->host, " [", c->ip, "]",
			     ": SMTP error from remote mail server after RCPT TO:<", m->rcpt[i], ">: 550 5.1.1 <", m->rcpt[i],
			     ">: Recipient address rejected: User unknown in virtual mailbox table", (char *)NULL);
		} else {
			sscanf(m->rcpt[i], "%79[^@]", user);
			lcat(m->qid, " ** ", m->rcpt[i], " R=local_user T=mail_spool: mailbox is full "
			     "(MTA-imposed quota exceeded while writing to /var/mail/", user, ")", (char *)NULL);
		}
		lend();
		break;
	}
	case EXD_BOUNCE: {
		struct msg nb;
		memset(&nb, 0, sizeof nb);
		ex_id(nb.qid, a->pid, 0);
		strcpy(nb.rcpt[0], m->sender);
		nb.tr[0] = strstr(m->sender, "@example.org") ? T_LOCAL : T_SMTP;
		nb.nrcpt = 1;
		nb.size = 2000 + m->size / 4 + rrange(0, 2000);
		nb.bounce_idx = -1;
		ebegin(a->pid);
		lcat(nb.qid, " <= <> R=", m->qid, " U=Debian-exim P=local S=", (char *)NULL);
		lnum((unsigned long)nb.size);
		lput(" T=\"Mail delivery failed: returning message to sender\"");
		ex_for(&nb);
		lend();                         /* a local bounce: no event */
		ex_spawn_delivery(&nb, 1);
		break;
	}
	case EXD_COMPLETED:
		ebegin(a->pid);
		lcat(m->qid, " Completed", (char *)NULL);
		lend();
		break;
	case EXL_RECV:
		ex_id(m->qid, a->pid, 0);
		ebegin(a->pid);
		lcat(m->qid, " <= root@mx1.example.org U=root P=local S=", (char *)NULL);
		lnum((unsigned long)m->size);
		lcat(" T=\"Cron <root@mx1> ", PICK(cron_cmds) + 0, "\"", (char *)NULL);
		ex_for(m);
		lend();
		ex_spawn_delivery(m, 0);
		break;
	case EXQ_START:
	case EXQ_END:
		ebegin(a->pid);
		lprintf("%s queue run: pid=%d", o->op == EXQ_START ? "Start" : "End", a->pid);
		lend();
		break;
	}
}

/* ------------------------------------------------------------ main loop --- */
static uint64_t next_qrun_us;

static void step_other(void)
{
	now_us += rbelow(172800);               /* ~86.4 ms a line, as for Postfix */
	if (now_us >= next_qrun_us) {           /* the MSP's (20 min) or Exim's (30 min) queue runner */
		if (mta == MTA_SENDMAIL) {
			next_qrun_us += 1200000000ULL;
			if (chance(0.25))
				sm_spawn_msp(1);
			else if (chance(0.06))
				sm_spawn_msp(2);
		} else {
			next_qrun_us += 1800000000ULL;
			ex_spawn_qrun();
		}
	}
	if (mta == MTA_SENDMAIL && chance(0.10)) {
		noise_line();                   /* other programs, as in the Postfix log */
		return;
	}
	if (mta == MTA_EXIM) {
		if (chance(0.0004))
			ex_spawn_local();
		if (chance(0.002))
			ex_spawn_app();
	}
	run_next_actor(mta == MTA_SENDMAIL ? sm_run_op : ex_run_op);
}

/*
 * --harvest48: one more attacker on top of the usual traffic, a directory
 * harvest rotating through the /64s of one /48 (HARVEST48): from 02:00 to
 * 03:00, a session every 10-30 s, each from a fresh /64, each trying 2-4
 * unknown recipients. No /64 comes near the per-/64 threshold (20), so
 * only a rule keyed by the /48 can see it (issue 12). It draws from its own
 * generator, so the rest of the log is what it is without the option, only
 * with these lines interleaved (and cut earlier by -n).
 */
#define HARVEST48 "2001:db8:4848::/48"
static int harvest48;
static uint64_t h48_rng = 0x4848;
static uint64_t h48_next_us = 2 * 3600 * 1000000ULL;
static const uint64_t h48_end_us = 3 * 3600 * 1000000ULL;
static int h48_phase;                   /* 0: connect next, 1: a reject, 2: the disconnect */
static int h48_n, h48_left, h48_pid, h48_sessions;
static char h48_ip[48];

static uint32_t h48_below(uint32_t n) { return (uint32_t)(((splitmix64(&h48_rng) >> 32) * n) >> 32); }

/* 1 if the harvester's next line is due (a session once begun is finished). */
static int harvest48_due(void)
{
	return harvest48 && now_us >= h48_next_us && (h48_phase != 0 || h48_next_us < h48_end_us);
}

static void harvest48_line(void)
{
	char to[96];

	if (h48_phase == 0) {                   /* a new session from a fresh /64 */
		uint16_t g[8] = { 0x2001, 0x0db8, 0x4848, 0, 0, 0, 0, 0 };
		g[3] = (uint16_t)(1 + h48_sessions++);  /* never the same /64 twice */
		g[6] = (uint16_t)(1 + h48_below(0xfffe));
		g[7] = (uint16_t)(1 + h48_below(0xfffe));
		fmt_ip6(g, h48_ip);
		h48_pid = 48000 + (int)h48_below(900);
		h48_n = h48_left = 2 + (int)h48_below(3);
	}
	lbegin("postfix/smtpd", h48_pid);
	switch (h48_phase) {
	case 0:
		lcat("connect from unknown[", h48_ip, "]", (char *)NULL);
		ev[E_CONNECT]++;
		h48_phase = 1;
		h48_next_us = now_us + 500000 + h48_below(1500000);
		break;
	case 1:
		snprintf(to, sizeof to, "%s%u@example.org", guesses[h48_below(ARRAY_LEN(guesses))], h48_below(10000));
		lprintf("NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown in local recipient table; from=<info@example.net> to=<%s> proto=ESMTP helo=<ylmf-pc>",
		    h48_ip, to, to);
		ev[E_RCPT_UNKNOWN]++;
		if (--h48_left == 0)
			h48_phase = 2;
		h48_next_us = now_us + 300000 + h48_below(1000000);
		break;
	default:
		lprintf("disconnect from unknown[%s] ehlo=1 mail=1 rcpt=0/%d quit=1 commands=3/%d",
		    h48_ip, h48_n, 3 + h48_n);
		ev[E_DISCONNECT]++;
		h48_phase = 0;
		h48_next_us = now_us + 10000000 + h48_below(20000000);
		break;
	}
	lend();
}

static void usage(void)
{
	fprintf(stderr, "usage: genlog [--mta postfix|sendmail|exim] [-n LINES] [-s SEED] [-o LOGFILE] [-t TRUTHFILE]\n"
	    "              [--iso (postfix, sendmail)] [--exim-new-ids (exim)] [--harvest48 (postfix)]\n"
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
		if (strcmp(arg, "--exim-new-ids") == 0) {
			exim_new_ids = 1;
			continue;
		}
		if (strcmp(arg, "--harvest48") == 0) {
			harvest48 = 1;
			continue;
		}
		if (strcmp(arg, "--mta") == 0 && i + 1 < argc) {
			const char *v = argv[++i];
			if (strcmp(v, "postfix") == 0)
				mta = MTA_POSTFIX;
			else if (strcmp(v, "sendmail") == 0)
				mta = MTA_SENDMAIL;
			else if (strcmp(v, "exim") == 0)
				mta = MTA_EXIM;
			else
				usage();
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

	if ((iso && mta == MTA_EXIM) || (exim_new_ids && mta != MTA_EXIM) || (distinct && mta != MTA_POSTFIX) ||
	    (harvest48 && (mta != MTA_POSTFIX || distinct)))
		usage();        /* Exim writes its own mainlog; --distinct and --harvest48 are Postfix logs */
	next_qrun_us = mta == MTA_SENDMAIL ? 1200000000ULL : 1800000000ULL;

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

	while (nlines < maxlines) {
		if (harvest48_due())
			harvest48_line();
		else
			step();
	}

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
		fprintf(f, "{\"lines\":%llu,", nlines);
		if (mta != MTA_POSTFIX)
			fprintf(f, "\"mta\":\"%s\",", mta == MTA_SENDMAIL ? "sendmail" : "exim");
		fputs("\"events\":{", f);
		for (i = 0; i < (mta == MTA_POSTFIX ? E_N_POSTFIX : E_N); i++)
			fprintf(f, "%s\"%s\":%llu", i ? "," : "", ev_name[i], ev[i]);
		fputs("},\"attackers\":{", f);
		write_list(f, "dha", &dha, 1);
		write_list(f, "conn_flood", &flood, 0);
		write_list(f, "bounce_flood", &bflood, 0);
		write_list(f, "auth", &authp, 0);
		write_list(f, "spam", &spam, 0);	/* may be acted on; need not be */
		if (harvest48 && h48_sessions > 0)
			fprintf(f, ",\"harvest48\":[\"%s\"]", HARVEST48);
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
