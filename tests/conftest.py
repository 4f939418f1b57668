"""Fixtures: a fresh app on a clean, migrated database per test, a client, a fake WeChat.

Tests run on SQLite by default. With TEST_DATABASE_URL (a MariaDB/MySQL
database that the tests may wipe) they run there instead.
"""
import base64
import io
import re
import json
import os
import shutil
import socket
import struct
import threading
import time
import zlib

os.environ["AITENI_ENV"] = "testing"
# Every child process (python wsgi.py, flask ...) writes its stderr in UTF-8, which the tests read it as,
# whatever the console's code page (Windows: cp936, cp1252).
os.environ["PYTHONIOENCODING"] = "utf-8"

import pytest  # noqa: E402
import segno  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from werkzeug import Response  # noqa: E402

from aiteni import create_app  # noqa: E402
from aiteni.extensions import db  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# Children first, so deleting rows never trips a foreign key; last, what the server keeps from
# WeChat (its access token, the share codes it made), and the console's tables.
TABLES = ["aiteni_refresh_token", "aiteni_login_session", "aiteni_evaluation_record", "aiteni_user",
          "aiteni_wechat_access_token", "aiteni_wechat_share_code",
          "aiteni_admin_session", "aiteni_admin_audit", "aiteni_admin_account"]


# For fixtures that give a test both kinds of database: the MariaDB one needs the server, so it
# carries the `services` marker and the quick suite (the README's command, Python alone) skips it.
BOTH_DATABASES = ["sqlite", pytest.param("mariadb", marks=pytest.mark.services)]


def on_mysql():
    return bool(TEST_DATABASE_URL) and TEST_DATABASE_URL.startswith("mysql")


def drop_everything(url):
    """Leaves the database empty, so the migrations build it from nothing."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for table in TABLES + ["alembic_version"]:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


def migrate(url):
    """Builds the schema at `url` with the migrations, as `flask db upgrade` would."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """A database migrated once from empty: a file to copy on SQLite, the URL on MariaDB."""
    if TEST_DATABASE_URL:
        drop_everything(TEST_DATABASE_URL)
        url = TEST_DATABASE_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    migrate(url)
    return url


@pytest.fixture
def database_url(migrated_database, tmp_path):
    """A clean copy of the migrated schema for one test."""
    if TEST_DATABASE_URL:
        engine = sa.create_engine(migrated_database)
        with engine.begin() as connection:
            for table in TABLES:
                connection.execute(sa.text(f"DELETE FROM {table}"))
        engine.dispose()
        return migrated_database
    path = tmp_path / "aiteni.db"
    shutil.copy(migrated_database.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def fake_wechat(httpserver):
    """A real HTTP server on 127.0.0.1 answering jscode2session, stable_token, getwxacodeunlimit and
    getuserphonenumber.

    By default every code logs in as openid `o_<code>`; `fake_wechat.reply(...)`
    changes the answer, and `fake_wechat.calls` holds what WeChat was sent. See
    FakeWeChat for the server-side calls.
    """
    return FakeWeChat(httpserver)


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


@pytest.fixture
def slow_wechat():
    """A WeChat on 127.0.0.1 that answers as slowly as a bad network can; see SlowWeChat."""
    server = SlowWeChat()
    yield server
    server.stop()


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


@pytest.fixture
def app(database_url, fake_wechat, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WECHAT_API_BASE": fake_wechat.base_url,
            "LOG_DIR": str(tmp_path / "logs"),
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_app(database_url, fake_wechat, tmp_path):
    """More apps on the test's database and fake WeChat, with these settings: more processes, as the server sees it."""
    apps = []

    def make(**settings):
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": database_url, "WECHAT_API_BASE": fake_wechat.base_url,
            "LOG_DIR": str(tmp_path / "logs"), **settings,
        })
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(params=BOTH_DATABASES)
def each_database(request, tmp_path):
    """A migrated database of each kind, whatever TEST_DATABASE_URL says, for tests of server processes."""
    if request.param == "mariadb":
        from tests.helpers.mariadb import throwaway_database  # it imports this module

        with throwaway_database() as url:
            yield url.render_as_string(hide_password=False)
        return
    url = f"sqlite:///{tmp_path / 'each.db'}"
    migrate(url)
    yield url


def at_once(calls):
    """Runs the callables in threads released together; their results, in order."""
    gate, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n):
        gate.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Logs users in through the real endpoint and builds their headers."""

    def __init__(self, client):
        self.client = client

    def login(self, code="alice", nickname="张三", avatar_url="https://mmbiz.qpic.cn/a.png"):
        response = self.client.post(
            "/api/auth/login", json={"code": code, "nickName": nickname, "avatarUrl": avatar_url}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    def headers(self, code="alice", **kwargs):
        return self.bearer(self.login(code, **kwargs)["token"])

    @staticmethod
    def bearer(token):
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(client):
    return AuthActions(client)


def record_body(**result):
    """A save body as the mini-program sends it; keyword arguments replace result fields."""
    return {
        "answers": {"Q1": "Q1_A3", "Q2": "Q2_A1"},
        "result": {
            "total_level": 3.62,
            "rounded_level": 3.5,
            "level_label": "发展中业余选手",
            "dimension_scores": {"baseline": 3.0, "forehand": 3.8},
            "dimension_comments": {"forehand": "正手已经是你的核心武器"},
            "summary_text": "整体来看……",
            **result,
        },
    }


CONSOLE_PASSWORD = "correct horse battery staple"


class Console:
    """The operators' console through a test client: accounts made by the real command, forms posted with
    the CSRF token their page carries."""

    CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

    def __init__(self, app, address="127.0.0.1"):
        self.app = app
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address

    def create_account(self, name="ops", password=CONSOLE_PASSWORD):
        result = self.app.test_cli_runner().invoke(args=["admin", "create", name, "--password-stdin"],
                                                   input=password + "\n")
        assert result.exit_code == 0, result.output
        return result

    def csrf(self, path="/admin/login"):
        page = self.client.get(path)
        return self.CSRF.search(page.get_data(as_text=True)).group(1)

    def sign_in(self, name="ops", password=CONSOLE_PASSWORD):
        return self.client.post("/admin/login", data={"name": name, "password": password, "csrf_token": self.csrf()})

    def post(self, path, data=None, page="/admin/"):
        """A form posted as the browser would: with the token of a page of the console."""
        return self.client.post(path, data={"csrf_token": self.csrf(page), **(data or {})})


@pytest.fixture
def console(make_app):
    """The console on (ADMIN_ENABLED=1) with an account `ops`, signed out; its client speaks the API too."""
    console = Console(make_app(ADMIN_ENABLED=True))
    console.create_account()
    return console
