"""monitoring past start, tick failures, more leave types

Monitoring records whether a start before the day it was switched on was confirmed, and why.
A tick handler's failure is recorded on its TickRun row (whose last_run_at may now be empty: a
handler that never succeeded). Leave gains business_trip, time_off_in_lieu, work_injury, detention.

Revision ID: d3e86b63cbad
Revises: 82d9d6628603
Create Date: 2026-11-30 17:07:58.133762

"""
from alembic import op
import sqlalchemy as sa

import lms.sqltypes


# revision identifiers, used by Alembic.
revision = 'd3e86b63cbad'
down_revision = '82d9d6628603'
branch_labels = None
depends_on = None

OLD_LEAVE_TYPES = ("personal", "sick", "annual", "marriage", "maternity", "bereavement", "other")
NEW_LEAVE_TYPES = (*OLD_LEAVE_TYPES, "business_trip", "time_off_in_lieu", "work_injury", "detention")


def _types_check(types):
    return "type IN (%s)" % ", ".join(f"'{kind}'" for kind in types)


def upgrade():
    with op.batch_alter_table('monitoring', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_past_confirmed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('past_reason', sa.String(length=500), nullable=True))

    with op.batch_alter_table('tick_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_failed_at', lms.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=500), nullable=True))
        batch_op.alter_column('last_run_at', existing_type=lms.sqltypes.UTCDateTime(), nullable=True)

    with op.batch_alter_table('leave', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_leave_type_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_leave_type_known'), _types_check(NEW_LEAVE_TYPES))


def downgrade():
    # Leave of the new types cannot be kept under the old constraint: they would be lost, so refuse.
    leave = sa.table('leave', sa.column('type', sa.String))
    found = op.get_bind().execute(sa.select(sa.func.count()).select_from(leave).where(
        leave.c.type.not_in(OLD_LEAVE_TYPES))).scalar()
    if found:
        raise RuntimeError(f"{found} leave record(s) have a type this revision adds; change or remove them first")
    with op.batch_alter_table('leave', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_leave_type_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_leave_type_known'), _types_check(OLD_LEAVE_TYPES))

    # A handler that never succeeded has no last run to keep.
    op.execute("DELETE FROM tick_run WHERE last_run_at IS NULL")
    with op.batch_alter_table('tick_run', schema=None) as batch_op:
        batch_op.alter_column('last_run_at', existing_type=lms.sqltypes.UTCDateTime(), nullable=False)
        batch_op.drop_column('last_error')
        batch_op.drop_column('last_failed_at')

    with op.batch_alter_table('monitoring', schema=None) as batch_op:
        batch_op.drop_column('past_reason')
        batch_op.drop_column('is_past_confirmed')
