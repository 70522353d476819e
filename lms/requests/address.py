"""My details and the service address (送达地址确认).

The employee updates their mobile, e-mail, contact address and emergency contact; each change is an
evidence event HR sees. The service address is the address of the employee's newest confirmation that
nothing superseded: confirmed in the app (the exact text shown, its SHA-256, time, IP, user agent, as
an attestation) or recorded by HR from a signed paper scan. Changing the contact address supersedes the
confirmation (it stays on record) and asks for a new one. absence.service proposes this address first
and treats a dispatch to it as going to an address confirmed in writing.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import clock, evidence
from lms.extensions import db
from lms.people.models import Employee
from lms.requests.models import EmergencyContact, ServiceAddressConfirmation
from lms.requests.rules import RequestRefused

MOBILE = re.compile(r"^1\d{10}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def confirmation_text(employee: Employee, address: str, locale: str) -> str:
    """The exact text the employee confirms (the hash is taken of this)."""
    with force_locale(locale):
        return _("I, %(name)s (employee number %(no)s), confirm that %(address)s is the address at which the "
                 "company may serve written documents on me. A document sent there that is refused, or that cannot "
                 "be delivered because I moved without telling the company, counts as served on me. I will tell the "
                 "company of any change of this address in the system within the time the rules set.",
                 name=employee.name, no=employee.employee_no, address=address)


def current_confirmation(employee_id: int) -> ServiceAddressConfirmation | None:
    """The confirmation in force (the newest not superseded), or None."""
    return db.session.scalars(select(ServiceAddressConfirmation).where(
        ServiceAddressConfirmation.employee_id == employee_id, ServiceAddressConfirmation.superseded_at.is_(None))
        .order_by(ServiceAddressConfirmation.confirmed_at.desc(), ServiceAddressConfirmation.id.desc())).first()


def service_address(employee_id: int, on: datetime | None = None) -> ServiceAddressConfirmation | None:
    """The confirmed service address in force at `on` (default now): what notices are sent to first."""
    confirmation = current_confirmation(employee_id)
    if confirmation is None or (on is not None and confirmation.confirmed_at > clock.as_utc(on)):
        return None
    return confirmation


def confirmations(employee_id: int) -> list[ServiceAddressConfirmation]:
    return list(db.session.scalars(select(ServiceAddressConfirmation).where(
        ServiceAddressConfirmation.employee_id == employee_id)
        .order_by(ServiceAddressConfirmation.confirmed_at.desc(), ServiceAddressConfirmation.id.desc())))


def _supersede(employee_id: int, why: str, now: datetime) -> ServiceAddressConfirmation | None:
    old = current_confirmation(employee_id)
    if old is not None:
        old.superseded_at, old.superseded_why = now, why
    return old


def confirm_in_app(employee: Employee, locale: str, shown_sha256: str | None, ip: str | None,
                   user_agent: str | None, actor=None) -> ServiceAddressConfirmation:
    """The employee confirms their contact address as the service address; `shown_sha256` is the hash of the
    text the page showed (a changed address or text since then is refused, so what is stored is what was seen)."""
    address = (employee.contact_address or "").strip()
    if not address:
        raise RequestRefused(_l("Enter your contact address first: it is the address you confirm."),
                             field="contact_address", status=422)
    text = confirmation_text(employee, address, locale)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if shown_sha256 is not None and shown_sha256 != digest:
        raise RequestRefused(_l("The text changed since the page was shown (the address was updated): read it again "
                                "and confirm."), field="text_sha256")
    return _save(employee, address, "app", text, digest, locale, ip, user_agent, actor)


def record_scan(employee: Employee, address: str, filename: str, data: bytes, actor=None) -> ServiceAddressConfirmation:
    """HR records a signed paper confirmation (its scan stored and hashed)."""
    address = (address or "").strip()
    if not address:
        raise RequestRefused(_l("Give the address the employee confirmed."), field="address", status=422)
    if not data:
        raise RequestRefused(_l("Attach the scan of the signed confirmation."), field="scan", status=422)
    text = confirmation_text(employee, address, "zh_CN")
    confirmation = _save(employee, address, "scan", text, hashlib.sha256(text.encode("utf-8")).hexdigest(), "zh_CN",
                         None, None, actor, scan=(filename, data))
    return confirmation


def _save(employee, address, method, text, digest, locale, ip, user_agent, actor, scan=None):
    now = clock.now()
    old = _supersede(employee.id, "reconfirmed", now)
    payload = {"address": address, "method": method, "text": text, "text_sha256": digest, "locale": locale,
               "ip": ip, "user_agent": (user_agent or "")[:200], "replaces": old.id if old else None}
    if scan:
        payload.update(scan_filename=scan[0], scan_sha256=hashlib.sha256(scan[1]).hexdigest())
    event = evidence.record("requests.service_address_confirmed", evidence.subject_of("employee", employee.id),
                            payload, actor=actor)
    confirmation = ServiceAddressConfirmation(
        employee_id=employee.id, address=address, method=method, text_shown=text, text_sha256=digest, locale=locale,
        confirmed_at=now, ip=ip, user_agent=(user_agent or "")[:300] or None, recorded_by=evidence.actor_of(actor),
        scan_filename=scan[0][:200] if scan else None, scan_sha256=payload.get("scan_sha256"),
        scan=scan[1] if scan else None, evidence_seq=event.seq)
    db.session.add(confirmation)
    db.session.commit()
    return confirmation


DETAIL_FIELDS = ("mobile", "email", "contact_address")
CONTACT_FIELDS = ("emergency_name", "emergency_relation", "emergency_phone")


def update_details(employee: Employee, values: dict, actor=None) -> list[str]:
    """Update the given fields of mobile, email, contact_address, emergency_name/_relation/_phone; returns the
    changed ones. A changed contact address supersedes the service-address confirmation (kept on record)."""
    clean = {k: (values[k] or "").strip() for k in (*DETAIL_FIELDS, *CONTACT_FIELDS) if k in values}
    if "mobile" in clean and clean["mobile"] and not MOBILE.match(clean["mobile"]):
        raise RequestRefused(_l("A mainland mobile number has 11 digits starting with 1."), field="mobile",
                             status=422)
    if "email" in clean and clean["email"] and not EMAIL.match(clean["email"]):
        raise RequestRefused(_l("Not an e-mail address."), field="email", status=422)
    if "contact_address" in clean and len(clean["contact_address"]) > 500:
        raise RequestRefused(_l("The address is longer than 500 characters."), field="contact_address", status=422)
    if "emergency_phone" in clean and clean["emergency_phone"] and not re.match(r"^[\d\-+ ]{5,20}$",
                                                                                 clean["emergency_phone"]):
        raise RequestRefused(_l("Not a phone number."), field="emergency_phone", status=422)
    contact = db.session.get(EmergencyContact, employee.id)
    before = {"mobile": employee.mobile or "", "email": employee.email or "",
              "contact_address": employee.contact_address or "",
              "emergency_name": contact.name if contact else "", "emergency_relation": (contact.relation or "")
              if contact else "", "emergency_phone": contact.phone if contact else ""}
    changed = [k for k, v in clean.items() if v != before[k]]
    if not changed:
        return []
    now = clock.now()
    for name in DETAIL_FIELDS:
        if name in changed:
            setattr(employee, name, clean[name] or None)
    if set(changed) & set(CONTACT_FIELDS):
        name = clean.get("emergency_name", before["emergency_name"])
        phone = clean.get("emergency_phone", before["emergency_phone"])
        if not name or not phone:
            raise RequestRefused(_l("An emergency contact needs a name and a phone number."), field="emergency_name",
                                 status=422)
        if contact is None:
            contact = EmergencyContact(employee_id=employee.id, name=name, phone=phone)
            db.session.add(contact)
        contact.name, contact.phone = name, phone
        contact.relation = clean.get("emergency_relation", before["emergency_relation"]) or None
        contact.updated_at = now
    superseded = _supersede(employee.id, "address_changed", now) if "contact_address" in changed else None
    evidence.record("requests.details_changed", evidence.subject_of("employee", employee.id), {
        "changed": {k: {"from": before[k], "to": clean[k]} for k in changed},
        "service_address_superseded": superseded.id if superseded else None}, actor=actor)
    db.session.commit()
    return changed


def emergency_contact(employee_id: int) -> EmergencyContact | None:
    return db.session.get(EmergencyContact, employee_id)
