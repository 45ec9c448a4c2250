"""Filter backends shared by every API list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.filters import OrderingFilter


class StableOrderingFilter(OrderingFilter):
    """The client's ordering (or the view's default), then ``id``: pages never repeat or skip tied rows."""

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        ordering = [field for field in ordering if field.lstrip("-") != "id"]
        return queryset.order_by(*ordering, "id")
