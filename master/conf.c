/*
 * conf.c - the configuration in force, and the operator password.
 *
 * conf_build() is the one recipe, used at start and on reload: built-in
 * defaults, then the file (-c), then each -o in order, then -l.  The
 * sources are given once (conf_sources) and kept for reloads.
 *
 * The operator password is the first line of oper_password_file, or,
 * without one, a random password made at start, logged once, and kept
 * across reloads.  It is compared in constant time.  The Redis
 * password of the cluster link is read the same way, from
 * cluster_password_file.
 *
 * Public: conf, conf_sources, conf_path, conf_build, conf_password_for,
 * conf_password_set, conf_password_ok, conf_cluster_password, conf_save,
 * conf_restore, conf_restore_config.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "os.h"
#include "snap.h"
#include "state.h"

#define PASSWORD_LEN	16		/* random password: characters */

struct config conf;

static const char *path;		/* -c, or NULL */
static char **overrides;		/* -o key=value */
static int noverrides;
static char **cli_listen;		/* -l */
static int ncli_listen;

static char password[PASSWORD_MAX + 2];	/* "": none needed; +2: see below */
static bool password_random;

/* Where the configuration comes from, kept for every reload. */
void
conf_sources(const char *file, char **ov, int nov, char **listen, int nl)
{
	path = file;
	overrides = ov;
	noverrides = nov;
	cli_listen = listen;
	ncli_listen = nl;
}

/* The configuration file, or NULL for defaults and -o only. */
const char *
conf_path(void)
{
	return path;
}

/* Defaults, the file, -o, -l: the configuration to run with. */
int
conf_build(struct config *cfg, char *err, size_t errlen)
{
	char msg[CONFIG_ERR_MAX];
	bool cleared = false;

	config_defaults(cfg);
	if (path != NULL && config_load(cfg, path, err, errlen) == -1)
		return -1;
	for (int i = 0; i < noverrides; i++)
		if (config_set_kv(cfg, overrides[i], &cleared, err,
		    errlen) == -1)
			return -1;
	if (ncli_listen > 0)
		config_listen_clear(cfg);
	for (int i = 0; i < ncli_listen; i++) {
		if (config_set(cfg, "listen", cli_listen[i], msg,
		    sizeof(msg)) == -1) {
			(void)snprintf(err, errlen, "-l: %s", msg);
			return -1;
		}
	}
	if (cfg->group != NULL && cfg->user == NULL) {
		(void)snprintf(err, errlen, "group: set user too (the group "
		    "is taken on with the user)");
		return -1;
	}
	return 0;
}

/*
 * The first line of the password file.  A symbolic link to a file
 * someone else owns is refused (they choose the password); a file
 * others may read is taken, with a warning each time it is read.
 */
static int
conf_read_password(const char *key, const char *file, char *out, size_t size,
    char *err, size_t errlen)
{
	ssize_t n;
	int priv;

	if ((priv = os_file_privacy(file)) == -1)
		goto fail;
	if (priv & OS_FILE_FOREIGN_LINK) {
		(void)snprintf(err, errlen, "%s %s: a symbolic link to a file "
		    "owned by another user; refused", key, file);
		return -1;
	}
	if ((n = os_read_file(file, out, size - 1)) == -1)
		goto fail;
	out[n] = '\0';
	if (out[strcspn(out, "\r\n")] == '\0' && (size_t)n == size - 1) {
		(void)snprintf(err, errlen, "%s %s: the first line is longer "
		    "than %zu bytes", key, file, size - 2);
		return -1;
	}
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0') {
		(void)snprintf(err, errlen, "%s %s: the first line is empty",
		    key, file);
		return -1;
	}
	if (priv & OS_FILE_SHARED)
		log_warning("%s %s: readable by other users (chmod 600 it)",
		    key, file);
	return 0;
fail:
	(void)snprintf(err, errlen, "cannot read %s %s: %s", key, file,
	    os_file_error(errno));
	return -1;
}

/* A fresh random password, in letters nobody misreads. */
static int
conf_random_password(char *out, size_t size)
{
	static const char abc[] = "abcdefghjkmnpqrstuvwxyz23456789";
	unsigned char r[PASSWORD_LEN];

	if (size <= PASSWORD_LEN || os_random(r, sizeof(r)) == -1)
		return -1;
	for (size_t i = 0; i < PASSWORD_LEN; i++)
		out[i] = abc[r[i] % (sizeof(abc) - 1)];
	out[PASSWORD_LEN] = '\0';
	return 0;
}

/*
 * The operator password cfg asks for, into out (size at least
 * PASSWORD_MAX + 2: one byte more than a line may hold tells a line too
 * long): "" when admin = everyone, the file's first line, or (no file)
 * the random one we already have or a new one, logged once so the
 * operator can use it.  *random says which.  -1 with err set.
 */
int
conf_password_for(const struct config *cfg, char *out, size_t size,
    bool *random, char *err, size_t errlen)
{
	*random = false;
	if (cfg->admin == ADMIN_EVERYONE) {
		out[0] = '\0';
		return 0;
	}
	if (cfg->oper_password_file != NULL)
		return conf_read_password("oper_password_file",
		    cfg->oper_password_file, out, size, err, errlen);
	*random = true;
	if (password_random && password[0] != '\0') {
		(void)snprintf(out, size, "%s", password);
		return 0;
	}
	if (conf_random_password(out, size) == -1) {
		(void)snprintf(err, errlen, "cannot make a random operator "
		    "password: %s", strerror(errno));
		return -1;
	}
	/* It must reach the operator, even past a quiet log_level. */
	log_msg(log_enabled(LL_NOTICE) ? LL_NOTICE : log_enabled(LL_WARNING) ?
	    LL_WARNING : LL_ERROR, "operator password for this run: %s (set "
	    "oper_password_file to choose one)", out);
	return 0;
}

/*
 * The Redis password cfg asks for (cluster_password_file's first line),
 * into out as conf_password_for() does; "" when there is none.
 */
int
conf_cluster_password(const struct config *cfg, char *out, size_t size,
    char *err, size_t errlen)
{
	out[0] = '\0';
	if (cfg->cluster == NULL || cfg->cluster_password_file == NULL)
		return 0;
	return conf_read_password("cluster_password_file",
	    cfg->cluster_password_file, out, size, err, errlen);
}

/* Put a password from conf_password_for() in force. */
void
conf_password_set(const char *pw, bool random)
{
	(void)snprintf(password, sizeof(password), "%s", pw);
	password_random = random;
}

/*
 * Is guess the operator password?  In time that depends on the
 * password's length only, never on where a guess first differs.
 */
bool
conf_password_ok(const char *guess, size_t glen)
{
	size_t slen = strlen(password);
	volatile unsigned char diff = glen != slen;

	if (slen == 0)
		return false;		/* none is needed, so none is right */
	for (size_t i = 0; i < slen; i++)
		diff |= (unsigned char)(password[i] ^ (i < glen ? guess[i] : 0));
	return diff == 0;
}

/* The password in force, for the binary that takes over. */
int
conf_save(struct snap *s)
{
	struct buf text;

	snap_begin(s, SNAP_PASSWORD);
	snap_str(s, password);
	snap_u32(s, password_random);
	snap_end(s);
	buf_init(&text, 0);
	if (config_dump(&conf, &text) == -1) {
		buf_free(&text);
		return -1;
	}
	snap_begin(s, SNAP_CONFIG);
	snap_bytes(s, buf_head(&text), text.len);
	snap_end(s);
	buf_free(&text);
	return s->failed ? -1 : 0;
}

/*
 * SNAP_CONFIG: the configuration the old master ran with, as
 * config_dump() wrote it: into cfg if cfg is not NULL (the file could
 * not be read: takeover_config), else only checked.
 */
int
conf_restore_config(struct msg *m, struct config *cfg, char *err,
    size_t errlen)
{
	const char *text;
	size_t len;

	if (msg_rest(m, &text, &len) == -1 || msg_end(m) == -1) {
		(void)snprintf(err, errlen, "the running configuration is "
		    "malformed");
		return -1;
	}
	if (cfg == NULL)
		return 0;
	config_free(cfg);		/* what the failed build left */
	config_defaults(cfg);
	return config_parse(cfg, text, len, "the running configuration", err,
	    errlen);
}

/* SNAP_PASSWORD: the password in force before; -1 if malformed. */
int
conf_restore(struct msg *m)
{
	char pw[PASSWORD_MAX + 2];
	uint32_t random;

	if (msg_str(m, pw, sizeof(pw)) == -1 || msg_u32(m, &random) == -1 ||
	    msg_end(m) == -1)
		return -1;
	conf_password_set(pw, random != 0);
	return 0;
}
