"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-03 17:35:45.080732
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
import adapters.store.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.Column('actor_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('surface', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_customer'), ['customer'], unique=False)

    audit_head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # The chain's head exists from the start, so appends only ever lock it (never race to create it).
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table('grants',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('customer', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('group_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_upn', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('user_email', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('user_guest', sa.Boolean(), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.Column('approved_by', sa.Text(), nullable=False),
    sa.Column('starts_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('ends_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('remind_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('reminded', sa.Boolean(), nullable=False),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    sa.Column('ended_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('steps_done', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('retry_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('origin_surface', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('origin_user', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('next_due_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lease_until', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grants_customer'), ['customer'], unique=False)
        batch_op.create_index('ix_grants_due', ['next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_grants_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_grants_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_grants_one_live', ['user_id', 'customer'], unique=True, sqlite_where=sa.text("state IN ('granting', 'active', 'revoking', 'failed')"), postgresql_where=sa.text("state IN ('granting', 'active', 'revoking', 'failed')"))

    op.create_table('requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('customer', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('requester_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requester_upn', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('requester_email', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('requester_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('requester_guest', sa.Boolean(), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.Column('timeout_at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.Column('decided_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('origin_surface', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('origin_user', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    sa.Column('grant_id', sa.Integer(), nullable=True),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('next_reminder_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('next_due_at', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lease_until', adapters.store.types.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requests_customer'), ['customer'], unique=False)
        batch_op.create_index('ix_requests_due', ['next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index('uq_requests_one_pending', ['requester_id', 'customer'], unique=True, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    op.create_table('sandbox_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.Column('op', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sandbox_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_calls_op'), ['op'], unique=False)
        batch_op.create_index(batch_op.f('ix_sandbox_calls_target'), ['target'], unique=False)

    op.create_table('sandbox_members',
    sa.Column('group_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'member_id')
    )
    op.create_table('sandbox_users',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('upn', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('mail', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('guest', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sandbox_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_users_mail'), ['mail'], unique=False)
        batch_op.create_index(batch_op.f('ix_sandbox_users_upn'), ['upn'], unique=False)

    op.create_table('approvals',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('approver_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('approver_upn', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('approver_email', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('approver_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('at', adapters.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ),
    sa.PrimaryKeyConstraint('request_id', 'approver_id')
    )


def downgrade() -> None:
    op.drop_table('approvals')
    with op.batch_alter_table('sandbox_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_users_upn'))
        batch_op.drop_index(batch_op.f('ix_sandbox_users_mail'))

    op.drop_table('sandbox_users')
    op.drop_table('sandbox_members')
    with op.batch_alter_table('sandbox_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sandbox_calls_target'))
        batch_op.drop_index(batch_op.f('ix_sandbox_calls_op'))

    op.drop_table('sandbox_calls')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('uq_requests_one_pending', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_requests_requester_id'))
        batch_op.drop_index('ix_requests_due')
        batch_op.drop_index(batch_op.f('ix_requests_customer'))

    op.drop_table('requests')
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index('uq_grants_one_live', sqlite_where=sa.text("state IN ('granting', 'active', 'revoking', 'failed')"), postgresql_where=sa.text("state IN ('granting', 'active', 'revoking', 'failed')"))
        batch_op.drop_index(batch_op.f('ix_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_grants_state'))
        batch_op.drop_index('ix_grants_due')
        batch_op.drop_index(batch_op.f('ix_grants_customer'))

    op.drop_table('grants')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_customer'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
