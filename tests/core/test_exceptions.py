"""Every API error answers {"error": {"code", "message", "fields"}}: DRF's, Django's and the domain's."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import include, path
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApplicationError, UnprocessableError
from apps.core.throttling import UserRateThrottle
from apps.developer.models import APIKey
from incentiva import urls_tenants
from tests.factories.developer import api_key_issue, oauth_application_register

pytestmark = pytest.mark.urls(__name__)

seen_language: list[str] = []


class RaisingView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, kind: str):  # type: ignore[no-untyped-def]
        seen_language.append(translation.get_language())
        if kind == "domain":
            raise ApplicationError(_("Not enough points."), code="insufficient_points", fields={"points": [_("Low.")]})
        if kind == "unprocessable":
            raise UnprocessableError(_("The rule cannot be satisfied."))
        if kind == "django-validation":
            raise DjangoValidationError({"email": ["Enter a valid email address."]})
        if kind == "http404":
            raise Http404("gone")
        if kind == "django-permission":
            raise PermissionDenied
        if kind == "crash":
            raise RuntimeError("boom")
        return Response({"ok": True})


urlpatterns = [path("api/test-raise/<str:kind>", RaisingView.as_view()), path("", include("incentiva.urls_tenants"))]
handler404 = urls_tenants.handler404
handler500 = urls_tenants.handler500

KEYS = "/api/developer/api-keys"
APPS = "/api/developer/applications"


def assert_error(response, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def test_400_lists_the_fields(api_client):
    error = assert_error(api_client("owner").post(KEYS, {}, format="json"), 400, "invalid")

    assert set(error["fields"]) == {"name", "scopes"}
    assert not APIKey.objects.exists()


def test_400_for_malformed_json_is_a_parse_error_not_a_500(api_client):
    response = api_client("owner").post(KEYS, '{"name": "x", ', content_type="application/json")

    assert_error(response, 400, "parse_error")
    assert not APIKey.objects.exists()


def test_401(api_client):
    assert_error(api_client(None).get(KEYS), 401, "not_authenticated")


def test_401_for_a_bad_bearer_token(api_client):
    assert_error(api_client(None).get(KEYS, HTTP_AUTHORIZATION="Bearer not-a-token"), 401)


def test_403(api_client):
    assert_error(api_client("manager").get(KEYS), 403, "permission_denied")


def test_404_for_another_tenants_object(api_client, other_tenant):
    with schema_context("beta"):
        beta_application = oauth_application_register().partner

    assert_error(api_client("owner").get(f"{APPS}/{beta_application.pk}"), 404, "not_found")
    assert_error(api_client("owner").get(f"{APPS}/{uuid.uuid4()}"), 404, "not_found")


def test_404_for_an_unknown_api_path(api_client):
    assert_error(api_client("owner").get("/api/no-such-endpoint"), 404, "not_found")


def test_405(api_client):
    issued = api_key_issue()

    error = assert_error(api_client("owner").put(f"{KEYS}/{issued.api_key.pk}", {}, format="json"), 405,
                         "method_not_allowed")

    assert "PUT" in error["message"]


def test_415(api_client):
    response = api_client("owner").post(KEYS, "name=x", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")
    assert not APIKey.objects.exists()


def test_429_has_retry_after(api_client, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "1/min", raising=False)
    client = api_client("owner")
    client.get(KEYS)

    response = client.get(KEYS)

    error = assert_error(response, 429, "throttled")
    assert error["fields"] == {}
    assert int(response["Retry-After"]) > 0


def test_domain_error(api_client):
    error = assert_error(api_client(None).get("/api/test-raise/domain"), 400, "insufficient_points")

    assert error["fields"] == {"points": ["Low."]}


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("unprocessable", 422, "unprocessable"), ("django-validation", 400, "invalid"), ("http404", 404, "not_found"),
     ("django-permission", 403, "permission_denied")],
)
def test_django_and_domain_exceptions_are_mapped(api_client, kind, status, code):
    error = assert_error(api_client(None).get(f"/api/test-raise/{kind}"), status, code)

    if kind == "django-validation":
        assert error["fields"] == {"email": ["Enter a valid email address."]}


def test_an_unexpected_error_on_an_api_path_is_a_500_in_the_same_shape(api_client):
    client = api_client(None)
    client.raise_request_exception = False

    error = assert_error(client.get("/api/test-raise/crash"), 500, "server_error")

    assert "boom" not in error["message"]


def test_the_handler_runs_in_the_request_language(api_client):
    seen_language.clear()

    response = api_client(None).get("/api/test-raise/domain", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9")

    assert response.status_code == 400
    assert seen_language == ["pt-br"]
    assert response["Content-Language"] == "pt-br"
    seen_language.clear()
    api_client(None).get("/api/test-raise/domain", HTTP_ACCEPT_LANGUAGE="es")
    assert seen_language == ["es"]
