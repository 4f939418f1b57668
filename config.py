"""Settings: the only module that reads the environment.

SETTINGS is the one table of them: name, type, default, meaning. Each setting
is read by that name, with the same rules, from the first of these that has
it: `instance/config.py` (plain `NAME = value` lines), the process environment,
the `.env` file next to this one. An empty value means the default. The
`config` argument of `create_app()` overrides the result (tests use it).

Nothing is read at import: `load()`, which create_app calls, reads every source
then, so what counts is the environment the app is created in.
"""
import codecs
import difflib
import functools
import io
import ipaddress
import math
import os
import re
import secrets
import select
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from dotenv import dotenv_values
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# select() watches at most 512 sockets on Windows (waitress keeps a few for itself); poll(), which
# Windows lacks, has no such cap.
HAS_POLL = hasattr(select, "poll")
SELECT_LIMIT = 500


class SettingError(ValueError):
    """A setting that cannot be used, in one line: which one, where it was set, what it must be."""


@functools.cache
def generated_secret():
    """SECRET_KEY's default: a random key, made once per process, when the first app is created.

    Development without SECRET_KEY gets it (API.md): no predictable default exists
    that could be deployed by mistake, and production refuses to sign tokens with
    it (they would all die at the next restart).
    """
    return secrets.token_hex(32)


# Parsers: text (from instance/config.py, any Python value) in; the value out, or a ValueError that says
# what the setting must be.


def text(value):
    if not isinstance(value, str):
        raise ValueError("must be text (a string in quotes)")
    return value


def flag(value):
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be 1 or 0 (or true/false, yes/no, on/off)")


def whole(minimum, maximum=None, unit=""):
    """A parser for whole numbers from `minimum` (to `maximum`)."""
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"

    def parse(value):
        try:
            if isinstance(value, (bool, float)):
                raise ValueError
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            raise ValueError(f"must be a whole number{unit} {bounds}")
        return number

    return parse


def seconds(minimum, above=False):
    """A parser for a number of seconds, at least (or above) `minimum`."""

    def parse(value):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number < minimum or (above and number == minimum):
            raise ValueError(f"must be a number of seconds {'above' if above else 'of at least'} {minimum}")
        return number

    return parse


def one_of(*choices):
    def parse(value):
        word = text(value).strip()
        if word not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return word

    return parse


def log_level(value):
    return one_of("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")(text(value).strip().upper())


def rate_limit(value):
    """A Flask-Limiter string, checked now by the library that will read it, so a typo stops the start."""
    try:
        parse_many(text(value))
    except ValueError:
        raise ValueError("must be a rate limit like '30 per minute' or '5/second; 100/hour'") from None
    return value


def networks(value):
    """Comma-separated networks (10.0.0.0/8, 192.168.1.5, ::1), or a list of them, as a tuple of CIDR texts."""
    parts = value if isinstance(value, (list, tuple)) else text(value).split(",")
    try:
        return tuple(str(ipaddress.ip_network(text(part).strip())) for part in parts if text(part).strip())
    except ValueError:
        raise ValueError("must be comma-separated networks like 127.0.0.1/32, 10.0.0.0/8 (host bits zero)") from None


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[Any], Any]
    # A callable is called for it when the settings are loaded.
    default: Any
    meaning: str
    # Where the app keeps it (app.config), when Flask or an extension wants another name.
    key: str = ""
    # Never shown in a message.
    secret: bool = False

    @property
    def config_key(self):
        return self.key or self.name

    def default_value(self):
        """The default, made now if it is made per process."""
        return self.default() if callable(self.default) else self.default


SETTINGS = (
    Setting("AITENI_ENV", one_of("development", "testing", "production"), "development",
            "development, production, or testing (the test suite)", key="ENV_NAME"),
    Setting("DATABASE_URL", text, f"sqlite:///{INSTANCE_DIR / 'aiteni.db'}",
            "SQLite file, or mysql+pymysql://user:password@host:3306/aiteni?charset=utf8mb4",
            key="SQLALCHEMY_DATABASE_URI", secret=True),
    Setting("SECRET_KEY", text, generated_secret,
            "not needed: aiteni signs nothing with it; it stands in for an unset JWT_SECRET", secret=True),
    # None means SECRET_KEY, wherever that was set: create_app fills it in after every override.
    Setting("JWT_SECRET", text, None, "HS256 signing key of access tokens (production: 32+ random bytes)",
            secret=True),
    Setting("JWT_EXPIRATION_DAYS", whole(1, unit=" of days"), 7, "access-token lifetime"),
    Setting("REFRESH_EXPIRATION_DAYS", whole(1, unit=" of days"), 30, "refresh-token lifetime"),
    Setting("SESSION_MAX_DAYS", whole(1, unit=" of days"), 90,
            "a login session ends this long after login, refreshed or not"),
    # Issue 6 asks for a revocation seen by every process within 2 s.
    Setting("SESSION_CACHE_SECONDS", seconds(0), 1.0,
            "how long one process trusts a checked session; other processes see a logout at most this late"),
    Setting("WECHAT_APPID", text, "", "mini-program AppID"),
    Setting("WECHAT_APPSECRET", text, "", "mini-program AppSecret", secret=True),
    Setting("WECHAT_API_BASE", text, "https://api.weixin.qq.com",
            "where WeChat's API is called (tests point it at a local fake)"),
    Setting("WECHAT_TIMEOUT", seconds(0, above=True), 10.0,
            "seconds for one login's or phone number's WeChat call, retries included (share codes: at most 8)"),
    # Below THREADS, so a WeChat that hangs cannot take every thread (issue 15).
    Setting("WECHAT_CONCURRENCY", whole(1), 4,
            "requests of one process waiting on WeChat at once; more are turned away (503) within 0.25 s"),
    Setting("WECHAT_PROXY", text, "", "an HTTP(S) proxy to reach WeChat through; HTTPS_PROXY is not read"),
    Setting("WECHAT_DEV_LOGIN", flag, False, "1: log in without WeChat, the code names the user; refused in production"),
    # Production's share codes always open the release.
    Setting("WECHAT_ENV_VERSION", one_of("release", "trial", "develop"), "trial",
            "the version of the mini-program a share code opens outside production: release, trial or develop"),
    Setting("LOG_DIR", text, "logs", "daily info- and error-YYYY-MM-DD.log files (relative to the repo, or absolute)"),
    Setting("LOG_LEVEL", log_level, "INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    Setting("QUESTIONS_FILE", text, None, "a TOML question bank; unset: the one shipped in aiteni/evaluation/"),
    Setting("QUESTIONS_VERSION", text, None, "gone (the bank's own version is questions_version): ignored, said once"),
    Setting("RATELIMIT_ENABLED", flag, True, "0 switches every rate limit off; production logs a warning at start"),
    Setting("RATELIMIT_STORAGE_URI", text, "memory://",
            "memory:// per process; redis://127.0.0.1:6379/0 shares limits across processes and hosts"),
    # Login and refresh count per client IP (generous: many phones share one carrier NAT
    # address), writes per user (one budget for all of them), the rest per client IP.
    Setting("RATELIMIT_LOGIN", rate_limit, "30 per minute", "login, per client IP"),
    Setting("RATELIMIT_REFRESH", rate_limit, "30 per minute", "refresh, per client IP"),
    Setting("RATELIMIT_WRITE", rate_limit, "60 per minute", "every write and a signed-in evaluation, per user"),
    Setting("RATELIMIT_EVALUATION", rate_limit, "30 per minute", "evaluations without a valid token, per client IP"),
    Setting("RATELIMIT_QRCODE", rate_limit, "10 per minute",
            "share codes (/api/generate_qrcode), per client IP, on top of RATELIMIT_DEFAULT"),
    Setting("RATELIMIT_DEFAULT", rate_limit, "600 per minute", "every other endpoint, per client IP"),
    Setting("PROXY_FIX_X_FOR", whole(0), 0, "trusted proxies in front (nginx: 1), so limits and logs see the client's IP"),
    # Production's default is 0 (ProductionConfig.defaults).
    Setting("API_DOCS", flag, True, "1: serve the Swagger UI page at /api/docs (default 0 in production)"),
    # The operators' console (docs/console.md): also needs an enabled account.
    Setting("ADMIN_ENABLED", flag, True,
            "0: no operators' console; otherwise /admin/ serves it once an account exists (flask --app wsgi admin create NAME)"),
    Setting("ADMIN_ALLOWED_NETWORKS", networks, (),
            "comma-separated networks the console answers, by the client's address (PROXY_FIX_X_FOR); empty: any"),
    Setting("HOST", text, "127.0.0.1", "the address python wsgi.py listens on"),
    Setting("PORT", whole(0, 65535), 8000, "the port python wsgi.py listens on (0: any free one)"),
    Setting("THREADS", whole(1), 8, "python wsgi.py's worker threads: requests handled at once"),
    # waitress's default, 100, let 120 idle sockets lock everyone out (issue 15).
    Setting("CONNECTION_LIMIT", whole(1, None if HAS_POLL else SELECT_LIMIT), 1000 if HAS_POLL else SELECT_LIMIT,
            "open connections python wsgi.py keeps, idle ones included (Windows: at most 500)"),
    Setting("CHANNEL_TIMEOUT", whole(1, unit=" of seconds"), 30,
            "python wsgi.py closes a connection idle this long"),
)
NAMES = {setting.name: setting for setting in SETTINGS}


class Config:
    """What every environment shares and no setting changes."""

    TESTING = False
    # The largest valid request, a /save at every field's maximum written as UTF-8, is about 170 KB.
    MAX_CONTENT_LENGTH = 256 * 1024
    # Flask would answer OPTIONS with an empty text/html 200; every answer must be the JSON envelope
    # (OPTIONS gets the 405 one). The mini-program makes no CORS preflights.
    PROVIDE_AUTOMATIC_OPTIONS = False
    # Defaults that differ from SETTINGS' in this environment (a value set anywhere still wins).
    defaults = {}

    @classmethod
    def fixed(cls, environ):
        """The values this environment sets whatever the settings say (its upper-case names)."""
        return {name: getattr(cls, name) for name in dir(cls) if name.isupper()}


class DevelopmentConfig(Config):
    """Local use: embedded SQLite, dev login allowed."""


class TestingConfig(Config):
    """The test suite: these values win over every source, so a developer's settings never reach a test.

    No rate limits unless a test enables them. instance/config.py is not read
    when the environment says AITENI_ENV=testing.
    """

    TESTING = True
    SECRET_KEY = "testing-secret-key-that-is-long-enough-000"
    JWT_SECRET = "testing-jwt-secret-that-is-long-enough-0000"
    RATELIMIT_ENABLED = False
    WECHAT_DEV_LOGIN = False
    WECHAT_APPID = "wx-test-appid"
    WECHAT_APPSECRET = "test-app-secret-0123456789abcdef"
    LOG_DIR = None

    @classmethod
    def fixed(cls, environ):
        # TEST_DATABASE_URL is the test suite's, read from the environment only (docs/development.md).
        return {**super().fixed(environ), "SQLALCHEMY_DATABASE_URI": environ.get("TEST_DATABASE_URL") or "sqlite://"}


class ProductionConfig(Config):
    """Deployed: `production_problem` must find nothing before the app starts."""

    defaults = {"API_DOCS": False}


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def _settings_text(path, name):
    """A settings file's text, or a one-line SettingError saying how to make it readable.

    UTF-8, with or without the BOM that Windows' Notepad and PowerShell 5.1's
    `Set-Content -Encoding UTF8` write. PowerShell 5.1's `>` writes UTF-16, and
    Windows editors save in the ANSI code page (GBK, cp1252): each is refused, as
    a guess at the encoding could turn a secret into another one.
    """
    # PowerShell 5.1 re-saves a file it reads in UTF-16 or the ANSI code page as UTF-8 (with a BOM).
    resave = f"save it as UTF-8 (PowerShell: (Get-Content {name}) | Set-Content -Encoding UTF8 {name})"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SettingError(
            f"{name} cannot be read ({error.strerror}): give the account aiteni runs as read access to it"
        ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in data:
        raise SettingError(f"{name} is saved as UTF-16 (PowerShell 5.1's > writes it): {resave}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SettingError(f"{name} line {line} is not UTF-8 (GBK or another code page?): {resave}") from None


def _dotenv_settings(path):
    """The names and values of the .env file, as python-dotenv reads them."""
    if not path.is_file():
        return {}
    return dotenv_values(stream=io.StringIO(_settings_text(path, ".env")))


def _instance_settings(path):
    """The upper-case names instance/config.py defines, as Flask's from_pyfile would take them."""
    if not path.is_file():
        return {}
    source = _settings_text(path, "instance/config.py")
    module = types.ModuleType("config")
    module.__file__ = str(path)
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    except SyntaxError as error:
        raise SettingError(f"instance/config.py line {error.lineno}: {error.msg}") from None
    except Exception as error:  # whatever the file's own code raised
        frames = traceback.extract_tb(error.__traceback__)
        line = next((frame.lineno for frame in reversed(frames) if frame.filename == str(path)), None)
        where = f" line {line}" if line else ""
        raise SettingError(f"instance/config.py{where}: {type(error).__name__}: {error}") from None
    return {name: value for name, value in vars(module).items() if name.isupper()}


def _unknown(name, where):
    """The line that reports a name in instance/config.py or .env that is no setting."""
    flask_names = {setting.key: setting.name for setting in SETTINGS if setting.key}
    guess = flask_names.get(name) or next(iter(difflib.get_close_matches(name, NAMES, 1)), None)
    hint = f" (did you mean {guess}?)" if guess else ""
    return f"{where}: {name} is not a setting and is ignored{hint}"


# A character below space (or DEL) in a value: in .env's double quotes and in Python's strings, a
# Windows path's backslash starts an escape ("D:\aiteni\logs" holds BEL, \a).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
QUOTING = {
    ".env": "in double quotes a backslash starts an escape: write {name}='D:\\aiteni\\logs' (single quotes) "
            "or D:/aiteni/logs",
    "instance/config.py": "in a Python string a backslash starts an escape: write {name} = r\"D:\\aiteni\\logs\" "
                          "or \"D:/aiteni/logs\"",
    "the environment": "remove it",
}
# .env may also hold what the `flask` command reads from it.
NOT_OURS = ("FLASK_",)


def load(environ=None, base_dir=BASE_DIR):
    """Every setting, parsed, keyed as app.config wants it, plus the lines to report at start.

    Raises SettingError for the first value that cannot be used.
    """
    environ = os.environ if environ is None else environ
    dotenv = _dotenv_settings(base_dir / ".env")
    sources = [("the environment", environ), (".env", dotenv)]
    instance = {}
    # The test suite's own environment: a deployment's instance/config.py must not reach it.
    if next((values["AITENI_ENV"] for _, values in sources if "AITENI_ENV" in values), None) != "testing":
        instance = _instance_settings(base_dir / "instance" / "config.py")
        sources.insert(0, ("instance/config.py", instance))

    parsed = {}
    for setting in SETTINGS:
        where, raw = next(((where, values[setting.name]) for where, values in sources if setting.name in values),
                          (None, None))
        if raw is None or raw == "":
            continue
        # The `flask` command copies .env into the environment before aiteni is loaded.
        if where == "the environment" and dotenv.get(setting.name) == raw:
            where = ".env"
        shown = "***" if setting.secret else repr(raw)
        if isinstance(raw, str) and CONTROL.search(raw):
            hint = QUOTING[where].format(name=setting.name)
            raise SettingError(f"{setting.name}={shown} (in {where}) holds a control character: {hint}")
        try:
            parsed[setting.name] = setting.parse(raw)
        except ValueError as error:
            raise SettingError(f"{setting.name}={shown} (in {where}) {error}") from None

    profile = CONFIGS[parsed.get("AITENI_ENV", "development")]
    values = {
        setting.config_key: parsed.get(setting.name, profile.defaults.get(setting.name, setting.default_value()))
        for setting in SETTINGS
    }
    values.update(profile.fixed(environ))
    notes = [_unknown(name, "instance/config.py") for name in instance if name not in NAMES]
    notes += [_unknown(name, ".env") for name in dotenv if name not in NAMES and not name.startswith(NOT_OURS)]
    return values, notes


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


MYSQL_EXAMPLE = "mysql+pymysql://user:password@host:3306/aiteni?charset=utf8mb4"


def database_problem(url, windows=os.name == "nt"):
    """Why DATABASE_URL cannot work, in one line that never shows the password, or None."""
    # A second @ means one is in the user name or password: the URL would be cut at the first, and the
    # rest of the password taken for the host (and shown in every connection error).
    if url.partition("://")[2].count("@") > 1:
        return ("DATABASE_URL: its user name or password holds an @: percent-encode it (@ as %40; also # as %23, "
                "/ as %2F, : as %3A, % as %25), e.g. python -c "
                "\"import urllib.parse; print(urllib.parse.quote(input(), safe=''))\"")
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"DATABASE_URL is not a database URL: write sqlite:///path/to/aiteni.db or {MYSQL_EXAMPLE}"
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        # sqlite:////C:/... is the POSIX absolute form; Windows opens "/C:/..." as no file at all.
        if windows and re.match(r"/[A-Za-z]:", parsed.database or ""):
            return (f"DATABASE_URL {shown}: on Windows the drive letter follows three slashes: "
                    f"write sqlite:///{parsed.database[1:]}")
        return None
    if backend not in {"mysql", "mariadb"}:
        return f"DATABASE_URL {shown}: {backend} is not supported; use SQLite or MySQL/MariaDB ({MYSQL_EXAMPLE})"
    if "+" not in parsed.drivername:
        return f"DATABASE_URL {shown} names no driver: begin it with {backend}+pymysql://"
    try:
        parsed.get_dialect().import_dbapi()
    except (ImportError, NoSuchModuleError):
        return f"DATABASE_URL {shown}: the driver {parsed.drivername} is not installed; use {backend}+pymysql://"
    if parsed.query.get("charset") != "utf8mb4":
        return f"DATABASE_URL {shown} lacks charset=utf8mb4 (without it emoji in nicknames fail): add ?charset=utf8mb4"
    if not parsed.database:
        return f"DATABASE_URL {shown} names no database: {MYSQL_EXAMPLE}"
    return None


# Spelled in lower case without punctuation: words that mark a secret nobody chose.
PLACEHOLDERS = ("changeme", "replaceme", "placeholder", "example", "yoursecret")
MAKE_A_KEY = "python -c \"import secrets; print(secrets.token_urlsafe(48))\""


def secret_weakness(secret):
    """Why a signing key is guessable (short, a placeholder, a repetition), or None."""
    if len(secret.encode()) < 32:
        return "shorter than 32 bytes"
    if any(word in re.sub(r"[^a-z0-9]", "", secret.lower()) for word in PLACEHOLDERS):
        return "a placeholder"
    if max(secret.count(char) for char in set(secret)) * 2 > len(secret):
        return "mostly one character repeated"
    if any(secret[period:] == secret[:-period] for period in range(1, len(secret) // 2 + 1)):
        return "a short pattern repeated"
    return None


def secret_problem(settings):
    """Why the signing key must not be used in any mode (development too: a token signed with
    .env.example's placeholder would open a server that was started with it), or None.

    Unset, development signs with generated_secret(), random per process.
    """
    jwt_secret = settings.get("JWT_SECRET") or ""
    if jwt_secret == generated_secret():
        return None
    weakness = secret_weakness(jwt_secret)
    if weakness:
        return f"JWT_SECRET is too weak ({weakness}): use 32+ random bytes, made with {MAKE_A_KEY}"
    return None


def production_problem(settings):
    """The reason a production server must not start with these settings, or None."""
    jwt_secret = settings.get("JWT_SECRET") or ""
    if not jwt_secret or jwt_secret == generated_secret():
        return f"JWT_SECRET is not set: set it to 32+ random bytes, made with {MAKE_A_KEY}"
    if not settings.get("WECHAT_APPID") or not settings.get("WECHAT_APPSECRET"):
        return "WECHAT_APPID and WECHAT_APPSECRET must be set"
    if settings.get("WECHAT_DEV_LOGIN"):
        return "WECHAT_DEV_LOGIN must be off in production"
    return None
