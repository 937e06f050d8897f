/* bench/dispatch: delivery throughput and the ceilings it is compared to.
 *
 *   dispatch raw KIND GNUPGHOME TEMPLATES SIGNFPR FPRFILE THREADS COUNT
 *       The PGP ceilings with gpgme alone: COUNT operations split over
 *       THREADS threads (one gpgme context each, keys looked up once before
 *       the clock starts, recipients taken in turn from FPRFILE).  KIND:
 *         sign+enc a detached signature then an encryption of entity and
 *                  signature (two gpg runs: what PGP/MIME, a
 *                  multipart/signed inside multipart/encrypted, costs), on
 *                  a spear warning's inner entity: the ceiling of (a)
 *         signenc  gpgme_op_encrypt_sign, one gpg run, same entity (a
 *                  reference: the signature inside the ciphertext)
 *         enc      gpgme_op_encrypt of a signed advisory entity: the
 *                  ceiling of (b)
 *       The entities are rendered and signed once by the library
 *       (tc_compose_sign) from the real templates, so sizes and
 *       compressibility are those of real mail.
 *   dispatch advisory GNUPGHOME TEMPLATES SIGNFPR RCPTFILE SMTPPORT THREADS
 *       One TLP:AMBER advisory to every recipient of RCPTFILE (lines "addr
 *       lang fpr"): tc_notify_compose() on THREADS threads, each with its own
 *       struct tc_pgp and a slice of the recipients, then tc_smtp_send() in
 *       sessions of 100 on THREADS threads into 127.0.0.1:SMTPPORT.
 *       With CHUNK > 0 each thread composes CHUNK recipients per
 *       tc_notify_compose() call (4 signatures a call), sends them at once
 *       and frees them, so the process stays small while gpg is forked.
 *       With BENCH_PIPELINE=1 (CHUNK 0), each mail is handed to THREADS
 *       sender threads as soon as it is composed (tc_notify.on_composed),
 *       which send sessions of 100 while the rest is composed.
 *       With BENCH_HELPERS=1 in the environment, gpg runs in THREADS gpg
 *       helper processes (pgpproc.h: this program started again with
 *       --gpg-helper), as tocsind runs it by default.
 *   BENCH_BALLAST_MB (raw): memory held while forking gpg.
 *
 * Both print key=value lines on stdout (bench/dispatch.sh reads them);
 * cpu_self_s is this process's CPU time (gpg runs in grandchildren that
 * gpgme reaps, so cpu_gpg_s undercounts it). */
#include <errno.h>
#include <gpgme.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "tocsin/buf.h"
#include "tocsin/compose.h"
#include "tocsin/err.h"
#include "tocsin/mem.h"
#include "tocsin/notify.h"
#include "tocsin/pgp.h"
#include "tocsin/pgpproc.h"
#include "tocsin/smtp.h"
#include "tocsin/template.h"

#define THREADS_MAX 16
#define SESSION 100
#define FROM "cert@csirt.example"
#define FROM_NAME "CSIRT Early Warning"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
peak_rss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

/* CPU seconds of this process (all threads) and of its waited-for
 * children (gpg). */
static double
cpu_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "dispatch: %s: %s\n", what, why);
	exit(1);
}

static unsigned long
number(const char *s, unsigned long lo, unsigned long hi, const char *what)
{
	char         *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		die(what, "not a number in range");
	return v;
}

/* Lines of a file, each split at blanks into up to 3 fields. */
struct line {
	char *f[3];
};

static struct line *
read_lines(const char *path, size_t *n)
{
	FILE        *fp = fopen(path, "r");
	struct line *v = NULL;
	size_t       cap = 0;
	char         buf[512];

	if (fp == NULL)
		die(path, strerror(errno));
	*n = 0;
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		char  *p = buf, *save = NULL, *t;
		size_t k = 0;

		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = tc_xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		while (k < 3 && (t = strtok_r(p, " \t\r\n", &save)) != NULL) {
			v[*n].f[k++] = tc_xstrdup(t);
			p = NULL;
		}
		if (k > 0)
			(*n)++;
	}
	fclose(fp);
	if (*n == 0)
		die(path, "empty");
	return v;
}

static void
free_lines(struct line *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 3; k++)
			free(v[i].f[k]);
	free(v);
}

/* The template contexts: a spear warning with one finding, as tocsind
 * builds it (spear.c), and an advisory. */
static json_t *
spear_ctx(time_t t)
{
	json_t *ctx = tc_compose_context(TC_TLP_AMBER_STRICT,
	    "BENCH-EWS-2026-000001", FROM, FROM_NAME, NULL, t);

	json_object_set_new(ctx, "entity",
	    json_pack("{s:s, s:s}", "name", "Entity 00042 NV",
		"enterprise_number", "0200.000.042"));
	json_object_set_new(ctx, "category", json_string("exposed_service"));
	json_object_set_new(ctx, "severity", json_string("medium"));
	json_object_set_new(ctx, "items",
	    json_pack("[{s:s, s:s, s:I, s:i, s:s, s:s, s:s}]", "indicator",
		"10.0.0.42", "ip", "10.0.0.42", "asn", (json_int_t)64500,
		"port", 3389, "protocol", "tcp", "first_seen",
		"2026-11-23 01:02 UTC", "what", "rdp"));
	json_object_set_new(ctx, "count", json_integer(1));
	json_object_set_new(ctx, "shown", json_integer(1));
	json_object_set_new(ctx, "truncated", json_false());
	return ctx;
}

static json_t *
advisory_ctx(time_t t)
{
	json_t *ctx = tc_compose_context(TC_TLP_AMBER, "BENCH-ADV-2026-000001",
	    FROM, FROM_NAME, NULL, t);

	json_object_set_new(ctx, "advisory",
	    json_pack("{s:s, s:s, s:s, s:s, s:[s,s], s:[{s:s, s:s}], s:[s],"
		      " s:[s,s]}",
		"title", "Critical vulnerability in a widely used VPN gateway",
		"summary",
		"Unauthenticated remote code execution, exploited in the wild.",
		"body",
		"A flaw in the web interface of the gateway lets an "
		"unauthenticated attacker run code as root. Exploitation has "
		"been observed against organisations in the country since "
		"yesterday. Apply the vendor's fixed release now; if you "
		"cannot, disable the web interface on external interfaces and "
		"look for the indicators listed in the vendor's bulletin.\n\n"
		"Report any compromise to the CSIRT.",
		"severity", "critical", "cves", "CVE-2026-0001",
		"CVE-2026-0002", "products", "cpe",
		"cpe:2.3:o:vendor:gateway:*:*:*:*:*:*:*:*", "versions",
		"< 10.2.9", "references",
		"https://vendor.example/advisory/2026-0001", "sectors",
		"energy", "health"));
	return ctx;
}

/* BENCH_HELPERS=1: the gpg helpers of (b), made before any thread. */
static struct tc_pgpproc *helpers;

static void
start_helpers(size_t n)
{
	char          exe[4096];
	ssize_t       len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct tc_err err;

	if (len <= 0)
		die("readlink /proc/self/exe", strerror(errno));
	exe[len] = '\0';
	{
		char *const argv[] = { exe, (char *)(uintptr_t) "--gpg-helper",
			NULL };

		if ((helpers = tc_pgpproc_new(exe, argv, (unsigned)n, &err)) ==
		    NULL)
			die("tc_pgpproc_new", err.msg);
	}
}

static struct tc_pgp *
open_pgp(const char *home, const char *fpr)
{
	struct tc_pgp *p = NULL;
	struct tc_err  err;

	if (tc_pgp_new(home, fpr, &p, &err) < 0)
		die("tc_pgp_new", err.msg);
	if (helpers != NULL)
		tc_pgp_use_helpers(p, helpers);
	return p;
}

static void
signed_entity(const char *home, const char *tpldir, const char *fpr,
    int advisory, struct tc_buf *out)
{
	struct tc_templates      *tpl;
	struct tc_pgp            *p = open_pgp(home, fpr);
	struct tc_compose_content c;
	struct tc_compose_signed  s;
	struct tc_err             err;
	time_t                    t = time(NULL);
	json_t *ctx = advisory ? advisory_ctx(t) : spear_ctx(t);

	if ((tpl = tc_templates_load(tpldir, &err)) == NULL)
		die(tpldir, err.msg);
	memset(&c, 0, sizeof(c));
	c.template_name = advisory ? "advisory" : "spear-exposed_service";
	c.lang = "en";
	c.ctx = ctx;
	c.tlp = advisory ? TC_TLP_AMBER : TC_TLP_AMBER_STRICT;
	c.reference =
	    advisory ? "BENCH-ADV-2026-000001" : "BENCH-EWS-2026-000001";
	c.from_addr = FROM;
	c.from_name = FROM_NAME;
	if (tc_compose_sign(p, tpl, &c, &s, &err) < 0)
		die("tc_compose_sign", err.msg);
	tc_buf_append(out, s.entity.data, s.entity.len);
	tc_compose_signed_deinit(&s);
	json_decref(ctx);
	tc_templates_unref(tpl);
	tc_pgp_free(p);
}

/* ---- raw gpgme ceilings ---- */

enum raw_kind { RAW_SIGNENC, RAW_SIGN_THEN_ENC, RAW_ENC };

struct raw_job {
	pthread_t          th;
	enum raw_kind      kind;
	const char        *home, *signfpr;
	const struct line *fprs;
	size_t             n_fprs, first, count;
	const char        *msg;
	size_t             len;
	gpgme_ctx_t        ctx;
	gpgme_key_t       *keys;
	size_t             out_bytes;
	int                failed;
};

static void
gcheck(gpgme_error_t e, const char *what)
{
	if (e != 0)
		die(what, gpgme_strerror(e));
}

static void
raw_setup(struct raw_job *j)
{
	gpgme_key_t k;

	gcheck(gpgme_new(&j->ctx), "gpgme_new");
	gcheck(gpgme_ctx_set_engine_info(j->ctx, GPGME_PROTOCOL_OpenPGP, NULL,
		   j->home),
	    "engine");
	gpgme_set_armor(j->ctx, 1);
	gpgme_set_offline(j->ctx, 1);
	j->keys = tc_xcalloc(j->n_fprs, sizeof(*j->keys));
	for (size_t i = 0; i < j->n_fprs; i++)
		gcheck(gpgme_get_key(j->ctx, j->fprs[i].f[0], &j->keys[i], 0),
		    j->fprs[i].f[0]);
	if (j->kind != RAW_ENC) {
		gcheck(gpgme_get_key(j->ctx, j->signfpr, &k, 1), j->signfpr);
		gcheck(gpgme_signers_add(j->ctx, k), "signers_add");
		gpgme_key_unref(k);
	}
}

static size_t
take(gpgme_data_t d)
{
	size_t n = 0;
	char  *m = gpgme_data_release_and_get_mem(d, &n);

	gpgme_free(m);
	return n;
}

static void *
raw_run(void *arg)
{
	struct raw_job *j = arg;

	for (size_t i = 0; i < j->count && !j->failed; i++) {
		gpgme_key_t   rk[2] = { j->keys[(j->first + i) % j->n_fprs],
			  NULL };
		gpgme_data_t  in, out, sig;
		gpgme_error_t e;

		gcheck(gpgme_data_new_from_mem(&in, j->msg, j->len, 0), "data");
		gcheck(gpgme_data_new(&out), "data");
		if (j->kind == RAW_SIGNENC) {
			e = gpgme_op_encrypt_sign(j->ctx, rk,
			    GPGME_ENCRYPT_ALWAYS_TRUST, in, out);
		} else if (j->kind == RAW_ENC) {
			e = gpgme_op_encrypt(j->ctx, rk,
			    GPGME_ENCRYPT_ALWAYS_TRUST, in, out);
		} else {
			gpgme_data_t  both;
			char         *s;
			size_t        sl;
			struct tc_buf b = TC_BUF_INIT;

			gcheck(gpgme_data_new(&sig), "data");
			e = gpgme_op_sign(j->ctx, in, sig,
			    GPGME_SIG_MODE_DETACH);
			if (e == 0) {
				s = gpgme_data_release_and_get_mem(sig, &sl);
				tc_buf_append(&b, j->msg, j->len);
				tc_buf_append(&b, s, sl);
				gpgme_free(s);
				gcheck(gpgme_data_new_from_mem(&both, b.data,
					   b.len, 0),
				    "data");
				e = gpgme_op_encrypt(j->ctx, rk,
				    GPGME_ENCRYPT_ALWAYS_TRUST, both, out);
				gpgme_data_release(both);
			} else {
				gpgme_data_release(sig);
			}
			tc_buf_deinit(&b);
		}
		gpgme_data_release(in);
		j->out_bytes += take(out);
		if (e != 0) {
			fprintf(stderr, "dispatch: raw op: %s\n",
			    gpgme_strerror(e));
			j->failed = 1;
		}
	}
	return NULL;
}

static int
cmd_raw(char **av)
{
	struct raw_job jobs[THREADS_MAX];
	struct tc_buf  msg = TC_BUF_INIT;
	struct line   *fprs;
	size_t         n_fprs, threads, count, out = 0;
	enum raw_kind  kind;
	double         t0, t1;
	int            failed = 0;
	struct tc_buf  ballast = TC_BUF_INIT;
	char         **ballast_v = NULL;
	size_t         n_ballast = 0;

	if (strcmp(av[0], "signenc") == 0)
		kind = RAW_SIGNENC;
	else if (strcmp(av[0], "sign+enc") == 0)
		kind = RAW_SIGN_THEN_ENC;
	else if (strcmp(av[0], "enc") == 0)
		kind = RAW_ENC;
	else
		die(av[0], "unknown kind (signenc, sign+enc, enc)");
	threads = number(av[5], 1, THREADS_MAX, "THREADS");
	count = number(av[6], 1, 10000000, "COUNT");
	fprs = read_lines(av[4], &n_fprs);
	/* BENCH_BALLAST_MB: memory held (and touched) while gpg is forked,
	 * as tocsind holds the composed mail of a whole feed file. */
	if (getenv("BENCH_BALLAST_MB") != NULL) {
		size_t mb = number(getenv("BENCH_BALLAST_MB"), 0, 4096,
		    "BENCH_BALLAST_MB");

		for (size_t i = 0; i < mb * 16; i++) {
			char *b = tc_xmalloc(65536);

			memset(b, (int)i, 65536);
			tc_buf_append(&ballast, b, 0);
			ballast_v = tc_xrealloc(ballast_v,
			    (i + 1) * sizeof(*ballast_v));
			ballast_v[i] = b;
			n_ballast = i + 1;
		}
	}
	signed_entity(av[1], av[2], av[3], kind == RAW_ENC, &msg);
	for (size_t t = 0; t < threads; t++) {
		struct raw_job *j = &jobs[t];

		memset(j, 0, sizeof(*j));
		j->kind = kind;
		j->home = av[1];
		j->signfpr = av[3];
		j->fprs = fprs;
		j->n_fprs = n_fprs;
		j->first = count * t / threads;
		j->count = count * (t + 1) / threads - j->first;
		j->msg = msg.data;
		j->len = msg.len;
		raw_setup(j);
	}
	t0 = now_s();
	for (size_t t = 0; t < threads; t++)
		if (pthread_create(&jobs[t].th, NULL, raw_run, &jobs[t]) != 0)
			die("pthread_create", "failed");
	for (size_t t = 0; t < threads; t++) {
		pthread_join(jobs[t].th, NULL);
		failed |= jobs[t].failed;
		out += jobs[t].out_bytes;
	}
	t1 = now_s();
	for (size_t t = 0; t < threads; t++) {
		for (size_t i = 0; i < n_fprs; i++)
			gpgme_key_unref(jobs[t].keys[i]);
		free(jobs[t].keys);
		gpgme_release(jobs[t].ctx);
	}
	printf("kind=%s threads=%zu ops=%zu seconds=%.3f ops_per_s=%.1f "
	       "in_bytes=%zu out_bytes=%zu peak_rss_mb=%.1f cpu_self_s=%.2f "
	       "cpu_gpg_s=%.2f\n",
	    av[0], threads, count, t1 - t0, (double)count / (t1 - t0), msg.len,
	    out / count, peak_rss_mb(), cpu_s(RUSAGE_SELF),
	    cpu_s(RUSAGE_CHILDREN));
	tc_buf_deinit(&msg);
	free_lines(fprs, n_fprs);
	for (size_t i = 0; i < n_ballast; i++)
		free(ballast_v[i]);
	free(ballast_v);
	tc_buf_deinit(&ballast);
	return failed ? 1 : 0;
}

/* ---- (b) one advisory to many subscribers ---- */

struct adv_job {
	pthread_t                  th;
	struct tc_notify           n;
	const char                *home, *signfpr;
	const struct tc_templates *tpl;
	time_t                     t;
	/* Streaming (CHUNK > 0): compose CHUNK recipients per call, send
	 * them at once from this thread and free them. */
	size_t                       chunk;
	const struct tc_smtp_params *sp;
	size_t                       sent, held, wire, failed_sessions;
};

static void
adv_send_chunk(struct adv_job *j, struct tc_notify_rcpt *r, size_t n)
{
	struct tc_smtp_msg *msgs = tc_xcalloc(n, sizeof(*msgs));
	size_t              nm = 0;

	for (size_t i = 0; i < n; i++) {
		if (r[i].held_reason != NULL || !r[i].encrypted) {
			j->held++;
			continue;
		}
		msgs[nm].from = FROM;
		msgs[nm].rcpt = r[i].addr;
		msgs[nm].data = r[i].wire.data;
		msgs[nm].len = r[i].wire.len;
		j->wire += r[i].wire.len;
		nm++;
	}
	for (size_t i = 0; i < nm; i += SESSION) {
		size_t        k = nm - i < SESSION ? nm - i : SESSION;
		struct tc_err err;

		if (tc_smtp_send(j->sp, msgs + i, k, &err) < 0)
			j->failed_sessions++;
		for (size_t m = 0; m < k; m++)
			j->sent += msgs[i + m].result == TC_SMTP_SENT;
	}
	for (size_t i = 0; i < n; i++)
		tc_notify_rcpt_deinit(&r[i]);
	free(msgs);
}

static void *
adv_compose(void *arg)
{
	struct adv_job *j = arg;
	struct tc_pgp  *p = open_pgp(j->home, j->signfpr);

	if (j->chunk == 0) {
		tc_notify_compose(&j->n, p, NULL, j->tpl, j->t);
	} else {
		struct tc_notify c = j->n;

		for (size_t i = 0; i < j->n.n_rcpt; i += j->chunk) {
			c.rcpt = j->n.rcpt + i;
			c.n_rcpt = j->n.n_rcpt - i < j->chunk ? j->n.n_rcpt - i
							      : j->chunk;
			tc_notify_compose(&c, p, NULL, j->tpl, j->t);
			adv_send_chunk(j, c.rcpt, c.n_rcpt);
		}
	}
	tc_pgp_free(p);
	return NULL;
}

struct send_job {
	pthread_t              th;
	struct tc_smtp_params *sp;
	struct tc_smtp_msg    *msgs;
	size_t                 n;
	size_t                 sent, sessions_failed;
};

static void *
adv_send(void *arg)
{
	struct send_job *j = arg;

	for (size_t i = 0; i < j->n; i += SESSION) {
		size_t        k = j->n - i < SESSION ? j->n - i : SESSION;
		struct tc_err err;
		int           rc = tc_smtp_send(j->sp, j->msgs + i, k, &err);

		if (rc < 0) {
			fprintf(stderr, "dispatch: session: %s\n", err.msg);
			j->sessions_failed++;
		}
		for (size_t m = 0; m < k; m++)
			j->sent += j->msgs[i + m].result == TC_SMTP_SENT;
	}
	return NULL;
}

/* BENCH_PIPELINE=1: each mail goes to the senders as soon as it is
 * composed (tc_notify.on_composed), sessions of SESSION. */
struct pipe {
	pthread_mutex_t         mu;
	pthread_cond_t          more;
	struct tc_notify_rcpt **q;
	size_t                  head, tail, held;
	int                     done;
	struct tc_smtp_params  *sp;
};

static void
pipe_push(struct tc_notify_rcpt *r, void *arg)
{
	struct pipe *p = arg;

	pthread_mutex_lock(&p->mu);
	if (r->held_reason != NULL || !r->encrypted)
		p->held++;
	else
		p->q[p->tail++] = r;
	if (p->tail - p->head >= SESSION)
		pthread_cond_signal(&p->more);
	pthread_mutex_unlock(&p->mu);
}

struct pipe_sender {
	pthread_t    th;
	struct pipe *p;
	size_t       sent, sessions_failed;
};

static void *
pipe_send(void *arg)
{
	struct pipe_sender *ps = arg;
	struct pipe        *p = ps->p;
	struct tc_smtp_msg  msgs[SESSION];

	for (;;) {
		size_t k, from;

		pthread_mutex_lock(&p->mu);
		while (p->tail - p->head < SESSION && !p->done)
			pthread_cond_wait(&p->more, &p->mu);
		k = p->tail - p->head < SESSION ? p->tail - p->head : SESSION;
		from = p->head;
		p->head += k;
		pthread_mutex_unlock(&p->mu);
		if (k == 0)
			return NULL; /* done and drained */
		memset(msgs, 0, sizeof(msgs));
		for (size_t i = 0; i < k; i++) {
			msgs[i].from = FROM;
			msgs[i].rcpt = p->q[from + i]->addr;
			msgs[i].data = p->q[from + i]->wire.data;
			msgs[i].len = p->q[from + i]->wire.len;
		}
		{
			struct tc_err err;

			if (tc_smtp_send(p->sp, msgs, k, &err) < 0) {
				fprintf(stderr, "dispatch: session: %s\n",
				    err.msg);
				ps->sessions_failed++;
			}
		}
		for (size_t i = 0; i < k; i++)
			ps->sent += msgs[i].result == TC_SMTP_SENT;
	}
}

static int
cmd_advisory(char **av)
{
	struct adv_job         jobs[THREADS_MAX];
	struct send_job        sj[THREADS_MAX];
	struct tc_notify_rcpt *r;
	struct tc_smtp_msg    *msgs;
	struct tc_smtp_params  sp;
	struct tc_templates   *tpl;
	struct tc_err          err;
	struct line           *rl;
	size_t                 n, threads, held = 0, sent = 0, nm = 0;
	size_t                 wire = 0, failed_sessions = 0;
	double                 t0, t1, t2;
	time_t                 t = time(NULL);
	json_t                *ctx = advisory_ctx(t);
	unsigned long          port;
	size_t                 chunk;
	struct pipe            pp;
	struct pipe_sender     ps[THREADS_MAX];
	int                    pipeline = getenv("BENCH_PIPELINE") != NULL &&
	    strcmp(getenv("BENCH_PIPELINE"), "1") == 0;

	rl = read_lines(av[3], &n);
	port = number(av[4], 1, 65535, "SMTPPORT");
	threads = number(av[5], 1, THREADS_MAX, "THREADS");
	chunk = av[6] ? number(av[6], 0, 1000000, "CHUNK") : 0;
	if ((tpl = tc_templates_load(av[1], &err)) == NULL)
		die(av[1], err.msg);
	if (getenv("BENCH_HELPERS") != NULL &&
	    strcmp(getenv("BENCH_HELPERS"), "1") == 0)
		start_helpers(threads);
	r = tc_xcalloc(n, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		if (rl[i].f[2] == NULL)
			die(av[3], "a line is not \"addr lang fpr\"");
		r[i].addr = rl[i].f[0];
		r[i].lang = rl[i].f[1];
		r[i].fpr = rl[i].f[2];
		r[i].priority = 1;
	}

	memset(&sp, 0, sizeof(sp));
	sp.host = "127.0.0.1";
	sp.port = (unsigned)port;
	sp.starttls = TC_STARTTLS_OFF;
	sp.helo = "bench.csirt.example";
	sp.timeout_s = 30;
	if (pipeline && chunk != 0)
		die("BENCH_PIPELINE", "is for CHUNK 0 only");
	memset(&pp, 0, sizeof(pp));
	pthread_mutex_init(&pp.mu, NULL);
	pthread_cond_init(&pp.more, NULL);
	pp.q = tc_xcalloc(n ? n : 1, sizeof(*pp.q));
	pp.sp = &sp;
	t0 = now_s();
	for (size_t k = 0; pipeline && k < threads; k++) {
		memset(&ps[k], 0, sizeof(ps[k]));
		ps[k].p = &pp;
		if (pthread_create(&ps[k].th, NULL, pipe_send, &ps[k]) != 0)
			die("pthread_create", "failed");
	}
	for (size_t k = 0; k < threads; k++) {
		struct adv_job *j = &jobs[k];
		size_t          a = n * k / threads, b = n * (k + 1) / threads;

		memset(j, 0, sizeof(*j));
		j->home = av[0];
		j->signfpr = av[2];
		j->tpl = tpl;
		j->t = t;
		j->n.kind = "advisory";
		j->n.template_name = "advisory";
		j->n.tlp = TC_TLP_AMBER;
		j->n.reference = "BENCH-ADV-2026-000001";
		j->n.ctx = ctx;
		j->n.from_addr = FROM;
		j->n.from_name = FROM_NAME;
		j->n.rcpt = r + a;
		j->n.n_rcpt = b - a;
		j->chunk = chunk;
		j->sp = &sp;
		if (pipeline) {
			j->n.on_composed = pipe_push;
			j->n.on_composed_arg = &pp;
		}
		if (pthread_create(&j->th, NULL, adv_compose, j) != 0)
			die("pthread_create", "failed");
	}
	for (size_t k = 0; k < threads; k++) {
		pthread_join(jobs[k].th, NULL);
		sent += jobs[k].sent;
		held += jobs[k].held;
		wire += jobs[k].wire;
		failed_sessions += jobs[k].failed_sessions;
		nm += jobs[k].sent;
	}
	t1 = now_s();
	if (pipeline) {
		pthread_mutex_lock(&pp.mu);
		pp.done = 1;
		pthread_cond_broadcast(&pp.more);
		pthread_mutex_unlock(&pp.mu);
		for (size_t k = 0; k < threads; k++) {
			pthread_join(ps[k].th, NULL);
			sent += ps[k].sent;
			failed_sessions += ps[k].sessions_failed;
		}
		held = pp.held;
		for (size_t i = 0; i < pp.tail; i++)
			wire += pp.q[i]->wire.len;
		nm = pp.tail;
	}

	msgs = tc_xcalloc(n, sizeof(*msgs));
	for (size_t i = 0; i < n && chunk == 0 && !pipeline; i++) {
		if (r[i].held_reason != NULL) {
			if (held++ == 0)
				fprintf(stderr, "dispatch: held %s: %s\n",
				    r[i].addr, r[i].held_reason);
			continue;
		}
		if (!r[i].encrypted)
			die(r[i].addr, "TLP:AMBER mail was not encrypted");
		msgs[nm].from = FROM;
		msgs[nm].rcpt = r[i].addr;
		msgs[nm].data = r[i].wire.data;
		msgs[nm].len = r[i].wire.len;
		wire += r[i].wire.len;
		nm++;
	}
	for (size_t k = 0; k < threads && chunk == 0 && !pipeline; k++) {
		size_t a = nm * k / threads, b = nm * (k + 1) / threads;

		memset(&sj[k], 0, sizeof(sj[k]));
		sj[k].sp = &sp;
		sj[k].msgs = msgs + a;
		sj[k].n = b - a;
		if (pthread_create(&sj[k].th, NULL, adv_send, &sj[k]) != 0)
			die("pthread_create", "failed");
	}
	for (size_t k = 0; k < threads && chunk == 0 && !pipeline; k++) {
		pthread_join(sj[k].th, NULL);
		sent += sj[k].sent;
		failed_sessions += sj[k].sessions_failed;
	}
	t2 = now_s();

	printf("pipeline=%d helpers=%d chunk=%zu recipients=%zu threads=%zu "
	       "held=%zu "
	       "sent=%zu "
	       "failed_sessions=%zu compose_s=%.3f send_s=%.3f total_s=%.3f "
	       "compose_per_s=%.1f send_per_s=%.1f msgs_per_s=%.1f "
	       "wire_bytes=%zu peak_rss_mb=%.1f cpu_self_s=%.2f "
	       "cpu_gpg_s=%.2f\n",
	    pipeline, helpers != NULL, chunk, n, threads, held, sent,
	    failed_sessions, t1 - t0, t2 - t1, t2 - t0, (double)n / (t1 - t0),
	    chunk ? 0.0 : (double)nm / (t2 - t1), (double)sent / (t2 - t0),
	    nm ? wire / nm : 0, peak_rss_mb(), cpu_s(RUSAGE_SELF),
	    cpu_s(RUSAGE_CHILDREN));
	for (size_t i = 0; i < n; i++)
		tc_notify_rcpt_deinit(&r[i]);
	free(r);
	free(msgs);
	free(pp.q);
	pthread_cond_destroy(&pp.more);
	pthread_mutex_destroy(&pp.mu);
	json_decref(ctx);
	tc_templates_unref(tpl);
	free_lines(rl, n);
	tc_pgpproc_free(helpers);
	return held == 0 && sent == n && failed_sessions == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--gpg-helper") == 0)
		return tc_pgpproc_serve(TC_PGPPROC_FD);
	signal(SIGPIPE, SIG_IGN);
	tc_pgp_global_init();
	if (argc == 9 && strcmp(argv[1], "raw") == 0)
		return cmd_raw(argv + 2);
	if ((argc == 8 || argc == 9) && strcmp(argv[1], "advisory") == 0)
		return cmd_advisory(argv + 2);
	fprintf(stderr,
	    "usage: dispatch raw signenc|sign+enc|enc GNUPGHOME TEMPLATES "
	    "SIGNFPR FPRFILE THREADS COUNT\n"
	    "       dispatch advisory GNUPGHOME TEMPLATES SIGNFPR RCPTFILE "
	    "SMTPPORT THREADS [CHUNK]\n");
	return 2;
}
