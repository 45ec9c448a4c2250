"""Query filters of the loyalty API (django-filter) and an ordering that never ties."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.loyalty.models import EarnRule, LedgerEntry, Member, Order, Program, Redemption, Reward, Tier


class ProgramFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Program.Status.choices)
    type = django_filters.MultipleChoiceFilter(choices=Program.Type.choices)
    name = django_filters.CharFilter(lookup_expr="icontains", label=_("Name contains"))

    class Meta:
        model = Program
        fields = ["status", "type", "name", "currency"]


class TierFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")

    class Meta:
        model = Tier
        fields = ["program"]


class EarnRuleFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")
    event = django_filters.MultipleChoiceFilter(choices=EarnRule.Event.choices)

    class Meta:
        model = EarnRule
        fields = ["program", "event", "calculation", "is_active"]


class RewardFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")
    type = django_filters.MultipleChoiceFilter(choices=Reward.Type.choices)
    max_points = django_filters.NumberFilter(field_name="points_cost", lookup_expr="lte")
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", label=_("Has stock"))

    class Meta:
        model = Reward
        fields = ["program", "type", "status", "max_points", "in_stock"]

    def filter_in_stock(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        in_stock = queryset.filter(stock_limited=False) | queryset.filter(stock_available__gt=0)
        return in_stock if value else queryset.filter(stock_limited=True, stock_available=0)


class MemberFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")
    tier = django_filters.UUIDFilter(field_name="tier_id")
    customer_id = django_filters.CharFilter()
    email = django_filters.CharFilter(lookup_expr="iexact")
    search = django_filters.CharFilter(method="filter_search", label=_("Name, email or customer id contains"))
    min_available = django_filters.NumberFilter(field_name="available", lookup_expr="gte")
    enrolled_after = django_filters.IsoDateTimeFilter(field_name="enrolled_at", lookup_expr="gte")
    enrolled_before = django_filters.IsoDateTimeFilter(field_name="enrolled_at", lookup_expr="lt")
    has_debt = django_filters.BooleanFilter(method="filter_has_debt")

    class Meta:
        model = Member
        fields = ["program", "tier", "customer_id", "email", "referral_code"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return (queryset.filter(name__icontains=value) | queryset.filter(email__icontains=value)
                | queryset.filter(customer_id__icontains=value))

    def filter_has_debt(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(debt__gt=0) if value else queryset.filter(debt=0)


class LedgerEntryFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=LedgerEntry.Kind.choices)
    status = django_filters.MultipleChoiceFilter(choices=LedgerEntry.Status.choices)
    source = django_filters.MultipleChoiceFilter(choices=LedgerEntry.Source.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    order_id = django_filters.CharFilter(field_name="order_ref")

    class Meta:
        model = LedgerEntry
        fields = ["kind", "status", "source", "order_id"]


class RedemptionFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")
    member = django_filters.UUIDFilter(field_name="member_id")
    customer_id = django_filters.CharFilter(field_name="member__customer_id")
    reward = django_filters.UUIDFilter(field_name="reward_id")
    status = django_filters.MultipleChoiceFilter(choices=Redemption.Status.choices)
    code = django_filters.CharFilter()

    class Meta:
        model = Redemption
        fields = ["program", "member", "customer_id", "reward", "status", "code"]


class OrderFilter(django_filters.FilterSet):
    program = django_filters.UUIDFilter(field_name="program_id")
    member = django_filters.UUIDFilter(field_name="member_id")
    customer_id = django_filters.CharFilter(field_name="member__customer_id")
    order_id = django_filters.CharFilter(field_name="external_id")
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices)
    placed_after = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = ["program", "member", "customer_id", "order_id", "status"]
