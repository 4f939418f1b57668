"""Everything that knows WeChat: the jscode2session call, its errcodes, and the dev stand-in.

Login never needs an access_token, so nothing here fetches one.
"""
import contextvars
import hashlib
import http.client
import io
import json
import logging
import random
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlencode

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection

from . import ConfigError, logs
from .errors import ApiError

log = logging.getLogger(__name__)

BUSY_RETRIES = 2
# WeChat's JSON replies are a few hundred bytes: anything past this is not one, and is not read.
MAX_REPLY_BYTES = 64 * 1024
# How long a call waits for one of the WECHAT_CONCURRENCY slots: while WeChat answers, a burst of
# logins queues through them; while it hangs, those turned away hold their thread only this long.
SLOT_WAIT_SECONDS = 0.25

# The deadline (time.monotonic()) of the WeChat call this thread is making, read by the socket reads.
_deadline = contextvars.ContextVar("wechat_deadline")


class WeChatError(ApiError):
    """A login that WeChat refused or could not answer, as the client should hear it; `cause` is for the logs."""

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


class Busy(WeChatError):
    """WeChat said -1 through every retry, or WECHAT_CONCURRENCY calls already wait on it."""

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


class _DeadlineReader(io.RawIOBase):
    """A socket's reads, each given only the time left before the call's deadline.

    A socket timeout bounds one read: a reply trickling a byte a second never
    trips it. Setting it to the time left before every read bounds them all.
    """

    def __init__(self, sock, deadline):
        super().__init__()
        self.sock = sock
        self.deadline = deadline
        self.file = sock.makefile("rb", buffering=0)

    def readable(self):
        return True

    def readinto(self, buffer):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("WeChat call past its deadline")
        self.sock.settimeout(left)
        return self.file.readinto(buffer)

    def close(self):
        self.file.close()
        super().close()


class _DeadlineSocket:
    """The socket as http.client's response sees it: the file it reads is a _DeadlineReader."""

    def __init__(self, sock):
        self.sock = sock

    def makefile(self, mode):
        return io.BufferedReader(_DeadlineReader(self.sock, _deadline.get()))


class _DeadlineConnection:
    """urllib3's connection, whose responses (status line, headers, body) are read by the deadline.

    http.client builds each response with `self.response_class(sock, ...)`.
    """

    def response_class(self, sock, *args, **kwargs):
        return http.client.HTTPResponse(_DeadlineSocket(sock), *args, **kwargs)


class _HTTPConnection(_DeadlineConnection, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineConnection, HTTPSConnection):
    pass


class _OneHostAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, remembering the connection pool of the one host this client calls.

    The stock adapter parses the URL and rebuilds the pool's key on every request,
    about a tenth of the call's CPU. The host, TLS settings and proxy of a
    WeChatClient never change, so neither can its pool. Its connections read
    by the call's deadline.
    """

    pool = None

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        if self.pool is None:
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            pool.ConnectionCls = _HTTPSConnection if pool.scheme == "https" else _HTTPConnection
            self.pool = pool
        return self.pool


class WeChatClient:
    """Calls jscode2session over one keep-alive `requests.Session`.

    Every call to WeChat goes through `_request`, within a deadline, and holds
    one of `concurrency` slots while it waits: a hanging WeChat then ties up
    that many server threads, not all of them.
    """

    def __init__(self, appid, secret, api_base, timeout, proxy, concurrency):
        self.appid = appid
        self.secret = secret
        self.concurrency = concurrency
        self.slots = threading.BoundedSemaphore(concurrency)
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
        """Exchanges a wx.login code, retrying while WeChat says it is busy (-1), all within WECHAT_TIMEOUT."""
        if not self.appid or not self.secret:
            raise MisConfigured("appid/secret not configured")
        deadline = time.monotonic() + self.timeout
        with self._slot():
            for attempt in range(BUSY_RETRIES + 1):
                try:
                    return self._call_once(code, deadline)
                except Busy:
                    backoff = 0.2 * (2**attempt) + random.uniform(0, 0.1)
                    if attempt == BUSY_RETRIES or time.monotonic() + backoff >= deadline:
                        raise
                    time.sleep(backoff)

    @contextmanager
    def _slot(self):
        """One of the `concurrency` slots for a call waiting on WeChat; none free in SLOT_WAIT_SECONDS: Busy."""
        if not self.slots.acquire(timeout=SLOT_WAIT_SECONDS):
            raise Busy(f"all {self.concurrency} WECHAT_CONCURRENCY slots in use, no call made")
        try:
            yield
        finally:
            self.slots.release()

    def _request(self, request, deadline):
        """Sends a prepared request; the reply's body, all of it received before `deadline` (time.monotonic()).

        Connecting, waiting and reading every byte of the reply share the time
        left, however slowly the reply trickles in; a reply other than 200 or
        over MAX_REPLY_BYTES is refused without reading the rest. Any of these,
        like a network error: Unavailable.
        """
        left = deadline - time.monotonic()
        if left <= 0:
            raise Unavailable("no time left before the deadline")
        token = _deadline.set(deadline)
        try:
            # Session.send of a bare prepared request: the session's cookie and
            # environment merging, which these calls never need, costs more than the rest.
            with self.http.send(request, timeout=left, stream=True, allow_redirects=False) as response:
                if response.status_code != 200:
                    raise Unavailable(f"HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_content(16 * 1024):
                    body += chunk
                    if len(body) > MAX_REPLY_BYTES:
                        raise Unavailable(f"reply over {MAX_REPLY_BYTES} bytes")
                return bytes(body)
        except requests.RequestException as error:
            cause = _redact(f"{type(error).__name__}: {error}", self.secret)
            if time.monotonic() >= deadline:
                cause = f"no complete reply within WECHAT_TIMEOUT ({self.timeout:g} s): {cause}"
            raise Unavailable(cause) from None
        finally:
            _deadline.reset(token)

    def _call_once(self, code, deadline):
        started = time.monotonic()
        try:
            request = self.request.copy()
            request.url += "&" + urlencode({"js_code": code})
            try:
                # WeChat answers text/plain, which requests' .json() would decode as Latin-1:
                # the raw bytes let json find their UTF encoding itself.
                body = json.loads(self._request(request, deadline))
            except ValueError:
                raise Unavailable("reply is not JSON") from None
            if not isinstance(body, dict):
                raise Unavailable("reply is not a JSON object")
            errcode = body.get("errcode") or 0
            rid = _rid(body.get("errmsg"))
            if errcode:
                known = ERRCODES.get(errcode) if isinstance(errcode, int) else None
                raise (known or Unavailable)(f"errcode {errcode!r} rid={rid}")
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
            log.warning("jscode2session failed in %.0fms: %s", (time.monotonic() - started) * 1000, error.cause)
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
        app.config["WECHAT_CONCURRENCY"],
    )
