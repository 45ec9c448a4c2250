"""OpenAPI security scheme of API keys (registered with drf-spectacular by DeveloperConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.developer.authentication.APIKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": str(_("An API key from /api/developer/api-keys, sent as X-API-Key: <key> or "
                                 "Authorization: Api-Key <key>. Its scopes work like OAuth2 scopes.")),
        }
