"""The `auth` blueprint: login, tokens, and the signed-in user's own account."""
from flask import Blueprint, current_app, request
from flask_jwt_extended import current_user

from .. import database, logs
from . import sessions, tokens, users
from ..envelope import ok
from ..inputs import json_body
from ..schemas.auth import (
    ACCOUNT_DELETED, LOGGED_IN, LOGGED_OUT, PHONE_BOUND, REFRESHED, TOKEN_VALID, UPDATED, Login, Logout, PhoneCode,
    UserUpdate,
)

bp = Blueprint("auth", __name__, url_prefix="/api")


@bp.post("/auth/login")
def login():
    """wx.login code -> WeChat -> our user -> a new login session and its token pair."""
    body = Login.read(json_body())
    database.check_tables(sessions.LOGIN_TABLES)
    wechat = current_app.extensions["wechat"].code2session(body.code)
    user, pair = sessions.login(wechat, body.nickName, body.avatarUrl, request.remote_addr, request.user_agent.string)
    request.environ[logs.USER_ID] = user.id
    user_info = {"id": user.id, "nickName": user.nickname, "avatarUrl": user.avatar_url}
    return ok({**pair.as_data(), "userInfo": user_info}, LOGGED_IN)


@bp.post("/auth/verify")
@tokens.auth_required(missing_msg=tokens.MISSING_TOKEN)
def verify():
    """Called at every mini-program launch: is the stored token still good, and whose is it."""
    user_info = {"nickName": current_user.nickname, "avatarUrl": current_user.avatar_url}
    return ok({"userId": current_user.id, "userInfo": user_info}, TOKEN_VALID)


@bp.post("/auth/refresh")
def refresh():
    """Rotates a refresh token into a new pair (see sessions.refresh)."""
    pair = sessions.refresh(json_body().get("refreshToken"))
    return ok(pair.as_data(), REFRESHED)


@bp.post("/auth/logout")
@tokens.auth_required()
def logout():
    """Ends this device's session, or with {"all": true} every session of the user."""
    if Logout.read(json_body(optional=True)).all:
        sessions.revoke_all(current_user.id)
    else:
        sessions.revoke(current_user.session_id)
    return ok(msg=LOGGED_OUT)


@bp.get("/user/info")
@tokens.auth_required()
def user_info():
    """The signed-in user's own profile."""
    return ok(users.info(users.get(current_user.id)))


@bp.post("/user/update")
@tokens.auth_required()
def update_user():
    """Edits nickName, phone or realName; all checked before anything is written."""
    users.update(current_user.id, UserUpdate.read(json_body()))
    return ok(msg=UPDATED)


@bp.post("/user/phone")
@tokens.auth_required()
def bind_phone():
    """A getPhoneNumber button's code -> WeChat -> the number, kept as the user's phone."""
    phone = current_app.extensions["wechat"].phone_number(PhoneCode.read(json_body()).code)
    users.set_phone(current_user.id, phone)
    return ok({"phone": phone}, PHONE_BOUND)


@bp.delete("/user")
@tokens.auth_required()
def delete_user():
    """Deletes the account with its records and sessions; every token of it stops working."""
    users.delete(current_user.id)
    return ok(msg=ACCOUNT_DELETED)
