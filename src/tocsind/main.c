/* tocsind: the daemon.  Options, privilege and environment checks, then
 * tc_daemon_run() (daemon.c) runs the event loop until SIGTERM. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "tocsin/config.h"
#include "tocsin/log.h"
#include "tocsin/pgp.h"
#include "tocsin/pgpproc.h"

#define DEFAULT_CONFIG "/etc/tocsin/tocsin.yaml"

/* libuv sizes its pool once, at first use: SMTP sessions, compose workers
 * and two more (registry loads, feed preparation), unless the operator
 * said otherwise. */
static void
set_threadpool(const struct tc_config *cfg)
{
	char n[16];

	if (getenv("UV_THREADPOOL_SIZE") != NULL)
		return;
	snprintf(n, sizeof(n), "%u",
	    cfg->smtp.max_sessions + cfg->gpg.workers + 2);
	setenv("UV_THREADPOOL_SIZE", n, 1);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tocsind [-c CONFIG] [-D] [-n [-v]] [-V]\n"
	    "  -c FILE  configuration (default " DEFAULT_CONFIG ")\n"
	    "  -D       detach: run in the background, log to syslog\n"
	    "  -n       check the configuration, print \"configuration "
	    "OK\"\n"
	    "  -v       with -n: print the effective configuration\n"
	    "  -V       print the version\n");
}

int
main(int argc, char **argv)
{
	const char       *path = getenv("TOCSIN_CONFIG");
	struct tc_config *cfg;
	struct tc_buf     errors = TC_BUF_INIT;
	struct tc_err     err;
	int               ch, check = 0, verbose = 0, detach = 0;

	/* tocsind starts its gpg helpers as itself with this argument and
	 * their socket on fd 3 (pgpproc.h). */
	if (argc == 2 && strcmp(argv[1], "--gpg-helper") == 0) {
		struct stat st;

		if (fstat(TC_PGPPROC_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
			fprintf(stderr,
			    "tocsind: --gpg-helper is how tocsind "
			    "starts its own gpg helpers; it is not "
			    "run by hand\n");
			return 2;
		}
		tc_log_open("tocsind-gpg", false);
		return tc_pgpproc_serve(TC_PGPPROC_FD);
	}
	if (path == NULL || *path == '\0')
		path = DEFAULT_CONFIG;
	while ((ch = getopt(argc, argv, "c:DnvVh")) != -1) {
		switch (ch) {
		case 'D':
			detach = 1;
			break;
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			puts("tocsind 0.1");
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	cfg = tc_config_load(path, &errors, &err);
	if (cfg == NULL) {
		fputs(errors.len ? errors.data : err.msg, stderr);
		tc_buf_deinit(&errors);
		return 1;
	}
	if (check) {
		if (verbose) {
			tc_config_dump(cfg, &errors);
			fputs(tc_buf_cstr(&errors), stdout);
		}
		puts("configuration OK");
		tc_buf_deinit(&errors);
		tc_config_unref(cfg);
		return 0;
	}
	if (geteuid() == 0) {
		tc_config_unref(cfg);
		fprintf(stderr,
		    "tocsind: refusing to run as root: start it as "
		    "the service user (see tocsind.service)\n");
		return 1;
	}
	set_threadpool(cfg);
	tc_log_open("tocsind", cfg->log.syslog || detach);
	tc_log_set_level(tc_log_level_parse(cfg->log.level));
	if (detach && daemon(0, 0) != 0) {
		perror("tocsind: daemon");
		tc_config_unref(cfg);
		return 1;
	}
	/* Before any thread: gpgme's global set-up (STYLE.md §7). */
	tc_pgp_global_init();
	umask(077);
	/* tc_daemon_run takes the configuration's reference. */
	return tc_daemon_run(path, cfg);
}
