"""IDOR: no endpoint lets one user read, change or delete another user's data."""
from .hostile import RECORD

NOT_FOUND = {"code": 404, "msg": "记录不存在"}


def two_users(client, auth):
    alice, mallory = auth.headers("alice"), auth.headers("mallory")
    record_id = client.post("/api/evaluation/save", json=RECORD, headers=alice).get_json()["data"]["record_id"]
    return alice, mallory, record_id


def test_another_users_record_is_not_found(client, auth):
    alice, mallory, record_id = two_users(client, auth)
    for path in (f"/api/evaluation/result/{record_id}", f"/api/evaluation/result/{record_id}/"):
        response = client.get(path, headers=mallory)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    assert client.get(f"/api/evaluation/result/{record_id}", headers=alice).status_code == 200


def test_another_users_record_cannot_be_deleted(client, auth):
    alice, mallory, record_id = two_users(client, auth)
    response = client.delete(f"/api/evaluation/delete/{record_id}", headers=mallory)
    assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    assert client.get(f"/api/evaluation/result/{record_id}", headers=alice).get_json()["data"]["id"] == record_id


def test_missing_and_foreign_records_are_indistinguishable(client, auth):
    _, mallory, record_id = two_users(client, auth)
    foreign = client.get(f"/api/evaluation/result/{record_id}", headers=mallory)
    missing = client.get(f"/api/evaluation/result/{record_id + 1000}", headers=mallory)
    assert (foreign.status_code, foreign.data) == (missing.status_code, missing.data) == (404, missing.data)
    assert missing.get_json() == NOT_FOUND


def test_history_shows_only_the_callers_records(client, auth):
    alice, mallory, _ = two_users(client, auth)
    data = client.get("/api/evaluation/history", headers=mallory).get_json()["data"]
    assert (data["total"], data["records"]) == (0, [])
    for query in ("?user_id=1", "?uid=1&page=1", "?userId=1"):
        assert client.get(f"/api/evaluation/history{query}", headers=mallory).get_json()["data"]["total"] == 0
    assert client.get("/api/evaluation/history", headers=alice).get_json()["data"]["total"] == 1


def test_ids_in_bodies_do_not_choose_the_user(client, auth):
    alice_login = auth.login("alice")
    alice = auth.bearer(alice_login["token"])
    mallory = auth.headers("mallory", nickname="马洛里")
    alice_id = alice_login["userInfo"]["id"]
    hostile = {"id": alice_id, "userId": alice_id, "user_id": alice_id, "nickName": "被改了"}
    assert client.post("/api/user/update", json=hostile, headers=mallory).status_code == 200
    assert client.get("/api/user/info", headers=alice).get_json()["data"]["nickName"] == "张三"
    assert client.get("/api/user/info", headers=mallory).get_json()["data"]["nickName"] == "被改了"

    hostile_record = {**RECORD, "user_id": alice_id, "userId": alice_id}
    saved = client.post("/api/evaluation/save", json=hostile_record, headers=mallory)
    assert saved.status_code == 200
    assert client.get("/api/evaluation/history", headers=alice).get_json()["data"]["total"] == 0


def test_logout_all_and_account_deletion_touch_only_the_caller(client, auth):
    alice, mallory, record_id = two_users(client, auth)
    assert client.post("/api/auth/logout", json={"all": True, "userId": 1}, headers=mallory).status_code == 200
    assert client.get("/api/user/info", headers=alice).status_code == 200
    mallory = auth.headers("mallory")
    assert client.delete("/api/user", json={"id": 1}, headers=mallory).status_code == 200
    assert client.get(f"/api/evaluation/result/{record_id}", headers=alice).status_code == 200
