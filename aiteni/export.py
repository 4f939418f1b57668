"""Exports every evaluation record for admins: CSV for Excel, or JSON lines."""
import csv
from datetime import datetime

import orjson
import sqlalchemy as sa

from .extensions import db
from .models import EvaluationRecord, User

BATCH = 2000
BASE_COLUMNS = [
    "record_id", "user_id", "username", "nickname", "total_level", "rounded_level",
    "level_label", "summary_text", "created_at",
]


def _batches(since):
    """Rows in id order, a batch at a time (keyset pagination keeps memory flat)."""
    query = (
        sa.select(EvaluationRecord, User.username, User.wechat_nickname)
        .join(User, User.id == EvaluationRecord.user_id)
        .order_by(EvaluationRecord.id)
        .limit(BATCH)
    )
    if since is not None:
        query = query.where(EvaluationRecord.created_at >= since)
    last_id = 0
    while True:
        rows = db.session.execute(query.where(EvaluationRecord.id > last_id)).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1][0].id
        db.session.expunge_all()


def count(since):
    query = sa.select(sa.func.count()).select_from(EvaluationRecord)
    if since is not None:
        query = query.where(EvaluationRecord.created_at >= since)
    return db.session.scalar(query)


def _dimension_keys(since):
    """Every dimension name, so each gets its own CSV column (a first, light pass)."""
    keys = set()
    for rows in _batches(since):
        for record, _, _ in rows:
            keys.update(record.dimension_scores or {})
    return sorted(keys)


def _row(record, username, nickname):
    return {
        "record_id": record.id,
        "user_id": record.user_id,
        "username": username,
        "nickname": nickname,
        "total_level": record.total_level,
        "rounded_level": record.rounded_level,
        "level_label": record.level_label,
        "summary_text": record.summary_text,
        "created_at": record.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def write_csv(out, since: datetime | None, progress):
    """UTF-8 with a BOM, so Excel on Windows shows Chinese; one column per dimension."""
    dimensions = _dimension_keys(since)
    writer = csv.writer(out)
    writer.writerow(BASE_COLUMNS + [f"dim_{key}" for key in dimensions])
    for rows in _batches(since):
        for record, username, nickname in rows:
            scores = record.dimension_scores or {}
            writer.writerow(list(_row(record, username, nickname).values()) + [scores.get(k, "") for k in dimensions])
        progress(len(rows))


def write_jsonl(out, since: datetime | None, progress):
    """One JSON object per line, with the record's JSON fields as they are stored."""
    for rows in _batches(since):
        for record, username, nickname in rows:
            row = _row(record, username, nickname)
            row.update(
                dimension_scores=record.dimension_scores,
                dimension_comments=record.dimension_comments,
                answers=record.answers,
            )
            out.write(orjson.dumps(row).decode() + "\n")
        progress(len(rows))
