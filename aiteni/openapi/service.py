"""The operations of share codes and the service itself (version, health, this document)."""
from .. import wechat
from ..envelope import SUCCESS
from ..errors import BAD_JSON, HTTP_MESSAGES, UNAVAILABLE
from ..schemas import share
from .responses import answer, body, common, envelope, error, ok, wechat_failures

PATHS = {
    "/api/generate_qrcode": {
        "post": {
            "tags": ["share"],
            "summary": "The mini-program code for a share poster: the image itself, made once and kept",
            "requestBody": body(share.ShareCode, {"path": f"{share.RESULT_PAGE}?resultId=7", "width": 200}),
            "responses": {
                "200": {
                    "description": "The code's image (JPEG from WeChat; PNG from the dev stand-in)",
                    "content": {
                        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                        "image/png": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "400": error(
                    400, [BAD_JSON, share.BAD_PATH, wechat.MisConfigured.message],
                    "Body not an object, a width not a number, a path of another shape, or the server's WeChat "
                    "settings are wrong",
                ),
                **wechat_failures(),
            },
        }
    },
    "/api/version": {
        "get": {
            "tags": ["service"],
            "summary": "Server and questionnaire versions",
            "responses": {
                "200": ok(SUCCESS, {
                    "type": "object",
                    "required": ["version", "questions_version"],
                    "properties": {"version": {"type": "string"}, "questions_version": {"type": "string"}},
                    "additionalProperties": False,
                }),
                **common(),
            },
        }
    },
    "/api/health": {
        "get": {
            "tags": ["service"],
            "summary": "Whether the database answers",
            "responses": {
                "200": answer("The database answers", envelope(200, ["ok"], {
                    "type": "object", "required": ["database"], "properties": {
                        "database": {"const": "ok"},
                        "schema": {
                            "const": "ahead", "description": "The database is at a newer release's schema (a staged upgrade)",
                        },
                    },
                })),
                **common(),
                "503": error(503, [UNAVAILABLE], "The database does not answer, or is not migrated", {
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
                **common(),
            },
        }
    },
    "/api/docs": {
        "get": {
            "tags": ["service"],
            "summary": "Swagger UI for this document (off in production unless API_DOCS=1)",
            "responses": {
                "200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}},
                "404": error(404, [HTTP_MESSAGES[404]], "The page is switched off"),
                **common(),
            },
        }
    },
}
