"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('dup_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('canonical_id', sa.Integer(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('speeches_new', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawl_runs_source_id'), ['source_id'], unique=False)

    op.create_table('captures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('final_url', sa.Text(), nullable=False),
    sa.Column('canonical_url', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('encoding', sa.String(length=40), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('root_id', sa.Integer(), nullable=True),
    sa.Column('part_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['body_sha256'], ['blobs.sha256'], ),
    sa.ForeignKeyConstraint(['root_id'], ['captures.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_captures_canonical_url'), ['canonical_url'], unique=False)
        batch_op.create_index(batch_op.f('ix_captures_root_id'), ['root_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_captures_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_captures_source_id'), ['source_id'], unique=False)

    op.create_table('speeches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('capture_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('index_in_page', sa.Integer(), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('paragraphs', sa.JSON(), nullable=False),
    sa.Column('speaker', sa.String(length=100), nullable=True),
    sa.Column('speech_date', sa.String(length=10), nullable=True),
    sa.Column('publish_date', sa.String(length=10), nullable=True),
    sa.Column('occasion', sa.Text(), nullable=True),
    sa.Column('region', sa.String(length=50), nullable=True),
    sa.Column('outline', sa.JSON(), nullable=False),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.Column('stated_length', sa.Integer(), nullable=True),
    sa.Column('gaps', sa.JSON(), nullable=False),
    sa.Column('mojibake', sa.Boolean(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('script', sa.String(length=20), nullable=False),
    sa.Column('cleaner_version', sa.String(length=20), nullable=False),
    sa.Column('removals', sa.JSON(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('shingle_count', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['captures.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['dup_groups.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('capture_id', 'index_in_page')
    )
    with op.batch_alter_table('speeches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_speeches_capture_id'), ['capture_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_speeches_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_speeches_site'), ['site'], unique=False)
        batch_op.create_index(batch_op.f('ix_speeches_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_speeches_speaker'), ['speaker'], unique=False)
        batch_op.create_index(batch_op.f('ix_speeches_text_hash'), ['text_hash'], unique=False)

    op.create_table('shingles',
    sa.Column('speech_id', sa.Integer(), nullable=False),
    sa.Column('hash', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['speech_id'], ['speeches.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('speech_id', 'hash')
    )
    with op.batch_alter_table('shingles', schema=None) as batch_op:
        batch_op.create_index('ix_shingles_hash', ['hash'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('shingles', schema=None) as batch_op:
        batch_op.drop_index('ix_shingles_hash')

    op.drop_table('shingles')
    with op.batch_alter_table('speeches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_speeches_text_hash'))
        batch_op.drop_index(batch_op.f('ix_speeches_speaker'))
        batch_op.drop_index(batch_op.f('ix_speeches_source_id'))
        batch_op.drop_index(batch_op.f('ix_speeches_site'))
        batch_op.drop_index(batch_op.f('ix_speeches_group_id'))
        batch_op.drop_index(batch_op.f('ix_speeches_capture_id'))

    op.drop_table('speeches')
    with op.batch_alter_table('captures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_captures_source_id'))
        batch_op.drop_index(batch_op.f('ix_captures_run_id'))
        batch_op.drop_index(batch_op.f('ix_captures_root_id'))
        batch_op.drop_index(batch_op.f('ix_captures_canonical_url'))

    op.drop_table('captures')
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawl_runs_source_id'))

    op.drop_table('crawl_runs')
    op.drop_table('sources')
    op.drop_table('dup_groups')
    op.drop_table('blobs')
