/* mem: allocators that abort on out-of-memory.
 *
 * Input sizes are bounded before allocating, so an abort here is a bug, not
 * an attack.  Multiplications are overflow-checked.  Any thread. */
#ifndef TOCSIN_MEM_H
#define TOCSIN_MEM_H

#include <stddef.h>

void *tc_xmalloc(size_t size);
void *tc_xcalloc(size_t nmemb, size_t size);
void *tc_xrealloc(void *ptr, size_t size);
void *tc_xreallocarray(void *ptr, size_t nmemb, size_t size);
char *tc_xstrdup(const char *s);
char *tc_xstrndup(const char *s, size_t n);
/* Wipe then free: for passwords, keys and clear bodies.  NULL is a no-op. */
void tc_free_secret(void *ptr, size_t size);

#define TC_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#ifndef container_of
#define container_of(ptr, type, member)                                        \
	((type *)((char *)(ptr)-offsetof(type, member)))
#endif

#endif
