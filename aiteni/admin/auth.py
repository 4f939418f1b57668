"""Console sign-in: accounts, lockout, and server-side sessions behind a cookie.

The cookie (Flask's signed session, under /admin only) carries a random
token; the server keeps its SHA-256 in aiteni_admin_session, so sign-out, a
disabled account or a changed password ends the session for every copy of the
cookie. Nothing here reads a JWT, and the API reads no cookie.
"""
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import request, session

from ..extensions import db
from ..models import utcnow
from . import audit, passwords
from .models import AdminAccount, AdminSession

WRONG = "用户名或密码错误"
LOCKED = "登录已锁定，请 15 分钟后再试"

ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
LOCK = timedelta(minutes=15)
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
# last_seen_at is written at most this often: one write a minute, not one a page.
TOUCH_EVERY = timedelta(seconds=60)
SESSION_KEY = "console_session"


class SignInRefused(Exception):
    """The one thing the sign-in page may say: WRONG or LOCKED."""


def address():
    """The client's address, as PROXY_FIX_X_FOR gives it."""
    return request.remote_addr or "-"


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(name, password):
    """Checks a sign-in and opens its session; SignInRefused otherwise, with every failure audited."""
    now, where = utcnow(), address()
    if audit.count_since("address_locked", where, now - LOCK):
        raise SignInRefused(LOCKED)
    account = db.session.scalar(sa.select(AdminAccount).where(AdminAccount.name == name))
    if account is not None and account.locked_until is not None and account.locked_until > now:
        audit.record(name, "login_failed", detail="locked", address=where)
        db.session.commit()
        raise SignInRefused(LOCKED)
    if not passwords.verify(account.password_hash if account else None, password) or not account.enabled:
        _failed(name, account, now, where)
        raise SignInRefused(WRONG)
    account.failed_logins = 0
    account.last_login_at = now
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    token = secrets.token_urlsafe(32)
    db.session.add(AdminSession(token_hash=_hash(token), account_id=account.id, created_at=now, last_seen_at=now,
                                address=where))
    audit.record(account.name, "login", address=where)
    db.session.commit()
    # A new cookie: whatever the browser held before (a planted one) is dropped, its CSRF token with it.
    session.clear()
    session[SESSION_KEY] = token


def _failed(name, account, now, where):
    audit.record(name, "login_failed", address=where)
    db.session.flush()
    # The address is locked for LOCK from its ADDRESS_FAILURES-th failure (CONSOLE.md), not only while that
    # many failures stay within the last LOCK: refused sign-ins add none, so that window slid open in seconds.
    if audit.count_since("login_failed", where, now - LOCK) >= ADDRESS_FAILURES:
        audit.record("-", "address_locked", target=where, detail=f"{ADDRESS_FAILURES} failed sign-ins", address=where)
    if account is not None:
        # Counted in the database: two wrong guesses at once must both count.
        db.session.execute(sa.update(AdminAccount).where(AdminAccount.id == account.id)
                           .values(failed_logins=AdminAccount.failed_logins + 1))
        db.session.refresh(account, ["failed_logins"])
        if account.failed_logins >= ACCOUNT_FAILURES:
            account.failed_logins = 0
            account.locked_until = now + LOCK
            audit.record(account.name, "account_locked", target=account.name,
                         detail=f"{ACCOUNT_FAILURES} failed sign-ins", address=where)
    db.session.commit()


def current_account():
    """The signed-in account, or None (no cookie, signed out, idle, too old, account disabled)."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    row = db.session.execute(
        sa.select(AdminSession, AdminAccount)
        .join(AdminAccount, AdminSession.account_id == AdminAccount.id)
        .where(AdminSession.token_hash == _hash(token))
    ).first()
    now = utcnow()
    if row is None:
        return None
    kept, account = row
    if (kept.ended_at is not None or not account.enabled or now - kept.last_seen_at > IDLE
            or now - kept.created_at > ABSOLUTE):
        return None
    if now - kept.last_seen_at > TOUCH_EVERY:
        kept.last_seen_at = now
        db.session.commit()
    return account


def sign_out(account):
    """Ends this browser's session on the server: a copy of the cookie no longer works."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        db.session.execute(sa.update(AdminSession).where(AdminSession.token_hash == _hash(token))
                           .values(ended_at=utcnow()))
        audit.record(account.name, "logout", address=address())
        db.session.commit()
    session.clear()


def end_sessions(account_id):
    """Ends every session of an account (disabled, or its password changed); the caller commits."""
    db.session.execute(
        sa.update(AdminSession)
        .where(AdminSession.account_id == account_id, AdminSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def any_enabled():
    """Whether at least one enabled account exists: the console is off otherwise."""
    return db.session.scalar(sa.select(AdminAccount.id).where(AdminAccount.enabled.is_(True)).limit(1)) is not None
