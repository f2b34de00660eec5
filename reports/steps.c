/*
 * steps.c - per-minute counts in event time (see steps.h).
 */
#include "steps.h"

#include <string.h>

#define STEPS_MAGIC 0x4d584753u	/* "MXGS": a blob of this layout */

void
steps_init(struct steps *s, step_fn fn, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->fn = fn;
	s->arg = arg;
}

static int64_t
step_end_of(int64_t ts)
{
	int64_t q = ts / STEP_SECONDS;

	if (ts % STEP_SECONDS < 0)
		q--;
	return (q + 1) * STEP_SECONDS;
}

void
steps_at(struct steps *s, int64_t ts)
{
	int64_t end = step_end_of(ts);
	uint64_t bans;

	if (s->cur.end == 0) {
		s->cur.end = end;
		return;
	}
	if (end <= s->cur.end)
		return;
	bans = s->cur.bans;
	s->fn(s->arg, &s->cur);
	/* the quiet minutes between: zeros, the bans as they were (at most the RRD's reach of them) */
	{
		int64_t from = s->cur.end + STEP_SECONDS;

		if ((end - from) / STEP_SECONDS > STEP_GAP_MAX)
			from = end - (int64_t)STEP_GAP_MAX * STEP_SECONDS;
		memset(&s->cur, 0, sizeof(s->cur));
		s->cur.bans = bans;
		for (int64_t e = from; e < end; e += STEP_SECONDS) {
			s->cur.end = e;
			s->fn(s->arg, &s->cur);
		}
	}
	s->cur.end = end;
}

void
steps_event(struct steps *s, const struct event *ev)
{
	steps_at(s, ev->ts);
	if ((unsigned)ev->type < EV__COUNT)
		s->cur.events[ev->type]++;
}

void
steps_decision(struct steps *s, int64_t ts, enum action a)
{
	steps_at(s, ts);
	if ((unsigned)a < STEP_ACTIONS)
		s->cur.decisions[a]++;
}

void
steps_flush(struct steps *s)
{
	if (s->cur.end == 0)
		return;
	s->fn(s->arg, &s->cur);
	{
		uint64_t bans = s->cur.bans;
		int64_t end = s->cur.end;

		memset(&s->cur, 0, sizeof(s->cur));
		s->cur.bans = bans;
		s->cur.end = end + STEP_SECONDS;
	}
}

size_t
steps_export(const struct steps *s, void *buf, size_t len)
{
	uint32_t magic = STEPS_MAGIC;

	if (len < sizeof(magic) + sizeof(s->cur))
		return 0;
	memcpy(buf, &magic, sizeof(magic));
	memcpy((char *)buf + sizeof(magic), &s->cur, sizeof(s->cur));
	return sizeof(magic) + sizeof(s->cur);
}

int
steps_import(struct steps *s, const void *buf, size_t len)
{
	uint32_t magic;

	if (len != sizeof(magic) + sizeof(s->cur))
		return -1;
	memcpy(&magic, buf, sizeof(magic));
	if (magic != STEPS_MAGIC)
		return -1;
	memcpy(&s->cur, (const char *)buf + sizeof(magic), sizeof(s->cur));
	return 0;
}
