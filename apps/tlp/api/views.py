"""TLP integration endpoints (owner/admin; partner clients need campaigns:read / campaigns:write)."""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.permissions import ScopedRolePermission
from apps.tlp.api.serializers import (
    TLPConfigurationOutput,
    TLPConfigureInput,
    TLPGraphicsGenerateInput,
    TLPGraphicsOutput,
    TLPHealthOutput,
)
from apps.tlp.selectors import tlp_reconciliation_latest
from apps.tlp.services import tlp_configure, tlp_health_check, tlp_offer_graphics_generate

TAG = "TLP Integration"
OWNER_ADMIN = frozenset({"owner", "admin"})
ERRORS = {
    400: OpenApiResponse(description=_lazy("Invalid input, or TLP refused the key / could not be reached")),
    401: OpenApiResponse(description=_lazy("Not authenticated")),
    403: OpenApiResponse(description=_lazy("Not an owner or admin, or the token lacks the scope")),
}


class TLPViewSet(viewsets.GenericViewSet):
    permission_classes = [ScopedRolePermission]
    required_scopes = {"read": "campaigns:read", "write": "campaigns:write"}
    allowed_roles = {"read": OWNER_ADMIN, "write": OWNER_ADMIN}
    pagination_class = None
    filter_backends: list = []

    @extend_schema(summary=_lazy("Configure TLP API credentials (checked live before they are saved)"),
                   request=TLPConfigureInput, responses={200: TLPConfigurationOutput, **ERRORS}, tags=[TAG])
    @action(detail=False, methods=["post"], url_path="configure")
    def configure(self, request: Request) -> Response:
        data = TLPConfigureInput(data=request.data)
        data.is_valid(raise_exception=True)
        configuration = tlp_configure(**data.validated_data)
        return Response(TLPConfigurationOutput(configuration).data)

    @extend_schema(summary=_lazy("Check TLP API connectivity and the outbox backlog"), request=None,
                   responses={200: TLPHealthOutput, 401: ERRORS[401], 403: ERRORS[403]}, tags=[TAG])
    @action(detail=False, methods=["get"], url_path="health")
    def health(self, request: Request) -> Response:
        health = tlp_health_check()
        outbox = health.outbox
        reconciliation = tlp_reconciliation_latest()
        payload = {
            "configured": health.configured, "active": health.active, "endpoint_url": health.endpoint_url,
            "reachable": health.reachable, "latency_ms": health.latency_ms, "error": health.error,
            "last_success_at": health.last_success_at, "last_error": health.last_error,
            "last_error_at": health.last_error_at, "checked_at": health.checked_at,
            "outbox": {"depth": outbox.depth, "pending": outbox.pending, "in_flight": outbox.in_flight,
                       "delivered": outbox.delivered, "dead_letters": outbox.dead,
                       "oldest_pending_age_seconds": outbox.oldest_pending_age_seconds(health.checked_at)},
            "last_reconciliation": reconciliation,
        }
        return Response(TLPHealthOutput(payload).data)

    @extend_schema(summary=_lazy("Generate offer graphics (a branded PNG per redemption offer)"),
                   request=TLPGraphicsGenerateInput,
                   responses={200: TLPGraphicsOutput, **ERRORS,
                              404: OpenApiResponse(description=_lazy("No prizes given and none provisioned"))},
                   tags=[TAG])
    @action(detail=False, methods=["post"], url_path="generate-graphics")
    def generate_graphics(self, request: Request) -> Response:
        data = TLPGraphicsGenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        logo = None
        if values.get("logo_base64"):
            try:
                logo = base64.b64decode(values.pop("logo_base64"), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise exceptions.ValidationError({"logo_base64": [_("Not valid base64.")]}) from exc
        values.pop("logo_base64", None)
        graphics = tlp_offer_graphics_generate(
            campaign_key=values["campaign_key"], prizes=values.get("prizes"),
            base_url=request.build_absolute_uri("/").rstrip("/"), primary_color=values.get("primary_color"),
            accent_color=values.get("accent_color"), logo=logo, points_label=values.get("points_label"))
        return Response(TLPGraphicsOutput({"graphics": graphics}).data)
