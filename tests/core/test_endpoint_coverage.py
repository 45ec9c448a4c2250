"""manage.py endpoint_coverage: served/total per category of the endpoint contract, from the generated schema."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.core.management.commands.endpoint_coverage import normalize_path

SPEC_HEADER = "seed\tcategory\tgroup\tmethod\tpath\tsummary\n"
SYNTHETIC = [
    ("Developer Platform", "GET", "/api/developer/applications", "List applications"),
    ("Developer Platform", "POST", "/api/developer/applications/", "Register an application"),  # trailing slash
    ("Developer Platform", "GET", "/api/developer/applications/:id", "Get an application"),
    ("Developer Platform", "DELETE", "/api/developer/applications/:appId", "Delete an application"),
    ("Developer Platform", "GET", "/api/developer/api-keys", "List API keys"),
    ("Developer Platform", "POST", "/api/developer/api-keys", "Generate API key"),
    ("Developer Platform", "DELETE", "/api/developer/api-keys/:id", "Revoke API key"),
    ("Developer Platform", "GET", "/api/developer/api-keys/:id", "Not served: no detail"),
    ("Developer Platform", "PUT", "/api/developer/api-keys/:id", "Not served: no update"),
    ("Made Up", "GET", "/api/made-up/things", "Not served at all"),
]


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "endpoints.tsv"
    path.write_text(SPEC_HEADER + "".join(f"test\t{c}\t\t{m}\t{p}\t{s}\n" for c, m, p, s in SYNTHETIC))
    return path


def _run(*args: str, **options) -> str:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("endpoint_coverage", *args, stdout=out, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("path", "normalized"),
    [("/api/campaigns/:id", "/api/campaigns/{}"), ("/api/campaigns/{pk}/", "/api/campaigns/{}"),
     ("/api/a/:x/b/:y", "/api/a/{}/b/{}"), ("/api/plain/", "/api/plain"), ("/api/v:1", "/api/v:1")],
)
def test_normalize_path(path, normalized):
    assert normalize_path(path) == normalized


def test_json_counts_per_category(db, spec_file):
    report = json.loads(_run(spec=str(spec_file), json=True, missing=True))

    by_category = {entry["category"]: entry for entry in report["categories"]}
    assert (report["served"], report["total"]) == (7, 10)
    assert (by_category["Developer Platform"]["served"], by_category["Developer Platform"]["total"]) == (7, 9)
    assert (by_category["Made Up"]["served"], by_category["Made Up"]["total"]) == (0, 1)
    assert [(m["method"], m["path"]) for m in by_category["Developer Platform"]["missing"]] == [
        ("GET", "/api/developer/api-keys/:id"), ("PUT", "/api/developer/api-keys/:id")]


def test_json_without_missing_leaves_the_lists_out(db, spec_file):
    report = json.loads(_run(spec=str(spec_file), json=True))

    assert all("missing" not in entry for entry in report["categories"])


def test_text_output(db, spec_file):
    lines = _run(spec=str(spec_file)).splitlines()

    assert [line.split() for line in lines] == [["Developer", "Platform", "7/9"], ["Made", "Up", "0/1"],
                                                ["TOTAL", "7/10"]]


def test_missing_lists_what_is_not_served(db, spec_file):
    output = _run("--missing", spec=str(spec_file))

    assert "missing GET    /api/made-up/things  Not served at all" in output
    assert "missing PUT    /api/developer/api-keys/:id" in output
    assert "/api/developer/api-keys  Generate API key" not in output


def test_the_real_contract(db):
    report = json.loads(_run(json=True))

    assert report["total"] == 230
    assert sum(entry["total"] for entry in report["categories"]) == 230
    assert 0 <= report["served"] <= report["total"]
    assert Path(settings.BASE_DIR, "docs", "spec", "endpoints.tsv").is_file()


def test_an_unknown_spec_file_is_an_error(db, tmp_path):
    with pytest.raises(CommandError):
        _run(spec=str(tmp_path / "nope.tsv"))
