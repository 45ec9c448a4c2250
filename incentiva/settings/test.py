"""Tests: real PostgreSQL and Redis (embedded unless DATABASE_URL / REDIS_URL are set), fast hashing."""

import os

# Tests use their own Redis logical databases (8, 9, 10) so a running demo is never disturbed.
os.environ.setdefault("REDIS_DB_BASE", "8")

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "incentiva-test")  # noqa: F405
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = os.environ.get("CHANNELS_PREFIX", "incentiva-test")  # noqa: F405
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
