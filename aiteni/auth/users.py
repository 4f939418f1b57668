"""Users: created or updated at login, read and edited by themselves, deleted on request."""

import sqlalchemy as sa

from . import tokens
from ..errors import Unauthorized
from ..extensions import db
from ..models import CHINA_TIME, User, new_username, utcnow



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


# The request's fields and the columns they change.
_EDITABLE = {"nickName": "wechat_nickname", "phone": "phone", "realName": "real_name"}


def update(user_id, changes):
    """Applies the fields a checked /user/update body carries (schemas.auth.UserUpdate)."""
    user = get(user_id)
    for field in changes.model_fields_set:
        setattr(user, _EDITABLE[field], getattr(changes, field))
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

