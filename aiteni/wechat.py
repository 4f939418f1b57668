"""Everything that knows WeChat: the jscode2session call, its errcodes, and the dev stand-in.

Login never needs an access_token, so nothing here fetches one.
"""
import hashlib
import json
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlencode

import requests

from . import ConfigError, logs
from .errors import ApiError

log = logging.getLogger(__name__)

BUSY_RETRIES = 2


class WeChatError(ApiError):
    """A login that WeChat refused or could not answer, as the client should hear it."""

    status = 502
    message = "微信服务暂不可用，请稍后再试"

    def __init__(self, detail=""):
        super().__init__(self.status, self.message)
        self.detail = detail


class InvalidCode(WeChatError):
    status, message = 400, "code无效，请重新登录"


class RateLimited(WeChatError):
    status, message = 400, "登录频率限制，请稍后再试"


class MisConfigured(WeChatError):
    status, message = 400, "小程序配置错误，请联系管理员"


class AccountAtRisk(WeChatError):
    status, message = 403, "该微信账号存在安全风险，暂时无法登录"


class Busy(WeChatError):
    status, message = 503, "微信服务繁忙，请稍后再试"


class Unavailable(WeChatError):
    """Timeout, connection error, HTTP 5xx, garbage, or an errcode we do not know."""


ERRCODES = {
    40029: InvalidCode,
    40163: InvalidCode,
    45011: RateLimited,
    40013: MisConfigured,
    40125: MisConfigured,
    40226: AccountAtRisk,
    -1: Busy,
}


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    session_key: str
    unionid: Optional[str] = None


def mask_openid(openid):
    """Enough of an openid to tell users apart in a log, not enough to be one."""
    return f"{openid[:4]}***{openid[-2:]}" if openid else "-"


def _redact(text, secret):
    """Exception text without the AppSecret or the code (requests puts the whole URL in it)."""
    text = re.sub(r"(secret|js_code)=[^&\s]*", r"\1=***", text)
    return text.replace(secret, "***") if secret else text


class _OneHostAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, remembering the connection pool of the one host this client calls.

    The stock adapter parses the URL and rebuilds the pool's key on every request,
    about a tenth of the call's CPU. The host, TLS settings and proxy of a
    WeChatClient never change, so neither can its pool.
    """

    pool = None

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        if self.pool is None:
            self.pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        return self.pool


class WeChatClient:
    """Calls jscode2session over one keep-alive `requests.Session`."""

    def __init__(self, appid, secret, api_base, timeout, proxy=None):
        self.appid = appid
        self.secret = secret
        url = api_base.rstrip("/") + "/sns/jscode2session"
        # Prepared once, which also checks WECHAT_API_BASE at startup: each call copies
        # it and appends its js_code (preparing it anew was a twentieth of a login's CPU).
        query = urlencode({"appid": appid, "secret": secret, "grant_type": "authorization_code"})
        try:
            self.request = requests.Request("GET", url, params=query).prepare()
        except requests.RequestException as error:
            raise ConfigError(f"WECHAT_API_BASE is not a URL: {_redact(str(error), secret)}") from None
        self.timeout = timeout
        self.http = requests.Session()
        self.http.mount(url, _OneHostAdapter())
        # Proxies come from WECHAT_PROXY only: letting requests scan the environment
        # for them (and read ~/.netrc) on every login cost a third of the call's CPU.
        self.http.trust_env = False
        if proxy:
            self.http.proxies = {"http": proxy, "https": proxy}

    def code2session(self, code):
        """Exchanges a wx.login code, retrying only while WeChat says it is busy (-1)."""
        if not self.appid or not self.secret:
            raise MisConfigured("appid/secret not configured")
        deadline = time.monotonic() + self.timeout
        for attempt in range(BUSY_RETRIES + 1):
            try:
                return self._call_once(code, deadline)
            except Busy:
                backoff = 0.2 * (2**attempt) + random.uniform(0, 0.1)
                if attempt == BUSY_RETRIES or time.monotonic() + backoff >= deadline:
                    raise
                time.sleep(backoff)

    def _call_once(self, code, deadline):
        started = time.monotonic()
        errcode, rid = None, "-"
        try:
            try:
                # Session.send of a bare prepared request: the session's cookie and
                # environment merging, which this call never needs, costs more than the rest.
                request = self.request.copy()
                request.url += "&" + urlencode({"js_code": code})
                response = self.http.send(request, timeout=max(deadline - started, 0.01))
            except requests.RequestException as error:
                raise Unavailable(_redact(f"{type(error).__name__}: {error}", self.secret)) from None
            if response.status_code >= 400:
                raise Unavailable(f"HTTP {response.status_code}")
            try:
                # WeChat answers text/plain, which requests' .json() would decode as Latin-1:
                # the raw bytes let json find their UTF encoding itself.
                body = json.loads(response.content)
            except ValueError:
                raise Unavailable("reply is not JSON") from None
            if not isinstance(body, dict):
                raise Unavailable("reply is not a JSON object")
            errcode = body.get("errcode") or 0
            rid = _rid(body.get("errmsg"))
            if errcode:
                known = ERRCODES.get(errcode) if isinstance(errcode, int) else None
                raise (known or Unavailable)(f"errcode {errcode!r}")
            openid = body.get("openid")
            session_key = body.get("session_key")
            if not isinstance(openid, str) or not openid or not isinstance(session_key, str):
                raise Unavailable("reply without openid/session_key")
            logs.note(
                log, jscode2session=f"{(time.monotonic() - started) * 1000:.0f}ms", errcode=0, rid=rid,
                openid=mask_openid(openid),
            )
            return WeChatSession(openid, session_key, body.get("unionid") or None)
        except WeChatError as error:
            log.warning(
                "jscode2session failed in %.0fms: %s errcode=%s rid=%s",
                (time.monotonic() - started) * 1000, error.detail, errcode, rid,
            )
            raise


class DevWeChatClient:
    """What WECHAT_DEV_LOGIN installs instead of WeChat: the code itself names the user (same code, same user)."""

    def code2session(self, code):
        return WeChatSession(openid="dev_" + hashlib.sha256(code.encode()).hexdigest()[:28], session_key="dev")


def _rid(errmsg):
    """WeChat puts a request id in errmsg (`... rid: 6582-...`), the key for its support."""
    match = re.search(r"rid:\s*([\w-]+)", errmsg) if isinstance(errmsg, str) else None
    return match.group(1) if match else "-"


def init_app(app):
    if app.config["WECHAT_DEV_LOGIN"]:
        app.extensions["wechat"] = DevWeChatClient()
        return
    app.extensions["wechat"] = WeChatClient(
        app.config["WECHAT_APPID"],
        app.config["WECHAT_APPSECRET"],
        app.config["WECHAT_API_BASE"],
        app.config["WECHAT_TIMEOUT"],
        app.config["WECHAT_PROXY"],
    )
