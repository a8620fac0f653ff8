/*
 * err.c - the table behind err.h: SD_E* values, protocol code strings and
 * client exit statuses.  One row per error; nothing else may invent codes.
 */
#include <stddef.h>
#include <string.h>

#include "err.h"

static const struct {
	int		 err;
	const char	*code;
	int		 exit_status;
} err_table[] = {
	{ SD_EBADREQ,	"bad_request",		1 },
	{ SD_EUNAUTH,	"unauthenticated",	3 },
	{ SD_EPERM,	"permission_denied",	4 },
	{ SD_ENOTFOUND,	"not_found",		5 },
	{ SD_EEXISTS,	"exists",		1 },
	{ SD_ECONFLICT,	"conflict",		6 },
	{ SD_ETOOLARGE,	"too_large",		1 },
	{ SD_ERATE,	"rate_limited",		1 },
	{ SD_EUNAVAIL,	"unavailable",		1 },
	{ SD_EINTERNAL,	"internal",		1 },
};

#define ERR_TABLE_LEN (sizeof(err_table) / sizeof(err_table[0]))

const char *
sd_err_code(int err)
{
	size_t i;

	for (i = 0; i < ERR_TABLE_LEN; i++)
		if (err_table[i].err == err)
			return err_table[i].code;
	return "internal";
}

int
sd_err_from_code(const char *code)
{
	size_t i;

	if (code == NULL)
		return SD_EINTERNAL;
	for (i = 0; i < ERR_TABLE_LEN; i++)
		if (strcmp(err_table[i].code, code) == 0)
			return err_table[i].err;
	return SD_EINTERNAL;
}

int
sd_err_exit_status(int err)
{
	size_t i;

	if (err == SD_OK)
		return 0;
	for (i = 0; i < ERR_TABLE_LEN; i++)
		if (err_table[i].err == err)
			return err_table[i].exit_status;
	return 1;
}
