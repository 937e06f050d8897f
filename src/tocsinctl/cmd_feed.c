/* tocsinctl feed import: hand a file to tocsind's spool, as a producer
 * would (write a dot-file in incoming/, then rename it), so a hand import
 * goes through exactly the code of every other feed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "tocsin/buf.h"
#include "tocsin/puller.h"

/* Copy `src` to `dst` (created, never replaced), mode 0640. */
static int
copy_file(const char *src, const char *dst)
{
	char    buf[65536];
	int     in, out, rc = 0;
	ssize_t n;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
			     O_NOFOLLOW,
		 0640)) < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0) {
				rc = -errno;
				goto out;
			}
			off += w;
		}
	}
	if (n < 0)
		rc = -errno;
	if (rc == 0 && fsync(out) != 0)
		rc = -errno;
out:
	close(in);
	if (close(out) != 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		unlink(dst);
	return rc;
}

static bool
feed_known(const struct tc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_feeds; i++)
		if (strcmp(cfg->feeds[i].name, name) == 0)
			return true;
	return false;
}

int
cmd_feed_import(struct ctx *ctx, int argc, char **argv)
{
	const char *feed = NULL;
	int         failed = 0, nfiles = 0;
	json_t     *res;
	char      **files = calloc((size_t)argc + 1, sizeof(*files));

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--feed") == 0 && i + 1 < argc)
			feed = argv[++i];
		else if (strncmp(argv[i], "--feed=", 7) == 0)
			feed = argv[i] + 7;
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			free(files);
			return EXIT_USAGE;
		} else
			files[nfiles++] = argv[i];
	}
	argc = nfiles;
	argv = files;
	if (argc < 1) {
		free(files);
		return EXIT_USAGE;
	}
	if (ctx_config(ctx) == NULL) {
		free(files);
		return EXIT_FAIL;
	}
	if (feed != NULL && !feed_known(ctx->cfg, feed)) {
		ctx_err("feed \"%s\" is not declared in %s", feed,
		    ctx->config_path);
		free(files);
		return EXIT_FAIL;
	}
	for (int i = 0; i < argc; i++) {
		struct tc_buf tmp = TC_BUF_INIT, dst = TC_BUF_INIT;
		const char   *base = strrchr(argv[i], '/');
		struct stat   st;
		int           rc;

		base = base ? base + 1 : argv[i];
		if (stat(argv[i], &st) != 0 || !S_ISREG(st.st_mode)) {
			ctx_err("%s: %s", argv[i],
			    errno && !S_ISREG(st.st_mode) ? strerror(errno) :
							    "not a regular file");
			failed++;
			continue;
		}
		if (*base == '.' || *base == '\0') {
			ctx_err("%s: a name starting with '.' is never picked "
				"up; rename it",
			    argv[i]);
			failed++;
			continue;
		}
		if (feed)
			tc_buf_printf(&dst, "%s/incoming/%s--%s",
			    ctx->cfg->paths.spool_dir, feed, base);
		else
			tc_buf_printf(&dst, "%s/incoming/%s",
			    ctx->cfg->paths.spool_dir, base);
		tc_buf_printf(&tmp, "%s/incoming/.import.%ld.%s",
		    ctx->cfg->paths.spool_dir, (long)getpid(), base);
		if (access(dst.data, F_OK) == 0) {
			ctx_err("%s: already waiting in the spool", dst.data);
			failed++;
		} else if ((rc = copy_file(argv[i], tmp.data)) < 0) {
			ctx_err("%s: cannot write %s: %s", argv[i], tmp.data,
			    strerror(-rc));
			failed++;
		} else if (rename(tmp.data, dst.data) != 0) {
			ctx_err("%s: cannot rename into %s: %s", argv[i],
			    dst.data, strerror(errno));
			unlink(tmp.data);
			failed++;
		} else if (ctx->json) {
			json_t *o = json_pack("{s:s, s:s, s:I}", "file", argv[i],
			    "spooled", dst.data, "bytes", (json_int_t)st.st_size);
			char   *s = json_dumps(o, JSON_COMPACT);

			puts(s);
			free(s);
			json_decref(o);
		} else {
			printf("%s: spooled as %s (%lld bytes)\n", argv[i],
			    dst.data, (long long)st.st_size);
		}
		tc_buf_deinit(&tmp);
		tc_buf_deinit(&dst);
	}
	/* Tell the daemon to look now; without it, its rescan finds the
	 * files within seconds, or at its next start. */
	res = ctx_call(ctx, "kick", NULL, 5000);
	if (res == NULL)
		fprintf(stderr, "tocsinctl: the files stay in the spool "
				"until tocsind runs\n");
	json_decref(res);
	free(files);
	return failed ? EXIT_FAIL : EXIT_OK;
}
