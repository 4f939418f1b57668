"""Evaluation records: what /save stores, and the pages and records the client reads (snake_case).

The body's rules are schemas.evaluation.RecordInput's; a sitting's record is written by sittings.py."""
import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import database
from ..auth import tokens
from ..errors import NotFound, Unauthorized
from ..extensions import db
from ..inputs import positive_int
from ..models import MAX_ID, EvaluationRecord
from ..schemas.evaluation import NO_RECORD, RecordInput

# Any page >= 1 is valid (API.md); pages past the end are empty. The bound only keeps it an int64.
MAX_PAGE = MAX_ID


def iso_utc(moment):
    """A naive UTC datetime as ISO 8601 with a Z, which JavaScript's `new Date(...)` reads as UTC.

    isoformat rather than strftime: half the cost, ten times per history page.
    """
    return moment.isoformat(timespec="seconds") + "Z"


def saved_columns(body):
    """The record columns of a save request (schemas.evaluation.RecordInput); 400 `评测数据格式错误` on any flaw.
    What may be omitted or null is stored empty."""
    record = RecordInput.read(body)
    result = record.result
    return {
        "total_level": float(result.total_level),
        "rounded_level": float(result.rounded_level),
        "level_label": result.level_label,
        "dimension_scores": result.dimension_scores,
        "dimension_comments": result.dimension_comments or {},
        "advantages": result.advantages or [],
        "weaknesses": result.weaknesses or [],
        "summary_text": result.summary_text or "",
        "answers": record.answers or {},
    }


# The hot paths (save, history, delete) use Core statements on the table: no unit of work,
# no identity map, and no reload of the row after commit just to learn its id.
RECORDS = EvaluationRecord.__table__
INSERT = sa.insert(RECORDS)
_DELETE = RECORDS.delete().where(RECORDS.c.id == sa.bindparam("rid"), RECORDS.c.user_id == sa.bindparam("uid"))


def save(user_id, body):
    """Stores a validated record for the user and returns its id."""
    values = {"user_id": user_id, "stage": "saved", **saved_columns(body)}
    try:
        with database.write_transaction() as connection:
            return connection.execute(INSERT, values).inserted_primary_key[0]
    except IntegrityError:
        # The account was deleted a moment ago (by another process whose news has not reached us yet).
        raise Unauthorized(tokens.REVOKED) from None


# History reads the JSON columns as the UTF-8 bytes orjson stored and splices them into the
# answer (orjson.Fragment): ten rows a page, about 4 KB each, mostly Chinese comments, never
# decoded to Python objects, nor even to str (the cast to bytes skips the driver's UTF-8
# decoding and orjson's encoding back: about half of SQLite's time for a page of ten).
_JSON_AS_BYTES = [sa.cast(RECORDS.c[name], sa.LargeBinary).label(name) for name in
                  ("dimension_scores", "dimension_comments", "advantages", "weaknesses", "answers")]
_RECORD_COLUMNS = (
    RECORDS.c.id, RECORDS.c.total_level, RECORDS.c.rounded_level, RECORDS.c.level_label, RECORDS.c.summary_text,
    RECORDS.c.stage, RECORDS.c.questions_version, RECORDS.c.created_at, RECORDS.c.level_low, RECORDS.c.level_high,
    RECORDS.c.confidence, RECORDS.c.provisional, RECORDS.c.consistent, *_JSON_AS_BYTES,
)
_OWNED = RECORDS.c.user_id == sa.bindparam("uid")
_RECORD = sa.select(*_RECORD_COLUMNS).where(_OWNED, RECORDS.c.id == sa.bindparam("rid"))
_COUNT = sa.select(sa.func.count()).select_from(RECORDS).where(_OWNED)
# The total rides on every row of the page: one statement, not a page and a count (the subquery
# does not depend on the row, so SQLite and MariaDB count the user's index entries once).
_HISTORY = (
    sa.select(_COUNT.scalar_subquery().correlate(None), *_RECORD_COLUMNS)
    .where(_OWNED)
    .order_by(RECORDS.c.created_at.desc(), RECORDS.c.id.desc())
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset"))
)
_NO_KEYS = orjson.Fragment(b"[]")


def _record(row):
    """A row of _RECORD_COLUMNS as the client reads it: a Result (API.md, its field order) with id, answers
    and created_at (UTC, Z). Records from before advantages and weaknesses were kept read back with [];
    saved records, and those from before bank 3's certainty, with null level_range, confidence,
    provisional and consistent."""
    (record_id, total, rounded, label, summary, stage, version, created, low, high, confidence, provisional,
     consistent, scores, comments, advantages, weaknesses, answers) = row
    return {
        "id": record_id,
        "total_level": total,
        "rounded_level": rounded,
        "level_label": label,
        "level_range": None if low is None else [low, high],
        "confidence": confidence,
        "provisional": provisional,
        "consistent": consistent,
        "dimension_scores": orjson.Fragment(scores),
        "dimension_comments": orjson.Fragment(comments),
        "advantages": orjson.Fragment(advantages) if advantages else _NO_KEYS,
        "weaknesses": orjson.Fragment(weaknesses) if weaknesses else _NO_KEYS,
        "summary_text": summary,
        "stage": stage,
        "questions_version": version,
        "record_id": record_id,
        "saved_to_cloud": True,
        "answers": orjson.Fragment(answers),
        "created_at": iso_utc(created),
    }


def history(user_id, page, page_size):
    """One page of the user's records, newest first, with the total; one statement unless the page is empty."""
    offset = (page - 1) * page_size
    with db.engine.connect() as connection:
        # An offset past MAX_ID is past any user's records, and would overflow the database's integer.
        rows = [] if offset > MAX_ID else connection.execute(
            _HISTORY, {"uid": user_id, "limit": page_size, "offset": offset}
        ).all()
        if rows:
            total = rows[0][0]
        else:
            # Past the end, or no records at all (on the first page, the count is then known).
            total = connection.scalar(_COUNT, {"uid": user_id}) if offset else 0
    return {"total": total, "page": page, "page_size": page_size, "records": [_record(row[1:]) for row in rows]}


def _record_number(record_id):
    """The id in the path as a number; one that cannot be a record's answers like a missing record."""
    number = positive_int(record_id, MAX_ID)
    if number is None:
        raise NotFound(NO_RECORD)
    return number


def get(user_id, record_id):
    """The caller's record as the client reads it; 404 alike whether missing or someone else's."""
    with db.engine.connect() as connection:
        row = connection.execute(_RECORD, {"rid": _record_number(record_id), "uid": user_id}).first()
    if row is None:
        raise NotFound(NO_RECORD)
    return _record(row)


def delete(user_id, record_id):
    """Deletes the caller's record in one statement; 404 alike whether missing or someone else's."""
    with database.write_transaction() as connection:
        deleted = connection.execute(_DELETE, {"rid": _record_number(record_id), "uid": user_id}).rowcount
    if not deleted:
        raise NotFound(NO_RECORD)
