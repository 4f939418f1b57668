"""What a Windows self-hoster writes and installs (issue 24): settings files with BOMs, in UTF-16 or GBK,
unreadable, Windows paths in quotes; a LOG_DIR that cannot be made; MySQL 8's login."""
import codecs
import os
from pathlib import Path

import pytest

import config
from aiteni import ConfigError, create_app
from tests.fakes.mysql import Ed25519OnlyServer
from tests.helpers.wsgi_process import clean_env, run
from tests.serving.test_start import SERVE, UPGRADE, fresh_clone

def write(tmp_path, name, data):
    (tmp_path / "instance").mkdir(exist_ok=True)
    (tmp_path / name).write_bytes(data)


def refusal(tmp_path):
    with pytest.raises(config.SettingError) as error:
        config.load({}, tmp_path)
    return str(error.value)


def lines(name, settings):
    """`settings` as that file writes them."""
    if name == ".env":
        return "".join(f"{key}={value}\n" for key, value in settings.items())
    return "".join(f"{key} = {value!r}\n" for key, value in settings.items())


@pytest.mark.parametrize("name", [".env", "instance/config.py"])
def test_a_utf8_bom_is_accepted(tmp_path, name):
    """Notepad and PowerShell 5.1's Set-Content -Encoding UTF8 write one: .env's first setting was lost."""
    write(tmp_path, name, codecs.BOM_UTF8 + lines(name, {"PORT": "9001", "LOG_DIR": "日志"}).encode())
    values, notes = config.load({}, tmp_path)
    assert (values["PORT"], values["LOG_DIR"], notes) == (9001, "日志", [])


@pytest.mark.parametrize("name", [".env", "instance/config.py"])
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf16_file_is_refused_in_one_line(tmp_path, name, encoding):
    """PowerShell 5.1's `>` writes UTF-16 (with a BOM; -le: without): a UnicodeDecodeError traceback."""
    write(tmp_path, name, lines(name, {"PORT": "9001"}).encode(encoding))
    assert refusal(tmp_path) == (
        f"{name} is saved as UTF-16 (PowerShell 5.1's > writes it): "
        f"save it as UTF-8 (PowerShell: (Get-Content {name}) | Set-Content -Encoding UTF8 {name})"
    )


@pytest.mark.parametrize("name", [".env", "instance/config.py"])
def test_a_gbk_file_is_refused_naming_the_line(tmp_path, name):
    write(tmp_path, name, (lines(name, {"PORT": "9001"}) + "# 本地开发\n").encode("gbk"))
    assert refusal(tmp_path).startswith(f"{name} line 2 is not UTF-8 (GBK or another code page?): save it as UTF-8")


def unreadable(path):
    """Makes `path` a file that exists but cannot be read, even by root (who reads any file chmod 000 leaves)."""
    path.write_text("PORT=9001\n", encoding="utf-8")
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        return
    mem = Path("/proc/self/mem")  # a regular file whose read fails
    if os.name != "posix" or not mem.is_file():
        pytest.skip("no file here that this user cannot read")
    path.unlink()
    path.symlink_to(mem)


@pytest.mark.parametrize("name", [".env", "instance/config.py"])
def test_an_unreadable_file_is_refused_in_one_line(tmp_path, name):
    """The documented icacls recipe and a non-elevated shell: PermissionError, or a StopIteration at config.py."""
    (tmp_path / "instance").mkdir()
    unreadable(tmp_path / name)
    message = refusal(tmp_path)
    assert message.startswith(f"{name} cannot be read (") and message.endswith(
        "): give the account aiteni runs as read access to it")


@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
@pytest.mark.parametrize("name, hint", [
    (".env", "in double quotes a backslash starts an escape: write LOG_DIR='D:\\aiteni\\logs' (single quotes) "
             "or D:/aiteni/logs"),
    ("instance/config.py", "in a Python string a backslash starts an escape: write LOG_DIR = r\"D:\\aiteni\\logs\" "
                           "or \"D:/aiteni/logs\""),
])
def test_a_windows_path_turned_into_a_control_character_is_refused(tmp_path, name, hint):
    """`LOG_DIR="D:\\aiteni\\logs"` held BEL (\\a): no log folder, nothing logged, the server ran on."""
    write(tmp_path, name, b'LOG_DIR = "D:\\aiteni\\logs"\n' if name != ".env" else b'LOG_DIR="D:\\aiteni\\logs"\n')
    assert refusal(tmp_path) == f"LOG_DIR='D:\\x07iteni\\\\logs' (in {name}) holds a control character: {hint}"


def test_a_windows_path_in_single_quotes_or_unquoted_is_kept_as_written(tmp_path):
    write(tmp_path, ".env", b"LOG_DIR='D:\\aiteni\\logs'\nQUESTIONS_FILE=D:\\aiteni\\bank.toml\n")
    values, _ = config.load({}, tmp_path)
    assert (values["LOG_DIR"], values["QUESTIONS_FILE"]) == ("D:\\aiteni\\logs", "D:\\aiteni\\bank.toml")


def test_a_secret_with_a_control_character_is_not_shown(tmp_path):
    write(tmp_path, ".env", b'JWT_SECRET="abc\\tdef-not-shown"\n')
    assert refusal(tmp_path).startswith("JWT_SECRET=*** (in .env) holds a control character")


def test_names_in_env_that_are_no_setting_are_reported_like_instance_configs(tmp_path):
    """`DATABSE_URL`, `PORTT` in .env were silently ignored."""
    write(tmp_path, ".env", b"DATABSE_URL=sqlite://\nPORTT=9000\nFLASK_DEBUG=0\n")
    _, notes = config.load({}, tmp_path)
    assert notes == [
        ".env: DATABSE_URL is not a setting and is ignored (did you mean DATABASE_URL?)",
        ".env: PORTT is not a setting and is ignored (did you mean PORT?)",
    ]


@pytest.mark.parametrize("url, windows, problem", [
    ("sqlite:////C:/data/aiteni.db", True,
     "DATABASE_URL sqlite:////C:/data/aiteni.db: on Windows the drive letter follows three slashes: "
     "write sqlite:///C:/data/aiteni.db"),
    ("sqlite:///C:/data/aiteni.db", True, None),
    ("sqlite:///C:\\data\\aiteni.db", True, None),
    ("sqlite:////srv/aiteni/aiteni.db", True, None),
    ("sqlite:////C:/data/aiteni.db", False, None),  # a folder named "C:" is a valid POSIX path
])
def test_the_posix_absolute_sqlite_form_with_a_drive_letter_is_refused_on_windows(url, windows, problem):
    assert config.database_problem(url, windows=windows) == problem


def test_log_dir_is_created_at_start(tmp_path, database_url):
    logs = tmp_path / "deep" / "logs"
    create_app({"SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": str(logs)})
    assert logs.is_dir()


def test_a_log_dir_that_cannot_be_made_stops_the_start(tmp_path, database_url):
    (tmp_path / "taken").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": str(tmp_path / "taken" / "logs")})
    assert str(error.value).startswith(f"LOG_DIR {tmp_path / 'taken' / 'logs'}: cannot write log files there (")


@pytest.mark.parametrize("data", [".env in UTF-16", "LOG_DIR in double quotes"])
def test_python_wsgi_py_refuses_a_windows_settings_file_in_one_line(tmp_path, data):
    clone = fresh_clone(tmp_path)
    body = "LOG_DIR=logs\n".encode("utf-16") if data == ".env in UTF-16" else b'LOG_DIR="D:\\aiteni\\logs"\n'
    (clone / ".env").write_bytes(body)
    done = run(SERVE, clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}"), cwd=clone)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("aiteni refuses to start: ") and "Traceback" not in done.stderr


def test_the_driver_can_log_in_to_mysql_8():
    """MySQL 8's default login, caching_sha2_password, needs `cryptography` (requirements.txt)."""
    from pymysql import _auth

    assert _auth._have_cryptography


@pytest.mark.parametrize("command", [SERVE, UPGRADE], ids=["python wsgi.py", "flask db upgrade"])
def test_a_login_method_the_driver_cannot_do_stops_the_start_in_one_line(tmp_path, command):
    """PyMySQL raises a RuntimeError, not a database error, for a login it lacks a package for: a traceback."""
    server = Ed25519OnlyServer()
    try:
        url = f"mysql+pymysql://aiteni:pw-never-shown@127.0.0.1:{server.port}/aiteni?charset=utf8mb4"
        done = run(command, clean_env(DATABASE_URL=url, LOG_DIR=tmp_path / "logs"))
    finally:
        server.stop()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"aiteni refuses to start: DATABASE_URL: cannot log in to 127.0.0.1:{server.port}: 'pynacl' package is "
        "required for ed25519_password auth method; install it into aiteni's .venv "
        "(pip install -r requirements.txt installs cryptography)"
    ]


def test_the_flask_command_names_env_as_where_a_bad_value_was_written(tmp_path):
    """`flask` copies .env into the environment: the refusal must still send the operator to .env."""
    clone = fresh_clone(tmp_path)
    (clone / ".env").write_bytes(b'LOG_DIR="D:\\aiteni\\logs"\n')
    done = run(UPGRADE, clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}"), cwd=clone)
    assert done.returncode == 1
    assert done.stderr.startswith("aiteni refuses to start: LOG_DIR='D:\\x07iteni\\\\logs' (in .env) holds a control")
