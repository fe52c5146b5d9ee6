"""The local stack's HTTP front answers every request in the contract's shape, over a real socket:
a method or path the API does not route gets the gateway's unknown-route answer (never
http.server's HTML 501), and what http.server refuses itself (a malformed request line, an
over-long URI or header, an unreadable body) is JSON too."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from devstack import server, template

CUSTOMERS = "/api/v1/customers"


@pytest.fixture(scope="module")
def front() -> Iterator[int]:
    """The front on a free loopback port; these requests never reach a function (no AWS needed)."""
    httpd = server.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()


def unknown_route() -> tuple[int, object]:
    status, body = template.gateway_response("MISSING_AUTHENTICATION_TOKEN")
    return status, json.loads(body)


def raw_exchange(port: int, request: bytes) -> tuple[bytes, bytes]:
    """Send ``request`` as is; (the head, the body) of what comes back before the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: sock.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "MKCOL", "BREW", "get", "Post"])
@pytest.mark.parametrize("path", [CUSTOMERS, "/api/v1/nope", "/"])
def test_a_method_the_api_does_not_route_is_the_gateway_s_unknown_route_answer(front, method, path):
    connection = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
    connection.request(method, path, body=b'{"x": 1}', headers={"Content-Type": "application/json"})
    reply = connection.getresponse()

    assert (reply.status, json.loads(reply.read())) == unknown_route()
    assert reply.getheader("Content-Type") == "application/json"
    # the body was read, so the same connection serves the next request
    connection.request("OPTIONS", CUSTOMERS)
    assert connection.getresponse().status == 204


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"DELETE /\r\n\r\n", 400),  # an HTTP/0.9 line, but for GET
    (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
    (b"GET / HTTP/x.y\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(101)) + b"\r\n", 431),
    (b"POST /api/v1/customers HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400),
    (b"POST /api/v1/customers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
])
def test_what_http_server_refuses_itself_is_json_in_the_contract_s_shape(front, request_bytes, status):
    head, body = raw_exchange(front, request_bytes)

    assert head.split(b" ", 2)[1] == str(status).encode(), head
    assert b"\r\nContent-Type: application/json\r\n" in head
    error = json.loads(body)
    assert set(error) == {"detail", "code"} and error["detail"] and error["code"]
    assert b"<html" not in body.lower()


def test_an_unknown_route_asked_with_head_has_the_answer_s_headers_and_no_body(front):
    connection = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
    connection.request("HEAD", "/api/v1/nope")
    reply = connection.getresponse()
    assert reply.status == unknown_route()[0] and reply.read() == b""
