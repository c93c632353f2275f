/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of control/rpc.c: JSON-RPC 2.0 framing and dispatch, and a
 * mutation fuzz of the request parser (whatever arrives on the socket gets
 * an answer or silence, never a crash or a leak).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control/rpc.h"

static int calls;

static json_t *
m_echo(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	calls++;
	return json_pack("{s:O}", "params", params);
}

static json_t *
m_fail(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	calls++;
	return ctl_rpc_fail(e, CTL_RPC_INVALID_PARAMS, "bad %s", "thing");
}

static json_t *
m_forgot(void *ctx, json_t *params, struct ctl_rpc_error *e)
{
	return NULL; /* an error without a message: must still answer */
}

static const struct ctl_method methods[] = {
	{"test.echo", m_echo},
	{"test.fail", m_fail},
	{"test.forgot", m_forgot},
	{NULL, NULL},
};

/* Handle line; return the parsed answer (or NULL when there is none). */
static json_t *
call(const char *line)
{
	char *out = ctl_rpc_handle(methods, NULL, line, strlen(line));
	json_t *r;

	if (out == NULL)
		return NULL;
	r = json_loads(out, 0, NULL);
	assert_non_null(r);
	assert_null(strchr(out, '\n'));
	free(out);
	return r;
}

static int
error_code(json_t *r)
{
	json_t *e = json_object_get(r, "error");

	assert_non_null(e);
	assert_true(json_is_string(json_object_get(e, "message")));
	return (int)json_integer_value(json_object_get(e, "code"));
}

static void
test_success(void **state)
{
	json_t *r = call(
		"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"test.echo\",\"params\":{\"a\":1}}");

	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(r, "jsonrpc")), "2.0");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(r, "result"), "params"), "a")),
		1);
	assert_null(json_object_get(r, "error"));
	json_decref(r);
	/* String ids come back as they were; absent params are {}. */
	r = call("{\"jsonrpc\":\"2.0\",\"id\":\"x-1\",\"method\":\"test.echo\"}");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "x-1");
	assert_true(json_is_object(json_object_get(json_object_get(r, "result"), "params")));
	json_decref(r);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *line;
		int code;
	} cases[] = {
		{"{", CTL_RPC_PARSE_ERROR},
		{"", CTL_RPC_PARSE_ERROR},
		{"nul\x01l", CTL_RPC_PARSE_ERROR},
		{"[]", CTL_RPC_INVALID_REQUEST},
		{"42", CTL_RPC_INVALID_REQUEST},
		{"{\"id\":1,\"method\":\"test.echo\"}", CTL_RPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"test.echo\"}",
			CTL_RPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1}", CTL_RPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", CTL_RPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"test.echo\"}",
			CTL_RPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.echo\",\"x\":1}",
			CTL_RPC_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}", CTL_RPC_METHOD_NOT_FOUND},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.echo\",\"params\":[1]}",
			CTL_RPC_INVALID_PARAMS},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.fail\"}", CTL_RPC_INVALID_PARAMS},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.forgot\"}", CTL_RPC_INTERNAL},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"test.echo\"}",
			CTL_RPC_PARSE_ERROR},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = call(cases[i].line);

		if (r == NULL)
			fail_msg("no answer to %s", cases[i].line);
		if (error_code(r) != cases[i].code)
			fail_msg("%s: code %d, expected %d", cases[i].line, error_code(r),
				cases[i].code);
		json_decref(r);
	}
}

static void
test_notification(void **state)
{
	calls = 0;
	assert_null(call("{\"jsonrpc\":\"2.0\",\"method\":\"test.echo\"}"));
	assert_int_equal(calls, 1);
}

static void
test_fuzz(void **state)
{
	static const char *const seeds[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"test.echo\",\"params\":{\"a\":[1,2,{"
		"\"b\":\"c\"}]}}",
		"{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"test.fail\",\"params\":{}}",
	};
	char buf[256];
	unsigned seed = 1234;

	for (unsigned n = 0; n < 20000; n++) {
		const char *s = seeds[n % 2];
		size_t len = strlen(s);
		char *out;

		memcpy(buf, s, len);
		for (unsigned k = 0, edits = 1 + rand_r(&seed) % 4; k < edits; k++) {
			size_t at = rand_r(&seed) % len;

			switch (rand_r(&seed) % 3) {
			case 0:
				buf[at] = (char)(rand_r(&seed) & 0xff);
				break;
			case 1:
				len = at; /* truncate */
				break;
			default:
				buf[at] = "{}[]\",:\\0"[rand_r(&seed) % 10];
			}
			if (len == 0)
				break;
		}
		out = ctl_rpc_handle(methods, NULL, buf, len);
		if (out != NULL) {
			json_t *r = json_loads(out, 0, NULL);

			assert_non_null(r);
			json_decref(r);
			free(out);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_notification),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
