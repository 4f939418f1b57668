"""Binds SQLAlchemy, tunes each new connection, checks the schema, and runs the hot paths' write transactions."""
import functools
import logging
import re
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click
import orjson
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import DBAPIError

from . import ConfigError
from .extensions import db
from .models import SCHEMA_REVISION

log = logging.getLogger(__name__)

UPGRADE = "run flask --app wsgi db upgrade"
# MySQL/MariaDB error numbers: unknown database; access denied (to the database, to the user,
# to a user MariaDB authenticates by unix socket); table does not exist; unknown column.
NO_DATABASE, NO_TABLE, NO_COLUMN = 1049, 1146, 1054
DENIED = {1044, 1045, 1698}
# SQLite says the same in words (its error code is the generic SQLITE_ERROR).
SQLITE_MISSING = ("no such table", "no such column", "has no column named")


def not_migrated(problem):
    """The error log's line for a database behind the code."""
    return f"database not migrated ({problem}): {UPGRADE}"


def _mysql_code(error):
    args = getattr(error.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


# InnoDB's answers when two transactions' locks cross (1213, a deadlock) or a lock wait runs out
# (1205): the transaction was rolled back, and running it again is the documented remedy.
RETRYABLE = {1213, 1205}


def is_retryable(error):
    """Whether `error` rolled back a transaction that may simply run again."""
    return isinstance(error, DBAPIError) and _mysql_code(error) in RETRYABLE


def missing_schema(error):
    """What the database lacks, when that is why `error` (a DBAPIError) happened; None otherwise.

    In a request, errors.py answers such an error 503 and logs what to run (not_migrated).
    """
    text = str(error.orig)
    if _mysql_code(error) in {NO_TABLE, NO_COLUMN}:
        return error.orig.args[1]
    if any(words in text for words in SQLITE_MISSING):
        return text
    return None


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
CURRENT, AHEAD, BEHIND = "current", "ahead", "behind"


@functools.cache
def known_revisions():
    """Every revision in migrations/versions/, read from the scripts' `revision = "..."` lines (not through
    alembic, ~11 MB the server never loads otherwise)."""
    pattern = re.compile(r"""^revision\s*=\s*['"]([0-9A-Za-z_]+)['"]""", re.M)
    return frozenset(
        found.group(1) for path in MIGRATIONS.glob("*.py")
        if (found := pattern.search(path.read_text(encoding="utf-8")))
    )


def schema_state(connection):
    """Where this database's schema stands against this code's (models.SCHEMA_REVISION): CURRENT, AHEAD
    or BEHIND, and why when it is not CURRENT.

    AHEAD is a revision none of this code's migrations know: a newer release's, run while this
    host still serves the older code (a staged upgrade). Newer migrations keep what older code
    reads, so it is served as it is. One query; a database that is down raises as any query would.
    """
    try:
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as error:
        problem = missing_schema(error)
        if problem is None:
            raise
        return BEHIND, problem
    if revision == SCHEMA_REVISION:
        return CURRENT, None
    known = known_revisions()
    # With no migrations to read (a packaging slip), nothing can be told ahead: behind, as it was.
    if revision and known and revision not in known:
        return AHEAD, f"at revision {revision}, newer than this version of aiteni ({SCHEMA_REVISION})"
    return BEHIND, f"it is at revision {revision or 'none'}, this version of aiteni needs {SCHEMA_REVISION}"


def check_tables(tables):
    """Raises the database's own error when one of `tables` or of their columns is missing (errors.py
    answers it 503 and logs what to run), before a request does what cannot be undone, such as
    spending a WeChat code. Once they are all there, this process does not ask again.
    """
    found = current_app.extensions["aiteni.tables_found"]
    if all(table.name in found for table in tables):
        return
    with db.engine.connect() as connection:
        for table in tables:
            connection.execute(sa.select(*table.columns).limit(0)).all()
    found.update(table.name for table in tables)


def _unusable(error, url):
    """The one line a DATABASE_URL that can never work (as opposed to a server that is down) stops the start with."""
    code = _mysql_code(error)
    if code == NO_DATABASE:
        return (
            f"DATABASE_URL: database {url.database} does not exist on {url.host}:{url.port or 3306}; create it "
            f"(CREATE DATABASE {url.database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci), then {UPGRADE}"
        )
    if code in DENIED:
        return f"DATABASE_URL: {error.orig.args[1]}: check the user, password and grants"
    if url.get_backend_name() == "sqlite" and "unable to open database file" in str(error.orig):
        return f"DATABASE_URL: cannot open the SQLite file {url.database}: does its folder exist, may aiteni write there?"
    return None


def _start_problem(engine):
    """The log level and line of what is wrong with the database (None: nothing); ConfigError if
    DATABASE_URL can never work."""
    try:
        with engine.connect() as connection:
            state, problem = schema_state(connection)
    except RuntimeError as error:
        # PyMySQL's answer to a login method it lacks a package for (MySQL 8's caching_sha2_password:
        # cryptography; MariaDB's ed25519: pynacl), raised as it is, not as a database error.
        if engine.url.get_backend_name() != "mysql":
            raise
        raise ConfigError(
            f"DATABASE_URL: cannot log in to {engine.url.host}:{engine.url.port or 3306}: {error}; install it "
            "into aiteni's .venv (pip install -r requirements.txt installs cryptography)"
        ) from None
    except DBAPIError as error:
        unusable = _unusable(error, engine.url)
        if unusable:
            raise ConfigError(unusable) from None
        return logging.ERROR, f"database unavailable at start: {error.orig}"
    if state == AHEAD:
        return logging.WARNING, f"database {problem}: serving it as it is; update this host's code"
    return logging.ERROR, problem and not_migrated(problem)


def check_at_start(app):
    """Connects once: a DATABASE_URL that cannot work stops the start; a server down or a schema behind
    is logged as an error, a schema ahead (a staged upgrade) as a warning.

    Requests answer 503 until the server is back or the migrations have run.
    `flask` commands log none of these: each says what failed itself, and `db upgrade` is the fix.
    """
    with app.app_context():
        level, problem = _start_problem(db.engine)
    if problem and click.get_current_context(silent=True) is None:
        log.log(level, problem)


def _tune_sqlite(dbapi_connection, _record):
    # Foreign keys are off by default in SQLite (ON DELETE CASCADE would be ignored);
    # WAL lets readers run during a write; NORMAL skips an fsync per commit in WAL mode.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    # 128 KiB of page cache per pooled connection (default 2 MiB): with one per server
    # thread a larger cache costs the process more memory than it saves time (512 KiB:
    # 2.3-3 MB more at the bench's peak, history's CPU the same); the OS caches the file anyway.
    cursor.execute("PRAGMA cache_size=-128")
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
    app.extensions["aiteni.tables_found"] = set()
