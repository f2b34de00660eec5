/*
 * test_shape.c - line shapes (parsers/shape.h): the daemon's words stay,
 * what varies from line to line is masked, so lines of one kind share a
 * shape; what a client wrote (control bytes, bytes past ASCII) never comes
 * out; the output is cut at its size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "../../parsers/shape.h"

static const char *
shape(const char *s)
{
	static char out[256];

	line_shape(s, strlen(s), out, sizeof(out));
	return out;
}

static void
test_masks(void **state)
{
	(void)state;
	assert_string_equal(shape("connect from mail.example.org[198.51.100.7]"), "connect from *[*]");
	assert_string_equal(shape("connect from unknown[2001:db8::1]"), "connect from unknown[*]");
	assert_string_equal(shape("warning: hostname mx.example.net does not resolve to address 203.0.113.9: Name or service not known"),
	    "warning: hostname * does not resolve to address *: Name or service not known");
	assert_string_equal(shape("4F1A22B3C: client=unknown[198.51.100.2]"), "*: client=*");
	assert_string_equal(shape("NOQUEUE: reject: RCPT from x[198.51.100.2]: 550 5.1.1 <u@example.org>: nope; from=<a@b> to=<c@d> proto=ESMTP helo=<x y>"),
	    "NOQUEUE: reject: RCPT from x[*]: * * <*>: nope; from=* to=* proto=* helo=*");
	assert_string_equal(shape("SMTP syntax error in \"HELO a b\" H=[203.0.113.5] unrecognized command"),
	    "SMTP syntax error in \"*\" H=* unrecognized command");
	/* two lines of one kind, one shape */
	assert_string_equal(shape("lost connection after AUTH from unknown[198.51.100.9]"),
	    shape("lost connection after AUTH from unknown[2001:db8:bad::77]"));
}

static void
test_hostile(void **state)
{
	char out[8];

	(void)state;
	/* a terminal escape, a NUL-free control byte, UTF-8: masked words, plain ASCII out */
	assert_string_equal(shape("hello \x1b[31mred\x1b[0m there"), "hello *[*] there");
	assert_string_equal(shape("helo \x07" "bell caf\xc3\xa9 ok"), "helo * * ok");
	assert_string_equal(shape("\"unterminated quote and more"), "\"*\"");
	assert_string_equal(shape("   spaces    between   "), "spaces between");
	assert_string_equal(shape(""), "");
	/* a NUL in the line (found by fuzz_parse: strchr(":,;", 0) matched it as punctuation) */
	assert_int_equal(line_shape("end\0", 4, out, sizeof(out)), 1);
	assert_string_equal(out, "*");
	/* cut at the output's size, always terminated */
	assert_int_equal(line_shape("a long line of words", 20, out, sizeof(out)), 6);
	assert_string_equal(out, "a long");
	assert_int_equal(line_shape("abc", 3, out, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
