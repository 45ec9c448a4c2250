"""How much of the endpoint contract (docs/spec/endpoints.tsv) the API serves, per category.

The served side is the OpenAPI schema generated from the tenant urlconf, so an endpoint counts only once
it is routed *and* documented. ``:param`` in the spec matches any ``{name}`` segment; a trailing slash
is ignored.
"""

from __future__ import annotations

import csv
import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from drf_spectacular.generators import SchemaGenerator

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
_PARAM_SEGMENT = re.compile(r"^(:[^/]+|\{[^/}]+\})$")


def normalize_path(path: str) -> str:
    """``/api/campaigns/:id/`` and ``/api/campaigns/{pk}`` both become ``/api/campaigns/{}``."""
    segments = path.strip().strip("/").split("/")
    return "/" + "/".join("{}" if _PARAM_SEGMENT.match(segment) else segment for segment in segments)


def served_operations(*, urlconf: str | None = None) -> set[tuple[str, str]]:
    """(METHOD, normalized path) of every operation in the generated OpenAPI schema."""
    generator = SchemaGenerator(urlconf=urlconf or settings.ROOT_URLCONF)
    schema = generator.get_schema(request=None, public=True)
    return {
        (method.upper(), normalize_path(path))
        for path, item in (schema.get("paths") or {}).items()
        for method in item
        if method in HTTP_METHODS
    }


def read_spec(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    required = {"category", "method", "path"}
    if rows and not required.issubset(rows[0]):
        raise CommandError(f"{path}: needs the columns {sorted(required)}")
    return [row for row in rows if (row.get("method") or "").strip() and (row.get("path") or "").strip()]


def coverage_report(*, spec_rows: list[dict[str, str]], served: set[tuple[str, str]]) -> dict[str, Any]:
    categories: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for row in spec_rows:
        category = (row.get("category") or "").strip() or "-"
        entry = categories.setdefault(category, {"category": category, "served": 0, "total": 0, "missing": []})
        method, path = row["method"].strip().upper(), row["path"].strip()
        entry["total"] += 1
        if (method, normalize_path(path)) in served:
            entry["served"] += 1
        else:
            entry["missing"].append({"method": method, "path": path, "summary": (row.get("summary") or "").strip()})
    total = sum(entry["total"] for entry in categories.values())
    served_count = sum(entry["served"] for entry in categories.values())
    return {"served": served_count, "total": total, "categories": list(categories.values())}


class Command(BaseCommand):
    help = "Compare the generated OpenAPI schema with the endpoint contract: served/total per category."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--spec", default=str(Path(settings.BASE_DIR) / "docs" / "spec" / "endpoints.tsv"),
                            help="TSV with columns category, method, path (and summary).")
        parser.add_argument("--missing", action="store_true", help="List the endpoints not served yet.")
        parser.add_argument("--json", action="store_true", help="Machine-readable output.")
        parser.add_argument("--urlconf", default=None, help="Urlconf to generate the schema from (tenant's).")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        spec_path = Path(opts["spec"])
        if not spec_path.is_file():
            raise CommandError(f"no such spec file: {spec_path}")
        report = coverage_report(spec_rows=read_spec(spec_path), served=served_operations(urlconf=opts["urlconf"]))
        if opts["json"]:
            if not opts["missing"]:
                for entry in report["categories"]:
                    entry.pop("missing")
            self.stdout.write(json.dumps(report, indent=2))
            return
        width = max([len(entry["category"]) for entry in report["categories"]] + [5])
        for entry in report["categories"]:
            self.stdout.write(f"{entry['category']:<{width}}  {entry['served']:>4}/{entry['total']:<4}")
            if opts["missing"]:
                for missing in entry["missing"]:
                    self.stdout.write(f"    missing {missing['method']:<6} {missing['path']}  {missing['summary']}")
        self.stdout.write(f"{'TOTAL':<{width}}  {report['served']:>4}/{report['total']:<4}")
