"""Evaluation records: save, paged history, read and delete, each user seeing only their own."""
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa
import waitress

from aiteni.evaluation.records import saved_columns
from aiteni.errors import BadRequest
from aiteni.extensions import db
from aiteni.models import EvaluationRecord
from tests.helpers.clients import record_body
from tests.helpers.query_plans import explain, extras, statements_with_order_by

BAD_RECORD = {"code": 400, "msg": "评测数据格式错误"}
BAD_PAGE = {"code": 400, "msg": "分页参数错误"}
NO_RECORD = {"code": 404, "msg": "记录不存在"}
HISTORY_INDEX = "ix_aiteni_evaluation_record_user_created"

SAVE = "/api/evaluation/save"
HISTORY = "/api/evaluation/history"


def payload(**result):
    """A save body the client would send; keyword arguments replace result fields."""
    return record_body(**result)


def save(client, headers, body=None):
    response = client.post(SAVE, json=payload() if body is None else body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]["record_id"]


def stored_records(app):
    """How many records exist, whoever owns them (read straight from the database)."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(EvaluationRecord))


def set_created_at(app, moments):
    """Rewrites records' creation times: {record_id: naive UTC datetime}."""
    with app.app_context():
        for record_id, moment in moments.items():
            db.session.execute(
                sa.update(EvaluationRecord).where(EvaluationRecord.id == record_id).values(created_at=moment)
            )
        db.session.commit()


def history_ids(client, headers, **params):
    response = client.get(HISTORY, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [record["id"] for record in response.get_json()["data"]["records"]]


# --- round trips ---------------------------------------------------------------------------


def test_save_read_list_delete_round_trip(client, auth):
    headers = auth.headers()
    sent = payload()

    response = client.post(SAVE, json=sent, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["msg"] == "保存成功"
    record_id = body["data"]["record_id"]
    assert isinstance(record_id, int)

    response = client.get(f"/api/evaluation/result/{record_id}", headers=headers)
    assert response.status_code == 200
    record = response.get_json()["data"]
    expected = {
        "id": record_id, "record_id": record_id, "answers": sent["answers"], **sent["result"],
        "advantages": [], "weaknesses": [], "stage": "saved", "questions_version": None, "saved_to_cloud": True,
        "created_at": record["created_at"],
        # A result computed elsewhere says nothing of how sure it is.
        "level_range": None, "confidence": None, "provisional": None, "consistent": None,
    }
    assert record == expected

    listed = client.get(HISTORY, headers=headers).get_json()
    assert listed["msg"] == "success"
    assert listed["data"] == {"total": 1, "page": 1, "page_size": 10, "records": [record]}

    response = client.delete(f"/api/evaluation/delete/{record_id}", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"code": 200, "msg": "删除成功", "data": {}}

    assert client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json() == NO_RECORD
    assert client.delete(f"/api/evaluation/delete/{record_id}", headers=headers).get_json() == NO_RECORD
    assert client.get(HISTORY, headers=headers).get_json()["data"]["total"] == 0


def test_created_at_is_iso_8601_utc_with_z_for_javascript(client, auth):
    headers = auth.headers()
    record_id = save(client, headers)
    created_at = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]["created_at"]
    # The form `new Date(...)` parses as UTC on every JavaScript engine (ECMA-262 date time string format).
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", created_at)
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(minutes=1)


def test_optional_fields_may_be_omitted(client, auth):
    headers = auth.headers()
    body = payload()
    del body["answers"], body["result"]["dimension_comments"], body["result"]["summary_text"]
    record_id = save(client, headers, body)
    record = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]
    assert record["answers"] == {} and record["dimension_comments"] == {} and record["summary_text"] == ""


def test_null_optional_fields_count_as_omitted(client, auth):
    headers = auth.headers()
    body = payload(dimension_comments=None, summary_text=None)
    body["answers"] = None
    record_id = save(client, headers, body)
    record = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]
    assert record["answers"] == {} and record["dimension_comments"] == {} and record["summary_text"] == ""


def edge_payload():
    """Every field at the edge of what the contract allows."""
    body = payload(
        total_level=7.0,
        rounded_level=1.0,
        level_label="级" * 31 + "🎾",
        dimension_scores={f"d{i:02d}" + "维" * 28: 1 + i * 6 / 49 for i in range(50)},
        dimension_comments={"forehand": "好" * 500, "backhand": ""},
        summary_text="总" * 2000,
    )
    body["answers"] = {f"Q{i}": "A" * 32 for i in range(200)}
    return body


def test_values_at_the_limits_are_accepted_and_kept_exactly(client, auth):
    headers = auth.headers()
    body = edge_payload()
    record_id = save(client, headers, body)
    record = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]
    assert {k: record[k] for k in body["result"]} == body["result"]
    assert record["answers"] == body["answers"]


def test_stored_json_text_reads_back_exactly_in_history_and_result(client, auth):
    """History and result hand the JSON columns out as the bytes stored, never re-encoded: what JSON
    must escape (quotes, backslashes, control characters), emoji and U+2028 come back as sent."""
    headers = auth.headers()
    tricky = 'a "引号" \\ 反斜杠 \n\t\u0001 🎾 \u2028 end'
    body = payload(dimension_comments={"forehand": tricky, "发球🎾": tricky}, advantages=["发球🎾"], weaknesses=['"q"'])
    body["answers"] = {'Q"1\\': "A\n🎾"}
    record_id = save(client, headers, body)
    listed = client.get("/api/evaluation/history", headers=headers).get_json()["data"]["records"][0]
    single = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]
    for record in (listed, single):
        assert record["dimension_comments"] == {"forehand": tricky, "发球🎾": tricky}
        assert record["advantages"] == ["发球🎾"] and record["weaknesses"] == ['"q"']
        assert record["answers"] == {'Q"1\\': "A\n🎾"}


def largest_payload():
    """Every field at its documented maximum, in 4-byte UTF-8 characters where text is free."""
    key = lambda i: f"{i:02d}" + "🎾" * 30  # noqa: E731
    body = payload(
        level_label="🎾" * 32,
        dimension_scores={key(i): 6.75 for i in range(50)},
        dimension_comments={key(i): "🎾" * 500 for i in range(50)},
        advantages=[key(i) for i in range(10)],
        weaknesses=[key(i) for i in range(10, 20)],
        summary_text="🎾" * 2000,
    )
    body["answers"] = {f"{i:03d}" + "🎾" * 29: "🎾" * 32 for i in range(200)}
    return body


def test_the_largest_valid_record_fits_the_body_limit(app, client, auth):
    """Every valid request fits: the limit was once 64 KiB, under a 130 KB record."""
    body = largest_payload()
    size = len(json.dumps(body, ensure_ascii=False).encode())
    assert 64 * 1024 < size <= app.config["MAX_CONTENT_LENGTH"]
    headers = auth.headers()
    record_id = save(client, headers, body)
    record = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]
    assert record["dimension_comments"] == body["result"]["dimension_comments"]
    assert record["answers"] == body["answers"]


def test_whole_numbers_are_accepted_as_levels(client, auth):
    headers = auth.headers()
    record_id = save(client, headers, payload(total_level=4, rounded_level=4, dimension_scores={"serve": 5}))
    record = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]
    assert (record["total_level"], record["rounded_level"]) == (4.0, 4.0)
    assert record["dimension_scores"] == {"serve": 5}


# --- validation: every rule rejects, and nothing is stored -----------------------------------


def without(field):
    def change(body):
        del body["result"][field]

    return change


def result_field(field, value):
    def change(body):
        body["result"][field] = value

    return change


def top_field(field, value):
    def change(body):
        body[field] = value

    return change


def dimension_score(value):
    return result_field("dimension_scores", {"baseline": 3.0, "forehand": value})


REJECTED = {
    "result missing": lambda body: body.pop("result"),
    "result not an object": top_field("result", [3.5]),
    "total_level missing": without("total_level"),
    "total_level below 1.0": result_field("total_level", 0.99),
    "total_level above 7.0": result_field("total_level", 7.01),
    "total_level a string": result_field("total_level", "3.62"),
    "total_level a boolean": result_field("total_level", True),
    "total_level null": result_field("total_level", None),
    "rounded_level missing": without("rounded_level"),
    "rounded_level not a multiple of 0.5": result_field("rounded_level", 3.25),
    "rounded_level above 7.0": result_field("rounded_level", 7.5),
    "rounded_level below 1.0": result_field("rounded_level", 0.5),
    "rounded_level a string": result_field("rounded_level", "3.5"),
    "rounded_level a boolean": result_field("rounded_level", True),
    "level_label missing": without("level_label"),
    "level_label empty": result_field("level_label", ""),
    "level_label blank": result_field("level_label", "   "),
    "level_label 33 characters": result_field("level_label", "级" * 33),
    "level_label a number": result_field("level_label", 3),
    "dimension_scores missing": without("dimension_scores"),
    "dimension_scores a list": result_field("dimension_scores", [3.0]),
    "dimension score below 1.0": dimension_score(0.5),
    "dimension score above 7.0": dimension_score(7.5),
    "dimension score a string": dimension_score("3.8"),
    "dimension score a boolean": dimension_score(False),
    "dimension score null": dimension_score(None),
    "dimension score an object": dimension_score({"value": 3.8}),
    "dimension key empty": result_field("dimension_scores", {"": 3.0}),
    "dimension key 33 characters": result_field("dimension_scores", {"维" * 33: 3.0}),
    "51 dimensions": result_field("dimension_scores", {f"d{i}": 3.0 for i in range(51)}),
    "dimension_comments a string": result_field("dimension_comments", "不错"),
    "dimension comment 501 characters": result_field("dimension_comments", {"forehand": "好" * 501}),
    "dimension comment a number": result_field("dimension_comments", {"forehand": 5}),
    "dimension comment key 33 characters": result_field("dimension_comments", {"f" * 33: "好"}),
    "dimension comment key empty": result_field("dimension_comments", {"": "好"}),
    "51 dimension comments": result_field("dimension_comments", {f"d{i}": "好" for i in range(51)}),
    "summary_text 2001 characters": result_field("summary_text", "总" * 2001),
    "summary_text a number": result_field("summary_text", 42),
    "answers a list": top_field("answers", ["Q1_A3"]),
    "answer key empty": top_field("answers", {"": "Q1_A3"}),
    "answer key 33 characters": top_field("answers", {"Q" * 33: "Q1_A3"}),
    "answer value empty": top_field("answers", {"Q1": ""}),
    "answer value 33 characters": top_field("answers", {"Q1": "A" * 33}),
    "answer value a number": top_field("answers", {"Q1": 3}),
    "answer value null": top_field("answers", {"Q1": None}),
    "201 answers": top_field("answers", {f"Q{i}": "A" for i in range(201)}),
}


@pytest.mark.parametrize("change", REJECTED.values(), ids=REJECTED.keys())
def test_each_validation_rule_rejects_and_stores_nothing(app, client, auth, change):
    body = edge_payload()
    change(body)
    response = client.post(SAVE, json=body, headers=auth.headers())
    assert response.status_code == 400
    assert response.get_json() == BAD_RECORD
    assert stored_records(app) == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_and_infinity_are_rejected_and_nothing_is_stored(app, client, auth, literal):
    text = (
        '{"answers": {}, "result": {"total_level": %s, "rounded_level": 3.5, '
        '"level_label": "x", "dimension_scores": {"a": 3}}}' % literal
    )
    response = client.post(SAVE, data=text, content_type="application/json", headers=auth.headers())
    # Not JSON at all (RFC 8259 has no NaN or Infinity), so the conventions' message applies.
    assert response.status_code == 400
    assert response.get_json() == {"code": 400, "msg": "请求数据格式错误"}
    assert stored_records(app) == 0


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=repr)
@pytest.mark.parametrize("field", ["total_level", "rounded_level", "score"])
def test_validation_itself_refuses_non_finite_numbers(field, value):
    """Defence in depth: a JSON parser that let NaN or Infinity through must not get them stored."""
    body = payload(dimension_scores={"a": value}) if field == "score" else payload(**{field: value})
    with pytest.raises(BadRequest) as raised:
        saved_columns(body)
    assert raised.value.msg == "评测数据格式错误"


@pytest.mark.parametrize("body", ['[1, 2]', '"record"', "null", "{"], ids=repr)
def test_body_that_is_not_an_object_is_rejected(app, client, auth, body):
    response = client.post(SAVE, data=body, content_type="application/json", headers=auth.headers())
    assert response.get_json() == {"code": 400, "msg": "请求数据格式错误"}
    assert stored_records(app) == 0


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [("post", SAVE), ("get", HISTORY), ("get", "/api/evaluation/result/1"), ("delete", "/api/evaluation/delete/1")],
)
def test_every_endpoint_needs_a_login(client, method, path):
    response = getattr(client, method)(path, json=payload())
    assert response.status_code == 401
    assert response.get_json() == {"code": 401, "msg": "请先登录"}


# --- history: paging and order ---------------------------------------------------------------


def test_history_pages_with_defaults_last_partial_page_and_past_the_end(client, auth):
    headers = auth.headers()
    ids = [save(client, headers) for _ in range(23)]
    newest_first = ids[::-1]

    data = client.get(HISTORY, headers=headers).get_json()["data"]
    assert (data["total"], data["page"], data["page_size"]) == (23, 1, 10)
    assert [r["id"] for r in data["records"]] == newest_first[:10]

    assert history_ids(client, headers, page=2) == newest_first[10:20]
    last = client.get(HISTORY, query_string={"page": 3, "page_size": 10}, headers=headers).get_json()["data"]
    assert last["total"] == 23 and [r["id"] for r in last["records"]] == newest_first[20:]

    past = client.get(HISTORY, query_string={"page": 4}, headers=headers).get_json()["data"]
    assert past == {"total": 23, "page": 4, "page_size": 10, "records": []}
    far = client.get(HISTORY, query_string={"page": 2**63 - 1, "page_size": 50}, headers=headers).get_json()
    assert far["data"]["records"] == [] and far["data"]["total"] == 23

    assert history_ids(client, headers, page_size=50) == newest_first
    assert history_ids(client, headers, page=23, page_size=1) == [ids[0]]
    assert client.get(HISTORY + "/", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page": ""}, {"page": "1.5"}, {"page": "+1"},
        {"page": " 1"}, {"page": "١"}, {"page": str(2**63)}, {"page": "9" * 30},
        {"page_size": "0"}, {"page_size": "51"}, {"page_size": "-10"}, {"page_size": "ten"},
        {"page_size": ""}, {"page_size": "10.0"}, {"page": "1", "page_size": "100"},
        # Given twice: the first used to win silently, the other ignored.
        {"page": ["1", "abc"]}, {"page": ["2", "2"]}, {"page_size": ["10", "50"]},
    ],
    ids=repr,
)
def test_bad_paging_values_are_400(client, auth, params):
    response = client.get(HISTORY, query_string=params, headers=auth.headers())
    assert response.status_code == 400
    assert response.get_json() == BAD_PAGE


def test_history_is_newest_first_with_ties_broken_by_id(app, client, auth):
    headers = auth.headers()
    first, second, third, fourth = (save(client, headers) for _ in range(4))
    base = datetime(2025, 12, 14, 2, 30)
    # The oldest id is the newest record; the other three share one moment.
    set_created_at(app, {first: base + timedelta(seconds=1), second: base, third: base, fourth: base})
    assert history_ids(client, headers) == [first, fourth, third, second]
    assert history_ids(client, headers, page=2, page_size=2) == [third, second]


def test_history_shows_only_the_callers_records(client, auth):
    alice, bob = auth.headers("alice"), auth.headers("bob")
    alice_ids = [save(client, alice) for _ in range(3)]
    bob_id = save(client, bob)
    assert history_ids(client, alice) == alice_ids[::-1]
    data = client.get(HISTORY, headers=bob).get_json()["data"]
    assert data["total"] == 1 and [r["id"] for r in data["records"]] == [bob_id]


# --- one user cannot see or touch another's records ------------------------------------------


def test_another_users_record_looks_missing_for_read_and_delete(client, auth):
    alice, bob = auth.headers("alice"), auth.headers("bob")
    record_id = save(client, alice)
    missing = record_id + 1000

    for method, path in [("get", "/api/evaluation/result/{}"), ("delete", "/api/evaluation/delete/{}")]:
        theirs = getattr(client, method)(path.format(record_id), headers=bob)
        absent = getattr(client, method)(path.format(missing), headers=bob)
        assert theirs.status_code == absent.status_code == 404
        assert theirs.data == absent.data
        assert theirs.get_json() == NO_RECORD

    response = client.get(f"/api/evaluation/result/{record_id}/", headers=alice)
    assert response.status_code == 200 and response.get_json()["data"]["id"] == record_id


@pytest.mark.parametrize(
    "record_id",
    ["abc", "-1", "0", "00", "1.0", "+1", "1e3", "0x1", "%D9%A1", str(2**63), str(2**64), "9" * 40, str(2**63 - 1)],
)
def test_ids_that_cannot_be_a_record_are_404(client, auth, record_id):
    headers = auth.headers()
    save(client, headers)
    for response in (
        client.get(f"/api/evaluation/result/{record_id}", headers=headers),
        client.delete(f"/api/evaluation/delete/{record_id}", headers=headers),
    ):
        assert response.status_code == 404
        assert response.get_json() == NO_RECORD
    assert client.get(HISTORY, headers=headers).get_json()["data"]["total"] == 1


# --- deleting a user deletes their records ---------------------------------------------------


def test_deleting_a_user_deletes_their_records(app, client, auth):
    alice_user, bob_user = auth.login("alice"), auth.login("bob")
    alice, bob = auth.bearer(alice_user["token"]), auth.bearer(bob_user["token"])
    for _ in range(3):
        save(client, alice)
    bob_record = save(client, bob)

    assert client.delete("/api/user", headers=alice).get_json() == {"code": 200, "msg": "账号已注销", "data": {}}

    with app.app_context():
        left = db.session.execute(sa.select(EvaluationRecord.id, EvaluationRecord.user_id)).all()
    assert [tuple(row) for row in left] == [(bob_record, bob_user["userInfo"]["id"])]
    assert client.get(HISTORY, headers=bob).get_json()["data"]["total"] == 1


# --- concurrency on a real server ------------------------------------------------------------


@pytest.fixture
def live_server(app):
    """The app served by waitress on an ephemeral port, 20 worker threads."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=20, ident="aiteni-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.task_dispatcher.shutdown()
    server.close()
    thread.join(timeout=5)


def test_twenty_concurrent_saves_by_one_user_all_land(app, client, auth, live_server):
    headers = auth.headers()
    start = threading.Barrier(20)

    def post(i):
        start.wait()
        return requests.post(live_server + SAVE, json=payload(total_level=1 + i * 0.25), headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(post, range(20)))

    assert [r.status_code for r in responses] == [200] * 20
    ids = {r.json()["data"]["record_id"] for r in responses}
    assert len(ids) == 20
    data = client.get(HISTORY, query_string={"page_size": 50}, headers=headers).get_json()["data"]
    assert data["total"] == 20
    assert {r["id"] for r in data["records"]} == ids
    assert sorted(r["total_level"] for r in data["records"]) == [1 + i * 0.25 for i in range(20)]


# --- the history query uses its index --------------------------------------------------------


def test_history_query_uses_the_user_created_id_index(app, client, auth):
    """The page and its count walk (user_id, created_at, id): no table scan, no sort of all the user's rows."""
    users = [auth.login(code) for code in ("alice", "bob", "carol")]
    with app.app_context():
        db.session.execute(
            sa.insert(EvaluationRecord),
            [
                {
                    "user_id": user["userInfo"]["id"], "total_level": 3.0, "rounded_level": 3.0, "level_label": "x",
                    "dimension_scores": {}, "dimension_comments": {}, "summary_text": "", "answers": {},
                    "created_at": datetime(2025, 1, 1) + timedelta(minutes=i),
                }
                for user in users
                for i in range(100)
            ],
        )
        db.session.commit()

    with app.app_context():
        engine = db.engine
    with statements_with_order_by(engine) as statements:
        response = client.get(HISTORY, query_string={"page": 2}, headers=auth.bearer(users[1]["token"]))
    assert response.status_code == 200 and len(response.get_json()["data"]["records"]) == 10
    [(statement, parameters)] = statements

    plan = explain(engine, statement, parameters)
    if engine.dialect.name == "sqlite":
        assert f"USING INDEX {HISTORY_INDEX} (user_id=?)" in plan, plan
        count = f"SCALAR SUBQUERY 1 | SEARCH aiteni_evaluation_record USING COVERING INDEX {HISTORY_INDEX} (user_id=?)"
        assert count in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        # The page and the count beside it (a subquery) both walk the index.
        assert [row["key"] for row in plan] == [HISTORY_INDEX, HISTORY_INDEX], plan
        assert "filesort" not in extras(plan), plan
