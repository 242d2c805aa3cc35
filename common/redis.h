/*
 * redis.h - the link to a Redis server, for an event loop.
 *
 * Addresses: "redis://HOST:PORT", HOST a numeric IPv4 address, an IPv6
 * one in brackets or "localhost" (127.0.0.1), PORT 1-65535; or
 * "unix:PATH".  No name lookup: nothing here blocks.
 *
 * Connecting: redis_connect() starts a non-blocking connect; if it says
 * pending, wait until the socket is writable (POLLOUT, or POLLERR/
 * POLLHUP), then redis_connect_done() tells how it went.  Then
 * redis_flush() writes queued commands (1: wait for POLLOUT and call
 * again) and redis_read() feeds what came to a resp_reader.
 *
 * Stream ids: "MS-SEQ", two 64-bit numbers, ordered by MS then SEQ.
 *
 * Every call that can fail returns -1 with errno set.
 */
#ifndef FORKCHAT_REDIS_H
#define FORKCHAT_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"
#include "resp.h"

#define REDIS_ADDR_MAX	128	/* "unix:" and a sun_path, or a URL, + NUL */
#define REDIS_ID_MAX	42	/* "18446744073709551615-...615" and a NUL */
#define REDIS_READ_MAX	16384	/* bytes redis_read() takes at a time */

struct redis_addr {
	struct sockaddr_storage ss;
	socklen_t	 len;
};

struct redis_id {
	uint64_t	 ms;
	uint64_t	 seq;
};

int	redis_addr_parse(const char *, struct redis_addr *);
int	redis_addr_format(const struct redis_addr *, char *, size_t);
int	redis_connect(const struct redis_addr *, int *);
int	redis_connect_done(int);
int	redis_flush(int, struct buf *);
ssize_t	redis_read(int, struct resp_reader *);

int	redis_id_parse(const char *, size_t, struct redis_id *);
int	redis_id_cmp(const struct redis_id *, const struct redis_id *);
int	redis_id_format(const struct redis_id *, char *, size_t);

#endif
