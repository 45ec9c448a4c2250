"""TLP integration API: <Entity><Verb>Input / <Entity>Output."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class TLPConfigureInput(serializers.Serializer):
    endpoint_url = serializers.CharField(max_length=500, help_text=_("Base URL of the TLP API, e.g. "
                                                                      "https://tlp.example.com/api/v1"))
    api_key = serializers.CharField(max_length=500, write_only=True, trim_whitespace=True,
                                    style={"input_type": "password"})
    is_active = serializers.BooleanField(default=True)
    connect_timeout = serializers.FloatField(required=False, min_value=0.1, max_value=60)
    read_timeout = serializers.FloatField(required=False, min_value=0.1, max_value=60)


class TLPConfigurationOutput(serializers.Serializer):
    endpoint_url = serializers.CharField()
    api_key_hint = serializers.CharField(help_text=_("The key's last four characters (empty for short keys)."))
    is_active = serializers.BooleanField()
    connect_timeout = serializers.FloatField()
    read_timeout = serializers.FloatField()
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_latency_ms = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField()


class TLPOutboxHealthOutput(serializers.Serializer):
    depth = serializers.IntegerField(help_text=_("Rows waiting for delivery (pending + in flight)."))
    pending = serializers.IntegerField()
    in_flight = serializers.IntegerField()
    delivered = serializers.IntegerField()
    dead_letters = serializers.IntegerField()
    oldest_pending_age_seconds = serializers.IntegerField(allow_null=True)


class TLPReconciliationSummaryOutput(serializers.Serializer):
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    members_checked = serializers.IntegerField()
    members_drifting = serializers.IntegerField()
    total_drift = serializers.IntegerField()


class TLPHealthOutput(serializers.Serializer):
    configured = serializers.BooleanField()
    active = serializers.BooleanField()
    endpoint_url = serializers.CharField()
    reachable = serializers.BooleanField()
    latency_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(help_text=_("Why the probe just made failed, if it did."))
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    last_error_at = serializers.DateTimeField(allow_null=True)
    checked_at = serializers.DateTimeField()
    outbox = TLPOutboxHealthOutput()
    last_reconciliation = TLPReconciliationSummaryOutput(allow_null=True)


class TLPPrizeInput(serializers.Serializer):
    id = serializers.CharField(max_length=60)
    name = serializers.CharField(max_length=200)
    points_cost = serializers.IntegerField(min_value=1)


class TLPGraphicsGenerateInput(serializers.Serializer):
    campaign_key = serializers.CharField(max_length=100)
    prizes = TLPPrizeInput(many=True, required=False, help_text=_(
        "Default: the prizes of the campaign's provisioned redemption offers."))
    primary_color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False, help_text=_(
        "For these graphics only. Default: the tenant's branding."))
    accent_color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False, help_text=_(
        "For these graphics only. Default: the tenant's branding."))
    logo_base64 = serializers.CharField(required=False, max_length=1_400_000, help_text=_(
        "The logo as base64 (PNG, JPEG, GIF or WebP; 1 MB at most), for these graphics only. Default: the "
        "tenant's branding logo."))
    points_label = serializers.CharField(required=False, max_length=30)


class TLPGraphicOutput(serializers.Serializer):
    prize_id = serializers.CharField()
    name = serializers.CharField()
    points = serializers.IntegerField()
    icon = serializers.CharField()
    image_url = serializers.CharField()
    offer_id = serializers.CharField(allow_null=True)
    offer_update_queued = serializers.BooleanField()


class TLPGraphicsOutput(serializers.Serializer):
    graphics = TLPGraphicOutput(many=True)
