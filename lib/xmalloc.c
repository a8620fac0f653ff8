/*
 * xmalloc.c - checked allocation (after OpenSSH xmalloc.c).
 *
 * Out of memory is fatal: the message goes straight to stderr with one
 * write(2) so this file does not depend on log.c (log.c allocates
 * nothing, but keeping the two apart avoids any cycle).  Every n * size is
 * overflow-checked.  freezero() wipes with sodium_memzero, which the
 * compiler may not elide.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "xmalloc.h"

static void __attribute__((noreturn))
xmalloc_oom(void)
{
	static const char msg[] = "out of memory\n";
	ssize_t r;

	r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	exit(1);
}

void *
xmalloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		xmalloc_oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (SIZE_MAX / nmemb < size)
		xmalloc_oom();
	if ((p = calloc(nmemb, size)) == NULL)
		xmalloc_oom();
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (SIZE_MAX / nmemb < size)
		xmalloc_oom();
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		xmalloc_oom();
	return p;
}

char *
xstrdup(const char *s)
{
	size_t len = strlen(s);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len + 1);
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (r < 0)
		xmalloc_oom();
	return p;
}

void
freezero(void *ptr, size_t len)
{
	if (ptr == NULL)
		return;
	sodium_memzero(ptr, len);
	free(ptr);
}

void
freezero_str(char *s)
{
	if (s == NULL)
		return;
	freezero(s, strlen(s));
}

/*
 * jansson wrappers.  The block size comes from malloc_usable_size() rather
 * than a header in front of the block: jansson hands some of its blocks to
 * callers (json_dumps() results), who release them with plain free(), and
 * a header would make that corrupt the heap.  With no header both frees
 * are valid; only json_free_wiping() wipes.  Out of memory is fatal here
 * as everywhere else.
 */
static void *
json_malloc_plain(size_t size)
{
	return xmalloc(size);
}

static void
json_free_wiping(void *ptr)
{
	if (ptr == NULL)
		return;
	sodium_memzero(ptr, malloc_usable_size(ptr));
	free(ptr);
}

void
xmalloc_json_wipe_init(void)
{
	json_set_alloc_funcs(json_malloc_plain, json_free_wiping);
}
