"""departments form a tree (parent_id); assignments carry the day of their next reminder

Revision ID: 5d3c1e7a9b42
Revises: 0293897584dd
Create Date: 2026-12-01 02:15:00

"""
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5d3c1e7a9b42'
down_revision = '0293897584dd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_department_parent_id', ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_department_parent_id_department'), 'department',
                                    ['parent_id'], ['id'])
    with op.batch_alter_table('refresher_assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_reminder_on', sa.Date(), nullable=True))
        batch_op.create_index('ix_refresher_assignment_next_reminder_on', ['next_reminder_on'], unique=False)
    # Open assignments are read once by the next reminder pass, which sets each one's real next day
    # (steps already sent are in refresher_reminder and are not sent again).
    op.execute(sa.text("UPDATE refresher_assignment SET next_reminder_on = :day WHERE completed_at IS NULL")
               .bindparams(day=date(2000, 1, 1)))


def downgrade():
    with op.batch_alter_table('refresher_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_refresher_assignment_next_reminder_on')
        batch_op.drop_column('next_reminder_on')
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_department_parent_id_department'), type_='foreignkey')
        batch_op.drop_index('ix_department_parent_id')
        batch_op.drop_column('parent_id')
