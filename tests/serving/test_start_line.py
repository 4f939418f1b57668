"""What `python wsgi.py` and `flask --app wsgi db upgrade` say (issue 21): one line on what runs, the
options, never a password, and an upgrade with nothing to do."""
import socket

import pytest
import requests

from aiteni.models import SCHEMA_REVISION
from tests.helpers.wsgi_process import clean_env, run, wsgi_server

SERVE = ["wsgi.py"]
UPGRADE = ["-m", "flask", "--app", "wsgi", "db", "upgrade"]


def closed_port():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def test_one_line_says_the_version_mode_database_dev_login_and_docs(tmp_path):
    port = closed_port()
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOG_DIR=tmp_path / "logs", PORT=port,
                    WECHAT_DEV_LOGIN=1)
    with wsgi_server(env) as server:
        requests.get(f"{server.base_url}/api/version", timeout=5)  # serving: the line is out
    said = [line for line in server.stderr() if "aiteni 1." in line]
    assert len(said) == 1 and said[0].endswith(
        f"aiteni 1.1.0 (development): database sqlite:///{tmp_path / 'a.db'}, dev login on, "
        f"docs http://127.0.0.1:{port}/api/docs"
    )


@pytest.mark.parametrize("password", ["Tail99#x/y:z", "Tail99%23x%2Fy%3Az%40w"], ids=["# / :", "percent-encoded"])
def test_a_password_that_works_is_never_shown(tmp_path, password):
    """MariaDB is at a closed port: the server starts, says the database is unavailable, shows no password."""
    url = f"mysql+pymysql://aiteni:{password}@127.0.0.1:{closed_port()}/aiteni?charset=utf8mb4"
    env = clean_env(DATABASE_URL=url, LOG_DIR=tmp_path / "logs", PORT=0)
    with wsgi_server(env) as server:
        requests.get(f"{server.base_url}/api/version", timeout=5)
    said = "\n".join(server.stderr())
    logs = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "logs").glob("*.log"))
    assert "database mysql+pymysql://aiteni:***@127.0.0.1:" in said
    for text in (said, logs):
        assert "Tail99" not in text and "x/y" not in text


@pytest.mark.parametrize("command", [SERVE, UPGRADE], ids=["python wsgi.py", "flask db upgrade"])
@pytest.mark.parametrize("password", ["Pa@ss#Tail99", "p@ss/word"])
def test_a_password_with_an_at_sign_is_refused_without_showing_any_part(tmp_path, command, password):
    """Reported as "database unavailable ... server on 'ss#Tail99@127.0.0.1'", in stderr and the error log."""
    url = f"mysql+pymysql://aiteni:{password}@127.0.0.1:{closed_port()}/aiteni?charset=utf8mb4"
    done = run(command, clean_env(DATABASE_URL=url, LOG_DIR=tmp_path / "logs"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "aiteni refuses to start: DATABASE_URL: its user name or password holds an @: percent-encode it "
        "(@ as %40; also # as %23, / as %2F, : as %3A, % as %25), "
        "e.g. python -c \"import urllib.parse; print(urllib.parse.quote(input(), safe=''))\""
    ]
    logs = "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "logs").glob("*.log"))
    after_the_at = password.partition("@")[2]
    assert after_the_at not in done.stderr and after_the_at not in logs


def test_port_and_host_on_the_command_line_win(tmp_path):
    port = closed_port()
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOG_DIR=tmp_path / "logs", PORT=1)
    with wsgi_server(env, args=[*SERVE, "--port", str(port), "--host", "127.0.0.1"]) as server:
        assert server.base_url == f"http://127.0.0.1:{port}"


def test_help_lists_the_options_whatever_the_settings(tmp_path):
    done = run([*SERVE, "--help"], clean_env(PORT="not a port"))
    assert done.returncode == 0
    assert "--host HOST" in done.stdout and "--port PORT" in done.stdout and done.stderr == ""


@pytest.mark.parametrize("args, message", [
    (["--portt", "9000"], "unrecognized arguments: --portt 9000"),
    (["9000"], "unrecognized arguments: 9000"),
    (["--port", "http"], "argument --port: 'http' must be a whole number from 0 to 65535"),
])
def test_an_unknown_or_bad_argument_is_refused_in_one_line(tmp_path, args, message):
    """`python wsgi.py --port 9000` was silently ignored, and so was anything else."""
    done = run([*SERVE, *args], clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOG_DIR=tmp_path / "logs"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"aiteni refuses to start: {message} (python wsgi.py --help lists the options)"
    ]


def test_a_second_db_upgrade_says_the_database_is_already_at_the_latest_revision(tmp_path):
    """It printed nothing at all."""
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOG_DIR=tmp_path / "logs")
    first, second = (run(UPGRADE, env) for _ in range(2))
    assert first.returncode == second.returncode == 0
    assert "Nothing to upgrade" not in first.stderr and "Running upgrade" not in second.stderr
    assert second.stderr.strip().endswith(
        f"Nothing to upgrade: the database is already at the latest revision, {SCHEMA_REVISION}.")


@pytest.mark.parametrize("command", ["current", "check"])
def test_other_db_commands_at_the_latest_revision_say_nothing_of_upgrading(tmp_path, command):
    """`db current` and `db check` run the same migration environment: they printed "Nothing to upgrade" too."""
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOG_DIR=tmp_path / "logs")
    assert run(UPGRADE, env).returncode == 0
    done = run([*UPGRADE[:-1], command], env)
    assert done.returncode == 0, done.stderr
    assert "Nothing to upgrade" not in done.stdout + done.stderr
