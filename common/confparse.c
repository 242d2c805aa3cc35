/*
 * confparse.c - configuration text: a file, its lines, and -o KEY=VALUE.
 *
 * A file is "key = value" lines, '#' comments and blank lines; each
 * setting goes through config_set(), and an error is told as
 * "FILE:LINE: what".  A key may be set once per file (listen excepted);
 * the slot config_key_slot() gives remembers the line of the first.  A
 * file is read with os_read_file(), which never blocks and reads regular
 * files only.
 *
 * Public: config_parse(), config_load(), config_set_kv().
 * Errors are one line in the caller's buffer; nothing here logs or exits.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "confint.h"
#include "os.h"

#define FILE_SIZE_MAX	((size_t)1024 * 1024)	/* largest config file */
#define UTF8_BOM	"\xef\xbb\xbf"
#define UTF8_BOM_LEN	(sizeof(UTF8_BOM) - 1)

#define seterr	config_seterr

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

/*
 * Apply one line of a file (a NUL-terminated copy we may modify).
 * seen[slot] is the line each key was first set on in this file, or 0.
 */
static int
parse_line(struct config *cfg, unsigned *seen, char *line, unsigned lineno,
    char *err, size_t errlen)
{
	char *key = line, *value = line;	/* split_line points them */
	int slot;

	cut_comment(line);
	line = trim(line);
	if (*line == '\0')
		return 0;
	if (split_line(line, &key, &value, err, errlen) == -1)
		return -1;
	slot = config_key_slot(cfg, key);
	if (slot != -1 && seen[slot] != 0)
		return seterr(err, errlen, "key '%s' is set twice (first on "
		    "line %u)", key, seen[slot]);
	if (config_set(cfg, key, value, err, errlen) == -1)
		return -1;
	/* Again: a new pipe has a slot only now. */
	if ((slot = config_key_slot(cfg, key)) != -1)
		seen[slot] = lineno;
	return 0;
}

/*
 * Parse a whole file's text; name is what error messages call it.  A
 * UTF-8 byte-order mark at the very start, as some editors write, is
 * not part of the first key.
 */
int
config_parse(struct config *cfg, const char *text, size_t len,
    const char *name, char *err, size_t errlen)
{
	unsigned seen[CONFIG_SLOTS];
	char line[CONFIG_LINE_MAX + 1], msg[CONFIG_ERR_MAX];
	const char *nl;
	size_t off, n;
	unsigned lineno;

	memset(seen, 0, sizeof(seen));
	if (len >= UTF8_BOM_LEN && memcmp(text, UTF8_BOM, UTF8_BOM_LEN) == 0) {
		text += UTF8_BOM_LEN;
		len -= UTF8_BOM_LEN;
	}
	for (off = 0, lineno = 1; off < len; off += n + 1, lineno++) {
		nl = memchr(text + off, '\n', len - off);
		n = (nl != NULL ? (size_t)(nl - text) : len) - off;
		if (memchr(text + off, '\0', n) != NULL)
			return seterr(err, errlen, "%s:%u: NUL byte", name,
			    lineno);
		if (n > CONFIG_LINE_MAX)
			return seterr(err, errlen, "%s:%u: line is longer than "
			    "%d bytes", name, lineno, CONFIG_LINE_MAX);
		memcpy(line, text + off, n);
		line[n] = '\0';
		if (parse_line(cfg, seen, line, lineno, msg,
		    sizeof(msg)) == -1)
			return seterr(err, errlen, "%s:%u: %s", name, lineno,
			    msg);
	}
	return 0;
}

/*
 * Read a config file and parse it on top of what cfg holds.  Only a
 * regular file is read: a FIFO or a device named by mistake is an
 * error at once, never a wait or an endless read.
 */
int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	char *text;
	ssize_t len = -1;
	int rv;

	/* One byte more than allowed, to see that a file is too big. */
	if ((text = malloc(FILE_SIZE_MAX + 1)) != NULL)
		len = os_read_file(path, text, FILE_SIZE_MAX + 1);
	if (len == -1)
		rv = seterr(err, errlen, "cannot read %s: %s", path,
		    os_file_error(errno));
	else if ((size_t)len > FILE_SIZE_MAX)
		rv = seterr(err, errlen, "%s: file is larger than %zu bytes",
		    path, FILE_SIZE_MAX);
	else
		rv = config_parse(cfg, text, (size_t)len, path, err, errlen);
	free(text);
	return rv;
}
