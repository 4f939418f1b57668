"""The HTTP under every WeChat call: one keep-alive session to WeChat's host, whose replies are read by a deadline."""
import contextvars
import http.client
import io
import re
import time

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection

from .errors import Unavailable

# The deadline (time.monotonic()) of the WeChat call this thread is making, read by the socket reads.
_deadline = contextvars.ContextVar("wechat_deadline")


def redact(text, secret):
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


def session(base, proxy):
    """A keep-alive `requests.Session` to the host at `base` (through `proxy`, if any), reading by the deadline."""
    http = requests.Session()
    http.mount(base + "/", _OneHostAdapter())
    # Proxies come from WECHAT_PROXY only: letting requests scan the environment
    # for them (and read ~/.netrc) on every login cost a third of the call's CPU.
    http.trust_env = False
    if proxy:
        http.proxies = {"http": proxy, "https": proxy}
    return http


def receive(http, request, deadline, limit):
    """Sends a prepared request; the reply's body, all of it received before `deadline` (time.monotonic()).

    Connecting, waiting and reading every byte share the time left, however
    slowly the reply trickles in; a reply other than 200 or over `limit` bytes
    is Unavailable, its rest unread. A network error or a passed deadline is
    requests' exception, for the caller to word.
    """
    left = deadline - time.monotonic()
    token = _deadline.set(deadline)
    try:
        # Session.send of a bare prepared request: the session's cookie and
        # environment merging, which these calls never need, costs more than the rest.
        with http.send(request, timeout=left, stream=True, allow_redirects=False) as response:
            if response.status_code != 200:
                raise Unavailable(f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(16 * 1024):
                body += chunk
                if len(body) > limit:
                    raise Unavailable(f"reply over {limit} bytes")
            return bytes(body)
    finally:
        _deadline.reset(token)
