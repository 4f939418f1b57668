"""aiteni: the backend of the NTRP self-rating WeChat mini-program."""
import logging
from pathlib import Path

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

__version__ = "1.1.0"

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """Settings a production server must not start with."""


def create_app(config=None):
    """Builds the app from config.py's settings (instance/config.py, environment, .env), then `config`.

    Raises ConfigError, one line, for a setting it must not start with.
    """
    import config as settings

    # No static folder: a JSON API has no files to serve at /static.
    app = Flask(__name__, instance_path=str(settings.INSTANCE_DIR), static_folder=None)
    try:
        values, notes = settings.load()
    except settings.SettingError as error:
        raise ConfigError(str(error)) from None
    app.config.update(values)
    if config:
        app.config.update(config)
    app.config["JWT_SECRET"] = app.config["JWT_SECRET"] or app.config["SECRET_KEY"]
    problem = settings.database_problem(app.config["SQLALCHEMY_DATABASE_URI"])
    problem = settings.secret_problem(app.config) or problem
    if app.config["ENV_NAME"] == "production":
        problem = settings.production_problem(app.config) or problem
    if problem:
        raise ConfigError(problem)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", settings.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))

    app.url_map.strict_slashes = False
    # A doubled slash is a path of no route (404), not werkzeug's HTML redirect to the merged one.
    app.url_map.merge_slashes = False
    configure_logging(app)
    for note in notes:
        log.warning(note)
    register_extensions(app)
    register_blueprints(app)
    register_rate_limits(app)
    register_error_handlers(app)
    register_commands(app)
    trust_proxies(app)
    check_database(app)
    return app


def register_extensions(app):
    from . import database, evaluation, wechat
    from .auth import tokens
    from .envelope import CharsetResponse, OrjsonProvider

    app.response_class = CharsetResponse
    app.json = OrjsonProvider(app)
    database.init_app(app)
    # Flask-Migrate pulls in alembic, ~11 MB that a WSGI server never uses: only the
    # `flask` command (`flask db upgrade`) and the tests bind it.
    if app.testing or click.get_current_context(silent=True) is not None:
        quiet_alembic()
        from flask_migrate import Migrate

        Migrate(app, database.db, directory=str(Path(app.root_path).parent / "migrations"))
    tokens.init_app(app)
    wechat.init_app(app)
    evaluation.init_app(app)


def _migration_steps_only(record):
    """Of alembic's INFO lines, "Running upgrade a -> b" only: not the dialect and DDL mode it found."""
    return record.levelno > logging.INFO or str(record.msg).startswith("Running ")


def quiet_alembic():
    """Keeps alembic's start-up chatter out of every `flask` command's output and the info log.

    Importing alembic announces each of its plugins at INFO ("setup plugin
    alembic.autogenerate.schemas"...), so this runs before flask_migrate is imported.
    """
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").addFilter(_migration_steps_only)


def register_blueprints(app):
    from . import docs, service, share
    from .auth import views as auth
    from .evaluation import views as evaluation

    app.register_blueprint(auth.bp)
    app.register_blueprint(evaluation.records_bp)
    app.register_blueprint(evaluation.bp)
    app.register_blueprint(share.bp)
    app.register_blueprint(service.bp)
    app.register_blueprint(docs.bp)
    if app.config["API_DOCS"]:
        app.register_blueprint(docs.ui)
    from . import admin

    admin.init_app(app)


def register_rate_limits(app):
    from . import ratelimit

    ratelimit.init_app(app)


def register_error_handlers(app):
    from .errors import register_error_handlers as register

    register(app)


def register_commands(app):
    from .commands import register

    register(app)


def configure_logging(app):
    from .logs import configure_logging as configure

    configure(app)


def check_database(app):
    from .database import check_at_start

    check_at_start(app)


def trust_proxies(app):
    """Behind PROXY_FIX_X_FOR proxies the client is who they say (X-Forwarded-For); otherwise the header is ignored."""
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])
