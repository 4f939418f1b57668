"""The migrations are the schema: they build it from nothing on SQLite and MariaDB alike."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from aiteni.extensions import db
from aiteni.models import User
from conftest import TABLES, on_mysql


def test_models_and_migrations_agree(app):
    """A model change without a migration fails here."""
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_downgrade_to_empty_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(TABLES) <= set(sa.inspect(db.engine).get_table_names())


def test_emoji_nickname_round_trips_byte_for_byte(app):
    with app.app_context():
        db.session.add(User(wechat_openid="o_emoji", wechat_nickname="网球🎾小王"))
        db.session.commit()
        db.session.expire_all()
        assert db.session.scalar(sa.select(User.wechat_nickname)) == "网球🎾小王"
        if on_mysql():
            rows = db.session.execute(
                sa.text(
                    "SELECT table_name, engine, table_collation FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name LIKE 'aiteni%'"
                )
            ).all()
            assert len(rows) == len(TABLES)
            assert all(engine == "InnoDB" and collation.startswith("utf8mb4") for _, engine, collation in rows)
