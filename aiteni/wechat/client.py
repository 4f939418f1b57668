"""The WeChat calls: jscode2session (login), stable_token, getwxacodeunlimit (share codes) and getuserphonenumber,
each within one deadline, holding one of WECHAT_CONCURRENCY slots while it waits on WeChat.

Login needs no access token. Every other call carries the one token of the
mini-program, which all processes and hosts share through the database (token.py).
"""
import json
import logging
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlencode

import requests

from .. import ConfigError, logs
from . import transport
from .errors import (
    CODE_ERRCODES, ERRCODES, PHONE_ERRCODES, SERVER_ERRCODES, Busy, MisConfigured, NoSlot, StaleToken, Unavailable,
    WeChatError, check,
)
from ..schemas.fields import BOUND_PHONE_MAX
from .token import SharedToken

# One logger for the package: its lines name [aiteni.wechat], as they did when it was one module.
log = logging.getLogger(__package__)

BUSY_RETRIES = 2
# WeChat's JSON replies are a few hundred bytes: anything past this is not one, and is not read.
MAX_REPLY_BYTES = 64 * 1024
# A mini-program code is a JPEG of some 100 KB at most (1280 px).
MAX_IMAGE_BYTES = 2 * 1024 * 1024
# How long a call waits for one of the WECHAT_CONCURRENCY slots: while WeChat answers, a burst of
# logins queues through them; while it hangs, those turned away hold their thread only this long.
SLOT_WAIT_SECONDS = 0.25
# The first bytes of the images getwxacodeunlimit answers with.
IMAGE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    session_key: str
    unionid: Optional[str] = None


def mask_openid(openid):
    """Enough of an openid to tell users apart in a log, not enough to be one."""
    return f"{openid[:4]}***{openid[-2:]}" if openid else "-"


@dataclass(frozen=True)
class CodeRequest:
    """A mini-program code: the page it opens, the scene that page receives, its width in px,
    and the path it stands for (what the dev stand-in draws)."""

    page: str
    scene: str
    width: int
    path: str


class WeChatClient:
    """Calls WeChat over one keep-alive `requests.Session`.

    Every call to WeChat goes through `_request`, within a deadline, and holds
    one of `concurrency` slots while it waits: a hanging WeChat then ties up
    that many server threads, not all of them.
    """

    def __init__(self, appid, secret, api_base, timeout, proxy, concurrency):
        self.appid = appid
        self.secret = secret
        self.concurrency = concurrency
        self.slots = threading.BoundedSemaphore(concurrency)
        self.base = api_base.rstrip("/")
        url = self.base + "/sns/jscode2session"
        # Prepared once, which also checks WECHAT_API_BASE at startup: each call copies
        # it and appends its js_code (preparing it anew was a twentieth of a login's CPU).
        query = urlencode({"appid": appid, "secret": secret, "grant_type": "authorization_code"})
        try:
            self.request = requests.Request("GET", url, params=query).prepare()
        except requests.RequestException as error:
            raise ConfigError(f"WECHAT_API_BASE is not a URL: {transport.redact(str(error), secret)}") from None
        self.timeout = timeout
        self.http = transport.session(self.base, proxy)
        self.token = SharedToken(appid, self._stable_token)

    def code2session(self, code):
        """Exchanges a wx.login code, retrying while WeChat says it is busy (-1), all within WECHAT_TIMEOUT."""
        self._check_credentials()
        deadline = time.monotonic() + self.timeout
        return _retry_while_busy(lambda: self._call_once(code, deadline), deadline)

    def share_code(self, code, env_version, check_path, deadline):
        """A mini-program code from getwxacodeunlimit (no lifetime quota, unlike wxacode.get): (content type, bytes)."""
        self._check_credentials()
        payload = {
            "page": code.page, "scene": code.scene, "width": code.width,
            "check_path": check_path, "env_version": env_version,
        }
        return self._call("getwxacodeunlimit", "/wxa/getwxacodeunlimit", payload, deadline, CODE_ERRCODES,
                          image=True)

    def phone_number(self, code):
        """The number behind a getPhoneNumber button's code: the plain number in China, else +<country><number>.

        WeChat vouches for it with a watermark carrying our AppID; another AppID
        means the answer is not about our user.
        """
        self._check_credentials()
        deadline = time.monotonic() + self.timeout
        body = self._call("getuserphonenumber", "/wxa/business/getuserphonenumber", {"code": code}, deadline,
                          PHONE_ERRCODES)
        info = body.get("phone_info")
        info = info if isinstance(info, dict) else {}
        watermark = info.get("watermark")
        if not isinstance(watermark, dict) or watermark.get("appid") != self.appid:
            raise Unavailable("getuserphonenumber: the watermark's appid is not WECHAT_APPID")
        country, number = info.get("countryCode"), info.get("purePhoneNumber")
        if not all(isinstance(part, str) and part.isascii() and part.isdigit() for part in (country, number)):
            raise Unavailable("getuserphonenumber: reply without countryCode and purePhoneNumber digits")
        phone = number if country == "86" else f"+{country}{number}"
        if len(phone) > BOUND_PHONE_MAX:
            raise Unavailable(f"getuserphonenumber: a phone number longer than {BOUND_PHONE_MAX - 1} digits")
        return phone

    def _check_credentials(self):
        if not self.appid or not self.secret:
            raise MisConfigured("appid/secret not configured")

    @contextmanager
    def _slot(self):
        """One of the `concurrency` slots for a request to WeChat; none free in SLOT_WAIT_SECONDS: NoSlot (503)."""
        if not self.slots.acquire(timeout=SLOT_WAIT_SECONDS):
            raise NoSlot(f"all {self.concurrency} WECHAT_CONCURRENCY slots in use, no call made")
        try:
            yield
        finally:
            self.slots.release()

    def _request(self, request, deadline, limit=MAX_REPLY_BYTES):
        """Sends a prepared request, holding a slot: the reply's body, all of it received before `deadline`
        (time.monotonic(), see transport.receive). A reply other than 200 or over `limit` bytes, a network
        error or a passed deadline: Unavailable.
        """
        left = deadline - time.monotonic()
        if left <= 0:
            raise Unavailable("no time left before the deadline")
        # The slot covers the exchange with WeChat only: not a wait for another caller's token
        # renewal, nor a back-off before a retry, which would hold it for nothing.
        with self._slot():
            return self._exchange(request, deadline, limit)

    def _exchange(self, request, deadline, limit):
        try:
            return transport.receive(self.http, request, deadline, limit)
        except requests.RequestException as error:
            cause = transport.redact(f"{type(error).__name__}: {error}", self.secret)
            if time.monotonic() >= deadline:
                cause = f"no complete reply within WECHAT_TIMEOUT ({self.timeout:g} s): {cause}"
            raise Unavailable(cause) from None

    def _call_once(self, code, deadline):
        started = time.monotonic()
        try:
            request = self.request.copy()
            request.url += "&" + urlencode({"js_code": code})
            body = _json_object(self._request(request, deadline))
            rid = check("jscode2session", body, ERRCODES)
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

    def _post(self, path, payload, deadline, access_token=None, limit=MAX_REPLY_BYTES):
        """POSTs `payload` as JSON to `path`, with the access token in the query string when given."""
        request = requests.Request(
            "POST", self.base + path, params={"access_token": access_token} if access_token else None,
            data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"},
        ).prepare()
        return self._request(request, deadline, limit)

    def _call(self, name, path, payload, deadline, errcodes, image=False):
        """A call with the shared access token: the reply's JSON object, or with `image` (content type, bytes).

        WeChat busy (-1) is tried again; a token WeChat refuses is renewed by
        force once and the call made once more; all within `deadline`.
        """
        access_token = self.token.get(deadline)

        def once():
            started = time.monotonic()
            try:
                reply = self._post(path, payload, deadline, access_token, MAX_IMAGE_BYTES if image else MAX_REPLY_BYTES)
                kind = image and next((kind for magic, kind in IMAGE_TYPES if reply.startswith(magic)), None)
                if kind:
                    logs.note(log, **{name: f"{(time.monotonic() - started) * 1000:.0f}ms"}, bytes=len(reply))
                    return kind, reply
                body = _json_object(reply)
                rid = check(name, body, errcodes)
                if image:
                    raise Unavailable(f"{name}: reply is neither an image nor an errcode (rid={rid})")
                logs.note(log, **{name: f"{(time.monotonic() - started) * 1000:.0f}ms"}, rid=rid)
                return body
            except WeChatError as error:
                log.warning("%s failed in %.0fms: %s", name, (time.monotonic() - started) * 1000, error.cause)
                raise

        try:
            return _retry_while_busy(once, deadline)
        except StaleToken:
            access_token = self.token.renew_refused(access_token, deadline)
        try:
            return _retry_while_busy(once, deadline)
        except StaleToken as error:
            raise Unavailable(f"{error.cause.removeprefix('WeChat: ')}, right after a forced renewal") from None

    def _stable_token(self, force, deadline):
        """A token from stable_token (never cgi-bin/token, which voids the one before): (token, seconds it lives)."""
        payload = {
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": force,
        }

        def once():
            started = time.monotonic()
            try:
                body = _json_object(self._post("/cgi-bin/stable_token", payload, deadline))
                rid = check("stable_token", body, SERVER_ERRCODES)
                token, expires_in = body.get("access_token"), body.get("expires_in")
                if not isinstance(token, str) or not 0 < len(token) <= 512:
                    raise Unavailable("stable_token: reply without an access_token of 1 to 512 characters")
                if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
                    raise Unavailable("stable_token: reply without a positive expires_in")
                logs.note(log, stable_token=f"{(time.monotonic() - started) * 1000:.0f}ms", force_refresh=force,
                          rid=rid)
                return token, expires_in
            except WeChatError as error:
                log.warning("stable_token failed in %.0fms: %s", (time.monotonic() - started) * 1000, error.cause)
                raise

        return _retry_while_busy(once, deadline)


def _retry_while_busy(call, deadline):
    """call(), again while WeChat says it is busy (-1), backing off, as long as `deadline` leaves time."""
    for attempt in range(BUSY_RETRIES + 1):
        try:
            return call()
        except Busy:
            backoff = 0.2 * (2**attempt) + random.uniform(0, 0.1)
            if attempt == BUSY_RETRIES or time.monotonic() + backoff >= deadline:
                raise
            time.sleep(backoff)


def _json_object(reply):
    """WeChat's reply as a JSON object; Unavailable otherwise.

    WeChat answers text/plain, which requests' .json() would decode as Latin-1:
    the raw bytes let json find their UTF encoding itself.
    """
    try:
        body = json.loads(reply)
    except ValueError:
        raise Unavailable("reply is not JSON") from None
    if not isinstance(body, dict):
        raise Unavailable("reply is not a JSON object")
    return body
