#!/usr/bin/python3
"""A scripted SMTP server on 127.0.0.1 for the smtp-test suite: it answers exactly what a scenario
says, including what no real server should (250 to DATA, endless 334, ESC and non-UTF-8 bytes,
lower-case EHLO keywords, a plain-text greeting on a TLS port...). Standard library only.

Usage: scripted_smtp_server.py CONFIG_JSON
Prints "PORT <n>" once it listens on 127.0.0.1 (port 0: parallel tests never collide), then
serves every connection in its own thread until terminated. Secrets come from the environment:
SMTP_TEST_PASSWORD, SMTP_TEST_TOKEN.

Reply texts are JSON strings; characters U+0000-U+00FF are sent as single bytes (latin-1), so
"\\u00e9" sends the byte 0xE9 (not UTF-8) and "\\u001b" sends ESC.

CONFIG_JSON keys (all optional):
  tls            "starttls" (default) | "implicit" | "none"
  cert, key      PEM files of the server certificate
  tlsMax         "1.2": the server speaks TLS 1.2 at most
  serverCiphers  OpenSSL cipher string the server accepts (TLS 1.2)
  user           the account that may sign in
  banner         reply lines of the greeting, default ["220 scripted.test ESMTP ready"]
  ehlo           reply lines to EHLO before TLS (default: STARTTLS when tls is starttls, AUTH ...)
  ehloAfterTls   reply lines to EHLO after STARTTLS (default: AUTH LOGIN PLAIN XOAUTH2)
  starttls       reply to STARTTLS (default "220 2.0.0 SMTP server ready"); any other code
                 refuses it and the session stays in plain text
  authReply      the final reply after the credentials (default: 235 when they are right,
                 else 535 5.7.3 Authentication unsuccessful)
  authImmediate  reply at once to the AUTH command with this line (e.g. "250 OK")
  authLoop       answer every client line during AUTH with another 334 challenge; "*" gets 501
  oauthError     JSON object: after the XOAUTH2 token send "334 <base64 of it>", then authReply
  mail           reply to MAIL FROM; rcpt {"address": reply}; data reply to DATA (default 354)
  dataEnd        reply after the message (default "250 2.0.0 OK queued")
  quit           reply to QUIT (default "221 2.0.0 Bye"); null: close without answering
  spool          directory: <n>.eml per message accepted (250 after 354), auth.ok per sign-in
"""
import base64
import itertools
import json
import os
import socket
import ssl
import sys
import threading

COUNTER = itertools.count(1)
LOCK = threading.Lock()


def raw(text):
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


class Session:
    def __init__(self, config, sock, context):
        self.config = config
        self.sock = sock
        self.context = context
        self.buffer = b""
        self.tls = False

    def send(self, lines):
        if isinstance(lines, str):
            lines = [lines]
        self.sock.sendall(b"".join(raw(line) + b"\r\n" for line in lines))

    def line(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def record(self, name, content):
        spool = self.config.get("spool")
        if not spool:
            return
        with LOCK:
            path = os.path.join(spool, name)
            with open(path + ".tmp", "wb") as out:
                out.write(content)
            os.rename(path + ".tmp", path)

    def ehlo_reply(self):
        config = self.config
        if self.tls and "ehloAfterTls" in config:
            return config["ehloAfterTls"]
        if not self.tls and "ehlo" in config:
            return config["ehlo"]
        lines = ["250-scripted.test Hello"]
        if config.get("tls", "starttls") == "starttls" and not self.tls:
            lines.append("250-STARTTLS")
        lines.append("250-AUTH LOGIN PLAIN XOAUTH2")
        lines.append("250 8BITMIME")
        return lines

    def run(self):
        config = self.config
        self.send(config.get("banner", ["220 scripted.test ESMTP ready"]))
        envelope = []
        while True:
            command = self.line()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.send(self.ehlo_reply())
            elif verb == "STARTTLS":
                reply = config.get("starttls", "220 2.0.0 SMTP server ready")
                self.send(reply)
                if not reply.startswith("220"):  # refused: the session goes on in plain text
                    continue
                self.sock = self.context.wrap_socket(self.sock, server_side=True)
                self.buffer = b""
                self.tls = True
            elif verb == "AUTH":
                self.auth(command.split(" ")[1].upper() if " " in command else "")
            elif verb == "MAIL":
                envelope = []
                self.send(config.get("mail", "250 2.1.0 Sender OK"))
            elif verb == "RCPT":
                address = command[command.find("<") + 1:command.rfind(">")]
                reply = config.get("rcpt", {}).get(address, "250 2.1.5 Recipient OK")
                if reply.startswith("25"):
                    envelope.append(address)
                self.send(reply)
            elif verb == "DATA":
                reply = config.get("data", "354 Start mail input; end with <CRLF>.<CRLF>")
                self.send(reply)
                if not reply.startswith("354"):
                    continue
                message = []
                while True:
                    line = self.line()
                    if line == ".":
                        break
                    message.append(line[1:] if line.startswith(".") else line)
                end = config.get("dataEnd", "250 2.0.0 OK queued")
                if end.startswith("250"):
                    body = ("X-Envelope-To: " + ",".join(envelope) + "\r\n" + "\r\n".join(message)).encode("latin-1")
                    self.record("%d.eml" % next(COUNTER), body)
                self.send(end)
            elif verb == "QUIT":
                if config.get("quit", "221 2.0.0 Bye") is None:
                    return
                self.send(config.get("quit", "221 2.0.0 Bye"))
                return
            elif verb == "NOOP":
                self.send("250 2.0.0 OK")
            elif verb == "RSET":
                envelope = []
                self.send("250 2.0.0 OK")
            else:
                self.send("502 5.5.2 Command not recognized")

    def auth(self, mechanism):
        config = self.config
        if "authImmediate" in config:
            self.send(config["authImmediate"])
            return
        if config.get("authLoop"):
            for _ in range(1000):
                self.send("334 VXNlcm5hbWU6")
                if self.line() == "*":
                    self.send("501 5.7.0 Authentication cancelled")
                    return
            return
        user, secret = "", ""
        if mechanism == "LOGIN":
            self.send("334 VXNlcm5hbWU6")
            user = base64.b64decode(self.line()).decode("latin-1")
            self.send("334 UGFzc3dvcmQ6")
            secret = base64.b64decode(self.line()).decode("latin-1")
            expected = os.environ.get("SMTP_TEST_PASSWORD")
        elif mechanism == "PLAIN":
            self.send("334 ")
            parts = base64.b64decode(self.line()).decode("latin-1").split("\0")
            user, secret = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
            expected = os.environ.get("SMTP_TEST_PASSWORD")
        elif mechanism == "XOAUTH2":
            self.send("334 ")
            fields = dict(part.split("=", 1) for part in base64.b64decode(self.line()).decode("latin-1").split("\x01") if "=" in part)
            user, secret = fields.get("user", ""), fields.get("auth", "").replace("Bearer ", "", 1)
            expected = os.environ.get("SMTP_TEST_TOKEN")
            if "oauthError" in config:
                self.send("334 " + base64.b64encode(json.dumps(config["oauthError"]).encode()).decode())
                self.line()  # the client's dummy response
                self.send(config.get("authReply", "535 5.7.3 Authentication unsuccessful"))
                return
        else:
            self.send("504 5.7.4 Unrecognized authentication type")
            return
        if "authReply" in config:
            self.send(config["authReply"])
        elif expected and user == config.get("user") and secret == expected:
            self.record("auth.ok.%d" % next(COUNTER), b"ok")
            self.send("235 2.7.0 Authentication successful")
        else:
            self.send("535 5.7.3 Authentication unsuccessful")


def serve(config):
    mode = config.get("tls", "starttls")
    context = None
    if mode != "none":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(config["cert"], config["key"])
        if config.get("tlsMax") == "1.2":
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        if "serverCiphers" in config:
            context.set_ciphers(config["serverCiphers"])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print("PORT %d" % listener.getsockname()[1], flush=True)

    def handle(sock):
        try:
            if mode == "implicit":
                sock = context.wrap_socket(sock, server_side=True)
            Session(config, sock, context).run()
        except (EOFError, OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    while True:
        sock, _ = listener.accept()
        threading.Thread(target=handle, args=(sock,), daemon=True).start()


def main():
    config = json.loads(sys.argv[1])
    try:
        serve(config)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
