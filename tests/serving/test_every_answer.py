"""Every answer of a real `python wsgi.py` is the envelope with a contract status, whatever reaches it:
doubled slashes, transfer codings waitress does not know, framing that is ambiguous (raw sockets)."""
import json
import re

import pytest

from tests.helpers.database import migrate
from tests.helpers.raw_http import RawConnection
from tests.helpers.wsgi_process import clean_env, wsgi_server

BAD_JSON = {"code": 400, "msg": "请求数据格式错误"}
NOT_FOUND = {"code": 404, "msg": "接口不存在"}
# API.md: the charset is named (PowerShell 5.1 garbles Chinese without it).
JSON = "application/json; charset=utf-8"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("every_answer")
    migrate(f"sqlite:///{work / 'aiteni.db'}")
    env = clean_env(DATABASE_URL=f"sqlite:///{work / 'aiteni.db'}", LOG_DIR=work / "logs", PORT=0)
    with wsgi_server(env) as served:
        served.address = ("127.0.0.1", int(served.base_url.rsplit(":", 1)[1]))
        served.logs = work / "logs"
        yield served


def request_log(server):
    return "".join(path.read_text(encoding="utf-8") for path in server.logs.glob("info-*.log"))


def exchange(server, raw, timeout=5):
    with RawConnection(server.address) as connection:
        connection.send(raw)
        return connection.response(timeout)


def assert_envelope(answer, status, body):
    assert answer is not None, "no answer"
    got_status, headers, got_body = answer
    assert (got_status, headers["content-type"], json.loads(got_body)) == (status, JSON, body)


@pytest.mark.parametrize("path", ["/api/health//", "/api//health", "/api/evaluation//history",
                                  "/api/version///", "/api/evaluation//questions"])
def test_doubled_slashes_answer_the_404_envelope_not_an_html_redirect(server, path):
    answer = exchange(server, f"GET {path} HTTP/1.1\r\nHost: aiteni\r\n\r\n".encode())
    assert_envelope(answer, 404, NOT_FOUND)
    assert re.search(rf"GET {re.escape(path)} 404 .* ip=127\.0\.0\.1", request_log(server))


@pytest.mark.parametrize("coding", [
    b"Transfer-Encoding: chunked, identity", b"Transfer-Encoding: xchunked", b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: identity", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip",
    b"Transfer-Encoding: chunked\r\n identity",  # obs-fold: "chunked identity"
], ids=["chunked, identity", "xchunked", "gzip, chunked", "identity", "two headers", "obs-fold"])
def test_an_unknown_or_malformed_transfer_coding_is_the_400_envelope_and_logged(server, coding):
    before = request_log(server).count("refused=")
    answer = exchange(server, b"POST /api/auth/login HTTP/1.1\r\nHost: aiteni\r\n" + coding + b"\r\n\r\n0\r\n\r\n")
    assert_envelope(answer, 400, BAD_JSON)
    assert answer[1]["connection"] == "close"
    assert request_log(server).count("refused=") == before + 1


def test_a_folded_chunked_coding_is_read_as_chunked(server):
    """RFC 9112 §5.2 lets a server replace an obs-fold with a space: `chunked` on a folded line is chunked."""
    body = b'{"code": 5}'
    answer = exchange(server, b"POST /api/auth/login HTTP/1.1\r\nHost: aiteni\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding:\r\n chunked\r\n\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert_envelope(answer, 400, {"code": 400, "msg": "缺少登录凭证code"})  # the login view read the body


@pytest.mark.parametrize("version", ["1.1", "1.0"])
def test_content_length_with_transfer_encoding_is_answered_and_the_connection_closed(server, version):
    """RFC 9112 §6.1: a request with both may be a smuggling attempt; answer it, then close (a pipelined
    request after it is never read)."""
    smuggled = b"GET /api/version HTTP/1.1\r\nHost: aiteni\r\n\r\n"
    keep_alive = b"Connection: keep-alive\r\n" if version == "1.0" else b""
    with RawConnection(server.address) as connection:
        connection.send(
            f"POST /api/auth/login HTTP/{version}\r\nHost: aiteni\r\nContent-Type: application/json\r\n".encode()
            + keep_alive + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" + smuggled
        )
        first = connection.response(5)
        assert first is not None and first[0] == 400 and first[1]["connection"] == "close"
        assert connection.closed_by_server(5)


def test_a_pipelined_request_after_a_plain_one_is_still_answered(server):
    """The control: with no ambiguity the connection stays open for the next request."""
    with RawConnection(server.address) as connection:
        connection.send(b"GET /api/version HTTP/1.1\r\nHost: aiteni\r\n\r\n" * 2)
        assert connection.response(5)[0] == 200
        assert connection.response(5)[0] == 200


CONTRACT_STATUSES = {200, 400, 401, 403, 404, 405, 413, 429, 500, 502, 503}


@pytest.mark.parametrize("request_line", [
    "GET * HTTP/1.1", "OPTIONS * HTTP/1.1", "CONNECT aiteni:443 HTTP/1.1", "GET http://evil.example/api/version HTTP/1.1",
    "GET /api/%ff HTTP/1.1", "GET /api/%00 HTTP/1.1", "GET /api/..%2fversion HTTP/1.1", "GET /api/version?%zz HTTP/1.1",
    "GET /api/version HTTP/2.0", "GET /api/version HTTP/0.9", "BREW /api/version HTTP/1.1", "GET api/version HTTP/1.1",
    "GET /api/health; HTTP/1.1", "GET /api/health#x HTTP/1.1",
])
def test_odd_request_lines_answer_the_envelope(server, request_line):
    answer = exchange(server, f"{request_line}\r\nHost: aiteni\r\n\r\n".encode())
    assert answer is not None
    status, headers, body = answer
    assert status in CONTRACT_STATUSES and headers["content-type"] == JSON
    assert json.loads(body)["code"] == status


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/version", b""), ("GET", "/api/health", b""), ("GET", "/api/evaluation/questions", b""),
    ("GET", "/api/evaluation/config", b""), ("GET", "/api/openapi.json", b""), ("GET", "/api/nothing", b""),
    ("DELETE", "/api/version", b""), ("POST", "/api/auth/login", b"[]"), ("GET", "/api/user/info", b""),
    ("POST", "/api/auth/login", b"x" * 300_000),
])
def test_every_json_answer_names_its_charset(server, method, path, body):
    """PowerShell 5.1's Invoke-RestMethod reads JSON without a charset as ISO-8859-1: every msg garbled."""
    answer = exchange(server, f"{method} {path} HTTP/1.1\r\nHost: aiteni\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                      + body)
    assert answer is not None and answer[1]["content-type"] == JSON
