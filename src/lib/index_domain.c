/* index_domain: exact-name hash tables behind the domain suffix match
 * (index.c walks the labels of a name from the full name to its last label
 * and looks each suffix up here, so the first hit is the most specific). */
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "tocsin/mem.h"

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
grow(struct name_table *t)
{
	struct name_table n = { 0 };

	n.cap = t->cap ? t->cap * 2 : 1024;
	n.keys = tc_xcalloc(n.cap, sizeof(*n.keys));
	n.asset = tc_xcalloc(n.cap, sizeof(*n.asset));
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (t->keys[i] == NULL)
			continue;
		j = hash(t->keys[i], strlen(t->keys[i])) & (n.cap - 1);
		while (n.keys[j] != NULL)
			j = (j + 1) & (n.cap - 1);
		n.keys[j] = t->keys[i];
		n.asset[j] = t->asset[i];
		n.n++;
	}
	free(t->keys);
	free(t->asset);
	*t = n;
}

int
tc_index__name_put(struct name_table *t, const char *key, uint32_t asset,
    uint32_t *existing)
{
	size_t j, len = strlen(key);

	if ((t->n + 1) * 2 > t->cap)
		grow(t);
	for (j = hash(key, len) & (t->cap - 1); t->keys[j] != NULL;
	     j = (j + 1) & (t->cap - 1))
		if (strcmp(t->keys[j], key) == 0) {
			*existing = t->asset[j];
			return 1;
		}
	t->keys[j] = tc_xstrdup(key);
	t->asset[j] = asset;
	t->n++;
	return 0;
}

uint32_t
tc_index__name_get(const struct name_table *t, const char *key, size_t len)
{
	size_t j;

	if (t->cap == 0)
		return UINT32_MAX;
	for (j = hash(key, len) & (t->cap - 1); t->keys[j] != NULL;
	     j = (j + 1) & (t->cap - 1))
		if (strncmp(t->keys[j], key, len) == 0 &&
		    t->keys[j][len] == '\0')
			return t->asset[j];
	return UINT32_MAX;
}

void
tc_index__name_free(struct name_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->asset);
	memset(t, 0, sizeof(*t));
}
