"""The benchmark's own set-up where CI's smoke run (SQLite) does not reach it."""
import argparse
import secrets

import pytest
import sqlalchemy as sa

from bench.run import fresh_database
from tests.helpers.mariadb import server_url


@pytest.mark.services
def test_mysql_database_that_does_not_exist_yet_is_created(tmp_path):
    """`python -m bench --mysql URL` creates the database it names: it must not need it to exist already."""
    name = f"aiteni_b_{secrets.token_hex(5)}"
    args = argparse.Namespace(mysql=server_url().set(database=name).render_as_string(hide_password=False))
    engine = sa.create_engine(fresh_database(args, tmp_path, "main"))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT DATABASE(), @@character_set_database").one() == (name, "utf8mb4")
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        engine.dispose()
