"""No error answer echoes a token, an openid or a user id it was not asked for, and no log keeps a token."""
import pytest
import sqlalchemy as sa

from aiteni.extensions import db

from .hostile import PROTECTED

KNOWN_MESSAGES = {
    "请先登录", "缺少认证Token", "Token无效", "Token已过期，请重新登录", "用户不存在", "登录已失效，请重新登录",
    "请求数据格式错误", "记录不存在", "接口不存在", "请求方法不允许", "手机号格式不正确", "昵称格式不正确",
    "评测数据格式错误", "分页参数错误", "code无效，请重新登录", "头像或昵称格式不正确",
}


def hostile_requests(client, victim, other_headers):
    """Error answers to requests that carry the victim's secrets in every place a client could put them."""
    forged = victim.sign(key="another-key-that-is-long-enough-0123456789", openid="o_victim", marker="ECHO-ME")
    openid, token, refresh = victim.claims["openid"], victim.token, victim.refresh_token
    yield client.get(f"/api/user/info?token={token}&openid={openid}")
    yield client.get("/api/user/info", headers={"Authorization": f"Bearer {forged}"})
    yield client.get("/api/user/info", headers={"Authorization": f"Bearer {token} {refresh}"})
    yield client.get("/api/user/info", headers={"Authorization": f"Basic {token}"})
    yield client.get("/api/user/info", headers={"Authorization": f"Bearer {victim.sign(exp=victim.now() - 1)}"})
    yield client.post("/api/auth/refresh", json={"refreshToken": token})
    yield client.post("/api/auth/refresh", json={"refreshToken": refresh + "x"})
    yield client.post("/api/auth/refresh", data=f'{{"refreshToken": "{refresh}"'.encode())
    yield client.get(f"/api/evaluation/result/{victim.user_id}", headers=other_headers)
    yield client.get(f"/api/evaluation/result/{openid}", headers=other_headers)
    yield client.delete(f"/api/evaluation/delete/{token}", headers=other_headers)
    yield client.get(f"/api/evaluation/history?page={openid}", headers=other_headers)
    yield client.post("/api/user/update", json={"phone": openid, "userId": victim.user_id}, headers=other_headers)
    yield client.post("/api/evaluation/save", json={"result": {"level_label": token}}, headers=other_headers)
    yield client.get(f"/api/{token}")
    yield client.put(f"/api/user/info?openid={openid}")
    for method, path in PROTECTED:
        yield client.open(path, method=method, headers={"Authorization": f"Bearer {forged}"})


def test_error_answers_are_the_bare_envelope(client, auth, victim):
    other = auth.headers("someone-else")
    secrets = [victim.token, victim.refresh_token, victim.claims["openid"], victim.token.split(".")[1], "ECHO-ME"]
    for response in hostile_requests(client, victim, other):
        body = response.get_json()
        assert response.status_code >= 400
        assert set(body) == {"code", "msg"} and body["msg"] in KNOWN_MESSAGES, body
        text = response.get_data(as_text=True)
        assert not any(secret in text for secret in secrets), text
        assert str(victim.user_id) not in body["msg"]


def test_wechat_refusal_does_not_echo_the_code(client, fake_wechat):
    fake_wechat.reply({"errcode": 40029, "errmsg": "invalid code, rid: 65-1"})
    response = client.post(
        "/api/auth/login", json={"code": "SECRET-CODE-123", "nickName": "n", "avatarUrl": "https://a/b.png"}
    )
    assert response.get_json() == {"code": 400, "msg": "code无效，请重新登录"}
    assert b"SECRET-CODE-123" not in response.data


@pytest.mark.parametrize("where", ["header", "query", "body"])
def test_logs_never_keep_a_token(app, client, victim, tmp_path, where):
    token, refresh = victim.token, victim.refresh_token
    if where == "header":
        client.get("/api/user/info", headers={"Authorization": f"Bearer {token}x"})
        client.post("/api/auth/refresh", json={"refreshToken": refresh})
        client.post("/api/auth/refresh", json={"refreshToken": refresh})  # reuse: logged as a warning
    elif where == "query":
        client.get(f"/api/user/info?access_token={token}&refreshToken={refresh}")
    else:
        client.post("/api/auth/refresh", data=f'{{"refreshToken": "{refresh}", "x": "{token}"'.encode())
    logged = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("*.log"))
    assert "/api/" in logged
    for secret in (token, refresh, token.split(".")[2], refresh[3:], app.config["JWT_SECRET"]):
        assert secret not in logged


def test_the_database_keeps_no_token_and_answers_carry_no_session_key(app, client, auth):
    login = auth.login("stored")
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT token_hash FROM aiteni_refresh_token")).scalars().all()
    assert rows and login["refreshToken"] not in rows
    answers = [
        client.post("/api/auth/login", json={"code": "stored", "nickName": "n", "avatarUrl": "https://a/b.png"}),
        client.get("/api/user/info", headers=auth.bearer(login["token"])),
        client.post("/api/auth/verify", headers=auth.bearer(login["token"])),
    ]
    for response in answers:
        assert b"SKstored" not in response.data and b"session_key" not in response.data
