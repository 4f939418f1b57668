"""WeChat's refusals as the client hears them: the errors, which errcode means which, and the reply's check."""
import re

from ..errors import ApiError


class WeChatError(ApiError):
    """A call that WeChat refused or could not answer, as the client should hear it; `cause` is for the logs."""

    status = 502
    message = "微信服务暂不可用，请稍后再试"

    def __init__(self, cause=""):
        super().__init__(self.status, self.message, cause=f"WeChat: {cause}")


class InvalidCode(WeChatError):
    status, message = 400, "code无效，请重新登录"


class RateLimited(WeChatError):
    status, message = 400, "登录频率限制，请稍后再试"


class MisConfigured(WeChatError):
    status, message = 400, "小程序配置错误，请联系管理员"
    operator_fault = True


class AccountAtRisk(WeChatError):
    status, message = 403, "该微信账号存在安全风险，暂时无法登录"


class Overloaded(WeChatError):
    """WeChat, or our share of it, cannot take the call now: 503."""

    status, message = 503, "微信服务繁忙，请稍后再试"


class Busy(Overloaded):
    """WeChat said -1 (system busy) through every retry: the one overload worth trying again soon."""


class Unavailable(WeChatError):
    """Timeout, connection error, HTTP 5xx, garbage, or an errcode we do not know."""


class OverQuota(Overloaded):
    """WeChat's daily or per-minute quota of a call is spent (45009, 45011): no use trying again now."""


class NoSlot(Overloaded):
    """Every WECHAT_CONCURRENCY slot is taken: answered at once, never waited for by a retry."""


class StaleToken(Unavailable):
    """WeChat refused the access token (40001, 40014, 42001): renewed once, then the call is tried again."""


class InvalidPhoneCode(WeChatError):
    status, message = 400, "手机号凭证无效，请重试"


ERRCODES = {
    40029: InvalidCode,
    40163: InvalidCode,
    45011: RateLimited,
    40013: MisConfigured,
    40125: MisConfigured,
    40226: AccountAtRisk,
    -1: Busy,
}
# The calls that carry the access token, stable_token included; each may add its own.
SERVER_ERRCODES = {
    -1: Busy,
    40013: MisConfigured,
    40125: MisConfigured,
    40164: MisConfigured,
    45009: OverQuota,
    45011: OverQuota,
}
PHONE_ERRCODES = {**SERVER_ERRCODES, 40029: InvalidPhoneCode}
CODE_ERRCODES = {**SERVER_ERRCODES, 41030: MisConfigured}
STALE_TOKEN = frozenset({40001, 40014, 42001})
# What the error log adds to an errcode only the operator can fix.
WHITELIST = "开发管理 → 开发设置 → IP白名单"
HINTS = {
    40013: "WECHAT_APPID is not a mini-program's AppID",
    40125: "WECHAT_APPSECRET is not the AppSecret of WECHAT_APPID",
    40164: f"this server's IP address is not on the mini-program's IP whitelist: add it at mp.weixin.qq.com, {WHITELIST}",
    41030: "the page is not in the published (release) version of the mini-program",
}


def check(name, body, errcodes):
    """The reply's request id if its errcode is 0 or absent; else raises the errcode's error.

    `errcodes` maps the call's errcodes to errors (ERRCODES for jscode2session, SERVER_ERRCODES
    and its extensions for the calls with the access token); any other is Unavailable. The error
    log's cause carries a hint for the errcodes only the operator can fix.
    """
    errcode = body.get("errcode") or 0
    errmsg = body.get("errmsg")
    rid = _rid(errmsg)
    if not errcode:
        return rid
    cause = f"{name} errcode {errcode!r} rid={rid}"
    if not isinstance(errcode, int) or isinstance(errcode, bool):
        raise Unavailable(cause)
    if errcode in STALE_TOKEN:
        raise StaleToken(cause)
    hint = HINTS.get(errcode)
    if errcode == 40164:
        hint += _refused_ip(errmsg)
    raise (errcodes.get(errcode) or Unavailable)(f"{cause}: {hint}" if hint else cause)


def _refused_ip(errmsg):
    """The address WeChat saw this server call from (40164 names it: `invalid ip 1.2.3.4 ipv6 ...`)."""
    match = re.search(r"invalid ip ([0-9A-Fa-f.:]+)", errmsg) if isinstance(errmsg, str) else None
    return f" (WeChat saw {match.group(1)})" if match else ""


def _rid(errmsg):
    """WeChat puts a request id in errmsg (`... rid: 6582-...`), the key for its support."""
    match = re.search(r"rid:\s*([\w-]+)", errmsg) if isinstance(errmsg, str) else None
    return match.group(1) if match else "-"
