"""build_locks: one index build at a time across processes; reindex_runs.origin and owner

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    locks = op.create_table('build_locks',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('origin', sa.String(length=10), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.bulk_insert(locks, [{'name': 'index'}])
    with op.batch_alter_table('reindex_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=10), nullable=False, server_default='api'))
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reindex_runs', schema=None) as batch_op:
        batch_op.drop_column('owner')
        batch_op.drop_column('origin')
    op.drop_table('build_locks')
