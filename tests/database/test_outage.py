"""MariaDB going away for real (a TCP proxy the test cuts): 503 fast, no half-made rows, recovery by itself."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from aiteni import create_app
from config import engine_options
from aiteni.extensions import db
from tests.helpers.mariadb import empty_tables, throwaway_database, through
from tests.helpers.tcp_proxy import TcpProxy

pytestmark = pytest.mark.services

DOWN = {"code": 503, "msg": "服务暂不可用"}
RECORD = {
    "answers": {"Q1": "Q1_A3"},
    "result": {"total_level": 3.6, "rounded_level": 3.5, "level_label": "中级", "dimension_scores": {"forehand": 3.5}},
}
PROFILE = {"nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}


@pytest.fixture(scope="module")
def mariadb_url():
    with throwaway_database() as url:
        yield url


@pytest.fixture
def proxy(mariadb_url):
    proxy = TcpProxy(mariadb_url.host, mariadb_url.port or 3306).start()
    yield proxy
    proxy.close()


@pytest.fixture
def app(mariadb_url, proxy, fake_wechat, tmp_path):
    """The app reaching MariaDB only through the proxy; no principal cache, so every request needs the database."""
    empty_tables(mariadb_url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": through(mariadb_url, proxy.port),
            "WECHAT_API_BASE": fake_wechat.base_url,
            "LOG_DIR": str(tmp_path / "logs"),
            "SESSION_CACHE_SECONDS": 0,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def count(mariadb_url, sql):
    """Asks MariaDB directly, past the proxy."""
    engine = sa.create_engine(mariadb_url)
    with engine.connect() as connection:
        value = connection.execute(sa.text(sql)).scalar()
    engine.dispose()
    return value


def every_endpoint(login_data, record_id):
    bearer = {"Authorization": f"Bearer {login_data['token']}"}
    return [
        ("post", "/api/auth/login", {"json": {"code": "bob", **PROFILE}}),
        ("post", "/api/auth/verify", {"headers": bearer}),
        ("post", "/api/auth/refresh", {"json": {"refreshToken": login_data["refreshToken"]}}),
        ("get", "/api/user/info", {"headers": bearer}),
        ("post", "/api/user/update", {"headers": bearer, "json": {"realName": "张"}}),
        ("post", "/api/evaluation/save", {"headers": bearer, "json": RECORD}),
        ("get", "/api/evaluation/history", {"headers": bearer}),
        ("get", f"/api/evaluation/result/{record_id}", {"headers": bearer}),
        ("delete", f"/api/evaluation/delete/{record_id}", {"headers": bearer}),
        ("post", "/api/auth/logout", {"headers": bearer}),
        ("delete", "/api/user", {"headers": bearer}),
    ]


def test_every_endpoint_answers_503_within_3_s_while_down_then_recovers(app, proxy, tmp_path):
    client = app.test_client()
    alice = client.post("/api/auth/login", json={"code": "alice", **PROFILE}).get_json()["data"]
    bearer = {"Authorization": f"Bearer {alice['token']}"}
    record_id = client.post("/api/evaluation/save", json=RECORD, headers=bearer).get_json()["data"]["record_id"]

    proxy.cut()
    for method, path, kwargs in every_endpoint(alice, record_id):
        started = time.monotonic()
        response = getattr(client, method)(path, **kwargs)
        assert time.monotonic() - started < 3, path
        assert (response.status_code, response.get_json()) == (503, DOWN), path
    health = client.get("/api/health")
    assert health.status_code == 503
    assert health.get_json() == {**DOWN, "data": {"database": "unavailable"}}
    assert client.get("/api/version").status_code == 200  # needs no database
    error_log = next((tmp_path / "logs").glob("error-*.log")).read_text(encoding="utf-8")
    assert "database unavailable" in error_log and "Traceback" not in error_log

    proxy.restore()  # the same app, no restart
    assert client.get("/api/health").get_json()["data"] == {"database": "ok"}
    history = client.get("/api/evaluation/history", headers=bearer)
    assert history.status_code == 200 and history.get_json()["data"]["total"] == 1
    *before_logout, logout, delete_user = every_endpoint(alice, record_id)
    for method, path, kwargs in [*before_logout, logout]:
        response = getattr(client, method)(path, **kwargs)
        assert response.status_code == 200, (path, response.get_json())
    again = client.post("/api/auth/login", json={"code": "alice", **PROFILE}).get_json()["data"]
    assert client.delete("/api/user", headers={"Authorization": f"Bearer {again['token']}"}).status_code == 200


def test_a_database_gone_silent_still_gets_503_within_3_s(app, proxy):
    """A network that drops packets: no reset, no refusal at first, only silence."""
    client = app.test_client()
    alice = client.post("/api/auth/login", json={"code": "alice", **PROFILE}).get_json()["data"]
    bearer = {"Authorization": f"Bearer {alice['token']}"}

    proxy.freeze()
    for method, path, kwargs in [*every_endpoint(alice, 1), ("get", "/api/health", {})]:
        started = time.monotonic()
        response = getattr(client, method)(path, **kwargs)
        assert time.monotonic() - started < 3, path
        assert (response.status_code, response.get_json()["msg"]) == (503, DOWN["msg"]), path

    proxy.restore()
    assert client.post("/api/auth/verify", headers=bearer).status_code == 200


def test_requests_queued_for_a_stuck_pool_get_503_not_500(mariadb_url, proxy, fake_wechat, tmp_path):
    """One connection, stuck on a silent database: the request waiting for it gives up with 503."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": through(mariadb_url, proxy.port),
            "SQLALCHEMY_ENGINE_OPTIONS": {
                **engine_options("mysql://"), "pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5,
            },
            "WECHAT_API_BASE": fake_wechat.base_url,
            "LOG_DIR": str(tmp_path / "logs"),
        }
    )
    assert app.test_client().get("/api/health").status_code == 200
    proxy.freeze()

    def login(code):
        return app.test_client().post("/api/auth/login", json={"code": code, **PROFILE})

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(login, ["erin", "frank"]))
    assert [(a.status_code, a.get_json()) for a in answers] == [(503, DOWN), (503, DOWN)]
    with app.app_context():
        db.engine.dispose()


def cut_at(app, proxy, moment, statement_start):
    """Cuts the proxy once, at `moment` ("before" or "after") the statement starting so runs."""
    with app.app_context():
        engine = db.engine
    event = f"{moment}_cursor_execute"

    def cut(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(statement_start):
            sa.event.remove(engine, event, cut)
            proxy.cut()

    sa.event.listen(engine, event, cut)


def test_login_whose_write_fails_leaves_no_half_made_user(app, proxy, mariadb_url):
    """The user row is written, then the database goes before its login session is."""
    client = app.test_client()
    cut_at(app, proxy, "before", "INSERT INTO aiteni_login_session")
    response = client.post("/api/auth/login", json={"code": "carol", **PROFILE})
    assert (response.status_code, response.get_json()) == (503, DOWN)
    assert count(mariadb_url, "SELECT COUNT(*) FROM aiteni_user") == 0
    assert count(mariadb_url, "SELECT COUNT(*) FROM aiteni_login_session") == 0

    proxy.restore()
    assert client.post("/api/auth/login", json={"code": "carol", **PROFILE}).status_code == 200
    assert count(mariadb_url, "SELECT COUNT(*) FROM aiteni_user WHERE wechat_openid = 'o_carol'") == 1


def test_save_that_fails_stores_nothing(app, proxy, mariadb_url):
    client = app.test_client()
    token = client.post("/api/auth/login", json={"code": "dave", **PROFILE}).get_json()["data"]["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    cut_at(app, proxy, "after", "INSERT INTO aiteni_evaluation_record")  # before its COMMIT
    response = client.post("/api/evaluation/save", json=RECORD, headers=bearer)
    assert (response.status_code, response.get_json()) == (503, DOWN)
    assert count(mariadb_url, "SELECT COUNT(*) FROM aiteni_evaluation_record") == 0

    proxy.restore()
    assert client.get("/api/evaluation/history", headers=bearer).get_json()["data"]["total"] == 0
    assert client.post("/api/evaluation/save", json=RECORD, headers=bearer).status_code == 200
    assert count(mariadb_url, "SELECT COUNT(*) FROM aiteni_evaluation_record") == 1
