/*
 * act_watch.c - secret.watch: subscribe the session to changes below one
 * or more prefixes (watch.h; docs/protocol.md, "Watch").
 *
 * Subscribing needs no permission: an event is sent only for a path the
 * session may read when it happens, checked then, through its key.  The
 * request is audited (a row per prefix); the events are not reads and
 * are not audited (the fetch that follows one is).
 */
#include <string.h>

#include "actions.h"
#include "watch.h"

int
act_secret_watch(struct request *r)
{
	const json_t *jp = json_object_get(r->req, "prefixes"), *v;
	struct sd_path p[WATCH_MAX_PREFIXES];
	const char *why = NULL;
	size_t i, n;
	int e = 0;

	if (!json_is_array(jp) || json_array_size(jp) == 0)
		return req_fail(r, SD_EBADREQ, "prefixes must be a non-empty "
		    "array of paths");
	if ((n = json_array_size(jp)) > WATCH_MAX_PREFIXES)
		return req_fail(r, SD_ETOOLARGE, "at most %d prefixes per "
		    "watch", WATCH_MAX_PREFIXES);
	memset(p, 0, sizeof(p));
	json_array_foreach(jp, i, v)
		if ((e = path_from_json(v, &p[i], &why)) != 0) {
			e = req_fail(r, SD_EBADREQ, "prefixes[%zu]: %s", i,
			    why);
			goto out;
		}
	path_copy(&r->path, &p[0]);
	r->has_path = 1;
	for (i = 1; i < n; i++)
		req_audit_item(r, &p[i], -1, 0);
	if ((e = watch_start(r->ctx, r->sess, p, (int)n, &why)) != 0)
		r->why = why;
	else
		json_object_set_new(r->resp, "watching",
		    json_integer((json_int_t)n));
 out:
	for (i = 0; i < n; i++)
		path_free(&p[i]);
	return e;
}
