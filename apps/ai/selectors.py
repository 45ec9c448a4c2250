"""Reads of the tenant's AI settings: which key and model the gateway uses."""

from __future__ import annotations

from django.conf import settings

from apps.ai.models import AICall, AISettings
from apps.core.crypto import DecryptionError, secret_decrypt


def ai_settings_get() -> AISettings | None:
    return AISettings.objects.first()


def ai_api_key() -> str:
    """The tenant's own key when it stored one (decrypted here, never logged), else the platform's; "" = none.

    A stored key that no longer decrypts (the encryption key was rotated away) counts as no key.
    """
    tenant_settings = ai_settings_get()
    if tenant_settings is not None and tenant_settings.api_key_encrypted:
        try:
            return secret_decrypt(tenant_settings.api_key_encrypted)
        except DecryptionError:
            return ""
    return settings.ANTHROPIC_API_KEY or ""


def ai_model() -> str:
    tenant_settings = ai_settings_get()
    return (tenant_settings.model if tenant_settings is not None and tenant_settings.model
            else settings.ANTHROPIC_MODEL)


def ai_call_list(*, purpose: str | None = None):  # type: ignore[no-untyped-def]
    calls = AICall.objects.all()
    return calls.filter(purpose=purpose) if purpose else calls
