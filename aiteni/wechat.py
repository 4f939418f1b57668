"""Everything that knows WeChat: its calls, their errcodes, the shared access token, and the dev stand-in.

Login (jscode2session) needs no access token. Every other call (share codes,
phone numbers) carries the one token of the mini-program, which all processes
and hosts share through the database (`SharedToken`).
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
from datetime import datetime, timedelta
from typing import Optional
from urllib.parse import urlencode

import requests
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from urllib3.connection import HTTPConnection, HTTPSConnection

from . import ConfigError, logs
from .database import write_transaction
from .errors import ApiError
from .extensions import db
from .models import WeChatAccessToken, utcnow
from .schemas.fields import PHONE

log = logging.getLogger(__name__)

BUSY_RETRIES = 2
# WeChat's JSON replies are a few hundred bytes: anything past this is not one, and is not read.
MAX_REPLY_BYTES = 64 * 1024
# A mini-program code is a JPEG of some 100 KB at most (1280 px).
MAX_IMAGE_BYTES = 2 * 1024 * 1024
# How long a call waits for one of the WECHAT_CONCURRENCY slots: while WeChat answers, a burst of
# logins queues through them; while it hangs, those turned away hold their thread only this long.
SLOT_WAIT_SECONDS = 0.25

# The deadline (time.monotonic()) of the WeChat call this thread is making, read by the socket reads.
_deadline = contextvars.ContextVar("wechat_deadline")


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

# WeChat hands out a new token in the last 5 minutes of the old one, and keeps both working till then:
# the shared token is renewed once it has less than this left.
RENEW_AHEAD = timedelta(minutes=5)
# WeChat allows 20 forced renewals a day, 30 s apart.
FORCE_SPACING = timedelta(seconds=30)
# How often a caller waiting for another's renewal (or share code) looks at the database again.
POLL_SECONDS = 0.1
# A lease (a token renewal's, a share code's) outlives its caller's deadline by this much.
LEASE_MARGIN_SECONDS = 1.0
# A stored time further ahead than it could have been written (a lease, a forced renewal, an
# expiry) by more than this was written before this host's clock stepped back, or by a host
# whose clock is far ahead: it is not waited for. Up to this much is siblings' skew.
CLOCK_STEP = timedelta(seconds=30)
# WeChat's access tokens live 2 hours; a longer expires_in is kept as 2 hours, so an expiry
# further ahead than that is a clock that stepped back.
TOKEN_LIFETIME = timedelta(hours=2)
# The first bytes of the images getwxacodeunlimit answers with.
IMAGE_TYPES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def lease_until(now, deadline):
    """When a claim on a WeChat call, taken at `now` (UTC) by a caller bound by `deadline`
    (time.monotonic()), lapses: LEASE_MARGIN_SECONDS after the caller stops waiting on WeChat."""
    return now + timedelta(seconds=max(0.0, deadline - time.monotonic()) + LEASE_MARGIN_SECONDS)


def lease_lapsed(until, now, deadline):
    """SQL: the lease ending at column `until` is over, or ends later than any lease taken up to now could
    (the clock stepped back since, CLOCK_STEP past a lease taken now): either way the next caller claims it."""
    return sa.or_(until.is_(None), until < now, until > lease_until(now, deadline) + CLOCK_STEP)


def lease_held(until, now, deadline):
    """lease_lapsed's opposite, for a value read from the database."""
    return until is not None and now <= until <= lease_until(now, deadline) + CLOCK_STEP


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


def _redact(text, secret):
    """Exception text without the AppSecret, the code or the access token (requests puts the whole URL in it)."""
    text = re.sub(r"(secret|js_code|access_token)=[^&\s]*", r"\1=***", text)
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
            raise ConfigError(f"WECHAT_API_BASE is not a URL: {_redact(str(error), secret)}") from None
        self.timeout = timeout
        self.http = requests.Session()
        self.http.mount(self.base + "/", _OneHostAdapter())
        # Proxies come from WECHAT_PROXY only: letting requests scan the environment
        # for them (and read ~/.netrc) on every login cost a third of the call's CPU.
        self.http.trust_env = False
        if proxy:
            self.http.proxies = {"http": proxy, "https": proxy}
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
        if len(phone) > 16:  # E.164: at most 15 digits
            raise Unavailable("getuserphonenumber: a phone number longer than 15 digits")
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
        """Sends a prepared request; the reply's body, all of it received before `deadline` (time.monotonic()).

        Connecting, waiting and reading every byte of the reply share the time
        left, however slowly the reply trickles in; a reply other than 200 or
        over `limit` bytes is refused without reading the rest. Any of these,
        like a network error: Unavailable.
        """
        left = deadline - time.monotonic()
        if left <= 0:
            raise Unavailable("no time left before the deadline")
        # The slot covers the exchange with WeChat only: not a wait for another caller's token
        # renewal, nor a back-off before a retry, which would hold it for nothing.
        with self._slot():
            return self._exchange(request, deadline, limit)

    def _exchange(self, request, deadline, limit):
        left = deadline - time.monotonic()
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
                    if len(body) > limit:
                        raise Unavailable(f"reply over {limit} bytes")
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
            body = _json_object(self._request(request, deadline))
            rid = _check("jscode2session", body, ERRCODES)
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
                rid = _check(name, body, errcodes)
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
                rid = _check("stable_token", body, SERVER_ERRCODES)
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


def _check(name, body, errcodes):
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


@dataclass(frozen=True)
class _Copy:
    token: str
    expires_at: datetime


class SharedToken:
    """The mini-program's access token: one for every process and host, kept in the database.

    Each process keeps a copy and reads the database only when that copy has
    less than RENEW_AHEAD left, or WeChat refused it. Then one caller of all
    processes renews it: it claims the row with a compare-and-set UPDATE (a
    lease in `renewing_until`), while the others keep using the current token
    or, when there is none yet, wait for the new one. A refused token is renewed
    by force, at most once per FORCE_SPACING whatever the number of processes.
    """

    _TABLE = WeChatAccessToken.__table__

    def __init__(self, appid, fetch):
        self.appid = appid
        # fetch(force, deadline) -> (token, seconds it lives): WeChat's stable_token
        self.fetch = fetch
        self.copy = None
        # One thread of this process at a time goes to the database; the others then find its copy.
        self.lock = threading.Lock()

    def get(self, deadline):
        """The token, from this process's copy while that has over RENEW_AHEAD left."""
        copy = self.copy
        if copy and _fresh(copy.expires_at, utcnow()):
            return copy.token
        return self._shared(deadline)

    def renew_refused(self, refused, deadline):
        """A token other than `refused`, which WeChat just refused: another caller's, or one renewed by force."""
        return self._shared(deadline, refused)

    def _shared(self, deadline, refused=None):
        acquired = self.lock.acquire(blocking=False)
        while not acquired:
            copy = self.copy
            if copy and copy.token != refused and copy.expires_at > utcnow():
                return copy.token  # still good while another thread of this process renews it
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unavailable("no access token: this process's renewal did not end within the deadline")
            acquired = self.lock.acquire(timeout=min(POLL_SECONDS, left))
        try:
            copy = self.copy
            if copy and copy.token != refused and _fresh(copy.expires_at, utcnow()):
                return copy.token  # another thread of this process has just renewed it
            return self._from_database(deadline, refused)
        finally:
            self.lock.release()

    def _from_database(self, deadline, refused):
        """The shared row's token if it is good, else the one this caller renews or waits for another to renew."""
        columns = self._TABLE.c
        query = sa.select(columns.token, columns.expires_at, columns.renewing_until, columns.forced_at).where(
            columns.appid == self.appid
        )
        while True:
            with db.engine.connect() as connection:
                row = connection.execute(query).first()
            now = utcnow()
            current = row is not None and row.token is not None and row.token != refused and row.expires_at > now
            if current:
                # Good until renewed: this process's other threads use it meanwhile.
                self._keep(row.token, row.expires_at)
                if _fresh(row.expires_at, now):
                    return row.token
            force = refused is not None and row is not None and row.token == refused
            lease = self._claim(row, now, deadline, force)
            if lease:
                return self._renew(lease, force, deadline)
            renewing = row is not None and lease_held(row.renewing_until, now, deadline)
            if current:
                return row.token  # still good while another caller renews it
            if force and not renewing and row.forced_at is not None and _recent(row.forced_at, now):
                ago = (now - row.forced_at).total_seconds()
                when = f"{ago:.0f} s ago" if ago >= 0 else f"{-ago:.0f} s ahead of this host's clock"
                raise Overloaded(f"access token refused, and renewed by force {when}: "
                                 f"WeChat allows one forced renewal per {FORCE_SPACING.seconds} s")
            if time.monotonic() + POLL_SECONDS >= deadline:
                raise Unavailable("no access token within the deadline: another process is renewing it")
            time.sleep(POLL_SECONDS)

    def _claim(self, row, now, deadline, force):
        """Takes the renewal for this caller: its lease (the time it ends), or None if another caller has it."""
        table, columns = self._TABLE, self._TABLE.c
        lease = lease_until(now, deadline)
        free = lease_lapsed(columns.renewing_until, now, deadline)
        if force:
            # Not forced within FORCE_SPACING, or "forced" further ahead than a sibling's skew: a clock step.
            spaced = sa.or_(columns.forced_at.is_(None), columns.forced_at < now - FORCE_SPACING,
                            columns.forced_at > now + CLOCK_STEP)
            due = sa.and_(columns.token == row.token, spaced)
            values = {"renewing_until": lease, "forced_at": now}
        else:
            due = sa.or_(columns.token.is_(None), columns.expires_at < now + RENEW_AHEAD,
                         columns.expires_at > now + TOKEN_LIFETIME + CLOCK_STEP)
            values = {"renewing_until": lease}
        try:
            with write_transaction() as connection:
                if row is None:
                    connection.execute(table.insert().values(appid=self.appid, **values))
                    return lease
                claimed = connection.execute(
                    table.update().where(columns.appid == self.appid, free, due).values(**values)
                ).rowcount
        except IntegrityError:  # another caller inserted the row first: it renews
            return None
        return lease if claimed == 1 else None

    def _renew(self, lease, force, deadline):
        """Asks WeChat for a token and stores it; on failure gives the lease back, so the next caller tries."""
        table, columns = self._TABLE, self._TABLE.c
        asked_at = utcnow()
        try:
            token, expires_in = self.fetch(force, deadline)
        except Exception:
            with write_transaction() as connection:
                connection.execute(
                    table.update().where(columns.appid == self.appid, columns.renewing_until == lease)
                    .values(renewing_until=None)
                )
            raise
        expires_at = asked_at + min(timedelta(seconds=expires_in), TOKEN_LIFETIME)
        with write_transaction() as connection:
            connection.execute(
                table.update().where(columns.appid == self.appid)
                .values(token=token, expires_at=expires_at, renewing_until=None)
            )
        return self._keep(token, expires_at)

    def _keep(self, token, expires_at):
        self.copy = _Copy(token, expires_at)
        return token


def _fresh(expires_at, now):
    """A token expiring at `expires_at` needs no renewal yet: over RENEW_AHEAD left, and not more than a token
    lives (an expiry further ahead was stored before the clock stepped back)."""
    return RENEW_AHEAD < expires_at - now <= TOKEN_LIFETIME + CLOCK_STEP


def _recent(forced_at, now):
    """A forced renewal at `forced_at` was within FORCE_SPACING; one further ahead than CLOCK_STEP is a clock step."""
    return now - FORCE_SPACING <= forced_at <= now + CLOCK_STEP


class DevWeChatClient:
    """What WECHAT_DEV_LOGIN installs: the code itself names the user (same code, same user).

    With WeChat credentials, share codes and phone numbers still come from
    WeChat (`server`). Without, it stands in for them too: a share code is a
    plain QR code of its path, drawn here, and a phone code that is a mainland
    mobile number is that number.
    """

    def __init__(self, server=None):
        self.server = server
        self.appid = server.appid if server else ""

    def code2session(self, code):
        return WeChatSession(openid="dev_" + hashlib.sha256(code.encode()).hexdigest()[:28], session_key="dev")

    def share_code(self, code, env_version, check_path, deadline):
        if self.server:
            return self.server.share_code(code, env_version, check_path, deadline)
        import segno  # 30 ms to import, for development only

        qr = segno.make(code.path, micro=False)
        buffer = io.BytesIO()
        qr.save(buffer, kind="png", scale=max(1, code.width // qr.symbol_size(scale=1)[0]))
        return "image/png", buffer.getvalue()

    def phone_number(self, code):
        if self.server:
            return self.server.phone_number(code)
        if not PHONE.fullmatch(code):
            raise InvalidPhoneCode("WECHAT_DEV_LOGIN without credentials: a phone code is the mainland number itself")
        return code


def _rid(errmsg):
    """WeChat puts a request id in errmsg (`... rid: 6582-...`), the key for its support."""
    match = re.search(r"rid:\s*([\w-]+)", errmsg) if isinstance(errmsg, str) else None
    return match.group(1) if match else "-"


def init_app(app):
    """WeChat itself; with WECHAT_DEV_LOGIN the dev stand-in, calling WeChat only for what credentials allow."""
    config = app.config
    credentials = config["WECHAT_APPID"] and config["WECHAT_APPSECRET"]
    client = None
    if credentials or not config["WECHAT_DEV_LOGIN"]:
        client = WeChatClient(
            config["WECHAT_APPID"],
            config["WECHAT_APPSECRET"],
            config["WECHAT_API_BASE"],
            config["WECHAT_TIMEOUT"],
            config["WECHAT_PROXY"],
            config["WECHAT_CONCURRENCY"],
        )
    app.extensions["wechat"] = DevWeChatClient(client) if config["WECHAT_DEV_LOGIN"] else client
