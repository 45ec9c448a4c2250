"""incentiva/wsgi.py: the application loads its URL confs, then moves what it loaded out of the collector's reach."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import gc, json, sys
before = gc.get_freeze_count()
from incentiva.wsgi import application
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(), "handler": type(application).__name__,
                  "urlconfs": [name in sys.modules for name in ("incentiva.urls_tenants", "incentiva.urls_public")]}))
"""


def test_the_loaded_application_is_frozen_with_its_url_confs():
    # A process of its own: freezing the test process's objects would outlive the test.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "incentiva.settings.test"}
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["before"] == 0
    assert probe["frozen"] > 100_000  # Django, the apps, the admin and every view module
    assert probe["handler"] == "WSGIHandler"
    assert probe["urlconfs"] == [True, True]
