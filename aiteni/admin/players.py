"""Players in the console: search, one player's page, and the two changes (revoke sessions, delete)."""
import sqlalchemy as sa

from ..auth import sessions, users
from ..extensions import db
from ..inputs import positive_int
from ..models import MAX_ID, EvaluationRecord, LoginSession, User
from . import audit
from .paging import newest_first

SHOWN_SESSIONS = 50


def search(text, before=None):
    """Players whose nickname contains `text`, or whose openid, phone or id is it (or starts with it); newest first."""
    query = sa.select(User)
    text = (text or "").strip()
    if text:
        matches = [
            User.wechat_nickname.contains(text, autoescape=True),
            User.wechat_openid.startswith(text, autoescape=True),
            User.phone.startswith(text, autoescape=True),
        ]
        if (user_id := positive_int(text, MAX_ID)) is not None:
            matches.append(User.id == user_id)
        query = query.where(sa.or_(*matches))
    return newest_first(query, User.id, before)


def find(user_id):
    return db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None


def login_sessions(user_id):
    return db.session.scalars(
        sa.select(LoginSession).where(LoginSession.user_id == user_id)
        .order_by(LoginSession.created_at.desc()).limit(SHOWN_SESSIONS)
    ).all()


def record_count(user_id):
    return db.session.scalar(sa.select(sa.func.count()).select_from(EvaluationRecord)
                             .where(EvaluationRecord.user_id == user_id))


def revoke_sessions(account, user_id, address):
    """Every login session of the player ends (as a logout everywhere), audited in the same commit."""
    audit.record(account.name, "sessions_revoked", target=user_id, address=address)
    sessions.revoke_all(user_id)


def delete(account, user, address):
    """The player and all their data go, as DELETE /api/user does; the audit keeps the id and counts, no profile."""
    detail = f"records={record_count(user.id)}"
    audit.record(account.name, "player_deleted", target=user.id, detail=detail, address=address)
    users.delete(user.id)
