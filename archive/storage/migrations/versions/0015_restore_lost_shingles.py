"""archives whose shingles an earlier migration deleted are regrouped, which indexes them again

Migration 0006 rebuilt the speeches table with SQLite's foreign keys on, and dropping the old
table deleted every shingle (ON DELETE CASCADE): such an archive still had its groups, but a new
copy of an old speech could no longer find it. Migrations now run with foreign keys off; this one
finds the archives that lost their postings and leaves them for the regrouping that
``archive.storage.db.open_archive`` runs when no speech has a group (as 0003 does).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE speeches SET group_id = NULL "
               "WHERE EXISTS (SELECT 1 FROM speeches) AND NOT EXISTS (SELECT 1 FROM shingles)")
    op.execute("DELETE FROM dup_groups WHERE NOT EXISTS (SELECT 1 FROM shingles) "
               "AND NOT EXISTS (SELECT 1 FROM speeches WHERE group_id IS NOT NULL)")


def downgrade() -> None:
    """Nothing to undo: the regrouped archive is what the old code would have built."""
