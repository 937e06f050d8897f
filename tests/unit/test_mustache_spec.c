/* The official Mustache spec tests (the YAML files of ../shared/reference/mustache-spec,
 * loaded with libyaml): every test of comments, delimiters, interpolation,
 * inverted, partials and sections must pass.  The optional modules
 * (~lambdas, ~inheritance, ~dynamic-names) are not implemented and are
 * counted as skipped.  Skips, saying so, when the spec folder is absent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yaml.h>

#include "tocsin/mustache.h"
#include "tocsin/str.h"

static json_t *
to_json(yaml_document_t *doc, yaml_node_t *n)
{
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = (const char *)n->data.scalar.value;
		char       *end;

		if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return json_string(s);
		if (strcmp(s, "true") == 0)
			return json_true();
		if (strcmp(s, "false") == 0)
			return json_false();
		if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || *s == '\0')
			return json_null();
		{
			long long v = strtoll(s, &end, 10);

			if (*end == '\0')
				return json_integer(v);
		}
		{
			double d = strtod(s, &end);

			if (*end == '\0')
				return json_real(d);
		}
		return json_string(s);
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		json_t *a = json_array();

		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++)
			json_array_append_new(a,
			    to_json(doc, yaml_document_get_node(doc, *i)));
		return a;
	}
	if (n->type == YAML_MAPPING_NODE) {
		json_t *o = json_object();

		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);

			json_object_set_new(o, (const char *)k->data.scalar.value,
			    to_json(doc, yaml_document_get_node(doc, p->value)));
		}
		return o;
	}
	return json_null();
}

struct partials {
	json_t              *src;
	struct tc_mustache **compiled;
	const char         **names;
	size_t               n;
};

static const struct tc_mustache *
find_partial(const char *name, void *arg)
{
	struct partials *p = arg;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->compiled[i];
	return NULL;
}

static const char *
spec_dir(void)
{
	static const char *const dirs[] = { "../shared/reference/mustache-spec",
		"/work/shared/reference/mustache-spec", NULL };
	static char buf[1024];
	const char *env = getenv("TOCSIN_SHARED");
	FILE       *fp;

	if (env) {
		snprintf(buf, sizeof(buf), "%s/reference/mustache-spec", env);
		return buf;
	}
	for (int i = 0; dirs[i]; i++) {
		snprintf(buf, sizeof(buf), "%s/sections.yml", dirs[i]);
		if ((fp = fopen(buf, "r")) != NULL) {
			fclose(fp);
			return dirs[i];
		}
	}
	return NULL;
}

static int passed, failed;

static void
run_file(const char *dir, const char *file)
{
	char            path[1200];
	FILE           *fp;
	yaml_parser_t   parser;
	yaml_document_t doc;
	json_t         *root, *tests, *t;
	size_t          i;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	assert_true(yaml_parser_load(&parser, &doc));
	root = to_json(&doc, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(fp);
	tests = json_object_get(root, "tests");
	json_array_foreach(tests, i, t)
	{
		const char     *name = json_string_value(json_object_get(t, "name"));
		const char     *tpl = json_string_value(json_object_get(t, "template"));
		const char     *want = json_string_value(json_object_get(t, "expected"));
		json_t         *ps = json_object_get(t, "partials");
		struct partials p = { 0 };
		struct tc_mustache *m;
		struct tc_buf   out = TC_BUF_INIT;
		struct tc_err   err;
		const char     *k;
		json_t         *v;

		p.n = json_object_size(ps);
		p.compiled = calloc(p.n + 1, sizeof(*p.compiled));
		p.names = calloc(p.n + 1, sizeof(*p.names));
		p.n = 0;
		json_object_foreach(ps, k, v)
		{
			p.names[p.n] = k;
			p.compiled[p.n] = tc_mustache_compile(k,
			    json_string_value(v), json_string_length(v), &err);
			p.n++;
		}
		m = tc_mustache_compile(name, tpl, strlen(tpl), &err);
		if (m == NULL) {
			printf("FAIL %s / %s: compile: %s\n", file, name, err.msg);
			failed++;
		} else {
			tc_mustache_render(m, json_object_get(t, "data"),
			    TC_MUSTACHE_HTML, find_partial, &p, &out, &err);
			if (strcmp(tc_buf_cstr(&out), want) == 0) {
				passed++;
			} else {
				failed++;
				printf("FAIL %s / %s\n  template: [%s]\n  got:      "
				       "[%s]\n  want:     [%s]\n",
				    file, name, tpl, tc_buf_cstr(&out), want);
			}
		}
		tc_mustache_free(m);
		for (size_t j = 0; j < p.n; j++)
			tc_mustache_free(p.compiled[j]);
		free(p.compiled);
		free(p.names);
		tc_buf_deinit(&out);
	}
	json_decref(root);
}

static void
test_official_spec(void **state)
{
	static const char *const files[] = { "comments.yml", "delimiters.yml",
		"interpolation.yml", "inverted.yml", "partials.yml",
		"sections.yml", NULL };
	const char *dir = spec_dir();
	(void)state;

	if (dir == NULL) {
		print_message("skipped: the Mustache spec (shared/reference/"
			      "mustache-spec) is not here\n");
		skip();
	}
	for (int i = 0; files[i]; i++)
		run_file(dir, files[i]);
	print_message("mustache spec: %d passed, %d failed; optional modules "
		      "~lambdas ~inheritance ~dynamic-names skipped\n",
	    passed, failed);
	assert_int_equal(failed, 0);
	assert_true(passed > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
