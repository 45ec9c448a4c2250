"""Both ways of getting real services: embedded servers in a data folder, or the URLs from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    result = subprocess.run([sys.executable, "-c", code], env={**base, **env}, cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path / "data"
    subprocess.run([sys.executable, "-m", "incentiva.embedded", "stop"], cwd=ROOT, check=False,
                   env={**os.environ, "INCENTIVA_DATA_DIR": str(tmp_path / "data")}, capture_output=True)


def test_embedded_servers_start_in_the_data_folder_and_are_reused(data_dir):
    code = ("import json; from incentiva import embedded; "
            "print(json.dumps([embedded.postgres_start(), embedded.redis_start()]))")

    first = json.loads(_run(code, INCENTIVA_DATA_DIR=str(data_dir)))
    second = json.loads(_run(code, INCENTIVA_DATA_DIR=str(data_dir)))

    assert first == second  # the second start reuses the running servers
    pg_url, redis_url = first
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "incentiva"
    assert redis.Redis.from_url(redis_url).ping()
    # the data lives in the project's data folder, or a private folder it records when the server account
    # cannot reach it; nothing else is touched
    assert (data_dir / "pg" / "PG_VERSION").exists() or (data_dir / "pg.location").exists()


def test_settings_use_embedded_servers_without_urls(data_dir):
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='incentiva.settings.local'; "
            "from django.conf import settings; d=settings.DATABASES['default']; print(d['HOST'], settings.REDIS_URL)")
    host, redis_url = _run(code, INCENTIVA_DATA_DIR=str(data_dir)).split()
    assert host.startswith("/")  # a unix socket folder
    assert redis_url.startswith("redis://127.0.0.1:")
    assert redis_url != "redis://127.0.0.1:6379"


def test_settings_use_the_configured_urls_and_start_nothing(tmp_path):
    code = ("import os; os.environ['DJANGO_SETTINGS_MODULE']='incentiva.settings.local'; "
            "from django.conf import settings; d=settings.DATABASES['default']; "
            "print(d['HOST'], d['PORT'], d['NAME'], settings.CELERY_BROKER_URL, settings.CACHE_URL)")
    out = _run(code, DATABASE_URL="postgres://postgres@127.0.0.1:5432/somedb", REDIS_URL="redis://127.0.0.1:6379/0",
               REDIS_DB_BASE="4", INCENTIVA_DATA_DIR=str(tmp_path / "unused"))
    assert out.split() == ["127.0.0.1", "5432", "somedb", "redis://127.0.0.1:6379/4", "redis://127.0.0.1:6379/5"]
    assert not (tmp_path / "unused").exists()
