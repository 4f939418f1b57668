"""Identifiers compare byte for byte on MySQL/MariaDB: openid, unionid, session id, refresh-token hash

The tables' collation, utf8mb4_unicode_ci, ignores letter case, so two openids
differing only in case were one account. utf8mb4_bin compares bytes, as SQLite
always does; on SQLite this revision changes nothing.

Downgrading fails if two rows of a unique column then differ only in case.

Revision ID: a3c9e1f0b7d2
Revises: 5b1e2c9a7f40
Create Date: 2026-11-29 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c9e1f0b7d2'
down_revision = '5b1e2c9a7f40'
branch_labels = None
depends_on = None

# Per table: (column, VARCHAR length, nullable).
IDENTIFIERS = {
    'aiteni_user': [('wechat_openid', 64, False), ('wechat_unionid', 64, True)],
    'aiteni_login_session': [('id', 32, False)],
    'aiteni_refresh_token': [('token_hash', 64, False), ('session_id', 32, False)],
}


def collate(collation):
    bind = op.get_bind()
    if bind.dialect.name not in ('mysql', 'mariadb'):
        return
    # MariaDB refuses to change a column a foreign key joins (errors 1832, 1833): the key goes, then comes back.
    token_session = next(
        key for key in sa.inspect(bind).get_foreign_keys('aiteni_refresh_token')
        if key['referred_table'] == 'aiteni_login_session'
    )
    op.drop_constraint(token_session['name'], 'aiteni_refresh_token', type_='foreignkey')
    for table, columns in IDENTIFIERS.items():
        # One ALTER per table: MariaDB copies the table once, not once per column.
        changes = ', '.join(
            f"MODIFY {name} VARCHAR({length}) CHARACTER SET utf8mb4 COLLATE {collation} {'NULL' if nullable else 'NOT NULL'}"
            for name, length, nullable in columns
        )
        op.execute(f'ALTER TABLE {table} {changes}')
    op.create_foreign_key(
        token_session['name'], 'aiteni_refresh_token', 'aiteni_login_session', ['session_id'], ['id'],
        ondelete='CASCADE',
    )


def upgrade():
    collate('utf8mb4_bin')


def downgrade():
    collate('utf8mb4_unicode_ci')
