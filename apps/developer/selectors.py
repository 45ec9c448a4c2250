"""Reads of the developer platform: partner applications, API keys, the scopes a client may hold."""

from __future__ import annotations

import hashlib
import hmac
import uuid

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from oauth2_provider.models import AbstractApplication

from apps.developer.models import APIKey, PartnerApplication

API_KEY_PREFIX = "ik"


def scope_catalog() -> dict[str, str]:
    """Every scope a token or API key can carry, with its description."""
    return dict(settings.OAUTH2_PROVIDER.get("SCOPES", {}))


def api_key_hash(*, raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def api_key_list(*, active: bool | None = None) -> QuerySet[APIKey]:
    qs = APIKey.objects.select_related("created_by").order_by("-created_at", "id")
    if active is True:
        qs = qs.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
    elif active is False:
        qs = qs.filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=timezone.now()))
    return qs


def api_key_get(*, api_key_id: object) -> APIKey | None:
    """The key with this id in the current tenant, or None (also for ids that are not UUIDs)."""
    pk = _as_uuid(api_key_id)
    return APIKey.objects.filter(pk=pk).first() if pk else None


def api_key_get_by_raw_key(*, raw_key: str) -> APIKey | None:
    """The active key matching a presented ``ik_<prefix>_<secret>``; None for anything else."""
    parts = (raw_key or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    api_key = APIKey.objects.filter(prefix=parts[1]).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, api_key_hash(raw_key=raw_key.strip())):
        return None
    return api_key if api_key.is_active else None


def partner_application_list(*, grant_type: str | None = None) -> QuerySet[PartnerApplication]:
    qs = PartnerApplication.objects.select_related("application", "created_by").order_by("-created_at", "id")
    return qs.filter(application__authorization_grant_type=grant_type) if grant_type else qs


def partner_application_get(*, partner_application_id: object) -> PartnerApplication | None:
    pk = _as_uuid(partner_application_id)
    return partner_application_list().filter(pk=pk).first() if pk else None


def application_allowed_scopes(*, application: AbstractApplication | None) -> set[str]:
    """Scopes an OAuth application's tokens may carry: those granted when it was registered here, or
    only the default scopes for an application registered some other way (e.g. the admin)."""
    if application is None:
        return set()
    partner = PartnerApplication.objects.filter(application_id=application.pk).first()
    if partner is None:
        return set(settings.OAUTH2_PROVIDER.get("DEFAULT_SCOPES", [])) & set(scope_catalog())
    return set(partner.scopes) & set(scope_catalog())
