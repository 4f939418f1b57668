"""WeChat's access token, shared by every process, and the share posters' mini-program codes

Two new tables; nothing existing changes.

Revision ID: c41f7d2e9a58
Revises: a3c9e1f0b7d2
Create Date: 2026-11-30 10:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql


# revision identifiers, used by Alembic.
revision = 'c41f7d2e9a58'
down_revision = 'a3c9e1f0b7d2'
branch_labels = None
depends_on = None


def identifier(length):
    return sa.String(length=length).with_variant(mysql.VARCHAR(length, collation='utf8mb4_bin'), 'mysql', 'mariadb')


def utc_datetime():
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade():
    op.create_table('aiteni_wechat_access_token',
    sa.Column('appid', identifier(64), nullable=False),
    sa.Column('token', identifier(512), nullable=True),
    sa.Column('expires_at', utc_datetime(), nullable=True),
    sa.Column('renewing_until', utc_datetime(), nullable=True),
    sa.Column('forced_at', utc_datetime(), nullable=True),
    sa.PrimaryKeyConstraint('appid'),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    op.create_table('aiteni_wechat_share_code',
    sa.Column('appid', identifier(64), nullable=False),
    sa.Column('page', identifier(64), nullable=False),
    sa.Column('scene', identifier(32), nullable=False),
    sa.Column('width', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('env_version', sa.String(length=8), nullable=False),
    sa.Column('content_type', sa.String(length=16), nullable=True),
    sa.Column('image', sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), 'mysql', 'mariadb'), nullable=True),
    sa.Column('claimed_until', utc_datetime(), nullable=True),
    sa.Column('created_at', utc_datetime(), nullable=False),
    sa.PrimaryKeyConstraint('appid', 'page', 'scene', 'width', 'env_version'),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )


def downgrade():
    op.drop_table('aiteni_wechat_share_code')
    op.drop_table('aiteni_wechat_access_token')
