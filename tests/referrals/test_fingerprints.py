from __future__ import annotations

import pytest
from django.test import override_settings

from apps.referrals.fingerprints import address_normalize, email_normalize, fingerprint_hash, ip_normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John.Doe+promo@Gmail.com", "johndoe@gmail.com"),
        ("j.o.h.n.doe@googlemail.com", "johndoe@gmail.com"),
        ("  Maria+x+y@example.com ", "maria@example.com"),
        ("first.last@example.com", "first.last@example.com"),
        ("not-an-email", "not-an-email"),
    ],
)
def test_email_normalize_ignores_case_tags_and_gmail_dots(raw, expected):
    assert email_normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 203.0.113.7 ", "203.0.113.7"),
        ("2001:db8:abcd:12:1111:2222:3333:4444", "2001:db8:abcd:12::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("Garbage", "garbage"),
    ],
)
def test_ip_normalize_keeps_ipv4_and_reduces_ipv6_to_its_network(raw, expected):
    assert ip_normalize(raw) == expected


def test_address_normalize_ignores_case_accents_punctuation_and_spacing():
    assert address_normalize("Rua São João, 12 -  Apto. 3") == address_normalize("rua sao joao 12 apto 3")
    assert address_normalize("Rua São João, 12") != address_normalize("Rua São João, 13")


def test_fingerprint_hash_is_keyed_per_kind_and_tenant_and_never_the_raw_value():
    ip = "203.0.113.7"
    first = fingerprint_hash(kind="ip", value=ip, schema="alpha")

    assert first == fingerprint_hash(kind="ip", value=f" {ip} ", schema="alpha")
    assert len(first) == 64 and ip not in first
    assert first != fingerprint_hash(kind="device", value=ip, schema="alpha")
    assert first != fingerprint_hash(kind="ip", value=ip, schema="beta")
    with override_settings(FIELD_ENCRYPTION_KEY="another-key"):
        assert first != fingerprint_hash(kind="ip", value=ip, schema="alpha")


def test_fingerprint_hash_of_nothing_is_empty():
    assert fingerprint_hash(kind="card", value="   ", schema="alpha") == ""
