/*
 * fuzz_dnsreply.c - libFuzzer target: arbitrary bytes as a DNS reply to a
 * DNSBL question (reputation/dnsreply.c).
 *
 * The reply packet comes from whoever answers on the zone's server and
 * port (UDP: anyone who can spoof it or sits on the path, or the DNSBL
 * itself), and c-ares hands it over as it arrived. The first input byte
 * picks the c-ares status the callback got (success, NXDOMAIN, NODATA,
 * timeout, SERVFAIL, refused, or another error); the rest is the packet.
 * An empty packet is also tried as no packet at all (NULL, 0).
 */
#include <ares.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../reputation/dnsreply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int statuses[] = {
	ARES_SUCCESS, ARES_ENOTFOUND, ARES_ENODATA, ARES_ETIMEOUT, ARES_ESERVFAIL, ARES_EREFUSED,
	ARES_EFORMERR, ARES_EBADRESP, ARES_ECONNREFUSED,
};

static void
check(const struct dnsreply *r)
{
	if ((unsigned)r->kind > DNSREPLY_ERROR || r->ttl > DNSREPLY_TTL_MAX)
		abort();
	/* Only a listing or "not listed" may be kept. */
	if (!dnsreply_usable(r->kind) && r->ttl != 0)
		abort();
	if (r->kind == DNSREPLY_LISTED && (r->a >> 24 != 127 || (r->a >> 8) == 0x7fffff))
		abort();
	if (r->kind == DNSREPLY_DENIED && (r->a >> 8) != 0x7fffff)
		abort();
	if (r->kind == DNSREPLY_OUTSIDE && r->a >> 24 == 127)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsreply r;
	int status;

	if (size == 0 || size > 65536)
		return 0;
	status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	dnsreply_read(status, size > 1 ? data + 1 : NULL, (int)(size - 1), &r);
	check(&r);
	/* A packet without the QR bit is a question: never a listing, never "not listed". */
	if (size > 3 && (data[3] & 0x80) == 0 && dnsreply_usable(r.kind))
		abort();
	if (size == 1) {
		dnsreply_read(status, NULL, 0, &r);
		check(&r);
	}
	return 0;
}
