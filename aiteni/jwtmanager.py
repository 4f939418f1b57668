"""Flask-JWT-Extended's manager, remembering the tokens it has already verified.

PyJWT checks every base64 character of a token in Python, and Flask-JWT-Extended
parses a token four times per request: together the largest cost of an
authenticated request. The same token string under the same key always decodes
to the same claims, so a verified token's claims are kept and reused until the
token expires; everything else Flask-JWT-Extended does per request (type check,
user loader, error loaders, `current_user`) still runs.
"""
import time

import flask_jwt_extended
from flask import current_app

MAX_REMEMBERED = 5_000


class JWTManager(flask_jwt_extended.JWTManager):
    def init_app(self, app, add_context_processor=False):
        super().init_app(app, add_context_processor)
        app.extensions["aiteni.verified_tokens"] = {}

    def _decode_jwt_from_config(self, encoded_token, csrf_value=None, allow_expired=False):
        # Per app: a token verified under one app's key proves nothing under another's.
        remembered = current_app.extensions["aiteni.verified_tokens"]
        claims = remembered.get(encoded_token)
        if claims is not None and (allow_expired or time.time() < claims["exp"]):
            return dict(claims)
        claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        if not allow_expired:
            if len(remembered) >= MAX_REMEMBERED:
                remembered.clear()
            remembered[encoded_token] = claims
        return dict(claims)
