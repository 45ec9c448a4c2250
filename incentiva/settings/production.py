"""Production: refuses to start with an insecure or incomplete configuration.

Every check raises ImproperlyConfigured at import, so a bad deployment fails at boot (and in the image's
``manage.py check --deploy``), never at the first request. docs/operations.md lists the variables.
"""

import os

from django.core.exceptions import ImproperlyConfigured

# Checked before base.py is imported: base would otherwise fall back to embedded servers in development.
for _name in ("DATABASE_URL", "REDIS_URL"):
    if not os.environ.get(_name, "").strip():
        raise ImproperlyConfigured(f"{_name} must point at a real server in production.")

from .base import *  # noqa: E402, F403
from .base import DATABASES, LOGGING, SECRET_KEY, env  # noqa: E402

DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")

# Django's own deploy check (security.W009) calls a key weak under 50 characters or 5 distinct ones.
if (
    not env("SECRET_KEY", default="")
    or SECRET_KEY.startswith(("dev-insecure", "django-insecure"))
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters.")

FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set (a Fernet key) to encrypt secrets at rest.")
try:
    from cryptography.fernet import Fernet

    Fernet(FIELD_ENCRYPTION_KEY)
except ValueError as exc:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes): "
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    ) from exc

if not env("ALLOWED_HOSTS", default="").strip():
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the platform's host names (e.g. .incentiva.example).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must not be '*': the Host header picks the tenant.")

# Customers' source databases on internal addresses are refused unless listed in SOURCE_DB_ALLOWED_HOSTS.
SOURCE_DB_ALLOW_PRIVATE_NETWORKS = env.bool("SOURCE_DB_ALLOW_PRIVATE_NETWORKS", default=False)

# ------------------------------------------------------------------------------------------ HTTPS
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
if not (SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE):
    raise ImproperlyConfigured("Session and CSRF cookies must be secure in production.")
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# TLS ends at the proxy in front of the app, which must set X-Forwarded-Proto (and strip a client's own).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# A year by default; start lower (e.g. 300) while first rolling out HTTPS on a new domain.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# ------------------------------------------------------------------------------------------ data stores
# Under ASGI each request may run on another thread, so persistent connections would pile up: keep
# CONN_MAX_AGE at 0 (base.py reads it) unless a pooler sits in front. A dead database fails fast.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# DATABASE_POOL_MAX_SIZE > 0: Django's own PostgreSQL pool (psycopg_pool), per process, instead of a new
# connection per request under ASGI. Pooled connections replace CONN_MAX_AGE, which must then stay 0. Each
# checkout sets the tenant's search_path again (tests/tenants/test_search_path.py::test_pooled_*).
_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
if _POOL_MAX_SIZE > 0:
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("CONN_MAX_AGE must be 0 when DATABASE_POOL_MAX_SIZE is set.")
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": min(2, _POOL_MAX_SIZE), "max_size": _POOL_MAX_SIZE,
        "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
    }

# ------------------------------------------------------------------------------------------ static files
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# collectstatic ran at image build: serve from STATIC_ROOT only, with far-future caching of hashed names.
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False

# ------------------------------------------------------------------------------------------ logging
# JSON lines on stdout for the platform's collector; Django's own "django.server" runserver lines are off.
LOGGING["loggers"]["django.server"] = {"level": "WARNING"}
