"""Login sessions and their rotating refresh tokens.

Each login starts a session; every refresh consumes its refresh token and
issues the next one in the same session. A consumed token presented again
means a copy exists elsewhere, so the whole session is revoked; unless it comes
within seconds of its use, as the loser of a client's two refreshes racing
with one token does: that one only gets the 401, and the winner stays signed in.
"""
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import database, logs
from . import tokens, users
from ..errors import Unauthorized
from ..extensions import db
from ..models import LoginSession, RefreshToken, User, new_session_id, utcnow
from ..schemas.fields import REFRESH_TOKEN_MAX, REFRESH_TOKEN_PREFIX

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPair:
    token: str
    refresh_token: str
    expires_in: int

    def as_data(self):
        return {"token": self.token, "refreshToken": self.refresh_token, "expiresIn": self.expires_in}


def new_refresh_token():
    """An opaque refresh token (32 random bytes) and the hash that is all we store."""
    token = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _refresh_token_row(session_id, now):
    """A new refresh token and the row that stores its hash."""
    token, token_hash = new_refresh_token()
    lifetime = timedelta(days=current_app.config["REFRESH_EXPIRATION_DAYS"])
    row = {"token_hash": token_hash, "session_id": session_id, "created_at": now, "expires_at": now + lifetime}
    return token, row


# A used refresh token presented again this soon (plus tokens.CLOCK_SKEW_SECONDS, as the
# winner's host may run behind) is the loser of a client's double refresh, not a stolen copy.
REFRESH_RACE_SECONDS = 5

# What a login writes: checked before WeChat is asked, so a database behind the code does not
# spend the player's one-time code (see database.check_tables).
LOGIN_TABLES = (User.__table__, LoginSession.__table__, RefreshToken.__table__)
_INSERT_SESSION = LoginSession.__table__.insert()
_INSERT_REFRESH = RefreshToken.__table__.insert()
_LOGIN_ATTEMPTS = 5


def login(wechat, nickname, avatar_url, client_ip=None, user_agent=None):
    """Records a login and opens its session, in one transaction; returns (Principal, TokenPair).

    All or nothing: a login whose session cannot be written leaves no user
    row behind. Two first logins of one openid race on the unique constraint;
    the loser's transaction rolls back and its second attempt updates the
    winner's row, so both succeed.
    """
    for attempt in range(_LOGIN_ATTEMPTS):
        try:
            with database.write_transaction() as connection:
                user_id, created = users.upsert_login(connection, wechat, nickname, avatar_url)
                session_id, refresh_token = _open(connection, user_id, client_ip, user_agent)
            break
        except IntegrityError:
            if attempt == _LOGIN_ATTEMPTS - 1:
                raise
    if created:
        logs.note(log, new_user=user_id)
    tokens.forget(user_id=user_id)
    user = tokens.Principal(user_id, wechat.openid, nickname, avatar_url, session_id)
    return user, _pair(user, refresh_token)


def _pair(principal, refresh_token):
    return TokenPair(tokens.issue_access_token(principal), refresh_token, tokens.access_lifetime_seconds())


def _open(connection, user_id, client_ip, user_agent):
    """Inserts the session row and its first refresh token; returns (session id, refresh token)."""
    now = utcnow()
    session_id = new_session_id()
    connection.execute(
        _INSERT_SESSION,
        {
            "id": session_id,
            "user_id": user_id,
            "created_at": now,
            "last_used_at": now,
            "expires_at": now + timedelta(days=current_app.config["SESSION_MAX_DAYS"]),
            "client_ip": client_ip,
            "user_agent": (user_agent or "")[:255] or None,
        },
    )
    refresh_token, row = _refresh_token_row(session_id, now)
    connection.execute(_INSERT_REFRESH, row)
    return session_id, refresh_token


def refresh(refresh_token):
    """Rotates a refresh token into a new pair, or raises 401; a reuse after the race window revokes.

    Of two refreshes racing with one token, the loser either finds it already
    used (its read came after the winner's commit) or loses the compare-and-set
    below (its read came before): both answer 401 and leave the session alone.
    """
    if not isinstance(refresh_token, str) or not refresh_token.startswith(REFRESH_TOKEN_PREFIX) or len(refresh_token) > REFRESH_TOKEN_MAX:
        raise Unauthorized(tokens.REVOKED)
    now = utcnow()
    token_hash = hash_refresh_token(refresh_token)
    row = db.session.execute(
        sa.select(RefreshToken, LoginSession, User)
        .join(LoginSession, RefreshToken.session_id == LoginSession.id)
        .join(User, LoginSession.user_id == User.id)
        .where(RefreshToken.token_hash == token_hash)
    ).first()
    if row is None:
        raise Unauthorized(tokens.REVOKED)
    stored, session, user = row
    if stored.used_at is not None:
        # A use further ahead than siblings' skew is from before the clock stepped back: not a race either.
        if abs(now - stored.used_at) > timedelta(seconds=REFRESH_RACE_SECONDS + tokens.CLOCK_SKEW_SECONDS):
            log.warning("refresh token reused: revoking session of user %s", user.id)
            revoke(session.id)
        raise Unauthorized(tokens.REVOKED)
    if session.revoked_at is not None or session.expires_at <= now or stored.expires_at <= now:
        raise Unauthorized(tokens.REVOKED)

    # Compare-and-set: of two requests racing with one token exactly one consumes it.
    consumed = db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.token_hash == token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if consumed != 1:
        db.session.rollback()
        raise Unauthorized(tokens.REVOKED)
    session.last_used_at = now
    new_refresh, row = _refresh_token_row(session.id, now)
    db.session.add(RefreshToken(**row))
    principal = tokens.Principal(user.id, user.wechat_openid, user.wechat_nickname, user.wechat_avatar, session.id)
    pair = _pair(principal, new_refresh)
    db.session.commit()
    return pair


def revoke(session_id):
    """Ends one session, at once for this process (the cache is dropped after the commit)."""
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    tokens.forget(session_id=session_id)


def revoke_all(user_id):
    """Ends every session of a user."""
    now = utcnow()
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    tokens.forget(user_id=user_id)


def purge(days):
    """Deletes sessions that expired or were revoked more than `days` ago; returns how many."""
    cutoff = utcnow() - timedelta(days=days)
    deleted = db.session.execute(
        sa.delete(LoginSession)
        .where(sa.or_(LoginSession.expires_at < cutoff, LoginSession.revoked_at < cutoff))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return deleted
