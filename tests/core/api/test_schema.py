"""OpenAPI: served with local assets, security schemes for every credential, the error shape as a
component, and every operation under /api/ documented (request and response bodies) so that an
undocumented endpoint fails CI."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

HTML_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
JS_URL = re.compile(r"""["'](https?://[^"']+)["']""")
WRITE_METHODS = {"post", "put", "patch"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator(urlconf="incentiva.urls_tenants").get_schema(request=None, public=True)


def _operations(schema: dict):  # type: ignore[no-untyped-def]
    for path, item in schema["paths"].items():
        if not path.startswith("/api/") or path.startswith("/api/schema"):
            continue
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_schema_is_served_on_a_tenant_host(api_client):
    response = api_client(None).get("/api/schema/?format=json")

    assert response.status_code == 200
    body = response.json()
    assert body["openapi"].startswith("3.")
    assert "/api/developer/api-keys" in body["paths"]


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_use_only_local_assets(api_client, url):
    client = api_client(None)
    response = client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assets = [asset for asset in HTML_ASSET.findall(html) if not asset.startswith(("#", "data:"))]
    assert assets, "the page references no assets at all"
    # /api/docs/?script= is the page's own initialiser script (kept out of the HTML for the CSP).
    assert [asset for asset in assets if not asset.startswith(("/static/", f"{url}?"))] == []
    assert JS_URL.findall(html) == []
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        if asset.startswith(url):
            assert JS_URL.findall(served.content.decode()) == []


def test_security_schemes(schema):
    schemes = schema["components"]["securitySchemes"]

    assert schemes["jwtAuth"] == {**schemes["jwtAuth"], "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["apiKeyAuth"]["type"] == "apiKey"
    assert (schemes["apiKeyAuth"]["in"], schemes["apiKeyAuth"]["name"]) == ("header", "X-API-Key")
    flows = schemes["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/o/token/"
    assert flows["authorizationCode"]["authorizationUrl"] == "/o/authorize/"
    assert {"loyalty:read", "developer:write"} <= set(flows["clientCredentials"]["scopes"])


def test_developer_operations_document_scopes_errors_and_idempotency(schema):
    create = schema["paths"]["/api/developer/api-keys"]["post"]
    listing = schema["paths"]["/api/developer/api-keys"]["get"]
    revoke = schema["paths"]["/api/developer/api-keys/{id}"]["delete"]

    assert create["tags"] == ["Developer Platform"]
    assert {"oauth2": ["developer:write"]} in create["security"]
    assert {"oauth2": ["developer:read"]} in listing["security"]
    assert {"apiKeyAuth": []} in create["security"]
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for code in ("400", "401", "403", "409", "429"):
        assert create["responses"][code]["content"]["application/json"]["schema"] == error_ref, code
    assert revoke["responses"]["404"]["content"]["application/json"]["schema"] == error_ref
    assert "400" not in listing["responses"]
    header = [p for p in create["parameters"] if p["in"] == "header"]
    assert [(p["name"], p.get("required", False)) for p in header] == [("Idempotency-Key", False)]
    assert not [p for p in listing.get("parameters", []) if p["name"] == "Idempotency-Key"]


def test_error_response_component(schema):
    components = schema["components"]["schemas"]
    error = components["ErrorResponse"]

    assert error["required"] == ["error"]
    body = components[error["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"code", "message", "fields"}


def test_every_api_operation_is_documented(schema):
    problems = []
    for path, method, operation in _operations(schema):
        where = f"{method.upper()} {path}"
        if not operation.get("tags"):
            problems.append(f"{where}: no tag")
        if method in WRITE_METHODS:
            content = (operation.get("requestBody") or {}).get("content") or {}
            if not any(media.get("schema") for media in content.values()):
                problems.append(f"{where}: no request body schema")
        success = {code: response for code, response in operation["responses"].items() if code.startswith("2")}
        if not success:
            problems.append(f"{where}: no 2xx response")
        for code, response in success.items():
            if code == "204":
                continue
            content = response.get("content") or {}
            if not any(media.get("schema") for media in content.values()):
                problems.append(f"{where}: {code} response has no schema")
        public = {} in operation.get("security", [{}])
        if not public:
            for code in ("401", "403"):
                if code not in operation["responses"]:
                    problems.append(f"{where}: {code} not documented")

    assert problems == []


def test_the_schema_covers_at_least_the_developer_platform(schema):
    operations = {(method, path) for path, method, _op in _operations(schema)}

    assert {("get", "/api/developer/applications"), ("post", "/api/developer/applications"),
            ("get", "/api/developer/applications/{id}"), ("delete", "/api/developer/applications/{id}"),
            ("get", "/api/developer/api-keys"), ("post", "/api/developer/api-keys"),
            ("delete", "/api/developer/api-keys/{id}")} <= operations


def test_the_schema_generates_without_a_single_warning(tmp_path):
    # Warnings mean an ambiguous schema (two components with one name, enums named by hash): fail on them.
    call_command("spectacular", "--urlconf", "incentiva.urls_tenants", "--validate", "--fail-on-warn",
                 "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").stat().st_size > 10_000
