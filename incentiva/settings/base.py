"""Settings shared by every environment. Values come from the environment (django-environ)."""

from __future__ import annotations

from pathlib import Path

import environ
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from incentiva import embedded

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-secret-key-change-me-0123456789abcdef")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[".localhost", "localhost", "127.0.0.1", "testserver"])
# Key for encrypting secrets at rest (Fernet); derived from SECRET_KEY when not set.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")

# ------------------------------------------------------------------------------------------ applications
SHARED_APPS = [
    # apps.tenants first so that its create_tenant command replaces django_tenants' generic one.
    "apps.tenants",
    "django_tenants",
    "daphne",
    # Not plain "unfold": that one replaces admin.site; ours is TenantAdminSite (see apps/tenants/sites.py).
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "apps.tenants.sites.TenantAdminConfig",  # django.contrib.admin, with TenantAdminSite as admin.site
    "django.contrib.humanize",
    "apps.core",
    "apps.accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "corsheaders",
    "csp",
    "django_celery_beat",
    "channels",
]
# Everything a tenant owns lives in its own schema. Auth and sessions are in both: platform staff
# sign in on the public schema, a tenant's users only ever exist in that tenant's schema.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "apps.tenants.sites.TenantAdminConfig",  # django.contrib.admin, with TenantAdminSite as admin.site
    "apps.core",
    "apps.accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "rest_framework_simplejwt.token_blacklist",
    "oauth2_provider",
    "apps.loyalty",
    "apps.developer",
    "apps.referrals",
    "apps.rules",
    "apps.campaigns",
    "apps.ai",
    "apps.tlp",
    "apps.branding",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Client"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New tenants are cloned from this template schema instead of running every migration.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
TENANT_DEV_DOMAIN_SUFFIX = env("TENANT_DEV_DOMAIN_SUFFIX", default="localhost")
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
# One `SET search_path` per schema switch instead of one before every query. Safe with django-tenants 4.0.1:
# its rollback() and savepoint_rollback() forget the tracked path (a rolled-back SET is undone by PostgreSQL),
# proved by tests/tenants/test_search_path.py. Raw SQL must not change search_path outside SET LOCAL.
TENANT_LIMIT_SET_CALLS = env.bool("TENANT_LIMIT_SET_CALLS", default=True)
# Seconds each process keeps a host → tenant lookup (apps/tenants/middleware.py); 0 turns the cache off.
TENANT_CACHE_SECONDS = env.int("TENANT_CACHE_SECONDS", default=5)
# Seconds each process keeps other per-request lookups (apps/core/local_cache.py): a JWT's user, an API key, the
# loyalty program (and its tiers) a customer id is found in. Saving or deleting the row clears the process's own
# copy at once; other processes follow within the TTL (a deactivation or revocation too). 0 turns one off.
AUTH_USER_CACHE_SECONDS = env.int("AUTH_USER_CACHE_SECONDS", default=5)
# A JWT's signature and claims, verified once per process for this long (its expiry is checked every time).
AUTH_TOKEN_CACHE_SECONDS = env.int("AUTH_TOKEN_CACHE_SECONDS", default=60)
AUTH_API_KEY_CACHE_SECONDS = env.int("AUTH_API_KEY_CACHE_SECONDS", default=5)
LOYALTY_PROGRAM_CACHE_SECONDS = env.int("LOYALTY_PROGRAM_CACHE_SECONDS", default=5)

ROOT_URLCONF = "incentiva.urls_tenants"
PUBLIC_SCHEMA_URLCONF = "incentiva.urls_public"
WSGI_APPLICATION = "incentiva.wsgi.application"
ASGI_APPLICATION = "incentiva.asgi.application"

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.middleware.HealthProbeMiddleware",
    "apps.tenants.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.middleware.LocaleMiddleware",  # Django's, without path lookups when no URL is language-prefixed
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.CSPMiddleware",  # django-csp's, the unchanged policy built once per process
    "allauth.account.middleware.AccountMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.platform",
                "apps.branding.context_processors.branding",
            ],
        },
    }
]

# ------------------------------------------------------------------------------------------ data stores
# With no DATABASE_URL / REDIS_URL, real embedded servers are started in .incentiva/ (see embedded.py).
# Production never falls back to an embedded server: its settings refuse to start without the URLs.
_EMBEDDED_ALLOWED = not env("DJANGO_SETTINGS_MODULE", default="").endswith(".production")
DATABASE_URL = env("DATABASE_URL", default="") or (embedded.postgres_start() if _EMBEDDED_ALLOWED else "")
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
# django-tenants' backend with a health check that needs no round trip on a quiet connection.
DATABASES["default"]["ENGINE"] = "apps.core.postgresql_backend"
# A unix-socket URL (?host=/path) arrives as an option; Django expects it as HOST.
if "host" in DATABASES["default"].get("OPTIONS", {}):
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = (env("REDIS_URL", default="") or (embedded.redis_start() if _EMBEDDED_ALLOWED else "")).rstrip("/")


def _redis_db(url: str, db: int) -> str:
    """One Redis server, separate logical databases for broker, cache and channel layer."""
    base, _, last = url.rpartition("/")
    if last.isdigit() and base.count("/") >= 2:
        url = base
    return f"{url}/{db}"


REDIS_DB_BASE = env.int("REDIS_DB_BASE", default=0)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=_redis_db(REDIS_URL, REDIS_DB_BASE))
CACHE_URL = _redis_db(REDIS_URL, REDIS_DB_BASE + 1)
CHANNELS_REDIS_URL = _redis_db(REDIS_URL, REDIS_DB_BASE + 2)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="incentiva"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [CHANNELS_REDIS_URL], "prefix": env("CHANNELS_PREFIX", default="incentiva")},
    }
}

# ------------------------------------------------------------------------------------------ auth
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_RATE_LIMITS = {"login_failed": "5/m/ip,5/5m/key", "login": "30/m/ip"}
ACCOUNT_ADAPTER = "apps.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "apps.accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Incentiva"

# ------------------------------------------------------------------------------------------ API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # OAuth2 first: it passes on a bearer token it does not know (a JWT), while the JWT class rejects
        # any bearer token that is not a JWT. Its "Bearer" challenge makes DRF answer 401, not 403.
        "apps.core.api.authentication.OAuth2Authentication",
        "apps.accounts.authentication.TenantJWTAuthentication",
        "apps.developer.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "apps.core.api.filters.StableOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.DefaultPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.throttling.UserRateThrottle",
        "apps.core.throttling.ClientRateThrottle",
        "apps.core.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("THROTTLE_USER", default="600/min"),
        "client": env("THROTTLE_CLIENT", default="1200/min"),
        "anon": env("THROTTLE_ANON", default="60/min"),
        "auth_login": env("THROTTLE_AUTH_LOGIN", default="5/min"),
    },
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    # DRF's, with the answer for the usual Accept headers (none, */*, application/json) computed once.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.core.api.negotiation.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "AUTH_HEADER_TYPES": ("Bearer",),
    "ACCESS_TOKEN_LIFETIME": __import__("datetime").timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": __import__("datetime").timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
}

OAUTH2_PROVIDER = {
    "SCOPES": {
        "profile:read": _("Read your profile"),
        "loyalty:read": _("Read loyalty programs, members and points"),
        "loyalty:write": _("Change loyalty programs and move points"),
        "campaigns:read": _("Read sales-incentive campaigns"),
        "campaigns:write": _("Create and run sales-incentive campaigns"),
        "referrals:read": _("Read referral campaigns and referrals"),
        "referrals:write": _("Change referral campaigns and referrals"),
        "developer:read": _("Read the tenant's partner applications and API keys"),
        "developer:write": _("Register partner applications and issue or revoke API keys"),
    },
    "DEFAULT_SCOPES": ["profile:read"],
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "apps.developer.oauth_validators.TenantOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

SPECTACULAR_SETTINGS = {
    "TITLE": "Incentiva API",
    "DESCRIPTION": "Sales-incentive campaigns and loyalty & referral programs, per tenant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    # One name for a choice set that several fields use.
    "ENUM_NAME_OVERRIDES": {
        "ReferralChannelEnum": "apps.referrals.models.Channel",
        "ProgramStatusEnum": "apps.loyalty.models.Program.Status",
        "ProgramTypeEnum": "apps.loyalty.models.Program.Type",
        "RewardStatusEnum": "apps.loyalty.models.Reward.Status",
        "RewardTypeEnum": "apps.loyalty.models.Reward.Type",
        "EarnEventEnum": "apps.loyalty.models.EarnRule.Event",
        "DdlDialectEnum": "apps.rules.schema_ingest.DDL_DIALECTS",
        "SqlDialectEnum": "apps.rules.sql_compile.DIALECTS",
        "LedgerSourceEnum": "apps.loyalty.models.LedgerEntry.Source",
        "AwardSourceEnum": "apps.loyalty.services.ledger.AWARD_SOURCE_CHOICES",
        "LanguageCodeEnum": ["en", "pt-br", "es"],
        "LeaderboardScopeEnum": "apps.campaigns.models.LeaderboardPrize.Scope",
    },
}

IDEMPOTENCY_TTL_SECONDS = 24 * 3600

# ------------------------------------------------------------------------------------------ Claude API (apps.ai)
# Empty key: the deterministic parser answers (the seed's fallback). A tenant may store its own key (encrypted).
ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default="")
# The newest Sonnet the installed SDK knows; claude-sonnet-4-5 is deprecated (end of life 2026-11-30).
ANTHROPIC_MODEL = env("ANTHROPIC_MODEL", default="claude-sonnet-5-5")
AI_RATE_LIMIT = env.int("AI_RATE_LIMIT", default=20)  # Claude calls per tenant per minute
AI_TIMEOUT_SECONDS = env.float("AI_TIMEOUT_SECONDS", default=60.0)
AI_MAX_RETRIES = env.int("AI_MAX_RETRIES", default=2)  # the SDK's own retries of 408/429/5xx and lost connections
AI_MAX_TOKENS = env.int("AI_MAX_TOKENS", default=4096)
AI_CACHE_TTL_SECONDS = env.int("AI_CACHE_TTL_SECONDS", default=7 * 24 * 3600)

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# ------------------------------------------------------------------------------------------ jobs
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
# Platform-wide beat entries (synced into django_celery_beat by its scheduler): each one fans a tenant task out
# to every active tenant through core.run_for_all_tenants. Apps add their own entries below.
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["referrals-expire-due"] = {
    "task": "core.run_for_all_tenants",
    "schedule": 3600.0,
    "kwargs": {"task_name": "referrals.expire_due"},
    "options": {"headers": {"_schema_name": "public"}},
}
# Loyalty: unlock pending points and expire old ones every 15 minutes; warnings, released reservations and
# tier downgrades less often. Every task is safe to run twice (apps/loyalty/tasks.py).
for _name, _task, _every in [
    ("loyalty-points-unlock-due", "loyalty.points_unlock_due", 900.0),
    ("loyalty-points-expire-due", "loyalty.points_expire_due", 900.0),
    ("loyalty-expiry-warnings-send", "loyalty.expiry_warnings_send", 6 * 3600.0),
    ("loyalty-redemptions-release-expired", "loyalty.redemptions_release_expired", 300.0),
    ("loyalty-tier-downgrades-apply-due", "loyalty.tier_downgrades_apply_due", 3600.0),
]:
    CELERY_BEAT_SCHEDULE[_name] = {
        "task": "core.run_for_all_tenants",
        "schedule": _every,
        "kwargs": {"task_name": _task},
        "options": {"headers": {"_schema_name": "public"}},
    }
# No result backend, so nothing for beat's default celery.backend_cleanup entry to clean.
CELERY_RESULT_EXPIRES = None

# ------------------------------------------------------------------------------------------ TLP integration
TLP_OUTBOX_MAX_ATTEMPTS = env.int("TLP_OUTBOX_MAX_ATTEMPTS", default=12)
TLP_OUTBOX_RETRY_BASE_SECONDS = env.float("TLP_OUTBOX_RETRY_BASE_SECONDS", default=5.0)
TLP_OUTBOX_RETRY_MAX_SECONDS = env.float("TLP_OUTBOX_RETRY_MAX_SECONDS", default=1800.0)
TLP_OUTBOX_BATCH_SIZE = env.int("TLP_OUTBOX_BATCH_SIZE", default=200)
TLP_OUTBOX_CONCURRENCY = env.int("TLP_OUTBOX_CONCURRENCY", default=8)
TLP_CLIENT_MAX_RETRIES = env.int("TLP_CLIENT_MAX_RETRIES", default=3)
TLP_CLIENT_BACKOFF_BASE_SECONDS = env.float("TLP_CLIENT_BACKOFF_BASE_SECONDS", default=0.5)
TLP_CLIENT_BACKOFF_MAX_SECONDS = env.float("TLP_CLIENT_BACKOFF_MAX_SECONDS", default=8.0)
TLP_CACHE_TTL_SECONDS = env.int("TLP_CACHE_TTL_SECONDS", default=60)
# Writes kick a delivery on commit; the beat entry is the safety net for rows waiting on a retry.
TLP_OUTBOX_KICK = env.bool("TLP_OUTBOX_KICK", default=True)
CELERY_BEAT_SCHEDULE["tlp-outbox-deliver"] = {
    "task": "core.run_for_all_tenants",
    "schedule": 60.0,
    "kwargs": {"task_name": "tlp.outbox_deliver"},
    "options": {"headers": {"_schema_name": "public"}},
}
CELERY_BEAT_SCHEDULE["tlp-reconcile"] = {
    "task": "core.run_for_all_tenants",
    "schedule": 6 * 3600.0,
    "kwargs": {"task_name": "tlp.reconcile"},
    "options": {"headers": {"_schema_name": "public"}},
}

# ------------------------------------------------------------------------------------------ i18n
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pt-br", _("Portuguese (Brazil)")), ("es", _("Spanish"))]
# locale/overrides: corrections to Django's own catalogs (pt-BR month names), below ours in priority.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "overrides"]
# The product's languages as an OpenAPI enum (set here: LANGUAGES is defined after the API settings).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["LanguageEnum"] = LANGUAGES
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# ------------------------------------------------------------------------------------------ static
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# The port tenant links in e-mails and TLP image URLs carry when the platform is not served on the scheme's
# default port (development and the demo: 8000). Empty in production behind a proxy on 443.
TENANT_URL_PORT = env("TENANT_URL_PORT", default="")

# Customers' source databases (apps/rules/source_db.py): connections to private, loopback and link-local
# addresses are refused unless allowed here (SSRF into the platform's network). Development and tests allow
# them (the demo sales database is local); production refuses them unless the host is listed.
SOURCE_DB_ALLOW_PRIVATE_NETWORKS = env.bool("SOURCE_DB_ALLOW_PRIVATE_NETWORKS", default=True)
SOURCE_DB_ALLOWED_HOSTS = env.list("SOURCE_DB_ALLOWED_HOSTS", default=[])

# Front-end libraries installed from npm by the setup command (scripts/_env.sh; the Dockerfile's assets
# stage): only their distribution folders are published, under static/vendor/.
FRONTEND_VENDOR_DIRS = {
    "vendor/chart.js": BASE_DIR / "node_modules" / "chart.js" / "dist",
    "vendor/htmx": BASE_DIR / "node_modules" / "htmx.org" / "dist",
}
STATICFILES_DIRS = [BASE_DIR / "static", *((prefix, path) for prefix, path in FRONTEND_VENDOR_DIRS.items()
                                           if path.is_dir())]
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / ".incentiva" / "media"

# ------------------------------------------------------------------------------------------ security
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# django-csp 4 format. No inline or eval'd script anywhere but the admin sites, which add 'unsafe-eval' on
# their own pages (apps/tenants/sites.py); /api/redoc/ adds a blob: worker (apps/core/views.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        # https: because browsers apply form-action to the redirect that follows a POST: signing in with
        # Google/Microsoft and approving a partner's OAuth2 request both end on another origin.
        "form-action": ["'self'", "https:"],
    }
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Incentiva <no-reply@incentiva.local>")

# Back offices (django-unfold): UNFOLD for a tenant's /admin/, UNFOLD_PLATFORM for /platform-admin/.
_UNFOLD_COMMON = {
    "SITE_TITLE": "Incentiva",
    "SITE_SYMBOL": "workspace_premium",
    "SHOW_LANGUAGES": True,  # posts to set_language, present in both urlconfs
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "BORDER_RADIUS": "6px",
    "COLORS": {
        # The product's blue (#1d4ed8 is primary-700): white text on 600+ passes WCAG AA.
        "primary": {
            "50": "oklch(97% .014 254.604)",
            "100": "oklch(93.2% .032 255.585)",
            "200": "oklch(88.2% .059 254.128)",
            "300": "oklch(80.9% .105 251.813)",
            "400": "oklch(70.7% .165 254.624)",
            "500": "oklch(62.3% .214 259.815)",
            "600": "oklch(54.6% .245 262.881)",
            "700": "oklch(48.8% .243 264.376)",
            "800": "oklch(42.4% .199 265.638)",
            "900": "oklch(37.9% .146 265.522)",
            "950": "oklch(28.2% .091 267.935)",
        },
    },
}
UNFOLD = {
    **_UNFOLD_COMMON,
    "SITE_HEADER": "apps.tenants.sites.tenant_site_header",
    "SITE_SUBHEADER": _("Administration"),
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,  # every registered tenant model stays one click away
        "navigation": [
            {
                "title": _("Workspace"),
                "items": [
                    {"title": _("Dashboard"), "icon": "dashboard", "link": reverse_lazy("admin:index")},
                    {
                        "title": _("Users"),
                        "icon": "group",
                        "link": reverse_lazy("admin:accounts_user_changelist"),
                        "permission": lambda request: request.user.has_perm("accounts.view_user"),
                    },
                    {
                        "title": _("Groups and permissions"),
                        "icon": "admin_panel_settings",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                        "permission": lambda request: request.user.has_perm("auth.view_group"),
                    },
                ],
            },
            {
                "title": _("Integrations"),
                "items": [
                    {
                        "title": _("OAuth2 applications"),
                        "icon": "key",
                        "link": reverse_lazy("admin:oauth2_provider_application_changelist"),
                        "permission": lambda request: request.user.has_perm("oauth2_provider.view_application"),
                    },
                    {"title": _("API documentation"), "icon": "api", "link": "/api/docs/"},
                ],
            },
        ],
    },
}
UNFOLD_PLATFORM = {
    **_UNFOLD_COMMON,
    "SITE_HEADER": _("Incentiva platform"),
    "SITE_SUBHEADER": _("Platform administration"),
    "ENVIRONMENT": "apps.tenants.sites.platform_environment",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": _("Tenants"),
                "items": [
                    {
                        "title": _("Tenants"),
                        "icon": "domain",
                        "link": reverse_lazy("platform_admin:tenants_client_changelist"),
                        "permission": lambda request: request.user.has_perm("tenants.view_client"),
                    },
                    {
                        "title": _("Provision a tenant"),
                        "icon": "add_business",
                        "link": reverse_lazy("platform_admin:tenants_client_provision"),
                        "permission": lambda request: request.user.has_perm("tenants.add_client"),
                    },
                ],
            },
            {
                "title": _("Platform"),
                "items": [
                    {
                        "title": _("Platform staff"),
                        "icon": "badge",
                        "link": reverse_lazy("platform_admin:accounts_user_changelist"),
                        "permission": lambda request: request.user.has_perm("accounts.view_user"),
                    },
                    {
                        "title": _("Scheduled jobs"),
                        "icon": "schedule",
                        "link": reverse_lazy("platform_admin:django_celery_beat_periodictask_changelist"),
                        "permission": lambda request: request.user.has_perm("django_celery_beat.view_periodictask"),
                    },
                ],
            },
        ],
    },
}

# ------------------------------------------------------------------------------------------ logging
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "apps.core.logging.RequestContextFilter"},
        "redact_secrets": {"()": "apps.core.logging.SecretRedactionFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(tenant)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tenants": {"level": "WARNING"},
        # The SDK logs whole requests (prompt and campaign text) at DEBUG: never let that through.
        "anthropic": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}

# Serve static files straight from the finders in development and tests (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
