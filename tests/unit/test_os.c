/*
 * test_os.c - unit tests for common/os.c's file calls: os_read_file()
 * (regular files only, never blocking), os_file_error(), and
 * os_file_privacy() (who else may read a file, and whose file a symbolic
 * link leads to), on files made here in a temporary directory; and
 * os_children(), on children forked here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.h"
#include "unit.h"

#define NOBODY	65534		/* a uid that is not ours when we are root */

static char dir[] = "/tmp/test_os.XXXXXX";

/* dir/name into buf. */
static const char *
at(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

/* Write text to dir/name with the given mode; the path, or NULL. */
static const char *
make_file(char *buf, size_t size, const char *name, const char *text,
    mode_t mode)
{
	int fd;

	at(buf, size, name);
	fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode) == -1) {
		close(fd);
		return NULL;
	}
	close(fd);
	return buf;
}

/* Does os_read_file(path) fail with errno e? */
static int
read_fails(const char *path, int e)
{
	char buf[64];
	ssize_t n;

	errno = 0;
	n = os_read_file(path, buf, sizeof(buf));
	if (n != -1 || errno != e)
		printf("# %s: got %zd, %s\n", path, n, strerror(errno));
	return n == -1 && errno == e;
}

/* Whole files, parts of them, and empty ones. */
static void
test_read_regular(void)
{
	char path[200], buf[64];
	ssize_t n;

	make_file(path, sizeof(path), "ten", "0123456789", 0600);
	n = os_read_file(path, buf, sizeof(buf));
	CHECK(n == 10 && memcmp(buf, "0123456789", 10) == 0,
	    "a whole file");
	CHECK(os_read_file(path, buf, 4) == 4 && memcmp(buf, "0123", 4) == 0,
	    "at most size bytes");
	CHECK(os_read_file(path, buf, 11) == 10,
	    "one byte more than the file: its length");
	make_file(path, sizeof(path), "empty", "", 0600);
	CHECK(os_read_file(path, buf, sizeof(buf)) == 0, "an empty file");
	CHECK(read_fails(at(path, sizeof(path), "missing"), ENOENT),
	    "a missing file: ENOENT");
	CHECK(strcmp(os_file_error(EINVAL), "not a regular file") == 0 &&
	    strcmp(os_file_error(ENOENT), strerror(ENOENT)) == 0,
	    "os_file_error: EINVAL is 'not a regular file', others strerror");
}

/* Anything else is EINVAL, at once: the alarm catches a hang. */
static void
test_read_special(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[200];
	int fd, wfd;

	alarm(10);
	at(path, sizeof(path), "fifo");
	CHECK(mkfifo(path, 0600) == 0 && read_fails(path, EINVAL),
	    "a FIFO without a writer: EINVAL, not a wait");
	/* With a writer and data waiting, it is still not read. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(fd != -1 && wfd != -1 && write(wfd, "x\n", 2) == 2 &&
	    read_fails(path, EINVAL), "a FIFO with data: EINVAL");
	if (wfd != -1)
		close(wfd);
	if (fd != -1)
		close(fd);
	unlink(path);
	CHECK(read_fails(dir, EINVAL), "a directory: EINVAL");
	CHECK(read_fails("/dev/null", EINVAL), "a device: EINVAL");
	at(sun.sun_path, sizeof(sun.sun_path), "sock");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd != -1 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ==
	    0 && read_fails(sun.sun_path, EINVAL),
	    "a socket: EINVAL (open's ENXIO)");
	if (fd != -1)
		close(fd);
	unlink(sun.sun_path);
	alarm(0);
}

/* The group and other read bits; a link to our own file is fine. */
static void
test_privacy_mode(void)
{
	char path[200], link[200];

	make_file(path, sizeof(path), "pw", "secret\n", 0600);
	CHECK(os_file_privacy(path) == 0, "0600: private");
	CHECK(chmod(path, 0400) == 0 && os_file_privacy(path) == 0,
	    "0400: private");
	CHECK(chmod(path, 0640) == 0 && os_file_privacy(path) ==
	    OS_FILE_SHARED, "0640: readable by the group");
	CHECK(chmod(path, 0604) == 0 && os_file_privacy(path) ==
	    OS_FILE_SHARED, "0604: readable by others");
	CHECK(chmod(path, 0620) == 0 && os_file_privacy(path) == 0,
	    "0620: the group may write, not read: private");
	CHECK(chmod(path, 0600) == 0 && symlink(path, at(link, sizeof(link),
	    "mylink")) == 0 && os_file_privacy(link) == 0,
	    "a symbolic link to our own private file");
	CHECK(chmod(path, 0644) == 0 && os_file_privacy(link) ==
	    OS_FILE_SHARED, "the target's mode counts, not the link's");
	errno = 0;
	CHECK(os_file_privacy(at(path, sizeof(path), "missing")) == -1 &&
	    errno == ENOENT, "a missing file: -1, ENOENT");
	CHECK(symlink(path, at(link, sizeof(link), "dangling")) == 0 &&
	    os_file_privacy(link) == -1 && errno == ENOENT,
	    "a link to nothing: -1, ENOENT");
}

/* A link to another user's file is flagged; that file itself is not. */
static void
test_privacy_owner(void)
{
	char path[200], link[200];
	const char *target = path;

	make_file(path, sizeof(path), "theirs", "secret\n", 0600);
	if (geteuid() == 0) {
		CHECK(chown(path, NOBODY, NOBODY) == 0, "chown to nobody");
	} else {
		target = "/etc/passwd";		/* root's, and readable */
	}
	CHECK(symlink(target, at(link, sizeof(link), "theirlink")) == 0 &&
	    (os_file_privacy(link) & OS_FILE_FOREIGN_LINK) != 0,
	    "a symbolic link to a file another user owns");
	CHECK((os_file_privacy(target) & OS_FILE_FOREIGN_LINK) == 0,
	    "the file itself, named directly, is no link");
	unlink(link);
}

/* Remove what the tests made: files and links, then the directory. */
static void
cleanup(void)
{
	static const char *const names[] = { "ten", "empty", "pw", "mylink",
	    "dangling", "theirs", "theirlink" };
	char path[200];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)unlink(at(path, sizeof(path), names[i]));
	(void)rmdir(dir);
}

/* os_children: the children forked here, and none once reaped. */
static void
test_children(void)
{
	pid_t kids[2], got[8];
	int n, st, found = 0;

	CHECK(os_children(got, 8) == 0, "no children: none listed");
	for (int i = 0; i < 2; i++) {
		if ((kids[i] = fork()) == 0) {
			pause();
			_exit(0);
		}
	}
	n = os_children(got, 8);
	for (int i = 0; i < n; i++)
		found += got[i] == kids[0] || got[i] == kids[1];
	CHECK(n == 2 && found == 2, "two children forked: both listed");
	CHECK(os_children(got, 1) == 1, "no more than max");
	for (int i = 0; i < 2; i++) {
		(void)kill(kids[i], SIGKILL);
		(void)waitpid(kids[i], &st, 0);
	}
	CHECK(os_children(got, 8) == 0, "reaped: none listed");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return unit_done();
	}
	test_read_regular();
	test_read_special();
	test_privacy_mode();
	test_privacy_owner();
	test_children();
	cleanup();
	return unit_done();
}
