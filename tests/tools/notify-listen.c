/*
 * notify-listen - a stand-in for systemd's notify socket, for tests.
 *
 *   notify-listen PATH [SECONDS]
 *
 * Binds a datagram socket at PATH ("@name" for an abstract one) and
 * prints each datagram it receives as one line, its newlines shown as
 * '|', until SIGTERM/SIGINT or SECONDS (default 60) have passed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int signo)
{
	(void)signo;
	stop = 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction act = { .sa_handler = on_signal };
	struct pollfd pfd;
	char buf[4096];
	long long end;
	size_t len;
	ssize_t n;

	if (argc < 2 || (len = strlen(argv[1])) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify-listen PATH [SECONDS]\n");
		return 2;
	}
	end = now_ms() + (argc > 2 ? strtoll(argv[2], NULL, 10) : 60) * 1000;
	memcpy(sa.sun_path, argv[1], len);
	if (argv[1][0] == '@')
		sa.sun_path[0] = '\0';
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	pfd.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	pfd.events = POLLIN;
	if (pfd.fd == -1 || bind(pfd.fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1) {
		perror("notify-listen");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("listening\n");
	while (!stop && now_ms() < end) {
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		if ((n = recv(pfd.fd, buf, sizeof(buf) - 1, 0)) <= 0)
			continue;
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		printf("%s\n", buf);
	}
	if (argv[1][0] != '@')
		(void)unlink(argv[1]);
	return 0;
}
