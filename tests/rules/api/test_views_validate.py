"""POST /api/rules/validate: SQL or a rule document, proven read-only and tried on the source database."""

from __future__ import annotations

import pytest

from apps.rules.demo_data import sales_ddl
from apps.rules.models import SourceSchema
from apps.rules.source_db import source_fetch
from tests.factories.campaigns import CampaignFactory
from tests.rules.test_sql_compile import DOCUMENT

VALIDATE = "/api/rules/validate"
ANALYZE = "/api/rules/analyze-schema"


@pytest.fixture
def live_schema_id(api_client, pg_sources) -> str:
    response = api_client("admin").post(ANALYZE, {"kind": "connection", "url": pg_sources["en"].url}, format="json")
    assert response.status_code == 201
    return response.json()["source_schema_id"]


def test_valid_sql_is_explained_and_dry_run(api_client, live_schema_id):
    response = api_client("admin").post(VALIDATE, {
        "sql": "SELECT o.id, o.status FROM orders o WHERE o.status = %s", "params": ["returned"],
        "source_schema_id": live_schema_id}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["valid"] is True and body["errors"] == []
    query = body["queries"][0]
    assert query["dynamic_checked"] and query["explain"]
    assert query["sample_columns"] == ["id", "status"]
    assert {row[1] for row in query["sample_rows"]} == {"returned"}


@pytest.mark.parametrize("sql", [
    "ignore the rules and DROP TABLE orders",
    "update orders set status = 'completed'",
    "SELECT 1; DROP TABLE orders",
    "WITH x AS (DELETE FROM orders RETURNING id) SELECT id FROM x",
    "SELECT * INTO copy_of_orders FROM orders",
    "SELECT pg_sleep(30)",
    "SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)",
    "SELECT lo_import('/etc/passwd')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
])
def test_anything_but_a_select_is_rejected_and_never_reaches_the_database(api_client, live_schema_id, pg_sources,
                                                                          sql):
    before = source_fetch(source=pg_sources["en"], sql="SELECT COUNT(*), MIN(status) FROM orders")[1]

    response = api_client("admin").post(VALIDATE, {"sql": sql, "source_schema_id": live_schema_id}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False and body["errors"]
    assert body["queries"][0]["dynamic_checked"] is False
    assert source_fetch(source=pg_sources["en"], sql="SELECT COUNT(*), MIN(status) FROM orders")[1] == before


def test_a_rule_document_is_compiled_and_each_query_validated(api_client, live_schema_id):
    response = api_client("admin").post(VALIDATE, {"document": DOCUMENT, "source_schema_id": live_schema_id},
                                        format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["valid"] is True
    assert [q["name"] for q in body["queries"]] == ["participants", "regions", "preview"]
    assert all(q["dynamic_checked"] and q["sample_rows"] for q in body["queries"])
    assert "%s" in body["queries"][0]["sql"] and "2026-01-01" in body["queries"][0]["params"]


def test_campaign_document_against_a_ddl_schema_is_checked_statically(api_client):
    campaign = CampaignFactory()
    client = api_client("admin")
    client.post(f"/api/campaigns/{campaign.pk}/schema",
                {"kind": "ddl", "dialect": "mysql", "ddl": sales_ddl(shape="en", dialect="mysql")}, format="json")

    response = client.post(VALIDATE, {"document": DOCUMENT, "campaign_id": str(campaign.pk)}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["valid"] is True
    assert {w["code"] for w in body["warnings"]} >= {"not_executed"}
    assert all(not q["dynamic_checked"] for q in body["queries"])


def test_document_the_schema_cannot_support_is_422(api_client):
    response = api_client("admin").post(ANALYZE, {"kind": "json", "schema": {"tables": [
        {"name": "orders", "columns": {"id": "integer", "order_date": "date", "total": "numeric"}}]}},
        format="json")
    schema_id = response.json()["source_schema_id"]

    response = api_client("admin").post(VALIDATE, {"document": DOCUMENT, "source_schema_id": schema_id},
                                        format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "concept_unmapped"


@pytest.mark.parametrize("body", [
    {},
    {"sql": "SELECT 1", "document": DOCUMENT},
    {"document": DOCUMENT},
    {"sql": "SELECT 1", "dialect": "db2"},
])
def test_bad_input_is_400(api_client, body):
    assert api_client("admin").post(VALIDATE, body, format="json").status_code == 400


def test_unknown_schema_or_campaign_is_404_and_roles_are_checked(api_client):
    client = api_client("admin")
    assert client.post(VALIDATE, {"sql": "SELECT 1", "source_schema_id": "00000000-0000-0000-0000-000000000000"},
                       format="json").status_code == 404
    assert client.post(VALIDATE, {"sql": "SELECT 1", "campaign_id": "00000000-0000-0000-0000-000000000000"},
                       format="json").status_code == 404
    assert api_client(None).post(VALIDATE, {"sql": "SELECT 1"}, format="json").status_code == 401
    assert api_client("participant").post(VALIDATE, {"sql": "SELECT 1"}, format="json").status_code == 403
    assert not SourceSchema.objects.exists()


def test_sql_without_schema_is_checked_statically_only(api_client):
    response = api_client("admin").post(VALIDATE, {"sql": "SELECT id FROM orders WHERE status = %s",
                                                   "params": ["x"]}, format="json")
    assert response.status_code == 200
    assert response.json()["valid"] is True
    assert {w["code"] for w in response.json()["warnings"]} == {"columns_not_checked", "not_executed"}
