/*
 * log.h - logging for all three programs.  Lines go to stderr (journald
 * picks them up under systemd) and carry the program, the level, a
 * per-thread tag (connection or session id) and file:function:line.
 *
 * Never pass a secret value, a token or key material to these functions.
 */
#ifndef SD_LOG_H
#define SD_LOG_H

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR, LOG_LEVEL_FATAL };

/* prog: name printed on each line.  level: lowest level printed. */
void	log_init(const char *prog, enum log_level level);
void	log_set_level(enum log_level level);
/* Parse "debug|info|warn|error"; returns 0 and sets *out, or -1. */
int	log_level_parse(const char *s, enum log_level *out);
/* Tag for lines logged by the calling thread (copied; NULL clears). */
void	log_set_tag(const char *tag);

void	log_emit(enum log_level level, const char *file, const char *func,
	    int line, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	log_fatal_exit(const char *file, const char *func, int line,
	    const char *fmt, ...)
	    __attribute__((format(printf, 4, 5), noreturn));

#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, __FILE__, __func__, __LINE__, __VA_ARGS__)
#define log_info(...)  log_emit(LOG_LEVEL_INFO, __FILE__, __func__, __LINE__, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_LEVEL_WARN, __FILE__, __func__, __LINE__, __VA_ARGS__)
#define log_error(...) log_emit(LOG_LEVEL_ERROR, __FILE__, __func__, __LINE__, __VA_ARGS__)
/* For start-up errors and broken invariants only: logs and exits(1). */
#define fatal(...)     log_fatal_exit(__FILE__, __func__, __LINE__, __VA_ARGS__)

#endif
