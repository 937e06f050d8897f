/* tocsind: the daemon.
 *
 * This build checks its configuration (-n) and refuses to run as root; the
 * event loop that ingests, matches and delivers is not here yet (the
 * library has its parts: spool, puller, control socket, metrics, matching),
 * so starting it without -n says so and exits 1 rather than pretending to
 * work. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tocsin/config.h"
#include "tocsin/db.h"
#include "tocsin/log.h"

#define DEFAULT_CONFIG "/etc/tocsin/tocsin.yaml"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: tocsind [-c CONFIG] [-n [-v]] [-V]\n"
		    "  -c FILE  configuration (default " DEFAULT_CONFIG ")\n"
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
	int               ch, check = 0, verbose = 0;

	if (path == NULL || *path == '\0')
		path = DEFAULT_CONFIG;
	while ((ch = getopt(argc, argv, "c:nvVh")) != -1) {
		switch (ch) {
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
		fprintf(stderr, "tocsind: refusing to run as root: start it as "
				"the service user (see tocsind.service)\n");
		return 1;
	}
	/* Never run against a schema this build does not know. */
	{
		struct tc_db *db;
		int           rc = tc_db_connect(cfg->db.conninfo, "tocsind", &db,
                    &err);

		tc_config_unref(cfg);
		if (rc < 0 || tc_db_check_schema(db, &err) < 0) {
			fprintf(stderr, "tocsind: %s\n", err.msg);
			tc_db_close(rc < 0 ? NULL : db);
			return 1;
		}
		tc_db_close(db);
	}
	fprintf(stderr, "tocsind: the delivery loop is not built yet; only "
			"-n (configuration check) works in this version\n");
	return 1;
}
