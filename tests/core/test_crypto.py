"""Secrets at rest: Fernet under FIELD_ENCRYPTION_KEY (or a key derived from SECRET_KEY), with rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from apps.core.crypto import DecryptionError, secret_decrypt, secret_encrypt


def test_round_trip_and_a_fresh_token_each_time(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    first, second = secret_encrypt("s3cret"), secret_encrypt("s3cret")
    assert first != second and "s3cret" not in first
    assert secret_decrypt(first) == secret_decrypt(second) == "s3cret"


def test_a_token_does_not_open_under_another_key(settings):
    settings.FIELD_ENCRYPTION_KEY = "key-one"
    token = secret_encrypt("s3cret")
    settings.FIELD_ENCRYPTION_KEY = "key-two"
    with pytest.raises(DecryptionError):
        secret_decrypt(token)
    with pytest.raises(DecryptionError):
        secret_decrypt("not a token")


def test_keys_rotate_first_encrypts_all_decrypt(settings):
    old = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    token = secret_encrypt("s3cret")
    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old}"
    assert secret_decrypt(token) == "s3cret"
    newer = secret_encrypt("again")  # encrypted under the new first key
    settings.FIELD_ENCRYPTION_KEY = old
    with pytest.raises(DecryptionError):
        secret_decrypt(newer)


def test_a_non_fernet_key_is_stretched_not_refused(settings):
    settings.FIELD_ENCRYPTION_KEY = "a plain passphrase"
    assert secret_decrypt(secret_encrypt("s3cret")) == "s3cret"
