"""A client's double refresh, over a real server: the loser gets 401, the winner stays signed in."""
import threading
import time

import pytest
import requests

from aiteni.auth.sessions import REFRESH_RACE_SECONDS
from aiteni.auth.tokens import CLOCK_SKEW_SECONDS
from tests.helpers.servers import waitress_process

REVOKED = {"code": 401, "msg": "登录已失效，请重新登录"}
PROFILE = {"nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}
TRIALS = 100


def post(base, path, token=None, **body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(base + path, json=body, headers=headers, timeout=15)


def double_refresh(base, refresh_token):
    """Two refreshes with one token, released together; their answers."""
    gate, answers = threading.Barrier(2), []

    def attempt():
        gate.wait()
        answers.append(post(base, "/api/auth/refresh", refreshToken=refresh_token))

    racers = [threading.Thread(target=attempt) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    return answers


@pytest.mark.slow
def test_a_double_refresh_never_logs_the_user_out(each_database, fake_wechat, tmp_path):
    settings = {"SQLALCHEMY_DATABASE_URI": each_database, "WECHAT_API_BASE": fake_wechat.base_url,
                "LOG_DIR": str(tmp_path / "logs")}
    logged_out, first = [], None
    with waitress_process(settings) as base:
        for trial in range(TRIALS):
            login = post(base, "/api/auth/login", code=f"double-{trial}", **PROFILE).json()["data"]
            answers = double_refresh(base, login["refreshToken"])
            used_at = time.monotonic()
            assert sorted(a.status_code for a in answers) == [200, 401]
            winner = next(a.json()["data"] for a in answers if a.status_code == 200)
            assert next(a.json() for a in answers if a.status_code == 401) == REVOKED
            verified = post(base, "/api/auth/verify", winner["token"])
            renewed = post(base, "/api/auth/refresh", refreshToken=winner["refreshToken"])
            if (verified.status_code, renewed.status_code) != (200, 200):
                logged_out.append(trial)
            elif first is None:
                first = used_at, login["refreshToken"], renewed.json()["data"]["token"]

        assert logged_out == [], f"{len(logged_out)} of {TRIALS} double refreshes revoked the winner's tokens"

        # The same replay once the race window is over is a stolen copy: the whole session ends.
        used_at, replayed, latest = first
        time.sleep(max(0.0, used_at + REFRESH_RACE_SECONDS + CLOCK_SKEW_SECONDS + 0.5 - time.monotonic()))
        assert post(base, "/api/auth/refresh", refreshToken=replayed).json() == REVOKED
        assert post(base, "/api/auth/verify", latest).json() == REVOKED
