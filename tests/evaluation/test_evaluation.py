"""The evaluation endpoints as the shipped mini-program calls them: questions, basic, full, auto-save."""
import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from aiteni.evaluation import sittings
from aiteni.extensions import db
from aiteni.models import EvaluationRecord, utcnow
from tests.helpers.clients import at_once, record_body
from tests.helpers.database import migrate
from tests.helpers.servers import waitress_process

QUESTIONS = "/api/evaluation/questions"
BASIC = "/api/evaluation/basic"
FULL = "/api/evaluation/full"
HISTORY = "/api/evaluation/history"
BAD_JSON = {"code": 400, "msg": "请求数据格式错误"}
BAD_ANSWERS = {"code": 400, "msg": "评测数据格式错误"}
RESULT_FIELDS = [
    "total_level", "rounded_level", "level_label", "level_range", "confidence", "provisional", "consistent",
    "dimension_scores", "dimension_comments",
    "advantages", "weaknesses", "summary_text", "stage", "questions_version", "record_id", "saved_to_cloud",
]


@pytest.fixture
def questionnaire(client):
    return client.get(QUESTIONS).get_json()["data"]


def pick(questions, position):
    """One option per question: `position` indexes each option list (clamped), so -1 is the strongest."""
    return {q["id"]: q["options"][min(position, len(q["options"]) - 1)]["id"] for q in questions}


def records_stored(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(EvaluationRecord))


def evaluate(client, path, answers, headers=None):
    response = client.post(path, json={"answers": answers}, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["msg"] == "评测完成"
    return body["data"]


# --- the questionnaire ------------------------------------------------------------------------


def test_questions_carry_what_the_client_reads_and_no_scoring_data(client, questionnaire):
    assert questionnaire["version"] == client.get("/api/version").get_json()["data"]["questions_version"]
    basic, advanced = questionnaire["basic_questions"], questionnaire["advanced_questions"]
    assert 10 <= len(basic) <= 14 and 5 <= len(advanced) <= 9
    ids = [q["id"] for q in basic + advanced] + [o["id"] for q in basic + advanced for o in q["options"]]
    assert len(ids) == len(set(ids))
    assert not any(c in i for i in ids for c in ".[]")
    dimensions = {q["dimension"] for q in basic}
    assert dimensions == {
        "baseline", "forehand", "backhand", "serve", "return", "net", "footwork", "tactics", "match_result", "training",
    }
    for tier, questions in (("basic", basic), ("advanced", advanced)):
        for question in questions:
            assert set(question) == {"id", "question_tier", "dimension", "dimensionName", "text", "options"}
            assert question["question_tier"] == tier and question["dimensionName"] and "**" not in question["text"]
            assert 5 <= len(question["options"]) <= 11  # docs/questions.md: 1.0 options and a neutral one
            for option in question["options"]:
                assert set(option) == {"id", "text"} and option["text"]
                assert not any(c in option["text"] for c in "<>&")


def test_questions_are_cached_by_version(client, questionnaire):
    first = client.get(QUESTIONS)
    etag = first.headers["ETag"]
    assert questionnaire["version"] in etag
    again = client.get(QUESTIONS, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(QUESTIONS, headers={"If-None-Match": '"0.0.0-old"'}).status_code == 200
    assert client.get(QUESTIONS + "/").status_code == 200
    for held in (f"W/{etag}", f'"0.0.0-old", {etag}', "*"):
        assert client.get(QUESTIONS, headers={"If-None-Match": held}).status_code == 304, held


def test_questions_never_answer_a_status_outside_the_contract(client):
    """If-Match is not honoured: werkzeug's make_conditional once answered 412 with a code-200 body."""
    response = client.get(QUESTIONS, headers={"If-Match": '"nope"'})
    assert response.status_code == 200 and response.get_json()["code"] == 200


def test_config_describes_levels_and_dimensions(client, questionnaire):
    data = client.get("/api/evaluation/config").get_json()["data"]
    assert data["levels"] == [1.0 + 0.5 * i for i in range(13)]
    assert set(data["level_labels"]) == {f"{level:.1f}" for level in data["levels"]}
    assert data["level_labels"]["6.5"]
    assert [d["key"] for d in data["dimensions"]][:3] == ["baseline", "forehand", "backhand"]
    assert data["version"] == questionnaire["version"] and data["advanced_threshold"] == 3.0


# --- anonymous --------------------------------------------------------------------------------


def test_anonymous_basic_is_scored_and_nothing_is_stored(app, client, questionnaire):
    result = evaluate(client, BASIC, pick(questionnaire["basic_questions"], 3))
    assert list(result) == RESULT_FIELDS + ["need_advanced"]
    assert result["record_id"] is None and result["saved_to_cloud"] is False
    assert result["stage"] == "basic" and result["questions_version"] == questionnaire["version"]
    assert records_stored(app) == 0


def test_need_advanced_follows_the_threshold(client, questionnaire):
    weakest = evaluate(client, BASIC, pick(questionnaire["basic_questions"], 0))
    strongest = evaluate(client, BASIC, pick(questionnaire["basic_questions"], -1))
    assert weakest["need_advanced"] is False and weakest["total_level"] < 3.0
    assert strongest["need_advanced"] is True
    full = evaluate(client, FULL, pick(questionnaire["basic_questions"] + questionnaire["advanced_questions"], -1))
    assert "need_advanced" not in full and full["stage"] == "full"


@pytest.mark.parametrize("token", ["expired", "revoked", "bad signature", "garbage", "deleted user"])
def test_a_stale_token_still_gets_its_result_unsaved(app, client, auth, questionnaire, token):
    """The player never loses an answered questionnaire to a token that went bad meanwhile."""
    headers = auth.headers()
    if token == "expired":
        with app.app_context():
            from flask_jwt_extended import create_access_token

            stale = create_access_token("1", expires_delta=timedelta(seconds=-5), additional_claims={"sid": None})
        headers = auth.bearer(stale)
    elif token == "revoked":
        assert client.post("/api/auth/logout", headers=headers).status_code == 200
    elif token == "bad signature":
        headers = auth.bearer(headers["Authorization"].removeprefix("Bearer ")[:-4] + "AAAA")
    elif token == "garbage":
        headers = {"Authorization": "Bearer not-a-token"}
    else:
        assert client.delete("/api/user", headers=headers).status_code == 200
    result = evaluate(client, BASIC, pick(questionnaire["basic_questions"], 2), headers)
    assert result["record_id"] is None and result["saved_to_cloud"] is False
    assert records_stored(app) == 0


# --- signed in: auto-save ---------------------------------------------------------------------


def test_signed_in_basic_then_full_is_one_record(app, client, auth, questionnaire):
    headers = auth.headers()
    basic_answers = pick(questionnaire["basic_questions"], 4)
    basic = evaluate(client, BASIC, basic_answers, headers)
    assert basic["saved_to_cloud"] is True and isinstance(basic["record_id"], int)

    answers = basic_answers | pick(questionnaire["advanced_questions"], 3)
    full = evaluate(client, FULL, answers, headers)
    assert full["record_id"] == basic["record_id"] and full["stage"] == "full"

    records = client.get(HISTORY, headers=headers).get_json()["data"]["records"]
    assert len(records) == 1 and records_stored(app) == 1
    record = records[0]
    assert record["answers"] == answers
    assert {k: record[k] for k in RESULT_FIELDS} == full
    assert record["id"] == record["record_id"] == full["record_id"]


def test_a_resumed_advanced_stage_is_merged_with_the_basic_answers(client, auth, questionnaire):
    """The shipped client, resumed from the welcome page, sends only the advanced answers (client-notes §1.4)."""
    headers = auth.headers()
    basic_answers = pick(questionnaire["basic_questions"], 5)
    advanced_answers = pick(questionnaire["advanced_questions"], 4)
    record_id = evaluate(client, BASIC, basic_answers, headers)["record_id"]

    resumed = evaluate(client, FULL, advanced_answers, headers)
    assert resumed["record_id"] == record_id
    merged = evaluate(client, FULL, basic_answers | advanced_answers)  # the same answers, anonymous
    assert {k: resumed[k] for k in ("total_level", "dimension_scores", "advantages")} == {
        k: merged[k] for k in ("total_level", "dimension_scores", "advantages")
    }
    record = client.get(HISTORY, headers=headers).get_json()["data"]["records"][0]
    assert record["answers"] == basic_answers | advanced_answers


def test_other_basic_answers_or_an_old_record_start_a_new_record(app, client, auth, questionnaire):
    headers = auth.headers()
    basic_questions = questionnaire["basic_questions"]
    advanced = pick(questionnaire["advanced_questions"], 2)
    first = evaluate(client, BASIC, pick(basic_questions, 1), headers)["record_id"]
    other = evaluate(client, FULL, pick(basic_questions, 2) | advanced, headers)["record_id"]
    assert other != first

    old = evaluate(client, BASIC, pick(basic_questions, 3), headers)["record_id"]
    with app.app_context():
        db.session.execute(
            sa.update(EvaluationRecord).where(EvaluationRecord.id == old)
            .values(created_at=utcnow() - sittings.COMPLETION_WINDOW - timedelta(minutes=1))
        )
        db.session.commit()
    later = evaluate(client, FULL, pick(basic_questions, 3) | advanced, headers)["record_id"]
    assert later not in (first, other, old)
    assert records_stored(app) == 4


def test_a_full_matching_only_an_older_record_starts_a_new_one(client, auth, questionnaire):
    """API.md: only the latest basic record of the last 24 hours is completed."""
    headers = auth.headers()
    basic_questions, advanced = questionnaire["basic_questions"], pick(questionnaire["advanced_questions"], 2)
    first = evaluate(client, BASIC, pick(basic_questions, 1), headers)["record_id"]
    latest = evaluate(client, BASIC, pick(basic_questions, 4), headers)["record_id"]
    assert evaluate(client, FULL, pick(basic_questions, 1) | advanced, headers)["record_id"] not in (first, latest)


def test_a_completed_record_is_answered_again_but_never_rewritten(app, client, auth, questionnaire):
    """A /full with other advanced answers rewrote the completed record, its first result and answers lost;
    the same resumed advanced stage retried still answers that record."""
    headers = auth.headers()
    basic_answers = pick(questionnaire["basic_questions"], 3)
    first_advanced, other_advanced = (pick(questionnaire["advanced_questions"], n) for n in (2, 5))
    record_id = evaluate(client, BASIC, basic_answers, headers)["record_id"]
    full = evaluate(client, FULL, first_advanced, headers)
    assert full["record_id"] == record_id
    assert evaluate(client, FULL, first_advanced, headers) == full
    assert evaluate(client, FULL, other_advanced, headers)["record_id"] != record_id
    assert evaluate(client, FULL, basic_answers | other_advanced, headers)["record_id"] != record_id
    assert client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]["answers"] == \
        basic_answers | first_advanced


def test_a_full_never_completes_someone_elses_record(client, auth, questionnaire):
    alice, bob = auth.headers("alice"), auth.headers("bob")
    basic_answers = pick(questionnaire["basic_questions"], 3)
    alices = evaluate(client, BASIC, basic_answers, alice)["record_id"]
    bobs = evaluate(client, FULL, basic_answers | pick(questionnaire["advanced_questions"], 3), bob)["record_id"]
    assert bobs != alices
    assert client.get(HISTORY, headers=alice).get_json()["data"]["records"][0]["stage"] == "basic"


def test_a_saved_record_is_never_completed(client, auth, questionnaire):
    headers = auth.headers()
    saved = client.post("/api/evaluation/save", json=record_body(), headers=headers).get_json()["data"]["record_id"]
    full = evaluate(client, FULL, pick(questionnaire["advanced_questions"], 2), headers)
    assert full["record_id"] != saved


def test_a_double_tap_on_basic_answers_the_record_already_stored(app, client, auth, questionnaire):
    """One sitting, one record (API.md): the same /basic again, a retry after a lost response included."""
    headers = auth.headers()
    answers = pick(questionnaire["basic_questions"], 3)
    first = evaluate(client, BASIC, answers, headers)
    again = evaluate(client, BASIC, dict(reversed(answers.items())), headers)
    assert again == first and records_stored(app) == 1
    other = evaluate(client, BASIC, pick(questionnaire["basic_questions"], 4), headers)
    assert other["record_id"] != first["record_id"] and records_stored(app) == 2


def test_only_the_latest_record_is_the_same_sitting(app, client, auth, questionnaire):
    """A player who answers A, then B, then A again has sat three times."""
    headers = auth.headers()
    a, b = pick(questionnaire["basic_questions"], 3), pick(questionnaire["basic_questions"], 4)
    ids = [evaluate(client, BASIC, answers, headers)["record_id"] for answers in (a, b, a)]
    assert len(set(ids)) == 3 and records_stored(app) == 3


def test_a_full_sent_twice_is_one_record(app, client, auth, questionnaire):
    headers = auth.headers()
    answers = pick(questionnaire["basic_questions"], 5) | pick(questionnaire["advanced_questions"], 5)
    first, again = evaluate(client, FULL, answers, headers), evaluate(client, FULL, answers, headers)
    assert first == again and records_stored(app) == 1


def test_an_advanced_stage_resumed_twice_with_no_basic_record_is_one_record(app, client, auth, questionnaire):
    """The basic stage was done signed out: the resumed advanced-only /full, retried, must not add a second."""
    headers = auth.headers()
    answers = pick(questionnaire["advanced_questions"], 4)
    first, again = evaluate(client, FULL, answers, headers), evaluate(client, FULL, answers, headers)
    assert first["record_id"] == again["record_id"] and records_stored(app) == 1


def test_need_advanced_when_the_range_reaches_the_threshold(client, questionnaire):
    """Version 3 §2: a basic level below advanced_threshold whose range reaches it is invited on."""
    basic = questionnaire["basic_questions"]
    results = [evaluate(client, BASIC, {q["id"]: q["options"][min(position + (i % 3 == 0), len(q["options"]) - 1)]["id"]
                                        for i, q in enumerate(basic)})
               for position in range(1, 5)]
    below = [r for r in results if r["total_level"] < 3.0]
    assert any(r["need_advanced"] and r["level_range"][1] >= 3.0 for r in below), [
        (r["total_level"], r["level_range"]) for r in results]
    assert all(r["need_advanced"] == (r["level_range"][1] >= 3.0) for r in results)


def test_records_from_before_the_certainty_read_back_null(app, client, auth, questionnaire):
    """API.md: records stored before level_range and co. existed carry null in all four."""
    headers = auth.headers()
    scored = evaluate(client, BASIC, pick(questionnaire["basic_questions"], 3), headers)
    with app.app_context():
        db.session.execute(sa.update(EvaluationRecord).values(
            level_low=None, level_high=None, confidence=None, provisional=None, consistent=None))
        db.session.commit()
    record = client.get(f"/api/evaluation/result/{scored['record_id']}", headers=headers).get_json()["data"]
    assert [record[k] for k in ("level_range", "confidence", "provisional", "consistent")] == [None] * 4
    history = client.get(HISTORY, headers=headers).get_json()["data"]["records"]
    assert history[0]["level_range"] is None and history[0]["total_level"] == scored["total_level"]


def test_the_certainty_is_stored_with_the_record(client, auth, questionnaire):
    headers = auth.headers()
    scored = evaluate(client, BASIC, pick(questionnaire["basic_questions"], 3), headers)
    record = client.get(f"/api/evaluation/result/{scored['record_id']}", headers=headers).get_json()["data"]
    for key in ("level_range", "confidence", "provisional", "consistent"):
        assert record[key] == scored[key]
    assert isinstance(record["provisional"], bool) and isinstance(record["consistent"], bool)


def test_a_partial_or_careless_questionnaire_is_told_so(client, questionnaire):
    """One answer is provisional with a wide range; answers all over the scale are not consistent."""
    one = evaluate(client, FULL, {"Q11": "Q11_A9"})
    assert one["provisional"] and one["level_range"][1] - one["level_range"][0] >= 1.5 and one["confidence"] < 0.9
    basic = questionnaire["basic_questions"]
    zigzag = {q["id"]: q["options"][0 if i % 2 else -1]["id"] for i, q in enumerate(basic)}
    careless = evaluate(client, BASIC, zigzag)
    assert careless["consistent"] is False and "重新作答" in careless["summary_text"]


def test_only_neutral_answers_rate_nobody(client, questionnaire):
    """"No matches this year" says nothing of skill: alone it is no questionnaire to score."""
    response = client.post(FULL, json={"answers": {"Q19": "Q19_A8"}})
    assert response.status_code == 400 and response.get_json() == BAD_ANSWERS


def test_stale_answers_of_an_older_bank_are_dropped(client, questionnaire):
    answers = pick(questionnaire["basic_questions"], 3)
    stale = {"Q_gone": "Q_gone_A1", "Q1": "not-an-option-of-Q1"} | answers
    assert evaluate(client, BASIC, stale) == evaluate(client, BASIC, answers)


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ([1, 2], BAD_JSON),
        ({}, BAD_JSON),
        ({"answers": ["Q1_A0"]}, BAD_JSON),
        ({"answers": {"Q1": 3}}, BAD_JSON),
        ({"answers": {"Q1": ""}}, BAD_JSON),
        ({"answers": {"Q1": "A" * 33}}, BAD_JSON),
        ({"answers": {f"Q{i}": "x" for i in range(201)}}, BAD_JSON),
        ({"answers": {}}, BAD_ANSWERS),
        ({"answers": {"Q404": "Q404_A1"}}, BAD_ANSWERS),
    ],
    ids=["not an object", "no answers", "answers a list", "a number", "empty", "33 chars", "201 pairs",
         "no pair", "nothing fits"],
)
@pytest.mark.parametrize("path", [BASIC, FULL])
def test_bad_answers_are_refused_and_change_nothing(app, client, auth, path, body, expected):
    headers = auth.headers()
    response = client.post(path, json=body, headers=headers)
    assert (response.status_code, response.get_json()) == (expected["code"], expected)
    assert records_stored(app) == 0


def test_a_body_that_is_not_json_is_refused(client):
    response = client.post(BASIC, data=b"\xff{", content_type="application/json")
    assert response.get_json() == BAD_JSON


# --- records carry the whole Result -----------------------------------------------------------


def test_save_keeps_advantages_and_weaknesses(client, auth):
    headers = auth.headers()
    body = record_body(advantages=["forehand"], weaknesses=["backhand", "serve"])
    record_id = client.post("/api/evaluation/save", json=body, headers=headers).get_json()["data"]["record_id"]
    record = client.get(f"/api/evaluation/result/{record_id}", headers=headers).get_json()["data"]
    assert (record["advantages"], record["weaknesses"]) == (["forehand"], ["backhand", "serve"])
    assert record["stage"] == "saved" and record["questions_version"] is None and record["record_id"] == record_id


@pytest.mark.parametrize("field", ["advantages", "weaknesses"])
@pytest.mark.parametrize("value", ["forehand", [1], [""], ["x" * 33], ["d"] * 11])
def test_save_refuses_malformed_lists(app, client, auth, field, value):
    response = client.post("/api/evaluation/save", json=record_body(**{field: value}), headers=auth.headers())
    assert response.get_json() == BAD_ANSWERS
    assert records_stored(app) == 0


# --- concurrency, over real servers ----------------------------------------------------------


@contextmanager
def serving(database_url, fake_wechat, tmp_path):
    """(the base URL, the questionnaire) of a real waitress server on `database_url`."""
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "WECHAT_API_BASE": fake_wechat.base_url,
                "LOG_DIR": str(tmp_path / "logs")}
    with waitress_process(settings) as base:
        yield base, requests.get(base + QUESTIONS, timeout=5).json()["data"]


def signed_in(base, code):
    """The Authorization header of a player logged in at the server `base` with the dev login's `code`."""
    login = requests.post(base + "/api/auth/login", timeout=5, json={
        "code": code, "nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/a.png"})
    return {"Authorization": "Bearer " + login.json()["data"]["token"]}


def test_two_concurrent_fulls_for_one_basic_record_end_with_one_record(database_url, fake_wechat, tmp_path):
    with serving(database_url, fake_wechat, tmp_path) as (base, questionnaire):
        headers = signed_in(base, "racer")
        for trial in range(10):
            basic_answers = pick(questionnaire["basic_questions"], trial % 6)
            requests.post(base + BASIC, json={"answers": basic_answers}, headers=headers, timeout=5)
            body = {"answers": basic_answers | pick(questionnaire["advanced_questions"], trial % 4)}

            def complete():
                return requests.post(base + FULL, json=body, headers=headers, timeout=10).json()["data"]["record_id"]

            first, second = at_once([complete, complete])
            assert first == second is not None
        history = requests.get(base + HISTORY, params={"page_size": 50}, headers=headers, timeout=5).json()["data"]
        assert history["total"] == 10
        assert {r["stage"] for r in history["records"]} == {"full"}


def test_concurrent_fulls_with_no_record_to_complete_are_all_saved(database_url, fake_wechat, tmp_path):
    """On MariaDB, FOR UPDATE over an empty range took gap locks and two INSERTs deadlocked: saves were lost."""
    with serving(database_url, fake_wechat, tmp_path) as (base, questionnaire):
        body = {"answers": pick(questionnaire["basic_questions"] + questionnaire["advanced_questions"], 3)}
        players = [signed_in(base, f"player{n}") for n in range(4)]

        def full(headers):
            return lambda: requests.post(base + FULL, json=body, headers=headers, timeout=10).json()["data"]

        for _ in range(10):
            results = at_once([full(headers) for headers in players])
            assert all(result["saved_to_cloud"] for result in results)
        # One player twice at once, with nothing to complete: one record, both answers naming it.
        twice = at_once([full(players[0]), full(players[0])])
        assert twice[0]["record_id"] == twice[1]["record_id"] is not None
        for headers in players:
            history = requests.get(base + HISTORY, headers=headers, timeout=5).json()["data"]
            assert history["total"] == 1


def test_concurrent_identical_basics_leave_one_record(each_database, fake_wechat, tmp_path):
    """A double tap lands twice at once: on SQLite and on MariaDB, one record, both answers naming it."""
    with serving(each_database, fake_wechat, tmp_path) as (base, questionnaire):
        headers = signed_in(base, "tapper")
        for trial in range(8):
            body = {"answers": pick(questionnaire["basic_questions"], trial % 7)}

            def tap():
                return requests.post(base + BASIC, json=body, headers=headers, timeout=10).json()["data"]

            ids = {result["record_id"] for result in at_once([tap, tap, tap])}
            assert len(ids) == 1 and None not in ids
        history = requests.get(base + HISTORY, params={"page_size": 50}, headers=headers, timeout=5).json()["data"]
        assert history["total"] == 8


def test_two_processes_on_one_sqlite_file_keep_one_sitting_one_record(fake_wechat, tmp_path):
    """docs/deployment.md allows several processes on one SQLite file: a double tap landing on both at once."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate(url)
    settings = {"SQLALCHEMY_DATABASE_URI": url, "WECHAT_API_BASE": fake_wechat.base_url,
                "LOG_DIR": str(tmp_path / "logs")}
    with waitress_process(settings) as first, waitress_process(settings) as second:
        questionnaire = requests.get(first + QUESTIONS, timeout=5).json()["data"]
        headers = signed_in(first, "two-processes")
        for trial in range(8):
            body = {"answers": pick(questionnaire["basic_questions"], trial % 7)}

            def tap(base):
                return lambda: requests.post(base + BASIC, json=body, headers=headers, timeout=10).json()["data"]

            ids = {result["record_id"] for result in at_once([tap(first), tap(second), tap(first), tap(second)])}
            assert len(ids) == 1 and None not in ids
        history = requests.get(second + HISTORY, params={"page_size": 50}, headers=headers, timeout=5).json()["data"]
        assert history["total"] == 8


# --- the shipped client's whole flow ---------------------------------------------------------


def test_the_shipped_clients_flow_over_http(client, auth):
    """version → questions → basic → (need_advanced) full → history: one record, every Result field."""
    headers = auth.headers()
    version = client.get("/api/version").get_json()["data"]["questions_version"]
    config = client.get(QUESTIONS).get_json()["data"]
    assert config["version"] == version
    basic_answers = pick(config["basic_questions"], 5)
    basic = client.post(BASIC, json={"answers": basic_answers}, headers=headers).get_json()["data"]
    assert basic["need_advanced"] is True
    answers = {**basic_answers, **pick(config["advanced_questions"], 4)}
    full = client.post(FULL, json={"answers": answers}, headers=headers).get_json()["data"]

    raw = client.get(HISTORY, query_string={"page": 1, "page_size": 10}, headers=headers).data
    history = json.loads(raw)["data"]
    assert history["total"] == 1
    record = history["records"][0]
    assert set(RESULT_FIELDS) <= set(record) and record["record_id"] == full["record_id"]
    for number in (record["total_level"], record["rounded_level"], *record["dimension_scores"].values()):
        assert isinstance(number, (int, float)) and not isinstance(number, bool)
    # Display order, as the client shows the dimensions in key order: checked on the bytes themselves.
    order = [d["key"] for d in client.get("/api/evaluation/config").get_json()["data"]["dimensions"]]
    scores_text = raw.decode()[raw.decode().index('"dimension_scores"'):]
    positions = [scores_text.index(f'"{key}"') for key in record["dimension_scores"]]
    assert positions == sorted(positions)
    assert list(record["dimension_scores"]) == [k for k in order if k in record["dimension_scores"]]
    assert record["dimension_comments"] and record["summary_text"] and record["level_label"]


REFUSE_UPDATES = {
    "sqlite": "CREATE TRIGGER refuse BEFORE UPDATE ON aiteni_evaluation_record BEGIN SELECT RAISE(ABORT, 'no'); END",
    "mysql": "CREATE TRIGGER refuse BEFORE UPDATE ON aiteni_evaluation_record FOR EACH ROW "
             "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no'",
}


def test_a_failed_save_of_a_resumed_advanced_stage_still_scores_the_basic_answers(app, client, auth, questionnaire):
    """The record to complete is found, then the database refuses the write: the merged result all the same."""
    headers = auth.headers()
    basic_answers, advanced = pick(questionnaire["basic_questions"], 5), pick(questionnaire["advanced_questions"], 4)
    evaluate(client, BASIC, basic_answers, headers)
    with app.app_context():
        db.session.execute(sa.text(REFUSE_UPDATES[db.engine.dialect.name]))
        db.session.commit()
    try:
        resumed = evaluate(client, FULL, advanced, headers)
    finally:
        with app.app_context():
            db.session.execute(sa.text("DROP TRIGGER refuse"))
            db.session.commit()
    assert resumed["saved_to_cloud"] is False and resumed["record_id"] is None
    merged = evaluate(client, FULL, basic_answers | advanced)
    assert (resumed["total_level"], resumed["dimension_scores"]) == (merged["total_level"], merged["dimension_scores"])


def test_a_save_that_fails_still_answers_the_result(app, client, auth, questionnaire, caplog):
    """The account deleted by another process a moment ago (this one still trusts the cached session)."""
    headers = auth.headers()
    assert client.post("/api/auth/verify", headers=headers).status_code == 200
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM aiteni_user"))
        db.session.commit()
    result = evaluate(client, BASIC, pick(questionnaire["basic_questions"], 3), headers)
    assert result["saved_to_cloud"] is False and result["record_id"] is None
    assert any("evaluation not saved" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
