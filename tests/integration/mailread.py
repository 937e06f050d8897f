#!/usr/bin/env python3
"""Read one received mail as its recipient would and print it as JSON.

    mailread.py --gnupghome DIR [--expect-signer FPR] FILE

FILE is one message as Postfix smtp-sink -d writes it (its pseudo headers,
X-Client-Addr: and friends, are read as ordinary headers).  PGP/MIME (RFC
3156) is undone with the gpg CLI in DIR: multipart/encrypted is decrypted
and the plaintext read again; multipart/signed is verified over the exact
bytes of its first part, sliced from the wire between the boundary lines
(never re-serialised).  Prints one JSON object:

  outer, encrypted, decrypted_for, encrypted_to, signed, signature_valid,
  signer, protected, text, html, attachments, errors

Exit 0 when the message was parsed (a bad signature or a failed decryption
is reported in the JSON, with errors), 1 when the input cannot be read.
Standard library only, plus gpg.
"""

import argparse
import base64
import binascii
import email.errors
import email.header
import email.parser
import email.policy
import json
import os
import re
import subprocess
import sys
import tempfile

MAX_INPUT = 64 * 1024 * 1024  # bytes of one message
MAX_DEPTH = 16  # nested multiparts and decryptions
MAX_PARTS = 1000  # parts of one multipart
GPG_TIMEOUT = 60  # seconds per gpg run
UNIQUE = ("subject", "from", "to", "date", "message-id", "content-type")


class Reader:
    def __init__(self, gnupghome, expect_signer):
        self.home = gnupghome
        self.expect = expect_signer.upper() if expect_signer else None
        self.r = {
            "outer": {},
            "encrypted": False,
            "decrypted_for": [],
            "encrypted_to": [],
            "signed": False,
            "signature_valid": False,
            "signer": None,
            "protected": {},
            "text": None,
            "html": None,
            "attachments": [],
            "errors": [],
        }
        self.parts = 0
        self.gpg_said = ""

    def error(self, msg):
        self.r["errors"].append(msg)

    # -- bytes ------------------------------------------------------------

    @staticmethod
    def split(raw):
        """(header bytes, body bytes) of a CRLF entity."""
        if raw.startswith(b"\r\n"):
            return b"", raw[2:]
        i = raw.find(b"\r\n\r\n")
        if i < 0:
            return raw, b""
        return raw[: i + 2], raw[i + 4 :]

    @staticmethod
    def headers(hbytes):
        return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
            hbytes
        )

    def decoded(self, msg):
        """{name: decoded value}; repeated names are joined with a newline."""
        out = {}
        for name, value in msg.items():
            text = self.decode_value(value, name)
            if name in out:
                if name.lower() in UNIQUE:
                    self.error("header %s appears more than once" % name)
                out[name] += "\n" + text
            else:
                out[name] = text
        return out

    @staticmethod
    def decode_value(value, name="X-Value"):
        """RFC 2047 decoding; odd input falls back to the raw value."""
        if not isinstance(value, str):
            value = str(value)
        value = value.replace("\r\n", "").replace("\n", "")
        try:
            return str(email.policy.default.header_fetch_parse(name, value))
        except Exception:  # the header parser raises many kinds on junk
            pass
        try:
            return str(email.header.make_header(email.header.decode_header(value)))
        except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
            return value

    def split_multipart(self, body, boundary):
        """Raw bytes of each part between the delimiter lines (RFC 2046 §5.1.1:
        the CRLF before a delimiter belongs to the delimiter)."""
        delim = re.compile(
            rb"(?:\A|\r\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?=\r\n|\Z)"
        )
        parts, start, closed = [], None, False
        for m in delim.finditer(body):
            if start is not None:
                parts.append(body[start : m.start()])
                if len(parts) > MAX_PARTS:
                    self.error("more than %d parts" % MAX_PARTS)
                    return parts
            if m.group(1):
                closed = True
                break
            start = m.end() + 2  # skip the CRLF ending the delimiter line
        if start is None:
            self.error("multipart without a delimiter line for its boundary")
        elif not closed:
            self.error("multipart without its closing delimiter")
            last = body[start:]
            parts.append(last[:-2] if last.endswith(b"\r\n") else last)
        return parts

    # -- structure --------------------------------------------------------

    def walk(self, raw, depth, root=False):
        if depth > MAX_DEPTH:
            self.error("nested more than %d levels deep" % MAX_DEPTH)
            return
        self.parts += 1
        if self.parts > MAX_PARTS * 4:
            if self.parts == MAX_PARTS * 4 + 1:
                self.error("too many parts")
            return
        hbytes, body = self.split(raw)
        msg = self.headers(hbytes)
        if root:
            self.r["outer"] = self.decoded(msg)
        ctype = msg.get_content_type()
        if ctype == "multipart/encrypted":
            self.encrypted(msg, body, depth)
        elif ctype == "multipart/signed":
            self.signed(msg, body, depth)
        elif msg.get_content_maintype() == "multipart":
            boundary = msg.get_param("boundary")
            if not boundary:
                self.error("%s without a boundary" % ctype)
                return
            for part in self.split_multipart(body, boundary.encode("utf-8", "surrogateescape")):
                self.walk(part, depth + 1)
        else:
            self.leaf(raw, msg)

    def leaf(self, raw, msg):
        full = email.message_from_bytes(raw, policy=email.policy.compat32)
        ctype = full.get_content_type()
        disp = (full.get("Content-Disposition") or "").split(";")[0].strip().lower()
        try:
            payload = full.get_payload(decode=True) or b""
        except (ValueError, binascii.Error) as e:
            self.error("%s: cannot decode: %s" % (ctype, e))
            payload = b""
        charset = full.get_content_charset() or "utf-8"
        if ctype in ("text/plain", "text/html") and disp != "attachment":
            key = "text" if ctype == "text/plain" else "html"
            if self.r[key] is None:
                self.r[key] = self.to_text(payload, charset)
                return
        filename = full.get_filename()
        att = {
            "filename": self.decode_value(filename) if filename else None,
            "content_type": ctype,
        }
        if full.get_content_maintype() == "text":
            att["content"] = self.to_text(payload, charset)
            att["encoding"] = "text"
        else:
            att["content"] = base64.b64encode(payload).decode("ascii")
            att["encoding"] = "base64"
        self.r["attachments"].append(att)

    def to_text(self, payload, charset):
        try:
            text = payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            self.error("text not valid in charset %s" % charset)
            text = payload.decode("utf-8", "replace")
        return text.replace("\r\n", "\n")

    # -- PGP/MIME ---------------------------------------------------------

    def gpg(self, args, stdin=None):
        cmd = [
            "gpg", "--homedir", self.home, "--batch", "--no-tty",
            "--pinentry-mode", "loopback", "--no-auto-key-retrieve",
            "--status-fd", "2",
        ] + args
        try:
            p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=GPG_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.error("gpg: %s" % e)
            self.gpg_said = ""
            return None, [], b""
        status, other = [], []
        for line in p.stderr.decode("utf-8", "replace").splitlines():
            if line.startswith("[GNUPG:] "):
                status.append(line[9:].split(" "))
            else:
                other.append(line)
        self.gpg_said = other[-1] if other else ""
        return p.returncode, status, p.stdout

    def signature_status(self, rc, status, micalg=None):
        """Fill signed/signature_valid/signer from gpg's status lines."""
        self.r["signed"] = True
        good = any(s[0] == "GOODSIG" for s in status)
        bad = [s[0] for s in status if s[0] in (
            "BADSIG", "ERRSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG")]
        valid = [s for s in status if s[0] == "VALIDSIG"]
        signer = None
        if valid:
            v = valid[0]
            signer = (v[10] if len(v) > 10 else v[1]).upper()
            self.r["signer"] = signer
            if micalg and len(v) > 8:
                names = {"1": "pgp-md5", "2": "pgp-sha1", "3": "pgp-ripemd160",
                         "8": "pgp-sha256", "9": "pgp-sha384",
                         "10": "pgp-sha512", "11": "pgp-sha224"}
                used = names.get(v[8])
                if used != micalg.lower():
                    self.error("micalg %s does not name the hash used (%s)"
                               % (micalg, used or v[8]))
        ok = rc == 0 and good and bool(valid) and not bad
        if not ok:
            self.error("signature not valid: %s" % (
                ", ".join(bad) or ("gpg exit %s" % rc)))
        if ok and self.expect and signer != self.expect:
            self.error("signed by %s, expected %s" % (signer, self.expect))
            ok = False
        self.r["signature_valid"] = ok

    def signed(self, msg, body, depth):
        protocol = (msg.get_param("protocol") or "").lower()
        boundary = msg.get_param("boundary")
        if protocol != "application/pgp-signature" or not boundary:
            self.error("multipart/signed with protocol %r%s" % (
                protocol, "" if boundary else " and no boundary"))
            self.r["signed"] = True
            return
        parts = self.split_multipart(body, boundary.encode("utf-8", "surrogateescape"))
        if len(parts) != 2:
            self.error("multipart/signed with %d parts, not 2" % len(parts))
            self.r["signed"] = True
            if parts:
                self.protected(parts[0])
                self.walk(parts[0], depth + 1)
            return
        signed_bytes, sigpart = parts
        sigmsg = email.message_from_bytes(sigpart, policy=email.policy.compat32)
        if sigmsg.get_content_type() != "application/pgp-signature":
            self.error("second part is %s, not application/pgp-signature"
                       % sigmsg.get_content_type())
        sig = sigmsg.get_payload(decode=True) or b""
        with tempfile.TemporaryDirectory(prefix="mailread.") as d:
            dpath, spath = os.path.join(d, "part1"), os.path.join(d, "sig.asc")
            with open(dpath, "wb") as f:
                f.write(signed_bytes)
            with open(spath, "wb") as f:
                f.write(sig)
            rc, status, _ = self.gpg(["--verify", spath, dpath])
        self.signature_status(rc, status, msg.get_param("micalg"))
        self.protected(signed_bytes)
        self.walk(signed_bytes, depth + 1)

    def protected(self, raw):
        if not self.r["protected"]:
            hbytes, _ = self.split(raw)
            self.r["protected"] = self.decoded(self.headers(hbytes))

    def encrypted(self, msg, body, depth):
        self.r["encrypted"] = True
        protocol = (msg.get_param("protocol") or "").lower()
        boundary = msg.get_param("boundary")
        if protocol != "application/pgp-encrypted" or not boundary:
            self.error("multipart/encrypted with protocol %r%s" % (
                protocol, "" if boundary else " and no boundary"))
            return
        parts = self.split_multipart(body, boundary.encode("utf-8", "surrogateescape"))
        if len(parts) != 2:
            self.error("multipart/encrypted with %d parts, not 2" % len(parts))
            return
        ctl = email.message_from_bytes(parts[0], policy=email.policy.compat32)
        if ctl.get_content_type() != "application/pgp-encrypted":
            self.error("first part is %s, not application/pgp-encrypted"
                       % ctl.get_content_type())
        elif b"Version: 1" not in (ctl.get_payload(decode=True) or b""):
            self.error("control part does not say Version: 1")
        data = email.message_from_bytes(parts[1], policy=email.policy.compat32)
        if data.get_content_type() != "application/octet-stream":
            self.error("second part is %s, not application/octet-stream"
                       % data.get_content_type())
        ct = data.get_payload(decode=True) or b""
        rc, status, plain = self.gpg(["--decrypt"], stdin=ct)
        for s in status:
            if s[0] == "ENC_TO" and len(s) > 1:
                self.r["encrypted_to"].append(s[1].upper())
            if s[0] == "DECRYPTION_KEY" and len(s) > 2:
                self.r["decrypted_for"].append(s[2].upper())
        ok = rc == 0 and any(s[0] == "DECRYPTION_OKAY" for s in status)
        if not ok:
            failed = [s[0] for s in status if s[0] in (
                "DECRYPTION_FAILED", "NO_SECKEY", "BEGIN_DECRYPTION")]
            self.error("decryption failed (gpg exit %s%s)%s" % (
                rc, ": " + ", ".join(failed) if failed else "",
                ": " + self.gpg_said if self.gpg_said else ""))
            return
        if not self.r["decrypted_for"]:
            self.r["decrypted_for"] = list(self.r["encrypted_to"])
        # RFC 3156 §6.2: signed and encrypted in one OpenPGP message.
        if any(s[0] in ("GOODSIG", "BADSIG", "ERRSIG", "VALIDSIG") for s in status):
            self.signature_status(0, status)
        plain = canonical(plain)
        inner = self.headers(self.split(plain)[0])
        if inner.get_content_type() != "multipart/signed":
            self.protected(plain)
        self.walk(plain, depth + 1)


def canonical(raw):
    """Line ends as CRLF (RFC 3156 §5: verify over the canonical form)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gnupghome", required=True)
    ap.add_argument("--expect-signer")
    ap.add_argument("file")
    a = ap.parse_args()
    try:
        with open(a.file, "rb") as f:
            raw = f.read(MAX_INPUT + 1)
    except OSError as e:
        print("mailread: %s: %s" % (a.file, e.strerror), file=sys.stderr)
        return 1
    if len(raw) > MAX_INPUT:
        print("mailread: %s: larger than %d bytes" % (a.file, MAX_INPUT), file=sys.stderr)
        return 1
    raw = canonical(raw)
    hbytes, _ = Reader.split(raw)
    if not re.match(rb"[!-9;-~]+:", hbytes):
        print("mailread: %s: not a mail message (no header)" % a.file, file=sys.stderr)
        return 1
    rd = Reader(a.gnupghome, a.expect_signer)
    try:
        rd.walk(raw, 0, root=True)
    except RecursionError:
        rd.error("structure nested too deeply")
    json.dump(rd.r, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
