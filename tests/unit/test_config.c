/*
 * test_config.c - unit tests for common/config.c and confpipe.c: the
 * defaults, every key and its messages, size suffixes, switches, listen
 * lists checked and compared as parsed addresses, pipes, and the dump
 * of every key type read back the same.  Files and lines are
 * test_confparse.c's.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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
		CHECK(set(&cfg, nk->name, "1.5") == -1 &&
		    strstr(err, "is not a number") != NULL,
		    "%s = 1.5 is refused", nk->name);
	}
	CHECK(set(&cfg, "max_clients", "12x") == -1 &&
	    strcmp(err, "max_clients: '12x' is not a number") == 0,
	    "junk error text: %s", err);
	CHECK(set(&cfg, "max_clients", "0") == -1 &&
	    strcmp(err, "max_clients: 0 is out of range (1..100000)") == 0,
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

/* K, M and G suffixes on sizes, and what a wrong one is told. */
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
	CHECK(set(&cfg, "max_output_queue", "1G") == 0 &&
	    cfg.max_output_queue == 1073741824, "1G is 1073741824");
	CHECK(set(&cfg, "max_output_queue", "16k") == 0 &&
	    set(&cfg, "max_output_queue", "1g") == 0 &&
	    cfg.max_output_queue == 1073741824, "1g is 1G too");
	CHECK(set(&cfg, "max_output_queue", "1024M") == 0 &&
	    cfg.max_output_queue == 1073741824, "1024M is the maximum");
	CHECK(set(&cfg, "max_output_queue", "1T") == -1 && strcmp(err,
	    "max_output_queue: '1T': unknown size suffix 'T' "
	    "(use K, M or G)") == 0 && cfg.max_output_queue == 1073741824,
	    "1T: %s", err);
	CHECK(set(&cfg, "max_line", "1MB") == -1 && strcmp(err,
	    "max_line: '1MB': unknown size suffix 'MB' (use K, M or G)") == 0,
	    "1MB: %s", err);
	CHECK(set(&cfg, "max_line", "12x") == -1 && strcmp(err,
	    "max_line: '12x': unknown size suffix 'x' (use K, M or G)") == 0,
	    "12x: %s", err);
	CHECK(set(&cfg, "max_line", "1kk") == -1 &&
	    strstr(err, "unknown size suffix 'kk'") != NULL,
	    "two suffixes: %s", err);
	CHECK(set(&cfg, "max_output_queue", "2G") == -1 && strcmp(err,
	    "max_output_queue: 2G is out of range (4K..1G)") == 0,
	    "the range in the units people type: %s", err);
	CHECK(set(&cfg, "max_line", "10") == -1 && strcmp(err,
	    "max_line: 10 is out of range (64..64K)") == 0,
	    "a range of plain bytes and K: %s", err);
	CHECK(set(&cfg, "max_line", "65k") == -1 && strcmp(err,
	    "max_line: 65k is out of range (64..64K)") == 0,
	    "65k: %s", err);
	CHECK(set(&cfg, "pipe_max_output", "17M") == -1 && strcmp(err,
	    "pipe_max_output: 17M is out of range (1..16M)") == 0,
	    "17M: %s", err);
	CHECK(set(&cfg, "pipe_max_output", "16777217") == -1 &&
	    strstr(err, "(1..16M)") != NULL, "one byte past 16M");
	CHECK(set(&cfg, "max_line", "k") == -1 &&
	    strcmp(err, "max_line: 'k' is not a number") == 0,
	    "a suffix alone is junk: %s", err);
	CHECK(set(&cfg, "max_line", "1 k") == -1 &&
	    strstr(err, "is not a number") != NULL, "a blank before k");
	CHECK(set(&cfg, "max_line", "1.5K") == -1 &&
	    strstr(err, "is not a number") != NULL, "no fractions");
	CHECK(set(&cfg, "max_line", "-1K") == -1 &&
	    strstr(err, "is not a number") != NULL, "no sign");
	CHECK(set(&cfg, "pipe_max_output", "18014398509481984k") == -1 &&
	    strstr(err, "out of range") != NULL,
	    "overflow by the suffix is out of range");
	CHECK(set(&cfg, "pipe_max_output", "99999999999999999999999G") ==
	    -1 && strstr(err, "out of range") != NULL,
	    "overflow of the digits is out of range");
	CHECK(cfg.max_line == 1024 && cfg.pipe_max_output == 65536,
	    "refused values change nothing");
	config_free(&cfg);
}

/* telnet_negotiation: a switch, on by default. */
static void
test_bool(void)
{
	static const char *const on[] = { "on", "yes", "true" };
	static const char *const off[] = { "off", "no", "false" };
	struct config cfg;

	config_defaults(&cfg);
	CHECK(cfg.telnet_negotiation, "telnet_negotiation is on by default");
	for (int i = 0; i < 3; i++) {
		CHECK(set(&cfg, "telnet_negotiation", off[i]) == 0 &&
		    !cfg.telnet_negotiation, "telnet_negotiation = %s", off[i]);
		CHECK(set(&cfg, "telnet_negotiation", on[i]) == 0 &&
		    cfg.telnet_negotiation, "telnet_negotiation = %s", on[i]);
	}
	CHECK(set(&cfg, "telnet_negotiation", "1") == -1 && strcmp(err,
	    "telnet_negotiation: '1' must be on or off (or yes/no, "
	    "true/false)") == 0, "bool error text: %s", err);
	CHECK(set(&cfg, "telnet_negotiation", "On") == -1 &&
	    set(&cfg, "telnet_negotiation", "offf") == -1 &&
	    cfg.telnet_negotiation, "words are exact and case-sensitive");
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
	CHECK(strcmp(err, "log_level: 'loud' must be error, warning, notice, "
	    "info or debug") == 0, "log_level error text: %s", err);
	CHECK(set(&cfg, "log_format", "plain") == 0 &&
	    cfg.log_format == LOG_FORMAT_PLAIN && set(&cfg, "log_format",
	    "journal") == 0 && cfg.log_format == LOG_FORMAT_JOURNAL,
	    "log_format = plain, journal");
	CHECK(set(&cfg, "log_format", "json") == -1 && strcmp(err,
	    "log_format: 'json' must be auto, journal or plain") == 0 &&
	    cfg.log_format == LOG_FORMAT_JOURNAL, "log_format error text: %s",
	    err);
	CHECK(set(&cfg, "user", "forkchat") == 0 && set(&cfg, "group",
	    "nogroup") == 0 && strcmp(cfg.user, "forkchat") == 0 &&
	    strcmp(cfg.group, "nogroup") == 0, "user and group");
	CHECK(set(&cfg, "user", "-x") == -1 && strcmp(err,
	    "user: '-x' is not a user or group name") == 0,
	    "account error text: %s", err);
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
	/* A valid address of exactly 63 characters: a port with zeros. */
	static const char long63[] = "[0000:0000:0000:0000:0000:0000:0000:"
	    "0001]:000000000000000002002";
	struct config cfg;
	char addr[80];
	int i;

	config_defaults(&cfg);
	CHECK(set(&cfg, "listen", "[::1]:2000") == 0 && cfg.nlisten == 1 &&
	    strcmp(cfg.listen[0], "[::1]:2000") == 0 && !cfg.listen_default,
	    "the first listen replaces the default");
	CHECK(set(&cfg, "listen", "0.0.0.0:2001") == 0 && cfg.nlisten == 2,
	    "the second listen adds to the list");
	CHECK(set(&cfg, "listen", "[::1]:2000") == -1 && cfg.nlisten == 2 &&
	    strcmp(err, "listen: '[::1]:2000' is given twice") == 0,
	    "the same address twice: %s", err);
	CHECK(set(&cfg, "listen", "a b") == -1, "an address with a space");
	CHECK(set(&cfg, "listen", "") == -1, "an empty address");
	CHECK(strlen(long63) == 63 && set(&cfg, "listen", long63) == 0,
	    "a 63-character address");
	snprintf(addr, sizeof(addr), "%s0", long63);
	CHECK(set(&cfg, "listen", addr) == -1 &&
	    strstr(err, "is longer than 63 characters") != NULL,
	    "a 64-character address: %s", err);
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

/* Is value refused for listen, on fresh defaults, with exactly msg? */
static int
listen_fails(const char *value, const char *msg)
{
	struct config cfg;
	int ok;

	config_defaults(&cfg);
	ok = set(&cfg, "listen", value) == -1 && strcmp(err, msg) == 0 &&
	    cfg.nlisten == 1 && strcmp(cfg.listen[0], "127.0.0.1:2000") == 0;
	if (!ok)
		printf("# got: %s\n", err);
	config_free(&cfg);
	return ok;
}

/* Does listen b after listen a say it is a given twice (as a)? */
static int
listen_same(const char *a, const char *b)
{
	struct config cfg;
	char msg[200];
	int ok;

	snprintf(msg, sizeof(msg), "listen: '%s' is given twice (as '%s')",
	    b, a);
	config_defaults(&cfg);
	ok = set(&cfg, "listen", a) == 0 && set(&cfg, "listen", b) == -1 &&
	    strcmp(err, msg) == 0 && cfg.nlisten == 1;
	if (!ok)
		printf("# got: %s\n", err);
	config_free(&cfg);
	return ok;
}

/* Addresses are checked as they are set, and compared once parsed. */
static void
test_listen_parsed(void)
{
	struct config cfg;

	CHECK(listen_fails("nonsense", "listen: 'nonsense' is not "
	    "IPV4:PORT, [IPV6]:PORT or *:PORT"), "not an address");
	CHECK(listen_fails("localhost:2000", "listen: 'localhost:2000' is "
	    "not IPV4:PORT, [IPV6]:PORT or *:PORT"), "host names are not "
	    "resolved");
	CHECK(listen_fails("127.0.0.1:99999", "listen: '127.0.0.1:99999': "
	    "port 99999 is out of range (0..65535)"), "port out of range");
	CHECK(listen_fails("[::1]:65536", "listen: '[::1]:65536': port 65536 "
	    "is out of range (0..65535)"), "IPv6 port out of range");
	CHECK(listen_fails("127.0.0.1:99999999999999999999999", "listen: "
	    "'127.0.0.1:99999999999999999999999': port 99999999999999999999999"
	    " is out of range (0..65535)"), "port past any integer");
	CHECK(listen_fails("example:99999", "listen: 'example:99999' is not "
	    "IPV4:PORT, [IPV6]:PORT or *:PORT"), "a bad host first");
	CHECK(listen_fails("127.0.0.1:", "listen: '127.0.0.1:' is not "
	    "IPV4:PORT, [IPV6]:PORT or *:PORT"), "no port");
	CHECK(listen_fails("127.0.0.1:-1", "listen: '127.0.0.1:-1' is not "
	    "IPV4:PORT, [IPV6]:PORT or *:PORT"), "a negative port");
	CHECK(listen_fails("[::1:2000", "listen: '[::1:2000' is not "
	    "IPV4:PORT, [IPV6]:PORT or *:PORT"), "an unclosed bracket");
	CHECK(listen_same("127.0.0.1:2991", "127.0.0.1:02991"),
	    "a port with a leading zero is the same port");
	CHECK(listen_same("[::1]:80", "[0:0::1]:80"),
	    "IPv6 addresses are compared, not their spelling");
	CHECK(listen_same("*:80", "0.0.0.0:80"), "* is 0.0.0.0");
	CHECK(listen_same("127.0.0.1:0", "127.0.0.1:00"), "port 0 twice");
	config_defaults(&cfg);
	CHECK(set(&cfg, "listen", "*:80") == 0 && set(&cfg, "listen",
	    "[::]:80") == 0 && set(&cfg, "listen", "127.0.0.1:80") == 0 &&
	    set(&cfg, "listen", "127.0.0.1:81") == 0 && set(&cfg, "listen",
	    "127.0.0.2:80") == 0 && cfg.nlisten == 5,
	    "other family, address or port: not the same");
	CHECK(strcmp(cfg.listen[1], "[::]:80") == 0,
	    "an address is kept as it was written");
	config_free(&cfg);
	config_defaults(&cfg);
	CHECK(set(&cfg, "listen", "127.0.0.1:2000") == 0 && cfg.nlisten == 1,
	    "the default address may be given once, replacing itself");
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

/* The dump of cfg, NUL-terminated, in b (which the caller frees). */
static const char *
dump(const struct config *cfg, struct buf *b)
{
	buf_init(b, 0);
	if (config_dump(cfg, b) == -1 || buf_printf(b, "%c", '\0') == -1)
		return "";
	return buf_head(b);
}

/* How many lines of text start with "key=". */
static int
lines_of(const char *text, const char *key)
{
	size_t n = strlen(key);
	const char *p = text;
	int count = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, n) == 0 && p[n] == '=')
			count++;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return count;
}

/*
 * Every key type dumps to text that parses back into the same settings,
 * which dump to the same text: that text is how workers get theirs.
 */
/* The cluster's keys: a Redis address, words, seconds. */
static void
test_cluster_keys(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK(cfg.cluster == NULL && cfg.cluster_password_file == NULL &&
	    strcmp(cfg.cluster_key, "forkchat") == 0 &&
	    cfg.server_name[0] == '\0' && cfg.cluster_timeout == 10,
	    "the cluster is off by default; key forkchat, timeout 10 s");
	CHECK(set(&cfg, "cluster", "redis://127.0.0.1:6379") == 0 &&
	    set(&cfg, "cluster", "redis://localhost:6380") == 0 &&
	    set(&cfg, "cluster", "redis://[::1]:7000") == 0 &&
	    set(&cfg, "cluster", "unix:/run/redis/redis.sock") == 0 &&
	    strcmp(cfg.cluster, "unix:/run/redis/redis.sock") == 0,
	    "cluster: redis://HOST:PORT and unix:PATH");
	CHECK(set(&cfg, "cluster", "redis://redis.example.com:6379") == -1 &&
	    strcmp(err, "cluster: 'redis://redis.example.com:6379' is not "
	    "redis://HOST:PORT (HOST a numeric address or localhost) or "
	    "unix:PATH") == 0, "cluster: no host names (no DNS): %s", err);
	CHECK(set(&cfg, "cluster", "127.0.0.1:6379") == -1 &&
	    set(&cfg, "cluster", "redis://127.0.0.1:0") == -1 &&
	    set(&cfg, "cluster", "unix:") == -1,
	    "cluster: no scheme, port 0 or an empty path refused");
	CHECK(set(&cfg, "server_name", "a") == 0 &&
	    set(&cfg, "server_name", "Alpha_2-b") == 0 &&
	    set(&cfg, "server_name", "0123456789abcdef") == 0 &&
	    strcmp(cfg.server_name, "0123456789abcdef") == 0,
	    "server_name: 1-16 of A-Z a-z 0-9 _ -");
	CHECK(set(&cfg, "server_name", "0123456789abcdefg") == -1 &&
	    strcmp(err, "server_name: '0123456789abcdefg' must be 1-16 of "
	    "A-Z a-z 0-9 _ -") == 0 && set(&cfg, "server_name", "a.b") == -1 &&
	    set(&cfg, "server_name", "a@b") == -1 &&
	    strcmp(cfg.server_name, "0123456789abcdef") == 0,
	    "server_name: too long or odd characters refused, old value "
	    "kept: %s", err);
	CHECK(set(&cfg, "cluster_key", "chat:room.1") == 0 &&
	    set(&cfg, "cluster_key", "chat room") == -1 &&
	    set(&cfg, "cluster_key", "{x}") == -1 &&
	    strcmp(cfg.cluster_key, "chat:room.1") == 0,
	    "cluster_key: 1-64 of A-Z a-z 0-9 _ - . :");
	CHECK(set(&cfg, "cluster_timeout", "0") == -1 &&
	    set(&cfg, "cluster_timeout", "1") == 0 &&
	    set(&cfg, "cluster_timeout", "3601") == -1 &&
	    cfg.cluster_timeout == 1, "cluster_timeout: 1..3600 s");
	CHECK(set(&cfg, "cluster_password_file", "redis.pw") == -1 &&
	    set(&cfg, "cluster_password_file", "/etc/redis.pw") == 0,
	    "cluster_password_file: an absolute path");
	config_free(&cfg);
	CHECK(cfg.cluster == NULL && cfg.cluster_password_file == NULL,
	    "config_free frees the cluster's strings");
}

static void
test_dump(void)
{
	static const char *const every[] = { "listen", "max_clients",
	    "spare_workers", "admin", "oper_password_file", "idle_timeout",
	    "telnet_negotiation", "max_line", "max_output_queue",
	    "flood_rate", "flood_burst", "shutdown_grace", "pipe_timeout",
	    "pipe_max_output", "log_level", "log_format", "user", "group",
	    "pipe.rev", "cluster", "cluster_password_file", "cluster_key",
	    "server_name", "cluster_timeout" };
	struct config a, b;
	struct buf one, two, dflt;
	const char *text;
	int ok = 1;

	config_defaults(&a);
	text = dump(&a, &dflt);
	CHECK(strstr(text, "listen=127.0.0.1:2000\n") != NULL &&
	    strstr(text, "telnet_negotiation=on\n") != NULL &&
	    strstr(text, "admin=operators\n") != NULL &&
	    strstr(text, "log_format=auto\n") != NULL &&
	    lines_of(text, "user") == 0 && lines_of(text, "oper_password_file")
	    == 0 && lines_of(text, "cluster") == 0 &&
	    lines_of(text, "server_name") == 0 &&
	    strstr(text, "cluster_key=forkchat\n") != NULL,
	    "the defaults' dump; unset strings and words are left out");
	buf_free(&dflt);
	CHECK(set(&a, "listen", "[::1]:2991") == 0 && set(&a, "listen",
	    "*:02992") == 0 && set(&a, "max_clients", "7") == 0 &&
	    set(&a, "max_line", "8K") == 0 && set(&a, "max_output_queue",
	    "1G") == 0 && set(&a, "telnet_negotiation", "no") == 0 &&
	    set(&a, "admin", "everyone") == 0 && set(&a, "log_level",
	    "debug") == 0 && set(&a, "log_format", "plain") == 0 &&
	    set(&a, "oper_password_file", "/etc/forkchat/pw#1") == 0 &&
	    set(&a, "user", "chat") == 0 && set(&a, "group", "chat") == 0 &&
	    set(&a, "pipe.rev", "/usr/bin/rev -x") == 0 &&
	    set(&a, "cluster", "unix:/run/redis.sock") == 0 &&
	    set(&a, "cluster_password_file", "/etc/forkchat/redis") == 0 &&
	    set(&a, "cluster_key", "chat:main") == 0 &&
	    set(&a, "server_name", "alpha-1") == 0 &&
	    set(&a, "cluster_timeout", "3") == 0,
	    "every key type set away from its default");
	text = dump(&a, &one);
	for (size_t i = 0; i < sizeof(every) / sizeof(every[0]); i++)
		if (lines_of(text, every[i]) != (i == 0 ? 2 : 1))
			ok = 0;
	CHECK(ok, "every key in the dump, listen twice");
	if (!ok)
		printf("# the dump:\n%s", text);
	CHECK(strstr(text, "telnet_negotiation=off\n") != NULL &&
	    strstr(text, "max_line=8192\n") != NULL &&
	    strstr(text, "max_output_queue=1073741824\n") != NULL &&
	    strstr(text, "admin=everyone\n") != NULL &&
	    strstr(text, "log_level=debug\n") != NULL &&
	    strstr(text, "log_format=plain\n") != NULL &&
	    strstr(text, "listen=*:02992\n") != NULL &&
	    strstr(text, "pipe.rev=/usr/bin/rev -x\n") != NULL,
	    "each type dumped as a file says it");
	config_defaults(&b);
	CHECK(parse(&b, text) == 0, "the dump parses: %s", err);
	CHECK(!b.telnet_negotiation && b.max_line == 8192 &&
	    b.max_output_queue == 1073741824 && b.admin == ADMIN_EVERYONE &&
	    b.log_level == LL_DEBUG && b.log_format == LOG_FORMAT_PLAIN &&
	    b.nlisten == 2 && b.max_clients == 7 &&
	    strcmp(b.oper_password_file, "/etc/forkchat/pw#1") == 0 &&
	    strcmp(b.user, "chat") == 0 && strcmp(b.group, "chat") == 0 &&
	    config_pipe(&b, "rev") != NULL &&
	    strcmp(b.cluster, "unix:/run/redis.sock") == 0 &&
	    strcmp(b.cluster_key, "chat:main") == 0 &&
	    strcmp(b.server_name, "alpha-1") == 0 && b.cluster_timeout == 3,
	    "into the same settings");
	CHECK(strcmp(dump(&b, &two), text) == 0,
	    "which dump to the very same text");
	buf_free(&one);
	buf_free(&two);
	config_free(&a);
	config_free(&b);
}

int
main(void)
{
	test_defaults();
	test_numbers();
	test_sizes();
	test_bool();
	test_other_keys();
	test_listen();
	test_listen_parsed();
	test_pipes();
	test_cluster_keys();
	test_dump();
	return unit_done();
}
