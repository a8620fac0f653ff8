/*
 * acl.c - permission names <-> bits.  The checks themselves are one line
 * each at the top of every handler (acl_allows), so that a reader sees
 * what an action needs next to what it does.
 */
#include <string.h>

#include "acl.h"

static const char *const node_names[] = { "discover", "read", "write",
    "manage" };
static const char *const global_names[] = { "group_manage",
    "principal_manage", "enrol", "audit" };

int
acl_perms_from_json(const json_t *arr, int global, int *bits,
    const char **why)
{
	const char *const *names = global ? global_names : node_names;
	size_t i;
	int b = 0, k;
	json_t *v;

	if (!json_is_array(arr)) {
		*why = "permissions must be an array of strings";
		return SD_EBADREQ;
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL) {
			*why = "permissions must be an array of strings";
			return SD_EBADREQ;
		}
		for (k = 0; k < 4; k++)
			if (strcmp(s, names[k]) == 0)
				break;
		if (k == 4) {
			*why = global ? "unknown global permission (use "
			    "group_manage, principal_manage, enrol, audit)" :
			    "unknown permission (use discover, read, write, "
			    "manage)";
			return SD_EBADREQ;
		}
		if (b & (1 << k)) {
			*why = "permission listed twice";
			return SD_EBADREQ;
		}
		b |= 1 << k;
	}
	*bits = b;
	return 0;
}

json_t *
acl_perms_to_json(int bits, int global)
{
	const char *const *names = global ? global_names : node_names;
	json_t *a = json_array();
	int k;

	for (k = 0; k < 4; k++)
		if (bits & (1 << k))
			json_array_append_new(a, json_string(names[k]));
	return a;
}
