/* event_json.c - write an event as one JSON line; see event_json.h. */
#include "event_json.h"

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	/* Inverse of hdr_days_from_civil (H. Hinnant). */
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static char *
two(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10 % 10);
	o[1] = (char)('0' + v % 10);
	return o + 2;
}

void
put_iso8601(struct outbuf *ob, int64_t ts, int32_t usec)
{
	int64_t days = ts >= 0 ? ts / 86400 : (ts - 86399) / 86400;
	int64_t sod = ts - days * 86400, y;
	unsigned mo, d;
	char buf[40], *o = buf;

	civil_from_days(days, &y, &mo, &d);
	if (y < 0 || y > 9999)
		y = 0;
	o = two(o, (unsigned)(y / 100));
	o = two(o, (unsigned)(y % 100));
	*o++ = '-';
	o = two(o, mo);
	*o++ = '-';
	o = two(o, d);
	*o++ = 'T';
	o = two(o, (unsigned)(sod / 3600));
	*o++ = ':';
	o = two(o, (unsigned)(sod / 60 % 60));
	*o++ = ':';
	o = two(o, (unsigned)(sod % 60));
	if (usec >= 0) {
		*o++ = '.';
		for (int div = 100000; div > 0; div /= 10)
			*o++ = (char)('0' + usec / div % 10);
	}
	*o++ = 'Z';
	ob_put(ob, buf, (size_t)(o - buf));
}

void
event_json(struct outbuf *ob, const struct event *e, const char *file)
{
	event_json_more(ob, e, file, NULL);
}

void
event_json_more(struct outbuf *ob, const struct event *e, const char *file,
    void (*more)(struct outbuf *ob, const struct event *e))
{
	OB_LIT(ob, "{\"line\":");
	ob_put_u64(ob, e->line);
	if (file != NULL) {
		OB_LIT(ob, ",\"file\":");
		ob_put_json_str(ob, file, strlen(file));
	}
	OB_LIT(ob, ",\"ts\":\"");
	put_iso8601(ob, e->ts, e->usec);
	OB_LIT(ob, "\",\"mta\":\"");
	ob_put(ob, e->mta, strlen(e->mta));
	OB_LIT(ob, "\",\"type\":\"");
	const char *tn = ev_type_name(e->type);
	ob_put(ob, tn, strlen(tn));
	ob_putc(ob, '"');
	if (e->ip.family) {
		char a[ADDR_STRLEN];
		size_t n = addr_format(&e->ip, a);

		OB_LIT(ob, ",\"ip\":\"");
		ob_put(ob, a, n);
		ob_putc(ob, '"');
	}
	for (uint32_t m = e->present; m != 0; m &= m - 1) {
		enum ev_field f = (enum ev_field)__builtin_ctz(m);
		const char *name = ev_field_name(f);

		OB_LIT(ob, ",\"");
		ob_put(ob, name, strlen(name));
		OB_LIT(ob, "\":");
		if (ev_field_kind(f) == FK_NUM)
			ob_put_i64(ob, e->num[f]);
		else
			ob_put_json_str(ob, e->str[f].p, e->str[f].n);
	}
	if (more != NULL)
		more(ob, e);
	OB_LIT(ob, "}\n");
}
