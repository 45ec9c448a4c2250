"""OpenAPI (drf-spectacular): the project's AutoSchema and the security schemes of its authenticators.

``AutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) documents, for every operation, the error shape
(component ``ErrorResponse``) for the 400/401/403/404/409/429 answers the operation can give, and the
``Idempotency-Key`` header of ``@idempotent`` handlers, so views only declare their success bodies.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import permissions

from apps.core.api.idempotency import IDEMPOTENCY_HEADER
from apps.core.api.permissions import ScopedRolePermission, required_scope
from apps.core.api.serializers import ErrorResponse

_WRITE_METHODS = ("POST", "PUT", "PATCH")
_ERROR_DESCRIPTIONS = {
    "400": _("The request is not valid (see error.fields)."),
    "401": _("Not authenticated."),
    "403": _("Authenticated, but the role or the token's scopes do not allow this."),
    "404": _("Not found in this tenant."),
    "409": _("Conflict, e.g. an Idempotency-Key reused for another request or still in progress."),
    "429": _("Rate limited; see the Retry-After header."),
}


class AutoSchema(openapi.AutoSchema):
    def _handler(self) -> Any:
        action = getattr(self.view, "action", None)
        return getattr(self.view, action or self.method.lower(), None)

    def _is_idempotent(self) -> bool:
        return bool(getattr(self._handler(), "idempotent", False))

    def _is_public(self) -> bool:
        perms = [perm.__class__ for perm in self.view.get_permissions()]
        if permissions.AllowAny in perms or not perms:
            return True
        return permissions.IsAuthenticatedOrReadOnly in perms and self.method in permissions.SAFE_METHODS

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if self._is_idempotent():
            parameters.append(OpenApiParameter(
                IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER,
                required=bool(getattr(self.view, "idempotency_required", False)),
                description=_("A unique key (at most 255 characters) that makes retries of this write safe: "
                              "a retry with the same key and body gets the first response back."),
            ))
        return parameters

    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in _WRITE_METHODS:
            codes.append("400")
        if not self._is_public():
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self._is_idempotent():
            codes.append("409")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _get_response_bodies(self, direction: str = "response") -> dict:  # type: ignore[override]
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorResponse, description=str(_ERROR_DESCRIPTIONS[code])), code,
                    direction=direction,
                )
        return responses


# ------------------------------------------------------------------------------------------ security schemes
def _oauth2_scopes() -> dict[str, str]:
    return {name: str(description) for name, description in settings.OAUTH2_PROVIDER.get("SCOPES", {}).items()}


class TenantJWTScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.TenantJWTAuthentication"
    name = "jwtAuth"
    priority = 1

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer",
                                                     bearer_format="JWT")
        scheme["description"] = str(_("Access token from /api/auth/login, valid only on the tenant's host."))
        return scheme


class OAuth2Scheme(OpenApiAuthenticationExtension):
    target_class = "oauth2_provider.contrib.rest_framework.OAuth2Authentication"
    match_subclasses = True
    name = "oauth2"
    priority = 1

    def get_security_requirement(self, auto_schema):  # type: ignore[no-untyped-def]
        view = auto_schema.view
        if not any(isinstance(perm, ScopedRolePermission) for perm in view.get_permissions()):
            return None
        scope = required_scope(view, auto_schema.method)
        return {self.name: [scope]} if scope else None

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        scopes = _oauth2_scopes()
        return {
            "type": "oauth2",
            "description": str(_("Partner applications registered under /api/developer/applications.")),
            "flows": {
                "clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes},
                "authorizationCode": {"authorizationUrl": "/o/authorize/", "tokenUrl": "/o/token/",
                                      "scopes": scopes},
            },
        }
