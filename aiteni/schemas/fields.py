"""Every limit and pattern the contract holds a field to, and the field types built from them.

A leaf: it imports nothing of ours, so any module (models, the question bank, the
WeChat client) reads its limits here without an arrow running back up.
"""
import re
from typing import Annotated, Optional

from pydantic import AfterValidator, BeforeValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, WrapValidator
from pydantic_core import PydanticCustomError, core_schema
from typing_extensions import TypeAliasType

# The level grid: 1.0 to 7.0 in half levels, 6.5 included (13 levels).
LOWEST, HIGHEST, STEP = 1.0, 7.0, 0.5
GRID = tuple(LOWEST + STEP * i for i in range(int((HIGHEST - LOWEST) / STEP) + 1))
TIERS = ("basic", "advanced")
# A Result's level_range holds the player's level with this probability (certainty.py computes it so).
COVERAGE = 0.9

# The user's profile: the columns' widths.
NICKNAME_MAX = 64
AVATAR_MAX = 512
AVATAR_SCHEMES = ("https://", "http://", "wxfile://")
REAL_NAME_MAX = 32
# A mainland mobile number as typed by hand (a number WeChat vouches for may be any country's).
PHONE = re.compile(r"1[0-9]{10}")
# A number WeChat vouches for (getuserphonenumber): a mainland one plain, another `+<country code><number>`,
# E.164's 15 digits at most (the column's width).
BOUND_PHONE_MAX = 16
BOUND_PHONE = re.compile(rf"{PHONE.pattern}|\+[0-9]{{2,{BOUND_PHONE_MAX - 1}}}")
# A refresh token as this server issues them; anything else is refused without a lookup.
REFRESH_TOKEN_PREFIX = "rt_"
REFRESH_TOKEN_MAX = 128
# Longer than any code WeChat issues (wx.login, getPhoneNumber): refused without asking WeChat.
WECHAT_CODE_MAX = 128

# Records and answers. A key: a dimension key, a question or option id as the client sends them.
KEY_MAX = 32
LABEL_MAX = 32
COMMENT_MAX = 500
SUMMARY_MAX = 2000
MAX_DIMENSIONS = 50
MAX_ANSWERS = 200
# advantages or weaknesses: a computed Result lists at most MAX_LISTED, a /save may carry MAX_SAVED_KEYS.
MAX_LISTED = 3
MAX_SAVED_KEYS = 10
MAX_PAGE_SIZE = 50
# Question and option ids become a data path in the client (`answers.${id}`): no '.', '[' or ']'.
BANK_ID_MAX = 32
BANK_ID = re.compile(rf"[A-Za-z0-9_]{{1,{BANK_ID_MAX}}}")
# A bank's version, as records keep it.
BANK_VERSION_MAX = 32
BANK_VERSION = re.compile(rf"[0-9A-Za-z._-]{{1,{BANK_VERSION_MAX}}}")

# Text the server trims (str.strip) must keep a character that is not whitespace. Python's
# whitespace spelled out, because a pattern's `\s` means something else in JSON Schema (ECMA-262).
NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def text(max_length=None, min_length=None, **constraints):
    """A string of min_length..max_length characters, counted as sent."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length, **constraints)]


def filled(max_length):
    """Text with a character that is not whitespace, at most max_length characters as sent."""
    return text(max_length, 1, pattern=NOT_BLANK)


def _as_sent(value, handler):
    """Checked as a float, kept as sent: a whole number stays the JSON integer it was."""
    handler(value)
    return value


class OnGrid:
    """A multiple of STEP, exactly (pydantic's multiple_of forgives a billionth)."""

    def __get_pydantic_core_schema__(self, source, handler: GetCoreSchemaHandler):
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler: GetJsonSchemaHandler):
        return {**handler(schema), "multipleOf": STEP}

    @staticmethod
    def _check(value):
        if not float(value / STEP).is_integer():
            raise PydanticCustomError("off_grid", "not a multiple of {step}", {"step": STEP})
        return value


def trimmed(kind):
    """`kind`, kept without its leading and trailing whitespace (limits count what was sent)."""
    return Annotated[kind, AfterValidator(lambda value: value if value is None else value.strip())]


def _blank_is_none(value):
    return None if isinstance(value, str) and not value.strip() else value


# A real, finite JSON number (strict: not a bool, not a string) on the level scale.
Level = TypeAliasType("Level", Annotated[float, Field(ge=LOWEST, le=HIGHEST, allow_inf_nan=False),
                                         WrapValidator(_as_sent)])
RoundedLevel = TypeAliasType("RoundedLevel", Annotated[Level, OnGrid()])
Key = text(KEY_MAX, 1)
Answers = TypeAliasType("Answers", Annotated[dict[Key, Key], Field(
    max_length=MAX_ANSWERS, description="{question id: option id}")])
WeChatCode = filled(WECHAT_CODE_MAX)
Nickname = trimmed(filled(NICKNAME_MAX))
# Stored exactly as given (API.md); a nickname or real name is stored trimmed.
AvatarUrl = Annotated[text(AVATAR_MAX), Field(
    pattern="^(" + "|".join(re.escape(scheme) for scheme in AVATAR_SCHEMES) + ")",
    description="As chooseAvatar gave it: wxfile://, http://tmp/ or https://")]
Phone = Annotated[Optional[text(pattern=f"^({PHONE.pattern})?$")], AfterValidator(lambda value: value or None),
                  Field(description="null or empty clears it")]
RealName = Annotated[trimmed(Optional[text(REAL_NAME_MAX)]), BeforeValidator(_blank_is_none),
                     Field(description="null or blank clears it")]
BankId = text(pattern=f"^{BANK_ID.pattern}$")
Label = text(LABEL_MAX, 1)
