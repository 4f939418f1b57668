"""Starting as a self-hoster does: `python wsgi.py` and `flask --app wsgi` with bad settings, a busy port,
a fresh clone configured only through instance/config.py, and `flask` commands without alembic's chatter."""
import secrets
import shutil
import socket
from contextlib import contextmanager

import pytest
import requests
import sqlalchemy as sa

from tests.helpers.database import BOTH_DATABASES
from tests.helpers.mariadb import server_url
from tests.helpers.wsgi_process import ROOT, clean_env, flask, open_files, run, wsgi_server

SERVE = ["wsgi.py"]
UPGRADE = ["-m", "flask", "--app", "wsgi", "db", "upgrade"]


MARIADB = server_url()

BAD = {
    "AITENI_ENV=prod": ({"AITENI_ENV": "prod"}, "AITENI_ENV='prod' (in the environment) must be one of"),
    "PORT=80a": ({"PORT": "80a"}, "PORT='80a' (in the environment) must be a whole number"),
    "JWT_EXPIRATION_DAYS=7 days": ({"JWT_EXPIRATION_DAYS": "7 days"}, "JWT_EXPIRATION_DAYS='7 days' (in the environment)"),
    "mysql:// without a driver": (
        {"DATABASE_URL": "mysql://aiteni:pw@127.0.0.1:3306/aiteni?charset=utf8mb4"},
        "DATABASE_URL mysql://aiteni:***@127.0.0.1:3306/aiteni?charset=utf8mb4 names no driver",
    ),
    "MySQL without charset=utf8mb4": (
        {"DATABASE_URL": "mysql+pymysql://aiteni:pw@127.0.0.1:3306/aiteni"}, "lacks charset=utf8mb4",
    ),
    "a MariaDB database that does not exist": pytest.param(
        {"DATABASE_URL": MARIADB.set(database="aiteni_missing").render_as_string(hide_password=False)},
        f"database aiteni_missing does not exist on {MARIADB.host}:{MARIADB.port or 3306}; create it",
        marks=pytest.mark.services,
    ),
    "a SQLite folder that does not exist": (
        {"DATABASE_URL": "sqlite:///{tmp}/no-such-folder/aiteni.db"}, "cannot open the SQLite file",
    ),
}


@pytest.mark.parametrize("command", [SERVE, UPGRADE], ids=["python wsgi.py", "flask db upgrade"])
@pytest.mark.parametrize("settings, message", BAD.values(), ids=BAD.keys())
def test_a_bad_setting_stops_the_start_with_one_line(tmp_path, command, settings, message):
    settings = {name: value.format(tmp=tmp_path) for name, value in settings.items()}
    env = clean_env(**{"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "LOG_DIR": tmp_path / "logs", **settings})
    done = run(command, env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith("aiteni refuses to start: ") and message in done.stderr
    assert ":pw@" not in done.stderr


def test_a_port_in_use_stops_python_wsgi_py_with_one_line(tmp_path, database_url):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = run(SERVE, clean_env(DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs", PORT=port))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"aiteni refuses to start: PORT {port} on 127.0.0.1 is already in use: stop the other server or set PORT to a free one"
    ]


def test_too_few_open_files_for_connection_limit_stops_python_wsgi_py_with_one_line(tmp_path, database_url):
    pytest.importorskip("resource", reason="open-file limits are POSIX only")
    env = clean_env(DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs", PORT=0)
    done = run(SERVE, env, preexec_fn=open_files(256, 256))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "aiteni refuses to start: CONNECTION_LIMIT=1000 needs 1064 open files, this process may open 256: "
        "lower CONNECTION_LIMIT or raise the limit (ulimit -n, systemd LimitNOFILE=)"
    ]


def test_flask_commands_print_no_alembic_chatter(tmp_path):
    """`setup plugin alembic.autogenerate...` and `Context impl SQLiteImpl.` on every command, and in the info log."""
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOG_DIR=tmp_path / "logs")
    runs = [flask("--help", env=env), flask("db", "upgrade", env=env), flask("sessions", "purge", env=env)]
    assert [done.returncode for done in runs] == [0, 0, 0]
    said = "".join(done.stdout + done.stderr for done in runs)
    info_log = next((tmp_path / "logs").glob("info-*.log")).read_text(encoding="utf-8")
    for text in (said, info_log):
        assert "setup plugin" not in text and "Context impl" not in text and "Will assume" not in text
    assert "Running upgrade 5b1e2c9a7f40 -> " in runs[1].stderr  # the steps still show
    assert runs[2].stdout == "purged 0 sessions\n"


@contextmanager
def empty_mariadb_database():
    """A new database on the suite's MariaDB server, never migrated; dropped afterwards. Yields its URL."""
    admin = sa.create_engine(server_url())
    url = server_url().set(database=f"aiteni_fresh_{secrets.token_hex(4)}")
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {url.database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {url.database}")
        admin.dispose()


@pytest.fixture(params=BOTH_DATABASES)
def fresh_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        with empty_mariadb_database() as url:
            yield url


def fresh_clone(tmp_path):
    """The files a clone serves from, copied: what runs is the working tree's code, away from its instance/."""
    clone = tmp_path / "clone"
    for name in ("aiteni", "migrations"):
        shutil.copytree(ROOT / name, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("config.py", "wsgi.py"):
        shutil.copy(ROOT / name, clone / name)
    (clone / "instance").mkdir()
    return clone


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def test_a_fresh_clone_configured_only_by_instance_config_runs_in_production(tmp_path, fresh_database):
    """Today PORT, DATABASE_URL and AITENI_ENV in instance/config.py are silently ignored."""
    clone, port, logs = fresh_clone(tmp_path), free_port(), tmp_path / "logs"
    (clone / "instance" / "config.py").write_text(
        f'AITENI_ENV = "production"\n'
        f"DATABASE_URL = {fresh_database!r}\n"
        f'JWT_SECRET = "{secrets.token_urlsafe(48)}"\n'
        f'WECHAT_APPID = "wx-fresh-clone"\n'
        f'WECHAT_APPSECRET = "{secrets.token_hex(16)}"\n'
        f"PORT = {port}\n"
        f"THREADS = 4\n"
        f"LOG_DIR = {str(logs)!r}\n"
        f'DATABSE_URL = "sqlite://"\n',
        encoding="utf-8",
    )
    env = clean_env()
    upgraded = flask("db", "upgrade", env=env, cwd=clone)
    assert upgraded.returncode == 0, upgraded.stderr
    with wsgi_server(env, cwd=clone) as server:
        assert server.base_url == f"http://127.0.0.1:{port}"
        health = requests.get(f"{server.base_url}/api/health", timeout=5)
        assert health.json() == {"code": 200, "msg": "ok", "data": {"database": "ok"}}
        assert requests.get(f"{server.base_url}/api/docs", timeout=5).status_code == 404  # production
    warning = "instance/config.py: DATABSE_URL is not a setting and is ignored (did you mean DATABASE_URL?)"
    assert any(line.endswith(warning) for line in server.stderr())
    assert "GET /api/health 200" in next(logs.glob("info-*.log")).read_text(encoding="utf-8")
    assert not (clone / "instance" / "aiteni.db").exists()


@pytest.mark.parametrize("mode", ["production", "development"])
def test_copying_env_example_is_refused_in_every_mode(tmp_path, mode):
    """The placeholder JWT_SECRET that .env.example ships stops the start (development started with it)."""
    clone = fresh_clone(tmp_path)
    shutil.copy(ROOT / ".env.example", clone / ".env")
    env = clean_env(AITENI_ENV=mode, WECHAT_APPID="wx-prod", WECHAT_APPSECRET=secrets.token_hex(16),
                    DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOG_DIR=tmp_path / "logs")
    done = run(SERVE, env, cwd=clone)
    assert done.returncode == 1
    assert done.stderr.startswith("aiteni refuses to start: JWT_SECRET is too weak (a placeholder)")
