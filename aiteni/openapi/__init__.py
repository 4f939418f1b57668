"""The OpenAPI 3.1 description of the HTTP contract (API.md), served at /api/openapi.json.

The schemas are the declarations' own (aiteni/schemas/: pydantic's JSON Schema is 2020-12,
OpenAPI 3.1's dialect); what is written here is what only the contract knows: the
operations, their descriptions, and the `msg` each status may carry, every one the very
constant the code answers with, written by area (accounts.py, evaluation.py, service.py;
the envelope per status is responses.py's). tests/api/test_openapi.py fails when a route and
the document disagree.
"""
from functools import cache

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from .. import __version__
from ..errors import HTTP_MESSAGES
from ..schemas import auth, share
from ..schemas import evaluation as scored
from . import accounts, evaluation, service

PATHS = {**accounts.PATHS, **evaluation.PATHS, **service.PATHS}
# Every body and answer shape, as components/schemas.
MODELS = (
    auth.Login, auth.Refresh, auth.Logout, auth.UserUpdate, auth.PhoneCode, auth.UserInfo, auth.TokenPair,
    auth.LoginData, auth.Verified, auth.User, auth.BoundPhone, scored.AnswersInput, scored.RecordInput, scored.Result,
    scored.BasicResult, scored.Record, scored.Saved, scored.History, scored.Questions, scored.EvaluationConfig,
    share.ShareCode,
)


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema as the document spells it: no titles (the names say it), no `default: null`
    (optional says it), and a nullable simple type as `type: [..., "null"]` rather than an anyOf."""

    def field_title_should_be_set(self, schema):
        return False

    def model_schema(self, schema):
        json_schema = super().model_schema(schema)
        json_schema.pop("title", None)
        return json_schema

    def default_schema(self, schema):
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def nullable_schema(self, schema):
        inner = self.generate_inner(schema["schema"])
        if isinstance(inner.get("type"), str):
            return {**inner, "type": [inner["type"], "null"]}
        return super().nullable_schema(schema)


@cache
def _schemas():
    """Built on the first request for the document (about 50 ms), then kept."""
    _, schemas = models_json_schema(
        [(model, "validation") for model in MODELS], ref_template="#/components/schemas/{model}",
        schema_generator=_Schemas,
    )
    return schemas["$defs"]


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
            "schemas": _schemas(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
