"""The suite's databases: the tables a test empties, both kinds for tests of server processes, the migrations."""
import os

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from aiteni import create_app
from aiteni.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# Children first, so deleting rows never trips a foreign key; last, what the server keeps from
# WeChat (its access token, the share codes it made), and the console's tables.
TABLES = ["aiteni_refresh_token", "aiteni_login_session", "aiteni_evaluation_record", "aiteni_user",
          "aiteni_wechat_access_token", "aiteni_wechat_share_code",
          "aiteni_admin_session", "aiteni_admin_audit", "aiteni_admin_account"]


# For fixtures that give a test both kinds of database: the MariaDB one needs the server, so it
# carries the `services` marker and the quick suite (the README's command, Python alone) skips it.
BOTH_DATABASES = ["sqlite", pytest.param("mariadb", marks=pytest.mark.services)]


def on_mysql():
    return bool(TEST_DATABASE_URL) and TEST_DATABASE_URL.startswith("mysql")


def drop_everything(url):
    """Leaves the database empty, so the migrations build it from nothing."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for table in TABLES + ["alembic_version"]:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


def migrate(url):
    """Builds the schema at `url` with the migrations, as `flask db upgrade` would."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
