/* tocsinctl key import FILE.asc: public keys into the service keyring. */
#include <errno.h>
#include <gpgme.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "tocsin/esc.h"

int
cmd_key_import(struct ctx *ctx, int argc, char **argv)
{
	const char          *file = NULL, *homedir = NULL;
	gpgme_ctx_t          g = NULL;
	gpgme_data_t         data = NULL;
	gpgme_import_result_t ir;
	gpgme_error_t        ge;
	int                  rc = EXIT_FAIL, secret = 0;
	FILE                *fp;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--homedir") == 0 && i + 1 < argc)
			homedir = argv[++i];
		else if (file == NULL)
			file = argv[i];
		else
			return EXIT_USAGE;
	}
	if (file == NULL)
		return EXIT_USAGE;
	if (homedir == NULL) {
		if (ctx_config(ctx) == NULL)
			return EXIT_FAIL;
		homedir = ctx->cfg->gpg.homedir;
	}
	/* Refuse secret keys: the service keyring holds the recipients'
	 * public keys; the CSIRT's secret key is managed apart. */
	fp = fopen(file, "r");
	if (fp == NULL) {
		ctx_err("%s: %s", file, strerror(errno));
		return EXIT_FAIL;
	}
	{
		char line[256];

		while (fgets(line, sizeof(line), fp))
			if (strstr(line, "PRIVATE KEY BLOCK"))
				secret = 1;
	}
	if (secret) {
		fclose(fp);
		ctx_err("%s: holds a secret key; only public keys are "
			"imported",
		    file);
		return EXIT_FAIL;
	}
	rewind(fp);
	if ((ge = gpgme_new(&g)) ||
	    (ge = gpgme_ctx_set_engine_info(g, GPGME_PROTOCOL_OpenPGP, NULL,
		 homedir)) ||
	    (ge = gpgme_data_new_from_stream(&data, fp)) ||
	    (ge = gpgme_op_import(g, data))) {
		ctx_err("%s: %s", file, gpgme_strerror(ge));
		goto out;
	}
	ir = gpgme_op_import_result(g);
	if (ir == NULL || ir->considered == 0) {
		ctx_err("%s: no OpenPGP key found", file);
		goto out;
	}
	if (ir->secret_read > 0) {
		ctx_err("%s: holds a secret key; only public keys are imported",
		    file);
		goto out;
	}
	for (gpgme_import_status_t s = ir->imports; s; s = s->next) {
		gpgme_key_t key = NULL;
		char        exp[32] = "never";

		if (s->result != 0) {
			ctx_err("%s: key %s: %s", file,
			    s->fpr ? s->fpr : "?", gpgme_strerror(s->result));
			continue;
		}
		if (gpgme_get_key(g, s->fpr, &key, 0) != 0 || key == NULL)
			continue;
		if (key->subkeys && key->subkeys->expires > 0) {
			time_t    t = key->subkeys->expires;
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(exp, sizeof(exp), "%Y-%m-%d", &tm);
		}
		if (ctx->json) {
			json_t *o = json_pack("{s:s,s:s?,s:s,s:b}",
			    "fingerprint", s->fpr, "uid",
			    key->uids ? key->uids->uid : NULL, "expires", exp,
			    "revoked", key->revoked);
			char   *j = o ? json_dumps(o, JSON_COMPACT) : NULL;

			puts(j ? j : "{}");
			free(j);
			json_decref(o);
		} else {
			printf("%s", s->fpr);
			for (gpgme_user_id_t u = key->uids; u; u = u->next)
				printf("  %s", tc_esc(u->uid));
			printf("  expires %s%s\n", exp,
			    key->revoked ? "  REVOKED" : "");
		}
		gpgme_key_unref(key);
	}
	{
		char detail[128];

		snprintf(detail, sizeof(detail),
		    "{\"imported\": %d, \"unchanged\": %d}", ir->imported,
		    ir->unchanged);
		/* The audit row needs the database; a keyring change without
		 * it would go unrecorded, so it is required. */
		if (ctx_db(ctx, false) == NULL ||
		    ctx_audit(ctx, "key.import", NULL, detail) < 0)
			goto out;
	}
	rc = EXIT_OK;
out:
	gpgme_data_release(data);
	gpgme_release(g);
	fclose(fp);
	return rc;
}
