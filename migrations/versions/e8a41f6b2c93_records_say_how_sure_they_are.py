"""Records say how sure they are: level_low, level_high, confidence, provisional, consistent

Records stored before (and every /save record) keep NULL in all five: the API
reads them back as `level_range`, `confidence`, `provisional` and `consistent`
null.

Revision ID: e8a41f6b2c93
Revises: c41f7d2e9a58
Create Date: 2026-12-07 00:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8a41f6b2c93'
down_revision = 'c41f7d2e9a58'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs of nullable columns: no table rebuild on SQLite, no copy on MariaDB.
    op.add_column('aiteni_evaluation_record', sa.Column('level_low', sa.Double(), nullable=True))
    op.add_column('aiteni_evaluation_record', sa.Column('level_high', sa.Double(), nullable=True))
    op.add_column('aiteni_evaluation_record', sa.Column('confidence', sa.Double(), nullable=True))
    op.add_column('aiteni_evaluation_record', sa.Column('provisional', sa.Boolean(), nullable=True))
    op.add_column('aiteni_evaluation_record', sa.Column('consistent', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('aiteni_evaluation_record') as batch:
        batch.drop_column('consistent')
        batch.drop_column('provisional')
        batch.drop_column('confidence')
        batch.drop_column('level_high')
        batch.drop_column('level_low')
