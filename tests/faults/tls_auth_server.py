#!/usr/bin/env python3
"""A minimal SMTP server for the fault suite: STARTTLS, then AUTH PLAIN or
LOGIN (any credentials), MAIL, RCPT, DATA.  Each message goes to
MAILDIR/<n>.eml with "X-Rcpt-Args: <rcpt>" lines first (as smtp-sink -d
writes them); every command is logged with whether TLS was on, AUTH
arguments replaced by "***" (the log is checked too).

usage: tls_auth_server.py PORT CERT KEY MAILDIR LOG
"""
import itertools
import socket
import ssl
import sys
import threading

port, cert, key, maildir, logpath = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
counter = itertools.count(1)
lock = threading.Lock()


def log(line):
    with lock, open(logpath, "a") as f:
        f.write(line + "\n")


def serve(conn):
    tls = False
    f = conn.makefile("rwb")

    def send(s):
        f.write(s.encode() + b"\r\n")
        f.flush()

    send("220 tls-auth.test ESMTP")
    rcpts, authed = [], False
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.decode("utf-8", "replace").rstrip("\r\n")
        verb = cmd.split(" ")[0].upper()
        log("tls=%s %s" % ("yes" if tls else "no",
                           verb + " ***" if verb == "AUTH" else cmd))
        if verb in ("EHLO", "HELO"):
            ext = ["AUTH PLAIN LOGIN"] if tls else ["STARTTLS"]
            for e in ["tls-auth.test"] + ext[:-1]:
                send("250-" + e)
            send("250 " + ext[-1])
        elif verb == "STARTTLS" and not tls:
            send("220 go ahead")
            f.close()
            conn = ctx.wrap_socket(conn, server_side=True)
            f = conn.makefile("rwb")
            tls = True
        elif verb == "AUTH" and tls:
            parts = cmd.split(" ")
            if len(parts) == 2 and parts[1].upper() == "LOGIN":
                send("334 VXNlcm5hbWU6")
                f.readline()
                send("334 UGFzc3dvcmQ6")
                f.readline()
            elif len(parts) == 2:
                send("334 ")
                f.readline()
            authed = True
            send("235 2.7.0 ok")
        elif verb == "MAIL":
            if not (tls and authed):
                send("530 5.7.0 authentication required")
                continue
            rcpts = []
            send("250 ok")
        elif verb == "RCPT":
            rcpts.append(cmd.split(":", 1)[1].strip().split(" ")[0])
            send("250 ok")
        elif verb == "DATA":
            send("354 go")
            body = []
            while True:
                l = f.readline()
                if not l or l in (b".\r\n", b".\n"):
                    break
                body.append(l[1:] if l.startswith(b"..") else l)
            n = next(counter)
            with open("%s/%d.eml" % (maildir, n), "wb") as out:
                for r in rcpts:
                    out.write(b"X-Rcpt-Args: " + r.encode() + b"\r\n")
                out.write(b"".join(body))
            send("250 2.0.0 Ok: queued %d" % n)
        elif verb == "RSET":
            rcpts = []
            send("250 ok")
        elif verb == "QUIT":
            send("221 bye")
            return
        else:
            send("502 5.5.2 not here")


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(port)))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
