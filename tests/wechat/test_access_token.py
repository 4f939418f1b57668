"""The access token of WeChat's server-side calls: one for every process, renewed by one caller, forced at most
every 30 s, its errcodes mapped, and never in a response or a log line.

Several apps on one database stand in for several processes (each has its own WeChat client, token
copy and locks); tests/wechat/test_processes.py does the same with real server processes.
"""
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aiteni import wechat
from aiteni.models import WeChatAccessToken, utcnow
from tests.helpers.clients import at_once

BUSY = {"code": 503, "msg": "微信服务繁忙，请稍后再试"}
UNAVAILABLE = {"code": 502, "msg": "微信服务暂不可用，请稍后再试"}
MISCONFIGURED = {"code": 400, "msg": "小程序配置错误，请联系管理员"}


def share(client, record=7):
    return client.post("/api/generate_qrcode", json={"path": f"pages/result/result?resultId={record}", "width": 200})


TOKENS = WeChatAccessToken.__table__


def token_row(database_url):
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(sa.select(TOKENS)).mappings().first()
    engine.dispose()
    return row


def change_token_row(database_url, **values):
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(TOKENS.update().values(**values))
    engine.dispose()


def test_the_token_comes_from_stable_token_by_post(client, fake_wechat, database_url):
    assert share(client).status_code == 200
    assert fake_wechat.token_calls == [
        {"grant_type": "client_credential", "appid": "wx-test-appid", "force_refresh": False}
    ]
    [token] = fake_wechat.issued
    assert fake_wechat.used == [token]
    row = token_row(database_url)
    assert row["token"] == token and row["renewing_until"] is None
    assert timedelta(seconds=7190) < row["expires_at"] - utcnow() <= timedelta(seconds=7200)


def test_a_fresh_token_is_used_from_the_process_copy_without_the_database(client, fake_wechat, database_url):
    assert share(client, 1).status_code == 200
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(TOKENS.delete())
    engine.dispose()
    assert share(client, 2).status_code == 200
    assert len(fake_wechat.issued) == 1 and len(fake_wechat.used) == 2
    assert token_row(database_url) is None  # the second call never looked


def test_ten_processes_starting_at_once_make_one_token_call(make_app, fake_wechat):
    fake_wechat.delays["stable_token"] = 0.3  # the renewal takes a while, as over a real network
    clients = [make_app().test_client() for _ in range(10)]
    answers = at_once([lambda c=c, n=n: share(c, n + 1).status_code for n, c in enumerate(clients)])
    assert answers == [200] * 10
    assert len(fake_wechat.token_calls) == 1
    assert set(fake_wechat.used) == set(fake_wechat.issued) and len(fake_wechat.issued) == 1


@pytest.mark.parametrize("callers", ["processes", "threads of one process"])
def test_a_token_near_its_end_is_renewed_by_one_caller_while_the_others_use_it(
        make_app, fake_wechat, database_url, callers):
    first = make_app().test_client()
    assert share(first, 1).status_code == 200
    [old] = fake_wechat.issued
    change_token_row(database_url, expires_at=utcnow() + timedelta(minutes=4))
    fake_wechat.tokens[old] -= 7200 - 240  # WeChat's view: 4 minutes left, so it hands out a new one
    fake_wechat.delays["stable_token"] = 0.3
    if callers == "processes":
        clients = [make_app().test_client() for _ in range(4)]
    else:
        first.application.extensions["wechat"].token.copy = None  # as if it had started with the others
        clients = [first] * 4
    answers = at_once([lambda c=c, n=n: share(c, n + 10).status_code for n, c in enumerate(clients)])
    assert answers == [200] * 4
    assert len(fake_wechat.token_calls) == 2 and fake_wechat.forced == []
    [_, new] = fake_wechat.issued
    assert fake_wechat.used.count(new) >= 1 and fake_wechat.used.count(old) >= 2  # the others went on with the old
    assert token_row(database_url)["token"] == new


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_a_refused_token_is_renewed_by_force_once_and_the_call_made_again(client, fake_wechat, errcode):
    assert share(client, 1).status_code == 200
    fake_wechat.expire_tokens(errcode)
    response = share(client, 2)
    assert response.status_code == 200 and response.data == fake_wechat.image
    assert [call["force_refresh"] for call in fake_wechat.token_calls] == [False, True]
    [old, new] = fake_wechat.issued
    assert fake_wechat.used == [old, old, new]


def test_a_token_refused_again_after_the_forced_renewal_is_502_not_a_loop(client, fake_wechat):
    assert share(client, 1).status_code == 200
    fake_wechat.expire_tokens()
    fake_wechat.queue("getwxacodeunlimit", {"errcode": 40001, "errmsg": "a"}, {"errcode": 40001, "errmsg": "b"})
    assert share(client, 2).get_json() == UNAVAILABLE
    assert len(fake_wechat.forced) == 1 and len(fake_wechat.used) == 3


def test_force_refresh_never_twice_within_30_seconds_whatever_the_processes(make_app, fake_wechat, database_url):
    a, b = make_app().test_client(), make_app().test_client()
    assert share(a, 1).status_code == 200
    fake_wechat.expire_tokens()
    assert share(a, 2).status_code == 200  # forced once
    fake_wechat.expire_tokens()
    assert share(b, 3).get_json() == BUSY  # refused again within 30 s: no second force
    assert share(a, 4).get_json() == BUSY
    assert len(fake_wechat.forced) == 1
    change_token_row(database_url, forced_at=token_row(database_url)["forced_at"] - timedelta(seconds=31))
    assert share(b, 5).status_code == 200  # 30 s later, one more
    assert share(a, 6).status_code == 200  # and the other process takes the new token from the database
    assert len(fake_wechat.forced) == 2 and len(fake_wechat.issued) == 3


def test_processes_refused_at_once_force_one_renewal(make_app, fake_wechat):
    clients = [make_app().test_client() for _ in range(4)]
    assert [share(c, n + 1).status_code for n, c in enumerate(clients)] == [200] * 4
    fake_wechat.expire_tokens()
    fake_wechat.delays["stable_token"] = 0.3
    answers = at_once([lambda c=c, n=n: share(c, n + 10).status_code for n, c in enumerate(clients)])
    assert answers == [200] * 4
    assert len(fake_wechat.forced) == 1 and len(fake_wechat.issued) == 2


@pytest.mark.parametrize(
    "answer, expected",
    [
        ({"errcode": 40013, "errmsg": "invalid appid"}, MISCONFIGURED),
        ({"errcode": 40125, "errmsg": "invalid appsecret"}, MISCONFIGURED),
        ({"errcode": 40164, "errmsg": "invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist"},
         MISCONFIGURED),
        ({"errcode": 45009, "errmsg": "reach max api daily quota limit"}, BUSY),
        ({"errcode": 45011, "errmsg": "api minute-quota reach limit"}, BUSY),
        ({"errcode": 40002, "errmsg": "invalid grant_type"}, UNAVAILABLE),
        ({"access_token": "", "expires_in": 7200}, UNAVAILABLE),
        ({"access_token": "t", "expires_in": "7200"}, UNAVAILABLE),
        (b"<html>gateway</html>", UNAVAILABLE),
    ],
)
def test_stable_token_errcodes(client, fake_wechat, answer, expected):
    fake_wechat.queue("stable_token", answer)
    assert share(client).get_json() == expected
    assert len(fake_wechat.token_calls) == 1 and fake_wechat.used == []
    assert share(client).status_code == 200  # nothing was kept of the failure


def test_stable_token_busy_is_tried_again_within_the_deadline(client, fake_wechat):
    fake_wechat.queue("stable_token", {"errcode": -1, "errmsg": "system error"})
    assert share(client).status_code == 200
    assert len(fake_wechat.token_calls) == 2


def test_quota_errcodes_are_not_tried_again(client, fake_wechat):
    fake_wechat.queue("stable_token", {"errcode": 45009, "errmsg": "quota"})
    assert share(client).get_json() == BUSY
    assert len(fake_wechat.token_calls) == 1


def error_log(tmp_path):
    return "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "logs").glob("error-*.log"))


def test_a_server_off_the_ip_whitelist_says_so_in_the_error_log(client, fake_wechat, tmp_path):
    fake_wechat.queue("stable_token", {"errcode": 40164, "errmsg": "invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, "
                                                                  "not in whitelist, rid: 6582-40164"})
    assert share(client).get_json() == MISCONFIGURED
    [line] = error_log(tmp_path).splitlines()
    assert "errcode 40164 rid=6582-40164" in line
    assert "not on the mini-program's IP whitelist" in line and "203.0.113.9" in line
    assert "开发管理 → 开发设置 → IP白名单" in line


def test_bad_credentials_say_which_in_the_error_log(client, fake_wechat, tmp_path):
    fake_wechat.queue("stable_token", {"errcode": 40125, "errmsg": "invalid appsecret, rid: 1-2"})
    assert share(client).get_json() == MISCONFIGURED
    assert "WECHAT_APPSECRET is not the AppSecret of WECHAT_APPID" in error_log(tmp_path)


def secrets_in_logs(log_dir, secrets):
    text = "".join(path.read_text(encoding="utf-8") for path in Path(log_dir).glob("*.log"))
    return [secret for secret in secrets if secret in text]


def test_no_token_or_secret_in_any_response_or_log_line(make_app, fake_wechat, tmp_path, auth):
    """At DEBUG, urllib3 logs every URL, and a refused connection's exception text names it too."""
    app = make_app(LOG_LEVEL="DEBUG")
    client = app.test_client()
    headers = {"Authorization": "Bearer " + client.post("/api/auth/login", json={
        "code": "a", "nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}).get_json()["data"]["token"]}
    responses = [share(client, 1), client.post("/api/user/phone", json={"code": "p"}, headers=headers)]
    fake_wechat.expire_tokens()
    responses.append(share(client, 2))  # refused, forced, retried
    fake_wechat.queue("getwxacodeunlimit", {"errcode": 40125, "errmsg": "x"})
    responses.append(share(client, 3))
    app.config["WECHAT_API_BASE"] = "http://127.0.0.1:9"  # nothing listens: requests names the URL it tried
    wechat.init_app(app)
    responses += [share(client, 4), client.post("/api/user/phone", json={"code": "p"}, headers=headers)]
    assert [r.status_code for r in responses] == [200, 200, 200, 400, 502, 502]
    secrets = [*fake_wechat.issued, fake_wechat.SECRET]
    assert len(fake_wechat.issued) == 2
    assert secrets_in_logs(tmp_path / "logs", secrets) == []
    assert not any(secret.encode() in r.data for r in responses for secret in secrets)
    debug_log = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "logs").glob("info-*.log"))
    assert "access_token=***" in debug_log  # urllib3's lines were there, masked


def test_no_token_or_secret_in_an_exceptions_text(app, fake_wechat):
    """requests names the URL it failed to reach, access_token and all, in its exception."""
    client = app.test_client()
    assert share(client).status_code == 200
    app.config["WECHAT_API_BASE"] = "http://127.0.0.1:9"
    wechat.init_app(app)
    code = wechat.CodeRequest("pages/welcome/welcome", "from=share", 430, "pages/welcome/welcome")
    with app.app_context(), pytest.raises(wechat.Unavailable) as failed:
        app.extensions["wechat"].share_code(code, "trial", False, time.monotonic() + 2)
    text = f"{failed.value} {failed.value.cause}"
    assert "access_token=***" in text
    assert fake_wechat.issued[0] not in text and fake_wechat.SECRET not in text


def test_the_lease_of_a_renewal_that_died_lapses(client, fake_wechat, database_url):
    """A process killed while renewing leaves its lease: the next caller after it renews."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(TOKENS.insert().values(appid=fake_wechat.APPID,
                                                  renewing_until=utcnow() + timedelta(seconds=0.5)))
    engine.dispose()
    assert share(client).status_code == 200
    assert len(fake_wechat.token_calls) == 1
