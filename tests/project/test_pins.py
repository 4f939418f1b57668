"""Our patches of Flask-JWT-Extended's and waitress's internals run on the pinned versions only: on
another, one line says so and the library's stock behaviour serves (docs/development.md)."""
import json
import logging
import re
import socket
import threading
import time
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import jwt as pyjwt

from aiteni import pins as aiteni_pins
from aiteni import serving
from aiteni.auth import jwtmanager
from tests.helpers.raw_http import read_response

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"
MALFORMED = b"POST /api/auth/login HTTP/1.1\r\nHost: aiteni\r\nContent-Length: ten\r\n\r\n"


def test_the_patches_are_written_for_the_pinned_versions_and_those_are_installed():
    """Bumping a pin makes this fail until the patch is read again against the new version."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", REQUIREMENTS.read_text(encoding="utf-8"), re.MULTILINE))
    for distribution, pinned in aiteni_pins.PINNED.items():
        assert pins[distribution] == pinned == version(distribution)


def test_a_library_without_its_metadata_runs_stock_with_one_line(monkeypatch, caplog):
    """A copy installed without its dist-info has no version to compare: the start goes on, unpatched."""
    monkeypatch.setitem(aiteni_pins.PINNED, "aiteni-no-such-distribution", "1.0")
    assert not aiteni_pins.pinned("aiteni-no-such-distribution", "a patch")
    assert pins_said(caplog) == [
        "aiteni-no-such-distribution of no known version is installed, not the pinned 1.0: aiteni's patch of it "
        "(a patch) is off, aiteni-no-such-distribution's stock behaviour is used"]


def pins_said(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "aiteni.pins"]


def count_parses(monkeypatch):
    """The PyJWT parses of a token from now on."""
    parsed = []
    for name in ("decode", "get_unverified_header"):
        original = getattr(pyjwt, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            parsed.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(pyjwt, name, counted)
    return parsed


def test_another_flask_jwt_extended_parses_every_token_and_keeps_exp_exact(app, client, auth, caplog, monkeypatch):
    with caplog.at_level(logging.WARNING, logger="aiteni.pins"):
        jwtmanager.remember_verified_tokens(app, version="4.8.0")
    assert pins_said(caplog) == [
        "Flask-JWT-Extended 4.8.0 is installed, not the pinned 4.7.4: aiteni's patch of it (the memo of verified "
        "tokens) is off, Flask-JWT-Extended's stock behaviour is used"
    ]
    token = auth.login("stock")["token"]
    assert client.post("/api/auth/verify", headers=auth.bearer(token)).status_code == 200
    parsed = count_parses(monkeypatch)
    assert client.post("/api/auth/verify", headers=auth.bearer(token)).get_json()["msg"] == "Token有效"
    assert parsed.count("decode") >= 2 and "get_unverified_header" in parsed
    # The clock-skew leeway stays off `exp` without the memo: a public loader checks it.
    claims = pyjwt.decode(token, options={"verify_signature": False})
    expired = pyjwt.encode({**claims, "exp": int(time.time())}, app.config["JWT_SECRET"], algorithm="HS256")
    response = client.post("/api/auth/verify", headers=auth.bearer(expired))
    assert (response.status_code, response.get_json()) == (401, {"code": 401, "msg": "Token已过期，请重新登录"})


@contextmanager
def serving_in_a_thread(app, waitress_version):
    """serving.create_server's server for `app` on a free port, running in this process; yields its address."""
    server = serving.create_server(app, {**app.config, "HOST": "127.0.0.1", "PORT": 0}, waitress_version)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        yield ("127.0.0.1", server.effective_port)
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        runner.join(5)


def refusal(address):
    with socket.create_connection(address) as sock:
        sock.sendall(MALFORMED)
        return read_response(sock, timeout=3)


def test_the_pinned_waitress_refuses_in_the_envelope_and_says_nothing(app, caplog):
    with caplog.at_level(logging.WARNING, logger="aiteni.pins"), serving_in_a_thread(app, None) as address:
        status, headers, body = refusal(address)
    assert (status, headers["content-type"]) == (400, "application/json; charset=utf-8")
    assert json.loads(body) == {"code": 400, "msg": "请求数据格式错误"}
    assert pins_said(caplog) == []


def test_another_waitress_serves_stock_and_says_so(app, caplog):
    with caplog.at_level(logging.WARNING, logger="aiteni.pins"), serving_in_a_thread(app, "3.1.0") as address:
        status, headers, body = refusal(address)
        # The requests waitress lets through still reach the app.
        with socket.create_connection(address) as sock:
            sock.sendall(b"GET /api/version HTTP/1.1\r\nHost: aiteni\r\n\r\n")
            assert read_response(sock, timeout=3)[0] == 200
    assert (status, headers["content-type"].split(";")[0]) == (400, "text/plain")
    assert pins_said(caplog) == [
        "waitress 3.1.0 is installed, not the pinned 3.0.2: aiteni's patch of it (the envelope for its refusals, the "
        "close after an ambiguous body length, the patient stop) is off, waitress's stock behaviour is used"
    ]
