"""dedup sketches move to a rolling hash with capped posting lists: re-index and regroup

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
from sqlalchemy.orm import Session

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from archive import dedup  # the stored hashes are only meaningful to the code that made them

    session = Session(bind=op.get_bind())
    dedup.rebuild(session, superseded=set())  # versions (previous_id) arrive in 0006
    session.flush()


def downgrade() -> None:
    """The old hashes cannot be recomputed here; run ``speech-archive dedup --rebuild`` on the old code."""
