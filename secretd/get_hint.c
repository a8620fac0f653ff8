/*
 * get_hint.c - the version a path's latest value had when last read
 * (get_hint.h).  Direct-mapped: a path's slot is its hash; a collision
 * replaces the slot's path, which only costs a guess.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "get_hint.h"
#include "xmalloc.h"

#define HINT_SLOTS	1024	/* a power of two */

static struct {
	char	*path;
	int	 version;
} slot[HINT_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static size_t
slot_of(const char *path)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *path != '\0'; path++)
		h = (h ^ (unsigned char)*path) * 16777619u;
	return h & (HINT_SLOTS - 1);
}

int
get_hint_lookup(const char *path)
{
	size_t i = slot_of(path);
	int version = 0;

	pthread_mutex_lock(&mu);
	if (slot[i].path != NULL && strcmp(slot[i].path, path) == 0)
		version = slot[i].version;
	pthread_mutex_unlock(&mu);
	return version;
}

void
get_hint_store(const char *path, int version)
{
	size_t i = slot_of(path);
	char *old = NULL;

	pthread_mutex_lock(&mu);
	if (slot[i].path == NULL || strcmp(slot[i].path, path) != 0) {
		old = slot[i].path;
		slot[i].path = xstrdup(path);
	}
	slot[i].version = version;
	pthread_mutex_unlock(&mu);
	free(old);
}

void
get_hint_clear(void)
{
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < HINT_SLOTS; i++) {
		free(slot[i].path);
		slot[i].path = NULL;
	}
	pthread_mutex_unlock(&mu);
}
