"""The tables. Timestamps are naive UTC, always set by callables."""
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .schemas.fields import AVATAR_MAX, BANK_VERSION_MAX, BOUND_PHONE_MAX, LABEL_MAX, NICKNAME_MAX, REAL_NAME_MAX

# MySQL's DATETIME keeps whole seconds unless asked; ordering and expiry need more.
UTCDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# MySQL's BLOB holds 64 KB; a mini-program code at 1280 px can be larger (MEDIUMBLOB: 16 MB).
Image = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The largest BIGINT: ids, user ids and page numbers are checked against it before any query.
MAX_ID = 2**63 - 1
MYSQL_TABLE = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
# The newest migration (migrations/versions/): the schema these models describe. The server compares
# the database's alembic_version with it instead of loading alembic (~11 MB); a test keeps it the head.
SCHEMA_REVISION = "e8a4b6d21c93"


def identifier(length):
    """A VARCHAR compared byte for byte, as ids and tokens must be.

    The tables' utf8mb4_unicode_ci ignores letter case (two openids differing
    only in case would be one account); SQLite always compares bytes.
    """
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


# China time (UTC+8): the players' and the operators' day, as the client and the console show times.
CHINA_TIME = timedelta(hours=8)


def utcnow() -> datetime:
    """Now in UTC, naive, as every column stores it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_username() -> str:
    return "wx_" + secrets.token_hex(6)


def new_session_id() -> str:
    return secrets.token_hex(16)


class User(db.Model):
    __tablename__ = "aiteni_user"
    __table_args__ = (sa.Index("ix_aiteni_user_created_at", "created_at"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_username)
    wechat_openid: Mapped[str] = mapped_column(identifier(64), unique=True)
    wechat_unionid: Mapped[Optional[str]] = mapped_column(identifier(64), index=True)
    wechat_nickname: Mapped[str] = mapped_column(sa.String(NICKNAME_MAX), default="")
    wechat_avatar: Mapped[str] = mapped_column(sa.String(AVATAR_MAX), default="")
    phone: Mapped[Optional[str]] = mapped_column(sa.String(BOUND_PHONE_MAX))
    real_name: Mapped[Optional[str]] = mapped_column(sa.String(REAL_NAME_MAX))
    # Server-only: never serialized, never logged.
    session_key: Mapped[Optional[str]] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # No longer read or written: it ended access tokens without a session, which are refused since 1.2.
    tokens_valid_after: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class LoginSession(db.Model):
    """One login on one device: access tokens carry its id as `sid`."""

    __tablename__ = "aiteni_login_session"
    __table_args__ = (MYSQL_TABLE,)

    # Random, never reused: a token of a deleted user cannot match a later session.
    id: Mapped[str] = mapped_column(identifier(32), primary_key=True, default=new_session_id)
    user_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("aiteni_user.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    client_ip: Mapped[Optional[str]] = mapped_column(sa.String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(sa.String(255))


class RefreshToken(db.Model):
    """A refresh token, by hash only; kept after use so a replay can be recognised."""

    __tablename__ = "aiteni_refresh_token"
    __table_args__ = (MYSQL_TABLE,)

    token_hash: Mapped[str] = mapped_column(identifier(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        identifier(32), sa.ForeignKey("aiteni_login_session.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class EvaluationRecord(db.Model):
    __tablename__ = "aiteni_evaluation_record"
    __table_args__ = (
        sa.Index("ix_aiteni_evaluation_record_user_created", "user_id", "created_at", "id"),
        # The console counts records per day.
        sa.Index("ix_aiteni_evaluation_record_created_at", "created_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("aiteni_user.id", ondelete="CASCADE")
    )
    total_level: Mapped[float] = mapped_column(sa.Double)
    rounded_level: Mapped[float] = mapped_column(sa.Double)
    level_label: Mapped[str] = mapped_column(sa.String(LABEL_MAX))
    dimension_scores: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    dimension_comments: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    summary_text: Mapped[str] = mapped_column(sa.Text)
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Dimension keys. NULL in records from before they were stored: read back as [].
    advantages: Mapped[Optional[list[str]]] = mapped_column(sa.JSON)
    weaknesses: Mapped[Optional[list[str]]] = mapped_column(sa.JSON)
    # basic or full (scored here, /api/evaluation/basic and /full), saved (computed elsewhere, /save).
    stage: Mapped[str] = mapped_column(sa.String(8), default="saved", server_default="saved")
    # The bank that scored it; NULL for saved records.
    questions_version: Mapped[Optional[str]] = mapped_column(sa.String(BANK_VERSION_MAX))
    # How sure the level is (level_range, confidence, provisional, consistent); NULL for saved records
    # and for records from before they were kept.
    level_low: Mapped[Optional[float]] = mapped_column(sa.Double)
    level_high: Mapped[Optional[float]] = mapped_column(sa.Double)
    confidence: Mapped[Optional[float]] = mapped_column(sa.Double)
    provisional: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    consistent: Mapped[Optional[bool]] = mapped_column(sa.Boolean)


class WeChatAccessToken(db.Model):
    """The mini-program's access token: one row per AppID, the one token of every process and host.

    `renewing_until` is the lease of the one caller renewing it, taken with a
    compare-and-set UPDATE; `forced_at` is the last forced renewal, which WeChat
    allows 20 times a day, 30 s apart.
    """

    __tablename__ = "aiteni_wechat_access_token"
    __table_args__ = (MYSQL_TABLE,)

    appid: Mapped[str] = mapped_column(identifier(64), primary_key=True)
    # WeChat asks for room for 512 characters.
    token: Mapped[Optional[str]] = mapped_column(identifier(512))
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    renewing_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    forced_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class WeChatShareCode(db.Model):
    """A mini-program code made for a share poster, kept for good: the same share again costs WeChat nothing.

    A row without `image` is a claim: one request is asking WeChat for the code
    until `claimed_until`, and the others wait for it.
    """

    __tablename__ = "aiteni_wechat_share_code"
    __table_args__ = (MYSQL_TABLE,)

    appid: Mapped[str] = mapped_column(identifier(64), primary_key=True)
    page: Mapped[str] = mapped_column(identifier(64), primary_key=True)
    scene: Mapped[str] = mapped_column(identifier(32), primary_key=True)
    width: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    env_version: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    content_type: Mapped[Optional[str]] = mapped_column(sa.String(16))  # image/jpeg or image/png
    image: Mapped[Optional[bytes]] = mapped_column(Image)
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
