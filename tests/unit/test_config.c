/*
 * test_config.c - unit tests for common/config.c: defaults, every key,
 * sizes, listen lists, pipes, the file syntax and its error messages.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char err[CONFIG_ERR_MAX];

/* A numeric key, its field and its range, to test them all alike. */
struct numkey {
	const char	*name;
	size_t		 off;
	int		 is_size;	/* a size_t field, else unsigned */
	unsigned long	 min, max;
};

#define OFF(field)	offsetof(struct config, field)

static const struct numkey numkeys[] = {
	{ "max_clients",	OFF(max_clients),	0, 1, 100000 },
	{ "spare_workers",	OFF(spare_workers),	0, 0, 1024 },
	{ "idle_timeout",	OFF(idle_timeout),	0, 0, 604800 },
	{ "flood_rate",		OFF(flood_rate),	0, 0, 1000000 },
	{ "flood_burst",	OFF(flood_burst),	0, 1, 1000000 },
	{ "shutdown_grace",	OFF(shutdown_grace),	0, 0, 3600 },
	{ "pipe_timeout",	OFF(pipe_timeout),	0, 1, 3600 },
	{ "max_line",		OFF(max_line),		1, 64, 65536 },
	{ "max_output_queue",	OFF(max_output_queue),	1, 4096, 1073741824 },
	{ "pipe_max_output",	OFF(pipe_max_output),	1, 1, 16777216 },
};

/* config_set() with the shared error buffer. */
static int
set(struct config *cfg, const char *key, const char *value)
{
	err[0] = '\0';
	return config_set(cfg, key, value, err, sizeof(err));
}

/* config_parse() of a C string, named "t.conf". */
static int
parse(struct config *cfg, const char *text)
{
	err[0] = '\0';
	return config_parse(cfg, text, strlen(text), "t.conf", err,
	    sizeof(err));
}

/* True if parsing text on fresh defaults fails with exactly msg. */
static int
parse_fails(const char *text, const char *msg)
{
	struct config cfg;
	int ok;

	config_defaults(&cfg);
	ok = parse(&cfg, text) == -1 && strcmp(err, msg) == 0;
	if (!ok)
		printf("# got: %s\n", err);
	config_free(&cfg);
	return ok;
}

/* The value of a numeric key's field. */
static unsigned long
field(const struct config *cfg, const struct numkey *nk)
{
	const char *p = (const char *)cfg + nk->off;

	if (nk->is_size)
		return *(const size_t *)(const void *)p;
	return *(const unsigned *)(const void *)p;
}

/* The built-in values. */
static void
test_defaults(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK(cfg.nlisten == 1 && strcmp(cfg.listen[0], "127.0.0.1:2000") == 0,
	    "default listen is 127.0.0.1:2000");
	CHECK(cfg.listen_default, "listen_default is set");
	CHECK(cfg.max_clients == 1000 && cfg.spare_workers == 4,
	    "default max_clients and spare_workers");
	CHECK(cfg.admin == ADMIN_OPERATORS && cfg.oper_password_file == NULL,
	    "default admin and oper_password_file");
	CHECK(cfg.idle_timeout == 0 && cfg.max_line == 4096 &&
	    cfg.max_output_queue == 1048576, "default timeout and sizes");
	CHECK(cfg.flood_rate == 10 && cfg.flood_burst == 20 &&
	    cfg.shutdown_grace == 5 && cfg.pipe_timeout == 5 &&
	    cfg.pipe_max_output == 65536, "default flood, grace and pipe");
	CHECK(cfg.log_level == LL_INFO && cfg.npipes == 0,
	    "default log_level, no pipes");
	config_free(&cfg);
	config_free(&cfg);
	CHECK(cfg.nlisten == 0 && cfg.oper_password_file == NULL,
	    "config_free twice is safe");
	config_defaults(&cfg);
	CHECK(cfg.nlisten == 1, "re-default after free");
	config_free(&cfg);
}

/* Every numeric key: both ends of its range, one past each, junk. */
static void
test_numbers(void)
{
	const struct numkey *nk;
	struct config cfg;
	char buf[32];

	config_defaults(&cfg);
	for (nk = numkeys; nk < numkeys + sizeof(numkeys) /
	    sizeof(numkeys[0]); nk++) {
		snprintf(buf, sizeof(buf), "%lu", nk->min);
		CHECK(set(&cfg, nk->name, buf) == 0 && field(&cfg, nk) ==
		    nk->min, "%s = %s (min)", nk->name, buf);
		snprintf(buf, sizeof(buf), "%lu", nk->max);
		CHECK(set(&cfg, nk->name, buf) == 0 && field(&cfg, nk) ==
		    nk->max, "%s = %s (max)", nk->name, buf);
		snprintf(buf, sizeof(buf), "%lu", nk->max + 1);
		CHECK(set(&cfg, nk->name, buf) == -1 && field(&cfg, nk) ==
		    nk->max, "%s = %s is refused", nk->name, buf);
		if (nk->min > 0) {
			snprintf(buf, sizeof(buf), "%lu", nk->min - 1);
			CHECK(set(&cfg, nk->name, buf) == -1,
			    "%s = %s is refused", nk->name, buf);
		}
		CHECK(set(&cfg, nk->name, "12x") == -1 &&
		    strstr(err, "is not a number") != NULL,
		    "%s = 12x is refused", nk->name);
	}
	CHECK(set(&cfg, "max_line", "12x") == -1 &&
	    strcmp(err, "max_line: '12x' is not a number") == 0,
	    "junk error text: %s", err);
	CHECK(set(&cfg, "max_line", "10") == -1 &&
	    strcmp(err, "max_line: 10 is out of range (64..65536)") == 0,
	    "range error text: %s", err);
	CHECK(set(&cfg, "max_clients", "") == -1, "empty number is refused");
	CHECK(set(&cfg, "max_clients", "+5") == -1, "a sign is refused");
	CHECK(set(&cfg, "max_clients", "-5") == -1, "a minus is refused");
	CHECK(set(&cfg, "max_clients", "0x10") == -1, "hex is refused");
	CHECK(set(&cfg, "max_clients", " 5") == -1, "a blank is refused");
	CHECK(set(&cfg, "max_clients", "5k") == -1,
	    "no suffix on a count");
	CHECK(set(&cfg, "max_clients", "99999999999999999999999") == -1 &&
	    strstr(err, "out of range") != NULL, "overflow is out of range");
	config_free(&cfg);
}

/* k and m suffixes on sizes. */
static void
test_sizes(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK(set(&cfg, "max_output_queue", "1M") == 0 &&
	    cfg.max_output_queue == 1048576, "1M is 1048576");
	CHECK(set(&cfg, "max_output_queue", "2m") == 0 &&
	    cfg.max_output_queue == 2097152, "2m is 2097152");
	CHECK(set(&cfg, "max_line", "64k") == 0 && cfg.max_line == 65536,
	    "64k is 65536");
	CHECK(set(&cfg, "max_line", "1K") == 0 && cfg.max_line == 1024,
	    "1K is 1024");
	CHECK(set(&cfg, "max_line", "65k") == -1, "65k is out of range");
	CHECK(set(&cfg, "max_output_queue", "1024M") == 0 &&
	    cfg.max_output_queue == 1073741824, "1024M is the maximum");
	CHECK(set(&cfg, "max_output_queue", "1G") == -1, "no G suffix");
	CHECK(set(&cfg, "max_line", "k") == -1, "a suffix alone is junk");
	CHECK(set(&cfg, "max_line", "1kk") == -1, "two suffixes are junk");
	CHECK(set(&cfg, "max_line", "1 k") == -1, "a blank before k is junk");
	CHECK(set(&cfg, "pipe_max_output", "18014398509481984k") == -1 &&
	    strstr(err, "out of range") != NULL,
	    "overflow by the suffix is out of range");
	config_free(&cfg);
}

/* admin, oper_password_file, log_level, unknown keys. */
static void
test_other_keys(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK(set(&cfg, "admin", "everyone") == 0 &&
	    cfg.admin == ADMIN_EVERYONE, "admin = everyone");
	CHECK(set(&cfg, "admin", "operators") == 0 &&
	    cfg.admin == ADMIN_OPERATORS, "admin = operators");
	CHECK(set(&cfg, "admin", "x") == -1 && strcmp(err,
	    "admin: 'x' must be 'everyone' or 'operators'") == 0,
	    "admin error text: %s", err);
	CHECK(set(&cfg, "oper_password_file", "/etc/a") == 0 &&
	    set(&cfg, "oper_password_file", "/etc/b") == 0 &&
	    strcmp(cfg.oper_password_file, "/etc/b") == 0,
	    "oper_password_file replaces the last one");
	CHECK(set(&cfg, "oper_password_file", "etc/a") == -1 &&
	    strcmp(cfg.oper_password_file, "/etc/b") == 0,
	    "relative oper_password_file is refused");
	CHECK(set(&cfg, "log_level", "debug") == 0 &&
	    cfg.log_level == LL_DEBUG, "log_level = debug");
	CHECK(set(&cfg, "log_level", "error") == 0 &&
	    cfg.log_level == LL_ERROR, "log_level = error");
	CHECK(set(&cfg, "log_level", "loud") == -1 &&
	    cfg.log_level == LL_ERROR, "log_level = loud is refused");
	CHECK(set(&cfg, "foo", "1") == -1 &&
	    strcmp(err, "unknown key 'foo'") == 0, "unknown key text: %s",
	    err);
	CHECK(set(&cfg, "pipe", "/bin/cat") == -1, "bare 'pipe' is unknown");
	config_free(&cfg);
}

/* The default address, lists, duplicates, the limit, clearing. */
static void
test_listen(void)
{
	struct config cfg;
	char addr[80];
	int i;

	config_defaults(&cfg);
	CHECK(set(&cfg, "listen", "[::1]:2000") == 0 && cfg.nlisten == 1 &&
	    strcmp(cfg.listen[0], "[::1]:2000") == 0 && !cfg.listen_default,
	    "the first listen replaces the default");
	CHECK(set(&cfg, "listen", "0.0.0.0:2001") == 0 && cfg.nlisten == 2,
	    "the second listen adds to the list");
	CHECK(set(&cfg, "listen", "[::1]:2000") == -1 && cfg.nlisten == 2,
	    "the same address twice is refused");
	CHECK(set(&cfg, "listen", "a b") == -1, "an address with a space");
	CHECK(set(&cfg, "listen", "") == -1, "an empty address");
	memset(addr, 'a', 64);
	addr[64] = '\0';
	CHECK(set(&cfg, "listen", addr) == -1, "a 64-character address");
	addr[63] = '\0';
	CHECK(set(&cfg, "listen", addr) == 0, "a 63-character address");
	for (i = cfg.nlisten; i < CONFIG_MAX_LISTEN; i++) {
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", 3000 + i);
		if (set(&cfg, "listen", addr) == -1)
			break;
	}
	CHECK(cfg.nlisten == CONFIG_MAX_LISTEN, "16 addresses fit");
	CHECK(set(&cfg, "listen", "127.0.0.1:4000") == -1 &&
	    cfg.nlisten == CONFIG_MAX_LISTEN, "a 17th address is refused");
	config_listen_clear(&cfg);
	CHECK(cfg.nlisten == 0 && cfg.listen_default,
	    "config_listen_clear empties the list");
	CHECK(set(&cfg, "listen", "127.0.0.1:5000") == 0 &&
	    cfg.nlisten == 1 && !cfg.listen_default,
	    "after clearing, listen starts a fresh list");
	config_free(&cfg);
}

/* pipe.NAME: argv, names, paths, redefinition, limits. */
static void
test_pipes(void)
{
	const struct pipe_prog *pp;
	struct config cfg;
	char key[32], words[200];
	int i;

	config_defaults(&cfg);
	CHECK(set(&cfg, "pipe.rev", " /usr/bin/rev -a") == -1 &&
	    set(&cfg, "pipe.rev", "/usr/bin/rev -a ") == -1 &&
	    set(&cfg, "pipe.rev", "/usr/bin/rev #a") == -1 &&
	    set(&cfg, "pipe.rev", "/usr/bin/rev\n-a") == -1,
	    "values a file could not say are refused (end blanks, #word, LF)");
	CHECK(set(&cfg, "pipe.rev", "/usr/bin/rev  -a\tb") == 0 &&
	    (pp = config_pipe(&cfg, "rev")) != NULL, "pipe.rev is defined");
	CHECK(pp != NULL && strcmp(pp->argv[0], "/usr/bin/rev") == 0 &&
	    strcmp(pp->argv[1], "-a") == 0 && strcmp(pp->argv[2], "b") == 0 &&
	    pp->argv[3] == NULL, "argv is split on blanks, NULL-terminated");
	CHECK(set(&cfg, "pipe.rev", "/bin/cat") == 0 && cfg.npipes == 1 &&
	    strcmp(config_pipe(&cfg, "rev")->argv[0], "/bin/cat") == 0 &&
	    config_pipe(&cfg, "rev")->argv[1] == NULL,
	    "redefining a pipe replaces it");
	CHECK(config_pipe(&cfg, "re") == NULL, "config_pipe needs the name");
	CHECK(set(&cfg, "pipe.x", "bin/cat") == -1 &&
	    config_pipe(&cfg, "x") == NULL, "a relative path is refused");
	CHECK(set(&cfg, "pipe.x", " ") == -1, "an empty command is refused");
	CHECK(set(&cfg, "pipe.", "/bin/cat") == -1, "an empty name");
	CHECK(set(&cfg, "pipe.a.b", "/bin/cat") == -1, "a '.' in a name");
	CHECK(set(&cfg, "pipe.abcdefghijklmnopq", "/bin/cat") == -1,
	    "a 17-character name");
	CHECK(set(&cfg, "pipe.Ab-c_9", "/bin/cat") == 0,
	    "letters, digits, '-' and '_'");
	strcpy(words, "/bin/echo");
	for (i = 1; i < CONFIG_MAX_ARGS; i++)
		strcat(words, " w");
	CHECK(set(&cfg, "pipe.w", words) == 0 &&
	    config_pipe(&cfg, "w")->argv[CONFIG_MAX_ARGS - 1] != NULL,
	    "32 words fit");
	strcat(words, " w");
	CHECK(set(&cfg, "pipe.w", words) == -1, "33 words are refused");
	for (i = cfg.npipes; i < CONFIG_MAX_PIPES; i++) {
		snprintf(key, sizeof(key), "pipe.p%d", i);
		if (set(&cfg, key, "/bin/cat") == -1)
			break;
	}
	CHECK(cfg.npipes == CONFIG_MAX_PIPES, "64 pipes fit");
	CHECK(set(&cfg, "pipe.one_more", "/bin/cat") == -1,
	    "a 65th pipe is refused");
	CHECK(set(&cfg, "pipe.rev", "/bin/rev") == 0,
	    "but 64 pipes may still be redefined");
	config_free(&cfg);
}

/* Comments, blanks, CRLF, a missing last newline. */
static void
test_syntax(void)
{
	struct config cfg;
	const struct pipe_prog *pp;

	config_defaults(&cfg);
	CHECK(parse(&cfg, "# a comment\n\n   # indented\n\t\n"
	    "max_clients=5 # trailing\n  flood_rate  =  7  \n") == 0 &&
	    cfg.max_clients == 5 && cfg.flood_rate == 7,
	    "comments, blank lines and spacing");
	CHECK(parse(&cfg, "pipe.h = /bin/echo a#b #c\n") == 0 &&
	    (pp = config_pipe(&cfg, "h")) != NULL &&
	    strcmp(pp->argv[1], "a#b") == 0 && pp->argv[2] == NULL,
	    "'#' inside a word is kept");
	CHECK(parse(&cfg, "oper_password_file=/x#y\n") == 0 &&
	    strcmp(cfg.oper_password_file, "/x#y") == 0,
	    "'#' after '=' is not a comment");
	CHECK(parse(&cfg, "max_clients = 9") == 0 && cfg.max_clients == 9,
	    "no trailing newline");
	CHECK(parse(&cfg, "max_clients = 11\r\n") == 0 &&
	    cfg.max_clients == 11, "CRLF line ends");
	CHECK(parse(&cfg, "listen = 127.0.0.1:1\nlisten = 127.0.0.1:2\n") ==
	    0 && cfg.nlisten == 2, "listen may repeat in a file");
	config_free(&cfg);
}

/* Error messages name the file and line. */
static void
test_errors(void)
{
	static const char nul[] = "max_clients = 5\nmax_line = 1\0002\n";
	struct config cfg;
	char *big;

	CHECK(parse_fails("max_clients = 5\n\nmax_line = 100\n\n\n\n\n\n"
	    "max_line = 200\n", "t.conf:9: key 'max_line' is set twice "
	    "(first on line 3)"), "set twice names both lines");
	CHECK(parse_fails("pipe.a = /bin/a\npipe.a = /bin/b\n",
	    "t.conf:2: key 'pipe.a' is set twice (first on line 1)"),
	    "a pipe defined twice in one file");
	CHECK(parse_fails("max_clients = 5\nfoo = 1\n",
	    "t.conf:2: unknown key 'foo'"), "unknown key names file and line");
	CHECK(parse_fails("max_clients 5\n",
	    "t.conf:1: expected 'key = value'"), "a line without '='");
	CHECK(parse_fails("= 5\n", "t.conf:1: missing key before '='"),
	    "an empty key");
	CHECK(parse_fails("max_line = # none\n",
	    "t.conf:1: missing value for 'max_line'"), "an empty value");
	CHECK(parse_fails("\nmax_line = 10\n",
	    "t.conf:2: max_line: 10 is out of range (64..65536)"),
	    "a bad value names file and line");
	CHECK(parse_fails("max_clients = 7#x\n",
	    "t.conf:1: max_clients: '7#x' is not a number"),
	    "'#' inside a value is not a comment");
	config_defaults(&cfg);
	CHECK(config_parse(&cfg, nul, sizeof(nul) - 1, "t.conf", err,
	    sizeof(err)) == -1 && strcmp(err, "t.conf:2: NUL byte") == 0,
	    "a NUL byte: %s", err);
	big = malloc(4200);
	memset(big, '#', 4096);
	strcpy(big + 4096, "\nmax_clients = 3\n");
	CHECK(parse(&cfg, big) == 0 && cfg.max_clients == 3,
	    "a 4096-byte line is fine");
	memset(big, '#', 4097);
	strcpy(big + 4097, "\n");
	CHECK(parse(&cfg, big) == -1 && strncmp(err, "t.conf:1: ", 10) == 0,
	    "a 4097-byte line is refused");
	free(big);
	config_free(&cfg);
}

/* Reading files: a good one, a missing one, a too big one. */
static void
test_load(void)
{
	static const char text[] = "max_clients = 42\nmax_line = 8k\n";
	char path[] = "/tmp/test_config.XXXXXX", *big;
	struct config cfg;
	int fd;

	config_defaults(&cfg);
	CHECK(config_load(&cfg, "/nonexistent/forkchatd.conf", err,
	    sizeof(err)) == -1 && strcmp(err, "cannot read "
	    "/nonexistent/forkchatd.conf: No such file or directory") == 0,
	    "a missing file: %s", err);
	fd = mkstemp(path);
	CHECK(fd != -1 && write(fd, text, sizeof(text) - 1) ==
	    (ssize_t)sizeof(text) - 1, "write a temporary file");
	CHECK(config_load(&cfg, path, err, sizeof(err)) == 0 &&
	    cfg.max_clients == 42 && cfg.max_line == 8192, "load a file");
	CHECK(write(fd, "bogus\n", 6) == 6 &&
	    config_load(&cfg, path, err, sizeof(err)) == -1 &&
	    strncmp(err, path, strlen(path)) == 0 &&
	    strstr(err, ":3: expected") != NULL,
	    "errors name the path: %s", err);
	big = calloc(1, 1024 * 1024 + 1);
	memset(big, '\n', 1024 * 1024 + 1);
	CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, big, 1024 * 1024, 0) ==
	    1024 * 1024 && config_load(&cfg, path, err, sizeof(err)) == 0,
	    "a 1 MiB file is fine");
	CHECK(pwrite(fd, big, 1, 1024 * 1024) == 1 &&
	    config_load(&cfg, path, err, sizeof(err)) == -1 &&
	    strstr(err, "larger") != NULL, "a bigger file is refused: %s", err);
	free(big);
	close(fd);
	unlink(path);
	config_free(&cfg);
}

int
main(void)
{
	test_defaults();
	test_numbers();
	test_sizes();
	test_other_keys();
	test_listen();
	test_pipes();
	test_syntax();
	test_errors();
	test_load();
	return unit_done();
}
