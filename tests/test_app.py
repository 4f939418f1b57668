"""The envelope and the framework's own errors, on every path."""
import json

import pytest


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
    assert response.content_type == "application/json"
