/*
 * xmalloc.h - checked allocation.  Every function here either succeeds or
 * terminates the process with a message: out of memory is not a condition
 * any caller in secretd can recover from sensibly.  Multiplications are
 * overflow-checked.
 */
#ifndef SD_XMALLOC_H
#define SD_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t size);
void	*xcalloc(size_t nmemb, size_t size);
void	*xreallocarray(void *ptr, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
/* asprintf that cannot fail. */
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wipe len bytes at ptr (sodium_memzero) and free it.  NULL is fine. */
void	 freezero(void *ptr, size_t len);
/* Wipe a NUL-terminated string and free it.  NULL is fine. */
void	 freezero_str(char *s);

/*
 * Make jansson allocate through a wrapper that wipes every block on free,
 * so that JSON documents that carried a secret value leave nothing behind.
 * Call once at start-up, before any json_* call.  Blocks carry no header
 * (the size comes from malloc_usable_size), so a json_dumps() result may
 * still be released with plain free() -- which does not wipe it; prefer
 * proto_dump() + freezero() for anything that may hold a secret.
 */
void	 xmalloc_json_wipe_init(void);

#endif
