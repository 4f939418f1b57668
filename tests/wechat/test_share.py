"""POST /api/generate_qrcode: the share poster's mini-program code, from getwxacodeunlimit, made once and kept."""
import io
import threading
import time
from datetime import timedelta

import pytest
import segno
import sqlalchemy as sa

from aiteni.models import WeChatShareCode, utcnow
from tests.config.test_config import GOOD
from tests.fakes.wechat import png
from tests.helpers.clients import at_once

BAD_PATH = {"code": 400, "msg": "分享路径无效"}
BUSY = {"code": 503, "msg": "微信服务繁忙，请稍后再试"}
UNAVAILABLE = {"code": 502, "msg": "微信服务暂不可用，请稍后再试"}
TOO_MANY = {"code": 429, "msg": "请求过于频繁，请稍后再试"}
# What the shipped client's result page sends (result.js:430-449): no token, width 200.
POSTER = {"path": "pages/result/result?resultId=7", "width": 200}


def stored_codes(database_url):
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(WeChatShareCode.__table__)).mappings().all()
    engine.dispose()
    return rows


def test_the_shipped_clients_poster_call_gets_the_image(client, fake_wechat):
    response = client.post("/api/generate_qrcode", json=POSTER)
    assert response.status_code == 200
    assert response.content_type == "image/jpeg" and response.data == fake_wechat.image
    assert fake_wechat.code_calls == [{
        "page": "pages/result/result", "scene": "resultId=7", "width": 280,
        "check_path": False, "env_version": "trial",
    }]


def test_a_png_comes_back_as_png(client, fake_wechat):
    fake_wechat.image = png("fake wechat code")
    response = client.post("/api/generate_qrcode", json=POSTER)
    assert (response.status_code, response.content_type) == (200, "image/png")
    assert response.data == fake_wechat.image


def test_the_same_share_twice_costs_one_wechat_call(client, fake_wechat, database_url):
    first = client.post("/api/generate_qrcode", json=POSTER)
    fake_wechat.image = png("another")
    again = client.post("/api/generate_qrcode", json={**POSTER, "width": 280})  # the same code once clamped
    assert first.data == again.data != fake_wechat.image
    assert len(fake_wechat.code_calls) == 1
    wider = client.post("/api/generate_qrcode", json={**POSTER, "width": 500})
    assert wider.data == fake_wechat.image and len(fake_wechat.code_calls) == 2
    assert len(stored_codes(database_url)) == 2


def test_the_welcome_page(client, fake_wechat):
    response = client.post("/api/generate_qrcode", json={"path": "pages/welcome/welcome", "width": 200})
    assert response.status_code == 200
    assert fake_wechat.code_calls[0]["page"] == "pages/welcome/welcome"
    assert fake_wechat.code_calls[0]["scene"] == "from=share"


@pytest.mark.parametrize("path", [
    None, "", 7, ["pages/welcome/welcome"], "/pages/welcome/welcome", "pages/welcome/welcome?x=1",
    "pages/result/result", "pages/result/result?resultId=", "pages/result/result?resultId=abc",
    "pages/result/result?resultId=0", "pages/result/result?resultId=-1", "pages/result/result?resultId=1.5",
    "pages/result/result?resultId=7&x=1", "pages/result/result?recordId=7", "pages/index/index",
    "pages/result/result?resultId=1234567890123456789", "pages/result/result?resultId=７",
    "pages/result/result?resultId=007", "pages/result/result?resultId=+7", "pages/result/result?resultId=7 ",
])
def test_only_the_two_page_shapes_are_accepted(client, fake_wechat, path):
    assert client.post("/api/generate_qrcode", json={"path": path, "width": 200}).get_json() == BAD_PATH
    assert fake_wechat.token_calls == [] and fake_wechat.code_calls == []


def test_a_body_that_is_not_an_object_is_400(client):
    assert client.post("/api/generate_qrcode", data="[]").get_json() == {"code": 400, "msg": "请求数据格式错误"}


@pytest.mark.parametrize("width, sent", [
    (200, 280), (280, 280), (1280, 1280), (5000, 1280), (500.6, 501), (-3, 280), (None, 430), ("absent", 430),
])
def test_width_is_clamped_to_wechats_bounds(client, fake_wechat, width, sent):
    body = {"path": POSTER["path"]} if width == "absent" else {**POSTER, "width": width}
    assert client.post("/api/generate_qrcode", json=body).status_code == 200
    assert fake_wechat.code_calls[0]["width"] == sent


@pytest.mark.parametrize("width", ["abc", "640", "", True, False, [200], {"px": 200}])
def test_a_width_that_is_not_a_number_is_400_without_calling_wechat(client, fake_wechat, width):
    response = client.post("/api/generate_qrcode", json={**POSTER, "width": width})
    assert (response.status_code, response.get_json()) == (400, {"code": 400, "msg": "请求数据格式错误"})
    assert fake_wechat.token_calls == [] and fake_wechat.code_calls == []


@pytest.mark.parametrize("answer, expected", [
    ({"errcode": -1, "errmsg": "system error"}, BUSY),  # through every retry
    ({"errcode": 45009, "errmsg": "reach max api daily quota limit"}, BUSY),
    ({"errcode": 45011, "errmsg": "api minute-quota reach limit"}, BUSY),
    ({"errcode": 40169, "errmsg": "invalid length for scene"}, UNAVAILABLE),
    ({"errcode": 0, "errmsg": "ok"}, UNAVAILABLE),  # JSON, but no image
    ({"errmsg": "no errcode"}, UNAVAILABLE),
    (b"GIF89a not a jpeg", UNAVAILABLE),
    (lambda request: __import__("werkzeug").Response("oops", status=500), UNAVAILABLE),
])
def test_wechat_failures_are_envelopes_never_200(client, fake_wechat, answer, expected):
    fake_wechat.queue("getwxacodeunlimit", *[answer] * 3)
    response = client.post("/api/generate_qrcode", json=POSTER)
    assert response.status_code != 200 and response.get_json() == expected


def test_busy_wechat_is_tried_again(client, fake_wechat):
    fake_wechat.queue("getwxacodeunlimit", {"errcode": -1, "errmsg": "system error"})
    assert client.post("/api/generate_qrcode", json=POSTER).status_code == 200
    assert len(fake_wechat.code_calls) == 2


def test_a_failed_share_is_made_by_the_next_request(client, fake_wechat, database_url):
    fake_wechat.queue("getwxacodeunlimit", {"errcode": 45009, "errmsg": "quota"})
    assert client.post("/api/generate_qrcode", json=POSTER).get_json() == BUSY
    assert stored_codes(database_url) == []
    assert client.post("/api/generate_qrcode", json=POSTER).status_code == 200
    assert len(fake_wechat.code_calls) == 2


def wait_for(condition, seconds=5):
    """Waits for the fake to have answered a call still in flight, so it cannot spill into the next test."""
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.05)


def test_a_slow_wechat_is_502_within_the_deadline(make_app, fake_wechat):
    client = make_app(WECHAT_TIMEOUT=1.0).test_client()
    fake_wechat.delays["getwxacodeunlimit"] = 1.5
    started = time.monotonic()
    assert client.post("/api/generate_qrcode", json=POSTER).get_json() == UNAVAILABLE
    assert time.monotonic() - started < 1.4
    wait_for(lambda: fake_wechat.code_calls)


def test_an_image_over_64_kb_is_kept_whole(client, fake_wechat, database_url):
    """MariaDB's BLOB holds 64 KB; a code at 1280 px can be larger."""
    fake_wechat.image = png("big", size=300 * 1024)
    first = client.post("/api/generate_qrcode", json={**POSTER, "width": 1280})
    again = client.post("/api/generate_qrcode", json={**POSTER, "width": 1280})
    assert first.data == again.data == fake_wechat.image and len(fake_wechat.code_calls) == 1
    [row] = stored_codes(database_url)
    assert row["image"] == fake_wechat.image


def test_concurrent_first_requests_from_two_processes_make_one_call(make_app, fake_wechat):
    fake_wechat.delays["getwxacodeunlimit"] = 0.5
    clients = [make_app().test_client() for _ in range(2)] * 2
    answers = at_once([lambda c=c: c.post("/api/generate_qrcode", json=POSTER) for c in clients])
    assert [a.status_code for a in answers] == [200] * 4
    assert {a.data for a in answers} == {fake_wechat.image}
    assert len(fake_wechat.code_calls) == 1 and len(fake_wechat.token_calls) == 1


def test_a_waiting_request_gives_up_by_the_deadline(make_app, fake_wechat):
    """The request making the code is slow on WeChat: the one waiting for it answers by its own deadline."""
    maker, waiter = make_app(WECHAT_TIMEOUT=3.0).test_client(), make_app(WECHAT_TIMEOUT=1.0).test_client()
    fake_wechat.delays["getwxacodeunlimit"] = 2.0
    made = []
    thread = threading.Thread(target=lambda: made.append(maker.post("/api/generate_qrcode", json=POSTER)))
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert waiter.post("/api/generate_qrcode", json=POSTER).get_json() == UNAVAILABLE
    assert time.monotonic() - started < 1.2
    thread.join()
    assert made[0].data == fake_wechat.image and len(fake_wechat.code_calls) == 1


def test_shares_have_their_own_rate_limit_per_ip(make_app, fake_wechat):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_QRCODE="2 per minute").test_client()
    for record in (1, 2):
        assert client.post("/api/generate_qrcode", json={**POSTER, "path": f"pages/result/result?resultId={record}"}
                           ).status_code == 200
    refused = client.post("/api/generate_qrcode", json=POSTER)
    assert refused.get_json() == TOO_MANY and "Retry-After" in refused.headers
    assert len(fake_wechat.code_calls) == 2
    other_ip = client.post("/api/generate_qrcode", json=POSTER, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_ip.status_code == 200


def test_shares_also_spend_the_default_budget(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute").test_client()
    assert client.get("/api/version").status_code == 200
    assert client.post("/api/generate_qrcode", json=POSTER).status_code == 200
    assert client.post("/api/generate_qrcode", json=POSTER).get_json() == TOO_MANY


def test_production_codes_open_the_release_and_check_the_page(make_app, fake_wechat):
    settings = {**GOOD, "WECHAT_APPID": fake_wechat.APPID, "WECHAT_APPSECRET": fake_wechat.SECRET}
    client = make_app(**settings, WECHAT_ENV_VERSION="develop").test_client()
    assert client.post("/api/generate_qrcode", json=POSTER).status_code == 200
    assert fake_wechat.code_calls[0] | {"page": None} == {
        "page": None, "scene": "resultId=7", "width": 280, "check_path": True, "env_version": "release"}


def test_env_version_comes_from_the_setting_outside_production(make_app, fake_wechat, database_url):
    client = make_app(WECHAT_ENV_VERSION="develop").test_client()
    assert client.post("/api/generate_qrcode", json=POSTER).status_code == 200
    assert fake_wechat.code_calls[0]["env_version"] == "develop"
    assert stored_codes(database_url)[0]["env_version"] == "develop"


def drawn(path, width):
    """The PNG the dev stand-in should answer: segno's QR code of `path`, about `width` px wide."""
    qr = segno.make(path, micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=width // qr.symbol_size(scale=1)[0])
    return buffer.getvalue()


def test_dev_login_without_credentials_draws_a_qr_code_of_the_path(make_app, fake_wechat):
    """A fresh clone in development: no AppID, no secret, WECHAT_DEV_LOGIN=1; the poster still gets its code."""
    app = make_app(ENV_NAME="development", WECHAT_DEV_LOGIN=True, WECHAT_APPID="", WECHAT_APPSECRET="")
    response = app.test_client().post("/api/generate_qrcode", json=POSTER)
    assert (response.status_code, response.content_type) == (200, "image/png")
    assert response.data == drawn("pages/result/result?resultId=7", 280)
    welcome = app.test_client().post("/api/generate_qrcode", json={"path": "pages/welcome/welcome"})
    assert welcome.data == drawn("pages/welcome/welcome", 430)
    assert fake_wechat.token_calls == [] and fake_wechat.code_calls == []


def test_dev_login_with_credentials_asks_wechat(make_app, fake_wechat):
    client = make_app(WECHAT_DEV_LOGIN=True).test_client()
    response = client.post("/api/generate_qrcode", json=POSTER)
    assert response.data == fake_wechat.image and len(fake_wechat.code_calls) == 1


def test_without_credentials_the_operator_hears_of_it(make_app, fake_wechat, tmp_path):
    client = make_app(WECHAT_APPSECRET="").test_client()
    response = client.post("/api/generate_qrcode", json=POSTER)
    assert response.get_json() == {"code": 400, "msg": "小程序配置错误，请联系管理员"}
    assert fake_wechat.token_calls == []
    error_log = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "logs").glob("error-*.log"))
    assert "appid/secret not configured" in error_log


def test_the_claim_of_a_request_that_died_lapses(client, fake_wechat, database_url):
    """A process killed while asking WeChat leaves a row without an image: the next request after its lease makes it."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(WeChatShareCode.__table__.insert().values(
            appid=fake_wechat.APPID, page="pages/result/result", scene="resultId=7", width=280, env_version="trial",
            claimed_until=utcnow() + timedelta(seconds=0.5)))
    engine.dispose()
    response = client.post("/api/generate_qrcode", json=POSTER)
    assert response.status_code == 200 and response.data == fake_wechat.image
    assert len(fake_wechat.code_calls) == 1
