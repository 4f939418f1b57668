"""The document's answers: the `{code, msg, data}` envelope per status, and the answers many operations share."""
from config import Config

from .. import wechat
from ..auth import tokens
from ..errors import HTTP_MESSAGES, UNAVAILABLE

TOKEN_401 = [tokens.INVALID, tokens.EXPIRED, tokens.USER_GONE, tokens.REVOKED]
SECURED = [{"bearerAuth": []}]
# Signed in or not: a missing, expired or revoked token makes the call anonymous, never a 401.
TOKEN_OPTIONAL = [{}, {"bearerAuth": []}]


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def envelope(status, messages, data=None):
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


def answer(description, schema):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def ok(msg, data=None):
    return answer(f"Success: `{msg}`", envelope(200, [msg], data))


def error(status, messages, description, data=None):
    schema = envelope(status, messages, data)
    response = answer(description, schema)
    response["content"]["application/json"]["examples"] = {
        f"e{i}": {"value": {"code": status, "msg": msg}} for i, msg in enumerate(schema["properties"]["msg"]["enum"])
    }
    return response


def common(body=False):
    """Answers any operation may give: rate limit, server error, database down; 413 with a body."""
    responses = {
        "429": error(429, [HTTP_MESSAGES[429]], "This server's rate limit"),
        "500": error(500, [HTTP_MESSAGES[500]], "Anything unexpected (never a traceback)"),
        "503": error(503, [UNAVAILABLE], "The database does not answer"),
    }
    if body:
        limit = f"{Config.MAX_CONTENT_LENGTH // 1024} KiB"
        responses["413"] = error(413, [HTTP_MESSAGES[413]], f"Body over the {limit} limit")
    return responses


def authenticated(missing=tokens.LOGIN_FIRST):
    return {"401": error(401, [missing, *TOKEN_401], "Missing, invalid, expired or revoked token")}


def body(model, example, required=True):
    return {"required": required, "content": {"application/json": {"schema": ref(model.__name__),
                                                                    "example": example}}}


def wechat_failures(busy="WeChat busy (-1) or over a quota (45009, 45011), or the database down"):
    """502 and 503 of an operation that calls WeChat, with common()'s answers (its 503 replaced)."""
    return {
        "502": error(502, [wechat.Unavailable.message], "WeChat unreachable or answering nonsense"),
        **common(body=True),
        "503": error(503, [wechat.Overloaded.message, UNAVAILABLE], busy),
    }
