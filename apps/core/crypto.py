"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under ``settings.FIELD_ENCRYPTION_KEY``.

``FIELD_ENCRYPTION_KEY`` may hold several comma-separated keys: the first encrypts, all decrypt (rotation).
A key that is not already a Fernet key (32 url-safe base64 bytes) is stretched with SHA-256; with no key
set, one is derived from ``SECRET_KEY`` under a label, so the two never coincide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

_DERIVATION_LABEL = b"incentiva.field-encryption.v1:"


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with the configured keys (wrong key or tampered token)."""


def _fernet_key(material: str) -> bytes:
    raw = material.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(_DERIVATION_LABEL + raw).digest())


def _cipher() -> MultiFernet:
    configured = getattr(settings, "FIELD_ENCRYPTION_KEY", "") or ""
    keys = [key for key in configured.split(",") if key.strip()] or [settings.SECRET_KEY]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def secret_encrypt(plaintext: str) -> str:
    """A Fernet token (text) for ``plaintext``; a different token each call."""
    return _cipher().encrypt(plaintext.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The plaintext of a token made by :func:`secret_encrypt`; raises DecryptionError otherwise."""
    try:
        return _cipher().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise DecryptionError("the secret cannot be decrypted with the configured keys") from exc
