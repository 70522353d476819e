"""Evidence packs: one ZIP whose verify.py, run offline, passes untouched and names any change."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import clock, create_app
from lms.evidence import record, services, subject_of
from lms.evidence.labels import event_label
from lms.evidence.models import EvidenceEvent, body_field
from lms.evidence.pack import VERIFIER_SOURCE, PackDocument, build_pack, canonical_manifest_digest
from lms.extensions import db
from tests.conftest import PASSWORD, make_test_config

AT = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
DOCUMENT = PackDocument("documents/notice.pdf", b"%PDF-1.4\n" + "返岗通知书 return-to-work notice\n".encode() * 40,
                        "返岗通知书")
MEMBERS = ["events.jsonl", "documents/notice.pdf", "index.html", "verify.py", "manifest.json"]


# ----------------------------------------------------------------- helpers


def events_about(subject: str) -> list[EvidenceEvent]:
    return list(db.session.scalars(select(EvidenceEvent).where(body_field("subject") == subject)
                                   .order_by(EvidenceEvent.seq)))


def members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(content: bytes, replace: dict[str, bytes | None]) -> bytes:
    """The pack with members replaced (None removes one); names not in the pack are added."""
    files = members(content)
    files.update(replace)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            if data is not None:
                archive.writestr(name, data)
    return buffer.getvalue()


def flip_middle_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


def run_verifier(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`python3 -I verify.py ARGS` in `folder`, as the pack's index page tells people to."""
    return subprocess.run([sys.executable, "-I", "verify.py", *args], cwd=folder, capture_output=True, text=True,
                          timeout=60)


def manifest_of(content: bytes) -> dict:
    return json.loads(members(content)["manifest.json"])


def rewritten_manifest(content: bytes, change) -> bytes:
    """The manifest after `change(manifest)`, with its digest recomputed: a consistent forgery."""
    manifest = manifest_of(content)
    change(manifest)
    manifest["manifest_digest"] = canonical_manifest_digest(manifest)
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()


# ----------------------------------------------------------------- fixtures


@pytest.fixture
def subject(app, org) -> str:
    """The learner's events (creating her left one already), mixed with a colleague's."""
    learner, colleague = subject_of("employee", org.learner.id), subject_of("employee", org.colleague.id)
    with clock.frozen(AT):
        record("exam.graded", learner, {"score": 83, "note": "第一次考试"}, actor=org.users["hr"])
        record("exam.graded", learner, {"score": 91}, actor=org.users["hr"])
        record("exam.graded", colleague, {"score": 77})
        record("course.attested", learner, {"course": "leave-rules", "version": 3})
    db.session.commit()
    return learner


@pytest.fixture
def pack(subject, org):
    with clock.frozen(AT):
        return build_pack(events_about(subject), [DOCUMENT], title="Evidence for the learner", subject=subject,
                          generated_by=f"user:{org.users['hr'].id}")


@pytest.fixture
def workdir(tmp_path, pack) -> Path:
    """tmp/pack.zip, and tmp/trusted/verify.py: the verifier from the untouched pack."""
    (tmp_path / "pack.zip").write_bytes(pack.content)
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    (trusted / "verify.py").write_bytes(members(pack.content)["verify.py"])
    return tmp_path


def check_tampered(workdir: Path, content: bytes) -> str:
    """Run the trusted verify.py on `content`; it must fail. Returns what it printed."""
    target = workdir / "tampered.zip"
    target.write_bytes(content)
    result = run_verifier(workdir / "trusted", str(target))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "OK:" not in result.stdout and result.stderr == ""
    return result.stdout


# ----------------------------------------------------------------- building


def test_a_pack_holds_the_subjects_events_the_files_and_a_manifest_over_them(pack, subject, org):
    files = members(pack.content)
    assert list(files) == MEMBERS  # manifest.json last
    manifest = json.loads(files["manifest.json"])
    wanted = events_about(subject)
    assert [e.kind for e in wanted][-3:] == ["exam.graded", "exam.graded", "course.attested"]
    assert manifest["events"] == [{"seq": e.seq, "hash": e.hash} for e in wanted]
    assert manifest["chain_head"] == dict(zip(("seq", "hash"), services.chain_head(), strict=True))
    assert (manifest["format"], manifest["subject"], manifest["title"]) == (
        "lms-evidence-pack/1", subject, "Evidence for the learner")
    assert manifest["generated_at"] == "2026-06-15T03:00:00.000000Z"
    assert manifest["generated_by"] == f"user:{org.users['hr'].id}"
    assert manifest["files"] == [{"path": name, "sha256": hashlib.sha256(files[name]).hexdigest(),
                                  "bytes": len(files[name])} for name in MEMBERS[:-1]]
    assert manifest["manifest_digest"] == canonical_manifest_digest(manifest)
    assert pack.manifest_sha256 == hashlib.sha256(files["manifest.json"]).hexdigest()
    assert pack.event_count == len(wanted)
    assert pack.filename == f"evidence-employee-{org.learner.id}-20260615T030000Z.zip"
    assert files["verify.py"] == VERIFIER_SOURCE.read_bytes()
    assert files["documents/notice.pdf"] == DOCUMENT.content

    lines = [json.loads(line) for line in files["events.jsonl"].decode().splitlines()]
    assert [(line["seq"], line["hash"], line["body"]) for line in lines] == [(e.seq, e.hash, e.body) for e in wanted]
    assert all(hashlib.sha256(line["body"].encode()).hexdigest() == line["hash"] for line in lines)
    assert "第一次考试" in files["events.jsonl"].decode()  # bodies kept as text, not \\u escapes
    assert f'"subject\\":\\"{subject_of("employee", org.colleague.id)}' not in files["events.jsonl"].decode()


def test_the_same_content_at_the_same_instant_gives_the_same_bytes(pack, subject, org):
    with clock.frozen(AT):
        again = build_pack(list(reversed(events_about(subject))), [DOCUMENT], title="Evidence for the learner",
                           subject=subject, generated_by=f"user:{org.users['hr'].id}")
    assert again == pack
    with zipfile.ZipFile(io.BytesIO(pack.content)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 6, 15, 3, 0, 0)}
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}


def test_building_a_pack_records_nothing(subject):
    before = services.chain_head()
    build_pack(events_about(subject), [], title="t", subject=subject, generated_by="system")
    assert services.chain_head() == before


@pytest.mark.parametrize("path", ["notice.pdf", "/documents/a.pdf", "documents/../verify.py", "documents\\a.pdf",
                                  "documents/", "documents//a.pdf", "documents/./a.pdf", "documents/a\n.pdf"])
def test_document_paths_stay_inside_documents(path):
    with pytest.raises(ValueError):
        PackDocument(path, b"x", "x")


def test_the_index_is_a_standalone_timeline(pack, subject):
    index = members(pack.content)["index.html"].decode()
    head_seq, head_hash = services.chain_head()
    assert "<script" not in index.lower() and "http://" not in index and "https://" not in index
    assert "<link" not in index.lower()
    for kind in ("people.employee_created", "exam.graded", "course.attested"):
        assert f'<code class="ref">{kind}</code>' in index  # the stored code, beside its words
    assert f"{event_label('people.employee_created')}<br>" in index  # "Employee record created"
    assert "Employee record created" in index
    assert head_hash in index and subject in index
    assert "2026-06-15 11:00:00+08:00" in index  # Asia/Shanghai
    assert "第一次考试" in index and "返岗通知书" in index and DOCUMENT.path in index
    assert hashlib.sha256(DOCUMENT.content).hexdigest() in index
    assert "python3 verify.py pack.zip" in index


# ----------------------------------------------------------------- verify.py


def test_the_verifier_passes_an_untouched_pack_zipped_and_unzipped(workdir, pack):
    ok = f"OK: {pack.event_count} events and 4 files match the manifest."
    (workdir / "verify.py").write_bytes(members(pack.content)["verify.py"])
    result = run_verifier(workdir, "pack.zip")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(ok)
    assert f"Manifest SHA-256: {pack.manifest_sha256}." in result.stdout

    unzipped = workdir / "unzipped"
    with zipfile.ZipFile(workdir / "pack.zip") as archive:
        archive.extractall(unzipped)
    result = run_verifier(unzipped)  # no argument: the folder verify.py is in
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(ok) and pack.manifest_sha256 in result.stdout


@pytest.mark.parametrize("name", MEMBERS[:-1])
def test_one_changed_byte_in_any_file_is_named(workdir, pack, name):
    changed = flip_middle_byte(members(pack.content)[name])
    output = check_tampered(workdir, rezip(pack.content, {name: changed}))
    assert f"FAIL {name}: SHA-256 is " in output, output
    assert f"Manifest SHA-256: {pack.manifest_sha256}." in output


def test_one_changed_byte_in_the_manifests_title_is_named(workdir, pack):
    original = members(pack.content)["manifest.json"]
    changed = original.replace(b'"title": "Evidence for the learner"', b'"title": "Evidence for the learnes"')
    assert changed != original and len(changed) == len(original)
    output = check_tampered(workdir, rezip(pack.content, {"manifest.json": changed}))
    assert "FAIL manifest.json: manifest_digest " in output, output


def test_one_changed_byte_in_a_listed_sha256_is_named(workdir, pack):
    original = members(pack.content)["manifest.json"]
    listed = hashlib.sha256(DOCUMENT.content).hexdigest()
    forged = listed[:10] + ("0" if listed[10] != "0" else "1") + listed[11:]
    changed = original.replace(listed.encode(), forged.encode())
    assert changed != original
    output = check_tampered(workdir, rezip(pack.content, {"manifest.json": changed}))
    assert "FAIL manifest.json: manifest_digest " in output, output
    assert f"FAIL documents/notice.pdf: SHA-256 is {listed}, the manifest says {forged}" in output


def test_one_changed_digit_in_an_events_payload_names_the_event(workdir, pack, subject):
    graded = next(e for e in events_about(subject) if e.payload.get("score") == 83)
    original = members(pack.content)["events.jsonl"]
    changed = original.replace(b'\\"score\\":83', b'\\"score\\":93')
    assert changed != original and len(changed) == len(original)
    output = check_tampered(workdir, rezip(pack.content, {"events.jsonl": changed}))
    assert f"FAIL event {graded.seq}: content does not match its hash" in output, output
    assert "FAIL events.jsonl: SHA-256 is " in output


def test_a_forged_event_with_a_new_hash_breaks_the_link_to_the_next(workdir, pack, subject):
    """A forger who rehashes an event and rewrites the manifest is caught by the next event's prev_hash."""
    first, second = (e for e in events_about(subject) if e.kind == "exam.graded")
    assert second.seq == first.seq + 1
    forged_body = first.body.replace('"score":83', '"score":93')
    forged_hash = hashlib.sha256(forged_body.encode()).hexdigest()
    lines = [json.loads(line) for line in members(pack.content)["events.jsonl"].decode().splitlines()]
    for line in lines:
        if line["seq"] == first.seq:
            line.update(body=forged_body, hash=forged_hash)
    jsonl = "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines).encode()

    def change(manifest):
        for entry in manifest["events"]:
            if entry["seq"] == first.seq:
                entry["hash"] = forged_hash
        for entry in manifest["files"]:
            if entry["path"] == "events.jsonl":
                entry.update(sha256=hashlib.sha256(jsonl).hexdigest(), bytes=len(jsonl))

    forged_manifest = rewritten_manifest(pack.content, change)
    output = check_tampered(workdir, rezip(pack.content, {"events.jsonl": jsonl, "manifest.json": forged_manifest}))
    assert f"FAIL event {second.seq}: prev_hash {first.hash} is not the hash of event {first.seq}" in output, output
    assert output.count("FAIL ") == 1
    assert hashlib.sha256(forged_manifest).hexdigest() in output  # differs from the download record


def test_an_event_newer_than_the_chain_head_is_named(workdir, pack, subject):
    last = events_about(subject)[-1]

    def change(manifest):
        manifest["chain_head"]["seq"] = last.seq - 1

    output = check_tampered(workdir, rezip(pack.content, {"manifest.json": rewritten_manifest(pack.content, change)}))
    assert f"FAIL event {last.seq}: is newer than the chain head at export (event {last.seq - 1})" in output


def test_a_dropped_event_is_named(workdir, pack, subject):
    dropped = events_about(subject)[1]
    lines = members(pack.content)["events.jsonl"].decode().splitlines(keepends=True)
    jsonl = "".join(line for line in lines if json.loads(line)["seq"] != dropped.seq).encode()
    output = check_tampered(workdir, rezip(pack.content, {"events.jsonl": jsonl}))
    assert f"FAIL event {dropped.seq}: listed in the manifest but missing from events.jsonl" in output
    assert "FAIL events.jsonl: SHA-256 is " in output


@pytest.mark.parametrize("name", MEMBERS)
def test_a_missing_file_is_named(workdir, pack, name):
    output = check_tampered(workdir, rezip(pack.content, {name: None}))
    assert f"FAIL {name}: " in output and "missing" in output, output


def test_an_unlisted_file_is_named(workdir, pack):
    output = check_tampered(workdir, rezip(pack.content, {"documents/extra.txt": b"added later"}))
    assert "FAIL documents/extra.txt: present in the pack but not listed in the manifest" in output, output
    assert output.count("FAIL ") == 1


def test_a_changed_file_in_an_unzipped_pack_is_named(workdir):
    unzipped = workdir / "unzipped"
    with zipfile.ZipFile(workdir / "pack.zip") as archive:
        archive.extractall(unzipped)
    notice = unzipped / "documents" / "notice.pdf"
    notice.write_bytes(flip_middle_byte(notice.read_bytes()))
    (unzipped / "note.txt").write_text("added")
    result = run_verifier(workdir / "trusted", str(unzipped))
    assert result.returncode == 1
    assert "FAIL documents/notice.pdf: SHA-256 is " in result.stdout
    assert "FAIL note.txt: present in the pack but not listed" in result.stdout


def test_something_that_is_not_a_pack_fails(workdir):
    (workdir / "junk.zip").write_bytes(b"not a zip")
    result = run_verifier(workdir / "trusted", str(workdir / "junk.zip"))
    assert result.returncode == 1 and result.stdout.startswith("FAIL ")


# ----------------------------------------------------------------- the download


def _downloads(subject: str) -> list[EvidenceEvent]:
    return [e for e in events_about(subject) if e.kind == "evidence.pack_downloaded"]


def test_hr_downloads_a_pack_and_the_download_is_recorded(login_as, org, subject, tmp_path):
    count = len(events_about(subject))
    with clock.frozen(AT):
        response = login_as("hr").post("/evidence/pack", data={"subject": subject},
                                       headers={"User-Agent": "TestBrowser/1.0"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/zip"
    filename = f"evidence-employee-{org.learner.id}-20260615T030000Z.zip"
    assert f"filename={filename}" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    content = response.get_data()
    files = members(content)
    manifest_sha256 = hashlib.sha256(files["manifest.json"]).hexdigest()

    (download,) = _downloads(subject)
    assert download.actor == f"user:{org.users['hr'].id}"
    assert download.payload == {"manifest_sha256": manifest_sha256, "events": count, "filename": filename,
                                "ip": "127.0.0.1", "user_agent": "TestBrowser/1.0"}
    assert download.occurred_at == AT
    # The pack was built before its download was recorded, so it does not contain that event.
    assert json.loads(files["manifest.json"])["chain_head"]["seq"] == download.seq - 1
    assert "Evidence for " + subject in files["index.html"].decode()
    assert services.verify_chain(save=False).ok

    (tmp_path / "pack.zip").write_bytes(content)
    (tmp_path / "verify.py").write_bytes(files["verify.py"])
    result = run_verifier(tmp_path, "pack.zip")
    assert result.returncode == 0 and manifest_sha256 in result.stdout, result.stdout


@pytest.mark.parametrize("who", ["learner", "manager", "outsider"])
def test_only_hr_and_admins_download_packs(login_as, subject, who):
    before = services.chain_head()
    assert login_as(who).post("/evidence/pack", data={"subject": subject}).status_code == 403
    assert services.chain_head() == before


def test_admins_may_download_too(login_as, subject):
    assert login_as("admin").post("/evidence/pack", data={"subject": subject}).status_code == 200
    assert len(_downloads(subject)) == 1


def test_a_subject_without_events_redirects_and_records_nothing(login_as, subject):
    client = login_as("hr")
    before = services.chain_head()
    response = client.post("/evidence/pack", data={"subject": "employee:99999"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/evidence/?subject=employee:99999")
    assert services.chain_head() == before
    assert "There are no events about employee:99999" in client.get(response.headers["Location"]).get_data(
        as_text=True)


@pytest.mark.parametrize("bad", ["", "Employee:1", "employee 1", "employee:1\n", "x" * 101])
def test_an_invalid_subject_is_a_bad_request(login_as, subject, bad):
    before = services.chain_head()
    assert login_as("hr").post("/evidence/pack", data={"subject": bad}).status_code == 400
    assert services.chain_head() == before


def test_the_events_page_offers_the_pack_for_a_filtered_subject(login_as, subject):
    client = login_as("hr")
    page = client.get(f"/evidence/?subject={subject}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/evidence/pack".*?</form>', page, re.S).group(0)
    assert f'name="subject" type="hidden" value="{subject}"' in form
    assert "Download evidence pack (ZIP)" in form
    assert 'action="/evidence/pack"' not in client.get("/evidence/").get_data(as_text=True)


def test_the_download_form_needs_its_csrf_token(_migrated, subject):
    app = create_app(make_test_config(_migrated, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"username": "hr", "password": PASSWORD, "csrf_token": token}
                       ).status_code == 302
    assert client.post("/evidence/pack", data={"subject": subject}).status_code == 400
    assert _downloads(subject) == []
    page = client.get(f"/evidence/?subject={subject}").get_data(as_text=True)
    form = re.search(r'action="/evidence/pack".*?</form>', page, re.S).group(0)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post("/evidence/pack", data={"subject": subject, "csrf_token": token})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    db.session.expire_all()
    assert len(_downloads(subject)) == 1
