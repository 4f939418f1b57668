"""Fixtures: a fresh app on a clean, migrated database per test, a client, a fake WeChat.

Tests run on SQLite by default. With TEST_DATABASE_URL (a MariaDB/MySQL
database that the tests may wipe) they run there instead. What tests import
rather than ask for by name lives beside: tests/helpers/ (databases, clients,
server processes) and tests/fakes/ (WeChat, a MySQL server).
"""
import os
import shutil

os.environ["AITENI_ENV"] = "testing"
# Every child process (python wsgi.py, flask ...) writes its stderr in UTF-8, which the tests read it as,
# whatever the console's code page (Windows: cp936, cp1252).
os.environ["PYTHONIOENCODING"] = "utf-8"

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from aiteni import create_app  # noqa: E402
from aiteni.extensions import db  # noqa: E402
from tests.fakes.wechat import FakeWeChat, SlowWeChat  # noqa: E402
from tests.helpers.clients import AuthActions, Console  # noqa: E402
from tests.helpers.database import BOTH_DATABASES, TABLES, TEST_DATABASE_URL, drop_everything, migrate  # noqa: E402
from tests.helpers.mariadb import throwaway_database  # noqa: E402


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


@pytest.fixture
def slow_wechat():
    """A WeChat on 127.0.0.1 that answers as slowly as a bad network can; see SlowWeChat."""
    server = SlowWeChat()
    yield server
    server.stop()


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
        with throwaway_database() as url:
            yield url.render_as_string(hide_password=False)
        return
    url = f"sqlite:///{tmp_path / 'each.db'}"
    migrate(url)
    yield url


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def console(make_app):
    """The console on (ADMIN_ENABLED=1) with an account `ops`, signed out; its client speaks the API too."""
    console = Console(make_app(ADMIN_ENABLED=True))
    console.create_account()
    return console
