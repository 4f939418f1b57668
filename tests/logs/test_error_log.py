"""What an operator finds in error-YYYY-MM-DD.log: one line with its cause per 5xx and per configuration fault."""
import shutil

import pytest
from werkzeug.exceptions import ServiceUnavailable

from aiteni import create_app, wechat
from aiteni.extensions import db
from tests.helpers.database import migrate

PROFILE = {"nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}


def error_lines(tmp_path):
    return [
        line
        for path in (tmp_path / "logs").glob("error-*.log")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def login(client, code="the-code"):
    return client.post("/api/auth/login", json={"code": code, **PROFILE})


def assert_no_secret(app, lines):
    text = "\n".join(lines)
    assert app.config["WECHAT_APPSECRET"] not in text
    assert "the-code" not in text and "sessionkey" not in text


def test_unreachable_wechat_is_one_error_line_with_its_cause(app, client, tmp_path):
    app.config.update(WECHAT_API_BASE="http://127.0.0.1:9")
    wechat.init_app(app)
    assert login(client).status_code == 502
    [line] = error_lines(tmp_path)
    assert "502 微信服务暂不可用，请稍后再试" in line and "auth.login" in line and "ConnectionError" in line
    assert_no_secret(app, [line])


def test_wechat_busy_through_every_retry_is_one_line_not_one_per_try(app, client, fake_wechat, tmp_path):
    fake_wechat.reply(*[{"errcode": -1, "errmsg": "system error, rid: 77-1"}] * 3)
    assert login(client).status_code == 503
    assert len(fake_wechat.calls) == 3
    [line] = error_lines(tmp_path)
    assert "503 微信服务繁忙，请稍后再试" in line and "errcode -1" in line and "rid=77-1" in line


@pytest.mark.parametrize("errcode", [40013, 40125])
def test_wechat_refusing_our_credentials_is_logged(app, client, fake_wechat, tmp_path, errcode):
    fake_wechat.reply({"errcode": errcode, "errmsg": "invalid appsecret, rid: 5-6"})
    assert login(client).get_json()["msg"] == "小程序配置错误，请联系管理员"
    [line] = error_lines(tmp_path)
    assert "400 小程序配置错误" in line and f"errcode {errcode}" in line and "rid=5-6" in line
    # Login is where a wrong AppID or AppSecret shows first: the line says which setting to fix.
    assert wechat.HINTS[errcode] in line
    assert_no_secret(app, [line])


def test_missing_credentials_are_logged(app, client, fake_wechat, tmp_path):
    app.config.update(WECHAT_APPSECRET="")
    wechat.init_app(app)
    assert login(client).status_code == 400
    [line] = error_lines(tmp_path)
    assert "小程序配置错误" in line and "not configured" in line
    assert fake_wechat.calls == []


def test_text_from_wechat_cannot_add_a_line(app, client, fake_wechat, tmp_path):
    fake_wechat.reply({"errcode": "1\n2024-01-01 00:00:00,000 ERROR [aiteni.errors] forged", "errmsg": "x"})
    assert login(client).status_code == 502
    [line] = error_lines(tmp_path)
    assert "forged" in line


def test_a_client_error_writes_nothing_there(app, client, fake_wechat, tmp_path):
    fake_wechat.reply({"errcode": 40029, "errmsg": "invalid code"})
    assert login(client).status_code == 400
    assert error_lines(tmp_path) == []


def test_health_with_the_database_gone_is_logged_with_its_cause(tmp_path):
    url = f"sqlite:///{tmp_path / 'data' / 'aiteni.db'}"
    (tmp_path / "data").mkdir()
    migrate(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_DIR": str(tmp_path / "logs")})
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(tmp_path / "data")  # the next connection finds no database file, nor its folder
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    [line] = error_lines(tmp_path)
    assert "503 服务暂不可用" in line and "service.health" in line and "unable to open database file" in line


def test_a_5xx_raised_as_an_http_exception_is_logged(app, client, tmp_path):
    def maintenance():
        raise ServiceUnavailable("backup running")

    app.add_url_rule("/api/maintenance", view_func=maintenance)
    assert client.get("/api/maintenance").status_code == 503
    [line] = error_lines(tmp_path)
    assert "503 服务暂不可用" in line and "backup running" in line
