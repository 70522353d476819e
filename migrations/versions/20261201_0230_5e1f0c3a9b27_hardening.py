"""hardening: the verification record append-only; failed sign-ins counted per account

Revision ID: 5e1f0c3a9b27
Revises: 5d3c1e7a9b42
Create Date: 2026-12-01 02:30:00

"""
from alembic import op
import sqlalchemy as sa

import lms.sqltypes


# revision identifiers, used by Alembic.
revision = '5e1f0c3a9b27'
down_revision = '5d3c1e7a9b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_failed_sign_in_at', lms.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('locked_until', lms.sqltypes.UTCDateTime(), nullable=True))
    # A verification is a baseline for the next one: nobody rewrites or removes it (the evidence log
    # holds each one too, so a superuser who does is caught by the next verification).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION evidence_verification_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'evidence_verification is append-only: % refused', TG_OP;
            END $$""")
        op.execute("CREATE TRIGGER evidence_verification_no_update_delete BEFORE UPDATE OR DELETE "
                   "ON evidence_verification FOR EACH ROW EXECUTE FUNCTION evidence_verification_append_only()")
        op.execute("CREATE TRIGGER evidence_verification_no_truncate BEFORE TRUNCATE ON evidence_verification "
                   "FOR EACH STATEMENT EXECUTE FUNCTION evidence_verification_append_only()")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER evidence_verification_no_{operation.lower()} BEFORE {operation} "
                       f"ON evidence_verification BEGIN SELECT RAISE(ABORT, "
                       f"'evidence_verification is append-only: {operation} refused'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER evidence_verification_no_update_delete ON evidence_verification")
        op.execute("DROP TRIGGER evidence_verification_no_truncate ON evidence_verification")
        op.execute("DROP FUNCTION evidence_verification_append_only()")
    else:
        op.execute("DROP TRIGGER evidence_verification_no_update")
        op.execute("DROP TRIGGER evidence_verification_no_delete")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('last_failed_sign_in_at')
        batch_op.drop_column('failed_sign_ins')
