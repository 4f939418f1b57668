"""POST /api/auth/verify and the 401s every authenticated endpoint shares."""
import base64
import json
import time
from datetime import datetime, timedelta, timezone

import jwt as pyjwt
import pytest
import sqlalchemy as sa

from aiteni import create_app
from aiteni.extensions import db
from aiteni.models import User
from aiteni.auth.tokens import CLOCK_SKEW_SECONDS


def sign(app, claims, key=None, algorithm="HS256", headers=None):
    return pyjwt.encode(claims, key or app.config["JWT_SECRET"], algorithm=algorithm, headers=headers)


def claims_of(token):
    return pyjwt.decode(token, options={"verify_signature": False})


def verify(client, headers):
    return client.post("/api/auth/verify", headers=headers)


def assert_401(response, msg):
    assert response.status_code == 401
    assert response.get_json() == {"code": 401, "msg": msg}


def test_valid_token(client, auth):
    data = auth.login("v1", nickname="网球🎾小王")
    response = verify(client, auth.bearer(data["token"]))
    assert response.status_code == 200
    assert response.get_json() == {
        "code": 200,
        "msg": "Token有效",
        "data": {
            "userId": data["userInfo"]["id"],
            "userInfo": {"nickName": "网球🎾小王", "avatarUrl": "https://mmbiz.qpic.cn/a.png"},
        },
    }


def test_token_claims(app, auth):
    data = auth.login("v2")
    claims = claims_of(data["token"])
    header = pyjwt.get_unverified_header(data["token"])
    assert header["alg"] == "HS256"
    assert claims["sub"] == str(data["userInfo"]["id"])
    assert claims["openid"] == "o_v2" and claims["sid"] and claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == 7 * 24 * 3600


def test_missing_token_on_verify(client):
    assert_401(verify(client, {}), "缺少认证Token")
    assert_401(verify(client, {"Authorization": "Bearer "}), "缺少认证Token")


@pytest.mark.parametrize("path, method", [("/api/user/info", "get"), ("/api/evaluation/history", "get")])
def test_missing_token_elsewhere(client, path, method):
    assert_401(getattr(client, method)(path), "请先登录")
    assert_401(getattr(client, method)(path, headers={"Authorization": "Bearer"}), "请先登录")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer a b", "bearer x", "Token abc", "Bearer a.b"])
def test_malformed_headers(client, header):
    assert_401(verify(client, {"Authorization": header}), "Token无效")


def test_tampered_payload(client, auth):
    token = auth.login("t1")["token"]
    auth.login("t2")
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(int(claims["sub"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_401(verify(client, auth.bearer(f"{head}.{forged}.{signature}")), "Token无效")


def test_signed_with_another_key(app, client, auth):
    claims = claims_of(auth.login("k1")["token"])
    token = sign(app, claims, key="another-key-that-is-also-32-bytes-long!")
    assert_401(verify(client, auth.bearer(token)), "Token无效")


def test_alg_none(app, client, auth):
    claims = claims_of(auth.login("n1")["token"])
    token = pyjwt.encode(claims, None, algorithm="none")
    assert_401(verify(client, auth.bearer(token)), "Token无效")


def test_expired(app, client, auth):
    claims = claims_of(auth.login("e1")["token"])
    now = datetime.now(timezone.utc)
    claims.update(iat=now - timedelta(days=8), nbf=now - timedelta(days=8), exp=now - timedelta(seconds=1))
    assert_401(verify(client, auth.bearer(sign(app, claims))), "Token已过期，请重新登录")


def test_a_token_from_a_host_whose_clock_runs_ahead_is_valid(app, client, auth):
    """Issued by a sibling host a few seconds ahead: `iat` and `nbf` lie in this host's future."""
    claims = claims_of(auth.login("ahead")["token"])
    ahead = int(time.time()) + CLOCK_SKEW_SECONDS - 1
    claims.update(iat=ahead, nbf=ahead)
    assert verify(client, auth.bearer(sign(app, claims))).status_code == 200


def test_a_token_from_further_in_the_future_is_invalid(app, client, auth):
    claims = claims_of(auth.login("future")["token"])
    for claim in ("iat", "nbf"):
        token = sign(app, {**claims, claim: int(time.time()) + CLOCK_SKEW_SECONDS + 2})
        assert_401(verify(client, auth.bearer(token)), "Token无效")


def test_expiry_gets_no_leeway(app, client, auth):
    """The clock-skew leeway is for `iat` and `nbf` only; a token is expired the second its `exp` passes."""
    claims = claims_of(auth.login("exact")["token"])
    for exp in (int(time.time()), int(time.time()) - 1, int(time.time()) - CLOCK_SKEW_SECONDS + 1):
        assert_401(verify(client, auth.bearer(sign(app, {**claims, "exp": exp}))), "Token已过期，请重新登录")


def test_a_numeric_string_exp_is_read_as_a_number_on_every_use(app, client, auth):
    """PyJWT accepts `"exp": "<digits>"`; the remembered token must compare it as a number too."""
    claims = claims_of(auth.login("string-exp")["token"])
    token = sign(app, {**claims, "exp": str(claims["exp"])})
    assert [verify(client, auth.bearer(token)).status_code for _ in range(2)] == [200, 200]


def test_user_deleted_behind_a_token_ends_it(app, client, auth):
    token = auth.login("gone")["token"]
    assert verify(client, auth.bearer(token)).status_code == 200
    with app.app_context():
        db.session.execute(sa.delete(User))
        db.session.commit()
    app.extensions["aiteni.principals"].forget(user_id=int(claims_of(token)["sub"]))
    assert_401(verify(client, auth.bearer(token)), "登录已失效，请重新登录")


def test_the_identity_is_not_echoed(app, client, auth):
    claims = claims_of(auth.login("echo")["token"])
    claims["sub"] = "999999"
    response = verify(client, auth.bearer(sign(app, claims)))
    assert response.status_code == 401
    assert b"999999" not in response.data and b"o_echo" not in response.data


def test_a_remembered_token_still_expires(app, client, auth):
    """Verified tokens are remembered to skip re-parsing; expiry is still checked on every use."""
    claims = claims_of(auth.login("memo")["token"])
    claims["exp"] = int(time.time()) + 1
    token = sign(app, claims)
    assert verify(client, auth.bearer(token)).status_code == 200
    time.sleep(max(0.0, claims["exp"] - time.time()) + 0.05)
    assert_401(verify(client, auth.bearer(token)), "Token已过期，请重新登录")


def test_a_token_remembered_by_one_app_proves_nothing_to_another(app, client, auth, database_url):
    token = auth.login("two-keys")["token"]
    assert verify(client, auth.bearer(token)).status_code == 200
    other = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "JWT_SECRET": "another-secret-of-at-least-32-bytes!", "LOG_DIR": None}
    )
    assert_401(other.test_client().post("/api/auth/verify", headers=auth.bearer(token)), "Token无效")


def test_a_verified_token_is_not_parsed_again(client, auth, monkeypatch):
    """Guards both overrides of Flask-JWT-Extended internals (pinned 4.7.4): the private decode
    method and the module-level header read must still be the ones it calls."""
    token = auth.login("remembered")["token"]
    assert verify(client, auth.bearer(token)).status_code == 200
    parsed = []
    for name in ("decode", "get_unverified_header"):
        original = getattr(pyjwt, name)

        def counted(*args, _original=original, **kwargs):
            parsed.append(args)
            return _original(*args, **kwargs)

        monkeypatch.setattr(pyjwt, name, counted)
    assert verify(client, auth.bearer(token)).get_json()["msg"] == "Token有效"
    assert parsed == []
