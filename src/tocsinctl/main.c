/* tocsinctl: the analysts' command-line tool.  Parses the global options,
 * finds the command in the table of cmd.c and runs it.  See tocsinctl(1). */
#include <getopt.h>
#include <gpgme.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "tocsin/log.h"

#define DEFAULT_CONFIG "/etc/tocsin/tocsin.yaml"

static void
usage(FILE *fp)
{
	const char *group = "";

	fprintf(fp,
	    "usage: tocsinctl [-c CONFIG] [--json] COMMAND [ARGS...]\n"
	    "       tocsinctl COMMAND --help\n\n"
	    "options:\n"
	    "  -c, --config FILE  configuration (default $TOCSIN_CONFIG or "
	    DEFAULT_CONFIG ")\n"
	    "  -j, --json         machine-readable output, one JSON object "
	    "per line\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      print the version\n\n"
	    "commands:\n");
	for (const struct cmd *c = cmds; c->group; c++) {
		char name[64];

		if (strcmp(group, c->group) != 0)
			group = c->group;
		snprintf(name, sizeof(name), "%s%s%s %s", c->group,
		    c->verb ? " " : "", c->verb ? c->verb : "", c->args);
		fprintf(fp, "  %-34s %s\n", name, c->help);
	}
	fprintf(fp, "\nexit status: 0 ok, 1 refused or failed, 2 usage.\n");
}

static void
cmd_help(const struct cmd *c)
{
	printf("usage: tocsinctl %s%s%s%s%s\n\n%s.\n", c->group,
	    c->verb ? " " : "", c->verb ? c->verb : "", *c->args ? " " : "",
	    c->args, c->help);
	if (c->more)
		printf("\n%s\n", c->more);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx          ctx = { 0 };
	const struct cmd   *found = NULL;
	struct passwd      *pw;
	int                 ch, rc, consumed;

	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);
	tc_log_set_level(TC_LOG_WARNING);
	ctx.config_path = getenv("TOCSIN_CONFIG");
	if (ctx.config_path == NULL || *ctx.config_path == '\0')
		ctx.config_path = DEFAULT_CONFIG;
	/* '+': stop at the first non-option, the command. */
	while ((ch = getopt_long(argc, argv, "+c:jhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			puts("tocsinctl 0.1");
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (const struct cmd *c = cmds; c->group; c++) {
		if (strcmp(c->group, argv[0]) != 0)
			continue;
		if (c->verb == NULL) {
			found = c;
			consumed = 1;
			break;
		}
		if (argc >= 2 && strcmp(c->verb, argv[1]) == 0) {
			found = c;
			consumed = 2;
			break;
		}
	}
	if (found == NULL) {
		ctx_err("unknown command \"%s%s%s\" (tocsinctl --help lists "
			"them)",
		    argv[0], argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "");
		return EXIT_USAGE;
	}
	argc -= consumed;
	argv += consumed;
	/* --help and --json are understood after the command too. */
	{
		int kept = 0;

		for (int i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--help") == 0 ||
			    strcmp(argv[i], "-h") == 0) {
				cmd_help(found);
				return EXIT_OK;
			}
			if (strcmp(argv[i], "--json") == 0)
				ctx.json = true;
			else
				argv[kept++] = argv[i];
		}
		argc = kept;
	}
	pw = getpwuid(getuid());
	ctx.user = pw ? pw->pw_name : "unknown";
	gpgme_check_version(NULL);
	rc = found->run(&ctx, argc, argv);
	if (rc == EXIT_USAGE)
		cmd_usage(found);
	tc_db_close(ctx.db);
	tc_config_unref(ctx.cfg);
	return rc;
}
