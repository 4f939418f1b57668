"""The envelope and the framework's own errors, on every path; health on a database behind the code."""
import json
import re
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from aiteni import __version__, create_app
from aiteni.extensions import db
from tests.helpers.clients import record_body
from tests.helpers.database import BOTH_DATABASES
from tests.helpers.mariadb import throwaway_database

ROOT = Path(__file__).resolve().parents[2]


def test_health_queries_the_database(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"code": 200, "msg": "ok", "data": {"database": "ok"}}


def test_version(client):
    body = client.get("/api/version").get_json()
    assert body["code"] == 200 and body["msg"] == "success"
    assert body["data"]["questions_version"] == client.get("/api/evaluation/questions").get_json()["data"]["version"]
    assert body["data"]["version"]


@pytest.mark.parametrize("path", ["/api/health", "/api/health/", "/api/version/"])
def test_trailing_slash_is_optional_without_redirect(client, path):
    response = client.get(path)
    assert response.status_code == 200


def test_trailing_slash_on_authenticated_post(client, auth):
    response = client.post("/api/auth/verify/", headers=auth.headers())
    assert response.status_code == 200


def test_unknown_path_is_404_envelope(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"code": 404, "msg": "接口不存在"}


def test_wrong_method_is_405_envelope(client):
    response = client.delete("/api/health")
    assert response.status_code == 405
    assert response.get_json() == {"code": 405, "msg": "请求方法不允许"}
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", '"text"', "42", "null", b"\xff\xfe\x00", '{"code": "a"'], ids=repr
)
def test_body_that_is_not_a_json_object_is_400(client, body):
    response = client.post("/api/auth/login", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"code": 400, "msg": "请求数据格式错误"}


def test_body_over_the_limit_is_413(client):
    big = json.dumps({"code": "x" * client.application.config["MAX_CONTENT_LENGTH"]})
    response = client.post("/api/auth/login", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"code": 413, "msg": "请求数据过大"}


def test_unexpected_error_is_500_without_details(app, client, tmp_path):
    def boom():
        raise RuntimeError("SELECT secret FROM somewhere")

    app.add_url_rule("/api/boom", view_func=boom)
    response = client.get("/api/boom")
    assert response.status_code == 500
    assert response.get_json() == {"code": 500, "msg": "服务器内部错误"}
    assert b"SELECT" not in response.data and b"Traceback" not in response.data
    error_log = next((tmp_path / "logs").glob("error-*.log")).read_text(encoding="utf-8")
    assert "Traceback" in error_log and "RuntimeError" in error_log


def test_chinese_is_written_as_characters(client):
    response = client.get("/api/nothing-here")
    assert "接口不存在".encode() in response.data
    assert b"\\u" not in response.data
    assert response.content_type == "application/json; charset=utf-8"


@pytest.fixture(params=BOTH_DATABASES)
def database_at(request, tmp_path, fake_wechat):
    """Makes an app on a database migrated up to a revision (None: never migrated), logging into tmp_path/logs."""
    stack = ExitStack()

    def make(revision):
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'behind.db'}"
            if revision:
                migrate(url, revision)
        else:
            url = stack.enter_context(throwaway_database()).render_as_string(hide_password=False)
            app = create_app({"SQLALCHEMY_DATABASE_URI": url})
            with app.app_context():
                downgrade(revision=revision or "base")
                if revision is None:
                    db.session.execute(sa.text("DROP TABLE alembic_version"))
                db.engine.dispose()
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "WECHAT_API_BASE": fake_wechat.base_url, "LOG_DIR": str(tmp_path / "logs")}
        )
        stack.callback(dispose, app)
        return app

    with stack:
        yield make


def migrate(url, revision):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision=revision)
        db.engine.dispose()


def dispose(app):
    with app.app_context():
        db.engine.dispose()


def error_log(tmp_path):
    return next((tmp_path / "logs").glob("error-*.log")).read_text(encoding="utf-8")


NOT_MIGRATED = {"code": 503, "msg": "服务暂不可用", "data": {"database": "not migrated"}}
UNAVAILABLE = {"code": 503, "msg": "服务暂不可用"}
PROFILE = {"code": "alice", "nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}


def test_a_database_never_migrated_answers_503_and_says_what_to_run(database_at, tmp_path, fake_wechat):
    """Today /api/health said ok and a login was a 500 with a traceback; then a 503 after WeChat had
    been asked, which spent the player's one-time code."""
    app = database_at(None)
    assert "database not migrated" in error_log(tmp_path)  # at start
    client = app.test_client()
    health = client.get("/api/health")
    assert (health.status_code, health.get_json()) == (503, NOT_MIGRATED)
    login = client.post("/api/auth/login", json=PROFILE)
    assert (login.status_code, login.get_json()) == (503, UNAVAILABLE)
    assert fake_wechat.calls == []  # the code is still good once the database is migrated
    assert client.get("/api/version").status_code == 200  # needs no database
    log = error_log(tmp_path)
    assert log.count("run flask --app wsgi db upgrade") == 3 and "Traceback" not in log


def test_a_half_migrated_database_answers_503_never_500_until_upgraded(database_at, tmp_path):
    """Migrated to the first revision only: records lack the columns the second one adds."""
    app = database_at("d307c70c6b5d")
    client = app.test_client()
    assert client.get("/api/health").get_json() == NOT_MIGRATED
    token = client.post("/api/auth/login", json=PROFILE).get_json()["data"]["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    save = client.post("/api/evaluation/save", json=record_body(), headers=bearer)
    assert (save.status_code, save.get_json()) == (503, UNAVAILABLE)
    answers = {"answers": {"Q1": "Q1_A3"}}
    evaluation = client.post("/api/evaluation/basic", json=answers, headers=bearer).get_json()["data"]
    assert evaluation["saved_to_cloud"] is False  # the player keeps the result all the same
    history = client.get("/api/evaluation/history", headers=bearer)
    assert (history.status_code, history.get_json()) == (503, UNAVAILABLE)  # it reads the missing columns
    assert client.get("/api/user/info", headers=bearer).status_code == 200  # what needs none still works
    assert "Traceback" not in error_log(tmp_path)

    with app.app_context():
        upgrade()
    assert client.get("/api/health").get_json()["data"] == {"database": "ok"}  # no restart needed
    assert client.post("/api/evaluation/save", json=record_body(), headers=bearer).status_code == 200


def test_the_version_is_the_changelogs_newest_release():
    newest = re.search(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert newest.group(1) == __version__ == "1.1.0"
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
