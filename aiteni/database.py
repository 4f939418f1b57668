"""Binds SQLAlchemy and tunes each new connection for the database behind it."""
import orjson
import sqlalchemy as sa

from .extensions import db


def _tune_sqlite(dbapi_connection, _record):
    # Foreign keys are off by default in SQLite (ON DELETE CASCADE would be ignored);
    # WAL lets readers run during a write; NORMAL skips an fsync per commit in WAL mode.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # 512 KiB of page cache per pooled connection (default 2 MiB): with one per server
    # thread the default costs the process more memory than it saves time; the OS
    # caches the file anyway.
    cursor.execute("PRAGMA cache_size=-512")
    cursor.close()


def _json_text(value):
    return orjson.dumps(value).decode()


def init_app(app):
    # JSON columns through orjson: history decodes three per record, several times faster.
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    options.setdefault("json_serializer", _json_text)
    options.setdefault("json_deserializer", orjson.loads)
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _tune_sqlite)
