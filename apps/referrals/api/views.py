"""Referrals API: referral campaigns CRUD (``/referrals``, the seed's paths), referred sign-ups, referral records,
their review and the fraud review queue. Thin: parse, call one service or selector, serialise."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.filters import StableOrderingFilter
from apps.core.api.idempotency import idempotent
from apps.core.api.permissions import ScopedRolePermission
from apps.core.api.serializers import EMPTY_BODY, ErrorResponse
from apps.core.errors import UnprocessableError
from apps.loyalty.selectors import member_get
from apps.referrals import selectors, services
from apps.referrals.api.filters import (
    FraudQueueFilter,
    ReferralCampaignFilter,
    ReferralFilter,
)
from apps.referrals.api.serializers import (
    FingerprintRecordInput,
    FingerprintRecordOutput,
    ReferralCampaignInput,
    ReferralCampaignOutput,
    ReferralCampaignStatsOutput,
    ReferralOutput,
    ReferralReviewInput,
    ReferralSignupInput,
    campaign_input_to_fields,
)

TAG = "Referral Campaigns"
SCOPES = {"read": "referrals:read", "write": "referrals:write"}


def _unprocessable(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponse, description=description)


class _ReferralsView:
    permission_classes = [ScopedRolePermission]
    required_scopes = SCOPES


class ReferralCampaignViewSet(_ReferralsView, viewsets.GenericViewSet):
    """Referral campaigns of the tenant's loyalty programs (the seed's ``/referrals`` resource)."""

    serializer_class = ReferralCampaignOutput
    filterset_class = ReferralCampaignFilter
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["created_at", "updated_at", "name", "status"]
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.referral_campaign_list()

    def get_object(self) -> Any:
        campaign = selectors.referral_campaign_get(campaign_id=self.kwargs["pk"])
        if campaign is None:
            raise NotFound(_("Referral campaign not found."))
        return campaign

    @extend_schema(tags=[TAG], summary=_("List referral campaigns"), responses={200: ReferralCampaignOutput(many=True)})
    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ReferralCampaignOutput(page, many=True).data)

    @extend_schema(tags=[TAG], summary=_("Create referral campaign"), request=ReferralCampaignInput,
                   responses={201: ReferralCampaignOutput})
    def create(self, request: Request) -> Response:
        serializer = ReferralCampaignInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = campaign_input_to_fields(serializer.validated_data)
        campaign = services.referral_campaign_create(**fields)
        return Response(ReferralCampaignOutput(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG], summary=_("Get campaign details"), responses={200: ReferralCampaignOutput})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ReferralCampaignOutput(self.get_object()).data)

    @extend_schema(
        tags=[TAG], summary=_("Update campaign"),
        description=_("Only the fields sent change. A campaign with referrals keeps its program and currency."),
        request=ReferralCampaignInput,
        responses={200: ReferralCampaignOutput,
                   409: OpenApiResponse(ErrorResponse, description=_("The campaign has referrals "
                                                                     "(campaign_has_referrals)."))},
    )
    def update(self, request: Request, pk: str) -> Response:
        campaign = self.get_object()
        serializer = ReferralCampaignInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        campaign = services.referral_campaign_update(campaign=campaign,
                                                     data=campaign_input_to_fields(serializer.validated_data))
        return Response(ReferralCampaignOutput(campaign).data)

    @extend_schema(
        tags=[TAG], summary=_("Delete campaign"),
        description=_("A campaign without referrals or clicks is deleted; one with history is archived (it "
                      "disappears from the API and its links stop working; its referrals stay auditable)."),
        responses={204: None},
    )
    def destroy(self, request: Request, pk: str) -> Response:
        services.referral_campaign_delete(campaign=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=[TAG], summary=_("Campaign statistics: funnel per channel and viral coefficient"),
                   responses={200: ReferralCampaignStatsOutput})
    @action(detail=True, methods=["get"], url_path="stats")
    def stats(self, request: Request, pk: str) -> Response:
        stats = selectors.referral_campaign_stats(campaign=self.get_object())
        return Response(ReferralCampaignStatsOutput(stats).data)


class ReferralSignupViewSet(_ReferralsView, viewsets.GenericViewSet):
    """Referred sign-ups reported by the shop (``POST /referral-signups``)."""

    serializer_class = ReferralSignupInput

    @extend_schema(
        tags=[TAG], summary=_("Record a referred sign-up (scored for fraud)"),
        description=_("Creates a referral for the person who signed up through a referral code. IP, device, "
                      "billing address and card fingerprint are hashed on arrival and never stored raw. The "
                      "campaign's fraud policy decides whether the referral is pending, flagged for review or "
                      "blocked as fraud. The same referrer and person again answer 200 with the first referral."),
        request=ReferralSignupInput,
        responses={
            201: ReferralOutput, 200: ReferralOutput,
            409: OpenApiResponse(ErrorResponse, description=_("Already referred by someone else "
                                                              "(already_referred).")),
            422: _unprocessable(_("Unknown code (referral_code_unknown), no active campaign "
                                  "(referral_campaign_inactive), self_referral, referral_limit_reached.")),
        },
    )
    @idempotent
    def create(self, request: Request) -> Response:
        serializer = ReferralSignupInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        campaign = None
        if data.get("campaign"):
            campaign = selectors.referral_campaign_get(campaign_id=data["campaign"])
            if campaign is None:
                raise UnprocessableError(str(_("Unknown referral campaign.")), code="referral_campaign_unknown",
                                         fields={"campaign": [str(_("Unknown referral campaign."))]})
        referral, created = services.referral_signup(
            code=data["code"], campaign=campaign, referred_email=data.get("email", ""),
            referred_customer_id=data.get("customer_id", ""), channel=data.get("channel") or None,
            email_verified=data["email_verified"], ip=data.get("ip", ""), device_id=data.get("device_id", ""),
            billing_address=data.get("billing_address", ""), card_fingerprint=data.get("card_fingerprint", ""),
        )
        referral = selectors.referral_get(referral_id=referral.pk)
        return Response(ReferralOutput(referral).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class FingerprintViewSet(_ReferralsView, viewsets.GenericViewSet):
    """Fingerprints seen for a member at checkout or sign-in (``POST /referral-fingerprints``)."""

    serializer_class = FingerprintRecordInput

    @extend_schema(
        tags=[TAG], summary=_("Record a member's fingerprints (hashed) for referral fraud checks"),
        description=_("The shop reports the IP, device, billing address and card fingerprint it saw for a "
                      "member, so that later sign-ups referred by this member can be compared with them. Values "
                      "are hashed on arrival; raw values are never stored."),
        request=FingerprintRecordInput,
        responses={201: FingerprintRecordOutput,
                   422: _unprocessable(_("No such member in the program (member_unknown)."))},
    )
    def create(self, request: Request) -> Response:
        serializer = FingerprintRecordInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = member_get(program=data["program"], customer_id=data["customer_id"])
        if member is None:
            raise UnprocessableError(str(_("No member with this customer id in the program.")),
                                     code="member_unknown", fields={"customer_id": [str(_("Unknown member."))]})
        recorded = services.fingerprints_record(
            member=member, ip=data.get("ip", ""), device_id=data.get("device_id", ""),
            billing_address=data.get("billing_address", ""), card_fingerprint=data.get("card_fingerprint", ""),
        )
        return Response(FingerprintRecordOutput({"recorded": recorded}).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary=_("List referrals (filter by status, campaign, referrer)")),
    retrieve=extend_schema(tags=[TAG], summary=_("Get a referral with its conversion, fraud signals and review")),
)
class ReferralRecordViewSet(_ReferralsView, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    """Individual referrals (``/referral-records``), their review and email verification."""

    serializer_class = ReferralOutput
    filterset_class = ReferralFilter
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["created_at", "signed_up_at", "fraud_score", "completed_at", "status"]

    def get_queryset(self) -> Any:
        return selectors.referral_list()

    def get_object(self) -> Any:
        referral = selectors.referral_get(referral_id=self.kwargs["pk"])
        if referral is None:
            raise NotFound(_("Referral not found."))
        return referral

    @extend_schema(
        tags=[TAG], summary=_("Approve or reject a referral (fraud review)"),
        description=_("Approve a flagged referral: it becomes pending (and completes at once if its first "
                      "purchase already qualifies). Reject a flagged, pending or completed referral: it becomes "
                      "fraud, and the points of a completed one are reversed."),
        request=ReferralReviewInput,
        responses={200: ReferralOutput,
                   409: OpenApiResponse(ErrorResponse, description=_("Not in a reviewable state "
                                                                     "(referral_not_reviewable).")),
                   422: _unprocessable(_("The loyalty program cannot move points now (e.g. it is paused)."))},
    )
    @action(detail=True, methods=["post"], url_path="review")
    @idempotent
    def review(self, request: Request, pk: str) -> Response:
        referral = self.get_object()
        serializer = ReferralReviewInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_review(referral=referral, decision=serializer.validated_data["decision"],
                                            reviewer=request.user if request.user.is_authenticated else None,
                                            note=serializer.validated_data.get("note", ""))
        return Response(ReferralOutput(selectors.referral_get(referral_id=referral.pk)).data)

    @extend_schema(
        tags=[TAG], summary=_("Mark the referred person's email as verified"),
        description=_("Completes the referral when its first purchase already qualifies."),
        request=EMPTY_BODY,
        responses={200: ReferralOutput,
                   409: OpenApiResponse(ErrorResponse, description=_("The referral is closed (referral_closed).")),
                   422: _unprocessable(_("The loyalty program cannot move points now (e.g. it is paused)."))},
    )
    @action(detail=True, methods=["post"], url_path="verify-email")
    @idempotent
    def verify_email(self, request: Request, pk: str) -> Response:
        referral = services.referral_email_verify(referral=self.get_object())
        return Response(ReferralOutput(selectors.referral_get(referral_id=referral.pk)).data)


@extend_schema_view(
    list=extend_schema(tags=[TAG], summary=_("Fraud review queue: flagged referrals, most suspicious first")),
)
class FraudReviewQueueViewSet(_ReferralsView, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReferralOutput
    filterset_class = FraudQueueFilter
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> Any:
        return selectors.fraud_review_queue()
