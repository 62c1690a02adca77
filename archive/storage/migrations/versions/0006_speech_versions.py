"""speeches remember their earlier version when a recrawl finds the page's text changed

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('speeches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_speeches_previous_id', ['previous_id'])
        batch_op.create_foreign_key('fk_speeches_previous_id', 'speeches', ['previous_id'], ['id'])
    op.create_index('ix_speeches_url', 'speeches', ['url'])


def downgrade() -> None:
    op.drop_index('ix_speeches_url', 'speeches')
    with op.batch_alter_table('speeches', schema=None) as batch_op:
        batch_op.drop_constraint('fk_speeches_previous_id', type_='foreignkey')
        batch_op.drop_index('ix_speeches_previous_id')
        batch_op.drop_column('previous_id')
