"""an index covering what facet counts read (site, dates, speaker): counted without reading a speech row

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_speeches_facets ON speeches (site, speech_date, speaker, publish_date)")


def downgrade() -> None:
    op.drop_index('ix_speeches_facets', 'speeches')
