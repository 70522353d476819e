"""the paper of an attempt in its own table (an autosave rewrites the attempt row; SQLite rewrites it whole)

Revision ID: 7c2d9e4f1a03
Revises: 4ecac064a1e6
Create Date: 2026-12-01 17:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2d9e4f1a03'
down_revision = '4ecac064a1e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exam_paper',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['exam_attempt.id'], name=op.f('fk_exam_paper_attempt_id_exam_attempt')),
    sa.PrimaryKeyConstraint('attempt_id', name=op.f('pk_exam_paper'))
    )
    op.execute('INSERT INTO exam_paper (attempt_id, questions) SELECT id, paper FROM exam_attempt')
    # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode's copy of the table: with foreign
    # keys on, dropping the old exam_attempt would fail (certificates, coaching tasks and papers refer to it).
    op.drop_column('exam_attempt', 'paper')


def downgrade():
    # Nullable on the way back in SQLite: making it NOT NULL there would mean copying the table (see above).
    op.add_column('exam_attempt', sa.Column('paper', sa.JSON(), nullable=True))
    op.execute('UPDATE exam_attempt SET paper = (SELECT questions FROM exam_paper WHERE attempt_id = exam_attempt.id)')
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('exam_attempt', 'paper', existing_type=sa.JSON(), nullable=False)
    op.drop_table('exam_paper')
