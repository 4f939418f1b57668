"""Settings: the production guard and the layering of configuration."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aiteni import ConfigError, create_app

ROOT = Path(__file__).resolve().parent.parent
STRONG = "s3cure-" + "x" * 40
GOOD = {
    "ENV_NAME": "production",
    "JWT_SECRET": STRONG,
    "WECHAT_APPID": "wx123",
    "WECHAT_APPSECRET": "real-secret",
    "WECHAT_DEV_LOGIN": False,
}


def test_production_starts_with_good_settings(database_url):
    app = create_app({**GOOD, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": None})
    assert app.config["JWT_SECRET_KEY"] == STRONG


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"JWT_SECRET": ""}, "JWT_SECRET is not set"),
        ({"JWT_SECRET": "short-secret"}, "JWT_SECRET is too weak"),
        ({"JWT_SECRET": "change-me"}, "JWT_SECRET is too weak"),
        ({"WECHAT_APPID": ""}, "WECHAT_APPID and WECHAT_APPSECRET must be set"),
        ({"WECHAT_APPSECRET": ""}, "WECHAT_APPID and WECHAT_APPSECRET must be set"),
        ({"WECHAT_DEV_LOGIN": True}, "WECHAT_DEV_LOGIN must be off in production"),
    ],
)
def test_production_refuses_weak_settings(database_url, override, reason):
    with pytest.raises(ConfigError, match=reason):
        create_app({**GOOD, **override, "SQLALCHEMY_DATABASE_URI": database_url})


def run_wsgi(env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "JWT_", "SECRET_"))}
    env.update(AITENI_ENV="production", LOG_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_server_refuses_with_one_line(tmp_path):
    result = run_wsgi({"WECHAT_APPID": "wx1", "WECHAT_APPSECRET": "s"}, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "aiteni refuses to start: JWT_SECRET is not set"


def test_production_server_refuses_the_dev_secret_default(tmp_path):
    """SECRET_KEY unset means a random per-process key: tokens would die at every restart."""
    result = run_wsgi({"WECHAT_APPID": "wx1", "WECHAT_APPSECRET": "s", "SECRET_KEY": ""}, tmp_path)
    assert "JWT_SECRET is not set" in result.stderr


def test_production_server_starts_with_good_environment(tmp_path):
    result = run_wsgi({"WECHAT_APPID": "wx1", "WECHAT_APPSECRET": "s", "JWT_SECRET": STRONG}, tmp_path)
    assert result.returncode == 0, result.stderr



def test_a_wechat_api_base_that_is_not_a_url_stops_the_start(database_url):
    settings = {"WECHAT_API_BASE": "api.weixin.qq.com", "WECHAT_APPSECRET": "s3cr3t-never-shown"}
    with pytest.raises(ConfigError, match="WECHAT_API_BASE is not a URL") as error:
        create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": None})
    assert "s3cr3t-never-shown" not in str(error.value)
