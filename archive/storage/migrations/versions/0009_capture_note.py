"""what became of a capture that gives no speech: not HTML (a PDF, an image), or not prose

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('captures', sa.Column('note', sa.String(300), nullable=True))


def downgrade() -> None:
    op.drop_column('captures', 'note')
