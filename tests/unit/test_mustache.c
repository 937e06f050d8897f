/* Unit tests for mustache beyond the spec: hostile values, text mode,
 * compile errors with line numbers, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tocsin/mustache.h"

static const char *
render(const char *tpl, const char *json, enum tc_mustache_mode mode)
{
	static char         out[4096];
	struct tc_err       err;
	struct tc_buf       b = TC_BUF_INIT;
	json_error_t        je;
	json_t             *ctx = json_loads(json, 0, &je);
	struct tc_mustache *m = tc_mustache_compile("t", tpl, strlen(tpl), &err);

	assert_non_null(ctx);
	if (m == NULL) {
		snprintf(out, sizeof(out), "error: %s", err.msg);
	} else {
		assert_int_equal(tc_mustache_render(m, ctx, mode, NULL, NULL, &b,
				     &err),
		    0);
		snprintf(out, sizeof(out), "%s", tc_buf_cstr(&b));
	}
	tc_mustache_free(m);
	json_decref(ctx);
	tc_buf_deinit(&b);
	return out;
}

static void
test_hostile_values(void **state)
{
	(void)state;
	assert_string_equal(render("<td>{{host}}</td>",
				"{\"host\": \"<script>alert('x')</script>&\\\"\"}",
				TC_MUSTACHE_HTML),
	    "<td>&lt;script&gt;alert('x')&lt;/script&gt;&amp;&quot;</td>");
	/* Text mode: no HTML escaping, but no terminal escapes either. */
	assert_string_equal(render("{{v}}", "{\"v\": \"a\\u001b[31mb\\r\\nc\\td\"}",
				TC_MUSTACHE_TEXT),
	    "a?[31mb?\nc\td");
	/* A value that looks like a tag is not expanded again. */
	assert_string_equal(render("{{v}}", "{\"v\": \"{{other}}\", \"other\": \"x\"}",
				TC_MUSTACHE_TEXT),
	    "{{other}}");
}

static void
test_lists_and_numbers(void **state)
{
	(void)state;
	assert_string_equal(render("{{#hosts}}{{ip}}:{{port}} {{/hosts}}",
				"{\"hosts\": [{\"ip\": \"192.0.2.1\", \"port\": "
				"3389}, {\"ip\": \"2001:db8::1\", \"port\": 22}]}",
				TC_MUSTACHE_TEXT),
	    "192.0.2.1:3389 2001:db8::1:22 ");
	assert_string_equal(render("{{^hosts}}none{{/hosts}}",
				"{\"hosts\": []}", TC_MUSTACHE_TEXT),
	    "none");
}

static void
test_compile_errors(void **state)
{
	(void)state;
	assert_string_equal(render("a\nb\n{{#hosts}}\nx\n", "{}",
				TC_MUSTACHE_TEXT),
	    "error: t:3: unclosed section \"hosts\"");
	assert_string_equal(render("{{#a}}\n{{/b}}", "{}", TC_MUSTACHE_TEXT),
	    "error: t:2: closing \"b\" but \"a\" (line 1) is open");
	assert_string_equal(render("x {{/a}}", "{}", TC_MUSTACHE_TEXT),
	    "error: t:1: closing \"a\" that was never opened");
	assert_string_equal(render("one\n{{name", "{}", TC_MUSTACHE_TEXT),
	    "error: t:2: unclosed tag");
	assert_string_equal(render("{{=<%=}}", "{}", TC_MUSTACHE_TEXT),
	    "error: t:1: bad delimiter tag");
	assert_string_equal(render("{{}}", "{}", TC_MUSTACHE_TEXT),
	    "error: t:1: empty tag");
}

static void
test_depth_limit(void **state)
{
	struct tc_buf       t = TC_BUF_INIT;
	struct tc_err       err;
	struct tc_mustache *m;
	(void)state;

	for (int i = 0; i <= TC_MUSTACHE_DEPTH_MAX + 1; i++)
		tc_buf_puts(&t, "{{#a}}");
	for (int i = 0; i <= TC_MUSTACHE_DEPTH_MAX + 1; i++)
		tc_buf_puts(&t, "{{/a}}");
	m = tc_mustache_compile("deep", t.data, t.len, &err);
	assert_null(m);
	assert_non_null(strstr(err.msg, "nested deeper than 64"));
	tc_buf_deinit(&t);
}

static const struct tc_mustache *self_partial;

static const struct tc_mustache *
loop_partial(const char *name, void *arg)
{
	(void)name;
	(void)arg;
	return self_partial;
}

static void
test_partial_recursion_limit(void **state)
{
	struct tc_err err;
	struct tc_buf out = TC_BUF_INIT;
	json_t       *ctx = json_object();
	(void)state;

	self_partial = tc_mustache_compile("loop", "x{{>loop}}", 10, &err);
	assert_int_equal(tc_mustache_render(self_partial, ctx, TC_MUSTACHE_TEXT,
			     loop_partial, NULL, &out, &err),
	    TC_ELIMIT);
	assert_non_null(strstr(err.msg, "partials nested deeper"));
	tc_mustache_free((struct tc_mustache *)(uintptr_t)self_partial);
	json_decref(ctx);
	tc_buf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_lists_and_numbers),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_partial_recursion_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
