"""The append-only, hash-chained evidence log (SPEC §5).

`record(kind, subject, payload, actor)` is the only way in; nothing updates or deletes an
event (database triggers refuse it). `verify_chain()` recomputes the chain.
"""

from lms.evidence.services import actor_of, record, record_many, subject_of

__all__ = ["actor_of", "record", "record_many", "subject_of"]
