/*
 * options.c - the command line: options, the configuration they name,
 * and -t, which checks what a start would and exits.
 *
 * Public: options_parse.  A usage error exits 2, a configuration error
 * 78, each with one line on stderr saying what is wrong.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "exits.h"
#include "limits.h"
#include "options.h"
#include "service.h"
#include "takeover.h"
#include "upgrade.h"

#define MAX_OVERRIDES	64

/* The synopsis and options, to stdout (-h) or stderr (a usage error). */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: forkchatd [-htV] [-c file] [-l addr:port]... "
	    "[-o key=value]...\n"
	    "  -c file        read the configuration from file\n"
	    "  -l addr:port   listen here instead of the configured "
	    "addresses (repeatable)\n"
	    "  -o key=value   set a configuration key, over the file "
	    "(repeatable)\n"
	    "  -t             check the configuration and exit\n"
	    "  -h, --help     show this help and exit\n"
	    "  -V, --version  show the version and exit\n"
	    "See forkchatd(8) and forkchatd.conf(5).\n");
}

/* A usage error: say it, show the usage, exit 2. */
static _Noreturn void usage_fail(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static _Noreturn void
usage_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "forkchatd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	exit(EX_USAGE);
}

/* A configuration error: say it and exit 78 (EX_CONFIG). */
static _Noreturn void
config_fail(const char *what, const char *err)
{
	fprintf(stderr, "forkchatd: %s%s%s\n", what, *what ? ": " : "", err);
	exit(EX_CONFIG);
}

/* --help and --version, the long options people try first. */
static void
long_options(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			exit(EX_OK);
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("forkchatd %s\n", FORKCHAT_VERSION);
			exit(EX_OK);
		}
		if (strncmp(argv[i], "--", 2) == 0)
			usage_fail("unknown option %s", argv[i]);
	}
}

/* "-o" wants key=value: anything else is a usage error (exit 2). */
static void
check_override(const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv || eq - kv >= 64)
		usage_fail("-o takes key=value, not '%s'", kv);
}

/* -t: check what a start would, say so, exit. */
static _Noreturn void
check_only(int noverrides)
{
	char err[CONFIG_ERR_MAX], pw[PASSWORD_MAX + 2];
	bool random;

	/* A password file must be readable; a random one is not made. */
	if ((conf.oper_password_file != NULL &&
	    conf_password_for(&conf, pw, sizeof(pw), &random, err,
	    sizeof(err)) == -1) ||
	    conf_cluster_password(&conf, pw, sizeof(pw), err,
	    sizeof(err)) == -1 ||
	    service_check_account(&conf, err, sizeof(err)) == -1 ||
	    limits_check(&conf, err, sizeof(err)) == -1)
		config_fail("", err);
	printf("forkchatd: configuration %s", conf_path() ? conf_path() :
	    "(built-in defaults)");
	if (noverrides > 0)
		printf(" with %d -o override%s", noverrides,
		    noverrides == 1 ? "" : "s");
	printf(" is ok\n");
	upgrade_check_report();
	exit(EX_OK);
}

/* Parse the command line and build the configuration; -t ends here. */
void
options_parse(int argc, char **argv)
{
	static char *listens[CONFIG_MAX_LISTEN], *ov[MAX_OVERRIDES];
	char err[CONFIG_ERR_MAX], why[CONFIG_ERR_MAX + 128];
	const char *path = NULL;
	int ch, test = 0, nl = 0, no = 0;

	long_options(argc, argv);
	opterr = 0;
	while ((ch = getopt(argc, argv, ":c:hl:o:tV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		case 'l':
			if (nl == CONFIG_MAX_LISTEN)
				config_fail("-l", "too many addresses (max 16)");
			listens[nl++] = optarg;
			break;
		case 'o':
			if (no == MAX_OVERRIDES)
				config_fail("-o", "too many overrides (max 64)");
			check_override(optarg);
			ov[no++] = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("forkchatd %s\n", FORKCHAT_VERSION);
			exit(EX_OK);
		case ':':
			usage_fail("option -%c needs an argument", optopt);
		default:
			usage_fail("unknown option -%c", optopt);
		}
	}
	if (optind != argc)
		usage_fail("unexpected argument '%s'", argv[optind]);
	conf_sources(path, ov, no, listens, nl);
	if (conf_build(&conf, err, sizeof(err)) == -1) {
		if (!takeover_pending())
			config_fail("", err);
		/* An upgrade: the configuration in force, as a reload keeps it. */
		if (takeover_config(&conf, err, why, sizeof(why)) == -1)
			takeover_rollback(why);	/* the old binary runs on */
	}
	if (test)
		check_only(no);
}
