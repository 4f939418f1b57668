"""The paths the benchmark measures keep the contract: token checks, revocation, save and history."""
import time
from datetime import timedelta

import jwt as pyjwt
from flask_jwt_extended import create_access_token, create_refresh_token

from aiteni import create_app
from tests.helpers.clients import record_body

RECORD = record_body()


def claims_of(token):
    return pyjwt.decode(token, options={"verify_signature": False})


def test_saved_records_come_back_in_history_newest_first(client, auth):
    headers = auth.headers()
    ids = []
    for level in (2.0, 3.0, 4.0):
        body = {**RECORD, "result": {**RECORD["result"], "total_level": level, "rounded_level": level}}
        response = client.post("/api/evaluation/save", json=body, headers=headers)
        assert response.status_code == 200 and response.get_json()["msg"] == "保存成功"
        ids.append(response.get_json()["data"]["record_id"])

    data = client.get("/api/evaluation/history?page=1&page_size=2", headers=headers).get_json()["data"]
    assert data["total"] == 3 and data["page"] == 1 and data["page_size"] == 2
    assert [r["id"] for r in data["records"]] == [ids[2], ids[1]]
    newest = data["records"][0]
    assert newest["total_level"] == 4.0 and newest["level_label"] == "发展中业余选手"
    assert newest["dimension_comments"] == {"forehand": "正手已经是你的核心武器"}
    assert newest["answers"] == RECORD["answers"]
    assert newest["created_at"].endswith("Z")
    assert client.get(f"/api/evaluation/result/{ids[0]}", headers=headers).get_json()["data"]["total_level"] == 2.0


def test_login_creates_then_updates_the_same_user(client, auth):
    first = auth.login("carol", nickname="甲")
    second = auth.login("carol", nickname="乙")
    assert first["userInfo"]["id"] == second["userInfo"]["id"]
    assert second["userInfo"]["nickName"] == "乙"
    verify = client.post("/api/auth/verify", headers=auth.bearer(first["token"])).get_json()
    assert verify["data"] == {"userId": first["userInfo"]["id"], "userInfo": {"nickName": "乙", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}}


def test_logout_revokes_the_token_for_the_very_next_request(client, auth):
    headers = auth.headers()
    assert client.post("/api/auth/verify", headers=headers).status_code == 200  # now cached
    assert client.post("/api/auth/logout", headers=headers).status_code == 200
    response = client.post("/api/auth/verify", headers=headers)
    assert response.status_code == 401 and response.get_json()["msg"] == "登录已失效，请重新登录"


def test_deleted_account_is_refused_at_once(client, auth):
    headers = auth.headers()
    assert client.get("/api/evaluation/history", headers=headers).status_code == 200
    assert client.delete("/api/user", headers=headers).status_code == 200
    assert client.get("/api/evaluation/history", headers=headers).status_code == 401


def test_another_process_sees_a_logout_within_two_seconds(app, client, auth, database_url, fake_wechat):
    headers = auth.headers()
    assert client.post("/api/auth/verify", headers=headers).status_code == 200  # cached here
    # A second app on the same database stands for another server process.
    other = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "WECHAT_API_BASE": fake_wechat.base_url, "LOG_DIR": None})
    assert other.test_client().post("/api/auth/logout", headers=headers).status_code == 200
    deadline = time.monotonic() + 2
    while client.post("/api/auth/verify", headers=headers).status_code == 200:
        assert time.monotonic() < deadline, "revocation not seen within 2 s"
        time.sleep(0.05)
    with other.app_context():
        from aiteni.extensions import db

        db.engine.dispose()


def test_expired_token_says_so(app, client, auth):
    claims = claims_of(auth.login()["token"])
    with app.app_context():
        token = create_access_token(
            identity=claims["sub"],
            additional_claims={"openid": claims["openid"], "sid": claims["sid"]},
            expires_delta=timedelta(seconds=-1),
        )
    response = client.post("/api/auth/verify", headers=auth.bearer(token))
    assert response.status_code == 401 and response.get_json()["msg"] == "Token已过期，请重新登录"


def test_tokens_that_are_not_our_access_tokens_are_invalid(app, client, auth):
    claims = claims_of(auth.login()["token"])
    with app.app_context():
        refresh_type = create_refresh_token(identity=claims["sub"], additional_claims={"sid": claims["sid"]})
    other_key = pyjwt.encode(claims, "another-secret-that-is-long-enough-000000", algorithm="HS256")
    no_jti = pyjwt.encode({k: v for k, v in claims.items() if k != "jti"}, app.config["JWT_SECRET"], algorithm="HS256")
    for token in (refresh_type, other_key, no_jti, "not.a.jwt"):
        response = client.post("/api/auth/verify", headers=auth.bearer(token))
        assert response.status_code == 401 and response.get_json()["msg"] == "Token无效", token
