/*
 * envname.c - secret paths to variable names, and which values an env
 * file can hold (envname.h).
 *
 * The name rule is a user interface (scripts and units name the
 * variables): it is documented in secret(1) and `secret fetch --help`
 * and must not change silently.
 */
#include <string.h>
#include <strings.h>

#include "utf8.h"
#include "xmalloc.h"

#include "client/envname.h"

static int
is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

char *
cli_env_name(const char *const *names, int n)
{
	size_t total = 2, o = 0;
	const unsigned char *p;
	char *out;
	int i;

	for (i = 0; i < n; i++)
		total += strlen(names[i]) + 1;
	out = xmalloc(total);
	for (i = 0; i < n; i++) {
		if (i > 0)
			out[o++] = '_';
		for (p = (const unsigned char *)names[i]; *p != '\0'; p++) {
			if (is_alnum(*p))
				out[o++] = (char)(*p >= 'a' && *p <= 'z' ?
				    *p - 'a' + 'A' : *p);
			else if (!utf8_is_cont(*p))
				out[o++] = '_';	/* ASCII or a lead byte */
			/* UTF-8 continuation bytes: the character has its '_' */
		}
	}
	out[o] = '\0';
	if (out[0] >= '0' && out[0] <= '9') {
		memmove(out + 1, out, o + 1);
		out[0] = '_';
	}
	return out;
}

int
cli_env_name_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0' || (*p >= '0' && *p <= '9'))
		return 0;
	for (; *p != '\0'; p++)
		if (!is_alnum(*p) && *p != '_')
			return 0;
	return 1;
}

/*
 * Sources: glibc's elf/unsecvars.h (what ld.so drops for setuid
 * programs), sudo's initial_badenv_table (env.c), and the manuals of the
 * shells and interpreters named.  Keep docs/security.md in step.
 */
#define WHY_LOADER	"the dynamic loader loads or runs the code it names"
#define WHY_GLIBC	"glibc reads code or data from where it names"
#define WHY_RESOLV	"it changes how host names resolve"
#define WHY_LOCALE	"glibc loads locale data it names"
#define WHY_SHELL	"a shell reads or runs code from it"
#define WHY_CMD	"programs run the command it names"
#define WHY_CONF	"programs read their configuration from where it names"
#define WHY_INTERP	"an interpreter loads or runs code from it"
#define WHY_TRUST	"it chooses which certificates or keys are trusted"
#define WHY_TERM	"programs read terminal descriptions where it names"

const struct cli_env_deny cli_env_deny_list[] = {
	/* The dynamic loader and glibc (elf/unsecvars.h and more). */
	{ "LD_*",		WHY_LOADER },
	{ "GCONV_PATH",		WHY_GLIBC },
	{ "GETCONF_DIR",	WHY_GLIBC },
	{ "GLIBC_TUNABLES",	"it tunes glibc's loader and allocator" },
	{ "MALLOC_*",		"it tunes glibc's allocator (MALLOC_TRACE "
				"writes a file it names)" },
	{ "HOSTALIASES",	WHY_RESOLV },
	{ "LOCALDOMAIN",	WHY_RESOLV },
	{ "RES_OPTIONS",	WHY_RESOLV },
	{ "RESOLV_HOST_CONF",	WHY_RESOLV },
	{ "NIS_PATH",		WHY_RESOLV },
	{ "LOCPATH",		WHY_LOCALE },
	{ "NLSPATH",		WHY_LOCALE },
	{ "LANG",		WHY_LOCALE },
	{ "LANGUAGE",		WHY_LOCALE },
	{ "LC_*",		WHY_LOCALE },
	{ "TMPDIR",		"programs make their temporary files where "
				"it names" },
	{ "TZDIR",		WHY_GLIBC },
	/* Shells and the process. */
	{ "PATH",		"every command is looked up where it names" },
	{ "HOME",		"shells and tools read their start-up files "
				"and configuration where it names" },
	{ "SHELL",		WHY_CMD },
	{ "ENV",		WHY_SHELL },
	{ "BASH_*",		WHY_SHELL },
	{ "BASHOPTS",		WHY_SHELL },
	{ "SHELLOPTS",		WHY_SHELL },
	{ "IFS",		"it changes how a shell splits words" },
	{ "CDPATH",		"it changes where a shell's cd goes" },
	{ "GLOBIGNORE",		"it changes what shell patterns match" },
	{ "FPATH",		WHY_SHELL },
	{ "PROMPT_COMMAND",	WHY_SHELL },
	{ "PS1",		WHY_SHELL },
	{ "PS2",		WHY_SHELL },
	{ "PS3",		WHY_SHELL },
	{ "PS4",		WHY_SHELL },
	{ "ZDOTDIR",		WHY_SHELL },
	{ "NULLCMD",		WHY_SHELL },
	{ "READNULLCMD",	WHY_SHELL },
	{ "TMPPREFIX",		WHY_SHELL },
	{ "INPUTRC",		WHY_CONF },
	{ "XDG_*",		WHY_CONF },
	/* Programs that run a command a variable names. */
	{ "EDITOR",		WHY_CMD },
	{ "VISUAL",		WHY_CMD },
	{ "PAGER",		WHY_CMD },
	{ "MANPAGER",		WHY_CMD },
	{ "BROWSER",		WHY_CMD },
	{ "LESSOPEN",		WHY_CMD },
	{ "LESSCLOSE",		WHY_CMD },
	{ "SSH_ASKPASS*",	WHY_CMD },
	{ "SUDO_ASKPASS",	WHY_CMD },
	{ "GIT_*",		WHY_CMD },
	/* Interpreters and runtimes. */
	{ "PYTHON*",		WHY_INTERP },
	{ "PERL*",		WHY_INTERP },
	{ "RUBY*",		WHY_INTERP },
	{ "NODE_*",		WHY_INTERP },
	{ "JAVA_*",		WHY_INTERP },
	{ "_JAVA_OPTIONS",	WHY_INTERP },
	{ "JDK_JAVA_OPTIONS",	WHY_INTERP },
	{ "CLASSPATH",		WHY_INTERP },
	{ "PHPRC",		WHY_INTERP },
	{ "PHP_INI_SCAN_DIR",	WHY_INTERP },
	{ "LUA_*",		WHY_INTERP },
	{ "TCLLIBPATH",		WHY_INTERP },
	{ "DOTNET_*",		WHY_INTERP },
	{ "CORECLR_*",		WHY_INTERP },
	/* Libraries that load code or choose whom to trust. */
	{ "OPENSSL_*",		"OpenSSL loads configuration and modules "
				"(code) it names" },
	{ "SSL_CERT_*",		WHY_TRUST },
	{ "CURL_CA_BUNDLE",	WHY_TRUST },
	{ "REQUESTS_CA_BUNDLE",	WHY_TRUST },
	{ "KRB5_CONFIG",	WHY_TRUST },
	{ "KRB5_KTNAME",	WHY_TRUST },
	{ "TERMINFO",		WHY_TERM },
	{ "TERMINFO_DIRS",	WHY_TERM },
	{ "TERMCAP",		WHY_TERM },
	{ "TERMPATH",		WHY_TERM },
	{ NULL, NULL }
};

/* Whether pattern covers name (a stem "X*" covers every "X..."). */
static int
covers(const char *pattern, const char *name)
{
	size_t l = strlen(pattern);

	if (l > 0 && pattern[l - 1] == '*')
		return strncasecmp(pattern, name, l - 1) == 0;
	return strcasecmp(pattern, name) == 0;
}

const struct cli_env_deny *
cli_env_name_denied(const char *name)
{
	const struct cli_env_deny *d;

	for (d = cli_env_deny_list; d->pattern != NULL; d++)
		if (covers(d->pattern, name))
			return d;
	return NULL;
}

const char *
cli_env_prefix_problem(const char *p, const struct cli_env_deny **hit)
{
	const struct cli_env_deny *d;
	size_t l;

	if (hit != NULL)
		*hit = NULL;
	if (!cli_env_name_valid(p))
		return "it is not the start of a variable name "
		    "([A-Za-z_][A-Za-z0-9_]*)";
	/* A stem the prefix starts with refuses every name under it. */
	for (d = cli_env_deny_list; d->pattern != NULL; d++) {
		l = strlen(d->pattern);
		if (d->pattern[l - 1] == '*' &&
		    strncasecmp(d->pattern, p, l - 1) == 0) {
			if (hit != NULL)
				*hit = d;
			return "every name under it is on the deny-list";
		}
	}
	return NULL;
}

const char *
cli_env_value_problem(const unsigned char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (v[i] == '\0')
			return "it holds a NUL byte";
		if (v[i] == '\'')
			return "it holds a single quote";
		if (v[i] == '\n' || v[i] == '\r')
			return "it holds a line break";
		if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
			return "it holds a control character";
	}
	if (!utf8_valid_nonul(v, len))
		return "it is not valid UTF-8";
	return NULL;
}
