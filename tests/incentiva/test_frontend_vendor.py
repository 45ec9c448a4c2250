"""Front-end libraries come from npm (package-lock.json) and are served as static files, never from a CDN."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

ROOT = Path(settings.BASE_DIR)


def test_every_vendor_library_is_installed_at_its_locked_version():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    wanted = json.loads((ROOT / "package.json").read_text())["dependencies"]
    for name, version in wanted.items():
        installed = json.loads((ROOT / "node_modules" / name / "package.json").read_text())["version"]
        assert installed == version == lock["packages"][f"node_modules/{name}"]["version"]


def test_chart_js_and_htmx_are_found_by_the_static_finders():
    assert finders.find("vendor/chart.js/chart.umd.min.js")
    assert finders.find("vendor/htmx/htmx.min.js")
    # Only the dist folders are published: nothing else from node_modules is reachable.
    published = {prefix for prefix, _path in (entry for entry in settings.STATICFILES_DIRS if isinstance(entry, tuple))}
    assert published == {"vendor/chart.js", "vendor/htmx"}
    assert finders.find("vendor/package.json") is None
