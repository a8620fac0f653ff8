/*
 * ratelimit.c - failed-enrolment limits in the database (ratelimit.h).
 *
 * One row per bucket in enrol_attempt; the statements (store.c) keep the
 * window and the count, and delete windows that have passed.  Clock and
 * count are the database's, shared by every secretd on it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "ratelimit.h"
#include "store.h"

void
ratelimit_bucket(const char *addr, char out[RATELIMIT_BUCKET_MAX])
{
	struct in6_addr a6;
	struct in_addr a4;
	char buf[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
			if (inet_ntop(AF_INET, &a4, buf, sizeof(buf)) != NULL) {
				snprintf(out, RATELIMIT_BUCKET_MAX, "%s", buf);
				return;
			}
		} else {
			memset(&a6.s6_addr[8], 0, 8);
			if (inet_ntop(AF_INET6, &a6, buf, sizeof(buf)) != NULL) {
				snprintf(out, RATELIMIT_BUCKET_MAX, "%s/64",
				    buf);
				return;
			}
		}
	}
	if (inet_pton(AF_INET, addr, &a4) == 1 &&
	    inet_ntop(AF_INET, &a4, buf, sizeof(buf)) != NULL) {
		snprintf(out, RATELIMIT_BUCKET_MAX, "%s", buf);
		return;
	}
	snprintf(out, RATELIMIT_BUCKET_MAX, "%s", addr);
}

int
ratelimit_blocked(struct request *r, int *blocked)
{
	char bucket[RATELIMIT_BUCKET_MAX];
	struct params p;
	PGresult *res;
	int e;

	*blocked = 0;
	ratelimit_bucket(r->sess->client_addr, bucket);
	params_init(&p);
	params_text(&p, bucket);
	params_int(&p, RATELIMIT_FAILURES);
	params_int(&p, RATELIMIT_WINDOW_S);
	if ((e = db_exec_params(r->db, ST_ENROL_BLOCKED, &p, &res)) != 0)
		return e;
	*blocked = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
	PQclear(res);
	return 0;
}

int
ratelimit_fail(struct request *r)
{
	char bucket[RATELIMIT_BUCKET_MAX];
	struct params p;
	int e;

	ratelimit_bucket(r->sess->client_addr, bucket);
	params_init(&p);
	params_text(&p, bucket);
	params_int(&p, RATELIMIT_WINDOW_S);
	db_rollback(r->db);
	e = db_run_params(r->db, ST_ENROL_FAIL, &p);
	if (db_begin(r->db) != 0 && e == 0)
		e = SD_EINTERNAL;
	return e;
}
