"""allauth adapters: sign-up is closed (admins invite users); social sign-in only links known emails."""

from __future__ import annotations

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.http import Http404, HttpRequest
from django.utils.encoding import force_str

from apps.accounts.services import social_app_secret_open


class SocialAppMissing(SocialApp.DoesNotExist, Http404):  # type: ignore[misc]
    """No sign-in app for this provider on this tenant: allauth may still catch it as DoesNotExist, and
    anything it does not catch becomes a 404 page instead of a server error."""


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def format_email_subject(self, subject: str) -> str:
        # Emails name the tenant ("[Acme] Password reset"), not the host name allauth would take from the request.
        tenant = getattr(context.request, "tenant", None)
        if app_settings.EMAIL_SUBJECT_PREFIX is None and tenant is not None and tenant.schema_name != "public":
            return f"[{tenant.name}] {force_str(subject)}"
        return super().format_email_subject(subject)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:  # type: ignore[no-untyped-def]
        return False

    def get_app(self, request: HttpRequest, provider, client_id=None):  # type: ignore[no-untyped-def]
        # Each tenant configures its own Google / Microsoft apps; on a tenant without one the provider's
        # login URL is a 404, not a 500.
        try:
            app = super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist as exc:
            raise SocialAppMissing(str(exc)) from exc
        # The secret is encrypted at rest; only this in-memory copy, never saved, holds it in clear.
        app.secret = social_app_secret_open(stored=app.secret or "")
        return app
