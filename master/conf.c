/*
 * conf.c - the configuration in force: built from the file and the
 * command line, reloaded on SIGHUP, and the operator password.
 *
 * conf_build() is the one recipe, used at start and on reload: built-in
 * defaults, then the file (-c), then each -o in order, then -l.  A
 * reload that fails leaves everything as it was.  Listening sockets stay
 * as they are: a reload that changes them is refused, loudly.
 *
 * Public: conf_build, conf_password, conf_reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "os.h"
#include "sock.h"

#define PASSWORD_LEN	16		/* random password: characters */

/* Every listen address must parse now, not fail later at bind time. */
static int
conf_check_listen(const struct config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	for (int i = 0; i < cfg->nlisten; i++) {
		if (sock_parse(cfg->listen[i], &ss, &len) == -1) {
			(void)snprintf(err, errlen, "listen: '%s' is not "
			    "IPV4:PORT, [IPV6]:PORT or *:PORT", cfg->listen[i]);
			return -1;
		}
	}
	return 0;
}

/* Defaults, the file, -o, -l: the configuration to run with. */
int
conf_build(struct config *cfg, char *err, size_t errlen)
{
	char msg[CONFIG_ERR_MAX];
	bool cleared = false;

	config_defaults(cfg);
	if (M.config_path != NULL &&
	    config_load(cfg, M.config_path, err, errlen) == -1)
		return -1;
	for (int i = 0; i < M.noverrides; i++)
		if (config_set_kv(cfg, M.overrides[i], &cleared, err,
		    errlen) == -1)
			return -1;
	if (M.ncli_listen > 0)
		config_listen_clear(cfg);
	for (int i = 0; i < M.ncli_listen; i++) {
		if (config_set(cfg, "listen", M.cli_listen[i], msg,
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
	return conf_check_listen(cfg, err, errlen);
}

/*
 * The first line of the password file.  A symbolic link to a file
 * someone else owns is refused (they choose the password); a file
 * others may read is taken, with a warning each time it is read.
 */
static int
conf_read_password(const char *path, char *out, size_t size, char *err,
    size_t errlen)
{
	ssize_t n;
	int priv;

	if ((priv = os_file_privacy(path)) == -1)
		goto fail;
	if (priv & OS_FILE_FOREIGN_LINK) {
		(void)snprintf(err, errlen, "oper_password_file %s: a symbolic "
		    "link to a file owned by another user; refused", path);
		return -1;
	}
	if ((n = os_read_file(path, out, size - 1)) == -1)
		goto fail;
	out[n] = '\0';
	if (out[strcspn(out, "\r\n")] == '\0' && (size_t)n == size - 1) {
		(void)snprintf(err, errlen, "oper_password_file %s: the first "
		    "line is longer than %zu bytes", path, size - 2);
		return -1;
	}
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0') {
		(void)snprintf(err, errlen, "oper_password_file %s: the first "
		    "line is empty", path);
		return -1;
	}
	if (priv & OS_FILE_SHARED)
		log_warning("oper_password_file %s: readable by other users "
		    "(chmod 600 it)", path);
	return 0;
fail:
	(void)snprintf(err, errlen, "cannot read oper_password_file %s: %s",
	    path, os_file_error(errno));
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
 * The operator password cfg asks for: "" when admin = everyone, the
 * file's first line, or (no file) the random one we already have or a
 * new one, logged once so the operator can use it.  -1 with err set.
 */
int
conf_password(const struct config *cfg, char *out, size_t size, char *err,
    size_t errlen)
{
	if (cfg->admin == ADMIN_EVERYONE) {
		out[0] = '\0';
		return 0;
	}
	if (cfg->oper_password_file != NULL) {
		if (conf_read_password(cfg->oper_password_file, out, size, err,
		    errlen) == -1)
			return -1;
		M.password_random = false;
		return 0;
	}
	if (M.password_random && out[0] != '\0')
		return 0;
	if (conf_random_password(out, size) == -1) {
		(void)snprintf(err, errlen, "cannot make a random operator "
		    "password: %s", strerror(errno));
		return -1;
	}
	M.password_random = true;
	/* It must reach the operator, even past a quiet log_level. */
	log_msg(log_enabled(LL_NOTICE) ? LL_NOTICE : log_enabled(LL_WARNING) ?
	    LL_WARNING : LL_ERROR, "operator password for this run: %s (set "
	    "oper_password_file to choose one)", out);
	return 0;
}

/* Do two configurations listen on the same addresses, in order? */
static bool
conf_same_listen(const struct config *a, const struct config *b)
{
	if (a->nlisten != b->nlisten)
		return false;
	for (int i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i], b->listen[i]) != 0)
			return false;
	return true;
}

/* Are two optional strings the same (both unset counts)? */
static bool
same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The user and group were dropped to at start: they cannot change. */
static void
conf_keep_account(struct config *next)
{
	char err[CONFIG_ERR_MAX];

	if (same_string(M.cfg.user, next->user) &&
	    same_string(M.cfg.group, next->group))
		return;
	log_warning("reload: user and group cannot change while running; "
	    "keeping the old ones (restart to change them)");
	free(next->user);
	free(next->group);
	next->user = next->group = NULL;
	if (M.cfg.user != NULL)
		(void)config_set(next, "user", M.cfg.user, err, sizeof(err));
	if (M.cfg.group != NULL)
		(void)config_set(next, "group", M.cfg.group, err, sizeof(err));
}

/* Spares beyond the new pool size go; their exit is quiet. */
static void
conf_trim_spares(void)
{
	struct child *c;

	while (M.nspares > M.cfg.spare_workers &&
	    (c = TAILQ_LAST(&M.spares, childq)) != NULL) {
		child_set_state(c, CHILD_LEAVING);
		relay_control(c, MSG_SHUTDOWN);
	}
}

/* A reload that cannot be applied: say why; keep everything. */
static void
conf_reload_failed(struct config *next, const char *err)
{
	log_error("reload failed: %s; the old configuration stays in force",
	    err);
	service_reloaded(err);
	config_free(next);
}

/* SIGHUP: build the configuration anew; apply it, or keep the old. */
void
conf_reload(void)
{
	char err[CONFIG_ERR_MAX], pw[sizeof(M.password)];
	struct config next;
	struct buf text;
	struct childq *lists[] = { &M.starting, &M.spares, &M.clients };
	struct child *c;

	log_notice("SIGHUP: reloading %s", M.config_path ? M.config_path :
	    "the configuration (no -c file: defaults and -o only)");
	service_reloading();
	memcpy(pw, M.password, sizeof(M.password));
	if (conf_build(&next, err, sizeof(err)) == -1 ||
	    conf_password(&next, pw, sizeof(pw), err, sizeof(err)) == -1 ||
	    limits_check(&next, err, sizeof(err)) == -1) {
		conf_reload_failed(&next, err);
		return;
	}
	if (!conf_same_listen(&M.cfg, &next))
		log_warning("reload: listen addresses cannot change while "
		    "running; keeping the old ones (restart to change them)");
	conf_keep_account(&next);
	/* The listeners stay as they are, and so does the list. */
	config_listen_clear(&next);
	for (int i = 0; i < M.cfg.nlisten; i++)
		(void)config_set(&next, "listen", M.cfg.listen[i], err,
		    sizeof(err));
	/* Workers must be able to take it, or nobody does. */
	buf_init(&text, MSG_MAX_PAYLOAD);
	if (config_dump(&next, &text) == -1) {
		buf_free(&text);
		conf_reload_failed(&next, "the configuration is too large to "
		    "send to workers");
		return;
	}
	config_free(&M.cfg);
	M.cfg = next;
	memcpy(M.password, pw, sizeof(M.password));
	log_init(config_journal(&M.cfg));
	log_set_level(M.cfg.log_level);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		TAILQ_FOREACH(c, lists[i], entry)
			c->out.out.limit = M.cfg.max_output_queue + CHAN_HEADROOM;
	conf_trim_spares();
	relay_config(&text);
	buf_free(&text);
	/* Workers forked from now on get it from a new forker. */
	forker_stop();
	service_reloaded(NULL);
	log_notice("configuration reloaded: up to %u client%s, %u spare "
	    "worker%s, admin = %s, %d pipe program%s", M.cfg.max_clients,
	    M.cfg.max_clients == 1 ? "" : "s",
	    M.cfg.spare_workers, M.cfg.spare_workers == 1 ? "" : "s",
	    M.cfg.admin == ADMIN_EVERYONE ? "everyone" : "operators",
	    M.cfg.npipes, M.cfg.npipes == 1 ? "" : "s");
}
