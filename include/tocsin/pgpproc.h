/* pgpproc: gpg helper processes.  Signing and encryption run in small
 * processes of their own, each with one struct tc_pgp, and the daemon asks
 * them over a socketpair.
 *
 * Why: gpgme starts every gpg with fork+exec from the calling process, and a
 * fork costs more the more memory that process maps (page tables copied,
 * pages made copy-on-write).  A daemon holding its index and a feed file's
 * plan forks gpg two to three times slower than a small process does
 * (bench/RESULTS.md).  A helper is spawned with posix_spawn (no copy of the
 * caller) from the program named at tc_pgpproc_new(), normally the running
 * binary (/proc/self/exe) with a mode argument, whose main() calls
 * tc_pgpproc_serve().  The helpers also keep the signing operations out of
 * the process that talks to the network and the database.
 *
 * The wire format (host byte order: both ends are one machine, one binary):
 *   request:  u32 magic, u32 op, u32 nfields, u32 body length, then the body:
 *             per field a u32 length and its bytes.  Fields: the homedir
 *             ("" for gpg's default), the signing fingerprint, the entity,
 *             then for TC_PGPPROC_ENCRYPT the recipient fingerprints.
 *   response: u32 magic, i32 result (0 or TC_E*), u32 message length,
 *             u32 output length, the message (struct tc_err text), the
 *             output (what tc_pgp_sign_entity / tc_pgp_encrypt_entity
 *             append).
 *
 * Threads: a struct tc_pgpproc is shared by all threads; each call takes an
 * idle helper (waiting while all are busy), spawns it when it is not
 * running, and gives it back.  A helper that died (killed, crashed) is
 * reaped and the call is tried once more on a fresh one. */
#ifndef TOCSIN_PGPPROC_H
#define TOCSIN_PGPPROC_H

#include <stddef.h>
#include <stdint.h>

#include "tocsin/buf.h"
#include "tocsin/err.h"

#define TC_PGPPROC_MAGIC 0x31474354u /* "TCG1" */
#define TC_PGPPROC_FD 3              /* the helper's end of the socketpair */
#define TC_PGPPROC_HELPERS_MAX 64
/* Requests carry an entity of at most TC_PGP_ENTITY_MAX; armor and MIME
 * make the answer at most about 1.4 times larger. */
#define TC_PGPPROC_FRAME_MAX (3u * 64 * 1024 * 1024)

enum tc_pgpproc_op {
	TC_PGPPROC_SIGN = 1,
	TC_PGPPROC_ENCRYPT = 2,
};

struct tc_pgpproc;

/* `path` and `argv` (NULL-terminated, argv[0] included) name the program
 * that serves as helper; both are copied.  Nothing is spawned until the
 * first call.  n: 1..TC_PGPPROC_HELPERS_MAX helpers at most.  Returns NULL
 * with err set when n is out of range. */
struct tc_pgpproc *tc_pgpproc_new(const char *path, char *const argv[],
    unsigned n, struct tc_err *err);
/* Close every helper's socket (they exit at EOF), wait up to 2 s for them,
 * then kill what is left.  No call may be running.  NULL is a no-op. */
void tc_pgpproc_free(struct tc_pgpproc *pp);

/* The helpers spawned so far (respawns included), for tests and metrics. */
unsigned long tc_pgpproc_spawned(struct tc_pgpproc *pp);

/* Run one operation in a helper, with the helper's struct tc_pgp for
 * (homedir, signer); the result, the error and the appended output are
 * those tc_pgp_sign_entity() / tc_pgp_encrypt_entity() give in process.
 * A helper that cannot be spawned or dies twice: TC_ETEMPFAIL. */
int tc_pgpproc_sign(struct tc_pgpproc *pp, const char *homedir,
    const char *signer, const char *entity, size_t len, struct tc_buf *out,
    struct tc_err *err);
int tc_pgpproc_encrypt(struct tc_pgpproc *pp, const char *homedir,
    const char *signer, const char *const *fprs, size_t n, const char *entity,
    size_t len, struct tc_buf *out, struct tc_err *err);

/* The helper's side: serve requests on `fd` until EOF (0) or a protocol
 * error (1, logged).  Called by the helper program's main() before it does
 * anything else; it sets gpgme up itself. */
int tc_pgpproc_serve(int fd);

/* --- the codec (pure, for the fuzz target) --------------------------------
 */

#define TC_PGPPROC_FIELDS_MAX (3 + 64) /* homedir, signer, entity, keys */

struct tc_pgpproc_field {
	const char *data; /* into the body, not NUL-terminated */
	uint32_t    len;
};

struct tc_pgpproc_req {
	uint32_t                op;
	uint32_t                nfields;
	struct tc_pgpproc_field f[TC_PGPPROC_FIELDS_MAX];
};

/* Check a request header (16 bytes): magic, a known op, nfields within
 * bounds for that op, body length <= TC_PGPPROC_FRAME_MAX.  Sets op,
 * nfields and *body_len.  0 or TC_EINPUT with err naming what is wrong. */
int tc_pgpproc_parse_header(const unsigned char hdr[16],
    struct tc_pgpproc_req *req, uint32_t *body_len, struct tc_err *err);
/* Split a body into req->nfields fields: every length within the body,
 * nothing left over, the homedir and fingerprints free of NUL.  0 or
 * TC_EINPUT. */
int tc_pgpproc_parse_body(const char *body, size_t len,
    struct tc_pgpproc_req *req, struct tc_err *err);

#endif
