"""PROXY_FIX_X_FOR through a real `python wsgi.py` (waitress), and `waitress-serve` with the documented flag:
behind nginx each client has its own address in limits, logs and sessions; with no proxy trusted a forged
header changes nothing."""
import re

import pytest
import requests
import sqlalchemy as sa

from tests.helpers.wsgi_process import clean_env, wsgi_server


PROFILE = {"nickName": "张三", "avatarUrl": "https://mmbiz.qpic.cn/a.png"}
# What docs/deployment.md (Behind nginx) tells `waitress-serve` users to add to its line.
WAITRESS_SERVE = ("-m", "waitress", "--listen=127.0.0.1:0", "--no-clear-untrusted-proxy-headers", "wsgi:app")


def serve(database_url, tmp_path, args=("wsgi.py",), **settings):
    env = clean_env(
        DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs", PORT=0, RATELIMIT_DEFAULT="2 per minute",
        RATELIMIT_LOGIN="2 per minute", WECHAT_DEV_LOGIN=1, **settings,
    )
    return wsgi_server(env, args=args)


def version(server, forwarded_for):
    return requests.get(f"{server.base_url}/api/version", headers={"X-Forwarded-For": forwarded_for}, timeout=5)


def login(server, code, forwarded_for):
    return requests.post(f"{server.base_url}/api/auth/login", json={"code": code, **PROFILE},
                         headers={"X-Forwarded-For": forwarded_for}, timeout=5)


def logged_addresses(tmp_path):
    """The `ip=` of every request line, in order."""
    log = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "logs").glob("info-*.log"))
    return re.findall(r" ip=(\S+)", log)


def session_ips(database_url):
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        ips = connection.scalars(sa.text("SELECT client_ip FROM aiteni_login_session ORDER BY client_ip")).all()
    engine.dispose()
    return ips


@pytest.mark.parametrize("args", [("wsgi.py",), WAITRESS_SERVE], ids=["python wsgi.py", "waitress-serve"])
def test_behind_nginx_each_client_has_its_own_budget_log_address_and_session(database_url, tmp_path, args):
    # nginx appends the peer it saw ($proxy_add_x_forwarded_for): the last entry is the client.
    with serve(database_url, tmp_path, args, PROXY_FIX_X_FOR=1) as server:
        answers = [version(server, f"6.6.6.{n}, 203.0.113.{n}").status_code for n in range(1, 11)]
        again = [version(server, "203.0.113.1").status_code for _ in range(2)]
        logins = [login(server, f"player{n}", f"203.0.113.{n}").status_code for n in range(20, 24)]
    assert answers == [200] * 10  # ten clients, ten budgets of two
    assert again == [200, 429]  # the first client's budget: its third request
    assert logins == [200] * 4
    assert logged_addresses(tmp_path) == [f"203.0.113.{n}" for n in [*range(1, 11), 1, 1, *range(20, 24)]]
    assert session_ips(database_url) == [f"203.0.113.{n}" for n in range(20, 24)]


@pytest.mark.parametrize("forged", ["198.51.100.7", "198.51.100.7, 198.51.100.8"])
def test_with_no_proxy_trusted_a_forged_forwarded_for_changes_nothing(database_url, tmp_path, forged):
    with serve(database_url, tmp_path) as server:
        answers = [version(server, f"{forged}{n}").status_code for n in range(3)]
        logged_in = login(server, "mallory", forged).status_code
    assert answers == [200, 200, 429]  # one budget: the TCP peer's
    assert logged_in == 200
    assert logged_addresses(tmp_path) == ["127.0.0.1"] * 4
    assert session_ips(database_url) == ["127.0.0.1"]
