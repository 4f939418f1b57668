"""Access tokens: Flask-JWT-Extended issues and checks them, this module decides who they belong to.

Every authenticated request resolves its token to a `Principal` with one
query that loads the user and the login session together. The answer is
cached per process for SESSION_CACHE_SECONDS; anything that revokes a session
or changes a user calls `forget()`, so this process sees it at once and every
other process within that many seconds.
"""
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import current_app, request
from flask_jwt_extended import create_access_token, current_user, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTDecodeError, JWTExtendedException
from jwt import PyJWTError

from .. import logs
from ..envelope import error_response
from ..errors import HTTP_MESSAGES, ApiError, Unauthorized
from ..extensions import db, jwt
from ..models import MAX_ID, LoginSession, User, utcnow

LOGIN_FIRST = HTTP_MESSAGES[401]
MISSING_TOKEN = "缺少认证Token"
INVALID = "Token无效"
EXPIRED = "Token已过期，请重新登录"
USER_GONE = "用户不存在"
REVOKED = "登录已失效，请重新登录"

# Sibling hosts' clocks drift apart: a token issued by a host a second ahead carries an `iat`
# in the verifier's future, which PyJWT refuses. `iat` and `nbf` may be this far ahead
# (Flask-JWT-Extended's JWT_DECODE_LEEWAY); `exp` stays exact (jwtmanager.py).
CLOCK_SKEW_SECONDS = 5

# `sid`: every token names its login session, so logout and account deletion can end it (a token without
# one, signed with a leaked or guessed key, would be refused by nothing but its age).
REQUIRED_CLAIMS = ("sub", "exp", "iat", "jti", "type", "sid", "openid")
HEADER_FIELDS = frozenset({"alg", "typ"})


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: enough for every view without touching the database again."""

    id: int
    openid: str
    nickname: str
    avatar_url: str
    session_id: str


# Core statements on the tables, run on a pooled connection rather than the ORM
# session: a request that only needs to know who is calling skips the session's
# setup and teardown, and the compiled SQL comes from SQLAlchemy's statement cache.
_USERS, _SESSIONS = User.__table__, LoginSession.__table__
_PRINCIPAL_COLUMNS = (_USERS.c.id, _USERS.c.wechat_openid, _USERS.c.wechat_nickname, _USERS.c.wechat_avatar)
_PRINCIPAL_BY_SESSION = (
    sa.select(*_PRINCIPAL_COLUMNS, _SESSIONS.c.revoked_at, _SESSIONS.c.expires_at)
    .join(_SESSIONS, _SESSIONS.c.user_id == _USERS.c.id)
    .where(_SESSIONS.c.id == sa.bindparam("sid"))
)


def _first_row(statement, params):
    """A pooled connection rather than the ORM session: the token check needs no unit of work."""
    with db.engine.connect() as connection:
        return connection.execute(statement, params).first()


class PrincipalCache:
    """Principals by session id for a few seconds, droppable by session or by user."""

    def __init__(self, max_entries=10_000):
        self.max_entries = max_entries
        self.entries = {}  # session id -> (valid until, Principal)
        self.keys_by_user = {}  # user id -> set of session ids
        # Bumped by every forget(): a principal read from the database before a
        # revocation committed must not be cached after it.
        self.generation = 0
        self.lock = threading.Lock()

    def get(self, key, now):
        entry = self.entries.get(key)
        return entry[1] if entry and entry[0] > now else None

    def put(self, key, principal, until, generation):
        """Caches a principal read while `generation` was current; a forget() since then wins."""
        with self.lock:
            if generation != self.generation:
                return
            if len(self.entries) >= self.max_entries:
                self.entries.clear()
                self.keys_by_user.clear()
            self.entries[key] = (until, principal)
            self.keys_by_user.setdefault(principal.id, set()).add(key)

    def forget(self, user_id=None, session_id=None):
        with self.lock:
            self.generation += 1
            if session_id is not None:
                self.entries.pop(session_id, None)
            for key in self.keys_by_user.pop(user_id, ()):
                self.entries.pop(key, None)


def _cache():
    return current_app.extensions["aiteni.principals"]


def forget(user_id=None, session_id=None):
    """Drops cached principals after a revocation or profile change in this process."""
    _cache().forget(user_id, session_id)


def issue_access_token(principal):
    """A signed access JWT for a Principal: sub is the user id as a string, sid its login session."""
    return create_access_token(
        identity=str(principal.id), additional_claims={"openid": principal.openid, "sid": principal.session_id}
    )


def access_lifetime_seconds():
    """`expiresIn` of a token pair."""
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())


def _load_principal(claims):
    """The Principal a verified token names, from the cache or one query; 401 when its session ended."""
    sid = claims["sid"]
    try:
        user_id = int(claims["sub"])
    except ValueError:
        raise Unauthorized(INVALID) from None
    if not 0 < user_id <= MAX_ID or not isinstance(sid, str):
        raise Unauthorized(INVALID)
    now = time.monotonic()
    cache = _cache()
    cached = cache.get(sid, now)
    if cached is not None:
        return cached
    generation = cache.generation
    row = _first_row(_PRINCIPAL_BY_SESSION, {"sid": sid})
    if row is None or row.id != user_id or row.wechat_openid != claims["openid"]:
        raise Unauthorized(REVOKED)
    if row.revoked_at is not None or row.expires_at <= utcnow():
        raise Unauthorized(REVOKED)
    principal = Principal(row.id, row.wechat_openid, row.wechat_nickname, row.wechat_avatar, sid)
    cache.put(sid, principal, now + current_app.config["SESSION_CACHE_SECONDS"], generation)
    return principal


def bearer_token():
    """The token of `Authorization: Bearer <token>`: "" when there is none, None when the header is malformed.

    The contract tells a missing token from a malformed one, which
    Flask-JWT-Extended's own parsing does not.
    """
    header = request.headers.get("Authorization", "").strip()
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if not header or (scheme == "Bearer" and not token):
        return ""
    if scheme != "Bearer" or " " in token or "," in token:
        return None
    return token


def auth_required(missing_msg=LOGIN_FIRST):
    """Requires `Authorization: Bearer <access token>`; `current_user` is then a Principal."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = bearer_token()
            if token == "":
                raise Unauthorized(missing_msg)
            if token is None:
                raise Unauthorized(INVALID)
            verify_jwt_in_request()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def optional_principal():
    """The caller when the request carries a valid access token; None otherwise, never a 401.

    For public endpoints that do more for a signed-in caller: a missing,
    expired, revoked or invalid token makes the request anonymous (API.md's
    evaluation, where a stale token must not cost the player their answers).
    """
    if not bearer_token():
        return None
    try:
        verify_jwt_in_request()
    except (ApiError, JWTExtendedException, PyJWTError):
        return None
    return current_user


def init_app(app):
    config = app.config
    config["JWT_SECRET_KEY"] = config["JWT_SECRET"]
    config["JWT_ALGORITHM"] = "HS256"
    config["JWT_DECODE_ALGORITHMS"] = ["HS256"]
    config["JWT_DECODE_LEEWAY"] = CLOCK_SKEW_SECONDS
    config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(days=config["JWT_EXPIRATION_DAYS"])
    config["JWT_TOKEN_LOCATION"] = ["headers"]
    config["JWT_COOKIE_CSRF_PROTECT"] = False  # no cookies here: keeps a `csrf` claim out of tokens
    jwt.init_app(app)
    app.extensions["aiteni.principals"] = PrincipalCache()


@jwt.decode_key_loader
def _decode_key(header, unverified_claims):
    # A token unlike those we issue is not ours, even if correctly signed: a missing claim,
    # another type, or a header naming a key or an extension (kid, jku, jwk, x5u, crit...).
    if (
        header.get("alg") != "HS256"
        or not HEADER_FIELDS.issuperset(header)
        or any(c not in unverified_claims for c in REQUIRED_CLAIMS)
        or unverified_claims["type"] != "access"
    ):
        raise JWTDecodeError("not a token this server issues")
    return current_app.config["JWT_SECRET_KEY"]


@jwt.user_lookup_loader
def _lookup_user(header, claims):
    principal = _load_principal(claims)  # a Principal, or 401: never None
    request.environ[logs.USER_ID] = principal.id
    return principal


# Flask-JWT-Extended's error answers, in the envelope: each of its loaders answers one message.
for loader, message in (
    (jwt.unauthorized_loader, LOGIN_FIRST),
    (jwt.invalid_token_loader, INVALID),
    (jwt.expired_token_loader, EXPIRED),
    (jwt.revoked_token_loader, REVOKED),
    (jwt.user_lookup_error_loader, USER_GONE),
    (jwt.token_verification_failed_loader, INVALID),
    (jwt.needs_fresh_token_loader, INVALID),
):
    loader(lambda *_, message=message: error_response(401, message))
