"""OAuth2 bearer tokens (django-oauth-toolkit), with ``request.user`` always a user object.

A client-credentials token has no user; DOT then sets ``request.user = None``, which breaks every
``request.user.is_authenticated`` downstream. The token is in ``request.auth`` either way. A token
issued to a user who has since been deactivated no longer authenticates.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication as DOTOAuth2Authentication
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header


def _is_jwt(request) -> bool:  # type: ignore[no-untyped-def]
    """A bearer token in JWT compact form (three dot-separated parts). DOT's own tokens are random
    alphanumeric strings (oauthlib's generator), so such a token can never be in the access token table:
    looking it up would cost a query on every JWT request for nothing. The JWT class authenticates it."""
    parts = get_authorization_header(request).split()
    return len(parts) == 2 and parts[0].lower() == b"bearer" and parts[1].count(b".") == 2


class OAuth2Authentication(DOTOAuth2Authentication):
    def authenticate(self, request):  # type: ignore[no-untyped-def]
        if _is_jwt(request):
            return None
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if user is None:
            return AnonymousUser(), token
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."), code="user_inactive")
        return user, token
