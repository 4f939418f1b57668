"""WeChat on 127.0.0.1: FakeWeChat (pytest-httpserver) answers as WeChat does; SlowWeChat as a bad network
does; png() and JPEG the images its share codes come as."""
import base64
import io
import json
import os
import socket
import struct
import threading
import time
import zlib

import segno
from werkzeug import Response


# A real 16x16 JPEG, as small as one gets: getwxacodeunlimit answers JPEG unless asked for a transparent PNG.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1x"
    "eXBkeFxlZ2P/wAALCAAQABABAREA/8QAFwAAAwEAAAAAAAAAAAAAAAAAAAQGB//EACEQAAECBgIDAAAAAAAAAAAAAAECBAADBQYREhMhIjFh"
    "/9oACAEBAAA/AF7tums0643bRm845EvTVPEg4yhJPZGfZMaRBEbTqfcku8luHK3JpZnziApyCjQhWvht9HWOo//Z"
)


def png(text, size=0):
    """A real PNG: a QR code of `text`, grown to at least `size` bytes by a private chunk that viewers skip."""
    buffer = io.BytesIO()
    segno.make(text, micro=False).save(buffer, kind="png", scale=4)
    image = buffer.getvalue()
    padding = b"\0" * max(0, size - len(image))
    if not padding:
        return image
    chunk = struct.pack(">I", len(padding)) + b"prVt" + padding + struct.pack(">I", zlib.crc32(b"prVt" + padding))
    end = image.rindex(b"IEND") - 4
    return image[:end] + chunk + image[end:]


class FakeWeChat:
    """WeChat as the server sees it, on 127.0.0.1.

    Server-side calls: stable_token hands out access tokens as WeChat does
    (normal mode: the current one while it has over 5 minutes left; force_refresh:
    a new one, the old one refused from then on). `issued` lists every token it
    handed out, `forced` when each forced renewal came (time.monotonic()),
    `expire_tokens()` makes every token issued so far answer `refused_errcode`.
    getwxacodeunlimit answers `image`, getuserphonenumber the number of
    `phones[code]` (default 86, 13800138000; a code starting with "invalid" gets
    40029); `code_calls` and `phone_calls` hold the bodies they got, `used` the
    access token of each. `queue(call, ...)` puts answers before those: a dict
    (JSON), bytes, or a callable(request); `delays[call]` seconds pass before
    one answers.
    """

    PATH = "/sns/jscode2session"
    APPID = "wx-test-appid"
    SECRET = "test-app-secret-0123456789abcdef"
    TOKEN_LIFETIME = 7200

    def __init__(self, httpserver):
        self.server = httpserver
        self.calls = []
        self.replies = []
        httpserver.expect_request(self.PATH).respond_with_handler(self._handle)
        self.lock = threading.Lock()
        self.tokens = {}  # token -> when it expires (time.monotonic()), None once refused
        self.current = None
        self.issued = []
        self.forced = []
        self.token_calls = []
        self.code_calls = []
        self.phone_calls = []
        self.used = []
        self.refused_errcode = 40001
        self.image = JPEG
        self.phones = {}
        self.delays = {}
        self.queued = {}
        for call, path, handler in [
            ("stable_token", "/cgi-bin/stable_token", self._stable_token),
            ("getwxacodeunlimit", "/wxa/getwxacodeunlimit", self._code),
            ("getuserphonenumber", "/wxa/business/getuserphonenumber", self._phone),
        ]:
            httpserver.expect_request(path, method="POST").respond_with_handler(self._queued_first(call, handler))

    def queue(self, call, *answers):
        """Answers for the next calls of `call` (stable_token, getwxacodeunlimit, getuserphonenumber)."""
        self.queued.setdefault(call, []).extend(answers)

    def expire_tokens(self, errcode=40001):
        """From now on every token issued so far is refused with `errcode` (40001, 40014 or 42001)."""
        with self.lock:
            self.refused_errcode = errcode
            self.tokens = dict.fromkeys(self.tokens)

    def _queued_first(self, call, handler):
        def handle(request):
            time.sleep(self.delays.get(call, 0))
            body = json.loads(request.get_data())
            with self.lock:
                if call == "stable_token":
                    self.token_calls.append({k: v for k, v in body.items() if k != "secret"})
                else:
                    self.used.append(request.args.get("access_token"))
                    (self.code_calls if call == "getwxacodeunlimit" else self.phone_calls).append(body)
                answer = self.queued.get(call, []).pop(0) if self.queued.get(call) else None
            if answer is None:
                return handler(request)
            if callable(answer):
                return answer(request)
            if isinstance(answer, bytes):
                return Response(answer, content_type="image/jpeg")
            return Response(json.dumps(answer), content_type="application/json")

        return handle

    def _json(self, answer):
        return Response(json.dumps(answer), content_type="application/json; encoding=utf-8")

    def _refusal(self, request):
        """The errcode answer for a call whose access token is missing, refused or expired; None if it is good."""
        token = request.args.get("access_token")
        with self.lock:
            if token not in self.tokens:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            expires = self.tokens[token]
            if expires is None:
                return {"errcode": self.refused_errcode, "errmsg": "access_token refused, rid: fake-refused"}
            if expires < time.monotonic():
                return {"errcode": 42001, "errmsg": "access_token expired, rid: fake-expired"}
        return None

    def _stable_token(self, request):
        body = json.loads(request.get_data())
        with self.lock:
            if body.get("grant_type") != "client_credential" or body.get("appid") != self.APPID:
                return self._json({"errcode": 40013, "errmsg": "invalid appid"})
            if body.get("secret") != self.SECRET:
                return self._json({"errcode": 40125, "errmsg": "invalid appsecret"})
            now = time.monotonic()
            expires = self.tokens.get(self.current)
            if body.get("force_refresh"):
                self.forced.append(now)
                if self.current:
                    self.tokens[self.current] = None
            elif expires is not None and expires - now > 300:
                return self._json({"access_token": self.current, "expires_in": int(expires - now)})
            self.current = f"ACCESS_TOKEN_{len(self.issued) + 1}_{os.urandom(8).hex()}"
            self.tokens[self.current] = now + self.TOKEN_LIFETIME
            self.issued.append(self.current)
            return self._json({"access_token": self.current, "expires_in": self.TOKEN_LIFETIME})

    def _code(self, request):
        refusal = self._refusal(request)
        if refusal:
            return self._json(refusal)
        kind = "image/png" if self.image.startswith(b"\x89PNG") else "image/jpeg"
        return Response(self.image, content_type=kind)

    def _phone(self, request):
        refusal = self._refusal(request)
        code = json.loads(request.get_data()).get("code")
        if refusal:
            return self._json(refusal)
        if code.startswith("invalid"):
            return self._json({"errcode": 40029, "errmsg": "invalid code, rid: fake-40029"})
        country, number = self.phones.get(code, ("86", "13800138000"))
        return self._json({
            "errcode": 0, "errmsg": "ok",
            "phone_info": {
                "phoneNumber": number if country == "86" else f"+{country} {number}",
                "purePhoneNumber": number, "countryCode": country,
                "watermark": {"timestamp": int(time.time()), "appid": self.APPID},
            },
        })

    @property
    def base_url(self):
        return self.server.url_for("/").rstrip("/")

    def reply(self, *handlers):
        """Queue answers, one per call: a dict (sent as JSON text/plain) or a callable(request)."""
        self.replies.extend(handlers)

    def _handle(self, request):
        self.calls.append(dict(request.args))
        answer = self.replies.pop(0) if self.replies else None
        if callable(answer):
            return answer(request)
        if answer is None:
            code = request.args["js_code"]
            answer = {"openid": f"o_{code}", "session_key": f"SK{code}sessionkey=="}
        return Response(json.dumps(answer), content_type="text/plain")


class SlowWeChat:
    """A raw socket server that paces each byte of its HTTP reply, headers included.

    An HTTP server sends its headers at once; this one sends `reply` (a successful
    jscode2session answer unless changed) as `pace(reply)` says: pairs of
    (seconds to wait, bytes to send), a wait of None meaning silence until
    stop(). `requests` counts the requests it received, `sent` the bytes it sent.
    """

    REPLY = b'{"openid": "o_slow", "session_key": "SKslowsessionkey=="}'

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.reply = self.REPLY
        self.pace = lambda reply: [(0, reply)]
        self.requests = 0
        self.sent = 0
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def http_reply(self):
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(self.reply)}\r\n\r\n"
        return head.encode() + self.reply

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection):
        with connection:
            try:
                while True:  # keep-alive: one reply per request
                    request = b""
                    while b"\r\n\r\n" not in request:
                        data = connection.recv(65536)
                        if not data:
                            return
                        request += data
                    with self.lock:
                        self.requests += 1
                    for wait, data in self.pace(self.http_reply()):
                        if self.stopped.wait(wait):
                            return
                        connection.sendall(data)
                        with self.lock:
                            self.sent += len(data)
            except OSError:
                return

    def stop(self):
        self.stopped.set()
        self.listener.close()
        with self.lock:
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
