"""Input and output shapes of the referrals API. Shape validation only: the rules live in the services.

Campaigns are read and written in the seed's document shape (``incentives``, ``rules``, ``fraud``,
``tracking``); the services take the flat model fields, and ``campaign_input_to_fields`` maps between them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.loyalty.models import Program
from apps.referrals.fraud import SIGNAL_LABELS
from apps.referrals.models import Channel, FraudPolicy, IncentiveType, Referral, ReferralCampaign


# ------------------------------------------------------------------------------------------ campaigns
class IncentiveSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=IncentiveType.choices)
    value = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class IncentivesSerializer(serializers.Serializer):
    referrer = IncentiveSerializer(help_text=_("What the member who shared the link gets."))
    referred = IncentiveSerializer(help_text=_("What the new customer gets."))


class CampaignRulesSerializer(serializers.Serializer):
    min_purchase_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"),
                                                   required=False)
    max_referrals_per_member = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    allow_self_referral = serializers.BooleanField(required=False)
    require_email_verification = serializers.BooleanField(required=False)
    referral_window_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class CampaignFraudSerializer(serializers.Serializer):
    policy = serializers.ChoiceField(choices=FraudPolicy.choices, required=False)
    threshold = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=Decimal("0"),
                                         max_value=Decimal("1"), required=False)
    velocity_max_referrals = serializers.IntegerField(min_value=1, required=False)
    velocity_window_hours = serializers.IntegerField(min_value=1, max_value=24 * 365, required=False)


_INPUT_STATUSES = [choice for choice in ReferralCampaign.Status.choices
                   if choice[0] != ReferralCampaign.Status.ARCHIVED]


class ReferralCampaignInput(serializers.Serializer):
    """Create: ``program``, ``name`` and ``incentives`` are required. Update (PUT): every field is optional and
    only the fields sent change."""

    program = serializers.PrimaryKeyRelatedField(queryset=Program.objects.all())
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=_INPUT_STATUSES, required=False)
    incentives = IncentivesSerializer()
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices), required=False,
                                     max_length=len(Channel.choices))
    signup_url = serializers.URLField(required=False, allow_blank=True)
    currency = serializers.CharField(min_length=3, max_length=3, required=False,
                                     help_text=_("Defaults to the program's currency, and must equal it."))
    rules = CampaignRulesSerializer(required=False)
    fraud = CampaignFraudSerializer(required=False)


def campaign_input_to_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Flatten a validated ``ReferralCampaignInput`` into the service's field names."""
    fields: dict[str, Any] = {}
    for name in ("program", "name", "description", "status", "channels", "signup_url", "currency"):
        if name in data:
            fields[name] = data[name]
    for side, incentive in (data.get("incentives") or {}).items():
        for key in ("type", "value", "description"):
            if key in incentive:
                fields[f"{side}_reward_{key}"] = incentive[key]
    fields.update(data.get("rules") or {})
    for key, value in (data.get("fraud") or {}).items():
        fields[{"policy": "fraud_policy", "threshold": "fraud_threshold"}.get(key, key)] = value
    return fields


class CampaignTrackingOutput(serializers.Serializer):
    total_clicks = serializers.IntegerField()
    total_referrals = serializers.IntegerField()
    pending_referrals = serializers.IntegerField()
    flagged_referrals = serializers.IntegerField()
    successful_referrals = serializers.IntegerField()
    expired_referrals = serializers.IntegerField()
    fraud_referrals = serializers.IntegerField()
    conversion_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    revenue_generated = serializers.DecimalField(max_digits=14, decimal_places=2)


class ReferralCampaignOutput(serializers.Serializer):
    id = serializers.UUIDField()
    program = serializers.UUIDField(source="program_id")
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    incentives = serializers.SerializerMethodField()
    channels = serializers.ListField(child=serializers.CharField())
    signup_url = serializers.CharField()
    currency = serializers.CharField()
    rules = serializers.SerializerMethodField()
    fraud = serializers.SerializerMethodField()
    tracking = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(IncentivesSerializer)
    def get_incentives(self, campaign: ReferralCampaign) -> dict[str, Any]:
        return IncentivesSerializer({
            side: {
                "type": getattr(campaign, f"{side}_reward_type"),
                "value": getattr(campaign, f"{side}_reward_value"),
                "description": getattr(campaign, f"{side}_reward_description"),
            }
            for side in ("referrer", "referred")
        }).data

    @extend_schema_field(CampaignRulesSerializer)
    def get_rules(self, campaign: ReferralCampaign) -> dict[str, Any]:
        return CampaignRulesSerializer(campaign).data

    @extend_schema_field(CampaignFraudSerializer)
    def get_fraud(self, campaign: ReferralCampaign) -> dict[str, Any]:
        return CampaignFraudSerializer({
            "policy": campaign.fraud_policy, "threshold": campaign.fraud_threshold,
            "velocity_max_referrals": campaign.velocity_max_referrals,
            "velocity_window_hours": campaign.velocity_window_hours,
        }).data

    @extend_schema_field(CampaignTrackingOutput)
    def get_tracking(self, campaign: ReferralCampaign) -> dict[str, Any]:
        return CampaignTrackingOutput(campaign).data


class ChannelStatsOutput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    clicks = serializers.IntegerField()
    signups = serializers.IntegerField()
    completed = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=14, decimal_places=2)
    click_to_signup_rate = serializers.DecimalField(max_digits=8, decimal_places=4)


class ReferralCampaignStatsOutput(CampaignTrackingOutput):
    sharing_members = serializers.IntegerField(help_text=_("Members who shared: a click on or a referral "
                                                           "through their link."))
    viral_coefficient = serializers.DecimalField(
        max_digits=8, decimal_places=4,
        help_text=_("K-factor: completed referrals per sharing member."),
    )
    channels = ChannelStatsOutput(many=True)


# ------------------------------------------------------------------------------------------ referrals
class ReferralSignupInput(serializers.Serializer):
    """A referred person signed up: who referred them (``code``), who they are, and what identifies their
    network, device, address and card (hashed on arrival, never stored raw)."""

    code = serializers.CharField(max_length=32, help_text=_("The referrer's referral code."))
    campaign = serializers.UUIDField(required=False, help_text=_("Defaults to the program's active campaign."))
    customer_id = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                        help_text=_("The referred customer's id, when they are (or will be) a "
                                                    "member of the program."))
    email = serializers.EmailField(required=False, allow_blank=True)
    email_verified = serializers.BooleanField(default=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, allow_blank=True)
    ip = serializers.IPAddressField(required=False, allow_blank=True)
    device_id = serializers.CharField(max_length=500, required=False, allow_blank=True)
    billing_address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    card_fingerprint = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("customer_id") and not attrs.get("email"):
            raise serializers.ValidationError({"email": [_("Give the referred person's email or customer id.")]})
        return attrs


class FingerprintRecordInput(serializers.Serializer):
    program = serializers.PrimaryKeyRelatedField(queryset=Program.objects.all())
    customer_id = serializers.CharField(max_length=100)
    ip = serializers.IPAddressField(required=False, allow_blank=True)
    device_id = serializers.CharField(max_length=500, required=False, allow_blank=True)
    billing_address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    card_fingerprint = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(attrs.get(key) for key in ("ip", "device_id", "billing_address", "card_fingerprint")):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Give at least one of ip, device_id, billing_address or card_fingerprint.")]}
            )
        return attrs


class FingerprintRecordOutput(serializers.Serializer):
    recorded = serializers.IntegerField(help_text=_("How many fingerprints were new for this member."))


class FraudSignalOutput(serializers.Serializer):
    code = serializers.CharField()
    weight = serializers.DecimalField(max_digits=4, decimal_places=3)
    label = serializers.SerializerMethodField()
    detail = serializers.DictField()

    def get_label(self, signal: dict[str, Any]) -> str:
        return str(SIGNAL_LABELS.get(signal.get("code", ""), ""))


class ReferralFraudOutput(serializers.Serializer):
    score = serializers.DecimalField(max_digits=4, decimal_places=3, source="fraud_score")
    outcome = serializers.CharField(source="fraud_outcome")
    signals = FraudSignalOutput(many=True, source="fraud_signals")


class ReferralConversionOutput(serializers.Serializer):
    signed_up_at = serializers.DateTimeField()
    first_purchase_at = serializers.DateTimeField(allow_null=True)
    first_purchase_order_id = serializers.CharField()
    first_purchase_value = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    expires_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class ReferralRewardsOutput(serializers.Serializer):
    referrer_reward_issued = serializers.BooleanField()
    referred_reward_issued = serializers.BooleanField()
    referrer_ledger_entry_id = serializers.UUIDField(allow_null=True)
    referred_ledger_entry_id = serializers.UUIDField(allow_null=True)


class ReferralReviewOutput(serializers.Serializer):
    decision = serializers.CharField(source="review_decision")
    reviewed_by = serializers.EmailField(source="reviewed_by.email", allow_null=True, default=None)
    reviewed_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(source="review_note")


class ReferralOutput(serializers.Serializer):
    id = serializers.UUIDField()
    campaign = serializers.UUIDField(source="campaign_id")
    referrer = serializers.UUIDField(source="referrer_id")
    referrer_customer_id = serializers.CharField(source="referrer.customer_id")
    referred = serializers.UUIDField(source="referred_id", allow_null=True)
    referred_email = serializers.EmailField()
    referred_customer_id = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    email_verified = serializers.BooleanField()
    conversion = ReferralConversionOutput(source="*")
    rewards = ReferralRewardsOutput(source="*")
    fraud = ReferralFraudOutput(source="*")
    review = ReferralReviewOutput(source="*")
    created_at = serializers.DateTimeField()


class ReferralReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
