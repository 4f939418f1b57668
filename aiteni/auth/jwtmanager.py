"""Flask-JWT-Extended's manager: `exp` exact, and the tokens it has already verified remembered.

`exp` exact: the decode leeway that absorbs clock skew between hosts
(tokens.CLOCK_SKEW_SECONDS) is meant for `iat` and `nbf` only, and PyJWT grants
it to `exp` too. A token verification loader, public, answers a token past its
`exp` as expired.

Remembered tokens: PyJWT checks every base64 character of a token in Python,
and Flask-JWT-Extended parses a token five times per request (four to verify
it, once more to read its header): together the largest cost of an
authenticated request. The same token string under the same key always decodes
to the same header and claims, so a verified token's are kept and reused until
the token expires; everything else Flask-JWT-Extended does per request (type
check, user loader, error loaders, `current_user`) still runs. No public hook
skips those parses: this overrides the private `_decode_jwt_from_config` and
replaces the header read of `view_decorators`, which `init_app` switches on only
on the pinned version (pins.py); on another, the stock code parses every time.
"""
import time

import flask_jwt_extended
import jwt
from flask import current_app
from flask_jwt_extended import view_decorators

from .. import pins

MAX_REMEMBERED = 5_000
VERIFIED_TOKENS = "aiteni.verified_tokens"


class JWTManager(flask_jwt_extended.JWTManager):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.token_verification_loader(_unexpired)

    def init_app(self, app, add_context_processor=False):
        super().init_app(app, add_context_processor)
        remember_verified_tokens(app)

    def _decode_jwt_from_config(self, *args, **kwargs):
        # Per app: a token verified under one app's key proves nothing under another's.
        remembered = current_app.extensions.get(VERIFIED_TOKENS)
        if remembered is None:
            return super()._decode_jwt_from_config(*args, **kwargs)
        return self._decode_remembering(remembered, *args, **kwargs)

    def _decode_remembering(self, remembered, encoded_token, csrf_value=None, allow_expired=False):
        """4.7.4's _decode_jwt_from_config, answering from `remembered` what it answered before."""
        entry = remembered.get(encoded_token)
        if entry is not None and (allow_expired or time.time() < int(entry[0]["exp"])):
            return dict(entry[0])
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if not allow_expired:
            header = jwt.get_unverified_header(encoded_token)
            # Here too, not only in the loader: decode_token's callers (the rate limiter's key) see `exp` exact.
            _unexpired(header, claims)
            if len(remembered) >= MAX_REMEMBERED:
                remembered.clear()
            remembered[encoded_token] = (claims, header)
        return dict(claims)


def remember_verified_tokens(app, version=None):
    """Switches the memo on for `app` when Flask-JWT-Extended runs at its pinned version (`version` stands in for the installed
    one); otherwise the stock decode and header read serve it."""
    if not pins.pinned("Flask-JWT-Extended", "the memo of verified tokens", version):
        app.extensions[VERIFIED_TOKENS] = None
        return
    app.extensions[VERIFIED_TOKENS] = {}  # token -> (claims, header)
    # Flask-JWT-Extended reads the header, after verifying the token, through this module-level name and offers
    # no hook for it.
    view_decorators.get_unverified_jwt_headers = _verified_header


def _verified_header(encoded_token):
    """The header of a token this app has verified, without parsing it again (a fifth of verify's CPU)."""
    entry = (current_app.extensions.get(VERIFIED_TOKENS) or {}).get(encoded_token)
    return dict(entry[1]) if entry is not None else flask_jwt_extended.get_unverified_jwt_headers(encoded_token)


def _unexpired(jwt_header, jwt_data):
    """True for a token before its `exp`; past it, PyJWT's own error, which the expired-token loader answers."""
    # Read as PyJWT reads it: a numeric string too.
    if int(jwt_data["exp"]) <= time.time():
        expired = jwt.ExpiredSignatureError("Signature has expired")
        expired.jwt_header, expired.jwt_data = jwt_header, jwt_data  # what Flask-JWT-Extended's handler reads
        raise expired
    return True
