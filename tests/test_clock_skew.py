"""Two servers whose clocks disagree, as sibling hosts' do: tokens one issues work at the other.

The issuing server runs under libfaketime (Debian package `faketime`), its clock
1.5 s ahead; the suite needs it installed and fails, rather than skips, without it.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import jwt as pyjwt
import pytest
import requests

import servers
from servers import waitress_process

AHEAD_SECONDS = 1.5
PROFILE = {"nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}


@contextmanager
def server_ahead(settings, seconds):
    """A tests/servers.py server whose clock runs `seconds` ahead; yields its base URL."""
    if shutil.which("faketime") is None:
        pytest.fail("the `faketime` command is missing: apt-get install -y faketime", pytrace=False)
    process = subprocess.Popen(
        ["faketime", "-f", f"+{seconds}s", sys.executable, servers.__file__, json.dumps(settings), "4"],
        cwd=servers.ROOT,
        env={**os.environ, "AITENI_ENV": "testing"},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"server under faketime did not start (exit code {process.poll()})"
        yield f"http://127.0.0.1:{port}"
    finally:
        # faketime runs the server as its child and does not pass SIGTERM on: stop the whole group.
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        process.stdout.close()


def post(base, path, token=None, **body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(base + path, json=body, headers=headers, timeout=15)


@pytest.mark.faketime
def test_tokens_from_a_host_whose_clock_is_ahead_are_valid_on_its_sibling(database_url, fake_wechat, tmp_path):
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "WECHAT_API_BASE": fake_wechat.base_url,
                "LOG_DIR": str(tmp_path / "logs")}
    with server_ahead(settings, AHEAD_SECONDS) as ahead, waitress_process(settings) as behind:
        for n in range(20):
            pair = post(ahead, "/api/auth/login", code=f"skew-{n}", **PROFILE).json()["data"]
            issued_at = pyjwt.decode(pair["token"], options={"verify_signature": False})["iat"]
            assert issued_at > time.time()  # the skew is real: issued in this host's future
            assert post(behind, "/api/auth/verify", pair["token"]).json()["msg"] == "Token有效"
            # Refresh tokens cross the same way, in both directions.
            pair = post(behind, "/api/auth/refresh", refreshToken=pair["refreshToken"]).json()["data"]
            assert post(ahead, "/api/auth/verify", pair["token"]).json()["msg"] == "Token有效"
            pair = post(ahead, "/api/auth/refresh", refreshToken=pair["refreshToken"]).json()["data"]
            assert post(behind, "/api/auth/verify", pair["token"]).json()["msg"] == "Token有效"
