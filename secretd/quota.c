/*
 * quota.c - per-principal event counts over fixed windows (quota.h).
 *
 * One small fixed table per kind; when a table is full the entry whose
 * window started first is reused, so memory stays bounded whatever
 * principals do.  A principal can only evict others' entries by being
 * many principals, which only an administrator can make.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "quota.h"

#define SLOTS	1024

struct slot {
	int64_t	principal;	/* 0: free */
	time_t	start;
	long	count;
};

static struct slot table[QUOTA__COUNT][SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static const long budget[QUOTA__COUNT] = {
	[QUOTA_DENIALS] = QUOTA_DENIALS_MAX,
	[QUOTA_AUDIT_HASH] = QUOTA_AUDIT_HASH_MAX,
};

static time_t
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* principal's slot with a current window, or NULL; call with mu held. */
static struct slot *
find(struct slot *t, int64_t principal, time_t at)
{
	int i;

	for (i = 0; i < SLOTS; i++)
		if (t[i].principal == principal) {
			if (at - t[i].start >= QUOTA_WINDOW_S) {
				t[i].principal = 0;	/* window over */
				return NULL;
			}
			return &t[i];
		}
	return NULL;
}

int
quota_exhausted(enum quota_kind kind, int64_t principal)
{
	struct slot *s;
	int out;

	if (principal == 0)
		return 0;
	pthread_mutex_lock(&mu);
	s = find(table[kind], principal, now());
	out = s != NULL && s->count >= budget[kind];
	pthread_mutex_unlock(&mu);
	return out;
}

long
quota_left(enum quota_kind kind, int64_t principal)
{
	struct slot *s;
	long left;

	if (principal == 0)
		return budget[kind];
	pthread_mutex_lock(&mu);
	s = find(table[kind], principal, now());
	left = s == NULL ? budget[kind] : budget[kind] - s->count;
	pthread_mutex_unlock(&mu);
	return left > 0 ? left : 0;
}

void
quota_add(enum quota_kind kind, int64_t principal, long n)
{
	struct slot *t = table[kind], *s, *oldest = &t[0];
	time_t at = now();
	int i;

	if (principal == 0 || n <= 0)
		return;
	pthread_mutex_lock(&mu);
	if ((s = find(t, principal, at)) == NULL) {
		for (i = 0; i < SLOTS; i++) {
			if (t[i].principal == 0) {
				oldest = &t[i];
				break;
			}
			if (t[i].start < oldest->start)
				oldest = &t[i];
		}
		s = oldest;
		s->principal = principal;
		s->start = at;
		s->count = 0;
	}
	s->count += n;
	pthread_mutex_unlock(&mu);
}
