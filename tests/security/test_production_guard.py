"""A production server refuses to start on a weak secret, without WeChat credentials, or with dev login on."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "AITENI_ENV": "production",
    "JWT_SECRET": "k3Jx9-production-secret-of-40-bytes-0000",
    "WECHAT_APPID": "wx1234567890abcdef",
    "WECHAT_APPSECRET": "0123456789abcdef0123456789abcdef",
    "SECRET_KEY": "",
    "WECHAT_DEV_LOGIN": "0",
}
SETTINGS = ("AITENI_ENV", "JWT_", "SECRET_KEY", "WECHAT_", "API_DOCS", "DATABASE_URL", "LOG_DIR")


def run(tmp_path, args, **settings):
    """Runs Python in the repo with exactly these settings.

    "Unset" is an empty value rather than a missing one, so a developer's .env cannot fill it in.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS)}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'guard.db'}", LOG_DIR=str(tmp_path / "logs"), PORT="0")
    env.update({**GOOD, **settings})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, encoding="utf-8", timeout=60,
        stdin=subprocess.DEVNULL,
    )


REFUSALS = {
    "no JWT_SECRET nor SECRET_KEY": ({"JWT_SECRET": ""}, "JWT_SECRET is not set"),
    "31-byte JWT_SECRET": ({"JWT_SECRET": "x" * 31}, "JWT_SECRET is too weak"),
    "placeholder change-me": ({"JWT_SECRET": "change-me"}, "JWT_SECRET is too weak"),
    "weak SECRET_KEY standing in": ({"JWT_SECRET": "", "SECRET_KEY": "secret"}, "JWT_SECRET is too weak"),
    "no WECHAT_APPID": ({"WECHAT_APPID": ""}, "WECHAT_APPID and WECHAT_APPSECRET must be set"),
    "empty WECHAT_APPSECRET": ({"WECHAT_APPSECRET": ""}, "WECHAT_APPID and WECHAT_APPSECRET must be set"),
    "dev login 1": ({"WECHAT_DEV_LOGIN": "1"}, "WECHAT_DEV_LOGIN must be off in production"),
    "dev login true": ({"WECHAT_DEV_LOGIN": "true"}, "WECHAT_DEV_LOGIN must be off in production"),
}


@pytest.mark.parametrize("settings, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_python_wsgi_py_refuses_with_a_one_line_reason(tmp_path, settings, reason):
    done = run(tmp_path, ["wsgi.py"], **settings)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("aiteni refuses to start: ") and reason in lines[0]
    for secret in (settings.get("JWT_SECRET"), settings.get("SECRET_KEY"), GOOD["WECHAT_APPSECRET"]):
        assert not secret or len(secret) < 8 or secret not in done.stderr


@pytest.mark.parametrize("settings, reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_create_app_raises_config_error(tmp_path, settings, reason):
    code = (
        "from aiteni import ConfigError, create_app\n"
        "try:\n    create_app()\nexcept ConfigError as error:\n    print(error)\nelse:\n    print('STARTED')\n"
    )
    done = run(tmp_path, ["-c", code], **settings)
    assert done.returncode == 0, done.stderr
    assert reason in done.stdout and "STARTED" not in done.stdout


def test_good_production_settings_start(tmp_path):
    done = run(tmp_path, ["-c", "import wsgi; print(wsgi.app.config['ENV_NAME'])"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "production"


def test_config_passed_to_create_app_cannot_sneak_past_the_guard(tmp_path):
    code = (
        "from aiteni import ConfigError, create_app\n"
        "try:\n    create_app({'WECHAT_DEV_LOGIN': True})\nexcept ConfigError as error:\n    print(error)\n"
    )
    assert "WECHAT_DEV_LOGIN must be off" in run(tmp_path, ["-c", code]).stdout
