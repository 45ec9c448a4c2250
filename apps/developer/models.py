"""A tenant's partner credentials: OAuth2 client applications (with the scopes they were granted) and API keys.

Secrets are never stored: API keys as a SHA-256 hash, OAuth client secrets hashed by django-oauth-toolkit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from apps.core.models import BaseModel


class PartnerApplication(BaseModel):
    """The tenant's view of an OAuth2 application: which scopes its tokens may ever carry."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="partner",
        verbose_name=_("OAuth application"),
    )
    scopes = ArrayField(models.CharField(max_length=64), verbose_name=_("allowed scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("partner application")
        verbose_name_plural = _("partner applications")

    def __str__(self) -> str:
        return str(self.application)


class APIKey(BaseModel):
    """A long-lived partner credential with scopes. The key is shown once; only its SHA-256 is kept.

    It is what ``request.auth`` holds for a request made with it, so it answers the same questions an
    OAuth2 access token does (``scope``, ``allow_scopes``).
    """

    name = models.CharField(_("name"), max_length=100)
    # Public part of the key, to find its row (the secret part is compared by hash).
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key SHA-256"), max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=64), verbose_name=_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def scope(self) -> str:
        """Space-separated, like an OAuth2 access token's ``scope``."""
        return " ".join(self.scopes)

    @property
    def client_ident(self) -> str:
        """Stable identity of this client for throttling and idempotency."""
        return f"apikey:{self.prefix}"

    def allow_scopes(self, scopes: Iterable[str]) -> bool:
        return set(scopes or ()).issubset(self.scopes)

    def is_valid(self, scopes: Iterable[str] | None = None) -> bool:
        return self.is_active and self.allow_scopes(scopes or ())
