#!/usr/bin/env python3
"""Check an evidence pack offline. Needs Python 3.6 or later and nothing else.

Usage:
    python3 verify.py                 check the folder this script is in (the unzipped pack)
    python3 verify.py PACK.zip        check the ZIP file itself
    python3 verify.py FOLDER          check an unzipped pack in FOLDER
(On Windows, type `py` instead of `python3`.)

What is checked (every problem is reported, one line each, starting with FAIL):
  1. manifest.json is JSON, and its "manifest_digest" is the SHA-256 of its canonical form
     (sorted keys, no spaces, UTF-8) without that key.
  2. Every file listed in the manifest is present, with the listed SHA-256 and size; no file
     is present that the manifest does not list.
  3. Every line of events.jsonl holds an event whose body hashes (SHA-256 over its UTF-8
     bytes) to the hash stored with it; the body's seq is the line's seq; the events are the
     ones, in the order, that the manifest lists; where two events follow each other directly
     in the log (seq n and n+1), the later one's prev_hash is the earlier one's hash.
  4. No event is newer than the chain head recorded at export time.

Exit code 0 when everything matches, 1 otherwise.

A pack can only vouch for itself: whoever changes a file could also rewrite the manifest and
this script. So the SHA-256 of manifest.json printed at the end must be compared with the
record of this pack's download in the employer's evidence log (event kind
evidence.pack_downloaded, payload manifest_sha256), and it can be recomputed independently,
e.g. with `sha256sum manifest.json` or `certutil -hashfile manifest.json SHA256`.
"""

import hashlib
import json
import os
import sys
import zipfile
import zlib

FORMAT = "lms-evidence-pack/1"
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
CHUNK = 1 << 20
# What reading a damaged ZIP member can raise (a bad CRC, a broken deflate stream).
READ_ERRORS = (OSError, zipfile.BadZipFile, zlib.error, EOFError)


class Pack:
    """The files of a pack, read from a ZIP file or from an unzipped folder."""

    def __init__(self, location):
        self.location = location
        self.is_zip = os.path.isfile(location)
        self.duplicates = []
        if self.is_zip:
            self.archive = zipfile.ZipFile(location)
            self.members = {}
            for info in self.archive.infolist():
                if info.is_dir():
                    continue  # folders carry no content
                if info.filename in self.members:
                    self.duplicates.append(info.filename)
                self.members[info.filename] = info
            self.names = sorted(self.members)
        else:
            self.names = sorted(self._walk(location))

    @staticmethod
    def _walk(root):
        for folder, _subfolders, files in os.walk(root):
            for name in files:
                full = os.path.join(folder, name)
                yield os.path.relpath(full, root).replace(os.sep, "/")

    def has(self, name):
        return name in self.names

    def open(self, name):
        if self.is_zip:
            return self.archive.open(self.members[name])
        return open(os.path.join(self.location, *name.split("/")), "rb")

    def read(self, name):
        with self.open(name) as f:
            return f.read()

    def sha256_and_size(self, name):
        digest, size = hashlib.sha256(), 0
        with self.open(name) as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size


def canonical_digest(manifest):
    """SHA-256 of the manifest's canonical JSON, without its own manifest_digest."""
    content = {key: value for key, value in manifest.items() if key != "manifest_digest"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_sha256(value):
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def is_safe_path(path):
    """A relative path inside the pack: no absolute paths, no '..', no backslashes."""
    parts = path.split("/")
    return (bool(path) and not path.startswith("/") and "\\" not in path and ":" not in parts[0]
            and all(part not in ("", ".", "..") for part in parts))


def check_manifest(pack, fail):
    """Check 1; returns the parsed manifest and the SHA-256 of its bytes (None when unusable)."""
    if not pack.has(MANIFEST):
        fail(MANIFEST, "missing")
        return None, None
    try:
        raw = pack.read(MANIFEST)
    except READ_ERRORS as exc:
        fail(MANIFEST, f"cannot be read ({exc})")
        return None, None
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        fail(MANIFEST, f"not valid JSON ({exc})")
        return None, raw_sha256
    if not isinstance(manifest, dict):
        fail(MANIFEST, "not a JSON object")
        return None, raw_sha256
    if manifest.get("format") != FORMAT:
        fail(MANIFEST, f"format is {manifest.get('format')!r}, this script checks {FORMAT!r}")
    recorded = manifest.get("manifest_digest")
    computed = canonical_digest(manifest)
    if recorded != computed:
        fail(MANIFEST, f"manifest_digest {recorded} does not match its content (recomputed {computed})")
    problems = []
    if not isinstance(manifest.get("files"), list):
        problems.append("files is not a list")
    if not isinstance(manifest.get("events"), list):
        problems.append("events is not a list")
    head = manifest.get("chain_head")
    if not (isinstance(head, dict) and isinstance(head.get("seq"), int) and is_sha256(head.get("hash"))):
        problems.append("chain_head is not {seq, hash}")
    for problem in problems:
        fail(MANIFEST, problem)
    return (None if problems else manifest), raw_sha256


def check_files(pack, manifest, fail):
    """Check 2; returns the number of listed files that match."""
    listed, matched = set(), 0
    for entry in manifest["files"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not is_safe_path(path) or path == MANIFEST:
            fail(MANIFEST, f"bad file entry {entry!r}")
            continue
        if path in listed:
            fail(MANIFEST, f"{path} is listed twice")
            continue
        listed.add(path)
        if not pack.has(path):
            fail(path, "listed in the manifest but missing from the pack")
            continue
        try:
            sha256, size = pack.sha256_and_size(path)
        except READ_ERRORS as exc:
            fail(path, f"cannot be read ({exc})")
            continue
        good = True
        if sha256 != entry.get("sha256"):
            fail(path, f"SHA-256 is {sha256}, the manifest says {entry.get('sha256')}")
            good = False
        if size != entry.get("bytes"):
            fail(path, f"{size} bytes, the manifest says {entry.get('bytes')}")
            good = False
        if good:
            matched += 1
    for path in pack.duplicates:
        fail(path, "appears more than once in the ZIP file")
    for path in pack.names:
        if path != MANIFEST and path not in listed:
            fail(path, "present in the pack but not listed in the manifest")
    if EVENTS not in listed:
        fail(MANIFEST, f"does not list {EVENTS}")
    return matched


def read_events(pack, fail):
    """The (seq, hash, body) of each line of events.jsonl that can be read."""
    events = []
    if not pack.has(EVENTS):
        return events
    try:
        content = pack.read(EVENTS)
    except READ_ERRORS:
        return events  # check 2 reports the unreadable file
    for number, line in enumerate(content.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{EVENTS} line {number}"
        try:
            entry = json.loads(line.decode("utf-8"))
        except ValueError as exc:
            fail(where, f"not a valid JSON line ({exc})")
            continue
        if not (isinstance(entry, dict) and type(entry.get("seq")) is int
                and isinstance(entry.get("hash"), str) and isinstance(entry.get("body"), str)):
            fail(where, "not an object with seq (a number), hash and body (text)")
            continue
        events.append((entry["seq"], entry["hash"], entry["body"]))
    return events


def check_events(events, manifest, fail):
    """Checks 3 and 4."""
    previous = None  # (seq, hash) of the line before
    for seq, stored_hash, body in events:
        where = f"event {seq}"
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != stored_hash:
            fail(where, "content does not match its hash")
        try:
            fields = json.loads(body)
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            fail(where, "the body is not a JSON object")
            fields = {}
        elif fields.get("seq") != seq:
            fail(where, f"the body says seq {fields.get('seq')!r}")
        if previous is not None:
            if seq <= previous[0]:
                fail(where, f"comes after event {previous[0]} in {EVENTS}")
            elif seq == previous[0] + 1 and fields.get("prev_hash") != previous[1]:
                fail(where, f"prev_hash {fields.get('prev_hash')} is not the hash of event {previous[0]} "
                            f"({previous[1]})")
        previous = (seq, stored_hash)

    # The manifest lists (seq, hash) in seq order; events.jsonl must hold exactly those.
    listed, last_seq = {}, None
    for entry in manifest["events"]:
        seq = entry.get("seq") if isinstance(entry, dict) else None
        if type(seq) is not int or not is_sha256(entry.get("hash")) or seq in listed:
            fail(MANIFEST, f"bad or repeated event entry {entry!r}")
            continue
        if last_seq is not None and seq < last_seq:
            fail(MANIFEST, f"lists event {seq} after event {last_seq}")
        listed[seq], last_seq = entry["hash"], seq
    present = {}
    for seq, stored_hash, _body in events:
        if seq in present:
            fail(f"event {seq}", f"appears more than once in {EVENTS}")
        elif seq not in listed:
            fail(f"event {seq}", f"in {EVENTS} but not listed in the manifest")
        elif stored_hash != listed[seq]:
            fail(f"event {seq}", f"hash {stored_hash} differs from the manifest's {listed[seq]}")
        present[seq] = stored_hash
    for seq in listed:
        if seq not in present:
            fail(f"event {seq}", f"listed in the manifest but missing from {EVENTS}")

    head = manifest["chain_head"]
    for seq, stored_hash, _body in events:
        if seq > head["seq"]:
            fail(f"event {seq}", f"is newer than the chain head at export (event {head['seq']})")
        elif seq == head["seq"] and stored_hash != head["hash"]:
            fail(f"event {seq}", "is the chain head at export but its hash differs from the manifest's")


def verify(location, out=sys.stdout):
    """Check the pack at `location`; print the findings; return the exit code."""
    failures = []

    def fail(where, problem):
        failures.append(f"{where}: {problem}")
        print(f"FAIL {where}: {problem}", file=out)

    try:
        pack = Pack(location)
    except (OSError, zipfile.BadZipFile) as exc:
        print(f"FAIL {location}: cannot be read as a pack ({exc})", file=out)
        return 1
    manifest, manifest_sha256 = check_manifest(pack, fail)
    events = read_events(pack, fail)
    matched = 0
    if manifest is not None:
        matched = check_files(pack, manifest, fail)
        check_events(events, manifest, fail)

    sha_line = f"Manifest SHA-256: {manifest_sha256 or '(no manifest.json)'}."
    compare = "Compare it with the pack's download record in the evidence log."
    if failures:
        print(f"FAILED: {len(failures)} problem(s) found in {location}. {sha_line} {compare}", file=out)
        return 1
    print(f"OK: {len(events)} events and {matched} files match the manifest. {sha_line} {compare}", file=out)
    return 0


def main(argv):
    if hasattr(sys.stdout, "reconfigure"):  # a console that cannot show a file name must not crash the check
        sys.stdout.reconfigure(errors="backslashreplace")
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__)
        return 0 if len(argv) == 2 else 2
    location = argv[1] if len(argv) == 2 else os.path.dirname(os.path.abspath(__file__))
    if not os.path.exists(location):
        print(f"FAIL {location}: no such file or folder")
        return 1
    return verify(location)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
