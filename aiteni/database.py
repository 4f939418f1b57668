"""Binds SQLAlchemy, tunes each new connection, and runs the hot paths' write transactions."""
import threading
from contextlib import contextmanager, nullcontext

import orjson
import sqlalchemy as sa
from flask import current_app

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


@contextmanager
def write_transaction():
    """A Core transaction for a hot write path (login, save); on SQLite, one such writer at a time.

    SQLite has one write lock per database, and a writer that finds it taken
    sleeps 1, 2, 5, 10... ms before it tries again, while the holder waits its
    turn for the GIL between statements. Under load that convoy cost logins a
    sixth of their CPU. Queued on a lock here, each writer wakes the moment the
    one before it commits. MySQL locks rows, so its writers run side by side.
    """
    with current_app.extensions["aiteni.write_lock"], db.engine.begin() as connection:
        yield connection


def init_app(app):
    # JSON columns through orjson: history decodes three per record, several times faster.
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    options.setdefault("json_serializer", _json_text)
    options.setdefault("json_deserializer", orjson.loads)
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            sa.event.listen(engine, "connect", _tune_sqlite)
    app.extensions["aiteni.write_lock"] = threading.Lock() if sqlite else nullcontext()
