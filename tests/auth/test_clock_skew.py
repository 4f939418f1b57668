"""Two servers whose clocks disagree, as sibling hosts' do: tokens one issues work at the other.

The issuing server runs under libfaketime (Debian package `faketime`), its clock
1.5 s ahead. Marked `faketime`: the quick command leaves it out, .ci/run installs
faketime and runs it; without faketime it fails, rather than skips.
"""
import shutil
import time

import jwt as pyjwt
import pytest
import requests

from tests.helpers.servers import waitress_process

AHEAD_SECONDS = 1.5
PROFILE = {"nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}


def server_ahead(settings, seconds):
    """A tests/helpers/servers.py server whose clock runs `seconds` ahead; a context manager yielding its base URL."""
    if shutil.which("faketime") is None:
        pytest.fail("the `faketime` command is missing: apt-get install -y faketime", pytrace=False)
    return waitress_process(settings, threads=4, prefix=["faketime", "-f", f"+{seconds}s"])


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
