"""The overview's figures: players, evaluations, levels, share codes, WeChat's token, the schema, today's errors.

Days are China's (UTC+8), as the players and operators count them. Each figure
is one aggregate query on an index (records by created_at, records by user).
"""
import time
from collections import deque
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from .. import logs
from ..database import schema_state
from ..extensions import db
from ..schemas.fields import GRID
from ..models import (
    CHINA_TIME, SCHEMA_REVISION, EvaluationRecord, User, WeChatAccessToken, WeChatShareCode, utcnow,
)

DAYS = 30
ERROR_LINES = 20
# The question bank page's spread of recent results: the latest this many records.
RECENT = 10_000


def today():
    return (utcnow() + CHINA_TIME).date()


def per_day(column, days=DAYS):
    """[(MM-DD, count)] of rows per China day, the last `days` days, today last.

    One statement of `days` counts, each a range of the column's index: no
    function of the column per row, which cost 0.7 s at a million records.
    """
    midnight = (utcnow() + CHINA_TIME).replace(hour=0, minute=0, second=0, microsecond=0) - CHINA_TIME
    starts = [midnight - timedelta(days=days - 1 - n) for n in range(days + 1)]
    counts = db.session.execute(sa.select(*[
        sa.select(sa.func.count()).select_from(column.table).where(column >= low, column < high).scalar_subquery()
        for low, high in zip(starts, starts[1:])
    ])).one()
    return [(f"{start + CHINA_TIME:%m-%d}", count) for start, count in zip(starts, counts)]


def latest_levels():
    """[(level, players)] of each player's latest record (the highest id) over the 1.0–7.0 grid."""
    latest = (
        sa.select(sa.func.max(EvaluationRecord.id).label("id")).group_by(EvaluationRecord.user_id).subquery()
    )
    rows = db.session.execute(
        sa.select(EvaluationRecord.rounded_level, sa.func.count())
        .join(latest, latest.c.id == EvaluationRecord.id)
        .group_by(EvaluationRecord.rounded_level)
    ).all()
    return spread(rows)


def recent_levels(records=RECENT):
    """[(level, records)] of the latest `records` records (newest ids: a read of the primary key's end)."""
    latest = sa.select(EvaluationRecord.rounded_level).order_by(EvaluationRecord.id.desc()).limit(records).subquery()
    rows = db.session.execute(
        sa.select(latest.c.rounded_level, sa.func.count()).group_by(latest.c.rounded_level)
    ).all()
    return spread(rows)


def spread(rows):
    """[(level text, count)] over the level grid from [(rounded level, count)]."""
    counts = {float(level): count for level, count in rows}
    return [(f"{level:.1f}", counts.get(level, 0)) for level in GRID]


def access_token():
    """The WeChat access token's state, never the token: (state, expires_at or None)."""
    row = db.session.get(WeChatAccessToken, current_app.config["WECHAT_APPID"] or "")
    if row is None or row.token is None or row.expires_at is None:
        return "none", None
    return ("valid" if row.expires_at > utcnow() else "expired"), row.expires_at


def schema():
    """(database kind, database.CURRENT/AHEAD/BEHIND, why when not CURRENT, the revision the code needs)."""
    with db.engine.connect() as connection:
        state, problem = schema_state(connection)
    return db.engine.dialect.name, state, problem, SCHEMA_REVISION


def errors_today():
    """(lines in today's error logs, every process's, and their last ERROR_LINES lines), or (None, [])
    without log files."""
    directory = logs.log_dir(current_app)
    if directory is None:
        return None, []
    count, tail = 0, deque(maxlen=ERROR_LINES)
    for path in logs.daily_files(directory, "error", time.strftime("%Y-%m-%d")):  # the handlers' local day
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                for line in file:
                    count += 1
                    tail.append(line.rstrip("\n"))
        except FileNotFoundError:  # a day's first line not yet written, or the file removed meanwhile
            continue
    return count, list(tail)


def figures():
    """Everything the overview shows."""
    return {
        "players": db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        "records": db.session.scalar(sa.select(sa.func.count()).select_from(EvaluationRecord)),
        "new_players": per_day(User.created_at),
        "evaluations": per_day(EvaluationRecord.created_at),
        "levels": latest_levels(),
        "share_codes": db.session.scalar(
            sa.select(sa.func.count()).select_from(WeChatShareCode).where(WeChatShareCode.image.is_not(None))
        ),
        "token": access_token(),
        "schema": schema(),
        "errors": errors_today(),
        "today": today().isoformat(),
    }
