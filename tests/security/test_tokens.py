"""Hostile access tokens and Authorization headers: each gets the single 401 envelope the contract names."""
import base64
import hashlib
import hmac
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aiteni.extensions import db
from aiteni.models import RefreshToken, utcnow

from .hostile import PROTECTED

# The forger signs HS384/HS512 with the test key on purpose; PyJWT warns it is short for those.
pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is")

INVALID = {"code": 401, "msg": "Token无效"}
EXPIRED = {"code": 401, "msg": "Token已过期，请重新登录"}
LOGIN_FIRST = {"code": 401, "msg": "请先登录"}
REVOKED = {"code": 401, "msg": "登录已失效，请重新登录"}


def info(client, token=None, header=None, **kwargs):
    headers = {"Authorization": header if header is not None else f"Bearer {token}"}
    return client.get("/api/user/info", headers=headers, **kwargs)


def hs256(secret, header_b64, payload_b64):
    digest = hmac.new(secret.encode(), f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_the_forger_makes_tokens_the_server_accepts(client, victim):
    """Positive control: re-signing the real claims with the server's key works, so every
    rejection below is caused by the one thing each case changes."""
    response = info(client, victim.sign())
    assert response.status_code == 200
    assert response.get_json()["data"]["id"] == victim.user_id


FORGERIES = {
    "alg none": lambda v: v.raw({"alg": "none", "typ": "JWT"}, v.claims),
    "alg None": lambda v: v.raw({"alg": "None"}, v.claims),
    "alg none with the real signature": lambda v: v.raw({"alg": "none"}, v.claims) + v.token.rsplit(".", 1)[1],
    "unsigned a.b.": lambda v: "a.b.",
    "real header and payload, no signature": lambda v: v.token.rsplit(".", 1)[0] + ".",
    "HS512 signed with the server key": lambda v: v.sign(algorithm="HS512"),
    "HS384 signed with the server key": lambda v: v.sign(algorithm="HS384"),
    "RS256 header, HMAC signature with the server key": lambda v: (
        lambda h, p: f"{h}.{p}.{hs256(v.secret, h, p)}"
    )(v.raw({"alg": "RS256", "typ": "JWT"}, v.claims).split(".")[0], v.token.split(".")[1]),
    "RS256 header, 256-byte signature": lambda v: v.raw({"alg": "RS256", "typ": "JWT"}, v.claims, os.urandom(256)),
    "payload tampered: sub changed": lambda v: v.with_payload({**v.claims, "sub": str(v.user_id + 1)}),
    "signed with another key": lambda v: v.sign(key="another-key-that-is-long-enough-0123456789"),
    "signed with the Flask SECRET_KEY": lambda v: v.sign(key="testing-secret-key-that-is-long-enough-000"),
    "nbf in the future": lambda v: v.sign(nbf=v.now() + 3600),
    "iat in the future": lambda v: v.sign(iat=v.now() + 3600),
    "missing exp": lambda v: v.sign(drop=("exp",)),
    "missing sub": lambda v: v.sign(drop=("sub",)),
    "missing type": lambda v: v.sign(drop=("type",)),
    "missing jti": lambda v: v.sign(drop=("jti",)),
    "missing iat": lambda v: v.sign(drop=("iat",)),
    "missing sid": lambda v: v.sign(drop=("sid",)),
    "sid null": lambda v: v.sign(sid=None),
    "sub an integer": lambda v: v.sign(sub=v.user_id),
    "sub a list": lambda v: v.sign(sub=[str(v.user_id)]),
    "sub an object": lambda v: v.sign(sub={"id": v.user_id}),
    "sub null": lambda v: v.sign(sub=None),
    "sub not a number": lambda v: v.sign(sub="admin", drop=("sid",)),
    "type refresh": lambda v: v.sign(type="refresh"),
    "type something else": lambda v: v.sign(type="id"),
    "exp not a number": lambda v: v.sign(exp="never"),
    "payload not JSON": lambda v: v.with_payload(b"not json"),
    "header not JSON": lambda v: f"bm90IGpzb24.{v.token.split('.', 1)[1]}",
    "four parts": lambda v: v.token + ".x",
    "the refresh token": lambda v: v.refresh_token,
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_or_malformed_token_is_invalid(client, victim, forge):
    response = info(client, forge(victim))
    assert response.status_code == 401
    assert response.get_json() == INVALID


def test_a_token_naming_no_openid_is_not_ours(client, victim):
    """Every token we issue carries the openid it was issued to: one without it answered 登录已失效 after a
    database lookup, where any other missing claim is refused at decode as 无效."""
    response = info(client, victim.sign(drop=("openid",)))
    assert (response.status_code, response.get_json()) == (401, INVALID)


@pytest.mark.parametrize("seconds_left", [-3600, -1, 0], ids=["an hour ago", "a second ago", "exactly now"])
def test_expired_token(client, victim, seconds_left):
    response = info(client, victim.sign(exp=victim.now() + seconds_left))
    assert response.get_json() == EXPIRED
    assert response.status_code == 401


def test_expired_token_with_a_bad_signature_is_invalid_not_expired(client, victim):
    """Signature first: an attacker learns nothing about a token's claims from the message."""
    response = info(client, victim.sign(key="another-key-that-is-long-enough-0123456789", exp=victim.now() - 10))
    assert response.get_json() == INVALID


@pytest.mark.parametrize("method, path", PROTECTED)
def test_every_protected_endpoint_rejects_forgeries(client, victim, method, path):
    for forge in (FORGERIES["alg none"], FORGERIES["signed with another key"], FORGERIES["missing jti"]):
        response = client.open(path, method=method, headers={"Authorization": f"Bearer {forge(victim)}"}, json={})
        assert (response.status_code, response.get_json()) == (401, INVALID), forge
    expired = victim.sign(exp=victim.now() - 5)
    response = client.open(path, method=method, headers={"Authorization": f"Bearer {expired}"})
    assert (response.status_code, response.get_json()) == (401, EXPIRED)
    # Nothing was changed by the rejected calls: the real token still works.
    assert info(client, victim.token).status_code == 200


def test_access_token_at_refresh_is_revoked_answer(client, victim):
    response = client.post("/api/auth/refresh", json={"refreshToken": victim.token})
    assert (response.status_code, response.get_json()) == (401, REVOKED)


@pytest.mark.parametrize("name", ["kid", "jku", "x5u", "jwk", "x5c", "crit"])
def test_key_location_headers_are_rejected_and_never_fetched(client, victim, fake_wechat, name):
    """A token naming where its key lives is not one of ours; the URL is never fetched."""
    jwks_url = fake_wechat.server.url_for("/jwks.json")
    attacker_key = "attacker-key-that-is-long-enough-0123456789"
    values = {
        "kid": "../../../../dev/null",
        "jku": jwks_url,
        "x5u": jwks_url,
        "jwk": {"kty": "oct", "k": base64.urlsafe_b64encode(attacker_key.encode()).rstrip(b"=").decode()},
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
        "crit": ["exp"],
    }
    for key in (None, attacker_key):
        response = info(client, victim.sign(key=key, headers={name: values[name]}))
        assert (response.status_code, response.get_json()) == (401, INVALID)
    assert [r for r, _ in fake_wechat.server.log if r.path == "/jwks.json"] == []


def test_token_outside_the_authorization_header_is_ignored(client, victim):
    token = victim.token
    for name in ("jwt", "token", "access_token"):
        assert client.get(f"/api/user/info?{name}={token}").get_json() == LOGIN_FIRST
        assert client.post("/api/evaluation/save", json={name: token}).get_json() == LOGIN_FIRST
    for cookie in ("access_token_cookie", "token", "jwt"):
        client.set_cookie(cookie, token)
    assert client.get("/api/user/info").get_json() == LOGIN_FIRST
    assert client.post("/api/auth/verify").get_json() == {"code": 401, "msg": "缺少认证Token"}


@pytest.mark.parametrize(
    "header, expected",
    [
        ("", LOGIN_FIRST),
        ("Bearer", LOGIN_FIRST),
        ("Bearer ", LOGIN_FIRST),
        ("Bearer    ", LOGIN_FIRST),
        ("bearer x", INVALID),
        ("Basic x", INVALID),
        ("Basic dXNlcjpwYXNzd29yZA==", INVALID),
        ("Token x", INVALID),
        ("Bearer a b", INVALID),
        ("Bearer x", INVALID),
        ("Bearer " + "A" * 8 * 1024, INVALID),
        ("Bearer " + "A" * 64 * 1024, INVALID),
        ("Bearer " + "eyJhbGciOiJIUzI1NiJ9." + "A" * 8 * 1024 + ".sig", INVALID),
        ("Bearer \u00e9\u00ff.\u00e9.\u00e9", INVALID),
    ],
    ids=["empty", "Bearer", "Bearer-space", "Bearer-spaces", "bearer x", "Basic x", "Basic creds", "Token x",
         "Bearer a b", "Bearer x", "8 KB garbage", "64 KB garbage", "8 KB JWT-shaped", "Latin-1 bytes"],
)
def test_authorization_header_variants(client, header, expected):
    response = client.get("/api/user/info", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json() == expected


def test_missing_token_message_on_verify(client):
    for header in ("", "Bearer", "Bearer  "):
        response = client.post("/api/auth/verify", headers={"Authorization": header})
        assert response.get_json() == {"code": 401, "msg": "缺少认证Token"}


def test_two_tokens_are_invalid_even_when_both_are_good(client, victim):
    # A proxy folds two Authorization headers into one, comma-separated (RFC 9110 5.3).
    for header in (f"Bearer {victim.token}, Bearer {victim.token}", f"Bearer {victim.token} {victim.token}"):
        assert info(client, header=header).get_json() == INVALID
    response = client.get("/api/user/info", headers=[("Authorization", f"Bearer {victim.token}"),
                                                     ("Authorization", "Bearer x")])
    assert response.status_code == 401


def test_big_tokens_forged_with_another_key(client, victim):
    for size in (8 * 1024, 64 * 1024 - 2048):
        token = victim.sign(key="another-key-that-is-long-enough-0123456789", pad="x" * size)
        assert info(client, token).get_json() == INVALID


def test_refresh_token_replay_revokes_the_whole_session(app, client, victim):
    first = client.post("/api/auth/refresh", json={"refreshToken": victim.refresh_token}).get_json()["data"]
    with app.app_context():  # the replay comes after the race window (sessions.REFRESH_RACE_SECONDS)
        used = sa.update(RefreshToken).where(RefreshToken.used_at.is_not(None))
        db.session.execute(used.values(used_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    replay = client.post("/api/auth/refresh", json={"refreshToken": victim.refresh_token})
    assert (replay.status_code, replay.get_json()) == (401, REVOKED)
    for token in (victim.token, first["token"]):
        assert info(client, token).get_json() == REVOKED
    assert client.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]}).get_json() == REVOKED


@pytest.mark.parametrize("ending", ["logout", "logout all", "account deletion"])
def test_ended_sessions_reject_their_tokens_at_once(client, auth, victim, ending):
    headers = auth.bearer(victim.token)
    if ending == "account deletion":
        assert client.delete("/api/user", headers=headers).status_code == 200
    else:
        body = {"all": True} if ending == "logout all" else None
        assert client.post("/api/auth/logout", json=body, headers=headers).status_code == 200
    assert info(client, victim.token).get_json() == REVOKED
    assert client.post("/api/auth/refresh", json={"refreshToken": victim.refresh_token}).get_json() == REVOKED
