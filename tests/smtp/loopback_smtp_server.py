#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 for the smtp-test suite, configured to reproduce one scenario.

Usage: loopback_smtp_server.py CONFIG_JSON
Prints "PORT <n>" on stdout once it listens (it binds port 0, so parallel tests never collide),
then serves until it is terminated. Secrets come from the environment, never from argv:
SMTP_TEST_PASSWORD (expected password), SMTP_TEST_TOKEN (expected XOAUTH2 bearer token).

CONFIG_JSON keys (all optional):
  tls              "starttls" (default) | "implicit" | "none"
  cert, key        PEM files of the server certificate (needed unless tls is "none")
  user             the account that may sign in
  mechanisms       AUTH mechanisms to offer, default ["LOGIN", "PLAIN"] (XOAUTH2 is available
                   too); [] announces no AUTH at all
  authReply        refuse every AUTH with this reply (e.g. "535 5.7.139 Authentication unsuccessful")
  mailReply        answer MAIL FROM with this reply
  rcptReplies      {"address": "reply"}: refuse these recipients
  dataReply        answer the end of DATA with this reply
  dropDuringData   close the connection after the 354 reply and the first line of the message
  bannerDelay      seconds to wait before the 220 banner (a slow server)
  maxTlsVersion    "TLSv1.1": offer only TLS 1.0 and 1.1 (an outdated server)
  requireStartTls  answer every command but EHLO/STARTTLS/NOOP/QUIT with 530 until STARTTLS
  spool            directory: each accepted message is written there as <n>.eml, each accepted
                   sign-in as auth.ok.<n>
"""
import asyncio
import itertools
import logging
import base64
import json
import os
import ssl
import sys
import warnings

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword


def tls_context(config):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["cert"], config["key"])
    if config.get("maxTlsVersion") == "TLSv1.1":
        # An outdated server: TLS 1.0 and 1.1 only (OpenSSL 3 needs security level 0 for them).
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


class Handler:
    def __init__(self, config):
        self.config = config
        self.received = 0
        self.sign_ins = itertools.count(1)

    def record(self, name, content):
        spool = self.config.get("spool")
        if spool:
            with open(os.path.join(spool, name), "wb") as out:
                out.write(content)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not self.config.get("mechanisms", True):
            # aiosmtpd would still announce an empty "AUTH": a server without AUTH omits the line.
            responses = [line for line in responses if not line.startswith("250-AUTH")]
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        if "mailReply" in self.config:
            return self.config["mailReply"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        refusal = self.config.get("rcptReplies", {}).get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope):
        if "dataReply" in self.config:
            return self.config["dataReply"]
        spool = self.config.get("spool")
        if spool:
            self.received += 1
            path = os.path.join(spool, "%d.eml" % self.received)
            with open(path + ".tmp", "wb") as out:
                out.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
                out.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
                out.write(envelope.original_content)
            os.rename(path + ".tmp", path)  # the test only ever sees complete files
        return "250 2.0.0 OK Queued"

    async def auth_XOAUTH2(self, server, args):
        # The initial response comes with the command (SASL-IR) or after an empty challenge.
        blob = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("", encode_to_b64=False)
        if blob is MISSING:
            return AuthResult(success=False, handled=True)
        fields = dict(part.split("=", 1) for part in blob.decode(errors="replace").split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        return self.decide(fields.get("user", ""), token, os.environ.get("SMTP_TEST_TOKEN"))

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        return self.decide(auth_data.login.decode(), auth_data.password.decode(),
                           os.environ.get("SMTP_TEST_PASSWORD"))

    def decide(self, user, secret, expected):
        if "authReply" in self.config:
            return AuthResult(success=False, handled=False, message=self.config["authReply"])
        if expected is not None and user == self.config.get("user") and secret == expected:
            self.record("auth.ok.%d" % next(self.sign_ins), b"ok")
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")


class ScenarioSMTP(SMTP):
    def __init__(self, handler, config, **kwargs):
        super().__init__(handler, **kwargs)
        self.config = config

    async def _handle_client(self):
        await asyncio.sleep(self.config.get("bannerDelay", 0))
        await super()._handle_client()

    async def smtp_DATA(self, arg):
        if not self.config.get("dropDuringData") or not self.envelope.rcpt_tos:
            return await super().smtp_DATA(arg)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.readuntil(b"\r\n")
        self.transport.close()


async def serve(config):
    handler = Handler(config)
    mode = config.get("tls", "starttls")
    context = tls_context(config) if mode != "none" else None
    offered = set(config.get("mechanisms", ["LOGIN", "PLAIN"]))
    excluded = [m for m in ("LOGIN", "PLAIN", "XOAUTH2") if m not in offered]

    def factory():
        return ScenarioSMTP(
            handler, config,
            hostname="loopback.test",
            tls_context=context if mode == "starttls" else None,
            require_starttls=bool(config.get("requireStartTls")),
            # With implicit TLS aiosmtpd does not know the socket is encrypted: only STARTTLS
            # sessions can tell, so the "TLS before AUTH" rule applies to them alone.
            auth_require_tls=mode == "starttls",
            auth_exclude_mechanism=excluded,
            authenticator=handler.authenticate,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host="127.0.0.1", port=0,
                                      ssl=context if mode == "implicit" else None)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def main():
    warnings.simplefilter("ignore", DeprecationWarning)  # ssl.TLSVersion.TLSv1 for maxTlsVersion
    # aiosmtpd logs its own deprecation warnings and every failed TLS handshake (which the
    # certificate scenarios cause on purpose) with tracebacks: noise for the test output.
    logging.disable(logging.CRITICAL)
    config = json.loads(sys.argv[1])
    try:
        asyncio.run(serve(config))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
