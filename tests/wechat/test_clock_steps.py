"""Stored times from before this host's clock stepped back (NTP correcting a clock that ran ahead, a VM
restored, a sibling host whose clock is far ahead): none of them makes the server wait for the clock to
catch up. Each row is written as a host an hour ahead would have left it."""
import time
from datetime import timedelta

import sqlalchemy as sa

from aiteni.extensions import db
from aiteni.models import LoginSession, RefreshToken, WeChatAccessToken, WeChatShareCode, utcnow

STEP = timedelta(hours=1)
BUSY = {"code": 503, "msg": "微信服务繁忙，请稍后再试"}
REVOKED = {"code": 401, "msg": "登录已失效，请重新登录"}
POSTER = {"path": "pages/result/result?resultId=7", "width": 200}


def share(client, record=7):
    return client.post("/api/generate_qrcode", json={**POSTER, "path": f"pages/result/result?resultId={record}"})


def write(database_url, statement):
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(statement)
    engine.dispose()


TOKENS = WeChatAccessToken.__table__


def test_a_forced_renewal_stored_in_the_future_does_not_block_the_next_one(client, fake_wechat, database_url):
    """Today's trial: refused tokens got 503 for an hour, the log saying "renewed by force -3565 s ago"."""
    assert share(client, 1).status_code == 200
    write(database_url, TOKENS.update().values(forced_at=utcnow() + STEP))
    fake_wechat.expire_tokens()
    assert share(client, 2).status_code == 200
    assert len(fake_wechat.forced) == 1
    # The spacing still holds from the new renewal on.
    fake_wechat.expire_tokens()
    assert share(client, 3).get_json() == BUSY and len(fake_wechat.forced) == 1


def test_a_forced_renewal_a_siblings_skew_ahead_still_counts(client, fake_wechat, database_url):
    assert share(client, 1).status_code == 200
    write(database_url, TOKENS.update().values(forced_at=utcnow() + timedelta(seconds=5)))
    fake_wechat.expire_tokens()
    assert share(client, 2).get_json() == BUSY and fake_wechat.forced == []


def test_a_renewal_lease_stored_in_the_future_lapses(client, fake_wechat, database_url):
    write(database_url, TOKENS.insert().values(appid=fake_wechat.APPID, renewing_until=utcnow() + STEP))
    started = time.monotonic()
    assert share(client).status_code == 200
    assert time.monotonic() - started < 2 and len(fake_wechat.token_calls) == 1


def test_a_token_expiry_further_ahead_than_a_token_lives_is_renewed_before_wechat_refuses_it(
        make_app, fake_wechat, database_url):
    assert share(make_app().test_client(), 1).status_code == 200
    write(database_url, TOKENS.update().values(expires_at=utcnow() + timedelta(hours=2) + STEP))
    assert share(make_app().test_client(), 2).status_code == 200  # another process, with no copy of its own
    assert len(fake_wechat.token_calls) == 2 and fake_wechat.forced == []  # a normal renewal, no forced one
    row_expiry = db_value(database_url, TOKENS.c.expires_at)
    assert row_expiry - utcnow() <= timedelta(hours=2)


def db_value(database_url, column):
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        value = connection.scalar(sa.select(column))
    engine.dispose()
    return value


def test_a_share_code_claim_stored_in_the_future_lapses(client, fake_wechat, database_url):
    write(database_url, WeChatShareCode.__table__.insert().values(
        appid=fake_wechat.APPID, page="pages/result/result", scene="resultId=7", width=280, env_version="trial",
        claimed_until=utcnow() + STEP))
    started = time.monotonic()
    response = client.post("/api/generate_qrcode", json=POSTER)
    assert response.status_code == 200 and response.data == fake_wechat.image
    assert time.monotonic() - started < 2 and len(fake_wechat.code_calls) == 1


def test_a_refresh_token_used_in_the_future_is_a_reuse_not_a_race(app, client, auth):
    """The race window is seconds around the use; a use an hour "ahead" was before the clock stepped back."""
    first = auth.login("stepped")
    second = client.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]}).get_json()["data"]
    with app.app_context():
        db.session.execute(sa.update(RefreshToken).where(RefreshToken.used_at.is_not(None))
                           .values(used_at=utcnow() + STEP))
        db.session.commit()
    replay = client.post("/api/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert replay.get_json() == REVOKED
    assert client.post("/api/auth/verify", headers=auth.bearer(second["token"])).get_json() == REVOKED
    with app.app_context():
        assert db.session.scalar(sa.select(LoginSession.revoked_at)) is not None
