"""Loyalty API serializers: ``<Entity><Verb>Input`` validate requests, ``<Entity>Output`` render answers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from apps.loyalty.models import (
    EarnRule,
    EarnRuleExclusion,
    EarnRuleMultiplier,
    LedgerEntry,
    Member,
    Order,
    OrderLine,
    OrderRefund,
    Program,
    Redemption,
    Reward,
    Tier,
)
from apps.loyalty.services.ledger import AWARD_SOURCE_CHOICES


class SharedFieldsOutput:
    """For read-only output serializers on hot paths (every points award, redemption and balance read):
    DRF builds a serializer's field objects anew for every instance (a ModelSerializer maps each model
    field again), which cost more than rendering the answer. Here they are built once per class and
    shared, and DRF's own ``to_representation`` runs over them, so the output is the same by construction
    (tests/loyalty/api/test_serializers.py compares both). Only for fields that read neither the context
    nor per-instance state (no request-dependent or method fields), and never for input."""

    @property
    def _readable_fields(self):  # type: ignore[no-untyped-def]
        cls = type(self)
        shared = cls.__dict__.get("_shared_readable_fields")
        if shared is None:
            shared = tuple(field for field in cls().fields.values() if not field.write_only)
            cls._shared_readable_fields = shared  # type: ignore[attr-defined]
        return shared


class SharedFieldsInput:
    """The same for the input serializers of the points writes: DRF's own validation loop over fields built
    once per class (plain fields only: no context, no per-instance state; never a partial update, for which
    DRF's own per-instance fields are used)."""

    @classmethod
    def _shared_fields(cls) -> tuple:
        shared = cls.__dict__.get("_shared_input_fields")
        if shared is None:
            shared = tuple(cls().fields.values())
            cls._shared_input_fields = shared  # type: ignore[attr-defined]
        return shared

    @property
    def _writable_fields(self):  # type: ignore[no-untyped-def]
        if self.partial:  # type: ignore[attr-defined]
            return [field for field in self.fields.values() if not field.read_only]  # type: ignore[attr-defined]
        return [field for field in self._shared_fields() if not field.read_only]

    def _read_only_defaults(self) -> dict:
        if self.partial:  # type: ignore[attr-defined]
            return super()._read_only_defaults()  # type: ignore[misc]
        # DRF's own rule, on the shared fields (its version builds the per-instance fields just for this).
        return {field.source: field.get_default() for field in self._shared_fields()
                if field.read_only and field.default is not empty and field.source != "*" and "." not in field.source}

# ---------------------------------------------------------------------------------------------- programs


class ProgramOutput(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Program
        fields = [
            "id", "name", "description", "type", "status", "currency", "min_redeem_points", "points_value_per_100",
            "rewards_enabled", "reservation_minutes", "transfers_enabled", "expiration_enabled", "expiration_months",
            "expiry_warning_days", "pending_days", "tier_basis", "tier_window_days", "tier_downgrade_policy",
            "tier_downgrade_after_days", "refund_policy", "points_budget", "member_count", "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProgramInput(serializers.ModelSerializer):
    """Create: ``name`` is required, the rest has defaults. Update (PUT): only the fields sent change."""

    class Meta:
        model = Program
        fields = [
            "name", "description", "type", "status", "currency", "min_redeem_points", "points_value_per_100",
            "rewards_enabled", "reservation_minutes", "transfers_enabled", "expiration_enabled", "expiration_months",
            "expiry_warning_days", "pending_days", "tier_basis", "tier_window_days", "tier_downgrade_policy",
            "tier_downgrade_after_days", "refund_policy", "points_budget",
        ]
        # Uniqueness and cross-field rules are checked by the service (model validation).
        validators: list = []

    def validate_currency(self, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError(_("A three-letter ISO 4217 code, e.g. USD."))
        return value.upper()


# ---------------------------------------------------------------------------------------------- tiers


class TierOutput(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["id", "program", "name", "rank", "threshold", "points_multiplier", "free_shipping", "early_access",
                  "exclusive_access", "created_at", "updated_at"]
        read_only_fields = fields


class TierInput(serializers.ModelSerializer):
    program = serializers.PrimaryKeyRelatedField(queryset=Program.objects.all(), required=False)

    class Meta:
        model = Tier
        fields = ["program", "name", "rank", "threshold", "points_multiplier", "free_shipping", "early_access",
                  "exclusive_access"]
        validators: list = []


# ---------------------------------------------------------------------------------------------- earn rules


class EarnRuleMultiplierSerializer(serializers.ModelSerializer):
    tier = serializers.PrimaryKeyRelatedField(queryset=Tier.objects.all(), required=False, allow_null=True)

    class Meta:
        model = EarnRuleMultiplier
        fields = ["scope", "value", "tier", "multiplier"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["scope"] == EarnRuleMultiplier.Scope.TIER and not attrs.get("tier"):
            raise serializers.ValidationError({"tier": [_("A tier multiplier names its tier.")]})
        if attrs["scope"] != EarnRuleMultiplier.Scope.TIER and not attrs.get("value"):
            raise serializers.ValidationError({"value": [_("A label or SKU is required.")]})
        return attrs


class EarnRuleExclusionSerializer(serializers.ModelSerializer):
    class Meta:
        model = EarnRuleExclusion
        fields = ["scope", "value"]


class EarnRuleOutput(serializers.ModelSerializer):
    multipliers = EarnRuleMultiplierSerializer(many=True, read_only=True)
    exclusions = EarnRuleExclusionSerializer(many=True, read_only=True)

    class Meta:
        model = EarnRule
        fields = [
            "id", "program", "name", "event", "custom_event", "calculation", "points_per_unit", "fixed_points",
            "multiplier", "min_order_value", "exclude_delivery", "limit_period", "limit_points", "limit_awards",
            "punches_required", "punch_reward", "starts_at", "ends_at", "is_active", "priority", "multipliers",
            "exclusions", "created_at", "updated_at",
        ]
        read_only_fields = fields


class EarnRuleInput(serializers.ModelSerializer):
    program = serializers.PrimaryKeyRelatedField(queryset=Program.objects.all(), required=False)
    punch_reward = serializers.PrimaryKeyRelatedField(queryset=Reward.objects.all(), required=False,
                                                      allow_null=True)
    multipliers = EarnRuleMultiplierSerializer(many=True, required=False)
    exclusions = EarnRuleExclusionSerializer(many=True, required=False)

    class Meta:
        model = EarnRule
        fields = [
            "program", "name", "event", "custom_event", "calculation", "points_per_unit", "fixed_points",
            "multiplier", "min_order_value", "exclude_delivery", "limit_period", "limit_points", "limit_awards",
            "punches_required", "punch_reward", "starts_at", "ends_at", "is_active", "priority", "multipliers",
            "exclusions",
        ]
        validators: list = []


# ---------------------------------------------------------------------------------------------- rewards


class RewardOutput(serializers.ModelSerializer):
    excluded_skus = serializers.SerializerMethodField()
    redemptions_total = serializers.IntegerField(read_only=True, required=False)
    redemptions_pending = serializers.IntegerField(read_only=True, required=False)
    redemptions_completed = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Reward
        fields = [
            "id", "program", "name", "description", "type", "points_cost", "value", "stock_limited",
            "stock_available", "stock_reserved", "valid_from", "valid_until", "min_order_value", "excluded_skus",
            "status", "redemptions_total", "redemptions_pending", "redemptions_completed", "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_excluded_skus(self, reward: Reward) -> list[str]:
        return [item.sku for item in reward.excluded_products.all()]


class RewardInput(serializers.ModelSerializer):
    program = serializers.PrimaryKeyRelatedField(queryset=Program.objects.all(), required=False)
    excluded_skus = serializers.ListField(child=serializers.CharField(max_length=100), required=False)

    class Meta:
        model = Reward
        fields = ["program", "name", "description", "type", "points_cost", "value", "stock_limited",
                  "stock_available", "valid_from", "valid_until", "min_order_value", "excluded_skus", "status"]
        validators: list = []


class RewardRestockInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


# ---------------------------------------------------------------------------------------------- members


class MemberOutput(serializers.ModelSerializer):
    tier_name = serializers.CharField(source="tier.name", read_only=True, default=None)
    referred_by = serializers.UUIDField(source="referred_by_id", read_only=True)

    class Meta:
        model = Member
        fields = [
            "id", "program", "customer_id", "email", "name", "tier", "tier_name", "tier_achieved_at",
            "tier_downgrade_at", "available", "pending", "lifetime", "debt", "purchase_count", "referral_code",
            "referred_by", "birth_date", "enrolled_at", "last_activity_at", "consent_marketing", "consent_email",
            "consent_sms", "created_at", "updated_at",
        ]
        read_only_fields = fields


class ConsentsSerializer(serializers.Serializer):
    marketing = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
    sms = serializers.BooleanField(required=False)


class MemberEnrollInput(serializers.Serializer):
    program = serializers.UUIDField(required=False, help_text=_("Required when the tenant has several programs."))
    customer_id = serializers.CharField(max_length=100)
    email = serializers.EmailField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True)
    consents = ConsentsSerializer(required=False)
    referred_by_code = serializers.CharField(max_length=8, required=False, allow_blank=True)


class MemberUpdateInput(serializers.Serializer):
    email = serializers.EmailField(required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    consents = ConsentsSerializer(required=False)


class MemberEventInput(serializers.Serializer):
    event = serializers.ChoiceField(choices=[c for c in EarnRule.Event.choices if c[0] != "purchase"])
    custom_event = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(required=False)
    key = serializers.CharField(max_length=150, help_text=_("Your id for this event: the same key never earns twice."))


# ---------------------------------------------------------------------------------------------- ledger


class LedgerEntryOutput(SharedFieldsOutput, serializers.ModelSerializer):
    remaining = serializers.IntegerField(read_only=True, required=False,
                                         help_text=_("Credits only: points of this entry not spent yet."))
    order_id = serializers.CharField(source="order_ref", read_only=True)
    customer_id = serializers.CharField(source="member.customer_id", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "member", "customer_id", "kind", "status", "amount", "balance_after", "debt_change", "waived",
            "remaining", "source", "reason", "order_id", "reward", "redemption", "referral_id", "campaign_id",
            "reverses", "unlock_at", "expires_at", "created_at",
        ]
        read_only_fields = fields


class _CustomerInput(serializers.Serializer):
    program = serializers.UUIDField(required=False, help_text=_("Required when the tenant has several programs."))
    customer_id = serializers.CharField(max_length=100)


class PointsAwardInput(SharedFieldsInput, _CustomerInput):
    points = serializers.IntegerField(min_value=1, max_value=10_000_000)
    source = serializers.ChoiceField(choices=AWARD_SOURCE_CHOICES, default=LedgerEntry.Source.MANUAL)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    order_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    pending_days = serializers.IntegerField(min_value=0, max_value=365, required=False,
                                            help_text=_("Default: the program's pending period (0 for manual)."))


class PointsAwardBulkItem(serializers.Serializer):
    customer_id = serializers.CharField(max_length=100)
    points = serializers.IntegerField(min_value=1, max_value=10_000_000)
    source = serializers.ChoiceField(choices=AWARD_SOURCE_CHOICES, default=LedgerEntry.Source.CAMPAIGN)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    key = serializers.CharField(max_length=150, required=False,
                                help_text=_("Your id for this award: the same key never credits twice."))


class PointsAwardBulkInput(serializers.Serializer):
    program = serializers.UUIDField(required=False)
    awards = PointsAwardBulkItem(many=True, allow_empty=False, max_length=1000)


class PointsAwardBulkOutput(serializers.Serializer):
    count = serializers.IntegerField()
    entries = LedgerEntryOutput(many=True)


class PointsDeductInput(SharedFieldsInput, _CustomerInput):
    points = serializers.IntegerField(min_value=1, max_value=10_000_000)
    reason = serializers.CharField(max_length=500)


class PointsRedeemInput(SharedFieldsInput, _CustomerInput):
    reward = serializers.UUIDField(required=False, help_text=_("The reward to redeem; or give points."))
    points = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False,
                                      help_text=_("Points to convert at the program's rate (no reward)."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("reward") and not attrs.get("points"):
            raise serializers.ValidationError({"reward": [_("Give a reward or a number of points.")]})
        return attrs


class PointsTransferInput(serializers.Serializer):
    program = serializers.UUIDField(required=False)
    from_customer_id = serializers.CharField(max_length=100)
    to_customer_id = serializers.CharField(max_length=100)
    points = serializers.IntegerField(min_value=1, max_value=10_000_000)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PointsBalanceOutput(SharedFieldsOutput, serializers.Serializer):
    program = serializers.UUIDField(source="member.program_id")
    customer_id = serializers.CharField(source="member.customer_id")
    member = serializers.UUIDField(source="member.pk")
    available = serializers.IntegerField()
    pending = serializers.IntegerField()
    lifetime = serializers.IntegerField()
    debt = serializers.IntegerField(help_text=_("Points owed after refunds of spent points."))
    value = serializers.DecimalField(max_digits=14, decimal_places=2,
                                     help_text=_("Money value of the available points."))
    currency = serializers.CharField(source="member.program.currency")
    tier = serializers.CharField(source="tier.name", default=None)
    next_tier = serializers.CharField(source="next_tier.name", default=None)
    qualifying_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    to_next_tier = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    expiring_points = serializers.IntegerField()
    expiring_at = serializers.DateTimeField(allow_null=True)


# ---------------------------------------------------------------------------------------------- redemptions


class RedemptionOutput(SharedFieldsOutput, serializers.ModelSerializer):
    customer_id = serializers.CharField(source="member.customer_id", read_only=True)
    reward_name = serializers.CharField(source="reward.name", read_only=True, default=None)

    class Meta:
        model = Redemption
        fields = ["id", "program", "member", "customer_id", "reward", "reward_name", "code", "points", "value",
                  "currency", "status", "hold_expires_at", "completed_at", "cancelled_at", "cancel_reason",
                  "created_at", "updated_at"]
        read_only_fields = fields


class RedemptionReserveInput(PointsRedeemInput):
    pass


class RedemptionCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# ---------------------------------------------------------------------------------------------- orders


class OrderLineOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "sku", "name", "labels", "quantity", "unit_price", "refunded_quantity"]
        read_only_fields = fields


class OrderRefundOutput(serializers.ModelSerializer):
    refund_id = serializers.CharField(source="external_id", read_only=True)

    class Meta:
        model = OrderRefund
        fields = ["id", "order", "refund_id", "amount", "full", "points_reversed", "created_at"]
        read_only_fields = fields


class OrderOutput(serializers.ModelSerializer):
    order_id = serializers.CharField(source="external_id", read_only=True)
    customer_id = serializers.CharField(source="member.customer_id", read_only=True)
    lines = OrderLineOutput(many=True, read_only=True)
    refunds = OrderRefundOutput(many=True, read_only=True)
    points_earned = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Order
        fields = ["id", "program", "member", "customer_id", "order_id", "currency", "subtotal", "delivery_cost",
                  "total", "refunded_total", "status", "placed_at", "points_earned", "lines", "refunds",
                  "created_at"]
        read_only_fields = fields


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    labels = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list,
                                   max_length=20)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class OrderRecordInput(_CustomerInput):
    order_id = serializers.CharField(max_length=100)
    currency = serializers.CharField(max_length=3, required=False)
    delivery_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)
    placed_at = serializers.DateTimeField(required=False)
    lines = OrderLineInputSerializer(many=True, allow_empty=False, max_length=500)


class RefundLineInputSerializer(serializers.Serializer):
    line = serializers.UUIDField(required=False, help_text=_("The order line id; or give its SKU."))
    sku = serializers.CharField(max_length=100, required=False)
    quantity = serializers.IntegerField(min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("line") and not attrs.get("sku"):
            raise serializers.ValidationError({"line": [_("Give the line id or its SKU.")]})
        return attrs


class OrderRefundInput(serializers.Serializer):
    refund_id = serializers.CharField(max_length=100)
    lines = RefundLineInputSerializer(many=True, required=False, allow_empty=False,
                                      help_text=_("Lines to refund; omit for a full refund."))
