"""``manage.py tlp_sandbox``: a real process serving TLP, pointing a tenant at itself (the demo's path)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import schema_context

from apps.core.crypto import secret_decrypt
from apps.tlp.models import TLPConfiguration
from tests.support import database_url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_command_serves_tlp_and_configures_the_tenant(committed, tmp_path):
    port = _free_port()
    committed.on_cleanup(lambda: _drop_configuration())
    log = tmp_path / "sandbox.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "incentiva.settings.test",
           "DATABASE_URL": database_url(connection.settings_dict), "REDIS_URL": settings.REDIS_URL}
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "tlp_sandbox", "--port", str(port),
               "--api-key", "cmd-key-0123456789", "--configure-tenant", "alpha", "--error-rate", "0"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        configured = None
        while time.monotonic() < deadline and configured is None:
            assert process.poll() is None, log.read_text()
            with schema_context("alpha"):
                configured = TLPConfiguration.objects.first()
            time.sleep(0.3)
        assert configured is not None, log.read_text()
        assert configured.endpoint_url == f"http://127.0.0.1:{port}"
        assert secret_decrypt(configured.api_key_encrypted) == "cmd-key-0123456789"
        answer = requests.get(f"http://127.0.0.1:{port}/offers", headers={"Authorization": "Bearer cmd-key-0123456789"},
                              timeout=5)
        assert answer.status_code == 200
        assert "cmd-key-0123456789" not in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)


def _drop_configuration() -> None:
    with schema_context("alpha"):
        TLPConfiguration.objects.all().delete()


@pytest.mark.parametrize(("args", "message"), [
    (["--error-rate", "2"], "--error-rate"),
    (["--latency-ms", "fast"], "--latency-ms"),
    (["--configure-tenant", "alpha"], "--api-key"),
])
def test_the_command_refuses_bad_options(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("tlp_sandbox", "--port", "0", *args)
