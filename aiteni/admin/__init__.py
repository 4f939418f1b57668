"""The operators' console at /admin/ (docs/console.md): HTML pages for people, apart from the JSON API.

On when an enabled account exists and ADMIN_ENABLED is not 0 (its default is on), and only for
clients in ADMIN_ALLOWED_NETWORKS; otherwise /admin/... answers the API's 404.
"""
import hashlib
import hmac
import ipaddress
import logging

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from . import auth

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")

# Reached signed out: the sign-in page and the stylesheet it uses.
OPEN_ENDPOINTS = {"admin.login", "admin.static"}
HEADERS = {
    # No script at all: the pages are plain HTML and inline SVG.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, signed with a key of its own derived from JWT_SECRET.

    A separate key: no console cookie can be turned into a JWT nor the reverse,
    and every process of a deployment signs alike (SECRET_KEY may be random per process).
    """

    salt = "aiteni-console-session"

    def open_session(self, app, request):
        # The API keeps no session: outside the console Flask gets None and makes a null session, so no
        # /api/ request pays for reading, signing or saving a cookie.
        if request.path != "/admin" and not request.path.startswith("/admin/"):
            return None
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        return URLSafeTimedSerializer(app.extensions["aiteni.console_key"], salt=self.salt, serializer=self.serializer,
                                      signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})

    def get_cookie_secure(self, app):
        return app.config["ENV_NAME"] == "production" or request.is_secure


def init_app(app):
    """Registers the console when ADMIN_ENABLED; production warns when any network may reach it."""
    config = app.config
    if not config["ADMIN_ENABLED"]:
        return
    app.extensions["aiteni.console_key"] = hmac.new(config["JWT_SECRET"].encode(), b"aiteni console",
                                                    hashlib.sha256).digest()
    app.extensions["aiteni.console_networks"] = [ipaddress.ip_network(n) for n in config["ADMIN_ALLOWED_NETWORKS"]]
    app.session_interface = ConsoleSessionInterface()
    config.update(
        SESSION_COOKIE_NAME="aiteni_console", SESSION_COOKIE_PATH="/admin", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", WTF_CSRF_SECRET_KEY=app.extensions["aiteni.console_key"],
        WTF_CSRF_TIME_LIMIT=int(auth.ABSOLUTE.total_seconds()),
    )
    networks = app.extensions["aiteni.console_networks"]
    if config["ENV_NAME"] == "production" and (not networks or any(n.prefixlen == 0 for n in networks)):
        log.warning("the console (/admin/) is on and any network can reach it: set ADMIN_ALLOWED_NETWORKS "
                    "(docs/console.md)")
    from . import views  # noqa: F401  (its routes join bp)

    app.register_blueprint(bp)


def _allowed(remote):
    networks = current_app.extensions["aiteni.console_networks"]
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(remote)
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return any(ip in network for network in networks)


@bp.before_request
def gate():
    """Off, or from outside the allowed networks: the API's 404. Signed out: the sign-in page. A form: its CSRF token."""
    if not _allowed(request.remote_addr or "") or not auth.any_enabled():
        abort(404)
    if request.endpoint in OPEN_ENDPOINTS:
        g.account = None
    else:
        g.account = auth.current_account()
        if g.account is None:
            return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
    if request.method == "POST":
        # Flask-WTF and WTForms (~1 MB) load with the console's first form, not in every API process.
        from flask_wtf.csrf import validate_csrf
        from wtforms import ValidationError

        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            return csrf_refused()
    return None


@bp.context_processor
def csrf_field():
    from flask_wtf.csrf import generate_csrf

    return {"csrf_token": generate_csrf}


@bp.after_request
def security_headers(response):
    response.headers.update(HEADERS)
    return response


def csrf_refused():
    """A form without its CSRF token, or with another's: nothing done, 400."""
    return render_template("admin/error.html", message="表单已失效（缺少或错误的安全令牌），未做任何更改。请返回并刷新页面后重试。"), 400
