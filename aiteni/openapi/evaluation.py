"""The operations of the evaluation: the questionnaire, scoring, and the caller's records."""
from ..envelope import SUCCESS
from ..errors import BAD_JSON, HTTP_MESSAGES
from ..models import MAX_ID
from ..schemas import evaluation
from ..schemas.fields import MAX_PAGE_SIZE
from .responses import SECURED, TOKEN_OPTIONAL, authenticated, body, common, error, ok, ref

RECORD_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "A record id; anything that is not the caller's record answers 404 `记录不存在`",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
NOT_FOUND_RECORD = {
    "404": error(404, [evaluation.NO_RECORD, HTTP_MESSAGES[404]], "No such record of the caller's"),
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
            "requestBody": body(evaluation.AnswersInput, ANSWERS_EXAMPLE),
            "responses": {
                "200": ok(evaluation.EVALUATED, result),
                "400": error(
                    400, [*evaluation.AnswersInput.messages(), evaluation.BAD_RECORD],
                    f"Body or `answers` malformed (`{BAD_JSON}`), or no answer fits the bank "
                    f"(`{evaluation.BAD_RECORD}`)",
                ),
                **common(body=True),
            },
        }
    }


PATHS = {
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
                "200": {**ok(SUCCESS, ref("Questions")), "headers": ETAG},
                "304": {"description": "The client's copy is current (no body)", "headers": ETAG},
                **common(),
            },
        }
    },
    "/api/evaluation/config": {
        "get": {
            "tags": ["evaluation"],
            "summary": "Levels, their labels, the dimensions and the advanced threshold",
            "responses": {"200": ok(SUCCESS, ref("EvaluationConfig")), **common()},
        }
    },
    "/api/evaluation/basic": _evaluation(
        "Score the basic stage; a signed-in caller's result becomes a record", ref("BasicResult"),
    ),
    "/api/evaluation/full": _evaluation(
        "Score the whole questionnaire; completes the caller's basic record of the last 24 hours",
        ref("Result"),
    ),
    "/api/evaluation/save": {
        "post": {
            "tags": ["evaluation"],
            "summary": "Store an evaluation record",
            "security": SECURED,
            "requestBody": body(evaluation.RecordInput, RECORD_EXAMPLE),
            "responses": {
                "200": ok(evaluation.SAVED, ref("Saved")),
                "400": error(400, evaluation.RecordInput.messages(), "Body not an object, or record invalid"),
                **authenticated(),
                **common(body=True),
            },
        }
    },
    "/api/evaluation/history": {
        "get": {
            "tags": ["evaluation"],
            "summary": "The caller's records, newest first; pages past the end are empty",
            "security": SECURED,
            "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID,
                                                            "default": 1}},
                {"name": "page_size", "in": "query", "schema": {
                    "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 10}},
            ],
            "responses": {
                "200": ok(SUCCESS, ref("History")),
                "400": error(400, [evaluation.BAD_PAGE], "page or page_size out of range or not a number"),
                **authenticated(),
                **common(),
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
                "200": ok(SUCCESS, ref("Record")),
                **NOT_FOUND_RECORD,
                **authenticated(),
                **common(),
            },
        }
    },
    "/api/evaluation/delete/{id}": {
        "delete": {
            "tags": ["evaluation"],
            "summary": "Delete one of the caller's records",
            "security": SECURED,
            "parameters": [RECORD_ID],
            "responses": {"200": ok(evaluation.DELETED), **NOT_FOUND_RECORD, **authenticated(), **common()},
        }
    },
}
