"""The operators' console: its accounts, their sign-in sessions, the audit log; records indexed by date

Three new tables and one index; no existing row or column changes. The index
lets the console count records per day without reading the whole table.

Revision ID: e8a4b6d21c93
Revises: e8a41f6b2c93
Create Date: 2026-12-06 23:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql


# revision identifiers, used by Alembic.
revision = 'e8a4b6d21c93'
down_revision = 'e8a41f6b2c93'
branch_labels = None
depends_on = None

MYSQL_TABLE = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_unicode_ci', 'mysql_engine': 'InnoDB'}


def big_id():
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def identifier(length):
    return sa.String(length=length).with_variant(mysql.VARCHAR(length, collation='utf8mb4_bin'), 'mysql', 'mariadb')


def utc_datetime():
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade():
    op.create_table('aiteni_admin_account',
    sa.Column('id', big_id(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', utc_datetime(), nullable=True),
    sa.Column('created_at', utc_datetime(), nullable=False),
    sa.Column('last_login_at', utc_datetime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    **MYSQL_TABLE
    )
    op.create_table('aiteni_admin_session',
    sa.Column('token_hash', identifier(64), nullable=False),
    sa.Column('account_id', big_id(), nullable=False),
    sa.Column('created_at', utc_datetime(), nullable=False),
    sa.Column('last_seen_at', utc_datetime(), nullable=False),
    sa.Column('ended_at', utc_datetime(), nullable=True),
    sa.Column('address', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['aiteni_admin_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash'),
    **MYSQL_TABLE
    )
    op.create_index('ix_aiteni_admin_session_account_id', 'aiteni_admin_session', ['account_id'], unique=False)
    op.create_table('aiteni_admin_audit',
    sa.Column('id', big_id(), nullable=False),
    sa.Column('created_at', utc_datetime(), nullable=False),
    sa.Column('actor', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    **MYSQL_TABLE
    )
    op.create_index('ix_aiteni_admin_audit_address_action_created', 'aiteni_admin_audit',
                    ['address', 'action', 'created_at'], unique=False)
    op.create_index('ix_aiteni_evaluation_record_created_at', 'aiteni_evaluation_record', ['created_at'], unique=False)


def downgrade():
    # A table's indexes go with it (MariaDB refuses to drop the one its foreign key needs first).
    op.drop_index('ix_aiteni_evaluation_record_created_at', table_name='aiteni_evaluation_record')
    op.drop_table('aiteni_admin_audit')
    op.drop_table('aiteni_admin_session')
    op.drop_table('aiteni_admin_account')
