import logging
from collections import Counter
from logging.config import fileConfig

from flask import current_app
from sqlalchemy.exc import OperationalError

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# The app has already set up logging (files, secret masking): keep it.
if not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def set_sqlite_foreign_keys(connection, enabled):
    """Sets PRAGMA foreign_keys on this connection and reads it back.

    SQLite ignores the pragma inside a transaction, so SQLAlchemy's (autobegun,
    empty: pysqlite opens a real one only before INSERT/UPDATE/DELETE) is ended
    around it; the read-back catches a driver that opened one anyway.
    """
    pragma = f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}"
    connection.rollback()
    connection.exec_driver_sql(pragma)
    state = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    connection.rollback()
    if bool(state) != enabled:
        raise RuntimeError(f"{pragma} did not take: a transaction was open on the migration connection")


def check_sqlite_foreign_keys(connection):
    """Fails, naming the tables, if the migrations left rows pointing at rows that are gone."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check")
    dangling = Counter((table, parent) for table, _rowid, parent, _fk in rows)
    if dangling:
        tables = ", ".join(f"{table} ({count} rows -> {parent})" for (table, parent), count in sorted(dangling.items()))
        raise RuntimeError(
            f"The schema change left rows whose foreign key points at no row: {tables}; "
            "PRAGMA foreign_key_check lists them"
        )


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    try:
        connection = get_engine().connect()
    except OperationalError as error:
        # Flask-Migrate prints a RuntimeError as one "Error: ..." line instead of a traceback.
        raise RuntimeError(f"database unavailable: {error.orig}") from None

    with connection:
        # On SQLite a table rebuild (any batch_alter_table change SQLite cannot ALTER)
        # drops the old table, and with foreign keys on that drop deletes every row
        # referring to it through ON DELETE CASCADE: sessions, tokens, records. So the
        # migrations run with enforcement off and check integrity afterwards. The app
        # turns enforcement on only when a connection is made, so it is turned back on
        # before this one returns to the pool.
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            set_sqlite_foreign_keys(connection, False)
        try:
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                **conf_args
            )
            before = context.get_context().get_current_revision()

            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                check_sqlite_foreign_keys(connection)
            # A second `db upgrade` ran nothing: say so, rather than print nothing at all. Only an upgrade to
            # where the database already is: `db current` and `db check` run this too, with no destination.
            after = context.get_context().get_current_revision()
            if before == after == _destination() and before in context.script.get_heads():
                logger.info("Nothing to upgrade: the database is already at the latest revision, %s.", before)
        finally:
            if sqlite:
                set_sqlite_foreign_keys(connection, True)


def _destination():
    """The revision the command moves to; None for a command with none (alembic's lookup raises KeyError)."""
    try:
        return context.get_revision_argument()
    except KeyError:
        return None


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
