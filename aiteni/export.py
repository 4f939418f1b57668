"""Exports every evaluation record for admins: CSV for Excel, or JSON lines.

Rows are read in batches by keyset pagination (`id > last id seen`), as plain
columns rather than ORM objects, so memory stays flat however many rows there are.
"""
import csv
from datetime import datetime

import orjson
import sqlalchemy as sa

from .evaluation.records import iso_utc
from .extensions import db
from .models import EvaluationRecord, User

BATCH = 2000
BASE_COLUMNS = [
    "record_id", "user_id", "username", "nickname", "total_level", "rounded_level",
    "level_label", "summary_text", "created_at", "stage", "questions_version",
    "level_low", "level_high", "confidence", "provisional", "consistent",
]
# As stored: advantages and weaknesses are null in records from before they were kept.
JSON_COLUMNS = ["dimension_comments", "advantages", "weaknesses", "answers"]
# Excel runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_RECORD_COLUMNS = sa.select(
    EvaluationRecord.id,
    EvaluationRecord.user_id,
    EvaluationRecord.total_level,
    EvaluationRecord.rounded_level,
    EvaluationRecord.level_label,
    EvaluationRecord.summary_text,
    EvaluationRecord.created_at,
    EvaluationRecord.stage,
    EvaluationRecord.questions_version,
    EvaluationRecord.level_low,
    EvaluationRecord.level_high,
    EvaluationRecord.confidence,
    EvaluationRecord.provisional,
    EvaluationRecord.consistent,
    EvaluationRecord.dimension_scores,
    EvaluationRecord.dimension_comments,
    EvaluationRecord.advantages,
    EvaluationRecord.weaknesses,
    EvaluationRecord.answers,
)
_USERS_BY_ID = sa.select(User.id, User.username, User.wechat_nickname).where(
    User.id.in_(sa.bindparam("ids", expanding=True))
)


def _cell(value):
    """Text Excel would evaluate as a formula gets a leading apostrophe, as Excel itself does."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Export:
    """The records to export, fixed when the export starts.

    Rows saved after that are left out of every pass, so the CSV header,
    the row count and the progress bar agree with what is written.
    """

    def __init__(self, since: datetime | None = None):
        self.since = since
        self.last_id = db.session.scalar(sa.select(sa.func.max(EvaluationRecord.id))) or 0
        self.total = db.session.scalar(self._scoped(sa.select(sa.func.count()).select_from(EvaluationRecord)))

    def _scoped(self, query):
        query = query.where(EvaluationRecord.id <= self.last_id)
        if self.since is not None:
            query = query.where(EvaluationRecord.created_at >= self.since)
        return query

    def _batches(self, query):
        """Lists of at most BATCH rows of `query`, in id order.

        Each batch is a primary-key range read of the records table alone: joined
        to the users, MariaDB plans users first and sorts every record per batch.
        """
        query = self._scoped(query).order_by(EvaluationRecord.id).limit(BATCH)
        after = 0
        while True:
            rows = db.session.execute(query.where(EvaluationRecord.id > after)).all()
            if not rows:
                return
            yield rows
            after = rows[-1].id

    def _records(self):
        """(record row, username, nickname) for every record, a batch at a time."""
        for rows in self._batches(_RECORD_COLUMNS):
            ids = sorted({row.user_id for row in rows})
            users = {user.id: user for user in db.session.execute(_USERS_BY_ID, {"ids": ids})}
            # A user deleted mid-export took their records along: leave those out.
            yield [
                (row, users[row.user_id].username, users[row.user_id].wechat_nickname)
                for row in rows
                if row.user_id in users
            ]

    def dimension_keys(self):
        """Every dimension name, so each gets its own CSV column: a first pass over one column only."""
        keys = set()
        for rows in self._batches(sa.select(EvaluationRecord.id, EvaluationRecord.dimension_scores)):
            for row in rows:
                keys.update(row.dimension_scores)
        return sorted(keys)

    def write_csv(self, out, progress):
        """One column per dimension; the file should be opened as utf-8-sig so Excel reads Chinese."""
        dimensions = self.dimension_keys()
        writer = csv.writer(out)
        writer.writerow(BASE_COLUMNS + [f"dim_{key}" for key in dimensions] + JSON_COLUMNS)
        for batch in self._records():
            for row, username, nickname in batch:
                base = [_cell(value) for value in _base(row, username, nickname).values()]
                scores = [row.dimension_scores.get(key, "") for key in dimensions]
                texts = [orjson.dumps(row._mapping[column]).decode() for column in JSON_COLUMNS]
                writer.writerow(base + scores + texts)
            progress(len(batch))

    def write_jsonl(self, out, progress):
        """One JSON object per line, with the record's JSON fields as they are stored."""
        for batch in self._records():
            for row, username, nickname in batch:
                line = {
                    **_base(row, username, nickname),
                    "dimension_scores": row.dimension_scores,
                    **{column: row._mapping[column] for column in JSON_COLUMNS},
                }
                out.write(orjson.dumps(line).decode() + "\n")
            progress(len(batch))


def _base(row, username, nickname):
    """The BASE_COLUMNS of one record, in their order."""
    values = (
        row.id, row.user_id, username, nickname, row.total_level, row.rounded_level,
        row.level_label, row.summary_text, iso_utc(row.created_at), row.stage, row.questions_version,
        row.level_low, row.level_high, row.confidence, row.provisional, row.consistent,
    )
    return dict(zip(BASE_COLUMNS, values))
