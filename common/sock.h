/*
 * sock.h - TCP sockets: parse an address, listen, accept, name a peer.
 *
 * Addresses are numeric: "127.0.0.1:2000", "[::1]:2000", "*:2000"
 * (every IPv4 address) or "[::]:2000".  Port 0 asks the kernel for a
 * free port; sock_name() tells which one it chose.  sock_same() compares
 * two parsed addresses.  Every descriptor is non-blocking and
 * close-on-exec.  sock_activated() takes sockets a service manager passed
 * (LISTEN_FDS).  Errors: -1 with errno set.
 */
#ifndef FORKCHAT_SOCK_H
#define FORKCHAT_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define SOCK_ADDR_MAX	64	/* "[v6 address]:port" and a NUL */

int	sock_parse(const char *, struct sockaddr_storage *, socklen_t *);
bool	sock_same(const struct sockaddr_storage *,
	    const struct sockaddr_storage *);
int	sock_listen(const char *);
int	sock_accept(int, char *, size_t);
int	sock_name(int, char *, size_t);
int	sock_format(const struct sockaddr *, char *, size_t);
int	sock_nonblock(int);
int	sock_tune_client(int);
int	sock_activated(int *, int, int *);

#endif
