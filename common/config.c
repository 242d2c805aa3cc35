/*
 * config.c - forkchatd's configuration keys: their table, their values,
 * their defaults, and the text a whole configuration dumps to.
 *
 * Every scalar key is a row in keys[]: its name, its type, the offset
 * of its field in struct config, and what the type needs (a range for
 * numbers, the names of an enumeration).  The type picks the setter that
 * checks and stores a value, and how config_dump() writes it back; a new
 * key of a known type is one row, its field and its default.  "pipe.NAME"
 * keys are confpipe.c's, since NAME is part of the key.  Reading files
 * and lines is confparse.c's job.
 *
 * Public calls: config_defaults(), config_free(), config_set(),
 * config_listen_clear(), config_dump(), config_journal().  For
 * confparse.c (confint.h): config_key_slot().
 * Errors are one line in the caller's buffer; nothing here logs or exits.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "confint.h"
#include "num.h"
#include "redis.h"
#include "sock.h"

#define DEFAULT_LISTEN	"127.0.0.1:2000"
#define LISTEN_ADDR_MAX	63		/* longest listen address */
#define KIB		1024ULL
#define MIB		(1024ULL * 1024)
#define GIB		(1024ULL * 1024 * 1024)

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define FIELD(cfg, k, type) \
	((type *)(void *)((char *)(cfg) + (k)->off))
typedef char	*string;		/* so CFIELD(.., string) is char *const * */
#define CFIELD(cfg, k, type) \
	((const type *)(const void *)((const char *)(cfg) + (k)->off))

/* What a key's field holds, which says how to set and dump it. */
enum key_type {
	KEY_UINT,	/* unsigned: a count or seconds, min..max */
	KEY_SIZE,	/* size_t bytes, with K, M or G; min..max */
	KEY_BOOL,	/* bool: on/off, yes/no, true/false */
	KEY_ENUM,	/* an enum field: value i is called names[i] */
	KEY_LEVEL,	/* enum log_level, by log.c's names */
	KEY_PATH,	/* char *: an absolute path */
	KEY_ACCOUNT,	/* char *: a user or group name */
	KEY_LISTEN,	/* the listen[] list; the one key that repeats */
	KEY_REDIS,	/* char *: a Redis address, as redis.c reads it */
	KEY_WORD	/* char[max + 1]: 1..max of the row's chars */
};

struct key {
	const char	*name;
	enum key_type	 type;
	size_t		 off;		/* of the field in struct config */
	unsigned long long min, max;	/* KEY_UINT, KEY_SIZE: allowed values */
	const char *const *names;	/* KEY_ENUM: NULL-ended */
	const char	*expect;	/* KEY_ENUM, KEY_WORD: what a bad value is told */
	const char	*chars;		/* KEY_WORD: the characters allowed */
};

typedef int	key_setter(struct config *, const struct key *, const char *,
		    char *, size_t);

/* KEY_ENUM fields are written as unsigned: they must be that size. */
_Static_assert(sizeof(enum admin_policy) == sizeof(unsigned),
    "enum admin_policy is not unsigned-sized");
_Static_assert(sizeof(enum log_format) == sizeof(unsigned),
    "enum log_format is not unsigned-sized");

#define seterr	config_seterr	/* a short name for the many calls below */

/* Setter for a count or a number of seconds (an unsigned field). */
static int
set_uint(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	unsigned long long n;

	if (num_whole(v, &n) == -1) {
		if (errno != ERANGE)
			return seterr(err, errlen, "%s: '%s' is not a number",
			    k->name, v);
		n = ULLONG_MAX;		/* out of every range */
	}
	if (n < k->min || n > k->max)
		return seterr(err, errlen, "%s: %s is out of range "
		    "(%llu..%llu)", k->name, v, k->min, k->max);
	*FIELD(cfg, k, unsigned) = (unsigned)n;
	return 0;
}

/* What a size suffix multiplies by: K, M or G in either case, else 0. */
static unsigned long long
size_unit(const char *suffix)
{
	if (suffix[0] == '\0' || suffix[1] != '\0')
		return 0;
	switch (suffix[0]) {
	case 'k':
	case 'K':
		return KIB;
	case 'm':
	case 'M':
		return MIB;
	case 'g':
	case 'G':
		return GIB;
	default:
		return 0;
	}
}

/* A number of bytes as people write it: "64K" for 65536, "64" for 64. */
static const char *
size_text(unsigned long long n, char *buf, size_t size)
{
	static const char units[] = "GMK";
	unsigned long long mult = GIB;

	for (const char *u = units; *u != '\0'; u++, mult /= KIB) {
		if (n != 0 && n % mult == 0) {
			(void)snprintf(buf, size, "%llu%c", n / mult, *u);
			return buf;
		}
	}
	(void)snprintf(buf, size, "%llu", n);
	return buf;
}

/* Setter for a number of bytes, which may end in K, M or G (a size_t). */
static int
set_size(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	const char *suffix = v + strspn(v, "0123456789");
	unsigned long long n, mult = 1;
	char lo[24], hi[24];

	if (suffix == v || suffix[strspn(suffix, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz")] != '\0')
		return seterr(err, errlen, "%s: '%s' is not a number",
		    k->name, v);
	if (*suffix != '\0' && (mult = size_unit(suffix)) == 0)
		return seterr(err, errlen, "%s: '%s': unknown size suffix '%s' "
		    "(use K, M or G)", k->name, v, suffix);
	/* Only digits before the suffix: num_parse() fails only on overflow. */
	if (num_parse(v, NULL, &n) == -1 || n > k->max / mult ||
	    n * mult < k->min)
		return seterr(err, errlen, "%s: %s is out of range (%s..%s)",
		    k->name, v, size_text(k->min, lo, sizeof(lo)),
		    size_text(k->max, hi, sizeof(hi)));
	*FIELD(cfg, k, size_t) = (size_t)(n * mult);
	return 0;
}

/* Setter for a switch: on, yes or true; off, no or false. */
static int
set_bool(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	static const char *const on[] = { "on", "yes", "true" };
	static const char *const off[] = { "off", "no", "false" };

	for (size_t i = 0; i < nitems(on); i++) {
		if (strcmp(v, on[i]) == 0 || strcmp(v, off[i]) == 0) {
			*FIELD(cfg, k, bool) = strcmp(v, on[i]) == 0;
			return 0;
		}
	}
	return seterr(err, errlen, "%s: '%s' must be on or off (or yes/no, "
	    "true/false)", k->name, v);
}

/* Setter for an enumeration, by the names in the key's row. */
static int
set_enum(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	for (unsigned i = 0; k->names[i] != NULL; i++) {
		if (strcmp(v, k->names[i]) == 0) {
			*FIELD(cfg, k, unsigned) = i;
			return 0;
		}
	}
	return seterr(err, errlen, "%s: '%s' must be %s", k->name, v,
	    k->expect);
}

/* Setter for "log_level", by the names log.c knows. */
static int
set_level(struct config *cfg, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	if (log_level_parse(v, FIELD(cfg, k, enum log_level)) == -1)
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

/* A listen address as sock_parse() reads it, or why it is not one. */
static int
listen_parse(const struct key *k, const char *v, struct sockaddr_storage *ss,
    char *err, size_t errlen)
{
	socklen_t len;

	if (strlen(v) > LISTEN_ADDR_MAX)
		return seterr(err, errlen, "%s: '%.20s...' is longer than %d "
		    "characters", k->name, v, LISTEN_ADDR_MAX);
	if (sock_parse(v, ss, &len) == 0)
		return 0;
	if (errno == ERANGE)
		return seterr(err, errlen, "%s: '%s': port %s is out of range "
		    "(0..65535)", k->name, v, strrchr(v, ':') + 1);
	return seterr(err, errlen, "%s: '%s' is not IPV4:PORT, [IPV6]:PORT "
	    "or *:PORT", k->name, v);
}

/* The listen address that is the same as ss once parsed, or -1. */
static int
listen_find(const struct config *cfg, const struct sockaddr_storage *ss)
{
	struct sockaddr_storage other;
	socklen_t len;

	for (int i = 0; i < cfg->nlisten; i++)
		if (sock_parse(cfg->listen[i], &other, &len) == 0 &&
		    sock_same(ss, &other))
			return i;
	return -1;
}

/* Setter for "listen": the first one given replaces the default. */
static int
set_listen(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	char *copy;
	int i;

	if (listen_parse(k, v, &ss, err, errlen) == -1)
		return -1;
	if (cfg->listen_default) {
		config_listen_clear(cfg);
		cfg->listen_default = false;
	}
	if ((i = listen_find(cfg, &ss)) != -1 && strcmp(cfg->listen[i], v) == 0)
		return seterr(err, errlen, "%s: '%s' is given twice", k->name,
		    v);
	if (i != -1)
		return seterr(err, errlen, "%s: '%s' is given twice (as '%s')",
		    k->name, v, cfg->listen[i]);
	if (cfg->nlisten == CONFIG_MAX_LISTEN)
		return seterr(err, errlen, "%s: more than %d addresses",
		    k->name, CONFIG_MAX_LISTEN);
	if ((copy = strdup(v)) == NULL)
		return seterr(err, errlen, "%s: %s", k->name, strerror(errno));
	cfg->listen[cfg->nlisten++] = copy;
	return 0;
}

/* Setter for a Redis address: redis://HOST:PORT or unix:PATH. */
static int
set_redis(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	struct redis_addr a;

	if (redis_addr_parse(v, &a) == -1)
		return seterr(err, errlen, "%s: '%s' is not redis://HOST:PORT "
		    "(HOST a numeric address or localhost) or unix:PATH",
		    k->name, v);
	return set_string(cfg, k, v, err, errlen);
}

/* Setter for a word kept in the struct: 1..max of the row's chars. */
static int
set_word(struct config *cfg, const struct key *k, const char *v, char *err,
    size_t errlen)
{
	size_t n = strlen(v);

	if (n == 0 || n > k->max || strspn(v, k->chars) != n)
		return seterr(err, errlen, "%s: '%s' must be %s", k->name, v,
		    k->expect);
	memcpy(FIELD(cfg, k, char), v, n + 1);
	return 0;
}

/* Each type's setter. */
static key_setter *const setters[] = {
	[KEY_UINT] = set_uint,
	[KEY_SIZE] = set_size,
	[KEY_BOOL] = set_bool,
	[KEY_ENUM] = set_enum,
	[KEY_LEVEL] = set_level,
	[KEY_PATH] = set_path,
	[KEY_ACCOUNT] = set_account,
	[KEY_LISTEN] = set_listen,
	[KEY_REDIS] = set_redis,
	[KEY_WORD] = set_word,
};

/* By value: ADMIN_OPERATORS is 0, LOG_FORMAT_AUTO is 0, and so on. */
static const char *const admin_names[] = { "operators", "everyone", NULL };
static const char *const log_format_names[] = { "auto", "journal", "plain",
    NULL };

/* A row of keys[]; a key is named after its field in struct config. */
#define OFF(field)	offsetof(struct config, field)
#define KEY(f, t)	{ .name = #f, .type = (t), .off = OFF(f) }
#define NUMBER(f, t, lo, hi) \
	{ .name = #f, .type = (t), .off = OFF(f), .min = (lo), .max = (hi) }
#define NAMED(f, n, e) \
	{ .name = #f, .type = KEY_ENUM, .off = OFF(f), .names = (n), \
	  .expect = (e) }
#define WORD(f, c, e) \
	{ .name = #f, .type = KEY_WORD, .off = OFF(f), \
	  .max = sizeof(((struct config *)0)->f) - 1, .chars = (c), \
	  .expect = (e) }

#define NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789_-"

static const struct key keys[] = {
	KEY(listen,			KEY_LISTEN),
	NUMBER(max_clients,		KEY_UINT, 1, 100000),
	NUMBER(spare_workers,		KEY_UINT, 0, 1024),
	NAMED(admin, admin_names,	"'everyone' or 'operators'"),
	KEY(oper_password_file,		KEY_PATH),
	NUMBER(idle_timeout,		KEY_UINT, 0, 604800),
	KEY(telnet_negotiation,		KEY_BOOL),
	NUMBER(max_line,		KEY_SIZE, 64, 64 * KIB),
	NUMBER(max_output_queue,	KEY_SIZE, 4 * KIB, GIB),
	NUMBER(flood_rate,		KEY_UINT, 0, 1000000),
	NUMBER(flood_burst,		KEY_UINT, 1, 1000000),
	NUMBER(shutdown_grace,		KEY_UINT, 0, 3600),
	NUMBER(pipe_timeout,		KEY_UINT, 1, 3600),
	NUMBER(pipe_max_output,		KEY_SIZE, 1, 16 * MIB),
	KEY(log_level,			KEY_LEVEL),
	NAMED(log_format, log_format_names, "auto, journal or plain"),
	KEY(user,			KEY_ACCOUNT),
	KEY(group,			KEY_ACCOUNT),
	KEY(cluster,			KEY_REDIS),
	KEY(cluster_password_file,	KEY_PATH),
	WORD(cluster_key, NAME_CHARS ".:", "1-64 of A-Z a-z 0-9 _ - . :"),
	WORD(server_name, NAME_CHARS,	"1-16 of A-Z a-z 0-9 _ -"),
	NUMBER(cluster_timeout,		KEY_UINT, 1, 3600),
};

_Static_assert(nitems(keys) <= CONFIG_MAX_KEYS,
    "more keys than CONFIG_MAX_KEYS: raise it");

/* Fill cfg with the built-in defaults; what cfg held is not freed. */
void
config_defaults(struct config *cfg)
{
	*cfg = (struct config){
		.listen_default = true,
		.max_clients = 1000,
		.spare_workers = 4,
		.admin = ADMIN_OPERATORS,
		.telnet_negotiation = true,
		.max_line = 4096,
		.max_output_queue = 1048576,
		.flood_rate = 10,
		.flood_burst = 20,
		.shutdown_grace = 5,
		.pipe_timeout = 5,
		.pipe_max_output = 65536,
		.log_level = LL_INFO,
		.cluster_key = "forkchat",
		.cluster_timeout = 10,
	};
	/* Out of memory leaves nlisten at 0, which the caller sees. */
	if ((cfg->listen[0] = strdup(DEFAULT_LISTEN)) != NULL)
		cfg->nlisten = 1;
}

/* Find a scalar key by name, or NULL. */
static const struct key *
key_find(const char *name)
{
	for (size_t i = 0; i < nitems(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
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
	if (strlen(key) + 1 + strlen(value) > CONFIG_LINE_MAX)
		return seterr(err, errlen, "%s: the value is too long for one "
		    "line of %d bytes", key, CONFIG_LINE_MAX);
	if (strncmp(key, PIPE_PREFIX, PIPE_PREFIX_LEN) == 0)
		return config_pipe_set(cfg, key + PIPE_PREFIX_LEN, value, err,
		    errlen);
	if ((k = key_find(key)) == NULL)
		return seterr(err, errlen, "unknown key '%s'", key);
	return setters[k->type](cfg, k, value, err, errlen);
}

/*
 * Where confparse.c notes the line a key was set on, to refuse a key set
 * twice in one file: 0..CONFIG_SLOTS-1, or -1 for listen (which repeats),
 * an unknown key, or a pipe not defined yet.
 */
int
config_key_slot(const struct config *cfg, const char *key)
{
	const struct key *k;
	int i;

	if (strncmp(key, PIPE_PREFIX, PIPE_PREFIX_LEN) == 0) {
		i = config_pipe_index(cfg, key + PIPE_PREFIX_LEN);
		return i == -1 ? -1 : CONFIG_MAX_KEYS + i;
	}
	k = key_find(key);
	return k == NULL || k->type == KEY_LISTEN ? -1 : (int)(k - keys);
}

/* Free everything cfg owns; it may then be freed again or re-defaulted. */
void
config_free(struct config *cfg)
{
	config_listen_clear(cfg);
	free(cfg->oper_password_file);
	free(cfg->user);
	free(cfg->group);
	free(cfg->cluster);
	free(cfg->cluster_password_file);
	config_pipes_free(cfg);
	memset(cfg, 0, sizeof(*cfg));
}

/* Empty the listen list; the next "listen" starts a fresh one. */
void
config_listen_clear(struct config *cfg)
{
	for (int i = 0; i < cfg->nlisten; i++) {
		free(cfg->listen[i]);
		cfg->listen[i] = NULL;
	}
	cfg->nlisten = 0;
	cfg->listen_default = true;
}

/* One scalar key as "key=value" lines: none for an unset string. */
static int
dump_key(const struct config *cfg, const struct key *k, struct buf *out)
{
	switch (k->type) {
	case KEY_UINT:
		return buf_printf(out, "%s=%u\n", k->name,
		    *CFIELD(cfg, k, unsigned));
	case KEY_SIZE:
		return buf_printf(out, "%s=%zu\n", k->name,
		    *CFIELD(cfg, k, size_t));
	case KEY_BOOL:
		return buf_printf(out, "%s=%s\n", k->name,
		    *CFIELD(cfg, k, bool) ? "on" : "off");
	case KEY_ENUM:
		return buf_printf(out, "%s=%s\n", k->name,
		    k->names[*CFIELD(cfg, k, unsigned)]);
	case KEY_LEVEL:
		return buf_printf(out, "%s=%s\n", k->name,
		    log_level_name(*CFIELD(cfg, k, enum log_level)));
	case KEY_PATH:
	case KEY_ACCOUNT:
	case KEY_REDIS:
		if (*CFIELD(cfg, k, string) == NULL)
			return 0;
		return buf_printf(out, "%s=%s\n", k->name,
		    *CFIELD(cfg, k, string));
	case KEY_WORD:
		if (*CFIELD(cfg, k, char) == '\0')
			return 0;
		return buf_printf(out, "%s=%s\n", k->name, CFIELD(cfg, k, char));
	case KEY_LISTEN:
		for (int i = 0; i < cfg->nlisten; i++)
			if (buf_printf(out, "%s=%s\n", k->name,
			    cfg->listen[i]) == -1)
				return -1;
		return 0;
	}
	return -1;	/* not reached: every type is a case above */
}

/* The whole configuration as text config_parse() reads back the same. */
int
config_dump(const struct config *cfg, struct buf *out)
{
	for (size_t i = 0; i < nitems(keys); i++)
		if (dump_key(cfg, &keys[i], out) == -1)
			return -1;
	return config_pipes_dump(cfg, out);
}

/* Should log lines carry journald priorities (log_format, or auto)? */
int
config_journal(const struct config *cfg)
{
	if (cfg->log_format != LOG_FORMAT_AUTO)
		return cfg->log_format == LOG_FORMAT_JOURNAL;
	return log_journal_stream();
}
