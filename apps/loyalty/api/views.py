"""Loyalty API under ``/api/loyalty-referral/``: the seed's programs and points endpoints, plus members, earn
rules, tiers, rewards, redemptions and orders. Thin: validate, call one service or selector, serialise."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.filters import StableOrderingFilter
from apps.core.api.idempotency import IDEMPOTENCY_HEADER, idempotency_caller, idempotent
from apps.core.api.permissions import ScopedRolePermission
from apps.core.api.serializers import EMPTY_BODY, ErrorResponse
from apps.core.compiled_query import CompiledQuery
from apps.core.errors import ApplicationError
from apps.loyalty import selectors, services
from apps.loyalty.api import serializers as s
from apps.loyalty.api.filters import (
    EarnRuleFilter,
    LedgerEntryFilter,
    MemberFilter,
    OrderFilter,
    ProgramFilter,
    RedemptionFilter,
    RewardFilter,
    TierFilter,
)
from apps.loyalty.models import LedgerEntry, Member, Program, Reward
from apps.loyalty.services.ledger import MemberRef

TAG_PROGRAMS = "Loyalty Programs Management"
TAG_POINTS = "Points Management"
TAG_MEMBERS = "Loyalty Members"
TAG_RULES = "Loyalty Earn Rules"
TAG_TIERS = "Loyalty Tiers"
TAG_REWARDS = "Loyalty Rewards"
TAG_REDEMPTIONS = "Loyalty Redemptions"
TAG_ORDERS = "Loyalty Orders"
SCOPES = {"read": "loyalty:read", "write": "loyalty:write"}

PROGRAM_PARAM = OpenApiParameter("program", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=False,
                                 description=_("The program; required when the tenant has more than one."))


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponse, description=description)


UNPROCESSABLE = _error(_("Well-formed but not allowed: not enough points (insufficient_points), program not "
                         "active, below the program minimum, reward not available..."))
CONFLICT = _error(_("Conflict: out of stock, idempotency key reused, already refunded..."))


def service_key(request: Request, scope: str) -> str:
    """The ledger's idempotency key for this request: the Idempotency-Key header scoped to the caller (so a
    replay never credits twice even after the HTTP replay record expired), or a fresh one."""
    header = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not header:
        return f"api:{scope}:{uuid.uuid4()}"
    digest = hashlib.sha256(f"{idempotency_caller(request)}\n{header}".encode()).hexdigest()[:40]
    return f"api:{scope}:{digest}"


def _program_or_only(program: Program | None) -> Program:
    return program if program is not None else selectors.program_resolve(program_id=None)


class _LoyaltyView:
    permission_classes = [ScopedRolePermission]
    required_scopes = SCOPES
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    lookup_value_converter = "uuid"

    def _get(self, queryset: QuerySet, message: str, pk: Any = None) -> Any:
        obj = queryset.filter(pk=pk or self.kwargs["pk"]).first()  # type: ignore[attr-defined]
        if obj is None:
            raise NotFound(message)
        return obj

    def _page(self, queryset: QuerySet, serializer: type) -> Response:
        queryset = self.filter_queryset(queryset)  # type: ignore[attr-defined]
        page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]
        return self.get_paginated_response(serializer(page, many=True).data)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------- programs

class ProgramViewSet(_LoyaltyView, viewsets.GenericViewSet):
    serializer_class = s.ProgramOutput
    filterset_class = ProgramFilter
    ordering_fields = ["created_at", "name", "status"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return selectors.program_list()

    @extend_schema(tags=[TAG_PROGRAMS], summary=_("List all programs"), responses={200: s.ProgramOutput(many=True)})
    def list(self, request: Request) -> Response:
        return self._page(self.get_queryset(), s.ProgramOutput)

    @extend_schema(tags=[TAG_PROGRAMS], summary=_("Create loyalty program"), request=s.ProgramInput,
                   responses={201: s.ProgramOutput})
    def create(self, request: Request) -> Response:
        serializer = s.ProgramInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        program = services.program_create(**serializer.validated_data)
        return Response(s.ProgramOutput(program).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_PROGRAMS], summary=_("Get program details"), responses={200: s.ProgramOutput})
    def retrieve(self, request: Request, pk: uuid.UUID) -> Response:
        return Response(s.ProgramOutput(self._get(self.get_queryset(), _("Program not found."))).data)

    @extend_schema(tags=[TAG_PROGRAMS], summary=_("Update program"),
                   description=_("Only the fields sent change. The currency is fixed once orders exist (409)."),
                   request=s.ProgramInput, responses={200: s.ProgramOutput, 409: CONFLICT})
    def update(self, request: Request, pk: uuid.UUID) -> Response:
        program = self._get(Program.objects.all(), _("Program not found."))
        serializer = s.ProgramInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        program = services.program_update(program=program, **serializer.validated_data)
        return Response(s.ProgramOutput(program).data)

    @extend_schema(tags=[TAG_PROGRAMS], summary=_("Delete program"),
                   description=_("Only a program without members can be deleted (409 program_has_members): "
                                 "their ledger is kept. Pause the program instead."),
                   responses={204: None, 409: CONFLICT})
    def destroy(self, request: Request, pk: uuid.UUID) -> Response:
        services.program_delete(program=self._get(Program.objects.all(), _("Program not found.")))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------------------------- points

class PointsViewSet(_LoyaltyView, viewsets.GenericViewSet):
    """The seed's points endpoints. A customer id is resolved within ``program`` (or the only program)."""

    serializer_class = s.LedgerEntryOutput
    filterset_class = LedgerEntryFilter
    ordering_fields = ["created_at", "amount"]
    ordering = ["-created_at"]

    def get_queryset(self) -> QuerySet:  # for the schema generator; history builds its own
        return LedgerEntry.objects.none()

    @staticmethod
    def _member(data: dict[str, Any], field: str = "customer_id") -> Member:
        return selectors.member_resolve(customer_id=data[field], program_id=data.get("program"))

    @staticmethod
    def _member_ref(data: dict[str, Any]) -> MemberRef:
        """The member for a single-member write: the service finds and locks it in one statement (404 there
        when the customer is not enrolled)."""
        program = selectors.program_resolve_cached(program_id=data.get("program"))
        return MemberRef(program_id=program.pk, customer_id=data["customer_id"])

    @extend_schema(tags=[TAG_POINTS], summary=_("Award points to customer"), request=s.PointsAwardInput,
                   responses={201: s.LedgerEntryOutput, 422: UNPROCESSABLE})
    @idempotent
    def award(self, request: Request) -> Response:
        serializer = s.PointsAwardInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.points_award(
            member=self._member_ref(data), points=data["points"], source=data["source"], reason=data["reason"],
            actor=request.user if request.user.is_authenticated else None, order_id=data.get("order_id") or None,
            pending_days=data.get("pending_days"), idempotency_key=service_key(request, "award"),
        )
        return Response(s.LedgerEntryOutput(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_POINTS], summary=_("Award points to many customers at once"),
                   description=_("All or nothing: every customer must be enrolled (else 404 and nothing is "
                                 "credited). Each award's ``key`` makes it idempotent on its own."),
                   request=s.PointsAwardBulkInput, responses={201: s.PointsAwardBulkOutput, 422: UNPROCESSABLE})
    @idempotent
    def award_bulk(self, request: Request) -> Response:
        serializer = s.PointsAwardBulkInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        program = selectors.program_resolve(program_id=data.get("program"))
        members = selectors.members_by_customer(program=program,
                                                customer_ids=[item["customer_id"] for item in data["awards"]])
        base = service_key(request, "award-bulk")
        actor = request.user if request.user.is_authenticated else None
        entries = services.points_award_bulk(actor=actor, awards=[
            services.AwardInput(
                member=members[item["customer_id"]], points=item["points"], source=item["source"],
                reason=item["reason"],
                idempotency_key=f"api:bulk:{program.pk}:{item['key']}" if item.get("key") else f"{base}:{index}",
            )
            for index, item in enumerate(data["awards"])
        ])
        return Response({"count": len(entries), "entries": s.LedgerEntryOutput(entries, many=True).data},
                        status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_POINTS], summary=_("Deduct points"),
                   description=_("A manual negative adjustment; never more than the available balance (422)."),
                   request=s.PointsDeductInput, responses={201: s.LedgerEntryOutput, 422: UNPROCESSABLE})
    @idempotent
    def deduct(self, request: Request) -> Response:
        serializer = s.PointsDeductInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.points_deduct(member=self._member_ref(data), points=data["points"], reason=data["reason"],
                                       actor=request.user if request.user.is_authenticated else None,
                                       idempotency_key=service_key(request, "deduct"))
        return Response(s.LedgerEntryOutput(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_POINTS], summary=_("Redeem points for rewards"),
                   description=_("Reserves and completes in one step; the answer carries the reward code."),
                   request=s.PointsRedeemInput,
                   responses={201: s.RedemptionOutput, 409: CONFLICT, 422: UNPROCESSABLE})
    @idempotent
    def redeem(self, request: Request) -> Response:
        serializer = s.PointsRedeemInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        redemption = services.points_redeem(member=self._member_ref(data), reward=_reward(data.get("reward")),
                                            points=data.get("points"), idempotency_key=service_key(request, "redeem"),
                                            actor=request.user if request.user.is_authenticated else None)
        return Response(s.RedemptionOutput(redemption).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_POINTS], summary=_("Transfer points between two members"),
                   request=s.PointsTransferInput, responses={201: s.LedgerEntryOutput, 422: UNPROCESSABLE})
    @idempotent
    def transfer(self, request: Request) -> Response:
        serializer = s.PointsTransferInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.points_transfer(
            sender=self._member(data, "from_customer_id"), recipient=self._member(data, "to_customer_id"),
            points=data["points"], reason=data["reason"], idempotency_key=service_key(request, "transfer"),
            actor=request.user if request.user.is_authenticated else None,
        )
        return Response(s.LedgerEntryOutput(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_POINTS], summary=_("Get customer points balance"), parameters=[PROGRAM_PARAM],
                   responses={200: s.PointsBalanceOutput})
    def balance(self, request: Request, customer_id: str) -> Response:
        member = selectors.member_resolve(customer_id=customer_id, program_id=_program_param(request))
        return Response(s.PointsBalanceOutput(selectors.member_balance(member=member)).data)

    @extend_schema(tags=[TAG_POINTS], summary=_("Points transaction history"), parameters=[PROGRAM_PARAM],
                   responses={200: s.LedgerEntryOutput(many=True)})
    def history(self, request: Request, customer_id: str) -> Response:
        member = selectors.member_resolve(customer_id=customer_id, program_id=_program_param(request))
        return self._page(selectors.ledger_history(member=member), s.LedgerEntryOutput)


def _program_param(request: Request) -> str | None:
    value = request.query_params.get("program") or None
    if value:
        try:
            uuid.UUID(value)
        except ValueError as exc:
            raise ApplicationError(_("The program must be a UUID."), code="invalid",
                                   fields={"program": [_("Not a valid UUID.")]}) from exc
    return value


# Every redemption looks its reward up: compiled once (apps/core/compiled_query.py).
_reward_by_id = CompiledQuery(lambda reward_id: Reward.objects.filter(pk=reward_id).order_by()[:1])


def _reward(reward_id: uuid.UUID | None) -> Reward | None:
    if reward_id is None:
        return None
    reward = _reward_by_id.first(reward_id=uuid.UUID(str(reward_id)))
    if reward is None:
        raise NotFound(_("Reward not found."))
    return reward


# ---------------------------------------------------------------------------------------------- members

class MemberViewSet(_LoyaltyView, viewsets.GenericViewSet):
    serializer_class = s.MemberOutput
    filterset_class = MemberFilter
    ordering_fields = ["enrolled_at", "available", "lifetime", "last_activity_at", "customer_id"]
    ordering = ["-enrolled_at"]
    http_method_names = ["get", "post", "put", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return selectors.member_list()

    @extend_schema(tags=[TAG_MEMBERS], summary=_("List members"), responses={200: s.MemberOutput(many=True)})
    def list(self, request: Request) -> Response:
        return self._page(self.get_queryset(), s.MemberOutput)

    @extend_schema(tags=[TAG_MEMBERS], summary=_("Enrol a customer"),
                   description=_("Idempotent on program + customer id: 201 when enrolled now, 200 when the "
                                 "customer already was (unchanged)."),
                   request=s.MemberEnrollInput, responses={201: s.MemberOutput, 200: s.MemberOutput,
                                                           422: UNPROCESSABLE})
    def create(self, request: Request) -> Response:
        serializer = s.MemberEnrollInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        program = selectors.program_resolve(program_id=data.get("program"))
        existed = selectors.member_get(program=program, customer_id=data["customer_id"].strip()) is not None
        member = services.member_enroll(program=program, customer_id=data["customer_id"], email=data["email"],
                                        name=data["name"], consents=data.get("consents"),
                                        referred_by_code=data.get("referred_by_code") or None,
                                        birth_date=data.get("birth_date"))
        return Response(s.MemberOutput(member).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_MEMBERS], summary=_("Get member"), responses={200: s.MemberOutput})
    def retrieve(self, request: Request, pk: uuid.UUID) -> Response:
        return Response(s.MemberOutput(self._get(self.get_queryset(), _("Member not found."))).data)

    @extend_schema(tags=[TAG_MEMBERS], summary=_("Update member profile and consents"),
                   description=_("Only the fields sent change; balances and tier follow the ledger."),
                   request=s.MemberUpdateInput, responses={200: s.MemberOutput})
    def update(self, request: Request, pk: uuid.UUID) -> Response:
        member = self._get(self.get_queryset(), _("Member not found."))
        serializer = s.MemberUpdateInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        member = services.member_update(member=member, **serializer.validated_data)
        return Response(s.MemberOutput(member).data)

    @extend_schema(tags=[TAG_MEMBERS], summary=_("Record a member event (review, birthday, custom...)"),
                   description=_("Runs the program's fixed-points rules for the event once per key."),
                   request=s.MemberEventInput, responses={201: s.LedgerEntryOutput(many=True), 422: UNPROCESSABLE})
    @action(detail=True, methods=["post"], url_path="events")
    @idempotent
    def events(self, request: Request, pk: uuid.UUID) -> Response:
        member = self._get(self.get_queryset(), _("Member not found."))
        serializer = s.MemberEventInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entries = services.event_record(member=member, event=data["event"], custom_event=data["custom_event"],
                                        idempotency_key=data["key"], occurred_at=data.get("occurred_at"),
                                        actor=request.user if request.user.is_authenticated else None)
        return Response(s.LedgerEntryOutput(entries, many=True).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------- configuration

class _ConfigViewSet(_LoyaltyView, viewsets.GenericViewSet):
    """CRUD over one configuration resource through its create/update/delete services."""

    tag: str
    output: type
    input: type
    not_found: str
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def _create(self, program: Program, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _update(self, obj: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _delete(self, obj: Any) -> None:
        raise NotImplementedError

    def list(self, request: Request) -> Response:
        return self._page(self.get_queryset(), self.output)

    def create(self, request: Request) -> Response:
        serializer = self.input(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        obj = self._create(_program_or_only(data.pop("program", None)), data)
        return Response(self.output(self._get(self.get_queryset(), self.not_found, pk=obj.pk)).data,
                        status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: uuid.UUID) -> Response:
        return Response(self.output(self._get(self.get_queryset(), self.not_found)).data)

    def update(self, request: Request, pk: uuid.UUID) -> Response:
        obj = self._get(self.get_queryset(), self.not_found)
        serializer = self.input(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "program" in data and data.pop("program") != obj.program:
            raise ApplicationError(_("The program cannot change."), code="invalid",
                                   fields={"program": [_("Cannot change.")]})
        self._update(obj, data)
        return Response(self.output(self._get(self.get_queryset(), self.not_found)).data)

    def destroy(self, request: Request, pk: uuid.UUID) -> Response:
        self._delete(self._get(self.get_queryset(), self.not_found))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _crud_schema(tag: str, noun: str, output: type, input_: type) -> Any:
    """OpenAPI for the five CRUD handlers of a configuration viewset."""
    return extend_schema_view(
        list=extend_schema(tags=[tag], summary=_("List %(noun)s") % {"noun": noun},
                           responses={200: output(many=True)}),
        create=extend_schema(tags=[tag], summary=_("Create %(noun)s") % {"noun": noun}, request=input_,
                             responses={201: output}),
        retrieve=extend_schema(tags=[tag], summary=_("Get %(noun)s") % {"noun": noun}, responses={200: output}),
        update=extend_schema(tags=[tag], summary=_("Update %(noun)s") % {"noun": noun}, request=input_,
                             description=_("Only the fields sent change."), responses={200: output}),
        destroy=extend_schema(tags=[tag], summary=_("Delete %(noun)s") % {"noun": noun},
                              responses={204: None, 409: CONFLICT}),
    )


@_crud_schema(TAG_TIERS, "tiers", s.TierOutput, s.TierInput)
class TierViewSet(_ConfigViewSet):
    serializer_class = output = s.TierOutput
    input = s.TierInput
    filterset_class = TierFilter
    ordering_fields = ["rank", "threshold", "created_at"]
    not_found = _("Tier not found.")

    def get_queryset(self) -> QuerySet:
        return selectors.tier_list()

    def _create(self, program: Program, data: dict[str, Any]) -> Any:
        return services.tier_create(program=program, **data)

    def _update(self, obj: Any, data: dict[str, Any]) -> Any:
        return services.tier_update(tier=obj, **data)

    def _delete(self, obj: Any) -> None:
        services.tier_delete(tier=obj)


@_crud_schema(TAG_RULES, "earn rules", s.EarnRuleOutput, s.EarnRuleInput)
class EarnRuleViewSet(_ConfigViewSet):
    serializer_class = output = s.EarnRuleOutput
    input = s.EarnRuleInput
    filterset_class = EarnRuleFilter
    ordering_fields = ["priority", "created_at", "name"]
    not_found = _("Earn rule not found.")

    def get_queryset(self) -> QuerySet:
        return selectors.earn_rule_list()

    def _create(self, program: Program, data: dict[str, Any]) -> Any:
        return services.earn_rule_create(program=program, **data)

    def _update(self, obj: Any, data: dict[str, Any]) -> Any:
        return services.earn_rule_update(rule=obj, **data)

    def _delete(self, obj: Any) -> None:
        services.earn_rule_delete(rule=obj)


@_crud_schema(TAG_REWARDS, "rewards", s.RewardOutput, s.RewardInput)
class RewardViewSet(_ConfigViewSet):
    serializer_class = output = s.RewardOutput
    input = s.RewardInput
    filterset_class = RewardFilter
    ordering_fields = ["points_cost", "name", "created_at"]
    not_found = _("Reward not found.")

    def get_queryset(self) -> QuerySet:
        return selectors.reward_list()

    def _create(self, program: Program, data: dict[str, Any]) -> Any:
        return services.reward_create(program=program, **data)

    def _update(self, obj: Any, data: dict[str, Any]) -> Any:
        return services.reward_update(reward=obj, **data)

    def _delete(self, obj: Any) -> None:
        services.reward_delete(reward=obj)

    @extend_schema(tags=[TAG_REWARDS], summary=_("Restock a limited reward"), request=s.RewardRestockInput,
                   responses={200: s.RewardOutput, 422: UNPROCESSABLE})
    @action(detail=True, methods=["post"], url_path="restock")
    def restock(self, request: Request, pk: uuid.UUID) -> Response:
        reward = self._get(self.get_queryset(), self.not_found)
        serializer = s.RewardRestockInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.reward_restock(reward=reward, quantity=serializer.validated_data["quantity"])
        return Response(s.RewardOutput(self._get(self.get_queryset(), self.not_found)).data)


# ---------------------------------------------------------------------------------------------- redemptions

class RedemptionViewSet(_LoyaltyView, viewsets.GenericViewSet):
    serializer_class = s.RedemptionOutput
    filterset_class = RedemptionFilter
    ordering_fields = ["created_at", "points", "status"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return selectors.redemption_list()

    @extend_schema(tags=[TAG_REDEMPTIONS], summary=_("List redemptions"),
                   responses={200: s.RedemptionOutput(many=True)})
    def list(self, request: Request) -> Response:
        return self._page(self.get_queryset(), s.RedemptionOutput)

    @extend_schema(tags=[TAG_REDEMPTIONS], summary=_("Get redemption"), responses={200: s.RedemptionOutput})
    def retrieve(self, request: Request, pk: uuid.UUID) -> Response:
        return Response(s.RedemptionOutput(self._get(self.get_queryset(), _("Redemption not found."))).data)

    @extend_schema(tags=[TAG_REDEMPTIONS], summary=_("Reserve a redemption (points and stock held)"),
                   description=_("Complete it (or cancel it) within the program's reservation hold, after which "
                                 "it is released automatically."),
                   request=s.RedemptionReserveInput,
                   responses={201: s.RedemptionOutput, 409: CONFLICT, 422: UNPROCESSABLE})
    @idempotent
    def create(self, request: Request) -> Response:
        serializer = s.RedemptionReserveInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = selectors.member_resolve(customer_id=data["customer_id"], program_id=data.get("program"))
        redemption = services.redemption_reserve(
            member=member, reward=_reward(data.get("reward")), points=data.get("points"),
            idempotency_key=service_key(request, "reserve"),
            actor=request.user if request.user.is_authenticated else None)
        return Response(s.RedemptionOutput(redemption).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_REDEMPTIONS], summary=_("Complete a reserved redemption"), request=EMPTY_BODY,
                   responses={200: s.RedemptionOutput, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="complete")
    @idempotent
    def complete(self, request: Request, pk: uuid.UUID) -> Response:
        redemption = self._get(self.get_queryset(), _("Redemption not found."))
        return Response(s.RedemptionOutput(services.redemption_complete(redemption=redemption)).data)

    @extend_schema(tags=[TAG_REDEMPTIONS], summary=_("Cancel a reserved redemption (points and stock back)"),
                   request=s.RedemptionCancelInput, responses={200: s.RedemptionOutput, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="cancel")
    @idempotent
    def cancel(self, request: Request, pk: uuid.UUID) -> Response:
        redemption = self._get(self.get_queryset(), _("Redemption not found."))
        serializer = s.RedemptionCancelInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        cancelled = services.redemption_cancel(redemption=redemption, reason=serializer.validated_data["reason"])
        return Response(s.RedemptionOutput(cancelled).data)


# ---------------------------------------------------------------------------------------------- orders

class OrderViewSet(_LoyaltyView, viewsets.GenericViewSet):
    serializer_class = s.OrderOutput
    filterset_class = OrderFilter
    ordering_fields = ["placed_at", "total", "created_at"]
    ordering = ["-placed_at"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return selectors.order_list()

    @extend_schema(tags=[TAG_ORDERS], summary=_("List orders"), responses={200: s.OrderOutput(many=True)})
    def list(self, request: Request) -> Response:
        return self._page(self.get_queryset(), s.OrderOutput)

    @extend_schema(tags=[TAG_ORDERS], summary=_("Get order"), responses={200: s.OrderOutput})
    def retrieve(self, request: Request, pk: uuid.UUID) -> Response:
        return Response(s.OrderOutput(self._get(self.get_queryset(), _("Order not found."))).data)

    @extend_schema(tags=[TAG_ORDERS], summary=_("Record a purchase (runs the earn rules)"),
                   description=_("Idempotent on program + order id: a replay returns the recorded order; the same "
                                 "id with other details is a conflict (409)."),
                   request=s.OrderRecordInput, responses={201: s.OrderOutput, 409: CONFLICT, 422: UNPROCESSABLE})
    @idempotent
    def create(self, request: Request) -> Response:
        serializer = s.OrderRecordInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = selectors.member_resolve(customer_id=data["customer_id"], program_id=data.get("program"))
        order = services.order_record(
            member=member, external_id=data["order_id"], delivery_cost=data["delivery_cost"],
            currency=data.get("currency"), placed_at=data.get("placed_at"),
            actor=request.user if request.user.is_authenticated else None,
            lines=[services.OrderLineInput(sku=line["sku"], name=line["name"], labels=tuple(line["labels"]),
                                           quantity=line["quantity"], unit_price=line["unit_price"])
                   for line in data["lines"]],
        )
        return Response(s.OrderOutput(self._get(self.get_queryset(), _("Order not found."), pk=order.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(tags=[TAG_ORDERS], summary=_("Refund an order, fully or per line"),
                   description=_("Reverses the refunded share of the points the purchase earned and recalculates "
                                 "the tier. Idempotent on order + refund id."),
                   request=s.OrderRefundInput, responses={201: s.OrderRefundOutput, 409: CONFLICT,
                                                          422: UNPROCESSABLE})
    @action(detail=True, methods=["post"], url_path="refunds")
    @idempotent
    def refunds(self, request: Request, pk: uuid.UUID) -> Response:
        order = self._get(self.get_queryset(), _("Order not found."))
        serializer = s.OrderRefundInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = data.get("lines")
        refund = services.order_refund(
            order=order, external_id=data["refund_id"],
            actor=request.user if request.user.is_authenticated else None,
            lines=None if lines is None else [services.RefundLineInput(line_id=line.get("line"), sku=line.get("sku"),
                                                                       quantity=line["quantity"]) for line in lines],
        )
        return Response(s.OrderRefundOutput(refund).data, status=status.HTTP_201_CREATED)
