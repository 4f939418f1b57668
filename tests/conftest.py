"""Fixtures: a fresh app on a clean, migrated database per test, a client, a fake WeChat.

Tests run on SQLite by default. With TEST_DATABASE_URL (a MariaDB/MySQL
database that the tests may wipe) they run there instead.
"""
import os
import shutil
import socket
import threading

os.environ["AITENI_ENV"] = "testing"

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from aiteni import create_app  # noqa: E402
from aiteni.extensions import db  # noqa: E402

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# Children first, so deleting rows never trips a foreign key.
TABLES = ["aiteni_refresh_token", "aiteni_login_session", "aiteni_evaluation_record", "aiteni_user"]


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
    """A real HTTP server on 127.0.0.1 answering jscode2session.

    By default every code logs in as openid `o_<code>`; `fake_wechat.reply(...)`
    changes the answer, and `fake_wechat.calls` holds what WeChat was sent.
    """
    return FakeWeChat(httpserver)


class FakeWeChat:
    PATH = "/sns/jscode2session"

    def __init__(self, httpserver):
        self.server = httpserver
        self.calls = []
        self.replies = []
        httpserver.expect_request(self.PATH).respond_with_handler(self._handle)

    @property
    def base_url(self):
        return self.server.url_for("/").rstrip("/")

    def reply(self, *handlers):
        """Queue answers, one per call: a dict (sent as JSON text/plain) or a callable(request)."""
        self.replies.extend(handlers)

    def _handle(self, request):
        from werkzeug import Response
        import json

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
