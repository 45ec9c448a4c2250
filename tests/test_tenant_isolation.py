"""Tenant isolation for every API operation, walked from the generated OpenAPI schema (so endpoints added
later are covered without touching this file).

Alpha's credentials (session, JWT, API key, OAuth token) used on beta's host never get a 2xx: only
401/403/404. Anonymous callers get 401 on every operation that is not public.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from apps.developer.selectors import scope_catalog
from tests.conftest import TENANT_HOSTS
from tests.factories.accounts import UserFactory
from tests.factories.developer import api_key_issue, client_credentials_token, oauth_application_register

ALPHA, BETA = TENANT_HOSTS["alpha"], TENANT_HOSTS["beta"]
METHODS = ("get", "post", "put", "patch", "delete")
PATH_PARAM = re.compile(r"\{([^}]+)\}")
REFUSED = {401, 403, 404}
# Proves each credential works on its own tenant, so a refusal on beta is the tenant boundary at work.
HOME_CHECK = "/api/developer/api-keys"


def _operations() -> Iterator[tuple[str, str, dict]]:
    schema = SchemaGenerator(urlconf="incentiva.urls_tenants").get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        if not path.startswith("/api/") or path.startswith("/api/schema"):
            continue
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _url(path: str, operation: dict) -> str:
    types = {p["name"]: (p.get("schema") or {}).get("type") for p in operation.get("parameters", [])
             if p.get("in") == "path"}
    return PATH_PARAM.sub(lambda m: "1" if types.get(m.group(1)) == "integer" else str(uuid.uuid4()), path)


def _is_public(operation: dict) -> bool:
    return {} in operation.get("security", [{}])


def _call(client: APIClient, method: str, url: str, **headers: str):  # type: ignore[no-untyped-def]
    if method in ("post", "put", "patch"):
        return getattr(client, method)(url, json.dumps({}), content_type="application/json", **headers)
    return getattr(client, method)(url, **headers)


@pytest.fixture
def no_throttling(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Hundreds of requests from one IP: rate limits are tested elsewhere and would only add noise here."""
    monkeypatch.setattr(APIView, "check_throttles", lambda self, request: None)


@pytest.fixture
def alpha_credentials(tenant) -> dict[str, Callable[[], tuple[APIClient, dict[str, str]]]]:  # type: ignore[no-untyped-def]
    """Each kind of alpha credential, as (client, extra headers) factories."""
    owner = UserFactory(role="owner")
    every_scope = sorted(scope_catalog())
    api_key = api_key_issue(scopes=every_scope).raw_key
    registered = oauth_application_register(scopes=every_scope)
    oauth_token = client_credentials_token(host=ALPHA, client_id=registered.partner.application.client_id,
                                           client_secret=registered.client_secret).json()["access_token"]
    refresh = RefreshToken.for_user(owner)
    refresh["tenant"] = "alpha"
    jwt = str(refresh.access_token)

    def session(host: str) -> tuple[APIClient, dict[str, str]]:
        client = APIClient(HTTP_HOST=host)
        client.force_login(owner)  # the session row is written in alpha's schema
        return client, {}

    return {
        "session": session,
        "jwt": lambda host: (APIClient(HTTP_HOST=host), {"HTTP_AUTHORIZATION": f"Bearer {jwt}"}),
        "api_key": lambda host: (APIClient(HTTP_HOST=host), {"HTTP_X_API_KEY": api_key}),
        "oauth_token": lambda host: (APIClient(HTTP_HOST=host), {"HTTP_AUTHORIZATION": f"Bearer {oauth_token}"}),
    }


@pytest.mark.parametrize("kind", ["session", "jwt", "api_key", "oauth_token"])
def test_alpha_credentials_get_nothing_on_beta(alpha_credentials, no_throttling, kind):
    from django.db import connection

    home_client, home_headers = alpha_credentials[kind](ALPHA)
    assert home_client.get(HOME_CHECK, **home_headers).status_code == 200
    client, headers = alpha_credentials[kind](BETA)
    anonymous = APIClient(HTTP_HOST=BETA)
    violations = []
    checked = 0

    for path, method, operation in _operations():
        url = _url(path, operation)
        response = _call(client, method, url, **headers)
        checked += 1
        if _is_public(operation):
            # Public operations ignore who calls: alpha's credentials must change nothing.
            expected = _call(anonymous, method, url).status_code
            if response.status_code != expected:
                violations.append(f"{method.upper()} {path}: {response.status_code}, anonymous gets {expected}")
        elif response.status_code not in REFUSED:
            violations.append(f"{method.upper()} {path}: {response.status_code}")
        connection.set_schema("alpha")

    assert checked > 0
    assert violations == []


def test_anonymous_gets_401_on_every_non_public_operation(tenant, no_throttling):
    client = APIClient(HTTP_HOST=ALPHA)
    violations = []

    for path, method, operation in _operations():
        if _is_public(operation):
            continue
        response = _call(client, method, _url(path, operation))
        if response.status_code != 401:
            violations.append(f"{method.upper()} {path}: {response.status_code}")

    assert violations == []
