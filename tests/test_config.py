"""Settings: the production guard in create_app (tests/security/test_production_guard.py runs it as a server)."""
import pytest

from aiteni import ConfigError, create_app

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


def test_jwt_secret_defaults_to_a_secret_key_set_after_the_environment(database_url):
    """instance/config.py or create_app's `config` may set only SECRET_KEY (API.md: JWT_SECRET defaults to it)."""
    settings = {**GOOD, "JWT_SECRET": None, "SECRET_KEY": STRONG, "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app({**settings, "LOG_DIR": None})
    assert app.config["JWT_SECRET_KEY"] == STRONG


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"JWT_SECRET": "", "SECRET_KEY": ""}, "JWT_SECRET is not set"),
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


def test_a_wechat_api_base_that_is_not_a_url_stops_the_start(database_url):
    settings = {"WECHAT_API_BASE": "api.weixin.qq.com", "WECHAT_APPSECRET": "s3cr3t-never-shown"}
    with pytest.raises(ConfigError, match="WECHAT_API_BASE is not a URL") as error:
        create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": None})
    assert "s3cr3t-never-shown" not in str(error.value)
