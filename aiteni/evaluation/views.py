"""Every /api/evaluation/ endpoint. The `evaluation` blueprint: the questionnaire and its scoring, public,
with an optional token. The `records` blueprint: a signed-in user's own records."""
from functools import lru_cache

import orjson
from flask import Blueprint, current_app, request
from flask_jwt_extended import current_user

from ..auth import tokens
from ..envelope import ok
from ..errors import BadRequest
from ..inputs import json_body, positive_int
from ..schemas.evaluation import BAD_PAGE, DELETED, EVALUATED, SAVED, AnswersInput
from ..schemas.fields import MAX_PAGE_SIZE
from . import current_bank, records, sittings

bp = Blueprint("evaluation", __name__, url_prefix="/api/evaluation")
records_bp = Blueprint("records", __name__, url_prefix="/api/evaluation")


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


def _score_sitting(stage):
    answers = AnswersInput.read(json_body()).answers
    principal = tokens.optional_principal()
    result = sittings.score_and_keep(current_bank(), stage, answers, principal.id if principal else None)
    return ok(result, EVALUATED)


@bp.post("/basic")
def basic():
    """The basic stage's Result, with `need_advanced`; saved as a record for a signed-in player."""
    return _score_sitting("basic")


@bp.post("/full")
def full():
    """The full Result; completes the player's basic record of the last 24 h instead of adding one."""
    return _score_sitting("full")


@records_bp.post("/save")
@tokens.auth_required()
def save():
    """Stores one evaluation result for the caller."""
    record_id = records.save(current_user.id, json_body())
    return ok({"record_id": record_id}, SAVED)


@records_bp.get("/history")
@tokens.auth_required()
def history():
    """One page of the caller's records, newest first."""
    page = _paging("page", "1", records.MAX_PAGE)
    page_size = _paging("page_size", "10", MAX_PAGE_SIZE)
    if page is None or page_size is None:
        raise BadRequest(BAD_PAGE)
    return ok(records.history(current_user.id, page, page_size))


def _paging(name, default, maximum):
    """The query parameter `name` as a whole number in 1..maximum, `default` when absent; None when it is
    anything else, given twice included (which one the client meant is not ours to guess)."""
    values = request.args.getlist(name) or [default]
    return positive_int(values[0], maximum) if len(values) == 1 else None


@records_bp.get("/result/<record_id>")
@tokens.auth_required()
def result(record_id):
    """One of the caller's records; someone else's answers like a missing one."""
    return ok(records.get(current_user.id, record_id))


@records_bp.delete("/delete/<record_id>")
@tokens.auth_required()
def delete(record_id):
    """Deletes one of the caller's records."""
    records.delete(current_user.id, record_id)
    return ok(msg=DELETED)
