"""Fills a freshly migrated database: users, their records, and live sessions with tokens.

Core inserts in large batches (executemany), so a million records take
minutes, not hours. User `i` has openid `o_u<i>`, which the fake WeChat
answers for code `u<i>`, so the login target can log seeded users in again.
"""
import os
from datetime import timedelta

import sqlalchemy as sa
from tqdm import tqdm

from aiteni import create_app
from aiteni.evaluation import scoring
from aiteni.evaluation.bank import DEFAULT_FILE, nearest
from aiteni.evaluation.bank import load as load_bank
from aiteni.extensions import db
from aiteni.models import EvaluationRecord, LoginSession, User, new_session_id, utcnow
from aiteni.auth.tokens import Principal, issue_access_token

BATCH = 20_000
# The level a seeded player shows in each dimension: lopsided, so the record lists advantages and weaknesses.
SEEDED_LEVELS = {"baseline": 3.5, "forehand": 4.5, "backhand": 3.0, "serve": 4.0, "return": 3.5, "net": 2.5,
                 "footwork": 3.5, "tactics": 3.5, "match_result": 3.0, "training": 3.5}


def bank_path():
    """The question bank the served app reads: QUESTIONS_FILE, else the shipped one."""
    return os.environ.get("QUESTIONS_FILE") or str(DEFAULT_FILE)


def _record():
    """A record as /api/evaluation/full stores one today: the bank's own scoring of a full questionnaire.

    Every question answered with the option nearest the player's level in its
    dimension; the ten dimensions carry the bank's comments (about 80
    characters each), the summary its sentences, `stage` full.
    """
    chosen = {q.id: nearest(q.leveled, SEEDED_LEVELS.get(q.dimension, 3.5)) for q in BANK.questions.values()}
    result = scoring.score(BANK, chosen)
    fields = ("total_level", "rounded_level", "level_label", "confidence", "provisional", "consistent",
              "dimension_scores", "dimension_comments", "advantages", "weaknesses", "summary_text")
    low, high = result["level_range"]
    return {**{name: result[name] for name in fields}, "level_low": low, "level_high": high, "stage": "full",
            "questions_version": BANK.version, "answers": {q: option.id for q, option in chosen.items()}}


# The bank the served app reads, loaded once for the seeded records and the scripts' answers.
BANK = load_bank(bank_path())
RECORD = _record()


def _batches(rows, total, label, quiet):
    """Yields lists of up to BATCH rows from a generator, advancing a progress bar."""
    with tqdm(total=total, desc=label, unit="row", unit_scale=True, disable=quiet, leave=False) as bar:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                yield batch
                bar.update(len(batch))
                batch = []
        if batch:
            yield batch
            bar.update(len(batch))


def _users(count, now):
    for i in range(count):
        yield {
            "id": i + 1,
            "username": f"wx_bench{i:09d}",
            "wechat_openid": f"o_u{i}",
            "wechat_nickname": f"用户{i}",
            "wechat_avatar": f"https://mmbiz.qpic.cn/bench/{i}.png",
            "session_key": "c2Vzc2lvbmtleQ==",
            "created_at": now,
            "updated_at": now,
            "last_login_at": now,
        }


def _records(users, per_user, start):
    # Records one second apart, interleaved across users as real traffic would be.
    for n in range(users * per_user):
        yield {"id": n + 1, "user_id": n % users + 1, "created_at": start + timedelta(seconds=n), **RECORD}


def seed(database_url, jwt_secret, users, records_per_user, token_users, quiet=False):
    """Seeds the database and returns access tokens of `token_users` users spread evenly over all."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "JWT_SECRET": jwt_secret, "LOG_DIR": None, "LOG_LEVEL": "WARNING"}
    )
    now = utcnow()
    with app.app_context():
        with db.engine.begin() as connection:
            for batch in _batches(_users(users, now), users, "users", quiet):
                connection.execute(sa.insert(User), batch)
            total = users * records_per_user
            start = now - timedelta(seconds=total)
            for batch in _batches(_records(users, records_per_user, start), total, "records", quiet):
                connection.execute(sa.insert(EvaluationRecord), batch)

        step = max(users // token_users, 1)
        chosen = range(0, users, step)[:token_users]
        sessions = [
            {"id": new_session_id(), "user_id": i + 1, "created_at": now, "last_used_at": now,
             "expires_at": now + timedelta(days=app.config["SESSION_MAX_DAYS"])}
            for i in chosen
        ]
        with db.engine.begin() as connection:
            connection.execute(sa.insert(LoginSession), sessions)
        tokens = [
            issue_access_token(Principal(s["user_id"], f"o_u{s['user_id'] - 1}", "", "", s["id"]))
            for s in sessions
        ]
        db.engine.dispose()
    return tokens
