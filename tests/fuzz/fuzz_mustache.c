/* Fuzz target: Mustache compile and render.  The input is split at the
 * first NUL into a template and a partial named "p", rendered in both modes
 * against a small fixed context. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tocsin/mustache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tc_mustache *partial;

static const struct tc_mustache *
find(const char *name, void *arg)
{
	(void)arg;
	return strcmp(name, "p") == 0 ? partial : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char         *s = (const char *)data;
	const char         *nul = memchr(s, '\0', size);
	size_t              tl = nul ? (size_t)(nul - s) : size;
	struct tc_err       err;
	struct tc_mustache *t, *p = NULL;
	json_t             *ctx = json_pack(
            "{s:s,s:[{s:s},{s:s}],s:b,s:{s:i}}", "name", "<x>&\"", "list", "a",
            "1", "a", "2", "flag", 1, "obj", "n", 5);

	if (nul != NULL)
		p = tc_mustache_compile("p", nul + 1, size - tl - 1, &err);
	partial = p;
	t = tc_mustache_compile("t", s, tl, &err);
	if (t != NULL) {
		for (int mode = 0; mode <= 1; mode++) {
			struct tc_buf out = TC_BUF_INIT;

			(void)tc_mustache_render(t, ctx,
			    (enum tc_mustache_mode)mode, find, NULL, &out, &err);
			tc_buf_deinit(&out);
		}
	}
	tc_mustache_free(t);
	tc_mustache_free(p);
	json_decref(ctx);
	return 0;
}
