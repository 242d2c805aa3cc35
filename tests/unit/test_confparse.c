/*
 * test_confparse.c - unit tests for common/confparse.c: the file
 * syntax, errors naming FILE:LINE, a byte-order mark, -o KEY=VALUE, and
 * loading files: a good one, a missing one, a too big one, and a FIFO,
 * a directory or a socket, refused at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char err[CONFIG_ERR_MAX];

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
	    "t.conf:2: max_line: 10 is out of range (64..64K)"),
	    "a bad value names file and line");
	CHECK(parse_fails("# sizes\nmax_output_queue = 1T\n",
	    "t.conf:2: max_output_queue: '1T': unknown size suffix 'T' "
	    "(use K, M or G)"), "an unknown suffix names file and line");
	CHECK(parse_fails("telnet_negotiation = maybe\n",
	    "t.conf:1: telnet_negotiation: 'maybe' must be on or off (or "
	    "yes/no, true/false)"), "a bad switch names file and line");
	CHECK(parse_fails("listen = 127.0.0.1:1\n\nlisten = 127.0.0.1:99999\n",
	    "t.conf:3: listen: '127.0.0.1:99999': port 99999 is out of range "
	    "(0..65535)"), "a bad port names file and line");
	CHECK(parse_fails("listen = 127.0.0.1:2991\nlisten = 127.0.0.1:02991\n",
	    "t.conf:2: listen: '127.0.0.1:02991' is given twice (as "
	    "'127.0.0.1:2991')"), "the same address spelt two ways");
	CHECK(parse_fails("listen = [::1]:80\nlisten = [0:0::1]:80\n",
	    "t.conf:2: listen: '[0:0::1]:80' is given twice (as '[::1]:80')"),
	    "the same IPv6 address spelt two ways");
	CHECK(parse_fails("telnet_negotiation = on\ntelnet_negotiation = off\n",
	    "t.conf:2: key 'telnet_negotiation' is set twice (first on line "
	    "1)"), "a switch set twice");
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

/* A UTF-8 byte-order mark at the start of a file is skipped. */
static void
test_bom(void)
{
	struct config cfg;

	config_defaults(&cfg);
	CHECK(parse(&cfg, "\xef\xbb\xbf" "admin = everyone\n") == 0 &&
	    cfg.admin == ADMIN_EVERYONE, "a BOM before the first key: %s", err);
	CHECK(parse(&cfg, "\xef\xbb\xbf") == 0, "a BOM alone");
	CHECK(parse(&cfg, "\xef\xbb\xbf# comment\n") == 0,
	    "a BOM before a comment");
	config_free(&cfg);
	CHECK(parse_fails("\xef\xbb\xbf\n\nno_such_key = 1\n",
	    "t.conf:3: unknown key 'no_such_key'"),
	    "the BOM does not shift line numbers");
	CHECK(parse_fails("max_clients = 5\n\xef\xbb\xbf" "admin = everyone\n",
	    "t.conf:2: unknown key '\xef\xbb\xbf" "admin'"),
	    "only at the very start of the file");
	CHECK(parse_fails("\xef\xbb\xbf\xef\xbb\xbf" "admin = everyone\n",
	    "t.conf:1: unknown key '\xef\xbb\xbf" "admin'"),
	    "only one of them");
	CHECK(parse_fails("\xef\xbb" "admin = everyone\n",
	    "t.conf:1: unknown key '\xef\xbb" "admin'"),
	    "not a part of one");
}

/* -o KEY=VALUE: blanks, the first listen replacing the file's. */
static void
test_set_kv(void)
{
	struct config cfg;
	bool cleared = false;

	config_defaults(&cfg);
	CHECK(parse(&cfg, "listen = 127.0.0.1:1\nlisten = 127.0.0.1:2\n") ==
	    0 && cfg.nlisten == 2, "two addresses from a file");
	CHECK(config_set_kv(&cfg, " listen = 127.0.0.1:3", &cleared, err,
	    sizeof(err)) == 0 && cleared && cfg.nlisten == 1 &&
	    strcmp(cfg.listen[0], "127.0.0.1:3") == 0,
	    "the first -o listen replaces them");
	CHECK(config_set_kv(&cfg, "listen=127.0.0.1:03", &cleared, err,
	    sizeof(err)) == -1 && strcmp(err, "-o listen=127.0.0.1:03: "
	    "listen: '127.0.0.1:03' is given twice (as '127.0.0.1:3')") == 0,
	    "a second -o listen adds, and is compared: %s", err);
	CHECK(config_set_kv(&cfg, "max_line=1G", &cleared, err,
	    sizeof(err)) == -1 && strcmp(err, "-o max_line=1G: max_line: 1G "
	    "is out of range (64..64K)") == 0, "-o errors name it: %s", err);
	CHECK(config_set_kv(&cfg, "telnet_negotiation = off", &cleared, err,
	    sizeof(err)) == 0 && !cfg.telnet_negotiation,
	    "-o telnet_negotiation = off");
	CHECK(config_set_kv(&cfg, "nothing", &cleared, err, sizeof(err)) ==
	    -1 && strcmp(err, "-o nothing: not key=value") == 0,
	    "-o without '='");
	config_free(&cfg);
}

/* config_load() of path fails at once with "cannot read PATH: what". */
static int
load_fails(const char *path, const char *what)
{
	struct config cfg;
	char msg[CONFIG_ERR_MAX];
	int ok;

	snprintf(msg, sizeof(msg), "cannot read %s: %s", path, what);
	config_defaults(&cfg);
	ok = config_load(&cfg, path, err, sizeof(err)) == -1 &&
	    strcmp(err, msg) == 0;
	if (!ok)
		printf("# got: %s\n", err);
	config_free(&cfg);
	return ok;
}

/*
 * Only regular files are read: a FIFO with no writer (which open() would
 * wait on), a directory, a socket, a device.  A hang is the failure the
 * alarm turns into a dead test program.
 */
static void
test_load_special(void)
{
	char dir[] = "/tmp/test_confparse.XXXXXX", path[200];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	alarm(10);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0 && load_fails(path,
	    "not a regular file"), "a FIFO is refused, without waiting");
	unlink(path);
	CHECK(load_fails(dir, "not a regular file"), "a directory is refused");
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd != -1 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ==
	    0 && listen(fd, 1) == 0 && load_fails(sun.sun_path,
	    "not a regular file"), "a listening socket is refused");
	if (fd != -1)
		close(fd);
	unlink(sun.sun_path);
	CHECK(load_fails("/dev/null", "not a regular file"),
	    "a device is refused");
	alarm(0);
	rmdir(dir);
}

int
main(void)
{
	test_syntax();
	test_errors();
	test_bom();
	test_set_kv();
	test_load();
	test_load_special();
	return unit_done();
}
