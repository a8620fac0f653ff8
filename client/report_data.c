/*
 * report_data.c - the data model of the audit report (report_data.h):
 * typed reads of the response's fields and what is computed from them.
 * The calendar is the C library's (timegm, gmtime_r), not ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xmalloc.h"

#include "client/report_data.h"

void
report_meta_now(struct report_meta *m)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(m->generated, sizeof(m->generated),
	    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(m->generated, sizeof(m->generated), "-");
}

const char *
report_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long
report_num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	if (json_integer_value(v) > REPORT_NUM_MAX)
		return REPORT_NUM_MAX;
	return (long long)json_integer_value(v);
}

char *
report_path(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key), *e;
	size_t i, len = 1, off = 0, l;
	const char *s;
	char *out;

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (!json_is_array(v))
		return NULL;
	if (json_array_size(v) == 0)
		return xstrdup("/");
	json_array_foreach(v, i, e)
		len += (json_is_string(e) ? strlen(json_string_value(e)) : 1) +
		    1;
	out = xmalloc(len);
	json_array_foreach(v, i, e) {
		s = json_is_string(e) ? json_string_value(e) : "?";
		l = strlen(s);
		if (i > 0)
			out[off++] = '/';
		memcpy(out + off, s, l);
		off += l;
	}
	out[off] = '\0';
	return out;
}

static int
digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

const char *
report_time(const char *s, char *buf, size_t len)
{
	const char *z;

	if (s == NULL) {
		snprintf(buf, len, "-");
		return buf;
	}
	/* 2026-11-22T10:00:00[.frac](Z|+hh:mm) */
	if (strlen(s) >= 20 && digits(s, 4) && s[4] == '-' &&
	    digits(s + 5, 2) && s[7] == '-' && digits(s + 8, 2) &&
	    (s[10] == 'T' || s[10] == ' ') && digits(s + 11, 2) &&
	    s[13] == ':' && digits(s + 14, 2) && s[16] == ':' &&
	    digits(s + 17, 2)) {
		z = s + 19;
		if (*z == '.')
			for (z++; *z >= '0' && *z <= '9'; z++)
				;
		if (strcmp(z, "Z") == 0 || strcmp(z, "+00:00") == 0 ||
		    strcmp(z, "+00") == 0) {
			snprintf(buf, len, "%.10s %.8s UTC", s, s + 11);
			return buf;
		}
		if ((z[0] == '+' || z[0] == '-') && strlen(z) <= 6 &&
		    digits(z + 1, 2)) {
			snprintf(buf, len, "%.10s %.8s %s", s, s + 11, z);
			return buf;
		}
	}
	snprintf(buf, len, "%s", s);
	return buf;
}

void
report_totals(const json_t *rep, struct report_totals *t)
{
	const json_t *e, *d;
	size_t i, j;
	int seen;

	memset(t, 0, sizeof(*t));
	json_array_foreach(json_object_get(rep, "by_day"), i, e) {
		t->ok += report_num(e, "ok");
		t->denied += report_num(e, "denied");
		t->error += report_num(e, "error");
	}
	t->requests = t->ok + t->denied + t->error;
	json_array_foreach(json_object_get(rep, "by_principal"), i, e) {
		t->reads += report_num(e, "reads");
		t->writes += report_num(e, "writes");
		t->principals++;
	}
	/* Distinct client addresses among the denied attempts. */
	json_array_foreach(json_object_get(rep, "denied"), i, e) {
		const char *a = report_str(e, "client_addr");

		seen = 0;
		for (j = 0; j < i && !seen; j++) {
			const char *b;

			d = json_array_get(json_object_get(rep, "denied"), j);
			b = report_str(d, "client_addr");
			seen = (a == NULL && b == NULL) ||
			    (a != NULL && b != NULL && strcmp(a, b) == 0);
		}
		if (!seen)
			t->sources++;
	}
	t->stale = json_array_size(json_object_get(rep, "stale"));
}

static int
cmp_ranked(const void *a, const void *b)
{
	const struct report_ranked *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if (x->key == NULL || y->key == NULL)
		return (x->key == NULL) - (y->key == NULL);
	return strcmp(x->key, y->key);
}

struct report_ranked *
report_rank(const json_t *arr, const char *name_key, const char *const *keys,
    size_t *n)
{
	struct report_ranked *r;
	const json_t *e;
	size_t i, k;

	*n = json_array_size(arr);
	r = xcalloc(*n + 1, sizeof(*r));
	json_array_foreach(arr, i, e) {
		r[i].e = e;
		r[i].key = report_str(e, name_key);
		for (k = 0; keys[k] != NULL; k++)
			r[i].total += report_num(e, keys[k]);
	}
	qsort(r, *n, sizeof(*r), cmp_ranked);
	return r;
}

#define DAY_S	86400

int
report_day_parse(const char *s, long *day)
{
	struct tm tm;
	time_t t;
	int i;

	if (s == NULL || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)strtol(s, NULL, 10) - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31)
		return -1;
	/* Midnight is a multiple of a day: no -1 ambiguity, exact division. */
	t = timegm(&tm);
	if (t % DAY_S != 0)
		return -1;
	*day = (long)(t / DAY_S);
	return 0;
}

int
report_day_date(long day, struct tm *tm)
{
	time_t t = (time_t)day * DAY_S;

	return gmtime_r(&t, tm) != NULL ? 0 : -1;
}

double
report_duration_days(const char *s)
{
	char *end;
	double v;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	v = strtod(s, &end);
	if (strcmp(end, "d") == 0)
		return v;
	if (strcmp(end, "h") == 0)
		return v / 24;
	if (strcmp(end, "m") == 0)
		return v / 1440;
	if (strcmp(end, "s") == 0)
		return v / 86400;
	return 0;
}
