"""when a capture's cleaning outcome was stored: a capture without one is cleaned on the next run

Captures are committed before their speeches (cleaning runs apart from the crawl), so a crawl
killed in between leaves captures whose cleaning is owed. Every capture archived before this
revision was cleaned in the transaction that stored it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('captures', sa.Column('cleaned_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE captures SET cleaned_at = fetched_at")
    uncleaned = sa.text("cleaned_at IS NULL AND root_id IS NULL")
    op.create_index('ix_captures_uncleaned', 'captures', ['source_id'], sqlite_where=uncleaned,
                    postgresql_where=uncleaned)


def downgrade() -> None:
    op.drop_index('ix_captures_uncleaned', 'captures')
    op.drop_column('captures', 'cleaned_at')
