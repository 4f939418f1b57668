"""Settings: the only module that reads the environment.

Values come from the process environment (and a `.env` file next to this one,
if present), then `instance/config.py` and the `config` argument of
`create_app()` override them.
"""
import os
import secrets
from pathlib import Path

from dotenv import load_dotenv
from sqlalchemy.engine import make_url

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

load_dotenv(BASE_DIR / ".env")

def _env(name, default=None):
    return os.environ.get(name, default)


def _int(name, default):
    return int(os.environ.get(name, default))


def _flag(name, default="0"):
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


# Development without SECRET_KEY gets a random key per process (API.md): no
# predictable default exists that could be deployed by mistake, and production
# refuses to sign tokens with it (they would all die at the next restart).
GENERATED_SECRET = secrets.token_hex(32)


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "development"
    TESTING = False

    SECRET_KEY = _env("SECRET_KEY") or GENERATED_SECRET
    # Unset means SECRET_KEY, wherever that was set: create_app fills it in after every override.
    JWT_SECRET = _env("JWT_SECRET")
    JWT_EXPIRATION_DAYS = _int("JWT_EXPIRATION_DAYS", 7)
    REFRESH_EXPIRATION_DAYS = _int("REFRESH_EXPIRATION_DAYS", 30)
    SESSION_MAX_DAYS = _int("SESSION_MAX_DAYS", 90)

    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'aiteni.db'}"

    WECHAT_APPID = _env("WECHAT_APPID", "")
    WECHAT_APPSECRET = _env("WECHAT_APPSECRET", "")
    WECHAT_API_BASE = _env("WECHAT_API_BASE", "https://api.weixin.qq.com")
    WECHAT_TIMEOUT = float(_env("WECHAT_TIMEOUT", "10"))
    # An HTTP(S) proxy to reach WeChat through, e.g. http://proxy.internal:3128 (HTTPS_PROXY is not read).
    WECHAT_PROXY = _env("WECHAT_PROXY", "")
    WECHAT_DEV_LOGIN = _flag("WECHAT_DEV_LOGIN")

    LOG_DIR = _env("LOG_DIR", "logs")
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    # A TOML question bank (shared/QUESTIONS.md); unset: the one shipped in aiteni/evaluation/.
    QUESTIONS_FILE = _env("QUESTIONS_FILE")
    # Gone: the bank's own `version` is questions_version. Read only to say, once, that it is ignored.
    QUESTIONS_VERSION = _env("QUESTIONS_VERSION")

    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", "1")
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    # Flask-Limiter strings ("30 per minute", "5/second; 100/hour"). Login and refresh count per
    # client IP (generous: many phones share one carrier NAT address), writes per user (one budget
    # for all of them), every other endpoint per client IP (one budget for all of them).
    RATELIMIT_LOGIN = _env("RATELIMIT_LOGIN", "30 per minute")
    RATELIMIT_REFRESH = _env("RATELIMIT_REFRESH", "30 per minute")
    RATELIMIT_WRITE = _env("RATELIMIT_WRITE", "60 per minute")
    # Evaluations without a (valid) token, per client IP; signed in, they spend RATELIMIT_WRITE.
    RATELIMIT_EVALUATION = _env("RATELIMIT_EVALUATION", "30 per minute")
    RATELIMIT_DEFAULT = _env("RATELIMIT_DEFAULT", "600 per minute")
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)

    # Seconds a verified session stays cached in one process; other processes
    # see a revocation at most this late (issue 6 asks for within 2 s).
    SESSION_CACHE_SECONDS = float(_env("SESSION_CACHE_SECONDS", "1"))

    # The largest valid request, a /save at every field's maximum written as UTF-8, is about 170 KB.
    MAX_CONTENT_LENGTH = 256 * 1024
    # Flask would answer OPTIONS with an empty text/html 200; every answer must be the JSON envelope
    # (OPTIONS gets the 405 one). The mini-program makes no CORS preflights.
    PROVIDE_AUTOMATIC_OPTIONS = False

    # The Swagger UI page at /api/docs (/api/openapi.json is always served).
    API_DOCS = _flag("API_DOCS", "1")


class DevelopmentConfig(Config):
    """Local use: embedded SQLite, dev login allowed."""


class TestingConfig(Config):
    """The test suite: a fixed key, no rate limits unless a test enables them."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-that-is-long-enough-000"
    JWT_SECRET = "testing-jwt-secret-that-is-long-enough-0000"
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL") or "sqlite://"
    RATELIMIT_ENABLED = False
    WECHAT_DEV_LOGIN = False
    WECHAT_APPID = "wx-test-appid"
    WECHAT_APPSECRET = "test-app-secret-0123456789abcdef"
    LOG_DIR = None


class ProductionConfig(Config):
    """Deployed: `production_problem` must find nothing before the app starts."""

    ENV_NAME = "production"
    API_DOCS = _flag("API_DOCS")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class():
    """The settings class named by AITENI_ENV."""
    name = _env("AITENI_ENV", "development")
    if name not in CONFIGS:
        raise ValueError(f"AITENI_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]


def engine_options(url):
    """Pool settings per database: MySQL connections die quietly, SQLite ones do not.

    The timeouts bound how long a request waits for a database that is gone:
    a dead pooled connection costs one read timeout (the pre-ping), the fresh
    connection after it one connect timeout, so a request answers 503 within
    about 3 s even when the network drops packets instead of refusing them.
    Every statement here takes milliseconds; one that waits 2 s for a reply is
    treated as a lost server.
    """
    # SQL parameters (a session_key, an openid) never appear in an exception's text, hence in no log.
    if make_url(url).get_backend_name() in {"mysql", "mariadb"}:
        return {
            "hide_parameters": True,
            "pool_pre_ping": True,
            "pool_recycle": 1800,
            "pool_size": 10,
            "max_overflow": 10,
            "pool_timeout": 3,
            "connect_args": {"connect_timeout": 1, "read_timeout": 2, "write_timeout": 2},
        }
    return {"hide_parameters": True}


def production_problem(settings):
    """The reason a production server must not start with these settings, or None."""
    jwt_secret = settings.get("JWT_SECRET") or ""
    if not jwt_secret or jwt_secret == GENERATED_SECRET:
        return "JWT_SECRET is not set"
    if len(jwt_secret.encode()) < 32:
        return "JWT_SECRET is too weak: use at least 32 random bytes"
    if not settings.get("WECHAT_APPID") or not settings.get("WECHAT_APPSECRET"):
        return "WECHAT_APPID and WECHAT_APPSECRET must be set"
    if settings.get("WECHAT_DEV_LOGIN"):
        return "WECHAT_DEV_LOGIN must be off in production"
    return None


# How `python wsgi.py` serves (waitress).
HOST = _env("HOST", "127.0.0.1")
PORT = _int("PORT", 8000)
THREADS = _int("THREADS", 8)
