/*
 * proto.h - rules of the chat protocol that master and worker share:
 * the limits of what a client may say, nick syntax, the seconds of
 * /timeout, durations as people read them, and cutting text to a
 * length without splitting a UTF-8 character.
 */
#ifndef FORKCHAT_PROTO_H
#define FORKCHAT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_NICK_MAX	   16		/* nicks, and pipe names */
#define PROTO_TARGET_MAX   64		/* a NICK or #ID as typed */
#define PROTO_REASON_MAX   200		/* /quit message, /kick reason */
#define PROTO_PASSWORD_MAX 256		/* an /oper guess */
#define PROTO_PEER_MAX	   64		/* "[v6 address]:port" and a NUL */
#define PROTO_TIMEOUT_MAX  604800	/* read timeouts: a week at most */

/* What a client is told when SECONDS is not one. */
#define PROTO_SECONDS_ERR "ERR SECONDS must be a whole number from 0 (no " \
	"timeout) to 604800"

bool	nick_char(char);
bool	nick_valid(const char *);
bool	nick_reserved(const char *);
int	proto_seconds(const char *, size_t, uint32_t *);
size_t	proto_duration(char *, size_t, long long);
size_t	proto_cut(const char *, size_t, size_t);

#endif
