"""Throwaway databases on the suite's MariaDB server, for tests that need MariaDB itself.

The server is TEST_DATABASE_URL's when that points at MySQL/MariaDB, otherwise
TEST_MARIADB_SERVER's, otherwise the one on 127.0.0.1:3306. Every test that uses one
carries the `services` marker: the quick suite runs on a machine with Python alone.
CI runs the quick suite with TEST_MARIADB_SERVER at a closed port, so an unmarked
test that reaches for MariaDB fails there.
"""
import os
import secrets
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.helpers.database import TABLES, migrate

LOCAL_SERVER = "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4"


def server_url():
    url = os.environ.get("TEST_DATABASE_URL") or ""
    return make_url(url if url.startswith("mysql") else os.environ.get("TEST_MARIADB_SERVER") or LOCAL_SERVER)


@contextmanager
def throwaway_database():
    """A new, migrated database; dropped afterwards. Yields its URL."""
    server = server_url()
    name = f"aiteni_t_{secrets.token_hex(5)}"
    admin = sa.create_engine(server._replace(database=None))  # URL.set ignores None
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    url = server.set(database=name)
    try:
        migrate(url.render_as_string(hide_password=False))
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def empty_tables(url):
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for table in TABLES:
            connection.execute(sa.text(f"DELETE FROM {table}"))
    engine.dispose()


def through(url, port):
    """The same database reached via 127.0.0.1:<port> (a TcpProxy), as a string for the app."""
    return url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
