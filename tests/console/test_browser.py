"""The console in a real browser: Debian's Chromium driven by Playwright, against a waitress server.

Marked `browser` (apt-get install chromium fonts-noto-cjk; .ci/run does). Each
page's screenshot is kept under the test run's temporary directory
(console-screenshots/), to look at.
"""
import random
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from aiteni.extensions import db
from aiteni.models import EvaluationRecord, User, utcnow
from tests.helpers.clients import CONSOLE_PASSWORD, AuthActions, record_body
from tests.helpers.servers import waitress_process

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright's own browser download is not reachable here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A browser set to Chinese, as the operators' are (date inputs, for one, follow it)."""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    return tmp_path_factory.mktemp("console-screenshots", numbered=False)


@pytest.fixture
def server(console, database_url, fake_wechat, tmp_path):
    """A waitress process serving the console on the test's database; `console` made its account."""
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "WECHAT_API_BASE": fake_wechat.base_url,
                "LOG_DIR": str(tmp_path / "server-logs"), "ADMIN_ENABLED": True}
    with waitress_process(settings, threads=4) as url:
        yield url


def make_player(console, code, nickname, records=2):
    api = AuthActions(console.client)
    headers = api.bearer(api.login(code, nickname=nickname)["token"])
    for _ in range(records):
        console.client.post("/api/evaluation/save", json=record_body(), headers=headers)
    console.client.post("/api/evaluation/basic", json={"answers": {"Q1": "Q1_A3", "Q2": "Q2_A2"}}, headers=headers)
    return console.client.get("/api/user/info", headers=headers).get_json()["data"]["id"], headers


def past_month(console, players=60):
    """Players who came over the last 30 days, each with a few records of their level: charts with a shape."""
    rng, now = random.Random(23), utcnow()
    with console.app.app_context():
        for n in range(players):
            joined = now - timedelta(days=rng.uniform(0, 29), hours=rng.uniform(0, 8))
            user = User(wechat_openid=f"o_month{n}", wechat_nickname=f"球友{n}", created_at=joined)
            db.session.add(user)
            db.session.flush()
            level = min(7.0, max(1.0, round(rng.gauss(3.5, 0.8) * 2) / 2))
            db.session.execute(sa.insert(EvaluationRecord), [
                {"user_id": user.id, "total_level": level, "rounded_level": level, "level_label": "业余选手",
                 "dimension_scores": {"forehand": level}, "dimension_comments": {}, "summary_text": "",
                 "answers": {}, "stage": "saved", "created_at": joined + timedelta(days=rng.uniform(0, 1))}
                for _ in range(rng.randint(1, 4))
            ])
        db.session.commit()


def sign_in(page, server, password=CONSOLE_PASSWORD):
    page.goto(f"{server}/admin/login")
    page.get_by_label("用户名").fill("ops")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_sign_in_and_every_page(page, server, console, screenshots):
    past_month(console)
    user_id, _ = make_player(console, "alice", "网球小王")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.screenshot(path=screenshots / "login.png")
    sign_in(page, server)
    expect(page.get_by_role("heading", name=re.compile("概览"))).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(3)
    page.screenshot(path=screenshots / "overview.png", full_page=True)
    for link, heading, name in [("用户", "用户", "players"), ("评测记录", "评测记录", "records"),
                                ("题库", "题库", "questions"), ("导出", "导出评测记录", "export"), ("审计", "审计日志", "audit")]:
        page.get_by_role("navigation").get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", name=re.compile(heading)).first).to_be_visible()
        page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    page.goto(f"{server}/admin/players/{user_id}")
    expect(page.get_by_text("NTRP 3.5").first).to_be_visible()
    page.screenshot(path=screenshots / "player.png", full_page=True)
    page.get_by_role("link", name=re.compile("^记录 ")).first.click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^记录 "))).to_be_visible()
    page.screenshot(path=screenshots / "record.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{server}/admin/")
    page.screenshot(path=screenshots / "overview-phone.png", full_page=True)
    with page.expect_download() as download:
        page.goto(f"{server}/admin/export")
        page.get_by_role("button", name="下载").click()
    assert download.value.suggested_filename.endswith(".csv")


def test_lockout_after_five_wrong_passwords(page, server, screenshots):
    for _ in range(5):
        sign_in(page, server, password="not the password!")
        expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")
    sign_in(page, server)
    expect(page.get_by_role("alert")).to_have_text(re.compile("登录已锁定"))
    page.screenshot(path=screenshots / "locked.png")


def test_search_then_delete_with_confirmation_and_audit(page, server, console, screenshots):
    user_id, headers = make_player(console, "carol", "删除我")
    make_player(console, "dave", "留下我")
    sign_in(page, server)
    page.get_by_role("navigation").get_by_role("link", name="用户", exact=True).click()
    page.get_by_label("搜索用户").fill("删除")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_role("link", name="留下我")).to_have_count(0)
    page.get_by_role("link", name="删除我").click()
    page.get_by_role("link", name=re.compile("删除用户及全部数据")).click()
    page.screenshot(path=screenshots / "delete-confirmation.png")
    page.get_by_label(re.compile("请输入用户编号")).fill("0")
    page.get_by_role("button", name="永久删除").click()
    expect(page.get_by_role("status")).to_have_text("确认编号不符，未删除")
    page.get_by_label(re.compile("请输入用户编号")).fill(str(user_id))
    page.get_by_role("button", name="永久删除").click()
    expect(page.get_by_role("status")).to_have_text(f"用户 {user_id} 及其全部数据已删除")
    assert console.client.get("/api/user/info", headers=headers).status_code == 401
    page.get_by_role("navigation").get_by_role("link", name="审计").click()
    row = page.get_by_role("row").filter(has_text="删除用户")
    expect(row).to_contain_text(str(user_id))
    expect(row).to_contain_text("ops")
    page.screenshot(path=screenshots / "audit-after-delete.png", full_page=True)


def test_a_script_nickname_is_shown_as_text(page, server, console):
    nickname = "<script>alert(1)</script>"
    user_id, _ = make_player(console, "mallory", nickname)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server)
    page.goto(f"{server}/admin/players/{user_id}")
    expect(page.locator("h1 .nick")).to_have_text(nickname)
    page.goto(f"{server}/admin/players?q=script")
    expect(page.get_by_role("link", name=nickname)).to_be_visible()
    assert dialogs == []


def test_a_form_without_its_csrf_token_is_refused(page, server, console, screenshots):
    user_id, headers = make_player(console, "erin", "Erin")
    sign_in(page, server)
    page.goto(f"{server}/admin/players/{user_id}")
    page.locator(f'form[action="/admin/players/{user_id}/revoke"] input[name="csrf_token"]').evaluate("e => e.remove()")
    page.get_by_role("button", name="注销全部登录会话").click()
    expect(page.get_by_role("alert")).to_contain_text("未做任何更改")
    page.screenshot(path=screenshots / "csrf-refused.png")
    assert console.client.get("/api/user/info", headers=headers).status_code == 200
