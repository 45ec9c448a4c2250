"""Campaign API under ``/api/campaigns``: CRUD, submit, approve, execute, the connection to the customer's
database, executions and participants. Thin: validate, call one service or selector, serialise.

Roles: reading is for owners, admins, managers and analysts; changing a campaign, executing, completing and
cancelling it for owners, admins and managers; approving for owners and admins only (a person: approval
records who)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.selectors import user_get_by_email
from apps.campaigns import selectors, services
from apps.campaigns.api import serializers as s
from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import Campaign
from apps.core.api.idempotency import idempotent
from apps.core.api.permissions import ScopedRolePermission
from apps.core.api.serializers import EMPTY_BODY, ErrorResponse

TAG_CAMPAIGNS = "Campaign Management"
TAG_EXECUTION = "Campaign Execution"
SCOPES = {"read": "campaigns:read", "write": "campaigns:write"}
APPROVER_ROLES = frozenset({"owner", "admin"})


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponse, description=description)


NOT_FOUND = _error(_("No such campaign in this workspace."))
CONFLICT = _error(_("Not allowed in the campaign's current status (invalid_transition, campaign_closed...)."))
UNPROCESSABLE = _error(_("The rules are not valid, do not compile, or their SQL failed the read-only guard."))
FORBIDDEN = _error(_("Your role does not allow this."))


class CampaignViewSet(viewsets.GenericViewSet):
    permission_classes = [ScopedRolePermission]
    required_scopes = SCOPES
    serializer_class = s.CampaignOutput
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Campaign]:
        return selectors.campaign_list_with_rules(status=self.request.query_params.get("status"),
                                                  search=self.request.query_params.get("search"))

    def _campaign(self, pk: uuid.UUID) -> Campaign:
        campaign = selectors.campaign_get(campaign_id=pk)
        if campaign is None:
            raise NotFound(_("Campaign not found."))
        return campaign

    def _output(self, campaign: Campaign, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.CampaignOutput(self.get_queryset().get(pk=campaign.pk)).data, status=code)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("List campaigns"), responses={200: s.CampaignOutput(many=True)},
                   parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=Campaign.Status.values),
                               OpenApiParameter("search", OpenApiTypes.STR)])
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.CampaignOutput(page, many=True).data)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Create new campaign"), request=s.CampaignCreateInput,
                   responses={201: s.CampaignOutput, 400: _error(_("Invalid input."))})
    def create(self, request: Request) -> Response:
        serializer = s.CampaignCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "leaderboard_prizes" in data:
            data["leaderboard_prizes"] = [dict(prize) for prize in data["leaderboard_prizes"]]
        campaign = services.campaign_create(created_by=request.user if request.user.is_authenticated else None,
                                            **data)
        return self._output(campaign, status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Get campaign details"),
                   responses={200: s.CampaignOutput, 404: NOT_FOUND})
    def retrieve(self, request: Request, pk: uuid.UUID) -> Response:
        return self._output(self._campaign(pk))

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Update campaign"), request=s.CampaignUpdateInput,
                   responses={200: s.CampaignOutput, 400: _error(_("Invalid input.")), 404: NOT_FOUND,
                              409: CONFLICT})
    def update(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = self._campaign(pk)
        serializer = s.CampaignUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        document = data.pop("document", None)
        source_text = data.pop("source_text", "")
        if "leaderboard_prizes" in data:
            data["leaderboard_prizes"] = [dict(prize) for prize in data["leaderboard_prizes"]]
        services.campaign_update(campaign=campaign, user=request.user if request.user.is_authenticated else None,
                                 document=document, source_text=source_text, **data)
        return self._output(campaign)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Delete campaign"),
                   responses={204: None, 404: NOT_FOUND, 409: CONFLICT})
    def destroy(self, request: Request, pk: uuid.UUID) -> Response:
        services.campaign_delete(campaign=self._campaign(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Submit the draft rules for approval"), request=EMPTY_BODY,
                   responses={200: s.CampaignOutput, 404: NOT_FOUND, 409: CONFLICT, 422: UNPROCESSABLE})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = self._campaign(pk)
        services.campaign_submit(campaign=campaign)
        return self._output(campaign)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Approve campaign for execution"), request=s.CampaignApproveInput,
                   responses={200: s.CampaignOutput, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT,
                              422: UNPROCESSABLE})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: uuid.UUID) -> Response:
        user = request.user
        if not user.is_authenticated or getattr(user, "role", None) not in APPROVER_ROLES:
            raise PermissionDenied(_("Only an owner or an admin can approve a campaign."))
        campaign = self._campaign(pk)
        serializer = s.CampaignApproveInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.campaign_approve(campaign=campaign, user=user, comment=serializer.validated_data["comment"])
        return self._output(campaign)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Complete campaign"), request=s.CampaignCompleteInput,
                   description=_("Runs a final execution (unless final_execution is false), pays the top-N "
                                 "leaderboard prizes on the final ranking, and stops the scheduled runs. 409 "
                                 "final_execution_failed when the final execution fails (the campaign keeps "
                                 "running)."),
                   responses={200: s.CampaignOutput, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = self._campaign(pk)
        serializer = s.CampaignCompleteInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user if request.user.is_authenticated else None
        campaign = services.campaign_complete(campaign=campaign, user=user,
                                              final_execution=serializer.validated_data["final_execution"])
        return self._output(campaign)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Cancel campaign"), request=EMPTY_BODY,
                   responses={200: s.CampaignOutput, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = self._campaign(pk)
        services.campaign_cancel(campaign=campaign)
        return self._output(campaign)

    @extend_schema(tags=[TAG_CAMPAIGNS], summary=_("Connect the customer's sales database"),
                   request=s.CampaignConnectionInput,
                   responses={200: s.CampaignOutput, 400: _error(_("Unreachable or not allowed.")), 404: NOT_FOUND})
    @action(detail=True, methods=["put"])
    def connection(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = self._campaign(pk)
        serializer = s.CampaignConnectionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.campaign_connection_set(campaign=campaign, url=serializer.validated_data["url"])
        return self._output(campaign)

    @extend_schema(tags=[TAG_EXECUTION], summary=_("Execute campaign"), request=EMPTY_BODY,
                   responses={201: s.ExecutionOutput, 404: NOT_FOUND, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    @idempotent
    def execute(self, request: Request, pk: uuid.UUID) -> Response:
        user = request.user if request.user.is_authenticated else None  # a scoped token may carry no user
        execution = campaign_execute(campaign=self._campaign(pk), user=user)
        return Response(s.ExecutionOutput(execution).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_EXECUTION], summary=_("List the campaign's executions"),
                   responses={200: s.ExecutionOutput(many=True), 404: NOT_FOUND})
    @action(detail=True, methods=["get"])
    def executions(self, request: Request, pk: uuid.UUID) -> Response:
        page = self.paginate_queryset(selectors.execution_list(campaign=self._campaign(pk)))
        return self.get_paginated_response(s.ExecutionOutput(page, many=True).data)

    @extend_schema(tags=[TAG_EXECUTION], summary=_("Get participant list"),
                   responses={200: s.ParticipantOutput(many=True), 404: NOT_FOUND},
                   parameters=[OpenApiParameter("eligible", OpenApiTypes.BOOL),
                               OpenApiParameter("region", OpenApiTypes.STR)])
    @action(detail=True, methods=["get"])
    def participants(self, request: Request, pk: uuid.UUID) -> Response:
        eligible = request.query_params.get("eligible")
        queryset = selectors.participant_list(
            campaign=self._campaign(pk), region=request.query_params.get("region"),
            eligible=None if eligible is None else eligible.lower() in ("1", "true", "yes"))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.ParticipantOutput(page, many=True).data)

    @extend_schema(tags=[TAG_EXECUTION], summary=_("Link a user to a salesperson of the campaign"),
                   request=s.ParticipantLinkInput, operation_id="campaigns_participants_link",
                   responses={200: s.ParticipantOutput, 400: _error(_("Invalid input.")), 404: NOT_FOUND,
                              409: CONFLICT})
    @participants.mapping.post
    def participants_link(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = self._campaign(pk)
        serializer = s.ParticipantLinkInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_get_by_email(email=serializer.validated_data["email"])
        if user is None:
            raise ValidationError({"email": [_("No user of this workspace has this email.")]})
        participant = services.campaign_participant_link(
            campaign=campaign, participant_key=serializer.validated_data["participant_id"], user=user,
            name=serializer.validated_data["name"], email=user.email)
        return Response(s.ParticipantOutput(participant).data)

    @extend_schema(tags=[TAG_EXECUTION], summary=_("Import participants from a CSV file or the customer database"),
                   request={"multipart/form-data": s.ParticipantImportInput,
                            "application/json": s.ParticipantImportInput},
                   responses={200: s.ParticipantImportOutput, 400: _error(_("Invalid file; errors per line.")),
                              403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT,
                              422: _error(_("No customer database or no mapped salesperson."))})
    @action(detail=True, methods=["post"], url_path="participants/import",
            parser_classes=[MultiPartParser, FormParser, JSONParser])
    def participants_import(self, request: Request, pk: uuid.UUID) -> Response:
        campaign = self._campaign(pk)
        serializer = s.ParticipantImportInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data.get("file"):
            result = services.participants_import_csv(campaign=campaign, file=serializer.validated_data["file"])
        else:
            result = services.participants_import_source(campaign=campaign)
        return Response(s.ParticipantImportOutput(result).data)

    @extend_schema(tags=[TAG_EXECUTION], summary=_("Get campaign progress"),
                   responses={200: s.CampaignProgressOutput, 404: NOT_FOUND},
                   parameters=[OpenApiParameter("top", OpenApiTypes.INT, description=_("Leaderboard size (1-100)."))])
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, pk: uuid.UUID) -> Response:
        try:
            top = min(max(int(request.query_params.get("top", 10)), 1), 100)
        except ValueError as exc:
            raise ValidationError({"top": [_("A whole number is required.")]}) from exc
        progress = selectors.campaign_progress(campaign=self._campaign(pk), top=top)
        return Response(s.CampaignProgressOutput(progress).data)

    @extend_schema(tags=[TAG_EXECUTION], summary=_("Allocate points to participants"),
                   description=_("A manual allocation outside the rules (with its reason), through the ledger. "
                                 "Send an Idempotency-Key: a replay allocates nothing more."),
                   request=s.PointsAllocateInput,
                   responses={201: s.CampaignLedgerEntryOutput, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT,
                              422: UNPROCESSABLE})
    @action(detail=True, methods=["post"], url_path="allocate-points")
    @idempotent
    def allocate_points(self, request: Request, pk: uuid.UUID) -> Response:
        user = request.user
        if not user.is_authenticated or getattr(user, "role", None) not in APPROVER_ROLES:
            raise PermissionDenied(_("Only an owner or an admin can allocate points by hand."))
        campaign = self._campaign(pk)
        serializer = s.PointsAllocateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = (request.headers.get("Idempotency-Key") or "").strip() or str(uuid.uuid4())
        entry = services.campaign_points_allocate(
            campaign=campaign, participant_key=serializer.validated_data["participant_id"],
            points=serializer.validated_data["points"], reason=serializer.validated_data["reason"],
            idempotency_key=f"{user.pk}:{key}", actor=user)
        return Response(s.CampaignLedgerEntryOutput(entry).data, status=status.HTTP_201_CREATED)
