"""Settings: one table read alike from instance/config.py, the environment and .env, and the production guard.

tests/security/test_production_guard.py runs the guard as a server; tests/serving/test_start.py runs
`python wsgi.py` and `flask` with bad settings and from a fresh clone.
"""
import secrets
from pathlib import Path

import pytest

import config
from aiteni import ConfigError, create_app

ROOT = Path(__file__).resolve().parents[2]
STRONG = secrets.token_urlsafe(48)
GOOD = {
    "ENV_NAME": "production",
    "JWT_SECRET": STRONG,
    "WECHAT_APPID": "wx123",
    "WECHAT_APPSECRET": "real-secret",
    "WECHAT_DEV_LOGIN": False,
}

# A valid value other than the default for every setting, as text and as instance/config.py would hold it.
SAMPLES = {
    "AITENI_ENV": ("production", "production"),
    "DATABASE_URL": ("mysql+pymysql://u:p@db:3306/a?charset=utf8mb4",) * 2,
    "SECRET_KEY": ("k" * 10,) * 2,
    "JWT_SECRET": ("j" * 10,) * 2,
    "JWT_EXPIRATION_DAYS": ("3", 3),
    "REFRESH_EXPIRATION_DAYS": ("14", 14),
    "SESSION_MAX_DAYS": ("60", 60),
    "SESSION_CACHE_SECONDS": ("0.5", 0.5),
    "WECHAT_APPID": ("wx0123456789",) * 2,
    "WECHAT_APPSECRET": ("s" * 32,) * 2,
    "WECHAT_API_BASE": ("http://127.0.0.1:9",) * 2,
    "WECHAT_TIMEOUT": ("4.5", 4.5),
    "WECHAT_CONCURRENCY": ("2", 2),
    "WECHAT_PROXY": ("http://proxy.internal:3128",) * 2,
    "WECHAT_DEV_LOGIN": ("yes", True),
    "WECHAT_ENV_VERSION": ("develop",) * 2,
    "LOG_DIR": ("/var/log/aiteni",) * 2,
    "LOG_LEVEL": ("warning", "WARNING"),
    "QUESTIONS_FILE": ("/etc/aiteni/bank.toml",) * 2,
    "QUESTIONS_VERSION": ("9",) * 2,
    "RATELIMIT_ENABLED": ("off", False),
    "RATELIMIT_STORAGE_URI": ("redis://127.0.0.1:6379/0",) * 2,
    "RATELIMIT_LOGIN": ("5 per minute",) * 2,
    "RATELIMIT_REFRESH": ("6 per minute",) * 2,
    "RATELIMIT_WRITE": ("7/second; 100/hour",) * 2,
    "RATELIMIT_EVALUATION": ("8 per minute",) * 2,
    "RATELIMIT_QRCODE": ("3 per minute",) * 2,
    "RATELIMIT_DEFAULT": ("9 per second",) * 2,
    "PROXY_FIX_X_FOR": ("2", 2),
    "API_DOCS": ("1", True),
    "ADMIN_ENABLED": ("1", True),
    "ADMIN_ALLOWED_NETWORKS": ("10.0.0.0/8, 127.0.0.1", ("10.0.0.0/8", "127.0.0.1/32")),
    "HOST": ("0.0.0.0",) * 2,
    "PORT": ("9001", 9001),
    "THREADS": ("16", 16),
    "CONNECTION_LIMIT": ("300", 300),
    "CHANNEL_TIMEOUT": ("15", 15),
}


def load(tmp_path, environ=None, dotenv=None, instance=None):
    """config.load() on a directory of its own: these environment variables, .env lines, instance/config.py text."""
    (tmp_path / "instance").mkdir(parents=True, exist_ok=True)
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    if instance is not None:
        (tmp_path / "instance" / "config.py").write_text(instance, encoding="utf-8")
    return config.load(environ or {}, tmp_path)


def test_the_samples_cover_every_setting():
    assert SAMPLES.keys() == {setting.name for setting in config.SETTINGS}


def test_env_example_lists_every_setting_and_nothing_else():
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    names = [line.partition("=")[0] for line in lines if line and not line.startswith("#")]
    assert sorted(names) == sorted(setting.name for setting in config.SETTINGS)


def test_every_setting_reads_the_same_from_the_environment_env_and_instance_config(tmp_path):
    """Today instance/config.py's PORT = 9001, DATABASE_URL, AITENI_ENV were silently ignored."""
    from_environment, _ = load(tmp_path / "a", environ={name: raw for name, (raw, _) in SAMPLES.items()})
    from_dotenv, _ = load(tmp_path / "b", dotenv="".join(f"{name}={raw}\n" for name, (raw, _) in SAMPLES.items()))
    instance = "".join(f"{name} = {value!r}\n" for name, (_, value) in SAMPLES.items())
    from_instance, unknown = load(tmp_path / "c", instance=instance)
    assert unknown == []
    for setting in config.SETTINGS:
        key, (_, value) = setting.config_key, SAMPLES[setting.name]
        assert from_environment[key] == from_dotenv[key] == from_instance[key] == value, setting.name


def test_instance_config_wins_over_the_environment_which_wins_over_env(tmp_path):
    values, _ = load(
        tmp_path,
        environ={"PORT": "9002", "THREADS": "3"},
        dotenv="PORT=9003\nTHREADS=4\nCHANNEL_TIMEOUT=5\n",
        instance="PORT = 9001\n",
    )
    assert (values["PORT"], values["THREADS"], values["CHANNEL_TIMEOUT"]) == (9001, 3, 5)


def test_an_empty_value_means_the_default_and_hides_env(tmp_path):
    values, _ = load(tmp_path, environ={"PORT": "", "AITENI_ENV": ""}, dotenv="PORT=9003\n")
    assert values["PORT"] == 8000 and values["ENV_NAME"] == "development"


def test_production_turns_the_docs_page_off_unless_a_source_turns_it_on(tmp_path):
    assert load(tmp_path / "a", environ={"AITENI_ENV": "production"})[0]["API_DOCS"] is False
    assert load(tmp_path / "b", environ={"AITENI_ENV": "production", "API_DOCS": "1"})[0]["API_DOCS"] is True


def test_the_test_suite_reads_no_instance_config(tmp_path):
    """A deployment's instance/config.py (AITENI_ENV = "production") must not turn the tests into production."""
    values, unknown = load(tmp_path, environ={"AITENI_ENV": "testing"}, instance='AITENI_ENV = "production"\nX = 1\n')
    assert values["ENV_NAME"] == "testing" and values["TESTING"] is True and unknown == []


def test_an_unknown_name_in_instance_config_is_reported_with_a_guess(tmp_path):
    _, unknown = load(tmp_path, instance='DATABSE_URL = "sqlite://"\nSQLALCHEMY_DATABASE_URI = "x"\nhelper = 1\n')
    assert unknown == [
        "instance/config.py: DATABSE_URL is not a setting and is ignored (did you mean DATABASE_URL?)",
        "instance/config.py: SQLALCHEMY_DATABASE_URI is not a setting and is ignored (did you mean DATABASE_URL?)",
    ]


@pytest.mark.parametrize(
    "source, message",
    [
        ({"environ": {"AITENI_ENV": "prod"}},
         "AITENI_ENV='prod' (in the environment) must be one of development, testing, production"),
        ({"dotenv": "PORT=80a\n"}, "PORT='80a' (in .env) must be a whole number from 0 to 65535"),
        ({"dotenv": 'JWT_EXPIRATION_DAYS="7 days"\n'},
         "JWT_EXPIRATION_DAYS='7 days' (in .env) must be a whole number of days of at least 1"),
        ({"instance": 'PORT = "80a"\n'}, "PORT='80a' (in instance/config.py) must be a whole number from 0 to 65535"),
        ({"instance": "HOST = 127\n"}, "HOST=127 (in instance/config.py) must be text (a string in quotes)"),
        ({"environ": {"WECHAT_DEV_LOGIN": "maybe"}},
         "WECHAT_DEV_LOGIN='maybe' (in the environment) must be 1 or 0 (or true/false, yes/no, on/off)"),
        ({"environ": {"RATELIMIT_LOGIN": "30 per minuet"}},
         "RATELIMIT_LOGIN='30 per minuet' (in the environment) must be a rate limit like '30 per minute'"),
        ({"environ": {"WECHAT_TIMEOUT": "0"}},
         "WECHAT_TIMEOUT='0' (in the environment) must be a number of seconds above 0"),
        ({"environ": {"ADMIN_ALLOWED_NETWORKS": "10.0.0.1/8"}},
         "ADMIN_ALLOWED_NETWORKS='10.0.0.1/8' (in the environment) must be comma-separated networks like"),
        ({"environ": {"LOG_LEVEL": "LOUD"}}, "LOG_LEVEL='LOUD' (in the environment) must be one of DEBUG, INFO,"),
        ({"instance": "JWT_SECRET = 12345\n"}, "JWT_SECRET=*** (in instance/config.py) must be text"),
        ({"instance": "PORT = 9001\nTHREADS = = 2\n"}, "instance/config.py line 2: invalid syntax"),
        ({"instance": "PORT = 9001\nTHREADS = missing\n"},
         "instance/config.py line 2: NameError: name 'missing' is not defined"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_where_and_what_it_must_be(tmp_path, source, message):
    with pytest.raises(config.SettingError) as error:
        load(tmp_path, **source)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://root@127.0.0.1:3306/aiteni?charset=utf8mb4",
         "DATABASE_URL mysql://root@127.0.0.1:3306/aiteni?charset=utf8mb4 names no driver: begin it with mysql+pymysql://"),
        ("mysql+pymysql://aiteni:pw-never-shown@db:3306/aiteni",
         "DATABASE_URL mysql+pymysql://aiteni:***@db:3306/aiteni lacks charset=utf8mb4"),
        ("mysql+mysqldb://db/aiteni?charset=utf8mb4", "the driver mysql+mysqldb is not installed; use mysql+pymysql://"),
        ("postgresql+psycopg://db/aiteni", "postgresql is not supported; use SQLite or MySQL/MariaDB"),
        ("not a url", "DATABASE_URL is not a database URL: write sqlite:///path/to/aiteni.db or mysql+pymysql://"),
    ],
)
def test_a_database_url_that_cannot_work_stops_the_start(url, message):
    with pytest.raises(ConfigError) as error:
        create_app({"SQLALCHEMY_DATABASE_URI": url, "LOG_DIR": None})
    assert message in str(error.value)
    assert "pw-never-shown" not in str(error.value)


def test_production_starts_with_good_settings(database_url):
    app = create_app({**GOOD, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": None})
    assert app.config["JWT_SECRET_KEY"] == STRONG


def test_jwt_secret_defaults_to_a_secret_key_set_after_the_environment(database_url):
    """instance/config.py or create_app's `config` may set only SECRET_KEY (API.md: JWT_SECRET defaults to it)."""
    settings = {**GOOD, "JWT_SECRET": None, "SECRET_KEY": STRONG, "SQLALCHEMY_DATABASE_URI": database_url}
    app = create_app({**settings, "LOG_DIR": None})
    assert app.config["JWT_SECRET_KEY"] == STRONG


def env_example_value(name):
    line = next(line for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines() if line.startswith(f"{name}="))
    return line.partition("=")[2]


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"JWT_SECRET": "", "SECRET_KEY": ""}, "JWT_SECRET is not set"),
        ({"JWT_SECRET": "short-secret"}, "JWT_SECRET is too weak (shorter than 32 bytes)"),
        ({"JWT_SECRET": "change-me"}, "JWT_SECRET is too weak"),
        ({"JWT_SECRET": "change-me-to-a-long-random-string-of-48-characters"}, "JWT_SECRET is too weak (a placeholder)"),
        ({"JWT_SECRET": "Your_Secret_Here_" + STRONG}, "JWT_SECRET is too weak (a placeholder)"),
        ({"JWT_SECRET": env_example_value("JWT_SECRET")}, "JWT_SECRET is too weak (a placeholder)"),
        ({"JWT_SECRET": "x" * 40}, "JWT_SECRET is too weak (mostly one character repeated)"),
        ({"JWT_SECRET": "s3cure-" + "x" * 40}, "JWT_SECRET is too weak (mostly one character repeated)"),
        ({"JWT_SECRET": "0123456789abcdef" * 3}, "JWT_SECRET is too weak (a short pattern repeated)"),
        ({"JWT_SECRET": None, "SECRET_KEY": "k3Y" * 16}, "JWT_SECRET is too weak (a short pattern repeated)"),
        ({"WECHAT_APPID": ""}, "WECHAT_APPID and WECHAT_APPSECRET must be set"),
        ({"WECHAT_APPSECRET": ""}, "WECHAT_APPID and WECHAT_APPSECRET must be set"),
        ({"WECHAT_DEV_LOGIN": True}, "WECHAT_DEV_LOGIN must be off in production"),
    ],
)
def test_production_refuses_weak_settings(database_url, override, reason):
    with pytest.raises(ConfigError) as error:
        create_app({**GOOD, **override, "SQLALCHEMY_DATABASE_URI": database_url})
    assert str(error.value).startswith(reason)


WEAK = ["change-me", "0123456789abcdef" * 3, "x" * 40, env_example_value("JWT_SECRET")]


@pytest.mark.parametrize("mode", ["development", "testing"])
@pytest.mark.parametrize("secret", WEAK)
def test_every_mode_refuses_a_weak_jwt_secret(database_url, mode, secret):
    """Issue 21: development started with .env.example's placeholder, and a token signed with it read a
    user's phone number and real name."""
    with pytest.raises(ConfigError, match=r"^JWT_SECRET is too weak \("):
        create_app({"ENV_NAME": mode, "JWT_SECRET": secret, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": None})


def test_development_without_a_secret_signs_with_its_own_random_key(database_url):
    generated = config.generated_secret()
    settings = {"ENV_NAME": "development", "JWT_SECRET": None, "SECRET_KEY": generated}
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": None})
    assert app.config["JWT_SECRET_KEY"] == generated and config.secret_weakness(generated) is None


@pytest.mark.parametrize("secret", [secrets.token_urlsafe(32), secrets.token_hex(16), secrets.token_hex(32)])
def test_random_keys_of_32_bytes_pass_the_guard(secret):
    assert config.secret_weakness(secret) is None


def test_a_wechat_api_base_that_is_not_a_url_stops_the_start(database_url):
    settings = {"WECHAT_API_BASE": "api.weixin.qq.com", "WECHAT_APPSECRET": "s3cr3t-never-shown"}
    with pytest.raises(ConfigError, match="WECHAT_API_BASE is not a URL") as error:
        create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url, "LOG_DIR": None})
    assert "s3cr3t-never-shown" not in str(error.value)
