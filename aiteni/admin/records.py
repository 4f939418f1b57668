"""Records in the console: the filters, the listing, and a record shown as the Result the player saw."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa

from ..extensions import db
from ..inputs import positive_int
from ..models import CHINA_TIME, MAX_ID, EvaluationRecord, User
from ..schemas.fields import HIGHEST, LOWEST
from .paging import newest_first

STAGES = ("basic", "full", "saved")
# Filters no index serves (stage, level, version) read at most this many record ids a page, newest
# first: a filter that matches nothing costs one such window (milliseconds), not the whole table
# (two minutes at a million records on SQLite). The page then offers to look further back.
WINDOW = 20_000
# The versions offered in the filter: those of the latest this many records, and the bank's own.
RECENT = 10_000


def day(value):
    """A YYYY-MM-DD text as midnight, or None."""
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except (TypeError, ValueError):
        return None


def _level(value):
    try:
        level = float(value)
    except (TypeError, ValueError):
        return None
    return level if LOWEST <= level <= HIGHEST else None


def _player(value):
    return positive_int(value, MAX_ID)


@dataclass(frozen=True)
class Filters:
    """The records page's and the export's filters, each read from the query string once; a bad one is left out."""

    since: Optional[datetime] = None  # China dates, inclusive
    until: Optional[datetime] = None
    level_min: Optional[float] = None
    level_max: Optional[float] = None
    stage: str = ""
    version: str = ""
    player: Optional[int] = None

    @classmethod
    def read(cls, args):
        stage = args.get("stage", "")
        return cls(day(args.get("since")), day(args.get("until")), _level(args.get("level_min")),
                   _level(args.get("level_max")), stage if stage in STAGES else "",
                   args.get("version", "").strip()[:32], _player(args.get("player")))

    @property
    def scans(self):
        """Whether no index serves these filters: a player's records have theirs, dates the created_at one."""
        unindexed = self.stage or self.version or self.level_min is not None or self.level_max is not None
        return bool(unindexed) and self.player is None

    def apply(self, query):
        column = EvaluationRecord
        if self.since:
            query = query.where(column.created_at >= self.since - CHINA_TIME)
        if self.until:
            query = query.where(column.created_at < self.until + timedelta(days=1) - CHINA_TIME)
        if self.level_min is not None:
            query = query.where(column.rounded_level >= self.level_min)
        if self.level_max is not None:
            query = query.where(column.rounded_level <= self.level_max)
        if self.stage:
            query = query.where(column.stage == self.stage)
        if self.version:
            query = query.where(column.questions_version == self.version)
        if self.player:
            query = query.where(column.user_id == self.player)
        return query

    def args(self):
        """The filters as query-string values, for links and the form."""
        return {
            "since": f"{self.since:%Y-%m-%d}" if self.since else "", "until": f"{self.until:%Y-%m-%d}" if self.until else "",
            "level_min": self.level_min or "", "level_max": self.level_max or "", "stage": self.stage,
            "version": self.version, "player": self.player or "",
        }


def listing(filters, before=None):
    """A page of (record, nickname) newest first; the id to go on from; and, when the filters scan, the
    lowest id this page looked at (a window of WINDOW ids below `before`), else None."""
    query = filters.apply(
        sa.select(EvaluationRecord, User.wechat_nickname).join(User, User.id == EvaluationRecord.user_id)
    )
    if not filters.scans:
        return (*newest_first(query, EvaluationRecord.id, before), None)
    top = before if before is not None else (db.session.scalar(sa.select(sa.func.max(EvaluationRecord.id))) or 0) + 1
    floor = max(top - WINDOW, 1)
    rows, more = newest_first(query.where(EvaluationRecord.id >= floor), EvaluationRecord.id, top)
    return rows, more if more is not None or floor == 1 else floor, floor


def versions(current):
    """The question-bank versions of the latest RECENT records, and `current` (the bank in use)."""
    latest = sa.select(EvaluationRecord.questions_version).order_by(EvaluationRecord.id.desc()).limit(RECENT).subquery()
    found = db.session.scalars(sa.select(latest.c.questions_version).distinct())
    return sorted({version for version in found if version} | {current})


def find(record_id):
    return db.session.get(EvaluationRecord, record_id) if 0 < record_id <= MAX_ID else None


def of_player(user_id, limit=20):
    return db.session.scalars(
        sa.select(EvaluationRecord).where(EvaluationRecord.user_id == user_id)
        .order_by(EvaluationRecord.created_at.desc(), EvaluationRecord.id.desc()).limit(limit)
    ).all()


def as_seen(record, bank):
    """A record as the Result page showed it: level and label, each dimension's name, score and comment,
    advantages and weaknesses by name, the summary, and each answer as the question and option the player read.

    Answers of another bank version are shown by their ids: today's bank may word (or number) them otherwise.
    """
    names = {key: dimension.name for key, dimension in bank.dimensions.items()}
    comments = record.dimension_comments or {}
    same_bank = record.questions_version == bank.version
    answers = []
    for question_id, option_id in (record.answers or {}).items():
        question = bank.questions.get(question_id) if same_bank else None
        option = bank.options.get(option_id) if same_bank else None
        answers.append((question.text if question else question_id, option.text if option else option_id,
                        option.level if option else None))
    return {
        "record": record,
        "dimensions": [(names.get(key, key), score, comments.get(key, ""))
                       for key, score in (record.dimension_scores or {}).items()],
        "advantages": [names.get(key, key) for key in record.advantages or []],
        "weaknesses": [names.get(key, key) for key in record.weaknesses or []],
        "answers": answers,
    }
