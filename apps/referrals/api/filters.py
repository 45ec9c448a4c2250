"""Query filters of the referrals API (django-filter) and an ordering that never ties."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from apps.referrals.models import Referral, ReferralCampaign


class ReferralCampaignFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReferralCampaign.Status.choices)
    program = django_filters.UUIDFilter(field_name="program_id")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name contains"))

    class Meta:
        model = ReferralCampaign
        fields = ["status", "program", "name"]


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Referral.Status.choices)
    campaign = django_filters.UUIDFilter(field_name="campaign_id")
    referrer = django_filters.UUIDFilter(field_name="referrer_id", label=_("Referrer member id"))
    referrer_customer_id = django_filters.CharFilter(field_name="referrer__customer_id")
    referred_email = django_filters.CharFilter(field_name="referred_email", lookup_expr="iexact")
    channel = django_filters.CharFilter(field_name="channel")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_fraud_score = django_filters.NumberFilter(field_name="fraud_score", lookup_expr="gte")

    class Meta:
        model = Referral
        fields = ["status", "campaign", "referrer", "referrer_customer_id", "referred_email", "channel"]


class FraudQueueFilter(django_filters.FilterSet):
    campaign = django_filters.UUIDFilter(field_name="campaign_id")
    referrer = django_filters.UUIDFilter(field_name="referrer_id")

    class Meta:
        model = Referral
        fields = ["campaign", "referrer"]
