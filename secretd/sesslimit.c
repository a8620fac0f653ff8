/*
 * sesslimit.c - the session counts of sesslimit.h, under one mutex.  Each
 * principal with a session open has an entry in a small hash table,
 * removed with its last session, so the table never holds more entries
 * than there are sessions.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "sesslimit.h"
#include "xmalloc.h"

#define BUCKETS	256	/* a power of two */

struct count {
	int64_t		 pid;
	int		 n;
	struct count	*next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct count *bucket[BUCKETS];
static int n_known, n_enrol;

static struct count **
slot(int64_t pid)
{
	struct count **p = &bucket[(uint64_t)pid * 0x9e3779b97f4a7c15ULL >> 56 &
	    (BUCKETS - 1)];

	while (*p != NULL && (*p)->pid != pid)
		p = &(*p)->next;
	return p;
}

int
sesslimit_begin(const struct config *cfg, int64_t pid, char *why,
    size_t whylen)
{
	struct count **p;
	int e = 0;

	pthread_mutex_lock(&mu);
	if (pid == 0) {
		if (n_enrol >= cfg->max_enrol_sessions) {
			snprintf(why, whylen, "too many enrol-only sessions "
			    "(max_enrol_sessions = %d), retry later",
			    cfg->max_enrol_sessions);
			e = SD_ERATE;
		} else
			n_enrol++;
		goto out;
	}
	if (n_known >= cfg->max_connections) {
		snprintf(why, whylen, "too many connections");
		e = SD_EUNAVAIL;
		goto out;
	}
	p = slot(pid);
	if (*p != NULL && (*p)->n >= cfg->max_sessions_per_principal) {
		snprintf(why, whylen, "this principal has %d sessions open "
		    "(max_sessions_per_principal), retry later", (*p)->n);
		e = SD_ERATE;
		goto out;
	}
	if (*p == NULL) {
		*p = xcalloc(1, sizeof(**p));
		(*p)->pid = pid;
	}
	(*p)->n++;
	n_known++;
out:
	pthread_mutex_unlock(&mu);
	return e;
}

void
sesslimit_end(int64_t pid)
{
	struct count **p, *c;

	pthread_mutex_lock(&mu);
	if (pid == 0) {
		n_enrol--;
	} else if (*(p = slot(pid)) != NULL) {
		n_known--;
		if (--(*p)->n == 0) {
			c = *p;
			*p = c->next;
			free(c);
		}
	}
	pthread_mutex_unlock(&mu);
}

void
sesslimit_counts(int *known, int *enrol)
{
	pthread_mutex_lock(&mu);
	*known = n_known;
	*enrol = n_enrol;
	pthread_mutex_unlock(&mu);
}
