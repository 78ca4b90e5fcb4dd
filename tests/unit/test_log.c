/* log: logfmt escaping, request ids, levels, phone masking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log/log.h"

/* Runs `emit` with stderr captured; returns what it wrote. */
static const char *capture(void (*emit)(void))
{
	static char out[8192];
	fflush(stderr);
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	dup2(fileno(tmp), STDERR_FILENO);
	emit();
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, sizeof out - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void emit_escaped(void)
{
	struct log_line l;
	log_set_request_id("req-1");
	log_begin(&l, LOG_INFO, "request");
	log_str(&l, "path", "/v1/customers");
	log_str(&l, "msg", "a \"quoted\" value\nwith=newline\x01");
	log_int(&l, "status", 201);
	log_end(&l);
	log_set_request_id(NULL);
}

static void lines_are_logfmt(void **state)
{
	(void)state;
	const char *out = capture(emit_escaped);
	assert_non_null(strstr(out, " level=info event=request req=req-1 path=/v1/customers "));
	assert_non_null(strstr(out, "msg=\"a \\\"quoted\\\" value\\x0awith=newline\\x01\""));
	assert_non_null(strstr(out, " status=201\n"));
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
}

static void emit_debug(void)
{
	log_msg(LOG_DEBUG, "hidden", "not shown");
	log_msg(LOG_WARN, "shown", "shown");
}

static void levels_filter(void **state)
{
	(void)state;
	log_set_level(LOG_INFO);
	const char *out = capture(emit_debug);
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "event=shown"));
}

static void emit_long(void)
{
	char big[5000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct log_line l;
	log_begin(&l, LOG_INFO, "long");
	log_str(&l, "v", big);
	log_end(&l);
}

static void long_lines_are_cut_and_marked(void **state)
{
	(void)state;
	const char *out = capture(emit_long);
	assert_true(strlen(out) <= LOG_LINE_MAX);
	assert_non_null(strstr(out, " truncated=1\n"));
}

static void phones_are_masked(void **state)
{
	(void)state;
	char out[40];
	log_mask_phone("+14155550123", out, sizeof out);
	assert_string_equal(out, "+*********23");
	assert_null(strstr(out, "4155550"));
	log_mask_phone("", out, sizeof out);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(lines_are_logfmt),
	        cmocka_unit_test(levels_filter),
	        cmocka_unit_test(long_lines_are_cut_and_marked),
	        cmocka_unit_test(phones_are_masked),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
