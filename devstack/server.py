"""The local stack's HTTP front: each request becomes ``devstack.gateway.request(...)``.

API Gateway's own rules (routes, authorizer, gateway responses) live in gateway.py; this file
only speaks HTTP: it reads the body (at most 10 MB, as API Gateway), passes text as is and
anything else base64-encoded, and writes the reply.
"""

from __future__ import annotations

import base64
import logging
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from devstack import gateway, template

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te", "trailer"}

log = logging.getLogger("devstack.http")


class TooLarge(Exception):
    pass


class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "invoicing-local"

    # ------------------------------------------------------------------ methods
    def do_GET(self) -> None:
        self._proxy("GET")

    def do_POST(self) -> None:
        self._proxy("POST")

    def do_PUT(self) -> None:
        self._proxy("PUT")

    def do_PATCH(self) -> None:
        self._proxy("PATCH")

    def do_DELETE(self) -> None:
        self._proxy("DELETE")

    def do_HEAD(self) -> None:
        """A GET whose body is left out (its headers, Content-Length included, are kept)."""
        self._proxy("GET", head=True)

    def do_OPTIONS(self) -> None:
        """The methods a path has; a path the API does not have answers like any unknown route."""
        methods = template.methods_at(self._path()[0])
        self._read_body()  # keep the connection in step
        if not methods:
            self._send(gateway.gateway_reply("MISSING_AUTHENTICATION_TOKEN"))
            return
        allow = ", ".join([*methods, "HEAD", "OPTIONS"] if "GET" in methods else [*methods, "OPTIONS"])
        self._send(gateway.Reply(HTTPStatus.NO_CONTENT, {"Allow": allow}, ""))

    def handle_expect_100(self) -> bool:
        """Refuse a declared too-large body before the client sends it."""
        try:
            too_large = int(self.headers.get("Content-Length") or 0) > MAX_BODY_BYTES
        except ValueError:
            too_large = False
        if too_large:
            self.close_connection = True
            self._send(gateway.gateway_reply("REQUEST_TOO_LARGE"), close=True)
            return False
        return super().handle_expect_100()

    def version_string(self) -> str:
        return self.server_version

    # ------------------------------------------------------------------ plumbing
    def _path(self) -> tuple[str, str]:
        split = urlsplit(self.path)
        return unquote(split.path) or "/", split.query

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        raw_length = self.headers.get("Content-Length")
        if not raw_length:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            length = -1
        if length < 0:
            raise ValueError(f"bad Content-Length {raw_length!r}")
        if length > MAX_BODY_BYTES:
            raise TooLarge
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise TooLarge
            body += self.rfile.read(size)
            self.rfile.readline(16)  # the CRLF after each chunk

    def _proxy(self, method: str, *, head: bool = False) -> None:
        path, query = self._path()
        try:
            raw = self._read_body()
        except TooLarge:
            self.close_connection = True  # the unread body makes the connection unusable
            self._send(gateway.gateway_reply("REQUEST_TOO_LARGE"), close=True)
            return
        except ValueError:
            self.close_connection = True
            self._send(gateway.Reply(400, dict(gateway.JSON), '{"message": "Bad Request"}'), close=True)
            return
        body: str | None = None
        is_base64 = False
        if raw:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                body, is_base64 = base64.b64encode(raw).decode("ascii"), True
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.setdefault("X-Forwarded-Proto", "http")
        headers.setdefault("X-Forwarded-For", self.client_address[0])
        headers.setdefault("X-Forwarded-Port", str(self.server.server_address[1]))  # type: ignore[index]
        try:
            reply = gateway.request(method, path, headers=headers, body=body, query=query, is_base64=is_base64,
                                    propagate=False)
        except Exception:
            log.exception("the local gateway failed on %s %s", method, path)
            reply = gateway.gateway_reply("BAD_GATEWAY")
        self._send(reply, head=head)

    def _send(self, reply: gateway.Reply, *, head: bool = False, close: bool = False) -> None:
        content = reply.content
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if reply.status not in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
            self.send_header("Content-Length", str(len(content)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head and content and reply.status not in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
            self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.log_date_time_string()} {format % args}\n")


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    """Bind now (so a busy port fails before anything else starts); serve with ``serve_forever``."""
    server = ThreadingHTTPServer((host, port), Front)
    server.daemon_threads = True
    return server
