"""Users: created or updated at login, read and edited by themselves, deleted on request."""
import re
from datetime import timedelta

import sqlalchemy as sa

from . import tokens
from .errors import BadRequest, Unauthorized
from .extensions import db
from .inputs import is_text
from .models import User, new_username, utcnow

NEED_PROFILE = "请完善头像和昵称"
BAD_PROFILE = "头像或昵称格式不正确"
BAD_NICKNAME = "昵称格式不正确"
BAD_PHONE = "手机号格式不正确"
BAD_REAL_NAME = "姓名格式不正确"

AVATAR_SCHEMES = ("https://", "http://", "wxfile://")
NICKNAME_MAX = 64  # the column's width
PHONE = re.compile(r"1[0-9]{10}")
CHINA_TIME = timedelta(hours=8)


def check_login_profile(nickname, avatar_url):
    """The nickname and avatar a login must carry, stripped; 400 with the contract's message otherwise."""
    if nickname is None or avatar_url is None:
        raise BadRequest(NEED_PROFILE)
    if not isinstance(nickname, str) or not isinstance(avatar_url, str):
        raise BadRequest(BAD_PROFILE)
    if not nickname.strip() or not avatar_url.strip():
        raise BadRequest(NEED_PROFILE)
    # Limits count what the client sent; the avatar is stored exactly as given (API.md).
    if len(nickname) > NICKNAME_MAX or len(avatar_url) > 512 or not avatar_url.startswith(AVATAR_SCHEMES):
        raise BadRequest(BAD_PROFILE)
    return nickname.strip(), avatar_url


# Statements built once: each login only binds values, so SQLAlchemy reuses their compiled SQL.
_USERS = User.__table__
_BY_OPENID = sa.select(_USERS.c.id).where(_USERS.c.wechat_openid == sa.bindparam("openid"))
_UPDATE_LOGIN = _USERS.update().where(_USERS.c.id == sa.bindparam("user_key"))
_INSERT = _USERS.insert()


def upsert_login(connection, wechat, nickname, avatar_url):
    """Writes a login to the user row, creating it on first login; returns (user id, created).

    Core statements on the caller's transaction (login is a hot path, and the
    session row must land in the same transaction). A concurrent first login of
    the same openid makes the INSERT fail on the unique constraint: the caller
    rolls back and tries again, and the second try finds the row.
    """
    now = utcnow()
    values = {
        "wechat_nickname": nickname,
        "wechat_avatar": avatar_url,
        "session_key": wechat.session_key,
        "last_login_at": now,
        "updated_at": now,
    }
    if wechat.unionid:
        values["wechat_unionid"] = wechat.unionid
    user_id = connection.scalar(_BY_OPENID, {"openid": wechat.openid})
    if user_id is not None:
        connection.execute(_UPDATE_LOGIN, {"user_key": user_id, **values})
        return user_id, False
    row = {"wechat_openid": wechat.openid, "username": new_username(), "created_at": now, **values}
    return connection.execute(_INSERT, row).inserted_primary_key[0], True


def get(user_id):
    """The signed-in user's row; gone means the account was deleted a moment ago."""
    user = db.session.get(User, user_id)
    if user is None:
        raise Unauthorized(tokens.REVOKED)
    return user


def info(user):
    """The profile as /api/user/info returns it (camelCase, China time)."""
    return {
        "id": user.id,
        "username": user.username,
        "nickName": user.wechat_nickname,
        "avatarUrl": user.wechat_avatar,
        "phone": user.phone,
        "realName": user.real_name,
        "createdAt": (user.created_at + CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S"),
    }


def _nickname(value):
    if not isinstance(value, str) or not value.strip() or len(value) > NICKNAME_MAX:
        raise BadRequest(BAD_NICKNAME)
    return value.strip()


def _phone(value):
    # null or "" clears the number
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not PHONE.fullmatch(value):
        raise BadRequest(BAD_PHONE)
    return value


def _real_name(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not is_text(value, 32):
        raise BadRequest(BAD_REAL_NAME)
    return value.strip()


_EDITABLE = {"nickName": ("wechat_nickname", _nickname), "phone": ("phone", _phone), "realName": ("real_name", _real_name)}


def update(user_id, body):
    """Applies the known fields of `body`, all or nothing."""
    changes = {column: check(body[field]) for field, (column, check) in _EDITABLE.items() if field in body}
    if not changes:
        raise BadRequest()
    user = get(user_id)
    for column, value in changes.items():
        setattr(user, column, value)
    db.session.commit()
    tokens.forget(user_id=user_id)


def set_phone(user_id, phone):
    """Keeps the number WeChat vouched for (any country, so not checked as /update checks a typed one)."""
    get(user_id).phone = phone
    db.session.commit()


def delete(user_id):
    """Deletes the user; records and sessions go with it (ON DELETE CASCADE)."""
    db.session.execute(sa.delete(User).where(User.id == user_id))
    db.session.commit()
    tokens.forget(user_id=user_id)

