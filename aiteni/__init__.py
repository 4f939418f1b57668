"""aiteni: the backend of the NTRP self-rating WeChat mini-program."""
from pathlib import Path

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

__version__ = "1.0.0"


class ConfigError(RuntimeError):
    """Settings a production server must not start with."""


def create_app(config=None):
    """Builds the app: config.py's class for AITENI_ENV, then instance/config.py, then `config`."""
    import config as settings

    # No static folder: a JSON API has no files to serve at /static.
    app = Flask(
        __name__, instance_path=str(settings.INSTANCE_DIR), instance_relative_config=True, static_folder=None
    )
    app.config.from_object(settings.config_class())
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.update(config)
    app.config["JWT_SECRET"] = app.config["JWT_SECRET"] or app.config["SECRET_KEY"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", settings.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    if app.config["ENV_NAME"] == "production":
        problem = settings.production_problem(app.config)
        if problem:
            raise ConfigError(problem)

    app.url_map.strict_slashes = False
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_rate_limits(app)
    register_error_handlers(app)
    register_commands(app)
    trust_proxies(app)
    return app


def register_extensions(app):
    from . import database, evaluation, tokens, wechat
    from .envelope import OrjsonProvider

    app.json = OrjsonProvider(app)
    database.init_app(app)
    # Flask-Migrate pulls in alembic, ~11 MB that a WSGI server never uses: only the
    # `flask` command (`flask db upgrade`) and the tests bind it.
    if app.testing or click.get_current_context(silent=True) is not None:
        from flask_migrate import Migrate

        Migrate(app, database.db, directory=str(Path(app.root_path).parent / "migrations"))
    tokens.init_app(app)
    wechat.init_app(app)
    evaluation.init_app(app)


def register_blueprints(app):
    from . import auth, docs, records, service
    from .evaluation import views as evaluation

    app.register_blueprint(auth.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(evaluation.bp)
    app.register_blueprint(service.bp)
    app.register_blueprint(docs.bp)
    if app.config["API_DOCS"]:
        app.register_blueprint(docs.ui)


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


def trust_proxies(app):
    """Behind PROXY_FIX_X_FOR proxies the client is who they say (X-Forwarded-For); otherwise the header is ignored."""
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])
