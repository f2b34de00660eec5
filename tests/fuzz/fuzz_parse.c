/*
 * fuzz_parse.c - libFuzzer target: arbitrary bytes through the whole parse
 * stage (header split, routing, pattern tables, queue-ID join, JSON output).
 *
 * Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined and
 * run by `./run fuzz [SECONDS]` from the golden logs as seed corpus. The
 * parser and the rules engine (default policy, with small key caps) are
 * kept across inputs, as in the daemon, so the correlation and key tables
 * see long, adversarial histories. The shipped parser blocks (Dovecot,
 * Cyrus) are loaded in front of the built-in modules, as a configuration
 * with them would have them. Each line no pattern understood is
 * also given its shape (parsers/shape.h, as `parse --stats` does), which
 * must be plain printable ASCII, never longer than its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/outbuf.h"
#include "../../parsers/event_json.h"
#include "../../parsers/parser.h"
#include "../../parsers/shape.h"
#include "../../rules/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ignore_diag(void *arg, int warning, const char *msg)
{
	(void)arg;
	(void)warning;
	(void)msg;
}

/* parse --stats' shapes: plain ASCII, within the buffer, NUL-terminated where it says */
static void
check_shape(void *arg, const char *mta, struct span tag, struct span body, struct span line)
{
	char out[97];
	size_t n = line_shape(body.p, body.n, out, sizeof(out));

	(void)arg;
	(void)mta;
	(void)tag;
	(void)line;
	if (n >= sizeof(out) || out[n] != '\0' || strlen(out) != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
}

static void
to_json(void *arg, const struct decision *d)
{
	decision_json(arg, d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parser *p;
	static struct outbuf ob;
	static struct config *conf;
	static struct engine *eng;
	const char *s = (const char *)data, *end = s + size;
	struct event ev;
	uint64_t lineno = 0;

	if (p == NULL) {
		static struct custom_def blocks[4];
		struct parser_opts o = { .corr_capacity = 64, .corr_ttl = 600, .custom = blocks };
		static const char *const sets[] = { "samples/dovecot.conf", "samples/cyrus.conf" };
		static struct config *set_conf[2];	/* (kept: the blocks point into them) */

		for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
			struct config *c = set_conf[i] = conf_load(sets[i], ignore_diag, NULL);

			for (int k = 0; c != NULL && k < c->nparsers && o.ncustom < 4; k++)
				blocks[o.ncustom++] = c->parsers[k];
		}
		p = parser_new(&o);
		parser_on_unmatched(p, check_shape, NULL);
		ob_init(&ob, -1, 4096);
		conf = conf_load("samples/mxguard.conf", ignore_diag, NULL);
		if (conf != NULL) {
			for (int i = 0; i < conf->nrules; i++)
				conf->rules[i]->max_keys = 256;
			eng = engine_new(conf);
		}
	}
	parser_begin_input(p, 1700000000);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		for (int got = parser_line(p, s, n, ++lineno, &ev); got; got = parser_next(p, &ev)) {
			event_json(&ob, &ev, NULL);
			if (eng != NULL)
				engine_event(eng, &ev, to_json, &ob);
		}
		s += n + 1;
	}
	ob.len = 0;
	return 0;
}
