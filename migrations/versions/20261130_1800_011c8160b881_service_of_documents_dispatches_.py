"""service of documents: dispatches, tracking events, public notices

Revision ID: 011c8160b881
Revises: 2c0762f0cf1e
Create Date: 2026-11-30 18:00:01.471098

"""
from alembic import op
import sqlalchemy as sa

import lms.sqltypes


# revision identifiers, used by Alembic.
revision = '011c8160b881'
down_revision = '050d4a79c71d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dispatch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('tracking_no', sa.String(length=60), nullable=True),
    sa.Column('dispatched_on', sa.Date(), nullable=False),
    sa.Column('addressee', sa.String(length=120), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('address_source', sa.String(length=20), nullable=False),
    sa.Column('confirmed_service_address', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('confirmation_note', sa.String(length=500), nullable=True),
    sa.Column('signature_confirmed_at', lms.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('signature_confirmed_by', sa.String(length=100), nullable=True),
    sa.Column('signature_note', sa.String(length=500), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', lms.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("address_source IN ('service_address', 'contact_address', 'household_address', 'other')", name=op.f('ck_dispatch_address_source_known')),
    sa.CheckConstraint("method IN ('ems', 'registered_mail', 'courier', 'in_person', 'electronic')", name=op.f('ck_dispatch_method_known')),
    sa.ForeignKeyConstraint(['case_id'], ['absence_case.id'], name=op.f('fk_dispatch_case_id_absence_case')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_dispatch_document_id_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch'))
    )
    with op.batch_alter_table('dispatch', schema=None) as batch_op:
        batch_op.create_index('ix_dispatch_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_dispatch_document_id', ['document_id'], unique=False)

    op.create_table('public_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('medium', sa.String(length=200), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=False),
    sa.Column('scan_sha256', sa.String(length=64), nullable=True),
    sa.Column('whereabouts_unknown_note', sa.String(length=1000), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', lms.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['absence_case.id'], name=op.f('fk_public_notice_case_id_absence_case')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_public_notice_document_id_document')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_notice'))
    )
    with op.batch_alter_table('public_notice', schema=None) as batch_op:
        batch_op.create_index('ix_public_notice_case_id', ['case_id'], unique=False)

    op.create_table('tracking_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('signed_by', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', lms.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("reason IS NULL OR reason IN ('no_such_person', 'unclear_address', 'not_collected', 'refused', 'other')", name=op.f('ck_tracking_event_reason_known')),
    sa.CheckConstraint("signed_by IS NULL OR signed_by IN ('employee', 'family_member', 'other', 'locker')", name=op.f('ck_tracking_event_signer_known')),
    sa.CheckConstraint("source IN ('page', 'csv', 'api', 'replay')", name=op.f('ck_tracking_event_source_known')),
    sa.CheckConstraint("status IN ('in_transit', 'delivered', 'refused', 'returned', 'returned_to_sender')", name=op.f('ck_tracking_event_status_known')),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatch.id'], name=op.f('fk_tracking_event_dispatch_id_dispatch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_event'))
    )
    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_event_dispatch_id', ['dispatch_id'], unique=False)



def downgrade():
    with op.batch_alter_table('tracking_event', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_event_dispatch_id')

    op.drop_table('tracking_event')
    with op.batch_alter_table('public_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_public_notice_case_id')

    op.drop_table('public_notice')
    with op.batch_alter_table('dispatch', schema=None) as batch_op:
        batch_op.drop_index('ix_dispatch_document_id')
        batch_op.drop_index('ix_dispatch_case_id')

    op.drop_table('dispatch')
