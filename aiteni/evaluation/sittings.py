"""A sitting of the questionnaire: its answers scored and, for a signed-in player, kept as their record
(API.md, Evaluation).

One sitting, one record. A /basic adds a record, unless the player's latest
record of the last 24 hours is a basic one with the very same answers (a
double tap, a retry after a lost response): that record is answered again. A
/full completes the latest basic record of the last 24 hours instead of adding
a second one, when its basic answers are the ones sent, or when only advanced
answers are sent (a resumed advanced stage: its basic answers are then merged
in). A completed record keeps its basic answers, so a /full sent twice ends
on the same record; a /full with other advanced answers is a new record. A player's saves take turns on their user row (an UPDATE
that changes nothing: MariaDB's row lock, SQLite's write lock), so concurrent
repeats, from one process or several, see each other's record. The answers
sent are scored before the turn is taken: SQLite's writers wait for no
scoring unless a /full merges in stored answers.
"""
import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from .. import database
from ..errors import BadRequest
from ..models import User, utcnow
from . import scoring
from ..schemas.evaluation import BAD_RECORD
from .records import INSERT, RECORDS

log = logging.getLogger(__name__)

COMPLETION_WINDOW = timedelta(hours=24)
# A save that InnoDB rolled back as a deadlock runs again, and then sees the row its rival wrote.
SAVE_ATTEMPTS = 3

# A player's saves take turns here: a write to their user row (that changes nothing) takes MariaDB's row
# lock and SQLite's write lock, held until the record is written, so another process's save of the same
# sitting waits and then finds it. (A SELECT ... FOR UPDATE would leave SQLite processes unlocked.) The
# column written is no key: writing the id would have both databases check every row that refers to it.
_USERS = User.__table__
_TAKE_TURNS = _USERS.update().where(_USERS.c.id == sa.bindparam("uid")).values(updated_at=_USERS.c.updated_at)
# FOR UPDATE: a locking read sees the newest committed record, whatever the transaction's snapshot.
_LATEST = (
    sa.select(RECORDS.c.id, RECORDS.c.answers, RECORDS.c.stage)
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
_FIELDS = ("total_level", "rounded_level", "level_label", "confidence", "provisional", "consistent",
           "dimension_scores", "dimension_comments", "advantages", "weaknesses", "summary_text", "stage",
           "questions_version")


def _basic(bank, chosen):
    return {q: option for q, option in chosen.items() if bank.questions[q].tier == "basic"}


def _target(connection, bank, user_id, stage, chosen):
    """(id of the record this sitting already has, the answers then scored); (None, chosen) for a new record."""
    connection.execute(_TAKE_TURNS, {"uid": user_id})
    latest = connection.execute(_LATEST, {"uid": user_id, "since": utcnow() - COMPLETION_WINDOW}).first()
    if latest is None:
        return None, chosen
    stored = scoring.valid_answers(bank, latest.answers or {})
    if latest.stage == stage and stored == chosen:
        return latest.id, chosen  # the same answers again: a double tap, a retry
    if stage == "full":
        sent, basic = _basic(bank, chosen), _basic(bank, stored)
        if basic and (basic == sent or not sent):
            merged = scoring.in_bank_order(bank, {**basic, **chosen})
            # A basic record is completed; a completed one only answered again (a resumed advanced stage
            # retried): other advanced answers are another sitting, not a rewrite of this one.
            if latest.stage == "basic" or merged == stored:
                return latest.id, merged
    return None, chosen


def _scored(bank, chosen):
    """The Result fields of `chosen`; 400 `评测数据格式错误` when only neutral answers ("no matches this year")
    were given: nothing says what level the player is."""
    fields = scoring.score(bank, chosen)
    if fields is None:
        raise BadRequest(BAD_RECORD)
    return fields


def _result(bank, stage, fields, record_id):
    result = {**fields, "stage": stage, "questions_version": bank.version, "record_id": record_id,
              "saved_to_cloud": record_id is not None}
    if stage == "basic":
        result["need_advanced"] = scoring.need_advanced(bank, result["level_range"])
    return result


def _write(connection, user_id, target, scored, result):
    """Stores `result` as a new record, or over record `target`; sets its `record_id`."""
    values = {name: result[name] for name in _FIELDS}
    values["level_low"], values["level_high"] = result["level_range"]
    values |= {"user_id": user_id, "answers": {q: option.id for q, option in scored.items()}}
    if target is None:
        result["record_id"] = connection.execute(INSERT, values).inserted_primary_key[0]
    else:
        connection.execute(_COMPLETE, {"rid": target, **values})
    result["saved_to_cloud"] = True


def score_and_keep(bank, stage, answers, user_id=None):
    """The Result of `answers` ({question id: option id}) at `stage` (basic or full), stored for a user.

    Without a user, or when the database fails, nothing is stored
    (`record_id` None, `saved_to_cloud` False): the player still gets the
    result. 400 `评测数据格式错误` when no answer fits the bank, or only neutral ones do.
    """
    chosen = scoring.valid_answers(bank, answers)
    if not chosen:
        raise BadRequest(BAD_RECORD)
    if user_id is None:
        return _result(bank, stage, _scored(bank, chosen), None)
    # A resumed advanced stage of only neutral answers is scored once merged with its basic answers.
    fields = None if all(option.neutral for option in chosen.values()) else _scored(bank, chosen)
    scored = chosen
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        try:
            with database.write_transaction() as connection:
                target, scored = _target(connection, bank, user_id, stage, chosen)
                result = _result(bank, stage, fields if fields and scored == chosen else _scored(bank, scored), target)
                _write(connection, user_id, target, scored, result)
            return result
        except SQLAlchemyError as error:
            if attempt < SAVE_ATTEMPTS and database.is_retryable(error):
                continue
            # Including a user deleted a moment ago: the answers are scored all the same.
            log.error("evaluation not saved for user %s: %s", user_id, getattr(error, "orig", error))
            return _result(bank, stage, _scored(bank, scored), None)
