"""PROXY_FIX_X_FOR: behind nginx, limits and logs see the client's IP; without it a forged header changes nothing."""
import sqlalchemy as sa

from aiteni import create_app
from aiteni.extensions import db
from aiteni.models import LoginSession

NGINX = "10.0.0.1"  # the proxy's own address, as the app sees the TCP peer


def make_app(database_url, fake_wechat, tmp_path, **settings):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WECHAT_API_BASE": fake_wechat.base_url,
            "LOG_DIR": str(tmp_path / "logs"),
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_DEFAULT": "2 per minute",
            **settings,
        }
    )


def get_version(client, forwarded_for):
    return client.get(
        "/api/version", headers={"X-Forwarded-For": forwarded_for}, environ_base={"REMOTE_ADDR": NGINX}
    ).status_code


def request_log(tmp_path):
    return next((tmp_path / "logs").glob("info-*.log")).read_text(encoding="utf-8")


def test_without_proxy_fix_a_forged_forwarded_for_changes_nothing(database_url, fake_wechat, tmp_path):
    app = make_app(database_url, fake_wechat, tmp_path)
    client = app.test_client()
    assert [get_version(client, f"198.51.100.{n}") for n in range(3)] == [200, 200, 429]
    assert "ip=198.51.100" not in request_log(tmp_path)
    assert request_log(tmp_path).count("GET /api/version 200") == 2
    assert f"ip={NGINX}" in request_log(tmp_path)
    with app.app_context():
        db.engine.dispose()


def test_behind_one_proxy_the_address_it_appended_is_the_client(database_url, fake_wechat, tmp_path):
    app = make_app(database_url, fake_wechat, tmp_path, PROXY_FIX_X_FOR=1)
    client = app.test_client()
    # nginx appends the peer it saw ($proxy_add_x_forwarded_for); whatever the client wrote before is ignored.
    assert [get_version(client, f"6.6.6.{n}, 203.0.113.7") for n in range(3)] == [200, 200, 429]
    assert get_version(client, "6.6.6.6, 203.0.113.8") == 200
    log = request_log(tmp_path)
    assert "GET /api/version 429" in log and "ip=203.0.113.7" in log and "ip=203.0.113.8" in log
    assert "ip=6.6.6" not in log and f"ip={NGINX}" not in log

    response = client.post(
        "/api/auth/login",
        json={"code": "alice", "nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"},
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": NGINX},
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(LoginSession.client_ip)) == "203.0.113.9"
        db.engine.dispose()
