"""incentiva.settings.production refuses to load an insecure or incomplete environment.

Each case imports the settings in a fresh interpreter with exactly the environment given (nothing is
inherited from the test run). Loading settings opens no connection, so the URLs only need to be well-formed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
LOAD = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({k: getattr(settings, k) for k in ("
    "'DEBUG', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
    "'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_PROXY_SSL_HEADER', "
    "'ALLOWED_HOSTS', 'WHITENOISE_USE_FINDERS', 'CELERY_BROKER_URL', 'CACHE_URL', "
    "'SOURCE_DB_ALLOW_PRIVATE_NETWORKS')}))"
)
GOOD_ENV = {
    "DJANGO_SETTINGS_MODULE": "incentiva.settings.production",
    "DEBUG": "false",  # explicit, so a developer's .env (read by base.py) cannot change the outcome
    "DATABASE_URL": "postgres://incentiva:pw@127.0.0.1:5432/incentiva",
    "REDIS_URL": "redis://127.0.0.1:6379",
    "SECRET_KEY": "q8Vf2-kL0sZt9wXb7yN1mR4cE6hJ3pA5uD8gT0iO2lK9vB7nM1xC4zQ6wS3eR5tY",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": ".incentiva.example,incentiva.example",
}


def _load(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
             "PYTHONDONTWRITEBYTECODE": "1", **env}
    return subprocess.run([sys.executable, "-c", LOAD], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=60, check=False)


def _refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr, result.stderr[-2000:]
    return result.stderr.strip().splitlines()[-1]


def test_a_complete_environment_loads_with_https_hardening():
    result = _load(GOOD_ENV)

    assert result.returncode == 0, result.stderr[-2000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["DEBUG"] is False
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert loaded["SECURE_HSTS_PRELOAD"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert loaded["ALLOWED_HOSTS"] == [".incentiva.example", "incentiva.example"]
    assert loaded["WHITENOISE_USE_FINDERS"] is False
    assert loaded["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert loaded["CACHE_URL"] == "redis://127.0.0.1:6379/1"
    # Customers' databases on the platform's internal networks are refused unless allowed (SSRF).
    assert loaded["SOURCE_DB_ALLOW_PRIVATE_NETWORKS"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DEBUG": "true"}, "DEBUG must be off in production."),
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "too-short-0123456789"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "dev-insecure-secret-key-change-me-0123456789abcdef-padding"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz0123456789"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY must be set"),
        ({"FIELD_ENCRYPTION_KEY": None}, "FIELD_ENCRYPTION_KEY must be set"),
        ({"FIELD_ENCRYPTION_KEY": "not-a-fernet-key"}, "FIELD_ENCRYPTION_KEY must be a Fernet key"),
        ({"DATABASE_URL": None}, "DATABASE_URL must point at a real server in production."),
        ({"DATABASE_URL": "  "}, "DATABASE_URL must point at a real server in production."),
        ({"REDIS_URL": None}, "REDIS_URL must point at a real server in production."),
        ({"SESSION_COOKIE_SECURE": "false"}, "Session and CSRF cookies must be secure in production."),
        ({"CSRF_COOKIE_SECURE": "false"}, "Session and CSRF cookies must be secure in production."),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must list the platform's host names"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must not be '*'"),
    ],
    ids=lambda value: value if isinstance(value, str) else ",".join(f"{k}={v}" for k, v in value.items()),
)
def test_an_insecure_or_incomplete_environment_is_refused(change, message):
    env = {**GOOD_ENV, **{key: value for key, value in change.items() if value is not None}}
    for key in [key for key, value in change.items() if value is None]:
        env.pop(key)

    assert message in _refusal(_load(env))



def test_database_pool_is_off_by_default_and_sized_from_the_environment():
    script = ("import json, django; from django.conf import settings; django.setup(); "
              "db = settings.DATABASES['default']; print(json.dumps([db['OPTIONS'].get('pool'), db['CONN_MAX_AGE']]))")
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
             "PYTHONDONTWRITEBYTECODE": "1"}

    def load(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**clean, **GOOD_ENV, **env},
                              capture_output=True, text=True, timeout=60, check=False)

    off, on = load({}), load({"DATABASE_POOL_MAX_SIZE": "8"})
    assert json.loads(off.stdout.strip().splitlines()[-1]) == [None, 0], off.stderr
    assert json.loads(on.stdout.strip().splitlines()[-1]) == [{"min_size": 2, "max_size": 8, "timeout": 10}, 0]
    refused = load({"DATABASE_POOL_MAX_SIZE": "8", "CONN_MAX_AGE": "60"})
    assert "CONN_MAX_AGE must be 0" in _refusal(refused)
