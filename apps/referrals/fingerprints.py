"""Normalise and hash the identifying values that fraud checks compare (IP, device, address, card, email).

Values are hashed with HMAC-SHA256 under a key derived from ``FIELD_ENCRYPTION_KEY`` (or ``SECRET_KEY`` when it
is not set), and the tenant's schema is part of the message: the same card in two tenants gives two unrelated
hashes, and without the key a hash cannot be tested against guessed values (an IPv4 space is small).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import unicodedata

from django.conf import settings
from django.db import connection

_KEY_CONTEXT = b"incentiva.referrals.fingerprint.v1"
_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def _key() -> bytes:
    base = (getattr(settings, "FIELD_ENCRYPTION_KEY", "") or settings.SECRET_KEY).encode()
    return hmac.new(base, _KEY_CONTEXT, hashlib.sha256).digest()


def ip_normalize(value: str) -> str:
    """An IPv4 address as is; an IPv6 address reduced to its /64 network (privacy extensions rotate the rest).

    A value that is not an IP address is kept trimmed and lower-cased, so it still compares with itself.
    """
    raw = value.strip()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw.lower()
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def address_normalize(value: str) -> str:
    """Case, accents, punctuation and spacing do not make two billing addresses different."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", without_accents).split())


def email_normalize(value: str) -> str:
    """The mailbox an address delivers to: lower-cased, ``+tag`` removed, dots removed for Gmail."""
    email = value.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


_NORMALISERS = {
    "ip": ip_normalize,
    "device": lambda value: value.strip().lower(),
    "billing_address": address_normalize,
    # Card fingerprints come from the payment provider and are case-sensitive tokens.
    "card": lambda value: value.strip(),
    "user_agent": lambda value: value.strip(),
}


def fingerprint_hash(*, kind: str, value: str, schema: str | None = None) -> str:
    """Hex HMAC-SHA256 of the normalised value for this tenant; an empty value hashes to ``""``."""
    normalised = _NORMALISERS[kind](value or "")
    if not normalised:
        return ""
    tenant = schema if schema is not None else connection.schema_name
    message = f"{tenant}|{kind}|{normalised}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()
