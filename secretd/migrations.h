/*
 * migrations.h - the schema migrations compiled into secretd (from sql/,
 * by sql/embed.sh), in ascending version order.
 */
#ifndef SECRETD_MIGRATIONS_H
#define SECRETD_MIGRATIONS_H

struct migration {
	int		 version;
	const char	*name;
	const char	*sql;
};

extern const struct migration migrations[];
extern const int n_migrations;

#endif
