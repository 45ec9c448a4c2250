"""django-oauth-toolkit validator: a token never gets a scope its application was not granted here."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from apps.developer.selectors import application_allowed_scopes


class TenantOAuth2Validator(OAuth2Validator):
    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        return set(scopes).issubset(application_allowed_scopes(application=client))

    def get_default_scopes(self, client_id, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        # No scope asked for: the token gets what the application was granted.
        return sorted(application_allowed_scopes(application=request.client))
