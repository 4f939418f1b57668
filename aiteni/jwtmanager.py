"""Flask-JWT-Extended's manager, remembering the tokens it has already verified.

PyJWT checks every base64 character of a token in Python, and Flask-JWT-Extended
parses a token five times per request (four to verify it, once more to read its
header): together the largest cost of an authenticated request. The same token
string under the same key always decodes to the same header and claims, so a
verified token's are kept and reused until the token expires; everything else
Flask-JWT-Extended does per request (type check, user loader, error loaders,
`current_user`) still runs.

It also keeps `exp` exact: the decode leeway that absorbs clock skew between
hosts is meant for `iat` and `nbf` only, and PyJWT would grant it to `exp` too.
"""
import time

import flask_jwt_extended
import jwt
from flask import current_app
from flask_jwt_extended import view_decorators

MAX_REMEMBERED = 5_000


class JWTManager(flask_jwt_extended.JWTManager):
    def init_app(self, app, add_context_processor=False):
        super().init_app(app, add_context_processor)
        app.extensions["aiteni.verified_tokens"] = {}  # token -> (claims, header)

    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        # Per app: a token verified under one app's key proves nothing under another's.
        remembered = current_app.extensions["aiteni.verified_tokens"]
        entry = remembered.get(encoded_token)
        if entry is not None and (allow_expired or time.time() < int(entry[0]["exp"])):
            return dict(entry[0])
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if not allow_expired:
            header = jwt.get_unverified_header(encoded_token)
            # PyJWT grants JWT_DECODE_LEEWAY to exp too, but only iat and nbf are meant to have it
            # (tokens.CLOCK_SKEW_SECONDS): exp is checked again without it, read as PyJWT reads it.
            if int(claims["exp"]) <= time.time():
                expired = jwt.ExpiredSignatureError("Signature has expired")
                expired.jwt_header, expired.jwt_data = header, claims  # what Flask-JWT-Extended's handler reads
                raise expired
            if len(remembered) >= MAX_REMEMBERED:
                remembered.clear()
            remembered[encoded_token] = (claims, header)
        return dict(claims)


def _verified_header(encoded_token):
    """The header of a token this app has verified, without parsing it again (a fifth of verify's CPU)."""
    entry = current_app.extensions.get("aiteni.verified_tokens", {}).get(encoded_token)
    return dict(entry[1]) if entry is not None else jwt.get_unverified_header(encoded_token)


# Flask-JWT-Extended reads the header, after verifying the token, through this module-level
# name and offers no hook for it (pinned 4.7.4; tests/test_tokens.py guards the name).
view_decorators.get_unverified_jwt_headers = _verified_header
