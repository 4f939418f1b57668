"""The operations of login, tokens and the user's own account."""
from .. import wechat
from ..auth import tokens
from ..envelope import SUCCESS
from ..errors import BAD_JSON
from ..schemas import auth
from .responses import SECURED, authenticated, body, common, error, ok, ref, wechat_failures

LOGIN_400 = [*auth.Login.messages(), wechat.RateLimited.message, wechat.MisConfigured.message]


PATHS = {
    "/api/auth/login": {
        "post": {
            "tags": ["auth"],
            "summary": "Log in with a wx.login code; creates the user on first login",
            "requestBody": body(auth.Login, {"code": "0a3Xyz000abcDEF", "avatarUrl": "wxfile://tmp_3f2a.png",
                                             "nickName": "张三"}),
            "responses": {
                "200": ok(auth.LOGGED_IN, ref("LoginData")),
                "400": error(400, LOGIN_400, "Bad body, bad profile, or WeChat refused the code"),
                "403": error(403, [wechat.AccountAtRisk.message], "WeChat errcode 40226"),
                **wechat_failures("WeChat busy (-1) or the database down"),
            },
        }
    },
    "/api/auth/verify": {
        "post": {
            "tags": ["auth"],
            "summary": "Check an access token",
            "security": SECURED,
            "responses": {
                "200": ok(auth.TOKEN_VALID, ref("Verified")),
                **authenticated(tokens.MISSING_TOKEN),
                **common(),
            },
        }
    },
    "/api/auth/refresh": {
        "post": {
            "tags": ["auth"],
            "summary": "Rotate a refresh token into a new token pair (each refresh token works once)",
            "requestBody": body(auth.Refresh, {"refreshToken": "rt_3q2-7wEvhxTbMuFl0bvd8A0QJzPZqVnbQJ5f8gqBEXs"}),
            "responses": {
                "200": ok(auth.REFRESHED, ref("TokenPair")),
                "400": error(400, [BAD_JSON], "Body not a JSON object"),
                "401": error(401, [tokens.REVOKED], "Unknown, expired, reused or malformed refresh token"),
                **common(body=True),
            },
        }
    },
    "/api/auth/logout": {
        "post": {
            "tags": ["auth"],
            "summary": "End this login session, or every session with `all: true`",
            "security": SECURED,
            "requestBody": body(auth.Logout, {"all": True}, required=False),
            "responses": {
                "200": ok(auth.LOGGED_OUT),
                "400": error(400, [BAD_JSON], "Body not a JSON object, or `all` not a boolean"),
                **authenticated(),
                **common(body=True),
            },
        }
    },
    "/api/user/info": {
        "get": {
            "tags": ["user"],
            "summary": "The signed-in user's profile",
            "security": SECURED,
            "responses": {"200": ok(SUCCESS, ref("User")), **authenticated(), **common()},
        }
    },
    "/api/user/update": {
        "post": {
            "tags": ["user"],
            "summary": "Change nickname, phone or real name (all or nothing)",
            "security": SECURED,
            "requestBody": body(auth.UserUpdate, {"nickName": "张三", "phone": "13800138000", "realName": "张三"}),
            "responses": {
                "200": ok(auth.UPDATED),
                "400": error(
                    400, auth.UserUpdate.messages(),
                    "Body not an object, no known field, or a field in the wrong format",
                ),
                **authenticated(),
                **common(body=True),
            },
        }
    },
    "/api/user/phone": {
        "post": {
            "tags": ["user"],
            "summary": "Bind the phone number behind a getPhoneNumber button's code (kept as `phone`)",
            "security": SECURED,
            "requestBody": body(auth.PhoneCode, {
                "code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144"}),
            "responses": {
                "200": ok(auth.PHONE_BOUND, ref("BoundPhone")),
                "400": error(
                    400, [*auth.PhoneCode.messages(), wechat.MisConfigured.message],
                    "Bad body, no code, WeChat refused the code (40029), or the server's WeChat settings are wrong",
                ),
                **authenticated(),
                **wechat_failures(),
            },
        }
    },
    "/api/user": {
        "delete": {
            "tags": ["user"],
            "summary": "Delete the account and its records; every token stops working at once",
            "security": SECURED,
            "responses": {"200": ok(auth.ACCOUNT_DELETED), **authenticated(), **common()},
        }
    },
}
