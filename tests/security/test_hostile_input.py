"""Hostile input in every field of every endpoint: the contract's 4xx envelope, never a 422 or a 500."""
import copy

import pytest

from .hostile import RECORD

BAD_JSON = "请求数据格式错误"
BAD_RECORD = "评测数据格式错误"
BAD_PAGE = "分页参数错误"
NO_RECORD = "记录不存在"

WRONG_TYPES = {
    "empty list": [],
    "list": ["x", 1],
    "zero": 0,
    "one": 1,
    "float": 1.5,
    "negative": -1,
    "true": True,
    "false": False,
    "null": None,
    "empty object": {},
    "nested object": {"a": {"b": [1, {"c": None}]}},
}
LONG = "长" * 20_000  # 60 KB of UTF-8: over every field's limit, under the body limit


def answer(response):
    return response.status_code, response.get_json()


def envelope(status, msg):
    return status, {"code": status, "msg": msg}


LOGIN = {"code": "hostile", "nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}


def login_expectation(field, value):
    if field == "code":
        if isinstance(value, str):
            return envelope(400, "code无效，请重新登录")
        return envelope(400, "缺少登录凭证code")
    return envelope(400, "请完善头像和昵称" if value is None else "头像或昵称格式不正确")


@pytest.mark.parametrize("field", ["code", "nickName", "avatarUrl"])
@pytest.mark.parametrize("value", [*WRONG_TYPES.values(), LONG], ids=[*WRONG_TYPES, "over-long"])
def test_login_fields(client, field, value):
    response = client.post("/api/auth/login", json={**LOGIN, field: value})
    assert answer(response) == login_expectation(field, value)


@pytest.mark.parametrize(
    "value", [*WRONG_TYPES.values(), LONG, "rt_" + "a" * 200, "rt_"], ids=[*WRONG_TYPES, "over-long", "rt_ long", "rt_"]
)
def test_refresh_token_field(client, value):
    response = client.post("/api/auth/refresh", json={"refreshToken": value})
    assert answer(response) == envelope(401, "登录已失效，请重新登录")


NOT_BOOLEANS = {k: v for k, v in WRONG_TYPES.items() if v is not None and not isinstance(v, bool)}


@pytest.mark.parametrize("value", [*NOT_BOOLEANS.values(), LONG], ids=[*NOT_BOOLEANS, "over-long"])
def test_logout_all_must_be_a_boolean(client, auth, value):
    headers = auth.headers()
    assert answer(client.post("/api/auth/logout", json={"all": value}, headers=headers)) == envelope(400, BAD_JSON)
    # The refused call ended nothing.
    assert client.get("/api/user/info", headers=headers).status_code == 200


UPDATE_MESSAGES = {"nickName": "昵称格式不正确", "phone": "手机号格式不正确", "realName": "姓名格式不正确"}


@pytest.mark.parametrize("field", UPDATE_MESSAGES)
@pytest.mark.parametrize("value", [*WRONG_TYPES.values(), LONG], ids=[*WRONG_TYPES, "over-long"])
def test_user_update_fields(client, auth, field, value):
    headers = auth.headers()
    response = client.post("/api/user/update", json={field: value}, headers=headers)
    if value is None and field != "nickName":  # null clears phone and realName
        assert answer(response) == (200, {"code": 200, "msg": "更新成功", "data": {}})
    else:
        assert answer(response) == envelope(400, UPDATE_MESSAGES[field])
        assert client.get("/api/user/info", headers=headers).get_json()["data"]["nickName"] == "张三"


def record_with(path, value):
    """RECORD with the field at `path` (a tuple of keys) set to `value`."""
    body = copy.deepcopy(RECORD)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


RECORD_FIELDS = {
    "answers": ("answers",),
    "answer value": ("answers", "Q1"),
    "result": ("result",),
    "total_level": ("result", "total_level"),
    "rounded_level": ("result", "rounded_level"),
    "level_label": ("result", "level_label"),
    "dimension_scores": ("result", "dimension_scores"),
    "dimension score": ("result", "dimension_scores", "forehand"),
    "dimension_comments": ("result", "dimension_comments"),
    "dimension comment": ("result", "dimension_comments", "forehand"),
    "summary_text": ("result", "summary_text"),
}
OPTIONAL = {"answers", "dimension_comments", "summary_text"}
MAPPINGS = {"answers", "dimension_scores", "dimension_comments"}
LEVELS = {"total_level", "rounded_level", "dimension score"}


def record_accepts(field, value):
    """What the contract allows among the hostile values: omitted optionals, empty maps, levels in range."""
    if value is None:
        return field in OPTIONAL
    if value == {}:
        return field in MAPPINGS
    if field in LEVELS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return 1 <= value <= 7 and (field != "rounded_level" or float(value * 2).is_integer())
    return False


@pytest.mark.parametrize("field", RECORD_FIELDS)
@pytest.mark.parametrize("value", [*WRONG_TYPES.values(), LONG], ids=[*WRONG_TYPES, "over-long"])
def test_record_fields(client, auth, field, value):
    headers = auth.headers()
    response = client.post("/api/evaluation/save", json=record_with(RECORD_FIELDS[field], value), headers=headers)
    if record_accepts(field, value):
        assert response.status_code == 200
    else:
        assert answer(response) == envelope(400, BAD_RECORD)
        assert client.get("/api/evaluation/history", headers=headers).get_json()["data"]["total"] == 0


@pytest.mark.parametrize(
    "path, value",
    [
        (("result", "total_level"), 1e308),
        (("result", "total_level"), -0.0),
        (("result", "total_level"), 7.000001),
        (("result", "rounded_level"), 3.25),
        (("result", "dimension_scores", "forehand"), 0.99),
        (("result", "dimension_scores"), {"k" * 33: 3.0}),
        (("result", "dimension_scores"), {"": 3.0}),
        (("result", "dimension_scores"), {f"d{i}": 3.0 for i in range(51)}),
        (("answers",), {f"Q{i}": "A" for i in range(201)}),
        (("answers",), {"Q" * 33: "A"}),
        (("answers", "Q1"), "A" * 33),
        (("answers", "Q1"), ""),
        (("result", "level_label"), "L" * 33),
        (("result", "level_label"), "   "),
        (("result", "summary_text"), "s" * 2001),
        (("result", "dimension_comments", "forehand"), "c" * 501),
    ],
    ids=str,
)
def test_record_limits(client, auth, path, value):
    response = client.post("/api/evaluation/save", json=record_with(path, value), headers=auth.headers())
    assert answer(response) == envelope(400, BAD_RECORD)


NOT_JSON = {
    "invalid UTF-8": b'{"code": "\xff\xfe", "nickName": "n", "avatarUrl": "https://a"}',
    "overlong UTF-8": b'{"code": "\xc0\xaf"}',
    "UTF-8 encoded surrogate": b'{"code": "\xed\xa0\x80"}',
    "lone surrogate escape": b'{"code": "\\ud800", "nickName": "\\udfff", "avatarUrl": "https://a"}',
    "NaN": b'{"result": {"total_level": NaN, "rounded_level": 3.5}}',
    "Infinity": b'{"result": {"total_level": Infinity}}',
    "-Infinity": b'{"result": {"total_level": -Infinity}}',
    "number overflowing a double": b'{"result": {"total_level": 1e400}}',
    "byte order mark": b'\xef\xbb\xbf{"code": "a"}',
    "nesting 30000 deep": b'{"answers": ' + b"[" * 30000 + b"]" * 30000 + b"}",
    "truncated": b'{"code": "a"',
    "empty": b"",
    "form data": b"code=a&nickName=b",
}
BODY_ENDPOINTS = [
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/user/update"),
    ("POST", "/api/evaluation/save"),
    ("POST", "/api/evaluation/basic"),
    ("POST", "/api/evaluation/full"),
]


@pytest.mark.parametrize("method, path", BODY_ENDPOINTS)
@pytest.mark.parametrize("body", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_bodies_that_are_not_json(client, auth, method, path, body):
    response = client.open(path, method=method, data=body, content_type="application/json", headers=auth.headers())
    assert answer(response) == envelope(400, BAD_JSON)


NOT_EMPTY = {k: v for k, v in NOT_JSON.items() if k != "empty"}  # logout's body is optional


@pytest.mark.parametrize("body", NOT_EMPTY.values(), ids=NOT_EMPTY.keys())
def test_logout_body_that_is_not_json(client, auth, body):
    response = client.post("/api/auth/logout", data=body, content_type="application/json", headers=auth.headers())
    assert answer(response) == envelope(400, BAD_JSON)


@pytest.mark.parametrize("method, path", BODY_ENDPOINTS + [("POST", "/api/auth/logout")])
def test_body_over_the_limit(client, auth, method, path):
    over = client.application.config["MAX_CONTENT_LENGTH"] + 1
    response = client.open(path, method=method, json={"x": "a" * over}, headers=auth.headers())
    assert answer(response) == envelope(413, "请求数据过大")


def test_unusual_but_valid_text_is_stored_verbatim(client, auth):
    """Emoji (4-byte UTF-8), NUL and right-to-left marks are text like any other."""
    nickname = "🎾\u0000\u202e名"
    headers = auth.headers("unusual", nickname=nickname)
    assert client.get("/api/user/info", headers=headers).get_json()["data"]["nickName"] == nickname
    record = record_with(("result", "level_label"), "🎾" * 32)
    record_id = client.post("/api/evaluation/save", json=record, headers=headers).get_json()["data"]["record_id"]
    stored = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]
    assert stored["level_label"] == "🎾" * 32


BAD_PAGES = ["", "0", "-1", "1.5", "1e3", "abc", "１", " 1", "+1", "0x10", "NaN", "Infinity", "%FF", "%00",
             "9223372036854775808", "9" * 100]


@pytest.mark.parametrize("value", BAD_PAGES)
@pytest.mark.parametrize("name", ["page", "page_size"])
def test_bad_page_parameters(client, auth, name, value):
    response = client.get(f"/api/evaluation/history?{name}={value}", headers=auth.headers())
    assert answer(response) == envelope(400, BAD_PAGE)


@pytest.mark.parametrize("page_size", ["51", "1000000"])
def test_page_size_over_50(client, auth, page_size):
    response = client.get(f"/api/evaluation/history?page_size={page_size}", headers=auth.headers())
    assert answer(response) == envelope(400, BAD_PAGE)


@pytest.mark.parametrize("page", ["2", "1000001", "1000000000000000000", "9223372036854775807"])
def test_huge_page_numbers_are_empty_pages(client, auth, page):
    headers = auth.headers()
    client.post("/api/evaluation/save", json=RECORD, headers=headers)
    response = client.get(f"/api/evaluation/history?page={page}&page_size=50", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["data"] == {"total": 1, "page": int(page), "page_size": 50, "records": []}


BAD_IDS = ["0", "-1", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
           "18446744073709551616", "9" * 40, "1e3", "1.0", "0x1", "abc", "%FF", "%00", "NaN", "Infinity",
           "１", "%201", "1%20", "null", "[1]", "1;DROP TABLE aiteni_user"]


@pytest.mark.parametrize("record_id", BAD_IDS)
@pytest.mark.parametrize("method, template", [("GET", "/api/evaluation/result/{}"),
                                              ("DELETE", "/api/evaluation/delete/{}")])
def test_ids_that_are_not_records(client, auth, method, template, record_id):
    headers = auth.headers()
    client.post("/api/evaluation/save", json=RECORD, headers=headers)
    response = client.open(template.format(record_id), method=method, headers=headers)
    assert answer(response) == envelope(404, NO_RECORD)
    assert client.get("/api/evaluation/history", headers=headers).get_json()["data"]["total"] == 1


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "PATCH", "PUT", "CONNECT", "PROPFIND"])
@pytest.mark.parametrize("path", ["/api/user/info", "/api/auth/login", "/api/evaluation/result/1", "/api/user"])
def test_other_methods_get_the_405_envelope(client, method, path):
    response = client.open(path, method=method)
    assert answer(response) == envelope(405, "请求方法不允许")
    assert response.mimetype == "application/json"
    assert "OPTIONS" not in response.headers["Allow"]
