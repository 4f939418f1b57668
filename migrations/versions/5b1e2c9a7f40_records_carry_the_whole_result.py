"""Records carry the whole Result: advantages, weaknesses, stage, questions_version

Existing records read back with empty lists (NULL here) and stage `saved`.

Revision ID: 5b1e2c9a7f40
Revises: d307c70c6b5d
Create Date: 2026-11-29 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e2c9a7f40'
down_revision = 'd307c70c6b5d'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs: no table rebuild on SQLite, no copy on MariaDB.
    op.add_column('aiteni_evaluation_record', sa.Column('advantages', sa.JSON(), nullable=True))
    op.add_column('aiteni_evaluation_record', sa.Column('weaknesses', sa.JSON(), nullable=True))
    op.add_column('aiteni_evaluation_record',
                  sa.Column('stage', sa.String(length=8), server_default='saved', nullable=False))
    op.add_column('aiteni_evaluation_record', sa.Column('questions_version', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('aiteni_evaluation_record') as batch:
        batch.drop_column('questions_version')
        batch.drop_column('stage')
        batch.drop_column('weaknesses')
        batch.drop_column('advantages')
