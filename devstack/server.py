"""The local stack's HTTP front: each request becomes ``devstack.gateway.request(...)``.

API Gateway's own rules (routes, authorizer, gateway responses) live in gateway.py; this file
only speaks HTTP: it reads the body (at most 10 MB, as API Gateway), passes text as is and
anything else base64-encoded, and writes the reply. Whatever http.server would answer itself (a
method without a ``do_`` handler, a malformed request line or header) is JSON in the contract's
shape too, never its HTML error page.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
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
    # Until a request line is understood http.server takes it for HTTP/0.9 and answers a bare body;
    # API Gateway speaks no HTTP/0.9, and a status line lets every client read the error.
    default_request_version = "HTTP/1.0"

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
        if self._read_or_refuse() is None:
            return
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

    def parse_request(self) -> bool:
        """A method with no ``do_`` handler (TRACE, CONNECT, PROPFIND, any token) is a route the API
        does not have: the gateway's answer for one, where http.server would send its HTML 501."""
        if not super().parse_request():
            return False
        if hasattr(self, f"do_{self.command}"):
            return True
        if self._read_or_refuse() is not None:
            self._send(gateway.gateway_reply("MISSING_AUTHENTICATION_TOKEN"))
        return False  # answered: http.server dispatches nothing

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own error answers (a malformed request line or header, an over-long URI) in
        the contract's error shape: its HTML template swapped for this JSON body."""
        status = HTTPStatus(code)
        body = json.dumps({"detail": message or status.phrase, "code": status.name.lower()})
        self.error_message_format = body.replace("%", "%%")  # the template is %-formatted
        self.error_content_type = "application/json"
        super().send_error(code, message, explain)

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
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                size = -1
            if size < 0:  # a negative size would read to the end of the stream
                raise ValueError(f"bad chunk size {line[:40]!r}")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise TooLarge
            body += self.rfile.read(size)
            self.rfile.readline(16)  # the CRLF after each chunk

    def _read_or_refuse(self) -> bytes | None:
        """The body, or None once a body that cannot be read has been answered (connection closed)."""
        try:
            return self._read_body()
        except TooLarge:
            self.close_connection = True  # the unread body makes the connection unusable
            self._send(gateway.gateway_reply("REQUEST_TOO_LARGE"), close=True)
        except ValueError as error:
            self.send_error(HTTPStatus.BAD_REQUEST, str(error))  # closes the connection
        return None

    def _proxy(self, method: str, *, head: bool = False) -> None:
        path, query = self._path()
        raw = self._read_or_refuse()
        if raw is None:
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


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's listen backlog is 5: a burst of 30 new connections overflowed it and clients
    # got resets. The system's maximum (the kernel caps it at net.core.somaxconn).
    request_queue_size = socket.SOMAXCONN


def make_server(host: str, port: int) -> FrontServer:
    """Bind now (so a busy port fails before anything else starts); serve with ``serve_forever``."""
    return FrontServer((host, port), Front)
