"""The declarations (aiteni/schemas/): the limits the docs state are the ones declared, the "not blank"
pattern means what str.strip means in the engine that runs it, and which message wins when several
fields fail is the one the contract's order gives."""
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from aiteni.models import EvaluationRecord, User
from aiteni.schemas import fields
from aiteni.schemas.share import DEFAULT_WIDTH, MAX_WIDTH, MIN_WIDTH

DOCS = Path(__file__).resolve().parents[2] / "docs"


def normalised(page):
    return " ".join((DOCS / page).read_text(encoding="utf-8").split())


def test_the_docs_state_the_declared_limits():
    key = f"1–{fields.KEY_MAX} characters"
    api = normalised("api.md")
    for phrase in [
        f"numbers in [{fields.LOWEST}, {fields.HIGHEST}]", f"`rounded_level` is a multiple of {fields.STEP}",
        f"`level_label`: 1–{fields.LABEL_MAX} characters",
        f"`dimension_scores`: required, at most {fields.MAX_DIMENSIONS} entries",
        f"at most {fields.MAX_DIMENSIONS} entries, each value a string of at most {fields.COMMENT_MAX} characters",
        f"Keys of both: strings of {key}",
        f"`answers`: at most {fields.MAX_ANSWERS} entries, keys and values strings of {key}",
        f"`summary_text`: at most {fields.SUMMARY_MAX} characters",
        f"lists of at most {fields.MAX_SAVED_KEYS} strings of {key}",
        f"not strings of {key}, over {fields.MAX_ANSWERS} pairs",
        f"(dimension keys, at most {fields.MAX_LISTED} each)", f"`page_size` 1–{fields.MAX_PAGE_SIZE}",
        f"a `code` longer than {fields.WECHAT_CODE_MAX} characters",
        f"a `code` over {fields.WECHAT_CODE_MAX} characters",
        f"clamped to {MIN_WIDTH}–{MAX_WIDTH}", f"it is {DEFAULT_WIDTH}, WeChat's default",
    ]:
        assert phrase in api, phrase
    contract = normalised("api-contract.md")
    https, http, wxfile = fields.AVATAR_SCHEMES
    assert (f"nickName over {fields.NICKNAME_MAX} characters; avatarUrl over {fields.AVATAR_MAX} characters or not "
            f"an `{https}`, `{http}` or `{wxfile}` URL") in contract
    for phrase in [
        f"realName over {fields.REAL_NAME_MAX} characters",
        f"nickName empty/blank or over {fields.NICKNAME_MAX} characters",
        f"non-string keys/values over {fields.KEY_MAX} characters or over {fields.MAX_ANSWERS} pairs",
        f"numbers in [{fields.LOWEST}, {fields.HIGHEST}]; `rounded_level` a multiple of {fields.STEP}",
        f"`level_label` 1..{fields.LABEL_MAX} characters",
        f"strings of 1..{fields.KEY_MAX} characters; at most {fields.MAX_DIMENSIONS} dimensions and "
        f"{fields.MAX_ANSWERS} answers; `summary_text` at most {fields.SUMMARY_MAX} characters",
        f"`dimension_comments` values at most {fields.COMMENT_MAX} characters",
        f"lists of at most {fields.MAX_SAVED_KEYS} dimension keys",
    ]:
        assert phrase in contract, phrase


def test_the_columns_are_as_wide_as_the_fields():
    columns = User.__table__.c
    assert (columns.wechat_nickname.type.length, columns.wechat_avatar.type.length, columns.real_name.type.length) \
        == (fields.NICKNAME_MAX, fields.AVATAR_MAX, fields.REAL_NAME_MAX)
    assert EvaluationRecord.__table__.c.level_label.type.length == fields.LABEL_MAX
    assert EvaluationRecord.__table__.c.questions_version.type.length == fields.BANK_VERSION_MAX
    assert columns.phone.type.length == fields.BOUND_PHONE_MAX


def test_not_blank_in_pydantics_regex_engine_is_exactly_what_str_strip_keeps():
    """The server checks the pattern with pydantic-core's engine (Rust's regex), not Python's re."""
    filled = TypeAdapter(fields.filled(1))
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        try:
            filled.validate_python(char)
            kept = True
        except ValidationError:
            kept = False
        assert kept == bool(char.strip()), hex(code)


@pytest.mark.parametrize("body, msg", [
    ({"nickName": 5, "avatarUrl": None}, "请完善头像和昵称"),  # absent (null) before a wrong type
    ({"code": "x" * 129}, "code无效，请重新登录"),  # the code before the profile
    ({"code": " " * 200, "nickName": "a", "avatarUrl": "https://a"}, "缺少登录凭证code"),  # blank before too long
    ({"code": "a", "nickName": "x" * 65, "avatarUrl": " " * 600}, "请完善头像和昵称"),  # blank before too long
    ({"code": "a", "nickName": ["x"], "avatarUrl": "   "}, "头像或昵称格式不正确"),  # wrong type before blank
])
def test_login_answers_the_first_failure_in_the_contracts_order(client, fake_wechat, body, msg):
    body = {"code": "a", **body}
    response = client.post("/api/auth/login", json=body)
    assert (response.status_code, response.get_json()) == (400, {"code": 400, "msg": msg})
    assert fake_wechat.calls == []


def test_update_answers_its_first_bad_field_and_clears_a_long_blank_name(client, auth):
    headers = auth.headers()
    response = client.post("/api/user/update", json={"realName": 3, "phone": "1", "nickName": ""}, headers=headers)
    assert response.get_json() == {"code": 400, "msg": "昵称格式不正确"}
    assert client.post("/api/user/update", json={"realName": " " * 40}, headers=headers).status_code == 200
    assert client.get("/api/user/info", headers=headers).get_json()["data"]["realName"] is None


def test_a_bad_share_path_answers_before_a_bad_width(client, fake_wechat):
    response = client.post("/api/generate_qrcode", json={"path": "pages/index/index", "width": "640"})
    assert response.get_json() == {"code": 400, "msg": "分享路径无效"}
