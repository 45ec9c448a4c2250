"""The participant's own view of their campaigns under ``/api/participants``: campaigns, progress, points,
transactions, offers and redeem. Every call is about the signed-in user's own participation: another
participant's campaign (or one they do not take part in) is a 404."""

from __future__ import annotations

import dataclasses
import uuid

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from apps.campaigns import selectors, services
from apps.campaigns.api import serializers as s
from apps.campaigns.models import CampaignParticipant
from apps.campaigns.selectors_dashboard import participant_balance, participant_offers
from apps.core.api.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.api.permissions import ScopedRolePermission
from apps.core.api.serializers import ErrorResponse
from apps.loyalty.selectors import ledger_history

TAG = "Participant Dashboard"
EVERY_ROLE = frozenset({"owner", "admin", "manager", "analyst", "participant"})
NOT_FOUND = OpenApiResponse(ErrorResponse, description=_("You do not take part in this campaign."))


class _ParticipantView(GenericAPIView):
    permission_classes = [ScopedRolePermission]
    required_scopes = {"read": "campaigns:read", "write": "campaigns:write"}
    allowed_roles = {"read": EVERY_ROLE, "write": EVERY_ROLE}
    queryset = CampaignParticipant.objects.none()  # for the schema generator; every view reads its own way

    def _mine(self, campaign_id: uuid.UUID) -> CampaignParticipant:
        campaign = selectors.campaign_get(campaign_id=campaign_id)
        participant = selectors.participant_for_user(campaign=campaign, user=self.request.user) \
            if campaign is not None and self.request.user.is_authenticated else None
        if participant is None:
            raise NotFound(_("You do not take part in this campaign."))
        return participant


class MyCampaignsView(_ParticipantView):
    @extend_schema(tags=[TAG], summary=_("Get user's campaigns"), responses={200: s.MyCampaignOutput(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.participant_campaigns(user=request.user))
        return self.get_paginated_response(s.MyCampaignOutput(page, many=True).data)


class MyProgressView(_ParticipantView):
    @extend_schema(tags=[TAG], summary=_("Get personal progress"), responses={200: s.MyProgressOutput, 404: NOT_FOUND})
    def get(self, request: Request, campaign_id: uuid.UUID) -> Response:
        participant = self._mine(campaign_id)
        history = selectors.participant_history(participant=participant)
        return Response(s.MyProgressOutput({"participant": participant, "history": history}).data)


class MyPointsView(_ParticipantView):
    @extend_schema(tags=[TAG], summary=_("Get point balance"), responses={200: s.MyPointsOutput, 404: NOT_FOUND})
    def get(self, request: Request, campaign_id: uuid.UUID) -> Response:
        balance = participant_balance(participant=self._mine(campaign_id))
        return Response(s.MyPointsOutput(dataclasses.asdict(balance)).data)


class MyTransactionsView(_ParticipantView):
    @extend_schema(tags=[TAG], summary=_("Get transaction history"),
                   responses={200: s.CampaignLedgerEntryOutput(many=True), 404: NOT_FOUND})
    def get(self, request: Request, campaign_id: uuid.UUID) -> Response:
        member = selectors.participant_member(participant=self._mine(campaign_id))
        entries = ledger_history(member=member) if member is not None else []
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(s.CampaignLedgerEntryOutput(page, many=True).data)


class MyOffersView(_ParticipantView):
    @extend_schema(tags=[TAG], summary=_("Get available redemption offers"),
                   responses={200: s.OfferOutput(many=True), 404: NOT_FOUND})
    def get(self, request: Request, campaign_id: uuid.UUID) -> Response:
        participant = self._mine(campaign_id)
        offers = participant_offers(participant=participant,
                                    available=participant_balance(participant=participant).available)
        return Response(s.OfferOutput([dataclasses.asdict(offer) for offer in offers], many=True).data)


class MyRedeemView(_ParticipantView):
    idempotency_required = True

    @extend_schema(tags=[TAG], summary=_("Redeem points for offer"), request=s.RedeemInput,
                   description=_("Needs an Idempotency-Key header: a replay returns the first redemption."),
                   responses={201: s.CampaignRedemptionOutput, 400: OpenApiResponse(ErrorResponse), 404: NOT_FOUND,
                              409: OpenApiResponse(ErrorResponse),
                              422: OpenApiResponse(ErrorResponse, description=_("Not enough points."))})
    @idempotent
    def post(self, request: Request, campaign_id: uuid.UUID) -> Response:
        participant = self._mine(campaign_id)
        serializer = s.RedeemInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        redemption = services.participant_redeem(participant=participant,
                                                 prize_id=serializer.validated_data["prize_id"],
                                                 idempotency_key=key)
        return Response(s.CampaignRedemptionOutput(redemption).data, status=status.HTTP_201_CREATED)
