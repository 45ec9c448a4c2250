"""Writes of the developer platform: registering partner OAuth applications and issuing API keys.

Secrets are returned once, to be shown once: the database keeps only hashes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import get_application_model

from apps.core.errors import ApplicationError
from apps.developer.models import APIKey, PartnerApplication
from apps.developer.selectors import API_KEY_PREFIX, api_key_hash, scope_catalog

GRANT_TYPES = ("client-credentials", "authorization-code")
CLIENT_TYPES = ("confidential", "public")
# last_used_at is a hint for admins, not an audit log: write it at most this often per key.
API_KEY_TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedAPIKey:
    api_key: APIKey
    raw_key: str


@dataclass(frozen=True)
class RegisteredApplication:
    partner: PartnerApplication
    client_secret: str | None


def _validated_scopes(scopes: list[str]) -> list[str]:
    known = scope_catalog()
    cleaned = sorted({scope.strip() for scope in scopes if scope and scope.strip()})
    if not cleaned:
        raise ApplicationError(_("Choose at least one scope."), code="invalid", fields={"scopes": [_("Required.")]})
    unknown = [scope for scope in cleaned if scope not in known]
    if unknown:
        raise ApplicationError(_("Unknown scope."), code="invalid_scope",
                               fields={"scopes": [_("Unknown scope: %(scope)s") % {"scope": s} for s in unknown]})
    return cleaned


@transaction.atomic
def api_key_create(*, name: str, scopes: list[str], created_by: Any = None,
                   expires_at: datetime | None = None) -> IssuedAPIKey:
    """Issue a key ``ik_<prefix>_<secret>`` with the given scopes. Refuses a blank name, unknown scopes
    and an expiry in the past (400)."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("An API key needs a name."), code="invalid", fields={"name": [_("Required.")]})
    cleaned = _validated_scopes(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(_("The expiry must be in the future."), code="invalid",
                               fields={"expires_at": [_("Must be in the future.")]})
    prefix = secrets.token_hex(4)
    while APIKey.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    raw_key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = APIKey.objects.create(
        name=name[:100], prefix=prefix, key_hash=api_key_hash(raw_key=raw_key), scopes=cleaned,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None, expires_at=expires_at,
    )
    return IssuedAPIKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: APIKey) -> APIKey:
    """Revoke a key: it stops authenticating at once. Revoking a revoked key changes nothing."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
    return api_key


def api_key_touch(*, api_key: APIKey) -> None:
    """Note that the key was just used (at most once a minute, without touching ``updated_at``)."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < API_KEY_TOUCH_INTERVAL:
        return
    APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now


@transaction.atomic
def partner_application_create(
    *,
    name: str,
    scopes: list[str],
    grant_type: str = "client-credentials",
    client_type: str = "confidential",
    redirect_uris: list[str] | None = None,
    created_by: Any = None,
) -> RegisteredApplication:
    """Register an OAuth2 client for a partner. Its tokens can never carry a scope outside ``scopes``.
    Returns the client secret in clear once (None for a public client). Authorization-code clients need
    at least one redirect URI; client-credentials clients must be confidential."""
    name = (name or "").strip()
    fields: dict[str, list[str]] = {}
    if not name:
        fields["name"] = [_("Required.")]
    if grant_type not in GRANT_TYPES:
        fields["grant_type"] = [_("Not a supported grant type.")]
    if client_type not in CLIENT_TYPES:
        fields["client_type"] = [_("Not a supported client type.")]
    uris = [uri.strip() for uri in (redirect_uris or []) if uri and uri.strip()]
    if grant_type == "authorization-code" and not uris:
        fields["redirect_uris"] = [_("An authorization-code application needs a redirect URI.")]
    if grant_type == "client-credentials" and client_type != "confidential":
        fields["client_type"] = [_("Client credentials need a confidential client.")]
    if fields:
        raise ApplicationError(_("The application is not valid."), code="invalid", fields=fields)
    cleaned = _validated_scopes(scopes)

    Application = get_application_model()  # noqa: N806
    raw_secret = generate_client_secret()
    application = Application(
        name=name[:255],
        client_id=generate_client_id(),
        client_secret=raw_secret,
        client_type=client_type,
        authorization_grant_type=grant_type,
        redirect_uris=" ".join(uris),
        user=created_by if getattr(created_by, "is_authenticated", False) else None,
        skip_authorization=False,
    )
    try:
        application.full_clean(exclude=["user", "client_secret"])
    except ValidationError as exc:  # mostly redirect URIs
        messages = getattr(exc, "message_dict", {"non_field_errors": [str(exc)]})
        raise ApplicationError(_("The application is not valid."), code="invalid",
                               fields={("redirect_uris" if key == "redirect_uris" else key): value
                                       for key, value in messages.items()}) from exc
    application.save()  # hashes client_secret
    partner = PartnerApplication.objects.create(
        application=application, scopes=cleaned,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    return RegisteredApplication(partner=partner, client_secret=raw_secret if client_type == "confidential" else None)


@transaction.atomic
def partner_application_delete(*, partner: PartnerApplication) -> None:
    """Delete the application with every token and grant it holds: its credentials stop working at once."""
    application = partner.application
    partner.delete()
    application.delete()
