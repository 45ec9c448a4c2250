from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.developer.models import APIKey, PartnerApplication
from apps.developer.selectors import api_key_list
from apps.developer.services import GRANT_TYPES


class APIKeyFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    active = django_filters.BooleanFilter(method="filter_active", label=_("Only active (or only inactive) keys"))

    class Meta:
        model = APIKey
        fields = ("name", "active")

    def filter_active(self, queryset: QuerySet[APIKey], name: str, value: bool | None) -> QuerySet[APIKey]:
        if value is None:
            return queryset
        return queryset.filter(pk__in=api_key_list(active=value).values("pk"))


class ApplicationFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="application__name", lookup_expr="icontains")
    grant_type = django_filters.ChoiceFilter(field_name="application__authorization_grant_type",
                                             choices=[(value, value) for value in GRANT_TYPES])

    class Meta:
        model = PartnerApplication
        fields = ("name", "grant_type")
