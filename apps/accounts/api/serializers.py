"""Input and output shapes of the authentication API. Validation of shape only: the rules live in services."""

from __future__ import annotations

from typing import Any

import jwt
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import User
from apps.accounts.selectors import user_mfa_enabled


class JWTField(serializers.CharField):
    """A string shaped like a JWT (three base64url parts with a JSON header and payload). Whether it is signed
    by us, unexpired and not revoked is the service's business (401), not the input's (400)."""

    default_error_messages = {"malformed": _("Not a well-formed token.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 4096)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            payload = jwt.decode(value, options={"verify_signature": False})
        except jwt.PyJWTError:
            self.fail("malformed")
        if not isinstance(payload, dict):
            self.fail("malformed")
        return value


class AuthLoginInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    mfa_code = serializers.CharField(
        required=False, allow_blank=True, max_length=64, default="",
        help_text=_("The code from the authenticator app, or an unused recovery code, when the user has MFA."),
    )


class AuthRefreshInput(serializers.Serializer):
    refresh = JWTField()


class AuthLogoutInput(serializers.Serializer):
    refresh = JWTField(help_text=_("The refresh token to revoke."))


class UserOutput(serializers.ModelSerializer):
    mfa_enabled = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "email", "first_name", "last_name", "role", "preferred_language", "mfa_enabled",
                  "date_joined", "last_login")
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_mfa_enabled(self, user: User) -> bool:
        return user_mfa_enabled(user=user)


class AuthTokensOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField(help_text=_("Always \"Bearer\"."))
    expires_in = serializers.IntegerField(help_text=_("Seconds until the access token expires."))


class AuthLoginOutput(AuthTokensOutput):
    user = UserOutput()


class UserProfileUpdateInput(serializers.Serializer):
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    preferred_language = serializers.ChoiceField(required=False, choices=settings.LANGUAGES)


class UserRegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=User.Role.choices)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")
    preferred_language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, default="en")
