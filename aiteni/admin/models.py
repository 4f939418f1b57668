"""The console's own tables: operators' accounts, their sign-in sessions, and the audit log.

Apart from the players' tables: no console account is a player, and nothing
of the API reads these.
"""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import MYSQL_TABLE, BigId, UTCDateTime, identifier, utcnow


class AdminAccount(db.Model):
    """An operator, made with `flask --app wsgi admin create NAME`; never through the web."""

    __tablename__ = "aiteni_admin_account"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(32), unique=True)
    # argon2id in its encoded form ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Failed sign-ins since the last success or lockout; five lock the account (auth.py).
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class AdminSession(db.Model):
    """A signed-in browser: the cookie holds a random token, this row its SHA-256 (sign-out ends the row)."""

    __tablename__ = "aiteni_admin_session"
    __table_args__ = (MYSQL_TABLE,)

    token_hash: Mapped[str] = mapped_column(identifier(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("aiteni_admin_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    address: Mapped[Optional[str]] = mapped_column(sa.String(45))


class AdminAudit(db.Model):
    """One change made through the console or its commands: who, when, from where, what."""

    __tablename__ = "aiteni_admin_audit"
    __table_args__ = (
        # The lockout counts an address's failed sign-ins of the last minutes.
        sa.Index("ix_aiteni_admin_audit_address_action_created", "address", "action", "created_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The account's name (accounts are disabled, never deleted), or "cli" for a command.
    actor: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[Optional[str]] = mapped_column(sa.String(45))
    action: Mapped[str] = mapped_column(sa.String(32))
    target: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
