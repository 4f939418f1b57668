"""The OpenAPI document: it matches the routes, it is valid, real answers conform to it, and it is served."""
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from openapi_spec_validator import validate

from aiteni import openapi
from aiteni.schemas import fields

ROOT = Path(__file__).resolve().parents[2]
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}


def routes(app):
    """(path, method) for every route, in OpenAPI's spelling; static file routes and the operators' console
    (HTML for people, docs/console.md) are not API."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static") or rule.rule.startswith("/admin/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        found.update((path, method) for method in rule.methods - IMPLICIT_METHODS)
    return found


def documented(document):
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item}


def canonical(pairs):
    """Path parameter names differ (Flask's `record_id`, the document's `id`): compare shapes."""
    return {(re.sub(r"\{[^}]+\}", "{}", path), method) for path, method in pairs}


def test_every_route_is_documented_and_every_documented_operation_exists(app):
    in_app, in_document = canonical(routes(app)), canonical(documented(openapi.document()))
    assert in_app - in_document == set(), "routes missing from the OpenAPI document"
    assert in_document - in_app == set(), "documented operations without a route"


def test_an_undocumented_route_is_noticed(app):
    app.add_url_rule("/api/secret-admin", "secret_admin", lambda: "", methods=["POST"])
    assert canonical(routes(app)) - canonical(documented(openapi.document())) == {("/api/secret-admin", "POST")}


def test_document_is_valid_openapi_3_1():
    document = openapi.document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_served_document_is_the_module_document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == openapi.document()
    assert client.get("/api/openapi.json/").status_code == 200


def test_every_operation_documents_its_statuses_with_the_envelope():
    for path, item in openapi.document()["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "200" in responses and "500" in responses, (method, path)
            security = operation.get("security")
            if security:
                # A token is either required (401 without one) or optional (`{}`: then never a 401).
                assert ("401" in responses) != ({} in security), (method, path)
            for status, response in responses.items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                if status != "200" and "properties" in schema:
                    assert schema["properties"]["code"] == {"const": int(status)}
                    assert schema["properties"]["msg"]["enum"], (method, path, status)


@pytest.fixture
def contract():
    return schemathesis.openapi.from_dict(openapi.document())


def answers(client, position=0):
    """(basic answers, basic and advanced answers) as the client sends them: option `position` of each question."""
    data = client.get("/api/evaluation/questions").get_json()["data"]
    pick = {q["id"]: q["options"][position]["id"] for q in data["basic_questions"]}
    return pick, pick | {q["id"]: q["options"][position]["id"] for q in data["advanced_questions"]}


def test_real_answers_conform_to_the_document(client, auth, contract):
    """One real call per shape: a drifted field name or message fails here, not only in the fuzz run."""
    login = client.post("/api/auth/login", json={"code": "c1", "nickName": "张三", "avatarUrl": "wxfile://tmp_a.png"})
    contract["/api/auth/login"]["POST"].validate_response(login)
    data = login.get_json()["data"]
    headers = auth.bearer(data["token"])
    record = {
        "answers": {"Q1": "Q1_A3"},
        "result": {"total_level": 3.62, "rounded_level": 3.5, "level_label": "发展中业余选手",
                   "dimension_scores": {"forehand": 3.8}, "dimension_comments": {"forehand": "好"},
                   "summary_text": "整体来看"},
    }
    saved = client.post("/api/evaluation/save", json=record, headers=headers)
    record_id = saved.get_json()["data"]["record_id"]
    basic, full = answers(client, position=-1)
    signed_in_basic = client.post("/api/evaluation/basic", json={"answers": basic}, headers=headers)
    assert signed_in_basic.get_json()["data"]["saved_to_cloud"] is True
    scored_id = signed_in_basic.get_json()["data"]["record_id"]
    questions = client.get("/api/evaluation/questions")
    calls = [
        ("/api/evaluation/questions", "GET", questions),
        ("/api/evaluation/questions", "GET",
         client.get("/api/evaluation/questions", headers={"If-None-Match": questions.headers["ETag"]})),
        ("/api/evaluation/config", "GET", client.get("/api/evaluation/config")),
        ("/api/evaluation/basic", "POST", signed_in_basic),
        ("/api/evaluation/basic", "POST", client.post("/api/evaluation/basic", json={"answers": basic})),
        ("/api/evaluation/basic", "POST",
         client.post("/api/evaluation/basic", json={"answers": basic}, headers=auth.bearer("x.y.z"))),
        ("/api/evaluation/basic", "POST", client.post("/api/evaluation/basic", json={"answers": []})),
        ("/api/evaluation/basic", "POST", client.post("/api/evaluation/basic", json={"answers": {"Q0": "Q0_A0"}})),
        ("/api/evaluation/full", "POST", client.post("/api/evaluation/full", json={"answers": full}, headers=headers)),
        ("/api/evaluation/full", "POST", client.post("/api/evaluation/full", json={"answers": full})),
        ("/api/evaluation/full", "POST", client.post("/api/evaluation/full", data="[]")),
        ("/api/evaluation/result/{id}", "GET", client.get(f"/api/evaluation/result/{scored_id}", headers=headers)),
        ("/api/auth/verify", "POST", client.post("/api/auth/verify", headers=headers)),
        ("/api/auth/verify", "POST", client.post("/api/auth/verify")),
        ("/api/user/info", "GET", client.get("/api/user/info", headers=headers)),
        ("/api/user/info", "GET", client.get("/api/user/info", headers=auth.bearer("x.y.z"))),
        ("/api/user/update", "POST", client.post("/api/user/update", json={"phone": "12"}, headers=headers)),
        ("/api/user/update", "POST", client.post("/api/user/update", json={"realName": "李四"}, headers=headers)),
        ("/api/evaluation/save", "POST", saved),
        ("/api/evaluation/save", "POST", client.post("/api/evaluation/save", json={}, headers=headers)),
        ("/api/evaluation/history", "GET", client.get("/api/evaluation/history", headers=headers)),
        ("/api/evaluation/history", "GET", client.get("/api/evaluation/history?page=0", headers=headers)),
        ("/api/evaluation/result/{id}", "GET", client.get(f"/api/evaluation/result/{record_id}", headers=headers)),
        ("/api/evaluation/result/{id}", "GET", client.get("/api/evaluation/result/99999", headers=headers)),
        ("/api/evaluation/delete/{id}", "DELETE",
         client.delete(f"/api/evaluation/delete/{record_id}", headers=headers)),
        ("/api/auth/refresh", "POST", client.post("/api/auth/refresh", json={"refreshToken": data["refreshToken"]})),
        ("/api/auth/refresh", "POST", client.post("/api/auth/refresh", json={"refreshToken": data["refreshToken"]})),
        ("/api/auth/login", "POST", client.post("/api/auth/login", json={"code": ""})),
        ("/api/auth/logout", "POST", client.post("/api/auth/logout", json={"all": "yes"}, headers=headers)),
        ("/api/version", "GET", client.get("/api/version")),
        ("/api/health", "GET", client.get("/api/health")),
        ("/api/openapi.json", "GET", client.get("/api/openapi.json")),
        ("/api/docs", "GET", client.get("/api/docs")),
        ("/api/user", "DELETE", client.delete("/api/user", headers=headers)),
        ("/api/auth/logout", "POST", client.post("/api/auth/logout", headers=headers)),
    ]
    for path, method, response in calls:
        contract[path][method].validate_response(response)
    statuses = [response.status_code for path, _, response in calls if path.startswith("/api/evaluation/")]
    assert {200, 304, 400, 404} <= set(statuses)


def test_evaluation_answers_are_each_of_their_documented_kind(client, auth):
    """/basic, /full and a stored record each carry every Result field the document lists, and no other."""
    schemas = openapi.document()["components"]["schemas"]
    headers = auth.headers()
    basic, full = answers(client)
    fresh = client.post("/api/evaluation/basic", json={"answers": basic}, headers=headers).get_json()["data"]
    completed = client.post("/api/evaluation/full", json={"answers": full}, headers=headers).get_json()["data"]
    anonymous = client.post("/api/evaluation/full", json={"answers": full}).get_json()["data"]
    stored = client.get("/api/evaluation/history", headers=headers).get_json()["data"]["records"]

    assert set(fresh) == set(schemas["BasicResult"]["required"]) == set(schemas["Result"]["required"]) | {
        "need_advanced"}
    assert set(completed) == set(anonymous) == set(schemas["Result"]["required"])
    assert (fresh["stage"], completed["stage"]) == ("basic", "full")
    assert completed["record_id"] == fresh["record_id"] and completed["saved_to_cloud"] is True
    assert (anonymous["record_id"], anonymous["saved_to_cloud"]) == (None, False)
    [record] = stored
    assert set(record) == set(schemas["Record"]["required"]) == set(schemas["Result"]["required"]) | {
        "id", "answers", "created_at"}
    assert {key: record[key] for key in completed} == completed


def test_documented_limits_are_the_ones_enforced(client, auth, contract):
    """The limits the document states from the code's constants hold at and just past each of them."""
    headers = auth.headers()
    basic, _ = answers(client)
    padded = basic | {f"X{i}": "X" for i in range(fields.MAX_ANSWERS - len(basic))}
    listed = [f"d{i}" for i in range(fields.MAX_SAVED_KEYS)]
    record = {"result": {"total_level": 3.0, "rounded_level": 3.0, "level_label": "中级",
                         "dimension_scores": {"forehand": 3.0}, "advantages": listed, "weaknesses": listed}}
    too_long = {"result": {**record["result"], "advantages": [*listed, "one more"]}}
    limit = client.application.config["MAX_CONTENT_LENGTH"]
    cases = [
        ("/api/evaluation/basic", {"answers": padded}, 200),
        ("/api/evaluation/basic", {"answers": padded | {"Y": "Y"}}, 400),
        ("/api/evaluation/full", {"answers": {"Q1": "Q" * 33}}, 400),
        ("/api/evaluation/save", record, 200),
        ("/api/evaluation/save", too_long, 400),
        ("/api/evaluation/save", {"answers": {"Q1": "x" * limit}}, 413),
    ]
    for path, body, status in cases:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == status, (path, response.get_json())
        contract[path]["POST"].validate_response(response)
    description = openapi.document()["paths"]["/api/evaluation/save"]["post"]["responses"]["413"]["description"]
    assert f"{limit // 1024} KiB" in description


def test_a_drifted_message_fails_validation(client, contract):
    """The check above can fail: a message the document does not list is caught."""
    response = client.post("/api/auth/verify")
    response.set_data(response.data.replace("缺少认证Token".encode(), "未登录".encode()))
    with pytest.raises(Exception, match="未登录"):
        contract["/api/auth/verify"]["POST"].validate_response(response)


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/openapi.json" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page must not load anything from a CDN"
    for asset in re.findall(r"(?:src|href)=\"([^\"]+)\"", html):
        assert client.get(asset).status_code == 200, asset
    assert b"SwaggerUIBundle" in client.get("/api/docs/static/swagger-ui-bundle.js").data


def production_app_answers(tmp_path, **extra):
    """The status /api/docs and /api/openapi.json answer in a production process with `extra` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "JWT_", "SECRET_KEY", "API_DOCS"))}
    env.update(
        AITENI_ENV="production", JWT_SECRET=secrets.token_urlsafe(48), WECHAT_APPID="wx-prod", WECHAT_APPSECRET="s" * 32,
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}", LOG_DIR=str(tmp_path / "logs"),
    )
    # Empty rather than missing, so a developer's .env cannot fill them in.
    env.update({"SECRET_KEY": "", "WECHAT_DEV_LOGIN": "0", "API_DOCS": "", **extra})
    code = (
        "import wsgi; c = wsgi.app.test_client(); "
        "print(c.get('/api/docs').status_code, c.get('/api/openapi.json').status_code)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, encoding="utf-8",
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_docs_page_is_off_in_production(tmp_path):
    assert production_app_answers(tmp_path) == ["404", "200"]


def test_docs_page_in_production_with_api_docs_on(tmp_path):
    assert production_app_answers(tmp_path, API_DOCS="1") == ["200", "200"]


def test_not_blank_pattern_is_exactly_what_str_strip_keeps():
    """The document's "not blank" pattern, in a client's engine (Python's re, as schemathesis runs it), and the
    server's str.strip() agree on every character (tests/api/test_schemas.py: in the server's engine)."""
    for code in range(0x110000):
        char = chr(code)
        if not 0xD800 <= code < 0xE000:
            assert bool(re.fullmatch(fields.NOT_BLANK, char)) == bool(char.strip()), hex(code)
