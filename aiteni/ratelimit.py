"""Rate limits: which endpoint spends which budget, keyed by whom.

Flask-Limiter does the counting; this module only wires it to the views. Each
limit string is read from the app's settings when a request is counted, so the
numbers are whatever RATELIMIT_* says for this app. The 429 itself is shaped
by errors.py like every other error.
"""
import logging

from flask import current_app, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from .extensions import limiter
from .auth.tokens import bearer_token

log = logging.getLogger(__name__)

# How long a rate-limit storage (Redis) may take before the limiter gives up on it.
STORAGE_TIMEOUT_SECONDS = 0.5
RATE_LIMIT_KEY = "aiteni.rate_limit_key"


def client_ip():
    """The client's address: the TCP peer, or with PROXY_FIX_X_FOR the address the proxy saw."""
    return request.remote_addr or "-"


def user_or_ip():
    """The user a correctly signed, unexpired access token names; the client's IP otherwise.

    Limits are checked before the view authenticates, so this verifies the
    signature itself (no database): a forged token cannot spend someone
    else's budget, it only spends its sender's IP budget.
    """
    # Asked up to three times a request (key, exemptions): found once, kept with the request
    # (not in `g`, which an app context shared by several requests would carry over).
    environ = request.environ
    if RATE_LIMIT_KEY not in environ:
        key = "ip:" + client_ip()
        token = bearer_token()
        if token:
            try:
                key = "user:" + decode_token(token)["sub"]
            except (PyJWTError, JWTExtendedException):
                pass
        environ[RATE_LIMIT_KEY] = key
    return environ[RATE_LIMIT_KEY]


def _signed_in():
    return user_or_ip().startswith("user:")


def evaluation(view):
    return EVALUATION_SIGNED_IN(EVALUATION_ANONYMOUS(view))


def share(view):
    return OTHER(SHARE(view))


def _setting(name):
    return lambda: current_app.config[name]


# Created once: Flask-Limiter keeps them by view name, so one object per rule, whatever the number of apps.
LOGIN = limiter.limit(_setting("RATELIMIT_LOGIN"), key_func=client_ip)
REFRESH = limiter.limit(_setting("RATELIMIT_REFRESH"), key_func=client_ip)
WRITE = limiter.shared_limit(_setting("RATELIMIT_WRITE"), scope="write", key_func=user_or_ip)
# An evaluation spends the signed-in caller's write budget, or else its IP's evaluation budget.
EVALUATION_SIGNED_IN = limiter.shared_limit(
    _setting("RATELIMIT_WRITE"), scope="write", key_func=user_or_ip, exempt_when=lambda: not _signed_in()
)
EVALUATION_ANONYMOUS = limiter.shared_limit(
    _setting("RATELIMIT_EVALUATION"), scope="evaluation", key_func=client_ip, exempt_when=lambda: _signed_in()
)
OTHER = limiter.shared_limit(_setting("RATELIMIT_DEFAULT"), scope="other", key_func=client_ip)
# Share codes count per client IP on their own, on top of the default budget: each new one is a WeChat call.
SHARE = limiter.limit(_setting("RATELIMIT_QRCODE"), key_func=client_ip)

RULES = {
    "auth.login": LOGIN,
    "auth.refresh": REFRESH,
    "auth.logout": WRITE,
    "auth.update_user": WRITE,
    "auth.delete_user": WRITE,
    "auth.bind_phone": WRITE,
    "records.save": WRITE,
    "records.delete": WRITE,
    "evaluation.basic": evaluation,
    "evaluation.full": evaluation,
    "share.generate_qrcode": share,
}


class _StorageDownIsAnError(logging.Filter):
    """Flask-Limiter reports a dead storage once, as a warning; operators look for it among errors."""

    def filter(self, record):
        if record.levelno == logging.WARNING and "storage unreachable" in record.getMessage():
            record.levelno, record.levelname = logging.ERROR, "ERROR"
        return True


def init_app(app):
    """Binds the limiter and puts every registered view under its rule (call after the blueprints)."""
    config = app.config
    unknown = RULES.keys() - app.view_functions.keys()
    if unknown:  # a renamed view would silently fall under the looser OTHER budget
        raise RuntimeError(f"rate-limit rules for views that do not exist: {', '.join(sorted(unknown))}")
    if not config["RATELIMIT_ENABLED"]:
        if config["ENV_NAME"] == "production":
            log.warning("rate limits are off (RATELIMIT_ENABLED=0)")
        limiter.init_app(app)
        return
    # Fail open: with the storage down, count in this process's memory instead, and never fail a request.
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            {"socket_connect_timeout": STORAGE_TIMEOUT_SECONDS, "socket_timeout": STORAGE_TIMEOUT_SECONDS},
        )
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, _StorageDownIsAnError) for f in limiter_log.filters):
        limiter_log.addFilter(_StorageDownIsAnError())
    for endpoint, view in app.view_functions.items():
        app.view_functions[endpoint] = RULES.get(endpoint, OTHER)(view)
    limiter.init_app(app)
