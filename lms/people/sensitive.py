"""National ID numbers: validation, encryption at rest, masking, duplicate digests.

The encryption key is derived (HKDF-SHA256) from LMS_DATA_KEY, or SECRET_KEY when that is
unset, so no key material is stored beside the data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def _derive(purpose: bytes) -> bytes:
    secret = current_app.config.get("LMS_DATA_KEY") or current_app.config["SECRET_KEY"]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lms-people", info=purpose).derive(
        secret.encode()
    )


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"national-id-encryption-v1")))


def normalise_national_id(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


def national_id_problem(number: str) -> str | None:
    """Why `number` is not a valid 18-character resident ID (GB 11643-1999), or None."""
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "format"
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "birth_date"
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _WEIGHTS, strict=True))
    if _CHECK_CHARS[total % 11] != number[17]:
        return "checksum"
    return None


def encrypt(number: str) -> str:
    return _fernet().encrypt(number.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a changed LMS_DATA_KEY must fail loudly, not show garbage
        raise RuntimeError("national ID cannot be decrypted: LMS_DATA_KEY or SECRET_KEY changed") from exc


def digest(number: str) -> str:
    """Keyed hash used to find duplicate numbers without decrypting."""
    return hmac.new(_derive(b"national-id-digest-v1"), number.encode(), hashlib.sha256).hexdigest()


def mask(number: str) -> str:
    """`110101199003071234` → `1101**********1234`."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_mobile(mobile: str) -> str:
    """`13812345678` → `138****5678`."""
    if len(mobile) < 7:
        return "*" * len(mobile)
    return mobile[:3] + "*" * (len(mobile) - 7) + mobile[-4:]
