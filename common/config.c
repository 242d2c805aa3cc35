/*
 * config.c - forkchatd's configuration: defaults, the file, -o overrides.
 *
 * Every scalar key is a row in keys[]: its name, the setter that parses
 * the value, and for numbers the field's offset and the allowed range.
 * "pipe.NAME" keys are handled apart, since NAME is part of the key.
 *
 * Public calls: config_defaults(), config_free(), config_set(),
 * config_parse(), config_load(), config_listen_clear(), config_pipe(),
 * config_dump(), config_journal(), config_set_kv().
 * Errors are one line in the caller's buffer; nothing here logs or exits.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define DEFAULT_LISTEN	"127.0.0.1:2000"
#define LISTEN_ADDR_MAX	63		/* longest listen address */
#define PIPE_PREFIX	"pipe."
#define PIPE_PREFIX_LEN	(sizeof(PIPE_PREFIX) - 1)
#define LINE_LEN_MAX	4096		/* longest line in a config file */
#define FILE_SIZE_MAX	((size_t)1024 * 1024)	/* largest config file */
#define KIB		1024ULL
#define MIB		(1024ULL * 1024)

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define FIELD(cfg, k, type) \
	((type *)(void *)((char *)(cfg) + (k)->off))
typedef char	*string;		/* so CFIELD(.., string) is char *const * */
#define CFIELD(cfg, k, type) \
	((const type *)(const void *)((const char *)(cfg) + (k)->off))

struct key;
typedef int	key_setter(struct config *, const struct key *, const char *,
		    char *, size_t);

struct key {
	const char	*name;
	key_setter	*set;
	size_t		 off;		/* of the field, for numbers */
	unsigned long long min, max;	/* allowed values, for numbers */
	bool		 repeat;	/* may be given on several lines */
};

static int	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Write a one-line error message into the caller's buffer; return -1. */
static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Parse a decimal number, with a k or m suffix if size is set.  Overflow
 * saturates at ULLONG_MAX, which every range check then rejects.
 */
static int
parse_number(const char *s, bool size, unsigned long long *out)
{
	unsigned long long n = 0, mult = 1, d;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		d = (unsigned long long)(*p - '0');
		n = n > (ULLONG_MAX - d) / 10 ? ULLONG_MAX : n * 10 + d;
	}
	if (p == s)
		return -1;
	if (size && (*p == 'k' || *p == 'K'))
		mult = KIB;
	else if (size && (*p == 'm' || *p == 'M'))
		mult = MIB;
	if (mult != 1)
		p++;
	if (*p != '\0')
		return -1;
	*out = n > ULLONG_MAX / mult ? ULLONG_MAX : n * mult;
	return 0;
}

/* Parse a key's numeric value and check it against the key's range. */
static int
parse_range(const struct key *k, const char *v, bool size,
    unsigned long long *n, char *err, size_t errlen)
{
	if (parse_number(v, size, n) == -1)
		return seterr(err, errlen, "%s: '%s' is not a number",
		    k->name, v);
	if (*n < k->min || *n > k->max)
		return seterr(err, errlen, "%s: %s is out of range "
		    "(%llu..%llu)", k->name, v, k->min, k->max);
	return 0;
}

/* Setter for a count or a number of seconds (an unsigned field). */
static int
set_uint(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	unsigned long long n = 0;

	if (parse_range(k, v, false, &n, err, errlen) == -1)
		return -1;
	*FIELD(cfg, k, unsigned) = (unsigned)n;
	return 0;
}

/* Setter for a number of bytes, which may end in k or m (a size_t). */
static int
set_size(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	unsigned long long n = 0;

	if (parse_range(k, v, true, &n, err, errlen) == -1)
		return -1;
	*FIELD(cfg, k, size_t) = (size_t)n;
	return 0;
}

/* Setter for "admin": who may /kick and /timeout. */
static int
set_admin(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	if (strcmp(v, "everyone") == 0)
		cfg->admin = ADMIN_EVERYONE;
	else if (strcmp(v, "operators") == 0)
		cfg->admin = ADMIN_OPERATORS;
	else
		return seterr(err, errlen,
		    "%s: '%s' must be 'everyone' or 'operators'", k->name, v);
	return 0;
}

/* Setter for "log_level", by the names log.c knows. */
static int
set_log_level(struct config *cfg, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	if (log_level_parse(v, &cfg->log_level) == -1)
		return seterr(err, errlen, "%s: '%s' must be error, warning, "
		    "notice, info or debug", k->name, v);
	return 0;
}

/* Replace a string field with a copy of v. */
static int
set_string(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	char *copy;

	if ((copy = strdup(v)) == NULL)
		return seterr(err, errlen, "%s: %s", k->name, strerror(errno));
	free(*FIELD(cfg, k, char *));
	*FIELD(cfg, k, char *) = copy;
	return 0;
}

/* Setter for file paths: absolute only. */
static int
set_path(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	if (v[0] != '/')
		return seterr(err, errlen, "%s: '%s' is not an absolute path",
		    k->name, v);
	return set_string(cfg, k, v, err, errlen);
}

/* Setter for user and group names: 1-32 of A-Z a-z 0-9 _ . -, no - first. */
static int
set_account(struct config *cfg, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (n == 0 || n > 32 || v[0] == '-' || strspn(v,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
	    != n)
		return seterr(err, errlen, "%s: '%s' is not a user or group "
		    "name", k->name, v);
	return set_string(cfg, k, v, err, errlen);
}

/* Setter for "log_format". */
static int
set_log_format(struct config *cfg, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	static const char *const names[] = { "auto", "journal", "plain" };

	for (size_t i = 0; i < nitems(names); i++) {
		if (strcmp(v, names[i]) == 0) {
			cfg->log_format = (enum log_format)i;
			return 0;
		}
	}
	return seterr(err, errlen, "%s: '%s' must be auto, journal or plain",
	    k->name, v);
}

/* Setter for "listen": the first one given replaces the default. */
static int
set_listen(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	char *copy;
	int i;

	if (*v == '\0' || strlen(v) > LISTEN_ADDR_MAX ||
	    v[strcspn(v, " \t")] != '\0')
		return seterr(err, errlen, "%s: '%s' is not an address "
		    "(1..%d characters, no spaces)", k->name, v,
		    LISTEN_ADDR_MAX);
	if (cfg->listen_default) {
		config_listen_clear(cfg);
		cfg->listen_default = false;
	}
	for (i = 0; i < cfg->nlisten; i++)
		if (strcmp(cfg->listen[i], v) == 0)
			return seterr(err, errlen, "%s: '%s' is given twice",
			    k->name, v);
	if (cfg->nlisten == CONFIG_MAX_LISTEN)
		return seterr(err, errlen, "%s: more than %d addresses",
		    k->name, CONFIG_MAX_LISTEN);
	if ((copy = strdup(v)) == NULL)
		return seterr(err, errlen, "%s: %s", k->name, strerror(errno));
	cfg->listen[cfg->nlisten++] = copy;
	return 0;
}

#define OFF(field)	offsetof(struct config, field)

static const struct key keys[] = {
	/* name			setter		field, min, max, repeat */
	{ "listen",		set_listen,	0, 0, 0, true },
	{ "max_clients",	set_uint,	OFF(max_clients),
				1, 100000, false },
	{ "spare_workers",	set_uint,	OFF(spare_workers),
				0, 1024, false },
	{ "admin",		set_admin,	0, 0, 0, false },
	{ "oper_password_file",	set_path,	OFF(oper_password_file),
				0, 0, false },
	{ "idle_timeout",	set_uint,	OFF(idle_timeout),
				0, 604800, false },
	{ "max_line",		set_size,	OFF(max_line),
				64, 64 * KIB, false },
	{ "max_output_queue",	set_size,	OFF(max_output_queue),
				4 * KIB, 1024 * MIB, false },
	{ "flood_rate",		set_uint,	OFF(flood_rate),
				0, 1000000, false },
	{ "flood_burst",	set_uint,	OFF(flood_burst),
				1, 1000000, false },
	{ "shutdown_grace",	set_uint,	OFF(shutdown_grace),
				0, 3600, false },
	{ "pipe_timeout",	set_uint,	OFF(pipe_timeout),
				1, 3600, false },
	{ "pipe_max_output",	set_size,	OFF(pipe_max_output),
				1, 16 * MIB, false },
	{ "log_level",		set_log_level,	0, 0, 0, false },
	{ "log_format",		set_log_format,	0, 0, 0, false },
	{ "user",		set_account,	OFF(user), 0, 0, false },
	{ "group",		set_account,	OFF(group), 0, 0, false },
};

/* Find a scalar key by name, or NULL. */
static const struct key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* True if name is a valid pipe name: 1-16 of [A-Za-z0-9_-]. */
static bool
pipe_name_ok(const char *name)
{
	size_t len = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-");

	return len > 0 && len <= CONFIG_NAME_MAX && name[len] == '\0';
}

/* The index of the pipe called name, or -1. */
static int
pipe_find(const struct config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->npipes; i++)
		if (strcmp(cfg->pipes[i].name, name) == 0)
			return i;
	return -1;
}

/* Free a pipe's argv and leave it empty. */
static void
pipe_clear(struct pipe_prog *pp)
{
	int i;

	for (i = 0; pp->argv[i] != NULL; i++)
		free(pp->argv[i]);
	memset(pp->argv, 0, sizeof(pp->argv));
}

/* Split v on spaces and tabs into pp->argv; pp->argv must start empty. */
static int
pipe_split(struct pipe_prog *pp, const char *v, char *err, size_t errlen)
{
	size_t len;
	int argc = 0;

	for (v += strspn(v, " \t"); *v != '\0'; v += strspn(v, " \t")) {
		if (argc == CONFIG_MAX_ARGS)
			return seterr(err, errlen, "pipe.%s: more than %d "
			    "words", pp->name, CONFIG_MAX_ARGS);
		len = strcspn(v, " \t");
		if ((pp->argv[argc++] = strndup(v, len)) == NULL)
			return seterr(err, errlen, "pipe.%s: %s", pp->name,
			    strerror(errno));
		v += len;
	}
	if (argc == 0)
		return seterr(err, errlen, "pipe.%s: no command", pp->name);
	if (pp->argv[0][0] != '/')
		return seterr(err, errlen, "pipe.%s: '%s' is not an absolute "
		    "path", pp->name, pp->argv[0]);
	return 0;
}

/* Define pipe NAME (or replace its definition) as the command in v. */
static int
set_pipe(struct config *cfg, const char *name, const char *v, char *err,
    size_t errlen)
{
	struct pipe_prog pp, *grown;
	int i;

	if (!pipe_name_ok(name))
		return seterr(err, errlen, "%s%s: pipe names are 1..%d of "
		    "A-Z a-z 0-9 _ -", PIPE_PREFIX, name, CONFIG_NAME_MAX);
	i = pipe_find(cfg, name);
	if (i == -1 && cfg->npipes == CONFIG_MAX_PIPES)
		return seterr(err, errlen, "%s%s: more than %d pipes",
		    PIPE_PREFIX, name, CONFIG_MAX_PIPES);
	memset(&pp, 0, sizeof(pp));
	(void)snprintf(pp.name, sizeof(pp.name), "%s", name);
	if (pipe_split(&pp, v, err, errlen) == -1) {
		pipe_clear(&pp);
		return -1;
	}
	if (i == -1) {
		/* Grown one at a time: a handful of pipes is the usual case. */
		grown = realloc(cfg->pipes, ((size_t)cfg->npipes + 1) *
		    sizeof(*grown));
		if (grown == NULL) {
			pipe_clear(&pp);
			return seterr(err, errlen, "%s%s: %s", PIPE_PREFIX, name,
			    strerror(errno));
		}
		cfg->pipes = grown;
		i = cfg->npipes++;
	} else {
		pipe_clear(&cfg->pipes[i]);
	}
	cfg->pipes[i] = pp;
	return 0;
}

/*
 * Could a configuration file say this value?  Only such values are taken,
 * so config_dump() text always parses back to the same configuration
 * (it is how workers get theirs).
 */
static bool
value_fits_file(const char *v)
{
	size_t n = strlen(v);

	if (n > 0 && (isspace((unsigned char)v[0]) ||
	    isspace((unsigned char)v[n - 1])))
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] == '\n' || v[i] == '\r' || (v[i] == '#' &&
		    (i == 0 || isspace((unsigned char)v[i - 1]))))
			return false;
	return true;
}

/* Set one key, as a config line or -o KEY=VALUE does. */
int
config_set(struct config *cfg, const char *key, const char *value, char *err,
    size_t errlen)
{
	const struct key *k;

	if (!value_fits_file(value))
		return seterr(err, errlen, "%s: a value cannot start or end with "
		    "a blank, hold a line break, or have a word starting with "
		    "'#' (a configuration file could not say it)", key);
	/* "key=value" must fit on one line of a file, as workers read it. */
	if (strlen(key) + 1 + strlen(value) > LINE_LEN_MAX)
		return seterr(err, errlen, "%s: the value is too long for one "
		    "line of %d bytes", key, LINE_LEN_MAX);
	if (strncmp(key, PIPE_PREFIX, PIPE_PREFIX_LEN) == 0)
		return set_pipe(cfg, key + PIPE_PREFIX_LEN, value, err, errlen);
	if ((k = key_find(key)) == NULL)
		return seterr(err, errlen, "unknown key '%s'", key);
	return k->set(cfg, k, value, err, errlen);
}

/*
 * "-o key=value": blanks around key and value are dropped, as in a file.
 * *listen_cleared starts false; the first listen here replaces the
 * file's addresses instead of adding to them.
 */
int
config_set_kv(struct config *cfg, const char *kv, bool *listen_cleared,
    char *err, size_t errlen)
{
	char key[64], msg[CONFIG_ERR_MAX];
	const char *eq = strchr(kv, '='), *value, *arg = kv;
	size_t klen;

	if (eq == NULL)
		return seterr(err, errlen, "-o %s: not key=value", kv);
	kv += strspn(kv, " \t");
	klen = eq > kv ? (size_t)(eq - kv) : 0;
	if (klen >= sizeof(key))
		klen = sizeof(key) - 1;
	memcpy(key, kv, klen);
	key[klen] = '\0';
	key[strcspn(key, " \t")] = '\0';
	value = eq + 1 + strspn(eq + 1, " \t");
	if (strcmp(key, "listen") == 0 && !*listen_cleared) {
		config_listen_clear(cfg);
		*listen_cleared = true;
	}
	if (config_set(cfg, key, value, msg, sizeof(msg)) == -1)
		return seterr(err, errlen, "-o %s: %s", arg, msg);
	return 0;
}

/* On which line one config_parse() call set each key, or 0. */
struct seen {
	unsigned key[nitems(keys)];
	unsigned pipe[CONFIG_MAX_PIPES];	/* by index in cfg->pipes */
};

/* Where to note the line key was set on; NULL if it may repeat or is new. */
static unsigned *
seen_slot(struct seen *seen, const struct config *cfg, const char *key)
{
	const struct key *k;
	int i;

	if (strncmp(key, PIPE_PREFIX, PIPE_PREFIX_LEN) == 0) {
		i = pipe_find(cfg, key + PIPE_PREFIX_LEN);
		return i == -1 ? NULL : &seen->pipe[i];
	}
	k = key_find(key);
	return k == NULL || k->repeat ? NULL : &seen->key[k - keys];
}

/* Cut a line at a '#' that starts a word: "a#b" keeps its '#'. */
static void
cut_comment(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
}

/* Trim leading and trailing blanks in place; return the new start. */
static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Split "key = value" in place; -1 if either side is missing. */
static int
split_line(char *s, char **key, char **value, char *err, size_t errlen)
{
	char *eq;

	if ((eq = strchr(s, '=')) == NULL)
		return seterr(err, errlen, "expected 'key = value'");
	*eq = '\0';
	*key = trim(s);
	*value = trim(eq + 1);
	if (**key == '\0')
		return seterr(err, errlen, "missing key before '='");
	if (**value == '\0')
		return seterr(err, errlen, "missing value for '%s'", *key);
	return 0;
}

/* Apply one line of a file (a NUL-terminated copy we may modify). */
static int
parse_line(struct config *cfg, struct seen *seen, char *line,
    unsigned lineno, char *err, size_t errlen)
{
	char *key = line, *value = line;	/* split_line points them */
	unsigned *first;

	cut_comment(line);
	line = trim(line);
	if (*line == '\0')
		return 0;
	if (split_line(line, &key, &value, err, errlen) == -1)
		return -1;
	first = seen_slot(seen, cfg, key);
	if (first != NULL && *first != 0)
		return seterr(err, errlen, "key '%s' is set twice (first on "
		    "line %u)", key, *first);
	if (config_set(cfg, key, value, err, errlen) == -1)
		return -1;
	/* Again: a new pipe has a slot only now. */
	if ((first = seen_slot(seen, cfg, key)) != NULL)
		*first = lineno;
	return 0;
}

/* Parse a whole file's text; name is what error messages call it. */
int
config_parse(struct config *cfg, const char *text, size_t len,
    const char *name, char *err, size_t errlen)
{
	struct seen seen;
	char line[LINE_LEN_MAX + 1], msg[CONFIG_ERR_MAX];
	const char *nl;
	size_t off, n;
	unsigned lineno;

	memset(&seen, 0, sizeof(seen));
	for (off = 0, lineno = 1; off < len; off += n + 1, lineno++) {
		nl = memchr(text + off, '\n', len - off);
		n = (nl != NULL ? (size_t)(nl - text) : len) - off;
		if (memchr(text + off, '\0', n) != NULL)
			return seterr(err, errlen, "%s:%u: NUL byte", name,
			    lineno);
		if (n > LINE_LEN_MAX)
			return seterr(err, errlen, "%s:%u: line is longer than "
			    "%d bytes", name, lineno, LINE_LEN_MAX);
		memcpy(line, text + off, n);
		line[n] = '\0';
		if (parse_line(cfg, &seen, line, lineno, msg,
		    sizeof(msg)) == -1)
			return seterr(err, errlen, "%s:%u: %s", name, lineno,
			    msg);
	}
	return 0;
}

/* Read all of fd into buf, up to size bytes; the count, or -1. */
static ssize_t
read_all(int fd, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		if ((n = read(fd, buf + off, size - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (ssize_t)off;
}

/* Read a config file and parse it on top of what cfg holds. */
int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char *text;
	ssize_t len = -1;
	int fd, rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return seterr(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
	/* One byte more than allowed, to see that a file is too big. */
	if ((text = malloc(FILE_SIZE_MAX + 1)) != NULL)
		len = read_all(fd, text, FILE_SIZE_MAX + 1);
	if (len == -1)
		rv = seterr(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
	else if ((size_t)len > FILE_SIZE_MAX)
		rv = seterr(err, errlen, "%s: file is larger than %zu bytes",
		    path, FILE_SIZE_MAX);
	else
		rv = config_parse(cfg, text, (size_t)len, path, err, errlen);
	free(text);
	close(fd);
	return rv;
}

/* Fill cfg with the built-in defaults; what cfg held is not freed. */
void
config_defaults(struct config *cfg)
{
	*cfg = (struct config){
		.listen_default = true,
		.max_clients = 1000,
		.spare_workers = 4,
		.admin = ADMIN_OPERATORS,
		.max_line = 4096,
		.max_output_queue = 1048576,
		.flood_rate = 10,
		.flood_burst = 20,
		.shutdown_grace = 5,
		.pipe_timeout = 5,
		.pipe_max_output = 65536,
		.log_level = LL_INFO,
	};
	/* Out of memory leaves nlisten at 0, which the caller sees. */
	if ((cfg->listen[0] = strdup(DEFAULT_LISTEN)) != NULL)
		cfg->nlisten = 1;
}

/* Free everything cfg owns; it may then be freed again or re-defaulted. */
void
config_free(struct config *cfg)
{
	int i;

	config_listen_clear(cfg);
	free(cfg->oper_password_file);
	free(cfg->user);
	free(cfg->group);
	for (i = 0; i < cfg->npipes; i++)
		pipe_clear(&cfg->pipes[i]);
	free(cfg->pipes);
	memset(cfg, 0, sizeof(*cfg));
}

/* Empty the listen list; the next "listen" starts a fresh one. */
void
config_listen_clear(struct config *cfg)
{
	int i;

	for (i = 0; i < cfg->nlisten; i++) {
		free(cfg->listen[i]);
		cfg->listen[i] = NULL;
	}
	cfg->nlisten = 0;
	cfg->listen_default = true;
}

/* Find a pipe by its exact name, or NULL. */
const struct pipe_prog *
config_pipe(const struct config *cfg, const char *name)
{
	int i = pipe_find(cfg, name);

	return i == -1 ? NULL : &cfg->pipes[i];
}

/* One scalar key as "key = value" text. */
static int
dump_key(const struct config *cfg, const struct key *k, struct buf *out)
{
	if (k->set == set_uint)
		return buf_printf(out, "%s=%u\n", k->name,
		    *CFIELD(cfg, k, unsigned));
	if (k->set == set_size)
		return buf_printf(out, "%s=%zu\n", k->name,
		    *CFIELD(cfg, k, size_t));
	if (k->set == set_admin)
		return buf_printf(out, "%s=%s\n", k->name,
		    cfg->admin == ADMIN_EVERYONE ? "everyone" : "operators");
	if (k->set == set_log_level)
		return buf_printf(out, "%s=%s\n", k->name,
		    log_level_name(cfg->log_level));
	if (k->set == set_log_format)
		return buf_printf(out, "%s=%s\n", k->name,
		    cfg->log_format == LOG_FORMAT_JOURNAL ? "journal" :
		    cfg->log_format == LOG_FORMAT_PLAIN ? "plain" : "auto");
	if ((k->set == set_path || k->set == set_account) &&
	    *CFIELD(cfg, k, string) != NULL)
		return buf_printf(out, "%s=%s\n", k->name,
		    *CFIELD(cfg, k, string));
	for (int i = 0; k->set == set_listen && i < cfg->nlisten; i++)
		if (buf_printf(out, "%s=%s\n", k->name, cfg->listen[i]) == -1)
			return -1;
	return 0;
}

/* The whole configuration as text config_parse() reads back the same. */
int
config_dump(const struct config *cfg, struct buf *out)
{
	for (size_t i = 0; i < nitems(keys); i++)
		if (dump_key(cfg, &keys[i], out) == -1)
			return -1;
	for (int i = 0; i < cfg->npipes; i++) {
		if (buf_printf(out, "%s%s=", PIPE_PREFIX,
		    cfg->pipes[i].name) == -1)
			return -1;
		for (char *const *a = cfg->pipes[i].argv; *a != NULL; a++)
			if (buf_printf(out, a == cfg->pipes[i].argv ? "%s" :
			    " %s", *a) == -1)
				return -1;
		if (buf_printf(out, "\n") == -1)
			return -1;
	}
	return 0;
}

/* Should log lines carry journald priorities (log_format, or auto)? */
int
config_journal(const struct config *cfg)
{
	if (cfg->log_format != LOG_FORMAT_AUTO)
		return cfg->log_format == LOG_FORMAT_JOURNAL;
	return log_journal_stream();
}
