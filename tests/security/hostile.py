"""Tools for hostile tests: the protected endpoints, a valid record, and a token forger."""
import base64
import json
import time

import jwt

PROTECTED = [
    ("POST", "/api/auth/verify"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/user/info"),
    ("POST", "/api/user/update"),
    ("DELETE", "/api/user"),
    ("POST", "/api/evaluation/save"),
    ("GET", "/api/evaluation/history"),
    ("GET", "/api/evaluation/result/1"),
    ("DELETE", "/api/evaluation/delete/1"),
]

RECORD = {
    "answers": {"Q1": "Q1_A3"},
    "result": {
        "total_level": 3.62, "rounded_level": 3.5, "level_label": "发展中业余选手",
        "dimension_scores": {"forehand": 3.8}, "dimension_comments": {"forehand": "好"}, "summary_text": "整体来看",
    },
}


def b64(data):
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Forger:
    """Builds tokens from a real user's claims, signed with the server's key unless told otherwise."""

    def __init__(self, app, login):
        self.secret = app.config["JWT_SECRET"]
        self.token = login["token"]
        self.refresh_token = login["refreshToken"]
        self.user_id = login["userInfo"]["id"]
        self.claims = jwt.decode(self.token, options={"verify_signature": False})

    def sign(self, key=None, algorithm="HS256", headers=None, drop=(), **changes):
        claims = {k: v for k, v in {**self.claims, **changes}.items() if k not in drop}
        return jwt.encode(claims, self.secret if key is None else key, algorithm=algorithm, headers=headers)

    def raw(self, header, claims, signature=b""):
        """A token assembled by hand: any header, any payload, any signature bytes."""
        return f"{b64(header)}.{b64(claims)}.{b64(signature) if signature else ''}"

    def with_payload(self, claims):
        """The real token's header and signature around another payload (claims or raw bytes)."""
        header, _, signature = self.token.split(".")
        return f"{header}.{b64(claims)}.{signature}"

    def now(self):
        return int(time.time())
