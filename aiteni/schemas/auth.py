"""Login, tokens and the user's own account: request bodies with their rules, and answer shapes."""
from typing import Optional

from pydantic import Field, model_validator

from ..wechat.errors import InvalidCode, InvalidPhoneCode
from .body import ABSENT, BLANK, WRONG_TYPE, Body, Rule, Shape
from .fields import BOUND_PHONE, REFRESH_TOKEN_MAX, REFRESH_TOKEN_PREFIX, AvatarUrl, Nickname, Phone, RealName, WeChatCode, text

NO_CODE = "缺少登录凭证code"
NO_PHONE_CODE = "缺少手机号凭证code"
NEED_PROFILE = "请完善头像和昵称"
BAD_PROFILE = "头像或昵称格式不正确"
BAD_NICKNAME = "昵称格式不正确"
BAD_PHONE = "手机号格式不正确"
BAD_REAL_NAME = "姓名格式不正确"
# What each success answers (`success` otherwise: envelope.SUCCESS).
LOGGED_IN = "登录成功"
TOKEN_VALID = "Token有效"
REFRESHED = "刷新成功"
LOGGED_OUT = "已退出登录"
UPDATED = "更新成功"
PHONE_BOUND = "绑定成功"
ACCOUNT_DELETED = "账号已注销"

NO_TEXT = (ABSENT, WRONG_TYPE, BLANK)
PROFILE = ("nickName", "avatarUrl")


class Login(Body):
    # A code longer than any WeChat issues is WeChat's own refusal, without asking WeChat.
    code: WeChatCode
    avatarUrl: AvatarUrl
    nickName: Nickname

    rules = (
        Rule(NO_CODE, ("code",), NO_TEXT),
        Rule(InvalidCode, ("code",)),
        Rule(NEED_PROFILE, PROFILE, (ABSENT,)),
        Rule(BAD_PROFILE, PROFILE, (WRONG_TYPE,)),
        Rule(NEED_PROFILE, PROFILE, (BLANK,)),
        Rule(BAD_PROFILE, PROFILE),
    )


class PhoneCode(Body):
    code: WeChatCode

    rules = (Rule(NO_PHONE_CODE, ("code",), NO_TEXT), Rule(InvalidPhoneCode, ("code",)))


# Not read through the model: sessions.refresh answers any token it cannot use, malformed or not, 401.
class Refresh(Body):
    refreshToken: str = Field(pattern=f"^{REFRESH_TOKEN_PREFIX}", max_length=REFRESH_TOKEN_MAX)


class Logout(Body):
    all: Optional[bool] = Field(None, description="null: absent")


class UserUpdate(Body, json_schema_extra={"minProperties": 1}):
    """At least one of the fields; all are checked before anything is written."""

    nickName: Nickname = None
    phone: Phone = None
    realName: RealName = None

    rules = (Rule(BAD_NICKNAME, ("nickName",)), Rule(BAD_PHONE, ("phone",)), Rule(BAD_REAL_NAME, ("realName",)))

    @model_validator(mode="after")
    def _some_field(self):
        if not self.model_fields_set:
            raise ValueError("no field to update")
        return self


class UserInfo(Shape):
    id: int
    nickName: str
    avatarUrl: str


class TokenPair(Shape):
    token: str = Field(description="Access JWT (HS256), sent as `Authorization: Bearer`")
    refreshToken: str = Field(pattern=f"^{REFRESH_TOKEN_PREFIX}", description="Opaque, single use")
    expiresIn: int = Field(description="Access token lifetime in seconds")


class LoginData(TokenPair):
    userInfo: UserInfo


class Profile(Shape):
    nickName: str
    avatarUrl: str


class Verified(Shape):
    userId: int
    userInfo: Profile


class User(Shape):
    id: int
    username: str
    nickName: str
    avatarUrl: str
    phone: Optional[str]
    realName: Optional[str]
    createdAt: str = Field(pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
                           description="China time (UTC+8), shown verbatim by the client")


class BoundPhone(Shape):
    phone: text(pattern=f"^({BOUND_PHONE.pattern})$") = Field(
        description="Mainland numbers plain, others `+<country code><number>`")
