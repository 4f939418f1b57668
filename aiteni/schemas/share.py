"""The share poster's code: the body /api/generate_qrcode reads."""
import re
from typing import Optional

from pydantic import Field

from ..errors import BAD_JSON
from .body import Body, Rule

BAD_PATH = "分享路径无效"
RESULT_PAGE = "pages/result/result"
WELCOME_PAGE = "pages/welcome/welcome"
# A record id as the client writes it (a JSON number): no sign, no leading zero. 18 digits keep
# `resultId=<id>` within WeChat's 32-character scene.
RECORD_ID = re.compile(r"[1-9][0-9]{0,17}")
# WeChat's own default, and its bounds.
DEFAULT_WIDTH, MIN_WIDTH, MAX_WIDTH = 430, 280, 1280


class ShareCode(Body):
    path: str = Field(
        pattern=f"^({WELCOME_PAGE}|{re.escape(RESULT_PAGE)}\\?resultId={RECORD_ID.pattern})$",
        description=f"`{RESULT_PAGE}?resultId=<record id>` or `{WELCOME_PAGE}`")
    width: Optional[float] = Field(None, allow_inf_nan=False, description=(
        f"Pixels, clamped to {MIN_WIDTH}-{MAX_WIDTH}; absent or null: {DEFAULT_WIDTH}; "
        f"any other JSON value: 400 `{BAD_JSON}`"))

    # The path first: a bad path answers 分享路径无效 whatever the width.
    rules = (Rule(BAD_PATH, ("path",)),)
