"""Scoring a questionnaire and, for a signed-in player, keeping it as their record (API.md, Evaluation).

A /basic adds a record. A /full completes the player's latest record of the
last 24 hours instead of adding a second one, when its basic answers are the
ones sent, or when only advanced answers are sent (a resumed advanced stage):
then the stored basic answers are merged in. Two /full calls racing for the
same record both end on that record: the completed record still has the same
basic answers, so the later call completes it again rather than adding one.
"""
import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from .. import database
from ..errors import BadRequest
from ..models import utcnow
from . import scoring
from .store import BAD_RECORD, INSERT, RECORDS

log = logging.getLogger(__name__)

COMPLETION_WINDOW = timedelta(hours=24)

# FOR UPDATE: on MariaDB a racing /full waits here and then sees the completed record.
_LATEST = (
    sa.select(RECORDS.c.id, RECORDS.c.answers)
    .where(
        RECORDS.c.user_id == sa.bindparam("uid"),
        RECORDS.c.stage.in_(("basic", "full")),
        RECORDS.c.created_at >= sa.bindparam("since"),
    )
    .order_by(RECORDS.c.created_at.desc(), RECORDS.c.id.desc())
    .limit(1)
    .with_for_update()
)
_COMPLETE = RECORDS.update().where(RECORDS.c.id == sa.bindparam("rid"))


def _basic(bank, chosen):
    return {q: option.id for q, option in chosen.items() if bank.questions[q].tier == "basic"}


def _completion(bank, stored_answers, chosen):
    """The answers a /full scores when it completes a record holding `stored_answers`; None if it does not."""
    stored = scoring.valid_answers(bank, stored_answers or {})
    sent_basic = _basic(bank, chosen)
    if sent_basic and sent_basic != _basic(bank, stored):
        return None
    return {q: o for q, o in stored.items() if bank.questions[q].tier == "basic"} | chosen


def _result(bank, stage, chosen, record_id):
    result = scoring.score(bank, chosen)
    result["stage"] = stage
    result["questions_version"] = bank.version
    result["record_id"] = record_id
    result["saved_to_cloud"] = record_id is not None
    if stage == "basic":
        result["need_advanced"] = scoring.need_advanced(bank, result["total_level"])
    return result


def _columns(bank, chosen, result):
    fields = ("total_level", "rounded_level", "level_label", "dimension_scores", "dimension_comments",
              "advantages", "weaknesses", "summary_text", "stage", "questions_version")
    ordered = {q: chosen[q].id for q in bank.questions if q in chosen}
    return {**{name: result[name] for name in fields}, "answers": ordered}


def evaluate(bank, stage, answers, user_id=None):
    """The Result of `answers` ({question id: option id}) at `stage` (basic or full), stored for a user.

    Without a user, or when the database fails, nothing is stored
    (`record_id` None, `saved_to_cloud` False): the player still gets the
    result. 400 `评测数据格式错误` when no answer fits the bank.
    """
    chosen = scoring.valid_answers(bank, answers)
    if not chosen:
        raise BadRequest(BAD_RECORD)
    if user_id is None:
        return _result(bank, stage, chosen, None)
    try:
        with database.write_transaction() as connection:
            target, scored = None, chosen
            if stage == "full":
                latest = connection.execute(_LATEST, {"uid": user_id, "since": utcnow() - COMPLETION_WINDOW}).first()
                merged = latest and _completion(bank, latest.answers, chosen)
                if merged:
                    target, scored = latest.id, merged
            result = _result(bank, stage, scored, target)
            values = {"user_id": user_id, **_columns(bank, scored, result)}
            if target is None:
                result["record_id"] = connection.execute(INSERT, values).inserted_primary_key[0]
            else:
                connection.execute(_COMPLETE, {"rid": target, **values})
    except SQLAlchemyError as error:
        # Including a user deleted a moment ago: the answers are scored all the same.
        log.error("evaluation not saved for user %s: %s", user_id, getattr(error, "orig", error))
        return _result(bank, stage, chosen, None)
    result["saved_to_cloud"] = True
    return result
