"""chat state and summary runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 17:49:54.630923
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
import adapters.store.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('surface', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_messages_request_id'), ['request_id'], unique=False)
        batch_op.create_index('uq_chat_messages_one', ['request_id', 'surface', 'channel', 'purpose'], unique=True)

    op.create_table('chat_references',
    sa.Column('surface', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('updated_at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('surface', 'key')
    )
    op.create_table('summary_runs',
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('scheduled_for', adapters.store.types.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('claimed_at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.Column('posted_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )


def downgrade() -> None:
    op.drop_table('summary_runs')
    op.drop_table('chat_references')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('uq_chat_messages_one')
        batch_op.drop_index(batch_op.f('ix_chat_messages_request_id'))

    op.drop_table('chat_messages')
