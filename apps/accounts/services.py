"""Account writes: creating users (with their allauth email record) in the current tenant schema."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.selectors import user_get_by_email
from apps.core.errors import ApplicationError, ConflictError


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    role: str = User.Role.PARTICIPANT,
    first_name: str = "",
    last_name: str = "",
    preferred_language: str = "en",
    is_staff: bool = False,
    email_verified: bool = False,
    validate: bool = False,
) -> User:
    """Create a user in the current schema. Refuses a duplicate email (409) or an unknown role (400)."""
    email = (email or "").strip().lower()
    if role not in User.Role.values:
        raise ApplicationError(_("Unknown role."), code="invalid", fields={"role": [_("Unknown role.")]})
    if user_get_by_email(email=email):
        raise ConflictError(_("A user with this email already exists."), code="user_exists",
                            fields={"email": [_("Already registered.")]})
    user = User(email=email, role=role, first_name=first_name, last_name=last_name,
                preferred_language=preferred_language, is_staff=is_staff or role in ("owner", "admin"),
                is_superuser=role == User.Role.OWNER)
    if validate and password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ApplicationError(_("The password is too weak."), code="weak_password",
                                   fields={"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    return user
