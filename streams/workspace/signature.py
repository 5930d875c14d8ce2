"""FastPix's webhook signature, exactly as contract §5.3 states it: the Base64 of an HMAC-SHA256 over the
raw request body, keyed with the Base64-decoded signing secret. No timestamp, so no replay window: the
intake dedupes on the event id instead."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


def fastpix_signature(raw_body: bytes, signing_secret_b64: str) -> str:
    key = base64.b64decode(signing_secret_b64, validate=True)
    return base64.b64encode(hmac.new(key, raw_body, hashlib.sha256).digest()).decode()


def is_valid_secret(signing_secret_b64: str) -> bool:
    try:
        return bool(base64.b64decode(signing_secret_b64, validate=True))
    except (binascii.Error, ValueError):
        return False


def verify(raw_body: bytes, header_value: str | None, signing_secret_b64: str) -> bool:
    """Constant-time comparison of the header with the signature of these exact bytes."""
    expected = fastpix_signature(raw_body, signing_secret_b64)
    return hmac.compare_digest(expected.encode(), (header_value or "").strip().encode())
