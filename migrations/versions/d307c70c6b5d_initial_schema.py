"""Initial schema: users, login sessions, refresh tokens, evaluation records.

Revision ID: d307c70c6b5d
Revises: 
Create Date: 2026-11-23 23:40:01.327903

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = 'd307c70c6b5d'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('aiteni_user',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=32), nullable=False),
    sa.Column('wechat_openid', sa.String(length=64), nullable=False),
    sa.Column('wechat_unionid', sa.String(length=64), nullable=True),
    sa.Column('wechat_nickname', sa.String(length=64), nullable=False),
    sa.Column('wechat_avatar', sa.String(length=512), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('real_name', sa.String(length=32), nullable=True),
    sa.Column('session_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('updated_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('last_login_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('tokens_valid_after', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username'),
    sa.UniqueConstraint('wechat_openid'),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('aiteni_user', schema=None) as batch_op:
        batch_op.create_index('ix_aiteni_user_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_aiteni_user_wechat_unionid'), ['wechat_unionid'], unique=False)

    op.create_table('aiteni_evaluation_record',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('total_level', sa.Double(), nullable=False),
    sa.Column('rounded_level', sa.Double(), nullable=False),
    sa.Column('level_label', sa.String(length=32), nullable=False),
    sa.Column('dimension_scores', sa.JSON(), nullable=False),
    sa.Column('dimension_comments', sa.JSON(), nullable=False),
    sa.Column('summary_text', sa.Text(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['aiteni_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('aiteni_evaluation_record', schema=None) as batch_op:
        batch_op.create_index('ix_aiteni_evaluation_record_user_created', ['user_id', 'created_at', 'id'], unique=False)

    op.create_table('aiteni_login_session',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('last_used_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('expires_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('revoked_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['aiteni_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('aiteni_login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aiteni_login_session_user_id'), ['user_id'], unique=False)

    op.create_table('aiteni_refresh_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('expires_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=False),
    sa.Column('used_at', sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mariadb').with_variant(mysql.DATETIME(fsp=6), 'mysql'), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['aiteni_login_session.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash'),
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_unicode_ci',
    mysql_engine='InnoDB'
    )
    with op.batch_alter_table('aiteni_refresh_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aiteni_refresh_token_session_id'), ['session_id'], unique=False)



def downgrade():
    # Dropping a table drops its indexes; dropping them first fails on MySQL,
    # which refuses to drop an index a foreign key needs.
    op.drop_table('aiteni_refresh_token')
    op.drop_table('aiteni_login_session')
    op.drop_table('aiteni_evaluation_record')
    op.drop_table('aiteni_user')
