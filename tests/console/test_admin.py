"""The operators' console (docs/console.md) through Flask's test client: entry, sign-in, each page, each change."""
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aiteni.admin import auth
from aiteni.admin.models import AdminAccount, AdminAudit, AdminSession
from aiteni.extensions import db
from aiteni.models import EvaluationRecord, LoginSession, User, utcnow
from tests.helpers.clients import CONSOLE_PASSWORD, AuthActions, Console, record_body

NOT_FOUND = {"code": 404, "msg": "接口不存在"}


def audit_actions(app):
    with app.app_context():
        return [(e.actor, e.action, e.target) for e in db.session.scalars(sa.select(AdminAudit).order_by(AdminAudit.id))]


def signed_in(console):
    response = console.sign_in()
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    return console


def player(console, code="alice", nickname="张三", records=1):
    """A player who logged in through the API and saved `records` records; (user id, access headers)."""
    api = AuthActions(console.client)
    data = api.login(code, nickname=nickname)
    headers = api.bearer(data["token"])
    for _ in range(records):
        assert console.client.post("/api/evaluation/save", json=record_body(), headers=headers).status_code == 200
    user_id = console.client.get("/api/user/info", headers=headers).get_json()["data"]["id"]
    return user_id, headers


# Entry: off, no account, other networks


def test_the_console_is_off_without_an_account_and_answers_the_apis_404(client):
    for path in ("/admin/", "/admin/login", "/admin/static/console.css"):
        response = client.get(path)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)


def test_on_without_an_enabled_account_it_answers_404(make_app):
    console = Console(make_app(ADMIN_ENABLED=True))
    assert console.client.get("/admin/login").get_json() == NOT_FOUND
    console.create_account()
    assert console.client.get("/admin/login").status_code == 200
    assert console.app.test_cli_runner().invoke(args=["admin", "disable", "ops"]).exit_code == 0
    assert console.client.get("/admin/login").get_json() == NOT_FOUND


def test_outside_the_allowed_networks_it_answers_404(make_app):
    app = make_app(ADMIN_ENABLED=True, ADMIN_ALLOWED_NETWORKS=("10.0.0.0/8",))
    Console(app).create_account()
    assert Console(app, "127.0.0.1").client.get("/admin/login").get_json() == NOT_FOUND
    assert Console(app, "10.1.2.3").client.get("/admin/login").status_code == 200
    assert Console(app, "::ffff:10.1.2.3").client.get("/admin/login").status_code == 200


def test_production_warns_when_any_network_reaches_the_console(make_app, caplog):
    production = {"ENV_NAME": "production", "ADMIN_ENABLED": True, "JWT_SECRET": "k" * 16 + "p" * 16 + "q" * 16}
    with caplog.at_level(logging.WARNING, logger="aiteni.admin"):
        make_app(**production)
        assert "any network can reach it" in caplog.text
        caplog.clear()
        make_app(**production, ADMIN_ALLOWED_NETWORKS=("127.0.0.1/32",))
        assert "any network" not in caplog.text
        make_app(**production, ADMIN_ALLOWED_NETWORKS=("0.0.0.0/0",))
        assert "any network can reach it" in caplog.text


# Accounts: the command line only


def test_accounts_are_made_on_the_command_line_with_an_argon2id_hash(console):
    runner = console.app.test_cli_runner()
    with console.app.app_context():
        stored = db.session.scalar(sa.select(AdminAccount.password_hash))
    assert stored.startswith("$argon2id$") and CONSOLE_PASSWORD not in stored
    short = runner.invoke(args=["admin", "create", "short", "--password-stdin"], input="elevenchars\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    twice = runner.invoke(args=["admin", "create", "ops", "--password-stdin"], input=CONSOLE_PASSWORD + "\n")
    assert twice.exit_code == 1 and "exists already" in twice.output
    prompted = runner.invoke(args=["admin", "create", "ann"], input="a long password 1\na long password 1\n")
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(args=["admin", "list"]).output
    assert "ops\tenabled" in listed and "ann\tenabled" in listed and "$argon2" not in listed
    assert ("cli", "account_created", "ops") in audit_actions(console.app)


def test_there_is_no_web_page_that_makes_or_changes_an_account(console):
    signed_in(console)
    rules = [rule.rule for rule in console.app.url_map.iter_rules() if rule.rule.startswith("/admin")]
    assert not [rule for rule in rules if "account" in rule or "password" in rule]


# Sign-in, lockout, sessions


def test_sign_in_opens_a_session_cookie_with_its_flags(console):
    page = console.client.get("/admin/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/admin/login")
    response = console.sign_in()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain http in development; production: see below
    overview = console.client.get("/admin/")
    assert overview.status_code == 200 and "概览" in overview.get_data(as_text=True)
    assert "script-src" not in overview.headers["Content-Security-Policy"]  # default-src 'none': no script runs
    assert overview.headers["X-Frame-Options"] == "DENY"


def test_in_production_the_cookie_is_secure(make_app):
    console = Console(make_app(ADMIN_ENABLED=True, ENV_NAME="production"))
    console.create_account()
    assert "Secure" in console.sign_in().headers["Set-Cookie"]


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(console):
    wrong, unknown = console.sign_in(password="not the password!"), console.sign_in(name="nobody")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "用户名或密码错误" in response.get_data(as_text=True)
    assert console.client.get("/admin/").status_code == 302
    assert [a for _, a, _ in audit_actions(console.app)].count("login_failed") == 2


def test_five_failures_lock_the_account_for_15_minutes(console):
    for _ in range(auth.ACCOUNT_FAILURES):
        assert console.sign_in(password="not the password!").status_code == 401
    locked = console.sign_in()
    assert locked.status_code == 401 and auth.LOCKED in locked.get_data(as_text=True)
    assert ("ops", "account_locked", "ops") in audit_actions(console.app)
    assert console.app.test_cli_runner().invoke(args=["admin", "enable", "ops"]).exit_code == 0  # lifts it
    assert console.sign_in().status_code == 302
    for _ in range(auth.ACCOUNT_FAILURES):
        console.sign_in(password="not the password!")
    assert auth.LOCKED in console.sign_in().get_data(as_text=True)
    with console.app.app_context():
        account = db.session.scalar(sa.select(AdminAccount))
        account.locked_until = utcnow() - timedelta(seconds=1)  # 15 minutes later
        db.session.commit()
    assert console.sign_in().status_code == 302


def test_twenty_failures_lock_the_address_for_every_name(console):
    for n in range(auth.ADDRESS_FAILURES):
        console.sign_in(name=f"guess{n}")
    assert auth.LOCKED in console.sign_in().get_data(as_text=True)
    assert Console(console.app, "192.0.2.7").sign_in().status_code == 302  # another address signs in


def test_an_address_stays_locked_for_15_minutes_after_its_twentieth_failure(console):
    """The lock counted the failures of the last 15 minutes, and a locked attempt adds none: once the oldest
    aged out, the address could guess again, seconds after its twentieth failure."""
    for n in range(auth.ADDRESS_FAILURES):
        console.sign_in(name=f"guess{n}")
    with console.app.app_context():
        first = db.session.scalar(sa.select(sa.func.min(AdminAudit.id)).where(AdminAudit.action == "login_failed"))
        db.session.execute(sa.update(AdminAudit).where(AdminAudit.id == first)
                           .values(created_at=utcnow() - auth.LOCK - timedelta(seconds=1)))
        db.session.commit()
    assert auth.LOCKED in console.sign_in().get_data(as_text=True)
    with console.app.app_context():
        db.session.execute(sa.update(AdminAudit).values(created_at=utcnow() - auth.LOCK - timedelta(seconds=1)))
        db.session.commit()
    assert console.sign_in().status_code == 302


def test_sign_out_ends_the_session_on_the_server(console):
    signed_in(console)
    copy = console.client.get_cookie("aiteni_console", path="/admin").value
    console.post("/admin/logout")
    thief = Console(console.app)
    thief.client.set_cookie("aiteni_console", copy, path="/admin")
    assert thief.client.get("/admin/").status_code == 302


def test_sessions_end_after_30_idle_minutes_and_after_12_hours(console):
    signed_in(console)

    def age(**columns):
        with console.app.app_context():
            db.session.execute(sa.update(AdminSession).values(**columns))
            db.session.commit()

    age(last_seen_at=utcnow() - timedelta(minutes=29))
    assert console.client.get("/admin/").status_code == 200
    age(last_seen_at=utcnow() - timedelta(minutes=31))
    assert console.client.get("/admin/").status_code == 302
    signed_in(console)
    age(created_at=utcnow() - timedelta(hours=12, minutes=1), last_seen_at=utcnow())
    assert console.client.get("/admin/").status_code == 302


def test_disabling_an_account_or_changing_its_password_ends_its_sessions(console):
    runner = console.app.test_cli_runner()
    signed_in(console)
    assert runner.invoke(args=["admin", "password", "ops", "--password-stdin"], input="another password 2\n").exit_code == 0
    assert console.client.get("/admin/").status_code == 302
    assert console.sign_in(password="another password 2").status_code == 302
    assert runner.invoke(args=["admin", "disable", "ops"]).exit_code == 0
    assert console.client.get("/admin/").get_json() == NOT_FOUND  # no enabled account left: off


def test_jwts_and_console_sessions_are_never_interchangeable(console):
    _, headers = player(console)
    assert console.client.get("/admin/", headers=headers).status_code == 302  # a player's JWT: signed out
    signed_in(console)
    cookie = console.client.get_cookie("aiteni_console", path="/admin").value
    api = console.app.test_client()
    assert api.get("/api/user/info", headers={"Cookie": f"aiteni_console={cookie}"}).status_code == 401
    assert api.get("/api/user/info", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401


def test_a_form_without_its_csrf_token_changes_nothing(console):
    user_id, headers = player(console)
    signed_in(console)
    for path, data in [(f"/admin/players/{user_id}/delete", {"confirm": str(user_id)}),
                       (f"/admin/players/{user_id}/revoke", {}), ("/admin/logout", {})]:
        for token in ({}, {"csrf_token": "forged"}):
            response = console.client.post(path, data={**data, **token})
            assert response.status_code == 400 and "未做任何更改" in response.get_data(as_text=True)
    assert console.client.get("/api/user/info", headers=headers).status_code == 200
    assert console.client.get("/admin/").status_code == 200
    login = Console(console.app).client.post("/admin/login", data={"name": "ops", "password": CONSOLE_PASSWORD})
    assert login.status_code == 400


# Pages


def test_the_overview_counts_players_evaluations_and_latest_levels(console):
    player(console, "alice", records=2)
    player(console, "bob", records=1)
    with console.app.app_context():
        latest = db.session.scalar(sa.select(EvaluationRecord).order_by(EvaluationRecord.id.desc()))
        latest.rounded_level = 5.0  # bob's latest; alice's stays 3.5
        db.session.commit()
    signed_in(console)
    page = console.client.get("/admin/").get_data(as_text=True)
    assert page.count("<svg") == 3
    assert '<b>2</b>用户总数' in page and '<b>3</b>评测记录' in page and '<b>3</b>今日评测' in page
    assert "<tr><td>3.5</td><td>1</td></tr>" in page and "<tr><td>5.0</td><td>1</td></tr>" in page
    assert "尚未获取" in page and "最新" in page


def test_search_finds_players_by_nickname_openid_phone_and_id(console):
    alice, _ = player(console, "alice", nickname="网球小王")
    bob, headers = player(console, "bob", nickname="Bob")
    console.client.post("/api/user/update", json={"phone": "13912345678"}, headers=headers)
    signed_in(console)

    def found(text):
        page = console.client.get("/admin/players", query_string={"q": text}).get_data(as_text=True)
        return {user for user in (alice, bob) if f'href="/admin/players/{user}"' in page}

    assert found("小王") == {alice}
    assert found("o_bob") == {bob}
    assert found("1391234") == {bob}
    assert found(str(bob)) == {bob}  # (alice is 1, a prefix of every phone number)
    assert found("%") == set()  # a LIKE wildcard is a character like any other
    assert found("") == {alice, bob}


def test_player_texts_are_shown_escaped(console):
    user_id, headers = player(console, nickname="<script>alert(1)</script>")
    comment = {"dimension_comments": {"forehand": "<img src=x onerror=alert(2)>"}}
    console.client.post("/api/evaluation/save", json=record_body(**comment), headers=headers)
    signed_in(console)
    for path in ("/admin/players?q=script", f"/admin/players/{user_id}", "/admin/records"):
        page = console.client.get(path).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
    page = console.client.get(f"/admin/players/{user_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_a_players_page_shows_records_as_the_result_and_sessions(console):
    user_id, _ = player(console, records=1)
    signed_in(console)
    page = console.client.get(f"/admin/players/{user_id}").get_data(as_text=True)
    assert "NTRP 3.5" in page and "发展中业余选手" in page and "正手已经是你的核心武器" in page
    assert "正手" in page and "底线综合" in page  # dimension names from the bank, not keys
    assert "有效" in page  # the login session
    assert console.client.get("/admin/players/999999").get_json() == NOT_FOUND


def test_an_expired_login_session_is_shown_expired_not_valid(console):
    """The state column said 有效 beside an expiry in the past."""
    user_id, _ = player(console, records=0)
    with console.app.app_context():
        db.session.execute(sa.update(LoginSession).values(expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    signed_in(console)
    page = console.client.get(f"/admin/players/{user_id}").get_data(as_text=True)
    assert "已过期" in page and "有效" not in page


def test_a_record_shows_how_sure_it_was_and_old_answers_by_their_ids(console):
    """The card says the range and a provisional result; answers of another bank are not read in today's."""
    user_id, headers = player(console, records=0)
    scored = console.client.post("/api/evaluation/basic", json={"answers": {"Q1": "Q1_A5"}}, headers=headers)
    record_id = scored.get_json()["data"]["record_id"]
    signed_in(console)
    page = console.client.get(f"/admin/records/{record_id}").get_data(as_text=True)
    low, high = scored.get_json()["data"]["level_range"]
    assert f"范围 {low:.1f}–{high:.1f}" in page and "暂定" in page and "中速对拉" in page
    with console.app.app_context():
        db.session.execute(sa.update(EvaluationRecord).values(questions_version="2.0.0"))
        db.session.commit()
    page = console.client.get(f"/admin/records/{record_id}").get_data(as_text=True)
    assert "Q1_A5" in page and "中速对拉" not in page


def test_revoking_a_players_sessions_logs_them_out_and_is_audited(console):
    user_id, headers = player(console)
    signed_in(console)
    response = console.post(f"/admin/players/{user_id}/revoke", page=f"/admin/players/{user_id}")
    assert response.status_code == 302
    assert console.client.get("/api/user/info", headers=headers).status_code == 401
    assert ("ops", "sessions_revoked", str(user_id)) in audit_actions(console.app)


def test_deleting_a_player_needs_the_confirmation_and_deletes_everything(console):
    user_id, headers = player(console, records=3)
    other, _ = player(console, "bob")
    signed_in(console)
    page = f"/admin/players/{user_id}/delete"
    assert "3 条评测记录" in console.client.get(page).get_data(as_text=True)
    wrong = console.post(page, {"confirm": str(other)}, page=page)
    assert wrong.status_code == 200 and "未删除" in wrong.get_data(as_text=True)
    assert console.client.get("/api/user/info", headers=headers).status_code == 200
    assert console.post(page, {"confirm": str(user_id)}, page=page).status_code == 302
    assert console.client.get("/api/user/info", headers=headers).status_code == 401
    with console.app.app_context():
        assert db.session.get(User, user_id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EvaluationRecord)
                                 .where(EvaluationRecord.user_id == user_id)) == 0
        entry = db.session.scalar(sa.select(AdminAudit).where(AdminAudit.action == "player_deleted"))
        assert (entry.actor, entry.target, entry.detail, entry.address) == ("ops", str(user_id), "records=3", "127.0.0.1")
    audit = console.client.get("/admin/audit").get_data(as_text=True)
    assert "删除用户" in audit and f"<td>{user_id}</td>" in audit


def test_records_filter_by_date_level_stage_version_and_player(console):
    alice, _ = player(console, "alice", records=2)
    bob, _ = player(console, "bob", records=1)
    answers = {"answers": {"Q1": "Q1_A3"}}
    alice_headers = AuthActions(console.client).headers("alice")
    console.client.post("/api/evaluation/basic", json=answers, headers=alice_headers)
    signed_in(console)

    def ids(**query):
        page = console.client.get("/admin/records", query_string=query).get_data(as_text=True)
        with console.app.app_context():
            every = db.session.scalars(sa.select(EvaluationRecord.id)).all()
        return {n for n in every if f'href="/admin/records/{n}"' in page}

    assert len(ids()) == 4
    assert len(ids(stage="saved")) == 3 and len(ids(stage="basic")) == 1
    assert len(ids(player=bob)) == 1
    assert ids(level_min="4.0") == ids(stage="basic") - ids(level_max="3.9")
    today = (utcnow() + timedelta(hours=8)).date()
    assert len(ids(since=today.isoformat(), until=today.isoformat())) == 4
    assert ids(until=(today - timedelta(days=1)).isoformat()) == set()
    with console.app.app_context():
        version = db.session.scalar(sa.select(EvaluationRecord.questions_version).where(EvaluationRecord.stage == "basic"))
    assert ids(version=version) == ids(stage="basic")
    record_id = min(ids(player=alice))
    assert "NTRP 3.5" in console.client.get(f"/admin/records/{record_id}").get_data(as_text=True)


def test_the_question_bank_page_shows_the_bank_and_its_calibration(console, app):
    from aiteni.evaluation import check, current_bank

    signed_in(console)
    page = console.client.get("/admin/questions").get_data(as_text=True)
    with console.app.app_context():
        bank = current_bank()
        low, high = check.reachable(bank, "full")
    assert f"版本 {bank.version}" in page and f"full：可达 {low:.1f}–{high:.1f}" in page
    first = bank.tier("basic")[0]
    assert first.text in page and first.options[0].text in page
    assert "各项性质均满足" in page and "随机作答判为不一致" in page and "中立" in page


def test_the_export_downloads_the_commands_csv_and_is_audited(console):
    player(console, nickname="=HYPERLINK()", records=2)
    signed_in(console)
    response = console.post("/admin/export", {"format": "csv"}, page="/admin/export")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode()) and body.decode("utf-8-sig").count("\n") == 3
    assert "'=HYPERLINK()" in body.decode("utf-8-sig")
    jsonl = console.post("/admin/export", {"format": "jsonl", "since": "2999-01-01"}, page="/admin/export")
    assert jsonl.get_data() == b""
    assert [a for _, a, _ in audit_actions(console.app)].count("export") == 2


def test_every_page_answers_for_a_signed_in_operator(console):
    user_id, _ = player(console)
    signed_in(console)
    for path in ("/admin/", "/admin/players", f"/admin/players/{user_id}", f"/admin/players/{user_id}/delete",
                 "/admin/records", "/admin/questions", "/admin/export", "/admin/audit", "/admin/static/console.css"):
        assert console.client.get(path).status_code == 200, path


def test_long_lists_come_in_pages_of_50(console):
    user_id, headers = player(console, records=55)
    signed_in(console)
    first = console.client.get(f"/admin/records?player={user_id}").get_data(as_text=True)
    assert first.count('href="/admin/records/') == 50
    following = re.search(r'href="(/admin/records\?[^"]*before=\d+[^"]*)">下一页', first).group(1)
    second = console.client.get(following.replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('href="/admin/records/') == 5 and "下一页" not in second
    for n in range(55):
        console.post(f"/admin/players/{user_id}/revoke", page="/admin/export")  # 55 audit entries
    audit = console.client.get("/admin/audit").get_data(as_text=True)
    assert audit.count("注销用户会话") == 50 and "下一页" in audit


def test_the_overview_shows_todays_error_log_lines_as_text(console):
    import time
    from pathlib import Path

    directory = Path(console.app.config["LOG_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"2026-12-06 10:00:0{n} ERROR [aiteni.errors] 500 服务器内部错误 at x: <b>boom {n}</b>" for n in range(3)]
    (directory / f"error-{time.strftime('%Y-%m-%d')}.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    signed_in(console)
    page = console.client.get("/admin/").get_data(as_text=True)
    assert "3 行" in page and "&lt;b&gt;boom 2&lt;/b&gt;" in page and "<b>boom" not in page


def test_the_overview_counts_every_processs_error_log_of_the_day(console):
    """A second process on one LOG_DIR writes error-<day>.<pid>.log (logdir.file_suffix): its lines went uncounted."""
    import time
    from pathlib import Path

    directory = Path(console.app.config["LOG_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    day = time.strftime("%Y-%m-%d")
    (directory / f"error-{day}.log").write_text("2026-12-06 10:00:00 ERROR first\n", encoding="utf-8")
    (directory / f"error-{day}.4242.log").write_text("2026-12-06 10:00:01 ERROR second\n", encoding="utf-8")
    (directory / f"info-{day}.4242.log").write_text("2026-12-06 10:00:01 INFO not an error\n", encoding="utf-8")
    signed_in(console)
    page = console.client.get("/admin/").get_data(as_text=True)
    assert "2 行" in page and "ERROR second" in page and "not an error" not in page


def test_a_filter_no_index_serves_looks_at_one_window_of_records_a_page(console, monkeypatch):
    """A stage that matches nothing read the whole table: two minutes at a million records."""
    from aiteni.admin import records

    monkeypatch.setattr(records, "WINDOW", 3)
    alice, headers = player(console, records=0)
    console.client.post("/api/evaluation/basic", json={"answers": {"Q1": "Q1_A3"}}, headers=headers)
    for _ in range(5):
        console.client.post("/api/evaluation/save", json=record_body(), headers=headers)
    with console.app.app_context():
        basic, *_, newest = db.session.scalars(sa.select(EvaluationRecord.id).order_by(EvaluationRecord.id)).all()
    floor = newest + 1 - 3
    signed_in(console)
    first = console.client.get("/admin/records?stage=basic").get_data(as_text=True)
    assert f'href="/admin/records/{basic}"' not in first and f"编号 {floor} 及以后" in first
    assert f"before={floor}" in first and "继续向前查找" in first
    second = console.client.get(f"/admin/records?stage=basic&before={floor}").get_data(as_text=True)
    assert f'href="/admin/records/{basic}"' in second
    # A player's records have their index: no window.
    mine = console.client.get(f"/admin/records?stage=basic&player={alice}").get_data(as_text=True)
    assert f'href="/admin/records/{basic}"' in mine and "及以后" not in mine


@pytest.mark.parametrize("path", ["/admin/players?q=²", "/admin/records?before=²", "/admin/records?player=²"])
def test_a_digit_that_is_no_number_is_no_id(console, path):
    """"²".isdigit() is true and int("²") raises: the console answered 500."""
    signed_in(console)
    assert console.client.get(path).status_code == 200


def test_the_api_opens_no_console_session(console):
    """Outside /admin/ no cookie is read, signed or set: the API keeps no session."""
    response = console.client.get("/api/health")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    with console.app.test_request_context("/api/health"):
        from flask import session

        assert session.__class__.__name__ == "NullSession"
