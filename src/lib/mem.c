/* mem: see include/tocsin/mem.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tocsin/log.h"
#include "tocsin/mem.h"

void *
tc_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		tc_fatal("malloc %zu bytes", size);
	return p;
}

void *
tc_xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (p == NULL)
		tc_fatal("calloc %zu x %zu bytes", nmemb, size);
	return p;
}

void *
tc_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		tc_fatal("realloc %zu bytes", size);
	return p;
}

void *
tc_xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		tc_fatalx("reallocarray %zu x %zu overflows", nmemb, size);
	return tc_xrealloc(ptr, nmemb * size);
}

char *
tc_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		tc_fatal("strdup");
	return p;
}

char *
tc_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		tc_fatal("strndup");
	return p;
}

void
tc_free_secret(void *ptr, size_t size)
{
	if (ptr == NULL)
		return;
	explicit_bzero(ptr, size);
	free(ptr);
}
