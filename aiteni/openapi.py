"""The OpenAPI 3.1 description of the HTTP contract (API.md), served at /api/openapi.json.

Kept by hand, next to the code, but every `msg` it lists is the very constant
the code answers with, so a reworded message cannot drift from the document.
tests/test_openapi.py fails when a route and the document disagree.
"""
from config import Config

from . import __version__, auth, share, tokens, users, wechat
from .errors import BAD_JSON, HTTP_MESSAGES, UNAVAILABLE
from .evaluation import bank, certainty, store, texts
from .models import MAX_ID

# Text the server trims (str.strip) must keep a character that is not whitespace. Python's
# whitespace spelled out, because a pattern's `\s` means something else in JSON Schema (ECMA-262).
NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

TOKEN_401 = [tokens.INVALID, tokens.EXPIRED, tokens.USER_GONE, tokens.REVOKED]


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _envelope(status, messages, data=None):
    """The envelope schema for one status: `code` is the status, `msg` one of `messages`."""
    properties = {"code": {"const": status}, "msg": {"enum": list(dict.fromkeys(messages))}}
    required = ["code", "msg"]
    if data is None and status == 200:
        properties["data"] = {"type": "object", "additionalProperties": False, "maxProperties": 0}
        required.append("data")
    elif data is None:
        properties["data"] = {"type": "null"}
    else:
        properties["data"] = data
        if status == 200:
            required.append("data")
    return {"type": "object", "required": required, "properties": properties, "additionalProperties": False}


def _json(description, schema):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ok(msg, data=None):
    return _json(f"Success: `{msg}`", _envelope(200, [msg], data))


def _error(status, messages, description, data=None):
    schema = _envelope(status, messages, data)
    response = _json(description, schema)
    response["content"]["application/json"]["examples"] = {
        f"e{i}": {"value": {"code": status, "msg": msg}} for i, msg in enumerate(schema["properties"]["msg"]["enum"])
    }
    return response


def _common(body=False):
    """Answers any operation may give: rate limit, server error, database down; 413 with a body."""
    responses = {
        "429": _error(429, [HTTP_MESSAGES[429]], "This server's rate limit"),
        "500": _error(500, [HTTP_MESSAGES[500]], "Anything unexpected (never a traceback)"),
        "503": _error(503, [UNAVAILABLE], "The database does not answer"),
    }
    if body:
        limit = f"{Config.MAX_CONTENT_LENGTH // 1024} KiB"
        responses["413"] = _error(413, [HTTP_MESSAGES[413]], f"Body over the {limit} limit")
    return responses


def _authenticated(missing=tokens.LOGIN_FIRST):
    return {"401": _error(401, [missing, *TOKEN_401], "Missing, invalid, expired or revoked token")}


def _body(schema, example, required=True):
    return {"required": required, "content": {"application/json": {"schema": schema, "example": example}}}


RECORD_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "A record id; anything that is not the caller's record answers 404 `记录不存在`",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
NOT_FOUND_RECORD = {
    "404": _error(404, [store.NO_RECORD, HTTP_MESSAGES[404]], "No such record of the caller's"),
}
SECURED = [{"bearerAuth": []}]
# Signed in or not: a missing, expired or revoked token makes the call anonymous, never a 401.
TOKEN_OPTIONAL = [{}, {"bearerAuth": []}]

# A dimension key, and an answer's question or option id, as /save and /basic check them.
KEY = {"type": "string", "minLength": 1, "maxLength": 32}
# An id the question bank hands out (question, option, dimension).
BANK_ID = {"type": "string", "pattern": f"^{bank.ID.pattern}$"}
LABEL = {"type": "string", "minLength": 1, "maxLength": bank.MAX_LABEL}


def _listed(max_items):
    """advantages or weaknesses: dimension keys, the most distinct first."""
    return {"type": "array", "maxItems": max_items, "items": KEY}


# The Result (API.md) as scoring computes it; records and /basic answers extend it.
RESULT = {
    "total_level": _ref("Level"),
    "rounded_level": _ref("RoundedLevel"),
    "level_label": LABEL,
    "level_range": {
        "type": ["array", "null"], "prefixItems": [_ref("RoundedLevel"), _ref("RoundedLevel")],
        "minItems": 2, "maxItems": 2,
        "description": f"[low, high]: where the level lies with about {certainty.COVERAGE:.0%} probability given "
                       "the answers; null in saved records and records from before it was kept",
    },
    "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                   "description": "The probability that rounded_level is the player's level; null as level_range"},
    "provisional": {"type": ["boolean", "null"],
                    "description": "A dimension of the basic stage went unanswered; null as level_range"},
    "consistent": {"type": ["boolean", "null"],
                   "description": "false: the answers contradict each other; null as level_range"},
    "dimension_scores": {
        "type": "object",
        "maxProperties": store.MAX_DIMENSIONS,
        "propertyNames": KEY,
        "additionalProperties": _ref("Level"),
        "description": "In the bank's display order",
    },
    "dimension_comments": {
        "type": "object",
        "maxProperties": store.MAX_DIMENSIONS,
        "propertyNames": KEY,
        "additionalProperties": {"type": "string", "maxLength": bank.MAX_COMMENT},
    },
    "advantages": _listed(texts.MAX_LISTED),
    "weaknesses": _listed(texts.MAX_LISTED),
    "summary_text": {"type": "string"},
    "stage": {"enum": ["basic", "full", "saved"], "description": "saved: stored through /save"},
    "questions_version": {"type": ["string", "null"], "description": "The bank that scored it; null if saved"},
    "record_id": {"type": ["integer", "null"], "description": "null: nothing was stored"},
    "saved_to_cloud": {"type": "boolean"},
}
RECORD = {
    "id": {"type": "integer"},
    **RESULT,
    # /save takes longer lists than scoring makes.
    "advantages": _listed(store.MAX_SAVED_KEYS),
    "weaknesses": _listed(store.MAX_SAVED_KEYS),
    "record_id": {"type": "integer", "description": "Equal to `id`"},
    "saved_to_cloud": {"const": True},
    "answers": _ref("Answers"),
    "created_at": {
        "type": "string",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
        "description": "UTC, ISO 8601 with `Z`",
    },
}
BASIC_RESULT = {
    **RESULT,
    "need_advanced": {"type": "boolean", "description": "Whether to offer the advanced questions"},
}


def _object(properties):
    """An object with exactly these properties, all present."""
    return {"type": "object", "required": list(properties), "properties": properties, "additionalProperties": False}


def _questions(tier):
    """A list of the bank's questions, every one of them of `tier`."""
    return {
        "type": "array",
        "items": {"allOf": [_ref("Question")], "properties": {"question_tier": {"const": tier}}},
    }


SCHEMAS = {
    "UserInfo": {
        "type": "object",
        "required": ["id", "nickName", "avatarUrl"],
        "properties": {"id": {"type": "integer"}, "nickName": {"type": "string"}, "avatarUrl": {"type": "string"}},
        "additionalProperties": False,
    },
    "TokenPair": {
        "type": "object",
        "required": ["token", "refreshToken", "expiresIn"],
        "properties": {
            "token": {"type": "string", "description": "Access JWT (HS256), sent as `Authorization: Bearer`"},
            "refreshToken": {"type": "string", "pattern": "^rt_", "description": "Opaque, single use"},
            "expiresIn": {"type": "integer", "description": "Access token lifetime in seconds"},
        },
        "additionalProperties": False,
    },
    "LoginData": {
        "type": "object",
        "required": ["token", "refreshToken", "expiresIn", "userInfo"],
        "properties": {
            "token": {"$ref": "#/components/schemas/TokenPair/properties/token"},
            "refreshToken": {"$ref": "#/components/schemas/TokenPair/properties/refreshToken"},
            "expiresIn": {"$ref": "#/components/schemas/TokenPair/properties/expiresIn"},
            "userInfo": _ref("UserInfo"),
        },
        "additionalProperties": False,
    },
    "User": {
        "type": "object",
        "required": ["id", "username", "nickName", "avatarUrl", "phone", "realName", "createdAt"],
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "nickName": {"type": "string"},
            "avatarUrl": {"type": "string"},
            "phone": {"type": ["string", "null"]},
            "realName": {"type": ["string", "null"]},
            "createdAt": {
                "type": "string",
                "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
                "description": "China time (UTC+8), shown verbatim by the client",
            },
        },
        "additionalProperties": False,
    },
    "Level": {"type": "number", "minimum": bank.LOWEST, "maximum": bank.HIGHEST},
    "RoundedLevel": {"allOf": [_ref("Level")], "multipleOf": bank.STEP},
    "Answers": {
        "type": "object",
        "maxProperties": store.MAX_ANSWERS,
        "propertyNames": KEY,
        "additionalProperties": KEY,
        "description": "{question id: option id}",
    },
    "AnswersInput": {
        "type": "object",
        "required": ["answers"],
        "properties": {"answers": {"allOf": [_ref("Answers")], "minProperties": 1}},
        "description": "Answers that do not fit the current bank are dropped; at least one must fit",
    },
    "RecordInput": {
        "type": "object",
        "required": ["result"],
        "properties": {
            "answers": {"oneOf": [_ref("Answers"), {"type": "null"}]},
            "result": {
                "type": "object",
                "required": ["total_level", "rounded_level", "level_label", "dimension_scores"],
                "properties": {
                    "total_level": _ref("Level"),
                    "rounded_level": _ref("RoundedLevel"),
                    "level_label": {**LABEL, "pattern": NOT_BLANK},
                    "dimension_scores": {
                        "type": "object",
                        "maxProperties": store.MAX_DIMENSIONS,
                        "propertyNames": KEY,
                        "additionalProperties": _ref("Level"),
                    },
                    "dimension_comments": {
                        "type": ["object", "null"],
                        "maxProperties": store.MAX_DIMENSIONS,
                        "propertyNames": KEY,
                        "additionalProperties": {"type": "string", "maxLength": bank.MAX_COMMENT},
                    },
                    "advantages": {**_listed(store.MAX_SAVED_KEYS), "type": ["array", "null"]},
                    "weaknesses": {**_listed(store.MAX_SAVED_KEYS), "type": ["array", "null"]},
                    "summary_text": {"type": ["string", "null"], "maxLength": 2000},
                },
            },
        },
    },
    "Result": _object(RESULT),
    "BasicResult": _object(BASIC_RESULT),
    "Record": {**_object(RECORD), "description": "A Result with its id, answers and creation time"},
    "History": {
        "type": "object",
        "required": ["total", "page", "page_size", "records"],
        "properties": {
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1, "maximum": store.MAX_PAGE_SIZE},
            "records": {"type": "array", "items": _ref("Record")},
        },
        "additionalProperties": False,
    },
    "Question": _object({
        "id": BANK_ID,
        "question_tier": {"enum": list(bank.TIERS)},
        "dimension": BANK_ID,
        "dimensionName": LABEL,
        "text": {"type": "string", "minLength": 1},
        "options": {
            "type": "array",
            "items": _object({"id": BANK_ID, "text": {"type": "string", "minLength": 1}}),
            "description": "From the weakest play to the strongest; `**bold**` marks a phrase",
        },
    }),
    "Questions": _object({
        "version": {"type": "string", "description": "/api/version's questions_version"},
        "basic_questions": {**_questions("basic"), "minItems": 1},
        "advanced_questions": _questions("advanced"),
    }),
    "EvaluationConfig": _object({
        "version": {"type": "string"},
        "levels": {"type": "array", "items": {"type": "number"}, "const": list(bank.GRID)},
        "level_labels": {
            "type": "object",
            "required": [f"{level:.1f}" for level in bank.GRID],
            "propertyNames": {"enum": [f"{level:.1f}" for level in bank.GRID]},
            "additionalProperties": LABEL,
        },
        "dimensions": {
            "type": "array",
            "minItems": 1,
            "items": _object({"key": BANK_ID, "name": LABEL}),
            "description": "In display order",
        },
        "advanced_threshold": {"allOf": [_ref("Level")], "description": "`need_advanced` from this basic level on"},
    }),
}

RECORD_EXAMPLE = {
    "answers": {"Q1": "Q1_A3", "Q2": "Q2_A4"},
    "result": {
        "total_level": 3.62, "rounded_level": 3.5, "level_label": "发展中业余选手",
        "dimension_scores": {"baseline": 3.0, "forehand": 3.8},
        "dimension_comments": {"forehand": "正手已经是你的核心武器"},
        "advantages": ["forehand"], "weaknesses": ["baseline"],
        "summary_text": "整体来看……",
    },
}
ANSWERS_EXAMPLE = {"answers": {"Q1": "Q1_A3", "Q2": "Q2_A4"}}
ETAG = {"ETag": {"description": "The bank's version", "required": True, "schema": {"type": "string"}}}


def _evaluation(summary, result):
    """POST /basic or /full: scores the answers, and stores them as a record for a signed-in caller."""
    return {
        "post": {
            "tags": ["evaluation"],
            "summary": summary,
            "security": TOKEN_OPTIONAL,
            "requestBody": _body(_ref("AnswersInput"), ANSWERS_EXAMPLE),
            "responses": {
                "200": _ok("评测完成", result),
                "400": _error(
                    400, [BAD_JSON, store.BAD_RECORD],
                    f"Body or `answers` malformed (`{BAD_JSON}`), or no answer fits the bank (`{store.BAD_RECORD}`)",
                ),
                **_common(body=True),
            },
        }
    }


LOGIN_400 = [
    BAD_JSON, auth.NO_CODE, users.NEED_PROFILE, users.BAD_PROFILE, wechat.InvalidCode.message,
    wechat.RateLimited.message, wechat.MisConfigured.message,
]


def _wechat_failures(busy="WeChat busy (-1) or over a quota (45009, 45011), or the database down"):
    """502 and 503 of an operation that calls WeChat, with _common's answers (its 503 replaced)."""
    return {
        "502": _error(502, [wechat.Unavailable.message], "WeChat unreachable or answering nonsense"),
        **_common(body=True),
        "503": _error(503, [wechat.Overloaded.message, UNAVAILABLE], busy),
    }

PATHS = {
    "/api/auth/login": {
        "post": {
            "tags": ["auth"],
            "summary": "Log in with a wx.login code; creates the user on first login",
            "requestBody": _body({
                "type": "object",
                "required": ["code", "avatarUrl", "nickName"],
                "properties": {
                    "code": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": NOT_BLANK},
                    "avatarUrl": {
                        "type": "string", "maxLength": 512, "pattern": "^(https://|http://|wxfile://)",
                        "description": "As chooseAvatar gave it: wxfile://, http://tmp/ or https://",
                    },
                    "nickName": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NOT_BLANK},
                },
            }, {"code": "0a3Xyz000abcDEF", "avatarUrl": "wxfile://tmp_3f2a.png", "nickName": "张三"}),
            "responses": {
                "200": _ok("登录成功", _ref("LoginData")),
                "400": _error(400, LOGIN_400, "Bad body, bad profile, or WeChat refused the code"),
                "403": _error(403, [wechat.AccountAtRisk.message], "WeChat errcode 40226"),
                **_wechat_failures("WeChat busy (-1) or the database down"),
            },
        }
    },
    "/api/auth/verify": {
        "post": {
            "tags": ["auth"],
            "summary": "Check an access token",
            "security": SECURED,
            "responses": {
                "200": _ok("Token有效", {
                    "type": "object",
                    "required": ["userId", "userInfo"],
                    "properties": {
                        "userId": {"type": "integer"},
                        "userInfo": {
                            "type": "object",
                            "required": ["nickName", "avatarUrl"],
                            "properties": {"nickName": {"type": "string"}, "avatarUrl": {"type": "string"}},
                            "additionalProperties": False,
                        },
                    },
                    "additionalProperties": False,
                }),
                **_authenticated(tokens.MISSING_TOKEN),
                **_common(),
            },
        }
    },
    "/api/auth/refresh": {
        "post": {
            "tags": ["auth"],
            "summary": "Rotate a refresh token into a new token pair (each refresh token works once)",
            "requestBody": _body({
                "type": "object",
                "required": ["refreshToken"],
                "properties": {"refreshToken": {"type": "string"}},
            }, {"refreshToken": "rt_3q2-7wEvhxTbMuFl0bvd8A0QJzPZqVnbQJ5f8gqBEXs"}),
            "responses": {
                "200": _ok("刷新成功", _ref("TokenPair")),
                "400": _error(400, [BAD_JSON], "Body not a JSON object"),
                "401": _error(401, [tokens.REVOKED], "Unknown, expired, reused or malformed refresh token"),
                **_common(body=True),
            },
        }
    },
    "/api/auth/logout": {
        "post": {
            "tags": ["auth"],
            "summary": "End this login session, or every session with `all: true`",
            "security": SECURED,
            "requestBody": _body(
                {"type": "object", "properties": {"all": {"type": ["boolean", "null"], "description": "null: absent"}}},
                {"all": True},
                required=False,
            ),
            "responses": {
                "200": _ok("已退出登录"),
                "400": _error(400, [BAD_JSON], "Body not a JSON object, or `all` not a boolean"),
                **_authenticated(),
                **_common(body=True),
            },
        }
    },
    "/api/user/info": {
        "get": {
            "tags": ["user"],
            "summary": "The signed-in user's profile",
            "security": SECURED,
            "responses": {"200": _ok("success", _ref("User")), **_authenticated(), **_common()},
        }
    },
    "/api/user/update": {
        "post": {
            "tags": ["user"],
            "summary": "Change nickname, phone or real name (all or nothing)",
            "security": SECURED,
            "requestBody": _body({
                "type": "object",
                "minProperties": 1,
                "properties": {
                    "nickName": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NOT_BLANK},
                    "phone": {"type": ["string", "null"], "pattern": "^(1[0-9]{10})?$",
                              "description": "null or empty clears it"},
                    "realName": {"type": ["string", "null"], "maxLength": 32,
                                 "description": "null or blank clears it"},
                },
            }, {"nickName": "张三", "phone": "13800138000", "realName": "张三"}),
            "responses": {
                "200": _ok("更新成功"),
                "400": _error(
                    400, [BAD_JSON, users.BAD_NICKNAME, users.BAD_PHONE, users.BAD_REAL_NAME],
                    "Body not an object, no known field, or a field in the wrong format",
                ),
                **_authenticated(),
                **_common(body=True),
            },
        }
    },
    "/api/user/phone": {
        "post": {
            "tags": ["user"],
            "summary": "Bind the phone number behind a getPhoneNumber button's code (kept as `phone`)",
            "security": SECURED,
            "requestBody": _body({
                "type": "object",
                "required": ["code"],
                "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": NOT_BLANK}},
            }, {"code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"}),
            "responses": {
                "200": _ok("绑定成功", {
                    "type": "object",
                    "required": ["phone"],
                    "properties": {"phone": {
                        "type": "string", "pattern": r"^(1[0-9]{10}|\+[0-9]{2,15})$",
                        "description": "Mainland numbers plain, others `+<country code><number>`",
                    }},
                    "additionalProperties": False,
                }),
                "400": _error(
                    400, [BAD_JSON, auth.NO_PHONE_CODE, wechat.InvalidPhoneCode.message, wechat.MisConfigured.message],
                    "Bad body, no code, WeChat refused the code (40029), or the server's WeChat settings are wrong",
                ),
                **_authenticated(),
                **_wechat_failures(),
            },
        }
    },
    "/api/user": {
        "delete": {
            "tags": ["user"],
            "summary": "Delete the account and its records; every token stops working at once",
            "security": SECURED,
            "responses": {"200": _ok("账号已注销"), **_authenticated(), **_common()},
        }
    },
    "/api/evaluation/questions": {
        "get": {
            "tags": ["evaluation"],
            "summary": "The questionnaire (no scoring data)",
            "parameters": [{
                "name": "If-None-Match",
                "in": "header",
                "description": "The ETag of the copy the client holds",
                "schema": {"type": "string"},
            }],
            "responses": {
                "200": {**_ok("success", _ref("Questions")), "headers": ETAG},
                "304": {"description": "The client's copy is current (no body)", "headers": ETAG},
                **_common(),
            },
        }
    },
    "/api/evaluation/config": {
        "get": {
            "tags": ["evaluation"],
            "summary": "Levels, their labels, the dimensions and the advanced threshold",
            "responses": {"200": _ok("success", _ref("EvaluationConfig")), **_common()},
        }
    },
    "/api/evaluation/basic": _evaluation(
        "Score the basic stage; a signed-in caller's result becomes a record", _ref("BasicResult"),
    ),
    "/api/evaluation/full": _evaluation(
        "Score the whole questionnaire; completes the caller's basic record of the last 24 hours",
        _ref("Result"),
    ),
    "/api/evaluation/save": {
        "post": {
            "tags": ["evaluation"],
            "summary": "Store an evaluation record",
            "security": SECURED,
            "requestBody": _body(_ref("RecordInput"), RECORD_EXAMPLE),
            "responses": {
                "200": _ok("保存成功", {
                    "type": "object",
                    "required": ["record_id"],
                    "properties": {"record_id": {"type": "integer"}},
                    "additionalProperties": False,
                }),
                "400": _error(400, [BAD_JSON, store.BAD_RECORD], "Body not an object, or record invalid"),
                **_authenticated(),
                **_common(body=True),
            },
        }
    },
    "/api/evaluation/history": {
        "get": {
            "tags": ["evaluation"],
            "summary": "The caller's records, newest first; pages past the end are empty",
            "security": SECURED,
            "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": store.MAX_PAGE,
                                                            "default": 1}},
                {"name": "page_size", "in": "query", "schema": {
                    "type": "integer", "minimum": 1, "maximum": store.MAX_PAGE_SIZE, "default": 10}},
            ],
            "responses": {
                "200": _ok("success", _ref("History")),
                "400": _error(400, [store.BAD_PAGE], "page or page_size out of range or not a number"),
                **_authenticated(),
                **_common(),
            },
        }
    },
    "/api/evaluation/result/{id}": {
        "get": {
            "tags": ["evaluation"],
            "summary": "One of the caller's records",
            "security": SECURED,
            "parameters": [RECORD_ID],
            "responses": {
                "200": _ok("success", _ref("Record")),
                **NOT_FOUND_RECORD,
                **_authenticated(),
                **_common(),
            },
        }
    },
    "/api/evaluation/delete/{id}": {
        "delete": {
            "tags": ["evaluation"],
            "summary": "Delete one of the caller's records",
            "security": SECURED,
            "parameters": [RECORD_ID],
            "responses": {"200": _ok("删除成功"), **NOT_FOUND_RECORD, **_authenticated(), **_common()},
        }
    },
    "/api/generate_qrcode": {
        "post": {
            "tags": ["share"],
            "summary": "The mini-program code for a share poster: the image itself, made once and kept",
            "requestBody": _body({
                "type": "object",
                "required": ["path"],
                "properties": {
                    "path": {
                        "type": "string",
                        "pattern": (
                            f"^({share.WELCOME_PAGE}|{share.RESULT_PAGE}\\?resultId={share.RECORD_ID.pattern})$"
                        ),
                        "description": f"`{share.RESULT_PAGE}?resultId=<record id>` or `{share.WELCOME_PAGE}`",
                    },
                    "width": {"type": ["number", "null"], "description": (
                        f"Pixels, clamped to {share.MIN_WIDTH}-{share.MAX_WIDTH}; absent or null: {share.DEFAULT_WIDTH}; "
                        f"any other JSON value: 400 `{BAD_JSON}`"
                    )},
                },
            }, {"path": f"{share.RESULT_PAGE}?resultId=7", "width": 200}),
            "responses": {
                "200": {
                    "description": "The code's image (JPEG from WeChat; PNG from the dev stand-in)",
                    "content": {
                        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                        "image/png": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "400": _error(
                    400, [BAD_JSON, share.BAD_PATH, wechat.MisConfigured.message],
                    "Body not an object, a width not a number, a path of another shape, or the server's WeChat "
                    "settings are wrong",
                ),
                **_wechat_failures(),
            },
        }
    },
    "/api/version": {
        "get": {
            "tags": ["service"],
            "summary": "Server and questionnaire versions",
            "responses": {
                "200": _ok("success", {
                    "type": "object",
                    "required": ["version", "questions_version"],
                    "properties": {"version": {"type": "string"}, "questions_version": {"type": "string"}},
                    "additionalProperties": False,
                }),
                **_common(),
            },
        }
    },
    "/api/health": {
        "get": {
            "tags": ["service"],
            "summary": "Whether the database answers",
            "responses": {
                "200": _json("The database answers", _envelope(200, ["ok"], {
                    "type": "object", "required": ["database"], "properties": {
                        "database": {"const": "ok"},
                        "schema": {
                            "const": "ahead", "description": "The database is at a newer release's schema (a staged upgrade)",
                        },
                    },
                })),
                **_common(),
                "503": _error(503, [UNAVAILABLE], "The database does not answer, or is not migrated", {
                    "type": ["object", "null"], "properties": {"database": {"enum": ["unavailable", "not migrated"]}},
                }),
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "tags": ["service"],
            "summary": "This document",
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}},
                **_common(),
            },
        }
    },
    "/api/docs": {
        "get": {
            "tags": ["service"],
            "summary": "Swagger UI for this document (off in production unless API_DOCS=1)",
            "responses": {
                "200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}},
                "404": _error(404, [HTTP_MESSAGES[404]], "The page is switched off"),
                **_common(),
            },
        }
    },
}


def document():
    """The whole OpenAPI 3.1 document (its parts are shared module-level dicts: do not mutate)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aiteni API",
            "version": __version__,
            "description": (
                "Backend of the aiteni WeChat mini-program (NTRP tennis self-rating). Every answer is the "
                "envelope `{code, msg, data}` with the HTTP status equal to `code`; `msg` is shown to the "
                "user as is. Every path also works with a trailing slash. Unknown paths answer 404 "
                f"`{HTTP_MESSAGES[404]}`, other methods 405 `{HTTP_MESSAGES[405]}`."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in ("auth", "user", "evaluation", "share", "service")],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
