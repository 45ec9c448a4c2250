"""The tenant's developer platform: partner OAuth2 applications and API keys (owner/admin only)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.core.api.idempotency import idempotent
from apps.core.api.permissions import ScopedRolePermission
from apps.developer.api.filters import APIKeyFilter, ApplicationFilter
from apps.developer.api.serializers import (
    APIKeyCreatedOutput,
    APIKeyCreateInput,
    APIKeyOutput,
    ApplicationCreatedOutput,
    ApplicationCreateInput,
    ApplicationOutput,
)
from apps.developer.models import PartnerApplication
from apps.developer.selectors import api_key_get, api_key_list, partner_application_get, partner_application_list
from apps.developer.services import (
    api_key_create,
    api_key_revoke,
    partner_application_create,
    partner_application_delete,
)

TAG = "Developer Platform"
OWNER_ADMIN = frozenset({"owner", "admin"})


class DeveloperViewSet(viewsets.GenericViewSet):
    permission_classes = [ScopedRolePermission]
    required_scopes = {"read": "developer:read", "write": "developer:write"}
    allowed_roles = {"read": OWNER_ADMIN, "write": OWNER_ADMIN}
    ordering_fields = ("created_at",)
    ordering = ("-created_at", "id")


@extend_schema_view(
    list=extend_schema(summary=_("List API keys"), responses=APIKeyOutput(many=True), tags=[TAG]),
)
class APIKeyViewSet(DeveloperViewSet, mixins.ListModelMixin):
    serializer_class = APIKeyOutput
    filterset_class = APIKeyFilter
    ordering_fields = ("created_at", "name", "last_used_at")

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return api_key_list()

    @extend_schema(summary=_("Generate an API key (the key is shown only in this response)"),
                   request=APIKeyCreateInput, responses={201: APIKeyCreatedOutput}, tags=[TAG])
    @idempotent(redact=("key",))
    def create(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        data = APIKeyCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_key_create(created_by=request.user, **data.validated_data)
        output = APIKeyCreatedOutput(issued.api_key).data
        output["key"] = issued.raw_key
        return Response(output, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("Revoke an API key"), request=None, responses={204: OpenApiResponse(description=_(
        "Revoked"))}, tags=[TAG])
    def destroy(self, request, pk=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        api_key = api_key_get(api_key_id=pk)
        if api_key is None:
            raise NotFound()
        api_key_revoke(api_key=api_key)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary=_("List OAuth2 client applications"), responses=ApplicationOutput(many=True),
                       tags=[TAG]),
)
class ApplicationViewSet(DeveloperViewSet, mixins.ListModelMixin):
    serializer_class = ApplicationOutput
    filterset_class = ApplicationFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return partner_application_list()

    def _get(self, pk: object) -> PartnerApplication:
        partner = partner_application_get(partner_application_id=pk)
        if partner is None:
            raise NotFound()
        return partner

    @extend_schema(summary=_("Register an OAuth2 client application (the secret is shown only in this response)"),
                   request=ApplicationCreateInput, responses={201: ApplicationCreatedOutput}, tags=[TAG])
    @idempotent(redact=("client_secret",))
    def create(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        data = ApplicationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        registered = partner_application_create(created_by=request.user, **data.validated_data)
        output = ApplicationCreatedOutput(registered.partner).data
        output["client_secret"] = registered.client_secret
        return Response(output, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_("Get an OAuth2 client application"), responses={200: ApplicationOutput}, tags=[TAG])
    def retrieve(self, request, pk=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        return Response(ApplicationOutput(self._get(pk)).data)

    @extend_schema(summary=_("Delete an OAuth2 client application and revoke its tokens"), request=None,
                   responses={204: OpenApiResponse(description=_("Deleted"))}, tags=[TAG])
    def destroy(self, request, pk=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        partner_application_delete(partner=self._get(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

