/*
 * ratelimit.c - a small fixed table of (address, window start, count).
 * When full, the entry with the oldest window is reused, so memory stays
 * bounded whatever a peer sends.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ratelimit.h"

#define SLOTS	1024

static struct slot {
	char	addr[64];
	time_t	start;
	int	count;
} slots[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static time_t
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The slot of addr, or NULL; call with mu held. */
static struct slot *
find(const char *addr, time_t t)
{
	int i;

	for (i = 0; i < SLOTS; i++)
		if (slots[i].count > 0 && strcmp(slots[i].addr, addr) == 0) {
			if (t - slots[i].start >= RATELIMIT_WINDOW_S) {
				slots[i].count = 0;
				return NULL;
			}
			return &slots[i];
		}
	return NULL;
}

int
ratelimit_blocked(const char *addr)
{
	struct slot *s;
	int blocked;

	pthread_mutex_lock(&mu);
	s = find(addr, now());
	blocked = s != NULL && s->count >= RATELIMIT_FAILURES;
	pthread_mutex_unlock(&mu);
	return blocked;
}

void
ratelimit_fail(const char *addr)
{
	struct slot *s, *oldest = &slots[0];
	time_t t = now();
	int i;

	pthread_mutex_lock(&mu);
	if ((s = find(addr, t)) == NULL) {
		for (i = 0; i < SLOTS; i++) {
			if (slots[i].count == 0) {
				oldest = &slots[i];
				break;
			}
			if (slots[i].start < oldest->start)
				oldest = &slots[i];
		}
		s = oldest;
		memset(s, 0, sizeof(*s));
		strncpy(s->addr, addr, sizeof(s->addr) - 1);
		s->start = t;
	}
	s->count++;
	pthread_mutex_unlock(&mu);
}
