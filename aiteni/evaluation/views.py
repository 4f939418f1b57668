"""The `evaluation` blueprint: the questionnaire and its scoring, public, with an optional token."""
from functools import lru_cache

import orjson
from flask import Blueprint, current_app, request

from .. import tokens
from ..envelope import ok
from ..inputs import json_body
from ..schemas.evaluation import AnswersInput
from . import autosave, current_bank

bp = Blueprint("evaluation", __name__, url_prefix="/api/evaluation")


def _public_question(bank, question):
    """What the client shows: no levels, weights, caps or anchors (they would give the scoring away)."""
    return {
        "id": question.id,
        "question_tier": question.tier,
        "dimension": question.dimension,
        "dimensionName": bank.dimensions[question.dimension].name,
        "text": question.text,
        "options": [{"id": option.id, "text": option.text} for option in question.options],
    }


@lru_cache(maxsize=8)
def _questions_body(bank):
    """The /questions answer, encoded once per bank: it only changes with the bank."""
    data = {"version": bank.version}
    for tier in ("basic", "advanced"):
        data[f"{tier}_questions"] = [_public_question(bank, q) for q in bank.tier(tier)]
    return orjson.dumps(ok(data))


@bp.get("/questions")
def questions():
    """The questionnaire; `ETag` is the bank's version, so a client holding it gets a 304.

    Only If-None-Match is honoured (weakly, `*` included): werkzeug's
    make_conditional would also answer a 412 for If-Match, a status the
    contract does not have.
    """
    bank = current_bank()
    fresh = request.if_none_match.contains_weak(bank.version)
    response = current_app.response_class(None if fresh else _questions_body(bank), mimetype="application/json")
    if fresh:
        response.status_code = 304
    response.set_etag(bank.version)
    response.cache_control.no_cache = True
    return response


@bp.get("/config")
def config():
    bank = current_bank()
    return ok({
        "version": bank.version,
        "levels": list(bank.labels),
        "level_labels": {f"{level:.1f}": label for level, label in bank.labels.items()},
        "dimensions": [{"key": d.key, "name": d.name} for d in bank.dimensions.values()],
        "advanced_threshold": bank.advanced_threshold,
    })


def _evaluate(stage):
    answers = AnswersInput.read(json_body()).answers
    principal = tokens.optional_principal()
    result = autosave.evaluate(current_bank(), stage, answers, principal.id if principal else None)
    return ok(result, "评测完成")


@bp.post("/basic")
def basic():
    """The basic stage's Result, with `need_advanced`; saved as a record for a signed-in player."""
    return _evaluate("basic")


@bp.post("/full")
def full():
    """The full Result; completes the player's basic record of the last 24 h instead of adding one."""
    return _evaluate("full")
