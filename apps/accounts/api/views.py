"""Authentication API: sign in/out with tenant-bound JWTs, rotate tokens, the profile, and adding users."""

from __future__ import annotations

from dataclasses import asdict

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.accounts.api.serializers import (
    AuthLoginInput,
    AuthLoginOutput,
    AuthLogoutInput,
    AuthRefreshInput,
    AuthTokensOutput,
    UserOutput,
    UserProfileUpdateInput,
    UserRegisterInput,
)
from apps.accounts.api.throttling import LoginFailureThrottle, login_failures_counted
from apps.accounts.models import User
from apps.accounts.services import auth_login, auth_logout, auth_refresh, user_profile_update, user_register
from apps.core.api.permissions import ScopedRolePermission
from apps.core.api.serializers import ErrorResponse

TAG = "Authentication & Authorization"
ALL_ROLES = frozenset(User.Role.values)


def _error(description: str | Promise) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorResponse, description=description)


BAD_INPUT = _error(_("Invalid input; error.fields names the offending fields."))
UNAUTHENTICATED = _error(_("Not signed in, or the token is invalid, expired, revoked or of another tenant."))
FORBIDDEN = _error(_("A partner token without the profile:read scope, trying to write, or not tied to a user."))
THROTTLED = _error(_("Too many requests; see the Retry-After header."))


class AuthViewSet(viewsets.GenericViewSet):
    """Sign-in, sign-out and token rotation are open to anonymous callers; the rest needs a signed-in user."""

    serializer_class = UserOutput
    permission_classes = [IsAuthenticated]
    # Read by ScopedRolePermission; set per action below.
    required_scopes: dict[str, str] | None = None
    allowed_roles: dict[str, frozenset[str]] | None = None

    @extend_schema(
        tags=[TAG],
        summary=_("User login (password, plus a TOTP or recovery code when MFA is on)"),
        description=_("Exchange email and password for a JWT pair bound to this tenant. When the user has "
                      "two-factor authentication on, send mfa_code too: a current TOTP code or an unused recovery "
                      "code (spent on use). Failed sign-ins are counted per client IP and email and throttled."),
        request=AuthLoginInput,
        responses={
            200: AuthLoginOutput,
            400: BAD_INPUT,
            401: _error(_("Wrong credentials (invalid_credentials), MFA code missing (mfa_required) or wrong.")),
            403: _error(_("The email address is not confirmed yet (email_unverified).")),
            429: _error(_("Too many failed sign-ins from this address for this email (throttled).")),
        },
        auth=[],
    )
    @action(detail=False, methods=["post"], url_path="login", permission_classes=[AllowAny],
            authentication_classes=[], throttle_classes=[*api_settings.DEFAULT_THROTTLE_CLASSES, LoginFailureThrottle])
    def login(self, request: Request) -> Response:
        with login_failures_counted(request):
            data = _validated(AuthLoginInput, request)
            session = auth_login(email=data["email"], password=data["password"], mfa_code=data["mfa_code"])
        body = {**asdict(session.tokens), "user": session.user}
        return Response(AuthLoginOutput(body).data)

    @extend_schema(
        tags=[TAG],
        summary=_("User logout: revoke the refresh token"),
        description=_("Blacklist the given refresh token; it can no longer be refreshed or used to sign out. "
                      "Access tokens already issued expire on their own."),
        request=AuthLogoutInput,
        responses={204: None, 400: BAD_INPUT, 401: UNAUTHENTICATED, 429: THROTTLED},
        auth=[],
    )
    @action(detail=False, methods=["post"], url_path="logout", permission_classes=[AllowAny],
            authentication_classes=[])
    def logout(self, request: Request) -> Response:
        data = _validated(AuthLogoutInput, request)
        auth_logout(refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=[TAG],
        summary=_("Refresh authentication token (rotation: the old refresh token is revoked)"),
        description=_("Exchange a refresh token of this tenant for a new pair. The refresh token sent is revoked, "
                      "so sending it again is refused."),
        request=AuthRefreshInput,
        responses={200: AuthTokensOutput, 400: BAD_INPUT, 401: UNAUTHENTICATED, 429: THROTTLED},
        auth=[],
    )
    @action(detail=False, methods=["post"], url_path="refresh", permission_classes=[AllowAny],
            authentication_classes=[])
    def refresh(self, request: Request) -> Response:
        data = _validated(AuthRefreshInput, request)
        return Response(AuthTokensOutput(auth_refresh(refresh=data["refresh"])).data)

    @extend_schema(tags=[TAG], summary=_("Get current user profile"), request=None,
                   description=_("The signed-in user (session, JWT, or an OAuth2 token with profile:read)."),
                   responses={200: UserOutput, 401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED}, methods=["GET"])
    @extend_schema(tags=[TAG], summary=_("Update current user's name and preferred language"),
                   description=_("Change first_name, last_name and preferred_language; other fields are "
                                 "ignored."),
                   request=UserProfileUpdateInput,
                   responses={200: UserOutput, 400: BAD_INPUT, 401: UNAUTHENTICATED, 403: FORBIDDEN,
                              429: THROTTLED},
                   methods=["PATCH"])
    @action(detail=False, methods=["get", "patch"], url_path="profile", permission_classes=[ScopedRolePermission],
            required_scopes={"read": "profile:read"}, allowed_roles={"read": ALL_ROLES, "write": ALL_ROLES})
    def profile(self, request: Request) -> Response:
        user = request.user
        if not user.is_authenticated:  # a partner's client-credentials token: allowed in, but nobody's profile
            raise PermissionDenied(_("This token does not belong to a user."), code="no_user")
        if request.method == "PATCH":
            data = _validated(UserProfileUpdateInput, request)
            user = user_profile_update(user=user, **data)
        return Response(UserOutput(user).data)

    @extend_schema(
        tags=[TAG],
        summary=_("Register new user (owner or admin only)"),
        description=_("Create a user of the given role in this tenant. Admins cannot create owners. The "
                      "password must satisfy the password rules; the email is confirmed on first web sign-in."),
        request=UserRegisterInput,
        responses={
            201: UserOutput,
            400: BAD_INPUT,
            401: UNAUTHENTICATED,
            403: _error(_("Not an owner or admin, an admin trying to add an owner, or a partner token.")),
            409: _error(_("A user with this email already exists (user_exists).")),
            429: THROTTLED,
        },
    )
    @action(detail=False, methods=["post"], url_path="register", permission_classes=[ScopedRolePermission],
            required_scopes={}, allowed_roles={"write": frozenset({User.Role.OWNER, User.Role.ADMIN})})
    def register(self, request: Request) -> Response:
        data = _validated(UserRegisterInput, request)
        user = user_register(actor=request.user, **data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


def _validated(serializer_class: type, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
