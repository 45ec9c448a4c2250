from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from apps.accounts.models import User

DEFAULT_PASSWORD = "Correct-horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = User.Role.PARTICIPANT

    @factory.post_generation
    def password(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(user=self, email=self.email,
                                               defaults={"primary": True, "verified": True})


def mfa_enable(user: User) -> tuple[str, list[str]]:
    """Turn on TOTP and recovery codes for ``user`` through allauth.mfa's own API, as its setup pages do.
    Returns the TOTP secret and the recovery codes."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    return secret, codes


def totp_code(secret: str, *, offset_periods: int = 0) -> str:
    """The code an authenticator app shows now (or ``offset_periods`` periods away) for ``secret``."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // app_settings.TOTP_PERIOD + offset_periods
    return format_hotp_value(hotp_value(secret, counter))
