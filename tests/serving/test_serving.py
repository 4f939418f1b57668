"""`python wsgi.py` under idle, slow and oversized clients: a real waitress process and raw sockets."""
import json
import os
import select
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from config import Config
from tests.helpers.database import migrate
from tests.helpers.raw_http import read_response
from tests.helpers.wsgi_process import clean_env, open_files, wsgi_server

# The server's open files are read from /proc, its open-file limit set through setrlimit.
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only: /proc, setrlimit")

LIMIT = Config.MAX_CONTENT_LENGTH
TOO_LARGE = {"code": 413, "msg": "请求数据过大"}
CHANNEL_TIMEOUT = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module, on a migrated SQLite database, spooling (if ever) into `spool`.

    It starts allowed 256 open files, a scaled-down systemd default (1024): it must raise
    the limit itself to keep CONNECTION_LIMIT connections.
    """
    work = tmp_path_factory.mktemp("serving")
    migrate(f"sqlite:///{work / 'aiteni.db'}")
    (work / "spool").mkdir()
    env = clean_env(
        DATABASE_URL=f"sqlite:///{work / 'aiteni.db'}", LOG_DIR=work / "logs", PORT=0,
        CHANNEL_TIMEOUT=CHANNEL_TIMEOUT, TMPDIR=work / "spool",
    )
    with wsgi_server(env, preexec_fn=open_files(256)) as served:
        served.spool = str(work / "spool")
        served.address = ("127.0.0.1", int(served.base_url.rsplit(":", 1)[1]))
        yield served


def spooled_files(server):
    """The files the server holds open in its temp directory (waitress spools a large body there)."""
    fds = f"/proc/{server.pid}/fd"
    if not Path(fds).is_dir():  # no /proc (Windows, macOS): the answers alone are checked
        return []
    links = []
    for fd in os.listdir(fds):
        try:
            links.append(os.readlink(f"{fds}/{fd}"))
        except OSError:  # closed meanwhile
            pass
    return [link for link in links if link.startswith(server.spool)]


def test_300_idle_and_trickling_connections_do_not_lock_out_a_client(server):
    """waitress's default limit, 100 connections, let 120 idle sockets lock everyone out."""
    idle = [socket.create_connection(server.address) for _ in range(300)]
    stop = threading.Event()

    def trickle():
        """A request line, a byte now and then: never idle, never complete."""
        with socket.create_connection(server.address) as sock:
            for byte in b"GET /api/health HTTP/1.1\r\nX-Slow: " + b"a" * 1000:
                sock.sendall(bytes([byte]))
                if stop.wait(0.2):
                    return

    tricklers = [threading.Thread(target=trickle) for _ in range(5)]
    try:
        for thread in tricklers:
            thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        response = requests.get(f"{server.base_url}/api/health", timeout=5)
        assert response.status_code == 200
        assert time.monotonic() - started < 2
    finally:
        stop.set()
        for thread in tricklers:
            thread.join()
        for sock in idle:
            sock.close()


def test_an_idle_connection_is_closed_after_channel_timeout(server):
    with socket.create_connection(server.address) as sock:
        started = time.monotonic()
        sock.settimeout(CHANNEL_TIMEOUT + 8)
        assert sock.recv(1) == b""  # closed by the server
        assert CHANNEL_TIMEOUT - 0.5 < time.monotonic() - started < CHANNEL_TIMEOUT + 5


def test_a_declared_300_mb_body_is_refused_at_once_without_reading_it(server):
    with socket.create_connection(server.address) as sock:
        started = time.monotonic()
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: aiteni\r\nContent-Type: application/json\r\n"
            b"Content-Length: 300000000\r\n\r\n"
        )
        answer = read_response(sock, timeout=3)
        assert answer is not None, "no answer until the body is sent"
        assert time.monotonic() - started < 1
        status, headers, body = answer
        assert (status, headers["content-type"], json.loads(body)) == (413, "application/json; charset=utf-8", TOO_LARGE)
        try:
            for _ in range(64):  # what a client that does not listen sends anyway
                sock.sendall(b"x" * 16384)
        except OSError:  # the server closed the connection
            pass
        assert spooled_files(server) == []


def test_a_chunked_body_is_cut_off_as_soon_as_it_grows_past_the_limit(server):
    with socket.create_connection(server.address) as sock:
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: aiteni\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
        sent, spooled = 0, []
        while sent < 4 * 1024 * 1024 and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sent += 0x4000
            spooled += spooled_files(server)
        answer = read_response(sock, timeout=3)
    assert answer is not None
    status, _, body = answer
    assert (status, json.loads(body)) == (413, TOO_LARGE)  # the body never ended: refused while streaming
    assert spooled == []  # waitress spools a body past 512 KiB: none got that far


def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(server):
    """waitress's limit and Flask's MAX_CONTENT_LENGTH agree to the byte."""
    def login(size):
        prefix, suffix = b'{"code": "', b'"}'
        body = prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix
        return requests.post(f"{server.base_url}/api/auth/login", data=body,
                             headers={"Content-Type": "application/json"}, timeout=5)

    at_limit = login(LIMIT)
    assert at_limit.status_code == 400 and at_limit.json()["msg"] != TOO_LARGE["msg"]
    over = login(LIMIT + 1)
    assert (over.status_code, over.json()) == (413, TOO_LARGE)


def test_a_request_waitress_cannot_parse_gets_the_envelope_too(server):
    with socket.create_connection(server.address) as sock:
        sock.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: aiteni\r\nContent-Length: ten\r\n\r\n")
        status, headers, body = read_response(sock, timeout=3)
    assert (status, headers["content-type"]) == (400, "application/json; charset=utf-8")
    assert json.loads(body) == {"code": 400, "msg": "请求数据格式错误"}
