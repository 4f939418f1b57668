"""Refresh rotation, logout, account deletion and the purge command."""
import threading
from datetime import timedelta

import jwt as pyjwt
import pytest
import sqlalchemy as sa

from aiteni.extensions import db
from aiteni.models import EvaluationRecord, LoginSession, RefreshToken, User, utcnow
from aiteni.auth.sessions import REFRESH_RACE_SECONDS
from aiteni.auth.tokens import CLOCK_SKEW_SECONDS, Principal

REVOKED = {"code": 401, "msg": "登录已失效，请重新登录"}
RECORD = {"result": {"total_level": 3.5, "rounded_level": 3.5, "level_label": "中级", "dimension_scores": {"a": 3.5}}}


def refresh(client, token):
    return client.post("/api/auth/refresh", json={"refreshToken": token})


def verify(client, auth, token):
    return client.post("/api/auth/verify", headers=auth.bearer(token))


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_refresh_rotates(client, auth):
    first = auth.login("r1")
    response = refresh(client, first["refreshToken"])
    body = response.get_json()
    assert response.status_code == 200 and body["msg"] == "刷新成功"
    assert set(body["data"]) == {"token", "refreshToken", "expiresIn"}
    assert body["data"]["refreshToken"] != first["refreshToken"]
    assert body["data"]["expiresIn"] == 7 * 24 * 3600
    claims = pyjwt.decode(body["data"]["token"], options={"verify_signature": False})
    assert claims["sid"] == pyjwt.decode(first["token"], options={"verify_signature": False})["sid"]
    assert verify(client, auth, body["data"]["token"]).status_code == 200
    # and the new refresh token works once more
    assert refresh(client, body["data"]["refreshToken"]).status_code == 200


def age_used_refresh_tokens(app, seconds):
    """Moves every use of a refresh token `seconds` into the past, as if that much time had gone by."""
    with app.app_context():
        for stored in db.session.scalars(sa.select(RefreshToken).where(RefreshToken.used_at.is_not(None))):
            stored.used_at -= timedelta(seconds=seconds)
        db.session.commit()


def test_reusing_a_refresh_token_revokes_the_whole_session(app, client, auth):
    first = auth.login("r2")
    second = refresh(client, first["refreshToken"]).get_json()["data"]
    age_used_refresh_tokens(app, REFRESH_RACE_SECONDS + CLOCK_SKEW_SECONDS + 1)
    replay = refresh(client, first["refreshToken"])
    assert replay.status_code == 401 and replay.get_json() == REVOKED
    for token in (first["token"], second["token"]):
        assert verify(client, auth, token).get_json() == REVOKED
    assert refresh(client, second["refreshToken"]).get_json() == REVOKED


def test_a_reuse_within_the_race_window_is_refused_without_revoking(app, client, auth):
    """A client that refreshed twice: the second answer is 401, and the first one's tokens stay valid."""
    first = auth.login("double")
    second = refresh(client, first["refreshToken"]).get_json()["data"]
    age_used_refresh_tokens(app, REFRESH_RACE_SECONDS + CLOCK_SKEW_SECONDS - 1)
    replay = refresh(client, first["refreshToken"])
    assert replay.status_code == 401 and replay.get_json() == REVOKED
    assert verify(client, auth, second["token"]).status_code == 200
    assert refresh(client, second["refreshToken"]).status_code == 200


def test_reuse_in_one_session_leaves_other_sessions_alone(app, client, auth):
    phone = auth.login("two-devices")
    tablet = auth.login("two-devices")
    refresh(client, phone["refreshToken"])
    age_used_refresh_tokens(app, REFRESH_RACE_SECONDS + CLOCK_SKEW_SECONDS + 1)
    refresh(client, phone["refreshToken"])
    assert verify(client, auth, tablet["token"]).status_code == 200


def test_racing_refreshes_exactly_one_wins(app, auth):
    token = auth.login("race")["refreshToken"]
    barrier = threading.Barrier(10)
    results = []

    def attempt():
        client = app.test_client()
        barrier.wait()
        results.append(refresh(client, token).get_json())

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if r["code"] == 200]
    assert len(winners) == 1
    assert all(r == REVOKED for r in results if r["code"] != 200)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(RefreshToken.used_at.is_not(None))) == 1
    # The losers revoked nothing: the winner is still signed in.
    client = app.test_client()
    assert verify(client, auth, winners[0]["data"]["token"]).status_code == 200
    assert refresh(client, winners[0]["data"]["refreshToken"]).status_code == 200


def test_bad_refresh_tokens(client, auth):
    access = auth.login("bad-refresh")["token"]
    for token in ["", "rt_unknown", "x" * 500, None, 42, ["rt_a"], access]:
        response = client.post("/api/auth/refresh", json={"refreshToken": token})
        assert response.status_code == 401 and response.get_json() == REVOKED


def test_refresh_token_is_not_an_access_token(client, auth):
    refresh_token = auth.login("mix")["refreshToken"]
    response = verify(client, auth, refresh_token)
    assert response.get_json() == {"code": 401, "msg": "Token无效"}


def test_refresh_token_expires(app, client, auth):
    data = auth.login("old-refresh")
    with app.app_context():
        db.session.execute(sa.update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert refresh(client, data["refreshToken"]).get_json() == REVOKED


def test_session_absolute_limit(app, client, auth):
    data = auth.login("old-session")
    with app.app_context():
        db.session.execute(sa.update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    app.extensions["aiteni.principals"].forget(user_id=data["userInfo"]["id"])
    assert refresh(client, data["refreshToken"]).get_json() == REVOKED
    assert verify(client, auth, data["token"]).get_json() == REVOKED


def test_logout_ends_only_the_current_session(client, auth):
    phone, tablet = auth.login("lo"), auth.login("lo")
    response = client.post("/api/auth/logout", headers=auth.bearer(phone["token"]))
    assert response.get_json() == {"code": 200, "msg": "已退出登录", "data": {}}
    assert verify(client, auth, phone["token"]).get_json() == REVOKED
    assert refresh(client, phone["refreshToken"]).get_json() == REVOKED
    assert verify(client, auth, tablet["token"]).status_code == 200
    assert refresh(client, tablet["refreshToken"]).status_code == 200


def test_logout_everywhere(client, auth):
    phone, tablet = auth.login("lo-all"), auth.login("lo-all")
    other_user = auth.login("bystander")
    response = client.post("/api/auth/logout", json={"all": True}, headers=auth.bearer(phone["token"]))
    assert response.status_code == 200
    for data in (phone, tablet):
        assert verify(client, auth, data["token"]).get_json() == REVOKED
        assert refresh(client, data["refreshToken"]).get_json() == REVOKED
    assert verify(client, auth, other_user["token"]).status_code == 200


def test_logout_rejects_a_bad_body(client, auth):
    headers = auth.headers("lo-bad")
    for body in ('{"all": "yes"}', "[1]", "nope"):
        response = client.post("/api/auth/logout", data=body, content_type="application/json", headers=headers)
        assert response.get_json() == {"code": 400, "msg": "请求数据格式错误"}
    assert client.post("/api/auth/verify", headers=headers).status_code == 200


def test_delete_account_removes_everything_and_kills_every_token(app, client, auth):
    phone, tablet = auth.login("leaver"), auth.login("leaver")
    stays = auth.login("stayer")
    for data in (phone, stays):
        assert client.post("/api/evaluation/save", json=RECORD, headers=auth.bearer(data["token"])).status_code == 200
    response = client.delete("/api/user", headers=auth.bearer(phone["token"]))
    assert response.get_json() == {"code": 200, "msg": "账号已注销", "data": {}}
    assert (count(app, User), count(app, EvaluationRecord), count(app, LoginSession)) == (1, 1, 1)
    assert count(app, RefreshToken) == 1
    for data in (phone, tablet):
        assert verify(client, auth, data["token"]).get_json() == REVOKED
        assert refresh(client, data["refreshToken"]).get_json() == REVOKED
    assert verify(client, auth, stays["token"]).status_code == 200


def test_deleted_users_tokens_stay_dead_when_the_id_is_reused(app, client, auth):
    """SQLite hands out a deleted max id again; the old token must not become the new user's."""
    old = auth.login("first-owner")
    client.delete("/api/user", headers=auth.bearer(old["token"]))
    new = auth.login("second-owner")
    assert verify(client, auth, old["token"]).get_json() == REVOKED
    assert verify(client, auth, new["token"]).status_code == 200


@pytest.mark.parametrize("sid", ["missing", None], ids=["no sid claim", "sid null"])
def test_a_token_without_a_session_is_refused(app, client, auth, sid):
    """Signed with the server's key but naming no session (issue 21: one read user 1's phone and real name):
    neither logout nor account deletion could end it."""
    claims = pyjwt.decode(auth.login("legacy")["token"], options={"verify_signature": False})
    if sid == "missing":
        del claims["sid"]
    else:
        claims["sid"] = sid
    token = pyjwt.encode(claims, app.config["JWT_SECRET"], algorithm="HS256")
    assert verify(client, auth, token).get_json() == {"code": 401, "msg": "Token无效"}
    info = client.get("/api/user/info", headers=auth.bearer(token))
    assert (info.status_code, info.get_json()) == (401, {"code": 401, "msg": "Token无效"})


def test_purge(app, runner, auth):
    auth.login("live")
    auth.login("expired-long-ago")
    auth.login("revoked-long-ago")
    auth.login("revoked-recently")
    long_ago = utcnow() - timedelta(days=31)
    with app.app_context():
        sessions = {s.user_id: s for s in db.session.scalars(sa.select(LoginSession))}
        by_code = {u.wechat_openid: u.id for u in db.session.scalars(sa.select(User))}
        sessions[by_code["o_expired-long-ago"]].expires_at = long_ago
        sessions[by_code["o_revoked-long-ago"]].revoked_at = long_ago
        sessions[by_code["o_revoked-recently"]].revoked_at = utcnow() - timedelta(days=1)
        db.session.commit()
    result = runner.invoke(args=["sessions", "purge"])
    assert result.exit_code == 0 and "purged 2 sessions" in result.output
    assert count(app, LoginSession) == 2
    assert count(app, RefreshToken) == 2
    assert runner.invoke(args=["sessions", "purge", "--days", "0"]).output.strip() == "purged 1 sessions"


def test_a_session_read_before_a_logout_is_not_cached_after_it(app):
    """A request that read the session just before a logout committed must not revive it in the cache."""
    cache = app.extensions["aiteni.principals"]
    generation = cache.generation  # a request reads the live session here...
    cache.forget(session_id="s1")  # ...the logout commits and forgets...
    principal = Principal(1, "o_x", "n", "a", "s1")
    cache.put("s1", principal, float("inf"), generation)  # ...then the request tries to cache what it read
    assert cache.get("s1", 0) is None
    cache.put("s1", principal, float("inf"), cache.generation)
    assert cache.get("s1", 0) == principal


def test_save_after_the_account_was_deleted_elsewhere_is_401(app, client, auth):
    """Another process deleted the account; this one still trusts its cached session for a moment."""
    headers = auth.headers("gone-elsewhere")
    assert client.post("/api/auth/verify", headers=headers).status_code == 200  # now cached
    with app.app_context():
        db.session.execute(sa.delete(User))
        db.session.commit()
    response = client.post("/api/evaluation/save", json=RECORD, headers=headers)
    assert response.status_code == 401 and response.get_json() == REVOKED
    assert count(app, EvaluationRecord) == 0
