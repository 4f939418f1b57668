"""Rate limits: login and refresh per client IP, writes per user, anonymous evaluations and the rest per IP; 429 with Retry-After."""
import logging
import secrets
import time
import uuid

import jwt as pyjwt
import pytest
import redis
import requests

from aiteni import create_app
from tests.helpers.servers import waitress_process
from tests.helpers.tcp_proxy import TcpProxy

TOO_MANY = {"code": 429, "msg": "请求过于频繁，请稍后再试"}
REDIS_DB = 8
RECORD = {
    "answers": {"Q1": "Q1_A3"},
    "result": {"total_level": 3.6, "rounded_level": 3.5, "level_label": "中级", "dimension_scores": {"forehand": 3.5}},
}


@pytest.fixture
def make_app(make_app):
    """conftest's make_app with rate limits on (TestingConfig has them off)."""
    return lambda **settings: make_app(**{"RATELIMIT_ENABLED": True, **settings})


def login(client, code, ip="127.0.0.1"):
    return client.post(
        "/api/auth/login",
        json={"code": code, "nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/a.png"},
        environ_base={"REMOTE_ADDR": ip},
    )


def bearer(response):
    return {"Authorization": "Bearer " + response.get_json()["data"]["token"]}


def assert_too_many(response):
    assert response.status_code == 429
    assert response.get_json() == TOO_MANY
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_login_allows_30_a_minute_per_ip_and_spares_wechat_after(make_app, fake_wechat):
    client = make_app().test_client()
    for n in range(30):
        assert login(client, f"code{n}").status_code == 200
    assert_too_many(login(client, "one-more"))
    assert len(fake_wechat.calls) == 30  # the refused login never reached WeChat (its quota, errcode 45011)
    assert login(client, "from-another-phone", ip="10.1.2.3").status_code == 200


def test_refresh_allows_30_a_minute_per_ip_even_for_bad_tokens(make_app):
    client = make_app().test_client()
    for _ in range(30):
        assert client.post("/api/auth/refresh", json={"refreshToken": "rt_guess"}).status_code == 401
    assert_too_many(client.post("/api/auth/refresh", json={"refreshToken": "rt_guess"}))
    other = client.post("/api/auth/refresh", json={"refreshToken": "rt_guess"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 401


def test_writes_share_60_a_minute_per_user_not_per_ip(make_app):
    client = make_app().test_client()
    alice, bob = bearer(login(client, "alice")), bearer(login(client, "bob"))
    first = client.post("/api/evaluation/save", json=RECORD, headers=alice).get_json()["data"]["record_id"]
    for _ in range(57):
        assert client.post("/api/evaluation/save", json=RECORD, headers=alice).status_code == 200
    assert client.post("/api/user/update", json={"realName": "爱丽丝"}, headers=alice).status_code == 200
    assert client.delete(f"/api/evaluation/delete/{first}", headers=alice).status_code == 200

    assert_too_many(client.post("/api/evaluation/save", json=RECORD, headers=alice))
    assert_too_many(client.post("/api/auth/logout", headers=alice))
    # Reads are another budget; bob, behind the same IP, has his own writes.
    assert client.get("/api/evaluation/history", headers=alice).get_json()["data"]["total"] == 57
    assert client.post("/api/evaluation/save", json=RECORD, headers=bob).status_code == 200


def test_write_budget_of_a_forged_token_is_its_senders_ip(make_app):
    app = make_app(RATELIMIT_WRITE="2 per minute")
    client = app.test_client()
    alice = bearer(login(client, "alice"))
    header, claims, _signature = alice["Authorization"].removeprefix("Bearer ").split(".")
    forged = {"Authorization": f"Bearer {header}.{claims}.AAAA"}
    for _ in range(2):
        assert client.post("/api/evaluation/save", json=RECORD, headers=forged).status_code == 401
    assert_too_many(client.post("/api/evaluation/save", json=RECORD, headers=forged))
    assert client.post("/api/evaluation/save", json=RECORD, headers=alice).status_code == 200


def test_write_budget_of_a_token_just_past_its_exp_is_its_senders_ip(make_app):
    """Within the clock-skew leeway PyJWT would still take it (tokens.CLOCK_SKEW_SECONDS is for iat and nbf)."""
    app = make_app(RATELIMIT_WRITE="1 per minute")
    client = app.test_client()
    alice = bearer(login(client, "alice"))
    claims = pyjwt.decode(alice["Authorization"].removeprefix("Bearer "), options={"verify_signature": False})
    expired = pyjwt.encode({**claims, "exp": int(time.time())}, app.config["JWT_SECRET"], algorithm="HS256")
    assert client.post("/api/evaluation/save", json=RECORD, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    assert client.post("/api/evaluation/save", json=RECORD, headers=alice).status_code == 200


def test_everything_else_allows_600_a_minute_per_ip(make_app):
    client = make_app().test_client()
    for _ in range(600):
        assert client.get("/api/version").status_code == 200
    assert_too_many(client.get("/api/version"))
    assert client.get("/api/version", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200
    assert_too_many(client.get("/api/health"))  # one budget for every other endpoint


def test_retry_after_says_when_the_window_ends_and_only_on_429(make_app):
    client = make_app(RATELIMIT_DEFAULT="1 per 5 seconds").test_client()
    allowed = client.get("/api/version")
    assert allowed.status_code == 200 and "Retry-After" not in allowed.headers
    refused = client.get("/api/version")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 5
    time.sleep(int(refused.headers["Retry-After"]))
    assert client.get("/api/version").status_code == 200


ANSWERS = {"answers": {"Q1": "Q1_A3", "Q3": "Q3_A2"}}


def test_anonymous_evaluations_count_per_ip(make_app):
    client = make_app(RATELIMIT_EVALUATION="2 per minute").test_client()
    assert client.post("/api/evaluation/basic", json=ANSWERS).status_code == 200
    assert client.post("/api/evaluation/full", json=ANSWERS).status_code == 200
    assert_too_many(client.post("/api/evaluation/basic", json=ANSWERS))
    # A stale token is anonymous here as everywhere in the evaluation: it spends the IP's budget too.
    assert_too_many(client.post("/api/evaluation/basic", json=ANSWERS, headers={"Authorization": "Bearer x.y.z"}))
    other = client.post("/api/evaluation/basic", json=ANSWERS, environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert other.status_code == 200


def test_signed_in_evaluations_spend_the_users_write_budget(make_app):
    client = make_app(RATELIMIT_WRITE="2 per minute", RATELIMIT_EVALUATION="1 per minute").test_client()
    alice, bob = bearer(login(client, "alice")), bearer(login(client, "bob"))
    assert client.post("/api/evaluation/basic", json=ANSWERS, headers=alice).get_json()["data"]["saved_to_cloud"]
    assert client.post("/api/evaluation/full", json=ANSWERS, headers=alice).status_code == 200
    assert_too_many(client.post("/api/evaluation/save", json=RECORD, headers=alice))
    assert_too_many(client.post("/api/evaluation/basic", json=ANSWERS, headers=alice))
    # Bob, behind the same IP, has his own budget; the anonymous one of that IP is untouched.
    assert client.post("/api/evaluation/basic", json=ANSWERS, headers=bob).status_code == 200
    assert client.post("/api/evaluation/basic", json=ANSWERS).status_code == 200


def test_requests_inside_one_app_context_are_each_keyed_by_their_own_caller(make_app):
    """A script or test that pushes one app context around several requests shares `g` among them:
    the key must still be each request's own, or Alice's budget would pay for anonymous requests."""
    app = make_app(RATELIMIT_WRITE="1 per minute", RATELIMIT_EVALUATION="5 per minute")
    client = app.test_client()
    alice = bearer(login(client, "alice"))
    with app.app_context():
        assert client.post("/api/evaluation/basic", json=ANSWERS, headers=alice).status_code == 200
        assert client.post("/api/evaluation/basic", json=ANSWERS).status_code == 200
        assert_too_many(client.post("/api/evaluation/basic", json=ANSWERS, headers=alice))


def test_every_number_comes_from_the_settings(make_app):
    client = make_app(
        RATELIMIT_LOGIN="2 per minute", RATELIMIT_REFRESH="1 per minute",
        RATELIMIT_WRITE="1 per minute", RATELIMIT_DEFAULT="3 per minute",
    ).test_client()
    alice = bearer(login(client, "alice"))
    assert login(client, "bob").status_code == 200
    assert_too_many(login(client, "carol"))
    assert client.post("/api/auth/refresh", json={"refreshToken": "rt_x"}).status_code == 401
    assert_too_many(client.post("/api/auth/refresh", json={"refreshToken": "rt_x"}))
    assert client.post("/api/evaluation/save", json=RECORD, headers=alice).status_code == 200
    assert_too_many(client.post("/api/user/update", json={"realName": "A"}, headers=alice))
    for _ in range(3):
        assert client.get("/api/evaluation/history", headers=alice).status_code == 200
    assert_too_many(client.get("/api/evaluation/history", headers=alice))


def test_switched_off_nothing_is_limited(make_app):
    client = make_app(RATELIMIT_ENABLED=False, RATELIMIT_LOGIN="1 per minute").test_client()
    for n in range(5):
        response = login(client, f"code{n}")
        assert response.status_code == 200 and "Retry-After" not in response.headers


def test_production_warns_at_start_when_limits_are_off(tmp_path, caplog):
    settings = {
        "ENV_NAME": "production",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "WECHAT_APPID": "wx-prod",
        "WECHAT_APPSECRET": "s" * 32,
        "LOG_DIR": str(tmp_path / "logs"),
    }
    with caplog.at_level(logging.WARNING):
        create_app({**settings, "RATELIMIT_ENABLED": True})
    assert "rate limits are off" not in caplog.text
    create_app({**settings, "RATELIMIT_ENABLED": False})
    info_log = next((tmp_path / "logs").glob("info-*.log")).read_text(encoding="utf-8")
    assert "WARNING" in info_log and "rate limits are off (RATELIMIT_ENABLED=0)" in info_log


@pytest.fixture
def redis_prefix():
    """A key prefix of our own in Redis DB 8, removed afterwards."""
    prefix = f"aiteni-test-{uuid.uuid4().hex}"
    yield prefix
    store = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    for key in store.scan_iter(f"*{prefix}*"):
        store.delete(key)
    store.close()


@pytest.mark.services
def test_two_server_processes_share_one_budget_through_redis(redis_prefix):
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "RATELIMIT_KEY_PREFIX": redis_prefix,
        "RATELIMIT_DEFAULT": "4 per minute",
    }
    with waitress_process(settings) as first, waitress_process(settings) as second:
        statuses = [requests.get(f"{server}/api/version", timeout=5).status_code for server in (first, second) * 2]
        assert statuses == [200, 200, 200, 200]
        for server in (first, second):
            refused = requests.get(f"{server}/api/version", timeout=5)
            assert refused.status_code == 429 and refused.json() == TOO_MANY
            assert "Retry-After" in refused.headers


@pytest.mark.services
def test_redis_going_away_fails_open_and_is_logged_once(make_app, redis_prefix, tmp_path):
    proxy = TcpProxy("127.0.0.1", 6379).start()
    client = make_app(
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}",
        RATELIMIT_KEY_PREFIX=redis_prefix,
        RATELIMIT_DEFAULT="5 per minute",
    ).test_client()
    store = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    try:
        for _ in range(2):
            assert client.get("/api/version").status_code == 200
        assert any(store.scan_iter(f"*{redis_prefix}*"))  # counted in Redis while it is there

        proxy.cut()
        statuses = [client.get("/api/version").status_code for _ in range(8)]
        # Still served, and still limited: the limiter counts in memory while Redis is away.
        assert statuses == [200] * 5 + [429] * 3

        proxy.restore()
        # Back on Redis (it rechecks with a backoff of 1, 2, 4... s), where only 2 requests are counted.
        deadline = time.monotonic() + 10
        while client.get("/api/version").status_code == 429:
            assert time.monotonic() < deadline, "the limiter never went back to Redis"
            time.sleep(0.2)
    finally:
        proxy.close()
        store.close()
    logs = tmp_path / "logs"
    error_log = next(logs.glob("error-*.log")).read_text(encoding="utf-8")
    assert error_log.count("ERROR [flask-limiter] Rate limit storage unreachable") == 1, error_log
    assert "Rate limit storage recovered" in next(logs.glob("info-*.log")).read_text(encoding="utf-8")
