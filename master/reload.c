/*
 * reload.c - SIGHUP: the configuration anew, without dropping anyone.
 *
 * The new configuration is built the way start-up builds it (conf.c),
 * with its password and the system limits it needs.  If any of that
 * fails, nothing changes and the error is logged.  Otherwise it goes in
 * force in the master, to every worker as MSG_CONFIG (spares included),
 * and to workers forked from now on through a new forker: the old one
 * is retired, since its copy of the settings never changes.  Listening
 * sockets, the user and the cluster's address, key and server name stay
 * as they are; a reload that would change them says so and keeps the
 * old ones.  The cluster's Redis password is read again, for the next
 * connect.
 *
 * Public: reload_run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "conf.h"
#include "fan.h"
#include "forker.h"
#include "limits.h"
#include "log.h"
#include "reload.h"
#include "service.h"
#include "sock.h"
#include "spawn.h"

/* Do two configurations listen on the same addresses, in order? */
static bool
reload_same_listen(const struct config *a, const struct config *b)
{
	struct sockaddr_storage x, y;
	socklen_t len;

	if (a->nlisten != b->nlisten)
		return false;
	for (int i = 0; i < a->nlisten; i++)
		if (sock_parse(a->listen[i], &x, &len) == -1 ||
		    sock_parse(b->listen[i], &y, &len) == -1 ||
		    !sock_same(&x, &y))
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
reload_keep_account(struct config *next)
{
	char err[CONFIG_ERR_MAX];

	if (same_string(conf.user, next->user) &&
	    same_string(conf.group, next->group))
		return;
	log_warning("reload: user and group cannot change while running; "
	    "keeping the old ones (restart to change them)");
	free(next->user);
	free(next->group);
	next->user = next->group = NULL;
	if (conf.user != NULL)
		(void)config_set(next, "user", conf.user, err, sizeof(err));
	if (conf.group != NULL)
		(void)config_set(next, "group", conf.group, err, sizeof(err));
}

/* The listeners stay as they are, and so does the list. */
static void
reload_keep_listen(struct config *next)
{
	char err[CONFIG_ERR_MAX];

	if (!reload_same_listen(&conf, next))
		log_warning("reload: listen addresses cannot change while "
		    "running; keeping the old ones (restart to change them)");
	config_listen_clear(next);
	for (int i = 0; i < conf.nlisten; i++)
		(void)config_set(next, "listen", conf.listen[i], err,
		    sizeof(err));
}

/* Spares beyond the new pool size go; their exit is quiet. */
static void
reload_trim_spares(void)
{
	struct child *c;

	while (children.nspares > conf.spare_workers &&
	    (c = TAILQ_LAST(&children.spares, childq)) != NULL) {
		child_set_state(c, CHILD_LEAVING);
		fan_control(c, MSG_SHUTDOWN);
	}
}

/* The new configuration to every worker, spares too. */
static void
reload_tell_workers(const struct buf *text)
{
	const struct childq *lists[] = { &children.starting, &children.spares,
	    &children.clients };
	struct iovec iov;
	struct child *c, *next;

	iov.iov_base = (void *)(uintptr_t)buf_head(text);
	iov.iov_len = text->len;
	/* fan_send may kill a child and move it off its list. */
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		for (c = TAILQ_FIRST(lists[i]); c != NULL; c = next) {
			next = TAILQ_NEXT(c, entry);
			c->chan.out.out.limit = conf.max_output_queue +
			    CHAN_HEADROOM;
			(void)fan_send(c, MSG_CONFIG, &iov, 1);
		}
	}
}

/* A reload that cannot be applied: say why; keep everything. */
static void
reload_failed(struct config *next, const char *err)
{
	log_error("reload failed: %s; the old configuration stays in force",
	    err);
	service_reloaded(err);
	config_free(next);
}

/* next, checked, goes in force everywhere. */
static void
reload_apply(const struct config *next, const struct buf *text,
    const char *pw, bool random, const char *cluster_pw)
{
	config_free(&conf);
	conf = *next;
	conf_password_set(pw, random);
	cluster_reloaded(cluster_pw);
	log_init(config_journal(&conf));
	log_set_level(conf.log_level);
	reload_trim_spares();
	reload_tell_workers(text);
	forker_stop();		/* workers forked from now get it anew */
	service_reloaded(NULL);
	log_notice("configuration reloaded: up to %u client%s, %u spare "
	    "worker%s, admin = %s, %d pipe program%s", conf.max_clients,
	    conf.max_clients == 1 ? "" : "s", conf.spare_workers,
	    conf.spare_workers == 1 ? "" : "s",
	    conf.admin == ADMIN_EVERYONE ? "everyone" : "operators",
	    conf.npipes, conf.npipes == 1 ? "" : "s");
}

/* SIGHUP: build the configuration anew; apply it, or keep the old. */
void
reload_run(void)
{
	char err[CONFIG_ERR_MAX], pw[PASSWORD_MAX + 2], cpw[PASSWORD_MAX + 2];
	struct config next;
	struct buf text;
	bool random;

	log_notice("SIGHUP: reloading %s", conf_path() ? conf_path() :
	    "the configuration (no -c file: defaults and -o only)");
	service_reloading();
	if (conf_build(&next, err, sizeof(err)) == -1 ||
	    conf_password_for(&next, pw, sizeof(pw), &random, err,
	    sizeof(err)) == -1 ||
	    limits_check(&next, err, sizeof(err)) == -1) {
		reload_failed(&next, err);
		return;
	}
	reload_keep_listen(&next);
	reload_keep_account(&next);
	cluster_keep(&next);
	if (conf_cluster_password(&next, cpw, sizeof(cpw), err,
	    sizeof(err)) == -1) {
		reload_failed(&next, err);
		return;
	}
	/* Workers must be able to take it, or nobody does. */
	buf_init(&text, MSG_MAX_PAYLOAD);
	if (config_dump(&next, &text) == -1) {
		buf_free(&text);
		reload_failed(&next, "the configuration is too large to send "
		    "to workers");
		return;
	}
	reload_apply(&next, &text, pw, random, cpw);
	buf_free(&text);
}
