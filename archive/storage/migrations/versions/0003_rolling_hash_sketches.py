"""dedup sketches move to a rolling hash with capped posting lists: re-index and regroup

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop the old postings and groups; the archive regroups once it stands at the newest schema
    (``archive.storage.db.open_archive``), as the grouping code expects every newer column to be there."""
    op.execute("DELETE FROM shingles")
    op.execute("UPDATE speeches SET group_id = NULL")
    op.execute("DELETE FROM dup_groups")


def downgrade() -> None:
    """The old hashes cannot be recomputed here; run ``speech-archive dedup --rebuild`` on the old code."""
