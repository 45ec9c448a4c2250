from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def user_list(*, role: str | None = None) -> QuerySet[User]:
    qs = User.objects.all().order_by("email")
    return qs.filter(role=role) if role else qs
