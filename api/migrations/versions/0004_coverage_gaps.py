"""coverage_gaps: the real questions drafts left unanswered, with topic and nearest fiches

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('coverage_gaps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('question', sa.Text(), nullable=True),
    sa.Column('situation', sa.JSON(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('nearest', sa.JSON(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('coverage_gaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coverage_gaps_draft_id'), ['draft_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coverage_gaps_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_coverage_gaps_topic'), ['topic'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('coverage_gaps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coverage_gaps_topic'))
        batch_op.drop_index(batch_op.f('ix_coverage_gaps_created_at'))
        batch_op.drop_index(batch_op.f('ix_coverage_gaps_draft_id'))
    op.drop_table('coverage_gaps')
