"""Evidence packs (SPEC §5): one ZIP that proves a set of events and documents offline.

A pack holds `events.jsonl` (each event's stored body, byte for byte, and its hash), the
documents, a human-readable `index.html`, `verify.py` (pack_verify.py, standard library
only) and, written last, `manifest.json`: every file's SHA-256 and size, every event's seq
and hash, and the chain head at export time.

Building a pack writes nothing: recording who downloaded which pack is the caller's job
(the view records `evidence.pack_downloaded` with the manifest's SHA-256).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from lms import clock
from lms.evidence import services
from lms.evidence.chain import format_instant
from lms.evidence.labels import actor_names, event_label, subject_labels
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db

FORMAT = "lms-evidence-pack/1"
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
INDEX = "index.html"
VERIFIER = "verify.py"
DOCUMENTS = "documents/"
VERIFIER_SOURCE = Path(__file__).with_name("pack_verify.py")
_UNSAFE_IN_FILENAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class PackDocument:
    """A file to ship in the pack at `path` (under documents/), e.g. a notice as sent."""

    path: str
    content: bytes
    title: str

    def __post_init__(self):
        path = self.path
        parts = path.split("/")
        if (not path.startswith(DOCUMENTS) or "\\" in path or len(parts) < 2
                or any(part in ("", ".", "..") for part in parts)
                or any(ord(char) < 32 or char == "\x7f" for char in path)):
            raise ValueError(f"document path {path!r} must be a relative path under {DOCUMENTS} "
                             "without '..', empty parts or backslashes")
        if not isinstance(self.content, bytes):
            raise TypeError("document content must be bytes")


@dataclass(frozen=True)
class BuiltPack:
    content: bytes
    manifest_sha256: str
    event_count: int
    filename: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_manifest_digest(manifest: dict) -> str:
    """SHA-256 of the manifest's canonical JSON without its manifest_digest (as verify.py computes it)."""
    content = {key: value for key, value in manifest.items() if key != "manifest_digest"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_hex(text.encode("utf-8"))


def download_response(built: BuiltPack):
    """The pack as a file download; personal data, so no copies in shared caches."""
    from flask import send_file

    response = send_file(io.BytesIO(built.content), mimetype="application/zip", as_attachment=True,
                         download_name=built.filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def pack_filename(subject: str, generated_at: datetime) -> str:
    """`evidence-employee-12-20260615T030000Z.zip`: ASCII only, safe on every file system."""
    slug = _UNSAFE_IN_FILENAME.sub("-", subject.lower()).strip("-")[:60].strip("-") or "pack"
    return f"evidence-{slug}-{clock.as_utc(generated_at).strftime('%Y%m%dT%H%M%SZ')}.zip"


def _events_jsonl(events: Sequence[EvidenceEvent]) -> bytes:
    lines = [json.dumps({"seq": e.seq, "hash": e.hash, "body": e.body}, ensure_ascii=False, sort_keys=True)
             for e in events]
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def _local_text(moment: datetime) -> str:
    """An instant in the company's time zone, to the second, with its UTC offset."""
    return clock.local(moment).isoformat(sep=" ", timespec="seconds")


def _index_html(*, title: str, subject: str, generated_at: datetime, generated_by: str, head: dict,
                events: Sequence[EvidenceEvent], documents: Sequence[PackDocument]) -> bytes:
    # In words for the reader (an arbitrator), with the stored references beside them: they are what
    # events.jsonl and verify.py speak of.
    actors = actor_names({event.actor for event in events} | {generated_by})
    subjects = subject_labels({event.subject for event in events} | {subject})
    rows = [{
        "seq": event.seq, "when": _local_text(event.occurred_at), "kind": event.kind, "actor": event.actor,
        "subject": event.subject, "hash": event.hash, "label": event_label(event.kind),
        "actor_name": actors[event.actor], "subject_label": subjects[event.subject],
        "payload": json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True),
    } for event in events]
    files = [{"path": doc.path, "title": doc.title, "sha256": sha256_hex(doc.content), "bytes": len(doc.content)}
             for doc in documents]
    # Straight from the Jinja environment, without the app's context processors: the page
    # must depend on the pack's content only (not on who is signed in), and render the same
    # from a request, a CLI command or a job.
    html = current_app.jinja_env.get_template("evidence/pack_index.html").render(
        title=title, subject=subject, subject_label=subjects[subject], generated_at=_local_text(generated_at),
        generated_at_utc=format_instant(generated_at), zone=str(clock.zone()), generated_by=generated_by,
        generated_by_name=actors[generated_by],
        head=head, events=rows, documents=files,
    )
    return html.encode("utf-8")


def _write_member(archive: zipfile.ZipFile, name: str, data: bytes, date_time: tuple) -> None:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # rw-r--r-- when unzipped
    archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def build_pack(events: Sequence[EvidenceEvent], documents: Sequence[PackDocument], *, title: str, subject: str,
               generated_by: str) -> BuiltPack:
    """The ZIP for `events` and `documents`; depends only on them, the clock and the chain head."""
    events = sorted(events, key=lambda event: event.seq)
    documents = sorted(documents, key=lambda doc: doc.path)
    seqs = [event.seq for event in events]
    if len(set(seqs)) != len(seqs):
        raise ValueError("an event appears twice in the pack")
    paths = [doc.path for doc in documents]
    if len(set(paths)) != len(paths):
        raise ValueError("two documents share a path")
    generated_at = clock.now()
    head_seq, head_hash = services.chain_head()
    if events and events[-1].seq > head_seq:
        raise ValueError(f"event {events[-1].seq} is not in the stored chain (head is {head_seq})")
    head = {"seq": head_seq, "hash": head_hash}

    files: list[tuple[str, bytes]] = [(EVENTS, _events_jsonl(events))]
    files += [(doc.path, doc.content) for doc in documents]
    files.append((INDEX, _index_html(title=title, subject=subject, generated_at=generated_at,
                                     generated_by=generated_by, head=head, events=events, documents=documents)))
    files.append((VERIFIER, VERIFIER_SOURCE.read_bytes()))

    manifest = {
        "format": FORMAT,
        "title": title,
        "subject": subject,
        "generated_at": format_instant(generated_at),
        "generated_by": generated_by,
        "chain_head": head,
        "events": [{"seq": event.seq, "hash": event.hash} for event in events],
        "files": [{"path": name, "sha256": sha256_hex(data), "bytes": len(data)} for name, data in files],
    }
    manifest["manifest_digest"] = canonical_manifest_digest(manifest)
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    # ZIP timestamps are local wall-clock fields without a zone; UTC keeps them deterministic.
    date_time = clock.as_utc(generated_at).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in [*files, (MANIFEST, manifest_bytes)]:
            _write_member(archive, name, data, date_time)
    return BuiltPack(content=buffer.getvalue(), manifest_sha256=sha256_hex(manifest_bytes),
                     event_count=len(events), filename=pack_filename(subject, generated_at))


# Domains that keep files about a subject (documents: the notices of a case) add a function here
# returning them for a subject; the evidence package does not import them (they build on it).
DOCUMENT_SOURCES: list[Callable[[str], list[PackDocument]]] = []


def pack_for_subject(subject: str, generated_by: str) -> BuiltPack:
    """Every event about `subject` (e.g. employee:12), oldest first, in one pack."""
    # The events are read before build_pack reads the chain head, so the head is never older.
    events = db.session.scalars(
        select(EvidenceEvent).where(body_field("subject") == subject).order_by(EvidenceEvent.seq)
    ).all()
    # Packs go to arbitrators and courts: written in the company's language, whoever downloads.
    with force_locale(current_app.config["LMS_LOCALE"]):
        documents = [document for source in DOCUMENT_SOURCES for document in source(subject)]
        return build_pack(events, documents, title=_("Evidence for %(subject)s", subject=subject), subject=subject,
                          generated_by=generated_by)
