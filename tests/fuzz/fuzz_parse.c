/*
 * fuzz_parse.c - libFuzzer target: arbitrary bytes through the whole parse
 * stage (header split, routing, pattern tables, queue-ID join, JSON output).
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined and
 * run by `./run fuzz [SECONDS]` from the golden logs as seed corpus. The
 * parser is kept across inputs, as in the daemon, so the correlation
 * table sees long, adversarial histories.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../common/outbuf.h"
#include "../../parsers/event_json.h"
#include "../../parsers/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parser *p;
	static struct outbuf ob;
	const char *s = (const char *)data, *end = s + size;
	struct event ev;
	uint64_t lineno = 0;

	if (p == NULL) {
		struct parser_opts o = { .corr_capacity = 64, .corr_ttl = 600 };

		p = parser_new(&o);
		ob_init(&ob, -1, 4096);
	}
	parser_begin_input(p, 1700000000);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		if (parser_line(p, s, n, ++lineno, &ev))
			event_json(&ob, &ev, NULL);
		s += n + 1;
	}
	ob.len = 0;
	return 0;
}
