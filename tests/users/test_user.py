"""GET /api/user/info and POST /api/user/update."""
from datetime import datetime

import pytest
import sqlalchemy as sa

from aiteni.extensions import db
from aiteni.models import User


def info(client, headers):
    return client.get("/api/user/info", headers=headers).get_json()


def test_info(app, client, auth):
    headers = auth.headers("me", nickname="张三")
    body = info(client, headers)
    assert body["code"] == 200 and body["msg"] == "success"
    data = body["data"]
    assert set(data) == {"id", "username", "nickName", "avatarUrl", "phone", "realName", "createdAt"}
    assert data["username"].startswith("wx_") and data["nickName"] == "张三"
    assert data["phone"] is None and data["realName"] is None
    assert "session_key" not in str(body) and "openid" not in str(body)


def test_created_at_is_china_time(app, client, auth):
    headers = auth.headers("tz")
    with app.app_context():
        db.session.execute(sa.update(User).values(created_at=datetime(2025, 12, 14, 2, 30, 0)))
        db.session.commit()
    assert info(client, headers)["data"]["createdAt"] == "2025-12-14 10:30:00"


def test_update_all_fields(client, auth):
    headers = auth.headers("upd")
    body = {"nickName": " 李四🎾 ", "phone": "13800138000", "realName": "李四"}
    response = client.post("/api/user/update", json=body, headers=headers)
    assert response.get_json() == {"code": 200, "msg": "更新成功", "data": {}}
    data = info(client, headers)["data"]
    assert (data["nickName"], data["phone"], data["realName"]) == ("李四🎾", "13800138000", "李四")
    # verify sees the new nickname at once, in the same process
    assert client.post("/api/auth/verify", headers=headers).get_json()["data"]["userInfo"]["nickName"] == "李四🎾"


def test_phone_and_real_name_can_be_cleared(client, auth):
    headers = auth.headers("clr")
    client.post("/api/user/update", json={"phone": "13800138000", "realName": "王五"}, headers=headers)
    client.post("/api/user/update", json={"phone": None, "realName": ""}, headers=headers)
    data = info(client, headers)["data"]
    assert data["phone"] is None and data["realName"] is None


@pytest.mark.parametrize(
    "body, msg",
    [
        ({}, "请求数据格式错误"),
        ({"unknown": 1}, "请求数据格式错误"),
        ({"nickName": ""}, "昵称格式不正确"),
        ({"nickName": "   "}, "昵称格式不正确"),
        ({"nickName": "x" * 65}, "昵称格式不正确"),
        ({"nickName": 5}, "昵称格式不正确"),
        ({"phone": "1380013800"}, "手机号格式不正确"),
        ({"phone": "23800138000"}, "手机号格式不正确"),
        ({"phone": "1380013800a"}, "手机号格式不正确"),
        ({"phone": 13800138000}, "手机号格式不正确"),
        ({"phone": "１３８００１３８０００"}, "手机号格式不正确"),
        ({"realName": "x" * 33}, "姓名格式不正确"),
        ({"realName": ["a"]}, "姓名格式不正确"),
        ({"nickName": "好名字", "phone": "bad"}, "手机号格式不正确"),
    ],
)
def test_update_validation_changes_nothing(client, auth, body, msg):
    headers = auth.headers("val")
    response = client.post("/api/user/update", json=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"code": 400, "msg": msg}
    data = info(client, headers)["data"]
    assert (data["nickName"], data["phone"], data["realName"]) == ("张三", None, None)


def test_update_body_must_be_an_object(client, auth):
    response = client.post("/api/user/update", data="[]", content_type="application/json", headers=auth.headers())
    assert response.get_json() == {"code": 400, "msg": "请求数据格式错误"}
