"""POST /api/auth/login against a real HTTP fake of WeChat's jscode2session."""
import threading
import time

import pytest
import sqlalchemy as sa
from werkzeug import Response

from aiteni import wechat
from aiteni.extensions import db
from aiteni.models import LoginSession, User
from tests.helpers.clients import record_body

PROFILE = {"nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}


def rewire_wechat(app, **settings):
    """The WeChat client is chosen and built when the app starts: change its settings, then build it again."""
    app.config.update(settings)
    wechat.init_app(app)


def login(client, code="abc", **fields):
    return client.post("/api/auth/login", json={"code": code, **PROFILE, **fields})


def users(app):
    with app.app_context():
        return db.session.scalars(sa.select(User).order_by(User.id)).all()


def test_first_login_creates_the_user_and_returns_tokens(app, client, fake_wechat):
    response = login(client, "c1")
    body = response.get_json()
    assert response.status_code == 200 and body["msg"] == "登录成功"
    data = body["data"]
    assert data["token"].count(".") == 2 and data["refreshToken"]
    assert data["expiresIn"] == 7 * 24 * 3600
    assert data["userInfo"]["nickName"] == "张三"
    assert data["userInfo"]["avatarUrl"] == PROFILE["avatarUrl"]
    [user] = users(app)
    assert data["userInfo"]["id"] == user.id
    assert user.wechat_openid == "o_c1" and user.session_key == "SKc1sessionkey=="
    assert user.username.startswith("wx_") and len(user.username) >= 11
    assert user.last_login_at is not None


def test_what_is_sent_to_wechat(client, fake_wechat):
    login(client, "the-code")
    assert fake_wechat.calls == [
        {
            "appid": "wx-test-appid",
            "secret": "test-app-secret-0123456789abcdef",
            "js_code": "the-code",
            "grant_type": "authorization_code",
        }
    ]


def test_later_login_updates_profile_and_keeps_the_user(app, client, fake_wechat):
    first = login(client, "same").get_json()["data"]
    fake_wechat.reply({"openid": "o_same", "session_key": "newkey", "unionid": "u-1"})
    second = login(client, "same", nickName="李四", avatarUrl="wxfile://tmp_abc.jpg").get_json()["data"]
    assert first["userInfo"]["id"] == second["userInfo"]["id"]
    [user] = users(app)
    assert (user.wechat_nickname, user.wechat_avatar) == ("李四", "wxfile://tmp_abc.jpg")
    assert user.session_key == "newkey" and user.wechat_unionid == "u-1"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 2


def test_different_openids_are_different_users_with_unique_usernames(app, client):
    for code in ("a", "b", "c"):
        assert login(client, code).status_code == 200
    found = users(app)
    assert len({u.username for u in found}) == 3
    assert len({u.wechat_openid for u in found}) == 3


@pytest.mark.parametrize(
    "avatar",
    ["wxfile://tmp_a1b2c3.jpg", "http://tmp/abc.png", "https://mmbiz.qpic.cn/mmbiz/xyz/0"],
)
def test_every_avatar_form_the_client_sends_is_stored_as_given(app, client, avatar):
    assert login(client, avatarUrl=avatar).status_code == 200
    assert users(app)[0].wechat_avatar == avatar


def test_emoji_nickname_round_trips(client, auth):
    headers = auth.headers(nickname="网球🎾小王")
    assert client.get("/api/user/info", headers=headers).get_json()["data"]["nickName"] == "网球🎾小王"


@pytest.mark.parametrize(
    "body, msg",
    [
        ({**PROFILE}, "缺少登录凭证code"),
        ({"code": "", **PROFILE}, "缺少登录凭证code"),
        ({"code": "   ", **PROFILE}, "缺少登录凭证code"),
        ({"code": 123, **PROFILE}, "缺少登录凭证code"),
        ({"code": "x" * 129, **PROFILE}, "code无效，请重新登录"),
        ({"code": "a", "nickName": "张三"}, "请完善头像和昵称"),
        ({"code": "a", "avatarUrl": PROFILE["avatarUrl"]}, "请完善头像和昵称"),
        ({"code": "a", "nickName": "  ", "avatarUrl": PROFILE["avatarUrl"]}, "请完善头像和昵称"),
        ({"code": "a", "nickName": "x" * 65, "avatarUrl": PROFILE["avatarUrl"]}, "头像或昵称格式不正确"),
        ({"code": "a", "nickName": "张三", "avatarUrl": "https://x/" + "a" * 510}, "头像或昵称格式不正确"),
        ({"code": "a", "nickName": "张三", "avatarUrl": "ftp://x/a.png"}, "头像或昵称格式不正确"),
        ({"code": "a", "nickName": "张三", "avatarUrl": "javascript:alert(1)"}, "头像或昵称格式不正确"),
        ({"code": "a", "nickName": ["张三"], "avatarUrl": PROFILE["avatarUrl"]}, "头像或昵称格式不正确"),
    ],
)
def test_bad_login_input_is_rejected_before_wechat(app, client, fake_wechat, body, msg):
    response = client.post("/api/auth/login", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"code": 400, "msg": msg}
    assert fake_wechat.calls == [] and users(app) == []


@pytest.mark.parametrize(
    "errcode, status, msg",
    [
        (40029, 400, "code无效，请重新登录"),
        (40163, 400, "code无效，请重新登录"),
        (45011, 400, "登录频率限制，请稍后再试"),
        (40013, 400, "小程序配置错误，请联系管理员"),
        (40125, 400, "小程序配置错误，请联系管理员"),
        (40226, 403, "该微信账号存在安全风险，暂时无法登录"),
        (99999, 502, "微信服务暂不可用，请稍后再试"),
    ],
)
def test_wechat_errcodes_are_mapped_and_never_retried(app, client, fake_wechat, errcode, status, msg):
    fake_wechat.reply({"errcode": errcode, "errmsg": f"oops, rid: 6582-{errcode}"})
    response = login(client)
    assert response.status_code == status
    assert response.get_json() == {"code": status, "msg": msg}
    assert len(fake_wechat.calls) == 1
    assert users(app) == []


def test_missing_credentials_are_a_configuration_error(app, client, fake_wechat):
    app.extensions["wechat"].secret = ""
    response = login(client)
    assert response.get_json() == {"code": 400, "msg": "小程序配置错误，请联系管理员"}
    assert fake_wechat.calls == []


def test_busy_once_then_success_is_retried(client, fake_wechat):
    fake_wechat.reply({"errcode": -1, "errmsg": "system error"})
    assert login(client, "busy").status_code == 200
    assert len(fake_wechat.calls) == 2


def test_busy_always_is_503_after_two_retries(app, client, fake_wechat):
    fake_wechat.reply(*[{"errcode": -1, "errmsg": "system error"}] * 5)
    started = time.monotonic()
    response = login(client)
    assert response.status_code == 503
    assert response.get_json() == {"code": 503, "msg": "微信服务繁忙，请稍后再试"}
    assert len(fake_wechat.calls) == 3
    assert time.monotonic() - started < 10
    assert users(app) == []


def slow(request):
    time.sleep(1.5)
    return Response('{"openid": "late", "session_key": "k"}')


@pytest.mark.parametrize(
    "answer",
    [
        lambda request: Response("upstream broke", status=500),
        lambda request: Response("<html>not json</html>", content_type="text/html"),
        lambda request: Response("[1, 2]"),
        lambda request: Response('{"session_key": "k"}'),
        lambda request: Response('{"errcode": [40029], "errmsg": 5}'),
        slow,
    ],
    ids=["http-500", "garbage", "not-an-object", "no-openid", "odd-errcode", "slower-than-timeout"],
)
def test_unusable_wechat_answers_are_502(app, client, fake_wechat, answer):
    app.extensions["wechat"].timeout = 0.5
    fake_wechat.reply(answer)
    response = login(client)
    assert response.status_code == 502
    assert response.get_json() == {"code": 502, "msg": "微信服务暂不可用，请稍后再试"}
    assert users(app) == []


def test_unreachable_wechat_is_502_and_the_secret_is_not_logged(app, client, tmp_path):
    rewire_wechat(app, WECHAT_API_BASE="http://127.0.0.1:9")
    response = login(client)
    assert response.status_code == 502
    logs = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("*.log"))
    assert "ConnectionError" in logs
    assert app.config["WECHAT_APPSECRET"] not in logs


def test_session_key_and_app_secret_never_leave_the_server(app, client, fake_wechat, tmp_path):
    bodies = [login(client, code).get_data(as_text=True) for code in ("ok1", "ok2", "ok1")]
    fake_wechat.reply({"errcode": 40029, "errmsg": "invalid code, rid: 1-2-3"})
    bodies.append(login(client, "bad").get_data(as_text=True))
    token = login(client, "ok3").get_json()["data"]["token"]
    bodies.append(client.get("/api/user/info", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True))
    logs = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("*.log"))
    for secret in ("sessionkey==", app.config["WECHAT_APPSECRET"]):
        assert not any(secret in body for body in bodies)
        assert secret not in logs
    assert "session_key" not in "".join(bodies)
    assert token not in logs
    # what is logged instead: WeChat's request id and a masked openid
    assert "rid=1-2-3" in logs and "openid=o_ok***k1" in logs and "o_ok1" not in logs


def test_concurrent_first_logins_make_one_user(app):
    """A double tap on two devices: 20 simultaneous first logins of one openid."""
    rewire_wechat(app, WECHAT_CONCURRENCY=20)  # all 20 reach the database at once
    barrier = threading.Barrier(20)
    statuses = []

    def one_login():
        client = app.test_client()
        barrier.wait()
        statuses.append(login(client, "double-tap").status_code)

    threads = [threading.Thread(target=one_login) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20
    assert len(users(app)) == 1


def test_dev_login_needs_no_wechat(app, client, fake_wechat):
    rewire_wechat(app, WECHAT_DEV_LOGIN=True)
    first = login(client, "developer").get_json()["data"]
    again = login(client, "developer").get_json()["data"]
    other = login(client, "someone-else").get_json()["data"]
    assert first["userInfo"]["id"] == again["userInfo"]["id"] != other["userInfo"]["id"]
    assert fake_wechat.calls == []


def test_wechat_is_reached_through_wechat_proxy(app, client, fake_wechat):
    """With WECHAT_PROXY set, the call goes to the proxy (here the fake, acting as one)."""
    rewire_wechat(app, WECHAT_API_BASE="http://wechat.invalid", WECHAT_PROXY=fake_wechat.base_url)
    assert login(client, "via-proxy").status_code == 200
    assert fake_wechat.calls[0]["js_code"] == "via-proxy"


def test_a_login_that_fails_mid_transaction_lets_the_next_writes_in(app, client, auth, monkeypatch):
    """On SQLite, logins and saves queue on one write lock: a failed one must not keep it."""
    from aiteni.auth import users

    headers = auth.headers()
    statuses = []

    def writes():
        monkeypatch.setattr(users, "new_username", lambda: "wx_always_the_same")  # forces a unique-key clash
        statuses.append(login(client, "first").status_code)
        statuses.append(login(client, "second").status_code)
        monkeypatch.undo()
        statuses.append(login(client, "third").status_code)
        statuses.append(client.post("/api/evaluation/save", json=record_body(), headers=headers).status_code)

    writer = threading.Thread(target=writes, daemon=True)  # a kept lock hangs it, not the suite
    writer.start()
    writer.join(timeout=10)
    assert statuses == [200, 500, 200, 200]


def test_sql_parameters_never_reach_the_error_log(app, client, fake_wechat, tmp_path, monkeypatch):
    """An unexpected database error during login logs its SQL, but not the session_key bound to it."""
    from aiteni.auth import users

    monkeypatch.setattr(users, "new_username", lambda: "wx_always_the_same")  # forces a unique-key clash
    assert login(client, "first").status_code == 200
    assert login(client, "second").status_code == 500
    error_log = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("error-*.log"))
    assert "IntegrityError" in error_log
    assert "SKsecondsessionkey==" not in error_log and "o_second" not in error_log
