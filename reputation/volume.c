/*
 * volume.c - mxguard's own "vol" score (see volume.h).
 */
#include "volume.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xalloc.h"
#include "../common/keytab.h"

struct count {
	int64_t day;		/* UTC day of `today` */
	uint32_t today, yesterday;
};

struct volume {
	struct keytab *t;
	int64_t busiest_day;	/* the day `busiest` was last brought up to date for */
	uint32_t busiest;	/* the most any client sent today and yesterday (as of busiest_day) */
};

/* A client's key: the address (IPv4), the /64 (IPv6): one host, one count. */
static size_t
key_of(const struct addr *a, uint8_t k[9])
{
	k[0] = a->family;
	memcpy(k + 1, a->b, 8);
	if (a->family == 4)
		memset(k + 5, 0, 4);
	return 9;
}

/* Messages of c in the two days ending with `day`. */
static uint32_t
recent(const struct count *c, int64_t day)
{
	return c->day == day ? c->today + c->yesterday : c->day == day - 1 ? c->today : 0;
}

struct volume *
volume_new(uint32_t max_clients)
{
	struct volume *v = xcalloc(1, sizeof(*v));

	v->t = keytab_new(max_clients, sizeof(struct count), 9);
	return v;
}

void
volume_free(struct volume *v)
{
	if (v == NULL)
		return;
	keytab_free(v->t, NULL);
	free(v);
}

struct scan {
	int64_t day;
	uint32_t max;
};

static void
scan_one(void *arg, void *payload)
{
	struct scan *s = arg;
	uint32_t n = recent(payload, s->day);

	if (n > s->max)
		s->max = n;
}

/* The busiest client of the two days ending with `day`: kept up as counts grow, recomputed once a day. */
static uint32_t
busiest(struct volume *v, int64_t day)
{
	if (v->busiest_day != day) {
		struct scan s = { day, 0 };

		keytab_foreach(v->t, scan_one, &s);
		v->busiest = s.max;
		v->busiest_day = day;
	}
	return v->busiest;
}

void
volume_count(struct volume *v, const struct addr *a, int64_t ts)
{
	uint8_t k[9];
	int64_t day = ts / 86400;
	struct count *c;
	int created;

	if (a->family != 4 && a->family != 6)
		return;
	c = keytab_put(v->t, k, key_of(a, k), ts, &created, NULL);
	if (created || day >= c->day + 2) {
		c->today = c->yesterday = 0;
		c->day = day;
	} else if (day == c->day + 1) {
		c->yesterday = c->today;
		c->today = 0;
		c->day = day;
	}
	if (day == c->day && c->today < UINT32_MAX)	/* (a line older than the counts: not counted again) */
		c->today++;
	if (day >= v->busiest_day) {
		uint32_t n = recent(c, day);

		if (busiest(v, day) < n)
			v->busiest = n;
	}
}

int
volume_of(struct volume *v, const struct addr *a, int64_t now, uint32_t *n)
{
	uint8_t k[9];
	int64_t day = now / 86400;
	struct count *c = keytab_get(v->t, k, key_of(a, k));
	uint32_t max;

	*n = c != NULL ? recent(c, day) : 0;
	if (*n == 0 || (max = busiest(v, day)) == 0)
		return -1;
	return (int)lround(100.0 * log1p((double)*n) / log1p((double)(max > *n ? max : *n)));
}
