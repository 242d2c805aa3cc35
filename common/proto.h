/*
 * proto.h - rules of the chat protocol that master and worker share.
 */
#ifndef FORKCHAT_PROTO_H
#define FORKCHAT_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define PROTO_NICK_MAX	16
#define PROTO_TIMEOUT_MAX 604800	/* read timeouts: a week at most */

bool	nick_valid(const char *);
bool	nick_reserved(const char *);
size_t	proto_duration(char *, size_t, long long);

#endif
