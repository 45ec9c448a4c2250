"""POST /api/rules/analyze-schema, POST/GET /api/campaigns/{id}/schema, POST /api/campaigns/{id}/schema/feedback."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import schema_context

from apps.campaigns.models import Campaign
from apps.rules.demo_data import sales_ddl
from apps.rules.models import ConceptMapping, SchemaMapping, SourceSchema
from apps.rules.schema_services import source_database_of
from tests.factories.campaigns import CampaignFactory

ANALYZE = "/api/rules/analyze-schema"
AMBIGUOUS_SCHEMA = {"tables": [
    {"name": "orders", "columns": {"id": "integer", "created_at": "timestamp", "ordered_at": "timestamp",
                                   "status": "varchar(20)", "salesperson_id": "integer", "amount": "numeric"},
     "primary_key": "id"},
    {"name": "salespeople", "columns": {"id": "integer", "name": "text", "region": "text",
                                        "termination_date": "date"}, "primary_key": "id"},
]}


def _schema_url(campaign: Campaign) -> str:
    return f"/api/campaigns/{campaign.pk}/schema"


def test_analyze_schema_from_ddl(api_client):
    client = api_client("admin")

    response = client.post(ANALYZE, {"kind": "ddl", "dialect": "postgres", "ddl": sales_ddl(shape="pt")},
                           format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["concepts"]["order_line"]["table"] == "itens_pedido"
    assert body["concepts"]["line_amount"]["column"] == "valor_total"
    assert {"from": "itens_pedido.pedido_id", "to": "pedidos.id", "declared": False} in [
        {k: j[k] for k in ("from", "to", "declared")} for j in body["joins"]]
    assert 0.9 <= body["score"] <= 1
    assert body["feedback"]
    source_schema = SourceSchema.objects.get(pk=body["source_schema_id"])
    assert source_schema.format == "ddl" and source_schema.definition["tables"]
    assert source_schema.mapping.concepts.count() == len(body["concepts"])


def test_analyze_schema_from_a_live_postgres_database_stores_the_url_encrypted(api_client, pg_sources):
    source = pg_sources["es-denorm"]
    client = api_client("admin")

    response = client.post(ANALYZE, {"kind": "connection", "url": source.url}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["shape"] == "denormalised"
    assert body["concepts"]["order_status"]["values"]["returned"] == ["devuelto"]
    stored = SourceSchema.objects.get(pk=body["source_schema_id"])
    assert stored.dialect == "postgres"
    assert source.url not in stored.connection_encrypted
    assert source_database_of(source_schema=stored).database == source.database


def test_analyze_schema_refuses_sqlite_files_and_the_platform_database(api_client, settings):
    client = api_client("admin")
    response = client.post(ANALYZE, {"kind": "connection", "url": "sqlite:////etc/passwd"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "source_url_forbidden"

    ours = settings.DATABASES["default"]
    host = ours.get("HOST") or "localhost"
    url = f"postgresql://postgres@{host}:{ours.get('PORT') or 5432}/{ours['NAME']}"
    response = client.post(ANALYZE, {"kind": "connection", "url": url}, format="json")
    assert response.status_code == 400
    # On a unix socket (the embedded server) our database cannot even be named in a source URL.
    expected = "source_url_invalid" if host.startswith("/") else "source_url_forbidden"
    assert response.json()["error"]["code"] == expected
    assert not SourceSchema.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "ddl", "ddl": "CREATE TABLE t (a int)"}, "dialect"),
    ({"kind": "ddl", "dialect": "postgres"}, "ddl"),
    ({"kind": "json"}, "schema"),
    ({"kind": "connection"}, "url"),
    ({"kind": "xml"}, "kind"),
])
def test_analyze_schema_bad_input_is_400_and_writes_nothing(api_client, body, field):
    response = api_client("admin").post(ANALYZE, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not SourceSchema.objects.exists()


def test_unparseable_ddl_is_400(api_client):
    response = api_client("admin").post(ANALYZE, {"kind": "ddl", "dialect": "mysql", "ddl": "CREATE TABLE (("},
                                        format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("schema_parse_error", "schema_empty")
    assert not SourceSchema.objects.exists()


def test_authentication_and_roles(api_client):
    assert api_client(None).post(ANALYZE, {"kind": "json", "schema": AMBIGUOUS_SCHEMA}, format="json").status_code \
        == 401
    for role in ("analyst", "participant"):
        response = api_client(role).post(ANALYZE, {"kind": "json", "schema": AMBIGUOUS_SCHEMA}, format="json")
        assert response.status_code == 403
    campaign = CampaignFactory()
    assert api_client("participant").get(_schema_url(campaign)).status_code == 403
    assert not SourceSchema.objects.exists()


def test_campaign_schema_upload_get_and_feedback_round_trip(api_client):
    campaign = CampaignFactory()
    client = api_client("admin")

    uploaded = client.post(_schema_url(campaign), {"kind": "json", "schema": AMBIGUOUS_SCHEMA}, format="json")
    assert uploaded.status_code == 201, uploaded.json()
    first = uploaded.json()
    campaign.refresh_from_db()
    assert str(campaign.source_schema_id) == first["source_schema_id"]
    assert first["concepts"]["order_date"]["confidence"] < 0.75
    assert any("created_at" in q and "ordered_at" in q for q in first["questions"])

    got = client.get(_schema_url(campaign))
    assert got.status_code == 200
    assert got.json()["score"] == first["score"]

    feedback = client.post(f"{_schema_url(campaign)}/feedback", {"corrections": [
        {"concept": "order_date", "table": "orders", "column": "ordered_at"},
        {"concept": "order_status", "values": {"cancelled": ["void"], "returned": ["rma"]}},
    ]}, format="json")
    assert feedback.status_code == 200, feedback.json()
    corrected = feedback.json()
    assert corrected["score"] > first["score"]
    assert corrected["concepts"]["order_date"]["column"] == "ordered_at"
    assert corrected["concepts"]["order_date"]["corrected_by_admin"] is True
    assert corrected["concepts"]["order_status"]["values"]["cancelled"] == ["void"]
    assert not any("ordered_at" in q for q in corrected["questions"])
    row = ConceptMapping.objects.get(mapping__source_schema_id=first["source_schema_id"], concept="order_date")
    assert row.corrected_by == client.user and row.corrected_at is not None
    mapping = SchemaMapping.objects.get(source_schema_id=first["source_schema_id"])
    assert float(mapping.score) == corrected["score"]

    # Re-analysis (GET, or a new upload of a schema that still fits) keeps the corrections.
    assert client.get(_schema_url(campaign)).json()["concepts"]["order_date"]["column"] == "ordered_at"
    again = client.post(_schema_url(campaign), {"kind": "json", "schema": AMBIGUOUS_SCHEMA}, format="json").json()
    assert again["source_schema_id"] != first["source_schema_id"]
    assert again["concepts"]["order_date"]["column"] == "ordered_at"
    assert again["concepts"]["order_status"]["values"]["returned"] == ["rma"]
    assert again["score"] == corrected["score"]


def test_feedback_in_the_admins_language_goes_through_gettext(api_client, make_user, monkeypatch):
    from django.utils import translation

    from apps.rules import schema_analysis

    monkeypatch.setattr(schema_analysis, "_", lambda message: f"<{translation.get_language()}>{message}")
    campaign = CampaignFactory()
    client = api_client(user=make_user(role="admin", preferred_language="es"))
    response = client.post(_schema_url(campaign), {"kind": "json", "schema": AMBIGUOUS_SCHEMA}, format="json")
    assert response.json()["feedback"].startswith("<es>")
    assert response.json()["language"] == "es"
    response = client.get(_schema_url(campaign), {"language": "pt-br"})
    assert response.json()["feedback"].startswith("<pt-br>")


def test_feedback_that_does_not_fit_the_schema_is_400_and_changes_nothing(api_client):
    campaign = CampaignFactory()
    client = api_client("admin")
    first = client.post(_schema_url(campaign), {"kind": "json", "schema": AMBIGUOUS_SCHEMA}, format="json").json()

    for corrections in (
        [{"concept": "order_date", "table": "payroll", "column": "paid_at"}],
        [{"concept": "order_date", "table": "orders", "column": "nope"}],
        [{"concept": "galaxy", "table": "orders", "column": "id"}],
        [{"concept": "order_status", "values": {"lost": ["x"]}}],
    ):
        response = client.post(f"{_schema_url(campaign)}/feedback", {"corrections": corrections}, format="json")
        assert response.status_code == 400, corrections
    response = client.post(f"{_schema_url(campaign)}/feedback", {"joins": [{"from": "orders.x", "to": "a.b"}]},
                           format="json")
    assert response.status_code == 400
    assert not ConceptMapping.objects.filter(corrected_by_admin=True).exists()
    assert client.get(_schema_url(campaign)).json()["score"] == first["score"]


def test_feedback_can_add_a_join(api_client):
    schema = {"tables": [
        {"name": "orders", "columns": {"id": "integer", "order_date": "date", "status": "text",
                                       "salesperson_id": "integer"}, "primary_key": "id"},
        {"name": "order_items", "columns": {"id": "integer", "ref": "integer", "total": "numeric"},
         "primary_key": "id"},
    ]}
    campaign = CampaignFactory()
    client = api_client("admin")
    first = client.post(_schema_url(campaign), {"kind": "json", "schema": schema}, format="json").json()
    assert any("linked" in q for q in first["questions"])

    response = client.post(f"{_schema_url(campaign)}/feedback",
                           {"joins": [{"from": "order_items.ref", "to": "orders.id"}]}, format="json")

    assert response.status_code == 200
    assert {"from": "order_items.ref", "to": "orders.id"} in [{"from": j["from"], "to": j["to"]}
                                                              for j in response.json()["joins"]]
    assert not any("linked" in q for q in response.json()["questions"])
    assert response.json()["score"] > first["score"]


def test_campaign_without_schema(api_client):
    campaign = CampaignFactory()
    client = api_client("admin")
    assert client.get(_schema_url(campaign)).status_code == 404
    response = client.post(f"{_schema_url(campaign)}/feedback",
                           {"corrections": [{"concept": "order", "table": "orders", "column": "id"}]}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "schema_missing"


def test_another_tenants_campaign_is_404(api_client, other_tenant):
    with schema_context(other_tenant.schema_name):
        foreign = CampaignFactory()
    client = api_client("admin")
    assert client.get(f"/api/campaigns/{foreign.pk}/schema").status_code == 404
    response = client.post(f"/api/campaigns/{foreign.pk}/schema", {"kind": "json", "schema": AMBIGUOUS_SCHEMA},
                           format="json")
    assert response.status_code == 404
    assert client.get(f"/api/campaigns/{uuid.uuid4()}/schema").status_code == 404
    assert client.get("/api/campaigns/not-a-uuid/schema").status_code == 404
    assert not SourceSchema.objects.exists()
