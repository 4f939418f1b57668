"""POST /api/user/phone: a getPhoneNumber button's code exchanged at WeChat, the number kept as the user's phone."""
import pytest
from werkzeug import Response

from tests.helpers.clients import AuthActions

NO_CODE = {"code": 400, "msg": "缺少手机号凭证code"}
INVALID = {"code": 400, "msg": "手机号凭证无效，请重试"}
BUSY = {"code": 503, "msg": "微信服务繁忙，请稍后再试"}
UNAVAILABLE = {"code": 502, "msg": "微信服务暂不可用，请稍后再试"}


def bind(client, headers, code="phone-code"):
    return client.post("/api/user/phone", json={"code": code}, headers=headers)


def phone_of(client, headers):
    return client.get("/api/user/info", headers=headers).get_json()["data"]["phone"]


def test_binds_the_number_wechat_vouches_for(client, auth, fake_wechat):
    headers = auth.headers()
    response = bind(client, headers, "the-button-code")
    assert response.get_json() == {"code": 200, "msg": "绑定成功", "data": {"phone": "13800138000"}}
    assert phone_of(client, headers) == "13800138000"
    assert fake_wechat.phone_calls == [{"code": "the-button-code"}]
    assert fake_wechat.used == fake_wechat.issued  # with the shared access token


def test_a_number_outside_china_keeps_its_country_code(client, auth, fake_wechat):
    headers = auth.headers()
    fake_wechat.phones["hk"] = ("852", "61234567")
    assert bind(client, headers, "hk").get_json()["data"] == {"phone": "+85261234567"}
    assert phone_of(client, headers) == "+85261234567"


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": "   "}, {"code": None}, {"code": 123}, {"code": ["x"]}])
def test_a_missing_code_is_400_without_asking_wechat(client, auth, fake_wechat, body):
    headers = auth.headers()
    assert client.post("/api/user/phone", json=body, headers=headers).get_json() == NO_CODE
    assert fake_wechat.phone_calls == []


def test_a_code_too_long_to_be_one_is_refused_without_asking_wechat(client, auth, fake_wechat):
    assert bind(client, auth.headers(), "x" * 129).get_json() == INVALID
    assert fake_wechat.phone_calls == []


def test_a_code_wechat_refuses_leaves_the_phone_as_it_was(client, auth, fake_wechat):
    headers = auth.headers()
    assert bind(client, headers, "first").status_code == 200
    fake_wechat.phones["second"] = ("86", "13900139000")
    assert bind(client, headers, "invalid-second").get_json() == INVALID
    assert phone_of(client, headers) == "13800138000"


@pytest.mark.parametrize("watermark", [{"appid": "wx-someone-else"}, {}, None])
def test_a_number_without_our_watermark_is_not_kept(client, auth, fake_wechat, watermark):
    headers = auth.headers()
    fake_wechat.queue("getuserphonenumber", {"errcode": 0, "phone_info": {
        "purePhoneNumber": "13900139000", "countryCode": "86", "watermark": watermark}})
    assert bind(client, headers).get_json() == UNAVAILABLE
    assert phone_of(client, headers) is None


@pytest.mark.parametrize("phone_info", [
    None, {"purePhoneNumber": "", "countryCode": "86"}, {"purePhoneNumber": "138 0013 8000", "countryCode": "86"},
    {"purePhoneNumber": "13800138000"}, {"purePhoneNumber": "1" * 16, "countryCode": "1"},
])
def test_a_reply_without_a_usable_number_is_502(client, auth, fake_wechat, phone_info):
    if phone_info is not None:
        phone_info["watermark"] = {"appid": fake_wechat.APPID}
    fake_wechat.queue("getuserphonenumber", {"errcode": 0, "phone_info": phone_info})
    assert bind(client, auth.headers()).get_json() == UNAVAILABLE


@pytest.mark.parametrize("answers, expected, calls", [
    ([{"errcode": -1, "errmsg": "busy"}], {"code": 200, "msg": "绑定成功", "data": {"phone": "13800138000"}}, 2),
    ([{"errcode": -1, "errmsg": "busy"}] * 3, BUSY, 3),
    ([{"errcode": 45011, "errmsg": "api minute-quota reach limit"}], BUSY, 1),
    ([b"not json"], UNAVAILABLE, 1),
    ([lambda request: Response("bad gateway", status=502)], UNAVAILABLE, 1),
])
def test_wechat_failures_map_as_for_login(client, auth, fake_wechat, answers, expected, calls):
    fake_wechat.queue("getuserphonenumber", *answers)
    assert bind(client, auth.headers()).get_json() == expected
    assert len(fake_wechat.phone_calls) == calls


def test_a_refused_token_is_renewed_and_the_number_still_bound(client, auth, fake_wechat):
    headers = auth.headers()
    assert bind(client, headers, "one").status_code == 200
    fake_wechat.expire_tokens(42001)
    assert bind(client, headers, "two").status_code == 200
    assert len(fake_wechat.forced) == 1 and len(fake_wechat.phone_calls) == 3


def test_signed_in_only(client, fake_wechat):
    assert client.post("/api/user/phone", json={"code": "x"}).get_json() == {"code": 401, "msg": "请先登录"}
    assert fake_wechat.phone_calls == []


def test_dev_login_without_credentials_binds_a_code_that_is_a_mainland_number(make_app, fake_wechat):
    """Development on a fresh clone: dev login, no WeChat credentials, no WeChat to ask."""
    client = make_app(ENV_NAME="development", WECHAT_DEV_LOGIN=True, WECHAT_APPID="", WECHAT_APPSECRET="").test_client()
    headers = AuthActions(client).headers("developer")
    assert bind(client, headers, "13912345678").get_json()["data"] == {"phone": "13912345678"}
    assert phone_of(client, headers) == "13912345678"
    assert bind(client, headers, "a-real-button-code").get_json() == INVALID
    assert phone_of(client, headers) == "13912345678"
    assert fake_wechat.token_calls == [] and fake_wechat.phone_calls == []


def test_binding_spends_the_users_write_budget(make_app, fake_wechat):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_WRITE="2 per minute").test_client()
    headers = AuthActions(client).headers()
    assert client.post("/api/user/update", json={"realName": "张三"}, headers=headers).status_code == 200
    assert bind(client, headers).status_code == 200
    assert bind(client, headers).get_json() == {"code": 429, "msg": "请求过于频繁，请稍后再试"}
    assert len(fake_wechat.phone_calls) == 1
